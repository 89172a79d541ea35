//! The HTTP surface: one axum `Router` for every endpoint, served by
//! `axum::serve` in `architect serve` and by `lambda_http` in the Lambda functions, so each
//! handler is written and tested once.
//!
//! Requests carry their tenant in `X-Scope-OrgID` (validated as Mimir does; a configured default
//! applies when absent). Errors go through one mapping ([`error::ApiError`]) into the peer's
//! format: plain text for remote_write (as Prometheus and Mimir answer), Prometheus' JSON envelope
//! for the query API.

mod am_api;
pub mod error;
pub mod ha_tracker;
mod health;
mod internal;
mod prom_api;
mod query;
mod remote;
mod ruler_backend;
mod rules_api;
mod state;
mod tenant;
mod time;

pub use ruler_backend::{RulerBackend, ruler_for};
pub use state::{ApiState, HttpLimits, QueryLimits};

use axum::Router;
use axum::routing::{get, post};
use std::sync::Arc;

/// What the service answers while the WAL replays: healthy, not ready, everything else 503.
pub fn replaying_router() -> Router {
    use axum::http::StatusCode;
    Router::new()
        .route("/-/healthy", get(health::healthy))
        .fallback(|| async {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable: replaying the write-ahead log\n",
            )
        })
}

/// The Prometheus query API, at the root and under `/prometheus` as Mimir lays it out.
fn prometheus_api() -> Router<Arc<ApiState>> {
    let prom = Router::new()
        .route(
            "/api/v1/series",
            get(prom_api::series).post(prom_api::series),
        )
        .route(
            "/api/v1/labels",
            get(prom_api::labels).post(prom_api::labels),
        )
        .route("/api/v1/label/{name}/values", get(prom_api::label_values))
        .route(
            "/api/v1/query",
            get(query::instant_query).post(query::instant_query),
        )
        .route(
            "/api/v1/query_range",
            get(query::range_query).post(query::range_query),
        )
        .route(
            "/api/v1/format_query",
            get(query::format_query).post(query::format_query),
        )
        .route(
            "/api/v1/query_exemplars",
            get(query::query_exemplars).post(query::query_exemplars),
        )
        .route("/api/v1/metadata", get(query::metadata))
        .route("/api/v1/status/buildinfo", get(query::buildinfo))
        .route("/api/v1/status/config", get(query::status_config))
        .route("/api/v1/status/flags", get(query::status_flags))
        .route("/api/v1/read", post(remote::read))
        .route("/api/v1/rules", get(rules_api::prometheus_rules))
        .merge(ruler_config_api("/config/v1/rules"));
    let prom_alerts = get(rules_api::prometheus_alerts);
    Router::new()
        .merge(
            prom.clone().route(
                "/api/v1/alerts",
                prom_alerts
                    .clone()
                    .post(am_api::set_config)
                    .delete(am_api::delete_config),
            ),
        )
        .nest("/prometheus", prom.route("/api/v1/alerts", prom_alerts))
        .merge(ruler_config_api("/api/prom/rules"))
}

/// Mimir's ruler configuration API under `base` (`/config/v1/rules`, Cortex's
/// `/api/prom/rules`).
fn ruler_config_api(base: &str) -> Router<Arc<ApiState>> {
    Router::new()
        .route(base, get(rules_api::list_all))
        .route(
            &format!("{base}/{{namespace}}"),
            get(rules_api::list_namespace)
                .post(rules_api::set_group)
                .delete(rules_api::delete_namespace),
        )
        .route(
            &format!("{base}/{{namespace}}/{{group}}"),
            get(rules_api::get_group).delete(rules_api::delete_group),
        )
}

/// Alertmanager's API v2 at the root and under `/alertmanager` (Mimir's layout), and Mimir's
/// configuration API: in full under `/alertmanager/api/v1/alerts`, and `POST`/`DELETE` at the
/// root, whose `GET /api/v1/alerts` is Prometheus's.
fn alertmanager_api() -> Router<Arc<ApiState>> {
    let v2 = Router::new()
        .route(
            "/api/v2/alerts",
            get(am_api::get_alerts).post(am_api::post_alerts),
        )
        .route("/api/v2/alerts/groups", get(am_api::alert_groups))
        .route(
            "/api/v2/silences",
            get(am_api::get_silences).post(am_api::post_silence),
        )
        .route(
            "/api/v2/silence/{id}",
            get(am_api::get_silence).delete(am_api::delete_silence),
        )
        .route("/api/v2/status", get(am_api::status))
        .route("/api/v2/receivers", get(am_api::receivers));
    let nested = v2.clone().route(
        "/api/v1/alerts",
        get(am_api::get_config)
            .post(am_api::set_config)
            .delete(am_api::delete_config),
    );
    Router::new().merge(v2).nest("/alertmanager", nested)
}

/// The write endpoints.
fn write_api() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/api/v1/push", post(remote::write))
        .route("/api/v1/write", post(remote::write))
}

/// Health, readiness, self-metrics and admin actions.
fn operations() -> Router<Arc<ApiState>> {
    Router::new()
        .route("/-/healthy", get(health::healthy))
        .route("/-/ready", get(health::ready))
        .route("/metrics", get(health::metrics))
        .route("/api/v1/admin/flush", post(health::flush))
        .route("/api/v1/admin/compact", post(health::compact))
        .route("/api/v1/admin/rules/evaluate", post(health::evaluate_rules))
}

/// The ingester's internal routes.
fn internal() -> Router<Arc<ApiState>> {
    use architect_ingester::routes;
    Router::new()
        .route(routes::WRITE, post(internal::write))
        .route(routes::SELECT, post(internal::select))
        .route(routes::METADATA, get(internal::metadata))
}

fn finish(routes: Router<Arc<ApiState>>, state: Arc<ApiState>) -> Router {
    routes
        .layer(axum::extract::DefaultBodyLimit::max(
            state.http.max_request_body_bytes,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            health::count_requests,
        ))
        .with_state(state)
}

/// Every route: `architect serve` and the ingester container (which also serves the internal
/// routes the functions use to reach its head).
pub fn router(state: Arc<ApiState>) -> Router {
    let routes = write_api()
        .merge(operations())
        .merge(prometheus_api())
        .merge(alertmanager_api())
        .merge(internal());
    finish(routes, state)
}

/// What the ingest function serves: the write endpoints (and health).
pub fn ingest_router(state: Arc<ApiState>) -> Router {
    finish(write_api().merge(operations()), state)
}

/// What the query function serves: the Prometheus API, the Alertmanager API (and health and
/// admin).
pub fn query_router(state: Arc<ApiState>) -> Router {
    finish(
        prometheus_api()
            .merge(alertmanager_api())
            .merge(operations()),
        state,
    )
}
