//! Jobs on the agent doubles' Nomad servers: placement on the region's client nodes by
//! datacenter and constraints, new versions, unchanged re-submissions, placement
//! failures, forwarding to the leader and to other regions, and `job-submit` against
//! it. Agents run in-process on their own 127.0.61-63.x addresses.

mod agent_support;

use std::path::PathBuf;
use std::process::Command;

use agent_support::{get_json, http, nomad_agent, wait_for};
use api_double::agent::{AgentDouble, NomadRole};
use serde_json::{json, Value};

/// A region `europe` on `127.0.<net>.x`: 3 servers (gce-west1) and 4 clients, two in
/// `gce-west1` and two in `france` (one of class `data`).
struct Region {
    servers: Vec<AgentDouble>,
    clients: Vec<AgentDouble>,
}

impl Region {
    fn start(net: u8) -> Region {
        let first = format!("127.0.{net}.1");
        let servers = (1..=3)
            .map(|i| {
                let mut role = NomadRole::server("europe", "gce-west1");
                if i > 1 {
                    role = role.with_retry_join(&[first.as_str()]);
                }
                nomad_agent(&format!("eu-{i}"), &format!("127.0.{net}.{i}"), role)
            })
            .collect();
        let clients = [
            ("gce-1", "gce-west1", ""),
            ("gce-2", "gce-west1", ""),
            ("fr-1", "france", ""),
            ("fr-data", "france", "data"),
        ]
        .iter()
        .enumerate()
        .map(|(i, (name, dc, class))| {
            let role = NomadRole::client("europe", dc)
                .with_retry_join(&[first.as_str()])
                .with_node_class(class)
                .with_meta("rack", "r1");
            nomad_agent(name, &format!("127.0.{net}.{}", 11 + i), role)
        })
        .collect();
        let region = Region { servers, clients };
        for s in &region.servers {
            wait_for(10, "4 ready nodes and 3 servers", || {
                let nodes = get_json(&format!("{}/v1/nodes", s.nomad_address()?));
                let peers = get_json(&format!("{}/v1/status/peers", s.nomad_address()?));
                let ready = nodes
                    .as_array()?
                    .iter()
                    .filter(|n| n["Status"] == "ready")
                    .count();
                (ready == 4 && peers.as_array()?.len() == 3).then_some(())
            });
        }
        region
    }

    fn url(&self, i: usize) -> String {
        self.servers[i].nomad_address().unwrap()
    }

    fn client_url(&self, i: usize) -> String {
        self.clients[i].nomad_address().unwrap()
    }
}

fn task(name: &str, service: &str, port: Option<(&str, u64)>) -> Value {
    let networks = port.map(|(label, value)| {
        json!([{"MBits": 10, "ReservedPorts": [{"Label": label, "Value": value}]}])
    });
    json!({
        "Name": name, "Driver": "docker", "Config": {"image": "nginx:1.27"},
        "Services": [{"Name": service, "PortLabel": port.map_or("", |p| p.0), "Tags": ["web"]}],
        "Resources": {"CPU": 500, "MemoryMB": 128, "Networks": networks},
    })
}

/// The demo job: v1 in `gce-west1`; v2 also in `france` with `database` on the data node.
fn pcd2017(v2: bool) -> Value {
    let mut database = json!({
        "Name": "database", "Count": 1,
        "Tasks": [task("mongo", "mongo", Some(("db", 27017)))],
    });
    let mut dcs = json!(["gce-west1"]);
    if v2 {
        dcs = json!(["gce-west1", "france"]);
        database["Constraints"] = json!([
            {"LTarget": "${node.class}", "RTarget": "data", "Operand": "="},
            {"LTarget": "${node.datacenter}", "RTarget": "france", "Operand": "="},
        ]);
    }
    json!({
        "ID": "pcd2017", "Name": "pcd2017", "Type": "service", "Datacenters": dcs,
        "TaskGroups": [
            {"Name": "webs", "Count": 2, "Tasks": [task("frontend", "frontend", Some(("http", 80)))]},
            database,
        ],
    })
}

/// Registers `job` through `url`; returns the register response.
fn register(url: &str, job: &Value) -> Value {
    let (status, _, body) = http("PUT", &format!("{url}/v1/jobs"), Some(&json!({"Job": job})));
    assert_eq!(status, 200, "register: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Waits for the evaluation to complete; returns it.
fn complete_eval(url: &str, eval: &str) -> Value {
    wait_for(10, "evaluation complete", || {
        let e = get_json(&format!("{url}/v1/evaluation/{eval}"));
        (e["Status"] == "complete").then_some(e)
    })
}

fn wait_deployment(url: &str, id: &str, status: &str) -> Value {
    wait_for(10, &format!("deployment {status}"), || {
        let d = get_json(&format!("{url}/v1/deployment/{id}"));
        (d["Status"] == status).then_some(d)
    })
}

/// Live allocations of the job as `(group, node name)`, sorted.
fn running(url: &str, job: &str) -> Vec<(String, String)> {
    let allocs = get_json(&format!("{url}/v1/job/{job}/allocations"));
    let mut v: Vec<(String, String)> = allocs
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["DesiredStatus"] == "run" && a["ClientStatus"] == "running")
        .map(|a| {
            (
                a["TaskGroup"].as_str().unwrap().to_string(),
                a["NodeName"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn pair(group: &str, node: &str) -> (String, String) {
    (group.to_string(), node.to_string())
}

#[test]
fn demo_job_v1_v2_resubmit_and_failure() {
    let region = Region::start(61);
    // v1 through a follower: forwarded to the leader.
    let v1 = register(&region.url(1), &pcd2017(false));
    let eval = complete_eval(&region.url(2), v1["EvalID"].as_str().unwrap());
    assert!(eval.get("FailedTGAllocs").is_none(), "{eval}");
    let dep1 = eval["DeploymentID"].as_str().unwrap().to_string();
    let d = wait_deployment(&region.url(0), &dep1, "successful");
    assert_eq!(d["JobVersion"], 0);
    assert_eq!(d["TaskGroups"]["webs"]["HealthyAllocs"], 2);
    assert_eq!(
        running(&region.url(0), "pcd2017"),
        [
            pair("database", "gce-1"),
            pair("webs", "gce-1"),
            pair("webs", "gce-2")
        ]
    );
    let job = get_json(&format!("{}/v1/job/pcd2017", region.url(2)));
    assert_eq!(
        (job["Version"].clone(), job["Stable"].clone()),
        (json!(0), json!(true))
    );

    // The same job again: a new evaluation, nothing else changes.
    let again = register(&region.url(0), &pcd2017(false));
    assert_eq!(again["JobModifyIndex"], v1["JobModifyIndex"]);
    let eval = complete_eval(&region.url(0), again["EvalID"].as_str().unwrap());
    assert_eq!(eval["DeploymentID"], dep1.as_str());
    let allocs = get_json(&format!("{}/v1/job/pcd2017/allocations", region.url(0)));
    assert_eq!(allocs.as_array().unwrap().len(), 3);
    assert_eq!(
        get_json(&format!("{}/v1/job/pcd2017", region.url(1)))["Version"],
        0
    );

    // v2: both datacenters, database on the data node in france.
    let v2 = register(&region.url(2), &pcd2017(true));
    let eval = complete_eval(&region.url(0), v2["EvalID"].as_str().unwrap());
    let dep2 = eval["DeploymentID"].as_str().unwrap().to_string();
    assert_ne!(dep2, dep1);
    wait_deployment(&region.url(1), &dep2, "successful");
    assert_eq!(
        running(&region.url(0), "pcd2017"),
        [
            pair("database", "fr-data"),
            pair("webs", "fr-1"),
            pair("webs", "gce-1")
        ]
    );
    let job = get_json(&format!("{}/v1/job/pcd2017", region.url(1)));
    assert_eq!(job["Version"], 1);
    let old: Vec<Value> = get_json(&format!("{}/v1/job/pcd2017/allocations", region.url(0)))
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["JobVersion"] == 0)
        .cloned()
        .collect();
    assert_eq!(old.len(), 3);
    assert!(old
        .iter()
        .all(|a| a["DesiredStatus"] == "stop" && a["ClientStatus"] == "complete"));
    let versions = get_json(&format!("{}/v1/job/pcd2017/versions", region.url(0)));
    assert_eq!(versions["Versions"].as_array().unwrap().len(), 2);

    // A node's allocations, asked through a client (forwarded to the leader).
    let nodes = get_json(&format!("{}/v1/nodes", region.url(0)));
    let data_node = nodes
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["Name"] == "fr-data")
        .unwrap()["ID"]
        .as_str()
        .unwrap()
        .to_string();
    let on_node = get_json(&format!(
        "{}/v1/node/{data_node}/allocations",
        region.client_url(0)
    ));
    let live: Vec<&Value> = on_node
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["ClientStatus"] == "running")
        .collect();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0]["TaskGroup"], "database");
    assert_eq!(live[0]["NodeName"], "fr-data");

    // No node of class gpu: a placement failure with a blocked evaluation.
    let mut nowhere = pcd2017(false);
    nowhere["ID"] = json!("nowhere");
    nowhere["Constraints"] =
        json!([{"LTarget": "${node.class}", "RTarget": "gpu", "Operand": "="}]);
    let r = register(&region.url(0), &nowhere);
    let eval = complete_eval(&region.url(0), r["EvalID"].as_str().unwrap());
    let metric = &eval["FailedTGAllocs"]["webs"];
    assert_eq!(metric["NodesEvaluated"], 2, "{eval}");
    assert_eq!(metric["ConstraintFiltered"]["${node.class} = gpu"], 2);
    assert_eq!(metric["CoalescedFailures"], 1);
    assert!(eval.get("DeploymentID").is_none());
    let blocked = get_json(&format!(
        "{}/v1/evaluation/{}",
        region.url(0),
        eval["BlockedEval"].as_str().unwrap()
    ));
    assert_eq!(blocked["Status"], "blocked");
    assert_eq!(
        get_json(&format!("{}/v1/job/nowhere", region.url(0)))["Status"],
        "pending"
    );

    // Plan of an impossible job reports the failure too.
    let (status, _, body) = http(
        "PUT",
        &format!("{}/v1/job/nowhere/plan", region.url(1)),
        Some(&json!({"Job": nowhere, "Diff": true})),
    );
    assert_eq!(status, 200, "{body}");
    let plan: Value = serde_json::from_str(&body).unwrap();
    assert!(plan["FailedTGAllocs"]["webs"].is_object(), "{plan}");

    // Check-index, unknown region, jobs list.
    let (status, _, body) = http(
        "PUT",
        &format!("{}/v1/jobs", region.url(1)),
        Some(&json!({"Job": pcd2017(true), "EnforceIndex": true, "JobModifyIndex": 1})),
    );
    assert_eq!(status, 500);
    assert!(
        body.starts_with(
            "Enforcing job modify index 1: job exists with conflicting job modify index:"
        ),
        "{body}"
    );
    let (status, _, body) = http(
        "GET",
        &format!("{}/v1/jobs?region=mars", region.url(0)),
        None,
    );
    assert_eq!((status, body.as_str()), (500, "No path to region"));
    let (status, _, body) = http(
        "PUT",
        &format!("{}/v1/jobs/parse", region.url(1)),
        Some(
            &json!({"JobHCL": "job \"example\" {\n  group \"cache\" {\n    count = var.n\n  }\n}\nvariable \"n\" {}\n", "Variables": "n = 3\n", "Canonicalize": true}),
        ),
    );
    assert_eq!(status, 200, "{body}");
    let parsed: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (
            parsed["ID"].clone(),
            parsed["TaskGroups"][0]["Count"].clone()
        ),
        (json!("example"), json!(3))
    );
    let list = get_json(&format!("{}/v1/jobs", region.url(2)));
    assert_eq!(list.as_array().unwrap().len(), 2);

    // Static port 80 is free on gce-2 only: one more web fits, the second does not.
    let mut more = pcd2017(false);
    more["ID"] = json!("more-webs");
    more["TaskGroups"] = json!([more["TaskGroups"][0].clone()]);
    let r = register(&region.url(0), &more);
    let eval = complete_eval(&region.url(0), r["EvalID"].as_str().unwrap());
    let metric = &eval["FailedTGAllocs"]["webs"];
    assert_eq!(metric["NodesExhausted"], 1, "{eval}");
    assert_eq!(
        metric["DimensionExhausted"]["network: reserved port collision"],
        1
    );
    wait_for(10, "one more web on gce-2", || {
        (running(&region.url(0), "more-webs") == [pair("webs", "gce-2")]).then_some(())
    });
}

#[test]
fn jobs_reach_another_region_and_deregister() {
    let eu = nomad_agent(
        "eu-1",
        "127.0.62.1",
        NomadRole::server("europe", "gce-west1"),
    );
    let us = nomad_agent(
        "us-1",
        "127.0.62.2",
        NomadRole::server("us", "aws-east1").with_retry_join(&["127.0.62.1"]),
    );
    let _client = nomad_agent(
        "us-client",
        "127.0.62.3",
        NomadRole::client("us", "aws-east1").with_retry_join(&["127.0.62.2"]),
    );
    let eu_url = eu.nomad_address().unwrap();
    let us_url = us.nomad_address().unwrap();
    wait_for(10, "regions and the us node", || {
        // `?region=us` is a 500 until Europe has heard of the US region (a join away).
        let regions = get_json(&format!("{eu_url}/v1/regions"));
        (regions.as_array()?.len() == 2).then_some(())?;
        let nodes = get_json(&format!("{eu_url}/v1/nodes?region=us"));
        (nodes.as_array()?.len() == 1).then_some(())
    });
    let mut job = pcd2017(false);
    job["Datacenters"] = json!(["aws-*"]);
    job["Region"] = json!("us");
    let r = register(&eu_url, &job);
    let e = complete_eval_in(&eu_url, r["EvalID"].as_str().unwrap(), Some("us"));
    let dep = e["DeploymentID"].as_str().unwrap();
    wait_deployment(&us_url, dep, "successful");
    // Visible from Europe with ?region=us, not without.
    let job_us = get_json(&format!("{eu_url}/v1/job/pcd2017?region=us"));
    assert_eq!(job_us["Region"], "us");
    let (status, _, _) = http("GET", &format!("{eu_url}/v1/job/pcd2017"), None);
    assert_eq!(status, 404);

    let (status, _, body) = http("DELETE", &format!("{us_url}/v1/job/pcd2017"), None);
    assert_eq!(status, 200, "{body}");
    wait_for(10, "allocations stopped", || {
        let allocs = get_json(&format!("{us_url}/v1/job/pcd2017/allocations"));
        allocs
            .as_array()?
            .iter()
            .all(|a| a["ClientStatus"] == "complete")
            .then_some(())
    });
    assert_eq!(
        get_json(&format!("{us_url}/v1/job/pcd2017"))["Status"],
        "dead"
    );
}

fn complete_eval_in(url: &str, eval: &str, region: Option<&str>) -> Value {
    let q = region.map_or(String::new(), |r| format!("?region={r}"));
    wait_for(10, "evaluation complete", || {
        let e = get_json(&format!("{url}/v1/evaluation/{eval}{q}"));
        (e["Status"] == "complete").then_some(e)
    })
}

#[test]
fn blocked_job_is_placed_when_a_matching_node_arrives() {
    let server = nomad_agent(
        "eu-1",
        "127.0.67.1",
        NomadRole::server("europe", "gce-west1"),
    );
    let url = server.nomad_address().unwrap();
    let mut job = pcd2017(false);
    job["Datacenters"] = json!(["*"]);
    job["Constraints"] = json!([{"LTarget": "${meta.gpu}", "RTarget": "", "Operand": "is_set"}]);
    job["TaskGroups"][0]["Count"] = json!(1);
    let r = register(&url, &job);
    let eval = complete_eval(&url, r["EvalID"].as_str().unwrap());
    let blocked = eval["BlockedEval"].as_str().unwrap().to_string();
    assert_eq!(eval["FailedTGAllocs"]["webs"]["NodesEvaluated"], 0);
    let _gpu = nomad_agent(
        "gpu-1",
        "127.0.67.2",
        NomadRole::client("europe", "gce-west1")
            .with_retry_join(&["127.0.67.1"])
            .with_meta("gpu", "a100"),
    );
    let again = complete_eval(&url, &blocked);
    assert!(again.get("FailedTGAllocs").is_none(), "{again}");
    wait_deployment(&url, again["DeploymentID"].as_str().unwrap(), "successful");
    assert_eq!(
        running(&url, "pcd2017"),
        [pair("database", "gpu-1"), pair("webs", "gpu-1")]
    );
    let node_id = get_json(&format!("{url}/v1/nodes"))[0]["ID"]
        .as_str()
        .unwrap()
        .to_string();
    let node = get_json(&format!("{url}/v1/node/{node_id}"));
    assert_eq!(node["Name"], "gpu-1");
    assert_eq!(node["Meta"]["gpu"], "a100");
    assert_eq!(http("GET", &format!("{url}/v1/node/nope"), None).0, 404);
}

#[test]
fn jobs_survive_the_leader() {
    let mut leader = nomad_agent(
        "eu-1",
        "127.0.68.1",
        NomadRole::server("europe", "gce-west1"),
    );
    let followers: Vec<_> = (2..=3)
        .map(|i| {
            nomad_agent(
                &format!("eu-{i}"),
                &format!("127.0.68.{i}"),
                NomadRole::server("europe", "gce-west1").with_retry_join(&["127.0.68.1"]),
            )
        })
        .collect();
    let _clients: Vec<_> = ["a", "b"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            nomad_agent(
                name,
                &format!("127.0.68.{}", 11 + i),
                NomadRole::client("europe", "gce-west1").with_retry_join(&["127.0.68.1"]),
            )
        })
        .collect();
    let url = |i: usize| followers[i].nomad_address().unwrap();
    wait_for(10, "2 nodes and 3 servers", || {
        let nodes = get_json(&format!("{}/v1/nodes", url(1)));
        let peers = get_json(&format!("{}/v1/status/peers", url(1)));
        (nodes.as_array()?.len() == 2 && peers.as_array()?.len() == 3).then_some(())
    });
    let v1 = register(&url(0), &pcd2017(false));
    let eval = complete_eval(&url(0), v1["EvalID"].as_str().unwrap());
    wait_deployment(
        &url(0),
        eval["DeploymentID"].as_str().unwrap(),
        "successful",
    );
    // A follower has copied the job before the leader goes.
    wait_for(5, "the job copied", || {
        let copy = get_json(&format!("{}{}", url(1), "/v1/double/jobs"));
        (copy["Jobs"].as_array()?.len() == 1).then_some(())
    });
    leader.stop();
    // Until its peers see it failed, requests still go to the old leader and fail.
    wait_for(10, "eu-2 leads and runs the job again", || {
        let lead = get_json(&format!("{}/v1/status/leader", url(1)));
        let (status, _, _) = http("GET", &format!("{}/v1/job/pcd2017", url(1)), None);
        (lead == "127.0.68.2:4647" && status == 200 && running(&url(1), "pcd2017").len() == 3)
            .then_some(())
    });
    let job = get_json(&format!("{}/v1/job/pcd2017", url(1)));
    assert_eq!(job["Version"], 0);
    assert_eq!(job["JobModifyIndex"], v1["JobModifyIndex"]);
    let again = register(&url(1), &pcd2017(false));
    assert_eq!(again["JobModifyIndex"], v1["JobModifyIndex"]);
}

/// `target/debug/job-submit` of this workspace, when it has been built.
fn job_submit() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let bin = exe.parent()?.parent()?.join("job-submit");
    bin.exists().then_some(bin)
}

#[test]
fn job_submit_runs_the_demo_jobs_and_a_rerun_changes_nothing() {
    let Some(bin) = job_submit() else {
        eprintln!("job-submit is not built (cargo build -p job-submit): skipped");
        return;
    };
    let region = Region::start(63);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let run = |file: &str| {
        let out = Command::new(&bin)
            .arg(root.join(file))
            .env("NOMAD_ADDR", region.url(1))
            .output()
            .expect("run job-submit");
        assert!(
            out.status.success(),
            "job-submit {file}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run("jobs/pcd2017.nomad");
    assert_eq!(
        running(&region.url(0), "pcd2017"),
        [
            pair("database", "gce-1"),
            pair("webs", "gce-1"),
            pair("webs", "gce-2")
        ]
    );
    run("jobs/pcd2017.nomad");
    let job = get_json(&format!("{}/v1/job/pcd2017", region.url(2)));
    assert_eq!(job["Version"], 0);
    run("jobs/pcd2017-v2.nomad");
    assert_eq!(
        running(&region.url(0), "pcd2017"),
        [
            pair("database", "fr-data"),
            pair("webs", "fr-1"),
            pair("webs", "gce-1")
        ]
    );
    run("jobs/pcd2017-v2.nomad");
    let job = get_json(&format!("{}/v1/job/pcd2017", region.url(2)));
    assert_eq!(job["Version"], 1);
    // What scripts/etape2-run relies on: plans of the current file show no changes
    // (exit 0), of the older one changes (exit 1).
    let plan = |file: &str| {
        Command::new(&bin)
            .args(["--plan", "--address", &region.url(2)])
            .arg(root.join(file))
            .output()
            .expect("run job-submit --plan")
            .status
            .code()
    };
    assert_eq!(plan("jobs/pcd2017-v2.nomad"), Some(0));
    assert_eq!(plan("jobs/pcd2017.nomad"), Some(1));
    let deployments = get_json(&format!("{}/v1/job/pcd2017/deployments", region.url(0)));
    assert_eq!(deployments.as_array().unwrap().len(), 2);
}
