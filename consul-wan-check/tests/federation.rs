//! The demo's Consul WAN federation replayed with agent doubles running as
//! separate processes on their own 127.0.2.x addresses: gce-west1 and
//! france, then aws-west2, joined with `consul-wan-check --join`; then the
//! france datacenter killed.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use api_double::process::AgentProcess;
use assert_cmd::cargo::CommandCargoExt;
use serde_json::Value;

/// A Consul server of `dc` on `ip`, joining `lan` peers of its datacenter.
fn consul_server(dir: &Path, name: &str, ip: &str, dc: &str, lan: &[&str]) -> AgentProcess {
    let config_dir = dir.join(name);
    std::fs::create_dir_all(&config_dir).expect("config dir");
    let config = serde_json::json!({
        "node_name": name,
        "datacenter": dc,
        "bind_addr": ip,
        "client_addr": ip,
        "server": true,
        "bootstrap_expect": 1,
        "retry_join": lan,
    });
    std::fs::write(config_dir.join("consul.json"), config.to_string()).expect("write config");
    AgentProcess::start(&[
        OsStr::new("consul"),
        OsStr::new("agent"),
        OsStr::new("-config-dir"),
        config_dir.as_os_str(),
    ])
}

struct Run {
    code: Option<i32>,
    report: Value,
    stderr: String,
    took: Duration,
}

fn wan_check(agent_ip: &str, args: &[&str]) -> Run {
    let started = Instant::now();
    let out = Command::cargo_bin("consul-wan-check")
        .expect("consul-wan-check is built")
        .env_remove("CONSUL_HTTP_TOKEN")
        .env_remove("CONSUL_HTTP_ADDR")
        .args([
            "--compact",
            "--http-addr",
            &format!("http://{agent_ip}:8500"),
        ])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("consul-wan-check runs");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8");
    Run {
        code: out.status.code(),
        report: serde_json::from_str(stdout.trim()).unwrap_or(Value::Null),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: started.elapsed(),
    }
}

fn datacenters(report: &Value) -> BTreeSet<String> {
    report["datacenters"]
        .as_array()
        .expect("datacenters")
        .iter()
        .filter_map(|d| d.as_str().map(str::to_owned))
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn the_demo_wan_federation_converges_and_a_dead_datacenter_is_reported() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    // Stage 1: gce-west1, three servers on one LAN.
    let _gce = [
        consul_server(dir, "gce-1", "127.0.2.11", "gce-west1", &[]),
        consul_server(dir, "gce-2", "127.0.2.12", "gce-west1", &["127.0.2.11"]),
        consul_server(dir, "gce-3", "127.0.2.13", "gce-west1", &["127.0.2.11"]),
    ];
    // Stage 3: france joins gce-west1 over the WAN.
    let france = consul_server(dir, "ovh-1", "127.0.2.14", "france", &[]);
    let r = wan_check(
        "127.0.2.14",
        &[
            "--join",
            "127.0.2.11",
            "--expect-dc",
            "gce-west1",
            "--expect-dc",
            "france",
            "--wait",
            "20s",
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.report["healthy"], true);
    assert_eq!(datacenters(&r.report), set(&["france", "gce-west1"]));

    // Stage 5: aws-west2 joins europe's WAN.
    let _aws = consul_server(dir, "aws-1", "127.0.2.21", "aws-west2", &[]);
    let args = [
        "--join",
        "127.0.2.11:8302",
        "--expect-dc",
        "gce-west1,france,aws-west2",
        "--expect-servers",
        "1",
        "--wait",
        "20s",
    ];
    let r = wan_check("127.0.2.21", &args);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(
        datacenters(&r.report),
        set(&["aws-west2", "france", "gce-west1"])
    );
    // Every server of every datacenter reaches the WAN pool (Consul floods a
    // datacenter's servers into it), eventually: re-check for a while.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut r = wan_check(
        "127.0.2.21",
        &["--expect-dc", "gce-west1,france,aws-west2", "--wait", "5s"],
    );
    while r.report["members"].as_array().map_or(0, Vec::len) < 5 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
        r = wan_check(
            "127.0.2.21",
            &["--expect-dc", "gce-west1,france,aws-west2", "--wait", "5s"],
        );
    }
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let members = r.report["members"].as_array().expect("members");
    assert_eq!(members.len(), 5, "{}", r.report);
    assert!(
        members.iter().all(|m| m["status"] == "alive"),
        "{}",
        r.report
    );

    // The whole federation seen from gce-west1, with its LAN.
    let r = wan_check(
        "127.0.2.12",
        &[
            "--expect-dc",
            "aws-west2",
            "--expect-lan",
            "3",
            "--wait",
            "10s",
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.report["lan_members"].as_array().map(Vec::len), Some(3));

    // france goes down; after gossip's failure timeout gce-west1 reports it,
    // within --wait plus a few seconds.
    drop(france);
    std::thread::sleep(api_double::agent::FAILURE_TIMEOUT + Duration::from_secs(1));
    let r = wan_check("127.0.2.11", &["--expect-dc", "france", "--wait", "5s"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_eq!(r.report["healthy"], false);
    assert_eq!(
        r.report["missing_datacenters"],
        serde_json::json!(["france"])
    );
    let failed = r.report["failed_members"].to_string();
    assert!(failed.contains("ovh-1"), "{}", r.report);
    assert!(r.took < Duration::from_secs(9), "took {:?}", r.took);
}

#[test]
fn a_wan_join_where_nothing_listens_names_the_address() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let _aws = consul_server(tmp.path(), "aws-9", "127.0.2.31", "aws-west2", &[]);
    let r = wan_check("127.0.2.31", &["--join", "127.0.2.39", "--wait", "2s"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(r.stderr.contains("127.0.2.39"), "{}", r.stderr);
}
