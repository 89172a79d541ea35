//! Aggregation operators (`sum`, `avg`, `topk`, `count_values`, ...), step by step over groups
//! fixed once per query from each series' labels.

use crate::QueryError;
use crate::eval::{Evaluator, Range};
use crate::functions::go_float;
use crate::histogram::{CounterResetHint, FloatHistogram, OpFlags};
use crate::quantile::{kahan_inc, quantile};
use crate::value::{Point, StepSeries, Value, labels_ext};
use architect_model::{Labels, METRIC_NAME};
use promql_parser::parser::{AggregateExpr, Expr, LabelModifier};
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Sum,
    Avg,
    Count,
    Min,
    Max,
    Group,
    Stddev,
    Stdvar,
    Quantile,
    Topk,
    Bottomk,
    Limitk,
    LimitRatio,
    CountValues,
}

fn op_of(name: &str) -> Option<Op> {
    Some(match name {
        "sum" => Op::Sum,
        "avg" => Op::Avg,
        "count" => Op::Count,
        "min" => Op::Min,
        "max" => Op::Max,
        "group" => Op::Group,
        "stddev" => Op::Stddev,
        "stdvar" => Op::Stdvar,
        "quantile" => Op::Quantile,
        "topk" => Op::Topk,
        "bottomk" => Op::Bottomk,
        "limitk" => Op::Limitk,
        "limit_ratio" => Op::LimitRatio,
        "count_values" => Op::CountValues,
        _ => return None,
    })
}

/// The grouping of an aggregation: `by` (include) or `without` labels.
struct Grouping {
    names: Vec<String>,
    include: bool,
}

impl Grouping {
    fn of(m: &Option<LabelModifier>) -> Self {
        match m {
            None => Grouping {
                names: Vec::new(),
                include: true,
            },
            Some(LabelModifier::Include(l)) => Grouping {
                names: l.labels.clone(),
                include: true,
            },
            Some(LabelModifier::Exclude(l)) => Grouping {
                names: l.labels.clone(),
                include: false,
            },
        }
    }

    fn key(&self, labels: &Labels) -> Vec<u8> {
        labels_ext::signature(labels, &self.names, self.include)
    }

    fn labels(&self, labels: &Labels) -> Labels {
        if self.include {
            labels_ext::keep(labels, &self.names)
        } else {
            let mut names = self.names.clone();
            names.push(METRIC_NAME.to_string());
            labels_ext::without(labels, &names)
        }
    }
}

pub(crate) fn eval(
    ev: &mut Evaluator<'_>,
    a: &AggregateExpr,
    r: Range,
) -> Result<Value, QueryError> {
    let name = a.op.to_string();
    let op =
        op_of(&name).ok_or_else(|| QueryError::Execution(format!("unknown aggregation {name}")))?;
    let grouping = Grouping::of(&a.modifier);
    if op == Op::CountValues {
        let label = match a.param.as_deref().map(unwrap_parens) {
            Some(Expr::StringLiteral(s)) => s.val.clone(),
            _ => {
                return Err(QueryError::Execution(
                    "count_values needs a label name".into(),
                ));
            }
        };
        if let Err(quoted) = ev.valid_label_name(&label) {
            return Err(QueryError::Execution(format!(
                "invalid label name {quoted}"
            )));
        }
        let input = ev.eval_vector(&a.expr, r)?;
        return Ok(Value::Vector(count_values(&input, &grouping, &label, r)));
    }
    let param = match (&a.param, op) {
        (Some(p), Op::Quantile | Op::Topk | Op::Bottomk | Op::Limitk | Op::LimitRatio) => {
            Some(ev.eval_scalar(p, r)?)
        }
        _ => None,
    };
    let input = ev.eval_vector(&a.expr, r)?;
    let param_anchor = a.param.as_ref().map(|p| p.to_string()).unwrap_or_default();
    match op {
        Op::Topk | Op::Bottomk | Op::Limitk | Op::LimitRatio => {
            let params = param.unwrap_or_default();
            select_k(ev, op, &name, &input, &grouping, &params, &param_anchor, r)
        }
        _ => {
            if let (Op::Quantile, Some(qs)) = (op, &param) {
                if qs.iter().any(|q| q.is_nan()) {
                    ev.warn(
                        "quantile value should be between 0 and 1, got NaN",
                        &param_anchor,
                    );
                }
                let max = qs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let min = qs.iter().copied().fold(f64::INFINITY, f64::min);
                if max > 1.0 {
                    ev.warn(
                        format!(
                            "quantile value should be between 0 and 1, got {}",
                            go_float(max)
                        ),
                        &param_anchor,
                    );
                }
                if min < 0.0 {
                    ev.warn(
                        format!(
                            "quantile value should be between 0 and 1, got {}",
                            go_float(min)
                        ),
                        &param_anchor,
                    );
                }
            }
            let out = reduce(ev, op, &name, &input, &grouping, param.as_deref(), a, r);
            let work = input.len() * r.steps();
            crate::parallel::drop_chunks(input, work);
            out
        }
    }
}

fn unwrap_parens(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => unwrap_parens(&p.expr),
        other => other,
    }
}

/// Per-group accumulator of one step.
#[derive(Clone, Default)]
struct Acc {
    seen: bool,
    value: f64,
    comp: f64,
    mean: f64,
    count: f64,
    incremental: bool,
    values: Vec<f64>,
    has_float: bool,
    has_hist: bool,
    hist: Option<FloatHistogram>,
    hist_comp: Option<FloatHistogram>,
    hist_mean: Option<FloatHistogram>,
    hist_incremental: bool,
    incompatible: bool,
    reset_seen: bool,
    not_reset_seen: bool,
    drop_name: bool,
}

impl Acc {
    fn track_hint(&mut self, h: &FloatHistogram) {
        match h.counter_reset_hint {
            CounterResetHint::CounterReset => self.reset_seen = true,
            CounterResetHint::NotCounterReset => self.not_reset_seen = true,
            _ => {}
        }
    }
}

/// What happened while aggregating histograms, for annotations.
#[derive(Default)]
struct HistNotes {
    reconciled: bool,
    incompatible_metric: Option<String>,
}

fn note_result(
    r: Result<OpFlags, crate::histogram::HistogramError>,
    notes: &mut HistNotes,
    metric: &str,
) -> bool {
    match r {
        Ok(f) => {
            notes.reconciled |= f.nhcb_bounds_reconciled;
            true
        }
        Err(_) => {
            notes
                .incompatible_metric
                .get_or_insert_with(|| metric.to_string());
            false
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn reduce(
    ev: &mut Evaluator<'_>,
    op: Op,
    name: &str,
    input: &[StepSeries],
    grouping: &Grouping,
    param: Option<&[f64]>,
    a: &AggregateExpr,
    r: Range,
) -> Result<Value, QueryError> {
    if let Some(out) = reduce_floats(op, input, grouping, r) {
        return Ok(Value::Vector(out));
    }
    let (group_of, mut out) = group_series(input, grouping, || vec![Point::Absent; r.steps()]);
    let anchor = a.expr.to_string();
    let mut notes = HistNotes::default();
    let mut ignored_hist = false;
    let mut mixed = false;
    let mut collision = false;
    let mut accs = vec![Acc::default(); out.len()];
    for i in 0..r.steps() {
        for acc in accs.iter_mut() {
            *acc = Acc {
                values: std::mem::take(&mut acc.values),
                ..Acc::default()
            };
            acc.values.clear();
        }
        for (si, s) in input.iter().enumerate() {
            let acc = &mut accs[group_of[si]];
            let (f, h) = match &s.points[i] {
                Point::Absent => continue,
                Point::Hist(h) => (0.0, Some(h.as_ref())),
                Point::Float(f) => (*f, None),
            };
            let metric = s.labels.metric_name();
            if !acc.seen {
                acc.seen = true;
                acc.value = f;
                acc.mean = f;
                acc.count = 1.0;
                acc.drop_name = s.drop_name;
                match op {
                    Op::Sum | Op::Avg => match h {
                        None => acc.has_float = true,
                        Some(h) => {
                            acc.hist = Some(h.clone());
                            acc.has_hist = true;
                            acc.track_hint(h);
                        }
                    },
                    Op::Stddev | Op::Stdvar => {
                        if h.is_some() {
                            acc.seen = false;
                            ignored_hist = true;
                        } else {
                            acc.value = if f.is_nan() || f.is_infinite() {
                                f64::NAN
                            } else {
                                0.0
                            };
                        }
                    }
                    Op::Quantile => {
                        if h.is_some() {
                            acc.seen = false;
                            ignored_hist = true;
                        }
                        acc.values.push(f);
                    }
                    Op::Group => acc.value = 1.0,
                    Op::Min | Op::Max if h.is_some() => {
                        acc.seen = false;
                        ignored_hist = true;
                    }
                    _ => {}
                }
                continue;
            }
            if acc.incompatible {
                continue;
            }
            acc.drop_name |= s.drop_name;
            match op {
                Op::Sum => match h {
                    Some(h) => {
                        acc.has_hist = true;
                        if acc.hist.is_some() {
                            acc.track_hint(h);
                        }
                        let comp = acc.hist_comp.take();
                        if let Some(sum) = acc.hist.as_mut() {
                            match sum.kahan_add(h, comp) {
                                Ok((c, flags)) => {
                                    acc.hist_comp = c;
                                    notes.reconciled |= flags.nhcb_bounds_reconciled;
                                }
                                Err(e) => {
                                    note_result(Err(e), &mut notes, metric);
                                    acc.incompatible = true;
                                }
                            }
                        }
                    }
                    None => {
                        acc.has_float = true;
                        (acc.value, acc.comp) = kahan_inc(f, acc.value, acc.comp);
                    }
                },
                Op::Avg => {
                    acc.count += 1.0;
                    match h {
                        Some(h) => {
                            acc.has_hist = true;
                            if acc.hist.is_none() {
                                continue;
                            }
                            acc.track_hint(h);
                            if !acc.hist_incremental {
                                let mut v = acc.hist.clone().unwrap_or_default();
                                match v.kahan_add(h, acc.hist_comp.clone()) {
                                    Ok((c, flags)) => {
                                        notes.reconciled |= flags.nhcb_bounds_reconciled;
                                        if !v.has_overflow() {
                                            acc.hist = Some(v);
                                            acc.hist_comp = c;
                                            continue;
                                        }
                                    }
                                    Err(e) => {
                                        note_result(Err(e), &mut notes, metric);
                                        acc.incompatible = true;
                                        continue;
                                    }
                                }
                                acc.hist_incremental = true;
                                let mut mean = acc.hist.clone().unwrap_or_default();
                                mean.div(acc.count - 1.0);
                                acc.hist_mean = Some(mean);
                                if let Some(c) = acc.hist_comp.as_mut() {
                                    c.div(acc.count - 1.0);
                                }
                            }
                            let q = (acc.count - 1.0) / acc.count;
                            if let Some(c) = acc.hist_comp.as_mut() {
                                c.mul(q);
                            }
                            let mut to_add = h.clone();
                            to_add.div(acc.count);
                            if let Some(mean) = acc.hist_mean.as_mut() {
                                mean.mul(q);
                                match mean.kahan_add(&to_add, acc.hist_comp.take()) {
                                    Ok((c, flags)) => {
                                        acc.hist_comp = c;
                                        notes.reconciled |= flags.nhcb_bounds_reconciled;
                                    }
                                    Err(e) => {
                                        note_result(Err(e), &mut notes, metric);
                                        acc.incompatible = true;
                                    }
                                }
                            }
                        }
                        None => {
                            acc.has_float = true;
                            avg_add(
                                &mut acc.value,
                                &mut acc.comp,
                                &mut acc.mean,
                                &mut acc.incremental,
                                acc.count,
                                f,
                            );
                        }
                    }
                }
                Op::Group => {}
                Op::Max | Op::Min | Op::Stddev | Op::Stdvar | Op::Quantile if h.is_some() => {
                    ignored_hist = true;
                }
                Op::Max if acc.value < f || acc.value.is_nan() => acc.value = f,
                Op::Min if acc.value > f || acc.value.is_nan() => acc.value = f,
                Op::Max | Op::Min => {}
                Op::Count => acc.count += 1.0,
                Op::Stddev | Op::Stdvar => {
                    acc.count += 1.0;
                    variance_add(&mut acc.value, &mut acc.mean, acc.count, f);
                }
                Op::Quantile => acc.values.push(f),
                _ => {}
            }
        }
        for (g, acc) in accs.iter_mut().enumerate() {
            if !acc.seen {
                continue;
            }
            let point = match op {
                Op::Sum | Op::Avg if acc.has_float && acc.has_hist => {
                    mixed = true;
                    continue;
                }
                Op::Sum | Op::Avg if acc.incompatible => continue,
                Op::Sum | Op::Avg if acc.has_hist => {
                    let mut h = if op == Op::Avg && acc.hist_incremental {
                        let mut m = acc.hist_mean.take().unwrap_or_default();
                        if let Some(c) = acc.hist_comp.take() {
                            let _ = m.add(&c);
                        }
                        m
                    } else {
                        let mut v = acc.hist.take().unwrap_or_default();
                        if op == Op::Avg {
                            v.div(acc.count);
                        }
                        if let Some(mut c) = acc.hist_comp.take() {
                            if op == Op::Avg {
                                c.div(acc.count);
                            }
                            let _ = v.add(&c);
                        }
                        v
                    };
                    h.compact(0);
                    Point::Hist(std::sync::Arc::new(h))
                }
                _ => {
                    let v = match op {
                        Op::Avg => {
                            if acc.incremental {
                                acc.mean + acc.comp
                            } else {
                                acc.value / acc.count + acc.comp / acc.count
                            }
                        }
                        Op::Count => acc.count,
                        Op::Stdvar => acc.value / acc.count,
                        Op::Stddev => (acc.value / acc.count).sqrt(),
                        Op::Quantile => {
                            let q = param.map_or(f64::NAN, |p| p[i]);
                            quantile(q, &mut acc.values)
                        }
                        Op::Sum => {
                            if acc.value.is_infinite() {
                                acc.value
                            } else {
                                acc.value + acc.comp
                            }
                        }
                        _ => acc.value,
                    };
                    Point::Float(v)
                }
            };
            if acc.reset_seen && acc.not_reset_seen {
                collision = true;
            }
            out[g].points[i] = point;
            out[g].drop_name |= acc.drop_name;
        }
    }
    if ignored_hist {
        ev.info(format!("ignored histogram in {name} aggregation"), &anchor);
    }
    if mixed {
        ev.warn(
            "encountered a mix of histograms and floats for aggregation",
            &anchor,
        );
    }
    if let Some(metric) = notes.incompatible_metric {
        ev.warn(
            format!(
                "vector contains a mix of histograms with exponential and custom buckets schemas for metric name {metric:?}"
            ),
            &anchor,
        );
    }
    if notes.reconciled {
        ev.info(
            "mismatched custom buckets were reconciled during aggregation",
            &anchor,
        );
    }
    if collision {
        ev.warn(
            "conflicting counter resets during histogram aggregation",
            &anchor,
        );
    }
    out.retain(|s| s.has_values());
    Ok(Value::Vector(out))
}

/// The output series of an aggregation, one per group in order of first appearance (points
/// from `points`), and each input series' group.
fn group_series(
    input: &[StepSeries],
    grouping: &Grouping,
    points: impl Fn() -> Vec<Point>,
) -> (Vec<usize>, Vec<StepSeries>) {
    let mut group_of = Vec::with_capacity(input.len());
    let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut out: Vec<StepSeries> = Vec::new();
    for s in input {
        let g = *index.entry(grouping.key(&s.labels)).or_insert_with(|| {
            out.push(StepSeries {
                labels: grouping.labels(&s.labels),
                drop_name: false,
                points: points(),
            });
            out.len() - 1
        });
        group_of.push(g);
    }
    (group_of, out)
}

/// Adds `f` to a running float average as Prometheus's `avg` does: a Kahan sum while it stays
/// finite, then an incremental mean. `count` already counts `f`.
fn avg_add(
    value: &mut f64,
    comp: &mut f64,
    mean: &mut f64,
    incremental: &mut bool,
    count: f64,
    f: f64,
) {
    if !*incremental {
        let (nv, nc) = kahan_inc(f, *value, *comp);
        if !nv.is_infinite() {
            *value = nv;
            *comp = nc;
            return;
        }
        *incremental = true;
        *mean = *value / (count - 1.0);
        *comp /= count - 1.0;
    }
    let q = (count - 1.0) / count;
    (*mean, *comp) = kahan_inc(f / count, q * *mean, q * *comp);
}

/// Adds `f` to a running variance (Welford; `value` is the sum of squared deviations).
/// `count` already counts `f`.
fn variance_add(value: &mut f64, mean: &mut f64, count: f64, f: f64) {
    let delta = f - *mean;
    *mean += delta / count;
    *value += delta * (f - *mean);
}

/// One group's state at one step in [`reduce_floats`].
#[derive(Clone, Copy, Default)]
struct FloatAcc {
    value: f64,
    comp: f64,
    mean: f64,
    count: f64,
    seen: bool,
    incremental: bool,
}

/// Adds float `f` to one group's state at one step (see [`reduce_floats`]).
fn accumulate(op: Op, acc: &mut FloatAcc, f: f64) {
    if !acc.seen {
        *acc = FloatAcc {
            value: match op {
                Op::Group => 1.0,
                Op::Stddev | Op::Stdvar if f.is_nan() || f.is_infinite() => f64::NAN,
                Op::Stddev | Op::Stdvar => 0.0,
                _ => f,
            },
            comp: 0.0,
            mean: f,
            count: 1.0,
            seen: true,
            incremental: false,
        };
        return;
    }
    match op {
        Op::Sum => (acc.value, acc.comp) = kahan_inc(f, acc.value, acc.comp),
        Op::Avg => {
            acc.count += 1.0;
            avg_add(
                &mut acc.value,
                &mut acc.comp,
                &mut acc.mean,
                &mut acc.incremental,
                acc.count,
                f,
            );
        }
        Op::Max if acc.value < f || acc.value.is_nan() => acc.value = f,
        Op::Min if acc.value > f || acc.value.is_nan() => acc.value = f,
        Op::Count => acc.count += 1.0,
        Op::Stddev | Op::Stdvar => {
            acc.count += 1.0;
            variance_add(&mut acc.value, &mut acc.mean, acc.count, f);
        }
        _ => {}
    }
}

/// The float-only case of [`reduce`] for the aggregations that keep a few numbers per group
/// and step: series by series over all steps (memory order) instead of step by step across
/// series. Each group and step still sees its series in input order, so results are
/// bit-identical. `None` when the op or the input (histograms) needs the general path.
fn reduce_floats(
    op: Op,
    input: &[StepSeries],
    grouping: &Grouping,
    r: Range,
) -> Option<Vec<StepSeries>> {
    if !matches!(
        op,
        Op::Sum | Op::Avg | Op::Count | Op::Min | Op::Max | Op::Group | Op::Stddev | Op::Stdvar
    ) {
        return None;
    }
    let steps = r.steps();
    let (group_of, mut out) = group_series(input, grouping, Vec::new);
    let groups = out.len();
    // Steps are independent: large inputs are cut into step ranges, one per core, each
    // accumulating every series for its steps (the same per-step order: bit-identical). A
    // histogram anywhere sends the whole input to the general path; looking for one here, in
    // the same parallel pass, saves a serial pass over every point.
    let step_ids: Vec<usize> = (0..steps).collect();
    let chunks = crate::parallel::map_chunks(&step_ids, input.len() * steps, |chunk| {
        let (first, len) = (chunk.first().copied().unwrap_or(0), chunk.len());
        let mut accs = vec![FloatAcc::default(); groups * len];
        // Series with a value in these steps.
        let mut valued = vec![false; input.len()];
        let mut histograms = false;
        for ((s, &g), valued) in input.iter().zip(&group_of).zip(&mut valued) {
            let accs = &mut accs[g * len..(g + 1) * len];
            for (acc, p) in accs.iter_mut().zip(&s.points[first..first + len]) {
                match *p {
                    Point::Float(f) => {
                        *valued = true;
                        accumulate(op, acc, f);
                    }
                    Point::Hist(_) => histograms = true,
                    Point::Absent => {}
                }
            }
        }
        (accs, len, valued, histograms)
    });
    if chunks.iter().any(|c| c.3) {
        return None;
    }
    // A group drops the metric name if any series with a value in it does.
    for (si, (s, &g)) in input.iter().zip(&group_of).enumerate() {
        if chunks.iter().any(|(_, _, valued, _)| valued[si]) {
            out[g].drop_name |= s.drop_name;
        }
    }
    let accs: Vec<FloatAcc> = (0..groups)
        .flat_map(|g| {
            chunks
                .iter()
                .flat_map(move |(accs, len, _, _)| accs[g * len..(g + 1) * len].iter().copied())
        })
        .collect();
    for (g, series) in out.iter_mut().enumerate() {
        series.points = accs[g * steps..(g + 1) * steps]
            .iter()
            .map(|acc| {
                if !acc.seen {
                    return Point::Absent;
                }
                Point::Float(match op {
                    Op::Avg if acc.incremental => acc.mean + acc.comp,
                    Op::Avg => acc.value / acc.count + acc.comp / acc.count,
                    Op::Count => acc.count,
                    Op::Stdvar => acc.value / acc.count,
                    Op::Stddev => (acc.value / acc.count).sqrt(),
                    Op::Sum if acc.value.is_infinite() => acc.value,
                    Op::Sum => acc.value + acc.comp,
                    _ => acc.value,
                })
            })
            .collect();
    }
    out.retain(|s| s.has_values());
    Some(out)
}

/// `count_values`: counts per distinct value; output series appear as values appear.
fn count_values(
    input: &[StepSeries],
    grouping: &Grouping,
    label: &str,
    r: Range,
) -> Vec<StepSeries> {
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut out: Vec<StepSeries> = Vec::new();
    for i in 0..r.steps() {
        for s in input {
            let value = match &s.points[i] {
                Point::Float(f) => format_value(*f),
                Point::Hist(h) => h.go_string(),
                Point::Absent => continue,
            };
            let with_value = labels_ext::set(&s.labels, label, &value);
            let mut names = grouping.names.clone();
            if grouping.include {
                names.push(label.to_string());
            }
            let g = Grouping {
                names,
                include: grouping.include,
            };
            let labels = g.labels(&with_value);
            let idx = *index.entry(labels.clone()).or_insert_with(|| {
                out.push(StepSeries {
                    labels,
                    drop_name: false,
                    points: vec![Point::Absent; r.steps()],
                });
                out.len() - 1
            });
            let p = &mut out[idx].points[i];
            *p = match p {
                Point::Float(c) => Point::Float(*c + 1.0),
                _ => Point::Float(1.0),
            };
        }
    }
    out
}

/// Go's `strconv.FormatFloat(f, 'f', -1, 64)`.
fn format_value(f: f64) -> String {
    architect_model::float::go_float(f)
}

/// A binary heap with Go's `container/heap` algorithms, so ties resolve as upstream's do.
struct GoHeap<'a> {
    items: Vec<(f64, usize)>,
    less: &'a dyn Fn(f64, f64) -> bool,
}

impl GoHeap<'_> {
    fn push(&mut self, x: (f64, usize)) {
        self.items.push(x);
        let n = self.items.len() - 1;
        self.up(n);
    }

    fn fix0(&mut self) {
        let n = self.items.len();
        if !self.down(0, n) {
            self.up(0);
        }
    }

    fn up(&mut self, mut j: usize) {
        while j > 0 {
            let i = (j - 1) / 2;
            if i == j || !(self.less)(self.items[j].0, self.items[i].0) {
                break;
            }
            self.items.swap(i, j);
            j = i;
        }
    }

    fn down(&mut self, i0: usize, n: usize) -> bool {
        let mut i = i0;
        loop {
            let j1 = 2 * i + 1;
            if j1 >= n {
                break;
            }
            let mut j = j1;
            let j2 = j1 + 1;
            if j2 < n && (self.less)(self.items[j2].0, self.items[j1].0) {
                j = j2;
            }
            if !(self.less)(self.items[j].0, self.items[i].0) {
                break;
            }
            self.items.swap(i, j);
            i = j;
        }
        i > i0
    }
}

/// Hash of a label set as upstream's `labels.Hash()` (xxHash64 of name/value with 0xff).
fn labels_hash(labels: &Labels) -> u64 {
    let mut buf = Vec::new();
    for l in labels.iter() {
        buf.extend_from_slice(l.name.as_bytes());
        buf.push(0xff);
        buf.extend_from_slice(l.value.as_bytes());
        buf.push(0xff);
    }
    xxhash_rust::xxh64::xxh64(&buf, 0)
}

#[allow(clippy::too_many_arguments)]
fn select_k(
    ev: &mut Evaluator<'_>,
    op: Op,
    name: &str,
    input: &[StepSeries],
    grouping: &Grouping,
    params: &[f64],
    anchor: &str,
    r: Range,
) -> Result<Value, QueryError> {
    let (min, max) = params
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(*p), hi.max(*p))
        });
    let any_nan = params.iter().any(|p| p.is_nan());
    match op {
        Op::LimitRatio => {
            if any_nan {
                return Err(QueryError::Execution("Ratio value is NaN".into()));
            }
            if max == 0.0 && min == 0.0 {
                return Ok(Value::Vector(Vec::new()));
            }
            if max > 1.0 {
                ev.warn(
                    format!(
                        "ratio value should be between -1 and 1, got {}, capping to 1",
                        go_float(max)
                    ),
                    anchor,
                );
            }
            if min < -1.0 {
                ev.warn(
                    format!(
                        "ratio value should be between -1 and 1, got {}, capping to -1",
                        go_float(min)
                    ),
                    anchor,
                );
            }
        }
        _ => {
            if any_nan {
                return Err(QueryError::Execution("Parameter value is NaN".into()));
            }
            if max < 1.0 {
                return Ok(Value::Vector(Vec::new()));
            }
            if min <= i64::MIN as f64 {
                return Err(QueryError::Execution(format!(
                    "Scalar value {} underflows int64",
                    go_float(min)
                )));
            }
            if max >= i64::MAX as f64 {
                return Err(QueryError::Execution(format!(
                    "Scalar value {} overflows int64",
                    go_float(max)
                )));
            }
        }
    }
    let mut group_of = Vec::with_capacity(input.len());
    let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
    for s in input {
        let n = index.len();
        group_of.push(*index.entry(grouping.key(&s.labels)).or_insert(n));
    }
    let groups = index.len();
    let mut out: Vec<StepSeries> = input
        .iter()
        .map(|s| StepSeries {
            labels: s.labels.clone(),
            drop_name: s.drop_name,
            points: vec![Point::Absent; r.steps()],
        })
        .collect();
    let offsets: Vec<f64> = if op == Op::LimitRatio {
        input
            .iter()
            .map(|s| labels_hash(&s.labels) as f64 / u64::MAX as f64)
            .collect()
    } else {
        Vec::new()
    };
    let less_top = |a: f64, b: f64| a.is_nan() || a < b;
    let less_bottom = |a: f64, b: f64| a.is_nan() || a > b;
    let mut ignored_hist = false;
    let mut order: Vec<(usize, usize)> = Vec::new(); // (step, series) in output order for instant queries
    for i in 0..r.steps() {
        let p = params.get(i).copied().unwrap_or(f64::NAN);
        let k = (p as i64).min(input.len() as i64);
        let ratio = p.clamp(-1.0, 1.0);
        if op != Op::LimitRatio && k < 1 {
            continue;
        }
        if op == Op::LimitRatio && p == 0.0 {
            continue;
        }
        let mut heaps: Vec<GoHeap<'_>> = (0..groups)
            .map(|_| GoHeap {
                items: Vec::new(),
                less: if op == Op::Bottomk {
                    &less_bottom
                } else {
                    &less_top
                },
            })
            .collect();
        for (si, s) in input.iter().enumerate() {
            let f = match &s.points[i] {
                Point::Absent => continue,
                Point::Hist(_) => {
                    if matches!(op, Op::Topk | Op::Bottomk) {
                        ignored_hist = true;
                        continue;
                    }
                    f64::NAN
                }
                Point::Float(f) => *f,
            };
            let heap = &mut heaps[group_of[si]];
            match op {
                Op::Topk | Op::Bottomk => {
                    if (heap.items.len() as i64) < k {
                        heap.push((f, si));
                    } else {
                        let top = heap.items[0].0;
                        let replace = if op == Op::Topk {
                            top < f || (top.is_nan() && !f.is_nan())
                        } else {
                            top > f || (top.is_nan() && !f.is_nan())
                        };
                        if replace {
                            heap.items[0] = (f, si);
                            if k > 1 {
                                heap.fix0();
                            }
                        }
                    }
                }
                Op::Limitk => {
                    if (heap.items.len() as i64) < k {
                        heap.items.push((f, si));
                    }
                }
                _ => {
                    let off = offsets[si];
                    if (ratio >= 0.0 && off < ratio) || (ratio < 0.0 && off >= 1.0 + ratio) {
                        heap.items.push((f, si));
                    }
                }
            }
        }
        for mut heap in heaps {
            if matches!(op, Op::Topk | Op::Bottomk) && heap.items.len() > 1 {
                // Descending for topk, ascending for bottomk; NaN last.
                let desc = op == Op::Topk;
                heap.items
                    .sort_by(|a, b| match (a.0.is_nan(), b.0.is_nan()) {
                        (true, true) => std::cmp::Ordering::Equal,
                        (true, false) => std::cmp::Ordering::Greater,
                        (false, true) => std::cmp::Ordering::Less,
                        _ if desc => b.0.total_cmp(&a.0),
                        _ => a.0.total_cmp(&b.0),
                    });
            }
            for (_, si) in heap.items {
                out[si].points[i] = input[si].points[i].clone();
                order.push((i, si));
            }
        }
    }
    if ignored_hist {
        ev.info(format!("ignored histogram in {name} aggregation"), "");
    }
    if r.steps() == 1 {
        // Instant query: keep the selection order (topk's is by value).
        let mut seen = vec![false; out.len()];
        let mut ordered = Vec::new();
        for (_, si) in order {
            if !seen[si] {
                seen[si] = true;
                ordered.push(out[si].clone());
            }
        }
        return Ok(Value::Vector(ordered));
    }
    out.retain(|s| s.has_values());
    Ok(Value::Vector(out))
}
