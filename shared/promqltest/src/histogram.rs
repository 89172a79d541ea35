//! Native histograms as written in test scripts (`{{schema:1 sum:3 count:22 buckets:[5 10 7]}}`)
//! and the arithmetic the series notation needs (`{{...}}+{{...}}x3` adds the second histogram
//! step by step, `-` subtracts), following Prometheus's `FloatHistogram.Add`/`Sub`: schemas are
//! reduced to the coarser one, differing zero thresholds are reconciled, custom-bucket histograms
//! with different bounds are mapped onto the intersection of their bounds, and the counter reset
//! hint is adjusted. Buckets hold absolute counts (as in a float histogram), never deltas.

use std::collections::BTreeMap;
use std::fmt;

use crate::number::ldexp;

/// The schema number of native histograms with custom bucket bounds (NHCB).
pub const CUSTOM_BUCKETS_SCHEMA: i32 = -53;

/// Counter reset hint of a native histogram sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CounterResetHint {
    /// Nothing is known (`counter_reset_hint:unknown`, the default).
    #[default]
    Unknown,
    /// A counter reset happened right before this sample (`reset`).
    CounterReset,
    /// No counter reset happened (`not_reset`).
    NotCounterReset,
    /// The histogram is a gauge histogram (`gauge`).
    Gauge,
}

impl CounterResetHint {
    fn as_str(self) -> &'static str {
        match self {
            CounterResetHint::Unknown => "unknown",
            CounterResetHint::CounterReset => "reset",
            CounterResetHint::NotCounterReset => "not_reset",
            CounterResetHint::Gauge => "gauge",
        }
    }
}

/// A native histogram in float form, the shape scripts describe and engines return.
///
/// Spans are `(offset, length)` pairs as in Prometheus: the first offset is the absolute index of
/// the first bucket, later offsets are the gap after the previous span. Bucket counts are
/// absolute. `custom_values` are the upper bounds of custom buckets (schema
/// [`CUSTOM_BUCKETS_SCHEMA`]), without the implicit `+Inf` bucket.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TestHistogram {
    pub schema: i32,
    pub zero_threshold: f64,
    pub zero_count: f64,
    pub count: f64,
    pub sum: f64,
    pub positive_spans: Vec<(i32, u32)>,
    pub positive_buckets: Vec<f64>,
    pub negative_spans: Vec<(i32, u32)>,
    pub negative_buckets: Vec<f64>,
    pub counter_reset_hint: CounterResetHint,
    /// True when the script spelled out `counter_reset_hint:...`. Upstream's README: an expected
    /// histogram without an explicit hint does not have its hint tested. Ignored on actual results.
    pub counter_reset_hint_set: bool,
    pub custom_values: Vec<f64>,
}

/// Buckets keyed by absolute bucket index.
type Buckets = BTreeMap<i32, f64>;

impl TestHistogram {
    /// True for native histograms with custom buckets (NHCB).
    pub fn uses_custom_buckets(&self) -> bool {
        self.schema == CUSTOM_BUCKETS_SCHEMA
    }

    /// Positive buckets as `(absolute index, count)`, in index order.
    pub fn positive_bucket_pairs(&self) -> Result<Vec<(i32, f64)>, String> {
        expand(&self.positive_spans, &self.positive_buckets)
    }

    /// Negative buckets as `(absolute index, count)`, in index order.
    pub fn negative_bucket_pairs(&self) -> Result<Vec<(i32, f64)>, String> {
        expand(&self.negative_spans, &self.negative_buckets)
    }

    /// The canonical layout Prometheus's `Compact(0)` produces: no empty buckets, each span a run
    /// of consecutive populated buckets. Two compacted histograms with the same buckets have the
    /// same spans. Fails if spans and bucket counts disagree.
    pub fn compact(&self) -> Result<TestHistogram, String> {
        let mut h = self.clone();
        let keep = |pairs: Vec<(i32, f64)>| -> Buckets {
            pairs.into_iter().filter(|(_, c)| *c != 0.0).collect()
        };
        let pos = keep(self.positive_bucket_pairs()?);
        let neg = keep(self.negative_bucket_pairs()?);
        (h.positive_spans, h.positive_buckets) = collapse(&pos);
        (h.negative_spans, h.negative_buckets) = collapse(&neg);
        Ok(h)
    }

    /// `self + other` (or `self - other` when `subtract`), as `FloatHistogram.Add`/`Sub` compute it.
    pub(crate) fn combine(&self, other: &TestHistogram, subtract: bool) -> Result<Self, String> {
        if self.uses_custom_buckets() != other.uses_custom_buckets() {
            return Err(
                "cannot combine a custom-buckets histogram with an exponential one".to_string(),
            );
        }
        let sign = if subtract { -1.0 } else { 1.0 };
        let mut h = self.clone();
        h.counter_reset_hint =
            adjust_counter_reset(self.counter_reset_hint, other.counter_reset_hint);
        let mut hpos: Buckets = self.positive_bucket_pairs()?.into_iter().collect();
        let mut hneg: Buckets = self.negative_bucket_pairs()?.into_iter().collect();
        let opos: Buckets = other.positive_bucket_pairs()?.into_iter().collect();
        let oneg: Buckets = other.negative_bucket_pairs()?.into_iter().collect();

        if h.uses_custom_buckets() {
            h.count += sign * other.count;
            h.sum += sign * other.sum;
            if h.custom_values == other.custom_values {
                add_buckets(&mut hpos, &opos, sign, None);
            } else {
                let bounds = intersect_bounds(&h.custom_values, &other.custom_values);
                let mut target = Buckets::new();
                map_custom(&mut target, &hpos, &h.custom_values, &bounds, 1.0);
                map_custom(&mut target, &opos, &other.custom_values, &bounds, sign);
                target.retain(|_, c| *c != 0.0);
                hpos = target;
                h.custom_values = bounds;
            }
            (h.positive_spans, h.positive_buckets) = collapse(&hpos);
            return Ok(h);
        }

        // Zero buckets first, at the original schemas.
        let other_zero = reconcile_zero_buckets(&mut h, &mut hpos, &mut hneg, other, &opos, &oneg)?;
        h.zero_count += sign * other_zero;
        h.count += sign * other.count;
        h.sum += sign * other.sum;

        let target = h.schema.min(other.schema);
        let hpos = reduce_resolution(&hpos, h.schema, target);
        let hneg = reduce_resolution(&hneg, h.schema, target);
        let opos = reduce_resolution(&opos, other.schema, target);
        let oneg = reduce_resolution(&oneg, other.schema, target);
        h.schema = target;
        let (mut hpos, mut hneg) = (hpos, hneg);
        add_buckets(&mut hpos, &opos, sign, Some((target, h.zero_threshold)));
        add_buckets(&mut hneg, &oneg, sign, Some((target, h.zero_threshold)));
        (h.positive_spans, h.positive_buckets) = collapse(&hpos);
        (h.negative_spans, h.negative_buckets) = collapse(&hneg);
        Ok(h)
    }
}

/// Spans + buckets to `(index, count)` pairs.
fn expand(spans: &[(i32, u32)], buckets: &[f64]) -> Result<Vec<(i32, f64)>, String> {
    let mut out = Vec::with_capacity(buckets.len());
    let mut idx: i64 = 0;
    for (n, (offset, len)) in spans.iter().enumerate() {
        idx += i64::from(*offset);
        if n > 0 && *offset < 0 {
            return Err(format!("span {n} has a negative offset {offset}"));
        }
        for _ in 0..*len {
            let count = *buckets.get(out.len()).ok_or_else(|| {
                format!(
                    "spans describe more buckets than the {} given",
                    buckets.len()
                )
            })?;
            let i = i32::try_from(idx).map_err(|_| "bucket index out of range".to_string())?;
            out.push((i, count));
            idx += 1;
        }
    }
    if out.len() != buckets.len() {
        return Err(format!(
            "spans describe {} buckets but {} are given",
            out.len(),
            buckets.len()
        ));
    }
    Ok(out)
}

/// Pairs back to spans (one span per run of consecutive indices) and buckets.
fn collapse(b: &Buckets) -> (Vec<(i32, u32)>, Vec<f64>) {
    let mut spans: Vec<(i32, u32)> = Vec::new();
    let mut buckets = Vec::with_capacity(b.len());
    let mut next: Option<i64> = None; // index right after the last span
    for (&idx, &count) in b {
        let i = i64::from(idx);
        match (next, spans.last_mut()) {
            (Some(n), Some(last)) if n == i => last.1 += 1,
            // Gaps between indices of one i32 range fit in i32.
            (Some(n), _) => spans.push((i32::try_from(i - n).unwrap_or(i32::MAX), 1)),
            (None, _) => spans.push((idx, 1)),
        }
        buckets.push(count);
        next = Some(i + 1);
    }
    (spans, buckets)
}

fn adjust_counter_reset(h: CounterResetHint, other: CounterResetHint) -> CounterResetHint {
    use CounterResetHint::*;
    match (h, other) {
        (a, b) if a == b => a,
        (Gauge, _) | (_, Gauge) => Gauge,
        // Unknown with anything else, or a reset/not_reset collision, ends up unknown.
        _ => Unknown,
    }
}

/// Adds `sign * other` into `into`. For exponential schemas (`exp = Some((schema, threshold))`)
/// buckets of `other` that lie entirely inside the zero bucket are skipped, as upstream does.
fn add_buckets(into: &mut Buckets, other: &Buckets, sign: f64, exp: Option<(i32, f64)>) {
    for (&idx, &count) in other {
        if let Some((schema, threshold)) = exp
            && bucket_upper_bound(idx, schema) <= threshold
        {
            continue;
        }
        *into.entry(idx).or_insert(0.0) += sign * count;
    }
}

/// Merges buckets of `from` schema into the coarser `to` schema.
fn reduce_resolution(b: &Buckets, from: i32, to: i32) -> Buckets {
    if from <= to {
        return b.clone();
    }
    let shift = u32::try_from(from - to).unwrap_or(0).min(31);
    let mut out = Buckets::new();
    for (&idx, &count) in b {
        let target = ((i64::from(idx) - 1) >> shift) + 1;
        let target = i32::try_from(target).unwrap_or(i32::MIN);
        *out.entry(target).or_insert(0.0) += count;
    }
    out
}

/// Upper bound of exponential bucket `idx` at `schema` (2^(idx * 2^-schema)).
pub(crate) fn bucket_upper_bound(idx: i32, schema: i32) -> f64 {
    if schema < 0 {
        let exp = i64::from(idx) << (-schema).min(62);
        if exp == 1024 {
            return f64::MAX; // last finite bucket
        }
        return ldexp(1.0, exp.clamp(-2000, 2000) as i32);
    }
    let per_octave = 1i64 << schema.min(30);
    let idx = i64::from(idx);
    let frac_idx = idx.rem_euclid(per_octave);
    let exp = idx.div_euclid(per_octave) + 1;
    let frac = 2f64.powf(frac_idx as f64 / per_octave as f64 - 1.0);
    if frac_idx == 0 && exp == 1025 {
        return f64::MAX;
    }
    ldexp(frac, exp.clamp(-2000, 2000) as i32)
}

/// Makes the zero thresholds of `h` and `other` equal, widening the smaller one (and moving the
/// buckets it swallows into the zero bucket), as `reconcileZeroBuckets` does. Returns the zero
/// count `other` has at the common threshold; `h` is updated in place.
fn reconcile_zero_buckets(
    h: &mut TestHistogram,
    hpos: &mut Buckets,
    hneg: &mut Buckets,
    other: &TestHistogram,
    opos: &Buckets,
    oneg: &Buckets,
) -> Result<f64, String> {
    let mut other_count = other.zero_count;
    let mut other_threshold = other.zero_threshold;
    if other_threshold.is_nan() || h.zero_threshold.is_nan() {
        return Err("zero threshold is NaN".to_string());
    }
    let mut rounds = 0;
    while other_threshold != h.zero_threshold {
        rounds += 1;
        if rounds > 1000 {
            return Err("cannot reconcile zero thresholds".to_string());
        }
        if h.zero_threshold > other_threshold {
            (other_count, other_threshold) = zero_count_for_larger_threshold(
                other.zero_count,
                other.zero_threshold,
                other.schema,
                opos,
                oneg,
                h.zero_threshold,
            );
        }
        if other_threshold > h.zero_threshold {
            let (count, threshold) = zero_count_for_larger_threshold(
                h.zero_count,
                h.zero_threshold,
                h.schema,
                hpos,
                hneg,
                other_threshold,
            );
            h.zero_count = count;
            h.zero_threshold = threshold;
            // Drop the buckets now inside the zero bucket (and, like Compact, empty ones).
            let schema = h.schema;
            hpos.retain(|&i, c| {
                bucket_upper_bound(i.saturating_sub(1), schema) >= threshold && *c != 0.0
            });
            hneg.retain(|&i, c| {
                bucket_upper_bound(i.saturating_sub(1), schema) >= threshold && *c != 0.0
            });
        }
    }
    Ok(other_count)
}

/// The zero count a histogram would have with the larger threshold `larger`, and the threshold
/// actually used: if `larger` falls inside a populated bucket it moves up to that bucket's upper
/// bound (`zeroCountForLargerThreshold`).
fn zero_count_for_larger_threshold(
    zero_count: f64,
    zero_threshold: f64,
    schema: i32,
    pos: &Buckets,
    neg: &Buckets,
    mut larger: f64,
) -> (f64, f64) {
    if larger == zero_threshold {
        return (zero_count, larger);
    }
    'outer: loop {
        let mut count = zero_count;
        for (&idx, &c) in pos {
            let (lower, upper) = (
                bucket_upper_bound(idx.saturating_sub(1), schema),
                bucket_upper_bound(idx, schema),
            );
            if lower >= larger {
                break;
            }
            count += c;
            if upper > larger {
                if c != 0.0 {
                    larger = upper;
                }
                break;
            }
        }
        for (&idx, &c) in neg {
            let (lower, upper) = (
                bucket_upper_bound(idx.saturating_sub(1), schema),
                bucket_upper_bound(idx, schema),
            );
            if lower >= larger {
                break;
            }
            count += c;
            if upper > larger {
                if c != 0.0 {
                    larger = upper;
                    continue 'outer;
                }
                break;
            }
        }
        return (count, larger);
    }
}

fn intersect_bounds(a: &[f64], b: &[f64]) -> Vec<f64> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(a[i]);
            i += 1;
            j += 1;
        } else if a[i] < b[j] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// Adds custom buckets laid out by `bounds` into `target`, laid out by `intersected`: each bucket
/// goes to the first intersected bound at or above its own upper bound (or to `+Inf`).
fn map_custom(target: &mut Buckets, src: &Buckets, bounds: &[f64], intersected: &[f64], sign: f64) {
    let inf_idx = i32::try_from(intersected.len()).unwrap_or(i32::MAX);
    for (&idx, &count) in src {
        let t = usize::try_from(idx)
            .ok()
            .and_then(|i| bounds.get(i))
            .and_then(|b| intersected.iter().position(|x| x >= b))
            .and_then(|p| i32::try_from(p).ok())
            .unwrap_or(inf_idx);
        *target.entry(t).or_insert(0.0) += sign * count;
    }
}

/// Formats a float the way test scripts write it.
pub(crate) fn fmt_float(v: f64) -> String {
    if crate::is_stale_nan(v) {
        "stale".to_string()
    } else if v.is_nan() {
        "NaN".to_string()
    } else if v == f64::INFINITY {
        "Inf".to_string()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        format!("{v}")
    }
}

fn fmt_list(v: &[f64]) -> String {
    v.iter()
        .map(|x| fmt_float(*x))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Renders in script notation. Gaps between spans are written out as zero buckets so a single
/// `offset` suffices.
impl fmt::Display for TestHistogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = vec![
            format!("schema:{}", self.schema),
            format!("count:{}", fmt_float(self.count)),
            format!("sum:{}", fmt_float(self.sum)),
        ];
        if self.zero_count != 0.0 {
            parts.push(format!("z_bucket:{}", fmt_float(self.zero_count)));
        }
        if self.zero_threshold != 0.0 {
            parts.push(format!("z_bucket_w:{}", fmt_float(self.zero_threshold)));
        }
        if !self.custom_values.is_empty() {
            parts.push(format!("custom_values:[{}]", fmt_list(&self.custom_values)));
        }
        for (name, offset_name, spans, buckets) in [
            (
                "buckets",
                "offset",
                &self.positive_spans,
                &self.positive_buckets,
            ),
            (
                "n_buckets",
                "n_offset",
                &self.negative_spans,
                &self.negative_buckets,
            ),
        ] {
            match expand(spans, buckets) {
                Ok(pairs) if !pairs.is_empty() => {
                    let first = pairs[0].0;
                    let mut dense = Vec::new();
                    let mut next = first;
                    for (i, c) in pairs {
                        while next < i {
                            dense.push(0.0);
                            next += 1;
                        }
                        dense.push(c);
                        next += 1;
                    }
                    if first != 0 {
                        parts.push(format!("{offset_name}:{first}"));
                    }
                    parts.push(format!("{name}:[{}]", fmt_list(&dense)));
                }
                Ok(_) => {}
                Err(_) => parts.push(format!("{name}:<spans {spans:?} buckets {buckets:?}>")),
            }
        }
        if self.counter_reset_hint != CounterResetHint::Unknown || self.counter_reset_hint_set {
            parts.push(format!(
                "counter_reset_hint:{}",
                self.counter_reset_hint.as_str()
            ));
        }
        write!(f, "{{{{{}}}}}", parts.join(" "))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn h(schema: i32, count: f64, sum: f64, offset: i32, buckets: &[f64]) -> TestHistogram {
        TestHistogram {
            schema,
            count,
            sum,
            positive_spans: if buckets.is_empty() {
                vec![]
            } else {
                vec![(offset, buckets.len() as u32)]
            },
            positive_buckets: buckets.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn bounds_match_prometheus() {
        assert_eq!(bucket_upper_bound(0, 0), 1.0);
        assert_eq!(bucket_upper_bound(1, 0), 2.0);
        assert_eq!(bucket_upper_bound(-1, 0), 0.5);
        assert_eq!(bucket_upper_bound(1, -1), 4.0);
        assert_eq!(bucket_upper_bound(2, 1), 2.0);
        assert!((bucket_upper_bound(1, 1) - 2f64.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn add_inserts_missing_buckets() {
        let a = h(0, 4.0, 4.0, 0, &[1.0, 2.0, 1.0]);
        let b = h(0, 1.0, 2.0, 1, &[1.0]);
        let c = a.combine(&b, false).unwrap();
        assert_eq!(c.count, 5.0);
        assert_eq!(c.sum, 6.0);
        assert_eq!(
            c.positive_bucket_pairs().unwrap(),
            vec![(0, 1.0), (1, 3.0), (2, 1.0)]
        );
        let d = h(0, 0.0, 0.0, 5, &[7.0]);
        let e = a.combine(&d, false).unwrap();
        assert_eq!(e.positive_spans, vec![(0, 3), (2, 1)]);
        assert_eq!(e.positive_buckets, vec![1.0, 2.0, 1.0, 7.0]);
        let f = e.combine(&d, true).unwrap().compact().unwrap();
        assert_eq!(f.positive_spans, vec![(0, 3)]);
    }

    #[test]
    fn add_reduces_to_the_coarser_schema() {
        // schema -1 bucket 1 covers (1,4]; schema 0 buckets 1,2 are (1,2] and (2,4].
        let low = h(-1, 1.0, 4.0, 1, &[1.0]);
        let high = h(0, 4.0, 4.0, 1, &[2.0, 2.0]);
        let c = low.combine(&high, false).unwrap();
        assert_eq!(c.schema, -1);
        assert_eq!(c.positive_bucket_pairs().unwrap(), vec![(1, 5.0)]);
    }

    #[test]
    fn add_reconciles_zero_thresholds() {
        let mut a = h(0, 3.0, 0.0, 0, &[1.0, 2.0]); // buckets (0.5,1] and (1,2]
        a.zero_threshold = 0.001;
        a.zero_count = 1.0;
        let mut b = h(0, 1.0, 0.0, 0, &[]);
        b.zero_threshold = 1.0;
        b.zero_count = 1.0;
        let c = a.combine(&b, false).unwrap();
        assert_eq!(c.zero_threshold, 1.0);
        assert_eq!(c.zero_count, 3.0); // 1 (a's zero) + 1 (bucket (0.5,1]) + 1 (b's zero)
        assert_eq!(c.positive_bucket_pairs().unwrap(), vec![(1, 2.0)]);
    }

    #[test]
    fn custom_buckets_combine_on_intersection() {
        let mut a = h(CUSTOM_BUCKETS_SCHEMA, 3.0, 0.0, 0, &[1.0, 1.0, 1.0]);
        a.custom_values = vec![1.0, 2.0];
        let mut b = h(CUSTOM_BUCKETS_SCHEMA, 2.0, 0.0, 0, &[1.0, 1.0]);
        b.custom_values = vec![2.0];
        let c = a.combine(&b, false).unwrap();
        assert_eq!(c.custom_values, vec![2.0]);
        assert_eq!(c.positive_bucket_pairs().unwrap(), vec![(0, 3.0), (1, 2.0)]);
        assert!(a.combine(&h(0, 0.0, 0.0, 0, &[]), false).is_err());
    }

    #[test]
    fn counter_reset_hints_combine_like_upstream() {
        use CounterResetHint::*;
        assert_eq!(adjust_counter_reset(Unknown, Gauge), Gauge);
        assert_eq!(adjust_counter_reset(Gauge, NotCounterReset), Gauge);
        assert_eq!(adjust_counter_reset(CounterReset, NotCounterReset), Unknown);
        assert_eq!(
            adjust_counter_reset(NotCounterReset, NotCounterReset),
            NotCounterReset
        );
    }

    #[test]
    fn display_uses_script_notation() {
        let mut a = h(1, 22.0, 3.0, 0, &[5.0, 10.0, 7.0]);
        assert_eq!(
            a.to_string(),
            "{{schema:1 count:22 sum:3 buckets:[5 10 7]}}"
        );
        a.positive_spans = vec![(-1, 1), (1, 2)];
        assert_eq!(
            a.to_string(),
            "{{schema:1 count:22 sum:3 offset:-1 buckets:[5 0 10 7]}}"
        );
    }
}
