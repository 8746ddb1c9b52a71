//! Helpers shared by the integration tests that run the real `hcl2json`
//! binary, so each test file does not carry its own copy.

// Each test crate (`bad_input`, `generic`, `nomad_cli`) uses only part of
// this module; the rest would be reported as dead code in that crate.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;

/// The binary, with a timeout and no `NOMAD_VAR_*` inherited from whoever
/// runs the tests: the tests must not depend on their environment.
pub fn command() -> Command {
    let mut cmd = Command::cargo_bin("hcl2json").expect("the hcl2json binary is built");
    cmd.timeout(Duration::from_secs(60));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("NOMAD_VAR_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// Runs the command and returns its output; an exit code other than 0
/// fails the test, showing stderr.
pub fn succeeded(mut cmd: Command) -> Output {
    let out = cmd.output().expect("hcl2json runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "hcl2json failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs the command and returns stdout; any failure fails the test.
pub fn stdout_of(cmd: Command) -> String {
    String::from_utf8(succeeded(cmd).stdout).expect("UTF-8 output")
}

/// Writes `text` to `dir/name`, creating the folders on the way, and
/// returns the file's path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&path, text).expect("write");
    path
}
