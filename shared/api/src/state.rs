//! Shared state of the handlers.

use crate::ha_tracker::HaTracker;
use architect_ingester::{HeadReader, IngesterMetrics, WritePath};
use architect_model::clock::Clock;
use architect_model::{Limits, TenantId};
use architect_promql::{Engine, EngineOptions};
use architect_protocols::labels_cache::LabelsCache;
use architect_store::MetricsStore;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Request size limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpLimits {
    /// Largest request body as sent (compressed), in bytes (413 above).
    pub max_request_body_bytes: usize,
    /// Largest decompressed remote_write / remote read body, in bytes (413 above).
    pub max_decompressed_bytes: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            max_request_body_bytes: 16 * 1024 * 1024,
            max_decompressed_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Query engine limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueryLimits {
    /// How far back an instant selector looks for a sample, in seconds (Prometheus: 300).
    pub lookback_delta_seconds: u64,
    /// Longest a query may run, in seconds; a request's `timeout` can only lower it.
    pub timeout_seconds: u64,
    /// Most samples a query may hold at once (Prometheus: 50,000,000).
    pub max_samples: usize,
    /// Most points per series of a range query (Prometheus: 11,000).
    pub max_points_per_series: usize,
    /// Step of subqueries written without one, in seconds (Prometheus: the evaluation interval).
    pub default_subquery_step_seconds: u64,
    /// Range queries are evaluated in slices of this many seconds, one after another, so only
    /// one slice's samples are in memory at once (as Mimir's `split_queries_by_interval`, but
    /// inside one query); 0 = never. A query whose step is longer than a sixtieth of it is not
    /// split.
    pub split_interval_seconds: u64,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            lookback_delta_seconds: 300,
            timeout_seconds: 120,
            max_samples: 50_000_000,
            max_points_per_series: 11_000,
            default_subquery_step_seconds: 60,
            split_interval_seconds: (architect_promql::DEFAULT_SPLIT_MS / 1000) as u64,
        }
    }
}

impl QueryLimits {
    /// The configured timeout.
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.timeout_seconds)
    }

    /// Engine options for these limits.
    pub fn engine_options(&self) -> EngineOptions {
        EngineOptions {
            lookback_ms: self.lookback_delta_seconds as i64 * 1000,
            max_samples: self.max_samples,
            default_subquery_step_ms: self.default_subquery_step_seconds as i64 * 1000,
            delayed_name_removal: false,
            timeout: self.timeout(),
            split_ms: (self.split_interval_seconds as i64).saturating_mul(1000),
            split_min_steps: architect_promql::DEFAULT_SPLIT_MIN_STEPS,
        }
    }
}

/// Everything handlers need.
#[derive(Debug)]
pub struct ApiState {
    /// Where writes go: the in-process ingester, the ingester container, or straight to blocks.
    pub writer: Arc<dyn WritePath>,
    /// Data not yet in blocks (the ingester's head, local or remote, or nothing).
    pub head: Arc<dyn HeadReader>,
    /// Blocks on object storage.
    pub store: Arc<MetricsStore>,
    /// Write validation limits.
    pub limits: Limits,
    /// Body limits.
    pub http: HttpLimits,
    /// Query limits.
    pub query: QueryLimits,
    /// Tenant used when `X-Scope-OrgID` is absent.
    pub default_tenant: TenantId,
    /// Clock for sample-age checks.
    pub clock: Arc<dyn Clock>,
    /// The service's own metrics.
    pub registry: Registry,
    /// HTTP requests by route and status code.
    pub requests: Family<Vec<(String, String)>, Counter>,
    /// The compactor behind `POST /api/v1/admin/compact` (absent in the HTTP functions: the
    /// `compact` function runs it there).
    pub compactor: Option<Arc<architect_compactor::Compactor>>,
    /// HA pair dedup; its elections live in the store's index.
    pub ha: HaTracker,
    /// Ruler settings (default group interval of the rules API).
    pub ruler: architect_rules::RulerConfig,
    /// The ruler behind `POST /api/v1/admin/rules/evaluate` (absent in the HTTP functions: the
    /// `rules` function runs it there).
    pub ruler_runner: Option<Arc<architect_rules::Ruler>>,
    /// When the state was built (Alertmanager's `uptime`), ms.
    pub started_ms: i64,
    /// Wakes the `alerts` function for a tenant whose alerts were posted (AWS; `architect
    /// serve` dispatches every second without one).
    pub alert_waker: Option<Arc<dyn architect_alertmanager::wake::Waker>>,
    /// Label sets of recently written series by their remote_write 1.0 bytes.
    pub labels_cache: LabelsCache,
}

/// `architect_object_store_requests_total{operation}`: the store's object-store requests, as
/// S3 counts them (`architect_store::counting`), read at each scrape.
#[derive(Debug)]
struct ObjectRequestsCollector(architect_store::counting::ObjectRequests);

impl prometheus_client::collector::Collector for ObjectRequestsCollector {
    fn encode(
        &self,
        mut encoder: prometheus_client::encoding::DescriptorEncoder<'_>,
    ) -> Result<(), std::fmt::Error> {
        use prometheus_client::encoding::EncodeMetric;
        let mut family = encoder.encode_descriptor(
            "architect_object_store_requests",
            "Object-store requests by operation, counted as S3 bills them",
            None,
            prometheus_client::metrics::MetricType::Counter,
        )?;
        for (op, n) in self.0.snapshot() {
            let labels = [("operation", op.name())];
            prometheus_client::metrics::counter::ConstCounter::new(n)
                .encode(family.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

/// Series whose label sets the remote_write path keeps ([`LabelsCache`]): a sender's active
/// series up to this many decode without building their labels again. A label set costs the
/// cache its wire bytes and a map entry (about 200 bytes for a node_exporter series); the
/// labels themselves are shared with the head.
const LABELS_CACHE_ENTRIES: usize = 1 << 17;

impl ApiState {
    /// State with a registry holding the HTTP layer's metrics (and the ingester's, when
    /// `ingester_metrics` is given).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        writer: Arc<dyn WritePath>,
        head: Arc<dyn HeadReader>,
        ingester_metrics: Option<&IngesterMetrics>,
        store: Arc<MetricsStore>,
        limits: Limits,
        http: HttpLimits,
        query: QueryLimits,
        default_tenant: TenantId,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let mut registry = Registry::default();
        if let Some(metrics) = ingester_metrics {
            metrics.register(&mut registry);
        }
        let requests = Family::<Vec<(String, String)>, Counter>::default();
        registry.register(
            "architect_http_requests",
            "HTTP requests by route and status code",
            requests.clone(),
        );
        registry.register_collector(Box::new(ObjectRequestsCollector(
            store.object_requests().clone(),
        )));
        let ha = HaTracker::new(Arc::clone(store.index()), Arc::clone(&clock));
        let started_ms = clock.now_ms();
        ha.register(&mut registry);
        Self {
            writer,
            head,
            store,
            limits,
            http,
            query,
            default_tenant,
            clock,
            registry,
            requests,
            compactor: None,
            ha,
            ruler: architect_rules::RulerConfig::default(),
            ruler_runner: None,
            started_ms,
            alert_waker: None,
            labels_cache: LabelsCache::new(LABELS_CACHE_ENTRIES),
        }
    }

    /// The same state with a compactor for `POST /api/v1/admin/compact`.
    pub fn with_compactor(mut self, compactor: Arc<architect_compactor::Compactor>) -> Self {
        self.compactor = Some(compactor);
        self
    }

    /// Sets the ruler settings.
    pub fn with_ruler_config(mut self, config: architect_rules::RulerConfig) -> Self {
        self.ruler = config;
        self
    }

    /// Sets the waker of the alert dispatcher.
    pub fn with_alert_waker(mut self, waker: Arc<dyn architect_alertmanager::wake::Waker>) -> Self {
        self.alert_waker = Some(waker);
        self
    }

    /// Asks for a dispatch pass over `tenant` now, when there is a waker: the pass starts the
    /// timers of the groups new alerts enter, as Alertmanager does when alerts arrive.
    pub async fn wake_dispatcher(&self, tenant: &architect_model::TenantId) {
        let Some(waker) = &self.alert_waker else {
            return;
        };
        let now = self.clock.now_ms();
        if let Err(e) = architect_alertmanager::wake::schedule(
            &**self.store.index(),
            &**waker,
            tenant,
            now,
            now,
        )
        .await
        {
            tracing::warn!(tenant = tenant.as_str(), error = %e, "waking the alert dispatcher failed");
        }
    }

    /// Sets the ruler `POST /api/v1/admin/rules/evaluate` runs.
    pub fn with_ruler(mut self, ruler: Arc<architect_rules::Ruler>) -> Self {
        self.ruler_runner = Some(ruler);
        self
    }
}

impl ApiState {
    /// An engine with the configured limits and `timeout`.
    pub fn engine_with_timeout(&self, timeout: std::time::Duration) -> Engine {
        self.engine_for(timeout, 0)
    }

    /// An engine for a query that may read data downsampled to `max_resolution_ms`: the
    /// lookback of instant selectors grows to the coarsest resolution it may read (as Thanos
    /// does), so that a sample per window is still found.
    pub fn engine_for(&self, timeout: std::time::Duration, max_resolution_ms: i64) -> Engine {
        let mut opts = self.query.engine_options();
        opts.timeout = timeout;
        let coarsest = architect_store::downsampled::RESOLUTIONS
            .into_iter()
            .filter(|r| *r <= max_resolution_ms)
            .max()
            .unwrap_or(0);
        opts.lookback_ms = opts.lookback_ms.max(coarsest);
        Engine::new(opts)
    }
}
