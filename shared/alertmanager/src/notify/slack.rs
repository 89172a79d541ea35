//! Slack incoming webhooks (`notify/slack` of Alertmanager 0.25): one attachment per message.

use super::{AttemptError, NotifyMetrics, RetryPolicy, check_response, gojson, post_json};
use crate::config::SlackConfig;
use crate::dispatch::{Integration, Notification};
use async_trait::async_trait;
use serde::Serialize;

/// Slack's limit on an attachment title, in characters.
const MAX_TITLE_RUNES: usize = 1024;

/// A `slack_configs` entry.
#[derive(Debug)]
pub struct Slack {
    config: SlackConfig,
    http: Result<super::http_config::HttpSettings, String>,
    policy: RetryPolicy,
    metrics: NotifyMetrics,
}

#[derive(Serialize)]
struct Request {
    #[serde(skip_serializing_if = "String::is_empty")]
    channel: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    username: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    icon_emoji: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    icon_url: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    link_names: bool,
    attachments: Vec<Attachment>,
}

#[derive(Serialize)]
struct Attachment {
    #[serde(skip_serializing_if = "String::is_empty")]
    title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    title_link: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pretext: String,
    text: String,
    fallback: String,
    callback_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<Field>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    actions: Vec<Action>,
    #[serde(skip_serializing_if = "String::is_empty")]
    image_url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    thumb_url: String,
    footer: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    color: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    mrkdwn_in: Vec<String>,
}

#[derive(Serialize)]
struct Field {
    #[serde(skip_serializing_if = "String::is_empty")]
    title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    value: String,
    short: bool,
}

#[derive(Serialize)]
struct Action {
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    type_: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    url: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    style: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    confirm: Option<Confirm>,
}

#[derive(Serialize)]
struct Confirm {
    #[serde(skip_serializing_if = "String::is_empty")]
    text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    title: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    ok_text: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    dismiss_text: String,
}

/// Alertmanager's `TruncateInRunes`: at most `n` characters, the last one `…` when cut.
pub(crate) fn truncate_runes(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_owned();
    }
    if n <= 3 {
        return s.chars().take(n).collect();
    }
    let mut out: String = s.chars().take(n - 1).collect();
    out.push('…');
    out
}

impl Slack {
    /// The integration for `config` (global settings already filled in).
    pub fn new(
        config: SlackConfig,
        client: reqwest::Client,
        policy: RetryPolicy,
        metrics: NotifyMetrics,
    ) -> Self {
        let http = super::http_config::http_settings(&client, config.http_config.as_ref());
        Slack {
            config,
            http,
            policy,
            metrics,
        }
    }

    /// The message body for `n`, as Alertmanager encodes it.
    pub fn body(&self, n: &Notification, now: i64) -> Result<String, String> {
        let data = n.template_data(now);
        let t = |text: &str| {
            n.templates
                .text(text, &data)
                .map_err(|e| format!("template error: {e}"))
        };
        let c = &self.config;
        let fields = c
            .fields
            .iter()
            .map(|f| {
                Ok(Field {
                    title: t(&f.title)?,
                    value: t(&f.value)?,
                    short: f.short.unwrap_or(c.short_fields),
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let actions = c
            .actions
            .iter()
            .map(|a| {
                Ok(Action {
                    type_: t(&a.type_)?,
                    text: t(&a.text)?,
                    url: t(&a.url)?,
                    style: t(&a.style)?,
                    name: t(&a.name)?,
                    value: t(&a.value)?,
                    confirm: match &a.confirm {
                        Some(cf) => Some(Confirm {
                            text: t(&cf.text)?,
                            title: t(&cf.title)?,
                            ok_text: t(&cf.ok_text)?,
                            dismiss_text: t(&cf.dismiss_text)?,
                        }),
                        None => None,
                    },
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let mrkdwn_in = if c.mrkdwn_in.is_empty() {
            vec!["fallback".into(), "pretext".into(), "text".into()]
        } else {
            c.mrkdwn_in.clone()
        };
        let attachment = Attachment {
            title: truncate_runes(&t(&c.title)?, MAX_TITLE_RUNES),
            title_link: t(&c.title_link)?,
            pretext: t(&c.pretext)?,
            text: t(&c.text)?,
            fallback: t(&c.fallback)?,
            callback_id: t(&c.callback_id)?,
            fields,
            actions,
            image_url: t(&c.image_url)?,
            thumb_url: t(&c.thumb_url)?,
            footer: t(&c.footer)?,
            color: t(&c.color)?,
            mrkdwn_in,
        };
        let request = Request {
            channel: t(&c.channel)?,
            username: t(&c.username)?,
            icon_emoji: t(&c.icon_emoji)?,
            icon_url: t(&c.icon_url)?,
            link_names: c.link_names,
            attachments: vec![attachment],
        };
        Ok(gojson::encode(&request))
    }

    fn url(&self) -> Result<String, AttemptError> {
        match &self.config.api_url {
            Some(u) => Ok(u.clone()),
            None => super::read_secret_file(&self.config.api_url_file),
        }
    }
}

#[async_trait]
impl Integration for Slack {
    fn kind(&self) -> &'static str {
        "slack"
    }

    fn send_resolved(&self) -> bool {
        self.config.send_resolved
    }

    async fn notify(&self, n: &Notification, now: i64) -> Result<(), String> {
        let body = self.body(n, now);
        super::with_retries("slack", self.policy, &self.metrics, || async {
            let body = body.clone().map_err(AttemptError::Permanent)?;
            let url = self.url()?;
            let response = post_json(&self.http, &url, body).await?;
            check_response(response, &[], |_, body| body.to_owned()).await
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn truncates_in_runes() {
        assert_eq!(super::truncate_runes("héllo", 5), "héllo");
        assert_eq!(super::truncate_runes("héllo", 4), "hél…");
        assert_eq!(super::truncate_runes("héllo", 2), "hé");
    }
}
