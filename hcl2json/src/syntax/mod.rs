//! HCL2 native syntax: the tree and its parser.

pub mod ast;
pub mod parser;

pub use ast::*;
pub use parser::parse_body;
