//! The in-memory head: recent series of every tenant, sharded so concurrent writers rarely
//! contend. Appending enforces "one sample per (series, timestamp)": an identical sample is a
//! no-op (retries are idempotent), a different value at a held timestamp is refused.

use architect_model::matcher::matches_all;
use architect_model::time::Day;
use architect_model::validate::ValidationError;
use architect_model::{
    Exemplar, Histogram, Labels, Matcher, MetricMetadata, Sample, SeriesId, SeriesWrite,
    WriteRequest,
};
use architect_store::{
    EncodedBlock, SeriesSamples, SeriesSlices, StoreError, WriterProperties, encode_slices,
};
use parking_lot::{Mutex, RwLock};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

const SHARDS: usize = 16;

/// One series in memory. Samples, histograms and exemplars are each sorted by time.
#[derive(Debug)]
struct MemSeries {
    /// Time of the last sample (`i64::MIN` with none). Kept in the series' map entry, so that
    /// an in-order append does not first read the tail of `samples`: that read missed the
    /// cache for nearly every series of a request (a quarter of the append's time).
    last_t: i64,
    labels: Labels,
    samples: Vec<Sample>,
    histograms: Vec<Histogram>,
    exemplars: Vec<Exemplar>,
}

/// Inserts `x` keeping `v` sorted by key; `Ok(true)` if inserted, `Ok(false)` if an identical
/// item was there, `Err(())` if a different item holds the key.
fn insert_sorted<T>(
    v: &mut Vec<T>,
    x: T,
    key: impl Fn(&T) -> i64,
    same: impl Fn(&T, &T) -> bool,
) -> Result<bool, ()> {
    let k = key(&x);
    if v.last().is_none_or(|last| key(last) < k) {
        v.push(x);
        return Ok(true);
    }
    match v.binary_search_by_key(&k, &key) {
        Ok(i) if same(&v[i], &x) => Ok(false),
        Ok(_) => Err(()),
        Err(i) => {
            v.insert(i, x);
            Ok(true)
        }
    }
}

#[derive(Debug, Default)]
struct TenantHead {
    /// Appends take a shard's write lock; reads and flushes share its read lock.
    shards: [RwLock<HashMap<SeriesId, MemSeries>>; SHARDS],
    metadata: Mutex<HashMap<String, MetricMetadata>>,
}

/// What an append kept: the new data (for the WAL) and the first refusal.
#[derive(Debug, Default)]
pub(crate) struct Appended {
    pub(crate) accepted: WriteRequest,
    pub(crate) first_error: Option<ValidationError>,
    pub(crate) duplicates: usize,
}

/// A head generation. Cutting the head freezes one and starts the next.
#[derive(Debug)]
pub(crate) struct Head {
    tenants: RwLock<HashMap<String, Arc<TenantHead>>>,
    samples: AtomicUsize,
    created: Instant,
}

impl Default for Head {
    fn default() -> Self {
        Self {
            tenants: RwLock::default(),
            samples: AtomicUsize::new(0),
            created: Instant::now(),
        }
    }
}

impl Head {
    /// Samples, histograms and exemplars held.
    pub(crate) fn len(&self) -> usize {
        self.samples.load(Ordering::Relaxed)
    }

    /// Age of this generation.
    pub(crate) fn age(&self) -> std::time::Duration {
        self.created.elapsed()
    }

    fn tenant(&self, tenant: &str) -> Arc<TenantHead> {
        if let Some(t) = self.tenants.read().get(tenant) {
            return Arc::clone(t);
        }
        Arc::clone(self.tenants.write().entry(tenant.to_string()).or_default())
    }

    /// Appends a validated request; see the module docs for duplicate handling.
    pub(crate) fn append(&self, tenant: &str, req: WriteRequest) -> Appended {
        let th = self.tenant(tenant);
        let mut out = Appended::default();
        out.accepted.series.reserve(req.series.len());
        let mut added = 0usize;
        for s in req.series {
            if s.samples.is_empty() && s.histograms.is_empty() && s.exemplars.is_empty() {
                continue;
            }
            let id = SeriesId::of(tenant, &s.labels);
            let mut shard = th.shards[(id.0 as usize) % SHARDS].write();
            let mem = shard.entry(id).or_insert_with(|| MemSeries {
                last_t: i64::MIN,
                labels: s.labels.clone(),
                samples: Vec::new(),
                histograms: Vec::new(),
                exemplars: Vec::new(),
            });
            let mut kept = SeriesWrite {
                labels: s.labels,
                ..Default::default()
            };
            // The samples kept, once one is not: until then all are, and the request's vector
            // is kept as it is.
            let mut partly: Option<Vec<Sample>> = None;
            for (i, &x) in s.samples.iter().enumerate() {
                let inserted = if x.t > mem.last_t {
                    mem.samples.push(x);
                    mem.last_t = x.t;
                    Ok(true)
                } else {
                    insert_sorted(&mut mem.samples, x, |s| s.t, Sample::same_as)
                };
                if let Ok(true) = inserted {
                    if let Some(p) = &mut partly {
                        p.push(x);
                    }
                    continue;
                }
                partly.get_or_insert_with(|| s.samples[..i].to_vec());
                match inserted {
                    Ok(_) => out.duplicates += 1,
                    Err(()) => {
                        out.first_error.get_or_insert_with(|| {
                            ValidationError::DuplicateTimestamp {
                                timestamp: x.t,
                                series: kept.labels.to_string(),
                            }
                        });
                    }
                }
            }
            kept.samples = partly.unwrap_or(s.samples);
            for h in s.histograms {
                let t = h.t;
                match insert_sorted(&mut mem.histograms, h.clone(), |h| h.t, Histogram::same_as) {
                    Ok(true) => kept.histograms.push(h),
                    Ok(false) => out.duplicates += 1,
                    Err(()) => {
                        out.first_error.get_or_insert_with(|| {
                            ValidationError::DuplicateTimestamp {
                                timestamp: t,
                                series: kept.labels.to_string(),
                            }
                        });
                    }
                }
            }
            for e in s.exemplars {
                // Exemplars are kept once per (timestamp, value, labels); no conflict error.
                if !mem
                    .exemplars
                    .iter()
                    .any(|x| x.t == e.t && x.v.to_bits() == e.v.to_bits() && x.labels == e.labels)
                {
                    // Kept sorted by time, so that a flush splits them by day as slices.
                    let at = mem.exemplars.partition_point(|x| x.t <= e.t);
                    mem.exemplars.insert(at, e.clone());
                    kept.exemplars.push(e);
                }
            }
            added += kept.samples.len() + kept.histograms.len() + kept.exemplars.len();
            if !(kept.samples.is_empty() && kept.histograms.is_empty() && kept.exemplars.is_empty())
            {
                out.accepted.series.push(kept);
            }
        }
        if !req.metadata.is_empty() {
            let mut md = th.metadata.lock();
            for m in req.metadata {
                if md.get(&m.metric_family) != Some(&m) {
                    md.insert(m.metric_family.clone(), m.clone());
                    out.accepted.metadata.push(m);
                }
            }
        }
        self.samples.fetch_add(added, Ordering::Relaxed);
        out
    }

    /// Float samples of matching series in `[start, end]`.
    pub(crate) fn select(
        &self,
        tenant: &str,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Vec<SeriesSamples> {
        let Some(th) = self.tenants.read().get(tenant).cloned() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for shard in &th.shards {
            for (id, s) in shard.read().iter() {
                if !matches_all(matchers, &s.labels) {
                    continue;
                }
                let lo = s.samples.partition_point(|x| x.t < start);
                let hi = s.samples.partition_point(|x| x.t <= end);
                if lo < hi {
                    out.push(SeriesSamples {
                        id: *id,
                        labels: s.labels.clone(),
                        samples: s.samples[lo..hi].to_vec(),
                    });
                }
            }
        }
        out
    }

    /// Matching series with any data in `[start, end]`.
    pub(crate) fn series(
        &self,
        tenant: &str,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Vec<(SeriesId, Labels)> {
        let Some(th) = self.tenants.read().get(tenant).cloned() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for shard in &th.shards {
            for (id, s) in shard.read().iter() {
                let in_range = s
                    .samples
                    .iter()
                    .map(|x| x.t)
                    .chain(s.histograms.iter().map(|h| h.t))
                    .any(|t| t >= start && t <= end);
                if in_range && matches_all(matchers, &s.labels) {
                    out.push((*id, s.labels.clone()));
                }
            }
        }
        out
    }

    /// Native histograms of matching series in `[start, end]`.
    pub(crate) fn select_histograms(
        &self,
        tenant: &str,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Vec<(Labels, Vec<Histogram>)> {
        let Some(th) = self.tenants.read().get(tenant).cloned() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for shard in &th.shards {
            for s in shard.read().values() {
                if s.histograms.is_empty() || !matches_all(matchers, &s.labels) {
                    continue;
                }
                let lo = s.histograms.partition_point(|h| h.t < start);
                let hi = s.histograms.partition_point(|h| h.t <= end);
                if lo < hi {
                    out.push((s.labels.clone(), s.histograms[lo..hi].to_vec()));
                }
            }
        }
        out
    }

    /// The tenant's metric metadata held in this head.
    pub(crate) fn metadata(&self, tenant: &str) -> Vec<MetricMetadata> {
        let Some(th) = self.tenants.read().get(tenant).cloned() else {
            return Vec::new();
        };
        th.metadata.lock().values().cloned().collect()
    }

    /// Exemplars of matching series in `[start, end]`.
    pub(crate) fn exemplars(
        &self,
        tenant: &str,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Vec<(Labels, Vec<Exemplar>)> {
        let Some(th) = self.tenants.read().get(tenant).cloned() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for shard in &th.shards {
            for s in shard.read().values() {
                if s.exemplars.is_empty() || !matches_all(matchers, &s.labels) {
                    continue;
                }
                let kept: Vec<Exemplar> = s
                    .exemplars
                    .iter()
                    .filter(|e| e.t >= start && e.t <= end)
                    .cloned()
                    .collect();
                if !kept.is_empty() {
                    out.push((s.labels.clone(), kept));
                }
            }
        }
        out
    }

    /// Tenants with data.
    pub(crate) fn tenants(&self) -> Vec<String> {
        self.tenants.read().keys().cloned().collect()
    }

    /// The head's data of one tenant as encoded blocks, one per UTC day, written from the
    /// head's own memory (no copy of the samples). CPU-heavy: call from a blocking thread.
    /// Reads of the head go on meanwhile (they share the shards' read locks).
    pub(crate) fn encode_blocks(
        &self,
        tenant: &str,
        props: &WriterProperties,
    ) -> Result<Vec<(Day, EncodedBlock)>, StoreError> {
        let Some(th) = self.tenants.read().get(tenant).cloned() else {
            return Ok(Vec::new());
        };
        let shards: Vec<_> = th.shards.iter().map(|s| s.read()).collect();
        let mut days: BTreeMap<Day, Vec<SeriesSlices<'_>>> = BTreeMap::new();
        for shard in &shards {
            for (id, s) in shard.iter() {
                let base = SeriesSlices {
                    id: *id,
                    labels: &s.labels,
                    samples: &[],
                    histograms: &[],
                    exemplars: &[],
                };
                // Each kind is time-sorted: a day's data is one slice of it.
                let mut per_day: BTreeMap<Day, SeriesSlices<'_>> = BTreeMap::new();
                for run in day_runs(&s.samples, |x| x.t) {
                    per_day.entry(Day::of_ms(run[0].t)).or_insert(base).samples = run;
                }
                for run in day_runs(&s.histograms, |h| h.t) {
                    per_day
                        .entry(Day::of_ms(run[0].t))
                        .or_insert(base)
                        .histograms = run;
                }
                for run in day_runs(&s.exemplars, |e| e.t) {
                    per_day
                        .entry(Day::of_ms(run[0].t))
                        .or_insert(base)
                        .exemplars = run;
                }
                for (day, slices) in per_day {
                    days.entry(day).or_default().push(slices);
                }
            }
        }
        let metadata: Vec<MetricMetadata> = th.metadata.lock().values().cloned().collect();
        // Metadata is not time-bound; it goes with the newest day of the flush.
        let newest = days.keys().next_back().copied();
        let mut out = Vec::with_capacity(days.len());
        for (day, series) in days {
            let md: &[MetricMetadata] = if Some(day) == newest { &metadata } else { &[] };
            out.push((day, encode_slices(series, md, props)?));
        }
        if newest.is_none() && !metadata.is_empty() {
            out.push((Day::of_ms(0), encode_slices(Vec::new(), &metadata, props)?));
        }
        Ok(out)
    }
}

/// The runs of `items` (sorted by `t`) that fall in one UTC day each.
fn day_runs<T>(items: &[T], t: impl Fn(&T) -> i64) -> impl Iterator<Item = &[T]> {
    let mut rest = items;
    std::iter::from_fn(move || {
        let first = rest.first()?;
        let end = Day::of_ms(t(first)).end_ms();
        let n = rest.partition_point(|x| t(x) <= end).max(1);
        let (run, later) = rest.split_at(n);
        rest = later;
        Some(run)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: f64, ts: &[i64]) -> WriteRequest {
        WriteRequest {
            series: vec![SeriesWrite {
                labels: Labels::from_pairs([("__name__", "m")]),
                samples: ts.iter().map(|t| Sample { t: *t, v }).collect(),
                ..Default::default()
            }],
            metadata: vec![],
        }
    }

    #[test]
    fn retries_are_noops_and_conflicts_refused() {
        let h = Head::default();
        let a = h.append("t", req(1.0, &[30, 10, 20]));
        assert_eq!(a.accepted.sample_count(), 3);
        let again = h.append("t", req(1.0, &[10, 20, 30, 40]));
        assert_eq!(again.accepted.sample_count(), 1, "only t=40 is new");
        assert_eq!(again.duplicates, 3);
        let conflict = h.append("t", req(2.0, &[20]));
        assert!(matches!(
            conflict.first_error,
            Some(ValidationError::DuplicateTimestamp { timestamp: 20, .. })
        ));
        let got = h.select("t", &[], 0, 100);
        assert_eq!(
            got[0].samples.iter().map(|s| s.t).collect::<Vec<_>>(),
            vec![10, 20, 30, 40]
        );
        assert!(h.select("other", &[], 0, 100).is_empty());
    }

    #[test]
    fn flushed_blocks_split_at_utc_day_boundaries_and_empty_series_are_not_held() {
        let h = Head::default();
        let day = Day::of_ms(1_700_000_000_000);
        let (last_ms, next) = (day.end_ms(), day.end_ms() + 1);
        h.append("t", req(1.0, &[last_ms - 1, last_ms, next, next + 5]));
        h.append("t", req(1.0, &[]));
        let mut empty = req(1.0, &[]);
        empty.series[0].labels = Labels::from_pairs([("__name__", "empty")]);
        h.append("t", empty);
        let blocks = h
            .encode_blocks("t", &WriterProperties::default())
            .expect("encodes");
        let summary: Vec<_> = blocks
            .iter()
            .map(|(d, b)| (*d, b.samples(), b.time_range()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (day, 2, Some((last_ms - 1, last_ms))),
                (Day::of_ms(next), 2, Some((next, next + 5))),
            ]
        );
        let held: usize = h.tenants.read()["t"]
            .shards
            .iter()
            .map(|s| s.read().len())
            .sum();
        assert_eq!(held, 1, "a series without data is not held");
    }
}
