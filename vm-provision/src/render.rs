//! The files one host gets: the Consul and Nomad agent configurations and
//! their systemd units. Pure functions of the inventory (and the gossip
//! key's content): the same inventory renders byte-identical files, so a
//! re-run can compare and leave a host `unchanged`.
//!
//! Everything that makes a cluster (region, datacenter, role,
//! `bootstrap_expect`, joins) lives in the config files; the units only
//! point the agents at their config folder.
//!
//! Addresses: Consul advertises the LAN (private) address to its
//! datacenter and the WAN (public) address to other datacenters. Nomad
//! servers advertise Serf and RPC on the WAN address: servers of other
//! regions gossip with them and forward requests to their RPC, and a
//! region may span clouds (the demo's `france` joins region `europe`), so
//! its servers reach each other's RPC (Raft) across private networks. HTTP
//! stays on the LAN address; clients join the servers on their LAN
//! addresses and advertise everything on the LAN address.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cli_common::Error;

use crate::inventory::{Host, Inventory, Role};

/// Consul's configuration file.
pub const CONSUL_CONFIG: &str = "/etc/consul.d/consul.hcl";
/// Nomad's configuration file.
pub const NOMAD_CONFIG: &str = "/etc/nomad.d/nomad.hcl";
/// Consul's systemd unit.
pub const CONSUL_UNIT: &str = "/etc/systemd/system/consul.service";
/// Nomad's systemd unit.
pub const NOMAD_UNIT: &str = "/etc/systemd/system/nomad.service";
/// Where the binaries are installed.
pub const BIN_DIR: &str = "/usr/local/bin";
/// Consul's data folder.
pub const CONSUL_DATA_DIR: &str = "/opt/consul";
/// Nomad's data folder.
pub const NOMAD_DATA_DIR: &str = "/opt/nomad";
/// The folder of Consul's TLS files on a host (`ca.pem`, `agent.pem`,
/// `agent-key.pem`).
pub const CONSUL_TLS_DIR: &str = "/etc/consul.d/tls";
/// The folder of Nomad's TLS files on a host.
pub const NOMAD_TLS_DIR: &str = "/etc/nomad.d/tls";
/// Where Nomad finds the local Consul agent.
pub const LOCAL_CONSUL: &str = "127.0.0.1:8500";
/// Nomad's server RPC port, for clients' `server_join`.
pub const NOMAD_RPC_PORT: u16 = 4647;

/// One rendered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// Where it goes on the host.
    pub path: &'static str,
    /// Its permissions (`0o640` when it holds a secret).
    pub mode: u32,
    /// Its content.
    pub content: String,
}

/// Every file of `host`: the two configs, then the two units.
/// `gossip_key` is the content of `consul.encrypt_key_file`, read with
/// [`read_gossip_key`].
pub fn host_files(inv: &Inventory, host: &Host, gossip_key: Option<&str>) -> Vec<RenderedFile> {
    let consul_mode = if gossip_key.is_some() { 0o640 } else { 0o644 };
    vec![
        RenderedFile {
            path: CONSUL_CONFIG,
            mode: consul_mode,
            content: consul_hcl(inv, host, gossip_key),
        },
        RenderedFile {
            path: NOMAD_CONFIG,
            mode: 0o644,
            content: nomad_hcl(inv, host),
        },
        RenderedFile {
            path: CONSUL_UNIT,
            mode: 0o644,
            content: consul_unit(),
        },
        RenderedFile {
            path: NOMAD_UNIT,
            mode: 0o644,
            content: nomad_unit(),
        },
    ]
}

/// Reads the gossip key file: one base64 key of 16 or 32 bytes (what
/// `consul keygen` prints). Errors (exit 3) never show the key.
pub fn read_gossip_key(path: &Path) -> Result<String, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::bad_input(format!(
            "consul.encrypt_key_file: cannot read {}: {e}",
            path.display()
        ))
    })?;
    let key = text.trim();
    match STANDARD.decode(key) {
        Ok(bytes) if bytes.len() == 16 || bytes.len() == 32 => Ok(key.to_string()),
        _ => Err(Error::bad_input(format!(
            "consul.encrypt_key_file: {} does not hold a gossip key (base64 of 16 or 32 bytes, as `consul keygen` prints)",
            path.display()
        ))),
    }
}

/// The LAN addresses of the inventory's servers other than `host`, in
/// inventory order.
fn other_servers<'a>(inv: &'a Inventory, host: &Host) -> Vec<&'a str> {
    inv.hosts
        .iter()
        .filter(|h| h.role == Role::Server && h.name != host.name)
        .map(Host::lan_address)
        .collect()
}

fn server_count(inv: &Inventory) -> usize {
    inv.hosts.iter().filter(|h| h.role == Role::Server).count()
}

/// The WAN address when it is an IP (agents advertise IPs), else `None`.
fn wan_ip(host: &Host) -> Option<&str> {
    let wan = host.wan_address();
    wan.parse::<IpAddr>().is_ok().then_some(wan)
}

/// `/etc/consul.d/consul.hcl` for `host`.
pub fn consul_hcl(inv: &Inventory, host: &Host, gossip_key: Option<&str>) -> String {
    let server = host.role == Role::Server;
    let mut joins: Vec<String> = if server {
        other_servers(inv, host)
            .into_iter()
            .map(String::from)
            .collect()
    } else {
        all_servers(inv).into_iter().map(String::from).collect()
    };
    joins.extend(inv.consul.retry_join.iter().cloned());
    let mut w = Hcl::default();
    w.comment("Rendered by vm-provision: changes here are overwritten.");
    w.string("datacenter", &inv.datacenter);
    w.string("data_dir", CONSUL_DATA_DIR);
    w.string("node_name", &host.name);
    w.string("bind_addr", &host.bind_address);
    w.string("client_addr", "0.0.0.0");
    w.string("advertise_addr", host.lan_address());
    if let Some(wan) = wan_ip(host) {
        w.string("advertise_addr_wan", wan);
    }
    w.list("retry_join", &joins);
    if server {
        w.boolean("server", true);
        w.int("bootstrap_expect", server_count(inv));
        w.list("retry_join_wan", &inv.consul.retry_join_wan);
        w.block("ui_config", |b| b.boolean("enabled", true));
    }
    if let Some(key) = gossip_key {
        w.string("encrypt", key);
    }
    if inv.consul.tls.is_some() {
        consul_tls(&mut w);
    }
    if inv.consul.acl {
        w.block("acl", |b| {
            b.boolean("enabled", true);
            b.string("default_policy", "deny");
            b.boolean("enable_token_persistence", true);
        });
    }
    w.finish()
}

fn all_servers(inv: &Inventory) -> Vec<&str> {
    inv.hosts
        .iter()
        .filter(|h| h.role == Role::Server)
        .map(Host::lan_address)
        .collect()
}

/// TLS on: HTTPS on 8501 for everyone, plain HTTP on 127.0.0.1 only (for
/// the local Nomad agent).
fn consul_tls(w: &mut Hcl) {
    w.block("tls", |b| {
        b.block("defaults", |d| {
            d.string("ca_file", &format!("{CONSUL_TLS_DIR}/ca.pem"));
            d.string("cert_file", &format!("{CONSUL_TLS_DIR}/agent.pem"));
            d.string("key_file", &format!("{CONSUL_TLS_DIR}/agent-key.pem"));
            d.boolean("verify_incoming", true);
            d.boolean("verify_outgoing", true);
        });
        b.block("https", |h| h.boolean("verify_incoming", false));
        b.block("internal_rpc", |r| {
            r.boolean("verify_server_hostname", true)
        });
    });
    w.block("ports", |p| p.int("https", 8501));
    w.block("addresses", |a| a.string("http", "127.0.0.1"));
}

/// `/etc/nomad.d/nomad.hcl` for `host`.
pub fn nomad_hcl(inv: &Inventory, host: &Host) -> String {
    let server = host.role == Role::Server;
    let lan = host.lan_address();
    let wan = if server {
        wan_ip(host).unwrap_or(lan)
    } else {
        lan
    };
    let mut w = Hcl::default();
    w.comment("Rendered by vm-provision: changes here are overwritten.");
    w.string("region", &inv.region);
    w.string("datacenter", &inv.datacenter);
    w.string("name", &host.name);
    w.string("data_dir", NOMAD_DATA_DIR);
    w.string("bind_addr", &host.bind_address);
    w.block("advertise", |a| {
        a.string("http", lan);
        a.string("rpc", wan);
        a.string("serf", wan);
    });
    if server {
        nomad_server(&mut w, inv, host);
    } else {
        nomad_client(&mut w, inv, host);
    }
    w.block("consul", |c| c.string("address", LOCAL_CONSUL));
    if inv.nomad.acl {
        w.block("acl", |a| a.boolean("enabled", true));
    }
    if inv.nomad.tls.is_some() {
        w.block("tls", |t| {
            t.boolean("http", true);
            t.boolean("rpc", true);
            t.string("ca_file", &format!("{NOMAD_TLS_DIR}/ca.pem"));
            t.string("cert_file", &format!("{NOMAD_TLS_DIR}/agent.pem"));
            t.string("key_file", &format!("{NOMAD_TLS_DIR}/agent-key.pem"));
            t.boolean("verify_server_hostname", true);
            t.boolean("verify_https_client", false);
        });
    }
    w.finish()
}

fn nomad_server(w: &mut Hcl, inv: &Inventory, host: &Host) {
    let joins: Vec<String> = other_servers(inv, host)
        .into_iter()
        .map(String::from)
        .collect();
    w.block("server", |s| {
        s.boolean("enabled", true);
        s.int("bootstrap_expect", server_count(inv));
        if !joins.is_empty() {
            s.block("server_join", |j| j.list("retry_join", &joins));
        }
    });
}

fn nomad_client(w: &mut Hcl, inv: &Inventory, host: &Host) {
    let joins: Vec<String> = all_servers(inv).into_iter().map(rpc_address).collect();
    w.block("client", |c| {
        c.boolean("enabled", true);
        c.block("server_join", |j| j.list("retry_join", &joins));
        if let Some(class) = &host.node_class {
            c.string("node_class", class);
        }
        if !host.meta.is_empty() {
            c.map("meta", &host.meta);
        }
    });
}

/// `address:4647`, with brackets around an IPv6 literal.
fn rpc_address(address: &str) -> String {
    if address.contains(':') {
        format!("[{address}]:{NOMAD_RPC_PORT}")
    } else {
        format!("{address}:{NOMAD_RPC_PORT}")
    }
}

/// The Consul systemd unit: `consul agent -config-dir` and nothing else.
pub fn consul_unit() -> String {
    format!(
        "# Rendered by vm-provision: changes here are overwritten.\n\
         [Unit]\n\
         Description=Consul agent\n\
         Wants=network-online.target\n\
         After=network-online.target\n\
         ConditionFileNotEmpty={CONSUL_CONFIG}\n\
         \n\
         [Service]\n\
         Type=notify\n\
         User=consul\n\
         Group=consul\n\
         ExecStart={BIN_DIR}/consul agent -config-dir=/etc/consul.d/\n\
         ExecReload=/bin/kill -HUP $MAINPID\n\
         KillMode=process\n\
         KillSignal=SIGTERM\n\
         Restart=on-failure\n\
         LimitNOFILE=65536\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n"
    )
}

/// The Nomad systemd unit: `nomad agent -config` and nothing else. Runs
/// as root (clients drive Docker and chroots).
pub fn nomad_unit() -> String {
    format!(
        "# Rendered by vm-provision: changes here are overwritten.\n\
         [Unit]\n\
         Description=Nomad agent\n\
         Wants=network-online.target consul.service\n\
         After=network-online.target consul.service\n\
         ConditionFileNotEmpty={NOMAD_CONFIG}\n\
         \n\
         [Service]\n\
         ExecStart={BIN_DIR}/nomad agent -config=/etc/nomad.d/\n\
         ExecReload=/bin/kill -HUP $MAINPID\n\
         KillMode=process\n\
         KillSignal=SIGINT\n\
         Restart=on-failure\n\
         RestartSec=2\n\
         LimitNOFILE=65536\n\
         LimitNPROC=infinity\n\
         TasksMax=infinity\n\
         OOMScoreAdjust=-1000\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n"
    )
}

/// A small HCL writer: attributes and blocks in the order written, two
/// spaces of indent, strings escaped, maps in key order.
#[derive(Debug, Default)]
struct Hcl {
    out: String,
    depth: usize,
}

impl Hcl {
    fn line(&mut self, text: &str) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn comment(&mut self, text: &str) {
        self.line(&format!("# {text}"));
    }

    fn string(&mut self, key: &str, value: &str) {
        self.line(&format!("{key} = {}", quote(value)));
    }

    fn boolean(&mut self, key: &str, value: bool) {
        self.line(&format!("{key} = {value}"));
    }

    fn int(&mut self, key: &str, value: usize) {
        self.line(&format!("{key} = {value}"));
    }

    /// A list of strings; nothing when empty.
    fn list(&mut self, key: &str, values: &[String]) {
        if values.is_empty() {
            return;
        }
        let items: Vec<String> = values.iter().map(|v| quote(v)).collect();
        self.line(&format!("{key} = [{}]", items.join(", ")));
    }

    /// A map of strings, as an object expression with quoted keys.
    fn map(&mut self, key: &str, values: &BTreeMap<String, String>) {
        self.line(&format!("{key} = {{"));
        self.depth += 1;
        for (k, v) in values {
            self.line(&format!("{} = {}", quote(k), quote(v)));
        }
        self.depth -= 1;
        self.line("}");
    }

    fn block(&mut self, name: &str, body: impl FnOnce(&mut Hcl)) {
        self.line(&format!("{name} {{"));
        self.depth += 1;
        body(self);
        self.depth -= 1;
        self.line("}");
    }

    fn finish(self) -> String {
        self.out
    }
}

/// An HCL quoted string: `"`, `\` and control characters escaped, and
/// `${`/`%{` doubled so they stay literal.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
