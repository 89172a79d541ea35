//! Downsampling: the Thanos aggregates of raw float samples per window of 5 minutes or 1 hour.
//!
//! Each raw series becomes up to six aggregate series in a downsampled block, told apart by the
//! label `__aggr__`: `count`, `sum`, `min`, `max`, `counter` (one sample per window, at the
//! timestamp of the window's last raw sample) and `raw` (the day's first and last raw sample,
//! which a reader needs to join the counters of consecutive days). Staleness markers are not
//! values and stay out of every aggregate.
//!
//! `counter` is the series' first raw value of the day plus its increase up to the window's
//! last sample, counter resets accounted for inside the day (a value below its predecessor
//! counts from zero, as `rate` does), so `rate` and `increase` over the counter samples give
//! the raw answer at window granularity even when a reset falls inside a window.

use architect_model::{Label, Labels, Sample, SeriesId, TenantId, is_stale_nan};
use architect_store::SeriesData;

pub use architect_store::downsampled::AGGR_LABEL;

/// The aggregates of one window.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Window {
    last_t: i64,
    count: f64,
    sum: f64,
    min: f64,
    max: f64,
    counter: f64,
}

/// Aggregates of one series at `resolution_ms`: the series' entries of the downsampled block
/// (one per aggregate; none if the series has no float samples that are not stale markers).
pub fn downsample_series(
    tenant: &TenantId,
    labels: &Labels,
    samples: &[Sample],
    resolution_ms: i64,
) -> Vec<SeriesData> {
    let values: Vec<&Sample> = samples.iter().filter(|s| !is_stale_nan(s.v)).collect();
    let (Some(first), Some(last)) = (values.first(), values.last()) else {
        return Vec::new();
    };
    let mut windows: Vec<Window> = Vec::new();
    let mut current: Option<i64> = None;
    let (mut increase, mut prev) = (0.0, first.v);
    for s in &values {
        if s.v >= prev {
            increase += s.v - prev;
        } else {
            increase += s.v;
        }
        prev = s.v;
        let counter = first.v + increase;
        let w = s.t.div_euclid(resolution_ms);
        match windows.last_mut() {
            Some(win) if current == Some(w) => {
                win.last_t = s.t;
                win.count += 1.0;
                win.sum += s.v;
                win.min = win.min.min(s.v);
                win.max = win.max.max(s.v);
                win.counter = counter;
            }
            _ => {
                current = Some(w);
                windows.push(Window {
                    last_t: s.t,
                    count: 1.0,
                    sum: s.v,
                    min: s.v,
                    max: s.v,
                    counter,
                });
            }
        }
    }
    // Blocks sort series by (metric name, labels), and `__aggr__` sorts before every other
    // label, so all `counter` series of a metric are contiguous rows: a query reads one run per
    // metric and aggregate instead of rows scattered over the block. The id of an aggregate
    // series is file-internal (readers key series by labels); its top byte is the aggregate's
    // ordinal, which keeps the aggregates of one raw series apart.
    let raw_id = SeriesId::of(tenant.as_str(), labels).0 & (u128::MAX >> 8);
    let series = |ordinal: u128, aggr: &str, samples: Vec<Sample>| {
        let mut l: Vec<Label> = labels.iter().cloned().collect();
        l.push(Label::new(AGGR_LABEL, aggr));
        SeriesData {
            id: SeriesId((ordinal << 120) | raw_id),
            labels: Labels::new(l),
            samples,
            ..SeriesData::default()
        }
    };
    let column = |f: fn(&Window) -> f64| {
        windows
            .iter()
            .map(|w| Sample {
                t: w.last_t,
                v: f(w),
            })
            .collect::<Vec<_>>()
    };
    let mut edges = vec![Sample {
        t: first.t,
        v: first.v,
    }];
    if last.t != first.t {
        edges.push(Sample {
            t: last.t,
            v: last.v,
        });
    }
    // Ordinals group what one query reads together: counter with raw, sum with count.
    vec![
        series(0, "counter", column(|w| w.counter)),
        series(1, "raw", edges),
        series(2, "sum", column(|w| w.sum)),
        series(3, "count", column(|w| w.count)),
        series(4, "min", column(|w| w.min)),
        series(5, "max", column(|w| w.max)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use architect_model::STALE_NAN_BITS;

    fn aggr(out: &[SeriesData], name: &str) -> Vec<(i64, f64)> {
        out.iter()
            .find(|s| s.labels.get(AGGR_LABEL) == Some(name))
            .map(|s| s.samples.iter().map(|x| (x.t, x.v)).collect())
            .unwrap_or_default()
    }

    #[test]
    fn thanos_aggregates_with_a_reset_and_a_stale_marker() {
        let tenant = TenantId::new("t").expect("tenant");
        let labels = Labels::from_pairs([("__name__", "c")]);
        let s = |t: i64, v: f64| Sample { t, v };
        let samples = [
            s(0, 10.0),
            s(100, 20.0),
            s(200, f64::from_bits(STALE_NAN_BITS)),
            s(300, 5.0), // reset: counts 5 from zero
            s(1000, 7.0),
            s(1100, 9.0),
        ];
        let out = downsample_series(&tenant, &labels, &samples, 1000);
        assert_eq!(aggr(&out, "count"), [(300, 3.0), (1100, 2.0)]);
        assert_eq!(aggr(&out, "sum"), [(300, 35.0), (1100, 16.0)]);
        assert_eq!(aggr(&out, "min"), [(300, 5.0), (1100, 7.0)]);
        assert_eq!(aggr(&out, "max"), [(300, 20.0), (1100, 9.0)]);
        // 10 -> 20 (+10) -> reset to 5 (+5) -> 7 (+2) -> 9 (+2)
        assert_eq!(aggr(&out, "counter"), [(300, 25.0), (1100, 29.0)]);
        assert_eq!(aggr(&out, "raw"), [(0, 10.0), (1100, 9.0)]);
        for series in &out {
            assert_eq!(series.labels.get("__name__"), Some("c"));
        }
        // Sorted by id, the aggregates come in query groups: counter and raw first.
        let mut by_id: Vec<&SeriesData> = out.iter().collect();
        by_id.sort_by_key(|s| s.id);
        let order: Vec<&str> = by_id
            .iter()
            .filter_map(|s| s.labels.get(AGGR_LABEL))
            .collect();
        assert_eq!(order, ["counter", "raw", "sum", "count", "min", "max"]);
    }

    #[test]
    fn only_stale_markers_give_nothing() {
        let tenant = TenantId::new("t").expect("tenant");
        let labels = Labels::from_pairs([("__name__", "c")]);
        let stale = Sample {
            t: 0,
            v: f64::from_bits(STALE_NAN_BITS),
        };
        assert!(downsample_series(&tenant, &labels, &[stale], 1000).is_empty());
    }
}
