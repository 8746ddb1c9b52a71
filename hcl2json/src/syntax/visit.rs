//! Walking an expression tree.

use super::ast::{Expr, ExprKind, ObjectKey, Template, TemplatePart, Traversal};

/// Calls `f` on `expr` and on every expression nested in it, parents first.
pub fn visit_exprs(expr: &Expr, f: &mut dyn FnMut(&Expr)) {
    f(expr);
    match &expr.kind {
        ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) | ExprKind::Variable(_) => {}
        ExprKind::Template(t) => visit_template(t, f),
        ExprKind::Tuple(items) => items.iter().for_each(|e| visit_exprs(e, f)),
        ExprKind::Object(items) => {
            for item in items {
                if let ObjectKey::Expr(k) = &item.key {
                    visit_exprs(k, f);
                }
                visit_exprs(&item.value, f);
            }
        }
        ExprKind::GetAttr(target, _) => visit_exprs(target, f),
        ExprKind::Index(target, key) => {
            visit_exprs(target, f);
            visit_exprs(key, f);
        }
        ExprKind::Splat(splat) => {
            visit_exprs(&splat.source, f);
            for step in &splat.each {
                if let Traversal::Index(e) = step {
                    visit_exprs(e, f);
                }
            }
        }
        ExprKind::Call(call) => call.args.iter().for_each(|e| visit_exprs(e, f)),
        ExprKind::Unary(_, e) | ExprKind::Parens(e) => visit_exprs(e, f),
        ExprKind::Binary(_, a, b) => {
            visit_exprs(a, f);
            visit_exprs(b, f);
        }
        ExprKind::Conditional(c) => {
            visit_exprs(&c.cond, f);
            visit_exprs(&c.then, f);
            visit_exprs(&c.otherwise, f);
        }
        ExprKind::For(fe) => {
            visit_exprs(&fe.collection, f);
            if let Some(k) = &fe.key {
                visit_exprs(k, f);
            }
            visit_exprs(&fe.value, f);
            if let Some(c) = &fe.cond {
                visit_exprs(c, f);
            }
        }
    }
}

fn visit_template(t: &Template, f: &mut dyn FnMut(&Expr)) {
    for part in &t.parts {
        match part {
            TemplatePart::Literal(_) => {}
            TemplatePart::Interp { expr, .. } => visit_exprs(expr, f),
            TemplatePart::If {
                cond,
                then,
                otherwise,
                ..
            } => {
                visit_exprs(cond, f);
                visit_template(then, f);
                visit_template(otherwise, f);
            }
            TemplatePart::For {
                collection, body, ..
            } => {
                visit_exprs(collection, f);
                visit_template(body, f);
            }
        }
    }
}
