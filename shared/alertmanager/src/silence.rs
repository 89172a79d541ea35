//! Silences as Alertmanager's `silence` package and API v2 handle them: validation, states
//! (pending, active, expired), in-place updates where allowed (`canUpdate`), otherwise expire
//! and replace; expiry through `DELETE`.

use crate::matchers::{MatchType, Matcher};
use architect_model::Labels;
use serde::{Deserialize, Serialize};

/// One matcher of a silence, in the API's shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SilenceMatcher {
    /// Label name.
    pub name: String,
    /// Value or regular expression.
    pub value: String,
    /// Whether `value` is a regular expression.
    pub is_regex: bool,
    /// `=`/`=~` (true) or `!=`/`!~` (false).
    #[serde(default = "yes")]
    pub is_equal: bool,
}

fn yes() -> bool {
    true
}

impl SilenceMatcher {
    /// The matcher it describes.
    pub fn to_matcher(&self) -> Result<Matcher, String> {
        let kind = match (self.is_regex, self.is_equal) {
            (false, true) => MatchType::Equal,
            (false, false) => MatchType::NotEqual,
            (true, true) => MatchType::Regexp,
            (true, false) => MatchType::NotRegexp,
        };
        Matcher::new(kind, &self.name, &self.value).map_err(|e| e.to_string())
    }
}

/// A silence. Times are ms since the epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Silence {
    /// Identifier (UUID-shaped).
    pub id: String,
    /// Alerts whose labels match all of these are silenced.
    pub matchers: Vec<SilenceMatcher>,
    /// Start.
    pub starts_at: i64,
    /// End.
    pub ends_at: i64,
    /// Author.
    pub created_by: String,
    /// Why.
    pub comment: String,
    /// Last change.
    pub updated_at: i64,
}

/// A silence's state at some time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SilenceState {
    /// Starts later.
    Pending,
    /// In force.
    Active,
    /// Over.
    Expired,
}

impl SilenceState {
    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SilenceState::Pending => "pending",
            SilenceState::Active => "active",
            SilenceState::Expired => "expired",
        }
    }
}

impl Silence {
    /// State at `now`.
    pub fn state(&self, now: i64) -> SilenceState {
        if self.ends_at <= now {
            SilenceState::Expired
        } else if self.starts_at > now {
            SilenceState::Pending
        } else {
            SilenceState::Active
        }
    }

    /// The compiled matchers (validated on creation, so failures only come from corrupt state).
    pub fn compiled(&self) -> Vec<Matcher> {
        self.matchers
            .iter()
            .filter_map(|m| m.to_matcher().ok())
            .collect()
    }

    /// Whether it silences an alert with `labels` at `now`.
    pub fn mutes(&self, labels: &Labels, now: i64) -> bool {
        self.state(now) == SilenceState::Active
            && crate::matchers::matches_all(&self.compiled(), labels)
    }

    /// Alertmanager's `validateSilence` (0.25 wording).
    pub fn validate(&self) -> Result<(), String> {
        if self.matchers.is_empty() {
            return Err("at least one matcher required".into());
        }
        let mut all_match_empty = true;
        for (i, m) in self.matchers.iter().enumerate() {
            let compiled = m
                .to_matcher()
                .map_err(|e| format!("invalid label matcher {i}: {e}"))?;
            if m.name.is_empty() {
                return Err(format!(
                    "invalid label matcher {i}: invalid label name \"\""
                ));
            }
            if !compiled.matches("") {
                all_match_empty = false;
            }
        }
        if all_match_empty {
            return Err("at least one matcher must not match the empty string".into());
        }
        if self.starts_at == 0 {
            return Err("invalid zero start timestamp".into());
        }
        if self.ends_at == 0 {
            return Err("invalid zero end timestamp".into());
        }
        if self.ends_at < self.starts_at {
            return Err("end time must not be before start time".into());
        }
        Ok(())
    }

    /// Alertmanager's `canUpdate`: whether `new` may replace this silence in place.
    pub fn can_update_to(&self, new: &Silence, now: i64) -> bool {
        if self.matchers != new.matchers {
            return false;
        }
        match self.state(now) {
            SilenceState::Active => new.starts_at == self.starts_at && new.ends_at >= now,
            SilenceState::Pending => new.starts_at >= now,
            SilenceState::Expired => false,
        }
    }
}

/// A new silence id: 128 random bits printed as a UUID (version 4 bits set).
pub fn new_silence_id() -> String {
    let mut b = ulid::Ulid::new().0.to_be_bytes();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn silence(matchers: Vec<SilenceMatcher>, starts: i64, ends: i64) -> Silence {
        Silence {
            id: new_silence_id(),
            matchers,
            starts_at: starts,
            ends_at: ends,
            created_by: "me".into(),
            comment: "c".into(),
            updated_at: starts,
        }
    }

    fn eq(name: &str, value: &str) -> SilenceMatcher {
        SilenceMatcher {
            name: name.into(),
            value: value.into(),
            is_regex: false,
            is_equal: true,
        }
    }

    #[test]
    fn validation_states_and_muting() {
        let s = silence(vec![eq("alertname", "Down")], 100, 200);
        assert!(s.validate().is_ok());
        assert_eq!(s.state(50), SilenceState::Pending);
        assert_eq!(s.state(150), SilenceState::Active);
        assert_eq!(s.state(200), SilenceState::Expired);
        let labels = Labels::from_pairs([("alertname", "Down"), ("x", "y")]);
        assert!(s.mutes(&labels, 150));
        assert!(!s.mutes(&labels, 250));
        let empty = silence(vec![eq("alertname", "")], 100, 200);
        assert_eq!(
            empty.validate().expect_err("invalid"),
            "at least one matcher must not match the empty string"
        );
        assert!(silence(vec![], 100, 200).validate().is_err());
        assert!(silence(vec![eq("a", "b")], 200, 100).validate().is_err());
        assert_eq!(new_silence_id().len(), 36);
    }
}
