//! The Consul client against a small local server written here: flags and
//! `CONSUL_*` environment merged as contract 5.1 says, the token header,
//! `dc=`, joins (one address per PUT, no body) and their errors.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use cli_common::consul::{ConsulArgs, ConsulClient, ConsulConfig};
use cli_common::http::{HttpError, RetryPolicy, Secret};
use cli_common::Exit;
use serde_json::json;

mod common;
use common::{read_request, Seen};

// ---------------------------------------------------------------- server

type Log = Arc<Mutex<Vec<Seen>>>;
type Handler = Arc<dyn Fn(&Seen) -> (u16, String) + Send + Sync>;

fn serve(mut stream: impl Read + Write, handler: &Handler, log: &Log) {
    let Some(seen) = read_request(&mut stream) else {
        return;
    };
    log.lock().unwrap().push(seen.clone());
    let (status, body) = handler(&seen);
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
}

/// An HTTP server on 127.0.0.1: its address and request log.
fn server(handler: impl Fn(&Seen) -> (u16, String) + Send + Sync + 'static) -> (String, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let log: Log = Arc::default();
    let handler: Handler = Arc::new(handler);
    let l = log.clone();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (h, l) = (handler.clone(), l.clone());
            thread::spawn(move || serve(stream, &h, &l));
        }
    });
    (addr, log)
}

fn config(addr: &str) -> ConsulConfig {
    let mut config = ConsulConfig::new(format!("http://{addr}"));
    config.http.retry = RetryPolicy {
        attempts: 3,
        initial_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
    };
    config
}

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

fn no_env(_: &str) -> Option<String> {
    None
}

// ------------------------------------------------------------- requests

#[test]
fn token_header_and_dc_are_sent_on_every_request() {
    let (addr, log) = server(|_| (200, r#"["dc1","dc2"]"#.into()));
    let mut config = config(&addr);
    config.token = Some(Secret::new("c0ffee-token"));
    config.datacenter = Some("dc2".into());
    let client = ConsulClient::new(&config).unwrap();
    let dcs = client.get("/v1/catalog/datacenters", &[]).unwrap();
    assert_eq!(dcs.json().unwrap(), json!(["dc1", "dc2"]));
    client.join("10.0.0.9:8302", true).unwrap();
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].target, "/v1/catalog/datacenters?dc=dc2");
    assert_eq!(seen[1].method, "PUT");
    assert_eq!(seen[1].target, "/v1/agent/join/10.0.0.9:8302?wan=1&dc=dc2");
    assert!(seen[1].body.is_empty());
    for s in &seen {
        assert_eq!(s.header("X-Consul-Token"), Some("c0ffee-token"));
    }
}

#[test]
fn no_token_no_datacenter_means_no_header_no_param() {
    let (addr, log) = server(|_| (200, "null".into()));
    let client = ConsulClient::new(&config(&addr)).unwrap();
    let members = client.get("/v1/agent/members", &[("wan", "1")]).unwrap();
    assert_eq!(members.json().unwrap(), serde_json::Value::Null);
    client.join("10.0.0.9", false).unwrap();
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen[0].target, "/v1/agent/members?wan=1");
    assert_eq!(seen[1].target, "/v1/agent/join/10.0.0.9");
    assert!(seen.iter().all(|s| s.header("X-Consul-Token").is_none()));
}

#[test]
fn a_failed_join_keeps_the_agent_text_and_is_not_retried() {
    let text = "1 error occurred:\n\t* Failed to join 10.0.0.9:8302: dial tcp 10.0.0.9:8302: connect: connection refused\n\n";
    let (addr, log) = server(move |_| (500, text.into()));
    let client = ConsulClient::new(&config(&addr)).unwrap();
    let err = client.join("10.0.0.9", true).unwrap_err();
    match &err {
        HttpError::Status { status, body, .. } => {
            assert_eq!(*status, 500);
            assert!(body.starts_with("1 error occurred:"), "{body}");
            assert!(body.contains("Failed to join 10.0.0.9:8302"), "{body}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(log.lock().unwrap().len(), 1);
}

#[test]
fn gets_are_retried_after_a_500() {
    let calls = Arc::new(Mutex::new(0));
    let c = calls.clone();
    let (addr, log) = server(move |_| {
        let mut n = c.lock().unwrap();
        *n += 1;
        if *n == 1 {
            (500, "No cluster leader".into())
        } else {
            (200, "[]".into())
        }
    });
    let client = ConsulClient::new(&config(&addr)).unwrap();
    client.get("/v1/agent/members", &[]).unwrap();
    assert_eq!(log.lock().unwrap().len(), 2);
}

#[test]
fn refusals_and_unreachable_map_to_the_exit_table() {
    let (addr, _) = server(|_| (403, "ACL not found".into()));
    let client = ConsulClient::new(&config(&addr)).unwrap();
    let err: cli_common::Error = client.get("/v1/agent/self", &[]).unwrap_err().into();
    assert_eq!(err.exit, Exit::Refused);
    assert_eq!(err.message, "GET /v1/agent/self: 403: ACL not found");

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = ConsulClient::new(&config(&format!("127.0.0.1:{port}"))).unwrap();
    let err: cli_common::Error = client.get("/v1/agent/self", &[]).unwrap_err().into();
    assert_eq!(err.exit, Exit::Unreachable);
}

#[test]
fn basic_auth_from_the_environment_is_sent() {
    let (addr, log) = server(|_| (200, "{}".into()));
    let args = ConsulArgs {
        http_addr: Some(addr),
        ..ConsulArgs::default()
    };
    let config = args
        .config_with_env(env_of(&[("CONSUL_HTTP_AUTH", "ops:pw")]))
        .unwrap();
    ConsulClient::new(&config)
        .unwrap()
        .get("/v1/agent/self", &[])
        .unwrap();
    let seen = log.lock().unwrap()[0].clone();
    assert_eq!(seen.header("Authorization"), Some("Basic b3BzOnB3"));
}

#[test]
fn unix_socket_addresses_work() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("consul.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let log: Log = Arc::default();
    let handler: Handler = Arc::new(|_| (200, r#""10.1.10.12:8300""#.into()));
    let l = log.clone();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            serve(stream, &handler, &l);
        }
    });
    let args = ConsulArgs {
        http_addr: Some(format!("unix://{}", path.display())),
        ..ConsulArgs::default()
    };
    let config = args.config_with_env(no_env).unwrap();
    let client = ConsulClient::new(&config).unwrap();
    let leader = client.get("/v1/status/leader", &[]).unwrap();
    assert_eq!(leader.json().unwrap(), json!("10.1.10.12:8300"));
}

// ------------------------------------------------------ flags and env

#[test]
fn defaults_without_flags_or_env() {
    let config = ConsulArgs::default().config_with_env(no_env).unwrap();
    assert_eq!(config.http.address, "http://127.0.0.1:8500");
    assert!(config.token.is_none() && config.datacenter.is_none());
    assert!(config.http.basic_auth.is_none());
    assert!(!config.http.tls.skip_verify);
    assert!(config.warnings.is_empty());
}

#[test]
fn environment_is_read_and_flags_win() {
    let env = env_of(&[
        ("CONSUL_HTTP_ADDR", "consul.env:8501"),
        ("CONSUL_HTTP_SSL", "true"),
        ("CONSUL_HTTP_SSL_VERIFY", "false"),
        ("CONSUL_HTTP_TOKEN", "env-token"),
        ("CONSUL_CACERT", "/env/ca.pem"),
        ("CONSUL_CAPATH", "/env/cas"),
        ("CONSUL_CLIENT_CERT", "/env/cli.pem"),
        ("CONSUL_CLIENT_KEY", "/env/cli-key.pem"),
        ("CONSUL_TLS_SERVER_NAME", "server.dc1.consul:8501"),
    ]);
    let from_env = ConsulArgs::default().config_with_env(&env).unwrap();
    assert_eq!(from_env.http.address, "https://consul.env:8501");
    assert!(from_env.http.tls.skip_verify);
    assert_eq!(
        from_env.token.as_ref().map(Secret::expose),
        Some("env-token")
    );
    assert_eq!(
        from_env.http.tls.ca_file,
        Some(PathBuf::from("/env/ca.pem"))
    );
    assert_eq!(from_env.http.tls.ca_path, Some(PathBuf::from("/env/cas")));
    assert_eq!(
        from_env.http.tls.client_cert,
        Some(PathBuf::from("/env/cli.pem"))
    );
    assert_eq!(
        from_env.http.tls.client_key,
        Some(PathBuf::from("/env/cli-key.pem"))
    );
    assert_eq!(
        from_env.http.tls.server_name.as_deref(),
        Some("server.dc1.consul")
    );

    let args = ConsulArgs {
        http_addr: Some("http://flag:8500".into()),
        ca_file: Some("/flag/ca.pem".into()),
        client_cert: Some("/flag/cli.pem".into()),
        client_key: Some("/flag/key.pem".into()),
        tls_server_name: Some("flag.consul".into()),
        datacenter: Some("dc2".into()),
        ..ConsulArgs::default()
    };
    let merged = args.config_with_env(&env).unwrap();
    // CONSUL_HTTP_SSL=true: an explicit http:// does not downgrade.
    assert_eq!(merged.http.address, "https://flag:8500");
    assert_eq!(merged.datacenter.as_deref(), Some("dc2"));
    assert_eq!(merged.http.tls.ca_file, Some(PathBuf::from("/flag/ca.pem")));
    assert_eq!(merged.http.tls.ca_path, Some(PathBuf::from("/env/cas")));
    assert_eq!(
        merged.http.tls.client_key,
        Some(PathBuf::from("/flag/key.pem"))
    );
    assert_eq!(merged.http.tls.server_name.as_deref(), Some("flag.consul"));
}

#[test]
fn ssl_flags_parse_go_bools() {
    let cfg = |pairs: &[(&str, &str)]| {
        ConsulArgs::default()
            .config_with_env(env_of(pairs))
            .unwrap()
    };
    assert_eq!(
        cfg(&[("CONSUL_HTTP_SSL", "1")]).http.address,
        "https://127.0.0.1:8500"
    );
    assert_eq!(
        cfg(&[("CONSUL_HTTP_SSL", "false")]).http.address,
        "http://127.0.0.1:8500"
    );
    let garbage = cfg(&[("CONSUL_HTTP_SSL", "yes")]);
    assert_eq!(garbage.http.address, "http://127.0.0.1:8500");
    assert_eq!(garbage.warnings.len(), 1);
    assert!(garbage.warnings[0].contains("CONSUL_HTTP_SSL"));
    assert!(
        !cfg(&[("CONSUL_HTTP_SSL_VERIFY", "true")])
            .http
            .tls
            .skip_verify
    );
    assert!(
        !cfg(&[("CONSUL_HTTP_SSL_VERIFY", "nope")])
            .http
            .tls
            .skip_verify
    );
    assert!(cfg(&[("CONSUL_HTTP_SSL_VERIFY", "0")]).http.tls.skip_verify);
    assert_eq!(
        cfg(&[("CONSUL_HTTP_ADDR", "https://c:8501")]).http.address,
        "https://c:8501"
    );
}

#[test]
fn unknown_schemes_are_usage_errors() {
    let err = ConsulArgs::default()
        .config_with_env(env_of(&[("CONSUL_HTTP_ADDR", "ftp://c:21")]))
        .unwrap_err();
    assert_eq!(err.exit, Exit::Usage);
    assert!(
        err.message.contains("Unknown protocol scheme: ftp"),
        "{}",
        err.message
    );
}

#[test]
fn token_file_replaces_the_token_when_not_empty() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "  file-token\n").unwrap();
    let path = file.to_string_lossy().into_owned();
    let env = env_of(&[("CONSUL_HTTP_TOKEN", "env-token")]);
    let args = ConsulArgs {
        token_file: Some(file.clone()),
        ..ConsulArgs::default()
    };
    let token = |c: cli_common::consul::ConsulConfig| c.token.map(|t| t.expose().to_string());
    assert_eq!(
        token(args.config_with_env(&env).unwrap()).as_deref(),
        Some("file-token")
    );

    // From the environment too.
    let env2 = env_of(&[
        ("CONSUL_HTTP_TOKEN", "env-token"),
        ("CONSUL_HTTP_TOKEN_FILE", path.as_str()),
    ]);
    let config = ConsulArgs::default().config_with_env(&env2).unwrap();
    assert_eq!(token(config).as_deref(), Some("file-token"));

    // An empty file leaves the token.
    std::fs::write(&file, "\n").unwrap();
    assert_eq!(
        token(args.config_with_env(&env).unwrap()).as_deref(),
        Some("env-token")
    );

    // An unreadable file is a usage error.
    let args = ConsulArgs {
        token_file: Some(dir.path().join("missing")),
        ..ConsulArgs::default()
    };
    let err = args.config_with_env(&env).unwrap_err();
    assert_eq!(err.exit, Exit::Usage);
    assert!(
        err.message.starts_with("Error loading token file"),
        "{}",
        err.message
    );
    assert!(!err.message.contains("env-token"));
}

#[test]
fn debug_never_shows_the_token() {
    let env = env_of(&[("CONSUL_HTTP_TOKEN", "f3c1d9a2-secret")]);
    let config = ConsulArgs::default().config_with_env(env).unwrap();
    let debug = format!("{config:?} {:?}", ConsulClient::new(&config).unwrap());
    assert!(!debug.contains("f3c1d9a2"), "{debug}");
}

#[test]
fn client_cert_without_key_is_a_usage_error() {
    let err = ConsulArgs::default()
        .config_with_env(env_of(&[("CONSUL_CLIENT_CERT", "/x/cli.pem")]))
        .unwrap_err();
    assert_eq!(err.exit, Exit::Usage);
    assert_eq!(
        err.message,
        "Both client cert and client key must be provided"
    );
}

#[test]
fn another_agent_keeps_the_settings() {
    let mut config = ConsulArgs::default()
        .config_with_env(env_of(&[
            ("CONSUL_HTTP_SSL", "true"),
            ("CONSUL_HTTP_TOKEN", "t"),
        ]))
        .unwrap();
    config.datacenter = Some("dc1".into());
    let peer = config.with_address("10.2.0.1:8501").unwrap();
    assert_eq!(peer.http.address, "https://10.2.0.1:8501");
    assert_eq!(peer.token.as_ref().map(Secret::expose), Some("t"));
    assert!(config.with_address("gopher://x").is_err());
}

#[test]
fn flags_parse_with_clap_and_there_is_no_token_flag() {
    use clap::{CommandFactory, Parser};
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        consul: ConsulArgs,
    }
    let cli = Cli::try_parse_from([
        "t",
        "--http-addr",
        "https://c:8501",
        "--datacenter",
        "dc2",
        "--ca-file",
        "/ca.pem",
        "--ca-path",
        "/cas",
        "--client-cert",
        "/c.pem",
        "--client-key",
        "/k.pem",
        "--tls-server-name",
        "server.dc2.consul",
        "--token-file",
        "/run/token",
    ])
    .unwrap();
    assert_eq!(cli.consul.http_addr.as_deref(), Some("https://c:8501"));
    assert_eq!(cli.consul.datacenter.as_deref(), Some("dc2"));
    assert!(Cli::try_parse_from(["t", "--token", "x"]).is_err());
    let help = Cli::command().render_long_help().to_string();
    assert!(help.contains("--token-file"));
    assert!(!help.contains("--token "));
}
