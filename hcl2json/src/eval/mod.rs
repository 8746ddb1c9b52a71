//! Evaluation of HCL expressions against variables and functions.

pub mod functions;
