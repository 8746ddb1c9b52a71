//! `hcl2json`: HCL to JSON, and Nomad job files to Nomad's API JSON.

fn main() -> std::process::ExitCode {
    cli_common::main("hcl2json", hcl2json::cli::run)
}
