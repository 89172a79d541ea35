//! The Prometheus query API: `/api/v1/query`, `/api/v1/query_range`, `/api/v1/format_query`
//! and the status endpoints Grafana probes, in Prometheus's JSON shapes and error types.
//!
//! Results are written with a hand-rolled JSON writer so timestamps and values come out exactly
//! as Prometheus prints them (`1435781451.781`, `"+Inf"`), and large matrices need no
//! intermediate `serde_json::Value` tree.

use crate::error::{ApiError, ErrorCode, ErrorFormat};
use crate::prom_api::params;
use crate::remote;
use crate::state::ApiState;
use crate::tenant;
use crate::time::parse_time;
use architect_ingester::HeadWant;
use architect_model::TenantId;
use architect_model::float::go_float;
use architect_promql::{
    FloatHistogram, Point, QueryError, QueryResult, QueryValue, RawSeries, SelectHints,
    SeriesSource, SourceError,
};
use architect_store::downsampled::Aggregate;
use async_trait::async_trait;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::prometheus(ErrorCode::BadRequest, message)
}

/// One tenant's series from the blocks and the ingester head.
pub(crate) struct TenantSource {
    pub(crate) head: Arc<dyn architect_ingester::HeadReader>,
    pub(crate) store: Arc<architect_store::MetricsStore>,
    pub(crate) tenant: TenantId,
    /// Coarsest downsampled resolution selectors may read (0 = raw only).
    pub(crate) max_resolution_ms: i64,
}

impl TenantSource {
    /// Raw data of `tenant` as `state` holds it.
    pub(crate) fn new(state: &ApiState, tenant: TenantId, max_resolution_ms: i64) -> Self {
        Self {
            head: Arc::clone(&state.head),
            store: Arc::clone(&state.store),
            tenant,
            max_resolution_ms,
        }
    }
}

#[async_trait]
impl SeriesSource for TenantSource {
    async fn select(
        &self,
        matchers: &[architect_model::Matcher],
        start: i64,
        end: i64,
    ) -> Result<Vec<RawSeries>, SourceError> {
        self.select_hinted(matchers, start, end, &SelectHints::default())
            .await
    }

    async fn select_hinted(
        &self,
        matchers: &[architect_model::Matcher],
        start: i64,
        end: i64,
        hints: &SelectHints,
    ) -> Result<Vec<RawSeries>, SourceError> {
        let source_error = |e: &dyn std::fmt::Display| SourceError(e.to_string());
        // One head read for floats and histograms (one round trip to a remote ingester).
        let head = self
            .head
            .select(&self.tenant, matchers, start, end, HeadWant::SAMPLES)
            .await
            .map_err(|e| source_error(&e))?;
        let mut head_floats = Vec::with_capacity(head.len());
        let mut head_hists = Vec::new();
        for s in head {
            if !s.histograms.is_empty() {
                head_hists.push((s.labels.clone(), s.histograms));
            }
            if !s.samples.is_empty() {
                head_floats.push((s.labels, s.samples));
            }
        }
        // One catalog listing for the float and the histogram reads.
        let partitions = self
            .store
            .partitions(&self.tenant, start, end)
            .await
            .map_err(|e| source_error(&e))?;
        let stored = if self.max_resolution_ms >= architect_store::downsampled::RES_5M {
            let aggregate = Aggregate::for_function(hints.func.as_deref());
            self.store
                .select_downsampled_in(
                    &self.tenant,
                    &partitions,
                    matchers,
                    start,
                    end,
                    self.max_resolution_ms,
                    aggregate,
                )
                .await
        } else {
            self.store
                .select_in(
                    architect_store::raw_blocks(&partitions, start, end),
                    matchers,
                    start,
                    end,
                    if hints.presence_only {
                        architect_store::Values::Presence
                    } else {
                        architect_store::Values::All
                    },
                )
                .await
        }
        .map_err(|e| source_error(&e))?;
        let series = remote::merge_floats(&self.tenant, stored, head_floats);
        let mut out: Vec<RawSeries> = series
            .into_iter()
            .map(|s| RawSeries {
                labels: s.labels,
                floats: s.samples.into_iter().map(|x| (x.t, x.v)).collect(),
                hists: Vec::new(),
            })
            .collect();
        // Native histograms: blocks first (first write wins), then the head.
        let stored = self
            .store
            .select_histograms_in(
                architect_store::histogram_blocks(&partitions, start, end),
                matchers,
                start,
                end,
            )
            .await
            .map_err(|e| source_error(&e))?;
        if stored.is_empty() && head_hists.is_empty() {
            return Ok(out);
        }
        let mut at: std::collections::HashMap<architect_model::Labels, usize> = out
            .iter()
            .enumerate()
            .map(|(i, s)| (s.labels.clone(), i))
            .collect();
        for (labels, hs) in stored.into_iter().chain(head_hists) {
            let i = *at.entry(labels.clone()).or_insert_with(|| {
                out.push(RawSeries {
                    labels,
                    ..RawSeries::default()
                });
                out.len() - 1
            });
            let raw = &mut out[i];
            for h in hs {
                if let Err(i) = raw.hists.binary_search_by_key(&h.t, |x| x.0) {
                    raw.hists
                        .insert(i, (h.t, Arc::new(FloatHistogram::from_model(&h))));
                }
            }
        }
        Ok(out)
    }
}

fn query_error(e: QueryError) -> ApiError {
    let code = match &e {
        QueryError::BadData(_) => ErrorCode::BadRequest,
        QueryError::Execution(_) | QueryError::TooManySamples(_) => ErrorCode::Execution,
        QueryError::Timeout(_) => ErrorCode::Timeout,
        QueryError::Storage(_) => ErrorCode::Internal,
    };
    ApiError::prometheus(code, e.to_string())
}

fn get<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| n == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// The required `query` parameter.
fn query_param(params: &[(String, String)]) -> Result<&str, ApiError> {
    get(params, "query").ok_or_else(|| bad("invalid parameter \"query\": query is empty"))
}

/// A time parameter, `default` when absent.
fn time_param(params: &[(String, String)], name: &str, default: i64) -> Result<i64, ApiError> {
    match get(params, name) {
        Some(t) => parse_time(t).map_err(|e| bad(format!("invalid parameter \"{name}\": {e}"))),
        None => Ok(default),
    }
}

/// Parses a Prometheus duration parameter: float seconds or `1h30m`-style.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    if let Ok(secs) = s.parse::<f64>() {
        if !secs.is_finite() || secs < 0.0 || secs > (i64::MAX / 1000) as f64 {
            return Err(format!("cannot parse {s:?} to a valid duration"));
        }
        return Ok(Duration::from_secs_f64(secs));
    }
    let mut total_ms: u128 = 0;
    let mut rest = s;
    if rest.is_empty() {
        return Err(format!("cannot parse {s:?} to a valid duration"));
    }
    while !rest.is_empty() {
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!("cannot parse {s:?} to a valid duration"));
        }
        let n: u128 = rest[..digits]
            .parse()
            .map_err(|_| format!("cannot parse {s:?} to a valid duration"))?;
        rest = &rest[digits..];
        let unit_len = rest.chars().take_while(|c| c.is_ascii_alphabetic()).count();
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let ms: u128 = match unit {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 604_800_000,
            "y" => 31_536_000_000,
            _ => return Err(format!("cannot parse {s:?} to a valid duration")),
        };
        total_ms += n * ms;
    }
    Ok(Duration::from_millis(total_ms as u64))
}

struct Parsed {
    tenant: TenantId,
    params: Vec<(String, String)>,
}

fn parse_request(
    state: &ApiState,
    method: &Method,
    query: Option<String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Parsed, ApiError> {
    let tenant = tenant::resolve(state, headers, ErrorFormat::PrometheusJson)?;
    let params = params(method, query, headers, body)?;
    Ok(Parsed { tenant, params })
}

fn timeout_of(state: &ApiState, params: &[(String, String)]) -> Result<Duration, ApiError> {
    let max = state.query.timeout();
    match get(params, "timeout") {
        None => Ok(max),
        Some(t) => parse_duration(t)
            .map(|d| d.min(max))
            .map_err(|e| bad(format!("invalid parameter \"timeout\": {e}"))),
    }
}

/// `GET|POST /api/v1/query`.
pub(crate) async fn instant_query(
    State(state): State<Arc<ApiState>>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = parse_request(&state, &method, query, &headers, &body)?;
    let q = query_param(&p.params)?;
    let t = time_param(&p.params, "time", state.clock.now_ms())?;
    let max_resolution_ms = max_source_resolution(&p.params, None)?;
    let engine = state.engine_for(timeout_of(&state, &p.params)?, max_resolution_ms);
    let source = TenantSource::new(&state, p.tenant, max_resolution_ms);
    let started = Instant::now();
    let result = engine.instant(&source, q, t).await.map_err(query_error)?;
    Ok(respond(&result, get(&p.params, "stats").is_some(), started))
}

/// `GET|POST /api/v1/query_range`.
pub(crate) async fn range_query(
    State(state): State<Arc<ApiState>>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = parse_request(&state, &method, query, &headers, &body)?;
    let q = query_param(&p.params)?;
    let start = parse_time(get(&p.params, "start").unwrap_or(""))
        .map_err(|e| bad(format!("invalid parameter \"start\": {e}")))?;
    let end = parse_time(get(&p.params, "end").unwrap_or(""))
        .map_err(|e| bad(format!("invalid parameter \"end\": {e}")))?;
    if end < start {
        return Err(bad(
            "invalid parameter \"end\": end timestamp must not be before start time",
        ));
    }
    let step = parse_duration(get(&p.params, "step").unwrap_or(""))
        .map_err(|e| bad(format!("invalid parameter \"step\": {e}")))?;
    let step_ms = step.as_millis() as i64;
    if step_ms <= 0 {
        return Err(bad(
            "invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    if (end - start) / step_ms > state.query.max_points_per_series as i64 {
        return Err(bad(format!(
            "exceeded maximum resolution of {} points per timeseries. Try decreasing the query resolution (?step=XX)",
            group_thousands(state.query.max_points_per_series)
        )));
    }
    let max_resolution_ms = max_source_resolution(&p.params, Some(step_ms))?;
    let engine = state.engine_for(timeout_of(&state, &p.params)?, max_resolution_ms);
    let source = TenantSource::new(&state, p.tenant, max_resolution_ms);
    let started = Instant::now();
    let result = engine
        .range(&source, q, start, end, step_ms)
        .await
        .map_err(query_error)?;
    Ok(respond(&result, get(&p.params, "stats").is_some(), started))
}

/// The coarsest resolution a query may read, from Thanos's `max_source_resolution` parameter:
/// `auto` (the default) allows a fifth of the step of a range query and raw data for an instant
/// query; `raw` or `0s` forces raw data; a duration (`5m`, `1h`) allows data downsampled to at
/// most that.
fn max_source_resolution(
    params: &[(String, String)],
    step_ms: Option<i64>,
) -> Result<i64, ApiError> {
    match get(params, "max_source_resolution") {
        None | Some("" | "auto") => Ok(step_ms.map_or(0, |s| s / 5)),
        Some("raw") => Ok(0),
        Some(d) => parse_duration(d)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .map_err(|e| bad(format!("invalid parameter \"max_source_resolution\": {e}"))),
    }
}

fn group_thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `GET|POST /api/v1/format_query`.
pub(crate) async fn format_query(
    State(state): State<Arc<ApiState>>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = parse_request(&state, &method, query, &headers, &body)?;
    let q = query_param(&p.params)?;
    let parsed = architect_promql::Engine::parse(q).map_err(query_error)?;
    Ok(axum::Json(serde_json::json!({
        "status": "success",
        "data": parsed.expr.prettify(),
    }))
    .into_response())
}

/// `GET /api/v1/status/buildinfo`: Grafana reads the version to pick features.
pub(crate) async fn buildinfo() -> Response {
    axum::Json(serde_json::json!({
        "status": "success",
        "data": {
            "version": PROMETHEUS_COMPATIBLE_VERSION,
            "revision": env!("CARGO_PKG_VERSION"),
            "branch": "main",
            "buildUser": "monitoring-architect",
            "buildDate": "",
            "goVersion": "",
            "features": {
                "ruler_config_api": "true",
                "alertmanager_config_api": "true",
                "query_sharding": "false",
                "federated_rules": "false",
            },
        }
    }))
    .into_response()
}

/// The Prometheus version whose API this one matches (clients gate features on it).
const PROMETHEUS_COMPATIBLE_VERSION: &str = "3.5.0";

/// `GET /api/v1/status/config`: a Prometheus-shaped config with the engine's settings.
pub(crate) async fn status_config(State(state): State<Arc<ApiState>>) -> Response {
    let yaml = format!(
        "global:\n  scrape_interval: 1m\n  scrape_timeout: 10s\n  evaluation_interval: 1m\n# Monitoring Architect: lookback_delta {}s, query timeout {}s\n",
        state.query.lookback_delta_seconds, state.query.timeout_seconds
    );
    axum::Json(serde_json::json!({"status": "success", "data": {"yaml": yaml}})).into_response()
}

/// `GET /api/v1/status/flags`.
pub(crate) async fn status_flags(State(state): State<Arc<ApiState>>) -> Response {
    axum::Json(serde_json::json!({
        "status": "success",
        "data": {
            "query.lookback-delta": format!("{}s", state.query.lookback_delta_seconds),
            "query.max-samples": state.query.max_samples.to_string(),
            "query.timeout": format!("{}s", state.query.timeout_seconds),
            "storage.tsdb.retention.time": "0s",
        }
    }))
    .into_response()
}

fn respond(result: &QueryResult, stats: bool, started: Instant) -> Response {
    let mut out = String::with_capacity(256);
    out.push_str(r#"{"status":"success","data":{"resultType":""#);
    out.push_str(result.value.type_name());
    out.push_str(r#"","result":"#);
    write_value(&mut out, &result.value);
    if stats {
        let secs = started.elapsed().as_secs_f64();
        let _ = write!(
            out,
            r#","stats":{{"timings":{{"evalTotalTime":{secs},"resultSortTime":0,"queryPreparationTime":{},"innerEvalTime":{},"execQueueTime":0,"execTotalTime":{secs}}},"samples":{{"totalQueryableSamples":{},"peakSamples":{}}}}}"#,
            result.stats.fetch_seconds,
            result.stats.eval_seconds,
            result.stats.samples_loaded,
            result.stats.peak_samples
        );
    }
    out.push('}');
    if !result.warnings.is_empty() {
        out.push_str(r#","warnings":"#);
        write_json_strings(&mut out, &result.warnings);
    }
    if !result.infos.is_empty() {
        out.push_str(r#","infos":"#);
        write_json_strings(&mut out, &result.infos);
    }
    out.push('}');
    json_response(out)
}

/// A JSON body written by hand, as a response.
pub(crate) fn json_response(body: String) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

pub(crate) fn write_json_strings(out: &mut String, items: &[String]) {
    out.push('[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_str(out, s);
    }
    out.push(']');
}

fn write_json_str(out: &mut String, s: &str) {
    match serde_json::to_string(s) {
        Ok(q) => out.push_str(&q),
        Err(_) => out.push_str("\"\""),
    }
}

pub(crate) fn write_labels(out: &mut String, labels: &architect_model::Labels) {
    out.push('{');
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_json_str(out, &l.name);
        out.push(':');
        write_json_str(out, &l.value);
    }
    out.push('}');
}

/// A timestamp as Prometheus writes it: seconds with up to three decimals.
fn write_ts(out: &mut String, t: i64) {
    if t < 0 {
        out.push('-');
    }
    let a = t.unsigned_abs();
    out.push_str(itoa::Buffer::new().format(a / 1000));
    let frac = a % 1000;
    if frac != 0 {
        // Three digits, as upstream: `1.050`.
        out.push('.');
        for digit in [frac / 100, frac / 10 % 10, frac % 10] {
            out.push(char::from(b'0' + digit as u8));
        }
    }
}

fn write_pair(out: &mut String, t: i64, v: f64) {
    out.push('[');
    write_ts(out, t);
    out.push_str(",\"");
    if v.is_finite() {
        architect_model::float::write_finite(out, v);
    } else {
        out.push_str(&go_float(v));
    }
    out.push_str("\"]");
}

fn write_histogram(out: &mut String, t: i64, h: &FloatHistogram) {
    out.push('[');
    write_ts(out, t);
    let _ = write!(
        out,
        r#",{{"count":"{}","sum":"{}","buckets":["#,
        go_float(h.count),
        go_float(h.sum)
    );
    for (i, b) in h.buckets().into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            r#"[{},"{}","{}","{}"]"#,
            b.boundaries,
            go_float(b.lower),
            go_float(b.upper),
            go_float(b.count)
        );
    }
    out.push_str("]}]");
}

fn write_value(out: &mut String, v: &QueryValue) {
    match v {
        QueryValue::Scalar(t, f) => write_pair(out, *t, *f),
        QueryValue::String(t, s) => {
            out.push('[');
            write_ts(out, *t);
            out.push(',');
            write_json_str(out, s);
            out.push(']');
        }
        QueryValue::Vector(samples) => {
            out.push('[');
            for (i, s) in samples.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(r#"{"metric":"#);
                write_labels(out, &s.labels);
                match &s.point {
                    Point::Hist(h) => {
                        out.push_str(r#","histogram":"#);
                        write_histogram(out, s.t, h);
                    }
                    Point::Float(f) => {
                        out.push_str(r#","value":"#);
                        write_pair(out, s.t, *f);
                    }
                    Point::Absent => out.push_str(r#","value":null"#),
                }
                out.push('}');
            }
            out.push(']');
        }
        QueryValue::Matrix(series) => {
            out.push('[');
            for (i, s) in series.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(r#"{"metric":"#);
                write_labels(out, &s.labels);
                if !s.floats.is_empty() {
                    out.push_str(r#","values":["#);
                    for (j, (t, f)) in s.floats.iter().enumerate() {
                        if j > 0 {
                            out.push(',');
                        }
                        write_pair(out, *t, *f);
                    }
                    out.push(']');
                }
                if !s.hists.is_empty() {
                    out.push_str(r#","histograms":["#);
                    for (j, (t, h)) in s.hists.iter().enumerate() {
                        if j > 0 {
                            out.push(',');
                        }
                        write_histogram(out, *t, h);
                    }
                    out.push(']');
                }
                out.push('}');
            }
            out.push(']');
        }
    }
}

/// `GET|POST /api/v1/query_exemplars`: exemplars of the series the query's selectors match.
pub(crate) async fn query_exemplars(
    State(state): State<Arc<ApiState>>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let p = parse_request(&state, &method, query, &headers, &body)?;
    let q = query_param(&p.params)?;
    let start = time_param(&p.params, "start", crate::time::MIN_TIME_MS)?;
    let end = time_param(&p.params, "end", crate::time::MAX_TIME_MS)?;
    if end < start {
        return Err(bad(
            "invalid parameter \"end\": end timestamp must not be before start time",
        ));
    }
    let expr = architect_promql::Engine::parse(q)
        .map_err(query_error)?
        .expr;
    let mut found: std::collections::BTreeMap<
        architect_model::Labels,
        Vec<architect_model::Exemplar>,
    > = std::collections::BTreeMap::new();
    for vs in architect_promql::expr_selectors(&expr) {
        let sets = architect_promql::selector_matchers(vs).map_err(bad)?;
        for set in sets {
            let stored = state
                .store
                .exemplars(&p.tenant, &set, start, end)
                .await
                .map_err(|e| ApiError::prometheus(ErrorCode::Internal, e.to_string()))?;
            let head = state
                .head
                .select(&p.tenant, &set, start, end, HeadWant::EXEMPLARS)
                .await
                .map_err(|e| ApiError::prometheus(ErrorCode::Unavailable, e.to_string()))?
                .into_iter()
                .map(|s| (s.labels, s.exemplars));
            for (labels, ex) in stored.into_iter().chain(head) {
                found.entry(labels).or_default().extend(ex);
            }
        }
    }
    let mut out = String::from(r#"{"status":"success","data":["#);
    for (i, (labels, mut ex)) in found.into_iter().enumerate() {
        ex.sort_by_key(|e| e.t);
        ex.dedup_by(|a, b| a.t == b.t && a.v.to_bits() == b.v.to_bits() && a.labels == b.labels);
        if i > 0 {
            out.push(',');
        }
        out.push_str(r#"{"seriesLabels":"#);
        write_labels(&mut out, &labels);
        out.push_str(r#","exemplars":["#);
        for (j, e) in ex.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            out.push_str(r#"{"labels":"#);
            write_labels(&mut out, &e.labels);
            out.push_str(r#","value":""#);
            out.push_str(&go_float(e.v));
            out.push_str(r#"","timestamp":"#);
            write_ts(&mut out, e.t);
            out.push('}');
        }
        out.push_str("]}");
    }
    out.push_str("]}");
    Ok(json_response(out))
}

/// `GET /api/v1/metadata`: metric metadata by metric family, with `metric`, `limit` and
/// `limit_per_metric` as Prometheus takes them.
pub(crate) async fn metadata(
    State(state): State<Arc<ApiState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let p = parse_request(&state, &Method::GET, query, &headers, &[])?;
    let parse_limit = |k: &str| -> Result<Option<usize>, ApiError> {
        match get(&p.params, k) {
            None => Ok(None),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if n <= 0 => Ok(None),
                Ok(n) => Ok(Some(n as usize)),
                Err(_) => Err(bad(format!(
                    "invalid parameter \"{k}\": {v:?} is not a number"
                ))),
            },
        }
    };
    let limit = parse_limit("limit")?;
    let _per_metric = parse_limit("limit_per_metric")?;
    let metric = get(&p.params, "metric");
    let mut all: std::collections::BTreeMap<String, architect_model::MetricMetadata> = state
        .store
        .metadata(
            &p.tenant,
            crate::time::MIN_TIME_MS,
            crate::time::MAX_TIME_MS,
        )
        .await
        .map_err(|e| ApiError::prometheus(ErrorCode::Internal, e.to_string()))?
        .into_iter()
        .map(|m| (m.metric_family.clone(), m))
        .collect();
    let head = state
        .head
        .metadata(&p.tenant)
        .await
        .map_err(|e| ApiError::prometheus(ErrorCode::Unavailable, e.to_string()))?;
    for m in head {
        all.insert(m.metric_family.clone(), m);
    }
    let mut data = serde_json::Map::new();
    for (family, m) in all {
        if metric.is_some_and(|x| x != family) {
            continue;
        }
        if limit.is_some_and(|l| data.len() >= l) {
            break;
        }
        data.insert(
            family,
            serde_json::json!([{"type": m.kind.as_str(), "help": m.help, "unit": m.unit}]),
        );
    }
    Ok(axum::Json(serde_json::json!({"status": "success", "data": data})).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_values_print_as_prometheus() {
        let mut s = String::new();
        write_ts(&mut s, 1_435_781_451_781);
        assert_eq!(s, "1435781451.781");
        s.clear();
        write_ts(&mut s, 1_050);
        assert_eq!(s, "1.050");
        s.clear();
        write_ts(&mut s, 60_000);
        assert_eq!(s, "60");
        assert_eq!(go_float(f64::INFINITY), "+Inf");
        assert_eq!(go_float(1e-7), "0.0000001");
        assert_eq!(go_float(2.5), "2.5");
    }

    #[test]
    fn durations_parse_both_forms() {
        assert_eq!(parse_duration("15"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(parse_duration("5 minutes").is_err());
        assert!(parse_duration("").is_err());
    }
}
