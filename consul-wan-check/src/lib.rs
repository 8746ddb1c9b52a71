//! WAN-join Consul datacenters and verify the federation, printed as JSON.
//!
//! [`cli`] is the command line; [`api`] the Consul answers it reads;
//! [`check`] turns them into a [`check::Report`] and a verdict; [`warnings`]
//! spots what breaks WAN gossip in practice; [`plan`] merges flags and
//! cluster facts into what to join and what to expect.

pub mod api;
pub mod check;
pub mod cli;
pub mod plan;
pub mod warnings;
