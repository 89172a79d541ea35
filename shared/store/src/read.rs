//! Reading blocks: the series part (labels) and the samples of selected series, pruned by
//! row-group statistics on `series_ref` and `timestamp`.

use crate::catalog::BlockMeta;
use crate::layout::Part;
use crate::schema::samples_col;
use crate::{Result, StoreError, decimal};
use architect_model::{Label, Labels, Sample, SeriesId};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int32Type, Int64Type, UInt32Type};
use arrow_array::{Array, RecordBatch};
use futures::TryStreamExt;
use object_store::ObjectStore;
use object_store::path::Path;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, RowSelection};
use parquet::file::metadata::{PageIndexPolicy, ParquetMetaData};
use parquet::file::page_index::column_index::ColumnIndexMetaData;
// ParquetObjectReader is deprecated upstream in favour of a hand-written AsyncFileReader; it
// still does exactly what we need (ranged GETs over object_store). Replace it when it goes.
#[allow(deprecated)]
use parquet::arrow::async_reader::{ParquetObjectReader, ParquetRecordBatchStreamBuilder};
use parquet::file::statistics::Statistics;
use std::sync::Arc;

/// Rows per decoded batch of a samples read. Larger than the reader's default (1,024): the
/// per-batch work (arrays, the series-run scan) is then paid once per 16 K rows.
const SAMPLE_BATCH_ROWS: usize = 16 * 1024;

/// Which sample values a read decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Values {
    /// Every value, bit-exact.
    All,
    /// Only values kept as floats (staleness markers, NaN, values no decimal scale holds);
    /// decimal-coded values, most of a block's bytes, are not read and come back as 0. For
    /// callers that use only which samples exist, such as `count` and `count_over_time`.
    Presence,
}

/// The samples of one series over a time range.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesSamples {
    /// Series id.
    pub id: SeriesId,
    /// Labels.
    pub labels: Labels,
    /// Samples sorted by timestamp, one per timestamp.
    pub samples: Vec<Sample>,
}

/// The series of one block: index = file-local series ref.
#[derive(Debug, Default)]
pub struct SeriesTable {
    pub(crate) series: Vec<(SeriesId, Labels)>,
    /// Label names and their values over all series, built on first use (label APIs).
    postings: std::sync::OnceLock<LabelPostings>,
    /// Refs (ascending) of each metric name, built on first use, so that a selector with a
    /// metric name tests only that metric's series.
    by_metric: std::sync::OnceLock<std::collections::HashMap<String, Vec<u32>>>,
    /// A downsampled block's aggregate series grouped by raw series, built on first use.
    aggregates: std::sync::OnceLock<crate::downsampled::AggregateView>,
}

/// Label name → values of a block's series.
pub(crate) type LabelPostings =
    std::collections::BTreeMap<String, std::collections::BTreeSet<String>>;

impl SeriesTable {
    /// Refs (ascending) of the series matching all `matchers`.
    pub(crate) fn matching_refs(&self, matchers: &[architect_model::Matcher]) -> Vec<u32> {
        let matches = |r: u32| {
            self.series
                .get(r as usize)
                .is_some_and(|(_, labels)| architect_model::matcher::matches_all(matchers, labels))
        };
        match architect_model::matcher::metric_name_of(matchers) {
            Some(name) => self
                .metric_refs()
                .get(name)
                .map(|refs| refs.iter().copied().filter(|r| matches(*r)).collect())
                .unwrap_or_default(),
            None => (0..self.series.len() as u32)
                .filter(|r| matches(*r))
                .collect(),
        }
    }

    /// The aggregate series of a downsampled block by raw series (`tenant` is the block's).
    pub(crate) fn aggregate_view(&self, tenant: &str) -> &crate::downsampled::AggregateView {
        self.aggregates
            .get_or_init(|| crate::downsampled::AggregateView::new(tenant, &self.series))
    }

    fn metric_refs(&self) -> &std::collections::HashMap<String, Vec<u32>> {
        self.by_metric.get_or_init(|| {
            let mut out: std::collections::HashMap<String, Vec<u32>> =
                std::collections::HashMap::new();
            for (i, (_, labels)) in self.series.iter().enumerate() {
                let name = labels.metric_name();
                match out.get_mut(name) {
                    Some(refs) => refs.push(i as u32),
                    None => {
                        out.insert(name.to_string(), vec![i as u32]);
                    }
                }
            }
            out
        })
    }

    /// The block's label names and values.
    pub(crate) fn postings(&self) -> &LabelPostings {
        self.postings.get_or_init(|| {
            let mut out = LabelPostings::new();
            for (_, labels) in &self.series {
                for l in labels.iter() {
                    if let Some(values) = out.get_mut(&l.name) {
                        if !values.contains(&l.value) {
                            values.insert(l.value.clone());
                        }
                    } else {
                        out.insert(l.name.clone(), std::iter::once(l.value.clone()).collect());
                    }
                }
            }
            out
        })
    }
}

fn corrupt(key: &str, reason: &str) -> StoreError {
    StoreError::Corrupt {
        key: key.to_string(),
        reason: reason.to_string(),
    }
}

#[allow(deprecated)]
async fn builder(
    store: &Arc<dyn ObjectStore>,
    key: &str,
    size: Option<u64>,
) -> Result<ParquetRecordBatchStreamBuilder<ParquetObjectReader>> {
    builder_with(store, key, size, false).await
}

/// A reader of one part; with `page_index` the column and offset indexes are read too, so that
/// pages can be skipped by their statistics.
#[allow(deprecated)]
async fn builder_with(
    store: &Arc<dyn ObjectStore>,
    key: &str,
    size: Option<u64>,
    page_index: bool,
) -> Result<ParquetRecordBatchStreamBuilder<ParquetObjectReader>> {
    let mut reader = ParquetObjectReader::new(Arc::clone(store), Path::from(key));
    if let Some(size) = size {
        reader = reader.with_file_size(size);
    }
    let policy = if page_index {
        PageIndexPolicy::Optional
    } else {
        PageIndexPolicy::Skip
    };
    let options = ArrowReaderOptions::new().with_page_index_policy(policy);
    Ok(ParquetRecordBatchStreamBuilder::new_with_options(reader, options).await?)
}

/// Footers, page indexes and series row runs of sample parts, kept so that queries do not
/// re-read and re-parse them for every block (objects are immutable: entries never go stale).
#[derive(Debug, Default)]
pub(crate) struct MetaCache {
    meta: std::sync::Mutex<std::collections::HashMap<String, ArrowReaderMetadata>>,
    runs: std::sync::Mutex<std::collections::HashMap<String, RefRuns>>,
}

/// The row runs of a samples part, shared through [`MetaCache`].
pub(crate) type RefRuns = Arc<RowRuns>;

/// Time marks per series run: a block spanning hours is cut into this many equal time steps,
/// and for each series the row where each step begins is kept, so a query for part of the
/// block selects only the rows of the steps it overlaps (an hour of a compacted 6-hour slice,
/// the last five minutes for an instant query) instead of every row of each series' run.
/// Parquet still decompresses and bit-unpacks the pages holding skipped rows (a compacted
/// page holds about 14 series' runs), but does not build arrays of them, nor do we copy them.
const TIME_MARKS: usize = 16;

/// Blocks spanning less than this are not given time marks: a level-0 block covers minutes,
/// and its page and row-group statistics already skip by time.
const MIN_MARKED_SPAN_MS: i64 = 2 * 3_600_000;

/// Where each series' rows are in a samples part (rows are sorted by series ref, then time).
#[derive(Debug, Default)]
pub(crate) struct RowRuns {
    /// Rows `[first, end)` of each ref; `first` is `u64::MAX` for a ref without rows.
    runs: Vec<(u64, u64)>,
    /// Time marks of the runs, for blocks spanning [`MIN_MARKED_SPAN_MS`] or more.
    marks: Option<TimeMarks>,
}

/// Where inside each run the block's [`TIME_MARKS`] time steps begin.
#[derive(Debug)]
struct TimeMarks {
    /// The first step's start (the block's first timestamp) and the step length (ms).
    base: i64,
    step: i64,
    /// Per ref, `TIME_MARKS - 1` row offsets into its run: entry `k - 1` is the number of the
    /// run's rows before time `base + k * step`.
    offsets: Vec<u16>,
}

impl RowRuns {
    /// Rows `[first, end)` of `r`, if it has any.
    pub(crate) fn run(&self, r: u32) -> Option<(u64, u64)> {
        let &(first, end) = self.runs.get(r as usize)?;
        (first != u64::MAX).then_some((first, end))
    }

    /// The rows of `r` that can hold samples in `[start, end]`: its whole run, narrowed to the
    /// time steps the range overlaps when the block has time marks. `None` when none can.
    pub(crate) fn rows_within(&self, r: u32, start: i64, end: i64) -> Option<(u64, u64)> {
        let (first, last) = self.run(r)?;
        let Some(m) = &self.marks else {
            return Some((first, last));
        };
        let len = last - first;
        let per = TIME_MARKS - 1;
        // Rows before mark k hold times below `base + k * step`.
        let row_of_mark = |k: i64| -> u64 {
            if k <= 0 {
                0
            } else if k >= TIME_MARKS as i64 {
                len
            } else {
                m.offsets
                    .get(r as usize * per + k as usize - 1)
                    .map_or(len, |&o| u64::from(o))
            }
        };
        // The last mark at or before `start`, and the first one after `end`.
        let from = row_of_mark(start.saturating_sub(m.base).div_euclid(m.step));
        let to = row_of_mark(
            end.saturating_sub(m.base)
                .div_euclid(m.step)
                .saturating_add(1),
        );
        (from < to).then_some((first + from, first + to))
    }

    /// True if reading `[start, end]` through the runs skips most of a block's rows by time
    /// (see [`TIME_MARKS`]); decided from the block's catalog entry, before the runs are read.
    pub(crate) fn narrow_by_time(block: &BlockMeta, start: i64, end: i64) -> bool {
        let span = block.max_t.saturating_sub(block.min_t);
        let wanted = end.min(block.max_t).saturating_sub(start.max(block.min_t));
        span >= MIN_MARKED_SPAN_MS && wanted.saturating_mul(2) < span
    }
}

/// Builds [`RowRuns`] from the series-ref and (for marks) timestamp columns, row by row.
struct RunsBuilder {
    runs: Vec<(u64, u64)>,
    /// `(base, step, offsets)` while marks are being built; `None` once they cannot be (a
    /// run longer than `u16` rows or not sorted by time) or for a short block.
    marks: Option<(i64, i64, Vec<u16>)>,
    /// The run being read: its ref, the next mark to place and its last timestamp.
    current: Option<(u32, usize, i64)>,
    row: u64,
}

impl RunsBuilder {
    fn new(block: &BlockMeta) -> Self {
        let series = block.series as usize;
        let span = block.max_t.saturating_sub(block.min_t);
        let marks = (span >= MIN_MARKED_SPAN_MS).then(|| {
            let step = span / TIME_MARKS as i64 + 1;
            (block.min_t, step, vec![0u16; series * (TIME_MARKS - 1)])
        });
        Self {
            runs: vec![(u64::MAX, 0); series],
            marks,
            current: None,
            row: 0,
        }
    }

    fn wants_times(&self) -> bool {
        self.marks.is_some()
    }

    /// Marks from `next` on of the current run are past its last row.
    fn close_run(&mut self) {
        let (Some((r, next, _)), Some((_, _, offsets))) = (self.current, self.marks.as_mut())
        else {
            return;
        };
        let (first, end) = self.runs.get(r as usize).copied().unwrap_or((0, 0));
        let len = u16::try_from(end.saturating_sub(first)).ok();
        for k in next..TIME_MARKS {
            match (len, offsets.get_mut(r as usize * (TIME_MARKS - 1) + k - 1)) {
                (Some(len), Some(o)) => *o = len,
                _ => {
                    self.marks = None;
                    return;
                }
            }
        }
    }

    fn push(&mut self, r: u32, t: Option<i64>) {
        let row = self.row;
        self.row += 1;
        let Some(run) = self.runs.get_mut(r as usize) else {
            return;
        };
        let starts_run = self.current.is_none_or(|(c, _, _)| c != r);
        if run.0 == u64::MAX {
            run.0 = row;
        } else if starts_run {
            // The ref's rows are not contiguous: no marks (its run is then only a bound).
            self.marks = None;
        }
        run.1 = row + 1;
        let first = run.0;
        if starts_run {
            self.close_run();
            self.current = Some((r, 1, i64::MIN));
        }
        let (Some(t), Some((base, step, offsets)), Some((_, next, last_t))) =
            (t, self.marks.as_mut(), self.current.as_mut())
        else {
            return;
        };
        let offset = u16::try_from(row - first).ok();
        if t < *last_t || offset.is_none() {
            self.marks = None;
            return;
        }
        *last_t = t;
        let step_of_t = (t.saturating_sub(*base) / *step).clamp(0, TIME_MARKS as i64 - 1) as usize;
        while *next <= step_of_t {
            if let (Some(o), Some(slot)) = (
                offset,
                offsets.get_mut(r as usize * (TIME_MARKS - 1) + *next - 1),
            ) {
                *slot = o;
            }
            *next += 1;
        }
    }

    fn finish(mut self) -> RowRuns {
        self.close_run();
        RowRuns {
            runs: self.runs,
            marks: self.marks.map(|(base, step, offsets)| TimeMarks {
                base,
                step,
                offsets,
            }),
        }
    }
}

/// Entries kept before the cache starts over.
const META_CACHE_ENTRIES: usize = 4096;

impl MetaCache {
    fn get(&self, key: &str) -> Option<ArrowReaderMetadata> {
        self.meta.lock().ok()?.get(key).cloned()
    }

    fn put(&self, key: &str, meta: ArrowReaderMetadata) {
        if let Ok(mut m) = self.meta.lock() {
            if m.len() >= META_CACHE_ENTRIES {
                m.clear();
            }
            m.insert(key.to_string(), meta);
        }
    }

    fn get_runs(&self, key: &str) -> Option<RefRuns> {
        self.runs.lock().ok()?.get(key).cloned()
    }

    fn put_runs(&self, key: &str, runs: RefRuns) {
        if let Ok(mut m) = self.runs.lock() {
            if m.len() >= META_CACHE_ENTRIES {
                m.clear();
            }
            m.insert(key.to_string(), runs);
        }
    }
}

/// Where each series' rows are in a samples part: read once (the series-ref column, and the
/// timestamps for time marks; delta encoding makes both cheap) and cached, so that sparse
/// selections read exactly their rows.
pub(crate) async fn ref_runs(
    store: &Arc<dyn ObjectStore>,
    block: &BlockMeta,
    key: &str,
    cache: &MetaCache,
) -> Result<RefRuns> {
    if let Some(r) = cache.get_runs(key) {
        return Ok(r);
    }
    let b = cached_builder(store, key, block.part_size(Part::Samples), cache).await?;
    let mut builder = RunsBuilder::new(block);
    let mut leaves = vec![samples_col::SERIES_REF];
    if builder.wants_times() {
        leaves.push(samples_col::TIMESTAMP);
    }
    let mask = ProjectionMask::leaves(b.parquet_schema(), leaves);
    let mut stream = b.with_projection(mask).build()?;
    while let Some(batch) = stream.try_next().await? {
        let refs = batch
            .column(0)
            .as_primitive_opt::<UInt32Type>()
            .ok_or_else(|| corrupt(key, "series_ref"))?;
        let times = match batch.columns().get(1) {
            Some(c) => Some(
                c.as_primitive_opt::<Int64Type>()
                    .ok_or_else(|| corrupt(key, "timestamp"))?,
            ),
            None => None,
        };
        for i in 0..batch.num_rows() {
            builder.push(refs.value(i), times.map(|t| t.value(i)));
        }
    }
    let runs = Arc::new(builder.finish());
    cache.put_runs(key, Arc::clone(&runs));
    Ok(runs)
}

/// A samples-part reader with the page index, its metadata from `cache` when known.
#[allow(deprecated)]
async fn cached_builder(
    store: &Arc<dyn ObjectStore>,
    key: &str,
    size: Option<u64>,
    cache: &MetaCache,
) -> Result<ParquetRecordBatchStreamBuilder<ParquetObjectReader>> {
    let mut reader = ParquetObjectReader::new(Arc::clone(store), Path::from(key));
    if let Some(size) = size {
        reader = reader.with_file_size(size);
    }
    let meta = match cache.get(key) {
        Some(m) => m,
        None => {
            let options =
                ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Optional);
            let m = ArrowReaderMetadata::load_async(&mut reader, options).await?;
            cache.put(key, m.clone());
            m
        }
    };
    Ok(ParquetRecordBatchStreamBuilder::new_with_metadata(
        reader, meta,
    ))
}

/// Row ranges of a row group whose pages of column `col` may hold wanted values, by the
/// page statistics of the column index; the whole row group when there is no index.
fn page_ranges(
    meta: &ParquetMetaData,
    rg: usize,
    col: usize,
    rows: usize,
    keep: impl Fn(i64, i64) -> bool,
) -> Vec<std::ops::Range<usize>> {
    let pi = meta.page_index_for_row_group(rg);
    let (Some(ci), Some(oi)) = (pi.column_index(col), pi.offset_index(col)) else {
        return std::iter::once(0..rows).collect();
    };
    let locs = oi.page_locations();
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for (p, loc) in locs.iter().enumerate() {
        let start = loc.first_row_index as usize;
        let end = locs.get(p + 1).map_or(rows, |l| l.first_row_index as usize);
        let bounds = match ci {
            ColumnIndexMetaData::INT32(idx) => idx
                .min_value(p)
                .zip(idx.max_value(p))
                .map(|(a, b)| (i64::from(*a as u32), i64::from(*b as u32))),
            ColumnIndexMetaData::INT64(idx) => idx
                .min_value(p)
                .zip(idx.max_value(p))
                .map(|(a, b)| (*a, *b)),
            _ => None,
        };
        if bounds.is_none_or(|(lo, hi)| keep(lo, hi)) {
            match out.last_mut() {
                Some(last) if last.end == start => last.end = end,
                _ => out.push(start..end),
            }
        }
    }
    out
}

/// True if column `col` is null in every row of `ranges` (sorted, disjoint rows of the
/// concatenated `row_groups`), by the page index's null pages, else by the chunk statistics.
fn null_in(
    meta: &ParquetMetaData,
    row_groups: &[usize],
    col: usize,
    ranges: &[std::ops::Range<usize>],
) -> bool {
    let mut base = 0usize;
    let mut at = 0usize;
    for &rg in row_groups {
        let rows = meta.row_group(rg).num_rows() as usize;
        let end = base + rows;
        // The ranges of this row group, in its own rows.
        let mut local = Vec::new();
        while at < ranges.len() && ranges[at].start < end {
            let r = &ranges[at];
            local.push(r.start.max(base) - base..r.end.min(end) - base);
            if r.end > end {
                break;
            }
            at += 1;
        }
        if !local.is_empty() && !null_in_row_group(meta, rg, col, rows, &local) {
            return false;
        }
        base = end;
    }
    true
}

fn null_in_row_group(
    meta: &ParquetMetaData,
    rg: usize,
    col: usize,
    rows: usize,
    local: &[std::ops::Range<usize>],
) -> bool {
    let chunk = meta.row_group(rg).column(col);
    if chunk
        .statistics()
        .and_then(|s| s.null_count_opt())
        .is_some_and(|n| n == chunk.num_values() as u64)
    {
        return true;
    }
    let pi = meta.page_index_for_row_group(rg);
    let (Some(ci), Some(oi)) = (pi.column_index(col), pi.offset_index(col)) else {
        return false;
    };
    let locs = oi.page_locations();
    let mut r = 0usize;
    for (p, loc) in locs.iter().enumerate() {
        let start = loc.first_row_index as usize;
        let end = locs.get(p + 1).map_or(rows, |l| l.first_row_index as usize);
        while r < local.len() && local[r].end <= start {
            r += 1;
        }
        let overlaps = local.get(r).is_some_and(|x| x.start < end);
        if overlaps && !ci.is_null_page(p) {
            return false;
        }
    }
    true
}

/// Intersection of two sorted, disjoint range lists.
fn intersect(
    a: &[std::ops::Range<usize>],
    b: &[std::ops::Range<usize>],
) -> Vec<std::ops::Range<usize>> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        let lo = a[i].start.max(b[j].start);
        let hi = a[i].end.min(b[j].end);
        if lo < hi {
            out.push(lo..hi);
        }
        if a[i].end < b[j].end {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// Reads a block's series part.
pub(crate) async fn read_series_table(
    store: &Arc<dyn ObjectStore>,
    block: &BlockMeta,
) -> Result<SeriesTable> {
    let key = block.key(Part::Series);
    let batches: Vec<RecordBatch> = builder(store, &key, block.part_size(Part::Series))
        .await?
        .build()?
        .try_collect()
        .await?;
    let mut table = SeriesTable {
        series: Vec::with_capacity(block.series as usize),
        ..SeriesTable::default()
    };
    let mut current: Option<(u32, SeriesId, Vec<Label>)> = None;
    for b in &batches {
        let refs = b
            .column(0)
            .as_primitive_opt::<UInt32Type>()
            .ok_or_else(|| corrupt(&key, "series_ref"))?;
        let ids = b
            .column(1)
            .as_fixed_size_binary_opt()
            .ok_or_else(|| corrupt(&key, "series_id"))?;
        let names = b
            .column(2)
            .as_dictionary_opt::<UInt32Type>()
            .ok_or_else(|| corrupt(&key, "label_name"))?;
        let values = b
            .column(3)
            .as_dictionary_opt::<UInt32Type>()
            .ok_or_else(|| corrupt(&key, "label_value"))?;
        let name_strings = names
            .values()
            .as_string_opt::<i32>()
            .ok_or_else(|| corrupt(&key, "label_name values"))?;
        let value_strings = values
            .values()
            .as_string_opt::<i32>()
            .ok_or_else(|| corrupt(&key, "label_value values"))?;
        for row in 0..b.num_rows() {
            let r = refs.value(row);
            let name = name_strings.value(names.keys().value(row) as usize);
            let value = value_strings.value(values.keys().value(row) as usize);
            match &mut current {
                Some((cr, _, labels)) if *cr == r => labels.push(Label::new(name, value)),
                _ => {
                    if let Some((cr, id, labels)) = current.take() {
                        if cr as usize != table.series.len() {
                            return Err(corrupt(&key, "series refs not dense"));
                        }
                        table.series.push((id, Labels::from_sorted(labels)));
                    }
                    let id: [u8; 16] = ids
                        .value(row)
                        .try_into()
                        .map_err(|_| corrupt(&key, "series_id width"))?;
                    current = Some((
                        r,
                        SeriesId::from_be_bytes(id),
                        vec![Label::new(name, value)],
                    ));
                }
            }
        }
    }
    if let Some((cr, id, labels)) = current.take() {
        if cr as usize != table.series.len() {
            return Err(corrupt(&key, "series refs not dense"));
        }
        table.series.push((id, Labels::from_sorted(labels)));
    }
    Ok(table)
}

fn stat_range_u32(s: Option<&Statistics>) -> Option<(u32, u32)> {
    match s? {
        Statistics::Int32(v) => Some((*v.min_opt()? as u32, *v.max_opt()? as u32)),
        _ => None,
    }
}

fn stat_range_i64(s: Option<&Statistics>) -> Option<(i64, i64)> {
    match s? {
        Statistics::Int64(v) => Some((*v.min_opt()?, *v.max_opt()?)),
        _ => None,
    }
}

/// The samples of a block's selected series, in one buffer: series after series, each a
/// contiguous, time-sorted slice. One allocation per block instead of one growing vector per
/// series, and the query path copies each slice once, into the merged series.
#[derive(Debug, Default)]
pub(crate) struct BlockSamples {
    samples: Vec<Sample>,
    /// `samples[start..start + len]` of each selected series, in the order of the selection.
    spans: Vec<(usize, usize)>,
}

impl BlockSamples {
    fn new(series: usize, capacity: usize) -> Self {
        Self {
            samples: Vec::with_capacity(capacity),
            spans: vec![(0, 0); series],
        }
    }

    /// The samples of selected series `i` (empty when out of range).
    pub(crate) fn series(&self, i: usize) -> &[Sample] {
        self.spans
            .get(i)
            .map_or(&[][..], |&(start, len)| &self.samples[start..start + len])
    }

    /// Number of samples of all selected series.
    pub(crate) fn total(&self) -> usize {
        self.samples.len()
    }

    /// Appends time-sorted samples of series `slot`, later than any it has. Rows arrive
    /// sorted by series, so a series' samples are normally already the buffer's tail; if
    /// not (a file written out of order), its span moves to the tail first.
    fn append(&mut self, slot: usize, samples: impl ExactSizeIterator<Item = Sample>) {
        let (start, len) = self.spans[slot];
        if len > 0 && start + len != self.samples.len() {
            let moved = self.samples.len();
            self.samples.extend_from_within(start..start + len);
            self.spans[slot].0 = moved;
        } else if len == 0 {
            self.spans[slot].0 = self.samples.len();
        }
        let before = self.samples.len();
        self.samples.extend(samples);
        self.spans[slot].1 += self.samples.len() - before;
    }

    /// One vector per selected series.
    pub(crate) fn into_per_series(self) -> Vec<Vec<Sample>> {
        (0..self.spans.len())
            .map(|i| self.series(i).to_vec())
            .collect()
    }
}

/// Where a block read puts the samples it decodes.
pub(crate) trait SampleSink {
    /// `rows` samples at most are coming.
    fn reserve(&mut self, rows: usize);

    /// Appends time-sorted samples of selected series `slot` (its index in the selection),
    /// later than any it has from this block.
    fn append(&mut self, slot: usize, samples: impl ExactSizeIterator<Item = Sample>);
}

impl SampleSink for BlockSamples {
    fn reserve(&mut self, rows: usize) {
        self.samples.reserve(rows);
    }

    fn append(&mut self, slot: usize, samples: impl ExactSizeIterator<Item = Sample>) {
        BlockSamples::append(self, slot, samples);
    }
}

/// Reads the samples of `selected` series refs (sorted ascending) in `[start, end]`,
/// decoding `values`.
pub(crate) async fn read_block_samples(
    store: &Arc<dyn ObjectStore>,
    block: &BlockMeta,
    selected: &[u32],
    (start, end): (i64, i64),
    values: Values,
    cache: &MetaCache,
) -> Result<BlockSamples> {
    let mut out = BlockSamples::new(selected.len(), 0);
    read_block_samples_into(store, block, selected, start, end, values, cache, &mut out).await?;
    Ok(out)
}

/// [`read_block_samples`] into `out`, decoding `values`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn read_block_samples_into<S: SampleSink>(
    store: &Arc<dyn ObjectStore>,
    block: &BlockMeta,
    selected: &[u32],
    start: i64,
    end: i64,
    values: Values,
    cache: &MetaCache,
    out: &mut S,
) -> Result<()> {
    let (Some(&first_ref), Some(&last_ref)) = (selected.first(), selected.last()) else {
        return Ok(());
    };
    let key = block.key(Part::Samples);
    let b = cached_builder(store, &key, block.part_size(Part::Samples), cache).await?;
    let meta = Arc::clone(b.metadata());
    let row_groups: Vec<usize> = (0..meta.num_row_groups())
        .filter(|&i| {
            let rg = meta.row_group(i);
            let refs_ok = stat_range_u32(rg.column(samples_col::SERIES_REF).statistics())
                .is_none_or(|(min, max)| {
                    max >= first_ref
                        && min <= last_ref
                        && selected.iter().any(|r| (min..=max).contains(r))
                });
            let time_ok = stat_range_i64(rg.column(samples_col::TIMESTAMP).statistics())
                .is_none_or(|(min, max)| max >= start && min <= end);
            refs_ok && time_ok
        })
        .collect();
    if row_groups.is_empty() {
        return Ok(());
    }
    // Skip pages whose series refs or times cannot match (the page index has their bounds).
    let mut ranges = Vec::new();
    let mut base = 0usize;
    for &rg in &row_groups {
        let rows = meta.row_group(rg).num_rows() as usize;
        let by_ref = page_ranges(&meta, rg, samples_col::SERIES_REF, rows, |lo, hi| {
            let first = selected.partition_point(|r| i64::from(*r) < lo);
            selected.get(first).is_some_and(|r| i64::from(*r) <= hi)
        });
        let by_time = page_ranges(&meta, rg, samples_col::TIMESTAMP, rows, |lo, hi| {
            hi >= start && lo <= end
        });
        for r in intersect(&by_ref, &by_time) {
            ranges.push(base + r.start..base + r.end);
        }
        base += rows;
    }
    // When the wanted series are few among the block's, narrow the selection to
    // exactly their rows (from the cached row runs of each ref); the series of every selected
    // row is then known, and the series-ref column is not read.
    // Also when the range is a small part of a long block: the runs then narrow each series'
    // rows to the time steps the range overlaps.
    let mut run_refs: Option<Vec<(u32, usize)>> = None;
    if selected.len() * 4 < block.series as usize || RowRuns::narrow_by_time(block, start, end) {
        let runs = ref_runs(store, block, &key, cache).await?;
        let mut rg_first = Vec::with_capacity(meta.num_row_groups());
        let mut acc = 0u64;
        for i in 0..meta.num_row_groups() {
            rg_first.push(acc);
            acc += meta.row_group(i).num_rows() as u64;
        }
        let mut exact = Vec::with_capacity(selected.len());
        for &r in selected {
            let Some((first, end_row)) = runs.rows_within(r, start, end) else {
                continue;
            };
            let mut base = 0u64;
            for &rg in &row_groups {
                let rows = meta.row_group(rg).num_rows() as u64;
                let (s, e) = (rg_first[rg], rg_first[rg] + rows);
                let (a, b) = (first.max(s), end_row.min(e));
                if a < b {
                    exact.push(((base + a - s) as usize..(base + b - s) as usize, r));
                }
                base += rows;
            }
        }
        exact.sort_by_key(|(r, _)| r.start);
        let exact_ranges: Vec<std::ops::Range<usize>> =
            exact.iter().map(|(r, _)| r.clone()).collect();
        ranges = intersect(&ranges, &exact_ranges);
        // Each resulting range lies inside one series' run.
        let mut k = 0usize;
        let mut refs = Vec::with_capacity(ranges.len());
        for r in &ranges {
            while exact[k].0.end <= r.start {
                k += 1;
            }
            refs.push((exact[k].1, r.len()));
        }
        run_refs = Some(refs);
    }
    if ranges.is_empty() {
        return Ok(());
    }
    let rows_selected: usize = ranges.iter().map(std::ops::Range::len).sum();
    out.reserve(rows_selected);
    // A value column that is null in every selected row is not read: each column chunk read
    // costs a zstd context pair, whatever its size.
    let read_ints =
        values == Values::All && !null_in(&meta, &row_groups, samples_col::VALUE_INT, &ranges);
    let read_floats = !null_in(&meta, &row_groups, samples_col::VALUE_FLOAT, &ranges);
    let mut leaves = Vec::with_capacity(5);
    if run_refs.is_none() {
        leaves.push(samples_col::SERIES_REF);
    }
    leaves.push(samples_col::TIMESTAMP);
    if read_ints {
        leaves.extend([samples_col::VALUE_INT, samples_col::VALUE_SCALE]);
    }
    if read_floats {
        leaves.push(samples_col::VALUE_FLOAT);
    }
    let projection = ProjectionMask::leaves(b.parquet_schema(), leaves.iter().copied());
    let selection = RowSelection::from_consecutive_ranges(ranges.into_iter(), base);
    let mut stream = b
        .with_row_groups(row_groups)
        .with_row_selection(selection)
        .with_projection(projection)
        .with_batch_size(SAMPLE_BATCH_ROWS)
        .build()?;
    // Position in `run_refs` and rows of it already taken.
    let (mut run_at, mut run_taken) = (0usize, 0usize);
    // This batch's runs: (series ref, first row, end row).
    let mut batch_runs: Vec<(u32, usize, usize)> = Vec::new();
    while let Some(batch) = stream.try_next().await? {
        let n = batch.num_rows();
        let mut col = 0usize;
        let mut next_col = || {
            col += 1;
            batch.column(col - 1)
        };
        batch_runs.clear();
        match &run_refs {
            None => {
                // Rows come sorted by (series ref, time): each ref's rows are one run.
                let refs = next_col()
                    .as_primitive_opt::<UInt32Type>()
                    .ok_or_else(|| corrupt(&key, "series_ref"))?
                    .values();
                let mut i = 0usize;
                while i < n {
                    let r = refs[i];
                    let end = i + refs[i..].partition_point(|x| *x == r);
                    batch_runs.push((r, i, end));
                    i = end;
                }
            }
            Some(runs) => {
                // The runs this batch's rows continue, as selected.
                let mut i = 0usize;
                while i < n {
                    let Some(&(r, len)) = runs.get(run_at) else {
                        return Err(corrupt(&key, "more rows than selected"));
                    };
                    let take = (len - run_taken).min(n - i);
                    batch_runs.push((r, i, i + take));
                    i += take;
                    run_taken += take;
                    if run_taken == len {
                        run_at += 1;
                        run_taken = 0;
                    }
                }
            }
        }
        let ts_values = next_col()
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| corrupt(&key, "timestamp"))?
            .values();
        let ints = if read_ints {
            let ints = next_col()
                .as_primitive_opt::<Int64Type>()
                .ok_or_else(|| corrupt(&key, "value_int"))?;
            let scales = next_col()
                .as_primitive_opt::<Int32Type>()
                .ok_or_else(|| corrupt(&key, "value_scale"))?;
            Some((ints, &scales.values()[..]))
        } else {
            None
        };
        let floats = if read_floats {
            Some(
                next_col()
                    .as_primitive_opt::<Float64Type>()
                    .ok_or_else(|| corrupt(&key, "value_float"))?,
            )
        } else {
            None
        };
        // Each series' run at once.
        let mut slot = 0usize;
        for &(r, i, run_end) in &batch_runs {
            // A run is sorted by time, so the wanted rows are one slice of it.
            let lo = i + ts_values[i..run_end].partition_point(|t| *t < start);
            let hi = i + ts_values[i..run_end].partition_point(|t| *t <= end);
            if lo == hi {
                continue;
            }
            if selected.get(slot) != Some(&r) {
                match selected.binary_search(&r) {
                    Ok(s) => slot = s,
                    // Pages hold other series' rows too: skip them.
                    Err(_) => continue,
                }
            }
            decode_run(out, slot, &ts_values[lo..hi], ints, floats, lo..hi);
        }
    }
    Ok(())
}

/// Appends rows `rows` of a run (timestamps `ts`) to series `slot` of `dst`: decimal values
/// where `value_int` is set, floats elsewhere, and 0 for the rows of neither column read (a
/// [`Values::Presence`] read).
fn decode_run<S: SampleSink>(
    dst: &mut S,
    slot: usize,
    ts: &[i64],
    ints: Option<(&arrow_array::PrimitiveArray<Int64Type>, &[i32])>,
    floats: Option<&arrow_array::PrimitiveArray<Float64Type>>,
    rows: std::ops::Range<usize>,
) {
    let Some((ints, scales)) = ints else {
        // No decimal values read: floats where set.
        match floats {
            Some(f) if f.null_count() == 0 => {
                let f = &f.values()[rows];
                dst.append(slot, ts.iter().zip(f).map(|(&t, &v)| Sample { t, v }));
            }
            Some(f) => dst.append(
                slot,
                rows.enumerate().map(|(j, k)| Sample {
                    t: ts[j],
                    v: if f.is_valid(k) { f.value(k) } else { 0.0 },
                }),
            ),
            None => dst.append(slot, ts.iter().map(|&t| Sample { t, v: 0.0 })),
        }
        return;
    };
    let floats = floats.map(|f| &f.values()[..]);
    let int_values = &ints.values()[rows.clone()];
    let run_scales = &scales[rows.clone()];
    if ints.null_count() == 0 && run_scales.iter().all(|s| *s == run_scales[0]) {
        // One scale for the run (the usual case): a plain loop over two slices, with the
        // power of ten read once; integers (byte and packet counters) need no division, as
        // `m / 1.0` is `m` exactly.
        let scale = decimal::clamp_scale(run_scales[0]);
        if scale == 0 {
            dst.append(
                slot,
                ts.iter()
                    .zip(int_values)
                    .map(|(&t, &m)| Sample { t, v: m as f64 }),
            );
        } else {
            let divisor = decimal::pow10(scale);
            dst.append(
                slot,
                ts.iter().zip(int_values).map(|(&t, &m)| Sample {
                    t,
                    v: m as f64 / divisor,
                }),
            );
        }
    } else {
        dst.append(
            slot,
            rows.enumerate().map(|(j, k)| Sample {
                t: ts[j],
                v: if ints.is_valid(k) {
                    decimal::decode(int_values[j], decimal::clamp_scale(run_scales[j]))
                } else {
                    floats.map_or(f64::NAN, |f| f[k])
                },
            }),
        );
    }
}

/// Merges two timestamp-sorted sample lists into one with a single sample per timestamp.
/// On a timestamp present in both, `older` (the first write) wins: retries write identical
/// values, and a conflicting value that reached a later block (possible once the original left
/// the head, where conflicts are refused) must not replace what was acknowledged first.
pub fn merge_samples(older: Vec<Sample>, newer: Vec<Sample>) -> Vec<Sample> {
    if older.is_empty() {
        return newer;
    }
    if newer.is_empty() {
        return older;
    }
    // Blocks usually follow each other in time: append instead of merging.
    if older.last().map(|s| s.t) < newer.first().map(|s| s.t) {
        let mut older = older;
        older.extend(newer);
        return older;
    }
    if newer.last().map(|s| s.t) < older.first().map(|s| s.t) {
        let mut newer = newer;
        newer.extend(older);
        return newer;
    }
    let mut out = Vec::with_capacity(older.len() + newer.len());
    let (mut a, mut b) = (older.into_iter().peekable(), newer.into_iter().peekable());
    loop {
        match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => {
                if x.t < y.t {
                    out.extend(a.next());
                } else if y.t < x.t {
                    out.extend(b.next());
                } else {
                    b.next();
                    out.extend(a.next());
                }
            }
            (Some(_), None) => out.extend(a.by_ref()),
            (None, Some(_)) => out.extend(b.by_ref()),
            (None, None) => break,
        }
    }
    out
}

/// Merges sample lists given oldest write first (each sorted by time) into one, as repeated
/// [`merge_samples`] would, but in one allocation when they follow each other in time (blocks
/// cut from the head in order), which is the common case.
pub fn merge_sample_chunks(chunks: Vec<Vec<Sample>>) -> Vec<Sample> {
    let mut chunks: Vec<Vec<Sample>> = chunks.into_iter().filter(|c| !c.is_empty()).collect();
    if chunks.len() <= 1 {
        return chunks.pop().unwrap_or_default();
    }
    if let Some(joined) = join_in_time_order(chunks.iter().map(Vec::as_slice).collect()) {
        return joined;
    }
    chunks.into_iter().reduce(merge_samples).unwrap_or_default()
}

/// [`merge_sample_chunks`] over borrowed slices (given in precedence order). A compacted
/// day's time-slice blocks do not come in time order (the group's leader, written last, has
/// the oldest ULID), which costs nothing here while they do not overlap.
pub(crate) fn merge_sample_slices<'a>(slices: impl Iterator<Item = &'a [Sample]>) -> Vec<Sample> {
    let parts: Vec<&[Sample]> = slices.filter(|s| !s.is_empty()).collect();
    join_in_time_order(parts.clone()).unwrap_or_else(|| {
        parts
            .into_iter()
            .map(<[Sample]>::to_vec)
            .reduce(merge_samples)
            .unwrap_or_default()
    })
}

/// Non-empty, time-sorted parts concatenated in time order, in one exact allocation, when no
/// two overlap in time (then precedence cannot matter); `None` when some do.
fn join_in_time_order(mut parts: Vec<&[Sample]>) -> Option<Vec<Sample>> {
    let disjoint = |parts: &[&[Sample]]| {
        parts
            .windows(2)
            .all(|w| w[0].last().map(|x| x.t) < w[1].first().map(|x| x.t))
    };
    if !disjoint(&parts) {
        parts.sort_by_key(|p| p.first().map(|x| x.t));
        if !disjoint(&parts) {
            return None;
        }
    }
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        out.extend_from_slice(p);
    }
    Some(out)
}

/// Reads a whole optional part; empty when the block has none.
async fn read_part(
    store: &Arc<dyn ObjectStore>,
    block: &BlockMeta,
    part: Part,
) -> Result<Vec<RecordBatch>> {
    let Some(size) = block.part_size(part) else {
        return Ok(Vec::new());
    };
    let key = block.key(part);
    Ok(builder(store, &key, Some(size))
        .await?
        .build()?
        .try_collect()
        .await?)
}

/// Reads a block's metric metadata.
pub(crate) async fn read_metadata(
    store: &Arc<dyn ObjectStore>,
    block: &BlockMeta,
) -> Result<Vec<architect_model::MetricMetadata>> {
    let key = block.key(Part::Metadata);
    let mut out = Vec::new();
    for b in read_part(store, block, Part::Metadata).await? {
        let col = |i: usize, what: &str| {
            b.column(i)
                .as_string_opt::<i32>()
                .ok_or_else(|| corrupt(&key, what))
        };
        let (family, kind, help, unit) = (
            col(0, "metric_family")?,
            col(1, "type")?,
            col(2, "help")?,
            col(3, "unit")?,
        );
        for row in 0..b.num_rows() {
            out.push(architect_model::MetricMetadata {
                metric_family: family.value(row).to_string(),
                kind: metadata_type(kind.value(row)),
                help: help.value(row).to_string(),
                unit: unit.value(row).to_string(),
            });
        }
    }
    Ok(out)
}

fn metadata_type(s: &str) -> architect_model::MetadataType {
    use architect_model::MetadataType as T;
    [
        T::Counter,
        T::Gauge,
        T::Histogram,
        T::GaugeHistogram,
        T::Summary,
        T::Info,
        T::StateSet,
    ]
    .into_iter()
    .find(|t| t.as_str() == s)
    .unwrap_or(T::Unknown)
}

/// Reads a block's exemplars as `(series_ref, exemplar)` in `[start, end]`.
pub(crate) async fn read_exemplars(
    store: &Arc<dyn ObjectStore>,
    block: &BlockMeta,
    start: i64,
    end: i64,
) -> Result<Vec<(u32, architect_model::Exemplar)>> {
    let key = block.key(Part::Exemplars);
    let mut out = Vec::new();
    for b in read_part(store, block, Part::Exemplars).await? {
        let refs = b
            .column(0)
            .as_primitive_opt::<UInt32Type>()
            .ok_or_else(|| corrupt(&key, "series_ref"))?;
        let ts = b
            .column(1)
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| corrupt(&key, "timestamp"))?;
        let values = b
            .column(2)
            .as_primitive_opt::<Float64Type>()
            .ok_or_else(|| corrupt(&key, "value"))?;
        let names = b
            .column(3)
            .as_list_opt::<i32>()
            .ok_or_else(|| corrupt(&key, "label_names"))?;
        let label_values = b
            .column(4)
            .as_list_opt::<i32>()
            .ok_or_else(|| corrupt(&key, "label_values"))?;
        for row in 0..b.num_rows() {
            let t = ts.value(row);
            if t < start || t > end {
                continue;
            }
            let n = names.value(row);
            let v = label_values.value(row);
            let n = n
                .as_string_opt::<i32>()
                .ok_or_else(|| corrupt(&key, "label name"))?;
            let v = v
                .as_string_opt::<i32>()
                .ok_or_else(|| corrupt(&key, "label value"))?;
            let labels = (0..n.len().min(v.len()))
                .map(|i| Label::new(n.value(i), v.value(i)))
                .collect();
            out.push((
                refs.value(row),
                architect_model::Exemplar {
                    labels: Labels::new(labels),
                    t,
                    v: values.value(row),
                },
            ));
        }
    }
    Ok(out)
}

/// Reads a block's native histograms of `selected` series refs (sorted) in `[start, end]`, one
/// list per selected ref in the order of `selected`.
pub(crate) async fn read_histograms(
    store: &Arc<dyn ObjectStore>,
    block: &BlockMeta,
    selected: &[u32],
    start: i64,
    end: i64,
) -> Result<Vec<Vec<architect_model::Histogram>>> {
    use architect_model::{BucketSpan, HistogramCount};
    let mut out = vec![Vec::new(); selected.len()];
    let key = block.key(Part::Histograms);
    for b in read_part(store, block, Part::Histograms).await? {
        let c = |i: usize| b.column(i);
        let u32s = |i: usize, what: &str| {
            c(i).as_primitive_opt::<UInt32Type>()
                .ok_or_else(|| corrupt(&key, what))
        };
        let i64s = |i: usize, what: &str| {
            c(i).as_primitive_opt::<Int64Type>()
                .ok_or_else(|| corrupt(&key, what))
        };
        let f64s = |i: usize, what: &str| {
            c(i).as_primitive_opt::<Float64Type>()
                .ok_or_else(|| corrupt(&key, what))
        };
        let u64s = |i: usize, what: &str| {
            c(i).as_primitive_opt::<arrow_array::types::UInt64Type>()
                .ok_or_else(|| corrupt(&key, what))
        };
        let i32s = |i: usize, what: &str| {
            c(i).as_primitive_opt::<Int32Type>()
                .ok_or_else(|| corrupt(&key, what))
        };
        let lists =
            |i: usize, what: &str| c(i).as_list_opt::<i32>().ok_or_else(|| corrupt(&key, what));
        let refs = u32s(0, "series_ref")?;
        let ts = i64s(1, "timestamp")?;
        let (count_int, count_float) = (u64s(2, "count_int")?, f64s(3, "count_float")?);
        let (sum, schema, zt) = (
            f64s(4, "sum")?,
            i32s(5, "schema")?,
            f64s(6, "zero_threshold")?,
        );
        let (zero_int, zero_float) = (u64s(7, "zero_count_int")?, f64s(8, "zero_count_float")?);
        let list_cols: Vec<_> = (9..=16)
            .map(|i| lists(i, "bucket list"))
            .collect::<Result<_>>()?;
        let reset = i32s(17, "reset_hint")?;
        let custom = lists(18, "custom_values")?;
        let count_of =
            |ints: &arrow_array::UInt64Array, floats: &arrow_array::Float64Array, row| {
                if ints.is_valid(row) {
                    HistogramCount::Int(ints.value(row))
                } else {
                    HistogramCount::Float(floats.value(row))
                }
            };
        for row in 0..b.num_rows() {
            let t = ts.value(row);
            if t < start || t > end {
                continue;
            }
            let Ok(slot) = selected.binary_search(&refs.value(row)) else {
                continue;
            };
            let spans = |off: usize, len: usize| -> Vec<BucketSpan> {
                let o = list_cols[off].value(row);
                let l = list_cols[len].value(row);
                match (
                    o.as_primitive_opt::<Int32Type>(),
                    l.as_primitive_opt::<UInt32Type>(),
                ) {
                    (Some(o), Some(l)) => (0..o.len().min(l.len()))
                        .map(|i| BucketSpan {
                            offset: o.value(i),
                            length: l.value(i),
                        })
                        .collect(),
                    _ => Vec::new(),
                }
            };
            let deltas = |i: usize| -> Vec<i64> {
                list_cols[i]
                    .value(row)
                    .as_primitive_opt::<Int64Type>()
                    .map(|a| a.values().to_vec())
                    .unwrap_or_default()
            };
            let floats = |i: usize| -> Vec<f64> {
                list_cols[i]
                    .value(row)
                    .as_primitive_opt::<Float64Type>()
                    .map(|a| a.values().to_vec())
                    .unwrap_or_default()
            };
            out[slot].push(architect_model::Histogram {
                t,
                count: count_of(count_int, count_float, row),
                sum: sum.value(row),
                schema: schema.value(row),
                zero_threshold: zt.value(row),
                zero_count: count_of(zero_int, zero_float, row),
                negative_spans: spans(0, 1),
                negative_deltas: deltas(2),
                negative_counts: floats(3),
                positive_spans: spans(4, 5),
                positive_deltas: deltas(6),
                positive_counts: floats(7),
                reset_hint: reset.value(row),
                custom_values: custom
                    .value(row)
                    .as_primitive_opt::<Float64Type>()
                    .map(|a| a.values().to_vec())
                    .unwrap_or_default(),
            });
        }
    }
    for v in &mut out {
        v.sort_by_key(|h| h.t);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(t: i64, v: f64) -> Sample {
        Sample { t, v }
    }

    fn block_meta(series: u64, min_t: i64, max_t: i64) -> BlockMeta {
        BlockMeta {
            tenant: "t".into(),
            day: architect_model::time::Day::of_ms(min_t),
            level: 1,
            ulid: "u".into(),
            min_t,
            max_t,
            series,
            samples: 0,
            histograms: 0,
            exemplars: 0,
            bytes: 0,
            parts: Vec::new(),
            metric_names: None,
            resolution_ms: 0,
            order: String::new(),
            replaces: Vec::new(),
            group: None,
            sources: Vec::new(),
            span_days: 1,
            created_ms: 0,
        }
    }

    /// Rows `(ref, t)` of a 6-hour block: a regular series, one with a gap and a burst, one
    /// absent, one with a single sample.
    fn six_hour_rows(t0: i64) -> Vec<(u32, i64)> {
        let mut rows: Vec<(u32, i64)> = (0..1_440).map(|k| (0, t0 + k * 15_000)).collect();
        rows.extend(
            (0..300)
                .map(|k| t0 + k * 15_000)
                .chain((0..500).map(|k| t0 + 4 * 3_600_000 + k * 1_000))
                .map(|t| (1, t)),
        );
        rows.push((3, t0 + 6 * 3_600_000 - 1));
        rows
    }

    /// Time marks narrow a run to a superset of the rows in a range, and to little more.
    #[test]
    fn time_marks_narrow_runs_to_a_superset_of_the_wanted_rows() {
        let t0 = 1_700_000_000_000;
        let rows = six_hour_rows(t0);
        let block = block_meta(4, t0, t0 + 6 * 3_600_000 - 1);
        let mut builder = RunsBuilder::new(&block);
        assert!(builder.wants_times());
        for &(r, t) in &rows {
            builder.push(r, Some(t));
        }
        let runs = builder.finish();
        assert!(runs.marks.is_some());
        assert_eq!(runs.run(2), None);
        let hour = 3_600_000;
        let ranges = [
            (i64::MIN, i64::MAX),
            (t0, t0),
            (t0 - 5, t0 + 1),
            (t0 + 5 * hour, t0 + 6 * hour),
            (t0 + 4 * hour - 1, t0 + 4 * hour + 10_000),
            (t0 + 2 * hour + 7, t0 + 3 * hour - 7),
            (t0 + 6 * hour, i64::MAX),
            (i64::MIN, t0 - 1),
        ];
        for (start, end) in ranges {
            for r in 0..4u32 {
                let (first, last) = match runs.run(r) {
                    Some(run) => run,
                    None => continue,
                };
                let wanted: Vec<u64> = (first..last)
                    .filter(|&i| (start..=end).contains(&rows[i as usize].1))
                    .collect();
                let got = runs.rows_within(r, start, end);
                match (wanted.first(), wanted.last(), got) {
                    (Some(&a), Some(&b), Some((from, to))) => {
                        assert!(from <= a && b < to, "ref {r} [{start}, {end}]: {got:?}");
                        assert!(first <= from && to <= last);
                    }
                    (None, None, _) => {}
                    _ => panic!("ref {r} [{start}, {end}]: wanted {wanted:?}, got {got:?}"),
                }
            }
        }
        // An hour of the regular series: its rows plus at most one step on each side.
        let step_rows = 1_440 / TIME_MARKS as u64 + 1;
        let (from, to) = runs
            .rows_within(0, t0 + 2 * hour, t0 + 3 * hour)
            .expect("rows");
        assert!(to - from <= 240 + 2 * step_rows, "{from}..{to}");
    }

    /// Marks are dropped, never wrong, when a run is out of time order or longer than u16.
    #[test]
    fn time_marks_are_dropped_for_unsorted_or_long_runs() {
        let t0 = 1_700_000_000_000;
        let block = block_meta(1, t0, t0 + 6 * 3_600_000);
        let mut builder = RunsBuilder::new(&block);
        for t in [t0 + 10, t0 + 5, t0 + 3_600_000] {
            builder.push(0, Some(t));
        }
        let runs = builder.finish();
        assert!(runs.marks.is_none());
        assert_eq!(runs.rows_within(0, t0, t0), Some((0, 3)));
        let mut builder = RunsBuilder::new(&block);
        for k in 0..70_000 {
            builder.push(0, Some(t0 + k * 300));
        }
        assert!(builder.finish().marks.is_none());
        // A short block gets no marks and reads no timestamps for them.
        assert!(!RunsBuilder::new(&block_meta(1, t0, t0 + 3_600_000)).wants_times());
    }

    #[test]
    fn merge_dedups_by_timestamp_and_first_write_wins() {
        let m = merge_samples(
            vec![s(1, 1.0), s(3, 3.0), s(5, 5.0)],
            vec![s(2, 2.0), s(3, 9.0), s(6, 6.0)],
        );
        assert_eq!(
            m.iter().map(|x| x.t).collect::<Vec<_>>(),
            vec![1, 2, 3, 5, 6]
        );
        assert_eq!(m[2].v, 3.0, "the first write wins");
    }

    #[test]
    fn chunks_merge_as_pairwise_merges_do() {
        // In time order: one concatenation.
        let ordered = vec![vec![s(1, 1.0), s(2, 2.0)], vec![], vec![s(3, 3.0)]];
        assert_eq!(
            merge_sample_chunks(ordered),
            vec![s(1, 1.0), s(2, 2.0), s(3, 3.0)]
        );
        // Overlapping: the earliest chunk wins a shared timestamp, as with merge_samples.
        let overlapping = vec![
            vec![s(1, 1.0), s(4, 4.0)],
            vec![s(2, 2.0), s(4, 9.0)],
            vec![s(0, 0.0), s(4, 8.0)],
        ];
        let pairwise = overlapping
            .clone()
            .into_iter()
            .reduce(merge_samples)
            .unwrap_or_default();
        assert_eq!(merge_sample_chunks(overlapping), pairwise);
        assert_eq!(pairwise, vec![s(0, 0.0), s(1, 1.0), s(2, 2.0), s(4, 4.0)]);
        assert!(merge_sample_chunks(Vec::new()).is_empty());
    }

    #[test]
    fn disjoint_chunks_out_of_time_order_concatenate_sorted() {
        // A compacted day's slices as readers list them: the last slice (the group's leader)
        // first.
        let slices = vec![
            vec![s(30, 3.0), s(31, 3.1)],
            vec![s(0, 0.0), s(1, 0.1)],
            vec![],
            vec![s(10, 1.0)],
            vec![s(20, 2.0), s(29, 2.9)],
        ];
        let want = vec![
            s(0, 0.0),
            s(1, 0.1),
            s(10, 1.0),
            s(20, 2.0),
            s(29, 2.9),
            s(30, 3.0),
            s(31, 3.1),
        ];
        let pairwise = slices
            .clone()
            .into_iter()
            .reduce(merge_samples)
            .unwrap_or_default();
        assert_eq!(pairwise, want);
        assert_eq!(merge_sample_chunks(slices.clone()), want);
        assert_eq!(merge_sample_slices(slices.iter().map(Vec::as_slice)), want);
        // Overlapping slices keep first-write-wins, whatever their order.
        let overlapping = vec![vec![s(5, 9.0), s(6, 9.0)], vec![s(0, 0.0), s(5, 5.0)]];
        let pairwise = overlapping
            .clone()
            .into_iter()
            .reduce(merge_samples)
            .unwrap_or_default();
        assert_eq!(pairwise, vec![s(0, 0.0), s(5, 9.0), s(6, 9.0)]);
        assert_eq!(merge_sample_chunks(overlapping.clone()), pairwise);
        assert_eq!(
            merge_sample_slices(overlapping.iter().map(Vec::as_slice)),
            pairwise
        );
    }
}
