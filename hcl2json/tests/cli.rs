//! The command line as a user meets it: help, man page, completions, the
//! demo's 2017 job file, and a closed stdout.

use std::io::Read;
use std::process::{Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

fn hcl2json() -> Command {
    Command::cargo_bin("hcl2json").expect("the hcl2json binary is built")
}

fn examples(name: &str) -> String {
    format!("{}/../examples/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn help_has_examples_and_exit_codes() {
    let out = hcl2json().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("--nomad"), "{text}");
    assert!(text.contains("Examples:"), "{text}");
    assert!(text.contains("Exit codes"), "{text}");
}

#[test]
fn man_page_and_completions_come_from_the_cli_definition() {
    let man = hcl2json().arg("--generate-man").output().unwrap();
    assert!(man.status.success());
    let man = String::from_utf8(man.stdout).unwrap();
    assert!(
        man.starts_with(".ie") || man.contains(".TH hcl2json"),
        "{man}"
    );
    assert!(man.contains("var\\-file"), "the man page lists --var-file");

    let bash = hcl2json()
        .args(["--generate-completion", "bash"])
        .output()
        .unwrap();
    assert!(bash.status.success());
    let bash = String::from_utf8(bash.stdout).unwrap();
    assert!(bash.contains("_hcl2json()"), "{bash}");
    assert!(bash.contains("--var-file"), "{bash}");
}

#[test]
fn usage_errors_exit_2() {
    let out = hcl2json().arg("--no-such-flag").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    // --var only makes sense with --nomad.
    let out = hcl2json().args(["--var", "a=b", "x.hcl"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// The 2017 demo's job, in pre-0.12 syntax, maps as Nomad 1.x maps it.
#[test]
fn the_2017_demo_job_converts_like_nomad() {
    let out = hcl2json()
        .args(["--nomad", &examples("pcd2017.nomad")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let job = &json["Job"];
    assert_eq!(job["ID"], "pcd2017");
    assert_eq!(job["Name"], "pcd2017");
    assert_eq!(job["Datacenters"], serde_json::json!(["gce-west1"]));
    assert_eq!(job["Update"]["Stagger"], 10_000_000_000_i64);
    assert_eq!(job["Update"]["MaxParallel"], 1);
    assert_eq!(job["Dispatched"], false);

    let webs = &job["TaskGroups"][0];
    assert_eq!(webs["Name"], "webs");
    assert_eq!(webs["Count"], 2);
    let frontend = &webs["Tasks"][0];
    assert_eq!(
        frontend["Config"]["port_map"],
        serde_json::json!([{"http": 80}])
    );
    let network = &frontend["Resources"]["Networks"][0];
    assert_eq!(network["MBits"], 10);
    // A port with a static value is a reserved port; no dynamic ones remain.
    assert_eq!(
        network["ReservedPorts"],
        serde_json::json!([{"Label": "http", "Value": 80, "To": 0, "HostNetwork": ""}])
    );
    assert_eq!(network["DynamicPorts"], Value::Null);
    let service = &frontend["Services"][0];
    assert_eq!(
        service["Tags"],
        serde_json::json!(["web", "${node.datacenter}"])
    );
    assert_eq!(service["Checks"][0]["Interval"], 10_000_000_000_i64);
    assert_eq!(service["Checks"][0]["Timeout"], 2_000_000_000_i64);

    let mongo = &job["TaskGroups"][1]["Tasks"][0];
    assert_eq!(mongo["Name"], "mongo");
    assert_eq!(
        mongo["Resources"]["Networks"][0]["ReservedPorts"][0]["Value"],
        27017
    );
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let mut child = hcl2json()
        .args(["--nomad", "--pretty", &examples("pcd2017.nomad")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one byte, then close the pipe, like `| head -c1`.
    let mut stdout = child.stdout.take().unwrap();
    let mut byte = [0u8; 1];
    stdout.read_exact(&mut byte).unwrap();
    drop(stdout);
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "status {status}, stderr {stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}
