//! An Alertmanager-compatible alert pipeline, with all state in the index so every stateless
//! function sees the same Alertmanager.
//!
//! - [`matchers`]: Alertmanager's label matchers and their text syntax;
//! - [`config`]: the configuration file format, validated as Alertmanager validates it;
//! - [`route`]: the routing tree built from the configuration;
//! - [`timeinterval`]: `time_intervals` (mute and active times);
//! - [`inhibit`]: inhibition rules;
//! - [`alert`] and [`silence`]: the alert and silence models;
//! - [`state`]: alerts, silences and configurations in the index;
//! - [`api`]: the API v2 operations (transport-independent);
//! - [`dispatch`]: the notification pipeline as a stateless pass;
//! - [`notify`]: the integrations that deliver notifications;
//! - [`wake`]: precise timers where passes are far apart (wake-ups).

pub mod alert;
pub mod api;
pub mod config;
pub mod dispatch;
pub mod inhibit;
pub mod matchers;
pub mod notify;
pub mod route;
pub mod silence;
pub mod state;
pub mod timeinterval;
pub mod wake;

/// Errors of the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum AmError {
    /// Bad input (400).
    #[error("{0}")]
    Invalid(String),
    /// Unknown silence or configuration (404).
    #[error("{0}")]
    NotFound(String),
    /// The index failed.
    #[error("index: {0}")]
    Index(#[from] architect_index::IndexError),
    /// Stored state could not be decoded.
    #[error("state: {0}")]
    State(String),
}

/// Labels as a list of `[name, value]` pairs in stored JSON.
pub(crate) mod labels_serde {
    use architect_model::{Label, Labels};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<S: Serializer>(l: &Labels, s: S) -> Result<S::Ok, S::Error> {
        l.iter()
            .map(|x| (x.name.as_str(), x.value.as_str()))
            .collect::<Vec<_>>()
            .serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Labels, D::Error> {
        let pairs: Vec<(String, String)> = Vec::deserialize(d)?;
        Ok(Labels::new(
            pairs.into_iter().map(|(n, v)| Label::new(n, v)).collect(),
        ))
    }
}
