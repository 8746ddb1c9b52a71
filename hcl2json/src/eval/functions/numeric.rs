//! Number functions, following go-cty's `stdlib` number functions.
//!
//! cty numbers are arbitrary-precision; here they are 64-bit integers or
//! floats, so results beyond 2^53 may differ in their last digits.

use super::args::{go_quote, whole_number, FuncResult, Signature};
use super::FuncContext;
use crate::value::{Number, Value};

const ABS: Signature = Signature::fixed("abs", &["num"]);
const CEIL: Signature = Signature::fixed("ceil", &["num"]);
const FLOOR: Signature = Signature::fixed("floor", &["num"]);
const LOG: Signature = Signature::fixed("log", &["num", "base"]);
const POW: Signature = Signature::fixed("pow", &["num", "power"]);
const SIGNUM: Signature = Signature::fixed("signum", &["num"]);
const MIN: Signature = Signature::variadic("min", &[], "numbers");
const MAX: Signature = Signature::variadic("max", &[], "numbers");
const PARSEINT: Signature = Signature::fixed("parseint", &["number", "base"]);

/// Reads the single number argument of `sig`.
fn one_number(sig: &Signature, args: Vec<Value>) -> Result<Number, String> {
    let [n] = sig.exact(args)?;
    sig.number(0, &n)
}

/// Reads the two number arguments of `sig` as floats.
fn two_floats(sig: &Signature, args: Vec<Value>) -> Result<(f64, f64), String> {
    let [a, b] = sig.exact(args)?;
    Ok((sig.number(0, &a)?.as_f64(), sig.number(1, &b)?.as_f64()))
}

/// A float result, refusing NaN, which cty cannot represent.
fn float_result(f: f64) -> FuncResult {
    if f.is_nan() {
        Err("the result is not a number (NaN), which cty cannot represent".to_owned())
    } else {
        Ok(Value::Number(Number::from_f64(f)))
    }
}

/// `abs(num)`: the magnitude of a number.
pub(crate) fn abs(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let n = match one_number(&ABS, args)? {
        Number::Int(i) => i
            .checked_abs()
            .map_or(Number::Float((i as f64).abs()), Number::Int),
        Number::Float(f) => Number::Float(f.abs()),
    };
    Ok(Value::Number(n))
}

/// `ceil(num)`: the smallest whole number not below `num`.
pub(crate) fn ceil(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    Ok(Value::Number(round_with(
        one_number(&CEIL, args)?,
        f64::ceil,
    )))
}

/// `floor(num)`: the largest whole number not above `num`.
pub(crate) fn floor(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    Ok(Value::Number(round_with(
        one_number(&FLOOR, args)?,
        f64::floor,
    )))
}

fn round_with(n: Number, round: fn(f64) -> f64) -> Number {
    match n {
        Number::Int(i) => Number::Int(i),
        Number::Float(f) if f.is_infinite() => Number::Float(f),
        Number::Float(f) => Number::from_f64(round(f)),
    }
}

/// `log(num, base)`: the logarithm of `num` in `base`.
pub(crate) fn log(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let (num, base) = two_floats(&LOG, args)?;
    float_result(num.ln() / base.ln())
}

/// `pow(num, power)`: `num` raised to `power`.
pub(crate) fn pow(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let (num, power) = two_floats(&POW, args)?;
    float_result(num.powf(power))
}

/// `signum(num)`: -1, 0 or 1. cty converts the number to an integer first,
/// so fractions are refused.
pub(crate) fn signum(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let n = whole_number(one_number(&SIGNUM, args)?)?;
    Ok(Value::from(n.signum()))
}

/// `min(numbers...)`: the smallest number.
pub(crate) fn min(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    extreme(&MIN, args, |candidate, best| candidate < best)
}

/// `max(numbers...)`: the largest number.
pub(crate) fn max(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    extreme(&MAX, args, |candidate, best| candidate > best)
}

fn extreme(sig: &Signature, args: Vec<Value>, better: fn(Number, Number) -> bool) -> FuncResult {
    let ([], numbers) = sig.split::<0>(args)?;
    let mut best: Option<Number> = None;
    for (i, n) in numbers.iter().enumerate() {
        let n = sig.number(i, n)?;
        if best.is_none_or(|b| better(n, b)) {
            best = Some(n);
        }
    }
    best.map(Value::Number)
        .ok_or_else(|| "must pass at least one number".to_owned())
}

/// `parseint(number, base)`: the integer that `number` spells in `base`
/// (2 to 62; above 36, lower-case letters come before upper-case ones).
pub(crate) fn parseint(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [text, base] = PARSEINT.exact(args)?;
    let Value::String(text) = PARSEINT.not_null(0, &text)? else {
        return Err(PARSEINT.arg_error(
            0,
            format!("first argument must be a string, not {}", text.type_name()),
        ));
    };
    let base = whole_number(PARSEINT.number(1, &base)?).map_err(|e| PARSEINT.arg_error(1, e))?;
    let base = u32::try_from(base)
        .ok()
        .filter(|b| (2..=62).contains(b))
        .ok_or_else(|| {
            PARSEINT.arg_error(1, "base must be a whole number between 2 and 62 inclusive")
        })?;
    parse_in_base(text, base).map(Value::Number).ok_or_else(|| {
        PARSEINT.arg_error(
            0,
            format!("cannot parse {} as a base {base} integer", go_quote(text)),
        )
    })
}

/// Parses an optionally signed integer in `base`, as Go's `big.Int` does.
fn parse_in_base(text: &str, base: u32) -> Option<Number> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() {
        return None;
    }
    let mut exact: Option<i128> = Some(0);
    let mut approx = 0f64;
    for c in digits.chars() {
        let d = digit_value(c, base)?;
        exact = exact
            .and_then(|v| v.checked_mul(i128::from(base)))
            .and_then(|v| v.checked_add(i128::from(d)));
        approx = approx * f64::from(base) + f64::from(d);
    }
    let sign = if negative { -1 } else { 1 };
    let magnitude = exact.map_or(approx, |v| v as f64);
    match exact.and_then(|v| i64::try_from(v * sign).ok()) {
        Some(i) => Some(Number::Int(i)),
        None => Some(Number::Float(magnitude * sign as f64)),
    }
}

fn digit_value(c: char, base: u32) -> Option<u32> {
    let value = match c {
        '0'..='9' => c as u32 - '0' as u32,
        'a'..='z' => c as u32 - 'a' as u32 + 10,
        'A'..='Z' if base <= 36 => c as u32 - 'A' as u32 + 10,
        'A'..='Z' => c as u32 - 'A' as u32 + 36,
        _ => return None,
    };
    (value < base).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::call;
    use super::*;

    fn n(v: f64) -> Value {
        Value::from(v)
    }

    #[test]
    fn abs_ceil_floor() {
        assert_eq!(call(abs, vec![n(-12.5)]), Ok(n(12.5)));
        assert_eq!(call(abs, vec![Value::from(-3)]), Ok(Value::from(3)));
        assert_eq!(call(abs, vec![Value::from("-4")]), Ok(Value::from(4)));
        assert_eq!(call(ceil, vec![n(1.2)]), Ok(Value::from(2)));
        assert_eq!(call(ceil, vec![n(-1.2)]), Ok(Value::from(-1)));
        assert_eq!(call(floor, vec![n(-1.2)]), Ok(Value::from(-2)));
        assert_eq!(call(floor, vec![n(f64::INFINITY)]), Ok(n(f64::INFINITY)));
        assert!(call(floor, vec![Value::from("x")])
            .unwrap_err()
            .contains("a number is required"));
        assert!(call(floor, vec![Value::from(true)])
            .unwrap_err()
            .contains("number required"));
    }

    #[test]
    fn log_and_pow() {
        assert_eq!(
            call(log, vec![n(50.0), n(10.0)]),
            Ok(n(50f64.ln() / 10f64.ln()))
        );
        assert_eq!(call(log, vec![n(16.0), n(2.0)]), Ok(Value::from(4)));
        assert_eq!(call(log, vec![n(0.0), n(10.0)]), Ok(n(f64::NEG_INFINITY)));
        assert!(call(log, vec![n(-1.0), n(10.0)])
            .unwrap_err()
            .contains("NaN"));
        assert_eq!(call(pow, vec![n(3.0), n(2.0)]), Ok(Value::from(9)));
        assert_eq!(call(pow, vec![n(4.0), n(0.5)]), Ok(Value::from(2)));
        assert_eq!(call(pow, vec![n(2.0), n(-1.0)]), Ok(n(0.5)));
    }

    #[test]
    fn signum_needs_whole_numbers() {
        assert_eq!(call(signum, vec![n(-13.0)]), Ok(Value::from(-1)));
        assert_eq!(call(signum, vec![n(0.0)]), Ok(Value::from(0)));
        assert_eq!(call(signum, vec![Value::from("7")]), Ok(Value::from(1)));
        assert!(call(signum, vec![n(0.5)])
            .unwrap_err()
            .contains("whole number"));
    }

    #[test]
    fn min_and_max() {
        let nums = vec![Value::from(12), Value::from("54"), n(3.5)];
        assert_eq!(call(min, nums.clone()), Ok(n(3.5)));
        assert_eq!(call(max, nums), Ok(Value::from(54)));
        assert_eq!(
            call(max, vec![]),
            Err("must pass at least one number".to_owned())
        );
        assert!(call(min, vec![Value::from(1), Value::from("a")])
            .unwrap_err()
            .contains("\"numbers\" parameter"));
    }

    #[test]
    fn parseint_bases() {
        let p = |s: &str, b: i64| call(parseint, vec![Value::from(s), Value::from(b)]);
        assert_eq!(p("100", 10), Ok(Value::from(100)));
        assert_eq!(p("FF", 16), Ok(Value::from(255)));
        assert_eq!(p("-ff", 16), Ok(Value::from(-255)));
        assert_eq!(p("+101", 2), Ok(Value::from(5)));
        assert_eq!(p("zA", 62), Ok(Value::from(35 * 62 + 36)));
        assert_eq!(p("Z", 36), Ok(Value::from(35)));
        assert_eq!(p("ffffffffffffffffff", 16), Ok(n(4.722_366_482_869_645e21)));
        assert_eq!(
            p("12", 2),
            Err(
                "Invalid value for \"number\" parameter: cannot parse \"12\" as a base 2 integer"
                    .to_owned()
            )
        );
        assert!(p("0x10", 16).is_err());
        assert!(p("", 10).is_err());
        assert!(p("1_0", 10).is_err());
        assert!(p("1", 63).unwrap_err().contains("between 2 and 62"));
        assert_eq!(
            call(parseint, vec![Value::from(12), Value::from(10)]),
            Err("Invalid value for \"number\" parameter: first argument must be a string, not number".to_owned())
        );
    }
}
