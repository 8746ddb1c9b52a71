//! Contract tests: the double's JSON has the fixtures' shape, and its errors, verbs,
//! headers, blocking queries, check-index, ACL and TLS behave as the contract says.

mod support;

use std::time::{Duration, Instant};

use api_double::{job_json, NomadDouble, Scenario, TestPki};
use serde_json::{json, Value};
use support::{assert_shape, fixture, raw, union, Client, Rules};

const FAST: Duration = Duration::from_millis(20);

/// A double that has run one happy-path job `example` (group `cache`, 1 alloc) to the end.
fn finished_happy_path() -> (NomadDouble, Client, String) {
    let nomad = NomadDouble::start(Scenario::happy_path().with_step(FAST));
    let client = Client::new(&nomad);
    let reg = client.register(&job_json("example", &[("cache", 1)]));
    assert!(nomad.wait_for_deployment_status(
        "default",
        "example",
        "successful",
        Duration::from_secs(5)
    ));
    let eval_id = reg["EvalID"].as_str().unwrap().to_string();
    (nomad, client, eval_id)
}

fn eval_union() -> Value {
    let related = fixture("v1_evaluation_read.json")["RelatedEvals"][0].clone();
    union(&[
        fixture("v1_evaluation_read_complete.json"),
        fixture("v1_evaluation_read_complete_failed_placement.json"),
        fixture("v1_evaluation_read.json"),
        fixture("v1_job_evaluations.json")[0].clone(),
        fixture("v1_job_plan.json")["CreatedEvals"][0].clone(),
        related,
    ])
}

fn alloc_union() -> Value {
    union(&[
        fixture("v1_job_allocations.json")[0].clone(),
        fixture("v1_evaluation_allocations.json")[0].clone(),
        fixture("v1_deployment_allocations.json")[0].clone(),
    ])
}

/// Stub keys listed by the contract (2.9) that the doc samples predate.
const STUB_EXTRAS: &[&str] = &[
    "Namespace",
    "NodeName",
    "JobType",
    "JobVersion",
    "FollowupEvalID",
    "PreemptedAllocations",
    "PreemptedByAllocation",
    "ModifyTime",
    "DisplayMessage",
    "Details",
    "DeploymentStatus",
];

// ---- shapes ----------------------------------------------------------------------------

#[test]
fn register_response_has_the_fixture_shape() {
    let nomad = NomadDouble::start(Scenario::happy_path().with_step(FAST));
    let client = Client::new(&nomad);
    let reg = client.register(&job_json("example", &[("cache", 1)]));
    assert_shape(
        &fixture("v1_jobs_register_service.json"),
        &reg,
        Rules::STRICT,
    );
    let update = client.put(
        "/v1/job/example",
        &json!({"Job": job_json("example", &[("cache", 2)])}),
    );
    assert_eq!(update.status, 200);
    assert_shape(
        &fixture("v1_job_register_update.json"),
        &update.json(),
        Rules::SUPERSET,
    );
}

#[test]
fn job_read_has_the_fixture_shape() {
    let (_nomad, client, _) = finished_happy_path();
    let job = client.get("/v1/job/example").json();
    let extras = Rules {
        missing_depth: 1,
        extra_depth: 1,
        extra_ok: &[
            "Version",
            "Stop",
            "Stable",
            "SubmitTime",
            "Spreads",
            "Affinities",
            "Multiregion",
            "Dispatched",
            "ConsulNamespace",
        ],
    };
    assert_shape(&fixture("v1_job_read.json"), &job, extras);
    assert_eq!(job["Namespace"], "default");
    assert_eq!(job["Status"], "running");
}

#[test]
fn job_list_has_the_fixture_shape() {
    let (_nomad, client, _) = finished_happy_path();
    let list = client.get("/v1/jobs").json();
    let rules = Rules {
        extra_ok: &[
            "Namespace",
            "Datacenters",
            "Periodic",
            "ParameterizedJob",
            "Stop",
            "SubmitTime",
            "Unknown",
        ],
        ..Rules::STRICT
    };
    assert_shape(&fixture("v1_jobs_list.json"), &list, rules);
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[test]
fn evaluations_have_the_fixture_shape_and_omit_empty_fields() {
    let (_nomad, client, eval_id) = finished_happy_path();
    let eval = client
        .get(&format!("/v1/evaluation/{eval_id}?related=true"))
        .json();
    assert_shape(
        &fixture("v1_evaluation_read_complete.json"),
        &eval,
        Rules::STRICT,
    );
    assert_shape(&eval_union(), &eval, Rules::OMIT_EMPTY);
    for absent in [
        "NextEval",
        "BlockedEval",
        "Wait",
        "FailedTGAllocs",
        "StatusDescription",
        "RelatedEvals",
    ] {
        assert!(
            eval.get(absent).is_none(),
            "{absent} should be omitted: {eval}"
        );
    }
    let list = client.get("/v1/job/example/evaluations").json();
    assert_shape(&json!([eval_union()]), &list, Rules::OMIT_EMPTY);
}

#[test]
fn placement_failure_eval_has_the_fixture_shape() {
    let nomad = NomadDouble::start(Scenario::placement_failure().with_step(FAST));
    let client = Client::new(&nomad);
    let reg = client.register(&job_json("example", &[("cache", 1)]));
    let path = format!(
        "/v1/evaluation/{}?related=true",
        reg["EvalID"].as_str().unwrap()
    );
    let eval = client.poll(&path, |e| e["Status"] == "complete");
    let expected = fixture("v1_evaluation_read_complete_failed_placement.json");
    let rules = Rules {
        missing_depth: usize::MAX,
        extra_depth: usize::MAX,
        extra_ok: &["RelatedEvals", "DeploymentID", "NodePool", "JobModifyIndex"],
    };
    let mut expected_without_deployment = expected.clone();
    expected_without_deployment
        .as_object_mut()
        .unwrap()
        .remove("DeploymentID");
    assert_shape(&expected_without_deployment, &eval, rules);
    assert!(
        eval.get("DeploymentID").is_none(),
        "no deployment for a placement failure"
    );
    let blocked = client
        .get(&format!(
            "/v1/evaluation/{}?related=true",
            eval["BlockedEval"].as_str().unwrap()
        ))
        .json();
    assert_shape(
        &fixture("v1_evaluation_read.json"),
        &blocked,
        Rules {
            extra_ok: &[
                "NodePool",
                "QueuedAllocations",
                "ClassEligibility",
                "JobModifyIndex",
                "StatusDescription",
            ],
            ..Rules::STRICT
        },
    );
    assert_shape(
        &eval_union(),
        &blocked,
        Rules {
            extra_ok: &["NodePool"],
            ..Rules::OMIT_EMPTY
        },
    );
}

#[test]
fn allocation_lists_have_the_fixture_shape() {
    let (nomad, client, eval_id) = finished_happy_path();
    let rules = Rules {
        extra_ok: STUB_EXTRAS,
        ..Rules::STRICT
    };
    let by_job = client.get("/v1/job/example/allocations").json();
    assert_shape(&fixture("v1_job_allocations.json"), &by_job, rules);
    let by_eval = client
        .get(&format!("/v1/evaluation/{eval_id}/allocations"))
        .json();
    assert_shape(
        &fixture("v1_evaluation_allocations.json"),
        &by_eval,
        Rules::SUPERSET,
    );
    assert_shape(&json!([alloc_union()]), &by_eval, rules);
    let dep = &nomad.deployment_ids("default", "example")[0];
    let by_dep = client
        .get(&format!("/v1/deployment/allocations/{dep}"))
        .json();
    assert_shape(
        &fixture("v1_deployment_allocations.json"),
        &by_dep,
        Rules::SUPERSET,
    );
    assert_eq!(by_dep.as_array().unwrap().len(), 1);
}

#[test]
fn full_allocation_has_task_events() {
    let (_nomad, client, _) = finished_happy_path();
    let stub = client.get("/v1/job/example/allocations").json()[0].clone();
    let alloc = client
        .get(&format!("/v1/allocation/{}", stub["ID"].as_str().unwrap()))
        .json();
    assert_shape(&alloc_union(), &alloc, Rules::TYPES);
    let events = alloc["TaskStates"]["cache"]["Events"].as_array().unwrap();
    assert!(events.iter().any(|e| e["Type"] == "Started"));
    assert!(events
        .iter()
        .all(|e| e["DisplayMessage"].is_string() && e["Time"].is_number()));
    assert_eq!(alloc["Job"]["ID"], "example");
    let missing = client.get("/v1/allocation/nope");
    assert_eq!(
        (missing.status, missing.body.as_str()),
        (404, "alloc not found")
    );
}

#[test]
fn deployments_have_the_fixture_shape() {
    let (nomad, client, _) = finished_happy_path();
    let dep_id = &nomad.deployment_ids("default", "example")[0];
    let dep = client.get(&format!("/v1/deployment/{dep_id}")).json();
    let rules = Rules {
        extra_ok: &["CreateTime", "ModifyTime"],
        ..Rules::STRICT
    };
    assert_shape(&fixture("v1_deployment_read_successful.json"), &dep, rules);
    assert_shape(&fixture("v1_deployment_read.json"), &dep, Rules::SUPERSET);
    assert_eq!(dep["Status"], "successful");
    let list = client.get("/v1/job/example/deployments").json();
    assert_shape(&fixture("v1_job_deployments.json"), &list, Rules::SUPERSET);
    assert_shape(&fixture("v1_deployments_list.json"), &list, rules);
    let latest = client.get("/v1/job/example/deployment").json();
    assert_shape(
        &fixture("v1_job_deployment_latest.json"),
        &latest,
        Rules::SUPERSET,
    );
    assert_eq!(&latest["ID"], dep_id.as_str());
}

#[test]
fn summary_has_the_fixture_shape() {
    let (_nomad, client, _) = finished_happy_path();
    let summary = client.get("/v1/job/example/summary").json();
    let rules = Rules {
        extra_ok: &["Namespace", "Unknown"],
        ..Rules::STRICT
    };
    assert_shape(&fixture("v1_job_summary.json"), &summary, rules);
    assert_eq!(summary["Summary"]["cache"]["Running"], 1);
}

#[test]
fn plan_has_the_fixture_shape() {
    let nomad = NomadDouble::start(Scenario::happy_path().with_step(FAST));
    let client = Client::new(&nomad);
    let job = job_json("example", &[("cache", 3)]);
    let body = json!({"Job": job, "Diff": true, "PolicyOverride": false});
    let plan = client.put("/v1/job/example/plan", &body);
    assert_eq!(plan.status, 200, "{}", plan.body);
    assert!(plan.header("x-nomad-index").is_some());
    let plan = plan.json();
    let rules = Rules {
        extra_ok: &[
            "PreemptedAllocs",
            "Canary",
            "Preemptions",
            "Disconnect",
            "Reconnect",
            "RescheduleNow",
            "RescheduleLater",
            "InPlaceUpdate",
        ],
        ..Rules::STRICT
    };
    assert_shape(&fixture("v1_job_plan.json"), &plan, rules);
    assert_eq!(plan["Diff"]["Type"], "Added");
    assert_eq!(plan["Annotations"]["DesiredTGUpdates"]["cache"]["Place"], 3);
    assert_eq!(plan["JobModifyIndex"], 0);
}

#[test]
fn plan_of_the_stored_job_is_none() {
    let (nomad, client, _) = finished_happy_path();
    let body = json!({"Job": job_json("example", &[("cache", 1)]), "Diff": true});
    let plan = client.put("/v1/job/example/plan", &body).json();
    assert_eq!(plan["Diff"]["Type"], "None");
    let updates = &plan["Annotations"]["DesiredTGUpdates"]["cache"];
    for k in [
        "Place",
        "Stop",
        "Migrate",
        "DestructiveUpdate",
        "Canary",
        "InPlaceUpdate",
    ] {
        assert_eq!(updates[k], 0, "{k}");
    }
    let stored = nomad.job("default", "example").unwrap();
    assert_eq!(plan["JobModifyIndex"], stored["JobModifyIndex"]);
    // An edit is a destructive update plus placements.
    let edited = json!({"Job": job_json("example", &[("cache", 2)]), "Diff": true});
    let plan = client.put("/v1/job/example/plan", &edited).json();
    assert_eq!(plan["Diff"]["Type"], "Edited");
    assert_eq!(plan["Annotations"]["DesiredTGUpdates"]["cache"]["Place"], 1);
}

#[test]
fn placement_failure_plan_has_failed_allocs() {
    let nomad = NomadDouble::start(Scenario::placement_failure());
    let client = Client::new(&nomad);
    let body = json!({"Job": job_json("example", &[("cache", 4)]), "Diff": true});
    let plan = client.put("/v1/job/example/plan", &body).json();
    let rules = Rules {
        missing_depth: 1,
        extra_ok: &[
            "PreemptedAllocs",
            "Canary",
            "Preemptions",
            "Disconnect",
            "Reconnect",
            "RescheduleNow",
            "RescheduleLater",
            "InPlaceUpdate",
            "NodePool",
            "QuotaExhausted",
            "ResourcesExhausted",
            "ScoreMetaData",
            "Namespace",
        ],
        ..Rules::STRICT
    };
    assert_shape(&fixture("v1_job_plan.json"), &plan, rules);
    assert_eq!(plan["FailedTGAllocs"]["cache"]["CoalescedFailures"], 3);
    assert_eq!(plan["CreatedEvals"][0]["Status"], "blocked");
}

#[test]
fn agent_status_and_regions_have_the_fixture_shape() {
    let nomad = NomadDouble::start(Scenario::happy_path().with_regions(&["global", "eu"]));
    let client = Client::new(&nomad);
    let me = client.get("/v1/agent/self");
    assert_shape(
        &fixture("v1_agent_self.json"),
        &me.json(),
        Rules {
            missing_depth: 1,
            ..Rules::TYPES
        },
    );
    assert_shape(
        &fixture("v1_agent_members.json"),
        &client.get("/v1/agent/members").json(),
        Rules::TYPES,
    );
    let regions = client.get("/v1/regions").json();
    assert_shape(&fixture("v1_regions.json"), &regions, Rules::STRICT);
    assert_eq!(regions, json!(["eu", "global"]));
    assert_shape(
        &fixture("v1_status_leader.json"),
        &client.get("/v1/status/leader").json(),
        Rules::STRICT,
    );
    assert_shape(
        &fixture("v1_status_peers.json"),
        &client.get("/v1/status/peers").json(),
        Rules::STRICT,
    );
    for path in ["/v1/agent/self", "/v1/regions", "/v1/status/leader"] {
        let r = client.get(path);
        assert!(
            r.header("x-nomad-index").is_none(),
            "{path} must not carry X-Nomad-Index"
        );
        assert_eq!(r.header("content-type"), Some("application/json"));
    }
}

#[test]
fn vendored_fixtures_match_shared_ones() {
    let shared =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/nomad");
    let Ok(entries) = std::fs::read_dir(&shared) else {
        return; // shared/ is not beside this checkout
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") {
            let ours = std::fs::read(format!(
                "{}/tests/fixtures/nomad/{name}",
                env!("CARGO_MANIFEST_DIR")
            ));
            assert_eq!(
                ours.ok(),
                std::fs::read(entry.path()).ok(),
                "fixture {name} drifted: copy it again"
            );
        }
    }
}

// ---- errors, verbs, headers ------------------------------------------------------------

fn error_case(client: &Client, request: &str) -> Option<support::Resp> {
    let job = job_json("foo", &[("g", 1)]);
    let no_id = json!({"Job": {"TaskGroups": [{"Name": "g"}]}});
    let bar = json!({"Job": job_json("bar", &[("g", 1)])});
    Some(match request {
        "GET /v1/job/<unknown>" => client.get("/v1/job/nope"),
        "GET /v1/job/<unknown>/summary" => client.get("/v1/job/nope/summary"),
        "GET /v1/evaluation/<unknown>" => client.get("/v1/evaluation/nope"),
        "GET /v1/deployment/<unknown>" => client.get("/v1/deployment/nope"),
        "PUT /v1/jobs (no body)" => client.call("PUT", "/v1/jobs", None),
        "PUT /v1/jobs {} (no Job key)" => client.put("/v1/jobs", &json!({})),
        "PUT /v1/jobs (Job without ID)" => client.put("/v1/jobs", &no_id),
        "PUT /v1/job/foo (Job.ID == bar)" => client.put("/v1/job/foo", &bar),
        "PUT /v1/job/foo/plan (Job.ID == bar)" => client.put("/v1/job/foo/plan", &bar),
        "PUT /v1/job/foo/plan (Job without ID)" => client.put("/v1/job/foo/plan", &no_id),
        "PUT /v1/jobs (EvalPriority 500)" => {
            client.put("/v1/jobs", &json!({"Job": job, "EvalPriority": 500}))
        }
        "PUT /v1/jobs (job fails validation)" => {
            client.put("/v1/jobs", &json!({"Job": {"ID": "foo"}}))
        }
        "any endpoint, ?region=<unknown>" => client.get("/v1/job/foo?region=mars"),
        "GET /v1/job/x?index=abc" => client.get("/v1/job/x?index=abc"),
        "GET /v1/job/x?index=5&wait=xyz" => client.get("/v1/job/x?index=5&wait=xyz"),
        "DELETE /v1/evaluation/<id> (wrong verb)" => {
            client.call("DELETE", "/v1/evaluation/abc", None)
        }
        _ => return None,
    })
}

#[test]
fn error_bodies_match_the_catalogue() {
    let nomad = NomadDouble::start(Scenario::happy_path());
    let client = Client::new(&nomad);
    let catalogue = fixture("error_bodies.json");
    let mut checked = 0;
    for case in catalogue["cases"].as_array().unwrap() {
        let request = case["request"].as_str().unwrap();
        let Some(resp) = error_case(&client, request) else {
            continue;
        };
        assert_eq!(
            resp.status,
            case["status"].as_u64().unwrap() as u16,
            "{request}: {}",
            resp.body
        );
        assert_eq!(resp.body, case["body"].as_str().unwrap(), "{request}");
        assert_eq!(
            resp.header("content-type"),
            Some("text/plain; charset=utf-8"),
            "{request}"
        );
        checked += 1;
    }
    assert_eq!(checked, 16);
}

#[test]
fn wrong_verbs_get_405_and_writes_take_put_and_post() {
    let nomad = NomadDouble::start(Scenario::happy_path());
    let client = Client::new(&nomad);
    for (method, path) in [
        ("POST", "/v1/job/x/evaluations"),
        ("PUT", "/v1/evaluation/x"),
        ("GET", "/v1/job/x/plan"),
        ("DELETE", "/v1/deployment/x"),
        ("GET", "/v1/deployment/promote/x"),
        ("POST", "/v1/status/leader"),
        ("PATCH", "/v1/jobs"),
        ("PUT", "/v1/allocation/x"),
    ] {
        let r = client.call(method, path, None);
        assert_eq!(
            (r.status, r.body.as_str()),
            (405, "Invalid method"),
            "{method} {path}"
        );
    }
    for (i, method) in ["PUT", "POST"].iter().enumerate() {
        let job = job_json(&format!("j{i}"), &[("g", 1)]);
        let body = json!({"Job": job}).to_string();
        assert_eq!(client.call(method, "/v1/jobs", Some(&body)).status, 200);
        assert_eq!(
            client
                .call(method, &format!("/v1/job/j{i}"), Some(&body))
                .status,
            200
        );
        assert_eq!(
            client
                .call(method, &format!("/v1/job/j{i}/plan"), Some(&body))
                .status,
            200
        );
    }
    // The summary endpoint does not check the verb.
    assert_eq!(client.call("POST", "/v1/job/j0/summary", None).status, 200);
}

#[test]
fn index_headers_on_reads_and_writes() {
    let (nomad, client, eval_id) = finished_happy_path();
    let dep = &nomad.deployment_ids("default", "example")[0];
    for path in [
        "/v1/job/example".to_string(),
        "/v1/job/example/evaluations".into(),
        "/v1/job/example/deployments".into(),
        "/v1/job/example/deployment".into(),
        "/v1/job/example/allocations".into(),
        "/v1/job/example/summary".into(),
        format!("/v1/evaluation/{eval_id}"),
        format!("/v1/evaluation/{eval_id}/allocations"),
        format!("/v1/deployment/{dep}"),
        format!("/v1/deployment/allocations/{dep}"),
        "/v1/jobs".into(),
    ] {
        let r = client.get(&path);
        assert_eq!(r.status, 200, "{path}");
        assert!(r.index() > 0, "{path}");
        assert_eq!(r.header("x-nomad-lastcontact"), Some("0"), "{path}");
        assert_eq!(r.header("x-nomad-knownleader"), Some("true"), "{path}");
        assert_eq!(r.header("content-type"), Some("application/json"), "{path}");
    }
    let w = client.put("/v1/jobs", &json!({"Job": job_json("other", &[("g", 1)])}));
    assert!(w.index() > 0);
    assert!(w.header("x-nomad-lastcontact").is_none() && w.header("x-nomad-knownleader").is_none());
}

#[test]
fn unknown_jobs_have_empty_collections_and_null_deployment() {
    let nomad = NomadDouble::start(Scenario::happy_path());
    let client = Client::new(&nomad);
    for sub in ["evaluations", "allocations", "deployments"] {
        let r = client.get(&format!("/v1/job/ghost/{sub}"));
        assert_eq!((r.status, r.body.as_str()), (200, "[]"), "{sub}");
    }
    let r = client.get("/v1/job/ghost/deployment");
    assert_eq!((r.status, r.body.as_str()), (200, "null"));
    assert_eq!(client.get("/v1/nope").status, 404);
}

#[test]
fn malformed_requests_get_400_without_killing_the_server() {
    let nomad = NomadDouble::start(Scenario::happy_path());
    let garbage = raw(&nomad, b"\x16\x03\x01 definitely not http\r\n\r\n");
    assert!(garbage.starts_with("HTTP/1.1 400"), "{garbage}");
    let bad_len = raw(
        &nomad,
        b"PUT /v1/jobs HTTP/1.1\r\nContent-Length: zz\r\n\r\n",
    );
    assert!(bad_len.starts_with("HTTP/1.1 400"), "{bad_len}");
    let bad_json = Client::new(&nomad).call("PUT", "/v1/jobs", Some("{not json"));
    assert_eq!(bad_json.status, 400);
    assert_eq!(
        bad_json.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    let ok = raw(
        &nomad,
        b"GET /v1/status/leader HTTP/1.1\r\nConnection: close\r\n\r\n",
    );
    assert!(
        ok.starts_with("HTTP/1.1 200") && ok.ends_with("\"127.0.0.1:4647\""),
        "{ok}"
    );
}

#[test]
fn expect_100_continue_is_answered() {
    use std::io::{Read, Write};
    let nomad = NomadDouble::start(Scenario::happy_path());
    let body = json!({"Job": job_json("example", &[("g", 1)])}).to_string();
    let mut s = std::net::TcpStream::connect(nomad.socket_addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let head = format!(
        "PUT /v1/jobs HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let mut interim = [0u8; 25];
    s.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    s.write_all(body.as_bytes()).unwrap();
    let mut rest = String::new();
    let _ = s.read_to_string(&mut rest);
    assert!(rest.starts_with("HTTP/1.1 200 OK"), "{rest}");
}

#[test]
fn requests_are_recorded() {
    let nomad = NomadDouble::start(Scenario::happy_path());
    let client = Client::new(&nomad).token("tok");
    client.get("/v1/job/a%2Fb?namespace=apps&stale=");
    let reqs = nomad.requests();
    let last = reqs.last().unwrap();
    assert_eq!(last.method, "GET");
    assert_eq!(last.path, "/v1/job/a/b");
    assert_eq!(last.query_value("namespace"), Some("apps"));
    assert_eq!(last.query_value("stale"), Some(""));
    assert_eq!(last.header("X-Nomad-Token"), Some("tok"));
    assert!(last
        .headers
        .iter()
        .all(|(k, _)| k.chars().all(|c| !c.is_ascii_uppercase())));
}

// ---- blocking queries ------------------------------------------------------------------

#[test]
fn blocking_query_returns_after_a_change() {
    let nomad = NomadDouble::start(Scenario::happy_path().with_step(Duration::from_millis(150)));
    let client = Client::new(&nomad);
    let reg = client.register(&job_json("example", &[("cache", 1)]));
    let path = format!("/v1/evaluation/{}", reg["EvalID"].as_str().unwrap());
    let first = client.get(&path);
    assert_eq!(first.json()["Status"], "pending");
    let start = Instant::now();
    let next = client.get(&format!("{path}?index={}&wait=10s", first.index()));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "returned after the change, not the timeout"
    );
    assert!(next.index() > first.index());
    assert_eq!(next.json()["Status"], "complete");
}

#[test]
fn blocking_query_returns_on_timeout() {
    let (_nomad, client, _) = finished_happy_path();
    let first = client.get("/v1/job/example");
    let start = Instant::now();
    let again = client.get(&format!(
        "/v1/job/example?index={}&wait=300ms",
        first.index()
    ));
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(290) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert_eq!(again.index(), first.index());
    // index=0 (or absent) never blocks.
    let start = Instant::now();
    client.get("/v1/job/example?index=0&wait=5s");
    assert!(start.elapsed() < Duration::from_secs(1));
}

// ---- register semantics ----------------------------------------------------------------

#[test]
fn check_index_rules_use_the_exact_texts() {
    let existing = job_json("web", &[("app", 1)]);
    let nomad = NomadDouble::start(Scenario::check_index_conflict(existing, 6));
    let client = Client::new(&nomad);
    let cases = [
        (
            json!({"Job": job_json("web", &[("app", 2)]), "EnforceIndex": true, "JobModifyIndex": 5}),
            "Enforcing job modify index 5: job exists with conflicting job modify index: 6",
        ),
        (
            json!({"Job": job_json("web", &[("app", 2)]), "EnforceIndex": true}),
            "Enforcing job modify index 0: job already exists",
        ),
        (
            json!({"Job": job_json("new", &[("app", 2)]), "EnforceIndex": true, "JobModifyIndex": 3}),
            "Enforcing job modify index 3: job does not exist",
        ),
    ];
    for (body, text) in cases {
        let r = client.put("/v1/jobs", &body);
        assert_eq!((r.status, r.body.as_str()), (500, text));
        assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    }
    let ok = client.put(
        "/v1/jobs",
        &json!({"Job": job_json("web", &[("app", 2)]), "EnforceIndex": true, "JobModifyIndex": 6}),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert!(ok.json()["JobModifyIndex"].as_u64().unwrap() > 6);
    let fresh = client.put(
        "/v1/jobs",
        &json!({"Job": job_json("fresh", &[("app", 1)]), "EnforceIndex": true}),
    );
    assert_eq!(fresh.status, 200, "{}", fresh.body);
}

#[test]
fn periodic_and_parameterized_jobs_get_no_eval() {
    let nomad = NomadDouble::start(Scenario::happy_path());
    let client = Client::new(&nomad);
    let mut periodic = job_json("cron", &[("g", 1)]);
    periodic["Type"] = json!("batch");
    periodic["Periodic"] = json!({"Enabled": true, "Spec": "*/5 * * * *", "SpecType": "cron"});
    let mut param = job_json("dispatch", &[("g", 1)]);
    param["Type"] = json!("batch");
    param["ParameterizedJob"] = json!({"Payload": "optional"});
    for job in [periodic, param] {
        let reg = client.register(&job);
        assert_shape(&fixture("v1_jobs_register.json"), &reg, Rules::SUPERSET);
        assert_eq!(reg["EvalID"], "");
        assert_eq!(reg["EvalCreateIndex"], 0);
        let evals = client.get(&format!(
            "/v1/job/{}/evaluations",
            job["ID"].as_str().unwrap()
        ));
        assert_eq!(evals.body, "[]");
    }
}

#[test]
fn namespace_comes_from_the_query_first_and_submission_is_kept() {
    let nomad = NomadDouble::start(Scenario::happy_path());
    let client = Client::new(&nomad);
    let mut job = job_json("example", &[("g", 1)]);
    job["Namespace"] = json!("apps");
    let submission =
        json!({"Source": "{\"Job\":{}}", "Format": "json", "VariableFlags": null, "Variables": ""});
    let body = json!({"Job": job, "Submission": submission, "Namespace": "", "Region": "", "SecretID": ""});
    assert_eq!(client.put("/v1/jobs?namespace=default", &body).status, 200);
    assert_eq!(
        nomad.job("default", "example").unwrap()["Namespace"],
        "default"
    );
    assert!(nomad.job("apps", "example").is_none());
    assert_eq!(nomad.submission("default", "example"), Some(submission));
    assert_eq!(client.put("/v1/jobs", &body).status, 200);
    assert!(nomad.job("apps", "example").is_some());
    assert_eq!(client.get("/v1/job/example?namespace=apps").status, 200);
}

// ---- ACL and TLS -----------------------------------------------------------------------

#[test]
fn acl_token_is_required() {
    let nomad = NomadDouble::start(Scenario::acl_required("s3cret"));
    let anonymous = Client::new(&nomad);
    for path in ["/v1/job/x", "/v1/agent/self", "/v1/evaluation/x"] {
        let r = anonymous.get(path);
        assert_eq!(
            (r.status, r.body.as_str()),
            (403, "Permission denied"),
            "{path}"
        );
        assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    }
    let r = anonymous.put("/v1/jobs", &json!({"Job": job_json("x", &[("g", 1)])}));
    assert_eq!(r.status, 403);
    let wrong = Client::new(&nomad).token("nope").get("/v1/job/x");
    assert_eq!(
        (wrong.status, wrong.body.as_str()),
        (403, "ACL token not found")
    );
    let good = Client::new(&nomad).token("s3cret");
    assert_eq!(
        good.register(&job_json("x", &[("g", 1)]))["EvalID"]
            .as_str()
            .map(str::len),
        Some(36)
    );
    let bearer = raw(
        &nomad,
        b"GET /v1/job/x HTTP/1.1\r\nAuthorization: Bearer s3cret\r\nConnection: close\r\n\r\n",
    );
    assert!(bearer.starts_with("HTTP/1.1 200"), "{bearer}");
    assert_eq!(anonymous.get("/v1/status/leader").status, 200);
}

fn tls_client(nomad: &NomadDouble, pki: &TestPki, with_client_cert: bool) -> Client {
    use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};
    let ca = Certificate::from_pem(pki.ca_cert_pem.as_bytes()).unwrap();
    let mut tls = TlsConfig::builder().root_certs(RootCerts::new_with_certs(&[ca]));
    if with_client_cert {
        let cert = Certificate::from_pem(pki.client_cert_pem.as_bytes()).unwrap();
        let key = PrivateKey::from_pem(pki.client_key_pem.as_bytes()).unwrap();
        tls = tls.client_cert(Some(ClientCert::new_with_certs(&[cert], key)));
    }
    Client::with_tls(nomad.address(), Some(tls.build()))
}

#[test]
fn tls_serves_https() {
    let pki = TestPki::new();
    let nomad = NomadDouble::start(Scenario::tls(pki.server_setup(false)).with_step(FAST));
    assert!(nomad.address().starts_with("https://127.0.0.1:"));
    let client = tls_client(&nomad, &pki, false);
    let reg = client.register(&job_json("example", &[("cache", 1)]));
    assert_eq!(reg["EvalID"].as_str().map(str::len), Some(36));
    let localhost = nomad.address().replace("127.0.0.1", "localhost");
    let mut by_name = tls_client(&nomad, &pki, false);
    by_name.base = localhost;
    assert_eq!(by_name.get("/v1/status/leader").status, 200);
    // Without the CA the handshake fails.
    let untrusting = Client::with_tls(nomad.address(), None);
    assert!(untrusting
        .try_call("GET", "/v1/status/leader", None)
        .is_err());
}

#[test]
fn mutual_tls_requires_a_client_certificate() {
    let pki = TestPki::new();
    let nomad = NomadDouble::start(Scenario::tls(pki.server_setup(true)));
    let without = tls_client(&nomad, &pki, false);
    assert!(without.try_call("GET", "/v1/status/leader", None).is_err());
    let with = tls_client(&nomad, &pki, true);
    assert_eq!(with.get("/v1/status/leader").status, 200);
    let other_pki = TestPki::new();
    let foreign = tls_client(&nomad, &other_pki, true);
    assert!(foreign.try_call("GET", "/v1/status/leader", None).is_err());
}

// ---- agent join ------------------------------------------------------------------------

#[test]
fn agent_join_follows_the_gossip_rules() {
    let scenario = Scenario::happy_path()
        .with_join_target("10.0.0.2:4648", "eu-1", "eu", "eu-west-1")
        .with_join_target("10.0.0.3", "eu-2", "eu", "eu-west-1");
    let nomad = NomadDouble::start(scenario);
    let client = Client::new(&nomad);
    let rules = Rules {
        extra_ok: &["warning"],
        ..Rules::STRICT
    };

    let failed = client.call("PUT", "/v1/agent/join?address=10.0.0.9", None);
    assert_eq!(failed.status, 200);
    assert_shape(&fixture("v1_agent_join_failed.json"), &failed.json(), rules);
    assert_eq!(
        failed.json(),
        json!({"num_joined": 0, "warning": "",
        "error": fixture("v1_agent_join_failed.json")["error"]})
    );

    let mixed = client.call(
        "POST",
        "/v1/agent/join?address=10.0.0.2:4648&address=10.0.0.9&address=10.0.0.3",
        None,
    );
    assert_shape(&fixture("v1_agent_join.json"), &mixed.json(), rules);
    assert_eq!(
        mixed.json(),
        json!({"num_joined": 2, "error": "", "warning": ""})
    );

    let members = client.get("/v1/agent/members").json();
    assert_shape(&fixture("v1_agent_members.json"), &members, Rules::TYPES);
    let names: Vec<&str> = members["Members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["nomad-double.global", "eu-1.eu", "eu-2.eu"]);
    assert_eq!(client.get("/v1/regions").json(), json!(["eu", "global"]));
    assert_eq!(client.get("/v1/status/leader?region=eu").status, 200);

    let missing = client.call("PUT", "/v1/agent/join", None);
    assert_eq!(
        (missing.status, missing.body.as_str()),
        (400, "missing address to join")
    );
    assert_eq!(client.get("/v1/agent/join?address=10.0.0.2").status, 405);
}

#[test]
fn anonymous_join_under_acls_warns() {
    let nomad = NomadDouble::start(Scenario::acl_required("tok").with_join_target(
        "10.0.0.2:4648",
        "b",
        "global",
        "dc1",
    ));
    let anonymous = Client::new(&nomad)
        .call("PUT", "/v1/agent/join?address=10.0.0.2:4648", None)
        .json();
    assert_eq!(anonymous["num_joined"], 1);
    assert!(anonymous["warning"]
        .as_str()
        .unwrap()
        .starts_with("anonymous server join is deprecated"));
    let with_token = Client::new(&nomad)
        .token("tok")
        .call("PUT", "/v1/agent/join?address=10.0.0.2:4648", None)
        .json();
    assert_eq!(with_token["warning"], "");
}
