//! Integrations that deliver notifications: the webhook (Alertmanager's JSON message,
//! version 4). Receiver types not built yet fail visibly at send time (logged, counted, retried
//! at the next flush) instead of being dropped.

use crate::config::Config;
use crate::dispatch::{Integration, IntegrationFactory, Notification};
use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;

/// `webhook_configs` entry.
#[derive(Debug)]
pub struct Webhook {
    client: reqwest::Client,
    /// `url`, or the content of `url_file`.
    url: Option<String>,
    send_resolved: bool,
    max_alerts: usize,
}

#[async_trait]
impl Integration for Webhook {
    fn kind(&self) -> &'static str {
        "webhook"
    }

    fn send_resolved(&self) -> bool {
        self.send_resolved
    }

    fn max_alerts(&self) -> usize {
        self.max_alerts
    }

    async fn notify(&self, n: &Notification, now: i64) -> Result<(), String> {
        let Some(url) = &self.url else {
            return Err("webhook has no url (url_file unreadable?)".into());
        };
        let body = n.webhook_json(now);
        let mut delay = Duration::from_millis(200);
        let mut last = String::new();
        // A few quick retries within the flush; the next flush retries again.
        for _ in 0..3 {
            match self.client.post(url).json(&body).send().await {
                Ok(r) if r.status().is_success() => return Ok(()),
                Ok(r) if r.status().is_client_error() => {
                    return Err(format!("unexpected status code {}", r.status().as_u16()));
                }
                Ok(r) => last = format!("unexpected status code {}", r.status().as_u16()),
                Err(e) => last = e.to_string(),
            }
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
        Err(last)
    }
}

/// A receiver integration this project cannot deliver to yet.
#[derive(Debug)]
pub struct Unsupported {
    kind: &'static str,
}

#[async_trait]
impl Integration for Unsupported {
    fn kind(&self) -> &'static str {
        self.kind
    }

    fn send_resolved(&self) -> bool {
        false
    }

    async fn notify(&self, _n: &Notification, _now: i64) -> Result<(), String> {
        Err(format!("{} notifications are not supported yet", self.kind))
    }
}

/// The integrations of the configuration's receivers, over one HTTP client.
#[derive(Debug, Clone)]
pub struct HttpIntegrations {
    client: reqwest::Client,
}

impl Default for HttpIntegrations {
    fn default() -> Self {
        Self {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        }
    }
}

impl IntegrationFactory for HttpIntegrations {
    fn integrations(&self, config: &Config, receiver: &str) -> Vec<Arc<dyn Integration>> {
        let Some(r) = config.receivers.iter().find(|r| r.name == receiver) else {
            return Vec::new();
        };
        let mut out: Vec<Arc<dyn Integration>> = Vec::new();
        for w in &r.webhook_configs {
            out.push(Arc::new(Webhook {
                client: self.client.clone(),
                url: w.url.clone().or_else(|| {
                    let file = w.url_file.as_ref()?;
                    std::fs::read_to_string(file)
                        .ok()
                        .map(|u| u.trim().to_string())
                }),
                send_resolved: w.send_resolved,
                max_alerts: w.max_alerts as usize,
            }));
        }
        for (kind, n) in [
            ("email", r.email_configs.len()),
            ("pagerduty", r.pagerduty_configs.len()),
            ("slack", r.slack_configs.len()),
        ] {
            for _ in 0..n {
                out.push(Arc::new(Unsupported { kind }));
            }
        }
        out
    }
}
