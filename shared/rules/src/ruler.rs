//! The ruler: one stateless pass evaluates every due slot of every group of every tenant.
//!
//! A pass loads each group's state from the index, evaluates the slots due since the last one
//! it recorded (see [`crate::schedule`]), writes rule output through the tenant's write path,
//! sends alerts, and saves the state. `architect serve` runs passes on a timer; the `rules`
//! Lambda runs one per EventBridge tick. Order per group is write → send → save, so a crash
//! loses nothing: the next pass repeats the unsaved slots (identical writes are no-ops) and
//! re-sends at most once.

use crate::RulesError;
use crate::eval::{
    EvalContext, EvalSettings, Notification, SampleAppender, evaluate_group, restore_for_state,
};
use crate::file::RuleGroup;
use crate::schedule::{due_slots, group_hash};
use crate::store::RuleStore;
use architect_model::clock::Clock;
use architect_model::{Label, Labels, TenantId};
use architect_promql::{Engine, SeriesSource};
use async_trait::async_trait;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Ruler settings (`ruler:` in the configuration file).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RulerConfig {
    /// Whether `architect serve` evaluates rules.
    pub enabled: bool,
    /// Interval of groups that set none, seconds (Prometheus `evaluation_interval`: 1m).
    pub evaluation_interval_secs: u64,
    /// How often `architect serve` looks for due groups, ms.
    pub poll_interval_ms: u64,
    /// Most time a pass catches up after missed slots, seconds; older slots are skipped.
    pub max_catch_up_secs: u64,
    /// Pending alerts are restored only if the outage was shorter, seconds (Prometheus 1h).
    pub for_outage_tolerance_secs: u64,
    /// Minimum time an alert is kept pending after an outage, seconds (Prometheus 10m).
    pub for_grace_period_secs: u64,
    /// Minimum time between sends of a firing alert, seconds (Prometheus 1m).
    pub resend_delay_secs: u64,
    /// `$externalURL` and the base of alert generator URLs.
    pub external_url: String,
    /// Labels added to sent alerts.
    pub external_labels: BTreeMap<String, String>,
    /// Alertmanagers (base URLs) that receive alerts with `POST /api/v2/alerts`.
    pub alertmanager_urls: Vec<String>,
    /// Groups evaluated at once.
    pub concurrency: usize,
}

impl Default for RulerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            evaluation_interval_secs: 60,
            poll_interval_ms: 1000,
            max_catch_up_secs: 600,
            for_outage_tolerance_secs: 3600,
            for_grace_period_secs: 600,
            resend_delay_secs: 60,
            external_url: "http://127.0.0.1:9009".to_string(),
            external_labels: BTreeMap::new(),
            alertmanager_urls: Vec::new(),
            concurrency: 8,
        }
    }
}

impl RulerConfig {
    /// Evaluation settings of these options.
    pub fn eval_settings(&self) -> EvalSettings {
        EvalSettings {
            external_labels: Labels::new(
                self.external_labels
                    .iter()
                    .map(|(k, v)| Label::new(k, v))
                    .collect(),
            ),
            external_url: self.external_url.clone(),
            resend_delay_ms: self.resend_delay_secs as i64 * 1000,
        }
    }
}

/// A tenant's data and write path, as the ruler needs them.
pub trait TenantBackend: Send + Sync {
    /// The tenant's series (blocks and head).
    fn source(&self, tenant: &TenantId) -> Arc<dyn SeriesSource>;
    /// Where the tenant's rule output goes.
    fn appender(&self, tenant: &TenantId) -> Arc<dyn SampleAppender>;
}

/// Receives alerts to send.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Delivers `alerts` of `tenant` (to an Alertmanager, or the built-in pipeline).
    async fn notify(&self, tenant: &TenantId, alerts: Vec<Notification>) -> Result<(), String>;
}

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PassReport {
    /// Groups looked at.
    pub groups: usize,
    /// Group evaluations done.
    pub evaluations: u64,
    /// Slots skipped after downtime.
    pub missed: u64,
    /// Rule evaluations that failed.
    pub rule_failures: u64,
    /// Alerts sent.
    pub alerts_sent: u64,
    /// Groups whose state another evaluator saved first.
    pub conflicts: u64,
    /// Errors that stopped a group (index, invalid stored group).
    pub errors: Vec<String>,
}

type GroupLabels = Vec<(String, String)>;

/// The ruler's metrics, named as Mimir's ruler exports Prometheus's (`tenant` is Mimir's
/// `user`): rule evaluations and failures, missed iterations, per tenant and group
/// (`namespace;group`).
#[derive(Debug, Clone, Default)]
pub struct RulerMetrics {
    evaluations: prometheus_client::metrics::family::Family<
        GroupLabels,
        prometheus_client::metrics::counter::Counter,
    >,
    failures: prometheus_client::metrics::family::Family<
        GroupLabels,
        prometheus_client::metrics::counter::Counter,
    >,
    missed: prometheus_client::metrics::family::Family<
        GroupLabels,
        prometheus_client::metrics::counter::Counter,
    >,
}

impl RulerMetrics {
    /// Registers the metrics.
    pub fn register(&self, registry: &mut prometheus_client::registry::Registry) {
        registry.register(
            "prometheus_rule_evaluations",
            "The total number of rule evaluations.",
            self.evaluations.clone(),
        );
        registry.register(
            "prometheus_rule_evaluation_failures",
            "The total number of rule evaluation failures.",
            self.failures.clone(),
        );
        registry.register(
            "prometheus_rule_group_iterations_missed",
            "The total number of rule group evaluations missed due to slow rule group evaluation.",
            self.missed.clone(),
        );
    }

    /// Failed rule evaluations of `tenant`'s group `namespace;group` so far.
    pub fn failures(&self, tenant: &str, rule_group: &str) -> u64 {
        self.failures
            .get_or_create(&labels(tenant, rule_group))
            .get()
    }
}

fn labels(tenant: &str, rule_group: &str) -> GroupLabels {
    vec![
        ("tenant".to_owned(), tenant.to_owned()),
        ("rule_group".to_owned(), rule_group.to_owned()),
    ]
}

/// Evaluates rules.
pub struct Ruler {
    metrics: RulerMetrics,
    store: RuleStore,
    backend: Arc<dyn TenantBackend>,
    notifier: Arc<dyn Notifier>,
    engine: Engine,
    clock: Arc<dyn Clock>,
    config: RulerConfig,
    settings: EvalSettings,
}

impl std::fmt::Debug for Ruler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ruler")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Ruler {
    /// A ruler over these parts.
    pub fn new(
        store: RuleStore,
        backend: Arc<dyn TenantBackend>,
        notifier: Arc<dyn Notifier>,
        engine: Engine,
        clock: Arc<dyn Clock>,
        config: RulerConfig,
    ) -> Self {
        let settings = config.eval_settings();
        Self {
            metrics: RulerMetrics::default(),
            store,
            backend,
            notifier,
            engine,
            clock,
            config,
            settings,
        }
    }

    /// The ruler's metrics (register them once to expose them).
    pub fn metrics(&self) -> &RulerMetrics {
        &self.metrics
    }

    /// The rule store.
    pub fn store(&self) -> &RuleStore {
        &self.store
    }

    /// The configuration.
    pub fn config(&self) -> &RulerConfig {
        &self.config
    }

    /// Default group interval, ms.
    pub fn default_interval_ms(&self) -> i64 {
        self.config.evaluation_interval_secs as i64 * 1000
    }

    /// Evaluates everything due now.
    pub async fn run_pass(&self) -> Result<PassReport, RulesError> {
        let now = self.clock.now_ms();
        let mut work = Vec::new();
        for tenant in self.store.tenants().await? {
            for g in self.store.groups(&tenant).await? {
                work.push((tenant.clone(), g));
            }
        }
        let mut report = PassReport {
            groups: work.len(),
            ..PassReport::default()
        };
        let results: Vec<Result<GroupOutcome, String>> = futures::stream::iter(work)
            .map(|(tenant, g)| async move {
                self.run_group(&tenant, &g.namespace, g.spec, now)
                    .await
                    .map_err(|e| format!("{}/{}: {e}", tenant.as_str(), g.namespace))
            })
            .buffer_unordered(self.config.concurrency.max(1))
            .collect()
            .await;
        for r in results {
            match r {
                Ok(o) => {
                    report.evaluations += o.evaluations;
                    report.missed += o.missed;
                    report.rule_failures += o.rule_failures;
                    report.alerts_sent += o.alerts_sent;
                    report.conflicts += u64::from(o.conflict);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "rule group pass failed");
                    report.errors.push(e);
                }
            }
        }
        Ok(report)
    }

    async fn run_group(
        &self,
        tenant: &TenantId,
        namespace: &str,
        spec: crate::file::RuleGroupSpec,
        now: i64,
    ) -> Result<GroupOutcome, RulesError> {
        let group = RuleGroup::new(namespace, spec, self.default_interval_ms(), 0)?;
        let (state, version) = self
            .store
            .load_state(tenant, namespace, &group.name)
            .await?;
        let mut state = state.unwrap_or_default();
        let hash = group_hash(namespace, &group.name);
        let (slots, missed) = due_slots(
            hash,
            group.interval_ms,
            state.last_eval_ts,
            now,
            self.config.max_catch_up_secs as i64 * 1000,
        );
        let mut outcome = GroupOutcome {
            missed,
            ..GroupOutcome::default()
        };
        let metric_labels = labels(tenant.as_str(), &format!("{namespace};{}", group.name));
        if missed > 0 {
            self.metrics
                .missed
                .get_or_create(&metric_labels)
                .inc_by(missed);
        }
        if slots.is_empty() {
            return Ok(outcome);
        }
        if missed > 0 {
            tracing::warn!(tenant = tenant.as_str(), group = %group.name, missed, "rule group missed evaluations");
            state.iterations_missed += missed;
            // Prometheus after an outage: pending alerts resume their `for` timers.
            if let (Some(down_at), Some(&ts)) = (state.last_eval_ts, slots.last()) {
                if ts - down_at <= self.config.for_outage_tolerance_secs as i64 * 1000 {
                    restore_for_state(
                        &group,
                        &mut state,
                        down_at,
                        ts,
                        self.config.for_grace_period_secs as i64 * 1000,
                    );
                } else {
                    for r in state.rules.iter_mut() {
                        r.alerts
                            .retain(|a| a.state != crate::state::AlertStateKind::Pending);
                    }
                }
            }
        }
        let source = self.backend.source(tenant);
        let appender = self.backend.appender(tenant);
        let ctx = EvalContext {
            engine: &self.engine,
            source,
            appender: &*appender,
            settings: &self.settings,
        };
        let mut to_send: Vec<Notification> = Vec::new();
        for ts in slots {
            let sent = evaluate_group(&ctx, &group, &mut state, ts, self.clock.now_ms()).await;
            outcome.evaluations += 1;
            let failed = state
                .rules
                .iter()
                .filter(|r| r.health == crate::state::Health::Err)
                .count() as u64;
            outcome.rule_failures += failed;
            self.metrics
                .evaluations
                .get_or_create(&metric_labels)
                .inc_by(state.rules.len() as u64);
            self.metrics
                .failures
                .get_or_create(&metric_labels)
                .inc_by(failed);
            // A later send of the same alert supersedes an earlier one.
            for n in sent {
                match to_send.iter_mut().find(|x| x.labels == n.labels) {
                    Some(x) => *x = n,
                    None => to_send.push(n),
                }
            }
        }
        if !to_send.is_empty() {
            outcome.alerts_sent = to_send.len() as u64;
            if let Err(e) = self.notifier.notify(tenant, to_send).await {
                tracing::warn!(tenant = tenant.as_str(), group = %group.name, error = %e, "sending alerts failed");
            }
        }
        outcome.conflict = !self
            .store
            .save_state(tenant, namespace, &group.name, &state, version)
            .await?;
        Ok(outcome)
    }

    /// Runs passes until `shutdown` resolves, every `poll_interval_ms`.
    pub async fn run_every(self: Arc<Self>, shutdown: impl std::future::Future<Output = ()>) {
        let period = std::time::Duration::from_millis(self.config.poll_interval_ms.max(100));
        let mut ticker = tokio::time::interval(period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                _ = ticker.tick() => {
                    if let Err(e) = self.run_pass().await {
                        tracing::warn!(error = %e, "rule evaluation pass failed");
                    }
                }
            }
        }
    }
}

#[derive(Debug, Default)]
struct GroupOutcome {
    evaluations: u64,
    missed: u64,
    rule_failures: u64,
    alerts_sent: u64,
    conflict: bool,
}
