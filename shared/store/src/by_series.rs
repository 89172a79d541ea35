//! Reading a large selection series by series: the selected series are shared out among the
//! cores, and each task reads every block for its share, in write order, decoding straight
//! into the series' final vectors.
//!
//! Why: read block by block, a selection is first decoded into one buffer per block and then
//! copied into one vector per series. Over a day of flushed blocks that copy was an eighth of
//! a day-long aggregation's CPU (`perf`, `count by (mode) (node_cpu_seconds_total)`), and the
//! per-block buffers, the size of the result, were alive at the same time as it. Blocks are
//! read in write order, so a series' samples from successive blocks normally follow each
//! other and go where they end up at once; the few series that overlapping blocks leave out of
//! order are sorted afterwards, the first write of a timestamp kept.

use crate::catalog::BlockMeta;
use crate::layout::Part;
use crate::read::{self, SampleSink, SeriesSamples};
use crate::store::{MetricsStore, PlannedRead, cores};
use crate::{Result, StoreError};
use architect_model::{Labels, Sample, SeriesId};
use futures::{StreamExt, TryStreamExt};
use std::sync::Arc;

/// Fewer distinct series than this are read block by block: splitting them gains little, and
/// block-by-block reads keep several blocks in flight for a few series. Also the series per
/// share beyond which a selection gets more than two shares: each share pays every block's
/// per-read setup (README, session 20: two shares of 160 series beat block by block, four
/// did not).
const MIN_SERIES: usize = 128;

/// Concurrent shares per core.
const SHARES_PER_CORE: usize = 2;

/// The selected series of `planned` (in write order) in `[start, end]`, read series by series,
/// or the plan back when it does not qualify: fewer than [`MIN_SERIES`] series, or a store
/// whose reads wait on the network (more reads in flight than shares): a share reads its
/// blocks one after another, which on S3 would wait for each GET in turn.
pub(crate) async fn read(
    store: &MetricsStore,
    planned: Vec<PlannedRead>,
    start: i64,
    end: i64,
    values: read::Values,
) -> Result<std::result::Result<Vec<SeriesSamples>, Vec<PlannedRead>>> {
    let selected: usize = planned.iter().map(|p| p.selected.len()).max().unwrap_or(0);
    if selected < MIN_SERIES || store.read_concurrency() > cores() * SHARES_PER_CORE {
        return Ok(Err(planned));
    }
    // The distinct series, found by id and confirmed by labels, and each selected ref's.
    let mut series: Vec<(SeriesId, Labels)> = Vec::new();
    let mut by_id: hashbrown::HashTable<usize> = hashbrown::HashTable::new();
    let hash = |id: &SeriesId| id.0 as u64;
    let mut series_of: Vec<Vec<usize>> = Vec::with_capacity(planned.len());
    for p in &planned {
        let mut of = Vec::with_capacity(p.selected.len());
        for &r in &p.selected {
            let Some((id, labels)) = p.table.series.get(r as usize) else {
                return Err(StoreError::Corrupt {
                    key: p.block.key(Part::Series),
                    reason: format!("series ref {r} out of range"),
                });
            };
            let found = by_id.find(hash(id), |&g| series[g].0 == *id && series[g].1 == *labels);
            let g = match found {
                Some(&g) => g,
                None => {
                    let g = series.len();
                    series.push((*id, labels.clone()));
                    by_id.insert_unique(hash(id), g, |&g| hash(&series[g].0));
                    g
                }
            };
            of.push(g);
        }
        series_of.push(of);
    }
    // Shares of the series, each a task that reads its refs block after block: about
    // `MIN_SERIES` each, at least two and at most two per core. Two per core: while one waits
    // for an object-store read (tens of milliseconds from S3) the other decodes, so as many
    // reads are in flight as block-by-block reads keep; and a share's vectors are fewer, which
    // keeps its scattered writes closer together.
    let share_count = (cores() * SHARES_PER_CORE).min(series.len().div_ceil(MIN_SERIES).max(2));
    let share_len = series.len().div_ceil(share_count);
    let blocks: Arc<Vec<BlockMeta>> = Arc::new(planned.iter().map(|p| p.block.clone()).collect());
    let tasks = (0..share_count).map(|k| {
        let first = k * share_len;
        let range = first..(first + share_len).min(series.len());
        // Per block: the refs of this share (ascending) and their index in the share.
        let reads: Vec<(Vec<u32>, Vec<usize>)> = planned
            .iter()
            .zip(&series_of)
            .map(|(p, of)| {
                p.selected
                    .iter()
                    .zip(of)
                    .filter(|(_, g)| range.contains(g))
                    .map(|(&r, &g)| (r, g - first))
                    .unzip()
            })
            .collect();
        let objects = Arc::clone(store.objects());
        let cache = Arc::clone(store.meta_cache());
        let blocks = Arc::clone(&blocks);
        let len = range.len();
        tokio::spawn(async move {
            // Exact capacities from the row runs of each ref (cached per block).
            let mut capacity = vec![0usize; len];
            for (block, (refs, dest)) in blocks.iter().zip(&reads) {
                if refs.is_empty() {
                    continue;
                }
                let runs =
                    read::ref_runs(&objects, block, &block.key(Part::Samples), &cache).await?;
                for (&r, &d) in refs.iter().zip(dest) {
                    if let Some((first, last)) = runs.rows_within(r, start, end) {
                        capacity[d] += (last - first) as usize;
                    }
                }
            }
            let mut vecs: Vec<Vec<Sample>> = capacity.into_iter().map(Vec::with_capacity).collect();
            let mut unsorted = vec![false; len];
            for (block, (refs, dest)) in blocks.iter().zip(&reads) {
                if refs.is_empty() {
                    continue;
                }
                let mut sink = SeriesVecs {
                    vecs: &mut vecs,
                    unsorted: &mut unsorted,
                    dest,
                };
                read::read_block_samples_into(
                    &objects, block, refs, start, end, values, &cache, &mut sink,
                )
                .await?;
            }
            // A series whose blocks overlap in time: sorted, and of equal timestamps the
            // first written (blocks are read in write order) kept, as `merge_samples` does.
            for (v, _) in vecs.iter_mut().zip(&unsorted).filter(|(_, u)| **u) {
                v.sort_by_key(|s| s.t);
                v.dedup_by_key(|s| s.t);
            }
            Ok::<_, StoreError>(vecs)
        })
    });
    let shares: Vec<Vec<Vec<Sample>>> = futures::stream::iter(tasks)
        .buffered(share_count)
        .map_err(|e| StoreError::Task(e.to_string()))
        .try_collect::<Vec<_>>()
        .await?
        .into_iter()
        .collect::<Result<_>>()?;
    Ok(Ok(series
        .into_iter()
        .zip(shares.into_iter().flatten())
        .filter(|(_, samples)| !samples.is_empty())
        .map(|((id, labels), samples)| SeriesSamples {
            id,
            labels,
            samples,
        })
        .collect()))
}

/// Appends a block's decoded runs to the share's series vectors.
struct SeriesVecs<'a> {
    vecs: &'a mut [Vec<Sample>],
    /// Series whose samples did not arrive in time order (overlapping blocks).
    unsorted: &'a mut [bool],
    /// Index in `vecs` of each selected ref of the block being read.
    dest: &'a [usize],
}

impl SampleSink for SeriesVecs<'_> {
    fn reserve(&mut self, _rows: usize) {}

    fn append(&mut self, slot: usize, samples: impl ExactSizeIterator<Item = Sample>) {
        let Some(&d) = self.dest.get(slot) else {
            return;
        };
        if let Some(v) = self.vecs.get_mut(d) {
            let before = v.len();
            v.extend(samples);
            if before > 0 && v.get(before).is_some_and(|s| s.t <= v[before - 1].t) {
                self.unsorted[d] = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{BlockData, MetricsStore, Result, SeriesData, StoreConfig, StoreError};
    use architect_index::embedded::EmbeddedIndex;
    use architect_model::time::Day;
    use architect_model::{Labels, STALE_NAN_BITS, Sample, SeriesId, TenantId};
    use architect_testkit::objects::{CallGuard, CallKind, ObjectsObserver, ObservedObjects};
    use object_store::ObjectStore;
    use object_store::memory::InMemory;
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;
    use std::sync::atomic::Ordering::SeqCst;

    /// Samples of series `i` in block `b`: every series in every block, some with gaps, mixed
    /// decimal and float values, a staleness marker.
    fn samples(i: usize, b: i64, t0: i64) -> Vec<Sample> {
        (0..40i64)
            .filter(|k| (i as i64 + k + b) % 7 != 0)
            .map(|k| {
                let t = t0 + b * 1_000_000 + k * 15_000 + i as i64;
                let v = match (i + k as usize) % 11 {
                    0 => f64::from_bits(STALE_NAN_BITS),
                    1 => 0.1 + 0.2,
                    _ => (i as f64) * 1.5 + k as f64,
                };
                Sample { t, v }
            })
            .collect()
    }

    /// Block `b` of the tests: series `0..300` labelled by `labels`, with [`samples`].
    fn test_block(b: i64, t0: i64, labels: &dyn Fn(usize) -> Labels) -> BlockData {
        let series = (0..300)
            .map(|i| SeriesData {
                id: SeriesId::of("t1", &labels(i)),
                labels: labels(i),
                samples: samples(i, b, t0),
                ..Default::default()
            })
            .collect();
        BlockData {
            series,
            metadata: vec![],
        }
    }

    /// `{__name__="m"}`.
    fn metric_m() -> Result<architect_model::Matcher> {
        architect_model::Matcher::new(architect_model::MatchOp::Equal, "__name__", "m")
            .map_err(|e| StoreError::Task(e.to_string()))
    }

    /// `m{i, odd}`: series `i`, and whether `i` is odd.
    fn odd_labels(i: usize) -> Labels {
        Labels::from_pairs([
            ("__name__", "m"),
            ("i", &i.to_string()),
            ("odd", if i % 2 == 1 { "1" } else { "0" }),
        ])
    }

    /// A store over memory with an embedded index (in the returned directory), tenant `t1`
    /// and a day to write.
    fn embedded_store() -> Result<(tempfile::TempDir, MetricsStore, TenantId, Day)> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Task(e.to_string()))?;
        let index = Arc::new(EmbeddedIndex::open(&dir.path().join("index.redb"))?);
        let store = MetricsStore::new(Arc::new(InMemory::new()), index, &StoreConfig::default());
        let tenant = TenantId::new("t1").map_err(|e| StoreError::Task(e.to_string()))?;
        Ok((dir, store, tenant, Day::of_ms(1_700_000_000_000)))
    }

    /// A selection of 300 series over three blocks that follow each other in time is read
    /// series by series, and returns exactly what was written, bit for bit, also when the
    /// range cuts into the first and last block; a block overlapping the others leaves each
    /// timestamp's first write.
    #[tokio::test]
    async fn series_major_reads_return_what_was_written() -> Result<()> {
        let (_dir, store, tenant, day) = embedded_store()?;
        let t0 = day.start_ms();
        let labels = odd_labels;
        let mut written: BTreeMap<Labels, Vec<Sample>> = BTreeMap::new();
        for b in 0..3i64 {
            let data = test_block(b, t0, &labels);
            for s in &data.series {
                written
                    .entry(s.labels.clone())
                    .or_default()
                    .extend(&s.samples);
            }
            store.write_block(&tenant, day, 0, data).await?;
        }
        let bits = |s: &[Sample]| s.iter().map(|x| (x.t, x.v.to_bits())).collect::<Vec<_>>();
        let matcher = metric_m()?;
        for (start, end) in [
            (t0, t0 + 3_000_000),
            (t0 + 300_000, t0 + 2_300_000),
            (t0 + 1_000_000, t0 + 1_999_999),
        ] {
            let got = store
                .select(&tenant, std::slice::from_ref(&matcher), start, end)
                .await?;
            let want: BTreeMap<&Labels, Vec<Sample>> = written
                .iter()
                .map(|(l, s)| {
                    let s: Vec<Sample> = s
                        .iter()
                        .filter(|x| x.t >= start && x.t <= end)
                        .copied()
                        .collect();
                    (l, s)
                })
                .filter(|(_, s)| !s.is_empty())
                .collect();
            assert_eq!(got.len(), want.len(), "{start}..{end}");
            for s in &got {
                let w = want.get(&s.labels).expect("series written");
                assert_eq!(bits(&s.samples), bits(w), "{:?}", s.labels);
            }
        }
        // A fourth block overlapping the others in time, with a new sample and one at a
        // timestamp already written: the new one slots in, the first write of the old one
        // stays.
        let late = BlockData {
            series: vec![SeriesData {
                id: SeriesId::of("t1", &labels(0)),
                labels: labels(0),
                samples: vec![
                    Sample {
                        t: t0 + 1_000_001,
                        v: 42.0,
                    },
                    Sample {
                        t: t0 + 1_015_000,
                        v: 43.0,
                    },
                ],
                ..Default::default()
            }],
            metadata: vec![],
        };
        assert!(
            written[&labels(0)]
                .iter()
                .any(|x| x.t == t0 + 1_015_000 && x.v != 43.0)
        );
        store.write_block(&tenant, day, 0, late).await?;
        let got = store
            .select(&tenant, &[matcher], t0, t0 + 3_000_000)
            .await?;
        assert_eq!(got.len(), 300);
        let zero = got
            .iter()
            .find(|s| s.labels == labels(0))
            .expect("series 0");
        let mut want = written[&labels(0)].clone();
        want.push(Sample {
            t: t0 + 1_000_001,
            v: 42.0,
        });
        want.sort_by_key(|x| x.t);
        assert_eq!(bits(&zero.samples), bits(&want));
        Ok(())
    }

    /// A presence read returns every sample a full read returns, at the same timestamps, with
    /// staleness markers and the other float-coded values bit for bit and decimal-coded values
    /// as 0: series by series (300 and 150 series), block by block (100) and by exact row runs
    /// (one).
    #[tokio::test]
    async fn presence_reads_keep_timestamps_and_float_coded_values() -> Result<()> {
        let (_dir, store, tenant, day) = embedded_store()?;
        let t0 = day.start_ms();
        let labels = odd_labels;
        for b in 0..3i64 {
            store
                .write_block(&tenant, day, 0, test_block(b, t0, &labels))
                .await?;
        }
        use architect_model::MatchOp::{Equal, RegexMatch};
        let m = |op, name: &str, value: &str| {
            architect_model::Matcher::new(op, name, value)
                .map_err(|e| StoreError::Task(e.to_string()))
        };
        let selections = [
            (vec![metric_m()?], 300),
            (vec![metric_m()?, m(Equal, "odd", "1")?], 150),
            (vec![metric_m()?, m(RegexMatch, "i", "1..")?], 100),
            (vec![metric_m()?, m(Equal, "i", "7")?], 1),
        ];
        for (matchers, count) in selections {
            let (start, end) = (t0 + 300_000, t0 + 2_300_000);
            let read = |values| {
                let blocks = store.blocks(&tenant, start, end);
                let matchers = &matchers;
                let store = &store;
                async move {
                    let mut got = store
                        .select_in(blocks.await?, matchers, start, end, values)
                        .await?;
                    got.sort_by(|a, b| a.labels.cmp(&b.labels));
                    Ok::<_, StoreError>(got)
                }
            };
            let all = read(crate::Values::All).await?;
            let presence = read(crate::Values::Presence).await?;
            assert_eq!(all.len(), count);
            assert_eq!(presence.len(), count);
            let (mut zeroed, mut kept) = (0, 0);
            for (a, p) in all.iter().zip(&presence) {
                assert_eq!(a.labels, p.labels);
                let times = |s: &[Sample]| s.iter().map(|x| x.t).collect::<Vec<_>>();
                assert_eq!(times(&a.samples), times(&p.samples), "{:?}", a.labels);
                for (x, y) in a.samples.iter().zip(&p.samples) {
                    if crate::decimal::min_scale(x.v).is_none() {
                        assert_eq!(x.v.to_bits(), y.v.to_bits(), "{:?} at {}", a.labels, x.t);
                        kept += 1;
                    } else if y.v.to_bits() != x.v.to_bits() {
                        assert_eq!(y.v, 0.0, "{:?} at {}", a.labels, x.t);
                        zeroed += 1;
                    }
                }
            }
            assert!(
                zeroed > 0 && kept > 0,
                "{count} series: {zeroed} zeroed, {kept} kept"
            );
        }
        Ok(())
    }

    /// Holds every GET for 5 ms (as a remote store takes tens) and records the most GETs in
    /// flight at once.
    #[derive(Debug, Default)]
    struct SlowReads {
        in_flight: Arc<AtomicUsize>,
        most: AtomicUsize,
    }

    #[async_trait::async_trait]
    impl ObjectsObserver for SlowReads {
        async fn get_started(&self, _kind: CallKind) -> CallGuard {
            let now = self.in_flight.fetch_add(1, SeqCst) + 1;
            self.most.fetch_max(now, SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            let in_flight = Arc::clone(&self.in_flight);
            CallGuard::on_end(move || {
                in_flight.fetch_sub(1, SeqCst);
            })
        }
    }

    /// With a remote store's read concurrency, a large selection over many blocks keeps that
    /// many block reads in flight (series-by-series reads would wait for one block after
    /// another in each share) and returns the same samples as the embedded setting.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn remote_stores_read_many_blocks_at_once() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Task(e.to_string()))?;
        let index = Arc::new(EmbeddedIndex::open(&dir.path().join("index.redb"))?);
        let reads = Arc::new(SlowReads::default());
        let objects: Arc<dyn ObjectStore> = Arc::new(ObservedObjects::new(
            Arc::new(InMemory::new()),
            Arc::clone(&reads) as _,
        ));
        let embedded = MetricsStore::new(
            Arc::clone(&objects),
            Arc::clone(&index) as _,
            &StoreConfig::default(),
        );
        let remote_config = StoreConfig {
            read_concurrency: 8,
            ..StoreConfig::default()
        };
        let remote = MetricsStore::new(objects, index, &remote_config);
        let tenant = TenantId::new("t1").map_err(|e| StoreError::Task(e.to_string()))?;
        let day = Day::of_ms(1_700_000_000_000);
        let t0 = day.start_ms();
        let labels = |i: usize| Labels::from_pairs([("__name__", "m"), ("i", &i.to_string())]);
        for b in 0..12i64 {
            embedded
                .write_block(&tenant, day, 0, test_block(b, t0, &labels))
                .await?;
        }
        let matcher = metric_m()?;
        let (start, end) = (t0, t0 + 12_000_000);
        let mut answers = Vec::new();
        let mut most = Vec::new();
        for store in [&embedded, &remote] {
            // The first query loads series tables and footers; the second only reads samples.
            store
                .select(&tenant, std::slice::from_ref(&matcher), start, end)
                .await?;
            reads.most.store(0, SeqCst);
            let got = store
                .select(&tenant, std::slice::from_ref(&matcher), start, end)
                .await?;
            most.push(reads.most.load(SeqCst));
            let mut got: Vec<(Labels, Vec<(i64, u64)>)> = got
                .into_iter()
                .map(|s| {
                    (
                        s.labels,
                        s.samples.iter().map(|x| (x.t, x.v.to_bits())).collect(),
                    )
                })
                .collect();
            got.sort();
            answers.push(got);
        }
        assert_eq!(answers[0].len(), 300);
        assert_eq!(answers[0], answers[1]);
        assert!(most[1] >= 6, "remote reads in flight: {most:?}");
        assert!(
            most[0] <= crate::store::cores() * super::SHARES_PER_CORE,
            "{most:?}"
        );
        Ok(())
    }
}
