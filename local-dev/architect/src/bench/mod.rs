//! `architect bench`: load generators for measuring Monitoring Architect against its peers.
//!
//! `architect bench ingest` sends a deterministic node_exporter-like data set over Prometheus
//! remote_write 1.0 to any receiver (Monitoring Architect, Prometheus, VictoriaMetrics, ...) and
//! reports throughput and request latency. `local-dev/bench.sh` runs it against each system in
//! turn and adds disk and memory figures. `architect bench encode` writes the same data set as
//! compacted blocks in-process and reports their size per sample.

mod dataset;
mod encode;
mod ingest;
mod query;

use clap::{Args, Subcommand, ValueEnum};

/// Benchmarks.
#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
    /// Push a node_exporter-like data set over remote_write 1.0 and report samples/s and latency.
    Ingest(IngestArgs),
    /// Time PromQL range/instant queries and the metadata endpoints against a loaded server.
    Query(query::QueryArgs),
    /// Encode the data set as compacted blocks on a local directory and report bytes/sample.
    Encode(encode::EncodeArgs),
}

/// Size presets of the ingest data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Profile {
    /// 1,000 series × 2 h at 15 s (480,000 samples): a quick run.
    Small,
    /// 10,000 series × 24 h at 15 s (57.6 M samples).
    Full,
}

/// Options of `architect bench ingest`.
#[derive(Debug, Args)]
pub(crate) struct IngestArgs {
    /// remote_write endpoint, e.g. http://127.0.0.1:9009/api/v1/push (Prometheus and
    /// VictoriaMetrics: /api/v1/write).
    #[arg(long)]
    pub(crate) url: String,
    /// Data set size preset; --series, --hours and --interval-secs override it.
    #[arg(long, value_enum, default_value = "small")]
    pub(crate) profile: Profile,
    /// Concurrent connections (each owns a shard of the series, so per-series order holds).
    #[arg(long, default_value_t = 4)]
    pub(crate) connections: usize,
    /// Number of series.
    #[arg(long)]
    pub(crate) series: Option<usize>,
    /// Hours of data.
    #[arg(long)]
    pub(crate) hours: Option<f64>,
    /// Scrape interval in seconds.
    #[arg(long)]
    pub(crate) interval_secs: Option<u64>,
    /// Target samples per request.
    #[arg(long, default_value_t = 2000)]
    pub(crate) samples_per_request: usize,
    /// Consecutive scrapes per request (raised when a shard has too few series to fill one).
    #[arg(long, default_value_t = 4)]
    pub(crate) steps_per_request: usize,
    /// First timestamp (ms since the epoch); default: UTC midnight, enough whole days back that
    /// the data ends in the past.
    #[arg(long)]
    pub(crate) start_ms: Option<i64>,
    /// Seed of the data set.
    #[arg(long, default_value_t = 20240601)]
    pub(crate) seed: u64,
    /// How far (in request time windows) one connection may run ahead of the slowest.
    #[arg(long, default_value_t = 2)]
    pub(crate) max_skew: usize,
    /// Retries of a request answered 429/5xx or failing to connect (with backoff) before it
    /// counts as an error.
    #[arg(long, default_value_t = 8)]
    pub(crate) max_retries: u32,
    /// Stop after this many failed requests.
    #[arg(long, default_value_t = 20)]
    pub(crate) max_errors: usize,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 60)]
    pub(crate) timeout_secs: u64,
    /// Tenant sent as X-Scope-OrgID (none by default).
    #[arg(long)]
    pub(crate) tenant: Option<String>,
    /// Label printed with the results.
    #[arg(long, default_value = "target")]
    pub(crate) name: String,
}

/// Runs a benchmark command.
pub(crate) fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Ingest(args) => ingest::run(args),
        BenchCommand::Query(args) => query::run(args),
        BenchCommand::Encode(args) => encode::run(args),
    }
}
