//! Liveness, readiness, the service's own metrics, admin actions and request counting.

use crate::error::{ApiError, ErrorCode};
use crate::state::ApiState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// `GET /-/healthy`.
pub(crate) async fn healthy() -> &'static str {
    "Monitoring Architect is Healthy.\n"
}

/// `GET /-/ready`: 200 once the WAL is replayed.
pub(crate) async fn ready(State(state): State<Arc<ApiState>>) -> Response {
    if state.writer.is_ready().await {
        (StatusCode::OK, "Monitoring Architect is Ready.\n").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable\n").into_response()
    }
}

/// `GET /metrics` in the OpenMetrics text format (which Prometheus scrapes).
pub(crate) async fn metrics(State(state): State<Arc<ApiState>>) -> Result<Response, ApiError> {
    let mut body = String::new();
    prometheus_client::encoding::text::encode(&mut body, &state.registry)
        .map_err(|e| ApiError::text(ErrorCode::Internal, e.to_string()))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response())
}

/// `POST /api/v1/admin/flush`: cuts the head now; returns when the blocks are committed.
pub(crate) async fn flush(State(state): State<Arc<ApiState>>) -> Result<Response, ApiError> {
    let stats = state
        .writer
        .flush()
        .await
        .map_err(|e| ApiError::text(ErrorCode::Unavailable, e.to_string()))?;
    Ok(axum::Json(stats).into_response())
}

/// `POST /api/v1/admin/compact`: one compaction pass (merge, downsample, retention, garbage
/// collection); returns its report when everything it did is committed.
pub(crate) async fn compact(State(state): State<Arc<ApiState>>) -> Result<Response, ApiError> {
    let compactor = state.compactor.as_ref().ok_or_else(|| {
        ApiError::text(
            ErrorCode::Unavailable,
            "compaction does not run here: invoke the compact function",
        )
    })?;
    let report = compactor
        .run(&|_: &architect_compactor::Progress<'_>| {})
        .await
        .map_err(|e| ApiError::text(ErrorCode::Internal, e.to_string()))?;
    if let Some(first) = report.errors.first() {
        return Err(ApiError::text(
            ErrorCode::Internal,
            format!(
                "{} partition(s) failed, first: {first}",
                report.errors.len()
            ),
        ));
    }
    Ok(axum::Json(report).into_response())
}

/// `POST /api/v1/admin/rules/evaluate`: one ruler pass now; returns its report.
pub(crate) async fn evaluate_rules(
    State(state): State<Arc<ApiState>>,
) -> Result<Response, ApiError> {
    let ruler = state.ruler_runner.as_ref().ok_or_else(|| {
        ApiError::text(
            ErrorCode::Unavailable,
            "rules are not evaluated here: invoke the rules function",
        )
    })?;
    let report = ruler
        .run_pass()
        .await
        .map_err(|e| ApiError::text(ErrorCode::Unavailable, e.to_string()))?;
    Ok(axum::Json(report).into_response())
}

/// Counts requests by matched route and status code.
pub(crate) async fn count_requests(
    State(state): State<Arc<ApiState>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    state
        .requests
        .get_or_create(&vec![
            ("route".into(), route),
            ("code".into(), response.status().as_u16().to_string()),
        ])
        .inc();
    response
}
