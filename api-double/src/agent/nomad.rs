//! The Nomad HTTP API of an agent double: agent members/join/self, regions, status and
//! the node list of the region's clients; jobs are in [`super::jobs`].

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{json, Value};

use super::pool::{Member, PoolKind, Status, SINCE_TAG};
use super::{request_token, with_default_port, Agent, NomadRole};
use crate::http::{RecordedRequest, Response};

/// Warning Nomad 2.0.4+ returns for a join without a token under ACLs.
const ANONYMOUS_JOIN: &str =
    "anonymous server join is deprecated and will be removed in a future version of Nomad";

/// Routes one Nomad API request.
pub(crate) fn route(agent: &Arc<Agent>, req: &RecordedRequest) -> Response {
    let Some(role) = agent.config.nomad.as_ref() else {
        return Response::text(404, "404 page not found");
    };
    if let Some(denied) = acl(role, req) {
        return denied;
    }
    if let Some(answer) = super::jobs::route(agent, role, req) {
        return answer;
    }
    let path = req.path.trim_end_matches('/');
    let get = req.method == "GET";
    match path {
        "/v1/agent/join" if matches!(req.method.as_str(), "PUT" | "POST") => join(agent, role, req),
        "/v1/agent/members" if get => members(agent, role),
        "/v1/agent/self" if get => self_info(agent, role),
        "/v1/regions" if get => Response::json(&json!(regions(agent, role))),
        "/v1/status/leader" if get => leader(agent, role, req),
        "/v1/status/peers" if get => peers(agent, role, req),
        "/v1/nodes" if get => nodes(agent, role, req),
        super::replica::PATH if get && role.server => super::replica::export(agent),
        _ if get && path.starts_with("/v1/node/") => node_read(agent, role, req, path),
        "/v1/agent/join" | "/v1/agent/members" | "/v1/agent/self" | "/v1/regions"
        | "/v1/status/leader" | "/v1/status/peers" | "/v1/nodes" => {
            Response::text(405, "Invalid method")
        }
        _ => Response::text(404, "404 page not found"),
    }
}

fn acl(role: &NomadRole, req: &RecordedRequest) -> Option<Response> {
    let expected = role.acl_token.as_deref()?;
    let open = req.path.starts_with("/v1/status/")
        || req.path == "/v1/regions"
        || req.path == "/v1/agent/join";
    if open {
        return None;
    }
    match request_token(req, "x-nomad-token") {
        Some(t) if t == expected => None,
        Some(_) => Some(Response::text(403, "ACL token not found")),
        None => Some(Response::text(403, "Permission denied")),
    }
}

fn servers(agent: &Agent) -> Vec<(Member, Status)> {
    agent
        .members(PoolKind::Nomad)
        .into_iter()
        .filter(|(m, _)| m.tag("role") == "nomad")
        .collect()
}

/// Sorted regions of the servers that did not leave (and the agent's own).
pub(crate) fn regions(agent: &Agent, role: &NomadRole) -> Vec<String> {
    let mut set: BTreeSet<String> = servers(agent)
        .into_iter()
        .filter(|(_, s)| *s != Status::Left)
        .map(|(m, _)| m.tag("region").to_string())
        .collect();
    set.insert(role.region.clone());
    set.into_iter().collect()
}

fn rpc_addr(m: &Member) -> String {
    let host = match m.tag("rpc_addr") {
        "" => m.addr.as_str(),
        h => h,
    };
    super::pool::join_host_port(host, m.tag("port").parse().unwrap_or(4647))
}

/// Alive servers of `region`, the longest-running first (ties by name): the first one
/// leads.
pub(crate) fn alive_servers(agent: &Agent, region: &str) -> Vec<Member> {
    let mut list: Vec<Member> = servers(agent)
        .into_iter()
        .filter(|(m, s)| *s == Status::Alive && m.tag("region") == region)
        .map(|(m, _)| m)
        .collect();
    list.sort_by_key(|m| {
        (
            m.tag(SINCE_TAG).parse::<u64>().unwrap_or(u64::MAX),
            m.name.clone(),
        )
    });
    list
}

/// The region a request targets: `?region=` or the agent's own; `Err` if unknown.
fn target_region(
    agent: &Agent,
    role: &NomadRole,
    req: &RecordedRequest,
) -> Result<String, Response> {
    let region = req
        .query_value("region")
        .filter(|r| !r.is_empty())
        .unwrap_or(&role.region)
        .to_string();
    if regions(agent, role).contains(&region) {
        Ok(region)
    } else {
        Err(Response::text(500, "No path to region"))
    }
}

/// The leader of `region` (`ip:rpc_port` of its longest-running alive server), or `""`.
fn leader_of(agent: &Agent, region: &str) -> String {
    alive_servers(agent, region)
        .first()
        .map(rpc_addr)
        .unwrap_or_default()
}

fn leader(agent: &Agent, role: &NomadRole, req: &RecordedRequest) -> Response {
    match target_region(agent, role, req) {
        Ok(region) => Response::json(&json!(leader_of(agent, &region))),
        Err(e) => e,
    }
}

fn peers(agent: &Agent, role: &NomadRole, req: &RecordedRequest) -> Response {
    match target_region(agent, role, req) {
        Ok(region) => {
            let peers: Vec<String> = alive_servers(agent, &region).iter().map(rpc_addr).collect();
            Response::json(&json!(peers))
        }
        Err(e) => e,
    }
}

fn members(agent: &Agent, role: &NomadRole) -> Response {
    let list: Vec<Value> = servers(agent)
        .iter()
        .map(|(m, s)| m.render(json!(s.nomad())))
        .collect();
    Response::json(&json!({
        "ServerName": agent.config.name,
        "ServerRegion": role.region,
        "ServerDC": role.datacenter,
        "Members": list,
    }))
}

fn join(agent: &Agent, role: &NomadRole, req: &RecordedRequest) -> Response {
    if !role.server {
        return Response::text(501, "Invalid method");
    }
    let addresses: Vec<String> = req
        .query_values("address")
        .into_iter()
        .filter(|a| !a.trim().is_empty())
        .map(|a| with_default_port(a, role.serf_port))
        .collect();
    if addresses.is_empty() {
        return Response::text(400, "missing address to join");
    }
    let (joined, errors) = agent.join(PoolKind::Nomad, &addresses);
    let error = if joined == 0 {
        multi_error(&errors)
    } else {
        String::new()
    };
    let mut body = json!({"num_joined": joined, "error": error});
    if let Some(expected) = role.acl_token.as_deref() {
        let warning = if request_token(req, "x-nomad-token") == Some(expected) {
            ""
        } else {
            ANONYMOUS_JOIN
        };
        body["warning"] = json!(warning);
    }
    Response::json(&body)
}

/// The gossip library's multi-error text.
pub(crate) fn multi_error(errors: &[String]) -> String {
    let head = if errors.len() == 1 {
        "1 error occurred:".to_string()
    } else {
        format!("{} errors occurred:", errors.len())
    };
    let items: String = errors.iter().map(|e| format!("\n\t* {e}")).collect();
    format!("{head}{items}\n\n")
}

fn self_info(agent: &Agent, role: &NomadRole) -> Response {
    let me = agent
        .with_pool(PoolKind::Nomad, |p| p.me.clone())
        .map(|m| m.render(json!("alive")))
        .unwrap_or(Value::Null);
    let ip = agent.config.advertised().to_string();
    let hp = |port: u16| super::pool::join_host_port(&ip, port);
    let leader = leader_of(agent, &role.region);
    let is_leader = role.server
        && agent
            .with_pool(PoolKind::Nomad, |p| rpc_addr(&p.me) == leader)
            .unwrap_or(false);
    let retry: Vec<&String> = role.retry_join.iter().collect();
    let config = json!({
        "Region": role.region,
        "Datacenter": role.datacenter,
        "NodeName": agent.config.name,
        "Name": agent.config.name,
        "BindAddr": agent.config.bind.to_string(),
        "Ports": {"HTTP": role.http_port, "RPC": role.rpc_port, "Serf": role.serf_port},
        "AdvertiseAddrs": {
            "HTTP": hp(role.http_port),
            "RPC": hp(role.rpc_port),
            "Serf": hp(role.serf_port),
        },
        "Server": {
            "Enabled": role.server,
            "BootstrapExpect": role.bootstrap_expect,
            "ServerJoin": {"RetryJoin": if role.server { retry.clone() } else { Vec::new() }},
        },
        "Client": {
            "Enabled": !role.server,
            "NodeClass": role.node_class,
            "Meta": role.meta,
            "Servers": if role.server { Vec::new() } else { retry },
        },
        "ACL": {"Enabled": role.acl_token.is_some()},
        "Version": {"Version": super::NOMAD_BUILD},
    });
    Response::json(&json!({
        "config": config,
        "member": me,
        "stats": {
            "nomad": {
                "server": role.server.to_string(),
                "leader": is_leader.to_string(),
                "leader_addr": leader,
                "bootstrap": "false",
                "known_regions": regions(agent, role).len().to_string(),
            },
        },
    }))
}

/// Client nodes of the region (`?region=` or the agent's own) that registered with
/// its servers.
fn nodes(agent: &Agent, role: &NomadRole, req: &RecordedRequest) -> Response {
    let region = match target_region(agent, role, req) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let list: Vec<Value> = agent
        .members(PoolKind::Nomad)
        .into_iter()
        .filter(|(m, _)| m.tag("role") == "node" && m.tag("region") == region)
        .map(|(m, s)| node_stub(&m, s))
        .collect();
    Response::json(&Value::Array(list))
}

/// `GET /v1/node/:id` (an ID or an ID prefix): the node stub plus its attributes.
fn node_read(agent: &Agent, role: &NomadRole, req: &RecordedRequest, path: &str) -> Response {
    let region = match target_region(agent, role, req) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let id = path.trim_start_matches("/v1/node/");
    if id.is_empty() || id.contains('/') {
        return Response::text(404, "404 page not found");
    }
    let found = agent.members(PoolKind::Nomad).into_iter().find(|(m, _)| {
        m.tag("role") == "node" && m.tag("region") == region && m.tag("id").starts_with(id)
    });
    let Some((m, s)) = found else {
        return Response::text(404, "node not found");
    };
    let mut node = node_stub(&m, s);
    node["Region"] = json!(region);
    node["Attributes"] = json!({
        "kernel.name": "linux", "unique.hostname": m.name, "unique.network.ip-address": m.addr,
        "nomad.version": m.tag("build"), "driver.docker": "1",
    });
    node["Drivers"] = json!({"docker": {"Detected": true, "Healthy": true}});
    Response::json(&node)
}

fn node_stub(m: &Member, status: Status) -> Value {
    let meta: serde_json::Map<String, Value> = m
        .tags
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("meta.").map(|k| (k.to_string(), json!(v))))
        .collect();
    json!({
        "ID": m.tag("id"),
        "Name": m.name,
        "Datacenter": m.tag("dc"),
        "NodeClass": m.tag("node_class"),
        "NodePool": "default",
        "Version": m.tag("build"),
        "Drain": false,
        "SchedulingEligibility": "eligible",
        "Status": if status == Status::Alive { "ready" } else { "down" },
        "StatusDescription": "",
        "Address": m.addr,
        "HTTPAddr": m.gossip_addr(),
        "Meta": meta,
        "CreateIndex": 1,
        "ModifyIndex": 1,
    })
}
