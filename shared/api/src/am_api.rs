//! Alertmanager's API v2 (`/api/v2/...`, at the root and under `/alertmanager` as Mimir lays it
//! out) and Mimir's Alertmanager configuration API, per tenant. The operations live in
//! `architect_alertmanager::api`; these handlers translate HTTP.
//!
//! `GET /api/v1/alerts` at the root is Prometheus's (the rules' alerts, which Grafana's
//! Prometheus data source reads), so Mimir's configuration API, which uses the same path, is
//! served in full under `/alertmanager/api/v1/alerts`; at the root only its `POST` and `DELETE`
//! exist (see `docs/alerting.md`).

use crate::error::ErrorFormat;
use crate::state::ApiState;
use crate::tenant;
use architect_alertmanager::AmError;
use architect_alertmanager::api::{
    AlertFilter, PostableAlert, PostableSilence, TenantAlertmanager,
};
use architect_alertmanager::matchers::parse_matchers;
use architect_alertmanager::state::{AmState, StoredConfig};
use architect_model::TenantId;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// An error in Alertmanager's shape: a JSON string body.
#[derive(Debug)]
pub(crate) struct AmHttpError(StatusCode, String);

impl IntoResponse for AmHttpError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(Value::String(self.1))).into_response()
    }
}

fn am_error(status: StatusCode, message: impl Into<String>) -> AmHttpError {
    AmHttpError(status, message.into())
}

fn from_am(e: AmError) -> AmHttpError {
    match e {
        AmError::Invalid(m) => am_error(StatusCode::BAD_REQUEST, m),
        AmError::NotFound(m) => am_error(StatusCode::NOT_FOUND, m),
        other => am_error(StatusCode::SERVICE_UNAVAILABLE, other.to_string()),
    }
}

type AmResult = Result<Response, AmHttpError>;

fn am_state(state: &ApiState) -> AmState {
    AmState::new(Arc::clone(state.store.index()))
}

async fn load(state: &ApiState, headers: &HeaderMap) -> Result<TenantAlertmanager, AmHttpError> {
    let tenant = tenant_of(state, headers)?;
    TenantAlertmanager::load(am_state(state), tenant)
        .await
        .map_err(from_am)
}

fn tenant_of(state: &ApiState, headers: &HeaderMap) -> Result<TenantId, AmHttpError> {
    tenant::resolve(state, headers, ErrorFormat::Text)
        .map_err(|e| am_error(StatusCode::BAD_REQUEST, e.message))
}

fn params(query: Option<&str>) -> Result<Vec<(String, String)>, AmHttpError> {
    serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|e| am_error(StatusCode::BAD_REQUEST, e.to_string()))
}

fn bool_param(params: &[(String, String)], name: &str) -> Result<bool, AmHttpError> {
    match params.iter().rev().find(|(k, _)| k == name) {
        None => Ok(true),
        Some((_, v)) => v.parse().map_err(|_| {
            am_error(
                StatusCode::BAD_REQUEST,
                format!("{name} in query must be of type boolean: {v:?}"),
            )
        }),
    }
}

fn alert_filter(query: Option<&str>) -> Result<AlertFilter, AmHttpError> {
    let p = params(query)?;
    let mut filter = AlertFilter {
        active: bool_param(&p, "active")?,
        silenced: bool_param(&p, "silenced")?,
        inhibited: bool_param(&p, "inhibited")?,
        ..AlertFilter::all()
    };
    for (_, f) in p.iter().filter(|(k, _)| k == "filter") {
        let m = parse_matchers(f).map_err(|e| am_error(StatusCode::BAD_REQUEST, e.to_string()))?;
        filter.matchers.extend(m);
    }
    if let Some((_, r)) = p.iter().find(|(k, _)| k == "receiver") {
        let re = regex::Regex::new(&format!("^(?:{r})$")).map_err(|e| {
            am_error(
                StatusCode::BAD_REQUEST,
                format!("failed to parse receiver param: {e}"),
            )
        })?;
        filter.receiver = Some(re);
    }
    Ok(filter)
}

fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AmHttpError> {
    serde_json::from_slice(body).map_err(|e| am_error(StatusCode::BAD_REQUEST, e.to_string()))
}

fn now(state: &ApiState) -> i64 {
    state.clock.now_ms()
}

/// `GET /api/v2/alerts`.
pub(crate) async fn get_alerts(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> AmResult {
    let filter = alert_filter(query.as_deref())?;
    let am = load(&state, &headers).await?;
    match am.get_alerts(&filter, now(&state)).await {
        Ok(v) => Ok(axum::Json(v).into_response()),
        Err(e) => Err(from_am(e)),
    }
}

/// `POST /api/v2/alerts`.
pub(crate) async fn post_alerts(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Bytes,
) -> AmResult {
    let posted: Vec<PostableAlert> = json_body(&body)?;
    let am = load(&state, &headers).await?;
    match am.post_alerts(posted, now(&state)).await {
        Ok(()) => {
            state.wake_dispatcher(am.tenant()).await;
            Ok(StatusCode::OK.into_response())
        }
        Err(e) => Err(from_am(e)),
    }
}

/// `GET /api/v2/alerts/groups`.
pub(crate) async fn alert_groups(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> AmResult {
    let filter = alert_filter(query.as_deref())?;
    let am = load(&state, &headers).await?;
    match am.alert_groups(&filter, now(&state)).await {
        Ok(v) => Ok(axum::Json(v).into_response()),
        Err(e) => Err(from_am(e)),
    }
}

/// `GET /api/v2/silences`.
pub(crate) async fn get_silences(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> AmResult {
    let p = params(query.as_deref())?;
    let mut filter = Vec::new();
    for (_, f) in p.iter().filter(|(k, _)| k == "filter") {
        filter.extend(
            parse_matchers(f).map_err(|e| am_error(StatusCode::BAD_REQUEST, e.to_string()))?,
        );
    }
    let am = load(&state, &headers).await?;
    match am.get_silences(&filter, now(&state)).await {
        Ok(v) => Ok(axum::Json(v).into_response()),
        Err(e) => Err(from_am(e)),
    }
}

/// `POST /api/v2/silences`.
pub(crate) async fn post_silence(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Bytes,
) -> AmResult {
    let posted: PostableSilence = json_body(&body)?;
    let am = load(&state, &headers).await?;
    match am.post_silence(posted, now(&state)).await {
        Ok(id) => Ok(axum::Json(json!({"silenceID": id})).into_response()),
        Err(e) => Err(from_am(e)),
    }
}

/// `GET /api/v2/silence/{id}`.
pub(crate) async fn get_silence(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> AmResult {
    let am = load(&state, &headers).await?;
    match am.get_silence(&id, now(&state)).await {
        Ok(Some(v)) => Ok(axum::Json(v).into_response()),
        Ok(None) => Ok(StatusCode::NOT_FOUND.into_response()),
        Err(e) => Err(from_am(e)),
    }
}

/// `DELETE /api/v2/silence/{id}`.
pub(crate) async fn delete_silence(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> AmResult {
    let am = load(&state, &headers).await?;
    match am.expire_silence(&id, now(&state)).await {
        Ok(()) => Ok(StatusCode::OK.into_response()),
        Err(AmError::Invalid(m)) => Err(am_error(StatusCode::INTERNAL_SERVER_ERROR, m)),
        Err(e) => Err(from_am(e)),
    }
}

/// `GET /api/v2/status`.
pub(crate) async fn status(State(state): State<Arc<ApiState>>, headers: HeaderMap) -> AmResult {
    let am = load(&state, &headers).await?;
    Ok(axum::Json(am.status(state.started_ms)).into_response())
}

/// `GET /api/v2/receivers`.
pub(crate) async fn receivers(State(state): State<Arc<ApiState>>, headers: HeaderMap) -> AmResult {
    let am = load(&state, &headers).await?;
    Ok(axum::Json(am.receivers()).into_response())
}

/// Mimir's configuration upload body.
#[derive(serde::Deserialize, serde::Serialize)]
struct ConfigUpload {
    #[serde(default)]
    template_files: BTreeMap<String, String>,
    #[serde(default)]
    alertmanager_config: String,
}

/// `GET /alertmanager/api/v1/alerts` (Mimir's `GET /api/v1/alerts`): the uploaded
/// configuration as YAML; 404 when none.
pub(crate) async fn get_config(State(state): State<Arc<ApiState>>, headers: HeaderMap) -> AmResult {
    let tenant = tenant_of(&state, &headers)?;
    match am_state(&state).config(&tenant).await {
        Ok(Some(c)) => {
            let upload = ConfigUpload {
                template_files: c.template_files,
                alertmanager_config: c.alertmanager_config,
            };
            match serde_yaml_ng::to_string(&upload) {
                Ok(text) => {
                    let mut r = (StatusCode::OK, text).into_response();
                    r.headers_mut().insert(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/yaml"),
                    );
                    Ok(r)
                }
                Err(e) => Err(am_error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
            }
        }
        Ok(None) => Ok((
            StatusCode::NOT_FOUND,
            "alertmanager storage object not found\n",
        )
            .into_response()),
        Err(e) => Err(from_am(e)),
    }
}

/// `POST /api/v1/alerts`: a configuration upload (YAML), validated; 201 as Mimir.
pub(crate) async fn set_config(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Bytes,
) -> AmResult {
    let tenant = tenant_of(&state, &headers)?;
    let text = String::from_utf8_lossy(&body);
    let upload: ConfigUpload = match serde_yaml_ng::from_str(&text) {
        Ok(u) => u,
        Err(e) => {
            return Ok((
                StatusCode::BAD_REQUEST,
                format!("error marshalling YAML Alertmanager config: {e}\n"),
            )
                .into_response());
        }
    };
    let stored = StoredConfig {
        alertmanager_config: upload.alertmanager_config,
        template_files: upload.template_files,
    };
    match architect_alertmanager::api::set_config(&am_state(&state), &tenant, stored).await {
        Ok(()) => Ok(StatusCode::CREATED.into_response()),
        Err(AmError::Invalid(m)) => Ok((
            StatusCode::BAD_REQUEST,
            format!("error validating Alertmanager config: {m}\n"),
        )
            .into_response()),
        Err(e) => Err(from_am(e)),
    }
}

/// `DELETE /api/v1/alerts`: back to the fallback configuration.
pub(crate) async fn delete_config(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
) -> AmResult {
    let tenant = tenant_of(&state, &headers)?;
    match am_state(&state).delete_config(&tenant).await {
        Ok(()) => Ok(StatusCode::OK.into_response()),
        Err(e) => Err(from_am(e)),
    }
}
