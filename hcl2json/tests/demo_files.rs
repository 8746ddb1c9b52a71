//! The demo's own files, through the real `hcl2json` binary: the job files
//! of `jobs/` and the 2017 original in `examples/` with `--nomad`, and the
//! Terraform of `infra/` in generic mode. What the demo relies on is
//! asserted field by field: a file that still converts but lost a port, a
//! constraint or a firewall rule fails here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const NS_PER_SEC: u64 = 1_000_000_000;

/// The workspace root (`hcl2json/..`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

fn hcl2json(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hcl2json"));
    cmd.current_dir(root()).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("NOMAD_VAR_") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("hcl2json runs")
}

/// Converts and decodes, failing with hcl2json's own error line.
fn convert(args: &[&str], envs: &[(&str, &str)]) -> Value {
    let out = hcl2json(args, envs);
    assert!(
        out.status.success(),
        "hcl2json {args:?} failed ({:?}): {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("hcl2json prints JSON")
}

fn job(path: &str, extra: &[&str]) -> Value {
    let mut args = vec!["--nomad", path];
    args.extend_from_slice(extra);
    let mut doc = convert(&args, &[]);
    doc["Job"].take()
}

/// Files of `dir` (relative to the root) whose name ends with `suffix`,
/// recursively, sorted.
fn files(dir: &str, suffix: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, suffix: &str, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                if path.file_name().is_none_or(|n| n != ".terraform") {
                    walk(&path, suffix, out);
                }
            } else if path.to_string_lossy().ends_with(suffix) {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join(dir), suffix, &mut out);
    out.sort();
    out
}

fn group<'a>(job: &'a Value, name: &str) -> &'a Value {
    job["TaskGroups"]
        .as_array()
        .expect("TaskGroups is a list")
        .iter()
        .find(|g| g["Name"] == name)
        .unwrap_or_else(|| panic!("no group {name}"))
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|v| v["Name"].as_str().expect("a name"))
        .collect()
}

/// What both versions of the job share: identity, update strategy, the two
/// groups with their task, ports, services and checks.
fn assert_common_job(job: &Value) {
    assert_eq!(job["ID"], "pcd2017");
    assert_eq!(job["Name"], "pcd2017");
    assert_eq!(job["Region"], "europe");
    assert_eq!(job["Type"], "service");
    assert_eq!(names(&job["TaskGroups"]), ["webs", "database"]);

    let update = &job["Update"];
    assert_eq!(update["MaxParallel"], 1);
    assert_eq!(update["HealthCheck"], "checks");
    assert_eq!(update["MinHealthyTime"], 10 * NS_PER_SEC);
    assert_eq!(update["HealthyDeadline"], 180 * NS_PER_SEC);
    assert_eq!(update["ProgressDeadline"], 600 * NS_PER_SEC);
    assert_eq!(update["AutoRevert"], true);

    // webs: 2 × frontend, the demo app on the node's port 80.
    let webs = group(job, "webs");
    assert_eq!(webs["Count"], 2);
    assert_eq!(names(&webs["Tasks"]), ["frontend"]);
    let frontend = &webs["Tasks"][0];
    assert_eq!(frontend["Driver"], "docker");
    assert_eq!(frontend["Config"]["image"], "pcd2017/demo-app:2.0");
    assert_eq!(frontend["Config"]["ports"], serde_json::json!(["http"]));
    assert_eq!(
        frontend["Env"]["CONSUL_HTTP_ADDR"], "http://${attr.unique.network.ip-address}:8500",
        "runtime references stay text for Nomad to fill in"
    );
    assert_eq!(
        webs["Networks"][0]["ReservedPorts"],
        serde_json::json!([{"Label": "http", "Value": 80, "To": 8080, "HostNetwork": ""}])
    );
    assert_eq!(webs["Networks"][0]["DynamicPorts"], Value::Null);
    assert_eq!(webs["RestartPolicy"]["Attempts"], 3);
    assert_eq!(webs["RestartPolicy"]["Mode"], "delay");
    assert_eq!(webs["RestartPolicy"]["Interval"], 300 * NS_PER_SEC);
    assert_eq!(webs["Constraints"], Value::Null);

    let web_services = webs["Services"].as_array().expect("group services");
    assert_eq!(web_services.len(), 1);
    let svc = &web_services[0];
    assert_eq!(svc["Name"], "frontend");
    assert_eq!(svc["Provider"], "consul");
    assert_eq!(svc["PortLabel"], "http");
    assert_eq!(
        svc["Tags"],
        serde_json::json!(["web", "${node.datacenter}"])
    );
    let check = &svc["Checks"][0];
    assert_eq!(check["Type"], "http");
    assert_eq!(check["Path"], "/");
    assert_eq!(check["Interval"], 10 * NS_PER_SEC);
    assert_eq!(check["Timeout"], 2 * NS_PER_SEC);

    // database: 1 × mongo, pinned image, static 27017.
    let db = group(job, "database");
    assert_eq!(db["Count"], 1);
    assert_eq!(names(&db["Tasks"]), ["mongo"]);
    let mongo = &db["Tasks"][0];
    assert_eq!(mongo["Driver"], "docker");
    assert_eq!(mongo["Config"]["image"], "mongo:7.0");
    assert_eq!(
        db["Networks"][0]["ReservedPorts"],
        serde_json::json!([{"Label": "db", "Value": 27017, "To": 27017, "HostNetwork": ""}])
    );
    let svc = &db["Services"][0];
    assert_eq!(svc["Name"], "mongo");
    assert_eq!(svc["Provider"], "consul");
    assert_eq!(svc["PortLabel"], "db");
    assert_eq!(svc["Checks"][0]["Type"], "tcp");
    assert_eq!(svc["Checks"][0]["Interval"], 10 * NS_PER_SEC);
    assert!(mongo["Resources"]["MemoryMB"].as_u64().unwrap() >= 256);
}

#[test]
fn stage_2_job_runs_in_gce_west1_only() {
    let job = job("jobs/pcd2017.nomad", &[]);
    assert_common_job(&job);
    assert_eq!(job["Datacenters"], serde_json::json!(["gce-west1"]));
    assert_eq!(group(&job, "database")["Constraints"], Value::Null);
}

#[test]
fn stage_4_job_spans_both_datacenters_and_pins_the_database_to_france() {
    let job = job("jobs/pcd2017-v2.nomad", &[]);
    assert_common_job(&job);
    assert_eq!(
        job["Datacenters"],
        serde_json::json!(["gce-west1", "france"])
    );
    assert_eq!(job["Constraints"], Value::Null);
    assert_eq!(
        group(&job, "database")["Constraints"],
        serde_json::json!([
            {"LTarget": "${node.class}", "RTarget": "data", "Operand": "="},
            {"LTarget": "${node.datacenter}", "RTarget": "france", "Operand": "="}
        ])
    );
}

#[test]
fn job_variables_come_from_flags_and_the_environment() {
    for file in ["jobs/pcd2017.nomad", "jobs/pcd2017-v2.nomad"] {
        let j = job(file, &["--var", r#"datacenters=["france"]"#]);
        assert_eq!(j["Datacenters"], serde_json::json!(["france"]), "{file}");
        let j = job(
            file,
            &[
                "--var",
                r#"datacenters=["gce-west1","france","aws-west2"]"#,
                "--var",
                "image=registry.example.com/demo:3",
            ],
        );
        assert_eq!(
            j["Datacenters"],
            serde_json::json!(["gce-west1", "france", "aws-west2"])
        );
        assert_eq!(
            group(&j, "webs")["Tasks"][0]["Config"]["image"],
            "registry.example.com/demo:3"
        );
        // Only the variable, not the pinned database image.
        assert_eq!(
            group(&j, "database")["Tasks"][0]["Config"]["image"],
            "mongo:7.0"
        );

        let env = convert(
            &["--nomad", file],
            &[("NOMAD_VAR_datacenters", r#"["france"]"#)],
        );
        assert_eq!(env["Job"]["Datacenters"], serde_json::json!(["france"]));

        // A variable the job does not declare is an error, as in Nomad.
        let out = hcl2json(&["--nomad", file, "--var", "region=us"], &[]);
        assert_eq!(out.status.code(), Some(3), "{file}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn every_job_file_converts() {
    let jobs = files("jobs", ".nomad");
    assert!(
        jobs.len() >= 2,
        "jobs/ holds the demo's job files: {jobs:?}"
    );
    for path in jobs {
        let path = path.to_string_lossy().into_owned();
        let j = job(&path, &[]);
        assert_eq!(j["ID"], "pcd2017", "{path}");
        assert_eq!(names(&j["TaskGroups"]), ["webs", "database"], "{path}");
        // Every service is registered in Consul and checked.
        for g in j["TaskGroups"].as_array().unwrap() {
            for svc in g["Services"].as_array().expect("group services") {
                assert_eq!(svc["Provider"], "consul", "{path}");
                assert!(!svc["Checks"].as_array().unwrap().is_empty(), "{path}");
            }
        }
    }
}

#[test]
fn the_2017_job_still_converts() {
    let j = job("examples/pcd2017.nomad", &[]);
    assert_eq!(j["ID"], "pcd2017");
    assert_eq!(j["Datacenters"], serde_json::json!(["gce-west1"]));
    assert_eq!(j["Update"]["Stagger"], 10 * NS_PER_SEC);
    assert_eq!(j["Update"]["MaxParallel"], 1);
    assert_eq!(names(&j["TaskGroups"]), ["webs", "database"]);
    let webs = group(&j, "webs");
    assert_eq!(webs["Count"], 2);
    let frontend = &webs["Tasks"][0];
    assert_eq!(
        frontend["Config"]["port_map"],
        serde_json::json!([{"http": 80}])
    );
    let net = &frontend["Resources"]["Networks"][0];
    assert_eq!(net["MBits"], 10);
    assert_eq!(net["ReservedPorts"][0]["Label"], "http");
    assert_eq!(net["ReservedPorts"][0]["Value"], 80);
    assert_eq!(frontend["Services"][0]["Name"], "frontend");
    assert_eq!(frontend["Services"][0]["Checks"][0]["Type"], "http");
    let mongo = &group(&j, "database")["Tasks"][0];
    assert_eq!(mongo["Config"]["image"], "mongo:3.4");
    assert_eq!(
        mongo["Resources"]["Networks"][0]["ReservedPorts"][0]["Value"],
        27017
    );
}

/// One opened port range: protocol, first and last port.
type Rule = (String, u64, u64);

/// Every port range the Terraform of one folder opens, whatever the
/// provider's spelling: GCP `allow { protocol, ports = ["a-b"] }`, OpenStack
/// `protocol` + `port_range_min`/`port_range_max`, AWS `ip_protocol` +
/// `from_port`/`to_port` (also when the rules are kept in `locals`).
fn rules(v: &Value, out: &mut Vec<Rule>) {
    match v {
        Value::Object(m) => {
            let proto = m
                .get("protocol")
                .or_else(|| m.get("ip_protocol"))
                .and_then(Value::as_str)
                .map(str::to_owned);
            let range = |lo: &str, hi: &str| Some((m.get(lo)?.as_u64()?, m.get(hi)?.as_u64()?));
            if let Some(proto) = &proto {
                if let Some((lo, hi)) = range("port_range_min", "port_range_max")
                    .or_else(|| range("from_port", "to_port"))
                {
                    out.push((proto.clone(), lo, hi));
                }
                for p in m
                    .get("ports")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let p = p.as_str().expect("GCP ports are strings");
                    let (lo, hi) = p.split_once('-').unwrap_or((p, p));
                    out.push((proto.clone(), lo.parse().unwrap(), hi.parse().unwrap()));
                }
            }
            m.values().for_each(|c| rules(c, out));
        }
        Value::Array(items) => items.iter().for_each(|c| rules(c, out)),
        _ => {}
    }
}

fn opens(rules: &[Rule], proto: &str, lo: u64, hi: u64) -> bool {
    rules
        .iter()
        .any(|(p, l, h)| p == proto && *l <= lo && hi <= *h)
}

/// Every `.tf` file of a folder in generic mode, as (file name, JSON).
fn terraform_folder(dir: &str) -> Vec<(String, Value)> {
    let tf = files(dir, ".tf");
    assert!(!tf.is_empty(), "{dir} has Terraform files");
    tf.iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, convert(&[&p.to_string_lossy()], &[]))
        })
        .collect()
}

/// The first value of `key` at the top of any file of the folder.
fn top<'a>(docs: &'a [(String, Value)], key: &str) -> Vec<&'a Value> {
    docs.iter().filter_map(|(_, d)| d.get(key)).collect()
}

/// The default of a variable declared in the folder.
fn variable_default<'a>(docs: &'a [(String, Value)], name: &str) -> &'a Value {
    top(docs, "variable")
        .into_iter()
        .find_map(|v| v.get(name))
        .unwrap_or_else(|| panic!("no variable {name}"))[0]
        .get("default")
        .unwrap_or_else(|| panic!("variable {name} has no default"))
}

/// A literal, or the default of the variable `"${var.x}"` names.
fn resolve<'a>(docs: &'a [(String, Value)], v: &'a Value) -> &'a Value {
    match v
        .as_str()
        .and_then(|s| s.strip_prefix("${var.")?.strip_suffix('}'))
    {
        Some(var) => variable_default(docs, var),
        None => v,
    }
}

#[test]
fn every_terraform_file_converts_and_each_cloud_opens_the_demo_ports() {
    let clouds = [
        (
            "infra/gcp",
            "google",
            "hashicorp/google",
            "~> 6.0",
            "europe",
            "gce-west1",
        ),
        (
            "infra/ovh",
            "openstack",
            "terraform-provider-openstack/openstack",
            "~> 3.0",
            "europe",
            "france",
        ),
        (
            "infra/aws",
            "aws",
            "hashicorp/aws",
            "~> 5.0",
            "us",
            "aws-west2",
        ),
    ];
    let all: BTreeSet<PathBuf> = files("infra", ".tf").into_iter().collect();
    let mut seen = BTreeSet::new();
    for (dir, provider, source, version, region, dc) in clouds {
        let docs = terraform_folder(dir);
        seen.extend(files(dir, ".tf"));

        // Current provider syntax: required_providers with source and version.
        let terraform = top(&docs, "terraform");
        assert_eq!(terraform.len(), 1, "{dir}: one terraform block");
        let req = &terraform[0][0]["required_providers"][0][provider];
        assert_eq!(req["source"], source, "{dir}");
        assert_eq!(req["version"], version, "{dir}");

        let mut opened = Vec::new();
        for (_, d) in &docs {
            rules(d, &mut opened);
        }
        for (proto, lo, hi, what) in [
            ("tcp", 8300, 8302, "Consul server RPC, LAN and WAN gossip"),
            ("udp", 8301, 8302, "Consul gossip"),
            ("tcp", 8500, 8500, "Consul HTTP API"),
            ("tcp", 4646, 4648, "Nomad HTTP, RPC, Serf"),
            ("udp", 4648, 4648, "Nomad Serf"),
            ("tcp", 22, 22, "SSH"),
            ("tcp", 80, 80, "the demo page"),
            ("tcp", 27017, 27017, "mongo"),
        ] {
            assert!(
                opens(&opened, proto, lo, hi),
                "{dir}: {proto} {lo}-{hi} ({what}) is not opened: {opened:?}"
            );
        }
        // Nothing opens everything.
        assert!(
            !opened.iter().any(|(_, l, h)| *l <= 1 && *h >= 65535),
            "{dir}: {opened:?}"
        );

        // The inventory output has the shape vm-provision reads.
        let inventory = top(&docs, "output")
            .into_iter()
            .find_map(|o| o.get("inventory"))
            .unwrap_or_else(|| panic!("{dir}: no output \"inventory\""));
        let value = &inventory[0]["value"];
        let keys: BTreeSet<&str> = value
            .as_object()
            .expect("the inventory is an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            BTreeSet::from(["region", "datacenter", "ssh", "hosts", "consul", "nomad"]),
            "{dir}"
        );
        assert_eq!(resolve(&docs, &value["region"]), region, "{dir}");
        assert_eq!(resolve(&docs, &value["datacenter"]), dc, "{dir}");
        let ssh: BTreeSet<&str> = value["ssh"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            ssh,
            BTreeSet::from(["user", "port", "identity_file", "known_hosts"]),
            "{dir}"
        );
        let hosts = value["hosts"].as_str().expect("hosts is an expression");
        for field in [
            "name",
            "address",
            "private_address",
            "public_address",
            "role",
            "node_class",
            "meta",
        ] {
            assert!(
                hosts.contains(&format!("{field} ")),
                "{dir}: hosts lack {field}"
            );
        }
        assert!(
            hosts.contains("\"server\"") && hosts.contains("\"client\""),
            "{dir}"
        );
        assert_eq!(
            resolve(&docs, &value["consul"]["retry_join_wan"]),
            &serde_json::json!([]),
            "{dir}: WAN joins are a variable, empty by default"
        );
        assert!(value["consul"]["version"].is_string(), "{dir}");
        assert!(value["nomad"]["version"].is_string(), "{dir}");
        assert_eq!(variable_default(&docs, "server_count"), 3, "{dir}");
    }
    // france has the node class the v2 job's database needs.
    let ovh = terraform_folder("infra/ovh");
    let out = top(&ovh, "output")
        .into_iter()
        .find_map(|o| o.get("inventory"))
        .unwrap();
    assert!(out[0]["value"]["hosts"]
        .as_str()
        .unwrap()
        .contains("\"data\""));
    assert!(
        variable_default(&ovh, "data_client_count")
            .as_u64()
            .unwrap()
            >= 1
    );
    assert_eq!(
        seen, all,
        "every .tf file under infra/ belongs to a checked cloud"
    );
}

#[test]
fn terraform_files_are_formatted() {
    let found = Command::new("terraform").arg("version").output();
    if !found.is_ok_and(|o| o.status.success()) {
        println!("note: no terraform on PATH, `terraform fmt -check` skipped");
        return;
    }
    let out = Command::new("terraform")
        .current_dir(root())
        .args(["fmt", "-check", "-recursive", "-diff", "infra"])
        .output()
        .expect("terraform runs");
    assert!(
        out.status.success(),
        "terraform fmt would change:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
