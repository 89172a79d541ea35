//! Evaluating a group at one timestamp, as Prometheus's `Group.Eval`: rules in order, each
//! rule's output written before the next rule runs (so recording rules feed later rules),
//! staleness markers for series that vanished, and the alert lifecycle of
//! `AlertingRule.Eval` (pending → firing after `for`, `keep_firing_for`, resolved alerts kept
//! 15 minutes so their resolution is re-sent).
//!
//! The state lives in a [`GroupState`] the caller loads and saves, so consecutive evaluations
//! may run in different processes.

use crate::file::{AlertingRule, RecordingRule, Rule, RuleGroup};
use crate::state::{Alert, AlertStateKind, GroupState, Health, RuleState};
use architect_model::{Label, Labels, METRIC_NAME, STALE_NAN_BITS};
use architect_promql::{Engine, FloatHistogram, Point, QueryValue, SeriesSource};
use architect_template::{Expander, QueryFn, QuerySample, TemplateData};
use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// How long a resolved alert is kept (and re-sent), as Prometheus.
pub const RESOLVED_RETENTION_MS: i64 = 15 * 60 * 1000;

/// One sample a rule writes.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputSample {
    /// Series labels.
    pub labels: Labels,
    /// Timestamp, ms.
    pub t: i64,
    /// Value (may be the staleness marker); unused when `h` is set.
    pub v: f64,
    /// A native histogram value (recording rules over native histograms).
    pub h: Option<Arc<FloatHistogram>>,
}

/// Where rule output goes: the tenant's normal write path.
#[async_trait]
pub trait SampleAppender: Send + Sync {
    /// Stores `samples` durably. Refused individual samples (a different value already at that
    /// timestamp) are not an error: Prometheus counts and drops them too.
    async fn append(&self, samples: Vec<OutputSample>) -> Result<(), String>;
}

/// An alert as sent to Alertmanager (`POST /api/v2/alerts`).
#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    /// Labels, external labels added.
    pub labels: Labels,
    /// Annotations.
    pub annotations: Labels,
    /// `startsAt`, ms.
    pub starts_at: i64,
    /// `endsAt`, ms: the resolution time, or when the alert lapses unless re-sent.
    pub ends_at: i64,
    /// Link to the expression.
    pub generator_url: String,
}

/// Settings of evaluation shared by all groups of a tenant.
#[derive(Clone, Debug)]
pub struct EvalSettings {
    /// Labels added to alerts sent and available to templates.
    pub external_labels: Labels,
    /// `$externalURL` and the base of generator URLs.
    pub external_url: String,
    /// Minimum time between two sends of a firing alert (Prometheus `--rules.alert.resend-delay`).
    pub resend_delay_ms: i64,
}

impl Default for EvalSettings {
    fn default() -> Self {
        Self {
            external_labels: Labels::default(),
            external_url: String::new(),
            resend_delay_ms: 60_000,
        }
    }
}

/// What evaluating a group at one timestamp needs.
pub struct EvalContext<'a> {
    /// The engine (its options: lookback, limits).
    pub engine: &'a Engine,
    /// The tenant's data, including what earlier rules of this evaluation wrote.
    pub source: Arc<dyn SeriesSource>,
    /// Where output goes.
    pub appender: &'a dyn SampleAppender,
    /// Shared settings.
    pub settings: &'a EvalSettings,
}

impl std::fmt::Debug for EvalContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvalContext")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// The staleness marker.
fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// Evaluates every rule of `group` at `ts` (ms), updating `state`; returns the alerts to send.
pub async fn evaluate_group(
    ctx: &EvalContext<'_>,
    group: &RuleGroup,
    state: &mut GroupState,
    ts: i64,
    wall_now_ms: i64,
) -> Vec<Notification> {
    let started = std::time::Instant::now();
    let mut previous: HashMap<String, RuleState> = std::mem::take(&mut state.rules)
        .into_iter()
        .map(|r| (r.key.clone(), r))
        .collect();
    let mut notifications = Vec::new();
    for rule in &group.rules {
        let key = rule.state_key();
        let mut rs = previous.remove(&key).unwrap_or_else(|| RuleState {
            key,
            ..RuleState::default()
        });
        let rule_started = std::time::Instant::now();
        rs.last_eval_wall_ms = wall_now_ms;
        let result = match rule {
            Rule::Recording(r) => eval_recording(ctx, group, r, ts).await,
            Rule::Alerting(r) => eval_alerting(ctx, group, r, &mut rs, ts).await,
        };
        match result {
            Ok(output) => {
                let written = write_output(ctx, group, &rs, output, ts).await;
                match written {
                    Ok(series) => {
                        rs.prev_series = series;
                        rs.health = Health::Ok;
                        rs.last_error.clear();
                    }
                    Err(e) => {
                        rs.health = Health::Err;
                        rs.last_error = e;
                    }
                }
                if let Rule::Alerting(r) = rule {
                    notifications.extend(send_alerts(ctx, group, r, &mut rs, ts));
                }
            }
            Err(e) => {
                tracing::warn!(group = %group.name, rule = rule.name(), error = %e, "rule evaluation failed");
                rs.health = Health::Err;
                rs.last_error = e;
            }
        }
        rs.eval_seconds = rule_started.elapsed().as_secs_f64();
        state.rules.push(rs);
    }
    state.last_eval_ts = Some(ts);
    state.last_eval_wall_ms = wall_now_ms;
    state.eval_seconds = started.elapsed().as_secs_f64();
    state.iterations += 1;
    notifications
}

/// Writes a rule's output plus staleness markers for last evaluation's series that are gone;
/// returns the series written.
async fn write_output(
    ctx: &EvalContext<'_>,
    group: &RuleGroup,
    rs: &RuleState,
    output: Vec<OutputSample>,
    ts: i64,
) -> Result<Vec<Labels>, String> {
    let t = ts - group.query_offset_ms;
    let now: HashSet<&Labels> = output.iter().map(|s| &s.labels).collect();
    let mut samples: Vec<OutputSample> = rs
        .prev_series
        .iter()
        .filter(|l| !now.contains(l))
        .map(|l| OutputSample {
            labels: l.clone(),
            t,
            v: stale_nan(),
            h: None,
        })
        .collect();
    let series: Vec<Labels> = output.iter().map(|s| s.labels.clone()).collect();
    samples.extend(output);
    if !samples.is_empty() {
        ctx.appender.append(samples).await?;
    }
    Ok(series)
}

/// A rule result's value: a float or a native histogram.
type RuleValue = (f64, Option<Arc<FloatHistogram>>);

/// Runs the rule's query; a scalar becomes one sample without labels (Prometheus's
/// `EngineQueryFunc`).
async fn query_vector(
    ctx: &EvalContext<'_>,
    rule_expr: &str,
    parsed: &architect_promql::ParsedQuery,
    t: i64,
) -> Result<Vec<(Labels, RuleValue)>, String> {
    let result = ctx
        .engine
        .instant_expr(&*ctx.source, rule_expr, rule_expr, parsed, t)
        .await
        .map_err(|e| e.to_string())?;
    match result.value {
        QueryValue::Vector(samples) => {
            let mut out = Vec::with_capacity(samples.len());
            for s in samples {
                match s.point {
                    Point::Float(v) => out.push((s.labels, (v, None))),
                    // As Prometheus: the float value of a histogram sample is 0.
                    Point::Hist(h) => out.push((s.labels, (0.0, Some(h)))),
                    Point::Absent => {}
                }
            }
            Ok(out)
        }
        QueryValue::Scalar(_, v) => Ok(vec![(Labels::default(), (v, None))]),
        other => Err(format!(
            "rule result is not a vector or scalar: {}",
            other.type_name()
        )),
    }
}

/// Sets `name=value` (an empty value removes the label), as `labels.Builder.Set`.
fn set_label(labels: &mut Vec<Label>, name: &str, value: &str) {
    labels.retain(|l| l.name != name);
    if !value.is_empty() {
        labels.push(Label::new(name, value));
    }
}

async fn eval_recording(
    ctx: &EvalContext<'_>,
    group: &RuleGroup,
    rule: &RecordingRule,
    ts: i64,
) -> Result<Vec<OutputSample>, String> {
    let t = ts - group.query_offset_ms;
    let vector = query_vector(ctx, &rule.expr, &rule.parsed, t).await?;
    let mut out = Vec::with_capacity(vector.len());
    let mut seen = HashSet::with_capacity(vector.len());
    for (labels, (v, h)) in vector {
        let mut l = labels.into_vec();
        set_label(&mut l, METRIC_NAME, &rule.name);
        for label in rule.labels.iter() {
            set_label(&mut l, &label.name, &label.value);
        }
        let labels = Labels::new(l);
        if !seen.insert(labels.clone()) {
            return Err(
                "vector contains metrics with the same labelset after applying rule labels"
                    .to_string(),
            );
        }
        out.push(OutputSample { labels, t, v, h });
    }
    if group.limit > 0 && out.len() > group.limit {
        return Err(format!(
            "exceeded limit of {} with {} series",
            group.limit,
            out.len()
        ));
    }
    Ok(out)
}

fn to_map(labels: &Labels) -> BTreeMap<String, String> {
    labels
        .iter()
        .map(|l| (l.name.clone(), l.value.clone()))
        .collect()
}

/// Expands one alert's label and annotation templates for one result sample.
struct AlertTemplates {
    alert_name: String,
    labels: Labels,
    annotations: Labels,
    data: TemplateData,
    ts: i64,
    external_url: String,
    query: Option<QueryFn>,
}

impl AlertTemplates {
    fn expand(&self, text: &str) -> String {
        if !text.contains("{{") {
            return text.to_string();
        }
        let expander = Expander::new(
            &format!("__alert_{}", self.alert_name),
            text,
            self.data.clone(),
            self.ts,
            &self.external_url,
            self.query.clone(),
        );
        match expander.expand() {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(alert = %self.alert_name, error = %e, "expanding alert template failed");
                format!("<error expanding template: {e}>")
            }
        }
    }

    /// (labels, annotations) after expansion.
    fn run(&self) -> (Vec<(String, String)>, Labels) {
        let labels = self
            .labels
            .iter()
            .map(|l| (l.name.clone(), self.expand(&l.value)))
            .collect();
        let annotations = Labels::from_sorted(
            self.annotations
                .iter()
                .map(|l| Label::new(l.name.clone(), self.expand(&l.value)))
                .collect(),
        );
        (labels, annotations)
    }
}

/// The `query` template function over the tenant's data: runs on a blocking thread, so it may
/// block on the async engine.
fn template_query(ctx: &EvalContext<'_>, ts: i64) -> QueryFn {
    let handle = tokio::runtime::Handle::current();
    let engine = ctx.engine.clone();
    let source = Arc::clone(&ctx.source);
    Arc::new(move |q: &str| {
        let result = handle
            .block_on(engine.instant(&*source, q, ts))
            .map_err(|e| e.to_string())?;
        match result.value {
            QueryValue::Vector(v) => Ok(v
                .into_iter()
                .filter_map(|s| match s.point {
                    Point::Float(value) => Some(QuerySample {
                        labels: to_map(&s.labels),
                        value,
                    }),
                    _ => None,
                })
                .collect()),
            QueryValue::Scalar(_, value) => Ok(vec![QuerySample {
                labels: BTreeMap::new(),
                value,
            }]),
            other => Err(format!(
                "query result is not a vector or scalar: {}",
                other.type_name()
            )),
        }
    })
}

fn uses_query(rule: &AlertingRule) -> bool {
    rule.labels
        .iter()
        .chain(rule.annotations.iter())
        .any(|l| l.value.contains("query"))
}

async fn eval_alerting(
    ctx: &EvalContext<'_>,
    group: &RuleGroup,
    rule: &AlertingRule,
    rs: &mut RuleState,
    ts: i64,
) -> Result<Vec<OutputSample>, String> {
    let t = ts - group.query_offset_ms;
    let vector = query_vector(ctx, &rule.expr, &rule.parsed, t).await?;
    let needs_query = uses_query(rule);
    let external_labels = to_map(&ctx.settings.external_labels);
    let mut fresh: HashMap<Labels, Alert> = HashMap::with_capacity(vector.len());
    // A histogram result alerts with value 0, as Prometheus's `Alert.Value` (its templates
    // would print the histogram; here `$value` is 0).
    for (sample_labels, (value, _)) in vector {
        let templates = AlertTemplates {
            alert_name: rule.name.clone(),
            labels: rule.labels.clone(),
            annotations: rule.annotations.clone(),
            data: TemplateData {
                labels: to_map(&sample_labels),
                external_labels: external_labels.clone(),
                external_url: ctx.settings.external_url.clone(),
                value,
            },
            ts,
            external_url: ctx.settings.external_url.clone(),
            query: needs_query.then(|| template_query(ctx, ts)),
        };
        let (expanded_labels, annotations) = if needs_query {
            tokio::task::spawn_blocking(move || templates.run())
                .await
                .map_err(|e| format!("template expansion panicked: {e}"))?
        } else {
            templates.run()
        };
        let mut l = sample_labels.into_vec();
        l.retain(|x| x.name != METRIC_NAME);
        for (name, value) in &expanded_labels {
            set_label(&mut l, name, value);
        }
        set_label(&mut l, "alertname", &rule.name);
        let labels = Labels::new(l);
        if fresh.contains_key(&labels) {
            return Err(
                "vector contains metrics with the same labelset after applying alert labels"
                    .to_string(),
            );
        }
        fresh.insert(
            labels.clone(),
            Alert {
                labels,
                annotations,
                state: AlertStateKind::Pending,
                value,
                active_at: ts,
                fired_at: 0,
                resolved_at: 0,
                last_sent_at: 0,
                valid_until: 0,
                keep_firing_since: 0,
            },
        );
    }

    let mut active: Vec<Alert> = std::mem::take(&mut rs.alerts);
    let present: HashSet<Labels> = fresh.keys().cloned().collect();
    // Update existing alerts, add new ones.
    for alert in active.iter_mut() {
        if let Some(new) = fresh.remove(&alert.labels) {
            if alert.state != AlertStateKind::Inactive {
                alert.value = new.value;
                alert.annotations = new.annotations;
            } else {
                *alert = new;
            }
        }
    }
    active.extend(fresh.into_values());

    let mut kept = Vec::with_capacity(active.len());
    let mut output = Vec::new();
    let mut active_pending = 0usize;
    for mut a in active {
        if !present.contains(&a.labels) {
            let mut keep_firing = false;
            if a.state == AlertStateKind::Firing && rule.keep_firing_for_ms > 0 {
                if a.keep_firing_since == 0 {
                    a.keep_firing_since = ts;
                }
                if ts - a.keep_firing_since < rule.keep_firing_for_ms {
                    keep_firing = true;
                }
            }
            // Decided before the state changes, as Prometheus does.
            let drop = a.state == AlertStateKind::Pending
                || (a.resolved_at != 0 && ts - a.resolved_at > RESOLVED_RETENTION_MS);
            if a.state != AlertStateKind::Inactive && !keep_firing {
                a.state = AlertStateKind::Inactive;
                a.resolved_at = ts;
            }
            if !keep_firing {
                if !drop {
                    kept.push(a);
                }
                continue;
            }
        } else {
            a.keep_firing_since = 0;
        }
        active_pending += 1;
        if a.state == AlertStateKind::Pending && ts - a.active_at >= rule.hold_ms {
            a.state = AlertStateKind::Firing;
            a.fired_at = ts;
        }
        if a.state == AlertStateKind::Firing && ts - a.active_at < rule.hold_ms {
            a.state = AlertStateKind::Pending;
            a.fired_at = 0;
            a.last_sent_at = 0;
            a.keep_firing_since = 0;
        }
        output.push(alerts_sample(rule, &a, t));
        output.push(for_state_sample(rule, &a, t));
        kept.push(a);
    }
    if group.limit > 0 && active_pending > group.limit {
        rs.alerts.clear();
        return Err(format!(
            "exceeded limit of {} with {} alerts",
            group.limit, active_pending
        ));
    }
    kept.sort_by(|a, b| a.labels.cmp(&b.labels));
    rs.alerts = kept;
    Ok(output)
}

/// `ALERTS{alertname, alertstate, ...} 1`.
fn alerts_sample(rule: &AlertingRule, a: &Alert, t: i64) -> OutputSample {
    let mut l: Vec<Label> = rule.labels.iter().cloned().collect();
    for x in a.labels.iter() {
        set_label(&mut l, &x.name, &x.value);
    }
    set_label(&mut l, METRIC_NAME, "ALERTS");
    set_label(&mut l, "alertname", &rule.name);
    set_label(&mut l, "alertstate", a.state.as_str());
    OutputSample {
        labels: Labels::new(l),
        t,
        v: 1.0,
        h: None,
    }
}

/// `ALERTS_FOR_STATE{alertname, ...} <active since, unix seconds>`.
fn for_state_sample(rule: &AlertingRule, a: &Alert, t: i64) -> OutputSample {
    let mut l: Vec<Label> = rule.labels.iter().cloned().collect();
    for x in a.labels.iter() {
        set_label(&mut l, &x.name, &x.value);
    }
    set_label(&mut l, METRIC_NAME, "ALERTS_FOR_STATE");
    set_label(&mut l, "alertname", &rule.name);
    OutputSample {
        labels: Labels::new(l),
        t,
        v: a.active_at.div_euclid(1000) as f64,
        h: None,
    }
}

/// Prometheus's `needsSending`.
fn needs_sending(a: &Alert, ts: i64, resend_delay_ms: i64) -> bool {
    if a.state == AlertStateKind::Pending {
        return false;
    }
    if a.resolved_at > a.last_sent_at {
        return true;
    }
    a.last_sent_at + resend_delay_ms < ts
}

/// Marks alerts due for sending as sent and returns them as notifications.
fn send_alerts(
    ctx: &EvalContext<'_>,
    group: &RuleGroup,
    rule: &AlertingRule,
    rs: &mut RuleState,
    ts: i64,
) -> Vec<Notification> {
    let delta = group.interval_ms.max(ctx.settings.resend_delay_ms);
    let url = generator_url(&ctx.settings.external_url, &rule.expr);
    let mut out = Vec::new();
    for a in rs.alerts.iter_mut() {
        if !needs_sending(a, ts, ctx.settings.resend_delay_ms) {
            continue;
        }
        a.last_sent_at = ts;
        a.valid_until = ts + 4 * delta;
        let mut labels: Vec<Label> = a.labels.iter().cloned().collect();
        for e in ctx.settings.external_labels.iter() {
            if a.labels.get(&e.name).is_none() {
                labels.push(e.clone());
            }
        }
        out.push(Notification {
            labels: Labels::new(labels),
            annotations: a.annotations.clone(),
            starts_at: a.active_at,
            ends_at: if a.resolved_at != 0 {
                a.resolved_at
            } else {
                a.valid_until
            },
            generator_url: url.clone(),
        });
    }
    out
}

/// `{external_url}/graph?g0.expr=...&g0.tab=1`, as Prometheus links an alert to its query.
pub fn generator_url(external_url: &str, expr: &str) -> String {
    format!(
        "{}/graph?g0.expr={}&g0.tab=1",
        external_url.trim_end_matches('/'),
        query_escape(expr)
    )
}

/// Go's `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Prometheus's `for` state restoration after downtime (`Group.RestoreForState`): `down_at`
/// is the last evaluation before the outage. Alerts that were pending when the outage began
/// keep their pending time, extended by the outage; alerts that would fire within
/// `grace_ms` of `ts` get `grace_ms` more; firing ones stay as they are.
pub fn restore_for_state(
    group: &RuleGroup,
    state: &mut GroupState,
    down_at: i64,
    ts: i64,
    grace_ms: i64,
) {
    for (rule, rs) in group.rules.iter().zip(state.rules.iter_mut()) {
        let Rule::Alerting(r) = rule else { continue };
        if rs.key != rule.state_key() || r.hold_ms < grace_ms {
            continue;
        }
        for a in rs.alerts.iter_mut() {
            if a.state != AlertStateKind::Pending {
                continue;
            }
            let spent = down_at - a.active_at;
            let remaining = r.hold_ms - spent;
            if remaining <= 0 {
                continue;
            } else if remaining < grace_ms {
                a.active_at = ts + grace_ms - r.hold_ms;
            } else {
                a.active_at += ts - down_at;
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn generator_urls_escape_like_go() {
        assert_eq!(
            generator_url("http://x:9090/", "rate(a{b=\"c\"}[5m]) > 0.5"),
            "http://x:9090/graph?g0.expr=rate%28a%7Bb%3D%22c%22%7D%5B5m%5D%29+%3E+0.5&g0.tab=1"
        );
    }
}
