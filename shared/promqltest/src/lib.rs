//! Parser and result checker for Prometheus's "promqltest" script language, the format of
//! upstream's PromQL test corpus (`promql/promqltest/testdata/*.test`, mirrored for this project
//! under `shared/conformance/promql`).
//!
//! Why a separate crate: the conformance runner needs to read those scripts and judge an
//! engine's answers exactly the way upstream's Go test runner does, and that logic is pure data
//! handling. Keeping it free of any engine dependency lets it build in seconds and be tested on its
//! own; the engine side only has to load the [`Load`] data, run each [`EvalCase`], and hand the
//! outcome to [`check`].
//!
//! A script is a sequence of commands separated by blank lines (`#` starts a comment line):
//! - `load <interval>` / `load_with_nhcb <interval>` followed by series lines
//!   (`metric{a="b"} 0+10x100`, see [`LoadSeries`]); `<series>@st <offsets>` lines give start
//!   timestamps for the series line that follows;
//! - `clear` drops all loaded data;
//! - `eval instant at <time> <expr>` or `eval range from <t0> to <t1> step <step> <expr>`,
//!   followed by `expect ...` lines and expected result lines (see [`EvalCase`]). The deprecated
//!   forms `eval_fail`, `eval_warn`, `eval_info`, `eval_ordered`, `expected_fail_message` and
//!   `expected_fail_regexp` are read into the same fields.
//!
//! Times are Prometheus durations from the Unix epoch, kept here in milliseconds.
//!
//! What the runner itself has to do (upstream's runner does it; this crate cannot, having no
//! PromQL parser or engine): convert `load_with_nhcb` data (helper: [`Load::nhcb_series`]); render
//! annotations as the HTTP API does, with their `(line:column)` position, before putting them in
//! [`ActualResult`]; evaluate with delayed `__name__` removal; re-run instant queries in range
//! mode (helper: [`EvalCase::range_mode_check_applies`], [`check_range_mode`]); and re-run them
//! with `@` modifiers added to every selector, which needs an AST and is left to the engine side.
//!
//! Where this crate is stricter than upstream (none of it occurs in upstream's corpus), a script
//! that upstream would accept with surprising meaning is rejected with a [`ScriptError`]: the
//! same series expected twice in one eval (upstream keeps the last), `expect string` combined
//! with result lines, `expect range vector` on a range query (upstream silently replaces the
//! query's range), a legacy `expected_fail_*` message together with `expect fail msg:/regex:`,
//! a label given twice in one series, a label value that unescapes to invalid UTF-8, and a series
//! line expanding to more than ten million values. `expect fail` without a message matches any
//! error, also one spanning several lines (upstream's `^.*$` would not).

mod check;
#[cfg(test)]
mod corpus_tests;
mod histogram;
mod nhcb;
mod number;
mod quote;
pub mod runner;
mod script;
mod series;

pub use check::{check, check_range_mode, float_almost_equal, histograms_match};
pub use histogram::{CUSTOM_BUCKETS_SCHEMA, CounterResetHint, TestHistogram};
pub use script::parse_script;

/// A label set: `(name, value)` pairs sorted by name. The metric name is the `__name__` label.
pub type Labels = Vec<(String, String)>;

/// The label holding the metric name.
pub const METRIC_NAME: &str = "__name__";

/// Bit pattern of Prometheus's staleness marker (`value.StaleNaN`), which `stale` loads as.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The staleness marker as a float.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// True only for the exact staleness-marker NaN, not for other NaNs.
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// A script that could not be parsed, with the 1-based line it failed on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ScriptError {
    /// 1-based line number in the script.
    pub line: usize,
    pub message: String,
}

/// A parsed script: its commands in file order.
#[derive(Debug, Clone)]
pub struct Script {
    pub commands: Vec<Command>,
}

impl Script {
    /// The `eval` commands, in order.
    pub fn eval_cases(&self) -> impl Iterator<Item = &EvalCase> {
        self.commands.iter().filter_map(|c| match c {
            Command::Eval(e) => Some(e),
            _ => None,
        })
    }
}

/// One script command.
#[derive(Debug, Clone)]
pub enum Command {
    /// Add data (additive: earlier loads stay until `clear`).
    Load(Load),
    /// Remove all loaded data.
    Clear,
    /// Run a query and check its result.
    Eval(EvalCase),
}

/// A `load` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Load {
    /// 1-based line of the `load` command.
    pub line: usize,
    /// Time between consecutive values of a series line, in milliseconds.
    pub interval_ms: i64,
    /// `load_with_nhcb`: classic histogram series (`_bucket`/`_count`/`_sum`) are also loaded
    /// converted to native histograms with custom buckets; see [`Load::nhcb_series`].
    pub with_nhcb: bool,
    /// The series, in file order. A later line with the same labels replaces an earlier one, as
    /// upstream does.
    pub series: Vec<LoadSeries>,
}

/// One series of a `load` block, expanded.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadSeries {
    /// Sorted by name, includes `__name__` when the line has a metric name.
    pub labels: Labels,
    /// `(timestamp ms, value)` in ascending time; the n-th value of the line is at
    /// `n * interval_ms`, and `_` values are left out (but still advance time).
    pub points: Vec<(i64, PointValue)>,
    /// Start timestamps (ms) from a preceding `<series>@st` line, one per entry of `points`
    /// (`None` where the `@st` line has `_`); empty when there was no `@st` line.
    pub start_timestamps_ms: Vec<Option<i64>>,
}

/// A sample value: a float (possibly the [`STALE_NAN_BITS`] marker) or a native histogram.
#[derive(Debug, Clone, PartialEq)]
pub enum PointValue {
    Float(f64),
    Histogram(TestHistogram),
}

/// An `eval` command: the query, how to run it, and what to expect.
#[derive(Debug, Clone)]
pub struct EvalCase {
    /// 1-based line of the `eval` command.
    pub line: usize,
    /// The PromQL expression, exactly as written after the time arguments.
    pub expr: String,
    pub kind: EvalKind,
    /// `expect fail` (optionally with `msg:`/`regex:`), or the legacy `eval_fail` with
    /// `expected_fail_message`/`expected_fail_regexp`. Matched against the error message.
    pub expect_fail: Option<MessageMatch>,
    /// `expect warn` lines (legacy `eval_warn` adds one matching anything when there is none).
    /// When non-empty, every line must match at least one warning and every warning must match
    /// at least one line. Messages include the annotation position, e.g. `... (1:5)`.
    pub expect_warn: Vec<AnnotationExpect>,
    /// `expect info` lines, with the same rules as `expect_warn`.
    pub expect_info: Vec<AnnotationExpect>,
    /// `expect no_warn`: the query must produce no warning annotation.
    pub expect_no_warn: bool,
    /// `expect no_info`: the query must produce no info annotation.
    pub expect_no_info: bool,
    /// `expect ordered` or legacy `eval_ordered`: vector results must come in the listed order.
    pub ordered: bool,
    pub expected: Expected,
}

/// How a case is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalKind {
    /// An instant query at `at_ms`. With `expect range vector`, upstream evaluates at the end of
    /// that range instead of the written `at` time, so `at_ms` holds that end.
    Instant { at_ms: i64 },
    /// A range query.
    Range {
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    },
}

/// How an expected message is matched.
#[derive(Debug, Clone)]
pub enum MessageMatch {
    /// Anything (no `msg:`/`regex:` given), including multi-line messages.
    Any,
    /// `msg: <text>`: the whole message, exactly (surrounding whitespace trimmed from the text).
    Exact(String),
    /// `regex: <re>`: the regex matches somewhere in the message (unanchored, like Go's
    /// `MatchString`).
    Regex(regex::Regex),
}

impl MessageMatch {
    /// Does `message` satisfy this expectation?
    pub fn matches(&self, message: &str) -> bool {
        match self {
            MessageMatch::Any => true,
            MessageMatch::Exact(s) => s == message,
            MessageMatch::Regex(re) => re.is_match(message),
        }
    }
}

impl std::fmt::Display for MessageMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MessageMatch::Any => write!(f, "any message"),
            MessageMatch::Exact(s) => write!(f, "message {s:?}"),
            MessageMatch::Regex(re) => write!(f, "pattern {:?}", re.as_str()),
        }
    }
}

/// One `expect warn`/`expect info` line. Annotation positions are not separate: they are part of
/// the rendered message (`PromQL warning: ... (1:5)`), which `msg:` must match whole and `regex:`
/// may match loosely (`\([0-9]+:[0-9]+\)`).
#[derive(Debug, Clone)]
pub struct AnnotationExpect {
    pub matcher: MessageMatch,
}

/// The expected result of a case.
#[derive(Debug, Clone)]
pub enum Expected {
    /// Result lines `{labels} values`: for an instant query one value each (an instant vector,
    /// keyed by labels), for a range query one value per step (a matrix). No lines at all
    /// means an empty result.
    Series(Vec<ExpectedSeries>),
    /// A bare number line: a scalar result.
    Scalar(f64),
    /// `expect string "..."`: a string result (instant queries).
    String(String),
    /// `expect range vector from <t0> to <t1> step <s>` on an instant query: a range-vector
    /// (matrix) result whose points are expected at `t0, t0+s, ...` up to `t1`.
    RangeVector {
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
        series: Vec<ExpectedSeries>,
    },
}

/// One expected result series.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedSeries {
    /// Sorted by name; lacks `__name__` when the result drops it.
    pub labels: Labels,
    /// One entry per step (`None` for `_`: no point expected at that step). Instant results have
    /// exactly one.
    pub points: Vec<Option<PointValue>>,
}

/// The result of running a query, as the runner hands it to [`check`].
#[derive(Debug, Clone, PartialEq)]
pub enum ActualValue {
    Scalar(f64),
    String(String),
    /// Instant vector: one sample per series.
    Vector(Vec<(Labels, PointValue)>),
    /// Range vector / range-query result: `(timestamp ms, value)` points per series, floats and
    /// histograms each in time order.
    Matrix(Vec<(Labels, Vec<(i64, PointValue)>)>),
}

/// A successful query result with its annotations, each rendered as the HTTP API renders it
/// (`PromQL warning: <text> (<line>:<column>)`).
#[derive(Debug, Clone, PartialEq)]
pub struct ActualResult {
    pub value: ActualValue,
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
}
