//! Life-cycle tests: each scenario plays the sequence the contract (section 3) describes.

mod support;

use std::time::{Duration, Instant};

use api_double::{job_json, DropOn, NomadDouble, Scenario};
use serde_json::{json, Value};
use support::{Client, Resp};

const FAST: Duration = Duration::from_millis(30);

fn eval_path(id: &Value) -> String {
    format!(
        "/v1/evaluation/{}?related=true",
        id.as_str().expect("eval id")
    )
}

#[test]
fn happy_path_runs_eval_then_deployment_to_success() {
    let nomad = NomadDouble::start(Scenario::happy_path().with_step(Duration::from_millis(80)));
    let client = Client::new(&nomad);
    let reg = client.register(&job_json("example", &[("web", 2)]));
    let eval = client.get(&eval_path(&reg["EvalID"])).json();
    assert_eq!(eval["Status"], "pending");
    assert!(eval.get("DeploymentID").is_none());
    assert_eq!(eval["TriggeredBy"], "job-register");
    let eval_allocs = format!(
        "/v1/evaluation/{}/allocations",
        reg["EvalID"].as_str().unwrap()
    );
    let placed = client.poll(&eval_allocs, |a| a.as_array().is_some_and(|a| a.len() == 2));
    assert_eq!(placed[0]["DesiredStatus"], "run");
    let done = client.poll(&eval_path(&reg["EvalID"]), |e| e["Status"] == "complete");
    let dep_id = done["DeploymentID"]
        .as_str()
        .expect("DeploymentID once complete")
        .to_string();
    let dep_path = format!("/v1/deployment/{dep_id}");
    let first = client.get(&dep_path);
    let mut index = first.index();
    let mut dep = first.json();
    let mut healthy_seen = Vec::new();
    while dep["Status"] == "running" {
        assert_eq!(dep["StatusDescription"], "Deployment is running");
        healthy_seen.push(dep["TaskGroups"]["web"]["HealthyAllocs"].as_u64().unwrap());
        let next = client.get(&format!("{dep_path}?index={index}&stale="));
        index = next.index();
        dep = next.json();
    }
    assert_eq!(dep["Status"], "successful");
    assert!(
        healthy_seen.contains(&1),
        "healthy grows one by one: {healthy_seen:?}"
    );
    assert_eq!(
        dep["StatusDescription"],
        "Deployment completed successfully"
    );
    let tg = &dep["TaskGroups"]["web"];
    assert_eq!(
        (
            tg["DesiredTotal"].as_u64(),
            tg["PlacedAllocs"].as_u64(),
            tg["HealthyAllocs"].as_u64()
        ),
        (Some(2), Some(2), Some(2))
    );
    let allocs = client.get("/v1/job/example/allocations").json();
    assert!(allocs
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["ClientStatus"] == "running" && a["DeploymentStatus"]["Healthy"] == true));
    assert_eq!(client.get("/v1/job/example").json()["Status"], "running");
}

#[test]
fn batch_jobs_have_no_deployment() {
    let nomad = NomadDouble::start(Scenario::happy_path().with_step(FAST));
    let client = Client::new(&nomad);
    let mut job = job_json("batchy", &[("work", 1)]);
    job["Type"] = json!("batch");
    let reg = client.register(&job);
    let eval = client.poll(&eval_path(&reg["EvalID"]), |e| e["Status"] == "complete");
    assert!(eval.get("DeploymentID").is_none());
    client.poll("/v1/job/batchy/allocations", |a| {
        a[0]["ClientStatus"] == "complete"
    });
    assert_eq!(client.get("/v1/job/batchy/deployment").body, "null");
}

#[test]
fn placement_failure_blocks_an_eval_and_has_no_deployment() {
    let nomad = NomadDouble::start(Scenario::placement_failure().with_step(FAST));
    let client = Client::new(&nomad);
    let reg = client.register(&job_json("example", &[("cache", 3)]));
    let eval = client.poll(&eval_path(&reg["EvalID"]), |e| e["Status"] == "complete");
    let metric = &eval["FailedTGAllocs"]["cache"];
    assert_eq!(metric["CoalescedFailures"], 2);
    for k in [
        "NodesEvaluated",
        "NodesFiltered",
        "NodesExhausted",
        "ConstraintFiltered",
        "ClassFiltered",
        "DimensionExhausted",
        "NodesAvailable",
    ] {
        assert!(!metric[k].is_null(), "{k}");
    }
    let blocked_id = eval["BlockedEval"].as_str().unwrap();
    assert_eq!(eval["RelatedEvals"][0]["ID"], blocked_id);
    let blocked = client.get(&format!("/v1/evaluation/{blocked_id}")).json();
    assert_eq!(blocked["Status"], "blocked");
    assert_eq!(blocked["PreviousEval"], reg["EvalID"]);
    std::thread::sleep(FAST * 3);
    assert_eq!(client.get("/v1/job/example/deployment").body, "null");
    assert_eq!(client.get("/v1/job/example/allocations").body, "[]");
    assert_eq!(
        client.get("/v1/job/example/summary").json()["Summary"]["cache"]["Queued"],
        3
    );
}

#[test]
fn next_eval_chain_waits_then_deploys() {
    let wait = Duration::from_millis(200);
    let nomad = NomadDouble::start(Scenario::next_eval_chain(wait).with_step(FAST));
    let client = Client::new(&nomad);
    let reg = client.register(&job_json("example", &[("cache", 1)]));
    let first = client.poll(&eval_path(&reg["EvalID"]), |e| e["Status"] == "complete");
    assert_eq!(first["Wait"], 200_000_000);
    assert!(first.get("DeploymentID").is_none());
    let next = client.get(&eval_path(&first["NextEval"])).json();
    assert_eq!(next["TriggeredBy"], "rolling-update");
    assert_eq!(next["PreviousEval"], reg["EvalID"]);
    let next = client.poll(&eval_path(&first["NextEval"]), |e| {
        e["Status"] == "complete"
    });
    let dep = next["DeploymentID"].as_str().unwrap();
    client.poll(&format!("/v1/deployment/{dep}"), |d| {
        d["Status"] == "successful"
    });
}

#[test]
fn failed_deployment_auto_reverts_to_a_new_successful_deployment() {
    let nomad = NomadDouble::start(Scenario::failed_with_auto_revert().with_step(FAST));
    let client = Client::new(&nomad);
    let reg = client.register(&job_json("example", &[("web", 2)]));
    let eval = client.poll(&eval_path(&reg["EvalID"]), |e| e["Status"] == "complete");
    let dep_id = eval["DeploymentID"].as_str().unwrap().to_string();
    let failed = client.poll(&format!("/v1/deployment/{dep_id}"), |d| {
        d["Status"] == "failed"
    });
    assert!(failed["StatusDescription"]
        .as_str()
        .unwrap()
        .starts_with("Failed due to unhealthy allocations"));
    assert_eq!(failed["TaskGroups"]["web"]["AutoRevert"], true);
    assert_eq!(failed["TaskGroups"]["web"]["UnhealthyAllocs"], 2);
    assert_eq!(failed["JobVersion"], 1);
    let allocs = client
        .get(&format!("/v1/deployment/allocations/{dep_id}"))
        .json();
    let alloc = client
        .get(&format!(
            "/v1/allocation/{}",
            allocs[0]["ID"].as_str().unwrap()
        ))
        .json();
    assert_eq!(alloc["ClientStatus"], "failed");
    let task = &alloc["TaskStates"]["web"];
    assert_eq!(
        (task["State"].as_str(), task["Failed"].as_bool()),
        (Some("dead"), Some(true))
    );
    let events = task["Events"].as_array().unwrap();
    assert!(events
        .iter()
        .any(|e| e["Type"] == "Terminated" && e["ExitCode"] == 1));
    assert!(events
        .iter()
        .any(|e| e["Type"] == "Not Restarting" && e["FailsTask"] == true));
    let latest = client.poll("/v1/job/example/deployment", |d| d["ID"] != dep_id.as_str());
    assert_eq!(latest["Status"], "running");
    let rollback_id = latest["ID"].as_str().unwrap();
    client.poll(&format!("/v1/deployment/{rollback_id}"), |d| {
        d["Status"] == "successful"
    });
    let job = client.get("/v1/job/example").json();
    assert_eq!(job["Version"], 2);
    assert_eq!(nomad.deployment_ids("default", "example").len(), 2);
}

#[test]
fn canary_deployment_waits_for_promotion() {
    let nomad = NomadDouble::start(Scenario::canary_awaiting_promotion().with_step(FAST));
    let client = Client::new(&nomad);
    let mut job = job_json("example", &[("web", 3)]);
    job["TaskGroups"][0]["Update"] = json!({"Canary": 2, "MaxParallel": 1});
    let reg = client.register(&job);
    let eval = client.poll(&eval_path(&reg["EvalID"]), |e| e["Status"] == "complete");
    let dep_path = format!("/v1/deployment/{}", eval["DeploymentID"].as_str().unwrap());
    let dep = client.poll(&dep_path, |d| d["TaskGroups"]["web"]["HealthyAllocs"] == 2);
    let tg = &dep["TaskGroups"]["web"];
    assert_eq!(dep["Status"], "running");
    assert_eq!(
        dep["StatusDescription"],
        "Deployment is running but requires manual promotion"
    );
    assert_eq!(
        (tg["DesiredCanaries"].as_u64(), tg["DesiredTotal"].as_u64()),
        (Some(2), Some(3))
    );
    assert_eq!(tg["PlacedCanaries"].as_array().map(Vec::len), Some(2));
    assert_eq!(tg["Promoted"], false);
    // It never completes by itself.
    let index = client.get(&dep_path).index();
    let still = client.get(&format!("{dep_path}?index={index}&wait=300ms"));
    assert_eq!(still.json()["Status"], "running");
    let dep_id = dep["ID"].as_str().unwrap();
    let promote = client.put(
        &format!("/v1/deployment/promote/{dep_id}"),
        &json!({"DeploymentID": dep_id, "All": true}),
    );
    assert_eq!(promote.status, 200, "{}", promote.body);
    assert!(promote.index() > index);
    let done = client.poll(&dep_path, |d| d["Status"] == "successful");
    assert_eq!(done["TaskGroups"]["web"]["Promoted"], true);
    assert_eq!(done["TaskGroups"]["web"]["PlacedAllocs"], 3);
    let again = client.put(
        &format!("/v1/deployment/promote/{dep_id}"),
        &json!({"DeploymentID": dep_id, "All": true}),
    );
    assert_eq!(again.status, 500);
    let missing = client.put(
        "/v1/deployment/promote/nope",
        &json!({"DeploymentID": "nope", "All": true}),
    );
    assert_eq!(
        (missing.status, missing.body.as_str()),
        (404, "deployment not found")
    );
}

#[test]
fn a_new_version_cancels_the_running_deployment() {
    let nomad = NomadDouble::start(Scenario::canary_awaiting_promotion().with_step(FAST));
    let client = Client::new(&nomad);
    client.register(&job_json("example", &[("web", 1)]));
    client.poll("/v1/job/example/deployment", |d| d["Status"] == "running");
    let first = nomad.deployment_ids("default", "example")[0].clone();
    client.register(&job_json("example", &[("web", 2)]));
    let old = client.get(&format!("/v1/deployment/{first}")).json();
    assert_eq!(
        (old["Status"].as_str(), old["StatusDescription"].as_str()),
        (
            Some("cancelled"),
            Some("Cancelled due to newer version of job")
        )
    );
}

#[test]
fn slow_scenario_delays_every_response() {
    let nomad = NomadDouble::start(Scenario::slow(Duration::from_millis(250)));
    let client = Client::new(&nomad);
    let start = Instant::now();
    let r: Resp = client.get("/v1/status/leader");
    assert_eq!(r.status, 200);
    assert!(start.elapsed() >= Duration::from_millis(240));
}

#[test]
fn drop_connection_closes_the_nth_eval_read_only() {
    let nomad =
        NomadDouble::start(Scenario::drop_connection(DropOn::EvaluationRead, 2).with_step(FAST));
    let client = Client::new(&nomad);
    let reg = client.register(&job_json("example", &[("web", 1)]));
    let path = eval_path(&reg["EvalID"]);
    assert_eq!(client.call("GET", &path, None).status, 200);
    assert!(
        client.try_call("GET", &path, None).is_err(),
        "second eval read is dropped"
    );
    assert_eq!(client.call("GET", &path, None).status, 200);
    let alloc_reads = format!(
        "/v1/evaluation/{}/allocations",
        reg["EvalID"].as_str().unwrap()
    );
    assert_eq!(client.call("GET", &alloc_reads, None).status, 200);
    let gets = nomad
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/v1/evaluation/"))
        .count();
    assert_eq!(gets, 4, "dropped requests are still recorded");
}

#[test]
fn drop_connection_on_deployment_read() {
    let nomad =
        NomadDouble::start(Scenario::drop_connection(DropOn::DeploymentRead, 1).with_step(FAST));
    let client = Client::new(&nomad);
    client.register(&job_json("example", &[("web", 1)]));
    let dep = client.poll("/v1/job/example/deployment", |d| d.is_object());
    let path = format!("/v1/deployment/{}", dep["ID"].as_str().unwrap());
    assert!(client.try_call("GET", &path, None).is_err());
    assert_eq!(client.get(&path).status, 200);
}

#[test]
fn acl_and_tls_combine_with_the_happy_path() {
    let pki = api_double::TestPki::new();
    let scenario = Scenario::happy_path()
        .with_step(FAST)
        .with_acl_token("tok")
        .with_tls(pki.server_setup(true));
    let nomad = NomadDouble::start(scenario);
    use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};
    let tls = TlsConfig::builder()
        .root_certs(RootCerts::new_with_certs(&[Certificate::from_pem(
            pki.ca_cert_pem.as_bytes(),
        )
        .unwrap()]))
        .client_cert(Some(ClientCert::new_with_certs(
            &[Certificate::from_pem(pki.client_cert_pem.as_bytes()).unwrap()],
            PrivateKey::from_pem(pki.client_key_pem.as_bytes()).unwrap(),
        )))
        .build();
    let client = Client::with_tls(nomad.address(), Some(tls)).token("tok");
    client.register(&job_json("example", &[("web", 1)]));
    assert!(nomad.wait_for_deployment_status(
        "default",
        "example",
        "successful",
        Duration::from_secs(5)
    ));
}

#[test]
fn shutdown_releases_blocked_queries() {
    let nomad = NomadDouble::start(Scenario::happy_path());
    let addr = nomad.address();
    let client = Client::with_tls(addr, None);
    let waiter = std::thread::spawn(move || {
        let start = Instant::now();
        let _ = client.try_call("GET", "/v1/job/ghost/allocations?index=99&wait=60s", None);
        start.elapsed()
    });
    std::thread::sleep(Duration::from_millis(200));
    drop(nomad);
    let took = waiter.join().unwrap();
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn drop_mid_response_cuts_the_body() {
    let nomad = NomadDouble::start(
        Scenario::drop_connection(DropOn::AnyRequest, 1).with_drop_mid_response(),
    );
    let answer = support::raw(&nomad, b"GET /v1/agent/self HTTP/1.1\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .and_then(|v| v.parse().ok())
        .unwrap();
    assert!(body.len() < length, "body cut short");
    let client = Client::new(&nomad);
    assert_eq!(client.get("/v1/agent/self").status, 200);
}

#[test]
fn server_error_fails_one_request() {
    let nomad =
        NomadDouble::start(Scenario::server_error(DropOn::EvaluationRead, 1).with_step(FAST));
    let client = Client::new(&nomad);
    let reg = client.register(&job_json("example", &[("web", 1)]));
    let failed = client.get(&eval_path(&reg["EvalID"]));
    assert_eq!(
        (failed.status, failed.body.as_str()),
        (500, "No cluster leader")
    );
    assert_eq!(
        failed.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(client.get(&eval_path(&reg["EvalID"])).status, 200);
}

/// Kills the child process when the test ends, even on failure.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn standalone_binary_serves_the_double() {
    use std::io::BufRead;
    let mut child = KillOnDrop(
        std::process::Command::new(env!("CARGO_BIN_EXE_nomad-double"))
            .args(["--addr", "127.0.0.1:0", "--step-ms", "20", "--token", "t"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn nomad-double"),
    );
    let mut line = String::new();
    let stdout = child.0.stdout.take().unwrap();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap();
    let client = Client::with_tls(line.trim().to_string(), None).token("t");
    client.register(&job_json("example", &[("web", 1)]));
    client.poll("/v1/job/example/deployment", |d| {
        d["Status"] == "successful"
    });
}
