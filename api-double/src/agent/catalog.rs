//! Consul catalog and health endpoints of the agent doubles.
