//! Prometheus recording and alerting rules, evaluated by a stateless ruler.
//!
//! - [`mod@file`]: the rule-file format and `promtool check rules` validation;
//! - [`eval`]: one evaluation of a group (Prometheus's `Group.Eval` and `AlertingRule.Eval`);
//! - [`schedule`]: which evaluation slots are due, aligned as Prometheus aligns them;
//! - [`state`] and [`store`]: what a group remembers between evaluations, in the index;
//! - [`ruler`]: a pass over every due group of every tenant;
//! - [`notifier`]: alerts sent to Alertmanagers over HTTP;
//! - [`unittest`]: `promtool test rules` files run through the same evaluator.

pub mod eval;
pub mod file;
pub mod notifier;
pub mod ruler;
pub mod schedule;
pub mod state;
pub mod store;
pub mod unittest;

pub use eval::{EvalSettings, Notification, OutputSample, SampleAppender};
pub use file::{Rule, RuleFile, RuleGroup, RuleGroupSpec, RuleSpec};
pub use ruler::{Notifier, PassReport, Ruler, RulerConfig, TenantBackend};
pub use state::{Alert, AlertStateKind, GroupState, Health, RuleState};
pub use store::{RuleStore, StoredGroup};

/// Go's `strconv.FormatFloat(v, 'e', -1, 64)`: `1e+00`, `1.2345e+02`, `NaN`, `+Inf`.
pub fn format_float_e(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    let s = format!("{v:e}");
    let Some((mantissa, exp)) = s.split_once('e') else {
        return s;
    };
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    format!("{mantissa}e{sign}{digits:0>2}")
}

#[cfg(test)]
mod tests {
    use super::format_float_e;

    #[test]
    fn floats_print_as_go_e_format() {
        assert_eq!(format_float_e(1.0), "1e+00");
        assert_eq!(format_float_e(123.45), "1.2345e+02");
        assert_eq!(format_float_e(0.05), "5e-02");
        assert_eq!(format_float_e(1e300), "1e+300");
        assert_eq!(format_float_e(f64::INFINITY), "+Inf");
    }
}

/// Errors of the rules crate.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// A rule file or group failed validation (one message per problem).
    #[error("{}", .0.join("; "))]
    Invalid(Vec<String>),
    /// The index failed.
    #[error("index: {0}")]
    Index(#[from] architect_index::IndexError),
    /// State could not be encoded or decoded.
    #[error("rule state: {0}")]
    State(String),
}
