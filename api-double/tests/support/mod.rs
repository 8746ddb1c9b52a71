//! Helpers shared by the api-double integration tests: a small HTTP client, raw socket
//! access, fixtures, and the JSON shape comparison.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use api_double::NomadDouble;
use serde_json::{Map, Value};

/// A response reduced to what the tests look at.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    pub fn index(&self) -> u64 {
        self.header("x-nomad-index")
            .and_then(|v| v.parse().ok())
            .expect("X-Nomad-Index")
    }
}

/// A ureq client bound to one double.
pub struct Client {
    pub agent: ureq::Agent,
    pub base: String,
    pub token: Option<String>,
}

impl Client {
    pub fn new(double: &NomadDouble) -> Self {
        Self::with_tls(double.address(), None)
    }

    pub fn with_tls(base: String, tls: Option<ureq::tls::TlsConfig>) -> Self {
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .allow_non_standard_methods(true)
            .timeout_global(Some(Duration::from_secs(30)));
        if let Some(tls) = tls {
            config = config.tls_config(tls);
        }
        Self {
            agent: config.build().into(),
            base,
            token: None,
        }
    }

    pub fn token(mut self, token: &str) -> Self {
        self.token = Some(token.to_string());
        self
    }

    pub fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> Result<Resp, ureq::Error> {
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            builder = builder.header("X-Nomad-Token", t);
        }
        let mut resp = match body {
            Some(b) => self
                .agent
                .run(builder.body(b.to_string()).expect("request"))?,
            None => self.agent.run(builder.body(()).expect("request"))?,
        };
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        let status = resp.status().as_u16();
        let body = resp.body_mut().read_to_string()?;
        Ok(Resp {
            status,
            headers,
            body,
        })
    }

    pub fn call(&self, method: &str, path: &str, body: Option<&str>) -> Resp {
        self.try_call(method, path, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    pub fn get(&self, path: &str) -> Resp {
        self.call("GET", path, None)
    }

    pub fn put(&self, path: &str, body: &Value) -> Resp {
        self.call("PUT", path, Some(&body.to_string()))
    }

    /// Registers `{"Job": job}` and returns the response JSON.
    pub fn register(&self, job: &Value) -> Value {
        let r = self.put("/v1/jobs", &serde_json::json!({ "Job": job }));
        assert_eq!(r.status, 200, "register: {}", r.body);
        r.json()
    }

    /// Polls `path` until `pred` holds on its JSON (5 s at most).
    pub fn poll(&self, path: &str, pred: impl Fn(&Value) -> bool) -> Value {
        for _ in 0..500 {
            let r = self.get(path);
            if r.status == 200 {
                let v = r.json();
                if pred(&v) {
                    return v;
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!(
            "condition on {path} never held; last: {}",
            self.get(path).body
        );
    }
}

/// Sends raw bytes and returns everything the server wrote before closing.
pub fn raw(double: &NomadDouble, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(double.socket_addr()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    s.write_all(bytes).expect("write");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// A fixture from `tests/fixtures/nomad/`.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/nomad/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Keys whose objects are maps keyed by data (group, task, datacenter names...).
const DYNAMIC_MAPS: &[&str] = &[
    "TaskGroups",
    "QueuedAllocations",
    "FailedTGAllocs",
    "TaskStates",
    "Summary",
    "DesiredTGUpdates",
    "NodesAvailable",
    "Updates",
    "Meta",
    "Env",
    "Config",
    "ClassEligibility",
    "DimensionExhausted",
    "ConstraintFiltered",
    "ClassFiltered",
    "ClassExhausted",
    "GetterOptions",
    "Details",
    "Tags",
    "Options",
];

/// How strictly [`shape_diff`] compares key sets.
#[derive(Clone, Copy)]
pub struct Rules<'a> {
    /// Report fixture keys missing from the double's JSON at depths below this.
    pub missing_depth: usize,
    /// Report double keys absent from the fixture at depths below this.
    pub extra_depth: usize,
    /// Key names never reported as extra.
    pub extra_ok: &'a [&'a str],
}

impl Rules<'static> {
    /// Same keys both ways, everywhere.
    pub const STRICT: Rules<'static> = Rules {
        missing_depth: usize::MAX,
        extra_depth: usize::MAX,
        extra_ok: &[],
    };
    /// Every fixture key must be present; extras allowed.
    pub const SUPERSET: Rules<'static> = Rules {
        missing_depth: usize::MAX,
        extra_depth: 0,
        extra_ok: &[],
    };
    /// Omit-empty objects: missing keys fine, no unknown keys.
    pub const OMIT_EMPTY: Rules<'static> = Rules {
        missing_depth: 0,
        extra_depth: usize::MAX,
        extra_ok: &[],
    };
    /// Types only.
    pub const TYPES: Rules<'static> = Rules {
        missing_depth: 0,
        extra_depth: 0,
        extra_ok: &[],
    };
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Differences of JSON shape (keys and types; `null` is compatible with anything).
pub fn shape_diff(fixture: &Value, actual: &Value, rules: Rules<'_>) -> Vec<String> {
    let mut out = Vec::new();
    walk(fixture, actual, "$", 0, false, rules, &mut out);
    out
}

#[allow(clippy::too_many_arguments)]
fn walk(
    f: &Value,
    a: &Value,
    path: &str,
    depth: usize,
    dynamic: bool,
    rules: Rules<'_>,
    out: &mut Vec<String>,
) {
    match (f, a) {
        (Value::Null, _) | (_, Value::Null) => {}
        (Value::Object(fo), Value::Object(ao)) if dynamic => {
            if let Some(fv) = fo.values().next() {
                for (k, av) in ao {
                    walk(fv, av, &format!("{path}.{k}"), depth + 1, false, rules, out);
                }
            }
        }
        (Value::Object(fo), Value::Object(ao)) => compare_objects(fo, ao, path, depth, rules, out),
        (Value::Array(fa), Value::Array(aa)) => {
            if let Some(fv) = fa.first() {
                for (i, av) in aa.iter().enumerate() {
                    walk(fv, av, &format!("{path}[{i}]"), depth, false, rules, out);
                }
            }
        }
        _ if kind(f) != kind(a) => {
            out.push(format!("{path}: fixture {} vs double {}", kind(f), kind(a)))
        }
        _ => {}
    }
}

fn compare_objects(
    fo: &Map<String, Value>,
    ao: &Map<String, Value>,
    path: &str,
    depth: usize,
    rules: Rules<'_>,
    out: &mut Vec<String>,
) {
    for (k, fv) in fo {
        match ao.get(k) {
            Some(av) => walk(
                fv,
                av,
                &format!("{path}.{k}"),
                depth + 1,
                DYNAMIC_MAPS.contains(&k.as_str()),
                rules,
                out,
            ),
            None if depth < rules.missing_depth => {
                out.push(format!("{path}.{k}: missing in double"))
            }
            None => {}
        }
    }
    for k in ao.keys() {
        if !fo.contains_key(k) && depth < rules.extra_depth && !rules.extra_ok.contains(&k.as_str())
        {
            out.push(format!("{path}.{k}: not in fixture"));
        }
    }
}

/// Union of several samples of one kind: every key seen anywhere (first non-null wins).
pub fn union(samples: &[Value]) -> Value {
    samples.iter().fold(Value::Null, merge)
}

fn merge(acc: Value, s: &Value) -> Value {
    match (acc, s) {
        (Value::Null, s) => s.clone(),
        (Value::Object(mut a), Value::Object(b)) => {
            for (k, v) in b {
                let cur = a.remove(k).unwrap_or(Value::Null);
                a.insert(k.clone(), merge(cur, v));
            }
            Value::Object(a)
        }
        (Value::Array(a), Value::Array(b)) => {
            let first = a
                .into_iter()
                .chain(b.iter().cloned())
                .fold(Value::Null, |x, y| merge(x, &y));
            if first.is_null() {
                Value::Array(vec![])
            } else {
                Value::Array(vec![first])
            }
        }
        (a, _) => a,
    }
}

/// Asserts there is no shape difference.
#[track_caller]
pub fn assert_shape(fixture: &Value, actual: &Value, rules: Rules<'_>) {
    let diffs = shape_diff(fixture, actual, rules);
    assert!(
        diffs.is_empty(),
        "shape differences:\n  {}\ndouble JSON: {actual:#}",
        diffs.join("\n  ")
    );
}
