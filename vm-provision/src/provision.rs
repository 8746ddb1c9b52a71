//! Provisioning one host: every step first reads the host's state, then
//! changes only what differs from the inventory, so a re-run on a host
//! that is already right changes nothing (no file rewritten, no agent
//! restarted).
//!
//! The state is read in one round trip (one probe script); then, in order:
//! packages (prerequisites, Docker on clients), the `consul` user, the
//! folders, the Consul and Nomad binaries (uploaded, or downloaded on the
//! host and checked against HashiCorp's `SHA256SUMS`), the rendered files
//! and TLS material, the services (enabled, started, restarted only when
//! their binary, config or unit changed) and, in the same command, a
//! check from the host itself that each agent answers on its HTTP API for
//! the right region and datacenter.
//!
//! With [`Settings::dry_run`] the same plan is computed and reported
//! (file changes as short diffs, secrets redacted) and nothing is changed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use cli_common::Error;
use sha2::{Digest, Sha256};

use crate::inventory::{Host, Inventory, Role, TlsFiles};
use crate::render::{self, RenderedFile};
use crate::ssh::{shell_quote, Session, SshError};

/// Where HashiCorp publishes release archives and their checksums (the
/// default of [`Settings::releases_url`]).
pub const RELEASES_URL: &str = "https://releases.hashicorp.com";

/// A local binary to upload as `consul` or `nomad`, read once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalBinary {
    /// Where it was read from (for messages).
    pub path: PathBuf,
    /// Its bytes.
    pub content: Arc<Vec<u8>>,
    /// Its lowercase hex SHA-256.
    pub sha256: String,
}

impl LocalBinary {
    /// Reads an executable regular file. Any executable goes (no
    /// architecture check): the operator chose it. Errors are usage
    /// errors (exit 2).
    pub fn load(path: &Path) -> Result<LocalBinary, Error> {
        let shown = path.display();
        let meta =
            fs::metadata(path).map_err(|e| Error::usage(format!("cannot read {shown}: {e}")))?;
        if !meta.is_file() {
            return Err(Error::usage(format!("{shown} is not a regular file")));
        }
        if meta.permissions().mode() & 0o111 == 0 {
            return Err(Error::usage(format!("{shown} is not executable")));
        }
        let content =
            fs::read(path).map_err(|e| Error::usage(format!("cannot read {shown}: {e}")))?;
        Ok(LocalBinary {
            path: path.to_path_buf(),
            sha256: sha256_hex(&content),
            content: Arc::new(content),
        })
    }
}

/// The lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// TLS files read from the operator's machine, as they go on a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsMaterial {
    /// The CA certificate (PEM).
    pub ca: Vec<u8>,
    /// The agent's certificate (PEM).
    pub cert: Vec<u8>,
    /// The agent's private key (PEM): a secret.
    pub key: Vec<u8>,
}

impl TlsMaterial {
    /// Reads the three files; errors name the inventory path (exit 3).
    pub fn load(files: &TlsFiles, json_path: &str) -> Result<TlsMaterial, Error> {
        let read = |field: &str, path: &Path| {
            fs::read(path).map_err(|e| {
                Error::bad_input(format!(
                    "{json_path}.{field}: cannot read {}: {e}",
                    path.display()
                ))
            })
        };
        Ok(TlsMaterial {
            ca: read("ca_file", &files.ca_file)?,
            cert: read("cert_file", &files.cert_file)?,
            key: read("key_file", &files.key_file)?,
        })
    }
}

/// How to provision, the same for every host.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Compute and report, change nothing.
    pub dry_run: bool,
    /// Install Docker on clients when it is missing.
    pub docker: bool,
    /// Upload this as `consul` instead of downloading the pinned version.
    pub consul_binary: Option<LocalBinary>,
    /// Upload this as `nomad` instead of downloading the pinned version.
    pub nomad_binary: Option<LocalBinary>,
    /// The gossip key (content of `consul.encrypt_key_file`).
    pub gossip_key: Option<String>,
    /// Consul's TLS files.
    pub consul_tls: Option<TlsMaterial>,
    /// Nomad's TLS files.
    pub nomad_tls: Option<TlsMaterial>,
    /// How long each agent may take to answer on its HTTP API.
    pub api_timeout: Duration,
    /// HashiCorp's release site or a mirror with its layout
    /// (`<url>/<product>/<version>/<product>_<version>_SHA256SUMS`).
    pub releases_url: String,
}

/// Why provisioning a host stopped.
#[derive(Debug)]
pub enum StepError {
    /// The SSH transport, or a remote command, failed.
    Ssh(SshError),
    /// A step found something it cannot handle.
    Step(String),
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepError::Ssh(e) => e.fmt(f),
            StepError::Step(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for StepError {}

impl From<SshError> for StepError {
    fn from(e: SshError) -> StepError {
        StepError::Ssh(e)
    }
}

/// The two agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Product {
    /// HashiCorp Consul.
    Consul,
    /// HashiCorp Nomad.
    Nomad,
}

impl Product {
    /// Both, in start order (Nomad uses the local Consul agent).
    pub const ALL: [Product; 2] = [Product::Consul, Product::Nomad];

    /// `consul` or `nomad`: the binary, the service and the release name.
    pub fn name(self) -> &'static str {
        match self {
            Product::Consul => "consul",
            Product::Nomad => "nomad",
        }
    }

    /// What `<binary> version` prints first, up to the version.
    fn version_prefix(self) -> &'static str {
        match self {
            Product::Consul => "Consul v",
            Product::Nomad => "Nomad v",
        }
    }

    /// The HTTP API port (plain HTTP for Consul, on 127.0.0.1 at least).
    pub fn http_port(self) -> u16 {
        match self {
            Product::Consul => crate::facts::CONSUL_HTTP_PORT,
            Product::Nomad => crate::facts::NOMAD_HTTP_PORT,
        }
    }

    /// Where the binary goes.
    pub fn binary_path(self) -> String {
        format!("{}/{}", render::BIN_DIR, self.name())
    }

    fn config_dir(self) -> &'static str {
        match self {
            Product::Consul => "/etc/consul.d",
            Product::Nomad => "/etc/nomad.d",
        }
    }

    fn tls_dir(self) -> &'static str {
        match self {
            Product::Consul => render::CONSUL_TLS_DIR,
            Product::Nomad => render::NOMAD_TLS_DIR,
        }
    }

    /// The group that owns its config files: Consul runs as `consul`,
    /// Nomad as root.
    fn group(self) -> &'static str {
        match self {
            Product::Consul => CONSUL_USER,
            Product::Nomad => "root",
        }
    }

    /// Which agent a managed path belongs to.
    fn owning(path: &str) -> Option<Product> {
        Product::ALL.into_iter().find(|p| {
            path.starts_with(p.config_dir())
                || path == p.binary_path()
                || path == format!("/etc/systemd/system/{}.service", p.name())
        })
    }
}

/// The system user Consul runs as.
pub const CONSUL_USER: &str = "consul";

/// A file as it must be on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Wanted {
    path: String,
    content: Arc<Vec<u8>>,
    /// The content's SHA-256, computed once (binaries are large).
    sha256: String,
    mode: u32,
    owner: &'static str,
    group: &'static str,
    /// Shown as a diff in a dry run (text, not secret as a whole).
    diffable: bool,
    /// Told in messages as what it is rather than its path.
    label: Option<String>,
}

/// A folder as it must be on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WantedDir {
    path: &'static str,
    mode: u32,
    owner: &'static str,
    group: &'static str,
}

/// A remote file's state, as the probe saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileState {
    mode: u32,
    owner: String,
    group: String,
    sha256: String,
}

/// A remote folder's state.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DirState {
    mode: u32,
    owner: String,
    group: String,
}

/// The OS families with a package manager this tool drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// Debian, Ubuntu: apt.
    Debian,
    /// RHEL, Rocky, CentOS, Alma, Fedora: dnf (or yum).
    Rhel,
}

/// Everything the plan needs to know about a host, read in one command.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Probe {
    os_id: String,
    os_like: String,
    machine: String,
    files: BTreeMap<String, Option<FileState>>,
    dirs: BTreeMap<String, Option<DirState>>,
    users: BTreeSet<String>,
    commands: BTreeSet<String>,
    active: BTreeMap<String, String>,
    enabled: BTreeMap<String, String>,
    versions: BTreeMap<String, String>,
}

impl Probe {
    fn family(&self) -> Result<Family, StepError> {
        let words = format!("{} {}", self.os_id, self.os_like);
        let has = |names: &[&str]| words.split_whitespace().any(|w| names.contains(&w));
        if has(&["debian", "ubuntu"]) {
            Ok(Family::Debian)
        } else if has(&["rhel", "centos", "rocky", "almalinux", "fedora"]) {
            Ok(Family::Rhel)
        } else {
            Err(StepError::Step(format!(
                "unsupported OS '{}' (supported: Debian, Ubuntu, RHEL, Rocky, CentOS)",
                self.os_id
            )))
        }
    }

    /// The architecture as HashiCorp names it in release archives.
    fn release_arch(&self) -> Result<&'static str, StepError> {
        match self.machine.as_str() {
            "x86_64" | "amd64" => Ok("amd64"),
            "aarch64" | "arm64" => Ok("arm64"),
            other => Err(StepError::Step(format!(
                "unsupported architecture '{other}' (supported: x86_64, aarch64)"
            ))),
        }
    }

    fn has_command(&self, name: &str) -> bool {
        self.commands.contains(name)
    }

    fn file_is(&self, wanted: &Wanted) -> bool {
        matches!(self.files.get(&wanted.path), Some(Some(s))
            if s.mode == wanted.mode
                && s.owner == wanted.owner
                && s.group == wanted.group
                && s.sha256 == wanted.sha256)
    }
}

/// The commands whose presence the probe reports.
const PROBED_COMMANDS: [&str; 4] = ["curl", "unzip", "docker", "systemctl"];
/// The services whose state the probe reports: whether they run (an
/// agent listening on its HTTP port runs; for the others, one `systemctl
/// is-active` call, which can cost a noticeable moment, for those with a
/// unit file: ours, or a package's; without one a service cannot run),
/// and
/// whether they are enabled, from the link `systemctl enable` makes for
/// the units' `WantedBy=multi-user.target` (no call at all).
const PROBED_SERVICES: [&str; 2] = ["consul", "nomad"];

/// The one command that reads a host's state: one line per fact.
/// `version` is run only for binaries to download (their installed
/// version decides).
fn probe_script(files: &[String], dirs: &[&str], versions: &[Product]) -> String {
    let quoted = |items: Vec<String>| {
        items
            .iter()
            .map(|p| shell_quote(p))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let files = quoted(files.to_vec());
    let dirs = quoted(dirs.iter().map(|d| d.to_string()).collect());
    let versions = quoted(versions.iter().map(|p| p.binary_path()).collect());
    format!(
        r#"ID=unknown; ID_LIKE=; [ -r /etc/os-release ] && . /etc/os-release
echo "os ${{ID:-unknown}} ${{ID_LIKE:-}}"
echo "machine $(uname -m)"
for p in {files}; do
  if [ -f "$p" ]; then echo "file $p $(stat -L -c '%a %U %G' -- "$p") $(sha256sum <"$p" | cut -d' ' -f1)"; else echo "file $p -"; fi
done
for d in {dirs}; do
  if [ -d "$d" ]; then echo "dir $d $(stat -c '%a %U %G' -- "$d")"; else echo "dir $d -"; fi
done
if id -u {user} >/dev/null 2>&1; then echo "user {user}"; fi
for c in {commands}; do command -v "$c" >/dev/null 2>&1 && echo "command $c"; done
units=
for sp in {listen}; do
  s=${{sp%:*}}
  if grep -qsE ":${{sp#*:}} [0-9A-F]+:[0-9A-F]+ 0A " /proc/net/tcp /proc/net/tcp6; then
    echo "active $s active"; continue
  fi
  for d in /etc/systemd/system /usr/lib/systemd/system /lib/systemd/system; do
    [ -f "$d/$s.service" ] && units="$units $s" && break
  done
done
if [ -n "$units" ] && command -v systemctl >/dev/null 2>&1; then
  out=$(systemctl is-active $units 2>/dev/null); set -- $units
  for state in $out; do [ $# -gt 0 ] && echo "active $1 $state" && shift; done
fi
for s in {services}; do
  [ -L "/etc/systemd/system/multi-user.target.wants/$s.service" ] && echo "enabled $s enabled"
done
for b in {versions}; do
  [ -x "$b" ] && echo "version $b $("$b" version 2>/dev/null | head -n 1)"
done
exit 0
"#,
        user = CONSUL_USER,
        commands = PROBED_COMMANDS.join(" "),
        services = PROBED_SERVICES.join(" "),
        listen = Product::ALL
            .map(|p| format!("{}:{:04X}", p.name(), p.http_port()))
            .join(" "),
    )
}

fn parse_mode(text: &str) -> Option<u32> {
    u32::from_str_radix(text, 8).ok()
}

/// Reads the probe's output. Unknown lines are ignored; a malformed known
/// line is an error.
fn parse_probe(text: &str) -> Result<Probe, String> {
    let mut probe = Probe::default();
    for line in text.lines() {
        let mut words = line.splitn(3, ' ');
        let kind = words.next().unwrap_or_default();
        let first = words.next().unwrap_or_default().to_string();
        let rest = words.next().unwrap_or_default().trim().to_string();
        let bad = || format!("unexpected probe line {line:?}");
        match kind {
            "os" => {
                probe.os_id = first;
                probe.os_like = rest;
            }
            "machine" => probe.machine = first,
            "file" => {
                let state = if rest == "-" {
                    None
                } else {
                    let f: Vec<&str> = rest.split_whitespace().collect();
                    let [mode, owner, group, sha] = f[..] else {
                        return Err(bad());
                    };
                    Some(FileState {
                        mode: parse_mode(mode).ok_or_else(bad)?,
                        owner: owner.to_string(),
                        group: group.to_string(),
                        sha256: sha.to_string(),
                    })
                };
                probe.files.insert(first, state);
            }
            "dir" => {
                let state = if rest == "-" {
                    None
                } else {
                    let f: Vec<&str> = rest.split_whitespace().collect();
                    let [mode, owner, group] = f[..] else {
                        return Err(bad());
                    };
                    Some(DirState {
                        mode: parse_mode(mode).ok_or_else(bad)?,
                        owner: owner.to_string(),
                        group: group.to_string(),
                    })
                };
                probe.dirs.insert(first, state);
            }
            "user" => {
                probe.users.insert(first);
            }
            "command" => {
                probe.commands.insert(first);
            }
            "active" => {
                probe.active.insert(first, rest);
            }
            "enabled" => {
                probe.enabled.insert(first, rest);
            }
            "version" => {
                probe.versions.insert(first, rest);
            }
            _ => {}
        }
    }
    Ok(probe)
}

/// The points of a host's provisioning where hosts are ordered (servers
/// before clients); everything else runs in parallel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// Before binaries and files are sent.
    BeforeUploads,
    /// Binaries and files are in place.
    AfterUploads,
    /// Units are in place and loaded; no agent enabled, started or
    /// restarted yet.
    BeforeStart,
    /// The agents answer on their HTTP APIs (in a dry run: nothing to
    /// wait for).
    Answering,
}

/// Where a host's provisioning reports what it does.
pub trait Reporter: Sync {
    /// One line about `host`.
    fn line(&self, host: &str, message: &str);
    /// A multi-line block (a diff) about `host`, kept together.
    fn block(&self, host: &str, text: &str);
}

/// One host's run: the plan's context and what it changed.
struct HostRun<'a> {
    session: &'a Session,
    inv: &'a Inventory,
    host: &'a Host,
    settings: &'a Settings,
    reporter: &'a dyn Reporter,
    probe: Probe,
    changes: &'a mut Vec<String>,
    /// Agents to restart (their binary, config or unit changed).
    restart: BTreeSet<Product>,
    daemon_reload: bool,
}

/// Provisions `host` over `session`, appending to `changes` what it
/// changed (or, in a dry run, what would change), one short line each; on
/// failure, `changes` still lists what was done before it.
/// `at` is called at each [`Point`] reached (not after a failure): the
/// caller orders hosts there.
pub fn provision_host(
    session: &Session,
    inv: &Inventory,
    host: &Host,
    settings: &Settings,
    reporter: &dyn Reporter,
    changes: &mut Vec<String>,
    at: &dyn Fn(Point),
) -> Result<(), StepError> {
    let dirs = wanted_dirs(settings);
    let files = wanted_files(inv, host, settings);
    let mut paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
    paths.extend(Product::ALL.map(Product::binary_path));
    let downloads: Vec<Product> = Product::ALL
        .into_iter()
        .filter(|p| local_binary(settings, *p).is_none())
        .collect();
    let dir_paths: Vec<&str> = dirs.iter().map(|d| d.path).collect();
    let out = session.sudo_checked(
        "reading the host's state",
        &probe_script(&paths, &dir_paths, &downloads),
        None,
    )?;
    let probe = parse_probe(&out.stdout_text()).map_err(StepError::Step)?;
    let mut run = HostRun {
        session,
        inv,
        host,
        settings,
        reporter,
        probe,
        changes,
        restart: BTreeSet::new(),
        daemon_reload: false,
    };
    run.packages(&downloads)?;
    run.user()?;
    run.dirs(&dirs)?;
    at(Point::BeforeUploads);
    run.binaries()?;
    run.files(&files)?;
    at(Point::AfterUploads);
    run.reload_units()?;
    at(Point::BeforeStart);
    run.start_and_check(&|| at(Point::Answering))
}

fn local_binary(settings: &Settings, product: Product) -> Option<&LocalBinary> {
    match product {
        Product::Consul => settings.consul_binary.as_ref(),
        Product::Nomad => settings.nomad_binary.as_ref(),
    }
}

fn tls_material(settings: &Settings, product: Product) -> Option<&TlsMaterial> {
    match product {
        Product::Consul => settings.consul_tls.as_ref(),
        Product::Nomad => settings.nomad_tls.as_ref(),
    }
}

/// The folders every host gets.
fn wanted_dirs(settings: &Settings) -> Vec<WantedDir> {
    let mut dirs = vec![
        WantedDir {
            path: "/etc/consul.d",
            mode: 0o755,
            owner: "root",
            group: "root",
        },
        WantedDir {
            path: render::CONSUL_DATA_DIR,
            mode: 0o750,
            owner: CONSUL_USER,
            group: CONSUL_USER,
        },
        WantedDir {
            path: "/etc/nomad.d",
            mode: 0o755,
            owner: "root",
            group: "root",
        },
        WantedDir {
            path: render::NOMAD_DATA_DIR,
            mode: 0o700,
            owner: "root",
            group: "root",
        },
    ];
    for product in Product::ALL {
        if tls_material(settings, product).is_some() {
            dirs.push(WantedDir {
                path: product.tls_dir(),
                mode: 0o750,
                owner: "root",
                group: product.group(),
            });
        }
    }
    dirs
}

/// The files a host gets: the rendered configs and units, and the TLS
/// material when given.
fn wanted_files(inv: &Inventory, host: &Host, settings: &Settings) -> Vec<Wanted> {
    let mut files: Vec<Wanted> = render::host_files(inv, host, settings.gossip_key.as_deref())
        .into_iter()
        .map(
            |RenderedFile {
                 path,
                 mode,
                 content,
             }| Wanted {
                path: path.to_string(),
                mode,
                owner: "root",
                group: Product::owning(path).map_or("root", Product::group),
                sha256: sha256_hex(content.as_bytes()),
                content: Arc::new(content.into_bytes()),
                diffable: true,
                label: None,
            },
        )
        .collect();
    for product in Product::ALL {
        let Some(tls) = tls_material(settings, product) else {
            continue;
        };
        let dir = product.tls_dir();
        for (name, content, mode) in [
            ("ca.pem", &tls.ca, 0o644),
            ("agent.pem", &tls.cert, 0o644),
            ("agent-key.pem", &tls.key, 0o640),
        ] {
            files.push(Wanted {
                path: format!("{dir}/{name}"),
                sha256: sha256_hex(content),
                content: Arc::new(content.clone()),
                mode,
                owner: "root",
                group: product.group(),
                diffable: false,
                label: None,
            });
        }
    }
    files
}

impl HostRun<'_> {
    fn say(&self, message: &str) {
        self.reporter.line(&self.host.name, message);
    }

    /// Records a change and reports it (`would ...` in a dry run).
    fn change(&mut self, what: String) {
        if self.settings.dry_run {
            self.say(&format!("would {what}"));
        } else {
            self.say(&what);
        }
        self.changes.push(what);
    }

    /// Runs a root command that must succeed (not in a dry run).
    fn root(&self, what: &str, command: &str, stdin: Option<&[u8]>) -> Result<(), StepError> {
        if !self.settings.dry_run {
            self.session.sudo_checked(what, command, stdin)?;
        }
        Ok(())
    }

    /// Prerequisites (curl and unzip to download, curl to check an HTTPS
    /// API) and Docker on clients, each only when missing.
    fn packages(&mut self, downloads: &[Product]) -> Result<(), StepError> {
        let mut wanted: Vec<&str> = Vec::new();
        if !downloads.is_empty() {
            wanted.extend(["curl", "unzip"]);
        }
        if self.settings.nomad_tls.is_some() {
            wanted.push("curl");
        }
        wanted.sort_unstable();
        wanted.dedup();
        let missing: Vec<&str> = wanted
            .into_iter()
            .filter(|c| !self.probe.has_command(c))
            .collect();
        if !missing.is_empty() {
            let family = self.probe.family()?;
            let mut packages = missing.clone();
            packages.push("ca-certificates");
            self.change(format!("install packages {}", missing.join(" ")));
            self.root(
                "installing packages",
                &install_command(family, &packages),
                None,
            )?;
        }
        if self.host.role == Role::Client
            && self.settings.docker
            && !self.probe.has_command("docker")
        {
            let family = self.probe.family()?;
            self.change("install docker".to_string());
            self.root("installing Docker", &docker_command(family), None)?;
        }
        Ok(())
    }

    /// The `consul` system user.
    fn user(&mut self) -> Result<(), StepError> {
        if self.probe.users.contains(CONSUL_USER) {
            return Ok(());
        }
        self.change(format!("create user {CONSUL_USER}"));
        let nologin = "$(command -v nologin || echo /bin/false)";
        self.root(
            "creating the consul user",
            &format!(
                "useradd --system --user-group --home-dir /etc/consul.d --no-create-home --shell \"{nologin}\" {CONSUL_USER}"
            ),
            None,
        )
    }

    /// Creates or fixes the folders, all in one command.
    fn dirs(&mut self, dirs: &[WantedDir]) -> Result<(), StepError> {
        let mut commands = Vec::new();
        for dir in dirs {
            let right = matches!(self.probe.dirs.get(dir.path), Some(Some(s))
                if s.mode == dir.mode && s.owner == dir.owner && s.group == dir.group);
            if right {
                continue;
            }
            let existed = matches!(self.probe.dirs.get(dir.path), Some(Some(_)));
            let verb = if existed { "fix" } else { "create" };
            self.change(format!(
                "{verb} folder {} ({:o} {}:{})",
                dir.path, dir.mode, dir.owner, dir.group
            ));
            let p = shell_quote(dir.path);
            commands.push(format!(
                "mkdir -p {p} && chown {}:{} {p} && chmod {:o} {p}",
                dir.owner, dir.group, dir.mode
            ));
        }
        if commands.is_empty() {
            return Ok(());
        }
        self.root("creating folders", &commands.join(" && "), None)
    }

    fn binaries(&mut self) -> Result<(), StepError> {
        for product in Product::ALL {
            match local_binary(self.settings, product) {
                Some(local) => self.upload_binary(product, local)?,
                None => self.download_binary(product)?,
            }
        }
        Ok(())
    }

    fn upload_binary(&mut self, product: Product, local: &LocalBinary) -> Result<(), StepError> {
        let wanted = Wanted {
            path: product.binary_path(),
            content: Arc::clone(&local.content),
            sha256: local.sha256.clone(),
            mode: 0o755,
            owner: "root",
            group: "root",
            diffable: false,
            label: Some(format!("{} from {}", product.name(), local.path.display())),
        };
        self.file(&wanted)
    }

    fn download_binary(&mut self, product: Product) -> Result<(), StepError> {
        let version = match product {
            Product::Consul => &self.inv.consul.version,
            Product::Nomad => &self.inv.nomad.version,
        };
        let installed = self
            .probe
            .versions
            .get(&product.binary_path())
            .map(String::as_str)
            .unwrap_or_default();
        if is_version(installed, product, version) {
            return Ok(());
        }
        let arch = self.probe.release_arch()?;
        let releases = self.settings.releases_url.trim_end_matches('/');
        self.change(format!(
            "install {} {version} ({releases}, SHA256SUMS verified)",
            product.name()
        ));
        self.restart.insert(product);
        self.root(
            &format!("installing {} {version}", product.name()),
            &download_script(releases, product, version, arch),
            None,
        )
    }

    fn files(&mut self, files: &[Wanted]) -> Result<(), StepError> {
        for wanted in files {
            self.file(wanted)?;
        }
        Ok(())
    }

    /// Writes one file when its content, mode or owner differ.
    fn file(&mut self, wanted: &Wanted) -> Result<(), StepError> {
        if self.probe.file_is(wanted) {
            return Ok(());
        }
        let what = wanted.label.clone().unwrap_or_else(|| wanted.path.clone());
        let verb = if wanted.label.is_some() {
            "install"
        } else {
            "write"
        };
        self.change(format!("{verb} {what}"));
        if self.settings.dry_run && wanted.diffable {
            self.show_diff(wanted)?;
        }
        if let Some(product) = Product::owning(&wanted.path) {
            self.restart.insert(product);
        }
        if wanted.path.starts_with("/etc/systemd/") {
            self.daemon_reload = true;
        }
        if !self.settings.dry_run {
            self.session.write_file_owned(
                &wanted.path,
                &wanted.content,
                wanted.mode,
                wanted.owner,
                wanted.group,
            )?;
        }
        Ok(())
    }

    /// A dry run's short diff of a text file, with the gossip key
    /// redacted on both sides.
    fn show_diff(&self, wanted: &Wanted) -> Result<(), StepError> {
        let old = self
            .session
            .read_file(&wanted.path)?
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let new = String::from_utf8_lossy(&wanted.content).into_owned();
        let diff = short_diff(&wanted.path, &redact(&old), &redact(&new));
        if !diff.is_empty() {
            self.reporter.block(&self.host.name, &diff);
        }
        Ok(())
    }

    /// Reloads systemd when a unit changed.
    fn reload_units(&mut self) -> Result<(), StepError> {
        if !self.probe.has_command("systemctl") {
            return Err(StepError::Step(
                "no systemctl on the host (vm-provision runs the agents as systemd services)"
                    .into(),
            ));
        }
        if self.daemon_reload {
            self.root("reloading systemd", "systemctl daemon-reload", None)?;
        }
        Ok(())
    }

    /// The `systemctl` command that enables both agents, starts a stopped
    /// one and restarts a running one only when its binary, config or
    /// unit changed, recording those changes; `None` when there is nothing
    /// to do. As few `systemctl` calls as can do it (each can cost a
    /// noticeable moment): on a fresh host one `enable --now`. Consul's
    /// first: Nomad registers in the local Consul.
    fn agents_command(&mut self) -> Option<AgentsCommand> {
        let mut enable = Vec::new();
        let mut actions = Vec::new();
        for product in Product::ALL {
            let name = product.name();
            if self.probe.enabled.get(name).map(String::as_str) != Some("enabled") {
                enable.push(name);
            }
            if self.probe.active.get(name).map(String::as_str) != Some("active") {
                actions.push(("start", name));
            } else if self.restart.contains(&product) {
                actions.push(("restart", name));
            }
        }
        let no_restart = actions.iter().all(|(verb, _)| *verb == "start");
        let starting: Vec<&str> = actions.iter().map(|(_, name)| *name).collect();
        if !enable.is_empty() && no_restart && starting == enable {
            for name in &enable {
                self.change(format!("enable {name}"));
                self.change(format!("start {name}"));
            }
            return Some(AgentsCommand {
                what: format!("enabling and starting {}", enable.join(" and ")),
                command: format!("systemctl enable --now {}", enable.join(" ")),
                no_restart,
            });
        }
        let mut commands = Vec::new();
        let mut whats = Vec::new();
        if !enable.is_empty() {
            for name in &enable {
                self.change(format!("enable {name}"));
            }
            whats.push(format!("enabling {}", enable.join(" and ")));
            commands.push(format!("systemctl enable {}", enable.join(" ")));
        }
        for group in actions.chunk_by(|a, b| a.0 == b.0) {
            let verb = group[0].0;
            let names: Vec<&str> = group.iter().map(|(_, name)| *name).collect();
            for name in &names {
                self.change(format!("{verb} {name}"));
            }
            whats.push(format!("{verb}ing {}", names.join(" and ")));
            commands.push(format!("systemctl {verb} {}", names.join(" ")));
        }
        (!commands.is_empty()).then(|| AgentsCommand {
            what: whats.join(", "),
            command: commands.join(" && "),
            no_restart,
        })
    }

    /// Brings the agents up ([`HostRun::agents_command`]) and waits, from
    /// the host itself, until both answer on their HTTP APIs (Consul
    /// first) for the inventory's region and datacenter. One command: one
    /// round trip. `answering` is called as soon as both answer: when
    /// agents only start, the APIs are polled while `systemctl` runs, so
    /// the answers can come before it returns (`systemctl start` of a
    /// `simple` unit returns before the agent listens, and a stand-in may
    /// return well after).
    fn start_and_check(&mut self, answering: &dyn Fn()) -> Result<(), StepError> {
        let agents = self.agents_command();
        if self.settings.dry_run {
            answering();
            return Ok(());
        }
        let checks = Product::ALL.map(|p| ApiCheck::new(self.inv, self.host, p, self.settings));
        let timeout = self.settings.api_timeout;
        let api = api_script(&checks, Some(timeout));
        let script = match &agents {
            None => api,
            Some(agents) if agents.no_restart => {
                start_polling_meanwhile(&agents.command, &checks, timeout)
            }
            // A restart: the old agent answers until it is stopped.
            Some(agents) => format!("{}\n{api}", systemctl_or_fail(&agents.command, "")),
        };
        // The answers are checked (and the others told) as soon as they
        // are all in, even while systemctl still runs.
        let mut verdict: Option<Result<(), StepError>> = None;
        let out = self.session.sudo_watching(&script, None, &mut |stdout| {
            if verdict.is_none() {
                if let Some(answers) = stdout.strip_suffix(ANSWERS_END.as_bytes()) {
                    let checked = self.check_answers(&checks, answers);
                    if checked.is_ok() {
                        answering();
                    }
                    verdict = Some(checked);
                }
            }
        })?;
        if out.status == START_FAILED {
            let what = agents.map(|a| a.what).unwrap_or_default();
            return Err(StepError::Step(format!(
                "{what} failed: {}",
                out.stderr_text()
            )));
        }
        let failed = match out.status {
            // The first agent without an answer is the one after the
            // answers printed.
            API_TIME_UP => {
                checks.get(split_bytes(&out.stdout, ANSWER_SEPARATOR.as_bytes()).len() - 1)
            }
            status => usize::try_from(status - FIRST_API_FAILURE)
                .ok()
                .and_then(|i| checks.get(i)),
        };
        if let Some(check) = failed {
            return Err(StepError::Step(format!(
                "{} did not answer on {} within {} ({})",
                check.product.name(),
                check.url(),
                humantime::format_duration(timeout),
                match out.stderr_text() {
                    e if e.is_empty() => "no answer".to_string(),
                    e => e,
                }
            )));
        }
        if !out.success() {
            return Err(StepError::Step(format!(
                "checking the agents' HTTP APIs failed (exit status {}): {}",
                out.status,
                out.stderr_text()
            )));
        }
        verdict.unwrap_or_else(|| {
            Err(StepError::Step(
                "checking the agents' HTTP APIs: the answers ended early".to_string(),
            ))
        })
    }

    /// Checks the agents' answers (`answers`: as the API script prints
    /// them, without [`ANSWERS_END`]) and reports each agent that answers.
    fn check_answers(&self, checks: &[ApiCheck], answers: &[u8]) -> Result<(), StepError> {
        let separator = format!("\n{ANSWER_SEPARATOR}\n");
        let mut answers = split_bytes(answers, separator.as_bytes()).into_iter();
        for check in checks {
            let answer = HttpAnswer::parse(answers.next().unwrap_or_default());
            check.verify(self.inv, &answer)?;
            self.say(&format!(
                "{} answers on {}",
                check.product.name(),
                check.url()
            ));
        }
        Ok(())
    }
}

/// What brings a host's agents where they should be.
struct AgentsCommand {
    /// For messages: `enabling and starting consul and nomad`.
    what: String,
    /// The `systemctl` calls, joined with `&&`.
    command: String,
    /// No agent is restarted (stopped ones are started, running ones
    /// stay): whatever answers on an API is the agent that stays.
    no_restart: bool,
}

/// A script that polls every check in turn (each until it answers, or
/// `limit` passes), prints the answers separated by [`ANSWER_SEPARATOR`]
/// lines and then [`ANSWERS_END`]; exits [`FIRST_API_FAILURE`] (+ the
/// check's index) when one does not answer. Without a limit it polls until
/// it is stopped.
fn api_script(checks: &[ApiCheck], limit: Option<Duration>) -> String {
    let polls = checks
        .iter()
        .enumerate()
        .map(|(i, check)| {
            format!(
                "( {} ) || exit {}",
                check.script(limit),
                FIRST_API_FAILURE + i as i32
            )
        })
        .collect::<Vec<_>>()
        .join(&format!("\nprintf '\\n%s\\n' {ANSWER_SEPARATOR}\n"));
    format!("{polls}\nprintf '%s' '{ANSWERS_END}'")
}

/// `command` (systemctl calls), its output kept and shown only when it
/// fails: then `cleanup` runs and the script exits [`START_FAILED`]. On
/// success systemctl has nothing to say that belongs in a later message.
fn systemctl_or_fail(command: &str, cleanup: &str) -> String {
    format!(
        "out=$({{ {command}; }} 2>&1) || {{ status=$?; {cleanup} printf '%s\\n' \"$out\" >&2; \
         echo \"systemctl exited with status $status\" >&2; exit {START_FAILED}; }}"
    )
}

/// Runs `command` (systemctl calls that restart nothing) while the
/// `checks` poll the APIs (an [`api_script`] without a limit), so the
/// answers come as soon as the agents listen. The poll runs in its own process group
/// (setsid): if systemctl fails it is stopped whole, curl and all, and
/// nothing is left holding the output open. `timeout` counts from when
/// systemctl returns, as it would with the poll after it (a Consul server
/// is ready for systemd only once it has joined the other servers, and
/// Nomad starts after it): a watchdog then stops the poll (exit
/// [`API_TIME_UP`]). Without setsid: `command`, then the poll with its
/// limit.
fn start_polling_meanwhile(command: &str, checks: &[ApiCheck], timeout: Duration) -> String {
    let seconds = timeout.as_secs().max(1);
    format!(
        r#"if command -v setsid >/dev/null 2>&1; then
  setsid sh -c {poll} &
  checking=$!
  {systemctl_stopping_poll}
  setsid sh -c 'sleep "$1"; kill -- -"$2"' watchdog {seconds} "$checking" >/dev/null 2>&1 &
  watchdog=$!
  wait "$checking" 2>/dev/null; status=$?
  kill -- -"$watchdog" 2>/dev/null
  if [ "$status" -gt 128 ]; then exit {API_TIME_UP}; fi
  exit "$status"
fi
{systemctl}
{bounded}"#,
        poll = shell_quote(&api_script(checks, None)),
        bounded = api_script(checks, Some(timeout)),
        systemctl_stopping_poll = systemctl_or_fail(command, "kill -- -\"$checking\" 2>/dev/null;"),
        systemctl = systemctl_or_fail(command, ""),
    )
}

/// The API poll in bash: `ADDRESS PORT SECONDS ASK`, where `ASK` is the
/// shell command that asks (prints an HTTP answer). Asks at once, then
/// every half second, and as soon as `ADDRESS:PORT` first takes a
/// connection: an agent is seen within 50 ms of listening, without
/// starting a process for each look (a lab runs many hosts on one
/// machine). Exit 7 when `SECONDS` pass without an answer.
const POLL_WITH_BASH: &str = r#"if exec 4<> <(:); then nap() { read -r -t 0.05 -u 4 _; }
else nap() { sleep 0.05; }; fi 2>/dev/null
end=$((SECONDS + $3 + 1)); ticks=0; seen=
while :; do
  if [ -z "$seen" ] && { exec 3<>"/dev/tcp/$1/$2"; } 2>/dev/null; then
    exec 3>&-; seen=1; ticks=0
  fi
  if [ $((ticks % 10)) -eq 0 ]; then
    out=$(eval "$4" 2>/dev/null) || out=
    case $out in HTTP/*) printf '%s' "$out"; exit 0 ;; esac
  fi
  [ "$SECONDS" -ge "$end" ] && exit 7
  ticks=$((ticks + 1))
  nap
done"#;

/// What an API poll without a limit takes as its limit (ten years).
const UNLIMITED_SECONDS: u64 = 10 * 365 * 24 * 3600;
/// The exit status of the start-and-check script when `systemctl` failed.
const START_FAILED: i32 = 50;
/// The exit status of the start-and-check script when its watchdog
/// stopped the poll ([`start_polling_meanwhile`]).
const API_TIME_UP: i32 = 60;
/// What the API check script prints last, once every agent answered.
const ANSWERS_END: &str = "\n--vm-provision-agents-answer--\n";
/// The exit status of the API check script when the first agent did not
/// answer (the next one: +1).
const FIRST_API_FAILURE: i32 = 40;
/// The line between the agents' answers in the API check's output.
const ANSWER_SEPARATOR: &str = "--vm-provision-next-answer--";

/// `bytes` split at every `separator`.
fn split_bytes<'a>(bytes: &'a [u8], separator: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    let mut rest = bytes;
    while let Some(at) = find(rest, separator) {
        parts.push(&rest[..at]);
        rest = &rest[at + separator.len()..];
    }
    parts.push(rest);
    parts
}

/// Whether `<binary> version`'s first line says `version`.
fn is_version(first_line: &str, product: Product, version: &str) -> bool {
    first_line
        .strip_prefix(product.version_prefix())
        .and_then(|rest| rest.split_whitespace().next())
        .is_some_and(|v| v == version)
}

/// The package manager command installing `packages`.
fn install_command(family: Family, packages: &[&str]) -> String {
    let list = packages.join(" ");
    match family {
        Family::Debian => format!(
            "export DEBIAN_FRONTEND=noninteractive; apt-get update -q && apt-get install -y -q --no-install-recommends {list}"
        ),
        Family::Rhel => format!(
            "if command -v dnf >/dev/null 2>&1; then dnf install -y -q {list}; else yum install -y -q {list}; fi"
        ),
    }
}

/// Installs Docker from the distribution (Debian/Ubuntu's `docker.io`) or
/// Docker's own repository (RHEL family, which ships none), then starts it.
fn docker_command(family: Family) -> String {
    let install = match family {
        Family::Debian => install_command(family, &["docker.io"]),
        Family::Rhel => "if command -v dnf >/dev/null 2>&1; then pm=dnf; else pm=yum; fi; \
             $pm install -y -q dnf-plugins-core yum-utils >/dev/null 2>&1 || true; \
             (dnf config-manager --add-repo https://download.docker.com/linux/rhel/docker-ce.repo \
              || yum-config-manager --add-repo https://download.docker.com/linux/rhel/docker-ce.repo) && \
             $pm install -y -q docker-ce docker-ce-cli containerd.io"
            .to_string(),
    };
    format!("set -e; {install}; systemctl enable docker; systemctl start docker")
}

/// Downloads a release archive on the host, checks it against the
/// release's `SHA256SUMS`, and installs the binary atomically.
fn download_script(releases: &str, product: Product, version: &str, arch: &str) -> String {
    let name = product.name();
    let zip = format!("{name}_{version}_linux_{arch}.zip");
    let base = shell_quote(&format!("{releases}/{name}/{version}"));
    let target = product.binary_path();
    format!(
        r#"set -eu
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT; cd "$tmp"
curl -fsSL --retry 3 -o {zip} {base}/{zip}
curl -fsSL --retry 3 -o SHA256SUMS {base}/{name}_{version}_SHA256SUMS
grep '  {zip}$' SHA256SUMS >expected || {{ echo "{zip} is not listed in SHA256SUMS" >&2; exit 1; }}
sha256sum -c --quiet expected || {{ echo "{zip} does not match SHA256SUMS" >&2; exit 1; }}
unzip -o -q {zip} {name}
install -m 0755 -o root -g root {name} {target}.new
mv -f {target}.new {target}
"#
    )
}

/// Replaces the value of `encrypt = ...` lines (the gossip key).
fn redact(text: &str) -> String {
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            if trimmed.starts_with("encrypt ") || trimmed.starts_with("encrypt=") {
                let indent = &line[..line.len() - trimmed.len()];
                format!("{indent}encrypt = (redacted)\n")
            } else {
                format!("{line}\n")
            }
        })
        .collect()
}

/// A unified diff with two lines of context, or nothing when equal.
fn short_diff(path: &str, old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header(path, path)
        .to_string()
}

/// How one agent's HTTP API is checked from its host.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ApiCheck {
    product: Product,
    scheme: &'static str,
    /// The name in the URL (curl resolves it to `connect`).
    host: String,
    connect: String,
    port: u16,
    ca_file: Option<String>,
}

impl ApiCheck {
    fn new(inv: &Inventory, host: &Host, product: Product, settings: &Settings) -> ApiCheck {
        // Agents listen on the bind address; a wildcard bind answers on
        // loopback too.
        let local = match host.bind_address.as_str() {
            "0.0.0.0" | "::" | "[::]" => "127.0.0.1".to_string(),
            other => other.to_string(),
        };
        match product {
            // Consul always serves plain HTTP on 127.0.0.1:8500 (with TLS
            // on, only there).
            Product::Consul => ApiCheck {
                product,
                scheme: "http",
                host: "127.0.0.1".into(),
                connect: "127.0.0.1".into(),
                port: crate::facts::CONSUL_HTTP_PORT,
                ca_file: None,
            },
            Product::Nomad if settings.nomad_tls.is_some() => {
                // Nomad's certificates name `<role>.<region>.nomad`.
                let role = if host.role == Role::Server {
                    "server"
                } else {
                    "client"
                };
                ApiCheck {
                    product,
                    scheme: "https",
                    host: format!("{role}.{}.nomad", inv.region),
                    connect: local,
                    port: crate::facts::NOMAD_HTTP_PORT,
                    ca_file: Some(format!("{}/ca.pem", render::NOMAD_TLS_DIR)),
                }
            }
            Product::Nomad => ApiCheck {
                product,
                scheme: "http",
                host: local.clone(),
                connect: local,
                port: crate::facts::NOMAD_HTTP_PORT,
                ca_file: None,
            },
        }
    }

    fn url(&self) -> String {
        crate::facts::url(self.scheme, &self.host, self.port)
    }

    /// A shell script: GET `/v1/agent/self` until it answers or the time
    /// is up (exit 7). Asks with curl when present, else bash's `/dev/tcp`
    /// (plain HTTP only), so a host needs nothing installed for it. Asks
    /// every half second, and with bash ([`POLL_WITH_BASH`]) also as soon
    /// as the port takes connections. Without a `limit` it asks until it
    /// is stopped; with one, `timeout` (when there) also bounds a
    /// connection attempt that hangs (a firewall dropping packets).
    fn script(&self, limit: Option<Duration>) -> String {
        let path = "/v1/agent/self";
        let url = shell_quote(&format!("{}{path}", self.url()));
        let mut curl = format!("curl -sS -i --max-time 5 {url}");
        if let Some(ca) = &self.ca_file {
            curl.push_str(&format!(
                " --cacert {} --resolve {}",
                shell_quote(ca),
                shell_quote(&format!("{}:{}:{}", self.host, self.port, self.connect))
            ));
        }
        let raw = if self.scheme == "http" {
            format!(
                "timeout 5 bash -c 'exec 3<>\"/dev/tcp/$0/$1\" && printf \"GET %s HTTP/1.0\\r\\nHost: %s\\r\\n\\r\\n\" \"$2\" \"$0\" >&3 && cat <&3' {} {} {path}",
                shell_quote(&self.connect),
                self.port
            )
        } else {
            "{ echo 'curl is needed to check an HTTPS API' >&2; exit 3; }".to_string()
        };
        let seconds = limit.map_or(UNLIMITED_SECONDS, |t| t.as_secs().max(1));
        let set_bound = match limit {
            Some(_) => format!(
                "command -v timeout >/dev/null 2>&1 && bound=\"timeout {}\"",
                seconds + 5
            ),
            None => ":".to_string(),
        };
        format!(
            r#"if command -v curl >/dev/null 2>&1; then ask={curl}; else ask={raw}; fi
if command -v bash >/dev/null 2>&1; then
  bound=; {set_bound}
  exec $bound bash -c {poll} poll {connect} {port} {seconds} "$ask"
fi
end=$(( $(date +%s) + {seconds} ))
while :; do
  out=$(eval "$ask" 2>/dev/null) || out=
  case $out in HTTP/*) printf '%s' "$out"; exit 0 ;; esac
  [ "$(date +%s)" -ge "$end" ] && exit 7
  sleep 0.5
done
"#,
            curl = shell_quote(&curl),
            raw = shell_quote(&raw),
            poll = shell_quote(POLL_WITH_BASH),
            connect = shell_quote(&self.connect),
            port = self.port,
        )
    }

    /// An answer counts when it is 200 with the right region and
    /// datacenter, or 401/403 (ACLs on: the agent answers, but not to us).
    fn verify(&self, inv: &Inventory, answer: &HttpAnswer) -> Result<(), StepError> {
        let name = self.product.name();
        match answer.status {
            401 | 403 => return Ok(()),
            200 => {}
            status => {
                return Err(StepError::Step(format!(
                    "{name} answered {} with HTTP {status}",
                    self.url()
                )))
            }
        }
        let body: serde_json::Value = serde_json::from_slice(&answer.body).map_err(|e| {
            StepError::Step(format!(
                "{name} answered {} with invalid JSON: {e}",
                self.url()
            ))
        })?;
        let (region, datacenter) = match self.product {
            Product::Nomad => (
                body["config"]["Region"].as_str(),
                body["config"]["Datacenter"].as_str(),
            ),
            Product::Consul => (None, body["Config"]["Datacenter"].as_str()),
        };
        let mismatch = |what: &str, got: Option<&str>, want: &str| {
            StepError::Step(format!(
                "{name} answers for {what} '{}', expected '{want}' (an agent with an old configuration still running?)",
                got.unwrap_or("?")
            ))
        };
        if self.product == Product::Nomad && region != Some(inv.region.as_str()) {
            return Err(mismatch("region", region, &inv.region));
        }
        if datacenter != Some(inv.datacenter.as_str()) {
            return Err(mismatch("datacenter", datacenter, &inv.datacenter));
        }
        Ok(())
    }
}

/// An HTTP response as curl -i or a raw socket shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HttpAnswer {
    status: u16,
    body: Vec<u8>,
}

impl HttpAnswer {
    /// Reads the last status line's code and the body after the headers
    /// (curl prints interim responses' headers too).
    fn parse(raw: &[u8]) -> HttpAnswer {
        let mut rest = raw;
        let mut status = 0;
        while rest.starts_with(b"HTTP/") {
            let line_end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            status = String::from_utf8_lossy(&rest[..line_end])
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let head_end = find(rest, b"\r\n\r\n")
                .map(|i| i + 4)
                .or_else(|| find(rest, b"\n\n").map(|i| i + 2))
                .unwrap_or(rest.len());
            rest = &rest[head_end..];
        }
        HttpAnswer {
            status,
            body: rest.to_vec(),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_lines_are_read() {
        let text = "os rocky rhel centos fedora\nmachine aarch64\n\
            file /etc/consul.d/consul.hcl 640 root consul abc\nfile /usr/local/bin/nomad -\n\
            dir /opt/consul 750 consul consul\ndir /opt/nomad -\nuser consul\ncommand curl\n\
            active consul active\nenabled consul enabled\nactive nomad inactive\n\
            version /usr/local/bin/consul Consul v1.20.5\nnoise\n";
        let p = parse_probe(text).unwrap();
        assert_eq!(p.family().unwrap(), Family::Rhel);
        assert_eq!(p.release_arch().unwrap(), "arm64");
        assert_eq!(
            p.files["/etc/consul.d/consul.hcl"],
            Some(FileState {
                mode: 0o640,
                owner: "root".into(),
                group: "consul".into(),
                sha256: "abc".into()
            })
        );
        assert_eq!(p.files["/usr/local/bin/nomad"], None);
        assert_eq!(p.dirs["/opt/nomad"], None);
        assert!(p.users.contains("consul"));
        assert!(p.has_command("curl") && !p.has_command("unzip"));
        assert_eq!(p.active["nomad"], "inactive");
        assert!(is_version(
            &p.versions["/usr/local/bin/consul"],
            Product::Consul,
            "1.20.5"
        ));
        assert!(!is_version("Consul v1.20.50", Product::Consul, "1.20.5"));
        assert!(parse_probe("file /x 64x root root abc").is_err());
        assert!(parse_probe("file /x 644 root").is_err());
    }

    #[test]
    fn families_and_arches() {
        let p = |id: &str, like: &str, m: &str| Probe {
            os_id: id.into(),
            os_like: like.into(),
            machine: m.into(),
            ..Probe::default()
        };
        assert_eq!(
            p("ubuntu", "debian", "x86_64").family().unwrap(),
            Family::Debian
        );
        assert_eq!(p("debian", "", "x86_64").release_arch().unwrap(), "amd64");
        assert!(p("alpine", "", "x86_64").family().is_err());
        assert!(p("debian", "", "riscv64").release_arch().is_err());
    }

    #[test]
    fn http_answers_are_parsed() {
        let a = HttpAnswer::parse(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX: y\r\n\r\n{\"a\":1}",
        );
        assert_eq!(a.status, 200);
        assert_eq!(a.body, b"{\"a\":1}");
        let b = HttpAnswer::parse(b"HTTP/1.0 403 Forbidden\n\nPermission denied");
        assert_eq!(b.status, 403);
        assert_eq!(HttpAnswer::parse(b"garbage").status, 0);
    }

    #[test]
    fn answers_are_split() {
        let parts = split_bytes(b"a\n--x--\nb\n--x--\n", b"\n--x--\n");
        assert_eq!(parts, [&b"a"[..], &b"b"[..], &b""[..]]);
        assert_eq!(split_bytes(b"", b"--"), [&b""[..]]);
    }

    #[test]
    fn diffs_redact_the_gossip_key() {
        let old = "a = 1\nencrypt = \"old-key\"\n";
        let new = "a = 2\n  encrypt = \"new-key\"\n";
        let diff = short_diff("/etc/consul.d/consul.hcl", &redact(old), &redact(new));
        assert!(diff.contains("-a = 1") && diff.contains("+a = 2"), "{diff}");
        assert!(!diff.contains("key\""), "{diff}");
        assert!(short_diff("p", "same\n", "same\n").is_empty());
    }

    #[test]
    fn download_checks_the_sums() {
        let s = download_script(RELEASES_URL, Product::Nomad, "1.9.7", "arm64");
        assert!(
            s.contains("https://releases.hashicorp.com/nomad/1.9.7/nomad_1.9.7_linux_arm64.zip")
        );
        assert!(s.contains("nomad_1.9.7_SHA256SUMS"));
        assert!(s.contains("sha256sum -c"));
        assert!(s.contains("mv -f /usr/local/bin/nomad.new /usr/local/bin/nomad"));
    }

    #[test]
    fn paths_belong_to_their_agent() {
        assert_eq!(
            Product::owning("/etc/consul.d/tls/ca.pem"),
            Some(Product::Consul)
        );
        assert_eq!(
            Product::owning("/etc/systemd/system/nomad.service"),
            Some(Product::Nomad)
        );
        assert_eq!(
            Product::owning("/usr/local/bin/nomad"),
            Some(Product::Nomad)
        );
        assert_eq!(Product::owning("/etc/hosts"), None);
    }
}
