//! The conformance suite every object store the service runs on must pass (the local directory
//! and S3, or an emulator of it): the behaviour [`MetricsStore`] and the Parquet reader rely on,
//! pinned down once so that a backend that differs fails here rather than in production.
//!
//! Each `case_*` function exercises one behaviour on a [`Fixture`] and panics with a message
//! naming what broke; cases write only under the key prefix they are given (the block case under
//! its own tenant), so they can share one bucket. [`run_all`] runs every case;
//! [`objects_conformance_tests!`](crate::objects_conformance_tests) expands into one
//! `#[tokio::test]` per case, each on a fixture its factory builds (`None` skips the test, for a
//! missing emulator):
//!
//! ```ignore
//! architect_store::objects_conformance_tests!(|_test: &'static str| async move {
//!     let dir = tempfile::tempdir().expect("temporary directory");
//!     Some(Fixture::new(objects_in(&dir), index_in(&dir), dir))
//! });
//! ```
//!
//! The calling crate needs `tokio` (with `macros` and `rt-multi-thread`).

use crate::{BlockData, MetricsStore, SeriesData, StoreConfig};
use architect_index::Index;
use architect_model::time::Day;
use architect_model::{Labels, Matcher, Sample, SeriesId, TenantId};
use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use bytes::Bytes;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{
    CopyMode, CopyOptions, GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutMode, PutOptions,
    PutPayload, WriteMultipart,
};
use parquet::arrow::ArrowWriter;
// Deprecated upstream, but it is what the store reads through (see `read.rs`).
#[allow(deprecated)]
use parquet::arrow::async_reader::{ParquetObjectReader, ParquetRecordBatchStreamBuilder};
use std::any::Any;
use std::sync::Arc;

/// Size of the object the multipart case writes: more than one part of
/// [`MULTIPART_PART_BYTES`](crate::MULTIPART_PART_BYTES), with a short last part.
pub const LARGE_OBJECT_BYTES: usize = 12 * 1024 * 1024;

/// Every case, by name (the test names [`objects_conformance_tests!`](crate::objects_conformance_tests)
/// generates).
pub const CASES: [&str; 10] = [
    "put_get_round_trip",
    "ranged_reads",
    "parquet_object_reader",
    "head_reports_size",
    "list_with_prefix",
    "delete_removes",
    "missing_key_is_not_found",
    "conditional_create_refuses_to_clobber",
    "multipart_upload_round_trips",
    "block_round_trip",
];

/// An object store under test, the index the block case catalogues into, and whatever must
/// live as long as they do (a temporary directory, an emulator process).
pub struct Fixture {
    /// The store under test.
    pub objects: Arc<dyn ObjectStore>,
    /// The index for [`case_block_round_trip`].
    pub index: Arc<dyn Index>,
    _guard: Box<dyn Any + Send + Sync>,
}

impl std::fmt::Debug for Fixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fixture")
            .field("objects", &self.objects.to_string())
            .finish_non_exhaustive()
    }
}

impl Fixture {
    /// A fixture keeping `guard` alive as long as the store.
    pub fn new(
        objects: Arc<dyn ObjectStore>,
        index: Arc<dyn Index>,
        guard: impl Any + Send + Sync,
    ) -> Self {
        Self {
            objects,
            index,
            _guard: Box::new(guard),
        }
    }
}

/// Runs the case called `name` (one of [`CASES`]) under `prefix`.
pub async fn run_case(name: &str, fixture: &Fixture, prefix: &str) {
    let store = fixture.objects.as_ref();
    match name {
        "put_get_round_trip" => case_put_get_round_trip(store, prefix).await,
        "ranged_reads" => case_ranged_reads(store, prefix).await,
        "parquet_object_reader" => case_parquet_object_reader(&fixture.objects, prefix).await,
        "head_reports_size" => case_head_reports_size(store, prefix).await,
        "list_with_prefix" => case_list_with_prefix(store, prefix).await,
        "delete_removes" => case_delete_removes(store, prefix).await,
        "missing_key_is_not_found" => case_missing_key_is_not_found(store, prefix).await,
        "conditional_create_refuses_to_clobber" => {
            case_conditional_create_refuses_to_clobber(store, prefix).await
        }
        "multipart_upload_round_trips" => case_multipart_upload_round_trips(store, prefix).await,
        "block_round_trip" => case_block_round_trip(fixture, prefix).await,
        other => panic!("no object store conformance case {other}"),
    }
}

/// Runs every case, each under `prefix/<case>`.
pub async fn run_all(fixture: &Fixture, prefix: &str) {
    for name in CASES {
        run_case(name, fixture, &format!("{prefix}/{name}")).await;
    }
}

/// One `#[tokio::test]` per case. `$factory` is called with the case name and returns a future
/// of `Option<Fixture>`; `None` skips the case (the factory says why).
#[macro_export]
macro_rules! objects_conformance_tests {
    ($factory:expr) => {
        $crate::objects_conformance_tests!(@cases $factory;
            put_get_round_trip,
            ranged_reads,
            parquet_object_reader,
            head_reports_size,
            list_with_prefix,
            delete_removes,
            missing_key_is_not_found,
            conditional_create_refuses_to_clobber,
            multipart_upload_round_trips,
            block_round_trip
        );
    };
    (@cases $factory:expr; $($case:ident),+) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let name = stringify!($case);
                let fixture: Option<$crate::objects_conformance::Fixture> = ($factory)(name).await;
                let Some(fixture) = fixture else { return };
                $crate::objects_conformance::run_case(name, &fixture, &format!("conformance/{name}")).await;
            }
        )+
    };
}

/// Deterministic incompressible bytes (xorshift64*), so failures reproduce.
pub fn pseudo_random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.max(1);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        out.extend_from_slice(&x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

fn key(prefix: &str, name: &str) -> Path {
    Path::from(format!("{prefix}/{name}"))
}

async fn get_all(store: &dyn ObjectStore, path: &Path) -> Bytes {
    let got = store
        .get(path)
        .await
        .unwrap_or_else(|e| panic!("get {path}: {e}"));
    got.bytes()
        .await
        .unwrap_or_else(|e| panic!("get {path} body: {e}"))
}

async fn put(store: &dyn ObjectStore, path: &Path, data: &[u8]) {
    store
        .put(path, PutPayload::from(data.to_vec()))
        .await
        .unwrap_or_else(|e| panic!("put {path}: {e}"));
}

/// What is put is what is got, byte for byte, including an empty object; an overwrite (the
/// default mode) replaces the object.
pub async fn case_put_get_round_trip(store: &dyn ObjectStore, prefix: &str) {
    let path = key(prefix, "object.bin");
    let data = pseudo_random_bytes(100_003, 1);
    put(store, &path, &data).await;
    assert_eq!(
        get_all(store, &path).await,
        data,
        "get returns what put wrote"
    );

    let replaced = pseudo_random_bytes(777, 2);
    put(store, &path, &replaced).await;
    assert_eq!(
        get_all(store, &path).await,
        replaced,
        "an overwriting put replaces the object"
    );

    let empty = key(prefix, "empty.bin");
    put(store, &empty, &[]).await;
    assert!(
        get_all(store, &empty).await.is_empty(),
        "an empty object reads back empty"
    );
}

/// `get_range`, `get_ranges` (unsorted and overlapping, as the Parquet reader asks for column
/// chunks) and the bounded, offset and suffix ranges of `get_opts` return exactly those bytes.
pub async fn case_ranged_reads(store: &dyn ObjectStore, prefix: &str) {
    let path = key(prefix, "ranged.bin");
    let data = pseudo_random_bytes(300_001, 3);
    put(store, &path, &data).await;
    let len = data.len() as u64;
    let slice = |r: std::ops::Range<u64>| &data[r.start as usize..r.end as usize];

    for range in [
        0..1,
        0..8,
        1000..1001,
        12_345..200_000,
        len - 8..len,
        0..len,
    ] {
        let got = store
            .get_range(&path, range.clone())
            .await
            .unwrap_or_else(|e| panic!("get_range {range:?}: {e}"));
        assert_eq!(got, slice(range.clone()), "get_range {range:?}");
    }

    // Column chunks: unsorted and overlapping. Then small ranges, as a Parquet reader asks
    // for the pages of a column chunk: adjacent, a little apart, overlapping, empty and out of
    // order.
    let chunks = [
        200_000..200_100,
        0..10,
        5..50_000,
        len - 1..len,
        100_000..100_001,
        5..50_000,
    ];
    let pages = [
        40_000..40_100,
        40_100..40_300,
        40_500..41_000,
        10..20,
        40_050..40_150,
        70_000..70_000,
        90_000..90_010,
        20..30,
    ];
    for ranges in [&chunks[..], &pages[..]] {
        let got = store
            .get_ranges(&path, ranges)
            .await
            .unwrap_or_else(|e| panic!("get_ranges {ranges:?}: {e}"));
        assert_eq!(got.len(), ranges.len(), "get_ranges answers every range");
        for (g, r) in got.iter().zip(ranges) {
            assert_eq!(g, slice(r.clone()), "get_ranges part {r:?}");
        }
    }

    for (range, want) in [
        (GetRange::Bounded(10..20), 10..20),
        (GetRange::Offset(len - 100), len - 100..len),
        (GetRange::Suffix(8), len - 8..len),
    ] {
        let opts = GetOptions {
            range: Some(range.clone()),
            ..GetOptions::default()
        };
        let got = store
            .get_opts(&path, opts)
            .await
            .unwrap_or_else(|e| panic!("get_opts {range:?}: {e}"));
        assert_eq!(got.range, want, "get_opts {range:?} reports its range");
        assert_eq!(
            got.meta.size, len,
            "get_opts {range:?} reports the object size"
        );
        let bytes = got
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("get_opts {range:?} body: {e}"));
        assert_eq!(bytes, slice(want), "get_opts {range:?}");
    }
}

/// A Parquet file reads back through `ParquetObjectReader`, with and without its size known
/// (without it, the reader asks for a suffix range for the footer).
#[allow(deprecated)]
pub async fn case_parquet_object_reader(store: &Arc<dyn ObjectStore>, prefix: &str) {
    let path = key(prefix, "file.parquet");
    let rows = 50_000i64;
    let t: ArrayRef = Arc::new(Int64Array::from_iter_values(0..rows));
    let v: ArrayRef = Arc::new(Float64Array::from_iter_values(
        (0..rows).map(|i| i as f64 * 0.5),
    ));
    let batch = RecordBatch::try_from_iter([("t", t), ("v", v)])
        .unwrap_or_else(|e| panic!("record batch: {e}"));
    let mut file = Vec::new();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(10_000))
        .build();
    let mut writer = ArrowWriter::try_new(&mut file, batch.schema(), Some(props))
        .unwrap_or_else(|e| panic!("parquet writer: {e}"));
    writer
        .write(&batch)
        .unwrap_or_else(|e| panic!("parquet write: {e}"));
    writer
        .close()
        .unwrap_or_else(|e| panic!("parquet close: {e}"));
    let size = file.len() as u64;
    put(store.as_ref(), &path, &file).await;

    for known_size in [Some(size), None] {
        let mut reader = ParquetObjectReader::new(Arc::clone(store), path.clone());
        if let Some(size) = known_size {
            reader = reader.with_file_size(size);
        }
        let builder = ParquetRecordBatchStreamBuilder::new(reader)
            .await
            .unwrap_or_else(|e| panic!("parquet footer (size {known_size:?}): {e}"));
        assert_eq!(builder.metadata().num_row_groups(), 5, "row groups");
        // The last two row groups only: ranged reads of their column chunks.
        let stream = builder
            .with_row_groups(vec![3, 4])
            .build()
            .unwrap_or_else(|e| panic!("parquet stream: {e}"));
        let batches: Vec<RecordBatch> = stream
            .try_collect()
            .await
            .unwrap_or_else(|e| panic!("parquet read (size {known_size:?}): {e}"));
        let got: Vec<i64> = batches
            .iter()
            .flat_map(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .map(|a| a.values().to_vec())
                    .unwrap_or_default()
            })
            .collect();
        assert_eq!(
            got,
            (30_000..rows).collect::<Vec<_>>(),
            "row groups 3 and 4 (size {known_size:?})"
        );
    }
}

/// `head` reports the location and size without reading the object.
pub async fn case_head_reports_size(store: &dyn ObjectStore, prefix: &str) {
    let path = key(prefix, "head.bin");
    put(store, &path, &pseudo_random_bytes(4242, 4)).await;
    let meta = store
        .head(&path)
        .await
        .unwrap_or_else(|e| panic!("head {path}: {e}"));
    assert_eq!(meta.location, path, "head location");
    assert_eq!(meta.size, 4242, "head size");
}

/// `list` under a prefix returns every object below it (recursively) and nothing else — not
/// siblings whose names merely start with the same characters; `list_with_delimiter` returns
/// one level.
pub async fn case_list_with_prefix(store: &dyn ObjectStore, prefix: &str) {
    for name in ["a/x", "a/y", "a/z/w", "ab/x", "b/x"] {
        put(store, &key(prefix, name), name.as_bytes()).await;
    }
    let under = key(prefix, "a");
    let mut listed: Vec<(String, u64)> = store
        .list(Some(&under))
        .map_ok(|m| (m.location.to_string(), m.size))
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("list {under}: {e}"));
    listed.sort();
    let want: Vec<(String, u64)> = ["a/x", "a/y", "a/z/w"]
        .iter()
        .map(|n| (format!("{prefix}/{n}"), n.len() as u64))
        .collect();
    assert_eq!(listed, want, "list {under}");

    let level = store
        .list_with_delimiter(Some(&under))
        .await
        .unwrap_or_else(|e| panic!("list_with_delimiter {under}: {e}"));
    let mut objects: Vec<String> = level
        .objects
        .iter()
        .map(|m| m.location.to_string())
        .collect();
    objects.sort();
    assert_eq!(
        objects,
        vec![format!("{prefix}/a/x"), format!("{prefix}/a/y")],
        "list_with_delimiter objects"
    );
    let dirs: Vec<String> = level.common_prefixes.iter().map(Path::to_string).collect();
    assert_eq!(
        dirs,
        vec![format!("{prefix}/a/z")],
        "list_with_delimiter prefixes"
    );

    let none = key(prefix, "nothing-here");
    let empty: Vec<_> = store
        .list(Some(&none))
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("list {none}: {e}"));
    assert!(empty.is_empty(), "list of an empty prefix is empty");
}

/// `delete` removes the object: it is gone for get, head and list. Deleting a missing key is
/// either a success (S3) or `NotFound` (the local directory), never another error.
pub async fn case_delete_removes(store: &dyn ObjectStore, prefix: &str) {
    let path = key(prefix, "doomed.bin");
    put(store, &path, b"soon gone").await;
    store
        .delete(&path)
        .await
        .unwrap_or_else(|e| panic!("delete {path}: {e}"));
    assert!(
        matches!(
            store.head(&path).await,
            Err(object_store::Error::NotFound { .. })
        ),
        "head after delete is NotFound"
    );
    assert!(
        matches!(
            store.get(&path).await,
            Err(object_store::Error::NotFound { .. })
        ),
        "get after delete is NotFound"
    );
    let listed: Vec<_> = store
        .list(Some(&Path::from(prefix)))
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("list {prefix}: {e}"));
    assert!(listed.is_empty(), "list after delete: {listed:?}");
    match store.delete(&path).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
        Err(e) => panic!("deleting a missing key: {e}"),
    }
}

/// Reading a key that does not exist is `NotFound` (which readers tell apart from transient
/// failures), for get, ranged get and head.
pub async fn case_missing_key_is_not_found(store: &dyn ObjectStore, prefix: &str) {
    let path = key(prefix, "never-written.bin");
    let is_not_found = |r: &object_store::Error| matches!(r, object_store::Error::NotFound { .. });
    match store.get(&path).await {
        Err(e) => assert!(is_not_found(&e), "get of a missing key: {e}"),
        Ok(_) => panic!("get of a missing key succeeded"),
    }
    match store.get_range(&path, 0..10).await {
        Err(e) => assert!(is_not_found(&e), "get_range of a missing key: {e}"),
        Ok(_) => panic!("get_range of a missing key succeeded"),
    }
    match store.head(&path).await {
        Err(e) => assert!(is_not_found(&e), "head of a missing key: {e}"),
        Ok(_) => panic!("head of a missing key succeeded"),
    }
}

/// `PutMode::Create` writes a new key and refuses an existing one with `AlreadyExists`, leaving
/// it untouched; so does `CopyMode::Create` (how `MetricsStore` lands large objects).
pub async fn case_conditional_create_refuses_to_clobber(store: &dyn ObjectStore, prefix: &str) {
    let path = key(prefix, "once.bin");
    let create = || PutOptions {
        mode: PutMode::Create,
        ..PutOptions::default()
    };
    store
        .put_opts(&path, PutPayload::from_static(b"first"), create())
        .await
        .unwrap_or_else(|e| panic!("conditional create of a new key: {e}"));
    match store
        .put_opts(&path, PutPayload::from_static(b"second"), create())
        .await
    {
        Err(object_store::Error::AlreadyExists { .. }) => {}
        Err(e) => panic!("conditional create of an existing key: expected AlreadyExists, got {e}"),
        Ok(_) => panic!("conditional create overwrote an existing key"),
    }
    assert_eq!(
        get_all(store, &path).await,
        &b"first"[..],
        "the existing object is untouched"
    );

    let copy_create = || CopyOptions {
        mode: CopyMode::Create,
        ..CopyOptions::default()
    };
    let source = key(prefix, "source.bin");
    put(store, &source, b"copied").await;
    let fresh = key(prefix, "copy-target.bin");
    store
        .copy_opts(&source, &fresh, copy_create())
        .await
        .unwrap_or_else(|e| panic!("copy-if-not-exists to a new key: {e}"));
    assert_eq!(
        get_all(store, &fresh).await,
        &b"copied"[..],
        "copied object"
    );
    match store.copy_opts(&source, &path, copy_create()).await {
        Err(object_store::Error::AlreadyExists { .. }) => {}
        Err(e) => {
            panic!("copy-if-not-exists onto an existing key: expected AlreadyExists, got {e}")
        }
        Ok(()) => panic!("copy-if-not-exists overwrote an existing key"),
    }
    assert_eq!(
        get_all(store, &path).await,
        &b"first"[..],
        "the existing object is untouched by the refused copy"
    );
}

/// A [`LARGE_OBJECT_BYTES`] object written with a multipart upload (parts of
/// [`MULTIPART_PART_BYTES`](crate::MULTIPART_PART_BYTES)) reads back byte-exact, whole and
/// across a part boundary.
pub async fn case_multipart_upload_round_trips(store: &dyn ObjectStore, prefix: &str) {
    let path = key(prefix, "large.bin");
    let data = pseudo_random_bytes(LARGE_OBJECT_BYTES, 5);
    let upload = store
        .put_multipart(&path)
        .await
        .unwrap_or_else(|e| panic!("start multipart upload: {e}"));
    let mut writer = WriteMultipart::new_with_chunk_size(upload, crate::MULTIPART_PART_BYTES);
    // Written in odd-sized pieces: the writer cuts the parts.
    for piece in data.chunks(1_000_003) {
        writer
            .wait_for_capacity(4)
            .await
            .unwrap_or_else(|e| panic!("multipart part: {e}"));
        writer.write(piece);
    }
    writer
        .finish()
        .await
        .unwrap_or_else(|e| panic!("complete multipart upload: {e}"));
    let meta = store
        .head(&path)
        .await
        .unwrap_or_else(|e| panic!("head {path}: {e}"));
    assert_eq!(
        meta.size, LARGE_OBJECT_BYTES as u64,
        "multipart object size"
    );
    let got = get_all(store, &path).await;
    assert!(
        got == data,
        "multipart object differs from what was written"
    );
    let boundary = crate::MULTIPART_PART_BYTES as u64;
    let across = boundary - 1000..boundary + 1000;
    let got = store
        .get_range(&path, across.clone())
        .await
        .unwrap_or_else(|e| panic!("get_range across a part boundary: {e}"));
    assert_eq!(
        got,
        &data[across.start as usize..across.end as usize],
        "across a part boundary"
    );
}

/// A block written by [`MetricsStore::write_block`] on this store reads back bit-exact through
/// `select` and `series`, once with single conditional PUTs and once with every part forced
/// through the multipart path; and no staging objects are left behind.
pub async fn case_block_round_trip(fixture: &Fixture, prefix: &str) {
    // Block keys start with the tenant; derive one from the prefix so cases can share a bucket.
    let tenant_name: String = prefix
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let tenant = TenantId::new(&tenant_name).unwrap_or_else(|e| panic!("tenant: {e}"));
    let day = Day::of_ms(1_700_000_000_000);
    let t0 = day.start_ms();
    let series = |name: &str, inst: &str, samples: Vec<Sample>| {
        let labels = Labels::from_pairs([("__name__", name), ("instance", inst)]);
        SeriesData {
            id: SeriesId::of(tenant.as_str(), &labels),
            labels,
            samples,
            ..Default::default()
        }
    };
    let values = [0.25, 1e300, -0.0, 0.1 + 0.2, f64::INFINITY, f64::NAN, 42.0];
    let samples: Vec<Sample> = values
        .iter()
        .enumerate()
        .map(|(i, v)| Sample {
            t: t0 + i as i64 * 15_000,
            v: *v,
        })
        .collect();
    let bits = |s: &[Sample]| s.iter().map(|x| (x.t, x.v.to_bits())).collect::<Vec<_>>();
    for (round, threshold) in [(0u8, usize::MAX), (1u8, 0)] {
        let config = StoreConfig {
            multipart_threshold_bytes: threshold,
            ..StoreConfig::default()
        };
        let store = MetricsStore::new(
            Arc::clone(&fixture.objects),
            Arc::clone(&fixture.index),
            &config,
        );
        let name = format!("conformance_round_{round}");
        let data = BlockData {
            series: vec![
                series(&name, "a", samples.clone()),
                series(&name, "b", vec![Sample { t: t0, v: 7.0 }]),
            ],
            metadata: vec![],
        };
        let meta = store
            .write_block(&tenant, day, 0, data)
            .await
            .unwrap_or_else(|e| panic!("write_block (threshold {threshold}): {e}"))
            .unwrap_or_else(|| panic!("write_block wrote nothing"));
        for (part, size) in &meta.parts {
            let head = fixture
                .objects
                .head(&Path::from(meta.key(*part)))
                .await
                .unwrap_or_else(|e| panic!("head {}: {e}", meta.key(*part)));
            assert_eq!(head.size, *size, "catalogued size of {}", meta.key(*part));
        }
        let got = store
            .select(
                &tenant,
                &[
                    Matcher::equal("__name__", &name),
                    Matcher::equal("instance", "a"),
                ],
                t0,
                t0 + 3_600_000,
            )
            .await
            .unwrap_or_else(|e| panic!("select: {e}"));
        assert_eq!(got.len(), 1, "one series selected");
        assert_eq!(bits(&got[0].samples), bits(&samples), "samples bit-exact");
        let listed = store
            .series(
                &tenant,
                &[Matcher::equal("__name__", &name)],
                t0,
                t0 + 3_600_000,
            )
            .await
            .unwrap_or_else(|e| panic!("series: {e}"));
        assert_eq!(listed.len(), 2, "series of round {round}");
    }
    let keys: Vec<String> = fixture
        .objects
        .list(Some(&Path::from(tenant.as_str())))
        .map_ok(|m| m.location.to_string())
        .try_collect()
        .await
        .unwrap_or_else(|e| panic!("list {tenant_name}: {e}"));
    assert!(
        keys.iter().all(|k| k.ends_with(".parquet")),
        "only block objects remain (no multipart staging objects): {keys:?}"
    );
    assert!(
        keys.len() >= 4,
        "two blocks of at least two parts: {keys:?}"
    );
}
