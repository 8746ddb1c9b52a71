//! The function library a Nomad job file may call.
//!
//! The same set Nomad's HCL2 parser offers: go-cty's standard library plus
//! HashiCorp's encoding, crypto, cidr, uuid, yaml and filesystem functions.
//! `try` and `can` are not here: they need unevaluated arguments, so the
//! evaluator handles them itself.

use std::path::Path;

use crate::value::Value;

/// What a function may need from the file being converted.
pub struct FuncContext<'a> {
    /// The folder of the job file; relative paths of file functions start here.
    pub base_dir: &'a Path,
}

/// A function implementation: evaluated arguments in, a value or a one-line
/// reason out.
pub type FuncImpl = fn(&FuncContext<'_>, Vec<Value>) -> Result<Value, String>;

/// Finds a function by the name a job file calls it with.
pub fn lookup(_name: &str) -> Option<FuncImpl> {
    None
}
