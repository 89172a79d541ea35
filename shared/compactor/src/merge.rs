//! Merging the blocks of a partition: which series go into which output, and how the data of
//! one series from several blocks becomes one sorted list with a single sample per timestamp.
//!
//! Inputs are taken in precedence order (first write first); on a timestamp present in more
//! than one block the first write wins, exactly as readers resolve it, so a query returns the
//! same answer before and after compaction. Identical duplicates collapse; staleness markers
//! are ordinary values here and survive bit-exact.

use architect_model::{Exemplar, Histogram, Labels, SeriesId};
use architect_store::{BlockMeta, SeriesData, merge_samples};
use std::collections::HashMap;
use std::ops::Range;

/// One output series and where its data is.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesPlan {
    /// Labels.
    pub labels: Labels,
    /// Series id.
    pub id: SeriesId,
    /// (input position, file-local series ref) pairs, in input (precedence) order.
    pub sources: Vec<(usize, u32)>,
    /// Estimated samples (from the inputs' average samples per series).
    pub estimated_samples: u64,
}

/// The union of the inputs' series, sorted as blocks sort them (metric name, labels).
/// `inputs` are the blocks in precedence order with their series tables.
pub fn plan_series(inputs: &[(&BlockMeta, &[(SeriesId, Labels)])]) -> Vec<SeriesPlan> {
    let mut plans: Vec<SeriesPlan> = Vec::new();
    let mut by_labels: HashMap<&Labels, usize> = HashMap::new();
    for (i, (block, series)) in inputs.iter().enumerate() {
        let per_series = (block.samples + block.histograms) / block.series.max(1);
        for (r, (id, labels)) in series.iter().enumerate() {
            let r = u32::try_from(r).unwrap_or(u32::MAX);
            match by_labels.get(labels) {
                Some(&p) => {
                    plans[p].sources.push((i, r));
                    plans[p].estimated_samples += per_series;
                }
                None => {
                    by_labels.insert(labels, plans.len());
                    plans.push(SeriesPlan {
                        labels: labels.clone(),
                        id: *id,
                        sources: vec![(i, r)],
                        estimated_samples: per_series,
                    });
                }
            }
        }
    }
    plans.sort_by(|a, b| {
        a.labels
            .metric_name()
            .cmp(b.labels.metric_name())
            .then_with(|| a.labels.cmp(&b.labels))
            .then(a.id.cmp(&b.id))
    });
    plans
}

/// Cuts the plans into consecutive output ranges of at most about `max_samples` samples
/// (a series is never split).
pub fn batches(plans: &[SeriesPlan], max_samples: u64) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut samples) = (0, 0u64);
    for (i, p) in plans.iter().enumerate() {
        if i > start && samples + p.estimated_samples > max_samples {
            out.push(start..i);
            (start, samples) = (i, 0);
        }
        samples += p.estimated_samples;
    }
    if start < plans.len() {
        out.push(start..plans.len());
    }
    out
}

/// Merges `newer` (a later block's data of the same series) into `acc`.
pub fn merge_into(acc: &mut SeriesData, newer: SeriesData) {
    acc.samples = merge_samples(std::mem::take(&mut acc.samples), newer.samples);
    acc.histograms = merge_histograms(std::mem::take(&mut acc.histograms), newer.histograms);
    acc.exemplars = merge_exemplars(std::mem::take(&mut acc.exemplars), newer.exemplars);
}

/// One histogram per timestamp, the first write winning.
fn merge_histograms(older: Vec<Histogram>, newer: Vec<Histogram>) -> Vec<Histogram> {
    if newer.is_empty() {
        return older;
    }
    let mut out = older;
    for h in newer {
        if let Err(i) = out.binary_search_by_key(&h.t, |x| x.t) {
            out.insert(i, h);
        }
    }
    out
}

/// Exemplars by time; identical exemplars collapse.
fn merge_exemplars(older: Vec<Exemplar>, newer: Vec<Exemplar>) -> Vec<Exemplar> {
    if newer.is_empty() {
        return older;
    }
    let mut out = older;
    out.extend(newer);
    out.sort_by(|a, b| a.t.cmp(&b.t).then(a.v.total_cmp(&b.v)));
    out.dedup_by(|a, b| a.t == b.t && a.v.to_bits() == b.v.to_bits() && a.labels == b.labels);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use architect_model::Sample;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    /// Reference semantics: for each (series, timestamp) the value of the first input (in
    /// precedence order) that has it.
    fn reference(inputs: &[Vec<(u8, i64, u64)>]) -> BTreeMap<(u8, i64), u64> {
        let mut out = BTreeMap::new();
        for input in inputs {
            for &(s, t, bits) in input {
                out.entry((s, t)).or_insert(bits);
            }
        }
        out
    }

    fn merged(inputs: &[Vec<(u8, i64, u64)>]) -> BTreeMap<(u8, i64), u64> {
        let mut acc: BTreeMap<u8, SeriesData> = BTreeMap::new();
        for input in inputs {
            // One block: per series, sorted, one sample per timestamp (as blocks are).
            let mut block: BTreeMap<u8, BTreeMap<i64, u64>> = BTreeMap::new();
            for &(s, t, bits) in input {
                block.entry(s).or_default().entry(t).or_insert(bits);
            }
            for (s, samples) in block {
                let data = SeriesData {
                    samples: samples
                        .into_iter()
                        .map(|(t, bits)| Sample {
                            t,
                            v: f64::from_bits(bits),
                        })
                        .collect(),
                    ..SeriesData::default()
                };
                match acc.get_mut(&s) {
                    Some(a) => merge_into(a, data),
                    None => {
                        acc.insert(s, data);
                    }
                }
            }
        }
        let mut out = BTreeMap::new();
        for (s, d) in acc {
            assert!(
                d.samples.windows(2).all(|w| w[0].t < w[1].t),
                "sorted, unique"
            );
            for x in d.samples {
                out.insert((s, x.t), x.v.to_bits());
            }
        }
        out
    }

    fn value_bits() -> impl Strategy<Value = u64> {
        prop_oneof![
            (0u64..4).prop_map(|v| (v as f64).to_bits()),
            Just(architect_model::STALE_NAN_BITS),
            Just((-0.0f64).to_bits()),
        ]
    }

    proptest! {
        /// Overlapping blocks, duplicates and out-of-order arrivals: the merge holds exactly
        /// the distinct (series, timestamp) samples, the first write winning, bit-exact.
        #[test]
        fn merge_keeps_exactly_the_distinct_samples(
            inputs in prop::collection::vec(
                prop::collection::vec((0u8..4, 0i64..40, value_bits()), 0..60),
                1..6,
            )
        ) {
            prop_assert_eq!(merged(&inputs), reference(&inputs));
        }

        /// Merging again (the output as one input, or twice over) changes nothing.
        #[test]
        fn merge_is_idempotent(
            inputs in prop::collection::vec(
                prop::collection::vec((0u8..4, 0i64..40, value_bits()), 0..60),
                1..6,
            )
        ) {
            let once = merged(&inputs);
            let as_input: Vec<(u8, i64, u64)> = once.iter().map(|(&(s, t), &v)| (s, t, v)).collect();
            prop_assert_eq!(merged(std::slice::from_ref(&as_input)), once.clone());
            prop_assert_eq!(merged(&[as_input.clone(), as_input]), once);
        }
    }

    proptest! {
        /// Without conflicting values (retries and overlaps carry the same value), the result
        /// does not depend on the order the blocks come in.
        #[test]
        fn merge_is_independent_of_input_order(
            inputs in prop::collection::vec(
                prop::collection::vec((0u8..4, 0i64..40), 0..60),
                1..6,
            ),
            rotation in 0usize..6,
        ) {
            let with_values = |inputs: &[Vec<(u8, i64)>]| -> Vec<Vec<(u8, i64, u64)>> {
                inputs
                    .iter()
                    .map(|b| b.iter().map(|&(s, t)| (s, t, ((s as i64 * 100 + t) as f64).to_bits())).collect())
                    .collect()
            };
            let forward = with_values(&inputs);
            let mut reversed = forward.clone();
            reversed.reverse();
            let mut rotated = forward.clone();
            let n = rotated.len();
            rotated.rotate_left(rotation % n);
            let expected = merged(&forward);
            prop_assert_eq!(merged(&reversed), expected.clone());
            prop_assert_eq!(merged(&rotated), expected);
        }
    }

    #[test]
    fn batches_never_split_a_series_and_respect_the_budget() {
        let plan = |n: u64| SeriesPlan {
            labels: Labels::from_pairs([("__name__", "m")]),
            id: SeriesId::of("t", &Labels::from_pairs([("__name__", "m")])),
            sources: vec![],
            estimated_samples: n,
        };
        let plans: Vec<_> = [5, 5, 5, 20, 1].into_iter().map(plan).collect();
        assert_eq!(batches(&plans, 10), vec![0..2, 2..3, 3..4, 4..5]);
        assert_eq!(batches(&plans, 1000), vec![0..5]);
        assert!(batches(&[], 10).is_empty());
    }
}
