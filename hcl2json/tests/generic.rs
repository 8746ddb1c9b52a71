//! Generic mode through the real `hcl2json` binary: each HCL or Terraform
//! file in `tests/generic/` must convert to the JSON next to it.
//!
//! The expected files were written by hand from the shape documented in
//! `src/generic.rs`: a body is an object; blocks are grouped by type, then by
//! each label, and end in a list of bodies; literals are JSON values;
//! anything to evaluate is its source text in `${...}`; strings with
//! interpolations keep their template text with literal `${` as `$${`.
//!
//! JSON has one kind of number, so numbers are compared by value (`1e3`
//! equals `1000`).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

mod common;
use common::{command, succeeded};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("generic")
}

/// Runs hcl2json and returns its stdout, failing on any error.
fn convert(cmd: Command) -> String {
    let out = succeeded(cmd);
    assert!(
        out.stderr.is_empty(),
        "nothing on stderr on success: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn convert_file(args: &[&str], path: &Path) -> String {
    let mut cmd = command();
    cmd.args(args).arg(path);
    convert(cmd)
}

fn parse(text: &str, what: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{what} is not JSON ({e}): {text}"))
}

/// Numbers by value: integral values as integers, others as floats.
fn normalize(value: Value) -> Value {
    match value {
        Value::Number(n) => {
            if n.is_i64() || n.is_u64() {
                Value::Number(n)
            } else {
                let f = n.as_f64().expect("a finite number");
                if f.fract() == 0.0 && f.abs() < 9.0e15 {
                    Value::from(f as i64)
                } else {
                    Value::from(f)
                }
            }
        }
        Value::Array(items) => Value::Array(items.into_iter().map(normalize).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, normalize(v))).collect())
        }
        other => other,
    }
}

/// The first place where two documents differ, as a JSON path.
fn first_difference(expected: &Value, actual: &Value, path: &str) -> Option<String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                let p = format!("{path}.{k}");
                match a.get(k) {
                    None => return Some(format!("{p}: missing, expected {ev}")),
                    Some(av) => {
                        if let Some(d) = first_difference(ev, av, &p) {
                            return Some(d);
                        }
                    }
                }
            }
            a.keys()
                .find(|k| !e.contains_key(*k))
                .map(|k| format!("{path}.{k}: unexpected key, value {}", a[k]))
        }
        (Value::Array(e), Value::Array(a)) => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                if let Some(d) = first_difference(ev, av, &format!("{path}[{i}]")) {
                    return Some(d);
                }
            }
            (e.len() != a.len())
                .then(|| format!("{path}: {} items expected, got {}", e.len(), a.len()))
        }
        (e, a) if e == a => None,
        (e, a) => Some(format!("{path}: expected {e}, got {a}")),
    }
}

fn assert_same(expected: Value, actual: Value, what: &str) {
    let (expected, actual) = (normalize(expected), normalize(actual));
    if expected != actual {
        panic!(
            "{what}: {}\nexpected:\n{}\nactual:\n{}",
            first_difference(&expected, &actual, "$").unwrap_or_default(),
            serde_json::to_string_pretty(&expected).unwrap_or_default(),
            serde_json::to_string_pretty(&actual).unwrap_or_default()
        );
    }
}

fn check_fixture(input: &str) {
    let path = fixtures().join(input);
    let expected_path = path.with_extension("json");
    let expected_text = std::fs::read_to_string(&expected_path).expect("expected JSON file");
    let expected = parse(&expected_text, "the expected file");
    let out = convert_file(&["--compact"], &path);
    assert!(out.ends_with('\n'), "output ends with a newline");
    assert_eq!(
        out.trim_end().lines().count(),
        1,
        "--compact prints one line: {out}"
    );
    assert_same(expected, parse(&out, "the output"), input);
}

macro_rules! fixture {
    ($name:ident, $file:expr) => {
        #[test]
        fn $name() {
            check_fixture($file);
        }
    };
}

fixture!(terraform_resources_providers_and_data, "tf_resources.tf");
fixture!(
    terraform_variables_with_types_defaults_and_validation,
    "tf_variables.tf"
);
fixture!(terraform_locals_with_expressions, "tf_locals.tf");
fixture!(heredocs, "heredocs.tf");
fixture!(literal_values, "literals.hcl");
fixture!(nomad_server_agent_config, "nomad_server.hcl");
fixture!(nomad_client_agent_config, "nomad_client.hcl");
fixture!(consul_server_agent_config, "consul_server.hcl");
fixture!(blocks_and_labels, "blocks_and_labels.hcl");
fixture!(comments_in_all_three_styles, "comments.hcl");

/// Every input in the fixture folder has its test above, and its expected
/// file.
#[test]
fn every_fixture_is_tested() {
    let listed = [
        "tf_resources.tf",
        "tf_variables.tf",
        "tf_locals.tf",
        "heredocs.tf",
        "literals.hcl",
        "nomad_server.hcl",
        "nomad_client.hcl",
        "consul_server.hcl",
        "blocks_and_labels.hcl",
        "comments.hcl",
    ];
    let mut found = Vec::new();
    for entry in std::fs::read_dir(fixtures()).expect("fixture folder") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if name.ends_with(".json") {
            let stem = name.trim_end_matches(".json");
            assert!(
                listed
                    .iter()
                    .any(|l| l.rsplit_once('.').map(|(s, _)| s) == Some(stem)),
                "{name} has no input listed here"
            );
        } else {
            assert!(listed.contains(&name.as_str()), "{name} is not tested");
            assert!(
                path.with_extension("json").exists(),
                "{name} has no expected JSON"
            );
            found.push(name);
        }
    }
    assert_eq!(found.len(), listed.len());
}

/// The example of the module documentation, end to end.
#[test]
fn documented_example() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("doc.hcl");
    std::fs::write(&path, "a = 1\nb \"x\" { c = var.d }\n").expect("write");
    let out = convert_file(&["--compact"], &path);
    assert_eq!(out, "{\"a\":1,\"b\":{\"x\":[{\"c\":\"${var.d}\"}]}}\n");
}

#[test]
fn empty_and_comment_only_files_are_empty_objects() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (i, text) in ["", "\n\n", "# nothing\n// here\n/* at all */\n"]
        .iter()
        .enumerate()
    {
        let path = dir.path().join(format!("empty{i}.hcl"));
        std::fs::write(&path, text).expect("write");
        let out = convert_file(&["--compact"], &path);
        assert_same(
            serde_json::json!({}),
            parse(&out, "the output"),
            &format!("{text:?}"),
        );
    }
}

/// Windows line endings convert like Unix ones (heredoc lines included).
#[test]
fn crlf_line_endings() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("crlf.hcl");
    std::fs::write(
        &path,
        "a = 1\r\nb {\r\n  c = \"x\" # comment\r\n}\r\nd = <<EOT\r\nline\r\nEOT\r\n",
    )
    .expect("write");
    let out = convert_file(&["--compact"], &path);
    let value = parse(&out, "the output");
    assert_eq!(value["a"], 1);
    assert_eq!(value["b"], serde_json::json!([{ "c": "x" }]));
    let d = value["d"].as_str().expect("d is a string");
    assert!(d == "line\n" || d == "line\r\n", "heredoc: {d:?}");
}

/// `--pretty` is the same document, indented (two spaces in generic mode).
#[test]
fn pretty_output_is_indented_and_equal() {
    let path = fixtures().join("nomad_server.hcl");
    let compact = convert_file(&["--compact"], &path);
    let pretty = convert_file(&["--pretty"], &path);
    assert_eq!(
        parse(&pretty, "--pretty output"),
        parse(&compact, "--compact output")
    );
    let lines: Vec<&str> = pretty.lines().collect();
    assert!(
        lines.len() > 20,
        "--pretty spreads the document over lines:\n{pretty}"
    );
    assert_eq!(lines[0], "{");
    assert_eq!(*lines.last().expect("lines"), "}");
    assert!(
        lines.iter().any(|l| l.starts_with("  \"datacenter\": ")),
        "top-level keys are indented by two spaces:\n{pretty}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("      \"http\": ")),
        "nesting adds two spaces per level:\n{pretty}"
    );
    for line in &lines {
        let indent = line.len() - line.trim_start_matches(' ').len();
        assert_eq!(
            indent % 2,
            0,
            "indentation in steps of two spaces: {line:?}"
        );
        assert!(!line.starts_with('\t'), "no tabs: {line:?}");
    }
    assert!(pretty.ends_with("}\n"));
}

/// Without --pretty or --compact, output to a pipe is compact.
#[test]
fn output_to_a_pipe_is_compact_by_default() {
    let path = fixtures().join("nomad_client.hcl");
    let default = convert_file(&[], &path);
    let compact = convert_file(&["--compact"], &path);
    assert_eq!(default, compact);
}

/// `-` and no file argument both read standard input, with the same result
/// as reading the file.
#[test]
fn stdin_gives_the_same_as_a_file() {
    let path = fixtures().join("tf_resources.tf");
    let text = std::fs::read(&path).expect("read fixture");
    let from_file = convert_file(&["--compact"], &path);
    for dash in [true, false] {
        let mut cmd = command();
        cmd.arg("--compact");
        if dash {
            cmd.arg("-");
        }
        cmd.write_stdin(text.clone());
        let from_stdin = convert(cmd);
        assert_eq!(
            from_stdin, from_file,
            "stdin (with `-`: {dash}) differs from the file"
        );
    }
}
