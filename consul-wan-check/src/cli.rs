//! The `consul-wan-check` command line.

use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use cli_common::consul::{ConsulArgs, ConsulClient, ConsulConfig};
use cli_common::http::HttpError;
use cli_common::{facts, Error, Exit, Generate, OutputArgs};

use crate::api::{AgentSelf, Api};
use crate::check::{self, Expectations, Snapshot, Verdict};
use crate::plan::Plan;
use crate::warnings::{self, AgentView};

/// Time between two observations while waiting for the federation.
const POLL_INTERVAL: Duration = Duration::from_millis(500);

/// Longest time allowed to connect to, and hear from, another
/// datacenter's agent (read for warnings only).
const PEER_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// WAN-join Consul datacenters, then verify the federation until it holds:
/// the agent is a server, every expected datacenter has alive servers in
/// the WAN pool and is listed by the catalog. Prints one JSON object on
/// stdout, healthy or not.
#[derive(Debug, Parser)]
#[command(
    name = "consul-wan-check",
    version,
    after_help = "\
Examples:
  consul-wan-check --http-addr http://10.2.0.11:8500 --join 35.1.2.3 --expect-dc gce-west1
      WAN-join a gce-west1 server from a france server, then verify both
  consul-wan-check --expect-dc gce-west1 --expect-dc france --expect-servers 3
      verify only (no --join: no join)
  vm-provision france.json | consul-wan-check --http-addr http://us-server:8500
      join the servers the facts list (WAN port 8302 added), expect their datacenter
  consul-wan-check --expect-lan 6 --wait 2m

--join addresses are sent to the agent exactly as given, one
PUT /v1/agent/join/<address>?wan=1 each (host, or host:port of the WAN serf
port 8302). Cluster facts on stdin (when it is not a terminal; zero or more
JSON documents): every document's `datacenter` is expected; its `servers`
(else its hosts with role server) are joined with :8302 added when they have
no port, except for the agent's own datacenter and with --no-facts-join; its
`consul_http_addr` is read (/v1/agent/self) for the encryption warning.
Without any expected datacenter, every datacenter of the catalog is expected;
the agent's own always is.

JSON: {\"datacenters\", \"members\": [{\"name\", \"address\", \"datacenter\", \"status\"}],
\"missing_datacenters\", \"failed_members\", \"warnings\", \"healthy\"}
(+ \"lan_members\" with --expect-lan). datacenters is what the catalog lists;
members is the WAN pool (address = gossip ip:port; status alive, leaving,
left, failed or none); failed_members names the members whose status is
failed. A datacenter whose servers are all failed or left is missing even
while the catalog still lists it.

Warnings (stderr and `warnings`): a private WAN address while servers of
another datacenter are public; servers advertising the same WAN address;
gossip encryption on in one datacenter and off in another.

Environment: CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN, CONSUL_HTTP_TOKEN_FILE,
CONSUL_HTTP_AUTH, CONSUL_HTTP_SSL, CONSUL_HTTP_SSL_VERIFY, CONSUL_CACERT,
CONSUL_CAPATH, CONSUL_CLIENT_CERT, CONSUL_CLIENT_KEY, CONSUL_TLS_SERVER_NAME.
Flags win. The token is sent on every request and never printed.

Exit codes: 0 healthy; 1 not healthy by --wait, a join failed, or the agent
is not a server (the JSON is printed in all three cases); 2 usage; 3 bad
stdin; 4 the agent refused (HTTP error, ACL); 5 the agent unreachable or
timed out."
)]
pub struct Cli {
    /// WAN-join this address first (repeatable); sent as given.
    #[arg(long = "join", value_name = "ADDRESS")]
    pub joins: Vec<String>,

    /// A datacenter that must be federated (repeatable, or comma-separated).
    #[arg(long = "expect-dc", value_name = "DC", value_delimiter = ',')]
    pub expect_dcs: Vec<String>,

    /// At least N alive servers per expected datacenter (default 1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub expect_servers: Option<u32>,

    /// Also require at least N alive LAN members in the agent's own
    /// datacenter; reported under `lan_members`.
    #[arg(long, value_name = "N")]
    pub expect_lan: Option<u32>,

    /// How long to wait for the federation to converge (e.g. 60s, 2m).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = cli_common::parse_duration)]
    pub wait: Duration,

    /// Use cluster facts only for expected datacenters: do not join their
    /// servers.
    #[arg(long)]
    pub no_facts_join: bool,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub consul: ConsulArgs,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub output: OutputArgs,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub generate: Generate,
}

cli_common::has_generate!(Cli);

/// One line on stderr.
fn note(text: &str) {
    eprintln!("consul-wan-check: {text}");
}

/// The agent's message on one line (Consul's multi-errors span several).
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs the command.
pub fn run(cli: Cli) -> Result<(), Error> {
    let mut config = cli.consul.config()?;
    for warning in &config.warnings {
        note(&format!("warning: {warning}"));
    }
    // Connecting may not eat --wait either (each answer is bounded by the
    // deadline, see `Api`).
    config.http.connect_timeout = config
        .http
        .connect_timeout
        .min((cli.wait / 4).max(Duration::from_secs(1)));
    let facts = facts::from_stdin()?;
    let client = ConsulClient::new(&config)?;
    // --wait counts from here: reading stdin (`vm-provision … |`) may take
    // minutes.
    let deadline = Instant::now() + cli.wait;
    let api = Api::new(&client, Some(deadline));

    let agent = api.agent_self()?;
    let own_dc = agent.config.datacenter.clone();
    let plan = Plan::new(
        &cli.joins,
        &cli.expect_dcs,
        &facts,
        !cli.no_facts_join,
        &own_dc,
    );
    let expect = Expectations {
        datacenters: plan.datacenters.clone(),
        servers_per_dc: cli.expect_servers.map_or(1, |n| n as usize),
        lan: cli.expect_lan.map(|n| n as usize),
    };
    let agents = agent_views(&config, &agent, &plan);

    let join_failures = if agent.config.server {
        join_all(&client, &plan.joins)?
    } else {
        if !plan.joins.is_empty() {
            note("not joining: the agent is not a server (only servers join the WAN pool)");
        }
        Vec::new()
    };
    let verdict = if join_failures.is_empty() {
        watch(&api, &agent, &expect, deadline)?
    } else {
        let snapshot = Snapshot::observe(&api, &own_dc, true, expect.lan.is_some())?;
        check::evaluate(&snapshot, &expect)
    };
    finish(&cli, verdict, &agents, join_failures)
}

/// The local agent's view plus the other datacenters' agents named by the
/// facts (read once; an unreadable one is a note, not a failure).
fn agent_views(config: &ConsulConfig, local: &AgentSelf, plan: &Plan) -> Vec<AgentView> {
    let mut views = vec![AgentView {
        datacenter: local.config.datacenter.clone(),
        agent: local.clone(),
    }];
    for (dc, address) in &plan.peer_agents {
        let same_agent = config
            .with_address(address)
            .is_ok_and(|peer| peer.http.address == config.http.address);
        if dc == &local.config.datacenter || same_agent {
            continue;
        }
        match peer_self(config, address) {
            Ok(agent) => views.push(AgentView {
                datacenter: if agent.config.datacenter.is_empty() {
                    dc.clone()
                } else {
                    agent.config.datacenter.clone()
                },
                agent,
            }),
            Err(e) => note(&format!(
                "cannot read /v1/agent/self of datacenter {dc} at {address}: {e}"
            )),
        }
    }
    views
}

fn peer_self(config: &ConsulConfig, address: &str) -> Result<AgentSelf, Error> {
    let mut peer = config.with_address(address)?;
    peer.datacenter = None;
    peer.http.connect_timeout = peer.http.connect_timeout.min(PEER_CONNECT_TIMEOUT);
    let client = ConsulClient::new(&peer)?;
    let deadline = Instant::now() + PEER_CONNECT_TIMEOUT;
    Ok(Api::new(&client, Some(deadline)).agent_self()?)
}

/// A join the agent answered with an error: the address and its text.
#[derive(Debug, Clone)]
pub struct JoinFailure {
    /// The address as given.
    pub address: String,
    /// The agent's own error text, on one line.
    pub message: String,
}

/// WAN-joins every address, one request each. A 500 (the join reached
/// nothing) is collected; any other refusal (403, …) or an unreachable
/// agent stops here.
fn join_all(client: &ConsulClient, addresses: &[String]) -> Result<Vec<JoinFailure>, Error> {
    let mut failures = Vec::new();
    for address in addresses {
        match client.join(address, true) {
            Ok(()) => note(&format!("joined {address} (WAN)")),
            Err(HttpError::Status {
                status: 500, body, ..
            }) => {
                let message = one_line(&body);
                note(&format!("error joining address '{address}': {message}"));
                failures.push(JoinFailure {
                    address: address.clone(),
                    message,
                });
            }
            Err(e) => {
                return Err(Error::from(e));
            }
        }
    }
    Ok(failures)
}

/// Observes the agent every [`POLL_INTERVAL`] until healthy or `deadline`,
/// noting on stderr what is still missing whenever it changes.
fn watch(
    api: &Api<'_>,
    agent: &AgentSelf,
    expect: &Expectations,
    deadline: Instant,
) -> Result<Verdict, Error> {
    let mut last_reasons: Vec<String> = Vec::new();
    loop {
        let snapshot = Snapshot::observe(
            api,
            &agent.config.datacenter,
            agent.config.server,
            expect.lan.is_some(),
        )?;
        let verdict = check::evaluate(&snapshot, expect);
        // A client never becomes a server: no point in waiting.
        if verdict.report.healthy || !snapshot.is_server {
            return Ok(verdict);
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(verdict);
        }
        if verdict.reasons != last_reasons {
            note(&format!("waiting: {}", verdict.reasons.join("; ")));
            last_reasons = verdict.reasons.clone();
        }
        thread::sleep(POLL_INTERVAL.min(deadline - now));
    }
}

/// Adds the warnings, prints the JSON and turns the verdict into the exit
/// code.
fn finish(
    cli: &Cli,
    verdict: Verdict,
    agents: &[AgentView],
    join_failures: Vec<JoinFailure>,
) -> Result<(), Error> {
    let Verdict {
        mut report,
        reasons,
        wan,
    } = verdict;
    report.warnings = warnings::warnings(agents, &wan);
    for warning in &report.warnings {
        note(&format!("warning: {warning}"));
    }
    if !join_failures.is_empty() {
        report.healthy = false;
    }
    print(cli, &report)?;
    if !join_failures.is_empty() {
        let what: Vec<String> = join_failures
            .iter()
            .map(|f| format!("{}: {}", f.address, f.message))
            .collect();
        return Err(Error::new(
            Exit::No,
            format!("WAN join failed: {}", what.join("; ")),
        ));
    }
    if reasons.is_empty() {
        return Ok(());
    }
    let prefix = if reasons.iter().any(|r| r.contains("not a server")) {
        String::new()
    } else {
        format!(
            "WAN federation not healthy after {}: ",
            humantime::format_duration(cli.wait)
        )
    };
    Err(Error::new(
        Exit::No,
        format!("{prefix}{}", reasons.join("; ")),
    ))
}

fn print(cli: &Cli, report: &check::Report) -> Result<(), Error> {
    cli_common::print_json(report, &cli.output)
}
