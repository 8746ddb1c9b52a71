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

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{json, Value};

use super::forward::{self, FORWARDED};
use super::nomad::{alive_servers, regions};
use super::pool::PoolKind;
use super::{sched, Agent, NomadRole};
use crate::http::{RecordedRequest, Response};
use crate::job_api::{
    self, blocking, cancel_older_deployments, namespace, not_found, parse_body, parse_register,
    verbs, AllocList, JobSource, RegisterRequest, Reply,
};
use crate::store::{Eval, Job, Store};

/// How often a blocked query re-checks the stop switch.
const WAKE: Duration = Duration::from_millis(500);

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
    let src: &Agent = agent;
    let get = || verbs(req, &["GET"]);
    match segs {
        ["v1", "jobs", "parse"] => verbs(req, &["PUT", "POST"]).and_then(|()| parse_hcl(req)),
        ["v1", "jobs"] => match req.method.as_str() {
            "PUT" | "POST" => register(agent, req, None),
            "GET" => job_api::list_jobs(src, req),
            _ => Err(Response::text(405, "Invalid method")),
        },
        ["v1", "job", id] => match req.method.as_str() {
            "PUT" | "POST" => register(agent, req, Some(id)),
            "GET" => job_api::read_job(src, req, id),
            "DELETE" => deregister(agent, req, id),
            _ => Err(Response::text(405, "Invalid method")),
        },
        ["v1", "job", id, "plan"] => {
            verbs(req, &["PUT", "POST"]).and_then(|()| plan(agent, req, id))
        }
        ["v1", "job", id, sub] => get().and_then(|()| job_sub(agent, req, id, sub)),
        ["v1", "evaluations"] => get().and_then(|()| list_evals(agent, req)),
        ["v1", "evaluation", id] => get().and_then(|()| job_api::eval_read(src, req, id)),
        ["v1", "evaluation", id, "allocations"] => {
            get().and_then(|()| job_api::allocs_where(src, req, |a| a.eval_id == *id, OLDEST))
        }
        ["v1", "deployments"] => get().and_then(|()| list_deployments(agent, req)),
        ["v1", "deployment", "allocations", id] => {
            get().and_then(|()| job_api::allocs_where(src, req, |a| a.deployment_id == *id, OLDEST))
        }
        ["v1", "deployment", "promote", id] => {
            verbs(req, &["PUT", "POST"]).and_then(|()| promote(agent, id))
        }
        ["v1", "deployment", id] => get().and_then(|()| job_api::deployment_read(src, req, id)),
        ["v1", "allocations"] => get().and_then(|()| {
            let prefix = req.query_value("prefix").unwrap_or_default().to_string();
            job_api::allocs_where(src, req, move |a| a.id.starts_with(&prefix), OLDEST)
        }),
        ["v1", "allocation", id] => get().and_then(|()| job_api::alloc_read(src, req, id)),
        ["v1", "node", id, "allocations"] => get().and_then(|()| {
            job_api::allocs_where(src, req, |a| a.node_id == *id, AllocList::OldestFull)
        }),
        _ => Err(job_api::no_route()),
    }
}

/// Allocation lists, oldest first.
const OLDEST: AllocList = AllocList::OldestStubs;

/// Blocked queries on the agent also return when it stops, checking every [`WAKE`].
impl JobSource for Agent {
    fn lock(&self) -> MutexGuard<'_, Store> {
        self.jobs.lock()
    }

    fn cond(&self) -> &Condvar {
        &self.jobs.cond
    }

    fn stopping(&self) -> bool {
        self.stop.stopping()
    }

    fn wake(&self) -> Duration {
        WAKE
    }
}

// ---- job reads -------------------------------------------------------------------------

/// `GET /v1/job/:id/<sub>`: the shared ones, and `versions`.
fn job_sub(agent: &Agent, req: &RecordedRequest, id: &str, sub: &str) -> Reply {
    if sub != "versions" {
        return job_api::job_sub(agent, req, id, sub);
    }
    let ns = namespace(req);
    blocking(agent, req, |st| {
        let job = st.job(&ns, id).ok_or_else(|| not_found("job"))?;
        Ok((job.modify_index, versions(job)))
    })
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

fn register(agent: &Arc<Agent>, req: &RecordedRequest, path_id: Option<&str>) -> Reply {
    let reg = parse_register(req, path_id)?;
    let (ns, id) = (&reg.namespace, &reg.id);
    let outcome = agent.jobs.apply(|st| {
        job_api::register_job(
            st,
            &reg,
            |existing, index| upsert_job(existing, &reg, index),
            |st, changed, index| {
                if changed {
                    cancel_older_deployments(st, ns, id, index);
                }
                sched::cancel_blocked(st, ns, id, index);
            },
        )
    });
    let (index, eval_id, job_modify_index) = outcome?;
    if let Some(eval_id) = &eval_id {
        sched::start(Arc::clone(agent), eval_id.clone());
    }
    job_api::register_reply(index, eval_id.as_deref(), job_modify_index)
}

/// The stored job after a register: a changed spec (or a stopped job) makes a new
/// version and sets the status; an identical spec keeps version, status and
/// `JobModifyIndex`, as in Nomad.
fn upsert_job(existing: Option<Job>, reg: &RegisterRequest, index: u64) -> Job {
    match existing {
        Some(mut job) => {
            if job_api::new_version(&mut job, reg, index) {
                job.status = job_api::register_status(&reg.spec).into();
            }
            job
        }
        None => job_api::fresh_job(reg, index, 0, BTreeMap::new()),
    }
}

/// `DELETE /v1/job/:id[?purge=true]`: the job stops (its allocations with it); `purge`
/// removes it once stopped.
fn deregister(agent: &Arc<Agent>, req: &RecordedRequest, id: &str) -> Reply {
    let ns = namespace(req);
    let purge = req.query_value("purge") == Some("true");
    let (index, eval_id, jmi) = agent.jobs.apply(|st| {
        job_api::stop_job(st, &ns, id, |st, _, index| {
            sched::cancel_blocked(st, &ns, id, index);
        })
    })?;
    sched::start_deregister(Arc::clone(agent), eval_id.clone(), purge);
    job_api::deregister_reply(index, &eval_id, jmi)
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
    let plan = job_api::parse_plan(req, path_id)?;
    let region = agent
        .config
        .nomad
        .as_ref()
        .map(|n| n.region.clone())
        .unwrap_or_default();
    let nodes = sched::ready_nodes(agent, &region);
    let failed = sched::plan_failures(&plan.spec, &nodes);
    job_api::plan_reply(&agent.jobs.lock(), &plan, false, failed)
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
