//! A small HTTP/1.1 client for agent-to-agent calls: forwarding an API request to the
//! region's leader or to another region or datacenter (as real agents forward RPCs),
//! and a Nomad client's calls to its servers and its local Consul agent.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use crate::http::{RecordedRequest, Response};
use crate::util::parse_go_duration;

/// Header marking a forwarded request: its receiver answers it itself (no second hop).
pub(crate) const FORWARDED: &str = "x-double-forwarded";
/// Connect timeout of a forwarded request.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Read timeout of a forwarded request that does not block.
const PLAIN_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest blocking wait either product allows (Consul: 10 min), plus slack.
const MAX_BLOCKING: Duration = Duration::from_secs(610);
/// Largest response read back.
const MAX_RESPONSE: u64 = 64 * 1024 * 1024;
/// Request headers passed on when forwarding.
const PASSED_HEADERS: [&str; 4] = [
    "x-nomad-token",
    "x-consul-token",
    "authorization",
    "content-type",
];

/// A response read back: status, headers (names as sent) and body.
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as JSON, when the status is 200 and the body parses.
    pub(crate) fn json(&self) -> Option<serde_json::Value> {
        (self.status == 200)
            .then(|| serde_json::from_slice(&self.body).ok())
            .flatten()
    }
}

/// Percent-encodes a query key or value (everything but unreserved characters).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The request's path and query, re-encoded.
pub(crate) fn path_and_query(req: &RecordedRequest) -> String {
    if req.query.is_empty() {
        return req.raw_path.clone();
    }
    let query: Vec<String> = req
        .query
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    format!("{}?{}", req.raw_path, query.join("&"))
}

/// How long to wait for the answer to `req`: a blocking query (`index` set) may take its
/// whole `wait` (default 5 min).
fn read_timeout(req: &RecordedRequest) -> Duration {
    let blocking = req
        .query_value("index")
        .and_then(|i| i.parse::<u64>().ok())
        .is_some_and(|i| i > 0);
    if !blocking {
        return PLAIN_TIMEOUT;
    }
    let wait = req
        .query_value("wait")
        .and_then(parse_go_duration)
        .filter(|w| !w.is_zero())
        .unwrap_or(Duration::from_secs(300));
    (wait + PLAIN_TIMEOUT).min(MAX_BLOCKING)
}

/// Sends `req` as it came to `addr` (`host:port`), marked [`FORWARDED`], and returns the
/// answer as a response to pass back; `Err` is the transport error text.
pub(crate) fn forward(addr: &str, req: &RecordedRequest) -> Result<Response, String> {
    let mut headers: Vec<(&str, &str)> = PASSED_HEADERS
        .iter()
        .filter_map(|h| req.header(h).map(|v| (*h, v)))
        .collect();
    headers.push((FORWARDED, "1"));
    let reply = call(
        addr,
        &req.method,
        &path_and_query(req),
        &headers,
        &req.body,
        read_timeout(req),
    )?;
    let kept = reply
        .headers
        .into_iter()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            k != "content-length" && k != "connection"
        })
        .collect();
    Ok(Response {
        status: reply.status,
        headers: kept,
        body: reply.body,
    })
}

/// One HTTP exchange (`Connection: close`) with `addr`.
pub(crate) fn call(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> Result<Reply, String> {
    let target = addr
        .to_socket_addrs()
        .map_err(|e| format!("dial tcp {addr}: lookup: {e}"))?
        .next()
        .ok_or_else(|| format!("dial tcp {addr}: lookup: no such host"))?;
    let mut stream = TcpStream::connect_timeout(&target, CONNECT_TIMEOUT)
        .map_err(|e| format!("dial tcp {addr}: {e}"))?;
    let io_err = |e: io::Error| format!("read tcp {addr}: {e}");
    stream.set_read_timeout(Some(timeout)).map_err(io_err)?;
    stream
        .set_write_timeout(Some(PLAIN_TIMEOUT))
        .map_err(io_err)?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    stream.write_all(head.as_bytes()).map_err(io_err)?;
    stream.write_all(body).map_err(io_err)?;
    let mut raw = Vec::new();
    stream
        .take(MAX_RESPONSE)
        .read_to_end(&mut raw)
        .map_err(io_err)?;
    parse_reply(&raw).ok_or_else(|| format!("read tcp {addr}: malformed response"))
}

/// Splits a raw `Connection: close` response into status, headers and body.
fn parse_reply(raw: &[u8]) -> Option<Reply> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(raw.get(..split)?).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect::<Vec<_>>();
    let mut body = raw.get(split + 4..)?.to_vec();
    let length = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok());
    if let Some(n) = length {
        body.truncate(n);
    }
    Some(Reply {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_parses() {
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
        let r = parse_reply(b"HTTP/1.1 200 OK\r\nX-Nomad-Index: 7\r\nContent-Length: 2\r\n\r\n{}")
            .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.headers[0], ("X-Nomad-Index".into(), "7".into()));
        assert_eq!(r.json(), Some(serde_json::json!({})));
        assert!(parse_reply(b"garbage").is_none());
    }
}
