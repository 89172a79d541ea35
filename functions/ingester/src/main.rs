//! The ingester container: the long-running process that holds the WAL and the head. It runs the
//! same service as `architect serve`, configured from the environment (`ARCHITECT_CONFIG`,
//! `ARCHITECT_LISTEN`, `ARCHITECT_DATA_DIR`, `ARCHITECT_LOG_FORMAT=json`).

use architect_service::Config;
use std::path::PathBuf;

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

    let mut config = match std::env::var_os("ARCHITECT_CONFIG") {
        Some(path) => Config::from_file(&PathBuf::from(path))?,
        None => Config {
            listen: "0.0.0.0:9009".into(),
            ..Config::default()
        },
    };
    if let Ok(listen) = std::env::var("ARCHITECT_LISTEN") {
        config.listen = listen;
    }
    if let Some(dir) = std::env::var_os("ARCHITECT_DATA_DIR") {
        config.data_dir = PathBuf::from(dir);
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
