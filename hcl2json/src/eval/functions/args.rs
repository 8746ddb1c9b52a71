//! Argument counting, conversion and error wording shared by every function.
//!
//! HCL converts each argument to the type its parameter declares before a
//! function runs (`upper(5)` sees `"5"`), and words the failures in a fixed
//! way. [`Signature`] does both for one function; the free functions below are
//! the cty conversions it relies on.

use std::fmt::Display;

use crate::value::{Number, Value};

/// What a function returns: a value, or the one-line reason it failed.
pub(crate) type FuncResult = Result<Value, String>;

/// The name and parameter names of one function.
pub(crate) struct Signature {
    /// The name a job file calls the function by.
    pub name: &'static str,
    /// Names of the fixed parameters, in order.
    pub params: &'static [&'static str],
    /// Name of the variadic parameter, if the function has one.
    pub variadic: Option<&'static str>,
}

impl Signature {
    /// A function with exactly `params`.
    pub const fn fixed(name: &'static str, params: &'static [&'static str]) -> Signature {
        Signature {
            name,
            params,
            variadic: None,
        }
    }

    /// A function with `params` followed by any number of `variadic` values.
    pub const fn variadic(
        name: &'static str,
        params: &'static [&'static str],
        variadic: &'static str,
    ) -> Signature {
        Signature {
            name,
            params,
            variadic: Some(variadic),
        }
    }

    /// Checks the count and hands back exactly `N` arguments.
    pub fn exact<const N: usize>(&self, args: Vec<Value>) -> Result<[Value; N], String> {
        self.check_count(args.len())?;
        <[Value; N]>::try_from(args).map_err(|_| self.arity_mismatch())
    }

    /// Checks the count and splits off the `N` fixed arguments from the rest.
    pub fn split<const N: usize>(
        &self,
        mut args: Vec<Value>,
    ) -> Result<([Value; N], Vec<Value>), String> {
        self.check_count(args.len())?;
        if args.len() < N {
            return Err(self.arity_mismatch());
        }
        let rest = args.split_off(N);
        let fixed = <[Value; N]>::try_from(args).map_err(|_| self.arity_mismatch())?;
        Ok((fixed, rest))
    }

    fn check_count(&self, given: usize) -> Result<(), String> {
        let wanted = self.params.len();
        if given < wanted {
            let at_least = if self.variadic.is_some() {
                " at least"
            } else {
                ""
            };
            return Err(format!(
                "Not enough function arguments: Function \"{}\" expects{at_least} {wanted} argument(s). Missing value for \"{}\"",
                self.name, self.params[given]
            ));
        }
        if self.variadic.is_none() && given > wanted {
            return Err(format!(
                "Too many function arguments: Function \"{}\" expects only {wanted} argument(s)",
                self.name
            ));
        }
        Ok(())
    }

    fn arity_mismatch(&self) -> String {
        format!("internal error: wrong argument count for {}", self.name)
    }

    /// The name of the parameter that argument `index` binds to.
    pub fn param(&self, index: usize) -> &'static str {
        self.params
            .get(index)
            .copied()
            .or(self.variadic)
            .unwrap_or("argument")
    }

    /// An error about argument `index`, worded as HCL words them.
    pub fn arg_error(&self, index: usize, why: impl Display) -> String {
        format!(
            "Invalid value for \"{}\" parameter: {why}",
            self.param(index)
        )
    }

    /// Rejects a null argument `index`.
    pub fn not_null<'v>(&self, index: usize, value: &'v Value) -> Result<&'v Value, String> {
        if value.is_null() {
            Err(self.arg_error(index, "argument must not be null"))
        } else {
            Ok(value)
        }
    }

    /// Converts argument `index` to a string.
    pub fn string(&self, index: usize, value: &Value) -> Result<String, String> {
        to_string(self.not_null(index, value)?).map_err(|why| self.arg_error(index, why))
    }

    /// Converts argument `index` to a number.
    pub fn number(&self, index: usize, value: &Value) -> Result<Number, String> {
        to_number(self.not_null(index, value)?).map_err(|why| self.arg_error(index, why))
    }

    /// Converts argument `index` to a list of strings (null elements stay `None`).
    pub fn string_list(&self, index: usize, value: &Value) -> Result<Vec<Option<String>>, String> {
        let Value::Tuple(items) = self.not_null(index, value)? else {
            return Err(self.arg_error(index, "list of string required"));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Null => Ok(None),
                other => to_string(other)
                    .map(Some)
                    .map_err(|why| self.arg_error(index, format!("element {i}: {why}"))),
            })
            .collect()
    }

    /// Converts argument `index` to a list whose elements share one type.
    pub fn uniform_list(&self, index: usize, value: &Value) -> Result<Vec<Value>, String> {
        let Value::Tuple(items) = self.not_null(index, value)? else {
            return Err(self.arg_error(index, "list of any single type required"));
        };
        unify_elements(items.clone())
            .ok_or_else(|| self.arg_error(index, "all list elements must have the same type"))
    }
}

pub(crate) use crate::value::parse_number;

/// Converts a primitive to a string as cty does (`5` → `"5"`, `true` → `"true"`).
pub(crate) fn to_string(value: &Value) -> Result<String, &'static str> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err("string required"),
    }
}

/// Converts a primitive to a number as cty does (`"5"` → `5`).
pub(crate) fn to_number(value: &Value) -> Result<Number, &'static str> {
    match value {
        Value::Number(n) => Ok(*n),
        Value::String(_) => value.to_number().ok_or("a number is required"),
        _ => Err("number required"),
    }
}

/// Converts a primitive to a bool as cty does (`"true"` and `"1"` are true).
pub(crate) fn to_bool(value: &Value) -> Result<bool, &'static str> {
    if let Some(b) = value.to_bool() {
        return Ok(b);
    }
    match value {
        Value::String(s) if s.eq_ignore_ascii_case("true") => {
            Err("a bool is required; to convert from string, use lowercase \"true\"")
        }
        Value::String(s) if s.eq_ignore_ascii_case("false") => {
            Err("a bool is required; to convert from string, use lowercase \"false\"")
        }
        Value::String(_) => Err("a bool is required"),
        _ => Err("bool required"),
    }
}

/// The largest magnitude an `int` conversion accepts, as in gocty.
const WHOLE_NUMBER_ERROR: &str =
    "value must be a whole number, between -9223372036854775808 and 9223372036854775807";

/// Converts a number to a 64-bit integer as gocty does, refusing fractions.
pub(crate) fn whole_number(n: Number) -> Result<i64, String> {
    match n {
        Number::Int(i) => Ok(i),
        Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.223_372_036_854_775e18 => Ok(f as i64),
        Number::Float(_) => Err(WHOLE_NUMBER_ERROR.to_owned()),
    }
}

/// The broad kind of a value, for finding a type all elements can share.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Number,
    String,
    Sequence,
    Mapping,
}

fn kind(value: &Value) -> Option<Kind> {
    match value {
        Value::Null => None,
        Value::Bool(_) => Some(Kind::Bool),
        Value::Number(_) => Some(Kind::Number),
        Value::String(_) => Some(Kind::String),
        Value::Tuple(_) => Some(Kind::Sequence),
        Value::Object(_) => Some(Kind::Mapping),
    }
}

/// Gives the elements of a tuple one common type, as cty does when a tuple
/// becomes a list or a set: numbers and bools mixed with strings become
/// strings. `None` when no common type exists (a number beside a bool, a
/// string beside a list...). Nulls fit any type.
pub(crate) fn unify_elements(items: Vec<Value>) -> Option<Vec<Value>> {
    let kinds: Vec<Kind> = items.iter().filter_map(kind).collect();
    let Some(&first) = kinds.first() else {
        return Some(items);
    };
    if kinds.iter().all(|&k| k == first) {
        return Some(items);
    }
    let all_primitive = kinds
        .iter()
        .all(|k| matches!(k, Kind::Bool | Kind::Number | Kind::String));
    if !all_primitive || !kinds.contains(&Kind::String) {
        return None;
    }
    items
        .into_iter()
        .map(|item| match item {
            Value::Null => Some(Value::Null),
            other => to_string(&other).ok().map(Value::String),
        })
        .collect()
}

/// Quotes a string the way Go's `%q` does: printable characters as they are,
/// others escaped.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_go_escaped(&mut out, c, '"');
    }
    out.push('"');
    out
}

/// Quotes one character the way Go's `%q` quotes a rune (`'x'`).
pub(crate) fn go_quote_char(c: char) -> String {
    let mut out = String::from("'");
    push_go_escaped(&mut out, c, '\'');
    out.push('\'');
    out
}

fn push_go_escaped(out: &mut String, c: char, quote: char) {
    match c {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        '\\' => out.push_str("\\\\"),
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        c if (c as u32) < 0x20 || c as u32 == 0x7f => {
            out.push_str(&format!("\\x{:02x}", c as u32));
        }
        c if c.is_control() || c == '\u{feff}' => {
            if (c as u32) <= 0xffff {
                out.push_str(&format!("\\u{:04x}", c as u32));
            } else {
                out.push_str(&format!("\\U{:08x}", c as u32));
            }
        }
        c => out.push(c),
    }
}

/// The most bytes a function may build one result from; guards against
/// calls like `indent(1000000000, s)` exhausting memory.
pub(crate) const MAX_RESULT_BYTES: usize = 64 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    const SIG: Signature = Signature::fixed("f", &["a", "b"]);
    const VAR: Signature = Signature::variadic("g", &["a"], "rest");

    #[test]
    fn counts_arguments() {
        assert!(SIG.exact::<2>(vec![Value::Null, Value::Null]).is_ok());
        let few = SIG.exact::<2>(vec![Value::Null]).unwrap_err();
        assert_eq!(
            few,
            "Not enough function arguments: Function \"f\" expects 2 argument(s). Missing value for \"b\""
        );
        let many = SIG.exact::<2>(vec![Value::Null; 3]).unwrap_err();
        assert!(many.contains("expects only 2"), "{many}");
        let (fixed, rest) = VAR
            .split::<1>(vec![Value::from(1), Value::from(2)])
            .unwrap();
        assert_eq!(fixed, [Value::from(1)]);
        assert_eq!(rest, vec![Value::from(2)]);
        assert!(VAR.split::<1>(vec![]).unwrap_err().contains("at least 1"));
    }

    #[test]
    fn converts_like_cty() {
        assert_eq!(SIG.string(0, &Value::from(5)).unwrap(), "5");
        assert_eq!(SIG.string(0, &Value::from(true)).unwrap(), "true");
        assert_eq!(
            SIG.string(1, &Value::Tuple(vec![])).unwrap_err(),
            "Invalid value for \"b\" parameter: string required"
        );
        assert_eq!(
            SIG.string(0, &Value::Null).unwrap_err(),
            "Invalid value for \"a\" parameter: argument must not be null"
        );
        assert_eq!(
            SIG.number(0, &Value::from("2.5")).unwrap(),
            Number::Float(2.5)
        );
        assert_eq!(
            SIG.number(0, &Value::from(" 2")).unwrap_err(),
            "Invalid value for \"a\" parameter: a number is required"
        );
        assert_eq!(to_bool(&Value::from("1")), Ok(true));
        assert!(to_bool(&Value::from("True"))
            .unwrap_err()
            .contains("lowercase"));
    }

    #[test]
    fn parses_numbers_strictly() {
        assert_eq!(parse_number("12"), Some(Number::Int(12)));
        assert_eq!(parse_number("-1.5e2"), Some(Number::Int(-150)));
        assert_eq!(parse_number(".5"), Some(Number::Float(0.5)));
        assert_eq!(parse_number("5."), Some(Number::Int(5)));
        assert_eq!(parse_number("+inf"), Some(Number::Float(f64::INFINITY)));
        for bad in [
            "", " 1", "1 ", "1e", "e5", ".", "0x10", "1_000", "nan", "--1",
        ] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn whole_numbers_refuse_fractions() {
        assert_eq!(whole_number(Number::Float(3.0)), Ok(3));
        assert!(whole_number(Number::Float(3.5)).is_err());
        assert!(whole_number(Number::Float(1e30)).is_err());
    }

    #[test]
    fn unifies_primitive_elements() {
        let mixed = vec![
            Value::from("a"),
            Value::from(1),
            Value::from(true),
            Value::Null,
        ];
        assert_eq!(
            unify_elements(mixed),
            Some(vec![
                Value::from("a"),
                Value::from("1"),
                Value::from("true"),
                Value::Null
            ])
        );
        assert_eq!(
            unify_elements(vec![Value::from(1), Value::from(false)]),
            None
        );
        assert_eq!(
            unify_elements(vec![Value::from("a"), Value::Tuple(vec![])]),
            None
        );
    }

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote("a\"b\n\u{1}é"), "\"a\\\"b\\n\\x01é\"");
        assert_eq!(go_quote_char('!'), "'!'");
        assert_eq!(go_quote_char('\''), "'\\''");
    }
}
