//! The evaluator: walks the expression once over all steps of the query.

use crate::engine::{EngineOptions, QueryError, shape_result, subquery_range};
use crate::selector::{at_ms, duration_ms, offset_ms};
use crate::value::{Point, QueryValue, RangeSeries, RawSeries, StepSeries, Value, labels_ext};
use crate::{aggregate, binary, functions};
use architect_model::{Labels, is_stale_nan};
use promql_parser::parser::{Expr, VectorSelector};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

/// The steps of an evaluation: `start, start + step, ..., <= end` (ms).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Range {
    pub(crate) start: i64,
    pub(crate) end: i64,
    pub(crate) step: i64,
}

impl Range {
    /// Number of steps.
    pub(crate) fn steps(&self) -> usize {
        if self.end < self.start {
            0
        } else {
            ((self.end - self.start) / self.step + 1) as usize
        }
    }

    /// Timestamp of step `i`.
    pub(crate) fn at(&self, i: usize) -> i64 {
        self.start + i as i64 * self.step
    }
}

/// The float samples of a window.
pub(crate) type FloatWindow<'a> = &'a [(i64, f64)];
/// The histogram samples of a window.
pub(crate) type HistWindow<'a> = &'a [(i64, Arc<crate::FloatHistogram>)];

/// A series prepared for range functions: staleness markers removed. Borrows the fetched
/// samples when they hold no staleness marker (the common case), so nothing is copied.
#[derive(Clone, Debug)]
pub(crate) struct WindowSeries<'a> {
    pub(crate) labels: Labels,
    pub(crate) drop_name: bool,
    pub(crate) floats: Cow<'a, [(i64, f64)]>,
    pub(crate) hists: Cow<'a, [(i64, Arc<crate::FloatHistogram>)]>,
}

impl WindowSeries<'_> {
    /// The samples in `(start, end]`.
    pub(crate) fn window(&self, start: i64, end: i64) -> (FloatWindow<'_>, HistWindow<'_>) {
        let f_lo = self.floats.partition_point(|p| p.0 <= start);
        let f_hi = self.floats.partition_point(|p| p.0 <= end);
        let h_lo = self.hists.partition_point(|p| p.0 <= start);
        let h_hi = self.hists.partition_point(|p| p.0 <= end);
        (
            &self.floats[f_lo..f_hi.max(f_lo)],
            &self.hists[h_lo..h_hi.max(h_lo)],
        )
    }
}

/// `floats` without staleness markers (borrowed when it has none).
pub(crate) fn without_stale(floats: &[(i64, f64)]) -> Cow<'_, [(i64, f64)]> {
    if floats.iter().any(|p| is_stale_nan(p.1)) {
        Cow::Owned(
            floats
                .iter()
                .filter(|p| !is_stale_nan(p.1))
                .copied()
                .collect(),
        )
    } else {
        Cow::Borrowed(floats)
    }
}

/// See [`WindowCursor::new`].
pub(crate) struct WindowCursor<'s> {
    floats: &'s [(i64, f64)],
    hists: &'s [(i64, Arc<crate::FloatHistogram>)],
    f: (usize, usize),
    h: (usize, usize),
    last: Option<(i64, i64)>,
}

impl<'s> WindowCursor<'s> {
    /// Windows of consecutive steps over a series' floats and histograms (each sorted by
    /// time) with moving cursors: amortised O(1) per step when windows only move forward (no
    /// `@`), starting over otherwise.
    pub(crate) fn new(
        floats: &'s [(i64, f64)],
        hists: &'s [(i64, Arc<crate::FloatHistogram>)],
    ) -> Self {
        WindowCursor {
            floats,
            hists,
            f: (0, 0),
            h: (0, 0),
            last: None,
        }
    }

    /// The samples in `(start, end]`.
    pub(crate) fn window(&mut self, start: i64, end: i64) -> (FloatWindow<'s>, HistWindow<'s>) {
        let forward = self.last.is_none_or(|(ls, le)| start >= ls && end >= le);
        if !forward {
            self.f = (0, 0);
            self.h = (0, 0);
        }
        self.last = Some((start, end));
        fn advance<T>(v: &[(i64, T)], pos: &mut (usize, usize), start: i64, end: i64) {
            while pos.0 < v.len() && v[pos.0].0 <= start {
                pos.0 += 1;
            }
            pos.1 = pos.1.max(pos.0);
            while pos.1 < v.len() && v[pos.1].0 <= end {
                pos.1 += 1;
            }
        }
        advance(self.floats, &mut self.f, start, end);
        advance(self.hists, &mut self.h, start, end);
        (
            &self.floats[self.f.0..self.f.1],
            &self.hists[self.h.0..self.h.1],
        )
    }

    /// Where the last window's floats start in the series' floats.
    pub(crate) fn float_offset(&self) -> usize {
        self.f.0
    }
}

/// A range-vector argument: series plus how its windows are placed.
pub(crate) struct MatrixArg<'a> {
    pub(crate) series: Vec<WindowSeries<'a>>,
    pub(crate) range_ms: i64,
    pub(crate) offset_ms: i64,
    pub(crate) at: Option<i64>,
    /// The argument as written, for annotation positions.
    pub(crate) text: String,
}

impl MatrixArg<'_> {
    /// `(start, end]` of the window at step time `t`.
    pub(crate) fn bounds(&self, t: i64) -> (i64, i64) {
        let end = self.at.unwrap_or(t) - self.offset_ms;
        (end - self.range_ms, end)
    }
}

/// Evaluation state of one query.
pub(crate) struct Evaluator<'a> {
    pub(crate) opts: &'a EngineOptions,
    data: &'a HashMap<usize, Arc<Vec<RawSeries>>>,
    pub(crate) query_start: i64,
    pub(crate) query_end: i64,
    /// Step of the top-level query (ms).
    pub(crate) query_step: i64,
    pub(crate) query_text: String,
    /// String literals that are invalid UTF-8 under Go's rules (parser value → Go quoting).
    pub(crate) invalid_literals: HashMap<String, String>,
    /// Binary nodes that are the trim operators `</` (true) and `>/` (false), by address.
    pub(crate) trims: HashMap<usize, bool>,
    /// Selectors read through upstream's histogram-stats view (see `hist_functions`).
    pub(crate) stats_selectors: HashSet<usize>,
    deadline: Instant,
    warnings: Vec<String>,
    infos: Vec<String>,
    seen: HashSet<String>,
    peak: usize,
}

impl<'a> Evaluator<'a> {
    pub(crate) fn new(
        opts: &'a EngineOptions,
        data: &'a HashMap<usize, Arc<Vec<RawSeries>>>,
        top: Range,
        deadline: Instant,
    ) -> Self {
        Self {
            opts,
            data,
            query_start: top.start,
            query_end: top.end,
            query_step: top.step,
            query_text: String::new(),
            invalid_literals: HashMap::new(),
            trims: HashMap::new(),
            stats_selectors: HashSet::new(),
            deadline,
            warnings: Vec::new(),
            infos: Vec::new(),
            seen: HashSet::new(),
            peak: 0,
        }
    }

    pub(crate) fn set_query_text(&mut self, q: &str, written: &str) {
        self.query_text = q.to_string();
        self.invalid_literals = crate::golit::invalid_utf8_literals(written);
    }

    pub(crate) fn peak_samples(&self) -> usize {
        self.peak
    }

    pub(crate) fn take_annotations(&mut self) -> (Vec<String>, Vec<String>) {
        (
            std::mem::take(&mut self.warnings),
            std::mem::take(&mut self.infos),
        )
    }

    /// Position suffix ` (line:col)` of `text` in the query, as Prometheus prints it.
    fn position(&self, anchor: &str) -> String {
        let idx = if anchor.is_empty() {
            None
        } else {
            self.query_text.find(anchor)
        };
        let idx = idx.unwrap_or(0);
        let before = &self.query_text[..idx];
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!(" ({line}:{col})")
    }

    /// Records a `PromQL warning: ...` annotation about the expression written as `anchor`.
    pub(crate) fn warn(&mut self, msg: impl AsRef<str>, anchor: &str) {
        let s = format!("PromQL warning: {}{}", msg.as_ref(), self.position(anchor));
        if self.seen.insert(s.clone()) {
            self.warnings.push(s);
        }
    }

    /// Records a `PromQL info: ...` annotation.
    pub(crate) fn info(&mut self, msg: impl AsRef<str>, anchor: &str) {
        let s = format!("PromQL info: {}{}", msg.as_ref(), self.position(anchor));
        if self.seen.insert(s.clone()) {
            self.infos.push(s);
        }
    }

    fn check_deadline(&self) -> Result<(), QueryError> {
        if Instant::now() > self.deadline {
            return Err(QueryError::Timeout("expression evaluation"));
        }
        Ok(())
    }

    /// Accounts `n` samples held by a node's output against the limit.
    pub(crate) fn account(&mut self, n: usize) -> Result<(), QueryError> {
        self.peak = self.peak.max(n);
        if n > self.opts.max_samples {
            return Err(QueryError::TooManySamples("query execution"));
        }
        Ok(())
    }

    /// Checks a label name given as a string literal: valid unless empty or invalid UTF-8.
    pub(crate) fn valid_label_name(&self, name: &str) -> Result<(), String> {
        if name.is_empty() {
            return Err(format!("{name:?}"));
        }
        match self.invalid_literals.get(name) {
            Some(quoted) => Err(quoted.clone()),
            None => Ok(()),
        }
    }

    /// Evaluates `expr` over the steps of `r`.
    pub(crate) fn eval(&mut self, expr: &Expr, r: Range) -> Result<Value, QueryError> {
        self.check_deadline()?;
        let v = match expr {
            Expr::NumberLiteral(n) => Value::Scalar(vec![n.val; r.steps()]),
            Expr::StringLiteral(s) => Value::String(s.val.clone()),
            Expr::Paren(p) => self.eval(&p.expr, r)?,
            Expr::Unary(u) => match self.eval(&u.expr, r)? {
                Value::Scalar(v) => Value::Scalar(v.into_iter().map(|f| -f).collect()),
                Value::Vector(mut series) => {
                    for s in &mut series {
                        self.mark_drop_name(s);
                        for p in &mut s.points {
                            match p {
                                Point::Float(f) => *f = -*f,
                                Point::Hist(h) => {
                                    let mut x = (**h).clone();
                                    x.mul(-1.0);
                                    *p = Point::Hist(Arc::new(x))
                                }
                                Point::Absent => {}
                            }
                        }
                    }
                    Value::Vector(self.merge_if_immediate(series)?)
                }
                other => other,
            },
            Expr::VectorSelector(vs) => Value::Vector(self.vector_selector(vs, r, false)?),
            Expr::MatrixSelector(_) | Expr::Subquery(_) => {
                let arg = self.matrix_arg(expr, r)?;
                let t = r.start;
                let (ws, we) = arg.bounds(t);
                let mut out = Vec::new();
                for s in &arg.series {
                    let (f, h) = s.window(ws, we);
                    if f.is_empty() && h.is_empty() {
                        continue;
                    }
                    out.push(RangeSeries {
                        labels: s.labels.clone(),
                        floats: f.to_vec(),
                        hists: h.to_vec(),
                    });
                }
                Value::Matrix(out)
            }
            Expr::Aggregate(a) => aggregate::eval(self, a, r)?,
            Expr::Binary(b) => binary::eval(self, b, r)?,
            Expr::Call(c) => functions::eval_call(self, c, r)?,
            Expr::Extension(_) => {
                return Err(QueryError::Execution(
                    "extension expressions are not supported".into(),
                ));
            }
        };
        if let Value::Vector(series) = &v {
            // A pass over every point: on the cores when large.
            let n: usize = crate::parallel::map_chunks(series, series.len() * r.steps(), |c| {
                c.iter().map(StepSeries::present).sum::<usize>()
            })
            .into_iter()
            .sum();
            self.account(n)?;
        }
        Ok(v)
    }

    /// Evaluates `expr` expecting an instant vector.
    pub(crate) fn eval_vector(
        &mut self,
        expr: &Expr,
        r: Range,
    ) -> Result<Vec<StepSeries>, QueryError> {
        match self.eval(expr, r)? {
            Value::Vector(v) => Ok(v),
            Value::Scalar(_) => Err(QueryError::Execution(
                "expected instant vector, got scalar".into(),
            )),
            _ => Err(QueryError::Execution(
                "expected instant vector argument".into(),
            )),
        }
    }

    /// Evaluates `expr` expecting a scalar (one float per step).
    pub(crate) fn eval_scalar(&mut self, expr: &Expr, r: Range) -> Result<Vec<f64>, QueryError> {
        match self.eval(expr, r)? {
            Value::Scalar(v) => Ok(v),
            _ => Err(QueryError::Execution("expected scalar argument".into())),
        }
    }

    /// Drops `__name__` now, or flags it for the end when removal is delayed.
    pub(crate) fn mark_drop_name(&self, s: &mut StepSeries) {
        if self.opts.delayed_name_removal {
            s.drop_name = true;
        } else {
            s.labels = labels_ext::drop_name(&s.labels);
        }
    }

    /// With immediate name removal, series whose labels now coincide are merged (an error if
    /// two have a value at the same step).
    pub(crate) fn merge_if_immediate(
        &self,
        series: Vec<StepSeries>,
    ) -> Result<Vec<StepSeries>, QueryError> {
        if self.opts.delayed_name_removal {
            Ok(series)
        } else {
            merge_same_labels(series)
        }
    }

    /// Samples of an instant selector at every step. With `timestamps`, each value is the
    /// sample's own timestamp in seconds (for `timestamp()`).
    pub(crate) fn vector_selector(
        &mut self,
        vs: &VectorSelector,
        r: Range,
        timestamps: bool,
    ) -> Result<Vec<StepSeries>, QueryError> {
        let data = self.stats_adjusted(vs, self.selector_data(vs)?);
        let offset = offset_ms(&vs.offset);
        let at = at_ms(&vs.at, self.query_start, self.query_end);
        let lookback = self.opts.lookback_ms;
        let n = r.steps();
        // Series are independent: large selections are split across the cores.
        let chunks = crate::parallel::map_chunks(data.as_slice(), data.len() * n, |chunk| {
            let mut out = Vec::new();
            for raw in chunk {
                let mut points = vec![Point::Absent; n];
                let mut any = false;
                // Step times only grow, so the sample positions move forward with them.
                let (mut fi, mut hi) = (0usize, 0usize);
                for (i, slot) in points.iter_mut().enumerate() {
                    let t = at.unwrap_or_else(|| r.at(i)) - offset;
                    if at.is_some() {
                        fi = raw.floats.partition_point(|p| p.0 <= t);
                        hi = raw.hists.partition_point(|p| p.0 <= t);
                    } else {
                        while fi < raw.floats.len() && raw.floats[fi].0 <= t {
                            fi += 1;
                        }
                        while hi < raw.hists.len() && raw.hists[hi].0 <= t {
                            hi += 1;
                        }
                    }
                    if let Some(p) = lookup(raw, fi, hi, t, lookback, timestamps) {
                        *slot = p;
                        any = true;
                    }
                }
                if any {
                    out.push(StepSeries {
                        labels: raw.labels.clone(),
                        drop_name: false,
                        points,
                    });
                }
            }
            out
        });
        Ok(chunks.into_iter().flatten().collect())
    }

    /// The selector's series, through the histogram-stats view where upstream uses it.
    fn stats_adjusted(
        &self,
        vs: &VectorSelector,
        data: Arc<Vec<RawSeries>>,
    ) -> Arc<Vec<RawSeries>> {
        if !self.stats_selectors.contains(&(vs as *const _ as usize))
            || data.iter().all(|s| s.hists.is_empty())
        {
            return data;
        }
        Arc::new(
            data.iter()
                .map(|s| RawSeries {
                    labels: s.labels.clone(),
                    floats: s.floats.clone(),
                    hists: crate::hist_functions::stats_view(&s.hists),
                })
                .collect(),
        )
    }

    /// The fetched series of a selector, borrowed for the whole evaluation.
    fn selector_slice(&self, vs: &VectorSelector) -> Result<&'a [RawSeries], QueryError> {
        let key = vs as *const _ as usize;
        let data: &'a HashMap<usize, Arc<Vec<RawSeries>>> = self.data;
        data.get(&key)
            .map(|v| v.as_slice())
            .ok_or_else(|| QueryError::Execution("selector was not planned".into()))
    }

    fn selector_data(&self, vs: &VectorSelector) -> Result<Arc<Vec<RawSeries>>, QueryError> {
        let key = vs as *const _ as usize;
        self.data
            .get(&key)
            .cloned()
            .ok_or_else(|| QueryError::Execution("selector was not planned".into()))
    }

    /// A range-vector argument (matrix selector or subquery), unwrapping parentheses.
    pub(crate) fn matrix_arg(
        &mut self,
        expr: &Expr,
        r: Range,
    ) -> Result<MatrixArg<'a>, QueryError> {
        self.matrix_arg_with(expr, r, true)
    }

    /// [`Evaluator::matrix_arg`], leaving a selector's float staleness markers in place unless
    /// `strip_stale_floats`: for a caller that strips them series by series with
    /// [`without_stale`], on its own threads and while it has the series in cache (a serial
    /// pass over every fetched sample took a twentieth of a day-long `sum by (rate)`).
    pub(crate) fn matrix_arg_with(
        &mut self,
        expr: &Expr,
        r: Range,
        strip_stale_floats: bool,
    ) -> Result<MatrixArg<'a>, QueryError> {
        match expr {
            Expr::Paren(p) => self.matrix_arg_with(&p.expr, r, strip_stale_floats),
            Expr::MatrixSelector(ms) => {
                let stats = self
                    .stats_selectors
                    .contains(&(&ms.vs as *const _ as usize));
                let data: &'a [RawSeries] = self.selector_slice(&ms.vs)?;
                let series = data
                    .iter()
                    .map(|raw| WindowSeries {
                        labels: raw.labels.clone(),
                        drop_name: false,
                        floats: if strip_stale_floats {
                            without_stale(&raw.floats)
                        } else {
                            Cow::Borrowed(raw.floats.as_slice())
                        },
                        hists: if stats && !raw.hists.is_empty() {
                            Cow::Owned(
                                crate::hist_functions::stats_view(&raw.hists)
                                    .into_iter()
                                    .filter(|p| !is_stale_nan(p.1.sum))
                                    .collect(),
                            )
                        } else if raw.hists.iter().any(|p| is_stale_nan(p.1.sum)) {
                            Cow::Owned(
                                raw.hists
                                    .iter()
                                    .filter(|p| !is_stale_nan(p.1.sum))
                                    .cloned()
                                    .collect(),
                            )
                        } else {
                            Cow::Borrowed(raw.hists.as_slice())
                        },
                    })
                    .collect();
                Ok(MatrixArg {
                    series,
                    range_ms: duration_ms(ms.range),
                    offset_ms: offset_ms(&ms.vs.offset),
                    at: at_ms(&ms.vs.at, self.query_start, self.query_end),
                    text: expr.to_string(),
                })
            }
            Expr::Subquery(sq) => {
                let inner = subquery_range(self.opts, r, sq, self.query_start, self.query_end);
                let series = match self.eval(&sq.expr, inner)? {
                    // Delayed name flags travel with the series, as upstream's do.
                    Value::Vector(v) => v,
                    Value::Scalar(v) => vec![StepSeries {
                        labels: Labels::default(),
                        drop_name: false,
                        points: v.into_iter().map(Point::Float).collect(),
                    }],
                    _ => {
                        return Err(QueryError::Execution(
                            "subquery is only allowed on instant vector".into(),
                        ));
                    }
                };
                let series = series
                    .into_iter()
                    .map(|s| {
                        let mut floats = Vec::new();
                        let mut hists = Vec::new();
                        for (i, p) in s.points.into_iter().enumerate() {
                            match p {
                                Point::Float(f) => floats.push((inner.at(i), f)),
                                Point::Hist(h) => {
                                    // A subquery's histograms carry no reset knowledge.
                                    let h = match h.counter_reset_hint {
                                        crate::CounterResetHint::CounterReset
                                        | crate::CounterResetHint::NotCounterReset => {
                                            let mut x = (*h).clone();
                                            x.counter_reset_hint = crate::CounterResetHint::Unknown;
                                            Arc::new(x)
                                        }
                                        _ => h,
                                    };
                                    hists.push((inner.at(i), h))
                                }
                                Point::Absent => {}
                            }
                        }
                        WindowSeries {
                            labels: s.labels,
                            drop_name: s.drop_name,
                            floats: Cow::Owned(floats),
                            hists: Cow::Owned(hists),
                        }
                    })
                    .collect();
                Ok(MatrixArg {
                    series,
                    range_ms: duration_ms(sq.range),
                    offset_ms: offset_ms(&sq.offset),
                    at: at_ms(&sq.at, self.query_start, self.query_end),
                    text: expr.to_string(),
                })
            }
            _ => Err(QueryError::Execution(format!(
                "expected range vector, got {}",
                crate::engine::type_name(expr.value_type())
            ))),
        }
    }

    /// Final name removal and shaping of the result.
    pub(crate) fn finish(
        &mut self,
        value: Value,
        r: Range,
        instant: bool,
    ) -> Result<QueryValue, QueryError> {
        let value = match value {
            Value::Vector(mut series) => {
                for s in &mut series {
                    if s.drop_name {
                        s.labels = labels_ext::drop_name(&s.labels);
                        s.drop_name = false;
                    }
                }
                Value::Vector(merge_same_labels(series)?)
            }
            other => other,
        };
        shape_result(value, r, instant)
    }
}

/// The sample an instant selector sees at reference time `t`: the latest in `(t - lookback, t]`,
/// unless that is a staleness marker. `fi`/`hi` count the samples at or before `t`.
fn lookup(
    raw: &RawSeries,
    fi: usize,
    hi: usize,
    t: i64,
    lookback: i64,
    timestamps: bool,
) -> Option<Point> {
    let f = (fi > 0).then(|| raw.floats[fi - 1]);
    let h = (hi > 0).then(|| &raw.hists[hi - 1]);
    let use_hist = match (f, h) {
        (None, None) => return None,
        (Some(_), None) => false,
        (None, Some(_)) => true,
        (Some(f), Some(h)) => h.0 > f.0,
    };
    if use_hist {
        let (ht, hv) = h?;
        if *ht <= t - lookback || is_stale_nan(hv.sum) {
            return None;
        }
        if timestamps {
            return Some(Point::Float(*ht as f64 / 1000.0));
        }
        Some(Point::Hist(Arc::clone(hv)))
    } else {
        let (ft, fv) = f?;
        if ft <= t - lookback || is_stale_nan(fv) {
            return None;
        }
        if timestamps {
            return Some(Point::Float(ft as f64 / 1000.0));
        }
        Some(Point::Float(fv))
    }
}

/// Merges series with identical labels; an error if two have a value at the same step.
pub(crate) fn merge_same_labels(series: Vec<StepSeries>) -> Result<Vec<StepSeries>, QueryError> {
    if series.len() < 2 {
        return Ok(series);
    }
    let mut index: HashMap<Labels, usize> = HashMap::with_capacity(series.len());
    let mut out: Vec<StepSeries> = Vec::with_capacity(series.len());
    for s in series {
        match index.get(&s.labels) {
            Some(&i) => {
                let target = &mut out[i];
                target.drop_name |= s.drop_name;
                for (dst, src) in target.points.iter_mut().zip(s.points) {
                    if src.is_present() {
                        if dst.is_present() {
                            return Err(QueryError::Execution(
                                "vector cannot contain metrics with the same labelset".into(),
                            ));
                        }
                        *dst = src;
                    }
                }
            }
            None => {
                index.insert(s.labels.clone(), out.len());
                out.push(s);
            }
        }
    }
    Ok(out)
}
