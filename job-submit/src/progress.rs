//! Progress on stderr: one line per state change, `==> <time>: <what>`, and
//! indented detail lines, as `nomad job run` prints them. Never a spinner,
//! so the log reads the same on a terminal and in a CI log.

use std::io::Write;
use std::time::SystemTime;

/// Writes progress lines to stderr.
#[derive(Debug, Default)]
pub struct Progress;

impl Progress {
    /// A progress writer.
    pub fn new() -> Progress {
        Progress
    }

    /// An event: `==> 2026-11-25T13:00:00Z: <message>`.
    pub fn line(&mut self, message: &str) {
        let now = humantime::format_rfc3339_seconds(SystemTime::now());
        // Progress is best effort: a closed stderr must not stop the job.
        let _ = writeln!(std::io::stderr(), "==> {now}: {message}");
    }

    /// A detail of the last event, indented.
    pub fn detail(&mut self, message: &str) {
        let _ = writeln!(std::io::stderr(), "    {message}");
    }
}
