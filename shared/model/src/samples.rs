//! Sample types: float samples, native histograms, exemplars and metric metadata.

use crate::labels::Labels;

/// The bit pattern Prometheus uses for a staleness marker (a signalling NaN). It must survive
/// every encoding bit-exact, so values are compared and stored by bits, never by `==`.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// True if `v` is a Prometheus staleness marker.
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// One float sample.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Milliseconds since the Unix epoch.
    pub t: i64,
    /// The value; compare with `to_bits()`.
    pub v: f64,
}

impl Sample {
    /// True if both samples have the same timestamp and bit-identical values.
    pub fn same_as(&self, other: &Sample) -> bool {
        self.t == other.t && self.v.to_bits() == other.v.to_bits()
    }
}

/// A span of populated buckets in a native histogram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BucketSpan {
    /// Gap to the previous span (or the start index of the first span).
    pub offset: i32,
    /// Number of consecutive buckets.
    pub length: u32,
}

/// A native histogram's count: integer histograms carry integer counts, float histograms floats.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HistogramCount {
    /// Integer count.
    Int(u64),
    /// Float count.
    Float(f64),
}

/// One native histogram sample, as remote_write carries it.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    /// Milliseconds since the Unix epoch.
    pub t: i64,
    /// Total observation count.
    pub count: HistogramCount,
    /// Sum of observations.
    pub sum: f64,
    /// Resolution schema (-4..=8, or -53 for custom buckets).
    pub schema: i32,
    /// Width of the zero bucket.
    pub zero_threshold: f64,
    /// Observations in the zero bucket.
    pub zero_count: HistogramCount,
    /// Negative bucket spans.
    pub negative_spans: Vec<BucketSpan>,
    /// Negative bucket deltas (integer histograms).
    pub negative_deltas: Vec<i64>,
    /// Negative bucket counts (float histograms).
    pub negative_counts: Vec<f64>,
    /// Positive bucket spans.
    pub positive_spans: Vec<BucketSpan>,
    /// Positive bucket deltas (integer histograms).
    pub positive_deltas: Vec<i64>,
    /// Positive bucket counts (float histograms).
    pub positive_counts: Vec<f64>,
    /// Counter reset hint: 0 unknown, 1 yes, 2 no, 3 gauge.
    pub reset_hint: i32,
    /// Custom bucket bounds (schema -53).
    pub custom_values: Vec<f64>,
}

impl Histogram {
    /// True if both are the same observation (bit-exact floats).
    pub fn same_as(&self, other: &Histogram) -> bool {
        fn count_bits(c: HistogramCount) -> (bool, u64) {
            match c {
                HistogramCount::Int(n) => (false, n),
                HistogramCount::Float(f) => (true, f.to_bits()),
            }
        }
        fn bits(v: &[f64]) -> Vec<u64> {
            v.iter().map(|f| f.to_bits()).collect()
        }
        self.t == other.t
            && count_bits(self.count) == count_bits(other.count)
            && self.sum.to_bits() == other.sum.to_bits()
            && self.schema == other.schema
            && self.zero_threshold.to_bits() == other.zero_threshold.to_bits()
            && count_bits(self.zero_count) == count_bits(other.zero_count)
            && self.negative_spans == other.negative_spans
            && self.negative_deltas == other.negative_deltas
            && bits(&self.negative_counts) == bits(&other.negative_counts)
            && self.positive_spans == other.positive_spans
            && self.positive_deltas == other.positive_deltas
            && bits(&self.positive_counts) == bits(&other.positive_counts)
            && self.reset_hint == other.reset_hint
            && bits(&self.custom_values) == bits(&other.custom_values)
    }
}

/// An exemplar attached to a series.
#[derive(Clone, Debug, PartialEq)]
pub struct Exemplar {
    /// Exemplar labels (for example `trace_id`).
    pub labels: Labels,
    /// Milliseconds since the Unix epoch.
    pub t: i64,
    /// The exemplar's value.
    pub v: f64,
}

/// Metric type, as in remote_write metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MetadataType {
    /// Unknown.
    #[default]
    Unknown,
    /// Counter.
    Counter,
    /// Gauge.
    Gauge,
    /// Classic histogram.
    Histogram,
    /// Gauge histogram.
    GaugeHistogram,
    /// Summary.
    Summary,
    /// Info.
    Info,
    /// State set.
    StateSet,
}

impl MetadataType {
    /// The name Prometheus uses in `/api/v1/metadata`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
            Self::GaugeHistogram => "gaugehistogram",
            Self::Summary => "summary",
            Self::Info => "info",
            Self::StateSet => "stateset",
        }
    }

    /// From the remote_write 1.0 enum number (same numbering in 2.0 except where mapped).
    pub fn from_v1(n: i32) -> Self {
        match n {
            1 => Self::Counter,
            2 => Self::Gauge,
            3 => Self::Histogram,
            4 => Self::GaugeHistogram,
            5 => Self::Summary,
            6 => Self::Info,
            7 => Self::StateSet,
            _ => Self::Unknown,
        }
    }

    /// The remote_write 1.0 enum number.
    pub fn to_v1(self) -> i32 {
        match self {
            Self::Unknown => 0,
            Self::Counter => 1,
            Self::Gauge => 2,
            Self::Histogram => 3,
            Self::GaugeHistogram => 4,
            Self::Summary => 5,
            Self::Info => 6,
            Self::StateSet => 7,
        }
    }
}

/// Metadata of a metric family.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct MetricMetadata {
    /// Metric family name.
    pub metric_family: String,
    /// Type.
    pub kind: MetadataType,
    /// Help text.
    pub help: String,
    /// Unit.
    pub unit: String,
}
