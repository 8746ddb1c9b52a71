//! Listeners and connection threads of an agent double, the stop switch they share,
//! and the small HTTP client the gossip uses.

use std::collections::BTreeMap;
use std::io::{self, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use socket2::SockRef;

use crate::http::{read_request_body, read_request_head, ReadError, RecordedRequest, Response};

/// How long an idle keep-alive connection stays open.
const IDLE: Duration = Duration::from_secs(30);
/// How long a listener waits in `accept` before it looks at the stop switch
/// again, in case shutting it down did not wake it (the switch shuts
/// listeners down, which wakes `accept` at once on Linux).
const ACCEPT_WAKE: Duration = Duration::from_secs(1);
/// Connect timeout of a gossip exchange.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// Read/write timeout of a gossip exchange.
const IO_TIMEOUT: Duration = Duration::from_secs(2);

/// The stop switch of one agent, and the connections to close when it flips.
#[derive(Debug, Default)]
pub(crate) struct Stop {
    flag: AtomicBool,
    lock: Mutex<()>,
    cond: Condvar,
    open: Mutex<BTreeMap<u64, TcpStream>>,
    next: AtomicU64,
    listeners: Mutex<Vec<TcpListener>>,
}

impl Stop {
    pub(crate) fn stopping(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Flips the switch, wakes sleepers and closes open connections.
    pub(crate) fn trigger(&self) {
        self.flag.store(true, Ordering::SeqCst);
        {
            let _g = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            self.cond.notify_all();
        }
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        for s in open.values() {
            let _ = s.shutdown(Shutdown::Both);
        }
        // Taken, so the copies close now and free their ports.
        let listeners =
            std::mem::take(&mut *self.listeners.lock().unwrap_or_else(|e| e.into_inner()));
        for l in &listeners {
            let _ = SockRef::from(l).shutdown(Shutdown::Both);
        }
    }

    /// Sleeps `d` unless stopped first; `false` when stopped.
    pub(crate) fn sleep(&self, d: Duration) -> bool {
        let deadline = Instant::now() + d;
        let mut g = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if self.stopping() {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            g = self
                .cond
                .wait_timeout(g, deadline - now)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    fn remember(&self, s: &TcpStream) -> u64 {
        let id = self.next.fetch_add(1, Ordering::SeqCst);
        if let Ok(c) = s.try_clone() {
            self.open
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id, c);
        }
        id
    }

    fn forget(&self, id: u64) {
        let s = self
            .open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        if let Some(s) = s {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// What answers the requests of one listener.
pub(crate) type Handler = Arc<dyn Fn(&RecordedRequest) -> Response + Send + Sync>;

/// Serves `listener` with `handler` on a thread until `stop` flips. The
/// thread sleeps in `accept` (a listener that looked every few
/// milliseconds would cost a lab of dozens of agents real CPU) and
/// [`Stop::trigger`] wakes it.
pub(crate) fn spawn_listener(
    listener: TcpListener,
    handler: Handler,
    stop: Arc<Stop>,
) -> io::Result<JoinHandle<()>> {
    SockRef::from(&listener).set_read_timeout(Some(ACCEPT_WAKE))?;
    stop.listeners
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(listener.try_clone()?);
    Ok(thread::spawn(move || loop {
        if stop.stopping() {
            return;
        }
        match listener.accept() {
            Ok((stream, _)) => {
                let _ = stream.set_read_timeout(Some(IDLE));
                let _ = stream.set_write_timeout(Some(IDLE));
                let id = stop.remember(&stream);
                let handler = Arc::clone(&handler);
                let stop = Arc::clone(&stop);
                thread::spawn(move || {
                    serve(stream, &handler, &stop);
                    stop.forget(id);
                });
            }
            // The wake-up timeout: look at the switch again.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            // The listener shut down (stopping), or a passing failure
            // (too many open files): a pause, not a spin.
            Err(_) => {
                if !stop.sleep(ACCEPT_PAUSE) {
                    return;
                }
            }
        }
    }))
}

/// The pause after an `accept` that failed for another reason than its
/// wake-up timeout.
const ACCEPT_PAUSE: Duration = Duration::from_millis(20);

fn serve(stream: TcpStream, handler: &Handler, stop: &Stop) {
    let mut reader = BufReader::new(stream);
    loop {
        if stop.stopping() {
            return;
        }
        let (mut req, http10) = match read_request_head(&mut reader) {
            Ok(r) => r,
            Err(ReadError::Closed) => return,
            Err(ReadError::Malformed(why)) => {
                let _ = Response::text(400, why).write_to(reader.get_mut(), true);
                return;
            }
        };
        if req.expects_continue()
            && reader
                .get_mut()
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .is_err()
        {
            return;
        }
        match read_request_body(&mut reader, &mut req) {
            Ok(()) => {}
            Err(ReadError::Closed) => return,
            Err(ReadError::Malformed(why)) => {
                let _ = Response::text(400, why).write_to(reader.get_mut(), true);
                return;
            }
        }
        let response = handler(&req);
        let close = req.wants_close(http10);
        if response.write_to(reader.get_mut(), close).is_err() || close {
            return;
        }
    }
}

/// `POST path` to `addr` (`host:port`) with a JSON body; `Ok((status, body))`, or the
/// dial error as Go prints it (`dial tcp <addr>: connect: connection refused`).
pub(crate) fn post(addr: &str, path: &str, body: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let dial = |what: String| format!("dial tcp {addr}: {what}");
    let target = addr
        .to_socket_addrs()
        .map_err(|e| dial(format!("lookup: {e}")))?
        .next()
        .ok_or_else(|| dial("lookup: no such host".into()))?;
    let mut stream = TcpStream::connect_timeout(&target, CONNECT_TIMEOUT).map_err(|e| {
        dial(match e.kind() {
            io::ErrorKind::ConnectionRefused => "connect: connection refused".into(),
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => "i/o timeout".into(),
            _ => format!("connect: {e}"),
        })
    })?;
    let io_err = |e: io::Error| format!("read tcp {addr}: {e}");
    stream.set_read_timeout(Some(IO_TIMEOUT)).map_err(io_err)?;
    stream.set_write_timeout(Some(IO_TIMEOUT)).map_err(io_err)?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).map_err(io_err)?;
    stream.write_all(body).map_err(io_err)?;
    let mut raw = Vec::new();
    stream
        .take(64 * 1024 * 1024)
        .read_to_end(&mut raw)
        .map_err(io_err)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| format!("read tcp {addr}: truncated response"))?;
    let status = String::from_utf8_lossy(&raw[..split])
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("read tcp {addr}: malformed response"))?;
    Ok((status, raw[split + 4..].to_vec()))
}
