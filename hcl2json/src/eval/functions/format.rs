//! `format` and `formatlist`: printf-style formatting as cty implements it.
//!
//! A verb is `%`, then flags (`0#-+ `), a width, a precision (`.n`), an
//! argument index (`[n]`, 1-based) and a letter, in that order. Widths and
//! precisions of strings count characters (grapheme clusters).

use unicode_segmentation::UnicodeSegmentation;

use super::args::{
    go_quote, go_quote_char, to_bool, to_number, to_string, FuncResult, Signature, MAX_RESULT_BYTES,
};
use super::encoding::{cty_json, go_json_string};
use super::numfmt::{format_float, format_integer, go_general, Spec};
use super::FuncContext;
use crate::value::Value;

const FORMAT: Signature = Signature::variadic("format", &["format"], "args");
const FORMATLIST: Signature = Signature::variadic("formatlist", &["format"], "args");

/// The largest width or precision a verb may ask for.
const MAX_WIDTH: usize = 1 << 20;

/// `format(format, args...)`: the format string with each verb replaced by
/// its formatted argument.
pub(crate) fn format(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let ([template], values) = FORMAT.split::<1>(args)?;
    let template = FORMAT.string(0, &template)?;
    format_values(&template, &values)
        .map(Value::String)
        .map_err(|e| match e.argument {
            Some(index) => FORMAT.arg_error(index, e.message),
            None => e.message,
        })
}

/// `formatlist(format, args...)`: `format` applied once per element of the
/// list arguments (which must have equal lengths); other arguments repeat.
pub(crate) fn formatlist(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let ([template], values) = FORMATLIST.split::<1>(args)?;
    let template = FORMATLIST.string(0, &template)?;
    let rounds = iteration_count(&values)?;
    let mut results = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let round_args: Vec<Value> = values
            .iter()
            .map(|v| match v {
                Value::Tuple(items) => items.get(round).cloned().unwrap_or(Value::Null),
                other => other.clone(),
            })
            .collect();
        let text = format_values(&template, &round_args)
            .map_err(|e| format!("error on format iteration {round}: {}", e.message))?;
        results.push(Value::String(text));
    }
    Ok(Value::Tuple(results))
}

/// How many strings `formatlist` makes: the common length of the list
/// arguments, or 1 when there are none.
fn iteration_count(values: &[Value]) -> Result<usize, String> {
    let mut common: Option<(usize, usize)> = None;
    for (i, value) in values.iter().enumerate() {
        let Value::Tuple(items) = value else { continue };
        match common {
            None => common = Some((i, items.len())),
            Some((first, len)) if len != items.len() => {
                return Err(FORMATLIST.arg_error(
                    i + 1,
                    format!(
                        "argument {} has length {}, which is inconsistent with argument {} of length {len}",
                        i + 1,
                        items.len(),
                        first + 1
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(common.map_or(1, |(_, len)| len))
}

/// Why formatting failed, and which call argument (counting the format
/// string as 0) is to blame, if one is.
#[derive(Debug, PartialEq)]
struct FormatError {
    message: String,
    argument: Option<usize>,
}

impl From<String> for FormatError {
    fn from(message: String) -> FormatError {
        FormatError {
            message,
            argument: None,
        }
    }
}

/// One parsed verb.
struct Verb<'a> {
    raw: &'a str,
    offset: usize,
    arg: usize,
    mode: char,
    spec: Spec,
}

/// Formats `template` with `args`, verb by verb, as cty's scanner does.
fn format_values(template: &str, args: &[Value]) -> Result<String, FormatError> {
    let mut out = String::new();
    let mut scanner = Scanner {
        text: template,
        pos: 0,
    };
    let mut next_arg = 1;
    let mut highest_arg = 0;
    while let Some(c) = scanner.peek() {
        if c != '%' {
            out.push(c);
            scanner.bump();
            continue;
        }
        if scanner.text[scanner.pos..].starts_with("%%") {
            out.push('%');
            scanner.pos += 2;
            continue;
        }
        let verb = scanner.verb(next_arg)?;
        highest_arg = highest_arg.max(verb.arg);
        append_verb(&verb, args, &mut out)?;
        if out.len() > MAX_RESULT_BYTES {
            return Err(format!("the result would be larger than {MAX_RESULT_BYTES} bytes").into());
        }
        next_arg = verb.arg + 1;
    }
    if highest_arg < args.len() {
        let message = if highest_arg == 0 {
            "too many arguments; no verbs in format string".to_owned()
        } else {
            format!("too many arguments; only {highest_arg} used by format string")
        };
        return Err(FormatError {
            message,
            argument: Some(highest_arg + 1),
        });
    }
    Ok(out)
}

/// Reads verbs from a format string.
struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.pos += c.len_utf8();
        }
    }

    /// The character at the cursor, or the error for an unfinished verb.
    fn expect(&self) -> Result<char, FormatError> {
        self.peek().ok_or_else(|| {
            format!(
                "invalid format string starting at offset {}",
                self.text.len()
            )
            .into()
        })
    }

    fn unexpected(&self, c: char) -> FormatError {
        format!(
            "unrecognized format character {} at offset {}",
            go_quote_char(c),
            self.pos
        )
        .into()
    }

    /// Parses the verb starting at the `%` under the cursor.
    fn verb(&mut self, default_arg: usize) -> Result<Verb<'a>, FormatError> {
        let start = self.pos;
        self.bump();
        let mut spec = Spec::default();
        self.flags(&mut spec)?;
        spec.width = self.width()?;
        spec.precision = self.precision()?;
        let arg = self.arg_index()?.unwrap_or(default_arg);
        let mode = self.expect()?;
        if !mode.is_ascii_alphabetic() {
            return Err(self.unexpected(mode));
        }
        self.bump();
        Ok(Verb {
            raw: &self.text[start..self.pos],
            offset: start,
            arg,
            mode,
            spec,
        })
    }

    fn flags(&mut self, spec: &mut Spec) -> Result<(), FormatError> {
        loop {
            match self.expect()? {
                '0' => spec.zero = true,
                '#' => spec.sharp = true,
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                ' ' => spec.space = true,
                _ => return Ok(()),
            }
            self.bump();
        }
    }

    /// Digits forming a number that does not start with 0.
    fn number(&mut self) -> Result<Option<usize>, FormatError> {
        if !matches!(self.expect()?, '1'..='9') {
            return Ok(None);
        }
        self.digits().map(Some)
    }

    /// Zero or more digits.
    fn digits(&mut self) -> Result<usize, FormatError> {
        let mut n: usize = 0;
        while let Some(d) = self.expect()?.to_digit(10) {
            n = n.saturating_mul(10).saturating_add(d as usize);
            self.bump();
        }
        if n > MAX_WIDTH {
            return Err(format!("width or precision {n} is too large").into());
        }
        Ok(n)
    }

    fn width(&mut self) -> Result<Option<usize>, FormatError> {
        self.number()
    }

    fn precision(&mut self) -> Result<Option<usize>, FormatError> {
        if self.expect()? != '.' {
            return Ok(None);
        }
        self.bump();
        self.digits().map(Some)
    }

    fn arg_index(&mut self) -> Result<Option<usize>, FormatError> {
        if self.expect()? != '[' {
            return Ok(None);
        }
        self.bump();
        let c = self.expect()?;
        let Some(n) = self.number()? else {
            return Err(self.unexpected(c));
        };
        match self.expect()? {
            ']' => {
                self.bump();
                Ok(Some(n))
            }
            other => Err(self.unexpected(other)),
        }
    }
}

/// Formats the argument a verb refers to onto `out`.
fn append_verb(verb: &Verb<'_>, args: &[Value], out: &mut String) -> Result<(), FormatError> {
    let Some(arg) = verb.arg.checked_sub(1).and_then(|i| args.get(i)) else {
        return Err(format!(
            "not enough arguments for {} at {}: need index {} but have {} total",
            go_quote(verb.raw),
            verb.offset,
            verb.arg,
            args.len()
        )
        .into());
    };
    if verb.mode != 'v' && arg.is_null() {
        return Err(unsupported(verb, "null value cannot be formatted"));
    }
    let text = match verb.mode {
        'v' => format_as_is(verb, arg)?,
        't' => to_bool(arg).map_err(|e| unsupported(verb, e))?.to_string(),
        'b' | 'd' | 'o' | 'x' | 'X' => {
            let n = to_number(arg).map_err(|e| unsupported(verb, e))?;
            format_integer(n, verb.mode, &verb.spec)
                .ok_or_else(|| unsupported(verb, "an integer is required"))?
        }
        'e' | 'E' | 'f' | 'g' | 'G' => {
            let n = to_number(arg).map_err(|e| unsupported(verb, e))?;
            format_float(n.as_f64(), verb.mode, &verb.spec)
        }
        's' | 'q' => format_string(verb, arg)?,
        other => {
            return Err(format!(
                "unsupported format verb {} in {} at offset {}",
                go_quote_char(other),
                go_quote(verb.raw),
                verb.offset
            )
            .into())
        }
    };
    out.push_str(&text);
    Ok(())
}

fn unsupported(verb: &Verb<'_>, why: impl std::fmt::Display) -> FormatError {
    format!(
        "unsupported value for {} at {}: {why}",
        go_quote(verb.raw),
        verb.offset
    )
    .into()
}

/// `%v`: strings as they are, numbers in `%g` form, anything else (and
/// everything with `%#v`) as JSON.
fn format_as_is(verb: &Verb<'_>, arg: &Value) -> Result<String, FormatError> {
    let text = match arg {
        Value::String(s) if !verb.spec.sharp => s.clone(),
        Value::Number(n) if !verb.spec.sharp => go_general(n.as_f64(), None),
        other => cty_json(other).map_err(|e| unsupported(verb, e))?,
    };
    Ok(pad_width(&verb.spec, text))
}

/// `%s` and `%q`: the string, cut to the precision, then (for `%q`) quoted.
fn format_string(verb: &Verb<'_>, arg: &Value) -> Result<String, FormatError> {
    let mut text = to_string(arg).map_err(|e| unsupported(verb, e))?;
    if let Some(precision) = verb.spec.precision.filter(|&p| p > 0) {
        text = text.graphemes(true).take(precision).collect();
    }
    if verb.mode == 'q' {
        text = go_json_string(&text);
    }
    Ok(pad_width(&verb.spec, text))
}

/// Pads to the width in characters, with zeros if the `0` flag is set, on
/// the right if the `-` flag is set.
fn pad_width(spec: &Spec, text: String) -> String {
    let Some(width) = spec.width else { return text };
    let len = text.graphemes(true).count();
    if len >= width {
        return text;
    }
    let pad = if spec.zero { "0" } else { " " }.repeat(width - len);
    if spec.minus {
        text + &pad
    } else {
        pad + &text
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{call, s};
    use super::*;

    fn fmt(template: &str, args: Vec<Value>) -> FuncResult {
        let mut all = vec![Value::from(template)];
        all.extend(args);
        call(format, all)
    }

    fn ok(template: &str, args: Vec<Value>) -> String {
        match fmt(template, args) {
            Ok(Value::String(s)) => s,
            other => panic!("{template}: {other:?}"),
        }
    }

    #[test]
    fn basic_verbs() {
        assert_eq!(ok("Hello, %s!", vec![s("Ander")]), "Hello, Ander!");
        assert_eq!(
            ok("There are %d lights", vec![Value::from(4)]),
            "There are 4 lights"
        );
        assert_eq!(ok("%d", vec![s("12")]), "12");
        assert_eq!(ok("%s", vec![Value::from(1.5)]), "1.5");
        assert_eq!(ok("%t", vec![s("true")]), "true");
        assert_eq!(ok("%t", vec![s("0")]), "false");
        assert_eq!(ok("100%%", vec![]), "100%");
        assert_eq!(ok("%q", vec![s("a<b\"")]), "\"a\\u003cb\\\"\"");
        assert_eq!(
            ok(
                "%x %X %o %b",
                vec![
                    Value::from(255),
                    Value::from(255),
                    Value::from(8),
                    Value::from(5)
                ]
            ),
            "ff FF 10 101"
        );
        assert_eq!(ok("%#x", vec![Value::from(255)]), "0xff");
        assert_eq!(ok("%f", vec![Value::from(3.5)]), "3.500000");
        assert_eq!(ok("%.2f", vec![s("3.14159")]), "3.14");
        assert_eq!(ok("%e", vec![Value::from(1234.5678)]), "1.234568e+03");
        assert_eq!(ok("%g", vec![Value::from(0.000012)]), "1.2e-05");
        assert_eq!(ok("%G", vec![Value::from(1e21)]), "1E+21");
    }

    #[test]
    fn v_verb_defaults() {
        assert_eq!(ok("%v", vec![s("x")]), "x");
        assert_eq!(ok("%v", vec![Value::from(1_000_000)]), "1e+06");
        assert_eq!(ok("%v", vec![Value::from(42)]), "42");
        assert_eq!(ok("%v", vec![Value::Bool(true)]), "true");
        assert_eq!(ok("%v", vec![Value::Null]), "null");
        assert_eq!(ok("%#v", vec![s("x")]), "\"x\"");
        assert_eq!(
            ok("%v", vec![Value::Tuple(vec![Value::from(1), s("a")])]),
            "[1,\"a\"]"
        );
    }

    #[test]
    fn widths_flags_and_indexes() {
        assert_eq!(ok("%5s|%-5s|", vec![s("ab"), s("cd")]), "   ab|cd   |");
        assert_eq!(ok("%05s", vec![s("ab")]), "000ab");
        assert_eq!(ok("%.2s", vec![s("e\u{301}xyz")]), "e\u{301}x");
        assert_eq!(ok("%3s", vec![s("e\u{301}")]), "  e\u{301}");
        assert_eq!(
            ok(
                "%05d|%-5d|%+d",
                vec![Value::from(-42), Value::from(7), Value::from(3)]
            ),
            "-0042|7    |+3"
        );
        assert_eq!(ok("%8.3f", vec![Value::from(1.23456)]), "   1.235");
        assert_eq!(ok("%[2]s %[1]s %s", vec![s("a"), s("b")]), "b a b");
        assert_eq!(ok("%-10[1]s|", vec![s("a")]), "a         |");
        assert_eq!(ok("%10t", vec![Value::Bool(true)]), "true");
    }

    #[test]
    fn errors_name_the_verb() {
        assert_eq!(
            fmt("%d", vec![Value::from(1.5)]),
            Err("unsupported value for \"%d\" at 0: an integer is required".to_owned())
        );
        assert_eq!(
            fmt("%s", vec![Value::Null]),
            Err("unsupported value for \"%s\" at 0: null value cannot be formatted".to_owned())
        );
        assert_eq!(
            fmt("%s %s", vec![s("a")]),
            Err("not enough arguments for \"%s\" at 3: need index 2 but have 1 total".to_owned())
        );
        assert_eq!(
            fmt("x", vec![s("a")]),
            Err("Invalid value for \"args\" parameter: too many arguments; no verbs in format string".to_owned())
        );
        assert_eq!(
            fmt("%s", vec![s("a"), s("b")]),
            Err("Invalid value for \"args\" parameter: too many arguments; only 1 used by format string".to_owned())
        );
        assert_eq!(
            fmt("%y", vec![s("a")]),
            Err("unsupported format verb 'y' in \"%y\" at offset 0".to_owned())
        );
        assert_eq!(
            fmt("ab %!", vec![]),
            Err("unrecognized format character '!' at offset 4".to_owned())
        );
        assert_eq!(
            fmt("ab %-", vec![]),
            Err("invalid format string starting at offset 5".to_owned())
        );
        assert_eq!(
            fmt("%[0]s", vec![s("a")]),
            Err("unrecognized format character '0' at offset 2".to_owned())
        );
        assert_eq!(
            fmt("%d", vec![s("x")]),
            Err("unsupported value for \"%d\" at 0: a number is required".to_owned())
        );
        assert_eq!(
            fmt("%s", vec![Value::Tuple(vec![])]),
            Err("unsupported value for \"%s\" at 0: string required".to_owned())
        );
        assert!(fmt("%99999999999s", vec![s("a")]).is_err());
    }

    #[test]
    fn cty_documented_cases() {
        let t = Value::Bool(true);
        let f = Value::Bool(false);
        assert_eq!(
            ok("object %v", vec![Value::Object(Default::default())]),
            "object {}"
        );
        assert_eq!(ok("%%%v", vec![f.clone()]), "%false");
        assert_eq!(
            ok("This statement is %[2]t", vec![t.clone(), f]),
            "This statement is false"
        );
        assert_eq!(ok("% d", vec![Value::from(10)]), " 10");
        assert_eq!(ok("%+f", vec![Value::from(-10)]), "-10.000000");
        assert_eq!(ok("% f", vec![Value::from(10)]), " 10.000000");
        assert_eq!(ok("%.1f", vec![s("1.06")]), "1.1");
        assert_eq!(
            ok("%e|%E", vec![Value::from(1000), Value::from(1000)]),
            "1.000000e+03|1.000000E+03"
        );
        assert_eq!(
            ok("%g|%G", vec![Value::from(1000), Value::from(1000)]),
            "1000|1000"
        );
        assert_eq!(ok("%g", vec![s("0.00000000000000000000001")]), "1e-23");
        assert_eq!(ok("%4s|%-4s|", vec![s("💃🏿"), s("💃🏿")]), "   💃🏿|💃🏿   |");
        assert_eq!(ok("%6q", vec![s("💃🏿")]), "   \"💃🏿\"");
        assert_eq!(ok("%.5s", vec![s("日本語日本語")]), "日本語日本");
        assert_eq!(
            ok("%6.2q|%-4.2s|", vec![s("hello"), s("hello")]),
            "  \"he\"|he  |"
        );
        assert_eq!(ok("%q", vec![s("Hello\nWorld")]), "\"Hello\\nWorld\"");
        let err = |template: &str, args: Vec<Value>| fmt(template, args).unwrap_err();
        assert_eq!(
            err("%[3]s is not in the args list", vec![t.clone(), t.clone()]),
            "not enough arguments for \"%[3]s\" at 0: need index 3 but have 2 total"
        );
        assert_eq!(
            err("%v %v %v", vec![t.clone(), t]),
            "not enough arguments for \"%v\" at 6: need index 3 but have 2 total"
        );
        assert_eq!(
            err("%012z", vec![Value::from(10)]),
            "unsupported format verb 'z' in \"%012z\" at offset 0"
        );
        assert_eq!(
            err("%☠", vec![Value::from(10)]),
            "unrecognized format character '☠' at offset 1"
        );
        assert_eq!(
            err("%💃🏿", vec![Value::from(10)]),
            "unrecognized format character '💃' at offset 1"
        );
        assert_eq!(
            err("only one verb %d", vec![Value::from(10), Value::from(11)]),
            "Invalid value for \"args\" parameter: too many arguments; only 1 used by format string"
        );
        assert_eq!(
            call(format, vec![Value::Null]),
            Err("Invalid value for \"format\" parameter: argument must not be null".to_owned())
        );
    }

    #[test]
    fn formatlist_iterates_lists() {
        let names = Value::Tuple(vec![s("Valentina"), s("Ander")]);
        assert_eq!(
            call(formatlist, vec![s("Hello, %s!"), names.clone()]),
            Ok(Value::Tuple(vec![
                s("Hello, Valentina!"),
                s("Hello, Ander!")
            ]))
        );
        assert_eq!(
            call(
                formatlist,
                vec![s("%s, %s!"), s("Salutations"), names.clone()]
            ),
            Ok(Value::Tuple(vec![
                s("Salutations, Valentina!"),
                s("Salutations, Ander!")
            ]))
        );
        assert_eq!(
            call(formatlist, vec![s("x")]),
            Ok(Value::Tuple(vec![s("x")]))
        );
        assert_eq!(
            call(formatlist, vec![s("%s"), Value::Tuple(vec![])]),
            Ok(Value::Tuple(vec![]))
        );
        assert_eq!(
            call(formatlist, vec![s("%s%s"), names, Value::Tuple(vec![s("a")])]),
            Err("Invalid value for \"args\" parameter: argument 2 has length 1, which is inconsistent with argument 1 of length 2".to_owned())
        );
        assert_eq!(
            call(formatlist, vec![s("%d"), Value::Tuple(vec![s("a")])]),
            Err("error on format iteration 0: unsupported value for \"%d\" at 0: a number is required".to_owned())
        );
    }
}
