//! Series descriptions: `metric{label="value"} <values>`, the notation of `load` blocks and of
//! expected results (Prometheus's `ParseSeriesDesc`, documented for `promtool test rules`).
//!
//! Values are separated by whitespace and expand as follows (`N` is a decimal count):
//! - `a` is one value; `a xN` without the space (`axN`) is `N+1` copies of `a`;
//! - `a+bxN` / `a-bxN` are `N+1` values starting at `a`, stepping by `b`;
//! - `_` is one missing value, `_xN` is `N` missing values (not `N+1`);
//! - `stale` is a staleness marker; `Inf`, `-Inf`, `NaN` and Go number literals are accepted
//!   (`010` is octal, `1_000` is allowed; hexadecimal is not, since `0x10` reads as `0` ten times
//!   more);
//! - `{{schema:0 sum:5 count:4 buckets:[1 2 1]}}` is a native histogram, `{{...}}xN` repeats it,
//!   and `{{a}}+{{b}}xN` / `{{a}}-{{b}}xN` add or subtract `b` `N` times.
//!
//! Labels use PromQL syntax: a metric name, then optionally `{name="value", ...}` with quoted
//! values (double, single or back quotes), quoted names (`{"some.metric", "a.b"="c"}`, a lone
//! quoted string being the metric name) and an optional trailing comma.

use crate::histogram::{CounterResetHint, TestHistogram};
use crate::number::parse_go_number;
use crate::quote::scan_promql_string;
use crate::{Labels, METRIC_NAME, PointValue, stale_nan};

/// Upper limit on the values one series line may expand to, so a typo such as `1x99999999999`
/// fails instead of exhausting memory. Upstream's corpus stays far below it.
pub(crate) const MAX_VALUES_PER_LINE: u64 = 10_000_000;

/// Keywords the PromQL lexer never reads as a metric name.
const RESERVED_NAMES: [&str; 8] = [
    "bool",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "atan2",
    "inf",
    "nan",
];

/// Parses one series description into its sorted labels and its expanded values (`None` for `_`).
pub(crate) fn parse_series_desc(line: &str) -> Result<(Labels, Vec<Option<PointValue>>), String> {
    let mut p = Parser { s: line, pos: 0 };
    let labels = p.metric()?;
    let mut values = Vec::new();
    loop {
        if p.eof() {
            break;
        }
        if !p.skip_space() {
            return Err(p.unexpected("whitespace before the next value"));
        }
        if p.eof() {
            break;
        }
        p.item(&mut values)?;
        if values.len() as u64 > MAX_VALUES_PER_LINE {
            return Err(format!(
                "more than {MAX_VALUES_PER_LINE} values in one series"
            ));
        }
    }
    Ok((labels, values))
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn is_alpha(b: u8) -> bool {
    b == b'_' || b.is_ascii_alphabetic()
}

fn is_alnum(b: u8) -> bool {
    is_alpha(b) || b.is_ascii_digit()
}

impl<'a> Parser<'a> {
    fn eof(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn peek_at(&self, n: usize) -> Option<u8> {
        self.s.as_bytes().get(self.pos + n).copied()
    }

    fn starts_with(&self, lit: &str) -> bool {
        self.s[self.pos..].starts_with(lit)
    }

    fn unexpected(&self, wanted: &str) -> String {
        match self.s[self.pos..].chars().next() {
            Some(c) => format!(
                "unexpected {c:?} at column {}, expected {wanted}",
                self.pos + 1
            ),
            None => format!("unexpected end of line, expected {wanted}"),
        }
    }

    fn expect(&mut self, lit: &str) -> Result<(), String> {
        if self.starts_with(lit) {
            self.pos += lit.len();
            Ok(())
        } else {
            Err(self.unexpected(&format!("{lit:?}")))
        }
    }

    /// Skips whitespace; true if there was any.
    fn skip_space(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
        }
        self.pos > start
    }

    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }

    // ---- labels ----

    fn metric(&mut self) -> Result<Labels, String> {
        let mut name = None;
        if self.peek().is_some_and(|b| is_alpha(b) || b == b':') {
            let word = self.take_while(|b| is_alnum(b) || b == b':');
            if RESERVED_NAMES.contains(&word.to_ascii_lowercase().as_str()) {
                return Err(format!("{word:?} is a keyword, not a metric name"));
            }
            name = Some(word.to_string());
        } else if self.peek() != Some(b'{') {
            return Err(self.unexpected("a metric name or a label set"));
        }
        let mut labels = if self.peek() == Some(b'{') {
            self.label_set()?
        } else {
            Vec::new()
        };
        if let Some(name) = name {
            // The name outside the braces wins, as in Prometheus's label builder.
            labels.retain(|(n, _)| n != METRIC_NAME);
            labels.push((METRIC_NAME.to_string(), name));
        }
        labels.sort();
        if let Some(w) = labels.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(format!("label {:?} given twice", w[0].0));
        }
        Ok(labels)
    }

    fn label_set(&mut self) -> Result<Labels, String> {
        self.expect("{")?;
        let mut labels = Vec::new();
        self.skip_space();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(labels);
        }
        loop {
            labels.push(self.label()?);
            self.skip_space();
            match self.peek() {
                Some(b',') => {
                    // A trailing comma may close the set.
                    self.pos += 1;
                    self.skip_space();
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        return Ok(labels);
                    }
                }
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(labels);
                }
                _ => return Err(self.unexpected("\",\" or \"}\"")),
            }
        }
    }

    fn label(&mut self) -> Result<(String, String), String> {
        match self.peek() {
            Some(b) if is_alpha(b) => {
                let name = self.take_while(is_alnum).to_string();
                self.skip_space();
                self.expect("=")?;
                self.skip_space();
                Ok((name, self.string()?))
            }
            Some(b'"' | b'\'' | b'`') => {
                let first = self.string()?;
                self.skip_space();
                if self.peek() == Some(b'=') {
                    self.pos += 1;
                    self.skip_space();
                    Ok((first, self.string()?))
                } else {
                    Ok((METRIC_NAME.to_string(), first))
                }
            }
            _ => Err(self.unexpected("a label name or \"}\"")),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        if !matches!(self.peek(), Some(b'"' | b'\'' | b'`')) {
            return Err(self.unexpected("a quoted string"));
        }
        let (value, end) = scan_promql_string(self.s, self.pos)?;
        self.pos = end;
        Ok(value)
    }

    // ---- values ----

    /// Scans a number token the way the PromQL lexer does in series descriptions and returns its
    /// text (`[.]d[d._eE]*`, with an exponent sign, no hexadecimal, and no letter after it except
    /// the repetition `x`).
    fn number_token(&mut self) -> Result<&'a str, String> {
        let start = self.pos;
        let bytes = self.s.as_bytes();
        let at = |i: usize| bytes.get(i).copied();
        let mut i = self.pos;
        if at(i) == Some(b'.') {
            i += 1;
        }
        if at(i).is_some_and(|b| b.is_ascii_digit()) {
            i += 1;
        }
        let (mut dot, mut exp) = (false, false);
        let bad = |i: usize| {
            format!(
                "bad number syntax: {:?}",
                &self.s[start..i.min(bytes.len())]
            )
        };
        while let Some(b) = at(i) {
            match b {
                b'.' => {
                    if dot {
                        return Err(bad(i + 1));
                    }
                    dot = true;
                    i += 1;
                    if matches!(at(i), Some(b'_' | b'.')) {
                        return Err(bad(i + 1));
                    }
                }
                b'e' | b'E' => {
                    if exp {
                        return Err(bad(i + 1));
                    }
                    exp = true;
                    i += 1;
                    if matches!(at(i), Some(b'+' | b'-')) {
                        i += 1;
                    }
                    if matches!(at(i), None | Some(b'.' | b'_' | b'e' | b'E')) {
                        return Err(bad(i + 1));
                    }
                }
                b'_' => {
                    i += 1;
                    if matches!(at(i), None | Some(b'.' | b'_' | b'e' | b'E')) {
                        return Err(bad(i + 1));
                    }
                }
                b'0'..=b'9' => i += 1,
                _ => break,
            }
        }
        if i == start {
            return Err(self.unexpected("a number"));
        }
        if at(i).is_some_and(|b| b != b'x' && is_alnum(b)) {
            return Err(bad(i + 1));
        }
        self.pos = i;
        Ok(&self.s[start..i])
    }

    /// A number token or an `Inf`/`NaN` word, unsigned.
    fn number(&mut self) -> Result<f64, String> {
        match self.peek() {
            Some(b)
                if b.is_ascii_digit()
                    || (b == b'.' && self.peek_at(1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let tok = self.number_token()?;
                parse_go_number(tok).ok_or_else(|| format!("error parsing number {tok:?}"))
            }
            Some(b) if is_alpha(b) => {
                let start = self.pos;
                let word = self.take_while(|b| is_alnum(b) || b == b':');
                match word.to_ascii_lowercase().as_str() {
                    "inf" => Ok(f64::INFINITY),
                    "nan" => Ok(f64::NAN),
                    _ => {
                        self.pos = start;
                        Err(self.unexpected("a number"))
                    }
                }
            }
            _ => Err(self.unexpected("a number")),
        }
    }

    /// `-`? then a number or `Inf`/`NaN`.
    fn signed_number(&mut self) -> Result<f64, String> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
            return Ok(-self.number()?);
        }
        self.number()
    }

    /// The repetition count after `x`: a plain decimal integer.
    fn repeat_count(&mut self) -> Result<u64, String> {
        self.expect("x")?;
        if !self.peek().is_some_and(|b| b.is_ascii_digit() || b == b'.') {
            return Err(self.unexpected("a repetition count"));
        }
        let tok = self.number_token()?;
        let n: u64 = tok
            .parse()
            .map_err(|_| format!("invalid repetition in series values: {tok:?}"))?;
        if n > MAX_VALUES_PER_LINE {
            return Err(format!("repetition count {n} is too large"));
        }
        Ok(n)
    }

    /// One whitespace-separated item, appended to `out` expanded.
    fn item(&mut self, out: &mut Vec<Option<PointValue>>) -> Result<(), String> {
        if self.starts_with("{{") {
            return self.histogram_item(out);
        }
        match self.peek() {
            Some(b'_') => {
                self.pos += 1;
                if self.peek() == Some(b'x') {
                    let n = self.repeat_count()?;
                    out.extend((0..n).map(|_| None));
                } else {
                    out.push(None);
                }
                return self.end_of_item();
            }
            Some(b'x') => return Err(self.unexpected("a value before the repetition")),
            _ => {}
        }
        let first = self.series_value()?;
        match self.peek() {
            Some(b'x') => {
                let n = self.repeat_count()?;
                out.extend((0..=n).map(|_| Some(PointValue::Float(first))));
            }
            Some(sign @ (b'+' | b'-')) => {
                self.pos += 1;
                let step = self.number()?;
                let step = if sign == b'-' { -step } else { step };
                let n = self.repeat_count()?;
                let mut v = first;
                for _ in 0..=n {
                    out.push(Some(PointValue::Float(v)));
                    v += step;
                }
            }
            _ => out.push(Some(PointValue::Float(first))),
        }
        self.end_of_item()
    }

    /// A single float value: `stale`, or an optionally signed number, `Inf` or `NaN`.
    fn series_value(&mut self) -> Result<f64, String> {
        match self.peek() {
            Some(sign @ (b'+' | b'-')) => {
                self.pos += 1;
                let v = self.number()?;
                Ok(if sign == b'-' { -v } else { v })
            }
            Some(b) if is_alpha(b) && b != b'x' => {
                let start = self.pos;
                let word = self.take_while(|b| is_alnum(b) || b == b':');
                if word == "stale" {
                    return Ok(stale_nan());
                }
                self.pos = start;
                self.number().map_err(|_| {
                    format!("unexpected {word:?} in series values, expected a number or \"stale\"")
                })
            }
            _ => self.number(),
        }
    }

    fn end_of_item(&self) -> Result<(), String> {
        match self.peek() {
            None => Ok(()),
            Some(b) if is_space(b) => Ok(()),
            Some(_) => Err(self.unexpected("whitespace between values")),
        }
    }

    fn histogram_item(&mut self, out: &mut Vec<Option<PointValue>>) -> Result<(), String> {
        let base = self.histogram()?;
        match self.peek() {
            Some(b'x') => {
                let n = self.repeat_count()?;
                out.extend((0..=n).map(|_| Some(PointValue::Histogram(base.clone()))));
            }
            Some(sign @ (b'+' | b'-')) => {
                self.pos += 1;
                if !self.starts_with("{{") {
                    return Err(self.unexpected("\"{{\""));
                }
                let inc = self.histogram()?;
                let n = self.repeat_count()?;
                // Upstream marks every value of the series with the increment's hint flag.
                let flag = inc.counter_reset_hint_set;
                let mut cur = base;
                cur.counter_reset_hint_set = flag;
                out.push(Some(PointValue::Histogram(cur.clone())));
                for _ in 0..n {
                    if cur.schema > inc.schema {
                        return Err(format!(
                            "error combining histograms: cannot merge from schema {} to {}",
                            inc.schema, cur.schema
                        ));
                    }
                    cur = cur.combine(&inc, sign == b'-')?;
                    cur.counter_reset_hint_set = flag;
                    out.push(Some(PointValue::Histogram(cur.clone())));
                }
            }
            _ => out.push(Some(PointValue::Histogram(base))),
        }
        self.end_of_item()
    }

    /// `{{key:value ...}}`.
    fn histogram(&mut self) -> Result<TestHistogram, String> {
        self.expect("{{")?;
        let mut h = TestHistogram::default();
        let mut seen: Vec<&str> = Vec::new();
        let (mut buckets, mut offset) = (None, 0i32);
        let (mut n_buckets, mut n_offset) = (None, 0i32);
        if self.skip_space() {
            self.expect("}}")?;
            return Ok(h);
        }
        while !self.starts_with("}}") {
            if !self.peek().is_some_and(is_alpha) {
                return Err(self.unexpected("a histogram description key, e.g. buckets:[5 10 7]"));
            }
            let key_start = self.pos;
            let key = self.take_while(is_alpha).to_ascii_lowercase();
            let key: &'static str = match key.as_str() {
                "schema" => "schema",
                "sum" => "sum",
                "count" => "count",
                "z_bucket" => "z_bucket",
                "z_bucket_w" => "z_bucket_w",
                "buckets" => "buckets",
                "offset" => "offset",
                "n_buckets" => "n_buckets",
                "n_offset" => "n_offset",
                "custom_values" => "custom_values",
                "counter_reset_hint" => "counter_reset_hint",
                _ => {
                    return Err(format!(
                        "bad histogram descriptor found: {:?}",
                        &self.s[key_start..self.pos]
                    ));
                }
            };
            if self.peek() != Some(b':') {
                return Err(format!("missing `:` for histogram descriptor {key:?}"));
            }
            self.pos += 1;
            if seen.contains(&key) {
                return Err(format!("duplicate key {key:?} in histogram"));
            }
            seen.push(key);
            match key {
                "schema" => h.schema = self.int()?,
                "sum" => h.sum = self.signed_number()?,
                "count" => h.count = self.signed_number()?,
                "z_bucket" => h.zero_count = self.signed_number()?,
                "z_bucket_w" => h.zero_threshold = self.number()?,
                "buckets" => buckets = Some(self.bucket_list()?),
                "offset" => offset = self.int()?,
                "n_buckets" => n_buckets = Some(self.bucket_list()?),
                "n_offset" => n_offset = self.int()?,
                "custom_values" => h.custom_values = self.bucket_list()?,
                _ => {
                    let word = self.take_while(is_alpha).to_ascii_lowercase();
                    h.counter_reset_hint = match word.as_str() {
                        "unknown" => CounterResetHint::Unknown,
                        "reset" => CounterResetHint::CounterReset,
                        "not_reset" => CounterResetHint::NotCounterReset,
                        "gauge" => CounterResetHint::Gauge,
                        _ => return Err(format!("invalid counter_reset_hint {word:?}")),
                    };
                    h.counter_reset_hint_set = true;
                }
            }
            if self.starts_with("}}") {
                break;
            }
            if !self.skip_space() {
                return Err(self.unexpected("whitespace or \"}}\" after a histogram field"));
            }
        }
        self.expect("}}")?;
        for (list, off, spans, dst) in [
            (
                buckets,
                offset,
                &mut h.positive_spans,
                &mut h.positive_buckets,
            ),
            (
                n_buckets,
                n_offset,
                &mut h.negative_spans,
                &mut h.negative_buckets,
            ),
        ] {
            if let Some(list) = list {
                let len = u32::try_from(list.len()).map_err(|_| "too many buckets".to_string())?;
                spans.push((off, len));
                *dst = list;
            }
        }
        Ok(h)
    }

    /// `-`? then a decimal integer (schema and offsets).
    fn int(&mut self) -> Result<i32, String> {
        let neg = self.peek() == Some(b'-');
        if neg {
            self.pos += 1;
        }
        if !self.peek().is_some_and(|b| b.is_ascii_digit() || b == b'.') {
            return Err(self.unexpected("an integer"));
        }
        let tok = self.number_token()?;
        let v: i64 = tok
            .parse()
            .map_err(|_| format!("invalid integer {tok:?}"))?;
        let v = if neg { -v } else { v };
        i32::try_from(v).map_err(|_| format!("integer {v} out of range"))
    }

    /// `[n n ...]`: at least one number, separated by single runs of whitespace.
    fn bucket_list(&mut self) -> Result<Vec<f64>, String> {
        self.expect("[")?;
        let mut out = Vec::new();
        loop {
            let neg = self.peek() == Some(b'-');
            if neg {
                // A minus must be followed by a number token (no -Inf here, as upstream).
                self.pos += 1;
                if !self.peek().is_some_and(|b| b.is_ascii_digit() || b == b'.') {
                    return Err(self.unexpected("a number"));
                }
            }
            let v = self.number()?;
            out.push(if neg { -v } else { v });
            let spaced = self.skip_space();
            if self.peek() == Some(b']') {
                self.pos += 1;
                return Ok(out);
            }
            if !spaced {
                return Err(self.unexpected("whitespace or \"]\""));
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::{STALE_NAN_BITS, is_stale_nan};

    fn floats(line: &str) -> Vec<Option<f64>> {
        let (_, vals) = parse_series_desc(line).unwrap();
        vals.into_iter()
            .map(|v| match v {
                None => None,
                Some(PointValue::Float(f)) => Some(f),
                Some(PointValue::Histogram(h)) => panic!("unexpected histogram {h}"),
            })
            .collect()
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn expands_value_sequences() {
        assert_eq!(floats("m 1 2 3"), vec![Some(1.0), Some(2.0), Some(3.0)]);
        assert_eq!(
            floats("m 0+10x3"),
            vec![Some(0.0), Some(10.0), Some(20.0), Some(30.0)]
        );
        assert_eq!(
            floats("m 1-1x3"),
            vec![Some(1.0), Some(0.0), Some(-1.0), Some(-2.0)]
        );
        assert_eq!(floats("m -2+1.5x1"), vec![Some(-2.0), Some(-0.5)]);
        assert_eq!(floats("m 5x2"), vec![Some(5.0); 3]);
        assert_eq!(floats("m 5x0"), vec![Some(5.0)]);
        assert_eq!(
            floats("m _ 1 _x3 2"),
            vec![None, Some(1.0), None, None, None, Some(2.0)]
        );
        assert_eq!(floats("m _x0 1"), vec![Some(1.0)]);
        assert_eq!(
            floats("m 1e3 .5 1_000 010"),
            vec![Some(1000.0), Some(0.5), Some(1000.0), Some(8.0)]
        );
        assert_eq!(
            floats("m Inf -Inf +inf"),
            vec![
                Some(f64::INFINITY),
                Some(f64::NEG_INFINITY),
                Some(f64::INFINITY)
            ]
        );
        assert_eq!(floats("m   1\t2  "), vec![Some(1.0), Some(2.0)]);
        assert_eq!(floats("m"), vec![]);
        // Hexadecimal is not allowed: 0x10 is zero repeated ten more times.
        assert_eq!(floats("m 0x10").len(), 11);
        let v = floats("m NaN stale");
        assert!(v[0].unwrap().is_nan() && !is_stale_nan(v[0].unwrap()));
        assert_eq!(v[1].unwrap().to_bits(), STALE_NAN_BITS);
    }

    #[test]
    fn rejects_malformed_values() {
        for bad in [
            "m 1x",
            "m x3",
            "m 1 x3",
            "m stalex3",
            "m Stale",
            "m foo",
            "m 1+2",
            "m 1x1.5",
            "m 1y",
            "m 1,2",
            "m 1x-3",
            "m -stale",
            "m 1+-1x2",
            "m 1..2",
            "m 1e",
            "m {{",
            "m {{schema:1",
            "m {{ schema:1}}",
            "m {{schema: 1}}",
            "m {{schema:1.5}}",
            "m {{foo:1}}",
            "m {{sum:1 sum:2}}",
            "m {{buckets:[]}}",
            "m {{buckets:[ 1]}}",
            "m {{counter_reset_hint:maybe}}",
            "m {{}}+{{}}",
            "m {{}}+1x2",
            "m {{sum:+1}}",
            "m 1x99999999999",
            "m{a=\"b\"}1",
        ] {
            assert!(
                parse_series_desc(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn parses_labels() {
        let (l, _) = parse_series_desc(r#"http_requests{job="api", instance='0',} 1"#).unwrap();
        assert_eq!(
            l,
            labels(&[
                ("__name__", "http_requests"),
                ("instance", "0"),
                ("job", "api")
            ])
        );
        let (l, _) = parse_series_desc(r#"{"some.metric", "a.b"="c\n", d=`e\n`} 1"#).unwrap();
        assert_eq!(
            l,
            labels(&[("__name__", "some.metric"), ("a.b", "c\n"), ("d", "e\\n")])
        );
        let (l, _) = parse_series_desc("{} 1").unwrap();
        assert!(l.is_empty());
        let (l, _) = parse_series_desc("ns:metric:rate5m 1").unwrap();
        assert_eq!(l, labels(&[("__name__", "ns:metric:rate5m")]));
        let (l, _) = parse_series_desc(r#"sum{__name__="x"} 1"#).unwrap();
        assert_eq!(l, labels(&[("__name__", "sum")]));
        for bad in [
            r#"m{a="b",,} 1"#,
            r#"m{,} 1"#,
            r#"m{a=~"b"} 1"#,
            r#"m{a} 1"#,
            r#"m {a="b"} 1"#,
            r#"m{a="b", a="c"} 1"#,
            "bool 1",
            "Inf 1",
            r#"m{a="b""#,
            r#""m" 1"#,
            "1 2",
        ] {
            assert!(
                parse_series_desc(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn parses_histograms() {
        let (_, v) = parse_series_desc(
            "m {{schema:1 sum:-3 count:22 z_bucket:1 z_bucket_w:0.001 buckets:[5 10 7] offset:-1 n_buckets:[1 -2] n_offset:2 counter_reset_hint:gauge}}",
        )
        .unwrap();
        let Some(PointValue::Histogram(h)) = &v[0] else {
            panic!("not a histogram")
        };
        assert_eq!(h.schema, 1);
        assert_eq!(h.sum, -3.0);
        assert_eq!(h.count, 22.0);
        assert_eq!(h.zero_count, 1.0);
        assert_eq!(h.zero_threshold, 0.001);
        assert_eq!(h.positive_spans, vec![(-1, 3)]);
        assert_eq!(h.positive_buckets, vec![5.0, 10.0, 7.0]);
        assert_eq!(h.negative_spans, vec![(2, 2)]);
        assert_eq!(h.negative_buckets, vec![1.0, -2.0]);
        assert_eq!(h.counter_reset_hint, CounterResetHint::Gauge);
        assert!(h.counter_reset_hint_set);

        let (_, v) = parse_series_desc(
            "m {{schema:-53 sum:1 count:1 custom_values:[0.1 Inf] buckets:[1]}} {{}} {{ }}",
        )
        .unwrap();
        assert_eq!(v.len(), 3);
        let Some(PointValue::Histogram(h)) = &v[0] else {
            panic!("not a histogram")
        };
        assert!(h.uses_custom_buckets());
        assert_eq!(h.custom_values, vec![0.1, f64::INFINITY]);
        assert!(!h.counter_reset_hint_set);
        assert_eq!(v[1], Some(PointValue::Histogram(TestHistogram::default())));
    }

    #[test]
    fn expands_histogram_series() {
        let (_, v) = parse_series_desc("m {{sum:1 count:1}}x2").unwrap();
        assert_eq!(v.len(), 3);
        let (_, v) = parse_series_desc(
            "m {{schema:0 sum:4 count:4 buckets:[1 2 1]}}+{{sum:2 count:1 buckets:[1] offset:1 counter_reset_hint:gauge}}x2",
        )
        .unwrap();
        let hs: Vec<TestHistogram> = v
            .into_iter()
            .map(|p| match p {
                Some(PointValue::Histogram(h)) => h,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(hs.len(), 3);
        assert_eq!(hs[2].count, 6.0);
        assert_eq!(hs[2].sum, 8.0);
        assert_eq!(
            hs[2].positive_bucket_pairs().unwrap(),
            vec![(0, 1.0), (1, 4.0), (2, 1.0)]
        );
        // The base keeps its own hint but takes the increment's "set" flag, as upstream.
        assert_eq!(hs[0].counter_reset_hint, CounterResetHint::Unknown);
        assert!(hs.iter().all(|h| h.counter_reset_hint_set));
        assert_eq!(hs[1].counter_reset_hint, CounterResetHint::Gauge);

        let (_, v) = parse_series_desc("m {{sum:10 count:5}}-{{sum:1 count:1}}x2").unwrap();
        let Some(PointValue::Histogram(h)) = &v[2] else {
            panic!("not a histogram")
        };
        assert_eq!((h.sum, h.count), (8.0, 3.0));
        // The increment must not have a coarser schema than the running value.
        assert!(parse_series_desc("m {{schema:1}}+{{schema:0}}x1").is_err());
        assert!(parse_series_desc("m {{schema:0}}+{{schema:0}}x0").is_ok());
    }
}
