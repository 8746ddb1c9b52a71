//! The HTTP layer and the Nomad client against small servers written here:
//! plain HTTP on 127.0.0.1, a Unix socket, and rustls servers with
//! certificates made by rcgen.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use cli_common::http::{
    HttpClient, HttpConfig, HttpError, Method, Request, RetryPolicy, Secret, TlsOptions,
};
use cli_common::nomad::{escape_path_segment, NomadArgs, NomadClient, NomadConfig};
use cli_common::{Error, Exit};
use serde_json::json;

mod common;
use common::{read_request, Seen};

// ---------------------------------------------------------------- server

/// What the server answers.
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    delay: Duration,
}

impl Reply {
    fn json(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type", "application/json".into())],
            body: body.as_bytes().to_vec(),
            delay: Duration::ZERO,
        }
    }

    fn text(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type", "text/plain; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
            delay: Duration::ZERO,
        }
    }

    fn header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_string()));
        self
    }
}

type Handler = Arc<dyn Fn(usize, &Seen) -> Reply + Send + Sync>;

/// A server's log of requests.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<Seen>>>, Arc<AtomicUsize>);

impl Log {
    fn count(&self) -> usize {
        self.1.load(Ordering::SeqCst)
    }

    fn last(&self) -> Seen {
        self.0.lock().unwrap().last().cloned().expect("a request")
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        307 => "Temporary Redirect",
        403 => "Forbidden",
        500 => "Internal Server Error",
        _ => "Whatever",
    }
}

/// Serves one request on `stream` and closes it.
fn serve(mut stream: impl Read + Write, handler: &Handler, log: &Log) {
    let Some(seen) = read_request(&mut stream) else {
        return;
    };
    let n = log.1.fetch_add(1, Ordering::SeqCst);
    log.0.lock().unwrap().push(seen.clone());
    let reply = handler(n, &seen);
    thread::sleep(reply.delay);
    let mut out = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
    for (k, v) in &reply.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        reply.body.len()
    ));
    let _ = stream.write_all(out.as_bytes());
    let _ = stream.write_all(&reply.body);
    let _ = stream.flush();
}

/// An HTTP server on 127.0.0.1: returns its address and request log.
fn http_server(handler: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static) -> (String, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let log = Log::default();
    let handler: Handler = Arc::new(handler);
    let server_log = log.clone();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (h, l) = (handler.clone(), server_log.clone());
            thread::spawn(move || serve(stream, &h, &l));
        }
    });
    (addr, log)
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        attempts: 4,
        initial_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    }
}

fn nomad(addr: &str) -> NomadConfig {
    let mut config = NomadConfig::new(addr);
    config.http.retry = fast_retry();
    config
}

fn no_env(_: &str) -> Option<String> {
    None
}

// ---------------------------------------------------------- plain HTTP

#[test]
fn token_header_and_region_namespace_params_are_sent() {
    let (addr, log) = http_server(|_, _| Reply::json(200, r#"{"ID":"web"}"#));
    let mut config = nomad(&addr);
    config.token = Some(Secret::new("s3cr3t"));
    config.region = Some("europe".into());
    config.namespace = Some("apps".into());
    let client = NomadClient::new(&config).unwrap();
    let path = format!("/v1/job/{}", escape_path_segment("web app"));
    let response = client.get(&path, &[("stale", "")]).unwrap();
    assert_eq!(response.json().unwrap(), json!({"ID": "web"}));
    let seen = log.last();
    assert_eq!(seen.method, "GET");
    assert_eq!(seen.path(), "/v1/job/web%20app");
    assert_eq!(seen.header("X-Nomad-Token"), Some("s3cr3t"));
    assert_eq!(seen.param("region").as_deref(), Some("europe"));
    assert_eq!(seen.param("namespace").as_deref(), Some("apps"));
    assert_eq!(seen.param("stale").as_deref(), Some(""));
    assert!(seen
        .header("Accept-Encoding")
        .unwrap_or("")
        .contains("gzip"));

    // A per-job override replaces the namespace and keeps the region.
    let job_client = client.with_region_namespace(None, Some("batch"));
    job_client.get("/v1/jobs", &[]).unwrap();
    let seen = log.last();
    assert_eq!(seen.param("namespace").as_deref(), Some("batch"));
    assert_eq!(seen.param("region").as_deref(), Some("europe"));
    assert_eq!(seen.header("X-Nomad-Token"), Some("s3cr3t"));
}

#[test]
fn no_token_no_region_means_no_header_no_params() {
    let (addr, log) = http_server(|_, _| Reply::json(200, "null"));
    let client = NomadClient::new(&nomad(&addr)).unwrap();
    let response = client.get("/v1/job/x/deployment", &[]).unwrap();
    assert_eq!(response.json().unwrap(), serde_json::Value::Null);
    let seen = log.last();
    assert_eq!(seen.header("X-Nomad-Token"), None);
    assert!(seen.query().is_empty(), "{:?}", seen.target);
}

#[test]
fn put_sends_json_body() {
    let (addr, log) = http_server(|_, _| Reply::json(200, r#"{"EvalID":"e1"}"#));
    let client = NomadClient::new(&nomad(&addr)).unwrap();
    let body = json!({"Job": {"ID": "pcd2017"}});
    let r = client.put("/v1/jobs", &[], &body, false).unwrap();
    assert_eq!(r.json().unwrap()["EvalID"], "e1");
    let seen = log.last();
    assert_eq!(seen.method, "PUT");
    assert_eq!(seen.header("Content-Type"), Some("application/json"));
    let sent: serde_json::Value = serde_json::from_slice(&seen.body).unwrap();
    assert_eq!(sent, body);
}

#[test]
fn get_is_retried_after_a_500() {
    let (addr, log) = http_server(|n, _| match n {
        0 => Reply::text(500, "No cluster leader"),
        _ => Reply::json(200, "[]"),
    });
    let client = NomadClient::new(&nomad(&addr)).unwrap();
    let r = client.get("/v1/jobs", &[]).unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(log.count(), 2);
}

#[test]
fn get_gives_up_after_the_attempts() {
    let (addr, log) = http_server(|_, _| Reply::text(500, "No cluster leader"));
    let client = NomadClient::new(&nomad(&addr)).unwrap();
    let err = client.get("/v1/jobs", &[]).unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(log.count(), 4);
}

#[test]
fn put_is_not_retried_unless_idempotent() {
    let (addr, log) = http_server(|_, _| Reply::text(500, "Enforcing job modify index 5"));
    let client = NomadClient::new(&nomad(&addr)).unwrap();
    let err = client.put("/v1/jobs", &[], &json!({}), false).unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(log.count(), 1);

    let err = client
        .put("/v1/agent/join", &[], &json!({}), true)
        .unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert_eq!(log.count(), 5);
}

#[test]
fn connection_refused_is_unreachable() {
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let client = NomadClient::new(&nomad(&addr)).unwrap();
    let err = client.get("/v1/status/leader", &[]).unwrap_err();
    let HttpError::Unreachable(msg) = &err else {
        panic!("{err:?}");
    };
    assert!(msg.contains(&addr), "{msg}");
    assert!(msg.contains("connection refused"), "{msg}");
    let e: Error = err.into();
    assert_eq!(e.exit, Exit::Unreachable);
}

#[test]
fn forbidden_body_is_surfaced_verbatim() {
    let (addr, _) = http_server(|_, _| Reply::text(403, "Permission denied\n"));
    let client = NomadClient::new(&nomad(&addr)).unwrap();
    let err = client.get("/v1/job/web", &[]).unwrap_err();
    assert_eq!(
        err,
        HttpError::Status {
            method: Method::Get,
            path: "/v1/job/web".into(),
            status: 403,
            body: "Permission denied".into(),
        }
    );
    let e: Error = err.into();
    assert_eq!(e.exit, Exit::Refused);
    assert_eq!(e.message, "GET /v1/job/web: 403: Permission denied");
}

#[test]
fn nomad_index_is_parsed_when_valid() {
    let (addr, _) = http_server(|n, _| match n {
        0 => Reply::json(200, "{}").header("X-Nomad-Index", "1234"),
        1 => Reply::json(200, "{}").header("X-Nomad-Index", "12ab"),
        _ => Reply::json(200, "{}"),
    });
    let client = NomadClient::new(&nomad(&addr)).unwrap();
    let r = client.get("/v1/job/web", &[]).unwrap();
    assert_eq!(r.nomad_index(), Some(1234));
    assert_eq!(r.header("x-nomad-index"), Some("1234"));
    assert_eq!(client.get("/v1/job/web", &[]).unwrap().nomad_index(), None);
    assert_eq!(
        client.get("/v1/agent/self", &[]).unwrap().nomad_index(),
        None
    );
}

#[test]
fn blocking_query_sends_index_and_wait_in_ms() {
    let (addr, log) = http_server(|_, _| Reply::json(200, "{}").header("X-Nomad-Index", "43"));
    let client = NomadClient::new(&nomad(&addr)).unwrap();
    let wait = Some(Duration::from_millis(1500));
    let r = client
        .get_blocking("/v1/evaluation/e1", &[], Some(42), wait)
        .unwrap();
    assert_eq!(r.nomad_index(), Some(43));
    let seen = log.last();
    assert_eq!(seen.param("index").as_deref(), Some("42"));
    assert_eq!(seen.param("wait").as_deref(), Some("1500ms"));

    // An absurd wait is sent as asked but does not break the timeout.
    client
        .get_blocking("/v1/evaluation/e1", &[], Some(42), Some(Duration::MAX))
        .unwrap();
    assert!(log.last().param("wait").unwrap().ends_with("ms"));

    // Index 0 or absent: an ordinary query.
    client
        .get_blocking("/v1/evaluation/e1", &[], Some(0), wait)
        .unwrap();
    assert!(log.last().query().is_empty());
    client
        .get_blocking("/v1/evaluation/e1", &[], None, None)
        .unwrap();
    assert!(log.last().query().is_empty());
}

#[test]
fn blocking_query_waits_longer_than_the_read_timeout() {
    let (addr, _) = http_server(|_, _| Reply {
        delay: Duration::from_millis(600),
        ..Reply::json(200, "{}")
    });
    let mut config = nomad(&addr);
    config.http.read_timeout = Duration::from_millis(300);
    config.http.retry = RetryPolicy::none();
    let client = NomadClient::new(&config).unwrap();
    let err = client.get("/v1/job/web", &[]).unwrap_err();
    assert!(matches!(err, HttpError::Timeout(_)), "{err:?}");
    assert_eq!(Error::from(err).exit, Exit::Unreachable);
    let wait = Some(Duration::from_millis(100));
    client
        .get_blocking("/v1/job/web", &[], Some(7), wait)
        .unwrap();
}

#[test]
fn gzip_responses_are_decoded() {
    use flate2::write::GzEncoder;
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(br#"[{"ID":"web"}]"#).unwrap();
    let zipped = gz.finish().unwrap();
    let (addr, log) = http_server(move |_, _| Reply {
        body: zipped.clone(),
        ..Reply::json(200, "").header("Content-Encoding", "gzip")
    });
    let client = NomadClient::new(&nomad(&addr)).unwrap();
    let r = client.get("/v1/jobs", &[]).unwrap();
    assert_eq!(r.json().unwrap(), json!([{"ID": "web"}]));
    assert_eq!(log.last().header("Accept-Encoding"), Some("gzip"));
}

#[test]
fn redirects_are_not_followed() {
    let (addr, log) = http_server(|_, seen| {
        if seen.path() == "/v1/job/web" {
            Reply::text(307, "").header("Location", "/v1/job/other")
        } else {
            Reply::json(200, "{}")
        }
    });
    let client = NomadClient::new(&nomad(&addr)).unwrap();
    let err = client.get("/v1/job/web", &[]).unwrap_err();
    assert_eq!(err.status(), Some(307));
    assert_eq!(log.count(), 1);
    assert_eq!(Error::from(err).exit, Exit::Refused);
}

#[test]
fn basic_auth_from_the_environment_is_sent() {
    let (addr, log) = http_server(|_, _| Reply::json(200, "{}"));
    let env = |k: &str| (k == "NOMAD_HTTP_AUTH").then(|| "ops:pw:x".to_string());
    let args = NomadArgs {
        address: Some(addr),
        ..NomadArgs::default()
    };
    let config = args.config_with_env(env).unwrap();
    NomadClient::new(&config).unwrap().get("/", &[]).unwrap();
    // base64("ops:pw:x")
    assert_eq!(
        log.last().header("Authorization"),
        Some("Basic b3BzOnB3Ong=")
    );
    assert!(!format!("{config:?}").contains("pw:x"));
}

#[test]
fn http_client_extra_headers_and_path_prefix() {
    let (addr, log) = http_server(|_, _| Reply::json(200, "{}"));
    let client = HttpClient::new(&HttpConfig::new(format!("http://{addr}/proxy/")))
        .unwrap()
        .with_header("X-Consul-Token", &Secret::new("tok"))
        .unwrap();
    let r = client
        .send(&Request::get("/v1/agent/members").query("wan", "1"))
        .unwrap();
    assert_eq!(r.status, 200);
    let seen = log.last();
    assert_eq!(seen.target, "/proxy/v1/agent/members?wan=1");
    assert_eq!(seen.header("X-Consul-Token"), Some("tok"));
    assert!(!format!("{client:?}").contains("tok\""));
}

#[test]
fn unix_socket_addresses_work() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("nomad.sock");
    let listener = UnixListener::bind(&sock).unwrap();
    let log = Log::default();
    let handler: Handler = Arc::new(|_, _| Reply::json(200, r#"{"ok":true}"#));
    let server_log = log.clone();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            serve(stream, &handler, &server_log);
        }
    });
    let client = NomadClient::new(&nomad(&format!("unix://{}", sock.display()))).unwrap();
    let r = client.get("/v1/agent/self", &[]).unwrap();
    assert_eq!(r.json().unwrap(), json!({"ok": true}));
    assert_eq!(log.last().path(), "/v1/agent/self");

    let missing = NomadClient::new(&nomad(&format!(
        "unix://{}",
        dir.path().join("nope").display()
    )))
    .unwrap();
    let err = missing.get("/v1/agent/self", &[]).unwrap_err();
    assert!(matches!(err, HttpError::Unreachable(_)), "{err:?}");
}

// ------------------------------------------------------ flags and env

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn defaults_without_flags_or_env() {
    let config = NomadArgs::default().config_with_env(no_env).unwrap();
    assert_eq!(config.http.address, "http://127.0.0.1:4646");
    assert_eq!(config.region, None);
    assert_eq!(config.namespace, None);
    assert!(config.token.is_none());
    assert_eq!(config.http.tls, TlsOptions::default());
}

#[test]
fn environment_is_read_and_flags_win() {
    let env = env_of(&[
        ("NOMAD_ADDR", "https://env:4646"),
        ("NOMAD_REGION", "us"),
        ("NOMAD_NAMESPACE", "env-ns"),
        ("NOMAD_TOKEN", "env-token"),
        ("NOMAD_CACERT", "/env/ca.pem"),
        ("NOMAD_CAPATH", "/env/cas"),
        ("NOMAD_CLIENT_CERT", "/env/cli.pem"),
        ("NOMAD_CLIENT_KEY", "/env/cli-key.pem"),
        ("NOMAD_TLS_SERVER_NAME", "env.nomad"),
        ("NOMAD_SKIP_VERIFY", "true"),
    ]);
    let from_env = NomadArgs::default().config_with_env(&env).unwrap();
    assert_eq!(from_env.http.address, "https://env:4646");
    assert_eq!(from_env.region.as_deref(), Some("us"));
    assert_eq!(from_env.namespace.as_deref(), Some("env-ns"));
    assert_eq!(
        from_env.token.as_ref().map(Secret::expose),
        Some("env-token")
    );
    assert_eq!(
        from_env.http.tls.ca_file,
        Some(PathBuf::from("/env/ca.pem"))
    );
    assert_eq!(from_env.http.tls.ca_path, Some(PathBuf::from("/env/cas")));
    assert_eq!(from_env.http.tls.server_name.as_deref(), Some("env.nomad"));
    assert!(from_env.http.tls.skip_verify);

    let args = NomadArgs {
        address: Some("flag:4646".into()),
        region: Some("europe".into()),
        namespace: Some("flag-ns".into()),
        ca_cert: Some("/flag/ca.pem".into()),
        client_cert: Some("/flag/cli.pem".into()),
        client_key: Some("/flag/key.pem".into()),
        tls_server_name: Some("flag.nomad".into()),
        ..NomadArgs::default()
    };
    let merged = args.config_with_env(&env).unwrap();
    assert_eq!(merged.http.address, "flag:4646");
    assert_eq!(merged.region.as_deref(), Some("europe"));
    assert_eq!(merged.namespace.as_deref(), Some("flag-ns"));
    assert_eq!(merged.http.tls.ca_file, Some(PathBuf::from("/flag/ca.pem")));
    assert_eq!(merged.http.tls.ca_path, Some(PathBuf::from("/env/cas")));
    assert_eq!(
        merged.http.tls.client_cert,
        Some(PathBuf::from("/flag/cli.pem"))
    );
    assert_eq!(merged.http.tls.server_name.as_deref(), Some("flag.nomad"));
}

#[test]
fn token_file_wins_over_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "  file-token\n").unwrap();
    let env = env_of(&[("NOMAD_TOKEN", "env-token")]);
    let args = NomadArgs {
        token_file: Some(file.clone()),
        ..NomadArgs::default()
    };
    let config = args.config_with_env(&env).unwrap();
    assert_eq!(
        config.token.as_ref().map(Secret::expose),
        Some("file-token")
    );

    // An empty file leaves the environment's token.
    std::fs::write(&file, "\n").unwrap();
    let config = args.config_with_env(&env).unwrap();
    assert_eq!(config.token.as_ref().map(Secret::expose), Some("env-token"));

    // An unreadable file is a usage error that does not leak the token.
    let args = NomadArgs {
        token_file: Some(dir.path().join("missing")),
        ..NomadArgs::default()
    };
    let err = args.config_with_env(&env).unwrap_err();
    assert_eq!(err.exit, Exit::Usage);
    assert!(err.message.contains("token file"), "{}", err.message);
}

#[test]
fn skip_verify_parses_go_bools_and_ignores_garbage() {
    let skip = |value: &str| {
        NomadArgs::default()
            .config_with_env(env_of(&[("NOMAD_SKIP_VERIFY", value)]))
            .unwrap()
            .http
            .tls
            .skip_verify
    };
    for yes in ["1", "t", "T", "TRUE", "true", "True"] {
        assert!(skip(yes), "{yes}");
    }
    for no in [
        "0", "f", "F", "FALSE", "false", "False", "yes", "on", "tRuE", "",
    ] {
        assert!(!skip(no), "{no}");
    }
    let args = NomadArgs {
        tls_skip_verify: true,
        ..NomadArgs::default()
    };
    let config = args
        .config_with_env(env_of(&[("NOMAD_SKIP_VERIFY", "false")]))
        .unwrap();
    assert!(config.http.tls.skip_verify);
}

#[test]
fn debug_of_the_config_never_shows_the_token() {
    let env = env_of(&[("NOMAD_TOKEN", "f3c1d9a2-secret")]);
    let config = NomadArgs::default().config_with_env(env).unwrap();
    let debug = format!("{config:?} {:?}", NomadClient::new(&config).unwrap());
    assert!(!debug.contains("f3c1d9a2"), "{debug}");
    assert!(debug.contains("<redacted>"), "{debug}");
}

#[test]
fn client_cert_without_key_is_a_usage_error() {
    let args = NomadArgs {
        client_cert: Some("/x/cli.pem".into()),
        ..NomadArgs::default()
    };
    let err = args.config_with_env(no_env).unwrap_err();
    assert_eq!(err.exit, Exit::Usage);
    assert_eq!(
        err.message,
        "Both client cert and client key must be provided"
    );
    let err = NomadArgs::default()
        .config_with_env(env_of(&[("NOMAD_CLIENT_KEY", "/x/key.pem")]))
        .unwrap_err();
    assert_eq!(
        err.message,
        "Both client cert and client key must be provided"
    );
}

#[test]
fn flags_parse_with_clap_and_help_has_no_token_flag() {
    use clap::{CommandFactory, Parser};
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        nomad: NomadArgs,
    }
    let cli = Cli::try_parse_from([
        "t",
        "--address",
        "https://n:4646",
        "--tls-server-name",
        "nomad.service.consul",
        "--insecure",
        "--token-file",
        "/run/token",
    ])
    .unwrap();
    assert_eq!(cli.nomad.address.as_deref(), Some("https://n:4646"));
    assert!(cli.nomad.tls_skip_verify);
    assert!(Cli::try_parse_from(["t", "--token", "x"]).is_err());
    let help = Cli::command().render_long_help().to_string();
    assert!(help.contains("--token-file"));
    assert!(!help.contains("--token "));
}

// ----------------------------------------------------------------- TLS

mod pki {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    };

    /// A CA that can sign leaves.
    pub struct Ca {
        pub pem: String,
        issuer: Issuer<'static, KeyPair>,
    }

    /// A leaf certificate and its key.
    pub struct Leaf {
        pub cert_pem: String,
        pub key_pem: String,
        pub cert_der: Vec<u8>,
        pub key_der: Vec<u8>,
    }

    pub fn ca(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Ca {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    pub fn leaf(ca: &Ca, names: &[&str]) -> Leaf {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, "leaf");
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &ca.issuer).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().to_vec(),
            key_der: key.serialize_der(),
        }
    }
}

/// A TLS server presenting `leaf`; with `client_ca`, it requires a client
/// certificate issued by that CA.
fn tls_server(leaf: &pki::Leaf, client_ca: Option<&pki::Ca>) -> (u16, Log) {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    use rustls::server::WebPkiClientVerifier;

    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            let der = rustls::pki_types::pem::PemObject::from_pem_slice(ca.pem.as_bytes());
            roots.add(der.unwrap()).unwrap();
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config = Arc::new(
        builder
            .with_single_cert(
                vec![CertificateDer::from(leaf.cert_der.clone())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf.key_der.clone())),
            )
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let log = Log::default();
    let handler: Handler = Arc::new(|_, _| Reply::json(200, r#"{"tls":true}"#));
    let server_log = log.clone();
    thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let (h, l, c) = (handler.clone(), server_log.clone(), config.clone());
            thread::spawn(move || serve_tls(tcp, c, &h, &l));
        }
    });
    (port, log)
}

fn serve_tls(tcp: TcpStream, config: Arc<rustls::ServerConfig>, handler: &Handler, log: &Log) {
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
    let Ok(conn) = rustls::ServerConnection::new(config) else {
        return;
    };
    serve(rustls::StreamOwned::new(conn, tcp), handler, log);
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn tls_client(address: String, tls: TlsOptions) -> Result<NomadClient, Error> {
    let mut config = nomad(&address);
    config.http.tls = tls;
    NomadClient::new(&config)
}

#[test]
fn tls_with_a_ca_file_holding_several_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let (other, ca) = (pki::ca("other CA"), pki::ca("nomad CA"));
    let leaf = pki::leaf(&ca, &["localhost", "127.0.0.1"]);
    let (port, log) = tls_server(&leaf, None);
    let bundle = write(dir.path(), "ca.pem", &format!("{}{}", other.pem, ca.pem));
    let tls = TlsOptions {
        ca_file: Some(bundle),
        ..TlsOptions::default()
    };
    for host in ["localhost", "127.0.0.1"] {
        let client = tls_client(format!("https://{host}:{port}"), tls.clone()).unwrap();
        let r = client.get("/v1/agent/self", &[]).unwrap();
        assert_eq!(r.json().unwrap(), json!({"tls": true}));
    }
    assert_eq!(log.count(), 2);
}

#[test]
fn tls_with_a_ca_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (other, ca) = (pki::ca("other CA"), pki::ca("nomad CA"));
    let leaf = pki::leaf(&ca, &["localhost"]);
    let (port, _) = tls_server(&leaf, None);
    write(dir.path(), "a.pem", &other.pem);
    write(dir.path(), "b.pem", &ca.pem);
    let tls = TlsOptions {
        ca_path: Some(dir.path().to_path_buf()),
        ..TlsOptions::default()
    };
    let client = tls_client(format!("https://localhost:{port}"), tls).unwrap();
    client.get("/v1/agent/self", &[]).unwrap();
}

#[test]
fn tls_with_the_wrong_ca_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let (wrong, ca) = (pki::ca("wrong CA"), pki::ca("nomad CA"));
    let leaf = pki::leaf(&ca, &["localhost"]);
    let (port, log) = tls_server(&leaf, None);
    let tls = TlsOptions {
        ca_file: Some(write(dir.path(), "wrong.pem", &wrong.pem)),
        ..TlsOptions::default()
    };
    let client = tls_client(format!("https://localhost:{port}"), tls).unwrap();
    let err = client.get("/v1/agent/self", &[]).unwrap_err();
    let HttpError::Unreachable(msg) = &err else {
        panic!("{err:?}");
    };
    assert!(
        msg.contains("certificate verify failed: UnknownIssuer"),
        "{msg}"
    );
    assert!(msg.contains(&format!("localhost:{port}")), "{msg}");
    assert_eq!(Error::from(err).exit, Exit::Unreachable);
    assert_eq!(log.count(), 0);
}

#[test]
fn tls_skip_verify_accepts_an_unknown_ca() {
    let ca = pki::ca("nomad CA");
    let leaf = pki::leaf(&ca, &["localhost"]);
    let (port, _) = tls_server(&leaf, None);
    let tls = TlsOptions {
        skip_verify: true,
        ..TlsOptions::default()
    };
    let client = tls_client(format!("https://127.0.0.1:{port}"), tls).unwrap();
    client.get("/v1/agent/self", &[]).unwrap();
}

#[test]
fn tls_server_name_override() {
    let dir = tempfile::tempdir().unwrap();
    let ca = pki::ca("nomad CA");
    let leaf = pki::leaf(&ca, &["nomad.service.consul"]);
    let (port, log) = tls_server(&leaf, None);
    let ca_file = write(dir.path(), "ca.pem", &ca.pem);
    let address = format!("https://127.0.0.1:{port}");

    let without = TlsOptions {
        ca_file: Some(ca_file.clone()),
        ..TlsOptions::default()
    };
    let err = tls_client(address.clone(), without)
        .unwrap()
        .get("/v1/agent/self", &[])
        .unwrap_err();
    let HttpError::Unreachable(msg) = &err else {
        panic!("{err:?}");
    };
    assert!(msg.contains("certificate verify failed"), "{msg}");

    let with = TlsOptions {
        ca_file: Some(ca_file),
        server_name: Some("nomad.service.consul".into()),
        ..TlsOptions::default()
    };
    let client = tls_client(address, with).unwrap();
    client.get("/v1/agent/self", &[]).unwrap();
    // The Host header still names the address connected to.
    assert_eq!(
        log.last().header("Host"),
        Some(format!("127.0.0.1:{port}").as_str())
    );
}

#[test]
fn mutual_tls_needs_the_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let ca = pki::ca("nomad CA");
    let server = pki::leaf(&ca, &["localhost"]);
    let client_leaf = pki::leaf(&ca, &["client.global.nomad"]);
    let (port, log) = tls_server(&server, Some(&ca));
    let address = format!("https://localhost:{port}");
    let ca_file = write(dir.path(), "ca.pem", &ca.pem);

    let anonymous = TlsOptions {
        ca_file: Some(ca_file.clone()),
        ..TlsOptions::default()
    };
    let err = tls_client(address.clone(), anonymous)
        .unwrap()
        .get("/v1/agent/self", &[])
        .unwrap_err();
    assert!(matches!(err, HttpError::Unreachable(_)), "{err:?}");
    assert_eq!(log.count(), 0);

    let args = NomadArgs {
        address: Some(address),
        ca_cert: Some(ca_file),
        client_cert: Some(write(dir.path(), "cli.pem", &client_leaf.cert_pem)),
        client_key: Some(write(dir.path(), "cli-key.pem", &client_leaf.key_pem)),
        ..NomadArgs::default()
    };
    let mut config = args.config_with_env(no_env).unwrap();
    config.http.retry = fast_retry();
    let r = NomadClient::new(&config)
        .unwrap()
        .get("/v1/agent/self", &[])
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(log.count(), 1);
}

#[test]
fn bad_tls_files_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = write(dir.path(), "junk.pem", "not a certificate\n");
    for tls in [
        TlsOptions {
            ca_file: Some(dir.path().join("missing.pem")),
            ..TlsOptions::default()
        },
        TlsOptions {
            ca_file: Some(not_pem.clone()),
            ..TlsOptions::default()
        },
        TlsOptions {
            client_cert: Some(not_pem.clone()),
            client_key: Some(not_pem),
            ..TlsOptions::default()
        },
    ] {
        let err = tls_client("https://localhost:1".into(), tls).unwrap_err();
        assert_eq!(err.exit, Exit::Usage, "{}", err.message);
    }
}
