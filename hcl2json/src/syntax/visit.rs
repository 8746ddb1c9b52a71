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
            visit_steps(&splat.each, f);
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

fn visit_steps(steps: &[Traversal], f: &mut dyn FnMut(&Expr)) {
    for step in steps {
        match step {
            Traversal::Attr(_) => {}
            Traversal::Index(e) => visit_exprs(e, f),
            Traversal::Splat { each, .. } => visit_steps(each, f),
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

/// Moves every span of `expr` `by` bytes towards the start of the text
/// (for an expression parsed behind a prefix).
pub fn shift_spans(expr: &mut Expr, by: u32) {
    fn span(s: &mut super::ast::Span, by: u32) {
        s.start = s.start.saturating_sub(by);
        s.end = s.end.saturating_sub(by);
    }
    fn template(t: &mut Template, by: u32) {
        for part in &mut t.parts {
            match part {
                TemplatePart::Literal(_) => {}
                TemplatePart::Interp { expr, span: s } => {
                    span(s, by);
                    shift_spans(expr, by);
                }
                TemplatePart::If {
                    cond,
                    then,
                    otherwise,
                    span: s,
                } => {
                    span(s, by);
                    shift_spans(cond, by);
                    template(then, by);
                    template(otherwise, by);
                }
                TemplatePart::For {
                    key_var,
                    value_var,
                    collection,
                    body,
                    span: s,
                } => {
                    span(s, by);
                    if let Some(k) = key_var {
                        span(&mut k.span, by);
                    }
                    span(&mut value_var.span, by);
                    shift_spans(collection, by);
                    template(body, by);
                }
            }
        }
    }
    fn shift_steps(steps: &mut [Traversal], by: u32) {
        for step in steps {
            match step {
                Traversal::Attr(ident) => span(&mut ident.span, by),
                Traversal::Index(e) => shift_spans(e, by),
                Traversal::Splat { each, .. } => shift_steps(each, by),
            }
        }
    }
    span(&mut expr.span, by);
    match &mut expr.kind {
        ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) => {}
        ExprKind::Variable(ident) => span(&mut ident.span, by),
        ExprKind::Template(t) => template(t, by),
        ExprKind::Tuple(items) => items.iter_mut().for_each(|e| shift_spans(e, by)),
        ExprKind::Object(items) => {
            for item in items {
                match &mut item.key {
                    ObjectKey::Ident(ident) => span(&mut ident.span, by),
                    ObjectKey::Expr(k) => shift_spans(k, by),
                }
                shift_spans(&mut item.value, by);
            }
        }
        ExprKind::GetAttr(target, name) => {
            shift_spans(target, by);
            span(&mut name.span, by);
        }
        ExprKind::Index(target, key) => {
            shift_spans(target, by);
            shift_spans(key, by);
        }
        ExprKind::Splat(splat) => {
            shift_spans(&mut splat.source, by);
            shift_steps(&mut splat.each, by);
        }
        ExprKind::Call(call) => {
            span(&mut call.name.span, by);
            call.args.iter_mut().for_each(|e| shift_spans(e, by));
        }
        ExprKind::Unary(_, e) | ExprKind::Parens(e) => shift_spans(e, by),
        ExprKind::Binary(_, a, b) => {
            shift_spans(a, by);
            shift_spans(b, by);
        }
        ExprKind::Conditional(c) => {
            shift_spans(&mut c.cond, by);
            shift_spans(&mut c.then, by);
            shift_spans(&mut c.otherwise, by);
        }
        ExprKind::For(f) => {
            if let Some(k) = &mut f.key_var {
                span(&mut k.span, by);
            }
            span(&mut f.value_var.span, by);
            shift_spans(&mut f.collection, by);
            if let Some(k) = &mut f.key {
                shift_spans(k, by);
            }
            shift_spans(&mut f.value, by);
            if let Some(c) = &mut f.cond {
                shift_spans(c, by);
            }
        }
    }
}
