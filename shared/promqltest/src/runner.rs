//! Runs promqltest scripts through the project's engine the way upstream's runner does: loads
//! into memory, evaluates each `eval` with delayed `__name__` removal, re-runs instant queries
//! with `@` added to every selector (at five other evaluation times) and in range mode, and
//! judges every outcome with [`check`]. A case passes only if all of its runs pass.

use crate::{
    ActualResult, ActualValue, Command, EvalCase, EvalKind, Labels, LoadSeries, PointValue,
    ScriptError, TestHistogram, check, check_range_mode, parse_script,
};
use architect_promql::{
    CounterResetHint, Engine, EngineOptions, FloatHistogram, MemorySource, ParsedQuery, Point,
    QueryResult, QueryValue,
};
use promql_parser::parser::{AtModifier, Expr};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

/// Outcome of one script.
#[derive(Debug, Default, Clone)]
pub struct FileReport {
    /// Cases (evals) that passed.
    pub passed: usize,
    /// Cases that failed, with the reason.
    pub failures: Vec<(usize, String)>,
}

/// The engine options upstream's test engine uses.
pub fn test_engine_options() -> EngineOptions {
    EngineOptions {
        lookback_ms: 5 * 60 * 1000,
        max_samples: 10_000,
        default_subquery_step_ms: 60_000,
        delayed_name_removal: true,
        timeout: Duration::from_secs(100),
        // Upstream's engine evaluates a query whole.
        split_ms: 0,
        split_min_steps: architect_promql::DEFAULT_SPLIT_MIN_STEPS,
    }
}

/// Parses and runs one script.
pub fn run_script(text: &str) -> Result<FileReport, ScriptError> {
    run_script_with(text, test_engine_options())
}

/// Parses and runs one script with these engine options.
pub fn run_script_with(text: &str, opts: EngineOptions) -> Result<FileReport, ScriptError> {
    let script = parse_script(text)?;
    let engine = Engine::new(opts);
    let mut storage = MemorySource::new();
    let mut report = FileReport::default();
    for cmd in &script.commands {
        match cmd {
            Command::Clear => storage.clear(),
            Command::Load(load) => {
                for s in &load.series {
                    add_series(&mut storage, s);
                }
                if load.with_nhcb {
                    match load.nhcb_series() {
                        Ok(extra) => {
                            for s in &extra {
                                add_series(&mut storage, s);
                            }
                        }
                        Err(e) => {
                            return Err(ScriptError {
                                line: load.line,
                                message: e,
                            });
                        }
                    }
                }
            }
            Command::Eval(case) => match run_case(&engine, &storage, case) {
                Ok(()) => report.passed += 1,
                Err(e) => report.failures.push((case.line, e)),
            },
        }
    }
    Ok(report)
}

/// Adds one loaded series to `storage`, with the counter-reset hints upstream's TSDB would set.
pub fn add_series(storage: &mut MemorySource, s: &LoadSeries) {
    let labels = to_model_labels(&s.labels);
    // Prometheus's TSDB sets counter-reset hints as it appends histograms to a chunk: after the
    // first histogram of a chunk, each one not marked gauge is "not a reset". A detected reset
    // starts a new chunk whose first histogram reads back as "unknown" (upstream issue 15346).
    // Queries see those hints, and the corpus expects them.
    let mut prev: Option<FloatHistogram> = None;
    for (t, v) in &s.points {
        match v {
            PointValue::Float(f) => {
                storage.add_float(&labels, *t, *f);
                prev = None;
            }
            PointValue::Histogram(h) => {
                let mut h = to_engine_hist(h);
                if architect_model::is_stale_nan(h.sum) {
                    storage.add_histogram(&labels, *t, Arc::new(h));
                    prev = None;
                    continue;
                }
                if let Some(p) = &prev
                    && h.counter_reset_hint == CounterResetHint::Unknown
                    && p.counter_reset_hint != CounterResetHint::Gauge
                {
                    h.counter_reset_hint = if h.detect_reset(p) {
                        CounterResetHint::Unknown
                    } else {
                        CounterResetHint::NotCounterReset
                    };
                }
                prev = Some(h.clone());
                storage.add_histogram(&labels, *t, Arc::new(h));
            }
        }
    }
}

fn to_model_labels(l: &Labels) -> architect_model::Labels {
    architect_model::Labels::from_pairs(l.iter().map(|(n, v)| (n.clone(), v.clone())))
}

fn from_model_labels(l: &architect_model::Labels) -> Labels {
    l.iter()
        .map(|x| (x.name.clone(), x.value.clone()))
        .collect()
}

fn to_engine_hist(h: &TestHistogram) -> FloatHistogram {
    FloatHistogram {
        schema: h.schema,
        zero_threshold: h.zero_threshold,
        zero_count: h.zero_count,
        count: h.count,
        sum: h.sum,
        positive_spans: h.positive_spans.clone(),
        positive_buckets: h.positive_buckets.clone(),
        negative_spans: h.negative_spans.clone(),
        negative_buckets: h.negative_buckets.clone(),
        counter_reset_hint: match h.counter_reset_hint {
            crate::CounterResetHint::Unknown => CounterResetHint::Unknown,
            crate::CounterResetHint::CounterReset => CounterResetHint::CounterReset,
            crate::CounterResetHint::NotCounterReset => CounterResetHint::NotCounterReset,
            crate::CounterResetHint::Gauge => CounterResetHint::Gauge,
        },
        custom_values: h.custom_values.clone(),
    }
}

fn from_engine_hist(h: &FloatHistogram) -> TestHistogram {
    TestHistogram {
        schema: h.schema,
        zero_threshold: h.zero_threshold,
        zero_count: h.zero_count,
        count: h.count,
        sum: h.sum,
        positive_spans: h.positive_spans.clone(),
        positive_buckets: h.positive_buckets.clone(),
        negative_spans: h.negative_spans.clone(),
        negative_buckets: h.negative_buckets.clone(),
        counter_reset_hint: match h.counter_reset_hint {
            CounterResetHint::Unknown => crate::CounterResetHint::Unknown,
            CounterResetHint::CounterReset => crate::CounterResetHint::CounterReset,
            CounterResetHint::NotCounterReset => crate::CounterResetHint::NotCounterReset,
            CounterResetHint::Gauge => crate::CounterResetHint::Gauge,
        },
        counter_reset_hint_set: true,
        custom_values: h.custom_values.clone(),
    }
}

fn point_value(p: &Point) -> Option<PointValue> {
    match p {
        Point::Float(f) => Some(PointValue::Float(*f)),
        Point::Hist(h) => Some(PointValue::Histogram(from_engine_hist(h))),
        Point::Absent => None,
    }
}

fn to_actual(r: &QueryResult) -> ActualResult {
    let value = match &r.value {
        QueryValue::Scalar(_, f) => ActualValue::Scalar(*f),
        QueryValue::String(_, s) => ActualValue::String(s.clone()),
        QueryValue::Vector(v) => ActualValue::Vector(
            v.iter()
                .filter_map(|s| point_value(&s.point).map(|p| (from_model_labels(&s.labels), p)))
                .collect(),
        ),
        QueryValue::Matrix(m) => ActualValue::Matrix(
            m.iter()
                .map(|s| {
                    let mut points: Vec<(i64, PointValue)> = s
                        .floats
                        .iter()
                        .map(|(t, f)| (*t, PointValue::Float(*f)))
                        .collect();
                    points.extend(
                        s.hists
                            .iter()
                            .map(|(t, h)| (*t, PointValue::Histogram(from_engine_hist(h)))),
                    );
                    (from_model_labels(&s.labels), points)
                })
                .collect(),
        ),
    };
    ActualResult {
        value,
        warnings: r.warnings.clone(),
        infos: r.infos.clone(),
    }
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

fn run_case(engine: &Engine, storage: &MemorySource, case: &EvalCase) -> Result<(), String> {
    match case.kind {
        EvalKind::Range {
            start_ms,
            end_ms,
            step_ms,
        } => {
            let res = block_on(engine.range(storage, &case.expr, start_ms, end_ms, step_ms));
            judge(case, res.as_ref().map(to_actual).map_err(|e| e.to_string()))
        }
        EvalKind::Instant { at_ms } => {
            let expr = Engine::parse(&case.expr).map_err(|e| e.to_string());
            // The query as written, then with `@` on every selector at other evaluation times.
            let mut runs: Vec<(String, Option<ParsedQuery>, i64)> =
                vec![(case.expr.clone(), None, at_ms)];
            if let Ok(parsed) = &expr
                && let Some(with_at) = with_at_modifiers(&parsed.expr, at_ms)
            {
                let text = go_expr_string(&with_at.to_string());
                let mut with_at_query = parsed.clone();
                with_at_query.expr = with_at;
                let times: Vec<i64> = if at_ms == 0 {
                    vec![-1000, 0, 1000]
                } else {
                    vec![-10 * at_ms, 0, at_ms / 5, at_ms, 10 * at_ms]
                };
                for t in times {
                    runs.push((text.clone(), Some(with_at_query.clone()), t));
                }
            }
            for (text, parsed, t) in runs {
                let res = match &parsed {
                    None => block_on(engine.instant(storage, &text, t)),
                    Some(e) => block_on(engine.instant_expr(storage, &text, &case.expr, e, t)),
                };
                let actual = res.as_ref().map(to_actual).map_err(|e| e.to_string());
                judge(case, actual.clone()).map_err(|e| {
                    if parsed.is_some() {
                        format!("{e} [with @ at t={t}: {text}]")
                    } else {
                        e
                    }
                })?;
                let Ok(instant) = actual else { continue };
                if case.range_mode_check_applies() {
                    let range = match &parsed {
                        None => {
                            block_on(engine.range(storage, &text, t - 60_000, t + 60_000, 60_000))
                        }
                        Some(e) => block_on(engine.range_expr(
                            storage,
                            &text,
                            &case.expr,
                            e,
                            t - 60_000,
                            t + 60_000,
                            60_000,
                        )),
                    }
                    .map_err(|e| format!("range mode of {text:?}: {e}"))?;
                    let shifted = shifted_case(case, t);
                    check_range_mode(&shifted, &instant.value, &to_actual(&range).value)?;
                }
            }
            Ok(())
        }
    }
}

/// promql-parser prints +Inf as `Inf`; Go prints `+Inf`. Annotation positions in the `@`
/// re-runs refer to Go's printing of the rewritten query, so print it the same way.
fn go_expr_string(displayed: &str) -> String {
    let mut out = String::with_capacity(displayed.len() + 4);
    let bytes = displayed.as_bytes();
    let mut i = 0;
    while i < displayed.len() {
        let rest = &displayed[i..];
        let prev = if i == 0 { b' ' } else { bytes[i - 1] };
        let next = bytes.get(i + 3).copied().unwrap_or(b' ');
        if rest.starts_with("Inf")
            && !(prev.is_ascii_alphanumeric() || prev == b'_' || prev == b'+' || prev == b'-')
            && !(next.is_ascii_alphanumeric() || next == b'_')
        {
            out.push_str("+Inf");
            i += 3;
            continue;
        }
        let ch = rest.chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8().max(1);
    }
    out
}

/// The case with its evaluation time moved to `t` (the `@` re-runs check the same expectation).
fn shifted_case(case: &EvalCase, t: i64) -> EvalCase {
    let mut c = case.clone();
    c.kind = EvalKind::Instant { at_ms: t };
    c
}

fn judge(case: &EvalCase, actual: Result<ActualResult, String>) -> Result<(), String> {
    match &actual {
        Ok(r) => check(case, Ok(r)),
        Err(e) => check(case, Err(e.as_str())),
    }
}

/// The expression with `@ t` on every selector and subquery that has none (not inside a
/// subquery that has one), as upstream's runner builds it; `None` when the expression calls a
/// function whose value depends on the evaluation time.
fn with_at_modifiers(expr: &Expr, t: i64) -> Option<Expr> {
    const UNSAFE: [&str; 15] = [
        "days_in_month",
        "day_of_month",
        "day_of_week",
        "day_of_year",
        "end",
        "hour",
        "minute",
        "month",
        "year",
        "predict_linear",
        "range",
        "start",
        "step",
        "time",
        "timestamp",
    ];
    fn has_unsafe(e: &Expr) -> bool {
        match e {
            Expr::Call(c) => {
                UNSAFE.contains(&c.func.name) || c.args.args.iter().any(|a| has_unsafe(a))
            }
            Expr::Aggregate(a) => has_unsafe(&a.expr) || a.param.as_deref().is_some_and(has_unsafe),
            Expr::Binary(b) => has_unsafe(&b.lhs) || has_unsafe(&b.rhs),
            Expr::Paren(p) => has_unsafe(&p.expr),
            Expr::Unary(u) => has_unsafe(&u.expr),
            Expr::Subquery(s) => s.at.is_none() && has_unsafe(&s.expr),
            _ => false,
        }
    }
    fn set(e: &mut Expr, at: &AtModifier) {
        match e {
            Expr::VectorSelector(vs) if vs.at.is_none() => vs.at = Some(at.clone()),
            Expr::MatrixSelector(ms) if ms.vs.at.is_none() => ms.vs.at = Some(at.clone()),
            Expr::Subquery(s) if s.at.is_none() => s.at = Some(at.clone()),
            Expr::Call(c) => c.args.args.iter_mut().for_each(|a| set(a, at)),
            Expr::Aggregate(a) => {
                set(&mut a.expr, at);
                if let Some(p) = a.param.as_mut() {
                    set(p, at);
                }
            }
            Expr::Binary(b) => {
                set(&mut b.lhs, at);
                set(&mut b.rhs, at);
            }
            Expr::Paren(p) => set(&mut p.expr, at),
            Expr::Unary(u) => set(&mut u.expr, at),
            _ => {}
        }
    }
    if has_unsafe(expr) {
        return None;
    }
    let time = if t >= 0 {
        UNIX_EPOCH + Duration::from_millis(t as u64)
    } else {
        UNIX_EPOCH - Duration::from_millis(t.unsigned_abs())
    };
    let mut e = expr.clone();
    set(&mut e, &AtModifier::At(time));
    Some(e)
}
