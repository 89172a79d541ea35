//! Compaction end to end on a local-directory object store and the embedded index: queries
//! answer the same before and after, a second run changes nothing, garbage collection deletes
//! exactly the superseded objects, and a compactor killed at any index operation leaves the
//! data readable and correct, with the next run converging.

use architect_compactor::{Compactor, CompactorConfig, Progress, RunReport};
use architect_index::embedded::EmbeddedIndex;
use architect_index::{Condition, Index, IndexError, Item, Page, QueryRequest, WriteOp};
use architect_model::clock::{Clock, ManualClock};
use architect_model::time::{DAY_MS, Day};
use architect_model::{Labels, MatchOp, Matcher, STALE_NAN_BITS, Sample, SeriesId, TenantId};
use architect_store::{BlockData, MetricsStore, SeriesData, StoreConfig};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// An index that fails every call after the first `budget` (a compactor killed there).
#[derive(Debug)]
struct FailAfter {
    inner: Arc<dyn Index>,
    budget: AtomicUsize,
}

impl FailAfter {
    fn spend(&self) -> Result<(), IndexError> {
        let left = self.budget.load(Ordering::SeqCst);
        if left == 0 {
            return Err(IndexError::Unavailable("killed".into()));
        }
        self.budget.store(left - 1, Ordering::SeqCst);
        Ok(())
    }
}

#[async_trait::async_trait]
impl Index for FailAfter {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, IndexError> {
        self.spend()?;
        self.inner.get(pk, sk).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), IndexError> {
        self.spend()?;
        self.inner.put(item, condition).await
    }
    async fn delete(&self, pk: &str, sk: &str, condition: Condition) -> Result<(), IndexError> {
        self.spend()?;
        self.inner.delete(pk, sk, condition).await
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), IndexError> {
        self.spend()?;
        self.inner.transact(ops).await
    }
    async fn query(&self, request: QueryRequest) -> Result<Page, IndexError> {
        self.spend()?;
        self.inner.query(request).await
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    objects: Arc<dyn ObjectStore>,
    index: Arc<dyn Index>,
    clock: Arc<ManualClock>,
    tenant: TenantId,
    day: Day,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("objects")).expect("objects dir");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis() as i64;
        let clock = Arc::new(ManualClock::new(now));
        let index: Arc<dyn Index> = Arc::new(
            EmbeddedIndex::open_with_clock(
                &dir.path().join("index.redb"),
                Arc::clone(&clock) as Arc<dyn Clock>,
            )
            .expect("index"),
        );
        let objects: Arc<dyn ObjectStore> = Arc::new(
            LocalFileSystem::new_with_prefix(dir.path().join("objects")).expect("objects"),
        );
        Self {
            _dir: dir,
            objects,
            index,
            clock,
            tenant: TenantId::new("team-a").expect("tenant"),
            day: Day::of_ms(now - 3 * DAY_MS),
        }
    }

    fn store_with(&self, index: Arc<dyn Index>) -> Arc<MetricsStore> {
        let config = StoreConfig {
            compacted_max_row_group_rows: 2_000,
            ..StoreConfig::default()
        };
        Arc::new(
            MetricsStore::new(Arc::clone(&self.objects), index, &config)
                .with_clock(Arc::clone(&self.clock) as Arc<dyn Clock>),
        )
    }

    fn store(&self) -> Arc<MetricsStore> {
        self.store_with(Arc::clone(&self.index))
    }

    /// Level-0 blocks as several writers would leave them: overlapping series, repeated
    /// samples, out-of-order arrivals, staleness markers and one conflicting value.
    async fn write_level0(&self, blocks: usize) {
        let store = self.store();
        let t0 = self.day.start_ms() + 3_600_000;
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: u64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng % n
        };
        for b in 0..blocks {
            let mut series = Vec::new();
            for s in 0..30u64 {
                if next(3) == 0 {
                    continue;
                }
                let labels = Labels::from_pairs([
                    ("__name__", if s % 2 == 0 { "up" } else { "requests_total" }),
                    ("instance", &format!("host-{s}")),
                ]);
                let mut samples: Vec<Sample> = (0..(20 + next(40)))
                    .map(|_| {
                        let k = next(200) as i64;
                        let v = if next(25) == 0 {
                            f64::from_bits(STALE_NAN_BITS)
                        } else if b == 3 && k == 7 {
                            -1.0 // a conflicting value at a timestamp others hold
                        } else {
                            (s * 1000 + k as u64) as f64 / 4.0
                        };
                        Sample {
                            t: t0 + k * 15_000,
                            v,
                        }
                    })
                    .collect();
                samples.sort_by_key(|x| x.t);
                samples.dedup_by_key(|x| x.t);
                series.push(SeriesData {
                    id: SeriesId::of(self.tenant.as_str(), &labels),
                    labels,
                    samples,
                    ..SeriesData::default()
                });
            }
            store
                .write_block(
                    &self.tenant,
                    self.day,
                    0,
                    BlockData {
                        series,
                        metadata: vec![],
                    },
                )
                .await
                .expect("write level 0");
            // ULIDs order blocks: keep their creation times apart.
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    }

    /// Everything a query sees, bit-exact.
    async fn snapshot(&self) -> Vec<(Labels, Vec<(i64, u64)>)> {
        let all = Matcher::new(MatchOp::RegexMatch, "__name__", ".+").expect("matcher");
        let mut out: Vec<_> = self
            .store()
            .select(&self.tenant, &[all], self.day.start_ms(), self.day.end_ms())
            .await
            .expect("select")
            .into_iter()
            .map(|s| {
                (
                    s.labels,
                    s.samples.iter().map(|x| (x.t, x.v.to_bits())).collect(),
                )
            })
            .collect();
        out.sort();
        out
    }

    fn compactor_with(&self, index: Arc<dyn Index>) -> Compactor {
        let config = CompactorConfig {
            max_output_samples: 500, // several outputs per merge: a real group
            ..CompactorConfig::default()
        };
        Compactor::new(self.store_with(index), config)
    }

    async fn run(&self) -> RunReport {
        let report = self
            .compactor_with(Arc::clone(&self.index))
            .run(&|_: &Progress<'_>| {})
            .await
            .expect("run");
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        report
    }

    async fn object_count(&self) -> usize {
        use futures::StreamExt;
        self.objects.list(None).collect::<Vec<_>>().await.len()
    }

    /// Objects the visible blocks of the day reference.
    async fn referenced_objects(&self) -> usize {
        let part = self
            .store()
            .day_partition(&self.tenant, self.day)
            .await
            .expect("partition");
        part.blocks.iter().map(|b| b.parts.len()).sum()
    }
}

#[tokio::test]
async fn compaction_keeps_answers_is_idempotent_and_collects_garbage() {
    let f = Fixture::new();
    f.write_level0(6).await;
    let before = f.snapshot().await;
    let objects_before = f.object_count().await;

    let first = f.run().await;
    assert_eq!(first.input_blocks, 6);
    assert!(first.output_blocks >= 2, "several outputs: {first:?}");
    assert!(first.downsampled_blocks >= 2, "5m and 1h: {first:?}");
    assert_eq!(f.snapshot().await, before, "same answers after compaction");
    // Inputs stay until the grace period is over.
    assert_eq!(first.deleted_blocks, 0);

    let second = f.run().await;
    assert_eq!(
        (
            second.output_blocks,
            second.downsampled_blocks,
            second.input_blocks
        ),
        (0, 0, 0),
        "nothing left to do: {second:?}"
    );
    assert_eq!(f.snapshot().await, before);

    f.clock.advance_ms(2 * 3_600_000);
    let gc = f.run().await;
    assert_eq!(gc.deleted_blocks, 6, "{gc:?}");
    assert_eq!(f.snapshot().await, before);
    assert_eq!(f.object_count().await, f.referenced_objects().await);
    let part = f
        .store()
        .day_partition(&f.tenant, f.day)
        .await
        .expect("partition");
    assert!(
        part.blocks
            .iter()
            .all(|b| part.is_visible(b) && b.level >= 1)
    );
    // The data lies in the first of the day's output slices: the later, empty slices are not
    // written, and no leader item without data is left behind.
    assert!(
        part.blocks.iter().all(|b| !b.parts.is_empty()),
        "{:?}",
        part.blocks
    );
    assert!(objects_before > 0);
}

#[tokio::test]
async fn late_data_is_merged_into_the_closed_day_and_downsampled_again() {
    let f = Fixture::new();
    f.write_level0(3).await;
    f.run().await;
    f.write_level0(1).await;
    let before = f.snapshot().await;
    let report = f.run().await;
    assert!(report.input_blocks >= 2, "{report:?}");
    assert!(report.downsampled_blocks >= 2, "{report:?}");
    assert_eq!(f.snapshot().await, before);
    let part = f
        .store()
        .day_partition(&f.tenant, f.day)
        .await
        .expect("partition");
    for res in architect_compactor::RESOLUTIONS {
        let mut raw: Vec<String> = part.visible(0).into_iter().map(|b| b.ulid).collect();
        raw.sort();
        for b in part.visible(res) {
            assert_eq!(b.sources, raw, "downsampled from the current raw blocks");
        }
    }
}

#[tokio::test]
async fn a_compactor_killed_at_any_point_leaves_correct_data_and_the_next_run_converges() {
    // Count the index calls of a whole run, then kill runs at points spread over it.
    let calls = {
        let f = Fixture::new();
        f.write_level0(5).await;
        let counting = Arc::new(FailAfter {
            inner: Arc::clone(&f.index),
            budget: AtomicUsize::new(usize::MAX),
        });
        f.compactor_with(Arc::clone(&counting) as Arc<dyn Index>)
            .run(&|_: &Progress<'_>| {})
            .await
            .expect("run");
        usize::MAX - counting.budget.load(Ordering::SeqCst)
    };
    assert!(calls > 10, "a run makes {calls} index calls");
    let points: Vec<usize> = (1..=12).map(|k| k * calls / 13).collect();
    for budget in points {
        let f = Fixture::new();
        f.write_level0(5).await;
        let before = f.snapshot().await;
        let killed = Arc::new(FailAfter {
            inner: Arc::clone(&f.index),
            budget: AtomicUsize::new(budget),
        });
        let report = f
            .compactor_with(killed as Arc<dyn Index>)
            .run(&|_: &Progress<'_>| {})
            .await;
        // Killed: either the run fails outright or its partition does.
        assert!(
            report.as_ref().map_or(true, |r| !r.errors.is_empty()),
            "budget {budget} of {calls}: {report:?}"
        );
        assert_eq!(
            f.snapshot().await,
            before,
            "readable and correct after a kill at {budget}"
        );
        let part = f
            .store()
            .day_partition(&f.tenant, f.day)
            .await
            .expect("partition");
        let levels: std::collections::BTreeSet<u8> =
            part.visible(0).iter().map(|b| b.level).collect();
        assert!(
            levels.len() == 1,
            "either the inputs or the outputs are visible, never both: {levels:?}"
        );
        // The dead compactor's lease runs out; the next run finishes the job.
        f.clock.advance_ms(11 * 60_000);
        f.run().await;
        assert_eq!(
            f.snapshot().await,
            before,
            "converged after a kill at {budget}"
        );
        f.clock.advance_ms(7 * 3_600_000);
        f.run().await;
        assert_eq!(f.snapshot().await, before);
        let part = f
            .store()
            .day_partition(&f.tenant, f.day)
            .await
            .expect("partition");
        assert!(
            part.blocks.iter().all(|b| part.is_visible(b)),
            "only live blocks remain"
        );
        assert!(
            part.blocks.iter().all(|b| b.level >= 1),
            "level 0 merged away"
        );
        assert_eq!(
            f.object_count().await,
            f.referenced_objects().await,
            "no orphans"
        );
    }
}

#[tokio::test]
async fn retention_hides_at_once_and_deletes_after_the_grace_period() {
    let f = Fixture::new();
    f.write_level0(2).await;
    f.run().await;
    let index = Arc::clone(&f.index);
    architect_compactor::write_retention(
        index.as_ref(),
        &f.tenant,
        architect_compactor::Retention {
            raw_days: 2,
            res_5m_days: 0,
            res_1h_days: 0,
        },
    )
    .await
    .expect("retention");
    let report = f.run().await;
    assert_eq!(report.retired, 1, "{report:?}");
    assert!(
        f.snapshot().await.is_empty(),
        "raw data past retention is gone for readers"
    );
    let part = f
        .store()
        .day_partition(&f.tenant, f.day)
        .await
        .expect("partition");
    assert!(
        !part.visible(architect_compactor::RES_5M).is_empty(),
        "5m data is kept"
    );
    f.clock.advance_ms(2 * 3_600_000);
    f.run().await;
    let part = f
        .store()
        .day_partition(&f.tenant, f.day)
        .await
        .expect("partition");
    assert!(
        part.blocks.iter().all(|b| b.resolution_ms != 0),
        "raw blocks deleted"
    );
    assert_eq!(f.object_count().await, f.referenced_objects().await);
}

#[tokio::test]
async fn a_query_that_listed_the_inputs_before_the_switch_still_reads_them_within_the_grace_period()
{
    let f = Fixture::new();
    f.write_level0(3).await;
    // A query plans: it lists the visible blocks (the level-0 inputs) ...
    let listed = f
        .store()
        .day_partition(&f.tenant, f.day)
        .await
        .expect("partition")
        .visible(0);
    assert_eq!(listed.len(), 3);
    // ... the compactor switches to its outputs and collects garbage meanwhile ...
    let report = f.run().await;
    assert_eq!(report.input_blocks, 3);
    // ... and the query's reads of the blocks it listed still succeed.
    let store = f.store();
    for block in &listed {
        let refs: Vec<u32> = (0..block.series as u32).collect();
        let data = store
            .read_block_series(block, &refs)
            .await
            .expect("read during grace");
        assert_eq!(data.len(), block.series as usize);
    }
    // After the grace period the inputs are gone (and no reader lists them any more).
    f.clock.advance_ms(2 * 3_600_000);
    let gc = f.run().await;
    assert_eq!(gc.deleted_blocks, 3);
    let fresh = f.store();
    let refs: Vec<u32> = (0..listed[0].series as u32).collect();
    assert!(fresh.read_block_series(&listed[0], &refs).await.is_err());
}

/// Raw blocks of a counter (with a reset) and a gauge on each of `days`, one sample a minute
/// from `offset_ms` into the minute.
async fn write_days(f: &Fixture, days: &[Day], offset_ms: i64) {
    let store = f.store();
    for &day in days {
        let series: Vec<SeriesData> = [("requests_total", true), ("temperature", false)]
            .into_iter()
            .map(|(name, counter)| {
                let labels = Labels::from_pairs([("__name__", name), ("instance", "a")]);
                let samples = (0..1440i64)
                    .map(|m| {
                        let x = (day.0 * 1440 + m) as f64;
                        let v = if counter {
                            // Resets every 1,000 minutes.
                            (x % 1000.0) * 3.0 + offset_ms as f64 / 1e4
                        } else {
                            (x / 37.0).sin() * 10.0 + offset_ms as f64
                        };
                        Sample {
                            t: day.start_ms() + m * 60_000 + offset_ms,
                            v,
                        }
                    })
                    .collect();
                SeriesData {
                    id: SeriesId::of(f.tenant.as_str(), &labels),
                    labels,
                    samples,
                    ..SeriesData::default()
                }
            })
            .collect();
        store
            .write_block(
                &f.tenant,
                day,
                0,
                BlockData {
                    series,
                    metadata: vec![],
                },
            )
            .await
            .expect("write raw day");
    }
}

/// What long-range queries read from downsampled data over `days`, bit-exact, for each
/// aggregate a function can ask for.
async fn downsampled_answers(f: &Fixture, days: &[Day]) -> Vec<Vec<(Labels, Vec<(i64, u64)>)>> {
    use architect_store::downsampled::Aggregate;
    let all = Matcher::new(MatchOp::RegexMatch, "__name__", ".+").expect("matcher");
    let (first, last) = (days[0], days[days.len() - 1]);
    let mut out = Vec::new();
    for aggregate in [
        Aggregate::Average,
        Aggregate::Max,
        Aggregate::Counter,
        Aggregate::Count,
    ] {
        for (start, end, res) in [
            (first.start_ms(), last.end_ms(), architect_compactor::RES_5M),
            (
                first.start_ms() + 7_200_000,
                last.end_ms() - 3_600_000,
                architect_compactor::RES_1H,
            ),
        ] {
            let got = f
                .store()
                .select_downsampled(
                    &f.tenant,
                    std::slice::from_ref(&all),
                    start,
                    end,
                    res,
                    aggregate,
                )
                .await
                .expect("select downsampled");
            out.push(
                got.into_iter()
                    .map(|s| {
                        (
                            s.labels,
                            s.samples.iter().map(|x| (x.t, x.v.to_bits())).collect(),
                        )
                    })
                    .collect(),
            );
        }
    }
    out
}

/// Moves the objects of the day blocks of every downsampled resolution of `days` away (the
/// catalog still lists them); the blocks, and the moves to undo.
async fn hide_day_blocks(f: &Fixture, days: &[Day]) -> (usize, Vec<(Path, Path)>) {
    let (mut hidden, mut moves) = (0, Vec::new());
    for &day in days {
        let part = f
            .store()
            .day_partition(&f.tenant, day)
            .await
            .expect("partition");
        for res in architect_compactor::RESOLUTIONS {
            for b in part.visible(res) {
                for (p, _) in &b.parts {
                    let key = Path::from(b.key(*p));
                    let moved = Path::from(format!("hidden/{key}"));
                    f.objects.rename(&key, &moved).await.expect("move away");
                    moves.push((moved, key));
                }
                hidden += 1;
            }
        }
    }
    (hidden, moves)
}

fn compactor(f: &Fixture, spans: bool) -> Compactor {
    Compactor::new(
        f.store(),
        CompactorConfig {
            downsample_spans: spans,
            ..CompactorConfig::default()
        },
    )
}

async fn run_with(f: &Fixture, spans: bool) -> RunReport {
    let report = compactor(f, spans)
        .run(&|_: &Progress<'_>| {})
        .await
        .expect("run");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    report
}

#[tokio::test]
async fn span_blocks_answer_as_the_day_blocks_do_and_follow_late_data() {
    use architect_store::layout::{SPAN_DAYS, span_start};
    let (with_spans, days_only) = (Fixture::new(), Fixture::new());
    // Four closed days across a span boundary.
    let boundary = span_start(Day(with_spans.day.0 - 2));
    let days: Vec<Day> = (-2..2).map(|i| Day(boundary.0 + i)).collect();
    for f in [&with_spans, &days_only] {
        write_days(f, &days, 0).await;
    }
    let report = run_with(&with_spans, true).await;
    run_with(&days_only, false).await;
    // One span block per resolution for each of the two spans (two days each).
    assert_eq!(report.span_blocks, 4, "{report:?}");
    let anchor = with_spans
        .store()
        .day_partition(&with_spans.tenant, boundary)
        .await
        .expect("partition");
    let span = anchor.visible_spans(architect_compactor::RES_5M);
    assert_eq!(span.len(), 1);
    assert_eq!(span[0].span_days, SPAN_DAYS as u16);
    assert_eq!(span[0].sources.len(), 2, "the two days of the span");
    let expected = downsampled_answers(&days_only, &days).await;
    assert!(
        downsampled_answers(&with_spans, &days).await == expected,
        "as the day blocks"
    );
    assert_eq!(
        run_with(&with_spans, true).await.span_blocks,
        0,
        "nothing to redo"
    );
    // Served by the span blocks: without the day blocks' objects the answers stay the same.
    let (hidden, moves) = hide_day_blocks(&with_spans, &days).await;
    assert_eq!(hidden, 4 * 2, "two resolutions of four days");
    assert!(
        downsampled_answers(&with_spans, &days).await == expected,
        "from the span blocks"
    );
    for (from, to) in moves {
        with_spans
            .objects
            .rename(&from, &to)
            .await
            .expect("move back");
    }

    // Late data on a day of the second span: the day is downsampled again, and until its span
    // is rebuilt that day is read from its own blocks.
    for f in [&with_spans, &days_only] {
        write_days(f, &days[2..3], 30_000).await;
    }
    run_with(&with_spans, false).await;
    run_with(&days_only, false).await;
    let before = expected;
    let expected = downsampled_answers(&days_only, &days).await;
    assert!(expected != before, "the late data changes the answers");
    assert!(
        downsampled_answers(&with_spans, &days).await == expected,
        "the late day from its own blocks"
    );
    let report = run_with(&with_spans, true).await;
    assert_eq!(report.span_blocks, 2, "the second span rebuilt: {report:?}");
    assert!(
        downsampled_answers(&with_spans, &days).await == expected,
        "from the rebuilt span"
    );
}

#[tokio::test]
async fn a_span_past_retention_is_retired_with_its_first_day_and_not_built_again() {
    use architect_store::layout::span_start;
    let (with_spans, days_only) = (Fixture::new(), Fixture::new());
    let boundary = span_start(Day(with_spans.day.0 - 2));
    // Two days at the end of a span whose first day holds no data of its own.
    let days: Vec<Day> = vec![Day(boundary.0 - 2), Day(boundary.0 - 1)];
    let first = span_start(days[0]);
    for f in [&with_spans, &days_only] {
        write_days(f, &days, 0).await;
    }
    assert_eq!(run_with(&with_spans, true).await.span_blocks, 2);
    run_with(&days_only, false).await;
    // Downsampled data kept as long as the older day: the span's first day is past it.
    let today = Day::of_ms(with_spans.clock.now_ms());
    let keep = u32::try_from(today.0 - days[0].0 + 1).expect("days");
    assert!(i64::from(keep) < today.0 - first.0, "the first day expires");
    architect_compactor::write_retention(
        with_spans.index.as_ref(),
        &with_spans.tenant,
        architect_compactor::Retention {
            raw_days: 0,
            res_5m_days: keep,
            res_1h_days: keep,
        },
    )
    .await
    .expect("retention");
    let report = run_with(&with_spans, true).await;
    assert_eq!(
        report.retired, 2,
        "both resolutions of the first day: {report:?}"
    );
    assert_eq!(report.span_blocks, 0, "{report:?}");
    // The two days are still within retention: read from their own blocks.
    let expected = downsampled_answers(&days_only, &days).await;
    assert!(downsampled_answers(&with_spans, &days).await == expected);
    with_spans.clock.advance_ms(2 * 3_600_000);
    let report = run_with(&with_spans, true).await;
    assert_eq!(report.span_blocks, 0, "not built again: {report:?}");
    let anchor = with_spans
        .store()
        .day_partition(&with_spans.tenant, first)
        .await
        .expect("partition");
    assert!(anchor.blocks.is_empty(), "the span blocks are deleted");
    let days_left = with_spans
        .store()
        .days(&with_spans.tenant)
        .await
        .expect("days");
    assert_eq!(days_left, days, "the emptied first day is forgotten");
    let report = run_with(&with_spans, true).await;
    assert_eq!(report.span_blocks, 0, "not built again: {report:?}");
    assert!(downsampled_answers(&with_spans, &days).await == expected);
    assert_eq!(
        with_spans.object_count().await,
        with_spans_objects(&with_spans, &days).await
    );
}

/// Objects the catalog of `days` references (every block of each day's partition).
async fn with_spans_objects(f: &Fixture, days: &[Day]) -> usize {
    let mut n = 0;
    for &day in days {
        let part = f
            .store()
            .day_partition(&f.tenant, day)
            .await
            .expect("partition");
        n += part.blocks.iter().map(|b| b.parts.len()).sum::<usize>();
    }
    n
}

#[tokio::test]
async fn a_compactor_killed_while_writing_spans_leaves_correct_answers_and_converges() {
    use architect_store::layout::span_start;
    let days_only = Fixture::new();
    let boundary = span_start(Day(days_only.day.0 - 2));
    let days: Vec<Day> = (-2..2).map(|i| Day(boundary.0 + i)).collect();
    let anchors = [span_start(days[0]), boundary];
    write_days(&days_only, &days, 0).await;
    run_with(&days_only, false).await;
    let expected = downsampled_answers(&days_only, &days).await;
    // Several span blocks per group, so that a kill can fall between the members' commits.
    let compactor = |f: &Fixture, index: Arc<dyn Index>| {
        Compactor::new(
            f.store_with(index),
            CompactorConfig {
                max_output_samples: 2_000,
                ..CompactorConfig::default()
            },
        )
    };
    // Days compacted and downsampled, spans not built yet.
    let prepared = || async {
        let f = Fixture::new();
        write_days(&f, &days, 0).await;
        run_with(&f, false).await;
        f
    };
    let calls = {
        let f = prepared().await;
        let counting = Arc::new(FailAfter {
            inner: Arc::clone(&f.index),
            budget: AtomicUsize::new(usize::MAX),
        });
        let report = compactor(&f, Arc::clone(&counting) as Arc<dyn Index>)
            .run(&|_: &Progress<'_>| {})
            .await
            .expect("run");
        assert!(
            report.span_blocks > 4,
            "groups of several blocks: {report:?}"
        );
        usize::MAX - counting.budget.load(Ordering::SeqCst)
    };
    for budget in (1..=12).map(|k| k * calls / 13) {
        let f = prepared().await;
        let killed = Arc::new(FailAfter {
            inner: Arc::clone(&f.index),
            budget: AtomicUsize::new(budget),
        });
        let report = compactor(&f, killed as Arc<dyn Index>)
            .run(&|_: &Progress<'_>| {})
            .await;
        assert!(
            report.as_ref().map_or(true, |r| !r.errors.is_empty()),
            "budget {budget} of {calls}: {report:?}"
        );
        assert!(
            downsampled_answers(&f, &days).await == expected,
            "correct after a kill at {budget} of {calls}"
        );
        f.clock.advance_ms(11 * 60_000);
        let mut all_days = days.clone();
        all_days.extend(anchors);
        all_days.sort();
        all_days.dedup();
        compactor(&f, Arc::clone(&f.index))
            .run(&|_: &Progress<'_>| {})
            .await
            .expect("next run");
        assert!(
            downsampled_answers(&f, &days).await == expected,
            "converged after a kill at {budget}"
        );
        for anchor in anchors {
            let part = f
                .store()
                .day_partition(&f.tenant, anchor)
                .await
                .expect("partition");
            for res in architect_compactor::RESOLUTIONS {
                assert!(
                    !part.visible_spans(res).is_empty(),
                    "span built at {budget}"
                );
            }
        }
        f.clock.advance_ms(7 * 3_600_000);
        compactor(&f, Arc::clone(&f.index))
            .run(&|_: &Progress<'_>| {})
            .await
            .expect("collecting run");
        assert_eq!(
            f.object_count().await,
            with_spans_objects(&f, &all_days).await,
            "no orphans after a kill at {budget}"
        );
    }
}
