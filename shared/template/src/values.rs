//! How Prometheus's Go values are represented as `gotmpl` values, and how Go
//! would print them (`fmt.Sprint` / `%v`).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use gotmpl::Value;

use crate::gofmt::{duration_string, format_float, time_string};

/// Marker key of a `*time.Time` value (nanoseconds since the epoch, UTC).
/// Contains a NUL so templates cannot address it as a field.
pub(crate) const TIME_KEY: &str = "\u{0}time.Time";
/// Marker key of a `*time.Duration` value (nanoseconds).
pub(crate) const DURATION_KEY: &str = "\u{0}time.Duration";

/// Marker key of a Go struct value; its value is the index of the type in [`STRUCT_TYPES`].
pub(crate) const STRUCT_KEY: &str = "\u{0}struct";
/// Marker key of html/template's `template.HTML` (trusted markup, printed unescaped).
pub(crate) const HTML_KEY: &str = "\u{0}template.HTML";

/// A Go struct type: its name (as `%T` prints it) and its fields in declaration order.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct StructType {
    pub(crate) name: &'static str,
    pub(crate) fields: &'static [&'static str],
}

/// Alertmanager's `template.Data`.
pub(crate) const AM_DATA: usize = 0;
/// Alertmanager's `template.Alert`.
pub(crate) const AM_ALERT: usize = 1;
/// Alertmanager's `template.Pair`.
pub(crate) const AM_PAIR: usize = 2;

/// The struct types values can stand for, indexed by the `STRUCT_KEY` marker.
pub(crate) static STRUCT_TYPES: [StructType; 3] = [
    StructType {
        name: "*template.Data",
        fields: &[
            "Receiver",
            "Status",
            "Alerts",
            "GroupLabels",
            "CommonLabels",
            "CommonAnnotations",
            "ExternalURL",
        ],
    },
    StructType {
        name: "template.Alert",
        fields: &[
            "Status",
            "Labels",
            "Annotations",
            "StartsAt",
            "EndsAt",
            "GeneratorURL",
            "Fingerprint",
        ],
    },
    StructType {
        name: "template.Pair",
        fields: &["Name", "Value"],
    },
];

/// A struct value of `STRUCT_TYPES[type_index]`; `fields` in any order.
pub(crate) fn struct_value(type_index: usize, fields: Vec<(&'static str, Value)>) -> Value {
    let mut m: BTreeMap<Arc<str>, Value> =
        fields.into_iter().map(|(k, v)| (Arc::from(k), v)).collect();
    m.insert(
        Arc::from(STRUCT_KEY),
        Value::Int(i64::try_from(type_index).unwrap_or(0)),
    );
    Value::Map(Arc::new(m))
}

/// html/template's `template.HTML`.
pub(crate) fn html_value(s: &str) -> Value {
    Value::Map(Arc::new(BTreeMap::from([(
        Arc::from(HTML_KEY),
        Value::String(Arc::from(s)),
    )])))
}

const ALERT_FIELDS: [&str; 4] = ["Labels", "ExternalLabels", "ExternalURL", "Value"];
const SAMPLE_FIELDS: [&str; 2] = ["Labels", "Value"];

/// The Go type a map stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MapKind {
    /// `map[string]string` (label sets).
    Labels,
    /// The struct returned by `AlertTemplateData`.
    AlertData,
    /// `*template.sample` (one query result).
    Sample,
    /// `*time.Time`.
    Time(i64),
    /// `*time.Duration`.
    Duration(i64),
    /// `map[string]any` (e.g. the result of `args`).
    Any,
    /// A struct of [`STRUCT_TYPES`]: Go's type name and field order.
    Struct(&'static str, &'static [&'static str]),
    /// `template.HTML`.
    Html,
}

pub(crate) fn map_kind(m: &BTreeMap<Arc<str>, Value>) -> MapKind {
    if let Some(Value::Int(i)) = m.get(STRUCT_KEY)
        && let Some(t) = usize::try_from(*i).ok().and_then(|i| STRUCT_TYPES.get(i))
    {
        return MapKind::Struct(t.name, t.fields);
    }
    if m.len() == 1 {
        if let Some(Value::String(_)) = m.get(HTML_KEY) {
            return MapKind::Html;
        }
        if let Some(Value::Int(ns)) = m.get(TIME_KEY) {
            return MapKind::Time(*ns);
        }
        if let Some(Value::Int(ns)) = m.get(DURATION_KEY) {
            return MapKind::Duration(*ns);
        }
    }
    if m.values().all(|v| matches!(v, Value::String(_))) {
        return MapKind::Labels;
    }
    let keys_are =
        |names: &[&str]| m.len() == names.len() && names.iter().all(|n| m.contains_key(*n));
    let labels_is_map = matches!(m.get("Labels"), Some(Value::Map(_)));
    if labels_is_map && keys_are(&SAMPLE_FIELDS) {
        MapKind::Sample
    } else if labels_is_map && keys_are(&ALERT_FIELDS) {
        MapKind::AlertData
    } else {
        MapKind::Any
    }
}

pub(crate) fn string_map(m: &BTreeMap<String, String>) -> Value {
    Value::Map(Arc::new(
        m.iter()
            .map(|(k, v)| (Arc::from(k.as_str()), Value::String(Arc::from(v.as_str()))))
            .collect(),
    ))
}

pub(crate) fn time_value(unix_nanos: i64) -> Value {
    Value::Map(Arc::new(BTreeMap::from([(
        Arc::from(TIME_KEY),
        Value::Int(unix_nanos),
    )])))
}

pub(crate) fn duration_value(nanos: i64) -> Value {
    Value::Map(Arc::new(BTreeMap::from([(
        Arc::from(DURATION_KEY),
        Value::Int(nanos),
    )])))
}

pub(crate) fn sample_value(labels: &BTreeMap<String, String>, value: f64) -> Value {
    Value::Map(Arc::new(BTreeMap::from([
        (Arc::from("Labels"), string_map(labels)),
        (Arc::from("Value"), Value::Float(value)),
    ])))
}

/// Go's name for the type of `v` (as in `%T`), for error messages.
pub(crate) fn go_type_name(v: &Value) -> String {
    match v {
        Value::Nil => "<nil>".into(),
        Value::Bool(_) => "bool".into(),
        Value::Int(_) => "int".into(),
        Value::Uint(_) => "uint".into(),
        Value::Float(_) => "float64".into(),
        Value::String(_) => "string".into(),
        Value::List(items) => {
            let all_samples = items
                .iter()
                .all(|i| matches!(i, Value::Map(m) if map_kind(m) == MapKind::Sample));
            if all_samples { "template.queryResult" } else { "[]interface {}" }.into()
        }
        Value::Map(m) => match map_kind(m) {
            MapKind::Labels => "map[string]string",
            MapKind::AlertData => {
                "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value interface {} }"
            }
            MapKind::Sample => "*template.sample",
            MapKind::Time(_) => "*time.Time",
            MapKind::Duration(_) => "*time.Duration",
            MapKind::Any => "map[string]interface {}",
            MapKind::Struct(name, _) => name,
            MapKind::Html => "template.HTML",
        }
        .into(),
        Value::Function(_) => "func".into(),
        #[allow(unreachable_patterns)]
        _ => "interface {}".into(),
    }
}

/// What text/template prints for the value of an action (`<no value>` for nil).
pub(crate) fn print_action(v: &Value) -> String {
    match v {
        Value::Nil => "<no value>".into(),
        other => sprint_value(other),
    }
}

/// What html/template prints for an action in text context: the value escaped as
/// `htmlEscaper` does, `template.HTML` as is.
pub(crate) fn print_html(v: &Value) -> String {
    if let Value::Map(m) = v
        && map_kind(m) == MapKind::Html
        && let Some(Value::String(s)) = m.get(HTML_KEY)
    {
        return s.to_string();
    }
    let text = match v {
        Value::Nil => String::new(),
        other => sprint_value(other),
    };
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\0' => out.push('\u{FFFD}'),
            '"' => out.push_str("&#34;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#39;"),
            '+' => out.push_str("&#43;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Go's `fmt.Sprint` of one value (`%v`).
pub(crate) fn sprint_value(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v, true);
    out
}

fn write_value(out: &mut String, v: &Value, top: bool) {
    match v {
        Value::Nil => out.push_str("<nil>"),
        Value::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Uint(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Float(f) => out.push_str(&format_float(*f)),
        Value::String(s) => out.push_str(s),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_value(out, item, false);
            }
            out.push(']');
        }
        Value::Map(m) => match map_kind(m) {
            MapKind::Time(ns) => out.push_str(&time_string(ns)),
            MapKind::Html => {
                if let Some(Value::String(s)) = m.get(HTML_KEY) {
                    out.push_str(s);
                }
            }
            MapKind::Struct(_, fields) => {
                out.push('{');
                for (i, f) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    if let Some(field) = m.get(*f) {
                        write_value(out, field, false);
                    }
                }
                out.push('}');
            }
            MapKind::Duration(ns) => out.push_str(&duration_string(ns)),
            kind @ (MapKind::AlertData | MapKind::Sample) => {
                if kind == MapKind::Sample && !top {
                    out.push('&');
                }
                out.push('{');
                let fields: &[&str] = if kind == MapKind::Sample {
                    &SAMPLE_FIELDS
                } else {
                    &ALERT_FIELDS
                };
                for (i, f) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    if let Some(field) = m.get(*f) {
                        write_value(out, field, false);
                    }
                }
                out.push('}');
            }
            MapKind::Labels | MapKind::Any => {
                out.push_str("map[");
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(k);
                    out.push(':');
                    write_value(out, v, false);
                }
                out.push(']');
            }
        },
        Value::Function(_) => out.push_str("<func>"),
        #[allow(unreachable_patterns)]
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// Go's `fmt.Sprint(args...)`: a space between operands when neither is a string.
pub(crate) fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && !matches!(a, Value::String(_)) && !matches!(args[i - 1], Value::String(_)) {
            out.push(' ');
        }
        out.push_str(&sprint_value(a));
    }
    out
}

/// Go's `fmt.Sprintln(args...)`: always space-separated, trailing newline.
pub(crate) fn sprintln(args: &[Value]) -> String {
    let mut out = args.iter().map(sprint_value).collect::<Vec<_>>().join(" ");
    out.push('\n');
    out
}
