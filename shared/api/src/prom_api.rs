//! Prometheus HTTP API metadata endpoints: `/api/v1/series`, `/api/v1/labels` and
//! `/api/v1/label/{name}/values`, GET or form POST, with `match[]`, `start`, `end`, `limit`.

use crate::error::{ApiError, ErrorCode, ErrorFormat};
use crate::state::ApiState;
use crate::tenant;
use crate::time::{MAX_TIME_MS, MIN_TIME_MS, parse_time};
use architect_ingester::HeadWant;
use architect_model::{Labels, MatchOp, Matcher, TenantId};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::prometheus(ErrorCode::BadRequest, message)
}

/// Query string plus, for form POSTs, the body's parameters (repeated keys kept).
pub(crate) fn params(
    method: &Method,
    query: Option<String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Vec<(String, String)>, ApiError> {
    let mut out: Vec<(String, String)> = serde_urlencoded::from_str(query.as_deref().unwrap_or(""))
        .map_err(|e| bad(format!("invalid query string: {e}")))?;
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if method == Method::POST && is_form {
        let body = std::str::from_utf8(body).map_err(|_| bad("form body is not UTF-8"))?;
        let form: Vec<(String, String)> =
            serde_urlencoded::from_str(body).map_err(|e| bad(format!("invalid form body: {e}")))?;
        out.extend(form);
    }
    Ok(out)
}

struct Common {
    matcher_sets: Vec<Vec<Matcher>>,
    start: i64,
    end: i64,
    limit: Option<usize>,
}

fn common(params: &[(String, String)]) -> Result<Common, ApiError> {
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let start = get("start")
        .map(parse_time)
        .transpose()
        .map_err(|e| bad(format!("invalid parameter \"start\": {e}")))?;
    let end = get("end")
        .map(parse_time)
        .transpose()
        .map_err(|e| bad(format!("invalid parameter \"end\": {e}")))?;
    let (start, end) = (start.unwrap_or(MIN_TIME_MS), end.unwrap_or(MAX_TIME_MS));
    if end < start {
        return Err(bad(
            "invalid parameter \"end\": end timestamp must not be before start time",
        ));
    }
    let limit = match get("limit") {
        None => None,
        Some(l) => match l.parse::<i64>() {
            Ok(n) if n < 0 => return Err(bad("limit must be non-negative")),
            Ok(0) => None,
            Ok(n) => Some(n as usize),
            Err(_) => {
                return Err(bad(format!(
                    "invalid parameter \"limit\": cannot parse {l:?} to a valid limit"
                )));
            }
        },
    };
    let mut matcher_sets = Vec::new();
    for (_, selector) in params.iter().filter(|(n, _)| n == "match[]") {
        matcher_sets.extend(parse_selector(selector)?);
    }
    Ok(Common {
        matcher_sets,
        start,
        end,
        limit,
    })
}

/// Parses a series selector into one or more matcher sets (`or` inside braces gives several).
pub(crate) fn parse_selector(s: &str) -> Result<Vec<Vec<Matcher>>, ApiError> {
    use promql_parser::label::MatchOp as P;
    let expr = promql_parser::parser::parse(s)
        .map_err(|e| bad(format!("invalid parameter \"match[]\": {e}")))?;
    let promql_parser::parser::Expr::VectorSelector(vs) = expr else {
        return Err(bad(format!(
            "invalid parameter \"match[]\": {s:?} is not a series selector"
        )));
    };
    let convert = |ms: &[promql_parser::label::Matcher]| -> Result<Vec<Matcher>, ApiError> {
        let mut out = Vec::with_capacity(ms.len() + 1);
        for m in ms {
            let op = match m.op {
                P::Equal => MatchOp::Equal,
                P::NotEqual => MatchOp::NotEqual,
                P::Re(_) => MatchOp::RegexMatch,
                P::NotRe(_) => MatchOp::RegexNoMatch,
            };
            out.push(
                Matcher::new(op, m.name.clone(), m.value.clone())
                    .map_err(|e| bad(e.to_string()))?,
            );
        }
        if let Some(name) = &vs.name
            && !out
                .iter()
                .any(|m| m.name == architect_model::METRIC_NAME && m.op == MatchOp::Equal)
        {
            out.push(Matcher::equal(architect_model::METRIC_NAME, name.clone()));
        }
        Ok(out)
    };
    let mut sets = vec![convert(&vs.matchers.matchers)?];
    for group in &vs.matchers.or_matchers {
        sets.push(convert(group)?);
    }
    if sets.len() > 1 && vs.matchers.matchers.is_empty() {
        sets.remove(0);
    }
    Ok(sets)
}

fn success(data: Value, warnings: Vec<String>) -> Response {
    let mut body = json!({ "status": "success", "data": data });
    if !warnings.is_empty() {
        body["warnings"] = json!(warnings);
    }
    axum::Json(body).into_response()
}

/// Series of the tenant matching any of the sets, from blocks and head.
/// Labels of the head's series matching `matchers` with data in `[start, end]`.
async fn head_series(
    state: &ApiState,
    tenant: &TenantId,
    matchers: &[Matcher],
    start: i64,
    end: i64,
) -> Result<Vec<Labels>, ApiError> {
    Ok(state
        .head
        .select(tenant, matchers, start, end, HeadWant::LABELS)
        .await
        .map_err(|e| ApiError::prometheus(ErrorCode::Unavailable, e.to_string()))?
        .into_iter()
        .map(|s| s.labels)
        .collect())
}

async fn matching_series(
    state: &ApiState,
    tenant: &TenantId,
    sets: &[Vec<Matcher>],
    start: i64,
    end: i64,
) -> Result<Vec<Labels>, ApiError> {
    let mut all: HashSet<Labels> = HashSet::new();
    let everything = vec![Vec::new()];
    let sets = if sets.is_empty() { &everything } else { sets };
    for set in sets {
        let stored = state
            .store
            .series(tenant, set, start, end)
            .await
            .map_err(|e| ApiError::prometheus(ErrorCode::Unavailable, e.to_string()))?;
        all.extend(stored.into_iter().map(|(_, l)| l));
        all.extend(head_series(state, tenant, set, start, end).await?);
    }
    let mut out: Vec<Labels> = all.into_iter().collect();
    out.sort();
    Ok(out)
}

fn truncate<T>(items: &mut Vec<T>, limit: Option<usize>, warnings: &mut Vec<String>) {
    if let Some(l) = limit
        && items.len() > l
    {
        items.truncate(l);
        // Prometheus' exact text: Grafana recognises it.
        warnings.push("results truncated due to limit".to_string());
    }
}

/// `GET|POST /api/v1/series`.
pub(crate) async fn series(
    State(state): State<Arc<ApiState>>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let tenant = tenant::resolve(&state, &headers, ErrorFormat::PrometheusJson)?;
    let c = common(&params(&method, query, &headers, &body)?)?;
    if c.matcher_sets.is_empty() {
        return Err(bad("no match[] parameter provided"));
    }
    let mut series = matching_series(&state, &tenant, &c.matcher_sets, c.start, c.end).await?;
    let mut warnings = Vec::new();
    truncate(&mut series, c.limit, &mut warnings);
    // Written directly: building a `serde_json::Value` per series took half the handler's time.
    let mut out = String::with_capacity(64 + 128 * series.len());
    out.push_str(r#"{"status":"success","data":["#);
    for (i, labels) in series.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        crate::query::write_labels(&mut out, labels);
    }
    out.push(']');
    if !warnings.is_empty() {
        out.push_str(r#","warnings":"#);
        crate::query::write_json_strings(&mut out, &warnings);
    }
    out.push('}');
    Ok(crate::query::json_response(out))
}

/// `GET|POST /api/v1/labels`.
pub(crate) async fn labels(
    State(state): State<Arc<ApiState>>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let tenant = tenant::resolve(&state, &headers, ErrorFormat::PrometheusJson)?;
    let c = common(&params(&method, query, &headers, &body)?)?;
    let names: BTreeSet<String> = if c.matcher_sets.is_empty() {
        // No selector: the blocks' cached postings and the head, without listing series.
        let mut names = state
            .store
            .label_names(&tenant, c.start, c.end)
            .await
            .map_err(|e| ApiError::prometheus(ErrorCode::Unavailable, e.to_string()))?;
        for l in head_series(&state, &tenant, &[], c.start, c.end).await? {
            names.extend(l.iter().map(|x| x.name.clone()));
        }
        names
    } else {
        let series = matching_series(&state, &tenant, &c.matcher_sets, c.start, c.end).await?;
        series
            .iter()
            .flat_map(|l| l.iter().map(|x| x.name.clone()))
            .collect()
    };
    let mut names: Vec<String> = names.into_iter().collect();
    let mut warnings = Vec::new();
    truncate(&mut names, c.limit, &mut warnings);
    Ok(success(json!(names), warnings))
}

/// `GET /api/v1/label/{name}/values`.
pub(crate) async fn label_values(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let tenant = tenant::resolve(&state, &headers, ErrorFormat::PrometheusJson)?;
    // Prometheus 3 escapes UTF-8 names in the path as `U__` + underscore-escaped code points.
    let name =
        unescape_label_name(&name).ok_or_else(|| bad(format!("invalid label name: {name:?}")))?;
    let c = common(&params(&Method::GET, query, &headers, &[])?)?;
    let values: BTreeSet<String> = if c.matcher_sets.is_empty() {
        let mut values = state
            .store
            .label_values(&tenant, &name, c.start, c.end)
            .await
            .map_err(|e| ApiError::prometheus(ErrorCode::Unavailable, e.to_string()))?;
        for l in head_series(&state, &tenant, &[], c.start, c.end).await? {
            if let Some(v) = l.get(&name) {
                values.insert(v.to_string());
            }
        }
        values
    } else {
        let series = matching_series(&state, &tenant, &c.matcher_sets, c.start, c.end).await?;
        series
            .iter()
            .filter_map(|l| l.get(&name).map(str::to_string))
            .collect()
    };
    let mut values: Vec<String> = values.into_iter().collect();
    let mut warnings = Vec::new();
    truncate(&mut values, c.limit, &mut warnings);
    Ok(success(json!(values), warnings))
}

/// Decodes Prometheus' `U__` value-encoding of label names (`U__a_2e_b` is `a.b`).
fn unescape_label_name(s: &str) -> Option<String> {
    let Some(rest) = s.strip_prefix("U__") else {
        return Some(s.to_string());
    };
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        if c != '_' {
            out.push(c);
            continue;
        }
        let hex: String = chars.by_ref().take_while(|c| *c != '_').collect();
        if hex.is_empty() {
            out.push('_');
        } else {
            out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_and_escapes() -> Result<(), ApiError> {
        let sets = parse_selector(r#"up{job=~"n.*"}"#)?;
        assert_eq!(sets.len(), 1);
        assert!(
            sets[0]
                .iter()
                .any(|m| m.name == "__name__" && m.value == "up")
        );
        assert!(parse_selector("rate(up[5m])").is_err());
        assert_eq!(unescape_label_name("U__a_2e_b").as_deref(), Some("a.b"));
        assert_eq!(unescape_label_name("U__a__b").as_deref(), Some("a_b"));
        assert_eq!(unescape_label_name("job").as_deref(), Some("job"));
        Ok(())
    }
}
