//! `agent-double`: runs one Nomad or Consul **agent double** (see
//! `api_double::agent`) as a standalone process, from the configuration files a real
//! agent takes, for end-to-end runs and provisioning tests. Not a Nomad or Consul agent.
//!
//! ```text
//! agent-double nomad agent -config DIR_OR_FILE [-config DIR_OR_FILE ...] [-acl-token T]
//! agent-double consul agent -config-dir DIR [-config-file FILE ...] [-acl-token T]
//! ```
//! Prints `ready <http url>` on standard output once listening, then runs until killed.
//! `-dev`, `-log-level` and other flags of the real agents are accepted and ignored.
//!
//! **Under the real names.** Installed (copied or linked) as `nomad` or `consul`, it is
//! that product without the leading product argument, as a systemd unit starts it:
//! `/usr/local/bin/consul agent -config-dir=/etc/consul.d/`,
//! `/usr/local/bin/nomad agent -config=/etc/nomad.d/`. `nomad version` / `consul
//! version` print `Nomad v<build>` / `Consul v<build>` and a line naming the double.
//!
//! **Readiness.** When `NOTIFY_SOCKET` is set (a `Type=notify` unit), `READY=1` is sent
//! to it once every listener is up (a unix datagram; a leading `@` names an abstract
//! socket).

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use api_double::agent::{AgentConfig, AgentDouble, CONSUL_BUILD, NOMAD_BUILD};

const USAGE: &str = "usage: agent-double nomad agent -config DIR_OR_FILE [-config ...] [-acl-token T]\n       agent-double consul agent -config-dir DIR [-config-file FILE ...] [-acl-token T]";

/// Which agent to play, its configuration paths, and an optional ACL token override.
fn parse(args: &[String]) -> Result<(bool, Vec<PathBuf>, Option<String>), String> {
    let (product, rest) = match args {
        [p, a, rest @ ..] if a == "agent" && (p == "nomad" || p == "consul") => (p, rest),
        _ => return Err(USAGE.to_string()),
    };
    let nomad = product == "nomad";
    let mut paths = Vec::new();
    let mut token = None;
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        let trimmed = arg.trim_start_matches('-');
        let (flag, inline) = match trimmed.split_once('=') {
            Some((f, v)) => (f, Some(v.to_string())),
            None => (trimmed, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or(format!("{arg} needs a value"))
        };
        match flag {
            "config" if nomad => paths.push(PathBuf::from(value()?)),
            "config-dir" | "config-file" if !nomad => paths.push(PathBuf::from(value()?)),
            "acl-token" => token = Some(value()?),
            "log-level" | "data-dir" | "bind" | "node" => {
                value()?;
            }
            _ => {} // other flags of the real agents: ignored
        }
    }
    if paths.is_empty() {
        return Err(format!("no configuration given\n{USAGE}"));
    }
    Ok((nomad, paths, token))
}

fn run(args: &[String]) -> Result<AgentDouble, String> {
    let (nomad, paths, token) = parse(args)?;
    let mut config = if nomad {
        AgentConfig::from_nomad_files(&paths)?
    } else {
        AgentConfig::from_consul_files(&paths)?
    };
    if let Some(t) = token {
        if let Some(n) = config.nomad.as_mut() {
            n.acl_token = Some(t.clone());
        }
        if let Some(c) = config.consul.as_mut() {
            c.acl_token = Some(t);
        }
    }
    AgentDouble::start(config).map_err(|e| e.to_string())
}

/// The arguments as `agent-double` takes them: under the name `nomad` or `consul`, the
/// product is the program name.
fn effective_args(mut argv: impl Iterator<Item = String>) -> Vec<String> {
    let argv0 = argv.next().unwrap_or_default();
    let name = Path::new(&argv0)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    let rest = argv.collect::<Vec<_>>();
    if name == "nomad" || name == "consul" {
        std::iter::once(name).chain(rest).collect()
    } else {
        rest
    }
}

/// `nomad version` / `consul version` (also `-version`, `--version`, `-v`).
fn version(args: &[String]) -> Option<String> {
    let [product, flag] = args else {
        return None;
    };
    if !matches!(flag.as_str(), "version" | "-version" | "--version" | "-v") {
        return None;
    }
    match product.as_str() {
        "nomad" => Some(format!(
            "Nomad v{NOMAD_BUILD}\nagent-double: a test double of Nomad, not Nomad"
        )),
        "consul" => {
            let build = CONSUL_BUILD.split(':').next().unwrap_or(CONSUL_BUILD);
            Some(format!(
                "Consul v{build}\nagent-double: a test double of Consul, not Consul"
            ))
        }
        _ => None,
    }
}

/// Sends `READY=1` to `$NOTIFY_SOCKET`, if set (systemd's `sd_notify`).
fn notify_ready() -> Result<(), String> {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let message = format!("READY=1\nMAINPID={}\n", std::process::id());
    let socket = UnixDatagram::unbound().map_err(|e| format!("NOTIFY_SOCKET: {e}"))?;
    send_notify(&socket, &path, message.as_bytes())
        .map_err(|e| format!("NOTIFY_SOCKET {}: {e}", path.to_string_lossy()))
}

fn send_notify(socket: &UnixDatagram, path: &OsString, message: &[u8]) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_bytes();
    if let Some(name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
        socket.send_to_addr(message, &addr).map(|_| ())
    } else {
        socket.send_to(message, Path::new(path)).map(|_| ())
    }
}

/// Writes one line, ignoring a closed or broken output (a supervisor that stopped
/// reading must not bring the agent down).
fn say(out: &mut impl Write, line: &str) {
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn main() -> ExitCode {
    let args = effective_args(std::env::args());
    if let Some(text) = version(&args) {
        say(&mut std::io::stdout(), &text);
        return ExitCode::SUCCESS;
    }
    let agent = match run(&args) {
        Ok(a) => a,
        Err(e) => {
            say(&mut std::io::stderr(), &format!("agent-double: {e}"));
            return ExitCode::from(2);
        }
    };
    let url = agent
        .nomad_address()
        .or_else(|| agent.consul_address())
        .unwrap_or_default();
    say(&mut std::io::stdout(), &format!("ready {url}"));
    if let Err(e) = notify_ready() {
        say(&mut std::io::stderr(), &format!("agent-double: {e}"));
    }
    loop {
        thread::sleep(Duration::from_secs(3600));
    }
}
