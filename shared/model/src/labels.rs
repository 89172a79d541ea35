//! Label sets. A series is identified by its labels, kept sorted by name with unique names.
//!
//! A set is shared (`Arc<[Label]>`): a clone is a reference count, not a copy of every string.
//! Label sets are cloned on every hot path (the head keeps the set a write brought, query
//! results carry the set of each series, the ingest path reuses the set of a series it has
//! decoded before), so copies would cost an allocation per name and value each time.

use std::fmt;
use std::sync::Arc;

/// The label that holds the metric name.
pub const METRIC_NAME: &str = "__name__";

/// One label pair.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label {
    /// Label name: any non-empty UTF-8 string (Prometheus 3 allows UTF-8 names).
    pub name: String,
    /// Label value: any UTF-8 string.
    pub value: String,
}

impl Label {
    /// A label from a name and a value.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// A set of labels, sorted by name. Construction through [`Labels::from_sorted`] trusts the
/// caller; [`Labels::new`] sorts. Cloning shares the labels (see the module docs).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Labels(Arc<[Label]>);

impl Labels {
    /// Sorts `labels` by name (stable, so duplicates stay visible to validation).
    pub fn new(mut labels: Vec<Label>) -> Self {
        labels.sort_by(|a, b| a.name.cmp(&b.name));
        Self(labels.into())
    }

    /// Wraps labels that are already sorted and unique.
    pub fn from_sorted(labels: Vec<Label>) -> Self {
        Self(labels.into())
    }

    /// Builds labels from `(name, value)` pairs, sorting them.
    pub fn from_pairs<N: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        Self::new(pairs.into_iter().map(|(n, v)| Label::new(n, v)).collect())
    }

    /// The value of label `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|l| l.name == name)
            .map(|l| l.value.as_str())
    }

    /// The metric name (`__name__`), or "" if absent.
    pub fn metric_name(&self) -> &str {
        self.get(METRIC_NAME).unwrap_or("")
    }

    /// The labels as a slice.
    pub fn as_slice(&self) -> &[Label] {
        &self.0
    }

    /// Iterates over the labels.
    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.0.iter()
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no labels.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The labels as a vector of their own: moved out when this is the set's only holder,
    /// copied otherwise.
    pub fn into_vec(mut self) -> Vec<Label> {
        self.take_vec()
    }

    fn take_vec(&mut self) -> Vec<Label> {
        match Arc::get_mut(&mut self.0) {
            Some(own) => own
                .iter_mut()
                .map(|l| Label {
                    name: std::mem::take(&mut l.name),
                    value: std::mem::take(&mut l.value),
                })
                .collect(),
            None => self.0.to_vec(),
        }
    }

    /// True when both share the same labels (a clone of one another): equal without comparing.
    pub fn ptr_eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// Removes label `name`, returning its value; the rest stays sorted.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        let at = self.0.iter().position(|l| l.name == name)?;
        let mut labels = self.take_vec();
        let removed = labels.remove(at);
        self.0 = labels.into();
        Some(removed.value)
    }

    /// Bytes held by names and values; used for memory accounting.
    pub fn byte_size(&self) -> usize {
        self.0.iter().map(|l| l.name.len() + l.value.len()).sum()
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = &'a Label;
    type IntoIter = std::slice::Iter<'a, Label>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Prometheus notation: `metric{a="b", c="d"}`, quoting names that are not legacy identifiers.
impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.metric_name();
        let legacy_name = is_legacy_metric_name(name);
        if legacy_name {
            f.write_str(name)?;
        }
        f.write_str("{")?;
        let mut first = true;
        if !legacy_name && !name.is_empty() {
            write!(f, "{:?}", name)?;
            first = false;
        }
        for l in self.0.iter().filter(|l| l.name != METRIC_NAME) {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            if is_legacy_label_name(&l.name) {
                write!(f, "{}={:?}", l.name, l.value)?;
            } else {
                write!(f, "{:?}={:?}", l.name, l.value)?;
            }
        }
        f.write_str("}")
    }
}

/// True for names matching `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_legacy_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// True for names matching `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn is_legacy_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_matches_prometheus_notation() {
        let l = Labels::from_pairs([("__name__", "up"), ("job", "node"), ("a.b", "x")]);
        assert_eq!(l.to_string(), r#"up{"a.b"="x", job="node"}"#);
        let u = Labels::from_pairs([("__name__", "my.metric"), ("job", "n")]);
        assert_eq!(u.to_string(), r#"{"my.metric", job="n"}"#);
    }

    #[test]
    fn new_sorts_by_name() {
        let l = Labels::from_pairs([("b", "1"), ("a", "2")]);
        assert_eq!(l.as_slice()[0].name, "a");
        assert_eq!(l.get("b"), Some("1"));
    }

    #[test]
    fn remove_keeps_the_rest() {
        let mut l = Labels::from_pairs([("a", "1"), ("b", "2"), ("c", "3")]);
        assert_eq!(l.remove("b"), Some("2".into()));
        assert_eq!(l.remove("b"), None);
        assert_eq!(l, Labels::from_pairs([("a", "1"), ("c", "3")]));
        // A shared set is copied, never emptied under its other holder.
        let shared = l.clone();
        assert_eq!(l.remove("a"), Some("1".into()));
        assert_eq!(shared, Labels::from_pairs([("a", "1"), ("c", "3")]));
        assert_eq!(shared.clone().into_vec(), shared.as_slice());
        assert_eq!(l.into_vec(), [Label::new("c", "3")]);
    }
}
