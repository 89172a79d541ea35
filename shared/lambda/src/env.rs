//! The functions' configuration: environment variables, as the terraform module sets them.
//!
//! | variable                   | meaning                                                   |
//! |----------------------------|-----------------------------------------------------------|
//! | `ARCHITECT_BUCKET`         | S3 bucket of the Parquet files (required)                 |
//! | `ARCHITECT_TABLE`          | DynamoDB table of the index (required)                    |
//! | `ARCHITECT_INGESTER_URL`   | the ingester container, e.g. `http://ingester.architect.internal:9009`; unset: writes go straight to level-0 blocks and queries read blocks only |
//! | `ARCHITECT_ALERT_QUEUE`    | URL of the SQS queue that wakes the `alerts` function for a tenant when a group is due (precise `group_wait`/`group_interval`); unset: the one-minute schedule only |
//! | `ARCHITECT_DEFAULT_TENANT` | tenant of requests without `X-Scope-OrgID` and without an authorizer tenant (default `anonymous`) |
//! | `ARCHITECT_S3_PATH_STYLE`  | `true` for path-style S3 requests (emulators, MinIO)      |
//! | `ARCHITECT_LIMITS`         | write limits as JSON, the keys of the YAML `limits` section (e.g. `{"accept_ha_samples":true}`); unset keys keep their defaults |
//! | `ARCHITECT_LOG`            | log filter (default `info`)                               |
//! | `ARCHITECT_LOG_FORMAT`     | `json` (default in Lambda) or `text`                      |
//!
//! Region, credentials and endpoint overrides (`AWS_ENDPOINT_URL`) come from the AWS SDK's
//! standard environment.

use crate::FunctionError;
use architect_model::Limits;
use architect_service::StorageConfig;
pub use architect_service::env::{BUCKET, DEFAULT_TENANT, S3_PATH_STYLE, TABLE};

/// Ingester URL variable.
pub const INGESTER_URL: &str = "ARCHITECT_INGESTER_URL";
/// Alert wake-up queue variable.
pub const ALERT_QUEUE: &str = "ARCHITECT_ALERT_QUEUE";
/// Write limits variable (JSON).
pub const LIMITS: &str = "ARCHITECT_LIMITS";

/// A function's configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionEnv {
    /// S3 bucket.
    pub bucket: String,
    /// DynamoDB table.
    pub table: String,
    /// The ingester container, if deployed.
    pub ingester_url: Option<String>,
    /// Tenant when the request names none.
    pub default_tenant: String,
    /// Path-style S3 requests.
    pub path_style: bool,
    /// Write limits (HA dedup among them).
    pub limits: Limits,
    /// URL of the SQS queue of alert dispatch wake-ups (`ARCHITECT_ALERT_QUEUE`), if any.
    pub alert_queue: Option<String>,
}

impl FunctionEnv {
    /// From the process environment.
    pub fn from_env() -> Result<Self, FunctionError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// From `lookup` (variable name to value).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, FunctionError> {
        let required = |name: &str| {
            lookup(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| FunctionError::Env(format!("{name} is not set")))
        };
        Ok(Self {
            bucket: required(BUCKET)?,
            table: required(TABLE)?,
            ingester_url: lookup(INGESTER_URL).filter(|v| !v.is_empty()),
            alert_queue: lookup(ALERT_QUEUE).filter(|v| !v.is_empty()),
            default_tenant: lookup(DEFAULT_TENANT)
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "anonymous".into()),
            path_style: lookup(S3_PATH_STYLE).is_some_and(|v| architect_service::env::is_true(&v)),
            limits: match lookup(LIMITS).filter(|v| !v.trim().is_empty()) {
                None => Limits::default(),
                Some(json) => {
                    let limits: Limits = serde_json::from_str(&json)
                        .map_err(|e| FunctionError::Env(format!("{LIMITS}: {e}")))?;
                    limits
                        .check()
                        .map_err(|e| FunctionError::Env(format!("{LIMITS}: {e}")))?;
                    limits
                }
            },
        })
    }

    /// The storage this configuration names (S3 and DynamoDB, connection from the SDK chain).
    pub fn storage(&self) -> StorageConfig {
        StorageConfig::aws(self.bucket.clone(), self.table.clone(), self.path_style)
    }
}

/// Logs to stdout (CloudWatch), JSON unless `ARCHITECT_LOG_FORMAT=text`, filtered by
/// `ARCHITECT_LOG` (default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ARCHITECT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let text = std::env::var("ARCHITECT_LOG_FORMAT").is_ok_and(|f| f == "text");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .without_time(); // CloudWatch stamps every line
    if text {
        builder.init();
    } else {
        builder.json().init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn required_variables_and_defaults() {
        let vars: HashMap<&str, &str> = [(BUCKET, "b"), (TABLE, "t")].into();
        let env = FunctionEnv::from_lookup(|n| vars.get(n).map(|v| v.to_string()));
        let env = env.expect("valid");
        assert_eq!(env.default_tenant, "anonymous");
        assert_eq!(env.ingester_url, None);
        assert!(!env.path_style);

        let missing = FunctionEnv::from_lookup(|n| (n == BUCKET).then(|| "b".to_string()));
        let message = missing.expect_err("table missing").to_string();
        assert!(message.contains(TABLE), "{message}");
    }

    #[test]
    fn limits_from_json() {
        let vars: HashMap<&str, &str> = [
            (BUCKET, "b"),
            (TABLE, "t"),
            (
                LIMITS,
                r#"{"accept_ha_samples": true, "ha_cluster_label": "pair"}"#,
            ),
        ]
        .into();
        let env = FunctionEnv::from_lookup(|n| vars.get(n).map(|v| v.to_string())).expect("valid");
        assert!(env.limits.accept_ha_samples);
        assert_eq!(env.limits.ha_cluster_label, "pair");
        assert_eq!(env.limits.ha_replica_label, "__replica__");

        let vars: HashMap<&str, &str> = [
            (BUCKET, "b"),
            (TABLE, "t"),
            (LIMITS, r#"{"ha_tracker_failover_timeout_ms": 1}"#),
        ]
        .into();
        let bad = FunctionEnv::from_lookup(|n| vars.get(n).map(|v| v.to_string()));
        assert!(bad.is_err(), "failover shorter than the update timeout");
    }
}
