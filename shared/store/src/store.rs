//! [`MetricsStore`]: writes blocks (objects first, catalog item last) and reads them back.

use crate::block::{self, BlockData, EncodedBlock};
use crate::catalog::{self, BlockMeta};
use crate::layout::{self, Part};
use crate::partition::DayPartition;
use crate::read::{self, SeriesSamples, SeriesTable};
use crate::{Result, StoreError};
use architect_index::{AttrValue, Condition, Index, Item, SkRange, WriteOp, query_all};
use architect_model::clock::{Clock, SystemClock};
use architect_model::matcher::{matches_all, metric_name_of};
use architect_model::time::Day;
use architect_model::{Labels, Matcher, SeriesId, TenantId};
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{
    CopyMode, CopyOptions, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload,
    WriteMultipart,
};
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Earliest and latest days the catalog addresses (keeps day keys four-digit years).
const MIN_DAY_MS: i64 = 0;
const MAX_DAY_MS: i64 = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
/// Ranges over fewer days than this read their partitions without listing the days first
/// (rule evaluations and dashboards: one index query per day instead of two).
const DIRECT_PARTITION_DAYS: i64 = 3;
/// Series tables kept in memory.
const SERIES_CACHE_ENTRIES: usize = 512;
/// Catalog partitions read at once.
const PARTITION_READS: usize = 8;
/// Size of each part of a multipart upload (S3 wants at least 5 MiB for all but the last).
pub const MULTIPART_PART_BYTES: usize = 8 * 1024 * 1024;

/// Cached series tables, and one copy of each label set they hold, by series id: the blocks of
/// a day mostly list the same series (each flushed block all of the day's active series), and
/// a copy per table was most of a day-long query's memory (29 flushed blocks of 10,000 series:
/// about 130 MB of labels, shared down to 5 MB).
#[derive(Debug, Default)]
struct SeriesCache {
    tables: HashMap<String, Arc<SeriesTable>>,
    labels: HashMap<SeriesId, Labels>,
}

impl SeriesCache {
    /// Points `table`'s label sets at the copies already held (an id whose labels differ, a
    /// hash collision, keeps its own) and keeps the new ones.
    fn share_labels(&mut self, table: &mut SeriesTable) {
        for (id, labels) in &mut table.series {
            match self.labels.entry(*id) {
                std::collections::hash_map::Entry::Occupied(held) => {
                    if held.get() == labels {
                        *labels = held.get().clone();
                    }
                }
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(labels.clone());
                }
            }
        }
    }
}

/// A day partition and the index change count it was read at.
type CachedPartition = (u64, Arc<DayPartition>);

/// A tenant's days with blocks (ascending) and the index change count they were listed at.
type CachedDays = (u64, Arc<[Day]>);

/// A series and where its samples are among a selector's block reads: (read, selection
/// index) pairs in block order.
type SeriesParts = (SeriesId, Labels, Vec<(u32, u32)>);

/// Tenant-days whose catalog partition [`MetricsStore::partitions`] keeps.
const PARTITION_CACHE_DAYS: usize = 4096;

/// Above this many samples a selector's per-series merge runs on every core.
const PARALLEL_MERGE_SAMPLES: usize = 1 << 18;
/// Multipart uploads of one object in flight at once.
const MULTIPART_CONCURRENCY: usize = 4;

/// Cores to spread a query's block decoding over (at most 8). Cached: the standard library
/// reads the cgroup quota files on every call, which cost a tenth of a small query's CPU.
pub(crate) fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8)
    })
}

/// Writer settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// zstd level for every column.
    pub zstd_level: i32,
    /// Rows per Parquet row group in the samples part.
    pub max_row_group_rows: usize,
    /// zstd level of compacted blocks (level ≥ 1): written once by the compactor and read for
    /// months, so they trade write CPU for size.
    pub compacted_zstd_level: i32,
    /// Rows per row group in the samples part of compacted blocks.
    pub compacted_max_row_group_rows: usize,
    /// Parts (Parquet objects) larger than this many bytes are written with a multipart upload
    /// in [`MULTIPART_PART_BYTES`] parts, which S3 retries part by part and which keeps a single
    /// PUT well under S3's 5 GiB limit; smaller parts take one conditional PUT. Default 16 MiB.
    pub multipart_threshold_bytes: usize,
    /// Block reads a query keeps in flight; 0 = one per core (at least two), right for the
    /// embedded store, whose reads are CPU-bound. On S3 each read first waits tens of ms for
    /// its GET, so the service and the functions use [`REMOTE_READ_CONCURRENCY`] there.
    pub read_concurrency: usize,
}

/// Block reads in flight per query against a remote object store (S3): a GET's latency
/// (20-50 ms, S3's documented first-byte latency is tens of ms) dwarfs its decode, so a day of
/// level-0 blocks (dozens) read two at a time would wait for most of a second.
pub const REMOTE_READ_CONCURRENCY: usize = 16;

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            zstd_level: 3,
            max_row_group_rows: 1024 * 1024,
            compacted_zstd_level: 9,
            compacted_max_row_group_rows: 4 * 1024 * 1024,
            multipart_threshold_bytes: 16 * 1024 * 1024,
            read_concurrency: 0,
        }
    }
}

/// Catalog settings of a block written by [`MetricsStore::write_block_with`].
#[derive(Clone, Debug, Default)]
pub struct BlockOptions {
    /// Compaction level (0 = ingest).
    pub level: u8,
    /// 0 for raw samples, else the window of a downsampled block (ms).
    pub resolution_ms: i64,
    /// The block's ULID (a group leader's is chosen before its members are written).
    pub ulid: Option<String>,
    /// Precedence (defaults to the ULID).
    pub order: Option<String>,
    /// ULIDs the block supersedes once committed.
    pub replaces: Vec<String>,
    /// Compaction group leader.
    pub group: Option<String>,
    /// Raw blocks a downsampled block was computed from (day blocks, for a span block).
    pub sources: Vec<String>,
    /// Days the block covers: 0 or 1 for a day's block, [`crate::layout::SPAN_DAYS`] for a
    /// downsampled span block (written under the span's first day).
    pub span_days: u16,
    /// Condition checks committed in the same transaction (the compaction lease).
    pub checks: Vec<WriteOp>,
}

/// Metric blocks on an object store, catalogued in an index.
#[derive(Debug)]
pub struct MetricsStore {
    objects: Arc<dyn ObjectStore>,
    /// Requests made to `objects`, as S3 would count them.
    object_requests: crate::counting::ObjectRequests,
    /// Block reads in flight per query ([`StoreConfig::read_concurrency`], resolved).
    read_concurrency: usize,
    index: Arc<dyn Index>,
    props: WriterProperties,
    compacted_props: WriterProperties,
    downsampled_props: WriterProperties,
    series_cache: Mutex<SeriesCache>,
    /// Day partitions as read at an index change count (only for an index that reports one).
    partition_cache: Mutex<HashMap<(String, Day), CachedPartition>>,
    /// Each tenant's days with blocks as listed at an index change count (same condition).
    days_cache: Mutex<HashMap<String, CachedDays>>,
    meta_cache: Arc<read::MetaCache>,
    multipart_threshold: usize,
    clock: Arc<dyn Clock>,
}

impl MetricsStore {
    /// A store over `objects`, catalogued in `index`.
    pub fn new(objects: Arc<dyn ObjectStore>, index: Arc<dyn Index>, config: &StoreConfig) -> Self {
        let object_requests = crate::counting::ObjectRequests::default();
        let objects: Arc<dyn ObjectStore> = Arc::new(crate::counting::CountingObjects::new(
            objects,
            object_requests.clone(),
        ));
        Self {
            objects,
            object_requests,
            read_concurrency: match config.read_concurrency {
                0 => cores().max(2),
                n => n,
            },
            index,
            props: block::properties(
                config.zstd_level,
                config.max_row_group_rows,
                crate::schema::L0_DATA_PAGE_ROWS,
            ),
            compacted_props: block::properties(
                config.compacted_zstd_level,
                config.compacted_max_row_group_rows,
                crate::schema::COMPACTED_DATA_PAGE_ROWS,
            ),
            downsampled_props: block::properties(
                config.compacted_zstd_level,
                config.compacted_max_row_group_rows,
                crate::schema::DOWNSAMPLED_DATA_PAGE_ROWS,
            ),
            series_cache: Mutex::new(SeriesCache::default()),
            partition_cache: Mutex::new(HashMap::new()),
            days_cache: Mutex::new(HashMap::new()),
            meta_cache: Arc::new(read::MetaCache::default()),
            multipart_threshold: config.multipart_threshold_bytes,
            clock: Arc::new(SystemClock),
        }
    }

    /// The same store reading time from `clock` (commit times of blocks; tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Block reads a query keeps in flight.
    pub(crate) fn read_concurrency(&self) -> usize {
        self.read_concurrency
    }

    /// The object store.
    pub fn objects(&self) -> &Arc<dyn ObjectStore> {
        &self.objects
    }

    /// Requests made to the object store so far, by operation, as S3 would count them.
    pub fn object_requests(&self) -> &crate::counting::ObjectRequests {
        &self.object_requests
    }

    /// The index.
    pub fn index(&self) -> &Arc<dyn Index> {
        &self.index
    }

    /// Writes one block of `tenant` for `day` and commits it. Returns `None` for empty data.
    /// The block is visible exactly when this returns `Ok(Some(_))`.
    pub async fn write_block(
        &self,
        tenant: &TenantId,
        day: Day,
        level: u8,
        data: BlockData,
    ) -> Result<Option<BlockMeta>> {
        let options = BlockOptions {
            level,
            ..BlockOptions::default()
        };
        self.write_block_with(tenant, day, data, options).await
    }

    /// Writes one block with explicit catalog settings (the compactor's outputs) and commits
    /// it in one transaction together with `options.checks`. Returns `None` for empty data.
    pub async fn write_block_with(
        &self,
        tenant: &TenantId,
        day: Day,
        data: BlockData,
        options: BlockOptions,
    ) -> Result<Option<BlockMeta>> {
        if data.series.is_empty() && data.metadata.is_empty() {
            return Ok(None);
        }
        let props = self.writer_properties(&options);
        let encoded = tokio::task::spawn_blocking(move || block::encode(data, &props))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))??;
        self.commit_encoded(tenant, day, encoded, options)
            .await
            .map(Some)
    }

    /// The Parquet settings of blocks written with `options`: the flush settings for level-0
    /// raw blocks, the compaction settings for everything else.
    pub fn writer_properties(&self, options: &BlockOptions) -> WriterProperties {
        if options.resolution_ms > 0 {
            self.downsampled_props.clone()
        } else if options.level == 0 {
            self.props.clone()
        } else {
            self.compacted_props.clone()
        }
    }

    /// Stores a block encoded with [`Self::writer_properties`] (see
    /// [`crate::encode_slices`]) and commits it in one transaction together with
    /// `options.checks`.
    pub async fn commit_encoded(
        &self,
        tenant: &TenantId,
        day: Day,
        encoded: EncodedBlock,
        options: BlockOptions,
    ) -> Result<BlockMeta> {
        let level = options.level;
        let ulid = options
            .ulid
            .unwrap_or_else(|| ulid::Ulid::new().to_string());
        let mut meta = BlockMeta {
            tenant: tenant.as_str().to_string(),
            day,
            level,
            order: options.order.unwrap_or_else(|| ulid.clone()),
            ulid,
            min_t: if encoded.min_t == i64::MAX {
                day.start_ms()
            } else {
                encoded.min_t
            },
            max_t: if encoded.max_t == i64::MIN {
                day.start_ms()
            } else {
                encoded.max_t
            },
            series: encoded.series,
            samples: encoded.samples,
            histograms: encoded.histograms,
            exemplars: encoded.exemplars,
            bytes: 0,
            parts: Vec::new(),
            metric_names: catalog::prunable_names(encoded.metric_names),
            resolution_ms: options.resolution_ms,
            replaces: options.replaces,
            group: options.group,
            sources: options.sources,
            span_days: options.span_days.max(1),
            created_ms: self.clock.now_ms(),
        };
        for (part, bytes) in encoded.parts {
            let size = bytes.len() as u64;
            self.put_new(&Path::from(meta.key(part)), bytes).await?;
            meta.parts.push((part, size));
            meta.bytes += size;
        }
        let mut ops = vec![
            WriteOp::Put {
                item: meta.to_item(),
                condition: Condition::NotExists,
            },
            WriteOp::Put {
                item: Item::new(layout::days_pk(tenant.as_str()), layout::day_sk(day)),
                condition: Condition::None,
            },
            WriteOp::Put {
                item: Item::new(layout::TENANTS_PK, tenant.as_str())
                    .with("metrics", AttrValue::Bool(true)),
                condition: Condition::None,
            },
        ];
        ops.extend(options.checks);
        self.index.transact(ops).await?;
        Ok(meta)
    }

    /// Writes a new object at `key`, never replacing one that exists (a block's ULID key is
    /// written once; a second writer of the same key is a bug that must not destroy data).
    ///
    /// Small objects take one `PutMode::Create` PUT (`If-None-Match: *` on S3). `object_store`
    /// cannot complete a multipart upload conditionally, so a large object is uploaded in parts
    /// to a staging key next to it, copied to `key` with `CopyMode::Create` (a hard link on the
    /// local disk; on S3 a server-side UploadPartCopy completed with `If-None-Match: *`, which
    /// needs `S3CopyIfNotExists::Multipart`), and the staging key is deleted.
    async fn put_new(&self, key: &Path, bytes: Vec<u8>) -> Result<()> {
        let exists = |e: object_store::Error| match e {
            object_store::Error::AlreadyExists { .. } => StoreError::KeyExists(key.to_string()),
            e => StoreError::ObjectStore(e),
        };
        if bytes.len() <= self.multipart_threshold {
            let opts = PutOptions {
                mode: PutMode::Create,
                ..PutOptions::default()
            };
            self.objects
                .put_opts(key, PutPayload::from(bytes), opts)
                .await
                .map_err(exists)?;
            return Ok(());
        }
        let staging = Path::from(format!("{key}.upload-{}", ulid::Ulid::new()));
        let upload = self.objects.put_multipart(&staging).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, MULTIPART_PART_BYTES);
        let mut rest = bytes::Bytes::from(bytes);
        while !rest.is_empty() {
            if let Err(e) = writer.wait_for_capacity(MULTIPART_CONCURRENCY).await {
                // Best effort: a bucket lifecycle rule cleans up what an abort cannot.
                let _ = writer.abort().await;
                return Err(e.into());
            }
            writer.put(rest.split_to(rest.len().min(MULTIPART_PART_BYTES)));
        }
        // `finish` aborts the upload itself when a part or the completion fails.
        writer.finish().await?;
        let copied = self
            .objects
            .copy_opts(
                &staging,
                key,
                CopyOptions {
                    mode: CopyMode::Create,
                    ..CopyOptions::default()
                },
            )
            .await;
        let deleted = self.objects.delete(&staging).await;
        copied.map_err(exists)?;
        if let Err(e) = deleted {
            tracing::warn!(%staging, error = %e, "could not delete a multipart staging object");
        }
        Ok(())
    }

    /// The visible raw blocks of `tenant` that may hold data in `[start, end]`, in precedence
    /// order (first write first).
    pub async fn blocks(&self, tenant: &TenantId, start: i64, end: i64) -> Result<Vec<BlockMeta>> {
        let partitions = self.partitions(tenant, start, end).await?;
        Ok(raw_blocks(&partitions, start, end))
    }

    /// The catalog partitions of `tenant` for the days of `[start, end]` that have any,
    /// read concurrently, in day order: one listing that raw and downsampled reads share.
    ///
    /// When the index reports its changes (embedded mode), a day's partition is read once
    /// and reused until the next index write: every query lists the days it reads, and
    /// decoding a day of blocks was a tenth of a short query's CPU. A cached partition's
    /// `lease` may have expired since; leasing reads [`MetricsStore::day_partition`].
    pub async fn partitions(
        &self,
        tenant: &TenantId,
        start: i64,
        end: i64,
    ) -> Result<Vec<(Day, Arc<DayPartition>)>> {
        let (start, end) = (start.max(MIN_DAY_MS), end.min(MAX_DAY_MS));
        if start > end {
            return Ok(Vec::new());
        }
        // Read before the items, so a write that lands meanwhile invalidates what is cached.
        let changes = self.index.change_counter();
        let (first, last) = (Day::of_ms(start), Day::of_ms(end));
        // A short range reads its days' partitions directly (one query each, an absent day
        // is an empty answer); a long one lists the days that have blocks first.
        let days: Vec<Day> = if last.0 - first.0 < DIRECT_PARTITION_DAYS {
            (first.0..=last.0).map(Day).collect()
        } else {
            self.days_with_blocks(tenant, changes, first, last).await?
        };
        let reads = days.into_iter().map(|day| {
            let index = Arc::clone(&self.index);
            let tenant = tenant.as_str().to_string();
            async move {
                if let Some(at) = changes {
                    let cached = self
                        .partition_cache
                        .lock()
                        .ok()
                        .and_then(|c| c.get(&(tenant.clone(), day)).cloned());
                    if let Some((read_at, partition)) = cached
                        && read_at == at
                    {
                        return Ok((day, partition));
                    }
                }
                let partition = Arc::new(DayPartition::read(index.as_ref(), &tenant, day).await?);
                if let (Some(at), Ok(mut cache)) = (changes, self.partition_cache.lock()) {
                    if cache.len() >= PARTITION_CACHE_DAYS {
                        cache.retain(|_, (read_at, _)| *read_at == at);
                        if cache.len() >= PARTITION_CACHE_DAYS {
                            cache.clear();
                        }
                    }
                    cache.insert((tenant, day), (at, Arc::clone(&partition)));
                }
                Ok::<_, StoreError>((day, partition))
            }
        });
        futures::stream::iter(reads)
            .buffered(PARTITION_READS)
            .try_collect()
            .await
    }

    /// The days in `[first, last]` that have blocks. Where the index counts its writes
    /// (`changes`), the tenant's whole list is read once and reused until the next write: a
    /// long-range query otherwise paid an index query (a blocking-pool round trip in embedded
    /// mode) for it every time, a twentieth of a 30-day query over downsampled data.
    async fn days_with_blocks(
        &self,
        tenant: &TenantId,
        changes: Option<u64>,
        first: Day,
        last: Day,
    ) -> Result<Vec<Day>> {
        let within = |days: &[Day]| {
            let from = days.partition_point(|d| d.0 < first.0);
            let to = days.partition_point(|d| d.0 <= last.0);
            days[from..to.max(from)].to_vec()
        };
        let range = match changes {
            Some(_) => SkRange::Prefix("day#".to_string()),
            None => SkRange::Between(layout::day_sk(first), layout::day_sk(last)),
        };
        if let Some(at) = changes {
            let cached = self
                .days_cache
                .lock()
                .ok()
                .and_then(|c| c.get(tenant.as_str()).cloned());
            if let Some((read_at, days)) = cached
                && read_at == at
            {
                return Ok(within(&days));
            }
        }
        let mut days: Vec<Day> = query_all(
            self.index.as_ref(),
            &layout::days_pk(tenant.as_str()),
            range,
        )
        .await?
        .iter()
        .filter_map(|d| d.sk.strip_prefix("day#").and_then(Day::parse_iso))
        .collect();
        days.sort_unstable_by_key(|d| d.0);
        days.dedup_by_key(|d| d.0);
        let wanted = within(&days);
        if let (Some(at), Ok(mut cache)) = (changes, self.days_cache.lock()) {
            if cache.len() >= PARTITION_CACHE_DAYS {
                cache.clear();
            }
            cache.insert(tenant.as_str().to_string(), (at, days.into()));
        }
        Ok(wanted)
    }

    /// Footer and page-index cache of sample parts.
    pub(crate) fn meta_cache(&self) -> &Arc<read::MetaCache> {
        &self.meta_cache
    }

    pub(crate) async fn series_table(&self, block: &BlockMeta) -> Result<Arc<SeriesTable>> {
        let key = block.key(Part::Series);
        if let Some(t) = self
            .series_cache
            .lock()
            .map_err(|e| StoreError::Task(e.to_string()))?
            .tables
            .get(&key)
        {
            return Ok(Arc::clone(t));
        }
        let mut table = read::read_series_table(&self.objects, block).await?;
        let mut cache = self
            .series_cache
            .lock()
            .map_err(|e| StoreError::Task(e.to_string()))?;
        if cache.tables.len() >= SERIES_CACHE_ENTRIES {
            cache.tables.clear();
            cache.labels.clear();
        }
        cache.share_labels(&mut table);
        let table = Arc::new(table);
        cache.tables.insert(key, Arc::clone(&table));
        Ok(table)
    }

    /// Label names of the tenant's blocks in `[start, end]` (no matchers: from each block's
    /// cached postings, without scanning series).
    pub async fn label_names(
        &self,
        tenant: &TenantId,
        start: i64,
        end: i64,
    ) -> Result<std::collections::BTreeSet<String>> {
        let mut out = std::collections::BTreeSet::new();
        for block in self.blocks(tenant, start, end).await? {
            let table = self.series_table(&block).await?;
            out.extend(table.postings().keys().cloned());
        }
        Ok(out)
    }

    /// Values of label `name` in the tenant's blocks in `[start, end]` (no matchers).
    pub async fn label_values(
        &self,
        tenant: &TenantId,
        name: &str,
        start: i64,
        end: i64,
    ) -> Result<std::collections::BTreeSet<String>> {
        let mut out = std::collections::BTreeSet::new();
        for block in self.blocks(tenant, start, end).await? {
            let table = self.series_table(&block).await?;
            if let Some(values) = table.postings().get(name) {
                out.extend(values.iter().cloned());
            }
        }
        Ok(out)
    }

    /// Series (ids and labels) matching all `matchers` with data in `[start, end]`.
    pub async fn series(
        &self,
        tenant: &TenantId,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Result<Vec<(SeriesId, Labels)>> {
        // Distinct series, found by their id (already a hash) and confirmed by their labels:
        // hashing every block's label sets again was most of a day's `/series` call.
        let mut out: Vec<(SeriesId, Labels)> = Vec::new();
        let mut by_id: hashbrown::HashTable<usize> = hashbrown::HashTable::new();
        let hash = |id: &SeriesId| id.0 as u64;
        for block in self.blocks(tenant, start, end).await? {
            if metric_name_of(matchers).is_some_and(|m| !block.may_contain_metric(m)) {
                continue;
            }
            let table = self.series_table(&block).await?;
            // Only the metric's series are tested (per-block postings); labels are cloned once
            // per series, not once per block holding it.
            for r in table.matching_refs(matchers) {
                let Some((id, labels)) = table.series.get(r as usize) else {
                    continue;
                };
                if by_id
                    .find(hash(id), |&i| out[i].0 == *id && out[i].1 == *labels)
                    .is_none()
                {
                    by_id.insert_unique(hash(id), out.len(), |&i| hash(&out[i].0));
                    out.push((*id, labels.clone()));
                }
            }
        }
        Ok(out)
    }

    /// Native histograms of the series matching all `matchers` in `[start, end]`, merged across
    /// blocks with one histogram per timestamp (the first write wins), by series labels.
    pub async fn select_histograms(
        &self,
        tenant: &TenantId,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Result<Vec<(Labels, Vec<architect_model::Histogram>)>> {
        let blocks = self.blocks(tenant, start, end).await?;
        self.select_histograms_in(blocks, matchers, start, end)
            .await
    }

    /// [`MetricsStore::select_histograms`] over the given blocks (in precedence order).
    pub async fn select_histograms_in(
        &self,
        blocks: Vec<BlockMeta>,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Result<Vec<(Labels, Vec<architect_model::Histogram>)>> {
        let mut out: HashMap<Labels, Vec<architect_model::Histogram>> = HashMap::new();
        for block in blocks {
            if block.histograms == 0
                || metric_name_of(matchers).is_some_and(|m| !block.may_contain_metric(m))
            {
                continue;
            }
            let table = self.series_table(&block).await?;
            let selected = table.matching_refs(matchers);
            if selected.is_empty() {
                continue;
            }
            let hists = read::read_histograms(&self.objects, &block, &selected, start, end).await?;
            for (r, hs) in selected.iter().zip(hists) {
                if hs.is_empty() {
                    continue;
                }
                let labels = &table.series[*r as usize].1;
                let entry = out.entry(labels.clone()).or_default();
                for h in hs {
                    if let Err(i) = entry.binary_search_by_key(&h.t, |x| x.t) {
                        entry.insert(i, h);
                    }
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Metric metadata of the tenant's blocks in `[start, end]` (later blocks win per family).
    pub async fn metadata(
        &self,
        tenant: &TenantId,
        start: i64,
        end: i64,
    ) -> Result<Vec<architect_model::MetricMetadata>> {
        let mut out: HashMap<String, architect_model::MetricMetadata> = HashMap::new();
        for block in self.blocks(tenant, start, end).await? {
            for m in read::read_metadata(&self.objects, &block).await? {
                out.insert(m.metric_family.clone(), m);
            }
        }
        Ok(out.into_values().collect())
    }

    /// Exemplars of matching series in `[start, end]`, by series labels.
    pub async fn exemplars(
        &self,
        tenant: &TenantId,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Result<Vec<(Labels, Vec<architect_model::Exemplar>)>> {
        let mut out: HashMap<Labels, Vec<architect_model::Exemplar>> = HashMap::new();
        for block in self.blocks(tenant, start, end).await? {
            if block.exemplars == 0
                || metric_name_of(matchers).is_some_and(|m| !block.may_contain_metric(m))
            {
                continue;
            }
            let table = self.series_table(&block).await?;
            for (r, e) in read::read_exemplars(&self.objects, &block, start, end).await? {
                let Some((_, labels)) = table.series.get(r as usize) else {
                    continue;
                };
                if matches_all(matchers, labels) {
                    out.entry(labels.clone()).or_default().push(e);
                }
            }
        }
        Ok(out.into_iter().collect())
    }

    /// Samples of the series matching all `matchers` in `[start, end]`, merged across blocks
    /// with one sample per timestamp. Series are keyed by their labels, so even a hash collision
    /// could not merge two series.
    pub async fn select(
        &self,
        tenant: &TenantId,
        matchers: &[Matcher],
        start: i64,
        end: i64,
    ) -> Result<Vec<SeriesSamples>> {
        let blocks = self.blocks(tenant, start, end).await?;
        self.select_in(blocks, matchers, start, end, read::Values::All)
            .await
    }

    /// [`MetricsStore::select`] over the given blocks (in precedence order), e.g. one listing
    /// shared by the float and the histogram reads of a selector, decoding `values`.
    pub async fn select_in(
        &self,
        blocks: Vec<BlockMeta>,
        matchers: &[Matcher],
        start: i64,
        end: i64,
        values: read::Values,
    ) -> Result<Vec<SeriesSamples>> {
        let owned = matchers.to_vec();
        let select: SelectRefs = Arc::new(move |table: &SeriesTable| table.matching_refs(&owned));
        let planned = self
            .plan_reads(blocks, metric_name_of(matchers), select)
            .await?;
        let planned = match crate::by_series::read(self, planned, start, end, values).await? {
            Ok(series) => return Ok(series),
            Err(planned) => planned,
        };
        let reads = self.read_planned(planned, start, end, values).await?;
        // Each series' slices in block order (read index, selection index), found by the
        // series id and confirmed by the labels, so even a hash collision could not merge two
        // series.
        let mut groups: Vec<SeriesParts> = Vec::new();
        let mut by_id: hashbrown::HashTable<usize> = hashbrown::HashTable::new();
        let hash = |id: &SeriesId| id.0 as u64;
        for (ri, read) in reads.iter().enumerate() {
            for (si, r) in read.selected.iter().enumerate() {
                if read.samples.series(si).is_empty() {
                    continue;
                }
                let (id, labels) = &read.table.series[*r as usize];
                let found = by_id.find(hash(id), |&g| groups[g].0 == *id && groups[g].1 == *labels);
                let at = (ri as u32, si as u32);
                match found {
                    Some(&g) => groups[g].2.push(at),
                    None => {
                        let g = groups.len();
                        groups.push((*id, labels.clone(), vec![at]));
                        by_id.insert_unique(hash(id), g, |&g| hash(&groups[g].0));
                    }
                }
            }
        }
        // One copy of each slice into its series' final vector; spread over the cores when
        // there is a lot to copy (a day of thousands of series is hundreds of MB).
        let total: usize = reads.iter().map(|r| r.samples.total()).sum();
        let merge = |groups: &[SeriesParts]| -> Vec<SeriesSamples> {
            groups
                .iter()
                .map(|(id, labels, parts)| SeriesSamples {
                    id: *id,
                    labels: labels.clone(),
                    samples: read::merge_sample_slices(
                        parts
                            .iter()
                            .map(|&(ri, si)| reads[ri as usize].samples.series(si as usize)),
                    ),
                })
                .collect()
        };
        let threads = cores().min(groups.len());
        if threads <= 1 || total < PARALLEL_MERGE_SAMPLES {
            return Ok(merge(&groups));
        }
        let size = groups.len().div_ceil(threads);
        let merged = std::thread::scope(|scope| {
            let merge = &merge;
            let handles: Vec<_> = groups
                .chunks(size)
                .map(|chunk| scope.spawn(move || merge(chunk)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect::<Vec<_>>()
        });
        Ok(merged.into_iter().flatten().collect())
    }

    /// The samples in `[start, end]` of the refs `select` chooses (ascending) from each block,
    /// block by block (in the order given; blocks without a match are left out, and blocks
    /// that cannot hold `metric` are skipped unread).
    pub(crate) async fn read_blocks_by(
        &self,
        blocks: Vec<BlockMeta>,
        metric: Option<&str>,
        select: SelectRefs,
        start: i64,
        end: i64,
    ) -> Result<Vec<BlockRead>> {
        let planned = self.plan_reads(blocks, metric, select).await?;
        self.read_planned(planned, start, end, read::Values::All)
            .await
    }

    /// The blocks that may hold `metric`, their series tables and the refs `select` chooses
    /// from them (blocks where it chooses none are left out), in the order given.
    pub(crate) async fn plan_reads(
        &self,
        blocks: Vec<BlockMeta>,
        metric: Option<&str>,
        select: SelectRefs,
    ) -> Result<Vec<PlannedRead>> {
        let parallel = cores().max(2);
        let blocks = blocks
            .into_iter()
            .filter(|b| b.samples > 0 && metric.is_none_or(|m| b.may_contain_metric(m)));
        // Series tables are cached; a miss is one GET each, so they load concurrently, and
        // the selections (CPU-bound) run on every core.
        let planned: Vec<Option<PlannedRead>> = futures::stream::iter(blocks)
            .map(|block| {
                let select = Arc::clone(&select);
                async move {
                    let table = self.series_table(&block).await?;
                    tokio::spawn(async move {
                        let selected = select(&table);
                        (!selected.is_empty()).then_some(PlannedRead {
                            block,
                            table,
                            selected,
                        })
                    })
                    .await
                    .map_err(|e| StoreError::Task(e.to_string()))
                }
            })
            .buffered((parallel * 2).max(self.read_concurrency))
            .try_collect()
            .await?;
        Ok(planned.into_iter().flatten().collect())
    }

    /// Decodes planned reads block by block, blocks in parallel, results in block order.
    pub(crate) async fn read_planned(
        &self,
        planned: Vec<PlannedRead>,
        start: i64,
        end: i64,
        values: read::Values,
    ) -> Result<Vec<BlockRead>> {
        let reads = planned.into_iter().map(|p| {
            let objects = Arc::clone(&self.objects);
            let cache = Arc::clone(&self.meta_cache);
            async move {
                tokio::spawn(async move {
                    let samples = read::read_block_samples(
                        &objects,
                        &p.block,
                        &p.selected,
                        (start, end),
                        values,
                        &cache,
                    )
                    .await?;
                    Ok::<_, StoreError>(BlockRead {
                        block: p.block,
                        table: p.table,
                        selected: p.selected,
                        samples,
                    })
                })
                .await
                .map_err(|e| StoreError::Task(e.to_string()))?
            }
        });
        futures::stream::iter(reads)
            .buffered(self.read_concurrency)
            .try_collect()
            .await
    }
}

/// A block to read, its series and the refs (ascending, not empty) chosen from it.
#[derive(Debug)]
pub(crate) struct PlannedRead {
    /// The block.
    pub(crate) block: BlockMeta,
    /// Its series.
    pub(crate) table: Arc<SeriesTable>,
    /// Refs of the selected series, ascending.
    pub(crate) selected: Vec<u32>,
}

/// Chooses the refs (ascending) to read from a block's series table.
pub(crate) type SelectRefs = Arc<dyn Fn(&SeriesTable) -> Vec<u32> + Send + Sync>;

/// What [`MetricsStore::read_blocks_by`] read from one block.
pub(crate) struct BlockRead {
    /// The block.
    pub(crate) block: BlockMeta,
    /// Its series.
    pub(crate) table: Arc<SeriesTable>,
    /// Refs of the selected series, ascending.
    pub(crate) selected: Vec<u32>,
    /// Samples of each selected series (possibly empty), in the order of `selected`.
    pub(crate) samples: read::BlockSamples,
}

/// The visible raw blocks of `partitions` that may hold data in `[start, end]`, in precedence
/// order (first write first).
pub fn raw_blocks(partitions: &[(Day, Arc<DayPartition>)], start: i64, end: i64) -> Vec<BlockMeta> {
    raw_blocks_where(partitions, start, end, |_| true)
}

/// [`raw_blocks`] that hold native histograms: what a histogram read needs, also when the
/// float samples come from downsampled blocks.
pub fn histogram_blocks(
    partitions: &[(Day, Arc<DayPartition>)],
    start: i64,
    end: i64,
) -> Vec<BlockMeta> {
    raw_blocks_where(partitions, start, end, |b| b.histograms > 0)
}

fn raw_blocks_where(
    partitions: &[(Day, Arc<DayPartition>)],
    start: i64,
    end: i64,
    keep: impl Fn(&BlockMeta) -> bool,
) -> Vec<BlockMeta> {
    let mut blocks: Vec<BlockMeta> = partitions
        .iter()
        .flat_map(|(_, p)| p.visible_iter(0))
        .filter(|b| b.overlaps(start, end) && keep(b))
        .cloned()
        .collect();
    // Precedence order: the first write wins where blocks hold the same sample.
    blocks.sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.ulid.cmp(&b.ulid)));
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SeriesData;
    use architect_index::embedded::EmbeddedIndex;
    use architect_model::{STALE_NAN_BITS, Sample};
    use object_store::memory::InMemory;

    /// A store over an in-memory object store and an embedded index in `dir`.
    fn embedded_store(dir: &tempfile::TempDir, config: &StoreConfig) -> Result<MetricsStore> {
        let index = Arc::new(EmbeddedIndex::open(&dir.path().join("index.redb"))?);
        Ok(MetricsStore::new(Arc::new(InMemory::new()), index, config))
    }

    fn tenant_id(name: &str) -> Result<TenantId> {
        TenantId::new(name).map_err(|e| StoreError::Task(e.to_string()))
    }

    fn series(tenant: &str, pairs: &[(&str, &str)], samples: Vec<Sample>) -> SeriesData {
        let labels = Labels::from_pairs(pairs.iter().copied());
        SeriesData {
            id: SeriesId::of(tenant, &labels),
            labels,
            samples,
            ..Default::default()
        }
    }

    /// A block holding one sample (value 1) of the series `{__name__=name}` of `tenant`.
    fn one_sample_block(tenant: &str, name: &str, t: i64) -> BlockData {
        BlockData {
            series: vec![series(
                tenant,
                &[("__name__", name)],
                vec![Sample { t, v: 1.0 }],
            )],
            metadata: vec![],
        }
    }

    #[tokio::test]
    async fn partition_cache_serves_until_the_next_index_write() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Task(e.to_string()))?;
        let store = embedded_store(&dir, &StoreConfig::default())?;
        let tenant = tenant_id("t1")?;
        let day = Day::of_ms(1_700_000_000_000);
        let (start, end) = (day.start_ms(), day.end_ms());
        let block = |name: &str, t: i64| one_sample_block("t1", name, t);
        // An empty day is cached too, and dropped by the first write.
        assert!(
            store.partitions(&tenant, start, end).await?[0]
                .1
                .blocks
                .is_empty()
        );
        store
            .write_block(&tenant, day, 0, block("a", start))
            .await?;
        let first = store.partitions(&tenant, start, end).await?;
        assert_eq!(first[0].1.blocks.len(), 1);
        let again = store.partitions(&tenant, start, end).await?;
        assert!(Arc::ptr_eq(&first[0].1, &again[0].1), "no write: reused");
        store
            .write_block(&tenant, day, 0, block("b", start + 1))
            .await?;
        let after = store.partitions(&tenant, start, end).await?;
        assert_eq!(after[0].1.blocks.len(), 2, "a write invalidates");
        let got = store
            .select(&tenant, &[Matcher::equal("__name__", "b")], start, end)
            .await?;
        assert_eq!(got.len(), 1);
        // Another tenant's day is its own entry.
        let other = tenant_id("t2")?;
        assert!(
            store.partitions(&other, start, end).await?[0]
                .1
                .blocks
                .is_empty()
        );
        Ok(())
    }

    /// Blocks listing the same series share one copy of its labels through the series cache;
    /// a series only one block holds keeps its own, and an id whose labels differ (a forged
    /// collision) is not pointed at another series' labels.
    #[tokio::test]
    async fn cached_series_tables_share_label_sets() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Task(e.to_string()))?;
        let store = embedded_store(&dir, &StoreConfig::default())?;
        let tenant = tenant_id("t1")?;
        let day = Day::of_ms(1_700_000_000_000);
        let t0 = day.start_ms();
        let sample = |t| vec![Sample { t, v: 1.0 }];
        let shared = series("t1", &[("__name__", "up"), ("job", "a")], sample(t0));
        let mut forged = series("t1", &[("__name__", "up"), ("job", "b")], sample(t0));
        let first = BlockData {
            series: vec![shared.clone(), forged.clone()],
            metadata: vec![],
        };
        // The second block's `job="c"` series carries the id of `job="b"`.
        forged.labels = Labels::from_pairs([("__name__", "up"), ("job", "c")]);
        let second = BlockData {
            series: vec![
                SeriesData {
                    samples: sample(t0 + 60_000),
                    ..shared.clone()
                },
                SeriesData {
                    samples: sample(t0 + 60_000),
                    ..forged
                },
            ],
            metadata: vec![],
        };
        store.write_block(&tenant, day, 0, first).await?;
        store.write_block(&tenant, day, 0, second).await?;
        let blocks = store.blocks(&tenant, t0, t0 + 60_000).await?;
        assert_eq!(blocks.len(), 2);
        let a = store.series_table(&blocks[0]).await?;
        let b = store.series_table(&blocks[1]).await?;
        let labels_of = |t: &SeriesTable, job: &str| {
            t.series
                .iter()
                .find(|(_, l)| l.get("job") == Some(job))
                .map(|(_, l)| l.clone())
                .expect("series")
        };
        assert!(labels_of(&a, "a").ptr_eq(&labels_of(&b, "a")));
        assert_eq!(labels_of(&b, "c").get("job"), Some("c"));
        assert!(!labels_of(&a, "b").ptr_eq(&labels_of(&b, "c")));
        Ok(())
    }

    /// A long range lists its days from the cached list of the tenant's days, which a write
    /// refreshes; other tenants' days stay out.
    #[tokio::test]
    async fn long_ranges_list_days_until_the_next_index_write() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Task(e.to_string()))?;
        let store = embedded_store(&dir, &StoreConfig::default())?;
        let tenant = tenant_id("t1")?;
        let d0 = Day::of_ms(1_700_000_000_000);
        let day = |k: i64| Day(d0.0 + k);
        let write = |k: i64, tenant: TenantId| {
            let store = &store;
            async move {
                let data = one_sample_block(tenant.as_str(), "m", day(k).start_ms());
                store.write_block(&tenant, day(k), 0, data).await
            }
        };
        let days = |parts: Vec<(Day, Arc<DayPartition>)>| {
            parts
                .into_iter()
                .map(|(d, _)| d.0 - d0.0)
                .collect::<Vec<_>>()
        };
        write(1, tenant.clone()).await?;
        write(5, tenant.clone()).await?;
        write(3, tenant_id("t2")?).await?;
        let range = |a: i64, b: i64| (day(a).start_ms(), day(b).end_ms());
        let (start, end) = range(0, 9);
        assert_eq!(days(store.partitions(&tenant, start, end).await?), [1, 5]);
        let (start, end) = range(2, 9);
        assert_eq!(days(store.partitions(&tenant, start, end).await?), [5]);
        write(3, tenant.clone()).await?;
        let (start, end) = range(0, 9);
        assert_eq!(
            days(store.partitions(&tenant, start, end).await?),
            [1, 3, 5],
            "a write refreshes the list"
        );
        let (start, end) = range(6, 20);
        assert!(store.partitions(&tenant, start, end).await?.is_empty());
        Ok(())
    }

    #[tokio::test]
    async fn write_then_select_round_trips_bit_exact() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Task(e.to_string()))?;
        let store = embedded_store(&dir, &StoreConfig::default())?;
        let tenant = tenant_id("t1")?;
        let day = Day::of_ms(1_700_000_000_000);
        let t0 = day.start_ms();
        let values = [
            0.25,
            1e300,
            f64::from_bits(STALE_NAN_BITS),
            -0.0,
            0.1 + 0.2,
            42.0,
            f64::INFINITY,
        ];
        let samples: Vec<Sample> = values
            .iter()
            .enumerate()
            .map(|(i, v)| Sample {
                t: t0 + i as i64 * 15_000,
                v: *v,
            })
            .collect();
        let data = BlockData {
            series: vec![
                series("t1", &[("__name__", "a"), ("job", "x")], samples.clone()),
                series(
                    "t1",
                    &[("__name__", "b"), ("job", "y")],
                    vec![Sample { t: t0, v: 7.0 }],
                ),
            ],
            metadata: vec![],
        };
        let meta = store
            .write_block(&tenant, day, 0, data)
            .await?
            .expect("written");
        assert_eq!(meta.samples, 8);
        let got = store
            .select(
                &tenant,
                &[Matcher::equal("__name__", "a")],
                t0,
                t0 + 1_000_000,
            )
            .await?;
        assert_eq!(got.len(), 1);
        let bits = |s: &[Sample]| s.iter().map(|x| (x.t, x.v.to_bits())).collect::<Vec<_>>();
        assert_eq!(bits(&got[0].samples), bits(&samples));
        // Time range is applied.
        let part = store
            .select(
                &tenant,
                &[Matcher::equal("job", "x")],
                t0 + 15_000,
                t0 + 30_000,
            )
            .await?;
        assert_eq!(part[0].samples.len(), 2);
        // Another tenant sees nothing.
        let other = tenant_id("t2")?;
        assert!(
            store
                .select(&other, &[Matcher::equal("job", "x")], 0, i64::MAX)
                .await?
                .is_empty()
        );
        Ok(())
    }

    #[tokio::test]
    async fn block_objects_are_never_overwritten() -> Result<()> {
        // Once through a single conditional PUT, once through multipart + copy-if-not-exists.
        for threshold in [usize::MAX, 0] {
            let dir = tempfile::tempdir().map_err(|e| StoreError::Task(e.to_string()))?;
            let index = Arc::new(EmbeddedIndex::open(&dir.path().join("index.redb"))?);
            let objects: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
            let config = StoreConfig {
                multipart_threshold_bytes: threshold,
                ..StoreConfig::default()
            };
            let store = MetricsStore::new(Arc::clone(&objects), index, &config);
            let key = Path::from("t1/metrics/2023-11-14/0/01HF.parquet");
            store.put_new(&key, vec![1; 100]).await?;
            match store.put_new(&key, vec![2; 100]).await {
                Err(StoreError::KeyExists(k)) => assert_eq!(k, key.to_string()),
                other => panic!("second write of {key} (threshold {threshold}): {other:?}"),
            }
            let kept = objects.get(&key).await?.bytes().await?;
            assert_eq!(&kept[..], &[1u8; 100][..], "the first object is untouched");
            let keys: Vec<_> = objects.list(None).collect::<Vec<_>>().await;
            assert_eq!(keys.len(), 1, "no staging objects left: {keys:?}");
        }
        Ok(())
    }

    #[tokio::test]
    async fn sparse_and_dense_selections_read_exactly_their_samples() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Task(e.to_string()))?;
        // Small row groups and many series, so that pages and row groups split series.
        let config = StoreConfig {
            max_row_group_rows: 5_000,
            ..StoreConfig::default()
        };
        let store = embedded_store(&dir, &config)?;
        let tenant = tenant_id("t1")?;
        // One block per value mix, each on its own day: decimal values only (no float column
        // is read), floats only (no decimal columns are read), and both in one series.
        // The fourth: decimal series first, float series after them, so that the pages of
        // one kind hold no value of the other (null pages).
        for (mode, day) in [(0usize, 19_675i64), (1, 19_676), (2, 19_677), (3, 19_678)] {
            let day = Day(day);
            let t0 = day.start_ms();
            let value = move |s: usize, k: usize| {
                let decimal = (s * 1000 + k) as f64;
                match mode {
                    0 => decimal,
                    1 => decimal * std::f64::consts::PI,
                    3 if s < 200 => decimal,
                    3 => decimal * std::f64::consts::PI,
                    _ if (s + k).is_multiple_of(3) => decimal * std::f64::consts::E,
                    _ => decimal,
                }
            };
            sparse_and_dense_reads(&store, &tenant, t0, value).await?;
        }
        Ok(())
    }

    async fn sparse_and_dense_reads(
        store: &MetricsStore,
        tenant: &TenantId,
        t0: i64,
        value: impl Fn(usize, usize) -> f64 + Copy,
    ) -> Result<()> {
        let data = BlockData {
            series: (0..400)
                .map(|s| {
                    let inst = format!("{s:03}");
                    series(
                        "t1",
                        &[("__name__", "m"), ("inst", &inst)],
                        (0..100)
                            .map(|k| Sample {
                                t: t0 + k as i64 * 15_000,
                                v: value(s, k),
                            })
                            .collect(),
                    )
                })
                .collect(),
            metadata: vec![],
        };
        store.write_block(tenant, Day::of_ms(t0), 0, data).await?;
        let check = |got: Vec<SeriesSamples>, want: &[usize], from: usize, to: usize| {
            let mut got = got;
            got.sort_by(|a, b| a.labels.cmp(&b.labels));
            assert_eq!(got.len(), want.len());
            for (g, &s) in got.iter().zip(want) {
                assert_eq!(g.labels.get("inst"), Some(format!("{s:03}").as_str()));
                let values: Vec<u64> = g.samples.iter().map(|x| x.v.to_bits()).collect();
                let expected: Vec<u64> = (from..=to).map(|k| value(s, k).to_bits()).collect();
                assert_eq!(values, expected, "series {s}");
                let times: Vec<i64> = g.samples.iter().map(|x| x.t).collect();
                let expected: Vec<i64> = (from..=to).map(|k| t0 + k as i64 * 15_000).collect();
                assert_eq!(times, expected, "series {s}");
            }
        };
        for _ in 0..2 {
            // Sparse: every 37th series (read through the cached row runs the second time).
            let sparse = Matcher::new(
                architect_model::MatchOp::RegexMatch,
                "inst",
                "0[0-9]0|3[0-9]7",
            )
            .map_err(|e| StoreError::Task(e.to_string()))?;
            let want: Vec<usize> = (0..400)
                .filter(|s| {
                    let i = format!("{s:03}");
                    (i.starts_with('0') && i.ends_with('0'))
                        || (i.starts_with('3') && i.ends_with('7'))
                })
                .collect();
            let got = store
                .select(tenant, &[sparse], t0 + 10 * 15_000, t0 + 20 * 15_000)
                .await?;
            check(got, &want, 10, 20);
            // Sparse in the first half only.
            let first_half = Matcher::new(architect_model::MatchOp::RegexMatch, "inst", "0[0-9]0")
                .map_err(|e| StoreError::Task(e.to_string()))?;
            let got = store
                .select(tenant, &[first_half], t0, t0 + 99 * 15_000)
                .await?;
            check(got, &(0..10).map(|s| s * 10).collect::<Vec<_>>(), 0, 99);
            // Dense: all of them.
            let got = store
                .select(
                    tenant,
                    &[Matcher::equal("__name__", "m")],
                    t0,
                    t0 + 99 * 15_000,
                )
                .await?;
            check(got, &(0..400).collect::<Vec<_>>(), 0, 99);
        }
        Ok(())
    }
}
