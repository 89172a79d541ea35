//! Alertmanager's notification templates (`template/template.go` of Alertmanager 0.25): the
//! data a receiver's texts are executed with (`template.Data`), the methods of its types
//! (`KV.SortedPairs`, `KV.Remove`, `Pairs.Values`, `Alerts.Firing`, ...), Alertmanager's
//! function map and its default templates (`alertmanager.tmpl`, written to produce the same
//! text as Alertmanager's `default.tmpl`).
//!
//! Every expansion parses the default templates, the tenant's template files and the text
//! into one set (later definitions replace earlier ones) and executes it with missing keys
//! as zero values, as Alertmanager's `ExecuteTextString` / `ExecuteHTMLString` do. HTML
//! expansion escapes every printed value as html/template does in text context; it does not
//! model html/template's other contexts (URL normalisation inside `href`, JavaScript).

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::Value;

use crate::TemplateError;
use crate::funcs::{self, Func};
use crate::rewrite::Dialect;
use crate::values::{AM_ALERT, AM_DATA, AM_PAIR, MapKind, html_value, map_kind, struct_value};
use crate::values::{go_type_name, string_map, time_value};

/// Alertmanager's default templates (same output as its `template/default.tmpl`).
pub const DEFAULT_TEMPLATES: &str = include_str!("alertmanager.tmpl");

/// The name expansions run under (Alertmanager uses the empty name).
const TEXT_NAME: &str = "notification";

/// One alert of a notification (`template.Alert`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NotifyAlert {
    /// `firing` or `resolved`.
    pub status: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// Start, ms since the epoch.
    pub starts_at_ms: i64,
    /// End, ms since the epoch; 0 is Go's zero time (a firing alert).
    pub ends_at_ms: i64,
    /// Link to the alert's source.
    pub generator_url: String,
    /// The alert's fingerprint (16 hex digits).
    pub fingerprint: String,
}

/// What a notification's templates are executed with (`template.Data`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NotifyData {
    /// The receiver's name (Alertmanager passes it through `regexp.QuoteMeta`; so does
    /// [`NotifyData::new`]).
    pub receiver: String,
    /// `firing` when any alert is, else `resolved`.
    pub status: String,
    /// The alerts.
    pub alerts: Vec<NotifyAlert>,
    /// The group's labels.
    pub group_labels: BTreeMap<String, String>,
    /// Labels all alerts share.
    pub common_labels: BTreeMap<String, String>,
    /// Annotations all alerts share.
    pub common_annotations: BTreeMap<String, String>,
    /// Alertmanager's external URL.
    pub external_url: String,
}

impl NotifyData {
    /// Data for `alerts` sent to `receiver`, with status and common labels and annotations
    /// computed as Alertmanager's `Template.Data` does.
    pub fn new(
        receiver: &str,
        group_labels: BTreeMap<String, String>,
        alerts: Vec<NotifyAlert>,
        external_url: &str,
    ) -> Self {
        let status = if alerts.iter().any(|a| a.status == "firing") {
            "firing"
        } else {
            "resolved"
        };
        let common = |get: fn(&NotifyAlert) -> &BTreeMap<String, String>| {
            let mut iter = alerts.iter();
            let mut common = iter.next().map(|a| get(a).clone()).unwrap_or_default();
            for a in iter {
                common.retain(|k, v| get(a).get(k) == Some(v));
            }
            common
        };
        NotifyData {
            receiver: quote_meta(receiver),
            status: status.to_owned(),
            group_labels,
            common_labels: common(|a| &a.labels),
            common_annotations: common(|a| &a.annotations),
            alerts,
            external_url: external_url.to_owned(),
        }
    }

    fn value(&self) -> Value {
        let text = |s: &str| Value::String(Arc::from(s));
        struct_value(
            AM_DATA,
            vec![
                ("Receiver", text(&self.receiver)),
                ("Status", text(&self.status)),
                (
                    "Alerts",
                    Value::List(
                        self.alerts
                            .iter()
                            .map(alert_value)
                            .collect::<Vec<_>>()
                            .into(),
                    ),
                ),
                ("GroupLabels", string_map(&self.group_labels)),
                ("CommonLabels", string_map(&self.common_labels)),
                ("CommonAnnotations", string_map(&self.common_annotations)),
                ("ExternalURL", text(&self.external_url)),
            ],
        )
    }
}

fn alert_value(a: &NotifyAlert) -> Value {
    let text = |s: &str| Value::String(Arc::from(s));
    let time = |ms: i64| {
        if ms == 0 {
            time_value(crate::gofmt::GO_ZERO_TIME)
        } else {
            time_value(ms.saturating_mul(1_000_000))
        }
    };
    struct_value(
        AM_ALERT,
        vec![
            ("Status", text(&a.status)),
            ("Labels", string_map(&a.labels)),
            ("Annotations", string_map(&a.annotations)),
            ("StartsAt", time(a.starts_at_ms)),
            ("EndsAt", time(a.ends_at_ms)),
            ("GeneratorURL", text(&a.generator_url)),
            ("Fingerprint", text(&a.fingerprint)),
        ],
    )
}

/// The templates a tenant's notifications are rendered with: Alertmanager's defaults and
/// the tenant's template files.
#[derive(Debug, Clone, Default)]
pub struct NotifyTemplates {
    files: Vec<(String, String)>,
}

impl NotifyTemplates {
    /// The defaults plus `files` (name → text, applied in order); fails when one does not
    /// parse, with Go's parse error.
    pub fn new(files: impl IntoIterator<Item = (String, String)>) -> Result<Self, TemplateError> {
        let mut all = vec![("default.tmpl".to_owned(), DEFAULT_TEMPLATES.to_owned())];
        all.extend(files);
        let templates = NotifyTemplates { files: all };
        templates
            .build("", false)
            .map_err(|message| TemplateError::Syntax { message })?;
        Ok(templates)
    }

    /// Executes `text` as a text template (`ExecuteTextString`); an empty text is empty.
    pub fn text(&self, text: &str, data: &NotifyData) -> Result<String, TemplateError> {
        self.execute(text, data, false)
    }

    /// Executes `text` as an HTML template (`ExecuteHTMLString`).
    pub fn html(&self, text: &str, data: &NotifyData) -> Result<String, TemplateError> {
        self.execute(text, data, true)
    }

    fn build(&self, text: &str, html: bool) -> Result<crate::Built, String> {
        let mut sources: Vec<(&str, &str)> = self
            .files
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .collect();
        sources.push((TEXT_NAME, text));
        crate::build_set(
            &sources,
            TEXT_NAME,
            &alertmanager_funcs(),
            Dialect::Alertmanager { html },
        )
    }

    fn execute(&self, text: &str, data: &NotifyData, html: bool) -> Result<String, TemplateError> {
        if text.is_empty() {
            return Ok(String::new());
        }
        let built = self
            .build(text, html)
            .map_err(|message| TemplateError::Parse {
                name: TEXT_NAME.to_owned(),
                message,
            })?;
        crate::execute(TEXT_NAME, &built, &data.value())
    }
}

/// Go's `regexp.QuoteMeta`.
fn quote_meta(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if r"\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `cases.Title(language.AmericanEnglish)`: each word's first letter upper case, the rest lower
/// case. Words are runs of letters, digits, `_` and apostrophes or periods between letters.
fn title_case(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut in_word = false;
    for (i, &c) in chars.iter().enumerate() {
        let joins = (c == '\'' || c == '.' || c == ':')
            && in_word
            && chars.get(i + 1).is_some_and(|n| n.is_alphabetic());
        if c.is_alphanumeric() || c == '_' || joins {
            if in_word {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            in_word = true;
        } else {
            out.push(c);
            in_word = false;
        }
    }
    out
}

/// Alertmanager's `DefaultFuncs`, plus the Go-compatible builtins the Prometheus dialect
/// overrides (`print`, `printf`, `index`, ...).
fn alertmanager_funcs() -> BTreeMap<&'static str, Func> {
    let prometheus = funcs::prometheus_funcs(&funcs::FuncContext {
        timestamp_ms: 0,
        external_url: String::new(),
        query: None,
    });
    let keep = [
        "toUpper",
        "toLower",
        "match",
        "reReplaceAll",
        "print",
        "printf",
        "println",
        "index",
        "len",
        "eq",
        "ne",
        "lt",
        "le",
        "gt",
        "ge",
    ];
    let mut m: BTreeMap<&'static str, Func> = prometheus
        .into_iter()
        .filter(|(name, _)| keep.contains(name))
        .collect();
    m.insert(
        "title",
        funcs::func(Some(1), |a| {
            Ok(Value::String(Arc::from(title_case(funcs::string_arg(
                &a[0],
            )?))))
        }),
    );
    m.insert(
        "safeHtml",
        funcs::func(Some(1), |a| Ok(html_value(funcs::string_arg(&a[0])?))),
    );
    // `join sep list`: strings.Join with the separator first, for pipelines.
    m.insert(
        "join",
        funcs::func(Some(2), |a| {
            let sep = funcs::string_arg(&a[0])?;
            let items = string_list(&a[1])?;
            Ok(Value::String(Arc::from(items.join(sep))))
        }),
    );
    m.insert(
        "stringSlice",
        funcs::func(None, |a| {
            let items = a
                .iter()
                .map(|v| funcs::string_arg(v).map(|s| Value::String(Arc::from(s))))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::List(items.into()))
        }),
    );
    m
}

fn string_list(v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::List(items) => items
            .iter()
            .map(|i| funcs::string_arg(i).map(str::to_owned))
            .collect(),
        Value::Nil => Ok(Vec::new()),
        other => Err(format!(
            "wrong type for value; expected []string; got {}",
            go_type_name(other)
        )),
    }
}

fn is_struct(v: &Value, type_index: usize) -> bool {
    let Value::Map(m) = v else { return false };
    let want = &crate::values::STRUCT_TYPES[type_index];
    map_kind(m) == MapKind::Struct(want.name, want.fields)
}

/// `KV.SortedPairs`: `alertname` first, then the other names in order.
fn sorted_pairs(m: &BTreeMap<Arc<str>, Value>) -> Value {
    let pair = |(k, v): (&Arc<str>, &Value)| {
        struct_value(
            AM_PAIR,
            vec![("Name", Value::String(Arc::clone(k))), ("Value", v.clone())],
        )
    };
    let first = m.get_key_value("alertname").map(pair);
    let rest = m.iter().filter(|(k, _)| &***k != "alertname").map(pair);
    Value::List(first.into_iter().chain(rest).collect::<Vec<_>>().into())
}

fn pair_field(list: &[Value], field: &str) -> Value {
    Value::List(
        list.iter()
            .map(|p| match p {
                Value::Map(m) => m.get(field).cloned().unwrap_or(Value::Nil),
                _ => Value::Nil,
            })
            .collect::<Vec<_>>()
            .into(),
    )
}

fn want_args(name: &str, args: &[Value], want: usize) -> Result<(), String> {
    if args.len() == want {
        Ok(())
    } else {
        Err(format!(
            "wrong number of args for {name}: want {want} got {}",
            args.len()
        ))
    }
}

/// The methods of Alertmanager's template types: `KV` (every `map[string]string`),
/// `Pairs`, `Alerts`. `None` when `recv` has no method `name`.
pub(crate) fn method(recv: &Value, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
    match recv {
        Value::Map(m) if map_kind(m) == MapKind::Labels => {
            let result = match name {
                "SortedPairs" => want_args(name, args, 0).map(|()| sorted_pairs(m)),
                "Names" | "Values" => want_args(name, args, 0).map(|()| {
                    let Value::List(pairs) = sorted_pairs(m) else {
                        return Value::Nil;
                    };
                    pair_field(&pairs, if name == "Names" { "Name" } else { "Value" })
                }),
                "Remove" => want_args(name, args, 1).and_then(|()| {
                    let keys = string_list(&args[0])?;
                    let mut rest = (**m).clone();
                    for k in keys {
                        rest.remove(k.as_str());
                    }
                    Ok(Value::Map(Arc::new(rest)))
                }),
                _ => return None,
            };
            Some(result)
        }
        Value::List(items) => {
            let all = |t: usize| items.iter().all(|i| is_struct(i, t));
            match name {
                "Firing" | "Resolved" if all(AM_ALERT) => {
                    let want = if name == "Firing" {
                        "firing"
                    } else {
                        "resolved"
                    };
                    Some(want_args(name, args, 0).map(|()| {
                        Value::List(
                            items
                                .iter()
                                .filter(|a| {
                                    matches!(a, Value::Map(m)
                                        if matches!(m.get("Status"), Some(Value::String(s)) if &**s == want))
                                })
                                .cloned()
                                .collect::<Vec<_>>()
                                .into(),
                        )
                    }))
                }
                "Names" | "Values" if all(AM_PAIR) => {
                    Some(want_args(name, args, 0).map(|()| {
                        pair_field(items, if name == "Names" { "Name" } else { "Value" })
                    }))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn alert(status: &str, labels: &[(&str, &str)], annotations: &[(&str, &str)]) -> NotifyAlert {
        let map = |kv: &[(&str, &str)]| {
            kv.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        NotifyAlert {
            status: status.to_owned(),
            labels: map(labels),
            annotations: map(annotations),
            starts_at_ms: 1_700_000_000_000,
            ends_at_ms: if status == "firing" {
                0
            } else {
                1_700_000_060_000
            },
            generator_url: "http://prometheus/graph?g0.expr=up".to_owned(),
            fingerprint: "0123456789abcdef".to_owned(),
        }
    }

    fn data() -> NotifyData {
        NotifyData::new(
            "team-x.pager",
            BTreeMap::from([("alertname".to_owned(), "Down".to_owned())]),
            vec![
                alert(
                    "firing",
                    &[("alertname", "Down"), ("instance", "a"), ("job", "node")],
                    &[("summary", "a is down")],
                ),
                alert(
                    "resolved",
                    &[("alertname", "Down"), ("instance", "b"), ("job", "node")],
                    &[("summary", "b is down")],
                ),
            ],
            "http://am:9093",
        )
    }

    fn text(t: &str) -> String {
        NotifyTemplates::new([]).unwrap().text(t, &data()).unwrap()
    }

    #[test]
    fn functions_follow_alertmanager() {
        assert_eq!(
            title_case("hELLO wORLD foo-bar foo_bar don't"),
            "Hello World Foo-Bar Foo_bar Don't"
        );
        assert_eq!(quote_meta("a.b-c[d]"), r"a\.b-c\[d\]");
        assert_eq!(text("{{ stringSlice \"a\" \"b\" | join \"+\" }}"), "a+b");
        assert_eq!(
            text("{{ reReplaceAll \"(a)\" \"<$1>\" \"banana\" }}"),
            "b<a>n<a>n<a>"
        );
    }

    #[test]
    fn data_follows_alertmanager() {
        let d = data();
        assert_eq!(d.receiver, r"team-x\.pager");
        assert_eq!(d.status, "firing");
        assert_eq!(d.common_labels.len(), 2);
        assert!(d.common_annotations.is_empty());
    }

    #[test]
    fn methods_of_kv_pairs_and_alerts() {
        assert_eq!(
            text("{{ .Alerts.Firing | len }}/{{ len .Alerts.Resolved }}"),
            "1/1"
        );
        assert_eq!(
            text("{{ .CommonLabels.SortedPairs.Values | join \" \" }}"),
            "Down node"
        );
        assert_eq!(text("{{ .CommonLabels.Names }}"), "[alertname job]");
        assert_eq!(
            text(
                "{{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join \",\" }}{{ end }}"
            ),
            "node"
        );
        assert_eq!(
            text(
                "{{ range .Alerts.Firing }}{{ range .Labels.SortedPairs }}{{ .Name }}={{ .Value }};{{ end }}{{ end }}"
            ),
            "alertname=Down;instance=a;job=node;"
        );
        assert_eq!(
            text("{{ (index .Alerts 0).StartsAt }}"),
            "2023-11-14 22:13:20 +0000 UTC"
        );
        assert_eq!(
            text("{{ (index .Alerts 0).EndsAt }}"),
            "0001-01-01 00:00:00 +0000 UTC"
        );
        assert_eq!(
            text("{{ (index .Alerts 1).EndsAt.Format \"15:04\" }}"),
            "22:14"
        );
        assert_eq!(text("{{ .CommonAnnotations.SortedPairs.Values }}"), "[]");
    }

    #[test]
    fn structs_reject_unknown_fields_and_print_like_go() {
        let t = NotifyTemplates::new([]).unwrap();
        let err = t.text("{{ .Nope }}", &data()).unwrap_err().to_string();
        assert!(
            err.contains("can't evaluate field Nope in type *template.Data"),
            "{err}"
        );
        assert_eq!(
            text("{{ range .Alerts.Firing }}{{ index .Labels.SortedPairs 0 }}{{ end }}"),
            "{alertname Down}"
        );
    }

    #[test]
    fn html_escapes_values_but_not_safe_html() {
        let t = NotifyTemplates::new([]).unwrap();
        let d = NotifyData::new(
            "r",
            BTreeMap::new(),
            vec![alert("firing", &[("a", "<b>&'\"+")], &[])],
            "",
        );
        assert_eq!(
            t.html("{{ .CommonLabels.a }}|{{ \"<i>\" | safeHtml }}", &d)
                .unwrap(),
            "&lt;b&gt;&amp;&#39;&#34;&#43;|<i>"
        );
    }

    #[test]
    fn user_templates_override_defaults_and_bad_ones_are_refused() {
        let t = NotifyTemplates::new([(
            "mine.tmpl".to_owned(),
            "{{ define \"slack.default.title\" }}custom {{ .Status }}{{ end }}".to_owned(),
        )])
        .unwrap();
        assert_eq!(
            t.text("{{ template \"slack.default.title\" . }}", &data())
                .unwrap(),
            "custom firing"
        );
        let err = NotifyTemplates::new([("bad.tmpl".to_owned(), "{{ if }".to_owned())])
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad.tmpl"), "{err}");
        assert_eq!(t.text("", &data()).unwrap(), "");
    }
}
