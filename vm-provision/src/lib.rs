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

pub mod facts;
pub mod inventory;
pub mod known_hosts;
pub mod render;
