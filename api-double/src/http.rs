//! A small HTTP/1.1 reader and writer over any byte stream (plain TCP or TLS), so the
//! double has full control of the connection (keep-alive, dropping it mid-exchange).

use std::io::{self, BufRead, Read, Write};

use crate::util::percent_decode;

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 32 * 1024 * 1024;

/// One request as the double received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// Method, e.g. `PUT`.
    pub method: String,
    /// Decoded path, e.g. `/v1/job/example` (`%2F` decoded to `/`).
    pub path: String,
    /// Raw path as sent (still percent-encoded).
    pub raw_path: String,
    /// Decoded query pairs in order; a key without `=` has an empty value.
    pub query: Vec<(String, String)>,
    /// Headers in order, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Body bytes (de-chunked).
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// Reads one request (head and body) from `r` as the doubles do, for
    /// tests that write a small server of their own; `None` when the peer
    /// closed or the request is malformed.
    pub fn read_from(r: &mut impl BufRead) -> Option<RecordedRequest> {
        let (mut req, _) = read_request_head(r).ok()?;
        read_request_body(r, &mut req).ok()?;
        Some(req)
    }

    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// First value of query parameter `name`.
    pub fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// All values of query parameter `name` (e.g. repeated `address`).
    pub fn query_values(&self, name: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn body_json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// Path split on `/` with every segment percent-decoded (so IDs may contain `/`).
    pub(crate) fn segments(&self) -> Vec<String> {
        self.raw_path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| percent_decode(s, false))
            .collect()
    }

    /// Whether the client waits for `100 Continue` before sending its body.
    pub(crate) fn expects_continue(&self) -> bool {
        self.header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    }

    /// Whether the client asked to close the connection after this exchange.
    pub(crate) fn wants_close(&self, http10: bool) -> bool {
        let conn = self.header("connection").map(str::to_ascii_lowercase);
        match conn.as_deref() {
            Some(v) if v.contains("close") => true,
            Some(v) if v.contains("keep-alive") => false,
            _ => http10,
        }
    }
}

/// Why a request could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The peer closed the connection (or the socket failed): stop quietly.
    Closed,
    /// The bytes are not a valid request: answer 400 and close.
    Malformed(&'static str),
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> Self {
        ReadError::Closed
    }
}

/// Reads one request; `Ok((request, is_http_1_0))`.
#[cfg(test)]
pub(crate) fn read_request<R: BufRead>(r: &mut R) -> Result<(RecordedRequest, bool), ReadError> {
    let (mut req, http10) = read_request_head(r)?;
    read_request_body(r, &mut req)?;
    Ok((req, http10))
}

/// Reads the body announced by a request head into `req.body`.
pub(crate) fn read_request_body<R: BufRead>(
    r: &mut R,
    req: &mut RecordedRequest,
) -> Result<(), ReadError> {
    req.body = read_body(r, req)?;
    Ok(())
}

/// Reads a request line and headers (no body yet); `Ok((request, is_http_1_0))`.
pub(crate) fn read_request_head<R: BufRead>(
    r: &mut R,
) -> Result<(RecordedRequest, bool), ReadError> {
    let head = read_head(r)?;
    let mut headers = [httparse::EMPTY_HEADER; 100];
    let mut parsed = httparse::Request::new(&mut headers);
    match parsed.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(ReadError::Malformed("malformed request head")),
    }
    let method = parsed.method.unwrap_or_default().to_string();
    let target = parsed.path.unwrap_or_default();
    let http10 = parsed.version == Some(0);
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).trim().to_string(),
            )
        })
        .collect();
    let (raw_path, query) = split_target(target);
    let req = RecordedRequest {
        method,
        path: percent_decode(&raw_path, false),
        raw_path,
        query,
        headers,
        body: Vec::new(),
    };
    Ok((req, http10))
}

fn split_target(target: &str) -> (String, Vec<(String, String)>) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let pairs = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect();
    (path.to_string(), pairs)
}

fn read_head<R: BufRead>(r: &mut R) -> Result<Vec<u8>, ReadError> {
    let mut head = Vec::new();
    loop {
        let before = head.len();
        let budget = u64::try_from(MAX_HEAD + 1 - before.min(MAX_HEAD)).unwrap_or(0);
        let n = r.by_ref().take(budget).read_until(b'\n', &mut head)?;
        if n == 0 {
            return if head.is_empty() {
                Err(ReadError::Closed)
            } else {
                Err(ReadError::Malformed("truncated request head"))
            };
        }
        let line = &head[before..];
        if (line == b"\r\n" || line == b"\n") && before > 0 {
            return Ok(head);
        }
        if line == b"\r\n" || line == b"\n" {
            head.clear(); // tolerate stray CRLF between requests
        }
        if head.len() > MAX_HEAD {
            return Err(ReadError::Malformed("request head too large"));
        }
    }
}

fn read_body<R: BufRead>(r: &mut R, req: &RecordedRequest) -> Result<Vec<u8>, ReadError> {
    let chunked = req
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        return read_chunked(r);
    }
    let Some(len) = req.header("content-length") else {
        return Ok(Vec::new());
    };
    let len: usize = len
        .parse()
        .map_err(|_| ReadError::Malformed("invalid Content-Length"))?;
    if len > MAX_BODY {
        return Err(ReadError::Malformed("request body too large"));
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    Ok(body)
}

fn read_chunked<R: BufRead>(r: &mut R) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        let line = small_line(r)?;
        let size_text = line.trim().split(';').next().unwrap_or_default();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| ReadError::Malformed("invalid chunk size"))?;
        if size > MAX_BODY.saturating_sub(body.len()) {
            return Err(ReadError::Malformed("request body too large"));
        }
        if size == 0 {
            skip_trailers(r)?;
            return Ok(body);
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..])?;
        small_line(r)?;
    }
}

/// One line of at most 4 KiB (chunk sizes, trailers), lossily decoded.
fn small_line<R: BufRead>(r: &mut R) -> Result<String, ReadError> {
    let mut line = Vec::new();
    r.by_ref().take(4096).read_until(b'\n', &mut line)?;
    Ok(String::from_utf8_lossy(&line).into_owned())
}

fn skip_trailers<R: BufRead>(r: &mut R) -> Result<(), ReadError> {
    loop {
        let line = small_line(r)?;
        if line.trim().is_empty() {
            return Ok(());
        }
    }
}

/// A response about to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// `200` with a JSON body.
    pub(crate) fn json(value: &serde_json::Value) -> Self {
        Self {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: serde_json::to_vec(value).unwrap_or_default(),
        }
    }

    /// A plain-text error, Nomad style (no trailing newline).
    pub(crate) fn text(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())],
            body: body.into().into_bytes(),
        }
    }

    /// Adds a header.
    pub(crate) fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Writes the head and only the first half of the body (for a connection cut short).
    pub(crate) fn write_truncated<W: Write>(&self, w: &mut W) -> io::Result<()> {
        let mut bytes = Vec::new();
        self.write_to(&mut bytes, false)?;
        let cut = bytes.len() - self.body.len() + self.body.len() / 2;
        w.write_all(&bytes[..cut])?;
        w.flush()
    }

    /// Writes the response; `close` adds `Connection: close`.
    pub(crate) fn write_to<W: Write>(&self, w: &mut W, close: bool) -> io::Result<()> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (k, v) in &self.headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        if close {
            out.push_str("Connection: close\r\n");
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        w.write_all(&bytes)?;
        w.flush()
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufReader;

    #[test]
    fn parses_content_length_and_query() {
        let raw = b"PUT /v1/job/a%2Fb?namespace=apps&stale HTTP/1.1\r\nHost: x\r\nX-Nomad-Token: t\r\nContent-Length: 2\r\n\r\n{}";
        let (req, http10) = read_request(&mut BufReader::new(&raw[..])).unwrap();
        assert!(!http10);
        assert_eq!(req.method, "PUT");
        assert_eq!(req.segments(), vec!["v1", "job", "a/b"]);
        assert_eq!(req.query_value("namespace"), Some("apps"));
        assert_eq!(req.query_value("stale"), Some(""));
        assert_eq!(req.header("x-nomad-token"), Some("t"));
        assert_eq!(req.body, b"{}");
    }

    #[test]
    fn parses_chunked() {
        let raw =
            b"POST /v1/jobs HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
        let (req, _) = read_request(&mut BufReader::new(&raw[..])).unwrap();
        assert_eq!(req.body, b"{}");
    }

    #[test]
    fn rejects_garbage() {
        let raw = b"\x01\x02 nonsense\r\n\r\n";
        assert!(matches!(
            read_request(&mut BufReader::new(&raw[..])),
            Err(ReadError::Malformed(_))
        ));
    }
}
