//! The native-histogram halves of `histogram_quantile`, `histogram_fraction` and
//! `histogram_stddev`/`histogram_stdvar`.
//!
//! Interpolation inside a bucket is linear for custom buckets and the zero bucket, and
//! exponential (linear on a log2 scale) for exponential buckets. A histogram with only
//! positive (negative) buckets is taken to have no observations below (above) zero, so its
//! zero bucket starts (ends) at zero.

use super::ops::kahan_inc;
use super::{FloatHistogram, HistBucket};

/// What NaN observations (recognised by a NaN sum) did to a quantile; the engine turns it
/// into upstream's info annotation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NanObservations {
    /// Nothing to report.
    #[default]
    None,
    /// The quantile lies above all buckets, among the NaN observations: the result is NaN.
    ResultNaN,
    /// The quantile lies in a bucket, but NaN observations (counted as above all buckets)
    /// skew it higher.
    SkewedHigher,
}

/// Result of [`histogram_quantile`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantileOutcome {
    /// The quantile.
    pub value: f64,
    /// What NaN observations did to it.
    pub nan_observations: NanObservations,
}

impl QuantileOutcome {
    fn plain(value: f64) -> Self {
        QuantileOutcome {
            value,
            nan_observations: NanObservations::None,
        }
    }
}

/// The `q` quantile of native histogram `h` (upstream's `HistogramQuantile`): -Inf for
/// `q < 0`, +Inf for `q > 1`, NaN for NaN `q` or no observations. Quantiles from 0.5 up
/// are searched from the top unless the sum is NaN. For custom buckets, a quantile in the
/// lowest bucket is interpolated from 0 (or is that bucket's upper bound if ≤ 0), and one
/// in the +Inf bucket is the highest finite bound.
pub fn histogram_quantile(q: f64, h: &FloatHistogram) -> QuantileOutcome {
    if q < 0.0 {
        return QuantileOutcome::plain(f64::NEG_INFINITY);
    }
    if q > 1.0 {
        return QuantileOutcome::plain(f64::INFINITY);
    }
    if h.count == 0.0 || q.is_nan() {
        return QuantileOutcome::plain(f64::NAN);
    }
    let forward = h.sum.is_nan() || q < 0.5;
    let buckets = if forward {
        h.all_buckets()
    } else {
        h.all_buckets_reverse()
    };
    let mut rank = if forward {
        q * h.count
    } else {
        (1.0 - q) * h.count
    };

    let mut bucket = HistBucket::default();
    let mut count = 0.0;
    let mut next = 0;
    while let Some(&b) = buckets.get(next) {
        next += 1;
        bucket = b;
        if bucket.count == 0.0 {
            continue;
        }
        count += bucket.count;
        if count >= rank {
            break;
        }
    }
    let custom = h.uses_custom_buckets();
    if !custom && bucket.lower < 0.0 && bucket.upper > 0.0 {
        if h.negative_buckets.is_empty() && !h.positive_buckets.is_empty() {
            bucket.lower = 0.0;
        } else if h.positive_buckets.is_empty() && !h.negative_buckets.is_empty() {
            bucket.upper = 0.0;
        }
    } else if custom {
        if bucket.lower == f64::NEG_INFINITY {
            if bucket.upper <= 0.0 {
                return QuantileOutcome::plain(bucket.upper);
            }
            bucket.lower = 0.0;
        } else if bucket.upper == f64::INFINITY {
            return QuantileOutcome::plain(bucket.lower);
        }
    }
    // Rounding can push the running count past the total.
    if count > h.count {
        count = h.count;
    }
    if count < rank {
        // Only NaN observations (not in any bucket) can leave the rank unreached.
        if h.sum.is_nan() {
            return QuantileOutcome {
                value: f64::NAN,
                nan_observations: NanObservations::ResultNaN,
            };
        }
        return QuantileOutcome::plain(bucket.upper);
    }
    if forward {
        rank -= count - bucket.count;
    } else {
        rank = count - rank;
    }
    let mut nan_observations = NanObservations::None;
    if h.sum.is_nan() {
        // Count the remaining buckets to see if any observations are in none. As upstream,
        // this walks `bucket` on to the last bucket, which the interpolation below then uses.
        while let Some(&b) = buckets.get(next) {
            next += 1;
            bucket = b;
            count += bucket.count;
        }
        if count < h.count {
            nan_observations = NanObservations::SkewedHigher;
        }
    }

    let fraction = rank / bucket.count;
    let value = if custom || (bucket.lower <= 0.0 && bucket.upper >= 0.0) {
        bucket.lower + (bucket.upper - bucket.lower) * fraction
    } else {
        let log_lower = bucket.lower.abs().log2();
        let log_upper = bucket.upper.abs().log2();
        if bucket.lower > 0.0 {
            (log_lower + (log_upper - log_lower) * fraction).exp2()
        } else {
            -(log_upper + (log_lower - log_upper) * (1.0 - fraction)).exp2()
        }
    };
    QuantileOutcome {
        value,
        nan_observations,
    }
}

/// Share of `b`'s width at or below `v` (strictly inside finite bounds): linear, or on a log2
/// scale (mirrored for negative buckets). Upstream's `Bucket.FractionBelow`.
pub(super) fn fraction_below(b: &HistBucket, v: f64, linear: bool) -> f64 {
    if linear {
        return (v - b.lower) / (b.upper - b.lower);
    }
    let log_lower = b.lower.abs().log2();
    let log_upper = b.upper.abs().log2();
    let log_v = v.abs().log2();
    if v > 0.0 {
        (log_v - log_lower) / (log_upper - log_lower)
    } else {
        1.0 - ((log_v - log_upper) / (log_lower - log_upper))
    }
}

/// Estimated share of observations of `h` between `lower` and `upper` (upstream's
/// `HistogramFraction`), and whether `h` has NaN observations (a NaN sum and fewer
/// observations in buckets than its count), which are in no fraction. NaN for no
/// observations or a NaN bound, 0 if `lower >= upper`. Buckets with an infinite bound
/// contribute nothing to a bound inside them.
pub fn histogram_fraction(lower: f64, upper: f64, h: &FloatHistogram) -> (f64, bool) {
    if h.count == 0.0 || lower.is_nan() || upper.is_nan() {
        return (f64::NAN, false);
    }
    if lower >= upper {
        return (0.0, false);
    }
    let custom = h.uses_custom_buckets();
    let buckets = h.all_buckets();
    let (mut count, mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    let mut next = 0;
    while let Some(&bucket) = buckets.get(next) {
        next += 1;
        let mut b = bucket;
        count += b.count;
        let mut zero_bucket = false;
        if b.lower <= 0.0 && b.upper >= 0.0 {
            zero_bucket = true;
            if h.negative_buckets.is_empty() && !h.positive_buckets.is_empty() {
                b.lower = 0.0;
            } else if h.positive_buckets.is_empty() && !h.negative_buckets.is_empty() {
                b.upper = 0.0;
            }
        }
        let interpolate = |v: f64| -> f64 {
            if custom || zero_bucket {
                if b.lower == f64::NEG_INFINITY {
                    // No interpolation into an infinitely wide bucket (as upstream: the
                    // bucket's own count).
                    return b.count;
                }
                rank + b.count * fraction_below(&b, v, true)
            } else {
                rank + b.count * fraction_below(&b, v, false)
            }
        };
        if !lower_set && b.lower >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && b.lower >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        if !lower_set && b.lower < lower && b.upper > lower {
            lower_rank = interpolate(lower);
            lower_set = true;
        }
        if !upper_set && b.lower < upper && b.upper > upper {
            upper_rank = interpolate(upper);
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        rank += b.count;
    }
    let mut had_nan = false;
    if h.sum.is_nan() {
        // Only observations in buckets count then: NaN observations are in none.
        for b in buckets.iter().skip(next) {
            count += b.count;
        }
        had_nan = count < h.count;
    } else {
        count = h.count;
    }
    if !lower_set || lower_rank > count {
        lower_rank = count;
    }
    if !upper_set || upper_rank > count {
        upper_rank = count;
    }
    ((upper_rank - lower_rank) / h.count, had_nan)
}

/// Estimated variance of the observations in `h` (upstream's `histogram_stdvar`; take the
/// square root for `histogram_stddev`): each bucket stands for its midpoint, the arithmetic
/// one for custom buckets, 0 for the zero bucket, the geometric one for exponential buckets.
pub fn histogram_variance(h: &FloatHistogram) -> f64 {
    let mean = h.sum / h.count;
    let custom = h.uses_custom_buckets();
    let (mut variance, mut c) = (0.0, 0.0);
    for b in h.all_buckets() {
        if b.count == 0.0 {
            continue;
        }
        let val = if custom {
            (b.upper + b.lower) / 2.0
        } else if b.lower <= 0.0 && b.upper >= 0.0 {
            0.0
        } else {
            let v = (b.upper * b.lower).sqrt();
            if b.upper < 0.0 { -v } else { v }
        };
        let delta = val - mean;
        (variance, c) = kahan_inc(b.count * delta * delta, variance, c);
    }
    (variance + c) / h.count
}
