//! `load_with_nhcb`: classic histogram series (`<name>_bucket{le=...}`, `<name>_count`,
//! `<name>_sum`) are additionally loaded as one native histogram with custom buckets per
//! `<name>{other labels}`, one sample per timestamp, as upstream's `appendCustomHistogram` and
//! `convertnhcb.TempHistogram` do it.

use std::collections::BTreeMap;

use crate::histogram::{CUSTOM_BUCKETS_SCHEMA, TestHistogram};
use crate::number::parse_float;
use crate::{Labels, Load, LoadSeries, METRIC_NAME, PointValue};

/// Classic histogram data gathered for one timestamp.
#[derive(Default)]
struct TempHistogram {
    /// `(le, cumulative count)`, sorted by `le`.
    buckets: Vec<(f64, f64)>,
    count: Option<f64>,
    sum: f64,
    err: Option<String>,
}

impl TempHistogram {
    fn set_bucket_count(&mut self, le: f64, count: f64) {
        if self.err.is_some() {
            return;
        }
        if count < 0.0 {
            self.err = Some(format!(
                "bucket count must be non-negative: le={le}, count={count}"
            ));
            return;
        }
        let i = self.buckets.partition_point(|(b, _)| *b < le);
        if self.buckets.get(i).is_some_and(|(b, _)| *b == le) {
            return; // a duplicate sample is ignored
        }
        if i > 0 && count < self.buckets[i - 1].1 {
            self.err = Some(format!(
                "count is not cumulative: {count} < {}",
                self.buckets[i - 1].1
            ));
            return;
        }
        if let Some((_, next)) = self.buckets.get(i)
            && count > *next
        {
            self.err = Some(format!("count is not cumulative: {count} > {next}"));
            return;
        }
        self.buckets.insert(i, (le, count));
    }

    fn convert(mut self) -> Result<TestHistogram, String> {
        if let Some(e) = self.err {
            return Err(e);
        }
        let count = match (self.count, self.buckets.last()) {
            (Some(c), _) => c,
            (None, Some((_, last))) => *last, // no _count: the highest bucket's count
            (None, None) => 0.0,
        };
        if self
            .buckets
            .last()
            .is_none_or(|(le, _)| *le != f64::INFINITY)
        {
            self.buckets.push((f64::INFINITY, count));
        }
        let mut buckets = BTreeMap::new();
        let mut prev = 0.0;
        let mut custom_values = Vec::new();
        for (i, (le, c)) in self.buckets.iter().enumerate() {
            let delta = c - prev;
            prev = *c;
            if delta != 0.0 {
                buckets.insert(i32::try_from(i).map_err(|_| "too many buckets")?, delta);
            }
            if *le != f64::INFINITY {
                custom_values.push(*le);
            }
        }
        let last = self.buckets.last().map_or(0.0, |b| b.1);
        if count != last {
            return Err(format!(
                "count mismatch: count={count} != le=+Inf count={last}"
            ));
        }
        let mut h = TestHistogram {
            schema: CUSTOM_BUCKETS_SCHEMA,
            count,
            sum: self.sum,
            custom_values,
            ..Default::default()
        };
        let pairs: Vec<(i32, f64)> = buckets.into_iter().collect();
        let mut spans: Vec<(i32, u32)> = Vec::new();
        let mut next = 0i32;
        for (i, (idx, c)) in pairs.iter().enumerate() {
            match spans.last_mut() {
                Some(last) if i > 0 && *idx == next => last.1 += 1,
                _ => spans.push((if i == 0 { *idx } else { idx - next }, 1)),
            }
            h.positive_buckets.push(*c);
            next = idx + 1;
        }
        h.positive_spans = spans;
        Ok(h)
    }
}

impl Load {
    /// The native-histogram-with-custom-buckets series that `load_with_nhcb` adds on top of
    /// [`Load::series`] (which are loaded unchanged too). Empty for a plain `load`. Fails when the
    /// classic series do not form valid histograms (a `_bucket` series without `le`, counts that
    /// are not cumulative or disagree with `_count`), which fails the load upstream as well.
    pub fn nhcb_series(&self) -> Result<Vec<LoadSeries>, String> {
        if !self.with_nhcb {
            return Ok(Vec::new());
        }
        let mut by_series: BTreeMap<Labels, BTreeMap<i64, TempHistogram>> = BTreeMap::new();
        for s in &self.series {
            let name = s
                .labels
                .iter()
                .find(|(n, _)| n == METRIC_NAME)
                .map_or("", |(_, v)| v.as_str());
            let (base, kind) = if let Some(b) = name.strip_suffix("_bucket") {
                (b, Kind::Bucket)
            } else if let Some(b) = name.strip_suffix("_count") {
                (b, Kind::Count)
            } else if let Some(b) = name.strip_suffix("_sum") {
                (b, Kind::Sum)
            } else {
                continue;
            };
            let le = if kind == Kind::Bucket {
                let le = s
                    .labels
                    .iter()
                    .find(|(n, _)| n == "le")
                    .ok_or_else(|| format!("expected bucket label in metric {name}"))?;
                match parse_float(&le.1) {
                    Some(v) if !v.is_nan() => v,
                    _ => continue, // unparsable or NaN bounds are skipped
                }
            } else {
                0.0
            };
            let mut base_labels: Labels = s
                .labels
                .iter()
                .filter(|(n, _)| n != "le" && n != METRIC_NAME)
                .cloned()
                .collect();
            base_labels.push((METRIC_NAME.to_string(), base.to_string()));
            base_labels.sort();
            let temps = by_series.entry(base_labels).or_default();
            for (t, v) in &s.points {
                let PointValue::Float(f) = v else { continue };
                let temp = temps.entry(*t).or_default();
                match kind {
                    Kind::Bucket => temp.set_bucket_count(le, *f),
                    Kind::Count => {
                        if temp.err.is_none() {
                            if *f < 0.0 {
                                temp.err = Some(format!("count must be non-negative: count={f}"));
                            } else {
                                temp.count = Some(*f);
                            }
                        }
                    }
                    Kind::Sum => temp.sum = *f,
                }
            }
        }
        let mut out = Vec::new();
        for (labels, temps) in by_series {
            let mut points = Vec::new();
            for (t, temp) in temps {
                points.push((t, PointValue::Histogram(temp.convert()?)));
            }
            out.push(LoadSeries {
                labels,
                points,
                start_timestamps_ms: Vec::new(),
            });
        }
        Ok(out)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bucket,
    Count,
    Sum,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::{Command, PointValue, parse_script};

    fn nhcb(script: &str) -> Result<Vec<crate::LoadSeries>, String> {
        let s = parse_script(script).unwrap();
        let Command::Load(l) = &s.commands[0] else {
            panic!()
        };
        l.nhcb_series()
    }

    #[test]
    fn converts_classic_histograms() {
        let out = nhcb(
            "load_with_nhcb 5m\n  m_bucket{job=\"a\", le=\"0.1\"} 0+1x1\n  m_bucket{job=\"a\", le=\"1\"} 0+3x1\n  m_bucket{job=\"a\", le=\"+Inf\"} 0+4x1\n  m_count{job=\"a\"} 0+4x1\n  m_sum{job=\"a\"} 0+2x1\n  other 1\n",
        )
        .unwrap();
        assert_eq!(out.len(), 1);
        let s = &out[0];
        assert_eq!(
            s.labels,
            vec![("__name__".into(), "m".into()), ("job".into(), "a".into())]
        );
        assert_eq!(s.points.len(), 2);
        let PointValue::Histogram(h) = &s.points[1].1 else {
            panic!()
        };
        assert_eq!(s.points[1].0, 300_000);
        assert!(h.uses_custom_buckets());
        assert_eq!(h.custom_values, vec![0.1, 1.0]);
        assert_eq!((h.count, h.sum), (4.0, 2.0));
        assert_eq!(
            h.positive_bucket_pairs().unwrap(),
            vec![(0, 1.0), (1, 2.0), (2, 1.0)]
        );
        let PointValue::Histogram(h0) = &s.points[0].1 else {
            panic!()
        };
        assert!(h0.positive_buckets.is_empty());
    }

    #[test]
    fn plain_load_adds_nothing_and_bad_data_fails() {
        assert!(
            nhcb("load 1m\n  m_bucket{le=\"1\"} 1\n")
                .unwrap()
                .is_empty()
        );
        assert!(nhcb("load_with_nhcb 1m\n  m_bucket 1\n").is_err());
        assert!(
            nhcb("load_with_nhcb 1m\n  m_bucket{le=\"1\"} 2\n  m_bucket{le=\"2\"} 1\n").is_err()
        );
        assert!(nhcb("load_with_nhcb 1m\n  m_bucket{le=\"+Inf\"} 2\n  m_count 3\n").is_err());
        // A missing +Inf bucket takes the _count.
        assert!(nhcb("load_with_nhcb 1m\n  m_bucket{le=\"1\"} 2\n  m_count 3\n").is_ok());
        // Without _count or +Inf, the highest bucket gives the count.
        let out = nhcb("load_with_nhcb 1m\n  m_bucket{le=\"1\"} 2\n").unwrap();
        let PointValue::Histogram(h) = &out[0].points[0].1 else {
            panic!()
        };
        assert_eq!(h.count, 2.0);
    }
}
