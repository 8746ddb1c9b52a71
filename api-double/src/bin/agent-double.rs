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

use std::path::PathBuf;
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use api_double::agent::{AgentConfig, AgentDouble};

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

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let agent = match run(&args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("agent-double: {e}");
            return ExitCode::from(2);
        }
    };
    let url = agent
        .nomad_address()
        .or_else(|| agent.consul_address())
        .unwrap_or_default();
    println!("ready {url}");
    loop {
        thread::sleep(Duration::from_secs(3600));
    }
}
