//! The hot tier as the HTTP layer sees it: [`WritePath`] takes validated writes, [`HeadReader`]
//! serves the data not yet in blocks. Three implementations, picked by deployment:
//!
//! - [`Ingester`]: the in-process head and WAL (`architect serve`, the ingester container);
//! - [`DirectWriter`]: no head at all; every write becomes level-0 blocks that are committed
//!   before the answer (the ingest function when no ingester is deployed);
//! - [`RemoteIngester`]: the ingester container over HTTP (the ingest and query functions in
//!   the VPC). Its wire format is Prometheus' protobufs, snappy-compressed, on the ingester's
//!   internal routes (see [`routes`]), which only the VPC can reach.

use crate::head::Head;
use crate::{FlushStats, IngestError, Ingester, WireBody, WriteOutcome};
use architect_model::{Labels, Matcher, MetricMetadata, SeriesWrite, TenantId, WriteRequest};
use architect_protocols::remote_write::WriteVersion;
use architect_protocols::{prompb, remote_read, remote_write, snappy};
use architect_store::MetricsStore;
use prost::Message;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Paths of the ingester's internal routes, shared by server and client.
pub mod routes {
    /// `POST`: a validated write (snappy `prometheus.WriteRequest`); answers [`super::RemoteOutcome`] JSON.
    pub const WRITE: &str = "/internal/v1/write";
    /// `POST`: a head read (snappy `prometheus.ReadRequest`, one query); answers a snappy
    /// `prometheus.WriteRequest` holding the series. Query parameters: [`super::HeadWant`].
    pub const SELECT: &str = "/internal/v1/select";
    /// `GET`: the head's metric metadata as a snappy `prometheus.WriteRequest`.
    pub const METADATA: &str = "/internal/v1/metadata";
    /// `POST`: cut the head now (the public admin route).
    pub const FLUSH: &str = "/api/v1/admin/flush";
    /// `GET`: readiness.
    pub const READY: &str = "/-/ready";
}

/// Which data of the matching series a head read returns. With none set, it returns the series
/// (labels only) that hold any data in the range.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HeadWant {
    /// Float samples.
    pub floats: bool,
    /// Native histogram samples.
    pub histograms: bool,
    /// Exemplars.
    pub exemplars: bool,
}

impl HeadWant {
    /// Float samples only.
    pub const FLOATS: Self = Self {
        floats: true,
        histograms: false,
        exemplars: false,
    };
    /// Native histograms only.
    pub const HISTOGRAMS: Self = Self {
        floats: false,
        histograms: true,
        exemplars: false,
    };
    /// Exemplars only.
    pub const EXEMPLARS: Self = Self {
        floats: false,
        histograms: false,
        exemplars: true,
    };
    /// Float and native histogram samples (what a PromQL selector reads).
    pub const SAMPLES: Self = Self {
        floats: true,
        histograms: true,
        exemplars: false,
    };
    /// Labels only.
    pub const LABELS: Self = Self {
        floats: false,
        histograms: false,
        exemplars: false,
    };
}

/// Takes validated writes.
#[async_trait::async_trait]
pub trait WritePath: Send + Sync + std::fmt::Debug {
    /// Stores a validated request durably; returns once it is acknowledged-safe. `wire`, when
    /// given, is the request's body as received, holding exactly `request` (see
    /// [`crate::WireBody`]).
    async fn write(
        &self,
        tenant: &TenantId,
        request: WriteRequest,
        wire: Option<WireBody>,
    ) -> Result<WriteOutcome, IngestError>;

    /// Moves whatever is held in memory into committed blocks.
    async fn flush(&self) -> Result<FlushStats, IngestError>;

    /// Whether writes are taken (the WAL is replayed).
    async fn is_ready(&self) -> bool;
}

/// Serves data not yet in blocks.
#[async_trait::async_trait]
pub trait HeadReader: Send + Sync + std::fmt::Debug {
    /// Matching series with data in `[start, end]`, holding what `want` asks for.
    async fn select(
        &self,
        tenant: &TenantId,
        matchers: &[Matcher],
        start: i64,
        end: i64,
        want: HeadWant,
    ) -> Result<Vec<SeriesWrite>, IngestError>;

    /// The tenant's metric metadata held in memory.
    async fn metadata(&self, tenant: &TenantId) -> Result<Vec<MetricMetadata>, IngestError>;
}

#[async_trait::async_trait]
impl WritePath for Ingester {
    async fn write(
        &self,
        tenant: &TenantId,
        request: WriteRequest,
        wire: Option<WireBody>,
    ) -> Result<WriteOutcome, IngestError> {
        Ingester::write(self, tenant, request, wire.as_ref()).await
    }

    async fn flush(&self) -> Result<FlushStats, IngestError> {
        Ingester::flush(self).await
    }

    async fn is_ready(&self) -> bool {
        Ingester::is_ready(self)
    }
}

#[async_trait::async_trait]
impl HeadReader for Ingester {
    async fn select(
        &self,
        tenant: &TenantId,
        matchers: &[Matcher],
        start: i64,
        end: i64,
        want: HeadWant,
    ) -> Result<Vec<SeriesWrite>, IngestError> {
        let mut out: HashMap<Labels, SeriesWrite> = HashMap::new();
        if want == HeadWant::LABELS {
            for (_, labels) in self.series(tenant, matchers, start, end) {
                entry(&mut out, labels);
            }
        }
        if want.floats {
            for s in Ingester::select(self, tenant, matchers, start, end) {
                entry(&mut out, s.labels).samples = s.samples;
            }
        }
        if want.histograms {
            for (labels, hs) in self.select_histograms(tenant, matchers, start, end) {
                entry(&mut out, labels).histograms = hs;
            }
        }
        if want.exemplars {
            for (labels, ex) in self.exemplars(tenant, matchers, start, end) {
                entry(&mut out, labels).exemplars = ex;
            }
        }
        Ok(out.into_values().collect())
    }

    async fn metadata(&self, tenant: &TenantId) -> Result<Vec<MetricMetadata>, IngestError> {
        Ok(Ingester::metadata(self, tenant))
    }
}

fn entry(out: &mut HashMap<Labels, SeriesWrite>, labels: Labels) -> &mut SeriesWrite {
    out.entry(labels.clone()).or_insert_with(|| SeriesWrite {
        labels,
        ..SeriesWrite::default()
    })
}

/// Writes every request straight into level-0 blocks, committed before the answer; holds
/// nothing in memory. Identical retries are stored twice and merged by readers (one sample per
/// series and timestamp); a conflicting value for a stored timestamp is not detected.
#[derive(Debug)]
pub struct DirectWriter {
    store: Arc<MetricsStore>,
}

impl DirectWriter {
    /// A writer into `store`.
    pub fn new(store: Arc<MetricsStore>) -> Self {
        Self { store }
    }
}

#[async_trait::async_trait]
impl WritePath for DirectWriter {
    async fn write(
        &self,
        tenant: &TenantId,
        request: WriteRequest,
        _wire: Option<WireBody>,
    ) -> Result<WriteOutcome, IngestError> {
        let head = Arc::new(Head::default());
        let appended = head.append(tenant.as_str(), request);
        crate::write_blocks(&self.store, &head, tenant).await?;
        let a = &appended.accepted;
        Ok(WriteOutcome {
            samples: a.sample_count(),
            histograms: a.histogram_count(),
            exemplars: a.exemplar_count(),
            duplicates: appended.duplicates,
            first_error: appended.first_error.map(|e| e.to_string()),
        })
    }

    async fn flush(&self) -> Result<FlushStats, IngestError> {
        Ok(FlushStats::default())
    }

    async fn is_ready(&self) -> bool {
        true
    }
}

#[async_trait::async_trait]
impl HeadReader for DirectWriter {
    async fn select(
        &self,
        _tenant: &TenantId,
        _matchers: &[Matcher],
        _start: i64,
        _end: i64,
        _want: HeadWant,
    ) -> Result<Vec<SeriesWrite>, IngestError> {
        Ok(Vec::new())
    }

    async fn metadata(&self, _tenant: &TenantId) -> Result<Vec<MetricMetadata>, IngestError> {
        Ok(Vec::new())
    }
}

/// The answer of the internal write route.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RemoteOutcome {
    /// New float samples.
    pub samples: usize,
    /// New histogram samples.
    pub histograms: usize,
    /// New exemplars.
    pub exemplars: usize,
    /// Identical samples already held.
    pub duplicates: usize,
    /// The first refusal.
    pub first_error: Option<String>,
}

impl From<WriteOutcome> for RemoteOutcome {
    fn from(o: WriteOutcome) -> Self {
        Self {
            samples: o.samples,
            histograms: o.histograms,
            exemplars: o.exemplars,
            duplicates: o.duplicates,
            first_error: o.first_error,
        }
    }
}

impl From<RemoteOutcome> for WriteOutcome {
    fn from(o: RemoteOutcome) -> Self {
        Self {
            samples: o.samples,
            histograms: o.histograms,
            exemplars: o.exemplars,
            duplicates: o.duplicates,
            first_error: o.first_error,
        }
    }
}

/// Encodes series (and metadata) as the internal routes send them.
pub fn encode_series(series: &[SeriesWrite], metadata: &[MetricMetadata]) -> Vec<u8> {
    let request = WriteRequest {
        series: series.to_vec(),
        metadata: metadata.to_vec(),
    };
    snappy::compress(&remote_write::encode_v1(&request))
}

/// Encodes a head read request.
pub fn encode_select(matchers: &[Matcher], start: i64, end: i64) -> Vec<u8> {
    let request = prompb::ReadRequest {
        queries: vec![prompb::Query {
            start_timestamp_ms: start,
            end_timestamp_ms: end,
            matchers: remote_read::wire_matchers(matchers),
            hints: None,
        }],
        accepted_response_types: Vec::new(),
    };
    snappy::compress(&request.encode_to_vec())
}

/// The ingester container, reached over HTTP.
#[derive(Debug, Clone)]
pub struct RemoteIngester {
    base: String,
    client: reqwest::Client,
}

impl RemoteIngester {
    /// A client of the ingester at `base` (e.g. `http://ingester.architect.internal:9009`).
    pub fn new(base: impl Into<String>) -> Result<Self, IngestError> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| IngestError::Remote(format!("http client: {e}")))?;
        Ok(Self {
            base: base.into().trim_end_matches('/').to_string(),
            client,
        })
    }

    async fn call(
        &self,
        request: reqwest::RequestBuilder,
        tenant: Option<&TenantId>,
    ) -> Result<reqwest::Response, IngestError> {
        let request = match tenant {
            Some(t) => request.header("X-Scope-OrgID", t.as_str()),
            None => request,
        };
        let response = request
            .send()
            .await
            .map_err(|e| IngestError::Remote(format!("ingester unreachable: {e}")))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().await.unwrap_or_default();
        if status.as_u16() == 429 {
            return Err(IngestError::RemoteOverloaded(body.trim().to_string()));
        }
        Err(IngestError::Remote(format!(
            "ingester answered {status}: {}",
            body.trim()
        )))
    }

    async fn decoded(&self, response: reqwest::Response) -> Result<WriteRequest, IngestError> {
        let body = response
            .bytes()
            .await
            .map_err(|e| IngestError::Remote(format!("ingester response: {e}")))?;
        let raw = snappy::decompress(&body, usize::MAX)
            .map_err(|e| IngestError::Remote(format!("ingester response: {e}")))?;
        remote_write::decode_v1(&raw)
            .map(|d| d.request)
            .map_err(|e| IngestError::Remote(format!("ingester response: {e}")))
    }
}

#[async_trait::async_trait]
impl WritePath for RemoteIngester {
    async fn write(
        &self,
        tenant: &TenantId,
        request: WriteRequest,
        wire: Option<WireBody>,
    ) -> Result<WriteOutcome, IngestError> {
        // The internal route takes remote_write 1.0: a 1.0 body as received goes as it is.
        let body = match wire {
            Some(w) if w.version == WriteVersion::V1 => w.snappy,
            _ => snappy::compress(&remote_write::encode_v1(&request)).into(),
        };
        let url = format!("{}{}", self.base, routes::WRITE);
        let response = self
            .call(self.client.post(url).body(body), Some(tenant))
            .await?;
        let outcome: RemoteOutcome = response
            .json()
            .await
            .map_err(|e| IngestError::Remote(format!("ingester response: {e}")))?;
        Ok(outcome.into())
    }

    async fn flush(&self) -> Result<FlushStats, IngestError> {
        let url = format!("{}{}", self.base, routes::FLUSH);
        self.call(self.client.post(url), None)
            .await?
            .json()
            .await
            .map_err(|e| IngestError::Remote(format!("ingester response: {e}")))
    }

    async fn is_ready(&self) -> bool {
        let url = format!("{}{}", self.base, routes::READY);
        self.call(self.client.get(url), None).await.is_ok()
    }
}

#[async_trait::async_trait]
impl HeadReader for RemoteIngester {
    async fn select(
        &self,
        tenant: &TenantId,
        matchers: &[Matcher],
        start: i64,
        end: i64,
        want: HeadWant,
    ) -> Result<Vec<SeriesWrite>, IngestError> {
        let url = format!("{}{}", self.base, routes::SELECT);
        let request = self
            .client
            .post(url)
            .query(&want)
            .body(encode_select(matchers, start, end));
        let response = self.call(request, Some(tenant)).await?;
        Ok(self.decoded(response).await?.series)
    }

    async fn metadata(&self, tenant: &TenantId) -> Result<Vec<MetricMetadata>, IngestError> {
        let url = format!("{}{}", self.base, routes::METADATA);
        let response = self.call(self.client.get(url), Some(tenant)).await?;
        Ok(self.decoded(response).await?.metadata)
    }
}
