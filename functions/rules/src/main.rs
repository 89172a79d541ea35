//! The `rules` function: one ruler pass (every due evaluation of every tenant's rule groups)
//! per EventBridge event, over `ARCHITECT_BUCKET` and `ARCHITECT_TABLE`, writing rule output
//! through the ingester container when `ARCHITECT_INGESTER_URL` names one; settings in
//! `ARCHITECT_RULER` (`architect_lambda::scheduled`).

use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    architect_lambda::env::init_logging();
    let env = architect_lambda::env::FunctionEnv::from_env()?;
    let ruler = architect_lambda::scheduled::ruler(&env).await?;
    let ruler = &ruler;
    lambda_runtime::run(service_fn(
        move |_: LambdaEvent<serde_json::Value>| async move {
            architect_lambda::scheduled::evaluate_rules(ruler).await
        },
    ))
    .await
}
