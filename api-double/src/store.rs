//! The double's state: jobs, evaluations, deployments and allocations, with a Raft-like
//! index that grows on every change, rendered to Nomad's JSON shapes on read.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::util::{now_ns, rfc3339, ZERO_TIME};

/// A stored job: the spec as received (namespace rewritten) plus server fields.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub namespace: String,
    pub id: String,
    pub spec: Value,
    pub version: u64,
    pub status: String,
    pub stop: bool,
    pub stable: bool,
    pub create_index: u64,
    pub modify_index: u64,
    pub job_modify_index: u64,
    pub submit_time: i64,
    /// Specs of earlier versions, by version.
    pub history: BTreeMap<u64, Value>,
    /// The `Submission` of the last register, as received.
    pub submission: Option<Value>,
}

impl Job {
    /// Job type, `service` by default.
    pub fn job_type(&self) -> String {
        job_type(&self.spec)
    }

    /// Priority, 50 by default.
    pub fn priority(&self) -> u64 {
        self.spec
            .get("Priority")
            .and_then(Value::as_u64)
            .unwrap_or(50)
    }

    /// Full API job JSON with server-side fields filled in.
    pub fn render(&self) -> Value {
        let mut job = canonical_job(&self.spec, &self.namespace, &self.id);
        let obj = job.as_object_mut().expect("canonical job is an object");
        obj.insert("Version".into(), json!(self.version));
        obj.insert("Status".into(), json!(self.status));
        obj.insert("StatusDescription".into(), json!(""));
        obj.insert("Stop".into(), json!(self.stop));
        obj.insert("Stable".into(), json!(self.stable));
        obj.insert("SubmitTime".into(), json!(self.submit_time));
        obj.insert("CreateIndex".into(), json!(self.create_index));
        obj.insert("ModifyIndex".into(), json!(self.modify_index));
        obj.insert("JobModifyIndex".into(), json!(self.job_modify_index));
        job
    }
}

/// Job type of a spec (`service` by default).
pub(crate) fn job_type(spec: &Value) -> String {
    spec.get("Type")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .unwrap_or("service")
        .to_string()
}

/// Task groups of a spec as `(name, count, group)`; `Name` defaults to `group`, `Count`
/// to 1.
pub(crate) fn task_groups(spec: &Value) -> Vec<(String, u64, &Value)> {
    spec.get("TaskGroups")
        .and_then(Value::as_array)
        .map(|tgs| {
            tgs.iter()
                .map(|tg| {
                    let name = tg.get("Name").and_then(Value::as_str).unwrap_or("group");
                    let count = tg.get("Count").and_then(Value::as_u64).unwrap_or(1);
                    (name.to_string(), count, tg)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Task groups of a spec as `(name, count, canaries)`; `Count` defaults to 1.
pub(crate) fn groups(spec: &Value) -> Vec<(String, u64, u64)> {
    let job_canary = canary_of(spec.get("Update"));
    task_groups(spec)
        .into_iter()
        .map(|(name, count, tg)| {
            let canary = canary_of(tg.get("Update")).or(job_canary).unwrap_or(0);
            (name, count, canary)
        })
        .collect()
}

fn canary_of(update: Option<&Value>) -> Option<u64> {
    update
        .and_then(|u| u.get("Canary"))
        .and_then(Value::as_u64)
        .filter(|c| *c > 0)
}

/// Task names of group `group` in a spec.
pub(crate) fn task_names(spec: &Value, group: &str) -> Vec<String> {
    let tasks = spec
        .get("TaskGroups")
        .and_then(Value::as_array)
        .and_then(|tgs| {
            tgs.iter()
                .find(|tg| tg.get("Name").and_then(Value::as_str) == Some(group))
        })
        .and_then(|tg| tg.get("Tasks"))
        .and_then(Value::as_array);
    let names: Vec<String> = tasks
        .map(|ts| {
            ts.iter()
                .filter_map(|t| t.get("Name").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if names.is_empty() {
        vec!["task".to_string()]
    } else {
        names
    }
}

/// The spec with the defaults a server fills in at the top level (and `Count` in groups).
pub(crate) fn canonical_job(spec: &Value, namespace: &str, id: &str) -> Value {
    let mut obj = spec.as_object().cloned().unwrap_or_default();
    let defaults: [(&str, Value); 20] = [
        ("Region", json!("global")),
        ("ParentID", json!("")),
        ("Name", json!(id)),
        ("Type", json!("service")),
        ("Priority", json!(50)),
        ("AllAtOnce", json!(false)),
        ("Datacenters", json!(["*"])),
        ("NodePool", json!("default")),
        ("Constraints", Value::Null),
        ("Affinities", Value::Null),
        ("Spreads", Value::Null),
        ("TaskGroups", json!([])),
        ("Update", default_update()),
        ("Multiregion", Value::Null),
        ("Periodic", Value::Null),
        ("ParameterizedJob", Value::Null),
        ("Dispatched", json!(false)),
        ("Payload", Value::Null),
        ("Meta", Value::Null),
        ("ConsulNamespace", json!("")),
    ];
    for (k, v) in defaults {
        let missing = obj.get(k).is_none_or(|cur| cur.is_null() && !v.is_null());
        if missing {
            obj.insert(k.to_string(), v);
        }
    }
    obj.insert("ID".into(), json!(id));
    obj.insert("Namespace".into(), json!(namespace));
    if let Some(Value::Array(tgs)) = obj.get_mut("TaskGroups") {
        for tg in tgs.iter_mut().filter_map(Value::as_object_mut) {
            tg.entry("Count").or_insert(json!(1));
        }
    }
    Value::Object(obj)
}

fn default_update() -> Value {
    json!({
        "Stagger": 30_000_000_000u64, "MaxParallel": 1, "HealthCheck": "",
        "MinHealthyTime": 0, "HealthyDeadline": 0, "ProgressDeadline": 0,
        "AutoRevert": false, "AutoPromote": false, "Canary": 0
    })
}

/// An evaluation.
#[derive(Debug, Clone, Default)]
pub(crate) struct Eval {
    pub id: String,
    pub namespace: String,
    pub job_id: String,
    pub job_type: String,
    pub priority: u64,
    pub triggered_by: String,
    pub job_modify_index: u64,
    pub status: String,
    pub status_description: String,
    pub deployment_id: String,
    pub next_eval: String,
    pub previous_eval: String,
    pub blocked_eval: String,
    pub wait_ns: u64,
    pub failed_tg_allocs: Option<Value>,
    pub queued: BTreeMap<String, u64>,
    pub class_eligibility: Option<Value>,
    pub snapshot_index: u64,
    pub create_index: u64,
    pub modify_index: u64,
    pub create_time: i64,
    pub modify_time: i64,
}

impl Eval {
    /// Full evaluation JSON; zero-valued fields are left out, as a current server does.
    pub fn render(&self) -> Value {
        let v = json!({
            "ID": self.id, "Namespace": self.namespace, "Priority": self.priority,
            "Type": self.job_type, "TriggeredBy": self.triggered_by, "JobID": self.job_id,
            "JobModifyIndex": self.job_modify_index, "Status": self.status,
            "StatusDescription": self.status_description, "DeploymentID": self.deployment_id,
            "Wait": self.wait_ns, "NextEval": self.next_eval, "PreviousEval": self.previous_eval,
            "BlockedEval": self.blocked_eval, "FailedTGAllocs": self.failed_tg_allocs,
            "ClassEligibility": self.class_eligibility,
            "QueuedAllocations": if self.queued.is_empty() { Value::Null } else { json!(self.queued) },
            "SnapshotIndex": self.snapshot_index, "CreateIndex": self.create_index,
            "ModifyIndex": self.modify_index, "CreateTime": self.create_time,
            "ModifyTime": self.modify_time,
        });
        omit_empty(v)
    }

    /// Evaluation stub (as in `RelatedEvals`): all fields kept.
    pub fn render_stub(&self) -> Value {
        json!({
            "ID": self.id, "Namespace": self.namespace, "Priority": self.priority,
            "Type": self.job_type, "TriggeredBy": self.triggered_by, "JobID": self.job_id,
            "NodeID": "", "DeploymentID": self.deployment_id, "Status": self.status,
            "StatusDescription": self.status_description, "WaitUntil": Value::Null,
            "NextEval": self.next_eval, "PreviousEval": self.previous_eval,
            "BlockedEval": self.blocked_eval, "CreateIndex": self.create_index,
            "ModifyIndex": self.modify_index, "CreateTime": self.create_time,
            "ModifyTime": self.modify_time,
        })
    }
}

/// Removes zero-valued top-level fields (Go's omit-empty codec tag).
pub(crate) fn omit_empty(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !is_empty_value(v))
                .collect::<Map<String, Value>>(),
        ),
        other => other,
    }
}

fn is_empty_value(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// Per-group deployment state.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeployGroup {
    pub auto_revert: bool,
    pub auto_promote: bool,
    pub promoted: bool,
    pub desired_canaries: u64,
    pub desired_total: u64,
    pub placed_allocs: u64,
    pub healthy_allocs: u64,
    pub unhealthy_allocs: u64,
    pub placed_canaries: Vec<String>,
    pub progress_deadline_ns: u64,
    pub require_progress_by: i64,
}

impl DeployGroup {
    fn render(&self) -> Value {
        json!({
            "AutoPromote": self.auto_promote, "AutoRevert": self.auto_revert,
            "DesiredCanaries": self.desired_canaries, "DesiredTotal": self.desired_total,
            "HealthyAllocs": self.healthy_allocs, "PlacedAllocs": self.placed_allocs,
            "PlacedCanaries": if self.placed_canaries.is_empty() { Value::Null } else { json!(self.placed_canaries) },
            "ProgressDeadline": self.progress_deadline_ns, "Promoted": self.promoted,
            "RequireProgressBy": rfc3339(self.require_progress_by),
            "UnhealthyAllocs": self.unhealthy_allocs,
        })
    }
}

/// A deployment.
#[derive(Debug, Clone, Default)]
pub(crate) struct Deployment {
    pub id: String,
    pub namespace: String,
    pub job_id: String,
    pub job_version: u64,
    pub job_modify_index: u64,
    pub job_create_index: u64,
    pub eval_priority: u64,
    pub status: String,
    pub status_description: String,
    pub groups: BTreeMap<String, DeployGroup>,
    pub create_index: u64,
    pub modify_index: u64,
    pub create_time: i64,
    pub modify_time: i64,
}

impl Deployment {
    /// Deployment JSON; every field kept.
    pub fn render(&self) -> Value {
        let groups: Map<String, Value> = self
            .groups
            .iter()
            .map(|(k, g)| (k.clone(), g.render()))
            .collect();
        json!({
            "ID": self.id, "Namespace": self.namespace, "JobID": self.job_id,
            "JobVersion": self.job_version, "JobModifyIndex": self.job_modify_index,
            "JobSpecModifyIndex": self.job_modify_index, "JobCreateIndex": self.job_create_index,
            "IsMultiregion": false, "EvalPriority": self.eval_priority,
            "TaskGroups": groups, "Status": self.status,
            "StatusDescription": self.status_description, "CreateIndex": self.create_index,
            "ModifyIndex": self.modify_index, "CreateTime": self.create_time,
            "ModifyTime": self.modify_time,
        })
    }

    /// Whether the deployment has ended.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self.status.as_str(),
            "successful" | "failed" | "cancelled" | "blocked"
        )
    }
}

/// One task event.
#[derive(Debug, Clone, Default)]
pub(crate) struct TaskEvent {
    pub kind: String,
    pub time: i64,
    pub message: String,
    pub display_message: String,
    pub fails_task: bool,
    pub exit_code: i64,
    pub driver_message: String,
    pub restart_reason: String,
}

impl TaskEvent {
    /// An event of `kind` now, with its human text.
    pub fn new(kind: &str, display: &str) -> Self {
        Self {
            kind: kind.to_string(),
            time: now_ns(),
            display_message: display.to_string(),
            ..Self::default()
        }
    }

    fn render(&self) -> Value {
        json!({
            "Type": self.kind, "Time": self.time, "FailsTask": self.fails_task,
            "RestartReason": self.restart_reason, "SetupError": "", "DriverError": "",
            "ExitCode": self.exit_code, "Signal": 0, "Message": self.message,
            "KillTimeout": 0, "KillError": "", "KillReason": "", "StartDelay": 0,
            "DownloadError": "", "ValidationError": "", "DiskLimit": 0, "FailedSibling": "",
            "VaultError": "", "TaskSignalReason": "", "TaskSignal": "",
            "DriverMessage": self.driver_message, "DisplayMessage": self.display_message,
            "Details": {},
        })
    }
}

/// One task's state inside an allocation.
#[derive(Debug, Clone, Default)]
pub(crate) struct TaskState {
    pub state: String,
    pub failed: bool,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub events: Vec<TaskEvent>,
}

impl TaskState {
    fn render(&self) -> Value {
        let time = |t: Option<i64>| t.map_or_else(|| ZERO_TIME.to_string(), rfc3339);
        json!({
            "State": self.state, "Failed": self.failed,
            "StartedAt": time(self.started_at), "FinishedAt": time(self.finished_at),
            "Events": self.events.iter().map(TaskEvent::render).collect::<Vec<_>>(),
        })
    }
}

/// An allocation.
#[derive(Debug, Clone, Default)]
pub(crate) struct Alloc {
    pub id: String,
    pub namespace: String,
    pub eval_id: String,
    pub name: String,
    pub node_id: String,
    pub node_name: String,
    pub job_id: String,
    pub job_type: String,
    pub job_version: u64,
    pub task_group: String,
    pub desired_status: String,
    pub client_status: String,
    pub client_description: String,
    pub tasks: BTreeMap<String, TaskState>,
    pub deployment_id: String,
    pub healthy: Option<bool>,
    pub canary: bool,
    pub create_index: u64,
    pub modify_index: u64,
    pub create_time: i64,
    pub modify_time: i64,
}

impl Alloc {
    fn task_states(&self) -> Value {
        let states: Map<String, Value> = self
            .tasks
            .iter()
            .map(|(k, t)| (k.clone(), t.render()))
            .collect();
        Value::Object(states)
    }

    fn deployment_status(&self) -> Value {
        if self.deployment_id.is_empty() {
            return Value::Null;
        }
        json!({
            "Healthy": self.healthy, "Timestamp": rfc3339(self.modify_time),
            "Canary": self.canary, "ModifyIndex": self.modify_index,
        })
    }

    /// Allocation list stub; every field kept.
    pub fn render_stub(&self) -> Value {
        json!({
            "ID": self.id, "EvalID": self.eval_id, "Name": self.name,
            "Namespace": self.namespace, "NodeID": self.node_id, "NodeName": self.node_name,
            "JobID": self.job_id, "JobType": self.job_type, "JobVersion": self.job_version,
            "TaskGroup": self.task_group, "DesiredStatus": self.desired_status,
            "DesiredDescription": "", "ClientStatus": self.client_status,
            "ClientDescription": self.client_description, "TaskStates": self.task_states(),
            "DeploymentStatus": self.deployment_status(), "FollowupEvalID": "",
            "PreviousAllocation": "", "NextAllocation": "", "RescheduleTracker": Value::Null,
            "PreemptedAllocations": Value::Null, "PreemptedByAllocation": "",
            "CreateIndex": self.create_index, "ModifyIndex": self.modify_index,
            "CreateTime": self.create_time, "ModifyTime": self.modify_time,
        })
    }

    /// Full allocation (`GET /v1/allocation/:id`), zero-valued top-level fields left out.
    pub fn render_full(&self, job: Value) -> Value {
        omit_empty(json!({
            "ID": self.id, "Namespace": self.namespace, "EvalID": self.eval_id,
            "Name": self.name, "NodeID": self.node_id, "NodeName": self.node_name,
            "JobID": self.job_id, "Job": job, "TaskGroup": self.task_group,
            "DesiredStatus": self.desired_status, "ClientStatus": self.client_status,
            "ClientDescription": self.client_description, "TaskStates": self.task_states(),
            "DeploymentID": self.deployment_id, "DeploymentStatus": self.deployment_status(),
            "CreateIndex": self.create_index, "ModifyIndex": self.modify_index,
            "AllocModifyIndex": self.create_index, "CreateTime": self.create_time,
            "ModifyTime": self.modify_time,
        }))
    }
}

/// The whole state.
#[derive(Debug, Default)]
pub(crate) struct Store {
    /// Last Raft-like index; every change takes the next one.
    pub index: u64,
    /// Jobs by `(namespace, id)`.
    pub jobs: BTreeMap<(String, String), Job>,
    /// Evaluations by ID.
    pub evals: BTreeMap<String, Eval>,
    /// Deployments by ID.
    pub deployments: BTreeMap<String, Deployment>,
    /// Allocations by ID.
    pub allocs: BTreeMap<String, Alloc>,
    /// Servers joined through `/v1/agent/join`.
    pub joined: Vec<crate::scenario::JoinTarget>,
    /// Set when the double shuts down, so blocked queries return.
    pub shutdown: bool,
}

impl Store {
    /// Takes the next index.
    pub fn bump(&mut self) -> u64 {
        self.index += 1;
        self.index
    }

    /// The job `(namespace, id)`.
    pub fn job(&self, namespace: &str, id: &str) -> Option<&Job> {
        self.jobs.get(&(namespace.to_string(), id.to_string()))
    }

    /// Evaluations of a job.
    pub fn job_evals(&self, namespace: &str, id: &str) -> Vec<&Eval> {
        self.evals
            .values()
            .filter(|e| e.namespace == namespace && e.job_id == id)
            .collect()
    }

    /// Deployments of a job, oldest first.
    pub fn job_deployments(&self, namespace: &str, id: &str) -> Vec<&Deployment> {
        let mut v: Vec<&Deployment> = self
            .deployments
            .values()
            .filter(|d| d.namespace == namespace && d.job_id == id)
            .collect();
        v.sort_by_key(|d| d.create_index);
        v
    }

    /// Allocations of a job.
    pub fn job_allocs(&self, namespace: &str, id: &str) -> Vec<&Alloc> {
        self.allocs
            .values()
            .filter(|a| a.namespace == namespace && a.job_id == id)
            .collect()
    }

    /// Largest `ModifyIndex` of some objects, or the store index when there are none.
    pub fn max_index(&self, indexes: impl Iterator<Item = u64>) -> u64 {
        indexes.max().unwrap_or(self.index).max(1)
    }
}
