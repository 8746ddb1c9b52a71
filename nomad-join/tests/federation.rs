//! The demo's Nomad federation replayed with agent doubles running as
//! separate processes on their own 127.0.1.x addresses: europe (gce-west1
//! and france) and us (aws-west2), joined with `nomad-join`, then one region
//! killed.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use api_double::process::AgentProcess;
use assert_cmd::cargo::CommandCargoExt;
use nomad_join::federation::Report;

fn quoted(list: &[&str]) -> String {
    list.iter()
        .map(|j| format!("\"{j}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn start_server(
    dir: &Path,
    name: &str,
    ip: &str,
    region: &str,
    dc: &str,
    join: &[&str],
) -> AgentProcess {
    let role = format!(
        "server {{\n  enabled          = true\n  bootstrap_expect = 1\n  server_join {{\n    retry_join = [{}]\n  }}\n}}\n",
        quoted(join)
    );
    start_agent(dir, name, ip, region, dc, &role)
}

fn start_client(
    dir: &Path,
    name: &str,
    ip: &str,
    region: &str,
    dc: &str,
    servers: &[&str],
) -> AgentProcess {
    let role = format!(
        "client {{\n  enabled    = true\n  node_class = \"data\"\n  servers    = [{}]\n}}\n",
        quoted(servers)
    );
    start_agent(dir, name, ip, region, dc, &role)
}

fn start_agent(
    dir: &Path,
    name: &str,
    ip: &str,
    region: &str,
    dc: &str,
    role: &str,
) -> AgentProcess {
    let config = dir.join(format!("{name}.hcl"));
    let hcl = format!(
        "name       = \"{name}\"\nregion     = \"{region}\"\ndatacenter = \"{dc}\"\nbind_addr  = \"{ip}\"\n\n{role}"
    );
    std::fs::write(&config, hcl).expect("write the agent config");
    AgentProcess::start(&[
        OsStr::new("nomad"),
        OsStr::new("agent"),
        OsStr::new("-config"),
        config.as_os_str(),
    ])
}

fn nomad_join(address: &str, args: &[&str]) -> (Option<i32>, Option<Report>, String, Duration) {
    let started = Instant::now();
    let out = Command::cargo_bin("nomad-join")
        .expect("nomad-join is built")
        .env_remove("NOMAD_TOKEN")
        .args(["--compact", "--address", address])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("nomad-join runs");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8");
    let report = (!stdout.trim().is_empty())
        .then(|| serde_json::from_str(stdout.trim()).expect("the report decodes"));
    (
        out.status.code(),
        report,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn the_demo_federation_converges_and_a_dead_region_is_reported() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().to_path_buf();
    // Stage 1 and 3: europe's servers in two datacenters join each other.
    let eu = [
        start_server(&dir, "eu-1", "127.0.1.11", "europe", "gce-west1", &[]),
        start_server(
            &dir,
            "eu-2",
            "127.0.1.12",
            "europe",
            "gce-west1",
            &["127.0.1.11"],
        ),
        start_server(
            &dir,
            "eu-3",
            "127.0.1.13",
            "europe",
            "gce-west1",
            &["127.0.1.11"],
        ),
        start_server(
            &dir,
            "fr-1",
            "127.0.1.14",
            "europe",
            "france",
            &["127.0.1.11"],
        ),
    ];
    // Stage 5: region us, not joined to europe by itself.
    let us = start_server(&dir, "us-1", "127.0.1.21", "us", "aws-west2", &[]);

    let (code, report, stderr, _) = nomad_join(
        "http://127.0.1.21:4646",
        &[
            "127.0.1.11:4648",
            "--expect-region",
            "europe",
            "--expect-region",
            "us",
            "--wait",
            "20s",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let report = report.expect("a report");
    assert!(report.healthy);
    assert_eq!(report.num_joined, 1);
    let regions: Vec<&str> = report.regions.keys().map(String::as_str).collect();
    assert_eq!(regions, ["europe", "us"]);
    assert_eq!(report.regions["europe"].servers.len(), 4);
    assert_eq!(report.regions["us"].servers.len(), 1);
    for region in report.regions.values() {
        assert!(region.leader.is_some());
        assert_eq!(region.servers.iter().filter(|s| s.leader).count(), 1);
        assert!(region.servers.iter().all(|s| s.status == "alive"));
    }

    // The same federation seen from europe.
    let (code, report, stderr, _) = nomad_join(
        "http://127.0.1.13:4646",
        &["--expect-region", "us", "--wait", "10s"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(report.unwrap().healthy);

    // us goes down. Gossip marks it failed after its failure timeout (the
    // double's is 2 s): until then no tool can know.
    drop(us);
    std::thread::sleep(api_double::agent::FAILURE_TIMEOUT + Duration::from_secs(1));
    // Europe reports it, within --wait plus a few seconds.
    let (code, report, stderr, took) = nomad_join(
        "http://127.0.1.11:4646",
        &["--expect-region", "us", "--wait", "5s"],
    );
    assert_eq!(code, Some(1), "{stderr}");
    let report = report.expect("the JSON is printed when unhealthy");
    assert!(!report.healthy);
    assert!(report.unreachable.contains(&"us".to_owned()), "{report:?}");
    assert_eq!(report.regions["us"].servers[0].status, "failed");
    assert!(took < Duration::from_secs(9), "took {took:?}");
    drop(eu);
}

#[test]
fn joining_an_address_where_nothing_listens_names_it() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().to_path_buf();
    let _us = start_server(&dir, "us-9", "127.0.1.31", "us", "aws-west2", &[]);
    let (code, report, stderr, _) = nomad_join(
        "http://127.0.1.31:4646",
        &["127.0.1.39:4648", "--wait", "2s"],
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(report.is_none());
    assert!(stderr.contains("127.0.1.39:4648"), "{stderr}");
}

#[test]
fn client_nodes_are_counted_per_datacenter() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().to_path_buf();
    let _server = start_server(&dir, "fr-9", "127.0.1.41", "europe", "france", &[]);
    let _client = start_client(
        &dir,
        "fr-data-1",
        "127.0.1.42",
        "europe",
        "france",
        &["127.0.1.41"],
    );
    let (code, report, stderr, _) = nomad_join(
        "http://127.0.1.41:4646",
        &["--expect-clients", "france=1", "--wait", "10s"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let nodes = report
        .expect("a report")
        .nodes
        .expect("nodes with --expect-clients");
    assert_eq!(nodes["france"].ready, 1);
    assert_eq!(nodes["france"].names, vec!["fr-data-1"]);

    // Two are required, one exists: not healthy when --wait runs out.
    let (code, report, _, _) = nomad_join(
        "http://127.0.1.41:4646",
        &["--expect-clients", "france=2", "--wait", "1s"],
    );
    assert_eq!(code, Some(1));
    assert!(!report.expect("a report").healthy);
}
