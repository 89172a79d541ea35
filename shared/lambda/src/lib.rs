//! AWS Lambda glue, so that each function's `main.rs` only wires:
//!
//! - [`env`](mod@env): the functions' configuration from environment variables (set by the terraform
//!   module) and their logging;
//! - [`http`]: the HTTP functions (`ingest`, `query`) serve the same axum routers as
//!   `architect serve`, under `lambda_http` (API Gateway HTTP API, payload 2.0, binary bodies
//!   base64-encoded both ways), with the tenant the authorizer vouched for;
//! - [`authorizer`]: the API Gateway REQUEST authorizer that checks the project's API tokens
//!   against the hashed tokens in the index;
//! - [`scheduled`]: the functions EventBridge schedules (`compact`).

pub mod authorizer;
pub mod env;
pub mod http;
pub mod scheduled;
pub mod waker;

/// Failures while a function starts.
#[derive(Debug, thiserror::Error)]
pub enum FunctionError {
    /// A required environment variable is missing or invalid.
    #[error("environment: {0}")]
    Env(String),
    /// The object store or the index could not be opened.
    #[error(transparent)]
    Service(#[from] architect_service::ServiceError),
    /// The ingester client could not be built.
    #[error(transparent)]
    Ingester(#[from] architect_ingester::IngestError),
}
