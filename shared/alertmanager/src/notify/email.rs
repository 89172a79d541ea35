//! Email (`notify/email` of Alertmanager 0.25) over SMTP through `lettre`: implicit TLS on
//! port 465, otherwise plain TCP upgraded with STARTTLS when `require_tls` (the default) —
//! mandatory then, never attempted otherwise — and AUTH PLAIN or LOGIN when `auth_username`
//! is set. Headers are the configured ones plus the defaults `Subject`, `To` and `From`, each
//! rendered as a text template; the body is multipart/alternative with the `text` part (when
//! set) and the `html` part (Alertmanager's `email.default.html` by default).
//!
//! Differences from Alertmanager: CRAM-MD5 (`auth_secret`) is not offered (lettre does not
//! implement it), and `tls_config` honours only `insecure_skip_verify` and `server_name`.

use super::{AttemptError, NotifyMetrics, RetryPolicy};
use crate::config::EmailConfig;
use crate::dispatch::{Integration, Notification};
use async_trait::async_trait;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, Mailboxes, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::collections::BTreeMap;
use std::time::Duration;

/// An `email_configs` entry.
#[derive(Debug)]
pub struct Email {
    config: EmailConfig,
    policy: RetryPolicy,
    metrics: NotifyMetrics,
}

/// A rendered email: envelope addresses, headers, bodies.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedEmail {
    /// `MAIL FROM` address (the single address of `from`).
    pub from: Mailbox,
    /// `RCPT TO` addresses (every address of `to`).
    pub to: Vec<Mailbox>,
    /// Header name → rendered value.
    pub headers: BTreeMap<String, String>,
    /// The text part (empty: none).
    pub text: String,
    /// The HTML part (empty: none).
    pub html: String,
}

impl Email {
    /// The integration for `config` (global settings already filled in).
    pub fn new(config: EmailConfig, policy: RetryPolicy, metrics: NotifyMetrics) -> Self {
        Email {
            config,
            policy,
            metrics,
        }
    }

    /// Renders the email for `n`; a template or address error is permanent.
    pub fn render(&self, n: &Notification, now: i64) -> Result<RenderedEmail, AttemptError> {
        let data = n.template_data(now);
        let c = &self.config;
        let t = |what: &str, text: &str| {
            n.templates
                .text(text, &data)
                .map_err(|e| AttemptError::Permanent(format!("execute {what} template: {e}")))
        };
        let mut headers = BTreeMap::new();
        let mut templates = c.headers.clone();
        templates
            .entry("Subject".to_owned())
            .or_insert_with(|| crate::config::DEFAULT_EMAIL_SUBJECT.to_owned());
        templates
            .entry("To".to_owned())
            .or_insert_with(|| c.to.clone());
        templates
            .entry("From".to_owned())
            .or_insert_with(|| c.from.clone());
        for (k, v) in &templates {
            headers.insert(k.clone(), t(&format!("{k:?} header"), v)?);
        }
        let from_text = t("'from'", &c.from)?;
        let from: Mailboxes = from_text
            .parse()
            .map_err(|e| AttemptError::Permanent(format!("parse 'from' addresses: {e}")))?;
        let from: Vec<Mailbox> = from.into_iter().collect();
        let [from] = <[Mailbox; 1]>::try_from(from).map_err(|v| {
            AttemptError::Permanent(format!(
                "must be exactly one 'from' address (got: {})",
                v.len()
            ))
        })?;
        let to_text = t("'to'", &c.to)?;
        let to: Mailboxes = to_text
            .parse()
            .map_err(|e| AttemptError::Permanent(format!("parse 'to' addresses: {e}")))?;
        let html = if c.html.is_empty() {
            String::new()
        } else {
            n.templates
                .html(&c.html, &data)
                .map_err(|e| AttemptError::Permanent(format!("execute html template: {e}")))?
        };
        Ok(RenderedEmail {
            from,
            to: to.into_iter().collect(),
            headers,
            text: t("text", &c.text)?,
            html,
        })
    }

    fn message(rendered: &RenderedEmail) -> Result<Message, AttemptError> {
        let mut builder = Message::builder().envelope(
            lettre::address::Envelope::new(
                Some(rendered.from.email.clone()),
                rendered.to.iter().map(|m| m.email.clone()).collect(),
            )
            .map_err(|e| AttemptError::Permanent(e.to_string()))?,
        );
        for (k, v) in &rendered.headers {
            let name = HeaderName::new_from_ascii(k.clone())
                .map_err(|e| AttemptError::Permanent(format!("header {k:?}: {e}")))?;
            builder = builder.raw_header(HeaderValue::new(name, v.clone()));
        }
        let mut parts = MultiPart::alternative().build();
        if !rendered.text.is_empty() {
            parts = parts.singlepart(SinglePart::plain(rendered.text.clone()));
        }
        if !rendered.html.is_empty() {
            parts = parts.singlepart(SinglePart::html(rendered.html.clone()));
        }
        builder
            .multipart(parts)
            .map_err(|e| AttemptError::Permanent(format!("build message: {e}")))
    }

    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, AttemptError> {
        let c = &self.config;
        let Some(smarthost) = &c.smarthost else {
            return Err(AttemptError::Permanent("no smarthost".into()));
        };
        let port: u16 = smarthost
            .port
            .parse()
            .map_err(|_| AttemptError::Permanent(format!("bad port {:?}", smarthost.port)))?;
        let tls_setting = |key: &str| c.tls_config.as_ref().and_then(|v| v.get(key)).cloned();
        let server_name = tls_setting("server_name")
            .and_then(|v| v.as_str().map(str::to_owned))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| smarthost.host.clone());
        let insecure = tls_setting("insecure_skip_verify").and_then(|v| v.as_bool()) == Some(true);
        let params = || {
            TlsParameters::builder(server_name.clone())
                .dangerous_accept_invalid_certs(insecure)
                .build_rustls()
                .map_err(|e| AttemptError::Permanent(format!("tls settings: {e}")))
        };
        let tls = if port == 465 {
            Tls::Wrapper(params()?)
        } else if c.require_tls.unwrap_or(true) {
            Tls::Required(params()?)
        } else {
            Tls::None
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smarthost.host)
            .port(port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(30)));
        let hello = if c.hello.is_empty() {
            "localhost"
        } else {
            c.hello.as_str()
        };
        builder = builder.hello_name(ClientId::Domain(hello.to_owned()));
        if !c.auth_username.is_empty() {
            let password = if c.auth_password.is_empty() && !c.auth_password_file.is_empty() {
                std::fs::read_to_string(&c.auth_password_file).map_err(|e| {
                    AttemptError::Permanent(format!("reading {}: {e}", c.auth_password_file))
                })?
            } else {
                c.auth_password.clone()
            };
            builder = builder
                .credentials(Credentials::new(c.auth_username.clone(), password))
                .authentication(vec![Mechanism::Plain, Mechanism::Login]);
        }
        Ok(builder.build())
    }
}

#[async_trait]
impl Integration for Email {
    fn kind(&self) -> &'static str {
        "email"
    }

    fn send_resolved(&self) -> bool {
        self.config.send_resolved
    }

    async fn notify(&self, n: &Notification, now: i64) -> Result<(), String> {
        super::with_retries("email", self.policy, &self.metrics, || async {
            let rendered = self.render(n, now)?;
            let message = Self::message(&rendered)?;
            let transport = self.transport()?;
            transport.send(message).await.map(|_| ()).map_err(|e| {
                if e.is_permanent() {
                    AttemptError::Permanent(e.to_string())
                } else {
                    AttemptError::Retry(e.to_string())
                }
            })
        })
        .await
    }
}
