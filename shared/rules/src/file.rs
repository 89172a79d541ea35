//! Prometheus rule files: the YAML format (`groups:` of recording and alerting rules) and the
//! checks `promtool check rules` makes, with Prometheus's error texts.
//!
//! [`RuleGroupSpec`] is what a file or a ruler API upload holds, kept as written so it can be
//! served back; [`RuleGroup`] is the validated, ready-to-evaluate form.

use crate::RulesError;
use architect_model::duration::{format_duration, parse_duration};
use architect_model::{Label, Labels, METRIC_NAME};
use architect_promql::ParsedQuery;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// A Prometheus duration in milliseconds, written as `1m`, `30s`, `1h30m` in YAML.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct PromDuration(pub i64);

impl Serialize for PromDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(self.0))
    }
}

impl<'de> Deserialize<'de> for PromDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = ScalarString::deserialize(d)?.0;
        parse_duration(&text)
            .map(PromDuration)
            .map_err(serde::de::Error::custom)
    }
}

/// A YAML scalar read as text (Go's YAML decoder turns `expr: 1` into the string "1").
struct ScalarString(String);

impl<'de> Deserialize<'de> for ScalarString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Scalar {
            S(String),
            I(i64),
            F(f64),
            B(bool),
        }
        Ok(ScalarString(match Scalar::deserialize(d)? {
            Scalar::S(s) => s,
            Scalar::I(i) => i.to_string(),
            Scalar::F(f) => f.to_string(),
            Scalar::B(b) => b.to_string(),
        }))
    }
}

fn scalar_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(ScalarString::deserialize(d)?.0)
}

fn scalar_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let raw: Option<BTreeMap<String, ScalarOrNull>> = Option::deserialize(d)?;
    Ok(raw
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect())
}

/// A map value: a scalar as text, `null` as "" (as Go's decoder does).
struct ScalarOrNull(String);

impl<'de> Deserialize<'de> for ScalarOrNull {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v: Option<ScalarString> = Option::deserialize(d)?;
        Ok(ScalarOrNull(v.map(|s| s.0).unwrap_or_default()))
    }
}

/// A rule file: `groups:`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// The groups, in file order.
    #[serde(default)]
    pub groups: Vec<RuleGroupSpec>,
}

/// One group as written.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleGroupSpec {
    /// Group name, unique within its file (namespace).
    #[serde(default, deserialize_with = "scalar_string")]
    pub name: String,
    /// Evaluation interval; the global default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<PromDuration>,
    /// How far in the past each evaluation queries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_offset: Option<PromDuration>,
    /// Most series a recording rule may produce / alerts an alerting rule may hold (0 = none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub limit: i64,
    /// Labels added to every rule's output (Prometheus 3).
    #[serde(
        default,
        deserialize_with = "scalar_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    /// The rules, evaluated in order.
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// One rule as written.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Recording rule: the metric name to record into.
    #[serde(
        default,
        deserialize_with = "scalar_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub record: String,
    /// Alerting rule: the alert name.
    #[serde(
        default,
        deserialize_with = "scalar_string",
        skip_serializing_if = "String::is_empty"
    )]
    pub alert: String,
    /// The PromQL expression.
    #[serde(default, deserialize_with = "scalar_string")]
    pub expr: String,
    /// How long an alert stays pending before it fires.
    #[serde(default, rename = "for", skip_serializing_if = "Option::is_none")]
    pub for_: Option<PromDuration>,
    /// How long a firing alert keeps firing after its condition clears.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_firing_for: Option<PromDuration>,
    /// Labels added (templated for alerts).
    #[serde(
        default,
        deserialize_with = "scalar_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub labels: BTreeMap<String, String>,
    /// Alert annotations (templated).
    #[serde(
        default,
        deserialize_with = "scalar_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
}

impl RuleSpec {
    /// The rule's name: its alert or record name.
    pub fn name(&self) -> &str {
        if self.alert.is_empty() {
            &self.record
        } else {
            &self.alert
        }
    }
}

/// Parses a rule file's YAML (an empty file is an empty set of groups).
pub fn parse_rule_file(text: &str) -> Result<RuleFile, RulesError> {
    if text.trim().is_empty() {
        return Ok(RuleFile::default());
    }
    serde_yaml_ng::from_str(text).map_err(|e| RulesError::Invalid(vec![e.to_string()]))
}

/// Parses one group's YAML (the body of a ruler API upload).
pub fn parse_rule_group(text: &str) -> Result<RuleGroupSpec, RulesError> {
    serde_yaml_ng::from_str(text).map_err(|e| RulesError::Invalid(vec![e.to_string()]))
}

/// A label name that rules may set: non-empty UTF-8, not `__name__`.
fn valid_label_name(name: &str) -> bool {
    !name.is_empty() && name != METRIC_NAME
}

/// The checks `promtool check rules` makes on one group, as Prometheus's texts.
pub fn validate_group(group: &RuleGroupSpec) -> Vec<String> {
    let mut errors = Vec::new();
    if group.name.is_empty() {
        errors.push("Groupname must not be empty".to_string());
    }
    for (k, _) in group.labels.iter().filter(|(k, _)| !valid_label_name(k)) {
        errors.push(format!("invalid label name: {k}"));
    }
    for (i, rule) in group.rules.iter().enumerate() {
        for e in validate_rule(rule) {
            errors.push(format!(
                "group {:?}, rule {}, {:?}: {e}",
                group.name,
                i + 1,
                rule.name()
            ));
        }
    }
    errors
}

/// The checks on every group of a file, plus unique group names.
pub fn validate_file(file: &RuleFile) -> Vec<String> {
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for group in &file.groups {
        errors.extend(validate_group(group));
        if !seen.insert(group.name.as_str()) {
            errors.push(format!(
                "groupname: \"{}\" is repeated in the same file",
                group.name
            ));
        }
    }
    errors
}

fn validate_rule(rule: &RuleSpec) -> Vec<String> {
    let mut errors = Vec::new();
    if !rule.record.is_empty() && !rule.alert.is_empty() {
        errors.push("only one of 'record' and 'alert' must be set".to_string());
    }
    if rule.record.is_empty() && rule.alert.is_empty() {
        errors.push("one of 'record' or 'alert' must be set".to_string());
    }
    if rule.expr.is_empty() {
        errors.push("field 'expr' must be set in rule".to_string());
    } else if let Err(e) = ParsedQuery::parse(&rule.expr) {
        errors.push(format!("could not parse expression: {e}"));
    }
    if !rule.record.is_empty() {
        if !rule.annotations.is_empty() {
            errors.push("invalid field 'annotations' in recording rule".to_string());
        }
        if rule.for_.is_some_and(|d| d.0 != 0) {
            errors.push("invalid field 'for' in recording rule".to_string());
        }
        if rule.keep_firing_for.is_some_and(|d| d.0 != 0) {
            errors.push("invalid field 'keep_firing_for' in recording rule".to_string());
        }
        if rule.record.contains('{') || rule.record.contains('}') {
            errors.push(format!(
                "braces present in the recording rule name; should it be in expr?: {}",
                rule.record
            ));
        }
    }
    for k in rule.labels.keys().filter(|k| !valid_label_name(k)) {
        errors.push(format!("invalid label name: {k}"));
    }
    for k in rule.annotations.keys().filter(|k| k.is_empty()) {
        errors.push(format!("invalid annotation name: {k}"));
    }
    if !rule.alert.is_empty() {
        for (k, v) in &rule.labels {
            if let Err(e) =
                architect_template::Expander::parse_check(&format!("__alert_{}", rule.alert), v)
            {
                errors.push(format!("label {k:?}: {e}"));
            }
        }
        for (k, v) in &rule.annotations {
            if let Err(e) =
                architect_template::Expander::parse_check(&format!("__alert_{}", rule.alert), v)
            {
                errors.push(format!("annotation {k:?}: {e}"));
            }
        }
    }
    errors
}

/// A validated rule.
#[derive(Debug)]
pub enum Rule {
    /// Records its expression's result under a new metric name.
    Recording(RecordingRule),
    /// Turns its expression's result into alerts.
    Alerting(AlertingRule),
}

impl Rule {
    /// The record or alert name.
    pub fn name(&self) -> &str {
        match self {
            Rule::Recording(r) => &r.name,
            Rule::Alerting(r) => &r.name,
        }
    }

    /// The expression as written.
    pub fn expr(&self) -> &str {
        match self {
            Rule::Recording(r) => &r.expr,
            Rule::Alerting(r) => &r.expr,
        }
    }

    /// The labels the rule adds.
    pub fn labels(&self) -> &Labels {
        match self {
            Rule::Recording(r) => &r.labels,
            Rule::Alerting(r) => &r.labels,
        }
    }

    /// Identifies the rule's state across edits of its group: kind, name, labels (as
    /// Prometheus's `nameAndLabels` when it copies state on reload).
    pub fn state_key(&self) -> String {
        let kind = match self {
            Rule::Recording(_) => "record",
            Rule::Alerting(_) => "alert",
        };
        format!("{kind}:{}{}", self.name(), self.labels())
    }
}

/// A recording rule.
#[derive(Debug)]
pub struct RecordingRule {
    /// The metric name written.
    pub name: String,
    /// The expression as written.
    pub expr: String,
    /// Parsed expression.
    pub parsed: Arc<ParsedQuery>,
    /// Labels set on every output series (group labels included).
    pub labels: Labels,
}

/// An alerting rule.
#[derive(Debug)]
pub struct AlertingRule {
    /// The alert name (`alertname` label).
    pub name: String,
    /// The expression as written.
    pub expr: String,
    /// Parsed expression.
    pub parsed: Arc<ParsedQuery>,
    /// `for`, ms.
    pub hold_ms: i64,
    /// `keep_firing_for`, ms.
    pub keep_firing_for_ms: i64,
    /// Label templates (group labels included), sorted by name.
    pub labels: Labels,
    /// Annotation templates, sorted by name.
    pub annotations: Labels,
}

/// A validated group, ready to evaluate.
#[derive(Debug)]
pub struct RuleGroup {
    /// The namespace (the rule file, for Prometheus).
    pub namespace: String,
    /// Group name.
    pub name: String,
    /// Evaluation interval, ms.
    pub interval_ms: i64,
    /// Query offset, ms.
    pub query_offset_ms: i64,
    /// Series/alert limit per rule (0 = none).
    pub limit: usize,
    /// The rules in evaluation order.
    pub rules: Vec<Rule>,
    /// The group as written (for the APIs).
    pub spec: RuleGroupSpec,
}

fn to_labels(map: &BTreeMap<String, String>) -> Labels {
    Labels::from_sorted(map.iter().map(|(k, v)| Label::new(k, v)).collect())
}

impl RuleGroup {
    /// Validates `spec` and builds the group; `default_interval_ms` applies when the group sets
    /// none.
    pub fn new(
        namespace: &str,
        spec: RuleGroupSpec,
        default_interval_ms: i64,
        default_query_offset_ms: i64,
    ) -> Result<Self, RulesError> {
        let errors = validate_group(&spec);
        if !errors.is_empty() {
            return Err(RulesError::Invalid(errors));
        }
        let interval_ms = match spec.interval {
            Some(d) if d.0 > 0 => d.0,
            _ => default_interval_ms,
        };
        let mut rules = Vec::with_capacity(spec.rules.len());
        for r in &spec.rules {
            let parsed = Arc::new(
                ParsedQuery::parse(&r.expr)
                    .map_err(|e| RulesError::Invalid(vec![format!("{}: {e}", r.name())]))?,
            );
            let mut labels = spec.labels.clone();
            labels.extend(r.labels.clone());
            let labels = to_labels(&labels);
            rules.push(if r.alert.is_empty() {
                Rule::Recording(RecordingRule {
                    name: r.record.clone(),
                    expr: r.expr.clone(),
                    parsed,
                    labels,
                })
            } else {
                Rule::Alerting(AlertingRule {
                    name: r.alert.clone(),
                    expr: r.expr.clone(),
                    parsed,
                    hold_ms: r.for_.map_or(0, |d| d.0),
                    keep_firing_for_ms: r.keep_firing_for.map_or(0, |d| d.0),
                    labels,
                    annotations: to_labels(&r.annotations),
                })
            });
        }
        Ok(Self {
            namespace: namespace.to_string(),
            name: spec.name.clone(),
            interval_ms,
            query_offset_ms: spec.query_offset.map_or(default_query_offset_ms, |d| d.0),
            limit: usize::try_from(spec.limit.max(0)).unwrap_or(0),
            rules,
            spec,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const SEED: &str = r#"
groups:
  - name: example
    interval: 30s
    rules:
      - record: job:http_errors:rate5m
        expr: sum by (job) (rate(http_requests_total{code=~"5.."}[5m]))
      - alert: HighErrorRate
        expr: job:http_errors:rate5m > 0.5
        for: 10m
        keep_firing_for: 5m
        labels:
          severity: page
        annotations:
          summary: "High error rate on {{ $labels.job }}"
          value: "{{ $value | humanize }}"
"#;

    #[test]
    fn parses_and_round_trips_a_rule_file() {
        let file = parse_rule_file(SEED).unwrap();
        assert!(validate_file(&file).is_empty());
        let g = &file.groups[0];
        assert_eq!(g.interval, Some(PromDuration(30_000)));
        assert_eq!(g.rules[1].for_, Some(PromDuration(600_000)));
        let yaml = serde_yaml_ng::to_string(&file).unwrap();
        assert_eq!(parse_rule_file(&yaml).unwrap(), file);
        let group = RuleGroup::new("ns", g.clone(), 60_000, 0).unwrap();
        assert_eq!(group.interval_ms, 30_000);
        assert_eq!(group.rules.len(), 2);
        assert!(matches!(&group.rules[1], Rule::Alerting(a) if a.keep_firing_for_ms == 300_000));
    }

    #[test]
    fn reports_promtool_errors() {
        let file = parse_rule_file(
            r#"
groups:
  - name: g
    rules:
      - record: a
        alert: b
        expr: up
      - expr: up
      - record: "x{y}"
        expr: "sum("
        for: 1m
        annotations: {a: b}
      - alert: T
        expr: up
        labels: {__name__: x}
        annotations:
          s: "{{ .Foo "
  - name: g
"#,
        )
        .unwrap();
        let errors = validate_file(&file);
        let text = errors.join("\n");
        for want in [
            "group \"g\", rule 1, \"b\": only one of 'record' and 'alert' must be set",
            "group \"g\", rule 2, \"\": one of 'record' or 'alert' must be set",
            "rule 3, \"x{y}\": could not parse expression",
            "invalid field 'annotations' in recording rule",
            "invalid field 'for' in recording rule",
            "braces present in the recording rule name",
            "invalid label name: __name__",
            "annotation \"s\":",
            "groupname: \"g\" is repeated in the same file",
        ] {
            assert!(text.contains(want), "missing {want:?} in:\n{text}");
        }
    }

    #[test]
    fn rejects_unknown_fields_and_bad_durations() {
        assert!(parse_rule_file("groups:\n- name: a\n  rulez: []\n").is_err());
        assert!(parse_rule_file("groups:\n- name: a\n  interval: 5x\n").is_err());
        let file =
            parse_rule_file("groups:\n- name: a\n  rules:\n  - record: b\n    expr: 1\n").unwrap();
        assert_eq!(file.groups[0].rules[0].expr, "1");
    }
}
