//! The `ingest` function: remote_write (1.0 and 2.0) behind API Gateway. Writes go to the
//! ingester container when `ARCHITECT_INGESTER_URL` is set, otherwise straight into level-0
//! blocks on S3 committed in DynamoDB before the answer. Configuration: `architect_lambda::env`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    architect_lambda::env::init_logging();
    let env = architect_lambda::env::FunctionEnv::from_env()?;
    let state = architect_lambda::http::api_state(&env).await?;
    architect_lambda::http::serve(architect_api::ingest_router(state)).await
}
