//! Set functions, following go-cty's `stdlib` set functions.
//!
//! Sets are returned as tuples in the order cty iterates set elements:
//! strings lexically, numbers numerically, `false` before `true`, nulls last;
//! other elements by an approximation of cty's internal hash order.

use std::cmp::Ordering;

use super::args::{go_quote, unify_elements, FuncResult, Signature};
use super::numfmt::go_general;
use super::FuncContext;
use crate::value::{Number, Value};

const SETUNION: Signature = Signature::variadic("setunion", &["first_set"], "other_sets");
const SETINTERSECTION: Signature =
    Signature::variadic("setintersection", &["first_set"], "other_sets");
const SETPRODUCT: Signature = Signature::variadic("setproduct", &[], "sets");

/// The most elements `setproduct` builds before giving up.
const PRODUCT_LIMIT: usize = 1_000_000;

/// `setunion(first_set, other_sets...)`: every element of any set.
pub(crate) fn setunion(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let sets = read_sets(&SETUNION, args)?;
    let mut union = Vec::new();
    for element in sets.into_iter().flatten() {
        if !union.contains(&element) {
            union.push(element);
        }
    }
    Ok(sorted_set(union))
}

/// `setintersection(first_set, other_sets...)`: the elements in every set.
pub(crate) fn setintersection(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let mut sets = read_sets(&SETINTERSECTION, args)?.into_iter();
    let first = sets.next().unwrap_or_default();
    let others: Vec<Vec<Value>> = sets.collect();
    let mut common = Vec::new();
    for element in first {
        let in_all = others.iter().all(|set| set.contains(&element));
        if in_all && !common.contains(&element) {
            common.push(element);
        }
    }
    Ok(sorted_set(common))
}

/// Reads every argument as a set whose elements share one type across all
/// sets.
fn read_sets(sig: &Signature, args: Vec<Value>) -> Result<Vec<Vec<Value>>, String> {
    let ([first], others) = sig.split::<1>(args)?;
    let mut sets = Vec::with_capacity(others.len() + 1);
    for (i, arg) in std::iter::once(first).chain(others).enumerate() {
        let Value::Tuple(items) = sig.not_null(i, &arg)? else {
            return Err(sig.arg_error(i, "set of any single type required"));
        };
        let items = unify_elements(items.clone())
            .ok_or_else(|| sig.arg_error(i, "all set elements must have the same type"))?;
        sets.push(items);
    }
    let lengths: Vec<usize> = sets.iter().map(Vec::len).collect();
    let unified = unify_elements(sets.concat())
        .ok_or_else(|| "given sets must all have compatible element types".to_owned())?;
    let mut unified = unified.into_iter();
    Ok(lengths
        .into_iter()
        .map(|len| unified.by_ref().take(len).collect())
        .collect())
}

/// The elements in cty's set iteration order.
fn sorted_set(mut elements: Vec<Value>) -> Value {
    elements.sort_by(cty_set_order);
    Value::Tuple(elements)
}

/// cty's ordering of set elements.
pub(crate) fn cty_set_order(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Greater,
        (_, Value::Null) => Ordering::Less,
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => set_hash(a).cmp(&set_hash(b)),
    }
}

/// The text cty hashes a set element by, which orders non-primitive elements.
fn set_hash(value: &Value) -> String {
    let mut out = String::new();
    push_set_hash(value, &mut out);
    out
}

fn push_set_hash(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push('~'),
        Value::Bool(b) => out.push(if *b { 'T' } else { 'F' }),
        Value::Number(n) => out.push_str(&number_hash(*n)),
        Value::String(s) => out.push_str(&go_quote(s)),
        Value::Tuple(items) => push_sequence_hash(items.iter(), out),
        Value::Object(map) => push_sequence_hash(map.values(), out),
    }
}

fn push_sequence_hash<'v>(items: impl Iterator<Item = &'v Value>, out: &mut String) {
    out.push('<');
    for item in items {
        push_set_hash(item, out);
        out.push(';');
    }
    out.push('>');
}

/// A number as `big.Float.String` prints it: `%g` with 10 significant digits.
fn number_hash(n: Number) -> String {
    go_general(n.as_f64(), Some(10))
}

/// `setproduct(sets...)`: every combination taking one element from each
/// set, in the order of the given lists.
pub(crate) fn setproduct(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let ([], sets) = SETPRODUCT.split::<0>(args)?;
    if sets.len() < 2 {
        return Err("at least two arguments are required".to_owned());
    }
    let mut lists = Vec::with_capacity(sets.len());
    for (i, set) in sets.iter().enumerate() {
        let Value::Tuple(items) = SETPRODUCT.not_null(i, set)? else {
            return Err(SETPRODUCT.arg_error(i, "a set or a list is required"));
        };
        let items = unify_elements(items.clone())
            .ok_or_else(|| SETPRODUCT.arg_error(i, "all elements must be of the same type"))?;
        lists.push(items);
    }
    let total = lists
        .iter()
        .try_fold(1usize, |acc, l| acc.checked_mul(l.len()))
        .filter(|&t| t.saturating_mul(lists.len()) <= PRODUCT_LIMIT)
        .ok_or_else(|| format!("the product would have more than {PRODUCT_LIMIT} elements"))?;
    Ok(Value::Tuple(cartesian_product(&lists, total)))
}

/// All `total` combinations, the last list varying fastest.
fn cartesian_product(lists: &[Vec<Value>], total: usize) -> Vec<Value> {
    let mut positions = vec![0usize; lists.len()];
    let mut product = Vec::with_capacity(total);
    for _ in 0..total {
        let combination = lists
            .iter()
            .zip(&positions)
            .filter_map(|(list, &p)| list.get(p).cloned())
            .collect();
        product.push(Value::Tuple(combination));
        for (position, list) in positions.iter_mut().zip(lists).rev() {
            *position += 1;
            if *position < list.len() {
                break;
            }
            *position = 0;
        }
    }
    product
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{call, i, list, s};
    use super::*;

    #[test]
    fn union_is_sorted_and_distinct() {
        assert_eq!(
            call(
                setunion,
                vec![list(vec![s("b"), s("a")]), list(vec![s("c"), s("b")])]
            ),
            Ok(list(vec![s("a"), s("b"), s("c")]))
        );
        assert_eq!(
            call(setunion, vec![list(vec![i(10), i(2)]), list(vec![i(1)])]),
            Ok(list(vec![i(1), i(2), i(10)]))
        );
        assert_eq!(
            call(setunion, vec![list(vec![i(10)]), list(vec![s("9")])]),
            Ok(list(vec![s("10"), s("9")]))
        );
        assert_eq!(
            call(
                setunion,
                vec![list(vec![i(1)]), list(vec![Value::Bool(true)])]
            ),
            Err("given sets must all have compatible element types".to_owned())
        );
        assert!(call(setunion, vec![s("a")])
            .unwrap_err()
            .contains("set of any single type required"));
        assert_eq!(call(setunion, vec![list(vec![])]), Ok(list(vec![])));
    }

    #[test]
    fn intersection_keeps_common() {
        assert_eq!(
            call(
                setintersection,
                vec![
                    list(vec![s("c"), s("a"), s("b")]),
                    list(vec![s("b"), s("c"), s("d")]),
                    list(vec![s("c"), s("b")])
                ]
            ),
            Ok(list(vec![s("b"), s("c")]))
        );
        assert_eq!(
            call(setintersection, vec![list(vec![s("a")]), list(vec![])]),
            Ok(list(vec![]))
        );
    }

    #[test]
    fn product_keeps_list_order() {
        assert_eq!(
            call(
                setproduct,
                vec![list(vec![s("a"), s("b")]), list(vec![i(1), i(2)])]
            ),
            Ok(list(vec![
                list(vec![s("a"), i(1)]),
                list(vec![s("a"), i(2)]),
                list(vec![s("b"), i(1)]),
                list(vec![s("b"), i(2)]),
            ]))
        );
        assert_eq!(
            call(setproduct, vec![list(vec![s("a")]), list(vec![])]),
            Ok(list(vec![]))
        );
        assert_eq!(
            call(setproduct, vec![list(vec![s("a")])]),
            Err("at least two arguments are required".to_owned())
        );
        assert_eq!(
            call(setproduct, vec![list(vec![s("a")]), s("b")]),
            Err("Invalid value for \"sets\" parameter: a set or a list is required".to_owned())
        );
        let big = list((0..1000).map(i).collect());
        assert!(call(setproduct, vec![big.clone(), big.clone(), big])
            .unwrap_err()
            .contains("more than"));
    }

    #[test]
    fn orders_like_cty_sets() {
        let mut v = vec![Value::Null, Value::Bool(true), Value::Bool(false)];
        v.sort_by(cty_set_order);
        assert_eq!(v, vec![Value::Bool(false), Value::Bool(true), Value::Null]);
        assert_eq!(
            set_hash(&list(vec![s("a"), i(1), Value::Null])),
            "<\"a\";1;~;>"
        );
        assert_eq!(number_hash(Number::Float(1e12)), "1e+12");
    }
}
