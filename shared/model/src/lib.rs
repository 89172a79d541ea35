//! The data model shared by every part of Monitoring Architect: tenants, labels, series ids,
//! samples, native histograms, exemplars, metadata, label matchers, day partitions, and the
//! validation rules a write must pass before anything is stored.
//!
//! Data flows through this crate as values: the protocol decoders build [`write::WriteRequest`]s
//! out of wire messages, [`validate`] checks them against [`validate::Limits`], the ingester
//! keeps them in its write-ahead log and head, and the store writes them into Parquet. The
//! series id ([`series::SeriesId`]) is a pure function of tenant and labels, so every writer
//! agrees on it without coordination (see `docs/adr/0001-metrics-data-model.md`).

pub mod clock;
pub mod duration;
pub mod float;
pub mod labels;
pub mod matcher;
pub mod samples;
pub mod series;
pub mod tenant;
pub mod time;
pub mod validate;
pub mod write;

pub use labels::{Label, Labels, METRIC_NAME};
pub use matcher::{MatchOp, Matcher, MatcherError};
pub use samples::{
    BucketSpan, Exemplar, Histogram, HistogramCount, MetadataType, MetricMetadata, STALE_NAN_BITS,
    Sample, is_stale_nan,
};
pub use series::SeriesId;
pub use tenant::{TenantError, TenantId};
pub use validate::{Limits, ValidationError};
pub use write::{SeriesWrite, WriteRequest};
