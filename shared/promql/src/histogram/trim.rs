//! The trim operators `</` (keep observations below a value) and `>/` (keep those above):
//! upstream's `TrimBuckets`.
//!
//! A bucket entirely on the kept side stays; one entirely on the other side is emptied; one
//! that straddles the cut keeps the interpolated share (linear for custom buckets and the
//! zero bucket, exponential otherwise). Count and sum are recomputed from the buckets, each
//! standing for its midpoint, but only if something was cut.

use super::stats::fraction_below;
use super::{FloatHistogram, HistBucket};

impl FloatHistogram {
    /// Trims in place: with `is_upper_trim` keeps what lies below `rhs` (`</`), otherwise
    /// what lies above (`>/`), then compacts. Buckets with an infinite bound are kept whole
    /// or dropped whole unless the other bound allows interpolation (see upstream).
    pub fn trim_buckets(&mut self, rhs: f64, is_upper_trim: bool) {
        let custom = self.uses_custom_buckets();
        let (mut count, mut sum) = (0.0, 0.0);
        let mut trimmed = false;
        let (mut has_positive, mut has_negative) = (false, false);
        for positive in [true, false] {
            let buckets: Vec<HistBucket> = self.side_buckets(positive).collect();
            for (i, b) in buckets.iter().enumerate() {
                if b.count == 0.0 {
                    continue;
                }
                if positive {
                    has_positive = true;
                } else {
                    has_negative = true;
                }
                let (keep_all, straddles) = if is_upper_trim {
                    (b.upper <= rhs, b.lower < rhs)
                } else {
                    (b.lower >= rhs, b.upper > rhs)
                };
                let stored = if positive {
                    &mut self.positive_buckets
                } else {
                    &mut self.negative_buckets
                };
                if keep_all {
                    count += b.count;
                    sum += midpoint(b.lower, b.upper, positive, custom) * b.count;
                } else if straddles {
                    let (keep, mid) = bucket_trim(b, rhs, is_upper_trim, positive, custom);
                    count += keep;
                    sum += mid * keep;
                    if let Some(v) = stored.get_mut(i)
                        && *v != keep
                    {
                        *v = keep;
                        trimmed = true;
                    }
                } else {
                    if let Some(v) = stored.get_mut(i) {
                        *v = 0.0;
                    }
                    trimmed = true;
                }
            }
        }
        if self.zero_count > 0.0
            && let Some(zero) = self.zero_bucket()
        {
            let (keep, mid) =
                zero_bucket_trim(&zero, rhs, has_negative, has_positive, is_upper_trim);
            if self.zero_count != keep {
                self.zero_count = keep;
                trimmed = true;
            }
            sum += mid * keep;
            count += keep;
        }
        if trimmed {
            self.count = count;
            self.sum = sum;
            self.compact(0);
        }
    }
}

/// Share of a bucket with an infinite bound to keep, and the midpoint it stands for.
fn infinite_bucket_trim(is_upper_trim: bool, b: &HistBucket, rhs: f64) -> (f64, f64) {
    let zero_if_inf = |x: f64| if x.is_infinite() { 0.0 } else { x };
    if b.lower == f64::NEG_INFINITY {
        if is_upper_trim {
            if rhs >= b.upper {
                return (b.count, 0.0);
            }
            if rhs > 0.0 && b.upper > 0.0 && b.upper != f64::INFINITY {
                // Only custom buckets get here: take the lower bound as 0 and interpolate.
                return (b.count * rhs / b.upper, rhs / 2.0);
            }
            if b.upper <= 0.0 {
                return (b.count, rhs);
            }
            return (0.0, zero_if_inf(b.upper));
        }
        if rhs <= b.lower {
            return (b.count, 0.0);
        }
        if rhs >= 0.0 && b.upper > rhs && b.upper != f64::INFINITY {
            return (b.count * (1.0 - rhs / b.upper), (rhs + b.upper) / 2.0);
        }
        return (0.0, zero_if_inf(b.upper));
    }
    // Upper bound +Inf: the distribution inside is unknown, so the bucket goes unless all
    // of it is kept.
    if !is_upper_trim && rhs >= b.lower {
        return (b.count, rhs);
    }
    (0.0, zero_if_inf(b.lower))
}

/// Share of the zero bucket to keep and its midpoint; the zero bucket counts as starting
/// (ending) at 0 if there are only positive (negative) buckets.
fn zero_bucket_trim(
    zero: &HistBucket,
    rhs: f64,
    has_negative: bool,
    has_positive: bool,
    is_upper_trim: bool,
) -> (f64, f64) {
    let (mut lower, mut upper) = (zero.lower, zero.upper);
    if has_negative && !has_positive {
        upper = 0.0;
    }
    if has_positive && !has_negative {
        lower = 0.0;
    }
    let (fraction, mid) = if is_upper_trim {
        if rhs <= lower {
            return (0.0, 0.0);
        }
        if rhs >= upper {
            return (zero.count, (lower + upper) / 2.0);
        }
        ((rhs - lower) / (upper - lower), (lower + rhs) / 2.0)
    } else {
        if rhs <= lower {
            return (zero.count, (lower + upper) / 2.0);
        }
        if rhs >= upper {
            return (0.0, 0.0);
        }
        ((upper - rhs) / (upper - lower), (rhs + upper) / 2.0)
    };
    (zero.count * fraction, mid)
}

/// Share to keep of a bucket the cut goes through, and the midpoint of the kept part.
fn bucket_trim(
    b: &HistBucket,
    rhs: f64,
    is_upper_trim: bool,
    positive: bool,
    custom: bool,
) -> (f64, f64) {
    if b.lower == f64::NEG_INFINITY || b.upper == f64::INFINITY {
        return infinite_bucket_trim(is_upper_trim, b, rhs);
    }
    let under = if rhs <= b.lower {
        0.0
    } else if rhs >= b.upper {
        b.count
    } else {
        b.count * fraction_below(b, rhs, custom)
    };
    if is_upper_trim {
        (under, midpoint(b.lower, rhs, positive, custom))
    } else {
        (b.count - under, midpoint(rhs, b.upper, positive, custom))
    }
}

/// Value an interval of a bucket stands for: arithmetic midpoint if `linear`, else the
/// geometric one (negated on the negative side); with an infinite end, the finite end (or
/// half of it for a positive upper end, or 0).
fn midpoint(lower: f64, upper: f64, positive: bool, linear: bool) -> f64 {
    if lower.is_infinite() {
        if upper.is_infinite() {
            return 0.0;
        }
        if upper > 0.0 {
            return upper / 2.0;
        }
        return upper;
    }
    if upper.is_infinite() {
        return lower;
    }
    if linear {
        return (lower + upper) / 2.0;
    }
    let geo = (lower * upper).abs().sqrt();
    if positive { geo } else { -geo }
}
