//! `job-submit`: submit a Nomad job over the HTTP API and follow it to a verdict.

fn main() -> std::process::ExitCode {
    cli_common::main("job-submit", job_submit::cli::run)
}
