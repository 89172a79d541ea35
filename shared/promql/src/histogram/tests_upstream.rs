//! Test cases ported by behaviour from upstream's `model/histogram/float_histogram_test.go`:
//! the case tables (inputs and expected outputs) are upstream's, transcribed to Rust; the
//! checks mirror upstream's test helpers (results compared after `compact(0)` where upstream
//! does so, both argument orders for add, the negated result for swapped sub).
#![allow(clippy::unwrap_used)]
// Expected values are upstream's printed floats (1.414213562373095 is not SQRT_2).
#![allow(clippy::approx_constant)]

use super::{CounterResetHint, FloatHistogram, HistogramError};

/// name, in1, in2, expected, error message, counter-reset collision, NHCB bounds reconciled.
type OpCase = (
    &'static str,
    Option<FloatHistogram>,
    Option<FloatHistogram>,
    Option<FloatHistogram>,
    &'static str,
    bool,
    bool,
);
/// name, in1, compensation, in2, expected sum, error message, collision, reconciled.
type KahanCase = (
    &'static str,
    Option<FloatHistogram>,
    Option<FloatHistogram>,
    Option<FloatHistogram>,
    Option<FloatHistogram>,
    &'static str,
    bool,
    bool,
);

fn compacted(mut h: FloatHistogram) -> FloatHistogram {
    h.compact(0);
    h
}

#[test]
fn upstream_mul() {
    for (name, mut h, factor, expected) in mul_cases() {
        h.mul(factor);
        assert_eq!(h, expected, "{name}");
    }
}

#[test]
fn upstream_div() {
    for (name, mut h, divisor, expected) in div_cases() {
        h.div(divisor);
        assert_eq!(h, expected, "{name}");
    }
}

#[test]
fn upstream_detect_reset() {
    for (name, previous, current, reset) in detect_reset_cases() {
        assert_eq!(current.detect_reset(&previous), reset, "{name}");
    }
}

#[test]
fn upstream_compact() {
    for (name, mut h, max_empty, expected) in compact_cases() {
        h.compact(max_empty);
        assert_eq!(h, expected, "{name}");
    }
}

#[test]
fn upstream_copy_to_schema() {
    for (name, target, h, expected) in copy_to_schema_cases() {
        let before = h.clone();
        assert_eq!(h.copy_to_schema(target), expected, "{name}");
        assert_eq!(h, before, "{name}: receiver changed");
    }
}

/// Upstream's `testHistogramAdd`.
fn check_add(
    name: &str,
    a: &FloatHistogram,
    b: &FloatHistogram,
    expected: Option<&FloatHistogram>,
    case: &OpCase,
) {
    let mut res = a.clone();
    let outcome = res.add(b);
    if !case.4.is_empty() {
        assert_eq!(outcome, Err(HistogramError::IncompatibleSchema), "{name}");
        assert_eq!(&res, a, "{name}: changed on error");
        return;
    }
    let flags = outcome.unwrap();
    assert_eq!(
        (flags.counter_reset_collision, flags.nhcb_bounds_reconciled),
        (case.5, case.6),
        "{name}"
    );
    if let Some(expected) = expected {
        assert_eq!(compacted(res), compacted(expected.clone()), "{name}");
    }
}

/// Upstream's `testHistogramKahanAdd`: Kahan-add, check the compensation's layout, add it,
/// compare.
fn check_kahan_add(
    name: &str,
    a: &FloatHistogram,
    comp: Option<&FloatHistogram>,
    b: &FloatHistogram,
    expected: Option<&FloatHistogram>,
    (err, collision, reconciled): (&str, bool, bool),
) {
    let mut res = a.clone();
    let b_before = b.clone();
    let outcome = res.kahan_add(b, comp.cloned());
    if !err.is_empty() {
        assert!(
            matches!(outcome, Err(HistogramError::IncompatibleSchema)),
            "{name}"
        );
        return;
    }
    let (comp, flags) = outcome.unwrap();
    let comp = comp.unwrap();
    assert_eq!(res.schema, comp.schema, "{name}");
    assert_eq!(res.zero_threshold, comp.zero_threshold, "{name}");
    assert_eq!(res.positive_spans, comp.positive_spans, "{name}");
    assert_eq!(res.negative_spans, comp.negative_spans, "{name}");
    assert_eq!(res.custom_values.len(), comp.custom_values.len(), "{name}");
    assert_eq!(
        res.positive_buckets.len(),
        comp.positive_buckets.len(),
        "{name}"
    );
    assert_eq!(
        res.negative_buckets.len(),
        comp.negative_buckets.len(),
        "{name}"
    );
    res.add(&comp).unwrap();
    assert_eq!(
        (flags.counter_reset_collision, flags.nhcb_bounds_reconciled),
        (collision, reconciled),
        "{name}"
    );
    if let Some(expected) = expected {
        assert_eq!(compacted(res), compacted(expected.clone()), "{name}");
    }
    assert_eq!(b, &b_before, "{name}: argument changed");
}

#[test]
fn upstream_add() {
    let cases = add_cases();
    assert!(cases.len() > 20);
    for case in &cases {
        let (name, Some(in1), Some(in2)) = (case.0, &case.1, &case.2) else {
            panic!("{}", case.0)
        };
        check_add(name, in1, in2, case.3.as_ref(), case);
        check_add(name, in2, in1, case.3.as_ref(), case);
        let flags = (case.4, case.5, case.6);
        check_kahan_add(name, in1, None, in2, case.3.as_ref(), flags);
        check_kahan_add(name, in2, None, in1, case.3.as_ref(), flags);
    }
}

/// Upstream's expected results are, before compaction, exactly the layouts its `Add` builds
/// (of `in1 + in2`; for two custom-bucket cases of `in2 + in1`): the insertion rules of
/// `add_buckets` are upstream's.
#[test]
fn upstream_add_raw_layout() {
    let mut checked = 0;
    for case in add_cases() {
        let (Some(in1), Some(in2), Some(expected)) = (&case.1, &case.2, &case.3) else {
            continue;
        };
        let (a, b) = if case
            .0
            .starts_with("non-overlapping spans inverted order with custom")
            || case
                .0
                .starts_with("overlapping spans inverted order with custom")
        {
            (in2, in1)
        } else {
            (in1, in2)
        };
        let mut res = a.clone();
        res.add(b).unwrap();
        assert_eq!(&res, expected, "{}", case.0);
        checked += 1;
    }
    assert_eq!(checked, 22);
}

#[test]
fn upstream_kahan_add_with_compensation() {
    for (name, in1, comp, in2, expected, err, collision, reconciled) in kahan_add_cases() {
        let (Some(in1), Some(in2)) = (in1, in2) else {
            panic!("{name}")
        };
        check_kahan_add(
            name,
            &in1,
            comp.as_ref(),
            &in2,
            expected.as_ref(),
            (err, collision, reconciled),
        );
    }
}

#[test]
fn upstream_sub() {
    for case in sub_cases() {
        let (name, Some(in1), Some(in2)) = (case.0, &case.1, &case.2) else {
            panic!("{}", case.0)
        };
        let check = |a: &FloatHistogram, b: &FloatHistogram, expected: Option<FloatHistogram>| {
            let mut res = a.clone();
            let outcome = res.sub(b);
            if !case.4.is_empty() {
                assert_eq!(outcome, Err(HistogramError::IncompatibleSchema), "{name}");
                return;
            }
            let flags = outcome.unwrap();
            if let Some(expected) = expected {
                assert_eq!(compacted(res), compacted(expected), "{name}");
                assert_eq!(
                    (flags.counter_reset_collision, flags.nhcb_bounds_reconciled),
                    (case.5, case.6),
                    "{name}"
                );
            }
        };
        check(in1, in2, case.3.clone());
        // Swapped: the negated result, with the expected hint kept.
        let negated = case.3.clone().map(|mut e| {
            let hint = e.counter_reset_hint;
            e.mul(-1.0);
            e.counter_reset_hint = hint;
            e
        });
        check(in2, in1, negated);
    }
}

/// Cases of upstream's `TestFloatHistogramMul`.
// fields: name: str, in: hist, scale: f64, expected: hist
pub(super) fn mul_cases() -> Vec<(&'static str, FloatHistogram, f64, FloatHistogram)> {
    vec![
        (
            "zero value",
            FloatHistogram {
                ..Default::default()
            },
            3.1415,
            FloatHistogram {
                ..Default::default()
            },
        ),
        (
            "zero multiplier",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            0.0,
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 0.0,
                count: 0.0,
                sum: 0.0,
                positive_spans: vec![(-2, 1), (2, 3)],
                positive_buckets: vec![0.0, 0.0, 0.0, 0.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![0.0, 0.0, 0.0, 0.0],
                ..Default::default()
            },
        ),
        (
            "no-op",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            1.0,
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
        ),
        (
            "double",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            2.0,
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 3493.3 * 2.0,
                sum: 2349209.324 * 2.0,
                positive_spans: vec![(-2, 1), (2, 3)],
                positive_buckets: vec![2.0, 6.6, 8.4, 0.2],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![6.2, 6.0, 1.234e5 * 2.0, 2000.0],
                ..Default::default()
            },
        ),
        (
            "triple",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 23.0,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..Default::default()
            },
            3.0,
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 33.0,
                count: 90.0,
                sum: 69.0,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![3.0, 0.0, 9.0, 12.0, 21.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![9.0, 3.0, 15.0, 18.0],
                ..Default::default()
            },
        ),
        (
            "negation",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 23.0,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..Default::default()
            },
            -1.0,
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: -11.0,
                count: -30.0,
                sum: -23.0,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![-1.0, 0.0, -3.0, -4.0, -7.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![-3.0, -1.0, -5.0, -6.0],
                counter_reset_hint: CounterResetHint::Gauge,
                ..Default::default()
            },
        ),
        (
            "negative multiplier",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 23.0,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..Default::default()
            },
            -2.0,
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: -22.0,
                count: -60.0,
                sum: -46.0,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![-2.0, 0.0, -6.0, -8.0, -14.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![-6.0, -2.0, -10.0, -12.0],
                counter_reset_hint: CounterResetHint::Gauge,
                ..Default::default()
            },
        ),
        (
            "no-op with custom buckets",
            FloatHistogram {
                schema: -53,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(0, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0],
                ..Default::default()
            },
            1.0,
            FloatHistogram {
                schema: -53,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(0, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0],
                ..Default::default()
            },
        ),
        (
            "triple with custom buckets",
            FloatHistogram {
                schema: -53,
                count: 30.0,
                sum: 23.0,
                positive_spans: vec![(0, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0],
                ..Default::default()
            },
            3.0,
            FloatHistogram {
                schema: -53,
                count: 90.0,
                sum: 69.0,
                positive_spans: vec![(0, 2), (1, 3)],
                positive_buckets: vec![3.0, 0.0, 9.0, 12.0, 21.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0],
                ..Default::default()
            },
        ),
    ]
}

/// Cases of upstream's `TestFloatHistogramDiv`.
// fields: name: str, fh: hist, s: f64, expected: hist
pub(super) fn div_cases() -> Vec<(&'static str, FloatHistogram, f64, FloatHistogram)> {
    vec![
        (
            "zero value",
            FloatHistogram {
                ..Default::default()
            },
            3.1415,
            FloatHistogram {
                ..Default::default()
            },
        ),
        (
            "zero divisor",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            0.0,
            FloatHistogram {
                zero_threshold: 0.01,
                count: f64::INFINITY,
                sum: f64::INFINITY,
                zero_count: f64::INFINITY,
                ..Default::default()
            },
        ),
        (
            "no-op",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            1.0,
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
        ),
        (
            "half",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 23.0,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..Default::default()
            },
            2.0,
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 15.0,
                sum: 11.5,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![0.5, 0.0, 1.5, 2.0, 3.5],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![1.5, 0.5, 2.5, 3.0],
                ..Default::default()
            },
        ),
        (
            "negation",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            -1.0,
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: -5.5,
                count: -3493.3,
                sum: -2349209.324,
                positive_spans: vec![(-2, 1), (2, 3)],
                positive_buckets: vec![-1.0, -3.3, -4.2, -0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![-3.1, -3.0, -1.234e5, -1000.0],
                counter_reset_hint: CounterResetHint::Gauge,
                ..Default::default()
            },
        ),
        (
            "negative half",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 23.0,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..Default::default()
            },
            -2.0,
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: -5.5,
                count: -15.0,
                sum: -11.5,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![-0.5, 0.0, -1.5, -2.0, -3.5],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![-1.5, -0.5, -2.5, -3.0],
                counter_reset_hint: CounterResetHint::Gauge,
                ..Default::default()
            },
        ),
        (
            "no-op with custom buckets",
            FloatHistogram {
                schema: -53,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(0, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0],
                ..Default::default()
            },
            1.0,
            FloatHistogram {
                schema: -53,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(0, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0],
                ..Default::default()
            },
        ),
        (
            "half with custom buckets",
            FloatHistogram {
                schema: -53,
                count: 30.0,
                sum: 23.0,
                positive_spans: vec![(0, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0],
                ..Default::default()
            },
            2.0,
            FloatHistogram {
                schema: -53,
                count: 15.0,
                sum: 11.5,
                positive_spans: vec![(0, 2), (1, 3)],
                positive_buckets: vec![0.5, 0.0, 1.5, 2.0, 3.5],
                custom_values: vec![1.0, 2.0, 3.0, 4.0],
                ..Default::default()
            },
        ),
    ]
}

/// Cases of upstream's `TestFloatHistogramDetectReset`.
// fields: name: str, previous: hist, current: hist, resetExpected: bool
pub(super) fn detect_reset_cases() -> Vec<(&'static str, FloatHistogram, FloatHistogram, bool)> {
    vec![
        (
            "zero values",
            FloatHistogram {
                ..Default::default()
            },
            FloatHistogram {
                ..Default::default()
            },
            false,
        ),
        (
            "no buckets to some buckets",
            FloatHistogram {
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            false,
        ),
        (
            "some buckets to no buckets",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            FloatHistogram {
                ..Default::default()
            },
            true,
        ),
        (
            "one bucket appears, nothing else changes",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            false,
        ),
        (
            "one bucket disappears, nothing else changes",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            true,
        ),
        (
            "an unpopulated bucket disappears, nothing else changes",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            false,
        ),
        (
            "an unpopulated bucket at the end disappears, nothing else changes",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 1), (1, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 1), (1, 2)],
                positive_buckets: vec![1.0, 3.3, 4.2],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            false,
        ),
        (
            "an unpopulated bucket disappears in a histogram with nothing else",
            FloatHistogram {
                positive_spans: vec![(23, 1)],
                positive_buckets: vec![0.0],
                ..Default::default()
            },
            FloatHistogram {
                ..Default::default()
            },
            false,
        ),
        (
            "zero count goes up",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.6,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            false,
        ),
        (
            "zero count goes down",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.4,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            true,
        ),
        (
            "count goes up",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.4,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            false,
        ),
        (
            "count goes down",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.2,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            true,
        ),
        (
            "sum goes up",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349210.0,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            false,
        ),
        (
            "sum goes down",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349200.0,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            false,
        ),
        (
            "one positive bucket goes up",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.3, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            false,
        ),
        (
            "one positive bucket goes down",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.1, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            true,
        ),
        (
            "one negative bucket goes up",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.1, 1.234e5, 1000.0],
                ..Default::default()
            },
            false,
        ),
        (
            "one negative bucket goes down",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 2.9, 1.234e5, 1000.0],
                ..Default::default()
            },
            true,
        ),
        (
            "zero threshold decreases",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.009,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            true,
        ),
        (
            "zero threshold increases without touching any existing buckets",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.011,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            false,
        ),
        (
            "zero threshold increases enough to cover existing buckets",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 1.0,
                zero_count: 7.73,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(1, 3)],
                positive_buckets: vec![3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            false,
        ),
        (
            "zero threshold increases into the middle of an existing buckets",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.3,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            true,
        ),
        (
            "schema increases without any other changes",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                schema: 0,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                schema: 1,
                positive_spans: vec![(-5, 4), (2, 6)],
                positive_buckets: vec![0.4, 0.6, 1.0, 0.23, 2.0, 1.3, 1.2, 3.0, 0.05, 0.05],
                negative_spans: vec![(5, 4), (6, 4)],
                negative_buckets: vec![2.0, 1.1, 2.0, 1.0, 0.234e5, 1e5, 500.0, 500.0],
                ..Default::default()
            },
            true,
        ),
        (
            "schema decreases without any other changes",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                schema: 1,
                positive_spans: vec![(-5, 4), (2, 6)],
                positive_buckets: vec![0.4, 0.6, 1.0, 0.23, 2.0, 1.3, 1.2, 3.0, 0.05, 0.05],
                negative_spans: vec![(5, 4), (6, 4)],
                negative_buckets: vec![2.0, 1.1, 2.0, 1.0, 0.234e5, 1e5, 500.0, 500.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                schema: 0,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            false,
        ),
        (
            "schema decreases and a bucket goes up",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                schema: 1,
                positive_spans: vec![(-5, 4), (2, 6)],
                positive_buckets: vec![0.4, 0.6, 1.0, 0.23, 2.0, 1.3, 1.2, 3.0, 0.05, 0.05],
                negative_spans: vec![(5, 4), (6, 4)],
                negative_buckets: vec![2.0, 1.1, 2.0, 1.0, 0.234e5, 1e5, 500.0, 500.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                schema: 0,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 1.23, 4.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            false,
        ),
        (
            "schema decreases and a bucket goes down",
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                schema: 1,
                positive_spans: vec![(-5, 4), (2, 6)],
                positive_buckets: vec![0.4, 0.6, 1.0, 0.23, 2.0, 1.3, 1.2, 3.0, 0.05, 0.05],
                negative_spans: vec![(5, 4), (6, 4)],
                negative_buckets: vec![2.0, 1.1, 2.0, 1.0, 0.234e5, 1e5, 500.0, 500.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 5.5,
                count: 3493.3,
                sum: 2349209.324,
                schema: 0,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 1.23, 2.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            true,
        ),
        (
            "no buckets to some buckets with custom bounds",
            FloatHistogram {
                schema: -53,
                custom_values: vec![1.0, 2.0, 3.0],
                ..Default::default()
            },
            FloatHistogram {
                schema: -53,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(0, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0],
                ..Default::default()
            },
            false,
        ),
        (
            "some buckets to no buckets with custom bounds",
            FloatHistogram {
                schema: -53,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(0, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0],
                ..Default::default()
            },
            FloatHistogram {
                schema: -53,
                custom_values: vec![1.0, 2.0, 3.0],
                ..Default::default()
            },
            true,
        ),
        (
            "one bucket appears, nothing else changes with custom bounds",
            FloatHistogram {
                schema: -53,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(0, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0, 4.0],
                ..Default::default()
            },
            FloatHistogram {
                schema: -53,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(0, 2), (1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0, 4.0],
                ..Default::default()
            },
            false,
        ),
        (
            "one bucket disappears, nothing else changes with custom bounds",
            FloatHistogram {
                schema: -53,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(0, 2), (1, 3)],
                positive_buckets: vec![1.0, 1.23, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0, 4.0],
                ..Default::default()
            },
            FloatHistogram {
                schema: -53,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(0, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0, 4.0],
                ..Default::default()
            },
            true,
        ),
        (
            "an unpopulated bucket disappears, nothing else changes with custom bounds",
            FloatHistogram {
                schema: -53,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(0, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0, 4.0],
                ..Default::default()
            },
            FloatHistogram {
                schema: -53,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(0, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0, 4.0],
                ..Default::default()
            },
            false,
        ),
        (
            "one positive bucket goes up with custom bounds",
            FloatHistogram {
                schema: -53,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(0, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0, 4.0],
                ..Default::default()
            },
            FloatHistogram {
                schema: -53,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(0, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.3, 0.1],
                custom_values: vec![1.0, 2.0, 3.0, 4.0],
                ..Default::default()
            },
            false,
        ),
        (
            "one positive bucket goes down with custom bounds",
            FloatHistogram {
                schema: -53,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(0, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0, 4.0],
                ..Default::default()
            },
            FloatHistogram {
                schema: -53,
                count: 3493.3,
                sum: 2349209.324,
                positive_spans: vec![(0, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.3, 4.1, 0.1],
                custom_values: vec![1.0, 2.0, 3.0, 4.0],
                ..Default::default()
            },
            true,
        ),
        (
            "mismatched custom bounds - no reset when all buckets increase",
            FloatHistogram {
                schema: -53,
                count: 200.0,
                sum: 1000.0,
                positive_spans: vec![(0, 4)],
                positive_buckets: vec![20.0, 35.0, 40.0, 50.0],
                custom_values: vec![0.0, 1.0, 2.0, 3.0],
                ..Default::default()
            },
            FloatHistogram {
                schema: -53,
                count: 200.0,
                sum: 1000.0,
                positive_spans: vec![(0, 5)],
                positive_buckets: vec![25.0, 15.0, 40.0, 50.0, 70.0],
                custom_values: vec![0.0, 0.5, 1.0, 2.0, 3.0],
                ..Default::default()
            },
            false,
        ),
        (
            "mismatched custom bounds - reset in middle bucket",
            FloatHistogram {
                schema: -53,
                count: 100.0,
                sum: 500.0,
                positive_spans: vec![(1, 4)],
                positive_buckets: vec![10.0, 15.0, 20.0, 25.0],
                custom_values: vec![0.0, 1.0, 3.0, 5.0],
                ..Default::default()
            },
            FloatHistogram {
                schema: -53,
                count: 100.0,
                sum: 500.0,
                positive_spans: vec![(1, 5)],
                positive_buckets: vec![10.0, 16.0, 10.0, 5.0, 25.0],
                custom_values: vec![0.0, 1.0, 2.0, 3.0, 5.0],
                ..Default::default()
            },
            true,
        ),
        (
            "mismatched custom bounds - reset in last bucket",
            FloatHistogram {
                schema: -53,
                count: 100.0,
                sum: 500.0,
                positive_spans: vec![(1, 3)],
                positive_buckets: vec![10.0, 20.0, 20.0],
                custom_values: vec![0.0, 1.0, 2.0],
                ..Default::default()
            },
            FloatHistogram {
                schema: -53,
                count: 100.0,
                sum: 500.0,
                positive_spans: vec![(1, 4)],
                positive_buckets: vec![100.0, 200.0, 8.0, 7.0],
                custom_values: vec![0.0, 1.0, 2.0, 3.0],
                ..Default::default()
            },
            true,
        ),
        (
            "mismatched custom bounds - no common bounds",
            FloatHistogram {
                schema: -53,
                count: 100.0,
                sum: 500.0,
                positive_spans: vec![(1, 3)],
                positive_buckets: vec![10.0, 20.0, 30.0],
                custom_values: vec![4.0, 5.0, 6.0],
                ..Default::default()
            },
            FloatHistogram {
                schema: -53,
                count: 100.0,
                sum: 500.0,
                positive_spans: vec![(1, 3)],
                positive_buckets: vec![15.0, 25.0, 35.0],
                custom_values: vec![1.0, 2.0, 3.0],
                ..Default::default()
            },
            false,
        ),
        (
            "mismatched custom bounds - sparse common bounds",
            FloatHistogram {
                schema: -53,
                count: 200.0,
                sum: 1000.0,
                positive_spans: vec![(0, 4)],
                positive_buckets: vec![10.0, 20.0, 30.0, 40.0],
                custom_values: vec![0.0, 1.0, 3.0, 5.0],
                ..Default::default()
            },
            FloatHistogram {
                schema: -53,
                count: 200.0,
                sum: 1000.0,
                positive_spans: vec![(0, 5)],
                positive_buckets: vec![15.0, 25.0, 70.0, 50.0, 100.0],
                custom_values: vec![0.0, 2.0, 3.0, 4.0, 5.0],
                ..Default::default()
            },
            false,
        ),
        (
            "reset detected with mismatched custom bounds and split bucket spans",
            FloatHistogram {
                schema: -53,
                count: 200.0,
                sum: 1000.0,
                positive_spans: vec![(0, 2), (1, 3)],
                positive_buckets: vec![10.0, 20.0, 30.0, 40.0, 50.0],
                custom_values: vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
                ..Default::default()
            },
            FloatHistogram {
                schema: -53,
                count: 200.0,
                sum: 1000.0,
                positive_spans: vec![(0, 3), (1, 2)],
                positive_buckets: vec![15.0, 25.0, 35.0, 25.0, 60.0],
                custom_values: vec![0.0, 1.0, 3.0, 4.0, 5.0, 7.0],
                ..Default::default()
            },
            true,
        ),
        (
            "no reset with mismatched custom bounds and split bucket spans",
            FloatHistogram {
                schema: -53,
                count: 300.0,
                sum: 1500.0,
                positive_spans: vec![(0, 2), (2, 3)],
                positive_buckets: vec![10.0, 20.0, 30.0, 40.0, 50.0],
                custom_values: vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                ..Default::default()
            },
            FloatHistogram {
                schema: -53,
                count: 300.0,
                sum: 1500.0,
                positive_spans: vec![(0, 3), (1, 2)],
                positive_buckets: vec![12.0, 25.0, 45.0, 75.0, 95.0],
                custom_values: vec![0.0, 0.5, 1.0, 3.0, 5.0, 7.0],
                ..Default::default()
            },
            false,
        ),
        (
            "reset when a populated bucket following an empty one disappears",
            FloatHistogram {
                zero_threshold: 0.001,
                count: 10.0,
                positive_spans: vec![(0, 1)],
                positive_buckets: vec![5.0],
                negative_spans: vec![(1, 2)],
                negative_buckets: vec![0.0, 5.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.001,
                count: 20.0,
                positive_spans: vec![(0, 1)],
                positive_buckets: vec![20.0],
                ..Default::default()
            },
            true,
        ),
        (
            "reset when current ends before a later populated previous bucket",
            FloatHistogram {
                zero_threshold: 0.001,
                count: 7.0,
                positive_spans: vec![(0, 3)],
                positive_buckets: vec![2.0, 0.0, 5.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.001,
                count: 100.0,
                positive_spans: vec![(0, 1)],
                positive_buckets: vec![100.0],
                ..Default::default()
            },
            true,
        ),
    ]
}

/// Cases of upstream's `TestFloatHistogramCompact`.
// fields: name: str, in: hist, maxEmptyBuckets: usize, expected: hist
pub(super) fn compact_cases() -> Vec<(&'static str, FloatHistogram, usize, FloatHistogram)> {
    vec![
        (
            "empty histogram",
            FloatHistogram {
                ..Default::default()
            },
            0,
            FloatHistogram {
                ..Default::default()
            },
        ),
        (
            "nothing should happen",
            FloatHistogram {
                positive_spans: vec![(-2, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
            0,
            FloatHistogram {
                positive_spans: vec![(-2, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
                ..Default::default()
            },
        ),
        (
            "eliminate zero offsets",
            FloatHistogram {
                positive_spans: vec![(-2, 1), (0, 3), (0, 1)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1, 3.3],
                negative_spans: vec![(0, 2), (0, 2), (2, 1), (0, 1)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0, 3.0, 4.0],
                ..Default::default()
            },
            0,
            FloatHistogram {
                positive_spans: vec![(-2, 5)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1, 3.3],
                negative_spans: vec![(0, 4), (2, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0, 3.0, 4.0],
                ..Default::default()
            },
        ),
        (
            "eliminate zero length",
            FloatHistogram {
                positive_spans: vec![(-2, 2), (2, 0), (3, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1, 3.3],
                negative_spans: vec![(0, 2), (0, 0), (2, 0), (1, 4)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0, 3.0, 4.0],
                ..Default::default()
            },
            0,
            FloatHistogram {
                positive_spans: vec![(-2, 2), (5, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1, 3.3],
                negative_spans: vec![(0, 2), (3, 4)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0, 3.0, 4.0],
                ..Default::default()
            },
        ),
        (
            "eliminate multiple zero length spans",
            FloatHistogram {
                positive_spans: vec![(-2, 2), (2, 0), (2, 0), (2, 0), (3, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1, 3.3],
                ..Default::default()
            },
            0,
            FloatHistogram {
                positive_spans: vec![(-2, 2), (9, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1, 3.3],
                ..Default::default()
            },
        ),
        (
            "cut empty buckets at start or end",
            FloatHistogram {
                positive_spans: vec![(-4, 4), (5, 3)],
                positive_buckets: vec![0.0, 0.0, 1.0, 3.3, 4.2, 0.1, 3.3],
                negative_spans: vec![(0, 2), (3, 5)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0, 3.0, 4.0, 0.0],
                ..Default::default()
            },
            0,
            FloatHistogram {
                positive_spans: vec![(-2, 2), (5, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1, 3.3],
                negative_spans: vec![(0, 2), (3, 4)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0, 3.0, 4.0],
                ..Default::default()
            },
        ),
        (
            "cut empty buckets at start and end",
            FloatHistogram {
                positive_spans: vec![(-4, 4), (5, 6)],
                positive_buckets: vec![0.0, 0.0, 1.0, 3.3, 4.2, 0.1, 3.3, 0.0, 0.0, 0.0],
                negative_spans: vec![(-2, 4), (3, 5)],
                negative_buckets: vec![0.0, 0.0, 3.1, 3.0, 1.234e5, 1000.0, 3.0, 4.0, 0.0],
                ..Default::default()
            },
            0,
            FloatHistogram {
                positive_spans: vec![(-2, 2), (5, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1, 3.3],
                negative_spans: vec![(0, 2), (3, 4)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0, 3.0, 4.0],
                ..Default::default()
            },
        ),
        (
            "cut empty buckets in the middle",
            FloatHistogram {
                positive_spans: vec![(5, 4)],
                positive_buckets: vec![1.0, 3.0, 0.0, 2.0],
                ..Default::default()
            },
            0,
            FloatHistogram {
                positive_spans: vec![(5, 2), (1, 1)],
                positive_buckets: vec![1.0, 3.0, 2.0],
                ..Default::default()
            },
        ),
        (
            "cut empty buckets at start or end of spans, even in the middle",
            FloatHistogram {
                positive_spans: vec![(-4, 6), (3, 6)],
                positive_buckets: vec![0.0, 0.0, 1.0, 3.3, 0.0, 0.0, 4.2, 0.1, 3.3, 0.0, 0.0, 0.0],
                negative_spans: vec![(0, 2), (2, 6)],
                negative_buckets: vec![3.1, 3.0, 0.0, 1.234e5, 1000.0, 3.0, 4.0, 0.0],
                ..Default::default()
            },
            0,
            FloatHistogram {
                positive_spans: vec![(-2, 2), (5, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1, 3.3],
                negative_spans: vec![(0, 2), (3, 4)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0, 3.0, 4.0],
                ..Default::default()
            },
        ),
        (
            "cut empty buckets at start and end - also merge spans due to maxEmptyBuckets",
            FloatHistogram {
                positive_spans: vec![(-4, 4), (5, 3)],
                positive_buckets: vec![0.0, 0.0, 1.0, 3.3, 4.2, 0.1, 3.3],
                negative_spans: vec![(0, 2), (3, 5)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0, 3.0, 4.0, 0.0],
                ..Default::default()
            },
            10,
            FloatHistogram {
                positive_spans: vec![(-2, 10)],
                positive_buckets: vec![1.0, 3.3, 0.0, 0.0, 0.0, 0.0, 0.0, 4.2, 0.1, 3.3],
                negative_spans: vec![(0, 9)],
                negative_buckets: vec![3.1, 3.0, 0.0, 0.0, 0.0, 1.234e5, 1000.0, 3.0, 4.0],
                ..Default::default()
            },
        ),
        (
            "cut empty buckets from the middle of a span",
            FloatHistogram {
                positive_spans: vec![(-4, 6), (3, 3)],
                positive_buckets: vec![0.0, 0.0, 1.0, 0.0, 0.0, 3.3, 4.2, 0.1, 3.3],
                negative_spans: vec![(0, 2), (3, 5)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0, 0.0, 3.0, 4.0],
                ..Default::default()
            },
            0,
            FloatHistogram {
                positive_spans: vec![(-2, 1), (2, 1), (3, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1, 3.3],
                negative_spans: vec![(0, 2), (3, 2), (1, 2)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0, 3.0, 4.0],
                ..Default::default()
            },
        ),
        (
            "cut out a span containing only empty buckets",
            FloatHistogram {
                positive_spans: vec![(-4, 3), (2, 2), (3, 4)],
                positive_buckets: vec![0.0, 0.0, 1.0, 0.0, 0.0, 3.3, 4.2, 0.1, 3.3],
                ..Default::default()
            },
            0,
            FloatHistogram {
                positive_spans: vec![(-2, 1), (7, 4)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1, 3.3],
                ..Default::default()
            },
        ),
        (
            "cut empty buckets from the middle of a span, avoiding none due to maxEmptyBuckets",
            FloatHistogram {
                positive_spans: vec![(-2, 4)],
                positive_buckets: vec![1.0, 0.0, 0.0, 3.3],
                ..Default::default()
            },
            1,
            FloatHistogram {
                positive_spans: vec![(-2, 1), (2, 1)],
                positive_buckets: vec![1.0, 3.3],
                ..Default::default()
            },
        ),
        (
            "cut empty buckets and merge spans due to maxEmptyBuckets",
            FloatHistogram {
                positive_spans: vec![(-2, 4), (3, 1)],
                positive_buckets: vec![1.0, 0.0, 0.0, 3.3, 4.2],
                ..Default::default()
            },
            1,
            FloatHistogram {
                positive_spans: vec![(-2, 1), (2, 1), (3, 1)],
                positive_buckets: vec![1.0, 3.3, 4.2],
                ..Default::default()
            },
        ),
        (
            "cut empty buckets from the middle of a span, avoiding some due to maxEmptyBuckets",
            FloatHistogram {
                positive_spans: vec![(-4, 6), (3, 3), (10, 2)],
                positive_buckets: vec![0.0, 0.0, 1.0, 0.0, 0.0, 3.3, 4.2, 0.1, 3.3, 2.0, 3.0],
                negative_spans: vec![(0, 2), (3, 5)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0, 0.0, 3.0, 4.0],
                ..Default::default()
            },
            1,
            FloatHistogram {
                positive_spans: vec![(-2, 1), (2, 1), (3, 3), (10, 2)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1, 3.3, 2.0, 3.0],
                negative_spans: vec![(0, 2), (3, 5)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0, 0.0, 3.0, 4.0],
                ..Default::default()
            },
        ),
        (
            "avoiding all cutting of empty buckets from the middle of a chunk due to maxEmptyBuckets",
            FloatHistogram {
                positive_spans: vec![(-4, 6), (3, 3)],
                positive_buckets: vec![0.0, 0.0, 1.0, 0.0, 0.0, 3.3, 4.2, 0.1, 3.3],
                negative_spans: vec![(0, 2), (3, 5)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0, 0.0, 3.0, 4.0],
                ..Default::default()
            },
            2,
            FloatHistogram {
                positive_spans: vec![(-2, 4), (3, 3)],
                positive_buckets: vec![1.0, 0.0, 0.0, 3.3, 4.2, 0.1, 3.3],
                negative_spans: vec![(0, 2), (3, 5)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0, 0.0, 3.0, 4.0],
                ..Default::default()
            },
        ),
        (
            "everything merged into one span due to maxEmptyBuckets",
            FloatHistogram {
                positive_spans: vec![(-4, 6), (3, 3)],
                positive_buckets: vec![0.0, 0.0, 1.0, 0.0, 0.0, 3.3, 4.2, 0.1, 3.3],
                negative_spans: vec![(0, 2), (3, 5)],
                negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0, 0.0, 3.0, 4.0],
                ..Default::default()
            },
            3,
            FloatHistogram {
                positive_spans: vec![(-2, 10)],
                positive_buckets: vec![1.0, 0.0, 0.0, 3.3, 0.0, 0.0, 0.0, 4.2, 0.1, 3.3],
                negative_spans: vec![(0, 10)],
                negative_buckets: vec![3.1, 3.0, 0.0, 0.0, 0.0, 1.234e5, 1000.0, 0.0, 3.0, 4.0],
                ..Default::default()
            },
        ),
        (
            "more than one span merged in the same pass",
            FloatHistogram {
                positive_spans: vec![(-2, 2), (2, 2), (2, 2)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1, 3.3, 2.0],
                negative_spans: vec![(0, 1), (1, 1), (1, 1)],
                negative_buckets: vec![3.1, 1000.0, 4.0],
                ..Default::default()
            },
            3,
            FloatHistogram {
                positive_spans: vec![(-2, 10)],
                positive_buckets: vec![1.0, 3.3, 0.0, 0.0, 4.2, 0.1, 0.0, 0.0, 3.3, 2.0],
                negative_spans: vec![(0, 5)],
                negative_buckets: vec![3.1, 0.0, 1000.0, 0.0, 4.0],
                ..Default::default()
            },
        ),
        (
            "only empty buckets and maxEmptyBuckets greater zero",
            FloatHistogram {
                positive_spans: vec![(-4, 6), (3, 3)],
                positive_buckets: vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                negative_spans: vec![(0, 7)],
                negative_buckets: vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                ..Default::default()
            },
            3,
            FloatHistogram {
                positive_spans: vec![],
                positive_buckets: vec![],
                negative_spans: vec![],
                negative_buckets: vec![],
                ..Default::default()
            },
        ),
        (
            "multiple spans of only empty buckets",
            FloatHistogram {
                positive_spans: vec![(-10, 2), (2, 1), (3, 3)],
                positive_buckets: vec![0.0, 0.0, 0.0, 0.0, 2.0, 3.0],
                negative_spans: vec![(-10, 2), (2, 1), (3, 3)],
                negative_buckets: vec![2.0, 3.0, 0.0, 0.0, 0.0, 0.0],
                ..Default::default()
            },
            0,
            FloatHistogram {
                positive_spans: vec![(-1, 2)],
                positive_buckets: vec![2.0, 3.0],
                negative_spans: vec![(-10, 2)],
                negative_buckets: vec![2.0, 3.0],
                ..Default::default()
            },
        ),
        (
            "nothing should happen with custom buckets",
            FloatHistogram {
                schema: -53,
                positive_spans: vec![(0, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0],
                ..Default::default()
            },
            0,
            FloatHistogram {
                schema: -53,
                positive_spans: vec![(0, 1), (2, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
                custom_values: vec![1.0, 2.0, 3.0],
                ..Default::default()
            },
        ),
        (
            "eliminate zero offsets with custom buckets",
            FloatHistogram {
                schema: -53,
                positive_spans: vec![(0, 1), (0, 3), (0, 1)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1, 3.3],
                custom_values: vec![1.0, 2.0, 3.0, 4.0],
                ..Default::default()
            },
            0,
            FloatHistogram {
                schema: -53,
                positive_spans: vec![(0, 5)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1, 3.3],
                custom_values: vec![1.0, 2.0, 3.0, 4.0],
                ..Default::default()
            },
        ),
        (
            "eliminate multiple zero length spans with custom buckets",
            FloatHistogram {
                schema: -53,
                positive_spans: vec![(0, 2), (2, 0), (2, 0), (2, 0), (3, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1, 3.3],
                custom_values: vec![1.0, 2.0, 3.0, 4.0],
                ..Default::default()
            },
            0,
            FloatHistogram {
                schema: -53,
                positive_spans: vec![(0, 2), (9, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1, 3.3],
                custom_values: vec![1.0, 2.0, 3.0, 4.0],
                ..Default::default()
            },
        ),
        (
            "cut empty buckets at start and end with custom buckets",
            FloatHistogram {
                schema: -53,
                positive_spans: vec![(0, 4), (5, 6)],
                positive_buckets: vec![0.0, 0.0, 1.0, 3.3, 4.2, 0.1, 3.3, 0.0, 0.0, 0.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
                ..Default::default()
            },
            0,
            FloatHistogram {
                schema: -53,
                positive_spans: vec![(2, 2), (5, 3)],
                positive_buckets: vec![1.0, 3.3, 4.2, 0.1, 3.3],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
                ..Default::default()
            },
        ),
    ]
}

/// Cases of upstream's `TestFloatHistogramAdd`.
// fields: name: str, in1: opt, in2: opt, expected: opt, expErrMsg: str, expCounterResetCollision: bool, expNHCBBoundsReconciled: bool
pub(super) fn add_cases() -> Vec<OpCase> {
    vec![
        (
            "same bucket layout",
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 8.0,
                count: 21.0,
                sum: 1.234,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![0.0, 0.0, 2.0, 3.0, 6.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![1.0, 1.0, 4.0, 4.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 19.0,
                count: 51.0,
                sum: 3.579,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 5.0, 7.0, 13.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![4.0, 2.0, 9.0, 10.0],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "same bucket layout, defined differently",
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                positive_spans: vec![(-2, 2), (1, 1), (0, 2)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 8.0,
                count: 21.0,
                sum: 1.234,
                positive_spans: vec![(-2, 2), (1, 2), (0, 1)],
                positive_buckets: vec![0.0, 0.0, 2.0, 3.0, 6.0],
                negative_spans: vec![(3, 7)],
                negative_buckets: vec![1.0, 1.0, 0.0, 0.0, 0.0, 4.0, 4.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 19.0,
                count: 51.0,
                sum: 3.579,
                positive_spans: vec![(-2, 2), (1, 1), (0, 2)],
                positive_buckets: vec![1.0, 0.0, 5.0, 7.0, 13.0],
                negative_spans: vec![(3, 5), (0, 2)],
                negative_buckets: vec![4.0, 2.0, 0.0, 0.0, 0.0, 9.0, 10.0],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "non-overlapping spans",
            Some(FloatHistogram {
                zero_threshold: 0.001,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                positive_spans: vec![(-2, 2), (2, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.001,
                zero_count: 8.0,
                count: 21.0,
                sum: 1.234,
                positive_spans: vec![(0, 2), (3, 3)],
                positive_buckets: vec![5.0, 4.0, 2.0, 3.0, 6.0],
                negative_spans: vec![(-9, 2), (3, 2)],
                negative_buckets: vec![1.0, 1.0, 4.0, 4.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.001,
                zero_count: 19.0,
                count: 51.0,
                sum: 3.579,
                positive_spans: vec![(-2, 4), (0, 6)],
                positive_buckets: vec![1.0, 0.0, 5.0, 4.0, 3.0, 4.0, 7.0, 2.0, 3.0, 6.0],
                negative_spans: vec![(-9, 2), (3, 2), (5, 2), (3, 2)],
                negative_buckets: vec![1.0, 1.0, 4.0, 4.0, 3.0, 1.0, 5.0, 6.0],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "non-overlapping spans inverted order",
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 8.0,
                count: 21.0,
                sum: 1.234,
                positive_spans: vec![(0, 2), (3, 3)],
                positive_buckets: vec![5.0, 4.0, 2.0, 3.0, 6.0],
                negative_spans: vec![(-6, 2), (1, 2)],
                negative_buckets: vec![1.0, 1.0, 4.0, 4.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                positive_spans: vec![(-2, 2), (2, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 19.0,
                count: 51.0,
                sum: 3.579,
                positive_spans: vec![(-2, 2), (0, 5), (0, 3)],
                positive_buckets: vec![1.0, 0.0, 5.0, 4.0, 3.0, 4.0, 7.0, 2.0, 3.0, 6.0],
                negative_spans: vec![(-6, 2), (1, 2), (4, 2), (3, 2)],
                negative_buckets: vec![1.0, 1.0, 4.0, 4.0, 3.0, 1.0, 5.0, 6.0],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "overlapping spans",
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                positive_spans: vec![(-2, 2), (2, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 8.0,
                count: 21.0,
                sum: 1.234,
                positive_spans: vec![(-1, 4), (0, 3)],
                positive_buckets: vec![5.0, 4.0, 2.0, 3.0, 6.0, 2.0, 5.0],
                negative_spans: vec![(4, 2), (1, 2)],
                negative_buckets: vec![1.0, 1.0, 4.0, 4.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 19.0,
                count: 51.0,
                sum: 3.579,
                positive_spans: vec![(-2, 4), (0, 4)],
                positive_buckets: vec![1.0, 5.0, 4.0, 2.0, 6.0, 10.0, 9.0, 5.0],
                negative_spans: vec![(3, 3), (1, 3)],
                negative_buckets: vec![3.0, 2.0, 1.0, 4.0, 9.0, 6.0],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "overlapping spans inverted order",
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 8.0,
                count: 21.0,
                sum: 1.234,
                positive_spans: vec![(-1, 4), (0, 3)],
                positive_buckets: vec![5.0, 4.0, 2.0, 3.0, 6.0, 2.0, 5.0],
                negative_spans: vec![(4, 2), (1, 2)],
                negative_buckets: vec![1.0, 1.0, 4.0, 4.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                positive_spans: vec![(-2, 2), (2, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 19.0,
                count: 51.0,
                sum: 3.579,
                positive_spans: vec![(-2, 5), (0, 3)],
                positive_buckets: vec![1.0, 5.0, 4.0, 2.0, 6.0, 10.0, 9.0, 5.0],
                negative_spans: vec![(3, 3), (1, 3)],
                negative_buckets: vec![3.0, 2.0, 1.0, 4.0, 9.0, 6.0],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "schema change",
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 8.0,
                count: 21.0,
                sum: 1.234,
                schema: 0,
                positive_spans: vec![(-1, 4), (0, 3)],
                positive_buckets: vec![5.0, 4.0, 2.0, 3.0, 6.0, 2.0, 5.0],
                negative_spans: vec![(4, 2), (1, 2)],
                negative_buckets: vec![1.0, 1.0, 4.0, 4.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                schema: 1,
                positive_spans: vec![(-4, 3), (5, 5)],
                positive_buckets: vec![1.0, 0.0, 0.0, 3.0, 2.0, 2.0, 3.0, 4.0],
                negative_spans: vec![(6, 3), (6, 4)],
                negative_buckets: vec![3.0, 0.5, 0.5, 2.0, 3.0, 2.0, 4.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 19.0,
                count: 51.0,
                sum: 3.579,
                positive_spans: vec![(-2, 5), (0, 3)],
                positive_buckets: vec![1.0, 5.0, 4.0, 2.0, 6.0, 10.0, 9.0, 5.0],
                negative_spans: vec![(3, 3), (1, 3)],
                negative_buckets: vec![3.0, 2.0, 1.0, 4.0, 9.0, 6.0],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "larger zero bucket in first histogram",
            Some(FloatHistogram {
                zero_threshold: 1.0,
                zero_count: 17.0,
                count: 21.0,
                sum: 1.234,
                positive_spans: vec![(1, 2), (0, 3)],
                positive_buckets: vec![2.0, 3.0, 6.0, 2.0, 5.0],
                negative_spans: vec![(4, 2), (1, 2)],
                negative_buckets: vec![1.0, 1.0, 4.0, 4.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                positive_spans: vec![(-2, 2), (2, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 1.0,
                zero_count: 29.0,
                count: 51.0,
                sum: 3.579,
                positive_spans: vec![(1, 2), (0, 3)],
                positive_buckets: vec![2.0, 6.0, 10.0, 9.0, 5.0],
                negative_spans: vec![(3, 3), (1, 3)],
                negative_buckets: vec![3.0, 2.0, 1.0, 4.0, 9.0, 6.0],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "larger zero bucket in second histogram",
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                positive_spans: vec![(-2, 2), (2, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 1.0,
                zero_count: 17.0,
                count: 21.0,
                sum: 1.234,
                positive_spans: vec![(1, 2), (0, 3)],
                positive_buckets: vec![2.0, 3.0, 6.0, 2.0, 5.0],
                negative_spans: vec![(4, 2), (1, 2)],
                negative_buckets: vec![1.0, 1.0, 4.0, 4.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 1.0,
                zero_count: 29.0,
                count: 51.0,
                sum: 3.579,
                positive_spans: vec![(1, 5)],
                positive_buckets: vec![2.0, 6.0, 10.0, 9.0, 5.0],
                negative_spans: vec![(3, 3), (1, 3)],
                negative_buckets: vec![3.0, 2.0, 1.0, 4.0, 9.0, 6.0],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "larger zero threshold in first histogram ends up inside a populated bucket of second histogram",
            Some(FloatHistogram {
                zero_threshold: 0.2,
                zero_count: 17.0,
                count: 21.0,
                sum: 1.234,
                positive_spans: vec![(1, 2), (0, 3)],
                positive_buckets: vec![2.0, 3.0, 6.0, 2.0, 5.0],
                negative_spans: vec![(4, 2), (1, 2)],
                negative_buckets: vec![1.0, 1.0, 4.0, 4.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                positive_spans: vec![(-2, 2), (2, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.25,
                zero_count: 29.0,
                count: 51.0,
                sum: 3.579,
                positive_spans: vec![(-1, 1), (1, 5)],
                positive_buckets: vec![0.0, 2.0, 6.0, 10.0, 9.0, 5.0],
                negative_spans: vec![(3, 3), (1, 3)],
                negative_buckets: vec![3.0, 2.0, 1.0, 4.0, 9.0, 6.0],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "larger zero threshold in second histogram ends up inside a populated bucket of first histogram",
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                positive_spans: vec![(-2, 2), (2, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.2,
                zero_count: 17.0,
                count: 21.0,
                sum: 1.234,
                positive_spans: vec![(1, 2), (0, 3)],
                positive_buckets: vec![2.0, 3.0, 6.0, 2.0, 5.0],
                negative_spans: vec![(4, 2), (1, 2)],
                negative_buckets: vec![1.0, 1.0, 4.0, 4.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.25,
                zero_count: 29.0,
                count: 51.0,
                sum: 3.579,
                positive_spans: vec![(1, 5)],
                positive_buckets: vec![2.0, 6.0, 10.0, 9.0, 5.0],
                negative_spans: vec![(3, 3), (1, 3)],
                negative_buckets: vec![3.0, 2.0, 1.0, 4.0, 9.0, 6.0],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "schema change combined with larger zero bucket in second histogram",
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 8.0,
                count: 21.0,
                sum: 1.234,
                schema: 0,
                positive_spans: vec![(-2, 5), (0, 3)],
                positive_buckets: vec![2.0, 5.0, 4.0, 2.0, 3.0, 6.0, 2.0, 5.0],
                negative_spans: vec![(4, 2), (1, 2)],
                negative_buckets: vec![1.0, 1.0, 4.0, 4.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.25,
                zero_count: 12.0,
                count: 30.0,
                sum: 2.345,
                schema: 1,
                positive_spans: vec![(-3, 2), (5, 5)],
                positive_buckets: vec![1.0, 0.0, 3.0, 2.0, 2.0, 3.0, 4.0],
                negative_spans: vec![(6, 3), (6, 4)],
                negative_buckets: vec![3.0, 0.5, 0.5, 2.0, 3.0, 2.0, 4.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.25,
                zero_count: 22.0,
                count: 51.0,
                sum: 3.579,
                positive_spans: vec![(-1, 7)],
                positive_buckets: vec![6.0, 4.0, 2.0, 6.0, 10.0, 9.0, 5.0],
                negative_spans: vec![(3, 3), (1, 3)],
                negative_buckets: vec![3.0, 2.0, 1.0, 4.0, 9.0, 6.0],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "schema change combined with larger zero bucket in first histogram",
            Some(FloatHistogram {
                zero_threshold: 0.25,
                zero_count: 8.0,
                count: 21.0,
                sum: 1.234,
                schema: 0,
                positive_spans: vec![(-1, 4), (0, 3)],
                positive_buckets: vec![5.0, 4.0, 2.0, 3.0, 6.0, 2.0, 5.0],
                negative_spans: vec![(4, 2), (1, 2)],
                negative_buckets: vec![1.0, 1.0, 4.0, 4.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                schema: 1,
                positive_spans: vec![(-4, 3), (5, 5)],
                positive_buckets: vec![1.0, 0.0, 0.0, 3.0, 2.0, 2.0, 3.0, 4.0],
                negative_spans: vec![(6, 3), (6, 4)],
                negative_buckets: vec![3.0, 0.5, 0.5, 2.0, 3.0, 2.0, 4.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.25,
                zero_count: 20.0,
                count: 51.0,
                sum: 3.579,
                positive_spans: vec![(-1, 4), (0, 3)],
                positive_buckets: vec![5.0, 4.0, 2.0, 6.0, 10.0, 9.0, 5.0],
                negative_spans: vec![(3, 3), (1, 3)],
                negative_buckets: vec![3.0, 2.0, 1.0, 4.0, 9.0, 6.0],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "same custom bucket layout",
            Some(FloatHistogram {
                schema: -53,
                count: 15.0,
                sum: 2.345,
                positive_spans: vec![(0, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                count: 11.0,
                sum: 1.234,
                positive_spans: vec![(0, 2), (1, 3)],
                positive_buckets: vec![0.0, 0.0, 2.0, 3.0, 6.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                count: 26.0,
                sum: 3.579,
                positive_spans: vec![(0, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 5.0, 7.0, 13.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "same custom bucket layout, defined differently",
            Some(FloatHistogram {
                schema: -53,
                count: 15.0,
                sum: 2.345,
                positive_spans: vec![(0, 2), (1, 1), (0, 2)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                count: 11.0,
                sum: 1.234,
                positive_spans: vec![(0, 2), (1, 2), (0, 1)],
                positive_buckets: vec![0.0, 0.0, 2.0, 3.0, 6.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                count: 26.0,
                sum: 3.579,
                positive_spans: vec![(0, 2), (1, 1), (0, 2)],
                positive_buckets: vec![1.0, 0.0, 5.0, 7.0, 13.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "non-overlapping spans with custom buckets",
            Some(FloatHistogram {
                schema: -53,
                count: 15.0,
                sum: 2.345,
                positive_spans: vec![(0, 2), (2, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                count: 20.0,
                sum: 1.234,
                positive_spans: vec![(2, 2), (3, 3)],
                positive_buckets: vec![5.0, 4.0, 2.0, 3.0, 6.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                count: 35.0,
                sum: 3.579,
                positive_spans: vec![(0, 4), (0, 6)],
                positive_buckets: vec![1.0, 0.0, 5.0, 4.0, 3.0, 4.0, 7.0, 2.0, 3.0, 6.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "non-overlapping spans inverted order with custom buckets",
            Some(FloatHistogram {
                schema: -53,
                count: 20.0,
                sum: 1.234,
                positive_spans: vec![(2, 2), (3, 3)],
                positive_buckets: vec![5.0, 4.0, 2.0, 3.0, 6.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                count: 15.0,
                sum: 2.345,
                positive_spans: vec![(0, 2), (2, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                count: 35.0,
                sum: 3.579,
                positive_spans: vec![(0, 4), (0, 6)],
                positive_buckets: vec![1.0, 0.0, 5.0, 4.0, 3.0, 4.0, 7.0, 2.0, 3.0, 6.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "overlapping spans with custom buckets",
            Some(FloatHistogram {
                schema: -53,
                count: 15.0,
                sum: 2.345,
                positive_spans: vec![(0, 2), (2, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                count: 27.0,
                sum: 1.234,
                positive_spans: vec![(1, 4), (0, 3)],
                positive_buckets: vec![5.0, 4.0, 2.0, 3.0, 6.0, 2.0, 5.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                count: 42.0,
                sum: 3.579,
                positive_spans: vec![(0, 4), (0, 4)],
                positive_buckets: vec![1.0, 5.0, 4.0, 2.0, 6.0, 10.0, 9.0, 5.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "overlapping spans inverted order with custom buckets",
            Some(FloatHistogram {
                schema: -53,
                count: 27.0,
                sum: 1.234,
                positive_spans: vec![(1, 4), (0, 3)],
                positive_buckets: vec![5.0, 4.0, 2.0, 3.0, 6.0, 2.0, 5.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                count: 15.0,
                sum: 2.345,
                positive_spans: vec![(0, 2), (2, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                count: 42.0,
                sum: 3.579,
                positive_spans: vec![(0, 4), (0, 4)],
                positive_buckets: vec![1.0, 5.0, 4.0, 2.0, 6.0, 10.0, 9.0, 5.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "custom buckets with partial intersection",
            Some(FloatHistogram {
                schema: -53,
                count: 10.0,
                sum: 100.0,
                positive_spans: vec![(0, 3)],
                positive_buckets: vec![2.0, 3.0, 5.0],
                custom_values: vec![1.0, 2.5],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                count: 8.0,
                sum: 80.0,
                positive_spans: vec![(0, 4)],
                positive_buckets: vec![1.0, 2.0, 3.0, 2.0],
                custom_values: vec![1.0, 2.0, 3.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                count: 18.0,
                sum: 180.0,
                positive_spans: vec![(0, 2)],
                positive_buckets: vec![3.0, 15.0],
                custom_values: vec![1.0],
                ..Default::default()
            }),
            "",
            false,
            true,
        ),
        (
            "different custom bucket layout - intersection and rollup",
            Some(FloatHistogram {
                schema: -53,
                count: 6.0,
                sum: 2.345,
                positive_spans: vec![(0, 1), (1, 1)],
                positive_buckets: vec![1.0, 5.0],
                custom_values: vec![2.0, 4.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                count: 220.0,
                sum: 1.234,
                positive_spans: vec![(0, 2), (1, 1), (0, 2)],
                positive_buckets: vec![10.0, 20.0, 40.0, 50.0, 100.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                count: 226.0,
                sum: 3.579,
                positive_spans: vec![(0, 3)],
                positive_buckets: vec![1.0 + 10.0 + 20.0, 40.0, 5.0 + 50.0 + 100.0],
                custom_values: vec![2.0, 4.0],
                ..Default::default()
            }),
            "",
            false,
            true,
        ),
        (
            "custom buckets with no common boundaries except +Inf",
            Some(FloatHistogram {
                schema: -53,
                count: 3.0,
                sum: 50.0,
                positive_spans: vec![(0, 2)],
                positive_buckets: vec![1.0, 2.0],
                custom_values: vec![1.5],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                count: 30.0,
                sum: 40.0,
                positive_spans: vec![(0, 2)],
                positive_buckets: vec![10.0, 20.0],
                custom_values: vec![2.5],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                count: 33.0,
                sum: 90.0,
                positive_spans: vec![(0, 1)],
                positive_buckets: vec![1.0 + 2.0 + 10.0 + 20.0],
                custom_values: vec![],
                ..Default::default()
            }),
            "",
            false,
            true,
        ),
        (
            "mix exponential and custom buckets histograms",
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 8.0,
                count: 59.0,
                sum: 1.234,
                schema: 0,
                positive_spans: vec![(-2, 5), (0, 3)],
                positive_buckets: vec![2.0, 5.0, 4.0, 2.0, 3.0, 6.0, 7.0, 5.0],
                negative_spans: vec![(3, 3), (1, 3)],
                negative_buckets: vec![4.0, 10.0, 1.0, 4.0, 14.0, 7.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                count: 11.0,
                sum: 12.0,
                positive_spans: vec![(0, 2), (1, 3)],
                positive_buckets: vec![0.0, 0.0, 2.0, 3.0, 6.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0],
                ..Default::default()
            }),
            None,
            "cannot apply this operation on histograms with a mix of exponential and custom bucket schemas",
            false,
            false,
        ),
        (
            "warn on counter reset hint collision",
            Some(FloatHistogram {
                schema: -53,
                counter_reset_hint: CounterResetHint::CounterReset,
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                counter_reset_hint: CounterResetHint::NotCounterReset,
                ..Default::default()
            }),
            None,
            "",
            true,
            false,
        ),
    ]
}

/// Cases of upstream's `TestKahanAddWithCompHistogram`.
// fields: name: str, in1: opt, comp: opt, in2: opt, expectedSum: opt, expErrMsg: str, expCounterResetCollision: bool, expNHCBBoundsReconciled: bool
pub(super) fn kahan_add_cases() -> Vec<KahanCase> {
    vec![
        (
            "larger zero bucket in first histogram",
            Some(FloatHistogram {
                zero_threshold: 1.0,
                zero_count: 17.0,
                count: 21.0,
                sum: 1.234,
                positive_spans: vec![(1, 2), (0, 3)],
                positive_buckets: vec![2.0, 3.0, 6.0, 2.0, 5.0],
                negative_spans: vec![(4, 2), (1, 2)],
                negative_buckets: vec![1.0, 1.0, 4.0, 4.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 1.0,
                positive_spans: vec![(1, 2), (0, 3)],
                positive_buckets: vec![0.02, 0.03, 0.06, 0.02, 0.05],
                negative_spans: vec![(4, 2), (1, 2)],
                negative_buckets: vec![0.01, 0.01, 0.04, 0.04],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                positive_spans: vec![(-2, 2), (2, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 1.0,
                zero_count: 29.0,
                count: 51.0,
                sum: 3.579,
                positive_spans: vec![(1, 2), (0, 3)],
                positive_buckets: vec![2.02, 6.03, 10.06, 9.02, 5.05],
                negative_spans: vec![(3, 3), (1, 3)],
                negative_buckets: vec![3.0, 2.01, 1.01, 4.04, 9.04, 6.0],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "smaller zero bucket in first histogram",
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 40.0,
                sum: 2.345,
                positive_spans: vec![(-2, 2), (2, 3)],
                positive_buckets: vec![1.0, 2.0, 3.0, 4.0, 7.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 0.0,
                positive_spans: vec![(-2, 2), (2, 3)],
                positive_buckets: vec![0.02, 0.03, 0.06, 0.07, 0.05],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![0.01, 0.01, 0.04, 0.04],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 1.0,
                zero_count: 17.0,
                count: 11.0,
                sum: 1.234,
                positive_spans: vec![(1, 2), (0, 3)],
                positive_buckets: vec![2.0, 3.0, 6.0, 2.0, 5.0],
                negative_spans: vec![(4, 2), (1, 2)],
                negative_buckets: vec![1.0, 1.0, 4.0, 4.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 1.0,
                zero_count: 31.05,
                count: 51.0,
                sum: 3.579,
                positive_spans: vec![(1, 5)],
                positive_buckets: vec![2.0, 6.06, 10.07, 9.05, 5.0],
                negative_spans: vec![(3, 3), (1, 3)],
                negative_buckets: vec![3.01, 2.01, 1.0, 4.0, 9.04, 6.04],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "first histogram contains zero buckets and Compact is called",
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                positive_spans: vec![(-2, 2), (1, 1), (1, 3)],
                positive_buckets: vec![1.0, 3.0, 3.0, 0.0, 7.0, -6.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.01,
                positive_spans: vec![(-2, 2), (1, 1), (1, 3)],
                positive_buckets: vec![7.0, 2.0, 0.03, 0.0, 0.05, 0.06],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 1.0,
                zero_count: 17.0,
                count: 21.0,
                sum: 1.234,
                positive_spans: vec![(1, 2), (1, 2)],
                positive_buckets: vec![2.0, 3.0, 2.0, 5.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 1.0,
                zero_count: 41.0,
                count: 51.0,
                sum: 3.579,
                positive_spans: vec![(1, 2), (1, 2)],
                positive_buckets: vec![5.03, 3.0, 9.05, -0.94],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "reduce resolution",
            Some(FloatHistogram {
                schema: 2,
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                positive_spans: vec![(-2, 2), (1, 1), (1, 3)],
                positive_buckets: vec![1.0, 3.0, 1e100, 0.0, 7.0, -6.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: 2,
                zero_threshold: 0.01,
                zero_count: 1.0,
                positive_spans: vec![(-2, 2), (1, 1), (1, 3)],
                positive_buckets: vec![7.0, 2.0, 0.03, 0.0, 0.05, 0.06],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: 1,
                zero_threshold: 1.0,
                zero_count: 17.0,
                count: 21.0,
                sum: 1.234,
                positive_spans: vec![(1, 2), (1, 2)],
                positive_buckets: vec![-1e100, 3.0, 2.0, 5.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: 1,
                zero_threshold: 1.0,
                zero_count: 42.0,
                count: 51.0,
                sum: 3.579,
                positive_spans: vec![(1, 5)],
                positive_buckets: vec![0.03, 10.05, -5.94, 2.0, 5.0],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "reduce resolution of 'other' histogram",
            Some(FloatHistogram {
                schema: 0,
                zero_threshold: 1.0,
                zero_count: 17.0,
                count: 21.0,
                sum: 1.234,
                positive_spans: vec![(1, 2), (1, 2)],
                positive_buckets: vec![2.0, 3.0, 2.0, 5.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: 0,
                zero_threshold: 1.0,
                zero_count: 1.0,
                positive_spans: vec![(1, 2), (1, 2)],
                positive_buckets: vec![17.0, 2.0, 0.03, 0.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: 2,
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                positive_spans: vec![(-2, 3), (1, 1), (1, 3)],
                positive_buckets: vec![1e100, 4.1, -1e100, 2.1, 0.0, 7.0, -6.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: 0,
                zero_threshold: 1.0,
                zero_count: 33.1,
                count: 51.0,
                sum: 3.579,
                positive_spans: vec![(1, 2), (1, 2)],
                positive_buckets: vec![21.1, 6.0, 2.03, 5.0],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "warn on counter reset hint collision",
            Some(FloatHistogram {
                schema: -53,
                counter_reset_hint: CounterResetHint::CounterReset,
                ..Default::default()
            }),
            None,
            Some(FloatHistogram {
                schema: -53,
                counter_reset_hint: CounterResetHint::NotCounterReset,
                ..Default::default()
            }),
            None,
            "",
            true,
            false,
        ),
    ]
}

/// Cases of upstream's `TestFloatHistogramSub`.
// fields: name: str, in1: opt, in2: opt, expected: opt, expErrMsg: str, expCounterResetCollision: bool, expNHCBBoundsReconciled: bool
pub(super) fn sub_cases() -> Vec<OpCase> {
    vec![
        (
            "same bucket layout",
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 23.0,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 8.0,
                count: 21.0,
                sum: 12.0,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![0.0, 0.0, 2.0, 3.0, 6.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![1.0, 1.0, 4.0, 4.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 3.0,
                count: 9.0,
                sum: 11.0,
                positive_spans: vec![(-2, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 1.0, 1.0, 1.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![2.0, 0.0, 1.0, 2.0],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "schema change",
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 8.0,
                count: 59.0,
                sum: 1.234,
                schema: 0,
                positive_spans: vec![(-2, 5), (0, 3)],
                positive_buckets: vec![2.0, 5.0, 4.0, 2.0, 3.0, 6.0, 7.0, 5.0],
                negative_spans: vec![(3, 3), (1, 3)],
                negative_buckets: vec![4.0, 10.0, 1.0, 4.0, 14.0, 7.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 2.0,
                count: 19.0,
                sum: 0.345,
                schema: 1,
                positive_spans: vec![(-4, 3), (5, 5)],
                positive_buckets: vec![1.0, 0.0, 0.0, 1.0, 2.0, 2.0, 3.0, 4.0],
                negative_spans: vec![(6, 3), (6, 4)],
                negative_buckets: vec![3.0, 0.5, 0.5, 2.0, 3.0, 2.0, 4.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 6.0,
                count: 40.0,
                sum: 0.889,
                positive_spans: vec![(-2, 5), (0, 3)],
                positive_buckets: vec![1.0, 5.0, 4.0, 2.0, 2.0, 2.0, 0.0, 5.0],
                negative_spans: vec![(3, 3), (1, 3)],
                negative_buckets: vec![1.0, 9.0, 1.0, 4.0, 9.0, 1.0],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "same custom bucket layout",
            Some(FloatHistogram {
                schema: -53,
                count: 15.0,
                sum: 23.0,
                positive_spans: vec![(0, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                count: 11.0,
                sum: 12.0,
                positive_spans: vec![(0, 2), (1, 3)],
                positive_buckets: vec![0.0, 0.0, 2.0, 3.0, 6.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                count: 4.0,
                sum: 11.0,
                positive_spans: vec![(0, 2), (1, 3)],
                positive_buckets: vec![1.0, 0.0, 1.0, 1.0, 1.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0],
                ..Default::default()
            }),
            "",
            false,
            false,
        ),
        (
            "different custom bucket layout - with intersection and rollup",
            Some(FloatHistogram {
                schema: -53,
                count: 220.0,
                sum: 9.9,
                positive_spans: vec![(0, 2), (1, 1), (0, 2)],
                positive_buckets: vec![10.0, 20.0, 40.0, 50.0, 100.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0],
                counter_reset_hint: CounterResetHint::Gauge,
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                count: 6.0,
                sum: 4.4,
                positive_spans: vec![(0, 1), (1, 1)],
                positive_buckets: vec![1.0, 5.0],
                custom_values: vec![2.0, 4.0],
                counter_reset_hint: CounterResetHint::Gauge,
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                count: 214.0,
                sum: 5.5,
                positive_spans: vec![(0, 3)],
                positive_buckets: vec![10.0 + 20.0 - 1.0, 40.0, 50.0 + 100.0 - 5.0],
                custom_values: vec![2.0, 4.0],
                counter_reset_hint: CounterResetHint::Gauge,
                ..Default::default()
            }),
            "",
            false,
            true,
        ),
        (
            "mix exponential and custom buckets histograms",
            Some(FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 8.0,
                count: 59.0,
                sum: 1.234,
                schema: 0,
                positive_spans: vec![(-2, 5), (0, 3)],
                positive_buckets: vec![2.0, 5.0, 4.0, 2.0, 3.0, 6.0, 7.0, 5.0],
                negative_spans: vec![(3, 3), (1, 3)],
                negative_buckets: vec![4.0, 10.0, 1.0, 4.0, 14.0, 7.0],
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                count: 11.0,
                sum: 12.0,
                positive_spans: vec![(0, 2), (1, 3)],
                positive_buckets: vec![0.0, 0.0, 2.0, 3.0, 6.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                ..Default::default()
            }),
            None,
            "cannot apply this operation on histograms with a mix of exponential and custom bucket schemas",
            false,
            false,
        ),
        (
            "warn on counter reset hint collision",
            Some(FloatHistogram {
                schema: -53,
                counter_reset_hint: CounterResetHint::CounterReset,
                ..Default::default()
            }),
            Some(FloatHistogram {
                schema: -53,
                counter_reset_hint: CounterResetHint::NotCounterReset,
                ..Default::default()
            }),
            None,
            "",
            true,
            false,
        ),
    ]
}

/// Cases of upstream's `TestFloatHistogramCopyToSchema`.
// fields: name: str, targetSchema: i32, in: hist, expected: hist
pub(super) fn copy_to_schema_cases() -> Vec<(&'static str, i32, FloatHistogram, FloatHistogram)> {
    vec![
        (
            "no schema change",
            1,
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                schema: 1,
                positive_spans: vec![(-4, 3), (5, 5)],
                positive_buckets: vec![1.0, 0.0, 0.0, 3.0, 2.0, 2.0, 3.0, 4.0],
                negative_spans: vec![(6, 3), (6, 4)],
                negative_buckets: vec![3.0, 0.5, 0.5, 2.0, 3.0, 2.0, 4.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                schema: 1,
                positive_spans: vec![(-4, 3), (5, 5)],
                positive_buckets: vec![1.0, 0.0, 0.0, 3.0, 2.0, 2.0, 3.0, 4.0],
                negative_spans: vec![(6, 3), (6, 4)],
                negative_buckets: vec![3.0, 0.5, 0.5, 2.0, 3.0, 2.0, 4.0],
                ..Default::default()
            },
        ),
        (
            "schema change",
            0,
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                schema: 1,
                positive_spans: vec![(-4, 3), (5, 5)],
                positive_buckets: vec![1.0, 0.0, 0.0, 3.0, 2.0, 2.0, 3.0, 4.0],
                negative_spans: vec![(6, 3), (6, 4)],
                negative_buckets: vec![3.0, 0.5, 0.5, 2.0, 3.0, 2.0, 4.0],
                ..Default::default()
            },
            FloatHistogram {
                zero_threshold: 0.01,
                zero_count: 11.0,
                count: 30.0,
                sum: 2.345,
                schema: 0,
                positive_spans: vec![(-2, 2), (2, 3)],
                positive_buckets: vec![1.0, 0.0, 3.0, 4.0, 7.0],
                negative_spans: vec![(3, 2), (3, 2)],
                negative_buckets: vec![3.0, 1.0, 5.0, 6.0],
                ..Default::default()
            },
        ),
        (
            "no schema change for custom buckets",
            -53,
            FloatHistogram {
                count: 30.0,
                sum: 2.345,
                schema: -53,
                positive_spans: vec![(0, 3), (5, 5)],
                positive_buckets: vec![1.0, 0.0, 0.0, 3.0, 2.0, 2.0, 3.0, 4.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
                ..Default::default()
            },
            FloatHistogram {
                count: 30.0,
                sum: 2.345,
                schema: -53,
                positive_spans: vec![(0, 3), (5, 5)],
                positive_buckets: vec![1.0, 0.0, 0.0, 3.0, 2.0, 2.0, 3.0, 4.0],
                custom_values: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
                ..Default::default()
            },
        ),
    ]
}
