//! Registering (or planning) a job and following it to a verdict.
//!
//! Monitoring uses blocking queries: one request per state change instead
//! of one per second. A paused deployment, or canaries awaiting promotion,
//! never hang the tool: the first ends with `--timeout`, the second is a
//! verdict of its own (or is promoted with `--auto-promote`).

use std::time::{Duration, Instant};

use cli_common::http::{HttpError, Response};
use cli_common::nomad::{escape_path_segment as esc, NomadClient};
use cli_common::Error;
use serde_json::{json, Map, Value as Json};

use crate::api::{self, AllocationStub, Deployment, Evaluation, RegisterResponse};
use crate::input::LoadedJob;
use crate::progress::Progress;
use crate::report::{EventReport, FailedAllocation, PlacementFailure, Report, Status, TaskReport};

/// What the command line asks for.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Dry run: plan and report whether anything would change.
    pub plan: bool,
    /// Register only if the job's modify index is this (0: only if new).
    pub check_index: Option<u64>,
    /// Register and stop.
    pub detach: bool,
    /// Give up following after this long.
    pub timeout: Option<Duration>,
    /// Promote canaries once they are healthy.
    pub auto_promote: bool,
    /// Override soft-mandatory Sentinel policies.
    pub policy_override: bool,
    /// Keep the counts of groups already running.
    pub preserve_counts: bool,
    /// Print every allocation change.
    pub verbose: bool,
}

/// The longest a blocking query waits (Nomad's own cap).
const MAX_WAIT: Duration = Duration::from_secs(300);
/// How long to wait for Nomad to create the rollback deployment after a
/// failed deployment with auto-revert.
const ROLLBACK_GRACE: Duration = Duration::from_secs(30);
/// Events kept per task of a failed allocation.
const LAST_EVENTS: usize = 3;

/// Follows one job submission.
pub struct Submitter<'a> {
    client: NomadClient,
    job: &'a LoadedJob,
    options: &'a Options,
    deadline: Option<Instant>,
    progress: Progress,
}

/// Why following stopped early.
enum Stop {
    /// `--timeout` ran out.
    Timeout,
    /// A request failed.
    Failed(Error),
}

impl From<HttpError> for Stop {
    fn from(e: HttpError) -> Stop {
        Stop::Failed(e.into())
    }
}

impl From<String> for Stop {
    fn from(message: String) -> Stop {
        Stop::Failed(Error::new(cli_common::Exit::Refused, message))
    }
}

type Step<T> = Result<T, Stop>;

impl<'a> Submitter<'a> {
    /// A submitter talking to Nomad through `client`, in the job's own
    /// region and namespace when it names them (as `nomad job run` does).
    pub fn new(client: &NomadClient, job: &'a LoadedJob, options: &'a Options) -> Submitter<'a> {
        Submitter {
            client: client.with_region_namespace(job.field("Region"), job.field("Namespace")),
            job,
            options,
            deadline: options.timeout.map(|t| Instant::now() + t),
            progress: Progress::new(),
        }
    }

    /// Plans or registers the job and follows it. Request errors are
    /// returned as errors; every verdict (timeout included) is a report.
    pub fn run(mut self) -> Result<Report, Error> {
        let mut report = Report::new(self.job.id(), Status::Registered);
        report.namespace = self
            .job
            .field("Namespace")
            .map(str::to_owned)
            .or_else(|| self.client.namespace().map(str::to_owned));
        report.region = self
            .job
            .field("Region")
            .map(str::to_owned)
            .or_else(|| self.client.region().map(str::to_owned));
        let outcome = if self.options.plan {
            self.plan(&mut report)
        } else {
            self.register_and_follow(&mut report)
        };
        match outcome {
            Ok(()) => Ok(report),
            Err(Stop::Timeout) => {
                self.progress
                    .line("Timed out: --timeout ran out before a verdict");
                report.status = Status::Timeout;
                Ok(report)
            }
            Err(Stop::Failed(e)) => Err(e),
        }
    }

    fn plan(&mut self, report: &mut Report) -> Step<()> {
        let path = format!("/v1/job/{}/plan", esc(self.job.id()));
        let body = json!({
            "Job": self.job.job,
            "Diff": true,
            "PolicyOverride": self.options.policy_override,
        });
        let response = self.client.put(&path, &[], &body, true)?;
        let plan = response.json()?;
        report.job_modify_index = plan.get("JobModifyIndex").and_then(Json::as_u64);
        report.warnings = non_empty(plan.get("Warnings"));
        if let Some(Json::Object(failed)) = plan.get("FailedTGAllocs") {
            report.placement_failures = Some(placement_failures(failed)?);
        }
        report.status = if plan_changes(&plan) {
            Status::Changes
        } else {
            Status::NoChanges
        };
        Ok(())
    }

    fn register_and_follow(&mut self, report: &mut Report) -> Step<()> {
        let registered = self.register()?;
        report.job_modify_index = Some(registered.job_modify_index);
        self.resolve_placement(report);
        report.warnings = Some(registered.warnings.clone()).filter(|w| !w.is_empty());
        if let Some(w) = &report.warnings {
            self.progress.line(&format!("Job Warnings: {}", w.trim()));
        }
        if registered.eval_id.is_empty() || self.options.detach || self.job.is_unmonitored() {
            report.eval_id = Some(registered.eval_id).filter(|id| !id.is_empty());
            report.status = Status::Registered;
            self.progress.line("Job registration successful");
            return Ok(());
        }
        let eval = self.follow_evaluation(&registered.eval_id, report)?;
        if eval.deployment_id.is_empty() {
            report.status = if report.placement_failures.is_some() {
                Status::PlacementFailed
            } else {
                Status::Successful
            };
            return Ok(());
        }
        self.follow_deployment_to_verdict(&eval.deployment_id, report)
    }

    /// Fills in the region and namespace Nomad stored the job in (a job
    /// that names neither goes to the agent's region and `default`). Best
    /// effort: the verdict does not depend on it.
    fn resolve_placement(&mut self, report: &mut Report) {
        if report.region.is_some() && report.namespace.is_some() {
            return;
        }
        let path = format!("/v1/job/{}", esc(self.job.id()));
        let Ok(stored) = self.client.get(&path, &[]).and_then(|r| r.json()) else {
            return;
        };
        let field = |name: &str| {
            stored
                .get(name)
                .and_then(Json::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        report.region = report.region.take().or_else(|| field("Region"));
        report.namespace = report.namespace.take().or_else(|| field("Namespace"));
    }

    fn register(&mut self) -> Step<RegisterResponse> {
        let mut body = Map::new();
        body.insert("Job".into(), Json::Object(self.job.job.clone()));
        body.insert("Submission".into(), self.job.submission.clone());
        if let Some(index) = self.options.check_index {
            body.insert("EnforceIndex".into(), Json::Bool(true));
            if index > 0 {
                body.insert("JobModifyIndex".into(), Json::from(index));
            }
        }
        if self.options.policy_override {
            body.insert("PolicyOverride".into(), Json::Bool(true));
        }
        if self.options.preserve_counts {
            body.insert("PreserveCounts".into(), Json::Bool(true));
        }
        // A registration is only safe to repeat when check-index guards it.
        let idempotent = self.options.check_index.is_some();
        let response = self
            .client
            .put("/v1/jobs", &[], &Json::Object(body), idempotent)?;
        Ok(api::decode("registration response", response.json()?)?)
    }

    /// Follows an evaluation and its `NextEval` chain to the last one;
    /// records placement failures of that last one.
    fn follow_evaluation(&mut self, first: &str, report: &mut Report) -> Step<Evaluation> {
        let mut id = first.to_owned();
        loop {
            self.progress
                .line(&format!("Monitoring evaluation \"{}\"", short(&id)));
            report.eval_id = Some(id.clone());
            let eval = self.wait_for_terminal_eval(&id)?;
            if self.options.verbose {
                self.print_allocations(&eval.id)?;
            }
            report.placement_failures = None;
            if let Some(failed) = eval.failed_tg_allocs.as_ref().filter(|f| !f.is_empty()) {
                let failures: std::collections::BTreeMap<_, _> = failed
                    .iter()
                    .map(|(g, m)| (g.clone(), PlacementFailure::from(m)))
                    .collect();
                self.progress.line(&format!(
                    "Evaluation \"{}\" finished with status \"{}\" but failed to place all allocations:",
                    short(&eval.id),
                    eval.status
                ));
                for (group, failure) in &failures {
                    for line in failure.explain(group) {
                        self.progress.detail(&line);
                    }
                }
                if !eval.blocked_eval.is_empty() {
                    self.progress.detail(&format!(
                        "Evaluation \"{}\" waiting for additional capacity to place remainder",
                        short(&eval.blocked_eval)
                    ));
                }
                report.placement_failures = Some(failures);
            } else {
                self.progress.line(&format!(
                    "Evaluation \"{}\" finished with status \"{}\"",
                    short(&eval.id),
                    eval.status
                ));
            }
            if eval.next_eval.is_empty() {
                return Ok(eval);
            }
            let wait = Duration::from_nanos(eval.wait);
            self.progress.line(&format!(
                "Monitoring next evaluation \"{}\" in {}",
                short(&eval.next_eval),
                humantime::format_duration(wait)
            ));
            self.sleep(wait)?;
            id = eval.next_eval;
        }
    }

    /// `--verbose`: the allocations an evaluation created or changed.
    fn print_allocations(&mut self, eval: &str) -> Step<()> {
        let path = format!("/v1/evaluation/{}/allocations", esc(eval));
        let stubs: Vec<AllocationStub> =
            api::decode("allocation list", self.client.get(&path, &[])?.json()?)?;
        for stub in stubs {
            self.progress.detail(&format!(
                "Allocation \"{}\" {}: node \"{}\", group \"{}\"",
                short(&stub.id),
                stub.client_status,
                stub.node_name,
                stub.task_group
            ));
        }
        Ok(())
    }

    fn wait_for_terminal_eval(&mut self, id: &str) -> Step<Evaluation> {
        let path = format!("/v1/evaluation/{}", esc(id));
        let mut index = None;
        let mut last_status = String::new();
        loop {
            let response = self.blocking_get(&path, index)?;
            let advanced = response.nomad_index().filter(|i| Some(*i) != index);
            let eval: Evaluation = api::decode("evaluation", response.json()?)?;
            if eval.status != last_status {
                if !last_status.is_empty() {
                    self.progress.detail(&format!(
                        "Evaluation status changed: \"{last_status}\" -> \"{}\"",
                        eval.status
                    ));
                }
                if !eval.deployment_id.is_empty() && eval.is_terminal() {
                    self.progress.detail(&format!(
                        "Evaluation within deployment: \"{}\"",
                        short(&eval.deployment_id)
                    ));
                }
                last_status = eval.status.clone();
            }
            if eval.is_terminal() {
                return Ok(eval);
            }
            self.pace(advanced.is_none())?;
            index = advanced.or(index);
        }
    }

    fn follow_deployment_to_verdict(&mut self, id: &str, report: &mut Report) -> Step<()> {
        report.deployment_id = Some(id.to_owned());
        let deployment = self.follow_deployment(id, report, true)?;
        report.status = match deployment.status.as_str() {
            "successful" => Status::Successful,
            "running" => Status::AwaitingPromotion,
            _ => Status::Failed,
        };
        if report.status != Status::Failed {
            return Ok(());
        }
        report.failed_allocations = Some(self.failed_allocations(id)?);
        if deployment.auto_reverts() {
            if let Some(rollback) = self.find_rollback(id)? {
                self.progress.line(&format!(
                    "Rolling back: deployment \"{}\"",
                    short(&rollback)
                ));
                report.rollback_deployment_id = Some(rollback.clone());
                // The verdict stays "failed"; the rollback is followed so
                // the caller knows how it ended.
                let mut rollback_report = Report::new(&report.job_id, Status::Failed);
                self.follow_deployment(&rollback, &mut rollback_report, false)?;
            }
        }
        Ok(())
    }

    /// Follows a deployment until it ends, or until it waits for a
    /// promotion that is not ours to give.
    fn follow_deployment(
        &mut self,
        id: &str,
        report: &mut Report,
        promote: bool,
    ) -> Step<Deployment> {
        self.progress
            .line(&format!("Monitoring deployment \"{}\"", short(id)));
        let path = format!("/v1/deployment/{}", esc(id));
        let mut index = None;
        let mut last = String::new();
        let mut promoted = false;
        loop {
            let response = self.blocking_get(&path, index)?;
            let advanced = response.nomad_index().filter(|i| Some(*i) != index);
            let deployment: Deployment = api::decode("deployment", response.json()?)?;
            report.set_groups(&deployment);
            let summary = format!("{} {}", deployment.status, deployment.status_description);
            if summary != last {
                self.progress.detail(&format!(
                    "Deployment \"{}\" {}{}",
                    short(id),
                    deployment.status,
                    if deployment.status_description.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", deployment.status_description)
                    }
                ));
                last = summary;
            }
            if deployment.is_terminal() {
                return Ok(deployment);
            }
            if deployment.awaits_promotion() {
                if !(promote && self.options.auto_promote) {
                    return Ok(deployment);
                }
                if !promoted {
                    self.promote(id)?;
                    promoted = true;
                    continue;
                }
            }
            self.pace(advanced.is_none())?;
            index = advanced.or(index);
        }
    }

    fn promote(&mut self, id: &str) -> Step<()> {
        self.progress.line(&format!(
            "Promoting the canaries of deployment \"{}\"",
            short(id)
        ));
        let path = format!("/v1/deployment/promote/{}", esc(id));
        let body = json!({"DeploymentID": id, "All": true});
        self.client.put(&path, &[], &body, true)?;
        Ok(())
    }

    /// After a failed deployment with auto-revert, Nomad registers the
    /// previous version again and starts a new deployment a moment later:
    /// wait (bounded) for the job's latest deployment to change.
    fn find_rollback(&mut self, failed: &str) -> Step<Option<String>> {
        let path = format!("/v1/job/{}/deployment", esc(self.job.id()));
        let give_up = Instant::now() + ROLLBACK_GRACE;
        let mut index = None;
        while Instant::now() < give_up {
            let response = self.blocking_get_until(&path, index, give_up)?;
            let advanced = response.nomad_index().filter(|i| Some(*i) != index);
            let latest_deployment = response.json()?;
            if let Some(latest) = latest_deployment.get("ID").and_then(Json::as_str) {
                if latest != failed {
                    return Ok(Some(latest.to_owned()));
                }
            }
            self.pace(advanced.is_none())?;
            index = advanced.or(index);
        }
        Ok(None)
    }

    fn failed_allocations(&mut self, deployment: &str) -> Step<Vec<FailedAllocation>> {
        let path = format!("/v1/deployment/allocations/{}", esc(deployment));
        let stubs: Vec<AllocationStub> =
            api::decode("allocation list", self.client.get(&path, &[])?.json()?)?;
        let mut out = Vec::new();
        for stub in stubs.into_iter().filter(AllocationStub::is_failing) {
            let path = format!("/v1/allocation/{}", esc(&stub.id));
            let alloc: api::Allocation =
                api::decode("allocation", self.client.get(&path, &[])?.json()?)?;
            let tasks = alloc
                .task_states
                .unwrap_or_default()
                .into_iter()
                .map(|(name, state)| {
                    let events = state.events.unwrap_or_default();
                    let skip = events.len().saturating_sub(LAST_EVENTS);
                    let last_events = events
                        .into_iter()
                        .skip(skip)
                        .map(|e| EventReport {
                            kind: e.kind,
                            message: e.display_message,
                            time: e.time,
                        })
                        .collect();
                    let task = TaskReport {
                        state: state.state,
                        failed: state.failed,
                        last_events,
                    };
                    (name, task)
                })
                .collect();
            out.push(FailedAllocation {
                id: stub.id,
                task_group: stub.task_group,
                node: stub.node_name,
                client_status: stub.client_status,
                tasks,
            });
        }
        Ok(out)
    }

    /// A blocking GET bounded by the deadline.
    fn blocking_get(&mut self, path: &str, index: Option<u64>) -> Step<Response> {
        let until = self.deadline.unwrap_or_else(|| Instant::now() + MAX_WAIT);
        self.blocking_get_until(path, index, until)
    }

    fn blocking_get_until(
        &mut self,
        path: &str,
        index: Option<u64>,
        until: Instant,
    ) -> Step<Response> {
        let left = until.saturating_duration_since(Instant::now());
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(Stop::Timeout);
        }
        let wait = left.min(MAX_WAIT).max(Duration::from_millis(1));
        Ok(self.client.get_blocking(path, &[], index, Some(wait))?)
    }

    /// Between two reads: when the server answered without a new index
    /// (no blocking support, or a wait that timed out), wait a little so a
    /// misbehaving server is not hammered; and stop at the deadline.
    fn pace(&mut self, no_progress: bool) -> Step<()> {
        if no_progress {
            self.sleep(Duration::from_millis(500))?;
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(Stop::Timeout);
        }
        Ok(())
    }

    /// Sleeps, but not past the deadline.
    fn sleep(&mut self, wanted: Duration) -> Step<()> {
        match self.deadline {
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                std::thread::sleep(wanted.min(left));
                if Instant::now() >= d {
                    return Err(Stop::Timeout);
                }
            }
            None => std::thread::sleep(wanted),
        }
        Ok(())
    }
}

/// `nomad job plan`'s exit rule: changes when the diff is not `None` and a
/// group would stop, place, migrate, update destructively or add canaries.
fn plan_changes(plan: &Json) -> bool {
    if plan.pointer("/Diff/Type").and_then(Json::as_str) == Some("None") {
        return false;
    }
    let Some(Json::Object(groups)) = plan.pointer("/Annotations/DesiredTGUpdates") else {
        return false;
    };
    groups.values().any(|g| {
        ["Stop", "Place", "Migrate", "DestructiveUpdate", "Canary"]
            .iter()
            .map(|k| g.get(*k).and_then(Json::as_u64).unwrap_or(0))
            .sum::<u64>()
            > 0
    })
}

fn placement_failures(
    failed: &Map<String, Json>,
) -> Result<std::collections::BTreeMap<String, PlacementFailure>, String> {
    failed
        .iter()
        .map(|(g, m)| {
            let metric: api::AllocMetric = api::decode("placement metrics", m.clone())?;
            Ok((g.clone(), PlacementFailure::from(&metric)))
        })
        .collect()
}

fn non_empty(value: Option<&Json>) -> Option<String> {
    value
        .and_then(Json::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The first 8 characters of an ID, as Nomad prints them.
fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_exit_rule_follows_nomad() {
        let none = json!({"Diff": {"Type": "None"}, "Annotations": {"DesiredTGUpdates": {"web": {"Place": 2}}}});
        assert!(!plan_changes(&none));
        let in_place = json!({"Diff": {"Type": "Edited"}, "Annotations": {"DesiredTGUpdates": {"web": {"InPlaceUpdate": 2, "Place": 0}}}});
        assert!(!plan_changes(&in_place));
        let added = json!({"Diff": {"Type": "Added"}, "Annotations": {"DesiredTGUpdates": {"web": {"Place": 2}}}});
        assert!(plan_changes(&added));
        let canary = json!({"Diff": {"Type": "Edited"}, "Annotations": {"DesiredTGUpdates": {"a": {}, "b": {"Canary": 1}}}});
        assert!(plan_changes(&canary));
    }

    #[test]
    fn ids_are_shortened_safely() {
        assert_eq!(short("0f98f7ea-59ae-4d90"), "0f98f7ea");
        assert_eq!(short("abc"), "abc");
    }
}
