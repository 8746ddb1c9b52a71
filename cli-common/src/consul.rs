//! The Consul HTTP API client: flags and environment merged as the `consul`
//! CLI and the Go API client do (api contract 5.1), and requests carrying
//! the `X-Consul-Token` header and, with `--datacenter`, the `dc` parameter.
//!
//! ```no_run
//! # fn demo() -> Result<(), cli_common::Error> {
//! use clap::Parser;
//! use cli_common::consul::{ConsulArgs, ConsulClient};
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(flatten)]
//!     consul: ConsulArgs,
//! }
//!
//! let cli = Cli::parse();
//! let client = ConsulClient::new(&cli.consul.config()?)?;
//! let members = client.get("/v1/agent/members", &[("wan", "1")])?.json()?;
//! client.join("10.0.0.9:8302", true)?;
//! # let _ = members;
//! # Ok(())
//! # }
//! ```

use std::path::PathBuf;

use clap::Args;

use crate::env::{pick, pick_path, read_token_file, Env};
use crate::http::{
    BasicAuth, HttpClient, HttpConfig, HttpError, Method, Request, Response, Secret, TlsOptions,
};
use crate::nomad::parse_go_bool;
use crate::Error;

/// The address used when neither `--http-addr` nor `CONSUL_HTTP_ADDR` is
/// set (plain HTTP unless `CONSUL_HTTP_SSL=true`).
pub const DEFAULT_ADDRESS: &str = "127.0.0.1:8500";

/// The header carrying the ACL token.
pub const TOKEN_HEADER: &str = "X-Consul-Token";

/// Consul connection flags, shared by every tool that talks to Consul. Each
/// flag overrides its `CONSUL_*` environment variable. The ACL token is
/// never a flag value: it comes from `--token-file`,
/// `CONSUL_HTTP_TOKEN_FILE` or `CONSUL_HTTP_TOKEN`.
#[derive(Debug, Clone, Default, Args)]
pub struct ConsulArgs {
    /// Address of the Consul HTTP API: host:port, http://host:port,
    /// https://host:port or unix:///path [env: CONSUL_HTTP_ADDR, default:
    /// 127.0.0.1:8500]
    #[arg(long, value_name = "ADDR")]
    pub http_addr: Option<String>,
    /// File holding the ACL token (whitespace-trimmed); when non-empty it
    /// replaces CONSUL_HTTP_TOKEN. The token itself is never a flag [env:
    /// CONSUL_HTTP_TOKEN_FILE]
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// PEM file of CA certificates to verify the server with [env:
    /// CONSUL_CACERT]
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Directory of PEM CA certificates [env: CONSUL_CAPATH]
    #[arg(long, value_name = "DIR")]
    pub ca_path: Option<PathBuf>,
    /// PEM client certificate for mutual TLS; needs --client-key [env:
    /// CONSUL_CLIENT_CERT]
    #[arg(long, value_name = "FILE")]
    pub client_cert: Option<PathBuf>,
    /// PEM private key of the client certificate; needs --client-cert [env:
    /// CONSUL_CLIENT_KEY]
    #[arg(long, value_name = "FILE")]
    pub client_key: Option<PathBuf>,
    /// Name to verify the server certificate against (and send as SNI); a
    /// `:port` suffix is ignored [env: CONSUL_TLS_SERVER_NAME]
    #[arg(long, value_name = "NAME")]
    pub tls_server_name: Option<String>,
    /// Datacenter to query instead of the agent's own (sent as `dc=`)
    #[arg(long, value_name = "DC")]
    pub datacenter: Option<String>,
}

/// Everything needed to build a [`ConsulClient`], after merging flags over
/// the environment. Its `Debug` never shows the token.
#[derive(Debug, Clone)]
pub struct ConsulConfig {
    /// The transport: the address with its scheme (`http://…`,
    /// `https://…` or `unix:///…`), TLS, basic auth (`CONSUL_HTTP_AUTH`),
    /// timeouts and retries.
    pub http: HttpConfig,
    /// `?dc=` on every request when set.
    pub datacenter: Option<String>,
    /// The ACL token, sent as `X-Consul-Token`.
    pub token: Option<Secret>,
    /// Things worth telling the user that did not stop the configuration
    /// (an unparsable `CONSUL_HTTP_SSL`, say).
    pub warnings: Vec<String>,
}

impl ConsulConfig {
    /// A configuration for `address` (used as given: include the scheme)
    /// with nothing else set and the default timeouts and retries.
    pub fn new(address: impl Into<String>) -> ConsulConfig {
        ConsulConfig {
            http: HttpConfig::new(address),
            datacenter: None,
            token: None,
            warnings: Vec::new(),
        }
    }

    /// The same settings for another agent at `address` (normalised as
    /// `CONSUL_HTTP_ADDR` is, keeping this configuration's TLS choice for a
    /// bare `host:port`).
    pub fn with_address(&self, address: &str) -> Result<ConsulConfig, Error> {
        let https = self.http.address.starts_with("https://");
        let mut config = self.clone();
        config.http.address = normalize_address(address, https)?;
        Ok(config)
    }
}

/// Normalises a Consul address as the Go client does: `http://` and
/// `https://` (which forces TLS) and `unix://` are kept; an address without
/// a scheme gets `https://` when `https` (`CONSUL_HTTP_SSL=true`), else
/// `http://`. An explicit `http://` does not downgrade a TLS request. Any
/// other scheme is a usage error `Unknown protocol scheme`.
pub fn normalize_address(address: &str, https: bool) -> Result<String, Error> {
    let address = address.trim();
    let Some((scheme, rest)) = address.split_once("://") else {
        let scheme = if https { "https" } else { "http" };
        return Ok(format!("{scheme}://{address}"));
    };
    match scheme {
        "https" => Ok(address.to_string()),
        "http" if https => Ok(format!("https://{rest}")),
        "http" | "unix" => Ok(address.to_string()),
        other => Err(Error::usage(format!(
            "address {address}: Unknown protocol scheme: {other}"
        ))),
    }
}

/// Strips a `:port` suffix from a TLS server name (`consul.example:8501`
/// becomes `consul.example`); IPv6 literals are left alone.
pub fn strip_port(name: &str) -> String {
    let name = name.trim();
    if let Some(inner) = name.strip_prefix('[') {
        if let Some((host, _)) = inner.split_once(']') {
            return host.to_string();
        }
    }
    match name.rsplit_once(':') {
        Some((host, port))
            if !host.contains(':')
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit()) =>
        {
            host.to_string()
        }
        _ => name.to_string(),
    }
}

impl ConsulArgs {
    /// Merges the flags over the process environment.
    pub fn config(&self) -> Result<ConsulConfig, Error> {
        self.config_with_env(|name| std::env::var(name).ok())
    }

    /// Merges the flags over the environment seen through `env` (a lookup
    /// of a variable by name), as the contract's table 5.1 says. Empty
    /// values count as unset.
    pub fn config_with_env(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ConsulConfig, Error> {
        let env: Env<'_> = &env;
        let mut warnings = Vec::new();
        let https = ssl_from_env(env, &mut warnings);
        let address = pick(self.http_addr.as_deref(), env, "CONSUL_HTTP_ADDR")
            .unwrap_or_else(|| DEFAULT_ADDRESS.to_string());
        let mut config = ConsulConfig::new(normalize_address(&address, https)?);
        config.datacenter = self.datacenter.clone().filter(|d| !d.is_empty());
        config.token = self.token(env)?;
        config.http.basic_auth = env("CONSUL_HTTP_AUTH").and_then(|v| BasicAuth::parse(&v));
        config.http.tls = self.tls(env);
        config.http.tls.validate()?;
        config.warnings = warnings;
        Ok(config)
    }

    fn token(&self, env: Env<'_>) -> Result<Option<Secret>, Error> {
        let file = pick_path(self.token_file.as_ref(), env, "CONSUL_HTTP_TOKEN_FILE");
        if let Some(path) = file {
            if let Some(token) = read_token_file(&path)? {
                return Ok(Some(token));
            }
        }
        Ok(env("CONSUL_HTTP_TOKEN")
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .map(Secret::new))
    }

    fn tls(&self, env: Env<'_>) -> TlsOptions {
        let verify = env("CONSUL_HTTP_SSL_VERIFY").and_then(|v| parse_go_bool(v.trim()));
        TlsOptions {
            ca_file: pick_path(self.ca_file.as_ref(), env, "CONSUL_CACERT"),
            ca_path: pick_path(self.ca_path.as_ref(), env, "CONSUL_CAPATH"),
            client_cert: pick_path(self.client_cert.as_ref(), env, "CONSUL_CLIENT_CERT"),
            client_key: pick_path(self.client_key.as_ref(), env, "CONSUL_CLIENT_KEY"),
            server_name: pick(
                self.tls_server_name.as_deref(),
                env,
                "CONSUL_TLS_SERVER_NAME",
            )
            .map(|n| strip_port(&n))
            .filter(|n| !n.is_empty()),
            skip_verify: verify == Some(false),
        }
    }
}

/// `CONSUL_HTTP_SSL` as a Go bool; an unparsable value is ignored with a
/// warning.
fn ssl_from_env(env: Env<'_>, warnings: &mut Vec<String>) -> bool {
    let Some(value) = env("CONSUL_HTTP_SSL").filter(|v| !v.trim().is_empty()) else {
        return false;
    };
    match parse_go_bool(value.trim()) {
        Some(on) => on,
        None => {
            warnings.push(format!(
                "could not parse CONSUL_HTTP_SSL {value:?} as a bool: ignored"
            ));
            false
        }
    }
}

/// Escapes a path segment that is an address: everything but
/// `A-Z a-z 0-9 - . _ ~ :` is percent-encoded, so `host:port` goes on the
/// wire as written.
pub fn escape_address_segment(segment: &str) -> String {
    segment
        .split(':')
        .map(crate::http::percent_encode)
        .collect::<Vec<_>>()
        .join(":")
}

/// A Consul API client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ConsulClient {
    http: HttpClient,
    datacenter: Option<String>,
}

impl ConsulClient {
    /// Builds the client (loads TLS files; a usage error if they are bad).
    pub fn new(config: &ConsulConfig) -> Result<ConsulClient, Error> {
        let mut http = HttpClient::new(&config.http)?;
        if let Some(token) = &config.token {
            http = http.with_header(TOKEN_HEADER, token)?;
        }
        Ok(ConsulClient {
            http,
            datacenter: config.datacenter.clone().filter(|d| !d.is_empty()),
        })
    }

    /// The datacenter sent with every request, if any.
    pub fn datacenter(&self) -> Option<&str> {
        self.datacenter.as_deref()
    }

    /// The transport underneath.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// GET `path` with `query` (retried on connection errors and 5xx).
    pub fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Response, HttpError> {
        self.send(Request::get(path).queries(query))
    }

    /// PUT to `path` with `query` and no body (what Consul's agent
    /// endpoints such as join expect). Not retried.
    pub fn put(&self, path: &str, query: &[(&str, &str)]) -> Result<Response, HttpError> {
        self.send(Request::new(Method::Put, path).queries(query))
    }

    /// `PUT /v1/agent/join/<address>[?wan=1]`: one address per request, as
    /// given. Success is a 200 with an empty body; a failed join is a
    /// [`HttpError::Status`] (500) whose body is the agent's message.
    pub fn join(&self, address: &str, wan: bool) -> Result<(), HttpError> {
        let path = format!("/v1/agent/join/{}", escape_address_segment(address));
        let query: &[(&str, &str)] = if wan { &[("wan", "1")] } else { &[] };
        self.put(&path, query).map(|_| ())
    }

    /// Sends any request, adding `dc` when a datacenter is set.
    pub fn send(&self, mut request: Request) -> Result<Response, HttpError> {
        if let Some(dc) = &self.datacenter {
            request = request.query("dc", dc.as_str());
        }
        self.http.send(&request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_normalise_like_the_go_client() {
        assert_eq!(
            normalize_address("127.0.0.1:8500", false).unwrap(),
            "http://127.0.0.1:8500"
        );
        assert_eq!(
            normalize_address("127.0.0.1:8501", true).unwrap(),
            "https://127.0.0.1:8501"
        );
        assert_eq!(
            normalize_address("http://c:8500", true).unwrap(),
            "https://c:8500"
        );
        assert_eq!(
            normalize_address("unix:///run/consul.sock", true).unwrap(),
            "unix:///run/consul.sock"
        );
        let err = normalize_address("ftp://c:21", false).unwrap_err();
        assert!(err.message.contains("Unknown protocol scheme: ftp"));
    }

    #[test]
    fn server_names_lose_their_port() {
        assert_eq!(strip_port("consul.example:8501"), "consul.example");
        assert_eq!(strip_port("consul.example"), "consul.example");
        assert_eq!(strip_port("[fd00::1]:8501"), "fd00::1");
        assert_eq!(strip_port("fd00::1"), "fd00::1");
    }

    #[test]
    fn address_segments_keep_the_colon() {
        assert_eq!(escape_address_segment("10.0.0.9:8302"), "10.0.0.9:8302");
        assert_eq!(escape_address_segment("a b/c"), "a%20b%2Fc");
    }
}
