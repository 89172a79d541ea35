//! `architect compact` and `architect retention`: the compactor by hand, and per-tenant
//! retention in the index.

use anyhow::{Context, bail};
use architect_compactor::{Compactor, Progress, Retention, RunReport};
use architect_model::TenantId;
use architect_service::Config;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

/// Where the data is: a configuration file and/or a data directory.
#[derive(Debug, clap::Args)]
pub(crate) struct Target {
    /// YAML configuration naming the object store and index (default: embedded).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Data directory (embedded mode).
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

impl Target {
    fn config(&self) -> anyhow::Result<Config> {
        let mut cfg = match &self.config {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        if let Some(d) = &self.data_dir {
            cfg.data_dir = d.clone();
        }
        Ok(cfg)
    }
}

/// `architect compact`.
#[derive(Debug, clap::Args)]
pub(crate) struct CompactArgs {
    #[command(flatten)]
    target: Target,
    /// Ask a running server to compact (`POST URL/api/v1/admin/compact`) instead of opening
    /// the storage here; needed in embedded mode while `architect serve` holds the index.
    #[arg(long)]
    url: Option<String>,
}

/// `architect retention`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum RetentionCommand {
    /// Set how many days a tenant keeps each resolution (0 = forever).
    Set {
        /// Tenant.
        #[arg(long)]
        tenant: String,
        /// Days of raw samples.
        #[arg(long, default_value_t = 0)]
        raw_days: u32,
        /// Days of 5-minute downsampled data.
        #[arg(long = "5m-days", default_value_t = 0)]
        res_5m_days: u32,
        /// Days of 1-hour downsampled data.
        #[arg(long = "1h-days", default_value_t = 0)]
        res_1h_days: u32,
        #[command(flatten)]
        target: Target,
    },
    /// Print a tenant's retention (its own, else the configured default).
    Get {
        /// Tenant.
        #[arg(long)]
        tenant: String,
        #[command(flatten)]
        target: Target,
    },
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio runtime")
}

async fn open_store(cfg: &Config) -> anyhow::Result<Arc<architect_store::MetricsStore>> {
    std::fs::create_dir_all(&cfg.data_dir)?;
    let objects = architect_service::backends::open_objects(&cfg.storage, &cfg.data_dir).await?;
    let index = architect_service::backends::open_index(&cfg.storage, &cfg.data_dir)
        .await
        .context("opening the index (in embedded mode, stop `architect serve` or use --url)")?;
    let store_config = architect_service::backends::store_config_for(&cfg.storage, &cfg.store);
    Ok(Arc::new(architect_store::MetricsStore::new(
        objects,
        index,
        &store_config,
    )))
}

/// One compaction pass with progress on stderr and the report (JSON) on stdout.
pub(crate) fn compact(args: CompactArgs) -> anyhow::Result<()> {
    let report: RunReport = if let Some(url) = &args.url {
        let endpoint = format!("{}/api/v1/admin/compact", url.trim_end_matches('/'));
        runtime()?.block_on(async {
            let response = reqwest::Client::new().post(&endpoint).send().await?;
            let status = response.status();
            let body = response.text().await?;
            if !status.is_success() {
                bail!("{endpoint}: {status}: {body}");
            }
            Ok(serde_json::from_str(&body)?)
        })?
    } else {
        let cfg = args.target.config()?;
        let terminal = std::io::stderr().is_terminal();
        let show = move |p: &Progress<'_>| {
            let Progress::Written {
                kind,
                block,
                report,
                elapsed_secs,
            } = p;
            let mb = (report.output_bytes + report.downsampled_bytes) as f64 / 1e6;
            let rate = report.output_samples as f64 / elapsed_secs.max(1e-3);
            let line = format!(
                "{} {} {kind} {}: {} samples, {:.1} MB | total {} merged -> {} + {} downsampled blocks, {mb:.1} MB, {:.2} M samples/s",
                block.tenant,
                block.day.iso(),
                block.ulid,
                block.samples,
                block.bytes as f64 / 1e6,
                report.input_blocks,
                report.output_blocks,
                report.downsampled_blocks,
                rate / 1e6,
            );
            let mut err = std::io::stderr();
            if terminal {
                let _ = write!(err, "\r\x1b[2K{line}");
            } else {
                let _ = writeln!(err, "{line}");
            }
        };
        let report = runtime()?.block_on(async {
            let store = open_store(&cfg).await?;
            let compactor = Compactor::new(store, cfg.compactor.clone());
            anyhow::Ok(compactor.run(&show).await?)
        })?;
        if terminal {
            eprintln!();
        }
        report
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    if !report.errors.is_empty() {
        bail!("{} partition(s) failed", report.errors.len());
    }
    Ok(())
}

/// `architect retention set|get`.
pub(crate) fn retention(command: RetentionCommand) -> anyhow::Result<()> {
    match command {
        RetentionCommand::Set {
            tenant,
            raw_days,
            res_5m_days,
            res_1h_days,
            target,
        } => {
            let tenant = TenantId::new(&tenant).map_err(|e| anyhow::anyhow!("tenant: {e}"))?;
            let cfg = target.config()?;
            let r = Retention {
                raw_days,
                res_5m_days,
                res_1h_days,
            };
            runtime()?.block_on(async {
                let store = open_store(&cfg).await?;
                architect_compactor::write_retention(store.index().as_ref(), &tenant, r).await?;
                anyhow::Ok(())
            })?;
            println!("{}", serde_json::to_string(&r)?);
        }
        RetentionCommand::Get { tenant, target } => {
            let tenant = TenantId::new(&tenant).map_err(|e| anyhow::anyhow!("tenant: {e}"))?;
            let cfg = target.config()?;
            let r = runtime()?.block_on(async {
                let store = open_store(&cfg).await?;
                anyhow::Ok(
                    architect_compactor::read_retention(store.index().as_ref(), &tenant)
                        .await?
                        .unwrap_or(cfg.compactor.retention),
                )
            })?;
            println!("{}", serde_json::to_string(&r)?);
        }
    }
    Ok(())
}
