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
use crate::read::{SeriesSamples, merge_samples};
use crate::store::MetricsStore;
use architect_model::time::Day;
use architect_model::{Label, Labels, MatchOp, Matcher, Sample, SeriesId, TenantId, is_stale_nan};
use std::collections::{BTreeMap, HashMap};

/// The label naming an aggregate series in a downsampled block.
pub const AGGR_LABEL: &str = "__aggr__";
/// The 5-minute resolution (ms).
pub const RES_5M: i64 = 300_000;
/// The 1-hour resolution (ms).
pub const RES_1H: i64 = 3_600_000;
/// Downsampled resolutions, finest first.
pub const RESOLUTIONS: [i64; 2] = [RES_5M, RES_1H];

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

    fn series(self) -> &'static [&'static str] {
        match self {
            Self::Min => &["min"],
            Self::Max => &["max"],
            Self::Count => &["count"],
            Self::Sum => &["sum"],
            Self::Counter => &["counter", "raw"],
            Self::Average => &["sum", "count"],
        }
    }
}

/// One day of one series.
#[derive(Debug)]
enum Segment {
    Raw(Vec<Sample>),
    /// Aggregate name → samples.
    Downsampled(HashMap<String, Vec<Sample>>),
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
        partitions: &[(Day, DayPartition)],
        matchers: &[Matcher],
        start: i64,
        end: i64,
        max_resolution_ms: i64,
        aggregate: Aggregate,
    ) -> Result<Vec<SeriesSamples>> {
        if start > end {
            return Ok(Vec::new());
        }
        let mut series: BTreeMap<Labels, Vec<(Day, Segment)>> = BTreeMap::new();
        // One parallel read of all raw blocks and one of all downsampled blocks; results are
        // split back into days.
        let (mut raw_blocks, mut downsampled_blocks) = (Vec::new(), Vec::new());
        let mut downsampled_days = std::collections::BTreeSet::new();
        for (day, part) in partitions {
            let raw: Vec<BlockMeta> = part.visible(0);
            match choose_resolution(part, &raw, max_resolution_ms) {
                None => raw_blocks.extend(raw.into_iter().filter(|b| b.overlaps(start, end))),
                Some(res) => {
                    downsampled_days.insert(*day);
                    downsampled_blocks.extend(part.visible(res));
                }
            }
        }
        raw_blocks.sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.ulid.cmp(&b.ulid)));
        for s in self.select_in(raw_blocks, matchers, start, end).await? {
            let entry = series.entry(s.labels).or_default();
            for (day, samples) in split_by_day(s.samples) {
                entry.push((day, Segment::Raw(samples)));
            }
        }
        if let (Some(first), Some(last)) = (downsampled_days.first(), downsampled_days.last()) {
            let mut m: Vec<Matcher> = matchers.to_vec();
            let names = aggregate.series().join("|");
            m.push(
                Matcher::new(MatchOp::RegexMatch, AGGR_LABEL, &names)
                    .map_err(|e| crate::StoreError::Task(format!("aggregate matcher: {e}")))?,
            );
            // Counters need whole days to join days; the rest only the range.
            let (from, to) = if aggregate == Aggregate::Counter {
                (first.start_ms(), last.end_ms())
            } else {
                (start, end)
            };
            let mut by_series: HashMap<Labels, BTreeMap<Day, HashMap<String, Vec<Sample>>>> =
                HashMap::new();
            // A downsampled block holds one day: its samples are that day's segment as read.
            for read in self.read_blocks(downsampled_blocks, &m, from, to).await? {
                let day = read.block.day;
                for (r, samples) in read.selected.iter().zip(read.samples) {
                    let labels = &read.table.series[*r as usize].1;
                    let Some(aggr) = labels.get(AGGR_LABEL) else {
                        continue;
                    };
                    if samples.is_empty() {
                        continue;
                    }
                    let aggrs = by_series
                        .entry(without_aggr(labels))
                        .or_default()
                        .entry(day)
                        .or_default();
                    // Two blocks of one day (members of one compaction group) hold different
                    // series; merge anyway rather than drop.
                    match aggrs.remove(aggr) {
                        Some(have) => aggrs.insert(aggr.to_string(), merge_samples(have, samples)),
                        None => aggrs.insert(aggr.to_string(), samples),
                    };
                }
            }
            for (labels, days) in by_series {
                let entry = series.entry(labels).or_default();
                for (day, aggrs) in days {
                    entry.push((day, Segment::Downsampled(aggrs)));
                }
            }
        }
        let mut out = Vec::with_capacity(series.len());
        for (labels, mut segments) in series {
            segments.sort_by_key(|(d, _)| *d);
            let mut samples = match aggregate {
                Aggregate::Counter => counter_series(segments.into_iter().map(|(_, s)| s)),
                _ => segments
                    .into_iter()
                    .flat_map(|(_, s)| match s {
                        Segment::Raw(samples) => samples,
                        Segment::Downsampled(mut a) => pick(&mut a, aggregate),
                    })
                    .collect(),
            };
            samples.retain(|s| s.t >= start && s.t <= end);
            if samples.is_empty() {
                continue;
            }
            out.push(SeriesSamples {
                id: SeriesId::of(tenant.as_str(), &labels),
                labels,
                samples,
            });
        }
        Ok(out)
    }
}

/// The coarsest resolution of at most `max` that is current for the day (computed from exactly
/// its raw blocks); with no raw blocks left, the finest downsampled one; `None` = read raw.
fn choose_resolution(part: &DayPartition, raw: &[BlockMeta], max: i64) -> Option<i64> {
    if raw.is_empty() {
        return RESOLUTIONS
            .into_iter()
            .find(|&r| !part.visible(r).is_empty());
    }
    let mut sources: Vec<&str> = raw.iter().map(|b| b.ulid.as_str()).collect();
    sources.sort_unstable();
    RESOLUTIONS
        .into_iter()
        .rev()
        .filter(|&r| r <= max)
        .find(|&r| {
            let blocks = part.visible(r);
            !blocks.is_empty()
                && blocks.iter().all(|b| {
                    b.sources
                        .iter()
                        .map(String::as_str)
                        .eq(sources.iter().copied())
                })
        })
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

/// One aggregate's samples of a downsampled day (averages computed from sum and count).
fn pick(aggrs: &mut HashMap<String, Vec<Sample>>, aggregate: Aggregate) -> Vec<Sample> {
    let mut take = |name: &str| aggrs.remove(name).unwrap_or_default();
    match aggregate {
        Aggregate::Min => take("min"),
        Aggregate::Max => take("max"),
        Aggregate::Count => take("count"),
        Aggregate::Sum => take("sum"),
        Aggregate::Counter => take("counter"),
        Aggregate::Average => {
            let sums = take("sum");
            let counts: HashMap<i64, f64> = take("count").into_iter().map(|s| (s.t, s.v)).collect();
            sums.into_iter()
                .filter_map(|s| {
                    let c = counts.get(&s.t)?;
                    Some(Sample { t: s.t, v: s.v / c })
                })
                .collect()
        }
    }
}

/// A day as a counter: points (first raw value + increase so far) and its first and last raw
/// values.
struct CounterDay {
    points: Vec<Sample>,
    first_raw: f64,
    last_raw: f64,
}

fn counter_day(segment: Segment) -> Option<CounterDay> {
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
                .collect();
            Some(CounterDay {
                points,
                first_raw: first,
                last_raw: last,
            })
        }
        Segment::Downsampled(mut aggrs) => {
            let points = aggrs.remove("counter").unwrap_or_default();
            let edges = aggrs.remove("raw").unwrap_or_default();
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
fn counter_series(segments: impl Iterator<Item = Segment>) -> Vec<Sample> {
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
fn join_counters(segments: impl Iterator<Item = Segment>) -> Vec<Sample> {
    let days: Vec<CounterDay> = segments.filter_map(counter_day).collect();
    let mut out: Vec<Sample> = Vec::with_capacity(days.iter().map(|d| d.points.len()).sum());
    // Cumulative value at the end of the previous day, and its last raw value.
    let mut previous: Option<(f64, f64)> = None;
    for day in days {
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
        out.extend(day.points.iter().map(|s| Sample {
            t: s.t,
            v: s.v + shift,
        }));
        let end = day.points.last().map_or(start, |s| s.v + shift);
        previous = Some((end, day.last_raw));
    }
    if let Some((end, last_raw)) = previous {
        let shift = last_raw - end;
        for s in &mut out {
            s.v += shift;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t: i64, v: f64) -> Sample {
        Sample { t, v }
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
        let day1 = Segment::Downsampled(HashMap::from([
            ("counter".to_string(), vec![s(100, 20.0), s(200, 25.0)]),
            ("raw".to_string(), vec![s(0, 10.0), s(200, 5.0)]),
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
            Segment::Downsampled(HashMap::from([
                ("counter".to_string(), c),
                ("raw".to_string(), raw),
            ]))
        };
        let raw_before = Segment::Raw(vec![s(0, 1.0), s(50, 2.0)]);
        let day = ds(vec![s(100, 12.0)], vec![s(90, 10.0), s(100, 12.0)]);
        let raw_after = Segment::Raw(vec![s(300, 13.0)]);
        let out = counter_series([raw_before, day, raw_after].into_iter());
        assert_eq!(out, [s(0, 1.0), s(50, 2.0), s(100, 12.0), s(300, 13.0)]);
    }

    #[test]
    fn averages_come_from_sum_and_count() {
        let mut a = HashMap::from([
            ("sum".to_string(), vec![s(1, 10.0), s(2, 9.0)]),
            ("count".to_string(), vec![s(1, 4.0), s(2, 3.0)]),
        ]);
        assert_eq!(pick(&mut a, Aggregate::Average), [s(1, 2.5), s(2, 3.0)]);
    }
}
