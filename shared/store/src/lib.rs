//! Metric data on object storage: the Parquet layout of a block, its writer and reader, and the
//! catalog entries in the index that make a block visible.
//!
//! A *block* is what one flush (or one compaction output) of one tenant and one UTC day produces:
//! up to five Parquet objects sharing a ULID under `{tenant}/metrics/{yyyy-mm-dd}/{level}/`:
//! `{ulid}.parquet` (samples), `{ulid}.series.parquet` (labels, one row per label),
//! `{ulid}.histograms.parquet`, `{ulid}.exemplars.parquet` and `{ulid}.metadata.parquet`.
//! Objects are written first; the block becomes visible only when [`MetricsStore::write_block`]
//! commits its catalog item in the index, so readers never see half a block. See
//! `docs/adr/0001-metrics-data-model.md` for the schema and why it looks this way.
//!
//! Reads list the catalog for the days of a time range, read the (small) series part of each
//! block to resolve matchers into file-local series refs, then read only the samples row groups
//! whose statistics overlap those refs and the time range.

mod block;
mod by_series;
mod catalog;
pub mod counting;
mod decimal;
pub mod downsampled;
pub mod layout;
mod local;
mod maintenance;
pub mod objects_conformance;
mod partition;
mod read;
mod schema;
mod store;

pub use block::{BlockData, EncodedBlock, SeriesData, SeriesSlices, encode_slices};
pub use catalog::BlockMeta;
pub use local::{INLINE_READ_MAX_BYTES, LocalObjects};
/// The Parquet writer settings [`MetricsStore::writer_properties`] hands out.
pub use parquet::file::properties::WriterProperties;
pub use partition::DayPartition;
pub use read::{SeriesSamples, SeriesTable, Values, merge_sample_chunks, merge_samples};
pub use store::{
    BlockOptions, MULTIPART_PART_BYTES, MetricsStore, REMOTE_READ_CONCURRENCY, StoreConfig,
    histogram_blocks, raw_blocks,
};

/// Store errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object store failed (kept as its own kind: often transient).
    #[error("object store: {0}")]
    ObjectStore(#[from] object_store::Error),
    /// The index failed.
    #[error("index: {0}")]
    Index(#[from] architect_index::IndexError),
    /// Parquet encoding or decoding failed.
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// Arrow failed.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// A file does not have the shape this version writes.
    #[error("corrupt block {key}: {reason}")]
    Corrupt {
        /// Object key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A block object already exists at this key; it was left untouched.
    #[error("object {0} already exists; refusing to overwrite it")]
    KeyExists(String),
    /// A background task failed.
    #[error("task: {0}")]
    Task(String),
}

/// Result alias.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
