//! Many hosts at once, up to a limit, servers first: a client uploads
//! after the servers and starts its agents once the servers' answer on
//! their HTTP APIs (clients join them), and does everything else
//! meanwhile. One host's failure never stops the others, and every host
//! ends with a result in the facts.

use std::cell::RefCell;
use std::io::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::Duration;

use crate::facts::{ClusterFacts, HostFacts};
use crate::inventory::{Inventory, Role};
use crate::provision::{self, Point, Reporter, Settings};
use crate::ssh::{HostKeyProblem, Session, SshError, SshTarget};

/// How hosts are reached, beyond the inventory's `ssh` settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Connection {
    /// Record unknown host keys instead of refusing them.
    pub accept_new_host_keys: bool,
    /// Overrides `ssh.known_hosts`.
    pub known_hosts: Option<std::path::PathBuf>,
    /// Overrides `ssh.identity_file`.
    pub identity_file: Option<std::path::PathBuf>,
    /// Overrides `ssh.connect_timeout`.
    pub connect_timeout: Option<Duration>,
}

/// Progress on stderr: `vm-provision: <host>: <message>`, one line per
/// event; a diff's lines are written together.
#[derive(Debug, Default)]
pub struct StderrReporter;

impl Reporter for StderrReporter {
    fn line(&self, host: &str, message: &str) {
        eprintln!("vm-provision: {host}: {message}");
    }

    fn block(&self, host: &str, text: &str) {
        let mut out = String::new();
        for line in text.lines() {
            out.push_str(&format!("vm-provision: {host}: | {line}\n"));
        }
        let _ = std::io::stderr().lock().write_all(out.as_bytes());
    }
}

/// Provisions every host of `inv`, at most `parallel` at a time, servers
/// first: servers are taken before any client; a client sends its
/// uploads (binaries, files) once the servers' are in place (this
/// machine's uplink serves the servers first: their agents start first)
/// and starts its agents once every server's agents answer (clients
/// join the servers). Everything else runs in parallel. Returns the facts
/// with each host's result.
pub fn provision_all(
    inv: &Inventory,
    settings: &Settings,
    connection: &Connection,
    parallel: usize,
    reporter: &dyn Reporter,
) -> ClusterFacts {
    let mut facts = ClusterFacts::new(inv);
    let mut order: Vec<usize> = (0..inv.hosts.len()).collect();
    // Stable: servers first, each role in inventory order.
    order.sort_by_key(|&i| inv.hosts[i].role != Role::Server);
    let servers = order
        .iter()
        .filter(|&&i| inv.hosts[i].role == Role::Server)
        .count();
    let uploaded = Countdown::new(servers);
    let answering = Countdown::new(servers);
    // Only uploads share this machine's uplink; hosts that download do not
    // wait for each other.
    let uploads = settings.consul_binary.is_some() || settings.nomad_binary.is_some();
    let results = in_parallel(&order, parallel, |i| {
        let host = &inv.hosts[i];
        if host.role == Role::Server {
            // Counted down at each point, or when the host ends (failed
            // before).
            let uploaded = RefCell::new(Some(uploaded.counter()));
            let answering = RefCell::new(Some(answering.counter()));
            let at = |point: Point| match point {
                Point::AfterUploads => drop(uploaded.borrow_mut().take()),
                Point::Answering => drop(answering.borrow_mut().take()),
                Point::BeforeUploads | Point::BeforeStart => {}
            };
            provision_one(inv, i, settings, connection, reporter, &at)
        } else {
            let wait = |countdown: &Countdown, what: &str| {
                if !countdown.is_done() {
                    reporter.line(&host.name, &format!("waiting for {what}"));
                    countdown.wait();
                }
            };
            let at = |point: Point| match point {
                Point::BeforeUploads if uploads => {
                    wait(&uploaded, "the servers to get their uploads")
                }
                Point::BeforeStart => wait(&answering, "the servers' agents to answer"),
                _ => {}
            };
            provision_one(inv, i, settings, connection, reporter, &at)
        }
    });
    for (i, host_facts) in order.into_iter().zip(results) {
        facts.hosts[i] = host_facts;
    }
    facts
}

/// A count of hosts still running that others can wait on.
struct Countdown {
    left: Mutex<usize>,
    zero: Condvar,
}

/// Counts one down when dropped (also when its host failed).
struct CountdownGuard<'a>(&'a Countdown);

impl Countdown {
    fn new(n: usize) -> Countdown {
        Countdown {
            left: Mutex::new(n),
            zero: Condvar::new(),
        }
    }

    fn counter(&self) -> CountdownGuard<'_> {
        CountdownGuard(self)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, usize> {
        self.left.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn is_done(&self) -> bool {
        *self.lock() == 0
    }

    fn wait(&self) {
        let mut left = self.lock();
        while *left > 0 {
            left = self.zero.wait(left).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl Drop for CountdownGuard<'_> {
    fn drop(&mut self) {
        let mut left = self.0.lock();
        *left = left.saturating_sub(1);
        if *left == 0 {
            self.0.zero.notify_all();
        }
    }
}

/// Runs `work` on every item with at most `parallel` threads; results in
/// item order.
fn in_parallel<T, R, F>(items: &[T], parallel: usize, work: F) -> Vec<R>
where
    T: Sync + Copy,
    R: Send,
    F: Fn(T) -> R + Sync,
{
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    thread::scope(|scope| {
        for _ in 0..parallel.clamp(1, items.len().max(1)) {
            scope.spawn(|| loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some(&item) = items.get(n) else { break };
                let result = work(item);
                results.lock().unwrap_or_else(|e| e.into_inner())[n] = Some(result);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every item was worked on"))
        .collect()
}

/// One host, start to end; never panics the run: every failure becomes
/// the host's `error`.
fn provision_one(
    inv: &Inventory,
    index: usize,
    settings: &Settings,
    connection: &Connection,
    reporter: &dyn Reporter,
    at: &dyn Fn(Point),
) -> HostFacts {
    let host = &inv.hosts[index];
    let mut facts = HostFacts::new(host);
    let mut target = SshTarget::new(&inv.ssh, host);
    target.accept_new_host_keys = connection.accept_new_host_keys;
    if let Some(path) = &connection.known_hosts {
        target.known_hosts = crate::known_hosts::expand_home(path);
    }
    if let Some(path) = &connection.identity_file {
        target.identity_file = Some(crate::known_hosts::expand_home(path));
    }
    if let Some(timeout) = connection.connect_timeout {
        target.connect_timeout = timeout;
    }
    // The API check is one silent command that may take --api-timeout
    // for each agent, after systemctl's own wait.
    target.op_timeout += settings.api_timeout * 2;
    reporter.line(
        &host.name,
        &format!("connecting to {}", target.display_name()),
    );
    let session = match Session::connect(&target) {
        Ok((session, outcome)) => {
            facts.host_key_fingerprint = Some(outcome.fingerprint.clone());
            if outcome.newly_recorded {
                reporter.line(
                    &host.name,
                    &format!(
                        "recorded new host key {} {} in {}",
                        outcome.key_type,
                        outcome.fingerprint,
                        target.known_hosts.display()
                    ),
                );
            }
            session
        }
        Err(e) => {
            facts.host_key_fingerprint = offered_fingerprint(&e);
            reporter.line(&host.name, &format!("failed: {e}"));
            facts.failed(e.to_string());
            return facts;
        }
    };
    let mut changes = Vec::new();
    let result =
        provision::provision_host(&session, inv, host, settings, reporter, &mut changes, at);
    for change in changes {
        facts.changed(change);
    }
    match result {
        Ok(()) => {
            let verdict = match (facts.changes.len(), settings.dry_run) {
                (0, _) => "unchanged".to_string(),
                (n, true) => format!("{n} change(s) to make"),
                (n, false) => format!("changed ({n} change(s))"),
            };
            reporter.line(&host.name, &verdict);
        }
        Err(e) => {
            reporter.line(&host.name, &format!("failed: {e}"));
            facts.failed(e.to_string());
        }
    }
    facts
}

/// The key a refused host offered, so the operator can compare it.
fn offered_fingerprint(e: &SshError) -> Option<String> {
    match e {
        SshError::HostKey { problem, .. } => match problem {
            HostKeyProblem::Mismatch { offered, .. }
            | HostKeyProblem::Revoked { offered }
            | HostKeyProblem::Unknown { offered, .. } => Some(offered.clone()),
            HostKeyProblem::NoKey => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn parallel_keeps_order_and_limit() {
        let running = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let items: Vec<usize> = (0..12).collect();
        let out = in_parallel(&items, 3, |i| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            thread::sleep(Duration::from_millis(20));
            running.fetch_sub(1, Ordering::SeqCst);
            i * 2
        });
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        assert!(peak.load(Ordering::SeqCst) <= 3);
        assert!(peak.load(Ordering::SeqCst) >= 2);
        assert!(in_parallel(&[] as &[usize], 4, |i| i).is_empty());
    }

    #[test]
    fn countdown_releases_waiters_when_every_guard_is_dropped() {
        let countdown = Countdown::new(2);
        let released = AtomicUsize::new(0);
        thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    countdown.wait();
                    released.fetch_add(1, Ordering::SeqCst);
                });
            }
            let first = countdown.counter();
            let second = countdown.counter();
            drop(first);
            thread::sleep(Duration::from_millis(50));
            assert_eq!(released.load(Ordering::SeqCst), 0);
            assert!(!countdown.is_done());
            drop(second);
        });
        assert_eq!(released.load(Ordering::SeqCst), 3);
        assert!(Countdown::new(0).is_done());
    }
}
