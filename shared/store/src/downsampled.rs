//! Reading downsampled data: for each day of a query, the coarsest resolution the query allows
//! that is current for the day (computed from the day's present raw blocks), else raw samples;
//! then the aggregate the engine's function needs, as Thanos picks it.
//!
//! A downsampled block holds, per raw series, aggregate series told apart by the label
//! [`AGGR_LABEL`]: `count`, `sum`, `min`, `max`, `counter` (one sample per window at the
//! window's last raw timestamp) and `raw` (the day's first and last raw sample). `counter` is
//! the day's first raw value plus the increase since, resets accounted for; counters of
//! consecutive days (and raw days after them) are joined into one reset-free series whose
//! last value is the last raw value, so `rate` and `increase` see the true increase across day
//! boundaries and into the raw samples that follow.

use crate::Result;
use crate::catalog::BlockMeta;
use crate::partition::DayPartition;
use crate::read::{SeriesSamples, SeriesTable, merge_samples};
use crate::store::{BlockRead, MetricsStore, SelectRefs};
use architect_model::matcher::{matches_all, metric_name_of};
use architect_model::time::Day;
use architect_model::{Label, Labels, Matcher, Sample, SeriesId, TenantId, is_stale_nan};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// The label naming an aggregate series in a downsampled block.
pub const AGGR_LABEL: &str = "__aggr__";
/// The 5-minute resolution (ms).
pub const RES_5M: i64 = 300_000;
/// The 1-hour resolution (ms).
pub const RES_1H: i64 = 3_600_000;
/// Downsampled resolutions, finest first.
pub const RESOLUTIONS: [i64; 2] = [RES_5M, RES_1H];

/// The aggregate series of a downsampled block, by their [`AGGR_LABEL`] value; a position
/// here is the aggregate's index in [`Aggregates`] and [`AggregateView`].
const AGGREGATE_NAMES: [&str; 6] = ["count", "sum", "min", "max", "counter", "raw"];
const COUNT: usize = 0;
const SUM: usize = 1;
const MIN: usize = 2;
const MAX: usize = 3;
const COUNTER: usize = 4;
const RAW_EDGES: usize = 5;

/// One day's aggregate series of one raw series, indexed as [`AGGREGATE_NAMES`]. Borrowed from
/// the decoded blocks until a day needs merging: a copy of every sample is a pass over memory
/// that a long-range query's samples no longer fit in cache for.
type Aggregates<'a> = [Cow<'a, [Sample]>; AGGREGATE_NAMES.len()];

/// A downsampled block's series table seen as raw series with aggregates: built once per
/// cached table, so a query matches each raw series once (not once per aggregate) and needs no
/// label surgery.
#[derive(Debug, Default)]
pub(crate) struct AggregateView {
    /// Each raw series: its id and labels (the aggregate series' labels without [`AGGR_LABEL`]).
    raw: Vec<(SeriesId, Labels)>,
    /// Per raw series, the ref of each aggregate series (`u32::MAX` = absent).
    refs: Vec<[u32; AGGREGATE_NAMES.len()]>,
    /// Per ref: (raw series index, aggregate index); `u32::MAX` for a series without
    /// [`AGGR_LABEL`].
    of_ref: Vec<(u32, u8)>,
    /// Raw series indexes of each metric name.
    by_metric: HashMap<String, Vec<u32>>,
}

impl AggregateView {
    pub(crate) fn new(tenant: &str, series: &[(SeriesId, Labels)]) -> Self {
        let mut out = Self::default();
        let mut index: HashMap<SeriesId, u32> = HashMap::new();
        for (r, (_, labels)) in series.iter().enumerate() {
            let Some(aggr) = labels
                .get(AGGR_LABEL)
                .and_then(|a| AGGREGATE_NAMES.iter().position(|n| *n == a))
            else {
                out.of_ref.push((u32::MAX, 0));
                continue;
            };
            let raw = without_aggr(labels);
            let id = SeriesId::of(tenant, &raw);
            let i = *index.entry(id).or_insert_with(|| {
                let i = out.raw.len() as u32;
                out.by_metric
                    .entry(raw.metric_name().to_string())
                    .or_default()
                    .push(i);
                out.raw.push((id, raw));
                out.refs.push([u32::MAX; AGGREGATE_NAMES.len()]);
                i
            });
            out.refs[i as usize][aggr] = r as u32;
            out.of_ref.push((i, aggr as u8));
        }
        out
    }

    /// Refs (ascending) of the `aggregates` of the raw series matching `matchers`.
    fn select(&self, matchers: &[Matcher], aggregates: &[usize]) -> Vec<u32> {
        let candidates: Box<dyn Iterator<Item = u32> + '_> = match metric_name_of(matchers) {
            Some(name) => Box::new(self.by_metric.get(name).into_iter().flatten().copied()),
            None => Box::new(0..self.raw.len() as u32),
        };
        let mut refs: Vec<u32> = candidates
            .filter(|&i| matches_all(matchers, &self.raw[i as usize].1))
            .flat_map(|i| aggregates.iter().map(move |&a| self.refs[i as usize][a]))
            .filter(|&r| r != u32::MAX)
            .collect();
        refs.sort_unstable();
        refs
    }
}

/// Which aggregate answers a function (Thanos's `aggrsFromFunc`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aggregate {
    /// Window minimums (`min`, `min_over_time`).
    Min,
    /// Window maximums (`max`, `max_over_time`).
    Max,
    /// Sample counts (`count`, `count_over_time`).
    Count,
    /// Window sums (`sum_over_time`).
    Sum,
    /// The reset-free counter (`rate`, `increase`, `irate`, `resets`).
    Counter,
    /// Window averages, sum / count (everything else, plain selectors included).
    Average,
}

impl Aggregate {
    /// The aggregate for the function or aggregation applied to a selector.
    pub fn for_function(func: Option<&str>) -> Self {
        let f = func.unwrap_or_default();
        if f == "min" || f.starts_with("min_") {
            Self::Min
        } else if f == "max" || f.starts_with("max_") {
            Self::Max
        } else if f == "count" || f.starts_with("count_") {
            Self::Count
        } else if f.starts_with("sum_") {
            Self::Sum
        } else if matches!(f, "rate" | "increase" | "irate" | "resets") {
            Self::Counter
        } else {
            Self::Average
        }
    }

    /// The aggregate series it reads, as indexes of [`AGGREGATE_NAMES`].
    fn series(self) -> &'static [usize] {
        match self {
            Self::Min => &[MIN],
            Self::Max => &[MAX],
            Self::Count => &[COUNT],
            Self::Sum => &[SUM],
            Self::Counter => &[COUNTER, RAW_EDGES],
            Self::Average => &[SUM, COUNT],
        }
    }
}

/// One day of one series.
#[derive(Debug)]
enum Segment<'a> {
    Raw(Vec<Sample>),
    Downsampled(Aggregates<'a>),
}

impl MetricsStore {
    /// Samples of the series matching `matchers` in `[start, end]`, from downsampled blocks of
    /// at most `max_resolution_ms` where a day has current ones, as the aggregate `aggregate`;
    /// raw samples for the other days. A day whose raw data is gone (retention) is read at the
    /// finest resolution it still has.
    pub async fn select_downsampled(
        &self,
        tenant: &TenantId,
        matchers: &[Matcher],
        start: i64,
        end: i64,
        max_resolution_ms: i64,
        aggregate: Aggregate,
    ) -> Result<Vec<SeriesSamples>> {
        let partitions = self.partitions(tenant, start, end).await?;
        self.select_downsampled_in(
            tenant,
            &partitions,
            matchers,
            start,
            end,
            max_resolution_ms,
            aggregate,
        )
        .await
    }

    /// [`MetricsStore::select_downsampled`] over catalog partitions already read (see
    /// [`MetricsStore::partitions`]), e.g. one listing shared with the histogram read.
    #[allow(clippy::too_many_arguments)]
    pub async fn select_downsampled_in(
        &self,
        tenant: &TenantId,
        partitions: &[(Day, Arc<DayPartition>)],
        matchers: &[Matcher],
        start: i64,
        end: i64,
        max_resolution_ms: i64,
        aggregate: Aggregate,
    ) -> Result<Vec<SeriesSamples>> {
        if start > end {
            return Ok(Vec::new());
        }
        // Series id → labels and day segments, raw and downsampled.
        // The downsampled blocks' decoded samples, which the segments borrow.
        let reads: Vec<BlockRead>;
        let mut series: HashMap<SeriesId, (Labels, Vec<(Day, Segment<'_>)>)> = HashMap::new();
        // One parallel read of all raw blocks and one of all downsampled blocks; results are
        // split back into days.
        let (mut raw_blocks, mut downsampled_blocks) = (Vec::new(), Vec::new());
        let mut downsampled_days = std::collections::BTreeSet::new();
        // Span blocks read, by ULID, with the days each is read for.
        let mut spans: HashMap<String, (BlockMeta, BTreeSet<Day>)> = HashMap::new();
        // Partitions of span starts outside the range, read when needed.
        let mut anchors: HashMap<Day, Option<Arc<DayPartition>>> = partitions
            .iter()
            .map(|(d, p)| (*d, Some(Arc::clone(p))))
            .collect();
        for (day, part) in partitions {
            let raw: Vec<&BlockMeta> = part.visible_iter(0).collect();
            match choose_resolution(part, &raw, max_resolution_ms) {
                None => {
                    raw_blocks.extend(raw.into_iter().filter(|b| b.overlaps(start, end)).cloned())
                }
                Some(res) => {
                    downsampled_days.insert(*day);
                    let blocks: Vec<&BlockMeta> = part.visible_iter(res).collect();
                    let first = crate::layout::span_start(*day);
                    if let std::collections::hash_map::Entry::Vacant(slot) = anchors.entry(first) {
                        slot.insert(
                            self.partitions(tenant, first.start_ms(), first.start_ms())
                                .await?
                                .into_iter()
                                .next()
                                .map(|(_, p)| p),
                        );
                    }
                    let anchor = anchors.get(&first).and_then(Option::as_ref);
                    match anchor.and_then(|a| span_holding(a, res, &blocks)) {
                        Some(span_blocks) => {
                            for b in span_blocks {
                                spans
                                    .entry(b.ulid.clone())
                                    .or_insert_with(|| (b, BTreeSet::new()))
                                    .1
                                    .insert(*day);
                            }
                        }
                        None => downsampled_blocks.extend(blocks.into_iter().cloned()),
                    }
                }
            }
        }
        let mut span_days: HashMap<String, BTreeSet<Day>> = HashMap::with_capacity(spans.len());
        for (ulid, (block, days)) in spans {
            downsampled_blocks.push(block);
            span_days.insert(ulid, days);
        }
        raw_blocks.sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.ulid.cmp(&b.ulid)));
        for s in self
            .select_in(raw_blocks, matchers, start, end, crate::read::Values::All)
            .await?
        {
            let entry = &mut series
                .entry(s.id)
                .or_insert_with(|| (s.labels, Vec::new()))
                .1;
            for (day, samples) in split_by_day(s.samples) {
                entry.push((day, Segment::Raw(samples)));
            }
        }
        if let (Some(first), Some(last)) = (downsampled_days.first(), downsampled_days.last()) {
            // Counters need whole days to join days; the rest only the range.
            let (from, to) = if aggregate == Aggregate::Counter {
                (first.start_ms(), last.end_ms())
            } else {
                (start, end)
            };
            let owned = matchers.to_vec();
            let tenant_name = tenant.as_str().to_string();
            let select: SelectRefs = Arc::new(move |table: &SeriesTable| {
                table
                    .aggregate_view(&tenant_name)
                    .select(&owned, aggregate.series())
            });
            reads = self
                .read_blocks_by(
                    downsampled_blocks,
                    metric_name_of(matchers),
                    select,
                    from,
                    to,
                )
                .await?;
            // Series id → day → aggregates.
            let mut by_series: HashMap<SeriesId, (Labels, BTreeMap<Day, Aggregates<'_>>)> =
                HashMap::new();
            // A day block holds one day: its samples are that day's segment as read. A span
            // block's samples are cut into days, and only the days it is read for are kept.
            for read in &reads {
                let view = read.table.aggregate_view(tenant.as_str());
                let wanted = span_days.get(&read.block.ulid);
                for (si, r) in read.selected.iter().enumerate() {
                    let samples = read.samples.series(si);
                    let Some(&(raw, aggr)) = view.of_ref.get(*r as usize) else {
                        continue;
                    };
                    let Some((id, labels)) = view.raw.get(raw as usize) else {
                        continue;
                    };
                    if samples.is_empty() {
                        continue;
                    }
                    let days = match wanted {
                        None => vec![(read.block.day, samples)],
                        Some(days) => split_slice_by_day(samples)
                            .into_iter()
                            .filter(|(d, _)| days.contains(d))
                            .collect(),
                    };
                    let series_days = &mut by_series
                        .entry(*id)
                        .or_insert_with(|| (labels.clone(), BTreeMap::new()))
                        .1;
                    for (day, samples) in days {
                        let slot = &mut series_days.entry(day).or_default()[aggr as usize];
                        // Two blocks of one day (members of one compaction group) hold
                        // different series; merge anyway rather than drop.
                        *slot = if slot.is_empty() {
                            Cow::Borrowed(samples)
                        } else {
                            Cow::Owned(merge_samples(
                                std::mem::take(slot).into_owned(),
                                samples.to_vec(),
                            ))
                        };
                    }
                }
            }
            for (id, (labels, days)) in by_series {
                let entry = &mut series.entry(id).or_insert_with(|| (labels, Vec::new())).1;
                entry.extend(
                    days.into_iter()
                        .map(|(day, aggrs)| (day, Segment::Downsampled(aggrs))),
                );
            }
        }
        let mut out = Vec::with_capacity(series.len());
        for (id, (labels, mut segments)) in series {
            segments.sort_by_key(|(d, _)| *d);
            let mut samples = match aggregate {
                Aggregate::Counter => counter_series(segments.into_iter().map(|(_, s)| s)),
                _ => {
                    // Sized up front: grown by doubling, its copies were 2 % of the CPU of a
                    // 30-day query over two series.
                    let len = segments
                        .iter()
                        .map(|(_, s)| match s {
                            Segment::Raw(samples) => samples.len(),
                            Segment::Downsampled(a) => a[aggregate.series()[0]].len(),
                        })
                        .sum();
                    let mut out = Vec::with_capacity(len);
                    for (_, segment) in segments {
                        match segment {
                            Segment::Raw(samples) => out.extend(samples),
                            Segment::Downsampled(a) => pick_into(&mut out, &a, aggregate),
                        }
                    }
                    out
                }
            };
            samples.retain(|s| s.t >= start && s.t <= end);
            if samples.is_empty() {
                continue;
            }
            out.push(SeriesSamples {
                id,
                labels,
                samples,
            });
        }
        out.sort_unstable_by(|a, b| a.labels.cmp(&b.labels));
        Ok(out)
    }
}

/// The coarsest resolution of at most `max` that is current for the day (computed from exactly
/// its raw blocks); with no raw blocks left, the finest downsampled one; `None` = read raw.
fn choose_resolution(part: &DayPartition, raw: &[&BlockMeta], max: i64) -> Option<i64> {
    if raw.is_empty() {
        return finest_present(part);
    }
    RESOLUTIONS
        .into_iter()
        .rev()
        .filter(|&r| r <= max)
        .find(|&r| is_current(part.visible_iter(r), raw))
}

/// The finest downsampled resolution the day has blocks of (what a day without raw blocks is
/// read at).
fn finest_present(part: &DayPartition) -> Option<i64> {
    RESOLUTIONS
        .into_iter()
        .find(|&r| part.visible_iter(r).next().is_some())
}

/// True if `blocks` (a day's blocks of one resolution) exist and were computed from exactly
/// the day's `raw` blocks.
fn is_current<'a>(blocks: impl Iterator<Item = &'a BlockMeta>, raw: &[&BlockMeta]) -> bool {
    let mut sources: Vec<&str> = raw.iter().map(|b| b.ulid.as_str()).collect();
    sources.sort_unstable();
    let mut any = false;
    for b in blocks {
        any = true;
        if !b
            .sources
            .iter()
            .map(String::as_str)
            .eq(sources.iter().copied())
        {
            return false;
        }
    }
    any
}

/// The day's blocks of `resolution_ms` when a query would read them: they are current
/// (computed from exactly the day's raw blocks), or no raw blocks are left and this is the
/// finest resolution the day still has. What a span block of the resolution is merged from.
pub fn current_blocks(part: &DayPartition, resolution_ms: i64) -> Vec<BlockMeta> {
    let raw: Vec<&BlockMeta> = part.visible_iter(0).collect();
    let current = if raw.is_empty() {
        finest_present(part) == Some(resolution_ms)
    } else {
        is_current(part.visible_iter(resolution_ms), &raw)
    };
    if current {
        part.visible(resolution_ms)
    } else {
        Vec::new()
    }
}

/// The span blocks of the span starting on `anchor`'s day that hold the day whose current
/// blocks of `res` are `day_blocks`: every one of them is listed in the span's sources.
fn span_holding(
    anchor: &DayPartition,
    res: i64,
    day_blocks: &[&BlockMeta],
) -> Option<Vec<BlockMeta>> {
    let holds = |span: &BlockMeta| {
        day_blocks
            .iter()
            .all(|b| span.sources.binary_search(&b.ulid).is_ok())
    };
    let mut spans = anchor.visible_spans_iter(res).peekable();
    (spans.peek().is_some() && !day_blocks.is_empty() && spans.all(holds))
        .then(|| anchor.visible_spans(res))
}

/// Time-sorted samples cut at UTC day boundaries, as slices. The samples are a span's, usually
/// just decoded and out of cache, so each boundary is first looked for where the previous day's
/// length puts it (downsampled days have the same number of windows): two probes side by side.
/// Only when that misses is it found by a galloping search from the day's first sample.
fn split_slice_by_day(samples: &[Sample]) -> Vec<(Day, &[Sample])> {
    let mut out = Vec::new();
    let mut rest = samples;
    let mut guess = 0;
    while let Some(first) = rest.first() {
        let day = Day::of_ms(first.t);
        let end = day.end_ms();
        let in_day = |i: usize| rest.get(i).is_some_and(|s| s.t <= end);
        let n = if guess > 0 && in_day(guess - 1) && !in_day(guess) {
            guess
        } else {
            // rest[hi / 2] is in the day; rest[hi] (if any) is not.
            let mut hi = 1;
            while in_day(hi) {
                hi *= 2;
            }
            let hi = hi.min(rest.len());
            hi / 2 + rest[hi / 2..hi].partition_point(|s| s.t <= end)
        };
        out.push((day, &rest[..n]));
        rest = &rest[n..];
        guess = n;
    }
    out
}

/// Time-sorted samples cut at UTC day boundaries.
fn split_by_day(samples: Vec<Sample>) -> Vec<(Day, Vec<Sample>)> {
    let mut out: Vec<(Day, Vec<Sample>)> = Vec::new();
    for s in samples {
        let day = Day::of_ms(s.t);
        match out.last_mut() {
            Some((d, v)) if *d == day => v.push(s),
            _ => out.push((day, vec![s])),
        }
    }
    out
}

fn without_aggr(labels: &Labels) -> Labels {
    Labels::new(
        labels
            .iter()
            .filter(|l| l.name != AGGR_LABEL)
            .cloned()
            .collect::<Vec<Label>>(),
    )
}

/// Appends one aggregate's samples of a downsampled day to `out` (averages computed from sum
/// and count).
fn pick_into(out: &mut Vec<Sample>, aggrs: &Aggregates<'_>, aggregate: Aggregate) {
    let index = match aggregate {
        Aggregate::Min => MIN,
        Aggregate::Max => MAX,
        Aggregate::Count => COUNT,
        Aggregate::Sum => SUM,
        Aggregate::Counter => COUNTER,
        Aggregate::Average => {
            // Both are written per window, so they line up; join by timestamp all the same.
            let mut counts = aggrs[COUNT].iter().peekable();
            out.extend(aggrs[SUM].iter().filter_map(|s| {
                while counts.next_if(|c| c.t < s.t).is_some() {}
                let c = counts.next_if(|c| c.t == s.t)?;
                Some(Sample {
                    t: s.t,
                    v: s.v / c.v,
                })
            }));
            return;
        }
    };
    out.extend_from_slice(&aggrs[index]);
}

/// A day as a counter: points (first raw value + increase so far) and its first and last raw
/// values.
struct CounterDay<'a> {
    points: Cow<'a, [Sample]>,
    first_raw: f64,
    last_raw: f64,
}

fn counter_day(segment: Segment<'_>) -> Option<CounterDay<'_>> {
    match segment {
        Segment::Raw(samples) => {
            let values: Vec<Sample> = samples.into_iter().filter(|s| !is_stale_nan(s.v)).collect();
            let (first, last) = (values.first()?.v, values.last()?.v);
            let (mut increase, mut prev) = (0.0, first);
            let points = values
                .iter()
                .map(|s| {
                    increase += if s.v >= prev { s.v - prev } else { s.v };
                    prev = s.v;
                    Sample {
                        t: s.t,
                        v: first + increase,
                    }
                })
                .collect::<Vec<_>>()
                .into();
            Some(CounterDay {
                points,
                first_raw: first,
                last_raw: last,
            })
        }
        Segment::Downsampled(mut aggrs) => {
            let points = std::mem::take(&mut aggrs[COUNTER]);
            let edges = std::mem::take(&mut aggrs[RAW_EDGES]);
            let first_raw = edges.first().map_or(points.first()?.v, |s| s.v);
            let last_raw = edges.last().map_or(points.last()?.v, |s| s.v);
            Some(CounterDay {
                points,
                first_raw,
                last_raw,
            })
        }
    }
}

/// A counter over days: raw days as they are; each run of consecutive downsampled days joined
/// into one reset-free counter that ends at its last raw value, so the raw samples after it
/// continue it exactly (the usual layout: downsampled history, then the raw recent days).
fn counter_series<'a>(segments: impl Iterator<Item = Segment<'a>>) -> Vec<Sample> {
    let mut out: Vec<Sample> = Vec::new();
    let mut run = Vec::new();
    for segment in segments {
        match segment {
            Segment::Raw(samples) => {
                let joined = join_counters(std::mem::take(&mut run).into_iter());
                if out.is_empty() {
                    out = joined;
                } else {
                    out.extend(joined);
                }
                out.extend(samples);
            }
            downsampled => run.push(downsampled),
        }
    }
    let joined = join_counters(run.into_iter());
    if out.is_empty() {
        return joined;
    }
    out.extend(joined);
    out
}

/// Joins days into one reset-free counter ending at the last day's last raw value.
fn join_counters<'a>(segments: impl Iterator<Item = Segment<'a>>) -> Vec<Sample> {
    let days: Vec<CounterDay<'_>> = segments.filter_map(counter_day).collect();
    // Each day's shift onto the joined counter, from the days' edges only.
    let mut shifts = Vec::with_capacity(days.len());
    // Cumulative value at the end of the previous day, and its last raw value.
    let mut previous: Option<(f64, f64)> = None;
    for day in &days {
        let start = match previous {
            None => day.first_raw,
            Some((end, last_raw)) => {
                let increase = if day.first_raw >= last_raw {
                    day.first_raw - last_raw
                } else {
                    day.first_raw
                };
                end + increase
            }
        };
        let shift = start - day.first_raw;
        shifts.push(shift);
        let end = day.points.last().map_or(start, |s| s.v + shift);
        previous = Some((end, day.last_raw));
    }
    // The whole counter is then moved to end at the last raw value: one pass over the points.
    let last = previous.map_or(0.0, |(end, last_raw)| last_raw - end);
    let mut out: Vec<Sample> = Vec::with_capacity(days.iter().map(|d| d.points.len()).sum());
    for (day, shift) in days.iter().zip(shifts) {
        out.extend(day.points.iter().map(|s| Sample {
            t: s.t,
            v: s.v + shift + last,
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t: i64, v: f64) -> Sample {
        Sample { t, v }
    }

    fn aggregates<const N: usize>(series: [(usize, Vec<Sample>); N]) -> Aggregates<'static> {
        let mut out = Aggregates::default();
        for (i, samples) in series {
            out[i] = Cow::Owned(samples);
        }
        out
    }

    #[test]
    fn the_view_groups_aggregate_series_by_raw_series() {
        let l = |pairs: &[(&str, &str)]| {
            Labels::new(pairs.iter().map(|(n, v)| Label::new(*n, *v)).collect())
        };
        let table: Vec<(SeriesId, Labels)> = [
            l(&[("__name__", "up"), (AGGR_LABEL, "counter"), ("job", "a")]),
            l(&[("__name__", "up"), (AGGR_LABEL, "raw"), ("job", "a")]),
            l(&[("__name__", "up"), (AGGR_LABEL, "sum"), ("job", "b")]),
            l(&[("__name__", "up"), (AGGR_LABEL, "count"), ("job", "a")]),
            l(&[("__name__", "other"), ("job", "a")]),
        ]
        .into_iter()
        .map(|labels| (SeriesId::of("t", &labels), labels))
        .collect();
        let view = AggregateView::new("t", &table);
        let raw_a = l(&[("__name__", "up"), ("job", "a")]);
        assert_eq!(view.raw[0], (SeriesId::of("t", &raw_a), raw_a));
        assert_eq!(view.of_ref, [(0, 4), (0, 5), (1, 1), (0, 0), (u32::MAX, 0)]);
        let up = Matcher::new(architect_model::MatchOp::Equal, "__name__", "up").expect("m");
        let job_a = Matcher::new(architect_model::MatchOp::Equal, "job", "a").expect("m");
        assert_eq!(
            view.select(std::slice::from_ref(&up), &[COUNTER, RAW_EDGES]),
            [0, 1]
        );
        assert_eq!(
            view.select(std::slice::from_ref(&up), &[SUM, COUNT]),
            [2, 3]
        );
        assert_eq!(view.select(&[up, job_a.clone()], &[SUM, COUNT]), [3]);
        assert_eq!(view.select(&[job_a], &[MAX]), Vec::<u32>::new());
    }

    #[test]
    fn functions_pick_the_thanos_aggregate() {
        assert_eq!(Aggregate::for_function(Some("rate")), Aggregate::Counter);
        assert_eq!(
            Aggregate::for_function(Some("max_over_time")),
            Aggregate::Max
        );
        assert_eq!(Aggregate::for_function(Some("min")), Aggregate::Min);
        assert_eq!(
            Aggregate::for_function(Some("sum_over_time")),
            Aggregate::Sum
        );
        assert_eq!(Aggregate::for_function(Some("sum")), Aggregate::Average);
        assert_eq!(Aggregate::for_function(None), Aggregate::Average);
    }

    #[test]
    fn counters_join_across_days_with_resets_inside_and_between() {
        // Day 1: raw 10 -> 20, reset to 5 inside; counter points 20, 25; raw edges 10 .. 5.
        let day1 = Segment::Downsampled(aggregates([
            (COUNTER, vec![s(100, 20.0), s(200, 25.0)]),
            (RAW_EDGES, vec![s(0, 10.0), s(200, 5.0)]),
        ]));
        // Day 2 starts at 8 (+3 over 5), raw.
        let day2 = Segment::Raw(vec![s(300, 8.0), s(400, 9.0)]);
        // Day 3 starts at 2: a reset between days (+2).
        let day3 = Segment::Raw(vec![s(500, 2.0), s(600, 4.0)]);
        let joined = join_counters([day1, day2, day3].into_iter());
        let increases: Vec<f64> = joined.windows(2).map(|w| w[1].v - w[0].v).collect();
        assert_eq!(increases, [5.0, 3.0, 1.0, 2.0, 2.0]);
        assert_eq!(
            joined.last().map(|s| s.v),
            Some(4.0),
            "ends at the raw value"
        );
    }

    #[test]
    fn raw_days_stay_raw_around_a_joined_run() {
        let ds = |c: Vec<Sample>, raw: Vec<Sample>| {
            Segment::Downsampled(aggregates([(COUNTER, c), (RAW_EDGES, raw)]))
        };
        let raw_before = Segment::Raw(vec![s(0, 1.0), s(50, 2.0)]);
        let day = ds(vec![s(100, 12.0)], vec![s(90, 10.0), s(100, 12.0)]);
        let raw_after = Segment::Raw(vec![s(300, 13.0)]);
        let out = counter_series([raw_before, day, raw_after].into_iter());
        assert_eq!(out, [s(0, 1.0), s(50, 2.0), s(100, 12.0), s(300, 13.0)]);
    }

    #[test]
    fn span_samples_split_into_their_days() {
        let day = |d: i64, m: i64| d * 86_400_000 + m * 60_000;
        let samples: Vec<Sample> = [(3, 0), (3, 1), (3, 1439), (4, 5), (6, 0), (6, 2)]
            .iter()
            .map(|&(d, m)| s(day(d, m), m as f64))
            .collect();
        let split = split_slice_by_day(&samples);
        let days: Vec<(i64, usize)> = split.iter().map(|(d, v)| (d.0, v.len())).collect();
        assert_eq!(days, [(3, 3), (4, 1), (6, 2)]);
        for n in 0..300usize {
            let many: Vec<Sample> = (0..n as i64).map(|k| s(day(k / 7, k % 7), 0.0)).collect();
            let split = split_slice_by_day(&many);
            assert_eq!(split.iter().map(|(_, v)| v.len()).sum::<usize>(), n);
            assert!(
                split
                    .iter()
                    .all(|(d, v)| v.iter().all(|x| Day::of_ms(x.t) == *d))
            );
            assert_eq!(split.len(), n.div_ceil(7));
        }
        assert!(split_slice_by_day(&[]).is_empty());
        // Days longer, shorter and as long as the one before (the guessed boundary hits or
        // misses either way).
        let lengths = [5usize, 5, 3, 5, 7, 7, 1, 1, 8, 4, 4];
        let mut varied = Vec::new();
        for (d, &len) in lengths.iter().enumerate() {
            varied.extend((0..len as i64).map(|m| s(day(d as i64, m * 3), 0.0)));
        }
        let split = split_slice_by_day(&varied);
        let got: Vec<(i64, usize)> = split.iter().map(|(d, v)| (d.0, v.len())).collect();
        let want: Vec<(i64, usize)> = lengths
            .iter()
            .enumerate()
            .map(|(d, &n)| (d as i64, n))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn averages_come_from_sum_and_count() {
        // A window without a count (never written, but possible in a merge) is left out.
        let a = aggregates([
            (SUM, vec![s(1, 10.0), s(2, 9.0), s(3, 1.0)]),
            (COUNT, vec![s(1, 4.0), s(3, 2.0)]),
        ]);
        // Appended after what is there.
        let mut out = vec![s(0, 7.0)];
        pick_into(&mut out, &a, Aggregate::Average);
        assert_eq!(out, [s(0, 7.0), s(1, 2.5), s(3, 0.5)]);
        pick_into(&mut out, &a, Aggregate::Max);
        assert_eq!(out.len(), 3, "no max series: nothing appended");
    }
}
