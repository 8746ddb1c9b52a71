//! The built `job-submit` binary against the Nomad API test double, one
//! scenario per test: exit code, JSON verdict, and the requests Nomad got.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use api_double::{job_json, DropOn, DropRule, NomadDouble, RecordedRequest, Scenario, TestPki};
use assert_cmd::cargo::CommandCargoExt;
use serde_json::{json, Value};

/// Every `NOMAD_*` variable the tool reads, removed so the machine's own
/// settings cannot leak into a test.
const NOMAD_ENV: &[&str] = &[
    "NOMAD_ADDR",
    "NOMAD_REGION",
    "NOMAD_NAMESPACE",
    "NOMAD_TOKEN",
    "NOMAD_CACERT",
    "NOMAD_CAPATH",
    "NOMAD_CLIENT_CERT",
    "NOMAD_CLIENT_KEY",
    "NOMAD_TLS_SERVER_NAME",
    "NOMAD_SKIP_VERIFY",
    "NOMAD_HTTP_AUTH",
];

struct Run {
    code: Option<i32>,
    report: Value,
    stdout: String,
    stderr: String,
}

fn job_submit(address: &str) -> Command {
    let mut cmd = Command::cargo_bin("job-submit").expect("job-submit is built");
    for var in NOMAD_ENV {
        cmd.env_remove(var);
    }
    cmd.env("NOMAD_ADDR", address).arg("--compact");
    cmd
}

fn run(mut cmd: Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("job-submit runs");
    let stdout = String::from_utf8(stdout).expect("UTF-8 stdout");
    let stderr = String::from_utf8(stderr).expect("UTF-8 stderr");
    assert_ne!(status.code(), Some(101), "job-submit panicked: {stderr}");
    let report = if stdout.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {stdout}"))
    };
    Run {
        code: status.code(),
        report,
        stdout,
        stderr,
    }
}

fn write_job(dir: &Path, job: &Value) -> PathBuf {
    let path = dir.join("job.json");
    std::fs::write(
        &path,
        serde_json::to_vec_pretty(&json!({ "Job": job })).unwrap(),
    )
    .unwrap();
    path
}

fn submit(nomad: &NomadDouble, job: &Value, args: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let file = write_job(dir.path(), job);
    let mut cmd = job_submit(&nomad.address());
    cmd.args(args).arg(&file);
    run(cmd)
}

fn requests_to(nomad: &NomadDouble, method: &str, prefix: &str) -> Vec<RecordedRequest> {
    nomad
        .requests()
        .into_iter()
        .filter(|r| r.method == method && r.path.starts_with(prefix))
        .collect()
}

/// Whether the tool read any evaluation or deployment (it followed the job).
fn followed(nomad: &NomadDouble) -> bool {
    nomad.requests().iter().any(|r| {
        r.method == "GET"
            && (r.path.starts_with("/v1/evaluation") || r.path.starts_with("/v1/deployment"))
    })
}

const REPORT_KEYS: &[&str] = &[
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
];

fn assert_shape(report: &Value) {
    let object = report.as_object().expect("the report is an object");
    for key in REPORT_KEYS {
        assert!(object.contains_key(*key), "{key} missing: {report}");
    }
    assert_eq!(object.len(), REPORT_KEYS.len(), "unexpected keys: {report}");
}

#[test]
fn a_healthy_deployment_is_successful() {
    let nomad = NomadDouble::start(Scenario::happy_path());
    let job = job_json("web", &[("frontend", 2), ("db", 1)]);
    let r = submit(&nomad, &job, &[]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_shape(&r.report);
    assert_eq!(r.report["status"], "successful");
    assert_eq!(r.report["job_id"], "web");
    // Where Nomad put the job: the agent's region, the default namespace.
    assert!(r.report["region"].is_string(), "{}", r.report);
    assert_eq!(r.report["namespace"], "default");
    assert!(r.report["eval_id"].is_string());
    assert!(r.report["deployment_id"].is_string());
    assert_eq!(
        r.report["task_groups"]["frontend"],
        json!({"desired": 2, "placed": 2, "healthy": 2, "unhealthy": 0, "canaries": 0})
    );
    assert_eq!(r.report["task_groups"]["db"]["healthy"], 1);

    // One registration, with the file as Submission.
    let registers = requests_to(&nomad, "PUT", "/v1/jobs");
    assert_eq!(registers.len(), 1);
    let body = registers[0].body_json().unwrap();
    assert_eq!(body["Job"]["ID"], "web");
    assert_eq!(body["Submission"]["Format"], "json");
    let source: Value =
        serde_json::from_str(body["Submission"]["Source"].as_str().unwrap()).unwrap();
    assert_eq!(source["Job"]["ID"], "web");
    assert!(body.get("EnforceIndex").is_none());
    // Progress went to stderr, one line per event.
    assert!(r.stderr.contains("==> "), "{}", r.stderr);
    assert!(r.stderr.contains("Monitoring deployment"), "{}", r.stderr);
}

#[test]
fn monitoring_uses_blocking_queries() {
    let nomad = NomadDouble::start(Scenario::happy_path());
    let r = submit(&nomad, &job_json("web", &[("app", 3)]), &[]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let reads: Vec<_> = nomad
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET")
        .collect();
    // After the first read of each object, reads pass the last index back.
    assert!(
        reads
            .iter()
            .any(|r| r.query_value("index").is_some() && r.query_value("wait").is_some()),
        "no blocking query among {reads:?}"
    );
    // A step-wise life of a few state changes needs only a handful of
    // reads, not one per poll interval.
    assert!(reads.len() <= 8, "{} reads", reads.len());
}

#[test]
fn an_hcl_job_file_is_converted_and_sent_with_its_source() {
    let nomad = NomadDouble::start(Scenario::happy_path());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("web.nomad");
    let hcl = "variable \"image\" {\n  type = string\n}\n\njob \"web\" {\n  datacenters = [\"dc1\"]\n  group \"app\" {\n    count = 2\n    task \"server\" {\n      driver = \"docker\"\n      config {\n        image = var.image\n      }\n    }\n  }\n}\n";
    std::fs::write(&file, hcl).unwrap();
    let mut cmd = job_submit(&nomad.address());
    cmd.args(["--var", "image=nginx:1.27"]).arg(&file);
    let r = run(cmd);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let body = requests_to(&nomad, "PUT", "/v1/jobs")[0]
        .body_json()
        .unwrap();
    assert_eq!(
        body["Job"]["TaskGroups"][0]["Tasks"][0]["Config"]["image"],
        "nginx:1.27"
    );
    assert_eq!(body["Submission"]["Format"], "hcl2");
    assert_eq!(body["Submission"]["Source"], hcl);
    assert_eq!(
        body["Submission"]["VariableFlags"],
        json!({"image": "nginx:1.27"})
    );
}

#[test]
fn a_placement_failure_is_explained() {
    let nomad = NomadDouble::start(Scenario::placement_failure());
    let r = submit(&nomad, &job_json("web", &[("cache", 2)]), &[]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_shape(&r.report);
    assert_eq!(r.report["status"], "placement_failed");
    let failure = &r.report["placement_failures"]["cache"];
    assert!(failure["failed"].as_u64().unwrap() >= 1, "{failure}");
    for key in [
        "nodes_evaluated",
        "nodes_filtered",
        "nodes_exhausted",
        "constraint_filtered",
        "dimension_exhausted",
    ] {
        assert!(failure.get(key).is_some(), "{key} missing in {failure}");
    }
    assert!(r.stderr.contains("failed to place"), "{}", r.stderr);
    assert_eq!(r.report["deployment_id"], Value::Null);
}

#[test]
fn a_next_eval_chain_is_followed_to_the_last_evaluation() {
    let nomad = NomadDouble::start(Scenario::next_eval_chain(Duration::from_millis(300)));
    let r = submit(&nomad, &job_json("web", &[("app", 1)]), &[]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.report["status"], "successful");
    let registered = requests_to(&nomad, "PUT", "/v1/jobs");
    assert_eq!(registered.len(), 1);
    // The reported evaluation is the follow-up, not the registration's.
    let evals: Vec<String> = requests_to(&nomad, "GET", "/v1/evaluation/")
        .iter()
        .map(|r| r.path.clone())
        .collect();
    let distinct: std::collections::BTreeSet<_> = evals.iter().collect();
    assert!(distinct.len() >= 2, "only {distinct:?} read");
    let last = r.report["eval_id"].as_str().unwrap();
    assert!(evals.last().unwrap().ends_with(last), "{evals:?} vs {last}");
    assert!(
        r.stderr.contains("Monitoring next evaluation"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_failed_deployment_reports_the_rollback_and_failing_allocations() {
    let nomad = NomadDouble::start(Scenario::failed_with_auto_revert());
    let r = submit(&nomad, &job_json("web", &[("app", 2)]), &[]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_shape(&r.report);
    assert_eq!(r.report["status"], "failed");
    let deployment = r.report["deployment_id"].as_str().unwrap();
    let rollback = r.report["rollback_deployment_id"]
        .as_str()
        .expect("a rollback deployment");
    assert_ne!(deployment, rollback);
    let failed = r.report["failed_allocations"].as_array().unwrap();
    assert!(!failed.is_empty(), "{}", r.report);
    let tasks = failed[0]["tasks"].as_object().unwrap();
    let events = tasks.values().next().unwrap()["last_events"]
        .as_array()
        .unwrap();
    assert!(!events.is_empty(), "{}", r.report);
    assert!(events.len() <= 3);
}

#[test]
fn canaries_awaiting_promotion_end_the_run() {
    let nomad = NomadDouble::start(Scenario::canary_awaiting_promotion());
    let r = submit(
        &nomad,
        &job_json("web", &[("app", 3)]),
        &["--timeout", "30s"],
    );
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_eq!(r.report["status"], "awaiting_promotion");
    assert!(r.report["task_groups"]["app"]["canaries"].as_u64().unwrap() > 0);
    assert!(requests_to(&nomad, "PUT", "/v1/deployment/promote/").is_empty());
}

#[test]
fn auto_promote_promotes_healthy_canaries() {
    let nomad = NomadDouble::start(Scenario::canary_awaiting_promotion());
    let r = submit(
        &nomad,
        &job_json("web", &[("app", 3)]),
        &["--auto-promote", "--timeout", "30s"],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.report["status"], "successful");
    let promotes = requests_to(&nomad, "PUT", "/v1/deployment/promote/");
    assert_eq!(promotes.len(), 1);
    let body = promotes[0].body_json().unwrap();
    assert_eq!(body["All"], true);
    assert_eq!(body["DeploymentID"], r.report["deployment_id"]);
}

#[test]
fn periodic_and_parameterized_jobs_are_registered_not_followed() {
    for (key, value) in [
        (
            "Periodic",
            json!({"Enabled": true, "Spec": "*/5 * * * *", "SpecType": "cron"}),
        ),
        ("ParameterizedJob", json!({"Payload": "optional"})),
    ] {
        let nomad = NomadDouble::start(Scenario::happy_path());
        let mut job = job_json("batch", &[("work", 1)]);
        job["Type"] = json!("batch");
        job[key] = value;
        let r = submit(&nomad, &job, &[]);
        assert_eq!(r.code, Some(0), "{key}: {}", r.stderr);
        assert_eq!(r.report["status"], "registered", "{key}");
        assert_eq!(r.report["eval_id"], Value::Null, "{key}");
        assert!(!followed(&nomad), "{key}: followed");
    }
}

#[test]
fn detach_registers_and_stops() {
    let nomad = NomadDouble::start(Scenario::happy_path());
    let r = submit(&nomad, &job_json("web", &[("app", 1)]), &["--detach"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.report["status"], "registered");
    assert!(r.report["eval_id"].is_string());
    assert!(!followed(&nomad));
}

#[test]
fn a_check_index_conflict_is_refused_with_nomads_message() {
    let job = job_json("web", &[("app", 1)]);
    let nomad = NomadDouble::start(Scenario::check_index_conflict(job.clone(), 7));
    let r = submit(&nomad, &job, &["--check-index", "5"]);
    assert_eq!(r.code, Some(4), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(
        r.stderr.contains("Enforcing job modify index 5"),
        "{}",
        r.stderr
    );
    let body = requests_to(&nomad, "PUT", "/v1/jobs")[0]
        .body_json()
        .unwrap();
    assert_eq!(body["EnforceIndex"], true);
    assert_eq!(body["JobModifyIndex"], 5);
}

#[test]
fn plan_then_check_index() {
    let job = job_json("web", &[("app", 2)]);
    // A new job: the plan places allocations.
    let nomad = NomadDouble::start(Scenario::happy_path());
    let r = submit(&nomad, &job, &["--plan"]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert_eq!(r.report["status"], "changes");
    assert_eq!(r.report["job_modify_index"], 0);
    assert!(
        requests_to(&nomad, "PUT", "/v1/jobs").is_empty(),
        "a plan registered"
    );
    let plan = requests_to(&nomad, "PUT", "/v1/job/web/plan")[0]
        .body_json()
        .unwrap();
    assert_eq!(plan["Diff"], true);

    // The same job already stored: no change, and its index to pass on.
    let nomad = NomadDouble::start(Scenario::happy_path().with_existing_job(job.clone(), 12));
    let r = submit(&nomad, &job, &["--plan"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.report["status"], "no_changes");
    assert_eq!(r.report["job_modify_index"], 12);
    let r = submit(&nomad, &job, &["--check-index", "12"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}

#[test]
fn the_token_goes_on_every_request_and_nowhere_else() {
    let token = "3f1c0b2e-secret-token";
    let nomad = NomadDouble::start(Scenario::happy_path().with_acl_token(token));
    let dir = tempfile::tempdir().unwrap();
    let file = write_job(dir.path(), &job_json("web", &[("app", 1)]));

    let r = run({
        let mut cmd = job_submit(&nomad.address());
        cmd.arg(&file);
        cmd
    });
    assert_eq!(r.code, Some(4), "{}", r.stderr);
    assert!(r.stderr.contains("Permission denied"), "{}", r.stderr);

    let token_file = dir.path().join("token");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let r = run({
        let mut cmd = job_submit(&nomad.address());
        cmd.arg("--token-file").arg(&token_file).arg(&file);
        cmd
    });
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert!(!r.stdout.contains(token) && !r.stderr.contains(token));
    let r = run({
        let mut cmd = job_submit(&nomad.address());
        cmd.env("NOMAD_TOKEN", token).arg(&file);
        cmd
    });
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let authorised: Vec<_> = nomad
        .requests()
        .into_iter()
        .filter(|r| r.header("x-nomad-token") == Some(token))
        .collect();
    assert!(authorised.len() >= 4);
    // After the first (refused) run, every request carried the token.
    let first_refused = 1;
    assert_eq!(authorised.len(), nomad.requests().len() - first_refused);
}

#[test]
fn a_timeout_still_prints_the_verdict() {
    let nomad = NomadDouble::start(
        Scenario::canary_awaiting_promotion().with_step(Duration::from_secs(30)),
    );
    let r = submit(
        &nomad,
        &job_json("web", &[("app", 2)]),
        &["--timeout", "1s"],
    );
    assert_eq!(r.code, Some(5), "{}", r.stderr);
    assert_shape(&r.report);
    assert_eq!(r.report["status"], "timeout");
}

#[test]
fn a_dropped_read_is_retried_but_the_registration_is_sent_once() {
    let nomad = NomadDouble::start(Scenario::happy_path().with_drop(DropRule {
        on: DropOn::EvaluationRead,
        nth: 1,
    }));
    let r = submit(&nomad, &job_json("web", &[("app", 1)]), &[]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.report["status"], "successful");
    assert_eq!(requests_to(&nomad, "PUT", "/v1/jobs").len(), 1);
}

#[test]
fn a_dropped_registration_is_not_retried() {
    let nomad = NomadDouble::start(Scenario::drop_connection(DropOn::AnyRequest, 1));
    let r = submit(&nomad, &job_json("web", &[("app", 1)]), &[]);
    assert_eq!(r.code, Some(5), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert_eq!(requests_to(&nomad, "PUT", "/v1/jobs").len(), 1);
}

#[test]
fn bad_input_sends_nothing() {
    let nomad = NomadDouble::start(Scenario::happy_path());
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("broken.json", "{\"Job\": {\"ID\": \"web\",}}"),
        ("noid.json", "{\"Job\": {\"Name\": \"web\"}}"),
        ("broken.nomad", "job \"web\" {\n  count = \n}\n"),
        (
            "unknown.nomad",
            "job \"web\" {\n  group \"g\" {\n    colour = \"red\"\n  }\n}\n",
        ),
    ] {
        let file = dir.path().join(name);
        std::fs::write(&file, text).unwrap();
        let mut cmd = job_submit(&nomad.address());
        cmd.arg(&file);
        let r = run(cmd);
        assert_eq!(r.code, Some(3), "{name}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{name}");
        assert!(r.stderr.contains(name), "{name}: {}", r.stderr);
    }
    assert!(nomad.requests().is_empty(), "{:?}", nomad.requests());
}

#[test]
fn an_unreachable_nomad_exits_5() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let dir = tempfile::tempdir().unwrap();
    let file = write_job(dir.path(), &job_json("web", &[("app", 1)]));
    let mut cmd = job_submit(&address);
    cmd.arg(&file);
    let r = run(cmd);
    assert_eq!(r.code, Some(5), "{}", r.stderr);
    assert!(r.stderr.starts_with("job-submit: "), "{}", r.stderr);
}

#[test]
fn tls_with_a_ca_and_a_client_certificate() {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    let cert = dir.path().join("client.pem");
    let key = dir.path().join("client-key.pem");
    std::fs::write(&ca, &pki.ca_cert_pem).unwrap();
    std::fs::write(&cert, &pki.client_cert_pem).unwrap();
    std::fs::write(&key, &pki.client_key_pem).unwrap();
    let file = write_job(dir.path(), &job_json("web", &[("app", 1)]));
    let nomad = NomadDouble::start(Scenario::happy_path().with_tls(pki.server_setup(true)));
    assert!(nomad.address().starts_with("https://"));

    // mTLS accepted.
    let mut cmd = job_submit(&nomad.address());
    cmd.env("NOMAD_CACERT", &ca)
        .env("NOMAD_CLIENT_CERT", &cert)
        .env("NOMAD_CLIENT_KEY", &key)
        .arg(&file);
    let r = run(cmd);
    assert_eq!(r.code, Some(0), "{}", r.stderr);

    // No client certificate: the server refuses the handshake.
    let mut cmd = job_submit(&nomad.address());
    cmd.env("NOMAD_CACERT", &ca).arg(&file);
    let r = run(cmd);
    assert!(
        matches!(r.code, Some(4) | Some(5)),
        "{:?} {}",
        r.code,
        r.stderr
    );

    // A CA that did not sign the server's certificate: refused, clearly.
    let other = TestPki::new();
    let wrong_ca = dir.path().join("other-ca.pem");
    std::fs::write(&wrong_ca, &other.ca_cert_pem).unwrap();
    let mut cmd = job_submit(&nomad.address());
    cmd.arg("--ca-cert")
        .arg(&wrong_ca)
        .arg("--client-cert")
        .arg(&cert)
        .arg("--client-key")
        .arg(&key)
        .arg(&file);
    let r = run(cmd);
    assert_eq!(r.code, Some(5), "{}", r.stderr);
    assert!(r.stderr.contains("certificate"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
}

#[test]
fn slow_answers_still_reach_a_verdict() {
    let nomad = NomadDouble::start(Scenario::slow(Duration::from_millis(300)));
    let r = submit(
        &nomad,
        &job_json("web", &[("app", 1)]),
        &["--timeout", "60s"],
    );
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.report["status"], "successful");
    assert_eq!(requests_to(&nomad, "PUT", "/v1/jobs").len(), 1);
}
