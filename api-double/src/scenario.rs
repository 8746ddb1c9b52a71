//! What the double does: the life cycle every registered job goes through, and the
//! transport switches (ACL, TLS, slowness, dropped connections).

use std::time::Duration;

use serde_json::Value;

/// The life cycle played for every job registered with the double (one run per register).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Life {
    /// Eval `pending` → allocations placed → eval `complete` with a `DeploymentID` →
    /// deployment `running` → allocations healthy → deployment `successful`.
    /// Batch/sysbatch jobs get no deployment: their eval completes and allocations run.
    #[default]
    HappyPath,
    /// Eval `complete` with `FailedTGAllocs` (full metrics) and a `BlockedEval` (the blocked
    /// eval exists, status `blocked`); no allocation and no deployment.
    PlacementFailure,
    /// First eval `complete` with `NextEval` and `Wait` (ns); after `wait` the next eval
    /// (`TriggeredBy: "rolling-update"`) plays [`Life::HappyPath`].
    NextEvalChain {
        /// The `Wait` reported on the first eval, and the delay before the next one runs.
        wait: Duration,
    },
    /// The job is stored as version 1 of an existing job (version 0 is synthesised if the
    /// job is new). Its deployment (`AutoRevert: true`) fails with
    /// `Failed due to unhealthy allocations - rolling back to job version 0`; allocations
    /// fail with task events. One step later a rollback (job version 2 = spec of version 0,
    /// new eval `TriggeredBy: "deployment-watcher"`, new deployment ID) becomes the job's
    /// latest deployment and ends `successful`.
    FailedWithAutoRevert,
    /// Canary deployment: `DesiredCanaries`, `PlacedCanaries`, healthy canaries, status
    /// `running` with `Deployment is running but requires manual promotion`, until
    /// `PUT /v1/deployment/promote/:id`; then the rest is placed and it ends `successful`.
    CanaryAwaitingPromotion,
}

/// Which GET requests [`DropRule`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropOn {
    /// `GET /v1/evaluation/:id` (not `/allocations`).
    EvaluationRead,
    /// `GET /v1/deployment/:id`.
    DeploymentRead,
    /// Any request at all.
    AnyRequest,
}

/// Close the connection without writing a response on the `nth` (1-based) matching request.
/// Only that one request is dropped; later ones are answered normally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DropRule {
    /// Which requests are counted.
    pub on: DropOn,
    /// The 1-based number of the matching request to drop.
    pub nth: u32,
}

/// Answer the `nth` (1-based) matching request with a plain-text error instead of
/// handling it (e.g. `500 No cluster leader`). Only that one request fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailRule {
    /// Which requests are counted.
    pub on: DropOn,
    /// The 1-based number of the matching request to fail.
    pub nth: u32,
    /// HTTP status, e.g. 500.
    pub status: u16,
    /// Plain-text body, e.g. `No cluster leader`.
    pub body: String,
}

/// A Nomad server that `PUT /v1/agent/join?address=…` can reach: joining its
/// `address` (`host:port` of its serf port; a bare host means port 4648) succeeds and it
/// then shows up in `/v1/agent/members` and (its region) in `/v1/regions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinTarget {
    /// Serf address, e.g. `10.0.0.2:4648`.
    pub address: String,
    /// Node name (the member is listed as `<name>.<region>`).
    pub name: String,
    /// Its region.
    pub region: String,
    /// Its datacenter.
    pub datacenter: String,
}

/// Server-side TLS material (PEM). Get one from [`crate::TestPki::server_setup`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSetup {
    /// CA certificate that signed `cert_pem` (kept for the tests' convenience).
    pub ca_pem: String,
    /// Server certificate chain (PEM).
    pub cert_pem: String,
    /// Server private key (PEM, PKCS#8, PKCS#1 or SEC1).
    pub key_pem: String,
    /// When set, clients must present a certificate signed by this CA (PEM).
    pub require_client_cert: Option<String>,
}

/// Everything that shapes one double: life cycle, timings and transport switches.
/// Build it with a named constructor and refine it with the `with_*` methods, e.g.
/// `Scenario::happy_path().with_acl_token("secret").with_tls(pki.server_setup(false))`.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// Life cycle of every registered job.
    pub life: Life,
    /// Time between two state changes of a life cycle (default 100 ms).
    pub step: Duration,
    /// When set, requests need this token in `X-Nomad-Token` (or `Authorization: Bearer`):
    /// no token → `403 Permission denied`, another token → `403 ACL token not found`.
    /// `/v1/status/*` and `/v1/regions` stay open, as in Nomad.
    pub acl_token: Option<String>,
    /// Serve HTTPS with this certificate.
    pub tls: Option<TlsSetup>,
    /// Delay before every response.
    pub delay: Option<Duration>,
    /// Drop one connection without a (complete) response.
    pub drop: Option<DropRule>,
    /// With `drop`: send the status line, headers and half the body before closing,
    /// instead of closing without a byte.
    pub drop_mid_response: bool,
    /// Fail one request with a server error.
    pub fail: Option<FailRule>,
    /// Jobs that exist before the test starts, with their `JobModifyIndex`.
    pub existing_jobs: Vec<(Value, u64)>,
    /// Servers a join can reach; any other address fails with `connection refused`.
    pub join_targets: Vec<JoinTarget>,
    /// Known regions (`/v1/regions`; other `?region=` → `500 No path to region`).
    pub regions: Vec<String>,
}

/// Default time between two state changes.
pub const DEFAULT_STEP: Duration = Duration::from_millis(100);

impl Default for Scenario {
    fn default() -> Self {
        Self {
            life: Life::HappyPath,
            step: DEFAULT_STEP,
            acl_token: None,
            tls: None,
            delay: None,
            drop: None,
            drop_mid_response: false,
            fail: None,
            existing_jobs: Vec::new(),
            join_targets: Vec::new(),
            regions: vec!["global".to_string()],
        }
    }
}

impl Scenario {
    /// A scenario playing `life`, everything else default.
    pub fn with_life(life: Life) -> Self {
        Self {
            life,
            ..Self::default()
        }
    }

    /// Scenario 1: [`Life::HappyPath`].
    pub fn happy_path() -> Self {
        Self::with_life(Life::HappyPath)
    }

    /// Scenario 2: [`Life::PlacementFailure`].
    pub fn placement_failure() -> Self {
        Self::with_life(Life::PlacementFailure)
    }

    /// Scenario 3: [`Life::NextEvalChain`].
    pub fn next_eval_chain(wait: Duration) -> Self {
        Self::with_life(Life::NextEvalChain { wait })
    }

    /// Scenario 4: [`Life::FailedWithAutoRevert`].
    pub fn failed_with_auto_revert() -> Self {
        Self::with_life(Life::FailedWithAutoRevert)
    }

    /// Scenario 5: [`Life::CanaryAwaitingPromotion`].
    pub fn canary_awaiting_promotion() -> Self {
        Self::with_life(Life::CanaryAwaitingPromotion)
    }

    /// Scenario 6: `job` (an API job object with `ID`) already exists at
    /// `job_modify_index`, so a register with `EnforceIndex` and another index gets
    /// `500 Enforcing job modify index N: job exists with conflicting job modify index: M`.
    pub fn check_index_conflict(job: Value, job_modify_index: u64) -> Self {
        Self::happy_path().with_existing_job(job, job_modify_index)
    }

    /// Scenario 7: happy path behind an ACL token.
    pub fn acl_required(token: impl Into<String>) -> Self {
        Self::happy_path().with_acl_token(token)
    }

    /// Scenario 8: happy path with every response delayed by `delay`.
    pub fn slow(delay: Duration) -> Self {
        Self::happy_path().with_delay(delay)
    }

    /// Scenario 9: happy path where the `nth` matching request gets no response.
    pub fn drop_connection(on: DropOn, nth: u32) -> Self {
        Self::happy_path().with_drop(DropRule { on, nth })
    }

    /// Happy path where the `nth` matching request gets `500 No cluster leader`.
    pub fn server_error(on: DropOn, nth: u32) -> Self {
        Self::happy_path().with_failure(FailRule {
            on,
            nth,
            status: 500,
            body: "No cluster leader".to_string(),
        })
    }

    /// Scenario 10: happy path over HTTPS.
    pub fn tls(setup: TlsSetup) -> Self {
        Self::happy_path().with_tls(setup)
    }

    /// Sets the time between state changes.
    pub fn with_step(mut self, step: Duration) -> Self {
        self.step = step;
        self
    }

    /// Requires this ACL token.
    pub fn with_acl_token(mut self, token: impl Into<String>) -> Self {
        self.acl_token = Some(token.into());
        self
    }

    /// Serves HTTPS.
    pub fn with_tls(mut self, setup: TlsSetup) -> Self {
        self.tls = Some(setup);
        self
    }

    /// Delays every response.
    pub fn with_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Drops one connection.
    pub fn with_drop(mut self, rule: DropRule) -> Self {
        self.drop = Some(rule);
        self
    }

    /// Makes the drop rule cut the response in the middle of its body.
    pub fn with_drop_mid_response(mut self) -> Self {
        self.drop_mid_response = true;
        self
    }

    /// Fails one request with a server error.
    pub fn with_failure(mut self, rule: FailRule) -> Self {
        self.fail = Some(rule);
        self
    }

    /// Adds a job that exists from the start, at `job_modify_index`.
    pub fn with_existing_job(mut self, job: Value, job_modify_index: u64) -> Self {
        self.existing_jobs.push((job, job_modify_index));
        self
    }

    /// Adds a server that joins can reach (see [`JoinTarget`]).
    pub fn with_join_target(mut self, address: &str, name: &str, region: &str, dc: &str) -> Self {
        self.join_targets.push(JoinTarget {
            address: address.to_string(),
            name: name.to_string(),
            region: region.to_string(),
            datacenter: dc.to_string(),
        });
        self
    }

    /// Sets the known regions (the first one is the double's own).
    pub fn with_regions(mut self, regions: &[&str]) -> Self {
        self.regions = regions.iter().map(|r| (*r).to_string()).collect();
        self
    }
}
