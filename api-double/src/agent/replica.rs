//! The background work of a Nomad server double: job replication and leadership.
//!
//! * **Followers** copy the leader's jobs (specs, versions, indexes, history) every
//!   [`REPLICATE_INTERVAL`] through `GET /v1/double/jobs`, an endpoint of the double's
//!   own (evaluations, deployments and allocations are not copied).
//! * **A new leader** (the old one stopped) evaluates every job it copied and has no
//!   allocation of, so the jobs run again on the region's nodes with their versions
//!   and `JobModifyIndex` unchanged (a re-submission still changes nothing); new
//!   allocations and deployments replace the ones the old leader knew.
//! * **The leader** runs its blocked evaluations again whenever the region's set of
//!   ready nodes changes.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::forward::{self, FORWARDED};
use super::jobs::is_leader;
use super::nomad::alive_servers;
use super::sched::{self, ready_nodes};
use super::{Agent, NomadRole};
use crate::http::Response;
use crate::job_api::create_eval;
use crate::store::{Job, Store};

/// The double's own replication endpoint on every Nomad server.
pub(crate) const PATH: &str = "/v1/double/jobs";
/// How often a follower copies the leader's jobs.
pub const REPLICATE_INTERVAL: Duration = Duration::from_secs(1);
/// How often a server looks at leadership and the region's nodes.
const TICK: Duration = Duration::from_millis(500);
const TIMEOUT: Duration = Duration::from_secs(5);

/// Runs on every Nomad server until the agent stops.
pub(crate) fn server_loop(agent: &Arc<Agent>) {
    let Some(role) = agent.config.nomad.clone().filter(|n| n.server) else {
        return;
    };
    let mut was_leader = false;
    let mut nodes: Vec<String> = Vec::new();
    let mut ticks: u64 = 0;
    let copy_every = u64::try_from(REPLICATE_INTERVAL.as_millis() / TICK.as_millis())
        .unwrap_or(1)
        .max(1);
    while agent.stop.sleep(TICK) {
        let leader = is_leader(agent, &role);
        if leader && !was_leader {
            take_over(agent);
        }
        was_leader = leader;
        if leader {
            unblock_on_node_change(agent, &role, &mut nodes);
        } else if ticks % copy_every == 0 {
            copy_from_leader(agent, &role);
        }
        ticks += 1;
    }
}

/// Runs the blocked evaluations again when the region's ready nodes changed.
fn unblock_on_node_change(agent: &Arc<Agent>, role: &NomadRole, last: &mut Vec<String>) {
    let ids: Vec<String> = ready_nodes(agent, &role.region)
        .into_iter()
        .map(|n| n.id)
        .collect();
    if ids == *last {
        return;
    }
    *last = ids;
    for id in agent.jobs.apply(sched::unblock_all) {
        sched::start(Arc::clone(agent), id);
    }
}

/// Evaluates every running job this server copied but has no allocation of.
fn take_over(agent: &Arc<Agent>) {
    let evals = agent.jobs.apply(|st| {
        let orphans: Vec<Job> = st
            .jobs
            .values()
            .filter(|j| !j.stop && st.job_allocs(&j.namespace, &j.id).is_empty())
            .cloned()
            .collect();
        if orphans.is_empty() {
            return Vec::new();
        }
        let index = st.bump();
        orphans
            .iter()
            .map(|j| create_eval(st, j, "node-update", j.priority(), index))
            .collect()
    });
    for id in evals {
        sched::start(Arc::clone(agent), id);
    }
}

/// `GET /v1/double/jobs`: this server's jobs and index.
pub(crate) fn export(agent: &Agent) -> Response {
    let st = agent.jobs.lock();
    let jobs: Vec<Value> = st.jobs.values().map(job_to_json).collect();
    Response::json(&json!({"Index": st.index, "Jobs": jobs}))
}

/// Replaces this follower's jobs with the leader's.
fn copy_from_leader(agent: &Agent, role: &NomadRole) {
    let Some(addr) = alive_servers(agent, &role.region)
        .first()
        .and_then(|m| m.http_addr())
    else {
        return;
    };
    let token = role.acl_token.clone().unwrap_or_default();
    let mut headers = vec![(FORWARDED, "1")];
    if !token.is_empty() {
        headers.push(("X-Nomad-Token", token.as_str()));
    }
    let Some(body) = forward::call(&addr, "GET", PATH, &headers, &[], TIMEOUT)
        .ok()
        .and_then(|r| r.json())
    else {
        return;
    };
    let Some(jobs) = body["Jobs"].as_array() else {
        return;
    };
    let copied: Vec<Job> = jobs.iter().filter_map(job_from_json).collect();
    let index = body["Index"].as_u64().unwrap_or(0);
    agent.jobs.apply(|st| import(st, copied, index));
}

/// A follower keeps the leader's jobs and nothing else (what it had as an earlier
/// leader of its own is gone, as a server joining a Raft cluster drops its state).
fn import(st: &mut Store, jobs: Vec<Job>, index: u64) {
    st.evals.clear();
    st.deployments.clear();
    st.allocs.clear();
    st.jobs = jobs
        .into_iter()
        .map(|j| ((j.namespace.clone(), j.id.clone()), j))
        .collect();
    st.index = st.index.max(index);
}

fn job_to_json(j: &Job) -> Value {
    let history: Map<String, Value> = j
        .history
        .iter()
        .map(|(v, spec)| (v.to_string(), spec.clone()))
        .collect();
    json!({
        "Namespace": j.namespace, "ID": j.id, "Spec": j.spec, "Version": j.version,
        "Status": j.status, "Stop": j.stop, "Stable": j.stable,
        "CreateIndex": j.create_index, "ModifyIndex": j.modify_index,
        "JobModifyIndex": j.job_modify_index, "SubmitTime": j.submit_time,
        "History": history, "Submission": j.submission,
    })
}

fn job_from_json(v: &Value) -> Option<Job> {
    let text = |k: &str| v[k].as_str().map(str::to_string);
    let number = |k: &str| v[k].as_u64();
    let history = v["History"]
        .as_object()?
        .iter()
        .filter_map(|(k, spec)| Some((k.parse().ok()?, spec.clone())))
        .collect();
    Some(Job {
        namespace: text("Namespace")?,
        id: text("ID")?,
        spec: v.get("Spec").filter(|s| s.is_object())?.clone(),
        version: number("Version")?,
        status: text("Status")?,
        stop: v["Stop"].as_bool()?,
        stable: v["Stable"].as_bool()?,
        create_index: number("CreateIndex")?,
        modify_index: number("ModifyIndex")?,
        job_modify_index: number("JobModifyIndex")?,
        submit_time: v["SubmitTime"].as_i64()?,
        history,
        submission: v.get("Submission").filter(|s| !s.is_null()).cloned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn jobs_round_trip() {
        let job = Job {
            namespace: "default".into(),
            id: "pcd2017".into(),
            spec: json!({"ID": "pcd2017", "TaskGroups": []}),
            version: 1,
            status: "running".into(),
            stop: false,
            stable: true,
            create_index: 3,
            modify_index: 9,
            job_modify_index: 7,
            submit_time: 42,
            history: BTreeMap::from([(0, json!({"ID": "pcd2017"}))]),
            submission: Some(json!({"Format": "hcl2"})),
        };
        let back = job_from_json(&job_to_json(&job)).unwrap();
        assert_eq!(job_to_json(&back), job_to_json(&job));
        assert!(job_from_json(&json!({"ID": 1})).is_none());
        let mut st = Store::default();
        import(&mut st, vec![back], 12);
        assert_eq!(st.index, 12);
        assert_eq!(st.job("default", "pcd2017").map(|j| j.version), Some(1));
    }
}
