//! The HTTP functions: the shared routers under `lambda_http`.

use crate::FunctionError;
use crate::env::FunctionEnv;
use architect_api::{ApiState, HttpLimits, QueryLimits};
use architect_ingester::{DirectWriter, HeadReader, RemoteIngester, WritePath};
use architect_model::TenantId;
use architect_model::clock::SystemClock;
use architect_service::backends;
use architect_store::{MetricsStore, StoreConfig};
use axum::Router;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use lambda_http::request::RequestContext;
use std::path::Path;
use std::sync::Arc;

/// The tenant header.
const ORG_ID_HEADER: &str = "x-scope-orgid";
/// The authorizer context field naming the token's tenant ([`crate::authorizer`]).
pub const TENANT_CONTEXT_FIELD: &str = "tenant";

/// The handlers' state for a function: S3 + DynamoDB, and the ingester container when
/// `ARCHITECT_INGESTER_URL` names one (otherwise writes become level-0 blocks directly and
/// queries read the blocks only).
pub async fn api_state(env: &FunctionEnv) -> Result<Arc<ApiState>, FunctionError> {
    let storage = env.storage();
    // Neither backend touches the local disk; Lambda's /tmp is the only writable place anyway.
    let scratch = Path::new("/tmp");
    let objects = backends::open_objects(&storage, scratch).await?;
    let index = backends::open_index(&storage, scratch).await?;
    let store_config = backends::store_config_for(&storage, &StoreConfig::default());
    let store = Arc::new(MetricsStore::new(objects, index, &store_config));
    let (writer, head): (Arc<dyn WritePath>, Arc<dyn HeadReader>) = match &env.ingester_url {
        Some(url) => {
            let remote = Arc::new(RemoteIngester::new(url.clone())?);
            (Arc::clone(&remote) as _, remote as _)
        }
        None => {
            let direct = Arc::new(DirectWriter::new(Arc::clone(&store)));
            (Arc::clone(&direct) as _, direct as _)
        }
    };
    let default_tenant = TenantId::new(&env.default_tenant)
        .map_err(|e| FunctionError::Env(format!("ARCHITECT_DEFAULT_TENANT: {e}")))?;
    let state = ApiState::new(
        writer,
        head,
        None,
        store,
        env.limits.clone(),
        HttpLimits::default(),
        QueryLimits::default(),
        default_tenant,
        Arc::new(SystemClock),
    );
    Ok(Arc::new(match crate::waker::from_env(env).await? {
        Some(waker) => state.with_alert_waker(waker),
        None => state,
    }))
}

/// Serves `router` as a Lambda function until the runtime stops it.
pub async fn serve(router: Router) -> Result<(), lambda_http::Error> {
    let app = router.layer(axum::middleware::from_fn(tenant_from_authorizer));
    lambda_http::run(app).await
}

/// A request without `X-Scope-OrgID` gets the tenant its API token belongs to (the authorizer
/// passes it in its context); a token for all tenants (`*`) adds nothing.
async fn tenant_from_authorizer(mut request: Request, next: Next) -> Response {
    if !request.headers().contains_key(ORG_ID_HEADER) {
        let tenant = match request.extensions().get::<RequestContext>() {
            Some(RequestContext::ApiGatewayV2(context)) => context
                .authorizer
                .as_ref()
                .and_then(|a| a.fields.get(TENANT_CONTEXT_FIELD))
                .and_then(|v| v.as_str())
                .filter(|t| *t != crate::authorizer::ALL_TENANTS)
                .and_then(|t| HeaderValue::from_str(t).ok()),
            _ => None,
        };
        if let Some(tenant) = tenant {
            request.headers_mut().insert(ORG_ID_HEADER, tenant);
        }
    }
    next.run(request).await
}
