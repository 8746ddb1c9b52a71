//! The inventory: which hosts to provision, with which role, and how to
//! reach them.
//!
//! Two shapes are read into the same [`Inventory`]:
//!
//! - the native one (`inventory.schema.json` beside `Cargo.toml`), every
//!   object with `deny_unknown_fields`;
//! - the demo's `terraform output -json` (`{"servers_ips": {"value":
//!   [...]}, "clients_ips": {"value": [...]}}`), with the region and the
//!   datacenter from [`TerraformDefaults`].
//!
//! Every error names the JSON path of the value at fault
//! (`hosts[1].address: not an IP address or host name`) and maps to exit 3.

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use cli_common::Error;
use serde::{Deserialize, Deserializer};

/// The Consul version installed when the inventory names none.
pub const DEFAULT_CONSUL_VERSION: &str = "1.20.5";
/// The Nomad version installed when the inventory names none.
pub const DEFAULT_NOMAD_VERSION: &str = "1.9.7";
/// Nomad's default region.
pub const DEFAULT_REGION: &str = "global";
/// Nomad's and Consul's default datacenter.
pub const DEFAULT_DATACENTER: &str = "dc1";

/// A validated inventory.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    /// The Nomad region.
    pub region: String,
    /// The datacenter, for Nomad and Consul alike.
    pub datacenter: String,
    /// How to reach the hosts.
    #[serde(default)]
    pub ssh: SshSettings,
    /// The hosts, in order.
    pub hosts: Vec<Host>,
    /// Consul agent settings.
    #[serde(default)]
    pub consul: ConsulSettings,
    /// Nomad agent settings.
    #[serde(default)]
    pub nomad: NomadSettings,
}

/// SSH settings, OpenSSH's habits for defaults.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SshSettings {
    /// The remote user (default `root`).
    pub user: String,
    /// The SSH port (default 22).
    pub port: u16,
    /// A private key file; none means ssh-agent.
    pub identity_file: Option<PathBuf>,
    /// The name of the environment variable holding the key's passphrase
    /// (never the passphrase itself).
    pub identity_passphrase_env: Option<String>,
    /// The known_hosts file (default `~/.ssh/known_hosts`).
    pub known_hosts: PathBuf,
    /// A jump host, when the hosts are not reachable directly.
    pub bastion: Option<Bastion>,
    /// How long to keep trying to connect (default 60s: a host may still
    /// be booting).
    #[serde(deserialize_with = "duration")]
    pub connect_timeout: Duration,
}

impl Default for SshSettings {
    fn default() -> SshSettings {
        SshSettings {
            user: "root".to_string(),
            port: 22,
            identity_file: None,
            identity_passphrase_env: None,
            known_hosts: PathBuf::from("~/.ssh/known_hosts"),
            bastion: None,
            connect_timeout: Duration::from_secs(60),
        }
    }
}

/// A jump host.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bastion {
    /// Its address.
    pub address: String,
    /// Its SSH port (default 22).
    #[serde(default = "default_ssh_port")]
    pub port: u16,
    /// The user on it (default: the hosts' user).
    #[serde(default)]
    pub user: Option<String>,
}

fn default_ssh_port() -> u16 {
    22
}

/// A host's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A Consul and Nomad server.
    Server,
    /// A Consul and Nomad client.
    Client,
}

impl Role {
    /// `server` or `client`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Server => "server",
            Role::Client => "client",
        }
    }
}

/// One host.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// The node name (Consul and Nomad), a host name.
    pub name: String,
    /// Where SSH connects to (an IP address or a host name).
    pub address: String,
    /// The LAN address advertised to the datacenter (default: `address`).
    #[serde(default)]
    pub private_address: Option<String>,
    /// The WAN address advertised to other datacenters and regions
    /// (default: `address`).
    #[serde(default)]
    pub public_address: Option<String>,
    /// Server or client.
    pub role: Role,
    /// The address the agents bind to (default `0.0.0.0`).
    #[serde(default = "default_bind_address")]
    pub bind_address: String,
    /// The Nomad node class (clients).
    #[serde(default)]
    pub node_class: Option<String>,
    /// Nomad client metadata.
    #[serde(default)]
    pub meta: BTreeMap<String, String>,
}

fn default_bind_address() -> String {
    "0.0.0.0".to_string()
}

impl Host {
    /// The LAN address: `private_address`, else `address`.
    pub fn lan_address(&self) -> &str {
        self.private_address.as_deref().unwrap_or(&self.address)
    }

    /// The WAN address: `public_address`, else `address`.
    pub fn wan_address(&self) -> &str {
        self.public_address.as_deref().unwrap_or(&self.address)
    }
}

/// TLS files on the operator's machine, uploaded to the hosts.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// The CA certificate (PEM).
    pub ca_file: PathBuf,
    /// The agent certificate (PEM).
    pub cert_file: PathBuf,
    /// The agent key (PEM).
    pub key_file: PathBuf,
}

/// Consul settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsulSettings {
    /// The version to install (semver).
    pub version: String,
    /// Extra LAN join addresses (or cloud auto-join strings), after the
    /// inventory's servers.
    pub retry_join: Vec<String>,
    /// WAN join addresses of other datacenters' servers.
    pub retry_join_wan: Vec<String>,
    /// A file on the operator's machine holding the gossip key (base64);
    /// the key is never written in the inventory itself.
    pub encrypt_key_file: Option<PathBuf>,
    /// TLS, when given.
    pub tls: Option<TlsFiles>,
    /// Whether ACLs are enabled (default deny).
    pub acl: bool,
}

impl Default for ConsulSettings {
    fn default() -> ConsulSettings {
        ConsulSettings {
            version: DEFAULT_CONSUL_VERSION.to_string(),
            retry_join: Vec::new(),
            retry_join_wan: Vec::new(),
            encrypt_key_file: None,
            tls: None,
            acl: false,
        }
    }
}

/// Nomad settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NomadSettings {
    /// The version to install (semver).
    pub version: String,
    /// Whether ACLs are enabled.
    pub acl: bool,
    /// TLS, when given.
    pub tls: Option<TlsFiles>,
}

impl Default for NomadSettings {
    fn default() -> NomadSettings {
        NomadSettings {
            version: DEFAULT_NOMAD_VERSION.to_string(),
            acl: false,
            tls: None,
        }
    }
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    cli_common::parse_duration(&text).map_err(serde::de::Error::custom)
}

/// What the terraform shape does not say: region, datacenter, SSH user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TerraformDefaults {
    /// The region (default `global`).
    pub region: String,
    /// The datacenter (default `dc1`).
    pub datacenter: String,
    /// SSH settings for every host.
    pub ssh: SshSettings,
}

impl Default for TerraformDefaults {
    fn default() -> TerraformDefaults {
        TerraformDefaults {
            region: DEFAULT_REGION.to_string(),
            datacenter: DEFAULT_DATACENTER.to_string(),
            ssh: SshSettings::default(),
        }
    }
}

/// One `terraform output -json` output: `{"value": ..., "type": ...,
/// "sensitive": ...}`.
#[derive(Debug, Deserialize)]
struct TerraformOutput {
    value: Vec<String>,
}

/// The demo's terraform outputs; other outputs are ignored.
#[derive(Debug, Deserialize)]
struct TerraformShape {
    #[serde(default)]
    servers_ips: Option<TerraformOutput>,
    #[serde(default)]
    clients_ips: Option<TerraformOutput>,
}

/// Whether a parsed document is the terraform shape.
fn is_terraform(doc: &serde_json::Value) -> bool {
    doc.get("servers_ips").is_some() || doc.get("clients_ips").is_some()
}

/// Reads and validates an inventory in either shape. `name` prefixes
/// syntax errors (`inventory.json:3:7: ...`).
pub fn parse(text: &str, name: &str, defaults: &TerraformDefaults) -> Result<Inventory, Error> {
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        Error::bad_input(format!(
            "{name}:{}:{}: invalid JSON: {e}",
            e.line(),
            e.column()
        ))
    })?;
    let inventory = if is_terraform(&doc) {
        from_terraform(doc, defaults)
    } else {
        typed(doc)
    }
    .map_err(|e| Error::bad_input(format!("{name}: {e}")))?;
    let problems = validate(&inventory);
    if problems.is_empty() {
        Ok(inventory)
    } else {
        Err(Error::bad_input(format!("{name}: {}", problems.join("; "))))
    }
}

/// The native shape, with the path of a structural error.
fn typed<T: for<'de> Deserialize<'de>>(doc: serde_json::Value) -> Result<T, String> {
    serde_path_to_error::deserialize(doc).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            inner.to_string()
        } else {
            format!("{path}: {inner}")
        }
    })
}

/// The terraform shape: servers `server-N`, clients `client-N`.
fn from_terraform(
    doc: serde_json::Value,
    defaults: &TerraformDefaults,
) -> Result<Inventory, String> {
    let shape: TerraformShape = typed(doc)?;
    let mut hosts = Vec::new();
    for (output, role) in [
        (shape.servers_ips, Role::Server),
        (shape.clients_ips, Role::Client),
    ] {
        let addresses = output.map(|o| o.value).unwrap_or_default();
        for (i, address) in addresses.into_iter().enumerate() {
            hosts.push(Host {
                name: format!("{}-{}", role.as_str(), i + 1),
                address,
                private_address: None,
                public_address: None,
                role,
                bind_address: default_bind_address(),
                node_class: None,
                meta: BTreeMap::new(),
            });
        }
    }
    Ok(Inventory {
        region: defaults.region.clone(),
        datacenter: defaults.datacenter.clone(),
        ssh: defaults.ssh.clone(),
        hosts,
        consul: ConsulSettings::default(),
        nomad: NomadSettings::default(),
    })
}

/// Whether `text` is a host name (RFC 1123 labels; the last label starts
/// with a letter, so `999.1.1.1` is not one).
pub fn is_host_name(text: &str) -> bool {
    if text.is_empty() || text.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = text.split('.').collect();
    let last_ok = labels
        .last()
        .and_then(|l| l.bytes().next())
        .is_some_and(|b| b.is_ascii_alphabetic());
    last_ok && labels.iter().all(|l| is_label(l))
}

fn is_label(label: &str) -> bool {
    let bytes = label.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    bytes.len() <= 63
        && first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
}

/// Whether `text` is an environment variable name (`[A-Za-z_][A-Za-z0-9_]*`).
pub fn is_env_name(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Whether `text` is an IP address or a host name.
pub fn is_address(text: &str) -> bool {
    text.parse::<IpAddr>().is_ok() || is_host_name(text)
}

/// Whether `text` looks like a semantic version (`1.9.7`, `1.10.0-beta.1`).
pub fn is_semver(text: &str) -> bool {
    let (core, _build) = text.split_once('+').unwrap_or((text, ""));
    let (core, pre) = match core.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (core, None),
    };
    let numbers: Vec<&str> = core.split('.').collect();
    let numbers_ok = numbers.len() == 3
        && numbers.iter().all(|n| {
            !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
                && (n.len() == 1 || !n.starts_with('0'))
        });
    let suffix_ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    };
    let build_ok = !text.contains('+') || text.split_once('+').is_some_and(|(_, b)| suffix_ok(b));
    numbers_ok && pre.is_none_or(suffix_ok) && build_ok
}

/// Every semantic problem of an inventory, each naming its JSON path.
pub fn validate(inv: &Inventory) -> Vec<String> {
    let mut problems = Vec::new();
    check_name(&mut problems, "region", &inv.region);
    check_name(&mut problems, "datacenter", &inv.datacenter);
    check_ssh(&mut problems, &inv.ssh);
    check_hosts(&mut problems, &inv.hosts);
    for (path, version) in [
        ("consul.version", &inv.consul.version),
        ("nomad.version", &inv.nomad.version),
    ] {
        if !is_semver(version) {
            problems.push(format!("{path}: not a version (like 1.9.7): {version:?}"));
        }
    }
    for (path, list) in [
        ("consul.retry_join", &inv.consul.retry_join),
        ("consul.retry_join_wan", &inv.consul.retry_join_wan),
    ] {
        for (i, entry) in list.iter().enumerate() {
            if entry.trim().is_empty() {
                problems.push(format!("{path}[{i}]: empty"));
            }
        }
    }
    problems
}

fn check_name(problems: &mut Vec<String>, path: &str, value: &str) {
    let ok = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        problems.push(format!(
            "{path}: not a name (letters, digits, - and _): {value:?}"
        ));
    }
}

fn check_ssh(problems: &mut Vec<String>, ssh: &SshSettings) {
    if ssh.user.is_empty() {
        problems.push("ssh.user: empty".to_string());
    }
    if ssh.port == 0 {
        problems.push("ssh.port: 0 is not a port".to_string());
    }
    if let Some(name) = ssh.identity_passphrase_env.as_deref() {
        if !is_env_name(name) {
            problems.push(format!(
                "ssh.identity_passphrase_env: not an environment variable name: {name:?}"
            ));
        }
    }
    if let Some(b) = &ssh.bastion {
        if !is_address(&b.address) {
            problems.push(format!(
                "ssh.bastion.address: not an IP address or host name: {:?}",
                b.address
            ));
        }
        if b.port == 0 {
            problems.push("ssh.bastion.port: 0 is not a port".to_string());
        }
    }
}

fn check_hosts(problems: &mut Vec<String>, hosts: &[Host]) {
    if hosts.is_empty() {
        problems.push("hosts: no host".to_string());
    } else if !hosts.iter().any(|h| h.role == Role::Server) {
        problems.push("hosts: no server (at least one host needs role \"server\")".to_string());
    }
    let mut names = HashSet::new();
    for (i, host) in hosts.iter().enumerate() {
        if !names.insert(host.name.to_ascii_lowercase()) {
            problems.push(format!("hosts[{i}].name: duplicate name {:?}", host.name));
        }
        check_host(problems, i, host);
    }
}

fn check_host(problems: &mut Vec<String>, i: usize, host: &Host) {
    if !is_host_name(&host.name) {
        problems.push(format!("hosts[{i}].name: not a host name: {:?}", host.name));
    }
    if !is_address(&host.address) {
        problems.push(format!(
            "hosts[{i}].address: not an IP address or host name: {:?}",
            host.address
        ));
    }
    for (field, value) in [
        ("private_address", &host.private_address),
        ("public_address", &host.public_address),
    ] {
        if let Some(v) = value.as_deref().filter(|v| v.parse::<IpAddr>().is_err()) {
            problems.push(format!("hosts[{i}].{field}: not an IP address: {v:?}"));
        }
    }
    if host.private_address.is_none() && host.address.parse::<IpAddr>().is_err() {
        problems.push(format!(
            "hosts[{i}].private_address: needed when address is a host name (agents advertise an IP)"
        ));
    }
    if host.bind_address.parse::<IpAddr>().is_err() {
        problems.push(format!(
            "hosts[{i}].bind_address: not an IP address: {:?}",
            host.bind_address
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Inventory, Error> {
        parse(text, "inv.json", &TerraformDefaults::default())
    }

    const MINIMAL: &str = r#"{"region": "europe", "datacenter": "gce-west1",
        "hosts": [{"name": "s1", "address": "10.0.0.1", "role": "server"}]}"#;

    #[test]
    fn minimal_inventory_gets_defaults() {
        let inv = parse_str(MINIMAL).unwrap();
        assert_eq!(inv.ssh.port, 22);
        assert_eq!(inv.ssh.user, "root");
        assert_eq!(inv.ssh.connect_timeout, Duration::from_secs(60));
        assert_eq!(inv.ssh.known_hosts, PathBuf::from("~/.ssh/known_hosts"));
        assert_eq!(inv.hosts[0].bind_address, "0.0.0.0");
        assert_eq!(inv.hosts[0].lan_address(), "10.0.0.1");
        assert_eq!(inv.hosts[0].wan_address(), "10.0.0.1");
        assert_eq!(inv.consul.version, DEFAULT_CONSUL_VERSION);
        assert_eq!(inv.nomad.version, DEFAULT_NOMAD_VERSION);
    }

    #[test]
    fn errors_name_the_json_path_and_exit_3() {
        let text = r#"{"region": "europe", "datacenter": "dc1", "hosts": [
            {"name": "s1", "address": "10.0.0.1", "role": "server"},
            {"name": "c1", "address": "not_valid!", "role": "client"}]}"#;
        let err = parse_str(text).unwrap_err();
        assert_eq!(err.exit, cli_common::Exit::BadInput);
        assert!(
            err.message
                .contains("hosts[1].address: not an IP address or host name"),
            "{}",
            err.message
        );
        let text = r#"{"region": "europe", "datacenter": "dc1", "hosts": [
            {"name": "s1", "address": "10.0.0.1", "role": "boss"}]}"#;
        let err = parse_str(text).unwrap_err();
        assert!(
            err.message.contains("hosts[0].role: unknown variant"),
            "{}",
            err.message
        );
        let text = r#"{"region": "europe", "datacenter": "dc1", "sshh": {}, "hosts": []}"#;
        let err = parse_str(text).unwrap_err();
        assert!(
            err.message.contains("unknown field `sshh`"),
            "{}",
            err.message
        );
        let err = parse_str("{\"region\": ").unwrap_err();
        assert!(err.message.starts_with("inv.json:1:"), "{}", err.message);
    }

    #[test]
    fn semantic_checks() {
        let text = r#"{"region": "europe", "datacenter": "dc1",
            "ssh": {"connect_timeout": "soon"},
            "hosts": [{"name": "c1", "address": "10.0.0.1", "role": "client"}]}"#;
        let err = parse_str(text).unwrap_err();
        assert!(
            err.message.contains("ssh.connect_timeout"),
            "{}",
            err.message
        );
        let text = r#"{"region": "europe", "datacenter": "dc1",
            "hosts": [{"name": "c1", "address": "10.0.0.1", "role": "client"},
                      {"name": "C1", "address": "10.0.0.2", "role": "client"}],
            "nomad": {"version": "1.9"}}"#;
        let err = parse_str(text).unwrap_err().message;
        assert!(err.contains("hosts: no server"), "{err}");
        assert!(err.contains("hosts[1].name: duplicate"), "{err}");
        assert!(err.contains("nomad.version: not a version"), "{err}");
    }

    #[test]
    fn terraform_output_becomes_an_inventory() {
        let text = r#"{"servers_ips": {"sensitive": false, "type": ["list", "string"],
              "value": ["35.1.1.1", "35.1.1.2"]},
            "clients_ips": {"value": ["35.1.1.9"]}, "other": {"value": 3}}"#;
        let defaults = TerraformDefaults {
            region: "europe".into(),
            datacenter: "gce-west1".into(),
            ..TerraformDefaults::default()
        };
        let inv = parse(text, "tf.json", &defaults).unwrap();
        assert_eq!(inv.region, "europe");
        assert_eq!(inv.datacenter, "gce-west1");
        let names: Vec<_> = inv.hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["server-1", "server-2", "client-1"]);
        assert_eq!(inv.hosts[2].role, Role::Client);
        let err = parse(r#"{"servers_ips": {"value": ["x y"]}}"#, "tf", &defaults).unwrap_err();
        assert!(err.message.contains("hosts[0].address"), "{}", err.message);
        let err = parse(
            r#"{"clients_ips": {"value": ["10.0.0.1"]}}"#,
            "tf",
            &defaults,
        )
        .unwrap_err();
        assert!(err.message.contains("no server"), "{}", err.message);
    }

    #[test]
    fn host_names_addresses_versions() {
        for ok in ["s1", "gce-server-0", "a.example.com", "x"] {
            assert!(is_host_name(ok), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "a..b",
            "999.1.1.1",
            "a_b",
            "1abc",
            &"a".repeat(64),
        ] {
            assert!(!is_host_name(bad), "{bad}");
        }
        assert!(is_address("10.0.0.1") && is_address("fd00::1") && is_address("db.local"));
        assert!(!is_address("10.0.0.300"));
        for ok in [
            "1.9.7",
            "0.0.0",
            "1.10.0-beta.1",
            "1.2.3+ent",
            "1.2.3-rc1+ent",
        ] {
            assert!(is_semver(ok), "{ok}");
        }
        for bad in ["1.9", "v1.9.7", "01.2.3", "1.2.3-", "1.2.3+", "1.2.x"] {
            assert!(!is_semver(bad), "{bad}");
        }
    }
}
