//! Prometheus's template functions (`template.NewTemplateExpander`'s FuncMap)
//! plus the Go-compatible overrides of a few text/template builtins.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use gotmpl::Value;
use regex::Regex;

use crate::QueryFn;
use crate::gofmt::{format_float, format_g, quote};
use crate::values::{
    MapKind, duration_value, go_type_name, map_kind, sample_value, sprint, sprintln, time_value,
};

/// A function body: arguments in, value or Go error text out.
pub(crate) type Body = Arc<dyn Fn(&[Value]) -> Result<Value, String> + Send + Sync>;

/// A template function with its Go arity (`None` = variadic).
#[derive(Clone)]
pub(crate) struct Func {
    pub(crate) arity: Option<usize>,
    pub(crate) body: Body,
}

/// Everything the functions need from the expansion context.
#[derive(Clone)]
pub(crate) struct FuncContext {
    pub(crate) timestamp_ms: i64,
    pub(crate) external_url: String,
    pub(crate) query: Option<QueryFn>,
}

/// Names of Go's text/template builtins (kept from gotmpl unless overridden below).
pub(crate) const BUILTINS: [&str; 19] = [
    "and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf",
    "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne",
];

pub(crate) fn func(
    arity: Option<usize>,
    f: impl Fn(&[Value]) -> Result<Value, String> + Send + Sync + 'static,
) -> Func {
    Func {
        arity,
        body: Arc::new(f),
    }
}

pub(crate) fn string_arg(v: &Value) -> Result<&str, String> {
    match v {
        Value::String(s) => Ok(s),
        other => Err(format!(
            "wrong type for value; expected string; got {}",
            go_type_name(other)
        )),
    }
}

fn str_value(s: impl Into<Arc<str>>) -> Value {
    Value::String(s.into())
}

/// Prometheus's `convertToFloat` (prometheus/common helpers/templates).
pub(crate) fn convert_to_float(v: &Value) -> Result<f64, String> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        Value::Uint(u) => Ok(*u as f64),
        Value::String(s) => parse_float(s),
        other => Err(format!("can't convert {} to float", go_type_name(other))),
    }
}

/// Go's `strconv.ParseFloat(s, 64)` (decimal syntax, Inf/NaN spellings).
fn parse_float(s: &str) -> Result<f64, String> {
    let syntax = || format!("strconv.ParseFloat: parsing {}: invalid syntax", quote(s));
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let special = matches!(
        body.to_ascii_lowercase().as_str(),
        "inf" | "infinity" | "nan"
    );
    if !special && !body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return Err(syntax());
    }
    let v: f64 = s.parse().map_err(|_| syntax())?;
    if v.is_infinite() && !special {
        return Err(format!(
            "strconv.ParseFloat: parsing {}: value out of range",
            quote(s)
        ));
    }
    Ok(v)
}

fn sample_field<'a>(v: &'a Value, fname: &str) -> Result<&'a BTreeMap<Arc<str>, Value>, String> {
    match v {
        Value::Map(m) if map_kind(m) == MapKind::Sample => Ok(m),
        other => Err(format!(
            "wrong type for value; expected *template.sample; got {} (in {fname})",
            go_type_name(other)
        )),
    }
}

fn sample_label(s: &BTreeMap<Arc<str>, Value>, label: &str) -> Arc<str> {
    match s.get("Labels") {
        Some(Value::Map(labels)) => match labels.get(label) {
            Some(Value::String(v)) => Arc::clone(v),
            _ => Arc::from(""),
        },
        _ => Arc::from(""),
    }
}

fn query_result<'a>(v: &'a Value, fname: &str) -> Result<&'a [Value], String> {
    match v {
        Value::List(items) => Ok(items),
        other => Err(format!(
            "wrong type for value; expected template.queryResult; got {} (in {fname})",
            go_type_name(other)
        )),
    }
}

/// Go's `regexp.Compile` error text for a pattern Rust's `regex` rejects.
fn compile_regex(pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|e| {
        let detail = e.to_string();
        let detail = detail
            .lines()
            .rev()
            .find_map(|l| l.trim().strip_prefix("error: "))
            .unwrap_or("invalid pattern")
            .to_owned();
        format!("error parsing regexp: {detail}: `{pattern}`")
    })
}

fn humanize(v: f64) -> String {
    if v == 0.0 || v.is_nan() || v.is_infinite() {
        return format_g(v, Some(4));
    }
    let mut v = v;
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    format!("{}{prefix}", format_g(v, Some(4)))
}

fn humanize_1024(v: f64) -> String {
    if v.abs() <= 1.0 || v.is_nan() || v.is_infinite() {
        return format_g(v, Some(4));
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    format!("{}{prefix}", format_g(v, Some(4)))
}

/// prometheus/common `HumanizeDuration`.
fn humanize_duration(v: f64) -> String {
    if v.is_nan() || v.is_infinite() {
        return format_g(v, Some(4));
    }
    if v == 0.0 {
        return format!("{}s", format_g(v, Some(4)));
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        let v = v.abs();
        let total = v as i64;
        let (seconds, minutes) = (total % 60, (total / 60) % 60);
        let (hours, days) = ((total / 3600) % 24, total / 86400);
        return if days != 0 {
            format!("{sign}{days}d {hours}h {minutes}m {seconds}s")
        } else if hours != 0 {
            format!("{sign}{hours}h {minutes}m {seconds}s")
        } else if minutes != 0 {
            format!("{sign}{minutes}m {seconds}s")
        } else {
            format!("{sign}{}s", format_g(v, Some(4)))
        };
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", format_g(v, Some(4)))
}

/// Error of `floatToTime` for NaN/Inf.
const NAN_OR_INF: &str = "value is NaN or Inf";

/// Prometheus's `floatToTime`: seconds → UTC time, truncated to milliseconds
/// (it goes through `model.Time`). Returns nanoseconds since the epoch.
pub(crate) fn float_to_time(v: f64) -> Result<i64, String> {
    if v.is_nan() || v.is_infinite() {
        return Err(NAN_OR_INF.into());
    }
    let ts = v * 1e9;
    if ts > i64::MAX as f64 || ts < i64::MIN as f64 {
        return Err(format!(
            "{} cannot be represented as a nanoseconds timestamp since it overflows int64",
            format_float(v)
        ));
    }
    let ms = (ts as i64) / 1_000_000;
    Ok(ms.saturating_mul(1_000_000))
}

/// prometheus/common `HumanizeTimestamp`.
fn humanize_timestamp(v: f64) -> Result<String, String> {
    match float_to_time(v) {
        Ok(ns) => Ok(crate::gofmt::time_string(ns)),
        Err(e) if e == NAN_OR_INF => Ok(format_g(v, Some(4))),
        Err(e) => Err(e),
    }
}

/// prometheus/common `model.ParseDurationAllowNegative`, in nanoseconds.
pub(crate) fn parse_duration(s: &str) -> Result<i64, String> {
    if let Some(rest) = s.strip_prefix('-') {
        return parse_duration_positive(rest).map(|d| -d);
    }
    parse_duration_positive(s)
}

fn parse_duration_positive(s: &str) -> Result<i64, String> {
    match s {
        "0" => return Ok(0),
        "" => return Err("empty duration string".into()),
        _ => {}
    }
    let invalid = || format!("not a valid duration string: {}", quote(s));
    const MS: u64 = 1_000_000;
    let units: [(&str, u64); 7] = [
        ("y", 365 * 24 * 3600 * 1000 * MS),
        ("w", 7 * 24 * 3600 * 1000 * MS),
        ("d", 24 * 3600 * 1000 * MS),
        ("h", 3600 * 1000 * MS),
        ("m", 60 * 1000 * MS),
        ("s", 1000 * MS),
        ("ms", MS),
    ];
    let mut rest = s;
    let mut total: u64 = 0;
    let mut last_unit = 0usize;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let ulen = rest.bytes().take_while(|b| !b.is_ascii_digit()).count();
        if ulen == 0 {
            return Err(invalid());
        }
        let unit = &rest[..ulen];
        rest = &rest[ulen..];
        let Some(pos) = units.iter().position(|(u, _)| *u == unit) else {
            return Err(format!(
                "unknown unit {} in duration {}",
                quote(unit),
                quote(s)
            ));
        };
        if pos < last_unit {
            return Err(invalid());
        }
        last_unit = pos + 1;
        let mult = units[pos].1;
        if n > (1u64 << 63) / mult {
            return Err("duration out of range".into());
        }
        total = total.saturating_add(n * mult);
        if total > i64::MAX as u64 {
            return Err("duration out of range".into());
        }
    }
    Ok(total as i64)
}

/// Go's `net.SplitHostPort`.
fn split_host_port(hostport: &str) -> Option<(&str, &str)> {
    let i = hostport.rfind(':')?;
    let (host, j, k);
    if hostport.starts_with('[') {
        let end = hostport.find(']')?;
        if end + 1 != i {
            return None;
        }
        host = &hostport[1..end];
        (j, k) = (1, end + 1);
    } else {
        host = &hostport[..i];
        if host.contains(':') {
            return None;
        }
        (j, k) = (0, 0);
    }
    if hostport[j..].contains('[') || hostport[k..].contains(']') {
        return None;
    }
    Some((host, &hostport[i + 1..]))
}

/// Go's `net.JoinHostPort`.
fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Go's `url.QueryEscape`.
pub(crate) fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `cases.Title(language.AmericanEnglish, cases.NoLower)`: upper-cases the first
/// letter of every word, leaving the rest untouched.
fn title(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut in_word = false;
    for (i, &c) in chars.iter().enumerate() {
        let word_char = c.is_alphanumeric() || c == '_';
        // Apostrophes, dots and colons between letters do not break a word (UAX #29).
        let joiner = matches!(c, '\'' | '’' | '.' | ':' | '·')
            && in_word
            && chars.get(i + 1).is_some_and(|n| n.is_alphabetic());
        if word_char && !in_word {
            let mut upper = c.to_uppercase();
            match (upper.next(), upper.next()) {
                (Some(u), None) => out.push(u),
                _ => out.push(c),
            }
        } else {
            out.push(c);
        }
        in_word = word_char || joiner;
    }
    out
}

/// Go's `strings.ToUpper`/`ToLower` use simple (1:1) case mappings.
fn map_case(s: &str, upper: bool) -> String {
    s.chars()
        .map(|c| {
            let mut m: Vec<char> = if upper {
                c.to_uppercase().collect()
            } else {
                c.to_lowercase().collect()
            };
            if m.len() == 1 {
                m.pop().unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

/// Path of a URL (`url.URL.Path`, percent-decoded).
fn url_path(url: &str) -> String {
    let rest = match url.find("://") {
        Some(i)
            if url[..i]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            let after = &url[i + 3..];
            match after.find(['/', '?', '#']) {
                Some(j) => &after[j..],
                None => "",
            }
        }
        _ => url,
    };
    let path = rest.split(['?', '#']).next().unwrap_or("");
    percent_decode(path)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Prometheus's FuncMap, plus Go-compatible `print`/`println`/`index`.
pub(crate) fn prometheus_funcs(ctx: &FuncContext) -> BTreeMap<&'static str, Func> {
    let mut m: BTreeMap<&'static str, Func> = BTreeMap::new();

    let query = ctx.query.clone();
    m.insert(
        "query",
        func(Some(1), move |a| {
            let q = string_arg(&a[0])?;
            let Some(query) = &query else {
                return Err("no query function available".into());
            };
            let samples = query(q)?;
            Ok(Value::List(
                samples
                    .iter()
                    .map(|s| sample_value(&s.labels, s.value))
                    .collect::<Vec<_>>()
                    .into(),
            ))
        }),
    );
    m.insert(
        "first",
        func(Some(1), |a| {
            query_result(&a[0], "first")?
                .first()
                .cloned()
                .ok_or_else(|| "first() called on vector with no elements".to_owned())
        }),
    );
    m.insert(
        "label",
        func(Some(2), |a| {
            let label = string_arg(&a[0])?;
            Ok(Value::String(sample_label(
                sample_field(&a[1], "label")?,
                label,
            )))
        }),
    );
    m.insert(
        "value",
        func(Some(1), |a| {
            Ok(sample_field(&a[0], "value")?
                .get("Value")
                .cloned()
                .unwrap_or(Value::Nil))
        }),
    );
    m.insert(
        "strvalue",
        func(Some(1), |a| {
            Ok(Value::String(sample_label(
                sample_field(&a[0], "strvalue")?,
                "__value__",
            )))
        }),
    );
    m.insert(
        "args",
        func(None, |a| {
            Ok(Value::Map(Arc::new(
                a.iter()
                    .enumerate()
                    .map(|(i, v)| (Arc::from(format!("arg{i}")), v.clone()))
                    .collect(),
            )))
        }),
    );
    m.insert(
        "reReplaceAll",
        func(Some(3), |a| {
            let (pattern, repl, text) =
                (string_arg(&a[0])?, string_arg(&a[1])?, string_arg(&a[2])?);
            let re = compile_regex(pattern)
                .map_err(|e| format!("regexp: Compile({}): {e}", quote(pattern)))?;
            Ok(str_value(re.replace_all(text, repl).as_ref()))
        }),
    );
    m.insert(
        "safeHtml",
        func(Some(1), |a| Ok(str_value(string_arg(&a[0])?))),
    );
    m.insert(
        "match",
        func(Some(2), |a| {
            let (pattern, s) = (string_arg(&a[0])?, string_arg(&a[1])?);
            Ok(Value::Bool(compile_regex(pattern)?.is_match(s)))
        }),
    );
    m.insert(
        "title",
        func(Some(1), |a| Ok(str_value(title(string_arg(&a[0])?)))),
    );
    m.insert(
        "toUpper",
        func(Some(1), |a| {
            Ok(str_value(map_case(string_arg(&a[0])?, true)))
        }),
    );
    m.insert(
        "toLower",
        func(Some(1), |a| {
            Ok(str_value(map_case(string_arg(&a[0])?, false)))
        }),
    );
    m.insert(
        "graphLink",
        func(Some(1), |a| {
            Ok(str_value(format!(
                "/graph?g0.expr={}&g0.tab=0",
                query_escape(string_arg(&a[0])?)
            )))
        }),
    );
    m.insert(
        "tableLink",
        func(Some(1), |a| {
            Ok(str_value(format!(
                "/graph?g0.expr={}&g0.tab=1",
                query_escape(string_arg(&a[0])?)
            )))
        }),
    );
    m.insert(
        "sortByLabel",
        func(Some(2), |a| {
            let label = string_arg(&a[0])?;
            let mut items = query_result(&a[1], "sortByLabel")?.to_vec();
            // Stable sort by the label value (missing labels sort as "").
            items.sort_by_cached_key(|v| match v {
                Value::Map(m) => sample_label(m, label),
                _ => Arc::from(""),
            });
            Ok(Value::List(items.into()))
        }),
    );
    m.insert(
        "stripPort",
        func(Some(1), |a| {
            let hp = string_arg(&a[0])?;
            Ok(str_value(split_host_port(hp).map_or(hp, |(h, _)| h)))
        }),
    );
    m.insert(
        "stripDomain",
        func(Some(1), |a| {
            let hp = string_arg(&a[0])?;
            let (host, port) = split_host_port(hp).unwrap_or((hp, ""));
            if host.parse::<IpAddr>().is_ok() {
                return Ok(str_value(hp));
            }
            let host = host.split('.').next().unwrap_or("");
            Ok(str_value(if port.is_empty() {
                host.to_owned()
            } else {
                join_host_port(host, port)
            }))
        }),
    );
    m.insert(
        "humanize",
        func(Some(1), |a| {
            Ok(str_value(humanize(convert_to_float(&a[0])?)))
        }),
    );
    m.insert(
        "humanize1024",
        func(Some(1), |a| {
            Ok(str_value(humanize_1024(convert_to_float(&a[0])?)))
        }),
    );
    m.insert(
        "humanizeDuration",
        func(Some(1), |a| {
            Ok(str_value(humanize_duration(convert_to_float(&a[0])?)))
        }),
    );
    m.insert(
        "humanizePercentage",
        func(Some(1), |a| {
            let v = convert_to_float(&a[0])?;
            Ok(str_value(format!("{}%", format_g(v * 100.0, Some(4)))))
        }),
    );
    m.insert(
        "humanizeTimestamp",
        func(Some(1), |a| {
            Ok(str_value(humanize_timestamp(convert_to_float(&a[0])?)?))
        }),
    );
    m.insert(
        "toTime",
        func(Some(1), |a| {
            Ok(time_value(float_to_time(convert_to_float(&a[0])?)?))
        }),
    );
    m.insert(
        "toDuration",
        func(Some(1), |a| {
            let v = convert_to_float(&a[0])?;
            Ok(duration_value((v * 1e9) as i64))
        }),
    );
    let ts = ctx.timestamp_ms;
    m.insert(
        "now",
        func(Some(0), move |_| Ok(Value::Float(ts as f64 / 1000.0))),
    );
    let path = url_path(&ctx.external_url);
    m.insert(
        "pathPrefix",
        func(Some(0), move |_| Ok(str_value(path.as_str()))),
    );
    let url = ctx.external_url.clone();
    m.insert(
        "externalURL",
        func(Some(0), move |_| Ok(str_value(url.as_str()))),
    );
    m.insert(
        "parseDuration",
        func(Some(1), |a| {
            let ns = parse_duration(string_arg(&a[0])?)?;
            Ok(Value::Float(ns as f64 / 1e9))
        }),
    );
    m.insert(
        "urlQueryEscape",
        func(Some(1), |a| Ok(str_value(query_escape(string_arg(&a[0])?)))),
    );

    // Builtins whose gotmpl versions print floats/maps differently from Go.
    m.insert("print", func(None, |a| Ok(str_value(sprint(a)))));
    m.insert("println", func(None, |a| Ok(str_value(sprintln(a)))));
    m.insert("index", func(None, index));
    m.insert("printf", func(None, printf));
    m
}

/// Go's `fmt.Sprintf`: gotmpl's `printf` with the arguments it would render
/// differently from Go (floats under `%v`, NaN/Inf, float under an integer
/// verb, `time.Time`/`time.Duration`) converted first.
fn printf(a: &[Value]) -> Result<Value, String> {
    let Some((format, args)) = a.split_first() else {
        return Err("wrong number of args for printf: want at least 1 got 0".into());
    };
    let format = string_arg(format)?;
    let (format, args) = prepare_printf(format, args);
    let mut src = String::from("{{printf .F");
    for i in 0..args.len() {
        src.push_str(&format!(" (index .A {i})"));
    }
    src.push_str("}}");
    let data = Value::Map(Arc::new(BTreeMap::from([
        (Arc::from("F"), str_value(format)),
        (Arc::from("A"), Value::List(args.into())),
    ])));
    gotmpl::Template::new("printf")
        .parse(&src)
        .and_then(|t| t.execute_to_string(&data))
        .map(str_value)
        .map_err(|e| e.to_string())
}

fn prepare_printf(format: &str, args: &[Value]) -> (String, Vec<Value>) {
    let mut out = String::with_capacity(format.len());
    let mut new_args = Vec::with_capacity(args.len());
    let mut next = 0usize;
    let mut chars = format.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut flags = String::new();
        while let Some(&(_, f)) = chars.peek() {
            if !"+-# 0".contains(f) {
                break;
            }
            flags.push(f);
            chars.next();
        }
        let mut spec_rest = String::new();
        let mut star_or_index = false;
        while let Some(&(_, d)) = chars.peek() {
            if d.is_ascii_digit() || d == '.' || d == '*' || d == '[' || d == ']' {
                star_or_index |= d == '*' || d == '[';
                spec_rest.push(d);
                chars.next();
            } else {
                break;
            }
        }
        if star_or_index {
            // Argument indexes / `*` widths: leave everything to gotmpl.
            return (format.to_owned(), args.to_vec());
        }
        let Some((vpos, verb)) = chars.next() else {
            out.push_str(&format[start..]);
            break;
        };
        let spec = &format[start..vpos + verb.len_utf8()];
        if verb == '%' {
            out.push_str(spec);
            continue;
        }
        let Some(arg) = args.get(next) else {
            out.push_str(spec);
            continue;
        };
        next += 1;
        let special = match arg {
            Value::Map(m) => matches!(map_kind(m), MapKind::Time(_) | MapKind::Duration(_)),
            _ => false,
        };
        match (verb, arg) {
            ('v', Value::Float(_) | Value::List(_) | Value::Map(_)) if !flags.contains('#') => {
                out.push_str(spec);
                new_args.push(str_value(crate::values::sprint_value(arg)));
            }
            ('s', Value::Map(_)) if special => {
                out.push_str(spec);
                new_args.push(str_value(crate::values::sprint_value(arg)));
            }
            ('e' | 'E' | 'f' | 'F' | 'g' | 'G', Value::Float(f)) if !f.is_finite() => {
                let text = if f.is_nan() {
                    if flags.contains('+') { "+NaN" } else { "NaN" }
                } else if *f > 0.0 {
                    "+Inf"
                } else {
                    "-Inf"
                };
                out.push('%');
                out.push_str(&flags.replace('0', ""));
                // Width applies, precision does not.
                out.push_str(spec_rest.split('.').next().unwrap_or(""));
                out.push('s');
                new_args.push(str_value(text));
            }
            ('d' | 'o' | 'O' | 'c' | 'q' | 'U' | 's' | 't', Value::Float(_)) => {
                let bad = format!(
                    "%!{verb}({}={})",
                    go_type_name(arg),
                    crate::values::sprint_value(arg)
                );
                out.push_str(&bad.replace('%', "%%"));
            }
            _ => {
                out.push_str(spec);
                new_args.push(arg.clone());
            }
        }
    }
    new_args.extend(args.iter().skip(next).cloned());
    (out, new_args)
}

/// Go's `index` builtin; a missing key of a label map yields "" (the zero value
/// of `string`), like Go does for `map[string]string`.
fn index(a: &[Value]) -> Result<Value, String> {
    let Some((first, keys)) = a.split_first() else {
        return Err("wrong number of args for index: want at least 1 got 0".into());
    };
    let mut cur = first.clone();
    for key in keys {
        cur = match (&cur, key) {
            (Value::Map(m), Value::String(k)) => match m.get(k.as_ref()) {
                Some(v) => v.clone(),
                None if map_kind(m) == MapKind::Labels => str_value(""),
                None => Value::Nil,
            },
            (Value::Nil, _) => return Err("index of untyped nil".into()),
            _ => cur.index(key).map_err(|e| e.to_string())?,
        };
    }
    Ok(cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_host_port_like_go() {
        assert_eq!(split_host_port("a:1"), Some(("a", "1")));
        assert_eq!(split_host_port("[::1]:1"), Some(("::1", "1")));
        assert_eq!(split_host_port("::1"), None);
        assert_eq!(split_host_port("[2001:0DB8::1]::12345"), None);
        assert_eq!(split_host_port("a"), None);
    }

    #[test]
    fn parse_duration_like_prometheus() {
        assert_eq!(parse_duration("1h2m10ms"), Ok(3_720_010_000_000));
        assert_eq!(parse_duration("-30m"), Ok(-1_800_000_000_000));
        assert_eq!(parse_duration("0"), Ok(0));
        assert!(parse_duration("1m1h").is_err());
        assert_eq!(
            parse_duration("5x"),
            Err("unknown unit \"x\" in duration \"5x\"".to_owned())
        );
    }

    #[test]
    fn misc_helpers() {
        assert_eq!(title("aa bb CC"), "Aa Bb CC");
        assert_eq!(title("foo-bar it's x_y"), "Foo-Bar It's X_y");
        assert_eq!(url_path("http://testhost:9090/path/prefix"), "/path/prefix");
        assert_eq!(url_path("http://h/a%20b?x=1"), "/a b");
        assert_eq!(url_path("http://h"), "");
        assert_eq!(query_escape("up{a=\"b c\"}"), "up%7Ba%3D%22b+c%22%7D");
        assert_eq!(
            parse_float("1e400"),
            Err("strconv.ParseFloat: parsing \"1e400\": value out of range".to_owned())
        );
        assert_eq!(parse_float("+Inf"), Ok(f64::INFINITY));
        assert!(parse_float("0x10").is_err());
    }
}
