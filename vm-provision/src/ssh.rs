//! The SSH transport: one authenticated session per host, on libssh2
//! (the `ssh2` crate).
//!
//! - [`Session::connect`] retries the TCP connection until the connect
//!   timeout (a host that is still booting), checks the host key against
//!   `known_hosts` ([`crate::known_hosts`]) *before* authenticating, then
//!   authenticates with ssh-agent (when `SSH_AUTH_SOCK` is set) and the
//!   identity file. With a bastion, the bastion is connected (and its own
//!   host key checked) first and the host's session runs over a
//!   `direct-tcpip` channel, bridged to a local socket pair by a pump
//!   thread.
//! - [`Session::run`] and [`Session::sudo`] run a fixed command string,
//!   with optional stdin (secrets go there, never on the command line).
//! - [`Session::read_file`], [`Session::write_file`] (atomic: temp file in
//!   the same folder, then `mv`) and [`Session::file_meta`] (mode, owner,
//!   SHA-256 computed remotely) go through `sudo` when the user is not
//!   root.
//!
//! Every failure is an [`SshError`] naming the host, mapped to
//! [`cli_common::Error`]: refused host key or authentication → exit 4,
//! unreachable or timed out → exit 5.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use cli_common::{Error, Exit};

use crate::inventory::{Host, SshSettings};
use crate::known_hosts::{self, KnownHosts, Verdict};

/// libssh2's `LIBSSH2_ERROR_TIMEOUT`.
const LIBSSH2_ERROR_TIMEOUT: i32 = -9;
/// libssh2's `LIBSSH2_ERROR_EAGAIN`.
const LIBSSH2_ERROR_EAGAIN: i32 = -37;

/// A jump host, resolved (the user defaults to the hosts' user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BastionTarget {
    /// Its address.
    pub address: String,
    /// Its SSH port.
    pub port: u16,
    /// The user on it.
    pub user: String,
}

/// Everything needed to reach one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    /// Where to connect (IP address or host name); also the name its host
    /// key is recorded under.
    pub address: String,
    /// The SSH port.
    pub port: u16,
    /// The remote user.
    pub user: String,
    /// A private key file (`~` expanded); none means ssh-agent only.
    pub identity_file: Option<PathBuf>,
    /// The name of the environment variable holding the key's passphrase.
    pub passphrase_env: Option<String>,
    /// The known_hosts file (`~` expanded).
    pub known_hosts: PathBuf,
    /// Record unknown host keys instead of refusing them.
    pub accept_new_host_keys: bool,
    /// A jump host.
    pub bastion: Option<BastionTarget>,
    /// How long to keep trying to connect.
    pub connect_timeout: Duration,
    /// The limit of every operation once connected.
    pub op_timeout: Duration,
}

/// The default limit of one operation.
pub const DEFAULT_OP_TIMEOUT: Duration = Duration::from_secs(300);

impl SshTarget {
    /// The target for `host` with the inventory's SSH settings (`~`
    /// expanded; host keys not accepted; [`DEFAULT_OP_TIMEOUT`]).
    pub fn new(settings: &SshSettings, host: &Host) -> SshTarget {
        SshTarget {
            address: host.address.clone(),
            port: settings.port,
            user: settings.user.clone(),
            identity_file: settings
                .identity_file
                .as_deref()
                .map(known_hosts::expand_home),
            passphrase_env: settings.identity_passphrase_env.clone(),
            known_hosts: known_hosts::expand_home(&settings.known_hosts),
            accept_new_host_keys: false,
            bastion: settings.bastion.as_ref().map(|b| BastionTarget {
                address: b.address.clone(),
                port: b.port,
                user: b.user.clone().unwrap_or_else(|| settings.user.clone()),
            }),
            connect_timeout: settings.connect_timeout,
            op_timeout: DEFAULT_OP_TIMEOUT,
        }
    }

    /// `address` or `address:port` when the port is not 22, for messages.
    pub fn display_name(&self) -> String {
        display_name(&self.address, self.port)
    }

    fn bastion_target(&self) -> Option<SshTarget> {
        self.bastion.as_ref().map(|b| SshTarget {
            address: b.address.clone(),
            port: b.port,
            user: b.user.clone(),
            bastion: None,
            ..self.clone()
        })
    }
}

fn display_name(address: &str, port: u16) -> String {
    if port == 22 {
        address.to_string()
    } else {
        format!("{address}:{port}")
    }
}

/// What happened with a host's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKeyOutcome {
    /// The key's fingerprint, `SHA256:...`.
    pub fingerprint: String,
    /// The key type (`ssh-ed25519`...).
    pub key_type: String,
    /// Whether it was unknown and has just been appended to known_hosts.
    pub newly_recorded: bool,
}

/// Why a host key was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyProblem {
    /// known_hosts has another key of this type for the host.
    Mismatch {
        /// The fingerprints known_hosts has.
        known: Vec<String>,
        /// The fingerprint the host offers.
        offered: String,
    },
    /// The key is marked `@revoked`.
    Revoked {
        /// The fingerprint the host offers.
        offered: String,
    },
    /// No key is known and new keys are not accepted.
    Unknown {
        /// The fingerprint the host offers.
        offered: String,
        /// The key type.
        key_type: String,
    },
    /// The host offered no key at all.
    NoKey,
}

/// An SSH failure; every variant names the host.
#[derive(Debug)]
pub enum SshError {
    /// The host key was refused (exit 4).
    HostKey {
        /// The host.
        host: String,
        /// Why.
        problem: HostKeyProblem,
    },
    /// Authentication was refused (exit 4).
    Auth {
        /// The host.
        host: String,
        /// What was tried.
        reason: String,
    },
    /// The host (or the bastion's forward to it) refused something (exit 4).
    Refused {
        /// The host.
        host: String,
        /// What.
        reason: String,
    },
    /// No connection could be made before the connect timeout (exit 5).
    Unreachable {
        /// The host.
        host: String,
        /// The last failure.
        reason: String,
    },
    /// An operation exceeded its timeout (exit 5).
    Timeout {
        /// The host.
        host: String,
        /// What was being done.
        what: String,
    },
    /// The SSH connection failed after it was made (exit 5).
    Protocol {
        /// The host.
        host: String,
        /// What was being done.
        what: String,
        /// libssh2's message.
        reason: String,
    },
    /// A remote command exited non-zero (exit 1).
    Remote {
        /// The host.
        host: String,
        /// What the command was for.
        what: String,
        /// Its exit status.
        status: i32,
        /// Its stderr (trimmed).
        stderr: String,
    },
    /// A local problem: known_hosts unreadable, passphrase variable unset
    /// (exit 2).
    Local {
        /// The host.
        host: String,
        /// What.
        reason: String,
    },
}

impl fmt::Display for SshError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SshError::HostKey { host, problem } => match problem {
                HostKeyProblem::Mismatch { known, offered } => write!(
                    f,
                    "host key mismatch for {host}: known_hosts has {}, the host offers {offered} (refused; if the host was reinstalled, remove its old entry)",
                    known.join(", ")
                ),
                HostKeyProblem::Revoked { offered } => write!(
                    f,
                    "host key of {host} is revoked in known_hosts ({offered}); refused"
                ),
                HostKeyProblem::Unknown { offered, key_type } => write!(
                    f,
                    "host key of {host} is not in known_hosts ({key_type} {offered}); refused (verify it, then add it or use --accept-new-host-keys)"
                ),
                HostKeyProblem::NoKey => write!(f, "{host} offered no host key; refused"),
            },
            SshError::Auth { host, reason } => {
                write!(f, "authentication refused by {host}: {reason}")
            }
            SshError::Refused { host, reason } => write!(f, "{host} refused: {reason}"),
            SshError::Unreachable { host, reason } => {
                write!(f, "{host} is unreachable: {reason}")
            }
            SshError::Timeout { host, what } => write!(f, "{host}: timed out {what}"),
            SshError::Protocol { host, what, reason } => {
                write!(f, "{host}: SSH failure {what}: {reason}")
            }
            SshError::Remote {
                host,
                what,
                status,
                stderr,
            } => {
                write!(f, "{host}: {what} failed (exit status {status})")?;
                if !stderr.is_empty() {
                    write!(f, ": {stderr}")?;
                }
                Ok(())
            }
            SshError::Local { host, reason } => write!(f, "{host}: {reason}"),
        }
    }
}

impl std::error::Error for SshError {}

impl SshError {
    /// The exit code this error maps to.
    pub fn exit(&self) -> Exit {
        match self {
            SshError::HostKey { .. } | SshError::Auth { .. } | SshError::Refused { .. } => {
                Exit::Refused
            }
            SshError::Unreachable { .. } | SshError::Timeout { .. } | SshError::Protocol { .. } => {
                Exit::Unreachable
            }
            SshError::Remote { .. } => Exit::No,
            SshError::Local { .. } => Exit::Usage,
        }
    }
}

impl From<SshError> for Error {
    fn from(e: SshError) -> Error {
        Error::new(e.exit(), e.to_string())
    }
}

fn ssh_failure(host: &str, what: &str, e: &ssh2::Error) -> SshError {
    match e.code() {
        ssh2::ErrorCode::Session(LIBSSH2_ERROR_TIMEOUT) => SshError::Timeout {
            host: host.to_string(),
            what: what.to_string(),
        },
        _ => SshError::Protocol {
            host: host.to_string(),
            what: what.to_string(),
            reason: e.message().to_string(),
        },
    }
}

fn io_failure(host: &str, what: &str, e: &io::Error) -> SshError {
    if e.kind() == io::ErrorKind::TimedOut {
        SshError::Timeout {
            host: host.to_string(),
            what: what.to_string(),
        }
    } else {
        SshError::Protocol {
            host: host.to_string(),
            what: what.to_string(),
            reason: e.to_string(),
        }
    }
}

/// What a command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Its exit status.
    pub status: i32,
    /// Its stdout.
    pub stdout: Vec<u8>,
    /// Its stderr.
    pub stderr: Vec<u8>,
}

impl Output {
    /// Whether it exited 0.
    pub fn success(&self) -> bool {
        self.status == 0
    }

    /// stdout as text (lossy).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// stderr as text (lossy), trimmed.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).trim().to_string()
    }
}

/// A remote file's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta {
    /// Whether it exists (the other fields are set only then).
    pub exists: bool,
    /// Its permission bits (`0o644`).
    pub mode: Option<u32>,
    /// Its owner's name.
    pub owner: Option<String>,
    /// Its group's name.
    pub group: Option<String>,
    /// Its size in bytes.
    pub size: Option<u64>,
    /// The lowercase hex SHA-256 of its content.
    pub sha256: Option<String>,
}

impl FileMeta {
    /// Whether the file holds exactly `content` with permission bits
    /// `mode`: writing it again would change nothing.
    pub fn is_same(&self, content: &[u8], mode: u32) -> bool {
        use sha2::{Digest, Sha256};
        let digest: String = Sha256::digest(content)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.exists && self.mode == Some(mode) && self.sha256.as_deref() == Some(digest.as_str())
    }
}

/// Quotes `text` for a POSIX shell: one single-quoted word.
pub fn shell_quote(text: &str) -> String {
    let safe = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+=:,@%".contains(&b));
    if safe {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// `command` as root for `user`: unchanged for root, else `sudo -n sh -c
/// '<command>'` (non-interactive: fails rather than asking a password).
pub fn sudo_wrap(user: &str, command: &str) -> String {
    if user == "root" {
        command.to_string()
    } else {
        format!("sudo -n sh -c {}", shell_quote(command))
    }
}

/// An authenticated SSH session with one host.
pub struct Session {
    inner: ssh2::Session,
    host: String,
    user: String,
    op_timeout: Duration,
    bastion_host_key: Option<HostKeyOutcome>,
    // The bastion's session and the pump thread live as long as the
    // socket pair end held by `inner`.
    _pump: Option<thread::JoinHandle<()>>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("host", &self.host)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

fn millis(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX).max(1)
}

fn tcp_connect(target: &SshTarget, deadline: Instant) -> Result<TcpStream, SshError> {
    let host = target.display_name();
    let mut backoff = Duration::from_millis(200);
    loop {
        let attempt = (|| -> io::Result<TcpStream> {
            let addrs: Vec<_> = (target.address.as_str(), target.port)
                .to_socket_addrs()?
                .collect();
            let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
            for addr in addrs {
                let left = deadline
                    .saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(100));
                match TcpStream::connect_timeout(&addr, left) {
                    Ok(s) => return Ok(s),
                    Err(e) => last = e,
                }
            }
            Err(last)
        })();
        match attempt {
            Ok(stream) => return Ok(stream),
            Err(e) => {
                let now = Instant::now();
                if now >= deadline {
                    return Err(SshError::Unreachable {
                        host,
                        reason: format!(
                            "no SSH connection within {:?}: {e}",
                            target.connect_timeout
                        ),
                    });
                }
                thread::sleep(backoff.min(deadline - now));
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// The host key algorithms to offer: those known_hosts has for this host
/// first (as OpenSSH does), then the rest.
fn host_key_prefs(known: &KnownHosts, address: &str, port: u16) -> String {
    const ALL: [&str; 7] = [
        "ssh-ed25519",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "rsa-sha2-512",
        "rsa-sha2-256",
        "ssh-rsa",
    ];
    let name = known_hosts::host_key_name(address, port);
    let mut prefs: Vec<&str> = Vec::new();
    for entry in &known.entries {
        if entry.marker.is_none() && entry.hosts.matches(&name) {
            let algs: Vec<&str> = if entry.key_type == "ssh-rsa" {
                vec!["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]
            } else {
                ALL.iter()
                    .copied()
                    .filter(|a| *a == entry.key_type)
                    .collect()
            };
            for a in algs {
                if !prefs.contains(&a) {
                    prefs.push(a);
                }
            }
        }
    }
    for a in ALL {
        if !prefs.contains(&a) {
            prefs.push(a);
        }
    }
    prefs.join(",")
}

fn check_host_key(
    session: &ssh2::Session,
    target: &SshTarget,
    known: &KnownHosts,
) -> Result<HostKeyOutcome, SshError> {
    let host = target.display_name();
    let Some((key, _)) = session.host_key() else {
        return Err(SshError::HostKey {
            host,
            problem: HostKeyProblem::NoKey,
        });
    };
    let key = key.to_vec();
    let key_type = known_hosts::blob_type(&key)
        .unwrap_or("unknown")
        .to_string();
    let offered = known_hosts::fingerprint(&key);
    match known.check(&target.address, target.port, &key_type, &key) {
        Verdict::Match => Ok(HostKeyOutcome {
            fingerprint: offered,
            key_type,
            newly_recorded: false,
        }),
        Verdict::Revoked => Err(SshError::HostKey {
            host,
            problem: HostKeyProblem::Revoked { offered },
        }),
        Verdict::Mismatch => {
            let name = known_hosts::host_key_name(&target.address, target.port);
            let known_fps = known
                .entries
                .iter()
                .filter(|e| e.marker.is_none() && e.key_type == key_type && e.hosts.matches(&name))
                .map(|e| known_hosts::fingerprint(&e.key))
                .collect();
            Err(SshError::HostKey {
                host,
                problem: HostKeyProblem::Mismatch {
                    known: known_fps,
                    offered,
                },
            })
        }
        Verdict::Unknown if target.accept_new_host_keys => {
            known_hosts::append(
                &target.known_hosts,
                &target.address,
                target.port,
                &key_type,
                &key,
            )
            .map_err(|e| SshError::Local {
                host: host.clone(),
                reason: format!(
                    "cannot record its host key in {}: {e}",
                    target.known_hosts.display()
                ),
            })?;
            Ok(HostKeyOutcome {
                fingerprint: offered,
                key_type,
                newly_recorded: true,
            })
        }
        Verdict::Unknown => Err(SshError::HostKey {
            host,
            problem: HostKeyProblem::Unknown { offered, key_type },
        }),
    }
}

fn authenticate(session: &ssh2::Session, target: &SshTarget) -> Result<(), SshError> {
    let host = target.display_name();
    let mut tried = Vec::new();
    if std::env::var_os("SSH_AUTH_SOCK").is_some() {
        tried.push("ssh-agent");
        if let Ok(mut agent) = session.agent() {
            if agent.connect().is_ok() && agent.list_identities().is_ok() {
                for identity in agent.identities().unwrap_or_default() {
                    if agent.userauth(&target.user, &identity).is_ok() && session.authenticated() {
                        return Ok(());
                    }
                }
            }
            let _ = agent.disconnect();
        }
    }
    if let Some(file) = &target.identity_file {
        let passphrase = match &target.passphrase_env {
            Some(var) => Some(std::env::var(var).map_err(|_| SshError::Local {
                host: host.clone(),
                reason: format!(
                    "the passphrase of {} is read from ${var}, which is not set",
                    file.display()
                ),
            })?),
            None => None,
        };
        if !file.is_file() {
            return Err(SshError::Local {
                host,
                reason: format!("identity file {} does not exist", file.display()),
            });
        }
        tried.push("the identity file");
        match session.userauth_pubkey_file(&target.user, None, file, passphrase.as_deref()) {
            Ok(()) if session.authenticated() => return Ok(()),
            Ok(()) => {}
            Err(e) if e.code() == ssh2::ErrorCode::Session(LIBSSH2_ERROR_TIMEOUT) => {
                return Err(ssh_failure(&host, "authenticating", &e))
            }
            // The message says nothing of the passphrase itself.
            Err(e) => {
                return Err(SshError::Auth {
                    host,
                    reason: format!(
                        "user {} with {}: {}",
                        target.user,
                        file.display(),
                        e.message()
                    ),
                })
            }
        }
    }
    Err(SshError::Auth {
        host,
        reason: if tried.is_empty() {
            format!(
                "user {}: no identity file and no ssh-agent (SSH_AUTH_SOCK unset)",
                target.user
            )
        } else {
            format!("user {}: tried {}", target.user, tried.join(" and "))
        },
    })
}

/// Handshake, host key check, authentication over an established stream.
fn establish(
    mut session: ssh2::Session,
    target: &SshTarget,
) -> Result<(ssh2::Session, HostKeyOutcome), SshError> {
    let host = target.display_name();
    let known = KnownHosts::load(&target.known_hosts).map_err(|e| SshError::Local {
        host: host.clone(),
        reason: format!("cannot read {}: {e}", target.known_hosts.display()),
    })?;
    session.set_timeout(millis(target.op_timeout));
    session
        .method_pref(
            ssh2::MethodType::HostKey,
            &host_key_prefs(&known, &target.address, target.port),
        )
        .map_err(|e| ssh_failure(&host, "setting host key algorithms", &e))?;
    session.handshake().map_err(|e| match e.code() {
        ssh2::ErrorCode::Session(LIBSSH2_ERROR_TIMEOUT) => {
            ssh_failure(&host, "in the SSH handshake", &e)
        }
        _ => SshError::Unreachable {
            host: host.clone(),
            reason: format!("SSH handshake failed: {}", e.message()),
        },
    })?;
    let outcome = check_host_key(&session, target, &known)?;
    authenticate(&session, target)?;
    Ok((session, outcome))
}

fn new_session(host: &str) -> Result<ssh2::Session, SshError> {
    ssh2::Session::new().map_err(|e| SshError::Local {
        host: host.to_string(),
        reason: format!("cannot start libssh2: {}", e.message()),
    })
}

impl Session {
    /// Connects, checks the host key, authenticates.
    pub fn connect(target: &SshTarget) -> Result<(Session, HostKeyOutcome), SshError> {
        let host = target.display_name();
        match target.bastion_target() {
            None => {
                // A booting host may accept connections before sshd
                // completes handshakes: retry those too, until the deadline.
                let deadline = Instant::now() + target.connect_timeout;
                let mut backoff = Duration::from_millis(200);
                let (inner, outcome) = loop {
                    let stream = tcp_connect(target, deadline)?;
                    let mut session = new_session(&host)?;
                    session.set_tcp_stream(stream);
                    match establish(session, target) {
                        Err(SshError::Unreachable { .. }) if Instant::now() < deadline => {
                            thread::sleep(
                                backoff.min(deadline.saturating_duration_since(Instant::now())),
                            );
                            backoff = (backoff * 2).min(Duration::from_secs(2));
                        }
                        result => break result?,
                    }
                };
                Ok((
                    Session {
                        inner,
                        host,
                        user: target.user.clone(),
                        op_timeout: target.op_timeout,
                        bastion_host_key: None,
                        _pump: None,
                    },
                    outcome,
                ))
            }
            Some(jump_target) => {
                let (jump, jump_outcome) = Session::connect(&jump_target)?;
                let channel = open_forward(&jump, target)?;
                let (near, far) = UnixStream::pair().map_err(|e| SshError::Local {
                    host: host.clone(),
                    reason: format!("cannot make a socket pair: {e}"),
                })?;
                let pump = thread::Builder::new()
                    .name(format!("ssh-forward-{host}"))
                    .spawn(move || pump(jump, channel, far))
                    .map_err(|e| SshError::Local {
                        host: host.clone(),
                        reason: format!("cannot start the forwarding thread: {e}"),
                    })?;
                let mut session = new_session(&host)?;
                session.set_tcp_stream(near);
                let (inner, outcome) = establish(session, target)?;
                Ok((
                    Session {
                        inner,
                        host,
                        user: target.user.clone(),
                        op_timeout: target.op_timeout,
                        bastion_host_key: Some(jump_outcome),
                        _pump: Some(pump),
                    },
                    outcome,
                ))
            }
        }
    }

    /// The host, as messages name it.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The bastion's host key outcome, when connected through one.
    pub fn bastion_host_key(&self) -> Option<&HostKeyOutcome> {
        self.bastion_host_key.as_ref()
    }

    /// Runs `command` (a fixed string; secrets go in `stdin`).
    pub fn run(&self, command: &str, stdin: Option<&[u8]>) -> Result<Output, SshError> {
        self.run_watching(command, stdin, &mut |_| {})
    }

    /// [`Session::run`], calling `watch` with the whole stdout so far each
    /// time more of it arrives (to act on a command's progress before it
    /// ends).
    pub fn run_watching(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
        watch: &mut dyn FnMut(&[u8]),
    ) -> Result<Output, SshError> {
        let host = &self.host;
        let what = "running a command";
        let mut channel = self
            .inner
            .channel_session()
            .map_err(|e| ssh_failure(host, "opening a channel", &e))?;
        channel
            .exec(command)
            .map_err(|e| ssh_failure(host, what, &e))?;
        self.inner.set_blocking(false);
        let exchanged = self.exchange(&mut channel, stdin.unwrap_or_default(), watch);
        self.inner.set_blocking(true);
        let (stdout, stderr) = exchanged?;
        channel
            .wait_close()
            .map_err(|e| ssh_failure(host, what, &e))?;
        let status = channel
            .exit_status()
            .map_err(|e| ssh_failure(host, what, &e))?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }

    /// Sends `stdin` and reads stdout and stderr at the same time (the
    /// session is non-blocking meanwhile), so that neither side waits on a
    /// full channel window. Times out after `op_timeout` without progress.
    fn exchange(
        &self,
        channel: &mut ssh2::Channel,
        stdin: &[u8],
        watch: &mut dyn FnMut(&[u8]),
    ) -> Result<(Vec<u8>, Vec<u8>), SshError> {
        let host = &self.host;
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let mut sent = 0;
        let mut eof_sent = false;
        let (mut out_done, mut err_done) = (false, false);
        let mut buf = vec![0u8; 32 * 1024];
        let mut last_progress = Instant::now();
        let mut idle = Duration::from_micros(100);
        while !(out_done && err_done) {
            let mut progress = false;
            if sent < stdin.len() {
                match channel.write(&stdin[sent..]) {
                    Ok(n) => {
                        sent += n;
                        progress |= n > 0;
                    }
                    Err(e) if would_block(&e) => {}
                    // The command may exit without reading all of its stdin.
                    Err(_) => sent = stdin.len(),
                }
            } else if !eof_sent {
                match channel.send_eof() {
                    Ok(()) => {
                        eof_sent = true;
                        progress = true;
                    }
                    Err(e) if e.code() == ssh2::ErrorCode::Session(LIBSSH2_ERROR_EAGAIN) => {}
                    Err(_) => eof_sent = true,
                }
            }
            let stdout_before = stdout.len();
            for (done, sink, stream_id) in [
                (&mut out_done, &mut stdout, 0),
                (&mut err_done, &mut stderr, 1),
            ] {
                if *done {
                    continue;
                }
                match channel.stream(stream_id).read(&mut buf) {
                    Ok(0) => {
                        if channel.eof() {
                            *done = true;
                            progress = true;
                        }
                    }
                    Ok(n) => {
                        sink.extend_from_slice(&buf[..n]);
                        progress = true;
                    }
                    Err(e) if would_block(&e) => {}
                    Err(e) => return Err(io_failure(host, "reading the command's output", &e)),
                }
            }
            if stdout.len() > stdout_before {
                watch(&stdout);
            }
            if progress {
                last_progress = Instant::now();
                idle = Duration::from_micros(100);
            } else {
                if last_progress.elapsed() >= self.op_timeout {
                    return Err(SshError::Timeout {
                        host: host.clone(),
                        what: format!("running a command (no progress for {:?})", self.op_timeout),
                    });
                }
                thread::sleep(idle);
                idle = (idle * 2).min(Duration::from_millis(5));
            }
        }
        Ok((stdout, stderr))
    }

    /// The command wrapped in `sudo -n sh -c '...'` unless the user is
    /// root ([`sudo_wrap`]).
    pub fn sudo_command(&self, command: &str) -> String {
        sudo_wrap(&self.user, command)
    }

    /// Runs `command` as root (through `sudo -n` unless the user is root).
    pub fn sudo(&self, command: &str, stdin: Option<&[u8]>) -> Result<Output, SshError> {
        self.run(&self.sudo_command(command), stdin)
    }

    /// [`Session::sudo`] with [`Session::run_watching`]'s `watch`.
    pub fn sudo_watching(
        &self,
        command: &str,
        stdin: Option<&[u8]>,
        watch: &mut dyn FnMut(&[u8]),
    ) -> Result<Output, SshError> {
        self.run_watching(&self.sudo_command(command), stdin, watch)
    }

    /// [`Session::sudo`], with a non-zero exit turned into
    /// [`SshError::Remote`] (`what` says what the command was for).
    pub fn sudo_checked(
        &self,
        what: &str,
        command: &str,
        stdin: Option<&[u8]>,
    ) -> Result<Output, SshError> {
        let out = self.sudo(command, stdin)?;
        if out.success() {
            Ok(out)
        } else {
            Err(SshError::Remote {
                host: self.host.clone(),
                what: what.to_string(),
                status: out.status,
                stderr: out.stderr_text(),
            })
        }
    }

    /// A file's content (as root), `None` when it does not exist.
    pub fn read_file(&self, path: &str) -> Result<Option<Vec<u8>>, SshError> {
        const ABSENT: i32 = 66;
        let p = shell_quote(path);
        let out = self.sudo(
            &format!("if [ -e {p} ]; then exec cat -- {p}; else exit {ABSENT}; fi"),
            None,
        )?;
        match out.status {
            0 => Ok(Some(out.stdout)),
            ABSENT if out.stderr.is_empty() => Ok(None),
            status => Err(SshError::Remote {
                host: self.host.clone(),
                what: format!("reading {path}"),
                status,
                stderr: out.stderr_text(),
            }),
        }
    }

    /// Writes `content` to `path` with permission bits `mode`, atomically:
    /// a temp file in the same folder (content from stdin), `chmod`, then
    /// `mv` over the target. As root (through sudo), so the file is
    /// root-owned.
    pub fn write_file(&self, path: &str, content: &[u8], mode: u32) -> Result<(), SshError> {
        self.write_file_owned(path, content, mode, "root", "root")
    }

    /// [`Session::write_file`], with the file owned by `owner:group`
    /// before it replaces the target (so it is never readable by the wrong
    /// group, even for a moment).
    pub fn write_file_owned(
        &self,
        path: &str,
        content: &[u8],
        mode: u32,
        owner: &str,
        group: &str,
    ) -> Result<(), SshError> {
        let p = shell_quote(path);
        let who = shell_quote(&format!("{owner}:{group}"));
        let script = format!(
            "set -e; d=$(dirname -- {p}); t=$(mktemp \"$d/.vm-provision.XXXXXX\"); \
             trap 'rm -f \"$t\"' EXIT; cat >\"$t\"; chown {who} \"$t\"; chmod {mode:o} \"$t\"; \
             mv -f \"$t\" {p}; trap - EXIT"
        );
        self.sudo_checked(&format!("writing {path}"), &script, Some(content))?;
        Ok(())
    }

    /// A file's metadata, with the SHA-256 of its content computed
    /// remotely.
    pub fn file_meta(&self, path: &str) -> Result<FileMeta, SshError> {
        let p = shell_quote(path);
        let script = format!(
            "if [ -e {p} ]; then stat -L -c '%a %U %G %s' -- {p} && sha256sum <{p}; else echo absent; fi"
        );
        let out = self.sudo_checked(&format!("inspecting {path}"), &script, None)?;
        let text = out.stdout_text();
        let bad = || SshError::Protocol {
            host: self.host.clone(),
            what: format!("inspecting {path}"),
            reason: format!("unexpected output {text:?}"),
        };
        let mut lines = text.lines();
        let first = lines.next().ok_or_else(bad)?;
        if first == "absent" {
            return Ok(FileMeta {
                exists: false,
                mode: None,
                owner: None,
                group: None,
                size: None,
                sha256: None,
            });
        }
        let fields: Vec<&str> = first.split_whitespace().collect();
        let [mode, owner, group, size] = fields[..] else {
            return Err(bad());
        };
        let sha = lines
            .next()
            .and_then(|l| l.split_whitespace().next())
            .filter(|s| s.len() == 64)
            .ok_or_else(bad)?;
        Ok(FileMeta {
            exists: true,
            mode: Some(u32::from_str_radix(mode, 8).map_err(|_| bad())?),
            owner: Some(owner.to_string()),
            group: Some(group.to_string()),
            size: Some(size.parse().map_err(|_| bad())?),
            sha256: Some(sha.to_string()),
        })
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.inner.disconnect(None, "bye", None);
    }
}

/// Opens the bastion's `direct-tcpip` channel to the target, retrying
/// until the connect timeout (a target still booting).
fn open_forward(jump: &Session, target: &SshTarget) -> Result<ssh2::Channel, SshError> {
    let host = target.display_name();
    let deadline = Instant::now() + target.connect_timeout;
    let mut backoff = Duration::from_millis(200);
    loop {
        match jump
            .inner
            .channel_direct_tcpip(&target.address, target.port, None)
        {
            Ok(channel) => return Ok(channel),
            Err(e) => {
                if e.code() == ssh2::ErrorCode::Session(LIBSSH2_ERROR_TIMEOUT) {
                    return Err(ssh_failure(
                        &host,
                        "opening the forward through the bastion",
                        &e,
                    ));
                }
                let now = Instant::now();
                if now >= deadline {
                    let reason = format!(
                        "the bastion {} could not open a connection to it ({}); is AllowTcpForwarding on there?",
                        jump.host,
                        e.message()
                    );
                    return Err(if e.message().contains("prohibited") {
                        SshError::Refused { host, reason }
                    } else {
                        SshError::Unreachable { host, reason }
                    });
                }
                thread::sleep(backoff.min(deadline - now));
                backoff = (backoff * 2).min(Duration::from_secs(2));
            }
        }
    }
}

fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

/// One step of copying `from` to `to` through `pending`: reads more only
/// once everything read was written; `ended` tells a 0-byte read that is
/// the end from one that is not. Whether bytes moved, or `None` when either
/// side failed.
fn shuttle<R: Read, W: Write>(
    from: &mut R,
    to: &mut W,
    pending: &mut Vec<u8>,
    eof: &mut bool,
    buf: &mut [u8],
    ended: impl Fn(&R) -> bool,
) -> Option<bool> {
    let mut progress = false;
    if pending.is_empty() && !*eof {
        match from.read(buf) {
            Ok(0) => {
                if ended(from) {
                    *eof = true;
                    progress = true;
                }
            }
            Ok(n) => {
                pending.extend_from_slice(&buf[..n]);
                progress = true;
            }
            Err(e) if would_block(&e) => {}
            Err(_) => return None,
        }
    }
    if !pending.is_empty() {
        match to.write(pending) {
            Ok(n) => {
                pending.drain(..n);
                progress |= n > 0;
            }
            Err(e) if would_block(&e) => {}
            Err(_) => return None,
        }
    }
    Some(progress)
}

/// Copies bytes both ways between the local socket (the target session's
/// end of the pair) and the bastion's channel, until either side closes.
fn pump(jump: Session, mut channel: ssh2::Channel, mut sock: UnixStream) {
    jump.inner.set_blocking(false);
    if sock.set_nonblocking(true).is_err() {
        return;
    }
    let mut up: Vec<u8> = Vec::new();
    let mut down: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 32 * 1024];
    let (mut sock_eof, mut chan_eof) = (false, false);
    let mut idle = Duration::from_micros(200);
    // A read that returns 0 is the socket's end; the channel, being
    // non-blocking, also returns 0 when it merely has nothing yet.
    while let Some(up_moved) = shuttle(
        &mut sock,
        &mut channel,
        &mut up,
        &mut sock_eof,
        &mut buf,
        |_| true,
    ) {
        let Some(down_moved) = shuttle(
            &mut channel,
            &mut sock,
            &mut down,
            &mut chan_eof,
            &mut buf,
            |c| c.eof(),
        ) else {
            break;
        };
        let progress = up_moved || down_moved;
        // The target session hung up, or the target closed the connection.
        if (sock_eof && up.is_empty()) || (chan_eof && down.is_empty()) {
            break;
        }
        if progress {
            idle = Duration::from_micros(200);
        } else {
            thread::sleep(idle);
            idle = (idle * 2).min(Duration::from_millis(5));
        }
    }
    let _ = sock.shutdown(std::net::Shutdown::Both);
    // Close politely, without waiting long for a bastion that is gone.
    jump.inner.set_blocking(true);
    jump.inner.set_timeout(2000);
    let _ = channel.send_eof();
    let _ = channel.close();
    drop(channel);
    drop(jump);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(
            shell_quote("/etc/nomad.d/nomad.hcl"),
            "/etc/nomad.d/nomad.hcl"
        );
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("$(rm -rf /)"), "'$(rm -rf /)'");
        assert_eq!(sudo_wrap("root", "id -u"), "id -u");
        assert_eq!(
            sudo_wrap("ops", "echo 'a' > /etc/x"),
            "sudo -n sh -c 'echo '\\''a'\\'' > /etc/x'"
        );
    }

    #[test]
    fn host_key_algorithms_known_first() {
        let known = KnownHosts::parse(
            "10.0.0.1 ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBAA=\n",
        );
        let prefs = host_key_prefs(&known, "10.0.0.1", 22);
        assert!(
            prefs.starts_with("ecdsa-sha2-nistp256,ssh-ed25519"),
            "{prefs}"
        );
        assert!(host_key_prefs(&known, "10.0.0.2", 22).starts_with("ssh-ed25519,"));
    }

    #[test]
    fn a_port_that_is_not_sshd_is_unreachable_after_the_connect_timeout() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepting = thread::spawn(move || {
            for stream in listener.incoming().take(20) {
                drop(stream);
            }
        });
        let target = SshTarget {
            address: "127.0.0.1".into(),
            port,
            user: "nobody".into(),
            identity_file: None,
            passphrase_env: None,
            known_hosts: PathBuf::from("/nonexistent/known_hosts"),
            accept_new_host_keys: false,
            bastion: None,
            connect_timeout: Duration::from_secs(1),
            op_timeout: Duration::from_secs(1),
        };
        let started = Instant::now();
        let err = Session::connect(&target).unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(700));
        assert!(matches!(err, SshError::Unreachable { .. }), "{err}");
        assert!(
            err.to_string()
                .starts_with(&format!("127.0.0.1:{port} is unreachable")),
            "{err}"
        );
        drop(accepting);
    }

    #[test]
    fn errors_map_to_exit_codes() {
        let e = SshError::HostKey {
            host: "10.213.0.11".into(),
            problem: HostKeyProblem::Mismatch {
                known: vec!["SHA256:a".into()],
                offered: "SHA256:b".into(),
            },
        };
        assert_eq!(e.exit(), Exit::Refused);
        assert!(e.to_string().starts_with(
            "host key mismatch for 10.213.0.11: known_hosts has SHA256:a, the host offers SHA256:b"
        ));
        let e: Error = SshError::Unreachable {
            host: "h".into(),
            reason: "r".into(),
        }
        .into();
        assert_eq!(e.exit, Exit::Unreachable);
        let e = SshError::Auth {
            host: "h".into(),
            reason: "r".into(),
        };
        assert_eq!(e.exit(), Exit::Refused);
    }
}
