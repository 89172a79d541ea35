//! How many object store and index calls one flush and one `query_range` cost in serve mode, on
//! S3 + DynamoDB (the emulator): the service is assembled in-process as `architect_service::run`
//! assembles it, with the object store and the index wrapped in counting decorators, and driven
//! through its HTTP router. The counts are printed (they feed `docs/cost.md`) and bounded loosely
//! so a regression that multiplies requests fails.
//!
//! The object store decorator ([`ObservedObjects`]) leaves `get_ranges` to the trait's default,
//! which coalesces ranges and issues one ranged GET per coalesced range — what `AmazonS3`
//! does — so `get_range` counts are S3 GET requests.

use architect_api::{ApiState, HttpLimits, QueryLimits};
use architect_index::{Index, IndexError, Item, Page, QueryRequest, WriteOp};
use architect_ingester::{Ingester, IngesterConfig};
use architect_model::clock::{Clock, SystemClock};
use architect_model::{Limits, TenantId};
use architect_protocols::prompb::{Label, Sample, TimeSeries, WriteRequest};
use architect_service::StorageConfig;
use architect_service::backends::{open_index, open_objects};
use architect_store::{MetricsStore, StoreConfig};
use architect_testkit::Emulator;
use architect_testkit::objects::{CallKind, ObjectsObserver, ObservedObjects};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use object_store::ObjectStore;
use prost::Message;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

/// Calls by kind.
#[derive(Debug, Default)]
struct Counts(Mutex<BTreeMap<&'static str, u64>>);

impl Counts {
    fn add(&self, kind: &'static str) {
        if let Ok(mut m) = self.0.lock() {
            *m.entry(kind).or_default() += 1;
        }
    }

    fn take(&self) -> BTreeMap<&'static str, u64> {
        self.0
            .lock()
            .map(|mut m| std::mem::take(&mut *m))
            .unwrap_or_default()
    }
}

/// The store settings `architect_service::run` gives an S3 object store.
fn s3_store_config() -> StoreConfig {
    StoreConfig {
        read_concurrency: architect_store::REMOTE_READ_CONCURRENCY,
        ..StoreConfig::default()
    }
}

/// Object store calls are counted by kind.
impl ObjectsObserver for Counts {
    fn called(&self, kind: CallKind) {
        self.add(kind);
    }
}

/// An index that counts the calls made on it.
#[derive(Debug)]
struct CountingIndex {
    inner: Arc<dyn Index>,
    counts: Arc<Counts>,
}

#[async_trait::async_trait]
impl Index for CountingIndex {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, IndexError> {
        self.counts.add("get");
        self.inner.get(pk, sk).await
    }

    async fn put(
        &self,
        item: Item,
        condition: architect_index::Condition,
    ) -> Result<(), IndexError> {
        self.counts.add("put");
        self.inner.put(item, condition).await
    }

    async fn delete(
        &self,
        pk: &str,
        sk: &str,
        condition: architect_index::Condition,
    ) -> Result<(), IndexError> {
        self.counts.add("delete");
        self.inner.delete(pk, sk, condition).await
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), IndexError> {
        self.counts.add("transact");
        self.inner.transact(ops).await
    }

    async fn query(&self, request: QueryRequest) -> Result<Page, IndexError> {
        self.counts.add("query");
        self.inner.query(request).await
    }
}

async fn call(app: &axum::Router, request: Request<Body>) -> (StatusCode, String) {
    let response = app.clone().oneshot(request).await.expect("router call");
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 64 << 20)
        .await
        .expect("response body");
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn write_body(t: i64, series: usize, samples: usize) -> Vec<u8> {
    let request = WriteRequest {
        timeseries: (0..series)
            .map(|s| TimeSeries {
                labels: vec![
                    Label::new("__name__", "cost_metric"),
                    Label::new("instance", &format!("host-{s:03}")),
                    Label::new("job", "cost"),
                ],
                samples: (0..samples)
                    .map(|k| Sample {
                        value: (s * 1000 + k) as f64,
                        timestamp: t + k as i64 * 15_000,
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
        metadata: vec![],
    };
    architect_protocols::snappy::compress(&request.encode_to_vec())
}

/// S3 + DynamoDB on the emulator, wrapped in counting decorators.
struct Counted {
    _emulator: Emulator,
    _dir: tempfile::TempDir,
    dir_path: std::path::PathBuf,
    objects: Arc<dyn ObjectStore>,
    index: Arc<dyn Index>,
    object_counts: Arc<Counts>,
    index_counts: Arc<Counts>,
}

async fn counted_storage(name: &str) -> Option<Counted> {
    let emulator = Emulator::start_or_skip(name).await?;
    let bucket = emulator.create_bucket(name).await.expect("bucket");
    let table = emulator.create_table(name).await.expect("table");
    let storage = StorageConfig::emulated(bucket, table, emulator.region(), emulator.endpoint());
    let dir = tempfile::tempdir().expect("temporary directory");
    let object_counts = Arc::new(Counts::default());
    let index_counts = Arc::new(Counts::default());
    let objects: Arc<dyn ObjectStore> = Arc::new(ObservedObjects::new(
        open_objects(&storage, dir.path()).await.expect("objects"),
        Arc::clone(&object_counts) as _,
    ));
    let index: Arc<dyn Index> = Arc::new(CountingIndex {
        inner: open_index(&storage, dir.path()).await.expect("index"),
        counts: Arc::clone(&index_counts),
    });
    Some(Counted {
        _emulator: emulator,
        dir_path: dir.path().to_path_buf(),
        _dir: dir,
        objects,
        index,
        object_counts,
        index_counts,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_per_flush_and_per_query_range_on_s3_and_dynamodb() {
    let Some(Counted {
        _emulator,
        _dir,
        dir_path,
        objects,
        index,
        object_counts,
        index_counts,
    }) = counted_storage("call-counts").await
    else {
        return;
    };
    let store = Arc::new(MetricsStore::new(objects, index, &s3_store_config()));
    let ingester = Ingester::open(
        IngesterConfig {
            wal_dir: dir_path.join("wal"),
            ..IngesterConfig::default()
        },
        Arc::clone(&store),
    )
    .await
    .expect("ingester");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let state = Arc::new(ApiState::new(
        Arc::clone(&ingester) as Arc<dyn architect_ingester::WritePath>,
        Arc::clone(&ingester) as Arc<dyn architect_ingester::HeadReader>,
        Some(ingester.metrics()),
        store,
        Limits::default(),
        HttpLimits::default(),
        QueryLimits::default(),
        TenantId::new("anonymous").expect("tenant"),
        clock,
    ));
    let app = architect_api::router(state);

    let now = architect_model::clock::SystemClock.now_ms();
    let (series, samples) = (100, 120);
    // Half an hour of samples ending at least half an hour ago, inside one UTC day (the flush
    // writes a block per day, and the counts below are those of one block).
    let span = (samples as i64 - 1) * 15_000;
    let mut t = (now - 3_600_000) / 60_000 * 60_000;
    let midnight = now / architect_model::time::DAY_MS * architect_model::time::DAY_MS;
    if t < midnight && t + span >= midnight {
        t = midnight - 3_600_000;
    }
    let push = Request::post("/api/v1/push")
        .header("Content-Type", "application/x-protobuf")
        .header("Content-Encoding", "snappy")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .header("X-Scope-OrgID", "cost")
        .body(Body::from(write_body(t, series, samples)))
        .expect("request");
    let (status, body) = call(&app, push).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let write_objects = object_counts.take();
    let write_index = index_counts.take();

    let flush = Request::post("/api/v1/admin/flush")
        .body(Body::empty())
        .expect("request");
    let (status, body) = call(&app, flush).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let flush_objects = object_counts.take();
    let flush_index = index_counts.take();

    let end = t + span;
    let uri = format!(
        "/api/v1/query_range?query=sum%20by%20(job)%20(rate(cost_metric%5B5m%5D))&start={}&end={}&step=60",
        t / 1000,
        end / 1000
    );
    let mut queries = Vec::new();
    for _ in 0..2 {
        let request = Request::get(uri.as_str())
            .header("X-Scope-OrgID", "cost")
            .body(Body::empty())
            .expect("request");
        let (status, body) = call(&app, request).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains("\"matrix\""), "{body}");
        queries.push((object_counts.take(), index_counts.take()));
    }

    eprintln!(
        "CALL COUNTS ({series} series x {samples} samples, one tenant, one day; S3 + DynamoDB)"
    );
    eprintln!("  remote_write (head + WAL only): objects {write_objects:?}, index {write_index:?}");
    eprintln!("  flush ({body}): objects {flush_objects:?}, index {flush_index:?}");
    for (i, (o, x)) in queries.iter().enumerate() {
        let cache = if i == 0 { "cold caches" } else { "warm caches" };
        eprintln!(
            "  query_range #{} ({cache}): objects {o:?}, index {x:?}",
            i + 1
        );
    }

    // remote_write itself touches neither store; a flush writes one block (one conditional PUT
    // per part, one transaction); a query range reads a handful of objects.
    assert!(write_objects.is_empty() && write_index.is_empty());
    assert_eq!(flush_index.get("transact"), Some(&1), "{flush_index:?}");
    let puts = flush_objects.get("put").copied().unwrap_or(0);
    assert!((2..=5).contains(&puts), "{flush_objects:?}");
    let cold: u64 = queries[0].0.values().sum();
    assert!(
        cold <= 20,
        "a cold query_range over one block: {:?}",
        queries[0].0
    );
}

/// Object-store and index calls of one compaction pass over a closed day of eight level-0
/// blocks, and of a one-day `query_range` (1 h step) from raw and from 5 m data afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_per_compaction_and_per_downsampled_query_on_s3_and_dynamodb() {
    use architect_compactor::{Compactor, CompactorConfig, Progress};
    use architect_model::time::{DAY_MS, Day};
    use architect_store::{BlockData, SeriesData};

    let Some(Counted {
        _emulator,
        _dir,
        dir_path: _,
        objects,
        index,
        object_counts,
        index_counts,
    }) = counted_storage("call-counts-compaction").await
    else {
        return;
    };
    let store = Arc::new(MetricsStore::new(
        Arc::clone(&objects),
        Arc::clone(&index),
        &s3_store_config(),
    ));
    let tenant = TenantId::new("cost").expect("tenant");
    let now = SystemClock.now_ms();
    let day = Day::of_ms(now - 2 * DAY_MS);
    // Eight flushes of three hours each: 100 series of a counter at 15 s.
    let (series, blocks) = (100usize, 8usize);
    for b in 0..blocks {
        let t0 = day.start_ms() + b as i64 * 3 * 3_600_000;
        let data = BlockData {
            series: (0..series)
                .map(|s| {
                    let labels = architect_model::Labels::from_pairs([
                        ("__name__", "cost_metric"),
                        ("instance", &format!("host-{s:03}")),
                        ("job", "cost"),
                    ]);
                    SeriesData {
                        id: architect_model::SeriesId::of("cost", &labels),
                        labels,
                        samples: (0..720)
                            .map(|k| architect_model::Sample {
                                t: t0 + k * 15_000,
                                v: ((b * 720) as i64 + k) as f64 * (s + 1) as f64,
                            })
                            .collect(),
                        ..SeriesData::default()
                    }
                })
                .collect(),
            metadata: vec![],
        };
        store
            .write_block(&tenant, day, 0, data)
            .await
            .expect("level-0 block");
    }
    object_counts.take();
    index_counts.take();

    let compactor = Compactor::new(
        Arc::clone(&store),
        CompactorConfig {
            settle_secs: 0,
            grace_period_secs: 0,
            ..CompactorConfig::default()
        },
    );
    let report = compactor
        .run(&|_: &Progress<'_>| {})
        .await
        .expect("compaction");
    assert!(report.errors.is_empty(), "{report:?}");
    let compact_objects = object_counts.take();
    let compact_index = index_counts.take();

    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // A fresh store, as a query function's: cold caches.
    let store = Arc::new(MetricsStore::new(objects, index, &s3_store_config()));
    let head = Arc::new(architect_ingester::DirectWriter::new(Arc::clone(&store)));
    let state = Arc::new(ApiState::new(
        Arc::clone(&head) as Arc<dyn architect_ingester::WritePath>,
        head as Arc<dyn architect_ingester::HeadReader>,
        None,
        store,
        Limits::default(),
        HttpLimits::default(),
        QueryLimits::default(),
        tenant.clone(),
        clock,
    ));
    let app = architect_api::query_router(state);
    let mut queries = Vec::new();
    for resolution in ["raw", "5m"] {
        let uri = format!(
            "/api/v1/query_range?query=sum%20by%20(job)%20(rate(cost_metric%5B1h%5D))&start={}&end={}&step=3600&max_source_resolution={resolution}",
            day.start_ms() / 1000 + 3600,
            day.end_ms() / 1000
        );
        let request = Request::get(uri.as_str())
            .header("X-Scope-OrgID", "cost")
            .body(Body::empty())
            .expect("request");
        let (status, body) = call(&app, request).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains("\"matrix\""), "{body}");
        queries.push((resolution, object_counts.take(), index_counts.take()));
    }

    eprintln!(
        "CALL COUNTS, compaction of {blocks} level-0 blocks ({series} series x 24 h at 15 s)"
    );
    eprintln!(
        "  compaction pass ({report:?}):\n    objects {compact_objects:?}, index {compact_index:?}"
    );
    for (resolution, o, x) in &queries {
        eprintln!(
            "  query_range 1 day step 1h from {resolution} (cold caches): objects {o:?}, index {x:?}"
        );
    }
    assert_eq!(report.input_blocks, blocks as u64, "{report:?}");
    assert_eq!(report.deleted_blocks, blocks as u64, "{report:?}");
    // The switch: one transaction per output (each with the lease check), nothing per input.
    let transactions = compact_index.get("transact").copied().unwrap_or(0);
    assert!(
        transactions <= report.output_blocks + report.downsampled_blocks + 2,
        "{compact_index:?}"
    );
}

/// Object-store and index calls of one rule-evaluation cycle: 10 groups of 10 rules (recording
/// and alerting) over data still in the ingester's head and data already flushed to a block,
/// evaluated by one ruler pass (`POST /api/v1/admin/rules/evaluate`), then a pass with nothing
/// due.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_per_rule_evaluation_cycle_on_s3_and_dynamodb() {
    let Some(Counted {
        _emulator,
        _dir,
        dir_path,
        objects,
        index,
        object_counts,
        index_counts,
    }) = counted_storage("rule-cycle").await
    else {
        return;
    };
    let store = Arc::new(MetricsStore::new(objects, index, &s3_store_config()));
    let ingester = Ingester::open(
        IngesterConfig {
            wal_dir: dir_path.join("wal"),
            ..IngesterConfig::default()
        },
        Arc::clone(&store),
    )
    .await
    .expect("ingester");
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let state = ApiState::new(
        Arc::clone(&ingester) as Arc<dyn architect_ingester::WritePath>,
        Arc::clone(&ingester) as Arc<dyn architect_ingester::HeadReader>,
        Some(ingester.metrics()),
        store,
        Limits::default(),
        HttpLimits::default(),
        QueryLimits::default(),
        TenantId::new("anonymous").expect("tenant"),
        clock,
    );
    let ruler = Arc::new(architect_api::ruler_for(&state));
    let app = architect_api::router(Arc::new(state.with_ruler(ruler)));

    // An hour of data, flushed to a block, then the last minutes again in the head.
    let now = SystemClock.now_ms();
    let t = (now - 3_600_000) / 60_000 * 60_000;
    for (start, samples, flush) in [(t, 230, true), (now - 120_000, 8, false)] {
        let push = Request::post("/api/v1/push")
            .header("Content-Type", "application/x-protobuf")
            .header("Content-Encoding", "snappy")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .header("X-Scope-OrgID", "cost")
            .body(Body::from(write_body(start, 100, samples)))
            .expect("request");
        let (status, body) = call(&app, push).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        if flush {
            let (status, body) = call(
                &app,
                Request::post("/api/v1/admin/flush")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    }
    for g in 0..10 {
        let mut group = format!("name: g{g}\ninterval: 1m\nrules:\n");
        for r in 0..5 {
            group.push_str(&format!(
                "- record: cost:rate5m:{r}\n  expr: sum by (job) (rate(cost_metric[5m])) * {r}\n  labels: {{group: g{g}}}\n"
            ));
            group.push_str(&format!(
                "- alert: CostHigh{r}\n  expr: max_over_time(cost_metric[10m]) > {}\n  for: 5m\n",
                r * 100_000
            ));
        }
        let upload = Request::post(format!("/config/v1/rules/ns{g}"))
            .header("X-Scope-OrgID", "cost")
            .body(Body::from(group))
            .expect("request");
        let (status, body) = call(&app, upload).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    }
    object_counts.take();
    index_counts.take();

    let mut passes = Vec::new();
    for _ in 0..2 {
        let (status, body) = call(
            &app,
            Request::post("/api/v1/admin/rules/evaluate")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        passes.push((body, object_counts.take(), index_counts.take()));
    }
    eprintln!("CALL COUNTS (rule cycle: 10 groups x 10 rules over 100 series; S3 + DynamoDB)");
    for (i, (report, o, x)) in passes.iter().enumerate() {
        eprintln!("  pass #{}: {report}: objects {o:?}, index {x:?}", i + 1);
    }
    let first: serde_json::Value = serde_json::from_str(&passes[0].0).expect("report");
    assert_eq!(first["evaluations"], 10, "{first}");
    // Bounds, so a regression that multiplies requests fails: per rule, one catalog query
    // (the day's partition, shared by the float and histogram reads) and a few block reads;
    // per group, one state read and one state write.
    let queries = passes[0].2.get("query").copied().unwrap_or(0);
    assert!(queries <= 150, "{:?}", passes[0].2);
    assert_eq!(passes[0].2.get("put"), Some(&10), "{:?}", passes[0].2);
    let reads: u64 = passes[0].1.values().sum();
    assert!(reads <= 500, "{:?}", passes[0].1);
    // The next pass, a moment later, finds (almost) nothing due: one state read per group,
    // work only for a group whose slot it crossed.
    let second: serde_json::Value = serde_json::from_str(&passes[1].0).expect("report");
    assert!(
        second["evaluations"].as_u64().is_some_and(|n| n <= 2),
        "{second}"
    );
    assert_eq!(passes[1].2.get("get"), Some(&10), "{:?}", passes[1].2);
}
