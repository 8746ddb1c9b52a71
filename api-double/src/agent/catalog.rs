//! Consul's catalog and health endpoints on the agent doubles, and the local agent's
//! service registrations.
//!
//! * The catalog of a datacenter is its LAN pool: every member that did not leave is a
//!   node (servers also provide the `consul` service, port 8300); services registered
//!   with an agent (`PUT /v1/agent/service/register`) travel in its gossip (hidden
//!   `svc.<id>` tags), so every agent of the datacenter lists them within a gossip round.
//! * `?dc=<other>`: a server forwards the request over HTTP to an alive server of that
//!   datacenter from its WAN pool; a client forwards it to an alive server of its own
//!   datacenter, which does the rest. Unknown datacenter: `500 No path to datacenter`.
//! * Reads answer with `X-Consul-Index` (derived from the content, never 0),
//!   `X-Consul-KnownLeader` and `X-Consul-LastContact`, and block while `?index=` equals
//!   the current index (up to `wait`, default 5 min, at most 10 min).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::forward;
use super::pool::{Member, PoolKind, Status};
use super::{Agent, ConsulRole};
use crate::http::{RecordedRequest, Response};
use crate::util::{parse_go_duration, strings};

/// Prefix of the hidden member tags carrying an agent's registered services.
pub(crate) const SERVICE_TAG: &str = "svc.";
/// Default and longest blocking wait.
const DEFAULT_WAIT: Duration = Duration::from_secs(300);
const MAX_WAIT: Duration = Duration::from_secs(600);
/// How often a blocked read looks for a change.
const POLL: Duration = Duration::from_millis(200);

/// Answers a catalog, health or agent-service request (`None`: not one of these paths).
pub(crate) fn route(agent: &Agent, role: &ConsulRole, req: &RecordedRequest) -> Option<Response> {
    let segs = req.segments();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let response = match segs.as_slice() {
        ["v1", "agent", "service", "register"] => only(req, "PUT", || register(agent, req)),
        ["v1", "agent", "service", "deregister", id] => only(req, "PUT", || deregister(agent, id)),
        ["v1", "agent", "services"] => only(req, "GET", || {
            Response::json(&Value::Object(local_services(agent)))
        }),
        ["v1", "catalog", "nodes"]
        | ["v1", "catalog", "node", _]
        | ["v1", "catalog", "services"]
        | ["v1", "catalog", "service", _]
        | ["v1", "health", "service", _] => only(req, "GET", || read(agent, role, req, &segs)),
        _ => return None,
    };
    Some(response)
}

/// `200` with an empty body, as Consul answers agent writes.
fn empty_ok() -> Response {
    Response {
        status: 200,
        headers: Vec::new(),
        body: Vec::new(),
    }
}

fn only(req: &RecordedRequest, verb: &str, f: impl FnOnce() -> Response) -> Response {
    if req.method == verb {
        f()
    } else {
        Response::text(405, format!("method {} not allowed", req.method))
            .with_header("Allow", format!("OPTIONS,{verb}"))
    }
}

// ---- the local agent's services ------------------------------------------------------------

/// The services registered with this agent, by ID, as `/v1/agent/services` shows them.
fn local_services(agent: &Agent) -> Map<String, Value> {
    agent
        .with_pool(PoolKind::Lan, |p| services_of(&p.me))
        .unwrap_or_default()
        .into_iter()
        .map(|s| {
            let dc = agent
                .config
                .consul
                .as_ref()
                .map(|c| c.datacenter.clone())
                .unwrap_or_default();
            let id = s["ID"].as_str().unwrap_or_default().to_string();
            let mut v = s;
            v["Datacenter"] = json!(dc);
            (id, v)
        })
        .collect()
}

/// Services a member carries in its hidden tags, in the agent-service shape.
fn services_of(m: &Member) -> Vec<Value> {
    m.tags
        .iter()
        .filter(|(k, _)| k.starts_with(SERVICE_TAG))
        .filter_map(|(_, v)| serde_json::from_str(v).ok())
        .collect()
}

/// `PUT /v1/agent/service/register`: `Name` required, `ID` defaults to it.
fn register(agent: &Agent, req: &RecordedRequest) -> Response {
    let Some(body) = req.body_json().filter(Value::is_object) else {
        return Response::text(400, "Request decode failed: invalid JSON body");
    };
    let field = |k: &str| body.get(k).or_else(|| body.get(k.to_ascii_lowercase()));
    let Some(name) = field("Name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
    else {
        return Response::text(400, "Invalid Service: Missing service name");
    };
    let id = field("ID")
        .and_then(Value::as_str)
        .filter(|i| !i.is_empty())
        .unwrap_or(name)
        .to_string();
    let tags = strings(field("Tags"));
    let service = json!({
        "ID": id,
        "Service": name,
        "Tags": tags,
        "Meta": field("Meta").filter(|m| m.is_object()).cloned().unwrap_or(json!({})),
        "Port": field("Port").and_then(Value::as_u64).unwrap_or(0),
        "Address": field("Address").and_then(Value::as_str).unwrap_or_default(),
        "Weights": {"Passing": 1, "Warning": 1},
        "EnableTagOverride": false,
    });
    set_service_tag(agent, &id, Some(service.to_string()));
    empty_ok()
}

/// `PUT /v1/agent/service/deregister/:id`.
fn deregister(agent: &Agent, id: &str) -> Response {
    if set_service_tag(agent, id, None) {
        empty_ok()
    } else {
        Response::text(
            404,
            format!("Unknown service ID {id:?}. Ensure that the service ID is passed, not the service name."),
        )
    }
}

/// Sets or removes one service tag of this agent's LAN member (a new incarnation, so it
/// spreads); whether the service was there before.
fn set_service_tag(agent: &Agent, id: &str, value: Option<String>) -> bool {
    let key = format!("{SERVICE_TAG}{id}");
    agent
        .with_pool(PoolKind::Lan, |p| {
            let had = match value {
                Some(v) => p.me.tags.insert(key, v).is_some(),
                None => p.me.tags.remove(&key).is_some(),
            };
            p.me.incarnation += 1;
            had
        })
        .unwrap_or(false)
}

// ---- catalog reads ---------------------------------------------------------------------

/// A read for this datacenter, or forwarded to another one.
fn read(agent: &Agent, role: &ConsulRole, req: &RecordedRequest, segs: &[&str]) -> Response {
    let dc = req
        .query_value("dc")
        .filter(|d| !d.is_empty())
        .unwrap_or(&role.datacenter)
        .to_string();
    if dc != role.datacenter {
        return to_datacenter(agent, role, &dc, req);
    }
    let (min_index, wait) = match blocking_params(req) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let deadline = Instant::now() + wait;
    loop {
        let body = catalog_body(agent, role, req, segs);
        let index = content_index(&body);
        let blocked = min_index != 0 && index == min_index && Instant::now() < deadline;
        if !blocked || !agent.stop.sleep(POLL) {
            return Response::json(&body)
                .with_header("X-Consul-Index", index.to_string())
                .with_header("X-Consul-KnownLeader", "true")
                .with_header("X-Consul-LastContact", "0");
        }
    }
}

fn blocking_params(req: &RecordedRequest) -> Result<(u64, Duration), Response> {
    let wait = match req.query_value("wait") {
        None => DEFAULT_WAIT,
        Some(w) => parse_go_duration(w)
            .ok_or_else(|| Response::text(400, "Invalid wait time"))?
            .min(MAX_WAIT),
    };
    let index = match req.query_value("index") {
        None | Some("") => 0,
        Some(i) => i
            .parse()
            .map_err(|_| Response::text(400, "Invalid index"))?,
    };
    Ok((index, wait))
}

/// A stable index for a body (FNV-1a, 53 bits, never 0).
fn content_index(body: &Value) -> u64 {
    let text = body.to_string();
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (hash & ((1 << 53) - 1)).max(1)
}

/// Forwards to an alive server of `dc` (a client: to a server of its own datacenter).
fn to_datacenter(agent: &Agent, role: &ConsulRole, dc: &str, req: &RecordedRequest) -> Response {
    let target = if role.server {
        agent
            .members(PoolKind::Wan)
            .into_iter()
            .filter(|(m, s)| *s == Status::Alive && m.tag("dc") == dc)
            .find_map(|(m, _)| m.http_addr())
    } else {
        agent
            .members(PoolKind::Lan)
            .into_iter()
            .filter(|(m, s)| *s == Status::Alive && m.tag("role") == "consul")
            .find_map(|(m, _)| m.http_addr())
    };
    let Some(addr) = target else {
        return Response::text(500, "No path to datacenter");
    };
    forward::forward(&addr, req)
        .unwrap_or_else(|e| Response::text(500, format!("rpc error making call: {e}")))
}

/// One node of the catalog: a LAN member that did not leave, and its serf health.
struct CatalogNode {
    member: Member,
    passing: bool,
}

fn catalog_nodes(agent: &Agent) -> Vec<CatalogNode> {
    agent
        .members(PoolKind::Lan)
        .into_iter()
        .filter(|(_, s)| *s != Status::Left)
        .map(|(member, s)| CatalogNode {
            member,
            passing: s == Status::Alive,
        })
        .collect()
}

fn node_json(n: &CatalogNode, dc: &str) -> Value {
    let m = &n.member;
    let wan = match m.tag("x.wan") {
        "" => m.addr.as_str(),
        w => w,
    };
    json!({
        "ID": m.tag("id"),
        "Node": m.name,
        "Address": m.addr,
        "Datacenter": dc,
        "TaggedAddresses": {"lan": m.addr, "lan_ipv4": m.addr, "wan": wan, "wan_ipv4": wan},
        "Meta": {"consul-network-segment": "", "consul-version": "1.21.0"},
        "CreateIndex": 5,
        "ModifyIndex": 5,
    })
}

/// Services of a node: the `consul` service on servers, then its registered ones.
fn node_services(m: &Member) -> Vec<Value> {
    let mut list = Vec::new();
    if m.tag("role") == "consul" {
        list.push(json!({
            "ID": "consul", "Service": "consul", "Tags": [], "Meta": {},
            "Port": m.tag("port").parse::<u64>().unwrap_or(8300), "Address": "",
            "Weights": {"Passing": 1, "Warning": 1}, "EnableTagOverride": false,
        }));
    }
    list.extend(services_of(m));
    list
}

fn catalog_body(agent: &Agent, role: &ConsulRole, req: &RecordedRequest, segs: &[&str]) -> Value {
    let dc = role.datacenter.as_str();
    let nodes = catalog_nodes(agent);
    match segs {
        ["v1", "catalog", "nodes"] => {
            json!(nodes.iter().map(|n| node_json(n, dc)).collect::<Vec<_>>())
        }
        ["v1", "catalog", "node", name] => {
            nodes
                .iter()
                .find(|n| n.member.name == *name)
                .map_or(Value::Null, |n| {
                    let services: Map<String, Value> = node_services(&n.member)
                        .into_iter()
                        .map(|s| (s["ID"].as_str().unwrap_or_default().to_string(), s))
                        .collect();
                    json!({"Node": node_json(n, dc), "Services": services})
                })
        }
        ["v1", "catalog", "services"] => {
            let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for n in &nodes {
                for s in node_services(&n.member) {
                    let entry = map.entry(s["Service"].as_str().unwrap_or_default().to_string());
                    let tags = entry.or_default();
                    for t in s["Tags"].as_array().into_iter().flatten() {
                        tags.insert(t.as_str().unwrap_or_default().to_string());
                    }
                }
            }
            json!(map)
        }
        ["v1", "catalog", "service", name] => {
            json!(instances(&nodes, name, req.query_value("tag"), false)
                .iter()
                .map(|(n, s)| catalog_service(n, s, dc))
                .collect::<Vec<_>>())
        }
        ["v1", "health", "service", name] => {
            let passing = req
                .query_value("passing")
                .is_some_and(|v| v != "false" && v != "0");
            json!(instances(&nodes, name, req.query_value("tag"), passing)
                .iter()
                .map(|(n, s)| health_entry(n, s, dc))
                .collect::<Vec<_>>())
        }
        _ => Value::Null,
    }
}

/// `(node, service)` pairs of service `name`, optionally with `tag`, optionally only on
/// passing nodes.
fn instances<'a>(
    nodes: &'a [CatalogNode],
    name: &str,
    tag: Option<&str>,
    passing_only: bool,
) -> Vec<(&'a CatalogNode, Value)> {
    nodes
        .iter()
        .filter(|n| n.passing || !passing_only)
        .flat_map(|n| node_services(&n.member).into_iter().map(move |s| (n, s)))
        .filter(|(_, s)| s["Service"] == name)
        .filter(|(_, s)| {
            tag.is_none_or(|t| {
                s["Tags"]
                    .as_array()
                    .is_some_and(|l| l.iter().any(|x| x == t))
            })
        })
        .collect()
}

fn catalog_service(n: &CatalogNode, s: &Value, dc: &str) -> Value {
    let node = node_json(n, dc);
    json!({
        "ID": node["ID"], "Node": node["Node"], "Address": node["Address"],
        "Datacenter": dc, "TaggedAddresses": node["TaggedAddresses"], "NodeMeta": node["Meta"],
        "ServiceKind": "", "ServiceID": s["ID"], "ServiceName": s["Service"],
        "ServiceTags": s["Tags"], "ServiceAddress": s["Address"],
        "ServiceWeights": {"Passing": 1, "Warning": 1}, "ServiceMeta": s["Meta"],
        "ServicePort": s["Port"], "ServiceSocketPath": "", "ServiceEnableTagOverride": false,
        "ServiceProxy": {"Mode": "", "MeshGateway": {}, "Expose": {}}, "ServiceConnect": {},
        "ServiceLocality": null, "CreateIndex": 10, "ModifyIndex": 10,
    })
}

fn health_entry(n: &CatalogNode, s: &Value, dc: &str) -> Value {
    let node = node_json(n, dc);
    let (status, output) = if n.passing {
        ("passing", "Agent alive and reachable")
    } else {
        ("critical", "Agent not live or unreachable")
    };
    let mut service = s.clone();
    service["Proxy"] = json!({"Mode": "", "MeshGateway": {}, "Expose": {}});
    service["Connect"] = json!({});
    service["PeerName"] = json!("");
    service["CreateIndex"] = json!(10);
    service["ModifyIndex"] = json!(10);
    json!({
        "Node": node,
        "Service": service,
        "Checks": [{
            "Node": n.member.name, "CheckID": "serfHealth", "Name": "Serf Health Status",
            "Status": status, "Notes": "", "Output": output, "ServiceID": "",
            "ServiceName": "", "ServiceTags": [], "Type": "", "Interval": "", "Timeout": "",
            "ExposedPort": 0, "Definition": {}, "CreateIndex": 5, "ModifyIndex": 5,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_is_stable_and_never_zero() {
        let a = content_index(&json!(["x"]));
        assert_eq!(a, content_index(&json!(["x"])));
        assert_ne!(a, content_index(&json!(["y"])));
        assert!(a > 0 && a < (1 << 53));
    }
}
