//! The engine's entry points: parse, plan the selectors' time ranges, fetch, evaluate, shape
//! the result.

use crate::eval::{Evaluator, Range};
use crate::selector::{at_ms, duration_ms, offset_ms, selector_matchers};
use crate::source::SeriesSource;
use crate::trim::ParsedQuery;
use crate::value::{InstantSample, Point, QueryValue, RangeSeries, RawSeries, Value};
use architect_model::Labels;
use futures::StreamExt;
use promql_parser::parser::value::ValueType;
use promql_parser::parser::{self, Expr};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Engine settings.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// How far back an instant selector looks for a sample (Prometheus: 5 m).
    pub lookback_ms: i64,
    /// Most samples a query may hold at once (Prometheus: 50 M).
    pub max_samples: usize,
    /// Step of a subquery written without one (Prometheus: the global evaluation interval).
    pub default_subquery_step_ms: i64,
    /// Keep `__name__` until the end of evaluation (upstream's test engine does).
    pub delayed_name_removal: bool,
    /// Longest a query may run.
    pub timeout: Duration,
    /// Range queries are evaluated in time slices of this length (ms, aligned to multiples of
    /// it since the epoch), one after another, and their results joined: only one slice's
    /// samples are in memory at once. 0 = never split.
    pub split_ms: i64,
    /// Fewest steps a slice may hold; a query whose step is longer than `split_ms /
    /// split_min_steps` is not split (its samples are few, and each slice pays the query's
    /// fixed costs again). 0 = no minimum.
    pub split_min_steps: i64,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            lookback_ms: 5 * 60 * 1000,
            max_samples: 50_000_000,
            default_subquery_step_ms: 60_000,
            delayed_name_removal: false,
            timeout: Duration::from_secs(120),
            split_ms: DEFAULT_SPLIT_MS,
            split_min_steps: DEFAULT_SPLIT_MIN_STEPS,
        }
    }
}

/// Default [`EngineOptions::split_ms`]: a day, the span of a day partition. Each slice's read
/// reaches one window (or lookback) into the block before it, and a block read for a few
/// minutes still decompresses all its pages: 6-hour slices of a day-long `sum by (rate)` cost
/// 8 % more CPU over flushed blocks and 30 % more over compacted 6-hour blocks (README,
/// session 21), so only queries spanning days are split.
pub const DEFAULT_SPLIT_MS: i64 = 24 * 3_600_000;

/// Default [`EngineOptions::split_min_steps`].
pub const DEFAULT_SPLIT_MIN_STEPS: i64 = 60;

/// Why a query failed, with Prometheus's error types.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The query does not parse or is not valid for the request (`bad_data`).
    #[error("{0}")]
    BadData(String),
    /// Evaluation failed (`execution`).
    #[error("{0}")]
    Execution(String),
    /// Over the sample limit (`execution`).
    #[error("query processing would load too many samples into memory in {0}")]
    TooManySamples(&'static str),
    /// Over the time limit (`timeout`).
    #[error("query timed out in {0}")]
    Timeout(&'static str),
    /// The storage below failed (`internal`).
    #[error("{0}")]
    Storage(String),
}

impl QueryError {
    /// Prometheus's `errorType` for this error.
    pub fn error_type(&self) -> &'static str {
        match self {
            QueryError::BadData(_) => "bad_data",
            QueryError::Execution(_) | QueryError::TooManySamples(_) => "execution",
            QueryError::Timeout(_) => "timeout",
            QueryError::Storage(_) => "internal",
        }
    }
}

/// Counters of one query's work (the API's `stats=all`).
#[derive(Clone, Debug, Default)]
pub struct QueryStats {
    /// Samples read from the source.
    pub samples_loaded: usize,
    /// Largest number of samples held at once.
    pub peak_samples: usize,
    /// Series read from the source.
    pub series_loaded: usize,
    /// Seconds spent fetching from the source.
    pub fetch_seconds: f64,
    /// Seconds spent evaluating.
    pub eval_seconds: f64,
}

/// A query's value with its annotations.
#[derive(Clone, Debug)]
pub struct QueryResult {
    /// The value.
    pub value: QueryValue,
    /// `PromQL warning: ...` annotations.
    pub warnings: Vec<String>,
    /// `PromQL info: ...` annotations.
    pub infos: Vec<String>,
    /// Work counters.
    pub stats: QueryStats,
}

/// Evaluates PromQL.
#[derive(Clone, Debug, Default)]
pub struct Engine {
    opts: EngineOptions,
}

impl Engine {
    /// An engine with these options.
    pub fn new(opts: EngineOptions) -> Self {
        Self { opts }
    }

    /// The options.
    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    /// Parses `query` (trim operators included), mapping parse errors to `bad_data`.
    pub fn parse(query: &str) -> Result<ParsedQuery, QueryError> {
        ParsedQuery::parse(query)
            .map_err(|e| QueryError::BadData(format!("invalid parameter \"query\": {e}")))
    }

    /// An instant query at `t` (ms).
    pub async fn instant(
        &self,
        source: &dyn SeriesSource,
        query: &str,
        t: i64,
    ) -> Result<QueryResult, QueryError> {
        let parsed = Self::parse(query)?;
        self.run(
            source,
            query,
            &parsed,
            Range {
                start: t,
                end: t,
                step: 1,
            },
            true,
        )
        .await
    }

    /// An instant query of an already parsed (possibly rewritten) expression: `query` is its
    /// text (annotation positions refer to it), `written` the text the user wrote (its string
    /// literals are checked with Go's escape rules).
    pub async fn instant_expr(
        &self,
        source: &dyn SeriesSource,
        query: &str,
        written: &str,
        expr: &ParsedQuery,
        t: i64,
    ) -> Result<QueryResult, QueryError> {
        let range = Range {
            start: t,
            end: t,
            step: 1,
        };
        self.run_with(source, query, written, expr, range, true)
            .await
    }

    /// A range query of an already parsed expression (see [`Engine::instant_expr`]).
    #[allow(clippy::too_many_arguments)]
    pub async fn range_expr(
        &self,
        source: &dyn SeriesSource,
        query: &str,
        written: &str,
        expr: &ParsedQuery,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryResult, QueryError> {
        check_range_query(&expr.expr, step)?;
        self.run_with(
            source,
            query,
            written,
            expr,
            Range { start, end, step },
            false,
        )
        .await
    }

    /// A range query over `[start, end]` every `step` (ms).
    pub async fn range(
        &self,
        source: &dyn SeriesSource,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryResult, QueryError> {
        let parsed = Self::parse(query)?;
        check_range_query(&parsed.expr, step)?;
        self.run(source, query, &parsed, Range { start, end, step }, false)
            .await
    }

    async fn run(
        &self,
        source: &dyn SeriesSource,
        query: &str,
        expr: &ParsedQuery,
        range: Range,
        instant: bool,
    ) -> Result<QueryResult, QueryError> {
        self.run_with(source, query, query, expr, range, instant)
            .await
    }

    async fn run_with(
        &self,
        source: &dyn SeriesSource,
        query: &str,
        written: &str,
        parsed: &ParsedQuery,
        range: Range,
        instant: bool,
    ) -> Result<QueryResult, QueryError> {
        let deadline = Instant::now() + self.opts.timeout;
        let slices = if instant {
            Vec::new()
        } else {
            slices(range, self.opts.split_ms, self.opts.split_min_steps)
        };
        if slices.len() < 2 {
            return self
                .run_slice(
                    source, query, written, parsed, range, range, instant, deadline,
                )
                .await;
        }
        // One slice after another: only one slice's samples are held at a time.
        let mut joined = SliceJoin::default();
        for slice in slices {
            let result = self
                .run_slice(
                    source, query, written, parsed, slice, range, false, deadline,
                )
                .await?;
            joined.add(result)?;
        }
        Ok(joined.finish())
    }

    /// Plans, fetches and evaluates the steps of `range`, a slice of the query's steps
    /// `whole` (`@ start()`, `end()` and the query-context functions refer to `whole`).
    #[allow(clippy::too_many_arguments)]
    async fn run_slice(
        &self,
        source: &dyn SeriesSource,
        query: &str,
        written: &str,
        parsed: &ParsedQuery,
        range: Range,
        whole: Range,
        instant: bool,
        deadline: Instant,
    ) -> Result<QueryResult, QueryError> {
        let expr = &parsed.expr;
        let started = Instant::now();
        // Plan: every selector with the time range it reads.
        let mut plan: HashMap<usize, Planned<'_>> = HashMap::new();
        let planner = Planner {
            opts: &self.opts,
            query_start: whole.start,
            query_end: whole.end,
        };
        planner.plan(expr, range, None, &mut plan);
        let plan: Vec<(usize, Planned<'_>)> = plan.into_iter().collect();
        let mut data: HashMap<usize, Arc<Vec<RawSeries>>> = HashMap::with_capacity(plan.len());
        let mut stats = QueryStats::default();
        // Several selectors' reads at once: from object storage each waits on its GETs.
        let fetches: Vec<_> = plan.iter().map(|(_, p)| read_selector(source, p)).collect();
        let mut fetched = futures::stream::iter(fetches).buffered(SELECTOR_READS_IN_FLIGHT);
        for (key, _) in &plan {
            let Some(series) = fetched.next().await else {
                break;
            };
            if Instant::now() > deadline {
                return Err(QueryError::Timeout("query preparation"));
            }
            let mut series = series?;
            // Sorted by labels; a series that several matcher sets found is kept once (the
            // stable sort keeps the first set's copy first).
            series.sort_by(|a, b| a.labels.cmp(&b.labels));
            series.dedup_by(|later, first| later.labels == first.labels);
            let samples: usize = series.iter().map(|s| s.floats.len() + s.hists.len()).sum();
            stats.samples_loaded += samples;
            stats.series_loaded += series.len();
            if stats.samples_loaded > self.opts.max_samples {
                return Err(QueryError::TooManySamples("query execution"));
            }
            data.insert(*key, Arc::new(series));
        }
        stats.fetch_seconds = started.elapsed().as_secs_f64();
        let eval_started = Instant::now();
        let mut ev = Evaluator::new(&self.opts, &data, whole, deadline);
        ev.set_query_text(query, written);
        ev.trims = parsed.trim_nodes();
        ev.stats_selectors = crate::hist_functions::stats_selectors(expr, &ev.trims);
        let value = ev.eval(expr, range)?;
        let value = ev.finish(value, range, instant)?;
        stats.peak_samples = ev.peak_samples().max(stats.samples_loaded);
        stats.eval_seconds = eval_started.elapsed().as_secs_f64();
        let (warnings, infos) = ev.take_annotations();
        Ok(QueryResult {
            value,
            warnings,
            infos,
            stats,
        })
    }
}

/// The steps of a range query cut into slices at multiples of `split_ms` (since the epoch),
/// each of at least `min_steps` steps (a shorter tail joins the slice before it); fewer than
/// two slices when the query is not worth splitting: its step is longer than
/// `split_ms / min_steps` (few samples, while each slice pays the fixed costs again), or it
/// has too few steps.
fn slices(r: Range, split_ms: i64, min_steps: i64) -> Vec<Range> {
    if split_ms <= 0 || r.step <= 0 || r.end < r.start || split_ms / r.step < min_steps {
        return Vec::new();
    }
    let min_steps = min_steps.max(1);
    let steps = (r.end - r.start) / r.step + 1;
    if steps < 2 * min_steps {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut first = 0i64;
    while first < steps {
        let t = r.start + first * r.step;
        // The first step at or after the next multiple of `split_ms`.
        let boundary = (t.div_euclid(split_ms) + 1) * split_ms;
        let mut next = (boundary - r.start + r.step - 1) / r.step;
        next = next.max(first + min_steps);
        if steps - next < min_steps {
            next = steps;
        }
        out.push(Range {
            start: t,
            end: r.start + (next - 1) * r.step,
            step: r.step,
        });
        first = next;
    }
    out
}

/// The results of a range query's slices joined: each series' samples in slice order,
/// annotations once each, work counters added up (the peak is the largest slice's).
#[derive(Default)]
struct SliceJoin {
    series: Vec<RangeSeries>,
    at: HashMap<Labels, usize>,
    warnings: Vec<String>,
    infos: Vec<String>,
    stats: QueryStats,
}

impl SliceJoin {
    fn add(&mut self, r: QueryResult) -> Result<(), QueryError> {
        let QueryValue::Matrix(series) = r.value else {
            return Err(QueryError::Execution(format!(
                "range query slice returned a {}",
                r.value.type_name()
            )));
        };
        for s in series {
            match self.at.get(&s.labels) {
                Some(&i) => {
                    self.series[i].floats.extend(s.floats);
                    self.series[i].hists.extend(s.hists);
                }
                None => {
                    self.at.insert(s.labels.clone(), self.series.len());
                    self.series.push(s);
                }
            }
        }
        for (have, new) in [(&mut self.warnings, r.warnings), (&mut self.infos, r.infos)] {
            for a in new {
                if !have.contains(&a) {
                    have.push(a);
                }
            }
        }
        let (total, slice) = (&mut self.stats, r.stats);
        total.samples_loaded += slice.samples_loaded;
        total.series_loaded += slice.series_loaded;
        total.peak_samples = total.peak_samples.max(slice.peak_samples);
        total.fetch_seconds += slice.fetch_seconds;
        total.eval_seconds += slice.eval_seconds;
        Ok(())
    }

    fn finish(mut self) -> QueryResult {
        self.series.sort_by(|a, b| a.labels.cmp(&b.labels));
        QueryResult {
            value: QueryValue::Matrix(self.series),
            warnings: self.warnings,
            infos: self.infos,
            stats: self.stats,
        }
    }
}

fn check_range_query(expr: &Expr, step: i64) -> Result<(), QueryError> {
    match expr.value_type() {
        ValueType::Vector | ValueType::Scalar => {}
        other => {
            return Err(QueryError::BadData(format!(
                "invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
                type_name(other)
            )));
        }
    }
    if step <= 0 {
        return Err(QueryError::BadData(
            "zero or negative query resolution step widths are not accepted. Try a positive integer"
                .into(),
        ));
    }
    Ok(())
}

pub(crate) fn type_name(t: ValueType) -> &'static str {
    match t {
        ValueType::Vector => "instant vector",
        ValueType::Matrix => "range vector",
        ValueType::Scalar => "scalar",
        ValueType::String => "string",
    }
}

struct Planned<'a> {
    selector: &'a parser::VectorSelector,
    start: i64,
    end: i64,
    hints: crate::source::SelectHints,
}

/// Walks the expression with the time range each node is evaluated over, the same way the
/// evaluator will, and records each selector's read range.
struct Planner<'o> {
    opts: &'o EngineOptions,
    query_start: i64,
    query_end: i64,
}

impl Planner<'_> {
    /// `func` is the nearest enclosing call or aggregation (Prometheus's
    /// `extractFuncFromPath`): a binary operation clears it, other nodes pass it through.
    fn plan<'a>(
        &self,
        expr: &'a Expr,
        r: Range,
        func: Option<&str>,
        out: &mut HashMap<usize, Planned<'a>>,
    ) {
        match expr {
            Expr::VectorSelector(vs) => {
                let (lo, hi) = self.ref_times(vs, r);
                let hints = hints(func, r.step, 0);
                self.record(vs, lo - self.opts.lookback_ms, hi, hints, out);
            }
            Expr::MatrixSelector(ms) => {
                let (lo, hi) = self.ref_times(&ms.vs, r);
                let range = duration_ms(ms.range);
                self.record(&ms.vs, lo - range, hi, hints(func, r.step, range), out);
            }
            Expr::Subquery(sq) => {
                let inner = subquery_range(self.opts, r, sq, self.query_start, self.query_end);
                self.plan(&sq.expr, inner, func, out);
            }
            Expr::Aggregate(a) => {
                let op = a.op.to_string();
                self.plan(&a.expr, r, Some(&op), out);
                if let Some(p) = &a.param {
                    self.plan(p, r, Some(&op), out);
                }
            }
            Expr::Unary(u) => self.plan(&u.expr, r, func, out),
            Expr::Binary(b) => {
                self.plan(&b.lhs, r, None, out);
                self.plan(&b.rhs, r, None, out);
            }
            Expr::Paren(p) => self.plan(&p.expr, r, func, out),
            Expr::Call(c) => {
                for a in &c.args.args {
                    self.plan(a, r, Some(c.func.name), out);
                }
            }
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
        }
    }

    /// The earliest and latest reference times (step time with `@` and offset applied).
    fn ref_times(&self, vs: &parser::VectorSelector, r: Range) -> (i64, i64) {
        let off = offset_ms(&vs.offset);
        match at_ms(&vs.at, self.query_start, self.query_end) {
            Some(at) => (at - off, at - off),
            None => (r.start - off, r.end - off),
        }
    }

    fn record<'a>(
        &self,
        vs: &'a parser::VectorSelector,
        start: i64,
        end: i64,
        hints: crate::source::SelectHints,
        out: &mut HashMap<usize, Planned<'a>>,
    ) {
        let key = vs as *const _ as usize;
        let e = out.entry(key).or_insert(Planned {
            selector: vs,
            start,
            end,
            hints,
        });
        e.start = e.start.min(start);
        e.end = e.end.max(end);
    }
}

/// The series of a planned selector, from each of its matcher sets (unsorted).
async fn read_selector(
    source: &dyn SeriesSource,
    p: &Planned<'_>,
) -> Result<Vec<RawSeries>, QueryError> {
    let sets = selector_matchers(p.selector).map_err(QueryError::BadData)?;
    let mut series: Vec<RawSeries> = Vec::new();
    for set in sets {
        let found = source.select_hinted(&set, p.start, p.end, &p.hints).await;
        series.extend(found.map_err(|e| QueryError::Storage(e.0))?);
    }
    Ok(series)
}

/// Selectors of one query read at once.
const SELECTOR_READS_IN_FLIGHT: usize = 4;

fn hints(func: Option<&str>, step_ms: i64, range_ms: i64) -> crate::source::SelectHints {
    crate::source::SelectHints {
        func: func.map(str::to_string),
        step_ms,
        range_ms,
        presence_only: func.is_some_and(|f| crate::source::PRESENCE_ONLY_FUNCS.contains(&f)),
    }
}

/// The steps a subquery is evaluated at for an outer evaluation over `outer`: aligned to
/// multiples of its step, from just after the earliest window start to the last window end.
pub(crate) fn subquery_range(
    opts: &EngineOptions,
    outer: Range,
    sq: &parser::SubqueryExpr,
    query_start: i64,
    query_end: i64,
) -> Range {
    let offset = offset_ms(&sq.offset);
    let range = duration_ms(sq.range);
    let step = sq
        .step
        .map(duration_ms)
        .filter(|s| *s > 0)
        .unwrap_or(opts.default_subquery_step_ms);
    let (outer_start, outer_end) = match at_ms(&sq.at, query_start, query_end) {
        Some(at) => (at, at),
        None => (
            outer.start,
            outer.start + ((outer.end - outer.start) / outer.step) * outer.step,
        ),
    };
    let end = outer_end - offset;
    let first = outer_start - offset - range;
    let mut start = step * (first / step);
    if start <= first {
        start += step;
    }
    Range { start, end, step }
}

/// Converts the evaluated value into the query's result.
pub(crate) fn shape_result(
    value: Value,
    r: Range,
    instant: bool,
) -> Result<QueryValue, QueryError> {
    Ok(match value {
        Value::String(s) => {
            if !instant {
                return Err(QueryError::BadData(
                    "invalid expression type \"string\" for range query, must be Scalar or instant Vector"
                        .into(),
                ));
            }
            QueryValue::String(r.start, s)
        }
        Value::Scalar(v) => {
            if instant {
                QueryValue::Scalar(r.start, v.first().copied().unwrap_or(f64::NAN))
            } else {
                QueryValue::Matrix(vec![RangeSeries {
                    labels: Labels::default(),
                    floats: v.iter().enumerate().map(|(i, f)| (r.at(i), *f)).collect(),
                    hists: Vec::new(),
                }])
            }
        }
        Value::Vector(series) => {
            if instant {
                QueryValue::Vector(
                    series
                        .into_iter()
                        .filter_map(|s| {
                            let point = s.points.into_iter().next()?;
                            point.is_present().then_some(InstantSample {
                                labels: s.labels,
                                t: r.start,
                                point,
                            })
                        })
                        .collect(),
                )
            } else {
                let mut out: Vec<RangeSeries> = series
                    .into_iter()
                    .map(|s| {
                        let mut floats = Vec::new();
                        let mut hists = Vec::new();
                        for (i, p) in s.points.into_iter().enumerate() {
                            match p {
                                Point::Float(f) => floats.push((r.at(i), f)),
                                Point::Hist(h) => hists.push((r.at(i), h)),
                                Point::Absent => {}
                            }
                        }
                        RangeSeries {
                            labels: s.labels,
                            floats,
                            hists,
                        }
                    })
                    .filter(|s| !s.floats.is_empty() || !s.hists.is_empty())
                    .collect();
                out.sort_by(|a, b| a.labels.cmp(&b.labels));
                QueryValue::Matrix(out)
            }
        }
        Value::Matrix(mut m) => {
            m.sort_by(|a, b| a.labels.cmp(&b.labels));
            QueryValue::Matrix(m)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemorySource;
    use architect_model::Labels;

    const START: i64 = 600_000;
    const END: i64 = 15_000_000;
    const STEP: i64 = 15_000;

    async fn matrix(engine: &Engine, source: &MemorySource, query: &str) -> Vec<RangeSeries> {
        match engine
            .range(source, query, START, END, STEP)
            .await
            .expect("query")
            .value
        {
            QueryValue::Matrix(m) => m,
            other => panic!("expected a matrix, got {other:?}"),
        }
    }

    #[test]
    fn range_queries_are_sliced_at_multiples_of_the_split() {
        const H: i64 = 3_600_000;
        let steps_of = |r: &Range| (0..r.steps()).map(|i| r.at(i)).collect::<Vec<_>>();
        // A day at a minute's step from midnight: four 6-hour slices, the last step of the
        // day joining the last slice.
        let day = Range {
            start: 0,
            end: 24 * H,
            step: 60_000,
        };
        let cut = slices(day, 6 * H, 60);
        let bounds: Vec<(i64, i64)> = cut.iter().map(|r| (r.start, r.end)).collect();
        assert_eq!(
            bounds,
            [
                (0, 6 * H - 60_000),
                (6 * H, 12 * H - 60_000),
                (12 * H, 18 * H - 60_000),
                (18 * H, 24 * H)
            ]
        );
        // Unaligned starts and steps: the slices hold exactly the query's steps, in order,
        // each of at least the minimum, and none but a lengthened one crosses a boundary.
        for (start, step, hours) in [
            (7_001, 60_000, 24),
            (-3 * H + 5, 17_000, 13),
            (H, 360_000, 30),
        ] {
            let r = Range {
                start,
                end: start + hours * H,
                step,
            };
            let cut = slices(r, 6 * H, 60);
            assert!(cut.len() >= 2, "{start} {step}");
            let joined: Vec<i64> = cut.iter().flat_map(steps_of).collect();
            assert_eq!(joined, steps_of(&r));
            for s in &cut {
                assert!(s.steps() >= 60);
                let crosses = s.start.div_euclid(6 * H) != s.end.div_euclid(6 * H);
                assert!(!crosses || s.steps() == 60 || s.end == r.end, "{s:?}");
            }
        }
        // Not split: steps coarser than a sixtieth of the split, too few steps, instant.
        let coarse = Range {
            start: 0,
            end: 30 * 24 * H,
            step: H,
        };
        assert!(slices(coarse, 6 * H, 60).len() < 2);
        let short = Range {
            start: 0,
            end: 119 * 60_000,
            step: 60_000,
        };
        assert!(slices(short, 6 * H, 60).len() < 2);
        assert!(slices(day, 0, 60).len() < 2);
        // The defaults: a day from midnight is one slice, two days at a minute's step two,
        // and 30 days at a 25-minute step (downsampled data) one.
        let (split, min) = (DEFAULT_SPLIT_MS, DEFAULT_SPLIT_MIN_STEPS);
        assert!(slices(day, split, min).len() < 2);
        let two_days = Range { end: 48 * H, ..day };
        assert_eq!(slices(two_days, split, min).len(), 2);
        let month = Range {
            start: 0,
            end: 30 * 24 * H,
            step: 25 * 60_000,
        };
        assert!(slices(month, split, min).len() < 2);
        // No minimum and a 1 ms split: one slice per step.
        assert_eq!(slices(short, 1, 0).len(), 120);
    }

    /// Large enough for the range function and the aggregation to take their parallel and
    /// float-only paths; each series alone stays serial, and the sum is recomputed by hand.
    #[tokio::test]
    async fn large_queries_agree_with_series_by_series_evaluation() {
        let mut source = MemorySource::new();
        let series = 300;
        for i in 0..series {
            let labels = Labels::from_pairs([
                ("__name__", "requests_total".to_string()),
                ("job", format!("j{}", i % 3)),
                ("i", i.to_string()),
            ]);
            let mut v = 0.0;
            for k in 0..1000i64 {
                // Some resets and gaps so windows differ from series to series.
                v = if (k + i) % 97 == 0 {
                    1.0
                } else {
                    v + (i % 7) as f64 + 0.5
                };
                if (k * 7 + i) % 53 != 0 {
                    source.add_float(&labels, k * 15_000 + i, v);
                }
            }
        }
        let engine = Engine::new(EngineOptions::default());
        let all = matrix(&engine, &source, "rate(requests_total[5m])").await;
        assert_eq!(all.len(), series as usize);
        for s in &all {
            let i = s.labels.get("i").expect("label i");
            let query = format!("rate(requests_total{{i=\"{i}\"}}[5m])");
            let one = matrix(&engine, &source, &query).await;
            assert_eq!(one.len(), 1);
            assert_eq!(one[0].floats.len(), s.floats.len());
            for (a, b) in one[0].floats.iter().zip(&s.floats) {
                assert_eq!((a.0, a.1.to_bits()), (b.0, b.1.to_bits()));
            }
        }
        let sums = matrix(&engine, &source, "sum by (job) (rate(requests_total[5m]))").await;
        assert_eq!(sums.len(), 3);
        for s in &sums {
            let job = s.labels.get("job").expect("job");
            for &(t, v) in &s.floats {
                let expected: f64 = all
                    .iter()
                    .filter(|x| x.labels.get("job") == Some(job))
                    .filter_map(|x| x.floats.iter().find(|p| p.0 == t).map(|p| p.1))
                    .sum();
                assert!(
                    (v - expected).abs() <= 1e-9 * expected.abs().max(1.0),
                    "{job} at {t}: {v} vs {expected}"
                );
            }
        }
    }

    /// Answers what [`MemorySource`] holds, holding each read for `hold` and recording the
    /// most reads in flight; for selectors the engine reads presence-only it puts a stand-in
    /// in place of every value but staleness markers (as the store does) and counts those
    /// reads.
    struct ObservedSource {
        inner: MemorySource,
        hold: std::time::Duration,
        presence_reads: std::sync::atomic::AtomicUsize,
        in_flight: std::sync::atomic::AtomicUsize,
        most: std::sync::atomic::AtomicUsize,
    }

    impl ObservedSource {
        fn new(inner: MemorySource, hold: std::time::Duration) -> Self {
            Self {
                inner,
                hold,
                presence_reads: Default::default(),
                in_flight: Default::default(),
                most: Default::default(),
            }
        }
    }

    #[async_trait::async_trait]
    impl SeriesSource for ObservedSource {
        async fn select_hinted(
            &self,
            matchers: &[architect_model::Matcher],
            start: i64,
            end: i64,
            hints: &crate::source::SelectHints,
        ) -> Result<Vec<RawSeries>, crate::source::SourceError> {
            use std::sync::atomic::Ordering::SeqCst;
            let now = self.in_flight.fetch_add(1, SeqCst) + 1;
            self.most.fetch_max(now, SeqCst);
            tokio::time::sleep(self.hold).await;
            self.in_flight.fetch_sub(1, SeqCst);
            let mut found = self.inner.select(matchers, start, end).await?;
            if hints.presence_only {
                self.presence_reads.fetch_add(1, SeqCst);
                for s in &mut found {
                    for p in &mut s.floats {
                        if !architect_model::is_stale_nan(p.1) {
                            p.1 = -1234.5;
                        }
                    }
                }
            }
            Ok(found)
        }

        async fn select(
            &self,
            matchers: &[architect_model::Matcher],
            start: i64,
            end: i64,
        ) -> Result<Vec<RawSeries>, crate::source::SourceError> {
            self.inner.select(matchers, start, end).await
        }
    }

    /// Queries with selectors read presence-only give the same answers with stand-in values,
    /// and selectors whose values are used (under a comparison, `rate` inside `count`,
    /// `count_values`, ...) are not read presence-only.
    #[tokio::test]
    async fn presence_only_reads_change_no_answer() {
        let mut inner = MemorySource::new();
        for i in 0..6i64 {
            let labels = Labels::from_pairs([
                ("__name__", "m".to_string()),
                ("job", format!("j{}", i % 2)),
                ("i", i.to_string()),
            ]);
            for k in 0..900i64 {
                if (k + i) % 41 == 0 {
                    continue;
                }
                let v = match (k + i) % 150 {
                    0 => f64::from_bits(architect_model::STALE_NAN_BITS),
                    7 => f64::NAN,
                    _ => ((k * (i + 1)) % 17) as f64 * 0.5,
                };
                inner.add_float(&labels, k * 15_000 + i * 1_000, v);
            }
        }
        let engine = Engine::new(EngineOptions::default());
        let stand_in = ObservedSource::new(inner, std::time::Duration::ZERO);
        let presence = [
            "count(m)",
            "count by (job) (m)",
            "group by (job) (m)",
            "count(-m)",
            "count_over_time(m[5m])",
            "present_over_time(m[2m])",
            "absent_over_time(m{i=\"1\"}[1m])",
            "absent(m{i=\"2\"})",
            "timestamp(m)",
            "count_over_time(m[10m:1m])",
            "count(m) + sum(m)",
        ];
        let valued = [
            "count(m > 4)",
            "count(rate(m[5m]))",
            "count_values(\"v\", m)",
            "sum(m)",
            "topk(2, m)",
            "count(m * 2 > 6)",
        ];
        for (queries, presence_only) in [(&presence[..], true), (&valued[..], false)] {
            for query in queries {
                let before = stand_in
                    .presence_reads
                    .load(std::sync::atomic::Ordering::SeqCst);
                let plain = engine.range(&stand_in.inner, query, START, END, STEP).await;
                let read = engine.range(&stand_in, query, START, END, STEP).await;
                let plain = format!("{:?}", plain.expect("query").value);
                let read = format!("{:?}", read.expect("query").value);
                assert!(plain == read, "{query}: the answers differ");
                let reads = stand_in
                    .presence_reads
                    .load(std::sync::atomic::Ordering::SeqCst);
                assert_eq!(reads > before, presence_only, "{query}");
                let t = END - 7 * STEP;
                let plain = engine
                    .instant(&stand_in.inner, query, t)
                    .await
                    .expect("query");
                let read = engine.instant(&stand_in, query, t).await.expect("query");
                assert!(
                    format!("{:?}", plain.value) == format!("{:?}", read.value),
                    "{query} at {t}: the answers differ"
                );
            }
        }
    }

    /// The selectors of one query are read at once (from object storage each waits on its
    /// requests), and the answer is the one a source read one selector at a time gives.
    #[tokio::test]
    async fn selectors_are_read_concurrently() {
        let mut inner = MemorySource::new();
        for (name, v) in [("a", 6.0), ("b", 3.0), ("c", 2.0)] {
            let labels = Labels::from_pairs([("__name__", name), ("job", "x")]);
            for k in 0..100i64 {
                inner.add_float(&labels, START + k * STEP, v + k as f64);
            }
        }
        let engine = Engine::new(EngineOptions::default());
        let slow = ObservedSource::new(inner, std::time::Duration::from_millis(20));
        let query = "a / ignoring(__name__) b - c";
        let got = matrix(&engine, &slow.inner, query).await;
        assert_eq!(got.len(), 1);
        let concurrent = match engine.range(&slow, query, START, END, STEP).await {
            Ok(r) => r.value,
            Err(e) => panic!("query: {e}"),
        };
        assert_eq!(
            format!("{concurrent:?}"),
            format!("{:?}", QueryValue::Matrix(got))
        );
        assert_eq!(slow.most.load(std::sync::atomic::Ordering::SeqCst), 3);
    }

    /// Records the time range of every read.
    struct RangeRecorder {
        inner: MemorySource,
        reads: std::sync::Mutex<Vec<(i64, i64)>>,
    }

    #[async_trait::async_trait]
    impl SeriesSource for RangeRecorder {
        async fn select(
            &self,
            matchers: &[architect_model::Matcher],
            start: i64,
            end: i64,
        ) -> Result<Vec<RawSeries>, crate::source::SourceError> {
            if let Ok(mut reads) = self.reads.lock() {
                reads.push((start, end));
            }
            self.inner.select(matchers, start, end).await
        }
    }

    /// Split at 6 hours, a day-long range query at a minute's step reads its data in four
    /// slices (each with its window before it), and answers, annotations included, exactly as
    /// the query evaluated whole.
    #[tokio::test]
    async fn day_long_range_queries_read_and_answer_slice_by_slice() {
        const H: i64 = 3_600_000;
        let mut inner = MemorySource::new();
        for i in 0..20 {
            let labels = Labels::from_pairs([
                ("__name__", "requests".to_string()),
                ("job", format!("j{}", i % 2)),
                ("i", i.to_string()),
            ]);
            // A series that stops mid-day, and a counter that resets.
            let last = if i == 3 { 10 * H } else { 24 * H };
            let mut v = 0.0;
            for t in (0..=last).step_by(15_000) {
                v = if t % (7 * H + i * 60_000) == 0 {
                    0.0
                } else {
                    v + i as f64
                };
                inner.add_float(&labels, t, v);
            }
        }
        let source = RangeRecorder {
            inner,
            reads: std::sync::Mutex::new(Vec::new()),
        };
        // `rate` of a metric not named like a counter: an info annotation in every slice.
        let query =
            "sum by (job) (rate(requests[5m])) / on(job) group_left count by (job) (requests)";
        let sliced = Engine::new(EngineOptions {
            split_ms: 6 * H,
            ..EngineOptions::default()
        });
        let whole = Engine::new(EngineOptions {
            split_ms: 0,
            ..EngineOptions::default()
        });
        let got = sliced.range(&source, query, 0, 24 * H, 60_000).await;
        let reads = std::mem::take(&mut *source.reads.lock().expect("reads"));
        let want = whole.range(&source, query, 0, 24 * H, 60_000).await;
        let (got, want) = (got.expect("sliced"), want.expect("whole"));
        assert_eq!(format!("{:?}", got.value), format!("{:?}", want.value));
        assert!(!want.infos.is_empty());
        assert_eq!((got.warnings, got.infos), (want.warnings, want.infos));
        // Two selectors, each read once per slice: its steps and the window or lookback.
        let mut reads = reads;
        reads.sort_unstable();
        reads.dedup();
        let window = 5 * 60_000;
        let want_reads: Vec<(i64, i64)> = [
            (0, 6 * H - 60_000),
            (6 * H, 12 * H - 60_000),
            (12 * H, 18 * H - 60_000),
            (18 * H, 24 * H),
        ]
        .into_iter()
        .map(|(a, b)| (a - window, b))
        .collect();
        assert_eq!(reads, want_reads);
        assert!(got.stats.peak_samples < want.stats.peak_samples);
    }
}
