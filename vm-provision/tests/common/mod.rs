//! The local lab (`scripts/lab`) for tests that need real sshd hosts:
//! root check, bring-up with a name, state folder and subnet of the test's
//! own (so several lab tests can run side by side), and tear-down on drop
//! (even when the test fails).

#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};
use std::process::Command;

/// `scripts/lab`.
pub fn lab_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/lab")
}

/// Whether the test runs as root (the lab needs it).
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Why a lab test cannot run here, if it cannot.
pub fn skip_reason() -> Option<String> {
    if !is_root() {
        return Some("needs root (scripts/lab makes namespaces and mounts)".into());
    }
    if !lab_script().exists() {
        return Some(format!("{} not found", lab_script().display()));
    }
    None
}

/// A lab that is brought down when dropped.
pub struct Lab {
    /// Its state folder.
    pub state: PathBuf,
    /// What `scripts/lab up` printed: the inventory JSON.
    pub inventory: String,
}

impl Lab {
    /// `scripts/lab up --name NAME --state STATE --subnet SUBNET <extra>`;
    /// panics (fails the test) when it fails.
    pub fn up(name: &str, state: &str, subnet: &str, extra: &[&str]) -> Lab {
        // A lab left over by an interrupted run of this same test.
        let _ = Command::new(lab_script())
            .args(["down", "--state", state])
            .output();
        // Created before `up` so that a failing `up` is cleaned up too.
        let mut lab = Lab {
            state: PathBuf::from(state),
            inventory: String::new(),
        };
        let out = Command::new(lab_script())
            .args(["up", "--name", name, "--state", state, "--subnet", subnet])
            .args(extra)
            .output()
            .expect("run scripts/lab up");
        assert!(
            out.status.success(),
            "scripts/lab up failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        lab.inventory = String::from_utf8(out.stdout).expect("inventory is UTF-8");
        lab
    }

    /// Runs `scripts/lab <args> --state STATE`, asserting success.
    pub fn command(&self, args: &[&str]) {
        let out = Command::new(lab_script())
            .args(args)
            .arg("--state")
            .arg(&self.state)
            .output()
            .expect("run scripts/lab");
        assert!(
            out.status.success(),
            "scripts/lab {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs `command` on `host` as the lab user (`scripts/lab ssh`),
    /// asserting success. Changes to a host go through it: writing into a
    /// mounted overlay's layers from outside is undefined.
    pub fn ssh(&self, host: &str, command: &str) {
        let out = Command::new(lab_script())
            .args(["ssh", host, command])
            .env("LAB_STATE", &self.state)
            .output()
            .expect("run scripts/lab ssh");
        assert!(
            out.status.success(),
            "scripts/lab ssh {host} {command:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A path inside a host's own layer (what the host wrote on top of
    /// the shared root).
    pub fn host_path(&self, host: &str, path: &str) -> PathBuf {
        self.state
            .join("hosts")
            .join(host)
            .join("upper")
            .join(path.trim_start_matches('/'))
    }

    /// The host's ed25519 public key file.
    pub fn host_pub_key(&self, host: &str) -> PathBuf {
        self.host_path(host, "/etc/ssh/ssh_host_ed25519_key.pub")
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let status = Command::new(lab_script())
            .arg("down")
            .arg("--state")
            .arg(&self.state)
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!(
                "'scripts/lab down --state {}' failed: {status:?}",
                self.state.display()
            );
        }
    }
}

/// `ssh-keygen -lf`'s fingerprint of a public key file.
pub fn keygen_fingerprint(path: &Path) -> String {
    let out = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(path)
        .output()
        .expect("ssh-keygen -lf");
    assert!(out.status.success(), "ssh-keygen -lf {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .nth(1)
        .expect("fingerprint field")
        .to_string()
}
