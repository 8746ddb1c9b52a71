//! Reading the federation from a Nomad agent: the gossip pool of servers
//! (all regions share one), each region's leader, and client nodes.

use std::collections::BTreeMap;

use cli_common::http::HttpError;
use cli_common::nomad::NomadClient;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// What `nomad-join` prints.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// Servers the join reached (0 when nothing was joined or no address
    /// was given).
    pub num_joined: u64,
    /// Per region: its leader and servers.
    pub regions: BTreeMap<String, Region>,
    /// Expected regions the agent does not know.
    pub missing_regions: Vec<String>,
    /// Regions the agent cannot reach (no leader, or requests to it fail).
    pub unreachable: Vec<String>,
    /// Per datacenter, client nodes (only with `--expect-clients`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<BTreeMap<String, NodeCounts>>,
    /// Whether everything expected holds.
    pub healthy: bool,
}

/// A region of the federation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// The leader's RPC address, `null` when the region has none.
    pub leader: Option<String>,
    /// Its servers, by name.
    pub servers: Vec<Server>,
}

/// A server in the gossip pool.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// `<node>.<region>`.
    pub name: String,
    /// `<address>:<serf port>`.
    pub address: String,
    /// `alive`, `leaving`, `left`, `failed`.
    pub status: String,
    /// Whether it leads its region.
    pub leader: bool,
}

/// Client nodes of a datacenter.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NodeCounts {
    /// Nodes `ready` and eligible.
    pub ready: u64,
    /// Nodes `down` or `disconnected`.
    pub down: u64,
    /// Nodes `ready` but not eligible for scheduling.
    pub ineligible: u64,
    /// Node names.
    pub names: Vec<String>,
}

/// What the federation must look like.
#[derive(Debug, Clone, Default)]
pub struct Expectations {
    /// Regions that must be known.
    pub regions: Vec<String>,
    /// Datacenter → minimum ready, eligible client nodes.
    pub clients: BTreeMap<String, u64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MembersResponse {
    #[serde(default)]
    members: Option<Vec<Member>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct Member {
    name: String,
    addr: String,
    port: u64,
    status: String,
    tags: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
struct NodeStub {
    name: String,
    datacenter: String,
    status: String,
    scheduling_eligibility: String,
}

/// Reads the federation once, as the agent at `client` sees it. An error
/// means the local agent itself failed to answer; a remote region that
/// cannot be reached is reported in the result.
pub fn observe(client: &NomadClient, expect: &Expectations) -> Result<Report, HttpError> {
    let members: MembersResponse = decode(client.get("/v1/agent/members", &[])?.json()?)?;
    let known: Vec<String> = decode(client.get("/v1/regions", &[])?.json()?)?;
    // Per region, each server with the RPC address a leader lookup names.
    let mut pool: BTreeMap<String, Vec<(Server, String)>> = BTreeMap::new();
    for member in members.members.unwrap_or_default() {
        let Some(region) = member.tags.get("region").cloned() else {
            continue;
        };
        let rpc_host = member.tags.get("rpc_addr").unwrap_or(&member.addr);
        let rpc = format!(
            "{rpc_host}:{}",
            member.tags.get("port").map_or("", String::as_str)
        );
        let server = Server {
            name: member.name,
            address: format!("{}:{}", member.addr, member.port),
            status: member.status,
            leader: false,
        };
        pool.entry(region).or_default().push((server, rpc));
    }
    for region in &known {
        pool.entry(region.clone()).or_default();
    }
    let mut regions = BTreeMap::new();
    let mut unreachable = Vec::new();
    for (name, mut servers) in pool {
        let leader = match leader_of(client, &name) {
            Ok(Some(leader)) => Some(leader),
            Ok(None) | Err(_) => {
                unreachable.push(name.clone());
                None
            }
        };
        for (server, rpc) in servers.iter_mut() {
            server.leader = leader.as_deref() == Some(rpc.as_str());
        }
        let mut servers: Vec<Server> = servers.into_iter().map(|(s, _)| s).collect();
        servers.sort_by(|a, b| a.name.cmp(&b.name));
        regions.insert(name, Region { leader, servers });
    }
    let missing_regions: Vec<String> = expect
        .regions
        .iter()
        .filter(|r| !known.contains(r))
        .cloned()
        .collect();
    let nodes = if expect.clients.is_empty() {
        None
    } else {
        Some(node_counts(client)?)
    };
    let servers_alive = regions
        .values()
        .flat_map(|r| &r.servers)
        .all(|s| s.status == "alive");
    let clients_ok = expect.clients.iter().all(|(dc, wanted)| {
        nodes
            .as_ref()
            .and_then(|n| n.get(dc))
            .is_some_and(|c| c.ready >= *wanted)
    });
    let healthy = missing_regions.is_empty()
        && unreachable.is_empty()
        && servers_alive
        && clients_ok
        && !regions.is_empty();
    Ok(Report {
        num_joined: 0,
        regions,
        missing_regions,
        unreachable,
        nodes,
        healthy,
    })
}

/// The region's leader, `None` when it has none (`""`).
fn leader_of(client: &NomadClient, region: &str) -> Result<Option<String>, HttpError> {
    let leader = client
        .get("/v1/status/leader", &[("region", region)])?
        .json()?;
    Ok(leader.as_str().filter(|s| !s.is_empty()).map(str::to_owned))
}

fn node_counts(client: &NomadClient) -> Result<BTreeMap<String, NodeCounts>, HttpError> {
    let nodes: Vec<NodeStub> = decode(client.get("/v1/nodes", &[])?.json()?)?;
    let mut counts: BTreeMap<String, NodeCounts> = BTreeMap::new();
    for node in nodes {
        let c = counts.entry(node.datacenter).or_default();
        match (node.status.as_str(), node.scheduling_eligibility.as_str()) {
            ("ready", "ineligible") => c.ineligible += 1,
            ("ready", _) => c.ready += 1,
            _ => c.down += 1,
        }
        c.names.push(node.name);
    }
    for c in counts.values_mut() {
        c.names.sort();
    }
    Ok(counts)
}

fn decode<T: serde::de::DeserializeOwned>(value: Json) -> Result<T, HttpError> {
    serde_json::from_value(value)
        .map_err(|e| HttpError::Decode(format!("unexpected answer from Nomad: {e}")))
}
