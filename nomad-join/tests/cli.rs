//! The built `nomad-join` against the Nomad API test double.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use api_double::{NomadDouble, Scenario};
use assert_cmd::cargo::CommandCargoExt;
use nomad_join::federation::Report;

struct Run {
    code: Option<i32>,
    report: Option<Report>,
    stderr: String,
    took: Duration,
}

fn nomad_join(address: &str) -> Command {
    let mut cmd = Command::cargo_bin("nomad-join").expect("nomad-join is built");
    for var in [
        "NOMAD_ADDR",
        "NOMAD_TOKEN",
        "NOMAD_REGION",
        "NOMAD_NAMESPACE",
        "NOMAD_CACERT",
    ] {
        cmd.env_remove(var);
    }
    cmd.args(["--compact", "--address", address]);
    cmd
}

fn run(mut cmd: Command, stdin: &str) -> Run {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nomad-join runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("nomad-join ends");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8");
    let stderr = String::from_utf8(out.stderr).expect("UTF-8");
    assert_ne!(out.status.code(), Some(101), "panicked: {stderr}");
    // The report decodes into the typed struct, which rejects unknown keys.
    let report = (!stdout.trim().is_empty()).then(|| {
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("bad JSON ({e}): {stdout}"))
    });
    Run {
        code: out.status.code(),
        report,
        stderr,
        took: started.elapsed(),
    }
}

fn europe_with_us_target() -> NomadDouble {
    NomadDouble::start(
        Scenario::happy_path()
            .with_regions(&["europe"])
            .with_join_target("127.0.0.5:4648", "us-server-1", "us", "aws-west2"),
    )
}

#[test]
fn join_then_verify_both_regions() {
    let nomad = europe_with_us_target();
    let mut cmd = nomad_join(&nomad.address());
    cmd.args([
        "127.0.0.5:4648",
        "--expect-region",
        "us",
        "--expect-region",
        "europe",
        "--wait",
        "5s",
    ]);
    let r = run(cmd, "");
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let report = r.report.expect("a report");
    assert!(report.healthy);
    assert_eq!(report.num_joined, 1);
    assert!(report.missing_regions.is_empty());
    assert!(report.unreachable.is_empty());
    let us = &report.regions["us"];
    assert_eq!(us.servers.len(), 1);
    assert_eq!(us.servers[0].name, "us-server-1.us");
    assert_eq!(us.servers[0].address, "127.0.0.5:4648");
    assert_eq!(us.servers[0].status, "alive");
    assert!(us.leader.is_some());
    assert!(report.regions.contains_key("europe"));

    let joins: Vec<_> = nomad
        .requests()
        .into_iter()
        .filter(|r| r.path == "/v1/agent/join")
        .collect();
    assert_eq!(joins.len(), 1);
    assert_eq!(joins[0].method, "PUT");
    assert_eq!(joins[0].query_values("address"), vec!["127.0.0.5:4648"]);
}

#[test]
fn a_join_that_reaches_nothing_names_the_address() {
    let nomad = europe_with_us_target();
    let mut cmd = nomad_join(&nomad.address());
    cmd.args(["127.0.0.9:4648", "--wait", "2s"]);
    let r = run(cmd, "");
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.report.is_none());
    assert!(r.stderr.contains("127.0.0.9:4648"), "{}", r.stderr);
    assert!(r.stderr.contains("Failed to join"), "{}", r.stderr);
}

#[test]
fn a_missing_region_is_reported_when_wait_runs_out() {
    let nomad = europe_with_us_target();
    let mut cmd = nomad_join(&nomad.address());
    cmd.args(["--expect-region", "us", "--wait", "1s"]);
    let r = run(cmd, "");
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    let report = r.report.expect("the JSON is printed even when unhealthy");
    assert!(!report.healthy);
    assert_eq!(report.missing_regions, vec!["us"]);
    assert_eq!(report.num_joined, 0);
    assert!(r.took < Duration::from_secs(4), "took {:?}", r.took);
    assert!(r.stderr.contains("missing regions us"), "{}", r.stderr);
    // Verify only: no join request.
    assert!(nomad.requests().iter().all(|r| r.path != "/v1/agent/join"));
}

#[test]
fn facts_on_stdin_give_addresses_and_regions() {
    let nomad = europe_with_us_target();
    let facts = r#"{"region": "us", "datacenter": "aws-west2", "servers": ["127.0.0.5:4648"], "clients": []}"#;
    let r = run(nomad_join(&nomad.address()), facts);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let report = r.report.unwrap();
    assert_eq!(report.num_joined, 1);
    assert!(report.regions.contains_key("us"));
}

#[test]
fn bad_stdin_is_bad_input() {
    let nomad = europe_with_us_target();
    let r = run(nomad_join(&nomad.address()), "{\"region\": ");
    assert_eq!(r.code, Some(3), "{}", r.stderr);
    assert!(r.stderr.contains("<stdin>:1:"), "{}", r.stderr);
    assert!(nomad.requests().is_empty());
}

#[test]
fn the_token_is_sent_on_every_request() {
    let token = "d1e2-secret";
    let nomad = NomadDouble::start(
        Scenario::happy_path()
            .with_regions(&["europe"])
            .with_acl_token(token),
    );
    let mut cmd = nomad_join(&nomad.address());
    cmd.args(["--wait", "1s"]);
    let r = run(cmd, "");
    assert_eq!(r.code, Some(4), "{}", r.stderr);
    assert!(r.stderr.contains("Permission denied"), "{}", r.stderr);

    let before = nomad.requests().len();
    let mut cmd = nomad_join(&nomad.address());
    cmd.env("NOMAD_TOKEN", token).args(["--wait", "1s"]);
    let r = run(cmd, "");
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(!r.stderr.contains(token));
    let later = &nomad.requests()[before..];
    assert!(!later.is_empty());
    assert!(later
        .iter()
        .all(|r| r.header("x-nomad-token") == Some(token)));
}

#[test]
fn an_unreachable_agent_exits_5() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let r = run(nomad_join(&address), "");
    assert_eq!(r.code, Some(5), "{}", r.stderr);
    assert!(r.report.is_none());
}

#[test]
fn tls_with_a_ca_and_a_client_certificate() {
    let pki = api_double::TestPki::new();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, pem: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, pem).unwrap();
        path
    };
    let ca = write("ca.pem", &pki.ca_cert_pem);
    let cert = write("client.pem", &pki.client_cert_pem);
    let key = write("client-key.pem", &pki.client_key_pem);
    let nomad = NomadDouble::start(
        Scenario::happy_path()
            .with_regions(&["europe"])
            .with_tls(pki.server_setup(true)),
    );

    let mut cmd = nomad_join(&nomad.address());
    cmd.arg("--ca-cert")
        .arg(&ca)
        .arg("--client-cert")
        .arg(&cert)
        .arg("--client-key")
        .arg(&key);
    cmd.args(["--expect-region", "europe", "--wait", "1s"]);
    let r = run(cmd, "");
    assert_eq!(r.code, Some(0), "{}", r.stderr);

    let other = api_double::TestPki::new();
    let wrong = write("other-ca.pem", &other.ca_cert_pem);
    let mut cmd = nomad_join(&nomad.address());
    cmd.arg("--ca-cert")
        .arg(&wrong)
        .arg("--client-cert")
        .arg(&cert)
        .arg("--client-key")
        .arg(&key);
    let r = run(cmd, "");
    assert_eq!(r.code, Some(5), "{}", r.stderr);
    assert!(r.stderr.contains("certificate"), "{}", r.stderr);
    assert!(r.report.is_none());
}
