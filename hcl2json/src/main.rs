//! `hcl2json`: HCL to JSON, and Nomad job files to Nomad's API JSON.

// Conversion allocates many small nodes; mimalloc handles that pattern
// markedly faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli_common::main("hcl2json", hcl2json::cli::run)
}
