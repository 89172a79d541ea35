//! Go-compatible formatting helpers: `strconv.FormatFloat`/`%g`, `strconv.Quote`,
//! `time.Time.String`/`Format` (UTC only) and `time.Duration.String`.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Timelike};

/// Formats a float the way Go's `fmt` prints a `float64` with `%v`
/// (`strconv.FormatFloat(f, 'g', -1, 64)`): `1`, `0.5`, `1.234567e+06`, `1e-05`,
/// `+Inf`, `-Inf`, `NaN`.
pub fn format_float(v: f64) -> String {
    format_g(v, None)
}

/// Go's `%g` (`prec = None`, shortest representation) or `%.<prec>g`.
pub(crate) fn format_g(v: f64, prec: Option<usize>) -> String {
    if v.is_nan() {
        return "NaN".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let neg = v.is_sign_negative();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if v == 0.0 {
        out.push('0');
        return out;
    }
    let prec = prec.map(|p| p.max(1));
    let (digits, exp) = decimal_digits(v.abs(), prec);
    let nd = digits.len() as i64;
    let dp = i64::from(exp) + 1;
    let eprec = match prec {
        None => 6,
        Some(p) => {
            let p = p as i64;
            if p > nd && nd >= dp { nd } else { p }
        }
    };
    let exp = i64::from(exp);
    if exp < -4 || exp >= eprec {
        // %e with the significant digits we have (trailing zeros already removed).
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let _ = write!(out, "{:02}", exp.abs());
    } else {
        // %f with max(nd - dp, 0) decimals.
        let bytes = digits.as_bytes();
        let digit_at = |i: i64| -> char {
            if i >= 0 && i < nd {
                char::from(bytes[i as usize])
            } else {
                '0'
            }
        };
        if dp > 0 {
            for i in 0..dp {
                out.push(digit_at(i));
            }
        } else {
            out.push('0');
        }
        let decimals = (nd - dp).max(0);
        if decimals > 0 {
            out.push('.');
            for i in 0..decimals {
                out.push(digit_at(dp + i));
            }
        }
    }
    out
}

/// Significant decimal digits of a finite positive `v` (without trailing zeros)
/// and its decimal exponent, either shortest round-trip or rounded to `prec` digits.
fn decimal_digits(v: f64, prec: Option<usize>) -> (String, i32) {
    let raw = match prec {
        None => format!("{v:e}"),
        Some(p) => format!("{:.*e}", p - 1, v),
    };
    let (mantissa, exp) = raw.split_once('e').unwrap_or((raw.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    (digits, exp)
}

/// Go's `strconv.Quote` (close enough for error messages, node strings and label sets).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

const NANOS_PER_SEC: i64 = 1_000_000_000;

/// Go's `time.Duration.String()` for a duration in nanoseconds.
pub(crate) fn duration_string(d: i64) -> String {
    let neg = d < 0;
    let u = d.unsigned_abs();
    let mut out = String::new();
    if u < NANOS_PER_SEC as u64 {
        let (prec, unit) = match u {
            0 => return "0s".to_owned(),
            1..=999 => (0, "ns"),
            1_000..=999_999 => (3, "µs"),
            _ => (6, "ms"),
        };
        out.push_str(&frac_string(u, prec));
        out.push_str(unit);
    } else {
        let secs = u / NANOS_PER_SEC as u64;
        let frac = frac_string(u, 9);
        let frac = frac.split_once('.').map(|(_, f)| f).unwrap_or("");
        let (minutes, s) = (secs / 60, secs % 60);
        let (hours, m) = (minutes / 60, minutes % 60);
        if hours > 0 {
            let _ = write!(out, "{hours}h");
        }
        if minutes > 0 {
            let _ = write!(out, "{m}m");
        }
        let _ = write!(out, "{s}");
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        out.push('s');
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

/// `v / 10^prec` printed with the fraction's trailing zeros (and a bare dot) removed.
fn frac_string(v: u64, prec: u32) -> String {
    let div = 10u64.pow(prec);
    let (int, frac) = (v / div, v % div);
    let mut out = int.to_string();
    if prec > 0 && frac != 0 {
        let f = format!("{:0width$}", frac, width = prec as usize);
        out.push('.');
        out.push_str(f.trim_end_matches('0'));
    }
    out
}

/// Go's `time.Time.String()` for a UTC time given in nanoseconds since the epoch.
pub(crate) fn time_string(unix_nanos: i64) -> String {
    format_time(unix_nanos, "2006-01-02 15:04:05.999999999 -0700 MST")
}

const LONG_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// English month name (`time.Month.String`), 1-based.
pub(crate) fn month_name(month: u32) -> &'static str {
    LONG_MONTHS
        .get((month as usize).wrapping_sub(1))
        .copied()
        .unwrap_or("%!Month")
}

/// English weekday name (`time.Weekday.String`), 0 = Sunday.
pub(crate) fn weekday_name(day: u32) -> &'static str {
    LONG_DAYS.get(day as usize).copied().unwrap_or("%!Weekday")
}

/// Broken-down UTC time.
pub(crate) struct Civil {
    pub(crate) year: i32,
    pub(crate) month: u32,
    pub(crate) day: u32,
    pub(crate) hour: u32,
    pub(crate) minute: u32,
    pub(crate) second: u32,
    pub(crate) nanos: u32,
    pub(crate) weekday: u32,
    pub(crate) yday: u32,
}

pub(crate) fn civil(unix_nanos: i64) -> Civil {
    let (secs, nanos) = if unix_nanos == GO_ZERO_TIME {
        (GO_ZERO_TIME_SECS, 0)
    } else {
        (
            unix_nanos.div_euclid(NANOS_PER_SEC),
            unix_nanos.rem_euclid(NANOS_PER_SEC) as u32,
        )
    };
    let dt = DateTime::from_timestamp(secs, nanos).unwrap_or_default();
    Civil {
        year: dt.year(),
        month: dt.month(),
        day: dt.day(),
        hour: dt.hour(),
        minute: dt.minute(),
        second: dt.second(),
        nanos,
        weekday: dt.weekday().num_days_from_sunday(),
        yday: dt.ordinal(),
    }
}

/// Stands for Go's zero `time.Time` (0001-01-01 00:00:00 UTC), which is outside the range of
/// nanoseconds since the epoch in an `i64`.
pub(crate) const GO_ZERO_TIME: i64 = i64::MIN;
const GO_ZERO_TIME_SECS: i64 = -62_135_596_800;

/// Go's `time.Time.Format(layout)` for a UTC time.
pub(crate) fn format_time(unix_nanos: i64, layout: &str) -> String {
    let t = civil(unix_nanos);
    let mut out = String::with_capacity(layout.len() + 10);
    let mut rest = layout;
    while !rest.is_empty() {
        let Some((chunk_len, std)) = next_std(rest) else {
            out.push_str(rest);
            break;
        };
        let (prefix, tail) = rest.split_at(chunk_len.0);
        out.push_str(prefix);
        let (_, after) = tail.split_at(chunk_len.1);
        rest = after;
        write_std(&mut out, &t, std);
    }
    out
}

#[derive(Clone, Copy)]
enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    Pm(bool),
    Tz,
    /// Numeric zone; `z` = print `Z` for UTC; the text is the UTC rendering.
    NumTz(bool, &'static str),
    /// Fractional seconds: separator, digits, trim trailing zeros.
    Frac(char, usize, bool),
}

/// Finds the next layout element: returns ((prefix length, element length), element).
fn next_std(layout: &str) -> Option<((usize, usize), Std)> {
    let b = layout.as_bytes();
    let has = |i: usize, s: &str| layout.get(i..).is_some_and(|r| r.starts_with(s));
    for i in 0..b.len() {
        let found = match b[i] {
            b'J' if has(i, "January") => Some((7, Std::LongMonth)),
            b'J' if has(i, "Jan") => Some((3, Std::Month)),
            b'M' if has(i, "Monday") => Some((6, Std::LongWeekDay)),
            b'M' if has(i, "Mon") => Some((3, Std::WeekDay)),
            b'M' if has(i, "MST") => Some((3, Std::Tz)),
            b'0' if has(i, "002") => Some((3, Std::ZeroYearDay)),
            b'0' => match b.get(i + 1) {
                Some(b'1') => Some((2, Std::ZeroMonth)),
                Some(b'2') => Some((2, Std::ZeroDay)),
                Some(b'3') => Some((2, Std::ZeroHour12)),
                Some(b'4') => Some((2, Std::ZeroMinute)),
                Some(b'5') => Some((2, Std::ZeroSecond)),
                Some(b'6') => Some((2, Std::Year)),
                _ => None,
            },
            b'1' if has(i, "15") => Some((2, Std::Hour)),
            b'1' => Some((1, Std::NumMonth)),
            b'2' if has(i, "2006") => Some((4, Std::LongYear)),
            b'2' => Some((1, Std::Day)),
            b'_' if has(i, "_2006") => {
                // "_" is literal, followed by a long year.
                return Some(((i + 1, 4), Std::LongYear));
            }
            b'_' if has(i, "__2") => Some((3, Std::UnderYearDay)),
            b'_' if has(i, "_2") => Some((2, Std::UnderDay)),
            b'3' => Some((1, Std::Hour12)),
            b'4' => Some((1, Std::Minute)),
            b'5' => Some((1, Std::Second)),
            b'P' if has(i, "PM") => Some((2, Std::Pm(true))),
            b'p' if has(i, "pm") => Some((2, Std::Pm(false))),
            b'-' | b'Z' => {
                let z = b[i] == b'Z';
                [
                    ("070000", "+000000"),
                    ("07:00:00", "+00:00:00"),
                    ("0700", "+0000"),
                    ("07:00", "+00:00"),
                    ("07", "+00"),
                ]
                .iter()
                .find(|(pat, _)| has(i + 1, pat))
                .map(|(pat, utc)| (pat.len() + 1, Std::NumTz(z, utc)))
            }
            b'.' | b',' if matches!(b.get(i + 1), Some(b'0' | b'9')) => {
                let ch = b[i + 1];
                let mut j = i + 1;
                while j < b.len() && b[j] == ch {
                    j += 1;
                }
                if b.get(j).is_some_and(u8::is_ascii_digit) {
                    None
                } else {
                    Some((j - i, Std::Frac(char::from(b[i]), j - i - 1, ch == b'9')))
                }
            }
            _ => None,
        };
        if let Some((len, std)) = found {
            return Some(((i, len), std));
        }
    }
    None
}

fn write_std(out: &mut String, t: &Civil, std: Std) {
    let hour12 = match t.hour % 12 {
        0 => 12,
        h => h,
    };
    let _ = match std {
        Std::LongMonth => write!(out, "{}", month_name(t.month)),
        Std::Month => write!(out, "{}", &month_name(t.month)[..3]),
        Std::NumMonth => write!(out, "{}", t.month),
        Std::ZeroMonth => write!(out, "{:02}", t.month),
        Std::LongWeekDay => write!(out, "{}", weekday_name(t.weekday)),
        Std::WeekDay => write!(out, "{}", &weekday_name(t.weekday)[..3]),
        Std::Day => write!(out, "{}", t.day),
        Std::UnderDay => write!(out, "{:>2}", t.day),
        Std::ZeroDay => write!(out, "{:02}", t.day),
        Std::UnderYearDay => write!(out, "{:>3}", t.yday),
        Std::ZeroYearDay => write!(out, "{:03}", t.yday),
        Std::Hour => write!(out, "{:02}", t.hour),
        Std::Hour12 => write!(out, "{hour12}"),
        Std::ZeroHour12 => write!(out, "{hour12:02}"),
        Std::Minute => write!(out, "{}", t.minute),
        Std::ZeroMinute => write!(out, "{:02}", t.minute),
        Std::Second => write!(out, "{}", t.second),
        Std::ZeroSecond => write!(out, "{:02}", t.second),
        Std::LongYear => {
            if t.year < 0 {
                write!(out, "-{:04}", -i64::from(t.year))
            } else {
                write!(out, "{:04}", t.year)
            }
        }
        Std::Year => write!(out, "{:02}", t.year.rem_euclid(100)),
        Std::Pm(upper) => {
            let s = match (t.hour >= 12, upper) {
                (true, true) => "PM",
                (true, false) => "pm",
                (false, true) => "AM",
                (false, false) => "am",
            };
            write!(out, "{s}")
        }
        Std::Tz => write!(out, "UTC"),
        Std::NumTz(z, utc) => write!(out, "{}", if z { "Z" } else { utc }),
        Std::Frac(sep, n, trim) => {
            let digits = format!("{:09}", t.nanos);
            let mut d = &digits[..n.min(9)];
            if trim {
                d = d.trim_end_matches('0');
            }
            if d.is_empty() {
                Ok(())
            } else {
                write!(out, "{sep}{d}")
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_like_go() {
        let cases: [(f64, &str); 16] = [
            (1.0, "1"),
            (0.5, "0.5"),
            (0.123456789, "0.123456789"),
            (1234567.0, "1.234567e+06"),
            (1e6, "1e+06"),
            (100000.0, "100000"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1353755652.0, "1.353755652e+09"),
            (-2.5, "-2.5"),
            (0.0, "0"),
            (-0.0, "-0"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (f64::NAN, "NaN"),
            (1e21, "1e+21"),
        ];
        for (v, want) in cases {
            assert_eq!(format_float(v), want, "{v}");
        }
        assert_eq!(format_g(1234.5, Some(4)), "1234");
        assert_eq!(format_g(120.0, Some(4)), "120");
        assert_eq!(format_g(123456700.0, Some(4)), "1.235e+08");
        assert_eq!(format_g(0.00001234, Some(4)), "1.234e-05");
        assert_eq!(format_g(1.0, Some(4)), "1");
    }

    #[test]
    fn durations_like_go() {
        assert_eq!(duration_string(1800 * NANOS_PER_SEC), "30m0s");
        assert_eq!(duration_string(0), "0s");
        assert_eq!(duration_string(1), "1ns");
        assert_eq!(duration_string(1_500), "1.5µs");
        assert_eq!(duration_string(1_500_000), "1.5ms");
        assert_eq!(duration_string(-90 * NANOS_PER_SEC), "-1m30s");
        assert_eq!(duration_string(3_723_500_000_000), "1h2m3.5s");
    }

    #[test]
    fn time_format_like_go() {
        let t = 1_353_755_652 * NANOS_PER_SEC;
        assert_eq!(
            format_time(t, "Mon Jan 2 15:04:05 2006"),
            "Sat Nov 24 11:14:12 2012"
        );
        assert_eq!(
            time_string(t + 128_000_000),
            "2012-11-24 11:14:12.128 +0000 UTC"
        );
        assert_eq!(
            format_time(t, "2006-01-02T15:04:05.000Z07:00 pm _2 002"),
            "2012-11-24T11:14:12.000Z am 24 329"
        );
        assert_eq!(
            format_time(-NANOS_PER_SEC, "2006-01-02 15:04:05"),
            "1969-12-31 23:59:59"
        );
    }
}
