//! The `job-submit` command line.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use cli_common::nomad::{NomadArgs, NomadClient};
use cli_common::{Error, Generate, OutputArgs};

use crate::input::{self, Source};
use crate::submit::{Options, Submitter};

/// Submit a job to Nomad over its HTTP API and follow its evaluation and
/// deployment to a verdict, printed as one JSON object on stdout.
#[derive(Debug, Parser)]
#[command(
    name = "job-submit",
    version,
    after_help = "\
Examples:
  job-submit app.nomad                          HCL job file, converted in-process
  job-submit app.nomad --var image=web:1.2      with a job variable
  hcl2json --nomad app.nomad | job-submit       API JSON on stdin
  job-submit --plan app.nomad                   dry run: exit 0 no changes, 1 changes
  job-submit --check-index 42 app.nomad         register only if the job is at index 42
  job-submit --timeout 10m --auto-promote app.nomad

Environment: NOMAD_ADDR, NOMAD_REGION, NOMAD_NAMESPACE, NOMAD_TOKEN,
NOMAD_CACERT, NOMAD_CAPATH, NOMAD_CLIENT_CERT, NOMAD_CLIENT_KEY,
NOMAD_TLS_SERVER_NAME, NOMAD_SKIP_VERIFY, NOMAD_VAR_<name>. Flags win.

status in the output: successful, registered, placement_failed, failed,
awaiting_promotion, timeout; with --plan: no_changes, changes.
Exit codes: 0 successful/registered/no_changes; 1 failed, placement_failed,
awaiting_promotion, changes; 2 usage; 3 invalid job (nothing sent);
4 Nomad refused (HTTP error, check-index conflict, ACL); 5 unreachable or
timeout."
)]
pub struct Cli {
    /// The job: API JSON or an HCL job file; `-` or nothing reads stdin.
    pub file: Option<PathBuf>,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub nomad: NomadArgs,

    /// Set an HCL job variable, NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,

    /// Read HCL job variables from a var file (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,

    /// Dry run: plan the job and report whether it would change anything.
    #[arg(long, conflicts_with_all = ["detach", "check_index"])]
    pub plan: bool,

    /// Register only if the job's modify index is N (0: only if it does not
    /// exist yet); a plan's `job_modify_index` is the value to use.
    #[arg(long, value_name = "N")]
    pub check_index: Option<u64>,

    /// Register the job and stop: do not follow it.
    #[arg(long)]
    pub detach: bool,

    /// Stop following after this long (e.g. 90s, 10m) with status
    /// `timeout`; by default follow until a verdict.
    #[arg(long, value_name = "DURATION", value_parser = cli_common::parse_duration)]
    pub timeout: Option<Duration>,

    /// Promote the deployment's canaries once they are healthy instead of
    /// stopping with `awaiting_promotion`.
    #[arg(long)]
    pub auto_promote: bool,

    /// Override soft-mandatory Sentinel policies (Enterprise).
    #[arg(long)]
    pub policy_override: bool,

    /// Keep the counts of task groups already running.
    #[arg(long)]
    pub preserve_counts: bool,

    /// More progress detail on stderr.
    #[arg(long)]
    pub verbose: bool,

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
    // Configuration first, then the job: both fail before anything is sent.
    let config = cli.nomad.config()?;
    let job = input::load(&Source {
        file: cli.file.as_deref(),
        vars: &cli.vars,
        var_files: &cli.var_files,
    })?;
    let client = NomadClient::new(&config)?;
    let options = Options {
        plan: cli.plan,
        check_index: cli.check_index,
        detach: cli.detach,
        timeout: cli.timeout,
        auto_promote: cli.auto_promote,
        policy_override: cli.policy_override,
        preserve_counts: cli.preserve_counts,
        verbose: cli.verbose,
    };
    let report = Submitter::new(&client, &job, &options).run()?;
    cli_common::print_json(&report, &cli.output)?;
    match report.status.exit() {
        cli_common::Exit::Success => Ok(()),
        exit => Err(Error::new(
            exit,
            format!("job {}: {}", report.job_id, status_word(&report)),
        )),
    }
}

fn status_word(report: &crate::report::Report) -> String {
    serde_json::to_value(report.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
