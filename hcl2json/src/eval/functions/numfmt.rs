//! Number formatting for `format`: the output of Go's `fmt` on the
//! `big.Float` and `big.Int` values cty formats numbers through.

use crate::value::Number;

/// The flags, width and precision of one formatting verb.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Spec {
    /// `0`: pad with zeros.
    pub zero: bool,
    /// `#`: alternate form (base prefixes for integers).
    pub sharp: bool,
    /// `+`: always print a sign.
    pub plus: bool,
    /// `-`: pad on the right.
    pub minus: bool,
    /// ` `: a space where a plus sign would go.
    pub space: bool,
    /// The minimum width, if given.
    pub width: Option<usize>,
    /// The precision, if given.
    pub precision: Option<usize>,
}

impl Spec {
    /// Go's `fmt` drops the zero flag when `-` is present.
    fn zero_padding(&self) -> bool {
        self.zero && !self.minus
    }
}

/// Significant decimal digits of a magnitude: `0.digits × 10^exp`, with no
/// trailing zeros (empty for zero).
struct Digits {
    mant: Vec<u8>,
    exp: i32,
}

impl Digits {
    /// The shortest digits that read back as `x`.
    fn shortest(x: f64) -> Digits {
        Digits::parse(&format!("{:e}", x.abs()))
    }

    /// `x` rounded to `significant` digits (at least one).
    fn rounded(x: f64, significant: usize) -> Digits {
        let after_point = significant.max(1) - 1;
        Digits::parse(&format!("{:.*e}", after_point, x.abs()))
    }

    /// Reads Rust's `d.ddde±x` form.
    fn parse(text: &str) -> Digits {
        let (mantissa, exponent) = text.split_once('e').unwrap_or((text, "0"));
        let mut mant: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
        while mant.last() == Some(&b'0') {
            mant.pop();
        }
        let exp = if mant.is_empty() {
            0
        } else {
            exponent.parse::<i32>().unwrap_or(0) + 1
        };
        Digits { mant, exp }
    }

    fn len(&self) -> i32 {
        i32::try_from(self.mant.len()).unwrap_or(i32::MAX)
    }

    /// The digit at position `i` (0 past either end).
    fn at(&self, i: i32) -> u8 {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.mant.get(i).copied())
            .unwrap_or(b'0')
    }

    /// `d.ddd e±xx` with `precision` digits after the point.
    fn exponent_form(&self, precision: usize, e: char) -> String {
        let mut out = String::new();
        out.push(char::from(self.at(0)));
        if precision > 0 {
            out.push('.');
            for i in 1..=precision {
                out.push(char::from(self.at(i32::try_from(i).unwrap_or(i32::MAX))));
            }
        }
        let exp = if self.mant.is_empty() {
            0
        } else {
            self.exp - 1
        };
        out.push(e);
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.unsigned_abs()));
        out
    }

    /// `ddd.ddd` with `precision` digits after the point.
    fn fixed_form(&self, precision: usize) -> String {
        let mut out = String::new();
        if self.exp > 0 {
            for i in 0..self.exp {
                out.push(char::from(self.at(i)));
            }
        } else {
            out.push('0');
        }
        if precision > 0 {
            out.push('.');
            for i in 0..precision {
                let i = i32::try_from(i).unwrap_or(i32::MAX);
                out.push(char::from(self.at(self.exp.saturating_add(i))));
            }
        }
        out
    }
}

/// `%g` of a magnitude as Go's `big.Float` prints it: shortest digits when
/// `precision` is `None`, exponent form for exponents below -4 or from the
/// precision (6 for shortest) up.
fn general_magnitude(x: f64, precision: Option<usize>, e: char) -> String {
    let (digits, shortest, mut prec) = match precision {
        None => {
            let d = Digits::shortest(x);
            let len = d.len();
            (d, true, len)
        }
        Some(p) => {
            let p = p.max(1);
            let d = Digits::rounded(x, p);
            (d, false, i32::try_from(p).unwrap_or(i32::MAX))
        }
    };
    let mut eprec = prec;
    if eprec > digits.len() && digits.len() >= digits.exp {
        eprec = digits.len();
    }
    if shortest {
        eprec = 6;
    }
    let exp = digits.exp - 1;
    if exp < -4 || exp >= eprec {
        prec = prec.min(digits.len());
        let after = usize::try_from(prec - 1).unwrap_or(0);
        return digits.exponent_form(after, e);
    }
    if prec > digits.exp {
        prec = digits.len();
    }
    digits.fixed_form(usize::try_from(prec - digits.exp).unwrap_or(0))
}

/// `%g` without flags: Go's `big.Float.Text('g', precision)`.
pub(crate) fn go_general(x: f64, precision: Option<usize>) -> String {
    if x.is_infinite() {
        return if x > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let magnitude = general_magnitude(x, precision, 'e');
    if x < 0.0 {
        format!("-{magnitude}")
    } else {
        magnitude
    }
}

/// Formats a number with one of the float verbs `e E f g G`, applying flags
/// and width as Go's `big.Float` formatter does.
pub(crate) fn format_float(x: f64, verb: char, spec: &Spec) -> String {
    let body = if x.is_infinite() {
        "Inf".to_owned()
    } else {
        float_magnitude(x, verb, spec.precision)
    };
    let sign = if x < 0.0 {
        "-"
    } else if x.is_infinite() {
        if spec.space {
            " "
        } else {
            "+"
        }
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    let used = sign.len() + body.len();
    let padding = spec.width.map_or(0, |w| w.saturating_sub(used));
    if spec.zero_padding() && !x.is_infinite() {
        format!("{sign}{}{body}", "0".repeat(padding))
    } else if spec.minus {
        format!("{sign}{body}{}", " ".repeat(padding))
    } else {
        format!("{}{sign}{body}", " ".repeat(padding))
    }
}

fn float_magnitude(x: f64, verb: char, precision: Option<usize>) -> String {
    match verb {
        'e' | 'E' => {
            let precision = precision.unwrap_or(6);
            Digits::rounded(x, precision + 1).exponent_form(precision, verb)
        }
        'g' => general_magnitude(x, precision, 'e'),
        'G' => general_magnitude(x, precision, 'E'),
        _ => format!("{:.*}", precision.unwrap_or(6), x.abs()),
    }
}

/// Formats a whole number with one of the integer verbs `b d o x X`,
/// applying flags, precision (minimum digits) and width as Go's `big.Int`
/// formatter does. `None` when the number is not whole.
pub(crate) fn format_integer(n: Number, verb: char, spec: &Spec) -> Option<String> {
    let (negative, digits) = integer_digits(n, verb)?;
    let sign = if negative {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    };
    let prefix = match (spec.sharp, verb) {
        (true, 'b') => "0b",
        (true, 'o') => "0",
        (true, 'x') => "0x",
        (true, 'X') => "0X",
        _ => "",
    };
    let mut zeros = 0;
    if let Some(precision) = spec.precision {
        if digits.len() < precision {
            zeros = precision - digits.len();
        } else if digits == "0" && precision == 0 {
            return Some(String::new());
        }
    }
    let length = sign.len() + prefix.len() + zeros + digits.len();
    let (mut left, mut right) = (0, 0);
    if let Some(width) = spec.width.filter(|&w| w > length) {
        let extra = width - length;
        if spec.minus {
            right = extra;
        } else if spec.zero && spec.precision.is_none() {
            zeros = extra;
        } else {
            left = extra;
        }
    }
    Some(format!(
        "{}{sign}{prefix}{}{digits}{}",
        " ".repeat(left),
        "0".repeat(zeros),
        " ".repeat(right)
    ))
}

/// The sign and the digits of a whole number in the verb's base.
fn integer_digits(n: Number, verb: char) -> Option<(bool, String)> {
    match n {
        Number::Int(i) => Some((i < 0, radix(u128::from(i.unsigned_abs()), verb))),
        Number::Float(f) if !f.is_finite() || f.fract() != 0.0 => None,
        Number::Float(f) if f.abs() < 1.7e38 => Some((f < 0.0, radix(f.abs() as u128, verb))),
        Number::Float(f) => Some((f < 0.0, huge_radix(f.abs(), verb))),
    }
}

fn radix(m: u128, verb: char) -> String {
    match verb {
        'b' => format!("{m:b}"),
        'o' => format!("{m:o}"),
        'x' => format!("{m:x}"),
        'X' => format!("{m:X}"),
        _ => m.to_string(),
    }
}

/// Digits of a whole float too large for 128 bits.
fn huge_radix(f: f64, verb: char) -> String {
    if !matches!(verb, 'b' | 'o' | 'x' | 'X') {
        return format!("{f:.0}");
    }
    let bits = f.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as usize;
    let mantissa = (bits & ((1 << 52) - 1)) | (1 << 52);
    let shift = exponent.saturating_sub(1075);
    let binary = format!("{mantissa:b}{}", "0".repeat(shift));
    let group = match verb {
        'b' => return binary,
        'o' => 3,
        _ => 4,
    };
    let pad = (group - binary.len() % group) % group;
    let padded = format!("{}{binary}", "0".repeat(pad));
    let digits: String = padded
        .as_bytes()
        .chunks(group)
        .map(|chunk| {
            let value = chunk
                .iter()
                .fold(0u32, |acc, b| acc * 2 + u32::from(b - b'0'));
            char::from_digit(value, 16).unwrap_or('0')
        })
        .collect();
    if verb == 'X' {
        digits.to_uppercase()
    } else {
        digits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(width: Option<usize>, precision: Option<usize>) -> Spec {
        Spec {
            width,
            precision,
            ..Spec::default()
        }
    }

    #[test]
    fn general_matches_big_float() {
        assert_eq!(go_general(1_000_000.0, None), "1e+06");
        assert_eq!(go_general(123_456.0, None), "123456");
        assert_eq!(go_general(1_234_567.0, None), "1.234567e+06");
        assert_eq!(go_general(0.0001, None), "0.0001");
        assert_eq!(go_general(0.00001, None), "1e-05");
        assert_eq!(go_general(-2.5, None), "-2.5");
        assert_eq!(go_general(0.0, None), "0");
        assert_eq!(go_general(1e12, Some(10)), "1e+12");
        assert_eq!(go_general(123_456_789.0, Some(10)), "123456789");
        assert_eq!(go_general(1.23456, Some(3)), "1.23");
        assert_eq!(go_general(100.0, Some(2)), "1e+02");
        assert_eq!(go_general(f64::INFINITY, None), "+Inf");
    }

    #[test]
    fn floats_with_flags() {
        assert_eq!(format_float(1.23456, 'f', &spec(None, None)), "1.234560");
        assert_eq!(format_float(1.23456, 'f', &spec(None, Some(2))), "1.23");
        assert_eq!(format_float(0.125, 'f', &spec(None, Some(2))), "0.12");
        assert_eq!(format_float(2.5, 'f', &spec(None, Some(0))), "2");
        assert_eq!(
            format_float(1234.5678, 'e', &spec(None, None)),
            "1.234568e+03"
        );
        assert_eq!(
            format_float(1234.5678, 'E', &spec(None, Some(2))),
            "1.23E+03"
        );
        assert_eq!(format_float(0.0, 'e', &spec(None, Some(1))), "0.0e+00");
        assert_eq!(format_float(-1.5, 'f', &spec(Some(8), Some(1))), "    -1.5");
        let zero = Spec {
            zero: true,
            ..spec(Some(8), Some(1))
        };
        assert_eq!(format_float(-1.5, 'f', &zero), "-00001.5");
        let left = Spec {
            minus: true,
            zero: true,
            plus: true,
            ..spec(Some(7), Some(1))
        };
        assert_eq!(format_float(1.5, 'f', &left), "+1.5   ");
        assert_eq!(format_float(f64::INFINITY, 'f', &zero), "    +Inf");
        assert_eq!(
            format_float(1e21, 'f', &spec(None, Some(0))),
            "1000000000000000000000"
        );
        assert_eq!(format_float(1234.0, 'g', &spec(None, None)), "1234");
    }

    #[test]
    fn integers_with_flags() {
        let fmt = |n: Number, verb: char, s: Spec| format_integer(n, verb, &s).unwrap();
        assert_eq!(fmt(Number::Int(42), 'd', spec(None, None)), "42");
        assert_eq!(fmt(Number::Int(-42), 'd', spec(Some(6), None)), "   -42");
        let zero = Spec {
            zero: true,
            ..spec(Some(6), None)
        };
        assert_eq!(fmt(Number::Int(-42), 'd', zero), "-00042");
        assert_eq!(fmt(Number::Int(255), 'x', spec(None, None)), "ff");
        let sharp = Spec {
            sharp: true,
            ..Spec::default()
        };
        assert_eq!(fmt(Number::Int(255), 'X', sharp), "0XFF");
        assert_eq!(fmt(Number::Int(8), 'o', sharp), "010");
        assert_eq!(fmt(Number::Int(5), 'b', sharp), "0b101");
        assert_eq!(fmt(Number::Int(7), 'd', spec(Some(5), Some(3))), "  007");
        assert_eq!(fmt(Number::Int(0), 'd', spec(None, Some(0))), "");
        assert_eq!(
            fmt(Number::Float(1e20), 'd', spec(None, None)),
            "100000000000000000000"
        );
        assert_eq!(
            fmt(Number::Float(2f64.powi(130)), 'x', spec(None, None)),
            "400000000000000000000000000000000"
        );
        assert_eq!(fmt(Number::Float(1e300), 'd', spec(None, None)).len(), 301);
        assert!(format_integer(Number::Float(1.5), 'd', &Spec::default()).is_none());
        assert!(format_integer(Number::Float(f64::INFINITY), 'd', &Spec::default()).is_none());
    }
}
