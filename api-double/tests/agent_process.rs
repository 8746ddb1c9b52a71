//! The `agent-double` binary under the real names (`consul`, `nomad`, as a lab host
//! installs it), its `version` command, and its systemd readiness notification
//! (`NOTIFY_SOCKET`, path and abstract sockets). Agents on 127.0.66.x.

mod agent_support;

use std::fs;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use agent_support::get_json;
use api_double::process::{binary, AgentProcess};

/// A fresh temporary directory for one test.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("agent-double-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// The binary linked into `dir` under `name`.
fn installed_as(dir: &Path, name: &str) -> PathBuf {
    let link = dir.join(name);
    std::os::unix::fs::symlink(binary(), &link).unwrap();
    link
}

fn received(socket: &UnixDatagram) -> String {
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buf = [0u8; 512];
    let n = socket.recv(&mut buf).expect("a readiness datagram");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn consul_by_name_with_config_dir_notifies_readiness() {
    let dir = temp_dir("consul");
    let conf = dir.join("consul.d");
    fs::create_dir_all(&conf).unwrap();
    fs::write(
        conf.join("consul.json"),
        r#"{"datacenter":"lab","node_name":"c1","bind_addr":"127.0.66.1","server":true,"bootstrap_expect":1}"#,
    )
    .unwrap();
    let notify = dir.join("notify.sock");
    let socket = UnixDatagram::bind(&notify).unwrap();
    let consul = installed_as(&dir, "consul");
    let mut command = Command::new(&consul);
    command
        .arg("agent")
        .arg(format!("-config-dir={}/", conf.display()))
        .env("NOTIFY_SOCKET", &notify);
    let agent = AgentProcess::start_command(command);
    assert_eq!(agent.url(), "http://127.0.66.1:8500");
    assert!(received(&socket).lines().any(|l| l == "READY=1"));
    let own = get_json(&format!("{}/v1/agent/self", agent.url()));
    assert_eq!(own["Config"]["Datacenter"], "lab");

    let out = Command::new(&consul).arg("version").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("Consul v1.21.0\n"), "{text}");
    assert!(text.contains("double"));
    drop(agent);
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn nomad_by_name_with_an_abstract_notify_socket() {
    let dir = temp_dir("nomad");
    let conf = dir.join("nomad.d");
    fs::create_dir_all(&conf).unwrap();
    fs::write(
        conf.join("nomad.hcl"),
        "name = \"n1\"\nregion = \"europe\"\ndatacenter = \"gce-west1\"\nbind_addr = \"127.0.66.2\"\nserver {\n  enabled = true\n  bootstrap_expect = 1\n}\n",
    )
    .unwrap();
    let name = format!("agent-double-test-{}", std::process::id());
    let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let socket = UnixDatagram::bind_addr(&addr).unwrap();
    let nomad = installed_as(&dir, "nomad");
    let mut command = Command::new(&nomad);
    command
        .arg("agent")
        .arg(format!("-config={}/", conf.display()))
        .env("NOTIFY_SOCKET", format!("@{name}"));
    let agent = AgentProcess::start_command(command);
    assert_eq!(agent.url(), "http://127.0.66.2:4646");
    assert!(received(&socket).contains("READY=1"));
    let own = get_json(&format!("{}/v1/agent/self", agent.url()));
    assert_eq!(own["config"]["Region"], "europe");

    let out = Command::new(&nomad).arg("version").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("Nomad v2.0.5\n"), "{text}");
    // The product argument still works under the binary's own name.
    let out = Command::new(binary())
        .args(["nomad", "version"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Nomad v"));
    drop(agent);
    let _ = fs::remove_dir_all(dir);
}
