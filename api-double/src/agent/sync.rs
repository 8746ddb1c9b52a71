//! A Nomad agent double's Consul registrations, as Nomad's `consul` integration does
//! them: a server registers itself as service `nomad` (tags `http`, `rpc`, `serf`), a
//! client as `nomad-client` (tag `http`). A client also syncs its workloads: every
//! [`SYNC_INTERVAL`] it reads its allocations from its region's servers
//! (`GET /v1/node/<its id>/allocations`), registers the services of the running ones
//! with its local Consul agent (`consul { address }` of its configuration) as
//! `_nomad-task-<alloc>-<task>-<service>-<port label>`, with its own address and the
//! static port of the service's port label, and deregisters the `_nomad-` services of
//! its kind that no longer run (read back from `GET /v1/agent/services` every round,
//! so a restarted Consul agent gets everything again). Consul being down is retried
//! on the next round.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use super::forward;
use super::pool::{PoolKind, Status};
use super::Agent;

/// How often a client syncs its services.
pub const SYNC_INTERVAL: Duration = Duration::from_secs(1);
const TIMEOUT: Duration = Duration::from_secs(5);

/// Runs until the agent stops (returns at once without a Consul address).
pub(crate) fn service_loop(agent: &Agent) {
    let Some(consul) = consul_address(agent) else {
        return;
    };
    let server = agent.config.nomad.as_ref().is_some_and(|n| n.server);
    let token = agent
        .config
        .nomad
        .as_ref()
        .and_then(|n| n.consul_token.clone())
        .unwrap_or_default();
    let consul = Consul {
        address: consul,
        token,
    };
    let owned: &[&str] = if server {
        &["_nomad-server-"]
    } else {
        &["_nomad-client-", "_nomad-task-"]
    };
    while agent.stop.sleep(SYNC_INTERVAL) {
        if let Some(wanted) = wanted_services(agent) {
            sync(&consul, owned, &wanted);
        }
    }
}

/// The local Consul agent's `host:port`, if the agent talks to one.
fn consul_address(agent: &Agent) -> Option<String> {
    let configured = agent.config.nomad.as_ref()?.consul_address.clone()?;
    let trimmed = configured
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    Some(super::with_default_port(&trimmed, 8500))
}

/// The local Consul agent: its `host:port` and the token to send (may be empty).
struct Consul {
    address: String,
    token: String,
}

impl Consul {
    /// One request; `None` on a transport error.
    fn call(&self, method: &str, path: &str, body: &[u8]) -> Option<forward::Reply> {
        let mut headers = vec![("Content-Type", "application/json")];
        if !self.token.is_empty() {
            headers.push(("X-Consul-Token", self.token.as_str()));
        }
        forward::call(&self.address, method, path, &headers, body, TIMEOUT).ok()
    }
}

/// Compares the agent's registrations with `wanted` (anti-entropy, as Nomad does):
/// registers what is missing or different, deregisters the services with an `owned`
/// ID prefix that are not wanted (left over from stopped allocations or an earlier
/// run of the agent). Nothing happens while Consul does not answer.
fn sync(consul: &Consul, owned: &[&str], wanted: &BTreeMap<String, Value>) {
    let Some(present) = consul
        .call("GET", "/v1/agent/services", &[])
        .and_then(|r| r.json())
        .and_then(|v| v.as_object().cloned())
    else {
        return;
    };
    for (id, service) in wanted {
        if present.get(id).is_some_and(|p| same_service(p, service)) {
            continue;
        }
        let _ = consul.call(
            "PUT",
            "/v1/agent/service/register",
            service.to_string().as_bytes(),
        );
    }
    let stale = present
        .keys()
        .filter(|id| owned.iter().any(|p| id.starts_with(p)) && !wanted.contains_key(*id));
    for id in stale {
        let path = format!("/v1/agent/service/deregister/{id}");
        let _ = consul.call("PUT", &path, &[]);
    }
}

/// Whether a registration (agent-service shape) matches a wanted one (register shape).
fn same_service(present: &Value, wanted: &Value) -> bool {
    present["Service"] == wanted["Name"]
        && present["Port"] == wanted["Port"]
        && present["Address"] == wanted["Address"]
        && present["Tags"] == wanted["Tags"]
}

/// The services this client's running allocations provide, by service ID; `None` when
/// no server answered (nothing is deregistered then).
fn wanted_services(agent: &Agent) -> Option<BTreeMap<String, Value>> {
    let role = agent.config.nomad.as_ref()?;
    let mut wanted = own_services(agent, role);
    if role.server {
        return Some(wanted);
    }
    let server = agent
        .members(PoolKind::Nomad)
        .into_iter()
        .filter(|(m, s)| {
            *s == Status::Alive && m.tag("role") == "nomad" && m.tag("region") == role.region
        })
        .find_map(|(m, _)| m.http_addr())?;
    let path = format!("/v1/node/{}/allocations", agent.node_id);
    let token = role.acl_token.as_deref().unwrap_or_default();
    let headers: Vec<(&str, &str)> = if token.is_empty() {
        Vec::new()
    } else {
        vec![("X-Nomad-Token", token)]
    };
    let allocs = forward::call(&server, "GET", &path, &headers, &[], TIMEOUT)
        .ok()?
        .json()?;
    let node = NodeFacts {
        address: agent.config.advertised().to_string(),
        datacenter: role.datacenter.clone(),
        class: role.node_class.clone(),
        name: agent.config.name.clone(),
    };
    for alloc in allocs.as_array()?.iter().filter(|a| is_running(a)) {
        for service in alloc_services(alloc, &node) {
            let id = service["ID"].as_str().unwrap_or_default().to_string();
            wanted.insert(id, service);
        }
    }
    Some(wanted)
}

/// The agent's own registrations: `nomad` (http, rpc, serf) or `nomad-client` (http).
fn own_services(agent: &Agent, role: &super::NomadRole) -> BTreeMap<String, Value> {
    let address = agent.config.advertised().to_string();
    let ports: Vec<(&str, u16)> = if role.server {
        vec![
            ("http", role.http_port),
            ("rpc", role.rpc_port),
            ("serf", role.serf_port),
        ]
    } else {
        vec![("http", role.http_port)]
    };
    let (name, kind) = if role.server {
        ("nomad", "server")
    } else {
        ("nomad-client", "client")
    };
    ports
        .into_iter()
        .map(|(tag, port)| {
            let id = format!("_nomad-{kind}-{}-{tag}", agent.node_id);
            let service = json!({
                "ID": id, "Name": name, "Tags": [tag], "Address": address, "Port": port,
                "Meta": {"external-source": "nomad"},
            });
            (id, service)
        })
        .collect()
}

fn is_running(alloc: &Value) -> bool {
    alloc["DesiredStatus"] == "run" && alloc["ClientStatus"] == "running"
}

/// What service tags and names may interpolate.
struct NodeFacts {
    address: String,
    datacenter: String,
    class: String,
    name: String,
}

impl NodeFacts {
    /// Replaces the `${node.*}` and `${NOMAD_*}` references Nomad resolves in services.
    fn interpolate(&self, text: &str, alloc: &Value, task: &str) -> String {
        let str_of = |k: &str| alloc[k].as_str().unwrap_or_default().to_string();
        let pairs = [
            ("${node.datacenter}", self.datacenter.clone()),
            ("${node.class}", self.class.clone()),
            ("${node.unique.name}", self.name.clone()),
            ("${NOMAD_JOB_NAME}", str_of("JobID")),
            ("${NOMAD_GROUP_NAME}", str_of("TaskGroup")),
            ("${NOMAD_TASK_NAME}", task.to_string()),
            ("${NOMAD_ALLOC_ID}", str_of("ID")),
            ("${NOMAD_DC}", self.datacenter.clone()),
        ];
        pairs
            .iter()
            .fold(text.to_string(), |t, (from, to)| t.replace(from, to))
    }
}

/// The Consul registrations of one allocation's task services.
fn alloc_services(alloc: &Value, node: &NodeFacts) -> Vec<Value> {
    let group_name = alloc["TaskGroup"].as_str().unwrap_or_default();
    let Some(group) = alloc["Job"]["TaskGroups"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["Name"] == group_name))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let group_owner = format!("group-{group_name}");
    for service in consul_services(&group["Services"]) {
        out.push(registration(
            alloc,
            node,
            group,
            &Value::Null,
            &group_owner,
            service,
        ));
    }
    for task in group["Tasks"].as_array().into_iter().flatten() {
        let task_name = task["Name"].as_str().unwrap_or_default();
        for service in consul_services(&task["Services"]) {
            out.push(registration(alloc, node, group, task, task_name, service));
        }
    }
    out
}

/// The services of a list that Consul provides (`Provider` `consul` or unset; `nomad`
/// services live in Nomad's own catalog).
fn consul_services(list: &Value) -> impl Iterator<Item = &Value> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter(|s| matches!(s["Provider"].as_str(), None | Some("") | Some("consul")))
}

/// One service of a task (or of the group: `owner` is `group-<name>`, `task` null).
fn registration(
    alloc: &Value,
    node: &NodeFacts,
    group: &Value,
    task: &Value,
    owner: &str,
    service: &Value,
) -> Value {
    let label = service["PortLabel"].as_str().unwrap_or_default();
    let task_name = task["Name"].as_str().unwrap_or_default();
    let name = node.interpolate(
        service["Name"].as_str().unwrap_or_default(),
        alloc,
        task_name,
    );
    let tags: Vec<String> = service["Tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|t| node.interpolate(t, alloc, task_name))
        .collect();
    let alloc_id = alloc["ID"].as_str().unwrap_or_default();
    json!({
        "ID": format!("_nomad-task-{alloc_id}-{owner}-{name}-{label}"),
        "Name": name,
        "Tags": tags,
        "Address": node.address,
        "Port": static_port(group, task, label),
        "Meta": {"external-source": "nomad"},
    })
}

/// The static port (or literal number) behind a service's port label; 0 if none.
fn static_port(group: &Value, task: &Value, label: &str) -> u64 {
    if let Ok(n) = label.parse::<u64>() {
        return n;
    }
    let networks = task["Resources"]["Networks"]
        .as_array()
        .into_iter()
        .chain(group["Networks"].as_array())
        .flatten();
    networks
        .flat_map(|n| {
            n["ReservedPorts"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(n["DynamicPorts"].as_array().into_iter().flatten())
        })
        .find(|p| p["Label"] == label)
        .and_then(|p| p["Value"].as_u64())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_of_a_running_alloc() {
        let alloc = json!({
            "ID": "a1", "JobID": "pcd2017", "TaskGroup": "webs",
            "DesiredStatus": "run", "ClientStatus": "running",
            "Job": {"TaskGroups": [{"Name": "webs", "Tasks": [{
                "Name": "frontend",
                "Services": [{"Name": "frontend", "PortLabel": "http", "Tags": ["web", "${node.datacenter}"]}],
                "Resources": {"Networks": [{"ReservedPorts": [{"Label": "http", "Value": 80}]}]},
            }]}]},
        });
        let node = NodeFacts {
            address: "10.0.0.5".into(),
            datacenter: "france".into(),
            class: String::new(),
            name: "fr-1".into(),
        };
        assert!(is_running(&alloc));
        let s = alloc_services(&alloc, &node);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0]["ID"], "_nomad-task-a1-frontend-frontend-http");
        assert_eq!(s[0]["Port"], 80);
        assert_eq!(s[0]["Tags"], json!(["web", "france"]));
        assert_eq!(s[0]["Address"], "10.0.0.5");

        let mut grouped = alloc.clone();
        grouped["Job"]["TaskGroups"][0]["Services"] =
            json!([{"Name": "${NOMAD_GROUP_NAME}-lb", "PortLabel": "8080"}]);
        let s = alloc_services(&grouped, &node);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0]["ID"], "_nomad-task-a1-group-webs-webs-lb-8080");
        assert_eq!(s[0]["Port"], 8080);
        grouped["Job"]["TaskGroups"][0]["Services"][0]["Provider"] = json!("nomad");
        assert_eq!(alloc_services(&grouped, &node).len(), 1);
    }
}
