//! A **test double** of the Nomad HTTP API (dev-only; never shipped, never a Nomad).
//!
//! Nomad cannot run on the machines this workspace is tested on, so the tools are tested
//! against this in-process stand-in, faithful to `shared/docs/api-contract.md`:
//! plain-text error bodies, `X-Nomad-*` index headers, blocking queries (`index`/`wait`),
//! check-index register semantics, and evaluation/deployment life cycles driven by a
//! [`Scenario`].
//!
//! ```no_run
//! use api_double::{job_json, NomadDouble, Scenario};
//! let nomad = NomadDouble::start(Scenario::happy_path());
//! let url = format!("{}/v1/jobs", nomad.address());
//! let body = serde_json::json!({ "Job": job_json("web", &[("app", 2)]) });
//! // PUT `body` to `url` with any HTTP client, then follow the eval and deployment.
//! # let _ = (url, body);
//! ```
//!
//! Every request is served on its own thread (a blocking query holds its connection);
//! [`NomadDouble::requests`] records what clients sent. Dropping the double stops it.

pub mod agent;
mod http;
mod job_api;
mod join;
mod life;
mod pki;
mod plan;
pub mod process;
mod routes;
mod scenario;
mod server;
mod store;
mod util;

pub use http::RecordedRequest;
pub use pki::{TestPki, SERVER_EXTRA_NAME};
pub use scenario::{
    DropOn, DropRule, FailRule, JoinTarget, Life, Scenario, TlsSetup, DEFAULT_STEP,
};
pub use server::NomadDouble;

use serde_json::{json, Value};

/// A minimal valid API job (service type, `dc1`, one docker task per group) with the
/// given `(group name, count)` task groups, for tests in other crates.
pub fn job_json(id: &str, groups: &[(&str, u32)]) -> Value {
    let task_groups: Vec<Value> = groups
        .iter()
        .map(|(name, count)| {
            json!({
                "Name": name,
                "Count": count,
                "Tasks": [{
                    "Name": name,
                    "Driver": "docker",
                    "Config": {"image": "nginx:1.27"},
                    "Resources": {"CPU": 100, "MemoryMB": 128},
                }],
            })
        })
        .collect();
    json!({
        "ID": id,
        "Name": id,
        "Type": "service",
        "Datacenters": ["dc1"],
        "TaskGroups": task_groups,
    })
}
