//! Decoding the `job` block against the API structs of [`super::schema`].
//!
//! Decoding happens in two passes. The first reads the job file into
//! "sparse" JSON objects that hold only what the file sets, so the special
//! rules of Nomad's parser (defaults, shorthands, inheritance) can tell set
//! from unset. The second, [`write_struct`], lays every struct out the way Go
//! prints it: all fields in declaration order, unset ones as zero values or
//! `null`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;

use serde_json::{Map, Value as Json};

use super::normalize;
use super::schema::{self, Field, Hcl, Struct, Ty};
use super::variables::{
    check_labels, duplicate_argument, expect_labels, unexpected_block, unsupported_argument,
    unsupported_block, TopLevel,
};
use crate::error::{Error, Pos};
use crate::eval::functions::parse_go_duration;
use crate::eval::Context;
use crate::json_writer::JsonWriter;
use crate::syntax::{Attribute, Block, Body, Expr, ExprKind, Item, Span};
use crate::value::{Number, Value};

type Vars = Rc<BTreeMap<String, Value>>;

/// Everything expressions of the job may refer to.
pub struct Scope<'s> {
    src: &'s str,
    base_dir: PathBuf,
    root: Vars,
}

impl<'s> Scope<'s> {
    /// The scope of the job file `src` with the root variables `root`.
    pub fn new(src: &'s str, base_dir: PathBuf, root: BTreeMap<String, Value>) -> Scope<'s> {
        Scope {
            src,
            base_dir,
            root: Rc::new(root),
        }
    }

    fn err(&self, at: u32, message: impl Into<String>) -> Error {
        Error::at(self.src, at as usize, message)
    }

    fn eval(&self, expr: &Expr, vars: &Vars) -> Result<Value, Error> {
        Context {
            src: self.src,
            vars: Some(vars),
            functions: true,
            base_dir: &self.base_dir,
            keep_unknown: true,
        }
        .eval(expr)
        .map_err(|e| e.into_error(self.src))
    }
}

/// A body together with the variables visible in it (dynamic blocks add
/// their iterator).
#[derive(Clone)]
struct BodyRef<'a> {
    body: &'a Body,
    vars: Vars,
}

/// A block after `dynamic` blocks were expanded.
struct BlockRef<'a> {
    kind: &'a str,
    kind_span: Span,
    labels: Vec<(String, Span)>,
    body: BodyRef<'a>,
    span: Span,
}

/// An attribute with the variables visible where it is.
struct AttrRef<'a> {
    attr: &'a Attribute,
    vars: Vars,
}

/// The attributes and blocks of a body, blocks with `dynamic` expanded.
struct Content<'a> {
    attrs: Vec<AttrRef<'a>>,
    blocks: Vec<BlockRef<'a>>,
}

impl<'a> Content<'a> {
    fn take_attr(&mut self, name: &str) -> Option<AttrRef<'a>> {
        let i = self.attrs.iter().position(|a| a.attr.name.name == name)?;
        Some(self.attrs.remove(i))
    }
}

/// Decodes the job block and writes it as `nomad job run -output` prints
/// it. Groups are decoded, normalised and written one at a time, so a job
/// of thousands of groups never holds them all in decoded form.
pub fn write_job(scope: &Scope<'_>, top: &TopLevel<'_>, w: &mut JsonWriter) -> Result<(), Error> {
    let block = top.job;
    let body = BodyRef {
        body: &block.body,
        vars: scope.root.clone(),
    };
    let mut content = scope.content(&body)?;
    let meta = scope.take_map_attribute(&mut content, "meta")?;
    let vault = scope.take_single_block(&mut content, "vault")?;
    let tasks = take_blocks(&mut content, "task");
    let groups = take_blocks(&mut content, "group");

    let mut job = scope.decode_content(&schema::JOB, content)?;
    if let Some(meta) = meta {
        job.insert("Meta".into(), meta);
    }
    normalize::job_fields(&mut job, &block.labels[0].value);
    let job_vault = match vault {
        Some(b) => {
            let mut v = scope.decode_struct(&schema::VAULT, &b)?;
            normalize::vault(&mut v);
            Some(v)
        }
        None => None,
    };
    let mut task_groups = Vec::with_capacity(tasks.len());
    for t in &tasks {
        expect_block_labels(scope, t, &["name"])?;
        task_groups.push(normalize::task_as_group(scope.decode_task(t)?));
    }

    w.object_start();
    for field in schema::JOB.fields {
        if field.json != "TaskGroups" || (task_groups.is_empty() && groups.is_empty()) {
            write_field(field, &job, w);
            continue;
        }
        w.key(field.json);
        w.array_start();
        for mut group in task_groups.drain(..) {
            normalize::group(&mut group, job_vault.as_ref());
            write_struct(&schema::TASK_GROUP, &group, w);
        }
        for b in &groups {
            let mut group = scope.decode_struct(&schema::TASK_GROUP, b)?;
            normalize::group(&mut group, job_vault.as_ref());
            write_struct(&schema::TASK_GROUP, &group, w);
        }
        w.end_array();
    }
    w.end_object();
    Ok(())
}

fn take_blocks<'a>(content: &mut Content<'a>, kind: &str) -> Vec<BlockRef<'a>> {
    let (taken, kept) = std::mem::take(&mut content.blocks)
        .into_iter()
        .partition(|b| b.kind == kind);
    content.blocks = kept;
    taken
}

fn expect_block_labels(
    scope: &Scope<'_>,
    block: &BlockRef<'_>,
    names: &[&str],
) -> Result<(), Error> {
    let spans: Vec<Span> = block.labels.iter().map(|(_, s)| *s).collect();
    check_labels(scope.src, block.kind, block.kind_span, &spans, names)
}

impl<'s> Scope<'s> {
    /// Sorts a body into attributes and blocks, checking for duplicate
    /// attributes and expanding `dynamic` blocks.
    fn content<'a>(&self, body: &BodyRef<'a>) -> Result<Content<'a>, Error> {
        let mut content = Content {
            attrs: Vec::new(),
            blocks: Vec::new(),
        };
        for item in &body.body.items {
            match item {
                Item::Attribute(attr) => {
                    if let Some(prev) = content
                        .attrs
                        .iter()
                        .find(|a| a.attr.name.name == attr.name.name)
                    {
                        return Err(duplicate_argument(self.src, attr, prev.attr));
                    }
                    content.attrs.push(AttrRef {
                        attr,
                        vars: body.vars.clone(),
                    });
                }
                Item::Block(block) if block.ident.name == "dynamic" => {
                    self.expand_dynamic(block, &body.vars, &mut content.blocks)?;
                }
                Item::Block(block) => content.blocks.push(BlockRef {
                    kind: &block.ident.name,
                    kind_span: block.ident.span,
                    labels: block
                        .labels
                        .iter()
                        .map(|l| (l.value.clone(), l.span))
                        .collect(),
                    body: BodyRef {
                        body: &block.body,
                        vars: body.vars.clone(),
                    },
                    span: block.span,
                }),
            }
        }
        Ok(content)
    }

    /// Expands `dynamic "kind" { for_each, iterator, labels, content {} }`
    /// into one `kind` block per element of `for_each`.
    fn expand_dynamic<'a>(
        &self,
        block: &'a Block,
        vars: &Vars,
        out: &mut Vec<BlockRef<'a>>,
    ) -> Result<(), Error> {
        expect_labels(self.src, block, &["type"])?;
        let kind = &block.labels[0].value;
        let mut for_each = None;
        let mut iterator = None;
        let mut labels = None;
        let mut body = None;
        for item in &block.body.items {
            match item {
                Item::Attribute(a) => match a.name.name.as_str() {
                    "for_each" => for_each = Some(a),
                    "iterator" => iterator = Some(a),
                    "labels" => labels = Some(a),
                    other => return Err(self.err(a.name.span.start, unsupported_argument(other))),
                },
                Item::Block(b) if b.ident.name == "content" => {
                    if body.is_some() {
                        return Err(self.err(
                            b.span.start,
                            "Duplicate content block; Only one content block is allowed in a dynamic block.",
                        ));
                    }
                    body = Some(b);
                }
                Item::Block(b) => {
                    return Err(self.err(b.ident.span.start, unsupported_block(&b.ident.name)))
                }
            }
        }
        let for_each = for_each.ok_or_else(|| {
            self.err(block.span.start, "Missing required argument; The argument \"for_each\" is required, but no definition was found.")
        })?;
        let content = body.ok_or_else(|| {
            self.err(block.span.start, "Missing content block; A dynamic block must have a nested block of type \"content\" to describe the body of each generated block.")
        })?;
        let iter_name = match iterator {
            Some(a) => match &a.expr.kind {
                ExprKind::Variable(ident) => ident.name.clone(),
                _ => {
                    return Err(self.err(
                        a.expr.span.start,
                        "Invalid dynamic iterator name; Dynamic iterator must be a single variable name.",
                    ))
                }
            },
            None => kind.clone(),
        };
        let collection = self.eval(&for_each.expr, vars)?;
        let elements: Vec<(Value, Value)> = match collection {
            Value::Tuple(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Value::from(i as i64), v))
                .collect(),
            Value::Object(map) => map.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
            Value::Null => {
                return Err(self.err(
                    for_each.expr.span.start,
                    "Invalid dynamic for_each value; Cannot use a null value in for_each.",
                ))
            }
            other => {
                return Err(self.err(
                    for_each.expr.span.start,
                    format!("Invalid dynamic for_each value; Cannot use a {} value in for_each. An iterable collection is required.", other.type_name()),
                ))
            }
        };
        for (key, value) in elements {
            let mut scope = (**vars).clone();
            scope.insert(
                iter_name.clone(),
                Value::Object(BTreeMap::from([
                    ("key".to_owned(), key),
                    ("value".to_owned(), value),
                ])),
            );
            let scope: Vars = Rc::new(scope);
            let block_labels = match labels {
                Some(a) => self.dynamic_labels(a, &scope)?,
                None => Vec::new(),
            };
            out.push(BlockRef {
                kind,
                kind_span: block.labels[0].span,
                labels: block_labels,
                body: BodyRef {
                    body: &content.body,
                    vars: scope,
                },
                span: content.span,
            });
        }
        Ok(())
    }

    fn dynamic_labels(&self, attr: &Attribute, vars: &Vars) -> Result<Vec<(String, Span)>, Error> {
        let invalid = || {
            self.err(
                attr.expr.span.start,
                "Invalid dynamic block label; Cannot use this value as a dynamic block label: a list of strings is required.",
            )
        };
        match self.eval(&attr.expr, vars)? {
            Value::Tuple(items) => items
                .into_iter()
                .map(|v| v.to_str().map(|s| (s, attr.expr.span)).ok_or_else(invalid))
                .collect(),
            _ => Err(invalid()),
        }
    }

    /// Decodes a block into the sparse form of `st`, with its labels.
    fn decode_struct(
        &self,
        st: &'static Struct,
        block: &BlockRef<'_>,
    ) -> Result<Map<String, Json>, Error> {
        match st.name {
            "Constraint" => return self.decode_constraint(block, false),
            "Affinity" => return self.decode_constraint(block, true),
            "TaskGroup" => return self.decode_group(block),
            "Task" => return self.decode_task(block),
            _ => {}
        }
        let label_fields: Vec<&Field> = st.fields.iter().filter(|f| f.hcl == Hcl::Label).collect();
        let names: Vec<&str> = label_fields.iter().map(|_| "name").collect();
        expect_block_labels(self, block, &names)?;
        let content = self.content(&block.body)?;
        let mut out = self.decode_content(st, content)?;
        for (field, (label, _)) in label_fields.iter().zip(&block.labels) {
            out.insert(field.json.into(), Json::String(label.clone()));
        }
        Ok(out)
    }

    /// Decodes the attributes and blocks of a body into the sparse form of
    /// `st`, rejecting anything `st` has no field for.
    fn decode_content(
        &self,
        st: &'static Struct,
        content: Content<'_>,
    ) -> Result<Map<String, Json>, Error> {
        let mut out = Map::new();
        for a in &content.attrs {
            let name = &a.attr.name.name;
            let field = match st.field_for(name) {
                Some(
                    f @ Field {
                        hcl: Hcl::Attr(_) | Hcl::Required(_),
                        ..
                    },
                ) => f,
                Some(_) => {
                    return Err(self.err(
                        a.attr.name.span.start,
                        format!(
                            "{} Did you mean to define a block of type \"{name}\"?",
                            unsupported_argument(name)
                        ),
                    ))
                }
                None => return Err(self.err(a.attr.name.span.start, unsupported_argument(name))),
            };
            if let Some(v) = self.decode_attr(field, &a.attr.expr, &a.vars)? {
                out.insert(field.json.into(), v);
            }
        }
        let mut by_field: Vec<(&'static Field, Vec<&BlockRef<'_>>)> = Vec::new();
        for b in &content.blocks {
            let field = match st.field_for(b.kind) {
                Some(f @ Field { hcl: Hcl::Block(_), .. }) => f,
                Some(_) => {
                    return Err(self.err(
                        b.kind_span.start,
                        format!(
                            "{} Did you mean to define argument \"{}\"? If so, use the equals sign to assign it a value.",
                            unsupported_block(b.kind),
                            b.kind
                        ),
                    ))
                }
                None => {
                    return Err(self.err(
                        b.kind_span.start,
                        unsupported_block(b.kind),
                    ))
                }
            };
            match by_field.iter_mut().find(|(f, _)| std::ptr::eq(*f, field)) {
                Some((_, list)) => list.push(b),
                None => by_field.push((field, vec![b])),
            }
        }
        for (field, blocks) in by_field {
            out.insert(field.json.into(), self.decode_blocks(field, &blocks)?);
        }
        for field in st.fields {
            if let Hcl::Required(name) = field.hcl {
                if !out.contains_key(field.json)
                    && !content.attrs.iter().any(|a| a.attr.name.name == name)
                {
                    return Err(self.err(
                        content_start(&content),
                        format!("Missing required argument; The argument \"{name}\" is required, but no definition was found."),
                    ));
                }
            }
        }
        Ok(out)
    }

    fn decode_blocks(
        &self,
        field: &'static Field,
        blocks: &[&BlockRef<'_>],
    ) -> Result<Json, Error> {
        match field.ty.pointee() {
            Ty::Slice(elem) => {
                let Ty::Struct(st) = elem.pointee() else {
                    return Err(self.err(
                        blocks[0].span.start,
                        "internal: unsupported block list type",
                    ));
                };
                let items = blocks
                    .iter()
                    .map(|b| self.decode_struct(st, b).map(Json::Object))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Json::Array(items))
            }
            Ty::Map(elem) if matches!(elem.pointee(), Ty::Struct(_)) => {
                let Ty::Struct(st) = elem.pointee() else {
                    unreachable!("checked by the guard")
                };
                let mut map = Map::new();
                for b in blocks {
                    let decoded = self.decode_struct(st, b)?;
                    let key = b.labels.first().map(|(l, _)| l.clone()).unwrap_or_default();
                    map.insert(key, Json::Object(decoded));
                }
                Ok(Json::Object(map))
            }
            ty => {
                let block = self.single(blocks)?;
                match ty {
                    Ty::Struct(st) => Ok(Json::Object(self.decode_struct(st, block)?)),
                    Ty::Map(elem) => {
                        expect_block_labels(self, block, &[])?;
                        self.decode_map_block(elem, &block.body)
                    }
                    _ => Err(self.err(block.span.start, "internal: unsupported block type")),
                }
            }
        }
    }

    /// The one block of a kind that may appear once.
    fn single<'b, 'a>(&self, blocks: &[&'b BlockRef<'a>]) -> Result<&'b BlockRef<'a>, Error> {
        if let [_, second, ..] = blocks {
            return Err(self.err(
                second.span.start,
                format!(
                    "Duplicate {} block; Only one {} block is allowed. Another was defined at {}.",
                    second.kind,
                    second.kind,
                    Pos::at(self.src, blocks[0].span.start as usize)
                ),
            ));
        }
        Ok(blocks[0])
    }

    /// A block that holds a map: `meta { k = "v" }`, `config { ... }`,
    /// `header { Name = ["v"] }`.
    fn decode_map_block(&self, elem: &'static Ty, body: &BodyRef<'_>) -> Result<Json, Error> {
        if matches!(elem, Ty::Any) {
            // Free-form maps (driver config, scaling policy) read nested
            // blocks as lists of objects, as Nomad's parser does.
            let value = self.blocks_as_attrs(body.body, &body.vars)?;
            return Ok(value.to_json());
        }
        let mut map = Map::new();
        let mut seen: Vec<&Attribute> = Vec::new();
        for item in &body.body.items {
            match item {
                Item::Attribute(attr) => {
                    if let Some(prev) = seen.iter().find(|a| a.name.name == attr.name.name) {
                        return Err(duplicate_argument(self.src, attr, prev));
                    }
                    seen.push(attr);
                    let value = self.eval(&attr.expr, &body.vars)?;
                    let converted = self.convert(elem, value, &attr.expr)?;
                    map.insert(attr.name.name.clone(), converted.unwrap_or(Json::Null));
                }
                Item::Block(b) => {
                    return Err(self.err(b.ident.span.start, unexpected_block(&b.ident.name)))
                }
            }
        }
        sort_keys(&mut map);
        Ok(Json::Object(map))
    }

    /// Evaluates a free-form body: attributes as they are (an object
    /// literal wrapped in a one-element list), blocks of one type as a list
    /// of objects, labels as nested objects.
    fn blocks_as_attrs(&self, body: &Body, vars: &Vars) -> Result<Value, Error> {
        let mut map = BTreeMap::new();
        let mut block_groups: Vec<(&str, Vec<&Block>)> = Vec::new();
        for item in &body.items {
            match item {
                Item::Attribute(attr) => {
                    let value = self.eval(&attr.expr, vars)?;
                    let value = match attr.expr.kind {
                        ExprKind::Object(_) => Value::Tuple(vec![value]),
                        _ => value,
                    };
                    map.insert(attr.name.name.clone(), value);
                }
                Item::Block(b) => match block_groups.iter_mut().find(|(k, _)| *k == b.ident.name) {
                    Some((_, list)) => list.push(b),
                    None => block_groups.push((&b.ident.name, vec![b])),
                },
            }
        }
        for (kind, blocks) in block_groups {
            let items = blocks
                .iter()
                .map(|b| self.block_as_value(b, vars))
                .collect::<Result<Vec<_>, _>>()?;
            map.insert(kind.to_owned(), Value::Tuple(items));
        }
        Ok(Value::Object(map))
    }

    fn block_as_value(&self, block: &Block, vars: &Vars) -> Result<Value, Error> {
        let mut value = self.blocks_as_attrs(&block.body, vars)?;
        for label in block.labels.iter().rev() {
            value = Value::Object(BTreeMap::from([(
                label.value.clone(),
                Value::Tuple(vec![value]),
            )]));
        }
        Ok(value)
    }

    /// Decodes an attribute into the JSON of `field`; `None` when the value
    /// is null (the field stays unset).
    fn decode_attr(
        &self,
        field: &'static Field,
        expr: &Expr,
        vars: &Vars,
    ) -> Result<Option<Json>, Error> {
        let value = self.eval(expr, vars)?;
        self.convert(&field.ty, value, expr)
    }

    /// Converts a value to a Go type, as gohcl does.
    fn convert(&self, ty: &'static Ty, value: Value, expr: &Expr) -> Result<Option<Json>, Error> {
        if value.is_null() {
            return Ok(None);
        }
        let unsuitable = |why: &str| {
            self.err(
                expr.span.start,
                format!("Unsuitable value type; Unsuitable value: {why}"),
            )
        };
        let json = match ty.pointee() {
            Ty::Str => Json::String(
                value
                    .to_str()
                    .ok_or_else(|| unsuitable("string required"))?,
            ),
            Ty::Bool => Json::Bool(value.to_bool().ok_or_else(|| unsuitable("bool required"))?),
            Ty::Float => value
                .to_number()
                .ok_or_else(|| unsuitable("number required"))?
                .to_json(),
            Ty::Int | Ty::Uint | Ty::I8 | Ty::U8 => {
                let n = value
                    .to_number()
                    .ok_or_else(|| unsuitable("number required"))?;
                Json::from(whole_number(ty.pointee(), n).map_err(|why| unsuitable(&why))?)
            }
            Ty::Duration => Json::from(self.duration(value, expr)?),
            Ty::Any => value.to_json(),
            Ty::Slice(elem) => {
                let Value::Tuple(items) = value else {
                    return Err(unsuitable(&format!(
                        "list of {} required",
                        go_type_name(elem)
                    )));
                };
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.convert(elem, item, expr)?.unwrap_or(Json::Null));
                }
                Json::Array(out)
            }
            Ty::Map(elem) => {
                let Value::Object(map) = value else {
                    return Err(unsuitable(&format!(
                        "map of {} required",
                        go_type_name(elem)
                    )));
                };
                let mut out = Map::new();
                for (k, v) in map {
                    out.insert(k, self.convert(elem, v, expr)?.unwrap_or(Json::Null));
                }
                Json::Object(out)
            }
            Ty::Struct(_) | Ty::Bytes | Ty::Ptr(_) => return Err(unsuitable("unsupported type")),
        };
        Ok(Some(json))
    }

    /// A `time.Duration`: a Go duration string or a number of nanoseconds.
    fn duration(&self, value: Value, expr: &Expr) -> Result<i64, Error> {
        let unsuitable =
            |why: String| self.err(expr.span.start, format!("Unsuitable value type; {why}"));
        match value {
            Value::String(s) => parse_go_duration(&s)
                .map_err(|why| unsuitable(format!("Unsuitable duration value: {why}"))),
            Value::Number(n) => n
                .as_i64()
                .ok_or_else(|| unsuitable("Unsuitable value: value must be a whole number".into())),
            other => Err(unsuitable(format!(
                "Unsuitable value: expected a string but found {}",
                other.type_name()
            ))),
        }
    }

    /// `meta = { ... }` (or `env = {...}`): the attribute form of a map
    /// block; `None` when the body uses the block form or neither.
    fn take_map_attribute(
        &self,
        content: &mut Content<'_>,
        name: &str,
    ) -> Result<Option<Json>, Error> {
        let Some(attr) = content.take_attr(name) else {
            return Ok(None);
        };
        if let Some(block) = content.blocks.iter().find(|b| b.kind == name) {
            return Err(self.err(
                block.span.start,
                format!(
                    "Duplicate {name} block; {name} may not be defined more than once. Another definition is defined at {}.",
                    Pos::at(self.src, attr.attr.span.start as usize)
                ),
            ));
        }
        let value = self.eval(&attr.attr.expr, &attr.vars)?;
        let json = self.convert(&Ty::Map(&Ty::Str), value, &attr.attr.expr)?;
        Ok(Some(json.unwrap_or_else(|| Json::Object(Map::new()))))
    }

    /// Removes the blocks of `kind` from `content`, allowing at most one.
    fn take_single_block<'a>(
        &self,
        content: &mut Content<'a>,
        kind: &str,
    ) -> Result<Option<BlockRef<'a>>, Error> {
        let mut blocks = take_blocks(content, kind);
        if blocks.len() > 1 {
            let refs: Vec<&BlockRef<'_>> = blocks.iter().collect();
            self.single(&refs)?;
        }
        Ok(blocks.pop())
    }

    fn decode_group(&self, block: &BlockRef<'_>) -> Result<Map<String, Json>, Error> {
        expect_block_labels(self, block, &["name"])?;
        let mut content = self.content(&block.body)?;
        let meta = self.take_map_attribute(&mut content, "meta")?;
        let vault = self.take_single_block(&mut content, "vault")?;
        let scaling_start = content
            .blocks
            .iter()
            .find(|b| b.kind == "scaling")
            .map(|b| (b.span.start, b.body.clone()));
        let mut group = self.decode_content(&schema::TASK_GROUP, content)?;
        group.insert("Name".into(), Json::String(block.labels[0].0.clone()));
        if let Some(meta) = meta {
            group.insert("Meta".into(), meta);
        }
        if let Some(vault) = vault {
            let vault = self.decode_struct(&schema::VAULT, &vault)?;
            normalize::inherit_vault(&mut group, vault);
        }
        if let (Some(Json::Object(scaling)), Some((at, body))) =
            (group.get_mut("Scaling"), scaling_start)
        {
            self.check_group_scaling(scaling, at, &body)?;
        }
        Ok(group)
    }

    /// A group's `scaling` block: type `horizontal` unless said otherwise,
    /// and then `max` is required.
    fn check_group_scaling(
        &self,
        scaling: &mut Map<String, Json>,
        at: u32,
        body: &BodyRef<'_>,
    ) -> Result<(), Error> {
        let ty = scaling
            .get("Type")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_owned();
        if ty.is_empty() {
            scaling.insert("Type".into(), Json::String("horizontal".into()));
        }
        let horizontal = ty.is_empty() || ty == "horizontal";
        if scaling.contains_key("Max") && horizontal {
            return Ok(());
        }
        let type_attr = body.body.items.iter().find_map(|i| match i {
            Item::Attribute(a) if a.name.name == "type" => Some(a),
            _ => None,
        });
        if !scaling.contains_key("Max") {
            return Err(self.err(at, "Missing required argument; The argument \"max\" is required, but no definition was found."));
        }
        if let Some(attr) = type_attr.filter(|_| !horizontal) {
            return Err(self.err(
                attr.expr.span.start,
                format!("Invalid group scaling type; task group scaling policy had invalid type: {ty:?}"),
            ));
        }
        Ok(())
    }

    fn decode_task(&self, block: &BlockRef<'_>) -> Result<Map<String, Json>, Error> {
        expect_block_labels(self, block, &["name"])?;
        let mut content = self.content(&block.body)?;
        let env = self.take_map_attribute(&mut content, "env")?;
        let meta = self.take_map_attribute(&mut content, "meta")?;
        let scaling = take_blocks(&mut content, "scaling");
        let mut task = self.decode_content(&schema::TASK, content)?;
        task.insert("Name".into(), Json::String(block.labels[0].0.clone()));
        if let Some(env) = env {
            task.insert("Env".into(), env);
        }
        if let Some(meta) = meta {
            task.insert("Meta".into(), meta);
        }
        if !scaling.is_empty() {
            let policies = self.decode_task_scaling(&scaling)?;
            task.insert("ScalingPolicies".into(), Json::Array(policies));
        }
        Ok(task)
    }

    /// A task's `scaling "cpu"` / `scaling "mem"` blocks.
    fn decode_task_scaling(&self, blocks: &[BlockRef<'_>]) -> Result<Vec<Json>, Error> {
        let mut seen: Vec<(String, u32)> = Vec::new();
        let mut out = Vec::new();
        for b in blocks {
            expect_block_labels(self, b, &["name"])?;
            let (label, label_span) = &b.labels[0];
            let label = label.to_lowercase();
            let policy_type = match label.as_str() {
                "cpu" => "vertical_cpu",
                "mem" => "vertical_mem",
                _ => return Err(self.err(
                    label_span.start,
                    "Invalid scaling policy name; scaling policy name must be \"cpu\" or \"mem\"",
                )),
            };
            if let Some((_, prev)) = seen.iter().find(|(l, _)| *l == label) {
                return Err(self.err(
                    b.span.start,
                    format!(
                        "Duplicate scaling \"{label}\" block; Only one scaling {label} block is allowed. Another was defined at {}.",
                        Pos::at(self.src, *prev as usize)
                    ),
                ));
            }
            seen.push((label.clone(), b.span.start));
            let content = self.content(&b.body)?;
            let mut policy = self.decode_content(&schema::SCALING_POLICY, content)?;
            match policy.get("Type").and_then(Json::as_str) {
                None | Some("") => {
                    policy.insert("Type".into(), Json::String(policy_type.into()));
                }
                Some(t) if t == policy_type => {}
                Some(t) => {
                    return Err(self.err(
                        b.span.start,
                        format!("Invalid scaling policy type; Invalid policy type, expected {t:?} but found {policy_type:?}"),
                    ))
                }
            }
            out.push(Json::Object(policy));
        }
        Ok(out)
    }

    /// `constraint` and `affinity`: `attribute`/`operator`/`value` plus the
    /// shorthands (`version = "..."`, `distinct_hosts = true`...).
    fn decode_constraint(
        &self,
        block: &BlockRef<'_>,
        affinity: bool,
    ) -> Result<Map<String, Json>, Error> {
        expect_block_labels(self, block, &[])?;
        let content = self.content(&block.body)?;
        if let Some(b) = content.blocks.first() {
            return Err(self.err(b.kind_span.start, unsupported_block(b.kind)));
        }
        let allowed: &[&str] = if affinity {
            &[
                "attribute",
                "value",
                "operator",
                "weight",
                "version",
                "semver",
                "regexp",
                "set_contains",
                "set_contains_all",
                "set_contains_any",
            ]
        } else {
            &[
                "attribute",
                "value",
                "operator",
                "distinct_property",
                "distinct_hosts",
                "regexp",
                "version",
                "semver",
                "set_contains",
                "set_contains_all",
                "set_contains_any",
                "is_set",
                "is_not_set",
            ]
        };
        let mut values: BTreeMap<&str, Value> = BTreeMap::new();
        for a in &content.attrs {
            let name = a.attr.name.name.as_str();
            let Some(key) = allowed.iter().find(|k| **k == name) else {
                return Err(self.err(a.attr.name.span.start, unsupported_argument(name)));
            };
            let value = self.eval(&a.attr.expr, &a.vars)?;
            let expected = match name {
                "weight" => crate::eval::types::Type::Number,
                "distinct_hosts" => crate::eval::types::Type::Bool,
                _ => crate::eval::types::Type::String,
            };
            let value = expected.convert(value).map_err(|why| {
                self.err(
                    a.attr.expr.span.start,
                    format!("Incorrect attribute value type; Inappropriate value for attribute \"{name}\": {why}."),
                )
            })?;
            values.insert(key, value);
        }
        let text = |k: &str| values.get(k).and_then(Value::to_str).unwrap_or_default();
        let mut ltarget = text("attribute");
        let mut rtarget = text("value");
        let mut operand = text("operator");
        let shorthands: &[&str] = if affinity {
            &[
                "version",
                "semver",
                "regexp",
                "set_contains_any",
                "set_contains_all",
                "set_contains",
            ]
        } else {
            &["version", "semver", "regexp", "set_contains"]
        };
        for op in shorthands {
            let v = text(op);
            if !v.is_empty() {
                operand = (*op).to_owned();
                rtarget = v;
            }
        }
        if !affinity {
            if let Some(v) = values.get("distinct_hosts").and_then(Value::to_bool) {
                operand = "distinct_hosts".into();
                rtarget = v.to_string();
            }
            let property = text("distinct_property");
            if !property.is_empty() {
                operand = "distinct_property".into();
                ltarget = property;
            }
        }
        if operand.is_empty() {
            operand = "=".into();
        }
        let mut out = Map::new();
        out.insert("LTarget".into(), Json::String(ltarget));
        out.insert("RTarget".into(), Json::String(rtarget));
        out.insert("Operand".into(), Json::String(operand));
        if affinity {
            if let Some(w) = values.get("weight").and_then(Value::to_number) {
                // Nomad truncates the weight to an int8 without a range check.
                out.insert("Weight".into(), Json::from(w.as_f64().trunc() as i64 as i8));
            }
        }
        Ok(out)
    }
}

fn content_start(content: &Content<'_>) -> u32 {
    content
        .attrs
        .first()
        .map(|a| a.attr.span.start)
        .or_else(|| content.blocks.first().map(|b| b.span.start))
        .unwrap_or(0)
}

fn go_type_name(ty: &'static Ty) -> &'static str {
    match ty.pointee() {
        Ty::Str => "string",
        Ty::Bool => "bool",
        Ty::Int | Ty::Uint | Ty::I8 | Ty::U8 | Ty::Float | Ty::Duration => "number",
        _ => "any",
    }
}

/// Checks that `n` is a whole number in the range of `ty`.
fn whole_number(ty: &Ty, n: Number) -> Result<i64, String> {
    let (min, max): (i64, i64) = match ty {
        Ty::I8 => (i8::MIN.into(), i8::MAX.into()),
        Ty::U8 => (0, u8::MAX.into()),
        Ty::Uint => (0, i64::MAX),
        _ => (i64::MIN, i64::MAX),
    };
    match n.as_i64() {
        Some(i) if n.is_integer() && (min..=max).contains(&i) => Ok(i),
        _ => Err(format!(
            "value must be a whole number, between {min} and {max}"
        )),
    }
}

fn sort_keys(map: &mut Map<String, Json>) {
    let mut entries: Vec<(String, Json)> = std::mem::take(map).into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    map.extend(entries);
}

/// Writes a sparse struct the way Go prints it: every field in
/// declaration order; unset fields as zero values (or `null` for pointers,
/// slices and maps); `omitempty` fields left out when empty.
pub fn write_struct(st: &'static Struct, sparse: &Map<String, Json>, w: &mut JsonWriter) {
    w.object_start();
    for field in st.fields {
        write_field(field, sparse, w);
    }
    w.end_object();
}

/// Writes one field of a sparse struct (or nothing, for an empty
/// `omitempty` field).
fn write_field(field: &'static Field, sparse: &Map<String, Json>, w: &mut JsonWriter) {
    match sparse.get(field.json) {
        Some(v) if field.omit_empty && is_empty(v) => {}
        Some(v) => {
            w.key(field.json);
            write_value(&field.ty, v, w);
        }
        None if field.omit_empty && is_zero_empty(&field.ty) => {}
        None => {
            w.key(field.json);
            write_zero(&field.ty, w);
        }
    }
}

fn write_value(ty: &'static Ty, value: &Json, w: &mut JsonWriter) {
    match (ty, value) {
        (Ty::Ptr(inner), v) => write_value(inner, v, w),
        (Ty::Struct(st), Json::Object(map)) => write_struct(st, map, w),
        (Ty::Slice(elem), Json::Array(items)) => {
            w.array_start();
            for item in items {
                write_value(elem, item, w);
            }
            w.end_array();
        }
        (Ty::Map(elem), Json::Object(map)) => {
            // Go prints map keys sorted.
            let mut entries: Vec<(&String, &Json)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            w.object_start();
            for (k, v) in entries {
                w.key(k);
                write_value(elem, v, w);
            }
            w.end_object();
        }
        (_, v) => w.json(v),
    }
}

fn write_zero(ty: &'static Ty, w: &mut JsonWriter) {
    match ty {
        Ty::Str => w.string(""),
        Ty::Int | Ty::Uint | Ty::I8 | Ty::U8 | Ty::Float | Ty::Duration => w.raw("0"),
        Ty::Bool => w.raw("false"),
        Ty::Struct(st) => write_struct(st, &Map::new(), w),
        Ty::Any | Ty::Bytes | Ty::Ptr(_) | Ty::Slice(_) | Ty::Map(_) => w.raw("null"),
    }
}

/// Whether the zero value of `ty` is one `omitempty` leaves out (all but
/// structs).
fn is_zero_empty(ty: &Ty) -> bool {
    !matches!(ty, Ty::Struct(_))
}

fn is_empty(value: &Json) -> bool {
    match value {
        Json::Null => true,
        Json::Bool(b) => !b,
        Json::Number(n) => n.as_f64() == Some(0.0),
        Json::String(s) => s.is_empty(),
        Json::Array(a) => a.is_empty(),
        Json::Object(o) => o.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use crate::eval::functions::parse_go_duration;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("30s"), Ok(30_000_000_000));
        assert_eq!(parse_go_duration("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(parse_go_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_go_duration("300ms"), Ok(300_000_000));
        assert_eq!(parse_go_duration("-2m"), Ok(-120_000_000_000));
        assert_eq!(parse_go_duration("0"), Ok(0));
        assert!(parse_go_duration("5").unwrap_err().contains("missing unit"));
        assert!(parse_go_duration("5x")
            .unwrap_err()
            .contains("unknown unit"));
        assert!(parse_go_duration("").is_err());
        assert!(parse_go_duration("99999999999h").is_err());
    }
}
