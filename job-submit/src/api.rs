//! The parts of Nomad's API objects that the verdict depends on.
//!
//! Every field defaults: evaluations and allocations omit empty fields, and
//! older or newer servers add or drop some.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value as Json;

/// `JobRegisterResponse`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct RegisterResponse {
    /// The evaluation to follow; empty for periodic and parameterized jobs.
    #[serde(rename = "EvalID")]
    pub eval_id: String,
    /// The job's modify index after the registration.
    pub job_modify_index: u64,
    /// Warnings, one string (may hold several lines).
    pub warnings: String,
}

/// An evaluation.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Evaluation {
    /// Its ID.
    #[serde(rename = "ID")]
    pub id: String,
    /// `pending`, `blocked`, `complete`, `failed`, `canceled`.
    pub status: String,
    /// Free text.
    pub status_description: String,
    /// Set once the scheduler tied the evaluation to a deployment.
    #[serde(rename = "DeploymentID")]
    pub deployment_id: String,
    /// A follow-up evaluation.
    pub next_eval: String,
    /// Delay before `next_eval` runs, in nanoseconds.
    pub wait: u64,
    /// The evaluation created for what did not fit.
    pub blocked_eval: String,
    /// Per group: why allocations could not be placed.
    #[serde(rename = "FailedTGAllocs")]
    pub failed_tg_allocs: Option<BTreeMap<String, AllocMetric>>,
    /// What triggered it.
    pub triggered_by: String,
}

impl Evaluation {
    /// Whether the scheduler is done with it.
    pub fn is_terminal(&self) -> bool {
        matches!(self.status.as_str(), "complete" | "failed" | "canceled")
    }
}

/// Why allocations of a group could not be placed.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct AllocMetric {
    /// Nodes the scheduler looked at.
    pub nodes_evaluated: u64,
    /// Nodes filtered out by constraints or classes.
    pub nodes_filtered: u64,
    /// Nodes without enough resources.
    pub nodes_exhausted: u64,
    /// Nodes available per datacenter.
    pub nodes_available: Option<BTreeMap<String, u64>>,
    /// Nodes filtered per class.
    pub class_filtered: Option<BTreeMap<String, u64>>,
    /// Nodes filtered per constraint.
    pub constraint_filtered: Option<BTreeMap<String, u64>>,
    /// Nodes exhausted per class.
    pub class_exhausted: Option<BTreeMap<String, u64>>,
    /// Nodes exhausted per resource dimension.
    pub dimension_exhausted: Option<BTreeMap<String, u64>>,
    /// Quotas hit.
    pub quota_exhausted: Option<Vec<String>>,
    /// Failures beyond the first, folded into this one.
    pub coalesced_failures: u64,
}

/// A deployment.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Deployment {
    /// Its ID.
    #[serde(rename = "ID")]
    pub id: String,
    /// `running`, `paused`, `failed`, `successful`, `cancelled`, `pending`, `blocked`...
    pub status: String,
    /// Free text (`Deployment is running but requires manual promotion`...).
    pub status_description: String,
    /// Per group state.
    pub task_groups: Option<BTreeMap<String, DeploymentGroup>>,
}

impl Deployment {
    /// Whether the deployment is over.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self.status.as_str(),
            "successful" | "failed" | "cancelled" | "blocked"
        )
    }

    fn groups(&self) -> impl Iterator<Item = &DeploymentGroup> {
        self.task_groups.iter().flat_map(|g| g.values())
    }

    /// Whether the deployment waits for someone to promote its canaries:
    /// Nomad says so in its description, or a group's canaries are all
    /// healthy, unpromoted, and not promoted automatically.
    pub fn awaits_promotion(&self) -> bool {
        self.status == "running"
            && (self
                .status_description
                .contains("requires manual promotion")
                || self.groups().any(|g| {
                    g.desired_canaries > 0
                        && !g.promoted
                        && !g.auto_promote
                        && g.healthy_allocs >= g.desired_canaries
                }))
    }

    /// Whether a failure of this deployment makes Nomad roll back.
    pub fn auto_reverts(&self) -> bool {
        self.groups().any(|g| g.auto_revert)
    }
}

/// The state of one group in a deployment.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct DeploymentGroup {
    /// Allocations wanted.
    pub desired_total: u64,
    /// Allocations placed.
    pub placed_allocs: u64,
    /// Allocations healthy.
    pub healthy_allocs: u64,
    /// Allocations unhealthy.
    pub unhealthy_allocs: u64,
    /// Canaries wanted.
    pub desired_canaries: u64,
    /// Canaries placed (allocation IDs).
    pub placed_canaries: Option<Vec<String>>,
    /// Whether the canaries were promoted.
    pub promoted: bool,
    /// Whether a failure rolls back.
    pub auto_revert: bool,
    /// Whether healthy canaries are promoted without help.
    pub auto_promote: bool,
}

/// An allocation list stub.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct AllocationStub {
    /// Its ID.
    #[serde(rename = "ID")]
    pub id: String,
    /// Its group.
    pub task_group: String,
    /// The node's name.
    pub node_name: String,
    /// `pending`, `running`, `complete`, `failed`, `lost`, `unknown`.
    pub client_status: String,
    /// Deployment health, when the allocation belongs to a deployment.
    pub deployment_status: Option<AllocDeploymentStatus>,
}

impl AllocationStub {
    /// Whether the allocation failed or was found unhealthy.
    pub fn is_failing(&self) -> bool {
        self.client_status == "failed"
            || self
                .deployment_status
                .as_ref()
                .is_some_and(|d| d.healthy == Some(false))
    }
}

/// Deployment health of an allocation.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct AllocDeploymentStatus {
    /// `null` until decided.
    pub healthy: Option<bool>,
}

/// The task states of a full allocation.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Allocation {
    /// Per task.
    pub task_states: Option<BTreeMap<String, TaskState>>,
}

/// The state of a task.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct TaskState {
    /// `pending`, `running`, `dead`.
    pub state: String,
    /// Whether the task failed.
    pub failed: bool,
    /// Its events, oldest first.
    pub events: Option<Vec<TaskEvent>>,
}

/// One task event.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct TaskEvent {
    /// `Started`, `Terminated`, `Driver Failure`...
    #[serde(rename = "Type")]
    pub kind: String,
    /// The message Nomad shows.
    pub display_message: String,
    /// Unix nanoseconds.
    pub time: i64,
}

/// Decodes a response body into `T`, naming what it was on failure.
pub fn decode<T: serde::de::DeserializeOwned>(what: &str, body: Json) -> Result<T, String> {
    serde_json::from_value(body).map_err(|e| format!("unexpected {what} from Nomad: {e}"))
}
