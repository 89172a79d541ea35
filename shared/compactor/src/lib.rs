//! The compactor: the Thanos compactor's job as a stateless pass over the catalog, run by the
//! `compact` Lambda on a schedule, by `architect serve` on a timer, by `architect compact` and
//! by `POST /api/v1/admin/compact`.
//!
//! One run walks every tenant and day. For each partition, under a lease in the index:
//! 1. **Retention**: a resolution of a day older than the tenant's retention gets a tombstone
//!    that hides it from readers at once; its blocks are deleted after the grace period.
//! 2. **Merge**: a day still being written merges its level-0 blocks into one level-1 block
//!    once there are `min_level0_blocks` of them; a closed day (ended `settle_secs` ago) merges
//!    everything below level 2 into level-2 blocks of up to `max_output_samples` each, sorted
//!    by (metric name, labels, time), one sample per (series, timestamp).
//! 3. **Downsample**: a closed day gets 5 m and 1 h blocks with the Thanos aggregates, rebuilt
//!    whenever its raw blocks change (late data).
//! 4. **Spans**: after a tenant's days, the current 5 m and 1 h blocks of each two-week span of
//!    days (`layout::SPAN_DAYS`) are merged into span blocks catalogued in the partition of
//!    the span's first day, listing the day blocks they hold; a query reads a day from its
//!    span block only while the day's current blocks are the ones listed, so late data (a day
//!    downsampled again) falls back to the day's blocks until the span is rebuilt.
//! 5. **Garbage collection**: superseded blocks whose replacement is older than the grace
//!    period, outputs of a compactor that died before committing them, and objects without a
//!    catalog item older than `orphan_age_secs` (a writer that died between its uploads and its
//!    commit, or an abandoned multipart staging object).
//!
//! Outputs of one merge form a *group*; the group becomes visible, and its inputs invisible,
//! with one conditional put of the leader's item (see `architect_store::DayPartition`). A
//! compactor killed at any point therefore leaves either the inputs or the outputs visible,
//! never both and never neither, and the next run redoes or cleans up what is left.

mod config;
pub mod downsample;
mod lease;
pub mod merge;

pub use config::{CompactorConfig, Retention};
pub use lease::Lease;

use architect_index::{Condition, Index, IndexError, Item, WriteOp};
use architect_model::time::{DAY_MS, Day};
use architect_model::{MetricMetadata, TenantId};
use architect_store::{
    BlockData, BlockMeta, BlockOptions, DayPartition, MetricsStore, SeriesData, StoreError, layout,
};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

pub use architect_store::downsampled::{RES_1H, RES_5M, RESOLUTIONS};

/// Compactor errors.
#[derive(Debug, thiserror::Error)]
pub enum CompactError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The index failed.
    #[error("index: {0}")]
    Index(#[from] IndexError),
}

/// Result alias.
pub type Result<T, E = CompactError> = std::result::Result<T, E>;

/// What a run did; the body of `POST /api/v1/admin/compact`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct RunReport {
    /// Tenants visited.
    pub tenants: u64,
    /// Tenant-days visited.
    pub partitions: u64,
    /// Tenant-days skipped because another compactor holds their lease.
    pub partitions_busy: u64,
    /// Blocks merged away.
    pub input_blocks: u64,
    /// Bytes of the merged blocks.
    pub input_bytes: u64,
    /// Raw blocks written.
    pub output_blocks: u64,
    /// Bytes of the raw blocks written.
    pub output_bytes: u64,
    /// Float and histogram samples written by merges.
    pub output_samples: u64,
    /// Downsampled blocks written.
    pub downsampled_blocks: u64,
    /// Bytes of the downsampled blocks written.
    pub downsampled_bytes: u64,
    /// Downsampled span blocks written (several days each).
    pub span_blocks: u64,
    /// Bytes of the span blocks written.
    pub span_bytes: u64,
    /// Tenant-day resolutions retired by retention.
    pub retired: u64,
    /// Blocks deleted (superseded, retired or uncommitted).
    pub deleted_blocks: u64,
    /// Objects deleted that no catalog item referenced.
    pub deleted_orphans: u64,
    /// Wall time (ms).
    pub duration_ms: u64,
    /// Partitions that failed, with the error; the others were still done.
    pub errors: Vec<String>,
}

/// Progress of a run, for a terminal.
#[derive(Debug)]
pub enum Progress<'a> {
    /// A block was written.
    Written {
        /// `L1`, `L2`, `5m` or `1h`.
        kind: &'static str,
        /// The block.
        block: &'a BlockMeta,
        /// The run so far.
        report: &'a RunReport,
        /// Seconds since the run started.
        elapsed_secs: f64,
    },
}

/// A progress callback.
pub type ProgressFn<'a> = &'a (dyn Fn(&Progress<'_>) + Send + Sync);

/// Runs compaction passes over one store.
#[derive(Debug)]
pub struct Compactor {
    store: Arc<MetricsStore>,
    config: CompactorConfig,
    owner: String,
    /// One run at a time per process (the timer and an admin request queue up).
    running: tokio::sync::Mutex<()>,
}

impl Compactor {
    /// A compactor of `store`.
    pub fn new(store: Arc<MetricsStore>, config: CompactorConfig) -> Self {
        Self {
            store,
            config,
            owner: ulid::Ulid::new().to_string(),
            running: tokio::sync::Mutex::new(()),
        }
    }

    /// Runs a pass every `interval_secs` until `stop` resolves (inside `architect serve`).
    pub async fn run_every(self: Arc<Self>, stop: impl std::future::Future<Output = ()>) {
        let period = std::time::Duration::from_secs(self.config.interval_secs.max(1));
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(stop);
        loop {
            tokio::select! {
                () = &mut stop => return,
                _ = ticks.tick() => {}
            }
            match self.run(&|_: &Progress<'_>| {}).await {
                Ok(r) => tracing::info!(
                    partitions = r.partitions,
                    merged = r.input_blocks,
                    written = r.output_blocks,
                    downsampled = r.downsampled_blocks,
                    deleted = r.deleted_blocks,
                    errors = r.errors.len(),
                    duration_ms = r.duration_ms,
                    "compaction pass done"
                ),
                Err(e) => tracing::warn!(error = %e, "compaction pass failed"),
            }
        }
    }

    /// The settings.
    pub fn config(&self) -> &CompactorConfig {
        &self.config
    }

    /// One pass over every tenant and day. Partition failures are collected in the report;
    /// only a failure to list tenants or days fails the run.
    pub async fn run(&self, progress: ProgressFn<'_>) -> Result<RunReport> {
        let _running = self.running.lock().await;
        let started = Instant::now();
        let mut report = RunReport::default();
        for tenant in self.store.tenants().await? {
            report.tenants += 1;
            let retention = self.retention(&tenant).await?;
            let days = self.store.days(&tenant).await?;
            // Each day's partition as its pass left it, for the span pass.
            let mut seen: HashMap<Day, DayPartition> = HashMap::new();
            for &day in &days {
                report.partitions += 1;
                let mut run = PartitionRun {
                    compactor: self,
                    tenant: &tenant,
                    day,
                    retention,
                    report: &mut report,
                    progress,
                    started,
                };
                match run.run().await {
                    Ok(Some(part)) => {
                        seen.insert(day, part);
                    }
                    Ok(None) => {}
                    Err(e) => {
                        tracing::warn!(tenant = %tenant, day = %day.iso(), error = %e, "compaction of a partition failed");
                        report.errors.push(format!("{tenant} {}: {e}", day.iso()));
                    }
                }
            }
            if !(self.config.downsample && self.config.downsample_spans) {
                continue;
            }
            let mut spans: Vec<Day> = days.iter().map(|d| layout::span_start(*d)).collect();
            spans.dedup();
            for first in spans {
                let mut run = PartitionRun {
                    compactor: self,
                    tenant: &tenant,
                    day: first,
                    retention,
                    report: &mut report,
                    progress,
                    started,
                };
                if let Err(e) = run.span(&days, &seen).await {
                    tracing::warn!(tenant = %tenant, span = %first.iso(), error = %e, "span of downsampled days failed");
                    report
                        .errors
                        .push(format!("{tenant} span {}: {e}", first.iso()));
                }
            }
        }
        report.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        Ok(report)
    }

    /// The retention of `tenant`: its item in the index, else the configured default.
    pub async fn retention(&self, tenant: &TenantId) -> Result<Retention> {
        Ok(read_retention(self.store.index().as_ref(), tenant)
            .await?
            .unwrap_or(self.config.retention))
    }
}

fn retention_pk(tenant: &TenantId) -> String {
    format!("{}#settings", tenant.as_str())
}

/// A tenant's own retention, if set.
pub async fn read_retention(index: &dyn Index, tenant: &TenantId) -> Result<Option<Retention>> {
    let Some(item) = index.get(&retention_pk(tenant), "retention").await? else {
        return Ok(None);
    };
    let days = |name: &str| {
        item.get_n(name)
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0)
    };
    Ok(Some(Retention {
        raw_days: days("raw_days"),
        res_5m_days: days("res_5m_days"),
        res_1h_days: days("res_1h_days"),
    }))
}

/// Sets a tenant's retention in the index (`architect retention set`).
pub async fn write_retention(index: &dyn Index, tenant: &TenantId, r: Retention) -> Result<()> {
    let item = Item::new(retention_pk(tenant), "retention")
        .with_n("raw_days", i64::from(r.raw_days))
        .with_n("res_5m_days", i64::from(r.res_5m_days))
        .with_n("res_1h_days", i64::from(r.res_1h_days));
    index.put(item, Condition::None).await?;
    Ok(())
}

/// One partition's pass.
struct PartitionRun<'a> {
    compactor: &'a Compactor,
    tenant: &'a TenantId,
    day: Day,
    retention: Retention,
    report: &'a mut RunReport,
    progress: ProgressFn<'a>,
    started: Instant,
}

impl PartitionRun<'_> {
    fn store(&self) -> &MetricsStore {
        &self.compactor.store
    }

    fn config(&self) -> &CompactorConfig {
        &self.compactor.config
    }

    fn now_ms(&self) -> i64 {
        self.store().clock().now_ms()
    }

    /// The day's pass; the partition as it left it, or `None` if another compactor holds it.
    async fn run(&mut self) -> Result<Option<DayPartition>> {
        let Some(lease) = self.acquire().await? else {
            return Ok(None);
        };
        let result = self.leased(&lease).await;
        let released = lease.release(self.store().index().as_ref()).await;
        let part = result?;
        released?;
        Ok(Some(part))
    }

    /// The lease of the partition, or `None` (counted as busy) if another compactor holds it.
    async fn acquire(&mut self) -> Result<Option<Lease>> {
        let index = Arc::clone(self.store().index());
        let clock = Arc::clone(self.store().clock());
        let lease_ms =
            i64::try_from(self.config().lease_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        let lease = Lease::acquire(
            index.as_ref(),
            clock.as_ref(),
            layout::blocks_pk(self.tenant.as_str(), self.day),
            &self.compactor.owner,
            lease_ms,
        )
        .await?;
        if lease.is_none() {
            self.report.partitions_busy += 1;
        }
        Ok(lease)
    }

    /// The span pass of the span starting on `self.day`, under that day's lease: for each
    /// resolution, merges the current blocks of the span's days (`days` lists the tenant's
    /// days; `seen` has the partitions the day passes left) into span blocks, unless the live
    /// span blocks already hold exactly those.
    async fn span(&mut self, days: &[Day], seen: &HashMap<Day, DayPartition>) -> Result<()> {
        let end = Day(self.day.0 + layout::SPAN_DAYS);
        let in_span: Vec<Day> = days
            .iter()
            .copied()
            .filter(|d| *d >= self.day && *d < end)
            .collect();
        // The day passes' partitions, read only for days they skipped (busy).
        let mut parts: Vec<Cow<'_, DayPartition>> = Vec::with_capacity(in_span.len());
        for d in in_span {
            parts.push(match seen.get(&d) {
                Some(p) => Cow::Borrowed(p),
                None => Cow::Owned(self.store().day_partition(self.tenant, d).await?),
            });
        }
        let now = self.now_ms();
        // The span's partition as known (without the lease), to skip spans already current.
        let no_partition = DayPartition::default();
        let anchor = match seen.get(&self.day) {
            Some(p) => Some(p),
            None if days.contains(&self.day) => None,
            None => Some(&no_partition),
        };
        let plans: Vec<(i64, Vec<BlockMeta>)> = RESOLUTIONS
            .into_iter()
            // A span whose first day is past the resolution's retention is not built (again):
            // retention retires it with that day.
            .filter(|&res| !self.expired(res, now))
            .filter_map(|res| {
                let per_day: Vec<Vec<BlockMeta>> = parts
                    .iter()
                    .map(|p| architect_store::downsampled::current_blocks(p, res))
                    .filter(|b| !b.is_empty())
                    .collect();
                (per_day.len() >= 2)
                    .then(|| (res, per_day.into_iter().flatten().collect::<Vec<_>>()))
            })
            .filter(|(res, inputs)| anchor.is_none_or(|a| !span_is_current(a, *res, inputs)))
            .collect();
        if plans.is_empty() {
            return Ok(());
        }
        let Some(lease) = self.acquire().await? else {
            return Ok(());
        };
        let mut result = Ok(());
        for (res, inputs) in plans {
            result = self.write_span(res, &inputs, &lease).await;
            if result.is_err() {
                break;
            }
        }
        let released = lease.release(self.store().index().as_ref()).await;
        result?;
        released?;
        Ok(())
    }

    /// Merges `inputs` (day blocks of one resolution, in day order) into span blocks of the
    /// span starting on `self.day`, replacing its live ones, unless those hold exactly them.
    async fn write_span(&mut self, res: i64, inputs: &[BlockMeta], lease: &Lease) -> Result<()> {
        let anchor = self.store().day_partition(self.tenant, self.day).await?;
        if anchor.retired.contains_key(&res) || span_is_current(&anchor, res, inputs) {
            return Ok(());
        }
        let mut sources: Vec<String> = inputs.iter().map(|b| b.ulid.clone()).collect();
        sources.sort();
        let existing = anchor.live_spans(res);
        let replaces: Vec<String> = existing.into_iter().map(|b| b.ulid).collect();
        let (plans, ranges) = self.plan(inputs).await?;
        let leader = ulid::Ulid::new().to_string();
        let count = ranges.len();
        for (k, range) in ranges.into_iter().enumerate() {
            let series = self.read_merged(inputs, &plans[range]).await?;
            let options = BlockOptions {
                span_days: layout::SPAN_DAYS as u16,
                ..downsampled_member(res, &leader, k + 1 == count, &replaces, &sources, lease)
            };
            let data = BlockData {
                series,
                metadata: Vec::new(),
            };
            if let Some(block) = self.write_leased(lease, data, options).await? {
                self.report.span_blocks += 1;
                self.report.span_bytes += block.bytes;
                self.written(if res == RES_5M { "5m span" } else { "1h span" }, &block);
            }
        }
        Ok(())
    }

    /// Renews the lease, then writes one block of the day (its commit checks the lease).
    async fn write_leased(
        &self,
        lease: &Lease,
        data: BlockData,
        options: BlockOptions,
    ) -> Result<Option<BlockMeta>> {
        lease
            .renew(self.store().index().as_ref(), self.store().clock().as_ref())
            .await?;
        Ok(self
            .store()
            .write_block_with(self.tenant, self.day, data, options)
            .await?)
    }

    async fn leased(&mut self, lease: &Lease) -> Result<DayPartition> {
        let now = self.now_ms();
        let mut part = self.store().day_partition(self.tenant, self.day).await?;
        if self.retire(&part, lease, now).await? {
            part = self.store().day_partition(self.tenant, self.day).await?;
        }
        let closed = self.day.end_ms() + secs_ms(self.config().settle_secs) < now;
        if !part.retired.contains_key(&0) {
            let raw = part.visible(0);
            let inputs: Vec<BlockMeta> = if closed {
                if raw.iter().any(|b| b.level < 2) {
                    raw
                } else {
                    Vec::new()
                }
            } else {
                let level0: Vec<BlockMeta> = raw.into_iter().filter(|b| b.level == 0).collect();
                if level0.len() >= self.config().min_level0_blocks.max(2) {
                    level0
                } else {
                    Vec::new()
                }
            };
            if !inputs.is_empty() {
                self.merge(&inputs, if closed { 2 } else { 1 }, lease)
                    .await?;
                part = self.store().day_partition(self.tenant, self.day).await?;
            }
            if closed && self.config().downsample {
                let raw = part.visible(0);
                let mut sources: Vec<String> = raw.iter().map(|b| b.ulid.clone()).collect();
                sources.sort();
                let stale: Vec<i64> = RESOLUTIONS
                    .into_iter()
                    .filter(|res| !part.retired.contains_key(res))
                    .filter(|&res| {
                        let current = part.live(res);
                        current.is_empty() || current.iter().any(|b| b.sources != sources)
                    })
                    .collect();
                if !raw.is_empty() && !stale.is_empty() {
                    self.downsample(&part, &raw, &sources, &stale, lease)
                        .await?;
                    part = self.store().day_partition(self.tenant, self.day).await?;
                }
            }
        }
        self.collect_garbage(&part).await?;
        Ok(part)
    }

    /// Reports a written block to the progress callback.
    fn written(&mut self, kind: &'static str, block: &BlockMeta) {
        (self.progress)(&Progress::Written {
            kind,
            block,
            report: self.report,
            elapsed_secs: self.started.elapsed().as_secs_f64(),
        });
    }

    /// True if the day is older than the tenant's retention of `res` (0 = kept forever).
    fn expired(&self, res: i64, now: i64) -> bool {
        let days = i64::from(self.retention.days(res));
        days != 0 && self.day.end_ms() < now - days * DAY_MS
    }

    /// Puts retention tombstones; true if it put any.
    async fn retire(&mut self, part: &DayPartition, lease: &Lease, now: i64) -> Result<bool> {
        let mut ops = Vec::new();
        for res in [0, RES_5M, RES_1H] {
            if !self.expired(res, now)
                || part.retired.contains_key(&res)
                || !part.blocks.iter().any(|b| b.resolution_ms == res)
            {
                continue;
            }
            ops.push(WriteOp::put(
                Item::new(
                    layout::blocks_pk(self.tenant.as_str(), self.day),
                    layout::retired_sk(res),
                )
                .with_n("at", now),
                Condition::None,
            ));
        }
        if ops.is_empty() {
            return Ok(false);
        }
        self.report.retired += ops.len() as u64;
        ops.push(lease.check());
        self.store().index().transact(ops).await?;
        Ok(true)
    }

    /// The union of the blocks' series in output order, cut into output-sized ranges.
    async fn plan(
        &self,
        blocks: &[BlockMeta],
    ) -> Result<(Vec<merge::SeriesPlan>, Vec<std::ops::Range<usize>>)> {
        let mut tables = Vec::with_capacity(blocks.len());
        for b in blocks {
            tables.push(self.store().block_series(b).await?);
        }
        let with_series: Vec<_> = blocks
            .iter()
            .zip(&tables)
            .map(|(b, t)| (b, t.entries()))
            .collect();
        let plans = merge::plan_series(&with_series);
        let ranges = merge::batches(&plans, self.config().max_output_samples);
        Ok((plans, ranges))
    }

    /// Merges `inputs` (precedence order) into blocks of `level`, committed as one group.
    async fn merge(&mut self, inputs: &[BlockMeta], level: u8, lease: &Lease) -> Result<()> {
        let (plans, ranges) = self.plan(inputs).await?;
        let mut metadata: BTreeMap<String, MetricMetadata> = BTreeMap::new();
        for b in inputs {
            for m in self.store().read_block_metadata(b).await? {
                metadata.insert(m.metric_family.clone(), m);
            }
        }
        let leader = ulid::Ulid::new().to_string();
        let order = inputs
            .iter()
            .map(|b| b.order.clone())
            .min()
            .unwrap_or_else(|| leader.clone());
        let replaces: Vec<String> = inputs.iter().map(|b| b.ulid.clone()).collect();
        let mut metadata = Some(metadata.into_values().collect::<Vec<_>>());
        let count = ranges.len().max(1);
        let points = split_points(self.day);
        for k in 0..count {
            let series = match ranges.get(k) {
                Some(range) => self.read_merged(inputs, &plans[range.clone()]).await?,
                None => Vec::new(),
            };
            let mut slices = split_by_time(series, &points);
            if k + 1 == count {
                // The group's leader is its last output with data: empty slices after it are
                // not written (a day still being written has nothing in its later slices),
                // so no empty leader item is left for every merge of a current day.
                let keep = slices
                    .iter()
                    .rposition(|s| !s.is_empty())
                    .map_or(1, |i| i + 1);
                slices.truncate(keep);
            }
            let last_slice = slices.len() - 1;
            for (slice, series) in slices.into_iter().enumerate() {
                let is_leader = k + 1 == count && slice == last_slice;
                let data = BlockData {
                    series,
                    metadata: metadata.take().unwrap_or_default(),
                };
                let options = BlockOptions {
                    level,
                    ulid: is_leader.then(|| leader.clone()),
                    order: Some(order.clone()),
                    replaces: if is_leader {
                        replaces.clone()
                    } else {
                        Vec::new()
                    },
                    group: Some(leader.clone()),
                    checks: vec![lease.check()],
                    ..BlockOptions::default()
                };
                if let Some(block) = self.write_leased(lease, data, options).await? {
                    self.report.output_blocks += 1;
                    self.report.output_bytes += block.bytes;
                    self.report.output_samples += block.samples + block.histograms;
                    self.written(if level >= 2 { "L2" } else { "L1" }, &block);
                } else if is_leader {
                    // Nothing at all to write (inputs without series or metadata): the switch is
                    // then a leader without data, which readers skip.
                    let empty = EmptyLeader {
                        ulid: &leader,
                        order: &order,
                        replaces: &replaces,
                        level,
                        resolution_ms: 0,
                        sources: &[],
                    };
                    self.commit_empty_leader(empty, lease).await?;
                }
            }
        }
        self.report.input_blocks += inputs.len() as u64;
        self.report.input_bytes += inputs.iter().map(|b| b.bytes).sum::<u64>();
        Ok(())
    }

    async fn commit_empty_leader(&mut self, leader: EmptyLeader<'_>, lease: &Lease) -> Result<()> {
        let block = BlockMeta {
            tenant: self.tenant.as_str().to_string(),
            day: self.day,
            level: leader.level,
            ulid: leader.ulid.to_string(),
            min_t: self.day.start_ms(),
            max_t: self.day.start_ms(),
            series: 0,
            samples: 0,
            histograms: 0,
            exemplars: 0,
            bytes: 0,
            parts: Vec::new(),
            metric_names: Some(Vec::new().into()),
            resolution_ms: leader.resolution_ms,
            order: leader.order.to_string(),
            replaces: leader.replaces.to_vec(),
            group: Some(leader.ulid.to_string()),
            sources: leader.sources.to_vec(),
            span_days: 1,
            created_ms: self.now_ms(),
        };
        self.store()
            .index()
            .transact(vec![
                WriteOp::put(block.to_catalog_item(), Condition::NotExists),
                lease.check(),
            ])
            .await?;
        Ok(())
    }

    /// Commits the leader of a downsampled group that has no data of its own, replacing the
    /// resolution's live blocks.
    async fn commit_empty_downsampled(
        &mut self,
        part: &DayPartition,
        resolution_ms: i64,
        leader: &str,
        sources: &[String],
        lease: &Lease,
    ) -> Result<()> {
        let replaces: Vec<String> = part
            .live(resolution_ms)
            .into_iter()
            .map(|b| b.ulid)
            .collect();
        let empty = EmptyLeader {
            ulid: leader,
            order: leader,
            replaces: &replaces,
            level: 1,
            resolution_ms,
            sources,
        };
        self.commit_empty_leader(empty, lease).await
    }

    /// The merged data of the planned series, read from every input that has them.
    async fn read_merged(
        &self,
        inputs: &[BlockMeta],
        plans: &[merge::SeriesPlan],
    ) -> Result<Vec<SeriesData>> {
        let mut acc: Vec<Option<SeriesData>> = vec![None; plans.len()];
        for (i, input) in inputs.iter().enumerate() {
            let mut wanted: Vec<(u32, usize)> = plans
                .iter()
                .enumerate()
                .flat_map(|(p, plan)| {
                    plan.sources
                        .iter()
                        .filter(move |(src, _)| *src == i)
                        .map(move |(_, r)| (*r, p))
                })
                .collect();
            if wanted.is_empty() {
                continue;
            }
            wanted.sort_unstable();
            let refs: Vec<u32> = wanted.iter().map(|(r, _)| *r).collect();
            let data = self.store().read_block_series(input, &refs).await?;
            for ((_, p), d) in wanted.into_iter().zip(data) {
                match &mut acc[p] {
                    Some(a) => merge::merge_into(a, d),
                    slot @ None => {
                        *slot = Some(SeriesData {
                            id: plans[p].id,
                            labels: plans[p].labels.clone(),
                            ..d
                        });
                    }
                }
            }
        }
        Ok(acc.into_iter().flatten().collect())
    }

    /// Builds the downsampled blocks of the resolutions in `stale` from the raw blocks.
    async fn downsample(
        &mut self,
        part: &DayPartition,
        raw: &[BlockMeta],
        sources: &[String],
        stale: &[i64],
        lease: &Lease,
    ) -> Result<()> {
        let (plans, ranges) = self.plan(raw).await?;
        let leaders: HashMap<i64, String> = stale
            .iter()
            .map(|&res| (res, ulid::Ulid::new().to_string()))
            .collect();
        let count = ranges.len();
        if count == 0 {
            // Raw blocks without series (metadata only): mark the day as downsampled anyway.
            for &res in stale {
                let leader = leaders.get(&res).cloned().unwrap_or_default();
                self.commit_empty_downsampled(part, res, &leader, sources, lease)
                    .await?;
            }
            return Ok(());
        }
        for (k, range) in ranges.into_iter().enumerate() {
            let merged = self.read_merged(raw, &plans[range]).await?;
            for &res in stale {
                let series: Vec<SeriesData> = merged
                    .iter()
                    .flat_map(|s| {
                        downsample::downsample_series(self.tenant, &s.labels, &s.samples, res)
                    })
                    .collect();
                let is_leader = k + 1 == count;
                let leader = leaders.get(&res).cloned().unwrap_or_default();
                let replaces: Vec<String> = part.live(res).into_iter().map(|b| b.ulid).collect();
                let options =
                    downsampled_member(res, &leader, is_leader, &replaces, sources, lease);
                let data = BlockData {
                    series,
                    metadata: Vec::new(),
                };
                let written = self.write_leased(lease, data, options).await?;
                if written.is_none() && is_leader {
                    // No series with float samples in the last batch: commit the group anyway.
                    let leader = leaders.get(&res).cloned().unwrap_or_default();
                    self.commit_empty_downsampled(part, res, &leader, sources, lease)
                        .await?;
                }
                if let Some(block) = written {
                    self.report.downsampled_blocks += 1;
                    self.report.downsampled_bytes += block.bytes;
                    self.written(if res == RES_5M { "5m" } else { "1h" }, &block);
                }
            }
        }
        Ok(())
    }

    /// Deletes what no reader can still need.
    async fn collect_garbage(&mut self, part: &DayPartition) -> Result<()> {
        let now = self.now_ms();
        let grace = secs_ms(self.config().grace_period_secs);
        let orphan_age = secs_ms(self.config().orphan_age_secs);
        let mut remaining: HashSet<&str> = part.blocks.iter().map(|b| b.ulid.as_str()).collect();
        let mut known_keys: HashSet<String> = HashSet::new();
        // Replaced blocks go before their replacements, so a replacement's `replaces` list
        // outlives every block it hides.
        let mut blocks: Vec<&BlockMeta> = part.blocks.iter().collect();
        let replaced = |b: &BlockMeta| part.replaced.contains_key(&b.ulid);
        blocks.sort_by(|a, b| replaced(b).cmp(&replaced(a)).then(a.ulid.cmp(&b.ulid)));
        for b in blocks {
            let replaced_long_ago = part
                .replaced
                .get(&b.ulid)
                .is_some_and(|(_, at)| *at > 0 && at + grace < now)
                && !b.replaces.iter().any(|r| remaining.contains(r.as_str()));
            // Under the lease nobody else is writing this partition's outputs: an uncommitted
            // one is left over from a compactor that died.
            let uncommitted = !part.is_committed(b);
            let retired_long_ago = part
                .retired
                .get(&b.resolution_ms)
                .is_some_and(|at| at + grace < now);
            if replaced_long_ago || uncommitted || retired_long_ago {
                self.store().delete_block(b).await?;
                remaining.remove(b.ulid.as_str());
                self.report.deleted_blocks += 1;
            } else {
                known_keys.extend(b.parts.iter().map(|(p, _)| b.key(*p)));
            }
        }
        for object in self.store().day_objects(self.tenant, self.day).await? {
            let key = object.location.to_string();
            if !known_keys.contains(&key)
                && object.last_modified.timestamp_millis() + orphan_age < now
            {
                self.store().delete_object(&object.location).await?;
                self.report.deleted_orphans += 1;
            }
        }
        // Forgotten once retention emptied it (a span's first day may hold span blocks only).
        if remaining.is_empty() && !part.retired.is_empty() {
            let index = self.store().index();
            for res in part.retired.keys() {
                index
                    .delete(
                        &layout::blocks_pk(self.tenant.as_str(), self.day),
                        &layout::retired_sk(*res),
                        Condition::None,
                    )
                    .await?;
            }
            self.store().forget_day(self.tenant, self.day).await?;
        }
        Ok(())
    }
}

/// The options of one block of a downsampled group of `res` led by `leader`: the leader,
/// written last, replaces `replaces`.
fn downsampled_member(
    res: i64,
    leader: &str,
    is_leader: bool,
    replaces: &[String],
    sources: &[String],
    lease: &Lease,
) -> BlockOptions {
    BlockOptions {
        level: 1,
        resolution_ms: res,
        ulid: is_leader.then(|| leader.to_string()),
        replaces: if is_leader {
            replaces.to_vec()
        } else {
            Vec::new()
        },
        group: Some(leader.to_string()),
        sources: sources.to_vec(),
        checks: vec![lease.check()],
        ..BlockOptions::default()
    }
}

/// True if the live span blocks of `res` in `anchor` were merged from exactly `inputs`.
fn span_is_current(anchor: &DayPartition, res: i64, inputs: &[BlockMeta]) -> bool {
    let mut sources: Vec<&str> = inputs.iter().map(|b| b.ulid.as_str()).collect();
    sources.sort_unstable();
    let existing = anchor.live_spans(res);
    !existing.is_empty()
        && existing.iter().all(|b| {
            b.sources
                .iter()
                .map(String::as_str)
                .eq(sources.iter().copied())
        })
}

/// The catalog item of a group leader without data.
struct EmptyLeader<'a> {
    ulid: &'a str,
    order: &'a str,
    replaces: &'a [String],
    level: u8,
    resolution_ms: i64,
    sources: &'a [String],
}

/// Raw outputs of a merge cover this many equal slices of their day, each its own block, so
/// that a query for an hour reads a quarter of a compacted day instead of all of it: a
/// block's pages hold whole days of a few series each, so its page statistics cannot skip by
/// time (measured: the benchmark's hour queries over a compacted day took 3x those over the
/// flushed blocks). The cost is one series table per slice (about 0.02 bytes/sample).
pub const OUTPUT_SLICES_PER_DAY: i64 = 4;

/// The inner boundaries of a day's output slices (ms), ascending.
fn split_points(day: Day) -> Vec<i64> {
    let slice = DAY_MS / OUTPUT_SLICES_PER_DAY;
    (1..OUTPUT_SLICES_PER_DAY)
        .map(|i| day.start_ms() + i * slice)
        .collect()
}

/// Splits each series' data at `points` (a sample at a point goes to the later slice): one
/// list per slice, series without data in a slice left out of it.
fn split_by_time(series: Vec<SeriesData>, points: &[i64]) -> Vec<Vec<SeriesData>> {
    let mut out: Vec<Vec<SeriesData>> = vec![Vec::new(); points.len() + 1];
    let slice_of = |t: i64| points.partition_point(|p| *p <= t);
    for s in series {
        let mut parts: Vec<SeriesData> = (0..=points.len())
            .map(|_| SeriesData {
                id: s.id,
                labels: s.labels.clone(),
                ..SeriesData::default()
            })
            .collect();
        // Samples, the bulk, are time-sorted: cut at each point instead of one push each.
        let mut rest = s.samples.as_slice();
        for (part, &point) in parts.iter_mut().zip(points) {
            let (before, after) = rest.split_at(rest.partition_point(|x| x.t < point));
            part.samples = before.to_vec();
            rest = after;
        }
        if let Some(last) = parts.last_mut() {
            last.samples = rest.to_vec();
        }
        for h in s.histograms {
            parts[slice_of(h.t)].histograms.push(h);
        }
        for e in s.exemplars {
            parts[slice_of(e.t)].exemplars.push(e);
        }
        for (slot, part) in out.iter_mut().zip(parts) {
            if !(part.samples.is_empty() && part.histograms.is_empty() && part.exemplars.is_empty())
            {
                slot.push(part);
            }
        }
    }
    out
}

fn secs_ms(secs: u64) -> i64 {
    i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use architect_model::{Exemplar, Histogram, HistogramCount, Labels, Sample, SeriesId};

    #[test]
    fn outputs_split_a_day_into_slices_and_keep_every_sample() {
        let day = Day::of_ms(1_700_000_000_000);
        let points = split_points(day);
        assert_eq!(points.len() as i64, OUTPUT_SLICES_PER_DAY - 1);
        let slice = DAY_MS / OUTPUT_SLICES_PER_DAY;
        let labels = Labels::from_pairs([("__name__", "m")]);
        let at = |t: i64| day.start_ms() + t;
        let series = SeriesData {
            id: SeriesId::of("t", &labels),
            labels: labels.clone(),
            // The first ms of the day, both sides of the first boundary, the last ms.
            samples: [0, slice - 1, slice, DAY_MS - 1]
                .iter()
                .map(|&t| Sample { t: at(t), v: 1.0 })
                .collect(),
            histograms: vec![Histogram {
                t: at(slice),
                count: HistogramCount::Int(1),
                sum: 1.0,
                schema: 0,
                zero_threshold: 0.0,
                zero_count: HistogramCount::Int(1),
                negative_spans: Vec::new(),
                negative_deltas: Vec::new(),
                negative_counts: Vec::new(),
                positive_spans: Vec::new(),
                positive_deltas: Vec::new(),
                positive_counts: Vec::new(),
                reset_hint: 0,
                custom_values: Vec::new(),
            }],
            exemplars: vec![Exemplar {
                labels: Labels::from_pairs([("trace_id", "1")]),
                t: at(0),
                v: 1.0,
            }],
        };
        let parts = split_by_time(vec![series.clone()], &points);
        assert_eq!(parts.len() as i64, OUTPUT_SLICES_PER_DAY);
        let times = |p: &[SeriesData]| -> Vec<i64> {
            p.iter()
                .flat_map(|s| s.samples.iter().map(|x| x.t - day.start_ms()))
                .collect()
        };
        assert_eq!(times(&parts[0]), vec![0, slice - 1]);
        assert_eq!(times(&parts[1]), vec![slice]);
        assert_eq!(parts[1][0].histograms.len(), 1);
        assert_eq!(parts[0][0].exemplars.len(), 1);
        // A slice without data holds no series; the last holds the day's last ms.
        assert!(parts[2].is_empty());
        assert_eq!(times(&parts[3]), vec![DAY_MS - 1]);
        // Every part keeps the series' identity.
        for p in parts.iter().flatten() {
            assert_eq!((p.id, &p.labels), (series.id, &labels));
        }
    }
}
