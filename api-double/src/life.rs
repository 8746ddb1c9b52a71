//! The life cycles of [`crate::Life`], played on a background thread per registration.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use serde_json::{json, Value};

use crate::scenario::Life;
use crate::server::Shared;
use crate::store::{
    groups, task_names, Alloc, DeployGroup, Deployment, Eval, Store, TaskEvent, TaskState,
};
use crate::util::{duration_ns, new_id, now_ns};

/// Description of a running deployment.
pub(crate) const RUNNING: &str = "Deployment is running";
/// Description of a canary deployment waiting for promotion.
pub(crate) const NEEDS_PROMOTION: &str = "Deployment is running but requires manual promotion";
const SUCCESSFUL: &str = "Deployment completed successfully";
const UNHEALTHY: &str = "Failed due to unhealthy allocations";
const PROGRESS_DEADLINE_NS: u64 = 600_000_000_000;

/// Allocations to place: `n` of `group`, numbered from `first`.
struct Placement<'a> {
    eval_id: &'a str,
    dep_id: Option<&'a str>,
    group: &'a str,
    first: u64,
    n: u64,
    canary: bool,
    spec: &'a Value,
    version: u64,
}

/// One registration being played: which job, on which double.
#[derive(Clone)]
pub(crate) struct Run {
    shared: Arc<Shared>,
    namespace: String,
    job_id: String,
}

/// Starts the scenario's life cycle for the job just registered with eval `eval_id`.
pub(crate) fn start(shared: Arc<Shared>, namespace: &str, job_id: &str, eval_id: String) {
    let run = Run {
        shared,
        namespace: namespace.to_string(),
        job_id: job_id.to_string(),
    };
    let life = run.shared.scenario.life.clone();
    thread::spawn(move || {
        let _ = match life {
            Life::HappyPath => run.happy(&eval_id, false),
            Life::PlacementFailure => run.placement_failure(&eval_id),
            Life::NextEvalChain { wait } => run.next_eval_chain(&eval_id, wait),
            Life::FailedWithAutoRevert => run.failed_with_auto_revert(&eval_id),
            Life::CanaryAwaitingPromotion => run.happy(&eval_id, true),
        };
    });
}

/// Continues a canary deployment after `PUT /v1/deployment/promote/:id`.
pub(crate) fn after_promotion(shared: Arc<Shared>, deployment: &Deployment, eval_id: String) {
    let run = Run {
        shared,
        namespace: deployment.namespace.clone(),
        job_id: deployment.job_id.clone(),
    };
    let dep_id = deployment.id.clone();
    thread::spawn(move || {
        let _ = run.finish_promotion(&dep_id, &eval_id);
    });
}

impl Run {
    /// Waits one step; `None` when the double shut down meanwhile.
    fn step(&self) -> Option<()> {
        self.wait(self.shared.scenario.step)
    }

    fn wait(&self, d: Duration) -> Option<()> {
        self.shared.sleep(d).then_some(())
    }

    /// Applies a change to the store and wakes blocked queries.
    fn apply<T>(&self, f: impl FnOnce(&mut Store, &Run) -> T) -> T {
        let out = {
            let mut store = self.shared.lock();
            f(&mut store, self)
        };
        self.shared.cond.notify_all();
        out
    }

    fn happy(&self, eval_id: &str, canary: bool) -> Option<()> {
        self.step()?;
        let dep = self.apply(|st, run| run.place_initial(st, eval_id, canary, false));
        self.step()?;
        self.apply(|st, run| {
            run.complete_eval(st, eval_id, dep.as_deref());
            run.set_allocs_running(st, eval_id);
        });
        match dep {
            // Canaries become healthy, then the deployment waits for promotion.
            Some(dep) => self.become_healthy(&dep, !canary),
            None => {
                self.step()?;
                self.apply(|st, run| run.batch_done(st, eval_id));
                Some(())
            }
        }
    }

    /// One allocation per group turns healthy each step; with `finish`, the deployment
    /// is marked successful once all placed allocations are healthy.
    fn become_healthy(&self, dep_id: &str, finish: bool) -> Option<()> {
        loop {
            self.step()?;
            if self.apply(|st, run| run.advance_health(st, dep_id, finish)) {
                return Some(());
            }
        }
    }

    fn placement_failure(&self, eval_id: &str) -> Option<()> {
        self.step()?;
        self.apply(|st, run| run.fail_placement(st, eval_id));
        Some(())
    }

    fn next_eval_chain(&self, eval_id: &str, wait: Duration) -> Option<()> {
        self.step()?;
        let next = self.apply(|st, run| run.chain_next_eval(st, eval_id, wait));
        self.wait(wait)?;
        self.happy(&next, false)
    }

    fn failed_with_auto_revert(&self, eval_id: &str) -> Option<()> {
        self.step()?;
        let dep = self.apply(|st, run| run.place_initial(st, eval_id, false, true));
        self.step()?;
        self.apply(|st, run| {
            run.complete_eval(st, eval_id, dep.as_deref());
            run.set_allocs_running(st, eval_id);
        });
        self.step()?;
        let Some(dep) = dep else {
            return Some(());
        };
        self.apply(|st, run| run.deployment_failed(st, &dep, eval_id));
        self.step()?;
        let rollback_eval = self.apply(|st, run| run.roll_back(st));
        self.happy(&rollback_eval?, false)
    }

    fn finish_promotion(&self, dep_id: &str, eval_id: &str) -> Option<()> {
        self.step()?;
        self.apply(|st, run| run.place_rest(st, dep_id, eval_id));
        self.step()?;
        self.apply(|st, run| {
            run.complete_eval(st, eval_id, Some(dep_id));
            run.set_allocs_running(st, eval_id);
        });
        self.become_healthy(dep_id, true)
    }

    // ---- state changes -------------------------------------------------------------

    fn job_spec(&self, st: &Store) -> Option<(Value, u64, u64, u64)> {
        st.job(&self.namespace, &self.job_id).map(|j| {
            (
                j.spec.clone(),
                j.version,
                j.job_modify_index,
                j.create_index,
            )
        })
    }

    /// Creates the deployment (unless batch-like) and places the first allocations.
    fn place_initial(
        &self,
        st: &mut Store,
        eval_id: &str,
        canary: bool,
        auto_revert: bool,
    ) -> Option<String> {
        let (spec, version, jmi, jci) = self.job_spec(st)?;
        let job_type = crate::store::job_type(&spec);
        let with_deployment = matches!(job_type.as_str(), "service" | "system");
        let index = st.bump();
        let now = now_ns();
        let dep_id = with_deployment.then(new_id);
        let mut dep_groups = BTreeMap::new();
        for (group, count, canaries) in groups(&spec) {
            let canaries = if canary {
                canaries.max(1).min(count.max(1))
            } else {
                0
            };
            let placed = if canary { canaries } else { count };
            let placement = Placement {
                eval_id,
                dep_id: dep_id.as_deref(),
                group: &group,
                first: 0,
                n: placed,
                canary,
                spec: &spec,
                version,
            };
            let ids = self.place(st, index, &placement);
            dep_groups.insert(
                group,
                DeployGroup {
                    auto_revert,
                    desired_canaries: canaries,
                    desired_total: count,
                    placed_allocs: placed,
                    placed_canaries: if canary { ids } else { Vec::new() },
                    progress_deadline_ns: PROGRESS_DEADLINE_NS,
                    require_progress_by: now + i64::try_from(PROGRESS_DEADLINE_NS).unwrap_or(0),
                    ..DeployGroup::default()
                },
            );
        }
        let dep_id = dep_id?;
        let priority = st
            .job(&self.namespace, &self.job_id)
            .map_or(50, |j| j.priority());
        st.deployments.insert(
            dep_id.clone(),
            Deployment {
                id: dep_id.clone(),
                namespace: self.namespace.clone(),
                job_id: self.job_id.clone(),
                job_version: version,
                job_modify_index: jmi,
                job_create_index: jci,
                eval_priority: priority,
                status: "running".into(),
                status_description: if canary { NEEDS_PROMOTION } else { RUNNING }.into(),
                groups: dep_groups,
                create_index: index,
                modify_index: index,
                create_time: now,
                modify_time: now,
            },
        );
        Some(dep_id)
    }

    /// Places the allocations `p` describes; returns their IDs.
    fn place(&self, st: &mut Store, index: u64, p: &Placement<'_>) -> Vec<String> {
        let now = now_ns();
        let nodes = &self.shared.nodes;
        (p.first..p.first + p.n)
            .map(|i| {
                let id = new_id();
                let (node_id, node_name) =
                    nodes[usize::try_from(i).unwrap_or(0) % nodes.len()].clone();
                let tasks = task_names(p.spec, p.group)
                    .into_iter()
                    .map(|t| (t, pending_task()))
                    .collect();
                st.allocs.insert(
                    id.clone(),
                    Alloc {
                        id: id.clone(),
                        namespace: self.namespace.clone(),
                        eval_id: p.eval_id.to_string(),
                        name: format!("{}.{}[{i}]", self.job_id, p.group),
                        node_id,
                        node_name,
                        job_id: self.job_id.clone(),
                        job_type: crate::store::job_type(p.spec),
                        job_version: p.version,
                        task_group: p.group.to_string(),
                        desired_status: "run".into(),
                        client_status: "pending".into(),
                        tasks,
                        deployment_id: p.dep_id.unwrap_or_default().to_string(),
                        canary: p.canary,
                        create_index: index,
                        modify_index: index,
                        create_time: now,
                        modify_time: now,
                        ..Alloc::default()
                    },
                );
                id
            })
            .collect()
    }

    fn complete_eval(&self, st: &mut Store, eval_id: &str, dep_id: Option<&str>) {
        let index = st.bump();
        let groups = self.job_spec(st).map(|s| groups(&s.0)).unwrap_or_default();
        if let Some(e) = st.evals.get_mut(eval_id) {
            e.status = "complete".into();
            e.deployment_id = dep_id.unwrap_or_default().to_string();
            e.queued = groups.into_iter().map(|(g, _, _)| (g, 0)).collect();
            touch_eval(e, index);
        }
        self.set_job_status(st, "running", index);
    }

    fn set_allocs_running(&self, st: &mut Store, eval_id: &str) {
        let index = st.bump();
        for a in st.allocs.values_mut().filter(|a| a.eval_id == eval_id) {
            a.client_status = "running".into();
            for t in a.tasks.values_mut() {
                t.state = "running".into();
                t.started_at = Some(now_ns());
                t.events.push(TaskEvent::new("Driver", "Downloading image"));
                t.events
                    .push(TaskEvent::new("Started", "Task started by client"));
            }
            touch_alloc(a, index);
        }
    }

    /// Marks one more allocation healthy in each group; true when all are healthy.
    fn advance_health(&self, st: &mut Store, dep_id: &str, finish: bool) -> bool {
        let index = st.bump();
        let Some(mut dep) = st.deployments.get(dep_id).cloned() else {
            return true;
        };
        for (group, g) in dep.groups.iter_mut() {
            if g.healthy_allocs >= g.placed_allocs {
                continue;
            }
            let next = st.allocs.values_mut().find(|a| {
                a.deployment_id == dep_id && &a.task_group == group && a.healthy.is_none()
            });
            match next {
                Some(a) => {
                    a.healthy = Some(true);
                    touch_alloc(a, index);
                    g.healthy_allocs += 1;
                }
                None => g.healthy_allocs = g.placed_allocs,
            }
        }
        let all = dep
            .groups
            .values()
            .all(|g| g.healthy_allocs >= g.placed_allocs);
        if all && finish {
            dep.status = "successful".into();
            dep.status_description = SUCCESSFUL.into();
            if let Some(j) = st
                .jobs
                .get_mut(&(self.namespace.clone(), self.job_id.clone()))
            {
                j.stable = true;
                j.modify_index = index;
            }
        }
        st.deployments
            .insert(dep_id.to_string(), touched_dep(dep, index));
        all
    }

    fn batch_done(&self, st: &mut Store, eval_id: &str) {
        let index = st.bump();
        for a in st.allocs.values_mut().filter(|a| a.eval_id == eval_id) {
            a.client_status = "complete".into();
            for t in a.tasks.values_mut() {
                t.state = "dead".into();
                t.finished_at = Some(now_ns());
                let mut ev = TaskEvent::new("Terminated", "Exit Code: 0");
                ev.message = "Exit Code: 0".into();
                t.events.push(ev);
            }
            touch_alloc(a, index);
        }
        self.set_job_status(st, "dead", index);
    }

    fn set_job_status(&self, st: &mut Store, status: &str, index: u64) {
        if let Some(j) = st
            .jobs
            .get_mut(&(self.namespace.clone(), self.job_id.clone()))
        {
            if j.status != status {
                j.status = status.to_string();
                j.modify_index = index;
            }
        }
    }

    fn fail_placement(&self, st: &mut Store, eval_id: &str) {
        let index = st.bump();
        let groups = self.job_spec(st).map(|s| groups(&s.0)).unwrap_or_default();
        let failed: serde_json::Map<String, Value> = groups
            .iter()
            .map(|(g, count, _)| (g.clone(), failure_metric(*count)))
            .collect();
        let queued: BTreeMap<String, u64> =
            groups.iter().map(|(g, c, _)| (g.clone(), *c)).collect();
        let Some(parent) = st.evals.get(eval_id).cloned() else {
            return;
        };
        let blocked = Eval {
            id: new_id(),
            status: "blocked".into(),
            status_description: "created to place remaining allocations".into(),
            triggered_by: "queued-allocs".into(),
            previous_eval: parent.id.clone(),
            failed_tg_allocs: Some(Value::Object(failed.clone())),
            class_eligibility: Some(json!({"v1:7968290453076422024": false})),
            queued: queued.clone(),
            snapshot_index: index,
            create_index: index,
            create_time: now_ns(),
            ..parent.clone()
        };
        let blocked_id = blocked.id.clone();
        st.evals.insert(blocked_id.clone(), touched(blocked, index));
        if let Some(e) = st.evals.get_mut(eval_id) {
            e.status = "complete".into();
            e.failed_tg_allocs = Some(Value::Object(failed));
            e.blocked_eval = blocked_id;
            e.queued = queued;
            touch_eval(e, index);
        }
    }

    fn chain_next_eval(&self, st: &mut Store, eval_id: &str, wait: Duration) -> String {
        let index = st.bump();
        let Some(parent) = st.evals.get(eval_id).cloned() else {
            return String::new();
        };
        let next = Eval {
            id: new_id(),
            status: "pending".into(),
            triggered_by: "rolling-update".into(),
            previous_eval: parent.id.clone(),
            wait_ns: duration_ns(wait),
            create_index: index,
            create_time: now_ns(),
            ..parent.clone()
        };
        let next_id = next.id.clone();
        st.evals.insert(next_id.clone(), touched(next, index));
        if let Some(e) = st.evals.get_mut(eval_id) {
            e.status = "complete".into();
            e.next_eval = next_id.clone();
            e.wait_ns = duration_ns(wait);
            touch_eval(e, index);
        }
        next_id
    }

    fn deployment_failed(&self, st: &mut Store, dep_id: &str, eval_id: &str) {
        let index = st.bump();
        for a in st.allocs.values_mut().filter(|a| a.eval_id == eval_id) {
            fail_alloc(a, index);
        }
        let previous = st
            .deployments
            .get(dep_id)
            .map_or(0, |d| d.job_version.saturating_sub(1));
        if let Some(d) = st.deployments.get_mut(dep_id) {
            for g in d.groups.values_mut() {
                g.unhealthy_allocs = g.placed_allocs;
                g.healthy_allocs = 0;
            }
            d.status = "failed".into();
            d.status_description = format!("{UNHEALTHY} - rolling back to job version {previous}");
            touch_deployment(d, index);
        }
    }

    /// Registers the previous job version again (as a new version) with a new eval.
    fn roll_back(&self, st: &mut Store) -> Option<String> {
        let index = st.bump();
        let key = (self.namespace.clone(), self.job_id.clone());
        let job = st.jobs.get_mut(&key)?;
        let previous = job.version.checked_sub(1)?;
        let old_spec = job.history.get(&previous)?.clone();
        job.history.insert(job.version, job.spec.clone());
        job.spec = old_spec;
        job.version += 1;
        job.modify_index = index;
        job.job_modify_index = index;
        let eval = Eval {
            id: new_id(),
            namespace: self.namespace.clone(),
            job_id: self.job_id.clone(),
            job_type: job.job_type(),
            priority: job.priority(),
            triggered_by: "deployment-watcher".into(),
            job_modify_index: index,
            status: "pending".into(),
            create_index: index,
            create_time: now_ns(),
            ..Eval::default()
        };
        let id = eval.id.clone();
        st.evals.insert(id.clone(), touched(eval, index));
        Some(id)
    }

    fn place_rest(&self, st: &mut Store, dep_id: &str, eval_id: &str) {
        let Some((spec, version, _, _)) = self.job_spec(st) else {
            return;
        };
        let index = st.bump();
        let Some(dep) = st.deployments.get(dep_id).cloned() else {
            return;
        };
        let mut dep = dep;
        for (group, g) in dep.groups.iter_mut() {
            let rest = g.desired_total.saturating_sub(g.placed_allocs);
            let placement = Placement {
                eval_id,
                dep_id: Some(dep_id),
                group,
                first: g.placed_allocs,
                n: rest,
                canary: false,
                spec: &spec,
                version,
            };
            self.place(st, index, &placement);
            g.placed_allocs += rest;
        }
        dep.status_description = RUNNING.into();
        st.deployments
            .insert(dep_id.to_string(), touched_dep(dep, index));
    }
}

fn pending_task() -> TaskState {
    TaskState {
        state: "pending".into(),
        events: vec![
            TaskEvent::new("Received", "Task received by client"),
            TaskEvent::new("Task Setup", "Building Task Directory"),
        ],
        ..TaskState::default()
    }
}

fn fail_alloc(a: &mut Alloc, index: u64) {
    a.client_status = "failed".into();
    a.client_description = "Failed tasks".into();
    a.healthy = Some(false);
    for t in a.tasks.values_mut() {
        t.state = "dead".into();
        t.failed = true;
        t.finished_at = Some(now_ns());
        let mut term = TaskEvent::new(
            "Terminated",
            "Exit Code: 1, Exit Message: \"Docker container exited with non-zero exit code: 1\"",
        );
        term.exit_code = 1;
        term.message = "Docker container exited with non-zero exit code: 1".into();
        t.events.push(term);
        let mut stop = TaskEvent::new(
            "Not Restarting",
            "Exceeded allowed attempts 2 in interval 30m0s and mode is \"fail\"",
        );
        stop.fails_task = true;
        stop.restart_reason =
            "Exceeded allowed attempts 2 in interval 30m0s and mode is \"fail\"".into();
        t.events.push(stop);
    }
    touch_alloc(a, index);
}

/// A realistic allocation metric for a group that could not be placed.
pub(crate) fn failure_metric(count: u64) -> Value {
    json!({
        "NodesEvaluated": 3,
        "NodesFiltered": 1,
        "NodesInPool": 3,
        "NodePool": "default",
        "NodesAvailable": {"dc1": 3},
        "ClassFiltered": {"linux-small": 1},
        "ConstraintFiltered": {"${attr.kernel.name} = linux": 1},
        "NodesExhausted": 2,
        "ClassExhausted": {"linux-medium": 2},
        "DimensionExhausted": {"memory": 2},
        "QuotaExhausted": null,
        "ResourcesExhausted": null,
        "Scores": null,
        "ScoreMetaData": null,
        "AllocationTime": 41_213,
        "CoalescedFailures": count.saturating_sub(1),
    })
}

fn touch_eval(e: &mut Eval, index: u64) {
    e.modify_index = index;
    e.modify_time = now_ns();
    if e.snapshot_index == 0 {
        e.snapshot_index = index;
    }
}

fn touched(mut e: Eval, index: u64) -> Eval {
    touch_eval(&mut e, index);
    e
}

fn touch_alloc(a: &mut Alloc, index: u64) {
    a.modify_index = index;
    a.modify_time = now_ns();
}

fn touch_deployment(d: &mut Deployment, index: u64) {
    d.modify_index = index;
    d.modify_time = now_ns();
}

fn touched_dep(mut d: Deployment, index: u64) -> Deployment {
    touch_deployment(&mut d, index);
    d
}
