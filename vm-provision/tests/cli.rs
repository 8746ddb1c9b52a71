//! The `vm-provision` command line without hosts: bad input and usage
//! errors exit before any host is contacted, with the documented codes and
//! nothing on stdout; an unreachable host is `failed` in the facts.

use std::fs;
use std::net::TcpListener;

use assert_cmd::Command;
use serde_json::Value;

fn vm_provision() -> Command {
    let mut cmd = Command::cargo_bin("vm-provision").expect("the built binary");
    cmd.env_remove("SSH_AUTH_SOCK");
    cmd
}

fn inventory(dir: &std::path::Path, address: &str, port: u16) -> std::path::PathBuf {
    let known_hosts = dir.join("known_hosts");
    fs::write(&known_hosts, "").unwrap();
    let text = serde_json::json!({
        "region": "europe", "datacenter": "gce-west1",
        "ssh": {"user": "ops", "port": port, "known_hosts": known_hosts, "connect_timeout": "1s"},
        "hosts": [{"name": "server-1", "address": address, "role": "server"}]
    });
    let path = dir.join("inventory.json");
    fs::write(&path, text.to_string()).unwrap();
    path
}

#[test]
fn invalid_inventories_exit_3_with_the_json_path() {
    let dir = tempfile::tempdir().unwrap();
    for (text, expected) in [
        (
            r#"{"region": "europe", "datacenter": "dc1", "hosts": [{"name": "a", "address": "10.0.0.1", "role": "server"}, {"name": "b", "address": "not valid!", "role": "client"}]}"#,
            "hosts[1].address",
        ),
        (
            r#"{"region": "europe", "datacenter": "dc1", "hosts": [{"name": "a", "address": "10.0.0.1", "role": "boss"}]}"#,
            "hosts[0].role",
        ),
        (
            r#"{"region": "europe", "datacenter": "dc1", "hosts": [], "surprise": 1}"#,
            "surprise",
        ),
        ("{\"region\": ", "inventory.json:1:"),
    ] {
        let path = dir.path().join("inventory.json");
        fs::write(&path, text).unwrap();
        let out = vm_provision().arg(&path).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{text}: {stderr}");
        assert!(stderr.contains(expected), "{text}: {stderr}");
        assert!(stderr.starts_with("vm-provision: "), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn the_inventory_can_come_on_stdin() {
    let out = vm_provision()
        .arg("-")
        .write_stdin(r#"{"region": "europe"}"#)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("<stdin>"));
}

#[test]
fn usage_errors_exit_2_before_any_host() {
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), "192.0.2.1", 22);
    let not_executable = dir.path().join("consul");
    fs::write(&not_executable, "#!/bin/sh\n").unwrap();
    for args in [
        vec!["--consul-binary", "/nonexistent/consul"],
        vec!["--consul-binary", not_executable.to_str().unwrap()],
        vec!["--releases-url", "ftp://mirror.example/"],
        vec!["--parallel", "0"],
        vec!["--connect-timeout", "soon"],
    ] {
        let out = vm_provision().args(&args).arg(&inv).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn an_unreachable_host_is_failed_in_the_facts() {
    // A port nobody listens on: connections are refused at once.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let inv = inventory(dir.path(), "127.0.0.1", port);
    let out = vm_provision().arg(&inv).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let facts: Value = serde_json::from_slice(&out.stdout).expect("facts on stdout");
    assert_eq!(facts["region"], "europe");
    assert_eq!(facts["nomad_addr"], "http://127.0.0.1:4646");
    let host = &facts["hosts"][0];
    assert_eq!(host["result"], "failed");
    assert_eq!(host["changes"], serde_json::json!([]));
    assert!(
        host["error"].as_str().unwrap().contains("unreachable"),
        "{host}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 of 1 host(s) failed: server-1"));
}

#[test]
fn help_names_every_option() {
    let out = vm_provision().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--parallel",
        "--dry-run",
        "--accept-new-host-keys",
        "--known-hosts",
        "--identity",
        "--consul-binary",
        "--nomad-binary",
        "--no-docker",
        "--connect-timeout",
        "--releases-url",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}
