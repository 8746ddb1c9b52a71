//! The `vm-provision` command line.

use std::io::{IsTerminal as _, Read as _};
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use cli_common::{Error, Exit, Generate, OutputArgs};

use crate::facts::{ClusterFacts, Outcome};
use crate::inventory::{self, Inventory, TerraformDefaults};
use crate::provision::{LocalBinary, Settings, TlsMaterial};
use crate::render;
use crate::run::{self, Connection, StderrReporter};

/// Bootstrap Consul and Nomad agents on Linux hosts over SSH from an
/// inventory: packages, binaries, users, configs, systemd units, started
/// agents. Every step checks first, so a re-run changes nothing. Prints the
/// cluster facts (one JSON document) on stdout; progress on stderr.
#[derive(Debug, Parser)]
#[command(
    name = "vm-provision",
    version,
    after_help = "\
Examples:
  vm-provision inventory.json > facts.json
  vm-provision --dry-run inventory.json          what would change (exit 1 if anything)
  terraform output -json | vm-provision --region europe --datacenter gce-west1
  vm-provision --consul-binary ./consul --nomad-binary ./nomad --no-docker lab.json
      hosts without internet: upload the binaries, skip Docker

Hosts are provisioned servers first, then clients, up to --parallel at a
time; a host that fails does not stop the others. Host keys are checked
against known_hosts (hashed entries too): an unknown key is refused unless
--accept-new-host-keys, a changed key always is.

JSON: {\"region\", \"datacenter\", \"nomad_addr\", \"consul_http_addr\", \"servers\",
\"clients\", \"hosts\": [{\"name\", \"address\", \"role\", \"result\":
\"changed\"|\"unchanged\"|\"failed\", \"changes\", \"error\", \"host_key_fingerprint\"}]}
Exit codes: 0 every host changed or unchanged (--dry-run: nothing to
change); 1 a host failed (--dry-run: something would change); 2 usage;
3 invalid inventory (nothing contacted)."
)]
pub struct Cli {
    /// The inventory (JSON): a file, or `-`/absent for stdin.
    pub inventory: Option<PathBuf>,

    /// How many hosts to provision at once.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..))]
    pub parallel: u16,

    /// Connect and show what would change (files as diffs), change
    /// nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Accept and record the keys of hosts not in known_hosts (their
    /// fingerprints are in the output). A changed key is still refused.
    #[arg(long)]
    pub accept_new_host_keys: bool,

    /// The known_hosts file (overrides the inventory's ssh.known_hosts).
    #[arg(long, value_name = "FILE")]
    pub known_hosts: Option<PathBuf>,

    /// The SSH private key (overrides the inventory's ssh.identity_file).
    #[arg(long, value_name = "FILE")]
    pub identity: Option<PathBuf>,

    /// Upload this file as /usr/local/bin/consul instead of downloading
    /// the inventory's version.
    #[arg(long, value_name = "PATH")]
    pub consul_binary: Option<PathBuf>,

    /// Upload this file as /usr/local/bin/nomad instead of downloading
    /// the inventory's version.
    #[arg(long, value_name = "PATH")]
    pub nomad_binary: Option<PathBuf>,

    /// Do not install Docker on clients.
    #[arg(long)]
    pub no_docker: bool,

    /// How long to keep trying to reach a host over SSH (e.g. 60s); a host
    /// still unreachable then is `failed`.
    #[arg(long, value_name = "DURATION", value_parser = cli_common::parse_duration)]
    pub connect_timeout: Option<Duration>,

    /// How long each agent may take to answer on its HTTP API once
    /// started.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = cli_common::parse_duration)]
    pub api_timeout: Duration,

    /// Download Consul and Nomad from this mirror of HashiCorp's release
    /// site (same layout) instead.
    #[arg(long, value_name = "URL", default_value = crate::provision::RELEASES_URL)]
    pub releases_url: String,

    /// The region, for a `terraform output -json` inventory (which has
    /// none).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,

    /// The datacenter, for a `terraform output -json` inventory.
    #[arg(long, value_name = "DATACENTER")]
    pub datacenter: Option<String>,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub output: OutputArgs,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub generate: Generate,
}

cli_common::has_generate!(Cli);

/// Runs the command.
pub fn run(cli: Cli) -> Result<(), Error> {
    let inv = read_inventory(&cli)?;
    let settings = settings(&cli, &inv)?;
    let connection = Connection {
        accept_new_host_keys: cli.accept_new_host_keys,
        known_hosts: cli.known_hosts.clone(),
        identity_file: cli.identity.clone(),
        connect_timeout: cli.connect_timeout,
    };
    let facts = run::provision_all(
        &inv,
        &settings,
        &connection,
        usize::from(cli.parallel),
        &StderrReporter,
    );
    cli_common::print_json(&facts, &cli.output)?;
    verdict(&facts, cli.dry_run)
}

/// Reads and validates the inventory (exit 3 on any problem, before any
/// host is contacted).
fn read_inventory(cli: &Cli) -> Result<Inventory, Error> {
    let (text, name) = match cli.inventory.as_deref() {
        None => (read_stdin()?, "<stdin>".to_string()),
        Some(p) if p.as_os_str() == "-" => (read_stdin()?, "<stdin>".to_string()),
        Some(p) => (
            std::fs::read_to_string(p)
                .map_err(|e| Error::bad_input(format!("cannot read {}: {e}", p.display())))?,
            p.display().to_string(),
        ),
    };
    let mut defaults = TerraformDefaults::default();
    if let Some(region) = &cli.region {
        defaults.region = region.clone();
    }
    if let Some(datacenter) = &cli.datacenter {
        defaults.datacenter = datacenter.clone();
    }
    inventory::parse(&text, &name, &defaults)
}

fn read_stdin() -> Result<String, Error> {
    if std::io::stdin().is_terminal() {
        return Err(Error::usage(
            "no inventory: give a file, or pipe one on stdin (see --help)",
        ));
    }
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Error::bad_input(format!("cannot read stdin: {e}")))?;
    Ok(text)
}

/// Everything read from the operator's machine before any host is
/// contacted: binaries, gossip key, TLS files.
fn settings(cli: &Cli, inv: &Inventory) -> Result<Settings, Error> {
    let load = |path: &Option<PathBuf>| path.as_deref().map(LocalBinary::load).transpose();
    let tls = |files: &Option<inventory::TlsFiles>, json_path: &str| {
        files
            .as_ref()
            .map(|f| TlsMaterial::load(f, json_path))
            .transpose()
    };
    if !(cli.releases_url.starts_with("https://") || cli.releases_url.starts_with("http://")) {
        return Err(Error::usage(format!(
            "--releases-url: {} is not an http(s) URL",
            cli.releases_url
        )));
    }
    Ok(Settings {
        dry_run: cli.dry_run,
        docker: !cli.no_docker,
        consul_binary: load(&cli.consul_binary)?,
        nomad_binary: load(&cli.nomad_binary)?,
        gossip_key: inv
            .consul
            .encrypt_key_file
            .as_deref()
            .map(render::read_gossip_key)
            .transpose()?,
        consul_tls: tls(&inv.consul.tls, "consul.tls")?,
        nomad_tls: tls(&inv.nomad.tls, "nomad.tls")?,
        api_timeout: cli.api_timeout,
        releases_url: cli.releases_url.clone(),
    })
}

/// Exit 1 when a host failed or, in a dry run, when something would
/// change; the message counts them.
fn verdict(facts: &ClusterFacts, dry_run: bool) -> Result<(), Error> {
    let count = |o: Outcome| facts.hosts.iter().filter(|h| h.result == o).count();
    let (failed, changed) = (count(Outcome::Failed), count(Outcome::Changed));
    let names = |o: Outcome| {
        facts
            .hosts
            .iter()
            .filter(|h| h.result == o)
            .map(|h| h.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if failed > 0 {
        return Err(Error::new(
            Exit::No,
            format!(
                "{failed} of {} host(s) failed: {}",
                facts.hosts.len(),
                names(Outcome::Failed)
            ),
        ));
    }
    if dry_run && changed > 0 {
        return Err(Error::new(
            Exit::No,
            format!(
                "dry run: {changed} host(s) would change: {}",
                names(Outcome::Changed)
            ),
        ));
    }
    Ok(())
}
