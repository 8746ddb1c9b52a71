//! The Nomad job API pieces both servers answer alike: the scenario double
//! (`crate::routes`) and the agent doubles' leaders (`crate::agent::jobs`). Blocking
//! reads, the read routes (jobs, summaries, evaluations, deployments, allocations),
//! register/plan request parsing and validation, evaluation creation and the write
//! responses live here; each server supplies its store through [`JobSource`] and keeps
//! only what it does differently (life cycles or scheduling, forwarding).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Condvar, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::http::{RecordedRequest, Response};
use crate::store::{groups, Alloc, Eval, Job, Store};
use crate::util::{new_id, now_ns, parse_go_duration};

/// Longest blocking query (Nomad's `MaxBlockingRPCQueryTime`), also the default wait.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(300);

/// A handler's answer: `Err` carries the error response.
pub(crate) type Reply = Result<Response, Response>;

/// Where a server keeps its jobs: the store, the condition blocked queries wait on, and
/// when a blocked query gives up early.
pub(crate) trait JobSource {
    /// Locks the store (a poisoned lock is recovered).
    fn lock(&self) -> MutexGuard<'_, Store>;

    /// The condition notified on every store change.
    fn cond(&self) -> &Condvar;

    /// Whether blocked queries should return now although the store is not shut down.
    fn stopping(&self) -> bool {
        false
    }

    /// How long a blocked query sleeps at most before it re-checks [`Self::stopping`].
    fn wake(&self) -> Duration {
        MAX_WAIT
    }
}

/// `Ok` when the request's method is one of `allowed`, else a 405.
pub(crate) fn verbs(req: &RecordedRequest, allowed: &[&str]) -> Result<(), Response> {
    if allowed.contains(&req.method.as_str()) {
        Ok(())
    } else {
        Err(Response::text(405, "Invalid method"))
    }
}

/// `?namespace=`, `default` when absent or empty.
pub(crate) fn namespace(req: &RecordedRequest) -> String {
    req.query_value("namespace")
        .filter(|n| !n.is_empty())
        .unwrap_or("default")
        .to_string()
}

/// Nomad's `404 <what> not found`.
pub(crate) fn not_found(what: &str) -> Response {
    Response::text(404, format!("{what} not found"))
}

/// The plain 404 of an unknown path.
pub(crate) fn no_route() -> Response {
    Response::text(404, "404 page not found\n")
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

/// Runs a read as a Nomad blocking query: `read` gives `(index, body)` or an error; the
/// answer comes when the index passes `?index=`, when `wait` runs out, or when the store
/// shuts down or the source is [stopping](JobSource::stopping).
pub(crate) fn blocking<S: JobSource + ?Sized>(
    src: &S,
    req: &RecordedRequest,
    read: impl Fn(&Store) -> Result<(u64, Value), Response>,
) -> Reply {
    let (min_index, wait) = blocking_params(req)?;
    let deadline = Instant::now() + wait;
    let mut store = src.lock();
    loop {
        let (index, body) = read(&store)?;
        let now = Instant::now();
        let done = min_index == 0 || index > min_index || now >= deadline;
        if done || store.shutdown || src.stopping() {
            return Ok(Response::json(&body)
                .with_header("X-Nomad-Index", index.to_string())
                .with_header("X-Nomad-LastContact", "0")
                .with_header("X-Nomad-KnownLeader", "true"));
        }
        store = src
            .cond()
            .wait_timeout(store, (deadline - now).min(src.wake()))
            .map(|(g, _)| g)
            .unwrap_or_else(|e| e.into_inner().0);
    }
}

// ---- job reads -------------------------------------------------------------------------

/// `GET /v1/job/:id`.
pub(crate) fn read_job<S: JobSource + ?Sized>(src: &S, req: &RecordedRequest, id: &str) -> Reply {
    let ns = namespace(req);
    blocking(src, req, |st| {
        let job = st.job(&ns, id).ok_or_else(|| not_found("job"))?;
        Ok((job.modify_index, job.render()))
    })
}

/// `GET /v1/jobs[?prefix=][&namespace=*]`: job stubs.
pub(crate) fn list_jobs<S: JobSource + ?Sized>(src: &S, req: &RecordedRequest) -> Reply {
    let ns = namespace(req);
    let all = ns == "*";
    let prefix = req.query_value("prefix").unwrap_or_default().to_string();
    blocking(src, req, |st| {
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

/// A job's list stub, with its summary.
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

/// `GET /v1/job/:id/summary`.
pub(crate) fn summary<S: JobSource + ?Sized>(src: &S, req: &RecordedRequest, id: &str) -> Reply {
    let ns = namespace(req);
    blocking(src, req, |st| {
        let job = st.job(&ns, id).ok_or_else(|| not_found("job"))?;
        let s = job_summary(st, job);
        Ok((s["ModifyIndex"].as_u64().unwrap_or(1), s))
    })
}

/// A job's summary: allocations per group and client status, and the queued counts of
/// its newest evaluation.
fn job_summary(st: &Store, job: &Job) -> Value {
    let allocs = st.job_allocs(&job.namespace, &job.id);
    let queued: BTreeMap<String, u64> = st
        .job_evals(&job.namespace, &job.id)
        .iter()
        .max_by_key(|e| e.create_index)
        .map(|e| e.queued.clone())
        .unwrap_or_default();
    let mut summary = serde_json::Map::new();
    for (group, _, _) in groups(&job.spec) {
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

/// `GET /v1/job/:id/<sub>` for `summary`, `evaluations`, `deployments`, `deployment` and
/// `allocations`; any other `sub` is a 404.
pub(crate) fn job_sub<S: JobSource + ?Sized>(
    src: &S,
    req: &RecordedRequest,
    id: &str,
    sub: &str,
) -> Reply {
    let ns = namespace(req);
    match sub {
        "summary" => summary(src, req, id),
        "evaluations" => blocking(src, req, |st| {
            let mut evals = st.job_evals(&ns, id);
            evals.sort_by_key(|e| std::cmp::Reverse(e.create_index));
            let index = st.max_index(evals.iter().map(|e| e.modify_index));
            Ok((
                index,
                json!(evals.iter().map(|e| e.render()).collect::<Vec<_>>()),
            ))
        }),
        "deployments" => blocking(src, req, |st| {
            let deps = st.job_deployments(&ns, id);
            let index = st.max_index(deps.iter().map(|d| d.modify_index));
            Ok((
                index,
                json!(deps.iter().rev().map(|d| d.render()).collect::<Vec<_>>()),
            ))
        }),
        "deployment" => blocking(src, req, |st| {
            let deps = st.job_deployments(&ns, id);
            let index = st.max_index(deps.iter().map(|d| d.modify_index));
            Ok((index, deps.last().map_or(Value::Null, |d| d.render())))
        }),
        "allocations" => blocking(src, req, |st| {
            let allocs = st.job_allocs(&ns, id);
            let index = st.max_index(allocs.iter().map(|a| a.modify_index));
            Ok((
                index,
                json!(allocs.iter().map(|a| a.render_stub()).collect::<Vec<_>>()),
            ))
        }),
        _ => Err(no_route()),
    }
}

// ---- evaluations, deployments, allocations ----------------------------------------------

/// `GET /v1/evaluation/:id[?related=true]`.
pub(crate) fn eval_read<S: JobSource + ?Sized>(src: &S, req: &RecordedRequest, id: &str) -> Reply {
    let related = req.query_value("related") == Some("true");
    blocking(src, req, |st| {
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

/// `GET /v1/deployment/:id`.
pub(crate) fn deployment_read<S: JobSource + ?Sized>(
    src: &S,
    req: &RecordedRequest,
    id: &str,
) -> Reply {
    blocking(src, req, |st| {
        let d = st
            .deployments
            .get(id)
            .ok_or_else(|| not_found("deployment"))?;
        Ok((d.modify_index, d.render()))
    })
}

/// How [`allocs_where`] lists allocations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AllocList {
    /// List stubs in ID order.
    Stubs,
    /// List stubs, oldest first.
    OldestStubs,
    /// Full allocations with their job, oldest first (`GET /v1/node/:id/allocations`).
    OldestFull,
}

/// Allocations matching `keep`, listed as `how` says.
pub(crate) fn allocs_where<S: JobSource + ?Sized>(
    src: &S,
    req: &RecordedRequest,
    keep: impl Fn(&Alloc) -> bool,
    how: AllocList,
) -> Reply {
    blocking(src, req, |st| {
        let mut allocs: Vec<_> = st.allocs.values().filter(|a| keep(a)).collect();
        if how != AllocList::Stubs {
            allocs.sort_by_key(|a| a.create_index);
        }
        let index = st.max_index(allocs.iter().map(|a| a.modify_index));
        let list: Vec<Value> = allocs
            .iter()
            .map(|a| {
                if how == AllocList::OldestFull {
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

/// `GET /v1/allocation/:id`: the full allocation with its job.
pub(crate) fn alloc_read<S: JobSource + ?Sized>(src: &S, req: &RecordedRequest, id: &str) -> Reply {
    blocking(src, req, |st| {
        let a = st.allocs.get(id).ok_or_else(|| not_found("alloc"))?;
        let job = st
            .job(&a.namespace, &a.job_id)
            .map_or(Value::Null, Job::render);
        Ok((a.modify_index, a.render_full(job)))
    })
}

// ---- register, plan, deregister --------------------------------------------------------

/// The request body as JSON; an empty body or bad JSON is a 400.
pub(crate) fn parse_body(req: &RecordedRequest) -> Result<Value, Response> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Err(Response::text(400, "Request body is empty"));
    }
    serde_json::from_slice(&req.body).map_err(|e| Response::text(400, e.to_string()))
}

/// What a register request asks for, validated.
pub(crate) struct RegisterRequest {
    /// The job's ID.
    pub id: String,
    /// The resolved namespace (see [`resolve_namespace`]).
    pub namespace: String,
    /// The job as sent, with `Namespace` set to the resolved one.
    pub spec: Value,
    /// `Some(JobModifyIndex)` when `EnforceIndex` is set.
    pub enforce: Option<u64>,
    /// The `Submission` (source) sent along, if any.
    pub submission: Option<Value>,
    /// `EvalPriority` when set (1 to 100).
    pub eval_priority: Option<u64>,
}

/// The body's `Job` object and its non-empty `ID` (else a 400 saying `no_id`).
fn job_of<'a>(body: &'a Value, no_id: &str) -> Result<(&'a Value, &'a str), Response> {
    let job = body
        .get("Job")
        .filter(|j| j.is_object())
        .ok_or_else(|| Response::text(400, "Job must be specified"))?;
    let id = job
        .get("ID")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| Response::text(400, no_id))?;
    Ok((job, id))
}

/// Parses and validates `PUT /v1/jobs` or `PUT /v1/job/:id` (`path_id`).
pub(crate) fn parse_register(
    req: &RecordedRequest,
    path_id: Option<&str>,
) -> Result<RegisterRequest, Response> {
    let body = parse_body(req)?;
    let (job, id) = job_of(&body, "Job ID hasn't been provided")?;
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

/// The check-index rule of a register with `EnforceIndex` (`expected`).
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

/// The status a registered job gets: `pending` until its evaluation runs, `running` for
/// jobs without one (see [`needs_eval`]).
pub(crate) fn register_status(spec: &Value) -> &'static str {
    if needs_eval(spec) {
        "pending"
    } else {
        "running"
    }
}

/// Makes `job` run `reg`'s spec as a new version (the old spec goes to its history),
/// unless the spec is the same and the job is not stopped. Returns whether it did.
pub(crate) fn new_version(job: &mut Job, reg: &RegisterRequest, index: u64) -> bool {
    let changed = job.spec != reg.spec || job.stop;
    if changed {
        job.history.insert(job.version, job.spec.clone());
        job.spec = reg.spec.clone();
        job.version += 1;
        job.job_modify_index = index;
        job.stable = false;
    }
    job.stop = false;
    job.modify_index = index;
    job.submit_time = now_ns();
    job.submission = reg.submission.clone();
    changed
}

/// A job registered for the first time at `index`, at `version` with `history`.
pub(crate) fn fresh_job(
    reg: &RegisterRequest,
    index: u64,
    version: u64,
    history: BTreeMap<u64, Value>,
) -> Job {
    Job {
        namespace: reg.namespace.clone(),
        id: reg.id.clone(),
        spec: reg.spec.clone(),
        version,
        status: register_status(&reg.spec).into(),
        stop: false,
        stable: false,
        create_index: index,
        modify_index: index,
        job_modify_index: index,
        submit_time: now_ns(),
        history,
        submission: reg.submission.clone(),
    }
}

/// A register's change to the store: checks the index (`EnforceIndex`), bumps it,
/// writes the job `upsert` makes of the stored one (if any) at the new index, with a
/// `job-register` evaluation when the job needs one. `after` runs before the job is
/// written, told whether the job is new or changed (see [`new_version`]). Returns
/// `(index, eval ID, JobModifyIndex)`.
pub(crate) fn register_job(
    st: &mut Store,
    reg: &RegisterRequest,
    upsert: impl FnOnce(Option<Job>, u64) -> Job,
    after: impl FnOnce(&mut Store, bool, u64),
) -> Result<(u64, Option<String>, u64), Response> {
    let existing = st.job(&reg.namespace, &reg.id).cloned();
    if let Some(expected) = reg.enforce {
        check_index(existing.as_ref(), expected)?;
    }
    let index = st.bump();
    let changed = existing
        .as_ref()
        .is_none_or(|j| j.spec != reg.spec || j.stop);
    let job = upsert(existing, index);
    let jmi = job.job_modify_index;
    let eval_id = needs_eval(&reg.spec).then(|| {
        let priority = reg.eval_priority.unwrap_or(job.priority());
        create_eval(st, &job, "job-register", priority, index)
    });
    after(st, changed, index);
    st.jobs.insert((reg.namespace.clone(), reg.id.clone()), job);
    Ok((index, eval_id, jmi))
}

/// The answer to a register at `index`: its evaluation (if any) and `JobModifyIndex`.
pub(crate) fn register_reply(index: u64, eval_id: Option<&str>, job_modify_index: u64) -> Reply {
    let body = json!({
        "EvalID": eval_id.unwrap_or_default(),
        "EvalCreateIndex": if eval_id.is_some() { index } else { 0 },
        "JobModifyIndex": job_modify_index, "Warnings": "", "Index": index,
        "LastContact": 0, "KnownLeader": false, "NextToken": "",
    });
    Ok(Response::json(&body).with_header("X-Nomad-Index", index.to_string()))
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

/// Cancels the job's deployments that are still running (a newer version replaces them).
pub(crate) fn cancel_older_deployments(st: &mut Store, ns: &str, id: &str, index: u64) {
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

/// A deregister's change: marks job `id` of `ns` stopped and dead at a new index, with a
/// `job-deregister` evaluation, and cancels its running deployments. `also` runs on the
/// store before the job is written back. Returns `(index, eval ID, JobModifyIndex)`.
pub(crate) fn stop_job(
    st: &mut Store,
    ns: &str,
    id: &str,
    also: impl FnOnce(&mut Store, &str, u64),
) -> Result<(u64, String, u64), Response> {
    let mut job = st.job(ns, id).cloned().ok_or_else(|| not_found("job"))?;
    let index = st.bump();
    job.stop = true;
    job.status = "dead".into();
    job.modify_index = index;
    job.job_modify_index = index;
    let eval_id = create_eval(st, &job, "job-deregister", job.priority(), index);
    cancel_older_deployments(st, ns, id, index);
    also(st, &eval_id, index);
    let jmi = job.job_modify_index;
    st.jobs.insert((ns.to_string(), id.to_string()), job);
    Ok((index, eval_id, jmi))
}

/// The answer to a deregister at `index`.
pub(crate) fn deregister_reply(index: u64, eval_id: &str, job_modify_index: u64) -> Reply {
    let body = json!({"EvalID": eval_id, "EvalCreateIndex": index,
        "JobModifyIndex": job_modify_index, "VolumeEvalID": "", "VolumeEvalIndex": 0,
        "Index": index, "LastContact": 0, "KnownLeader": false, "NextToken": ""});
    Ok(Response::json(&body).with_header("X-Nomad-Index", index.to_string()))
}

/// What a plan request asks for, validated.
pub(crate) struct PlanRequest {
    /// The job's ID (the path's).
    pub id: String,
    /// The resolved namespace.
    pub namespace: String,
    /// The job as sent, with `Namespace` set to the resolved one.
    pub spec: Value,
    /// Whether the response carries a diff.
    pub want_diff: bool,
}

/// Parses and validates `PUT /v1/job/:id/plan` (`path_id`).
pub(crate) fn parse_plan(req: &RecordedRequest, path_id: &str) -> Result<PlanRequest, Response> {
    let body = parse_body(req)?;
    let (job, id) = job_of(&body, "Job must have a valid ID")?;
    if id != path_id {
        return Err(Response::text(400, "Job ID does not match"));
    }
    validate_job(job)?;
    let namespace = resolve_namespace(req, &body, job);
    let mut spec = job.clone();
    spec["Namespace"] = json!(namespace);
    Ok(PlanRequest {
        id: id.to_string(),
        namespace,
        spec,
        want_diff: body.get("Diff").and_then(Value::as_bool).unwrap_or(false),
    })
}

/// The plan of `plan` against the store (see `crate::plan::plan_response`);
/// `placement_failure` makes every group fail to place; `failed` replaces
/// `FailedTGAllocs` when given.
pub(crate) fn plan_reply(
    st: &Store,
    plan: &PlanRequest,
    placement_failure: bool,
    failed: Option<Value>,
) -> Reply {
    let existing = st.job(&plan.namespace, &plan.id).filter(|j| !j.stop);
    let mut response = crate::plan::plan_response(
        existing.map(|j| (&j.spec, j.job_modify_index)),
        &plan.spec,
        plan.want_diff,
        placement_failure,
    );
    if let Some(failed) = failed {
        response["FailedTGAllocs"] = failed;
    }
    let index = st.index.max(1);
    Ok(Response::json(&response).with_header("X-Nomad-Index", index.to_string()))
}
