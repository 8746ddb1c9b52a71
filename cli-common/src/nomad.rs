//! The Nomad HTTP API client: flags and environment merged as the `nomad`
//! CLI does (api contract 1.1), and requests carrying the token header and
//! the `region`/`namespace` parameters.
//!
//! ```no_run
//! # fn demo() -> Result<(), cli_common::Error> {
//! use clap::Parser;
//! use cli_common::nomad::{escape_path_segment, NomadArgs, NomadClient};
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(flatten)]
//!     nomad: NomadArgs,
//! }
//!
//! let cli = Cli::parse();
//! let client = NomadClient::new(&cli.nomad.config()?)?;
//! let path = format!("/v1/job/{}", escape_path_segment("my job"));
//! let job = client.get(&path, &[])?.json()?;
//! # let _ = job;
//! # Ok(())
//! # }
//! ```

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::env::{pick, pick_path, read_token_file, Env};
use crate::http::{
    percent_encode, BasicAuth, HttpClient, HttpConfig, HttpError, Request, Response, Secret,
    TlsOptions,
};
use crate::Error;

/// The address used when neither `--address` nor `NOMAD_ADDR` is set.
pub const DEFAULT_ADDRESS: &str = "http://127.0.0.1:4646";

/// The header carrying the ACL token.
pub const TOKEN_HEADER: &str = "X-Nomad-Token";

/// Slack added to a blocking query's read timeout beyond `wait + wait/16`.
const BLOCKING_MARGIN: Duration = Duration::from_secs(5);

/// The server's default (and maximum) blocking wait, used for the read
/// timeout when a blocking query gives no `wait`.
const DEFAULT_BLOCKING_WAIT: Duration = Duration::from_secs(300);

/// Longest wait the read timeout of a blocking query accounts for (twice
/// the server's cap, to leave room for a server configured otherwise).
const MAX_BLOCKING_WAIT: Duration = Duration::from_secs(600);

/// Nomad connection flags, shared by every tool that talks to Nomad. Each
/// flag overrides its `NOMAD_*` environment variable. The ACL token is
/// never a flag value: it comes from `--token-file` or `NOMAD_TOKEN`.
#[derive(Debug, Clone, Default, Args)]
pub struct NomadArgs {
    /// Address of the Nomad HTTP API: http://host:port, https://host:port,
    /// host:port or unix:///path [env: NOMAD_ADDR, default:
    /// http://127.0.0.1:4646]
    #[arg(long, value_name = "ADDR")]
    pub address: Option<String>,
    /// Region to send requests to [env: NOMAD_REGION]
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Namespace of the job [env: NOMAD_NAMESPACE]
    #[arg(long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// File holding the ACL token (whitespace-trimmed); wins over
    /// NOMAD_TOKEN. The token itself is never a flag.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// PEM file of CA certificates to verify the server with [env:
    /// NOMAD_CACERT]
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// Directory of PEM CA certificates [env: NOMAD_CAPATH]
    #[arg(long, value_name = "DIR")]
    pub ca_path: Option<PathBuf>,
    /// PEM client certificate for mutual TLS; needs --client-key [env:
    /// NOMAD_CLIENT_CERT]
    #[arg(long, value_name = "FILE")]
    pub client_cert: Option<PathBuf>,
    /// PEM private key of the client certificate; needs --client-cert [env:
    /// NOMAD_CLIENT_KEY]
    #[arg(long, value_name = "FILE")]
    pub client_key: Option<PathBuf>,
    /// Name to verify the server certificate against (and send as SNI)
    /// instead of the address's host [env: NOMAD_TLS_SERVER_NAME]
    #[arg(long, value_name = "NAME")]
    pub tls_server_name: Option<String>,
    /// Do not verify the server certificate (insecure) [env:
    /// NOMAD_SKIP_VERIFY]
    #[arg(long, alias = "insecure")]
    pub tls_skip_verify: bool,
}

/// Everything needed to build a [`NomadClient`], after merging flags over
/// the environment. Its `Debug` never shows the token.
#[derive(Debug, Clone)]
pub struct NomadConfig {
    /// The transport: address, TLS, basic auth (`NOMAD_HTTP_AUTH`),
    /// timeouts and retries.
    pub http: HttpConfig,
    /// `?region=` on every request when set.
    pub region: Option<String>,
    /// `?namespace=` on every request when set.
    pub namespace: Option<String>,
    /// The ACL token, sent as `X-Nomad-Token`.
    pub token: Option<Secret>,
}

impl NomadConfig {
    /// A configuration for `address` with nothing else set and the default
    /// timeouts and retries.
    pub fn new(address: impl Into<String>) -> NomadConfig {
        NomadConfig {
            http: HttpConfig::new(address),
            region: None,
            namespace: None,
            token: None,
        }
    }
}

/// Parses a boolean as Go's `strconv.ParseBool` does: `1 t T TRUE true
/// True` and `0 f F FALSE false False`; anything else is `None`.
pub fn parse_go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

impl NomadArgs {
    /// Merges the flags over the process environment.
    pub fn config(&self) -> Result<NomadConfig, Error> {
        self.config_with_env(|name| std::env::var(name).ok())
    }

    /// Merges the flags over the environment seen through `env` (a lookup
    /// of a variable by name), as the contract's table 1.1 says. Empty
    /// values count as unset.
    pub fn config_with_env(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<NomadConfig, Error> {
        let env: Env<'_> = &env;
        let address = pick(self.address.as_deref(), env, "NOMAD_ADDR")
            .unwrap_or_else(|| DEFAULT_ADDRESS.to_string());
        let mut config = NomadConfig::new(address);
        config.region = pick(self.region.as_deref(), env, "NOMAD_REGION");
        config.namespace = pick(self.namespace.as_deref(), env, "NOMAD_NAMESPACE");
        config.token = self.token(env)?;
        config.http.basic_auth = env("NOMAD_HTTP_AUTH").and_then(|v| BasicAuth::parse(&v));
        config.http.tls = self.tls(env);
        config.http.tls.validate()?;
        Ok(config)
    }

    fn token(&self, env: Env<'_>) -> Result<Option<Secret>, Error> {
        if let Some(path) = &self.token_file {
            if let Some(token) = read_token_file(path)? {
                return Ok(Some(token));
            }
        }
        Ok(env("NOMAD_TOKEN")
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .map(Secret::new))
    }

    fn tls(&self, env: Env<'_>) -> TlsOptions {
        let skip_env = env("NOMAD_SKIP_VERIFY").and_then(|v| parse_go_bool(v.trim()));
        TlsOptions {
            ca_file: pick_path(self.ca_cert.as_ref(), env, "NOMAD_CACERT"),
            ca_path: pick_path(self.ca_path.as_ref(), env, "NOMAD_CAPATH"),
            client_cert: pick_path(self.client_cert.as_ref(), env, "NOMAD_CLIENT_CERT"),
            client_key: pick_path(self.client_key.as_ref(), env, "NOMAD_CLIENT_KEY"),
            server_name: pick(
                self.tls_server_name.as_deref(),
                env,
                "NOMAD_TLS_SERVER_NAME",
            ),
            skip_verify: self.tls_skip_verify || skip_env.unwrap_or(false),
        }
    }
}

/// Escapes a path segment (a job ID, say) for a request path:
/// everything but `A-Z a-z 0-9 - . _ ~` is percent-encoded, so `/`, `?`,
/// `#`, spaces and non-ASCII are safe.
pub fn escape_path_segment(segment: &str) -> String {
    percent_encode(segment)
}

/// A Nomad API client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct NomadClient {
    http: HttpClient,
    region: Option<String>,
    namespace: Option<String>,
}

impl NomadClient {
    /// Builds the client (loads TLS files; a usage error if they are bad).
    pub fn new(config: &NomadConfig) -> Result<NomadClient, Error> {
        let mut http = HttpClient::new(&config.http)?;
        if let Some(token) = &config.token {
            http = http.with_header(TOKEN_HEADER, token)?;
        }
        Ok(NomadClient {
            http,
            region: config.region.clone().filter(|r| !r.is_empty()),
            namespace: config.namespace.clone().filter(|n| !n.is_empty()),
        })
    }

    /// A clone for requests about one job: `Some(value)` replaces the
    /// region or namespace (`Some("")` removes it), `None` keeps this
    /// client's.
    pub fn with_region_namespace(
        &self,
        region: Option<&str>,
        namespace: Option<&str>,
    ) -> NomadClient {
        let pick = |new: Option<&str>, old: &Option<String>| match new {
            Some("") => None,
            Some(v) => Some(v.to_string()),
            None => old.clone(),
        };
        NomadClient {
            http: self.http.clone(),
            region: pick(region, &self.region),
            namespace: pick(namespace, &self.namespace),
        }
    }

    /// The region sent with every request, if any.
    pub fn region(&self) -> Option<&str> {
        self.region.as_deref()
    }

    /// The namespace sent with every request, if any.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// The transport underneath.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// GET `path` with `query` (retried on connection errors and 5xx).
    pub fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Response, HttpError> {
        self.send(Request::get(path).queries(query))
    }

    /// A blocking GET: with `index` > 0 it sends `index` and, when given,
    /// `wait=<ms>ms` as the Go client does, and waits up to `wait + wait/16`
    /// plus a margin for the answer (the server's 5 minutes when `wait` is
    /// `None`; at most 10 minutes are counted). Retried like
    /// [`NomadClient::get`].
    pub fn get_blocking(
        &self,
        path: &str,
        query: &[(&str, &str)],
        index: Option<u64>,
        wait: Option<Duration>,
    ) -> Result<Response, HttpError> {
        let mut request = Request::get(path).queries(query);
        if let Some(index) = index.filter(|i| *i > 0) {
            request = request.query("index", index.to_string());
            if let Some(wait) = wait {
                request = request.query("wait", format!("{}ms", wait.as_millis()));
            }
            // The server caps the wait at 5 minutes: a longer one changes nothing.
            let wait = wait.unwrap_or(DEFAULT_BLOCKING_WAIT).min(MAX_BLOCKING_WAIT);
            request = request.read_timeout(
                wait.saturating_add(wait / 16)
                    .saturating_add(BLOCKING_MARGIN),
            );
        }
        self.send(request)
    }

    /// PUT `body` as JSON to `path`. Retried only when `idempotent`.
    pub fn put(
        &self,
        path: &str,
        query: &[(&str, &str)],
        body: &serde_json::Value,
        idempotent: bool,
    ) -> Result<Response, HttpError> {
        self.send(
            Request::put(path, body)
                .queries(query)
                .idempotent(idempotent),
        )
    }

    /// Sends any request, adding `region` and `namespace`.
    pub fn send(&self, mut request: Request) -> Result<Response, HttpError> {
        if let Some(region) = &self.region {
            request = request.query("region", region.as_str());
        }
        if let Some(namespace) = &self.namespace {
            request = request.query("namespace", namespace.as_str());
        }
        self.http.send(&request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_bools() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_go_bool(t), Some(true), "{t}");
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_go_bool(f), Some(false), "{f}");
        }
        for bad in ["", "yes", "tRUE", "2", " true"] {
            assert_eq!(parse_go_bool(bad), None, "{bad}");
        }
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(escape_path_segment("web/api v2"), "web%2Fapi%20v2");
        assert_eq!(escape_path_segment("pcd2017"), "pcd2017");
    }

    #[test]
    fn region_namespace_override() {
        let mut config = NomadConfig::new("http://127.0.0.1:1");
        config.region = Some("europe".into());
        let client = NomadClient::new(&config).unwrap();
        let c = client.with_region_namespace(None, Some("apps"));
        assert_eq!((c.region(), c.namespace()), (Some("europe"), Some("apps")));
        let c = c.with_region_namespace(Some(""), Some("other"));
        assert_eq!((c.region(), c.namespace()), (None, Some("other")));
    }
}
