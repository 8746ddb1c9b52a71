//! `hcl2json --nomad` behaviour through the real binary, for what the
//! conformance corpus (`shared/conformance`) does not exercise: where
//! variable values come from and which wins, typed values given as text,
//! file functions, runtime interpolations kept as text, and the exact bytes
//! `nomad job run -output` prints (Go's HTML escaping, four-space indent).

use serde_json::{json, Value};

mod common;
use common::{command, stdout_of, write};

fn job_of(stdout: &str) -> Value {
    let doc: Value =
        serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"));
    doc.get("Job")
        .cloned()
        .unwrap_or_else(|| panic!("no Job key: {stdout}"))
}

const FOUR_SOURCES: &str = r#"
variable "a" {
  default = "default-a"
}
variable "b" {
  default = "default-b"
}
variable "c" {
  default = "default-c"
}
variable "d" {
  default = "default-d"
}

job "web" {
  meta {
    a = var.a
    b = var.b
    c = var.c
    d = var.d
  }
}
"#;

/// `--var` wins over `--var-file`, which wins over `NOMAD_VAR_<name>`, which
/// wins over the default: `a` has only its default, `b` an environment
/// value too, `c` a var file value too, `d` all four.
#[test]
fn variable_sources_in_order_of_precedence() {
    let dir = tempfile::tempdir().expect("temp dir");
    let job = write(dir.path(), "job.nomad.hcl", FOUR_SOURCES);
    let vars = write(
        dir.path(),
        "prod.vars.hcl",
        "c = \"file-c\"\nd = \"file-d\"\n",
    );
    let mut cmd = command();
    cmd.env("NOMAD_VAR_b", "env-b")
        .env("NOMAD_VAR_c", "env-c")
        .env("NOMAD_VAR_d", "env-d")
        .args(["--nomad", "--compact", "--var", "d=arg-d", "--var-file"])
        .arg(&vars)
        .arg(&job);
    let job = job_of(&stdout_of(cmd));
    assert_eq!(
        job["Meta"],
        json!({"a": "default-a", "b": "env-b", "c": "file-c", "d": "arg-d"})
    );
}

/// Each source alone replaces the default (so the test above cannot pass
/// by one source being ignored).
#[test]
fn each_variable_source_alone_replaces_the_default() {
    let dir = tempfile::tempdir().expect("temp dir");
    let job = write(dir.path(), "job.nomad.hcl", FOUR_SOURCES);
    let vars = write(dir.path(), "vars.json", "{\"a\": \"file-a\"}\n");

    let mut cmd = command();
    cmd.env("NOMAD_VAR_a", "env-a")
        .args(["--nomad", "--compact"])
        .arg(&job);
    assert_eq!(job_of(&stdout_of(cmd))["Meta"]["a"], "env-a");

    let mut cmd = command();
    cmd.args(["--nomad", "--compact", "--var-file"])
        .arg(&vars)
        .arg(&job);
    assert_eq!(job_of(&stdout_of(cmd))["Meta"]["a"], "file-a");

    let mut cmd = command();
    cmd.args(["--nomad", "--compact", "--var", "a=arg-a"])
        .arg(&job);
    assert_eq!(job_of(&stdout_of(cmd))["Meta"]["a"], "arg-a");

    let mut cmd = command();
    cmd.args(["--nomad", "--compact"]).arg(&job);
    assert_eq!(job_of(&stdout_of(cmd))["Meta"]["a"], "default-a");
}

/// Of two var files the later wins; of two `--var` the later wins; a value
/// keeps every `=` after the first.
#[test]
fn later_var_files_and_vars_win() {
    let dir = tempfile::tempdir().expect("temp dir");
    let job = write(dir.path(), "job.nomad.hcl", FOUR_SOURCES);
    let first = write(
        dir.path(),
        "first.vars.hcl",
        "a = \"first-a\"\nb = \"first-b\"\n",
    );
    let second = write(dir.path(), "second.vars.hcl", "b = \"second-b\"\n");
    let mut cmd = command();
    cmd.args(["--nomad", "--compact", "--var-file"])
        .arg(&first)
        .arg("--var-file")
        .arg(&second)
        .args(["--var", "c=one", "--var", "c=two", "--var", "d=x=y=z"])
        .arg(&job);
    let job = job_of(&stdout_of(cmd));
    assert_eq!(
        job["Meta"],
        json!({"a": "first-a", "b": "second-b", "c": "two", "d": "x=y=z"})
    );
}

/// Nomad ignores `NOMAD_VAR_*` for variables the job does not declare.
#[test]
fn environment_values_of_undeclared_variables_are_ignored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let job = write(dir.path(), "job.nomad.hcl", FOUR_SOURCES);
    let mut cmd = command();
    cmd.env("NOMAD_VAR_not_declared", "x")
        .args(["--nomad", "--compact"])
        .arg(&job);
    assert_eq!(job_of(&stdout_of(cmd))["Meta"]["a"], "default-a");
}

const TYPED: &str = r#"
variable "dcs" {
  type = list(string)
}
variable "replicas" {
  type = number
}
job "web" {
  datacenters = var.dcs
  group "g" {
    count = var.replicas
  }
}
"#;

/// A `list(string)` value given as text is read as an HCL expression; a
/// number given as text is converted.
#[test]
fn typed_variables_from_arguments() {
    let dir = tempfile::tempdir().expect("temp dir");
    let job = write(dir.path(), "job.nomad.hcl", TYPED);
    let mut cmd = command();
    cmd.args([
        "--nomad",
        "--compact",
        "--var",
        r#"dcs=["a","b"]"#,
        "--var",
        "replicas=3",
    ])
    .arg(&job);
    let job = job_of(&stdout_of(cmd));
    assert_eq!(job["Datacenters"], json!(["a", "b"]));
    assert_eq!(job["TaskGroups"][0]["Count"], 3);
}

#[test]
fn typed_variables_from_the_environment() {
    let dir = tempfile::tempdir().expect("temp dir");
    let job = write(dir.path(), "job.nomad.hcl", TYPED);
    let mut cmd = command();
    cmd.env("NOMAD_VAR_dcs", r#"["gce-west1", "france"]"#)
        .env("NOMAD_VAR_replicas", "2")
        .args(["--nomad", "--compact"])
        .arg(&job);
    let job = job_of(&stdout_of(cmd));
    assert_eq!(job["Datacenters"], json!(["gce-west1", "france"]));
    assert_eq!(job["TaskGroups"][0]["Count"], 2);
}

/// `file()` with a relative path reads next to the job file, not in the
/// working directory (a deliberate difference from the `nomad` CLI, which
/// resolves from its working directory). The job sits in `jobs/` next to an
/// `x.txt` that must be read; the working directory has one that must not.
#[test]
fn file_function_reads_relative_to_the_job_files_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let job = write(
        dir.path(),
        "jobs/web.nomad.hcl",
        "job \"web\" {\n  meta {\n    content = file(\"x.txt\")\n  }\n}\n",
    );
    write(dir.path(), "jobs/x.txt", "next to the job\n");
    write(dir.path(), "x.txt", "in the working directory\n");
    let mut cmd = command();
    cmd.current_dir(dir.path())
        .args(["--nomad", "--compact"])
        .arg(&job);
    let job = job_of(&stdout_of(cmd));
    // Issue 2 asks for paths relative to the job file, so a job reads the
    // same files wherever it is converted from (the `nomad` CLI itself
    // resolves them from its working directory).
    assert_eq!(job["Meta"]["content"], "next to the job\n");
}

/// An absolute path reads that file wherever the job and the working
/// directory are.
#[test]
fn file_function_with_an_absolute_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = write(dir.path(), "data/config.yml", "port: 8080\n");
    let job_text = format!(
        "job \"web\" {{\n  meta {{\n    content = file({:?})\n  }}\n}}\n",
        data.display().to_string()
    );
    let job = write(dir.path(), "jobs/web.nomad.hcl", &job_text);
    let mut cmd = command();
    cmd.current_dir(dir.path().join("jobs"))
        .args(["--nomad", "--compact"])
        .arg(&job);
    assert_eq!(job_of(&stdout_of(cmd))["Meta"]["content"], "port: 8080\n");
}

/// Runtime interpolations (`${node.class}`, `${attr.kernel.name}`,
/// `${meta.rack}`) are not job variables: Nomad keeps them as text for the
/// scheduler and the client.
#[test]
fn runtime_interpolations_are_kept_as_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let job = write(
        dir.path(),
        "job.nomad.hcl",
        r#"
job "pcd2017" {
  datacenters = ["gce-west1", "france"]

  constraint {
    attribute = "${attr.kernel.name}"
    value     = "linux"
  }

  group "database" {
    constraint {
      attribute = "${node.class}"
      value     = "data"
    }

    task "mongo" {
      driver = "docker"
      config {
        image = "mongo:3.4"
      }
      meta {
        where = "node-${node.class}-${meta.rack}"
      }
    }
  }
}
"#,
    );
    let mut cmd = command();
    cmd.args(["--nomad", "--compact"]).arg(&job);
    let job = job_of(&stdout_of(cmd));
    assert_eq!(job["Constraints"][0]["LTarget"], "${attr.kernel.name}");
    assert_eq!(job["Constraints"][0]["RTarget"], "linux");
    assert_eq!(job["Constraints"][0]["Operand"], "=");
    let group = &job["TaskGroups"][0];
    assert_eq!(group["Constraints"][0]["LTarget"], "${node.class}");
    assert_eq!(group["Constraints"][0]["RTarget"], "data");
    assert_eq!(
        group["Tasks"][0]["Meta"]["where"],
        "node-${node.class}-${meta.rack}"
    );
}

const HTML_JOB: &str = "job \"web\" {\n  meta {\n    html = \"<b>Tom & Jerry</b>\"\n    sep  = \"a\\u2028b\\u2029c\"\n  }\n}\n";

/// Go's encoding/json escapes `<`, `>`, `&`, U+2028 and U+2029; Nomad
/// prints the job with it, and so must we, byte for byte.
#[test]
fn html_characters_are_escaped_as_go_does() {
    let dir = tempfile::tempdir().expect("temp dir");
    let job = write(dir.path(), "job.nomad.hcl", HTML_JOB);
    let mut cmd = command();
    cmd.args(["--nomad", "--compact"]).arg(&job);
    let out = stdout_of(cmd);
    assert!(
        out.contains(r#""html":"\u003cb\u003eTom \u0026 Jerry\u003c/b\u003e""#),
        "HTML characters escaped as Go does: {out}"
    );
    assert!(
        out.contains(r#""sep":"a\u2028b\u2029c""#),
        "U+2028/U+2029 escaped as Go does: {out}"
    );
    for raw in ['<', '>', '&', '\u{2028}', '\u{2029}'] {
        assert!(!out.contains(raw), "{raw:?} printed raw: {out}");
    }
    let job = job_of(&out);
    assert_eq!(job["Meta"]["html"], "<b>Tom & Jerry</b>");
    assert_eq!(job["Meta"]["sep"], "a\u{2028}b\u{2029}c");
}

/// `--pretty` in --nomad mode indents with four spaces, as `nomad job run
/// -output` (json.MarshalIndent with four spaces); same document as
/// `--compact`, which is one line.
#[test]
fn pretty_nomad_output_is_indented_with_four_spaces() {
    let dir = tempfile::tempdir().expect("temp dir");
    let job = write(dir.path(), "job.nomad.hcl", HTML_JOB);
    let mut cmd = command();
    cmd.args(["--nomad", "--pretty"]).arg(&job);
    let pretty = stdout_of(cmd);
    let mut cmd = command();
    cmd.args(["--nomad", "--compact"]).arg(&job);
    let compact = stdout_of(cmd);

    assert_eq!(
        compact.trim_end().lines().count(),
        1,
        "--compact is one line"
    );
    let pretty_doc: Value = serde_json::from_str(&pretty).expect("pretty output is JSON");
    let compact_doc: Value = serde_json::from_str(&compact).expect("compact output is JSON");
    assert_eq!(pretty_doc, compact_doc);

    let lines: Vec<&str> = pretty.lines().collect();
    assert_eq!(lines[0], "{");
    assert_eq!(lines[1], "    \"Job\": {");
    assert!(
        lines[2].starts_with("        \"") && !lines[2].starts_with("         "),
        "{}",
        lines[2]
    );
    assert_eq!(*lines.last().expect("lines"), "}");
    assert!(lines.len() > 20, "every field on its own line:\n{pretty}");
    for line in &lines {
        let indent = line.len() - line.trim_start_matches(' ').len();
        assert_eq!(
            indent % 4,
            0,
            "indentation in steps of four spaces: {line:?}"
        );
    }
    // Go's escaping holds in pretty output too.
    assert!(pretty.contains("\\u003cb\\u003e"), "{pretty}");
}
