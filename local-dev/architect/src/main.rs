//! `architect`: the all-in-one command. `architect serve` runs every role in one process on a
//! local directory (embedded mode); `architect bench` measures it (and its peers).

mod bench;
mod maintenance;
mod promqltest;
mod rules;

use anyhow::Context;
use architect_service::Config;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// mimalloc, with idle memory released: see `architect_alloc`.
#[global_allocator]
static GLOBAL: architect_alloc::Allocator = architect_alloc::Allocator;

#[derive(Debug, Parser)]
#[command(
    name = "architect",
    version,
    about = "Monitoring Architect: Prometheus-compatible metrics on object storage"
)]
struct Cli {
    /// Log format.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "ARCHITECT_LOG_FORMAT"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service (ingest, query, storage) in one process.
    Serve {
        /// Listen address; port 0 picks a free port, written to DATA_DIR/listen.addr.
        #[arg(long)]
        listen: Option<String>,
        /// Data directory (object store, index, WAL).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// YAML configuration file; flags override it.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Run Prometheus's PromQL test scripts (promqltest format) through the engine.
    ///
    /// Prints a line per file and, last, `N passed, M failed` on stdout; with no path it reads
    /// the directory in PROMQL_TESTDATA, by default ../shared/conformance/promql.
    Promqltest {
        /// Script files or directories of `*.test` files.
        paths: Vec<PathBuf>,
        /// Also print each failing case and why to stderr.
        #[arg(long, short)]
        verbose: bool,
    },
    /// API tokens for the AWS deployment's authorizer, stored hashed in the configured index.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// One compaction pass: merge small blocks, downsample closed days, apply retention and
    /// delete superseded files; progress on stderr, the report (JSON) on stdout.
    Compact(maintenance::CompactArgs),
    /// Per-tenant retention, kept in the index and applied by the compactor.
    Retention {
        #[command(subcommand)]
        command: maintenance::RetentionCommand,
    },
    /// Rule files: `check` validates them, `test` runs their unit tests (as promtool does).
    Rules {
        #[command(subcommand)]
        command: rules::RulesCommand,
    },
    /// Benchmarks against a running service or any remote_write receiver.
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token for a tenant and print it (it cannot be shown again).
    Create {
        /// Tenant the token is for; `*` for every tenant.
        #[arg(long)]
        tenant: String,
        /// Expire after this many days.
        #[arg(long)]
        expires_in_days: Option<u32>,
        /// YAML configuration naming the index (e.g. a DynamoDB table); default: embedded.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Data directory (embedded index).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ARCHITECT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match cli.command {
        Command::Serve {
            listen,
            data_dir,
            config,
        } => {
            let mut cfg = match &config {
                Some(path) => Config::from_file(path)?,
                None => Config::default(),
            };
            if let Some(l) = listen {
                cfg.listen = l;
            }
            if let Some(d) = data_dir {
                cfg.data_dir = d;
            }
            if let Err(e) = architect_alloc::spawn_release_thread() {
                tracing::warn!(error = %e, "could not start the memory release thread");
            }
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("tokio runtime")?;
            runtime.block_on(architect_service::run(
                cfg,
                architect_service::shutdown_signal(),
            ))?;
        }
        Command::Token {
            command:
                TokenCommand::Create {
                    tenant,
                    expires_in_days,
                    config,
                    data_dir,
                },
        } => {
            let mut cfg = match &config {
                Some(path) => Config::from_file(path)?,
                None => Config::default(),
            };
            if let Some(d) = data_dir {
                cfg.data_dir = d;
            }
            let expires_at = expires_in_days
                .map(|days| chrono::Utc::now().timestamp() + i64::from(days) * 86_400);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("tokio runtime")?;
            let token = runtime.block_on(async {
                let index =
                    architect_service::backends::open_index(&cfg.storage, &cfg.data_dir).await?;
                anyhow::Ok(
                    architect_lambda::authorizer::create_token(index.as_ref(), &tenant, expires_at)
                        .await?,
                )
            })?;
            println!("{token}");
        }
        Command::Bench { command } => bench::run(command)?,
        Command::Compact(args) => maintenance::compact(args)?,
        Command::Retention { command } => maintenance::retention(command)?,
        Command::Rules { command } => rules::run(command)?,
        Command::Promqltest { paths, verbose } => promqltest::run(paths, verbose)?,
    }
    Ok(())
}
