//! The one JSON object `job-submit` prints, and its statuses.

use std::collections::BTreeMap;

use cli_common::Exit;
use serde::Serialize;

use crate::api::{AllocMetric, Deployment};

/// The verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The deployment (or evaluation, when there is none) succeeded.
    Successful,
    /// Registered and not followed (`--detach`, periodic, parameterized,
    /// multiregion).
    Registered,
    /// Some allocations could not be placed and no deployment decides.
    PlacementFailed,
    /// The deployment failed (whether or not Nomad rolled back).
    Failed,
    /// Canaries are healthy and wait for a promotion.
    AwaitingPromotion,
    /// `--timeout` ran out first.
    Timeout,
    /// `--plan`: nothing would change.
    NoChanges,
    /// `--plan`: allocations would be created or destroyed.
    Changes,
}

impl Status {
    /// The exit code of the design's table.
    pub fn exit(self) -> Exit {
        match self {
            Status::Successful | Status::Registered | Status::NoChanges => Exit::Success,
            Status::PlacementFailed
            | Status::Failed
            | Status::AwaitingPromotion
            | Status::Changes => Exit::No,
            Status::Timeout => Exit::Unreachable,
        }
    }
}

/// What `job-submit` prints. Every key is always present.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The job's ID.
    pub job_id: String,
    /// The namespace the job was sent to, when known.
    pub namespace: Option<String>,
    /// The region the job was sent to, when known.
    pub region: Option<String>,
    /// The evaluation followed last.
    pub eval_id: Option<String>,
    /// The job modify index after registering (or the plan's current one).
    pub job_modify_index: Option<u64>,
    /// The deployment followed.
    pub deployment_id: Option<String>,
    /// The verdict.
    pub status: Status,
    /// Per group, from the deployment.
    pub task_groups: Option<BTreeMap<String, GroupReport>>,
    /// Per group, why allocations could not be placed.
    pub placement_failures: Option<BTreeMap<String, PlacementFailure>>,
    /// Allocations that failed, with their tasks' last events.
    pub failed_allocations: Option<Vec<FailedAllocation>>,
    /// The deployment Nomad rolled back to after a failure.
    pub rollback_deployment_id: Option<String>,
    /// Nomad's warnings about the job.
    pub warnings: Option<String>,
}

impl Report {
    /// A report for `job_id` before anything happened.
    pub fn new(job_id: &str, status: Status) -> Report {
        Report {
            job_id: job_id.to_owned(),
            namespace: None,
            region: None,
            eval_id: None,
            job_modify_index: None,
            deployment_id: None,
            status,
            task_groups: None,
            placement_failures: None,
            failed_allocations: None,
            rollback_deployment_id: None,
            warnings: None,
        }
    }

    /// Takes the group counts of a deployment.
    pub fn set_groups(&mut self, deployment: &Deployment) {
        self.task_groups = deployment.task_groups.as_ref().map(|groups| {
            groups
                .iter()
                .map(|(name, g)| {
                    let report = GroupReport {
                        desired: g.desired_total,
                        placed: g.placed_allocs,
                        healthy: g.healthy_allocs,
                        unhealthy: g.unhealthy_allocs,
                        canaries: g.desired_canaries,
                    };
                    (name.clone(), report)
                })
                .collect()
        });
    }
}

/// A group's counts in the deployment.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct GroupReport {
    /// Allocations wanted.
    pub desired: u64,
    /// Allocations placed.
    pub placed: u64,
    /// Allocations healthy.
    pub healthy: u64,
    /// Allocations unhealthy.
    pub unhealthy: u64,
    /// Canaries wanted.
    pub canaries: u64,
}

/// Why a group's allocations could not be placed.
#[derive(Debug, Serialize)]
pub struct PlacementFailure {
    /// How many allocations failed to place.
    pub failed: u64,
    /// Nodes evaluated.
    pub nodes_evaluated: u64,
    /// Nodes filtered out.
    pub nodes_filtered: u64,
    /// Nodes without enough resources.
    pub nodes_exhausted: u64,
    /// Nodes available per datacenter.
    pub nodes_available: BTreeMap<String, u64>,
    /// Nodes filtered per class.
    pub class_filtered: BTreeMap<String, u64>,
    /// Nodes filtered per constraint.
    pub constraint_filtered: BTreeMap<String, u64>,
    /// Nodes exhausted per class.
    pub class_exhausted: BTreeMap<String, u64>,
    /// Nodes exhausted per resource dimension.
    pub dimension_exhausted: BTreeMap<String, u64>,
    /// Quotas hit.
    pub quota_exhausted: Vec<String>,
}

impl From<&AllocMetric> for PlacementFailure {
    fn from(m: &AllocMetric) -> PlacementFailure {
        PlacementFailure {
            failed: m.coalesced_failures + 1,
            nodes_evaluated: m.nodes_evaluated,
            nodes_filtered: m.nodes_filtered,
            nodes_exhausted: m.nodes_exhausted,
            nodes_available: m.nodes_available.clone().unwrap_or_default(),
            class_filtered: m.class_filtered.clone().unwrap_or_default(),
            constraint_filtered: m.constraint_filtered.clone().unwrap_or_default(),
            class_exhausted: m.class_exhausted.clone().unwrap_or_default(),
            dimension_exhausted: m.dimension_exhausted.clone().unwrap_or_default(),
            quota_exhausted: m.quota_exhausted.clone().unwrap_or_default(),
        }
    }
}

impl PlacementFailure {
    /// One line per cause, as `nomad job run` explains a failed placement.
    pub fn explain(&self, group: &str) -> Vec<String> {
        let mut lines = vec![format!(
            "Task Group \"{group}\" (failed to place {} allocation(s)):",
            self.failed
        )];
        if self.nodes_evaluated == 0 {
            lines.push("  * No nodes were eligible for evaluation".into());
        }
        for (dc, n) in &self.nodes_available {
            if *n == 0 {
                lines.push(format!("  * No nodes are available in datacenter \"{dc}\""));
            }
        }
        for (class, n) in &self.class_filtered {
            lines.push(format!(
                "  * Class \"{class}\": {n} nodes excluded by filter"
            ));
        }
        for (constraint, n) in &self.constraint_filtered {
            lines.push(format!(
                "  * Constraint \"{constraint}\": {n} nodes excluded by filter"
            ));
        }
        if self.nodes_exhausted > 0 {
            lines.push(format!(
                "  * Resources exhausted on {} nodes",
                self.nodes_exhausted
            ));
        }
        for (class, n) in &self.class_exhausted {
            lines.push(format!("  * Class \"{class}\" exhausted on {n} nodes"));
        }
        for (dim, n) in &self.dimension_exhausted {
            lines.push(format!("  * Dimension \"{dim}\" exhausted on {n} nodes"));
        }
        for quota in &self.quota_exhausted {
            lines.push(format!("  * Quota limit hit \"{quota}\""));
        }
        lines
    }
}

/// An allocation that failed, with its tasks' last events.
#[derive(Debug, Serialize)]
pub struct FailedAllocation {
    /// Its ID.
    pub id: String,
    /// Its group.
    pub task_group: String,
    /// The node's name.
    pub node: String,
    /// Its client status.
    pub client_status: String,
    /// Per task: state, whether it failed, last events.
    pub tasks: BTreeMap<String, TaskReport>,
}

/// A task of a failed allocation.
#[derive(Debug, Serialize)]
pub struct TaskReport {
    /// `pending`, `running`, `dead`.
    pub state: String,
    /// Whether it failed.
    pub failed: bool,
    /// The last few events, oldest first.
    pub last_events: Vec<EventReport>,
}

/// One task event.
#[derive(Debug, Serialize)]
pub struct EventReport {
    /// Its type (`Driver Failure`, `Terminated`...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Nomad's message.
    pub message: String,
    /// When, Unix nanoseconds.
    pub time: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_the_exit_table() {
        assert_eq!(Status::Successful.exit(), Exit::Success);
        assert_eq!(Status::Registered.exit(), Exit::Success);
        assert_eq!(Status::NoChanges.exit(), Exit::Success);
        assert_eq!(Status::Failed.exit(), Exit::No);
        assert_eq!(Status::PlacementFailed.exit(), Exit::No);
        assert_eq!(Status::AwaitingPromotion.exit(), Exit::No);
        assert_eq!(Status::Changes.exit(), Exit::No);
        assert_eq!(Status::Timeout.exit(), Exit::Unreachable);
    }

    #[test]
    fn every_key_is_present_even_when_unset() {
        let json = serde_json::to_value(Report::new("web", Status::Registered)).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for key in [
            "job_id",
            "namespace",
            "region",
            "eval_id",
            "job_modify_index",
            "deployment_id",
            "status",
            "task_groups",
            "placement_failures",
            "failed_allocations",
            "rollback_deployment_id",
            "warnings",
        ] {
            assert!(keys.contains(&key), "{key} missing from {keys:?}");
        }
        assert_eq!(json["status"], "registered");
    }
}
