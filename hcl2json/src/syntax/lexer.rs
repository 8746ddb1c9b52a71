//! The tokens of HCL's native syntax, read one at a time from the bytes.
//!
//! Outside templates the lexer hands the parser one [`Token`] at a time. Inside
//! templates (between quotes, or in a heredoc) what a byte means depends on
//! where the parser is, so the parser asks for one template *piece* at a time
//! instead ([`quoted_piece`], [`heredoc_piece`]) and switches back to tokens
//! for the expressions of `${ ... }` and `%{ ... }`.
//!
//! Everything works on bytes and only ever stops on ASCII bytes or on whole
//! characters, so every offset it returns is a character boundary of the
//! source.

use crate::error::Error;

/// The kinds of token outside templates.
///
/// Word-sized on purpose: a token is written and read back whole right
/// away, and a one-byte field inside it would defeat the processor's
/// store-to-load forwarding (this alone made lexing 40% slower).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub(crate) enum Tok {
    /// End of the input.
    Eof,
    /// `\n` or `\r\n`, or a line comment (which includes its newline).
    Newline,
    /// An identifier (also the keywords, which are contextual).
    Ident,
    /// A number literal.
    Number,
    /// `"`, the start of a quoted template.
    OQuote,
    /// `<<EOT` or `<<-EOT` with its newline: the start of a heredoc.
    OHeredoc,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `~}`, the end of a template sequence that strips what follows.
    TildeRBrace,
    /// `[`
    LBrack,
    /// `]`
    RBrack,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `.`
    Dot,
    /// `,`
    Comma,
    /// `...`
    Ellipsis,
    /// `:`
    Colon,
    /// `::`
    DoubleColon,
    /// `?`
    Question,
    /// `=>`
    FatArrow,
    /// `=`
    Assign,
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
    /// `&&`
    And,
    /// `||`
    Or,
    /// `!`
    Bang,
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// `%`
    Percent,
    /// A character that means nothing outside templates (see
    /// [`Lexer::error_for`]).
    Invalid,
    /// A `/*` comment that is never closed.
    OpenComment,
}

/// A token: its kind and the bytes it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    /// What it is.
    pub kind: Tok,
    /// Offset of its first byte.
    pub start: usize,
    /// Offset one past its last byte.
    pub end: usize,
}

/// The UTF-8 byte order mark, skipped at the start of the input.
const BOM: &str = "\u{feff}";

/// Reads tokens from the source, one at a time, on demand.
pub(crate) struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    /// Where the next token starts (or the whitespace before it).
    pub pos: usize,
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `src`, past a byte order mark if there is one.
    pub fn new(src: &'a str) -> Lexer<'a> {
        let pos = if src.starts_with(BOM) { BOM.len() } else { 0 };
        Lexer {
            src,
            bytes: src.as_bytes(),
            pos,
        }
    }

    fn byte(&self, at: usize) -> Option<u8> {
        self.bytes.get(at).copied()
    }

    fn token(&mut self, kind: Tok, start: usize, end: usize) -> Token {
        self.pos = end;
        Token { kind, start, end }
    }

    /// Reads the next token, skipping spaces, tabs and comments.
    ///
    /// Characters that are never valid outside a template come out as
    /// [`Tok::Invalid`], for the parser to report with
    /// [`Lexer::error_for`] as soon as it meets them.
    pub fn next_token(&mut self) -> Token {
        loop {
            let start = self.pos;
            let Some(b) = self.byte(start) else {
                return Token {
                    kind: Tok::Eof,
                    start,
                    end: start,
                };
            };
            let next = self.byte(start + 1);
            let one = |kind| (kind, 1);
            let (kind, len) = match b {
                b' ' | b'\t' => {
                    self.skip_spaces();
                    continue;
                }
                b'\n' => one(Tok::Newline),
                b'\r' if next == Some(b'\n') => (Tok::Newline, 2),
                b'#' => match self.line_comment(start) {
                    Some(tok) => return tok,
                    None => continue,
                },
                b'/' if next == Some(b'/') => match self.line_comment(start) {
                    Some(tok) => return tok,
                    None => continue,
                },
                b'/' if next == Some(b'*') => {
                    if self.block_comment(start) {
                        continue;
                    }
                    return self.token(Tok::OpenComment, start, self.bytes.len());
                }
                b'0'..=b'9' => return self.number(start),
                b'a'..=b'z' | b'A'..=b'Z' | b'_' => return self.ident(start),
                b'"' => one(Tok::OQuote),
                b'<' => {
                    if let Some(end) = self.heredoc_opener(start) {
                        return self.token(Tok::OHeredoc, start, end);
                    }
                    if next == Some(b'=') {
                        (Tok::LtEq, 2)
                    } else {
                        one(Tok::Lt)
                    }
                }
                b'>' if next == Some(b'=') => (Tok::GtEq, 2),
                b'>' => one(Tok::Gt),
                b'=' if next == Some(b'=') => (Tok::Eq, 2),
                b'=' if next == Some(b'>') => (Tok::FatArrow, 2),
                b'=' => one(Tok::Assign),
                b'!' if next == Some(b'=') => (Tok::NotEq, 2),
                b'!' => one(Tok::Bang),
                b'&' if next == Some(b'&') => (Tok::And, 2),
                b'|' if next == Some(b'|') => (Tok::Or, 2),
                b':' if next == Some(b':') => (Tok::DoubleColon, 2),
                b':' => one(Tok::Colon),
                b'.' if next == Some(b'.') && self.byte(start + 2) == Some(b'.') => {
                    (Tok::Ellipsis, 3)
                }
                b'.' => one(Tok::Dot),
                b'~' if next == Some(b'}') => (Tok::TildeRBrace, 2),
                b'{' => one(Tok::LBrace),
                b'}' => one(Tok::RBrace),
                b'[' => one(Tok::LBrack),
                b']' => one(Tok::RBrack),
                b'(' => one(Tok::LParen),
                b')' => one(Tok::RParen),
                b',' => one(Tok::Comma),
                b'?' => one(Tok::Question),
                b'+' => one(Tok::Plus),
                b'-' => one(Tok::Minus),
                b'*' => one(Tok::Star),
                b'/' => one(Tok::Slash),
                b'%' => one(Tok::Percent),
                0x80.. => {
                    let c = self.char_at(start);
                    if unicode_ident::is_xid_start(c) {
                        return self.ident(start);
                    }
                    return self.token(Tok::Invalid, start, start + c.len_utf8());
                }
                _ => one(Tok::Invalid),
            };
            return self.token(kind, start, start + len);
        }
    }

    fn skip_spaces(&mut self) {
        while matches!(self.byte(self.pos), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// The character starting at byte `at` (U+FFFD if `at` is not a boundary,
    /// which the lexer never asks for).
    fn char_at(&self, at: usize) -> char {
        self.src
            .get(at..)
            .and_then(|rest| rest.chars().next())
            .unwrap_or(char::REPLACEMENT_CHARACTER)
    }

    /// Skips a `#` or `//` comment. The comment stands for the newline that
    /// ends it: it is returned as a newline token covering the comment, as
    /// HCL does. One that ends the file without a newline is just skipped.
    fn line_comment(&mut self, start: usize) -> Option<Token> {
        match find_byte(self.bytes, start, b'\n') {
            Some(nl) => {
                self.pos = nl + 1;
                Some(Token {
                    kind: Tok::Newline,
                    start,
                    end: nl + 1,
                })
            }
            None => {
                self.pos = self.bytes.len();
                None
            }
        }
    }

    /// Skips a `/* ... */` comment, which counts as whitespace; `false` if
    /// it is never closed.
    fn block_comment(&mut self, start: usize) -> bool {
        let mut at = start + 2;
        while let Some(star) = find_byte(self.bytes, at, b'*') {
            if self.byte(star + 1) == Some(b'/') {
                self.pos = star + 2;
                return true;
            }
            at = star + 1;
        }
        false
    }

    /// Reads a number literal: digits, then any run of digits, dots and
    /// exponents (`e`, `E`, optionally signed, then a digit) that does not
    /// end with a dot. Like HCL's scanner it takes `1.2.3` whole, so that the
    /// parser can reject it.
    fn number(&mut self, start: usize) -> Token {
        let mut at = start + 1;
        let mut end = at;
        loop {
            match self.byte(at) {
                Some(b'0'..=b'9') => {
                    at += 1;
                    end = at;
                }
                Some(b'.') => at += 1,
                Some(b'e' | b'E') => {
                    let sign = usize::from(matches!(self.byte(at + 1), Some(b'+' | b'-')));
                    if !matches!(self.byte(at + 1 + sign), Some(b'0'..=b'9')) {
                        break;
                    }
                    at += 2 + sign;
                    end = at;
                }
                _ => break,
            }
        }
        self.token(Tok::Number, start, end)
    }

    /// Reads an identifier: its first character was checked by the caller.
    fn ident(&mut self, start: usize) -> Token {
        let end = ident_end(self.src, start);
        self.token(Tok::Ident, start, end)
    }

    /// If `<<` at `start` opens a heredoc (`<<EOT` or `<<-EOT` right before a
    /// newline), where the opener ends (after its newline).
    fn heredoc_opener(&self, start: usize) -> Option<usize> {
        if self.byte(start + 1) != Some(b'<') {
            return None;
        }
        let mut at = start + 2;
        if self.byte(at) == Some(b'-') {
            at += 1;
        }
        if !is_ident_start(self.char_at(at)) || at >= self.bytes.len() {
            return None;
        }
        let end = ident_end(self.src, at);
        match (self.byte(end), self.byte(end + 1)) {
            (Some(b'\n'), _) => Some(end + 1),
            (Some(b'\r'), Some(b'\n')) => Some(end + 2),
            _ => None,
        }
    }

    /// The error for a [`Tok::Invalid`] or [`Tok::OpenComment`] token: for
    /// a character that has no meaning outside templates, the hint HCL gives
    /// for the usual mistakes.
    pub fn error_for(&self, tok: Token) -> Error {
        let at = tok.start;
        if tok.kind == Tok::OpenComment {
            return Error::at(
                self.src,
                at,
                "Unterminated comment: There is no closing \"*/\" for this comment before the end of the file.",
            );
        }
        let message = match self.char_at(at) {
            '&' => "Unsupported operator: Bitwise operators are not supported. Did you mean boolean AND (\"&&\")?",
            '|' => "Unsupported operator: Bitwise operators are not supported. Did you mean boolean OR (\"||\")?",
            '~' => "Unsupported operator: Bitwise operators are not supported. Did you mean boolean NOT (\"!\")?",
            '^' => "Unsupported operator: Bitwise operators are not supported.",
            '`' => "Invalid character: The \"`\" character is not valid. To create a multi-line string, use the \"heredoc\" syntax, like \"<<EOT\".",
            '\'' => "Invalid character: Single quotes are not valid. Use double quotes (\") to enclose strings.",
            ';' => "Invalid character: The \";\" character is not valid. Use newlines to separate arguments and blocks, and commas to separate items in collection values.",
            '\u{201c}' | '\u{201d}' => "Invalid character: \"Curly quotes\" are not valid here. These can sometimes be inadvertently introduced when sharing code via documents or discussion forums. It might help to replace the character with a \"straight quote\".",
            _ => INVALID_CHARACTER,
        };
        Error::at(self.src, at, message)
    }
}

/// The message for a character the language does not use.
pub(crate) const INVALID_CHARACTER: &str =
    "Invalid character: This character is not used within the language.";

/// Whether `c` may start an identifier.
pub(crate) fn is_ident_start(c: char) -> bool {
    c == '_' || unicode_ident::is_xid_start(c)
}

/// Where the identifier whose first character is at `start` ends: identifier
/// characters continue with ID_Continue and `-`.
pub(crate) fn ident_end(src: &str, start: usize) -> usize {
    let bytes = src.as_bytes();
    let mut at = start;
    // The first character was checked by the caller; skip it whole.
    let Some(first) = src.get(start..).and_then(|rest| rest.chars().next()) else {
        return start;
    };
    at += first.len_utf8();
    loop {
        match bytes.get(at) {
            Some(b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'-') => at += 1,
            Some(0x80..) => match src.get(at..).and_then(|rest| rest.chars().next()) {
                Some(c) if unicode_ident::is_xid_continue(c) => at += c.len_utf8(),
                _ => return at,
            },
            _ => return at,
        }
    }
}

/// The offset of the first `needle` at or after `from`.
pub(crate) fn find_byte(bytes: &[u8], from: usize, needle: u8) -> Option<usize> {
    bytes
        .get(from..)?
        .iter()
        .position(|&b| b == needle)
        .map(|i| from + i)
}

/// One piece of template text, as HCL's scanner splits it.
///
/// Literal text is split before every `$` and `%` and (in heredocs) after
/// every newline, exactly like HCL's tokens, because strip markers and the
/// indentation rule of `<<-` heredocs work on those tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Literal text up to `end`; `escapes` tells whether it holds backslash
    /// escapes to decode (quoted templates only).
    Text { end: usize, escapes: bool },
    /// `$${` or `%%{`: the literal `${` or `%{`, which is the text from
    /// `start + 1` to `end`.
    EscapedOpen { end: usize },
    /// `${` or `${~` (with `strip`), ending at `end`.
    Interp { end: usize, strip: bool },
    /// `%{` or `%{~` (with `strip`), ending at `end`.
    Control { end: usize, strip: bool },
    /// The closing `"` of a quoted template.
    Close,
    /// A newline inside a quoted template, which is not allowed.
    Newline,
    /// A character that cannot appear here (a backslash before a newline or
    /// the end of the file, a lone carriage return in a heredoc).
    Invalid,
    /// The end of the input.
    Eof,
}

/// Reads the piece of a quoted template that starts at `at`.
pub(crate) fn quoted_piece(bytes: &[u8], at: usize) -> Piece {
    match bytes.get(at) {
        None => Piece::Eof,
        Some(b'"') => Piece::Close,
        Some(b'\n' | b'\r') => Piece::Newline,
        Some(b'$' | b'%') => sequence_piece(bytes, at),
        Some(_) => {
            let mut i = at;
            let mut escapes = false;
            while let Some(&b) = bytes.get(i) {
                match b {
                    b'"' | b'$' | b'%' | b'\n' | b'\r' => break,
                    b'\\' => {
                        // A backslash takes the next character with it, but
                        // never a newline.
                        match bytes.get(i + 1) {
                            None | Some(b'\n' | b'\r') if i == at => return Piece::Invalid,
                            None | Some(b'\n' | b'\r') => break,
                            Some(_) => {
                                escapes = true;
                                i += 1 + utf8_len(bytes, i + 1);
                            }
                        }
                    }
                    _ => i += 1,
                }
            }
            Piece::Text { end: i, escapes }
        }
    }
}

/// Reads the piece of a heredoc that starts at `at` (not at a line holding
/// the closing marker, which the caller checks first).
pub(crate) fn heredoc_piece(bytes: &[u8], at: usize) -> Piece {
    match bytes.get(at) {
        None => Piece::Eof,
        Some(b'$' | b'%') => match sequence_piece(bytes, at) {
            // HCL's scanner keeps a lone `$` or `%` together with the one
            // ASCII character after it when a newline follows that
            // character; it matters to which text a `${~` on the next line
            // strips.
            Piece::Text { .. } if ends_line_after_one_char(bytes, at + 1) => Piece::Text {
                end: at + 2,
                escapes: false,
            },
            piece => piece,
        },
        Some(_) => {
            let mut i = at;
            while let Some(&b) = bytes.get(i) {
                match b {
                    b'$' | b'%' => break,
                    b'\n' => {
                        i += 1;
                        break;
                    }
                    b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                        i += 2;
                        break;
                    }
                    b'\r' if i == at => return Piece::Invalid,
                    b'\r' => break,
                    _ => i += 1,
                }
            }
            Piece::Text {
                end: i,
                escapes: false,
            }
        }
    }
}

/// Whether the byte at `at` is an ASCII character other than `\n` followed
/// by a newline.
fn ends_line_after_one_char(bytes: &[u8], at: usize) -> bool {
    let one = bytes.get(at).is_some_and(|&b| b.is_ascii() && b != b'\n');
    one && match bytes.get(at + 1) {
        Some(b'\n') => true,
        Some(b'\r') => bytes.get(at + 2) == Some(&b'\n'),
        _ => false,
    }
}

/// Reads a piece that starts with `$` or `%`: a template sequence, its
/// escaped form, or the lone character as text.
fn sequence_piece(bytes: &[u8], at: usize) -> Piece {
    let sigil = bytes.get(at).copied();
    let next = bytes.get(at + 1).copied();
    if next == Some(b'{') {
        let strip = bytes.get(at + 2) == Some(&b'~');
        let end = at + 2 + usize::from(strip);
        return if sigil == Some(b'$') {
            Piece::Interp { end, strip }
        } else {
            Piece::Control { end, strip }
        };
    }
    if next == sigil && bytes.get(at + 2) == Some(&b'{') {
        return Piece::EscapedOpen { end: at + 3 };
    }
    Piece::Text {
        end: at + 1,
        escapes: false,
    }
}

/// The length of the UTF-8 character whose first byte is at `at` (1 past the
/// end, so that callers always move forward).
fn utf8_len(bytes: &[u8], at: usize) -> usize {
    match bytes.get(at) {
        Some(0xF0..) => 4,
        Some(0xE0..) => 3,
        Some(0xC0..) => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        let mut lexer = Lexer::new(src);
        let mut out = Vec::new();
        loop {
            let tok = lexer.next_token();
            out.push(tok.kind);
            if tok.kind == Tok::Eof {
                return out;
            }
        }
    }

    fn texts(src: &str) -> Vec<&str> {
        let mut lexer = Lexer::new(src);
        let mut out = Vec::new();
        loop {
            let tok = lexer.next_token();
            if tok.kind == Tok::Eof {
                return out;
            }
            out.push(&src[tok.start..tok.end]);
        }
    }

    #[test]
    fn operators_take_the_longest_match() {
        use Tok::*;
        assert_eq!(
            kinds("== != <= >= && || :: ... => = < > ! : . ~}"),
            vec![
                Eq,
                NotEq,
                LtEq,
                GtEq,
                And,
                Or,
                DoubleColon,
                Ellipsis,
                FatArrow,
                Assign,
                Lt,
                Gt,
                Bang,
                Colon,
                Dot,
                TildeRBrace,
                Eof
            ]
        );
    }

    #[test]
    fn numbers_never_end_with_a_dot() {
        assert_eq!(
            texts("1.5e+3 1. 1.2.3 7e 0.x"),
            vec!["1.5e+3", "1", ".", "1.2.3", "7", "e", "0", ".", "x"]
        );
    }

    #[test]
    fn identifiers_take_dashes_and_unicode() {
        assert_eq!(texts("a-b_c ünï _x x1"), vec!["a-b_c", "ünï", "_x", "x1"]);
    }

    #[test]
    fn comments_stand_for_newlines_or_spaces() {
        use Tok::*;
        assert_eq!(
            kinds("a # c\nb // d\r\nc /* e\n */ d # end"),
            vec![Ident, Newline, Ident, Newline, Ident, Ident, Eof]
        );
    }

    #[test]
    fn heredoc_openers_need_a_newline() {
        use Tok::*;
        assert_eq!(kinds("<<EOT\n"), vec![OHeredoc, Eof]);
        assert_eq!(kinds("<<-EOT\r\n"), vec![OHeredoc, Eof]);
        assert_eq!(kinds("<<EOT x"), vec![Lt, Lt, Ident, Ident, Eof]);
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        assert_eq!(kinds("\u{feff}a"), vec![Tok::Ident, Tok::Eof]);
    }

    /// The error the lexer reports for the first invalid token of `src`.
    fn first_error(src: &str) -> Error {
        let mut lexer = Lexer::new(src);
        loop {
            let tok = lexer.next_token();
            match tok.kind {
                Tok::Invalid | Tok::OpenComment => return lexer.error_for(tok),
                Tok::Eof => panic!("no invalid token in {src:?}"),
                _ => {}
            }
        }
    }

    #[test]
    fn invalid_characters_are_reported_with_hints() {
        let err = first_error("a & b");
        assert!(err.message.starts_with("Unsupported operator"));
        assert_eq!(err.pos.map(|p| p.column), Some(3));
        assert!(first_error("\u{201c}x").message.contains("Curly quotes"));
        assert!(first_error("a /* open")
            .message
            .starts_with("Unterminated comment"));
        assert!(first_error("x = 'a'").message.contains("Single quotes"));
        assert_eq!(first_error("a \u{a0}").message, INVALID_CHARACTER);
    }

    #[test]
    fn quoted_pieces_split_at_sequences() {
        let b = br#"ab\"c$x$${%%{${~""#;
        assert_eq!(
            quoted_piece(b, 0),
            Piece::Text {
                end: 5,
                escapes: true
            }
        );
        assert_eq!(
            quoted_piece(b, 5),
            Piece::Text {
                end: 6,
                escapes: false
            }
        );
        assert_eq!(quoted_piece(b, 7), Piece::EscapedOpen { end: 10 });
        assert_eq!(quoted_piece(b, 10), Piece::EscapedOpen { end: 13 });
        assert_eq!(
            quoted_piece(b, 13),
            Piece::Interp {
                end: 16,
                strip: true
            }
        );
        assert_eq!(quoted_piece(b, 16), Piece::Close);
        assert_eq!(quoted_piece(b"\\", 0), Piece::Invalid);
        assert_eq!(quoted_piece(b"\n", 0), Piece::Newline);
    }

    #[test]
    fn heredoc_pieces_end_after_newlines() {
        let b = b"a b\r\nc%{ x";
        assert_eq!(
            heredoc_piece(b, 0),
            Piece::Text {
                end: 5,
                escapes: false
            }
        );
        assert_eq!(
            heredoc_piece(b, 5),
            Piece::Text {
                end: 6,
                escapes: false
            }
        );
        assert_eq!(
            heredoc_piece(b, 6),
            Piece::Control {
                end: 8,
                strip: false
            }
        );
        assert_eq!(heredoc_piece(b"\rx", 0), Piece::Invalid);
    }
}
