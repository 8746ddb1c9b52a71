//! `PUT /v1/agent/join` and the gossip pool it grows (`/v1/agent/members`, `/v1/regions`).

use serde_json::{json, Value};

use crate::http::{RecordedRequest, Response};
use crate::scenario::JoinTarget;
use crate::server::Shared;

/// Warning Nomad 2.0.4+ returns for a join without an `agent:write` token under ACLs.
const ANONYMOUS_JOIN: &str =
    "anonymous server join is deprecated and will be removed in a future version of Nomad";

/// Joins every `address` query value; always `200` once an address is given.
pub(crate) fn join(shared: &Shared, req: &RecordedRequest) -> Response {
    let addresses = req.query_values("address");
    if addresses.iter().all(|a| a.is_empty()) {
        return Response::text(400, "missing address to join");
    }
    let mut joined = 0;
    let mut errors = Vec::new();
    for address in addresses.into_iter().filter(|a| !a.is_empty()) {
        let address = with_serf_port(address);
        match target(shared, &address) {
            Some(t) => {
                remember(shared, t);
                joined += 1;
            }
            None => errors.push(format!(
                "Failed to join {address}: dial tcp {address}: connect: connection refused"
            )),
        }
    }
    shared.cond.notify_all();
    let error = if joined == 0 {
        multi_error(&errors)
    } else {
        String::new()
    };
    Response::json(&json!({"num_joined": joined, "error": error, "warning": warning(shared, req)}))
}

/// `host` alone means the default serf port.
fn with_serf_port(address: &str) -> String {
    let has_port = address.rsplit_once(':').is_some_and(|(host, port)| {
        !host.is_empty() && !host.ends_with(':') && port.parse::<u16>().is_ok()
    });
    if has_port {
        address.to_string()
    } else {
        format!("{address}:4648")
    }
}

fn target(shared: &Shared, address: &str) -> Option<JoinTarget> {
    shared
        .scenario
        .join_targets
        .iter()
        .find(|t| with_serf_port(&t.address) == address)
        .cloned()
}

fn remember(shared: &Shared, t: JoinTarget) {
    let mut st = shared.lock();
    if !st.joined.iter().any(|j| j.address == t.address) {
        st.joined.push(t);
    }
}

/// The gossip library's multi-error text.
fn multi_error(errors: &[String]) -> String {
    let head = if errors.len() == 1 {
        "1 error occurred:".to_string()
    } else {
        format!("{} errors occurred:", errors.len())
    };
    let items: String = errors.iter().map(|e| format!("\n\t* {e}")).collect();
    format!("{head}{items}\n\n")
}

fn warning(shared: &Shared, req: &RecordedRequest) -> &'static str {
    let Some(expected) = shared.scenario.acl_token.as_deref() else {
        return "";
    };
    let bearer = req
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "));
    let token = req.header("x-nomad-token").or(bearer);
    if token == Some(expected) {
        ""
    } else {
        ANONYMOUS_JOIN
    }
}

/// Regions of the double and of every joined server, sorted.
pub(crate) fn known_regions(shared: &Shared) -> Vec<String> {
    let mut regions = shared.scenario.regions.clone();
    regions.extend(shared.lock().joined.iter().map(|t| t.region.clone()));
    regions.sort();
    regions.dedup();
    regions
}

/// `own` plus one member per joined server.
pub(crate) fn members(shared: &Shared, own: Value) -> Vec<Value> {
    let st = shared.lock();
    std::iter::once(own)
        .chain(st.joined.iter().map(member_of))
        .collect()
}

fn member_of(t: &JoinTarget) -> Value {
    let (host, port) = t
        .address
        .rsplit_once(':')
        .map_or((t.address.as_str(), 4648), |(h, p)| {
            (h, p.parse().unwrap_or(4648))
        });
    json!({
        "Name": format!("{}.{}", t.name, t.region), "Addr": host, "Port": port,
        "Tags": {"role": "nomad", "region": t.region, "dc": t.datacenter, "port": "4647",
                 "build": "2.0.5", "vsn": "1", "raft_vsn": "3", "rpc_addr": host,
                 "expect": "3"},
        "Status": "alive", "ProtocolMin": 1, "ProtocolMax": 5, "ProtocolCur": 2,
        "DelegateMin": 2, "DelegateMax": 5, "DelegateCur": 4,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serf_port_defaults() {
        assert_eq!(with_serf_port("10.0.0.9"), "10.0.0.9:4648");
        assert_eq!(with_serf_port("10.0.0.9:4000"), "10.0.0.9:4000");
        assert_eq!(with_serf_port("[::1]:4648"), "[::1]:4648");
    }

    #[test]
    fn multi_errors_match_go_multierror() {
        assert_eq!(multi_error(&["a".into()]), "1 error occurred:\n\t* a\n\n");
        assert_eq!(
            multi_error(&["a".into(), "b".into()]),
            "2 errors occurred:\n\t* a\n\t* b\n\n"
        );
    }
}
