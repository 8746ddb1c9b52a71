//! Host key checks with real keys made by `ssh-keygen`, including hashed
//! entries made by `ssh-keygen -H`.

use std::path::Path;
use std::process::Command;

use base64::Engine;
use vm_provision::known_hosts::{self, KnownHosts, Verdict};

/// A public key: (type, blob, the `.pub` line's base64).
struct Key {
    key_type: String,
    blob: Vec<u8>,
    base64: String,
}

fn keygen(dir: &Path, name: &str, key_type: &str) -> Key {
    let path = dir.join(name);
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", key_type, "-N", "", "-C", name, "-f"])
        .arg(&path)
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success());
    let public = std::fs::read_to_string(path.with_extension("pub")).expect("a .pub file");
    let mut fields = public.split_whitespace();
    let key_type = fields.next().expect("a type").to_string();
    let base64 = fields.next().expect("a key").to_string();
    let blob = base64::engine::general_purpose::STANDARD
        .decode(&base64)
        .expect("base64");
    Key {
        key_type,
        blob,
        base64,
    }
}

fn keygen_fingerprint(dir: &Path, name: &str) -> String {
    let out = Command::new("ssh-keygen")
        .args(["-l", "-E", "sha256", "-f"])
        .arg(dir.join(format!("{name}.pub")))
        .output()
        .expect("ssh-keygen -l runs");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    text.split_whitespace()
        .nth(1)
        .expect("a fingerprint")
        .to_string()
}

fn check(known: &KnownHosts, host: &str, port: u16, key: &Key) -> Verdict {
    known.check(host, port, &key.key_type, &key.blob)
}

#[test]
fn plain_entries_match_mismatch_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let a = keygen(dir.path(), "a", "ed25519");
    let b = keygen(dir.path(), "b", "ed25519");
    let ec = keygen(dir.path(), "ec", "ecdsa");
    let text = format!(
        "# servers\n\
         s1.example.com,10.0.0.1 {t} {a}\n\
         [10.0.0.2]:2222 {t} {a}\n\
         *.lab,!bad.lab {t} {b}\n",
        t = a.key_type,
        a = a.base64,
        b = b.base64,
    );
    let known = KnownHosts::parse(&text);
    assert!(known.skipped.is_empty(), "{:?}", known.skipped);
    assert_eq!(check(&known, "10.0.0.1", 22, &a), Verdict::Match);
    assert_eq!(check(&known, "S1.Example.COM", 22, &a), Verdict::Match);
    assert_eq!(check(&known, "10.0.0.1", 22, &b), Verdict::Mismatch);
    // Another key type for a known host: not known (OpenSSH asks).
    assert_eq!(check(&known, "10.0.0.1", 22, &ec), Verdict::Unknown);
    // The port is part of the name.
    assert_eq!(check(&known, "10.0.0.2", 2222, &a), Verdict::Match);
    assert_eq!(check(&known, "10.0.0.2", 22, &a), Verdict::Unknown);
    assert_eq!(check(&known, "10.0.0.1", 2222, &a), Verdict::Unknown);
    // Wildcards and negation.
    assert_eq!(check(&known, "x.lab", 22, &b), Verdict::Match);
    assert_eq!(check(&known, "bad.lab", 22, &b), Verdict::Unknown);
    assert_eq!(check(&known, "10.9.9.9", 22, &a), Verdict::Unknown);
}

#[test]
fn hashed_entries_made_by_ssh_keygen() {
    let dir = tempfile::tempdir().unwrap();
    let a = keygen(dir.path(), "a", "ed25519");
    let b = keygen(dir.path(), "b", "rsa");
    let file = dir.path().join("known_hosts");
    std::fs::write(
        &file,
        format!(
            "10.0.0.1 {} {}\n[10.0.0.2]:2222 {} {}\n",
            a.key_type, a.base64, b.key_type, b.base64
        ),
    )
    .unwrap();
    let status = Command::new("ssh-keygen")
        .args(["-q", "-H", "-f"])
        .arg(&file)
        .status()
        .unwrap();
    assert!(status.success());
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.lines().all(|l| l.starts_with("|1|")), "{text}");
    assert!(!text.contains("10.0.0."), "{text}");
    let known = KnownHosts::load(&file).unwrap();
    assert_eq!(known.entries.len(), 2);
    assert_eq!(check(&known, "10.0.0.1", 22, &a), Verdict::Match);
    assert_eq!(check(&known, "10.0.0.2", 2222, &b), Verdict::Match);
    assert_eq!(check(&known, "10.0.0.2", 22, &b), Verdict::Unknown);
    let other = keygen(dir.path(), "other", "ed25519");
    assert_eq!(check(&known, "10.0.0.1", 22, &other), Verdict::Mismatch);
}

#[test]
fn revoked_and_cert_authority_are_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let a = keygen(dir.path(), "a", "ed25519");
    let ca = keygen(dir.path(), "ca", "ed25519");
    let text = format!(
        "@cert-authority *.lab {t} {ca}\n\
         10.0.0.1 {t} {a}\n\
         @revoked * {t} {a}\n",
        t = a.key_type,
        a = a.base64,
        ca = ca.base64,
    );
    let known = KnownHosts::parse(&text);
    assert_eq!(known.entries.len(), 3);
    assert_eq!(check(&known, "10.0.0.1", 22, &a), Verdict::Revoked);
    // A CA key presented as a host key is not a known host key.
    assert_eq!(check(&known, "x.lab", 22, &ca), Verdict::Unknown);
}

#[test]
fn fingerprints_are_the_ones_ssh_keygen_prints() {
    let dir = tempfile::tempdir().unwrap();
    for (name, key_type) in [("e", "ed25519"), ("r", "rsa"), ("c", "ecdsa")] {
        let key = keygen(dir.path(), name, key_type);
        assert_eq!(
            known_hosts::fingerprint(&key.blob),
            keygen_fingerprint(dir.path(), name),
            "{key_type}"
        );
    }
}

#[test]
fn append_keeps_content_and_is_found_by_ssh_keygen() {
    let dir = tempfile::tempdir().unwrap();
    let a = keygen(dir.path(), "a", "ed25519");
    let b = keygen(dir.path(), "b", "ecdsa");
    let file = dir.path().join("ssh").join("known_hosts");
    // A new file in a new folder.
    known_hosts::append(&file, "10.0.0.1", 22, &a.key_type, &a.blob).unwrap();
    // No trailing newline in what was there: kept, and a line added.
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("# kept");
    std::fs::write(&file, &text).unwrap();
    known_hosts::append(&file, "10.0.0.2", 2222, &b.key_type, &b.blob).unwrap();
    let after = std::fs::read_to_string(&file).unwrap();
    assert!(after.starts_with(&format!("10.0.0.1 {} {}\n# kept\n", a.key_type, a.base64)));
    assert!(after.ends_with(&format!("[10.0.0.2]:2222 {} {}\n", b.key_type, b.base64)));
    let known = KnownHosts::load(&file).unwrap();
    assert_eq!(check(&known, "10.0.0.1", 22, &a), Verdict::Match);
    assert_eq!(check(&known, "10.0.0.2", 2222, &b), Verdict::Match);
    // OpenSSH reads it too.
    let found = Command::new("ssh-keygen")
        .args(["-F", "[10.0.0.2]:2222", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(found.status.success());
    // No temp file is left behind.
    let names: Vec<_> = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["known_hosts"]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // A missing file is an empty one.
    let none = KnownHosts::load(&dir.path().join("nope")).unwrap();
    assert_eq!(check(&none, "10.0.0.1", 22, &a), Verdict::Unknown);
}
