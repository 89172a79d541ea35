//! `architect bench query`: the query benchmark. Runs a fixed set of PromQL range queries (over
//! the whole data set at a 60 s step and over its last hour), an instant query, and the
//! `/series`, `/labels` and `/label/instance/values` endpoints against any Prometheus-API server,
//! each `--runs` times, and prints the median latency with the result's size and a checksum so
//! that answers can be compared across systems.

use anyhow::{Context, bail};
use clap::Args;
use serde_json::Value;
use std::time::{Duration, Instant};

/// Options of `architect bench query`.
#[derive(Debug, Args)]
pub(crate) struct QueryArgs {
    /// Base URL of the Prometheus API, e.g. http://127.0.0.1:9009.
    #[arg(long)]
    pub(crate) url: String,
    /// First sample of the data set (ms since the epoch), as `bench ingest` printed it.
    #[arg(long)]
    pub(crate) first_ms: i64,
    /// Last sample of the data set (ms since the epoch).
    #[arg(long)]
    pub(crate) last_ms: i64,
    /// Runs of each query; the median counts.
    #[arg(long, default_value_t = 5)]
    pub(crate) runs: usize,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 300)]
    pub(crate) timeout_secs: u64,
    /// Label printed with the results.
    #[arg(long, default_value = "target")]
    pub(crate) name: String,
}

/// The PromQL expressions of the benchmark, by short id.
const QUERIES: &[(&str, &str)] = &[
    ("selector", "node_load1"),
    ("rate", "rate(node_network_receive_bytes_total[5m])"),
    (
        "sum_rate",
        "sum by (job) (rate(node_cpu_seconds_total[5m]))",
    ),
    (
        "hist_quantile",
        "histogram_quantile(0.99, sum by (le, job) (rate(http_request_duration_seconds_bucket[5m])))",
    ),
    ("topk", "topk(5, rate(node_cpu_seconds_total[5m]))"),
    (
        "regex",
        "node_cpu_seconds_total{mode=~\"user|system\", cpu=~\"1.*\"}",
    ),
    (
        "avg_over_time",
        "avg_over_time(node_memory_MemAvailable_bytes[5m])",
    ),
    ("count_by", "count by (mode) (node_cpu_seconds_total)"),
    (
        "binary",
        "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes",
    ),
    ("absent", "absent(node_nonexistent_metric)"),
];

/// One benchmark request: id, URL, parameters.
type Case<'a> = (String, String, Vec<(&'a str, String)>);

struct Outcome {
    millis: f64,
    series: usize,
    points: usize,
    checksum: f64,
}

/// Size and value sum of a Prometheus API answer (`data.result` or a plain `data` list).
fn summarise(v: &Value) -> (usize, usize, f64) {
    let data = &v["data"];
    let value_of = |p: &Value| -> f64 {
        p.get(1)
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|f| f.is_finite())
            .unwrap_or(0.0)
    };
    match data.get("result") {
        Some(Value::Array(series)) => {
            let mut points = 0;
            let mut sum = 0.0;
            for s in series {
                if let Some(vals) = s.get("values").and_then(Value::as_array) {
                    points += vals.len();
                    sum += vals.iter().map(value_of).sum::<f64>();
                } else if let Some(p) = s.get("value") {
                    points += 1;
                    sum += value_of(p);
                }
            }
            (series.len(), points, sum)
        }
        _ => {
            let n = data.as_array().map_or(0, Vec::len);
            (n, n, 0.0)
        }
    }
}

async fn timed(
    client: &reqwest::Client,
    url: &str,
    params: &[(&str, String)],
) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    // GET: every endpoint takes it (`/label/{name}/values` takes nothing else).
    let resp = client
        .get(url)
        .query(params)
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = resp.status();
    let body = resp.bytes().await.context("reading the answer")?;
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    if !status.is_success() {
        bail!(
            "{url} {params:?}: {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(500)])
        );
    }
    let v: Value = serde_json::from_slice(&body).context("answer is not JSON")?;
    let (series, points, checksum) = summarise(&v);
    Ok(Outcome {
        millis,
        series,
        points,
        checksum,
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub(crate) fn run(args: QueryArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: QueryArgs) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(args.timeout_secs))
        .build()
        .context("http client")?;
    let base = args.url.trim_end_matches('/');
    let secs = |ms: i64| format!("{:.3}", ms as f64 / 1000.0);
    // Query times on whole minutes inside the data.
    let end = args.last_ms / 60_000 * 60_000;
    let day_start = (args.first_ms + 59_999) / 60_000 * 60_000;
    let hour_start = (end - 3_600_000).max(day_start);
    let mut cases: Vec<Case<'_>> = Vec::new();
    for (id, q) in QUERIES {
        for (kind, start) in [("day", day_start), ("hour", hour_start)] {
            cases.push((
                format!("{id}/{kind}"),
                format!("{base}/api/v1/query_range"),
                vec![
                    ("query", (*q).to_string()),
                    ("start", secs(start)),
                    ("end", secs(end)),
                    ("step", "60".into()),
                ],
            ));
        }
    }
    cases.push((
        "instant/sum_rate".into(),
        format!("{base}/api/v1/query"),
        vec![
            (
                "query",
                "sum by (mode) (rate(node_cpu_seconds_total[5m]))".into(),
            ),
            ("time", secs(end)),
        ],
    ));
    let window = vec![("start", secs(hour_start)), ("end", secs(end))];
    let mut series = window.clone();
    series.push(("match[]", "node_cpu_seconds_total".into()));
    cases.push(("api/series".into(), format!("{base}/api/v1/series"), series));
    cases.push((
        "api/labels".into(),
        format!("{base}/api/v1/labels"),
        window.clone(),
    ));
    cases.push((
        "api/label_values".into(),
        format!("{base}/api/v1/label/instance/values"),
        window,
    ));

    let mut total = 0.0;
    for (id, url, params) in &cases {
        let mut times = Vec::with_capacity(args.runs);
        let mut last = None;
        for _ in 0..args.runs.max(1) {
            let o = timed(&client, url, params).await?;
            times.push(o.millis);
            last = Some(o);
        }
        let o = last.context("no run")?;
        let m = median(times);
        total += m;
        println!(
            "QUERY name={} id={id} median_ms={m:.1} series={} points={} checksum={:.6e}",
            args.name, o.series, o.points, o.checksum
        );
    }
    println!(
        "RESULT name={} queries={} runs={} total_median_ms={total:.1}",
        args.name,
        cases.len(),
        args.runs
    );
    Ok(())
}
