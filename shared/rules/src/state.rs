//! What a rule group remembers between evaluations: the last evaluation timestamp, each rule's
//! health and output series (for staleness markers), and each alert's lifecycle (pending since,
//! fired at, resolved at, last sent, keep firing since).
//!
//! Every evaluation may run in a fresh process (a cold Lambda), so this state is loaded from
//! and saved to the index around each run; see [`crate::store`].

use architect_model::{Label, Labels};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A rule's health, as `/api/v1/rules` reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    /// Not evaluated yet.
    #[default]
    Unknown,
    /// Last evaluation succeeded.
    Ok,
    /// Last evaluation failed.
    Err,
}

impl Health {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unknown => "unknown",
            Health::Ok => "ok",
            Health::Err => "err",
        }
    }
}

/// An alert's state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertStateKind {
    /// Resolved, kept for the resolved retention so the resolution is re-sent.
    #[default]
    Inactive,
    /// Condition true for less than `for`.
    Pending,
    /// Firing.
    Firing,
}

impl AlertStateKind {
    /// Prometheus's spelling (`alertstate` label, API `state`).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStateKind::Inactive => "inactive",
            AlertStateKind::Pending => "pending",
            AlertStateKind::Firing => "firing",
        }
    }
}

/// One alert of an alerting rule. Times are ms; 0 means unset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Identifying labels (`alertname` included).
    #[serde(with = "labels_serde")]
    pub labels: Labels,
    /// Expanded annotations.
    #[serde(with = "labels_serde")]
    pub annotations: Labels,
    /// State.
    pub state: AlertStateKind,
    /// The expression's value at the last evaluation.
    #[serde(with = "f64_text")]
    pub value: f64,
    /// When the condition first held.
    pub active_at: i64,
    /// When it started firing.
    #[serde(default)]
    pub fired_at: i64,
    /// When it resolved.
    #[serde(default)]
    pub resolved_at: i64,
    /// When it was last sent to the notifier.
    #[serde(default)]
    pub last_sent_at: i64,
    /// `EndsAt` of the last send.
    #[serde(default)]
    pub valid_until: i64,
    /// Since when it keeps firing although the condition cleared.
    #[serde(default)]
    pub keep_firing_since: i64,
}

/// One rule's state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleState {
    /// [`crate::Rule::state_key`] of the rule this belongs to.
    pub key: String,
    /// Health of the last evaluation.
    pub health: Health,
    /// Error of the last evaluation ("" when healthy).
    #[serde(default)]
    pub last_error: String,
    /// Wall-clock time the last evaluation started, ms.
    #[serde(default)]
    pub last_eval_wall_ms: i64,
    /// How long it took, seconds.
    #[serde(default)]
    pub eval_seconds: f64,
    /// Series written by the last evaluation (they get staleness markers when they vanish).
    #[serde(default, with = "labels_list_serde")]
    pub prev_series: Vec<Labels>,
    /// Alerts of an alerting rule.
    #[serde(default)]
    pub alerts: Vec<Alert>,
}

/// One group's state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupState {
    /// Evaluation timestamp of the last completed evaluation, ms.
    #[serde(default)]
    pub last_eval_ts: Option<i64>,
    /// Wall-clock start of the last evaluation, ms.
    #[serde(default)]
    pub last_eval_wall_ms: i64,
    /// How long the last evaluation took, seconds.
    #[serde(default)]
    pub eval_seconds: f64,
    /// Evaluations skipped after downtime, in total.
    #[serde(default)]
    pub iterations_missed: u64,
    /// Evaluations done, in total.
    #[serde(default)]
    pub iterations: u64,
    /// Per rule, in group order.
    #[serde(default)]
    pub rules: Vec<RuleState>,
}

impl GroupState {
    /// Encodes as zstd-compressed JSON (the index attribute).
    pub fn encode(&self) -> Result<Vec<u8>, crate::RulesError> {
        let json = serde_json::to_vec(self).map_err(|e| crate::RulesError::State(e.to_string()))?;
        zstd::encode_all(json.as_slice(), 3).map_err(|e| crate::RulesError::State(e.to_string()))
    }

    /// Decodes [`GroupState::encode`]'s output.
    pub fn decode(bytes: &[u8]) -> Result<Self, crate::RulesError> {
        let json = zstd::decode_all(bytes).map_err(|e| crate::RulesError::State(e.to_string()))?;
        serde_json::from_slice(&json).map_err(|e| crate::RulesError::State(e.to_string()))
    }
}

/// Floats as text, so NaN and infinities survive JSON.
mod f64_text {
    use super::*;

    pub(super) fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

fn to_pairs(labels: &Labels) -> Vec<(&str, &str)> {
    labels
        .iter()
        .map(|l| (l.name.as_str(), l.value.as_str()))
        .collect()
}

fn from_pairs(pairs: Vec<(String, String)>) -> Labels {
    Labels::new(pairs.into_iter().map(|(n, v)| Label::new(n, v)).collect())
}

/// Labels as a list of `[name, value]` pairs.
mod labels_serde {
    use super::*;

    pub(super) fn serialize<S: Serializer>(l: &Labels, s: S) -> Result<S::Ok, S::Error> {
        to_pairs(l).serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Labels, D::Error> {
        Ok(from_pairs(Vec::deserialize(d)?))
    }
}

mod labels_list_serde {
    use super::*;

    pub(super) fn serialize<S: Serializer>(l: &[Labels], s: S) -> Result<S::Ok, S::Error> {
        l.iter().map(to_pairs).collect::<Vec<_>>().serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Labels>, D::Error> {
        let raw: Vec<Vec<(String, String)>> = Vec::deserialize(d)?;
        Ok(raw.into_iter().map(from_pairs).collect())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn state_round_trips_with_nan_values() {
        let state = GroupState {
            last_eval_ts: Some(60_000),
            rules: vec![RuleState {
                key: "alert:A{}".into(),
                health: Health::Ok,
                prev_series: vec![Labels::from_pairs([("__name__", "ALERTS")])],
                alerts: vec![Alert {
                    labels: Labels::from_pairs([("alertname", "A")]),
                    annotations: Labels::default(),
                    state: AlertStateKind::Pending,
                    value: f64::NAN,
                    active_at: 1,
                    fired_at: 0,
                    resolved_at: 0,
                    last_sent_at: 0,
                    valid_until: 0,
                    keep_firing_since: 0,
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        let back = GroupState::decode(&state.encode().unwrap()).unwrap();
        assert!(back.rules[0].alerts[0].value.is_nan());
        assert_eq!(back.rules[0].prev_series, state.rules[0].prev_series);
        assert_eq!(back.last_eval_ts, Some(60_000));
    }
}
