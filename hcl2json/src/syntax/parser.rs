//! Parses HCL2 native syntax into the tree of [`super::ast`].
//!
//! A hand-written recursive-descent parser over the bytes of the source. It
//! follows hashicorp/hcl's `hclsyntax` parser closely, so that the same files
//! are accepted, the same trees come out and errors carry the same messages,
//! down to the quirks of HCL's scanner that strip markers and `<<-` heredocs
//! can observe. Three differences are by design:
//!
//! * It stops at the first error: one message, pointing at the offending
//!   token, is more useful to the command line than a cascade. (Where HCL
//!   points at the end of the file for an unclosed string or directive, this
//!   parser points at its start.)
//! * Tokens are read lazily, one ahead. Template text is scanned directly by
//!   the parser, which knows whether it is inside quotes, a heredoc or an
//!   interpolation, so no brace counting is needed to tell a `}` that closes
//!   `${` from one that closes an object.
//! * Lists under construction live on scratch stacks shared by the whole
//!   parse and are copied out at their exact size, so that the tree carries
//!   no spare capacity and building it allocates little besides the tree.
//!
//! Two things HCL accepts are rejected because the tree cannot hold them: a
//! splat inside the traversal that follows a full splat (`a[*].b[*].c`,
//! `a[*].b.*`), and input beyond the nesting limits ([`MAX_DEPTH`],
//! [`MAX_TREE_DEPTH`]) that keep the stack safe.

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

/// How deep an expression tree may get through chains of operators and
/// traversals (`a + b + ...`, `a.b.c...`), which the parser builds without
/// recursion. Trees are dropped and evaluated recursively, so their depth
/// must be bounded too: with [`MAX_DEPTH`] this keeps any tree under about
/// 1,300 levels.
pub const MAX_TREE_DEPTH: u32 = 512;

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
    /// The first invalid character met, as a token.
    invalid: Option<Token>,
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
    /// The tree depths of the operands in `exprs` during a binary chain.
    depths: Vec<u32>,
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

/// The binary operator a token stands for, if any.
fn binary_op(kind: Tok) -> Option<BinaryOp> {
    Some(match kind {
        Tok::Or => BinaryOp::Or,
        Tok::And => BinaryOp::And,
        Tok::Eq => BinaryOp::Eq,
        Tok::NotEq => BinaryOp::NotEq,
        Tok::Lt => BinaryOp::Lt,
        Tok::LtEq => BinaryOp::LtEq,
        Tok::Gt => BinaryOp::Gt,
        Tok::GtEq => BinaryOp::GtEq,
        Tok::Plus => BinaryOp::Add,
        Tok::Minus => BinaryOp::Sub,
        Tok::Star => BinaryOp::Mul,
        Tok::Slash => BinaryOp::Div,
        Tok::Percent => BinaryOp::Mod,
        _ => return None,
    })
}

/// Operator precedence, from `||` (1) to `*` (6).
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
            invalid: None,
            skip_newlines: false,
            depth: 0,
            scratch: Scratch::default(),
        }
    }

    // ----- Tokens -------------------------------------------------------

    /// The next token, without consuming it (newlines are skipped, and
    /// dropped, in the modes that ignore them).
    #[inline]
    fn peek(&mut self) -> Token {
        match self.peeked {
            Some(tok) if tok.kind != Tok::Newline || !self.skip_newlines => tok,
            _ => self.lex_next(),
        }
    }

    /// Reads the next meaningful token into the lookahead.
    ///
    /// An invalid character comes out as a token that no rule accepts, so
    /// the parser fails right there; [`Parser::error`] then reports the
    /// character rather than what the parser expected instead.
    #[inline(never)]
    fn lex_next(&mut self) -> Token {
        loop {
            let tok = match self.peeked.take() {
                Some(tok) => tok,
                None => self.lexer.next_token(),
            };
            match tok.kind {
                Tok::Newline if self.skip_newlines => continue,
                Tok::Invalid | Tok::OpenComment if self.invalid.is_none() => {
                    self.invalid = Some(tok);
                }
                _ => {}
            }
            self.peeked = Some(tok);
            return tok;
        }
    }

    /// Consumes the token returned by the last [`Parser::peek`].
    fn bump(&mut self) {
        self.peeked = None;
    }

    /// Consumes and returns the next token.
    fn next(&mut self) -> Token {
        let tok = self.peek();
        self.bump();
        tok
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

    /// The error at byte `at`, unless an invalid character was met: the
    /// parser stops right after reading one, and the character is the
    /// problem to report.
    #[cold]
    #[inline(never)]
    fn error(&self, at: usize, message: impl Into<String>) -> Box<Error> {
        if let Some(bad) = self.invalid {
            return Box::new(self.lexer.error_for(bad));
        }
        Box::new(Error::at(self.src, at, message))
    }

    /// The position of byte `at`, as `line:column`, for messages.
    fn pos(&self, at: usize) -> Pos {
        Pos::at(self.src, at)
    }

    /// How a token is named in "found ..." messages.
    fn describe(&self, tok: Token) -> String {
        match tok.kind {
            Tok::Newline if self.text(tok).starts_with(['#', '/']) => "a comment".to_owned(),
            Tok::Newline => "a newline".to_owned(),
            Tok::Eof => "the end of the file".to_owned(),
            _ => format!("\"{}\"", self.text(tok)),
        }
    }

    /// Counts one more level of nesting, failing past [`MAX_DEPTH`].
    fn enter(&mut self, at: usize) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.too_deep(at));
        }
        Ok(())
    }

    /// Counts one level of nesting less, after a successful [`Parser::enter`].
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
            let tok = self.peek();
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
        let next = self.peek();
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
            let end = self.peek();
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
        let open = self.next(); // the `{`, checked by parse_labels
        let next = self.peek();
        let (items, end) = match next.kind {
            Tok::Newline | Tok::Eof | Tok::RBrace => self.parse_body_items(Some(open))?,
            _ => self.parse_one_line_body(open, next)?,
        };
        let eol = self.peek();
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
            let tok = self.peek();
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
        let next = self.peek();
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
        let close = self.peek();
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
    ///
    /// The functions on the path of recursion are kept small (node building
    /// and messages live in helpers) so that each level of nesting costs
    /// little stack.
    fn parse_expr(&mut self) -> PResult<Expr> {
        let start = self.peek().start;
        self.enter(start)?;
        let mut expr = self.parse_binary()?;
        if self.peek().kind == Tok::Question {
            expr = self.parse_conditional(expr)?;
        }
        self.leave();
        Ok(expr)
    }

    /// Parses `? then : otherwise` after a condition. Both branches are
    /// whole expressions, so `a ? b : c ? d : e` nests to the right.
    fn parse_conditional(&mut self, cond: Expr) -> PResult<Expr> {
        self.bump(); // the `?`
        let then = self.parse_expr()?;
        self.expect(Tok::Colon, Msg::MissingFalse)?;
        let otherwise = self.parse_expr()?;
        Ok(conditional(cond, then, otherwise))
    }

    /// Consumes the next token if it is of `kind`, or fails with `msg` at it.
    fn expect(&mut self, kind: Tok, msg: Msg) -> PResult<Token> {
        let tok = self.peek();
        if tok.kind != kind {
            return Err(self.fail(tok.start, msg));
        }
        self.bump();
        Ok(tok)
    }

    /// The error `msg` at byte `at`.
    #[cold]
    #[inline(never)]
    fn fail(&self, at: usize, msg: Msg) -> Box<Error> {
        self.error(at, msg.text())
    }

    /// Parses a chain of binary operations with an explicit operator stack
    /// (so that long chains cost no recursion): operators of equal
    /// precedence associate to the left. The depth of the tree being built
    /// is tracked alongside, see [`MAX_TREE_DEPTH`].
    fn parse_binary(&mut self) -> PResult<Expr> {
        let first = self.parse_unary()?;
        let Some(op) = binary_op(self.peek().kind) else {
            return Ok(first);
        };
        let expr_base = self.scratch.exprs.len();
        let op_base = self.scratch.ops.len();
        self.scratch.depths.push(tree_depth(&first, MAX_TREE_DEPTH));
        self.scratch.exprs.push(first);
        let mut next_op = Some(op);
        while let Some(op) = next_op {
            let op_tok = self.next();
            while self.scratch.ops.len() > op_base
                && self
                    .scratch
                    .ops
                    .last()
                    .is_some_and(|&top| precedence(top) >= precedence(op))
            {
                self.reduce_binary(op_tok.start)?;
            }
            self.scratch.ops.push(op);
            let rhs = self.parse_unary()?;
            self.scratch.depths.push(tree_depth(&rhs, MAX_TREE_DEPTH));
            self.scratch.exprs.push(rhs);
            next_op = binary_op(self.peek().kind);
        }
        let end = self.peek().start;
        while self.scratch.ops.len() > op_base {
            self.reduce_binary(end)?;
        }
        let result = if self.scratch.exprs.len() == expr_base + 1 {
            self.scratch.depths.pop();
            self.scratch.exprs.pop()
        } else {
            None
        };
        result.ok_or_else(|| self.error(0, "Internal error: unbalanced operator stack"))
    }

    /// Replaces the top two operands by the top operator applied to them,
    /// failing at `at` if that makes the tree too deep.
    fn reduce_binary(&mut self, at: usize) -> PResult<()> {
        let s = &mut self.scratch;
        let (Some(op), Some(rhs), Some(lhs)) = (s.ops.pop(), s.exprs.pop(), s.exprs.pop()) else {
            return Ok(());
        };
        let (Some(rhs_depth), Some(lhs_depth)) = (s.depths.pop(), s.depths.pop()) else {
            return Ok(());
        };
        let depth = lhs_depth.max(rhs_depth) + 1;
        let span = join(lhs.span, rhs.span);
        s.exprs.push(Expr {
            kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
            span,
        });
        s.depths.push(depth);
        if depth > MAX_TREE_DEPTH {
            return Err(self.too_deep(at));
        }
        Ok(())
    }

    #[cold]
    fn too_deep(&self, at: usize) -> Box<Error> {
        self.error(
            at,
            format!(
                "Nesting too deep: Expressions, blocks and templates may be nested at most {MAX_DEPTH} levels deep, and chains of operators and traversals may be at most {MAX_TREE_DEPTH} long."
            ),
        )
    }

    /// Parses `-x`, `!x` or a term with its traversals. The operand of a
    /// unary operator is a term with its traversals, so `-a.b` is `-(a.b)`
    /// and `-1 + 2` is `(-1) + 2`.
    fn parse_unary(&mut self) -> PResult<Expr> {
        let tok = self.peek();
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
        // The depth of the tree, worked out at the first traversal only.
        let mut depth = None;
        loop {
            let tok = self.peek();
            if !matches!(tok.kind, Tok::Dot | Tok::LBrack) {
                return Ok(expr);
            }
            let below = depth.unwrap_or_else(|| tree_depth(&expr, MAX_TREE_DEPTH));
            self.bump();
            expr = if tok.kind == Tok::Dot {
                self.parse_after_dot(expr)?
            } else {
                self.parse_after_bracket(expr)?
            };
            let new_depth = below.max(key_depth(&expr, MAX_TREE_DEPTH)) + 1;
            if new_depth > MAX_TREE_DEPTH {
                return Err(self.too_deep(tok.start));
            }
            depth = Some(new_depth);
        }
    }

    /// Parses what follows a `.` applied to `source`.
    fn parse_after_dot(&mut self, source: Expr) -> PResult<Expr> {
        let tok = self.next();
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
            // A pathological number would make a pathological message.
            let example = if text.len() <= 40 {
                format!(", like [{first}][{second}]")
            } else {
                String::new()
            };
            return Err(self.error(
                tok.start,
                format!(
                    "Invalid legacy index syntax: When using the legacy index syntax, chaining two indexes together is not permitted. {how}{example}."
                ),
            ));
        }
        self.number_literal(tok)
    }

    /// Parses an attribute-only splat after its `.*`: the following `.name`
    /// (and legacy `.0`) steps apply to each element.
    fn parse_attr_splat(&mut self, source: Expr, star: Token) -> PResult<Expr> {
        let (each, end) = self.parse_attr_splat_steps(star.end)?;
        Ok(self.splat(source, each, false, end))
    }

    /// The `.name` and `.0` steps of an attribute-only splat, and where the
    /// last one ends (`end` if there are none).
    fn parse_attr_splat_steps(&mut self, mut end: usize) -> PResult<(Vec<Traversal>, usize)> {
        let base = self.scratch.steps.len();
        while self.peek().kind == Tok::Dot {
            self.bump();
            let tok = self.next();
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
        Ok((take(&mut self.scratch.steps, base), end))
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
        if self.peek().kind == Tok::Star {
            self.bump();
            let close = self.next();
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
        let close = self.peek();
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
        let (each, end) = self.parse_full_splat_steps(marker_end)?;
        Ok(self.splat(source, each, true, end))
    }

    /// The steps after a `[*]`, and where the last one ends. As in HCL, a
    /// nested `[*]` takes every step after it and a nested `.*` its
    /// attribute steps; both become one [`Traversal::Splat`] step.
    fn parse_full_splat_steps(&mut self, marker_end: usize) -> PResult<(Vec<Traversal>, usize)> {
        self.enter(marker_end)?;
        let mut steps = Vec::new();
        let mut end = marker_end;
        loop {
            let tok = self.peek();
            let step = match tok.kind {
                Tok::Dot => {
                    self.bump();
                    let tok = self.next();
                    end = tok.end;
                    match tok.kind {
                        Tok::Ident => Traversal::Attr(self.ident(tok)),
                        Tok::Number => Traversal::Index(self.legacy_index(tok, false)?),
                        Tok::Star => {
                            let (each, attr_end) = self.parse_attr_splat_steps(tok.end)?;
                            end = attr_end;
                            Traversal::Splat { each, full: false }
                        }
                        _ => return Err(self.invalid_attribute_name(tok)),
                    }
                }
                Tok::LBrack => {
                    self.bump();
                    if self.peek().kind == Tok::Star {
                        self.bump();
                        let close = self.next();
                        if close.kind != Tok::RBrack {
                            return Err(self.error(
                                close.start,
                                "Missing close bracket on splat index: The star for a full splat operator must be immediately followed by a closing bracket (\"]\").",
                            ));
                        }
                        let (each, inner_end) = self.parse_full_splat_steps(close.end)?;
                        steps.push(Traversal::Splat { each, full: true });
                        end = inner_end;
                        break;
                    }
                    let (key, close_end) = self.parse_index_key()?;
                    end = close_end;
                    Traversal::Index(key)
                }
                _ => break,
            };
            steps.push(step);
        }
        self.leave();
        Ok((steps, end))
    }

    /// Parses a term: a literal, a variable, a call, a template, a
    /// collection, a `for` expression or a parenthesized expression.
    fn parse_term(&mut self) -> PResult<Expr> {
        let tok = self.next();
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
        let next = self.peek();
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
        let close = self.peek();
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
        let name = self.parse_call_name(first)?;
        let saved = self.set_skip_newlines(true);
        let base = self.scratch.exprs.len();
        let mut expand_final = false;
        let close = loop {
            let tok = self.peek();
            if tok.kind == Tok::RParen {
                self.bump();
                break tok;
            }
            let arg = self.parse_expr()?;
            self.scratch.exprs.push(arg);
            let sep = self.next();
            match sep.kind {
                Tok::RParen => break sep,
                Tok::Comma if self.peek().kind == Tok::RParen => break self.next(),
                Tok::Comma => {}
                Tok::Ellipsis => {
                    expand_final = true;
                    let close = self.next();
                    if close.kind != Tok::RParen {
                        return Err(self.fail(sep.start, Msg::ExpandNotLast));
                    }
                    break close;
                }
                Tok::Eof => return Err(self.fail(first.start, Msg::UnterminatedCall)),
                _ => return Err(self.fail(sep.start, Msg::MissingArgSeparator)),
            }
        };
        self.skip_newlines = saved;
        let args = take(&mut self.scratch.exprs, base);
        Ok(call(name, args, expand_final, close.end))
    }

    /// Reads a function's name, with its namespaces, and the `(` after it.
    fn parse_call_name(&mut self, first: Token) -> PResult<Ident> {
        let mut name = self.text(first).to_owned();
        let mut name_end = first.end;
        let mut open = self.next();
        while open.kind == Tok::DoubleColon {
            let part = self.next();
            if part.kind != Tok::Ident {
                return Err(self.fail(part.start, Msg::MissingFunctionName));
            }
            name.push_str("::");
            name.push_str(self.text(part));
            name_end = part.end;
            open = self.next();
        }
        if open.kind != Tok::LParen {
            return Err(self.fail(open.start, Msg::MissingOpenParen));
        }
        Ok(Ident {
            name,
            span: Span::new(first.start, name_end),
        })
    }

    /// Parses a tuple `[a, b]` or a `[for ...]` after the `[`.
    fn parse_tuple(&mut self, open: Token) -> PResult<Expr> {
        let saved = self.set_skip_newlines(true);
        let first = self.peek();
        if self.is_keyword(first, "for") {
            let expr = self.parse_for(open, false)?;
            self.skip_newlines = saved;
            return Ok(expr);
        }
        let base = self.scratch.exprs.len();
        let close = loop {
            let tok = self.peek();
            if tok.kind == Tok::RBrack {
                self.bump();
                break tok;
            }
            let item = self.parse_expr()?;
            self.scratch.exprs.push(item);
            let sep = self.peek();
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
        let first = self.peek();
        if self.is_keyword(first, "for") {
            let expr = self.parse_for(open, true)?;
            self.skip_newlines = saved;
            return Ok(expr);
        }
        self.skip_newlines = false;
        let base = self.scratch.object_items.len();
        let close = loop {
            let tok = self.peek();
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
            let sep = self.peek();
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
        let sep = self.peek();
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
        let (key_var, value_var) = self.parse_for_names(false)?;
        let collection = self.parse_expr()?;
        self.expect(Tok::Colon, Msg::ForColon)?;
        let (key, value, group) = self.parse_for_results()?;
        let cond = self.parse_for_cond()?;
        let close = self.next();
        let close_kind = if object { Tok::RBrace } else { Tok::RBrack };
        if close.kind != close_kind {
            return Err(self.fail(close.start, Msg::ForExtra));
        }
        self.check_for(object, key.as_ref(), &value, group)?;
        Ok(for_expr(
            ForExpr {
                key_var,
                value_var,
                collection,
                key,
                value,
                group: group.is_some(),
                cond,
            },
            open.start,
            close.end,
        ))
    }

    /// Reads `k, v in` or `v in` after `for` (of an expression, or of a
    /// template directive), returning the key and value variables.
    fn parse_for_names(&mut self, directive: bool) -> PResult<(Option<Ident>, Ident)> {
        let (no_name, no_value, no_in) = if directive {
            (Msg::ForDirName, Msg::ForDirValueName, Msg::ForDirIn)
        } else {
            (Msg::ForName, Msg::ForValueName, Msg::ForIn)
        };
        let first = self.expect(Tok::Ident, no_name)?;
        let names = if self.peek().kind == Tok::Comma {
            self.bump();
            let second = self.expect(Tok::Ident, no_value)?;
            (Some(self.ident(first)), self.ident(second))
        } else {
            (None, self.ident(first))
        };
        let kw = self.next();
        if !self.is_keyword(kw, "in") {
            return Err(self.fail(kw.start, no_in));
        }
        Ok(names)
    }

    /// Reads `value` or `key => value`, and a grouping `...` (whose offset
    /// is returned), after the colon of a `for` expression.
    fn parse_for_results(&mut self) -> PResult<(Option<Expr>, Expr, Option<usize>)> {
        let mut value = self.parse_expr()?;
        let mut key = None;
        if self.peek().kind == Tok::FatArrow {
            self.bump();
            key = Some(std::mem::replace(&mut value, self.parse_expr()?));
        }
        let ellipsis = self.peek();
        let group = (ellipsis.kind == Tok::Ellipsis).then_some(ellipsis.start);
        if group.is_some() {
            self.bump();
        }
        Ok((key, value, group))
    }

    /// Reads the `if cond` filter of a `for` expression, if there is one.
    fn parse_for_cond(&mut self) -> PResult<Option<Expr>> {
        let tok = self.peek();
        if !self.is_keyword(tok, "if") {
            return Ok(None);
        }
        self.bump();
        Ok(Some(self.parse_expr()?))
    }

    /// Checks that a key and a grouping `...` appear only in object `for`s,
    /// and that those have a key.
    fn check_for(
        &self,
        object: bool,
        key: Option<&Expr>,
        value: &Expr,
        group: Option<usize>,
    ) -> PResult<()> {
        match (key, object, group) {
            (Some(key), false, _) => Err(self.fail(key.span.start as usize, Msg::ForTupleKey)),
            (None, true, _) => Err(self.fail(value.span.start as usize, Msg::ForObjectKey)),
            (_, false, Some(at)) => Err(self.fail(at, Msg::ForTupleGroup)),
            _ => Ok(()),
        }
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
        let close = self.peek();
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
        let kw = self.next();
        let token = self.parse_directive(kw, start)?;
        let close = self.peek();
        let strip_after = match close.kind {
            Tok::RBrace => false,
            Tok::TildeRBrace => true,
            _ => return Err(self.directive_extra(kw, close)),
        };
        self.bump();
        self.skip_newlines = saved;
        scan.ltrim_next = strip_after;
        self.scratch.pieces.push(token.ending_at(close.end));
        Ok(close.end)
    }

    /// Parses what follows the keyword of a directive.
    fn parse_directive(&mut self, kw: Token, start: usize) -> PResult<TmplToken> {
        if kw.kind != Tok::Ident {
            return Err(self.fail(kw.start, Msg::DirectiveKeyword));
        }
        Ok(match self.text(kw) {
            "if" => TmplToken::If {
                cond: self.parse_expr()?,
                start,
            },
            "for" => {
                let (key_var, value_var) = self.parse_for_names(true)?;
                TmplToken::For {
                    key_var,
                    value_var,
                    collection: self.parse_expr()?,
                    start,
                }
            }
            "else" => TmplToken::Else { start },
            "endif" => TmplToken::EndIf { start, end: 0 },
            "endfor" => TmplToken::EndFor { start, end: 0 },
            _ => return Err(self.unknown_directive(kw)),
        })
    }

    #[cold]
    fn unknown_directive(&self, kw: Token) -> Box<Error> {
        let given = self.text(kw);
        let suggestion = ["if", "for", "else", "endif", "endfor"]
            .into_iter()
            .find(|s| levenshtein(given, s) < 3)
            .map(|s| format!(" Did you mean \"{s}\"?"))
            .unwrap_or_default();
        self.error(
            kw.start,
            format!(
                "Invalid template control keyword: \"{given}\" is not a valid template control keyword.{suggestion}"
            ),
        )
    }

    #[cold]
    fn directive_extra(&self, kw: Token, close: Token) -> Box<Error> {
        self.error(
            close.start,
            format!(
                "Extra characters in {} marker: Expected a closing brace to end the sequence, but found extra characters.",
                self.text(kw)
            ),
        )
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
                } => self.build_for(key_var, value_var, collection, start, idx)?,
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

    /// Builds `%{ for }` from its header, with its body from the pieces at
    /// `idx` up to its `endfor`.
    fn build_for(
        &mut self,
        key_var: Option<Ident>,
        value_var: Ident,
        collection: Expr,
        start: usize,
        idx: &mut usize,
    ) -> PResult<TemplatePart> {
        self.enter(start)?;
        let (body, closer) = self.build_template(idx)?;
        let end = match closer {
            Some(Closer::EndFor { end, .. }) => end,
            other => return Err(self.unbalanced_for(start, other)),
        };
        self.leave();
        Ok(TemplatePart::For {
            key_var,
            value_var,
            collection,
            body,
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

impl TmplToken {
    /// The token with the end of its directive set, for closing directives.
    fn ending_at(self, end: usize) -> TmplToken {
        match self {
            TmplToken::EndIf { start, .. } => TmplToken::EndIf { start, end },
            TmplToken::EndFor { start, .. } => TmplToken::EndFor { start, end },
            other => other,
        }
    }
}

fn conditional(cond: Expr, then: Expr, otherwise: Expr) -> Expr {
    let span = join(cond.span, otherwise.span);
    Expr {
        kind: ExprKind::Conditional(Box::new(Conditional {
            cond,
            then,
            otherwise,
        })),
        span,
    }
}

fn call(name: Ident, args: Vec<Expr>, expand_final: bool, end: usize) -> Expr {
    let span = Span::new(name.span.start as usize, end);
    Expr {
        kind: ExprKind::Call(Box::new(Call {
            name,
            args,
            expand_final,
        })),
        span,
    }
}

fn for_expr(expr: ForExpr, start: usize, end: usize) -> Expr {
    Expr {
        kind: ExprKind::For(Box::new(expr)),
        span: Span::new(start, end),
    }
}

/// Fixed error messages, kept out of the parsing functions so that their
/// stack frames stay small.
#[derive(Debug, Clone, Copy)]
enum Msg {
    MissingFalse,
    ExpandNotLast,
    UnterminatedCall,
    MissingArgSeparator,
    MissingFunctionName,
    MissingOpenParen,
    ForName,
    ForValueName,
    ForIn,
    ForColon,
    ForExtra,
    ForTupleKey,
    ForObjectKey,
    ForTupleGroup,
    ForDirName,
    ForDirValueName,
    ForDirIn,
    DirectiveKeyword,
}

impl Msg {
    fn text(self) -> &'static str {
        match self {
            Msg::MissingFalse => "Missing false expression in conditional: The conditional operator (...?...:...) requires a false expression, delimited by a colon.",
            Msg::ExpandNotLast => "Missing closing parenthesis: An expanded function argument (with ...) must be immediately followed by closing parentheses.",
            Msg::UnterminatedCall => "Unterminated function call: There is no closing parenthesis for this function call before the end of the file. This may be caused by incorrect parenthesis nesting elsewhere in this file.",
            Msg::MissingArgSeparator => "Missing argument separator: A comma is required to separate each function argument from the next.",
            Msg::MissingFunctionName => "Missing function name: Function scope resolution symbol :: must be followed by a function name in this scope.",
            Msg::MissingOpenParen => "Missing open parenthesis: Function selector must be followed by an open parenthesis to begin the function call.",
            Msg::ForName => "Invalid 'for' expression: For expression requires variable name after 'for'.",
            Msg::ForValueName => "Invalid 'for' expression: For expression requires value variable name after comma.",
            Msg::ForIn => "Invalid 'for' expression: For expression requires the 'in' keyword after its name declarations.",
            Msg::ForColon => "Invalid 'for' expression: For expression requires a colon after the collection expression.",
            Msg::ForExtra => "Invalid 'for' expression: Extra characters after the end of the 'for' expression.",
            Msg::ForTupleKey => "Invalid 'for' expression: Key expression is not valid when building a tuple.",
            Msg::ForObjectKey => "Invalid 'for' expression: Key expression is required when building an object.",
            Msg::ForTupleGroup => "Invalid 'for' expression: Grouping ellipsis (...) cannot be used when building a tuple.",
            Msg::ForDirName => "Invalid 'for' directive: For directive requires variable name after 'for'.",
            Msg::ForDirValueName => "Invalid 'for' directive: For directive requires value variable name after comma.",
            Msg::ForDirIn => "Invalid 'for' directive: For directive requires 'in' keyword after names.",
            Msg::DirectiveKeyword => "Invalid template directive: A template directive keyword (\"if\", \"for\", etc) is expected at the beginning of a %{ sequence.",
        }
    }
}

/// The depth of an expression tree (a leaf is 1), counted up to
/// `budget + 1` at most, so that the walk itself is bounded.
fn tree_depth(expr: &Expr, budget: u32) -> u32 {
    let Some(below) = budget.checked_sub(1) else {
        return 1;
    };
    let max = |exprs: &mut dyn Iterator<Item = &Expr>| {
        exprs.map(|e| tree_depth(e, below)).max().unwrap_or(0)
    };
    1 + match &expr.kind {
        ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) | ExprKind::Variable(_) => 0,
        ExprKind::Template(t) => template_depth(t, below),
        ExprKind::Tuple(items) => max(&mut items.iter()),
        ExprKind::Object(items) => max(&mut items.iter().flat_map(|item| {
            let key = match &item.key {
                ObjectKey::Expr(key) => Some(key),
                ObjectKey::Ident(_) => None,
            };
            key.into_iter().chain(std::iter::once(&item.value))
        })),
        ExprKind::GetAttr(source, _) | ExprKind::Unary(_, source) | ExprKind::Parens(source) => {
            tree_depth(source, below)
        }
        ExprKind::Index(source, key) | ExprKind::Binary(_, source, key) => {
            max(&mut [&**source, &**key].into_iter())
        }
        ExprKind::Splat(splat) => tree_depth(&splat.source, below).max(key_depth(expr, below)),
        ExprKind::Call(call) => max(&mut call.args.iter()),
        ExprKind::Conditional(c) => max(&mut [&c.cond, &c.then, &c.otherwise].into_iter()),
        ExprKind::For(f) => max(&mut [&f.collection, &f.value]
            .into_iter()
            .chain(f.key.as_ref())
            .chain(f.cond.as_ref())),
    }
}

/// The depth of a template's tree (the template is not counted).
fn template_depth(template: &Template, budget: u32) -> u32 {
    let Some(below) = budget.checked_sub(1) else {
        return 1;
    };
    template
        .parts
        .iter()
        .map(|part| match part {
            TemplatePart::Literal(_) => 0,
            TemplatePart::Interp { expr, .. } => tree_depth(expr, budget),
            TemplatePart::If {
                cond,
                then,
                otherwise,
                ..
            } => {
                tree_depth(cond, below)
                    .max(template_depth(then, below))
                    .max(template_depth(otherwise, below))
                    + 1
            }
            TemplatePart::For {
                collection, body, ..
            } => tree_depth(collection, below).max(template_depth(body, below)) + 1,
        })
        .max()
        .unwrap_or(0)
}

/// The depth of the keys a traversal node holds besides its source: the
/// key of an index, the index keys of a splat's steps.
fn key_depth(expr: &Expr, budget: u32) -> u32 {
    match &expr.kind {
        ExprKind::Index(_, key) => tree_depth(key, budget),
        ExprKind::Splat(splat) => splat
            .each
            .iter()
            .map(|step| match step {
                Traversal::Index(key) => tree_depth(key, budget),
                Traversal::Attr(_) | Traversal::Splat { .. } => 0,
            })
            .max()
            .unwrap_or(0),
        _ => 0,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::visit_exprs;

    // ----- Helpers ------------------------------------------------------

    /// A compact, span-free rendering of a body, to state expected trees.
    fn show_body(body: &Body) -> String {
        let items: Vec<String> = body.items.iter().map(show_item).collect();
        format!("(body{})", prefixed(&items))
    }

    fn show_item(item: &Item) -> String {
        match item {
            Item::Attribute(a) => format!("(attr {} {})", a.name.name, show(&a.expr)),
            Item::Block(b) => {
                let labels: Vec<String> =
                    b.labels.iter().map(|l| format!("{:?}", l.value)).collect();
                format!(
                    "(block {} [{}] {})",
                    b.ident.name,
                    labels.join(" "),
                    show_body(&b.body)
                )
            }
        }
    }

    fn prefixed(parts: &[String]) -> String {
        parts.iter().map(|p| format!(" {p}")).collect()
    }

    fn show_template(t: &Template) -> String {
        let parts: Vec<String> = t
            .parts
            .iter()
            .map(|p| match p {
                TemplatePart::Literal(s) => format!("{s:?}"),
                TemplatePart::Interp { expr, .. } => format!("${{{}}}", show(expr)),
                TemplatePart::If {
                    cond,
                    then,
                    otherwise,
                    ..
                } => format!(
                    "(if {} {} {})",
                    show(cond),
                    show_template(then),
                    show_template(otherwise)
                ),
                TemplatePart::For {
                    key_var,
                    value_var,
                    collection,
                    body,
                    ..
                } => format!(
                    "(for {} {} {} {})",
                    key_var.as_ref().map_or("_", |k| k.name.as_str()),
                    value_var.name,
                    show(collection),
                    show_template(body)
                ),
            })
            .collect();
        format!("(tmpl{})", prefixed(&parts))
    }

    fn show_steps(steps: &[Traversal]) -> String {
        steps
            .iter()
            .map(|t| match t {
                Traversal::Attr(i) => format!(".{}", i.name),
                Traversal::Index(k) => format!("[{}]", show(k)),
                Traversal::Splat { each, full } => {
                    let marker = if *full { "[*]" } else { ".*" };
                    format!("{marker}{}", show_steps(each))
                }
            })
            .collect()
    }

    fn show(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Null => "null".into(),
            ExprKind::Bool(b) => b.to_string(),
            ExprKind::Number(Number::Int(i)) => i.to_string(),
            ExprKind::Number(Number::Float(f)) => format!("{f:?}"),
            ExprKind::Template(t) => show_template(t),
            ExprKind::Tuple(items) => {
                let items: Vec<String> = items.iter().map(show).collect();
                format!("[{}]", items.join(" "))
            }
            ExprKind::Object(items) => {
                let items: Vec<String> = items
                    .iter()
                    .map(|it| {
                        let key = match &it.key {
                            ObjectKey::Ident(i) => i.name.clone(),
                            ObjectKey::Expr(k) => format!("<{}>", show(k)),
                        };
                        format!("{key}={}", show(&it.value))
                    })
                    .collect();
                format!("{{{}}}", items.join(" "))
            }
            ExprKind::Variable(i) => i.name.clone(),
            ExprKind::GetAttr(src, name) => format!("{}.{}", show(src), name.name),
            ExprKind::Index(src, key) => format!("{}[{}]", show(src), show(key)),
            ExprKind::Splat(s) => {
                let steps = show_steps(&s.each);
                let marker = if s.full { "[*]" } else { ".*" };
                format!("({}{marker}{steps})", show(&s.source))
            }
            ExprKind::Call(c) => {
                let args: Vec<String> = c.args.iter().map(show).collect();
                let dots = if c.expand_final { "..." } else { "" };
                format!("{}({}{dots})", c.name.name, args.join(", "))
            }
            ExprKind::Unary(UnaryOp::Neg, x) => format!("(-{})", show(x)),
            ExprKind::Unary(UnaryOp::Not, x) => format!("(!{})", show(x)),
            ExprKind::Binary(op, a, b) => format!("({} {} {})", show(a), op_text(*op), show(b)),
            ExprKind::Conditional(c) => {
                format!(
                    "({} ? {} : {})",
                    show(&c.cond),
                    show(&c.then),
                    show(&c.otherwise)
                )
            }
            ExprKind::For(f) => {
                let mut s = format!(
                    "(for {} {} in {} :",
                    f.key_var.as_ref().map_or("_", |k| k.name.as_str()),
                    f.value_var.name,
                    show(&f.collection)
                );
                if let Some(k) = &f.key {
                    s += &format!(" {} =>", show(k));
                }
                s += &format!(" {}", show(&f.value));
                if f.group {
                    s += "...";
                }
                if let Some(c) = &f.cond {
                    s += &format!(" if {}", show(c));
                }
                s + ")"
            }
            ExprKind::Parens(x) => format!("(({}))", show(x)),
        }
    }

    fn op_text(op: BinaryOp) -> &'static str {
        match op {
            BinaryOp::Or => "||",
            BinaryOp::And => "&&",
            BinaryOp::Eq => "==",
            BinaryOp::NotEq => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
        }
    }

    fn parse_ok(src: &str) -> Body {
        parse_body(src).unwrap_or_else(|e| panic!("{src:?} failed: {e}"))
    }

    /// The body of `src`, rendered.
    fn body(src: &str) -> String {
        show_body(&parse_ok(src))
    }

    /// The value of `a = <src>`.
    fn value_expr(src: &str) -> Expr {
        let whole = format!("a = {src}\n");
        match parse_ok(&whole).items.into_iter().next() {
            Some(Item::Attribute(a)) => a.expr,
            other => panic!("not an attribute: {other:?}"),
        }
    }

    /// The value of `a = <src>`, rendered.
    fn expr(src: &str) -> String {
        show(&value_expr(src))
    }

    /// The text a span covers in `a = <src>`.
    fn spanned(src: &str, span: Span) -> String {
        let whole = format!("a = {src}\n");
        span.text(&whole).to_owned()
    }

    /// The error for `src`, as `line:col message`.
    fn error(src: &str) -> String {
        match parse_body(src) {
            Ok(body) => panic!("{src:?} parsed: {}", show_body(&body)),
            Err(e) => format!(
                "{} {}",
                e.pos.map(|p| p.to_string()).unwrap_or_default(),
                e.message
            ),
        }
    }

    /// Asserts that `src` fails at `pos` with a message starting with
    /// `summary`.
    #[track_caller]
    fn fails(src: &str, pos: &str, summary: &str) {
        let got = error(src);
        let want = format!("{pos} {summary}");
        assert!(
            got.starts_with(&want),
            "{src:?}\n  got:  {got}\n  want: {want}..."
        );
    }

    /// Checks a table of `(src, rendering)` cases with [`expr`], so that a
    /// test lists its cases instead of repeating the assertion; a failure
    /// names the case.
    #[track_caller]
    fn renders(cases: &[(&str, &str)]) {
        for &(src, want) in cases {
            assert_eq!(expr(src), want, "rendering of the value {src:?}");
        }
    }

    /// Checks a table of `(src, rendering)` cases with [`body`], as
    /// [`renders`] does for values.
    #[track_caller]
    fn bodies_render(cases: &[(&str, &str)]) {
        for &(src, want) in cases {
            assert_eq!(body(src), want, "rendering of the body {src:?}");
        }
    }

    /// Checks a table of `(src, pos, summary)` cases with [`fails`], which
    /// names the failing case.
    #[track_caller]
    fn fail_with(cases: &[(&str, &str, &str)]) {
        for &(src, pos, summary) in cases {
            fails(src, pos, summary);
        }
    }

    // ----- Literals -----------------------------------------------------

    #[test]
    fn numbers() {
        renders(&[
            ("1", "1"),
            ("1.5", "1.5"),
            ("1e3", "1000"),
            ("1.5E-2", "0.015"),
            ("2.0", "2"),
            ("007", "7"),
            ("9223372036854775807", "9223372036854775807"),
            ("99999999999999999999", "1e20"),
        ]);
        fails("a = 1.2.3\n", "1:5", "Invalid number literal:");
    }

    #[test]
    fn keywords_are_whole_identifiers_only() {
        renders(&[
            ("true", "true"),
            ("false", "false"),
            ("null", "null"),
            ("nullable", "nullable"),
            ("true_", "true_"),
            ("a-b", "a-b"),
            ("a - b", "(a - b)"),
            ("ünïcode_ñ", "ünïcode_ñ"),
        ]);
    }

    // ----- Quoted templates -----------------------------------------------

    #[test]
    fn plain_strings() {
        renders(&[
            (r#""abc""#, r#"(tmpl "abc")"#),
            (r#""""#, "(tmpl)"),
            (r#""é ✓""#, r#"(tmpl "é ✓")"#),
        ]);
    }

    #[test]
    fn escapes() {
        renders(&[
            (r#""a\n\r\t\"\\b""#, r#"(tmpl "a\n\r\t\"\\b")"#),
            (r#""\u00e9\U0001F600""#, r#"(tmpl "é😀")"#),
            (r#""$${x} %%{y} $$ % $""#, r#"(tmpl "${x} %{y} $$ % $")"#),
            (r#""$${~x}""#, r#"(tmpl "${~x}")"#),
        ]);
        fail_with(&[
            (
                "a = \"\\x\"\n",
                "1:6",
                "Invalid escape sequence: The symbol \"x\"",
            ),
            (
                "a = \"\\u12\"\n",
                "1:6",
                "Invalid escape sequence: The \\u escape",
            ),
            (
                "a = \"\\UD800\"\n",
                "1:6",
                "Invalid escape sequence: The \\U escape",
            ),
            (
                "a = \"\\uD800\"\n",
                "1:6",
                "Invalid escape sequence: Cannot encode character U+d800",
            ),
        ]);
    }

    #[test]
    fn interpolations_and_literals_merge() {
        renders(&[
            (r#""${x}""#, "(tmpl ${x})"),
            (r#""a${x}b${y.z}c""#, r#"(tmpl "a" ${x} "b" ${y.z} "c")"#),
            (r#""a\n$b%c""#, r#"(tmpl "a\n$b%c")"#),
            (r#""${ {a = 1}.a }""#, "(tmpl ${{a=1}.a})"),
            (r#""${"${x}"}""#, "(tmpl ${(tmpl ${x})})"),
            (
                r#""${x ? "a" : "b"}""#,
                r#"(tmpl ${(x ? (tmpl "a") : (tmpl "b"))})"#,
            ),
        ]);
    }

    #[test]
    fn directives() {
        renders(&[
            (
                r#""%{if x}a%{else}b%{endif}""#,
                r#"(tmpl (if x (tmpl "a") (tmpl "b")))"#,
            ),
            (
                r#""%{ if x }a%{ endif }""#,
                r#"(tmpl (if x (tmpl "a") (tmpl)))"#,
            ),
            (
                r#""%{for k, v in m}${k}=${v};%{endfor}""#,
                r#"(tmpl (for k v m (tmpl ${k} "=" ${v} ";")))"#,
            ),
            (
                r#""%{for v in l}%{if v}y%{endif}%{endfor}""#,
                r#"(tmpl (for _ v l (tmpl (if v (tmpl "y") (tmpl)))))"#,
            ),
        ]);
    }

    #[test]
    fn strip_markers_in_quoted_templates() {
        renders(&[
            (r#"" a ${~ x ~} b ""#, r#"(tmpl " a" ${x} "b ")"#),
            (r#""\n\t ${~x}""#, "(tmpl \"\" ${x})"),
            (
                r#""%{ if x ~} a %{~ else ~} b %{~ endif }""#,
                r#"(tmpl (if x (tmpl "a") (tmpl "b")))"#,
            ),
            // The whitespace of a value is not stripped, and a sequence in
            // between stops a strip marker.
            (
                r#""${"a " ~}${" b"}""#,
                r#"(tmpl ${(tmpl "a ")} ${(tmpl " b")})"#,
            ),
            // What is left of stripped text still counts as a literal part: the
            // template is not a lone interpolation.
            (r#""${x ~} ""#, "(tmpl ${x} \"\")"),
        ]);
    }

    #[test]
    fn template_errors() {
        fail_with(&[
            ("a = \"abc\nb = 1\n", "1:9", "Invalid multi-line string:"),
            ("a = \"abc", "1:5", "Unterminated template string:"),
            ("a = \"${\n", "2:1", "Missing expression:"),
            ("a = \"${x\"\n", "1:6", "Unclosed template interpolation sequence:"),
            ("a = \"${x:y}\"\n", "1:9", "Extra characters after interpolation expression: Template interpolation doesn't expect a colon"),
            ("a = \"${x y}\"\n", "1:10", "Extra characters after interpolation expression: Expected a closing brace"),
            ("a = \"${}\"\n", "1:8", "Invalid expression: Expected the start of an expression, but found \"}\"."),
            ("a = \"%{ iff x }\"\n", "1:9", "Invalid template control keyword: \"iff\" is not a valid template control keyword. Did you mean \"if\"?"),
            ("a = \"%{ 1 }\"\n", "1:9", "Invalid template directive:"),
            ("a = \"%{ if x y }\"\n", "1:14", "Extra characters in if marker:"),
            ("a = \"%{ endif }\"\n", "1:6", "Unexpected endif directive:"),
            ("a = \"%{ if x }\"\n", "1:6", "Unexpected end of template: The if directive at 1:6 is missing its corresponding endif directive."),
            ("a = \"%{ if x }%{ else }%{ else }%{ endif }\"\n", "1:24", "Unexpected else directive: Already in the else clause for the if started at 1:6."),
            ("a = \"%{ if x }%{ endfor }\"\n", "1:15", "Unexpected endfor directive: Expecting an endif directive"),
            ("a = \"%{ for x in y }%{ else }%{ endfor }\"\n", "1:21", "Unexpected else directive: An else clause is not expected for a for directive."),
            ("a = \"%{ for x in y }\"\n", "1:6", "Unexpected end of template: The for directive at 1:6"),
            ("a = \"%{ for 1 in y }%{ endfor }\"\n", "1:13", "Invalid 'for' directive: For directive requires variable name after 'for'."),
            ("a = \"%{ for x y }%{ endfor }\"\n", "1:15", "Invalid 'for' directive: For directive requires 'in' keyword after names."),
            ("a = \"\\\n\"\n", "1:6", "Invalid character:"),
        ]);
    }

    // ----- Heredocs -------------------------------------------------------

    #[test]
    fn heredocs() {
        renders(&[
            (
                "<<EOT\nhello\n  world\nEOT\n",
                r#"(tmpl "hello\n  world\n")"#,
            ),
            ("<<EOT\nEOT\n", "(tmpl)"),
            ("<<EOT\nx\n   EOT   \n", r#"(tmpl "x\n")"#),
            ("<<EOT\nEOTX\n EOT x\nEOT\n", r#"(tmpl "EOTX\n EOT x\n")"#),
            ("<<EOT\r\na\r\nEOT\r\n", r#"(tmpl "a\r\n")"#),
            (
                "<<EOT\n$${x} %%{y} \\n\nEOT\n",
                r#"(tmpl "${x} %{y} \\n\n")"#,
            ),
            (
                "<<EOT\nHi ${name}!\n%{ if x }y%{ endif }\nEOT\n",
                r#"(tmpl "Hi " ${name} "!\n" (if x (tmpl "y") (tmpl)) "\n")"#,
            ),
            (
                "<<A\n${<<B\ninner\nB\n}\nA\n",
                r#"(tmpl ${(tmpl "inner\n")} "\n")"#,
            ),
            ("[<<EOT\nx\nEOT\n, 2]", r#"[(tmpl "x\n") 2]"#),
        ]);
    }

    #[test]
    fn flush_heredocs_remove_the_common_indentation() {
        renders(&[
            ("<<-EOT\n    a\n      b\n    EOT\n", r#"(tmpl "a\n  b\n")"#),
            // Blank lines, even of spaces, neither count nor change.
            (
                "<<-EOT\n    a\n\n          \n      b\n  EOT\n",
                r#"(tmpl "a\n\n          \n  b\n")"#,
            ),
            // The closing marker's indentation does not count.
            ("<<-EOT\n  a\n EOT\n", r#"(tmpl "a\n")"#),
            // A line that starts with a sequence is not indented at all.
            ("<<-EOT\n${x}\n    b\nEOT\n", r#"(tmpl ${x} "\n    b\n")"#),
            // Text before a sequence is trimmed like any line start.
            (
                "<<-EOT\n    ${x} a\n      b\n    EOT\n",
                r#"(tmpl "" ${x} " a\n  b\n")"#,
            ),
            (
                "<<-EOT\r\n  a\r\n    b\r\n  EOT\r\n",
                r#"(tmpl "a\r\n  b\r\n")"#,
            ),
            ("<<-EOT\n\ta\n\t\tb\n\tEOT\n", r#"(tmpl "a\n\tb\n")"#),
        ]);
    }

    #[test]
    fn strip_markers_in_heredocs_work_on_one_line() {
        renders(&[
            // As in HCL, `~}` strips up to the end of its line only, and `${~`
            // the text since the start of its line.
            (
                "<<EOT\n%{ if x ~}\n  y\n  %{~ endif }\nEOT\n",
                r#"(tmpl (if x (tmpl "  y\n") (tmpl)) "\n")"#,
            ),
            (
                "<<EOT\nx ${~ y ~}\n\n  z\nEOT\n",
                r#"(tmpl "x" ${y} "\n  z\n")"#,
            ),
            // The usual loop idiom.
            (
                "<<EOT\n%{ for x in xs ~}\nline ${x}\n%{ endfor ~}\nEOT\n",
                r#"(tmpl (for _ x xs (tmpl "line " ${x} "\n")) "")"#,
            ),
            // Stripped lines are not line starts any more for `<<-`.
            (
                "<<-EOT\n  %{ for x in xs ~}\n    line ${x}\n  %{ endfor ~}\n  EOT\n",
                r#"(tmpl "" (for _ x xs (tmpl "    line " ${x} "\n")) "")"#,
            ),
        ]);
    }

    #[test]
    fn heredoc_errors() {
        fail_with(&[
            ("a = <<EOT\nhello\n", "1:5", "Unterminated template string:"),
            // The closing marker needs its newline, as in HCL.
            (
                "a = <<EOT\nhello\nEOT",
                "1:5",
                "Unterminated template string:",
            ),
            (
                "a = <<EOT\n${x\nEOT\n",
                "3:1",
                "Extra characters after interpolation expression:",
            ),
            ("a = <<EOT x\n", "1:5", "Invalid expression:"),
        ]);
    }

    // ----- Operators ------------------------------------------------------

    #[test]
    fn precedence_and_associativity() {
        renders(&[
            ("1 + 2 * 3", "(1 + (2 * 3))"),
            ("1 * 2 + 3", "((1 * 2) + 3)"),
            ("a - b - c", "((a - b) - c)"),
            ("a / b * c % d", "(((a / b) * c) % d)"),
            (
                "a || b && c == d < e + f * g",
                "(a || (b && (c == (d < (e + (f * g))))))",
            ),
            ("a != b >= c <= d > e", "(a != (((b >= c) <= d) > e))"),
            ("-a.b + !c", "((-a.b) + (!c))"),
            ("-1 + 2", "((-1) + 2)"),
            ("- -1", "(-(-1))"),
            ("!!x", "(!(!x))"),
            ("(a + b) * c", "((((a + b))) * c)"),
            ("a ? b : c ? d : e", "(a ? b : (c ? d : e))"),
            ("a ? b ? c : d : e", "(a ? (b ? c : d) : e)"),
            ("a || b ? c + 1 : d", "((a || b) ? (c + 1) : d)"),
            (
                "x == 1 ? \"a\" : \"b\"",
                r#"((x == 1) ? (tmpl "a") : (tmpl "b"))"#,
            ),
        ]);
    }

    #[test]
    fn operator_errors() {
        fail_with(&[
            ("a = 1 +\n", "1:8", "Invalid expression: Expected the start of an expression, but found a newline."),
            ("a = x ? y\n", "1:10", "Missing false expression in conditional:"),
            ("a = x & y\n", "1:7", "Unsupported operator: Bitwise operators are not supported. Did you mean boolean AND (\"&&\")?"),
            ("a = x ** y\n", "1:8", "Invalid expression:"),
            ("a = ~x\n", "1:5", "Unsupported operator:"),
        ]);
    }

    // ----- Traversals and splats ------------------------------------------

    #[test]
    fn traversals() {
        renders(&[
            ("var.a[0]", "var.a[0]"),
            ("a.b.c", "a.b.c"),
            ("a[\"k\"][i + 1]", r#"a[(tmpl "k")][(i + 1)]"#),
            ("a.0", "a[0]"),
            ("a.0.b", "a[0].b"),
            ("f(x).y[0]", "f(x).y[0]"),
            ("a[\n0\n]", "a[0]"),
            ("(a).b", "((a)).b"),
            ("\"s\".x", r#"(tmpl "s").x"#),
        ]);
        fail_with(&[
            ("a = x.0.1\n", "1:7", "Invalid legacy index syntax: When using the legacy index syntax, chaining two indexes together is not permitted. Use the proper index syntax instead, like [0][1]."),
            ("a = x.\n", "1:7", "Invalid attribute name:"),
            ("a = x[0\n", "2:1", "Missing close bracket on index:"),
            ("a = x[0 1]\n", "1:9", "Missing close bracket on index:"),
        ]);
    }

    #[test]
    fn splats() {
        renders(&[
            ("a.*", "(a.*)"),
            ("a.*.b.c", "(a.*.b.c)"),
            // An attribute-only splat takes attributes only: the index applies
            // to its result.
            ("a.*.b[0]", "(a.*.b)[0]"),
            ("a.*.b.0", "(a.*.b[0])"),
            ("a[*]", "(a[*])"),
            ("a[*].b[0].c", "(a[*].b[0].c)"),
            ("a[*].b.0", "(a[*].b[0])"),
            ("a.*.b[*].c", "((a.*.b)[*].c)"),
            // A splat ends at the first token that is not a traversal.
            ("a[*].b + 1", "((a[*].b) + 1)"),
            ("length(a[*].id)", "length((a[*].id))"),
            // Inside a full splat's steps, splats nest as in HCL: `[*]` takes
            // every step after it, `.*` its attribute steps.
            ("x[*].y[*]", "(x[*].y[*])"),
            ("x[*].y[*].z[0]", "(x[*].y[*].z[0])"),
            ("x[*].*", "(x[*].*)"),
            ("x[*].y.*.z[1]", "(x[*].y.*.z[1])"),
        ]);
        fail_with(&[
            ("a = x.*.*\n", "1:9", "Nested splat expression not allowed:"),
            (
                "a = x[*].y.*.*\n",
                "1:14",
                "Nested splat expression not allowed:",
            ),
            ("a = x[*\n", "1:8", "Missing close bracket on splat index:"),
        ]);
    }

    // ----- Calls ------------------------------------------------------------

    #[test]
    fn calls() {
        renders(&[
            ("f()", "f()"),
            ("f(1, \"a\", x)", r#"f(1, (tmpl "a"), x)"#),
            ("f(1,)", "f(1)"),
            ("f(1, xs...)", "f(1, xs...)"),
            ("f(\n  1,\n  2\n)", "f(1, 2)"),
            ("f (1)", "f(1)"),
            ("provider::aws::arn(x)", "provider::aws::arn(x)"),
        ]);
        fail_with(&[
            ("a = f(1 2)\n", "1:9", "Missing argument separator:"),
            (
                "a = f(1, xs..., 2)\n",
                "1:12",
                "Missing closing parenthesis:",
            ),
            ("a = f(1", "1:5", "Unterminated function call:"),
            ("a = f::(1)\n", "1:8", "Missing function name:"),
            ("a = f::g\n", "1:9", "Missing open parenthesis:"),
        ]);
    }

    // ----- Collections --------------------------------------------------------

    #[test]
    fn tuples() {
        renders(&[
            ("[]", "[]"),
            ("[1, 2,]", "[1 2]"),
            ("[\n  1,\n  2\n]", "[1 2]"),
            ("[1, [2, [3]]]", "[1 [2 [3]]]"),
        ]);
        fail_with(&[
            ("a = [1\n2]\n", "2:1", "Missing item separator:"),
            (
                "a = [1, 2",
                "1:5",
                "Unterminated tuple constructor expression:",
            ),
            (
                "a = [for, x]\n",
                "1:9",
                "Invalid 'for' expression: For expression requires variable name",
            ),
        ]);
    }

    #[test]
    fn objects() {
        renders(&[
            ("{}", "{}"),
            (
                "{ a = 1, \"b\" = 2, (c) = 3, d: 4 }",
                r#"{a=1 <(tmpl "b")>=2 <((c))>=3 d=4}"#,
            ),
            ("{\n  a = 1\n  b = 2,\n}", "{a=1 b=2}"),
            ("{ null = 1, true = 2, for2 = 3 }", "{null=1 true=2 for2=3}"),
            ("{ a.b = 1, 1 = 2 }", "{<a.b>=1 <1>=2}"),
            ("{ a = { b = [1] } }", "{a={b=[1]}}"),
            ("{\n  # c\n  a = 1 # c\n}", "{a=1}"),
            ("{\n  a = (1 +\n  2)\n}", "{a=(((1 + 2)))}"),
        ]);
        fail_with(&[
            ("a = { a = 1 b = 2 }\n", "1:13", "Missing attribute separator:"),
            ("a = { a }\n", "1:9", "Missing key/value separator:"),
            ("a = { a b }\n", "1:9", "Missing key/value separator: Expected an equals sign (\"=\") to mark the beginning of the attribute value. If you intended"),
            ("a = { a\n}\n", "1:8", "Missing attribute value:"),
            ("a = {\n a = 1 +\n 2\n}\n", "2:9", "Invalid expression:"),
            ("a = { a = 1", "1:5", "Unterminated object constructor expression:"),
            ("a = { for = 1 }\n", "1:11", "Invalid 'for' expression: For expression requires variable name"),
        ]);
    }

    #[test]
    fn for_expressions() {
        renders(&[
            ("[for v in xs : v]", "(for _ v in xs : v)"),
            (
                "[for i, v in xs : v if i < 2]",
                "(for i v in xs : v if (i < 2))",
            ),
            ("{for k, v in m : k => v}", "(for k v in m : k => v)"),
            (
                "{for k, v in m : v => k... if k != \"\"}",
                r#"(for k v in m : v => k... if (k != (tmpl)))"#,
            ),
            (
                "{\n  for k, v in m :\n  k => v\n}",
                "(for k v in m : k => v)",
            ),
            ("[for x in a ? b : c : x]", "(for _ x in (a ? b : c) : x)"),
            // `in` is also a fine variable name.
            ("[for x, in in xs : in]", "(for x in in xs : in)"),
        ]);
        fail_with(&[
            ("a = [for x in xs : x => x]\n", "1:20", "Invalid 'for' expression: Key expression is not valid when building a tuple."),
            ("a = {for x in xs : x}\n", "1:20", "Invalid 'for' expression: Key expression is required when building an object."),
            ("a = [for x in xs : x...]\n", "1:21", "Invalid 'for' expression: Grouping ellipsis"),
            ("a = [for x xs : x]\n", "1:12", "Invalid 'for' expression: For expression requires the 'in' keyword"),
            ("a = [for x in xs x]\n", "1:18", "Invalid 'for' expression: For expression requires a colon"),
            ("a = [for x in xs : x y]\n", "1:22", "Invalid 'for' expression: Extra characters after the end"),
            ("a = [for x, 1 in xs : x]\n", "1:13", "Invalid 'for' expression: For expression requires value variable name after comma."),
        ]);
    }

    // ----- Bodies ---------------------------------------------------------------

    #[test]
    fn attributes_and_blocks() {
        bodies_render(&[
            ("", "(body)"),
            ("a = 1", "(body (attr a 1))"),
            (
                "a = 1\nb = \"x\"\n",
                r#"(body (attr a 1) (attr b (tmpl "x")))"#,
            ),
            (
                "resource \"aws_instance\" web {\n  ami = \"x\"\n\n  ebs {\n    size = 1\n  }\n}\n",
                r#"(body (block resource ["aws_instance" "web"] (body (attr ami (tmpl "x")) (block ebs [] (body (attr size 1))))))"#,
            ),
            (
                "a {}\nb { }\nc {\n}\n",
                "(body (block a [] (body)) (block b [] (body)) (block c [] (body)))",
            ),
            ("a \"\\u00e9\\n\" {}", "(body (block a [\"é\\n\"] (body)))"),
        ]);
    }

    #[test]
    fn one_line_blocks_hold_one_attribute() {
        bodies_render(&[
            ("a { b = 1 }\n", "(body (block a [] (body (attr b 1))))"),
            (
                "a \"l\" { b = [1, 2] }",
                "(body (block a [\"l\"] (body (attr b [1 2]))))",
            ),
        ]);
        fail_with(&[
            ("a { b = 1, c = 2 }\n", "1:10", "Invalid single-argument block definition: Single-line block syntax can include only one argument definition."),
            ("a { b = 1\n}\n", "1:10", "Invalid single-argument block definition: An argument definition on the same line"),
            ("a { b = 1 c }\n", "1:11", "Invalid single-argument block definition: A single-line block definition must end"),
            ("a { b {} }\n", "1:5", "Argument definition required: A single-line block definition can contain only a single argument. If you meant to define argument \"b\""),
            ("a { 1 }\n", "1:5", "Argument or block definition required:"),
            ("a { b = 1", "1:3", "Unclosed configuration block:"),
        ]);
    }

    #[test]
    fn comments_bom_and_crlf() {
        bodies_render(&[
            (
                "\u{feff}# c\na = 1 # c\n// c\nb = /* c */ 2 // c\r\n/* c\n */ c = 3\nd = [ # c\n  1, // c\n  2 /* c */\n]\n",
                "(body (attr a 1) (attr b 2) (attr c 3) (attr d [1 2]))",
            ),
            (
                "a = 1\r\nb {\r\n  c = 2\r\n}\r\n",
                "(body (attr a 1) (block b [] (body (attr c 2))))",
            ),
            ("a = 1 # no newline at the end", "(body (attr a 1))"),
        ]);
        fail_with(&[
            // An inline comment is a space, not a newline.
            (
                "a = 1 /* x\n */ b = 2\n",
                "2:5",
                "Missing newline after argument:",
            ),
            ("a = /* open", "1:5", "Unterminated comment:"),
        ]);
    }

    #[test]
    fn body_errors() {
        fail_with(&[
            ("a = 1, b = 2\n", "1:6", "Unexpected comma after argument:"),
            ("a = 1 b = 2\n", "1:7", "Missing newline after argument: An argument definition must end with a newline."),
            ("a {\n  b = 1 }\n", "2:9", "Missing newline after argument:"),
            ("a {\n  b = 1\n", "1:3", "Unclosed configuration block: There is no closing brace for this block before the end of the file."),
            ("a {} b {}\n", "1:6", "Missing newline after block definition:"),
            ("\"a\" = 1\n", "1:1", "Invalid argument name: Argument names must not be quoted."),
            ("}\n", "1:1", "Argument or block definition required: An argument or block definition is required here."),
            ("a\n", "1:1", "Argument or block definition required: An argument or block definition is required here. To set an argument"),
            ("a \"b\" = 1\n", "1:7", "Invalid block definition: The equals sign"),
            ("a \"b\"\n{\n}\n", "1:6", "Invalid block definition: A block definition must have block content delimited"),
            ("a \"b\" 1 {}\n", "1:7", "Invalid block definition: Either a quoted string block label"),
            ("a 1 {}\n", "1:1", "Argument or block definition required:"),
            ("a \"${x}\" {}\n", "1:4", "Invalid string literal: Template sequences are not allowed in this string. To include a literal \"$\", double it (as \"$$\") to escape it."),
            ("a \"x", "1:3", "Unterminated string literal:"),
            ("a = \n", "1:5", "Invalid expression: Expected the start of an expression, but found a newline."),
            ("a =", "1:4", "Missing expression: Expected the start of an expression, but found the end of the file."),
            ("a = # c\n", "1:5", "Invalid expression: Expected the start of an expression, but found a comment."),
        ]);
    }

    #[test]
    fn invalid_characters_are_reported_first() {
        fail_with(&[
            (
                "a = 1;\n",
                "1:6",
                "Invalid character: The \";\" character is not valid.",
            ),
            (
                "a = 'x'\n",
                "1:5",
                "Invalid character: Single quotes are not valid.",
            ),
            (
                "a = `x`\n",
                "1:5",
                "Invalid character: The \"`\" character is not valid.",
            ),
            (
                "a = \u{201c}x\u{201d}\n",
                "1:5",
                "Invalid character: \"Curly quotes\" are not valid here.",
            ),
            (
                "a = $x\n",
                "1:5",
                "Invalid character: This character is not used within the language.",
            ),
            ("a = x\u{a0}\n", "1:6", "Invalid character:"),
            ("a = 1\rb = 2\n", "1:6", "Invalid character:"),
            ("a = f(@)\n", "1:7", "Invalid character:"),
        ]);
    }

    #[test]
    fn unicode_positions_count_characters() {
        fail_with(&[
            ("é = \"ü\" + +\n", "1:11", "Invalid expression:"),
            (
                "a = {\n  ééé = 1 2\n}\n",
                "2:11",
                "Missing attribute separator:",
            ),
        ]);
    }

    // ----- Spans -------------------------------------------------------------

    #[test]
    fn spans_cover_the_source_text() {
        let e = value_expr("var.a[0]");
        assert_eq!(spanned("var.a[0]", e.span), "var.a[0]");
        let ExprKind::Index(src, key) = &e.kind else {
            panic!("index")
        };
        assert_eq!(spanned("var.a[0]", src.span), "var.a");
        assert_eq!(spanned("var.a[0]", key.span), "0");

        let src = r#""a${ x }b%{ if y }c%{ else }d%{ endif }""#;
        let e = value_expr(src);
        assert_eq!(spanned(src, e.span), src);
        let ExprKind::Template(t) = &e.kind else {
            panic!("template")
        };
        let spans: Vec<String> = t
            .parts
            .iter()
            .filter_map(|p| match p {
                TemplatePart::Interp { span, .. } | TemplatePart::If { span, .. } => {
                    Some(spanned(src, *span))
                }
                _ => None,
            })
            .collect();
        assert_eq!(spans, ["${ x }", "%{ if y }c%{ else }d%{ endif }"]);

        let src = "<<-EOT\n  %{ for v in l }${v}%{ endfor }\n  EOT";
        let e = value_expr(src);
        assert_eq!(spanned(src, e.span), src);

        for src in [
            "a[*].b[0]",
            "a.*.b",
            "f(1, 2...)",
            "-x.y",
            "(a)",
            "[for x in y : x]",
            "{ a = 1 }",
            "a ? b : c",
            "a + b * c",
        ] {
            assert_eq!(spanned(src, value_expr(src).span), src);
        }
    }

    #[test]
    fn item_spans() {
        let src = "x = 1\nresource \"a\" b {\n  y = [1,\n  2]\n}\n";
        let body = parse_ok(src);
        let Some(Item::Block(block)) = body.items.get(1) else {
            panic!("block")
        };
        assert_eq!(
            block.span.text(src),
            "resource \"a\" b {\n  y = [1,\n  2]\n}"
        );
        assert_eq!(block.ident.span.text(src), "resource");
        let labels: Vec<&str> = block.labels.iter().map(|l| l.span.text(src)).collect();
        assert_eq!(labels, ["\"a\"", "b"]);
        let Some(Item::Attribute(attr)) = block.body.items.first() else {
            panic!("attribute")
        };
        assert_eq!(attr.span.text(src), "y = [1,\n  2]");
        assert_eq!(attr.name.span.text(src), "y");
        let Some(Item::Attribute(x)) = body.items.first() else {
            panic!("attribute")
        };
        assert_eq!(x.span.text(src), "x = 1");
        // With a byte order mark, spans still count from the start.
        let src = "\u{feff}a = 1\n";
        let Some(Item::Attribute(a)) = parse_ok(src).items.into_iter().next() else {
            panic!("attribute")
        };
        assert_eq!(a.span.text(src), "a = 1");
    }

    /// Every expression's span, parsed again on its own, gives the same
    /// expression: spans start and end exactly at the expressions' edges.
    #[test]
    fn every_span_reparses_to_its_expression() {
        let src = r#"
a = var.list[0].name
b = [for i, v in local.items : upper(v.name) if i % 2 == 0]
c = { for k, v in var.m : k => v... }
d = a.*.b.c
e = x[*].y[0].z
f = "prefix-${var.name}-%{ if var.on }on%{ else }off%{ endif }"
g = cond ? -1 : !done && (x + 2) * 3 >= 10
h = {
  key = "v"
  "quoted" = [1, 2.5, true, null]
  (computed) = f(1, xs...)
}
i = <<-EOT
    line ${x}
  EOT
j = x.0.y
"#;
        let body = parse_ok(src);
        let mut count = 0;
        for item in &body.items {
            let Item::Attribute(attr) = item else {
                continue;
            };
            visit_exprs(&attr.expr, &mut |e| {
                let text = e.span.text(src);
                // Heredocs need the newline after their marker.
                let again = value_expr(&format!("({text}\n)"));
                let ExprKind::Parens(inner) = again.kind else {
                    panic!("parens")
                };
                assert_eq!(show(&inner), show(e), "span text {text:?}");
                count += 1;
            });
        }
        assert!(count > 60, "only {count} expressions");
    }

    // ----- Robustness ------------------------------------------------------------

    /// A tiny deterministic generator, so the test needs no dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Snippets that stress every corner; mutated randomly below.
    const TRICKY: &[&str] = &[
        "a = \"unterminated",
        "a = \"${",
        "a = \"${x",
        "a = \"%{",
        "a = \"%{ if",
        "a = \"\\",
        "a = \"\\u",
        "a = \"\\U0001",
        "a = <<EOT\n",
        "a = <<-EOT\n  x\n",
        "a = <<EOT\n${",
        "a = <<EOT\n%{ for x in y ~}\n",
        "a = <<EOT\r",
        "a = <<\n",
        "a = <<-",
        "a = [",
        "a = {",
        "a = (",
        "a = f(",
        "a = x[",
        "a = x.",
        "a = x.*.",
        "a = x[*",
        "a {",
        "a \"",
        "a { b = ",
        "/*",
        "#",
        "a = 1.",
        "a = 1e",
        "a = 1.2.3.4",
        "a = x.0.0.0",
        "a = é\u{301}",
        "a = \"é\u{301}${~ x ~}\u{301}\"",
        "a = <<-EOT\n \u{301}\u{301}x\n  EOT\n",
        "\u{feff}",
        "\u{feff}\u{feff}",
        "a = \"$",
        "a = \"%",
        "a = \"$$",
        "a = <<EOT\n$",
        "a = <<EOT\n$x\r\n%\nEOT\n",
        "a = ~}",
        "a = { a = 1 ~}",
        "a = [for",
        "a = {for k, v in x : k => v...",
        "a = x ? y :",
        "a = -",
        "a = !",
        "\r\n\r\n\r",
        "a = f::",
        "a = 1 +",
        "}}}}",
        "a = \"\u{10ffff}\"",
        "a = \"\\uDFFF\"",
    ];

    #[test]
    fn no_input_makes_the_parser_panic() {
        let pieces = [
            "{", "}", "[", "]", "(", ")", "\"", "${", "%{", "~}", "~", "<<EOT\n", "<<-EOT\n",
            "EOT\n", "\n", "\r\n", "\r", " ", "\t", "#", "//", "/*", "*/", "a", "1", "1.", ".",
            ",", ":", "?", "=", "==", "=>", "...", "*", "[*]", ".*", "\\", "é", "\u{301}",
            "\u{feff}", "$", "%", "for", "in", "if", "endif", "else", "endfor",
        ];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for round in 0..4000 {
            let mut src = TRICKY[round % TRICKY.len()].to_owned();
            for _ in 0..rng.below(6) {
                let piece = pieces[rng.below(pieces.len())];
                let mut at = rng.below(src.len() + 1);
                while !src.is_char_boundary(at) {
                    at -= 1;
                }
                src.insert_str(at, piece);
            }
            // Any outcome is fine, as long as there is one.
            let _ = parse_body(&src);
            // Every prefix, cut at character boundaries, too.
            if round < TRICKY.len() {
                for (at, _) in src.char_indices() {
                    let _ = parse_body(&src[..at]);
                }
            }
        }
    }

    #[test]
    fn levenshtein_distances() {
        assert_eq!(levenshtein("iff", "if"), 1);
        assert_eq!(levenshtein("endfor", "endif"), 3);
        assert_eq!(levenshtein("", "else"), 4);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }
}
