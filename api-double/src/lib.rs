//! A test double of the Nomad and Consul HTTP APIs (dev-only).
