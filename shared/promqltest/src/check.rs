//! Judging a query outcome against an [`EvalCase`], with the rules of upstream's runner
//! (`compareResult`, `checkAnnotations`, `checkExpectedFailure` in `promqltest/test.go`):
//!
//! - an error passes only if `expect fail` (or `eval_fail`) is set and its matcher accepts the
//!   message; success fails such a case;
//! - annotations: each `expect warn`/`info` line must match some annotation and, when there are
//!   such lines, every annotation must match one; `no_warn`/`no_info` forbid any;
//! - instant vectors are compared as a set keyed by labels (in order when `ordered`);
//! - matrices must be sorted by labels; each expected value `i` is due at `start + i*step`
//!   (`_` means no point), floats and histograms are compared separately in time order;
//! - floats are equal within a relative tolerance of 1e-6 (`almost.Equal`), NaN equals NaN, and
//!   the staleness marker equals only itself;
//! - histograms are compacted, then compared field by field with the same tolerance; the counter
//!   reset hint only when the expected histogram spelled it out.

use std::collections::HashMap;

use crate::histogram::fmt_float;
use crate::{
    ActualResult, ActualValue, AnnotationExpect, EvalCase, EvalKind, Expected, ExpectedSeries,
    Labels, PointValue, TestHistogram, is_stale_nan,
};

/// Relative error allowed between expected and actual sample values (upstream's `defaultEpsilon`).
const EPSILON: f64 = 0.000001;

/// Smallest positive normal f64.
const MIN_NORMAL: f64 = f64::MIN_POSITIVE;

/// Upstream's `almost.Equal(a, b, 1e-6)`: equal within a relative tolerance; both NaN counts as
/// equal, but the staleness marker only equals another staleness marker.
pub fn float_almost_equal(a: f64, b: f64) -> bool {
    if is_stale_nan(a) || is_stale_nan(b) {
        return is_stale_nan(a) && is_stale_nan(b);
    }
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let abs_sum = a.abs() + b.abs();
    let diff = (a - b).abs();
    if a == 0.0 || b == 0.0 || abs_sum < MIN_NORMAL {
        return diff < EPSILON * MIN_NORMAL;
    }
    diff / abs_sum.min(f64::MAX) < EPSILON
}

/// Upstream's `compareNativeHistogram` on compacted histograms: schema, count, sum, custom bounds
/// (for custom-bucket histograms), zero bucket, buckets, and the counter reset hint when the
/// expected histogram set it explicitly.
pub fn histograms_match(expected: &TestHistogram, actual: &TestHistogram) -> bool {
    let (Ok(exp), Ok(act)) = (expected.compact(), actual.compact()) else {
        return false;
    };
    if exp.schema != act.schema
        || !float_almost_equal(exp.count, act.count)
        || !float_almost_equal(exp.sum, act.sum)
    {
        return false;
    }
    if exp.uses_custom_buckets() && exp.custom_values != act.custom_values {
        return false;
    }
    if exp.zero_threshold != act.zero_threshold
        || !float_almost_equal(exp.zero_count, act.zero_count)
    {
        return false;
    }
    let buckets_match = |a: &[f64], b: &[f64]| {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| float_almost_equal(*x, *y))
    };
    if exp.negative_spans != act.negative_spans
        || !buckets_match(&exp.negative_buckets, &act.negative_buckets)
        || exp.positive_spans != act.positive_spans
        || !buckets_match(&exp.positive_buckets, &act.positive_buckets)
    {
        return false;
    }
    !exp.counter_reset_hint_set || exp.counter_reset_hint == act.counter_reset_hint
}

/// Checks one query outcome (`Err` carries the query's error message) against `case`.
/// Returns why it does not match.
pub fn check(case: &EvalCase, result: Result<&ActualResult, &str>) -> Result<(), String> {
    let ctx = |msg: String| format!("eval {:?} (line {}): {msg}", case.expr, case.line);
    let res = match (result, &case.expect_fail) {
        (Err(e), Some(m)) => {
            return if m.matches(e) {
                Ok(())
            } else {
                Err(ctx(format!("expected error matching {m}, but got: {e}")))
            };
        }
        (Err(e), None) => return Err(ctx(format!("unexpected error: {e}"))),
        (Ok(_), Some(_)) => return Err(ctx("expected an error but got none".into())),
        (Ok(r), None) => r,
    };
    check_annotations(case, &res.warnings, &res.infos).map_err(ctx)?;
    compare_result(case, &res.value).map_err(ctx)
}

/// Upstream re-runs every instant query as a range query from `at - 1m` to `at + 1m` with a
/// 1m step and checks the point at `at` against the same expectations. This is that check:
/// `instant` is the instant query's value (to know whether it was a scalar), `range` the range
/// query's. Only call it when [`EvalCase::range_mode_check_applies`] and the instant query
/// succeeded and passed [`check`].
pub fn check_range_mode(
    case: &EvalCase,
    instant: &ActualValue,
    range: &ActualValue,
) -> Result<(), String> {
    let ctx = |msg: String| {
        format!(
            "eval {:?} (line {}) range mode: {msg}",
            case.expr, case.line
        )
    };
    let EvalKind::Instant { at_ms } = case.kind else {
        return Err(ctx("not an instant query".into()));
    };
    let ActualValue::Matrix(series) = range else {
        return Err(ctx(format!(
            "range query returned {}, not a matrix",
            kind_name(range)
        )));
    };
    check_sorted(series).map_err(ctx)?;
    let mut vector = Vec::new();
    for (labels, points) in series {
        // Upstream takes the first float and the first histogram at that time.
        let float = points
            .iter()
            .find(|(t, v)| *t == at_ms && matches!(v, PointValue::Float(_)));
        let hist = points
            .iter()
            .find(|(t, v)| *t == at_ms && matches!(v, PointValue::Histogram(_)));
        for (_, v) in float.into_iter().chain(hist) {
            vector.push((labels.clone(), v.clone()));
        }
    }
    let value = if matches!(instant, ActualValue::Scalar(_)) {
        match vector.first() {
            Some((_, PointValue::Float(f))) => ActualValue::Scalar(*f),
            Some((_, PointValue::Histogram(_))) => ActualValue::Scalar(0.0),
            None => return Err(ctx(format!("no point at t={at_ms} in the range result"))),
        }
    } else {
        ActualValue::Vector(vector)
    };
    compare_result(case, &value).map_err(ctx)
}

impl EvalCase {
    /// Whether upstream's runner also checks this instant query in range mode (see
    /// [`check_range_mode`]): not for range queries, `expect fail`, `expect string`,
    /// `expect range vector`, `ordered` results, or expressions calling `start()`, `end()`,
    /// `range()` or `step()`.
    pub fn range_mode_check_applies(&self) -> bool {
        matches!(self.kind, EvalKind::Instant { .. })
            && self.expect_fail.is_none()
            && !self.ordered
            && !matches!(
                self.expected,
                Expected::String(_) | Expected::RangeVector { .. }
            )
            && !["start()", "end()", "range()", "step()"]
                .iter()
                .any(|f| self.expr.contains(f))
    }
}

fn check_annotations(case: &EvalCase, warnings: &[String], infos: &[String]) -> Result<(), String> {
    check_annotation_kind("warn", &case.expect_warn, warnings)?;
    check_annotation_kind("info", &case.expect_info, infos)?;
    if case.expect_no_warn && !warnings.is_empty() {
        return Err(format!("unexpected warning annotations: {warnings:?}"));
    }
    if case.expect_no_info && !infos.is_empty() {
        return Err(format!("unexpected info annotations: {infos:?}"));
    }
    Ok(())
}

fn check_annotation_kind(
    kind: &str,
    expected: &[AnnotationExpect],
    actual: &[String],
) -> Result<(), String> {
    if expected.is_empty() {
        return Ok(());
    }
    if actual.is_empty() {
        return Err(format!("expected {kind} annotations but none were found"));
    }
    for e in expected {
        if !actual.iter().any(|a| e.matcher.matches(a)) {
            return Err(format!(
                "expected {kind} annotation matching {} but no matching annotation was found, found: {actual:?}",
                e.matcher
            ));
        }
    }
    for a in actual {
        if !expected.iter().any(|e| e.matcher.matches(a)) {
            return Err(format!("unexpected {kind} annotation {a:?}"));
        }
    }
    Ok(())
}

/// What `compareResult` compares against, flattened out of [`Expected`] as upstream keeps it.
struct Expectation<'a> {
    scalar: Option<f64>,
    series: &'a [ExpectedSeries],
    string: &'a str,
    /// Time of expected value `i` is `start + i * step`; values after `end` cannot be returned.
    start: i64,
    end: i64,
    step: i64,
}

fn expectation(case: &EvalCase) -> Expectation<'_> {
    let (start, end, step) = match case.kind {
        // An instant query's result has no time range: any expected matrix point is too many.
        EvalKind::Instant { at_ms } => (at_ms, i64::MIN, 0),
        EvalKind::Range {
            start_ms,
            end_ms,
            step_ms,
        } => (start_ms, end_ms, step_ms),
    };
    let mut e = Expectation {
        scalar: None,
        series: &[],
        string: "",
        start,
        end,
        step,
    };
    match &case.expected {
        Expected::Series(s) => e.series = s,
        Expected::Scalar(v) => e.scalar = Some(*v),
        Expected::String(s) => e.string = s,
        Expected::RangeVector {
            start_ms,
            end_ms,
            step_ms,
            series,
        } => {
            e.series = series;
            (e.start, e.end, e.step) = (*start_ms, *end_ms, *step_ms);
        }
    }
    e
}

fn compare_result(case: &EvalCase, value: &ActualValue) -> Result<(), String> {
    let exp = expectation(case);
    let index: HashMap<&Labels, usize> = exp
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| (&s.labels, i))
        .collect();
    match value {
        ActualValue::Matrix(series) => {
            if case.ordered {
                return Err("expected ordered result, but query returned a matrix".into());
            }
            if let Some(v) = exp.scalar {
                return Err(format!(
                    "expected scalar {} but got a matrix: {}",
                    fmt_float(v),
                    fmt_matrix(series)
                ));
            }
            check_sorted(series)?;
            let mut seen = vec![false; exp.series.len()];
            for (labels, points) in series {
                let Some(&i) = index.get(labels) else {
                    return Err(format!(
                        "unexpected metric {} in result, has {}",
                        fmt_labels(labels),
                        fmt_points(points)
                    ));
                };
                seen[i] = true;
                compare_series(&exp, &exp.series[i], points)?;
            }
            if let Some(i) = seen.iter().position(|s| !s) {
                return Err(format!(
                    "expected metric {} not found",
                    fmt_labels(&exp.series[i].labels)
                ));
            }
            Ok(())
        }
        ActualValue::Vector(samples) => {
            if let Some(v) = exp.scalar {
                return Err(format!(
                    "expected scalar {} but got a vector: {}",
                    fmt_float(v),
                    fmt_vector(samples)
                ));
            }
            let mut seen = vec![false; exp.series.len()];
            for (pos, (labels, v)) in samples.iter().enumerate() {
                let Some(&i) = index.get(labels) else {
                    return Err(format!(
                        "unexpected metric {} in result, has value {}",
                        fmt_labels(labels),
                        fmt_value(v)
                    ));
                };
                let want = &exp.series[i];
                if case.ordered && i != pos {
                    return Err(format!(
                        "expected metric {} at position {} but was at {}",
                        fmt_labels(labels),
                        i + 1,
                        pos + 1
                    ));
                }
                let Some(first) = want.points.first() else {
                    return Err(format!(
                        "expected series {} has no value",
                        fmt_labels(labels)
                    ));
                };
                // Upstream reads `_` here as the float 0.
                let zero = PointValue::Float(0.0);
                let first = first.as_ref().unwrap_or(&zero);
                compare_value(first, v).map_err(|e| format!("{e} for {}", fmt_labels(labels)))?;
                seen[i] = true;
            }
            if let Some(i) = seen.iter().position(|s| !s) {
                let s = &exp.series[i];
                return Err(format!(
                    "expected metric {} with {} not found",
                    fmt_labels(&s.labels),
                    fmt_expected_points(&s.points)
                ));
            }
            Ok(())
        }
        ActualValue::Scalar(v) => match exp.scalar {
            Some(want) if float_almost_equal(want, *v) => Ok(()),
            Some(want) => Err(format!(
                "expected scalar {} but got {}",
                fmt_float(want),
                fmt_float(*v)
            )),
            None => Err(format!(
                "expected vector or matrix result, but got scalar {}",
                fmt_float(*v)
            )),
        },
        // Without `expect string`, upstream compares against the empty string.
        ActualValue::String(s) if s == exp.string => Ok(()),
        ActualValue::String(s) => Err(format!("expected string {:?} but got {s:?}", exp.string)),
    }
}

fn compare_value(want: &PointValue, got: &PointValue) -> Result<(), String> {
    match (want, got) {
        (PointValue::Float(w), PointValue::Float(g)) if float_almost_equal(*w, *g) => Ok(()),
        (PointValue::Histogram(w), PointValue::Histogram(g)) if histograms_match(w, g) => Ok(()),
        (PointValue::Float(_), PointValue::Histogram(_)) => Err(format!(
            "expected float value {} but got histogram {}",
            fmt_value(want),
            fmt_value(got)
        )),
        (PointValue::Histogram(_), PointValue::Float(_)) => Err(format!(
            "expected histogram {} but got float value {}",
            fmt_value(want),
            fmt_value(got)
        )),
        _ => Err(format!(
            "expected {} but got {}",
            fmt_value(want),
            fmt_value(got)
        )),
    }
}

/// One matrix series against its expected values (floats and histograms separately, in order).
fn compare_series(
    exp: &Expectation<'_>,
    want: &ExpectedSeries,
    got: &[(i64, PointValue)],
) -> Result<(), String> {
    let name = fmt_labels(&want.labels);
    let mut want_floats = Vec::new();
    let mut want_hists = Vec::new();
    for (i, v) in want.points.iter().enumerate() {
        let t = i64::try_from(i)
            .ok()
            .and_then(|i| i.checked_mul(exp.step))
            .and_then(|o| exp.start.checked_add(o));
        let t = match t {
            Some(t) if t <= exp.end => t,
            _ => {
                return Err(format!(
                    "expected {} points for {name}, but query time range cannot return this many points",
                    want.points.len()
                ));
            }
        };
        match v {
            Some(PointValue::Float(f)) => want_floats.push((t, *f)),
            Some(PointValue::Histogram(h)) => want_hists.push((t, h)),
            None => {}
        }
    }
    let got_floats: Vec<(i64, f64)> = got
        .iter()
        .filter_map(|(t, v)| match v {
            PointValue::Float(f) => Some((*t, *f)),
            PointValue::Histogram(_) => None,
        })
        .collect();
    let got_hists: Vec<(i64, &TestHistogram)> = got
        .iter()
        .filter_map(|(t, v)| match v {
            PointValue::Histogram(h) => Some((*t, h)),
            PointValue::Float(_) => None,
        })
        .collect();
    if want_floats.len() != got_floats.len() || want_hists.len() != got_hists.len() {
        return Err(format!(
            "expected {} float points and {} histogram points for {name}, but got {}",
            want_floats.len(),
            want_hists.len(),
            fmt_points(got)
        ));
    }
    for (i, ((wt, wv), (gt, gv))) in want_floats.iter().zip(&got_floats).enumerate() {
        if wt != gt {
            return Err(format!(
                "expected float value at index {i} for {name} to have timestamp {wt}, but it had timestamp {gt} (result has {})",
                fmt_points(got)
            ));
        }
        if !float_almost_equal(*wv, *gv) {
            return Err(format!(
                "expected float value at index {i} (t={gt}) for {name} to be {}, but got {} (result has {})",
                fmt_float(*wv),
                fmt_float(*gv),
                fmt_points(got)
            ));
        }
    }
    for (i, ((wt, wh), (gt, gh))) in want_hists.iter().zip(&got_hists).enumerate() {
        if wt != gt {
            return Err(format!(
                "expected histogram value at index {i} for {name} to have timestamp {wt}, but it had timestamp {gt} (result has {})",
                fmt_points(got)
            ));
        }
        if !histograms_match(wh, gh) {
            return Err(format!(
                "expected histogram value at index {i} (t={gt}) for {name} to be {wh}, but got {gh}"
            ));
        }
    }
    Ok(())
}

/// Matrices must come sorted by labels.
fn check_sorted<T>(series: &[(Labels, T)]) -> Result<(), String> {
    for (i, w) in series.windows(2).enumerate() {
        if w[0].0 > w[1].0 {
            return Err(format!(
                "matrix results should always be sorted by labels, but series at index {} with labels {} sorts before series at index {i} with labels {}",
                i + 1,
                fmt_labels(&w[1].0),
                fmt_labels(&w[0].0)
            ));
        }
    }
    Ok(())
}

fn kind_name(v: &ActualValue) -> &'static str {
    match v {
        ActualValue::Scalar(_) => "a scalar",
        ActualValue::String(_) => "a string",
        ActualValue::Vector(_) => "a vector",
        ActualValue::Matrix(_) => "a matrix",
    }
}

/// `name{a="b", c="d"}` (or `{...}` without a name).
pub(crate) fn fmt_labels(labels: &Labels) -> String {
    let name = labels
        .iter()
        .find(|(n, _)| n == crate::METRIC_NAME)
        .map(|(_, v)| v.as_str())
        .unwrap_or("");
    let rest: Vec<String> = labels
        .iter()
        .filter(|(n, _)| n != crate::METRIC_NAME)
        .map(|(n, v)| format!("{n}={v:?}"))
        .collect();
    if rest.is_empty() && !name.is_empty() {
        name.to_string()
    } else {
        format!("{name}{{{}}}", rest.join(", "))
    }
}

fn fmt_value(v: &PointValue) -> String {
    match v {
        PointValue::Float(f) => fmt_float(*f),
        PointValue::Histogram(h) => h.to_string(),
    }
}

fn fmt_expected_points(points: &[Option<PointValue>]) -> String {
    let parts: Vec<String> = points
        .iter()
        .map(|p| p.as_ref().map(fmt_value).unwrap_or_else(|| "_".into()))
        .collect();
    parts.join(" ")
}

fn fmt_points(points: &[(i64, PointValue)]) -> String {
    let parts: Vec<String> = points
        .iter()
        .map(|(t, v)| format!("{} @{t}", fmt_value(v)))
        .collect();
    format!("{} point(s) [{}]", points.len(), parts.join(", "))
}

fn fmt_vector(samples: &[(Labels, PointValue)]) -> String {
    let parts: Vec<String> = samples
        .iter()
        .map(|(l, v)| format!("{} => {}", fmt_labels(l), fmt_value(v)))
        .collect();
    format!("[{}]", parts.join(", "))
}

fn fmt_matrix(series: &[(Labels, Vec<(i64, PointValue)>)]) -> String {
    let parts: Vec<String> = series
        .iter()
        .map(|(l, p)| format!("{} => {}", fmt_labels(l), fmt_points(p)))
        .collect();
    format!("[{}]", parts.join(", "))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::{CounterResetHint, parse_script, stale_nan};

    fn case(script: &str) -> EvalCase {
        parse_script(script)
            .unwrap()
            .eval_cases()
            .next()
            .unwrap()
            .clone()
    }

    fn l(pairs: &[(&str, &str)]) -> Labels {
        let mut v: Labels = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        v.sort();
        v
    }

    fn ok(value: ActualValue) -> ActualResult {
        ActualResult {
            value,
            warnings: vec![],
            infos: vec![],
        }
    }

    fn vector(samples: &[(&[(&str, &str)], f64)]) -> ActualValue {
        ActualValue::Vector(
            samples
                .iter()
                .map(|(ls, v)| (l(ls), PointValue::Float(*v)))
                .collect(),
        )
    }

    fn fl(points: &[(i64, f64)]) -> Vec<(i64, PointValue)> {
        points
            .iter()
            .map(|(t, v)| (*t, PointValue::Float(*v)))
            .collect()
    }

    fn hist(spans: Vec<(i32, u32)>, buckets: Vec<f64>) -> TestHistogram {
        TestHistogram {
            count: buckets.iter().sum(),
            sum: 1.0,
            positive_spans: spans,
            positive_buckets: buckets,
            ..Default::default()
        }
    }

    #[test]
    fn float_tolerance_matches_upstream() {
        assert!(float_almost_equal(1.0, 1.0 + 1e-7));
        assert!(!float_almost_equal(1.0, 1.00001));
        assert!(float_almost_equal(1e300, 1e300 * (1.0 + 1e-7)));
        assert!(float_almost_equal(f64::NAN, -f64::NAN));
        assert!(float_almost_equal(f64::INFINITY, f64::INFINITY));
        assert!(!float_almost_equal(f64::INFINITY, f64::NEG_INFINITY));
        assert!(float_almost_equal(stale_nan(), stale_nan()));
        assert!(!float_almost_equal(stale_nan(), f64::NAN));
        assert!(!float_almost_equal(f64::NAN, stale_nan()));
        assert!(float_almost_equal(0.0, 1e-320)); // both below the smallest normal
        assert!(!float_almost_equal(0.0, 1e-300));
    }

    #[test]
    fn instant_vectors_compare_as_sets() {
        let c = case("eval instant at 1m m\n  m{a=\"1\"} 1\n  m{a=\"2\"} 2\n");
        let both = vector(&[
            (&[("__name__", "m"), ("a", "2")], 2.0),
            (&[("__name__", "m"), ("a", "1")], 1.0),
        ]);
        assert!(check(&c, Ok(&ok(both))).is_ok());
        let wrong = vector(&[
            (&[("__name__", "m"), ("a", "1")], 1.0),
            (&[("__name__", "m"), ("a", "2")], 2.1),
        ]);
        let e = check(&c, Ok(&ok(wrong))).unwrap_err();
        assert!(
            e.contains("expected 2 but got 2.1") && e.contains("line 1"),
            "{e}"
        );
        let missing = vector(&[(&[("__name__", "m"), ("a", "1")], 1.0)]);
        assert!(
            check(&c, Ok(&ok(missing)))
                .unwrap_err()
                .contains("not found")
        );
        let extra = vector(&[
            (&[("__name__", "m"), ("a", "1")], 1.0),
            (&[("__name__", "m"), ("a", "2")], 2.0),
            (&[("a", "3")], 3.0),
        ]);
        assert!(
            check(&c, Ok(&ok(extra)))
                .unwrap_err()
                .contains("unexpected metric {a=\"3\"}")
        );
        // A scalar result where a vector is expected.
        assert!(check(&c, Ok(&ok(ActualValue::Scalar(1.0)))).is_err());
        // No result lines: the result must be empty.
        let c = case("eval instant at 1m m\n");
        assert!(check(&c, Ok(&ok(ActualValue::Vector(vec![])))).is_ok());
        assert!(check(&c, Ok(&ok(vector(&[(&[], 1.0)])))).is_err());
    }

    #[test]
    fn ordered_vectors_compare_in_order() {
        let c =
            case("eval instant at 1m sort(m)\n  expect ordered\n  m{a=\"1\"} 1\n  m{a=\"2\"} 2\n");
        let right = vector(&[
            (&[("__name__", "m"), ("a", "1")], 1.0),
            (&[("__name__", "m"), ("a", "2")], 2.0),
        ]);
        let swapped = vector(&[
            (&[("__name__", "m"), ("a", "2")], 2.0),
            (&[("__name__", "m"), ("a", "1")], 1.0),
        ]);
        assert!(check(&c, Ok(&ok(right))).is_ok());
        assert!(
            check(&c, Ok(&ok(swapped)))
                .unwrap_err()
                .contains("at position 2 but was at 1")
        );
        let m = ActualValue::Matrix(vec![]);
        assert!(check(&c, Ok(&ok(m))).unwrap_err().contains("ordered"));
    }

    #[test]
    fn stale_and_nan_values() {
        let c = case("eval instant at 1m m\n  m NaN\n");
        assert!(check(&c, Ok(&ok(vector(&[(&[("__name__", "m")], f64::NAN)])))).is_ok());
        assert!(check(&c, Ok(&ok(vector(&[(&[("__name__", "m")], stale_nan())])))).is_err());
        let c = case("eval range from 0 to 1m step 1m m\n  m 1 stale\n");
        let got = ActualValue::Matrix(vec![(
            l(&[("__name__", "m")]),
            fl(&[(0, 1.0), (60_000, stale_nan())]),
        )]);
        assert!(check(&c, Ok(&ok(got))).is_ok());
        let got = ActualValue::Matrix(vec![(
            l(&[("__name__", "m")]),
            fl(&[(0, 1.0), (60_000, f64::NAN)]),
        )]);
        assert!(check(&c, Ok(&ok(got))).is_err());
    }

    #[test]
    fn range_results_are_checked_per_step() {
        let c = case("eval range from 0 to 3m step 1m m\n  m{a=\"1\"} 1 _ 3 4\n  {a=\"2\"} 1x3\n");
        let good = ActualValue::Matrix(vec![
            (
                l(&[("__name__", "m"), ("a", "1")]),
                fl(&[(0, 1.0), (120_000, 3.0), (180_000, 4.0)]),
            ),
            (
                l(&[("a", "2")]),
                fl(&[(0, 1.0), (60_000, 1.0), (120_000, 1.0), (180_000, 1.0)]),
            ),
        ]);
        assert!(check(&c, Ok(&ok(good.clone()))).is_ok());
        let ActualValue::Matrix(mut series) = good else {
            unreachable!()
        };
        // A point where `_` expects none.
        let mut extra = series.clone();
        extra[0].1.insert(1, (60_000, PointValue::Float(2.0)));
        assert!(
            check(&c, Ok(&ok(ActualValue::Matrix(extra))))
                .unwrap_err()
                .contains("float points")
        );
        // Right count, wrong timestamp.
        let mut shifted = series.clone();
        shifted[0].1[1].0 = 150_000;
        assert!(
            check(&c, Ok(&ok(ActualValue::Matrix(shifted))))
                .unwrap_err()
                .contains("timestamp")
        );
        // Matrices must be sorted by labels.
        series.reverse();
        assert!(
            check(&c, Ok(&ok(ActualValue::Matrix(series))))
                .unwrap_err()
                .contains("sorted")
        );
        // More expected values than the range has steps.
        let c = case("eval range from 0 to 1m step 1m m\n  m 1 2 3\n");
        let got = ActualValue::Matrix(vec![(
            l(&[("__name__", "m")]),
            fl(&[(0, 1.0), (60_000, 2.0)]),
        )]);
        assert!(
            check(&c, Ok(&ok(got)))
                .unwrap_err()
                .contains("cannot return this many points")
        );
    }

    #[test]
    fn range_vector_expectation_on_instant_query() {
        let c = case(
            "eval instant at 1m m[1m]\n  expect range vector from 10s to 1m step 10s\n  m{env=\"a\"} 2 3 4 5 6\n",
        );
        let pts: Vec<(i64, f64)> = (1..=5).map(|i| (i * 10_000, (i + 1) as f64)).collect();
        let got = ActualValue::Matrix(vec![(l(&[("__name__", "m"), ("env", "a")]), fl(&pts))]);
        assert!(check(&c, Ok(&ok(got))).is_ok());
        // Without the directive an instant query cannot expect matrix points.
        let c = case("eval instant at 1m m[1m]\n  m 1\n");
        let got = ActualValue::Matrix(vec![(l(&[("__name__", "m")]), fl(&[(60_000, 1.0)]))]);
        assert!(check(&c, Ok(&ok(got))).is_err());
    }

    #[test]
    fn scalars_and_strings() {
        let c = case("eval instant at 1m 1+1\n  2\n");
        assert!(check(&c, Ok(&ok(ActualValue::Scalar(2.0000001)))).is_ok());
        assert!(
            check(&c, Ok(&ok(ActualValue::Scalar(3.0))))
                .unwrap_err()
                .contains("expected scalar 2 but got 3")
        );
        assert!(check(&c, Ok(&ok(vector(&[(&[], 2.0)])))).is_err());
        let c = case("eval instant at 1m \"Foo\"\n  expect string \"Foo\"\n");
        assert!(check(&c, Ok(&ok(ActualValue::String("Foo".into())))).is_ok());
        assert!(check(&c, Ok(&ok(ActualValue::String("foo".into())))).is_err());
        assert!(check(&c, Ok(&ok(ActualValue::Scalar(1.0)))).is_err());
    }

    #[test]
    fn expected_failures() {
        let c = case("eval instant at 1m m\n  expect fail msg: boom\n");
        assert!(check(&c, Err("boom")).is_ok());
        assert!(
            check(&c, Err("boom!"))
                .unwrap_err()
                .contains("expected error matching message \"boom\"")
        );
        assert!(
            check(&c, Ok(&ok(ActualValue::Vector(vec![]))))
                .unwrap_err()
                .contains("expected an error")
        );
        let c = case("eval instant at 1m m\n  expect fail regex: bo+m\n");
        assert!(check(&c, Err("a booom")).is_ok());
        assert!(check(&c, Err("bm")).is_err());
        let c = case("eval_fail instant at 1m m\n");
        assert!(check(&c, Err("anything")).is_ok());
        let c = case("eval instant at 1m m\n");
        assert!(
            check(&c, Err("boom"))
                .unwrap_err()
                .contains("unexpected error: boom")
        );
    }

    #[test]
    fn annotations() {
        let with = |warnings: &[&str], infos: &[&str]| ActualResult {
            value: ActualValue::Vector(vec![]),
            warnings: warnings.iter().map(|s| s.to_string()).collect(),
            infos: infos.iter().map(|s| s.to_string()).collect(),
        };
        let c = case(
            "eval instant at 1m m\n  expect warn msg: PromQL warning: w (1:1)\n  expect no_info\n",
        );
        assert!(check(&c, Ok(&with(&["PromQL warning: w (1:1)"], &[]))).is_ok());
        assert!(
            check(&c, Ok(&with(&[], &[])))
                .unwrap_err()
                .contains("none were found")
        );
        assert!(check(&c, Ok(&with(&["PromQL warning: w (1:2)"], &[]))).is_err());
        assert!(
            check(
                &c,
                Ok(&with(
                    &["PromQL warning: w (1:1)", "PromQL warning: other"],
                    &[]
                ))
            )
            .unwrap_err()
            .contains("unexpected warn annotation")
        );
        assert!(
            check(
                &c,
                Ok(&with(&["PromQL warning: w (1:1)"], &["PromQL info: i"]))
            )
            .is_err()
        );
        let c = case(
            "eval instant at 1m m\n  expect info regex: fixed .* \\(1:[0-9]+\\)\n  expect no_warn\n",
        );
        assert!(
            check(
                &c,
                Ok(&with(&[], &["PromQL info: fixed for monotonicity (1:21)"]))
            )
            .is_ok()
        );
        assert!(check(&c, Ok(&with(&["w"], &["PromQL info: fixed x (1:21)"]))).is_err());
        // Without expect lines annotations are not checked at all.
        let c = case("eval instant at 1m m\n");
        assert!(check(&c, Ok(&with(&["w"], &["i"]))).is_ok());
        // Legacy eval_warn: at least one warning, any text.
        let c = case("eval_warn instant at 1m m\n");
        assert!(check(&c, Ok(&with(&["w"], &[]))).is_ok());
        assert!(check(&c, Ok(&with(&[], &[]))).is_err());
    }

    #[test]
    fn histograms_compare_after_compaction() {
        let a = hist(vec![(0, 3)], vec![1.0, 0.0, 2.0]);
        let b = hist(vec![(0, 1), (1, 1)], vec![1.0, 2.0]);
        assert!(histograms_match(&a, &b));
        let c = hist(vec![(0, 1), (2, 1)], vec![1.0, 2.0]);
        assert!(!histograms_match(&a, &c));
        let mut d = b.clone();
        d.positive_buckets[1] = 2.0000001;
        d.count = 3.0000001;
        assert!(histograms_match(&a, &d));
        d.positive_buckets[1] = 2.1;
        assert!(!histograms_match(&a, &d));
        let mut e = b.clone();
        e.zero_threshold = 0.001;
        assert!(!histograms_match(&a, &e));
        // The counter reset hint is only compared when the expectation spelled it out.
        let mut gauge = b.clone();
        gauge.counter_reset_hint = CounterResetHint::Gauge;
        assert!(histograms_match(&a, &gauge));
        let mut want_unknown = a.clone();
        want_unknown.counter_reset_hint_set = true;
        assert!(!histograms_match(&want_unknown, &gauge));
        // Custom bounds must match for custom-bucket histograms.
        let mut nhcb = hist(vec![(0, 2)], vec![1.0, 1.0]);
        nhcb.schema = crate::CUSTOM_BUCKETS_SCHEMA;
        nhcb.custom_values = vec![1.0];
        let mut other = nhcb.clone();
        other.custom_values = vec![2.0];
        assert!(!histograms_match(&nhcb, &other));
        // Inconsistent spans never match.
        assert!(!histograms_match(&a, &hist(vec![(0, 5)], vec![1.0])));
    }

    #[test]
    fn histogram_results_from_scripts() {
        let c = case(
            "eval instant at 1m h\n  h {{schema:0 sum:5 count:4 buckets:[1 2 1] counter_reset_hint:not_reset}}\n",
        );
        let mut got = hist(vec![(0, 2), (0, 1)], vec![1.0, 2.0, 1.0]);
        got.sum = 5.0;
        got.counter_reset_hint = CounterResetHint::NotCounterReset;
        let v = |h: TestHistogram| {
            ActualValue::Vector(vec![(l(&[("__name__", "h")]), PointValue::Histogram(h))])
        };
        assert!(check(&c, Ok(&ok(v(got.clone())))).is_ok());
        got.counter_reset_hint = CounterResetHint::Unknown;
        let e = check(&c, Ok(&ok(v(got)))).unwrap_err();
        assert!(e.contains("counter_reset_hint:not_reset"), "{e}");
        assert!(
            check(&c, Ok(&ok(vector(&[(&[("__name__", "h")], 4.0)]))))
                .unwrap_err()
                .contains("expected histogram")
        );
    }

    #[test]
    fn range_mode_check() {
        let c = case("eval instant at 2m m\n  m 2\n");
        assert!(c.range_mode_check_applies());
        let range = ActualValue::Matrix(vec![(
            l(&[("__name__", "m")]),
            fl(&[(60_000, 1.0), (120_000, 2.0), (180_000, 3.0)]),
        )]);
        let instant = vector(&[(&[("__name__", "m")], 2.0)]);
        assert!(check_range_mode(&c, &instant, &range).is_ok());
        let bad = ActualValue::Matrix(vec![(
            l(&[("__name__", "m")]),
            fl(&[(60_000, 1.0), (120_000, 5.0)]),
        )]);
        assert!(
            check_range_mode(&c, &instant, &bad)
                .unwrap_err()
                .contains("range mode")
        );
        let c = case("eval instant at 2m time()\n  120\n");
        let range = ActualValue::Matrix(vec![(vec![], fl(&[(60_000, 60.0), (120_000, 120.0)]))]);
        assert!(check_range_mode(&c, &ActualValue::Scalar(120.0), &range).is_ok());
        assert!(!case("eval instant at 0 step()\n  0\n").range_mode_check_applies());
        assert!(!case("eval range from 0 to 1m step 1m m\n").range_mode_check_applies());
        assert!(
            !case("eval instant at 0 \"a\"\n  expect string \"a\"\n").range_mode_check_applies()
        );
    }
}
