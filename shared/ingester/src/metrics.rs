//! The ingester's own metrics, exposed at `/metrics`.

use crate::{FlushStats, WriteOutcome};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Counters and gauges of the ingester.
#[derive(Debug, Default)]
pub struct IngesterMetrics {
    /// Float samples stored.
    pub samples_ingested: Counter,
    /// Histogram samples stored.
    pub histograms_ingested: Counter,
    /// Exemplars stored.
    pub exemplars_ingested: Counter,
    /// Identical samples dropped as retries.
    pub duplicate_samples: Counter,
    /// Blocks written by flushes.
    pub blocks_flushed: Counter,
    /// Bytes written by flushes.
    pub bytes_flushed: Counter,
    /// Samples held in the current head.
    pub head_samples: Gauge,
}

impl IngesterMetrics {
    pub(crate) fn record_write(&self, o: &WriteOutcome) {
        self.samples_ingested.inc_by(o.samples as u64);
        self.histograms_ingested.inc_by(o.histograms as u64);
        self.exemplars_ingested.inc_by(o.exemplars as u64);
        self.duplicate_samples.inc_by(o.duplicates as u64);
    }

    pub(crate) fn record_flush(&self, s: &FlushStats) {
        self.blocks_flushed.inc_by(s.blocks as u64);
        self.bytes_flushed.inc_by(s.bytes);
    }

    /// Registers clones of the metrics (they share their values) under `architect_ingester_`.
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("architect_ingester");
        r.register(
            "samples_ingested",
            "Float samples stored",
            self.samples_ingested.clone(),
        );
        r.register(
            "histograms_ingested",
            "Native histogram samples stored",
            self.histograms_ingested.clone(),
        );
        r.register(
            "exemplars_ingested",
            "Exemplars stored",
            self.exemplars_ingested.clone(),
        );
        r.register(
            "duplicate_samples",
            "Identical samples dropped as retries",
            self.duplicate_samples.clone(),
        );
        r.register(
            "blocks_flushed",
            "Blocks written by head flushes",
            self.blocks_flushed.clone(),
        );
        r.register(
            "bytes_flushed",
            "Bytes written by head flushes",
            self.bytes_flushed.clone(),
        );
        r.register(
            "head_samples",
            "Samples held in the in-memory head",
            self.head_samples.clone(),
        );
    }
}
