//! The `query` function: the Prometheus query API (at `/` and `/prometheus`) behind API Gateway,
//! over the blocks on S3 and, when `ARCHITECT_INGESTER_URL` is set, the ingester's head.
//! Configuration: `architect_lambda::env`.

/// mimalloc, as in `architect` (see `architect_alloc`).
#[global_allocator]
static GLOBAL: architect_alloc::Allocator = architect_alloc::Allocator;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    architect_lambda::env::init_logging();
    let env = architect_lambda::env::FunctionEnv::from_env()?;
    let state = architect_lambda::http::api_state(&env).await?;
    architect_lambda::http::serve(architect_api::query_router(state)).await
}
