//! The library foundations of `vm-provision`: provision Consul and Nomad
//! agents on plain VMs over SSH from an inventory, and print the cluster
//! facts the other tools read.
//!
//! - [`inventory`]: the typed, validated inventory (native shape or the
//!   demo's `terraform output -json`); schema in `inventory.schema.json`.
//! - [`render`]: the agent config files and systemd units of one host,
//!   byte-identical on every run.
//! - [`facts`]: the cluster facts output.
//! - [`known_hosts`]: OpenSSH host key verification (plain and hashed
//!   entries), without shelling out.
//!
//! - [`ssh`]: the SSH transport (ssh2): host key checks, agent and key
//!   authentication, bastions, commands, atomic file writes.
//! - [`provision`]: one host's steps, each checking before changing.
//! - [`run`]: many hosts in parallel, servers first.
//! - [`cli`]: the command line.
//!
//! ```
//! use vm_provision::{facts::ClusterFacts, inventory, render};
//!
//! let text = r#"{"region": "europe", "datacenter": "gce-west1", "hosts": [
//!     {"name": "server-1", "address": "35.0.0.1", "private_address": "10.0.0.1", "role": "server"},
//!     {"name": "client-1", "address": "10.0.0.9", "role": "client"}]}"#;
//! let inv = inventory::parse(text, "inventory.json", &Default::default())?;
//! let files = render::host_files(&inv, &inv.hosts[0], None);
//! assert_eq!(files[0].path, "/etc/consul.d/consul.hcl");
//! let facts = ClusterFacts::new(&inv);
//! assert_eq!(facts.nomad_addr.as_deref(), Some("http://35.0.0.1:4646"));
//! # Ok::<(), cli_common::Error>(())
//! ```

pub mod cli;
pub mod facts;
pub mod inventory;
pub mod known_hosts;
pub mod provision;
pub mod render;
pub mod run;
pub mod ssh;
