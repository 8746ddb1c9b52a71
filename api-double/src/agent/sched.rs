//! The scheduler of the agent doubles' Nomad leader: places each task group's `Count`
//! allocations on the region's ready client nodes that are in the job's datacenters and
//! meet its constraints, then plays the allocations' and deployment's life.
//!
//! * **Nodes**: the clients of the region that registered (as `/v1/nodes` lists them),
//!   alive, by name; each has its datacenter, node class and metadata from its config.
//! * **Feasibility**: `Datacenters` (with `*` globs), then every job, group and task
//!   constraint. Operands `=`/`==`/`is`, `!=`/`not`, `is_set`, `is_not_set`,
//!   `set_contains`, `distinct_hosts`; targets `${node.class}`, `${node.datacenter}`,
//!   `${node.unique.name}`, `${node.unique.id}`, `${node.region}`, `${node.pool}`,
//!   `${meta.<k>}`, `${node.meta.<k>}`, `${attr.kernel.name}` (`linux`) and literals.
//!   Any other operand filters every node (a placement failure that names it).
//! * **Spread**: each allocation goes to the datacenter, then the node, with the fewest
//!   allocations of its group (ties by node name): stable round robin. A node where a
//!   live allocation already holds one of the group's static ports is exhausted
//!   (`network: reserved port collision`), as in Nomad.
//! * **Versions**: a register that changed the job made a new version; every live
//!   allocation of an older version stops and the new version's are placed, with a new
//!   deployment (`running`, then `successful` after [`HEALTHY_AFTER`]). An identical
//!   re-submission places nothing new and points its evaluation at the existing
//!   deployment.
//! * **Failures**: a group that cannot be (fully) placed gets `FailedTGAllocs` metrics
//!   and the evaluation a `blocked` follow-up (`BlockedEval`), as in Nomad. When the
//!   region's set of ready nodes changes, the leader runs its blocked evaluations again
//!   (see the `replica` module); a new register or deregister of the job cancels them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use serde_json::{json, Map, Value};

use super::pool::{PoolKind, Status};
use super::Agent;
use crate::store::{Alloc, DeployGroup, Deployment, Eval, Job, Store, TaskEvent, TaskState};
use crate::util::{new_id, now_ns, strings};

/// Time between the scheduler's steps (eval pending → placed → running).
pub const STEP: Duration = Duration::from_millis(100);
/// How long new allocations run before they count as healthy.
pub const HEALTHY_AFTER: Duration = Duration::from_secs(1);
const PROGRESS_DEADLINE_NS: u64 = 600_000_000_000;
const RUNNING: &str = "Deployment is running";
const SUCCESSFUL: &str = "Deployment completed successfully";

/// A ready client node of the region.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub id: String,
    pub name: String,
    pub datacenter: String,
    pub class: String,
    pub region: String,
    pub meta: BTreeMap<String, String>,
}

/// The region's alive client nodes, by name.
pub(crate) fn ready_nodes(agent: &Agent, region: &str) -> Vec<Node> {
    agent
        .members(PoolKind::Nomad)
        .into_iter()
        .filter(|(m, s)| {
            *s == Status::Alive && m.tag("role") == "node" && m.tag("region") == region
        })
        .map(|(m, _)| Node {
            id: m.tag("id").to_string(),
            datacenter: m.tag("dc").to_string(),
            class: m.tag("node_class").to_string(),
            region: m.tag("region").to_string(),
            meta: m
                .tags
                .iter()
                .filter_map(|(k, v)| k.strip_prefix("meta.").map(|k| (k.to_string(), v.clone())))
                .collect(),
            name: m.name,
        })
        .collect()
}

// ---- feasibility -------------------------------------------------------------------------

/// One constraint of a job, group or task.
#[derive(Debug, Clone)]
struct Constraint {
    left: String,
    operand: String,
    right: String,
}

impl Constraint {
    fn from_json(v: &Value) -> Self {
        let s = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        Self {
            left: s("LTarget"),
            operand: s("Operand"),
            right: s("RTarget"),
        }
    }

    /// As Nomad prints it in `ConstraintFiltered`.
    fn text(&self) -> String {
        format!("{} {} {}", self.left, self.operand, self.right)
    }

    /// Whether `node` meets it (`distinct_hosts` is checked at placement); `Err` for an
    /// operand the double does not model.
    fn check(&self, node: &Node) -> Result<bool, String> {
        let left = resolve(&self.left, node);
        let right = resolve(&self.right, node);
        match self.operand.as_str() {
            "=" | "==" | "is" => Ok(left.is_some() && left == right),
            "!=" | "not" => Ok(left != right),
            "is_set" => Ok(left.is_some_and(|l| !l.is_empty())),
            "is_not_set" => Ok(left.is_none_or(|l| l.is_empty())),
            "set_contains" => Ok(left.is_some_and(|l| {
                let have: Vec<&str> = l.split(',').map(str::trim).collect();
                right
                    .unwrap_or_default()
                    .split(',')
                    .map(str::trim)
                    .all(|want| have.contains(&want))
            })),
            "distinct_hosts" => Ok(true),
            other => Err(format!(
                "{} (operand {other:?} is not supported by the agent double)",
                self.text()
            )),
        }
    }

    fn distinct_hosts(&self) -> bool {
        self.operand == "distinct_hosts" && !matches!(self.right.as_str(), "false" | "0")
    }
}

/// The value of a constraint target on `node`: an interpolation or a literal.
fn resolve(target: &str, node: &Node) -> Option<String> {
    let Some(inner) = target.strip_prefix("${").and_then(|t| t.strip_suffix('}')) else {
        return Some(target.to_string());
    };
    let meta = inner
        .strip_prefix("node.meta.")
        .or_else(|| inner.strip_prefix("meta."));
    if let Some(key) = meta {
        return node.meta.get(key).cloned();
    }
    match inner {
        "node.class" => Some(node.class.clone()),
        "node.datacenter" => Some(node.datacenter.clone()),
        "node.unique.name" => Some(node.name.clone()),
        "node.unique.id" => Some(node.id.clone()),
        "node.region" => Some(node.region.clone()),
        "node.pool" => Some("default".to_string()),
        "attr.kernel.name" => Some("linux".to_string()),
        _ => None,
    }
}

/// `*`-glob match (as Nomad matches `Datacenters`).
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|i| tail.is_char_boundary(*i))
                .any(|i| glob(rest, &tail[i..]))
        }
    }
}

fn constraints(v: Option<&Value>) -> Vec<Constraint> {
    v.and_then(Value::as_array)
        .map(|l| l.iter().map(Constraint::from_json).collect())
        .unwrap_or_default()
}

/// Every constraint that applies to group `tg` of `spec`.
fn group_constraints(spec: &Value, tg: &Value) -> Vec<Constraint> {
    let mut all = constraints(spec.get("Constraints"));
    all.extend(constraints(tg.get("Constraints")));
    for task in tg
        .get("Tasks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        all.extend(constraints(task.get("Constraints")));
    }
    all
}

/// Which nodes a group may use, and what was filtered (for `FailedTGAllocs`).
#[derive(Debug, Default)]
struct Feasible {
    eligible: Vec<Node>,
    distinct_hosts: bool,
    /// The group's static ports (group and task networks).
    ports: BTreeSet<u64>,
    in_pool: u64,
    evaluated: u64,
    available: BTreeMap<String, u64>,
    constraint_filtered: BTreeMap<String, u64>,
    class_filtered: BTreeMap<String, u64>,
}

impl Feasible {
    /// What exhausts a feasible node: its static ports, or `distinct_hosts`.
    fn dimension(&self) -> &'static str {
        if self.ports.is_empty() {
            "distinct_hosts"
        } else {
            "network: reserved port collision"
        }
    }

    /// The `AllocMetric` of `missing` allocations that could not be placed.
    fn metric(&self, missing: u64, exhausted: u64) -> Value {
        let filtered: u64 = self.constraint_filtered.values().sum();
        let map_or_null = |m: &BTreeMap<String, u64>| {
            if m.is_empty() {
                Value::Null
            } else {
                json!(m)
            }
        };
        json!({
            "NodesEvaluated": self.evaluated,
            "NodesFiltered": filtered,
            "NodesInPool": self.in_pool,
            "NodePool": "default",
            "NodesAvailable": self.available,
            "ClassFiltered": map_or_null(&self.class_filtered),
            "ConstraintFiltered": map_or_null(&self.constraint_filtered),
            "NodesExhausted": exhausted,
            "ClassExhausted": null,
            "DimensionExhausted": if exhausted > 0 { json!({self.dimension(): exhausted}) } else { Value::Null },
            "QuotaExhausted": null,
            "ResourcesExhausted": null,
            "Scores": null,
            "ScoreMetaData": null,
            "AllocationTime": 38_411,
            "CoalescedFailures": missing.saturating_sub(1),
        })
    }
}

fn datacenters(spec: &Value) -> Vec<String> {
    let list = strings(spec.get("Datacenters"));
    if list.is_empty() {
        vec!["*".to_string()]
    } else {
        list
    }
}

/// Filters `nodes` for group `tg` of `spec`.
fn feasible(spec: &Value, tg: &Value, nodes: &[Node]) -> Feasible {
    let dcs = datacenters(spec);
    let cons = group_constraints(spec, tg);
    let mut f = Feasible {
        in_pool: nodes.len() as u64,
        distinct_hosts: cons.iter().any(Constraint::distinct_hosts),
        ports: static_ports(tg),
        ..Feasible::default()
    };
    for dc in dcs.iter().filter(|d| !d.contains('*')) {
        f.available.insert(dc.clone(), 0);
    }
    for node in nodes {
        if !dcs.iter().any(|d| glob(d, &node.datacenter)) {
            continue;
        }
        f.evaluated += 1;
        *f.available.entry(node.datacenter.clone()).or_insert(0) += 1;
        let failing = cons.iter().find_map(|c| match c.check(node) {
            Ok(true) => None,
            Ok(false) => Some(c.text()),
            Err(unsupported) => Some(unsupported),
        });
        match failing {
            None => f.eligible.push(node.clone()),
            Some(text) => {
                *f.constraint_filtered.entry(text).or_insert(0) += 1;
                *f.class_filtered.entry(node.class.clone()).or_insert(0) += 1;
            }
        }
    }
    f.class_filtered.remove("");
    f
}

/// Static ports a group reserves (group networks and task resources' networks).
fn static_ports(tg: &Value) -> BTreeSet<u64> {
    let task_networks = tg["Tasks"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| t["Resources"]["Networks"].as_array().into_iter().flatten());
    tg["Networks"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(task_networks)
        .flat_map(|n| n["ReservedPorts"].as_array().into_iter().flatten())
        .filter_map(|p| p["Value"].as_u64())
        .filter(|p| *p > 0)
        .collect()
}

/// Static ports held on each node by live allocations (of any job).
fn busy_ports(st: &Store) -> BTreeMap<String, BTreeSet<u64>> {
    let mut busy: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for a in st.allocs.values().filter(|a| live(a)) {
        let Some(job) = st.job(&a.namespace, &a.job_id) else {
            continue;
        };
        let spec = if job.version == a.job_version {
            &job.spec
        } else {
            job.history.get(&a.job_version).unwrap_or(&job.spec)
        };
        let group = task_groups(spec)
            .into_iter()
            .find(|(name, _, _)| *name == a.task_group);
        if let Some((_, _, tg)) = group {
            busy.entry(a.node_id.clone())
                .or_default()
                .extend(static_ports(&tg));
        }
    }
    busy
}

/// [`crate::store::task_groups`], each group owned.
fn task_groups(spec: &Value) -> Vec<(String, u64, Value)> {
    crate::store::task_groups(spec)
        .into_iter()
        .map(|(name, count, tg)| (name, count, tg.clone()))
        .collect()
}

/// `FailedTGAllocs` a plan would report for `spec` (ignoring existing allocations), or
/// `None` when every group fits.
pub(crate) fn plan_failures(spec: &Value, nodes: &[Node]) -> Option<Value> {
    let mut failed = Map::new();
    for (name, count, tg) in task_groups(spec) {
        let f = feasible(spec, &tg, nodes);
        let room = if f.distinct_hosts || !f.ports.is_empty() {
            f.eligible.len() as u64
        } else if f.eligible.is_empty() {
            0
        } else {
            count
        };
        if room < count {
            let missing = count - room;
            failed.insert(name, f.metric(missing, if room > 0 { missing } else { 0 }));
        }
    }
    (!failed.is_empty()).then_some(Value::Object(failed))
}

// ---- the life of one evaluation -----------------------------------------------------------

/// Plays evaluation `eval_id` (just created by a register) on a background thread.
pub(crate) fn start(agent: Arc<Agent>, eval_id: String) {
    thread::spawn(move || run(&agent, &eval_id, false));
}

/// Plays a deregister's evaluation: every allocation of the job stops; with `purge`, the
/// job is removed afterwards.
pub(crate) fn start_deregister(agent: Arc<Agent>, eval_id: String, purge: bool) {
    thread::spawn(move || run(&agent, &eval_id, purge));
}

/// Turns every blocked evaluation `pending`; returns their IDs.
pub(crate) fn unblock_all(st: &mut Store) -> Vec<String> {
    if !st.evals.values().any(|e| e.status == "blocked") {
        return Vec::new();
    }
    let index = st.bump();
    st.evals
        .values_mut()
        .filter(|e| e.status == "blocked")
        .map(|e| {
            e.status = "pending".into();
            e.modify_index = index;
            e.modify_time = now_ns();
            e.id.clone()
        })
        .collect()
}

/// Cancels the job's blocked evaluations (a newer register or deregister supersedes them).
pub(crate) fn cancel_blocked(st: &mut Store, namespace: &str, job_id: &str, index: u64) {
    for e in st
        .evals
        .values_mut()
        .filter(|e| e.namespace == namespace && e.job_id == job_id && e.status == "blocked")
    {
        e.status = "cancelled".into();
        e.status_description = "evaluation superseded by a newer evaluation of the job".into();
        e.modify_index = index;
        e.modify_time = now_ns();
    }
}

/// What one scheduling pass did.
#[derive(Debug, Default)]
struct Outcome {
    placed: Vec<String>,
    stopping: Vec<String>,
    deployment: Option<String>,
    batch: bool,
    job: (String, String),
}

fn run(agent: &Agent, eval_id: &str, purge: bool) -> Option<()> {
    agent.stop.sleep(STEP).then_some(())?;
    let region = agent.config.nomad.as_ref()?.region.clone();
    let nodes = ready_nodes(agent, &region);
    let outcome = agent.jobs.apply(|st| schedule(st, eval_id, &nodes))?;
    agent.stop.sleep(STEP).then_some(())?;
    agent.jobs.apply(|st| settle(st, &outcome));
    if purge {
        agent.jobs.apply(|st| st.jobs.remove(&outcome.job));
    }
    if let Some(dep) = &outcome.deployment {
        agent.stop.sleep(HEALTHY_AFTER).then_some(())?;
        agent.jobs.apply(|st| healthy(st, dep));
    } else if outcome.batch && !outcome.placed.is_empty() {
        agent.stop.sleep(STEP).then_some(())?;
        agent.jobs.apply(|st| batch_done(st, &outcome));
    }
    Some(())
}

fn live(a: &Alloc) -> bool {
    a.desired_status == "run" && !matches!(a.client_status.as_str(), "complete" | "failed" | "lost")
}

/// One scheduling pass for the evaluation: stops what is outdated, places what is
/// missing, creates the deployment and completes the evaluation.
fn schedule(st: &mut Store, eval_id: &str, nodes: &[Node]) -> Option<Outcome> {
    let eval = st.evals.get(eval_id)?.clone();
    let job = st.job(&eval.namespace, &eval.job_id)?.clone();
    let index = st.bump();
    let wanted: Vec<(String, u64, Value)> = if job.stop {
        Vec::new()
    } else {
        task_groups(&job.spec)
    };
    let mut out = Outcome {
        batch: matches!(job.job_type().as_str(), "batch" | "sysbatch"),
        job: (job.namespace.clone(), job.id.clone()),
        ..Outcome::default()
    };
    stop_outdated(st, &job, &wanted, index, &mut out);
    let mut failed = Map::new();
    let mut queued = BTreeMap::new();
    let mut placed_per_group = BTreeMap::new();
    for (group, count, tg) in &wanted {
        let f = feasible(&job.spec, tg, nodes);
        let placed = place_group(st, &job, eval_id, group, *count, &f, index, &mut out);
        placed_per_group.insert(group.clone(), placed.0);
        queued.insert(group.clone(), placed.1);
        if placed.1 > 0 {
            let exhausted = if f.eligible.is_empty() { 0 } else { placed.1 };
            failed.insert(group.clone(), f.metric(placed.1, exhausted));
        }
    }
    let dep_id = deployment_for(st, &job, &wanted, &placed_per_group, index, &mut out);
    complete_eval(st, &eval, dep_id, failed, queued, index);
    let any_live = st
        .job_allocs(&job.namespace, &job.id)
        .iter()
        .any(|a| live(a));
    let status = match (job.stop, any_live) {
        (true, _) => "dead",
        (false, true) => "running",
        (false, false) => "pending",
    };
    if let Some(j) = st.jobs.get_mut(&out.job) {
        j.status = status.to_string();
        j.modify_index = index;
    }
    Some(out)
}

/// Marks every live allocation of an older version, or of a group no longer wanted, as
/// stopping (`DesiredStatus: stop`).
fn stop_outdated(
    st: &mut Store,
    job: &Job,
    wanted: &[(String, u64, Value)],
    index: u64,
    out: &mut Outcome,
) {
    for a in st.allocs.values_mut() {
        let ours = a.namespace == job.namespace && a.job_id == job.id && live(a);
        let still_wanted =
            a.job_version == job.version && wanted.iter().any(|(g, _, _)| *g == a.task_group);
        if ours && !still_wanted {
            a.desired_status = "stop".into();
            a.modify_index = index;
            a.modify_time = now_ns();
            out.stopping.push(a.id.clone());
        }
    }
}

/// Places the missing allocations of one group; `(placed, not placed)`.
#[allow(clippy::too_many_arguments)]
fn place_group(
    st: &mut Store,
    job: &Job,
    eval_id: &str,
    group: &str,
    count: u64,
    f: &Feasible,
    index: u64,
    out: &mut Outcome,
) -> (u64, u64) {
    let current: Vec<Alloc> = st
        .job_allocs(&job.namespace, &job.id)
        .into_iter()
        .filter(|a| a.task_group == group && live(a) && a.job_version == job.version)
        .cloned()
        .collect();
    let extra = current
        .len()
        .saturating_sub(usize::try_from(count).unwrap_or(usize::MAX));
    for a in current.iter().rev().take(extra) {
        if let Some(a) = st.allocs.get_mut(&a.id) {
            a.desired_status = "stop".into();
            a.modify_index = index;
            out.stopping.push(a.id.clone());
        }
    }
    let mut on: Vec<(String, String)> = current
        .iter()
        .take(current.len() - extra)
        .map(|a| (a.node_id.clone(), node_dc(f, &a.node_id)))
        .collect();
    let missing = count.saturating_sub(on.len() as u64);
    let mut used: Vec<u64> = current
        .iter()
        .filter_map(|a| alloc_index(&a.name))
        .collect();
    let mut busy = busy_ports(st);
    let mut placed = 0;
    for _ in 0..missing {
        let Some(node) = pick_node(f, &on, &busy) else {
            break;
        };
        let i = (0..).find(|i| !used.contains(i)).unwrap_or(0);
        used.push(i);
        on.push((node.id.clone(), node.datacenter.clone()));
        busy.entry(node.id.clone())
            .or_default()
            .extend(f.ports.iter().copied());
        let alloc = new_alloc(job, eval_id, group, i, node, index);
        out.placed.push(alloc.id.clone());
        st.allocs.insert(alloc.id.clone(), alloc);
        placed += 1;
    }
    (placed, missing - placed)
}

fn node_dc(f: &Feasible, node_id: &str) -> String {
    f.eligible
        .iter()
        .find(|n| n.id == node_id)
        .map(|n| n.datacenter.clone())
        .unwrap_or_default()
}

/// `3` of `job.group[3]`.
fn alloc_index(name: &str) -> Option<u64> {
    name.rsplit_once('[')?.1.strip_suffix(']')?.parse().ok()
}

/// The eligible node whose datacenter, then itself, has the fewest of the group's
/// allocations (`on`: `(node, datacenter)` of each); ties by name. Nodes where `busy`
/// (static ports held per node) collides with the group's ports are skipped.
fn pick_node<'a>(
    f: &'a Feasible,
    on: &[(String, String)],
    busy: &BTreeMap<String, BTreeSet<u64>>,
) -> Option<&'a Node> {
    f.eligible
        .iter()
        .filter(|n| !f.distinct_hosts || !on.iter().any(|(id, _)| *id == n.id))
        .filter(|n| {
            busy.get(&n.id)
                .is_none_or(|held| held.is_disjoint(&f.ports))
        })
        .min_by_key(|n| {
            let in_dc = on.iter().filter(|(_, dc)| *dc == n.datacenter).count();
            let on_node = on.iter().filter(|(id, _)| *id == n.id).count();
            (in_dc, on_node, n.name.clone())
        })
}

fn new_alloc(job: &Job, eval_id: &str, group: &str, i: u64, node: &Node, index: u64) -> Alloc {
    let now = now_ns();
    let tasks = crate::store::task_names(&job.spec, group)
        .into_iter()
        .map(|t| {
            let state = TaskState {
                state: "pending".into(),
                events: vec![
                    TaskEvent::new("Received", "Task received by client"),
                    TaskEvent::new("Task Setup", "Building Task Directory"),
                ],
                ..TaskState::default()
            };
            (t, state)
        })
        .collect();
    Alloc {
        id: new_id(),
        namespace: job.namespace.clone(),
        eval_id: eval_id.to_string(),
        name: format!("{}.{group}[{i}]", job.id),
        node_id: node.id.clone(),
        node_name: node.name.clone(),
        job_id: job.id.clone(),
        job_type: job.job_type(),
        job_version: job.version,
        task_group: group.to_string(),
        desired_status: "run".into(),
        client_status: "pending".into(),
        tasks,
        create_index: index,
        modify_index: index,
        create_time: now,
        modify_time: now,
        ..Alloc::default()
    }
}

/// A new deployment when this pass placed allocations of a service job's version, else
/// the version's existing deployment (an identical re-submission); sets the new
/// allocations' `DeploymentID`.
fn deployment_for(
    st: &mut Store,
    job: &Job,
    wanted: &[(String, u64, Value)],
    placed: &BTreeMap<String, u64>,
    index: u64,
    out: &mut Outcome,
) -> Option<String> {
    let with_deployment = matches!(job.job_type().as_str(), "service" | "system");
    if !with_deployment || job.stop {
        return None;
    }
    if out.placed.is_empty() {
        return st
            .job_deployments(&job.namespace, &job.id)
            .into_iter()
            .rfind(|d| d.job_version == job.version)
            .map(|d| d.id.clone());
    }
    let now = now_ns();
    let groups = wanted
        .iter()
        .filter(|(g, _, _)| placed.get(g).copied().unwrap_or(0) > 0)
        .map(|(g, count, _)| {
            let group = DeployGroup {
                desired_total: *count,
                placed_allocs: placed.get(g).copied().unwrap_or(0),
                progress_deadline_ns: PROGRESS_DEADLINE_NS,
                require_progress_by: now + i64::try_from(PROGRESS_DEADLINE_NS).unwrap_or(0),
                ..DeployGroup::default()
            };
            (g.clone(), group)
        })
        .collect();
    let dep = Deployment {
        id: new_id(),
        namespace: job.namespace.clone(),
        job_id: job.id.clone(),
        job_version: job.version,
        job_modify_index: job.job_modify_index,
        job_create_index: job.create_index,
        eval_priority: job.priority(),
        status: "running".into(),
        status_description: RUNNING.into(),
        groups,
        create_index: index,
        modify_index: index,
        create_time: now,
        modify_time: now,
    };
    for id in &out.placed {
        if let Some(a) = st.allocs.get_mut(id) {
            a.deployment_id = dep.id.clone();
        }
    }
    let id = dep.id.clone();
    st.deployments.insert(id.clone(), dep);
    out.deployment = Some(id.clone());
    Some(id)
}

/// Completes the evaluation; with failures, adds the `blocked` follow-up evaluation.
fn complete_eval(
    st: &mut Store,
    eval: &Eval,
    dep_id: Option<String>,
    failed: Map<String, Value>,
    queued: BTreeMap<String, u64>,
    index: u64,
) {
    let now = now_ns();
    let blocked_id = (!failed.is_empty()).then(|| {
        let blocked = Eval {
            id: new_id(),
            status: "blocked".into(),
            status_description: "created to place remaining allocations".into(),
            triggered_by: "queued-allocs".into(),
            previous_eval: eval.id.clone(),
            deployment_id: String::new(),
            next_eval: String::new(),
            blocked_eval: String::new(),
            failed_tg_allocs: Some(Value::Object(failed.clone())),
            class_eligibility: Some(json!({"v1:7968290453076422024": false})),
            queued: queued.clone(),
            snapshot_index: index,
            create_index: index,
            modify_index: index,
            create_time: now,
            modify_time: now,
            ..eval.clone()
        };
        let id = blocked.id.clone();
        st.evals.insert(id.clone(), blocked);
        id
    });
    if let Some(e) = st.evals.get_mut(&eval.id) {
        e.status = "complete".into();
        e.deployment_id = dep_id.unwrap_or_default();
        e.blocked_eval = blocked_id.unwrap_or_default();
        e.failed_tg_allocs = (!failed.is_empty()).then_some(Value::Object(failed));
        e.queued = queued;
        e.snapshot_index = index;
        e.modify_index = index;
        e.modify_time = now;
    }
}

/// New allocations start running; stopping ones end `complete`.
fn settle(st: &mut Store, out: &Outcome) {
    let index = st.bump();
    let now = now_ns();
    for id in &out.placed {
        if let Some(a) = st.allocs.get_mut(id).filter(|a| a.desired_status == "run") {
            a.client_status = "running".into();
            for t in a.tasks.values_mut() {
                t.state = "running".into();
                t.started_at = Some(now);
                t.events.push(TaskEvent::new("Driver", "Downloading image"));
                t.events
                    .push(TaskEvent::new("Started", "Task started by client"));
            }
            a.modify_index = index;
            a.modify_time = now;
        }
    }
    for id in &out.stopping {
        if let Some(a) = st.allocs.get_mut(id) {
            a.client_status = "complete".into();
            for t in a.tasks.values_mut() {
                t.state = "dead".into();
                t.finished_at = Some(now);
                t.events.push(TaskEvent::new(
                    "Killing",
                    "Sent interrupt. Waiting 5s before force killing",
                ));
                t.events
                    .push(TaskEvent::new("Killed", "Task successfully killed"));
            }
            a.modify_index = index;
            a.modify_time = now;
        }
    }
}

/// The deployment's running allocations turn healthy and it ends `successful` (unless
/// it was cancelled meanwhile); the job version becomes stable.
fn healthy(st: &mut Store, dep_id: &str) {
    let index = st.bump();
    let now = now_ns();
    let Some(mut dep) = st
        .deployments
        .get(dep_id)
        .cloned()
        .filter(|d| d.status == "running")
    else {
        return;
    };
    for a in st.allocs.values_mut().filter(|a| a.deployment_id == dep_id) {
        if a.client_status == "running" && a.desired_status == "run" {
            a.healthy = Some(true);
            a.modify_index = index;
            a.modify_time = now;
            if let Some(g) = dep.groups.get_mut(&a.task_group) {
                g.healthy_allocs += 1;
            }
        }
    }
    dep.status = "successful".into();
    dep.status_description = SUCCESSFUL.into();
    dep.modify_index = index;
    dep.modify_time = now;
    if let Some(j) = st
        .jobs
        .get_mut(&(dep.namespace.clone(), dep.job_id.clone()))
    {
        if j.version == dep.job_version {
            j.stable = true;
            j.modify_index = index;
        }
    }
    st.deployments.insert(dep_id.to_string(), dep);
}

/// Batch allocations finish; the job is dead.
fn batch_done(st: &mut Store, out: &Outcome) {
    let index = st.bump();
    let now = now_ns();
    for id in &out.placed {
        if let Some(a) = st
            .allocs
            .get_mut(id)
            .filter(|a| a.client_status == "running")
        {
            a.client_status = "complete".into();
            for t in a.tasks.values_mut() {
                t.state = "dead".into();
                t.finished_at = Some(now);
                t.events.push(TaskEvent::new("Terminated", "Exit Code: 0"));
            }
            a.modify_index = index;
            a.modify_time = now;
        }
    }
    if let Some(j) = st.jobs.get_mut(&out.job) {
        j.status = "dead".into();
        j.modify_index = index;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, dc: &str, class: &str) -> Node {
        Node {
            id: format!("id-{name}"),
            name: name.into(),
            datacenter: dc.into(),
            class: class.into(),
            region: "europe".into(),
            meta: BTreeMap::from([("rack".to_string(), "r1".to_string())]),
        }
    }

    #[test]
    fn globs() {
        assert!(glob("*", "france"));
        assert!(glob("gce-*", "gce-west1"));
        assert!(glob("*-west*", "gce-west1"));
        assert!(!glob("gce-*", "france"));
        assert!(glob("france", "france"));
    }

    #[test]
    fn constraints_filter_nodes() {
        let nodes = [
            node("a", "gce-west1", ""),
            node("b", "france", "data"),
            node("c", "france", ""),
        ];
        let spec = json!({"Datacenters": ["gce-west1", "france"]});
        let tg = json!({"Constraints": [
            {"LTarget": "${node.class}", "RTarget": "data", "Operand": "="},
            {"LTarget": "${node.datacenter}", "RTarget": "france", "Operand": "="},
            {"LTarget": "${meta.rack}", "RTarget": "", "Operand": "is_set"},
        ]});
        let f = feasible(&spec, &tg, &nodes);
        assert_eq!(f.eligible.len(), 1);
        assert_eq!(f.eligible[0].name, "b");
        assert_eq!(f.evaluated, 3);
        assert_eq!(f.constraint_filtered.get("${node.class} = data"), Some(&2));

        let odd = json!({"Constraints": [{"LTarget": "${attr.x}", "RTarget": "1", "Operand": "version"}]});
        let f = feasible(&spec, &odd, &nodes);
        assert!(f.eligible.is_empty());
        assert!(f
            .constraint_filtered
            .keys()
            .all(|k| k.contains("not supported")));
    }

    #[test]
    fn spreads_over_datacenters_then_nodes() {
        let f = Feasible {
            eligible: vec![node("a", "x", ""), node("b", "x", ""), node("c", "y", "")],
            ..Feasible::default()
        };
        let mut on = Vec::new();
        let mut names = Vec::new();
        for _ in 0..4 {
            let n = pick_node(&f, &on, &BTreeMap::new()).unwrap();
            names.push(n.name.clone());
            on.push((n.id.clone(), n.datacenter.clone()));
        }
        assert_eq!(names, ["a", "c", "b", "c"]);
        let f = Feasible {
            ports: BTreeSet::from([80]),
            ..f
        };
        let busy = BTreeMap::from([("id-a".to_string(), BTreeSet::from([80, 443]))]);
        assert_eq!(pick_node(&f, &[], &busy).unwrap().name, "b");
        let all = ["id-a", "id-b", "id-c"].map(|n| (n.to_string(), BTreeSet::from([80])));
        assert!(pick_node(&f, &[], &BTreeMap::from(all)).is_none());
        assert_eq!(
            f.metric(2, 2)["DimensionExhausted"]["network: reserved port collision"],
            2
        );
        assert_eq!(alloc_index("web.webs[12]"), Some(12));
    }
}
