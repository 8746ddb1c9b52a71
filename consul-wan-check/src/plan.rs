//! What to join and what to expect: the flags plus what cluster facts say.

use std::net::{IpAddr, SocketAddr};

use cli_common::facts::ClusterFacts;

/// The default Consul WAN serf port, appended to facts addresses that
/// have no port.
pub const WAN_PORT: u16 = 8302;

/// Join targets and expected datacenters, in order, without duplicates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Addresses to WAN-join, one request each.
    pub joins: Vec<String>,
    /// Datacenters that must be federated.
    pub datacenters: Vec<String>,
    /// Consul HTTP addresses of other datacenters' agents, from the facts
    /// (`consul_http_addr`), with their datacenter.
    pub peer_agents: Vec<(String, String)>,
}

fn push_unique(list: &mut Vec<String>, value: &str) {
    let value = value.trim();
    if !value.is_empty() && !list.iter().any(|v| v == value) {
        list.push(value.to_string());
    }
}

/// `address` with the WAN port appended when it has none (`[v6]:8302` for
/// an IPv6 literal).
pub fn with_wan_port(address: &str) -> String {
    let address = address.trim();
    if address.parse::<SocketAddr>().is_ok() {
        return address.to_string();
    }
    match address.parse::<IpAddr>() {
        Ok(IpAddr::V6(ip)) => format!("[{ip}]:{WAN_PORT}"),
        Ok(IpAddr::V4(ip)) => format!("{ip}:{WAN_PORT}"),
        Err(_) => match address.rsplit_once(':') {
            Some((_, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
                address.to_string()
            }
            _ => format!("{address}:{WAN_PORT}"),
        },
    }
}

/// The servers' addresses of one facts document: `servers`, else the
/// hosts whose role is `server`.
fn server_addresses(facts: &ClusterFacts) -> Vec<&str> {
    if !facts.servers.is_empty() {
        return facts.servers.iter().map(String::as_str).collect();
    }
    facts
        .hosts
        .iter()
        .filter(|h| h.role == "server" && !h.address.is_empty())
        .map(|h| h.address.as_str())
        .collect()
}

impl Plan {
    /// Merges the flags with the facts. Flag joins are kept exactly as
    /// given; facts' server addresses get the WAN port when they have none
    /// and are skipped for the agent's own datacenter (`own_dc`: its
    /// servers are in the WAN pool already) and with `facts_join` false.
    /// Every facts `datacenter` is expected.
    pub fn new(
        join_flags: &[String],
        expect_flags: &[String],
        facts: &[ClusterFacts],
        facts_join: bool,
        own_dc: &str,
    ) -> Plan {
        let mut plan = Plan::default();
        for address in join_flags {
            push_unique(&mut plan.joins, address);
        }
        for dc in expect_flags {
            push_unique(&mut plan.datacenters, dc);
        }
        for doc in facts {
            let dc = doc.datacenter.as_deref().unwrap_or_default();
            push_unique(&mut plan.datacenters, dc);
            if let Some(addr) = doc.consul_http_addr.as_deref().filter(|a| !a.is_empty()) {
                plan.peer_agents.push((dc.to_string(), addr.to_string()));
            }
            if facts_join && dc != own_dc {
                for address in server_addresses(doc) {
                    push_unique(&mut plan.joins, &with_wan_port(address));
                }
            }
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wan_port_is_appended_only_when_missing() {
        assert_eq!(with_wan_port("10.0.0.1"), "10.0.0.1:8302");
        assert_eq!(with_wan_port("10.0.0.1:9302"), "10.0.0.1:9302");
        assert_eq!(with_wan_port("fd00::1"), "[fd00::1]:8302");
        assert_eq!(with_wan_port("[fd00::1]:9"), "[fd00::1]:9");
        assert_eq!(with_wan_port("consul-1.example"), "consul-1.example:8302");
        assert_eq!(with_wan_port("consul-1.example:1"), "consul-1.example:1");
    }

    #[test]
    fn facts_add_datacenters_and_joins() {
        let facts: Vec<ClusterFacts> = cli_common::facts::parse(
            r#"{"datacenter":"dc1","servers":["10.1.0.1"]}
               {"datacenter":"dc2","servers":["34.2.0.1","34.2.0.2:8302"],"consul_http_addr":"http://34.2.0.1:8500"}
               {"datacenter":"dc3","hosts":[{"address":"34.3.0.1","role":"server"},{"address":"34.3.0.9","role":"client"}]}"#,
            "t",
        )
        .unwrap();
        let plan = Plan::new(
            &["x:1".into()],
            &["dc9".into(), "dc2".into()],
            &facts,
            true,
            "dc1",
        );
        assert_eq!(
            plan.joins,
            ["x:1", "34.2.0.1:8302", "34.2.0.2:8302", "34.3.0.1:8302"]
        );
        assert_eq!(plan.datacenters, ["dc9", "dc2", "dc1", "dc3"]);
        assert_eq!(
            plan.peer_agents,
            [("dc2".to_string(), "http://34.2.0.1:8500".to_string())]
        );
        let plan = Plan::new(&[], &[], &facts, false, "dc1");
        assert!(plan.joins.is_empty());
    }
}
