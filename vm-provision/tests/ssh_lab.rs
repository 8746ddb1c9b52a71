//! `vm_provision::ssh` against real sshd hosts of the local lab
//! (`scripts/lab`). Needs root; skipped with a message otherwise.
//!
//! One test does everything, on a lab of its own (name `sshlab`, state
//! `/run/vm-provision-ssh-lab`, subnet 10.217.0), brought down at the end
//! even on failure.

mod common;

use std::fs;
use std::process::Command;
use std::time::{Duration, Instant};

use cli_common::Exit;
use common::Lab;
use vm_provision::inventory::{self, Inventory};
use vm_provision::ssh::{BastionTarget, HostKeyProblem, Session, SshError, SshTarget};

const STATE: &str = "/run/vm-provision-ssh-lab";
/// Its own subnet: runs beside the other lab tests.
const SUBNET: &str = "10.217.0";

fn target(inv: &Inventory, i: usize) -> SshTarget {
    let mut t = SshTarget::new(&inv.ssh, &inv.hosts[i]);
    t.connect_timeout = Duration::from_secs(10);
    t.op_timeout = Duration::from_secs(30);
    t
}

#[test]
fn ssh_against_the_lab() {
    if let Some(why) = common::skip_reason() {
        println!("ssh_lab: skipped: {why}");
        return;
    }
    // Deterministic authentication: only what each case sets up.
    std::env::remove_var("SSH_AUTH_SOCK");
    let lab = Lab::up("sshlab", STATE, SUBNET, &["--hosts", "2"]);
    let inv = inventory::parse(&lab.inventory, "lab inventory", &Default::default())
        .expect("lab inventory");
    assert_eq!(inv.hosts.len(), 2);
    let work = tempfile::tempdir().expect("temp dir");

    // Match: the lab's key and known_hosts.
    let t1 = target(&inv, 0);
    let (s1, outcome) = Session::connect(&t1).expect("connect to host 1");
    assert!(!outcome.newly_recorded);
    let fp1 = common::keygen_fingerprint(&lab.host_pub_key(&inv.hosts[0].name));
    assert_eq!(outcome.fingerprint, fp1);

    // run
    let out = s1.run("hostname", None).unwrap();
    assert!(out.success(), "{out:?}");
    assert_eq!(out.stdout_text().trim(), inv.hosts[0].name);
    let out = s1.run("echo out; echo err >&2; exit 7", None).unwrap();
    assert_eq!(
        (out.status, out.stdout_text(), out.stderr_text()),
        (7, "out\n".to_string(), "err".to_string())
    );

    // Full duplex: lots of stderr before stdout, and stdin echoed back
    // while it is still being sent (more than the channel window).
    let out = s1
        .run("head -c 3000000 /dev/zero >&2; echo done", None)
        .unwrap();
    assert_eq!(
        (out.stdout_text().as_str(), out.stderr.len()),
        ("done\n", 3_000_000)
    );
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
    let out = s1.run("cat", Some(&big)).unwrap();
    assert!(out.stdout == big, "cat echoed {} bytes", out.stdout.len());

    // sudo
    let out = s1.sudo("id -u; echo \"it's $HOME\"", None).unwrap();
    assert!(out.success(), "{out:?}");
    assert!(out.stdout_text().starts_with("0\nit's "), "{out:?}");

    // write_file / read_file / file_meta under /etc
    let path = "/etc/vm-provision-ssh-test.conf";
    assert_eq!(s1.read_file(path).unwrap(), None);
    assert!(!s1.file_meta(path).unwrap().exists);
    let content = b"name = \"it's\"\n$(not run)\n\0binary\xff\n".to_vec();
    s1.write_file(path, &content, 0o640).unwrap();
    assert_eq!(s1.read_file(path).unwrap().as_deref(), Some(&content[..]));
    let meta = s1.file_meta(path).unwrap();
    assert_eq!(meta.mode, Some(0o640));
    assert_eq!(meta.owner.as_deref(), Some("root"));
    assert_eq!(meta.size, Some(content.len() as u64));
    assert!(meta.is_same(&content, 0o640), "{meta:?}");
    assert!(!meta.is_same(&content, 0o644));
    assert!(!meta.is_same(b"other", 0o640));
    // a second write of the same bytes: detectable as unchanged
    s1.write_file(path, &content, 0o640).unwrap();
    let again = s1.file_meta(path).unwrap();
    assert_eq!(again, meta);
    let out = s1
        .run("ls -a /etc | grep -c '^.vm-provision' || true", None)
        .unwrap();
    assert_eq!(out.stdout_text().trim(), "0", "temp files left in /etc");
    // the user cannot read a 0600 root file, sudo can
    s1.write_file(path, b"secret\n", 0o600).unwrap();
    assert!(!s1.run(&format!("cat {path}"), None).unwrap().success());
    assert_eq!(
        s1.read_file(path).unwrap().as_deref(),
        Some(&b"secret\n"[..])
    );
    let err = s1
        .write_file("/nonexistent-dir/x", b"x", 0o644)
        .unwrap_err();
    assert!(matches!(err, SshError::Remote { .. }), "{err}");

    // op_timeout: a command making no progress
    {
        let mut t = target(&inv, 0);
        t.op_timeout = Duration::from_secs(1);
        let (s, _) = Session::connect(&t).unwrap();
        let started = Instant::now();
        let err = s.run("sleep 5", None).unwrap_err();
        assert!(matches!(&err, SshError::Timeout { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(4));
        assert_eq!(cli_common::Error::from(err).exit, Exit::Unreachable);
    }

    // A secret on stdin is not on any command line.
    let secret = "s3cr3t-Value-9f1c";
    let out = s1
        .sudo(
            "secret=$(cat); ps -eo args; printf %s \"$secret\" | sha256sum",
            Some(secret.as_bytes()),
        )
        .unwrap();
    assert!(out.success(), "{out:?}");
    let text = out.stdout_text();
    assert!(text.contains("ps -eo args"), "ps did not list us: {text}");
    assert!(
        !text.contains(secret),
        "the secret is visible in ps:\n{text}"
    );
    let sha = vm_provision_sha256(secret.as_bytes());
    assert!(text.contains(&sha), "the secret did not arrive on stdin");
    drop(s1);

    // Unknown host key: refused, then accepted and recorded.
    let kh = work.path().join("known_hosts");
    fs::write(&kh, "").unwrap();
    let mut t = target(&inv, 0);
    t.known_hosts = kh.clone();
    let err = Session::connect(&t).unwrap_err();
    assert!(
        matches!(
            &err,
            SshError::HostKey {
                problem: HostKeyProblem::Unknown { .. },
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(cli_common::Error::from(err).exit, Exit::Refused);
    assert_eq!(fs::read_to_string(&kh).unwrap(), "");
    t.accept_new_host_keys = true;
    let (s, outcome) = Session::connect(&t).expect("accept a new host key");
    assert!(outcome.newly_recorded);
    assert_eq!(outcome.fingerprint, fp1);
    drop(s);
    let recorded = fs::read_to_string(&kh).unwrap();
    assert!(
        recorded.starts_with(&format!("{} ssh-ed25519 ", inv.hosts[0].address)),
        "{recorded}"
    );
    t.accept_new_host_keys = false;
    let (_, outcome) = Session::connect(&t).expect("the recorded key matches");
    assert!(!outcome.newly_recorded);

    // Mismatch: known_hosts has host 2's key for host 1.
    let key2 = fs::read_to_string(lab.host_pub_key(&inv.hosts[1].name)).unwrap();
    let key2: Vec<&str> = key2.split_whitespace().take(2).collect();
    fs::write(
        &kh,
        format!("{} {} {}\n", inv.hosts[0].address, key2[0], key2[1]),
    )
    .unwrap();
    t.accept_new_host_keys = true; // never overrides a mismatch
    let err = Session::connect(&t).unwrap_err();
    let fp2 = common::keygen_fingerprint(&lab.host_pub_key(&inv.hosts[1].name));
    let message = err.to_string();
    assert!(
        matches!(
            &err,
            SshError::HostKey {
                problem: HostKeyProblem::Mismatch { .. },
                ..
            }
        ),
        "{message}"
    );
    assert!(
        message.starts_with(&format!(
            "host key mismatch for {}: known_hosts has {fp2}, the host offers {fp1}",
            inv.hosts[0].address
        )),
        "{message}"
    );
    assert_eq!(cli_common::Error::from(err).exit, Exit::Refused);

    // Authentication refused: a key the hosts do not know.
    let other_key = work.path().join("id_other");
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other_key)
        .status()
        .unwrap();
    assert!(st.success());
    let mut t = target(&inv, 0);
    t.identity_file = Some(other_key);
    let err = Session::connect(&t).unwrap_err();
    assert!(matches!(&err, SshError::Auth { .. }), "{err}");
    assert_eq!(cli_common::Error::from(err).exit, Exit::Refused);

    // A key with a passphrase, read from the named variable.
    let enc_key = work.path().join("id_enc");
    let passphrase = "correct horse battery";
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", passphrase, "-f"])
        .arg(&enc_key)
        .status()
        .unwrap();
    assert!(st.success());
    {
        let (s, _) = Session::connect(&target(&inv, 0)).unwrap();
        let public = fs::read(enc_key.with_extension("pub")).unwrap();
        let out = s
            .run("cat >> ~/.ssh/authorized_keys", Some(&public))
            .unwrap();
        assert!(out.success(), "{out:?}");
    }
    let mut t = target(&inv, 0);
    t.identity_file = Some(enc_key);
    t.passphrase_env = Some("VM_PROVISION_SSH_LAB_PASSPHRASE".to_string());
    std::env::remove_var("VM_PROVISION_SSH_LAB_PASSPHRASE");
    let err = Session::connect(&t).unwrap_err();
    assert!(
        matches!(&err, SshError::Local { .. })
            && err.to_string().contains("VM_PROVISION_SSH_LAB_PASSPHRASE"),
        "{err}"
    );
    assert_eq!(cli_common::Error::from(err).exit, Exit::Usage);
    std::env::set_var("VM_PROVISION_SSH_LAB_PASSPHRASE", "wrong one");
    let err = Session::connect(&t).unwrap_err();
    assert!(matches!(&err, SshError::Auth { .. }), "{err}");
    assert!(!err.to_string().contains("wrong one"), "{err}");
    std::env::set_var("VM_PROVISION_SSH_LAB_PASSPHRASE", passphrase);
    let (s, _) = Session::connect(&t).expect("the key with its passphrase");
    assert!(s.run("true", None).unwrap().success());
    drop(s);
    std::env::remove_var("VM_PROVISION_SSH_LAB_PASSPHRASE");

    // Unreachable: nothing at .99 on the lab bridge.
    let mut t = target(&inv, 0);
    t.address = format!("{SUBNET}.99");
    t.connect_timeout = Duration::from_secs(2);
    let started = Instant::now();
    let err = Session::connect(&t).unwrap_err();
    let took = started.elapsed();
    assert!(matches!(&err, SshError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains(&format!("{SUBNET}.99")), "{err}");
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(8),
        "{took:?}"
    );
    assert_eq!(cli_common::Error::from(err).exit, Exit::Unreachable);

    // Bastion: host 2 through host 1.
    let mut t2 = target(&inv, 1);
    t2.bastion = Some(BastionTarget {
        address: inv.hosts[0].address.clone(),
        port: 22,
        user: inv.ssh.user.clone(),
    });
    let (s2, outcome) = Session::connect(&t2).expect("host 2 through host 1");
    assert_eq!(outcome.fingerprint, fp2);
    assert_eq!(
        s2.bastion_host_key().map(|o| o.fingerprint.as_str()),
        Some(fp1.as_str())
    );
    let out = s2.run("hostname", None).unwrap();
    assert_eq!(out.stdout_text().trim(), inv.hosts[1].name);
    // more than a window's worth of data both ways through the forward
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let out = s2
        .run("sha256sum; head -c 2500000 /dev/zero", Some(&big))
        .unwrap();
    assert!(out.success(), "{:?}", out.stderr_text());
    assert_eq!(out.stdout.len(), 68 + 2_500_000);
    assert!(out.stdout_text().starts_with(&vm_provision_sha256(&big)));
    s2.write_file("/etc/via-bastion", b"ok\n", 0o644).unwrap();
    assert_eq!(
        s2.read_file("/etc/via-bastion").unwrap().as_deref(),
        Some(&b"ok\n"[..])
    );
    drop(s2);

    // The bastion's own host key is checked too.
    let mut t2b = t2.clone();
    let kh2 = work.path().join("known_hosts_2");
    fs::write(
        &kh2,
        fs::read_to_string(&inv.ssh.known_hosts)
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with(&format!("{} ", inv.hosts[0].address)))
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
    )
    .unwrap();
    t2b.known_hosts = kh2;
    let err = Session::connect(&t2b).unwrap_err();
    assert!(
        err.to_string().contains(&inv.hosts[0].address) && matches!(&err, SshError::HostKey { .. }),
        "{err}"
    );

    // ssh-agent, no identity file.
    let sock = work.path().join("agent.sock");
    let agent = Command::new("ssh-agent")
        .arg("-D")
        .arg("-a")
        .arg(&sock)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start ssh-agent");
    let _agent = KillOnDrop(agent);
    let t0 = Instant::now();
    while !sock.exists() && t0.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let st = Command::new("ssh-add")
        .arg("-q")
        .arg(inv.ssh.identity_file.as_ref().unwrap())
        .env("SSH_AUTH_SOCK", &sock)
        .status()
        .unwrap();
    assert!(st.success());
    let mut t = target(&inv, 0);
    t.identity_file = None;
    let err = Session::connect(&t).unwrap_err();
    assert!(
        matches!(&err, SshError::Auth { .. }),
        "no agent, no key: {err}"
    );
    std::env::set_var("SSH_AUTH_SOCK", &sock);
    let connected = Session::connect(&t);
    std::env::remove_var("SSH_AUTH_SOCK");
    let (s, _) = connected.expect("authenticated by ssh-agent");
    assert!(s.run("true", None).unwrap().success());
}

fn vm_provision_sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Kills (by its pid) and reaps a child process we started.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
