//! The `alerts` function: one pass of the built-in Alertmanager's notification pipeline
//! (group timers, inhibition, silences, deduplication against the notification log, delivery)
//! per EventBridge event over every tenant, and per SQS batch of wake-ups over the tenants
//! they name (`ARCHITECT_ALERT_QUEUE`: precise group timers), over `ARCHITECT_TABLE`; settings
//! in `ARCHITECT_ALERTMANAGER` (`architect_lambda::scheduled`).

use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    architect_lambda::env::init_logging();
    let env = architect_lambda::env::FunctionEnv::from_env()?;
    let dispatcher = architect_lambda::scheduled::dispatcher(&env).await?;
    let dispatcher = &dispatcher;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            architect_lambda::scheduled::dispatch(dispatcher, &event.payload).await
        },
    ))
    .await
}
