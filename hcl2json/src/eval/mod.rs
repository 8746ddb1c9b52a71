//! Evaluation of HCL expressions against variables and functions.
//!
//! It follows HCL's `hclsyntax` semantics over the small value model of
//! [`crate::value`]. One Nomad-specific rule is built in and switched on by
//! [`Context::keep_unknown`]: a reference whose root variable is not defined
//! (`node.class`, `attr.kernel.name`, `NOMAD_ALLOC_ID`, `env["HOME"]`) is not
//! an error but evaluates to its own source text wrapped in `${...}`, so the
//! Nomad client can interpolate it at run time.

pub mod functions;
pub mod types;

use std::collections::BTreeMap;
use std::path::Path;

use crate::syntax::{
    BinaryOp, Call, Expr, ExprKind, ForExpr, ObjectKey, Span, Splat, Template, TemplatePart,
    Traversal, UnaryOp,
};
use crate::value::{Number, Value};
use crate::Error;

use functions::FuncContext;
use types::Type;

/// An evaluation error: where, and why (HCL's "Summary; Detail" style).
#[derive(Debug, Clone, PartialEq)]
pub struct EvalError {
    /// The expression the error concerns.
    pub span: Span,
    /// The message.
    pub message: String,
}

impl EvalError {
    fn new(span: Span, message: impl Into<String>) -> EvalError {
        EvalError {
            span,
            message: message.into(),
        }
    }

    /// Turns the error into a positioned [`Error`] of the file `src`.
    pub fn into_error(self, src: &str) -> Error {
        Error::at(src, self.span.start as usize, self.message)
    }
}

type Result<T> = std::result::Result<T, EvalError>;

/// What an expression may refer to.
pub struct Context<'a> {
    /// The source the expressions were parsed from (for the text of unknown
    /// references).
    pub src: &'a str,
    /// Root variables (`var`, `local`...). `None` means variables are not
    /// allowed at all (a variable's default, a var file).
    pub vars: Option<&'a BTreeMap<String, Value>>,
    /// Whether functions may be called.
    pub functions: bool,
    /// Folder that file functions resolve relative paths against.
    pub base_dir: &'a Path,
    /// Keep references to undefined root variables as `${...}` text.
    pub keep_unknown: bool,
}

impl<'a> Context<'a> {
    /// A context where neither variables nor functions are allowed.
    pub fn constant(src: &'a str) -> Context<'a> {
        Context {
            src,
            vars: None,
            functions: false,
            base_dir: Path::new("."),
            keep_unknown: false,
        }
    }

    /// Evaluates `expr`.
    pub fn eval(&self, expr: &Expr) -> Result<Value> {
        Evaluator {
            ctx: self,
            locals: Vec::new(),
            depth: 0,
        }
        .eval(expr)
    }
}

/// Deepest nesting of evaluation (calls inside calls...) before giving up:
/// the parser already bounds syntax depth, this bounds what `for` bodies and
/// function arguments could add.
const MAX_DEPTH: usize = 512;

struct Evaluator<'c, 'a> {
    ctx: &'c Context<'a>,
    /// Iteration variables of enclosing `for` expressions, innermost last.
    locals: Vec<(String, Value)>,
    depth: usize,
}

impl Evaluator<'_, '_> {
    fn eval(&mut self, expr: &Expr) -> Result<Value> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            return Err(EvalError::new(
                expr.span,
                "Expression too complex: nesting is too deep.",
            ));
        }
        let result = self.eval_inner(expr);
        self.depth -= 1;
        result
    }

    fn eval_inner(&mut self, expr: &Expr) -> Result<Value> {
        let span = expr.span;
        match &expr.kind {
            ExprKind::Null => Ok(Value::Null),
            ExprKind::Bool(b) => Ok(Value::Bool(*b)),
            ExprKind::Number(n) => Ok(Value::Number(*n)),
            ExprKind::Template(t) => self.template(t, true),
            ExprKind::Tuple(items) => Ok(Value::Tuple(
                items.iter().map(|e| self.eval(e)).collect::<Result<_>>()?,
            )),
            ExprKind::Object(items) => {
                let mut map = BTreeMap::new();
                for item in items {
                    let key = match &item.key {
                        ObjectKey::Ident(ident) => ident.name.clone(),
                        ObjectKey::Expr(e) => {
                            let k = self.eval(e)?;
                            k.to_str().ok_or_else(|| {
                                EvalError::new(
                                    e.span,
                                    "Incorrect key type: Can't use this value as a key: string required.",
                                )
                            })?
                        }
                    };
                    let value = self.eval(&item.value)?;
                    map.insert(key, value);
                }
                Ok(Value::Object(map))
            }
            ExprKind::Variable(_) | ExprKind::GetAttr(..) | ExprKind::Index(..) => {
                if let Some(text) = self.unknown_reference_text(expr) {
                    return Ok(Value::String(text));
                }
                match &expr.kind {
                    ExprKind::Variable(ident) => self.variable(&ident.name, span),
                    ExprKind::GetAttr(target, name) => {
                        let v = self.eval(target)?;
                        get_attr(v, &name.name, name.span)
                    }
                    ExprKind::Index(target, key) => {
                        let v = self.eval(target)?;
                        let k = self.eval(key)?;
                        index(v, &k, key.span)
                    }
                    _ => unreachable!("matched above"),
                }
            }
            ExprKind::Splat(splat) => self.splat(splat),
            ExprKind::Call(call) => self.call(call, span),
            ExprKind::Unary(op, operand) => {
                let v = self.eval(operand)?;
                unary(*op, v, operand.span)
            }
            ExprKind::Binary(op, lhs, rhs) => self.binary(*op, lhs, rhs),
            ExprKind::Conditional(c) => {
                let cond = self.eval(&c.cond)?;
                let cond = match cond {
                    Value::Null => {
                        return Err(EvalError::new(
                            c.cond.span,
                            "Null condition: The condition value is null. Conditions must either be true or false.",
                        ))
                    }
                    other => other.to_bool().ok_or_else(|| {
                        EvalError::new(
                            c.cond.span,
                            "Incorrect condition type: The condition expression must be of type bool.",
                        )
                    })?,
                };
                let (chosen, other) = if cond {
                    (&c.then, &c.otherwise)
                } else {
                    (&c.otherwise, &c.then)
                };
                let value = self.eval(chosen)?;
                // HCL unifies both results to one type: a number or bool
                // meeting a string becomes a string.
                let other_is_string = matches!(other.kind, ExprKind::Template(_));
                match value {
                    Value::Number(_) | Value::Bool(_) if other_is_string => {
                        Ok(Value::String(value.to_str().unwrap_or_default()))
                    }
                    v => Ok(v),
                }
            }
            ExprKind::For(f) => self.for_expr(f, span),
            ExprKind::Parens(inner) => self.eval(inner),
        }
    }

    fn variable(&self, name: &str, span: Span) -> Result<Value> {
        if let Some((_, v)) = self.locals.iter().rev().find(|(n, _)| n == name) {
            return Ok(v.clone());
        }
        let Some(vars) = self.ctx.vars else {
            return Err(EvalError::new(
                span,
                "Variables not allowed: Variables may not be used here.",
            ));
        };
        vars.get(name).cloned().ok_or_else(|| {
            EvalError::new(
                span,
                format!("Unknown variable: There is no variable named \"{name}\"."),
            )
        })
    }

    fn is_defined(&self, name: &str) -> bool {
        self.locals.iter().any(|(n, _)| n == name)
            || self.ctx.vars.is_some_and(|vars| vars.contains_key(name))
    }

    /// For a static traversal (`a.b["c"][0]`) whose root variable is not
    /// defined, the text Nomad keeps in its place: the traversal as written,
    /// with the `${ }` around it when it is the whole of an interpolation.
    fn unknown_reference_text(&self, expr: &Expr) -> Option<String> {
        if !self.ctx.keep_unknown || self.ctx.vars.is_none() {
            return None;
        }
        let root = static_traversal_root(expr)?;
        if self.is_defined(root) {
            return None;
        }
        Some(wrap_reference(self.ctx.src, expr.span))
    }

    fn template(&mut self, t: &Template, unwrap_single: bool) -> Result<Value> {
        // A template made of one interpolation alone yields the value itself,
        // not its string form.
        if unwrap_single {
            if let [TemplatePart::Interp { expr, .. }] = t.parts.as_slice() {
                return self.eval(expr);
            }
        }
        let mut out = String::new();
        self.render(t, &mut out)?;
        Ok(Value::String(out))
    }

    fn render(&mut self, t: &Template, out: &mut String) -> Result<()> {
        for part in &t.parts {
            match part {
                TemplatePart::Literal(s) => out.push_str(s),
                TemplatePart::Interp { expr, .. } => {
                    let v = self.eval(expr)?;
                    out.push_str(&template_string(v, expr.span)?);
                }
                TemplatePart::If {
                    cond,
                    then,
                    otherwise,
                    ..
                } => {
                    let c = self.eval(cond)?;
                    let c = c.to_bool().ok_or_else(|| {
                        EvalError::new(
                            cond.span,
                            "Invalid template if condition: The condition must be of type bool.",
                        )
                    })?;
                    self.render(if c { then } else { otherwise }, out)?;
                }
                TemplatePart::For {
                    key_var,
                    value_var,
                    collection,
                    body,
                    ..
                } => {
                    let coll = self.eval(collection)?;
                    for (k, v) in iterate(coll, collection.span)? {
                        let pushed = self.push_iteration(
                            key_var.as_ref().map(|i| &i.name),
                            &value_var.name,
                            k,
                            v,
                        );
                        let r = self.render(body, out);
                        self.locals.truncate(self.locals.len() - pushed);
                        r?;
                    }
                }
            }
        }
        Ok(())
    }

    fn push_iteration(
        &mut self,
        key_var: Option<&String>,
        value_var: &str,
        k: Value,
        v: Value,
    ) -> usize {
        let mut pushed = 1;
        if let Some(kv) = key_var {
            self.locals.push((kv.clone(), k));
            pushed += 1;
        }
        self.locals.push((value_var.to_owned(), v));
        pushed
    }

    fn splat(&mut self, splat: &Splat) -> Result<Value> {
        let source = self.eval(&splat.source)?;
        self.map_each(source, &splat.each)
    }

    /// Applies `steps` to each element of `collection` (a null collection
    /// is empty; any other single value is a one-element list).
    fn map_each(&mut self, collection: Value, steps: &[Traversal]) -> Result<Value> {
        let items = match collection {
            Value::Null => return Ok(Value::Tuple(Vec::new())),
            Value::Tuple(items) => items,
            other => vec![other],
        };
        let mut out = Vec::with_capacity(items.len());
        for mut item in items {
            for step in steps {
                item = match step {
                    Traversal::Attr(name) => get_attr(item, &name.name, name.span)?,
                    Traversal::Index(key) => {
                        let k = self.eval(key)?;
                        index(item, &k, key.span)?
                    }
                    Traversal::Splat { each, .. } => self.map_each(item, each)?,
                };
            }
            out.push(item);
        }
        Ok(Value::Tuple(out))
    }

    fn for_expr(&mut self, f: &ForExpr, span: Span) -> Result<Value> {
        let coll = self.eval(&f.collection)?;
        let key_var = f.key_var.as_ref().map(|i| &i.name);
        let mut tuple = Vec::new();
        let mut object: BTreeMap<String, Value> = BTreeMap::new();
        let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (k, v) in iterate(coll, f.collection.span)? {
            let pushed = self.push_iteration(key_var, &f.value_var.name, k, v);
            let step = self.for_step(f, span, &mut tuple, &mut object, &mut groups);
            self.locals.truncate(self.locals.len() - pushed);
            step?;
        }
        Ok(match (&f.key, f.group) {
            (None, _) => Value::Tuple(tuple),
            (Some(_), false) => Value::Object(object),
            (Some(_), true) => Value::Object(
                groups
                    .into_iter()
                    .map(|(k, v)| (k, Value::Tuple(v)))
                    .collect(),
            ),
        })
    }

    fn for_step(
        &mut self,
        f: &ForExpr,
        span: Span,
        tuple: &mut Vec<Value>,
        object: &mut BTreeMap<String, Value>,
        groups: &mut BTreeMap<String, Vec<Value>>,
    ) -> Result<()> {
        if let Some(cond) = &f.cond {
            let c = self.eval(cond)?;
            let keep = c.to_bool().ok_or_else(|| {
                EvalError::new(
                    cond.span,
                    "Invalid 'for' condition: The 'if' clause value is invalid: bool required.",
                )
            })?;
            if !keep {
                return Ok(());
            }
        }
        let value = self.eval(&f.value)?;
        let Some(key_expr) = &f.key else {
            tuple.push(value);
            return Ok(());
        };
        let key = self.eval(key_expr)?.to_str().ok_or_else(|| {
            EvalError::new(
                key_expr.span,
                "Invalid object key: The key expression produced an invalid result: string required.",
            )
        })?;
        if f.group {
            groups.entry(key).or_default().push(value);
            return Ok(());
        }
        match object.entry(key) {
            std::collections::btree_map::Entry::Occupied(e) => Err(EvalError::new(
                span,
                format!("Duplicate object key: Two different items produced the key \"{}\" in this 'for' expression. If duplicates are expected, use the ellipsis (...) after the value expression to enable grouping by key.", e.key()),
            )),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(value);
                Ok(())
            }
        }
    }

    fn call(&mut self, call: &Call, span: Span) -> Result<Value> {
        let name = call.name.name.as_str();
        if !self.ctx.functions {
            return Err(EvalError::new(
                span,
                "Function calls not allowed: Functions may not be called here.",
            ));
        }
        match name {
            "try" => return self.try_call(call, span),
            "can" => return self.can_call(call, span),
            "convert" => return self.convert_call(call, span),
            _ => {}
        }
        let Some(func) = functions::lookup(name) else {
            return Err(EvalError::new(
                call.name.span,
                format!("Call to unknown function: There is no function named \"{name}\"."),
            ));
        };
        let mut args = Vec::with_capacity(call.args.len());
        for (i, arg) in call.args.iter().enumerate() {
            let v = self.eval(arg)?;
            if call.expand_final && i + 1 == call.args.len() {
                match v {
                    Value::Tuple(items) => args.extend(items),
                    Value::Null => {}
                    _ => {
                        return Err(EvalError::new(
                            arg.span,
                            "Invalid expanding argument value: The expanding argument (indicated by ...) must be of a tuple, list, or set type.",
                        ))
                    }
                }
            } else {
                args.push(v);
            }
        }
        let fctx = FuncContext {
            base_dir: self.ctx.base_dir,
        };
        func(&fctx, args).map_err(|why| {
            EvalError::new(
                span,
                format!("Error in function call: Call to function \"{name}\" failed: {why}."),
            )
        })
    }

    fn try_call(&mut self, call: &Call, span: Span) -> Result<Value> {
        if call.args.is_empty() {
            return Err(EvalError::new(
                span,
                "Error in function call: Call to function \"try\" failed: at least one argument is required.",
            ));
        }
        let mut last_error = None;
        for arg in &call.args {
            match self.eval(arg) {
                Ok(v) => return Ok(v),
                Err(e) => last_error = Some(e),
            }
        }
        let detail = last_error.map(|e| e.message).unwrap_or_default();
        Err(EvalError::new(
            span,
            format!("Error in function call: Call to function \"try\" failed: no expression succeeded: {detail}"),
        ))
    }

    fn can_call(&mut self, call: &Call, span: Span) -> Result<Value> {
        let [arg] = call.args.as_slice() else {
            return Err(EvalError::new(
                span,
                "Not enough function arguments: Function \"can\" expects 1 argument.",
            ));
        };
        Ok(Value::Bool(self.eval(arg).is_ok()))
    }

    fn convert_call(&mut self, call: &Call, span: Span) -> Result<Value> {
        let [value, ty] = call.args.as_slice() else {
            return Err(EvalError::new(
                span,
                "Error in function call: Function \"convert\" expects 2 arguments.",
            ));
        };
        let ty = Type::from_expr(ty).map_err(|why| EvalError::new(ty.span, why))?;
        let v = self.eval(value)?;
        ty.convert(v).map_err(|why| {
            EvalError::new(
                span,
                format!("Error in function call: Call to function \"convert\" failed: {why}."),
            )
        })
    }

    fn binary(&mut self, op: BinaryOp, lhs: &Expr, rhs: &Expr) -> Result<Value> {
        let a = self.eval(lhs)?;
        let b = self.eval(rhs)?;
        match op {
            BinaryOp::Or | BinaryOp::And => {
                let x = operand_bool(a, lhs.span)?;
                let y = operand_bool(b, rhs.span)?;
                Ok(Value::Bool(if op == BinaryOp::Or {
                    x || y
                } else {
                    x && y
                }))
            }
            BinaryOp::Eq => Ok(Value::Bool(a == b)),
            BinaryOp::NotEq => Ok(Value::Bool(a != b)),
            _ => {
                let x = operand_number(a, lhs.span)?;
                let y = operand_number(b, rhs.span)?;
                arithmetic(op, x, y, rhs.span)
            }
        }
    }
}

/// The root variable name of a static traversal (`name`, `name.a`,
/// `name["k"]`, `name[0]`, `name.0`): literal keys only, as HCL's parser
/// forms its scope traversals.
fn static_traversal_root(expr: &Expr) -> Option<&str> {
    match &expr.kind {
        ExprKind::Variable(ident) => Some(&ident.name),
        ExprKind::GetAttr(target, _) => static_traversal_root(target),
        ExprKind::Index(target, key) => {
            let literal_key = match &key.kind {
                ExprKind::Number(_) => true,
                ExprKind::Template(t) => t.as_literal().is_some(),
                _ => false,
            };
            if literal_key {
                static_traversal_root(target)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Nomad's text for an unknown reference at `span`: when the reference is
/// the whole content of a `${ ... }` (spaces allowed), that interpolation as
/// written; otherwise the reference wrapped in `${` `}`.
fn wrap_reference(src: &str, span: Span) -> String {
    let bytes = src.as_bytes();
    let start = span.start as usize;
    let end = span.end as usize;
    let reference = span.text(src);
    let mut i = start;
    let mut open = None;
    while i >= 2 {
        i -= 1;
        match bytes[i] {
            b'{' if bytes[i - 1] == b'$' => {
                open = Some(i - 1);
                break;
            }
            b' ' => continue,
            _ => break,
        }
    }
    let Some(open) = open else {
        return format!("${{{reference}}}");
    };
    let mut text = String::from(src.get(open..end).unwrap_or(reference));
    // Keep the spaces before the closing brace, as written.
    let mut j = end;
    while j < bytes.len() && bytes[j] == b' ' {
        j += 1;
    }
    if j < bytes.len() && bytes[j] == b'}' {
        text.push_str(src.get(end..j).unwrap_or_default());
    }
    text.push('}');
    text
}

fn template_string(v: Value, span: Span) -> Result<String> {
    match v {
        Value::Null => Err(EvalError::new(
            span,
            "Invalid template interpolation value: The expression result is null. Cannot include a null value in a string template.",
        )),
        Value::Tuple(_) | Value::Object(_) => Err(EvalError::new(
            span,
            format!("Invalid template interpolation value: Cannot include the given value in a string template: string required, but have {}.", v.type_name()),
        )),
        other => Ok(other.to_str().unwrap_or_default()),
    }
}

/// Iterates a collection as `for` does: tuples by index, objects by key.
fn iterate(coll: Value, span: Span) -> Result<Vec<(Value, Value)>> {
    match coll {
        Value::Tuple(items) => Ok(items
            .into_iter()
            .enumerate()
            .map(|(i, v)| (Value::from(i as i64), v))
            .collect()),
        Value::Object(map) => Ok(map
            .into_iter()
            .map(|(k, v)| (Value::String(k), v))
            .collect()),
        Value::Null => Err(EvalError::new(
            span,
            "Iteration over null value: A null value cannot be used as the collection in a 'for' expression.",
        )),
        other => Err(EvalError::new(
            span,
            format!("Iteration over non-iterable value: A value of type {} cannot be used as the collection in a 'for' expression.", other.type_name()),
        )),
    }
}

fn get_attr(v: Value, name: &str, span: Span) -> Result<Value> {
    match v {
        Value::Object(mut map) => map.remove(name).ok_or_else(|| {
            EvalError::new(
                span,
                format!("Unsupported attribute: This object does not have an attribute named \"{name}\"."),
            )
        }),
        Value::Null => Err(EvalError::new(
            span,
            "Attempt to get attribute from null value: This value is null, so it does not have any attributes.",
        )),
        other => Err(EvalError::new(
            span,
            format!("Unsupported attribute: Can't access attributes on a primitive-typed value ({}).", other.type_name()),
        )),
    }
}

fn index(v: Value, key: &Value, span: Span) -> Result<Value> {
    match v {
        Value::Tuple(mut items) => {
            let i = key
                .to_number()
                .and_then(Number::as_i64)
                .ok_or_else(|| {
                    EvalError::new(
                        span,
                        "Invalid index: The given key does not identify an element in this collection value: a number is required.",
                    )
                })?;
            if i < 0 || i as usize >= items.len() {
                return Err(EvalError::new(
                    span,
                    "Invalid index: The given key does not identify an element in this collection value.",
                ));
            }
            Ok(items.swap_remove(i as usize))
        }
        Value::Object(mut map) => {
            let k = key.to_str().ok_or_else(|| {
                EvalError::new(
                    span,
                    "Invalid index: The given key does not identify an element in this collection value: string required.",
                )
            })?;
            map.remove(&k).ok_or_else(|| {
                EvalError::new(
                    span,
                    "Invalid index: The given key does not identify an element in this collection value.",
                )
            })
        }
        Value::Null => Err(EvalError::new(
            span,
            "Attempt to index null value: This value is null, so it does not have any indices.",
        )),
        other => Err(EvalError::new(
            span,
            format!(
                "Invalid index: This value does not have any indices ({}).",
                other.type_name()
            ),
        )),
    }
}

fn unary(op: UnaryOp, v: Value, span: Span) -> Result<Value> {
    match op {
        UnaryOp::Not => Ok(Value::Bool(!operand_bool(v, span)?)),
        UnaryOp::Neg => Ok(Value::Number(match operand_number(v, span)? {
            Number::Int(i) => i
                .checked_neg()
                .map(Number::Int)
                .unwrap_or(Number::Float(-(i as f64))),
            Number::Float(f) => Number::Float(-f),
        })),
    }
}

fn operand_bool(v: Value, span: Span) -> Result<bool> {
    v.to_bool().ok_or_else(|| {
        EvalError::new(
            span,
            format!(
                "Invalid operand: Unsuitable value for operand: a bool is required, not {}.",
                v.type_name()
            ),
        )
    })
}

fn operand_number(v: Value, span: Span) -> Result<Number> {
    v.to_number().ok_or_else(|| {
        EvalError::new(
            span,
            format!(
                "Invalid operand: Unsuitable value for operand: a number is required, not {}.",
                v.type_name()
            ),
        )
    })
}

fn arithmetic(op: BinaryOp, x: Number, y: Number, span: Span) -> Result<Value> {
    use BinaryOp::*;
    let exact = match (op, x, y) {
        (Add, Number::Int(a), Number::Int(b)) => a.checked_add(b),
        (Sub, Number::Int(a), Number::Int(b)) => a.checked_sub(b),
        (Mul, Number::Int(a), Number::Int(b)) => a.checked_mul(b),
        _ => None,
    };
    if let Some(i) = exact {
        return Ok(Value::from(i));
    }
    let (a, b) = (x.as_f64(), y.as_f64());
    let result = match op {
        Add => Value::from(a + b),
        Sub => Value::from(a - b),
        Mul => Value::from(a * b),
        Div | Mod if b == 0.0 => {
            return Err(EvalError::new(span, "Division by zero."));
        }
        Div => Value::from(a / b),
        Mod => match (x, y) {
            (Number::Int(p), Number::Int(q)) => Value::from(p.wrapping_rem(q)),
            _ => Value::from(a % b),
        },
        Lt => Value::Bool(x < y),
        LtEq => Value::Bool(x <= y),
        Gt => Value::Bool(x > y),
        GtEq => Value::Bool(x >= y),
        Or | And | Eq | NotEq => unreachable!("handled by the caller"),
    };
    Ok(result)
}

/// Orders and de-duplicates values as a cty set does.
pub fn set_of(items: Vec<Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    for v in items {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out.sort_by(functions::cty_set_order);
    out
}
