//! Inhibition rules: a firing source alert mutes target alerts that agree with it on the
//! `equal` labels, with Alertmanager's semantics (an alert matching both sides of a rule is
//! not inhibited by alerts that also match both sides, so it cannot inhibit itself).

use architect_model::Labels;

use crate::config::{Config, ConfigError, InhibitRuleConfig};
use crate::matchers::{Matcher, matches_all};

/// One inhibition rule with all its matchers (legacy `*_match`/`*_match_re` included).
#[derive(Debug, Clone, PartialEq)]
pub struct InhibitRule {
    /// Matchers a source (inhibiting) alert must satisfy.
    pub source: Vec<Matcher>,
    /// Matchers a target (inhibited) alert must satisfy.
    pub target: Vec<Matcher>,
    /// Labels whose values must be equal in source and target (missing = "").
    pub equal: Vec<String>,
}

impl InhibitRule {
    /// Builds a rule from its configuration.
    pub fn new(cfg: &InhibitRuleConfig) -> Result<InhibitRule, ConfigError> {
        let mut equal: Vec<String> = Vec::with_capacity(cfg.equal.len());
        for l in &cfg.equal {
            if !equal.contains(l) {
                equal.push(l.clone());
            }
        }
        Ok(InhibitRule {
            source: cfg.all_source_matchers()?,
            target: cfg.all_target_matchers()?,
            equal,
        })
    }

    /// All rules of a configuration.
    pub fn from_config(cfg: &Config) -> Result<Vec<InhibitRule>, ConfigError> {
        cfg.inhibit_rules.iter().map(InhibitRule::new).collect()
    }

    /// The index in `firing_sources` of an alert that inhibits `target` under this rule.
    pub fn inhibitor(&self, target: &Labels, firing_sources: &[Labels]) -> Option<usize> {
        if !matches_all(&self.target, target) {
            return None;
        }
        // A target that also matches the source side is only inhibited by sources that do
        // not match the target side.
        let exclude_two_sided = matches_all(&self.source, target);
        firing_sources.iter().position(|src| {
            matches_all(&self.source, src)
                && self
                    .equal
                    .iter()
                    .all(|n| src.get(n).unwrap_or("") == target.get(n).unwrap_or(""))
                && !(exclude_two_sided && matches_all(&self.target, src))
        })
    }
}

/// Whether `target` is inhibited by any of the firing alerts `firing_sources` under `rules`.
pub fn inhibited(rules: &[InhibitRule], target: &Labels, firing_sources: &[Labels]) -> bool {
    inhibited_by(rules, target, firing_sources).is_some()
}

/// The index in `firing_sources` of the first alert inhibiting `target`, if any (the first
/// rule that applies wins, as in Alertmanager).
pub fn inhibited_by(
    rules: &[InhibitRule],
    target: &Labels,
    firing_sources: &[Labels],
) -> Option<usize> {
    rules
        .iter()
        .find_map(|r| r.inhibitor(target, firing_sources))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::parse_config;

    fn rules(yaml_rules: &str) -> Vec<InhibitRule> {
        let c = parse_config(&format!(
            "route: {{receiver: a}}\nreceivers: [{{name: a}}]\ninhibit_rules:\n{yaml_rules}"
        ))
        .unwrap();
        InhibitRule::from_config(&c).unwrap()
    }

    fn l(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn basic_and_equal() {
        let r = rules(
            "- source_matchers: [severity=critical]\n  target_match: {severity: warning}\n  equal: [cluster]\n",
        );
        let crit = l(&[("severity", "critical"), ("cluster", "c1")]);
        let warn1 = l(&[("severity", "warning"), ("cluster", "c1")]);
        let warn2 = l(&[("severity", "warning"), ("cluster", "c2")]);
        assert!(inhibited(&r, &warn1, std::slice::from_ref(&crit)));
        assert!(!inhibited(&r, &warn2, std::slice::from_ref(&crit)));
        assert!(!inhibited(&r, &crit, std::slice::from_ref(&crit)));
        assert!(!inhibited(&r, &warn1, &[]));
        // Missing equal labels compare as "".
        let crit_nc = l(&[("severity", "critical")]);
        let warn_nc = l(&[("severity", "warning")]);
        assert!(inhibited(&r, &warn_nc, &[crit_nc]));
    }

    #[test]
    fn two_sided_rule_does_not_self_inhibit() {
        // Ported from Alertmanager's inhibit_test.go (TestInhibitRuleMatchers, two-sided).
        let r = rules(
            "- source_matchers: ['s1=\"1\"', 's2=~\"1|2\"']\n  target_matchers: ['t1=\"1\"', 't2=~\"1|2\"']\n  equal: [e]\n",
        );
        let both = l(&[
            ("s1", "1"),
            ("s2", "1"),
            ("t1", "1"),
            ("t2", "1"),
            ("e", "1"),
        ]);
        let src = l(&[("s1", "1"), ("s2", "1"), ("e", "1")]);
        let tgt = l(&[("t1", "1"), ("t2", "2"), ("e", "1")]);
        // Matches both sides: not inhibited by itself.
        assert!(!inhibited(&r, &both, std::slice::from_ref(&both)));
        // Matches both sides, but a pure source exists: inhibited.
        assert_eq!(
            inhibited_by(&r, &both, &[both.clone(), src.clone()]),
            Some(1)
        );
        // A pure target is inhibited by a both-sided alert.
        assert!(inhibited(&r, &tgt, std::slice::from_ref(&both)));
        assert!(inhibited(&r, &tgt, std::slice::from_ref(&src)));
        let other_e = l(&[("s1", "1"), ("s2", "1"), ("e", "2")]);
        assert!(!inhibited(&r, &tgt, &[other_e]));
    }
}
