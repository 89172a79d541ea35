//! Native histograms as the engine sees them: float counts with absolute bucket values, and
//! the arithmetic PromQL does on them.
//!
//! The semantics are Prometheus's (v3.14, `model/histogram` and the native-histogram parts of
//! `promql/quantile.go` and `promql/functions.go`), re-implemented rather than translated:
//!
//! - [`FloatHistogram::add`], [`sub`](FloatHistogram::sub) and
//!   [`kahan_add`](FloatHistogram::kahan_add) reconcile schemas (down to the lower
//!   resolution), zero buckets (up to the wider threshold, never inside a populated bucket) and
//!   custom bounds (to their intersection), and merge counter-reset hints. What upstream turns
//!   into annotations comes back as [`OpFlags`]; the engine words the annotations.
//! - [`compact`](FloatHistogram::compact), [`equals`](FloatHistogram::equals),
//!   [`detect_reset`](FloatHistogram::detect_reset),
//!   [`copy_to_schema`](FloatHistogram::copy_to_schema),
//!   [`reduce_resolution`](FloatHistogram::reduce_resolution) and
//!   [`trim_buckets`](FloatHistogram::trim_buckets) are what `rate`, `increase`, aggregations,
//!   comparisons and the trim operators need.
//! - [`histogram_quantile`], [`histogram_fraction`] and [`histogram_variance`] are the
//!   native-histogram halves of the PromQL functions of the same names.
//! - [`FloatHistogram::go_string`] prints a histogram as Go's `FloatHistogram.String()` does
//!   (the label value `count_values` produces), so bucket bounds use upstream's own table of
//!   exponential bounds, which is off from correctly rounded powers of two in the last bit
//!   in places, and printed bounds must match bit for bit.
//!
//! Where upstream panics on malformed input (spans and buckets out of step, bounds missing),
//! this module does not: it ignores what cannot be paired up, or reports a
//! [`HistogramError`] where the operation returns a `Result`.

mod bounds;
mod gofmt;
mod iter;
mod ops;
mod spans;
mod stats;
mod trim;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_upstream;

pub use bounds::{
    CUSTOM_BUCKETS_SCHEMA, EXPONENTIAL_SCHEMA_MAX, EXPONENTIAL_SCHEMA_MIN,
    custom_bucket_bounds_match, is_exponential_schema,
};
pub use ops::kahan_inc;
pub use stats::{
    NanObservations, QuantileOutcome, histogram_fraction, histogram_quantile, histogram_variance,
};

/// How a histogram relates to the previous one of its series.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CounterResetHint {
    /// Not known.
    #[default]
    Unknown,
    /// A counter reset happened.
    CounterReset,
    /// No counter reset happened.
    NotCounterReset,
    /// A gauge histogram.
    Gauge,
}

/// A native histogram with float counts.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FloatHistogram {
    /// Resolution schema; -53 marks custom buckets.
    pub schema: i32,
    /// Width of the zero bucket.
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    pub zero_count: f64,
    /// Total observations.
    pub count: f64,
    /// Sum of observations.
    pub sum: f64,
    /// Spans of populated positive buckets `(offset, length)`.
    pub positive_spans: Vec<(i32, u32)>,
    /// Absolute counts of the positive buckets.
    pub positive_buckets: Vec<f64>,
    /// Spans of populated negative buckets.
    pub negative_spans: Vec<(i32, u32)>,
    /// Absolute counts of the negative buckets.
    pub negative_buckets: Vec<f64>,
    /// Counter-reset hint.
    pub counter_reset_hint: CounterResetHint,
    /// Upper bounds of custom buckets (schema -53).
    pub custom_values: Vec<f64>,
}

impl FloatHistogram {
    /// A stored native histogram as a float histogram: integer delta-encoded buckets become
    /// absolute counts.
    pub fn from_model(h: &architect_model::Histogram) -> Self {
        use architect_model::HistogramCount;
        let count = |c: HistogramCount| match c {
            HistogramCount::Int(n) => n as f64,
            HistogramCount::Float(f) => f,
        };
        let buckets = |deltas: &[i64], counts: &[f64]| -> Vec<f64> {
            if !counts.is_empty() {
                return counts.to_vec();
            }
            let mut acc = 0i64;
            deltas
                .iter()
                .map(|d| {
                    acc += d;
                    acc as f64
                })
                .collect()
        };
        let spans =
            |s: &[architect_model::BucketSpan]| s.iter().map(|x| (x.offset, x.length)).collect();
        FloatHistogram {
            schema: h.schema,
            zero_threshold: h.zero_threshold,
            zero_count: count(h.zero_count),
            count: count(h.count),
            sum: h.sum,
            positive_spans: spans(&h.positive_spans),
            positive_buckets: buckets(&h.positive_deltas, &h.positive_counts),
            negative_spans: spans(&h.negative_spans),
            negative_buckets: buckets(&h.negative_deltas, &h.negative_counts),
            counter_reset_hint: match h.reset_hint {
                1 => CounterResetHint::CounterReset,
                2 => CounterResetHint::NotCounterReset,
                3 => CounterResetHint::Gauge,
                _ => CounterResetHint::Unknown,
            },
            custom_values: h.custom_values.clone(),
        }
    }

    /// The histogram as a stored float histogram at `t` (what a recording rule writes).
    pub fn to_model(&self, t: i64) -> architect_model::Histogram {
        use architect_model::{BucketSpan, HistogramCount};
        let spans = |s: &[(i32, u32)]| {
            s.iter()
                .map(|&(offset, length)| BucketSpan { offset, length })
                .collect()
        };
        architect_model::Histogram {
            t,
            count: HistogramCount::Float(self.count),
            sum: self.sum,
            schema: self.schema,
            zero_threshold: self.zero_threshold,
            zero_count: HistogramCount::Float(self.zero_count),
            negative_spans: spans(&self.negative_spans),
            negative_deltas: Vec::new(),
            negative_counts: self.negative_buckets.clone(),
            positive_spans: spans(&self.positive_spans),
            positive_deltas: Vec::new(),
            positive_counts: self.positive_buckets.clone(),
            reset_hint: match self.counter_reset_hint {
                CounterResetHint::Unknown => 0,
                CounterResetHint::CounterReset => 1,
                CounterResetHint::NotCounterReset => 2,
                CounterResetHint::Gauge => 3,
            },
            custom_values: self.custom_values.clone(),
        }
    }

    /// True for a histogram with custom bucket bounds.
    pub fn uses_custom_buckets(&self) -> bool {
        self.schema == CUSTOM_BUCKETS_SCHEMA
    }
}

/// `h` with every count and the sum multiplied by `factor`.
///
/// Unlike [`FloatHistogram::mul`], the counter-reset hint is kept whatever the sign.
pub fn scale(h: &FloatHistogram, factor: f64) -> FloatHistogram {
    let mut out = h.clone();
    out.zero_count *= factor;
    out.count *= factor;
    out.sum *= factor;
    for b in out
        .positive_buckets
        .iter_mut()
        .chain(out.negative_buckets.iter_mut())
    {
        *b *= factor;
    }
    out
}

/// What an operation on two histograms noticed that upstream reports as an annotation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpFlags {
    /// One side said `CounterReset` and the other `NotCounterReset`; the result's hint was
    /// set to unknown.
    pub counter_reset_collision: bool,
    /// The two sides had different custom bounds; the result uses their intersection.
    pub nhcb_bounds_reconciled: bool,
}

/// Why an operation on histograms failed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum HistogramError {
    /// One histogram has exponential buckets, the other custom ones.
    #[error("histograms with exponential and custom buckets schemas are incompatible")]
    IncompatibleSchema,
    /// A span after the first has a negative offset.
    #[error(
        "span number {span} with offset {offset}: histogram has a span whose offset is negative"
    )]
    SpanNegativeOffset {
        /// 1-based number of the span.
        span: usize,
        /// Its offset.
        offset: i32,
    },
    /// The spans describe more buckets than there are.
    #[error(
        "have {have} buckets but spans need more: histogram spans specify different number of buckets than provided"
    )]
    TooFewBuckets {
        /// Buckets present.
        have: usize,
    },
    /// The spans describe fewer buckets than there are.
    #[error(
        "spans need {need} buckets, have {have} buckets: histogram spans specify different number of buckets than provided"
    )]
    SpansBucketsMismatch {
        /// Buckets the spans describe.
        need: usize,
        /// Buckets present.
        have: usize,
    },
    /// Resolution can only be reduced between exponential schemas, to a lower one.
    #[error("cannot reduce resolution from schema {from} to {to}")]
    InvalidReduction {
        /// Schema of the histogram.
        from: i32,
        /// Schema asked for.
        to: i32,
    },
}

/// One bucket with its bounds, as upstream's bucket iterators yield it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HistBucket {
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// Observations in the bucket (not cumulative).
    pub count: f64,
    /// Whether `lower` belongs to the bucket.
    pub lower_inclusive: bool,
    /// Whether `upper` belongs to the bucket.
    pub upper_inclusive: bool,
    /// Index of the bucket within its schema and sign; 0 for the zero bucket.
    pub index: i32,
}

/// One bucket of a histogram as the HTTP API lists it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BucketView {
    /// Prometheus's boundary rule: 0 `(l,u]`, 1 `[l,u)`, 2 `(l,u)`, 3 `[l,u]`.
    pub boundaries: u8,
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// Count in the bucket (not cumulative).
    pub count: f64,
}

impl FloatHistogram {
    /// Non-empty buckets in ascending order (negative, zero, positive), as the HTTP API lists
    /// them: upstream's `AllBucketIterator` without the empty buckets, the boundary rule taken
    /// from each bucket's inclusiveness.
    pub fn buckets(&self) -> Vec<BucketView> {
        self.all_buckets()
            .into_iter()
            .filter(|b| b.count != 0.0)
            .map(|b| BucketView {
                boundaries: match (b.lower_inclusive, b.upper_inclusive) {
                    (false, true) => 0,
                    (true, false) => 1,
                    (false, false) => 2,
                    (true, true) => 3,
                },
                lower: b.lower,
                upper: b.upper,
                count: b.count,
            })
            .collect()
    }
}
