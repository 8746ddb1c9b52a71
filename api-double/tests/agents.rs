//! Agent doubles federating over real TCP on 127.0.0.x addresses (Linux routes all of
//! 127/8 to the loopback interface). Each test uses its own addresses so tests can run
//! in parallel; every wait has a deadline.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

mod agent_support;

use agent_support::{get_json, wait_for};
use api_double::agent::{AgentConfig, AgentDouble, ConsulRole, NomadRole};
use serde_json::Value;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// `(status, body)` of one request (`Connection: close`, 5 s timeout).
fn call(method: &str, url: &str, token: Option<(&str, &str)>) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut s = TcpStream::connect(host).unwrap_or_else(|e| panic!("connect {host}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let auth = token.map_or(String::new(), |(h, t)| format!("{h}: {t}\r\n"));
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("response head");
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

fn nomad_server(name: &str, addr: &str, region: &str) -> AgentDouble {
    AgentDouble::start(
        AgentConfig::new(name, ip(addr))
            .with_nomad(NomadRole::server(region, &format!("{region}-dc"))),
    )
    .unwrap()
}

fn nomad_url(a: &AgentDouble) -> String {
    a.nomad_address().unwrap()
}

fn consul_url(a: &AgentDouble) -> String {
    a.consul_address().unwrap()
}

/// `name -> status` of the Nomad members an agent lists.
fn nomad_members(a: &AgentDouble) -> Vec<(String, String)> {
    let v = get_json(&format!("{}/v1/agent/members", nomad_url(a)));
    v["Members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["Name"].as_str().unwrap().to_string(),
                m["Status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn nomad_servers_of_two_regions_federate_and_fail() {
    let eu1 = nomad_server("eu-1", "127.0.0.11", "europe");
    let eu2 = nomad_server("eu-2", "127.0.0.12", "europe");
    let eu3 = nomad_server("eu-3", "127.0.0.13", "europe");
    let mut us1 = nomad_server("us-1", "127.0.0.14", "us");
    let (status, body) = call(
        "PUT",
        &format!(
            "{}/v1/agent/join?address=127.0.0.12&address=127.0.0.13:4648",
            nomad_url(&eu1)
        ),
        None,
    );
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["num_joined"], 2, "{body}");
    assert_eq!(v["error"], "");
    let (_, body) = call(
        "PUT",
        &format!("{}/v1/agent/join?address=127.0.0.11:4648", nomad_url(&us1)),
        None,
    );
    assert!(body.contains("\"num_joined\":1"), "{body}");

    let all = [&eu1, &eu2, &eu3, &us1];
    for a in all {
        wait_for(3, "4 alive members and 2 regions everywhere", || {
            let members = nomad_members(a);
            let regions = get_json(&format!("{}/v1/regions", nomad_url(a)));
            (members.len() == 4
                && members.iter().all(|(_, s)| s == "alive")
                && regions == serde_json::json!(["europe", "us"]))
            .then_some(())
        });
        let leader_eu = get_json(&format!("{}/v1/status/leader?region=europe", nomad_url(a)));
        assert_eq!(leader_eu, "127.0.0.11:4647");
        let leader_us = get_json(&format!("{}/v1/status/leader?region=us", nomad_url(a)));
        assert_eq!(leader_us, "127.0.0.14:4647");
    }
    let peers = get_json(&format!("{}/v1/status/peers", nomad_url(&eu2)));
    assert_eq!(
        peers,
        serde_json::json!(["127.0.0.11:4647", "127.0.0.12:4647", "127.0.0.13:4647"])
    );
    let me = get_json(&format!("{}/v1/agent/self", nomad_url(&eu1)));
    assert_eq!(me["config"]["Region"], "europe");
    assert_eq!(me["config"]["Server"]["Enabled"], true);
    assert_eq!(me["stats"]["nomad"]["leader"], "true");
    assert_eq!(me["stats"]["nomad"]["known_regions"], "2");
    let (status, body) = call(
        "GET",
        &format!("{}/v1/status/leader?region=mars", nomad_url(&eu1)),
        None,
    );
    assert_eq!((status, body.as_str()), (500, "No path to region"));

    us1.stop();
    for a in [&eu1, &eu2, &eu3] {
        wait_for(4, "us-1 failed", || {
            nomad_members(a)
                .iter()
                .any(|(n, s)| n == "us-1.us" && s == "failed")
                .then_some(())
        });
        let leader_us = get_json(&format!("{}/v1/status/leader?region=us", nomad_url(a)));
        assert_eq!(leader_us, "");
        let regions = get_json(&format!("{}/v1/regions", nomad_url(a)));
        assert_eq!(regions, serde_json::json!(["europe", "us"]));
    }
}

#[test]
fn nomad_join_failures() {
    let server = nomad_server("s", "127.0.0.21", "global");
    let (status, body) = call(
        "PUT",
        &format!("{}/v1/agent/join?address=127.0.0.29", nomad_url(&server)),
        None,
    );
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["num_joined"], 0);
    assert_eq!(
        v["error"],
        "1 error occurred:\n\t* Failed to join 127.0.0.29:4648: dial tcp 127.0.0.29:4648: connect: connection refused\n\n"
    );
    let (status, _) = call(
        "PUT",
        &format!("{}/v1/agent/join", nomad_url(&server)),
        None,
    );
    assert_eq!(status, 400);
    let (status, _) = call(
        "GET",
        &format!("{}/v1/agent/join?address=x", nomad_url(&server)),
        None,
    );
    assert_eq!(status, 405);

    let client = AgentDouble::start(
        AgentConfig::new("c", ip("127.0.0.22")).with_nomad(NomadRole::client("global", "dc1")),
    )
    .unwrap();
    let (status, body) = call(
        "PUT",
        &format!("{}/v1/agent/join?address=127.0.0.21", nomad_url(&client)),
        None,
    );
    assert_eq!((status, body.as_str()), (501, "Invalid method"));
}

#[test]
fn nomad_nodes_lists_the_region_clients_that_joined() {
    let eu = AgentDouble::start(
        AgentConfig::new("eu", ip("127.0.0.31"))
            .with_nomad(NomadRole::server("europe", "eu-west-1").with_acl_token("secret")),
    )
    .unwrap();
    let _us = AgentDouble::start(
        AgentConfig::new("us", ip("127.0.0.34"))
            .with_nomad(NomadRole::server("us", "us-east-1").with_retry_join(&["127.0.0.31"])),
    )
    .unwrap();
    let mut client = NomadRole::client("europe", "eu-west-1").with_retry_join(&["127.0.0.31"]);
    client.node_class = "web".into();
    let mut eu_client =
        AgentDouble::start(AgentConfig::new("worker-1", ip("127.0.0.32")).with_nomad(client))
            .unwrap();
    let _us_client = AgentDouble::start(
        AgentConfig::new("worker-2", ip("127.0.0.33"))
            .with_nomad(NomadRole::client("us", "us-east-1").with_retry_join(&["127.0.0.34:4646"])),
    )
    .unwrap();
    let url = format!("{}/v1/nodes", nomad_url(&eu));
    let (status, body) = call("GET", &url, None);
    assert_eq!((status, body.as_str()), (403, "Permission denied"));
    let token = Some(("X-Nomad-Token", "secret"));
    let nodes = |token| -> Value { serde_json::from_str(&call("GET", &url, token).1).unwrap() };
    // worker-2 reaches eu's view by gossip from us, a moment after us
    // itself knows it.
    let eu_view_of_us = || -> Value {
        let url = format!("{}/v1/nodes?region=us", nomad_url(&eu));
        serde_json::from_str(&call("GET", &url, token).1).unwrap()
    };
    wait_for(4, "worker-1 ready, worker-2 known in the region us", || {
        let n = nodes(token);
        let us_nodes = get_json(&format!("{}/v1/nodes", nomad_url(&_us)));
        (n.as_array().is_some_and(|a| a.len() == 1)
            && n[0]["Status"] == "ready"
            && us_nodes.as_array().is_some_and(|a| a.len() == 1)
            && eu_view_of_us().as_array().is_some_and(|a| a.len() == 1))
        .then_some(())
    });
    let n = nodes(token);
    assert_eq!(n[0]["Name"], "worker-1");
    assert_eq!(n[0]["NodeClass"], "web");
    assert_eq!(n[0]["Datacenter"], "eu-west-1");
    assert_eq!(n[0]["Address"], "127.0.0.32");
    let (status, body) = call(
        "GET",
        &format!("{}/v1/nodes?region=us&pretty", nomad_url(&eu)),
        token,
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\n  {"), "pretty: {body}");
    let us_nodes: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(us_nodes.as_array().map(Vec::len), Some(1), "{us_nodes}");
    assert_eq!(us_nodes[0]["Name"], "worker-2");
    // Server members list servers only.
    let members = get_json(&format!("{}/v1/agent/members", nomad_url(&_us)));
    assert_eq!(members["Members"].as_array().unwrap().len(), 2);
    // Status stays open under ACLs.
    assert_eq!(
        get_json(&format!("{}/v1/status/leader", nomad_url(&eu))),
        "127.0.0.31:4647"
    );

    eu_client.stop();
    wait_for(4, "worker-1 down", || {
        (nodes(token)[0]["Status"] == "down").then_some(())
    });
}

fn consul_server(name: &str, addr: &str, dc: &str) -> AgentDouble {
    AgentDouble::start(AgentConfig::new(name, ip(addr)).with_consul(ConsulRole::server(dc)))
        .unwrap()
}

#[test]
fn consul_wan_federation() {
    let gce = consul_server("gce-1", "127.0.0.41", "gce-west1");
    let france = consul_server("fr-1", "127.0.0.42", "france");
    let _aws = AgentDouble::start(
        AgentConfig::new("aws-1", ip("127.0.0.43"))
            .with_consul(ConsulRole::server("aws-west2").with_retry_join_wan(&["127.0.0.42"])),
    )
    .unwrap();
    let (status, body) = call(
        "PUT",
        &format!("{}/v1/agent/join/127.0.0.41?wan=1", consul_url(&france)),
        None,
    );
    assert_eq!((status, body.as_str()), (200, ""));
    let expected = [
        ("gce-west1", &gce),
        ("france", &france),
        ("aws-west2", &_aws),
    ];
    for (dc, a) in expected {
        wait_for(4, "3 datacenters and 3 alive WAN members", || {
            let dcs = get_json(&format!("{}/v1/catalog/datacenters", consul_url(a)));
            let wan = get_json(&format!("{}/v1/agent/members?wan=1", consul_url(a)));
            let wan = wan.as_array().unwrap().clone();
            (dcs.as_array().is_some_and(|d| d.len() == 3)
                && wan.len() == 3
                && wan.iter().all(|m| m["Status"] == 1))
            .then_some(())
        });
        let dcs = get_json(&format!("{}/v1/catalog/datacenters", consul_url(a)));
        let mut others: Vec<&str> = ["aws-west2", "france", "gce-west1"]
            .into_iter()
            .filter(|d| *d != dc)
            .collect();
        others.insert(0, dc);
        assert_eq!(dcs, serde_json::json!(others));
        let lan = get_json(&format!("{}/v1/agent/members", consul_url(a)));
        assert_eq!(lan.as_array().unwrap().len(), 1);
    }
    let wan = get_json(&format!("{}/v1/agent/members?wan=1", consul_url(&gce)));
    let names: Vec<&str> = wan
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["aws-1.aws-west2", "fr-1.france", "gce-1.gce-west1"]);
    assert_eq!(wan[0]["Port"], 8302);
    assert_eq!(wan[0]["Tags"]["role"], "consul");
    assert_eq!(
        get_json(&format!("{}/v1/status/leader", consul_url(&gce))),
        "127.0.0.41:8300"
    );
    assert_eq!(
        get_json(&format!("{}/v1/status/leader?dc=france", consul_url(&gce))),
        "127.0.0.42:8300"
    );
    let me = get_json(&format!("{}/v1/agent/self", consul_url(&gce)));
    assert_eq!(me["Config"]["Datacenter"], "gce-west1");
    assert_eq!(me["Config"]["Server"], true);
    assert_eq!(me["DebugConfig"]["AdvertiseAddrWAN"], "127.0.0.41");

    // A join to an address where nothing listens fails with the address in the error.
    let (status, body) = call(
        "PUT",
        &format!("{}/v1/agent/join/127.0.0.49?wan=1", consul_url(&gce)),
        None,
    );
    assert_eq!(status, 500);
    assert_eq!(
        body,
        "1 error occurred:\n\t* Failed to join 127.0.0.49:8302: dial tcp 127.0.0.49:8302: connect: connection refused\n\n"
    );
    let (status, body) = call(
        "GET",
        &format!("{}/v1/agent/join/127.0.0.42", consul_url(&gce)),
        None,
    );
    assert_eq!((status, body.as_str()), (405, "method GET not allowed"));

    // A client joins the LAN; it cannot join the WAN and has no WAN pool.
    let client = AgentDouble::start(
        AgentConfig::new("gce-client", ip("127.0.0.44"))
            .with_consul(ConsulRole::client("gce-west1").with_retry_join(&["127.0.0.41"])),
    )
    .unwrap();
    let (status, body) = call(
        "PUT",
        &format!("{}/v1/agent/join/127.0.0.42?wan=1", consul_url(&client)),
        None,
    );
    assert_eq!(
        (status, body.as_str()),
        (500, "Must be a server to join WAN cluster")
    );
    assert_eq!(
        get_json(&format!("{}/v1/agent/members?wan=1", consul_url(&client))),
        Value::Null
    );
    wait_for(4, "client in the LAN pool of gce-west1", || {
        let lan = get_json(&format!("{}/v1/agent/members", consul_url(&gce)));
        lan.as_array()
            .unwrap()
            .iter()
            .any(|m| m["Name"] == "gce-client" && m["Status"] == 1 && m["Tags"]["role"] == "node")
            .then_some(())
    });
    // The client's own view of the servers follows by gossip.
    wait_for(4, "the client's leader is gce's server", || {
        let leader = get_json(&format!("{}/v1/status/leader", consul_url(&client)));
        (leader == "127.0.0.41:8300").then_some(())
    });
    let me = get_json(&format!("{}/v1/agent/self", consul_url(&client)));
    assert_eq!(me["Config"]["Server"], false);
    wait_for(3, "the client lists every datacenter", || {
        let dcs = get_json(&format!("{}/v1/catalog/datacenters", consul_url(&client)));
        (dcs == serde_json::json!(["gce-west1", "aws-west2", "france"])).then_some(())
    });
}

#[test]
fn consul_gossip_keys_must_match() {
    let mut a = ConsulRole::server("dc1");
    a.encrypt = Some("a2V5LW9uZQ==".into());
    let mut b = ConsulRole::server("dc2");
    b.encrypt = Some("a2V5LXR3bw==".into());
    let a = AgentDouble::start(AgentConfig::new("a", ip("127.0.0.61")).with_consul(a)).unwrap();
    let _b = AgentDouble::start(AgentConfig::new("b", ip("127.0.0.62")).with_consul(b)).unwrap();
    let (status, body) = call(
        "PUT",
        &format!("{}/v1/agent/join/127.0.0.62?wan=1", consul_url(&a)),
        None,
    );
    assert_eq!(status, 500);
    assert!(body.contains("Failed to join 127.0.0.62:8302"), "{body}");
    let me = get_json(&format!("{}/v1/agent/self", consul_url(&a)));
    assert_eq!(me["DebugConfig"]["EncryptKey"], "hidden");
    assert_eq!(me["Stats"]["serf_wan"]["encrypted"], "true");
}

/// A child process killed on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("agent-double-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts the binary and waits (10 s at most) for its `ready <url>` line.
fn spawn_binary(args: &[&str]) -> (Proc, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_agent-double"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut proc = Proc(child);
    let stdout = proc.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("ready line");
    let url = line
        .trim()
        .strip_prefix("ready ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    (proc, url)
}

#[test]
fn binary_runs_agents_from_config_files() {
    let peer = nomad_server("peer", "127.0.0.52", "us");
    let dir = temp_dir("nomad");
    std::fs::write(
        dir.join("nomad.hcl"),
        r#"
name       = "lab-eu-1"
region     = "europe"
datacenter = "eu-west-1"
data_dir   = "/opt/nomad/data"
bind_addr  = "127.0.0.51"
ports {
  http = 4646
  rpc  = 4647
  serf = 4648
}
server {
  enabled          = true
  bootstrap_expect = 1
  server_join {
    retry_join = ["127.0.0.52"]
  }
}
telemetry { publish_allocation_metrics = true }
"#,
    )
    .unwrap();
    std::fs::write(dir.join("zz-extra.json"), r#"{"datacenter": "eu-west-2"}"#).unwrap();
    let (_nomad, url) = spawn_binary(&["nomad", "agent", "-config", dir.to_str().unwrap()]);
    assert_eq!(url, "http://127.0.0.51:4646");
    let me = get_json(&format!("{url}/v1/agent/self"));
    assert_eq!(me["config"]["Region"], "europe");
    assert_eq!(me["config"]["Datacenter"], "eu-west-2");
    wait_for(4, "the binary's server in the peer's pool", || {
        let regions = get_json(&format!("{}/v1/regions", nomad_url(&peer)));
        (regions == serde_json::json!(["europe", "us"])
            && nomad_members(&peer)
                .iter()
                .any(|(n, s)| n == "lab-eu-1.europe" && s == "alive"))
        .then_some(())
    });

    let consul_peer = consul_server("c-peer", "127.0.0.54", "aws-west2");
    let dir = temp_dir("consul");
    std::fs::write(
        dir.join("consul.hcl"),
        r#"
node_name          = "lab-gce-1"
datacenter         = "gce-west1"
bind_addr          = "127.0.0.53"
client_addr        = "127.0.0.53"
advertise_addr_wan = "127.0.0.53"
server             = true
bootstrap_expect   = 1
retry_join_wan     = ["127.0.0.54"]
ui_config { enabled = true }
"#,
    )
    .unwrap();
    let (_consul, url) = spawn_binary(&["consul", "agent", "-config-dir", dir.to_str().unwrap()]);
    assert_eq!(url, "http://127.0.0.53:8500");
    wait_for(4, "two datacenters on both sides", || {
        let here = get_json(&format!("{url}/v1/catalog/datacenters"));
        let there = get_json(&format!(
            "{}/v1/catalog/datacenters",
            consul_url(&consul_peer)
        ));
        (here == serde_json::json!(["gce-west1", "aws-west2"])
            && there == serde_json::json!(["aws-west2", "gce-west1"]))
        .then_some(())
    });
    let me = get_json(&format!("{url}/v1/agent/self"));
    assert_eq!(me["Config"]["NodeName"], "lab-gce-1");
    assert_eq!(me["DebugConfig"]["EncryptKey"], "");
    let _ = std::fs::remove_dir_all(
        std::env::temp_dir().join(format!("agent-double-nomad-{}", std::process::id())),
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// `name -> status` of the Consul LAN members an agent lists.
fn lan_members(a: &AgentDouble) -> Vec<(String, u64)> {
    let v = get_json(&format!("{}/v1/agent/members", consul_url(a)));
    v.as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["Name"].as_str().unwrap().to_string(),
                m["Status"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn consul_lan_leave_rejoin_and_wrong_datacenter() {
    let a = AgentDouble::start(
        AgentConfig::new("a", ip("127.0.0.71"))
            .with_consul(ConsulRole::server("dc1").with_acl_token("t0k")),
    )
    .unwrap();
    let b_config = AgentConfig::new("b", ip("127.0.0.72"))
        .with_consul(ConsulRole::server("dc1").with_retry_join(&["127.0.0.71"]));
    let mut b = AgentDouble::start(b_config.clone()).unwrap();
    let token = Some(("X-Consul-Token", "t0k"));
    let url = format!("{}/v1/agent/members", consul_url(&a));
    assert_eq!(call("GET", &url, None), (403, "Permission denied".into()));
    assert_eq!(
        call("GET", &url, Some(("X-Consul-Token", "nope"))),
        (403, "ACL not found".into())
    );
    let members = |token| -> Value { serde_json::from_str(&call("GET", &url, token).1).unwrap() };
    let status_of_b = |token| {
        members(token).as_array().and_then(|l| {
            l.iter()
                .find(|m| m["Name"] == "b")
                .map(|m| m["Status"].clone())
        })
    };
    wait_for(4, "b alive in a's LAN view", || {
        (status_of_b(token) == Some(1.into())).then_some(())
    });
    // Status stays open; the leader is the lowest-named alive server
    // (once b's own view has a alive).
    wait_for(4, "b's leader is a, with both peers", || {
        let leader = get_json(&format!("{}/v1/status/leader", consul_url(&b)));
        let peers = get_json(&format!("{}/v1/status/peers", consul_url(&b)));
        (leader == "127.0.0.71:8300"
            && peers == serde_json::json!(["127.0.0.71:8300", "127.0.0.72:8300"]))
        .then_some(())
    });

    b.leave();
    wait_for(2, "b left", || {
        (status_of_b(token) == Some(3.into())).then_some(())
    });
    let b = AgentDouble::start(b_config).unwrap();
    wait_for(4, "b alive again, in a's view and its own", || {
        (status_of_b(token) == Some(1.into()) && lan_members(&b).len() == 2).then_some(())
    });

    let other = AgentDouble::start(
        AgentConfig::new("x", ip("127.0.0.73")).with_consul(ConsulRole::client("dc2")),
    )
    .unwrap();
    let (status, body) = call(
        "PUT",
        &format!("{}/v1/agent/join/127.0.0.71", consul_url(&other)),
        None,
    );
    assert_eq!(status, 500);
    assert!(body.contains("part of wrong datacenter"), "{body}");
    assert_eq!(lan_members(&other).len(), 1);
}
