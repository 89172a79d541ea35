//! Floats as Go's `strconv.FormatFloat(v, 'f', -1, 64)` writes them, which is how Prometheus
//! writes sample values, `count_values` labels and annotations.
//!
//! Why ryu: it finds the shortest round-trip digits with Go's tie rule in a fraction of
//! `core::fmt`'s time (formatting was 7 % of a small query's CPU).

/// `v` as Prometheus writes it: `NaN`, `+Inf`, `-Inf`, or plain decimal digits.
pub fn go_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v == f64::INFINITY {
        "+Inf".into()
    } else if v == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        let mut out = String::new();
        write_finite(&mut out, v);
        out
    }
}

/// Appends finite `v` as Go's `strconv.FormatFloat(v, 'f', -1, 64)` writes it (Prometheus's
/// sample format): the shortest digits that parse back to `v`, the closest of them, ties to
/// even, and never an exponent. ryu finds those digits (as Go does, and unlike `core::fmt`,
/// which rounds such ties up) in a fraction of `core::fmt`'s time; outside 1e-5..1e16 it
/// writes an exponent, which is expanded here.
pub fn write_finite(out: &mut String, v: f64) {
    let mut buf = ryu::Buffer::new();
    let s = buf.format_finite(v);
    let Some((mantissa, exponent)) = s.split_once('e') else {
        out.push_str(s.strip_suffix(".0").unwrap_or(s));
        return;
    };
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = [int_part, frac_part].concat();
    // Position of the decimal point in `digits`.
    let point = int_part.len() as i64 + exponent.parse::<i64>().unwrap_or(0);
    out.push_str(sign);
    if point <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', point.unsigned_abs() as usize));
        out.push_str(&digits);
    } else if point as usize >= digits.len() {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', point as usize - digits.len()));
    } else {
        out.push_str(&digits[..point as usize]);
        out.push('.');
        out.push_str(&digits[point as usize..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every finite value prints in plain notation as the shortest digits that parse back to
    /// it, the same as `core::fmt` except where two candidates are equally close, where Go
    /// (and so Prometheus) takes the even one. Boundary values, then a reproducible walk over
    /// all exponents and mantissas.
    #[test]
    fn floats_print_as_go_formats_them() {
        let cases = [
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (-2.5, "-2.5"),
            (0.1, "0.1"),
            (1e-5, "0.00001"),
            (1.5e-7, "0.00000015"),
            (1e16, "10000000000000000"),
            (1.25e21, "1250000000000000000000"),
            (123_456.789, "123456.789"),
            // 1658206780088562.25 exactly: .2 and .3 are equally close; Go takes the even .2.
            (f64::from_bits(0x4317_9085_685d_83c9), "1658206780088562.2"),
        ];
        let mut out = String::new();
        for (v, want) in cases {
            out.clear();
            write_finite(&mut out, v);
            assert_eq!(out, want);
        }
        let mut values = vec![f64::MAX, f64::MIN_POSITIVE, 5e-324, -1.7e-300, 9.999e-6];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            values.push(f64::from_bits(x));
        }
        for v in values.into_iter().filter(|v| v.is_finite()) {
            out.clear();
            write_finite(&mut out, v);
            let core = format!("{v}");
            assert_eq!(
                out.parse::<f64>().ok(),
                Some(v),
                "{out} for {:#x}",
                v.to_bits()
            );
            if out != core {
                // Only a tie between two shortest candidates may differ.
                assert_eq!(out.len(), core.len(), "{out} vs {core}");
            }
        }
    }

    #[test]
    fn specials() {
        assert_eq!(go_float(f64::NAN), "NaN");
        assert_eq!(go_float(f64::INFINITY), "+Inf");
        assert_eq!(go_float(f64::NEG_INFINITY), "-Inf");
        assert_eq!(go_float(2.5), "2.5");
    }
}
