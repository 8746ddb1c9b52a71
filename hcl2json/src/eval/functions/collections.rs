//! Collection functions over lists (tuples) and maps (objects), following
//! go-cty's `stdlib` collection, sequence and general functions.

use std::collections::BTreeMap;

use super::args::{unify_elements, whole_number, FuncResult, Signature};
use super::FuncContext;
use crate::value::{Number, Value};

const LENGTH: Signature = Signature::fixed("length", &["collection"]);
const ELEMENT: Signature = Signature::fixed("element", &["list", "index"]);
const INDEX: Signature = Signature::fixed("index", &["collection", "key"]);
const COALESCE: Signature = Signature::variadic("coalesce", &[], "vals");
const COALESCELIST: Signature = Signature::variadic("coalescelist", &[], "vals");
const COMPACT: Signature = Signature::fixed("compact", &["list"]);
const CONCAT: Signature = Signature::variadic("concat", &[], "seqs");
const CONTAINS: Signature = Signature::fixed("contains", &["list", "value"]);
const DISTINCT: Signature = Signature::fixed("distinct", &["list"]);
const CHUNKLIST: Signature = Signature::fixed("chunklist", &["list", "size"]);
const FLATTEN: Signature = Signature::fixed("flatten", &["list"]);
const KEYS: Signature = Signature::fixed("keys", &["inputMap"]);
const VALUES: Signature = Signature::fixed("values", &["mapping"]);
const LOOKUP: Signature = Signature::fixed("lookup", &["inputMap", "key", "default"]);
const MERGE: Signature = Signature::variadic("merge", &[], "maps");
const SLICE: Signature = Signature::fixed("slice", &["list", "start_index", "end_index"]);
const ZIPMAP: Signature = Signature::fixed("zipmap", &["keys", "values"]);
const RANGE: Signature = Signature::variadic("range", &[], "params");

/// The most values `range` produces, as in cty.
const RANGE_LIMIT: usize = 1024;

/// `length(collection)`: the number of elements of a list or map. cty's
/// `length` does not accept strings (use `strlen`).
pub(crate) fn length(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [collection] = LENGTH.exact(args)?;
    let count = match LENGTH.not_null(0, &collection)? {
        Value::Tuple(items) => items.len(),
        Value::Object(map) => map.len(),
        _ => return Err("collection must be a list, a map or a tuple".to_owned()),
    };
    Ok(Value::from(i64::try_from(count).unwrap_or(i64::MAX)))
}

/// `element(list, index)`: the element at `index` modulo the length.
pub(crate) fn element(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [list, index] = ELEMENT.exact(args)?;
    let list = ELEMENT.not_null(0, &list)?;
    let index = ELEMENT.number(1, &index)?;
    if index < Number::Int(0) {
        return Err("cannot use element function with a negative index".to_owned());
    }
    let Value::Tuple(items) = list else {
        return Err(format!("cannot read elements from {}", list.type_name()));
    };
    let index = whole_number(index).map_err(|e| format!("invalid index: {e}"))?;
    if items.is_empty() {
        return Err("cannot use element function with an empty list".to_owned());
    }
    let at = usize::try_from(index).unwrap_or(usize::MAX) % items.len();
    Ok(items[at].clone())
}

/// `index(collection, key)`: the element of a list at a numeric key, or of
/// a map at a string key. (This is cty's `index`, not Terraform's search.)
pub(crate) fn index(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [collection, key] = INDEX.exact(args)?;
    let key = INDEX.not_null(1, &key)?;
    match INDEX.not_null(0, &collection)? {
        Value::Tuple(items) => {
            let Value::Number(n) = key else {
                return Err("key for tuple must be number".to_owned());
            };
            let i = whole_number(*n).map_err(|e| format!("invalid key for tuple: {e}"))?;
            usize::try_from(i)
                .ok()
                .and_then(|i| items.get(i))
                .cloned()
                .ok_or_else(|| format!("key must be between 0 and {} inclusive", items.len()))
        }
        Value::Object(map) => {
            let Value::String(k) = key else {
                return Err("key for map must be string".to_owned());
            };
            map.get(k)
                .cloned()
                .ok_or_else(|| "invalid index".to_owned())
        }
        _ => Err("collection must be a list, a map or a tuple".to_owned()),
    }
}

/// `coalesce(vals...)`: the first argument that is not null, converted to
/// the type all arguments share. cty's version returns an empty string if
/// that comes first (Terraform's skips it).
pub(crate) fn coalesce(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let ([], vals) = COALESCE.split::<0>(args)?;
    if vals.is_empty() {
        return Err("all arguments must have the same type".to_owned());
    }
    let unified =
        unify_elements(vals).ok_or_else(|| "all arguments must have the same type".to_owned())?;
    unified
        .into_iter()
        .find(|v| !v.is_null())
        .ok_or_else(|| "no non-null arguments".to_owned())
}

/// `coalescelist(vals...)`: the first list that is not empty.
pub(crate) fn coalescelist(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let ([], vals) = COALESCELIST.split::<0>(args)?;
    if vals.is_empty() {
        return Err("at least one argument is required".to_owned());
    }
    if vals
        .iter()
        .any(|v| !matches!(v, Value::Tuple(_) | Value::Null))
    {
        return Err("coalescelist arguments must be lists or tuples".to_owned());
    }
    vals.into_iter()
        .find(|v| matches!(v, Value::Tuple(items) if !items.is_empty()))
        .ok_or_else(|| "no non-null arguments".to_owned())
}

/// `compact(list)`: the list of strings without empty strings (and nulls).
pub(crate) fn compact(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [list] = COMPACT.exact(args)?;
    let kept = COMPACT
        .string_list(0, &list)?
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .map(Value::String)
        .collect();
    Ok(Value::Tuple(kept))
}

/// `concat(seqs...)`: all lists joined end to end.
pub(crate) fn concat(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let ([], seqs) = CONCAT.split::<0>(args)?;
    if seqs.is_empty() {
        return Err("at least one argument is required".to_owned());
    }
    let mut all = Vec::new();
    for (i, seq) in seqs.into_iter().enumerate() {
        match seq {
            Value::Tuple(items) => all.extend(items),
            Value::Null => return Err(CONCAT.arg_error(i, "argument must not be null")),
            other => {
                return Err(CONCAT.arg_error(
                    i,
                    format!(
                        "all arguments must be lists or tuples; got {}",
                        other.type_name()
                    ),
                ))
            }
        }
    }
    Ok(Value::Tuple(all))
}

/// `contains(list, value)`: whether `value` is an element of the list
/// (equal in type and value: `"1"` is not `1`).
pub(crate) fn contains(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [list, value] = CONTAINS.exact(args)?;
    let Value::Tuple(items) = CONTAINS.not_null(0, &list)? else {
        return Err("argument must be list, tuple, or set".to_owned());
    };
    let value = CONTAINS.not_null(1, &value)?;
    Ok(Value::Bool(items.contains(value)))
}

/// `distinct(list)`: the list without repeated elements, first ones kept.
pub(crate) fn distinct(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [list] = DISTINCT.exact(args)?;
    let mut kept: Vec<Value> = Vec::new();
    for item in DISTINCT.uniform_list(0, &list)? {
        if !kept.contains(&item) {
            kept.push(item);
        }
    }
    Ok(Value::Tuple(kept))
}

/// `chunklist(list, size)`: the list cut into lists of at most `size`
/// elements; a size of 0 gives the whole list as one chunk.
pub(crate) fn chunklist(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [list, size] = CHUNKLIST.exact(args)?;
    let items = CHUNKLIST.uniform_list(0, &list)?;
    let size = CHUNKLIST.number(1, &size)?;
    let size = whole_number(size).map_err(|e| format!("invalid size: {e}"))?;
    let size = usize::try_from(size).map_err(|_| "the size argument must be positive")?;
    if items.is_empty() {
        return Ok(Value::Tuple(vec![]));
    }
    if size == 0 {
        return Ok(Value::Tuple(vec![Value::Tuple(items)]));
    }
    let chunks = items
        .chunks(size)
        .map(|chunk| Value::Tuple(chunk.to_vec()))
        .collect();
    Ok(Value::Tuple(chunks))
}

/// `flatten(list)`: nested lists replaced by their elements, recursively.
pub(crate) fn flatten(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [list] = FLATTEN.exact(args)?;
    let Value::Tuple(items) = FLATTEN.not_null(0, &list)? else {
        return Err("can only flatten lists, sets and tuples".to_owned());
    };
    let mut flat = Vec::new();
    flatten_into(items, &mut flat);
    Ok(Value::Tuple(flat))
}

fn flatten_into(items: &[Value], out: &mut Vec<Value>) {
    for item in items {
        match item {
            Value::Tuple(inner) => flatten_into(inner, out),
            other => out.push(other.clone()),
        }
    }
}

/// `keys(inputMap)`: the keys of a map, in lexical order.
pub(crate) fn keys(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [map] = KEYS.exact(args)?;
    let Value::Object(map) = KEYS.not_null(0, &map)? else {
        return Err(KEYS.arg_error(0, "must have map or object type"));
    };
    Ok(Value::Tuple(
        map.keys().map(|k| Value::from(k.as_str())).collect(),
    ))
}

/// `values(mapping)`: the values of a map, in the lexical order of keys.
pub(crate) fn values(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [map] = VALUES.exact(args)?;
    let Value::Object(map) = VALUES.not_null(0, &map)? else {
        return Err("values() requires a map as the first argument".to_owned());
    };
    Ok(Value::Tuple(map.values().cloned().collect()))
}

/// `lookup(inputMap, key, default)`: the value at `key`, or `default`.
/// cty requires the default (Terraform's may be left out).
pub(crate) fn lookup(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [map, key, default] = LOOKUP.exact(args)?;
    let Value::Object(map) = LOOKUP.not_null(0, &map)? else {
        return Err(LOOKUP.arg_error(0, "lookup() requires a map as the first argument"));
    };
    let key = LOOKUP.string(1, &key)?;
    let default = LOOKUP.not_null(2, &default)?;
    Ok(map.get(&key).unwrap_or(default).clone())
}

/// `merge(maps...)`: one map with the entries of all; later maps win.
pub(crate) fn merge(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let ([], maps) = MERGE.split::<0>(args)?;
    let mut merged = BTreeMap::new();
    for map in maps {
        match map {
            Value::Null => {}
            Value::Object(entries) => merged.extend(entries),
            other => {
                return Err(format!(
                    "arguments must be maps or objects, got \"{}\"",
                    other.type_name()
                ))
            }
        }
    }
    Ok(Value::Object(merged))
}

/// `slice(list, start_index, end_index)`: the elements from `start_index`
/// up to, not including, `end_index`.
pub(crate) fn slice(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [list, start, end] = SLICE.exact(args)?;
    let list = SLICE.not_null(0, &list)?;
    let start = SLICE.number(1, &start)?;
    let end = SLICE.number(2, &end)?;
    let Value::Tuple(items) = list else {
        return Err(SLICE.arg_error(0, "must be a list or tuple value"));
    };
    let start = slice_bound(1, "start", start, items.len())?;
    let end = slice_bound(2, "end", end, items.len())?;
    if start > end {
        return Err(SLICE.arg_error(1, "start index must not be greater than end index"));
    }
    Ok(Value::Tuple(items[start..end].to_vec()))
}

fn slice_bound(arg: usize, which: &str, n: Number, len: usize) -> Result<usize, String> {
    let i =
        whole_number(n).map_err(|e| SLICE.arg_error(arg, format!("invalid {which} index: {e}")))?;
    let i = usize::try_from(i)
        .map_err(|_| SLICE.arg_error(arg, format!("{which} index must not be less than zero")))?;
    if i > len {
        return Err(SLICE.arg_error(
            arg,
            format!("{which} index must not be greater than the length of the list"),
        ));
    }
    Ok(i)
}

/// `zipmap(keys, values)`: a map from each key to the value at the same
/// position.
pub(crate) fn zipmap(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [keys, values] = ZIPMAP.exact(args)?;
    let keys = ZIPMAP.string_list(0, &keys)?;
    let Value::Tuple(values) = ZIPMAP.not_null(1, &values)? else {
        return Err("values argument must be a list or tuple value".to_owned());
    };
    if keys.len() != values.len() {
        return Err(format!(
            "number of keys ({}) does not match number of values ({})",
            keys.len(),
            values.len()
        ));
    }
    let mut map = BTreeMap::new();
    for (i, (key, value)) in keys.into_iter().zip(values).enumerate() {
        let key = key.ok_or_else(|| format!("keys list has null value at index {i}"))?;
        map.insert(key, value.clone());
    }
    Ok(Value::Object(map))
}

/// `range(end)`, `range(start, end)`, `range(start, end, step)`: the numbers
/// from `start` (0 by default) towards `end`, excluded, by `step` (1 or -1
/// by default). At most 1024 numbers, as in cty.
pub(crate) fn range(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let ([], params) = RANGE.split::<0>(args)?;
    let nums = params
        .iter()
        .enumerate()
        .map(|(i, p)| RANGE.number(i, p))
        .collect::<Result<Vec<Number>, String>>()?;
    let zero = Number::Int(0);
    let default_step = |from: Number, to: Number| Number::Int(if to < from { -1 } else { 1 });
    let (start, end, step) = match nums[..] {
        [end] => (zero, end, default_step(zero, end)),
        [start, end] => (start, end, default_step(start, end)),
        [start, end, step] => (start, end, step),
        _ => return Err("must have one, two, or three arguments".to_owned()),
    };
    if step == zero {
        return Err(RANGE.arg_error(2, "step must not be zero"));
    }
    let down = step < zero;
    if down && end > start {
        return Err(RANGE.arg_error(1, "end must be less than start when step is negative"));
    }
    if !down && end < start {
        return Err(RANGE.arg_error(1, "end must be greater than start when step is positive"));
    }
    let numbers: Vec<Number> = match common_scale(start, end, step) {
        Some(([start, end, step], exponent)) => count(start, end, step, |a, b| a.checked_add(b))
            .map(|ns| ns.into_iter().map(|n| scaled_number(n, exponent)).collect()),
        None => count(start.as_f64(), end.as_f64(), step.as_f64(), |a, b| {
            Some(a + b)
        })
        .map(|ns| ns.into_iter().map(Number::from_f64).collect()),
    }?;
    Ok(Value::Tuple(
        numbers.into_iter().map(Value::Number).collect(),
    ))
}

/// Steps from `start` towards `end` (excluded), refusing to go past the limit.
fn count<T: Copy + PartialOrd + Default>(
    start: T,
    end: T,
    step: T,
    add: impl Fn(T, T) -> Option<T>,
) -> Result<Vec<T>, String> {
    let down = step < T::default();
    let mut out = Vec::new();
    let mut n = start;
    while (down && n > end) || (!down && n < end) {
        if out.len() >= RANGE_LIMIT {
            return Err(format!(
                "more than {RANGE_LIMIT} values were generated; either decrease the difference between start and end or use a smaller step"
            ));
        }
        out.push(n);
        let Some(next) = add(n, step) else { break };
        n = next;
    }
    Ok(out)
}

/// Writes three numbers as integers times one power of ten, so that
/// stepping by decimal fractions like 0.1 stays exact, as it does with
/// cty's arbitrary-precision numbers.
fn common_scale(a: Number, b: Number, c: Number) -> Option<([i128; 3], i32)> {
    let parts = [decimal_parts(a)?, decimal_parts(b)?, decimal_parts(c)?];
    let exponent = parts.iter().map(|&(_, e)| e).min()?;
    let mut scaled = [0i128; 3];
    for (slot, (mantissa, e)) in scaled.iter_mut().zip(parts) {
        let factor = 10i128.checked_pow(u32::try_from(e - exponent).ok()?)?;
        *slot = mantissa.checked_mul(factor)?;
    }
    Some((scaled, exponent))
}

/// A finite number as `mantissa × 10^exponent`, from its shortest decimal form.
fn decimal_parts(n: Number) -> Option<(i128, i32)> {
    match n {
        Number::Int(i) => Some((i128::from(i), 0)),
        Number::Float(f) if f.is_finite() => {
            let text = format!("{f:e}");
            let (mantissa, exponent) = text.split_once('e')?;
            let fraction_digits = mantissa.split_once('.').map_or(0, |(_, f)| f.len());
            let digits: String = mantissa.chars().filter(|&c| c != '.').collect();
            let exponent: i32 = exponent.parse().ok()?;
            Some((
                digits.parse().ok()?,
                exponent - i32::try_from(fraction_digits).ok()?,
            ))
        }
        Number::Float(_) => None,
    }
}

fn scaled_number(mantissa: i128, exponent: i32) -> Number {
    if exponent >= 0 {
        let whole = u32::try_from(exponent)
            .ok()
            .and_then(|e| 10i128.checked_pow(e))
            .and_then(|f| mantissa.checked_mul(f))
            .and_then(|v| i64::try_from(v).ok());
        if let Some(i) = whole {
            return Number::Int(i);
        }
    }
    let f: f64 = format!("{mantissa}e{exponent}").parse().unwrap_or(f64::NAN);
    Number::from_f64(f)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{call, i, list, object as map, s};
    use super::*;

    #[test]
    fn length_counts_collections_only() {
        assert_eq!(call(length, vec![list(vec![i(1), i(2)])]), Ok(i(2)));
        assert_eq!(call(length, vec![map(&[("a", i(1))])]), Ok(i(1)));
        assert_eq!(
            call(length, vec![s("abc")]),
            Err("collection must be a list, a map or a tuple".to_owned())
        );
        assert!(call(length, vec![Value::Null])
            .unwrap_err()
            .contains("null"));
    }

    #[test]
    fn element_wraps_around() {
        let abc = list(vec![s("a"), s("b"), s("c")]);
        assert_eq!(call(element, vec![abc.clone(), i(1)]), Ok(s("b")));
        assert_eq!(call(element, vec![abc.clone(), i(5)]), Ok(s("c")));
        assert_eq!(call(element, vec![abc.clone(), s("3")]), Ok(s("a")));
        assert_eq!(
            call(element, vec![abc.clone(), i(-1)]),
            Err("cannot use element function with a negative index".to_owned())
        );
        assert!(call(element, vec![abc, Value::from(1.5)])
            .unwrap_err()
            .starts_with("invalid index: value must be a whole number"));
        assert_eq!(
            call(element, vec![list(vec![]), i(0)]),
            Err("cannot use element function with an empty list".to_owned())
        );
        assert_eq!(
            call(element, vec![s("x"), i(0)]),
            Err("cannot read elements from string".to_owned())
        );
    }

    #[test]
    fn index_reads_by_key() {
        let abc = list(vec![s("a"), s("b")]);
        assert_eq!(call(index, vec![abc.clone(), i(1)]), Ok(s("b")));
        assert_eq!(
            call(index, vec![abc.clone(), i(2)]),
            Err("key must be between 0 and 2 inclusive".to_owned())
        );
        assert_eq!(
            call(index, vec![abc, s("1")]),
            Err("key for tuple must be number".to_owned())
        );
        let m = map(&[("k", i(7))]);
        assert_eq!(call(index, vec![m.clone(), s("k")]), Ok(i(7)));
        assert_eq!(
            call(index, vec![m, s("x")]),
            Err("invalid index".to_owned())
        );
    }

    #[test]
    fn coalesce_returns_first_non_null() {
        assert_eq!(call(coalesce, vec![Value::Null, s("b")]), Ok(s("b")));
        assert_eq!(call(coalesce, vec![s(""), s("b")]), Ok(s("")));
        assert_eq!(call(coalesce, vec![Value::Null, i(1), s("x")]), Ok(s("1")));
        assert_eq!(
            call(coalesce, vec![i(1), Value::Bool(true)]),
            Err("all arguments must have the same type".to_owned())
        );
        assert_eq!(
            call(coalesce, vec![Value::Null]),
            Err("no non-null arguments".to_owned())
        );
    }

    #[test]
    fn coalescelist_returns_first_non_empty() {
        let ab = list(vec![s("a")]);
        assert_eq!(call(coalescelist, vec![list(vec![]), ab.clone()]), Ok(ab));
        assert_eq!(
            call(coalescelist, vec![list(vec![])]),
            Err("no non-null arguments".to_owned())
        );
        assert_eq!(
            call(coalescelist, vec![s("a")]),
            Err("coalescelist arguments must be lists or tuples".to_owned())
        );
    }

    #[test]
    fn compact_and_concat() {
        assert_eq!(
            call(compact, vec![list(vec![s("a"), s(""), Value::Null, i(1)])]),
            Ok(list(vec![s("a"), s("1")]))
        );
        assert_eq!(
            call(
                concat,
                vec![list(vec![i(1)]), list(vec![s("a"), Value::Null])]
            ),
            Ok(list(vec![i(1), s("a"), Value::Null]))
        );
        assert_eq!(
            call(concat, vec![list(vec![]), s("x")]),
            Err("Invalid value for \"seqs\" parameter: all arguments must be lists or tuples; got string".to_owned())
        );
        assert!(call(concat, vec![]).is_err());
    }

    #[test]
    fn contains_compares_types() {
        let l = list(vec![s("a"), i(1)]);
        assert_eq!(
            call(contains, vec![l.clone(), s("a")]),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            call(contains, vec![l.clone(), Value::from(1.0)]),
            Ok(Value::Bool(true))
        );
        assert_eq!(call(contains, vec![l, s("1")]), Ok(Value::Bool(false)));
        assert!(call(contains, vec![s("a"), s("a")]).is_err());
    }

    #[test]
    fn distinct_keeps_first() {
        assert_eq!(
            call(
                distinct,
                vec![list(vec![s("a"), s("b"), s("a"), i(1), s("1")])]
            ),
            Ok(list(vec![s("a"), s("b"), s("1")]))
        );
        assert_eq!(
            call(distinct, vec![list(vec![i(1), Value::Bool(true)])]),
            Err(
                "Invalid value for \"list\" parameter: all list elements must have the same type"
                    .to_owned()
            )
        );
    }

    #[test]
    fn chunklist_cuts() {
        let l = list(vec![i(1), i(2), i(3)]);
        assert_eq!(
            call(chunklist, vec![l.clone(), i(2)]),
            Ok(list(vec![list(vec![i(1), i(2)]), list(vec![i(3)])]))
        );
        assert_eq!(
            call(chunklist, vec![l.clone(), i(0)]),
            Ok(list(vec![l.clone()]))
        );
        assert_eq!(call(chunklist, vec![list(vec![]), i(3)]), Ok(list(vec![])));
        assert_eq!(
            call(chunklist, vec![l.clone(), i(-1)]),
            Err("the size argument must be positive".to_owned())
        );
        assert!(call(chunklist, vec![l, Value::from(0.5)])
            .unwrap_err()
            .starts_with("invalid size:"));
    }

    #[test]
    fn flatten_recurses() {
        let nested = list(vec![
            list(vec![s("a"), list(vec![s("b")])]),
            list(vec![]),
            s("c"),
            Value::Null,
        ]);
        assert_eq!(
            call(flatten, vec![nested]),
            Ok(list(vec![s("a"), s("b"), s("c"), Value::Null]))
        );
        assert!(call(flatten, vec![s("a")]).is_err());
    }

    #[test]
    fn keys_values_lookup_merge() {
        let m = map(&[("b", i(2)), ("a", i(1))]);
        assert_eq!(call(keys, vec![m.clone()]), Ok(list(vec![s("a"), s("b")])));
        assert_eq!(call(values, vec![m.clone()]), Ok(list(vec![i(1), i(2)])));
        assert_eq!(call(lookup, vec![m.clone(), s("a"), i(0)]), Ok(i(1)));
        assert_eq!(call(lookup, vec![m.clone(), s("z"), s("d")]), Ok(s("d")));
        assert!(call(lookup, vec![m.clone(), s("a")])
            .unwrap_err()
            .contains("Missing value for \"default\""));
        assert!(call(keys, vec![s("x")])
            .unwrap_err()
            .contains("map or object"));
        assert_eq!(
            call(
                merge,
                vec![m, Value::Null, map(&[("a", s("x")), ("c", i(3))])]
            ),
            Ok(map(&[("a", s("x")), ("b", i(2)), ("c", i(3))]))
        );
        assert_eq!(call(merge, vec![]), Ok(map(&[])));
        assert_eq!(
            call(merge, vec![s("x")]),
            Err("arguments must be maps or objects, got \"string\"".to_owned())
        );
    }

    #[test]
    fn slice_checks_bounds() {
        let l = list(vec![i(1), i(2), i(3)]);
        assert_eq!(
            call(slice, vec![l.clone(), i(1), i(3)]),
            Ok(list(vec![i(2), i(3)]))
        );
        assert_eq!(call(slice, vec![l.clone(), i(1), i(1)]), Ok(list(vec![])));
        assert_eq!(
            call(slice, vec![l.clone(), i(2), i(1)]),
            Err("Invalid value for \"start_index\" parameter: start index must not be greater than end index".to_owned())
        );
        assert!(call(slice, vec![l.clone(), i(0), i(4)])
            .unwrap_err()
            .contains("end index must not be greater than the length"));
        assert!(call(slice, vec![l, i(-1), i(1)])
            .unwrap_err()
            .contains("start index must not be less than zero"));
    }

    #[test]
    fn zipmap_pairs() {
        assert_eq!(
            call(
                zipmap,
                vec![list(vec![s("a"), s("b")]), list(vec![i(1), i(2)])]
            ),
            Ok(map(&[("a", i(1)), ("b", i(2))]))
        );
        assert_eq!(
            call(zipmap, vec![list(vec![s("a")]), list(vec![])]),
            Err("number of keys (1) does not match number of values (0)".to_owned())
        );
        assert_eq!(
            call(zipmap, vec![list(vec![Value::Null]), list(vec![i(1)])]),
            Err("keys list has null value at index 0".to_owned())
        );
    }

    #[test]
    fn range_counts() {
        let r = |args: Vec<Value>| call(range, args);
        assert_eq!(r(vec![i(3)]), Ok(list(vec![i(0), i(1), i(2)])));
        assert_eq!(r(vec![i(-2)]), Ok(list(vec![i(0), i(-1)])));
        assert_eq!(r(vec![i(1), i(4)]), Ok(list(vec![i(1), i(2), i(3)])));
        assert_eq!(r(vec![i(4), i(1)]), Ok(list(vec![i(4), i(3), i(2)])));
        assert_eq!(r(vec![i(0), i(10), i(5)]), Ok(list(vec![i(0), i(5)])));
        assert_eq!(
            r(vec![i(0), i(1), Value::from(0.25)]),
            Ok(list(vec![
                i(0),
                Value::from(0.25),
                Value::from(0.5),
                Value::from(0.75)
            ]))
        );
        let tenths = r(vec![i(0), i(1), Value::from(0.1)]).unwrap();
        let Value::Tuple(tenths) = tenths else {
            panic!()
        };
        assert_eq!(tenths[3], Value::from(0.3));
        assert_eq!(tenths.len(), 10);
        assert_eq!(r(vec![i(0)]), Ok(list(vec![])));
        assert_eq!(
            r(vec![i(0), i(1), i(0)]),
            Err("Invalid value for \"params\" parameter: step must not be zero".to_owned())
        );
        assert!(r(vec![i(0), i(1), i(-1)])
            .unwrap_err()
            .contains("when step is negative"));
        assert!(r(vec![i(1), i(0), i(1)])
            .unwrap_err()
            .contains("when step is positive"));
        assert!(r(vec![]).is_err());
        assert!(r(vec![i(1_000_000_000)])
            .unwrap_err()
            .contains("more than 1024"));
        assert_eq!(
            r(vec![
                Value::from(1e300),
                Value::from(1e301),
                Value::from(1e300)
            ])
            .map(|v| match v {
                Value::Tuple(items) => items.len(),
                _ => 0,
            }),
            Ok(9)
        );
    }
}
