//! HCL2 native syntax: the tree and its parser.

pub mod ast;
mod lexer;
pub mod parser;
mod visit;

pub use ast::*;
pub use parser::parse_body;
pub use visit::{shift_spans, visit_exprs};

use crate::error::{Error, Pos};

/// Parses a single expression (a `--var` value, for instance).
pub fn parse_expr(src: &str) -> Result<Expr, Error> {
    // The expression is read as the value of a one-argument body; errors
    // are moved back by the two bytes of the `v=` prefix.
    const PREFIX: &str = "v=";
    let wrapped = format!("{PREFIX}{src}\n");
    let shift = |mut e: Error| {
        if let Some(pos) = e.pos.as_mut() {
            if pos.line == 1 {
                pos.column = pos.column.saturating_sub(PREFIX.len()).max(1);
            }
        }
        e
    };
    let body = parse_body(&wrapped).map_err(shift)?;
    match body.items.as_slice() {
        [Item::Attribute(attr)] => {
            let mut expr = attr.expr.clone();
            shift_spans(&mut expr, PREFIX.len() as u32);
            Ok(expr)
        }
        _ => Err(Error {
            file: None,
            pos: Some(Pos { line: 1, column: 1 }),
            message: "Invalid expression; Expected a single expression.".into(),
        }),
    }
}
