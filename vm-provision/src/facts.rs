//! The cluster facts `vm-provision` prints: region, datacenter, the API
//! addresses, the servers' and clients' addresses and, per host, what
//! provisioning did. `cli_common::facts` is the reading side.

use serde::Serialize;

use crate::inventory::{Inventory, Role};

/// Nomad's HTTP API port.
pub const NOMAD_HTTP_PORT: u16 = 4646;
/// Consul's HTTP API port (plain HTTP).
pub const CONSUL_HTTP_PORT: u16 = 8500;
/// Consul's HTTPS API port, when TLS is on.
pub const CONSUL_HTTPS_PORT: u16 = 8501;

/// One cluster's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterFacts {
    /// The Nomad region.
    pub region: String,
    /// The datacenter.
    pub datacenter: String,
    /// The Nomad HTTP API of the first server.
    pub nomad_addr: Option<String>,
    /// The Consul HTTP API of the first server.
    pub consul_http_addr: Option<String>,
    /// The servers' WAN addresses.
    pub servers: Vec<String>,
    /// The clients' WAN addresses.
    pub clients: Vec<String>,
    /// Per host, in inventory order.
    pub hosts: Vec<HostFacts>,
}

/// What provisioning did to one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Something was written or restarted.
    Changed,
    /// Everything was already as rendered.
    Unchanged,
    /// Provisioning stopped with an error.
    Failed,
}

/// One host's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostFacts {
    /// The node name.
    pub name: String,
    /// The address SSH connected to.
    pub address: String,
    /// `server` or `client`.
    pub role: &'static str,
    /// What happened.
    pub result: Outcome,
    /// What changed, one short line each (`wrote /etc/nomad.d/nomad.hcl`).
    pub changes: Vec<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// The host key's fingerprint (`SHA256:...`), once connected.
    pub host_key_fingerprint: Option<String>,
}

/// `http://host:port`, with brackets around an IPv6 literal.
pub fn url(scheme: &str, host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("{scheme}://[{host}]:{port}")
    } else {
        format!("{scheme}://{host}:{port}")
    }
}

impl ClusterFacts {
    /// The facts of an inventory before any host is touched: every host
    /// `unchanged`, no change, no error; the runner fills in the results.
    pub fn new(inv: &Inventory) -> ClusterFacts {
        let addresses = |role: Role| -> Vec<String> {
            inv.hosts
                .iter()
                .filter(|h| h.role == role)
                .map(|h| h.wan_address().to_string())
                .collect()
        };
        let servers = addresses(Role::Server);
        let first = servers.first();
        let nomad_scheme = if inv.nomad.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let (consul_scheme, consul_port) = if inv.consul.tls.is_some() {
            ("https", CONSUL_HTTPS_PORT)
        } else {
            ("http", CONSUL_HTTP_PORT)
        };
        ClusterFacts {
            region: inv.region.clone(),
            datacenter: inv.datacenter.clone(),
            nomad_addr: first.map(|a| url(nomad_scheme, a, NOMAD_HTTP_PORT)),
            consul_http_addr: first.map(|a| url(consul_scheme, a, consul_port)),
            clients: addresses(Role::Client),
            servers,
            hosts: inv.hosts.iter().map(HostFacts::new).collect(),
        }
    }
}

impl HostFacts {
    /// A host not touched yet.
    pub fn new(host: &crate::inventory::Host) -> HostFacts {
        HostFacts {
            name: host.name.clone(),
            address: host.address.clone(),
            role: host.role.as_str(),
            result: Outcome::Unchanged,
            changes: Vec::new(),
            error: None,
            host_key_fingerprint: None,
        }
    }

    /// Records a change (the result becomes `changed` unless failed).
    pub fn changed(&mut self, what: impl Into<String>) {
        self.changes.push(what.into());
        if self.result != Outcome::Failed {
            self.result = Outcome::Changed;
        }
    }

    /// Records the failure that stopped this host.
    pub fn failed(&mut self, error: impl Into<String>) {
        self.result = Outcome::Failed;
        self.error = Some(error.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{parse, TerraformDefaults};

    fn inventory() -> Inventory {
        parse(
            r#"{"region": "europe", "datacenter": "gce-west1", "hosts": [
                {"name": "s1", "address": "35.0.0.1", "private_address": "10.0.0.1", "role": "server"},
                {"name": "s2", "address": "10.0.0.2", "public_address": "35.0.0.2", "role": "server"},
                {"name": "c1", "address": "fd00::9", "role": "client"}],
                "consul": {"tls": {"ca_file": "ca.pem", "cert_file": "c.pem", "key_file": "k.pem"}}}"#,
            "t",
            &TerraformDefaults::default(),
        )
        .unwrap()
    }

    #[test]
    fn facts_read_back_through_cli_common() {
        let mut facts = ClusterFacts::new(&inventory());
        facts.hosts[0].changed("wrote /etc/consul.d/consul.hcl");
        facts.hosts[0].host_key_fingerprint = Some("SHA256:abc".into());
        facts.hosts[2].failed("ssh: connection refused");
        let text = serde_json::to_string(&facts).unwrap();
        let read = cli_common::facts::parse(&text, "facts").unwrap();
        assert_eq!(read.len(), 1);
        let read = &read[0];
        assert_eq!(read.region.as_deref(), Some("europe"));
        assert_eq!(read.datacenter.as_deref(), Some("gce-west1"));
        assert_eq!(read.nomad_addr.as_deref(), Some("http://35.0.0.1:4646"));
        assert_eq!(
            read.consul_http_addr.as_deref(),
            Some("https://35.0.0.1:8501")
        );
        assert_eq!(read.servers, ["35.0.0.1", "35.0.0.2"]);
        assert_eq!(read.clients, ["fd00::9"]);
        let results: Vec<_> = read.hosts.iter().map(|h| h.result.as_str()).collect();
        assert_eq!(results, ["changed", "unchanged", "failed"]);
        assert_eq!(read.hosts[2].role, "client");
    }

    #[test]
    fn json_shape() {
        let mut facts = ClusterFacts::new(&inventory());
        facts.hosts[2].failed("boom");
        let v = serde_json::to_value(&facts).unwrap();
        assert_eq!(v["hosts"][1]["error"], serde_json::Value::Null);
        assert_eq!(
            v["hosts"][1]["host_key_fingerprint"],
            serde_json::Value::Null
        );
        assert_eq!(v["hosts"][2]["error"], "boom");
        assert_eq!(v["hosts"][2]["changes"], serde_json::json!([]));
        assert_eq!(url("http", "fd00::1", 1), "http://[fd00::1]:1");
    }
}
