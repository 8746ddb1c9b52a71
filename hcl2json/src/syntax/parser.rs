//! Parses HCL2 native syntax into the tree of [`super::ast`].
//!
//! A hand-written recursive-descent parser over the bytes of the source. It
//! follows hashicorp/hcl's `hclsyntax` parser closely, so that the same files
//! are accepted, the same trees come out and errors carry the same messages,
//! with three differences of design:
//!
//! * It stops at the first error: one message, pointing at the offending
//!   token, is more useful to the command line than a cascade.
//! * Tokens are read lazily, one ahead. Template text is scanned directly by
//!   the parser, which knows whether it is inside quotes, a heredoc or an
//!   interpolation, so no brace counting is needed to tell a `}` that closes
//!   `${` from one that closes an object.
//! * Lists under construction live on scratch stacks shared by the whole
//!   parse and are copied out at their exact size, so that the tree carries
//!   no spare capacity and building it allocates little besides the tree.

use unicode_segmentation::UnicodeSegmentation;

use super::ast::{
    Attribute, BinaryOp, Block, Body, Call, Conditional, Expr, ExprKind, ForExpr, Ident, Item,
    Label, ObjectItem, ObjectKey, Span, Splat, Template, TemplatePart, Traversal, UnaryOp,
};
use super::lexer::{self, Lexer, Piece, Tok, Token, INVALID_CHARACTER};
use crate::error::{Error, Pos};
use crate::value::Number;

/// How deeply expressions, blocks and template directives may nest. Deeper
/// input is rejected so that it cannot overflow the stack.
pub const MAX_DEPTH: u32 = 256;

/// Parses a whole file (or any body) of HCL2 native syntax.
///
/// A UTF-8 byte order mark at the start is skipped; spans still count bytes
/// from the start of `src`. The first syntax error is returned, with the
/// position of the token it concerns.
pub fn parse_body(src: &str) -> Result<Body, Error> {
    if u32::try_from(src.len()).is_err() {
        return Err(Error::general(
            "Input too large: HCL files larger than 4 GiB are not supported.",
        ));
    }
    let mut parser = Parser::new(src);
    let (items, _) = parser.parse_body_items(None).map_err(|e| *e)?;
    Ok(Body { items })
}

/// The parser's results: errors are boxed to keep results small, as they
/// travel up through every level of the recursion.
type PResult<T> = Result<T, Box<Error>>;

/// The parser's state: the lexer with one token of lookahead, the newline
/// mode, the nesting depth and the scratch stacks.
struct Parser<'a> {
    src: &'a str,
    bytes: &'a [u8],
    lexer: Lexer<'a>,
    /// The next token, when it has been looked at but not consumed.
    peeked: Option<Token>,
    /// Inside parentheses, brackets and template sequences newlines mean
    /// nothing, and the lookahead skips them.
    skip_newlines: bool,
    depth: u32,
    scratch: Scratch,
}

/// Stacks on which lists are gathered before being copied out at their exact
/// size. Nested constructs push above the base of the enclosing one and take
/// their own part off before the enclosing one goes on.
#[derive(Default)]
struct Scratch {
    items: Vec<Item>,
    exprs: Vec<Expr>,
    ops: Vec<BinaryOp>,
    object_items: Vec<ObjectItem>,
    labels: Vec<Label>,
    steps: Vec<Traversal>,
    pieces: Vec<TmplToken>,
    parts: Vec<TemplatePart>,
    /// Decoded text of template literals that held escapes.
    text: String,
}

/// Takes the elements above `base` off a scratch stack, as a vector of
/// exactly their number.
fn take<T>(stack: &mut Vec<T>, base: usize) -> Vec<T> {
    let base = base.min(stack.len());
    stack.drain(base..).collect()
}

/// The span from the start of `a` to the end of `b`.
fn join(a: Span, b: Span) -> Span {
    Span {
        start: a.start,
        end: b.end,
    }
}

/// Operator precedence, from `||` (1) to `*` (6).
fn binary_op(kind: Tok) -> Option<(BinaryOp, u8)> {
    Some(match kind {
        Tok::Or => (BinaryOp::Or, 1),
        Tok::And => (BinaryOp::And, 2),
        Tok::Eq => (BinaryOp::Eq, 3),
        Tok::NotEq => (BinaryOp::NotEq, 3),
        Tok::Lt => (BinaryOp::Lt, 4),
        Tok::LtEq => (BinaryOp::LtEq, 4),
        Tok::Gt => (BinaryOp::Gt, 4),
        Tok::GtEq => (BinaryOp::GtEq, 4),
        Tok::Plus => (BinaryOp::Add, 5),
        Tok::Minus => (BinaryOp::Sub, 5),
        Tok::Star => (BinaryOp::Mul, 6),
        Tok::Slash => (BinaryOp::Div, 6),
        Tok::Percent => (BinaryOp::Mod, 6),
        _ => return None,
    })
}

fn precedence(op: BinaryOp) -> u8 {
    match op {
        BinaryOp::Or => 1,
        BinaryOp::And => 2,
        BinaryOp::Eq | BinaryOp::NotEq => 3,
        BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq => 4,
        BinaryOp::Add | BinaryOp::Sub => 5,
        BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => 6,
    }
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Parser<'a> {
        Parser {
            src,
            bytes: src.as_bytes(),
            lexer: Lexer::new(src),
            peeked: None,
            skip_newlines: false,
            depth: 0,
            scratch: Scratch::default(),
        }
    }

    // ----- Tokens -------------------------------------------------------

    /// The next token, without consuming it (newlines are skipped, and
    /// dropped, in the modes that ignore them).
    #[inline]
    fn peek(&mut self) -> PResult<Token> {
        match self.peeked {
            Some(tok) if tok.kind != Tok::Newline || !self.skip_newlines => Ok(tok),
            _ => self.lex_next(),
        }
    }

    /// Reads the next meaningful token into the lookahead.
    #[inline(never)]
    fn lex_next(&mut self) -> PResult<Token> {
        loop {
            let tok = match self.peeked {
                Some(tok) => tok,
                None => self.lexer.next_token(),
            };
            self.peeked = Some(tok);
            match tok.kind {
                Tok::Newline if self.skip_newlines => self.peeked = None,
                Tok::Invalid | Tok::OpenComment => return Err(Box::new(self.lexer.error_for(tok))),
                _ => return Ok(tok),
            }
        }
    }

    /// Consumes the token returned by the last [`Parser::peek`].
    fn bump(&mut self) {
        self.peeked = None;
    }

    /// Consumes and returns the next token.
    fn next(&mut self) -> PResult<Token> {
        let tok = self.peek()?;
        self.bump();
        Ok(tok)
    }

    /// Sets whether newlines are skipped, returning the previous setting.
    fn set_skip_newlines(&mut self, skip: bool) -> bool {
        std::mem::replace(&mut self.skip_newlines, skip)
    }

    fn text(&self, tok: Token) -> &'a str {
        self.src.get(tok.start..tok.end).unwrap_or_default()
    }

    fn is_keyword(&self, tok: Token, keyword: &str) -> bool {
        tok.kind == Tok::Ident && self.text(tok) == keyword
    }

    fn ident(&self, tok: Token) -> Ident {
        Ident {
            name: self.text(tok).to_owned(),
            span: Span::new(tok.start, tok.end),
        }
    }

    #[cold]
    #[inline(never)]
    fn error(&self, at: usize, message: impl Into<String>) -> Box<Error> {
        Box::new(Error::at(self.src, at, message))
    }

    /// The position of byte `at`, as `line:column`, for messages.
    fn pos(&self, at: usize) -> Pos {
        Pos::at(self.src, at)
    }

    /// How a token is named in "found ..." messages.
    fn describe(&self, tok: Token) -> String {
        match tok.kind {
            Tok::Newline => "a newline".to_owned(),
            Tok::Eof => "the end of the file".to_owned(),
            _ => format!("\"{}\"", self.text(tok)),
        }
    }

    /// Counts one more level of nesting, failing past [`MAX_DEPTH`].
    fn enter(&mut self, at: usize) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(
                at,
                format!(
                    "Nesting too deep: Expressions, blocks and templates may be nested at most {MAX_DEPTH} levels deep."
                ),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    // ----- Bodies -------------------------------------------------------

    /// Parses body items up to the end of the file, or up to the `}` that
    /// closes the block opened by `open_brace`. Returns the items and the
    /// offset where the body ends.
    fn parse_body_items(&mut self, open_brace: Option<Token>) -> PResult<(Vec<Item>, usize)> {
        let base = self.scratch.items.len();
        let end = loop {
            let tok = self.peek()?;
            match tok.kind {
                Tok::Newline => self.bump(),
                Tok::Ident => {
                    let item = self.parse_item(tok)?;
                    self.scratch.items.push(item);
                }
                Tok::RBrace if open_brace.is_some() => {
                    self.bump();
                    break tok.end;
                }
                Tok::Eof => match open_brace {
                    None => break tok.end,
                    Some(open) => return Err(self.unclosed_block(open)),
                },
                Tok::OQuote => {
                    return Err(self.error(
                        tok.start,
                        "Invalid argument name: Argument names must not be quoted.",
                    ))
                }
                _ => {
                    return Err(self.error(
                        tok.start,
                        "Argument or block definition required: An argument or block definition is required here.",
                    ))
                }
            }
        };
        Ok((take(&mut self.scratch.items, base), end))
    }

    fn unclosed_block(&self, open: Token) -> Box<Error> {
        self.error(
            open.start,
            "Unclosed configuration block: There is no closing brace for this block before the end of the file. This may be caused by incorrect brace nesting elsewhere in this file.",
        )
    }

    /// Parses an attribute or a block, starting at its name.
    fn parse_item(&mut self, name: Token) -> PResult<Item> {
        self.bump();
        let next = self.peek()?;
        match next.kind {
            Tok::Assign => Ok(Item::Attribute(self.parse_attribute(name, false)?)),
            Tok::OQuote | Tok::LBrace | Tok::Ident => Ok(Item::Block(self.parse_block(name)?)),
            _ => Err(self.error(
                name.start,
                "Argument or block definition required: An argument or block definition is required here. To set an argument, use the equals sign \"=\" to introduce the argument value.",
            )),
        }
    }

    /// Parses `= expr` after an attribute's name, and the newline after it
    /// unless the attribute is the body of a one-line block.
    fn parse_attribute(&mut self, name: Token, one_line: bool) -> PResult<Attribute> {
        self.bump(); // the `=`
        let expr = self.parse_expr()?;
        if !one_line {
            let end = self.peek()?;
            match end.kind {
                Tok::Newline => self.bump(),
                Tok::Eof => {}
                Tok::Comma => return Err(self.error(
                    end.start,
                    "Unexpected comma after argument: Argument definitions must be separated by newlines, not commas. An argument definition must end with a newline.",
                )),
                _ => return Err(self.error(
                    end.start,
                    "Missing newline after argument: An argument definition must end with a newline.",
                )),
            }
        }
        let span = Span::new(name.start, expr.span.end as usize);
        Ok(Attribute {
            name: self.ident(name),
            expr,
            span,
        })
    }

    /// Parses a block after its type name: labels, then the body.
    fn parse_block(&mut self, ident: Token) -> PResult<Block> {
        self.enter(ident.start)?;
        let labels = self.parse_labels()?;
        let open = self.next()?; // the `{`, checked by parse_labels
        let next = self.peek()?;
        let (items, end) = match next.kind {
            Tok::Newline | Tok::Eof | Tok::RBrace => self.parse_body_items(Some(open))?,
            _ => self.parse_one_line_body(open, next)?,
        };
        let eol = self.peek()?;
        match eol.kind {
            Tok::Newline => self.bump(),
            Tok::Eof => {}
            _ => {
                return Err(self.error(
                    eol.start,
                    "Missing newline after block definition: A block definition must end with a newline.",
                ))
            }
        }
        self.leave();
        Ok(Block {
            ident: self.ident(ident),
            labels,
            body: Body { items },
            span: Span::new(ident.start, end),
        })
    }

    /// Parses the labels of a block, leaving the `{` that follows them to be
    /// read.
    fn parse_labels(&mut self) -> PResult<Vec<Label>> {
        let base = self.scratch.labels.len();
        loop {
            let tok = self.peek()?;
            let label = match tok.kind {
                Tok::LBrace => break,
                Tok::OQuote => {
                    self.bump();
                    self.parse_label(tok)?
                }
                Tok::Ident => {
                    self.bump();
                    Label {
                        value: self.text(tok).to_owned(),
                        span: Span::new(tok.start, tok.end),
                    }
                }
                Tok::Assign => return Err(self.error(
                    tok.start,
                    "Invalid block definition: The equals sign \"=\" indicates an argument definition, and must not be used when defining a block.",
                )),
                Tok::Newline => return Err(self.error(
                    tok.start,
                    "Invalid block definition: A block definition must have block content delimited by \"{\" and \"}\", starting on the same line as the block header.",
                )),
                _ => return Err(self.error(
                    tok.start,
                    "Invalid block definition: Either a quoted string block label or an opening brace (\"{\") is expected here.",
                )),
            };
            self.scratch.labels.push(label);
        }
        Ok(take(&mut self.scratch.labels, base))
    }

    /// Parses the body of a one-line block, `{ name = expr }`, after its
    /// `{`: one attribute and the closing brace on the same line.
    fn parse_one_line_body(&mut self, open: Token, name: Token) -> PResult<(Vec<Item>, usize)> {
        if name.kind != Tok::Ident {
            return Err(self.error(
                name.start,
                "Argument or block definition required: An argument or block definition is required here.",
            ));
        }
        self.bump();
        let next = self.peek()?;
        match next.kind {
            Tok::Assign => {}
            Tok::OQuote | Tok::LBrace | Tok::Ident => {
                return Err(self.error(
                    name.start,
                    format!(
                        "Argument definition required: A single-line block definition can contain only a single argument. If you meant to define argument \"{}\", use an equals sign to assign it a value. To define a nested block, place it on a line of its own within its parent block.",
                        self.text(name)
                    ),
                ))
            }
            _ => return Err(self.error(
                name.start,
                "Argument or block definition required: An argument or block definition is required here. To set an argument, use the equals sign \"=\" to introduce the argument value.",
            )),
        }
        let attr = self.parse_attribute(name, true)?;
        let close = self.peek()?;
        match close.kind {
            Tok::RBrace => self.bump(),
            Tok::Eof => return Err(self.unclosed_block(open)),
            Tok::Comma => return Err(self.error(
                close.start,
                "Invalid single-argument block definition: Single-line block syntax can include only one argument definition. To define multiple arguments, use the multi-line block syntax with one argument definition per line.",
            )),
            Tok::Newline => return Err(self.error(
                close.start,
                "Invalid single-argument block definition: An argument definition on the same line as its containing block creates a single-line block definition, which must also be closed on the same line. Place the block's closing brace immediately after the argument definition.",
            )),
            _ => return Err(self.error(
                close.start,
                "Invalid single-argument block definition: A single-line block definition must end with a closing brace immediately after its single argument definition.",
            )),
        }
        Ok((vec![Item::Attribute(attr)], close.end))
    }

    /// Parses a quoted block label: a string without template sequences.
    fn parse_label(&mut self, open: Token) -> PResult<Label> {
        let start = open.end;
        if let Some(close) = plain_string_end(self.bytes, start) {
            return Ok(self.finish_label(
                open,
                self.src.get(start..close).unwrap_or_default().to_owned(),
                close,
            ));
        }
        let mut value = String::new();
        let mut at = start;
        let close = loop {
            match lexer::quoted_piece(self.bytes, at) {
                Piece::Close => break at,
                Piece::Text { end, escapes } => {
                    if escapes {
                        decode_escapes(self.src, at, end, &mut value)?;
                    } else {
                        value.push_str(self.src.get(at..end).unwrap_or_default());
                    }
                    at = end;
                }
                Piece::EscapedOpen { end } => {
                    value.push_str(self.src.get(at + 1..end).unwrap_or_default());
                    at = end;
                }
                Piece::Interp { .. } | Piece::Control { .. } => {
                    let sigil = if self.bytes.get(at) == Some(&b'$') { "$" } else { "%" };
                    return Err(self.error(
                        at,
                        format!(
                            "Invalid string literal: Template sequences are not allowed in this string. To include a literal \"{sigil}\", double it (as \"{sigil}{sigil}\") to escape it."
                        ),
                    ));
                }
                Piece::Newline => return Err(self.multi_line_string(at)),
                Piece::Invalid => return Err(self.error(at, INVALID_CHARACTER)),
                Piece::Eof => return Err(self.error(
                    open.start,
                    "Unterminated string literal: Unable to find the closing quote mark before the end of the file.",
                )),
            }
        };
        Ok(self.finish_label(open, value, close))
    }

    fn finish_label(&mut self, open: Token, value: String, close: usize) -> Label {
        self.lexer.pos = close + 1;
        self.peeked = None;
        Label {
            value,
            span: Span::new(open.start, close + 1),
        }
    }

    fn multi_line_string(&self, at: usize) -> Box<Error> {
        self.error(
            at,
            "Invalid multi-line string: Quoted strings may not be split over multiple lines. To produce a multi-line string, either use the \\n escape to represent a newline character or use the \"heredoc\" multi-line template syntax.",
        )
    }

    // ----- Expressions --------------------------------------------------

    /// Parses a whole expression: a conditional or anything tighter.
    fn parse_expr(&mut self) -> PResult<Expr> {
        let first = self.peek()?;
        self.enter(first.start)?;
        let cond = self.parse_binary()?;
        let expr = if self.peek()?.kind == Tok::Question {
            self.bump();
            let then = self.parse_expr()?;
            let colon = self.peek()?;
            if colon.kind != Tok::Colon {
                return Err(self.error(
                    colon.start,
                    "Missing false expression in conditional: The conditional operator (...?...:...) requires a false expression, delimited by a colon.",
                ));
            }
            self.bump();
            let otherwise = self.parse_expr()?;
            let span = join(cond.span, otherwise.span);
            Expr {
                kind: ExprKind::Conditional(Box::new(Conditional {
                    cond,
                    then,
                    otherwise,
                })),
                span,
            }
        } else {
            cond
        };
        self.leave();
        Ok(expr)
    }

    /// Parses a chain of binary operations with an explicit operator stack
    /// (so that long chains cost no recursion): operators of equal
    /// precedence associate to the left.
    fn parse_binary(&mut self) -> PResult<Expr> {
        let first = self.parse_unary()?;
        let Some((op, _)) = binary_op(self.peek()?.kind) else {
            return Ok(first);
        };
        let expr_base = self.scratch.exprs.len();
        let op_base = self.scratch.ops.len();
        self.scratch.exprs.push(first);
        let mut next_op = Some(op);
        while let Some(op) = next_op {
            self.bump();
            while self.scratch.ops.len() > op_base
                && self
                    .scratch
                    .ops
                    .last()
                    .is_some_and(|&top| precedence(top) >= precedence(op))
            {
                self.reduce_binary();
            }
            self.scratch.ops.push(op);
            let rhs = self.parse_unary()?;
            self.scratch.exprs.push(rhs);
            next_op = binary_op(self.peek()?.kind).map(|(op, _)| op);
        }
        while self.scratch.ops.len() > op_base {
            self.reduce_binary();
        }
        let result = if self.scratch.exprs.len() == expr_base + 1 {
            self.scratch.exprs.pop()
        } else {
            None
        };
        result.ok_or_else(|| self.error(0, "Internal error: unbalanced operator stack"))
    }

    /// Replaces the top two operands by the top operator applied to them.
    fn reduce_binary(&mut self) {
        let s = &mut self.scratch;
        let (Some(op), Some(rhs), Some(lhs)) = (s.ops.pop(), s.exprs.pop(), s.exprs.pop()) else {
            return;
        };
        let span = join(lhs.span, rhs.span);
        s.exprs.push(Expr {
            kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
            span,
        });
    }

    /// Parses `-x`, `!x` or a term with its traversals. The operand of a
    /// unary operator is a term with its traversals, so `-a.b` is `-(a.b)`
    /// and `-1 + 2` is `(-1) + 2`.
    fn parse_unary(&mut self) -> PResult<Expr> {
        let tok = self.peek()?;
        let op = match tok.kind {
            Tok::Minus => UnaryOp::Neg,
            Tok::Bang => UnaryOp::Not,
            _ => return self.parse_postfix(),
        };
        self.bump();
        self.enter(tok.start)?;
        let operand = self.parse_unary()?;
        self.leave();
        Ok(Expr {
            span: Span::new(tok.start, operand.span.end as usize),
            kind: ExprKind::Unary(op, Box::new(operand)),
        })
    }

    /// Parses a term followed by any `.name`, `.0`, `[key]`, `.*` and `[*]`.
    fn parse_postfix(&mut self) -> PResult<Expr> {
        let mut expr = self.parse_term()?;
        loop {
            let tok = self.peek()?;
            expr = match tok.kind {
                Tok::Dot => {
                    self.bump();
                    self.parse_after_dot(expr)?
                }
                Tok::LBrack => {
                    self.bump();
                    self.parse_after_bracket(expr)?
                }
                _ => return Ok(expr),
            };
        }
    }

    /// Parses what follows a `.` applied to `source`.
    fn parse_after_dot(&mut self, source: Expr) -> PResult<Expr> {
        let tok = self.next()?;
        match tok.kind {
            Tok::Ident => {
                let span = Span::new(source.span.start as usize, tok.end);
                Ok(Expr {
                    kind: ExprKind::GetAttr(Box::new(source), self.ident(tok)),
                    span,
                })
            }
            Tok::Number => {
                let key = self.legacy_index(tok, false)?;
                let span = join(source.span, key.span);
                Ok(Expr {
                    kind: ExprKind::Index(Box::new(source), Box::new(key)),
                    span,
                })
            }
            Tok::Star => self.parse_attr_splat(source, tok),
            _ => Err(self.invalid_attribute_name(tok)),
        }
    }

    fn invalid_attribute_name(&self, tok: Token) -> Box<Error> {
        self.error(
            tok.start,
            "Invalid attribute name: An attribute name is required after a dot.",
        )
    }

    /// The key of a legacy index `.0`. HCL reads `.0.1` as the number `0.1`,
    /// so chained legacy indexes are rejected with a hint.
    fn legacy_index(&self, tok: Token, in_splat: bool) -> PResult<Expr> {
        let text = self.text(tok);
        if let Some((first, second)) = text.split_once('.') {
            let how = if in_splat {
                "Use the proper index syntax with a full splat expression [*] instead"
            } else {
                "Use the proper index syntax instead"
            };
            return Err(self.error(
                tok.start,
                format!(
                    "Invalid legacy index syntax: When using the legacy index syntax, chaining two indexes together is not permitted. {how}, like [{first}][{second}]."
                ),
            ));
        }
        self.number_literal(tok)
    }

    /// Parses an attribute-only splat after its `.*`: the following `.name`
    /// (and legacy `.0`) steps apply to each element.
    fn parse_attr_splat(&mut self, source: Expr, star: Token) -> PResult<Expr> {
        let base = self.scratch.steps.len();
        let mut end = star.end;
        while self.peek()?.kind == Tok::Dot {
            self.bump();
            let tok = self.next()?;
            let step = match tok.kind {
                Tok::Ident => Traversal::Attr(self.ident(tok)),
                Tok::Number => Traversal::Index(self.legacy_index(tok, true)?),
                Tok::Star => {
                    return Err(self.error(
                        tok.start,
                        "Nested splat expression not allowed: A splat expression (*) cannot be used inside another attribute-only splat expression.",
                    ))
                }
                _ => return Err(self.invalid_attribute_name(tok)),
            };
            end = tok.end;
            self.scratch.steps.push(step);
        }
        let each = take(&mut self.scratch.steps, base);
        Ok(self.splat(source, each, false, end))
    }

    fn splat(&self, source: Expr, each: Vec<Traversal>, full: bool, end: usize) -> Expr {
        let span = Span::new(source.span.start as usize, end);
        Expr {
            kind: ExprKind::Splat(Box::new(Splat { source, each, full })),
            span,
        }
    }

    /// Parses what follows a `[` applied to `source`: `*]` (a full splat)
    /// or an index key and its `]`.
    fn parse_after_bracket(&mut self, source: Expr) -> PResult<Expr> {
        if self.peek()?.kind == Tok::Star {
            self.bump();
            let close = self.next()?;
            if close.kind != Tok::RBrack {
                return Err(self.error(
                    close.start,
                    "Missing close bracket on splat index: The star for a full splat operator must be immediately followed by a closing bracket (\"]\").",
                ));
            }
            return self.parse_full_splat(source, close.end);
        }
        let (key, end) = self.parse_index_key()?;
        let span = Span::new(source.span.start as usize, end);
        Ok(Expr {
            kind: ExprKind::Index(Box::new(source), Box::new(key)),
            span,
        })
    }

    /// Parses an index key and its closing `]` (after the `[`), returning
    /// the key and where the `]` ends.
    fn parse_index_key(&mut self) -> PResult<(Expr, usize)> {
        let saved = self.set_skip_newlines(true);
        let key = self.parse_expr()?;
        let close = self.peek()?;
        if close.kind != Tok::RBrack {
            return Err(self.error(
                close.start,
                "Missing close bracket on index: The index operator must end with a closing bracket (\"]\").",
            ));
        }
        self.bump();
        self.skip_newlines = saved;
        Ok((key, close.end))
    }

    /// Parses the steps after a full splat `[*]`: every following `.name`,
    /// `.0` and `[key]` applies to each element.
    fn parse_full_splat(&mut self, source: Expr, marker_end: usize) -> PResult<Expr> {
        let base = self.scratch.steps.len();
        let mut end = marker_end;
        loop {
            let tok = self.peek()?;
            let step = match tok.kind {
                Tok::Dot => {
                    self.bump();
                    let tok = self.next()?;
                    end = tok.end;
                    match tok.kind {
                        Tok::Ident => Traversal::Attr(self.ident(tok)),
                        Tok::Number => Traversal::Index(self.legacy_index(tok, false)?),
                        Tok::Star => return Err(self.nested_splat(tok.start)),
                        _ => return Err(self.invalid_attribute_name(tok)),
                    }
                }
                Tok::LBrack => {
                    self.bump();
                    let star = self.peek()?;
                    if star.kind == Tok::Star {
                        return Err(self.nested_splat(star.start));
                    }
                    let (key, close_end) = self.parse_index_key()?;
                    end = close_end;
                    Traversal::Index(key)
                }
                _ => break,
            };
            self.scratch.steps.push(step);
        }
        let each = take(&mut self.scratch.steps, base);
        Ok(self.splat(source, each, true, end))
    }

    /// A splat within the steps of a full splat would apply to each element
    /// of each element, which the tree cannot express.
    fn nested_splat(&self, at: usize) -> Box<Error> {
        self.error(
            at,
            "Unsupported nested splat expression: A splat expression cannot be used within the traversal that follows a full splat expression ([*]). Use a for expression instead, like [for x in list : x.items[*].id].",
        )
    }

    /// Parses a term: a literal, a variable, a call, a template, a
    /// collection, a `for` expression or a parenthesized expression.
    fn parse_term(&mut self) -> PResult<Expr> {
        let tok = self.next()?;
        match tok.kind {
            Tok::Ident => self.parse_ident_term(tok),
            Tok::Number => self.number_literal(tok),
            Tok::OQuote => self.parse_quoted_template(tok),
            Tok::OHeredoc => self.parse_heredoc(tok),
            Tok::LParen => self.parse_parens(tok),
            Tok::LBrack => self.parse_tuple(tok),
            Tok::LBrace => self.parse_object(tok),
            Tok::Eof => Err(self.error(
                tok.start,
                "Missing expression: Expected the start of an expression, but found the end of the file.",
            )),
            _ => Err(self.error(
                tok.start,
                format!(
                    "Invalid expression: Expected the start of an expression, but found {}.",
                    self.describe(tok)
                ),
            )),
        }
    }

    /// A term that starts with an identifier: a call, a keyword literal or a
    /// variable.
    fn parse_ident_term(&mut self, tok: Token) -> PResult<Expr> {
        let next = self.peek()?;
        if matches!(next.kind, Tok::LParen | Tok::DoubleColon) {
            return self.parse_call(tok);
        }
        let kind = match self.text(tok) {
            "true" => ExprKind::Bool(true),
            "false" => ExprKind::Bool(false),
            "null" => ExprKind::Null,
            _ => ExprKind::Variable(self.ident(tok)),
        };
        Ok(Expr {
            kind,
            span: Span::new(tok.start, tok.end),
        })
    }

    /// A number literal: an `Int` when it is a whole number that fits,
    /// otherwise the nearest float.
    fn number_literal(&self, tok: Token) -> PResult<Expr> {
        let text = self.text(tok);
        let int = if text.bytes().all(|b| b.is_ascii_digit()) {
            text.parse::<i64>().ok()
        } else {
            None
        };
        let value = match int {
            Some(i) => Number::Int(i),
            None => match text.parse::<f64>() {
                Ok(f) => Number::from_f64(f),
                Err(_) => return Err(self.error(
                    tok.start,
                    "Invalid number literal: Failed to recognize the value of this number literal.",
                )),
            },
        };
        Ok(Expr {
            kind: ExprKind::Number(value),
            span: Span::new(tok.start, tok.end),
        })
    }

    fn parse_parens(&mut self, open: Token) -> PResult<Expr> {
        let saved = self.set_skip_newlines(true);
        let inner = self.parse_expr()?;
        let close = self.peek()?;
        if close.kind != Tok::RParen {
            return Err(self.error(
                close.start,
                "Unbalanced parentheses: Expected a closing parenthesis to terminate the expression.",
            ));
        }
        self.bump();
        self.skip_newlines = saved;
        Ok(Expr {
            kind: ExprKind::Parens(Box::new(inner)),
            span: Span::new(open.start, close.end),
        })
    }

    /// Parses a function call after its name: `name(args)` or
    /// `provider::ns::name(args)`, whose name keeps its `::` separators.
    fn parse_call(&mut self, first: Token) -> PResult<Expr> {
        let mut name = self.text(first).to_owned();
        let mut name_end = first.end;
        let mut open = self.next()?;
        while open.kind == Tok::DoubleColon {
            let part = self.next()?;
            if part.kind != Tok::Ident {
                return Err(self.error(
                    part.start,
                    "Missing function name: Function scope resolution symbol :: must be followed by a function name in this scope.",
                ));
            }
            name.push_str("::");
            name.push_str(self.text(part));
            name_end = part.end;
            open = self.next()?;
        }
        if open.kind != Tok::LParen {
            return Err(self.error(
                open.start,
                "Missing open parenthesis: Function selector must be followed by an open parenthesis to begin the function call.",
            ));
        }
        let saved = self.set_skip_newlines(true);
        let base = self.scratch.exprs.len();
        let mut expand_final = false;
        let close = loop {
            let tok = self.peek()?;
            if tok.kind == Tok::RParen {
                self.bump();
                break tok;
            }
            let arg = self.parse_expr()?;
            self.scratch.exprs.push(arg);
            let sep = self.next()?;
            match sep.kind {
                Tok::RParen => break sep,
                Tok::Comma => {
                    let tok = self.peek()?;
                    if tok.kind == Tok::RParen {
                        self.bump();
                        break tok;
                    }
                }
                Tok::Ellipsis => {
                    expand_final = true;
                    let close = self.next()?;
                    if close.kind != Tok::RParen {
                        return Err(self.error(
                            sep.start,
                            "Missing closing parenthesis: An expanded function argument (with ...) must be immediately followed by closing parentheses.",
                        ));
                    }
                    break close;
                }
                Tok::Eof => return Err(self.error(
                    first.start,
                    "Unterminated function call: There is no closing parenthesis for this function call before the end of the file. This may be caused by incorrect parenthesis nesting elsewhere in this file.",
                )),
                _ => return Err(self.error(
                    sep.start,
                    "Missing argument separator: A comma is required to separate each function argument from the next.",
                )),
            }
        };
        self.skip_newlines = saved;
        let args = take(&mut self.scratch.exprs, base);
        Ok(Expr {
            kind: ExprKind::Call(Box::new(Call {
                name: Ident {
                    name,
                    span: Span::new(first.start, name_end),
                },
                args,
                expand_final,
            })),
            span: Span::new(first.start, close.end),
        })
    }

    /// Parses a tuple `[a, b]` or a `[for ...]` after the `[`.
    fn parse_tuple(&mut self, open: Token) -> PResult<Expr> {
        let saved = self.set_skip_newlines(true);
        let first = self.peek()?;
        if self.is_keyword(first, "for") {
            let expr = self.parse_for(open, false)?;
            self.skip_newlines = saved;
            return Ok(expr);
        }
        let base = self.scratch.exprs.len();
        let close = loop {
            let tok = self.peek()?;
            if tok.kind == Tok::RBrack {
                self.bump();
                break tok;
            }
            let item = self.parse_expr()?;
            self.scratch.exprs.push(item);
            let sep = self.peek()?;
            match sep.kind {
                Tok::RBrack => {
                    self.bump();
                    break sep;
                }
                Tok::Comma => self.bump(),
                Tok::Eof => return Err(self.error(
                    open.start,
                    "Unterminated tuple constructor expression: There is no corresponding closing bracket before the end of the file. This may be caused by incorrect bracket nesting elsewhere in this file.",
                )),
                _ => return Err(self.error(
                    sep.start,
                    "Missing item separator: Expected a comma to mark the beginning of the next item.",
                )),
            }
        };
        self.skip_newlines = saved;
        let items = take(&mut self.scratch.exprs, base);
        Ok(Expr {
            kind: ExprKind::Tuple(items),
            span: Span::new(open.start, close.end),
        })
    }

    /// Parses an object `{ k = v, ... }` or a `{for ...}` after the `{`.
    /// Items are separated by commas or newlines.
    fn parse_object(&mut self, open: Token) -> PResult<Expr> {
        let saved = self.set_skip_newlines(true);
        let first = self.peek()?;
        if self.is_keyword(first, "for") {
            let expr = self.parse_for(open, true)?;
            self.skip_newlines = saved;
            return Ok(expr);
        }
        self.skip_newlines = false;
        let base = self.scratch.object_items.len();
        let close = loop {
            let tok = self.peek()?;
            match tok.kind {
                Tok::Newline => {
                    self.bump();
                    continue;
                }
                Tok::RBrace => {
                    self.bump();
                    break tok;
                }
                _ => {}
            }
            let item = self.parse_object_item(open, tok)?;
            self.scratch.object_items.push(item);
            let sep = self.peek()?;
            match sep.kind {
                Tok::RBrace => {
                    self.bump();
                    break sep;
                }
                Tok::Comma | Tok::Newline => self.bump(),
                Tok::Eof => return Err(self.unterminated_object(open)),
                _ => return Err(self.error(
                    sep.start,
                    "Missing attribute separator: Expected a newline or comma to mark the beginning of the next attribute.",
                )),
            }
        };
        self.skip_newlines = saved;
        let items = take(&mut self.scratch.object_items, base);
        Ok(Expr {
            kind: ExprKind::Object(items),
            span: Span::new(open.start, close.end),
        })
    }

    fn unterminated_object(&self, open: Token) -> Box<Error> {
        self.error(
            open.start,
            "Unterminated object constructor expression: There is no corresponding closing brace before the end of the file. This may be caused by incorrect brace nesting elsewhere in this file.",
        )
    }

    /// Parses `key = value` or `key: value`. A key that is a lone identifier
    /// (or keyword) not in parentheses names the key literally.
    fn parse_object_item(&mut self, open: Token, first: Token) -> PResult<ObjectItem> {
        let key = self.parse_expr()?;
        let sep = self.peek()?;
        match sep.kind {
            Tok::Assign | Tok::Colon => self.bump(),
            Tok::Newline | Tok::Comma => return Err(self.error(
                sep.start,
                "Missing attribute value: Expected an attribute value, introduced by an equals sign (\"=\").",
            )),
            Tok::Ident => return Err(self.error(
                sep.start,
                "Missing key/value separator: Expected an equals sign (\"=\") to mark the beginning of the attribute value. If you intended to given an attribute name containing periods or spaces, write the name in quotes to create a string literal.",
            )),
            Tok::Eof => return Err(self.unterminated_object(open)),
            _ => return Err(self.error(
                sep.start,
                "Missing key/value separator: Expected an equals sign (\"=\") to mark the beginning of the attribute value.",
            )),
        }
        let value = self.parse_expr()?;
        let key = match key.kind {
            ExprKind::Variable(ident) => ObjectKey::Ident(ident),
            ExprKind::Null | ExprKind::Bool(_) if first.kind == Tok::Ident => {
                ObjectKey::Ident(Ident {
                    name: self.text(first).to_owned(),
                    span: key.span,
                })
            }
            _ => ObjectKey::Expr(key),
        };
        Ok(ObjectItem { key, value })
    }

    /// Parses a `for` expression from its `for` keyword (newlines are being
    /// skipped) to its closing bracket or brace.
    fn parse_for(&mut self, open: Token, object: bool) -> PResult<Expr> {
        self.bump(); // `for`
        let first = self.next()?;
        if first.kind != Tok::Ident {
            return Err(self.error(
                first.start,
                "Invalid 'for' expression: For expression requires variable name after 'for'.",
            ));
        }
        let (key_var, value_var) = if self.peek()?.kind == Tok::Comma {
            self.bump();
            let second = self.next()?;
            if second.kind != Tok::Ident {
                return Err(self.error(
                    second.start,
                    "Invalid 'for' expression: For expression requires value variable name after comma.",
                ));
            }
            (Some(self.ident(first)), self.ident(second))
        } else {
            (None, self.ident(first))
        };
        let kw = self.next()?;
        if !self.is_keyword(kw, "in") {
            return Err(self.error(
                kw.start,
                "Invalid 'for' expression: For expression requires the 'in' keyword after its name declarations.",
            ));
        }
        let collection = self.parse_expr()?;
        let colon = self.next()?;
        if colon.kind != Tok::Colon {
            return Err(self.error(
                colon.start,
                "Invalid 'for' expression: For expression requires a colon after the collection expression.",
            ));
        }
        let mut value = self.parse_expr()?;
        let mut key = None;
        if self.peek()?.kind == Tok::FatArrow {
            self.bump();
            key = Some(std::mem::replace(&mut value, self.parse_expr()?));
        }
        let ellipsis = self.peek()?;
        let group = ellipsis.kind == Tok::Ellipsis;
        if group {
            self.bump();
        }
        let mut cond = None;
        let tok = self.peek()?;
        if self.is_keyword(tok, "if") {
            self.bump();
            cond = Some(self.parse_expr()?);
        }
        let close = self.next()?;
        let close_kind = if object { Tok::RBrace } else { Tok::RBrack };
        if close.kind != close_kind {
            return Err(self.error(
                close.start,
                "Invalid 'for' expression: Extra characters after the end of the 'for' expression.",
            ));
        }
        match (&key, object) {
            (Some(key), false) => {
                return Err(self.error(
                    key.span.start as usize,
                    "Invalid 'for' expression: Key expression is not valid when building a tuple.",
                ))
            }
            (None, true) => {
                return Err(self.error(
                    value.span.start as usize,
                    "Invalid 'for' expression: Key expression is required when building an object.",
                ))
            }
            _ => {}
        }
        if group && !object {
            return Err(self.error(
                ellipsis.start,
                "Invalid 'for' expression: Grouping ellipsis (...) cannot be used when building a tuple.",
            ));
        }
        Ok(Expr {
            kind: ExprKind::For(Box::new(ForExpr {
                key_var,
                value_var,
                collection,
                key,
                value,
                group,
                cond,
            })),
            span: Span::new(open.start, close.end),
        })
    }

    // ----- Templates ----------------------------------------------------

    /// Parses a quoted template after its opening quote.
    fn parse_quoted_template(&mut self, open: Token) -> PResult<Expr> {
        let start = open.end;
        if let Some(close) = plain_string_end(self.bytes, start) {
            // The common case: no escapes, no sequences.
            self.lexer.pos = close + 1;
            self.peeked = None;
            let parts = if close > start {
                let text = self.src.get(start..close).unwrap_or_default();
                vec![TemplatePart::Literal(text.to_owned())]
            } else {
                Vec::new()
            };
            return Ok(Expr {
                kind: ExprKind::Template(Template { parts }),
                span: Span::new(open.start, close + 1),
            });
        }
        let mut scan = self.start_template();
        let mut at = start;
        let close = loop {
            match lexer::quoted_piece(self.bytes, at) {
                Piece::Close => break at,
                Piece::Text { end, escapes } => {
                    let text = if escapes {
                        let from = self.scratch.text.len();
                        decode_escapes(self.src, at, end, &mut self.scratch.text)?;
                        TextRef::Buf(from, self.scratch.text.len())
                    } else {
                        TextRef::Src(at, end)
                    };
                    self.push_literal(&mut scan, text);
                    at = end;
                }
                Piece::EscapedOpen { end } => {
                    self.push_literal(&mut scan, TextRef::Src(at + 1, end));
                    at = end;
                }
                Piece::Interp { end, strip } => {
                    at = self.template_interp(&mut scan, at, end, strip, true)?;
                }
                Piece::Control { end, strip } => {
                    at = self.template_directive(&mut scan, at, end, strip)?;
                }
                Piece::Newline => return Err(self.multi_line_string(at)),
                Piece::Invalid => return Err(self.error(at, INVALID_CHARACTER)),
                Piece::Eof => return Err(self.unterminated_template(open)),
            }
        };
        self.lexer.pos = close + 1;
        self.peeked = None;
        let template = self.finish_template(&scan, false)?;
        Ok(Expr {
            kind: ExprKind::Template(template),
            span: Span::new(open.start, close + 1),
        })
    }

    fn unterminated_template(&self, open: Token) -> Box<Error> {
        self.error(
            open.start,
            "Unterminated template string: No closing marker was found for the string.",
        )
    }

    /// Parses a heredoc after its opener (`<<EOT` or `<<-EOT` and the
    /// newline). The closing marker must be alone on its line (spaces
    /// around it allowed) and followed by a newline; that newline is left
    /// to end the attribute.
    fn parse_heredoc(&mut self, open: Token) -> PResult<Expr> {
        let flush = self.bytes.get(open.start + 2) == Some(&b'-');
        let marker_start = open.start + 2 + usize::from(flush);
        let marker_end = lexer::ident_end(self.src, marker_start);
        let marker = self.src.get(marker_start..marker_end).unwrap_or_default();
        let mut scan = self.start_template();
        let mut at = open.end;
        let mut line_start = true;
        let (close_end, newline) = loop {
            if line_start {
                if let Some(found) = closing_marker(self.src, at, marker) {
                    break found;
                }
            }
            match lexer::heredoc_piece(self.bytes, at) {
                Piece::Text { end, .. } => {
                    self.push_literal(&mut scan, TextRef::Src(at, end));
                    line_start = self.bytes.get(end.wrapping_sub(1)) == Some(&b'\n');
                    at = end;
                }
                Piece::EscapedOpen { end } => {
                    self.push_literal(&mut scan, TextRef::Src(at + 1, end));
                    line_start = false;
                    at = end;
                }
                Piece::Interp { end, strip } => {
                    at = self.template_interp(&mut scan, at, end, strip, false)?;
                    line_start = false;
                }
                Piece::Control { end, strip } => {
                    at = self.template_directive(&mut scan, at, end, strip)?;
                    line_start = false;
                }
                Piece::Eof => return Err(self.unterminated_template(open)),
                Piece::Invalid | Piece::Close | Piece::Newline => {
                    return Err(self.error(at, INVALID_CHARACTER))
                }
            }
        };
        self.lexer.pos = newline;
        self.peeked = None;
        let template = self.finish_template(&scan, flush)?;
        Ok(Expr {
            kind: ExprKind::Template(template),
            span: Span::new(open.start, close_end),
        })
    }

    fn start_template(&self) -> TemplateScan {
        TemplateScan {
            base: self.scratch.pieces.len(),
            text_base: self.scratch.text.len(),
            ltrim_next: false,
            can_trim_prev: false,
        }
    }

    /// Adds literal text to the template being scanned, stripping its
    /// leading whitespace when the sequence before it ended with `~}`.
    fn push_literal(&mut self, scan: &mut TemplateScan, text: TextRef) {
        let text = if std::mem::take(&mut scan.ltrim_next) {
            trim_text(self.src, &self.scratch.text, text, Trim::Start)
        } else {
            text
        };
        self.scratch.pieces.push(TmplToken::Literal {
            text,
            line_lead: false,
        });
        scan.can_trim_prev = true;
    }

    /// What every sequence does first: `${~` and `%{~` strip the trailing
    /// whitespace of the literal right before them (only that one, as HCL's
    /// tokens go), and a `~}` before cannot strip past a sequence.
    fn begin_sequence(&mut self, scan: &mut TemplateScan, strip: bool) {
        scan.ltrim_next = false;
        let can_trim = std::mem::take(&mut scan.can_trim_prev);
        if strip && can_trim {
            let s = &mut self.scratch;
            if let Some(TmplToken::Literal { text, .. }) = s.pieces.last_mut() {
                *text = trim_text(self.src, &s.text, *text, Trim::End);
            }
        }
    }

    /// Parses `${ expr }` from the end of its opener; returns where the
    /// template text goes on.
    fn template_interp(
        &mut self,
        scan: &mut TemplateScan,
        start: usize,
        opener_end: usize,
        strip: bool,
        quoted: bool,
    ) -> PResult<usize> {
        self.begin_sequence(scan, strip);
        self.lexer.pos = opener_end;
        self.peeked = None;
        let saved = self.set_skip_newlines(true);
        let expr = self.parse_expr()?;
        let close = self.peek()?;
        let strip_after = match close.kind {
            Tok::RBrace => false,
            Tok::TildeRBrace => true,
            _ => return Err(self.interp_close_error(close, start, quoted)),
        };
        self.bump();
        self.skip_newlines = saved;
        scan.ltrim_next = strip_after;
        self.scratch.pieces.push(TmplToken::Interp {
            expr,
            span: Span::new(start, close.end),
        });
        Ok(close.end)
    }

    fn interp_close_error(&self, close: Token, start: usize, quoted: bool) -> Box<Error> {
        match close.kind {
            Tok::Eof => self.error(
                start,
                "Unclosed template interpolation sequence: There is no closing brace for this interpolation sequence before the end of the file. This might be caused by incorrect nesting inside the given expression.",
            ),
            Tok::Colon => self.error(
                close.start,
                "Extra characters after interpolation expression: Template interpolation doesn't expect a colon at this location. Did you intend this to be a literal sequence to be processed as part of another language? If so, you can escape it by starting with \"$${\" instead of just \"${\".",
            ),
            Tok::OQuote if quoted => self.error(
                start,
                "Unclosed template interpolation sequence: There is no closing brace for this interpolation sequence before the end of the quoted template. This might be caused by incorrect nesting inside the given expression.",
            ),
            _ => self.error(
                close.start,
                "Extra characters after interpolation expression: Expected a closing brace to end the interpolation expression, but found extra characters. This can happen when you include interpolation syntax for another language, such as shell scripting, but forget to escape the interpolation start token. If this is an embedded sequence for another language, escape it by starting with \"$${\" instead of just \"${\".",
            ),
        }
    }

    /// Parses a directive `%{ if c }`, `%{ else }`, `%{ endif }`,
    /// `%{ for k, v in c }` or `%{ endfor }` from the end of its opener;
    /// returns where the template text goes on. Directives are matched up
    /// later, by [`Parser::build_template`].
    fn template_directive(
        &mut self,
        scan: &mut TemplateScan,
        start: usize,
        opener_end: usize,
        strip: bool,
    ) -> PResult<usize> {
        self.begin_sequence(scan, strip);
        self.lexer.pos = opener_end;
        self.peeked = None;
        let saved = self.set_skip_newlines(true);
        let kw = self.next()?;
        if kw.kind != Tok::Ident {
            return Err(self.error(
                kw.start,
                "Invalid template directive: A template directive keyword (\"if\", \"for\", etc) is expected at the beginning of a %{ sequence.",
            ));
        }
        let keyword = self.text(kw);
        let token = match keyword {
            "if" => TmplToken::If {
                cond: self.parse_expr()?,
                start,
            },
            "for" => self.parse_for_directive(start)?,
            "else" => TmplToken::Else { start },
            "endif" => TmplToken::EndIf { start, end: 0 },
            "endfor" => TmplToken::EndFor { start, end: 0 },
            other => {
                let suggestion = ["if", "for", "else", "endif", "endfor"]
                    .into_iter()
                    .find(|s| levenshtein(other, s) < 3)
                    .map(|s| format!(" Did you mean \"{s}\"?"))
                    .unwrap_or_default();
                return Err(self.error(
                    kw.start,
                    format!(
                        "Invalid template control keyword: \"{other}\" is not a valid template control keyword.{suggestion}"
                    ),
                ));
            }
        };
        let close = self.peek()?;
        let strip_after = match close.kind {
            Tok::RBrace => false,
            Tok::TildeRBrace => true,
            _ => {
                return Err(self.error(
                    close.start,
                    format!(
                        "Extra characters in {keyword} marker: Expected a closing brace to end the sequence, but found extra characters."
                    ),
                ))
            }
        };
        self.bump();
        self.skip_newlines = saved;
        scan.ltrim_next = strip_after;
        let token = match token {
            TmplToken::EndIf { start, .. } => TmplToken::EndIf {
                start,
                end: close.end,
            },
            TmplToken::EndFor { start, .. } => TmplToken::EndFor {
                start,
                end: close.end,
            },
            other => other,
        };
        self.scratch.pieces.push(token);
        Ok(close.end)
    }

    /// Parses `k, v in coll` of a `%{ for }` directive.
    fn parse_for_directive(&mut self, start: usize) -> PResult<TmplToken> {
        let first = self.next()?;
        if first.kind != Tok::Ident {
            return Err(self.error(
                first.start,
                "Invalid 'for' directive: For directive requires variable name after 'for'.",
            ));
        }
        let (key_var, value_var) = if self.peek()?.kind == Tok::Comma {
            self.bump();
            let second = self.next()?;
            if second.kind != Tok::Ident {
                return Err(self.error(
                    second.start,
                    "Invalid 'for' directive: For directive requires value variable name after comma.",
                ));
            }
            (Some(self.ident(first)), self.ident(second))
        } else {
            (None, self.ident(first))
        };
        let kw = self.next()?;
        if !self.is_keyword(kw, "in") {
            return Err(self.error(
                kw.start,
                "Invalid 'for' directive: For directive requires 'in' keyword after names.",
            ));
        }
        let collection = self.parse_expr()?;
        Ok(TmplToken::For {
            key_var,
            value_var,
            collection,
            start,
        })
    }

    /// Turns the scanned pieces of a template into its tree: applies the
    /// `<<-` indentation rule, merges adjacent literals and matches
    /// directives up.
    fn finish_template(&mut self, scan: &TemplateScan, flush: bool) -> PResult<Template> {
        if flush {
            let s = &mut self.scratch;
            let pieces = s.pieces.get_mut(scan.base..).unwrap_or_default();
            flush_heredoc(self.src, &s.text, pieces);
        }
        let mut idx = scan.base;
        let (template, closer) = self.build_template(&mut idx)?;
        if let Some(closer) = closer {
            return Err(self.error(
                closer.start(),
                format!(
                    "Unexpected {} directive: The control directives within this template are unbalanced.",
                    closer.name()
                ),
            ));
        }
        self.scratch.pieces.truncate(scan.base);
        self.scratch.text.truncate(scan.text_base);
        Ok(template)
    }

    /// Builds a template from the pieces at `idx`, up to the end of the
    /// pieces or up to an `else`, `endif` or `endfor`, which is returned.
    fn build_template(&mut self, idx: &mut usize) -> PResult<(Template, Option<Closer>)> {
        let base = self.scratch.parts.len();
        let closer = loop {
            let Some(slot) = self.scratch.pieces.get_mut(*idx) else {
                break None;
            };
            let piece = std::mem::replace(slot, TmplToken::Taken);
            *idx += 1;
            let part = match piece {
                TmplToken::Literal { text, .. } => self.merge_literals(text, idx),
                TmplToken::Interp { expr, span } => TemplatePart::Interp { expr, span },
                TmplToken::If { cond, start } => self.build_if(cond, start, idx)?,
                TmplToken::For {
                    key_var,
                    value_var,
                    collection,
                    start,
                } => {
                    self.enter(start)?;
                    let (body, closer) = self.build_template(idx)?;
                    let end = match closer {
                        Some(Closer::EndFor { end, .. }) => end,
                        other => return Err(self.unbalanced_for(start, other)),
                    };
                    self.leave();
                    TemplatePart::For {
                        key_var,
                        value_var,
                        collection,
                        body,
                        span: Span::new(start, end),
                    }
                }
                TmplToken::Else { start, .. } => break Some(Closer::Else { start }),
                TmplToken::EndIf { start, end } => break Some(Closer::EndIf { start, end }),
                TmplToken::EndFor { start, end } => break Some(Closer::EndFor { start, end }),
                TmplToken::Taken => continue,
            };
            self.scratch.parts.push(part);
        };
        let parts = take(&mut self.scratch.parts, base);
        Ok((Template { parts }, closer))
    }

    /// Builds `%{ if }` from its condition, with its branches from the
    /// pieces at `idx` up to its `endif`.
    fn build_if(&mut self, cond: Expr, start: usize, idx: &mut usize) -> PResult<TemplatePart> {
        self.enter(start)?;
        let (then, closer) = self.build_template(idx)?;
        let (otherwise, end) = match closer {
            Some(Closer::EndIf { end, .. }) => (Template::default(), end),
            Some(Closer::Else { .. }) => {
                let (otherwise, closer) = self.build_template(idx)?;
                match closer {
                    Some(Closer::EndIf { end, .. }) => (otherwise, end),
                    Some(Closer::Else { start: at, .. }) => {
                        return Err(self.error(
                            at,
                            format!(
                                "Unexpected else directive: Already in the else clause for the if started at {}.",
                                self.pos(start)
                            ),
                        ))
                    }
                    other => return Err(self.unbalanced_if(start, other)),
                }
            }
            other => return Err(self.unbalanced_if(start, other)),
        };
        self.leave();
        Ok(TemplatePart::If {
            cond,
            then,
            otherwise,
            span: Span::new(start, end),
        })
    }

    fn unbalanced_if(&self, start: usize, closer: Option<Closer>) -> Box<Error> {
        match closer {
            Some(closer) => self.error(
                closer.start(),
                format!(
                    "Unexpected {} directive: Expecting an endif directive for the if started at {}.",
                    closer.name(),
                    self.pos(start)
                ),
            ),
            None => self.error(
                start,
                format!(
                    "Unexpected end of template: The if directive at {} is missing its corresponding endif directive.",
                    self.pos(start)
                ),
            ),
        }
    }

    fn unbalanced_for(&self, start: usize, closer: Option<Closer>) -> Box<Error> {
        match closer {
            Some(Closer::Else { start: at, .. }) => self.error(
                at,
                "Unexpected else directive: An else clause is not expected for a for directive.",
            ),
            Some(closer) => self.error(
                closer.start(),
                format!(
                    "Unexpected {} directive: Expecting an endfor directive corresponding to the for directive at {}.",
                    closer.name(),
                    self.pos(start)
                ),
            ),
            None => self.error(
                start,
                format!(
                    "Unexpected end of template: The for directive at {} is missing its corresponding endfor directive.",
                    self.pos(start)
                ),
            ),
        }
    }

    /// Joins the literal `first` and the literals right after it (from
    /// `idx` on) into one part.
    fn merge_literals(&mut self, first: TextRef, idx: &mut usize) -> TemplatePart {
        let s = &mut self.scratch;
        let mut len = text_of(self.src, &s.text, first).len();
        let mut end = *idx;
        while let Some(TmplToken::Literal { text, .. }) = s.pieces.get(end) {
            len += text_of(self.src, &s.text, *text).len();
            end += 1;
        }
        let mut out = String::with_capacity(len);
        out.push_str(text_of(self.src, &s.text, first));
        for piece in s.pieces.get(*idx..end).unwrap_or_default() {
            if let TmplToken::Literal { text, .. } = piece {
                out.push_str(text_of(self.src, &s.text, *text));
            }
        }
        *idx = end;
        TemplatePart::Literal(out)
    }
}

/// Where a quoted string that starts at `start` ends (the offset of its
/// closing quote) when it holds no escape, sequence or newline; `None`
/// otherwise.
fn plain_string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let rest = bytes.get(start..)?;
    let i = rest
        .iter()
        .position(|&b| matches!(b, b'"' | b'\\' | b'$' | b'%' | b'\n' | b'\r'))?;
    (rest.get(i) == Some(&b'"')).then_some(start + i)
}

/// If the line at `at` holds only the heredoc's closing `marker` (spaces
/// around it allowed) and ends with a newline: where the marker ends and
/// where the newline after it starts.
fn closing_marker(src: &str, at: usize, marker: &str) -> Option<(usize, usize)> {
    let rest = src.get(at..)?;
    let first = rest.bytes().find(|&b| b != b' ' && b != b'\t')?;
    // Cheap test before looking at the whole line.
    if first.is_ascii() && Some(first) != marker.bytes().next() {
        return None;
    }
    let nl = rest.find('\n')?;
    let line = rest.get(..nl)?;
    let trimmed = line.trim();
    if trimmed != marker {
        return None;
    }
    let lead = line.len() - line.trim_start().len();
    let newline = if line.ends_with('\r') { nl - 1 } else { nl };
    Some((at + lead + marker.len(), at + newline))
}

/// A piece of template text: a range of the source, or of the decoded
/// escapes in [`Scratch::text`].
#[derive(Debug, Clone, Copy)]
enum TextRef {
    Src(usize, usize),
    Buf(usize, usize),
}

fn text_of<'t>(src: &'t str, buf: &'t str, text: TextRef) -> &'t str {
    match text {
        TextRef::Src(a, b) => src.get(a..b),
        TextRef::Buf(a, b) => buf.get(a..b),
    }
    .unwrap_or_default()
}

#[derive(Clone, Copy)]
enum Trim {
    Start,
    End,
}

/// Strips Unicode whitespace (as HCL's strip markers do) from one side of a
/// piece of text.
fn trim_text(src: &str, buf: &str, text: TextRef, side: Trim) -> TextRef {
    let s = text_of(src, buf, text);
    let (cut_start, cut_end) = match side {
        Trim::Start => (s.len() - s.trim_start().len(), 0),
        Trim::End => (0, s.len() - s.trim_end().len()),
    };
    match text {
        TextRef::Src(a, b) => TextRef::Src(a + cut_start, b - cut_end),
        TextRef::Buf(a, b) => TextRef::Buf(a + cut_start, b - cut_end),
    }
}

/// One element of a template before its directives are matched up: HCL's
/// template tokens.
#[derive(Debug)]
enum TmplToken {
    /// Literal text; `line_lead` marks, in `<<-` heredocs, text that starts
    /// a line and loses the common indentation.
    Literal {
        text: TextRef,
        line_lead: bool,
    },
    Interp {
        expr: Expr,
        span: Span,
    },
    If {
        cond: Expr,
        start: usize,
    },
    Else {
        start: usize,
    },
    EndIf {
        start: usize,
        end: usize,
    },
    For {
        key_var: Option<Ident>,
        value_var: Ident,
        collection: Expr,
        start: usize,
    },
    EndFor {
        start: usize,
        end: usize,
    },
    /// Already moved into the tree.
    Taken,
}

/// A directive that ends a nested template.
#[derive(Debug, Clone, Copy)]
enum Closer {
    Else { start: usize },
    EndIf { start: usize, end: usize },
    EndFor { start: usize, end: usize },
}

impl Closer {
    fn name(self) -> &'static str {
        match self {
            Closer::Else { .. } => "else",
            Closer::EndIf { .. } => "endif",
            Closer::EndFor { .. } => "endfor",
        }
    }

    fn start(self) -> usize {
        match self {
            Closer::Else { start, .. }
            | Closer::EndIf { start, .. }
            | Closer::EndFor { start, .. } => start,
        }
    }
}

/// The state of the template being scanned.
struct TemplateScan {
    /// Where its pieces start on the scratch stack.
    base: usize,
    /// Where its decoded text starts in the scratch buffer.
    text_base: usize,
    /// The last sequence ended with `~}`: strip the next literal's start.
    ltrim_next: bool,
    /// The last piece was a literal, which a `${~` may strip.
    can_trim_prev: bool,
}

/// Applies the indentation rule of `<<-` heredocs, as HCL does: among the
/// literals that start a line (after strip markers were applied), the
/// smallest number of leading whitespace characters is removed from each
/// of them. Lines of only whitespace are neither counted nor changed, and a
/// line that starts with a sequence counts as unindented.
fn flush_heredoc(src: &str, buf: &str, pieces: &mut [TmplToken]) {
    let mut min = usize::MAX;
    let mut at_line_start = true;
    for piece in pieces.iter_mut() {
        let starts_line = std::mem::take(&mut at_line_start);
        match piece {
            TmplToken::Literal { text, line_lead } => {
                let s = text_of(src, buf, *text);
                if starts_line {
                    let rest = s.trim_start();
                    if !(rest.is_empty() && s.ends_with('\n')) {
                        let lead = s.get(..s.len() - rest.len()).unwrap_or_default();
                        min = min.min(count_graphemes(lead));
                        *line_lead = true;
                    }
                }
                at_line_start = s.ends_with('\n');
            }
            _ if starts_line => min = 0,
            _ => {}
        }
    }
    if min == 0 || min == usize::MAX {
        return;
    }
    for piece in pieces.iter_mut() {
        if let TmplToken::Literal {
            text,
            line_lead: true,
        } = piece
        {
            let cut = grapheme_offset(text_of(src, buf, *text), min);
            *text = match *text {
                TextRef::Src(a, b) => TextRef::Src(a + cut, b),
                TextRef::Buf(a, b) => TextRef::Buf(a + cut, b),
            };
        }
    }
}

/// The number of grapheme clusters (what HCL counts as characters) in a run
/// of whitespace.
fn count_graphemes(s: &str) -> usize {
    if s.is_ascii() {
        // Only "\r\n" would pair up, and it never leads a line's text.
        s.len()
    } else {
        s.graphemes(true).count()
    }
}

/// The byte offset after the first `n` grapheme clusters of `s`.
fn grapheme_offset(s: &str, n: usize) -> usize {
    // ASCII other than "\r\n" never joins the cluster before it.
    let ascii_prefix = s.bytes().take(n + 1).all(|b| b.is_ascii() && b != b'\n');
    if ascii_prefix {
        return n.min(s.len());
    }
    s.grapheme_indices(true).nth(n).map_or(s.len(), |(i, _)| i)
}

/// Appends the text of `src[start..end]` to `out`, decoding the escapes of
/// quoted strings: `\n \r \t \" \\ \uNNNN \UNNNNNNNN`.
fn decode_escapes(src: &str, start: usize, end: usize, out: &mut String) -> PResult<()> {
    let segment = src.get(start..end).unwrap_or_default();
    let mut rest = segment;
    while let Some(i) = rest.find('\\') {
        out.push_str(rest.get(..i).unwrap_or_default());
        let at = start + (segment.len() - rest.len()) + i;
        let after = rest.get(i + 1..).unwrap_or_default();
        let mut chars = after.chars();
        let selector = chars.next().unwrap_or('\\');
        let consumed = match selector {
            'n' | 'r' | 't' | '"' | '\\' => {
                out.push(match selector {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    other => other,
                });
                1
            }
            'u' | 'U' => {
                let want = if selector == 'u' { 4 } else { 8 };
                let digits = after
                    .bytes()
                    .skip(1)
                    .take(want)
                    .take_while(u8::is_ascii_hexdigit)
                    .count();
                if digits != want {
                    return Err(Box::new(Error::at(
                        src,
                        at,
                        format!(
                            "Invalid escape sequence: The \\{selector} escape sequence must be followed by {} hexadecimal digits.",
                            if want == 4 { "four" } else { "eight" }
                        ),
                    )));
                }
                let hex = after.get(1..1 + want).unwrap_or_default();
                let code = u32::from_str_radix(hex, 16).unwrap_or(u32::MAX);
                match char::from_u32(code) {
                    Some(c) => out.push(c),
                    None => {
                        return Err(Box::new(Error::at(
                            src,
                            at,
                            format!(
                                "Invalid escape sequence: Cannot encode character U+{code:04x} in UTF-8."
                            ),
                        )))
                    }
                }
                1 + want
            }
            other => {
                return Err(Box::new(Error::at(
                    src,
                    at,
                    format!(
                        "Invalid escape sequence: The symbol {:?} is not a valid escape sequence selector.",
                        other.to_string()
                    ),
                )))
            }
        };
        rest = after.get(consumed..).unwrap_or_default();
    }
    out.push_str(rest);
    Ok(())
}

/// The edit distance between two short words, for "did you mean" hints.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row.first().copied().unwrap_or(0);
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let above = row.get(j + 1).copied().unwrap_or(usize::MAX);
            let left = row.get(j).copied().unwrap_or(usize::MAX);
            let cost = diagonal + usize::from(ca != *cb);
            diagonal = above;
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = cost
                    .min(above.saturating_add(1))
                    .min(left.saturating_add(1));
            }
        }
    }
    row.last().copied().unwrap_or(0)
}
