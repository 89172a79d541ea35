//! The ingester role: durable acceptance of writes and the hot window of data.
//!
//! A write is appended to the in-memory head (`head.rs`) (which refuses conflicting duplicates and
//! drops identical ones), then logged in the write-ahead log (`wal.rs`): as the sender's body
//! when the head stored it whole ([`WireBody`]), else as its new data only; the caller is
//! answered only after the WAL record is fsynced (group commit: concurrent writes share one
//! fsync). Every few minutes, or as soon as the head grows past its size limit, the head is
//! *cut*: it is frozen, a new one takes writes, the WAL moves to a new segment, the frozen head
//! is encoded, from its own memory, into one Parquet block per tenant and day, and once those
//! blocks are committed in the index the WAL segments that held the frozen data are deleted. On
//! start the WAL is replayed into the head.
//!
//! Ordering invariant: head insertion and WAL enqueue happen under the read side of the cut lock
//! and the cut under its write side, so a record lands in a WAL segment below the cut boundary if
//! and only if its data is in the frozen head. A crash anywhere therefore loses nothing that was
//! acknowledged; at worst a block is written twice, which readers merge (one sample per timestamp).

mod head;
mod hot;
mod metrics;
mod wal;

pub use hot::{
    DirectWriter, HeadReader, HeadWant, RemoteIngester, RemoteOutcome, WritePath, encode_select,
    encode_series, routes,
};
pub use metrics::IngesterMetrics;
pub use wal::WalError;

use architect_model::{Labels, Matcher, SeriesId, TenantId, WriteRequest};
use architect_protocols::remote_write::WriteVersion;
use architect_store::{
    BlockMeta, BlockOptions, MetricsStore, SeriesSamples, StoreError, merge_samples,
};
use head::Head;
use parking_lot::{Mutex, RwLock};
use prost::Message;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Ingester settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngesterConfig {
    /// Directory of WAL segments.
    pub wal_dir: PathBuf,
    /// Cut the head at least this often (seconds).
    pub flush_interval_secs: u64,
    /// Cut the head once it holds this many samples.
    pub max_head_samples: usize,
    /// Refuse writes with 429 while the head holds more than this many samples (flushes are not
    /// keeping up).
    pub max_head_samples_hard: usize,
    /// Start a new WAL segment after this many bytes.
    pub wal_segment_bytes: u64,
}

impl Default for IngesterConfig {
    fn default() -> Self {
        Self {
            wal_dir: PathBuf::from("data/wal"),
            flush_interval_secs: 300,
            max_head_samples: 2_000_000,
            max_head_samples_hard: 16_000_000,
            wal_segment_bytes: 128 * 1024 * 1024,
        }
    }
}

/// Ingester failures.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The WAL could not be written: the write is not acknowledged (transient, 5xx).
    #[error("write-ahead log: {0}")]
    Wal(String),
    /// The head is over its hard limit (429).
    #[error("ingester is overloaded: {held} samples held in memory, limit {limit}")]
    Overloaded {
        /// Samples held.
        held: usize,
        /// Limit.
        limit: usize,
    },
    /// Writing blocks failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// WAL replay failed at start.
    #[error(transparent)]
    Replay(#[from] WalError),
    /// The ingester container could not be reached or failed (transient, 5xx).
    #[error("{0}")]
    Remote(String),
    /// The ingester container is over its hard limit (429).
    #[error("{0}")]
    RemoteOverloaded(String),
}

/// What a write stored.
#[derive(Debug, Default, Clone)]
pub struct WriteOutcome {
    /// New float samples.
    pub samples: usize,
    /// New histogram samples.
    pub histograms: usize,
    /// New exemplars.
    pub exemplars: usize,
    /// Identical samples that were already held (retries).
    pub duplicates: usize,
    /// Why the first refused sample was refused, if any (the request still stored the rest).
    pub first_error: Option<String>,
}

/// What a flush wrote.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct FlushStats {
    /// Blocks committed.
    pub blocks: usize,
    /// Float samples written.
    pub samples: u64,
    /// Series written (summed over blocks).
    pub series: u64,
    /// Bytes written.
    pub bytes: u64,
}

/// WAL record body: the tenant and its validated, de-duplicated write.
#[derive(Clone, PartialEq, prost::Message)]
struct WalWrite {
    #[prost(string, tag = "1")]
    tenant: String,
    #[prost(message, optional, tag = "2")]
    write: Option<architect_protocols::prompb::WriteRequest>,
}

/// A request's body as it came off the wire: snappy-compressed protobuf of `version`. Passed
/// with a write only when it holds exactly the request being written (nothing refused or
/// rewritten before the head): the WAL then logs these bytes instead of encoding the request
/// again, which was a fifth of the ingest CPU. A write the head refuses part of is logged as
/// its accepted part, as before.
#[derive(Clone, Debug)]
pub struct WireBody {
    /// Which message the body holds.
    pub version: WriteVersion,
    /// The snappy-compressed message.
    pub snappy: bytes::Bytes,
}

/// The tenant and request of a replayed WAL record; `None` (logged) for one that cannot be
/// read, which is skipped.
fn replayed_write(r: wal::Record) -> Option<(String, WriteRequest)> {
    let snappy = |payload: &[u8]| match architect_protocols::snappy::decompress(payload, usize::MAX)
    {
        Ok(raw) => Some(raw),
        Err(e) => {
            tracing::error!(error = %e, "wal: undecompressable record skipped");
            None
        }
    };
    match r.kind {
        wal::KIND_WRITE | wal::KIND_WRITE_SNAPPY => {
            let payload = if r.kind == wal::KIND_WRITE {
                r.payload
            } else {
                snappy(&r.payload)?
            };
            match WalWrite::decode(payload.as_slice()) {
                Ok(w) => {
                    let body = w.write.unwrap_or_default().encode_to_vec();
                    let decoded = architect_protocols::remote_write::decode_v1(&body).ok()?;
                    Some((w.tenant, decoded.request))
                }
                Err(e) => {
                    tracing::error!(error = %e, "wal: undecodable record skipped");
                    None
                }
            }
        }
        wal::KIND_WIRE_WRITE => {
            let (&version, rest) = r.payload.split_first()?;
            let len = usize::from(u16::from_le_bytes(rest.get(..2)?.try_into().ok()?));
            let tenant = std::str::from_utf8(rest.get(2..2 + len)?).ok()?.to_string();
            let raw = snappy(rest.get(2 + len..)?)?;
            let decoded = match version {
                1 => architect_protocols::remote_write::decode_v1(&raw),
                2 => architect_protocols::remote_write::decode_v2(&raw),
                _ => return None,
            };
            match decoded {
                Ok(d) => Some((tenant, d.request)),
                Err(e) => {
                    tracing::error!(error = %e, "wal: undecodable record skipped");
                    None
                }
            }
        }
        _ => None,
    }
}

/// Writes a head's data of `tenant` as level-0 blocks, one per day, encoded from the head's
/// memory on a blocking thread, and commits them.
async fn write_blocks(
    store: &MetricsStore,
    head: &Arc<Head>,
    tenant: &TenantId,
) -> Result<Vec<BlockMeta>, IngestError> {
    let options = BlockOptions::default();
    let props = store.writer_properties(&options);
    let (encoding_head, name) = (Arc::clone(head), tenant.as_str().to_string());
    let encoded = tokio::task::spawn_blocking(move || encoding_head.encode_blocks(&name, &props))
        .await
        .map_err(|e| IngestError::Store(StoreError::Task(e.to_string())))??;
    let mut out = Vec::with_capacity(encoded.len());
    for (day, block) in encoded {
        out.push(
            store
                .commit_encoded(tenant, day, block, options.clone())
                .await?,
        );
    }
    Ok(out)
}

struct Frozen {
    head: Arc<Head>,
    /// Every WAL segment below this holds only data of this or older heads.
    wal_boundary: u64,
}

/// The ingester. See the crate docs.
pub struct Ingester {
    config: IngesterConfig,
    store: Arc<MetricsStore>,
    head: RwLock<Arc<Head>>,
    frozen: Mutex<Vec<Arc<Frozen>>>,
    cut_lock: RwLock<()>,
    flush_lock: tokio::sync::Mutex<()>,
    wal: wal::Wal,
    ready: AtomicBool,
    metrics: IngesterMetrics,
    /// Woken when a write leaves the head at or over `max_head_samples`.
    head_full: tokio::sync::Notify,
}

impl std::fmt::Debug for Ingester {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingester")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Ingester {
    /// Opens the ingester: replays the WAL into the head, then starts taking writes.
    pub async fn open(
        config: IngesterConfig,
        store: Arc<MetricsStore>,
    ) -> Result<Arc<Self>, IngestError> {
        let head = Arc::new(Head::default());
        let dir = config.wal_dir.clone();
        let replay_head = Arc::clone(&head);
        let (next_seq, records) = tokio::task::spawn_blocking(move || {
            let mut records = 0usize;
            let next = wal::replay(&dir, |r| {
                if let Some((tenant, request)) = replayed_write(r) {
                    replay_head.append(&tenant, request);
                    records += 1;
                }
            })?;
            Ok::<_, WalError>((next, records))
        })
        .await
        .map_err(|e| IngestError::Wal(e.to_string()))??;
        tracing::info!(records, samples = head.len(), "wal replayed");
        let wal = wal::Wal::start(config.wal_dir.clone(), next_seq, config.wal_segment_bytes)?;
        let metrics = IngesterMetrics::default();
        metrics.head_samples.set(head.len() as i64);
        Ok(Arc::new(Self {
            config,
            store,
            head: RwLock::new(head),
            frozen: Mutex::new(Vec::new()),
            cut_lock: RwLock::new(()),
            flush_lock: tokio::sync::Mutex::new(()),
            wal,
            ready: AtomicBool::new(true),
            metrics,
            head_full: tokio::sync::Notify::new(),
        }))
    }

    /// True once the WAL is replayed (always, after [`Ingester::open`] returns).
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// The store blocks are written to.
    pub fn store(&self) -> &Arc<MetricsStore> {
        &self.store
    }

    /// Self-monitoring metrics.
    pub fn metrics(&self) -> &IngesterMetrics {
        &self.metrics
    }

    fn held(&self) -> usize {
        self.head.read().len()
            + self
                .frozen
                .lock()
                .iter()
                .map(|f| f.head.len())
                .sum::<usize>()
    }

    /// Stores a validated request durably. Returns once the new data is fsynced in the WAL.
    /// `wire`, when given, is the request's body as received (see [`WireBody`]).
    pub async fn write(
        &self,
        tenant: &TenantId,
        req: WriteRequest,
        wire: Option<&WireBody>,
    ) -> Result<WriteOutcome, IngestError> {
        let held = self.held();
        if held > self.config.max_head_samples_hard {
            return Err(IngestError::Overloaded {
                held,
                limit: self.config.max_head_samples_hard,
            });
        }
        let (appended, done) = {
            let _cut = self.cut_lock.read();
            let head = Arc::clone(&self.head.read());
            let appended = head.append(tenant.as_str(), req);
            let nothing_new =
                appended.accepted.series.is_empty() && appended.accepted.metadata.is_empty();
            let tenant_len = u16::try_from(tenant.as_str().len()).ok();
            let done = match (wire, tenant_len) {
                _ if nothing_new => None,
                // Stored whole: each of its samples was new or equal to the head's, so replaying
                // the body, in any order against other records, adds exactly what was added now.
                (Some(w), Some(len)) if appended.first_error.is_none() => {
                    let version: u8 = match w.version {
                        WriteVersion::V1 => 1,
                        WriteVersion::V2 => 2,
                    };
                    Some(self.wal.append(
                        wal::KIND_WIRE_WRITE,
                        &[
                            &[version],
                            &len.to_le_bytes(),
                            tenant.as_str().as_bytes(),
                            &w.snappy,
                        ],
                    ))
                }
                _ => {
                    let record = WalWrite {
                        tenant: tenant.as_str().to_string(),
                        write: Some(architect_protocols::remote_write::to_v1(&appended.accepted)),
                    };
                    let payload = architect_protocols::snappy::compress(&record.encode_to_vec());
                    Some(self.wal.append(wal::KIND_WRITE_SNAPPY, &[&payload]))
                }
            };
            (appended, done)
        };
        if let Some(done) = done {
            done.await
                .map_err(|_| IngestError::Wal("writer stopped".into()))?
                .map_err(IngestError::Wal)?;
        }
        let a = &appended.accepted;
        let outcome = WriteOutcome {
            samples: a.sample_count(),
            histograms: a.histogram_count(),
            exemplars: a.exemplar_count(),
            duplicates: appended.duplicates,
            first_error: appended.first_error.map(|e| e.to_string()),
        };
        self.metrics.record_write(&outcome);
        let held = self.head.read().len();
        self.metrics.head_samples.set(held as i64);
        if held >= self.config.max_head_samples {
            self.head_full.notify_one();
        }
        Ok(outcome)
    }

    /// True when the head should be cut now.
    pub fn flush_due(&self) -> bool {
        let head = self.head.read();
        let n = head.len();
        n >= self.config.max_head_samples
            || (n > 0 && head.age() >= Duration::from_secs(self.config.flush_interval_secs))
    }

    /// Cuts the head and writes it (and any earlier frozen head whose flush failed) into blocks.
    /// Returns when the blocks are committed and the covered WAL segments are deleted.
    pub async fn flush(&self) -> Result<FlushStats, IngestError> {
        let _flush = self.flush_lock.lock().await;
        let rotated = {
            let _cut = self.cut_lock.write();
            let old = std::mem::replace(&mut *self.head.write(), Arc::new(Head::default()));
            (old.len() > 0).then(|| (old, self.wal.rotate()))
        };
        if let Some((old, rotated)) = rotated {
            let wal_boundary = rotated
                .await
                .map_err(|_| IngestError::Wal("writer stopped".into()))?
                .map_err(IngestError::Wal)?;
            self.frozen.lock().push(Arc::new(Frozen {
                head: old,
                wal_boundary,
            }));
        }
        let mut stats = FlushStats::default();
        loop {
            let Some(frozen) = self.frozen.lock().first().cloned() else {
                break;
            };
            for tenant in frozen.head.tenants() {
                let tenant_id =
                    TenantId::new(&tenant).map_err(|e| IngestError::Wal(e.to_string()))?;
                for meta in write_blocks(&self.store, &frozen.head, &tenant_id).await? {
                    stats.blocks += 1;
                    stats.samples += meta.samples;
                    stats.series += meta.series;
                    stats.bytes += meta.bytes;
                    tracing::debug!(tenant = %tenant, day = %meta.day.iso(), samples = meta.samples, bytes = meta.bytes, "block committed");
                }
            }
            self.wal.remove_below(frozen.wal_boundary).await?;
            self.frozen.lock().retain(|f| !Arc::ptr_eq(f, &frozen));
            drop(frozen);
            // The head's memory is free now; without this it stays resident for the
            // allocator's purge delay, while the next head fills.
            architect_alloc::release_free_memory_now();
        }
        self.metrics.record_flush(&stats);
        self.metrics.head_samples.set(self.head.read().len() as i64);
        if stats.blocks > 0 {
            tracing::info!(
                blocks = stats.blocks,
                samples = stats.samples,
                bytes = stats.bytes,
                "head flushed"
            );
        }
        Ok(stats)
    }

    /// Runs the periodic flush until `shutdown` resolves, then flushes once more.
    pub async fn run_flush_loop(self: Arc<Self>, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            // A check every second (age, earlier failures), and at once when a write fills the
            // head: waiting for the tick let the head grow by a second of writes past its limit.
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tick.tick() => {}
                _ = self.head_full.notified() => {}
            }
            let due = self.flush_due() || !self.frozen.lock().is_empty();
            if due && let Err(e) = self.flush().await {
                tracing::error!(error = %e, "flush failed; will retry");
            }
        }
    }

    fn heads(&self) -> Vec<Arc<Head>> {
        let mut heads: Vec<Arc<Head>> = self
            .frozen
            .lock()
            .iter()
            .map(|f| Arc::clone(&f.head))
            .collect();
        heads.push(Arc::clone(&self.head.read()));
        heads
    }

    /// Float samples of matching series in `[start, end]` held in memory (not yet in blocks).
    pub fn select(
        &self,
        tenant: &TenantId,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Vec<SeriesSamples> {
        let mut out: HashMap<Labels, SeriesSamples> = HashMap::new();
        for head in self.heads() {
            for s in head.select(tenant.as_str(), matchers, start, end) {
                match out.get_mut(&s.labels) {
                    Some(e) => e.samples = merge_samples(std::mem::take(&mut e.samples), s.samples),
                    None => {
                        out.insert(s.labels.clone(), s);
                    }
                }
            }
        }
        out.into_values().collect()
    }

    /// Native histograms of matching series in `[start, end]` held in memory.
    pub fn select_histograms(
        &self,
        tenant: &TenantId,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Vec<(Labels, Vec<architect_model::Histogram>)> {
        let mut out: HashMap<Labels, Vec<architect_model::Histogram>> = HashMap::new();
        for head in self.heads() {
            for (l, hs) in head.select_histograms(tenant.as_str(), matchers, start, end) {
                let entry = out.entry(l).or_default();
                for h in hs {
                    if let Err(i) = entry.binary_search_by_key(&h.t, |x| x.t) {
                        entry.insert(i, h);
                    }
                }
            }
        }
        out.into_iter().collect()
    }

    /// Metric metadata of the tenant held in memory (newest head wins per metric family).
    pub fn metadata(&self, tenant: &TenantId) -> Vec<architect_model::MetricMetadata> {
        let mut out: HashMap<String, architect_model::MetricMetadata> = HashMap::new();
        for head in self.heads() {
            for m in head.metadata(tenant.as_str()) {
                out.insert(m.metric_family.clone(), m);
            }
        }
        out.into_values().collect()
    }

    /// Exemplars of matching series in `[start, end]` held in memory.
    pub fn exemplars(
        &self,
        tenant: &TenantId,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Vec<(Labels, Vec<architect_model::Exemplar>)> {
        let mut out: HashMap<Labels, Vec<architect_model::Exemplar>> = HashMap::new();
        for head in self.heads() {
            for (l, ex) in head.exemplars(tenant.as_str(), matchers, start, end) {
                out.entry(l).or_default().extend(ex);
            }
        }
        out.into_iter().collect()
    }

    /// Matching series with data in `[start, end]` held in memory.
    pub fn series(
        &self,
        tenant: &TenantId,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Vec<(SeriesId, Labels)> {
        let mut out = HashMap::new();
        for head in self.heads() {
            for (id, l) in head.series(tenant.as_str(), matchers, start, end) {
                out.insert(l, id);
            }
        }
        out.into_iter().map(|(l, id)| (id, l)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use architect_index::embedded::EmbeddedIndex;
    use architect_model::{Sample, SeriesWrite};
    use architect_store::StoreConfig;
    use object_store::memory::InMemory;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn request(t0: i64, n: i64) -> WriteRequest {
        WriteRequest {
            series: vec![SeriesWrite {
                labels: Labels::from_pairs([("__name__", "m"), ("job", "j")]),
                samples: (0..n)
                    .map(|i| Sample {
                        t: t0 + i * 1000,
                        v: i as f64 * 0.5,
                    })
                    .collect(),
                ..Default::default()
            }],
            metadata: vec![],
        }
    }

    /// A store on memory with its index in `dir`, and an ingester configuration with its WAL
    /// there.
    fn store_and_config(
        dir: &std::path::Path,
    ) -> Result<(Arc<MetricsStore>, IngesterConfig), Box<dyn std::error::Error>> {
        let index = Arc::new(EmbeddedIndex::open(&dir.join("index.redb"))?);
        let store = Arc::new(MetricsStore::new(
            Arc::new(InMemory::new()),
            index,
            &StoreConfig::default(),
        ));
        let config = IngesterConfig {
            wal_dir: dir.join("wal"),
            ..Default::default()
        };
        Ok((store, config))
    }

    #[tokio::test]
    async fn records_of_the_uncompressed_kind_still_replay() -> TestResult {
        let dir = tempfile::tempdir()?;
        let (store, config) = store_and_config(dir.path())?;
        let record = WalWrite {
            tenant: "t".into(),
            write: Some(architect_protocols::remote_write::to_v1(&request(1_000, 3))),
        };
        let old = wal::Wal::start(config.wal_dir.clone(), 1, 1 << 20)?;
        old.append(wal::KIND_WRITE, &[&record.encode_to_vec()])
            .await
            .map_err(|_| "writer stopped")??;
        drop(old);
        let ing = Ingester::open(config, store).await?;
        let held = ing.select(&TenantId::new("t")?, &[], 0, i64::MAX);
        assert_eq!(held[0].samples.len(), 3);
        Ok(())
    }

    #[tokio::test]
    async fn replay_restores_unflushed_writes_and_flush_moves_them_to_blocks() -> TestResult {
        let dir = tempfile::tempdir()?;
        let (store, config) = store_and_config(dir.path())?;
        let tenant = TenantId::new("t")?;
        let t0 = 1_700_000_000_000;
        let all = |ing: &Ingester| ing.select(&tenant, &[], 0, i64::MAX);

        let ing = Ingester::open(config.clone(), Arc::clone(&store)).await?;
        assert_eq!(ing.write(&tenant, request(t0, 10), None).await?.samples, 10);
        drop(ing); // a crash: nothing flushed

        let ing = Ingester::open(config.clone(), Arc::clone(&store)).await?;
        assert_eq!(
            all(&ing)[0].samples.len(),
            10,
            "WAL replay restores acknowledged samples"
        );
        // A retry of the same request is a no-op; new samples append.
        let again = ing.write(&tenant, request(t0, 12), None).await?;
        assert_eq!((again.samples, again.duplicates), (2, 10));
        let stats = ing.flush().await?;
        assert_eq!(stats.samples, 12);
        assert!(all(&ing).is_empty(), "the head is empty after a flush");
        let stored = store.select(&tenant, &[], 0, i64::MAX).await?;
        assert_eq!(stored[0].samples, request(t0, 12).series[0].samples);
        drop(ing);

        // After a flush the WAL holds nothing to replay, so nothing is counted twice.
        let ing = Ingester::open(config, Arc::clone(&store)).await?;
        assert!(all(&ing).is_empty());
        Ok(())
    }

    fn wire(version: WriteVersion, body: &[u8]) -> WireBody {
        WireBody {
            version,
            snappy: architect_protocols::snappy::compress(body).into(),
        }
    }

    #[tokio::test]
    async fn bodies_logged_as_received_replay_exactly_what_was_stored() -> TestResult {
        use architect_protocols::{prompb, write_v2};
        let dir = tempfile::tempdir()?;
        let (store, config) = store_and_config(dir.path())?;
        let tenant = TenantId::new("t")?;
        let t0 = 1_700_000_000_000;
        let ing = Ingester::open(config.clone(), Arc::clone(&store)).await?;

        // Stored whole: logged as the 1.0 body that came.
        let first = request(t0, 10);
        let body = architect_protocols::remote_write::encode_v1(&first);
        let out = ing
            .write(&tenant, first, Some(&wire(WriteVersion::V1, &body)))
            .await?;
        assert_eq!((out.samples, out.first_error), (10, None));

        // A conflicting value at t0 is refused: only the new sample may be logged, so the
        // refused one must not come back on replay even though the body holds it.
        let mut conflicting = request(t0, 1);
        conflicting.series[0].samples = vec![
            Sample { t: t0, v: 99.0 },
            Sample {
                t: t0 + 20_000,
                v: 7.0,
            },
        ];
        let body = architect_protocols::remote_write::encode_v1(&conflicting);
        let out = ing
            .write(&tenant, conflicting, Some(&wire(WriteVersion::V1, &body)))
            .await?;
        assert_eq!(out.samples, 1);
        assert!(out.first_error.is_some());

        // A 2.0 body.
        let v2 = write_v2::Request {
            symbols: ["", "__name__", "m2"]
                .iter()
                .map(|s| s.as_bytes().to_vec())
                .collect(),
            timeseries: vec![write_v2::TimeSeries {
                labels_refs: vec![1, 2],
                samples: vec![prompb::Sample {
                    value: 3.5,
                    timestamp: t0,
                }],
                ..Default::default()
            }],
        };
        let body = v2.encode_to_vec();
        let decoded = architect_protocols::remote_write::decode_v2(&body)?;
        ing.write(
            &tenant,
            decoded.request,
            Some(&wire(WriteVersion::V2, &body)),
        )
        .await?;
        let sorted = |mut v: Vec<SeriesSamples>| {
            v.sort_by(|a, b| a.labels.cmp(&b.labels));
            v
        };
        let before = sorted(ing.select(&tenant, &[], 0, i64::MAX));
        drop(ing); // a crash: nothing flushed

        // The partly refused write is logged as its accepted part (replayed in a different
        // order against a concurrent write, its whole body could bring the refused value back).
        let mut kinds = Vec::new();
        wal::replay(&config.wal_dir, |r| kinds.push(r.kind))?;
        assert_eq!(
            kinds,
            [
                wal::KIND_WIRE_WRITE,
                wal::KIND_WRITE_SNAPPY,
                wal::KIND_WIRE_WRITE
            ]
        );
        let ing = Ingester::open(config, Arc::clone(&store)).await?;
        let after = sorted(ing.select(&tenant, &[], 0, i64::MAX));
        assert_eq!(after.len(), 2);
        assert_eq!(
            after, before,
            "replay restores exactly what was acknowledged"
        );
        let m = after
            .iter()
            .find(|s| s.labels.metric_name() == "m")
            .ok_or("series m")?;
        assert_eq!(m.samples.len(), 11);
        assert_eq!(m.samples[0], Sample { t: t0, v: 0.0 });
        assert_eq!(
            m.samples[10],
            Sample {
                t: t0 + 20_000,
                v: 7.0
            }
        );
        Ok(())
    }
}
