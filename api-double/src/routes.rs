//! Routing and the endpoint handlers (contract section 2).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::http::{RecordedRequest, Response};
use crate::life;
use crate::scenario::Life;
use crate::server::Shared;
use crate::store::{groups, Eval, Job, Store};
use crate::util::{new_id, now_ns, parse_go_duration};

/// Longest blocking query (Nomad's `MaxBlockingRPCQueryTime`), also the default wait.
const MAX_WAIT: Duration = Duration::from_secs(300);
/// Leader RPC address the double reports.
const LEADER: &str = "127.0.0.1:4647";

type Reply = Result<Response, Response>;

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
        ["v1", "job", id, "summary"] => summary(shared, req, id),
        ["v1", "job", id, sub] => verbs(req, &["GET"]).and_then(|()| job_sub(shared, req, id, sub)),
        ["v1", "evaluation", id] => verbs(req, &["GET"]).and_then(|()| eval_read(shared, req, id)),
        ["v1", "evaluation", id, "allocations"] => {
            verbs(req, &["GET"]).and_then(|()| eval_allocs(shared, req, id))
        }
        ["v1", "deployment", "allocations", id] => {
            verbs(req, &["GET"]).and_then(|()| deployment_allocs(shared, req, id))
        }
        ["v1", "deployment", "promote", id] => {
            verbs(req, &["PUT", "POST"]).and_then(|()| promote(shared, req, id))
        }
        ["v1", "deployment", id] => {
            verbs(req, &["GET"]).and_then(|()| deployment_read(shared, req, id))
        }
        ["v1", "allocation", id] => verbs(req, &["GET"]).and_then(|()| alloc_read(shared, req, id)),
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
        _ => Err(Response::text(404, "404 page not found\n")),
    };
    reply.unwrap_or_else(|e| e)
}

fn verbs(req: &RecordedRequest, allowed: &[&str]) -> Result<(), Response> {
    if allowed.contains(&req.method.as_str()) {
        Ok(())
    } else {
        Err(Response::text(405, "Invalid method"))
    }
}

fn region_check(shared: &Shared, req: &RecordedRequest) -> Option<Response> {
    let region = req.query_value("region").filter(|r| !r.is_empty())?;
    let known = crate::join::known_regions(shared)
        .iter()
        .any(|r| r == region);
    (!known).then(|| Response::text(500, "No path to region"))
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

/// Runs a read as a Nomad blocking query: `read` gives `(index, body)` or an error; the
/// answer comes when the index passes `?index=`, or when `wait` runs out.
fn blocking(
    shared: &Shared,
    req: &RecordedRequest,
    read: impl Fn(&Store) -> Result<(u64, Value), Response>,
) -> Reply {
    let (min_index, wait) = blocking_params(req)?;
    let deadline = Instant::now() + wait;
    let mut store = shared.lock();
    loop {
        let (index, body) = read(&store)?;
        let now = Instant::now();
        if min_index == 0 || index > min_index || now >= deadline || store.shutdown {
            return Ok(Response::json(&body)
                .with_header("X-Nomad-Index", index.to_string())
                .with_header("X-Nomad-LastContact", "0")
                .with_header("X-Nomad-KnownLeader", "true"));
        }
        store = shared
            .cond
            .wait_timeout(store, deadline - now)
            .map(|(g, _)| g)
            .unwrap_or_else(|e| e.into_inner().0);
    }
}

// ---- jobs ------------------------------------------------------------------------------

fn jobs(shared: &Arc<Shared>, req: &RecordedRequest) -> Reply {
    match req.method.as_str() {
        "PUT" | "POST" => register(shared, req, None),
        "GET" => list_jobs(shared, req),
        _ => Err(Response::text(405, "Invalid method")),
    }
}

fn job(shared: &Arc<Shared>, req: &RecordedRequest, id: &str) -> Reply {
    match req.method.as_str() {
        "PUT" | "POST" => register(shared, req, Some(id)),
        "GET" => {
            let ns = namespace(req);
            blocking(shared, req, |st| {
                let job = st.job(&ns, id).ok_or_else(|| not_found("job"))?;
                Ok((job.modify_index, job.render()))
            })
        }
        "DELETE" => deregister(shared, req, id),
        _ => Err(Response::text(405, "Invalid method")),
    }
}

fn list_jobs(shared: &Shared, req: &RecordedRequest) -> Reply {
    let ns = namespace(req);
    let all = ns == "*";
    let prefix = req.query_value("prefix").unwrap_or_default().to_string();
    blocking(shared, req, |st| {
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

fn summary(shared: &Shared, req: &RecordedRequest, id: &str) -> Reply {
    let ns = namespace(req);
    blocking(shared, req, |st| {
        let job = st.job(&ns, id).ok_or_else(|| not_found("job"))?;
        let s = job_summary(st, job);
        Ok((s["ModifyIndex"].as_u64().unwrap_or(1), s))
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

fn job_sub(shared: &Shared, req: &RecordedRequest, id: &str, sub: &str) -> Reply {
    let ns = namespace(req);
    match sub {
        "evaluations" => blocking(shared, req, |st| {
            let mut evals = st.job_evals(&ns, id);
            evals.sort_by_key(|e| std::cmp::Reverse(e.create_index));
            let index = st.max_index(evals.iter().map(|e| e.modify_index));
            Ok((
                index,
                json!(evals.iter().map(|e| e.render()).collect::<Vec<_>>()),
            ))
        }),
        "deployments" => blocking(shared, req, |st| {
            let deps = st.job_deployments(&ns, id);
            let index = st.max_index(deps.iter().map(|d| d.modify_index));
            Ok((
                index,
                json!(deps.iter().rev().map(|d| d.render()).collect::<Vec<_>>()),
            ))
        }),
        "deployment" => blocking(shared, req, |st| {
            let deps = st.job_deployments(&ns, id);
            let index = st.max_index(deps.iter().map(|d| d.modify_index));
            Ok((index, deps.last().map_or(Value::Null, |d| d.render())))
        }),
        "allocations" => blocking(shared, req, |st| {
            let allocs = st.job_allocs(&ns, id);
            let index = st.max_index(allocs.iter().map(|a| a.modify_index));
            Ok((
                index,
                json!(allocs.iter().map(|a| a.render_stub()).collect::<Vec<_>>()),
            ))
        }),
        _ => Err(Response::text(404, "404 page not found\n")),
    }
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

fn register(shared: &Arc<Shared>, req: &RecordedRequest, path_id: Option<&str>) -> Reply {
    let reg = parse_register(req, path_id)?;
    let (index, eval_id, job_modify_index) = {
        let mut st = shared.lock();
        let existing = st.job(&reg.namespace, &reg.id).cloned();
        if let Some(expected) = reg.enforce {
            check_index(existing.as_ref(), expected)?;
        }
        let index = st.bump();
        let job = upsert_job(shared, existing, &reg, index);
        let job_modify_index = job.job_modify_index;
        let eval_id = needs_eval(&reg.spec).then(|| {
            let priority = reg.eval_priority.unwrap_or(job.priority());
            create_eval(&mut st, &job, "job-register", priority, index)
        });
        cancel_older_deployments(&mut st, &reg.namespace, &reg.id, index);
        st.jobs.insert((reg.namespace.clone(), reg.id.clone()), job);
        (index, eval_id, job_modify_index)
    };
    shared.cond.notify_all();
    if let Some(eval_id) = &eval_id {
        life::start(Arc::clone(shared), &reg.namespace, &reg.id, eval_id.clone());
    }
    let body = json!({
        "EvalID": eval_id.clone().unwrap_or_default(),
        "EvalCreateIndex": if eval_id.is_some() { index } else { 0 },
        "JobModifyIndex": job_modify_index, "Warnings": "", "Index": index,
        "LastContact": 0, "KnownLeader": false, "NextToken": "",
    });
    Ok(Response::json(&body).with_header("X-Nomad-Index", index.to_string()))
}

/// Periodic and parameterized jobs get no evaluation at register time.
fn needs_eval(spec: &Value) -> bool {
    let set = |k: &str| spec.get(k).is_some_and(|v| !v.is_null());
    !set("Periodic") && !set("ParameterizedJob")
}

fn upsert_job(shared: &Shared, existing: Option<Job>, reg: &RegisterRequest, index: u64) -> Job {
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
            }
            job.stop = false;
            job.status = status.into();
            job.modify_index = index;
            job.submit_time = now_ns();
            job.submission = reg.submission.clone();
            job
        }
        None => new_job(shared, reg, index, status),
    }
}

fn new_job(shared: &Shared, reg: &RegisterRequest, index: u64, status: &str) -> Job {
    let mut history = BTreeMap::new();
    // Auto-revert and canaries need a previous version: pretend version 0 existed.
    let synthetic_v0 = matches!(
        shared.scenario.life,
        Life::FailedWithAutoRevert | Life::CanaryAwaitingPromotion
    );
    if synthetic_v0 {
        history.insert(0, reg.spec.clone());
    }
    Job {
        namespace: reg.namespace.clone(),
        id: reg.id.clone(),
        spec: reg.spec.clone(),
        version: u64::from(synthetic_v0),
        status: status.into(),
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

fn create_eval(st: &mut Store, job: &Job, triggered_by: &str, priority: u64, index: u64) -> String {
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

fn deregister(shared: &Shared, req: &RecordedRequest, id: &str) -> Reply {
    let ns = namespace(req);
    let (index, eval_id, jmi) = {
        let mut st = shared.lock();
        let mut job = st.job(&ns, id).cloned().ok_or_else(|| not_found("job"))?;
        let index = st.bump();
        job.stop = true;
        job.status = "dead".into();
        job.modify_index = index;
        job.job_modify_index = index;
        let eval_id = create_eval(&mut st, &job, "job-deregister", job.priority(), index);
        if let Some(e) = st.evals.get_mut(&eval_id) {
            e.status = "complete".into();
        }
        cancel_older_deployments(&mut st, &ns, id, index);
        let jmi = job.job_modify_index;
        st.jobs.insert((ns.clone(), id.to_string()), job);
        (index, eval_id, jmi)
    };
    shared.cond.notify_all();
    let body = json!({"EvalID": eval_id, "EvalCreateIndex": index, "JobModifyIndex": jmi,
        "VolumeEvalID": "", "VolumeEvalIndex": 0, "Index": index, "LastContact": 0,
        "KnownLeader": false, "NextToken": ""});
    Ok(Response::json(&body).with_header("X-Nomad-Index", index.to_string()))
}

// ---- plan ------------------------------------------------------------------------------

fn plan(shared: &Shared, req: &RecordedRequest, path_id: &str) -> Reply {
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
    let st = shared.lock();
    let existing = st.job(&ns, id).filter(|j| !j.stop);
    let response = crate::plan::plan_response(
        existing.map(|j| (&j.spec, j.job_modify_index)),
        &spec,
        want_diff,
        shared.scenario.life == Life::PlacementFailure,
    );
    let index = st.index.max(1);
    Ok(Response::json(&response).with_header("X-Nomad-Index", index.to_string()))
}

// ---- evaluations -----------------------------------------------------------------------

fn eval_read(shared: &Shared, req: &RecordedRequest, id: &str) -> Reply {
    let related = req.query_value("related") == Some("true");
    blocking(shared, req, |st| {
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

fn eval_allocs(shared: &Shared, req: &RecordedRequest, id: &str) -> Reply {
    blocking(shared, req, |st| {
        let allocs: Vec<_> = st.allocs.values().filter(|a| a.eval_id == id).collect();
        let index = st.max_index(allocs.iter().map(|a| a.modify_index));
        Ok((
            index,
            json!(allocs.iter().map(|a| a.render_stub()).collect::<Vec<_>>()),
        ))
    })
}

// ---- deployments -----------------------------------------------------------------------

fn deployment_read(shared: &Shared, req: &RecordedRequest, id: &str) -> Reply {
    blocking(shared, req, |st| {
        let d = st
            .deployments
            .get(id)
            .ok_or_else(|| not_found("deployment"))?;
        Ok((d.modify_index, d.render()))
    })
}

fn deployment_allocs(shared: &Shared, req: &RecordedRequest, id: &str) -> Reply {
    blocking(shared, req, |st| {
        let allocs: Vec<_> = st
            .allocs
            .values()
            .filter(|a| a.deployment_id == id)
            .collect();
        let index = st.max_index(allocs.iter().map(|a| a.modify_index));
        Ok((
            index,
            json!(allocs.iter().map(|a| a.render_stub()).collect::<Vec<_>>()),
        ))
    })
}

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
    let wanted: Vec<String> = body
        .get("Groups")
        .and_then(Value::as_array)
        .map(|g| {
            g.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
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

// ---- allocations -----------------------------------------------------------------------

fn alloc_read(shared: &Shared, req: &RecordedRequest, id: &str) -> Reply {
    blocking(shared, req, |st| {
        let a = st.allocs.get(id).ok_or_else(|| not_found("alloc"))?;
        let job = st
            .job(&a.namespace, &a.job_id)
            .map_or(Value::Null, Job::render);
        Ok((a.modify_index, a.render_full(job)))
    })
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
