//! Any HCL2 file to JSON, in one fixed shape.
//!
//! The shape does not depend on how many blocks there are, so a program
//! reading it never has to check whether it got an object or a list:
//!
//! * A body is an object. An attribute is a key with its value.
//! * Blocks are grouped by type, then by each label in turn, and end in a
//!   **list of bodies**, one per block: `resource "aws_instance" "web" {...}`
//!   gives `{"resource": {"aws_instance": {"web": [{...}]}}}`, and a block
//!   without labels such as `provisioner {...}` gives `{"provisioner":
//!   [{...}]}`. Repeated blocks append to the same list.
//! * Literal values (strings, numbers, booleans, `null`, heredocs) are JSON
//!   values; lists and objects are converted element by element.
//! * Everything that needs evaluating (references, function calls,
//!   operators, conditionals, `for` expressions) is kept as its source text
//!   wrapped in `${...}`; strings with interpolations keep their template
//!   text (`"web-${var.env}"`), with literal `${` escaped as `$${`.
//!
//! ```
//! let json = hcl2json::generic::to_json("a = 1\nb \"x\" { c = var.d }\n", false).unwrap();
//! assert_eq!(String::from_utf8(json).unwrap(), r#"{"a":1,"b":{"x":[{"c":"${var.d}"}]}}"#);
//! ```

use std::collections::HashMap;

use crate::error::{Error, Pos};
use crate::json_writer::JsonWriter;
use crate::syntax::{
    self, Attribute, Block, Body, Expr, ExprKind, Item, ObjectKey, Template, TemplatePart, UnaryOp,
};

/// Converts HCL source to JSON text (indented with two spaces when
/// `pretty`).
pub fn to_json(src: &str, pretty: bool) -> Result<Vec<u8>, Error> {
    let body = syntax::parse_body(src)?;
    let mut w = JsonWriter::new(pretty.then_some("  "), false, src.len());
    Converter { src, w: &mut w }.body(&body)?;
    Ok(w.into_bytes())
}

/// The block types of a body, in order of first appearance, with an index.
#[derive(Default)]
struct Groups<'b> {
    list: Vec<(&'b str, Group<'b>, &'b Block)>,
    index: HashMap<&'b str, usize>,
}

struct Converter<'a> {
    src: &'a str,
    w: &'a mut JsonWriter,
}

/// Blocks of a body grouped the way they are printed.
enum Group<'b> {
    /// The bodies of the blocks that end here.
    Bodies(Vec<&'b Body>),
    /// Sub-groups by the next label, in order of first appearance, with an
    /// index by label (files with thousands of labelled blocks are common).
    Labels(Vec<(&'b str, Group<'b>)>, HashMap<&'b str, usize>),
}

impl<'a> Converter<'a> {
    fn body(&mut self, body: &Body) -> Result<(), Error> {
        let mut attrs: Vec<&Attribute> = Vec::new();
        let mut attr_index: HashMap<&str, u32> = HashMap::new();
        let mut groups = Groups::default();
        for item in &body.items {
            match item {
                Item::Attribute(a) => {
                    if let Some(prev) = attr_index.insert(&a.name.name, a.name.span.start) {
                        return Err(self.duplicate(a.name.span.start, &a.name.name, prev));
                    }
                    attrs.push(a);
                }
                Item::Block(b) => self.add_block(&mut groups, b)?,
            }
        }
        if let Some((_, _, block)) = groups
            .list
            .iter()
            .find(|(kind, _, _)| attr_index.contains_key(kind))
        {
            return Err(Error::at(
                self.src,
                block.ident.span.start as usize,
                format!(
                    "Conflicting definitions; \"{}\" is set both as an argument and as a block type.",
                    block.ident.name
                ),
            ));
        }
        self.w.object_start();
        for a in attrs {
            self.w.key(&a.name.name);
            self.expr(&a.expr)?;
        }
        for (kind, group, _) in &groups.list {
            self.w.key(kind);
            self.group(group)?;
        }
        self.w.end_object();
        Ok(())
    }

    fn duplicate(&self, at: u32, name: &str, prev: u32) -> Error {
        Error::at(
            self.src,
            at as usize,
            format!(
                "Duplicate argument; The argument \"{name}\" was already set at {}.",
                Pos::at(self.src, prev as usize)
            ),
        )
    }

    fn add_block<'b>(&self, groups: &mut Groups<'b>, block: &'b Block) -> Result<(), Error> {
        let kind = block.ident.name.as_str();
        let index = match groups.index.get(kind) {
            Some(&i) => i,
            None => {
                let fresh = if block.labels.is_empty() {
                    Group::Bodies(Vec::new())
                } else {
                    Group::Labels(Vec::new(), HashMap::new())
                };
                groups.list.push((kind, fresh, block));
                groups.index.insert(kind, groups.list.len() - 1);
                groups.list.len() - 1
            }
        };
        let mut group = &mut groups.list[index].1;
        for label in &block.labels {
            let Group::Labels(subs, by_label) = group else {
                return Err(self.label_mismatch(block));
            };
            let i = *by_label.entry(&label.value).or_insert_with(|| {
                subs.push((&label.value, Group::Labels(Vec::new(), HashMap::new())));
                subs.len() - 1
            });
            group = &mut subs[i].1;
        }
        match group {
            Group::Bodies(bodies) => bodies.push(&block.body),
            Group::Labels(subs, _) if subs.is_empty() => *group = Group::Bodies(vec![&block.body]),
            Group::Labels(..) => return Err(self.label_mismatch(block)),
        }
        Ok(())
    }

    fn label_mismatch(&self, block: &Block) -> Error {
        Error::at(
            self.src,
            block.span.start as usize,
            format!(
                "Inconsistent labels; every \"{}\" block must have the same number of labels to be converted.",
                block.ident.name
            ),
        )
    }

    fn group(&mut self, group: &Group<'_>) -> Result<(), Error> {
        match group {
            Group::Bodies(bodies) => {
                self.w.array_start();
                for b in bodies {
                    self.body(b)?;
                }
                self.w.end_array();
            }
            Group::Labels(subs, _) => {
                self.w.object_start();
                for (label, sub) in subs {
                    self.w.key(label);
                    self.group(sub)?;
                }
                self.w.end_object();
            }
        }
        Ok(())
    }

    fn expr(&mut self, expr: &Expr) -> Result<(), Error> {
        match &expr.kind {
            ExprKind::Null => self.w.raw("null"),
            ExprKind::Bool(b) => self.w.raw(if *b { "true" } else { "false" }),
            ExprKind::Number(n) => self.number(n.to_json()),
            ExprKind::Unary(UnaryOp::Neg, inner) if matches!(inner.kind, ExprKind::Number(_)) => {
                let ExprKind::Number(n) = inner.kind else {
                    unreachable!("matched by the guard")
                };
                let negated = match n {
                    crate::Number::Int(i) => i
                        .checked_neg()
                        .map(crate::Number::Int)
                        .unwrap_or(crate::Number::Float(-(i as f64))),
                    crate::Number::Float(f) => crate::Number::Float(-f),
                };
                self.number(negated.to_json());
            }
            ExprKind::Template(t) => self.template(t),
            ExprKind::Tuple(items) => {
                self.w.array_start();
                for item in items {
                    self.expr(item)?;
                }
                self.w.end_array();
            }
            ExprKind::Object(items) if items.iter().all(|i| literal_key(&i.key).is_some()) => {
                let mut seen: HashMap<String, u32> = HashMap::new();
                self.w.object_start();
                for item in items {
                    let key = literal_key(&item.key).unwrap_or_default();
                    let at = item.value.span.start;
                    if let Some(prev) = seen.get(&key) {
                        return Err(self.duplicate(at, &key, *prev));
                    }
                    self.w.key(&key);
                    self.expr(&item.value)?;
                    seen.insert(key, at);
                }
                self.w.end_object();
            }
            _ => self.w.string(&format!("${{{}}}", expr.span.text(self.src))),
        }
        Ok(())
    }

    fn number(&mut self, json: serde_json::Value) {
        self.w.raw(&json.to_string());
    }

    fn template(&mut self, t: &Template) {
        if let Some(text) = t.as_literal() {
            self.w.string(&text);
            return;
        }
        let mut text = String::new();
        for part in &t.parts {
            match part {
                TemplatePart::Literal(s) => {
                    text.push_str(&s.replace("${", "$${").replace("%{", "%%{"))
                }
                TemplatePart::Interp { span, .. }
                | TemplatePart::If { span, .. }
                | TemplatePart::For { span, .. } => {
                    text.push_str(span.text(self.src));
                }
            }
        }
        self.w.string(&text);
    }
}

/// The key of an object item when it is written literally.
fn literal_key(key: &ObjectKey) -> Option<String> {
    match key {
        ObjectKey::Ident(ident) => Some(ident.name.clone()),
        ObjectKey::Expr(e) => match &e.kind {
            ExprKind::Template(t) => t.as_literal(),
            ExprKind::Number(n) => Some(n.to_string()),
            _ => None,
        },
    }
}
