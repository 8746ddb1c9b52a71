//! The `nomad-join` command line.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clap::Parser;
use cli_common::http::HttpError;
use cli_common::nomad::{NomadArgs, NomadClient};
use cli_common::{facts, Error, Exit, Generate, OutputArgs};
use serde::Deserialize;

use crate::federation::{self, Expectations, Report};

/// Join Nomad servers across regions, then verify the federation until it
/// holds: every expected region known, every server alive, a leader in
/// each region (and client nodes, with --expect-clients). Prints one JSON
/// object on stdout.
#[derive(Debug, Parser)]
#[command(
    name = "nomad-join",
    version,
    after_help = "\
Examples:
  nomad-join --address http://us-server:4646 10.0.1.11:4648 --expect-region europe
      join region us to a europe server, then verify both regions
  nomad-join --expect-region europe --expect-region us
      verify only (no address: no join)
  vm-provision europe.json | nomad-join --address http://us-server:4646
      join the servers the europe facts list; expect their region
  nomad-join --expect-clients france=2 --wait 2m

Addresses are given to the agent as they are: host:port of a server's serf
port (4648), or a host (the agent's own serf port is used).
Cluster facts on stdin (when it is not a terminal): each document's
`region` is expected and its `servers` are joined.

JSON: {\"num_joined\", \"regions\": {\"<region>\": {\"leader\", \"servers\": [{\"name\",
\"address\", \"status\", \"leader\"}]}}, \"missing_regions\", \"unreachable\",
\"healthy\"} (+ \"nodes\" with --expect-clients).
Exit codes: 0 healthy; 1 not converged by --wait, or the join reached no
server; 2 usage; 3 bad stdin; 4 the agent refused; 5 the agent unreachable."
)]
pub struct Cli {
    /// Serf addresses of servers to join (host:port or host).
    pub addresses: Vec<String>,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub nomad: NomadArgs,

    /// A region that must be part of the federation (repeatable).
    #[arg(long = "expect-region", value_name = "REGION")]
    pub expect_regions: Vec<String>,

    /// At least N client nodes ready and eligible in DATACENTER
    /// (repeatable).
    #[arg(long = "expect-clients", value_name = "DATACENTER=N", value_parser = parse_expect_clients)]
    pub expect_clients: Vec<(String, u64)>,

    /// How long to wait for the federation to converge (e.g. 60s, 2m).
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = cli_common::parse_duration)]
    pub wait: Duration,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub output: OutputArgs,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub generate: Generate,
}

cli_common::has_generate!(Cli);

fn parse_expect_clients(text: &str) -> Result<(String, u64), String> {
    let (dc, n) = text
        .split_once('=')
        .filter(|(dc, _)| !dc.is_empty())
        .ok_or_else(|| "expected DATACENTER=N".to_owned())?;
    let n = n.parse().map_err(|_| format!("{n:?} is not a count"))?;
    Ok((dc.to_owned(), n))
}

/// How often the federation is re-read while it converges.
const POLL: Duration = Duration::from_millis(500);

#[derive(Debug, Deserialize)]
struct JoinResponse {
    #[serde(default)]
    num_joined: u64,
    #[serde(default)]
    error: String,
    #[serde(default)]
    warning: String,
}

/// Runs the command.
pub fn run(cli: Cli) -> Result<(), Error> {
    let config = cli.nomad.config()?;
    let facts = facts::from_stdin()?;
    let mut addresses = cli.addresses.clone();
    let mut expect = Expectations {
        regions: cli.expect_regions.clone(),
        clients: cli
            .expect_clients
            .iter()
            .cloned()
            .collect::<BTreeMap<_, _>>(),
    };
    for f in &facts {
        addresses.extend(f.servers.iter().cloned());
        expect.regions.extend(f.region.iter().cloned());
    }
    expect.regions.sort();
    expect.regions.dedup();
    let client = NomadClient::new(&config)?;

    let deadline = Instant::now() + cli.wait;
    let num_joined = if addresses.is_empty() {
        0
    } else {
        join(&client, &addresses)?
    };
    let report = converge(&client, &expect, deadline, num_joined)?;
    cli_common::print_json(&report, &cli.output)?;
    if report.healthy {
        Ok(())
    } else {
        Err(Error::new(Exit::No, unhealthy_summary(&report, cli.wait)))
    }
}

/// One join request with every address; an error when nothing joined.
fn join(client: &NomadClient, addresses: &[String]) -> Result<u64, Error> {
    let query: Vec<(&str, &str)> = addresses.iter().map(|a| ("address", a.as_str())).collect();
    let response = client
        .put("/v1/agent/join", &query, &serde_json::Value::Null, false)
        .map_err(local_agent_error)?;
    let answer: JoinResponse = serde_json::from_value(response.json().map_err(local_agent_error)?)
        .map_err(|e| Error::new(Exit::Refused, format!("unexpected join answer: {e}")))?;
    if !answer.warning.is_empty() {
        eprintln!("nomad-join: warning: {}", answer.warning.trim());
    }
    if answer.num_joined == 0 || !answer.error.is_empty() {
        let why = answer
            .error
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        return Err(Error::new(
            Exit::No,
            format!("joining {} failed: {why}", addresses.join(", ")),
        ));
    }
    eprintln!("nomad-join: joined {} server(s)", answer.num_joined);
    Ok(answer.num_joined)
}

/// Re-reads the federation until it is healthy or the deadline passes.
fn converge(
    client: &NomadClient,
    expect: &Expectations,
    deadline: Instant,
    num_joined: u64,
) -> Result<Report, Error> {
    loop {
        let mut report = federation::observe(client, expect).map_err(local_agent_error)?;
        report.num_joined = num_joined;
        if report.healthy || Instant::now() + POLL > deadline {
            return Ok(report);
        }
        std::thread::sleep(POLL);
    }
}

/// Errors of the local agent: refused (4) or unreachable (5).
fn local_agent_error(e: HttpError) -> Error {
    e.into()
}

fn unhealthy_summary(report: &Report, wait: Duration) -> String {
    let mut problems = Vec::new();
    if !report.missing_regions.is_empty() {
        problems.push(format!(
            "missing regions {}",
            report.missing_regions.join(", ")
        ));
    }
    if !report.unreachable.is_empty() {
        problems.push(format!(
            "unreachable regions {}",
            report.unreachable.join(", ")
        ));
    }
    let down: Vec<&str> = report
        .regions
        .values()
        .flat_map(|r| &r.servers)
        .filter(|s| s.status != "alive")
        .map(|s| s.name.as_str())
        .collect();
    if !down.is_empty() {
        problems.push(format!("servers not alive: {}", down.join(", ")));
    }
    if let Some(nodes) = &report.nodes {
        for (dc, c) in nodes {
            if c.down > 0 {
                problems.push(format!("{dc}: {} client node(s) down", c.down));
            }
        }
    }
    if problems.is_empty() {
        problems.push("not all expectations met".into());
    }
    format!(
        "federation not healthy after {}: {}",
        humantime::format_duration(wait),
        problems.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expect_clients_reads_dc_and_count() {
        assert_eq!(parse_expect_clients("france=2"), Ok(("france".into(), 2)));
        assert!(parse_expect_clients("france").is_err());
        assert!(parse_expect_clients("=2").is_err());
        assert!(parse_expect_clients("france=x").is_err());
    }
}
