//! The notification pipeline as a stateless pass: Alertmanager's dispatcher, aggregation
//! groups, mute stages and dedup stage, with every timer and the notification log in the index.
//!
//! A pass over a tenant routes every alert, groups it per route and group labels, and flushes
//! each group that is due: first `group_wait` after the group appeared (at once when an alert
//! already started `group_wait` ago, as Alertmanager's `insert`), then every `group_interval`.
//! A flush drops inhibited and silenced alerts, honours the route's mute and active time
//! intervals, and sends to each integration of the receiver unless the notification log says
//! the receiver already knows this state (`DedupStage.needsUpdate`: new firing alerts, newly
//! resolved ones when `send_resolved`, or `repeat_interval` passed).
//!
//! Order per group: claim the flush (a conditional write of the group's state) → send → log.
//! A crash between send and log repeats the send at the next flush (at-least-once); a crash
//! between claim and send delays it by one `group_interval`.

use crate::AmError;
use crate::alert::{Alert, fingerprint};
use crate::api::{TenantAlertmanager, rfc3339};
use crate::route::Route;
use architect_index::{AttrValue, Condition, Index, Item, SkRange, query_all};
use architect_model::{Label, Labels, TenantId};
use architect_template::{NotifyAlert, NotifyData, NotifyTemplates};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// How long notification-log entries are kept (Alertmanager's `--data.retention`).
const NFLOG_RETENTION_MS: i64 = 120 * 3_600_000;

/// What a notification carries: Alertmanager's template data plus the webhook envelope.
#[derive(Clone, Debug)]
pub struct Notification {
    /// Receiver name.
    pub receiver: String,
    /// `{route key}:{group labels}`.
    pub group_key: String,
    /// The group's labels.
    pub group_labels: Labels,
    /// Alerts, firing ones with `ends_at` 0, sorted as Alertmanager sorts them.
    pub alerts: Vec<Alert>,
    /// Where this Alertmanager is reached (links).
    pub external_url: String,
    /// Alerts left out by `max_alerts`.
    pub truncated: usize,
    /// The tenant's notification templates.
    pub templates: Arc<NotifyTemplates>,
}

impl Notification {
    /// `firing` when any alert is, else `resolved`.
    pub fn status(&self, now: i64) -> &'static str {
        if self.alerts.iter().any(|a| !a.resolved_at(now)) {
            "firing"
        } else {
            "resolved"
        }
    }

    /// Labels every alert has with the same value.
    pub fn common_labels(&self) -> Labels {
        common(self.alerts.iter().map(|a| &a.labels))
    }

    /// Annotations every alert has with the same value.
    pub fn common_annotations(&self) -> Labels {
        common(self.alerts.iter().map(|a| &a.annotations))
    }

    /// The data the receiver's templates are executed with (`template.Data`).
    pub fn template_data(&self, now: i64) -> NotifyData {
        let map = |l: &Labels| -> BTreeMap<String, String> {
            l.iter()
                .map(|x| (x.name.clone(), x.value.clone()))
                .collect()
        };
        let alerts = self
            .alerts
            .iter()
            .map(|a| {
                let resolved = a.resolved_at(now);
                NotifyAlert {
                    status: if resolved { "resolved" } else { "firing" }.to_owned(),
                    labels: map(&a.labels),
                    annotations: map(&a.annotations),
                    starts_at_ms: a.starts_at,
                    ends_at_ms: if resolved { a.ends_at } else { 0 },
                    generator_url: a.generator_url.clone(),
                    fingerprint: fingerprint(&a.labels),
                }
            })
            .collect();
        NotifyData::new(
            &self.receiver,
            map(&self.group_labels),
            alerts,
            &self.external_url,
        )
    }

    /// Alertmanager's webhook message (version 4).
    pub fn webhook_json(&self, now: i64) -> Value {
        json!({
            "receiver": self.receiver,
            "status": self.status(now),
            "alerts": self.alerts.iter().map(|a| alert_json(a, now)).collect::<Vec<_>>(),
            "groupLabels": kv(&self.group_labels),
            "commonLabels": kv(&self.common_labels()),
            "commonAnnotations": kv(&self.common_annotations()),
            "externalURL": self.external_url,
            "version": "4",
            "groupKey": self.group_key,
            "truncatedAlerts": self.truncated,
        })
    }
}

fn common<'a>(mut sets: impl Iterator<Item = &'a Labels>) -> Labels {
    let Some(first) = sets.next() else {
        return Labels::default();
    };
    let mut out: Vec<Label> = first.iter().cloned().collect();
    for s in sets {
        out.retain(|l| s.get(&l.name) == Some(l.value.as_str()));
    }
    Labels::from_sorted(out)
}

fn kv(labels: &Labels) -> Value {
    Value::Object(
        labels
            .iter()
            .map(|l| (l.name.clone(), Value::String(l.value.clone())))
            .collect::<Map<String, Value>>(),
    )
}

/// Go's zero time, which Alertmanager prints for a firing alert's end.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn alert_json(a: &Alert, now: i64) -> Value {
    let resolved = a.resolved_at(now);
    json!({
        "status": if resolved { "resolved" } else { "firing" },
        "labels": kv(&a.labels),
        "annotations": kv(&a.annotations),
        "startsAt": rfc3339(a.starts_at),
        "endsAt": if a.ends_at == 0 { ZERO_TIME.to_string() } else { rfc3339(a.ends_at) },
        "generatorURL": a.generator_url,
        "fingerprint": fingerprint(&a.labels),
    })
}

/// One notifier of a receiver (a webhook, a Slack channel, ...).
#[async_trait]
pub trait Integration: Send + Sync + std::fmt::Debug {
    /// `webhook`, `slack`, ... as Alertmanager names integrations in metrics.
    fn kind(&self) -> &'static str;
    /// Whether resolved alerts are sent.
    fn send_resolved(&self) -> bool;
    /// Most alerts per notification (0 = all).
    fn max_alerts(&self) -> usize {
        0
    }
    /// Delivers one notification; an error is retried at the next flush.
    async fn notify(&self, n: &Notification, now: i64) -> Result<(), String>;
}

/// Builds the integrations of a receiver.
pub trait IntegrationFactory: Send + Sync {
    /// The integrations of `receiver` in `config`, in Alertmanager's order.
    fn integrations(
        &self,
        config: &crate::config::Config,
        receiver: &str,
    ) -> Vec<Arc<dyn Integration>>;
}

/// Settings of the built-in Alertmanager (`alertmanager:` in the configuration file).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertmanagerSettings {
    /// Whether `architect serve` sends notifications.
    pub enabled: bool,
    /// How often `architect serve` looks for groups to flush, ms.
    pub poll_interval_ms: u64,
    /// Alertmanager's `--web.external-url`: links in notifications.
    pub external_url: String,
}

impl Default for AlertmanagerSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            poll_interval_ms: 1000,
            external_url: "http://127.0.0.1:9009/alertmanager".to_string(),
        }
    }
}

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DispatchReport {
    /// Groups seen.
    pub groups: usize,
    /// Groups flushed.
    pub flushes: u64,
    /// Notifications sent.
    pub notifications: u64,
    /// Notifications that failed (retried at the next flush).
    pub failures: u64,
    /// Wake-ups scheduled for groups due before the next pass ([`crate::wake`]).
    #[serde(default)]
    pub wakeups: u64,
    /// Errors that stopped a tenant.
    pub errors: Vec<String>,
}

/// A group's timer state (index item `{tenant}#am#groups` / hash of the group key).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct GroupState {
    key: String,
    first_seen: i64,
    last_flush: i64,
}

/// A notification-log entry: what a receiver's integration was last told about a group.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct LogEntry {
    firing: BTreeSet<String>,
    resolved: BTreeSet<String>,
    ts: i64,
}

impl LogEntry {
    /// Alertmanager's `DedupStage.needsUpdate`.
    fn needs_update(
        entry: Option<&LogEntry>,
        firing: &BTreeSet<String>,
        resolved: &BTreeSet<String>,
        send_resolved: bool,
        repeat_ms: i64,
        now: i64,
    ) -> bool {
        let Some(e) = entry else {
            return !firing.is_empty();
        };
        if !firing.is_subset(&e.firing) {
            return true;
        }
        if firing.is_empty() {
            return !e.firing.is_empty();
        }
        if send_resolved && !resolved.is_subset(&e.resolved) {
            return true;
        }
        e.ts < now - repeat_ms
    }
}

fn hash_key(key: &str) -> String {
    format!("{:016x}", xxhash_rust::xxh64::xxh64(key.as_bytes(), 0))
}

/// Alertmanager's alert order in notifications: by `job`, then `instance`, then all labels.
fn sort_alerts(alerts: &mut [Alert]) {
    alerts.sort_by(|a, b| {
        for k in ["job", "instance"] {
            match (a.labels.get(k), b.labels.get(k)) {
                (Some(x), Some(y)) if x != y => return x.cmp(y),
                (Some(_), None) => return std::cmp::Ordering::Less,
                (None, Some(_)) => return std::cmp::Ordering::Greater,
                _ => {}
            }
        }
        a.labels.cmp(&b.labels)
    });
}

/// Runs the pipeline for tenants.
pub struct Dispatcher {
    index: Arc<dyn Index>,
    integrations: Arc<dyn IntegrationFactory>,
    external_url: String,
    waker: Option<Arc<dyn crate::wake::Waker>>,
}

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher")
            .field("external_url", &self.external_url)
            .finish_non_exhaustive()
    }
}

struct Group<'a> {
    key: String,
    route: &'a Route,
    labels: Labels,
    alerts: Vec<Alert>,
}

impl Dispatcher {
    /// A dispatcher over `index`, notifying through `integrations`.
    pub fn new(
        index: Arc<dyn Index>,
        integrations: Arc<dyn IntegrationFactory>,
        external_url: String,
    ) -> Self {
        Self {
            index,
            integrations,
            external_url,
            waker: None,
        }
    }

    /// The same dispatcher, scheduling a wake-up for each tenant's next due group
    /// ([`crate::wake`]).
    pub fn with_waker(mut self, waker: Arc<dyn crate::wake::Waker>) -> Self {
        self.waker = Some(waker);
        self
    }

    /// One pass over the given tenants (a wake-up's).
    pub async fn run_tenants(&self, tenants: &[TenantId], now: i64) -> DispatchReport {
        let mut report = DispatchReport::default();
        for tenant in tenants {
            if let Err(e) = self.run_tenant(tenant, now, &mut report).await {
                tracing::warn!(tenant = tenant.as_str(), error = %e, "alert dispatch failed");
                report.errors.push(format!("{}: {e}", tenant.as_str()));
            }
        }
        report
    }

    /// Runs passes every `period` until `shutdown` resolves.
    pub async fn run_every(
        self: Arc<Self>,
        clock: Arc<dyn architect_model::clock::Clock>,
        period: std::time::Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        let mut ticker = tokio::time::interval(period.max(std::time::Duration::from_millis(100)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                _ = ticker.tick() => {
                    let report = self.run_pass(clock.now_ms()).await;
                    for e in &report.errors {
                        tracing::warn!(error = %e, "alert dispatch pass failed");
                    }
                }
            }
        }
    }

    /// Tenants with alerts or silences: those with an alerts partition (listed by the ruler
    /// and the API on every post).
    pub async fn tenants(&self) -> Result<Vec<TenantId>, AmError> {
        let items = query_all(&*self.index, crate::state::TENANTS_PK, SkRange::All).await?;
        Ok(items
            .into_iter()
            .filter_map(|i| TenantId::new(&i.sk).ok())
            .collect())
    }

    /// One pass over every tenant.
    pub async fn run_pass(&self, now: i64) -> DispatchReport {
        let mut report = DispatchReport::default();
        let tenants = match self.tenants().await {
            Ok(t) => t,
            Err(e) => {
                report.errors.push(e.to_string());
                return report;
            }
        };
        self.run_tenants(&tenants, now).await
    }

    /// One pass over one tenant.
    pub async fn run_tenant(
        &self,
        tenant: &TenantId,
        now: i64,
        report: &mut DispatchReport,
    ) -> Result<(), AmError> {
        let state = crate::state::AmState::new(Arc::clone(&self.index));
        let am = TenantAlertmanager::load(state.clone(), tenant.clone()).await?;
        let (alerts, silences) = tokio::try_join!(state.alerts(tenant), state.silences(tenant))?;
        let groups_pk = format!("{}#am#groups", tenant.as_str());
        let log_pk = format!("{}#am#nflog", tenant.as_str());
        let stored: HashMap<String, (GroupState, i64)> =
            query_all(&*self.index, &groups_pk, SkRange::All)
                .await?
                .into_iter()
                .filter_map(|i| {
                    let st: GroupState = serde_json::from_str(i.get_s("state")?).ok()?;
                    Some((i.sk.clone(), (st, i.get_n("version").unwrap_or(0))))
                })
                .collect();
        // The notification log of the tenant, read once per pass.
        let log: HashMap<String, LogEntry> = query_all(&*self.index, &log_pk, SkRange::All)
            .await?
            .into_iter()
            .filter_map(|i| {
                let entry = serde_json::from_str(i.get_s("entry")?).ok()?;
                Some((i.sk.clone(), entry))
            })
            .collect();
        // Route and group every alert that is firing, or resolved since its group's last
        // flush.
        let mut groups: BTreeMap<String, Group<'_>> = BTreeMap::new();
        for a in &alerts {
            for r in am.route().match_labels(&a.labels) {
                let labels = r.group_labels(&a.labels);
                let key = format!("{}:{}", r.key(), go_labels(&labels));
                let last_flush = stored.get(&hash_key(&key)).map_or(0, |(s, _)| s.last_flush);
                if a.resolved_at(now) && a.ends_at <= last_flush {
                    continue;
                }
                groups
                    .entry(key.clone())
                    .or_insert_with(|| Group {
                        key,
                        route: r,
                        labels,
                        alerts: Vec::new(),
                    })
                    .alerts
                    .push(a.clone());
            }
        }
        report.groups += groups.len();
        let mut next_due: Vec<i64> = Vec::new();
        let active_silences: Vec<&crate::silence::Silence> = silences
            .iter()
            .filter(|s| s.state(now) == crate::silence::SilenceState::Active)
            .collect();
        let firing_labels: Vec<Labels> = alerts
            .iter()
            .filter(|a| !a.resolved_at(now))
            .map(|a| a.labels.clone())
            .collect();
        for group in groups.values() {
            let sk = hash_key(&group.key);
            let (st, version) = stored.get(&sk).cloned().unwrap_or_default();
            let first_seen = if st.first_seen == 0 {
                now
            } else {
                st.first_seen
            };
            let due = if st.last_flush == 0 {
                now >= first_seen + group.route.group_wait_ms
                    || group
                        .alerts
                        .iter()
                        .any(|a| a.starts_at + group.route.group_wait_ms < now)
            } else {
                now >= st.last_flush + group.route.group_interval_ms
            };
            if !due {
                if st.first_seen == 0 {
                    self.save_group(&groups_pk, &sk, &group.key, first_seen, 0, version)
                        .await?;
                }
                next_due.push(if st.last_flush == 0 {
                    first_seen + group.route.group_wait_ms
                } else {
                    st.last_flush + group.route.group_interval_ms
                });
                continue;
            }
            // Claim this flush; a racing pass that claimed it first wins (and schedules it).
            if !self
                .save_group(&groups_pk, &sk, &group.key, first_seen, now, version)
                .await?
            {
                continue;
            }
            next_due.push(now + group.route.group_interval_ms);
            report.flushes += 1;
            // The flush: firing alerts lose their end time, as Alertmanager's `flush`.
            let mut alerts: Vec<Alert> = group
                .alerts
                .iter()
                .map(|a| {
                    let mut a = a.clone();
                    if !a.resolved_at(now) {
                        a.ends_at = 0;
                    }
                    a
                })
                .collect();
            // Mute stages: inhibition, silences, time intervals.
            alerts.retain(|a| {
                let (silenced, inhibited) =
                    am.muted_by(&a.labels, &firing_labels, &active_silences, now);
                silenced.is_empty() && inhibited.is_empty()
            });
            if am.muted_by_time(group.route, now) {
                continue;
            }
            sort_alerts(&mut alerts);
            let firing: BTreeSet<String> = alerts
                .iter()
                .filter(|a| !a.resolved_at(now))
                .map(|a| fingerprint(&a.labels))
                .collect();
            let resolved: BTreeSet<String> = alerts
                .iter()
                .filter(|a| a.resolved_at(now))
                .map(|a| fingerprint(&a.labels))
                .collect();
            let integrations = self
                .integrations
                .integrations(&am.config, &group.route.receiver);
            for (i, integration) in integrations.iter().enumerate() {
                let log_sk = format!("{sk}:{}:{}{i}", group.route.receiver, integration.kind());
                let entry = log.get(&log_sk);
                if !LogEntry::needs_update(
                    entry,
                    &firing,
                    &resolved,
                    integration.send_resolved(),
                    group.route.repeat_interval_ms,
                    now,
                ) {
                    continue;
                }
                let mut to_send: Vec<Alert> = if integration.send_resolved() {
                    alerts.clone()
                } else {
                    alerts
                        .iter()
                        .filter(|a| !a.resolved_at(now))
                        .cloned()
                        .collect()
                };
                if to_send.is_empty() {
                    continue;
                }
                let max = integration.max_alerts();
                let truncated = if max > 0 && to_send.len() > max {
                    let t = to_send.len() - max;
                    to_send.truncate(max);
                    t
                } else {
                    0
                };
                let n = Notification {
                    receiver: group.route.receiver.clone(),
                    group_key: group.key.clone(),
                    group_labels: group.labels.clone(),
                    alerts: to_send,
                    external_url: self.external_url.clone(),
                    truncated,
                    templates: Arc::clone(&am.templates),
                };
                match integration.notify(&n, now).await {
                    Ok(()) => {
                        report.notifications += 1;
                        let e = LogEntry {
                            firing: firing.clone(),
                            resolved: resolved.clone(),
                            ts: now,
                        };
                        let item = Item::new(&log_pk, &log_sk)
                            .with_s(
                                "entry",
                                serde_json::to_string(&e)
                                    .map_err(|e| AmError::State(e.to_string()))?,
                            )
                            .with_ttl((now + NFLOG_RETENTION_MS) / 1000);
                        self.index.put(item, Condition::None).await?;
                    }
                    Err(e) => {
                        report.failures += 1;
                        tracing::warn!(
                            tenant = tenant.as_str(),
                            receiver = %group.route.receiver,
                            integration = integration.kind(),
                            error = %e,
                            "notification failed; retried at the next flush"
                        );
                    }
                }
            }
        }
        // Groups without alerts are gone, as Alertmanager deletes empty aggregation groups.
        for (sk, (st, _)) in &stored {
            if !groups.contains_key(&st.key) {
                self.index.delete(&groups_pk, sk, Condition::None).await?;
            }
        }
        if let (Some(waker), Some(at)) = (&self.waker, next_due.into_iter().min())
            && crate::wake::schedule(&*self.index, &**waker, tenant, at, now).await?
        {
            report.wakeups += 1;
        }
        Ok(())
    }

    /// Writes a group's timer state if it is still at `version`; false if another pass did.
    async fn save_group(
        &self,
        pk: &str,
        sk: &str,
        key: &str,
        first_seen: i64,
        last_flush: i64,
        version: i64,
    ) -> Result<bool, AmError> {
        let st = GroupState {
            key: key.to_string(),
            first_seen,
            last_flush,
        };
        let item = Item::new(pk, sk)
            .with_s(
                "state",
                serde_json::to_string(&st).map_err(|e| AmError::State(e.to_string()))?,
            )
            .with_n("version", version + 1)
            .with_ttl((last_flush.max(first_seen) + NFLOG_RETENTION_MS) / 1000);
        let condition = if version == 0 {
            Condition::NotExists
        } else {
            Condition::AttrEquals("version".into(), AttrValue::N(version))
        };
        match self.index.put(item, condition).await {
            Ok(()) => Ok(true),
            Err(e) if e.is_condition_failure() => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

/// Prometheus's `LabelSet.String()`: `{a="b", c="d"}` (Go-quoted values).
pub fn go_labels(labels: &Labels) -> String {
    let parts: Vec<String> = labels
        .iter()
        .map(|l| format!("{}={}", l.name, architect_template::go_quote(&l.value)))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &[&str]) -> BTreeSet<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn dedup_follows_alertmanager() {
        let e = LogEntry {
            firing: set(&["a"]),
            resolved: set(&[]),
            ts: 1000,
        };
        // First notification only when something fires.
        assert!(LogEntry::needs_update(
            None,
            &set(&["a"]),
            &set(&[]),
            true,
            10,
            1001
        ));
        assert!(!LogEntry::needs_update(
            None,
            &set(&[]),
            &set(&["a"]),
            true,
            10,
            1001
        ));
        // A new firing alert.
        assert!(LogEntry::needs_update(
            Some(&e),
            &set(&["a", "b"]),
            &set(&[]),
            true,
            10_000,
            1001
        ));
        // Nothing new: only after the repeat interval.
        assert!(!LogEntry::needs_update(
            Some(&e),
            &set(&["a"]),
            &set(&[]),
            true,
            10_000,
            1001
        ));
        assert!(LogEntry::needs_update(
            Some(&e),
            &set(&["a"]),
            &set(&[]),
            true,
            10,
            1011
        ));
        // All resolved: notify (clears the log) whatever send_resolved says.
        assert!(LogEntry::needs_update(
            Some(&e),
            &set(&[]),
            &set(&["a"]),
            false,
            10_000,
            1001
        ));
    }

    #[test]
    fn group_keys_print_like_go() {
        let l = Labels::from_pairs([("alertname", "Down"), ("x", "a\"b")]);
        assert_eq!(go_labels(&l), r#"{alertname="Down", x="a\"b"}"#);
    }
}
