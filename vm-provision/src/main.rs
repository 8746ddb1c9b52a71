//! `vm-provision`: bootstrap Consul and Nomad agents on Linux hosts over SSH.

fn main() -> std::process::ExitCode {
    cli_common::main("vm-provision", vm_provision::cli::run)
}
