//! Submit a job over Nomad's HTTP API and follow its evaluation and
//! deployment to one precise verdict, printed as JSON.
//!
//! The job is API JSON (`{"Job": {...}}` or a bare job) or a Nomad job file
//! in HCL, converted in-process with [`hcl2json::nomad`]. See [`cli`] for the
//! command line and [`report::Report`] for the output.

pub mod api;
pub mod cli;
pub mod input;
pub mod progress;
pub mod report;
pub mod submit;
