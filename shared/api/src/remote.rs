//! Prometheus remote_write (1.0 and 2.0) and remote read.

use crate::error::{ApiError, ErrorCode, ErrorFormat};
use crate::ha_tracker::{HaError, HaOutcome};
use crate::state::ApiState;
use crate::tenant;
use architect_ingester::{HeadWant, IngestError, WireBody};
use architect_model::validate::validate_request;
use architect_model::{Labels, Matcher, SeriesId, TenantId};
use architect_protocols::remote_write::{self, WriteVersion};
use architect_protocols::{ProtocolError, prompb, remote_read, snappy};
use architect_store::{SeriesSamples, merge_samples};
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prost::Message;
use std::collections::HashMap;
use std::sync::Arc;

const SAMPLES_WRITTEN: &str = "X-Prometheus-Remote-Write-Samples-Written";
const HISTOGRAMS_WRITTEN: &str = "X-Prometheus-Remote-Write-Histograms-Written";
const EXEMPLARS_WRITTEN: &str = "X-Prometheus-Remote-Write-Exemplars-Written";

fn protocol_error(e: ProtocolError) -> ApiError {
    match e {
        ProtocolError::DecompressedTooLarge { .. } => {
            ApiError::text(ErrorCode::PayloadTooLarge, e.to_string())
        }
        _ => ApiError::text(ErrorCode::BadRequest, e.to_string()),
    }
}

/// The body, or a 413 naming the limit (axum's own rejection text does not).
fn body_or_413(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::text(
                ErrorCode::PayloadTooLarge,
                format!("the request body is larger than the allowed limit of {limit} bytes"),
            )
        } else {
            ApiError::text(ErrorCode::BadRequest, e.body_text())
        }
    })
}

fn check_encoding(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?"))
    {
        None => Ok(()),
        Some(e) if e.eq_ignore_ascii_case("snappy") => Ok(()),
        Some(other) => Err(ApiError::text(
            ErrorCode::UnsupportedMediaType,
            format!("unsupported content encoding {other:?}, expected \"snappy\""),
        )),
    }
}

/// `POST /api/v1/push` (and `/api/v1/write`): remote_write 1.0 or 2.0 by `Content-Type`.
pub(crate) async fn write(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_or_413(body, state.http.max_request_body_bytes)?;
    let tenant = tenant::resolve(&state, &headers, ErrorFormat::Text)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let version = remote_write::negotiate(content_type)
        .map_err(|m| ApiError::text(ErrorCode::UnsupportedMediaType, m))?;
    check_encoding(&headers)?;
    let raw =
        snappy::decompress(&body, state.http.max_decompressed_bytes).map_err(protocol_error)?;
    let decoded = match version {
        WriteVersion::V1 => {
            remote_write::decode_v1_cached(&raw, Some((&state.labels_cache, tenant.as_str())))
        }
        WriteVersion::V2 => remote_write::decode_v2(&raw),
    }
    .map_err(protocol_error)?;
    let mut request = decoded.request;
    // HA pairs first, as Mimir's distributor does: a replica not elected is answered before
    // anything is validated or stored.
    let ha = state
        .ha
        .dedupe(tenant.as_str(), &mut request, &state.limits)
        .await
        .map_err(ha_error)?;
    let validation_error = validate_request(&mut request, state.clock.now_ms(), &state.limits);
    // The body still holds exactly the request when nothing was refused or relabelled.
    let wire = (decoded.first_error.is_none()
        && validation_error.is_none()
        && matches!(ha, HaOutcome::NotHa))
    .then(|| WireBody {
        version,
        snappy: body.clone(),
    });
    let outcome = state
        .writer
        .write(&tenant, request, wire)
        .await
        .map_err(write_error)?;
    let first_error = decoded
        .first_error
        .or(validation_error)
        .map(|e| e.to_string())
        .or(outcome.first_error.clone());
    let mut response = match first_error {
        None => StatusCode::NO_CONTENT.into_response(),
        Some(e) => {
            tracing::debug!(tenant = %tenant, error = %e, "write partially refused");
            ApiError::text(ErrorCode::BadRequest, e.to_string()).into_response()
        }
    };
    if version == WriteVersion::V2 {
        let h = response.headers_mut();
        h.insert(
            SAMPLES_WRITTEN,
            HeaderValue::from(outcome.samples + outcome.duplicates),
        );
        h.insert(HISTOGRAMS_WRITTEN, HeaderValue::from(outcome.histograms));
        h.insert(EXEMPLARS_WRITTEN, HeaderValue::from(outcome.exemplars));
    }
    Ok(response)
}

/// A refused HA replica as Mimir answers it: 202 for the replica not elected (Prometheus counts
/// the batch as sent), 400 over the cluster limit, 503 when the index failed (retried).
fn ha_error(e: HaError) -> ApiError {
    let code = match &e {
        HaError::ReplicasNotMatch { .. } => ErrorCode::Accepted,
        HaError::TooManyClusters { .. } => ErrorCode::BadRequest,
        HaError::Index(_) => ErrorCode::Unavailable,
    };
    ApiError::text(code, e.to_string())
}

/// A failed write as the peer answers it: 429 when the head is full, 503 otherwise.
pub(crate) fn write_error(e: IngestError) -> ApiError {
    match e {
        IngestError::Overloaded { .. } | IngestError::RemoteOverloaded(_) => {
            ApiError::text(ErrorCode::TooManyRequests, e.to_string())
        }
        other => ApiError::text(ErrorCode::Unavailable, other.to_string()),
    }
}

/// A read of the blocks or of the head failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    /// The blocks.
    #[error(transparent)]
    Store(#[from] architect_store::StoreError),
    /// The head.
    #[error(transparent)]
    Head(#[from] IngestError),
}

/// Float samples of matching series from the blocks and the head, merged.
pub(crate) async fn select(
    state: &ApiState,
    tenant: &TenantId,
    matchers: &[Matcher],
    start: i64,
    end: i64,
) -> Result<Vec<SeriesSamples>, ReadError> {
    let stored = state.store.select(tenant, matchers, start, end).await?;
    let head = state
        .head
        .select(tenant, matchers, start, end, HeadWant::FLOATS)
        .await?;
    Ok(merge_floats(
        tenant,
        stored,
        head.into_iter().map(|s| (s.labels, s.samples)),
    ))
}

/// The blocks' float series with the head's merged in (one sample per timestamp, blocks first),
/// sorted by labels.
pub(crate) fn merge_floats(
    tenant: &TenantId,
    stored: Vec<SeriesSamples>,
    head: impl IntoIterator<Item = (Labels, Vec<architect_model::Sample>)>,
) -> Vec<SeriesSamples> {
    let mut head = head.into_iter().peekable();
    if head.peek().is_none() {
        // Everything is in blocks (the head was flushed or holds other series).
        let mut stored = stored;
        stored.sort_unstable_by(|a, b| a.labels.cmp(&b.labels));
        return stored;
    }
    let mut by_labels: HashMap<Labels, SeriesSamples> =
        stored.into_iter().map(|s| (s.labels.clone(), s)).collect();
    for (labels, samples) in head {
        match by_labels.get_mut(&labels) {
            Some(e) => e.samples = merge_samples(std::mem::take(&mut e.samples), samples),
            None => {
                let id = SeriesId::of(tenant.as_str(), &labels);
                by_labels.insert(
                    labels.clone(),
                    SeriesSamples {
                        id,
                        labels,
                        samples,
                    },
                );
            }
        }
    }
    let mut out: Vec<SeriesSamples> = by_labels.into_values().collect();
    out.sort_by(|a, b| a.labels.cmp(&b.labels));
    out
}

/// `POST /api/v1/read`: remote read with the samples response.
pub(crate) async fn read(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_or_413(body, state.http.max_request_body_bytes)?;
    let tenant = tenant::resolve(&state, &headers, ErrorFormat::Text)?;
    let raw =
        snappy::decompress(&body, state.http.max_decompressed_bytes).map_err(protocol_error)?;
    let req = prompb::ReadRequest::decode(raw.as_slice()).map_err(|e| {
        ApiError::text(ErrorCode::BadRequest, format!("protobuf decode error: {e}"))
    })?;
    if !remote_read::accepts_samples(&req) {
        return Err(ApiError::text(
            ErrorCode::BadRequest,
            "only the SAMPLES response type is supported; STREAMED_XOR_CHUNKS is not implemented yet",
        ));
    }
    let mut results = Vec::with_capacity(req.queries.len());
    for q in &req.queries {
        let matchers = remote_read::matchers(&q.matchers)
            .map_err(|e| ApiError::text(ErrorCode::BadRequest, e.to_string()))?;
        let series = select(
            &state,
            &tenant,
            &matchers,
            q.start_timestamp_ms,
            q.end_timestamp_ms,
        )
        .await
        .map_err(|e| ApiError::text(ErrorCode::Unavailable, e.to_string()))?;
        results.push(prompb::QueryResult {
            timeseries: series
                .iter()
                .map(|s| remote_read::time_series(&s.labels, &s.samples))
                .collect(),
        });
    }
    let encoded = snappy::compress(&prompb::ReadResponse { results }.encode_to_vec());
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-protobuf"),
            (header::CONTENT_ENCODING, "snappy"),
        ],
        encoded,
    )
        .into_response())
}
