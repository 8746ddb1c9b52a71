//! Helpers shared by the `agent_*` tests: a small HTTP client, polling with a deadline,
//! and starting agent doubles.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use api_double::agent::{AgentConfig, AgentDouble, ConsulRole, NomadRole};
use serde_json::Value;

/// `(status, headers, body)` of one request (`Connection: close`, 10 s timeout).
pub fn http(method: &str, url: &str, body: Option<&Value>) -> (u16, Vec<(String, String)>, String) {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut s = TcpStream::connect(host).unwrap_or_else(|e| panic!("connect {host}: {e}"));
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("response head");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, body.to_string())
}

/// GET `url`, expecting 200 and JSON.
pub fn get_json(url: &str) -> Value {
    let (status, _, body) = http("GET", url, None);
    assert_eq!(status, 200, "GET {url}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {url}: {e}: {body}"))
}

/// Polls `f` until it returns `Some`, for at most `secs` seconds.
pub fn wait_for<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(50));
    }
}

/// A Nomad agent double named `name` on `addr`.
pub fn nomad_agent(name: &str, addr: &str, role: NomadRole) -> AgentDouble {
    AgentDouble::start(AgentConfig::new(name, addr.parse().unwrap()).with_nomad(role))
        .unwrap_or_else(|e| panic!("start {name}: {e}"))
}

/// A Consul agent double named `name` on `addr`.
pub fn consul_agent(name: &str, addr: &str, role: ConsulRole) -> AgentDouble {
    AgentDouble::start(AgentConfig::new(name, addr.parse().unwrap()).with_consul(role))
        .unwrap_or_else(|e| panic!("start {name}: {e}"))
}
