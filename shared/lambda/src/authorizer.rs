//! The API Gateway (HTTP API) REQUEST authorizer: checks the project's API tokens.
//!
//! A client sends its token as `Authorization: Bearer <token>` (Prometheus `authorization`,
//! Grafana custom header) or as the password of HTTP basic auth (Prometheus `basic_auth`,
//! Grafana's basic auth; the user name is ignored). Tokens are never stored: the index holds
//! item (`pk` = [`TOKEN_PK`], `sk` = hex SHA-256 of the token) with attribute `tenant` (one
//! tenant, or [`ALL_TENANTS`]) and optionally `ttl` (expiry, epoch seconds). A request is
//! allowed when the token is known, unexpired, and either names no tenant in `X-Scope-OrgID`
//! or names the token's own (any, for `*`). The answer is API Gateway's simple response; its
//! context carries the tenant, which the HTTP functions use when `X-Scope-OrgID` is absent.

use architect_index::{Condition, Index, Item};
use base64::Engine as _;
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayV2CustomAuthorizerSimpleResponse, ApiGatewayV2CustomAuthorizerV2Request,
};
use sha2::{Digest, Sha256};

/// Partition of the token items.
pub const TOKEN_PK: &str = "token";
/// The tenant attribute of a token item.
pub const TENANT_ATTR: &str = "tenant";
/// A token valid for every tenant.
pub const ALL_TENANTS: &str = "*";

/// The sort key of a token's item: its hex SHA-256.
pub fn token_key(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The token in an `Authorization` header value (bearer, or basic auth's password).
pub fn token_of(authorization: &str) -> Option<String> {
    let (scheme, rest) = authorization.trim().split_once(' ')?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return (!rest.is_empty()).then(|| rest.to_string());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (_, password) = text.split_once(':')?;
        return (!password.is_empty()).then(|| password.to_string());
    }
    None
}

/// Creates a token for `tenant` (or [`ALL_TENANTS`]), expiring at `expires_at` (epoch seconds)
/// if given, stores its hash, and returns the token: 32 random bytes, hex. Only the hash is
/// kept, so the token cannot be shown again.
pub async fn create_token(
    index: &dyn Index,
    tenant: &str,
    expires_at: Option<i64>,
) -> Result<String, TokenError> {
    if tenant != ALL_TENANTS {
        architect_model::TenantId::new(tenant).map_err(|e| TokenError::Tenant(e.to_string()))?;
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| TokenError::Random(e.to_string()))?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut item = Item::new(TOKEN_PK, token_key(&token)).with_s(TENANT_ATTR, tenant);
    if let Some(at) = expires_at {
        item = item.with_ttl(at);
    }
    index.put(item, Condition::NotExists).await?;
    Ok(token)
}

/// Why a token could not be created.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The tenant ID is invalid.
    #[error("invalid tenant: {0}")]
    Tenant(String),
    /// No randomness.
    #[error("random source: {0}")]
    Random(String),
    /// The index refused the write.
    #[error(transparent)]
    Index(#[from] architect_index::IndexError),
}

/// Decides one request.
pub async fn authorize(
    index: &dyn Index,
    request: &ApiGatewayV2CustomAuthorizerV2Request,
) -> ApiGatewayV2CustomAuthorizerSimpleResponse {
    let mut response = ApiGatewayV2CustomAuthorizerSimpleResponse::default();
    let header = |name: &str| request.headers.get(name).and_then(|v| v.to_str().ok());
    let Some(token) = header("authorization").and_then(token_of) else {
        return response;
    };
    let item = match index.get(TOKEN_PK, &token_key(&token)).await {
        Ok(Some(item)) => item,
        Ok(None) => return response,
        Err(e) => {
            // Deny rather than guess; API Gateway answers 403 and the client retries.
            tracing::error!(error = %e, "token lookup failed");
            return response;
        }
    };
    let Some(tenant) = item.get_s(TENANT_ATTR) else {
        return response;
    };
    let asked = header("x-scope-orgid");
    if tenant != ALL_TENANTS && asked.is_some_and(|a| a != tenant) {
        return response;
    }
    response.is_authorized = true;
    response.context = serde_json::json!({ crate::http::TENANT_CONTEXT_FIELD: tenant });
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use architect_index::embedded::EmbeddedIndex;
    use architect_model::clock::{Clock, ManualClock};
    use std::sync::Arc;

    fn request(headers: &[(&'static str, &str)]) -> ApiGatewayV2CustomAuthorizerV2Request {
        let mut r = ApiGatewayV2CustomAuthorizerV2Request::default();
        for (name, value) in headers {
            r.headers
                .insert(*name, value.parse().expect("header value"));
        }
        r
    }

    #[test]
    fn tokens_from_bearer_and_basic_auth() {
        assert_eq!(token_of("Bearer abc").as_deref(), Some("abc"));
        assert_eq!(token_of("bearer  abc ").as_deref(), Some("abc"));
        // "team-a:s3cret"
        assert_eq!(
            token_of("Basic dGVhbS1hOnMzY3JldA==").as_deref(),
            Some("s3cret")
        );
        assert_eq!(token_of("Basic !!!"), None);
        assert_eq!(token_of("Bearer"), None);
        assert_eq!(token_of("Digest x"), None);
        assert_eq!(
            token_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn allows_known_tokens_for_their_tenant_only() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let clock = Arc::new(ManualClock::new(1_000_000));
        let index = EmbeddedIndex::open_with_clock(
            &dir.path().join("i.redb"),
            Arc::clone(&clock) as Arc<dyn Clock>,
        )?;
        let put = |token: &str, tenant: &str| {
            Item::new(TOKEN_PK, token_key(token)).with_s(TENANT_ATTR, tenant)
        };
        index.put(put("a-token", "team-a"), Condition::None).await?;
        index
            .put(put("admin", ALL_TENANTS), Condition::None)
            .await?;
        index
            .put(
                put("old", "team-a").with_ttl(clock.now_secs() - 1),
                Condition::None,
            )
            .await?;

        let decide = |headers: &[(&'static str, &str)]| {
            let r = request(headers);
            let index = &index;
            async move { authorize(index, &r).await }
        };
        let ok = decide(&[("authorization", "Bearer a-token")]).await;
        assert!(ok.is_authorized);
        assert_eq!(ok.context["tenant"], "team-a");
        assert!(
            decide(&[
                ("authorization", "Bearer a-token"),
                ("x-scope-orgid", "team-a")
            ])
            .await
            .is_authorized
        );
        assert!(
            !decide(&[
                ("authorization", "Bearer a-token"),
                ("x-scope-orgid", "team-b")
            ])
            .await
            .is_authorized
        );
        assert!(
            decide(&[
                ("authorization", "Bearer admin"),
                ("x-scope-orgid", "team-b")
            ])
            .await
            .is_authorized
        );
        assert!(
            !decide(&[("authorization", "Bearer old")])
                .await
                .is_authorized,
            "expired token"
        );
        assert!(
            !decide(&[("authorization", "Bearer nope")])
                .await
                .is_authorized
        );
        assert!(!decide(&[]).await.is_authorized);

        let created = create_token(&index, "team-c", None).await?;
        assert_eq!(created.len(), 64);
        let ok = decide(&[("authorization", &format!("Bearer {created}"))]).await;
        assert_eq!(ok.context["tenant"], "team-c");
        assert!(create_token(&index, "bad|tenant", None).await.is_err());
        Ok(())
    }
}
