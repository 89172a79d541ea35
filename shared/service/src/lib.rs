//! Assembles and runs the service from a [`Config`]: opens the object store and the index, replays
//! the ingester's WAL, builds the HTTP router, serves it until a shutdown signal, then flushes
//! the head. `architect serve` and the ingester container both run exactly this.

pub mod backends;
pub mod env;

pub use backends::{AwsConfig, DynamoConfig, IndexConfig, ObjectsConfig, S3Config, StorageConfig};

use architect_api::{ApiState, HttpLimits, QueryLimits};
use architect_compactor::{Compactor, CompactorConfig};
use architect_ingester::{Ingester, IngesterConfig};
use architect_model::clock::{Clock, SystemClock};
use architect_model::{Limits, TenantId};
use architect_store::{MetricsStore, StoreConfig};
use serde::{Deserialize, Serialize};
use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Service configuration (YAML). Every field has a default; see `docs/configuration.md`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port (written to `DATA_DIR/listen.addr`).
    pub listen: String,
    /// Root of all local state: `objects/` (object store), `index.redb`, `wal/`.
    pub data_dir: PathBuf,
    /// Where Parquet files and the index live (default: under `data_dir`).
    pub storage: StorageConfig,
    /// Tenant for requests without `X-Scope-OrgID`.
    pub default_tenant: String,
    /// Write validation limits (all tenants).
    pub limits: Limits,
    /// Request size limits.
    pub http: HttpLimits,
    /// Query engine limits.
    pub query: QueryLimits,
    /// Head and WAL settings; `wal_dir` defaults to `DATA_DIR/wal`.
    pub ingester: IngesterConfig,
    /// Parquet writer settings.
    pub store: StoreConfig,
    /// Compaction, downsampling, retention and garbage collection.
    pub compactor: CompactorConfig,
    /// Recording and alerting rule evaluation.
    pub ruler: architect_rules::RulerConfig,
    /// The built-in Alertmanager's notification pipeline.
    pub alertmanager: architect_alertmanager::dispatch::AlertmanagerSettings,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:9009".into(),
            data_dir: PathBuf::from("data"),
            storage: StorageConfig::default(),
            default_tenant: "anonymous".into(),
            limits: Limits::default(),
            http: HttpLimits::default(),
            query: QueryLimits::default(),
            ingester: IngesterConfig {
                wal_dir: PathBuf::new(),
                ..IngesterConfig::default()
            },
            store: StoreConfig::default(),
            compactor: CompactorConfig::default(),
            ruler: architect_rules::RulerConfig::default(),
            alertmanager: architect_alertmanager::dispatch::AlertmanagerSettings::default(),
        }
    }
}

impl Config {
    /// Reads a YAML file.
    pub fn from_file(path: &Path) -> Result<Self, ServiceError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ServiceError::Config(format!("{}: {e}", path.display())))?;
        serde_yaml_ng::from_str(&text)
            .map_err(|e| ServiceError::Config(format!("{}: {e}", path.display())))
    }
}

/// Start-up failures.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Bad configuration.
    #[error("configuration: {0}")]
    Config(String),
    /// Local I/O.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The index could not be opened.
    #[error(transparent)]
    Index(#[from] architect_index::IndexError),
    /// The object store could not be opened.
    #[error(transparent)]
    ObjectStore(#[from] object_store::Error),
    /// The ingester could not start or flush.
    #[error(transparent)]
    Ingester(#[from] architect_ingester::IngestError),
}

/// Runs the service until `shutdown` resolves; then stops taking requests, finishes those in
/// flight, and flushes the head so nothing is left only in the WAL.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServiceError> {
    let default_tenant = TenantId::new(&config.default_tenant)
        .map_err(|e| ServiceError::Config(format!("default_tenant: {e}")))?;
    config
        .limits
        .check()
        .map_err(|e| ServiceError::Config(format!("limits: {e}")))?;
    let data_dir = config.data_dir.clone();
    std::fs::create_dir_all(&data_dir)?;
    let objects = backends::open_objects(&config.storage, &data_dir).await?;
    let index = backends::open_index(&config.storage, &data_dir).await?;
    let store_config = backends::store_config_for(&config.storage, &config.store);
    let store = Arc::new(MetricsStore::new(objects, index, &store_config));
    let mut ingester_config = config.ingester.clone();
    if ingester_config.wal_dir.as_os_str().is_empty() {
        ingester_config.wal_dir = data_dir.join("wal");
    }
    // Bind first so the address is known (and `/-/ready` answers 503) while the WAL replays;
    // a second handle to the same socket serves the real router afterwards.
    let bound = std::net::TcpListener::bind(&config.listen)?;
    bound.set_nonblocking(true)?;
    let addr: SocketAddr = bound.local_addr()?;
    let replay_listener = tokio::net::TcpListener::from_std(bound.try_clone()?)?;
    let listener = tokio::net::TcpListener::from_std(bound)?;
    std::fs::write(data_dir.join("listen.addr"), addr.to_string())?;
    tracing::info!(%addr, data_dir = %data_dir.display(), "listening; replaying the WAL");
    let (replayed_tx, replayed_rx) = tokio::sync::oneshot::channel::<()>();
    let replay_server = tokio::spawn(
        axum::serve(replay_listener, architect_api::replaying_router())
            .with_graceful_shutdown(async move {
                let _ = replayed_rx.await;
            })
            .into_future(),
    );
    let opened = Ingester::open(ingester_config, Arc::clone(&store)).await;
    let _ = replayed_tx.send(());
    let _ = replay_server.await;
    let ingester = opened?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let compactor = Arc::new(Compactor::new(Arc::clone(&store), config.compactor.clone()));
    let mut state = ApiState::new(
        Arc::clone(&ingester) as Arc<dyn architect_ingester::WritePath>,
        Arc::clone(&ingester) as Arc<dyn architect_ingester::HeadReader>,
        Some(ingester.metrics()),
        store,
        config.limits.clone(),
        config.http.clone(),
        config.query.clone(),
        default_tenant,
        clock,
    )
    .with_compactor(Arc::clone(&compactor))
    .with_ruler_config(config.ruler.clone());
    let ruler = Arc::new(architect_api::ruler_for(&state));
    ruler.metrics().register(&mut state.registry);
    let integrations = architect_alertmanager::notify::HttpIntegrations::default();
    integrations.metrics().register(&mut state.registry);
    let dispatcher = Arc::new(architect_alertmanager::dispatch::Dispatcher::new(
        Arc::clone(state.store.index()),
        Arc::new(integrations),
        config.alertmanager.external_url.clone(),
    ));
    let dispatch_clock = Arc::clone(&state.clock);
    let state = Arc::new(state.with_ruler(Arc::clone(&ruler)));
    let app = architect_api::router(state);
    tracing::info!(%addr, "ready");

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let flush_loop = tokio::spawn(Arc::clone(&ingester).run_flush_loop({
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.changed().await;
        }
    }));
    let compact_loop = config.compactor.enabled.then(|| {
        let mut rx = stop_rx.clone();
        tokio::spawn(Arc::clone(&compactor).run_every(async move {
            let _ = rx.changed().await;
        }))
    });
    let rules_loop = config.ruler.enabled.then(|| {
        let mut rx = stop_rx.clone();
        tokio::spawn(Arc::clone(&ruler).run_every(async move {
            let _ = rx.changed().await;
        }))
    });
    let dispatch_loop = config.alertmanager.enabled.then(|| {
        let mut rx = stop_rx.clone();
        tokio::spawn(Arc::clone(&dispatcher).run_every(
            dispatch_clock,
            std::time::Duration::from_millis(config.alertmanager.poll_interval_ms),
            async move {
                let _ = rx.changed().await;
            },
        ))
    });
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down");
    });
    let served = server.await;
    let _ = stop_tx.send(true);
    let _ = flush_loop.await;
    if let Some(compact_loop) = compact_loop {
        let _ = compact_loop.await;
    }
    if let Some(rules_loop) = rules_loop {
        let _ = rules_loop.await;
    }
    if let Some(dispatch_loop) = dispatch_loop {
        let _ = dispatch_loop.await;
    }
    let flushed = ingester.flush().await;
    served?;
    let stats = flushed?;
    tracing::info!(
        blocks = stats.blocks,
        samples = stats.samples,
        "final flush done"
    );
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "cannot listen for SIGTERM");
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
