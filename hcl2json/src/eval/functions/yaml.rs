//! `yamldecode` and `yamlencode`, following go-cty-yaml.
//!
//! Decoding reads YAML events and types plain scalars with go-cty-yaml's
//! YAML 1.1 rules (`yes`/`on` are true, `~` is null, `0x1F` is 31, dates
//! become RFC 3339 strings). Encoding reproduces the output of the libyaml
//! emitter go-cty-yaml drives: block style, strings double-quoted (or
//! literal when they span lines), long quoted strings folded at 80 columns.

use std::collections::{BTreeMap, HashMap, HashSet};

use regex::Regex;
use std::sync::OnceLock;
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::args::{go_quote, parse_number, to_string, FuncResult, Signature};
use super::encoding::go_base64_decode;
use super::FuncContext;
use crate::value::{Number, Value};

const YAMLDECODE: Signature = Signature::fixed("yamldecode", &["src"]);
const YAMLENCODE: Signature = Signature::fixed("yamlencode", &["value"]);

/// How deeply collections may nest in a decoded document.
const MAX_DEPTH: usize = 500;

const TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// `yamldecode(src)`: the value a single-document YAML text describes.
pub(crate) fn yamldecode(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [src] = YAMLDECODE.exact(args)?;
    let src = YAMLDECODE.string(0, &src)?;
    Decoder::new(&src).document()
}

/// `yamlencode(value)`: the value as a YAML document.
pub(crate) fn yamlencode(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [value] = YAMLENCODE.exact(args)?;
    Ok(Value::String(encode(&value)))
}

/// A scalar once typed: a value, or the `<<` merge key.
enum Scalar {
    Value(Value),
    Merge,
}

/// The two kinds of YAML collection, which differ in their standard tag,
/// their name in errors and what they hold.
#[derive(Clone, Copy)]
enum Collection {
    Sequence,
    Mapping,
}

impl Collection {
    /// The short name of the standard tag (`tag:yaml.org,2002:<short>`) and
    /// the name errors use.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Collection::Sequence => ("seq", "sequence"),
            Collection::Mapping => ("map", "mapping"),
        }
    }
}

/// Reads the events of one document and builds its value.
struct Decoder<'a> {
    parser: Parser<std::str::Chars<'a>>,
    anchors: HashMap<usize, Value>,
    pending: HashSet<usize>,
}

impl<'a> Decoder<'a> {
    fn new(src: &'a str) -> Decoder<'a> {
        Decoder {
            parser: Parser::new_from_str(src),
            anchors: HashMap::new(),
            pending: HashSet::new(),
        }
    }

    fn next(&mut self) -> Result<(Event, Marker), String> {
        self.parser.next_token().map_err(|e| {
            let at = e.marker();
            format!(
                "on line {}, column {}: {}",
                at.line(),
                at.col() + 1,
                e.info()
            )
        })
    }

    /// The whole stream: exactly one document holding one value.
    fn document(&mut self) -> FuncResult {
        let (event, at) = self.next()?;
        if event != Event::StreamStart {
            return Err(located(&at, "missing stream start token"));
        }
        let (event, at) = self.next()?;
        if event != Event::DocumentStart {
            return Err(located(&at, "missing start of document"));
        }
        let (event, at) = self.next()?;
        let value = self.node(event, &at, 0)?;
        let (event, at) = self.next()?;
        match event {
            Event::DocumentEnd => {}
            Event::DocumentStart => return Err(located(&at, "only a single document is allowed")),
            other => {
                return Err(located(
                    &at,
                    &format!(
                        "unexpected extra content ({}) after value",
                        event_name(&other)
                    ),
                ))
            }
        }
        let (event, at) = self.next()?;
        if event != Event::StreamEnd {
            return Err(located(&at, "unexpected extra content after value"));
        }
        Ok(value)
    }

    fn node(&mut self, event: Event, at: &Marker, depth: usize) -> FuncResult {
        if depth > MAX_DEPTH {
            return Err(located(at, "YAML nesting is too deep"));
        }
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let value = match resolve_scalar(&tag_name(tag.as_ref()), &text, style) {
                    Ok(Scalar::Value(v)) => v,
                    Ok(Scalar::Merge) => Value::from("<<"),
                    Err(e) => return Err(located(at, &e)),
                };
                self.define(anchor, &value);
                Ok(value)
            }
            Event::Alias(id) => self.alias(id, at),
            Event::SequenceStart(anchor, tag) => {
                self.collection(Collection::Sequence, anchor, tag, at, depth)
            }
            Event::MappingStart(anchor, tag) => {
                self.collection(Collection::Mapping, anchor, tag, at, depth)
            }
            Event::DocumentStart => Err(located(at, "only a single document is allowed")),
            Event::StreamEnd => Err(located(at, "expecting value but found end of stream")),
            other => Err(located(
                at,
                &format!("unexpected parser event {}", event_name(&other)),
            )),
        }
    }

    fn define(&mut self, anchor: usize, value: &Value) {
        if anchor != 0 {
            self.pending.remove(&anchor);
            self.anchors.insert(anchor, value.clone());
        }
    }

    fn alias(&self, id: usize, at: &Marker) -> FuncResult {
        if self.pending.contains(&id) {
            return Err(located(
                at,
                "cannot refer to an anchor from inside its own definition",
            ));
        }
        self.anchors
            .get(&id)
            .cloned()
            .ok_or_else(|| located(at, "reference to undefined anchor"))
    }

    /// A sequence or a mapping. Both take no tag but their own standard
    /// one, and both keep their anchor pending while their contents are
    /// read, so that an alias to it from inside is an error, not a loop.
    fn collection(
        &mut self,
        kind: Collection,
        anchor: usize,
        tag: Option<Tag>,
        at: &Marker,
        depth: usize,
    ) -> FuncResult {
        let (short, name) = kind.names();
        let tag = tag_name(tag.as_ref());
        if !tag.is_empty() && tag != format!("{TAG_PREFIX}{short}") {
            return Err(located(at, &format!("can't interpret {name} as {tag}")));
        }
        if anchor != 0 {
            self.pending.insert(anchor);
        }
        let value = match kind {
            Collection::Sequence => self.sequence(depth)?,
            Collection::Mapping => self.mapping(depth)?,
        };
        self.define(anchor, &value);
        Ok(value)
    }

    /// The items of a sequence, up to its end.
    fn sequence(&mut self, depth: usize) -> FuncResult {
        let mut items = Vec::new();
        loop {
            let (event, at) = self.next()?;
            if event == Event::SequenceEnd {
                break;
            }
            items.push(self.node(event, &at, depth + 1)?);
        }
        Ok(Value::Tuple(items))
    }

    /// The entries of a mapping, up to its end, with `<<` merges applied.
    fn mapping(&mut self, depth: usize) -> FuncResult {
        let mut entries = BTreeMap::new();
        loop {
            let (event, key_at) = self.next()?;
            let (text, style, key_tag) = match event {
                Event::MappingEnd => break,
                Event::Scalar(text, style, _, key_tag) => (text, style, key_tag),
                _ => return Err(located(&key_at, "only strings are allowed as mapping keys")),
            };
            let key = resolve_scalar(&tag_name(key_tag.as_ref()), &text, style)
                .map_err(|e| located(&key_at, &e))?;
            let (event, value_at) = self.next()?;
            let value = self.node(event, &value_at, depth + 1)?;
            match key {
                Scalar::Merge => match value {
                    Value::Object(merged) => entries.extend(merged),
                    other => {
                        return Err(located(
                            &key_at,
                            &format!("cannot merge {} into mapping", friendly_type(&other)),
                        ))
                    }
                },
                Scalar::Value(Value::Null) => {
                    return Err(located(&key_at, "mapping key cannot be null"))
                }
                Scalar::Value(key) => {
                    let key = to_string(&key).map_err(|_| {
                        located(&key_at, "only strings are allowed as mapping keys")
                    })?;
                    entries.insert(key, value);
                }
            }
        }
        Ok(Value::Object(entries))
    }
}

/// go-cty-yaml's error position: libyaml's 0-based line, and none at all on
/// the first line.
fn located(at: &Marker, why: &str) -> String {
    let line = at.line().saturating_sub(1);
    if line == 0 {
        why.to_owned()
    } else {
        format!("on line {line}, column {}: {why}", at.col() + 1)
    }
}

fn event_name(event: &Event) -> &'static str {
    match event {
        Event::Nothing => "NO_EVENT",
        Event::StreamStart => "STREAM-START",
        Event::StreamEnd => "STREAM-END",
        Event::DocumentStart => "DOCUMENT-START",
        Event::DocumentEnd => "DOCUMENT-END",
        Event::Alias(_) => "ALIAS",
        Event::Scalar(..) => "SCALAR",
        Event::SequenceStart(..) => "SEQUENCE-START",
        Event::SequenceEnd => "SEQUENCE-END",
        Event::MappingStart(..) => "MAPPING-START",
        Event::MappingEnd => "MAPPING-END",
    }
}

fn friendly_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "dynamic",
        other => other.type_name(),
    }
}

fn tag_name(tag: Option<&Tag>) -> String {
    tag.map(|t| format!("{}{}", t.handle, t.suffix))
        .unwrap_or_default()
}

/// Types a scalar as go-cty-yaml does: quoted scalars are strings, plain
/// ones may be null, bools, numbers or timestamps; explicit tags decide.
fn resolve_scalar(tag: &str, text: &str, style: TScalarStyle) -> Result<Scalar, String> {
    let tag_is = |name: &str| tag.strip_prefix(TAG_PREFIX) == Some(name);
    let resolvable = tag.is_empty()
        || ["str", "bool", "int", "float", "null", "timestamp", "binary"]
            .iter()
            .any(|n| tag_is(n));
    if !resolvable {
        return Err(format!("unsupported tag {}", go_quote(tag)));
    }
    let mut tag = tag.to_owned();
    let hint = text.bytes().next().map_or(Some(Hint::Map), hint_for);
    if let Some(hint) = hint.filter(|_| !tag_is("str") && !tag_is("binary")) {
        if matches!(
            style,
            TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted
        ) {
            return Ok(Scalar::Value(Value::from(text)));
        }
        if let Some(v) = special_scalar(text) {
            return Ok(Scalar::Value(v));
        }
        if tag.is_empty() && matches!(text, ".nan" | ".NaN" | ".NAN") {
            return Err("floating point NaN is not supported".to_owned());
        }
        match hint {
            Hint::Map => {}
            Hint::Dot => {
                if let Some(n) = parse_number(text) {
                    return Ok(Scalar::Value(Value::Number(n)));
                }
            }
            Hint::Digit | Hint::Sign => {
                if tag.is_empty() || tag_is("timestamp") {
                    if let Some(t) = parse_yaml_timestamp(text) {
                        return Ok(Scalar::Value(Value::String(t)));
                    }
                }
                if integer_literal().is_match(text) {
                    tag = format!("{TAG_PREFIX}int");
                } else if float_literal().is_match(text) {
                    tag = format!("{TAG_PREFIX}float");
                }
            }
        }
    }
    if tag.is_empty() && text == "<<" {
        return Ok(Scalar::Merge);
    }
    let cannot_parse = || format!("cannot parse {} as {tag}", go_quote(text));
    let value = match tag.strip_prefix(TAG_PREFIX).unwrap_or(&tag) {
        "" | "str" => Value::from(text),
        "binary" => {
            go_base64_decode(text)
                .ok_or_else(|| format!("{}: not valid base64", cannot_parse()))?;
            Value::from(text)
        }
        "bool" => match special_scalar(text) {
            Some(b @ Value::Bool(_)) => b,
            _ => return Err(cannot_parse()),
        },
        "int" | "float" => Value::Number(yaml_number(text).ok_or_else(cannot_parse)?),
        "timestamp" => Value::String(parse_yaml_timestamp(text).ok_or_else(cannot_parse)?),
        "null" => Value::Null,
        _ => return Err(format!("unsupported tag {}", go_quote(&tag))),
    };
    Ok(Scalar::Value(value))
}

/// What the first byte of a plain scalar suggests it may be.
#[derive(Clone, Copy)]
enum Hint {
    Sign,
    Digit,
    Map,
    Dot,
}

fn hint_for(first: u8) -> Option<Hint> {
    match first {
        b'+' | b'-' => Some(Hint::Sign),
        b'0'..=b'9' => Some(Hint::Digit),
        b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~' => {
            Some(Hint::Map)
        }
        b'.' => Some(Hint::Dot),
        _ => None,
    }
}

/// The YAML 1.1 words for booleans, null and infinities.
fn special_scalar(text: &str) -> Option<Value> {
    Some(match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Value::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Value::Bool(false)
        }
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            Value::Number(Number::Float(f64::INFINITY))
        }
        "-.inf" | "-.Inf" | "-.INF" => Value::Number(Number::Float(f64::NEG_INFINITY)),
        _ => return None,
    })
}

fn integer_literal() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"\A[-+]?(|0o[0-7_]+|[0-9_]+|0x[0-9a-fA-F_]+)\z").expect("valid regex")
    })
}

fn float_literal() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"\A[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\z").expect("valid regex")
    })
}

/// A number tagged (or looking like) int or float: decimal first, then Go's
/// prefixed integers (`0x`, `0o`, `0b`, leading-zero octal).
fn yaml_number(text: &str) -> Option<Number> {
    let plain = text.replace('_', "");
    if let Some(n) = parse_number(&plain) {
        return Some(n);
    }
    let (negative, digits) = match plain.as_bytes().first() {
        Some(b'-') => (true, &plain[1..]),
        Some(b'+') => (false, &plain[1..]),
        _ => (false, plain.as_str()),
    };
    let (radix, body) = match digits.get(..2) {
        Some("0x" | "0X") => (16, &digits[2..]),
        Some("0o" | "0O") => (8, &digits[2..]),
        Some("0b" | "0B") => (2, &digits[2..]),
        _ if digits.len() > 1 && digits.starts_with('0') => (8, &digits[1..]),
        _ => return None,
    };
    if body.is_empty() || body.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = u64::from_str_radix(body, radix).ok()?;
    if negative {
        let value = 0i64.checked_sub_unsigned(magnitude)?;
        Some(Number::Int(value))
    } else {
        Some(i64::try_from(magnitude).map_or(Number::Float(magnitude as f64), Number::Int))
    }
}

/// A YAML timestamp in one of the forms go-cty-yaml accepts, written as
/// RFC 3339 (without fractional seconds).
fn parse_yaml_timestamp(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    if bytes.len() < 5 || !bytes[..4].iter().all(u8::is_ascii_digit) || bytes[4] != b'-' {
        return None;
    }
    let mut cursor = DateCursor { rest: text };
    let year = cursor.digits(4, 4)?;
    cursor.expect("-")?;
    let month = cursor.digits(1, 2)?;
    cursor.expect("-")?;
    let day = cursor.digits(1, 2)?;
    let mut time = (0, 0, 0);
    let mut offset = String::from("Z");
    if !cursor.rest.is_empty() {
        let zoned = match cursor.rest.as_bytes()[0] {
            b'T' | b't' => true,
            b' ' => false,
            _ => return None,
        };
        cursor.rest = &cursor.rest[1..];
        let hour = cursor.digits(1, 2)?;
        cursor.expect(":")?;
        let minute = cursor.digits(1, 2)?;
        cursor.expect(":")?;
        let second = cursor.digits(1, 2)?;
        cursor.fraction();
        if zoned {
            offset = cursor.zone()?;
        }
        if !cursor.rest.is_empty() || hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        time = (hour, minute, second);
    }
    let valid_day = (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month);
    valid_day.then(|| {
        format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{offset}",
            time.0, time.1, time.2
        )
    })
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A cursor over the unread part of a timestamp.
struct DateCursor<'a> {
    rest: &'a str,
}

impl DateCursor<'_> {
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let n = self
            .rest
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if n < min {
            return None;
        }
        let value = self.rest[..n].parse().ok()?;
        self.rest = &self.rest[n..];
        Some(value)
    }

    fn expect(&mut self, text: &str) -> Option<()> {
        self.rest = self.rest.strip_prefix(text)?;
        Some(())
    }

    fn fraction(&mut self) {
        if let Some(after) = self.rest.strip_prefix(['.', ',']) {
            let n = after.bytes().take_while(u8::is_ascii_digit).count();
            if n > 0 {
                self.rest = &after[n..];
            }
        }
    }

    /// `Z` or `±hh:mm`, written back as RFC 3339 writes it.
    fn zone(&mut self) -> Option<String> {
        if let Some(rest) = self.rest.strip_prefix('Z') {
            self.rest = rest;
            return Some("Z".to_owned());
        }
        let b = self.rest.as_bytes();
        let ok = b.len() >= 6
            && matches!(b[0], b'+' | b'-')
            && b[1..3].iter().all(u8::is_ascii_digit)
            && b[3] == b':'
            && b[4..6].iter().all(u8::is_ascii_digit);
        if !ok {
            return None;
        }
        let zone = &self.rest[..6];
        self.rest = &self.rest[6..];
        Some(if zone[1..] == *"00:00" {
            "Z".to_owned()
        } else {
            zone.to_owned()
        })
    }
}

/// The emitter's preferred line width, past which quoted strings fold.
const BEST_WIDTH: usize = 80;
/// Spaces per indentation level.
const BEST_INDENT: i32 = 2;
/// The longest key written as a simple `key: value`.
const MAX_SIMPLE_KEY: usize = 128;

/// Writes a value as go-cty-yaml's libyaml emitter does.
pub(crate) fn encode(value: &Value) -> String {
    let mut e = Emitter {
        out: String::new(),
        column: 0,
        indent: -1,
        indents: Vec::new(),
        whitespace: true,
        indention: true,
        open_ended: false,
        flow_level: 0,
    };
    e.node(value, Place::Root);
    e.write_indent();
    if e.open_ended {
        e.indicator("...", true, false, false);
        e.write_indent();
    }
    e.out
}

/// Where a node sits, which changes how libyaml writes it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Root,
    SequenceItem,
    MappingValue,
    MappingKey,
    SimpleKey,
}

/// The scalar styles the encoder asks for or falls back to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    DoubleQuoted,
    Literal,
}

/// The state of the emitter, as libyaml keeps it.
struct Emitter {
    out: String,
    column: usize,
    indent: i32,
    indents: Vec<i32>,
    whitespace: bool,
    indention: bool,
    open_ended: bool,
    flow_level: usize,
}

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    fn restore_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn write_indent(&mut self) {
        let indent = usize::try_from(self.indent).unwrap_or(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn indicator(
        &mut self,
        text: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        for c in text.chars() {
            self.put(c);
        }
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
        self.open_ended = false;
    }

    fn node(&mut self, value: &Value, place: Place) {
        match value {
            Value::Null => self.scalar("null", Style::Plain, place),
            Value::Bool(b) => self.scalar(if *b { "true" } else { "false" }, Style::Plain, place),
            Value::Number(n) => self.scalar(&n.to_string(), Style::Plain, place),
            Value::String(s) => {
                let style = if s.contains('\n') {
                    Style::Literal
                } else {
                    Style::DoubleQuoted
                };
                self.scalar(s, style, place);
            }
            Value::Tuple(items) if items.is_empty() => self.empty_flow("[", "]"),
            Value::Tuple(items) => self.block_sequence(items, place),
            Value::Object(map) if map.is_empty() => self.empty_flow("{", "}"),
            Value::Object(map) => self.block_mapping(map),
        }
    }

    fn empty_flow(&mut self, open: &str, close: &str) {
        self.indicator(open, true, true, false);
        self.increase_indent(true, false);
        self.flow_level += 1;
        self.flow_level -= 1;
        self.restore_indent();
        self.indicator(close, false, false, false);
    }

    fn block_sequence(&mut self, items: &[Value], place: Place) {
        let in_mapping = matches!(
            place,
            Place::MappingValue | Place::MappingKey | Place::SimpleKey
        );
        self.increase_indent(false, in_mapping && !self.indention);
        for item in items {
            self.write_indent();
            self.indicator("-", true, false, true);
            self.node(item, Place::SequenceItem);
        }
        self.restore_indent();
    }

    fn block_mapping(&mut self, map: &BTreeMap<String, Value>) {
        self.increase_indent(false, false);
        for (key, value) in map {
            self.write_indent();
            let key_value = Value::String(key.clone());
            if is_simple_key(key) {
                self.node(&key_value, Place::SimpleKey);
                self.indicator(":", false, false, false);
            } else {
                self.indicator("?", true, false, true);
                self.node(&key_value, Place::MappingKey);
                self.write_indent();
                self.indicator(":", true, false, true);
            }
            self.node(value, Place::MappingValue);
        }
        self.restore_indent();
    }

    fn scalar(&mut self, text: &str, requested: Style, place: Place) {
        let style = self.select_style(text, requested, place);
        self.increase_indent(true, false);
        match style {
            Style::Plain => self.plain(text, place == Place::Root),
            Style::DoubleQuoted => self.double_quoted(text, place != Place::SimpleKey),
            Style::Literal => self.literal(text),
        }
        self.restore_indent();
    }

    fn select_style(&self, text: &str, requested: Style, place: Place) -> Style {
        let analysis = ScalarAnalysis::of(text);
        let simple_key = place == Place::SimpleKey;
        match requested {
            Style::Plain => {
                let plain_ok = if self.flow_level > 0 {
                    analysis.flow_plain_allowed
                } else {
                    analysis.block_plain_allowed
                };
                let empty_in_key = text.is_empty() && (self.flow_level > 0 || simple_key);
                if plain_ok && !empty_in_key {
                    Style::Plain
                } else {
                    Style::DoubleQuoted
                }
            }
            Style::Literal if !analysis.block_allowed || self.flow_level > 0 || simple_key => {
                Style::DoubleQuoted
            }
            other => other,
        }
    }

    fn plain(&mut self, text: &str, root: bool) {
        if !self.whitespace {
            self.put(' ');
        }
        for c in text.chars() {
            self.put(c);
        }
        self.whitespace = false;
        self.indention = false;
        if root {
            self.open_ended = true;
        }
    }

    fn double_quoted(&mut self, text: &str, allow_breaks: bool) {
        self.indicator("\"", true, false, false);
        let mut spaces = false;
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            if !is_printable(c) || c == '\u{feff}' || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                self.escape(c);
                spaces = false;
            } else if c == ' ' {
                let inner = at > 0 && at + 1 < text.len();
                if allow_breaks && !spaces && self.column > BEST_WIDTH && inner {
                    self.write_indent();
                    if chars.peek().map(|&(_, n)| n) == Some(' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(' ');
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    /// The letter or hex code after the backslash of an escaped character.
    fn escape(&mut self, c: char) {
        let letter = match c {
            '\0' => '0',
            '\x07' => 'a',
            '\x08' => 'b',
            '\t' => 't',
            '\n' => 'n',
            '\x0b' => 'v',
            '\x0c' => 'f',
            '\r' => 'r',
            '\x1b' => 'e',
            '"' => '"',
            '\\' => '\\',
            '\u{85}' => 'N',
            '\u{a0}' => '_',
            '\u{2028}' => 'L',
            '\u{2029}' => 'P',
            _ => {
                let code = c as u32;
                let (prefix, width) = match code {
                    0..=0xff => ('x', 2),
                    0x100..=0xffff => ('u', 4),
                    _ => ('U', 8),
                };
                self.put(prefix);
                for ch in format!("{code:0width$X}").chars() {
                    self.put(ch);
                }
                return;
            }
        };
        self.put(letter);
    }

    fn literal(&mut self, text: &str) {
        self.indicator("|", true, false, false);
        self.block_scalar_hints(text);
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for c in text.chars() {
            if is_break(c) {
                if c == '\n' {
                    self.put_break();
                } else {
                    self.out.push(c);
                    self.column = 0;
                }
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                breaks = false;
            }
        }
    }

    /// The indentation and chomping indicators after `|`.
    fn block_scalar_hints(&mut self, text: &str) {
        if text.starts_with(|c: char| c == ' ' || is_break(c)) {
            self.indicator(&BEST_INDENT.to_string(), false, false, false);
        }
        self.open_ended = false;
        let mut tail = text.chars().rev();
        let chomp = match (tail.next(), tail.next()) {
            (None, _) => Some('-'),
            (Some(last), _) if !is_break(last) => Some('-'),
            (Some(_), None) => Some('+'),
            (Some(_), Some(before)) if is_break(before) => Some('+'),
            _ => None,
        };
        if let Some(chomp) = chomp {
            if chomp == '+' {
                self.indicator("+", false, false, false);
                self.open_ended = true;
            } else {
                self.indicator("-", false, false, false);
            }
        }
    }
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// libyaml's printable set (note: it excludes characters beyond U+FFFF).
fn is_printable(c: char) -> bool {
    matches!(c as u32,
        0x0a | 0x20..=0x7e | 0xa0..=0xd7ff | 0xe000..=0xfffd)
        && c != '\u{feff}'
}

fn is_simple_key(key: &str) -> bool {
    !key.chars().any(is_break) && key.len() <= MAX_SIMPLE_KEY
}

/// Which styles a scalar may be written in, as libyaml works it out.
struct ScalarAnalysis {
    flow_plain_allowed: bool,
    block_plain_allowed: bool,
    block_allowed: bool,
}

impl ScalarAnalysis {
    fn of(text: &str) -> ScalarAnalysis {
        if text.is_empty() {
            return ScalarAnalysis {
                flow_plain_allowed: false,
                block_plain_allowed: true,
                block_allowed: false,
            };
        }
        let chars: Vec<char> = text.chars().collect();
        let mut flow_indicators = text.starts_with("---") || text.starts_with("...");
        let mut block_indicators = flow_indicators;
        let (mut line_breaks, mut special) = (false, false);
        let (mut space_break, mut previous_space, mut previous_break) = (false, false, false);
        let mut preceded_by_whitespace = true;
        for (i, &c) in chars.iter().enumerate() {
            let followed_by_whitespace = chars
                .get(i + 1)
                .is_none_or(|&n| n == ' ' || n == '\t' || is_break(n));
            let (flow, block) =
                indicator_kind(c, i == 0, followed_by_whitespace, preceded_by_whitespace);
            flow_indicators |= flow;
            block_indicators |= block;
            special |= !is_printable(c);
            if c == ' ' {
                previous_space = true;
                previous_break = false;
            } else if is_break(c) {
                line_breaks = true;
                space_break |= previous_space;
                previous_space = false;
                previous_break = true;
            } else {
                previous_space = false;
                previous_break = false;
            }
            preceded_by_whitespace = c == ' ' || c == '\t' || is_break(c);
        }
        let _ = previous_break;
        let first = chars[0];
        let last = chars[chars.len() - 1];
        let edges = first == ' ' || is_break(first) || last == ' ' || is_break(last);
        let no_plain = edges || line_breaks || space_break || special;
        ScalarAnalysis {
            flow_plain_allowed: !(no_plain || flow_indicators),
            block_plain_allowed: !(no_plain || block_indicators),
            block_allowed: !(last == ' ' || space_break || special),
        }
    }
}

/// Whether `c` makes a plain scalar ambiguous in flow and in block context.
fn indicator_kind(
    c: char,
    first: bool,
    followed_by_ws: bool,
    preceded_by_ws: bool,
) -> (bool, bool) {
    if first {
        match c {
            '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"' | '%'
            | '@' | '`' => (true, true),
            '?' | ':' => (true, followed_by_ws),
            '-' => (followed_by_ws, followed_by_ws),
            _ => (false, false),
        }
    } else {
        match c {
            ',' | '?' | '[' | ']' | '{' | '}' => (true, false),
            ':' => (true, followed_by_ws),
            '#' => (preceded_by_ws, preceded_by_ws),
            _ => (false, false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{call, object as obj, s};
    use super::*;

    fn decode(src: &str) -> FuncResult {
        call(yamldecode, vec![s(src)])
    }

    #[test]
    fn decodes_scalars_with_yaml_1_1_rules() {
        assert_eq!(decode("true"), Ok(Value::Bool(true)));
        assert_eq!(decode("yes"), Ok(Value::Bool(true)));
        assert_eq!(decode("Off"), Ok(Value::Bool(false)));
        assert_eq!(decode("~"), Ok(Value::Null));
        assert_eq!(decode("---"), Ok(Value::Null));
        assert_eq!(decode("'yes'"), Ok(s("yes")));
        assert_eq!(decode("\"12\""), Ok(s("12")));
        assert_eq!(decode("12"), Ok(Value::from(12)));
        assert_eq!(decode("-1.5e3"), Ok(Value::from(-1500)));
        assert_eq!(decode(".5"), Ok(Value::from(0.5)));
        assert_eq!(decode("0x1F"), Ok(Value::from(31)));
        assert_eq!(decode("0o17"), Ok(Value::from(15)));
        assert_eq!(decode("017"), Ok(Value::from(17)));
        assert_eq!(decode("1_000"), Ok(Value::from(1000)));
        assert_eq!(decode(".inf"), Ok(Value::from(f64::INFINITY)));
        assert_eq!(decode("12:30"), Ok(s("12:30")));
        assert_eq!(decode("yesterday"), Ok(s("yesterday")));
        assert_eq!(decode("2001-12-14"), Ok(s("2001-12-14T00:00:00Z")));
        assert_eq!(
            decode("2001-12-14t21:59:43.10-05:00"),
            Ok(s("2001-12-14T21:59:43-05:00"))
        );
        assert_eq!(
            decode("2001-12-14 21:59:43.10"),
            Ok(s("2001-12-14T21:59:43Z"))
        );
        assert_eq!(
            decode("2001-1-4T1:2:3,5+00:00"),
            Ok(s("2001-01-04T01:02:03Z"))
        );
        assert_eq!(decode("2001-02-30"), Ok(s("2001-02-30")));
        assert_eq!(decode("!!str 12"), Ok(s("12")));
        assert_eq!(decode("!!int \"12\""), Ok(s("12")));
        assert_eq!(decode("!!float 1"), Ok(Value::from(1)));
        assert_eq!(decode("!!binary aGk="), Ok(s("aGk=")));
        assert_eq!(decode("|\n  line\n"), Ok(s("line\n")));
        assert_eq!(
            decode(".nan"),
            Err("floating point NaN is not supported".to_owned())
        );
        assert_eq!(
            decode("!!bool maybe"),
            Err("cannot parse \"maybe\" as tag:yaml.org,2002:bool".to_owned())
        );
        assert_eq!(decode("!foo x"), Err("unsupported tag \"!foo\"".to_owned()));
    }

    #[test]
    fn decodes_collections() {
        let src = "a: 1\nb:\n  - x\n  - z: [1, 'two']\nc: {}\n3: three\ny: yes\n";
        assert_eq!(
            decode(src),
            Ok(obj(&[
                ("a", Value::from(1)),
                (
                    "b",
                    Value::Tuple(vec![
                        s("x"),
                        obj(&[("z", Value::Tuple(vec![Value::from(1), s("two")]))])
                    ])
                ),
                ("c", obj(&[])),
                ("3", s("three")),
                // YAML 1.1 reads an unquoted `y` as true, even as a key.
                ("true", Value::Bool(true)),
            ]))
        );
    }

    #[test]
    fn decodes_anchors_and_merges() {
        let src = "base: &b {x: 1, z: 2}\nother:\n  <<: *b\n  z: 3\nlist: &l [1]\ncopy: *l\n";
        assert_eq!(
            decode(src),
            Ok(obj(&[
                ("base", obj(&[("x", Value::from(1)), ("z", Value::from(2))])),
                ("copy", Value::Tuple(vec![Value::from(1)])),
                ("list", Value::Tuple(vec![Value::from(1)])),
                (
                    "other",
                    obj(&[("x", Value::from(1)), ("z", Value::from(3))])
                ),
            ]))
        );
        assert_eq!(
            decode("a: 1\n<<: [1]\n"),
            Err("on line 1, column 1: cannot merge tuple into mapping".to_owned())
        );
    }

    #[test]
    fn decode_errors() {
        assert_eq!(decode(""), Err("missing start of document".to_owned()));
        assert!(decode("a: 1\n---\nb: 2\n")
            .unwrap_err()
            .contains("unexpected extra content after value"));
        assert_eq!(decode("~: 1"), Err("mapping key cannot be null".to_owned()));
        assert_eq!(
            decode("[1]: 1"),
            Err("only strings are allowed as mapping keys".to_owned())
        );
        assert!(decode("a: [1\n").unwrap_err().starts_with("on line"));
        let deep = format!("{}{}", "[".repeat(600), "]".repeat(600));
        assert!(decode(&deep).is_err());
    }

    #[test]
    fn collections_take_only_their_own_tag_and_no_alias_to_themselves() {
        assert_eq!(decode("!!seq [1]"), Ok(Value::Tuple(vec![Value::from(1)])));
        assert_eq!(decode("!!map {a: 1}"), Ok(obj(&[("a", Value::from(1))])));
        assert_eq!(
            decode("x: !!map [1]\n"),
            Err("can't interpret sequence as tag:yaml.org,2002:map".to_owned())
        );
        assert_eq!(
            decode("x: !!seq {a: 1}\n"),
            Err("can't interpret mapping as tag:yaml.org,2002:seq".to_owned())
        );
        for src in ["x: &a [*a]\n", "x: &a {b: *a}\n"] {
            assert!(
                decode(src)
                    .unwrap_err()
                    .contains("cannot refer to an anchor from inside its own definition"),
                "{src:?}"
            );
        }
    }

    fn enc(v: Value) -> String {
        match call(yamlencode, vec![v]) {
            Ok(Value::String(s)) => s,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn encodes_primitives_like_go_cty_yaml() {
        assert_eq!(enc(Value::Bool(true)), "true\n...\n");
        assert_eq!(enc(s("")), "\"\"\n");
        assert_eq!(enc(s("hello")), "\"hello\"\n");
        assert_eq!(enc(s("true")), "\"true\"\n");
        assert_eq!(enc(s("hello\nworld")), "|-\n  hello\n  world\n");
        assert_eq!(enc(s("hello\n")), "|\n  hello\n");
        assert_eq!(enc(s("a\n\n")), "|+\n  a\n\n...\n");
        assert_eq!(enc(s(" a\nb")), "|2-\n   a\n  b\n");
        assert_eq!(enc(s("a \nb")), "\"a \\nb\"\n");
        assert_eq!(enc(s("tab\there")), "\"tab\\there\"\n");
        assert_eq!(
            enc(s("é \u{1F600} \"q\" \\")),
            "\"é \\U0001F600 \\\"q\\\" \\\\\"\n"
        );
        assert_eq!(enc(Value::from(0)), "0\n...\n");
        assert_eq!(enc(Value::from(2.5)), "2.5\n...\n");
        assert_eq!(enc(Value::from(f64::INFINITY)), "+Inf\n...\n");
        assert_eq!(enc(Value::Null), "null\n...\n");
        assert_eq!(enc(obj(&[])), "{}\n");
        assert_eq!(enc(Value::Tuple(vec![])), "[]\n");
    }

    #[test]
    fn encodes_collections_in_block_style() {
        assert_eq!(enc(obj(&[("a", s("b"))])), "\"a\": \"b\"\n");
        assert_eq!(enc(Value::Tuple(vec![s("b")])), "- \"b\"\n");
        let nested = obj(&[
            (
                "list",
                Value::Tuple(vec![
                    Value::from(1),
                    obj(&[("x", Value::Null), ("y", Value::Tuple(vec![]))]),
                ]),
            ),
            ("map", obj(&[("k", s("v\nw"))])),
            (
                "nested",
                Value::Tuple(vec![Value::Tuple(vec![Value::Bool(false), Value::from(2)])]),
            ),
        ]);
        assert_eq!(
            enc(nested),
            "\"list\":\n- 1\n- \"x\": null\n  \"y\": []\n\"map\":\n  \"k\": |-\n    v\n    w\n\"nested\":\n- - false\n  - 2\n"
        );
    }

    #[test]
    fn folds_long_quoted_strings() {
        let long = "word ".repeat(20).trim_end().to_owned();
        let out = enc(obj(&[("k", s(&long))]));
        assert_eq!(
            out,
            "\"k\": \"word word word word word word word word word word word word word word word word\n  word word word word\"\n"
        );
        let key = "k".repeat(129);
        assert_eq!(
            enc(obj(&[(&key, Value::from(1))])),
            format!("? \"{key}\"\n: 1\n")
        );
    }

    #[test]
    fn round_trips() {
        let v = obj(&[
            (
                "a",
                Value::Tuple(vec![
                    s("x y"),
                    Value::from(1.25),
                    Value::Bool(true),
                    Value::Null,
                ]),
            ),
            ("b", s("multi\nline\n")),
            ("c", obj(&[("d", s("yes")), ("e", s("0x10"))])),
        ]);
        assert_eq!(decode(&enc(v.clone())), Ok(v));
    }
}
