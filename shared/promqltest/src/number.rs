//! Number parsing with Go's `strconv` semantics, which promqltest relies on in two places: a
//! series value or histogram field is `ParseInt(s, 0, 64)` falling back to `ParseFloat(s, 64)`, and
//! so is a bare scalar result line. That makes `010` an octal 8, allows `1_000`, reads `Inf` and
//! `NaN` case-insensitively, accepts hexadecimal floats such as `0x1p-2` (scalar lines only; the
//! series lexer never produces them), and rejects a float literal that overflows to infinity.

/// `ParseInt(s, 0, 64)` then `ParseFloat(s, 64)`, the way Prometheus reads numbers.
pub(crate) fn parse_go_number(s: &str) -> Option<f64> {
    if let Some(i) = parse_int_base0(s) {
        return Some(i as f64);
    }
    parse_float(s)
}

/// Go's `ParseInt(s, 0, 64)`: sign, base prefix (`0x`, `0o`, `0b`, or a leading `0` for octal) and
/// underscores between digits. `None` on any error, including overflow.
fn parse_int_base0(s: &str) -> Option<i64> {
    let (neg, body) = split_sign(s);
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(r) = lower.strip_prefix("0x") {
        (16, r, true)
    } else if let Some(r) = lower.strip_prefix("0o") {
        (8, r, true)
    } else if let Some(r) = lower.strip_prefix("0b") {
        (2, r, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..], true)
    } else {
        (10, lower.as_str(), false)
    };
    if !underscores_ok(digits, prefixed, radix == 16) {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    if clean.is_empty() {
        return None;
    }
    // Parse the magnitude as u64 so that i64::MIN is representable.
    let mag = u64::from_str_radix(&clean, radix).ok()?;
    if neg {
        if mag == 1u64 << 63 {
            Some(i64::MIN)
        } else {
            i64::try_from(mag).ok().map(|v| -v)
        }
    } else {
        i64::try_from(mag).ok()
    }
}

/// Go's `ParseFloat(s, 64)`: decimal (with underscores between digits), hexadecimal with a
/// mandatory `p` exponent, `inf`/`infinity` (signed) and `nan` (unsigned), case-insensitive.
/// A finite literal that rounds to infinity is an error, as in Go.
pub(crate) fn parse_float(s: &str) -> Option<f64> {
    let (neg, body) = split_sign(s);
    let sign = if neg { -1.0 } else { 1.0 };
    let lower = body.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return Some(sign * f64::INFINITY);
    }
    if lower == "nan" {
        // Go accepts NaN only without a sign.
        return (body.len() == s.len()).then_some(f64::NAN);
    }
    if let Some(hex) = lower.strip_prefix("0x") {
        return parse_hex_float(hex).map(|v| sign * v);
    }
    if !body
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-' | b'_'))
    {
        return None;
    }
    if !underscores_ok(body, false, false) {
        return None;
    }
    let clean: String = body.chars().filter(|c| *c != '_').collect();
    // Rust's grammar for these characters matches Go's; only the sign was split off.
    if clean.starts_with(['+', '-']) {
        return None;
    }
    let v: f64 = clean.parse().ok()?;
    if v.is_infinite() {
        return None; // Go reports ErrRange.
    }
    Some(sign * v)
}

/// Hexadecimal float mantissa `h[.h]` followed by `p[+-]d`, without the `0x` prefix.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = s.split_once('p')?;
    if !underscores_ok(mant, true, true) {
        return None;
    }
    let mant: String = mant.chars().filter(|c| *c != '_').collect();
    let (int_part, frac_part) = mant.split_once('.').unwrap_or((&mant, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let exp: i32 = exp.parse().ok()?;
    let mut value = 0.0f64;
    for c in int_part.chars().chain(frac_part.chars()) {
        value = value * 16.0 + f64::from(c.to_digit(16)?);
    }
    let frac_digits = i32::try_from(frac_part.len()).ok()?;
    let v = ldexp(value, exp.checked_sub(frac_digits.checked_mul(4)?)?);
    v.is_finite().then_some(v)
}

/// `x * 2^e` without intermediate overflow for exponents a float can represent.
pub(crate) fn ldexp(mut x: f64, mut e: i32) -> f64 {
    while e > 1000 {
        x *= 2f64.powi(1000);
        e -= 1000;
    }
    while e < -1000 {
        x *= 2f64.powi(-1000);
        e += 1000;
    }
    x * 2f64.powi(e)
}

fn split_sign(s: &str) -> (bool, &str) {
    if let Some(r) = s.strip_prefix('-') {
        (true, r)
    } else if let Some(r) = s.strip_prefix('+') {
        (false, r)
    } else {
        (false, s)
    }
}

/// Go's rule for `_` in number literals: each underscore sits between two digits (a base prefix
/// counts as a digit). `prefixed` says a base prefix was already stripped off `s`; `hex` makes
/// `a`-`f` digits too.
fn underscores_ok(s: &str, prefixed: bool, hex: bool) -> bool {
    // 'd' = last was a digit (or prefix), 'u' = underscore, 'o' = other / start.
    let mut saw = if prefixed { 'd' } else { 'o' };
    for c in s.chars() {
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = 'd';
        } else if c == '_' {
            if saw != 'd' {
                return false;
            }
            saw = 'u';
        } else {
            if saw == 'u' {
                return false;
            }
            saw = 'o';
        }
    }
    saw != 'u'
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn integers_follow_go_base_prefixes() {
        assert_eq!(parse_go_number("10"), Some(10.0));
        assert_eq!(parse_go_number("010"), Some(8.0));
        assert_eq!(parse_go_number("0x10"), Some(16.0));
        assert_eq!(parse_go_number("0x1"), Some(1.0));
        assert_eq!(parse_go_number("0b101"), Some(5.0));
        assert_eq!(parse_go_number("1_000"), Some(1000.0));
        assert_eq!(parse_go_number("-5"), Some(-5.0));
        // "08" is not octal; ParseFloat reads it as decimal.
        assert_eq!(parse_go_number("08"), Some(8.0));
    }

    #[test]
    fn floats_follow_go() {
        assert_eq!(parse_go_number("1.5e3"), Some(1500.0));
        assert_eq!(parse_go_number(".5"), Some(0.5));
        assert_eq!(parse_go_number("5."), Some(5.0));
        assert_eq!(parse_go_number("1_000.5"), Some(1000.5));
        assert_eq!(parse_go_number("Inf"), Some(f64::INFINITY));
        assert_eq!(parse_go_number("-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_go_number("+Infinity"), Some(f64::INFINITY));
        assert!(parse_go_number("NaN").unwrap().is_nan());
        assert_eq!(parse_go_number("0x1p-2"), Some(0.25));
        assert_eq!(parse_go_number("0x1.8p1"), Some(3.0));
        assert_eq!(parse_go_number("99999999999999999999"), Some(1e20));
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            "", "-", "1e", "e5", "1__0", "_1", "1_", "1e400", "1_e5", "-NaN", "0x1.8", "0xg",
            "1 2", "abc", "1.2.3", "--1",
        ] {
            assert!(parse_go_number(bad).is_none(), "{bad:?} should be rejected");
        }
    }
}
