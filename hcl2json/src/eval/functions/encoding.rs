//! Encoding functions: Base64, URL query escaping, JSON and CSV, following
//! go-cty's `stdlib` and HashiCorp's go-cty-funcs `encoding` package.

use std::collections::BTreeMap;

use base64::alphabet;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::args::{go_quote, FuncResult, Signature};
use super::FuncContext;
use crate::value::{Number, Value};

const BASE64ENCODE: Signature = Signature::fixed("base64encode", &["str"]);
const BASE64DECODE: Signature = Signature::fixed("base64decode", &["str"]);
const URLENCODE: Signature = Signature::fixed("urlencode", &["str"]);
const JSONENCODE: Signature = Signature::fixed("jsonencode", &["val"]);
const JSONDECODE: Signature = Signature::fixed("jsondecode", &["str"]);
const CSVDECODE: Signature = Signature::fixed("csvdecode", &["str"]);

/// Go's `base64.StdEncoding`: padded, and lenient about unused final bits.
pub(crate) const GO_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

/// Decodes standard Base64 as Go does, ignoring line breaks in the input.
pub(crate) fn go_base64_decode(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|&c| c != '\r' && c != '\n').collect();
    GO_BASE64.decode(compact).ok()
}

/// `base64encode(str)`: the UTF-8 bytes of the string in Base64.
pub(crate) fn base64encode(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [s] = BASE64ENCODE.exact(args)?;
    Ok(Value::String(GO_BASE64.encode(BASE64ENCODE.string(0, &s)?)))
}

/// `base64decode(str)`: the Base64 text decoded, which must be UTF-8.
pub(crate) fn base64decode(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [s] = BASE64DECODE.exact(args)?;
    let s = BASE64DECODE.string(0, &s)?;
    let bytes =
        go_base64_decode(&s).ok_or_else(|| format!("failed to decode base64 data '{s}'"))?;
    String::from_utf8(bytes)
        .map(Value::String)
        .map_err(|_| "the result of decoding the the provided string is not valid UTF-8".to_owned())
}

/// The bytes Go's `url.QueryEscape` leaves alone: letters, digits, `-_.~`.
const QUERY_ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `urlencode(str)`: the string escaped for a URL query, spaces as `+`.
pub(crate) fn urlencode(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [s] = URLENCODE.exact(args)?;
    let s = URLENCODE.string(0, &s)?;
    let escaped = utf8_percent_encode(&s, QUERY_ESCAPED).to_string();
    Ok(Value::String(escaped.replace("%20", "+")))
}

/// `jsonencode(val)`: compact JSON with sorted keys, escaped as Go does.
pub(crate) fn jsonencode(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [v] = JSONENCODE.exact(args)?;
    cty_json(&v).map(Value::String)
}

/// Writes a value as cty's JSON marshaller does.
pub(crate) fn cty_json(value: &Value) -> Result<String, String> {
    let mut out = String::new();
    write_json(value, &mut out)?;
    Ok(out)
}

fn write_json(value: &Value, out: &mut String) -> Result<(), String> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&json_number(*n)?),
        Value::String(s) => out.push_str(&go_json_string(s)),
        Value::Tuple(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&go_json_string(key));
                out.push(':');
                write_json(item, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn json_number(n: Number) -> Result<String, String> {
    match n {
        Number::Float(f) if f.is_infinite() => Err("cannot serialize infinity as JSON".to_owned()),
        n => Ok(n.to_string()),
    }
}

/// A JSON string as Go's `encoding/json` writes it, escaping `<`, `>`, `&`,
/// U+2028 and U+2029 too.
pub(crate) fn go_json_string(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len() + 2);
    crate::json_writer::write_json_string(s, true, &mut out);
    // Only ASCII escapes were added to valid UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// `jsondecode(str)`: the value the JSON text describes.
pub(crate) fn jsondecode(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [s] = JSONDECODE.exact(args)?;
    let s = JSONDECODE.string(0, &s)?;
    serde_json::from_str::<serde_json::Value>(&s)
        .map(|json| Value::from_json(&json))
        .map_err(|e| e.to_string())
}

/// `csvdecode(str)`: RFC 4180 CSV as a list of objects keyed by the header row.
pub(crate) fn csvdecode(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [s] = CSVDECODE.exact(args)?;
    let s = CSVDECODE.string(0, &s)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(s.as_bytes());
    let mut records = reader.records();
    let headers = match records.next() {
        None => return Err("missing header line".to_owned()),
        Some(record) => record.map_err(csv_error)?,
    };
    let headers: Vec<String> = headers.iter().map(str::to_owned).collect();
    check_unique(&headers)?;
    let mut rows = Vec::new();
    for record in records {
        let record = record.map_err(csv_error)?;
        if record.len() != headers.len() {
            let line = record.position().map_or(0, |p| p.line());
            return Err(format!(
                "CSV parse error on line {line}: wrong number of fields"
            ));
        }
        let row: BTreeMap<String, Value> = headers
            .iter()
            .cloned()
            .zip(record.iter().map(Value::from))
            .collect();
        rows.push(Value::Object(row));
    }
    Ok(Value::Tuple(rows))
}

fn check_unique(headers: &[String]) -> Result<(), String> {
    for (i, name) in headers.iter().enumerate() {
        if headers[..i].contains(name) {
            return Err(format!("duplicate column name {}", go_quote(name)));
        }
    }
    Ok(())
}

fn csv_error(e: csv::Error) -> String {
    match e.position() {
        Some(p) => format!("CSV parse error on line {}: {e}", p.line()),
        None => format!("CSV parse error: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{call, object as obj, s};
    use super::*;

    #[test]
    fn base64_round_trip() {
        assert_eq!(
            call(base64encode, vec![s("Hello World")]),
            Ok(s("SGVsbG8gV29ybGQ="))
        );
        assert_eq!(
            call(base64decode, vec![s("SGVsbG8gV29ybGQ=")]),
            Ok(s("Hello World"))
        );
        assert_eq!(call(base64decode, vec![s("SGVs\nbG8=")]), Ok(s("Hello")));
        assert_eq!(
            call(base64decode, vec![s("SGVsbG8")]),
            Err("failed to decode base64 data 'SGVsbG8'".to_owned())
        );
        assert!(call(base64decode, vec![s("/w==")])
            .unwrap_err()
            .contains("not valid UTF-8"));
        assert_eq!(call(base64encode, vec![Value::from(1)]), Ok(s("MQ==")));
    }

    #[test]
    fn urlencode_matches_query_escape() {
        assert_eq!(
            call(urlencode, vec![s("Hello World!/~*é")]),
            Ok(s("Hello+World%21%2F~%2A%C3%A9"))
        );
        assert_eq!(call(urlencode, vec![s("a-b_c.d")]), Ok(s("a-b_c.d")));
    }

    #[test]
    fn jsonencode_is_compact_sorted_and_escaped() {
        let v = obj(&[
            (
                "b",
                Value::Tuple(vec![Value::from(1), Value::from(2.5), Value::Null]),
            ),
            ("a", s("<tag> & \"q\"\n\u{1}\u{2028}")),
            ("c", Value::Bool(false)),
        ]);
        assert_eq!(
            call(jsonencode, vec![v]),
            Ok(s(
                "{\"a\":\"\\u003ctag\\u003e \\u0026 \\\"q\\\"\\n\\u0001\\u2028\",\"b\":[1,2.5,null],\"c\":false}"
            ))
        );
        assert_eq!(call(jsonencode, vec![Value::Null]), Ok(s("null")));
        assert_eq!(
            call(jsonencode, vec![Value::from(1e21)]),
            Ok(s("1000000000000000000000"))
        );
        assert_eq!(
            call(jsonencode, vec![Value::from(f64::INFINITY)]),
            Err("cannot serialize infinity as JSON".to_owned())
        );
    }

    #[test]
    fn jsondecode_builds_values() {
        assert_eq!(
            call(
                jsondecode,
                vec![s("{\"hello\": \"world\", \"n\": [1, 2.5, true, null]}")]
            ),
            Ok(obj(&[
                ("hello", s("world")),
                (
                    "n",
                    Value::Tuple(vec![
                        Value::from(1),
                        Value::from(2.5),
                        Value::Bool(true),
                        Value::Null
                    ])
                )
            ]))
        );
        assert_eq!(call(jsondecode, vec![s("true")]), Ok(Value::Bool(true)));
        assert!(call(jsondecode, vec![s("{")]).is_err());
        assert!(call(jsondecode, vec![s("1 2")]).is_err());
    }

    #[test]
    fn csvdecode_rows() {
        let text = "a,b,c\n1,2,3\n\"x,y\",\"q\"\"\",\n";
        assert_eq!(
            call(csvdecode, vec![s(text)]),
            Ok(Value::Tuple(vec![
                obj(&[("a", s("1")), ("b", s("2")), ("c", s("3"))]),
                obj(&[("a", s("x,y")), ("b", s("q\"")), ("c", s(""))]),
            ]))
        );
        assert_eq!(call(csvdecode, vec![s("a,b\n")]), Ok(Value::Tuple(vec![])));
        assert_eq!(
            call(csvdecode, vec![s("a,b\r\n\r\n1,2\r\n")]),
            Ok(Value::Tuple(vec![obj(&[("a", s("1")), ("b", s("2"))])]))
        );
        assert_eq!(
            call(csvdecode, vec![s("")]),
            Err("missing header line".to_owned())
        );
        assert_eq!(
            call(csvdecode, vec![s("a,b\n1\n")]),
            Err("CSV parse error on line 2: wrong number of fields".to_owned())
        );
        assert_eq!(
            call(csvdecode, vec![s("a,a\n1,2\n")]),
            Err("duplicate column name \"a\"".to_owned())
        );
    }
}
