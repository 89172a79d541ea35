//! A PromQL engine: parses with `promql-parser`, fetches the selectors' samples through a
//! [`SeriesSource`], and evaluates the expression vectorised over all steps of the query.
//!
//! Semantics follow Prometheus 3: left-open range windows, a 5-minute lookback for instant
//! selectors, staleness markers ending a series, rate extrapolation as upstream, and
//! `__name__` removal either immediate (the HTTP default) or delayed to the end of the query
//! (`EngineOptions::delayed_name_removal`, as upstream's test engine runs).
//!
//! Why promql-parser: it is the parser GreptimeDB maintains for its own PromQL engine, and it
//! parses every expression of Prometheus's own test corpus outside native histograms.

mod aggregate;
mod binary;
mod engine;
mod eval;
mod functions;
mod golit;
mod hist_functions;
pub mod histogram;
mod parallel;
mod quantile;
mod selector;
pub mod source;
mod trim;
mod value;

pub use engine::{
    DEFAULT_SPLIT_MIN_STEPS, DEFAULT_SPLIT_MS, Engine, EngineOptions, QueryError, QueryResult,
    QueryStats,
};
pub use histogram::{CounterResetHint, FloatHistogram};
pub use selector::{expr_selectors, selector_matchers};
pub use source::{MemorySource, SelectHints, SeriesSource, SourceError};
pub use trim::ParsedQuery;
pub use value::{InstantSample, Point, QueryValue, RangeSeries, RawSeries, StepSeries};
