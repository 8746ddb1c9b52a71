//! `consul-wan-check` end to end against a small fake Consul agent written
//! here: a std `TcpListener` thread answering the four endpoints the tool
//! uses and recording every request.

use std::io::{BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde::Deserialize;
use serde_json::{json, Value};

/// A request as the fake agent saw it.
type Seen = api_double::RecordedRequest;

const TOKEN: &str = "8f2c1e6a-wan-check-secret";

// ------------------------------------------------------------ fake agent

/// The answer to a join of an address: status, body and WAN members the
/// join adds.
type JoinFn = Arc<dyn Fn(&str) -> (u16, String, Vec<Value>) + Send + Sync>;

/// What the fake agent knows; joins may change it.
#[derive(Clone)]
struct Agent {
    agent_self: Value,
    wan: Value,
    lan: Value,
    catalog: Value,
    /// How joins are answered.
    join: JoinFn,
}

struct Fake {
    addr: String,
    log: Arc<Mutex<Vec<Seen>>>,
    state: Arc<Mutex<Agent>>,
    tls: bool,
}

fn tls_config(pki: &api_double::TestPki, require_client_cert: bool) -> rustls::ServerConfig {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(pki.server_cert_pem.as_bytes())
            .map(|c| c.unwrap())
            .collect();
    let key = PrivateKeyDer::from_pem_slice(pki.server_key_pem.as_bytes()).unwrap();
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = if require_client_cert {
        let mut roots = rustls::RootCertStore::empty();
        for ca in CertificateDer::pem_slice_iter(pki.ca_cert_pem.as_bytes()) {
            roots.add(ca.unwrap()).unwrap();
        }
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    builder.with_single_cert(certs, key).unwrap()
}

impl Fake {
    fn start(agent: Agent) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let log = Arc::new(Mutex::new(Vec::new()));
        let state = Arc::new(Mutex::new(agent));
        let (l, s) = (log.clone(), state.clone());
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (l, s) = (l.clone(), s.clone());
                thread::spawn(move || serve(stream, &l, &s));
            }
        });
        Fake {
            addr,
            log,
            state,
            tls: false,
        }
    }

    /// The same fake behind TLS (rustls), with the test PKI's server
    /// certificate; with `require_client_cert`, mutual TLS.
    fn start_tls(agent: Agent, pki: &api_double::TestPki, require_client_cert: bool) -> Fake {
        let config = Arc::new(tls_config(pki, require_client_cert));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let log = Arc::new(Mutex::new(Vec::new()));
        let state = Arc::new(Mutex::new(agent));
        let (l, s) = (log.clone(), state.clone());
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (l, s, config) = (l.clone(), s.clone(), config.clone());
                thread::spawn(move || {
                    let Ok(conn) = rustls::ServerConnection::new(config) else {
                        return;
                    };
                    serve(rustls::StreamOwned::new(conn, stream), &l, &s);
                });
            }
        });
        Fake {
            addr,
            log,
            state,
            tls: true,
        }
    }

    fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    fn requests(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }

    fn count(&self, path: &str) -> usize {
        self.requests().iter().filter(|r| r.path == path).count()
    }
}

fn answer(seen: &Seen, state: &Mutex<Agent>) -> (u16, String) {
    let mut agent = state.lock().unwrap();
    let wan = seen.query_value("wan") == Some("1");
    match (seen.method.as_str(), seen.path.as_str()) {
        ("GET", "/v1/agent/self") => (200, agent.agent_self.to_string()),
        ("GET", "/v1/agent/members") if wan => (200, agent.wan.to_string()),
        ("GET", "/v1/agent/members") => (200, agent.lan.to_string()),
        ("GET", "/v1/catalog/datacenters") => (200, agent.catalog.to_string()),
        ("PUT", path) if path.starts_with("/v1/agent/join/") => {
            let address = &path["/v1/agent/join/".len()..];
            let (status, body, added) = (agent.join)(address);
            if let Value::Array(members) = &mut agent.wan {
                members.extend(added);
            }
            (status, body)
        }
        (method, _) => (405, format!("method {method} not allowed")),
    }
}

fn serve(stream: impl Read + Write, log: &Mutex<Vec<Seen>>, state: &Mutex<Agent>) {
    let mut reader = BufReader::new(stream);
    let Some(seen) = Seen::read_from(&mut reader) else {
        return;
    };
    let mut stream = reader.into_inner();
    log.lock().unwrap().push(seen.clone());
    let (status, body) = answer(&seen, state);
    let kind = if status == 200 {
        "application/json"
    } else {
        "text/plain; charset=utf-8"
    };
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
}

fn member(name: &str, dc: &str, addr: &str, status: u8) -> Value {
    json!({
        "Name": name, "Addr": addr, "Port": 8302,
        "Tags": {"role": "consul", "dc": dc, "port": "8300", "segment": "", "vsn": "2"},
        "Status": status, "ProtocolMin": 1, "ProtocolMax": 5, "ProtocolCur": 2,
        "DelegateMin": 2, "DelegateMax": 5, "DelegateCur": 4
    })
}

fn lan_member(name: &str, addr: &str, status: u8) -> Value {
    json!({"Name": name, "Addr": addr, "Port": 8301,
           "Tags": {"role": "node", "dc": "dc1"}, "Status": status})
}

fn agent_self(dc: &str, node: &str, server: bool) -> Value {
    json!({
        "Config": {"Datacenter": dc, "PrimaryDatacenter": "dc1", "NodeName": node,
                   "NodeID": "9d754d17-d864-b1d3-e758-f3fe25a9874f", "Revision": "deadbeef",
                   "Server": server, "Version": "1.21.0", "BuildDate": "2024-01-01T00:00:00Z"},
        "DebugConfig": {}, "Coord": {"Adjustment": 0, "Error": 1.5, "Vec": [0, 0]},
        "Member": {"Name": node, "Addr": "10.1.10.12", "Port": 8301, "Tags": {"dc": dc}, "Status": 1},
        "Meta": {}
    })
}

/// The fixtures' federation: dc1 and dc2 alive, dc3 failed, catalog dc1-dc3.
fn three_dcs() -> Agent {
    Agent {
        agent_self: agent_self("dc1", "foobar", true),
        wan: json!([
            member("foobar.dc1", "dc1", "10.1.10.12", 1),
            member("baz.dc2", "dc2", "10.2.10.11", 1),
            member("qux.dc3", "dc3", "10.3.10.13", 4),
        ]),
        lan: json!([lan_member("foobar", "10.1.10.12", 1)]),
        catalog: json!(["dc1", "dc2", "dc3"]),
        join: Arc::new(|_| (200, String::new(), vec![])),
    }
}

// ---------------------------------------------------------------- output

/// The exact output shape: unknown keys are an error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Report {
    datacenters: Vec<String>,
    members: Vec<MemberOut>,
    missing_datacenters: Vec<String>,
    failed_members: Vec<String>,
    warnings: Vec<String>,
    healthy: bool,
    #[serde(default)]
    lan_members: Option<Vec<MemberOut>>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct MemberOut {
    name: String,
    address: String,
    datacenter: String,
    status: String,
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Run {
    fn report(&self) -> Report {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not a report ({e}): {}", self.stdout))
    }
}

fn run(fake_url: &str, args: &[&str], stdin: &str) -> Run {
    run_env(fake_url, args, stdin, &[("CONSUL_HTTP_TOKEN", TOKEN)])
}

fn run_env(fake_url: &str, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::cargo_bin("consul-wan-check").unwrap();
    cmd.env_clear()
        .args(["--http-addr", fake_url, "--compact"])
        .args(args)
        .write_stdin(stdin.as_bytes().to_vec())
        .timeout(Duration::from_secs(60));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

fn assert_token_everywhere_and_never_printed(fake: &Fake, run: &Run) {
    let requests = fake.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        assert_eq!(
            r.header("x-consul-token"),
            Some(TOKEN),
            "{} {}",
            r.method,
            r.raw_path
        );
    }
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));
}

// ----------------------------------------------------------------- tests

#[test]
fn healthy_federation_exits_0_with_the_exact_json() {
    let fake = Fake::start(three_dcs());
    let run = run(&fake.url(), &["--expect-dc", "dc2", "--wait", "5s"], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report();
    assert!(report.healthy);
    assert_eq!(report.datacenters, ["dc1", "dc2", "dc3"]);
    assert!(report.missing_datacenters.is_empty());
    assert_eq!(report.failed_members, ["qux.dc3"]);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert!(report.lan_members.is_none());
    assert!(!run.stdout.contains("lan_members"));
    assert_eq!(
        report.members[0],
        MemberOut {
            name: "foobar.dc1".into(),
            address: "10.1.10.12:8302".into(),
            datacenter: "dc1".into(),
            status: "alive".into(),
        }
    );
    let statuses: Vec<&str> = report.members.iter().map(|m| m.status.as_str()).collect();
    assert_eq!(statuses, ["alive", "alive", "failed"]);
    assert_token_everywhere_and_never_printed(&fake, &run);
    // No join was asked for: none was sent.
    assert!(fake.requests().iter().all(|r| r.method == "GET"));
}

#[test]
fn a_datacenter_all_failed_is_unhealthy_while_still_in_the_catalog() {
    let fake = Fake::start(three_dcs());
    let run = run(&fake.url(), &["--expect-dc", "dc2,dc3", "--wait", "1s"], "");
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.report();
    assert!(!report.healthy);
    assert!(report.datacenters.contains(&"dc3".to_string()));
    assert_eq!(report.missing_datacenters, ["dc3"]);
    assert_eq!(report.failed_members, ["qux.dc3"]);
    assert!(run.stderr.contains("qux.dc3 failed"), "{}", run.stderr);
    assert_token_everywhere_and_never_printed(&fake, &run);
}

#[test]
fn without_expectations_every_catalog_datacenter_is_checked() {
    let fake = Fake::start(three_dcs());
    let run = run(&fake.url(), &["--wait", "1s"], "");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.report().missing_datacenters, ["dc3"]);
}

#[test]
fn a_missing_datacenter_exits_1() {
    let fake = Fake::start(three_dcs());
    let run = run(&fake.url(), &["--expect-dc", "dc4", "--wait", "1s"], "");
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.report();
    assert_eq!(report.missing_datacenters, ["dc4"]);
    assert!(
        run.stderr.contains("datacenter dc4") && run.stderr.contains("not in /v1/catalog"),
        "{}",
        run.stderr
    );
}

#[test]
fn wait_is_honoured_and_the_check_polls() {
    let fake = Fake::start(three_dcs());
    let run = run(&fake.url(), &["--expect-dc", "dc4", "--wait", "2s"], "");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.elapsed >= Duration::from_secs(2), "{:?}", run.elapsed);
    assert!(run.elapsed < Duration::from_secs(4), "{:?}", run.elapsed);
    assert!(fake.count("/v1/catalog/datacenters") >= 3);
    assert!(
        run.stderr.contains("not healthy after 2s"),
        "{}",
        run.stderr
    );
}

#[test]
fn expect_servers_counts_alive_servers_per_datacenter() {
    let fake = Fake::start(three_dcs());
    let run = run(
        &fake.url(),
        &[
            "--expect-dc",
            "dc2",
            "--expect-servers",
            "2",
            "--wait",
            "1s",
        ],
        "",
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.report().missing_datacenters, ["dc1", "dc2"]);
}

#[test]
fn joins_are_sent_as_given_then_the_federation_converges() {
    let mut agent = three_dcs();
    agent.wan = json!([member("foobar.dc1", "dc1", "10.1.10.12", 1)]);
    agent.catalog = json!(["dc1"]);
    agent.join = Arc::new(|address| {
        assert_eq!(address, "10.2.10.11");
        (
            200,
            String::new(),
            vec![member("baz.dc2", "dc2", "10.2.10.11", 1)],
        )
    });
    let fake = Fake::start(agent);
    // The catalog learns about dc2 a little after the join.
    let state = fake.state.clone();
    thread::spawn(move || {
        thread::sleep(Duration::from_millis(700));
        state.lock().unwrap().catalog = json!(["dc1", "dc2"]);
    });
    let run = run(
        &fake.url(),
        &[
            "--join",
            "10.2.10.11",
            "--expect-dc",
            "dc2",
            "--wait",
            "10s",
        ],
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let joins: Vec<Seen> = fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .collect();
    assert_eq!(joins.len(), 1);
    assert_eq!(joins[0].raw_path, "/v1/agent/join/10.2.10.11");
    assert_eq!(joins[0].query, [("wan".to_string(), "1".to_string())]);
    assert!(run.report().healthy);
    assert_token_everywhere_and_never_printed(&fake, &run);
}

#[test]
fn a_join_error_exits_1_naming_the_address_and_the_agent_text() {
    let mut agent = three_dcs();
    agent.join = Arc::new(|_| {
        (
            500,
            "1 error occurred:\n\t* Failed to join 10.0.0.9:8302: dial tcp 10.0.0.9:8302: connect: connection refused\n\n".into(),
            vec![],
        )
    });
    let fake = Fake::start(agent);
    let run = run(
        &fake.url(),
        &[
            "--join",
            "10.0.0.9:8302",
            "--expect-dc",
            "dc2",
            "--wait",
            "5s",
        ],
        "",
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let last = run.stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("consul-wan-check: WAN join failed: 10.0.0.9:8302: "),
        "{last}"
    );
    assert!(
        last.contains(
            "Failed to join 10.0.0.9:8302: dial tcp 10.0.0.9:8302: connect: connection refused"
        ),
        "{last}"
    );
    // The JSON is printed anyway, and not healthy; no waiting happened.
    assert!(!run.report().healthy);
    assert!(run.elapsed < Duration::from_secs(4));
    assert_eq!(fake.count("/v1/agent/join/10.0.0.9:8302"), 1);
    assert_token_everywhere_and_never_printed(&fake, &run);
}

#[test]
fn a_refused_join_exits_4() {
    let mut agent = three_dcs();
    agent.join = Arc::new(|_| (403, "Permission denied".into(), vec![]));
    let fake = Fake::start(agent);
    let run = run(&fake.url(), &["--join", "10.0.0.9"], "");
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("Permission denied"), "{}", run.stderr);
}

#[test]
fn a_client_agent_is_not_a_server() {
    let mut agent = three_dcs();
    agent.agent_self = agent_self("dc1", "web-1", false);
    agent.wan = Value::Null;
    let fake = Fake::start(agent);
    let run = run(&fake.url(), &["--expect-dc", "dc2", "--wait", "10s"], "");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("is not a server"), "{}", run.stderr);
    assert!(
        run.elapsed < Duration::from_secs(5),
        "no waiting for a client"
    );
    let report = run.report();
    assert!(!report.healthy && report.members.is_empty());

    // A server flag but no WAN pool (`null`) is not a server either.
    let mut agent = three_dcs();
    agent.wan = Value::Null;
    let fake = Fake::start(agent);
    let run = self::run(&fake.url(), &["--wait", "10s"], "");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("is not a server"), "{}", run.stderr);
}

#[test]
fn an_unreachable_agent_exits_5() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let run = run(&format!("http://127.0.0.1:{port}"), &["--wait", "1s"], "");
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(run.stderr.contains("connection refused"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
}

#[test]
fn a_hung_agent_times_out_with_exit_5_within_the_wait() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream); // accepted, never answered
        }
    });
    let run = run(&format!("http://{addr}"), &["--wait", "2s"], "");
    assert_eq!(run.code, 5, "{}", run.stderr);
    assert!(run.stderr.contains("timed out"), "{}", run.stderr);
    assert!(run.elapsed < Duration::from_secs(4), "{:?}", run.elapsed);
}

#[test]
fn bad_stdin_exits_3_and_sends_nothing() {
    let fake = Fake::start(three_dcs());
    let run = run(&fake.url(), &[], "{\"datacenter\": \"dc2\",\n  oops}");
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("<stdin>:2:"), "{}", run.stderr);
    assert!(fake.requests().is_empty());
    let run = self::run(&fake.url(), &[], "[1, 2]");
    assert_eq!(run.code, 3, "{}", run.stderr);
}

#[test]
fn facts_on_stdin_add_expected_datacenters_and_join_targets() {
    let mut agent = three_dcs();
    let joined = Arc::new(Mutex::new(Vec::<String>::new()));
    let j = joined.clone();
    agent.join = Arc::new(move |address| {
        j.lock().unwrap().push(address.to_string());
        (200, String::new(), vec![])
    });
    let fake = Fake::start(agent);
    let facts = r#"{"region": "europe", "datacenter": "dc1", "servers": ["10.1.10.12"], "future": 1}
{"region": "europe", "datacenter": "dc3", "servers": ["10.3.10.13", "10.3.10.14:9302"],
 "hosts": [{"name": "qux", "address": "10.3.10.13", "role": "server", "result": "changed"}]}"#;
    let run = run(
        &fake.url(),
        &["--join", "10.2.10.11", "--expect-dc", "dc2", "--wait", "1s"],
        facts,
    );
    // dc3 (from the facts) is expected and all failed.
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.report().missing_datacenters, ["dc3"]);
    // Flags as given, facts with :8302 added, the agent's own dc skipped.
    assert_eq!(
        *joined.lock().unwrap(),
        ["10.2.10.11", "10.3.10.13:8302", "10.3.10.14:9302"]
    );

    // --no-facts-join: expectations only.
    joined.lock().unwrap().clear();
    let run = self::run(&fake.url(), &["--no-facts-join", "--wait", "1s"], facts);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(joined.lock().unwrap().is_empty());
}

#[test]
fn empty_stdin_means_no_facts() {
    let fake = Fake::start(three_dcs());
    let run = run(&fake.url(), &["--expect-dc", "dc2"], "  \n");
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn warnings_private_wan_address_duplicates_and_encryption() {
    // dc2's agent, reachable through the facts' consul_http_addr: no gossip
    // encryption.
    let mut dc2 = three_dcs();
    dc2.agent_self = agent_self("dc2", "baz", true);
    dc2.agent_self["Stats"] = json!({"serf_wan": {"encrypted": "false"}});
    let dc2 = Fake::start(dc2);

    let mut agent = three_dcs();
    agent.agent_self["DebugConfig"] = json!({"AdvertiseAddrWAN": "10.1.10.12"});
    agent.agent_self["Stats"] = json!({"serf_wan": {"encrypted": "true"}});
    agent.wan = json!([
        member("foobar.dc1", "dc1", "10.1.10.12", 1),
        member("baz.dc2", "dc2", "34.2.10.11", 1),
        member("baz2.dc2", "dc2", "34.2.10.11", 1),
    ]);
    agent.catalog = json!(["dc1", "dc2"]);
    let fake = Fake::start(agent);
    let facts = json!({"datacenter": "dc2", "consul_http_addr": dc2.url()}).to_string();
    let run = run(&fake.url(), &["--no-facts-join", "--wait", "2s"], &facts);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.report();
    assert!(report.healthy);
    assert_eq!(report.warnings.len(), 3, "{:#?}", report.warnings);
    assert!(report.warnings[0].contains("private WAN address 10.1.10.12"));
    assert!(report.warnings[1]
        .contains("baz.dc2, baz2.dc2 advertise the same WAN address 34.2.10.11:8302"));
    assert!(report.warnings[2].contains("gossip encryption is on in dc1 and off in dc2"));
    for w in &report.warnings {
        assert!(run.stderr.contains(w.as_str()), "{}", run.stderr);
    }
    // The peer agent got the token too.
    assert_token_everywhere_and_never_printed(&dc2, &run);
}

#[test]
fn no_warning_when_everyone_is_private() {
    let fake = Fake::start(three_dcs());
    let run = run(&fake.url(), &["--expect-dc", "dc2"], "");
    assert!(run.report().warnings.is_empty());
}

#[test]
fn expect_lan_requires_alive_lan_members() {
    let mut agent = three_dcs();
    agent.lan = json!([
        lan_member("foobar", "10.1.10.12", 1),
        lan_member("web-1", "10.1.10.21", 1),
        lan_member("web-2", "10.1.10.22", 4),
    ]);
    let fake = Fake::start(agent);
    let ok = run(
        &fake.url(),
        &["--expect-dc", "dc2", "--expect-lan", "2"],
        "",
    );
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let lan = ok.report().lan_members.expect("lan_members");
    assert_eq!(lan.len(), 3);
    assert_eq!(
        lan[2],
        MemberOut {
            name: "web-2".into(),
            address: "10.1.10.22:8301".into(),
            datacenter: "dc1".into(),
            status: "failed".into(),
        }
    );
    let no = run(
        &fake.url(),
        &["--expect-dc", "dc2", "--expect-lan", "3", "--wait", "1s"],
        "",
    );
    assert_eq!(no.code, 1, "{}", no.stderr);
    assert!(
        no.stderr.contains("2 alive LAN member(s), 3 needed"),
        "{}",
        no.stderr
    );
}

#[test]
fn token_file_is_read_and_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, format!("{TOKEN}\n")).unwrap();
    let fake = Fake::start(three_dcs());
    let path = file.to_string_lossy().into_owned();
    let run = run_env(
        &fake.url(),
        &["--token-file", &path, "--expect-dc", "dc4", "--wait", "1s"],
        "",
        &[("CONSUL_HTTP_TOKEN", "other-token")],
    );
    assert_eq!(run.code, 1);
    assert_token_everywhere_and_never_printed(&fake, &run);
}

#[test]
fn usage_errors_exit_2() {
    let run = run("ftp://127.0.0.1:1", &[], "");
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("Unknown protocol scheme"),
        "{}",
        run.stderr
    );
    let run = self::run("127.0.0.1:1", &["--wait", "soon"], "");
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = self::run("127.0.0.1:1", &["--token", TOKEN], "");
    assert_eq!(run.code, 2);
}

#[test]
fn help_has_examples_and_no_token_flag() {
    let out = Command::cargo_bin("consul-wan-check")
        .unwrap()
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("Examples:") && help.contains("--join"));
    assert!(help.contains("--token-file") && !help.contains("--token "));
}

#[test]
fn tls_with_a_ca_and_a_client_certificate() {
    let pki = api_double::TestPki::new();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, pem: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, pem).unwrap();
        path.display().to_string()
    };
    let ca = write("ca.pem", &pki.ca_cert_pem);
    let cert = write("client.pem", &pki.client_cert_pem);
    let key = write("client-key.pem", &pki.client_key_pem);
    let fake = Fake::start_tls(three_dcs(), &pki, true);

    // Mutual TLS: the CA and a client certificate from the environment.
    let env = [
        ("CONSUL_CACERT", ca.as_str()),
        ("CONSUL_CLIENT_CERT", cert.as_str()),
        ("CONSUL_CLIENT_KEY", key.as_str()),
    ];
    let r = run_env(
        &fake.url(),
        &["--expect-dc", "dc1,dc2", "--wait", "1s"],
        "",
        &env,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);

    // A CA that did not sign the agent's certificate: refused, clearly.
    let other = api_double::TestPki::new();
    let wrong = write("other-ca.pem", &other.ca_cert_pem);
    let env = [
        ("CONSUL_CACERT", wrong.as_str()),
        ("CONSUL_CLIENT_CERT", cert.as_str()),
        ("CONSUL_CLIENT_KEY", key.as_str()),
    ];
    let r = run_env(&fake.url(), &["--wait", "1s"], "", &env);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("certificate"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
}
