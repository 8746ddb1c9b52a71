//! Host key verification as OpenSSH does it, without shelling out.
//!
//! A `known_hosts` file is read into [`KnownHosts`]: plain host patterns
//! (`host`, `[host]:port`, comma lists, `*`/`?` wildcards, `!negation`),
//! hashed entries (`|1|salt|hash`, HMAC-SHA1 of the host name), and the
//! `@revoked` and `@cert-authority` markers (recognised, never trusted as a
//! host key). [`KnownHosts::check`] says whether a host's key is known
//! ([`Verdict`]); [`append`] adds an entry for `--accept-new-host-keys`,
//! atomically (temp file + rename in the same folder).
//!
//! Lines that cannot be read are skipped, as OpenSSH skips them; their
//! numbers are kept in [`KnownHosts::skipped`].

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// What a `known_hosts` file says of a host's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The key is known for this host.
    Match,
    /// The host is known with another key of the same type: refuse (a
    /// man in the middle, or a reinstalled host).
    Mismatch,
    /// The key is marked `@revoked`: refuse.
    Revoked,
    /// No key of this type is known for this host.
    Unknown,
}

/// A line's marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// `@revoked`: the key must be refused.
    Revoked,
    /// `@cert-authority`: a CA key for host certificates; not a host key,
    /// so never trusted by [`KnownHosts::check`].
    CertAuthority,
}

/// The hosts part of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hosts {
    /// Comma-separated patterns; `(pattern, negated)`.
    Patterns(Vec<(String, bool)>),
    /// `|1|salt|hash`: HMAC-SHA1 of the host name keyed with the salt.
    Hashed {
        /// The salt (the HMAC key).
        salt: Vec<u8>,
        /// The HMAC.
        hash: Vec<u8>,
    },
}

/// One usable line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The line number (from 1).
    pub line: usize,
    /// `@revoked` or `@cert-authority`.
    pub marker: Option<Marker>,
    /// Which hosts it is for.
    pub hosts: Hosts,
    /// The key type (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`...).
    pub key_type: String,
    /// The key blob (decoded base64).
    pub key: Vec<u8>,
}

/// A parsed `known_hosts` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownHosts {
    /// The usable lines.
    pub entries: Vec<Entry>,
    /// The numbers of lines that could not be read.
    pub skipped: Vec<usize>,
}

/// The name a host is recorded under: `host`, or `[host]:port` when the
/// port is not 22. Lowercase, as OpenSSH does.
pub fn host_key_name(host: &str, port: u16) -> String {
    let host = host.to_ascii_lowercase();
    if port == 22 {
        host
    } else {
        format!("[{host}]:{port}")
    }
}

/// OpenSSH's fingerprint of a key blob: `SHA256:` and the unpadded base64
/// of its SHA-256.
pub fn fingerprint(key: &[u8]) -> String {
    format!("SHA256:{}", STANDARD_NO_PAD.encode(Sha256::digest(key)))
}

/// `~/…` with `$HOME` put in; other paths as they are.
pub fn expand_home(path: &Path) -> PathBuf {
    match (path.strip_prefix("~"), std::env::var_os("HOME")) {
        (Ok(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => path.to_path_buf(),
    }
}

impl KnownHosts {
    /// Parses the text of a `known_hosts` file.
    pub fn parse(text: &str) -> KnownHosts {
        let mut known = KnownHosts::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match parse_line(i + 1, line) {
                Some(entry) => known.entries.push(entry),
                None => known.skipped.push(i + 1),
            }
        }
        known
    }

    /// Reads a file; a missing file is an empty one.
    pub fn load(path: &Path) -> io::Result<KnownHosts> {
        match fs::read_to_string(path) {
            Ok(text) => Ok(KnownHosts::parse(&text)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(KnownHosts::default()),
            Err(e) => Err(e),
        }
    }

    /// Whether `key` (of type `key_type`) is the known key of `host` on
    /// `port`.
    pub fn check(&self, host: &str, port: u16, key_type: &str, key: &[u8]) -> Verdict {
        let name = host_key_name(host, port);
        let for_host: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| e.marker != Some(Marker::CertAuthority) && e.hosts.matches(&name))
            .collect();
        if for_host
            .iter()
            .any(|e| e.marker == Some(Marker::Revoked) && e.key == key)
        {
            return Verdict::Revoked;
        }
        let same_type = for_host
            .iter()
            .filter(|e| e.marker.is_none() && e.key_type == key_type);
        let mut any = false;
        for entry in same_type {
            if entry.key == key {
                return Verdict::Match;
            }
            any = true;
        }
        if any {
            Verdict::Mismatch
        } else {
            Verdict::Unknown
        }
    }
}

impl Hosts {
    /// Whether `name` (`host` or `[host]:port`) is one of these hosts: a
    /// positive pattern matches and no negated one does.
    pub fn matches(&self, name: &str) -> bool {
        match self {
            Hosts::Hashed { salt, hash } => {
                hmac_sha1(salt, name.as_bytes()).is_some_and(|h| h.as_slice() == hash.as_slice())
            }
            Hosts::Patterns(patterns) => {
                let mut positive = false;
                for (pattern, negated) in patterns {
                    if wildcard_match(pattern, name) {
                        if *negated {
                            return false;
                        }
                        positive = true;
                    }
                }
                positive
            }
        }
    }
}

fn hmac_sha1(key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key).ok()?;
    mac.update(data);
    Some(mac.finalize().into_bytes().to_vec())
}

/// OpenSSH's `match_pattern`: `*` any run, `?` one character, the rest
/// compared without case.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == '?' || *c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn parse_line(line_no: usize, line: &str) -> Option<Entry> {
    let mut fields = line.split_whitespace();
    let mut first = fields.next()?;
    let marker = match first {
        "@revoked" => Some(Marker::Revoked),
        "@cert-authority" => Some(Marker::CertAuthority),
        m if m.starts_with('@') => return None,
        _ => None,
    };
    if marker.is_some() {
        first = fields.next()?;
    }
    let hosts = parse_hosts(first)?;
    let key_type = fields.next()?.to_string();
    let key = STANDARD.decode(fields.next()?).ok()?;
    (blob_type(&key)? == key_type).then_some(Entry {
        line: line_no,
        marker,
        hosts,
        key_type,
        key,
    })
}

fn parse_hosts(field: &str) -> Option<Hosts> {
    if let Some(rest) = field.strip_prefix("|1|") {
        let (salt, hash) = rest.split_once('|')?;
        return Some(Hosts::Hashed {
            salt: STANDARD.decode(salt).ok()?,
            hash: STANDARD.decode(hash).ok()?,
        });
    }
    let patterns: Vec<(String, bool)> = field
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| match p.strip_prefix('!') {
            Some(rest) => (rest.to_string(), true),
            None => (p.to_string(), false),
        })
        .collect();
    (!patterns.is_empty()).then_some(Hosts::Patterns(patterns))
}

/// The key type written at the start of an SSH key blob.
pub fn blob_type(blob: &[u8]) -> Option<&str> {
    let len_bytes: [u8; 4] = blob.get(..4)?.try_into().ok()?;
    let len = usize::try_from(u32::from_be_bytes(len_bytes)).ok()?;
    let name = blob.get(4..4usize.checked_add(len)?)?;
    std::str::from_utf8(name).ok()
}

/// The `known_hosts` line for a host's key: `[host]:port type base64`.
pub fn entry_line(host: &str, port: u16, key_type: &str, key: &[u8]) -> String {
    format!(
        "{} {key_type} {}",
        host_key_name(host, port),
        STANDARD.encode(key)
    )
}

/// Appends the entry for a host's key to the file at `path`, keeping what
/// it holds: the new content goes to a temp file in the same folder, which
/// then replaces the file (same permissions; `0600` for a new file). The
/// folder is created (`0700`) when missing. Calls from several threads
/// are serialized.
pub fn append(path: &Path, host: &str, port: u16, key_type: &str, key: &[u8]) -> io::Result<()> {
    // Read-modify-replace: two threads appending at once would each keep
    // only their own line. One lock for the process serializes them.
    static APPENDING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = APPENDING.lock().unwrap_or_else(|e| e.into_inner());
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    create_private_dir(&dir)?;
    let (mut content, permissions) = match fs::read(path) {
        Ok(bytes) => (bytes, Some(fs::metadata(path)?.permissions())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => (Vec::new(), None),
        Err(e) => return Err(e),
    };
    if !content.is_empty() && !content.ends_with(b"\n") {
        content.push(b'\n');
    }
    content.extend_from_slice(entry_line(host, port, key_type, key).as_bytes());
    content.push(b'\n');
    let mut temp = tempfile::Builder::new()
        .prefix(".known_hosts.")
        .tempfile_in(&dir)?;
    temp.write_all(&content)?;
    temp.as_file().sync_all()?;
    match permissions {
        Some(p) => fs::set_permissions(temp.path(), p)?,
        None => set_mode(temp.path(), 0o600)?,
    }
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir)?;
    set_mode(dir, 0o700)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*.example.com", "a.EXAMPLE.com"));
        assert!(wildcard_match("10.0.0.?", "10.0.0.7"));
        assert!(!wildcard_match("10.0.0.?", "10.0.0.17"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("a*b*c", "axxbyyc"));
        assert!(!wildcard_match("a*b*c", "axxbyy"));
        assert!(wildcard_match("[h]:2222", "[h]:2222"));
    }

    #[test]
    fn names_and_blobs() {
        assert_eq!(host_key_name("Host", 22), "host");
        assert_eq!(host_key_name("10.0.0.1", 2222), "[10.0.0.1]:2222");
        assert_eq!(blob_type(b"\0\0\0\x03abcrest"), Some("abc"));
        assert_eq!(blob_type(b"\0\0\0\x09abc"), None);
        assert_eq!(blob_type(b"\0\0"), None);
        // "abc": the well-known SHA-256 test vector, unpadded base64.
        assert_eq!(
            fingerprint(b"abc"),
            "SHA256:ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0"
        );
    }

    #[test]
    fn unreadable_lines_are_skipped() {
        let known = KnownHosts::parse(
            "# comment\n\nhost\n@bogus h ssh-ed25519 AAAA\nh ssh-ed25519 !!!\n|1|x h\n",
        );
        assert!(known.entries.is_empty());
        assert_eq!(known.skipped, [3, 4, 5, 6]);
    }

    #[test]
    fn expand_home_only_touches_tilde() {
        assert_eq!(
            expand_home(Path::new("/etc/ssh/kh")),
            PathBuf::from("/etc/ssh/kh")
        );
        if let Some(home) = std::env::var_os("HOME") {
            assert_eq!(
                expand_home(Path::new("~/.ssh/known_hosts")),
                PathBuf::from(home).join(".ssh/known_hosts")
            );
        }
    }
}
