//! The one HTTP layer of the workspace (Nomad now, Consul later), on
//! blocking `ureq` with rustls.
//!
//! What it does for every tool: parses the address (`http://`, `https://`,
//! a bare `host:port` meaning http, `unix:///path`), sets up TLS (CA file,
//! CA directory, client certificate, server-name override, skip-verify),
//! applies connect and read timeouts, never follows redirects, accepts gzip,
//! sends the client's default headers (an API token, say) and retries
//! idempotent requests on connection errors and 5xx with jittered
//! exponential backoff.
//!
//! Errors are an [`HttpError`], which maps onto the exit-code table through
//! `From<HttpError> for crate::Error`.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use ureq::http::{self as h, HeaderName, HeaderValue, Uri};
use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig};
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, LazyBuffers, NextTimeout, RustlsConnector, TcpConnector,
    Transport,
};
use ureq::{Agent, RequestExt};

use crate::{Error, Exit};

/// Largest response body read into memory (64 MiB).
const MAX_BODY: u64 = 64 * 1024 * 1024;

/// A secret (an API token, a password). Its `Debug` and `Display` print
/// `<redacted>`; the value is only reachable through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret value itself: only for putting it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// HTTP basic auth credentials (`NOMAD_HTTP_AUTH`, `CONSUL_HTTP_AUTH`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicAuth {
    /// The user name.
    pub user: String,
    /// The password (possibly empty).
    pub password: Secret,
}

impl BasicAuth {
    /// Parses `user[:pass]`, split on the first `:` (an absent password is
    /// empty). `None` for an empty string.
    pub fn parse(value: &str) -> Option<BasicAuth> {
        if value.is_empty() {
            return None;
        }
        let (user, password) = value.split_once(':').unwrap_or((value, ""));
        Some(BasicAuth {
            user: user.to_string(),
            password: Secret::new(password),
        })
    }

    fn header_value(&self) -> String {
        let raw = format!("{}:{}", self.user, self.password.expose());
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }
}

/// TLS settings of a client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM file of CA certificates (may hold several). Wins over `ca_path`.
    pub ca_file: Option<PathBuf>,
    /// Directory of PEM files of CA certificates.
    pub ca_path: Option<PathBuf>,
    /// PEM client certificate (chain) for mutual TLS.
    pub client_cert: Option<PathBuf>,
    /// PEM private key of the client certificate.
    pub client_key: Option<PathBuf>,
    /// Name the server certificate is verified against (and sent as SNI),
    /// instead of the host of the address.
    pub server_name: Option<String>,
    /// Skip verification of the server certificate (insecure).
    pub skip_verify: bool,
}

impl TlsOptions {
    /// Checks what can be checked without reading files: client cert and
    /// key come together.
    pub fn validate(&self) -> Result<(), Error> {
        if self.client_cert.is_some() != self.client_key.is_some() {
            return Err(Error::usage(
                "Both client cert and client key must be provided",
            ));
        }
        Ok(())
    }
}

/// When and how often idempotent requests are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = no retry).
    pub attempts: u32,
    /// Delay before the first retry; doubles for each further one.
    pub initial_delay: Duration,
    /// Cap on the delay (before jitter).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 4 attempts, 100 ms doubling up to 2 s, each delay jittered ±50%.
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> RetryPolicy {
        RetryPolicy {
            attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// The delay before retry number `retry` (0 for the first retry),
    /// jittered by ±50%.
    pub fn delay(&self, retry: u32) -> Duration {
        let factor = 2u32.saturating_pow(retry.min(30));
        let base = self
            .initial_delay
            .saturating_mul(factor)
            .min(self.max_delay);
        Duration::try_from_secs_f64(base.as_secs_f64() * (0.5 + random_unit())).unwrap_or(base)
    }
}

/// A number in `[0, 1)`, from the standard library's per-instance random
/// hash keys (good enough for jitter, not for anything secret).
fn random_unit() -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(0);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Everything a client needs to know to talk to one server.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// The address: `http://host:port`, `https://host:port`, a bare
    /// `host:port` (http) or `unix:///path/to/socket`. A path after the
    /// authority becomes a prefix of every request path.
    pub address: String,
    /// TLS settings (used for `https://`).
    pub tls: TlsOptions,
    /// Basic auth. Userinfo in the address wins over this.
    pub basic_auth: Option<BasicAuth>,
    /// Time allowed to establish a connection (TCP and TLS handshake).
    pub connect_timeout: Duration,
    /// Time allowed for the response of an ordinary request.
    pub read_timeout: Duration,
    /// Retries of idempotent requests.
    pub retry: RetryPolicy,
}

impl HttpConfig {
    /// A configuration for `address` with default TLS, a 10 s connect
    /// timeout, a 60 s read timeout and the default retry policy.
    pub fn new(address: impl Into<String>) -> HttpConfig {
        HttpConfig {
            address: address.into(),
            tls: TlsOptions::default(),
            basic_auth: None,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
        }
    }
}

/// An HTTP method the tools use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET (always idempotent).
    Get,
    /// PUT.
    Put,
    /// POST.
    Post,
    /// DELETE.
    Delete,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Delete => "DELETE",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One request: method, path (below the base URL), query parameters,
/// optional JSON body and retry/timeout settings.
#[derive(Debug, Clone)]
pub struct Request {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    idempotent: bool,
    read_timeout: Option<Duration>,
}

impl Request {
    /// A request with `method` for `path` (which starts with `/`). GET is
    /// idempotent; other methods are not unless marked.
    pub fn new(method: Method, path: impl Into<String>) -> Request {
        Request {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            idempotent: method == Method::Get,
            read_timeout: None,
        }
    }

    /// A GET request.
    pub fn get(path: impl Into<String>) -> Request {
        Request::new(Method::Get, path)
    }

    /// A PUT request with a JSON body (not idempotent unless marked).
    pub fn put(path: impl Into<String>, body: &serde_json::Value) -> Request {
        Request::new(Method::Put, path).json(body)
    }

    /// Sets a JSON body.
    pub fn json(mut self, body: &serde_json::Value) -> Request {
        self.body = Some(body.to_string().into_bytes());
        self
    }

    /// Adds a query parameter (percent-encoded on the wire).
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Request {
        self.query.push((key.into(), value.into()));
        self
    }

    /// Adds query parameters.
    pub fn queries(mut self, pairs: &[(&str, &str)]) -> Request {
        for (k, v) in pairs {
            self.query.push(((*k).to_string(), (*v).to_string()));
        }
        self
    }

    /// Marks the request as safe to retry (or not).
    pub fn idempotent(mut self, idempotent: bool) -> Request {
        self.idempotent = idempotent;
        self
    }

    /// A read timeout for this request instead of the client's (a
    /// blocking query waits longer).
    pub fn read_timeout(mut self, timeout: Duration) -> Request {
        self.read_timeout = Some(timeout);
        self
    }

    /// The method.
    pub fn method(&self) -> Method {
        self.method
    }

    /// The path, without the query string.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The query parameters, in order.
    pub fn query_pairs(&self) -> &[(String, String)] {
        &self.query
    }

    fn path_and_query(&self) -> String {
        let mut out = self.path.clone();
        for (i, (k, v)) in self.query.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(&percent_encode(k));
            out.push('=');
            out.push_str(&percent_encode(v));
        }
        out
    }
}

/// A successful (2xx) response.
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    headers: Vec<(String, String)>,
    /// The body, un-gzipped.
    pub body: Vec<u8>,
}

impl Response {
    /// The value of header `name` (case-insensitive), if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Header `name` as a `u64`: `None` when absent or not a number.
    pub fn header_u64(&self, name: &str) -> Option<u64> {
        self.header(name)?.trim().parse().ok()
    }

    /// `X-Nomad-Index`, when present and valid.
    pub fn nomad_index(&self) -> Option<u64> {
        self.header_u64("X-Nomad-Index")
    }

    /// `X-Consul-Index`, when present and valid.
    pub fn consul_index(&self) -> Option<u64> {
        self.header_u64("X-Consul-Index")
    }

    /// The body parsed as JSON (`null` is a valid body).
    pub fn json(&self) -> Result<serde_json::Value, HttpError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| HttpError::Decode(format!("response is not JSON: {e}")))
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What can go wrong with a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// The server answered with a non-2xx status (redirects included: they
    /// are never followed). `body` is the server's plain-text message,
    /// trimmed.
    #[error("{method} {path}: {status}: {body}")]
    Status {
        /// The request's method.
        method: Method,
        /// The request's path (no query string).
        path: String,
        /// The HTTP status.
        status: u16,
        /// The body, verbatim but trimmed.
        body: String,
    },
    /// No conversation: connection refused, DNS, TLS handshake or
    /// certificate verification failed. Names the address and the cause.
    #[error("{0}")]
    Unreachable(String),
    /// Connecting or reading timed out.
    #[error("{0}")]
    Timeout(String),
    /// The response could not be read or decoded.
    #[error("{0}")]
    Decode(String),
}

impl HttpError {
    /// The HTTP status, for [`HttpError::Status`].
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl From<HttpError> for Error {
    fn from(e: HttpError) -> Error {
        let exit = match e {
            HttpError::Status { .. } => Exit::Refused,
            HttpError::Unreachable(_) | HttpError::Timeout(_) => Exit::Unreachable,
            HttpError::Decode(_) => Exit::Refused,
        };
        Error::new(exit, e.to_string())
    }
}

/// Percent-encodes everything but the unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`): safe for a path segment or a query component.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The parsed address of a client.
#[derive(Debug, Clone)]
struct Endpoint {
    /// `scheme://authority[/prefix]`, no trailing slash.
    base: String,
    /// For error messages: `host:port` or the socket path.
    display: String,
    /// Userinfo found in the address.
    userinfo: Option<BasicAuth>,
    /// The socket for `unix://` addresses.
    unix: Option<PathBuf>,
    https: bool,
}

impl Endpoint {
    fn parse(address: &str) -> Result<Endpoint, Error> {
        let address = address.trim();
        if address.is_empty() {
            return Err(Error::usage("the address is empty"));
        }
        if let Some(path) = address.strip_prefix("unix://") {
            return Endpoint::unix(path);
        }
        let (scheme, rest) = match address.split_once("://") {
            Some((s, r)) => (s.to_ascii_lowercase(), r),
            None => ("http".to_string(), address),
        };
        if scheme != "http" && scheme != "https" {
            return Err(Error::usage(format!(
                "address {address}: unknown protocol scheme {scheme:?} (use http://, https:// or unix://)"
            )));
        }
        let (authority, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, hp)) => (BasicAuth::parse(u), hp),
            None => (None, authority),
        };
        if hostport.is_empty() {
            return Err(Error::usage(format!("address {address}: no host")));
        }
        let base = format!("{scheme}://{hostport}{prefix}");
        if base.parse::<Uri>().is_err() {
            return Err(Error::usage(format!("address {address}: not a valid URL")));
        }
        Ok(Endpoint {
            base,
            display: hostport.to_string(),
            userinfo,
            unix: None,
            https: scheme == "https",
        })
    }

    fn unix(path: &str) -> Result<Endpoint, Error> {
        if path.is_empty() {
            return Err(Error::usage("unix:// address without a socket path"));
        }
        Ok(Endpoint {
            base: "http://127.0.0.1".to_string(),
            display: format!("unix:{path}"),
            userinfo: None,
            unix: Some(PathBuf::from(path)),
            https: false,
        })
    }
}

/// A blocking HTTP client for one server. Cheap to clone (shared state
/// behind an `Arc`); a clone can carry extra default headers.
#[derive(Clone)]
pub struct HttpClient {
    agent: Agent,
    endpoint: Arc<Endpoint>,
    headers: Vec<(HeaderName, HeaderValue)>,
    read_timeout: Duration,
    retry: RetryPolicy,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient")
            .field("base", &self.endpoint.base)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("read_timeout", &self.read_timeout)
            .field("retry", &self.retry)
            .finish()
    }
}

impl HttpClient {
    /// Builds a client: parses the address and loads the TLS files. Errors
    /// are usage errors (exit 2): bad address, unreadable or invalid PEM,
    /// client cert without key.
    pub fn new(config: &HttpConfig) -> Result<HttpClient, Error> {
        config.tls.validate()?;
        let endpoint = Endpoint::parse(&config.address)?;
        let tls = if endpoint.https {
            build_tls(&config.tls)?
        } else {
            TlsConfig::default()
        };
        let agent_config = Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            // Cluster APIs are reached directly: no proxy from the environment.
            .proxy(None)
            .timeout_connect(Some(config.connect_timeout))
            .timeout_recv_response(Some(config.read_timeout))
            .timeout_recv_body(Some(config.read_timeout))
            .tls_config(tls)
            .user_agent(concat!(
                "nomad-multicloud-tools/",
                env!("CARGO_PKG_VERSION")
            ))
            .build();
        let connector = ()
            .chain(UnixConnector(endpoint.unix.clone()))
            .chain(TcpConnector::default())
            .chain(TlsConnector::new(config.tls.server_name.as_deref())?);
        let agent = Agent::with_parts(agent_config, connector, DefaultResolver::default());
        let mut client = HttpClient {
            agent,
            endpoint: Arc::new(endpoint.clone()),
            headers: Vec::new(),
            read_timeout: config.read_timeout,
            retry: config.retry,
        };
        if let Some(auth) = endpoint.userinfo.as_ref().or(config.basic_auth.as_ref()) {
            client = client.with_header("Authorization", &Secret::new(auth.header_value()))?;
        }
        Ok(client)
    }

    /// A clone that also sends header `name: value` on every request (an
    /// API token, say). The value is marked sensitive and never printed.
    pub fn with_header(&self, name: &str, value: &Secret) -> Result<HttpClient, Error> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::usage(format!("invalid header name {name:?}")))?;
        let mut value = HeaderValue::from_str(value.expose()).map_err(|_| {
            Error::usage(format!("the value of header {name} has invalid characters"))
        })?;
        value.set_sensitive(true);
        let mut client = self.clone();
        client.headers.retain(|(k, _)| k != name);
        client.headers.push((name, value));
        Ok(client)
    }

    /// The base URL requests are sent to.
    pub fn base_url(&self) -> &str {
        &self.endpoint.base
    }

    /// Sends `request`, retrying it on connection errors and 5xx when it is
    /// idempotent. A non-2xx answer is [`HttpError::Status`].
    pub fn send(&self, request: &Request) -> Result<Response, HttpError> {
        let attempts = if request.idempotent {
            self.retry.attempts.max(1)
        } else {
            1
        };
        let mut retry = 0;
        loop {
            match self.send_once(request) {
                Ok(response) => return Ok(response),
                Err(failure) if failure.retryable && retry + 1 < attempts => {
                    std::thread::sleep(self.retry.delay(retry));
                    retry += 1;
                }
                Err(failure) => return Err(failure.error),
            }
        }
    }

    fn send_once(&self, request: &Request) -> Result<Response, Failure> {
        let url = format!("{}{}", self.endpoint.base, request.path_and_query());
        let mut builder = h::Request::builder()
            .method(request.method.as_str())
            .uri(url);
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        if request.body.is_some() {
            builder = builder.header("Content-Type", "application/json");
        }
        let body = request.body.clone().unwrap_or_default();
        let http_request = builder
            .body(body)
            .map_err(|e| Failure::fatal(HttpError::Decode(format!("building the request: {e}"))))?;
        let timeout = request.read_timeout.unwrap_or(self.read_timeout);
        let mut with_agent = http_request.with_agent(&self.agent);
        if timeout != self.read_timeout {
            with_agent = with_agent
                .configure()
                .timeout_recv_response(Some(timeout))
                .timeout_recv_body(Some(timeout))
                .build();
        }
        let response = with_agent.run().map_err(|e| self.failure(request, e))?;
        self.read_response(request, response)
    }

    fn read_response(
        &self,
        request: &Request,
        mut response: h::Response<ureq::Body>,
    ) -> Result<Response, Failure> {
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| self.failure(request, e))?;
        if (200..300).contains(&status) {
            return Ok(Response {
                status,
                headers,
                body,
            });
        }
        let error = HttpError::Status {
            method: request.method,
            path: request.path.clone(),
            status,
            body: String::from_utf8_lossy(&body).trim().to_string(),
        };
        Err(Failure {
            error,
            retryable: status >= 500,
        })
    }

    fn failure(&self, request: &Request, e: ureq::Error) -> Failure {
        let at = &self.endpoint.display;
        let what = format!("{} {}", request.method, request.path);
        match e {
            ureq::Error::Timeout(t) => Failure {
                error: HttpError::Timeout(format!("{what}: {at}: timed out ({t})")),
                // Nothing was sent yet: as safe to retry as a refused connection.
                retryable: matches!(t, ureq::Timeout::Connect | ureq::Timeout::Resolve),
            },
            ureq::Error::Io(io) => io_failure(&what, at, &io),
            ureq::Error::HostNotFound => Failure::retry(HttpError::Unreachable(format!(
                "{what}: {at}: host not found"
            ))),
            ureq::Error::ConnectionFailed => Failure::retry(HttpError::Unreachable(format!(
                "{what}: {at}: connection failed"
            ))),
            ureq::Error::Rustls(t) => Failure::fatal(HttpError::Unreachable(format!(
                "{what}: {at}: {}",
                tls_cause(&t.to_string())
            ))),
            ureq::Error::Tls(t) => {
                Failure::fatal(HttpError::Unreachable(format!("{what}: {at}: TLS: {t}")))
            }
            ureq::Error::Protocol(_)
            | ureq::Error::BodyExceedsLimit(_)
            | ureq::Error::Decompress(..)
            | ureq::Error::LargeResponseHeader(..) => Failure::fatal(HttpError::Decode(format!(
                "{what}: {at}: bad response: {e}"
            ))),
            other => Failure::fatal(HttpError::Unreachable(format!("{what}: {at}: {other}"))),
        }
    }
}

/// An error and whether an idempotent request may be tried again.
struct Failure {
    error: HttpError,
    retryable: bool,
}

impl Failure {
    fn retry(error: HttpError) -> Failure {
        Failure {
            error,
            retryable: true,
        }
    }

    fn fatal(error: HttpError) -> Failure {
        Failure {
            error,
            retryable: false,
        }
    }
}

fn io_failure(what: &str, at: &str, io: &io::Error) -> Failure {
    let text = io.to_string();
    if is_tls_message(&text) {
        return Failure::fatal(HttpError::Unreachable(format!(
            "{what}: {at}: {}",
            tls_cause(&text)
        )));
    }
    let cause = match io.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
        io::ErrorKind::TimedOut => {
            return Failure::fatal(HttpError::Timeout(format!("{what}: {at}: timed out")))
        }
        io::ErrorKind::NotFound => format!("no such socket ({text})"),
        _ => text,
    };
    Failure::retry(HttpError::Unreachable(format!("{what}: {at}: {cause}")))
}

fn is_tls_message(text: &str) -> bool {
    [
        "peer certificate",
        "alert",
        "certificate",
        "handshake",
        "TLS",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

/// Words a rustls error the way an operator expects.
fn tls_cause(text: &str) -> String {
    match text.strip_prefix("invalid peer certificate: ") {
        Some(reason) => format!("certificate verify failed: {reason}"),
        None => format!("TLS handshake failed: {text}"),
    }
}

/// Builds ureq's TLS settings from the options, reading the PEM files.
fn build_tls(options: &TlsOptions) -> Result<TlsConfig, Error> {
    let mut builder = TlsConfig::builder().disable_verification(options.skip_verify);
    if let Some(roots) = root_certs(options)? {
        builder = builder.root_certs(roots);
    }
    if let (Some(cert), Some(key)) = (&options.client_cert, &options.client_key) {
        builder = builder.client_cert(Some(client_cert(cert, key)?));
    }
    Ok(builder.build())
}

fn root_certs(options: &TlsOptions) -> Result<Option<RootCerts>, Error> {
    let certs = if let Some(file) = &options.ca_file {
        let certs = pem_certs(file)?;
        if certs.is_empty() {
            return Err(Error::usage(format!(
                "CA file {}: no certificate found",
                file.display()
            )));
        }
        certs
    } else if let Some(dir) = &options.ca_path {
        ca_dir_certs(dir)?
    } else {
        return Ok(None);
    };
    Ok(Some(RootCerts::new_with_certs(&certs)))
}

fn ca_dir_certs(dir: &Path) -> Result<Vec<Certificate<'static>>, Error> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::usage(format!("CA directory {}: {e}", dir.display())))?;
    let mut certs = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| Error::usage(format!("CA directory {}: {e}", dir.display())))?
            .path();
        if path.is_file() {
            certs.extend(pem_certs(&path)?);
        }
    }
    if certs.is_empty() {
        return Err(Error::usage(format!(
            "CA directory {}: no certificate found",
            dir.display()
        )));
    }
    Ok(certs)
}

fn read_pem(path: &Path, what: &str) -> Result<Vec<PemItem<'static>>, Error> {
    let bytes =
        std::fs::read(path).map_err(|e| Error::usage(format!("{what} {}: {e}", path.display())))?;
    ureq::tls::parse_pem(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::usage(format!("{what} {}: invalid PEM: {e}", path.display())))
}

fn pem_certs(path: &Path) -> Result<Vec<Certificate<'static>>, Error> {
    Ok(read_pem(path, "CA file")?
        .into_iter()
        .filter_map(|item| match item {
            PemItem::Certificate(c) => Some(c),
            _ => None,
        })
        .collect())
}

fn client_cert(cert: &Path, key: &Path) -> Result<ClientCert, Error> {
    let chain: Vec<Certificate<'static>> = read_pem(cert, "client cert")?
        .into_iter()
        .filter_map(|item| match item {
            PemItem::Certificate(c) => Some(c),
            _ => None,
        })
        .collect();
    if chain.is_empty() {
        return Err(Error::usage(format!(
            "client cert {}: no certificate found",
            cert.display()
        )));
    }
    let key: PrivateKey<'static> = read_pem(key, "client key")?
        .into_iter()
        .find_map(|item| match item {
            PemItem::PrivateKey(k) => Some(k),
            _ => None,
        })
        .ok_or_else(|| {
            Error::usage(format!(
                "client key {}: no private key found",
                key.display()
            ))
        })?;
    Ok(ClientCert::new_with_certs(&chain, key))
}

/// ureq's rustls connector, verifying the server certificate against
/// `server_name` (also sent as SNI) instead of the URL's host when set. The
/// TCP connection is made to the URL's address as usual: only the name the
/// TLS layer sees is swapped.
#[derive(Debug)]
struct TlsConnector {
    inner: RustlsConnector,
    server_name: Option<String>,
}

impl TlsConnector {
    fn new(server_name: Option<&str>) -> Result<TlsConnector, Error> {
        let server_name = match server_name.map(str::trim) {
            None | Some("") => None,
            Some(name) => {
                // A `:port` suffix is not part of the name (as Consul does).
                let name = name.rsplit_once(':').map_or(name, |(h, p)| {
                    if p.chars().all(|c| c.is_ascii_digit()) && !h.contains(':') {
                        h
                    } else {
                        name
                    }
                });
                format!("https://{name}/")
                    .parse::<Uri>()
                    .map_err(|_| Error::usage(format!("invalid TLS server name {name:?}")))?;
                Some(name.to_string())
            }
        };
        Ok(TlsConnector {
            inner: RustlsConnector::default(),
            server_name,
        })
    }
}

impl<In: Transport> Connector<In> for TlsConnector {
    type Out = <RustlsConnector as Connector<In>>::Out;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(name) = &self.server_name else {
            return self.inner.connect(details, chained);
        };
        let uri = with_host(details.uri, name)?;
        let renamed = ConnectionDetails {
            uri: &uri,
            addrs: details.addrs.clone(),
            config: details.config,
            request_level: details.request_level,
            resolver: details.resolver,
            now: details.now,
            timeout: details.timeout,
            current_time: details.current_time.clone(),
            run_connector: details.run_connector.clone(),
            register_shutdown: details.register_shutdown.clone(),
        };
        self.inner.connect(&renamed, chained)
    }
}

/// `uri` with its host replaced by `host` (scheme and port kept).
fn with_host(uri: &Uri, host: &str) -> Result<Uri, ureq::Error> {
    let scheme = uri.scheme_str().unwrap_or("https");
    let authority = match uri.port_u16() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    };
    format!("{scheme}://{authority}/")
        .parse::<Uri>()
        .map_err(|e| ureq::Error::BadUri(e.to_string()))
}

/// Connects to a Unix domain socket when the address is `unix://`;
/// otherwise passes on to the TCP connector.
#[derive(Debug)]
struct UnixConnector(Option<PathBuf>);

impl Connector<()> for UnixConnector {
    type Out = UnixTransport;

    fn connect(
        &self,
        details: &ConnectionDetails,
        _chained: Option<()>,
    ) -> Result<Option<UnixTransport>, ureq::Error> {
        let Some(path) = &self.0 else {
            return Ok(None);
        };
        let stream = UnixStream::connect(path)?;
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(UnixTransport { stream, buffers }))
    }
}

/// An HTTP/1.1 connection over a Unix domain socket.
struct UnixTransport {
    stream: UnixStream,
    buffers: LazyBuffers,
}

impl fmt::Debug for UnixTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixTransport").finish()
    }
}

/// The timeout to set on the socket for `timeout`, or a timeout error when
/// the budget is spent.
fn socket_timeout(timeout: &NextTimeout) -> Result<Option<Duration>, ureq::Error> {
    if timeout.after.is_zero() {
        return Err(ureq::Error::Timeout(timeout.reason));
    }
    Ok(timeout.not_zero().map(|d| *d))
}

fn io_timeout(e: io::Error, timeout: &NextTimeout) -> ureq::Error {
    if matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    ) {
        ureq::Error::Timeout(timeout.reason)
    } else {
        ureq::Error::Io(e)
    }
}

impl Transport for UnixTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let timeout = timeout.for_write();
        self.stream.set_write_timeout(socket_timeout(&timeout)?)?;
        let output = &self.buffers.output()[..amount];
        self.stream
            .write_all(output)
            .map_err(|e| io_timeout(e, &timeout))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let timeout = timeout.for_read();
        self.stream.set_read_timeout(socket_timeout(&timeout)?)?;
        let input = self.buffers.input_append_buf();
        let amount = loop {
            match self.stream.read(input) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other.map_err(|e| io_timeout(e, &timeout))?,
            }
        };
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        probe_unix(&self.stream).unwrap_or(false)
    }
}

/// Whether a pooled socket is still usable: no EOF and no stray bytes.
fn probe_unix(stream: &UnixStream) -> io::Result<bool> {
    stream.set_nonblocking(true)?;
    let mut buf = [0u8; 1];
    let open = matches!(
        (&*stream).read(&mut buf),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock
    );
    stream.set_nonblocking(false)?;
    Ok(open)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_parse() {
        let e = Endpoint::parse("127.0.0.1:4646").unwrap();
        assert_eq!(e.base, "http://127.0.0.1:4646");
        let e = Endpoint::parse("https://nomad:4646/prefix/").unwrap();
        assert_eq!(e.base, "https://nomad:4646/prefix");
        assert!(e.https);
        let e = Endpoint::parse("http://u:p@h:1").unwrap();
        assert_eq!(e.base, "http://h:1");
        assert_eq!(e.userinfo.unwrap().user, "u");
        let e = Endpoint::parse("unix:///run/nomad.sock").unwrap();
        assert_eq!(e.unix.unwrap(), PathBuf::from("/run/nomad.sock"));
        assert_eq!(Endpoint::parse("ftp://x").unwrap_err().exit, Exit::Usage);
        assert_eq!(Endpoint::parse("").unwrap_err().exit, Exit::Usage);
    }

    #[test]
    fn encoding_keeps_only_unreserved() {
        assert_eq!(percent_encode("a b/c?d"), "a%20b%2Fc%3Fd");
        assert_eq!(percent_encode("x-1.2_~"), "x-1.2_~");
        assert_eq!(percent_encode("é"), "%C3%A9");
    }

    #[test]
    fn retry_delays_grow_and_are_capped() {
        let p = RetryPolicy::default();
        for _ in 0..50 {
            let d0 = p.delay(0);
            assert!(d0 >= Duration::from_millis(50) && d0 < Duration::from_millis(150));
            let huge = RetryPolicy {
                max_delay: Duration::MAX,
                ..p
            };
            assert!(huge.delay(60) > Duration::from_secs(1));
            let d9 = p.delay(9);
            assert!(d9 >= Duration::from_secs(1) && d9 < Duration::from_secs(3));
        }
    }

    #[test]
    fn secrets_are_redacted() {
        let s = Secret::new("abc");
        assert_eq!(format!("{s:?} {s}"), "<redacted> <redacted>");
        let a = BasicAuth::parse("user").unwrap();
        assert_eq!(a.password.expose(), "");
        assert_eq!(a.header_value(), "Basic dXNlcjo=");
    }

    #[test]
    fn status_errors_map_to_refused() {
        let e: Error = HttpError::Status {
            method: Method::Put,
            path: "/v1/jobs".into(),
            status: 403,
            body: "Permission denied".into(),
        }
        .into();
        assert_eq!(e.exit, Exit::Refused);
        assert_eq!(e.message, "PUT /v1/jobs: 403: Permission denied");
    }
}
