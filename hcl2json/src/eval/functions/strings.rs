//! String functions: case, trimming, splitting, joining, substrings and
//! replacement, following go-cty's `stdlib` string functions.
//!
//! "Characters" are Unicode grapheme clusters, as in cty: `strlen("é")` is 1
//! whether the accent is precomposed or combining.

use regex::Regex;
use unicode_segmentation::UnicodeSegmentation;

use super::args::{whole_number, FuncResult, Signature, MAX_RESULT_BYTES};
use super::FuncContext;
use crate::value::Value;

const UPPER: Signature = Signature::fixed("upper", &["str"]);
const LOWER: Signature = Signature::fixed("lower", &["str"]);
const STRREV: Signature = Signature::fixed("strrev", &["str"]);
const REVERSE: Signature = Signature::fixed("reverse", &["str"]);
const STRLEN: Signature = Signature::fixed("strlen", &["str"]);
const SUBSTR: Signature = Signature::fixed("substr", &["str", "offset", "length"]);
const JOIN: Signature = Signature::variadic("join", &["separator"], "lists");
const SORT: Signature = Signature::fixed("sort", &["list"]);
const SPLIT: Signature = Signature::fixed("split", &["separator", "str"]);
const CHOMP: Signature = Signature::fixed("chomp", &["str"]);
const INDENT: Signature = Signature::fixed("indent", &["spaces", "str"]);
const TITLE: Signature = Signature::fixed("title", &["str"]);
const TRIMSPACE: Signature = Signature::fixed("trimspace", &["str"]);
const TRIM: Signature = Signature::fixed("trim", &["str", "cutset"]);
const TRIMPREFIX: Signature = Signature::fixed("trimprefix", &["str", "prefix"]);
const TRIMSUFFIX: Signature = Signature::fixed("trimsuffix", &["str", "suffix"]);
const REPLACE: Signature = Signature::fixed("replace", &["str", "substr", "replace"]);
const REGEX_REPLACE: Signature = Signature::fixed("regex_replace", &["str", "pattern", "replace"]);

/// Applies `f` to the single string argument of `sig`.
fn map_one_string(sig: &Signature, args: Vec<Value>, f: impl Fn(&str) -> String) -> FuncResult {
    let [s] = sig.exact(args)?;
    Ok(Value::String(f(&sig.string(0, &s)?)))
}

/// Reads the two string arguments of `sig`.
fn two_strings(sig: &Signature, args: Vec<Value>) -> Result<(String, String), String> {
    let [a, b] = sig.exact(args)?;
    Ok((sig.string(0, &a)?, sig.string(1, &b)?))
}

/// Reads the three string arguments of `sig`.
fn three_strings(sig: &Signature, args: Vec<Value>) -> Result<[String; 3], String> {
    let [a, b, c] = sig.exact(args)?;
    Ok([sig.string(0, &a)?, sig.string(1, &b)?, sig.string(2, &c)?])
}

/// `upper(str)`: every letter in upper case.
pub(crate) fn upper(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    map_one_string(&UPPER, args, |s| s.chars().map(simple_upper).collect())
}

/// `lower(str)`: every letter in lower case.
pub(crate) fn lower(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    map_one_string(&LOWER, args, |s| s.chars().map(simple_lower).collect())
}

/// Go maps case one character to one character; where Unicode's full
/// mapping would grow the text (`ß` → `SS`), Go keeps the character.
fn simple_upper(c: char) -> char {
    single(c.to_uppercase()).unwrap_or(c)
}

fn simple_lower(c: char) -> char {
    match c {
        '\u{130}' => 'i',
        c => single(c.to_lowercase()).unwrap_or(c),
    }
}

fn single(mut chars: impl Iterator<Item = char>) -> Option<char> {
    let first = chars.next()?;
    chars.next().is_none().then_some(first)
}

/// `strrev(str)`: the characters in reverse order.
pub(crate) fn strrev(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    map_one_string(&STRREV, args, reverse_graphemes)
}

/// `reverse(str)`: Nomad binds this name to the same string reversal as
/// `strrev`, not to a list reversal.
pub(crate) fn reverse(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    map_one_string(&REVERSE, args, reverse_graphemes)
}

fn reverse_graphemes(s: &str) -> String {
    s.graphemes(true).rev().collect()
}

/// `strlen(str)`: the number of characters.
pub(crate) fn strlen(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [s] = STRLEN.exact(args)?;
    let count = STRLEN.string(0, &s)?.graphemes(true).count();
    Ok(Value::from(i64::try_from(count).unwrap_or(i64::MAX)))
}

/// `substr(str, offset, length)`: up to `length` characters from `offset`;
/// a negative offset counts from the end, a length of -1 takes the rest.
pub(crate) fn substr(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [s, offset, length] = SUBSTR.exact(args)?;
    let s = SUBSTR.string(0, &s)?;
    let offset = whole_number(SUBSTR.number(1, &offset)?)?;
    let length = whole_number(SUBSTR.number(2, &length)?)?;
    Ok(Value::String(substring(&s, offset, length)))
}

/// cty's substring rules, including one quirk kept for fidelity: a length
/// of 0 with a negative offset returns the rest of the string.
fn substring(s: &str, offset: i64, length: i64) -> String {
    let clusters: Vec<&str> = s.graphemes(true).collect();
    let total = i64::try_from(clusters.len()).unwrap_or(i64::MAX);
    let start = if offset < 0 {
        offset.saturating_add(total).max(0)
    } else if length == 0 {
        return String::new();
    } else {
        offset.min(total)
    };
    let start = usize::try_from(start).unwrap_or(clusters.len());
    let rest = clusters.get(start..).unwrap_or_default();
    let take = if length <= 0 {
        rest.len()
    } else {
        usize::try_from(length)
            .unwrap_or(usize::MAX)
            .min(rest.len())
    };
    rest[..take].concat()
}

/// `join(separator, lists...)`: the elements of all lists with the
/// separator between them.
pub(crate) fn join(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let ([separator], lists) = JOIN.split::<1>(args)?;
    let separator = JOIN.string(0, &separator)?;
    if lists.is_empty() {
        return Err("at least one list is required".to_owned());
    }
    let several = lists.len() > 1;
    let mut items = Vec::new();
    for (list_index, list) in lists.iter().enumerate() {
        let arg_index = list_index + 1;
        let elements = JOIN.string_list(arg_index, list)?;
        for (element_index, element) in elements.into_iter().enumerate() {
            let Some(element) = element else {
                let which = if several {
                    format!("element {element_index} of list {arg_index}")
                } else {
                    format!("element {element_index}")
                };
                return Err(JOIN.arg_error(
                    arg_index,
                    format!("{which} is null; cannot concatenate null values"),
                ));
            };
            items.push(element);
        }
    }
    Ok(Value::String(items.join(&separator)))
}

/// `sort(list)`: the strings in lexical (byte) order.
pub(crate) fn sort(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [list] = SORT.exact(args)?;
    let mut strings = Vec::new();
    for (i, element) in SORT.string_list(0, &list)?.into_iter().enumerate() {
        let Some(element) = element else {
            return Err(format!(
                "given list element {i} is null; a null string cannot be sorted"
            ));
        };
        strings.push(element);
    }
    strings.sort();
    Ok(Value::Tuple(
        strings.into_iter().map(Value::String).collect(),
    ))
}

/// `split(separator, str)`: the pieces between separators; an empty
/// separator splits into characters (code points, as Go does).
pub(crate) fn split(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let (separator, s) = two_strings(&SPLIT, args)?;
    let pieces: Vec<Value> = if separator.is_empty() {
        s.chars().map(|c| Value::String(c.to_string())).collect()
    } else {
        s.split(separator.as_str()).map(Value::from).collect()
    };
    Ok(Value::Tuple(pieces))
}

/// `chomp(str)`: without the newlines (`\n`, `\r\n`, `\r`) at its end.
pub(crate) fn chomp(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    map_one_string(&CHOMP, args, |s| {
        s.trim_end_matches(['\r', '\n']).to_owned()
    })
}

/// `indent(spaces, str)`: `spaces` spaces after every newline, so all lines
/// but the first are indented.
pub(crate) fn indent(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [spaces, s] = INDENT.exact(args)?;
    let spaces = whole_number(INDENT.number(0, &spaces)?)?;
    let s = INDENT.string(1, &s)?;
    let spaces = usize::try_from(spaces).map_err(|_| "strings: negative Repeat count")?;
    let newlines = s.matches('\n').count();
    if newlines == 0 {
        return Ok(Value::String(s));
    }
    let grown = newlines.saturating_mul(spaces).saturating_add(s.len());
    if grown > MAX_RESULT_BYTES {
        return Err(format!(
            "the indented string would be larger than {MAX_RESULT_BYTES} bytes"
        ));
    }
    let padded = format!("\n{}", " ".repeat(spaces));
    Ok(Value::String(s.replace('\n', &padded)))
}

/// `title(str)`: the first letter of each word in title case.
pub(crate) fn title(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    map_one_string(&TITLE, args, title_case)
}

/// Go's `strings.Title`: a letter is capitalised when the character before
/// it separates words.
fn title_case(s: &str) -> String {
    let mut previous = ' ';
    s.chars()
        .map(|c| {
            let out = if separates_words(previous) {
                to_title(c)
            } else {
                c
            };
            previous = c;
            out
        })
        .collect()
}

fn separates_words(c: char) -> bool {
    if c.is_ascii() {
        return !(c.is_ascii_alphanumeric() || c == '_');
    }
    if c.is_alphabetic() || c.is_numeric() {
        return false;
    }
    c.is_whitespace()
}

/// Title case of one character: upper case, except for the Latin digraphs
/// that have a distinct title-case form.
fn to_title(c: char) -> char {
    match c {
        '\u{1C4}'..='\u{1C6}' => '\u{1C5}',
        '\u{1C7}'..='\u{1C9}' => '\u{1C8}',
        '\u{1CA}'..='\u{1CC}' => '\u{1CB}',
        '\u{1F1}'..='\u{1F3}' => '\u{1F2}',
        c => simple_upper(c),
    }
}

/// `trimspace(str)`: without white space at either end.
pub(crate) fn trimspace(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    map_one_string(&TRIMSPACE, args, |s| s.trim().to_owned())
}

/// `trim(str, cutset)`: without any of the cutset's characters at either end.
pub(crate) fn trim(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let (s, cutset) = two_strings(&TRIM, args)?;
    Ok(Value::from(s.trim_matches(|c| cutset.contains(c))))
}

/// `trimprefix(str, prefix)`: without `prefix` at the start, once.
pub(crate) fn trimprefix(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let (s, prefix) = two_strings(&TRIMPREFIX, args)?;
    Ok(Value::from(s.strip_prefix(prefix.as_str()).unwrap_or(&s)))
}

/// `trimsuffix(str, suffix)`: without `suffix` at the end, once.
pub(crate) fn trimsuffix(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let (s, suffix) = two_strings(&TRIMSUFFIX, args)?;
    Ok(Value::from(s.strip_suffix(suffix.as_str()).unwrap_or(&s)))
}

/// `replace(str, substr, replace)`: every occurrence of `substr` replaced.
/// cty's version is literal: unlike Terraform's, `/.../` is not a regex.
pub(crate) fn replace(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [s, search, replacement] = three_strings(&REPLACE, args)?;
    let grown = replaced_size(&s, &search, &replacement);
    if grown > MAX_RESULT_BYTES {
        return Err(format!(
            "the result would be larger than {MAX_RESULT_BYTES} bytes"
        ));
    }
    Ok(Value::String(s.replace(search.as_str(), &replacement)))
}

/// An upper bound on the size of `s` after replacing `search`.
fn replaced_size(s: &str, search: &str, replacement: &str) -> usize {
    let occurrences = if search.is_empty() {
        s.chars().count() + 1
    } else {
        s.matches(search).count()
    };
    occurrences
        .saturating_mul(replacement.len())
        .saturating_add(s.len())
}

/// `regex_replace(str, pattern, replace)`: every match of the RE2 pattern
/// replaced; `$1`, `${name}` and `$$` work in the replacement.
pub(crate) fn regex_replace(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [s, pattern, replacement] = three_strings(&REGEX_REPLACE, args)?;
    let re = compile_go_regex(&pattern)?;
    Ok(Value::String(
        re.replace_all(&s, replacement.as_str()).into_owned(),
    ))
}

/// Compiles a Go (RE2) pattern, giving `\d`, `\w`, `\s` and `\b` Go's ASCII
/// meaning, and words errors on one line as Go does.
pub(crate) fn compile_go_regex(pattern: &str) -> Result<Regex, String> {
    Regex::new(&ascii_perl_classes(pattern)).map_err(|e| {
        let text = e.to_string();
        let why = text
            .lines()
            .rev()
            .find_map(|line| line.trim().strip_prefix("error: "))
            .unwrap_or("invalid pattern")
            .to_owned();
        format!("error parsing regexp: {why}: `{pattern}`")
    })
}

/// Rewrites `\d \D \w \W \s \S \b \B` to the ASCII classes RE2 gives them
/// (Rust's are Unicode-aware).
fn ascii_perl_classes(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    let mut class_start = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push('\\');
                    break;
                };
                out.push_str(&perl_class(next, in_class));
                class_start = false;
            }
            '[' if !in_class => {
                out.push('[');
                in_class = true;
                class_start = true;
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
            }
            '[' if in_class && chars.peek() == Some(&':') => {
                out.push('[');
                for inner in chars.by_ref() {
                    out.push(inner);
                    if inner == ']' {
                        break;
                    }
                }
                class_start = false;
            }
            ']' if in_class && !class_start => {
                out.push(']');
                in_class = false;
            }
            c => {
                out.push(c);
                class_start = false;
            }
        }
    }
    out
}

/// The ASCII form of the escape `\c`, inside or outside a character class.
fn perl_class(c: char, in_class: bool) -> String {
    let (inside, outside) = match c {
        'd' => ("0-9", "[0-9]"),
        'D' => ("\\x00-/:-\\x{10FFFF}", "[^0-9]"),
        'w' => ("0-9A-Za-z_", "[0-9A-Za-z_]"),
        'W' => ("\\x00-/:-@\\[-\\^`\\{-\\x{10FFFF}", "[^0-9A-Za-z_]"),
        's' => ("\\t\\n\\f\\r ", "[\\t\\n\\f\\r ]"),
        'S' => (
            "\\x00-\\x08\\x0B\\x0E-\\x1F!-\\x{10FFFF}",
            "[^\\t\\n\\f\\r ]",
        ),
        'b' if !in_class => ("", "(?-u:\\b)"),
        'B' if !in_class => ("", "(?-u:\\B)"),
        other => return format!("\\{other}"),
    };
    if in_class {
        inside.to_owned()
    } else {
        outside.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{call, s};
    use super::*;

    fn strs(items: &[&str]) -> Value {
        Value::Tuple(items.iter().map(|&i| s(i)).collect())
    }

    #[test]
    fn upper_and_lower_convert_primitives() {
        assert_eq!(call(upper, vec![s("héllo")]), Ok(s("HÉLLO")));
        assert_eq!(call(upper, vec![Value::from(5)]), Ok(s("5")));
        assert_eq!(call(upper, vec![s("ß")]), Ok(s("ß")));
        assert_eq!(call(lower, vec![s("ÀB")]), Ok(s("àb")));
        assert_eq!(call(lower, vec![Value::from(true)]), Ok(s("true")));
        assert!(call(upper, vec![Value::Tuple(vec![])])
            .unwrap_err()
            .contains("string required"));
        assert!(call(upper, vec![]).unwrap_err().contains("Not enough"));
    }

    #[test]
    fn reverse_and_length_count_graphemes() {
        assert_eq!(call(strrev, vec![s("hello")]), Ok(s("olleh")));
        assert_eq!(call(strrev, vec![s("e\u{301}a")]), Ok(s("ae\u{301}")));
        assert_eq!(call(reverse, vec![s("abc")]), Ok(s("cba")));
        assert!(call(reverse, vec![strs(&["a"])]).is_err());
        assert_eq!(call(strlen, vec![s("e\u{301}🇫🇷")]), Ok(Value::from(2)));
        assert_eq!(call(strlen, vec![s("")]), Ok(Value::from(0)));
    }

    #[test]
    fn substr_follows_cty() {
        let sub = |text: &str, o: i64, l: i64| {
            call(substr, vec![s(text), Value::from(o), Value::from(l)]).unwrap()
        };
        assert_eq!(sub("hello world", 1, 4), s("ello"));
        assert_eq!(sub("hello world", -5, -1), s("world"));
        assert_eq!(sub("hello world", -5, 3), s("wor"));
        assert_eq!(sub("hello", 0, 0), s(""));
        assert_eq!(sub("hello", 10, 2), s(""));
        assert_eq!(sub("hello", 2, 100), s("llo"));
        assert_eq!(sub("hello", -100, 2), s("he"));
        assert_eq!(sub("hello", -3, 0), s("llo"));
        assert_eq!(sub("🇫🇷🇩🇪x", 1, 1), s("🇩🇪"));
        assert_eq!(sub("hello", 1, -10), s("ello"));
        assert_eq!(sub("noël", 3, -1), s("l"));
        assert_eq!(sub("noël", -2, -1), s("ël"));
        assert_eq!(
            sub("w\u{e9}\u{301}\u{301}\u{e9}\u{301}\u{301}!", 2, 2),
            s("\u{e9}\u{301}\u{301}!")
        );
        assert!(call(substr, vec![s("a"), Value::from(0.5), Value::from(1)])
            .unwrap_err()
            .contains("whole number"));
    }

    #[test]
    fn join_concatenates_lists() {
        assert_eq!(
            call(join, vec![s(", "), strs(&["a", "b"]), strs(&["c"])]),
            Ok(s("a, b, c"))
        );
        assert_eq!(
            call(
                join,
                vec![
                    s("-"),
                    Value::Tuple(vec![Value::from(1), Value::from(true)])
                ]
            ),
            Ok(s("1-true"))
        );
        assert_eq!(
            call(join, vec![s("-")]),
            Err("at least one list is required".to_owned())
        );
        let null_element = call(join, vec![s("-"), Value::Tuple(vec![s("a"), Value::Null])]);
        assert_eq!(
            null_element,
            Err("Invalid value for \"lists\" parameter: element 1 is null; cannot concatenate null values".to_owned())
        );
        assert!(call(join, vec![s("-"), s("a")])
            .unwrap_err()
            .contains("list of string required"));
    }

    #[test]
    fn sort_is_lexical() {
        assert_eq!(
            call(
                sort,
                vec![Value::Tuple(vec![
                    s("b"),
                    Value::from(10),
                    Value::from(9),
                    s("a")
                ])]
            ),
            Ok(strs(&["10", "9", "a", "b"]))
        );
        assert_eq!(
            call(sort, vec![Value::Tuple(vec![s("b"), Value::Null])]),
            Err("given list element 1 is null; a null string cannot be sorted".to_owned())
        );
    }

    #[test]
    fn split_matches_go() {
        assert_eq!(
            call(split, vec![s(","), s("a,b,,c")]),
            Ok(strs(&["a", "b", "", "c"]))
        );
        assert_eq!(call(split, vec![s(","), s("")]), Ok(strs(&[""])));
        assert_eq!(call(split, vec![s(""), s("ab")]), Ok(strs(&["a", "b"])));
    }

    #[test]
    fn chomp_and_indent() {
        assert_eq!(call(chomp, vec![s("a\n\r\n\r")]), Ok(s("a")));
        assert_eq!(call(chomp, vec![s("a\nb")]), Ok(s("a\nb")));
        assert_eq!(
            call(indent, vec![Value::from(2), s("a\nb\n")]),
            Ok(s("a\n  b\n  "))
        );
        assert_eq!(
            call(indent, vec![Value::from(-1), s("a")]),
            Err("strings: negative Repeat count".to_owned())
        );
        assert!(call(indent, vec![Value::from(1_000_000_000), s("a\nb")]).is_err());
    }

    #[test]
    fn title_capitalises_words() {
        assert_eq!(
            call(title, vec![s("hello world-foo_bar")]),
            Ok(s("Hello World-Foo_bar"))
        );
        assert_eq!(call(title, vec![s("élan vital")]), Ok(s("Élan Vital")));
        assert_eq!(call(title, vec![s("ǆemal")]), Ok(s("ǅemal")));
    }

    #[test]
    fn trimming() {
        assert_eq!(call(trimspace, vec![s(" \t a b\n")]), Ok(s("a b")));
        assert_eq!(call(trim, vec![s("?!hello?!"), s("!?")]), Ok(s("hello")));
        assert_eq!(
            call(trimprefix, vec![s("helloworld"), s("hello")]),
            Ok(s("world"))
        );
        assert_eq!(call(trimprefix, vec![s("hello"), s("x")]), Ok(s("hello")));
        assert_eq!(
            call(trimsuffix, vec![s("helloworld"), s("world")]),
            Ok(s("hello"))
        );
        assert_eq!(call(trimsuffix, vec![s("aa"), s("a")]), Ok(s("a")));
    }

    #[test]
    fn replace_is_literal() {
        assert_eq!(
            call(replace, vec![s("1 + 2 + 3"), s("+"), s("-")]),
            Ok(s("1 - 2 - 3"))
        );
        assert_eq!(
            call(replace, vec![s("a/b/"), s("/b/"), s("x")]),
            Ok(s("ax"))
        );
        assert_eq!(call(replace, vec![s("ab"), s(""), s("-")]), Ok(s("-a-b-")));
    }

    #[test]
    fn regex_replace_uses_re2_syntax() {
        assert_eq!(
            call(regex_replace, vec![s("hello world"), s("o(.)"), s("0$1")]),
            Ok(s("hell0 w0rld"))
        );
        assert_eq!(
            call(regex_replace, vec![s("a1٣"), s("\\d"), s("x")]),
            Ok(s("ax٣"))
        );
        assert_eq!(
            call(regex_replace, vec![s("a-b c"), s("[\\w]+"), s("<${0}>")]),
            Ok(s("<a>-<b> <c>"))
        );
        assert_eq!(
            call(regex_replace, vec![s("x"), s("x"), s("$$")]),
            Ok(s("$"))
        );
        let bad = call(regex_replace, vec![s("a"), s("("), s("")]).unwrap_err();
        assert!(bad.starts_with("error parsing regexp:"), "{bad}");
        assert!(!bad.contains('\n'));
    }

    #[test]
    fn perl_classes_become_ascii() {
        assert_eq!(ascii_perl_classes("\\d+"), "[0-9]+");
        assert_eq!(ascii_perl_classes("[^\\s]"), "[^\\t\\n\\f\\r ]");
        assert_eq!(ascii_perl_classes("[]\\d]"), "[]0-9]");
        assert_eq!(
            ascii_perl_classes("[[:alpha:]\\w]"),
            "[[:alpha:]0-9A-Za-z_]"
        );
        assert_eq!(ascii_perl_classes("\\.\\bx"), "\\.(?-u:\\b)x");
    }
}
