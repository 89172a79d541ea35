//! Rules over HTTP: the Mimir/Cortex ruler configuration API (`/config/v1/rules`, YAML, per
//! tenant; also under `/prometheus` and at Cortex's `/api/prom/rules`) and Prometheus's
//! `/api/v1/rules` and `/api/v1/alerts` (JSON), which Grafana reads.
//!
//! Groups are stored in the index on upload, so a group is listed as soon as its upload
//! returns; its health and alerts come from the state the ruler saved (`unknown` until its
//! first evaluation).

use crate::error::{ApiError, ErrorCode, ErrorFormat};
use crate::state::ApiState;
use crate::tenant;
use architect_model::TenantId;
use architect_rules::file::{parse_rule_group, validate_group};
use architect_rules::notifier::labels_json;
use architect_rules::state::{AlertStateKind, GroupState, Health};
use architect_rules::{Rule, RuleGroup, RuleStore, RulesError, StoredGroup};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

fn store(state: &ApiState) -> RuleStore {
    RuleStore::new(Arc::clone(state.store.index()))
}

fn text_error(code: ErrorCode, message: impl Into<String>) -> ApiError {
    ApiError::text(code, message)
}

fn rules_error(e: RulesError) -> ApiError {
    match e {
        RulesError::Invalid(errors) => text_error(ErrorCode::BadRequest, errors.join(", ")),
        other => text_error(ErrorCode::Unavailable, other.to_string()),
    }
}

fn tenant_of(state: &ApiState, headers: &HeaderMap) -> Result<TenantId, ApiError> {
    tenant::resolve(state, headers, ErrorFormat::Text)
}

fn yaml_response(value: &impl serde::Serialize) -> Response {
    match serde_yaml_ng::to_string(value) {
        Ok(text) => {
            let mut r = (StatusCode::OK, text).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/yaml"),
            );
            r
        }
        Err(e) => text_error(ErrorCode::Internal, e.to_string()).into_response(),
    }
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({"status": "success", "data": null, "errorType": "", "error": ""})),
    )
        .into_response()
}

fn by_namespace(groups: Vec<StoredGroup>) -> BTreeMap<String, Vec<architect_rules::RuleGroupSpec>> {
    let mut out: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for g in groups {
        out.entry(g.namespace).or_default().push(g.spec);
    }
    out
}

/// `GET /config/v1/rules`: every namespace's groups (404 when there are none, as Mimir).
pub(crate) async fn list_all(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let tenant = tenant_of(&state, &headers)?;
    let groups = store(&state).groups(&tenant).await.map_err(rules_error)?;
    if groups.is_empty() {
        return Err(text_error(ErrorCode::NotFound, "no rule groups found"));
    }
    Ok(yaml_response(&by_namespace(groups)))
}

/// `GET /config/v1/rules/{namespace}`.
pub(crate) async fn list_namespace(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    Path(namespace): Path<String>,
) -> Result<Response, ApiError> {
    let tenant = tenant_of(&state, &headers)?;
    let groups = store(&state)
        .namespace(&tenant, &namespace)
        .await
        .map_err(rules_error)?;
    if groups.is_empty() {
        return Err(text_error(ErrorCode::NotFound, "no rule groups found"));
    }
    Ok(yaml_response(&by_namespace(groups)))
}

/// `GET /config/v1/rules/{namespace}/{group}`.
pub(crate) async fn get_group(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    Path((namespace, group)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let tenant = tenant_of(&state, &headers)?;
    match store(&state)
        .group(&tenant, &namespace, &group)
        .await
        .map_err(rules_error)?
    {
        Some(spec) => Ok(yaml_response(&spec)),
        None => Err(text_error(ErrorCode::NotFound, "group does not exist")),
    }
}

/// `POST /config/v1/rules/{namespace}`: one group as YAML (or JSON, which is YAML); 202.
pub(crate) async fn set_group(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    Path(namespace): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let tenant = tenant_of(&state, &headers)?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| text_error(ErrorCode::BadRequest, "unable to decoded rule group"))?;
    let spec = parse_rule_group(text).map_err(|e| {
        text_error(
            ErrorCode::BadRequest,
            format!("unable to decoded rule group: {e}"),
        )
    })?;
    let errors = validate_group(&spec);
    if !errors.is_empty() {
        return Err(text_error(ErrorCode::BadRequest, errors.join(", ")));
    }
    store(&state)
        .put_group(&tenant, &namespace, &spec)
        .await
        .map_err(rules_error)?;
    Ok(accepted())
}

/// `DELETE /config/v1/rules/{namespace}`.
pub(crate) async fn delete_namespace(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    Path(namespace): Path<String>,
) -> Result<Response, ApiError> {
    let tenant = tenant_of(&state, &headers)?;
    if !store(&state)
        .delete_namespace(&tenant, &namespace)
        .await
        .map_err(rules_error)?
    {
        return Err(text_error(
            ErrorCode::NotFound,
            "group namespace does not exist",
        ));
    }
    Ok(accepted())
}

/// `DELETE /config/v1/rules/{namespace}/{group}`.
pub(crate) async fn delete_group(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    Path((namespace, group)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let tenant = tenant_of(&state, &headers)?;
    if !store(&state)
        .delete_group(&tenant, &namespace, &group)
        .await
        .map_err(rules_error)?
    {
        return Err(text_error(ErrorCode::NotFound, "group does not exist"));
    }
    Ok(accepted())
}

/// RFC 3339 with nanoseconds as Go prints `time.Time` in JSON (`0001-01-01T00:00:00Z` for
/// never).
fn go_time(ms: i64) -> String {
    if ms == 0 {
        return "0001-01-01T00:00:00Z".into();
    }
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn alert_json(a: &architect_rules::Alert) -> Value {
    let mut v = json!({
        "labels": labels_json(&a.labels),
        "annotations": labels_json(&a.annotations),
        "state": a.state.as_str(),
        "activeAt": go_time(a.active_at),
        "value": architect_rules::format_float_e(a.value),
    });
    if a.keep_firing_since != 0
        && let Some(obj) = v.as_object_mut()
    {
        obj.insert(
            "keepFiringSince".into(),
            Value::String(go_time(a.keep_firing_since)),
        );
    }
    v
}

/// Filters of `/api/v1/rules`.
#[derive(Default)]
struct RuleFilter {
    kind: Option<String>,
    names: Vec<String>,
    groups: Vec<String>,
    files: Vec<String>,
    exclude_alerts: bool,
}

impl RuleFilter {
    fn parse(query: Option<&str>) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
            .map_err(|e| ApiError::prometheus(ErrorCode::BadRequest, e.to_string()))?;
        let mut f = RuleFilter::default();
        for (k, v) in pairs {
            match k.as_str() {
                "type" => {
                    if !v.is_empty() && v != "alert" && v != "record" {
                        return Err(ApiError::prometheus(
                            ErrorCode::BadRequest,
                            format!("unsupported type {v:?}"),
                        ));
                    }
                    f.kind = Some(v).filter(|v| !v.is_empty());
                }
                "rule_name[]" => f.names.push(v),
                "rule_group[]" => f.groups.push(v),
                "file[]" => f.files.push(v),
                "exclude_alerts" => f.exclude_alerts = v == "true",
                _ => {}
            }
        }
        Ok(f)
    }
}

fn rule_json(rule: &Rule, rs: Option<&architect_rules::RuleState>, filter: &RuleFilter) -> Value {
    let health = rs.map_or(Health::Unknown, |r| r.health);
    let last_error = rs.map(|r| r.last_error.clone()).unwrap_or_default();
    let eval_seconds = rs.map_or(0.0, |r| r.eval_seconds);
    let last_eval = go_time(rs.map_or(0, |r| r.last_eval_wall_ms));
    let query = rule_query(rule);
    match rule {
        Rule::Recording(r) => {
            let mut v = json!({
                "name": r.name,
                "query": query,
                "labels": labels_json(&r.labels),
                "health": health.as_str(),
                "evaluationTime": eval_seconds,
                "lastEvaluation": last_eval,
                "type": "recording",
            });
            if !last_error.is_empty()
                && let Some(o) = v.as_object_mut()
            {
                o.insert("lastError".into(), Value::String(last_error));
            }
            v
        }
        Rule::Alerting(r) => {
            let alerts: Vec<&architect_rules::Alert> = rs
                .map(|s| {
                    s.alerts
                        .iter()
                        .filter(|a| a.state != AlertStateKind::Inactive)
                        .collect()
                })
                .unwrap_or_default();
            let state = alerts
                .iter()
                .map(|a| a.state)
                .max_by_key(|s| match s {
                    AlertStateKind::Inactive => 0,
                    AlertStateKind::Pending => 1,
                    AlertStateKind::Firing => 2,
                })
                .unwrap_or(AlertStateKind::Inactive);
            let mut v = json!({
                "state": state.as_str(),
                "name": r.name,
                "query": query,
                "duration": r.hold_ms as f64 / 1000.0,
                "keepFiringFor": r.keep_firing_for_ms as f64 / 1000.0,
                "labels": labels_json(&r.labels),
                "annotations": labels_json(&r.annotations),
                "health": health.as_str(),
                "evaluationTime": eval_seconds,
                "lastEvaluation": last_eval,
                "type": "alerting",
            });
            if let Some(o) = v.as_object_mut() {
                if !filter.exclude_alerts {
                    o.insert(
                        "alerts".into(),
                        Value::Array(alerts.iter().map(|a| alert_json(a)).collect()),
                    );
                }
                if !last_error.is_empty() {
                    o.insert("lastError".into(), Value::String(last_error));
                }
            }
            v
        }
    }
}

/// The expression as Prometheus prints it (its parsed form), falling back to the text.
fn rule_query(rule: &Rule) -> String {
    match rule {
        Rule::Recording(r) => r.parsed.expr.to_string(),
        Rule::Alerting(r) => r.parsed.expr.to_string(),
    }
}

async fn groups_with_state(
    state: &ApiState,
    tenant: &TenantId,
) -> Result<Vec<(RuleGroup, Option<GroupState>)>, ApiError> {
    let store = store(state);
    let (groups, mut states) = tokio::try_join!(store.groups(tenant), store.states(tenant))
        .map_err(|e| ApiError::prometheus(ErrorCode::Unavailable, e.to_string()))?;
    let mut out = Vec::with_capacity(groups.len());
    for g in groups {
        let key = (g.namespace.clone(), g.spec.name.clone());
        let Ok(group) = RuleGroup::new(
            &g.namespace,
            g.spec,
            state.ruler.evaluation_interval_secs as i64 * 1000,
            0,
        ) else {
            continue;
        };
        let st = states.remove(&key);
        out.push((group, st));
    }
    Ok(out)
}

/// `GET /api/v1/rules`.
pub(crate) async fn prometheus_rules(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let tenant = tenant::resolve(&state, &headers, ErrorFormat::PrometheusJson)?;
    let filter = RuleFilter::parse(query.as_deref())?;
    let mut groups_json = Vec::new();
    for (group, st) in groups_with_state(&state, &tenant).await? {
        if !filter.groups.is_empty() && !filter.groups.contains(&group.name) {
            continue;
        }
        if !filter.files.is_empty() && !filter.files.contains(&group.namespace) {
            continue;
        }
        let states: BTreeMap<&str, &architect_rules::RuleState> = st
            .as_ref()
            .map(|s| s.rules.iter().map(|r| (r.key.as_str(), r)).collect())
            .unwrap_or_default();
        let mut rules = Vec::new();
        for rule in &group.rules {
            let wanted_kind = match (&filter.kind, rule) {
                (Some(k), Rule::Alerting(_)) => k == "alert",
                (Some(k), Rule::Recording(_)) => k == "record",
                (None, _) => true,
            };
            if !wanted_kind
                || (!filter.names.is_empty() && !filter.names.iter().any(|n| n == rule.name()))
            {
                continue;
            }
            let key = rule.state_key();
            rules.push(rule_json(rule, states.get(key.as_str()).copied(), &filter));
        }
        if rules.is_empty() && (filter.kind.is_some() || !filter.names.is_empty()) {
            continue;
        }
        groups_json.push(json!({
            "name": group.name,
            "file": group.namespace,
            "rules": rules,
            "interval": group.interval_ms as f64 / 1000.0,
            "limit": group.limit,
            "evaluationTime": st.as_ref().map_or(0.0, |s| s.eval_seconds),
            "lastEvaluation": go_time(st.as_ref().map_or(0, |s| s.last_eval_wall_ms)),
        }));
    }
    Ok(axum::Json(json!({"status": "success", "data": {"groups": groups_json}})).into_response())
}

/// `GET /api/v1/alerts`: every pending and firing alert.
pub(crate) async fn prometheus_alerts(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let tenant = tenant::resolve(&state, &headers, ErrorFormat::PrometheusJson)?;
    let mut alerts = Vec::new();
    for (group, st) in groups_with_state(&state, &tenant).await? {
        let Some(st) = st else { continue };
        for rule in &group.rules {
            if !matches!(rule, Rule::Alerting(_)) {
                continue;
            }
            let key = rule.state_key();
            if let Some(rs) = st.rules.iter().find(|r| r.key == key) {
                alerts.extend(
                    rs.alerts
                        .iter()
                        .filter(|a| a.state != AlertStateKind::Inactive)
                        .map(alert_json),
                );
            }
        }
    }
    Ok(axum::Json(json!({"status": "success", "data": {"alerts": alerts}})).into_response())
}
