//! Go `text/template` expansion for rule annotations and labels, with
//! Prometheus's template functions (`template.NewTemplateExpander` in
//! Prometheus's `template/template.go`).
//!
//! ```
//! use std::collections::BTreeMap;
//! use architect_template::{Expander, TemplateData};
//!
//! let data = TemplateData {
//!     labels: BTreeMap::from([("instance".to_owned(), "db-1:9100".to_owned())]),
//!     value: 1234567.0,
//!     ..TemplateData::default()
//! };
//! let out = Expander::new(
//!     "__alert_HighLoad",
//!     "{{ $labels.instance | stripPort }} at {{ $value }} ({{ humanize $value }})",
//!     data,
//!     0,
//!     "http://prometheus:9090",
//!     None,
//! )
//! .expand()
//! .unwrap();
//! assert_eq!(out, "db-1 at 1.234567e+06 (1.235M)");
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use gotmpl::{FuncMap, MissingKey, Template, Value};

mod funcs;
mod gofmt;
mod notify;
mod rewrite;
mod values;

pub use notify::{DEFAULT_TEMPLATES, NotifyAlert, NotifyData, NotifyTemplates};

pub use gofmt::{format_float, quote as go_quote};

/// The variable definitions Prometheus prepends to every alert label and
/// annotation template (`rules/alerting.go`).
pub const ALERT_TEMPLATE_HEADER: &str = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

/// One sample returned by the `query` template function.
#[derive(Debug, Clone, PartialEq)]
pub struct QuerySample {
    /// The series labels (including `__name__` when present).
    pub labels: BTreeMap<String, String>,
    /// The sample value.
    pub value: f64,
}

/// Runs a PromQL instant query (at the expansion's timestamp) for the `query`
/// template function. Synchronous; the caller bridges to async. An `Err` text
/// becomes the template error (`error calling query: <text>`).
pub type QueryFn = Arc<dyn Fn(&str) -> Result<Vec<QuerySample>, String> + Send + Sync>;

/// The data an alert template is executed with (Prometheus's
/// `template.AlertTemplateData`): `.Labels`, `.ExternalLabels`,
/// `.ExternalURL` and `.Value`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplateData {
    /// The alert's labels (`$labels`).
    pub labels: BTreeMap<String, String>,
    /// The configured external labels (`$externalLabels`).
    pub external_labels: BTreeMap<String, String>,
    /// The configured external URL (`$externalURL`).
    pub external_url: String,
    /// The alert's sample value (`$value`).
    pub value: f64,
}

/// Template failures, with Prometheus's error texts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The template does not parse (returned by [`Expander::expand`]).
    #[error("error parsing template {name}: {message}")]
    Parse {
        /// The template name.
        name: String,
        /// Go's parse error, e.g. `template: x:1: unclosed action`.
        message: String,
    },
    /// Executing the template failed (returned by [`Expander::expand`]).
    #[error("error executing template {name}: {message}")]
    Execute {
        /// The template name.
        name: String,
        /// Go's execution error, e.g. `template: x:1:3: executing "x" at <...>: ...`.
        message: String,
    },
    /// The template does not parse (returned by [`Expander::parse_check`]);
    /// displays Go's bare parse error like Prometheus's `ParseTest`.
    #[error("{message}")]
    Syntax {
        /// Go's parse error, e.g. `template: x:1: function "foo" not defined`.
        message: String,
    },
}

/// Expands one alert label or annotation template like Prometheus.
#[derive(Clone)]
pub struct Expander {
    name: String,
    text: String,
    data: TemplateData,
    timestamp_ms: i64,
    external_url: String,
    query: Option<QueryFn>,
}

impl std::fmt::Debug for Expander {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Expander")
            .field("name", &self.name)
            .field("text", &self.text)
            .field("data", &self.data)
            .field("timestamp_ms", &self.timestamp_ms)
            .field("external_url", &self.external_url)
            .field("query", &self.query.is_some())
            .finish()
    }
}

impl Expander {
    /// Creates an expander. `name` is used in error messages like Prometheus
    /// (`"__alert_HighErrorRate"`); `timestamp_ms` is the evaluation time (for
    /// `now`); `external_url` backs `externalURL`/`pathPrefix`; `query` backs
    /// the `query` function (without one, `query` fails).
    pub fn new(
        name: &str,
        text: &str,
        data: TemplateData,
        timestamp_ms: i64,
        external_url: &str,
        query: Option<QueryFn>,
    ) -> Self {
        Expander {
            name: name.to_owned(),
            text: text.to_owned(),
            data,
            timestamp_ms,
            external_url: external_url.to_owned(),
            query,
        }
    }

    /// Expands the template like Prometheus's alerting rule does: the
    /// [`ALERT_TEMPLATE_HEADER`] is prepended, missing map keys yield the zero
    /// value, and failures carry Prometheus's error text (the rules evaluator
    /// renders them as `<error expanding template: {err}>`).
    pub fn expand(&self) -> Result<String, TemplateError> {
        let text = format!("{ALERT_TEMPLATE_HEADER}{}", self.text);
        let data = Value::Map(Arc::new(BTreeMap::from([
            (Arc::from("Labels"), values::string_map(&self.data.labels)),
            (
                Arc::from("ExternalLabels"),
                values::string_map(&self.data.external_labels),
            ),
            (
                Arc::from("ExternalURL"),
                Value::String(Arc::from(self.data.external_url.as_str())),
            ),
            (Arc::from("Value"), Value::Float(self.data.value)),
        ])));
        run(&self.name, &text, &data, &self.context())
    }

    /// Parses `text` (with the alert header prepended) without executing it,
    /// like Prometheus's `Expander.ParseTest` as used by rule-file validation.
    pub fn parse_check(name: &str, text: &str) -> Result<(), TemplateError> {
        let text = format!("{ALERT_TEMPLATE_HEADER}{text}");
        let ctx = funcs::FuncContext {
            timestamp_ms: 0,
            external_url: String::new(),
            query: None,
        };
        build(name, &text, &ctx)
            .map(|_| ())
            .map_err(|message| TemplateError::Syntax { message })
    }

    fn context(&self) -> funcs::FuncContext {
        funcs::FuncContext {
            timestamp_ms: self.timestamp_ms,
            external_url: self.external_url.clone(),
            query: self.query.clone(),
        }
    }
}

/// A parsed and rewritten template, ready to execute.
pub(crate) struct Built {
    template: Template,
    has_body: bool,
    slot: rewrite::ErrorSlot,
}

/// Go's text for a gotmpl parse error (`template: name:line: message`).
fn parse_error_text(name: &str, err: &gotmpl::TemplateError) -> String {
    match err {
        gotmpl::TemplateError::Parse { line, message, .. }
        | gotmpl::TemplateError::Lex { line, message, .. } => {
            let message = match message
                .strip_prefix("unexpected character: ")
                .and_then(debug_char)
            {
                Some(c) => unrecognized_character(c),
                None => message.clone(),
            };
            format!("template: {name}:{line}: {message}")
        }
        other => format!("template: {name}: {other}"),
    }
}

/// Parses a char printed with `{:?}` (`'x'` or `'\u{a0}'`).
fn debug_char(s: &str) -> Option<char> {
    let inner = s.strip_prefix('\'')?.strip_suffix('\'')?;
    if let Some(hex) = inner.strip_prefix("\\u{").and_then(|h| h.strip_suffix('}')) {
        return u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
    }
    let mut chars = inner.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// Go's `unrecognized character in action: %#U`.
fn unrecognized_character(c: char) -> String {
    let printable = !c.is_control() && !c.is_whitespace();
    if printable {
        format!("unrecognized character in action: U+{:04X} '{c}'", c as u32)
    } else {
        format!("unrecognized character in action: U+{:04X}", c as u32)
    }
}

/// Go's lexer only treats space, tab, CR and LF as blanks inside actions;
/// gotmpl accepts any Unicode whitespace there. Reject the others like Go.
fn check_action_blanks(name: &str, text: &str) -> Result<(), String> {
    let is_odd_blank = |c: char| c.is_whitespace() && !matches!(c, ' ' | '\t' | '\r' | '\n');
    if !text.chars().any(is_odd_blank) {
        return Ok(());
    }
    let mut rest = text;
    let mut offset = 0;
    while let Some(open) = rest.find("{{") {
        let start = open + 2;
        let body = &rest[start..];
        let trimmed = body.strip_prefix("- ").unwrap_or(body);
        let skip = body.len() - trimmed.len();
        if let Some(comment) = trimmed.strip_prefix("/*") {
            let Some(end) = comment.find("*/") else {
                return Ok(());
            };
            let consumed = start + skip + 2 + end + 2;
            offset += consumed;
            rest = &rest[consumed..];
            continue;
        }
        let mut chars = body.char_indices();
        let mut end = body.len();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' | '`' | '\'' => {
                    let mut escaped = false;
                    for (_, d) in chars.by_ref() {
                        if escaped {
                            escaped = false;
                        } else if d == '\\' && c != '`' {
                            escaped = true;
                        } else if d == c {
                            break;
                        }
                    }
                }
                '}' if body[i..].starts_with("}}") => {
                    end = i + 2;
                    break;
                }
                c if is_odd_blank(c) => {
                    let at = offset + start + i;
                    let line = 1 + text[..at].matches('\n').count();
                    return Err(format!(
                        "template: {name}:{line}: {}",
                        unrecognized_character(c)
                    ));
                }
                _ => {}
            }
        }
        let consumed = (start + end).min(rest.len());
        offset += consumed;
        rest = &rest[consumed..];
    }
    Ok(())
}

fn build(name: &str, text: &str, ctx: &funcs::FuncContext) -> Result<Built, String> {
    let funcs = funcs::prometheus_funcs(ctx);
    build_set(&[(name, text)], name, &funcs, rewrite::Dialect::Prometheus)
}

/// Parses and rewrites several sources into one template set (later definitions replace
/// earlier ones, as Go's `ParseFiles`); `name` is the template to execute.
pub(crate) fn build_set(
    sources: &[(&str, &str)],
    name: &str,
    funcs: &BTreeMap<&'static str, funcs::Func>,
    dialect: rewrite::Dialect,
) -> Result<Built, String> {
    let slot: rewrite::ErrorSlot = Arc::new(Mutex::new(None));
    let mut rewriter = rewrite::Rewriter::new("", name, funcs, Arc::clone(&slot), dialect);
    let mut trees = Vec::new();
    for (source_name, text) in sources {
        check_action_blanks(source_name, text)?;
        let parsed = Template::new(source_name)
            .parse(text)
            .map_err(|e| parse_error_text(source_name, &e))?;
        rewriter.set_source(text, source_name);
        for tname in parsed.templates() {
            if let Some(tree) = parsed.lookup(tname) {
                trees.push((tname.to_owned(), rewriter.rewrite_tree(tname, tree)?));
            }
        }
    }
    let has_body = trees.iter().any(|(n, _)| n == name);
    let fm: FuncMap = rewriter.into_aliases().into_iter().collect();
    let mut template = Template::new(name)
        .missing_key(MissingKey::ZeroValue)
        .funcs(fm);
    for (tname, tree) in trees {
        template = template.add_parse_tree(&tname, tree);
    }
    Ok(Built {
        template,
        has_body,
        slot,
    })
}

fn run(
    name: &str,
    text: &str,
    data: &Value,
    ctx: &funcs::FuncContext,
) -> Result<String, TemplateError> {
    let built = build(name, text, ctx).map_err(|message| TemplateError::Parse {
        name: name.to_owned(),
        message,
    })?;
    execute(name, &built, data)
}

/// Executes a built template set's `name`, with Go's error texts.
pub(crate) fn execute(name: &str, built: &Built, data: &Value) -> Result<String, TemplateError> {
    if !built.has_body {
        return Ok(String::new());
    }
    built
        .template
        .execute_template_to_string(name, data)
        .map_err(|e| {
            let recorded = built.slot.lock().ok().and_then(|mut s| s.take());
            let message = recorded.unwrap_or_else(|| {
                let detail = match e {
                    gotmpl::TemplateError::Exec(m) => m,
                    other => other.to_string(),
                };
                format!("template: {name}: {detail}")
            });
            TemplateError::Execute {
                name: name.to_owned(),
                message,
            }
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
