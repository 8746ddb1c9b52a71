//! `formatdate` and `timeadd`, following go-cty's `stdlib` date functions:
//! RFC 3339 timestamps in, Go duration strings, and cty's format letters.

use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use super::args::{go_quote, FuncResult, Signature};
use super::FuncContext;
use crate::value::Value;

const FORMATDATE: Signature = Signature::fixed("formatdate", &["format", "time"]);
const TIMEADD: Signature = Signature::fixed("timeadd", &["timestamp", "duration"]);

/// `formatdate(format, time)`: the timestamp written with cty's format
/// letters (`YYYY MM DD hh mm ss`, `MMM`, `EEEE`, `ZZZZZ`...); text in
/// single quotes is literal, `''` is a quote.
pub(crate) fn formatdate(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [format, timestamp] = FORMATDATE.exact(args)?;
    let format = FORMATDATE.string(0, &format)?;
    let timestamp = FORMATDATE.string(1, &timestamp)?;
    let t = parse_rfc3339(&timestamp).map_err(|e| FORMATDATE.arg_error(1, e))?;
    let mut out = String::new();
    for token in date_format_tokens(&format) {
        write_date_token(token, &t, &mut out).map_err(|e| FORMATDATE.arg_error(0, e))?;
    }
    Ok(Value::String(out))
}

/// `timeadd(timestamp, duration)`: the timestamp moved by a Go duration
/// (`"1h30m"`, `"-10s"`), in RFC 3339 form with the same UTC offset.
pub(crate) fn timeadd(_: &FuncContext<'_>, args: Vec<Value>) -> FuncResult {
    let [timestamp, duration] = TIMEADD.exact(args)?;
    let timestamp = TIMEADD.string(0, &timestamp)?;
    let duration = TIMEADD.string(1, &duration)?;
    let t = parse_rfc3339(&timestamp)?;
    let nanos = parse_go_duration(&duration)?;
    let moved = t
        .checked_add(Duration::nanoseconds(nanos))
        .ok_or("the resulting time is out of range")?;
    Ok(Value::String(rfc3339(&moved)))
}

/// Writes a time as Go's `time.RFC3339` layout does (no fractional seconds).
fn rfc3339(t: &OffsetDateTime) -> String {
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        offset_text(t.offset(), true, true)
    )
}

/// An offset as `Z` (when `z_for_utc`) or `±hh:mm` / `±hhmm`.
fn offset_text(offset: UtcOffset, z_for_utc: bool, colon: bool) -> String {
    if z_for_utc && offset.is_utc() {
        return "Z".to_owned();
    }
    let sign = if offset.is_negative() { '-' } else { '+' };
    let (h, m, _) = offset.as_hms();
    let separator = if colon { ":" } else { "" };
    format!(
        "{sign}{:02}{separator}{:02}",
        h.unsigned_abs(),
        m.unsigned_abs()
    )
}

/// A token of a `formatdate` format string.
#[derive(Debug, PartialEq)]
enum DateToken<'a> {
    /// A run of one repeated letter.
    Verb(&'a str),
    /// Text in single quotes, quotes included (may lack the closing one).
    Quoted(&'a str),
    /// Anything else, copied as it is.
    Literal(&'a str),
}

/// Splits a format string into letter runs, quoted text and other text.
fn date_format_tokens(format: &str) -> Vec<DateToken<'_>> {
    let bytes = format.as_bytes();
    let mut tokens = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let first = bytes[start];
        let end = if first == b'\'' {
            quoted_end(bytes, start)
        } else if first.is_ascii_alphabetic() {
            run_end(bytes, start, |b| b == first)
        } else {
            run_end(bytes, start, |b| b != b'\'' && !b.is_ascii_alphabetic())
        };
        let text = &format[start..end];
        tokens.push(if first == b'\'' {
            DateToken::Quoted(text)
        } else if first.is_ascii_alphabetic() {
            DateToken::Verb(text)
        } else {
            DateToken::Literal(text)
        });
        start = end;
    }
    tokens
}

/// The end of a run starting at `start` of bytes satisfying `same`.
fn run_end(bytes: &[u8], start: usize, same: impl Fn(u8) -> bool) -> usize {
    let mut end = start + 1;
    while end < bytes.len() && same(bytes[end]) {
        end += 1;
    }
    end
}

/// The end of a quoted section: `''` alone, or up to the closing quote
/// (doubled quotes inside do not close it), or the end of the text.
fn quoted_end(bytes: &[u8], start: usize) -> usize {
    if bytes.get(start + 1) == Some(&b'\'') {
        return start + 2;
    }
    let mut i = start + 1;
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            if bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

fn write_date_token(
    token: DateToken<'_>,
    t: &OffsetDateTime,
    out: &mut String,
) -> Result<(), String> {
    match token {
        DateToken::Literal(text) => out.push_str(text),
        DateToken::Quoted(text) => out.push_str(&unquote(text)?),
        DateToken::Verb(verb) => out.push_str(&date_verb(verb, t)?),
    }
    Ok(())
}

/// The text of a quoted section, `''` standing for one quote.
fn unquote(text: &str) -> Result<String, String> {
    if text == "''" {
        return Ok("'".to_owned());
    }
    let inner = text
        .strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .filter(|_| text.len() > 1)
        .ok_or("unterminated literal '")?;
    Ok(inner.replace("''", "'"))
}

fn date_verb(verb: &str, t: &OffsetDateTime) -> Result<String, String> {
    let n = verb.len();
    let letter = verb.as_bytes()[0];
    let invalid = |why: &str| {
        if why.is_empty() {
            format!("invalid date format verb \"{verb}\"")
        } else {
            format!("invalid date format verb \"{verb}\": {why}")
        }
    };
    let number = |value: i64, why: &str| match n {
        1 => Ok(value.to_string()),
        2 => Ok(format!("{value:02}")),
        _ => Err(invalid(why)),
    };
    let month = t.month();
    let hour = i64::from(t.hour());
    match letter {
        b'Y' => match n {
            2 => Ok(format!("{:02}", t.year().rem_euclid(100))),
            4 => Ok(format!("{:04}", t.year())),
            _ => Err(invalid("year must either be \"YY\" or \"YYYY\"")),
        },
        b'M' => match n {
            1 | 2 => number(i64::from(u8::from(month)), ""),
            3 => Ok(month.to_string()[..3].to_owned()),
            4 => Ok(month.to_string()),
            _ => Err(invalid("month must be \"M\", \"MM\", \"MMM\", or \"MMMM\"")),
        },
        b'D' => number(
            i64::from(t.day()),
            "day of month must either be \"D\" or \"DD\"",
        ),
        b'E' => match n {
            3 => Ok(t.weekday().to_string()[..3].to_owned()),
            4 => Ok(t.weekday().to_string()),
            _ => Err(invalid("day of week must either be \"EEE\" or \"EEEE\"")),
        },
        b'h' => number(hour, "24-hour must either be \"h\" or \"hh\""),
        b'H' => {
            let twelve = if hour % 12 == 0 { 12 } else { hour % 12 };
            number(twelve, "12-hour must either be \"H\" or \"HH\"")
        }
        b'A' | b'a' if n == 2 => {
            let pm = hour >= 12;
            Ok(match (letter, pm) {
                (b'A', false) => "AM",
                (b'A', true) => "PM",
                (_, false) => "am",
                (_, true) => "pm",
            }
            .to_owned())
        }
        b'A' | b'a' => {
            let l = char::from(letter);
            Err(invalid(&format!("must be \"{l}{l}\"")))
        }
        b'm' => number(
            i64::from(t.minute()),
            "minute must either be \"m\" or \"mm\"",
        ),
        b's' => number(
            i64::from(t.second()),
            "second must either be \"s\" or \"ss\"",
        ),
        b'Z' => match n {
            1 => Ok(offset_text(t.offset(), true, true)),
            3 if t.offset().is_utc() => Ok("UTC".to_owned()),
            3 | 4 => Ok(offset_text(t.offset(), false, false)),
            5 => Ok(offset_text(t.offset(), false, true)),
            _ => Err(invalid("timezone must be Z, ZZZZ, or ZZZZZ")),
        },
        _ => Err(invalid("")),
    }
}

/// Reads a timestamp as Go's `time.Parse(time.RFC3339, ...)` does, and
/// words failures as cty does.
fn parse_rfc3339(text: &str) -> Result<OffsetDateTime, String> {
    let mut p = TimestampParser { rest: text };
    let year = p.year()?;
    p.literal("-")?;
    let month = p.number("month", 2, 2)?;
    p.range_check("month", (1..=12).contains(&month))?;
    p.literal("-")?;
    let day = p.number("day of month", 2, 2)?;
    p.literal("T")?;
    let hour = p.number("hour", 1, 2)?;
    p.range_check("hour", hour < 24)?;
    p.literal(":")?;
    let minute = p.number("minute", 2, 2)?;
    p.range_check("minute", minute < 60)?;
    p.literal(":")?;
    let second = p.number("second", 2, 2)?;
    p.range_check("second", second < 60)?;
    let nanos = p.fraction();
    let offset = p.offset()?;
    if !p.rest.is_empty() {
        return Err(p.error("timestamp segment"));
    }
    let bad = |_| "not a valid RFC3339 timestamp: day out of range".to_owned();
    let month = Month::try_from(u8::try_from(month).unwrap_or(0)).map_err(bad)?;
    let date = Date::from_calendar_date(to_i32(year), month, to_u8(day)).map_err(bad)?;
    let time = Time::from_hms_nano(to_u8(hour), to_u8(minute), to_u8(second), nanos)
        .map_err(|e| format!("not a valid RFC3339 timestamp: {e}"))?;
    Ok(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

fn to_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(0)
}

fn to_u8(n: u32) -> u8 {
    u8::try_from(n).unwrap_or(u8::MAX)
}

/// A cursor over the part of a timestamp not read yet.
struct TimestampParser<'a> {
    rest: &'a str,
}

impl TimestampParser<'_> {
    fn error(&self, what: &str) -> String {
        if self.rest.is_empty() {
            format!("not a valid RFC3339 timestamp: end of string before {what}")
        } else {
            format!(
                "not a valid RFC3339 timestamp: cannot use {} as {what}",
                go_quote(self.rest)
            )
        }
    }

    /// Four bytes of year. Like Go, reports the text after them when they
    /// are not all digits.
    fn year(&mut self) -> Result<u32, String> {
        let starts_with_digit = self.rest.bytes().next().is_some_and(|b| b.is_ascii_digit());
        if self.rest.len() < 4 || !starts_with_digit {
            return Err(self.error("year"));
        }
        let (Some(field), Some(after)) = (self.rest.get(..4), self.rest.get(4..)) else {
            return Err(self.error("year"));
        };
        self.rest = after;
        if !field.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.error("year"));
        }
        field.parse().map_err(|_| self.error("year"))
    }

    /// Between `min` and `max` digits (as many as there are, up to `max`).
    fn number(&mut self, what: &str, min: usize, max: usize) -> Result<u32, String> {
        let digits = self
            .rest
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if digits < min {
            return Err(self.error(what));
        }
        let value = self.rest[..digits].parse().map_err(|_| self.error(what))?;
        self.rest = &self.rest[digits..];
        Ok(value)
    }

    /// Go reports an out-of-range field with the text that follows it.
    fn range_check(&self, what: &str, ok: bool) -> Result<(), String> {
        if ok {
            Ok(())
        } else {
            Err(self.error(what))
        }
    }

    fn literal(&mut self, expected: &str) -> Result<(), String> {
        if let Some(rest) = self.rest.strip_prefix(expected) {
            self.rest = rest;
            return Ok(());
        }
        Err(if expected == "T" {
            "not a valid RFC3339 timestamp: missing required time introducer 'T'".to_owned()
        } else if self.rest.is_empty() {
            format!(
                "not a valid RFC3339 timestamp: end of string where {} is expected",
                go_quote(expected)
            )
        } else {
            format!(
                "not a valid RFC3339 timestamp: found {} where {} is expected",
                go_quote(self.rest),
                go_quote(expected)
            )
        })
    }

    /// Optional fractional seconds (`.123` or `,123`) as nanoseconds.
    fn fraction(&mut self) -> u32 {
        let bytes = self.rest.as_bytes();
        let has_fraction = matches!(bytes.first(), Some(b'.' | b','))
            && bytes.get(1).is_some_and(u8::is_ascii_digit);
        if !has_fraction {
            return 0;
        }
        let digits = bytes[1..].iter().take_while(|b| b.is_ascii_digit()).count();
        let mut nanos: u32 = 0;
        for i in 0..9 {
            let d = bytes
                .get(1 + i)
                .filter(|_| i < digits)
                .map_or(0, |b| b - b'0');
            nanos = nanos * 10 + u32::from(d);
        }
        self.rest = &self.rest[1 + digits..];
        nanos
    }

    /// `Z` or `±hh:mm`.
    fn offset(&mut self) -> Result<UtcOffset, String> {
        if let Some(rest) = self.rest.strip_prefix('Z') {
            self.rest = rest;
            return Ok(UtcOffset::UTC);
        }
        let bytes = self.rest.as_bytes();
        let well_formed = bytes.len() >= 6
            && matches!(bytes[0], b'+' | b'-')
            && bytes[1..3].iter().all(u8::is_ascii_digit)
            && bytes[3] == b':'
            && bytes[4..6].iter().all(u8::is_ascii_digit);
        if !well_formed {
            return Err(self.error("UTC offset"));
        }
        let hours: i8 = self.rest[1..3]
            .parse()
            .map_err(|_| self.error("UTC offset"))?;
        let minutes: i8 = self.rest[4..6]
            .parse()
            .map_err(|_| self.error("UTC offset"))?;
        let sign = if bytes[0] == b'-' { -1 } else { 1 };
        let offset = UtcOffset::from_hms(sign * hours, sign * minutes, 0)
            .map_err(|_| self.error("UTC offset"))?;
        self.rest = &self.rest[6..];
        Ok(offset)
    }
}

/// Nanoseconds in each unit Go's `time.ParseDuration` knows.
const DURATION_UNITS: [(&str, u64); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),
    ("\u{3bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Parses a Go duration (`"1h30m"`, `"-1.5h"`, `"300ms"`) to nanoseconds,
/// with Go's error messages.
pub(crate) fn parse_go_duration(text: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", go_time_quote(text));
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let limit: u64 = 1 << 63;
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let (whole, fraction, scale, after) = duration_number(rest).ok_or_else(invalid)?;
        let unit_len = after
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(after.len());
        if unit_len == 0 {
            return Err(format!(
                "time: missing unit in duration {}",
                go_time_quote(text)
            ));
        }
        let unit = &after[..unit_len];
        let Some(&(_, nanos)) = DURATION_UNITS.iter().find(|(name, _)| *name == unit) else {
            return Err(format!(
                "time: unknown unit {} in duration {}",
                go_time_quote(unit),
                go_time_quote(text)
            ));
        };
        rest = &after[unit_len..];
        let mut value = whole
            .checked_mul(nanos)
            .filter(|&v| v <= limit)
            .ok_or_else(invalid)?;
        if fraction > 0 {
            value += (fraction as f64 * (nanos as f64 / scale)) as u64;
            if value > limit {
                return Err(invalid());
            }
        }
        total = total
            .checked_add(value)
            .filter(|&t| t <= limit)
            .ok_or_else(invalid)?;
    }
    if negative {
        Ok(0i64.wrapping_sub_unsigned(total))
    } else {
        i64::try_from(total).map_err(|_| invalid())
    }
}

/// Reads `digits[.digits]` at the start of `text`: the whole part, the
/// fraction digits as an integer with their scale, and the rest.
fn duration_number(text: &str) -> Option<(u64, u64, f64, &str)> {
    let int_len = text.bytes().take_while(u8::is_ascii_digit).count();
    let mut whole: u64 = 0;
    for b in text[..int_len].bytes() {
        whole = whole.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        if whole > 1 << 63 {
            return None;
        }
    }
    let mut rest = &text[int_len..];
    let (mut fraction, mut scale, mut frac_len) = (0u64, 1f64, 0);
    if let Some(after_point) = rest.strip_prefix('.') {
        frac_len = after_point.bytes().take_while(u8::is_ascii_digit).count();
        let mut overflowed = false;
        for b in after_point[..frac_len].bytes() {
            match fraction
                .checked_mul(10)
                .and_then(|f| f.checked_add(u64::from(b - b'0')))
            {
                Some(f) if !overflowed && f <= 1 << 63 => {
                    fraction = f;
                    scale *= 10.0;
                }
                _ => overflowed = true,
            }
        }
        rest = &after_point[frac_len..];
    }
    if int_len == 0 && frac_len == 0 {
        return None;
    }
    Some((whole, fraction, scale, rest))
}

/// Quotes text as Go's `time` package does in its errors.
fn go_time_quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        if c.is_ascii() && c >= ' ' {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{call, s};
    use super::*;

    fn fmt(format: &str, t: &str) -> FuncResult {
        call(formatdate, vec![s(format), s(t)])
    }

    #[test]
    fn formatdate_letters() {
        let t = "2018-01-02T23:12:01Z";
        assert_eq!(
            fmt("DD MMM YYYY hh:mm ZZZ", t),
            Ok(s("02 Jan 2018 23:12 UTC"))
        );
        assert_eq!(
            fmt("EEEE, DD-MMM-YY hh:mm:ss ZZZ", t),
            Ok(s("Tuesday, 02-Jan-18 23:12:01 UTC"))
        );
        assert_eq!(
            fmt("EEE, DD MMM YYYY hh:mm:ss ZZZ", "2018-01-02T23:12:01-08:00"),
            Ok(s("Tue, 02 Jan 2018 23:12:01 -0800"))
        );
        assert_eq!(fmt("MMM DD, YYYY", t), Ok(s("Jan 02, 2018")));
        assert_eq!(fmt("HH:mmaa", t), Ok(s("11:12pm")));
        assert_eq!(fmt("H:mm AA", "2018-01-02T00:05:00Z"), Ok(s("12:05 AM")));
        assert_eq!(fmt("M/D h:m:s", "2018-03-04T05:06:07Z"), Ok(s("3/4 5:6:7")));
        assert_eq!(fmt("MMMM", t), Ok(s("January")));
        assert_eq!(
            fmt("Z|ZZZZ|ZZZZZ", "2018-01-02T23:12:01+05:30"),
            Ok(s("+05:30|+0530|+05:30"))
        );
        assert_eq!(fmt("Z ZZZZ", t), Ok(s("Z +0000")));
        assert_eq!(fmt("'Day' D 'o''clock' ''", t), Ok(s("Day 2 o'clock '")));
        assert_eq!(
            fmt("YYYY-MM-DD", "2018-01-02T23:12:01.999Z"),
            Ok(s("2018-01-02"))
        );
        assert_eq!(fmt("", t), Ok(s("")));
        assert_eq!(
            fmt("EEE, MMM D ''YY", "2006-01-02T15:04:05Z"),
            Ok(s("Mon, Jan 2 '06"))
        );
        assert_eq!(
            fmt("H 'o''clock' AA", "2006-01-02T15:04:05Z"),
            Ok(s("3 o'clock PM"))
        );
        assert_eq!(
            fmt("hh:mm:ssZZZZZ", "2006-01-02T15:04:05Z"),
            Ok(s("15:04:05+00:00"))
        );
    }

    #[test]
    fn formatdate_errors() {
        let t = "2018-01-02T23:12:01Z";
        assert_eq!(
            fmt("YYY", t),
            Err("Invalid value for \"format\" parameter: invalid date format verb \"YYY\": year must either be \"YY\" or \"YYYY\"".to_owned())
        );
        assert_eq!(
            fmt("x", t),
            Err(
                "Invalid value for \"format\" parameter: invalid date format verb \"x\"".to_owned()
            )
        );
        assert_eq!(
            fmt("'abc", t),
            Err("Invalid value for \"format\" parameter: unterminated literal '".to_owned())
        );
        assert_eq!(
            fmt("'", t),
            Err("Invalid value for \"format\" parameter: unterminated literal '".to_owned())
        );
        assert_eq!(
            fmt("a", t),
            Err("Invalid value for \"format\" parameter: invalid date format verb \"a\": must be \"aa\"".to_owned())
        );
        assert_eq!(
            fmt("YYYY", "2018-01-02"),
            Err("Invalid value for \"time\" parameter: not a valid RFC3339 timestamp: missing required time introducer 'T'".to_owned())
        );
        assert_eq!(
            fmt("YYYY", "foo"),
            Err("Invalid value for \"time\" parameter: not a valid RFC3339 timestamp: cannot use \"foo\" as year".to_owned())
        );
        assert_eq!(
            fmt("YYYY", "2018-02-30T00:00:00Z"),
            Err("Invalid value for \"time\" parameter: not a valid RFC3339 timestamp: day out of range".to_owned())
        );
        assert_eq!(
            fmt("YYYY", "2018-01-02T00:00:00"),
            Err("Invalid value for \"time\" parameter: not a valid RFC3339 timestamp: end of string before UTC offset".to_owned())
        );
        assert_eq!(
            fmt("YYYY", "2018-01-02T00:00:00Zjunk"),
            Err("Invalid value for \"time\" parameter: not a valid RFC3339 timestamp: cannot use \"junk\" as timestamp segment".to_owned())
        );
        let parse_error = |t: &str| {
            fmt("", t)
                .unwrap_err()
                .trim_start_matches(
                    "Invalid value for \"time\" parameter: not a valid RFC3339 timestamp: ",
                )
                .to_owned()
        };
        assert_eq!(parse_error(""), "end of string before year");
        assert_eq!(
            parse_error("2017:01:02"),
            "found \":01:02\" where \"-\" is expected"
        );
        assert_eq!(parse_error("2017"), "end of string where \"-\" is expected");
        assert_eq!(parse_error("2017-01-02T"), "end of string before hour");
        assert_eq!(
            parse_error("2017-01-02T00"),
            "end of string where \":\" is expected"
        );
        assert_eq!(
            parse_error("2017-01-02T26:00:00Z"),
            "cannot use \":00:00Z\" as hour"
        );
        assert_eq!(
            parse_error("2017-13-02T00:00:00Z"),
            "cannot use \"-02T00:00:00Z\" as month"
        );
        assert_eq!(
            parse_error("2017-1-02T00:00:00Z"),
            "cannot use \"1-02T00:00:00Z\" as month"
        );
        assert_eq!(
            parse_error("\"2017-12-02T00:00:00Z\""),
            "cannot use \"\\\"2017-12-02T00:00:00Z\\\"\" as year"
        );
        assert_eq!(
            parse_error("2-12-02T00:00:00Z"),
            "cannot use \"-02T00:00:00Z\" as year"
        );
        assert_eq!(
            parse_error("2017-12-02t00:00:00Z"),
            "missing required time introducer 'T'"
        );
        assert!(fmt("YYYY", "2018-01-02T24:00:00Z")
            .unwrap_err()
            .contains("as hour"));
        assert!(fmt("YYYY", "2018-01-02 00:00:00Z")
            .unwrap_err()
            .contains("'T'"));
    }

    #[test]
    fn timeadd_moves_time() {
        let add = |t: &str, d: &str| call(timeadd, vec![s(t), s(d)]);
        assert_eq!(
            add("2017-11-22T00:00:00Z", "10m"),
            Ok(s("2017-11-22T00:10:00Z"))
        );
        assert_eq!(
            add("2017-11-22T00:00:00Z", "-1h30m"),
            Ok(s("2017-11-21T22:30:00Z"))
        );
        assert_eq!(
            add("2017-11-22T00:00:00+02:00", "1.5h"),
            Ok(s("2017-11-22T01:30:00+02:00"))
        );
        assert_eq!(
            add("2017-11-22T00:00:00.5Z", "500ms"),
            Ok(s("2017-11-22T00:00:01Z"))
        );
        assert_eq!(
            add("2017-11-22T00:00:00+00:00", "0"),
            Ok(s("2017-11-22T00:00:00Z"))
        );
        assert_eq!(
            add("2020-02-28T12:00:00Z", "24h"),
            Ok(s("2020-02-29T12:00:00Z"))
        );
        assert_eq!(
            add("2017-11-22T00:00:00Z", "1d"),
            Err("time: unknown unit \"d\" in duration \"1d\"".to_owned())
        );
        assert_eq!(
            add("2017-11-22T00:00:00Z", "10"),
            Err("time: missing unit in duration \"10\"".to_owned())
        );
        assert_eq!(
            add("2017-11-22T00:00:00Z", ""),
            Err("time: invalid duration \"\"".to_owned())
        );
        assert_eq!(
            add("2017-11-22T00:00:00Z", "h"),
            Err("time: invalid duration \"h\"".to_owned())
        );
        assert!(add("bad", "1h")
            .unwrap_err()
            .starts_with("not a valid RFC3339 timestamp"));
    }

    #[test]
    fn durations_like_go() {
        assert_eq!(parse_go_duration("1h2m3s4ms5us6ns"), Ok(3_723_004_005_006));
        assert_eq!(parse_go_duration("1\u{b5}s"), Ok(1000));
        assert_eq!(parse_go_duration(".5s"), Ok(500_000_000));
        assert_eq!(parse_go_duration("-0"), Ok(0));
        assert_eq!(parse_go_duration("2562047h47m16.854775807s"), Ok(i64::MAX));
        assert!(parse_go_duration("2562048h").is_err());
        assert!(parse_go_duration("1 h")
            .unwrap_err()
            .contains("unknown unit \" h\""));
        assert!(parse_go_duration(".s").is_err());
    }
}
