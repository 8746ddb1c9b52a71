//! What breaks WAN federation in practice, spotted from `/v1/agent/self`
//! (the local agent's and, when cluster facts give their
//! `consul_http_addr`, other datacenters' agents) and the WAN pool:
//!
//! * a server advertising a private WAN address while servers of another
//!   datacenter are public (the remote side cannot reach it);
//! * servers advertising the same WAN address (gossip mixes them up);
//! * gossip encryption on in one datacenter and off in another (they
//!   cannot talk at all).

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::api::{AgentSelf, Member};

/// One agent's self-description and the datacenter it speaks for.
#[derive(Debug, Clone)]
pub struct AgentView {
    /// The agent's datacenter.
    pub datacenter: String,
    /// Its `/v1/agent/self`.
    pub agent: AgentSelf,
}

/// Whether `ip` is private: RFC 1918, shared (100.64/10), loopback,
/// link-local, unique-local IPv6. Unparsable (a host name) counts as not
/// private.
pub fn is_private(ip: &str) -> bool {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || (o[0] == 100 && (64..128).contains(&o[1]))
        }
        Ok(IpAddr::V6(v6)) => {
            let first = v6.segments()[0];
            v6.is_loopback() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
        Err(_) => false,
    }
}

/// Whether `ip` is a public (routable) IP address.
fn is_public(ip: &str) -> bool {
    ip.parse::<IpAddr>()
        .map(|a| !a.is_unspecified() && !is_private(ip))
        .unwrap_or(false)
}

/// Every server's (name, datacenter, WAN IP): the WAN pool, with the
/// agents' own advertised WAN address from `/v1/agent/self` added (or
/// taking precedence) for the agents the pool does not show yet.
fn wan_addresses(agents: &[AgentView], wan: &[Member]) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = wan
        .iter()
        .map(|m| (m.name.clone(), m.datacenter(), m.addr.clone()))
        .collect();
    for view in agents.iter().filter(|v| v.agent.config.server) {
        let Some(ip) = view.agent.wan_address() else {
            continue;
        };
        let name = format!("{}.{}", view.agent.config.node_name, view.datacenter);
        match out.iter_mut().find(|(n, _, _)| *n == name) {
            Some(entry) => entry.2 = ip,
            None => out.push((name, view.datacenter.clone(), ip)),
        }
    }
    out
}

fn private_behind_public(servers: &[(String, String, String)]) -> Vec<String> {
    let mut warnings = Vec::new();
    for (name, dc, ip) in servers.iter().filter(|(_, _, ip)| is_private(ip)) {
        let public_peer = servers
            .iter()
            .find(|(_, peer_dc, peer_ip)| peer_dc != dc && is_public(peer_ip));
        if let Some((peer, peer_dc, peer_ip)) = public_peer {
            warnings.push(format!(
                "server {name} (datacenter {dc}) advertises the private WAN address {ip} while {peer} \
                 (datacenter {peer_dc}) is public ({peer_ip}): other datacenters cannot reach it; \
                 set advertise_addr_wan to a routable address"
            ));
        }
    }
    warnings
}

fn duplicate_addresses(wan: &[Member]) -> Vec<String> {
    let mut by_address: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for m in wan.iter().filter(|m| !m.addr.is_empty()) {
        let names = by_address.entry(m.address()).or_default();
        if !names.contains(&m.name.as_str()) {
            names.push(&m.name);
        }
    }
    by_address
        .into_iter()
        .filter(|(_, names)| names.len() > 1)
        .map(|(address, names)| {
            format!(
                "servers {} advertise the same WAN address {address}: gossip cannot tell them apart; \
                 give each server its own advertise_addr_wan",
                names.join(", ")
            )
        })
        .collect()
}

fn encryption_mismatch(agents: &[AgentView]) -> Vec<String> {
    let mut state: BTreeMap<&str, bool> = BTreeMap::new();
    for view in agents {
        if let Some(on) = view.agent.gossip_encrypted() {
            state.entry(view.datacenter.as_str()).or_insert(on);
        }
    }
    let on: Vec<&str> = state.iter().filter(|(_, e)| **e).map(|(d, _)| *d).collect();
    let off: Vec<&str> = state
        .iter()
        .filter(|(_, e)| !**e)
        .map(|(d, _)| *d)
        .collect();
    if on.is_empty() || off.is_empty() {
        return Vec::new();
    }
    vec![format!(
        "gossip encryption is on in {} and off in {}: their servers cannot gossip over the WAN; \
         use the same encrypt key in every datacenter",
        on.join(", "),
        off.join(", ")
    )]
}

/// All warnings, in a stable order.
pub fn warnings(agents: &[AgentView], wan: &[Member]) -> Vec<String> {
    let mut out = private_behind_public(&wan_addresses(agents, wan));
    out.extend(duplicate_addresses(wan));
    out.extend(encryption_mismatch(agents));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "127.0.0.1",
            "fd00::1",
            "fe80::1",
        ] {
            assert!(is_private(ip), "{ip}");
        }
        for ip in ["34.1.2.3", "100.128.0.1", "2001:db8::1", "consul.example"] {
            assert!(!is_private(ip), "{ip}");
        }
    }
}
