//! `nomad-join`: join Nomad regions and verify the federation.

fn main() -> std::process::ExitCode {
    cli_common::main("nomad-join", nomad_join::cli::run)
}
