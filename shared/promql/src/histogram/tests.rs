//! Tests of the histogram module: upstream's unit-test expectations that are not tables
//! (`String`, `Equals`, bounds, `ReduceResolution`, ...), the native-histogram cases of
//! upstream's `promql/promqltest/testdata/native_histograms.test` for quantile, fraction,
//! stddev/stdvar and the trim operators, and our own checks of iteration order, printing
//! and robustness on malformed input.
#![allow(clippy::unwrap_used)]
// Expected values are upstream's printed floats (1.414213562373095 is not SQRT_2).
#![allow(clippy::approx_constant)]

use super::bounds::{get_bound_exponential, target_idx};
use super::gofmt::go_g;
use super::*;

/// A histogram in the notation of Prometheus's test scripts (without the braces), as
/// upstream's parser builds it: each side one span at `offset`/`n_offset`.
fn th(desc: &str) -> FloatHistogram {
    fn num(s: &str) -> f64 {
        match s {
            "Inf" | "+Inf" | "inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            _ => s.parse().unwrap_or_else(|_| panic!("bad number {s}")),
        }
    }
    let mut h = FloatHistogram::default();
    let (mut offset, mut n_offset) = (0, 0);
    let mut rest = desc.trim();
    while !rest.is_empty() {
        let (key, tail) = rest.split_once(':').unwrap();
        let tail = tail.trim_start();
        let (value, next) = if let Some(list) = tail.strip_prefix('[') {
            let (inner, next) = list.split_once(']').unwrap();
            (inner, next)
        } else {
            tail.split_once(' ').unwrap_or((tail, ""))
        };
        let list = || value.split_whitespace().map(num).collect::<Vec<f64>>();
        match key.trim() {
            "schema" => h.schema = value.parse().unwrap(),
            "sum" => h.sum = num(value),
            "count" => h.count = num(value),
            "z_bucket" => h.zero_count = num(value),
            "z_bucket_w" => h.zero_threshold = num(value),
            "offset" => offset = value.parse().unwrap(),
            "n_offset" => n_offset = value.parse().unwrap(),
            "buckets" => h.positive_buckets = list(),
            "n_buckets" => h.negative_buckets = list(),
            "custom_values" => h.custom_values = list(),
            "counter_reset_hint" => {
                h.counter_reset_hint = match value {
                    "reset" => CounterResetHint::CounterReset,
                    "not_reset" => CounterResetHint::NotCounterReset,
                    "gauge" => CounterResetHint::Gauge,
                    _ => CounterResetHint::Unknown,
                }
            }
            other => panic!("unknown key {other}"),
        }
        rest = next.trim_start();
    }
    if !h.positive_buckets.is_empty() {
        h.positive_spans = vec![(offset, h.positive_buckets.len() as u32)];
    }
    if !h.negative_buckets.is_empty() {
        h.negative_spans = vec![(n_offset, h.negative_buckets.len() as u32)];
    }
    h
}

/// promqltest's tolerance: equal within a relative 1e-6, NaN equals NaN.
fn close(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a == b {
        return true;
    }
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()) || (a - b).abs() < 1e-12
}

#[track_caller]
fn assert_close(got: f64, want: f64, what: &str) {
    assert!(close(got, want), "{what}: got {got}, want {want}");
}

/// Histograms equal as promqltest compares them: compacted, counts within tolerance.
#[track_caller]
fn assert_hist_close(got: &FloatHistogram, want: &FloatHistogram, what: &str) {
    let (mut g, mut w) = (got.clone(), want.clone());
    g.compact(0);
    w.compact(0);
    let ok = g.schema == w.schema
        && close(g.count, w.count)
        && close(g.sum, w.sum)
        && close(g.zero_count, w.zero_count)
        && g.zero_threshold == w.zero_threshold
        && g.positive_spans == w.positive_spans
        && g.negative_spans == w.negative_spans
        && g.custom_values == w.custom_values
        && g.positive_buckets.len() == w.positive_buckets.len()
        && g.negative_buckets.len() == w.negative_buckets.len()
        && g.positive_buckets
            .iter()
            .zip(&w.positive_buckets)
            .all(|(a, b)| close(*a, *b))
        && g.negative_buckets
            .iter()
            .zip(&w.negative_buckets)
            .all(|(a, b)| close(*a, *b));
    assert!(ok, "{what}:\n got  {g:?}\n want {w:?}");
}

#[test]
fn test_notation_parser_builds_one_span_per_side() {
    let h =
        th("schema:-53 sum:5 count:4 custom_values:[5 10] offset:1 buckets:[1 2] n_buckets:[3]");
    assert_eq!(h.schema, -53);
    assert_eq!(h.positive_spans, vec![(1, 2)]);
    assert_eq!(h.negative_spans, vec![(0, 1)]);
    assert_eq!(h.custom_values, vec![5.0, 10.0]);
    assert_eq!((h.sum, h.count), (5.0, 4.0));
}

// --- Formatting -------------------------------------------------------------------------

#[test]
fn go_g_matches_go_formatting() {
    let cases = [
        (0.0, "0"),
        (-0.0, "-0"),
        (1.0, "1"),
        (123400.0, "123400"),
        (999999.0, "999999"),
        (1e6, "1e+06"),
        (2349209.324, "2.349209324e+06"),
        (3493.3, "3493.3"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (1.5e-7, "1.5e-07"),
        (-22.62741699796952, "-22.62741699796952"),
        (1e21, "1e+21"),
        (1e100, "1e+100"),
        (f64::MAX, "1.7976931348623157e+308"),
        (5e-324, "5e-324"),
        (f64::INFINITY, "+Inf"),
        (f64::NEG_INFINITY, "-Inf"),
        (f64::NAN, "NaN"),
    ];
    for (v, want) in cases {
        assert_eq!(go_g(v), want, "{v:?}");
    }
}

/// Upstream's `TestFloatHistogramString`.
#[test]
fn go_string_as_upstream() {
    let exp = FloatHistogram {
        schema: 1,
        zero_threshold: 0.01,
        zero_count: 5.5,
        count: 3493.3,
        sum: 2349209.324,
        positive_spans: vec![(-2, 1), (2, 3)],
        positive_buckets: vec![1.0, 3.3, 4.2, 0.1],
        negative_spans: vec![(3, 2), (3, 2)],
        negative_buckets: vec![3.1, 3.0, 1.234e5, 1000.0],
        ..Default::default()
    };
    assert_eq!(
        exp.go_string(),
        "{count:3493.3, sum:2.349209324e+06, [-22.62741699796952,-16):1000, [-16,-11.31370849898476):123400, \
         [-4,-2.82842712474619):3, [-2.82842712474619,-2):3.1, [-0.01,0.01]:5.5, (0.35355339059327373,0.5]:1, \
         (1,1.414213562373095]:3.3, (1.414213562373095,2]:4.2, (2,2.82842712474619]:0.1}"
    );
    let custom = FloatHistogram {
        schema: CUSTOM_BUCKETS_SCHEMA,
        count: 3493.3,
        sum: 2349209.324,
        positive_spans: vec![(0, 1), (2, 4)],
        positive_buckets: vec![1.0, 3.3, 4.2, 0.1, 5.0],
        custom_values: vec![1.0, 2.0, 5.0, 10.0, 15.0, 20.0],
        ..Default::default()
    };
    assert_eq!(
        custom.go_string(),
        "{count:3493.3, sum:2.349209324e+06, [-Inf,1]:1, (5,10]:3.3, (10,15]:4.2, (15,20]:0.1, (20,+Inf]:5}"
    );
}

#[test]
fn go_string_leaves_out_empty_buckets() {
    let h = th("schema:0 count:3 sum:NaN buckets:[0 3 0]");
    assert_eq!(h.go_string(), "{count:3, sum:NaN, (1,2]:3}");
    assert_eq!(FloatHistogram::default().go_string(), "{count:0, sum:0}");
}

#[test]
fn test_expression_round_trips_the_notation() {
    let cases = [
        "{{schema:1 count:3 sum:4 offset:1 buckets:[1 2]}}",
        "{{count:34 sum:123.75 z_bucket:1 z_bucket_w:0.001 buckets:[2 4 8 16] n_buckets:[1 2]}}",
        "{{schema:-53 count:15 sum:172.5 custom_values:[5 10 15 20] counter_reset_hint:gauge offset:3 buckets:[3 1]}}",
        "{{}}",
    ];
    for want in cases {
        let h = th(want.trim_start_matches("{{").trim_end_matches("}}"));
        assert_eq!(h.test_expression(), want);
    }
    // Two spans become one, the gap filled with zeros.
    let h = FloatHistogram {
        count: 2.0,
        positive_spans: vec![(1, 1), (2, 1)],
        positive_buckets: vec![1.0, 1.0],
        ..Default::default()
    };
    assert_eq!(
        h.test_expression(),
        "{{count:2 offset:1 buckets:[1 0 0 1]}}"
    );
}

// --- Bounds and iteration ----------------------------------------------------------------

/// Upstream's `TestGetBoundExponential`.
#[test]
fn exponential_bounds_as_upstream() {
    let cases = [
        (-1, -1, 0.25),
        (0, -1, 1.0),
        (1, -1, 4.0),
        (512, -1, f64::MAX),
        (513, -1, f64::INFINITY),
        (-1, 0, 0.5),
        (0, 0, 1.0),
        (1, 0, 2.0),
        (1024, 0, f64::MAX),
        (1025, 0, f64::INFINITY),
        (-1, 2, 0.8408964152537144),
        (0, 2, 1.0),
        (1, 2, 1.189207115002721),
        (4096, 2, f64::MAX),
        (4097, 2, f64::INFINITY),
    ];
    for (idx, schema, want) in cases {
        assert_eq!(
            get_bound_exponential(idx, schema),
            want,
            "idx {idx} schema {schema}"
        );
    }
    // Upstream's table, not correctly rounded powers: sqrt(2) comes out one ulp low.
    assert_eq!(get_bound_exponential(1, 1), 1.414213562373095);
    assert_ne!(get_bound_exponential(1, 1), std::f64::consts::SQRT_2);
    // Far below 1: subnormal bounds are computed, not flushed.
    assert_eq!(get_bound_exponential(-1074, 0), 5e-324);
    assert_eq!(get_bound_exponential(-1075, 0), 0.0);
}

#[test]
fn target_index_maps_to_lower_schemas() {
    // Schema 1 buckets 1 and 2 ((1,√2], (√2,2]) are schema 0 bucket 1 ((1,2]).
    assert_eq!(target_idx(1, 1, 0), 1);
    assert_eq!(target_idx(2, 1, 0), 1);
    assert_eq!(target_idx(3, 1, 0), 2);
    assert_eq!(target_idx(0, 1, 0), 0);
    assert_eq!(target_idx(-1, 1, 0), 0);
    assert_eq!(target_idx(-2, 1, 0), -1);
    assert_eq!(target_idx(5, 3, 0), 1);
}

#[test]
fn all_buckets_ascend_and_clamp_to_the_zero_threshold() {
    // Schema 0 with a zero threshold of 0.75: the buckets (0.5,1] and [-1,-0.5) overlap it.
    let h = FloatHistogram {
        zero_threshold: 0.75,
        zero_count: 2.0,
        count: 10.0,
        positive_spans: vec![(0, 2)],
        positive_buckets: vec![1.0, 3.0],
        negative_spans: vec![(0, 1), (1, 1)],
        negative_buckets: vec![1.0, 3.0],
        ..Default::default()
    };
    let got: Vec<(f64, f64, f64, bool, bool, i32)> = h
        .all_buckets()
        .iter()
        .map(|b| {
            (
                b.lower,
                b.upper,
                b.count,
                b.lower_inclusive,
                b.upper_inclusive,
                b.index,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (-4.0, -2.0, 3.0, true, false, 2),
            (-1.0, -0.75, 1.0, true, false, 0),
            (-0.75, 0.75, 2.0, true, true, 0),
            (0.75, 1.0, 1.0, false, true, 0),
            (1.0, 2.0, 3.0, false, true, 1),
        ]
    );
    let reverse: Vec<(f64, f64)> = h
        .all_buckets_reverse()
        .iter()
        .map(|b| (b.lower, b.upper))
        .collect();
    assert_eq!(
        reverse,
        vec![
            (1.0, 2.0),
            (0.75, 1.0),
            (-0.75, 0.75),
            (-1.0, -0.75),
            (-4.0, -2.0)
        ]
    );
    // A zero bucket without observations is not listed.
    let mut empty_zero = h.clone();
    empty_zero.zero_count = 0.0;
    assert_eq!(empty_zero.all_buckets().len(), 4);
}

#[test]
fn custom_buckets_iterate_with_infinite_ends() {
    let h = th("schema:-53 count:4 custom_values:[5 10] buckets:[1 2 1]");
    let got: Vec<(f64, f64, bool, bool)> = h
        .all_buckets()
        .iter()
        .map(|b| (b.lower, b.upper, b.lower_inclusive, b.upper_inclusive))
        .collect();
    assert_eq!(
        got,
        vec![
            (f64::NEG_INFINITY, 5.0, true, true),
            (5.0, 10.0, false, true),
            (10.0, f64::INFINITY, false, true),
        ]
    );
    // The HTTP view: the first custom bucket is closed on both sides.
    let views: Vec<u8> = h.buckets().iter().map(|b| b.boundaries).collect();
    assert_eq!(views, vec![3, 0, 0]);
}

#[test]
fn api_bucket_view_skips_empty_buckets() {
    let h = th("schema:0 count:5 z_bucket:1 z_bucket_w:0.001 buckets:[1 0 2] n_buckets:[1]");
    let views: Vec<(u8, f64, f64, f64)> = h
        .buckets()
        .iter()
        .map(|b| (b.boundaries, b.lower, b.upper, b.count))
        .collect();
    assert_eq!(
        views,
        vec![
            (1, -1.0, -0.5, 1.0),
            (3, -0.001, 0.001, 1.0),
            (0, 0.5, 1.0, 1.0),
            (0, 2.0, 4.0, 2.0)
        ]
    );
}

// --- Equality, reduction, compaction ------------------------------------------------------

/// Upstream's `TestFloatHistogramEquals`.
#[test]
fn equals_as_upstream() {
    let h1 = FloatHistogram {
        schema: 3,
        count: 2.2,
        sum: 9.7,
        zero_threshold: 0.1,
        zero_count: 1.1,
        positive_buckets: vec![3.0],
        negative_buckets: vec![4.0],
        ..Default::default()
    };
    let equal = |a: &FloatHistogram, b: &FloatHistogram| a.equals(b) && b.equals(a);
    let differ = |a: &FloatHistogram, b: &FloatHistogram| !a.equals(b) && !b.equals(a);
    assert!(equal(&h1, &h1.clone()));
    let variants: [fn(&mut FloatHistogram); 4] = [
        |h| h.count = f64::NAN,
        |h| h.zero_count = f64::NAN,
        |h| h.positive_buckets[0] = f64::NAN,
        |h| h.negative_buckets[0] = f64::NAN,
    ];
    for change in variants {
        let mut h = h1.clone();
        change(&mut h);
        assert!(differ(&h1, &h));
        assert!(equal(&h, &h.clone()), "NaN equals NaN bit for bit");
    }
    let mut custom_on_exponential = h1.clone();
    custom_on_exponential.custom_values = vec![1.0, 2.0, 3.0];
    assert!(equal(&h1, &custom_on_exponential));

    let cbh1 = FloatHistogram {
        schema: CUSTOM_BUCKETS_SCHEMA,
        count: 2.2,
        sum: 9.7,
        positive_spans: vec![(0, 1)],
        positive_buckets: vec![3.0],
        custom_values: vec![1.0, 2.0, 3.0],
        ..Default::default()
    };
    assert!(equal(&cbh1, &cbh1.clone()));
    let mut cbh2 = cbh1.clone();
    cbh2.custom_values = vec![1.0, 2.0, 3.0, 4.0];
    assert!(differ(&cbh1, &cbh2));
    let mut cbh2 = cbh1.clone();
    cbh2.negative_spans = vec![(0, 1)];
    cbh2.negative_buckets = vec![1.0];
    assert!(differ(&cbh1, &cbh2));
    let mut cbh2 = cbh1.clone();
    cbh2.zero_threshold = 0.1;
    cbh2.zero_count = 10.0;
    assert!(differ(&cbh1, &cbh2));
}

#[test]
fn equals_ignores_zero_length_spans_but_not_split_spans() {
    let a = FloatHistogram {
        positive_spans: vec![(1, 2)],
        positive_buckets: vec![1.0, 2.0],
        ..Default::default()
    };
    let mut b = a.clone();
    b.positive_spans = vec![(0, 0), (1, 2), (3, 0)];
    assert!(a.equals(&b));
    b.positive_spans = vec![(1, 1), (0, 1)];
    assert!(!a.equals(&b));
    b.positive_spans = vec![(2, 2)];
    assert!(!a.equals(&b));
    // -0 and +0 differ bit for bit.
    let mut c = a.clone();
    c.sum = -0.0;
    assert!(!a.equals(&c));
}

/// Upstream's `TestFloatHistogramReduceResolution` and `TestReduceResolutionFloatHistogram`.
#[test]
fn reduce_resolution_as_upstream() {
    let mut h = FloatHistogram {
        positive_spans: vec![(-2, 4), (0, 0), (3, 2)],
        positive_buckets: vec![1.0, 3.0, 1.0, 2.0, 1.0, 1.0],
        negative_spans: vec![(0, 4), (0, 0), (3, 2)],
        negative_buckets: vec![1.0, 3.0, 1.0, 2.0, 1.0, 1.0],
        ..Default::default()
    };
    h.reduce_resolution(-1).unwrap();
    assert_eq!(h.schema, -1);
    assert_eq!(h.positive_spans, vec![(-1, 3), (1, 1)]);
    assert_eq!(h.positive_buckets, vec![1.0, 4.0, 2.0, 2.0]);
    assert_eq!(h.negative_spans, vec![(0, 3), (1, 1)]);
    assert_eq!(h.negative_buckets, vec![1.0, 4.0, 2.0, 2.0]);

    let bad = |spans: Vec<(i32, u32)>, buckets: Vec<f64>| {
        let mut h = FloatHistogram {
            positive_spans: spans,
            positive_buckets: buckets,
            ..Default::default()
        };
        let before = h.clone();
        let err = h.reduce_resolution(-1).unwrap_err().to_string();
        assert_eq!(h, before, "unchanged on error");
        err
    };
    assert_eq!(
        bad(vec![(-2, 4), (0, 0), (3, 2)], vec![1.0, 3.0, 1.0, 2.0, 1.0]),
        "have 5 buckets but spans need more: histogram spans specify different number of buckets than provided"
    );
    assert_eq!(
        bad(
            vec![(-2, 4), (0, 0), (3, 2)],
            vec![1.0, 3.0, 1.0, 2.0, 1.0, 1.0, 5.0]
        ),
        "spans need 6 buckets, have 7 buckets: histogram spans specify different number of buckets than provided"
    );
    assert_eq!(
        bad(
            vec![(-2, 4), (-1, 0), (3, 2)],
            vec![1.0, 3.0, 1.0, 2.0, 1.0, 1.0]
        ),
        "span number 2 with offset -1: histogram has a span whose offset is negative"
    );
    let mut custom = th("schema:-53 custom_values:[1] buckets:[1 1]");
    assert_eq!(
        custom.reduce_resolution(-1),
        Err(HistogramError::InvalidReduction { from: -53, to: -1 })
    );
    assert!(th("schema:0").reduce_resolution(0).is_err());
}

/// Upstream's `TestFloatHistogramKahanCompactSpanMerge`: compensation terms stay with their
/// buckets when several spans merge in one pass.
#[test]
fn copy_to_schema_keeps_the_hint_only_without_change() {
    let h =
        th("schema:2 count:4 sum:3 z_bucket_w:0.5 buckets:[1 1 1 1] counter_reset_hint:not_reset");
    let same = h.copy_to_schema(2);
    assert_eq!(same, h);
    let lower = h.copy_to_schema(0);
    assert_eq!(lower.counter_reset_hint, CounterResetHint::Unknown);
    assert_eq!((lower.schema, lower.zero_threshold), (0, 0.5));
    assert_eq!(
        (lower.positive_spans.clone(), lower.positive_buckets.clone()),
        (vec![(0, 2)], vec![1.0, 3.0])
    );
    // Higher targets and custom buckets: an unchanged copy where upstream panics.
    assert_eq!(h.copy_to_schema(3), h);
    let custom = th("schema:-53 count:1 custom_values:[1] buckets:[1]");
    assert_eq!(custom.copy_to_schema(0), custom);
    assert!(custom.zero_bucket().is_none());
}

#[test]
fn kahan_compaction_keeps_compensation_aligned() {
    let mut h = FloatHistogram {
        positive_spans: vec![(0, 1), (1, 1), (1, 1)],
        positive_buckets: vec![1.0, 2.0, 3.0],
        ..Default::default()
    };
    let mut c = FloatHistogram {
        positive_buckets: vec![0.1, 0.2, 0.3],
        ..h.clone()
    };
    h.kahan_compact(3, &mut c);
    assert_eq!(h.positive_spans, vec![(0, 5)]);
    assert_eq!(h.positive_buckets, vec![1.0, 0.0, 2.0, 0.0, 3.0]);
    assert_eq!(c.positive_buckets, vec![0.1, 0.0, 0.2, 0.0, 0.3]);
}

#[test]
fn compaction_keeps_stored_empties_only_inside_a_span() {
    // -0 inside a span survives as it is; a gap across spans is filled with +0.
    let mut h = FloatHistogram {
        positive_spans: vec![(0, 3), (1, 1)],
        positive_buckets: vec![1.0, -0.0, 2.0, 3.0],
        ..Default::default()
    };
    h.compact(2);
    assert_eq!(h.positive_spans, vec![(0, 5)]);
    assert_eq!(
        h.positive_buckets
            .iter()
            .map(|b| b.to_bits())
            .collect::<Vec<_>>(),
        [1.0f64, -0.0, 2.0, 0.0, 3.0].map(f64::to_bits)
    );
    h.compact(0);
    assert_eq!(h.positive_spans, vec![(0, 1), (1, 1), (1, 1)]);
    assert_eq!(h.positive_buckets, vec![1.0, 2.0, 3.0]);
}

// --- Add, sub, Kahan ----------------------------------------------------------------------

#[test]
fn kahan_inc_compensates_lost_digits() {
    let (mut sum, mut c) = (0.0, 0.0);
    for v in [1e100, 1.0, -1e100] {
        (sum, c) = kahan_inc(v, sum, c);
    }
    assert_eq!(sum + c, 1.0);
    assert_eq!(kahan_inc(1.0, f64::INFINITY, 5.0), (f64::INFINITY, 0.0));
}

#[test]
fn kahan_add_keeps_small_counts_next_to_huge_ones() {
    let big = th("schema:0 count:1e100 sum:1e100 buckets:[1e100]");
    let small = th("schema:0 count:1 sum:1 buckets:[1]");
    let minus_big = th("schema:0 count:-1e100 sum:-1e100 buckets:[-1e100]");
    let mut sum = big.clone();
    let mut comp = None;
    for h in [&small, &minus_big] {
        let (c, _) = sum.kahan_add(h, comp).unwrap();
        comp = c;
    }
    sum.add(&comp.unwrap()).unwrap();
    assert_eq!(
        (sum.count, sum.sum, sum.positive_buckets[0]),
        (1.0, 1.0, 1.0)
    );
    // Plain addition loses them.
    let mut naive = big;
    naive.add(&small).unwrap();
    naive.add(&minus_big).unwrap();
    assert_eq!(naive.count, 0.0);
}

#[test]
fn incompatible_schemas_are_refused_without_change() {
    let exp = th("schema:0 count:1 buckets:[1]");
    let custom = th("schema:-53 count:1 custom_values:[1] buckets:[1]");
    let mut a = exp.clone();
    assert_eq!(a.add(&custom), Err(HistogramError::IncompatibleSchema));
    assert_eq!(a.sub(&custom), Err(HistogramError::IncompatibleSchema));
    assert!(matches!(
        a.kahan_add(&custom, None),
        Err(HistogramError::IncompatibleSchema)
    ));
    assert_eq!(a, exp);
    assert_eq!(
        HistogramError::IncompatibleSchema.to_string(),
        "histograms with exponential and custom buckets schemas are incompatible"
    );
}

#[test]
fn counter_reset_hints_merge_as_upstream() {
    use CounterResetHint::*;
    let cases = [
        (Unknown, Unknown, Unknown, false),
        (Gauge, CounterReset, Gauge, false),
        (CounterReset, Gauge, Gauge, false),
        (Unknown, NotCounterReset, Unknown, false),
        (NotCounterReset, Unknown, Unknown, false),
        (CounterReset, CounterReset, CounterReset, false),
        (CounterReset, NotCounterReset, Unknown, true),
        (NotCounterReset, CounterReset, Unknown, true),
    ];
    for (a, b, want, collision) in cases {
        let mut x = FloatHistogram {
            counter_reset_hint: a,
            ..Default::default()
        };
        let y = FloatHistogram {
            counter_reset_hint: b,
            ..Default::default()
        };
        let flags = x.add(&y).unwrap();
        assert_eq!(
            (x.counter_reset_hint, flags.counter_reset_collision),
            (want, collision),
            "{a:?} + {b:?}"
        );
        let mut x = FloatHistogram {
            counter_reset_hint: a,
            ..Default::default()
        };
        assert_eq!(x.sub(&y).unwrap().counter_reset_collision, collision);
    }
}

/// `irate` over histograms whose custom bounds changed (native_histograms.test): the later
/// histogram minus the earlier one, on the bounds both have.
#[test]
fn custom_bounds_reconcile_to_their_intersection() {
    let first = th("schema:-53 sum:55 count:15 custom_values:[2 4 6] buckets:[1 2 5 7]");
    let second = th(
        "schema:-53 sum:555 count:450 custom_values:[1 2 3 4 5 6 7 8] buckets:[10 20 30 40 50 60 70 80 90]",
    );
    let mut diff = second.clone();
    let flags = diff.sub(&first).unwrap();
    assert!(flags.nhcb_bounds_reconciled);
    assert_hist_close(
        &diff,
        &th("schema:-53 sum:500 count:435 custom_values:[2 4 6] buckets:[29 68 105 233]"),
        "add buckets",
    );

    let first = th(
        "schema:-53 sum:55 count:45 custom_values:[1 2 3 4 5 6 7 8] buckets:[1 2 3 4 5 6 7 8 9]",
    );
    let second =
        th("schema:-53 sum:5560 count:1000 custom_values:[3 5 7] buckets:[100 200 300 400]");
    let mut diff = second.clone();
    diff.sub(&first).unwrap();
    assert_hist_close(
        &diff,
        &th("schema:-53 sum:5505 count:955 custom_values:[3 5 7] buckets:[94 191 287 383]"),
        "remove buckets",
    );
}

#[test]
fn malformed_histograms_do_not_panic() {
    let broken = FloatHistogram {
        schema: 1,
        count: 5.0,
        positive_spans: vec![(0, 4), (-3, 2)],
        positive_buckets: vec![1.0, 2.0],
        negative_spans: vec![(0, 1)],
        negative_buckets: vec![1.0, 2.0, 3.0],
        ..Default::default()
    };
    let fine = th("schema:0 count:3 buckets:[1 2]");
    let mut a = fine.clone();
    // A histogram to be reduced must be well-formed.
    assert!(matches!(
        a.add(&broken),
        Err(HistogramError::TooFewBuckets { .. })
    ));
    assert_eq!(a, fine);
    let mut b = broken.clone();
    assert!(b.add(&fine).is_err());
    // Same schema: what pairs up is used.
    let mut c = broken.clone();
    c.add(&broken).unwrap();
    let _ = broken.clone().kahan_add(&broken, None);
    let _ = (
        broken.detect_reset(&fine),
        fine.detect_reset(&broken),
        broken.go_string(),
        broken.all_buckets(),
    );
    let _ = (
        histogram_quantile(0.5, &broken),
        histogram_fraction(0.0, 1.0, &broken),
        histogram_variance(&broken),
    );
    let mut d = broken.clone();
    d.compact(0);
    d.trim_buckets(1.0, true);
    let _ = broken.copy_to_schema(0);
    let mut custom = th("schema:-53 count:2 custom_values:[1] buckets:[1 1 1 1]");
    custom.positive_spans = vec![(5, 4)];
    let _ = (
        custom.go_string(),
        custom.all_buckets(),
        histogram_quantile(0.9, &custom),
    );
}

#[test]
fn nan_zero_thresholds_do_not_loop() {
    let mut a = th("schema:0 count:1 z_bucket_w:NaN buckets:[1]");
    a.add(&th("schema:0 count:1 z_bucket_w:0.5 buckets:[1]"))
        .unwrap();
    assert_eq!(a.count, 2.0);
}

#[test]
fn mul_and_div_set_gauge_for_negative_factors() {
    let mut h = th("schema:0 count:2 sum:3 buckets:[2] counter_reset_hint:not_reset");
    h.mul(2.0);
    assert_eq!(h.counter_reset_hint, CounterResetHint::NotCounterReset);
    h.mul(-1.0);
    assert_eq!(
        (h.counter_reset_hint, h.count),
        (CounterResetHint::Gauge, -4.0)
    );
    let mut h = th("schema:0 count:2 sum:3 buckets:[2] counter_reset_hint:reset");
    h.div(-2.0);
    assert_eq!(
        (h.counter_reset_hint, h.positive_buckets[0]),
        (CounterResetHint::Gauge, -1.0)
    );
    // Scale (used for unary minus elsewhere) keeps the hint.
    let s = scale(&th("schema:0 count:2 counter_reset_hint:reset"), -1.0);
    assert_eq!(s.counter_reset_hint, CounterResetHint::CounterReset);
}

#[test]
fn overflow_is_any_infinite_value() {
    let mut h = th("schema:0 count:2 sum:3 buckets:[2]");
    assert!(!h.has_overflow());
    h.positive_buckets[0] = f64::INFINITY;
    assert!(h.has_overflow());
    let mut h = th("schema:0 count:2 sum:3 buckets:[2]");
    h.sum = f64::NEG_INFINITY;
    assert!(h.has_overflow());
    assert!(!th("schema:0 count:NaN").has_overflow());
}

#[test]
fn detect_reset_follows_the_hint_first() {
    let prev = th("schema:0 count:10 buckets:[10]");
    let mut curr = th("schema:0 count:5 buckets:[5]");
    assert!(curr.detect_reset(&prev));
    curr.counter_reset_hint = CounterResetHint::NotCounterReset;
    assert!(!curr.detect_reset(&prev));
    let mut same = prev.clone();
    same.counter_reset_hint = CounterResetHint::CounterReset;
    assert!(same.detect_reset(&prev));
    // Gauges are checked like counters.
    curr.counter_reset_hint = CounterResetHint::Gauge;
    assert!(curr.detect_reset(&prev));
    // Exponential after custom, custom after exponential.
    let custom = th("schema:-53 count:10 custom_values:[1] buckets:[10]");
    assert!(custom.detect_reset(&prev));
    assert!(th("schema:0 count:10 buckets:[10]").detect_reset(&custom));
}

// --- Quantile, fraction, variance (native_histograms.test) -------------------------------

#[test]
fn quantile_positive_buckets_with_zero_bucket() {
    let h = th("schema:0 count:12 sum:100 z_bucket:2 z_bucket_w:0.001 buckets:[2 3 0 1 4]");
    for (q, want) in [
        (1.001, f64::INFINITY),
        (1.0, 16.0),
        (0.99, 15.67072476139083),
        (0.9, 12.99603834169977),
        (0.6, 4.594793419988138),
        (0.5, 1.5874010519681994),
        (0.1, 0.0006),
        (0.0, 0.0),
        (-1.0, f64::NEG_INFINITY),
    ] {
        let out = histogram_quantile(q, &h);
        assert_close(out.value, want, &format!("q={q}"));
        assert_eq!(out.nan_observations, NanObservations::None);
    }
}

#[test]
fn quantile_negative_buckets_with_zero_bucket() {
    let h = th("schema:0 count:12 sum:100 z_bucket:2 z_bucket_w:0.001 n_buckets:[2 3 0 1 4]");
    for (q, want) in [
        (1.001, f64::INFINITY),
        (1.0, 0.0),
        (0.99, -0.00006),
        (0.9, -0.0006),
        (0.5, -1.5874010519681996),
        (0.1, -12.996038341699768),
        (0.0, -16.0),
        (-1.0, f64::NEG_INFINITY),
    ] {
        assert_close(histogram_quantile(q, &h).value, want, &format!("q={q}"));
    }
}

#[test]
fn quantile_both_sides() {
    let h = th(
        "schema:0 count:24 sum:100 z_bucket:4 z_bucket_w:0.001 buckets:[2 3 0 1 4] n_buckets:[2 3 0 1 4]",
    );
    for (q, want) in [
        (1.0, 16.0),
        (0.99, 15.34822590920423),
        (0.9, 10.556063286183155),
        (0.7, 1.2030250360821164),
        (0.55, 0.0006),
        (0.5, 0.0),
        (0.45, -0.0006),
        (0.3, -1.2030250360821169),
        (0.1, -10.556063286183155),
        (0.01, -15.34822590920423),
        (0.0, -16.0),
    ] {
        assert_close(histogram_quantile(q, &h).value, want, &format!("q={q}"));
    }
}

#[test]
fn quantile_does_not_depend_on_schema() {
    for (desc, want) in [
        ("schema:-1 sum:6 count:5 buckets:[0 5]", 2.0),
        ("schema:0 sum:4 count:5 buckets:[0 5]", 1.4142135623730951),
        ("schema:1 sum:4 count:5 buckets:[0 5]", 1.189207),
        ("schema:-1 sum:6 count:5 buckets:[0 0 5]", 8.0),
        ("schema:0 sum:4 count:5 buckets:[0 0 5]", 2.82842712474619),
        ("schema:1 sum:4 count:5 buckets:[0 0 5]", 1.6817928305074292),
        ("schema:-1 sum:6 count:5 n_buckets:[0 5]", -2.0),
        (
            "schema:0 sum:4 count:5 n_buckets:[0 5]",
            -1.4142135623730951,
        ),
        (
            "schema:1 sum:4 count:5 n_buckets:[0 0 5]",
            -1.6817928305074292,
        ),
    ] {
        let h = th(desc);
        assert_close(histogram_quantile(0.5, &h).value, want, desc);
        // histogram_fraction is the inverse.
        let (lower, upper) = if want > 0.0 { (0.0, want) } else { (want, 0.0) };
        assert_close(histogram_fraction(lower, upper, &h).0, 0.5, desc);
    }
}

#[test]
fn quantile_and_fraction_of_custom_buckets() {
    let h = th("schema:-53 sum:5 count:4 custom_values:[5 10] buckets:[1 2 1]");
    assert_close(histogram_quantile(0.5, &h).value, 7.5, "median");
    assert_close(histogram_fraction(5.0, 10.0, &h).0, 0.5, "fraction");
    // In the lowest bucket, interpolated from 0; in the +Inf bucket, the last bound.
    assert_close(histogram_quantile(0.1, &h).value, 2.0, "lowest bucket");
    assert_close(histogram_quantile(0.99, &h).value, 10.0, "+Inf bucket");
    let negative = th("schema:-53 sum:-5 count:4 custom_values:[-5 10] buckets:[2 2]");
    assert_close(
        histogram_quantile(0.25, &negative).value,
        -5.0,
        "lowest bucket ends below 0",
    );
}

#[test]
fn single_histogram_median_is_exponentially_interpolated() {
    let h = th("schema:0 sum:5 count:4 buckets:[1 2 1]");
    assert_close(
        histogram_quantile(0.5, &h).value,
        1.414213562373095,
        "median",
    );
    assert_close(histogram_fraction(1.0, 2.0, &h).0, 0.5, "fraction (1,2]");
    assert_close(histogram_fraction(0.0, 8.0, &h).0, 1.0, "fraction (0,8]");
    let empty = th("schema:-53 custom_values:[-2 3]");
    assert!(histogram_quantile(0.5, &empty).value.is_nan());
    assert!(
        histogram_fraction(f64::NEG_INFINITY, f64::INFINITY, &empty)
            .0
            .is_nan()
    );
}

#[test]
fn fraction_positive_buckets_with_zero_bucket() {
    let h = th("schema:0 count:12 sum:100 z_bucket:2 z_bucket_w:0.001 buckets:[2 3 0 1 4]");
    let inf = f64::INFINITY;
    for (lower, upper, want) in [
        (0.0, inf, 1.0),
        (-inf, 0.0, 0.0),
        (-0.001, 0.0, 0.0),
        (0.0, 0.001, 0.16666666666666666),
        (0.001, inf, 0.8333333333333334),
        (0.0, 0.0005, 0.08333333333333333),
        (-inf, -0.001, 0.0),
        (1.0, 2.0, 0.25),
        (0.0, 1.5, 0.4795739585136224),
        (1.5, 2.0, 0.10375937481971091),
        (1.0, 8.0, 0.3333333333333333),
        (0.0, 6.0, 0.6320802083934297),
        (1.0, 6.0, 0.29874687506009634),
        (1.5, 6.0, 0.15250624987980724),
        (-2.0, -1.0, 0.0),
        (42.0, 3.1415, 0.0),
        (0.0, 0.0, 0.0),
        (3.1415, f64::NAN, f64::NAN),
        (f64::NAN, 42.0, f64::NAN),
        (-inf, inf, 1.0),
    ] {
        let (got, nan) = histogram_fraction(lower, upper, &h);
        assert_close(got, want, &format!("({lower}, {upper})"));
        assert!(!nan);
    }
    // Round trips through histogram_quantile.
    assert_close(
        histogram_quantile(0.08333333333333333, &h).value,
        0.0005,
        "inverse",
    );
    assert_close(
        histogram_quantile(0.6320802083934297, &h).value,
        6.0,
        "inverse",
    );
}

#[test]
fn fraction_negative_and_both_sides() {
    let inf = f64::INFINITY;
    let neg = th("schema:0 count:12 sum:100 z_bucket:2 z_bucket_w:0.001 n_buckets:[2 3 0 1 4]");
    for (lower, upper, want) in [
        (0.0, inf, 0.0),
        (-inf, 0.0, 1.0),
        (-0.001, 0.0, 0.16666666666666666),
        (-0.0005, 0.0, 0.08333333333333333),
        (-inf, -0.0005, 0.9166666666666666),
        (-inf, -0.001, 0.8333333333333334),
        (-2.0, -1.0, 0.25),
        (-2.0, -1.5, 0.10375937481971091),
        (-8.0, -1.0, 0.3333333333333333),
        (-inf, -6.0, 0.36791979160657035),
        (-6.0, -1.5, 0.15250624987980724),
    ] {
        assert_close(
            histogram_fraction(lower, upper, &neg).0,
            want,
            &format!("neg ({lower}, {upper})"),
        );
    }
    assert_close(
        histogram_quantile(0.9166666666666666, &neg).value,
        -0.0005,
        "inverse",
    );
    assert_close(
        histogram_quantile(0.36791979160657035, &neg).value,
        -6.0,
        "inverse",
    );

    let both = th(
        "schema:0 count:24 sum:100 z_bucket:4 z_bucket_w:0.001 buckets:[2 3 0 1 4] n_buckets:[2 3 0 1 4]",
    );
    for (lower, upper, want) in [
        (0.0, inf, 0.5),
        (-inf, 0.0, 0.5),
        (-0.001, 0.0, 0.08333333333333333),
        (-0.0005, 0.0005, 0.08333333333333333),
        (-inf, 0.0005, 0.5416666666666666),
        (-inf, -0.0005, 0.4583333333333333),
        (0.001, inf, 0.4166666666666667),
        (1.0, 2.0, 0.125),
        (1.5, 2.0, 0.051879687409855414),
        (1.0, 6.0, 0.14937343753004825),
    ] {
        assert_close(
            histogram_fraction(lower, upper, &both).0,
            want,
            &format!("both ({lower}, {upper})"),
        );
    }
    assert_close(
        histogram_quantile(0.5416666666666666, &both).value,
        0.0005,
        "inverse",
    );
    assert_close(
        histogram_quantile(0.4583333333333333, &both).value,
        -0.0005,
        "inverse",
    );
}

#[test]
fn nan_observations_in_quantile_and_fraction() {
    let all_nan = th("schema:0 count:3 sum:NaN");
    let some_nan = th("schema:0 count:15 sum:NaN buckets:[12]");
    for q in [1.0, 0.81, 0.8, 0.4] {
        let out = histogram_quantile(q, &all_nan);
        assert!(out.value.is_nan());
        assert_eq!(out.nan_observations, NanObservations::ResultNaN, "q={q}");
    }
    for (q, want) in [(1.0, f64::NAN), (0.81, f64::NAN)] {
        let out = histogram_quantile(q, &some_nan);
        assert_close(out.value, want, &format!("q={q}"));
        assert_eq!(out.nan_observations, NanObservations::ResultNaN, "q={q}");
    }
    for (q, want) in [(0.8, 1.0), (0.4, 0.7071067811865475)] {
        let out = histogram_quantile(q, &some_nan);
        assert_close(out.value, want, &format!("q={q}"));
        assert_eq!(out.nan_observations, NanObservations::SkewedHigher, "q={q}");
    }
    assert_eq!(
        histogram_fraction(f64::NEG_INFINITY, 0.7071067811865475, &all_nan),
        (0.0, true)
    );
    let (f, nan) = histogram_fraction(f64::NEG_INFINITY, 0.7071067811865475, &some_nan);
    assert_close(f, 0.4, "fraction");
    assert!(nan);
    let (f, nan) = histogram_fraction(f64::NEG_INFINITY, f64::INFINITY, &some_nan);
    assert_close(f, 0.8, "all");
    assert!(nan);
    // A NaN sum with every observation in a bucket (±Inf observed) is no NaN observation.
    let inf_observed = th("schema:0 count:2 sum:NaN buckets:[2]");
    assert_eq!(
        histogram_quantile(0.5, &inf_observed).nan_observations,
        NanObservations::None
    );
    assert!(!histogram_fraction(0.0, 1.0, &inf_observed).1);
}

/// Upstream keeps walking the bucket variable on to the last bucket while it counts the
/// buckets after the quantile's (NaN sum only), then interpolates in that last bucket. The
/// port keeps this so results agree with upstream's.
#[test]
fn nan_sum_quantile_interpolates_in_the_last_bucket_as_upstream() {
    let h = th("schema:0 count:16 sum:NaN buckets:[4 8 1]");
    let out = histogram_quantile(0.4, &h);
    // rank 6.4 falls into (1,2]; 2.4 into it, then interpolated in (2,4]: 2^(1 + 2.4).
    assert_close(out.value, 2f64.powf(3.4), "quantile");
    assert_eq!(out.nan_observations, NanObservations::SkewedHigher);
}

#[test]
fn stddev_and_stdvar() {
    let cases = [
        (
            "schema:2 count:4 sum:10 buckets:[1 0 0 0 1 0 0 1 1]",
            1.0787993180043811,
            1.163807968526718,
        ),
        (
            "schema:8 count:10 sum:10 buckets:[1 2 3 4]",
            0.0048960313898237465,
            2.3971123370139447e-05,
        ),
        (
            "schema:3 count:7 sum:62 z_bucket:1 buckets:[0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0 0 1 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 ] n_buckets:[0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 ]",
            42.94723640026,
            1844.4651144196398,
        ),
        (
            "schema:0 count:10 sum:-112946 z_bucket:0 n_buckets:[0 0 1 1 1 0 1 1 0 0 3 0 0 0 1 0 0 1]",
            27556.344499842,
            759352122.1939945,
        ),
        (
            "schema:0 count:10 sum:-100 z_bucket:0 n_buckets:[0 0 0 0 10]",
            1.3137084989848,
            1.725830020304794,
        ),
        (
            "schema:3 count:7 sum:NaN z_bucket:1 buckets:[1] n_buckets:[1]",
            f64::NAN,
            f64::NAN,
        ),
        (
            "schema:3 count:7 sum:Inf z_bucket:1 buckets:[1] n_buckets:[1]",
            f64::INFINITY,
            f64::INFINITY,
        ),
    ];
    for (desc, stddev, stdvar) in cases {
        let v = histogram_variance(&th(desc));
        assert_close(v, stdvar, desc);
        assert_close(v.sqrt(), stddev, desc);
    }
    // Custom buckets use arithmetic midpoints: observations in (0,2] and (2,4] around 2.
    let custom = th("schema:-53 count:2 sum:4 custom_values:[0 2 4] offset:1 buckets:[1 1]");
    assert_close(histogram_variance(&custom), 1.0, "custom");
}

// --- Trim operators (native_histograms.test) ----------------------------------------------

#[test]
fn trim_exponential_buckets() {
    let h = th(
        "schema:0 sum:123.75 count:34 z_bucket:1 z_bucket_w:0.001 buckets:[2 4 8 16] n_buckets:[1 2]",
    );
    let cases = [
        (
            ">/",
            f64::NEG_INFINITY,
            "schema:0 sum:123.75 count:34 z_bucket:1 z_bucket_w:0.001 buckets:[2 4 8 16] n_buckets:[1 2]",
        ),
        (
            "</",
            f64::INFINITY,
            "schema:0 sum:123.75 count:34 z_bucket:1 z_bucket_w:0.001 buckets:[2 4 8 16] n_buckets:[1 2]",
        ),
        (">/", f64::INFINITY, "schema:0 z_bucket_w:0.001"),
        ("</", f64::NEG_INFINITY, "schema:0 z_bucket_w:0.001"),
        (
            ">/",
            0.0,
            "schema:0 sum:120.20840280171308 count:30.5 z_bucket:0.5 z_bucket_w:0.001 buckets:[2 4 8 16]",
        ),
        (
            "</",
            0.0,
            "schema:0 sum:-3.53578390593273768 count:3.5 z_bucket:0.5 z_bucket_w:0.001 n_buckets:[1 2]",
        ),
        (
            "</",
            1.4142135624,
            "count:8 sum:0.2570938865989847 z_bucket:1 z_bucket_w:0.001 buckets:[2 2] n_buckets:[1 2]",
        ),
        (
            ">/",
            1.4142135624,
            "count:26 sum:116.50067065070982 z_bucket_w:0.001 buckets:[0 2 8 16]",
        ),
        (
            "</",
            2.0,
            "count:10 sum:3.5355339059327373 z_bucket:1 z_bucket_w:0.001 buckets:[2 4] n_buckets:[1 2]",
        ),
        (
            ">/",
            2.0,
            "count:24 sum:113.13708498984761 z_bucket_w:0.001 offset:2 buckets:[8 16]",
        ),
        (
            ">/",
            -1.0,
            "count:32 sum:119.50104602052653 z_bucket:1 z_bucket_w:0.001 buckets:[2 4 8 16] n_buckets:[1]",
        ),
        (
            "</",
            -1.0,
            "count:2 sum:-2.8284271247461903 z_bucket_w:0.001 n_offset:1 n_buckets:[2]",
        ),
    ];
    check_trims(&h, &cases);

    let h2 = th(
        "schema:2 sum:12.8286080906 count:28 z_bucket:1 z_bucket_w:0.001 buckets:[1 2 4 7 3] n_buckets:[1 5 3 1]",
    );
    let cases = [
        (
            "</",
            1.13,
            "schema:2 count:13.410582181123704 sum:-9.385798726068233 z_bucket:1 z_bucket_w:0.001 buckets:[1 1.410582181123704] n_buckets:[1 5 3 1]",
        ),
        (
            ">/",
            1.13,
            "schema:2 count:14.589417818876296 sum:22.168126492693734 z_bucket_w:0.001 offset:1 buckets:[0.589417818876296 4 7 3]",
        ),
        (
            ">/",
            -1.3,
            "schema:2 count:25.54213947904476 sum:16.29588491217537 z_bucket:1 z_bucket_w:0.001 buckets:[1 2 4 7 3] n_buckets:[1 5 1.54213947904476]",
        ),
        (
            "</",
            -1.3,
            "schema:2 count:2.45786052095524 sum:-3.5189307983595066 z_bucket_w:0.001 n_offset:2 n_buckets:[1.45786052095524 1]",
        ),
    ];
    check_trims(&h2, &cases);
}

#[test]
fn trim_zero_bucket() {
    let positive =
        th("schema:0 sum:8.0210678118654755 count:12 z_bucket:2 z_bucket_w:0.5 buckets:[10]");
    check_trims(
        &positive,
        &[
            (
                ">/",
                0.5,
                "schema:0 count:10 sum:7.0710678118654755 z_bucket:0 z_bucket_w:0.5 buckets:[10]",
            ),
            (
                ">/",
                0.1,
                "schema:0 count:11.6 sum:7.551067811865476 z_bucket:1.6 z_bucket_w:0.5 buckets:[10]",
            ),
            (
                ">/",
                0.0,
                "schema:0 sum:8.0210678118654755 count:12 z_bucket:2 z_bucket_w:0.5 buckets:[10]",
            ),
            (
                "</",
                0.5,
                "schema:0 count:2 sum:0.5 z_bucket:2 z_bucket_w:0.5",
            ),
            (
                "</",
                0.1,
                "schema:0 count:0.4 sum:0.02 z_bucket:0.4 z_bucket_w:0.5",
            ),
            ("</", 0.0, "schema:0 z_bucket_w:0.5"),
        ],
    );
    let negative =
        th("schema:0 sum:-8.0210678118654755 count:12 z_bucket:2 z_bucket_w:0.5 n_buckets:[10]");
    check_trims(
        &negative,
        &[
            (
                "</",
                -0.5,
                "schema:0 count:10 sum:-7.0710678118654755 z_bucket:0 z_bucket_w:0.5 n_buckets:[10]",
            ),
            (
                "</",
                -0.1,
                "schema:0 count:11.6 sum:-7.551067811865476 z_bucket:1.6 z_bucket_w:0.5 n_buckets:[10]",
            ),
            (
                ">/",
                -0.5,
                "schema:0 count:2 sum:-0.5 z_bucket:2 z_bucket_w:0.5",
            ),
            (">/", 0.0, "schema:0 z_bucket_w:0.5"),
        ],
    );
    let zero_only = th("schema:0 count:5 sum:0 z_bucket:5 z_bucket_w:0.1");
    check_trims(
        &zero_only,
        &[
            (
                ">/",
                0.1,
                "schema:0 count:0 sum:0 z_bucket:0 z_bucket_w:0.1",
            ),
            (
                "</",
                0.1,
                "schema:0 count:5 sum:0 z_bucket:5 z_bucket_w:0.1",
            ),
            (
                ">/",
                0.05,
                "schema:0 count:1.25 sum:0.09375 z_bucket:1.25 z_bucket_w:0.1",
            ),
            (
                "</",
                0.05,
                "schema:0 count:3.75 sum:-0.09375 z_bucket:3.75 z_bucket_w:0.1",
            ),
            (
                ">/",
                0.0,
                "schema:0 count:2.5 sum:0.125 z_bucket:2.5 z_bucket_w:0.1",
            ),
            (
                "</",
                -0.05,
                "schema:0 count:1.25 sum:-0.09375 z_bucket:1.25 z_bucket_w:0.1",
            ),
            (
                ">/",
                -0.1,
                "schema:0 count:5 sum:0 z_bucket:5 z_bucket_w:0.1",
            ),
        ],
    );
}

#[test]
fn trim_custom_buckets() {
    let cbh = th("schema:-53 sum:172.5 count:15 custom_values:[5 10 15 20] buckets:[1 6 4 3 1]");
    check_trims(
        &cbh,
        &[
            (
                "</",
                15.0,
                "schema:-53 count:11 sum:97.5 custom_values:[5 10 15 20] buckets:[1 6 4]",
            ),
            (
                ">/",
                15.0,
                "schema:-53 count:4 sum:72.5 custom_values:[5 10 15 20] offset:3 buckets:[3 1]",
            ),
            (
                "</",
                13.0,
                "schema:-53 count:9.4 sum:75.1 custom_values:[5 10 15 20] buckets:[1 6 2.4]",
            ),
            (
                ">/",
                13.0,
                "schema:-53 count:5.6 sum:94.9 custom_values:[5 10 15 20] offset:2 buckets:[1.6 3 1]",
            ),
            (
                "</",
                7.5,
                "schema:-53 count:4 sum:21.25 custom_values:[5 10 15 20] buckets:[1 3]",
            ),
            (
                "</",
                50.0,
                "schema:-53 count:14 sum:150.0 custom_values:[5 10 15 20] buckets:[1 6 4 3]",
            ),
            (
                "</",
                f64::NEG_INFINITY,
                "schema:-53 custom_values:[5 10 15 20]",
            ),
            (">/", f64::INFINITY, "schema:-53 custom_values:[5 10 15 20]"),
            (
                "</",
                f64::INFINITY,
                "schema:-53 sum:172.5 count:15 custom_values:[5 10 15 20] buckets:[1 6 4 3 1]",
            ),
            (
                ">/",
                0.0,
                "schema:-53 sum:172.5 count:15 custom_values:[5 10 15 20] buckets:[1 6 4 3 1]",
            ),
            ("</", 0.0, "schema:-53 custom_values:[5 10 15 20]"),
        ],
    );
    let with_negative =
        th("schema:-53 sum:172.5 count:15 custom_values:[-10 5 10 15 20] buckets:[2 1 6 4 3 1]");
    check_trims(
        &with_negative,
        &[
            (
                "</",
                2.0,
                "schema:-53 count:2.8 sum:-23.2 custom_values:[-10 5 10 15 20] buckets:[2 0.8]",
            ),
            (
                "</",
                -4.0,
                "schema:-53 count:2.4 sum:-22.8 custom_values:[-10 5 10 15 20] buckets:[2 0.4]",
            ),
            (
                "</",
                -15.0,
                "schema:-53 count:2 sum:-30 custom_values:[-10 5 10 15 20] buckets:[2]",
            ),
        ],
    );
}

fn check_trims(h: &FloatHistogram, cases: &[(&str, f64, &str)]) {
    for &(op, rhs, want) in cases {
        let mut got = h.clone();
        got.trim_buckets(rhs, op == "</");
        assert_hist_close(&got, &th(want), &format!("{op} {rhs}"));
    }
}
