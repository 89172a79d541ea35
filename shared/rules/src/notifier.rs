//! Alerts sent to Alertmanagers with `POST /api/v2/alerts`, as Prometheus's notifier sends
//! them (a JSON array of `labels`, `annotations`, `startsAt`, `endsAt`, `generatorURL`). The
//! tenant goes in `X-Scope-OrgID`, so a multi-tenant Alertmanager (Mimir's, or this
//! project's) files them under the right tenant.

use crate::eval::Notification;
use crate::ruler::Notifier;
use architect_model::{Labels, TenantId};
use async_trait::async_trait;
use serde_json::{Map, Value, json};

/// RFC 3339 with milliseconds, UTC, as Go's JSON time encoding prints them.
pub fn rfc3339_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Labels as a JSON object (`{"name": "value"}`), as Prometheus and Alertmanager print them.
pub fn labels_json(labels: &Labels) -> Value {
    Value::Object(
        labels
            .iter()
            .map(|l| (l.name.clone(), Value::String(l.value.clone())))
            .collect::<Map<String, Value>>(),
    )
}

/// The Alertmanager v2 body of `alerts`.
pub fn alerts_body(alerts: &[Notification]) -> Value {
    Value::Array(
        alerts
            .iter()
            .map(|a| {
                json!({
                    "labels": labels_json(&a.labels),
                    "annotations": labels_json(&a.annotations),
                    "startsAt": rfc3339_ms(a.starts_at),
                    "endsAt": rfc3339_ms(a.ends_at),
                    "generatorURL": a.generator_url,
                })
            })
            .collect(),
    )
}

/// Posts alerts to every configured Alertmanager.
#[derive(Debug, Clone)]
pub struct HttpNotifier {
    client: reqwest::Client,
    urls: Vec<String>,
}

impl HttpNotifier {
    /// A notifier for these Alertmanager base URLs (`http://host:9093`).
    pub fn new(urls: Vec<String>) -> Self {
        Self {
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            urls,
        }
    }
}

#[async_trait]
impl Notifier for HttpNotifier {
    async fn notify(&self, tenant: &TenantId, alerts: Vec<Notification>) -> Result<(), String> {
        let body = alerts_body(&alerts);
        let mut errors = Vec::new();
        for url in &self.urls {
            let endpoint = format!("{}/api/v2/alerts", url.trim_end_matches('/'));
            let sent = self
                .client
                .post(&endpoint)
                .header("X-Scope-OrgID", tenant.as_str())
                .json(&body)
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => errors.push(format!("{endpoint}: HTTP {}", r.status())),
                Err(e) => errors.push(format!("{endpoint}: {e}")),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}
