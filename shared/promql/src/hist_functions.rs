//! Range functions over native histograms: `rate`/`increase`/`delta`, `irate`/`idelta`,
//! `sum_over_time`/`avg_over_time`, and `changes`/`resets` over mixed samples, with the
//! annotations upstream raises (returned as texts; the caller adds positions).

use crate::histogram::{CounterResetHint, FloatHistogram};
use crate::value::Point;
use std::sync::Arc;

fn not_counter(metric: &str) -> String {
    format!("this native histogram metric is not a counter: {metric:?}")
}

fn not_gauge(metric: &str) -> String {
    format!("this native histogram metric is not a gauge: {metric:?}")
}

fn mixed_schemas(metric: &str) -> String {
    format!(
        "vector contains a mix of histograms with exponential and custom buckets schemas for metric name {metric:?}"
    )
}

/// The increase (or delta) of histograms over a window, before extrapolation.
fn histogram_rate(
    points: &[(i64, Arc<FloatHistogram>)],
    is_counter: bool,
    metric: &str,
    warnings: &mut Vec<String>,
    infos: &mut Vec<String>,
) -> Option<FloatHistogram> {
    let first = &points[0].1;
    let last = &points[points.len() - 1].1;
    let mut prev: FloatHistogram = (**first).clone();
    let mut custom = first.uses_custom_buckets();
    if is_counter
        && (first.counter_reset_hint == CounterResetHint::Gauge
            || last.counter_reset_hint == CounterResetHint::Gauge)
    {
        warnings.push(not_counter(metric));
    }
    if is_counter {
        let second = &points[1].1;
        if second.detect_reset(&prev) {
            prev = FloatHistogram {
                schema: second.schema,
                custom_values: second.custom_values.clone(),
                ..FloatHistogram::default()
            };
            custom = second.uses_custom_buckets();
        }
    }
    if last.uses_custom_buckets() != custom {
        warnings.push(mixed_schemas(metric));
        return None;
    }
    let mut min_schema = last.schema.min(prev.schema);
    for (_, curr) in &points[1..points.len() - 1] {
        if !is_counter {
            continue;
        }
        if curr.counter_reset_hint == CounterResetHint::Gauge {
            warnings.push(not_counter(metric));
        }
        min_schema = min_schema.min(curr.schema);
        if curr.uses_custom_buckets() != custom {
            warnings.push(mixed_schemas(metric));
            return None;
        }
    }
    let mut h = last.copy_to_schema(min_schema);
    match h.sub(&prev) {
        Ok(flags) => {
            if flags.nhcb_bounds_reconciled {
                infos.push("mismatched custom buckets were reconciled during subtraction".into());
            }
        }
        Err(_) => {
            warnings.push(mixed_schemas(metric));
            return None;
        }
    }
    if is_counter {
        let mut prev_ref: &FloatHistogram = &prev;
        for (_, curr) in &points[1..] {
            if curr.detect_reset(prev_ref) {
                match h.add(prev_ref) {
                    Ok(flags) => {
                        if flags.nhcb_bounds_reconciled {
                            infos.push(
                                "mismatched custom buckets were reconciled during addition".into(),
                            );
                        }
                    }
                    Err(_) => {
                        warnings.push(mixed_schemas(metric));
                        return None;
                    }
                }
            }
            prev_ref = curr;
        }
    } else if first.counter_reset_hint != CounterResetHint::Gauge
        || last.counter_reset_hint != CounterResetHint::Gauge
    {
        warnings.push(not_gauge(metric));
    }
    h.counter_reset_hint = CounterResetHint::Gauge;
    h.compact(0);
    Some(h)
}

/// `rate`/`increase`/`delta` of histograms: the window's change extrapolated as for floats.
#[allow(clippy::too_many_arguments)]
pub(crate) fn extrapolated_histogram_rate(
    h: &[(i64, Arc<FloatHistogram>)],
    range_start: i64,
    range_end: i64,
    range_ms: i64,
    is_counter: bool,
    is_rate: bool,
    metric: &str,
    warnings: &mut Vec<String>,
    infos: &mut Vec<String>,
) -> Option<FloatHistogram> {
    if h.len() < 2 {
        return None;
    }
    let mut result = histogram_rate(h, is_counter, metric, warnings, infos)?;
    let first_t = h[0].0;
    let last_t = h[h.len() - 1].0;
    let mut x =
        crate::functions::Extrapolation::new(range_start, range_end, first_t, last_t, h.len());
    if is_counter {
        x.stop_at_zero(h[0].1.count, result.count);
    }
    let factor = x.factor(range_ms, is_rate);
    result.mul(factor);
    Some(result)
}

/// `irate`/`idelta` over the last two samples, floats or histograms.
pub(crate) fn instant_value_any(
    f: &[(i64, f64)],
    h: &[(i64, Arc<FloatHistogram>)],
    is_rate: bool,
    metric: &str,
    warnings: &mut Vec<String>,
    infos: &mut Vec<String>,
) -> Point {
    if f.len() + h.len() < 2 {
        return Point::Absent;
    }
    // The last two samples of both kinds, by time.
    let mut last: Vec<(i64, Point)> = Vec::with_capacity(4);
    for p in &f[f.len().saturating_sub(2)..] {
        last.push((p.0, Point::Float(p.1)));
    }
    for p in &h[h.len().saturating_sub(2)..] {
        last.push((p.0, Point::Hist(Arc::clone(&p.1))));
    }
    last.sort_by_key(|p| p.0);
    let (t0, p0) = &last[last.len() - 2];
    let (t1, p1) = &last[last.len() - 1];
    let interval = t1 - t0;
    if interval == 0 {
        return Point::Absent;
    }
    match (p0, p1) {
        (Point::Float(v0), Point::Float(v1)) => {
            let mut r = *v1;
            if !is_rate || v1.partial_cmp(v0) != Some(std::cmp::Ordering::Less) {
                r = v1 - v0;
            }
            if is_rate {
                r /= interval as f64 / 1000.0;
            }
            Point::Float(r)
        }
        (Point::Hist(h0), Point::Hist(h1)) => {
            let mut r = (**h1).clone();
            let gauge0 = h0.counter_reset_hint == CounterResetHint::Gauge;
            let gauge1 = h1.counter_reset_hint == CounterResetHint::Gauge;
            if is_rate && (gauge0 || gauge1) {
                warnings.push(not_counter(metric));
            }
            if !is_rate && (!gauge0 || !gauge1) {
                warnings.push(not_gauge(metric));
            }
            if !is_rate || !h1.detect_reset(h0) {
                match r.sub(h0) {
                    Ok(flags) => {
                        if flags.nhcb_bounds_reconciled {
                            infos.push(
                                "mismatched custom buckets were reconciled during subtraction"
                                    .into(),
                            );
                        }
                    }
                    Err(_) => {
                        warnings.push(mixed_schemas(metric));
                        return Point::Absent;
                    }
                }
            }
            r.counter_reset_hint = CounterResetHint::Gauge;
            r.compact(0);
            if is_rate {
                r.div(interval as f64 / 1000.0);
            }
            Point::Hist(Arc::new(r))
        }
        _ => {
            warnings.push(format!(
                "encountered a mix of histograms and floats for metric name {metric:?}"
            ));
            Point::Absent
        }
    }
}

/// `changes` (or `resets`) over floats and histograms merged by time.
pub(crate) fn changes_or_resets(
    f: &[(i64, f64)],
    h: &[(i64, Arc<FloatHistogram>)],
    resets: bool,
) -> usize {
    let mut all: Vec<(i64, Point)> = f
        .iter()
        .map(|p| (p.0, Point::Float(p.1)))
        .chain(h.iter().map(|p| (p.0, Point::Hist(Arc::clone(&p.1)))))
        .collect();
    all.sort_by_key(|p| p.0);
    let mut n = 0;
    for w in all.windows(2) {
        let hit = match (&w[0].1, &w[1].1) {
            (Point::Float(a), Point::Float(b)) => {
                if resets {
                    b < a
                } else {
                    b != a && !(a.is_nan() && b.is_nan())
                }
            }
            (Point::Hist(a), Point::Hist(b)) => {
                if resets {
                    b.detect_reset(a)
                } else {
                    !b.equals(a)
                }
            }
            _ => true,
        };
        if hit {
            n += 1;
        }
    }
    n
}

/// `sum_over_time`/`avg_over_time` of histograms (Kahan sums; the mean switches to an
/// incremental form if the sum overflows).
pub(crate) fn sum_or_avg_over_time(
    h: &[(i64, Arc<FloatHistogram>)],
    average: bool,
    metric: &str,
    warnings: &mut Vec<String>,
    infos: &mut Vec<String>,
) -> Option<FloatHistogram> {
    let (mut reset_seen, mut not_reset_seen, mut reconciled) = (false, false, false);
    let mut track = |x: &FloatHistogram| match x.counter_reset_hint {
        CounterResetHint::CounterReset => reset_seen = true,
        CounterResetHint::NotCounterReset => not_reset_seen = true,
        _ => {}
    };
    let mut sum = (*h[0].1).clone();
    track(&sum);
    let mut comp: Option<FloatHistogram> = None;
    let mut mean: Option<FloatHistogram> = None;
    let mut count = 1.0;
    let mut failed = false;
    for (i, (_, x)) in h.iter().enumerate().skip(1) {
        track(x);
        count = (i + 1) as f64;
        if !average {
            match sum.kahan_add(x, comp.take()) {
                Ok((c, flags)) => {
                    comp = c;
                    reconciled |= flags.nhcb_bounds_reconciled;
                }
                Err(_) => {
                    failed = true;
                    break;
                }
            }
            continue;
        }
        if mean.is_none() {
            let mut v = sum.clone();
            match v.kahan_add(x, comp.clone()) {
                Ok((c, flags)) => {
                    reconciled |= flags.nhcb_bounds_reconciled;
                    if !v.has_overflow() {
                        sum = v;
                        comp = c;
                        continue;
                    }
                }
                Err(_) => {
                    failed = true;
                    break;
                }
            }
            let mut m = sum.clone();
            m.div(count - 1.0);
            mean = Some(m);
            if let Some(c) = comp.as_mut() {
                c.div(count - 1.0);
            }
        }
        let q = (count - 1.0) / count;
        if let Some(c) = comp.as_mut() {
            c.mul(q);
        }
        let mut to_add = (**x).clone();
        to_add.div(count);
        if let Some(m) = mean.as_mut() {
            m.mul(q);
            match m.kahan_add(&to_add, comp.take()) {
                Ok((c, flags)) => {
                    comp = c;
                    reconciled |= flags.nhcb_bounds_reconciled;
                }
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
    }
    if reset_seen && not_reset_seen {
        warnings.push("conflicting counter resets during histogram aggregation".into());
    }
    if reconciled {
        infos.push("mismatched custom buckets were reconciled during aggregation".into());
    }
    if failed {
        warnings.push(mixed_schemas(metric));
        return None;
    }
    let out = match (average, mean) {
        (true, Some(mut m)) => {
            if let Some(c) = comp {
                let _ = m.add(&c);
            }
            m
        }
        (true, None) => {
            sum.div(count);
            if let Some(mut c) = comp {
                c.div(count);
                let _ = sum.add(&c);
            }
            sum
        }
        (false, _) => {
            if let Some(c) = comp {
                let _ = sum.add(&c);
            }
            sum
        }
    };
    Some(out)
}

/// Selectors whose histograms only feed `histogram_count`/`_sum`/`_avg` (and no subquery,
/// `histogram_quantile(s)`/`_fraction` or trim operator on the way): upstream decodes them with
/// its HistogramStatsIterator, which drops the buckets and detects counter resets on the fly.
pub(crate) fn stats_selectors(
    expr: &promql_parser::parser::Expr,
    trims: &std::collections::HashMap<usize, bool>,
) -> std::collections::HashSet<usize> {
    use promql_parser::parser::Expr;
    fn walk(
        e: &Expr,
        skip: Option<bool>,
        trims: &std::collections::HashMap<usize, bool>,
        out: &mut std::collections::HashSet<usize>,
    ) {
        // `skip`: None = undecided, Some(true) = skip buckets, Some(false) = decided: keep.
        match e {
            Expr::VectorSelector(vs) => {
                if skip == Some(true) {
                    out.insert(vs as *const _ as usize);
                }
            }
            Expr::MatrixSelector(ms) => {
                if skip == Some(true) {
                    out.insert(&ms.vs as *const _ as usize);
                }
            }
            Expr::Subquery(s) => walk(&s.expr, Some(false), trims, out),
            Expr::Call(c) => {
                let next = match (skip, c.func.name) {
                    (Some(false), _) => Some(false),
                    (_, "histogram_count" | "histogram_sum" | "histogram_avg") => Some(true),
                    (_, "histogram_quantile" | "histogram_quantiles" | "histogram_fraction") => {
                        Some(false)
                    }
                    (s, _) => s,
                };
                for a in &c.args.args {
                    walk(a, next, trims, out);
                }
            }
            Expr::Binary(b) => {
                let next = if trims.contains_key(&(b as *const _ as usize)) {
                    Some(false)
                } else {
                    skip
                };
                walk(&b.lhs, next, trims, out);
                walk(&b.rhs, next, trims, out);
            }
            Expr::Aggregate(a) => {
                walk(&a.expr, skip, trims, out);
                if let Some(p) = &a.param {
                    walk(p, skip, trims, out);
                }
            }
            Expr::Paren(p) => walk(&p.expr, skip, trims, out),
            Expr::Unary(u) => walk(&u.expr, skip, trims, out),
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
        }
    }
    let mut out = std::collections::HashSet::new();
    walk(expr, None, trims, &mut out);
    out
}

/// A series' histograms as upstream's HistogramStatsIterator yields them: count, sum and
/// schema only, with unknown counter-reset hints resolved against the previous histogram.
pub(crate) fn stats_view(hists: &[(i64, Arc<FloatHistogram>)]) -> Vec<(i64, Arc<FloatHistogram>)> {
    let mut out = Vec::with_capacity(hists.len());
    let mut prev: Option<&FloatHistogram> = None;
    for (t, h) in hists {
        if architect_model::is_stale_nan(h.sum) {
            out.push((*t, Arc::clone(h)));
            prev = None;
            continue;
        }
        let hint = match (h.counter_reset_hint, prev) {
            (CounterResetHint::Unknown, Some(p)) => {
                if h.detect_reset(p) {
                    CounterResetHint::CounterReset
                } else {
                    CounterResetHint::NotCounterReset
                }
            }
            (hint, _) => hint,
        };
        out.push((
            *t,
            Arc::new(FloatHistogram {
                schema: h.schema,
                count: h.count,
                sum: h.sum,
                counter_reset_hint: hint,
                ..FloatHistogram::default()
            }),
        ));
        prev = Some(h);
    }
    out
}
