//! Shared state of the handlers.

use architect_ingester::Ingester;
use architect_model::clock::Clock;
use architect_model::{Limits, TenantId};
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

/// Everything handlers need.
#[derive(Debug)]
pub struct ApiState {
    /// The ingester (head + WAL).
    pub ingester: Arc<Ingester>,
    /// Blocks on object storage.
    pub store: Arc<MetricsStore>,
    /// Write validation limits.
    pub limits: Limits,
    /// Body limits.
    pub http: HttpLimits,
    /// Tenant used when `X-Scope-OrgID` is absent.
    pub default_tenant: TenantId,
    /// Clock for sample-age checks.
    pub clock: Arc<dyn Clock>,
    /// The service's own metrics.
    pub registry: Registry,
    /// HTTP requests by route and status code.
    pub requests: Family<Vec<(String, String)>, Counter>,
}

impl ApiState {
    /// State with a registry holding the ingester's and the HTTP layer's metrics.
    pub fn new(
        ingester: Arc<Ingester>,
        store: Arc<MetricsStore>,
        limits: Limits,
        http: HttpLimits,
        default_tenant: TenantId,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let mut registry = Registry::default();
        ingester.metrics().register(&mut registry);
        let requests = Family::<Vec<(String, String)>, Counter>::default();
        registry.register(
            "architect_http_requests",
            "HTTP requests by route and status code",
            requests.clone(),
        );
        Self {
            ingester,
            store,
            limits,
            http,
            default_tenant,
            clock,
            registry,
            requests,
        }
    }
}
