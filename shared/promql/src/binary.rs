//! Binary operators: arithmetic, comparisons (filtering or `bool`), set operators, and vector
//! matching with `on`/`ignoring`, `group_left`/`group_right` and `fill`.

use crate::QueryError;
use crate::eval::{Evaluator, Range};
use crate::histogram::{CounterResetHint, FloatHistogram};
use crate::value::{Point, StepSeries, Value, labels_ext};
use architect_model::labels::is_legacy_label_name;
use architect_model::{Labels, METRIC_NAME};
use promql_parser::parser::{BinaryExpr, LabelModifier, VectorMatchCardinality};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Atan2,
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    And,
    Or,
    Unless,
    TrimUpper,
    TrimLower,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "+" => Op::Add,
            "-" => Op::Sub,
            "*" => Op::Mul,
            "/" => Op::Div,
            "%" => Op::Mod,
            "^" => Op::Pow,
            "atan2" => Op::Atan2,
            "==" => Op::Eq,
            "!=" => Op::Ne,
            ">" => Op::Gt,
            "<" => Op::Lt,
            ">=" => Op::Ge,
            "<=" => Op::Le,
            "and" => Op::And,
            "or" => Op::Or,
            "unless" => Op::Unless,
            _ => return None,
        })
    }

    fn is_comparison(self) -> bool {
        matches!(self, Op::Eq | Op::Ne | Op::Gt | Op::Lt | Op::Ge | Op::Le)
    }

    /// Arithmetic changes what the metric means, so the result loses its name.
    fn changes_schema(self) -> bool {
        matches!(
            self,
            Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Pow | Op::Mod | Op::Atan2
        )
    }
}

/// `(value, keep)` of `lhs op rhs`; comparisons keep the left value when true.
fn elem(op: Op, l: f64, r: f64) -> (f64, bool) {
    match op {
        Op::Add => (l + r, true),
        Op::Sub => (l - r, true),
        Op::Mul => (l * r, true),
        Op::Div => (l / r, true),
        Op::Pow => (l.powf(r), true),
        Op::Mod => (go_mod(l, r), true),
        Op::Atan2 => (l.atan2(r), true),
        Op::Eq => (l, l == r),
        Op::Ne => (l, l != r),
        Op::Gt => (l, l > r),
        Op::Lt => (l, l < r),
        Op::Ge => (l, l >= r),
        Op::Le => (l, l <= r),
        Op::And | Op::Or | Op::Unless | Op::TrimUpper | Op::TrimLower => (l, true),
    }
}

/// Go's `math.Mod`: result has the sign of `x`.
fn go_mod(x: f64, y: f64) -> f64 {
    if y == 0.0 || x.is_infinite() || x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    x % y
}

/// Annotations collected by one binary operation.
#[derive(Default)]
struct BinNotes {
    infos: Vec<String>,
    warnings: Vec<String>,
}

impl BinNotes {
    fn emit(self, ev: &mut Evaluator<'_>, anchor: &str) {
        for w in self.warnings {
            ev.warn(w, anchor);
        }
        for i in self.infos {
            ev.info(i, anchor);
        }
    }
}

fn incompatible(l: &str, op: &str, r: &str) -> String {
    format!("incompatible sample types encountered for binary operator {op:?}: {l} {op} {r}")
}

fn hist_result(mut h: FloatHistogram) -> Point {
    h.compact(0);
    Point::Hist(Arc::new(h))
}

/// `lhs op rhs` on floats or native histograms: `None` when the pair is skipped (incompatible
/// types or layouts, with an annotation), else the value and whether a comparison holds.
fn elem_any(
    op: Op,
    name: &str,
    l: &Point,
    r: &Point,
    notes: &mut BinNotes,
) -> Option<(Point, bool)> {
    let trim = matches!(op, Op::TrimUpper | Op::TrimLower);
    match (l, r) {
        (Point::Hist(h), Point::Float(b)) if trim => {
            let mut x = (**h).clone();
            x.trim_buckets(*b, op == Op::TrimUpper);
            Some((Point::Hist(Arc::new(x)), true))
        }
        (Point::Float(_), Point::Float(_)) if trim => {
            notes.infos.push(incompatible("float", name, "float"));
            None
        }
        (Point::Float(_), Point::Hist(_)) | (Point::Hist(_), Point::Hist(_)) if trim => {
            let (lt, rt) = match l {
                Point::Float(_) => ("float", "histogram"),
                _ => ("histogram", "histogram"),
            };
            notes.infos.push(incompatible(lt, name, rt));
            None
        }
        (Point::Float(a), Point::Float(b)) => {
            let (v, keep) = elem(op, *a, *b);
            Some((Point::Float(v), keep))
        }
        (Point::Float(a), Point::Hist(h)) => match op {
            Op::Mul => {
                let mut x = (**h).clone();
                x.mul(*a);
                Some((hist_result(x), true))
            }
            _ => {
                notes.infos.push(incompatible("float", name, "histogram"));
                None
            }
        },
        (Point::Hist(h), Point::Float(b)) => match op {
            Op::Mul | Op::Div => {
                let mut x = (**h).clone();
                if op == Op::Mul {
                    x.mul(*b);
                } else {
                    x.div(*b);
                }
                Some((hist_result(x), true))
            }
            _ => {
                notes.infos.push(incompatible("histogram", name, "float"));
                None
            }
        },
        (Point::Hist(a), Point::Hist(b)) => match op {
            Op::Add | Op::Sub => {
                let mut x = (**a).clone();
                let what = if op == Op::Add {
                    "addition"
                } else {
                    "subtraction"
                };
                let res = if op == Op::Add { x.add(b) } else { x.sub(b) };
                match res {
                    Ok(flags) => {
                        if flags.counter_reset_collision {
                            notes.warnings.push(format!(
                                "conflicting counter resets during histogram {what}"
                            ));
                        }
                        if flags.nhcb_bounds_reconciled {
                            notes.infos.push(format!(
                                "mismatched custom buckets were reconciled during {what}"
                            ));
                        }
                        if op == Op::Sub {
                            x.counter_reset_hint = CounterResetHint::Gauge;
                        }
                        Some((hist_result(x), true))
                    }
                    Err(_) => {
                        notes.warnings.push(format!(
                            "incompatible bucket layout encountered for binary operator {name}"
                        ));
                        None
                    }
                }
            }
            Op::Eq => Some((Point::Hist(Arc::clone(a)), a.equals(b))),
            Op::Ne => Some((Point::Hist(Arc::clone(a)), !a.equals(b))),
            _ => {
                notes
                    .infos
                    .push(incompatible("histogram", name, "histogram"));
                None
            }
        },
        _ => None,
    }
}

fn scalar_op(op: Op, l: f64, r: f64) -> f64 {
    let (v, keep) = elem(op, l, r);
    if op.is_comparison() {
        if keep { 1.0 } else { 0.0 }
    } else {
        v
    }
}

/// Prometheus's `labels.String()`: `{a="b", c="d"}`.
pub(crate) fn prom_labels_string(labels: &Labels) -> String {
    let mut s = String::from("{");
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        if is_legacy_label_name(&l.name) {
            s.push_str(&l.name);
        } else {
            s.push_str(&format!("{:?}", l.name));
        }
        s.push('=');
        s.push_str(&format!("{:?}", l.value));
    }
    s.push('}');
    s
}

pub(crate) fn eval(ev: &mut Evaluator<'_>, b: &BinaryExpr, r: Range) -> Result<Value, QueryError> {
    let (op_name, op) = match ev.trims.get(&(b as *const _ as usize)) {
        Some(true) => ("</".to_string(), Op::TrimUpper),
        Some(false) => (">/".to_string(), Op::TrimLower),
        None => {
            let name = b.op.to_string();
            let op = Op::parse(&name)
                .ok_or_else(|| QueryError::Execution(format!("unsupported operator {name}")))?;
            (name, op)
        }
    };
    let return_bool = b.modifier.as_ref().is_some_and(|m| m.return_bool);
    let anchor = b.lhs.to_string();
    let lhs = ev.eval(&b.lhs, r)?;
    let rhs = ev.eval(&b.rhs, r)?;
    match (lhs, rhs) {
        (Value::Scalar(l), Value::Scalar(rv)) => Ok(Value::Scalar(
            l.iter()
                .zip(&rv)
                .map(|(a, c)| scalar_op(op, *a, *c))
                .collect(),
        )),
        (Value::Vector(v), Value::Scalar(s)) => {
            vector_scalar(ev, op, &op_name, v, &s, false, return_bool, &anchor).map(Value::Vector)
        }
        (Value::Scalar(s), Value::Vector(v)) => {
            vector_scalar(ev, op, &op_name, v, &s, true, return_bool, &anchor).map(Value::Vector)
        }
        (Value::Vector(l), Value::Vector(rv)) => {
            let matching = Matching::of(b);
            match op {
                Op::And | Op::Or | Op::Unless => Ok(Value::Vector(set_op(op, l, rv, &matching, r))),
                _ => vector_vector(ev, op, &op_name, l, rv, &matching, return_bool, &anchor, r)
                    .map(Value::Vector),
            }
        }
        _ => Err(QueryError::Execution(format!(
            "operator {op_name} is not defined for these operand types"
        ))),
    }
}

#[allow(clippy::too_many_arguments)]
fn vector_scalar(
    ev: &mut Evaluator<'_>,
    op: Op,
    name: &str,
    mut series: Vec<StepSeries>,
    scalar: &[f64],
    swap: bool,
    return_bool: bool,
    anchor: &str,
) -> Result<Vec<StepSeries>, QueryError> {
    let mut notes = BinNotes::default();
    for s in &mut series {
        let mut any = false;
        for (i, p) in s.points.iter_mut().enumerate() {
            if !p.is_present() {
                continue;
            }
            let k = Point::Float(scalar[i]);
            let (l, rr) = if swap { (&k, &*p) } else { (&*p, &k) };
            let Some((mut v, mut keep)) = elem_any(op, name, l, rr, &mut notes) else {
                *p = Point::Absent;
                continue;
            };
            if op.is_comparison() && swap {
                v = rr.clone();
            }
            if return_bool {
                v = Point::Float(if keep { 1.0 } else { 0.0 });
                keep = true;
            }
            *p = if keep { v } else { Point::Absent };
            any |= keep;
        }
        if any && (op.changes_schema() || return_bool) {
            ev.mark_drop_name(s);
        }
    }
    notes.emit(ev, anchor);
    series.retain(|s| s.has_values());
    ev.merge_if_immediate(series)
}

/// How two vectors are matched.
struct Matching {
    card: VectorMatchCardinality,
    on: bool,
    names: Vec<String>,
    fill_lhs: Option<f64>,
    fill_rhs: Option<f64>,
}

impl Matching {
    fn of(b: &BinaryExpr) -> Self {
        let Some(m) = &b.modifier else {
            return Matching {
                card: VectorMatchCardinality::OneToOne,
                on: false,
                names: Vec::new(),
                fill_lhs: None,
                fill_rhs: None,
            };
        };
        let (on, names) = match &m.matching {
            Some(LabelModifier::Include(l)) => (true, l.labels.clone()),
            Some(LabelModifier::Exclude(l)) => (false, l.labels.clone()),
            None => (false, Vec::new()),
        };
        Matching {
            card: m.card.clone(),
            on,
            names,
            fill_lhs: m.fill_values.lhs,
            fill_rhs: m.fill_values.rhs,
        }
    }

    fn signature(&self, labels: &Labels) -> Vec<u8> {
        labels_ext::signature(labels, &self.names, self.on)
    }

    /// The labels a fill-in operand gets: those the match is on.
    fn match_labels(&self, labels: &Labels) -> Labels {
        if self.on {
            labels_ext::keep(labels, &self.names)
        } else {
            let mut names = self.names.clone();
            names.push(METRIC_NAME.to_string());
            labels_ext::without(labels, &names)
        }
    }

    fn include(&self) -> &[String] {
        match &self.card {
            VectorMatchCardinality::ManyToOne(l) | VectorMatchCardinality::OneToMany(l) => {
                &l.labels
            }
            _ => &[],
        }
    }
}

fn set_op(
    op: Op,
    lhs: Vec<StepSeries>,
    rhs: Vec<StepSeries>,
    m: &Matching,
    r: Range,
) -> Vec<StepSeries> {
    let lsig: Vec<Vec<u8>> = lhs.iter().map(|s| m.signature(&s.labels)).collect();
    let rsig: Vec<Vec<u8>> = rhs.iter().map(|s| m.signature(&s.labels)).collect();
    // Map signatures to small ids so each step uses a bitmap.
    let mut ids: HashMap<&[u8], usize> = HashMap::new();
    let lid: Vec<usize> = lsig
        .iter()
        .map(|s| {
            let n = ids.len();
            *ids.entry(s.as_slice()).or_insert(n)
        })
        .collect();
    let rid: Vec<usize> = rsig
        .iter()
        .map(|s| {
            let n = ids.len();
            *ids.entry(s.as_slice()).or_insert(n)
        })
        .collect();
    let mut lhs = lhs;
    let mut rhs = rhs;
    let mut present = vec![false; ids.len()];
    for i in 0..r.steps() {
        present.iter_mut().for_each(|p| *p = false);
        match op {
            Op::And | Op::Unless => {
                for (j, s) in rhs.iter().enumerate() {
                    if s.points[i].is_present() {
                        present[rid[j]] = true;
                    }
                }
                for (j, s) in lhs.iter_mut().enumerate() {
                    let hit = present[lid[j]];
                    if (op == Op::And && !hit) || (op == Op::Unless && hit) {
                        s.points[i] = Point::Absent;
                    }
                }
            }
            _ => {
                for (j, s) in lhs.iter().enumerate() {
                    if s.points[i].is_present() {
                        present[lid[j]] = true;
                    }
                }
                for (j, s) in rhs.iter_mut().enumerate() {
                    if present[rid[j]] {
                        s.points[i] = Point::Absent;
                    }
                }
            }
        }
    }
    let mut out = lhs;
    if op == Op::Or {
        out.extend(rhs);
    }
    out.retain(|s| s.has_values());
    out
}

/// Output of a vector-vector operation, keyed by result labels.
struct BinaryOut {
    series: Vec<StepSeries>,
    index: HashMap<Labels, usize>,
    steps: usize,
}

impl BinaryOut {
    fn set(
        &mut self,
        labels: Labels,
        drop_name: bool,
        i: usize,
        v: Point,
    ) -> Result<(), QueryError> {
        let idx = match self.index.get(&labels) {
            Some(&k) => k,
            None => {
                self.series.push(StepSeries {
                    labels: labels.clone(),
                    drop_name,
                    points: vec![Point::Absent; self.steps],
                });
                self.index.insert(labels, self.series.len() - 1);
                self.series.len() - 1
            }
        };
        if self.series[idx].points[i].is_present() {
            return Err(QueryError::Execution(
                "vector cannot contain metrics with the same labelset".into(),
            ));
        }
        self.series[idx].points[i] = v;
        Ok(())
    }
}

/// Per-step bookkeeping of which match groups already produced a result.
struct Matched {
    once: Vec<bool>,
    many: HashMap<usize, Vec<Labels>>,
}

impl Matched {
    fn record(&mut self, one_to_one: bool, sig: usize, labels: &Labels) -> Result<(), QueryError> {
        if one_to_one {
            if self.once[sig] {
                return Err(QueryError::Execution(
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)".into(),
                ));
            }
            self.once[sig] = true;
        } else {
            let seen = self.many.entry(sig).or_default();
            if seen.contains(labels) {
                return Err(QueryError::Execution(
                    "multiple matches for labels: grouping labels must ensure unique matches"
                        .into(),
                ));
            }
            seen.push(labels.clone());
        }
        Ok(())
    }

    fn done(&self, one_to_one: bool, sig: usize) -> bool {
        if one_to_one {
            self.once[sig]
        } else {
            self.many.get(&sig).is_some_and(|v| !v.is_empty())
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn vector_vector(
    ev: &mut Evaluator<'_>,
    op: Op,
    name: &str,
    lhs: Vec<StepSeries>,
    rhs: Vec<StepSeries>,
    m: &Matching,
    return_bool: bool,
    anchor: &str,
    r: Range,
) -> Result<Vec<StepSeries>, QueryError> {
    let mut notes = BinNotes::default();
    let one_to_many = matches!(m.card, VectorMatchCardinality::OneToMany(_));
    let one_to_one = matches!(m.card, VectorMatchCardinality::OneToOne);
    // Match from the "many" side: for group_right the sides swap.
    let (many, one) = if one_to_many { (rhs, lhs) } else { (lhs, rhs) };
    let mut ids: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut id_of = |labels: &Labels| {
        let n = ids.len();
        *ids.entry(m.signature(labels)).or_insert(n)
    };
    let many_sig: Vec<usize> = many.iter().map(|s| id_of(&s.labels)).collect();
    let one_sig: Vec<usize> = one.iter().map(|s| id_of(&s.labels)).collect();
    let groups = ids.len();
    let drop_now = !ev.opts.delayed_name_removal && return_bool;
    let out_drop = return_bool && !drop_now;
    let n = r.steps();
    let mut out = BinaryOut {
        series: Vec::new(),
        index: HashMap::new(),
        steps: n,
    };
    let mut result_cache: HashMap<(usize, usize), Labels> = HashMap::new();

    let result_labels = |ls: &Labels, rs: &Labels| -> Labels {
        let mut l = if drop_now || op.changes_schema() {
            labels_ext::drop_name(ls)
        } else {
            ls.clone()
        };
        if one_to_one {
            l = if m.on {
                labels_ext::keep(&l, &m.names)
            } else {
                labels_ext::without(&l, &m.names)
            };
        }
        for name in m.include() {
            let v = rs.get(name).unwrap_or("");
            l = labels_ext::set(&l, name, v);
        }
        l
    };
    // `(value, keep)` in the written operand order; `None` skips the pair.
    let apply = |many_v: &Point, one_v: &Point, notes: &mut BinNotes| -> Option<(Point, bool)> {
        let (lv, rv) = if one_to_many {
            (one_v, many_v)
        } else {
            (many_v, one_v)
        };
        let (mut v, keep) = elem_any(op, name, lv, rv, notes)?;
        if return_bool {
            v = Point::Float(if keep { 1.0 } else { 0.0 });
        }
        Some((v, keep || return_bool))
    };

    let mut one_at: Vec<Option<usize>> = vec![None; groups];
    for i in 0..n {
        one_at.iter_mut().for_each(|x| *x = None);
        for (k, s) in one.iter().enumerate() {
            if !s.points[i].is_present() {
                continue;
            }
            if let Some(prev) = one_at[one_sig[k]] {
                let side = if one_to_many { "left" } else { "right" };
                let matched = m.match_labels(&s.labels);
                let (mut d1, mut d2) = (
                    prom_labels_string(&s.labels),
                    prom_labels_string(&one[prev].labels),
                );
                if d1 > d2 {
                    std::mem::swap(&mut d1, &mut d2);
                }
                return Err(QueryError::Execution(format!(
                    "found duplicate series for the match group {} on the {side} hand-side of the operation: [{d1}, {d2}];many-to-many matching not allowed: matching labels must be unique on one side",
                    prom_labels_string(&matched)
                )));
            }
            one_at[one_sig[k]] = Some(k);
        }
        let mut matched = Matched {
            once: vec![false; groups],
            many: HashMap::new(),
        };
        for (j, s) in many.iter().enumerate() {
            let mv = &s.points[i];
            if !mv.is_present() {
                continue;
            }
            let sig = many_sig[j];
            let (labels, ov) = match one_at[sig] {
                Some(k) => {
                    let ov = one[k].points[i].clone();
                    let labels = result_cache
                        .entry((j, k))
                        .or_insert_with(|| result_labels(&s.labels, &one[k].labels))
                        .clone();
                    (labels, ov)
                }
                None => {
                    let Some(fill) = (if one_to_many { m.fill_lhs } else { m.fill_rhs }) else {
                        continue;
                    };
                    (
                        result_labels(&s.labels, &m.match_labels(&s.labels)),
                        Point::Float(fill),
                    )
                }
            };
            let Some((v, keep)) = apply(mv, &ov, &mut notes) else {
                continue;
            };
            matched.record(one_to_one, sig, &labels)?;
            if keep {
                out.set(labels, out_drop, i, v)?;
            }
        }
        let one_fill = if one_to_many { m.fill_rhs } else { m.fill_lhs };
        if let Some(fill) = one_fill {
            for (k, s) in one.iter().enumerate() {
                let ov = &s.points[i];
                if !ov.is_present() {
                    continue;
                }
                let sig = one_sig[k];
                if matched.done(one_to_one, sig) {
                    continue;
                }
                let labels = result_labels(&m.match_labels(&s.labels), &s.labels);
                let Some((v, keep)) = apply(&Point::Float(fill), ov, &mut notes) else {
                    continue;
                };
                matched.record(one_to_one, sig, &labels)?;
                if keep {
                    out.set(labels, out_drop, i, v)?;
                }
            }
        }
    }
    notes.emit(ev, anchor);
    Ok(out.series)
}
