//! The listener, connection threads, TLS, and the cross-cutting switches (ACL, delay,
//! dropped connections) applied before routing.

use std::collections::BTreeMap;
use std::io::{self, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, ServerConnection, StreamOwned};
use serde_json::Value;

use crate::http::{read_request_body, read_request_head, ReadError, RecordedRequest, Response};
use crate::routes;
use crate::scenario::{DropOn, Scenario, TlsSetup};
use crate::store::Store;
use crate::util::new_id;

/// State shared by the listener, connection threads and life-cycle threads.
pub(crate) struct Shared {
    pub store: Mutex<Store>,
    pub cond: Condvar,
    pub scenario: Scenario,
    /// Fake client nodes `(id, name)` allocations are placed on.
    pub nodes: Vec<(String, String)>,
    requests: Mutex<Vec<RecordedRequest>>,
    drop_count: AtomicU32,
    fail_count: AtomicU32,
    stopping: AtomicBool,
    /// Clones of the open connections, so shutdown can close them.
    open: Mutex<BTreeMap<u64, TcpStream>>,
    next_conn: AtomicU64,
}

impl Shared {
    /// Locks the store (a poisoned lock is recovered: the double never gives up).
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sleeps `d` unless the double shuts down first; `false` on shutdown.
    pub fn sleep(&self, d: Duration) -> bool {
        let now = Instant::now();
        let deadline = now
            .checked_add(d)
            .unwrap_or(now + Duration::from_secs(86_400));
        let mut store = self.lock();
        loop {
            if store.shutdown {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            store = self
                .cond
                .wait_timeout(store, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    /// Keeps a clone of a new connection; returns its key.
    fn remember(&self, stream: &TcpStream) -> u64 {
        let id = self.next_conn.fetch_add(1, Ordering::SeqCst);
        if let Ok(clone) = stream.try_clone() {
            self.open
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id, clone);
        }
        id
    }

    /// Closes a finished connection for good (the kept clone would hold it open).
    fn forget(&self, id: u64) {
        let clone = self
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        if let Some(s) = clone {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    fn record(&self, req: &RecordedRequest) {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(req.clone());
    }

    /// Whether this request is the one the scenario's drop rule picks.
    fn should_drop(&self, req: &RecordedRequest) -> bool {
        self.scenario
            .drop
            .is_some_and(|rule| picks(rule.on, rule.nth, &self.drop_count, req))
    }

    /// The server error the scenario's fail rule gives this request, if any.
    fn failure(&self, req: &RecordedRequest) -> Option<Response> {
        let rule = self.scenario.fail.as_ref()?;
        picks(rule.on, rule.nth, &self.fail_count, req)
            .then(|| Response::text(rule.status, rule.body.clone()))
    }
}

/// Counts requests matching `on`; true for the `nth` one.
fn picks(on: DropOn, nth: u32, counter: &AtomicU32, req: &RecordedRequest) -> bool {
    let segs = req.segments();
    let read_of = |kind: &str| req.method == "GET" && segs.len() == 3 && segs[1] == kind;
    let matches = match on {
        DropOn::AnyRequest => true,
        DropOn::EvaluationRead => read_of("evaluation"),
        DropOn::DeploymentRead => read_of("deployment"),
    };
    matches && counter.fetch_add(1, Ordering::SeqCst) + 1 == nth
}

/// A running test double of the Nomad HTTP API. Shuts down when dropped.
pub struct NomadDouble {
    shared: Arc<Shared>,
    addr: SocketAddr,
    tls: bool,
    accept: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for NomadDouble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NomadDouble")
            .field("address", &self.address())
            .finish()
    }
}

impl NomadDouble {
    /// Starts the double on `127.0.0.1` with an OS-chosen port.
    ///
    /// # Panics
    /// If the socket cannot be bound or the TLS material is invalid (a broken test setup).
    pub fn start(scenario: Scenario) -> Self {
        Self::start_on("127.0.0.1:0", scenario).expect("api-double: cannot start the Nomad double")
    }

    /// Starts the double on a given address (e.g. `127.0.0.1:4646`).
    pub fn start_on(addr: &str, scenario: Scenario) -> io::Result<Self> {
        let tls_config = scenario.tls.as_ref().map(server_config).transpose()?;
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            store: Mutex::new(Store::default()),
            cond: Condvar::new(),
            nodes: fake_nodes(),
            requests: Mutex::new(Vec::new()),
            drop_count: AtomicU32::new(0),
            fail_count: AtomicU32::new(0),
            stopping: AtomicBool::new(false),
            open: Mutex::new(BTreeMap::new()),
            next_conn: AtomicU64::new(0),
            scenario,
        });
        routes::seed(&shared);
        let accept_shared = Arc::clone(&shared);
        let accept = thread::spawn(move || accept_loop(listener, accept_shared, tls_config));
        Ok(Self {
            tls: shared.scenario.tls.is_some(),
            shared,
            addr,
            accept: Some(accept),
        })
    }

    /// Base URL, `http://127.0.0.1:PORT` (or `https://…` in TLS mode).
    pub fn address(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The bound socket address.
    pub fn socket_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The stored job (full API JSON as `GET /v1/job/:id` returns it).
    pub fn job(&self, namespace: &str, id: &str) -> Option<Value> {
        self.shared.lock().job(namespace, id).map(|j| j.render())
    }

    /// The `Submission` received with the last register of a job, as received.
    pub fn submission(&self, namespace: &str, id: &str) -> Option<Value> {
        self.shared
            .lock()
            .job(namespace, id)
            .and_then(|j| j.submission.clone())
    }

    /// IDs of a job's deployments, oldest first.
    pub fn deployment_ids(&self, namespace: &str, id: &str) -> Vec<String> {
        self.shared
            .lock()
            .job_deployments(namespace, id)
            .iter()
            .map(|d| d.id.clone())
            .collect()
    }

    /// Waits until the job's latest deployment reaches `status` (or `timeout` passes);
    /// returns whether it did. Handy to synchronise tests with the life cycle.
    pub fn wait_for_deployment_status(
        &self,
        namespace: &str,
        id: &str,
        status: &str,
        timeout: Duration,
    ) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            let reached = {
                let st = self.shared.lock();
                st.job_deployments(namespace, id)
                    .last()
                    .is_some_and(|d| d.status == status)
            };
            if reached {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for NomadDouble {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.shared.lock().shutdown = true;
        self.shared.cond.notify_all();
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        for s in self
            .shared
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
        {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

fn fake_nodes() -> Vec<(String, String)> {
    (1..=3).map(|i| (new_id(), format!("client-{i}"))).collect()
}

fn server_config(tls: &TlsSetup) -> io::Result<Arc<ServerConfig>> {
    let bad = |e: String| io::Error::new(io::ErrorKind::InvalidInput, e);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(tls.cert_pem.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|e| bad(format!("server certificate: {e}")))?;
    let key = PrivateKeyDer::from_pem_slice(tls.key_pem.as_bytes())
        .map_err(|e| bad(format!("server key: {e}")))?;
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?;
    let builder = match &tls.require_client_cert {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(ca.as_bytes()) {
                let cert = cert.map_err(|e| bad(format!("client CA: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| bad(format!("client CA: {e}")))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| bad(format!("client verifier: {e}")))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config = builder
        .with_single_cert(certs, key)
        .map_err(|e| bad(format!("server certificate: {e}")))?;
    Ok(Arc::new(config))
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>, tls: Option<Arc<ServerConfig>>) {
    for stream in listener.incoming() {
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let id = shared.remember(&stream);
        let shared = Arc::clone(&shared);
        let tls = tls.clone();
        thread::spawn(move || {
            match tls {
                None => serve(stream, &shared),
                Some(config) => {
                    if let Ok(conn) = ServerConnection::new(config) {
                        serve(StreamOwned::new(conn, stream), &shared);
                    }
                }
            }
            shared.forget(id);
        });
    }
}

/// Serves requests on one connection until it closes.
fn serve<S: Read + Write>(stream: S, shared: &Arc<Shared>) {
    let mut reader = BufReader::new(stream);
    loop {
        let (req, http10) = match read_one(&mut reader) {
            Ok(r) => r,
            Err(ReadError::Closed) => return,
            Err(ReadError::Malformed(why)) => {
                let _ = Response::text(400, why).write_to(reader.get_mut(), true);
                return;
            }
        };
        shared.record(&req);
        let dropped = shared.should_drop(&req);
        if dropped && !shared.scenario.drop_mid_response {
            return;
        }
        if let Some(delay) = shared.scenario.delay {
            if !shared.sleep(delay) {
                return;
            }
        }
        let response = shared.failure(&req).unwrap_or_else(|| handle(shared, &req));
        if dropped {
            let _ = response.write_truncated(reader.get_mut());
            return;
        }
        let close = req.wants_close(http10);
        if response.write_to(reader.get_mut(), close).is_err() || close {
            return;
        }
    }
}

/// Reads one request, answering `Expect: 100-continue` before its body.
fn read_one<S: Read + Write>(
    reader: &mut BufReader<S>,
) -> Result<(RecordedRequest, bool), ReadError> {
    let (mut req, http10) = read_request_head(reader)?;
    if req.expects_continue() {
        reader
            .get_mut()
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    read_request_body(reader, &mut req)?;
    Ok((req, http10))
}

/// ACL check, then routing.
fn handle(shared: &Arc<Shared>, req: &RecordedRequest) -> Response {
    if let Some(denied) = acl_check(&shared.scenario, req) {
        return denied;
    }
    routes::route(shared, req)
}

fn acl_check(scenario: &Scenario, req: &RecordedRequest) -> Option<Response> {
    let expected = scenario.acl_token.as_deref()?;
    // Status and regions need no token; a join runs anyway and warns (Nomad 2.0.4+).
    let open = req.path.starts_with("/v1/status/")
        || req.path == "/v1/regions"
        || req.path == "/v1/agent/join";
    if open {
        return None;
    }
    let bearer = req
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "));
    let token = req
        .header("x-nomad-token")
        .or(bearer)
        .filter(|t| !t.is_empty());
    match token {
        Some(t) if t == expected => None,
        Some(_) => Some(Response::text(403, "ACL token not found")),
        None => Some(Response::text(403, "Permission denied")),
    }
}
