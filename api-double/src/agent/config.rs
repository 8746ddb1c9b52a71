//! Reading the configuration files a real agent takes (`nomad agent -config`,
//! `consul agent -config-dir`), HCL or JSON, into an [`AgentConfig`].
//!
//! Only the keys provisioning writes are read; unknown keys are ignored. Later files
//! override earlier ones (files of a directory are read in name order).

use std::collections::BTreeMap;
use std::fs;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use serde_json::Value;

use super::{AgentConfig, ConsulRole, NomadRole};

/// Token required when a configuration enables ACLs without giving one.
pub const DEFAULT_ACL_TOKEN: &str = "root";

/// Every `*.hcl` / `*.json` file of the given files and directories, in order.
fn config_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = fs::read_dir(p)
                .map_err(|e| format!("{}: {e}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.is_file() && f.extension().is_some_and(|x| x == "hcl" || x == "json"))
                .collect();
            entries.sort();
            files.extend(entries);
        } else if p.is_file() {
            files.push(p.clone());
        } else {
            return Err(format!("{}: no such file or directory", p.display()));
        }
    }
    Ok(files)
}

/// Each file as JSON (HCL through `hcl2json`'s generic shape: blocks are lists).
fn load(paths: &[PathBuf]) -> Result<Vec<Value>, String> {
    config_files(paths)?
        .iter()
        .map(|f| {
            let text = fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?;
            let json = if f.extension().is_some_and(|x| x == "json") {
                text.into_bytes()
            } else {
                hcl2json::generic::to_json(&text, false)
                    .map_err(|e| format!("{}: {e}", f.display()))?
            };
            serde_json::from_slice(&json).map_err(|e| format!("{}: {e}", f.display()))
        })
        .collect()
}

/// The value at `path`, looking through lists of blocks (last one first).
fn lookup<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let Some((first, rest)) = path.split_first() else {
        return Some(v);
    };
    match v {
        Value::Object(m) => m.get(*first).and_then(|c| lookup(c, rest)),
        Value::Array(items) => items.iter().rev().find_map(|i| lookup(i, path)),
        _ => None,
    }
}

/// The files of one agent, later files winning.
struct Files(Vec<Value>);

impl Files {
    fn get(&self, path: &[&str]) -> Option<&Value> {
        self.0.iter().rev().find_map(|v| lookup(v, path))
    }

    fn string(&self, path: &[&str]) -> Option<String> {
        match self.get(path)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    fn bool(&self, path: &[&str]) -> Option<bool> {
        match self.get(path)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    fn number(&self, path: &[&str]) -> Option<u64> {
        match self.get(path)? {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    fn port(&self, path: &[&str], default: u16) -> u16 {
        self.number(path)
            .and_then(|n| u16::try_from(n).ok())
            .unwrap_or(default)
    }

    fn strings(&self, path: &[&str]) -> Vec<String> {
        match self.get(path) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            Some(Value::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    fn map(&self, path: &[&str]) -> BTreeMap<String, String> {
        let obj = match self.get(path) {
            Some(Value::Array(items)) => items.iter().rev().find_map(Value::as_object),
            Some(Value::Object(m)) => Some(m),
            _ => None,
        };
        obj.into_iter()
            .flatten()
            .map(|(k, v)| {
                let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                (k.clone(), v)
            })
            .collect()
    }

    /// An address key (`host` or `host:port`), when it is a literal IP.
    fn ip(&self, path: &[&str]) -> Option<IpAddr> {
        let s = self.string(path)?;
        parse_ip(&s)
    }
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    s.parse().ok().or_else(|| {
        let host = s.rsplit_once(':').map_or(s, |(h, _)| h);
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .ok()
    })
}

fn host_name() -> String {
    fs::read_to_string("/etc/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "agent".to_string())
}

const ANY: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

impl AgentConfig {
    /// The configuration of `nomad agent -config P [-config P ...]`: each path a file or a
    /// directory of `*.hcl` / `*.json` files.
    ///
    /// Keys read: `name`, `region`, `datacenter`, `bind_addr`, `ports { http rpc serf }`,
    /// `addresses { http }`, `advertise { serf rpc http }`, `server { enabled,
    /// bootstrap_expect, server_join { retry_join }, retry_join, start_join }`, `client {
    /// enabled, servers, node_class, meta, server_join { retry_join } }`, `consul { address, token }`
    /// (address default `127.0.0.1:8500`, as Nomad), `acl { enabled }`
    /// (the double then wants [`DEFAULT_ACL_TOKEN`] unless `acl_token` is set on the
    /// returned role). A bind address that is not a literal IP (a go-sockaddr template)
    /// binds `0.0.0.0`.
    pub fn from_nomad_files(paths: &[PathBuf]) -> Result<AgentConfig, String> {
        let f = Files(load(paths)?);
        let server = f.bool(&["server", "enabled"]).unwrap_or(false);
        let mut role = if server {
            NomadRole::server(
                &f.string(&["region"]).unwrap_or_else(|| "global".into()),
                &f.string(&["datacenter"]).unwrap_or_else(|| "dc1".into()),
            )
        } else {
            NomadRole::client(
                &f.string(&["region"]).unwrap_or_else(|| "global".into()),
                &f.string(&["datacenter"]).unwrap_or_else(|| "dc1".into()),
            )
        };
        role.http_port = f.port(&["ports", "http"], 4646);
        role.rpc_port = f.port(&["ports", "rpc"], 4647);
        role.serf_port = f.port(&["ports", "serf"], 4648);
        role.http_bind = f.ip(&["addresses", "http"]);
        if server {
            role.bootstrap_expect = f
                .number(&["server", "bootstrap_expect"])
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(1);
            for key in [
                &["server", "server_join", "retry_join"][..],
                &["server", "retry_join"],
                &["server", "start_join"],
            ] {
                role.retry_join.extend(f.strings(key));
            }
        } else {
            for key in [
                &["client", "server_join", "retry_join"][..],
                &["client", "servers"],
            ] {
                role.retry_join.extend(f.strings(key));
            }
            role.node_class = f.string(&["client", "node_class"]).unwrap_or_default();
            role.meta = f.map(&["client", "meta"]);
        }
        role.consul_address = Some(
            f.string(&["consul", "address"])
                .filter(|a| !a.is_empty())
                .unwrap_or_else(|| "127.0.0.1:8500".to_string()),
        );
        role.consul_token = f.string(&["consul", "token"]).filter(|t| !t.is_empty());
        if f.bool(&["acl", "enabled"]).unwrap_or(false) {
            role.acl_token = Some(DEFAULT_ACL_TOKEN.to_string());
        }
        let bind = f.ip(&["bind_addr"]).unwrap_or(ANY);
        let advertise = ["serf", "rpc", "http"]
            .iter()
            .find_map(|k| f.ip(&["advertise", k]));
        Ok(AgentConfig {
            name: f.string(&["name"]).unwrap_or_else(host_name),
            bind,
            advertise,
            nomad: Some(role),
            consul: None,
        })
    }

    /// The configuration of `consul agent -config-dir D [-config-file F ...]`: each path a
    /// file or a directory of `*.hcl` / `*.json` files.
    ///
    /// Keys read: `node_name`, `datacenter`, `bind_addr`, `client_addr`,
    /// `advertise_addr`, `advertise_addr_wan`, `server`, `bootstrap_expect`, `retry_join`,
    /// `retry_join_wan`, `start_join`, `start_join_wan`, `ports { http serf_lan serf_wan
    /// server }`, `encrypt`, `acl { enabled, tokens { initial_management | master } }`.
    pub fn from_consul_files(paths: &[PathBuf]) -> Result<AgentConfig, String> {
        let f = Files(load(paths)?);
        let dc = f.string(&["datacenter"]).unwrap_or_else(|| "dc1".into());
        let server = f.bool(&["server"]).unwrap_or(false);
        let mut role = if server {
            ConsulRole::server(&dc)
        } else {
            ConsulRole::client(&dc)
        };
        if server {
            role.bootstrap_expect = f
                .number(&["bootstrap_expect"])
                .and_then(|n| u32::try_from(n).ok())
                .unwrap_or(1);
            role.retry_join_wan = f.strings(&["retry_join_wan"]);
            role.retry_join_wan.extend(f.strings(&["start_join_wan"]));
        }
        role.retry_join = f.strings(&["retry_join"]);
        role.retry_join.extend(f.strings(&["start_join"]));
        role.http_port = f.port(&["ports", "http"], 8500);
        role.serf_lan_port = f.port(&["ports", "serf_lan"], 8301);
        role.serf_wan_port = f.port(&["ports", "serf_wan"], 8302);
        role.server_port = f.port(&["ports", "server"], 8300);
        role.encrypt = f.string(&["encrypt"]).filter(|k| !k.is_empty());
        role.http_bind = f.ip(&["client_addr"]);
        role.advertise_wan = f.ip(&["advertise_addr_wan"]);
        if f.bool(&["acl", "enabled"]).unwrap_or(false) {
            let token = f
                .string(&["acl", "tokens", "initial_management"])
                .or_else(|| f.string(&["acl", "tokens", "master"]))
                .or_else(|| f.string(&["acl_master_token"]))
                .unwrap_or_else(|| DEFAULT_ACL_TOKEN.to_string());
            role.acl_token = Some(token);
        }
        Ok(AgentConfig {
            name: f.string(&["node_name"]).unwrap_or_else(host_name),
            bind: f.ip(&["bind_addr"]).unwrap_or(ANY),
            advertise: f.ip(&["advertise_addr"]),
            nomad: None,
            consul: Some(role),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_through_block_lists() {
        let v: Value = serde_json::from_slice(
            &hcl2json::generic::to_json(
                "server {\n enabled = true\n server_join { retry_join = [\"10.0.0.1\"] }\n}\nports { http = 5646 }\n",
                false,
            )
            .unwrap(),
        )
        .unwrap();
        let f = Files(vec![v]);
        assert_eq!(f.bool(&["server", "enabled"]), Some(true));
        assert_eq!(
            f.strings(&["server", "server_join", "retry_join"]),
            vec!["10.0.0.1"]
        );
        assert_eq!(f.port(&["ports", "http"], 4646), 5646);
    }

    fn write(dir: &std::path::Path, name: &str, text: &str) {
        fs::create_dir_all(dir).unwrap();
        fs::write(dir.join(name), text).unwrap();
    }

    #[test]
    fn nomad_client_and_consul_files() {
        let dir = std::env::temp_dir().join(format!("agent-double-config-{}", std::process::id()));
        let nomad = dir.join("nomad");
        write(
            &nomad,
            "client.hcl",
            "region = \"europe\"\nbind_addr = \"{{ GetPrivateIP }}\"\nadvertise { http = \"10.0.0.5:4646\" }\nclient {\n  enabled = true\n  node_class = \"web\"\n  servers = [\"10.0.0.1:4647\"]\n  meta { rack = \"r1\" }\n}\nacl { enabled = true }\nconsul {\n  address = \"127.0.0.1:8501\"\n  token = \"ct\"\n}\n",
        );
        let c = AgentConfig::from_nomad_files(&[nomad]).unwrap();
        let n = c.nomad.unwrap();
        assert!(!n.server);
        assert_eq!(n.region, "europe");
        assert_eq!(n.retry_join, vec!["10.0.0.1:4647"]);
        assert_eq!(n.node_class, "web");
        assert_eq!(n.meta.get("rack").map(String::as_str), Some("r1"));
        assert_eq!(n.acl_token.as_deref(), Some(DEFAULT_ACL_TOKEN));
        assert_eq!(n.consul_address.as_deref(), Some("127.0.0.1:8501"));
        assert_eq!(n.consul_token.as_deref(), Some("ct"));
        assert_eq!(c.bind, ANY);
        assert_eq!(c.advertise, "10.0.0.5".parse().ok());

        let consul = dir.join("consul");
        write(
            &consul,
            "consul.json",
            r#"{"datacenter":"france","server":true,"bootstrap_expect":3,"encrypt":"k==","ports":{"serf_wan":9302},"retry_join_wan":["10.1.0.1"],"acl":{"enabled":true,"tokens":{"initial_management":"m"}}}"#,
        );
        let c = AgentConfig::from_consul_files(&[consul]).unwrap();
        let r = c.consul.unwrap();
        assert!(r.server);
        assert_eq!(r.bootstrap_expect, 3);
        assert_eq!(r.serf_wan_port, 9302);
        assert_eq!(r.encrypt.as_deref(), Some("k=="));
        assert_eq!(r.retry_join_wan, vec!["10.1.0.1"]);
        assert_eq!(r.acl_token.as_deref(), Some("m"));
        assert!(AgentConfig::from_consul_files(&[dir.join("missing")]).is_err());
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn ips() {
        assert_eq!(parse_ip("10.0.0.1:4648"), "10.0.0.1".parse().ok());
        assert_eq!(parse_ip("{{ GetPrivateIP }}"), None);
    }
}
