//! The ingester container: the long-running process that holds the WAL and the head. It runs the
//! same service as `architect serve`, configured from the environment (`ARCHITECT_CONFIG`,
//! `ARCHITECT_LISTEN`, `ARCHITECT_DATA_DIR`, `ARCHITECT_BUCKET` + `ARCHITECT_TABLE` for S3 and
//! DynamoDB, ...: `architect_service::env`), logging as `ARCHITECT_LOG_FORMAT` says.

use architect_service::Config;

/// mimalloc, as in `architect` (see `architect_alloc`).
#[global_allocator]
static GLOBAL: architect_alloc::Allocator = architect_alloc::Allocator;

fn main() -> anyhow::Result<()> {
    let json = std::env::var("ARCHITECT_LOG_FORMAT").is_ok_and(|f| f == "json");
    let filter = tracing_subscriber::EnvFilter::try_from_env("ARCHITECT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    if json {
        logs.json().init()
    } else {
        logs.init()
    }

    let config = Config::from_env()?;
    if let Err(e) = architect_alloc::spawn_release_thread() {
        tracing::warn!(error = %e, "could not start the memory release thread");
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(architect_service::run(
            config,
            architect_service::shutdown_signal(),
        ))?;
    Ok(())
}
