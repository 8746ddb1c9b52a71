//! Input variables and locals of a job file, and where their values come
//! from: defaults, `NOMAD_VAR_*`, var files, `--var` (each later source wins).

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::Error;
use crate::eval::types::Type;
use crate::eval::Context;
use crate::syntax::{self, Attribute, Block, Body, Expr, Item, Span};
use crate::value::Value;

use super::Options;

/// Prefix of the environment variables that set job variables.
pub const ENV_PREFIX: &str = "NOMAD_VAR_";

/// The top-level blocks of a job file, sorted by kind.
pub struct TopLevel<'a> {
    pub variable_blocks: Vec<&'a Block>,
    pub variables_attrs: Vec<&'a Attribute>,
    pub locals: Vec<&'a Attribute>,
    pub job: &'a Block,
}

impl<'a> TopLevel<'a> {
    /// Sorts the file's top-level items, rejecting anything a job file may
    /// not hold at its top level.
    pub fn read(src: &str, body: &'a Body) -> Result<TopLevel<'a>, Error> {
        let mut variable_blocks = Vec::new();
        let mut variables_attrs = Vec::new();
        let mut locals: Vec<&Attribute> = Vec::new();
        let mut job: Option<&Block> = None;
        for item in &body.items {
            let block = match item {
                Item::Attribute(attr) => {
                    return Err(Error::at(
                        src,
                        attr.name.span.start as usize,
                        unsupported_argument(&attr.name.name),
                    ))
                }
                Item::Block(block) => block,
            };
            match block.ident.name.as_str() {
                "variable" => {
                    expect_labels(src, block, &["name"])?;
                    variable_blocks.push(block);
                }
                "variables" => {
                    expect_labels(src, block, &[])?;
                    variables_attrs.extend(just_attributes(src, &block.body)?);
                }
                "locals" => {
                    expect_labels(src, block, &[])?;
                    for attr in just_attributes(src, &block.body)? {
                        if locals.iter().any(|l| l.name.name == attr.name.name) {
                            return Err(Error::at(
                                src,
                                attr.name.span.start as usize,
                                format!(
                                    "Duplicate value in locals; Duplicate {} definition found.",
                                    attr.name.name
                                ),
                            ));
                        }
                        locals.push(attr);
                    }
                }
                "job" => {
                    expect_labels(src, block, &["name"])?;
                    if let Some(first) = job {
                        return Err(Error::at(
                            src,
                            block.span.start as usize,
                            format!(
                                "Duplicate job block; Only one block of type \"job\" is allowed. Previous definition was at {}.",
                                crate::Pos::at(src, first.span.start as usize)
                            ),
                        ));
                    }
                    job = Some(block);
                }
                other => {
                    return Err(Error::at(
                        src,
                        block.ident.span.start as usize,
                        unsupported_block(other),
                    ))
                }
            }
        }
        let job = job.ok_or_else(|| {
            Error::at(src, src.len(), "Missing job block; A job block is required")
        })?;
        Ok(TopLevel {
            variable_blocks,
            variables_attrs,
            locals,
            job,
        })
    }
}

/// Checks that `block` has exactly the labels named in `names`.
pub fn expect_labels(src: &str, block: &Block, names: &[&str]) -> Result<(), Error> {
    let spans: Vec<Span> = block.labels.iter().map(|l| l.span).collect();
    check_labels(src, &block.ident.name, block.ident.span, &spans, names)
}

/// Checks a block of type `kind` (written at `kind_span`) whose labels are
/// at `labels` against the label names it must have.
pub fn check_labels(
    src: &str,
    kind: &str,
    kind_span: Span,
    labels: &[Span],
    names: &[&str],
) -> Result<(), Error> {
    if let Some(extra) = labels.get(names.len()) {
        let detail = if names.is_empty() {
            format!("No labels are expected for {kind} blocks.")
        } else {
            format!(
                "Only {} labels ({}) are expected for {kind} blocks.",
                names.len(),
                names.join(", ")
            )
        };
        return Err(Error::at(
            src,
            extra.start as usize,
            format!("Extraneous label for {kind}; {detail}"),
        ));
    }
    if labels.len() < names.len() {
        let after = labels.last().map_or(kind_span.end, |l| l.end);
        return Err(Error::at(
            src,
            next_token(src, after as usize),
            format!(
                "Missing {} for {kind}; All {kind} blocks must have {} labels ({}).",
                names[labels.len()],
                names.len(),
                names.join(", ")
            ),
        ));
    }
    Ok(())
}

/// The offset of the first character after `from` that is not white space
/// (where HCL reports a missing label: the opening brace).
pub fn next_token(src: &str, from: usize) -> usize {
    let rest = src.get(from..).unwrap_or_default();
    from + (rest.len() - rest.trim_start().len())
}

/// The attributes of a body that may hold only attributes (no blocks, no
/// duplicates).
pub fn just_attributes<'a>(src: &str, body: &'a Body) -> Result<Vec<&'a Attribute>, Error> {
    let mut attrs: Vec<&Attribute> = Vec::new();
    for item in &body.items {
        match item {
            Item::Attribute(attr) => {
                if let Some(prev) = attrs.iter().find(|a| a.name.name == attr.name.name) {
                    return Err(duplicate_argument(src, attr, prev));
                }
                attrs.push(attr);
            }
            Item::Block(block) => {
                return Err(Error::at(
                    src,
                    block.ident.span.start as usize,
                    unexpected_block(&block.ident.name),
                ))
            }
        }
    }
    Ok(attrs)
}

/// The error for an argument set twice.
pub fn duplicate_argument(src: &str, attr: &Attribute, prev: &Attribute) -> Error {
    Error::at(
        src,
        attr.name.span.start as usize,
        format!(
            "Duplicate argument; The argument \"{}\" was already set at {}.",
            attr.name.name,
            crate::Pos::at(src, prev.name.span.start as usize)
        ),
    )
}

/// The message for an argument a body does not take, in Nomad's words
/// (every body that checks its arguments reports it alike).
pub fn unsupported_argument(name: &str) -> String {
    format!("Unsupported argument; An argument named \"{name}\" is not expected here.")
}

/// The message for a block of a type a body does not take, in Nomad's
/// words.
pub fn unsupported_block(kind: &str) -> String {
    format!("Unsupported block type; Blocks of type \"{kind}\" are not expected here.")
}

/// The message for a block in a body that may hold only attributes.
pub fn unexpected_block(kind: &str) -> String {
    format!("Unexpected \"{kind}\" block; Blocks are not allowed here.")
}

/// A declared input variable.
struct Variable<'a> {
    ty: Option<Type>,
    value: Option<Value>,
    validations: Vec<Validation<'a>>,
    /// Where it is declared, for "unset variable" errors.
    at: usize,
}

struct Validation<'a> {
    condition: &'a Expr,
    error_message: String,
    at: usize,
}

/// Declares the variables, assigns their values and evaluates the locals:
/// the result is the root scope of the job (`var` and `local`).
pub fn resolve(
    src: &str,
    top: &TopLevel<'_>,
    options: &Options,
    base_dir: &Path,
) -> Result<BTreeMap<String, Value>, Error> {
    let mut vars = declare(src, top)?;
    assign_from_env(&mut vars, &options.env)?;
    for path in &options.var_files {
        assign_from_file(&mut vars, path)?;
    }
    for (name, raw) in &options.vars {
        let var = vars.get_mut(name).ok_or_else(|| {
            Error::general(format!(
                "Undefined -var variable; A \"{name}\" variable was passed in the command line but was not found in known variables. To declare variable \"{name}\", place this block in your job file"
            ))
        })?;
        let what = format!("<value for var.{name} from arguments>");
        var.value = Some(value_from_text(var.ty.as_ref(), raw, &what, name)?);
    }

    let mut values = BTreeMap::new();
    for (name, var) in &vars {
        let Some(value) = &var.value else {
            return Err(Error::at(
                src,
                var.at,
                format!("Unset variable \"{name}\"; A used variable must be set or have a default value; see https://www.nomadproject.io/docs/job-specification/hcl2/variables for details."),
            ));
        };
        validate(src, name, value, &var.validations)?;
        values.insert(name.clone(), value.clone());
    }

    let mut root = BTreeMap::new();
    root.insert("var".to_owned(), Value::Object(values));
    root.insert("local".to_owned(), Value::Object(BTreeMap::new()));
    evaluate_locals(src, &top.locals, &mut root, base_dir)?;
    Ok(root)
}

fn declare<'a>(src: &str, top: &TopLevel<'a>) -> Result<BTreeMap<String, Variable<'a>>, Error> {
    let constant = Context::constant(src);
    let mut vars: BTreeMap<String, Variable<'a>> = BTreeMap::new();
    let duplicate = |name: &str, at: usize| {
        Error::at(
            src,
            at,
            format!("Duplicate variable; Duplicate {name} variable definition found."),
        )
    };
    for attr in &top.variables_attrs {
        let name = &attr.name.name;
        if vars.contains_key(name) {
            return Err(duplicate(name, attr.name.span.start as usize));
        }
        let value = constant.eval(&attr.expr).map_err(|e| e.into_error(src))?;
        vars.insert(
            name.clone(),
            Variable {
                ty: None,
                value: Some(value),
                validations: Vec::new(),
                at: attr.span.start as usize,
            },
        );
    }
    for block in &top.variable_blocks {
        let label = &block.labels[0];
        let name = &label.value;
        if vars.contains_key(name) {
            return Err(duplicate(name, block.span.start as usize));
        }
        if !is_identifier(name) {
            return Err(Error::at(
                src,
                label.span.start as usize,
                "Invalid variable name; A name must start with a letter or underscore and may contain only letters, digits, underscores, and dashes.",
            ));
        }
        let var = declare_block(src, block, name)?;
        vars.insert(name.clone(), var);
    }
    Ok(vars)
}

fn declare_block<'a>(src: &str, block: &'a Block, name: &str) -> Result<Variable<'a>, Error> {
    let constant = Context::constant(src);
    let mut var = Variable {
        ty: None,
        value: None,
        validations: Vec::new(),
        at: block.span.start as usize,
    };
    let mut default = None;
    let mut seen: Vec<&Attribute> = Vec::new();
    for item in &block.body.items {
        match item {
            Item::Attribute(attr) => {
                if let Some(prev) = seen.iter().find(|a| a.name.name == attr.name.name) {
                    return Err(duplicate_argument(src, attr, prev));
                }
                seen.push(attr);
                match attr.name.name.as_str() {
                    "description" => {
                        constant.eval(&attr.expr).map_err(|e| e.into_error(src))?;
                    }
                    "type" => {
                        var.ty =
                            Some(Type::from_expr(&attr.expr).map_err(|why| {
                                Error::at(src, attr.expr.span.start as usize, why)
                            })?);
                    }
                    "default" => default = Some(attr),
                    other => {
                        return Err(Error::at(
                            src,
                            attr.name.span.start as usize,
                            unsupported_argument(other),
                        ))
                    }
                }
            }
            Item::Block(b) if b.ident.name == "validation" => {
                var.validations.push(read_validation(src, b, name)?);
            }
            Item::Block(b) => {
                return Err(Error::at(
                    src,
                    b.ident.span.start as usize,
                    unsupported_block(&b.ident.name),
                ))
            }
        }
    }
    if let Some(attr) = default {
        let value = constant.eval(&attr.expr).map_err(|e| e.into_error(src))?;
        let value = match &var.ty {
            Some(ty) => ty.convert(value).map_err(|why| {
                Error::at(
                    src,
                    attr.expr.span.start as usize,
                    format!("Invalid default value for variable; This default value is not compatible with the variable's type constraint: {why}."),
                )
            })?,
            None => value,
        };
        var.value = Some(value);
    }
    Ok(var)
}

fn read_validation<'a>(
    src: &str,
    block: &'a Block,
    var_name: &str,
) -> Result<Validation<'a>, Error> {
    let attrs = just_attributes(src, &block.body)?;
    let find = |name: &str| {
        attrs.iter().find(|a| a.name.name == name).ok_or_else(|| {
            Error::at(
                src,
                block.span.start as usize,
                format!("Missing required argument; The argument \"{name}\" is required, but no definition was found."),
            )
        })
    };
    let condition = find("condition")?;
    let message_attr = find("error_message")?;
    if !refers_to_var(&condition.expr, var_name) {
        return Err(Error::at(
            src,
            condition.expr.span.start as usize,
            format!("Invalid variable validation condition; The condition for variable \"{var_name}\" must refer to var.{var_name} in order to test incoming values."),
        ));
    }
    let message = Context::constant(src)
        .eval(&message_attr.expr)
        .map_err(|e| e.into_error(src))?
        .to_str()
        .unwrap_or_default();
    if message.is_empty() {
        return Err(Error::at(
            src,
            message_attr.expr.span.start as usize,
            "Invalid validation error message; An empty string is not a valid nor useful error message.",
        ));
    }
    Ok(Validation {
        condition: &condition.expr,
        error_message: message,
        at: block.span.start as usize,
    })
}

/// Whether `expr` mentions `var.<name>` somewhere (a cheap textual check
/// over the expression's own tree).
fn refers_to_var(expr: &Expr, name: &str) -> bool {
    let mut found = false;
    syntax::visit_exprs(expr, &mut |e| {
        if let syntax::ExprKind::GetAttr(target, attr) = &e.kind {
            if matches!(&target.kind, syntax::ExprKind::Variable(v) if v.name == "var")
                && attr.name == name
            {
                found = true;
            }
        }
    });
    found
}

fn validate(
    src: &str,
    name: &str,
    value: &Value,
    validations: &[Validation<'_>],
) -> Result<(), Error> {
    if validations.is_empty() {
        return Ok(());
    }
    let mut scope = BTreeMap::new();
    scope.insert(
        "var".to_owned(),
        Value::Object(BTreeMap::from([(name.to_owned(), value.clone())])),
    );
    let ctx = Context {
        vars: Some(&scope),
        functions: true,
        ..Context::constant(src)
    };
    for v in validations {
        let result = ctx.eval(v.condition).map_err(|e| e.into_error(src))?;
        match result.to_bool() {
            Some(true) => {}
            Some(false) => {
                return Err(Error::at(
                    src,
                    v.at,
                    format!("Invalid value for variable \"{name}\"; {}", v.error_message),
                ))
            }
            None => {
                return Err(Error::at(
                    src,
                    v.condition.span.start as usize,
                    "Invalid variable validation result; Validation condition expression must return either true or false.",
                ))
            }
        }
    }
    Ok(())
}

fn assign_from_env(vars: &mut BTreeMap<String, Variable<'_>>, env: &[String]) -> Result<(), Error> {
    for entry in env {
        let Some(rest) = entry.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let Some((name, raw)) = rest.split_once('=') else {
            continue;
        };
        // Nomad ignores environment values of variables the job does not declare.
        if let Some(var) = vars.get_mut(name) {
            let what = format!("<value for var.{name} from env>");
            var.value = Some(value_from_text(var.ty.as_ref(), raw, &what, name)?);
        }
    }
    Ok(())
}

/// A value given as text (`--var`, `NOMAD_VAR_*`): taken as a string for
/// string, number and untyped variables, read as an HCL expression for the
/// others; then converted to the variable's type.
fn value_from_text(ty: Option<&Type>, raw: &str, what: &str, name: &str) -> Result<Value, Error> {
    let value = match ty {
        None | Some(Type::String) | Some(Type::Number) => Value::from(raw),
        Some(_) => {
            let expr = syntax::parse_expr(raw).map_err(|e| e.in_file(what))?;
            Context::constant(raw)
                .eval(&expr)
                .map_err(|e| e.into_error(raw).in_file(what))?
        }
    };
    match ty {
        Some(ty) => ty.convert(value).map_err(|why| {
            Error::general(format!(
                "Invalid value for variable; The value for {name} is not compatible with the variable's type constraint: {why}."
            ))
            .in_file(what)
        }),
        None => Ok(value),
    }
}

fn assign_from_file(vars: &mut BTreeMap<String, Variable<'_>>, path: &Path) -> Result<(), Error> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::general(format!("Failed to read file; failed to read {file:?}: {e}"))
    })?;
    for (name, value, at) in var_file_values(&text).map_err(|e| e.in_file(&file))? {
        let var = vars.get_mut(&name).ok_or_else(|| {
            Error::at(
                &text,
                at,
                format!("Undefined variable; A \"{name}\" variable was set but was not found in known variables. To declare variable \"{name}\", place this block in your job files"),
            )
            .in_file(&file)
        })?;
        let value = match &var.ty {
            Some(ty) => ty.convert(value).map_err(|why| {
                Error::at(
                    &text,
                    at,
                    format!("Invalid value for variable; The value for {name} is not compatible with the variable's type constraint: {why}."),
                )
                .in_file(&file)
            })?,
            None => value,
        };
        var.value = Some(value);
    }
    Ok(())
}

/// The assignments of a var file, HCL or JSON (told apart as Nomad does: a
/// file whose first non-space character is `{` is JSON).
fn var_file_values(text: &str) -> Result<Vec<(String, Value, usize)>, Error> {
    if text.trim_start_matches(' ').starts_with('{') {
        let json: serde_json::Value = serde_json::from_str(text).map_err(|e| Error {
            file: None,
            pos: Some(crate::Pos {
                line: e.line(),
                column: e.column(),
            }),
            message: format!("Invalid JSON; {e}"),
        })?;
        let serde_json::Value::Object(map) = json else {
            return Err(Error::at(
                text,
                0,
                "Invalid JSON; the root of a var file must be an object",
            ));
        };
        return Ok(map
            .iter()
            .map(|(k, v)| (k.clone(), Value::from_json(v), 0))
            .collect());
    }
    let body = syntax::parse_body(text)?;
    let mut out = Vec::new();
    for item in &body.items {
        match item {
            Item::Block(b) if b.ident.name == "variable" => {
                return Err(Error::at(
                    text,
                    b.ident.span.start as usize,
                    "Variable declaration in a .var file; A .var file is used to assign values to variables that have already been declared in job files, not to declare new variables.",
                ))
            }
            _ => {}
        }
    }
    for attr in just_attributes(text, &body)? {
        let value = Context::constant(text)
            .eval(&attr.expr)
            .map_err(|e| e.into_error(text))?;
        out.push((attr.name.name.clone(), value, attr.span.start as usize));
    }
    Ok(out)
}

/// Evaluates locals in any order they can be: one that refers to a local
/// not yet known is retried after the others, as Nomad does.
fn evaluate_locals(
    src: &str,
    locals: &[&Attribute],
    root: &mut BTreeMap<String, Value>,
    base_dir: &Path,
) -> Result<(), Error> {
    let mut pending: Vec<&Attribute> = locals.to_vec();
    while !pending.is_empty() {
        let mut progressed = false;
        let mut last_error = None;
        let mut still = Vec::new();
        for attr in pending {
            let ctx = Context {
                vars: Some(root),
                functions: true,
                keep_unknown: true,
                base_dir,
                ..Context::constant(src)
            };
            match ctx.eval(&attr.expr) {
                Ok(value) => {
                    if let Some(Value::Object(locals)) = root.get_mut("local") {
                        locals.insert(attr.name.name.clone(), value);
                    }
                    progressed = true;
                }
                Err(e) => {
                    last_error = Some(e);
                    still.push(attr);
                }
            }
        }
        if !progressed {
            if let Some(e) = last_error {
                return Err(e.into_error(src));
            }
        }
        pending = still;
    }
    Ok(())
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}
