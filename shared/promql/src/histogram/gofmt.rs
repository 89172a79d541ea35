//! Histograms as text the way upstream prints them: `String()` (the label value of
//! `count_values`) and the `{{...}}` notation of Prometheus's test scripts.

use super::{CounterResetHint, FloatHistogram, HistBucket};

/// A float as Go's `%g` (and `%v`) print it: the shortest digits that round-trip, in
/// exponent form (`1e+06`, `1.5e-05`) for exponents below -4 or from 6 up; `+Inf`, `-Inf`,
/// `NaN`.
pub(super) fn go_g(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    // Rust's `{:e}` gives the same shortest digits: "-1.2345e-7", "0e0".
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::from(sign);
    if !(-4..6).contains(&exp) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push_str(&format!(
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        ));
    } else if exp < 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat((-exp - 1) as usize));
        out.push_str(&digits);
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.push_str(&digits);
            out.push_str(&"0".repeat(int_len - digits.len()));
        } else {
            out.push_str(&digits[..int_len]);
            out.push('.');
            out.push_str(&digits[int_len..]);
        }
    }
    out
}

/// A bucket as upstream's `Bucket.String()`: `(lower,upper]:count` with brackets for
/// inclusive bounds.
fn bucket_string(b: &HistBucket) -> String {
    format!(
        "{}{},{}{}:{}",
        if b.lower_inclusive { '[' } else { '(' },
        go_g(b.lower),
        go_g(b.upper),
        if b.upper_inclusive { ']' } else { ')' },
        go_g(b.count)
    )
}

impl FloatHistogram {
    /// The histogram as upstream's `FloatHistogram.String()`, e.g.
    /// `{count:5, sum:12.5, [-4,-2):1, [-0.01,0.01]:1, (1,2]:3}`: count, sum, then the
    /// populated buckets from the most negative up. `count_values` uses it as label value.
    pub fn go_string(&self) -> String {
        let mut out = format!("{{count:{}, sum:{}", go_g(self.count), go_g(self.sum));
        let mut parts: Vec<String> = Vec::new();
        if !self.uses_custom_buckets() {
            let negative: Vec<HistBucket> = self
                .side_buckets(false)
                .filter(|b| b.count != 0.0)
                .collect();
            parts.extend(negative.iter().rev().map(bucket_string));
            if self.zero_count != 0.0 {
                parts.extend(self.zero_bucket().as_ref().map(bucket_string));
            }
        }
        parts.extend(
            self.side_buckets(true)
                .filter(|b| b.count != 0.0)
                .map(|b| bucket_string(&b)),
        );
        for p in parts {
            out.push_str(", ");
            out.push_str(&p);
        }
        out.push('}');
        out
    }

    /// The histogram in the notation of Prometheus's test scripts (upstream's
    /// `TestExpression`), e.g. `{{schema:1 count:3 sum:4 offset:1 buckets:[1 2]}}`, after
    /// compacting each side into one span.
    pub fn test_expression(&self) -> String {
        let mut m = self.go_copy();
        m.compact(usize::MAX);
        let list = |values: &[f64]| {
            values
                .iter()
                .map(|v| go_g(*v))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut res: Vec<String> = Vec::new();
        if m.schema != 0 {
            res.push(format!("schema:{}", m.schema));
        }
        if m.count != 0.0 {
            res.push(format!("count:{}", go_g(m.count)));
        }
        if m.sum != 0.0 {
            res.push(format!("sum:{}", go_g(m.sum)));
        }
        if m.zero_count != 0.0 {
            res.push(format!("z_bucket:{}", go_g(m.zero_count)));
        }
        if m.zero_threshold != 0.0 {
            res.push(format!("z_bucket_w:{}", go_g(m.zero_threshold)));
        }
        if m.uses_custom_buckets() {
            res.push(format!("custom_values:[{}]", list(&m.custom_values)));
        }
        match m.counter_reset_hint {
            CounterResetHint::Unknown => {}
            CounterResetHint::CounterReset => res.push("counter_reset_hint:reset".into()),
            CounterResetHint::NotCounterReset => res.push("counter_reset_hint:not_reset".into()),
            CounterResetHint::Gauge => res.push("counter_reset_hint:gauge".into()),
        }
        for (spans, buckets, offset_key, buckets_key) in [
            (&m.positive_spans, &m.positive_buckets, "offset", "buckets"),
            (
                &m.negative_spans,
                &m.negative_buckets,
                "n_offset",
                "n_buckets",
            ),
        ] {
            for (offset, _) in spans {
                if *offset != 0 {
                    res.push(format!("{offset_key}:{offset}"));
                }
            }
            if !buckets.is_empty() {
                res.push(format!("{buckets_key}:[{}]", list(buckets)));
            }
        }
        format!("{{{{{}}}}}", res.join(" "))
    }
}
