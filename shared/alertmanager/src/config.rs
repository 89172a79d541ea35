//! The Alertmanager configuration file, parsed strictly (unknown fields are refused) and
//! validated as Alertmanager 0.25's `config.Load` does, with its error messages where
//! practical.
//!
//! Webhook, Slack, PagerDuty and email integrations are typed (with Alertmanager's defaults
//! and the global settings filled in); the other integration types are kept as opaque YAML
//! values, checked only for the settings Alertmanager requires from them or from `global`.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use serde_yaml_ng::Value;

use crate::matchers::{MatchType, Matcher, compile_anchored};
use crate::timeinterval::TimeInterval;

/// A configuration that cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The text is not valid YAML or does not fit the schema (e.g. an unknown field).
    #[error("{0}")]
    Yaml(String),
    /// The configuration is well-formed but invalid; the message is Alertmanager's.
    #[error("{0}")]
    Invalid(String),
}

fn invalid(msg: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(msg.into())
}

/// A loaded, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Global settings, with Alertmanager's defaults.
    pub global: GlobalConfig,
    /// The root of the routing tree.
    pub route: RouteConfig,
    /// Inhibition rules.
    pub inhibit_rules: Vec<InhibitRuleConfig>,
    /// Receivers, with global defaults filled into their integrations.
    pub receivers: Vec<Receiver>,
    /// Template file globs.
    pub templates: Vec<String>,
    /// Named time intervals from the deprecated `mute_time_intervals` section.
    pub mute_time_intervals: Vec<NamedTimeInterval>,
    /// Named time intervals from `time_intervals`.
    pub time_intervals: Vec<NamedTimeInterval>,
    /// The text the configuration was parsed from.
    pub original: String,
}

/// The YAML of [`Config::default_fallback`].
pub const FALLBACK_CONFIG: &str = "\
# Fallback configuration: no configuration has been uploaded for this tenant.
route:
  receiver: empty-receiver
  group_wait: 10s
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: empty-receiver
";

impl Config {
    /// The configuration used for a tenant that has uploaded none: everything goes to one
    /// receiver, `empty-receiver`, which has no integrations.
    pub fn default_fallback() -> Config {
        match parse_config(FALLBACK_CONFIG) {
            Ok(c) => c,
            // The constant is valid (tested); build the same thing by hand regardless.
            Err(_) => Config {
                global: GlobalConfig::default(),
                route: RouteConfig {
                    receiver: "empty-receiver".to_string(),
                    group_wait: Some(10_000),
                    group_interval: Some(300_000),
                    repeat_interval: Some(14_400_000),
                    ..RouteConfig::default()
                },
                inhibit_rules: Vec::new(),
                receivers: vec![Receiver {
                    name: "empty-receiver".to_string(),
                    ..Receiver::default()
                }],
                templates: Vec::new(),
                mute_time_intervals: Vec::new(),
                time_intervals: Vec::new(),
                original: FALLBACK_CONFIG.to_string(),
            },
        }
    }

    /// The receiver called `name`.
    pub fn receiver(&self, name: &str) -> Option<&Receiver> {
        self.receivers.iter().find(|r| r.name == name)
    }

    /// The named time interval `name` (from `time_intervals` or `mute_time_intervals`).
    pub fn time_interval(&self, name: &str) -> Option<&NamedTimeInterval> {
        self.time_intervals
            .iter()
            .chain(self.mute_time_intervals.iter())
            .find(|t| t.name == name)
    }
}

/// Settings Alertmanager keeps as `Secret`/`SecretURL` (anywhere in the file), printed as
/// `<secret>` by its status API.
const SECRET_KEYS: [&str; 20] = [
    "smtp_auth_password",
    "smtp_auth_secret",
    "slack_api_url",
    "opsgenie_api_key",
    "wechat_api_secret",
    "victorops_api_key",
    "auth_password",
    "auth_secret",
    "service_key",
    "routing_key",
    "api_secret",
    "api_key",
    "user_key",
    "token",
    "bot_token",
    "webhook_url",
    "password",
    "credentials",
    "bearer_token",
    "client_secret",
];

/// The configuration text with its secrets replaced by `<secret>`, as Alertmanager's
/// `/api/v2/status` shows it (`api_url` is a secret in `slack_configs` only).
pub fn mask_secrets(yaml: &str) -> String {
    fn walk(v: &mut Value, in_slack: bool) {
        match v {
            Value::Mapping(m) => {
                for (k, child) in m.iter_mut() {
                    let key = k.as_str().unwrap_or("");
                    let secret = SECRET_KEYS.contains(&key) || (in_slack && key == "api_url");
                    if secret && child.as_str().is_some_and(|s| !s.is_empty()) {
                        *child = Value::String("<secret>".to_owned());
                    } else {
                        walk(child, key == "slack_configs");
                    }
                }
            }
            Value::Sequence(items) => {
                for item in items {
                    walk(item, in_slack);
                }
            }
            _ => {}
        }
    }
    match serde_yaml_ng::from_str::<Value>(yaml) {
        Ok(mut v) => {
            walk(&mut v, false);
            serde_yaml_ng::to_string(&v).unwrap_or_default()
        }
        Err(_) => String::new(),
    }
}

/// A named list of time intervals; an instant is inside when any entry contains it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedTimeInterval {
    /// The name routes refer to.
    #[serde(default, deserialize_with = "de::string")]
    pub name: String,
    /// The intervals.
    #[serde(default, deserialize_with = "de::vec")]
    pub time_intervals: Vec<TimeInterval>,
}

impl NamedTimeInterval {
    /// Whether any entry contains `t`.
    pub fn contains(&self, t: chrono::DateTime<chrono::Utc>) -> bool {
        crate::timeinterval::any_contains(&self.time_intervals, t)
    }
}

/// A `host:port` address (`smtp_smarthost`, `smarthost`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostPort {
    /// Host (may be empty, as in `:25`).
    pub host: String,
    /// Port, never empty.
    pub port: String,
}

impl HostPort {
    /// Parses `host:port` as Go's `net.SplitHostPort` does; a missing port is an error.
    pub fn parse(s: &str) -> Result<HostPort, String> {
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let end = rest
                .find(']')
                .ok_or_else(|| format!("address {s}: missing ']' in address"))?;
            let after = &rest[end + 1..];
            let port = after
                .strip_prefix(':')
                .ok_or_else(|| format!("address {s}: missing port in address"))?;
            (&rest[..end], port)
        } else {
            let i = s
                .rfind(':')
                .ok_or_else(|| format!("address {s}: missing port in address"))?;
            let host = &s[..i];
            if host.contains(':') {
                return Err(format!("address {s}: too many colons in address"));
            }
            (host, &s[i + 1..])
        };
        if port.is_empty() {
            return Err(format!("address {s:?}: port cannot be empty"));
        }
        Ok(HostPort {
            host: host.to_string(),
            port: port.to_string(),
        })
    }
}

impl std::fmt::Display for HostPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.is_empty() && self.port.is_empty() {
            return Ok(());
        }
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// Validates an HTTP(S) URL as Alertmanager's `parseURL` does (scheme http/https, a host).
/// `<secret>` (a redacted secret URL read back from the API) is accepted as is.
pub fn validate_url(s: &str) -> Result<(), String> {
    let Some((scheme, rest)) = s.split_once("://") else {
        if let Some((scheme, _)) = s.split_once(':')
            && !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        {
            let scheme = scheme.to_ascii_lowercase();
            if scheme != "http" && scheme != "https" {
                return Err(format!("unsupported scheme {scheme:?} for URL"));
            }
            return Err("missing host for URL".to_string());
        }
        return Err(format!("unsupported scheme \"\" for URL ({s:?})"));
    };
    if scheme.is_empty() {
        return Err(format!("parse {s:?}: missing protocol scheme"));
    }
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!("unsupported scheme {scheme:?} for URL"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    if host.is_empty() {
        return Err("missing host for URL".to_string());
    }
    Ok(())
}

fn check_url(s: &str) -> Result<(), ConfigError> {
    validate_url(s).map_err(invalid)
}

fn check_secret_url(s: &str) -> Result<(), ConfigError> {
    if s == "<secret>" {
        return Ok(());
    }
    check_url(s)
}

/// Global settings and defaults for integrations.
#[derive(Debug, Clone, PartialEq)]
pub struct GlobalConfig {
    /// Time after which an alert without `endsAt` is declared resolved (ms; default 5m).
    pub resolve_timeout_ms: i64,
    /// Default HTTP client settings (opaque).
    pub http_config: Option<Value>,
    /// Default sender address.
    pub smtp_from: String,
    /// Default SMTP hello name (default `localhost`).
    pub smtp_hello: String,
    /// Default SMTP server.
    pub smtp_smarthost: Option<HostPort>,
    /// Default SMTP user.
    pub smtp_auth_username: String,
    /// Default SMTP password.
    pub smtp_auth_password: String,
    /// Default SMTP password file.
    pub smtp_auth_password_file: String,
    /// Default SMTP CRAM-MD5 secret.
    pub smtp_auth_secret: String,
    /// Default SMTP identity.
    pub smtp_auth_identity: String,
    /// Default for requiring STARTTLS (default true).
    pub smtp_require_tls: bool,
    /// Default Slack webhook URL.
    pub slack_api_url: Option<String>,
    /// Default file holding the Slack webhook URL.
    pub slack_api_url_file: String,
    /// PagerDuty events URL (default `https://events.pagerduty.com/v2/enqueue`).
    pub pagerduty_url: Option<String>,
    /// OpsGenie API URL.
    pub opsgenie_api_url: Option<String>,
    /// OpsGenie API key.
    pub opsgenie_api_key: String,
    /// OpsGenie API key file.
    pub opsgenie_api_key_file: String,
    /// WeChat API URL.
    pub wechat_api_url: Option<String>,
    /// WeChat API secret.
    pub wechat_api_secret: String,
    /// WeChat corp id.
    pub wechat_api_corp_id: String,
    /// VictorOps API URL.
    pub victorops_api_url: Option<String>,
    /// VictorOps API key.
    pub victorops_api_key: String,
    /// VictorOps API key file.
    pub victorops_api_key_file: String,
    /// Telegram API URL.
    pub telegram_api_url: Option<String>,
    /// Webex API URL.
    pub webex_api_url: Option<String>,
    /// Settings added after Alertmanager 0.25 (kept, not interpreted), by field name.
    pub newer: BTreeMap<String, Value>,
}

impl Default for GlobalConfig {
    fn default() -> Self {
        let u = |s: &str| Some(s.to_string());
        GlobalConfig {
            resolve_timeout_ms: 5 * 60_000,
            http_config: None,
            smtp_from: String::new(),
            smtp_hello: "localhost".to_string(),
            smtp_smarthost: None,
            smtp_auth_username: String::new(),
            smtp_auth_password: String::new(),
            smtp_auth_password_file: String::new(),
            smtp_auth_secret: String::new(),
            smtp_auth_identity: String::new(),
            smtp_require_tls: true,
            slack_api_url: None,
            slack_api_url_file: String::new(),
            pagerduty_url: u("https://events.pagerduty.com/v2/enqueue"),
            opsgenie_api_url: u("https://api.opsgenie.com/"),
            opsgenie_api_key: String::new(),
            opsgenie_api_key_file: String::new(),
            wechat_api_url: u("https://qyapi.weixin.qq.com/cgi-bin/"),
            wechat_api_secret: String::new(),
            wechat_api_corp_id: String::new(),
            victorops_api_url: u(
                "https://alert.victorops.com/integrations/generic/20131114/alert/",
            ),
            victorops_api_key: String::new(),
            victorops_api_key_file: String::new(),
            telegram_api_url: u("https://api.telegram.org"),
            webex_api_url: u("https://webexapis.com/v1/messages"),
            newer: BTreeMap::new(),
        }
    }
}

/// One node of the routing tree as written in the file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Receiver name ("" = inherit).
    #[serde(default, deserialize_with = "de::string")]
    pub receiver: String,
    /// `group_by` as written (`...` = all labels).
    #[serde(default, deserialize_with = "de::string_list")]
    pub group_by: Vec<String>,
    /// Whether matching continues with the next sibling.
    #[serde(default, rename = "continue", deserialize_with = "de::boolean")]
    pub continue_: bool,
    /// Matchers, parsed and sorted as Alertmanager sorts them.
    #[serde(default, deserialize_with = "de::matchers")]
    pub matchers: Vec<Matcher>,
    /// Deprecated equality matchers.
    #[serde(default, rename = "match", deserialize_with = "de::string_map")]
    pub match_: BTreeMap<String, String>,
    /// Deprecated regex matchers (`None` = value missing, an error).
    #[serde(default, deserialize_with = "de::opt_string_map")]
    pub match_re: BTreeMap<String, Option<String>>,
    /// Group wait (ms).
    #[serde(default, deserialize_with = "de::opt_duration")]
    pub group_wait: Option<i64>,
    /// Group interval (ms).
    #[serde(default, deserialize_with = "de::opt_duration")]
    pub group_interval: Option<i64>,
    /// Repeat interval (ms).
    #[serde(default, deserialize_with = "de::opt_duration")]
    pub repeat_interval: Option<i64>,
    /// Names of time intervals during which notifications are muted.
    #[serde(default, deserialize_with = "de::string_list")]
    pub mute_time_intervals: Vec<String>,
    /// Names of time intervals outside of which notifications are muted.
    #[serde(default, deserialize_with = "de::string_list")]
    pub active_time_intervals: Vec<String>,
    /// Child routes.
    #[serde(default, deserialize_with = "de::vec")]
    pub routes: Vec<RouteConfig>,
}

impl RouteConfig {
    /// Whether `group_by` contains `...`.
    pub fn group_by_all(&self) -> bool {
        self.group_by.iter().any(|l| l == "...")
    }

    /// All matchers of the route: `match`, `match_re` and `matchers`, sorted as Alertmanager
    /// sorts them.
    pub fn all_matchers(&self) -> Result<Vec<Matcher>, ConfigError> {
        legacy_matchers(&self.match_, &self.match_re, &self.matchers)
    }
}

fn legacy_matchers(
    eq: &BTreeMap<String, String>,
    re: &BTreeMap<String, Option<String>>,
    matchers: &[Matcher],
) -> Result<Vec<Matcher>, ConfigError> {
    let mut out = Vec::with_capacity(eq.len() + re.len() + matchers.len());
    for (k, v) in eq {
        out.push(Matcher::new(MatchType::Equal, k, v).map_err(|e| invalid(e.to_string()))?);
    }
    for (k, v) in re {
        let v = v
            .as_deref()
            .ok_or_else(|| invalid(format!("invalid regexp value for {k:?}")))?;
        out.push(Matcher::new(MatchType::Regexp, k, v).map_err(|e| invalid(e.to_string()))?);
    }
    out.extend(matchers.iter().cloned());
    out.sort();
    Ok(out)
}

/// An inhibition rule as written in the file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InhibitRuleConfig {
    /// Optional name (newer Alertmanager versions; informational).
    #[serde(default, deserialize_with = "de::string")]
    pub name: String,
    /// Deprecated source equality matchers.
    #[serde(default, deserialize_with = "de::string_map")]
    pub source_match: BTreeMap<String, String>,
    /// Deprecated source regex matchers.
    #[serde(default, deserialize_with = "de::opt_string_map")]
    pub source_match_re: BTreeMap<String, Option<String>>,
    /// Source matchers.
    #[serde(default, deserialize_with = "de::matchers")]
    pub source_matchers: Vec<Matcher>,
    /// Deprecated target equality matchers.
    #[serde(default, deserialize_with = "de::string_map")]
    pub target_match: BTreeMap<String, String>,
    /// Deprecated target regex matchers.
    #[serde(default, deserialize_with = "de::opt_string_map")]
    pub target_match_re: BTreeMap<String, Option<String>>,
    /// Target matchers.
    #[serde(default, deserialize_with = "de::matchers")]
    pub target_matchers: Vec<Matcher>,
    /// Labels that must be equal between source and target.
    #[serde(default, deserialize_with = "de::string_list")]
    pub equal: Vec<String>,
}

impl InhibitRuleConfig {
    /// All source matchers (legacy and new), sorted.
    pub fn all_source_matchers(&self) -> Result<Vec<Matcher>, ConfigError> {
        legacy_matchers(
            &self.source_match,
            &self.source_match_re,
            &self.source_matchers,
        )
    }

    /// All target matchers (legacy and new), sorted.
    pub fn all_target_matchers(&self) -> Result<Vec<Matcher>, ConfigError> {
        legacy_matchers(
            &self.target_match,
            &self.target_match_re,
            &self.target_matchers,
        )
    }
}

/// A receiver: a name and its integrations.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receiver {
    /// Unique name.
    #[serde(default, deserialize_with = "de::string")]
    pub name: String,
    /// Webhook integrations.
    #[serde(default, deserialize_with = "de::vec")]
    pub webhook_configs: Vec<WebhookConfig>,
    /// Slack integrations.
    #[serde(default, deserialize_with = "de::vec")]
    pub slack_configs: Vec<SlackConfig>,
    /// PagerDuty integrations.
    #[serde(default, deserialize_with = "de::vec")]
    pub pagerduty_configs: Vec<PagerdutyConfig>,
    /// Email integrations.
    #[serde(default, deserialize_with = "de::vec")]
    pub email_configs: Vec<EmailConfig>,
    /// OpsGenie integrations (opaque).
    #[serde(default, deserialize_with = "de::vec")]
    pub opsgenie_configs: Vec<Value>,
    /// VictorOps integrations (opaque).
    #[serde(default, deserialize_with = "de::vec")]
    pub victorops_configs: Vec<Value>,
    /// Pushover integrations (opaque).
    #[serde(default, deserialize_with = "de::vec")]
    pub pushover_configs: Vec<Value>,
    /// SNS integrations (opaque).
    #[serde(default, deserialize_with = "de::vec")]
    pub sns_configs: Vec<Value>,
    /// Telegram integrations (opaque).
    #[serde(default, deserialize_with = "de::vec")]
    pub telegram_configs: Vec<Value>,
    /// WeChat integrations (opaque).
    #[serde(default, deserialize_with = "de::vec")]
    pub wechat_configs: Vec<Value>,
    /// Webex integrations (opaque).
    #[serde(default, deserialize_with = "de::vec")]
    pub webex_configs: Vec<Value>,
    /// Discord integrations (opaque).
    #[serde(default, deserialize_with = "de::vec")]
    pub discord_configs: Vec<Value>,
    /// Microsoft Teams integrations (opaque; Alertmanager 0.26+).
    #[serde(default, deserialize_with = "de::vec")]
    pub msteams_configs: Vec<Value>,
    /// Microsoft Teams v2 integrations (opaque; newer Alertmanager).
    #[serde(default, deserialize_with = "de::vec")]
    pub msteamsv2_configs: Vec<Value>,
    /// Jira integrations (opaque; newer Alertmanager).
    #[serde(default, deserialize_with = "de::vec")]
    pub jira_configs: Vec<Value>,
    /// Rocket.Chat integrations (opaque; newer Alertmanager).
    #[serde(default, deserialize_with = "de::vec")]
    pub rocketchat_configs: Vec<Value>,
}

impl Receiver {
    /// Number of integrations of any type.
    pub fn integration_count(&self) -> usize {
        self.webhook_configs.len()
            + self.slack_configs.len()
            + self.pagerduty_configs.len()
            + self.email_configs.len()
            + self.opsgenie_configs.len()
            + self.victorops_configs.len()
            + self.pushover_configs.len()
            + self.sns_configs.len()
            + self.telegram_configs.len()
            + self.wechat_configs.len()
            + self.webex_configs.len()
            + self.discord_configs.len()
            + self.msteams_configs.len()
            + self.msteamsv2_configs.len()
            + self.jira_configs.len()
            + self.rocketchat_configs.len()
    }
}

/// A webhook integration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// Whether resolved notifications are sent (default true).
    #[serde(deserialize_with = "de::boolean")]
    pub send_resolved: bool,
    /// HTTP client settings (opaque; the global one when absent).
    pub http_config: Option<Value>,
    /// Target URL.
    #[serde(deserialize_with = "de::opt_string")]
    pub url: Option<String>,
    /// File holding the target URL (Alertmanager 0.26+).
    #[serde(deserialize_with = "de::opt_string")]
    pub url_file: Option<String>,
    /// Maximum alerts per message (0 = unlimited).
    pub max_alerts: u64,
    /// Request timeout in ms (newer Alertmanager; 0 = none).
    #[serde(deserialize_with = "de::opt_duration")]
    pub timeout: Option<i64>,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            send_resolved: true,
            http_config: None,
            url: None,
            url_file: None,
            max_alerts: 0,
            timeout: None,
        }
    }
}

/// A field of a Slack attachment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlackField {
    /// Title (required).
    #[serde(deserialize_with = "de::string")]
    pub title: String,
    /// Value (required).
    #[serde(deserialize_with = "de::string")]
    pub value: String,
    /// Whether the field is short.
    #[serde(deserialize_with = "de::opt_boolean")]
    pub short: Option<bool>,
}

/// A Slack confirmation dialog.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlackConfirmationField {
    /// Text (required).
    #[serde(deserialize_with = "de::string")]
    pub text: String,
    /// Title.
    #[serde(deserialize_with = "de::string")]
    pub title: String,
    /// OK button text.
    #[serde(deserialize_with = "de::string")]
    pub ok_text: String,
    /// Dismiss button text.
    #[serde(deserialize_with = "de::string")]
    pub dismiss_text: String,
}

/// A Slack action (button).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlackAction {
    /// Action type (required).
    #[serde(rename = "type", deserialize_with = "de::string")]
    pub type_: String,
    /// Text (required).
    #[serde(deserialize_with = "de::string")]
    pub text: String,
    /// Link button URL.
    #[serde(deserialize_with = "de::string")]
    pub url: String,
    /// Style.
    #[serde(deserialize_with = "de::string")]
    pub style: String,
    /// Message action name.
    #[serde(deserialize_with = "de::string")]
    pub name: String,
    /// Message action value.
    #[serde(deserialize_with = "de::string")]
    pub value: String,
    /// Confirmation dialog.
    #[serde(rename = "confirm")]
    pub confirm: Option<SlackConfirmationField>,
}

/// A Slack integration. Text fields hold templates (Alertmanager's defaults when absent).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(missing_docs)]
pub struct SlackConfig {
    /// Whether resolved notifications are sent (default false).
    #[serde(deserialize_with = "de::boolean")]
    pub send_resolved: bool,
    /// HTTP client settings (opaque; the global one when absent).
    pub http_config: Option<Value>,
    /// Webhook URL (the global one when neither this nor `api_url_file` is set).
    #[serde(deserialize_with = "de::opt_string")]
    pub api_url: Option<String>,
    /// File holding the webhook URL.
    #[serde(deserialize_with = "de::string")]
    pub api_url_file: String,
    #[serde(deserialize_with = "de::string")]
    pub channel: String,
    #[serde(deserialize_with = "de::string")]
    pub username: String,
    #[serde(deserialize_with = "de::string")]
    pub color: String,
    #[serde(deserialize_with = "de::string")]
    pub title: String,
    #[serde(deserialize_with = "de::string")]
    pub title_link: String,
    #[serde(deserialize_with = "de::string")]
    pub pretext: String,
    #[serde(deserialize_with = "de::string")]
    pub text: String,
    #[serde(deserialize_with = "de::vec")]
    pub fields: Vec<SlackField>,
    #[serde(deserialize_with = "de::boolean")]
    pub short_fields: bool,
    #[serde(deserialize_with = "de::string")]
    pub footer: String,
    #[serde(deserialize_with = "de::string")]
    pub fallback: String,
    #[serde(deserialize_with = "de::string")]
    pub callback_id: String,
    #[serde(deserialize_with = "de::string")]
    pub icon_emoji: String,
    #[serde(deserialize_with = "de::string")]
    pub icon_url: String,
    #[serde(deserialize_with = "de::string")]
    pub image_url: String,
    #[serde(deserialize_with = "de::string")]
    pub thumb_url: String,
    #[serde(deserialize_with = "de::boolean")]
    pub link_names: bool,
    #[serde(deserialize_with = "de::string_list")]
    pub mrkdwn_in: Vec<String>,
    #[serde(deserialize_with = "de::vec")]
    pub actions: Vec<SlackAction>,
    /// Bot token (newer Alertmanager; kept, not interpreted).
    pub app_token: Option<Value>,
    /// Bot token file (newer Alertmanager; kept, not interpreted).
    pub app_token_file: Option<Value>,
    /// Bot API URL (newer Alertmanager; kept, not interpreted).
    pub app_url: Option<Value>,
    /// Message text (newer Alertmanager; kept, not interpreted).
    pub message_text: Option<Value>,
    /// Update messages in place (newer Alertmanager; kept, not interpreted).
    pub update_message: Option<Value>,
    /// Request timeout in ms (newer Alertmanager).
    #[serde(deserialize_with = "de::opt_duration")]
    pub timeout: Option<i64>,
}

impl Default for SlackConfig {
    fn default() -> Self {
        let t = |name: &str| format!("{{{{ template \"slack.default.{name}\" . }}}}");
        SlackConfig {
            send_resolved: false,
            http_config: None,
            api_url: None,
            api_url_file: String::new(),
            channel: String::new(),
            username: t("username"),
            color: r#"{{ if eq .Status "firing" }}danger{{ else }}good{{ end }}"#.to_string(),
            title: t("title"),
            title_link: t("titlelink"),
            pretext: t("pretext"),
            text: t("text"),
            fields: Vec::new(),
            short_fields: false,
            footer: t("footer"),
            fallback: t("fallback"),
            callback_id: t("callbackid"),
            icon_emoji: t("iconemoji"),
            icon_url: t("iconurl"),
            image_url: String::new(),
            thumb_url: String::new(),
            link_names: false,
            mrkdwn_in: Vec::new(),
            actions: Vec::new(),
            app_token: None,
            app_token_file: None,
            app_url: None,
            message_text: None,
            update_message: None,
            timeout: None,
        }
    }
}

/// A PagerDuty link.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PagerdutyLink {
    /// Target.
    #[serde(deserialize_with = "de::string")]
    pub href: String,
    /// Text.
    #[serde(deserialize_with = "de::string")]
    pub text: String,
}

/// A PagerDuty image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PagerdutyImage {
    /// Image source.
    #[serde(deserialize_with = "de::string")]
    pub src: String,
    /// Alt text.
    #[serde(deserialize_with = "de::string")]
    pub alt: String,
    /// Link.
    #[serde(deserialize_with = "de::string")]
    pub href: String,
}

/// A PagerDuty integration. Text fields hold templates (Alertmanager's defaults when absent).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(missing_docs)]
pub struct PagerdutyConfig {
    /// Whether resolved notifications are sent (default true).
    #[serde(deserialize_with = "de::boolean")]
    pub send_resolved: bool,
    /// HTTP client settings (opaque; the global one when absent).
    pub http_config: Option<Value>,
    /// Events API v1 service key.
    #[serde(deserialize_with = "de::string")]
    pub service_key: String,
    #[serde(deserialize_with = "de::string")]
    pub service_key_file: String,
    /// Events API v2 routing key.
    #[serde(deserialize_with = "de::string")]
    pub routing_key: String,
    #[serde(deserialize_with = "de::string")]
    pub routing_key_file: String,
    /// Events URL (the global `pagerduty_url` when absent).
    #[serde(deserialize_with = "de::opt_string")]
    pub url: Option<String>,
    #[serde(deserialize_with = "de::string")]
    pub client: String,
    #[serde(deserialize_with = "de::string")]
    pub client_url: String,
    #[serde(deserialize_with = "de::string")]
    pub description: String,
    /// Details (the four default entries are added unless overridden).
    #[serde(deserialize_with = "de::string_map")]
    pub details: BTreeMap<String, String>,
    #[serde(deserialize_with = "de::vec")]
    pub images: Vec<PagerdutyImage>,
    #[serde(deserialize_with = "de::vec")]
    pub links: Vec<PagerdutyLink>,
    /// Source (defaults to `client`).
    #[serde(deserialize_with = "de::string")]
    pub source: String,
    #[serde(deserialize_with = "de::string")]
    pub severity: String,
    #[serde(deserialize_with = "de::string")]
    pub class: String,
    #[serde(deserialize_with = "de::string")]
    pub component: String,
    #[serde(deserialize_with = "de::string")]
    pub group: String,
    /// Request timeout in ms (newer Alertmanager).
    #[serde(deserialize_with = "de::opt_duration")]
    pub timeout: Option<i64>,
}

impl Default for PagerdutyConfig {
    fn default() -> Self {
        PagerdutyConfig {
            send_resolved: true,
            http_config: None,
            service_key: String::new(),
            service_key_file: String::new(),
            routing_key: String::new(),
            routing_key_file: String::new(),
            url: None,
            client: r#"{{ template "pagerduty.default.client" . }}"#.to_string(),
            client_url: r#"{{ template "pagerduty.default.clientURL" . }}"#.to_string(),
            description: r#"{{ template "pagerduty.default.description" .}}"#.to_string(),
            details: BTreeMap::new(),
            images: Vec::new(),
            links: Vec::new(),
            source: String::new(),
            severity: String::new(),
            class: String::new(),
            component: String::new(),
            group: String::new(),
            timeout: None,
        }
    }
}

/// The details every PagerDuty integration gets unless it sets them itself.
pub const DEFAULT_PAGERDUTY_DETAILS: [(&str, &str); 4] = [
    (
        "firing",
        r#"{{ template "pagerduty.default.instances" .Alerts.Firing }}"#,
    ),
    (
        "resolved",
        r#"{{ template "pagerduty.default.instances" .Alerts.Resolved }}"#,
    ),
    ("num_firing", "{{ .Alerts.Firing | len }}"),
    ("num_resolved", "{{ .Alerts.Resolved | len }}"),
];

/// An email integration (global SMTP settings filled in).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[allow(missing_docs)]
pub struct EmailConfig {
    /// Whether resolved notifications are sent (default false).
    #[serde(deserialize_with = "de::boolean")]
    pub send_resolved: bool,
    /// Recipient(s) (required).
    #[serde(deserialize_with = "de::string")]
    pub to: String,
    #[serde(deserialize_with = "de::string")]
    pub from: String,
    #[serde(deserialize_with = "de::string")]
    pub hello: String,
    #[serde(deserialize_with = "de::host_port")]
    pub smarthost: Option<HostPort>,
    #[serde(deserialize_with = "de::string")]
    pub auth_username: String,
    #[serde(deserialize_with = "de::string")]
    pub auth_password: String,
    #[serde(deserialize_with = "de::string")]
    pub auth_password_file: String,
    #[serde(deserialize_with = "de::string")]
    pub auth_secret: String,
    /// Newer Alertmanager.
    #[serde(deserialize_with = "de::string")]
    pub auth_secret_file: String,
    #[serde(deserialize_with = "de::string")]
    pub auth_identity: String,
    /// Headers, keys canonicalised (`Subject`, `X-Foo`).
    #[serde(deserialize_with = "de::string_map")]
    pub headers: BTreeMap<String, String>,
    #[serde(deserialize_with = "de::string")]
    pub html: String,
    #[serde(deserialize_with = "de::string")]
    pub text: String,
    /// Whether STARTTLS is required (the global setting when absent).
    #[serde(deserialize_with = "de::opt_boolean")]
    pub require_tls: Option<bool>,
    /// TLS settings (opaque).
    pub tls_config: Option<Value>,
    /// Newer Alertmanager (kept, not interpreted).
    pub force_implicit_tls: Option<Value>,
    /// Newer Alertmanager (kept, not interpreted).
    pub threading: Option<Value>,
}

impl Default for EmailConfig {
    fn default() -> Self {
        EmailConfig {
            send_resolved: false,
            to: String::new(),
            from: String::new(),
            hello: String::new(),
            smarthost: None,
            auth_username: String::new(),
            auth_password: String::new(),
            auth_password_file: String::new(),
            auth_secret: String::new(),
            auth_secret_file: String::new(),
            auth_identity: String::new(),
            headers: BTreeMap::new(),
            html: r#"{{ template "email.default.html" . }}"#.to_string(),
            text: String::new(),
            require_tls: None,
            tls_config: None,
            force_implicit_tls: None,
            threading: None,
        }
    }
}

/// The default `Subject` header of an email.
pub const DEFAULT_EMAIL_SUBJECT: &str = r#"{{ template "email.default.subject" . }}"#;

/// Go's `textproto.CanonicalMIMEHeaderKey` for valid header names.
fn canonical_header_key(k: &str) -> String {
    let valid = !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !valid {
        return k.to_string();
    }
    let mut out = String::with_capacity(k.len());
    let mut upper = true;
    for c in k.chars() {
        out.push(if upper {
            c.to_ascii_uppercase()
        } else {
            c.to_ascii_lowercase()
        });
        upper = c == '-';
    }
    out
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGlobal {
    #[serde(default, deserialize_with = "de::opt_duration")]
    resolve_timeout: Option<i64>,
    #[serde(default)]
    http_config: Option<Value>,
    #[serde(default, deserialize_with = "de::opt_string")]
    smtp_from: Option<String>,
    #[serde(default, deserialize_with = "de::opt_string")]
    smtp_hello: Option<String>,
    #[serde(default, deserialize_with = "de::host_port")]
    smtp_smarthost: Option<HostPort>,
    #[serde(default, deserialize_with = "de::opt_string")]
    smtp_auth_username: Option<String>,
    #[serde(default, deserialize_with = "de::opt_string")]
    smtp_auth_password: Option<String>,
    #[serde(default, deserialize_with = "de::opt_string")]
    smtp_auth_password_file: Option<String>,
    #[serde(default, deserialize_with = "de::opt_string")]
    smtp_auth_secret: Option<String>,
    #[serde(default, deserialize_with = "de::opt_string")]
    smtp_auth_identity: Option<String>,
    #[serde(default, deserialize_with = "de::opt_boolean")]
    smtp_require_tls: Option<bool>,
    #[serde(default, deserialize_with = "de::opt_string")]
    slack_api_url: Option<String>,
    #[serde(default, deserialize_with = "de::opt_string")]
    slack_api_url_file: Option<String>,
    #[serde(default, deserialize_with = "de::opt_string")]
    pagerduty_url: Option<String>,
    #[serde(default, deserialize_with = "de::opt_string")]
    opsgenie_api_url: Option<String>,
    #[serde(default, deserialize_with = "de::opt_string")]
    opsgenie_api_key: Option<String>,
    #[serde(default, deserialize_with = "de::opt_string")]
    opsgenie_api_key_file: Option<String>,
    #[serde(default, deserialize_with = "de::opt_string")]
    wechat_api_url: Option<String>,
    #[serde(default, deserialize_with = "de::opt_string")]
    wechat_api_secret: Option<String>,
    #[serde(default, deserialize_with = "de::opt_string")]
    wechat_api_corp_id: Option<String>,
    #[serde(default, deserialize_with = "de::opt_string")]
    victorops_api_url: Option<String>,
    #[serde(default, deserialize_with = "de::opt_string")]
    victorops_api_key: Option<String>,
    #[serde(default, deserialize_with = "de::opt_string")]
    victorops_api_key_file: Option<String>,
    #[serde(default, deserialize_with = "de::opt_string")]
    telegram_api_url: Option<String>,
    #[serde(default, deserialize_with = "de::opt_string")]
    webex_api_url: Option<String>,
    // Settings of newer Alertmanager versions, accepted and kept.
    #[serde(default)]
    jira_api_url: Option<Value>,
    #[serde(default)]
    smtp_auth_secret_file: Option<Value>,
    #[serde(default)]
    smtp_tls_config: Option<Value>,
    #[serde(default)]
    smtp_force_implicit_tls: Option<Value>,
    #[serde(default)]
    slack_app_token: Option<Value>,
    #[serde(default)]
    slack_app_token_file: Option<Value>,
    #[serde(default)]
    slack_app_url: Option<Value>,
    #[serde(default)]
    wechat_api_secret_file: Option<Value>,
    #[serde(default)]
    telegram_bot_token: Option<Value>,
    #[serde(default)]
    telegram_bot_token_file: Option<Value>,
    #[serde(default)]
    rocketchat_api_url: Option<Value>,
    #[serde(default)]
    rocketchat_token: Option<Value>,
    #[serde(default)]
    rocketchat_token_file: Option<Value>,
    #[serde(default)]
    rocketchat_token_id: Option<Value>,
    #[serde(default)]
    rocketchat_token_id_file: Option<Value>,
}

impl RawGlobal {
    fn into_global(self) -> GlobalConfig {
        let d = GlobalConfig::default();
        let mut newer = BTreeMap::new();
        for (k, v) in [
            ("jira_api_url", self.jira_api_url),
            ("smtp_auth_secret_file", self.smtp_auth_secret_file),
            ("smtp_tls_config", self.smtp_tls_config),
            ("smtp_force_implicit_tls", self.smtp_force_implicit_tls),
            ("slack_app_token", self.slack_app_token),
            ("slack_app_token_file", self.slack_app_token_file),
            ("slack_app_url", self.slack_app_url),
            ("wechat_api_secret_file", self.wechat_api_secret_file),
            ("telegram_bot_token", self.telegram_bot_token),
            ("telegram_bot_token_file", self.telegram_bot_token_file),
            ("rocketchat_api_url", self.rocketchat_api_url),
            ("rocketchat_token", self.rocketchat_token),
            ("rocketchat_token_file", self.rocketchat_token_file),
            ("rocketchat_token_id", self.rocketchat_token_id),
            ("rocketchat_token_id_file", self.rocketchat_token_id_file),
        ] {
            if let Some(v) = v {
                newer.insert(k.to_string(), v);
            }
        }
        GlobalConfig {
            resolve_timeout_ms: self.resolve_timeout.unwrap_or(d.resolve_timeout_ms),
            http_config: self.http_config,
            smtp_from: self.smtp_from.unwrap_or(d.smtp_from),
            smtp_hello: self.smtp_hello.unwrap_or(d.smtp_hello),
            smtp_smarthost: self.smtp_smarthost,
            smtp_auth_username: self.smtp_auth_username.unwrap_or_default(),
            smtp_auth_password: self.smtp_auth_password.unwrap_or_default(),
            smtp_auth_password_file: self.smtp_auth_password_file.unwrap_or_default(),
            smtp_auth_secret: self.smtp_auth_secret.unwrap_or_default(),
            smtp_auth_identity: self.smtp_auth_identity.unwrap_or_default(),
            smtp_require_tls: self.smtp_require_tls.unwrap_or(d.smtp_require_tls),
            slack_api_url: self.slack_api_url,
            slack_api_url_file: self.slack_api_url_file.unwrap_or_default(),
            pagerduty_url: self.pagerduty_url.or(d.pagerduty_url),
            opsgenie_api_url: self.opsgenie_api_url.or(d.opsgenie_api_url),
            opsgenie_api_key: self.opsgenie_api_key.unwrap_or_default(),
            opsgenie_api_key_file: self.opsgenie_api_key_file.unwrap_or_default(),
            wechat_api_url: self.wechat_api_url.or(d.wechat_api_url),
            wechat_api_secret: self.wechat_api_secret.unwrap_or_default(),
            wechat_api_corp_id: self.wechat_api_corp_id.unwrap_or_default(),
            victorops_api_url: self.victorops_api_url.or(d.victorops_api_url),
            victorops_api_key: self.victorops_api_key.unwrap_or_default(),
            victorops_api_key_file: self.victorops_api_key_file.unwrap_or_default(),
            telegram_api_url: self.telegram_api_url.or(d.telegram_api_url),
            webex_api_url: self.webex_api_url.or(d.webex_api_url),
            newer,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    global: Option<RawGlobal>,
    #[serde(default)]
    route: Option<RouteConfig>,
    #[serde(default, deserialize_with = "de::vec")]
    inhibit_rules: Vec<InhibitRuleConfig>,
    #[serde(default, deserialize_with = "de::vec")]
    receivers: Vec<Receiver>,
    #[serde(default, deserialize_with = "de::string_list")]
    templates: Vec<String>,
    #[serde(default, deserialize_with = "de::vec")]
    mute_time_intervals: Vec<NamedTimeInterval>,
    #[serde(default, deserialize_with = "de::vec")]
    time_intervals: Vec<NamedTimeInterval>,
}

/// Parses and validates an Alertmanager configuration file.
pub fn parse_config(text: &str) -> Result<Config, ConfigError> {
    // An empty document (only whitespace or comments) has no route.
    let doc: Value = serde_yaml_ng::from_str(text).map_err(|e| ConfigError::Yaml(e.to_string()))?;
    if doc.is_null() {
        return Err(invalid("no route provided in config"));
    }
    let raw: RawConfig =
        serde_yaml_ng::from_str(text).map_err(|e| ConfigError::Yaml(e.to_string()))?;

    let global = raw.global.map(RawGlobal::into_global).unwrap_or_default();

    // Checks Alertmanager makes while decoding the individual sections.
    validate_global_urls(&global)?;
    if let Some(route) = &raw.route {
        validate_route_fields(route)?;
    }
    for rule in &raw.inhibit_rules {
        validate_inhibit_rule(rule)?;
    }
    for r in &raw.receivers {
        validate_receiver_fields(r)?;
    }
    for t in &raw.mute_time_intervals {
        if t.name.is_empty() {
            return Err(invalid("missing name in mute time interval"));
        }
    }
    for t in &raw.time_intervals {
        if t.name.is_empty() {
            return Err(invalid("missing name in time interval"));
        }
    }

    // Config-level checks, in Alertmanager's order.
    if global.slack_api_url.is_some() && !global.slack_api_url_file.is_empty() {
        return Err(invalid(
            "at most one of slack_api_url & slack_api_url_file must be configured",
        ));
    }
    if !global.opsgenie_api_key.is_empty() && !global.opsgenie_api_key_file.is_empty() {
        return Err(invalid(
            "at most one of opsgenie_api_key & opsgenie_api_key_file must be configured",
        ));
    }
    if !global.victorops_api_key.is_empty() && !global.victorops_api_key_file.is_empty() {
        return Err(invalid(
            "at most one of victorops_api_key & victorops_api_key_file must be configured",
        ));
    }
    if !global.smtp_auth_password.is_empty() && !global.smtp_auth_password_file.is_empty() {
        return Err(invalid(
            "at most one of smtp_auth_password & smtp_auth_password_file must be configured",
        ));
    }

    let mut receivers = raw.receivers;
    let mut names: HashSet<String> = HashSet::new();
    for rcv in &mut receivers {
        if names.contains(&rcv.name) {
            return Err(invalid(format!(
                "notification config name {:?} is not unique",
                rcv.name
            )));
        }
        apply_global_defaults(rcv, &global)?;
        names.insert(rcv.name.clone());
    }

    let route = raw.route.ok_or_else(|| invalid("no routes provided"))?;
    if route.receiver.is_empty() {
        return Err(invalid("root route must specify a default receiver"));
    }
    if !route.match_.is_empty() || !route.match_re.is_empty() || !route.matchers.is_empty() {
        return Err(invalid("root route must not have any matchers"));
    }
    if !route.mute_time_intervals.is_empty() {
        return Err(invalid("root route must not have any mute time intervals"));
    }
    if !route.active_time_intervals.is_empty() {
        return Err(invalid(
            "root route must not have any active time intervals",
        ));
    }
    check_receivers(&route, &names)?;

    let mut ti_names: HashSet<&str> = HashSet::new();
    for t in &raw.mute_time_intervals {
        if !ti_names.insert(&t.name) {
            return Err(invalid(format!(
                "mute time interval {:?} is not unique",
                t.name
            )));
        }
    }
    for t in &raw.time_intervals {
        if !ti_names.insert(&t.name) {
            return Err(invalid(format!("time interval {:?} is not unique", t.name)));
        }
    }
    check_time_intervals(&route, &ti_names)?;

    // Checked by Alertmanager's `Load` after decoding.
    if route.continue_ {
        return Err(invalid("cannot have continue in root route"));
    }

    Ok(Config {
        global,
        route,
        inhibit_rules: raw.inhibit_rules,
        receivers,
        templates: raw.templates,
        mute_time_intervals: raw.mute_time_intervals,
        time_intervals: raw.time_intervals,
        original: text.to_string(),
    })
}

fn validate_global_urls(g: &GlobalConfig) -> Result<(), ConfigError> {
    if let Some(u) = &g.slack_api_url {
        check_secret_url(u)?;
    }
    for u in [
        &g.pagerduty_url,
        &g.opsgenie_api_url,
        &g.wechat_api_url,
        &g.victorops_api_url,
        &g.telegram_api_url,
        &g.webex_api_url,
    ]
    .into_iter()
    .flatten()
    {
        check_url(u)?;
    }
    Ok(())
}

fn is_label_name(s: &str) -> bool {
    architect_model::labels::is_legacy_label_name(s)
}

fn validate_match_maps(
    eq: &BTreeMap<String, String>,
    re: &BTreeMap<String, Option<String>>,
) -> Result<(), ConfigError> {
    for k in eq.keys() {
        if !is_label_name(k) {
            return Err(invalid(format!("invalid label name {k:?}")));
        }
    }
    for (k, v) in re {
        if !is_label_name(k) {
            return Err(invalid(format!("invalid label name {k:?}")));
        }
        let v = v
            .as_deref()
            .ok_or_else(|| invalid(format!("invalid regexp value for {k:?}")))?;
        compile_anchored(v).map_err(|e| invalid(e.to_string()))?;
    }
    Ok(())
}

fn validate_route_fields(r: &RouteConfig) -> Result<(), ConfigError> {
    validate_match_maps(&r.match_, &r.match_re)?;
    let mut all = false;
    let mut seen: HashSet<&str> = HashSet::new();
    let mut labels = Vec::new();
    for l in &r.group_by {
        if l == "..." {
            all = true;
        } else {
            if !is_label_name(l) {
                return Err(invalid(format!(
                    "invalid label name {l:?} in group_by list"
                )));
            }
            labels.push(l.as_str());
        }
    }
    if all && !labels.is_empty() {
        return Err(invalid(
            "cannot have wildcard group_by (`...`) and other other labels at the same time",
        ));
    }
    for l in labels {
        if !seen.insert(l) {
            return Err(invalid(format!("duplicated label {l:?} in group_by")));
        }
    }
    if r.group_interval == Some(0) {
        return Err(invalid("group_interval cannot be zero"));
    }
    if r.repeat_interval == Some(0) {
        return Err(invalid("repeat_interval cannot be zero"));
    }
    for child in &r.routes {
        validate_route_fields(child)?;
    }
    Ok(())
}

fn validate_inhibit_rule(r: &InhibitRuleConfig) -> Result<(), ConfigError> {
    validate_match_maps(&r.source_match, &r.source_match_re)?;
    validate_match_maps(&r.target_match, &r.target_match_re)?;
    for l in &r.equal {
        if !is_label_name(l) {
            return Err(invalid(format!("{l:?} is not a valid label name")));
        }
    }
    Ok(())
}

/// Mapping lookup of a string-ish setting of an opaque integration.
fn opaque_str<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v.get(key) {
        Some(Value::Null) | None => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(x) => Some(x),
    }
}

fn validate_receiver_fields(r: &Receiver) -> Result<(), ConfigError> {
    if r.name.is_empty() {
        return Err(invalid("missing name in receiver"));
    }
    for w in &r.webhook_configs {
        match (&w.url, &w.url_file) {
            (Some(u), None) => {
                check_url(u)?;
            }
            (None, Some(_)) => {}
            (Some(_), Some(_)) => {
                return Err(invalid("at most one of url & url_file must be configured"));
            }
            (None, None) => return Err(invalid("missing URL in webhook config")),
        }
    }
    for s in &r.slack_configs {
        if let Some(u) = &s.api_url {
            check_secret_url(u)?;
        }
        if s.api_url.is_some() && !s.api_url_file.is_empty() {
            return Err(invalid(
                "at most one of api_url & api_url_file must be configured",
            ));
        }
        for f in &s.fields {
            if f.title.is_empty() {
                return Err(invalid("missing title in Slack field configuration"));
            }
            if f.value.is_empty() {
                return Err(invalid("missing value in Slack field configuration"));
            }
        }
        for a in &s.actions {
            if a.type_.is_empty() {
                return Err(invalid("missing type in Slack action configuration"));
            }
            if a.text.is_empty() {
                return Err(invalid("missing text in Slack action configuration"));
            }
            if a.url.is_empty() && a.name.is_empty() {
                return Err(invalid("missing name or url in Slack action configuration"));
            }
            if let Some(c) = &a.confirm
                && c.text.is_empty()
            {
                return Err(invalid("missing text in Slack confirmation configuration"));
            }
        }
    }
    for p in &r.pagerduty_configs {
        if let Some(u) = &p.url {
            check_url(u)?;
        }
        if p.routing_key.is_empty()
            && p.service_key.is_empty()
            && p.routing_key_file.is_empty()
            && p.service_key_file.is_empty()
        {
            return Err(invalid(
                "missing service or routing key in PagerDuty config",
            ));
        }
        if !p.routing_key.is_empty() && !p.routing_key_file.is_empty() {
            return Err(invalid(
                "at most one of routing_key & routing_key_file must be configured",
            ));
        }
        if !p.service_key.is_empty() && !p.service_key_file.is_empty() {
            return Err(invalid(
                "at most one of service_key & service_key_file must be configured",
            ));
        }
    }
    for e in &r.email_configs {
        if e.to.is_empty() {
            return Err(invalid("missing to address in email config"));
        }
        let mut seen = HashSet::new();
        for k in e.headers.keys() {
            let c = canonical_header_key(k);
            if !seen.insert(c.clone()) {
                return Err(invalid(format!("duplicate header {c:?} in email config")));
            }
        }
    }
    for v in &r.opsgenie_configs {
        if opaque_str(v, "api_key").is_some() && opaque_str(v, "api_key_file").is_some() {
            return Err(invalid(
                "at most one of api_key & api_key_file must be configured",
            ));
        }
    }
    for v in &r.victorops_configs {
        if opaque_str(v, "routing_key").is_none() {
            return Err(invalid("missing Routing key in VictorOps config"));
        }
        if opaque_str(v, "api_key").is_some() && opaque_str(v, "api_key_file").is_some() {
            return Err(invalid(
                "at most one of api_key & api_key_file must be configured",
            ));
        }
    }
    for v in &r.pushover_configs {
        if opaque_str(v, "user_key").is_none() && opaque_str(v, "user_key_file").is_none() {
            return Err(invalid("missing user key in Pushover config"));
        }
        if opaque_str(v, "token").is_none() && opaque_str(v, "token_file").is_none() {
            return Err(invalid("missing token in Pushover config"));
        }
    }
    for v in &r.sns_configs {
        if opaque_str(v, "target_arn").is_none()
            && opaque_str(v, "topic_arn").is_none()
            && opaque_str(v, "phone_number").is_none()
        {
            return Err(invalid(
                "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config",
            ));
        }
    }
    for v in &r.telegram_configs {
        if opaque_str(v, "bot_token").is_none() && opaque_str(v, "bot_token_file").is_none() {
            return Err(invalid("missing bot_token on telegram_config"));
        }
        if opaque_str(v, "chat_id").is_none() {
            return Err(invalid("missing chat_id on telegram_config"));
        }
    }
    for v in &r.webex_configs {
        if opaque_str(v, "room_id").is_none() {
            return Err(invalid("missing room_id on webex_config"));
        }
        let has_auth = v
            .get("http_config")
            .and_then(|h| opaque_str(h, "authorization"))
            .is_some();
        if !has_auth {
            return Err(invalid("missing webex_configs.http_config.authorization"));
        }
    }
    Ok(())
}

/// Fills global settings into a receiver's integrations, as Alertmanager does, failing when
/// a required global setting is missing.
fn apply_global_defaults(rcv: &mut Receiver, g: &GlobalConfig) -> Result<(), ConfigError> {
    for w in &mut rcv.webhook_configs {
        if w.http_config.is_none() {
            w.http_config.clone_from(&g.http_config);
        }
    }
    for ec in &mut rcv.email_configs {
        if ec.smarthost.is_none() {
            match &g.smtp_smarthost {
                Some(h) => ec.smarthost = Some(h.clone()),
                None => return Err(invalid("no global SMTP smarthost set")),
            }
        }
        if ec.from.is_empty() {
            if g.smtp_from.is_empty() {
                return Err(invalid("no global SMTP from set"));
            }
            ec.from.clone_from(&g.smtp_from);
        }
        if ec.hello.is_empty() {
            ec.hello.clone_from(&g.smtp_hello);
        }
        if ec.auth_username.is_empty() {
            ec.auth_username.clone_from(&g.smtp_auth_username);
        }
        if ec.auth_password.is_empty() && ec.auth_password_file.is_empty() {
            ec.auth_password.clone_from(&g.smtp_auth_password);
            ec.auth_password_file.clone_from(&g.smtp_auth_password_file);
        }
        if ec.auth_secret.is_empty() {
            ec.auth_secret.clone_from(&g.smtp_auth_secret);
        }
        if ec.auth_identity.is_empty() {
            ec.auth_identity.clone_from(&g.smtp_auth_identity);
        }
        if ec.require_tls.is_none() {
            ec.require_tls = Some(g.smtp_require_tls);
        }
        let headers = std::mem::take(&mut ec.headers);
        ec.headers = headers
            .into_iter()
            .map(|(k, v)| (canonical_header_key(&k), v))
            .collect();
    }
    for sc in &mut rcv.slack_configs {
        if sc.http_config.is_none() {
            sc.http_config.clone_from(&g.http_config);
        }
        if sc.api_url.is_none() && sc.api_url_file.is_empty() {
            if g.slack_api_url.is_none() && g.slack_api_url_file.is_empty() {
                return Err(invalid(
                    "no global Slack API URL set either inline or in a file",
                ));
            }
            sc.api_url.clone_from(&g.slack_api_url);
            sc.api_url_file.clone_from(&g.slack_api_url_file);
        }
    }
    for pd in &mut rcv.pagerduty_configs {
        if pd.http_config.is_none() {
            pd.http_config.clone_from(&g.http_config);
        }
        if pd.url.is_none() {
            match &g.pagerduty_url {
                Some(u) => pd.url = Some(u.clone()),
                None => return Err(invalid("no global PagerDuty URL set")),
            }
        }
        if pd.source.is_empty() {
            pd.source.clone_from(&pd.client);
        }
        for (k, v) in DEFAULT_PAGERDUTY_DETAILS {
            pd.details
                .entry(k.to_string())
                .or_insert_with(|| v.to_string());
        }
    }
    for v in &rcv.opsgenie_configs {
        if opaque_str(v, "api_url").is_none() && g.opsgenie_api_url.is_none() {
            return Err(invalid("no global OpsGenie URL set"));
        }
        if opaque_str(v, "api_key").is_none()
            && opaque_str(v, "api_key_file").is_none()
            && g.opsgenie_api_key.is_empty()
            && g.opsgenie_api_key_file.is_empty()
        {
            return Err(invalid(
                "no global OpsGenie API Key set either inline or in a file",
            ));
        }
    }
    for v in &rcv.wechat_configs {
        if opaque_str(v, "api_url").is_none() && g.wechat_api_url.is_none() {
            return Err(invalid("no global Wechat URL set"));
        }
        if opaque_str(v, "api_secret").is_none() && g.wechat_api_secret.is_empty() {
            return Err(invalid("no global Wechat ApiSecret set"));
        }
        if opaque_str(v, "corp_id").is_none() && g.wechat_api_corp_id.is_empty() {
            return Err(invalid("no global Wechat CorpID set"));
        }
    }
    for v in &rcv.victorops_configs {
        if opaque_str(v, "api_url").is_none() && g.victorops_api_url.is_none() {
            return Err(invalid("no global VictorOps URL set"));
        }
        if opaque_str(v, "api_key").is_none()
            && opaque_str(v, "api_key_file").is_none()
            && g.victorops_api_key.is_empty()
            && g.victorops_api_key_file.is_empty()
        {
            return Err(invalid("no global VictorOps API Key set"));
        }
    }
    for v in &rcv.discord_configs {
        if opaque_str(v, "webhook_url").is_none() && opaque_str(v, "webhook_url_file").is_none() {
            return Err(invalid("no discord webhook URL provided"));
        }
    }
    for v in &rcv.webex_configs {
        if opaque_str(v, "api_url").is_none() && g.webex_api_url.is_none() {
            return Err(invalid("no global Webex URL set"));
        }
    }
    Ok(())
}

fn check_receivers(r: &RouteConfig, names: &HashSet<String>) -> Result<(), ConfigError> {
    for child in &r.routes {
        check_receivers(child, names)?;
    }
    if !r.receiver.is_empty() && !names.contains(&r.receiver) {
        return Err(invalid(format!(
            "undefined receiver {:?} used in route",
            r.receiver
        )));
    }
    Ok(())
}

fn check_time_intervals(r: &RouteConfig, names: &HashSet<&str>) -> Result<(), ConfigError> {
    for child in &r.routes {
        check_time_intervals(child, names)?;
    }
    for t in r
        .active_time_intervals
        .iter()
        .chain(r.mute_time_intervals.iter())
    {
        if !names.contains(t.as_str()) {
            return Err(invalid(format!(
                "undefined time interval {t:?} used in route"
            )));
        }
    }
    Ok(())
}

/// Lenient deserializers matching Go's `yaml.v2` leniency: scalars of any type where strings
/// are expected, `null` as the empty value, YAML 1.1 booleans (`yes`/`no`/`on`/`off`).
pub(crate) mod de {
    use std::collections::BTreeMap;
    use std::fmt;

    use serde::de::{self, Deserialize, Deserializer, Visitor};

    use super::HostPort;
    use crate::matchers::{Matcher, parse_matchers};

    /// A scalar read as text (or `None` for null).
    struct Scalar(Option<String>);

    struct ScalarVisitor;

    impl<'de> Visitor<'de> for ScalarVisitor {
        type Value = Scalar;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
            Ok(Scalar(Some(v.to_string())))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
            Ok(Scalar(Some(v)))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
            Ok(Scalar(Some(v.to_string())))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
            Ok(Scalar(Some(v.to_string())))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
            Ok(Scalar(Some(v.to_string())))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
            Ok(Scalar(Some(v.to_string())))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
            Ok(Scalar(None))
        }
        fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
            Ok(Scalar(None))
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
            d.deserialize_any(ScalarVisitor)
        }
    }

    impl<'de> Deserialize<'de> for Scalar {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(ScalarVisitor)
        }
    }

    pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(Scalar::deserialize(d)?.0)
    }

    pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        Ok(Scalar::deserialize(d)?.0.unwrap_or_default())
    }

    pub(crate) fn opt_string_list<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Vec<String>>, D::Error> {
        let v: Option<Vec<Scalar>> = Option::deserialize(d)?;
        Ok(v.map(|items| items.into_iter().map(|s| s.0.unwrap_or_default()).collect()))
    }

    pub(crate) fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        Ok(opt_string_list(d)?.unwrap_or_default())
    }

    pub(crate) fn vec<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Vec<T>, D::Error> {
        Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
    }

    pub(crate) fn opt_string_map<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, Option<String>>, D::Error> {
        let m: Option<BTreeMap<String, Scalar>> = Option::deserialize(d)?;
        Ok(m.unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect())
    }

    pub(crate) fn string_map<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, String>, D::Error> {
        Ok(opt_string_map(d)?
            .into_iter()
            .map(|(k, v)| (k, v.unwrap_or_default()))
            .collect())
    }

    fn parse_bool(s: &str) -> Option<bool> {
        match s {
            "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => {
                Some(true)
            }
            "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n"
            | "N" => Some(false),
            _ => None,
        }
    }

    pub(crate) fn opt_boolean<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        match Scalar::deserialize(d)?.0 {
            None => Ok(None),
            Some(s) => parse_bool(&s)
                .map(Some)
                .ok_or_else(|| de::Error::custom(format!("cannot unmarshal {s:?} into bool"))),
        }
    }

    pub(crate) fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        Ok(opt_boolean(d)?.unwrap_or(false))
    }

    pub(crate) fn opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        match Scalar::deserialize(d)?.0 {
            None => Ok(None),
            Some(s) => architect_model::duration::parse_duration(&s)
                .map(Some)
                .map_err(de::Error::custom),
        }
    }

    pub(crate) fn host_port<'de, D: Deserializer<'de>>(d: D) -> Result<Option<HostPort>, D::Error> {
        match Scalar::deserialize(d)?.0 {
            None => Ok(None),
            Some(s) if s.is_empty() => Ok(None),
            Some(s) => HostPort::parse(&s).map(Some).map_err(de::Error::custom),
        }
    }

    pub(crate) fn matchers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Matcher>, D::Error> {
        let mut out = Vec::new();
        for line in string_list(d)? {
            out.extend(parse_matchers(&line).map_err(de::Error::custom)?);
        }
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn err(s: &str) -> String {
        parse_config(s).unwrap_err().to_string()
    }

    #[test]
    fn fallback_is_valid() {
        let c = Config::default_fallback();
        assert_eq!(c.route.receiver, "empty-receiver");
        assert_eq!(c.receivers.len(), 1);
        assert_eq!(c.receivers[0].integration_count(), 0);
        assert!(parse_config(FALLBACK_CONFIG).is_ok());
    }

    #[test]
    fn host_port() {
        assert_eq!(
            HostPort::parse("localhost:25").unwrap(),
            HostPort {
                host: "localhost".into(),
                port: "25".into()
            }
        );
        assert_eq!(HostPort::parse(":25").unwrap().to_string(), ":25");
        assert_eq!(HostPort::parse("[::1]:25").unwrap().host, "::1");
        assert!(HostPort::parse("localhost").is_err());
        assert!(HostPort::parse("localhost:").is_err());
        assert!(HostPort::parse("a:b:25").is_err());
    }

    #[test]
    fn urls() {
        assert!(validate_url("http://example.com/a b").is_ok());
        assert!(validate_url("https://user:pw@example.com").is_ok());
        for bad in [
            "://example.com",
            "http:example.com",
            "telnet://example.com",
            "/home",
            "",
        ] {
            assert!(validate_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn header_keys() {
        assert_eq!(canonical_header_key("subject"), "Subject");
        assert_eq!(canonical_header_key("x-FOO-bar"), "X-Foo-Bar");
        assert_eq!(
            err(
                "route: {receiver: a}\nreceivers:\n- name: a\n  email_configs:\n  - to: x\n    smarthost: h:25\n    from: f\n    headers: {subject: a, Subject: b}\n"
            ),
            "duplicate header \"Subject\" in email config"
        );
    }

    #[test]
    fn lenient_scalars() {
        let c = parse_config(
            "route:\n  receiver: a\n  routes:\n  - match: {code: 500}\n    continue: yes\nreceivers:\n- name: a\n  webhook_configs:\n  - url: http://x/\n    send_resolved: no\n",
        )
        .unwrap();
        assert_eq!(
            c.route.routes[0].match_.get("code").map(String::as_str),
            Some("500")
        );
        assert!(c.route.routes[0].continue_);
        assert!(!c.receivers[0].webhook_configs[0].send_resolved);
    }
}
