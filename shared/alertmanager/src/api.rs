//! Alertmanager's API v2 over the index-backed state, independent of HTTP: posting alerts
//! (defaults and validation as `postAlertsHandler`), listing alerts with their receivers and
//! silence/inhibition status, alert groups, silences, status and receivers, in the JSON shapes
//! of Alertmanager's OpenAPI spec. The HTTP handlers in `architect-api` only translate.

use crate::AmError;
use crate::alert::{Alert, fingerprint};
use crate::config::{Config, parse_config};
use crate::inhibit::{InhibitRule, inhibited};
use crate::matchers::{Matcher, matches_all};
use crate::route::Route;
use crate::silence::{Silence, SilenceMatcher, SilenceState, new_silence_id};
use crate::state::{AmState, StoredConfig};
use architect_model::{Label, Labels, TenantId};
use architect_template::NotifyTemplates;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// RFC 3339 with milliseconds, UTC, as Alertmanager prints times.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Parses an RFC 3339 time into ms.
pub fn parse_rfc3339(s: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_millis())
        .map_err(|e| format!("invalid time {s:?}: {e}"))
}

fn labels_json(labels: &Labels) -> Value {
    Value::Object(
        labels
            .iter()
            .map(|l| (l.name.clone(), Value::String(l.value.clone())))
            .collect::<Map<String, Value>>(),
    )
}

fn to_labels(map: &BTreeMap<String, String>) -> Labels {
    Labels::from_sorted(map.iter().map(|(k, v)| Label::new(k, v)).collect())
}

/// A posted alert (`postableAlert`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostableAlert {
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// Start (RFC 3339); now when absent.
    #[serde(default)]
    pub starts_at: Option<String>,
    /// End (RFC 3339); now + `resolve_timeout` when absent.
    #[serde(default)]
    pub ends_at: Option<String>,
    /// Source link.
    #[serde(default, rename = "generatorURL")]
    pub generator_url: Option<String>,
}

/// A posted silence (`postableSilence`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostableSilence {
    /// Set to update an existing silence.
    #[serde(default)]
    pub id: Option<String>,
    /// Matchers.
    pub matchers: Vec<SilenceMatcher>,
    /// Start (RFC 3339).
    pub starts_at: String,
    /// End (RFC 3339).
    pub ends_at: String,
    /// Author.
    #[serde(default)]
    pub created_by: String,
    /// Why.
    #[serde(default)]
    pub comment: String,
}

/// Filters of `GET /api/v2/alerts` and `/api/v2/alerts/groups`.
#[derive(Debug, Default)]
pub struct AlertFilter {
    /// Include active (neither silenced nor inhibited) alerts.
    pub active: bool,
    /// Include silenced alerts.
    pub silenced: bool,
    /// Include inhibited alerts.
    pub inhibited: bool,
    /// Only alerts whose labels match all of these.
    pub matchers: Vec<Matcher>,
    /// Only alerts routed to a receiver matching this regex.
    pub receiver: Option<regex::Regex>,
}

impl AlertFilter {
    /// Everything (the API's defaults).
    pub fn all() -> Self {
        Self {
            active: true,
            silenced: true,
            inhibited: true,
            matchers: Vec::new(),
            receiver: None,
        }
    }
}

/// One tenant's Alertmanager: its configuration (uploaded or the fallback), routing tree and
/// inhibition rules, over the shared state.
#[derive(Debug)]
pub struct TenantAlertmanager {
    state: AmState,
    tenant: TenantId,
    /// The configuration in force.
    pub config: Config,
    /// Alertmanager's default templates and the tenant's template files.
    pub templates: Arc<NotifyTemplates>,
    route: Route,
    inhibit_rules: Vec<InhibitRule>,
}

/// An alert with what the pipeline decided about it.
#[derive(Debug, Clone)]
pub struct AlertView {
    /// The alert.
    pub alert: Alert,
    /// Receivers its routes lead to, in route order, unique.
    pub receivers: Vec<String>,
    /// Active silences muting it.
    pub silenced_by: Vec<String>,
    /// Fingerprints of the firing alerts inhibiting it.
    pub inhibited_by: Vec<String>,
}

impl TenantAlertmanager {
    /// Loads `tenant`'s configuration (the fallback when none was uploaded).
    pub async fn load(state: AmState, tenant: TenantId) -> Result<Self, AmError> {
        let (config, files) = match state.config(&tenant).await? {
            Some(stored) => (
                parse_config(&stored.alertmanager_config)
                    .map_err(|e| AmError::Invalid(e.to_string()))?,
                stored.template_files,
            ),
            None => (Config::default_fallback(), BTreeMap::new()),
        };
        Self::with_config(state, tenant, config, files)
    }

    fn with_config(
        state: AmState,
        tenant: TenantId,
        config: Config,
        template_files: BTreeMap<String, String>,
    ) -> Result<Self, AmError> {
        let templates = Arc::new(
            NotifyTemplates::new(template_files)
                .map_err(|e| AmError::Invalid(format!("invalid template: {e}")))?,
        );
        let route = Route::new(&config.route).map_err(|e| AmError::Invalid(e.to_string()))?;
        let inhibit_rules = config
            .inhibit_rules
            .iter()
            .map(InhibitRule::new)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| AmError::Invalid(e.to_string()))?;
        Ok(Self {
            state,
            tenant,
            config,
            templates,
            route,
            inhibit_rules,
        })
    }

    /// The tenant.
    pub fn tenant(&self) -> &TenantId {
        &self.tenant
    }

    /// The routing tree.
    pub fn route(&self) -> &Route {
        &self.route
    }

    /// Whether `route`'s mute time intervals hold at `now`, or its active time intervals do
    /// not (Alertmanager's `TimeMuteStage` and `TimeActiveStage`).
    pub fn muted_by_time(&self, route: &Route, now: i64) -> bool {
        let t = chrono::DateTime::from_timestamp_millis(now).unwrap_or_default();
        let in_any = |names: &[String]| {
            names.iter().any(|n| {
                self.config
                    .time_interval(n)
                    .is_some_and(|ti| ti.contains(t))
            })
        };
        in_any(&route.mute_time_intervals)
            || (!route.active_time_intervals.is_empty() && !in_any(&route.active_time_intervals))
    }

    /// `POST /api/v2/alerts`: defaults and validation as Alertmanager; all or nothing.
    pub async fn post_alerts(&self, posted: Vec<PostableAlert>, now: i64) -> Result<(), AmError> {
        let resolve_timeout = self.config.global.resolve_timeout_ms;
        let mut alerts = Vec::with_capacity(posted.len());
        let mut errors = Vec::new();
        for p in posted {
            let parse = |s: &Option<String>| -> Result<i64, String> {
                match s.as_deref() {
                    None
                    | Some("")
                    | Some("0001-01-01T00:00:00.000Z")
                    | Some("0001-01-01T00:00:00Z") => Ok(0),
                    Some(t) => parse_rfc3339(t),
                }
            };
            let (starts, ends) = match (parse(&p.starts_at), parse(&p.ends_at)) {
                (Ok(s), Ok(e)) => (s, e),
                (Err(e), _) | (_, Err(e)) => {
                    errors.push(e);
                    continue;
                }
            };
            let mut alert = Alert {
                labels: to_labels(&p.labels),
                annotations: to_labels(&p.annotations),
                starts_at: if starts == 0 { now } else { starts },
                ends_at: ends,
                generator_url: p.generator_url.unwrap_or_default(),
                updated_at: now,
                timeout: false,
            };
            if alert.ends_at == 0 {
                alert.timeout = true;
                alert.ends_at = now + resolve_timeout;
            }
            if let Err(e) = validate_alert(&alert) {
                errors.push(e);
                continue;
            }
            alerts.push(alert);
        }
        if !errors.is_empty() {
            return Err(AmError::Invalid(errors.join(";")));
        }
        self.state.put_alerts(&self.tenant, alerts, now).await
    }

    /// Every stored alert that has not resolved, with its receivers and status.
    pub async fn views(&self, now: i64) -> Result<Vec<AlertView>, AmError> {
        let (alerts, silences) = tokio::try_join!(
            self.state.alerts(&self.tenant),
            self.state.silences(&self.tenant)
        )?;
        let active: Vec<&Silence> = silences
            .iter()
            .filter(|s| s.state(now) == SilenceState::Active)
            .collect();
        let firing: Vec<&Alert> = alerts.iter().filter(|a| !a.resolved_at(now)).collect();
        let firing_labels: Vec<Labels> = firing.iter().map(|a| a.labels.clone()).collect();
        let mut out = Vec::with_capacity(firing.len());
        for a in &firing {
            let mut receivers: Vec<String> = Vec::new();
            for r in self.route.match_labels(&a.labels) {
                if !receivers.contains(&r.receiver) {
                    receivers.push(r.receiver.clone());
                }
            }
            let (silenced_by, inhibited_by) =
                self.muted_by(&a.labels, &firing_labels, &active, now);
            out.push(AlertView {
                alert: (*a).clone(),
                receivers,
                silenced_by,
                inhibited_by,
            });
        }
        out.sort_by_cached_key(|v| fingerprint(&v.alert.labels));
        Ok(out)
    }

    /// The ids of the active silences muting `labels`, and the fingerprints of the firing
    /// alerts inhibiting it (Alertmanager's silencer and inhibitor).
    pub fn muted_by(
        &self,
        labels: &Labels,
        firing: &[Labels],
        active_silences: &[&Silence],
        now: i64,
    ) -> (Vec<String>, Vec<String>) {
        let silenced_by = active_silences
            .iter()
            .filter(|s| s.mutes(labels, now))
            .map(|s| s.id.clone())
            .collect();
        let inhibited_by = firing
            .iter()
            .filter(|src| {
                *src != labels && inhibited(&self.inhibit_rules, labels, std::slice::from_ref(*src))
            })
            .map(fingerprint)
            .collect();
        (silenced_by, inhibited_by)
    }

    fn keep(view: &AlertView, filter: &AlertFilter) -> bool {
        let silenced = !view.silenced_by.is_empty();
        let inhibited = !view.inhibited_by.is_empty();
        if (!filter.silenced && silenced)
            || (!filter.inhibited && inhibited)
            || (!filter.active && !silenced && !inhibited)
        {
            return false;
        }
        if !matches_all(&filter.matchers, &view.alert.labels) {
            return false;
        }
        match &filter.receiver {
            Some(re) => view.receivers.iter().any(|r| re.is_match(r)),
            None => true,
        }
    }

    /// `GET /api/v2/alerts`.
    pub async fn get_alerts(&self, filter: &AlertFilter, now: i64) -> Result<Value, AmError> {
        let views = self.views(now).await?;
        Ok(Value::Array(
            views
                .iter()
                .filter(|v| Self::keep(v, filter))
                .map(gettable_alert)
                .collect(),
        ))
    }

    /// `GET /api/v2/alerts/groups`: alerts grouped per route and group labels.
    pub async fn alert_groups(&self, filter: &AlertFilter, now: i64) -> Result<Value, AmError> {
        let views = self.views(now).await?;
        // (route key, group labels) -> (receiver, alerts)
        let mut groups: BTreeMap<(String, Labels), (String, Vec<Value>)> = BTreeMap::new();
        for v in views.iter().filter(|v| Self::keep(v, filter)) {
            for r in self.route.match_labels(&v.alert.labels) {
                let key = (r.key().to_string(), r.group_labels(&v.alert.labels));
                groups
                    .entry(key)
                    .or_insert_with(|| (r.receiver.clone(), Vec::new()))
                    .1
                    .push(gettable_alert(v));
            }
        }
        Ok(Value::Array(
            groups
                .into_iter()
                .map(|((_, labels), (receiver, alerts))| {
                    json!({
                        "labels": labels_json(&labels),
                        "receiver": {"name": receiver},
                        "alerts": alerts,
                    })
                })
                .collect(),
        ))
    }

    /// `GET /api/v2/silences` (optionally `filter`ed by matchers on the silence's own
    /// matchers, as Alertmanager does).
    pub async fn get_silences(&self, filter: &[Matcher], now: i64) -> Result<Value, AmError> {
        let mut silences = self.state.silences(&self.tenant).await?;
        silences.retain(|s| {
            let labels = Labels::new(
                s.matchers
                    .iter()
                    .map(|m| Label::new(&m.name, &m.value))
                    .collect(),
            );
            matches_all(filter, &labels)
        });
        // Active first, then pending, then expired; each by end time (Alertmanager's order).
        silences.sort_by_key(|s| {
            let rank = match s.state(now) {
                SilenceState::Active => 0,
                SilenceState::Pending => 1,
                SilenceState::Expired => 2,
            };
            (rank, s.ends_at)
        });
        Ok(Value::Array(
            silences.iter().map(|s| gettable_silence(s, now)).collect(),
        ))
    }

    /// `GET /api/v2/silence/{id}`.
    pub async fn get_silence(&self, id: &str, now: i64) -> Result<Option<Value>, AmError> {
        Ok(self
            .state
            .silence(&self.tenant, id)
            .await?
            .map(|s| gettable_silence(&s, now)))
    }

    /// `POST /api/v2/silences`: creates, updates in place where Alertmanager allows it, or
    /// expires the old silence and creates a new one; returns the id.
    pub async fn post_silence(&self, posted: PostableSilence, now: i64) -> Result<String, AmError> {
        let starts = parse_rfc3339(&posted.starts_at).map_err(AmError::Invalid)?;
        let ends = parse_rfc3339(&posted.ends_at).map_err(AmError::Invalid)?;
        if starts >= ends {
            return Err(AmError::Invalid(
                "Failed to create silence: start time must be before end time".into(),
            ));
        }
        if ends < now {
            return Err(AmError::Invalid(
                "Failed to create silence: end time can't be in the past".into(),
            ));
        }
        let mut silence = Silence {
            id: String::new(),
            matchers: posted.matchers,
            starts_at: starts.max(now),
            ends_at: ends,
            created_by: posted.created_by,
            comment: posted.comment,
            updated_at: now,
        };
        silence.validate().map_err(AmError::Invalid)?;
        if let Some(id) = posted.id.filter(|i| !i.is_empty()) {
            let Some(mut old) = self.state.silence(&self.tenant, &id).await? else {
                return Err(AmError::NotFound("silence not found".into()));
            };
            if old.can_update_to(&silence, now) {
                silence.id = id;
                silence.starts_at = if old.state(now) == SilenceState::Active {
                    old.starts_at
                } else {
                    silence.starts_at
                };
                self.state.put_silence(&self.tenant, &silence).await?;
                return Ok(silence.id);
            }
            if old.state(now) != SilenceState::Expired {
                expire(&mut old, now);
                self.state.put_silence(&self.tenant, &old).await?;
            }
        }
        silence.id = new_silence_id();
        self.state.put_silence(&self.tenant, &silence).await?;
        Ok(silence.id)
    }

    /// `DELETE /api/v2/silence/{id}`: expires it.
    pub async fn expire_silence(&self, id: &str, now: i64) -> Result<(), AmError> {
        let Some(mut s) = self.state.silence(&self.tenant, id).await? else {
            return Err(AmError::NotFound("silence not found".into()));
        };
        if s.state(now) == SilenceState::Expired {
            return Err(AmError::Invalid(format!("silence {id} already expired")));
        }
        expire(&mut s, now);
        self.state.put_silence(&self.tenant, &s).await
    }

    /// `GET /api/v2/receivers`.
    pub fn receivers(&self) -> Value {
        Value::Array(
            self.config
                .receivers
                .iter()
                .map(|r| json!({"name": r.name}))
                .collect(),
        )
    }

    /// `GET /api/v2/status`.
    pub fn status(&self, started_ms: i64) -> Value {
        json!({
            "cluster": {"name": "", "status": "ready", "peers": []},
            "versionInfo": {
                "version": ALERTMANAGER_COMPATIBLE_VERSION,
                "revision": env!("CARGO_PKG_VERSION"),
                "branch": "main",
                "buildUser": "monitoring-architect",
                "buildDate": "",
                "goVersion": "",
            },
            "config": {"original": crate::config::mask_secrets(&self.config.original)},
            "uptime": rfc3339(started_ms),
        })
    }
}

/// The Alertmanager version whose API this one matches.
pub const ALERTMANAGER_COMPATIBLE_VERSION: &str = "0.25.0";

/// Validates and stores a tenant's configuration upload (Mimir's `POST /api/v1/alerts`).
pub async fn set_config(
    state: &AmState,
    tenant: &TenantId,
    stored: StoredConfig,
) -> Result<(), AmError> {
    let config =
        parse_config(&stored.alertmanager_config).map_err(|e| AmError::Invalid(e.to_string()))?;
    TenantAlertmanager::with_config(
        state.clone(),
        tenant.clone(),
        config,
        stored.template_files.clone(),
    )?;
    state.set_config(tenant, &stored).await
}

fn expire(s: &mut Silence, now: i64) {
    if s.state(now) == SilenceState::Pending {
        s.starts_at = now;
    }
    s.ends_at = now;
    s.updated_at = now;
}

/// Alertmanager's `Alert.Validate`.
fn validate_alert(a: &Alert) -> Result<(), String> {
    if a.labels.is_empty() {
        return Err("at least one label pair required".into());
    }
    for l in a.labels.iter() {
        if l.name.is_empty() {
            return Err(format!("invalid label set: invalid name {:?}", l.name));
        }
    }
    if a.ends_at != 0 && a.ends_at < a.starts_at {
        return Err("start time must be before end time".into());
    }
    Ok(())
}

/// `gettableAlert`.
pub fn gettable_alert(v: &AlertView) -> Value {
    let a = &v.alert;
    let state = if v.silenced_by.is_empty() && v.inhibited_by.is_empty() {
        "active"
    } else {
        "suppressed"
    };
    json!({
        "labels": labels_json(&a.labels),
        "annotations": labels_json(&a.annotations),
        "startsAt": rfc3339(a.starts_at),
        "endsAt": rfc3339(a.ends_at),
        "updatedAt": rfc3339(a.updated_at),
        "generatorURL": a.generator_url,
        "fingerprint": fingerprint(&a.labels),
        "receivers": v.receivers.iter().map(|r| json!({"name": r})).collect::<Vec<_>>(),
        "status": {
            "state": state,
            "silencedBy": v.silenced_by,
            "inhibitedBy": v.inhibited_by,
        },
    })
}

/// `gettableSilence`.
pub fn gettable_silence(s: &Silence, now: i64) -> Value {
    json!({
        "id": s.id,
        "status": {"state": s.state(now).as_str()},
        "updatedAt": rfc3339(s.updated_at),
        "matchers": s.matchers,
        "startsAt": rfc3339(s.starts_at),
        "endsAt": rfc3339(s.ends_at),
        "createdBy": s.created_by,
        "comment": s.comment,
    })
}
