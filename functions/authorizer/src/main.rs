//! The `authorizer` function: API Gateway's REQUEST authorizer for the project's API tokens
//! (`architect_lambda::authorizer`). Needs `ARCHITECT_TABLE`.

use architect_lambda::authorizer;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2CustomAuthorizerV2Request;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    architect_lambda::env::init_logging();
    let table = std::env::var(architect_lambda::env::TABLE)
        .map_err(|_| format!("{} is not set", architect_lambda::env::TABLE))?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let index = architect_index_dynamodb::DynamoIndex::from_sdk_config(&sdk, table);
    let index = &index;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayV2CustomAuthorizerV2Request>| async move {
            Ok::<_, lambda_runtime::Error>(authorizer::authorize(index, &event.payload).await)
        },
    ))
    .await
}
