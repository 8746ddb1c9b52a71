//! The Consul HTTP API of an agent double: agent members/join/self, catalog
//! datacenters and status; the rest of the catalog is in [`super::catalog`].

use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::nomad::multi_error;
use super::pool::{join_host_port, Member, PoolKind, Status};
use super::{request_token, with_default_port, Agent, ConsulRole};
use crate::http::{RecordedRequest, Response};

/// Routes one Consul API request.
pub(crate) fn route(agent: &Agent, req: &RecordedRequest) -> Response {
    let Some(role) = agent.config.consul.as_ref() else {
        return Response::text(404, "404 page not found");
    };
    if let Some(denied) = acl(role, req) {
        return denied;
    }
    if let Some(answer) = super::catalog::route(agent, role, req) {
        return answer;
    }
    let path = req.path.as_str();
    if let Some(addr) = path.strip_prefix("/v1/agent/join/") {
        if req.method != "PUT" {
            return not_allowed(req, "PUT");
        }
        return join(agent, role, req, addr);
    }
    let allowed = |r: Response| {
        if req.method == "GET" {
            r
        } else {
            not_allowed(req, "GET")
        }
    };
    match path.trim_end_matches('/') {
        "/v1/agent/members" => allowed(members(agent, role, req)),
        "/v1/agent/self" => allowed(self_info(agent, role)),
        "/v1/catalog/datacenters" => allowed(Response::json(&json!(datacenters(agent, role)))),
        "/v1/status/leader" => allowed(leader(agent, role, req)),
        "/v1/status/peers" => allowed(peers(agent, role, req)),
        _ => Response::text(404, "404 page not found"),
    }
}

fn not_allowed(req: &RecordedRequest, verbs: &str) -> Response {
    Response::text(405, format!("method {} not allowed", req.method))
        .with_header("Allow", format!("OPTIONS,{verbs}"))
}

fn acl(role: &ConsulRole, req: &RecordedRequest) -> Option<Response> {
    let expected = role.acl_token.as_deref()?;
    let open = req.path.starts_with("/v1/status/") || req.path == "/v1/catalog/datacenters";
    if open {
        return None;
    }
    match request_token(req, "x-consul-token") {
        Some(t) if t == expected => None,
        Some(_) => Some(Response::text(403, "ACL not found")),
        None => Some(Response::text(403, "Permission denied")),
    }
}

fn is_wan(req: &RecordedRequest) -> bool {
    req.query_value("wan").is_some_and(|v| !v.is_empty())
}

fn members(agent: &Agent, role: &ConsulRole, req: &RecordedRequest) -> Response {
    let wan = is_wan(req);
    if wan && !matches!(req.query_value("segment"), None | Some("") | Some("_all")) {
        return Response::text(400, "Cannot provide a segment with wan=true");
    }
    if wan && !role.server {
        return Response::json(&Value::Null);
    }
    let kind = if wan { PoolKind::Wan } else { PoolKind::Lan };
    let list: Vec<Value> = agent
        .members(kind)
        .iter()
        .map(|(m, s)| m.render(json!(s.consul())))
        .collect();
    Response::json(&Value::Array(list))
}

fn join(agent: &Agent, role: &ConsulRole, req: &RecordedRequest, addr: &str) -> Response {
    let wan = is_wan(req);
    if wan && !role.server {
        return Response::text(500, "Must be a server to join WAN cluster");
    }
    let addr = addr.trim();
    if addr.is_empty() {
        return Response::text(400, "Missing address to join");
    }
    let (kind, port) = if wan {
        (PoolKind::Wan, role.serf_wan_port)
    } else {
        (PoolKind::Lan, role.serf_lan_port)
    };
    let (joined, errors) = agent.join(kind, &[with_default_port(addr, port)]);
    if joined > 0 {
        Response {
            status: 200,
            headers: Vec::new(),
            body: Vec::new(),
        }
    } else {
        Response::text(500, multi_error(&errors))
    }
}

/// Servers of the WAN pool (for a client: none).
fn wan_servers(agent: &Agent) -> Vec<(Member, Status)> {
    agent.members(PoolKind::Wan)
}

/// Own datacenter first, then the other datacenters of the WAN pool, sorted (a client
/// answers with what its LAN servers told it).
fn datacenters(agent: &Agent, role: &ConsulRole) -> Vec<String> {
    let mut others: BTreeSet<String> = if role.server {
        wan_servers(agent)
            .into_iter()
            .filter(|(_, s)| *s != Status::Left)
            .map(|(m, _)| m.tag("dc").to_string())
            .collect()
    } else {
        agent.heard_datacenters()
    };
    others.remove(&role.datacenter);
    std::iter::once(role.datacenter.clone())
        .chain(others)
        .collect()
}

fn server_addr(m: &Member) -> String {
    join_host_port(&m.addr, m.tag("port").parse().unwrap_or(8300))
}

/// Alive servers of `dc`, by name: from the LAN pool for the own datacenter, else the
/// WAN pool; `None` if the datacenter is unknown.
fn alive_servers(agent: &Agent, role: &ConsulRole, dc: &str) -> Option<Vec<Member>> {
    let pool = if dc == role.datacenter {
        agent
            .members(PoolKind::Lan)
            .into_iter()
            .filter(|(m, _)| m.tag("role") == "consul" && m.tag("dc") == dc)
            .collect::<Vec<_>>()
    } else {
        wan_servers(agent)
            .into_iter()
            .filter(|(m, s)| m.tag("dc") == dc && *s != Status::Left)
            .collect::<Vec<_>>()
    };
    if pool.is_empty() && dc != role.datacenter {
        return None;
    }
    Some(
        pool.into_iter()
            .filter(|(_, s)| *s == Status::Alive)
            .map(|(m, _)| m)
            .collect(),
    )
}

fn target_dc<'a>(role: &'a ConsulRole, req: &'a RecordedRequest) -> &'a str {
    req.query_value("dc")
        .filter(|d| !d.is_empty())
        .unwrap_or(&role.datacenter)
}

fn leader_of(agent: &Agent, role: &ConsulRole, dc: &str) -> Option<String> {
    alive_servers(agent, role, dc).map(|s| s.first().map(server_addr).unwrap_or_default())
}

fn leader(agent: &Agent, role: &ConsulRole, req: &RecordedRequest) -> Response {
    match leader_of(agent, role, target_dc(role, req)) {
        Some(l) => Response::json(&json!(l)),
        None => Response::text(500, "No path to datacenter"),
    }
}

fn peers(agent: &Agent, role: &ConsulRole, req: &RecordedRequest) -> Response {
    match alive_servers(agent, role, target_dc(role, req)) {
        Some(s) => Response::json(&json!(s.iter().map(server_addr).collect::<Vec<_>>())),
        None => Response::text(500, "No path to datacenter"),
    }
}

fn self_info(agent: &Agent, role: &ConsulRole) -> Response {
    let lan_me = agent.with_pool(PoolKind::Lan, |p| p.me.clone());
    let wan_addr = agent
        .with_pool(PoolKind::Wan, |p| p.me.addr.clone())
        .or_else(|| role.advertise_wan.map(|a| a.to_string()))
        .unwrap_or_else(|| agent.config.advertised().to_string());
    let lan_addr = agent.config.advertised().to_string();
    let leader = leader_of(agent, role, &role.datacenter).unwrap_or_default();
    let is_leader = role.server
        && lan_me
            .as_ref()
            .is_some_and(|m| join_host_port(&m.addr, role.server_port) == leader);
    let encrypted = role.encrypt.is_some().to_string();
    let lan_count = agent.members(PoolKind::Lan).len().to_string();
    let wan_count = agent.members(PoolKind::Wan).len().to_string();
    Response::json(&json!({
        "Config": {
            "Datacenter": role.datacenter,
            "PrimaryDatacenter": role.datacenter,
            "NodeName": agent.config.name,
            "NodeID": agent.node_id,
            "Revision": "f3c0ffee",
            "Server": role.server,
            "Version": "1.21.0",
            "BuildDate": "2025-01-01T00:00:00Z",
        },
        "DebugConfig": {
            "AdvertiseAddrLAN": lan_addr,
            "AdvertiseAddrWAN": wan_addr,
            "BindAddr": agent.config.bind.to_string(),
            "Datacenter": role.datacenter,
            "NodeName": agent.config.name,
            "ServerMode": role.server,
            "BootstrapExpect": role.bootstrap_expect,
            "EncryptKey": if role.encrypt.is_some() { "hidden" } else { "" },
            "RetryJoinLAN": role.retry_join,
            "RetryJoinWAN": role.retry_join_wan,
            "ACLsEnabled": role.acl_token.is_some(),
            "HTTPPort": role.http_port,
            "SerfPortLAN": role.serf_lan_port,
            "SerfPortWAN": role.serf_wan_port,
            "ServerPort": role.server_port,
        },
        "Coord": {"Adjustment": 0, "Error": 1.5, "Height": 0, "Vec": [0, 0, 0, 0, 0, 0, 0, 0]},
        "Member": lan_me.map(|m| m.render(json!(1))),
        "Stats": {
            "agent": {"check_monitors": "0", "services": "0"},
            "consul": {
                "server": role.server.to_string(),
                "leader": is_leader.to_string(),
                "leader_addr": leader,
                "known_datacenters": datacenters(agent, role).len().to_string(),
            },
            "serf_lan": {"encrypted": encrypted, "members": lan_count},
            "serf_wan": {"encrypted": encrypted, "members": wan_count},
        },
        "Meta": {},
    }))
}
