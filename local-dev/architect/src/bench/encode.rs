//! `architect bench encode`: the on-disk size of compacted metric blocks.
//!
//! Builds the node_exporter-like benchmark data set in-process, writes it as one compacted
//! block (level 1) per UTC day through [`MetricsStore`] on a local directory with the embedded
//! index, and prints bytes per sample for each part and each column of the samples part, and
//! the encode throughput. It then reads some series back and checks every value bit for bit,
//! so a size figure never comes from an encoding that loses data.

use super::dataset::build_series;
use anyhow::{Context, bail};
use architect_index::embedded::EmbeddedIndex;
use architect_model::time::Day;
use architect_model::{Labels, Matcher, Sample, SeriesId, TenantId};
use architect_store::layout::Part;
use architect_store::{BlockData, BlockMeta, MetricsStore, SeriesData, StoreConfig};
use clap::Args;
use object_store::local::LocalFileSystem;
use parquet::file::reader::{FileReader, SerializedFileReader};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// 2024-06-01T00:00:00Z: the data set starts at a UTC midnight, so 24 h make one block.
const DEFAULT_START_MS: i64 = 1_717_200_000_000;
const TENANT: &str = "bench";

/// Options of `architect bench encode`.
#[derive(Debug, Args)]
pub(crate) struct EncodeArgs {
    /// Number of series.
    #[arg(long, default_value_t = 10_000)]
    pub(crate) series: usize,
    /// Hours of data.
    #[arg(long, default_value_t = 24.0)]
    pub(crate) hours: f64,
    /// Scrape interval in seconds.
    #[arg(long, default_value_t = 15)]
    pub(crate) interval_secs: u64,
    /// Seed of the data set.
    #[arg(long, default_value_t = 20240601)]
    pub(crate) seed: u64,
    /// First timestamp (ms since the epoch).
    #[arg(long, default_value_t = DEFAULT_START_MS)]
    pub(crate) start_ms: i64,
    /// zstd level of compacted blocks (default: the store's default).
    #[arg(long)]
    pub(crate) zstd_level: Option<i32>,
    /// Rows per row group of compacted blocks (default: the store's default).
    #[arg(long)]
    pub(crate) row_group_rows: Option<usize>,
    /// Block level written (0 = an ingester flush, ≥ 1 = compacted).
    #[arg(long, default_value_t = 1)]
    pub(crate) level: u8,
    /// Series read back and compared bit for bit after writing (every n-th series).
    #[arg(long, default_value_t = 97)]
    pub(crate) verify_every: usize,
    /// Also write the data set to this file (per series: a line of labels as JSON, then the
    /// sample count and the samples as little-endian `i64 t, u64 value bits`), for offline
    /// encoding experiments.
    #[arg(long)]
    pub(crate) dump: Option<std::path::PathBuf>,
}

/// Samples per UTC day (as `Day.0`), one list per series.
type Days = BTreeMap<i64, Vec<Vec<Sample>>>;

/// Per-column bytes of a samples part: (compressed, uncompressed) by column name.
type ColumnSizes = BTreeMap<String, (u64, u64)>;

pub(crate) fn run(args: EncodeArgs) -> anyhow::Result<()> {
    if args.series == 0 || args.hours <= 0.0 || args.interval_secs == 0 {
        bail!("--series, --hours and --interval-secs must be positive");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?;
    runtime.block_on(run_async(args))
}

/// The data set's samples, one list per series and day.
fn build(args: &EncodeArgs) -> (Vec<(SeriesId, Labels)>, Days) {
    let interval_ms = args.interval_secs as i64 * 1000;
    let steps = ((args.hours * 3.6e6) / interval_ms as f64).round().max(1.0) as usize;
    let defs = build_series(args.series, args.seed, args.start_ms);
    let mut days = Days::new();
    let mut ids = Vec::with_capacity(defs.len());
    for (i, def) in defs.iter().enumerate() {
        ids.push((SeriesId::of(TENANT, &def.labels), def.labels.clone()));
        let mut st = def.state();
        for k in 0..steps {
            let t = args.start_ms + k as i64 * interval_ms;
            let v = def.next(&mut st, t, args.interval_secs as f64);
            let lists = days
                .entry(Day::of_ms(t).0)
                .or_insert_with(|| vec![Vec::new(); defs.len()]);
            lists[i].push(Sample { t, v });
        }
    }
    (ids, days)
}

fn column_sizes(path: &std::path::Path) -> anyhow::Result<ColumnSizes> {
    let file = std::fs::File::open(path).with_context(|| format!("open {}", path.display()))?;
    let reader = SerializedFileReader::new(file)?;
    let meta = reader.metadata();
    let mut out = ColumnSizes::new();
    for rg in meta.row_groups() {
        for c in rg.columns() {
            let e = out.entry(c.column_path().string()).or_default();
            e.0 += c.compressed_size() as u64;
            e.1 += c.uncompressed_size() as u64;
        }
    }
    Ok(out)
}

fn dump(path: &std::path::Path, ids: &[(SeriesId, Labels)], days: &Days) -> anyhow::Result<()> {
    use std::io::Write;
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    for (i, (_, labels)) in ids.iter().enumerate() {
        let pairs: BTreeMap<&str, &str> = labels
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect();
        writeln!(w, "{}", serde_json::to_string(&pairs)?)?;
        let samples: Vec<&Sample> = days.values().flat_map(|l| l[i].iter()).collect();
        w.write_all(&(samples.len() as u64).to_le_bytes())?;
        for s in samples {
            w.write_all(&s.t.to_le_bytes())?;
            w.write_all(&s.v.to_bits().to_le_bytes())?;
        }
    }
    w.flush()?;
    Ok(())
}

async fn run_async(args: EncodeArgs) -> anyhow::Result<()> {
    let t0 = Instant::now();
    let (ids, days) = build(&args);
    let total: usize = days.values().flatten().map(Vec::len).sum();
    println!(
        "data set: {} series, {} samples over {} day(s), built in {:.1} s",
        ids.len(),
        total,
        days.len(),
        t0.elapsed().as_secs_f64()
    );
    if let Some(path) = &args.dump {
        dump(path, &ids, &days)?;
    }
    let dir = tempfile::tempdir().context("temp dir")?;
    let objects_dir = dir.path().join("objects");
    std::fs::create_dir_all(&objects_dir)?;
    let objects = Arc::new(LocalFileSystem::new_with_prefix(&objects_dir)?);
    let index = Arc::new(EmbeddedIndex::open(&dir.path().join("index.redb"))?);
    let mut config = StoreConfig::default();
    if let Some(l) = args.zstd_level {
        config.compacted_zstd_level = l;
        config.zstd_level = l;
    }
    if let Some(r) = args.row_group_rows {
        config.compacted_max_row_group_rows = r;
        config.max_row_group_rows = r;
    }
    let store = MetricsStore::new(objects, index, &config);
    let tenant = TenantId::new(TENANT)?;

    let mut blocks: Vec<BlockMeta> = Vec::new();
    let mut encode_secs = 0.0;
    for (day, lists) in &days {
        let series = ids
            .iter()
            .zip(lists)
            .map(|((id, labels), samples)| SeriesData {
                id: *id,
                labels: labels.clone(),
                samples: samples.clone(),
                ..SeriesData::default()
            })
            .collect();
        let data = BlockData {
            series,
            metadata: Vec::new(),
        };
        let started = Instant::now();
        let meta = store
            .write_block(&tenant, Day(*day), args.level, data)
            .await?
            .context("empty block")?;
        encode_secs += started.elapsed().as_secs_f64();
        blocks.push(meta);
    }

    let per = |bytes: u64| bytes as f64 / total as f64;
    let mut parts: BTreeMap<&str, u64> = BTreeMap::new();
    let mut columns = ColumnSizes::new();
    for b in &blocks {
        for (part, size) in &b.parts {
            *parts.entry(part.name()).or_default() += size;
        }
        for (name, (c, u)) in column_sizes(&objects_dir.join(b.key(Part::Samples)))? {
            let e = columns.entry(name).or_default();
            e.0 += c;
            e.1 += u;
        }
    }
    let all: u64 = parts.values().sum();
    println!(
        "level {} blocks: {}, zstd {}, row groups of {} rows",
        args.level,
        blocks.len(),
        if args.level == 0 {
            config.zstd_level
        } else {
            config.compacted_zstd_level
        },
        if args.level == 0 {
            config.max_row_group_rows
        } else {
            config.compacted_max_row_group_rows
        }
    );
    println!("{:<34} {:>14} {:>12}", "part", "bytes", "B/sample");
    for (name, size) in &parts {
        println!("{name:<34} {size:>14} {:>12.4}", per(*size));
    }
    println!("{:<34} {all:>14} {:>12.4}", "total", per(all));
    println!(
        "{:<34} {:>14} {:>12} {:>14}",
        "samples column", "bytes", "B/sample", "uncompressed"
    );
    for (name, (c, u)) in &columns {
        println!("{name:<34} {c:>14} {:>12.4} {u:>14}", per(*c));
    }
    println!(
        "encode: {:.1} s, {:.0} samples/s",
        encode_secs,
        total as f64 / encode_secs.max(1e-9)
    );

    // Read back every n-th series over the whole range and over a middle slice, bit for bit.
    let every = args.verify_every.max(1);
    let (first_t, last_t) = (
        args.start_ms,
        days.values()
            .flatten()
            .filter_map(|s| s.last())
            .map(|s| s.t)
            .max()
            .unwrap_or(args.start_ms),
    );
    let mid = (
        first_t + (last_t - first_t) / 3,
        first_t + (last_t - first_t) / 2,
    );
    let mut checked = 0usize;
    for (i, (_, labels)) in ids.iter().enumerate().step_by(every) {
        let matchers: Vec<Matcher> = labels
            .iter()
            .map(|l| Matcher::equal(&l.name, &l.value))
            .collect();
        let want: Vec<Sample> = days.values().flat_map(|l| l[i].iter().copied()).collect();
        for (from, to) in [(first_t, last_t), mid] {
            let got = store.select(&tenant, &matchers, from, to).await?;
            let got: Vec<(i64, u64)> = got
                .iter()
                .find(|s| &s.labels == labels)
                .map(|s| s.samples.iter().map(|x| (x.t, x.v.to_bits())).collect())
                .unwrap_or_default();
            let want: Vec<(i64, u64)> = want
                .iter()
                .filter(|x| x.t >= from && x.t <= to)
                .map(|x| (x.t, x.v.to_bits()))
                .collect();
            if got != want {
                bail!(
                    "series {i} ({labels:?}) in [{from}, {to}]: read back {} samples, wrote {}, or values differ",
                    got.len(),
                    want.len()
                );
            }
        }
        checked += 1;
    }
    println!("verified {checked} series bit for bit (whole range and a slice)");
    Ok(())
}
