//! Alerts as Alertmanager keeps them: identified by the fingerprint of their labels, merged
//! when the same alert is posted again (`types.Alert.Merge`), resolved once `endsAt` passes.

use architect_model::Labels;
use serde::{Deserialize, Serialize};

/// FNV-1a 64 of the sorted labels with `0xff` separators: Prometheus's `LabelSet.Fingerprint`,
/// printed as Alertmanager prints it (16 hex digits).
pub fn fingerprint(labels: &Labels) -> String {
    const OFFSET: u64 = 14_695_981_039_346_656_037;
    const PRIME: u64 = 1_099_511_628_211;
    let mut h = OFFSET;
    let mut add = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(PRIME);
        }
    };
    for l in labels.iter() {
        add(l.name.as_bytes());
        add(&[0xff]);
        add(l.value.as_bytes());
        add(&[0xff]);
    }
    format!("{h:016x}")
}

/// One alert. Times are ms since the epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Identifying labels.
    #[serde(with = "crate::labels_serde")]
    pub labels: Labels,
    /// Annotations.
    #[serde(with = "crate::labels_serde")]
    pub annotations: Labels,
    /// When it started.
    pub starts_at: i64,
    /// When it ends (or ended).
    pub ends_at: i64,
    /// Link to its source.
    #[serde(default)]
    pub generator_url: String,
    /// Last time it was received.
    pub updated_at: i64,
    /// `endsAt` was not sent and was set to now + `resolve_timeout`.
    #[serde(default)]
    pub timeout: bool,
}

impl Alert {
    /// Whether it has ended by `now`.
    pub fn resolved_at(&self, now: i64) -> bool {
        self.ends_at != 0 && self.ends_at <= now
    }

    /// Alertmanager's `Alert.Merge`: `other` is the newer version unless its `updated_at` says
    /// otherwise; the earliest start wins, and an explicit end beats a timeout.
    pub fn merge(&self, other: &Alert, now: i64) -> Alert {
        if other.updated_at < self.updated_at {
            return other.merge(self, now);
        }
        let mut res = other.clone();
        if self.starts_at < other.starts_at {
            res.starts_at = self.starts_at;
        }
        if other.resolved_at(now) {
            if self.resolved_at(now) && self.ends_at > other.ends_at {
                res.ends_at = self.ends_at;
            }
        } else if self.ends_at > other.ends_at && !self.timeout {
            res.ends_at = self.ends_at;
        }
        res
    }

    /// Whether `new` overlaps this alert's activity, so the two are one alert (the provider's
    /// rule for merging on put).
    pub fn overlaps(&self, new: &Alert) -> bool {
        (new.ends_at > self.starts_at && new.ends_at < self.ends_at)
            || (new.starts_at > self.starts_at && new.starts_at < self.ends_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_match_prometheus() {
        // model.LabelSet{"a": "b"}.Fingerprint() in prometheus/common.
        let l = Labels::from_pairs([("alertname", "Down"), ("instance", "a")]);
        assert_eq!(fingerprint(&l).len(), 16);
        assert_eq!(fingerprint(&Labels::default()), "cbf29ce484222325");
        assert_ne!(
            fingerprint(&Labels::from_pairs([("a", "bc")])),
            fingerprint(&Labels::from_pairs([("ab", "c")]))
        );
    }

    fn alert(starts: i64, ends: i64, updated: i64, timeout: bool) -> Alert {
        Alert {
            labels: Labels::from_pairs([("alertname", "A")]),
            annotations: Labels::default(),
            starts_at: starts,
            ends_at: ends,
            generator_url: String::new(),
            updated_at: updated,
            timeout,
        }
    }

    #[test]
    fn merge_keeps_earliest_start_and_explicit_ends() {
        let old = alert(100, 500, 10, false);
        let new = alert(200, 400, 20, true);
        let m = old.merge(&new, 150);
        assert_eq!((m.starts_at, m.ends_at), (100, 500));
        let resolved = alert(200, 120, 20, false);
        let m = old.merge(&resolved, 150);
        assert_eq!(m.ends_at, 120);
    }
}
