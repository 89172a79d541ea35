//! The ruler's view of a tenant: queries read blocks and the head exactly as the query API
//! does, and rule output goes through the normal write path (WAL, head, blocks).

use crate::query::TenantSource;
use crate::state::ApiState;
use architect_ingester::{HeadReader, WritePath};
use architect_model::{Labels, Sample, SeriesWrite, TenantId, WriteRequest};
use architect_promql::SeriesSource;
use architect_rules::{OutputSample, SampleAppender, TenantBackend};
use architect_store::MetricsStore;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Arc;

/// [`TenantBackend`] over the service's head, blocks and write path.
#[derive(Debug, Clone)]
pub struct RulerBackend {
    head: Arc<dyn HeadReader>,
    store: Arc<MetricsStore>,
    writer: Arc<dyn WritePath>,
}

impl RulerBackend {
    /// The backend of `state`'s data.
    pub fn new(state: &ApiState) -> Self {
        Self {
            head: Arc::clone(&state.head),
            store: Arc::clone(&state.store),
            writer: Arc::clone(&state.writer),
        }
    }
}

impl TenantBackend for RulerBackend {
    fn source(&self, tenant: &TenantId) -> Arc<dyn SeriesSource> {
        Arc::new(TenantSource {
            head: Arc::clone(&self.head),
            store: Arc::clone(&self.store),
            tenant: tenant.clone(),
            max_resolution_ms: 0,
        })
    }

    fn appender(&self, tenant: &TenantId) -> Arc<dyn SampleAppender> {
        Arc::new(WriteAppender {
            writer: Arc::clone(&self.writer),
            tenant: tenant.clone(),
        })
    }
}

/// Appends rule output as one write request.
#[derive(Debug)]
struct WriteAppender {
    writer: Arc<dyn WritePath>,
    tenant: TenantId,
}

#[async_trait]
impl SampleAppender for WriteAppender {
    async fn append(&self, samples: Vec<OutputSample>) -> Result<(), String> {
        let mut series: BTreeMap<Labels, SeriesWrite> = BTreeMap::new();
        for s in samples {
            let entry = series
                .entry(s.labels.clone())
                .or_insert_with(|| SeriesWrite {
                    labels: s.labels,
                    samples: Vec::new(),
                    histograms: Vec::new(),
                    exemplars: Vec::new(),
                });
            match s.h {
                Some(h) => entry.histograms.push(h.to_model(s.t)),
                None => entry.samples.push(Sample { t: s.t, v: s.v }),
            }
        }
        let request = WriteRequest {
            series: series
                .into_values()
                .map(|mut w| {
                    w.samples.sort_by_key(|s| s.t);
                    w.histograms.sort_by_key(|h| h.t);
                    w
                })
                .collect(),
            metadata: Vec::new(),
        };
        let outcome = self
            .writer
            .write(&self.tenant, request, None)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(e) = outcome.first_error {
            tracing::debug!(tenant = self.tenant.as_str(), error = %e, "rule output sample refused");
        }
        Ok(())
    }
}

/// Alerts from rules into the built-in Alertmanager's state (the tenant's alerts in the index).
#[derive(Debug, Clone)]
pub(crate) struct BuiltinAlertmanager {
    state: architect_alertmanager::state::AmState,
    clock: Arc<dyn architect_model::clock::Clock>,
    index: Arc<dyn architect_index::Index>,
    waker: Option<Arc<dyn architect_alertmanager::wake::Waker>>,
}

#[async_trait]
impl architect_rules::Notifier for BuiltinAlertmanager {
    async fn notify(
        &self,
        tenant: &TenantId,
        alerts: Vec<architect_rules::Notification>,
    ) -> Result<(), String> {
        let now = self.clock.now_ms();
        let alerts = alerts
            .into_iter()
            .map(|n| architect_alertmanager::alert::Alert {
                labels: n.labels,
                annotations: n.annotations,
                starts_at: n.starts_at,
                ends_at: n.ends_at,
                generator_url: n.generator_url,
                updated_at: now,
                timeout: false,
            })
            .collect();
        self.state
            .put_alerts(tenant, alerts, now)
            .await
            .map_err(|e| e.to_string())?;
        if let Some(waker) = &self.waker {
            // The dispatcher's pass starts the new groups' timers (see `ApiState::wake_dispatcher`).
            architect_alertmanager::wake::schedule(&*self.index, &**waker, tenant, now, now)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// The ruler of `state`: its settings, engine limits and clock, rule output through its write
/// path, alerts to the configured Alertmanagers, or to the built-in one when none is
/// configured.
pub fn ruler_for(state: &ApiState) -> architect_rules::Ruler {
    let config = state.ruler.clone();
    let notifier: Arc<dyn architect_rules::Notifier> = if config.alertmanager_urls.is_empty() {
        Arc::new(BuiltinAlertmanager {
            state: architect_alertmanager::state::AmState::new(Arc::clone(state.store.index())),
            clock: Arc::clone(&state.clock),
            index: Arc::clone(state.store.index()),
            waker: state.alert_waker.clone(),
        })
    } else {
        Arc::new(architect_rules::notifier::HttpNotifier::new(
            config.alertmanager_urls.clone(),
        ))
    };
    let mut opts = state.query.engine_options();
    opts.default_subquery_step_ms = config.evaluation_interval_secs as i64 * 1000;
    architect_rules::Ruler::new(
        architect_rules::RuleStore::new(Arc::clone(state.store.index())),
        Arc::new(RulerBackend::new(state)),
        notifier,
        architect_promql::Engine::new(opts),
        Arc::clone(&state.clock),
        config,
    )
}
