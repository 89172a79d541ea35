//! Values the evaluator passes between nodes and the values a query returns.
//!
//! Evaluation is vectorised over the query's steps: an instant vector is a list of series, each
//! with one [`Point`] per step (absent where the series has no value), so a range query walks
//! the expression tree once instead of once per step.

use crate::histogram::FloatHistogram;
use architect_model::{Label, Labels, METRIC_NAME};
use std::sync::Arc;

/// The value of one series at one step.
#[derive(Clone, Debug, Default)]
pub enum Point {
    /// No value at this step.
    #[default]
    Absent,
    /// A float value.
    Float(f64),
    /// A native histogram value.
    Hist(Arc<FloatHistogram>),
}

impl Point {
    /// True unless absent.
    pub fn is_present(&self) -> bool {
        !matches!(self, Point::Absent)
    }

    /// The float value, if this is a float.
    pub fn as_float(&self) -> Option<f64> {
        match self {
            Point::Float(f) => Some(*f),
            _ => None,
        }
    }
}

/// One series of an instant vector evaluated over all steps.
#[derive(Clone, Debug)]
pub struct StepSeries {
    /// Labels.
    pub labels: Labels,
    /// Set when `__name__` is to be removed at the end of evaluation (delayed name removal).
    pub drop_name: bool,
    /// One point per step.
    pub points: Vec<Point>,
}

impl StepSeries {
    /// Number of present points.
    pub fn present(&self) -> usize {
        self.points.iter().filter(|p| p.is_present()).count()
    }

    /// True if any step has a value (stops at the first, where [`Self::present`] counts).
    pub fn has_values(&self) -> bool {
        self.points.iter().any(Point::is_present)
    }
}

/// Samples of one series over a time range, as stored: floats and histograms sorted by time.
#[derive(Clone, Debug, Default)]
pub struct RawSeries {
    /// Labels.
    pub labels: Labels,
    /// Float samples `(t ms, value)`, staleness markers included.
    pub floats: Vec<(i64, f64)>,
    /// Histogram samples `(t ms, histogram)`.
    pub hists: Vec<(i64, Arc<FloatHistogram>)>,
}

/// A node's value during evaluation.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    /// One float per step.
    Scalar(Vec<f64>),
    /// A string literal.
    String(String),
    /// An instant vector over all steps.
    Vector(Vec<StepSeries>),
    /// A range vector (only at the top of an instant query).
    Matrix(Vec<RangeSeries>),
}

/// One series of a range vector result.
#[derive(Clone, Debug)]
pub struct RangeSeries {
    /// Labels.
    pub labels: Labels,
    /// Float samples `(t ms, value)`.
    pub floats: Vec<(i64, f64)>,
    /// Histogram samples `(t ms, histogram)`.
    pub hists: Vec<(i64, Arc<FloatHistogram>)>,
}

/// One sample of an instant-vector result.
#[derive(Clone, Debug)]
pub struct InstantSample {
    /// Labels.
    pub labels: Labels,
    /// Evaluation timestamp, ms.
    pub t: i64,
    /// Float or histogram value (never absent).
    pub point: Point,
}

/// What a query returns, in Prometheus's four result types.
#[derive(Clone, Debug)]
pub enum QueryValue {
    /// `scalar`: (t ms, value).
    Scalar(i64, f64),
    /// `string`: (t ms, value).
    String(i64, String),
    /// `vector`: one sample per series.
    Vector(Vec<InstantSample>),
    /// `matrix`: series with samples, sorted by labels.
    Matrix(Vec<RangeSeries>),
}

impl QueryValue {
    /// Prometheus's name of the result type.
    pub fn type_name(&self) -> &'static str {
        match self {
            QueryValue::Scalar(..) => "scalar",
            QueryValue::String(..) => "string",
            QueryValue::Vector(_) => "vector",
            QueryValue::Matrix(_) => "matrix",
        }
    }
}

/// Label-set editing helpers on sorted label vectors.
pub(crate) mod labels_ext {
    use super::*;

    /// `labels` without `__name__`.
    pub(crate) fn drop_name(labels: &Labels) -> Labels {
        if labels.get(METRIC_NAME).is_none() {
            return labels.clone();
        }
        Labels::from_sorted(
            labels
                .iter()
                .filter(|l| l.name != METRIC_NAME)
                .cloned()
                .collect(),
        )
    }

    /// `labels` with `name` set to `value` (removed when `value` is empty).
    pub(crate) fn set(labels: &Labels, name: &str, value: &str) -> Labels {
        let mut v: Vec<Label> = labels.iter().filter(|l| l.name != name).cloned().collect();
        if !value.is_empty() {
            let pos = v.partition_point(|l| l.name.as_str() < name);
            v.insert(pos, Label::new(name, value));
        }
        Labels::from_sorted(v)
    }

    /// Only the labels named in `names`.
    pub(crate) fn keep(labels: &Labels, names: &[String]) -> Labels {
        Labels::from_sorted(
            labels
                .iter()
                .filter(|l| names.contains(&l.name))
                .cloned()
                .collect(),
        )
    }

    /// All labels except those named in `names`.
    pub(crate) fn without(labels: &Labels, names: &[String]) -> Labels {
        Labels::from_sorted(
            labels
                .iter()
                .filter(|l| !names.contains(&l.name))
                .cloned()
                .collect(),
        )
    }

    /// A stable grouping key: the `(name, value)` pairs selected by `on`/`by` (`include`) or
    /// all but the listed ones (`ignoring`/`without`, which also drops `__name__`).
    pub(crate) fn signature(labels: &Labels, names: &[String], include: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for l in labels.iter() {
            let listed = names.contains(&l.name);
            let take = if include {
                listed
            } else {
                !listed && l.name != METRIC_NAME
            };
            if take {
                out.extend_from_slice(l.name.as_bytes());
                out.push(0xFF);
                out.extend_from_slice(l.value.as_bytes());
                out.push(0xFE);
            }
        }
        out
    }
}
