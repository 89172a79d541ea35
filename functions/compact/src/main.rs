//! The `compact` function: one compactor pass (merge, downsample, retention, garbage
//! collection) per EventBridge event, over `ARCHITECT_BUCKET` and `ARCHITECT_TABLE`; settings in
//! `ARCHITECT_COMPACTOR` (`architect_lambda::scheduled`).

use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    architect_lambda::env::init_logging();
    let env = architect_lambda::env::FunctionEnv::from_env()?;
    let compactor = architect_lambda::scheduled::compactor(&env).await?;
    let compactor = &compactor;
    lambda_runtime::run(service_fn(
        move |_: LambdaEvent<serde_json::Value>| async move {
            architect_lambda::scheduled::compact(compactor).await
        },
    ))
    .await
}
