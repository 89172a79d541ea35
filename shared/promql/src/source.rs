//! Where the engine reads series from.
//!
//! The engine first collects every selector of a query with the time range it needs, fetches
//! them through a [`SeriesSource`] (object store + ingester head in the service, memory in the
//! promqltest runner), and only then evaluates, synchronously, over the fetched samples.

use crate::value::RawSeries;
use architect_model::matcher::matches_all;
use architect_model::{Labels, Matcher};
use async_trait::async_trait;
use std::collections::BTreeMap;

/// A failure of the storage below the engine.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SourceError(pub String);

/// What the engine will do with a selector's samples, as Prometheus's `SelectHints`: a source
/// holding downsampled data picks the aggregate that answers `func` (Thanos does the same).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelectHints {
    /// The function or aggregation applied to the selector (`rate`, `max_over_time`, `sum`,
    /// ...), found as Prometheus finds it: the nearest enclosing call or aggregation, none if
    /// a binary operation comes first.
    pub func: Option<String>,
    /// Evaluation step (ms) of the expression the selector is in.
    pub step_ms: i64,
    /// Range (ms) of a range selector; 0 for an instant selector.
    pub range_ms: i64,
    /// The engine uses only which samples exist (their timestamps, and staleness markers),
    /// not their values: `func` is `count`, `group`, `count_over_time`, ... A source may
    /// then skip decoding values and return any number in their place, except that a
    /// staleness marker must stay one.
    pub presence_only: bool,
}

/// Functions and aggregations whose result does not depend on the values of the samples of a
/// selector they apply to directly, only on which exist: a stand-in value for every sample
/// that is not a staleness marker gives the same answer.
pub const PRESENCE_ONLY_FUNCS: [&str; 7] = [
    "count",
    "group",
    "count_over_time",
    "present_over_time",
    "absent_over_time",
    "absent",
    "timestamp",
];

/// Reads the samples of matching series.
#[async_trait]
pub trait SeriesSource: Send + Sync {
    /// As [`SeriesSource::select`], with what the engine will do with the samples. Sources
    /// that only hold raw samples need not implement it.
    async fn select_hinted(
        &self,
        matchers: &[Matcher],
        start: i64,
        end: i64,
        hints: &SelectHints,
    ) -> Result<Vec<RawSeries>, SourceError> {
        let _ = hints;
        self.select(matchers, start, end).await
    }

    /// Series matching all `matchers` with their samples in `[start, end]` (ms, inclusive),
    /// sorted by time, one sample per timestamp. Series without samples in range are omitted.
    async fn select(
        &self,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Result<Vec<RawSeries>, SourceError>;
}

/// An in-memory source: the promqltest runner's storage and the engine's test fixture.
#[derive(Debug, Default)]
pub struct MemorySource {
    series: BTreeMap<Labels, RawSeries>,
}

impl MemorySource {
    /// An empty source.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one float sample; a later sample at the same timestamp replaces the earlier one.
    pub fn add_float(&mut self, labels: &Labels, t: i64, v: f64) {
        let s = self.entry(labels);
        match s.floats.binary_search_by_key(&t, |p| p.0) {
            Ok(i) => s.floats[i].1 = v,
            Err(i) => s.floats.insert(i, (t, v)),
        }
    }

    /// Adds one histogram sample.
    pub fn add_histogram(
        &mut self,
        labels: &Labels,
        t: i64,
        h: std::sync::Arc<crate::FloatHistogram>,
    ) {
        let s = self.entry(labels);
        match s.hists.binary_search_by_key(&t, |p| p.0) {
            Ok(i) => s.hists[i].1 = h,
            Err(i) => s.hists.insert(i, (t, h)),
        }
    }

    /// Removes everything.
    pub fn clear(&mut self) {
        self.series.clear();
    }

    fn entry(&mut self, labels: &Labels) -> &mut RawSeries {
        self.series
            .entry(labels.clone())
            .or_insert_with(|| RawSeries {
                labels: labels.clone(),
                ..Default::default()
            })
    }
}

#[async_trait]
impl SeriesSource for MemorySource {
    async fn select(
        &self,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Result<Vec<RawSeries>, SourceError> {
        let mut out = Vec::new();
        for s in self.series.values() {
            if !matches_all(matchers, &s.labels) {
                continue;
            }
            let floats: Vec<(i64, f64)> = s
                .floats
                .iter()
                .filter(|p| p.0 >= start && p.0 <= end)
                .copied()
                .collect();
            let hists: Vec<_> = s
                .hists
                .iter()
                .filter(|p| p.0 >= start && p.0 <= end)
                .cloned()
                .collect();
            if floats.is_empty() && hists.is_empty() {
                continue;
            }
            out.push(RawSeries {
                labels: s.labels.clone(),
                floats,
                hists,
            });
        }
        Ok(out)
    }
}
