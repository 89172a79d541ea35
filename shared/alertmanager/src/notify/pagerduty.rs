//! PagerDuty (`notify/pagerduty` of Alertmanager 0.25): Events API v2 with a `routing_key`,
//! v1 with a `service_key`. The dedup key is the SHA-256 of the group key, so PagerDuty folds
//! a group's notifications into one incident; `resolve` is sent once all alerts are resolved.

use super::slack::truncate_runes;
use super::{AttemptError, NotifyMetrics, RetryPolicy, check_response, gojson, post_json};
use crate::config::PagerdutyConfig;
use crate::dispatch::{Integration, Notification};
use async_trait::async_trait;
use serde::Serialize;
use sha2::Digest;
use std::collections::BTreeMap;

const V1_URL: &str = "https://events.pagerduty.com/generic/2010-04-15/create_event.json";
const MAX_SUMMARY_RUNES: usize = 1024;
/// PagerDuty refuses events over 512 KB.
const MAX_EVENT_BYTES: usize = 512_000;

/// A `pagerduty_configs` entry.
#[derive(Debug)]
pub struct Pagerduty {
    config: PagerdutyConfig,
    http: Result<super::http_config::HttpSettings, String>,
    policy: RetryPolicy,
    metrics: NotifyMetrics,
}

#[derive(Serialize)]
struct Message {
    #[serde(skip_serializing_if = "String::is_empty")]
    routing_key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    service_key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    dedup_key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    incident_key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    event_type: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    description: String,
    event_action: String,
    payload: Option<Payload>,
    #[serde(skip_serializing_if = "String::is_empty")]
    client: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    client_url: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    details: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    images: Vec<Image>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    links: Vec<Link>,
}

#[derive(Serialize)]
struct Payload {
    summary: String,
    source: String,
    severity: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    class: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    component: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    group: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    custom_details: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct Image {
    src: String,
    alt: String,
    href: String,
}

#[derive(Serialize)]
struct Link {
    href: String,
    text: String,
}

/// Lower-case hex SHA-256 of `s` (Alertmanager's `Key.Hash`).
fn sha256_hex(s: &str) -> String {
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Pagerduty {
    /// The integration for `config` (global settings already filled in).
    pub fn new(
        config: PagerdutyConfig,
        client: reqwest::Client,
        policy: RetryPolicy,
        metrics: NotifyMetrics,
    ) -> Self {
        let http = super::http_config::http_settings(&client, config.http_config.as_ref());
        Pagerduty {
            config,
            http,
            policy,
            metrics,
        }
    }

    fn v1(&self) -> bool {
        !self.config.service_key.is_empty() || !self.config.service_key_file.is_empty()
    }

    /// The URL and body of the event for `n`, as Alertmanager encodes them.
    pub fn request(&self, n: &Notification, now: i64) -> Result<(String, String), AttemptError> {
        let data = n.template_data(now);
        let c = &self.config;
        let t = |text: &str| {
            n.templates.text(text, &data).map_err(|e| {
                AttemptError::Permanent(format!("failed to template PagerDuty message: {e}"))
            })
        };
        let action = if data.status == "firing" {
            "trigger"
        } else {
            "resolve"
        };
        let mut details = BTreeMap::new();
        for (k, v) in &c.details {
            let rendered = n.templates.text(v, &data).map_err(|e| {
                AttemptError::Permanent(format!("{k:?}: failed to template {v:?}: {e}"))
            })?;
            details.insert(k.clone(), rendered);
        }
        let key = |literal: &str, file: &str, what: &str| {
            let raw = if literal.is_empty() {
                super::read_secret_file(file)?
            } else {
                literal.to_owned()
            };
            let key = t(&raw)?;
            if key.is_empty() {
                return Err(AttemptError::Permanent(format!("{what} cannot be empty")));
            }
            Ok(key)
        };
        let dedup = sha256_hex(&n.group_key);
        let (url, mut message) = if self.v1() {
            let trigger = action == "trigger";
            let message = Message {
                routing_key: String::new(),
                service_key: key(&c.service_key, &c.service_key_file, "service key")?,
                dedup_key: String::new(),
                incident_key: dedup,
                event_type: action.to_owned(),
                description: truncate_runes(&t(&c.description)?, MAX_SUMMARY_RUNES),
                event_action: String::new(),
                payload: None,
                client: if trigger {
                    t(&c.client)?
                } else {
                    String::new()
                },
                client_url: if trigger {
                    t(&c.client_url)?
                } else {
                    String::new()
                },
                details,
                images: Vec::new(),
                links: Vec::new(),
            };
            (V1_URL.to_owned(), message)
        } else {
            let mut images = Vec::new();
            for i in &c.images {
                let image = Image {
                    src: t(&i.src)?,
                    alt: t(&i.alt)?,
                    href: t(&i.href)?,
                };
                if !image.src.is_empty() {
                    images.push(image);
                }
            }
            let mut links = Vec::new();
            for l in &c.links {
                let link = Link {
                    href: t(&l.href)?,
                    text: t(&l.text)?,
                };
                if !link.href.is_empty() {
                    links.push(link);
                }
            }
            let severity = match t(&c.severity)? {
                s if s.is_empty() => "error".to_owned(),
                s => s,
            };
            let message = Message {
                routing_key: key(&c.routing_key, &c.routing_key_file, "routing key")?,
                service_key: String::new(),
                dedup_key: dedup,
                incident_key: String::new(),
                event_type: String::new(),
                description: String::new(),
                event_action: action.to_owned(),
                payload: Some(Payload {
                    summary: truncate_runes(&t(&c.description)?, MAX_SUMMARY_RUNES),
                    source: t(&c.source)?,
                    severity,
                    class: t(&c.class)?,
                    component: t(&c.component)?,
                    group: t(&c.group)?,
                    custom_details: details,
                }),
                client: t(&c.client)?,
                client_url: t(&c.client_url)?,
                details: BTreeMap::new(),
                images,
                links,
            };
            (c.url.clone().unwrap_or_default(), message)
        };
        let mut body = gojson::encode(&message);
        if body.len() > MAX_EVENT_BYTES {
            let removed = BTreeMap::from([(
                "error".to_owned(),
                "Custom details have been removed because the original event exceeds the maximum size of 512KB".to_owned(),
            )]);
            match &mut message.payload {
                Some(p) => p.custom_details = removed,
                None => message.details = removed,
            }
            body = gojson::encode(&message);
        }
        Ok((url, body))
    }
}

/// PagerDuty's 400 answer: `{"status", "message", "errors": [...]}`.
fn error_details(status: u16, body: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Answer {
        message: String,
        #[serde(default)]
        errors: Vec<String>,
    }
    if status != 400 {
        return String::new();
    }
    match serde_json::from_str::<Answer>(body) {
        Ok(a) => format!("{}: {}", a.message, a.errors.join(",")),
        Err(_) => String::new(),
    }
}

#[async_trait]
impl Integration for Pagerduty {
    fn kind(&self) -> &'static str {
        "pagerduty"
    }

    fn send_resolved(&self) -> bool {
        self.config.send_resolved
    }

    async fn notify(&self, n: &Notification, now: i64) -> Result<(), String> {
        let retry_codes: &[u16] = if self.v1() { &[403] } else { &[429] };
        super::with_retries("pagerduty", self.policy, &self.metrics, || async {
            let (url, body) = self.request(n, now)?;
            let response = post_json(&self.http, &url, body).await?;
            check_response(response, retry_codes, error_details).await
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_and_error_details() {
        assert_eq!(super::sha256_hex("{}:{alertname=\"Foo\"}").len(), 64);
        assert_eq!(
            super::error_details(
                400,
                r#"{"status":"invalid event","message":"Event object is invalid","errors":["a","b"]}"#
            ),
            "Event object is invalid: a,b"
        );
        assert_eq!(super::error_details(500, "x"), "");
    }
}
