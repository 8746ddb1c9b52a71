//! The `hcl2json` command line.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Parser;
use cli_common::{Error, Exit, Generate, OutputArgs};

/// Convert HCL to JSON; with --nomad, a Nomad job file to the API JSON that
/// `nomad job run -output` prints.
#[derive(Debug, Parser)]
#[command(
    name = "hcl2json",
    version,
    after_help = "\
Examples:
  hcl2json main.tf                          Terraform file to JSON
  hcl2json --pretty nomad-agent.hcl         indented, whatever stdout is
  hcl2json --nomad app.nomad                job file to {\"Job\": {...}}
  hcl2json --nomad app.nomad --var image=web:1.2 --var-file prod.vars.json
  NOMAD_VAR_image=web:1.2 hcl2json --nomad app.nomad | job-submit

Exit codes: 0 converted, 2 usage error, 3 invalid input (the message says
file:line:col; nothing is written to stdout)."
)]
pub struct Cli {
    /// The HCL file; `-` or nothing reads standard input.
    pub file: Option<PathBuf>,

    /// Read a Nomad job file and print the job as Nomad's API takes it.
    #[arg(long)]
    pub nomad: bool,

    /// Set a job variable (with --nomad), NAME=VALUE; repeatable, overrides
    /// var files and the environment's NOMAD_VAR_ variable of that name.
    #[arg(long = "var", value_name = "NAME=VALUE", requires = "nomad")]
    pub vars: Vec<String>,

    /// Read job variables (with --nomad) from an HCL or JSON var file;
    /// repeatable, later files win.
    #[arg(long = "var-file", value_name = "FILE", requires = "nomad")]
    pub var_files: Vec<PathBuf>,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub output: OutputArgs,

    #[command(flatten)]
    #[allow(missing_docs)]
    pub generate: Generate,
}

cli_common::has_generate!(Cli);

/// Runs the command: reads the input, converts it, prints the JSON.
pub fn run(cli: Cli) -> Result<(), Error> {
    let (src, path) = read_input(cli.file.as_deref())?;
    let name = path
        .as_ref()
        .map_or_else(|| "<stdin>".to_owned(), |p| p.display().to_string());
    let pretty = cli.output.indent();
    let output = if cli.nomad {
        let mut options = crate::nomad::Options::from_process_env();
        options.vars = cli
            .vars
            .iter()
            .map(|v| parse_var(v))
            .collect::<Result<_, _>>()?;
        options.var_files = cli.var_files;
        options
            .convert_to_text(&src, path.as_deref(), pretty.then_some("    "))
            .map_err(|e| Error::bad_input(e.in_file(&name).to_string()))?
    } else {
        crate::generic::to_json(&src, pretty)
            .map_err(|e| Error::bad_input(e.in_file(&name).to_string()))?
    };
    cli_common::print_stdout(&output)
}

fn read_input(file: Option<&Path>) -> Result<(String, Option<PathBuf>), Error> {
    match file {
        None => read_stdin(),
        Some(p) if p == Path::new("-") => read_stdin(),
        Some(p) => {
            let bytes = std::fs::read(p)
                .map_err(|e| Error::bad_input(format!("{}: cannot read: {e}", p.display())))?;
            let text = String::from_utf8(bytes)
                .map_err(|e| Error::bad_input(format!("{}:{}", p.display(), utf8_error(&e))))?;
            Ok((text, Some(p.to_path_buf())))
        }
    }
}

fn read_stdin() -> Result<(String, Option<PathBuf>), Error> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| Error::bad_input(format!("<stdin>: cannot read: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| Error::bad_input(format!("<stdin>:{}", utf8_error(&e))))?;
    Ok((text, None))
}

fn utf8_error(e: &std::string::FromUtf8Error) -> String {
    let offset = e.utf8_error().valid_up_to();
    let valid = std::str::from_utf8(&e.as_bytes()[..offset]).unwrap_or_default();
    let pos = crate::Pos::at(valid, offset);
    format!("{pos}: Invalid UTF-8; the input is not valid UTF-8 text")
}

fn parse_var(arg: &str) -> Result<(String, String), Error> {
    match arg.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(Error::new(
            Exit::Usage,
            format!("--var {arg:?}: expected NAME=VALUE"),
        )),
    }
}
