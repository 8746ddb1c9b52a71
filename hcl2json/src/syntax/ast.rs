//! The syntax tree of HCL2's native syntax.
//!
//! It is deliberately plain: no comments or whitespace are kept, only what
//! evaluation and error messages need. Every node carries the byte span it was
//! read from, so an error can point at `line:col` and an expression that
//! cannot be evaluated can be printed back exactly as written.

use crate::value::Number;

/// A byte range in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// Offset of the first byte.
    pub start: u32,
    /// Offset one past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from `start` to `end` (byte offsets).
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The text the span covers in `src` (empty if the span does not fit).
    pub fn text(self, src: &str) -> &str {
        src.get(self.start as usize..self.end as usize)
            .unwrap_or_default()
    }
}

/// A body: the whole file, or what is between a block's braces.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Body {
    /// Attributes and blocks in source order.
    pub items: Vec<Item>,
}

/// One element of a body.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `name = expr`
    Attribute(Attribute),
    /// `type "label" ... { body }`
    Block(Block),
}

/// An identifier with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    /// The identifier as written (HCL identifiers may contain `-`).
    pub name: String,
    /// Where it is.
    pub span: Span,
}

/// `name = expr`.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// The attribute's name.
    pub name: Ident,
    /// Its value expression.
    pub expr: Expr,
    /// From the name to the end of the expression.
    pub span: Span,
}

/// `type "label" ident { body }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// The block type.
    pub ident: Ident,
    /// Labels, quoted or bare, in order.
    pub labels: Vec<Label>,
    /// What is between the braces.
    pub body: Body,
    /// From the type to the closing brace.
    pub span: Span,
}

/// A block label: `"web"` or `web`.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// The label's text, escapes decoded.
    pub value: String,
    /// Where it is (quotes included).
    pub span: Span,
}

/// An expression with its span.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What kind of expression it is.
    pub kind: ExprKind,
    /// Where it is in the source.
    pub span: Span,
}

/// The kinds of expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number literal.
    Number(Number),
    /// A quoted string or a heredoc; a plain string is a template of one
    /// literal part.
    Template(Template),
    /// `[a, b, c]`
    Tuple(Vec<Expr>),
    /// `{ k = v, "k2": v2 }`
    Object(Vec<ObjectItem>),
    /// A root variable name, as in `var` of `var.image`.
    Variable(Ident),
    /// `expr.name`
    GetAttr(Box<Expr>, Ident),
    /// `expr[key]`, and the legacy `expr.0`.
    Index(Box<Expr>, Box<Expr>),
    /// `expr[*].a.b` (full splat) or `expr.*.a.b` (attribute-only splat):
    /// `each` is applied to every element of `source`.
    Splat(Box<Splat>),
    /// `name(args...)`, with `expand_final` for `name(a, list...)`.
    Call(Box<Call>),
    /// `!x`, `-x`
    Unary(UnaryOp, Box<Expr>),
    /// `a op b`
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `cond ? a : b`
    Conditional(Box<Conditional>),
    /// `[for ...]` or `{for ...}`
    For(Box<ForExpr>),
    /// `( expr )`
    Parens(Box<Expr>),
}

/// One `key = value` (or `key: value`) of an object constructor.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectItem {
    /// The key.
    pub key: ObjectKey,
    /// The value.
    pub value: Expr,
}

/// An object key: a bare identifier is taken literally, anything else is
/// evaluated.
#[derive(Debug, Clone, PartialEq)]
pub enum ObjectKey {
    /// `name = ...`: the string `"name"`.
    Ident(Ident),
    /// `"key" = ...`, `(var.k) = ...`, `1 = ...`
    Expr(Expr),
}

/// A splat: `source[*]` followed by the traversal applied to each element.
#[derive(Debug, Clone, PartialEq)]
pub struct Splat {
    /// The collection being splatted.
    pub source: Expr,
    /// The steps applied to each element, in order (may be empty).
    pub each: Vec<Traversal>,
    /// `true` for `[*]` (attribute and index steps), `false` for `.*`
    /// (attribute steps only).
    pub full: bool,
}

/// One step of a splat's traversal.
#[derive(Debug, Clone, PartialEq)]
pub enum Traversal {
    /// `.name`
    Attr(Ident),
    /// `[expr]` or legacy `.0`
    Index(Expr),
    /// A splat nested in a full splat's steps (`a[*].b[*].c`, `a[*].b.*.c`):
    /// applied to the current element, it maps `each` over it in turn.
    Splat {
        /// The steps applied to each element of the current element.
        each: Vec<Traversal>,
        /// `[*]` (takes every remaining step) or `.*` (attribute steps only).
        full: bool,
    },
}

/// A function call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The function's name.
    pub name: Ident,
    /// The arguments.
    pub args: Vec<Expr>,
    /// Whether the last argument ends with `...` (its elements become
    /// separate arguments).
    pub expand_final: bool,
}

/// `cond ? then : otherwise`
#[derive(Debug, Clone, PartialEq)]
pub struct Conditional {
    /// The condition.
    pub cond: Expr,
    /// Value when true.
    pub then: Expr,
    /// Value when false.
    pub otherwise: Expr,
}

/// `[for k, v in coll : value if cond]` or `{for k, v in coll : key => value... if cond}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ForExpr {
    /// The key (or index) variable, when two variables are named.
    pub key_var: Option<Ident>,
    /// The value variable.
    pub value_var: Ident,
    /// The collection iterated over.
    pub collection: Expr,
    /// For `{for ...}`: the key expression; `None` for `[for ...]`.
    pub key: Option<Expr>,
    /// The value expression.
    pub value: Expr,
    /// `...` after the value in an object `for`: values are grouped per key.
    pub group: bool,
    /// The `if` filter.
    pub cond: Option<Expr>,
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `!`
    Not,
    /// `-`
    Neg,
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `||`
    Or,
    /// `&&`
    And,
    /// `==`
    Eq,
    /// `!=`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
}

/// A string template: quoted string or heredoc.
///
/// Strip markers (`~`) and the indentation of `<<-` heredocs are already
/// applied to the literal parts by the parser.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Template {
    /// The parts in order.
    pub parts: Vec<TemplatePart>,
}

/// One part of a template.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplatePart {
    /// Text, escapes decoded (`$${` and `%%{` already turned into `${`, `%{`).
    Literal(String),
    /// `${ expr }`; `span` covers the whole `${...}`.
    Interp {
        /// The interpolated expression.
        expr: Expr,
        /// From `${` to `}` inclusive.
        span: Span,
    },
    /// `%{ if cond }...%{ else }...%{ endif }`; `span` covers it all.
    If {
        /// The condition.
        cond: Expr,
        /// The template when true.
        then: Template,
        /// The template when false (empty when there is no `else`).
        otherwise: Template,
        /// From `%{ if` to the closing `}` of `%{ endif }`.
        span: Span,
    },
    /// `%{ for k, v in coll }...%{ endfor }`; `span` covers it all.
    For {
        /// The key variable, when two are named.
        key_var: Option<Ident>,
        /// The value variable.
        value_var: Ident,
        /// The collection.
        collection: Expr,
        /// The template repeated for each element.
        body: Template,
        /// From `%{ for` to the closing `}` of `%{ endfor }`.
        span: Span,
    },
}

impl Template {
    /// The template's text when it has no interpolation or directive.
    pub fn as_literal(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                TemplatePart::Literal(s) => out.push_str(s),
                _ => return None,
            }
        }
        Some(out)
    }
}
