//! Converts HCL to JSON.
//!
//! Two conversions are offered:
//!
//! * [`generic`]: any HCL2 file (Terraform, Packer, Nomad agent
//!   configuration...) to a JSON document of a fixed, documented shape.
//! * [`nomad`]: a Nomad job file to the API JSON that `nomad job run -output`
//!   prints, evaluating HCL2 variables, locals, functions and `dynamic` blocks
//!   the way Nomad's own parser does.

pub mod cli;
pub mod error;
pub mod eval;
pub mod generic;
mod json_writer;
pub mod nomad;
pub mod syntax;
pub mod value;

pub use error::{Error, Pos};
pub use value::{Number, Value};
