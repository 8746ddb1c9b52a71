//! The built `vm-provision` against real sshd hosts of the local lab: 3
//! servers and 2 clients, with the agent double (`agent-double`, which
//! acts as `consul` or `nomad` by the name it is run as) uploaded as both
//! binaries. Needs root; skipped with a message otherwise.
//!
//! One test walks the whole life of a cluster on its own lab (name
//! `prov`, subnet 10.216.0, state `/run/vm-provision-lab`), brought down
//! at the end even on failure.

mod common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};

use common::Lab;

const STATE: &str = "/run/vm-provision-lab";
const SUBNET: &str = "10.216.0";
/// `--api-timeout` of every run.
const API_TIMEOUT: Duration = Duration::from_secs(30);

/// The built `vm-provision` with the agent double as both binaries, no
/// Docker (lab hosts have no internet), and `args`.
fn provision(inventory: &Path, args: &[&str]) -> (Output, Value) {
    let double = double().as_os_str();
    let mut with_binaries = vec![OsStr::new("--consul-binary"), double];
    with_binaries.extend([OsStr::new("--nomad-binary"), double]);
    with_binaries.extend(args.iter().map(OsStr::new));
    provision_downloading(inventory, &with_binaries)
}

/// [`provision`] without binaries to upload: the hosts download them.
fn provision_downloading<S: AsRef<OsStr>>(inventory: &Path, args: &[S]) -> (Output, Value) {
    provision_within(API_TIMEOUT, inventory, args)
}

/// The built `vm-provision` with `--api-timeout api_timeout`, no Docker,
/// a short connect timeout, and `args`.
fn provision_within<S: AsRef<OsStr>>(
    api_timeout: Duration,
    inventory: &Path,
    args: &[S],
) -> (Output, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_vm-provision"))
        .args(["--no-docker", "--connect-timeout", "3s", "--api-timeout"])
        .arg(format!("{}s", api_timeout.as_secs()))
        .args(args)
        .arg(inventory)
        .env_remove("SSH_AUTH_SOCK")
        .output()
        .expect("run vm-provision");
    let facts = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out, facts)
}

/// A copy of the agent double taken once: the one in the target folder
/// may be rebuilt while the test runs.
fn double() -> &'static Path {
    static COPY: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = COPY.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("agent-double");
        fs::copy(api_double::process::binary(), &path).expect("copy agent-double");
        (dir, path)
    });
    path
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn results(facts: &Value) -> Vec<(String, String)> {
    facts["hosts"]
        .as_array()
        .map(|hosts| {
            hosts
                .iter()
                .map(|h| {
                    (
                        h["name"].as_str().unwrap_or_default().to_string(),
                        h["result"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn host<'a>(facts: &'a Value, name: &str) -> &'a Value {
    facts["hosts"]
        .as_array()
        .and_then(|hs| hs.iter().find(|h| h["name"] == name))
        .unwrap_or_else(|| panic!("no host {name} in {facts}"))
}

fn changes(facts: &Value, name: &str) -> Vec<String> {
    host(facts, name)["changes"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// A plain HTTP/1.0 GET from this machine (the lab bridge routes to the
/// hosts): status and JSON body.
fn http_get(address: &str, port: u16, path: &str) -> (u16, Value) {
    let mut stream =
        TcpStream::connect((address, port)).unwrap_or_else(|e| panic!("{address}:{port}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// Polls `check` for up to 20 s (gossip converges in a few hundred ms).
fn eventually(what: &str, mut check: impl FnMut() -> Result<(), String>) {
    let start = Instant::now();
    loop {
        match check() {
            Ok(()) => return,
            Err(e) if start.elapsed() > Duration::from_secs(20) => panic!("{what}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(250)),
        }
    }
}

/// Every file in a host's own layer with its modification time, but the
/// agents' own logs.
fn snapshot(lab: &Lab, name: &str) -> BTreeMap<PathBuf, SystemTime> {
    let root = lab.host_path(name, "/");
    let mut found = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(&root).unwrap().to_path_buf();
            if rel.starts_with("var/log") {
                continue;
            }
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                stack.push(path);
            }
            found.insert(rel, meta.modified().unwrap());
        }
    }
    found
}

/// The pid of a host's running agent (`consul` or `nomad`), found among
/// the processes of its network namespace.
fn agent_pid(name: &str, product: &str) -> Option<u32> {
    let out = Command::new("ip")
        .args(["netns", "pids", name])
        .output()
        .ok()?;
    let wanted = format!("/usr/local/bin/{product}");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|p| p.parse::<u32>().ok())
        .find(|pid| {
            fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                let args: Vec<&[u8]> = c.split(|&b| b == 0).collect();
                args.first() == Some(&wanted.as_bytes()) && args.get(1) == Some(&&b"agent"[..])
            })
        })
}

fn pids(names: &[&str]) -> BTreeMap<String, Option<u32>> {
    let mut map = BTreeMap::new();
    for name in names {
        for product in ["consul", "nomad"] {
            map.insert(format!("{name}/{product}"), agent_pid(name, product));
        }
    }
    map
}

fn write_inventory(dir: &Path, file: &str, inventory: &Value) -> PathBuf {
    let path = dir.join(file);
    fs::write(&path, serde_json::to_vec_pretty(inventory).unwrap()).unwrap();
    path
}

const NAMES: [&str; 5] = ["prov1", "prov2", "prov3", "prov4", "prov5"];

#[test]
fn provision_a_cluster_on_the_lab() {
    if let Some(why) = common::skip_reason() {
        println!("provision_lab: skipped: {why}");
        return;
    }
    let lab = Lab::up("prov", STATE, SUBNET, &["--hosts", "5"]);
    let work = tempfile::tempdir().unwrap();
    let mut inventory: Value = serde_json::from_str(&lab.inventory).unwrap();
    let inv_path = write_inventory(work.path(), "inventory.json", &inventory);

    bad_inventories_contact_no_host(&lab, work.path(), &inventory);

    // A dry run on fresh hosts: everything to do, nothing done.
    let before = snapshot(&lab, "prov1");
    let (out, facts) = provision(&inv_path, &["--dry-run"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        results(&facts).iter().all(|(_, r)| r == "changed"),
        "{facts}"
    );
    assert!(changes(&facts, "prov1").contains(&"write /etc/consul.d/consul.hcl".to_string()));
    assert!(
        stderr(&out).contains("prov1: | +datacenter = \"lab\""),
        "the dry run shows diffs: {}",
        stderr(&out)
    );
    assert_eq!(snapshot(&lab, "prov1"), before, "a dry run changes nothing");
    assert!(!lab.host_path("prov1", "/etc/consul.d").exists());

    // The first run.
    let (out, facts) = provision(&inv_path, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        results(&facts).iter().all(|(_, r)| r == "changed"),
        "{facts}"
    );
    assert_eq!(facts["nomad_addr"], format!("http://{SUBNET}.11:4646"));
    assert_eq!(
        facts["consul_http_addr"],
        format!("http://{SUBNET}.11:8500")
    );
    for name in NAMES {
        let fp = host(&facts, name)["host_key_fingerprint"].as_str().unwrap();
        assert_eq!(fp, common::keygen_fingerprint(&lab.host_pub_key(name)));
    }
    hosts_have_their_files(&lab);
    cluster_answers(SUBNET);
    servers_answer_before_clients_start(&stderr(&out));

    // A second run changes nothing: no file touched, no agent restarted.
    let snapshots: Vec<_> = NAMES.iter().map(|n| snapshot(&lab, n)).collect();
    let agents = pids(&NAMES);
    let (out, facts) = provision(&inv_path, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        results(&facts).iter().all(|(_, r)| r == "unchanged"),
        "{facts}"
    );
    for (name, before) in NAMES.iter().zip(&snapshots) {
        assert_eq!(
            &snapshot(&lab, name),
            before,
            "{name}: a re-run touched files"
        );
    }
    assert_eq!(pids(&NAMES), agents, "a re-run restarted agents");
    let (out, _) = provision(&inv_path, &["--dry-run"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "nothing to change: {}",
        stderr(&out)
    );

    // A Nomad-only setting of one client: only that host's Nomad restarts.
    inventory["hosts"][4]["node_class"] = json!("data");
    inventory["hosts"][4]["meta"] = json!({"rack": "r2"});
    let inv_path = write_inventory(work.path(), "inventory.json", &inventory);
    let (out, facts) = provision(&inv_path, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        changes(&facts, "prov5"),
        ["write /etc/nomad.d/nomad.hcl", "restart nomad"]
    );
    for name in &NAMES[..4] {
        assert_eq!(host(&facts, name)["result"], "unchanged", "{facts}");
    }
    let after = pids(&NAMES);
    for (key, pid) in &agents {
        let restarted = after[key] != *pid;
        assert_eq!(
            restarted,
            key == "prov5/nomad",
            "{key}: {pid:?} -> {:?}",
            after[key]
        );
    }
    eventually("prov5 is a data node", || {
        let (_, nodes) = http_get(&format!("{SUBNET}.11"), 4646, "/v1/nodes");
        let class = nodes
            .as_array()
            .and_then(|ns| ns.iter().find(|n| n["Name"] == "prov5"))
            .map(|n| n["NodeClass"].clone());
        (class == Some(json!("data")))
            .then_some(())
            .ok_or(format!("{nodes}"))
    });

    gossip_key_stays_secret(&lab, work.path(), &mut inventory);
    key_change_is_refused(&lab, work.path(), &mut inventory);
    host_down_fails_alone(&lab, work.path(), &mut inventory);
    new_keys_need_consent(&lab, work.path(), &inventory);
    failing_agents_fail_their_hosts(work.path(), &inventory);
    downloads_are_checked(&lab, work.path(), &inventory);
}

/// A gossip key: rendered into every consul.hcl, readable by root and the
/// `consul` group only, never printed (a dry run's diff redacts it), and
/// the agents still answer, all with the same key.
fn gossip_key_stays_secret(lab: &Lab, dir: &Path, inventory: &mut Value) {
    use std::os::unix::fs::MetadataExt;
    let key = "c2VjcmV0LWdvc3NpcC1rIQ=="; // base64 of 16 bytes
    let key_file = dir.join("gossip.key");
    fs::write(&key_file, format!("{key}\n")).unwrap();
    inventory["consul"]["encrypt_key_file"] = json!(key_file);
    let path = write_inventory(dir, "inventory.json", inventory);

    let (out, facts) = provision(&path, &["--dry-run"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("+encrypt = (redacted)"),
        "{}",
        stderr(&out)
    );
    let (run, facts_run) = provision(&path, &[]);
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    for (o, f) in [(&out, &facts), (&run, &facts_run)] {
        assert!(
            !stderr(o).contains(key) && !f.to_string().contains(key),
            "the key leaked"
        );
    }
    for name in NAMES {
        assert_eq!(
            changes(&facts_run, name),
            ["write /etc/consul.d/consul.hcl", "restart consul"],
            "{name}"
        );
        let file = lab.host_path(name, "/etc/consul.d/consul.hcl");
        let meta = fs::metadata(&file).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o640, "{name}");
        let group = fs::read_to_string(lab.host_path(name, "/etc/group")).unwrap();
        let consul_gid = group
            .lines()
            .find_map(|l| l.strip_prefix("consul:x:"))
            .and_then(|rest| rest.split(':').next())
            .and_then(|gid| gid.parse::<u32>().ok())
            .expect("a consul group");
        assert_eq!(meta.gid(), consul_gid, "{name}: group consul");
        assert!(fs::read_to_string(&file)
            .unwrap()
            .contains(&format!("encrypt = \"{key}\"")));
    }
    cluster_answers(SUBNET);
}

/// Exit 3 with the JSON path, and no SSH connection made (the hosts'
/// sshd logs do not grow).
fn bad_inventories_contact_no_host(lab: &Lab, dir: &Path, inventory: &Value) {
    let log_sizes = || -> Vec<u64> {
        NAMES
            .iter()
            .map(|n| {
                fs::metadata(lab.state.join("hosts").join(n).join("boot.log"))
                    .map(|m| m.len())
                    .unwrap_or(0)
            })
            .collect()
    };
    let sizes = log_sizes();
    let mut bad = inventory.clone();
    bad["hosts"][1]["address"] = json!("not an address!");
    let path = write_inventory(dir, "bad.json", &bad);
    let (out, facts) = provision(&path, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("hosts[1].address"),
        "{}",
        stderr(&out)
    );
    assert_eq!(facts, Value::Null, "nothing on stdout");

    let mut bad = inventory.clone();
    bad["hosts"][0]["role"] = json!("leader");
    let path = write_inventory(dir, "bad.json", &bad);
    let (out, _) = provision(&path, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("hosts[0].role"), "{}", stderr(&out));
    assert_eq!(log_sizes(), sizes, "no host was contacted");
}

/// Files, units, users and folders on every host, as rendered.
fn hosts_have_their_files(lab: &Lab) {
    for (i, name) in NAMES.iter().enumerate() {
        let read = |p: &str| {
            fs::read_to_string(lab.host_path(name, p)).unwrap_or_else(|e| panic!("{name}:{p}: {e}"))
        };
        let consul = read("/etc/consul.d/consul.hcl");
        let nomad = read("/etc/nomad.d/nomad.hcl");
        assert!(consul.contains("datacenter = \"lab\""), "{consul}");
        assert!(nomad.contains("region = \"europe\""), "{nomad}");
        if i < 3 {
            assert!(consul.contains("bootstrap_expect = 3"), "{consul}");
            assert!(nomad.contains("bootstrap_expect = 3"), "{nomad}");
        } else {
            assert!(nomad.contains(&format!("\"{SUBNET}.11:4647\"")), "{nomad}");
        }
        assert!(read("/etc/systemd/system/consul.service").contains("User=consul"));
        assert!(read("/etc/systemd/system/nomad.service").contains("nomad agent -config"));
        assert!(read("/etc/passwd")
            .lines()
            .any(|l| l.starts_with("consul:")));
        let double = fs::read(double()).unwrap();
        assert_eq!(
            fs::read(lab.host_path(name, "/usr/local/bin/nomad")).unwrap(),
            double
        );
        for dir in ["/opt/consul", "/opt/nomad"] {
            assert!(lab.host_path(name, dir).is_dir(), "{name}:{dir}");
        }
    }
}

/// The agents answer with the right region, datacenter and membership.
fn cluster_answers(subnet: &str) {
    let server = format!("{subnet}.11");
    eventually("consul LAN members", || {
        let (status, members) = http_get(&server, 8500, "/v1/agent/members");
        let alive = members
            .as_array()
            .map(|m| m.iter().filter(|m| m["Status"] == 1).count())
            .unwrap_or(0);
        (status == 200 && alive == 5)
            .then_some(())
            .ok_or(format!("{status} {members}"))
    });
    let (_, consul_self) = http_get(&server, 8500, "/v1/agent/self");
    assert_eq!(consul_self["Config"]["Datacenter"], "lab");
    let (_, nomad_self) = http_get(&format!("{subnet}.14"), 4646, "/v1/agent/self");
    assert_eq!(nomad_self["config"]["Region"], "europe");
    assert_eq!(nomad_self["config"]["Datacenter"], "lab");
    eventually("nomad servers and clients", || {
        let (_, leader) = http_get(&server, 4646, "/v1/status/leader");
        let (_, peers) = http_get(&server, 4646, "/v1/status/peers");
        let (_, nodes) = http_get(&server, 4646, "/v1/nodes");
        let ready = nodes
            .as_array()
            .map(|n| n.iter().filter(|n| n["Status"] == "ready").count())
            .unwrap_or(0);
        let ok = leader.as_str().is_some_and(|l| !l.is_empty())
            && peers.as_array().map(Vec::len) == Some(3)
            && ready == 2;
        ok.then_some(())
            .ok_or(format!("leader {leader} peers {peers} nodes {nodes}"))
    });
}

/// known_hosts holds another key for prov4: it is refused and left
/// untouched while the others take a change.
fn key_change_is_refused(lab: &Lab, dir: &Path, inventory: &mut Value) {
    let known_hosts = dir.join("known_hosts");
    let original = fs::read_to_string(lab.state.join("known_hosts")).unwrap();
    let other_key = dir.join("other_key");
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other_key)
        .status()
        .unwrap();
    assert!(st.success());
    let other = fs::read_to_string(other_key.with_extension("pub")).unwrap();
    let other: Vec<&str> = other.split_whitespace().take(2).collect();
    let forged: String = original
        .lines()
        .map(|l| {
            if l.starts_with(&format!("{SUBNET}.14 ")) {
                format!("{SUBNET}.14 {}\n", other.join(" "))
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    fs::write(&known_hosts, &forged).unwrap();
    inventory["ssh"]["known_hosts"] = json!(known_hosts);
    inventory["consul"] = json!({"retry_join": ["10.9.9.9"]});
    let path = write_inventory(dir, "inventory.json", inventory);
    let untouched = snapshot(lab, "prov4");
    let (out, facts) = provision(&path, &["--accept-new-host-keys"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let refused = host(&facts, "prov4");
    assert_eq!(refused["result"], "failed");
    let error = refused["error"].as_str().unwrap();
    assert!(error.contains("host key mismatch"), "{error}");
    assert_eq!(
        refused["host_key_fingerprint"].as_str(),
        Some(common::keygen_fingerprint(&lab.host_pub_key("prov4")).as_str())
    );
    for name in ["prov1", "prov2", "prov3", "prov5"] {
        assert_eq!(host(&facts, name)["result"], "changed", "{facts}");
        assert!(changes(&facts, name).contains(&"restart consul".to_string()));
    }
    assert_eq!(snapshot(lab, "prov4"), untouched, "prov4 was touched");
    assert_eq!(
        fs::read_to_string(&known_hosts).unwrap(),
        forged,
        "known_hosts kept"
    );
    inventory["ssh"]["known_hosts"] = json!(lab.state.join("known_hosts"));
}

/// A host that is down is `failed` (unreachable) after the connect
/// timeout; the others go on.
fn host_down_fails_alone(lab: &Lab, dir: &Path, inventory: &mut Value) {
    lab.command(&["kill", "prov5"]);
    inventory["consul"] = json!({"retry_join": ["10.9.9.8"]});
    let path = write_inventory(dir, "inventory.json", inventory);
    let (out, facts) = provision(&path, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        results(&facts),
        [
            ("prov1".into(), "changed".into()),
            ("prov2".into(), "changed".into()),
            ("prov3".into(), "changed".into()),
            ("prov4".into(), "changed".into()),
            ("prov5".into(), "failed".into()),
        ]
    );
    let error = host(&facts, "prov5")["error"].as_str().unwrap();
    assert!(error.contains("unreachable"), "{error}");
    assert!(
        stderr(&out).contains("1 of 5 host(s) failed: prov5"),
        "{}",
        stderr(&out)
    );
    lab.command(&["start", "prov5"]);
}

/// Servers first: no client starts its agents before every server's
/// agents answer (from the progress lines, in the order printed; each
/// starts with what it is about).
fn servers_answer_before_clients_start(progress: &str) {
    let line = |wanted: &str| {
        progress
            .lines()
            .position(|l| l.starts_with(&format!("vm-provision: {wanted}")))
            .unwrap_or_else(|| panic!("no line {wanted:?} in:\n{progress}"))
    };
    let servers_answer = NAMES[..3]
        .iter()
        .map(|s| line(&format!("{s}: nomad answers on ")))
        .max();
    let clients_start = NAMES[3..]
        .iter()
        .map(|c| line(&format!("{c}: start consul")))
        .min();
    assert!(
        servers_answer < clients_start,
        "a client started before the servers answered:\n{progress}"
    );
}

/// An agent that does not start fails its host with systemctl's word,
/// without waiting out the API timeout: on a restart, and on a start
/// (where the APIs are polled while systemctl runs). One that starts but
/// never answers fails it after the API timeout. A good binary then
/// brings every host back.
fn failing_agents_fail_their_hosts(dir: &Path, inventory: &Value) {
    let failing = dir.join("failing-nomad");
    fs::write(
        &failing,
        "#!/bin/sh\necho 'nomad: cannot start here' >&2\nexit 1\n",
    )
    .unwrap();
    fs::set_permissions(&failing, fs::Permissions::from_mode(0o755)).unwrap();
    let path = write_inventory(dir, "inventory.json", inventory);
    let args = [
        OsStr::new("--consul-binary"),
        double().as_os_str(),
        OsStr::new("--nomad-binary"),
        failing.as_os_str(),
    ];
    for (verb, was) in [("restarting", "restart"), ("starting", "start")] {
        let began = Instant::now();
        let (out, facts) = provision_downloading(&path, &args);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(
            began.elapsed() < API_TIMEOUT,
            "{verb}: the failure waited out the API timeout"
        );
        for name in NAMES {
            assert_eq!(host(&facts, name)["result"], "failed", "{facts}");
            assert!(
                changes(&facts, name).contains(&format!("{was} nomad")),
                "{facts}"
            );
            let error = host(&facts, name)["error"].as_str().unwrap_or_default();
            assert!(
                error.starts_with(&format!("{verb} nomad failed: "))
                    && error.contains("systemctl exited with status"),
                "{name}: {error}"
            );
        }
    }

    // A Nomad that runs but never listens: systemctl is content, and the
    // API check gives up --api-timeout after systemctl returned.
    let silent = dir.join("silent-nomad");
    fs::write(&silent, "#!/bin/sh\nexec sleep 3600\n").unwrap();
    fs::set_permissions(&silent, fs::Permissions::from_mode(0o755)).unwrap();
    let args = [
        OsStr::new("--consul-binary"),
        double().as_os_str(),
        OsStr::new("--nomad-binary"),
        silent.as_os_str(),
    ];
    let (out, facts) = provision_within(Duration::from_secs(3), &path, &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    for name in NAMES {
        assert!(
            changes(&facts, name).contains(&"start nomad".to_string()),
            "{facts}"
        );
        let error = host(&facts, name)["error"].as_str().unwrap_or_default();
        assert!(
            error.starts_with("nomad did not answer on http://")
                && error.contains(" within 3s (no answer)"),
            "{name}: {error}"
        );
    }

    let (out, facts) = provision(&path, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for name in NAMES {
        assert!(
            changes(&facts, name).contains(&"restart nomad".to_string()),
            "{facts}"
        );
    }
    cluster_answers(SUBNET);
}

/// With an empty known_hosts every host is refused, unless
/// `--accept-new-host-keys`, which records the keys.
fn new_keys_need_consent(lab: &Lab, dir: &Path, inventory: &Value) {
    let known_hosts = dir.join("fresh_known_hosts");
    fs::write(&known_hosts, "").unwrap();
    // The key comes from --identity here, not from the inventory.
    let mut inventory = inventory.clone();
    let key = inventory["ssh"]
        .as_object_mut()
        .and_then(|ssh| ssh.remove("identity_file"))
        .expect("the lab inventory names its key");
    let key = key.as_str().unwrap().to_string();
    let path = write_inventory(dir, "inventory.json", &inventory);
    let kh = known_hosts.to_str().unwrap();
    let (out, facts) = provision(&path, &["--known-hosts", kh, "--identity", &key]);
    assert_eq!(out.status.code(), Some(1));
    for name in NAMES {
        let error = host(&facts, name)["error"].as_str().unwrap_or_default();
        assert!(error.contains("not in known_hosts"), "{name}: {error}");
    }
    assert_eq!(fs::read_to_string(&known_hosts).unwrap(), "");
    let (out, facts) = provision(
        &path,
        &[
            "--known-hosts",
            kh,
            "--accept-new-host-keys",
            "--identity",
            &key,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let recorded = fs::read_to_string(&known_hosts).unwrap();
    for name in NAMES {
        let fp = common::keygen_fingerprint(&lab.host_pub_key(name));
        assert_eq!(host(&facts, name)["host_key_fingerprint"], fp.as_str());
    }
    assert_eq!(recorded.lines().count(), 5, "{recorded}");
}

/// The release archive name of `product` for this machine's architecture
/// (the lab hosts share it).
fn release_zip(product: &str, version: &str) -> String {
    let arch = match std::env::consts::ARCH {
        "aarch64" => "arm64",
        _ => "amd64",
    };
    format!("{product}_{version}_linux_{arch}.zip")
}

/// A release mirror with the layout of releases.hashicorp.com: the agent
/// double zipped as each product, and SHA256SUMS (for `nomad` 9.9.9, a
/// wrong sum).
fn make_mirror(root: &Path, consul: &str, nomad: &str) {
    use sha2::{Digest, Sha256};
    let double = fs::read(double()).unwrap();
    for (product, version, honest) in [
        ("consul", consul, true),
        ("nomad", nomad, true),
        ("nomad", "9.9.9", false),
    ] {
        let dir = root.join(product).join(version);
        fs::create_dir_all(&dir).unwrap();
        let zip_name = release_zip(product, version);
        let mut zip = zip::ZipWriter::new(fs::File::create(dir.join(&zip_name)).unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .unix_permissions(0o755);
        zip.start_file(product, options).unwrap();
        zip.write_all(&double).unwrap();
        zip.finish().unwrap();
        let bytes = fs::read(dir.join(&zip_name)).unwrap();
        let mut sum: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if !honest {
            sum = sum.replace(&sum[..1], if &sum[..1] == "0" { "1" } else { "0" });
        }
        fs::write(
            dir.join(format!("{product}_{version}_SHA256SUMS")),
            format!("{sum}  {zip_name}\n{}  other.zip\n", "ab".repeat(32)),
        )
        .unwrap();
    }
}

/// Serves `root` over plain HTTP on the lab bridge until the test ends.
fn serve(root: PathBuf, address: &str) -> String {
    let listener = std::net::TcpListener::bind((address, 0)).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let root = root.clone();
            std::thread::spawn(move || serve_one(stream, &root));
        }
    });
    url
}

fn serve_one(mut stream: TcpStream, root: &Path) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).map(|n| n == 1).unwrap_or(false) {
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("/");
    let file = root.join(path.trim_start_matches('/'));
    let response = match fs::read(&file) {
        Ok(body) if !path.contains("..") => {
            let mut r = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .into_bytes();
            r.extend(body);
            r
        }
        _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
    };
    let _ = stream.write_all(&response);
}

/// Without binaries to upload, hosts download the inventory's versions
/// from the release site (here a mirror on the lab bridge), check them
/// against SHA256SUMS, and a re-run finds the version installed. A sum
/// that does not match fails the host and leaves its binary alone.
fn downloads_are_checked(lab: &Lab, dir: &Path, inventory: &Value) {
    let missing: Vec<&str> = ["curl", "unzip"]
        .into_iter()
        .filter(|c| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {c} >/dev/null")])
                .status()
                .is_ok_and(|s| s.success())
        })
        .collect();
    if !missing.is_empty() {
        println!("provision_lab: download checks skipped: {} missing on this machine (lab hosts have no package mirror)", missing.join(", "));
        return;
    }
    let version = |product: &str| {
        let out = Command::new(double())
            .args([product, "version"])
            .output()
            .unwrap();
        let first = String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        first.split_once(" v").map(|(_, v)| v.to_string()).unwrap()
    };
    let (consul, nomad) = (version("consul"), version("nomad"));
    let mirror = dir.join("mirror");
    make_mirror(&mirror, &consul, &nomad);
    let url = serve(mirror, &format!("{SUBNET}.1"));

    // The hosts run the double under its real names: give it a new
    // identity (its bytes differ from the uploaded one) by versions only.
    let mut inv = inventory.clone();
    inv["consul"]["version"] = json!(consul);
    inv["nomad"] = json!({"version": nomad});
    let path = write_inventory(dir, "download.json", &inv);
    let args = ["--releases-url", url.as_str()];
    let (out, facts) = provision_downloading(&path, &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // The uploaded double already answers `version` as these versions:
    // nothing to download.
    assert!(
        results(&facts).iter().all(|(_, r)| r == "unchanged"),
        "{facts}"
    );

    // A version not installed: downloaded, checked, installed, restarted.
    for name in NAMES {
        // Replaced, not rewritten: the running agent keeps its file.
        lab.ssh(
            name,
            "sudo sh -c 'rm /usr/local/bin/consul && printf \"#!/bin/sh\\necho Consul v0.0.1\\n\" >/usr/local/bin/consul && chmod 755 /usr/local/bin/consul'",
        );
    }
    let (out, facts) = provision_downloading(&path, &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for name in NAMES {
        assert_eq!(
            changes(&facts, name),
            [
                format!("install consul {consul} ({url}, SHA256SUMS verified)"),
                "restart consul".into()
            ]
        );
        assert_eq!(
            fs::read(lab.host_path(name, "/usr/local/bin/consul")).unwrap(),
            fs::read(double()).unwrap()
        );
    }
    let (out, facts) = provision_downloading(&path, &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        results(&facts).iter().all(|(_, r)| r == "unchanged"),
        "{facts}"
    );

    // A sum that does not match: refused, the installed binary kept.
    inv["nomad"] = json!({"version": "9.9.9"});
    let path = write_inventory(dir, "download.json", &inv);
    let before = fs::read(lab.host_path("prov1", "/usr/local/bin/nomad")).unwrap();
    let (out, facts) = provision_downloading(&path, &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let error = host(&facts, "prov1")["error"].as_str().unwrap_or_default();
    assert!(error.contains("does not match SHA256SUMS"), "{error}");
    assert_eq!(
        fs::read(lab.host_path("prov1", "/usr/local/bin/nomad")).unwrap(),
        before
    );
}
