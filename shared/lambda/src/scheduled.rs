//! The scheduled functions (EventBridge rules): `compact` runs one compactor pass per event,
//! `rules` one ruler pass, `alerts` one dispatch pass (also per SQS wake-up batch,
//! `crate::waker`); each answers with its report, which shows up in the Lambda's logs
//! and in `aws lambda invoke` output.
//!
//! Settings come from `ARCHITECT_COMPACTOR` and `ARCHITECT_RULER`, the `compactor:` and
//! `ruler:` sections of the service configuration as YAML or JSON (`docs/configuration.md`);
//! unset means the defaults.

use crate::FunctionError;
use crate::env::FunctionEnv;
use architect_alertmanager::dispatch::{AlertmanagerSettings, DispatchReport, Dispatcher};
use architect_alertmanager::notify::HttpIntegrations;
use architect_compactor::{Compactor, CompactorConfig, Progress, RunReport};
use architect_rules::{PassReport, Ruler, RulerConfig};
use architect_service::backends;
use architect_store::{MetricsStore, StoreConfig};
use std::path::Path;
use std::sync::Arc;

/// Compactor settings variable.
pub const COMPACTOR: &str = "ARCHITECT_COMPACTOR";

/// Ruler settings variable.
pub const RULER: &str = "ARCHITECT_RULER";
/// Built-in Alertmanager settings variable.
pub const ALERTMANAGER: &str = "ARCHITECT_ALERTMANAGER";

/// A settings section from `lookup(variable)` as YAML or JSON; unset means the defaults.
fn settings<T: serde::de::DeserializeOwned + Default>(
    lookup: impl Fn(&str) -> Option<String>,
    variable: &str,
) -> Result<T, FunctionError> {
    match lookup(variable).filter(|v| !v.trim().is_empty()) {
        None => Ok(T::default()),
        Some(text) => serde_yaml_ng::from_str(&text)
            .map_err(|e| FunctionError::Env(format!("{variable}: {e}"))),
    }
}

/// Compactor settings from `lookup(ARCHITECT_COMPACTOR)`.
pub fn compactor_config(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<CompactorConfig, FunctionError> {
    settings(lookup, COMPACTOR)
}

/// Ruler settings from `lookup(ARCHITECT_RULER)`.
pub fn ruler_config(lookup: impl Fn(&str) -> Option<String>) -> Result<RulerConfig, FunctionError> {
    settings(lookup, RULER)
}

/// The ruler of the function's bucket and table: queries and writes as the HTTP functions do
/// (through the ingester container when there is one).
pub async fn ruler(env: &FunctionEnv) -> Result<Ruler, FunctionError> {
    let config = ruler_config(|name| std::env::var(name).ok())?;
    let state = crate::http::api_state(env).await?;
    let state = std::sync::Arc::try_unwrap(state)
        .map_err(|_| FunctionError::Env("api state is shared".into()))?
        .with_ruler_config(config);
    Ok(architect_api::ruler_for(&state))
}

/// The notification pipeline over the function's table.
pub async fn dispatcher(env: &FunctionEnv) -> Result<Dispatcher, FunctionError> {
    let settings: AlertmanagerSettings = settings(|name| std::env::var(name).ok(), ALERTMANAGER)?;
    let index = backends::open_index(&env.storage(), Path::new("/tmp")).await?;
    let dispatcher = Dispatcher::new(
        index,
        Arc::new(HttpIntegrations::default()),
        settings.external_url,
    );
    Ok(match crate::waker::from_env(env).await? {
        Some(waker) => dispatcher.with_waker(waker),
        None => dispatcher,
    })
}

/// One dispatch pass: over every tenant for a scheduled event, over the tenants an SQS event's
/// wake-ups name. A tenant that could not be processed fails the invocation (after the others
/// were done; SQS then redelivers the batch).
pub async fn dispatch(
    dispatcher: &Dispatcher,
    event: &serde_json::Value,
) -> Result<DispatchReport, lambda_runtime::Error> {
    let now = chrono::Utc::now().timestamp_millis();
    let report = match crate::waker::tenants_of_sqs_event(event) {
        Some(tenants) => dispatcher.run_tenants(&tenants, now).await,
        None => dispatcher.run_pass(now).await,
    };
    tracing::info!(report = ?report, "dispatch pass done");
    if let Some(first) = report.errors.first() {
        return Err(format!("{} tenant(s) failed, first: {first}", report.errors.len()).into());
    }
    Ok(report)
}

/// One ruler pass; a group that could not be evaluated fails the invocation (after the others
/// were done), so it shows in the function's error metrics.
pub async fn evaluate_rules(ruler: &Ruler) -> Result<PassReport, lambda_runtime::Error> {
    let report = ruler.run_pass().await?;
    tracing::info!(report = ?report, "rule pass done");
    if let Some(first) = report.errors.first() {
        return Err(format!("{} group(s) failed, first: {first}", report.errors.len()).into());
    }
    Ok(report)
}

/// The compactor of the function's bucket and table.
pub async fn compactor(env: &FunctionEnv) -> Result<Compactor, FunctionError> {
    let config = compactor_config(|name| std::env::var(name).ok())?;
    let storage = env.storage();
    let scratch = Path::new("/tmp");
    let objects = backends::open_objects(&storage, scratch).await?;
    let index = backends::open_index(&storage, scratch).await?;
    let store_config = backends::store_config_for(&storage, &StoreConfig::default());
    let store = Arc::new(MetricsStore::new(objects, index, &store_config));
    Ok(Compactor::new(store, config))
}

/// One pass; a partition failure fails the invocation (so it is retried and alarmed on) after
/// the other partitions were done.
pub async fn compact(compactor: &Compactor) -> Result<RunReport, lambda_runtime::Error> {
    let report = compactor.run(&|_: &Progress<'_>| {}).await?;
    tracing::info!(report = ?report, "compaction pass done");
    if let Some(first) = report.errors.first() {
        return Err(format!(
            "{} partition(s) failed, first: {first}",
            report.errors.len()
        )
        .into());
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_from_yaml_or_json() {
        let yaml =
            compactor_config(|_| Some("grace_period_secs: 60\nretention: {raw_days: 30}".into()))
                .expect("yaml");
        assert_eq!(yaml.grace_period_secs, 60);
        assert_eq!(yaml.retention.raw_days, 30);
        let json = compactor_config(|_| Some(r#"{"downsample": false}"#.into())).expect("json");
        assert!(!json.downsample);
        assert_eq!(
            compactor_config(|_| None).expect("default"),
            CompactorConfig::default()
        );
        assert!(compactor_config(|_| Some("nonsense_key: 1".into())).is_err());
        let ruler = ruler_config(|_| Some(r#"{"alertmanager_urls": ["http://am:9093"]}"#.into()))
            .expect("json");
        assert_eq!(ruler.alertmanager_urls, ["http://am:9093"]);
        assert!(ruler_config(|_| Some("nonsense_key: 1".into())).is_err());
    }
}
