//! `consul-wan-check`: WAN-join Consul datacenters and verify the federation.

fn main() -> std::process::ExitCode {
    cli_common::main("consul-wan-check", consul_wan_check::cli::run)
}
