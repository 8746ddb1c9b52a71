//! Routing and the endpoint handlers (contract section 2).

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, MutexGuard};

use serde_json::{json, Value};

use crate::http::{RecordedRequest, Response};
use crate::job_api::{
    self, cancel_older_deployments, create_eval, namespace, not_found, parse_body, parse_register,
    verbs, AllocList, JobSource, RegisterRequest, Reply,
};
use crate::life;
use crate::scenario::Life;
use crate::server::Shared;
use crate::store::{Job, Store};
use crate::util::{now_ns, strings};

/// Leader RPC address the double reports.
const LEADER: &str = "127.0.0.1:4647";

/// Inserts the scenario's pre-existing jobs.
pub(crate) fn seed(shared: &Shared) {
    let mut st = shared.lock();
    for (spec, job_modify_index) in &shared.scenario.existing_jobs {
        let id = spec
            .get("ID")
            .and_then(Value::as_str)
            .unwrap_or("example")
            .to_string();
        let namespace = spec
            .get("Namespace")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .unwrap_or("default")
            .to_string();
        st.index = st.index.max(*job_modify_index + 1);
        let mut spec = spec.clone();
        if let Some(obj) = spec.as_object_mut() {
            obj.insert("Namespace".into(), json!(namespace));
        }
        let job = Job {
            namespace: namespace.clone(),
            id: id.clone(),
            spec,
            version: 0,
            status: "running".into(),
            stop: false,
            stable: true,
            create_index: *job_modify_index,
            modify_index: *job_modify_index,
            job_modify_index: *job_modify_index,
            submit_time: now_ns(),
            history: BTreeMap::new(),
            submission: None,
        };
        st.jobs.insert((namespace, id), job);
    }
}

/// Answers one request (after the ACL check).
pub(crate) fn route(shared: &Arc<Shared>, req: &RecordedRequest) -> Response {
    if let Some(err) = region_check(shared, req) {
        return err;
    }
    let segs = req.segments();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let reply = match segs.as_slice() {
        ["v1", "jobs"] => jobs(shared, req),
        ["v1", "job", id] => job(shared, req, id),
        ["v1", "job", id, "plan"] => {
            verbs(req, &["PUT", "POST"]).and_then(|()| plan(shared, req, id))
        }
        ["v1", "job", id, "summary"] => job_api::summary(&**shared, req, id),
        ["v1", "job", id, sub] => {
            verbs(req, &["GET"]).and_then(|()| job_api::job_sub(&**shared, req, id, sub))
        }
        ["v1", "evaluation", id] => {
            verbs(req, &["GET"]).and_then(|()| job_api::eval_read(&**shared, req, id))
        }
        ["v1", "evaluation", id, "allocations"] => verbs(req, &["GET"]).and_then(|()| {
            job_api::allocs_where(&**shared, req, |a| a.eval_id == *id, AllocList::Stubs)
        }),
        ["v1", "deployment", "allocations", id] => verbs(req, &["GET"]).and_then(|()| {
            job_api::allocs_where(&**shared, req, |a| a.deployment_id == *id, AllocList::Stubs)
        }),
        ["v1", "deployment", "promote", id] => {
            verbs(req, &["PUT", "POST"]).and_then(|()| promote(shared, req, id))
        }
        ["v1", "deployment", id] => {
            verbs(req, &["GET"]).and_then(|()| job_api::deployment_read(&**shared, req, id))
        }
        ["v1", "allocation", id] => {
            verbs(req, &["GET"]).and_then(|()| job_api::alloc_read(&**shared, req, id))
        }
        ["v1", "status", "leader"] => verbs(req, &["GET"]).map(|()| Response::json(&json!(LEADER))),
        ["v1", "status", "peers"] => {
            verbs(req, &["GET"]).map(|()| Response::json(&json!([LEADER])))
        }
        ["v1", "regions"] => verbs(req, &["GET"]).map(|()| regions(shared)),
        ["v1", "agent", "self"] => verbs(req, &["GET"]).map(|()| agent_self(shared)),
        ["v1", "agent", "join"] => {
            verbs(req, &["PUT", "POST"]).map(|()| crate::join::join(shared, req))
        }
        ["v1", "agent", "members"] => verbs(req, &["GET"]).map(|()| agent_members(shared)),
        _ => Err(job_api::no_route()),
    };
    reply.unwrap_or_else(|e| e)
}

fn region_check(shared: &Shared, req: &RecordedRequest) -> Option<Response> {
    let region = req.query_value("region").filter(|r| !r.is_empty())?;
    let known = crate::join::known_regions(shared)
        .iter()
        .any(|r| r == region);
    (!known).then(|| Response::text(500, "No path to region"))
}

impl JobSource for Shared {
    fn lock(&self) -> MutexGuard<'_, Store> {
        Shared::lock(self)
    }

    fn cond(&self) -> &Condvar {
        &self.cond
    }
}

// ---- jobs ------------------------------------------------------------------------------

fn jobs(shared: &Arc<Shared>, req: &RecordedRequest) -> Reply {
    match req.method.as_str() {
        "PUT" | "POST" => register(shared, req, None),
        "GET" => job_api::list_jobs(&**shared, req),
        _ => Err(Response::text(405, "Invalid method")),
    }
}

fn job(shared: &Arc<Shared>, req: &RecordedRequest, id: &str) -> Reply {
    match req.method.as_str() {
        "PUT" | "POST" => register(shared, req, Some(id)),
        "GET" => job_api::read_job(&**shared, req, id),
        "DELETE" => deregister(shared, req, id),
        _ => Err(Response::text(405, "Invalid method")),
    }
}

// ---- register / deregister -------------------------------------------------------------

fn register(shared: &Arc<Shared>, req: &RecordedRequest, path_id: Option<&str>) -> Reply {
    let reg = parse_register(req, path_id)?;
    let (index, eval_id, job_modify_index) = job_api::register_job(
        &mut shared.lock(),
        &reg,
        |existing, index| upsert_job(shared, existing, &reg, index),
        |st, _, index| cancel_older_deployments(st, &reg.namespace, &reg.id, index),
    )?;
    shared.cond.notify_all();
    if let Some(eval_id) = &eval_id {
        life::start(Arc::clone(shared), &reg.namespace, &reg.id, eval_id.clone());
    }
    job_api::register_reply(index, eval_id.as_deref(), job_modify_index)
}

/// The stored job after a register: a changed spec (or a stopped job) makes a new
/// version; the status is set again either way.
fn upsert_job(shared: &Shared, existing: Option<Job>, reg: &RegisterRequest, index: u64) -> Job {
    match existing {
        Some(mut job) => {
            job_api::new_version(&mut job, reg, index);
            job.status = job_api::register_status(&reg.spec).into();
            job
        }
        None => new_job(shared, reg, index),
    }
}

fn new_job(shared: &Shared, reg: &RegisterRequest, index: u64) -> Job {
    let mut history = BTreeMap::new();
    // Auto-revert and canaries need a previous version: pretend version 0 existed.
    let synthetic_v0 = matches!(
        shared.scenario.life,
        Life::FailedWithAutoRevert | Life::CanaryAwaitingPromotion
    );
    if synthetic_v0 {
        history.insert(0, reg.spec.clone());
    }
    job_api::fresh_job(reg, index, u64::from(synthetic_v0), history)
}

fn deregister(shared: &Shared, req: &RecordedRequest, id: &str) -> Reply {
    let ns = namespace(req);
    let (index, eval_id, jmi) =
        job_api::stop_job(&mut shared.lock(), &ns, id, |st, eval_id, _| {
            if let Some(e) = st.evals.get_mut(eval_id) {
                e.status = "complete".into();
            }
        })?;
    shared.cond.notify_all();
    job_api::deregister_reply(index, &eval_id, jmi)
}

// ---- plan ------------------------------------------------------------------------------

fn plan(shared: &Shared, req: &RecordedRequest, path_id: &str) -> Reply {
    let plan = job_api::parse_plan(req, path_id)?;
    let placement_failure = shared.scenario.life == Life::PlacementFailure;
    job_api::plan_reply(&shared.lock(), &plan, placement_failure, None)
}

// ---- deployments -----------------------------------------------------------------------

fn promote(shared: &Arc<Shared>, req: &RecordedRequest, id: &str) -> Reply {
    let body = parse_body(req)?;
    let body_id = body
        .get("DeploymentID")
        .and_then(Value::as_str)
        .unwrap_or(id);
    if body_id != id {
        return Err(Response::text(400, "Deployment ID does not match"));
    }
    let all = body.get("All").and_then(Value::as_bool).unwrap_or(false);
    let wanted = strings(body.get("Groups"));
    let (index, eval_id, deployment) = {
        let mut st = shared.lock();
        let mut dep = st
            .deployments
            .get(id)
            .cloned()
            .ok_or_else(|| not_found("deployment"))?;
        if dep.is_terminal() {
            return Err(Response::text(500, "can't promote terminal deployment"));
        }
        let mut promoted_any = false;
        for (name, g) in dep.groups.iter_mut() {
            if g.desired_canaries > 0 && (all || wanted.contains(name)) {
                g.promoted = true;
                promoted_any = true;
            }
        }
        if !promoted_any {
            return Err(Response::text(500, "no canaries to promote"));
        }
        let index = st.bump();
        dep.status_description = life::RUNNING.into();
        dep.modify_index = index;
        dep.modify_time = now_ns();
        let job = st
            .job(&dep.namespace, &dep.job_id)
            .cloned()
            .ok_or_else(|| not_found("job"))?;
        let eval_id = create_eval(&mut st, &job, "deployment-watcher", job.priority(), index);
        st.deployments.insert(id.to_string(), dep.clone());
        (index, eval_id, dep)
    };
    shared.cond.notify_all();
    life::after_promotion(Arc::clone(shared), &deployment, eval_id.clone());
    let body = json!({"EvalID": eval_id, "EvalCreateIndex": index,
        "DeploymentModifyIndex": index, "RevertedJobVersion": null, "Index": index,
        "LastContact": 0, "KnownLeader": false, "NextToken": ""});
    Ok(Response::json(&body).with_header("X-Nomad-Index", index.to_string()))
}

// ---- agent, status, regions ------------------------------------------------------------

fn regions(shared: &Shared) -> Response {
    Response::json(&json!(crate::join::known_regions(shared)))
}

pub(crate) fn own_region(shared: &Shared) -> String {
    shared
        .scenario
        .regions
        .first()
        .cloned()
        .unwrap_or_else(|| "global".into())
}

fn member(shared: &Shared) -> Value {
    let region = own_region(shared);
    json!({
        "Name": format!("nomad-double.{region}"), "Addr": "127.0.0.1", "Port": 4648,
        "Tags": {"role": "nomad", "region": region, "dc": "dc1", "port": "4647",
                 "build": "2.0.5", "vsn": "1", "raft_vsn": "3", "rpc_addr": "127.0.0.1",
                 "bootstrap": "1"},
        "Status": "alive", "ProtocolMin": 1, "ProtocolMax": 5, "ProtocolCur": 2,
        "DelegateMin": 2, "DelegateMax": 5, "DelegateCur": 4,
    })
}

fn agent_self(shared: &Shared) -> Response {
    let region = own_region(shared);
    let acl = shared.scenario.acl_token.is_some();
    let tls = shared.scenario.tls.is_some();
    Response::json(&json!({
        "config": {
            "Region": region, "Datacenter": "dc1", "NodeName": "nomad-double",
            "Version": "2.0.5", "Revision": "api-double",
            "Server": {"Enabled": true, "BootstrapExpect": 1},
            "Client": {"Enabled": false},
            "ACL": {"Enabled": acl},
            "TLSConfig": {"EnableHTTP": tls, "EnableRPC": tls},
            "Ports": {"HTTP": 4646, "RPC": 4647, "Serf": 4648},
        },
        "member": member(shared),
        "stats": {
            "nomad": {"server": "true", "leader": "true", "leader_addr": LEADER,
                      "bootstrap": "true", "known_regions": shared.scenario.regions.len().to_string()},
        },
    }))
}

fn agent_members(shared: &Shared) -> Response {
    Response::json(&json!({
        "ServerName": "nomad-double", "ServerRegion": own_region(shared), "ServerDC": "dc1",
        "Members": crate::join::members(shared, member(shared)),
    }))
}
