//! The values HCL expressions evaluate to.
//!
//! This is a small model of the `cty` type system that Nomad's parser uses:
//! collections keep their elements in order (`Tuple`), objects and maps keep
//! their keys sorted (`Object`, like cty, whose attribute iteration is
//! lexical). Lists, sets and tuples share one representation because nothing
//! in a job file can observe the difference once the value is printed.

use std::collections::BTreeMap;
use std::fmt;

/// An evaluated HCL value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, integral or not.
    Number(Number),
    /// A string.
    String(String),
    /// A list, set or tuple.
    Tuple(Vec<Value>),
    /// An object or map, keys in lexical order.
    Object(BTreeMap<String, Value>),
}

/// A number: integers stay exact, everything else is a binary float.
#[derive(Debug, Clone, Copy)]
pub enum Number {
    /// An integer that fits in 64 bits.
    Int(i64),
    /// Any other number.
    Float(f64),
}

impl Number {
    /// Builds the most exact representation of `f`: an integer when it is one.
    pub fn from_f64(f: f64) -> Number {
        if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
            Number::Int(f as i64)
        } else {
            Number::Float(f)
        }
    }

    /// The number as a float (exact for integers below 2^53).
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    /// The number as an integer when it is a whole number in range.
    pub fn as_i64(self) -> Option<i64> {
        match self {
            Number::Int(i) => Some(i),
            Number::Float(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Some(f as i64),
            Number::Float(_) => None,
        }
    }

    /// Whether the number is a whole number.
    pub fn is_integer(self) -> bool {
        match self {
            Number::Int(_) => true,
            Number::Float(f) => f.is_finite() && f.fract() == 0.0,
        }
    }

    /// Converts to a JSON number (`null` for infinities and NaN, which JSON lacks).
    pub fn to_json(self) -> serde_json::Value {
        match self {
            Number::Int(i) => i.into(),
            Number::Float(f) => serde_json::Number::from_f64(f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
        }
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Number) -> bool {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a == b,
            _ => self.as_f64() == other.as_f64(),
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<std::cmp::Ordering> {
        match (self, other) {
            (Number::Int(a), Number::Int(b)) => a.partial_cmp(b),
            _ => self.as_f64().partial_cmp(&other.as_f64()),
        }
    }
}

impl fmt::Display for Number {
    /// Formats like cty's number-to-string conversion: integers without a
    /// fraction, other numbers in the shortest form that reads back the same.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Number::Int(i) => write!(f, "{i}"),
            Number::Float(x) if x.is_infinite() => {
                f.write_str(if x > 0.0 { "+Inf" } else { "-Inf" })
            }
            Number::Float(x) if x.fract() == 0.0 && x.abs() < 1e21 => write!(f, "{x:.0}"),
            Number::Float(x) => write!(f, "{x}"),
        }
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Number(Number::Int(i))
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Value {
        Value::Number(Number::from_f64(f))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_owned())
    }
}

impl Value {
    /// The cty name of the value's type, as used in error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Tuple(_) => "tuple",
            Value::Object(_) => "object",
        }
    }

    /// Whether the value is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Converts a primitive to a string the way cty does (`5` → `"5"`,
    /// `true` → `"true"`); `None` for null and collections.
    pub fn to_str(&self) -> Option<String> {
        match self {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// Converts a primitive to a number the way cty does (`"5"` → `5`).
    pub fn to_number(&self) -> Option<Number> {
        match self {
            Value::Number(n) => Some(*n),
            Value::String(s) => parse_number(s),
            _ => None,
        }
    }

    /// Converts a primitive to a bool the way cty does (`"true"` and `"1"` →
    /// `true`).
    pub fn to_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s == "true" || s == "1" => Some(true),
            Value::String(s) if s == "false" || s == "0" => Some(false),
            _ => None,
        }
    }

    /// Converts to JSON, the way Go prints the decoded `interface{}` value.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::Number(n) => n.to_json(),
            Value::String(s) => s.as_str().into(),
            Value::Tuple(items) => items.iter().map(Value::to_json).collect(),
            Value::Object(map) => serde_json::Value::Object(
                map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect(),
            ),
        }
    }

    /// Builds a value from JSON (var files, `jsondecode`).
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::from(i),
                None => Value::from(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::from(s.as_str()),
            serde_json::Value::Array(items) => {
                Value::Tuple(items.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }
}

/// Parses a decimal number the way cty converts a string to a number: an
/// optional sign, digits with an optional fraction and exponent, or `Inf`.
/// No surrounding spaces are allowed.
pub fn parse_number(s: &str) -> Option<Number> {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    if unsigned == "Inf" || unsigned == "inf" {
        let inf = if s.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
        return Some(Number::Float(inf));
    }
    if !is_decimal_literal(unsigned) {
        return None;
    }
    if let Ok(i) = s.parse::<i64>() {
        return Some(Number::Int(i));
    }
    s.parse::<f64>().ok().map(Number::from_f64)
}

/// Whether `s` is `digits[.digits][e[±]digits]` with at least one mantissa digit.
fn is_decimal_literal(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(at) => (&s[..at], Some(&s[at + 1..])),
        None => (s, None),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits_only = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits_only(int_part)
        && digits_only(frac_part)
        && !(int_part.is_empty() && frac_part.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits_only(e)
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_like_cty() {
        assert_eq!(Number::Int(5).to_string(), "5");
        assert_eq!(Number::Float(2.5).to_string(), "2.5");
        assert_eq!(Number::from_f64(4.0).to_string(), "4");
    }

    #[test]
    fn strings_convert_to_numbers_and_bools() {
        assert_eq!(Value::from("12").to_number(), Some(Number::Int(12)));
        assert_eq!(Value::from("1.5").to_number(), Some(Number::Float(1.5)));
        assert_eq!(Value::from("x").to_number(), None);
        assert_eq!(Value::from("true").to_bool(), Some(true));
        assert_eq!(Value::from("yes").to_bool(), None);
    }
}
