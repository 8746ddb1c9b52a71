//! `PUT /v1/job/:id/plan`: a dry run comparing the submitted job with the stored one.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::life::failure_metric;
use crate::store::groups;
use crate::util::{new_id, ZERO_TIME};

/// Counts of one group's `DesiredTGUpdates`.
#[derive(Debug, Default, Clone, Copy)]
struct Updates {
    ignore: u64,
    place: u64,
    stop: u64,
    destructive: u64,
}

impl Updates {
    fn render(self) -> Value {
        json!({
            "Ignore": self.ignore, "Place": self.place, "Migrate": 0, "Stop": self.stop,
            "InPlaceUpdate": 0, "DestructiveUpdate": self.destructive, "Canary": 0,
            "Preemptions": 0, "Disconnect": 0, "Reconnect": 0, "RescheduleNow": 0,
            "RescheduleLater": 0,
        })
    }

    /// The diff's `Updates` map (kind → count), zero kinds left out.
    fn diff_updates(self) -> Value {
        let pairs = [
            ("ignore", self.ignore),
            ("create", self.place),
            ("destroy", self.stop),
            ("create/destroy update", self.destructive),
        ];
        let map: Map<String, Value> = pairs
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| ((*k).to_string(), json!(n)))
            .collect();
        Value::Object(map)
    }
}

/// Builds the `JobPlanResponse` for `spec` against the stored job `(spec, JobModifyIndex)`.
pub(crate) fn plan_response(
    existing: Option<(&Value, u64)>,
    spec: &Value,
    want_diff: bool,
    placement_failure: bool,
) -> Value {
    let old_spec = existing.map(|(s, _)| s);
    let updates = desired_updates(old_spec, spec);
    let diff = want_diff.then(|| job_diff(old_spec, spec, &updates));
    let desired: Map<String, Value> = updates
        .iter()
        .map(|(g, (u, _))| (g.clone(), u.render()))
        .collect();
    let (failed, created) = if placement_failure {
        failures(spec)
    } else {
        (Value::Null, Value::Null)
    };
    json!({
        "Index": 0,
        "NextPeriodicLaunch": ZERO_TIME,
        "Warnings": "",
        "Diff": diff,
        "CreatedEvals": created,
        "JobModifyIndex": existing.map_or(0, |(_, i)| i),
        "FailedTGAllocs": failed,
        "Annotations": {"DesiredTGUpdates": desired, "PreemptedAllocs": null},
    })
}

/// Diff type of each group and its updates: `group → (updates, "Added"|"None"|...)`.
fn desired_updates(old: Option<&Value>, new: &Value) -> BTreeMap<String, (Updates, &'static str)> {
    let old_groups: BTreeMap<String, (u64, Option<&Value>)> = old
        .map(|o| {
            groups(o)
                .into_iter()
                .map(|(g, c, _)| {
                    let tg = group_spec(o, &g);
                    (g, (c, tg))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut out = BTreeMap::new();
    for (g, count, _) in groups(new) {
        let entry = match old_groups.get(&g) {
            None => (
                Updates {
                    place: count,
                    ..Updates::default()
                },
                "Added",
            ),
            Some((old_count, old_tg)) => {
                compare_group(*old_count, *old_tg, count, group_spec(new, &g))
            }
        };
        out.insert(g, entry);
    }
    for (g, (count, _)) in &old_groups {
        out.entry(g.clone()).or_insert((
            Updates {
                stop: *count,
                ..Updates::default()
            },
            "Deleted",
        ));
    }
    out
}

fn compare_group(
    old_count: u64,
    old: Option<&Value>,
    count: u64,
    new: Option<&Value>,
) -> (Updates, &'static str) {
    let strip = |v: Option<&Value>| {
        let mut v = v.cloned().unwrap_or(Value::Null);
        if let Some(o) = v.as_object_mut() {
            o.remove("Count");
        }
        v
    };
    let same_tasks = strip(old) == strip(new);
    let kept = old_count.min(count);
    let u = Updates {
        ignore: if same_tasks { kept } else { 0 },
        destructive: if same_tasks { 0 } else { kept },
        place: count.saturating_sub(old_count),
        stop: old_count.saturating_sub(count),
    };
    let kind = if same_tasks && old_count == count {
        "None"
    } else {
        "Edited"
    };
    (u, kind)
}

fn group_spec<'a>(spec: &'a Value, name: &str) -> Option<&'a Value> {
    spec.get("TaskGroups")?
        .as_array()?
        .iter()
        .find(|tg| tg.get("Name").and_then(Value::as_str) == Some(name))
}

fn job_diff(
    old: Option<&Value>,
    new: &Value,
    updates: &BTreeMap<String, (Updates, &'static str)>,
) -> Value {
    let fields = top_level_field_diffs(old, new);
    let groups: Vec<Value> = updates
        .iter()
        .map(|(g, (u, kind))| {
            group_diff(
                g,
                *u,
                kind,
                group_spec(new, g).or_else(|| old.and_then(|o| group_spec(o, g))),
            )
        })
        .collect();
    let kind = match old {
        None => "Added",
        Some(_) if fields.is_empty() && updates.values().all(|(_, k)| *k == "None") => "None",
        Some(_) => "Edited",
    };
    json!({
        "Type": kind,
        "ID": new.get("ID").cloned().unwrap_or(Value::Null),
        "Fields": null_if_empty(fields),
        "Objects": null,
        "TaskGroups": null_if_empty(groups),
    })
}

fn null_if_empty(v: Vec<Value>) -> Value {
    if v.is_empty() {
        Value::Null
    } else {
        Value::Array(v)
    }
}

fn field_diff(kind: &str, name: &str, old: &str, new: &str) -> Value {
    json!({"Type": kind, "Name": name, "Old": old, "New": new, "Annotations": null})
}

fn scalar(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Field diffs of the job's top-level scalar fields (server-managed ones ignored).
fn top_level_field_diffs(old: Option<&Value>, new: &Value) -> Vec<Value> {
    const SKIP: [&str; 4] = ["ID", "Namespace", "Status", "Version"];
    let mut keys: Vec<&String> = new
        .as_object()
        .map(|o| o.keys().collect())
        .unwrap_or_default();
    if let Some(o) = old.and_then(Value::as_object) {
        keys.extend(o.keys());
    }
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| !SKIP.contains(&k.as_str()))
        .filter_map(|k| {
            let n = scalar(new.get(k));
            let o = old.and_then(|o| scalar(o.get(k)));
            match (o, n) {
                (None, Some(n)) => Some(field_diff("Added", k, "", &n)),
                (Some(o), None) => Some(field_diff("Deleted", k, &o, "")),
                (Some(o), Some(n)) if o != n => Some(field_diff("Edited", k, &o, &n)),
                _ => None,
            }
        })
        .collect()
}

fn group_diff(name: &str, u: Updates, kind: &str, tg: Option<&Value>) -> Value {
    let tasks: Vec<Value> = tg
        .and_then(|t| t.get("Tasks"))
        .and_then(Value::as_array)
        .map(|ts| ts.iter().map(|t| task_diff(t, kind)).collect())
        .unwrap_or_default();
    let count = tg
        .and_then(|t| t.get("Count"))
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let fields = match kind {
        "Added" => vec![field_diff("Added", "Count", "", &count.to_string())],
        "Deleted" => vec![field_diff("Deleted", "Count", &count.to_string(), "")],
        _ => Vec::new(),
    };
    json!({
        "Type": kind, "Name": name, "Fields": null_if_empty(fields), "Objects": null,
        "Tasks": null_if_empty(tasks), "Updates": u.diff_updates(),
    })
}

fn task_diff(task: &Value, group_kind: &str) -> Value {
    let name = task.get("Name").and_then(Value::as_str).unwrap_or_default();
    let (fields, annotations) = match group_kind {
        "Added" => {
            let driver = task
                .get("Driver")
                .and_then(Value::as_str)
                .unwrap_or_default();
            (
                vec![field_diff("Added", "Driver", "", driver)],
                json!(["forces create"]),
            )
        }
        "Deleted" => (Vec::new(), json!(["forces destroy"])),
        "Edited" => (Vec::new(), json!(["forces create/destroy update"])),
        _ => (Vec::new(), Value::Null),
    };
    json!({"Type": group_kind, "Name": name, "Fields": null_if_empty(fields), "Objects": null,
           "Annotations": annotations})
}

/// `FailedTGAllocs` and the blocked eval a placement failure would create.
fn failures(spec: &Value) -> (Value, Value) {
    let failed: Map<String, Value> = groups(spec)
        .iter()
        .map(|(g, c, _)| (g.clone(), failure_metric(*c)))
        .collect();
    let job_id = spec.get("ID").cloned().unwrap_or(Value::Null);
    let blocked = json!({
        "ID": new_id(), "Namespace": spec.get("Namespace").cloned().unwrap_or(json!("default")),
        "Priority": spec.get("Priority").and_then(Value::as_u64).unwrap_or(50),
        "Type": crate::store::job_type(spec), "TriggeredBy": "job-register", "JobID": job_id,
        "Status": "blocked", "StatusDescription": "created to place remaining allocations",
        "ClassEligibility": {"v1:7968290453076422024": false},
    });
    (Value::Object(failed), json!([blocked]))
}
