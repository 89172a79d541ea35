//! The one place where errors become HTTP: a small code, its status, and the peer's body format.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// What kind of failure, independent of protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// Not stored on purpose, and not to be retried: a replica of an HA pair that is not
    /// elected (202, as Mimir answers).
    Accepted,
    /// The request is malformed or invalid (400).
    BadRequest,
    /// The body is larger than allowed (413).
    PayloadTooLarge,
    /// The content type or encoding is not supported (415).
    UnsupportedMediaType,
    /// Not found (404).
    NotFound,
    /// Overloaded; retry later (429).
    TooManyRequests,
    /// A query failed while evaluating (422, `execution`).
    Execution,
    /// A query ran out of time (503, `timeout`).
    Timeout,
    /// A transient fault; retry (503).
    Unavailable,
    /// A bug or unexpected fault (500).
    Internal,
}

impl ErrorCode {
    /// The HTTP status for the code.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::Accepted => StatusCode::ACCEPTED,
            ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
            ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::Execution => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Timeout => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Prometheus API `errorType`.
    pub fn prometheus_type(self) -> &'static str {
        match self {
            ErrorCode::Accepted
            | ErrorCode::BadRequest
            | ErrorCode::PayloadTooLarge
            | ErrorCode::UnsupportedMediaType => "bad_data",
            ErrorCode::NotFound => "not_found",
            ErrorCode::TooManyRequests | ErrorCode::Unavailable => "unavailable",
            ErrorCode::Execution => "execution",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Internal => "internal",
        }
    }
}

/// Body format of an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorFormat {
    /// `text/plain` message (remote_write, remote read).
    Text,
    /// Prometheus API JSON envelope.
    PrometheusJson,
}

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// Kind.
    pub code: ErrorCode,
    /// Message for the client.
    pub message: String,
    /// Body format.
    pub format: ErrorFormat,
}

impl ApiError {
    /// A plain-text error.
    pub fn text(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            format: ErrorFormat::Text,
        }
    }

    /// A Prometheus JSON error.
    pub fn prometheus(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            format: ErrorFormat::PrometheusJson,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), error = %self.message, "request failed");
        } else {
            tracing::debug!(status = status.as_u16(), error = %self.message, "request refused");
        }
        match self.format {
            ErrorFormat::Text => {
                let mut r = (status, format!("{}\n", self.message)).into_response();
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                );
                r
            }
            ErrorFormat::PrometheusJson => {
                let body = serde_json::json!({
                    "status": "error",
                    "errorType": self.code.prometheus_type(),
                    "error": self.message,
                });
                (status, axum::Json(body)).into_response()
            }
        }
    }
}
