//! Parses HCL2 native syntax into the tree of [`super::ast`].

use super::ast::Body;
use crate::error::Error;

/// Parses a whole file (or any body) of HCL2 native syntax.
pub fn parse_body(src: &str) -> Result<Body, Error> {
    let _ = src;
    Err(Error::general("parser not written yet"))
}
