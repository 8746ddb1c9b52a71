//! Jobs on the agent doubles' Nomad servers: register (with check-index), plan, reads
//! with blocking queries, evaluations, deployments, allocations and deregister, in the
//! shapes of the scenario double (`crate::store` renders every object).
//!
//! **Forwarding.** Only the region's leader (its longest-running alive server) keeps
//! jobs; any other agent of the region (server or client) forwards job requests to the
//! leader's HTTP address, as real Nomad forwards to the leader. A request for another
//! region (`?region=`, or a register whose body or job names another region) is
//! forwarded to that region's leader. A forwarded request carries
//! [`FORWARDED`](super::forward::FORWARDED) and is answered by its receiver, so there is
//! never a second hop. Followers copy the leader's jobs, so a new leader (after the old
//! one stops) runs them again (see the `replica` module).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::forward::{self, FORWARDED};
use super::nomad::{alive_servers, regions};
use super::pool::PoolKind;
use super::{sched, Agent, NomadRole};
use crate::http::{RecordedRequest, Response};
use crate::store::{Eval, Job, Store};
use crate::util::{new_id, now_ns, parse_go_duration};

/// Longest blocking query (Nomad's `MaxBlockingRPCQueryTime`), also the default wait.
const MAX_WAIT: Duration = Duration::from_secs(300);
/// How often a blocked query re-checks the stop switch.
const WAKE: Duration = Duration::from_millis(500);

type Reply = Result<Response, Response>;

/// The jobs, evaluations, deployments and allocations a Nomad server keeps, and the
/// condition blocked queries wait on.
#[derive(Debug, Default)]
pub(crate) struct JobState {
    store: Mutex<Store>,
    cond: Condvar,
}

impl JobState {
    /// Locks the store (a poisoned lock is recovered).
    pub(crate) fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies a change and wakes blocked queries.
    pub(crate) fn apply<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        let out = f(&mut self.lock());
        self.cond.notify_all();
        out
    }

    /// Lets every blocked query return (the agent stops).
    pub(crate) fn shut_down(&self) {
        self.apply(|st| st.shutdown = true);
    }
}

/// Answers a job-related request (`None`: not one of these paths).
pub(crate) fn route(
    agent: &Arc<Agent>,
    role: &NomadRole,
    req: &RecordedRequest,
) -> Option<Response> {
    let segs = req.segments();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let ours = match segs.as_slice() {
        ["v1", first, ..] => matches!(
            *first,
            "jobs"
                | "job"
                | "evaluation"
                | "evaluations"
                | "deployment"
                | "deployments"
                | "allocation"
                | "allocations"
        ),
        _ => false,
    } || matches!(segs.as_slice(), ["v1", "node", _, "allocations"]);
    if !ours {
        return None;
    }
    Some(dispatch(agent, role, req, &segs))
}

/// Forwards to the right region and its leader, or serves.
fn dispatch(
    agent: &Arc<Agent>,
    role: &NomadRole,
    req: &RecordedRequest,
    segs: &[&str],
) -> Response {
    let forwarded = req.header(FORWARDED).is_some();
    let region = target_region(role, req, segs);
    if !regions(agent, role).contains(&region) {
        return Response::text(500, "No path to region");
    }
    if !forwarded && (region != role.region || !is_leader(agent, role)) {
        return to_leader(agent, &region, req);
    }
    if !role.server {
        return Response::text(500, "No cluster leader");
    }
    serve(agent, req, segs).unwrap_or_else(|e| e)
}

/// The region a request is for: a register's (or plan's) body `Region`, then
/// `?region=`, then its job's `Region`; empty and `global` mean the agent's own.
fn target_region(role: &NomadRole, req: &RecordedRequest, segs: &[&str]) -> String {
    let pick = |r: Option<&str>| {
        r.filter(|r| !r.is_empty() && *r != "global")
            .map(str::to_string)
    };
    let register = matches!(req.method.as_str(), "PUT" | "POST")
        && matches!(
            segs,
            ["v1", "jobs"] | ["v1", "job", _] | ["v1", "job", _, "plan"]
        );
    let body = register.then(|| req.body_json()).flatten();
    let body_region = body.as_ref().and_then(|b| pick(b["Region"].as_str()));
    let job_region = body
        .as_ref()
        .and_then(|b| pick(b["Job"]["Region"].as_str()));
    body_region
        .or_else(|| pick(req.query_value("region")))
        .or(job_region)
        .unwrap_or_else(|| role.region.clone())
}

/// Whether this agent is its region's leader.
pub(crate) fn is_leader(agent: &Agent, role: &NomadRole) -> bool {
    let me = agent.with_pool(PoolKind::Nomad, |p| p.me.name.clone());
    role.server
        && alive_servers(agent, &role.region)
            .first()
            .is_some_and(|l| Some(&l.name) == me.as_ref())
}

/// Forwards `req` to the leader of `region`.
fn to_leader(agent: &Agent, region: &str, req: &RecordedRequest) -> Response {
    let Some(addr) = alive_servers(agent, region)
        .first()
        .and_then(|m| m.http_addr())
    else {
        return Response::text(500, "No cluster leader");
    };
    forward::forward(&addr, req).unwrap_or_else(|e| Response::text(500, format!("rpc error: {e}")))
}

/// Serves a request on the leader.
fn serve(agent: &Arc<Agent>, req: &RecordedRequest, segs: &[&str]) -> Reply {
    let get = || verbs(req, &["GET"]);
    match segs {
        ["v1", "jobs", "parse"] => verbs(req, &["PUT", "POST"]).and_then(|()| parse_hcl(req)),
        ["v1", "jobs"] => match req.method.as_str() {
            "PUT" | "POST" => register(agent, req, None),
            "GET" => list_jobs(agent, req),
            _ => Err(Response::text(405, "Invalid method")),
        },
        ["v1", "job", id] => match req.method.as_str() {
            "PUT" | "POST" => register(agent, req, Some(id)),
            "GET" => read_job(agent, req, id),
            "DELETE" => deregister(agent, req, id),
            _ => Err(Response::text(405, "Invalid method")),
        },
        ["v1", "job", id, "plan"] => {
            verbs(req, &["PUT", "POST"]).and_then(|()| plan(agent, req, id))
        }
        ["v1", "job", id, sub] => get().and_then(|()| job_sub(agent, req, id, sub)),
        ["v1", "evaluations"] => get().and_then(|()| list_evals(agent, req)),
        ["v1", "evaluation", id] => get().and_then(|()| eval_read(agent, req, id)),
        ["v1", "evaluation", id, "allocations"] => {
            get().and_then(|()| allocs_where(agent, req, |a| a.eval_id == *id, false))
        }
        ["v1", "deployments"] => get().and_then(|()| list_deployments(agent, req)),
        ["v1", "deployment", "allocations", id] => {
            get().and_then(|()| allocs_where(agent, req, |a| a.deployment_id == *id, false))
        }
        ["v1", "deployment", "promote", id] => {
            verbs(req, &["PUT", "POST"]).and_then(|()| promote(agent, id))
        }
        ["v1", "deployment", id] => get().and_then(|()| deployment_read(agent, req, id)),
        ["v1", "allocations"] => get().and_then(|()| {
            let prefix = req.query_value("prefix").unwrap_or_default().to_string();
            allocs_where(agent, req, move |a| a.id.starts_with(&prefix), false)
        }),
        ["v1", "allocation", id] => get().and_then(|()| alloc_read(agent, req, id)),
        ["v1", "node", id, "allocations"] => {
            get().and_then(|()| allocs_where(agent, req, |a| a.node_id == *id, true))
        }
        _ => Err(Response::text(404, "404 page not found\n")),
    }
}

fn verbs(req: &RecordedRequest, allowed: &[&str]) -> Result<(), Response> {
    if allowed.contains(&req.method.as_str()) {
        Ok(())
    } else {
        Err(Response::text(405, "Invalid method"))
    }
}

fn namespace(req: &RecordedRequest) -> String {
    req.query_value("namespace")
        .filter(|n| !n.is_empty())
        .unwrap_or("default")
        .to_string()
}

fn not_found(what: &str) -> Response {
    Response::text(404, format!("{what} not found"))
}

// ---- blocking reads --------------------------------------------------------------------

/// `index` and `wait` of a blocking query; `(0, _)` means answer at once.
fn blocking_params(req: &RecordedRequest) -> Result<(u64, Duration), Response> {
    let wait = match req.query_value("wait") {
        None => MAX_WAIT,
        Some(w) => parse_go_duration(w).ok_or_else(|| Response::text(400, "Invalid wait time"))?,
    };
    let wait = if wait.is_zero() {
        MAX_WAIT
    } else {
        wait.min(MAX_WAIT)
    };
    let index = match req.query_value("index") {
        None => 0,
        Some(i) => i
            .parse()
            .map_err(|_| Response::text(400, "Invalid index"))?,
    };
    Ok((index, wait))
}

/// Runs a read as a Nomad blocking query: `read` gives `(index, body)`; the answer comes
/// when the index passes `?index=`, when `wait` runs out, or when the agent stops.
fn blocking(
    agent: &Agent,
    req: &RecordedRequest,
    read: impl Fn(&Store) -> Result<(u64, Value), Response>,
) -> Reply {
    let (min_index, wait) = blocking_params(req)?;
    let deadline = Instant::now() + wait;
    let mut store = agent.jobs.lock();
    loop {
        let (index, body) = read(&store)?;
        let now = Instant::now();
        let done = min_index == 0 || index > min_index || now >= deadline;
        if done || store.shutdown || agent.stop.stopping() {
            return Ok(Response::json(&body)
                .with_header("X-Nomad-Index", index.to_string())
                .with_header("X-Nomad-LastContact", "0")
                .with_header("X-Nomad-KnownLeader", "true"));
        }
        store = agent
            .jobs
            .cond
            .wait_timeout(store, (deadline - now).min(WAKE))
            .map(|(g, _)| g)
            .unwrap_or_else(|e| e.into_inner().0);
    }
}

// ---- job reads -------------------------------------------------------------------------

fn read_job(agent: &Agent, req: &RecordedRequest, id: &str) -> Reply {
    let ns = namespace(req);
    blocking(agent, req, |st| {
        let job = st.job(&ns, id).ok_or_else(|| not_found("job"))?;
        Ok((job.modify_index, job.render()))
    })
}

fn list_jobs(agent: &Agent, req: &RecordedRequest) -> Reply {
    let ns = namespace(req);
    let all = ns == "*";
    let prefix = req.query_value("prefix").unwrap_or_default().to_string();
    blocking(agent, req, |st| {
        let stubs: Vec<Value> = st
            .jobs
            .values()
            .filter(|j| (all || j.namespace == ns) && j.id.starts_with(&prefix))
            .map(|j| job_stub(st, j))
            .collect();
        Ok((
            st.max_index(st.jobs.values().map(|j| j.modify_index)),
            json!(stubs),
        ))
    })
}

fn job_stub(st: &Store, j: &Job) -> Value {
    let full = j.render();
    json!({
        "ID": j.id, "ParentID": "", "Name": full["Name"], "Namespace": j.namespace,
        "Datacenters": full["Datacenters"], "Type": j.job_type(), "Priority": j.priority(),
        "Periodic": !full["Periodic"].is_null(), "ParameterizedJob": !full["ParameterizedJob"].is_null(),
        "Stop": j.stop, "Status": j.status, "StatusDescription": "",
        "JobSummary": job_summary(st, j), "CreateIndex": j.create_index,
        "ModifyIndex": j.modify_index, "JobModifyIndex": j.job_modify_index,
        "SubmitTime": j.submit_time,
    })
}

fn job_summary(st: &Store, job: &Job) -> Value {
    let allocs = st.job_allocs(&job.namespace, &job.id);
    let queued: BTreeMap<String, u64> = st
        .job_evals(&job.namespace, &job.id)
        .iter()
        .max_by_key(|e| e.create_index)
        .map(|e| e.queued.clone())
        .unwrap_or_default();
    let mut summary = serde_json::Map::new();
    for (group, _, _) in crate::store::groups(&job.spec) {
        let count = |status: &str| {
            allocs
                .iter()
                .filter(|a| a.task_group == group && a.client_status == status)
                .count()
        };
        summary.insert(
            group.clone(),
            json!({
                "Queued": queued.get(&group).copied().unwrap_or(0),
                "Complete": count("complete"), "Failed": count("failed"),
                "Running": count("running"), "Starting": count("pending"),
                "Lost": count("lost"), "Unknown": count("unknown"),
            }),
        );
    }
    let modify = st.max_index(
        allocs
            .iter()
            .map(|a| a.modify_index)
            .chain([job.modify_index]),
    );
    json!({
        "JobID": job.id, "Namespace": job.namespace, "Summary": summary,
        "Children": {"Pending": 0, "Running": 0, "Dead": 0},
        "CreateIndex": job.create_index, "ModifyIndex": modify,
    })
}

fn job_sub(agent: &Agent, req: &RecordedRequest, id: &str, sub: &str) -> Reply {
    let ns = namespace(req);
    match sub {
        "summary" => blocking(agent, req, |st| {
            let job = st.job(&ns, id).ok_or_else(|| not_found("job"))?;
            let s = job_summary(st, job);
            Ok((s["ModifyIndex"].as_u64().unwrap_or(1), s))
        }),
        "evaluations" => blocking(agent, req, |st| {
            let mut evals = st.job_evals(&ns, id);
            evals.sort_by_key(|e| std::cmp::Reverse(e.create_index));
            let index = st.max_index(evals.iter().map(|e| e.modify_index));
            Ok((
                index,
                json!(evals.iter().map(|e| e.render()).collect::<Vec<_>>()),
            ))
        }),
        "deployments" => blocking(agent, req, |st| {
            let deps = st.job_deployments(&ns, id);
            let index = st.max_index(deps.iter().map(|d| d.modify_index));
            Ok((
                index,
                json!(deps.iter().rev().map(|d| d.render()).collect::<Vec<_>>()),
            ))
        }),
        "deployment" => blocking(agent, req, |st| {
            let deps = st.job_deployments(&ns, id);
            let index = st.max_index(deps.iter().map(|d| d.modify_index));
            Ok((index, deps.last().map_or(Value::Null, |d| d.render())))
        }),
        "allocations" => blocking(agent, req, |st| {
            let allocs = st.job_allocs(&ns, id);
            let index = st.max_index(allocs.iter().map(|a| a.modify_index));
            Ok((
                index,
                json!(allocs.iter().map(|a| a.render_stub()).collect::<Vec<_>>()),
            ))
        }),
        "versions" => blocking(agent, req, |st| {
            let job = st.job(&ns, id).ok_or_else(|| not_found("job"))?;
            Ok((job.modify_index, versions(job)))
        }),
        _ => Err(Response::text(404, "404 page not found\n")),
    }
}

/// `{"Versions": [newest first], "Diffs": null}`.
fn versions(job: &Job) -> Value {
    let mut list = vec![job.render()];
    for (version, spec) in job.history.iter().rev() {
        let old = Job {
            spec: spec.clone(),
            version: *version,
            stable: true,
            ..job.clone()
        };
        list.push(old.render());
    }
    json!({"Versions": list, "Diffs": null, "Index": job.modify_index,
           "LastContact": 0, "KnownLeader": true, "NextToken": ""})
}

// ---- register / deregister -------------------------------------------------------------

fn parse_body(req: &RecordedRequest) -> Result<Value, Response> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Err(Response::text(400, "Request body is empty"));
    }
    serde_json::from_slice(&req.body).map_err(|e| Response::text(400, e.to_string()))
}

/// What a register request asks for, validated.
struct RegisterRequest {
    id: String,
    namespace: String,
    spec: Value,
    enforce: Option<u64>,
    submission: Option<Value>,
    eval_priority: Option<u64>,
}

fn parse_register(
    req: &RecordedRequest,
    path_id: Option<&str>,
) -> Result<RegisterRequest, Response> {
    let body = parse_body(req)?;
    let job = body
        .get("Job")
        .filter(|j| j.is_object())
        .ok_or_else(|| Response::text(400, "Job must be specified"))?;
    let id = job
        .get("ID")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Response::text(400, "Job ID hasn't been provided"))?;
    if path_id.is_some_and(|p| p != id) {
        return Err(Response::text(400, "Job ID does not match name"));
    }
    let eval_priority = body
        .get("EvalPriority")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if eval_priority != 0 && !(1..=100).contains(&eval_priority) {
        return Err(Response::text(
            400,
            "Eval priority must be between 1 and 100 inclusively",
        ));
    }
    validate_job(job)?;
    let namespace = resolve_namespace(req, &body, job);
    let mut spec = job.clone();
    spec["Namespace"] = json!(namespace);
    let enforce = body
        .get("EnforceIndex")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        .then(|| {
            body.get("JobModifyIndex")
                .and_then(Value::as_u64)
                .unwrap_or(0)
        });
    Ok(RegisterRequest {
        id: id.to_string(),
        namespace,
        spec,
        enforce,
        submission: body.get("Submission").filter(|s| !s.is_null()).cloned(),
        eval_priority: u64::try_from(eval_priority).ok().filter(|p| *p > 0),
    })
}

/// Server-side job validation (the part the double models): a 500 multi-error text.
fn validate_job(job: &Value) -> Result<(), Response> {
    let has_groups = job
        .get("TaskGroups")
        .and_then(Value::as_array)
        .is_some_and(|g| !g.is_empty());
    if has_groups {
        Ok(())
    } else {
        Err(Response::text(
            500,
            "1 error occurred:\n\t* Missing job task groups\n\n",
        ))
    }
}

/// `?namespace=` wins, then the body's `Namespace`, then `Job.Namespace`, then `default`.
fn resolve_namespace(req: &RecordedRequest, body: &Value, job: &Value) -> String {
    let non_empty = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    req.query_value("namespace")
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .or_else(|| non_empty(body.get("Namespace")))
        .or_else(|| non_empty(job.get("Namespace")))
        .unwrap_or_else(|| "default".to_string())
}

fn check_index(existing: Option<&Job>, expected: u64) -> Result<(), Response> {
    let text = match existing {
        Some(_) if expected == 0 => "job already exists".to_string(),
        None if expected != 0 => "job does not exist".to_string(),
        Some(j) if j.job_modify_index != expected => format!(
            "job exists with conflicting job modify index: {}",
            j.job_modify_index
        ),
        _ => return Ok(()),
    };
    Err(Response::text(
        500,
        format!("Enforcing job modify index {expected}: {text}"),
    ))
}

/// Periodic and parameterized jobs get no evaluation at register time.
fn needs_eval(spec: &Value) -> bool {
    let set = |k: &str| spec.get(k).is_some_and(|v| !v.is_null());
    !set("Periodic") && !set("ParameterizedJob")
}

fn register(agent: &Arc<Agent>, req: &RecordedRequest, path_id: Option<&str>) -> Reply {
    let reg = parse_register(req, path_id)?;
    let outcome = agent
        .jobs
        .apply(|st| -> Result<(u64, Option<String>, u64), Response> {
            let existing = st.job(&reg.namespace, &reg.id).cloned();
            if let Some(expected) = reg.enforce {
                check_index(existing.as_ref(), expected)?;
            }
            let index = st.bump();
            let changed = existing
                .as_ref()
                .is_none_or(|j| j.spec != reg.spec || j.stop);
            let job = upsert_job(existing, &reg, index);
            let jmi = job.job_modify_index;
            let eval_id = needs_eval(&reg.spec).then(|| {
                let priority = reg.eval_priority.unwrap_or(job.priority());
                create_eval(st, &job, "job-register", priority, index)
            });
            if changed {
                cancel_older_deployments(st, &reg.namespace, &reg.id, index);
            }
            sched::cancel_blocked(st, &reg.namespace, &reg.id, index);
            st.jobs.insert((reg.namespace.clone(), reg.id.clone()), job);
            Ok((index, eval_id, jmi))
        });
    let (index, eval_id, job_modify_index) = outcome?;
    if let Some(eval_id) = &eval_id {
        sched::start(Arc::clone(agent), eval_id.clone());
    }
    let body = json!({
        "EvalID": eval_id.clone().unwrap_or_default(),
        "EvalCreateIndex": if eval_id.is_some() { index } else { 0 },
        "JobModifyIndex": job_modify_index, "Warnings": "", "Index": index,
        "LastContact": 0, "KnownLeader": false, "NextToken": "",
    });
    Ok(Response::json(&body).with_header("X-Nomad-Index", index.to_string()))
}

/// The stored job after a register: a changed spec (or a stopped job) makes a new
/// version; an identical spec keeps version and `JobModifyIndex`, as in Nomad.
fn upsert_job(existing: Option<Job>, reg: &RegisterRequest, index: u64) -> Job {
    let status = if needs_eval(&reg.spec) {
        "pending"
    } else {
        "running"
    };
    match existing {
        Some(mut job) => {
            if job.spec != reg.spec || job.stop {
                job.history.insert(job.version, job.spec.clone());
                job.spec = reg.spec.clone();
                job.version += 1;
                job.job_modify_index = index;
                job.stable = false;
                job.status = status.into();
            }
            job.stop = false;
            job.modify_index = index;
            job.submit_time = now_ns();
            job.submission = reg.submission.clone();
            job
        }
        None => Job {
            namespace: reg.namespace.clone(),
            id: reg.id.clone(),
            spec: reg.spec.clone(),
            version: 0,
            status: status.into(),
            stop: false,
            stable: false,
            create_index: index,
            modify_index: index,
            job_modify_index: index,
            submit_time: now_ns(),
            history: BTreeMap::new(),
            submission: reg.submission.clone(),
        },
    }
}

/// A `pending` evaluation of `job`; returns its ID.
pub(crate) fn create_eval(
    st: &mut Store,
    job: &Job,
    triggered_by: &str,
    priority: u64,
    index: u64,
) -> String {
    let now = now_ns();
    let eval = Eval {
        id: new_id(),
        namespace: job.namespace.clone(),
        job_id: job.id.clone(),
        job_type: job.job_type(),
        priority,
        triggered_by: triggered_by.into(),
        job_modify_index: job.job_modify_index,
        status: "pending".into(),
        create_index: index,
        modify_index: index,
        create_time: now,
        modify_time: now,
        ..Eval::default()
    };
    let id = eval.id.clone();
    st.evals.insert(id.clone(), eval);
    id
}

fn cancel_older_deployments(st: &mut Store, ns: &str, id: &str, index: u64) {
    for d in st
        .deployments
        .values_mut()
        .filter(|d| d.namespace == ns && d.job_id == id && !d.is_terminal())
    {
        d.status = "cancelled".into();
        d.status_description = "Cancelled due to newer version of job".into();
        d.modify_index = index;
        d.modify_time = now_ns();
    }
}

/// `DELETE /v1/job/:id[?purge=true]`: the job stops (its allocations with it); `purge`
/// removes it once stopped.
fn deregister(agent: &Arc<Agent>, req: &RecordedRequest, id: &str) -> Reply {
    let ns = namespace(req);
    let purge = req.query_value("purge") == Some("true");
    let (index, eval_id, jmi) = agent.jobs.apply(|st| -> Result<_, Response> {
        let mut job = st.job(&ns, id).cloned().ok_or_else(|| not_found("job"))?;
        let index = st.bump();
        job.stop = true;
        job.status = "dead".into();
        job.modify_index = index;
        job.job_modify_index = index;
        let eval_id = create_eval(st, &job, "job-deregister", job.priority(), index);
        cancel_older_deployments(st, &ns, id, index);
        sched::cancel_blocked(st, &ns, id, index);
        let jmi = job.job_modify_index;
        st.jobs.insert((ns.clone(), id.to_string()), job);
        Ok((index, eval_id, jmi))
    })?;
    sched::start_deregister(Arc::clone(agent), eval_id.clone(), purge);
    let body = json!({"EvalID": eval_id, "EvalCreateIndex": index, "JobModifyIndex": jmi,
        "VolumeEvalID": "", "VolumeEvalIndex": 0, "Index": index, "LastContact": 0,
        "KnownLeader": false, "NextToken": ""});
    Ok(Response::json(&body).with_header("X-Nomad-Index", index.to_string()))
}

/// `PUT /v1/jobs/parse`: `{"JobHCL": ..., "Variables": ...}` to the API job, through
/// `hcl2json` (Nomad's HCL2 parser, offline).
fn parse_hcl(req: &RecordedRequest) -> Reply {
    let body = parse_body(req)?;
    let Some(hcl) = body.get("JobHCL").and_then(Value::as_str) else {
        return Err(Response::text(400, "Job spec is empty"));
    };
    let vars = body
        .get("Variables")
        .and_then(Value::as_str)
        .map(parse_variables)
        .unwrap_or_default();
    let options = hcl2json::nomad::Options {
        vars,
        ..hcl2json::nomad::Options::default()
    };
    let job = options
        .convert(hcl, None)
        .map_err(|e| Response::text(400, e.to_string()))?;
    Ok(Response::json(job.get("Job").unwrap_or(&job)))
}

/// `name = "value"` lines of a `Variables` text, as `--var` pairs (strings unquoted).
fn parse_variables(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            (k.trim().to_string(), v.to_string())
        })
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

// ---- plan ------------------------------------------------------------------------------

fn plan(agent: &Agent, req: &RecordedRequest, path_id: &str) -> Reply {
    let body = parse_body(req)?;
    let job = body
        .get("Job")
        .filter(|j| j.is_object())
        .ok_or_else(|| Response::text(400, "Job must be specified"))?;
    let id = job
        .get("ID")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Response::text(400, "Job must have a valid ID"))?;
    if id != path_id {
        return Err(Response::text(400, "Job ID does not match"));
    }
    validate_job(job)?;
    let ns = resolve_namespace(req, &body, job);
    let mut spec = job.clone();
    spec["Namespace"] = json!(ns);
    let want_diff = body.get("Diff").and_then(Value::as_bool).unwrap_or(false);
    let region = agent
        .config
        .nomad
        .as_ref()
        .map(|n| n.region.clone())
        .unwrap_or_default();
    let nodes = sched::ready_nodes(agent, &region);
    let failed = sched::plan_failures(&spec, &nodes);
    let st = agent.jobs.lock();
    let existing = st.job(&ns, id).filter(|j| !j.stop);
    let mut response = crate::plan::plan_response(
        existing.map(|j| (&j.spec, j.job_modify_index)),
        &spec,
        want_diff,
        false,
    );
    if let Some(failed) = failed {
        response["FailedTGAllocs"] = failed;
    }
    let index = st.index.max(1);
    Ok(Response::json(&response).with_header("X-Nomad-Index", index.to_string()))
}

// ---- evaluations, deployments, allocations ----------------------------------------------

fn list_evals(agent: &Agent, req: &RecordedRequest) -> Reply {
    blocking(agent, req, |st| {
        let mut evals: Vec<&Eval> = st.evals.values().collect();
        evals.sort_by_key(|e| e.create_index);
        let index = st.max_index(evals.iter().map(|e| e.modify_index));
        Ok((
            index,
            json!(evals.iter().map(|e| e.render_stub()).collect::<Vec<_>>()),
        ))
    })
}

fn eval_read(agent: &Agent, req: &RecordedRequest, id: &str) -> Reply {
    let related = req.query_value("related") == Some("true");
    blocking(agent, req, |st| {
        let eval = st.evals.get(id).ok_or_else(|| not_found("eval"))?;
        let mut body = eval.render();
        if related {
            let stubs: Vec<Value> = related_evals(st, eval)
                .iter()
                .map(|e| e.render_stub())
                .collect();
            if !stubs.is_empty() {
                body["RelatedEvals"] = json!(stubs);
            }
        }
        Ok((eval.modify_index, body))
    })
}

/// Evaluations reachable from `eval` through `NextEval`, `PreviousEval`, `BlockedEval`.
fn related_evals<'a>(st: &'a Store, eval: &'a Eval) -> Vec<&'a Eval> {
    let mut seen = BTreeSet::from([eval.id.as_str()]);
    let mut todo = vec![eval];
    let mut out = Vec::new();
    while let Some(e) = todo.pop() {
        for link in [&e.next_eval, &e.previous_eval, &e.blocked_eval] {
            if let Some(other) = st.evals.get(link.as_str()) {
                if seen.insert(other.id.as_str()) {
                    out.push(other);
                    todo.push(other);
                }
            }
        }
    }
    out.sort_by_key(|e| e.create_index);
    out
}

fn list_deployments(agent: &Agent, req: &RecordedRequest) -> Reply {
    blocking(agent, req, |st| {
        let mut deps: Vec<_> = st.deployments.values().collect();
        deps.sort_by_key(|d| std::cmp::Reverse(d.create_index));
        let index = st.max_index(deps.iter().map(|d| d.modify_index));
        Ok((
            index,
            json!(deps.iter().map(|d| d.render()).collect::<Vec<_>>()),
        ))
    })
}

fn deployment_read(agent: &Agent, req: &RecordedRequest, id: &str) -> Reply {
    blocking(agent, req, |st| {
        let d = st
            .deployments
            .get(id)
            .ok_or_else(|| not_found("deployment"))?;
        Ok((d.modify_index, d.render()))
    })
}

/// The agent doubles place no canaries, so there is never anything to promote.
fn promote(agent: &Agent, id: &str) -> Reply {
    let st = agent.jobs.lock();
    let d = st
        .deployments
        .get(id)
        .ok_or_else(|| not_found("deployment"))?;
    if d.is_terminal() {
        return Err(Response::text(500, "can't promote terminal deployment"));
    }
    Err(Response::text(500, "no canaries to promote"))
}

/// Allocations matching `keep`, oldest first: list stubs, or (`full`) full allocations
/// with their job, as `GET /v1/node/:id/allocations` returns them.
fn allocs_where(
    agent: &Agent,
    req: &RecordedRequest,
    keep: impl Fn(&crate::store::Alloc) -> bool,
    full: bool,
) -> Reply {
    blocking(agent, req, |st| {
        let mut allocs: Vec<_> = st.allocs.values().filter(|a| keep(a)).collect();
        allocs.sort_by_key(|a| a.create_index);
        let index = st.max_index(allocs.iter().map(|a| a.modify_index));
        let list: Vec<Value> = allocs
            .iter()
            .map(|a| {
                if full {
                    a.render_full(
                        st.job(&a.namespace, &a.job_id)
                            .map_or(Value::Null, Job::render),
                    )
                } else {
                    a.render_stub()
                }
            })
            .collect();
        Ok((index, json!(list)))
    })
}

fn alloc_read(agent: &Agent, req: &RecordedRequest, id: &str) -> Reply {
    blocking(agent, req, |st| {
        let a = st.allocs.get(id).ok_or_else(|| not_found("alloc"))?;
        let job = st
            .job(&a.namespace, &a.job_id)
            .map_or(Value::Null, Job::render);
        Ok((a.modify_index, a.render_full(job)))
    })
}
