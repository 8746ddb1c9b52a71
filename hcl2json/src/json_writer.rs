//! A small streaming JSON writer, compact or indented, with the string
//! escaping of Go's `encoding/json` (so `<`, `>` and `&` come out as
//! `\u003c`, `\u003e`, `\u0026`, as Nomad prints them).

use std::fmt::Write as _;

/// Writes JSON text into a byte buffer.
pub struct JsonWriter {
    out: Vec<u8>,
    indent: Option<&'static str>,
    depth: usize,
    /// For each open container: whether it has an element yet.
    has_items: Vec<bool>,
    /// Escape `<`, `>`, `&`, U+2028 and U+2029 as Go does.
    go_escapes: bool,
    /// A key was just written: the next value belongs to it.
    pending_value: bool,
}

impl JsonWriter {
    /// A writer; `indent` is the indentation unit for pretty output, `None`
    /// for compact output.
    pub fn new(indent: Option<&'static str>, go_escapes: bool, capacity: usize) -> JsonWriter {
        JsonWriter {
            out: Vec::with_capacity(capacity),
            indent,
            depth: 0,
            has_items: Vec::new(),
            go_escapes,
            pending_value: false,
        }
    }

    /// The JSON written so far.
    pub fn into_bytes(self) -> Vec<u8> {
        self.out
    }

    fn newline(&mut self) {
        if let Some(unit) = self.indent {
            self.out.push(b'\n');
            for _ in 0..self.depth {
                self.out.extend_from_slice(unit.as_bytes());
            }
        }
    }

    /// Separates this element from the previous one of the same container.
    fn element(&mut self) {
        if std::mem::take(&mut self.pending_value) {
            return;
        }
        if let Some(has) = self.has_items.last_mut() {
            if *has {
                self.out.push(b',');
            }
            *has = true;
            self.newline();
        }
    }

    fn open(&mut self, c: u8) {
        self.out.push(c);
        self.depth += 1;
        self.has_items.push(false);
    }

    /// Closes the innermost object.
    pub fn end_object(&mut self) {
        self.close(b'}');
    }

    /// Closes the innermost array.
    pub fn end_array(&mut self) {
        self.close(b']');
    }

    fn close(&mut self, c: u8) {
        self.depth = self.depth.saturating_sub(1);
        if self.has_items.pop() == Some(true) {
            self.newline();
        }
        self.out.push(c);
    }

    /// Writes an object key; the next value written is its value.
    pub fn key(&mut self, key: &str) {
        self.element();
        self.write_str(key);
        self.out.push(b':');
        if self.indent.is_some() {
            self.out.push(b' ');
        }
        self.pending_value = true;
    }

    /// Writes a string value.
    pub fn string(&mut self, s: &str) {
        self.value_start();
        self.write_str(s);
    }

    /// Writes a raw number, `true`, `false` or `null`.
    pub fn raw(&mut self, text: &str) {
        self.value_start();
        self.out.extend_from_slice(text.as_bytes());
    }

    fn value_start(&mut self) {
        self.element();
    }

    fn write_str(&mut self, s: &str) {
        write_json_string(s, self.go_escapes, &mut self.out);
    }

    /// Writes a whole `serde_json` value.
    pub fn json(&mut self, value: &serde_json::Value) {
        match value {
            serde_json::Value::Null => self.raw("null"),
            serde_json::Value::Bool(b) => self.raw(if *b { "true" } else { "false" }),
            serde_json::Value::Number(n) => self.raw(&n.to_string()),
            serde_json::Value::String(s) => self.string(s),
            serde_json::Value::Array(items) => {
                self.array_start();
                for item in items {
                    self.json(item);
                }
                self.end_array();
            }
            serde_json::Value::Object(map) => {
                self.object_start();
                for (k, v) in map {
                    self.key(k);
                    self.json(v);
                }
                self.end_object();
            }
        }
    }

    /// Opens an object as the value of a key or as an element.
    pub fn object_start(&mut self) {
        self.value_start();
        self.open(b'{');
    }

    /// Opens an array as the value of a key or as an element.
    pub fn array_start(&mut self) {
        self.value_start();
        self.open(b'[');
    }
}

/// Appends `s` as a JSON string literal; with `go_escapes`, also escapes
/// `<`, `>`, `&`, U+2028 and U+2029 as Go's `encoding/json` does.
pub(crate) fn write_json_string(s: &str, go_escapes: bool, out: &mut Vec<u8>) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let escape: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' if go_escapes => None,
            c if (c as u32) >= 0x20 => continue,
            _ => None,
        };
        out.extend_from_slice(&bytes[start..i]);
        match escape {
            Some(e) => out.extend_from_slice(e.as_bytes()),
            None => {
                let mut buf = String::new();
                let _ = write!(buf, "\\u{:04x}", c as u32);
                out.extend_from_slice(buf.as_bytes());
            }
        }
        start = i + c.len_utf8();
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::JsonWriter;
    use serde_json::json;

    fn write(value: &serde_json::Value, indent: Option<&'static str>, go: bool) -> String {
        let mut w = JsonWriter::new(indent, go, 64);
        w.json(value);
        String::from_utf8(w.into_bytes()).unwrap()
    }

    #[test]
    fn compact_output_matches_serde_json() {
        let v = json!({"a": [1, "x", null, {"b": true}], "c": {}, "d": []});
        assert_eq!(write(&v, None, false), serde_json::to_string(&v).unwrap());
    }

    #[test]
    fn pretty_output_matches_serde_json() {
        let v = json!({"a": [1, "x", {"b": true}], "c": {}, "d": [], "e": "q\"\n"});
        assert_eq!(
            write(&v, Some("  "), false),
            serde_json::to_string_pretty(&v).unwrap()
        );
    }

    #[test]
    fn go_escapes_html_characters() {
        let v = json!("<a & b>\u{1}");
        assert_eq!(write(&v, None, true), r#""\u003ca \u0026 b\u003e\u0001""#);
    }
}
