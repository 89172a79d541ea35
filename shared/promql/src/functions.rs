//! PromQL functions: instant-vector functions map each point, range-vector functions reduce
//! each window of samples; a few (`label_replace`, `absent`, `sort`, ...) work on whole series.

use crate::QueryError;
use crate::eval::{Evaluator, MatrixArg, Range, merge_same_labels};
use crate::histogram::FloatHistogram;
use crate::quantile::{Bucket, bucket_fraction, bucket_quantile, kahan_inc, quantile};
use crate::value::{Point, StepSeries, Value, labels_ext};
use architect_model::{Labels, METRIC_NAME, MatchOp};
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use promql_parser::parser::{Call, Expr};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Evaluates a function call.
pub(crate) fn eval_call(
    ev: &mut Evaluator<'_>,
    call: &Call,
    r: Range,
) -> Result<Value, QueryError> {
    let name = call.func.name;
    let args: Vec<&Expr> = call.args.args.iter().map(|a| unwrap_parens(a)).collect();
    if let Some(kind) = range_function(name) {
        return eval_range_function(ev, name, kind, &args, r);
    }
    match name {
        "time" => Ok(Value::Scalar(
            (0..r.steps()).map(|i| r.at(i) as f64 / 1000.0).collect(),
        )),
        "pi" => Ok(Value::Scalar(vec![std::f64::consts::PI; r.steps()])),
        // Query-context functions fold to constants of the whole query.
        "start" => Ok(Value::Scalar(vec![
            ev.query_start as f64 / 1000.0;
            r.steps()
        ])),
        "end" => Ok(Value::Scalar(vec![ev.query_end as f64 / 1000.0; r.steps()])),
        "range" => Ok(Value::Scalar(vec![
            (ev.query_end - ev.query_start) as f64
                / 1000.0;
            r.steps()
        ])),
        "step" => {
            let step = if ev.query_start == ev.query_end {
                0.0
            } else {
                ev.query_step as f64 / 1000.0
            };
            Ok(Value::Scalar(vec![step; r.steps()]))
        }
        "min_of" | "max_of" => {
            let a = ev.eval_scalar(args[0], r)?;
            let b = ev.eval_scalar(args[1], r)?;
            let f = if name == "min_of" { go_min } else { go_max };
            Ok(Value::Scalar(
                a.iter().zip(&b).map(|(x, y)| f(*x, *y)).collect(),
            ))
        }
        "vector" => {
            let v = ev.eval_scalar(args[0], r)?;
            Ok(Value::Vector(vec![StepSeries {
                labels: Labels::default(),
                drop_name: false,
                points: v.into_iter().map(Point::Float).collect(),
            }]))
        }
        "scalar" => {
            let series = ev.eval_vector(args[0], r)?;
            let out = (0..r.steps())
                .map(|i| {
                    let mut found = None;
                    for s in &series {
                        if let Point::Float(f) = s.points[i] {
                            if found.is_some() {
                                return f64::NAN;
                            }
                            found = Some(f);
                        }
                    }
                    found.unwrap_or(f64::NAN)
                })
                .collect();
            Ok(Value::Scalar(out))
        }
        "absent" => {
            let series = ev.eval_vector(args[0], r)?;
            let labels = absent_labels(args[0]);
            let points: Vec<Point> = (0..r.steps())
                .map(|i| {
                    if series.iter().any(|s| s.points[i].is_present()) {
                        Point::Absent
                    } else {
                        Point::Float(1.0)
                    }
                })
                .collect();
            Ok(Value::Vector(non_empty(StepSeries {
                labels,
                drop_name: false,
                points,
            })))
        }
        "label_replace" => label_replace(ev, &args, r),
        "label_join" => label_join(ev, &args, r),
        "sort" | "sort_desc" | "sort_by_label" | "sort_by_label_desc" => sort(ev, name, &args, r),
        "timestamp" => {
            let mut series = match args[0] {
                Expr::VectorSelector(vs) => ev.vector_selector(vs, r, true)?,
                other => {
                    let mut v = ev.eval_vector(other, r)?;
                    for s in &mut v {
                        for (i, p) in s.points.iter_mut().enumerate() {
                            if p.is_present() {
                                *p = Point::Float(r.at(i) as f64 / 1000.0);
                            }
                        }
                    }
                    v
                }
            };
            for s in &mut series {
                ev.mark_drop_name(s);
            }
            Ok(Value::Vector(ev.merge_if_immediate(series)?))
        }
        "histogram_quantile" => histogram_quantile(ev, &args, r),
        "histogram_quantiles" => histogram_quantiles(ev, &args, r),
        "histogram_fraction" => histogram_fraction(ev, &args, r),
        "histogram_count" | "histogram_sum" | "histogram_avg" | "histogram_stddev"
        | "histogram_stdvar" => {
            let f: fn(&FloatHistogram) -> f64 = match name {
                "histogram_count" => |h| h.count,
                "histogram_sum" => |h| h.sum,
                "histogram_stddev" => |h| crate::histogram::histogram_variance(h).sqrt(),
                "histogram_stdvar" => crate::histogram::histogram_variance,
                _ => |h| h.sum / h.count,
            };
            let mut series = ev.eval_vector(args[0], r)?;
            for s in &mut series {
                for p in &mut s.points {
                    *p = match p {
                        Point::Hist(h) => Point::Float(f(h)),
                        _ => Point::Absent,
                    };
                }
                ev.mark_drop_name(s);
            }
            series.retain(|s| s.has_values());
            Ok(Value::Vector(ev.merge_if_immediate(series)?))
        }
        "clamp" | "clamp_min" | "clamp_max" => {
            let (lo, hi) = match name {
                "clamp" => (ev.eval_scalar(args[1], r)?, ev.eval_scalar(args[2], r)?),
                "clamp_min" => (ev.eval_scalar(args[1], r)?, vec![f64::INFINITY; r.steps()]),
                _ => (
                    vec![f64::NEG_INFINITY; r.steps()],
                    ev.eval_scalar(args[1], r)?,
                ),
            };
            let series = ev.eval_vector(args[0], r)?;
            map_floats(ev, series, |i, v| {
                if hi[i] < lo[i] {
                    None
                } else {
                    Some(go_max(lo[i], go_min(hi[i], v)))
                }
            })
        }
        "round" => {
            let to = match args.get(1) {
                Some(a) => ev.eval_scalar(a, r)?,
                None => vec![1.0; r.steps()],
            };
            let series = ev.eval_vector(args[0], r)?;
            map_floats(ev, series, |i, v| {
                let inv = 1.0 / to[i];
                Some((v * inv + 0.5).floor() / inv)
            })
        }
        "days_in_month" | "day_of_month" | "day_of_week" | "day_of_year" | "hour" | "minute"
        | "month" | "year" => {
            let f = date_function(name);
            match args.first() {
                None => Ok(Value::Vector(vec![StepSeries {
                    labels: Labels::default(),
                    drop_name: false,
                    points: (0..r.steps())
                        .map(|i| Point::Float(f(date_of(r.at(i).div_euclid(1000)))))
                        .collect(),
                }])),
                Some(a) => {
                    let series = ev.eval_vector(a, r)?;
                    map_floats(ev, series, |_, v| Some(f(date_of(v as i64))))
                }
            }
        }
        _ => {
            let Some(f) = simple_function(name) else {
                return Err(QueryError::Execution(format!(
                    "function {name:?} is not supported yet"
                )));
            };
            let series = ev.eval_vector(args[0], r)?;
            map_floats(ev, series, |_, v| Some(f(v)))
        }
    }
}

fn unwrap_parens(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => unwrap_parens(&p.expr),
        other => other,
    }
}

fn non_empty(s: StepSeries) -> Vec<StepSeries> {
    if s.has_values() { vec![s] } else { Vec::new() }
}

/// Applies `f(step, value)` to every float point (histograms drop out) and drops the name.
fn map_floats(
    ev: &mut Evaluator<'_>,
    mut series: Vec<StepSeries>,
    f: impl Fn(usize, f64) -> Option<f64>,
) -> Result<Value, QueryError> {
    for s in &mut series {
        for (i, p) in s.points.iter_mut().enumerate() {
            *p = match p {
                Point::Float(v) => f(i, *v).map_or(Point::Absent, Point::Float),
                _ => Point::Absent,
            };
        }
        ev.mark_drop_name(s);
    }
    series.retain(|s| s.has_values());
    Ok(Value::Vector(ev.merge_if_immediate(series)?))
}

fn simple_function(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "sqrt" => f64::sqrt,
        "ln" => f64::ln,
        "log2" => f64::log2,
        "log10" => f64::log10,
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "sinh" => f64::sinh,
        "cosh" => f64::cosh,
        "tanh" => f64::tanh,
        "asinh" => f64::asinh,
        "acosh" => f64::acosh,
        "atanh" => f64::atanh,
        "rad" => |v| v * std::f64::consts::PI / 180.0,
        "deg" => |v| v * 180.0 / std::f64::consts::PI,
        "sgn" => |v| {
            if v < 0.0 {
                -1.0
            } else if v > 0.0 {
                1.0
            } else {
                v
            }
        },
        _ => return None,
    })
}

fn date_of(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

fn date_function(name: &str) -> fn(DateTime<Utc>) -> f64 {
    match name {
        "days_in_month" => |t| {
            let (y, m) = (t.year(), t.month());
            let next = if m == 12 {
                NaiveDate::from_ymd_opt(y + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(y, m + 1, 1)
            };
            let this = NaiveDate::from_ymd_opt(y, m, 1);
            match (this, next) {
                (Some(a), Some(b)) => (b - a).num_days() as f64,
                _ => f64::NAN,
            }
        },
        "day_of_month" => |t| t.day() as f64,
        "day_of_week" => |t| t.weekday().num_days_from_sunday() as f64,
        "day_of_year" => |t| t.ordinal() as f64,
        "hour" => |t| t.hour() as f64,
        "minute" => |t| t.minute() as f64,
        "month" => |t| t.month() as f64,
        _ => |t| t.year() as f64,
    }
}

/// Labels of `absent(...)`'s output: the selector's equality matchers, except `__name__` and
/// names matched more than once.
fn absent_labels(arg: &Expr) -> Labels {
    let vs = match arg {
        Expr::VectorSelector(vs) => vs,
        Expr::MatrixSelector(ms) => &ms.vs,
        _ => return Labels::default(),
    };
    let Ok(sets) = crate::selector::selector_matchers(vs) else {
        return Labels::default();
    };
    let Some(matchers) = sets.first() else {
        return Labels::default();
    };
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for m in matchers {
        if m.name == METRIC_NAME {
            continue;
        }
        match out.iter_mut().find(|(n, _)| *n == m.name) {
            Some(e) => e.1 = None,
            None => out.push((
                m.name.clone(),
                (m.op == MatchOp::Equal).then(|| m.value.clone()),
            )),
        }
    }
    Labels::from_pairs(out.into_iter().filter_map(|(n, v)| v.map(|v| (n, v))))
}

fn string_arg(e: &Expr) -> Result<String, QueryError> {
    match unwrap_parens(e) {
        Expr::StringLiteral(s) => Ok(s.val.clone()),
        _ => Err(QueryError::Execution("expected string literal".into())),
    }
}

fn label_replace(ev: &mut Evaluator<'_>, args: &[&Expr], r: Range) -> Result<Value, QueryError> {
    let dst = string_arg(args[1])?;
    let repl = string_arg(args[2])?;
    let src = string_arg(args[3])?;
    let pattern = string_arg(args[4])?;
    let re = regex::Regex::new(&format!("^(?s:{pattern})$")).map_err(|_| {
        QueryError::Execution(format!(
            "invalid regular expression in label_replace(): {pattern}"
        ))
    })?;
    if ev.valid_label_name(&dst).is_err() {
        return Err(QueryError::Execution(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    let mut series = ev.eval_vector(args[0], r)?;
    for s in &mut series {
        let value = s.labels.get(&src).unwrap_or("");
        if let Some(caps) = re.captures(value) {
            let mut res = String::new();
            caps.expand(&repl, &mut res);
            s.labels = labels_ext::set(&s.labels, &dst, &res);
            if dst == METRIC_NAME {
                s.drop_name = false;
            }
        }
    }
    Ok(Value::Vector(merge_same_labels(series)?))
}

fn label_join(ev: &mut Evaluator<'_>, args: &[&Expr], r: Range) -> Result<Value, QueryError> {
    let dst = string_arg(args[1])?;
    let sep = string_arg(args[2])?;
    let mut srcs = Vec::new();
    for a in &args[3..] {
        let src = string_arg(a)?;
        if ev.valid_label_name(&src).is_err() {
            return Err(QueryError::Execution(format!(
                "invalid source label name in label_join(): {src}"
            )));
        }
        srcs.push(src);
    }
    if ev.valid_label_name(&dst).is_err() {
        return Err(QueryError::Execution(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    let mut series = ev.eval_vector(args[0], r)?;
    for s in &mut series {
        let joined = srcs
            .iter()
            .map(|n| s.labels.get(n).unwrap_or(""))
            .collect::<Vec<_>>()
            .join(&sep);
        s.labels = labels_ext::set(&s.labels, &dst, &joined);
        if dst == METRIC_NAME {
            s.drop_name = false;
        }
    }
    Ok(Value::Vector(merge_same_labels(series)?))
}

fn sort(ev: &mut Evaluator<'_>, name: &str, args: &[&Expr], r: Range) -> Result<Value, QueryError> {
    let mut series = ev.eval_vector(args[0], r)?;
    if r.steps() != 1 {
        ev.warn(
            "sort is ineffective for range queries since results are always ordered by labels",
            "",
        );
        return Ok(Value::Vector(series));
    }
    match name {
        "sort" | "sort_desc" => {
            series.retain(|s| matches!(s.points[0], Point::Float(_)));
            let desc = name == "sort_desc";
            series.sort_by(|a, b| {
                let (x, y) = (a.points[0].as_float(), b.points[0].as_float());
                let (x, y) = (x.unwrap_or(f64::NAN), y.unwrap_or(f64::NAN));
                match (x.is_nan(), y.is_nan()) {
                    (true, true) => std::cmp::Ordering::Equal,
                    (true, false) => std::cmp::Ordering::Greater,
                    (false, true) => std::cmp::Ordering::Less,
                    _ if desc => y.total_cmp(&x),
                    _ => x.total_cmp(&y),
                }
            });
        }
        _ => {
            let names: Vec<String> = args[1..]
                .iter()
                .map(|a| string_arg(a))
                .collect::<Result<_, _>>()?;
            let desc = name == "sort_by_label_desc";
            series.sort_by(|a, b| {
                for n in &names {
                    let (x, y) = (a.labels.get(n).unwrap_or(""), b.labels.get(n).unwrap_or(""));
                    if x == y {
                        continue;
                    }
                    let less = natural_less(x, y);
                    return match (less, desc) {
                        (true, false) | (false, true) => std::cmp::Ordering::Less,
                        _ => std::cmp::Ordering::Greater,
                    };
                }
                let o = a.labels.cmp(&b.labels);
                if desc { o.reverse() } else { o }
            });
        }
    }
    Ok(Value::Vector(series))
}

/// Natural ordering of label values: digit runs compare as integers, other runs as strings.
fn natural_less(a: &str, b: &str) -> bool {
    fn chunks(s: &str) -> Vec<&str> {
        let mut out = Vec::new();
        let mut start = 0;
        let mut prev_digit = None;
        for (i, c) in s.char_indices() {
            let d = c.is_ascii_digit();
            if prev_digit.is_some_and(|p| p != d) {
                out.push(&s[start..i]);
                start = i;
            }
            prev_digit = Some(d);
        }
        if start < s.len() {
            out.push(&s[start..]);
        }
        out
    }
    let (ca, cb) = (chunks(a), chunks(b));
    for (i, x) in ca.iter().enumerate() {
        let Some(y) = cb.get(i) else { return false };
        let last_a = i == ca.len() - 1;
        let last_b = i == cb.len() - 1;
        match (x.parse::<i64>(), y.parse::<i64>()) {
            (Ok(p), Ok(q)) => {
                if p == q {
                    if last_a {
                        return true;
                    } else if last_b {
                        return false;
                    }
                    continue;
                }
                return p < q;
            }
            _ => {
                if x == y {
                    if last_a {
                        return true;
                    } else if last_b {
                        return false;
                    }
                    continue;
                }
                return x < y;
            }
        }
    }
    false
}

/// What the classic-histogram functions need of their input series that is the same at every
/// step, worked out once per query: each series' `le` bound and group (all labels but `le`).
/// Per step and series, the label lookup, `le` parse, group key and labels without `le` were a
/// tenth of a day-long `histogram_quantile`'s instructions (valgrind).
struct BucketLayout {
    /// Per input series: its `le` bound (None when missing or malformed) and its group.
    of_series: Vec<(Option<f64>, usize)>,
    /// Per input series: its labels without `le` (a group's output labels at a step are those
    /// of the group's first series present at that step).
    without_le: Vec<Labels>,
    /// Number of groups.
    groups: usize,
}

impl BucketLayout {
    fn new(series: &[StepSeries]) -> Self {
        let le = ["le".to_string()];
        let mut ids: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut of_series = Vec::with_capacity(series.len());
        let mut without_le = Vec::with_capacity(series.len());
        for s in series {
            let upper = s.labels.get("le").and_then(parse_go_float);
            let next = ids.len();
            let group = *ids.entry(bucket_key(&s.labels)).or_insert(next);
            of_series.push((upper, group));
            without_le.push(labels_ext::without(&s.labels, &le));
        }
        Self {
            of_series,
            without_le,
            groups: ids.len(),
        }
    }
}

/// Classic-histogram buckets of one step grouped by series without `le`.
struct BucketGroups {
    /// Groups with buckets at this step, in order of first appearance.
    order: Vec<usize>,
    /// Per group: the first series present at this step (`usize::MAX`: none) and its buckets.
    groups: Vec<(usize, Vec<Bucket>)>,
    /// Series holding a native histogram at this step (not colliding with a classic group).
    natives: Vec<usize>,
}

impl BucketGroups {
    fn new(layout: &BucketLayout) -> Self {
        Self {
            order: Vec::new(),
            groups: vec![(usize::MAX, Vec::new()); layout.groups],
            natives: Vec::new(),
        }
    }
}

/// Grouping key of classic buckets: all labels but `le` (the name included).
fn bucket_key(labels: &Labels) -> Vec<u8> {
    let mut k = labels_ext::signature(labels, &["le".to_string()], false);
    k.extend_from_slice(labels.metric_name().as_bytes());
    k
}

/// Fills `out` (reused across steps) with the buckets of step `i`.
fn collect_buckets(
    ev: &mut Evaluator<'_>,
    series: &[StepSeries],
    layout: &BucketLayout,
    i: usize,
    anchor: &str,
    out: &mut BucketGroups,
) {
    for g in out.order.drain(..) {
        out.groups[g].0 = usize::MAX;
        out.groups[g].1.clear();
    }
    out.natives.clear();
    let mut natives = Vec::new();
    for (idx, (s, &(upper, group))) in series.iter().zip(&layout.of_series).enumerate() {
        let v = match s.points[i] {
            Point::Float(v) => v,
            Point::Hist(_) => {
                natives.push(idx);
                continue;
            }
            Point::Absent => continue,
        };
        let Some(upper) = upper else {
            let le = s.labels.get("le").unwrap_or("");
            let name = if ev.opts.delayed_name_removal {
                s.labels.metric_name().to_string()
            } else {
                String::new()
            };
            let mut msg =
                format!("bucket label \"le\" is missing or has a malformed value of {le:?}");
            if !name.is_empty() {
                msg.push_str(&format!(" for metric name {name:?}"));
            }
            ev.warn(msg, anchor);
            continue;
        };
        let entry = &mut out.groups[group];
        if entry.0 == usize::MAX {
            entry.0 = idx;
            out.order.push(group);
        }
        entry.1.push(Bucket {
            upper_bound: upper,
            count: v,
        });
    }
    for idx in natives {
        let s = &series[idx];
        let group = layout.of_series[idx].1;
        if !out.groups[group].1.is_empty() {
            let name = if ev.opts.delayed_name_removal {
                s.labels.metric_name().to_string()
            } else {
                String::new()
            };
            let mut msg = "vector contains a mix of classic and native histograms".to_string();
            if !name.is_empty() {
                msg.push_str(&format!(" for metric name {name:?}"));
            }
            ev.warn(msg, anchor);
            out.groups[group].1.clear();
            continue;
        }
        out.natives.push(idx);
    }
}

/// Output series of a function whose result series appear step by step (histogram_quantile,
/// histogram_fraction), kept in order of first appearance.
struct StepOutput {
    steps: usize,
    index: HashMap<Labels, usize>,
    series: Vec<StepSeries>,
}

impl StepOutput {
    fn new(steps: usize) -> Self {
        Self {
            steps,
            index: HashMap::new(),
            series: Vec::new(),
        }
    }

    /// Sets `v` at step `i` of the series with `labels`.
    fn put(&mut self, labels: &Labels, drop: bool, i: usize, v: f64) {
        let k = self.slot(labels, drop);
        self.series[k].points[i] = Point::Float(v);
    }

    /// The index of the series with `labels`, added (with `drop`) if new.
    fn slot(&mut self, labels: &Labels, drop: bool) -> usize {
        match self.index.get(labels) {
            Some(&k) => k,
            None => {
                self.series.push(StepSeries {
                    labels: labels.clone(),
                    drop_name: drop,
                    points: vec![Point::Absent; self.steps],
                });
                self.index.insert(labels.clone(), self.series.len() - 1);
                self.series.len() - 1
            }
        }
    }

    /// Sets `v` at step `i` of the series of classic group output labels `without_le[first]`;
    /// `slots` caches the output index per input series.
    fn put_group(
        &mut self,
        layout: &BucketLayout,
        series: &[StepSeries],
        first: usize,
        slots: &mut [Option<usize>],
        i: usize,
        v: f64,
    ) {
        let k = match slots[first] {
            Some(k) => k,
            None => {
                let k = self.slot(&layout.without_le[first], series[first].drop_name);
                slots[first] = Some(k);
                k
            }
        };
        self.series[k].points[i] = Point::Float(v);
    }

    /// The series, with `__name__` dropped (now or at the end of the query).
    fn finish(self, ev: &mut Evaluator<'_>) -> Result<Value, QueryError> {
        let mut series = self.series;
        for s in &mut series {
            ev.mark_drop_name(s);
        }
        Ok(Value::Vector(ev.merge_if_immediate(series)?))
    }
}

fn nan_metric(ev: &Evaluator<'_>, labels: &Labels) -> String {
    let name = labels.metric_name();
    if name.is_empty() || !ev.opts.delayed_name_removal {
        String::new()
    } else {
        format!(" for metric name {name:?}")
    }
}

/// Go's `strconv.ParseFloat` on label values: Rust's parser plus the `Inf` spellings.
pub(crate) fn parse_go_float(s: &str) -> Option<f64> {
    let t = s.trim_start_matches('+');
    match t.to_ascii_lowercase().as_str() {
        "inf" | "infinity" => {
            return Some(if s.starts_with('-') {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            });
        }
        "-inf" | "-infinity" => return Some(f64::NEG_INFINITY),
        "nan" => return Some(f64::NAN),
        _ => {}
    }
    s.parse::<f64>().ok()
}

fn histogram_quantile(
    ev: &mut Evaluator<'_>,
    args: &[&Expr],
    r: Range,
) -> Result<Value, QueryError> {
    let q = ev.eval_scalar(args[0], r)?;
    histogram_quantile_with(ev, &q, args[1], &args[0].to_string(), r)
}

fn histogram_quantile_with(
    ev: &mut Evaluator<'_>,
    q: &[f64],
    input: &Expr,
    q_anchor: &str,
    r: Range,
) -> Result<Value, QueryError> {
    let series = ev.eval_vector(input, r)?;
    let anchor = input.to_string();
    let mut out = StepOutput::new(r.steps());
    // Groups already annotated as forced monotonic: the annotation is the same at every step,
    // and building it (message, position, de-duplication) at each step was 2.6 % of the
    // query's CPU samples in a profile.
    let mut noted_monotonic: HashSet<usize> = HashSet::new();
    let layout = BucketLayout::new(&series);
    let mut groups = BucketGroups::new(&layout);
    let mut slots = vec![None; series.len()];
    let mut buckets = Vec::new();
    for (i, &qi) in q.iter().enumerate().take(r.steps()) {
        if qi.is_nan() || !(0.0..=1.0).contains(&qi) {
            ev.warn(
                format!(
                    "quantile value should be between 0 and 1, got {}",
                    go_float(qi)
                ),
                q_anchor,
            );
        }
        collect_buckets(ev, &series, &layout, i, &anchor, &mut groups);
        for &idx in &groups.natives {
            let s = &series[idx];
            let Point::Hist(h) = &s.points[i] else {
                continue;
            };
            let outcome = crate::histogram::histogram_quantile(q[i], h);
            let what = match outcome.nan_observations {
                crate::histogram::NanObservations::ResultNaN => Some("result is NaN"),
                crate::histogram::NanObservations::SkewedHigher => Some("result is skewed higher"),
                crate::histogram::NanObservations::None => None,
            };
            if let Some(what) = what {
                let msg = format!(
                    "input to histogram_quantile has NaN observations, {what}{}",
                    nan_metric(ev, &s.labels)
                );
                ev.info(msg, &anchor);
            }
            out.put(&s.labels, s.drop_name, i, outcome.value);
        }
        for &g in &groups.order {
            let (first, group_buckets) = &groups.groups[g];
            if group_buckets.is_empty() {
                continue;
            }
            buckets.clear();
            buckets.extend_from_slice(group_buckets);
            let res = bucket_quantile(q[i], &mut buckets);
            if res.forced_monotonic && noted_monotonic.insert(g) {
                let name = if ev.opts.delayed_name_removal {
                    layout.without_le[*first].metric_name().to_string()
                } else {
                    String::new()
                };
                let mut msg = "input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)".to_string();
                if !name.is_empty() {
                    msg.push_str(&format!(" for metric name {name:?}"));
                }
                ev.info(msg, &anchor);
            }
            out.put_group(&layout, &series, *first, &mut slots, i, res.value);
        }
    }
    out.finish(ev)
}

/// `histogram_quantiles(v, "label", q1, q2, ...)`: one `histogram_quantile` per φ, each result
/// labelled with its φ in OpenMetrics float notation.
fn histogram_quantiles(
    ev: &mut Evaluator<'_>,
    args: &[&Expr],
    r: Range,
) -> Result<Value, QueryError> {
    let label = string_arg(args[1])?;
    let mut out = Vec::new();
    for q_expr in &args[2..] {
        let q = ev.eval_scalar(q_expr, r)?;
        let phi = open_metrics_float(q.first().copied().unwrap_or(f64::NAN));
        let Value::Vector(series) =
            histogram_quantile_with(ev, &q, args[0], &q_expr.to_string(), r)?
        else {
            continue;
        };
        for mut s in series {
            s.labels = labels_ext::set(&s.labels, &label, &phi);
            out.push(s);
        }
    }
    Ok(Value::Vector(ev.merge_if_immediate(out)?))
}

/// `labels.FormatOpenMetricsFloat`: shortest form, with `.0` on integral values.
fn open_metrics_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let s = format!("{f}");
    if s.contains('.') || s.contains('e') {
        s
    } else {
        format!("{s}.0")
    }
}

fn histogram_fraction(
    ev: &mut Evaluator<'_>,
    args: &[&Expr],
    r: Range,
) -> Result<Value, QueryError> {
    let lower = ev.eval_scalar(args[0], r)?;
    let upper = ev.eval_scalar(args[1], r)?;
    let series = ev.eval_vector(args[2], r)?;
    let anchor = args[2].to_string();
    let mut out = StepOutput::new(r.steps());
    let layout = BucketLayout::new(&series);
    let mut groups = BucketGroups::new(&layout);
    let mut slots = vec![None; series.len()];
    let mut buckets = Vec::new();
    for i in 0..r.steps() {
        collect_buckets(ev, &series, &layout, i, &anchor, &mut groups);
        for &idx in &groups.natives {
            let s = &series[idx];
            let Point::Hist(h) = &s.points[i] else {
                continue;
            };
            let (v, had_nan) = crate::histogram::histogram_fraction(lower[i], upper[i], h);
            if had_nan {
                let msg = format!(
                    "input to histogram_fraction has NaN observations, which are excluded from all fractions{}",
                    nan_metric(ev, &s.labels)
                );
                ev.info(msg, &anchor);
            }
            out.put(&s.labels, s.drop_name, i, v);
        }
        for &g in &groups.order {
            let (first, group_buckets) = &groups.groups[g];
            if group_buckets.is_empty() {
                continue;
            }
            buckets.clear();
            buckets.extend_from_slice(group_buckets);
            let v = bucket_fraction(lower[i], upper[i], &mut buckets);
            out.put_group(&layout, &series, *first, &mut slots, i, v);
        }
    }
    out.finish(ev)
}

/// Go's `math.Min`: NaN if either is NaN; -0 below +0.
pub(crate) fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() { a } else { b }
    } else {
        a.min(b)
    }
}

/// Go's `math.Max`: NaN if either is NaN; +0 above -0.
pub(crate) fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_positive() { a } else { b }
    } else {
        a.max(b)
    }
}

/// Formats a float as Go's `%g` does for the common cases in messages.
pub(crate) fn go_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v}")
    }
}

/// How a range function uses its window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RangeKind {
    Rate,
    Increase,
    Delta,
    Irate,
    Idelta,
    Changes,
    Resets,
    Deriv,
    PredictLinear,
    Smoothing,
    Avg,
    Sum,
    Count,
    Min,
    Max,
    Quantile,
    Stddev,
    Stdvar,
    Last,
    First,
    Present,
    Absent,
    Mad,
    TsOfMax,
    TsOfMin,
    TsOfFirst,
    TsOfLast,
}

fn range_function(name: &str) -> Option<RangeKind> {
    use RangeKind::*;
    Some(match name {
        "rate" => Rate,
        "increase" => Increase,
        "delta" => Delta,
        "irate" => Irate,
        "idelta" => Idelta,
        "changes" => Changes,
        "resets" => Resets,
        "deriv" => Deriv,
        "predict_linear" => PredictLinear,
        "double_exponential_smoothing" | "holt_winters" => Smoothing,
        "avg_over_time" => Avg,
        "sum_over_time" => Sum,
        "count_over_time" => Count,
        "min_over_time" => Min,
        "max_over_time" => Max,
        "quantile_over_time" => Quantile,
        "stddev_over_time" => Stddev,
        "stdvar_over_time" => Stdvar,
        "last_over_time" => Last,
        "first_over_time" => First,
        "present_over_time" => Present,
        "absent_over_time" => Absent,
        "mad_over_time" => Mad,
        "ts_of_max_over_time" => TsOfMax,
        "ts_of_min_over_time" => TsOfMin,
        "ts_of_first_over_time" => TsOfFirst,
        "ts_of_last_over_time" => TsOfLast,
        _ => return None,
    })
}

/// `rate`, `increase` or `delta` (`kind`) of a float-only series (sorted by time, no staleness
/// markers) at every step, into `points`; `bounds(i)` is step `i`'s window `(start, end]`, and
/// windows never move back (steps ascend, and `@` fixes them). True if any step has a value.
///
/// Why not [`crate::eval::WindowCursor`] and [`ResetScan`]: over a day of 15 s samples at a 60 s
/// step they cost about 200 instructions per window (valgrind), more than the extrapolation;
/// here the series' resets are listed in one pass and the window and reset bounds are plain
/// forward indices, and the extrapolation's divisions are done once per [`WindowShape`]
/// ([`ShapeFactors`]). Results are bit-identical to [`extrapolated_rate_in`]'s: the same
/// resets are added in the same order and the factors come from the same operations.
fn float_rate_points(
    floats: &[(i64, f64)],
    bounds: impl Fn(usize) -> (i64, i64),
    range_ms: i64,
    kind: RangeKind,
    points: &mut [Point],
) -> bool {
    let is_counter = kind != RangeKind::Delta;
    let resets: Vec<usize> = if is_counter {
        (0..floats.len().saturating_sub(1))
            .filter(|&j| floats[j + 1].1 < floats[j].1)
            .collect()
    } else {
        Vec::new()
    };
    // Window `floats[lo..hi]`; resets inside it `resets[r_lo..r_hi]`.
    let (mut lo, mut hi, mut r_lo, mut r_hi) = (0usize, 0usize, 0usize, 0usize);
    let mut last_start = i64::MIN;
    let mut any = false;
    let (mut last_shape, mut factors) = (WindowShape::NONE, ShapeFactors::NONE);
    for (i, slot) in points.iter_mut().enumerate() {
        let (start, end) = bounds(i);
        if start < last_start {
            // Not expected (see above); start over rather than return a wrong window.
            (lo, hi, r_lo, r_hi) = (0, 0, 0, 0);
        }
        last_start = start;
        while lo < floats.len() && floats[lo].0 <= start {
            lo += 1;
        }
        hi = hi.max(lo);
        while hi < floats.len() && floats[hi].0 <= end {
            hi += 1;
        }
        if hi - lo < 2 {
            continue;
        }
        while r_lo < resets.len() && resets[r_lo] < lo {
            r_lo += 1;
        }
        r_hi = r_hi.max(r_lo);
        while r_hi < resets.len() && resets[r_hi] + 1 < hi {
            r_hi += 1;
        }
        let window = &floats[lo..hi];
        let resets_in = (&resets[r_lo..r_hi], lo);
        let shape = WindowShape::of(window, start, end);
        if shape != last_shape {
            factors = ShapeFactors::new(shape, range_ms, kind == RangeKind::Rate);
            last_shape = shape;
        }
        let v = factors.rate(window, resets_in, is_counter).or_else(|| {
            extrapolated_rate_in(
                window,
                (start, end, range_ms),
                Some(resets_in),
                is_counter,
                kind == RangeKind::Rate,
            )
        });
        if let Some(v) = v {
            *slot = Point::Float(v);
            any = true;
        }
    }
    any
}

/// Where a window's samples sit in it (ms from its start to the first sample, from the last
/// sample to its end, between first and last, and how many): all that the extrapolation
/// factor of [`extrapolated_rate_in`] depends on besides the counter's zero point. A regularly
/// scraped series gives most of its windows the same shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct WindowShape {
    to_first: i64,
    from_last: i64,
    sampled: i64,
    samples: usize,
}

impl WindowShape {
    /// An impossible shape (no window has no samples), for "none computed yet".
    const NONE: WindowShape = WindowShape {
        to_first: 0,
        from_last: 0,
        sampled: 0,
        samples: 0,
    };

    /// The shape of `window` (at least two samples) in `(start, end]`.
    fn of(window: &[(i64, f64)], start: i64, end: i64) -> Self {
        let first = window.first().map_or(0, |p| p.0);
        let last = window.last().map_or(0, |p| p.0);
        WindowShape {
            to_first: first - start,
            from_last: end - last,
            sampled: last - first,
            samples: window.len(),
        }
    }
}

/// Prometheus's extrapolation of a window's change to its edges, in seconds: from the window's
/// start to its first sample and from its last sample to its end (each cut to half the average
/// sample spacing when more than 1.1 spacings), and the span between first and last sample.
/// Shared by the float and histogram `rate`/`increase`/`delta` so they round alike.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Extrapolation {
    to_start: f64,
    to_end: f64,
    sampled: f64,
}

impl Extrapolation {
    /// The window `(start, end]` holding `samples` (at least two) samples, the first at
    /// `first_t`, the last at `last_t`.
    pub(crate) fn new(start: i64, end: i64, first_t: i64, last_t: i64, samples: usize) -> Self {
        let mut to_start = (first_t - start) as f64 / 1000.0;
        let mut to_end = (end - last_t) as f64 / 1000.0;
        let sampled = (last_t - first_t) as f64 / 1000.0;
        let avg_step = sampled / (samples.max(2) - 1) as f64;
        let threshold = avg_step * 1.1;
        if to_start >= threshold {
            to_start = avg_step / 2.0;
        }
        if to_end >= threshold {
            to_end = avg_step / 2.0;
        }
        Extrapolation {
            to_start,
            to_end,
            sampled,
        }
    }

    /// A counter's change cannot extrapolate below zero: the start moves to where the line
    /// through the first value (`first`) and the change (`change`) crosses zero, if nearer.
    pub(crate) fn stop_at_zero(&mut self, first: f64, change: f64) {
        if change > 0.0 && first >= 0.0 {
            let to_zero = self.sampled * (first / change);
            if to_zero < self.to_start {
                self.to_start = to_zero;
            }
        }
    }

    /// The factor the change is multiplied by (per second of `range_ms` for `rate`).
    pub(crate) fn factor(&self, range_ms: i64, is_rate: bool) -> f64 {
        let mut factor = if self.sampled != 0.0 {
            (self.sampled + self.to_start + self.to_end) / self.sampled
        } else {
            1.0
        };
        if is_rate {
            factor /= range_ms as f64 / 1000.0;
        }
        factor
    }
}

/// [`extrapolated_rate_in`]'s divisions for one [`WindowShape`], computed as it computes them
/// (so bit-identical), once per shape instead of per window: they were most of a day-long
/// `sum by (rate)`'s arithmetic.
#[derive(Clone, Copy, Debug)]
struct ShapeFactors {
    /// The extrapolation factor (divided by the range for `rate`) when a counter's zero point
    /// does not shorten the extrapolation towards the window's start.
    factor: f64,
    /// A counter whose first value is at least this multiple of its increase cannot reach
    /// zero before the extrapolated start: `2 × to_start / sampled`, twice what is needed,
    /// so rounding cannot matter. NaN when unknown.
    zero_bound: f64,
}

impl ShapeFactors {
    /// Placeholder before the first window (never used: its shape matches no window).
    const NONE: ShapeFactors = ShapeFactors {
        factor: f64::NAN,
        zero_bound: f64::NAN,
    };

    fn new(shape: WindowShape, range_ms: i64, is_rate: bool) -> Self {
        // The shape placed in a window starting at 0: the same integer differences, so the
        // same floats as the window's own times give.
        let x = Extrapolation::new(
            0,
            shape.to_first + shape.sampled + shape.from_last,
            shape.to_first,
            shape.to_first + shape.sampled,
            shape.samples,
        );
        let factor = x.factor(range_ms, is_rate);
        let zero_bound = if x.sampled > 0.0 && x.to_start > 0.0 {
            2.0 * (x.to_start / x.sampled)
        } else {
            f64::NAN
        };
        ShapeFactors { factor, zero_bound }
    }

    /// [`extrapolated_rate_in`] of `window` (of this shape, at least two samples) with its
    /// resets, or `None` when its counter may reach zero inside the extrapolation (then the
    /// full computation decides).
    fn rate(
        &self,
        window: &[(i64, f64)],
        (resets, offset): (&[usize], usize),
        is_counter: bool,
    ) -> Option<f64> {
        let first_v = window.first()?.1;
        let mut result = window.last()?.1 - first_v;
        if is_counter {
            for &j in resets {
                result += window.get(j.checked_sub(offset)?)?.1;
            }
            if result > 0.0 && first_v >= 0.0 {
                // extrapolated_rate_in takes the zero point `sampled × first_v / result` when
                // it is before `to_start`; a first value this large rules that out.
                let bound = result * self.zero_bound;
                if !(bound.is_finite() && bound >= f64::MIN_POSITIVE && first_v >= bound) {
                    return None;
                }
            }
        }
        Some(result * self.factor)
    }
}

/// The counter resets of one series (index of the sample before each drop), found
/// incrementally for windows that advance through it.
struct ResetScan {
    enabled: bool,
    resets: Vec<usize>,
    /// Pairs `(j, j + 1)` with `scan_from <= j < next_pair` have been checked.
    scan_from: usize,
    next_pair: usize,
}

impl ResetScan {
    fn new(enabled: bool) -> Self {
        Self {
            enabled,
            resets: Vec::new(),
            scan_from: 0,
            next_pair: 0,
        }
    }

    /// The resets inside the window `floats[offset..offset + len]`.
    fn within(&mut self, floats: &[(i64, f64)], offset: usize, len: usize) -> &[usize] {
        if !self.enabled {
            return &[];
        }
        if offset < self.scan_from {
            // A window behind the scanned part (windows normally only advance): start over.
            self.resets.clear();
            self.scan_from = offset;
            self.next_pair = offset;
        }
        let end = (offset + len).min(floats.len());
        let mut j = self.next_pair.max(offset);
        if j > self.next_pair {
            // Pairs skipped by a gap between windows are never needed again.
            self.resets.clear();
            self.scan_from = j;
        }
        while j + 1 < end {
            if floats[j + 1].1 < floats[j].1 {
                self.resets.push(j);
            }
            j += 1;
        }
        self.next_pair = self.next_pair.max(j);
        let first = self.resets.partition_point(|&r| r < offset);
        let last = self.resets.partition_point(|&r| r + 1 < end);
        &self.resets[first..last.max(first)]
    }
}

fn eval_range_function(
    ev: &mut Evaluator<'_>,
    name: &str,
    kind: RangeKind,
    args: &[&Expr],
    r: Range,
) -> Result<Value, QueryError> {
    let Some(mi) = args
        .iter()
        .position(|a| matches!(a, Expr::MatrixSelector(_) | Expr::Subquery(_)))
    else {
        return Err(QueryError::Execution(format!(
            "function {name} expects a range vector"
        )));
    };
    let mut params: Vec<Vec<f64>> = Vec::new();
    for (i, a) in args.iter().enumerate() {
        if i != mi {
            params.push(ev.eval_scalar(a, r)?);
        }
    }
    let n = r.steps();
    if kind == RangeKind::Absent {
        let arg = ev.matrix_arg(args[mi], r)?;
        return Ok(absent_over_time(&arg, args[mi], r));
    }
    // Staleness markers are stripped below, series by series.
    let arg = ev.matrix_arg_with(args[mi], r, false)?;
    if kind == RangeKind::Quantile {
        for q in &params[0] {
            if q.is_nan() || *q < 0.0 || *q > 1.0 {
                ev.warn(
                    format!(
                        "quantile value should be between 0 and 1, got {}",
                        go_float(*q)
                    ),
                    &args[0].to_string(),
                );
                break;
            }
        }
    }
    let keeps_name = matches!(kind, RangeKind::Last | RangeKind::First);
    // Windows of every series (in parallel when large), then annotations in series order.
    let chunks = crate::parallel::map_chunks(&arg.series, arg.series.len() * n, |chunk| {
        let mut notes = RangeNotes::default();
        let mut computed = Vec::with_capacity(chunk.len());
        for s in chunk {
            let metric = s.labels.metric_name();
            // Counter resets (index of the sample before each drop), so that a window's
            // correction adds its few resets instead of comparing every pair of samples. Found
            // as the windows advance, while their samples are in cache.
            let mut resets = ResetScan::new(matches!(kind, RangeKind::Rate | RangeKind::Increase));
            let mut points = vec![Point::Absent; n];
            let mut any_float = false;
            let mut mixed = false;
            let series_floats = crate::eval::without_stale(&s.floats);
            let mut cursor = crate::eval::WindowCursor::new(&series_floats, &s.hists);
            if s.hists.is_empty()
                && matches!(
                    kind,
                    RangeKind::Rate | RangeKind::Increase | RangeKind::Delta
                )
            {
                // Floats only: the windows' arithmetic without the generic per-window context
                // (7 % of a day-long `sum by (rate)`'s CPU went to building it), and with the
                // series' resets found once.
                any_float = float_rate_points(
                    &series_floats,
                    |i| arg.bounds(r.at(i)),
                    arg.range_ms,
                    kind,
                    &mut points,
                );
                computed.push((points, any_float, mixed));
                continue;
            }
            for (i, slot) in points.iter_mut().enumerate() {
                let t = r.at(i);
                let (ws, we) = arg.bounds(t);
                let (floats, hists) = cursor.window(ws, we);
                if floats.is_empty() && hists.is_empty() {
                    continue;
                }
                if !floats.is_empty() && !hists.is_empty() {
                    mixed = true;
                }
                let offset = cursor.float_offset();
                let ctx = WindowCtx {
                    t,
                    start: ws,
                    end: we,
                    range_ms: arg.range_ms,
                    params: params.iter().map(|p| p[i]).collect(),
                    metric,
                    resets: Some((resets.within(&series_floats, offset, floats.len()), offset)),
                };
                let p = apply_range(kind, &ctx, floats, hists, &mut notes)?;
                if matches!(p, Point::Float(_)) {
                    any_float = true;
                }
                *slot = p;
            }
            computed.push((points, any_float, mixed));
        }
        Ok::<_, QueryError>((computed, notes))
    });
    let mut notes = RangeNotes::default();
    let mut computed = Vec::with_capacity(arg.series.len());
    for chunk in chunks {
        let (c, n) = chunk?;
        computed.extend(c);
        notes.warnings.extend(n.warnings);
        notes.infos.extend(n.infos);
    }
    let mut out = Vec::with_capacity(arg.series.len());
    for (s, (points, any_float, mixed)) in arg.series.iter().zip(computed) {
        if mixed
            && matches!(
                kind,
                RangeKind::Min
                    | RangeKind::Max
                    | RangeKind::TsOfMin
                    | RangeKind::TsOfMax
                    | RangeKind::Quantile
                    | RangeKind::Stddev
                    | RangeKind::Stdvar
                    | RangeKind::Mad
                    | RangeKind::Deriv
                    | RangeKind::PredictLinear
                    | RangeKind::Smoothing
            )
        {
            ev.info(
                format!(
                    "ignored histograms in a range containing both floats and histograms for metric name {:?}",
                    s.labels.metric_name()
                ),
                &arg.text,
            );
        }
        if matches!(kind, RangeKind::Rate | RangeKind::Increase) && any_float {
            let metric = s.labels.metric_name();
            if !metric.is_empty()
                && !["_total", "_sum", "_count", "_bucket"]
                    .iter()
                    .any(|suffix| metric.ends_with(suffix))
            {
                ev.info(
                    format!(
                        "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {metric:?}"
                    ),
                    &arg.text,
                );
            }
        }
        let mut series = StepSeries {
            labels: s.labels.clone(),
            drop_name: s.drop_name,
            points,
        };
        if !series.has_values() {
            continue;
        }
        if !keeps_name {
            ev.mark_drop_name(&mut series);
        }
        out.push(series);
    }
    for w in notes.warnings {
        ev.warn(w, &arg.text);
    }
    for i in notes.infos {
        ev.info(i, &arg.text);
    }
    Ok(Value::Vector(ev.merge_if_immediate(out)?))
}

fn absent_over_time(arg: &MatrixArg<'_>, expr: &Expr, r: Range) -> Value {
    let points: Vec<Point> = (0..r.steps())
        .map(|i| {
            let (ws, we) = arg.bounds(r.at(i));
            let any = arg.series.iter().any(|s| {
                let (f, h) = s.window(ws, we);
                !f.is_empty() || !h.is_empty()
            });
            if any {
                Point::Absent
            } else {
                Point::Float(1.0)
            }
        })
        .collect();
    Value::Vector(non_empty(StepSeries {
        labels: absent_labels(expr),
        drop_name: false,
        points,
    }))
}

struct WindowCtx<'a> {
    t: i64,
    start: i64,
    end: i64,
    range_ms: i64,
    params: Vec<f64>,
    metric: &'a str,
    /// The window's counter resets as indices into the series' floats, with the index of
    /// the window's first float; `None` to find them by scanning the window.
    resets: Option<(&'a [usize], usize)>,
}

/// Annotations raised while reducing windows (deduplicated by the evaluator).
#[derive(Default)]
struct RangeNotes {
    warnings: Vec<String>,
    infos: Vec<String>,
}

fn apply_range(
    kind: RangeKind,
    ctx: &WindowCtx<'_>,
    f: &[(i64, f64)],
    h: &[(i64, Arc<FloatHistogram>)],
    notes: &mut RangeNotes,
) -> Result<Point, QueryError> {
    use RangeKind::*;
    let float = |v: Option<f64>| v.map_or(Point::Absent, Point::Float);
    let mixed_warning = |notes: &mut RangeNotes| {
        notes.warnings.push(format!(
            "encountered a mix of histograms and floats for metric name {:?}",
            ctx.metric
        ));
    };
    Ok(match kind {
        Rate | Increase | Delta => {
            if !h.is_empty() && !f.is_empty() {
                mixed_warning(notes);
                return Ok(Point::Absent);
            }
            if !h.is_empty() {
                return Ok(crate::hist_functions::extrapolated_histogram_rate(
                    h,
                    ctx.start,
                    ctx.end,
                    ctx.range_ms,
                    kind != Delta,
                    kind == Rate,
                    ctx.metric,
                    &mut notes.warnings,
                    &mut notes.infos,
                )
                .map_or(Point::Absent, |x| Point::Hist(Arc::new(x))));
            }
            float(extrapolated_rate(f, ctx, kind != Delta, kind == Rate))
        }
        Irate | Idelta => {
            if !h.is_empty() {
                return Ok(crate::hist_functions::instant_value_any(
                    f,
                    h,
                    kind == Irate,
                    ctx.metric,
                    &mut notes.warnings,
                    &mut notes.infos,
                ));
            }
            float(instant_value(f, kind == Irate))
        }
        Changes | Resets => {
            if f.is_empty() && h.is_empty() {
                return Ok(Point::Absent);
            }
            Point::Float(crate::hist_functions::changes_or_resets(f, h, kind == Resets) as f64)
        }
        Deriv => {
            if f.len() < 2 {
                return Ok(Point::Absent);
            }
            Point::Float(linear_regression(f, f[0].0).0)
        }
        PredictLinear => {
            if f.len() < 2 {
                return Ok(Point::Absent);
            }
            let (slope, intercept) = linear_regression(f, ctx.t);
            Point::Float(slope * ctx.params[0] + intercept)
        }
        Smoothing => {
            let (sf, tf) = (ctx.params[0], ctx.params[1]);
            if sf <= 0.0 || sf >= 1.0 {
                return Err(QueryError::Execution(format!(
                    "invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:.6}"
                )));
            }
            if tf <= 0.0 || tf >= 1.0 {
                return Err(QueryError::Execution(format!(
                    "invalid trend factor. Expected: 0 < tf < 1, got: {tf:.6}"
                )));
            }
            if f.len() < 2 {
                return Ok(Point::Absent);
            }
            let (mut s0, mut s1) = (0.0, f[0].1);
            let mut b = f[1].1 - f[0].1;
            for (i, p) in f.iter().enumerate().skip(1) {
                let x = sf * p.1;
                if i > 1 {
                    b = tf * (s1 - s0) + (1.0 - tf) * b;
                }
                let y = (1.0 - sf) * (s1 + b);
                s0 = s1;
                s1 = x + y;
            }
            Point::Float(s1)
        }
        Avg | Sum if !h.is_empty() => {
            if !f.is_empty() {
                mixed_warning(notes);
                return Ok(Point::Absent);
            }
            crate::hist_functions::sum_or_avg_over_time(
                h,
                kind == Avg,
                ctx.metric,
                &mut notes.warnings,
                &mut notes.infos,
            )
            .map_or(Point::Absent, |x| Point::Hist(Arc::new(x)))
        }
        Avg => {
            if f.is_empty() {
                return Ok(Point::Absent);
            }
            Point::Float(avg(f.iter().map(|p| p.1)))
        }
        Sum => {
            if f.is_empty() {
                return Ok(Point::Absent);
            }
            let (mut sum, mut c) = (0.0, 0.0);
            for p in f {
                (sum, c) = kahan_inc(p.1, sum, c);
            }
            Point::Float(if sum.is_infinite() { sum } else { sum + c })
        }
        Count => Point::Float((f.len() + h.len()) as f64),
        Present => Point::Float(1.0),
        Absent => Point::Absent,
        Min | Max | TsOfMin | TsOfMax => {
            if f.is_empty() {
                return Ok(Point::Absent);
            }
            let (mut best, mut best_t) = (f[0].1, f[0].0);
            for p in f {
                let take = match kind {
                    Max => p.1 > best || best.is_nan(),
                    Min => p.1 < best || best.is_nan(),
                    TsOfMax => p.1 >= best || best.is_nan(),
                    _ => p.1 <= best || best.is_nan(),
                };
                if take {
                    best = p.1;
                    best_t = p.0;
                }
            }
            Point::Float(if matches!(kind, Min | Max) {
                best
            } else {
                best_t as f64 / 1000.0
            })
        }
        Quantile => {
            if f.is_empty() {
                return Ok(Point::Absent);
            }
            let mut v: Vec<f64> = f.iter().map(|p| p.1).collect();
            Point::Float(quantile(ctx.params[0], &mut v))
        }
        Stddev | Stdvar => {
            if f.is_empty() {
                return Ok(Point::Absent);
            }
            let (mut count, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for p in f {
                count += 1.0;
                let delta = p.1 - (mean + c_mean);
                (mean, c_mean) = kahan_inc(delta / count, mean, c_mean);
                (aux, c_aux) = kahan_inc(delta * (p.1 - (mean + c_mean)), aux, c_aux);
            }
            let var = (aux + c_aux) / count;
            Point::Float(if kind == Stddev { var.sqrt() } else { var })
        }
        Last => {
            let lf = f.last();
            let lh = h.last();
            match (lf, lh) {
                (Some(a), Some(b)) if b.0 > a.0 => Point::Hist(Arc::clone(&b.1)),
                (Some(a), _) => Point::Float(a.1),
                (None, Some(b)) => Point::Hist(Arc::clone(&b.1)),
                (None, None) => Point::Absent,
            }
        }
        First => {
            let ff = f.first();
            let fh = h.first();
            match (ff, fh) {
                (Some(a), Some(b)) if b.0 < a.0 => Point::Hist(Arc::clone(&b.1)),
                (Some(a), _) => Point::Float(a.1),
                (None, Some(b)) => Point::Hist(Arc::clone(&b.1)),
                (None, None) => Point::Absent,
            }
        }
        Mad => {
            if f.is_empty() {
                return Ok(Point::Absent);
            }
            if f.iter().any(|p| p.1.is_nan()) {
                return Ok(Point::Float(f64::NAN));
            }
            let mut v: Vec<f64> = f.iter().map(|p| p.1).collect();
            let median = quantile(0.5, &mut v);
            let mut dev: Vec<f64> = v.iter().map(|x| (x - median).abs()).collect();
            Point::Float(quantile(0.5, &mut dev))
        }
        TsOfFirst => {
            let tf = f.first().map_or(i64::MAX, |p| p.0);
            let th = h.first().map_or(i64::MAX, |p| p.0);
            Point::Float(tf.min(th) as f64 / 1000.0)
        }
        TsOfLast => {
            let tf = f.last().map_or(i64::MIN, |p| p.0);
            let th = h.last().map_or(i64::MIN, |p| p.0);
            Point::Float(tf.max(th) as f64 / 1000.0)
        }
    })
}

/// Mean with Kahan summation, switching to an incremental mean if the sum would overflow.
pub(crate) fn avg(values: impl Iterator<Item = f64>) -> f64 {
    let mut it = values;
    let Some(first) = it.next() else {
        return f64::NAN;
    };
    let (mut sum, mut count, mut mean, mut c) = (first, 1.0, 0.0, 0.0);
    let mut incremental = false;
    for v in it {
        count += 1.0;
        if !incremental {
            let (ns, nc) = kahan_inc(v, sum, c);
            if !ns.is_infinite() {
                sum = ns;
                c = nc;
                continue;
            }
            incremental = true;
            mean = sum / (count - 1.0);
            c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (mean, c) = kahan_inc(v / count, q * mean, q * c);
    }
    if incremental {
        mean + c
    } else {
        sum / count + c / count
    }
}

/// `rate`, `increase` and `delta`: the change over the window, extrapolated towards its edges.
fn extrapolated_rate(
    f: &[(i64, f64)],
    ctx: &WindowCtx<'_>,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    extrapolated_rate_in(
        f,
        (ctx.start, ctx.end, ctx.range_ms),
        ctx.resets,
        is_counter,
        is_rate,
    )
}

/// [`extrapolated_rate`] of the window `(start, end]` of `range_ms`, with its counter resets
/// as in [`WindowCtx::resets`].
fn extrapolated_rate_in(
    f: &[(i64, f64)],
    (start, end, range_ms): (i64, i64, i64),
    resets: Option<(&[usize], usize)>,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    if f.len() < 2 {
        return None;
    }
    let (first_t, first_v) = f[0];
    let (last_t, last_v) = f[f.len() - 1];
    let mut result = last_v - first_v;
    if is_counter {
        // Resets are added in time order either way, so the sums are bit-identical.
        match resets {
            Some((resets, offset)) => {
                for &j in resets {
                    result += f[j - offset].1;
                }
            }
            None => {
                for w in f.windows(2) {
                    if w[1].1 < w[0].1 {
                        result += w[0].1;
                    }
                }
            }
        }
    }
    let mut x = Extrapolation::new(start, end, first_t, last_t, f.len());
    if is_counter {
        x.stop_at_zero(first_v, result);
    }
    Some(result * x.factor(range_ms, is_rate))
}

/// `irate` and `idelta`: from the last two samples.
fn instant_value(f: &[(i64, f64)], is_rate: bool) -> Option<f64> {
    if f.len() < 2 {
        return None;
    }
    let (t0, v0) = f[f.len() - 2];
    let (t1, v1) = f[f.len() - 1];
    let interval = t1 - t0;
    if interval == 0 {
        return None;
    }
    let mut result = v1;
    if !is_rate || v1.partial_cmp(&v0) != Some(std::cmp::Ordering::Less) {
        result = v1 - v0;
    }
    if is_rate {
        result /= interval as f64 / 1000.0;
    }
    Some(result)
}

/// Least-squares fit of the samples against time (seconds from `intercept_t`).
fn linear_regression(f: &[(i64, f64)], intercept_t: i64) -> (f64, f64) {
    let (mut n, mut sx, mut cx, mut sy, mut cy, mut sxy, mut cxy, mut sx2, mut cx2) =
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    let init_y = f[0].1;
    let mut const_y = true;
    for (i, p) in f.iter().enumerate() {
        if const_y && i > 0 && p.1 != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (p.0 - intercept_t) as f64 / 1e3;
        (sx, cx) = kahan_inc(x, sx, cx);
        (sy, cy) = kahan_inc(p.1, sy, cy);
        (sxy, cxy) = kahan_inc(x * p.1, sxy, cxy);
        (sx2, cx2) = kahan_inc(x * x, sx2, cx2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    sx += cx;
    sy += cy;
    sxy += cxy;
    sx2 += cx2;
    let cov = sxy - sx * sy / n;
    let var = sx2 - sx * sx / n;
    let slope = cov / var;
    let intercept = sy / n - slope * sx / n;
    (slope, intercept)
}

#[cfg(test)]
mod tests {
    use super::{Point, RangeKind, ResetScan, extrapolated_rate_in, float_rate_points};

    /// `kind` of the window `(start, end]` of `floats`, from its samples alone.
    fn from_scratch(
        floats: &[(i64, f64)],
        (start, end): (i64, i64),
        range_ms: i64,
        kind: RangeKind,
    ) -> Option<f64> {
        let window: Vec<(i64, f64)> = floats
            .iter()
            .copied()
            .filter(|p| p.0 > start && p.0 <= end)
            .collect();
        extrapolated_rate_in(
            &window,
            (start, end, range_ms),
            None,
            kind != RangeKind::Delta,
            kind == RangeKind::Rate,
        )
    }

    /// The forward-index loop gives, bit for bit, what each window computed from scratch
    /// gives: for counters with resets and gaps, for `delta`, for windows that hold still
    /// (`@`), overlap, skip samples or (unexpectedly) go back.
    #[test]
    fn float_rate_points_match_windows_computed_from_scratch() {
        // 15 s samples with a gap, drops every 37 samples and a repeated value.
        let floats: Vec<(i64, f64)> = (0..400i64)
            .filter(|i| !(120..150).contains(i))
            .map(|i| (i * 15_000, ((i % 37) * 10 + i / 50) as f64 + 0.5))
            .collect();
        let range_ms = 300_000;
        let steps: Vec<i64> = (0..90).map(|i| i * 60_000 + 7_000).collect();
        let fixed = [3_000_000i64; 5];
        let back = [2_000_000i64, 2_060_000, 900_000, 960_000, 5_000_000];
        for kind in [RangeKind::Rate, RangeKind::Increase, RangeKind::Delta] {
            for ends in [&steps[..], &fixed[..], &back[..]] {
                let bounds = |i: usize| (ends[i] - range_ms, ends[i]);
                let mut got = vec![Point::Absent; ends.len()];
                let any = float_rate_points(&floats, bounds, range_ms, kind, &mut got);
                let want: Vec<Point> = (0..ends.len())
                    .map(|i| {
                        from_scratch(&floats, bounds(i), range_ms, kind)
                            .map_or(Point::Absent, Point::Float)
                    })
                    .collect();
                let bits = |p: &[Point]| {
                    p.iter()
                        .map(|x| match x {
                            Point::Float(f) => Some(f.to_bits()),
                            _ => None,
                        })
                        .collect::<Vec<_>>()
                };
                assert_eq!(bits(&got), bits(&want), "{kind:?} {ends:?}");
                assert_eq!(any, want.iter().any(|p| matches!(p, Point::Float(_))));
            }
        }
    }

    /// The per-shape factors give, bit for bit, what each window computed from scratch gives,
    /// on series where the counter's zero point does and does not shorten the extrapolation:
    /// counters starting at or near 0, tiny and huge values, negative values, NaN and
    /// infinity, jittered and missing scrapes.
    #[test]
    fn shape_factors_match_the_full_extrapolation_bit_for_bit() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let value_kinds: [fn(i64, u64) -> f64; 7] = [
            |i, _| i as f64 * 3.0,                         // counter from 0
            |i, r| 1e-300 * (i as f64 + (r % 3) as f64),   // tiny
            |i, _| 1e300 + i as f64 * 1e290,               // huge
            |i, r| (i % 17) as f64 - 8.0 + (r % 5) as f64, // negative, resets
            |i, _| if i % 50 == 7 { f64::NAN } else { i as f64 },
            |i, _| {
                if i % 60 == 9 {
                    f64::INFINITY
                } else {
                    5.0 + i as f64
                }
            },
            |i, r| 1_000.0 + (i / 4) as f64 + (r % 2) as f64 * 0.25, // flat stretches
        ];
        let range_ms = 300_000;
        for (k, value) in value_kinds.iter().enumerate() {
            for jitter in [0i64, 1, 400] {
                let floats: Vec<(i64, f64)> = (0..600i64)
                    .filter(|i| (i * 7 + k as i64) % 23 != 0)
                    .map(|i| {
                        let r = next();
                        let t = i * 15_000 + (r % (jitter as u64 + 1)) as i64;
                        (t, value(i, r))
                    })
                    .collect();
                let ends: Vec<i64> = (0..150).map(|i| i * 60_000 + 1_000).collect();
                for kind in [RangeKind::Rate, RangeKind::Increase, RangeKind::Delta] {
                    let bounds = |i: usize| (ends[i] - range_ms, ends[i]);
                    let mut got = vec![Point::Absent; ends.len()];
                    float_rate_points(&floats, bounds, range_ms, kind, &mut got);
                    for (i, p) in got.iter().enumerate() {
                        let want = from_scratch(&floats, bounds(i), range_ms, kind);
                        let got = match p {
                            Point::Float(f) => Some(f.to_bits()),
                            _ => None,
                        };
                        assert_eq!(
                            got,
                            want.map(f64::to_bits),
                            "values {k}, jitter {jitter}, {kind:?}, window {i}"
                        );
                    }
                }
            }
        }
    }

    /// The incremental scan finds exactly the drops inside each window, whether windows
    /// advance, overlap, leave gaps or go back.
    #[test]
    fn reset_scan_matches_a_full_scan_of_each_window() {
        let floats: Vec<(i64, f64)> = (0..200i64).map(|i| (i, ((i * 37) % 23) as f64)).collect();
        let windows = [
            (0, 10),
            (5, 10),
            (5, 10),
            (12, 30),
            (60, 5),
            (61, 0),
            (70, 40),
            (20, 15),
            (150, 60),
            (199, 1),
        ];
        let mut scan = ResetScan::new(true);
        for (offset, len) in windows {
            let end = (offset + len).min(floats.len());
            let want: Vec<usize> = (offset..end.saturating_sub(1))
                .filter(|&j| floats[j + 1].1 < floats[j].1)
                .collect();
            assert_eq!(
                scan.within(&floats, offset, len),
                &want[..],
                "{offset}+{len}"
            );
        }
        assert!(ResetScan::new(false).within(&floats, 0, 200).is_empty());
    }
}
