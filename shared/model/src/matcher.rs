//! Label matchers (`=`, `!=`, `=~`, `!~`) with Prometheus semantics: regexes are fully anchored,
//! and an absent label matches as the empty string.

use crate::labels::Labels;
use regex::Regex;

/// The four matcher kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    RegexMatch,
    /// `!~`
    RegexNoMatch,
}

/// A regex that did not compile.
#[derive(Debug, thiserror::Error)]
#[error("invalid regular expression {pattern:?}: {source}")]
pub struct MatcherError {
    pattern: String,
    #[source]
    source: regex::Error,
}

/// One label matcher.
#[derive(Clone, Debug)]
pub struct Matcher {
    /// Label name.
    pub name: String,
    /// Kind.
    pub op: MatchOp,
    /// Value or pattern as written.
    pub value: String,
    regex: Option<Regex>,
}

impl Matcher {
    /// Builds a matcher, compiling the anchored regex for the regex kinds.
    pub fn new(
        op: MatchOp,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, MatcherError> {
        let value = value.into();
        let regex = match op {
            MatchOp::RegexMatch | MatchOp::RegexNoMatch => Some(
                Regex::new(&format!("^(?s:{value})$")).map_err(|source| MatcherError {
                    pattern: value.clone(),
                    source,
                })?,
            ),
            _ => None,
        };
        Ok(Self {
            name: name.into(),
            op,
            value,
            regex,
        })
    }

    /// `name = value`.
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            op: MatchOp::Equal,
            value: value.into(),
            regex: None,
        }
    }

    /// True if `value` (the label's value, "" when absent) satisfies the matcher.
    pub fn matches_value(&self, value: &str) -> bool {
        match (self.op, &self.regex) {
            (MatchOp::Equal, _) => value == self.value,
            (MatchOp::NotEqual, _) => value != self.value,
            (MatchOp::RegexMatch, Some(re)) => re.is_match(value),
            (MatchOp::RegexNoMatch, Some(re)) => !re.is_match(value),
            (_, None) => false,
        }
    }

    /// True if the matcher accepts the empty string (so it also matches series without the label).
    pub fn matches_empty(&self) -> bool {
        self.matches_value("")
    }

    /// True if `labels` satisfy the matcher.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.matches_value(labels.get(&self.name).unwrap_or(""))
    }
}

/// True if `labels` satisfy every matcher.
pub fn matches_all(matchers: &[Matcher], labels: &Labels) -> bool {
    matchers.iter().all(|m| m.matches(labels))
}

/// The metric name a matcher set pins with `__name__="..."`, if any (used to prune files).
pub fn metric_name_of(matchers: &[Matcher]) -> Option<&str> {
    matchers
        .iter()
        .find(|m| m.name == crate::METRIC_NAME && m.op == MatchOp::Equal)
        .map(|m| m.value.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_semantics() {
        let l = Labels::from_pairs([("__name__", "up"), ("job", "node")]);
        assert!(
            Matcher::new(MatchOp::RegexMatch, "job", "no.*")
                .map(|m| m.matches(&l))
                .unwrap_or(false)
        );
        // Anchored: a partial match is no match.
        assert!(
            !Matcher::new(MatchOp::RegexMatch, "job", "od")
                .map(|m| m.matches(&l))
                .unwrap_or(true)
        );
        // Absent label is "".
        assert!(Matcher::equal("missing", "").matches(&l));
        assert!(
            Matcher::new(MatchOp::NotEqual, "missing", "x")
                .map(|m| m.matches(&l))
                .unwrap_or(false)
        );
        assert!(Matcher::new(MatchOp::RegexMatch, "a", "(").is_err());
    }
}
