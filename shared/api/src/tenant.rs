//! Tenant resolution from `X-Scope-OrgID`.

use crate::error::{ApiError, ErrorCode, ErrorFormat};
use crate::state::ApiState;
use architect_model::TenantId;
use axum::http::HeaderMap;

/// The tenant header Mimir, Loki and Tempo use.
pub(crate) const ORG_ID_HEADER: &str = "X-Scope-OrgID";

/// The request's tenant: the header when present (validated), else the configured default.
pub(crate) fn resolve(
    state: &ApiState,
    headers: &HeaderMap,
    format: ErrorFormat,
) -> Result<TenantId, ApiError> {
    let Some(raw) = headers.get(ORG_ID_HEADER) else {
        return Ok(state.default_tenant.clone());
    };
    let bad = |m: String| ApiError {
        code: ErrorCode::BadRequest,
        message: m,
        format,
    };
    let text = raw
        .to_str()
        .map_err(|_| bad("invalid tenant ID: not ASCII".into()))?;
    if text.contains('|') {
        return Err(bad(format!(
            "invalid tenant ID {text:?}: multi-tenant queries are not supported"
        )));
    }
    TenantId::new(text).map_err(|e| bad(format!("invalid tenant ID: {e}")))
}
