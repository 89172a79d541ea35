//! A decoded write: what remote_write 1.0/2.0 (and later OTLP) requests become before validation.

use crate::labels::Labels;
use crate::samples::{Exemplar, Histogram, MetricMetadata, Sample};

/// The data of one series in a write.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SeriesWrite {
    /// Series labels, sorted by name.
    pub labels: Labels,
    /// Float samples.
    pub samples: Vec<Sample>,
    /// Native histogram samples.
    pub histograms: Vec<Histogram>,
    /// Exemplars.
    pub exemplars: Vec<Exemplar>,
}

/// A whole write request for one tenant.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WriteRequest {
    /// Series with their data.
    pub series: Vec<SeriesWrite>,
    /// Metric metadata.
    pub metadata: Vec<MetricMetadata>,
}

impl WriteRequest {
    /// Float samples in the request.
    pub fn sample_count(&self) -> usize {
        self.series.iter().map(|s| s.samples.len()).sum()
    }

    /// Histogram samples in the request.
    pub fn histogram_count(&self) -> usize {
        self.series.iter().map(|s| s.histograms.len()).sum()
    }

    /// Exemplars in the request.
    pub fn exemplar_count(&self) -> usize {
        self.series.iter().map(|s| s.exemplars.len()).sum()
    }
}
