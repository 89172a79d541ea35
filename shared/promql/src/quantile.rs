//! Numeric helpers with upstream's exact arithmetic: Kahan–Neumaier summation, φ-quantiles of
//! values, and quantiles/fractions of classic histogram buckets.

/// One classic-histogram bucket: upper bound and cumulative count.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bucket {
    pub(crate) upper_bound: f64,
    pub(crate) count: f64,
}

/// Adds `inc` to `sum` with compensation `c` (Neumaier's variant).
pub(crate) fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// The φ-quantile of `values` with linear interpolation (sorts `values`).
pub(crate) fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    // NaNs sort first, as upstream's value heap orders them.
    values.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        _ => a.total_cmp(b),
    });
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

/// Relative float comparison as upstream's `almost.Equal`.
pub(crate) fn almost_equal(a: f64, b: f64, epsilon: f64) -> bool {
    const MIN_NORMAL: f64 = f64::MIN_POSITIVE;
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < MIN_NORMAL {
        return diff < epsilon * MIN_NORMAL;
    }
    diff / abs_sum.min(f64::MAX) < epsilon
}

/// The outcome of [`bucket_quantile`].
pub(crate) struct BucketQuantile {
    pub(crate) value: f64,
    pub(crate) forced_monotonic: bool,
}

fn sort_and_coalesce(buckets: &mut Vec<Bucket>) {
    buckets.sort_by(|a, b| a.upper_bound.total_cmp(&b.upper_bound));
    let mut out: Vec<Bucket> = Vec::with_capacity(buckets.len());
    for b in buckets.iter() {
        match out.last_mut() {
            Some(last) if last.upper_bound == b.upper_bound => last.count += b.count,
            _ => out.push(*b),
        }
    }
    *buckets = out;
}

/// The φ-quantile of classic buckets, interpolating linearly inside the bucket.
pub(crate) fn bucket_quantile(q: f64, buckets: &mut Vec<Bucket>) -> BucketQuantile {
    let done = |value| BucketQuantile {
        value,
        forced_monotonic: false,
    };
    if q.is_nan() {
        return done(f64::NAN);
    }
    if q < 0.0 {
        return done(f64::NEG_INFINITY);
    }
    if q > 1.0 {
        return done(f64::INFINITY);
    }
    buckets.sort_by(|a, b| a.upper_bound.total_cmp(&b.upper_bound));
    if buckets
        .last()
        .is_none_or(|b| b.upper_bound != f64::INFINITY)
    {
        return done(f64::NAN);
    }
    sort_and_coalesce(buckets);
    // Make counts monotonic, ignoring tiny precision deltas.
    let mut forced = false;
    let mut prev = buckets[0].count;
    for b in buckets.iter_mut().skip(1) {
        let curr = b.count;
        if curr == prev {
            continue;
        }
        if almost_equal(prev, curr, 1e-12) {
            b.count = prev;
            continue;
        }
        if curr < prev {
            b.count = prev;
            forced = true;
            continue;
        }
        prev = curr;
    }
    let result = |value| BucketQuantile {
        value,
        forced_monotonic: forced,
    };
    if buckets.len() < 2 {
        return result(f64::NAN);
    }
    let observations = buckets[buckets.len() - 1].count;
    if observations == 0.0 {
        return result(f64::NAN);
    }
    let mut rank = q * observations;
    let last = buckets.len() - 1;
    let b = buckets[..last].partition_point(|x| x.count < rank);
    if b == last {
        return result(buckets[last - 1].upper_bound);
    }
    if b == 0 && buckets[0].upper_bound <= 0.0 {
        return result(buckets[0].upper_bound);
    }
    let mut bucket_start = 0.0;
    let bucket_end = buckets[b].upper_bound;
    let mut count = buckets[b].count;
    if b > 0 {
        bucket_start = buckets[b - 1].upper_bound;
        count -= buckets[b - 1].count;
        rank -= buckets[b - 1].count;
    }
    result(bucket_start + (bucket_end - bucket_start) * (rank / count))
}

/// The fraction of observations between `lower` and `upper` in classic buckets.
pub(crate) fn bucket_fraction(lower: f64, upper: f64, buckets: &mut Vec<Bucket>) -> f64 {
    buckets.sort_by(|a, b| a.upper_bound.total_cmp(&b.upper_bound));
    if buckets
        .last()
        .is_none_or(|b| b.upper_bound != f64::INFINITY)
    {
        return f64::NAN;
    }
    sort_and_coalesce(buckets);
    let count = buckets[buckets.len() - 1].count;
    if count == 0.0 || lower.is_nan() || upper.is_nan() {
        return f64::NAN;
    }
    if lower >= upper {
        return 0.0;
    }
    let (mut rank, mut lower_rank, mut upper_rank) = (0.0, 0.0, 0.0);
    let (mut lower_set, mut upper_set) = (false, false);
    let mut lower_bound = if buckets[0].upper_bound <= 0.0 {
        f64::NEG_INFINITY
    } else {
        0.0
    };
    for (i, b) in buckets.iter().enumerate() {
        if i > 0 {
            lower_bound = buckets[i - 1].upper_bound;
        }
        let upper_bound = b.upper_bound;
        let interpolate = |v: f64| {
            if lower_bound == f64::NEG_INFINITY {
                b.count
            } else {
                rank + (b.count - rank) * (v - lower_bound) / (upper_bound - lower_bound)
            }
        };
        if !lower_set && lower_bound >= lower {
            lower_rank = rank;
            lower_set = true;
        }
        if !upper_set && lower_bound >= upper {
            upper_rank = rank;
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        if !lower_set && lower_bound < lower && upper_bound > lower {
            lower_rank = interpolate(lower);
            lower_set = true;
        }
        if !upper_set && lower_bound < upper && upper_bound > upper {
            upper_rank = interpolate(upper);
            upper_set = true;
        }
        if lower_set && upper_set {
            break;
        }
        rank = b.count;
    }
    if !lower_set || lower_rank > count {
        lower_rank = count;
    }
    if !upper_set || upper_rank > count {
        upper_rank = count;
    }
    (upper_rank - lower_rank) / count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_interpolates_and_bounds() {
        let mut v = vec![1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(0.5, &mut v), 2.5);
        assert_eq!(quantile(-1.0, &mut v), f64::NEG_INFINITY);
        assert_eq!(quantile(2.0, &mut v), f64::INFINITY);
        assert!(quantile(0.5, &mut []).is_nan());
    }

    #[test]
    fn bucket_quantile_matches_upstream_shape() {
        let mut b = vec![
            Bucket {
                upper_bound: 0.1,
                count: 10.0,
            },
            Bucket {
                upper_bound: 1.0,
                count: 20.0,
            },
            Bucket {
                upper_bound: f64::INFINITY,
                count: 20.0,
            },
        ];
        let r = bucket_quantile(0.5, &mut b);
        assert!((r.value - 0.1).abs() < 1e-12);
        let mut missing_inf = vec![Bucket {
            upper_bound: 1.0,
            count: 1.0,
        }];
        assert!(bucket_quantile(0.5, &mut missing_inf).value.is_nan());
    }

    #[test]
    fn kahan_compensates() {
        let (mut s, mut c) = (0.0, 0.0);
        for v in [1e100, 1.0, -1e100] {
            (s, c) = kahan_inc(v, s, c);
        }
        assert_eq!(s + c, 1.0);
    }
}
