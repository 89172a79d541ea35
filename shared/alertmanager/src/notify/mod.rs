//! Integrations that deliver notifications, as Alertmanager 0.25's notifiers do: webhook
//! (JSON message version 4), Slack (incoming webhook), PagerDuty (Events API v2, and v1 for
//! `service_key`), email (SMTP with STARTTLS or implicit TLS, AUTH PLAIN/LOGIN). Texts are
//! rendered with Alertmanager's templates ([`architect_template::NotifyTemplates`]); Slack and
//! PagerDuty bodies are encoded as Go's `encoding/json` encodes them, so they are the bytes
//! Alertmanager sends.
//!
//! Each notification is retried with Alertmanager's exponential backoff (0.5 s × 1.5, ±50%)
//! while the error is retryable and the retry budget lasts; what is still failing then is
//! retried at the group's next flush (the notification log is only written on success).
//! Receiver types this project does not deliver to fail visibly at send time (logged,
//! counted, retried at the next flush) instead of being dropped.

mod email;
mod gojson;
mod http_config;
mod pagerduty;
mod slack;

use crate::config::Config;
use crate::dispatch::{Integration, IntegrationFactory, Notification};
use async_trait::async_trait;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::time::Duration;

pub use email::Email;
pub use pagerduty::Pagerduty;
pub use slack::Slack;

/// The `User-Agent` of notification requests (Alertmanager sends `Alertmanager/<version>`).
pub const USER_AGENT: &str = concat!("Alertmanager/0.25.0 architect/", env!("CARGO_PKG_VERSION"));

/// Alertmanager's notification metrics (`alertmanager_notifications_total` and friends), by
/// integration type.
#[derive(Debug, Clone, Default)]
pub struct NotifyMetrics {
    notifications: Family<Vec<(String, String)>, Counter>,
    notifications_failed: Family<Vec<(String, String)>, Counter>,
    requests: Family<Vec<(String, String)>, Counter>,
    requests_failed: Family<Vec<(String, String)>, Counter>,
}

impl NotifyMetrics {
    /// Registers the metrics under Alertmanager's names, each integration type at zero.
    pub fn register(&self, registry: &mut Registry) {
        for kind in ["email", "pagerduty", "slack", "webhook"] {
            let l = labels(kind);
            let _ = self.notifications.get_or_create(&l);
            let _ = self.notifications_failed.get_or_create(&l);
            let _ = self.requests.get_or_create(&l);
            let _ = self.requests_failed.get_or_create(&l);
        }
        registry.register(
            "alertmanager_notifications",
            "The total number of attempted notifications.",
            self.notifications.clone(),
        );
        registry.register(
            "alertmanager_notifications_failed",
            "The total number of failed notifications.",
            self.notifications_failed.clone(),
        );
        registry.register(
            "alertmanager_notification_requests",
            "The total number of attempted notification requests.",
            self.requests.clone(),
        );
        registry.register(
            "alertmanager_notification_requests_failed",
            "The total number of failed notification requests.",
            self.requests_failed.clone(),
        );
    }

    /// Notifications attempted by `kind` so far.
    pub fn notifications(&self, kind: &str) -> u64 {
        self.notifications.get_or_create(&labels(kind)).get()
    }

    /// Notifications that failed for good (after their retries) by `kind`.
    pub fn failed(&self, kind: &str) -> u64 {
        self.notifications_failed.get_or_create(&labels(kind)).get()
    }

    /// Requests (attempts) by `kind`.
    pub fn requests(&self, kind: &str) -> u64 {
        self.requests.get_or_create(&labels(kind)).get()
    }
}

fn labels(kind: &str) -> Vec<(String, String)> {
    vec![("integration".to_owned(), kind.to_owned())]
}

/// Why one attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptError {
    /// Worth trying again (5xx, connection errors, ...).
    Retry(String),
    /// Will fail again (4xx, template errors, bad addresses).
    Permanent(String),
}

impl AttemptError {
    /// The error text.
    pub fn message(&self) -> &str {
        match self {
            AttemptError::Retry(m) | AttemptError::Permanent(m) => m,
        }
    }
}

/// How long one notification keeps retrying, and the backoff's start.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Total time spent on retries of one notification.
    pub budget: Duration,
    /// The first wait (Alertmanager: 500 ms, growing × 1.5 up to 60 s).
    pub initial: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            budget: Duration::from_secs(10),
            initial: Duration::from_millis(500),
        }
    }
}

/// Alertmanager's `RetryStage`: attempts until success, a permanent error or the budget's
/// end, counting every attempt.
pub(crate) async fn with_retries<F, Fut>(
    kind: &'static str,
    policy: RetryPolicy,
    metrics: &NotifyMetrics,
    mut attempt: F,
) -> Result<(), String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), AttemptError>>,
{
    let l = labels(kind);
    metrics.notifications.get_or_create(&l).inc();
    let started = tokio::time::Instant::now();
    let mut interval = policy.initial.as_secs_f64();
    let mut attempts = 0u32;
    loop {
        attempts += 1;
        metrics.requests.get_or_create(&l).inc();
        let error = match attempt().await {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        metrics.requests_failed.get_or_create(&l).inc();
        let wait = Duration::from_secs_f64(interval * (0.5 + jitter()));
        interval = (interval * 1.5).min(60.0);
        let out_of_time = started.elapsed() + wait > policy.budget;
        if matches!(error, AttemptError::Permanent(_)) || out_of_time {
            metrics.notifications_failed.get_or_create(&l).inc();
            let why = if matches!(error, AttemptError::Permanent(_)) {
                "due to unrecoverable error "
            } else {
                ""
            };
            return Err(format!(
                "notify retry canceled {why}after {attempts} attempts: {}",
                error.message()
            ));
        }
        tokio::time::sleep(wait).await;
    }
}

/// A number in [0, 1) for the backoff's randomisation.
fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    f64::from(nanos % 1000) / 1000.0
}

/// An HTTP response as Alertmanager's `Retrier.Check` judges it: 2xx is success, 5xx and
/// `retry_codes` are retried, anything else is permanent. The error carries the body.
pub(crate) async fn check_response(
    response: reqwest::Response,
    retry_codes: &[u16],
    details: impl Fn(u16, &str) -> String,
) -> Result<(), AttemptError> {
    let status = response.status().as_u16();
    if status / 100 == 2 {
        return Ok(());
    }
    let body = response.text().await.unwrap_or_default();
    let detail = details(status, &body);
    let message = if detail.is_empty() {
        format!("unexpected status code {status}")
    } else {
        format!("unexpected status code {status}: {detail}")
    };
    if status / 100 == 5 || retry_codes.contains(&status) {
        Err(AttemptError::Retry(message))
    } else {
        Err(AttemptError::Permanent(message))
    }
}

/// Posts `body` (already JSON) as Alertmanager's `notify.PostJSON` does, with the
/// integration's `http_config`.
pub(crate) async fn post_json(
    http: &Result<http_config::HttpSettings, String>,
    url: &str,
    body: String,
) -> Result<reqwest::Response, AttemptError> {
    let http = http
        .as_ref()
        .map_err(|e| AttemptError::Permanent(e.clone()))?;
    let mut request = http
        .client
        .post(url)
        .header(reqwest::header::USER_AGENT, USER_AGENT)
        .header(reqwest::header::CONTENT_TYPE, "application/json");
    if let Some(authorization) = &http.authorization {
        request = request.header(reqwest::header::AUTHORIZATION, authorization);
    }
    request
        .body(body)
        .send()
        .await
        .map_err(|e| AttemptError::Retry(redact_url(&e.to_string(), url)))
}

/// Error texts without the URL (which may hold a secret, as Slack's does).
fn redact_url(text: &str, url: &str) -> String {
    text.replace(url, "<redacted>")
}

/// Reads a secret from a file (`*_file` settings), trimmed as Alertmanager trims it.
pub(crate) fn read_secret_file(path: &str) -> Result<String, AttemptError> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .map_err(|e| AttemptError::Permanent(format!("reading {path}: {e}")))
}

/// `webhook_configs` entry.
#[derive(Debug)]
pub struct Webhook {
    http: Result<http_config::HttpSettings, String>,
    /// `url`, or the content of `url_file`.
    url: Option<String>,
    send_resolved: bool,
    max_alerts: usize,
    policy: RetryPolicy,
    metrics: NotifyMetrics,
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
        let body = gojson::encode(&n.webhook_json(now));
        with_retries("webhook", self.policy, &self.metrics, || async {
            let response = post_json(&self.http, url, body.clone()).await?;
            check_response(response, &[], |_, body| body.to_owned()).await
        })
        .await
    }
}

/// A receiver integration this project cannot deliver to.
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
        Err(format!("{} notifications are not supported", self.kind))
    }
}

/// The integrations of the configuration's receivers, over one HTTP client.
#[derive(Debug, Clone)]
pub struct HttpIntegrations {
    client: reqwest::Client,
    policy: RetryPolicy,
    metrics: NotifyMetrics,
}

impl Default for HttpIntegrations {
    fn default() -> Self {
        Self::new(RetryPolicy::default())
    }
}

impl HttpIntegrations {
    /// Integrations retrying as `policy` says.
    pub fn new(policy: RetryPolicy) -> Self {
        Self {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            policy,
            metrics: NotifyMetrics::default(),
        }
    }

    /// The notification metrics (register them once to expose them).
    pub fn metrics(&self) -> &NotifyMetrics {
        &self.metrics
    }
}

impl IntegrationFactory for HttpIntegrations {
    fn integrations(&self, config: &Config, receiver: &str) -> Vec<Arc<dyn Integration>> {
        let Some(r) = config.receivers.iter().find(|r| r.name == receiver) else {
            return Vec::new();
        };
        let mut out: Vec<Arc<dyn Integration>> = Vec::new();
        // Alertmanager's order: email, pagerduty, ..., slack, ..., webhook.
        for c in &r.email_configs {
            out.push(Arc::new(Email::new(
                c.clone(),
                self.policy,
                self.metrics.clone(),
            )));
        }
        for c in &r.pagerduty_configs {
            out.push(Arc::new(Pagerduty::new(
                c.clone(),
                self.client.clone(),
                self.policy,
                self.metrics.clone(),
            )));
        }
        for c in &r.slack_configs {
            out.push(Arc::new(Slack::new(
                c.clone(),
                self.client.clone(),
                self.policy,
                self.metrics.clone(),
            )));
        }
        for w in &r.webhook_configs {
            out.push(Arc::new(Webhook {
                http: http_config::http_settings(&self.client, w.http_config.as_ref()),
                url: w.url.clone().or_else(|| {
                    let file = w.url_file.as_ref()?;
                    std::fs::read_to_string(file)
                        .ok()
                        .map(|u| u.trim().to_string())
                }),
                send_resolved: w.send_resolved,
                max_alerts: w.max_alerts as usize,
                policy: self.policy,
                metrics: self.metrics.clone(),
            }));
        }
        for (kind, n) in [
            ("opsgenie", r.opsgenie_configs.len()),
            ("wechat", r.wechat_configs.len()),
            ("pushover", r.pushover_configs.len()),
            ("victorops", r.victorops_configs.len()),
            ("sns", r.sns_configs.len()),
            ("telegram", r.telegram_configs.len()),
            ("discord", r.discord_configs.len()),
            ("webex", r.webex_configs.len()),
            ("msteams", r.msteams_configs.len()),
            ("msteamsv2", r.msteamsv2_configs.len()),
            ("jira", r.jira_configs.len()),
            ("rocketchat", r.rocketchat_configs.len()),
        ] {
            for _ in 0..n {
                out.push(Arc::new(Unsupported { kind }));
            }
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A one-request HTTP server on loopback: its URL and the request's head, once received.
    async fn capture_one_request() -> (String, tokio::sync::oneshot::Receiver<String>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 65536];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = socket.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            socket
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                .await
                .unwrap();
            let _ = tx.send(String::from_utf8_lossy(&got).into_owned());
        });
        (url, rx)
    }

    #[tokio::test]
    async fn http_config_authorization_reaches_the_receiver() {
        let (url, request) = capture_one_request().await;
        let config = crate::config::parse_config(&format!(
            "route: {{receiver: r}}\nreceivers:\n- name: r\n  webhook_configs:\n  - url: '{url}'\n    http_config: {{basic_auth: {{username: am, password: s3cret}}}}\n"
        ))
        .unwrap();
        let integrations = HttpIntegrations::default().integrations(&config, "r");
        let n = Notification {
            receiver: "r".into(),
            group_key: "{}:{}".into(),
            group_labels: architect_model::Labels::default(),
            alerts: Vec::new(),
            external_url: String::new(),
            truncated: 0,
            templates: Arc::new(architect_template::NotifyTemplates::new([]).unwrap()),
        };
        integrations[0].notify(&n, 0).await.unwrap();
        let head = request.await.unwrap().to_ascii_lowercase();
        // base64("am:s3cret")
        assert!(head.contains("authorization: basic yw06cznjcmv0"), "{head}");
        assert!(head.contains("user-agent: alertmanager/0.25.0"), "{head}");
    }

    #[tokio::test]
    async fn retries_follow_the_error_kind_and_the_budget() {
        let metrics = NotifyMetrics::default();
        let policy = RetryPolicy {
            budget: Duration::from_millis(300),
            initial: Duration::from_millis(10),
        };
        let mut calls = 0;
        let r = with_retries("webhook", policy, &metrics, || {
            calls += 1;
            let n = calls;
            async move {
                if n < 3 {
                    Err(AttemptError::Retry("503".into()))
                } else {
                    Ok(())
                }
            }
        })
        .await;
        assert!(r.is_ok());
        assert_eq!(metrics.requests("webhook"), 3);
        assert_eq!(metrics.failed("webhook"), 0);

        let err = with_retries("slack", policy, &metrics, || async {
            Err(AttemptError::Permanent("unexpected status code 404".into()))
        })
        .await
        .unwrap_err();
        assert_eq!(
            err,
            "notify retry canceled due to unrecoverable error after 1 attempts: unexpected status code 404"
        );
        let err = with_retries("email", policy, &metrics, || async {
            Err(AttemptError::Retry("connection refused".into()))
        })
        .await
        .unwrap_err();
        assert!(err.ends_with("attempts: connection refused"), "{err}");
        assert!(metrics.requests("email") > 1);
        assert_eq!(metrics.failed("email"), 1);
        assert_eq!(metrics.notifications("email"), 1);
    }
}
