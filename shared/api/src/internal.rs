//! The ingester's internal routes ([`architect_ingester::routes`]): how the ingest and query
//! functions reach the head of the ingester container. Only the VPC reaches them (API Gateway
//! routes none of them); the write route takes requests the caller has already validated.

use crate::error::{ApiError, ErrorCode, ErrorFormat};
use crate::remote::write_error;
use crate::state::ApiState;
use crate::tenant;
use architect_ingester::{HeadWant, RemoteOutcome, WireBody, encode_series};
use architect_protocols::{prompb, remote_read, remote_write, snappy};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use prost::Message;
use std::sync::Arc;

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::text(ErrorCode::BadRequest, message)
}

fn unavailable(e: impl std::fmt::Display) -> ApiError {
    ApiError::text(ErrorCode::Unavailable, e.to_string())
}

fn decompress(state: &ApiState, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    snappy::decompress(body, state.http.max_decompressed_bytes).map_err(|e| bad(e.to_string()))
}

fn protobuf(body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/x-protobuf"),
            (header::CONTENT_ENCODING, "snappy"),
        ],
        body,
    )
        .into_response()
}

/// `POST /internal/v1/write`: a validated remote_write 1.0 request into the head.
pub(crate) async fn write(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let tenant = tenant::resolve(&state, &headers, ErrorFormat::Text)?;
    let raw = decompress(&state, &body)?;
    let decoded = remote_write::decode_v1(&raw).map_err(|e| bad(e.to_string()))?;
    // The sender validated the request: the body is exactly what is written.
    let wire = decoded.first_error.is_none().then(|| WireBody {
        version: remote_write::WriteVersion::V1,
        snappy: body.clone(),
    });
    let outcome = state
        .writer
        .write(&tenant, decoded.request, wire)
        .await
        .map_err(write_error)?;
    Ok(axum::Json(RemoteOutcome::from(outcome)).into_response())
}

/// `POST /internal/v1/select`: the head's matching series.
pub(crate) async fn select(
    State(state): State<Arc<ApiState>>,
    Query(want): Query<HeadWant>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let tenant = tenant::resolve(&state, &headers, ErrorFormat::Text)?;
    let raw = decompress(&state, &body)?;
    let request = prompb::ReadRequest::decode(raw.as_slice()).map_err(|e| bad(e.to_string()))?;
    let [query] = request.queries.as_slice() else {
        return Err(bad("expected exactly one query"));
    };
    let matchers = remote_read::matchers(&query.matchers).map_err(|e| bad(e.to_string()))?;
    let series = state
        .head
        .select(
            &tenant,
            &matchers,
            query.start_timestamp_ms,
            query.end_timestamp_ms,
            want,
        )
        .await
        .map_err(unavailable)?;
    Ok(protobuf(encode_series(&series, &[])))
}

/// `GET /internal/v1/metadata`: the head's metric metadata.
pub(crate) async fn metadata(
    State(state): State<Arc<ApiState>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let tenant = tenant::resolve(&state, &headers, ErrorFormat::Text)?;
    let metadata = state.head.metadata(&tenant).await.map_err(unavailable)?;
    Ok(protobuf(encode_series(&[], &metadata)))
}
