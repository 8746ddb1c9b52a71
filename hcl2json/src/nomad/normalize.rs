//! What Nomad's parser does to a job after decoding it: name and ID from the
//! label, `cron` as the periodic spec type, defaults for `vault` and
//! `template`, top-level tasks turned into groups, and static ports moved
//! from `port` blocks to the reserved ports.

use serde_json::{Map, Value as Json};

type Object = Map<String, Json>;

/// Normalises the job's own fields: name and ID default to the label, a
/// `cron` spec makes the periodic spec type `cron`.
pub fn job_fields(job: &mut Object, job_id: &str) {
    for key in ["Name", "ID"] {
        if !job.contains_key(key) {
            job.insert(key.into(), Json::String(job_id.into()));
        }
    }
    if let Some(Json::Object(periodic)) = job.get_mut("Periodic") {
        if periodic.contains_key("Spec") || periodic.contains_key("Specs") {
            periodic.insert("SpecType".into(), Json::String("cron".into()));
        }
    }
}

/// A task written at the top level of a job becomes a group of its own name.
pub fn task_as_group(task: Object) -> Object {
    let mut group = Object::new();
    group.insert(
        "Name".into(),
        task.get("Name").cloned().unwrap_or(Json::Null),
    );
    group.insert("Tasks".into(), Json::Array(vec![Json::Object(task)]));
    group
}

/// Normalises a group: dynamic ports with a static value become reserved,
/// templates and vault get their defaults, tasks without `vault` take the
/// job's (`job_vault`, already normalised).
pub fn group(group: &mut Object, job_vault: Option<&Object>) {
    ports(group.get_mut("Networks"));
    for task in objects_mut(group.get_mut("Tasks")) {
        if let Some(Json::Object(resources)) = task.get_mut("Resources") {
            ports(resources.get_mut("Networks"));
        }
        for template in objects_mut(task.get_mut("Templates")) {
            self::template(template);
        }
        match task.get_mut("Vault") {
            Some(Json::Object(v)) => vault(v),
            _ => {
                if let Some(v) = job_vault {
                    task.insert("Vault".into(), Json::Object(v.clone()));
                }
            }
        }
    }
}

/// A group's `vault` block applies to its tasks that have none.
pub fn inherit_vault(group: &mut Object, vault: Object) {
    for task in objects_mut(group.get_mut("Tasks")) {
        if !matches!(task.get("Vault"), Some(Json::Object(_))) {
            task.insert("Vault".into(), Json::Object(vault.clone()));
        }
    }
}

fn objects_mut(value: Option<&mut Json>) -> impl Iterator<Item = &mut Object> {
    let items = match value {
        Some(Json::Array(items)) => items.as_mut_slice(),
        _ => &mut [],
    };
    items.iter_mut().filter_map(|v| match v {
        Json::Object(o) => Some(o),
        _ => None,
    })
}

fn set_default(object: &mut Object, key: &str, value: Json) {
    if !object.contains_key(key) {
        object.insert(key.into(), value);
    }
}

/// The defaults of a `vault` block.
pub fn vault(v: &mut Object) {
    set_default(v, "Env", Json::Bool(true));
    set_default(v, "DisableFile", Json::Bool(false));
    set_default(v, "ChangeMode", Json::String("restart".into()));
}

fn template(t: &mut Object) {
    set_default(t, "ChangeMode", Json::String("restart".into()));
    set_default(t, "Perms", Json::String("0644".into()));
    set_default(t, "Splay", Json::from(5_000_000_000_i64));
    set_default(t, "ErrMissingKey", Json::Bool(false));
    if let Some(Json::Object(script)) = t.get_mut("ChangeScript") {
        set_default(script, "Args", Json::Array(Vec::new()));
        set_default(script, "Timeout", Json::from(5_000_000_000_i64));
        set_default(script, "FailOnError", Json::Bool(false));
    }
}

/// `port` blocks with a `static` value are reserved ports; the others stay
/// dynamic. As in Nomad, this replaces any `reserved_ports` of a network
/// that has `port` blocks.
fn ports(networks: Option<&mut Json>) {
    for network in objects_mut(networks) {
        let Some(Json::Array(dynamic)) = network.remove("DynamicPorts") else {
            continue;
        };
        if dynamic.is_empty() {
            network.insert("DynamicPorts".into(), Json::Array(dynamic));
            continue;
        }
        let (reserved, dynamic): (Vec<Json>, Vec<Json>) = dynamic
            .into_iter()
            .partition(|p| p.get("Value").and_then(Json::as_i64).unwrap_or(0) > 0);
        network.insert(
            "DynamicPorts".into(),
            if dynamic.is_empty() {
                Json::Null
            } else {
                Json::Array(dynamic)
            },
        );
        network.insert(
            "ReservedPorts".into(),
            if reserved.is_empty() {
                Json::Null
            } else {
                Json::Array(reserved)
            },
        );
    }
}
