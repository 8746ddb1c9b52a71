//! What every tool of the workspace shares: the exit-code table, the one
//! error type that maps to it, JSON on stdout, and man pages and shell
//! completions generated from each tool's clap definition.
//!
//! A tool's `main` is one line:
//!
//! ```no_run
//! # use clap::Parser;
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(flatten)]
//!     generate: cli_common::Generate,
//! }
//!
//! impl cli_common::HasGenerate for Cli {
//!     fn generate(&self) -> &cli_common::Generate {
//!         &self.generate
//!     }
//! }
//!
//! fn run(_cli: Cli) -> Result<(), cli_common::Error> {
//!     Ok(())
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     cli_common::main("mytool", |cli: Cli| run(cli))
//! }
//! ```

use std::fmt;
use std::io::{self, Write};
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches};

pub mod consul;
pub mod env;
pub mod facts;
pub mod http;
pub mod nomad;

/// The exit codes shared by every tool (design doc, "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: success, healthy.
    Success = 0,
    /// 1: the answer is no (deployment failed, federation unhealthy, changes planned).
    No = 1,
    /// 2: usage or configuration error.
    Usage = 2,
    /// 3: bad input (HCL, JSON, inventory invalid); nothing was sent.
    BadInput = 3,
    /// 4: the remote refused (HTTP error status, SSH auth or host key).
    Refused = 4,
    /// 5: unreachable or timed out.
    Unreachable = 5,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// A failure, with the exit code it maps to. Printed as one line:
/// `<tool>: <message>`.
#[derive(Debug)]
pub struct Error {
    /// The exit code.
    pub exit: Exit,
    /// What failed and why, in one line.
    pub message: String,
}

impl Error {
    /// An error with an explicit exit code.
    pub fn new(exit: Exit, message: impl Into<String>) -> Error {
        Error {
            exit,
            message: message.into(),
        }
    }

    /// A usage or configuration error (exit 2).
    pub fn usage(message: impl Into<String>) -> Error {
        Error::new(Exit::Usage, message)
    }

    /// Invalid input (exit 3).
    pub fn bad_input(message: impl Into<String>) -> Error {
        Error::new(Exit::BadInput, message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// Hidden flags every tool has, to write its man page or shell completion
/// script from its own clap definition.
#[derive(Debug, Clone, Args, Default)]
pub struct Generate {
    /// Print the man page (roff) and exit.
    #[arg(long, hide = true)]
    pub generate_man: bool,
    /// Print the completion script for SHELL and exit.
    #[arg(long, hide = true, value_name = "SHELL")]
    pub generate_completion: Option<clap_complete::Shell>,
}

/// Something that carries the [`Generate`] flags.
pub trait HasGenerate {
    /// The tool's generate flags.
    fn generate(&self) -> &Generate;
}

/// Implements [`HasGenerate`] for a tool's `Cli` struct whose flattened
/// [`Generate`] field is named `generate`.
#[macro_export]
macro_rules! has_generate {
    ($cli:ty) => {
        impl $crate::HasGenerate for $cli {
            fn generate(&self) -> &$crate::Generate {
                &self.generate
            }
        }
    };
}

/// Parses the command line, handles `--generate-*`, runs `run` and turns
/// its result into the exit code, printing errors as `<tool>: <message>`.
pub fn main<C, F>(tool: &str, run: F) -> ExitCode
where
    C: CommandFactory + FromArgMatches + HasGenerate,
    F: FnOnce(C) -> Result<(), Error>,
{
    let matches = match C::command().try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            // clap prints help and version to stdout with exit 0, usage
            // errors to stderr; ours are exit 2 either way.
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage.into()
            } else {
                Exit::Success.into()
            };
        }
    };
    let cli = match C::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return Exit::Usage.into();
        }
    };
    if let Some(code) = generate::<C>(tool, cli.generate()) {
        return code;
    }
    match run(cli) {
        Ok(()) => Exit::Success.into(),
        Err(e) => {
            eprintln!("{tool}: {}", e.message);
            e.exit.into()
        }
    }
}

fn generate<C: CommandFactory>(tool: &str, flags: &Generate) -> Option<ExitCode> {
    let mut cmd = C::command();
    let mut out = io::stdout().lock();
    let result = if flags.generate_man {
        clap_mangen::Man::new(cmd).render(&mut out)
    } else if let Some(shell) = flags.generate_completion {
        clap_complete::generate(shell, &mut cmd, tool, &mut out);
        Ok(())
    } else {
        return None;
    };
    Some(match result.and_then(|()| out.flush()) {
        Ok(()) => Exit::Success.into(),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Exit::Success.into(),
        Err(e) => {
            eprintln!("{tool}: writing to stdout: {e}");
            Exit::Usage.into()
        }
    })
}

/// Writes `text` and a newline to stdout. A closed pipe (`tool | head`) is
/// not an error.
pub fn print_stdout(text: &[u8]) -> Result<(), Error> {
    let mut out = io::stdout().lock();
    let result = out
        .write_all(text)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    match result {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::new(Exit::Usage, format!("writing to stdout: {e}"))),
    }
}

/// How a tool prints its JSON: `--pretty`, `--compact`, or indented only
/// when stdout is a terminal.
#[derive(Debug, Clone, Args, Default)]
pub struct OutputArgs {
    /// Indent the output (the default when stdout is a terminal).
    #[arg(long, conflicts_with = "compact")]
    pub pretty: bool,
    /// Print on one line (the default when stdout is not a terminal).
    #[arg(long)]
    pub compact: bool,
}

impl OutputArgs {
    /// Whether to indent.
    pub fn indent(&self) -> bool {
        self.pretty || (!self.compact && stdout_is_terminal())
    }
}

/// Prints `value` as JSON on stdout, indented or not as `output` says.
pub fn print_json<T: serde::Serialize>(value: &T, output: &OutputArgs) -> Result<(), Error> {
    let text = if output.indent() {
        serde_json::to_vec_pretty(value)
    } else {
        serde_json::to_vec(value)
    }
    .map_err(|e| Error::usage(format!("cannot encode the output: {e}")))?;
    print_stdout(&text)
}

/// Parses a duration flag (`90s`, `10m`, `1h30m`).
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{e} (examples: 30s, 10m, 1h)"))
}

/// Whether stdout is a terminal (then output is indented by default).
pub fn stdout_is_terminal() -> bool {
    use std::io::IsTerminal;
    io::stdout().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_design_table() {
        assert_eq!(Exit::Success as u8, 0);
        assert_eq!(Exit::No as u8, 1);
        assert_eq!(Exit::Usage as u8, 2);
        assert_eq!(Exit::BadInput as u8, 3);
        assert_eq!(Exit::Refused as u8, 4);
        assert_eq!(Exit::Unreachable as u8, 5);
    }

    #[test]
    fn errors_keep_their_exit_code() {
        assert_eq!(Error::usage("x").exit, Exit::Usage);
        assert_eq!(Error::bad_input("x").exit, Exit::BadInput);
        assert_eq!(Error::bad_input("bad").to_string(), "bad");
    }
}
