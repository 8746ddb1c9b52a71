//! The `agent-double` binary as a separate process, for tests in other
//! crates of the workspace (federation tests run agents as processes).

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long an agent may take to print its `ready` line.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// A running `agent-double` process, killed on drop.
#[derive(Debug)]
pub struct AgentProcess {
    child: Child,
    url: String,
}

impl AgentProcess {
    /// Starts `agent-double <args>` (e.g. `nomad agent -config FILE`) and
    /// waits for its `ready <url>` line.
    ///
    /// # Panics
    /// When the binary cannot be built or started, or does not get ready in
    /// time: this is test support, where that is a failed test.
    pub fn start<S: AsRef<OsStr>>(args: &[S]) -> AgentProcess {
        let mut command = Command::new(binary());
        command.args(args);
        Self::start_command(command)
    }

    /// Starts a prepared command running the binary (e.g. through a link named
    /// `consul`, or with `NOTIFY_SOCKET` set) and waits for its `ready <url>` line.
    /// Standard output is taken over; standard error is discarded.
    ///
    /// # Panics
    /// As [`AgentProcess::start`].
    pub fn start_command(mut command: Command) -> AgentProcess {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start agent-double");
        let stdout = child.stdout.take().expect("agent-double stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(READY_TIMEOUT)
            .expect("agent-double prints its ready line");
        let url = line
            .strip_prefix("ready ")
            .map(|u| u.trim().to_owned())
            .unwrap_or_else(|| panic!("unexpected first line from agent-double: {line}"));
        AgentProcess { child, url }
    }

    /// The agent's HTTP API address, as it printed it.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `agent-double` binary next to the running test's target folder,
/// built with cargo when it is not there yet.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable");
    let target = exe
        .parent()
        .and_then(Path::parent)
        .expect("the target folder")
        .to_path_buf();
    let bin = target.join("agent-double");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "api-double", "--bin", "agent-double"])
            .status()
            .expect("cargo builds agent-double");
        assert!(status.success(), "building agent-double failed");
    }
    bin
}
