//! `architect bench ingest`: remote_write 1.0 load with a deterministic data set.
//!
//! The series are split into one shard per connection (series `i` goes to shard
//! `i % connections`), so each series' samples travel on one connection, in time order. Every
//! request holds a block of the shard's series for a few consecutive scrapes (a "window"); the
//! connections advance window by window, none more than `--max-skew` windows ahead of the
//! slowest, as a remote_write queue reading a WAL does. Prometheus in particular refuses samples
//! more than an hour behind the newest it holds, so the oldest data goes first.
//!
//! All requests are generated, encoded and snappy-compressed before the clock starts (on all
//! cores), so the generator never limits the measured rate and takes no CPU from the receiver
//! while it runs.

use super::dataset::{SeriesDef, build_series};
use super::{IngestArgs, Profile};
use anyhow::{Context, bail};
use architect_model::{Sample, SeriesWrite, WriteRequest};
use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, USER_AGENT};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

const DAY_MS: i64 = 86_400_000;

/// The resolved shape of a run.
#[derive(Debug, Clone)]
struct Plan {
    series: usize,
    steps: usize,
    interval_ms: i64,
    start_ms: i64,
    connections: usize,
    steps_per_request: usize,
    series_per_request: usize,
    windows: usize,
}

/// One pre-encoded request.
#[derive(Debug)]
struct Req {
    window: usize,
    samples: usize,
    body: Bytes,
}

pub(crate) fn run(args: IngestArgs) -> anyhow::Result<()> {
    let plan = plan(&args)?;
    let total_samples = plan.series * plan.steps;
    let now_ms = now_ms();
    println!(
        "[{}] data set: {} series x {} scrapes every {} s = {} samples, from {} ({:.1} h ago) to {}",
        args.name,
        plan.series,
        plan.steps,
        plan.interval_ms / 1000,
        total_samples,
        utc(plan.start_ms),
        (now_ms - plan.start_ms) as f64 / 3.6e6,
        utc(plan.start_ms + (plan.steps as i64 - 1) * plan.interval_ms),
    );
    if plan.start_ms + (plan.steps as i64) * plan.interval_ms > now_ms {
        eprintln!("warning: the data set reaches into the future; receivers may refuse it");
    }

    let t0 = Instant::now();
    let series = build_series(plan.series, args.seed, plan.start_ms);
    let names: BTreeSet<&str> = series.iter().map(|s| s.labels.metric_name()).collect();
    let hosts: BTreeSet<&str> = series
        .iter()
        .filter_map(|s| s.labels.get("instance"))
        .collect();
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &series {
        *kinds.entry(s.kind()).or_default() += 1;
    }
    let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
    println!(
        "[{}] {} hosts, {} metric names; series: {}",
        args.name,
        hosts.len(),
        names.len(),
        kinds.join(", ")
    );
    let shards = encode_all(&plan, &series);
    drop(series);
    let requests: usize = shards.iter().map(Vec::len).sum();
    let wire_bytes: usize = shards.iter().flatten().map(|r| r.body.len()).sum();
    println!(
        "[{}] encoded {} requests ({} series x {} scrapes each, {} connections) in {:.2} s: {:.1} MB snappy, {:.1} B/sample on the wire",
        args.name,
        requests,
        plan.series_per_request,
        plan.steps_per_request,
        plan.connections,
        t0.elapsed().as_secs_f64(),
        wire_bytes as f64 / 1e6,
        wire_bytes as f64 / total_samples.max(1) as f64,
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?;
    let report = runtime.block_on(send_all(&args, &plan, shards))?;
    report.print(&args.name, &plan);
    if report.errors > 0 {
        bail!("{} requests failed", report.errors);
    }
    Ok(())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn plan(args: &IngestArgs) -> anyhow::Result<Plan> {
    let (series, hours) = match args.profile {
        Profile::Small => (1_000, 2.0),
        Profile::Full => (10_000, 24.0),
    };
    let series = args.series.unwrap_or(series);
    let hours = args.hours.unwrap_or(hours);
    let interval_secs = args.interval_secs.unwrap_or(15);
    if series == 0 || hours <= 0.0 || interval_secs == 0 || args.connections == 0 {
        bail!("--series, --hours, --interval-secs and --connections must be positive");
    }
    let interval_ms = interval_secs as i64 * 1000;
    let steps = ((hours * 3.6e6) / interval_ms as f64).round().max(1.0) as usize;
    let connections = args.connections.min(series);
    let span_ms = steps as i64 * interval_ms;
    let start_ms = match args.start_ms {
        Some(s) => s,
        None => {
            // UTC midnight, enough whole days back that the last sample is in the past.
            let today = now_ms().div_euclid(DAY_MS) * DAY_MS;
            today - (span_ms + DAY_MS - 1).div_euclid(DAY_MS).max(1) * DAY_MS
        }
    };
    let per_req = args.samples_per_request.max(1);
    let smallest_shard = series / connections;
    let steps_per_request = args
        .steps_per_request
        .max(per_req / smallest_shard.max(1))
        .clamp(1, steps);
    let series_per_request = (per_req / steps_per_request).max(1);
    Ok(Plan {
        series,
        steps,
        interval_ms,
        start_ms,
        connections,
        steps_per_request,
        series_per_request,
        windows: steps.div_ceil(steps_per_request),
    })
}

/// Encodes every shard's requests, shards spread over the available cores.
fn encode_all(plan: &Plan, series: &[SeriesDef]) -> Vec<Vec<Req>> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(plan.connections);
    let mut shards: Vec<Option<Vec<Req>>> = (0..plan.connections).map(|_| None).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    (t..plan.connections)
                        .step_by(threads)
                        .map(|s| (s, encode_shard(plan, series, s)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            // A panicking encoder is a bug; surface it.
            for (s, reqs) in h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)) {
                shards[s] = Some(reqs);
            }
        }
    });
    shards.into_iter().map(Option::unwrap_or_default).collect()
}

fn encode_shard(plan: &Plan, all: &[SeriesDef], shard: usize) -> Vec<Req> {
    let mine: Vec<&SeriesDef> = all.iter().skip(shard).step_by(plan.connections).collect();
    let mut states: Vec<_> = mine.iter().map(|s| s.state()).collect();
    let interval_secs = plan.interval_ms as f64 / 1000.0;
    let mut out = Vec::with_capacity(plan.windows * mine.len().div_ceil(plan.series_per_request));
    for window in 0..plan.windows {
        let first = window * plan.steps_per_request;
        let last = (first + plan.steps_per_request).min(plan.steps);
        for (defs, states) in mine
            .chunks(plan.series_per_request)
            .zip(states.chunks_mut(plan.series_per_request))
        {
            let mut req = WriteRequest::default();
            for (def, st) in defs.iter().zip(states.iter_mut()) {
                let samples = (first..last)
                    .map(|k| {
                        let t = plan.start_ms + k as i64 * plan.interval_ms;
                        Sample {
                            t,
                            v: def.next(st, t, interval_secs),
                        }
                    })
                    .collect();
                req.series.push(SeriesWrite {
                    labels: def.labels.clone(),
                    samples,
                    ..SeriesWrite::default()
                });
            }
            let samples = req.sample_count();
            let raw = architect_protocols::remote_write::encode_v1(&req);
            let body = Bytes::from(architect_protocols::snappy::compress(&raw));
            out.push(Req {
                window,
                samples,
                body,
            });
        }
    }
    out
}

/// Keeps the connections within `skew` windows of each other.
#[derive(Debug)]
struct Gate {
    /// Windows fully sent, per connection (`usize::MAX` once finished).
    done: Vec<AtomicUsize>,
    notify: Notify,
    skew: usize,
}

impl Gate {
    async fn wait_for(&self, window: usize) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let slowest = self
                .done
                .iter()
                .map(|d| d.load(Ordering::Acquire))
                .min()
                .unwrap_or(usize::MAX);
            if window < slowest.saturating_add(self.skew) {
                return;
            }
            notified.await;
        }
    }

    fn set(&self, conn: usize, done: usize) {
        self.done[conn].store(done, Ordering::Release);
        self.notify.notify_waiters();
    }
}

#[derive(Debug, Default)]
struct Report {
    latencies_us: Vec<u64>,
    samples_ok: usize,
    requests_ok: usize,
    retries: usize,
    errors: usize,
    first_errors: Vec<String>,
    elapsed: Duration,
}

impl Report {
    fn print(&self, name: &str, plan: &Plan) {
        let total_samples = plan.series * plan.steps;
        let mut l = self.latencies_us.clone();
        l.sort_unstable();
        let pct = |p: f64| -> f64 {
            if l.is_empty() {
                return f64::NAN;
            }
            let i = ((l.len() - 1) as f64 * p).round() as usize;
            l[i] as f64 / 1000.0
        };
        let secs = self.elapsed.as_secs_f64();
        let rate = self.samples_ok as f64 / secs.max(1e-9);
        for e in &self.first_errors {
            eprintln!("[{name}] error: {e}");
        }
        println!(
            "[{name}] sent {} of {} samples in {} requests in {:.2} s: {:.0} samples/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} retries, {} errors",
            self.samples_ok,
            total_samples,
            self.requests_ok,
            secs,
            rate,
            pct(0.5),
            pct(0.99),
            pct(1.0),
            self.retries,
            self.errors,
        );
        // One machine-readable line for scripts (local-dev/bench.sh).
        println!(
            "RESULT name={name} samples={} requests={} seconds={secs:.3} samples_per_sec={rate:.0} p50_ms={:.2} p99_ms={:.2} max_ms={:.2} retries={} errors={} series={} first_ms={} last_ms={}",
            self.samples_ok,
            self.requests_ok,
            pct(0.5),
            pct(0.99),
            pct(1.0),
            self.retries,
            self.errors,
            plan.series,
            plan.start_ms,
            plan.start_ms + (plan.steps as i64 - 1) * plan.interval_ms,
        );
    }
}

#[derive(Debug, Default)]
struct ConnResult {
    latencies_us: Vec<u64>,
    samples_ok: usize,
    requests_ok: usize,
    retries: usize,
    errors: Vec<String>,
}

#[derive(Debug)]
struct Shared {
    client: reqwest::Client,
    url: String,
    tenant: Option<String>,
    gate: Gate,
    max_retries: u32,
    max_errors: usize,
    errors: AtomicUsize,
    stop: AtomicBool,
}

async fn send_all(args: &IngestArgs, plan: &Plan, shards: Vec<Vec<Req>>) -> anyhow::Result<Report> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(plan.connections)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(args.timeout_secs))
        .build()
        .context("http client")?;
    let shared = Arc::new(Shared {
        client,
        url: args.url.clone(),
        tenant: args.tenant.clone(),
        gate: Gate {
            done: (0..shards.len()).map(|_| AtomicUsize::new(0)).collect(),
            notify: Notify::new(),
            skew: args.max_skew.max(1),
        },
        max_retries: args.max_retries,
        max_errors: args.max_errors.max(1),
        errors: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
    });
    let start = Instant::now();
    let tasks: Vec<_> = shards
        .into_iter()
        .enumerate()
        .map(|(conn, reqs)| tokio::spawn(connection(Arc::clone(&shared), conn, reqs)))
        .collect();
    let mut report = Report::default();
    for t in tasks {
        let r = t.await.context("sender task")?;
        report.latencies_us.extend(r.latencies_us);
        report.samples_ok += r.samples_ok;
        report.requests_ok += r.requests_ok;
        report.retries += r.retries;
        report.errors += r.errors.len();
        report.first_errors.extend(r.errors.into_iter().take(3));
    }
    report.elapsed = start.elapsed();
    report.first_errors.truncate(5);
    Ok(report)
}

async fn connection(shared: Arc<Shared>, conn: usize, reqs: Vec<Req>) -> ConnResult {
    let mut out = ConnResult {
        latencies_us: Vec::with_capacity(reqs.len()),
        ..ConnResult::default()
    };
    for (i, req) in reqs.iter().enumerate() {
        if shared.stop.load(Ordering::Relaxed) {
            break;
        }
        shared.gate.wait_for(req.window).await;
        match send_one(&shared, &req.body, &mut out.retries).await {
            Ok(latency) => {
                out.latencies_us.push(latency.as_micros() as u64);
                out.samples_ok += req.samples;
                out.requests_ok += 1;
            }
            Err(e) => {
                out.errors.push(e);
                if shared.errors.fetch_add(1, Ordering::Relaxed) + 1 >= shared.max_errors {
                    shared.stop.store(true, Ordering::Relaxed);
                }
            }
        }
        if reqs.get(i + 1).is_none_or(|next| next.window != req.window) {
            shared.gate.set(conn, req.window + 1);
        }
    }
    shared.gate.set(conn, usize::MAX);
    out
}

/// Sends one request, retrying 429, 5xx and transport errors with exponential backoff (as a
/// remote_write queue does). Returns the latency of the successful attempt.
async fn send_one(shared: &Shared, body: &Bytes, retries: &mut usize) -> Result<Duration, String> {
    let mut backoff = Duration::from_millis(100);
    let mut attempt = 0;
    loop {
        let t0 = Instant::now();
        let mut rb = shared
            .client
            .post(&shared.url)
            .header(CONTENT_TYPE, "application/x-protobuf")
            .header(CONTENT_ENCODING, "snappy")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .header(USER_AGENT, "architect-bench/0.1")
            .body(body.clone());
        if let Some(t) = &shared.tenant {
            rb = rb.header("X-Scope-OrgID", t);
        }
        let failure = match rb.send().await {
            Ok(resp) => {
                let status = resp.status();
                // Read the whole answer so the connection is reused.
                let text = resp.bytes().await.unwrap_or_default();
                if status.is_success() {
                    return Ok(t0.elapsed());
                }
                let msg = format!(
                    "HTTP {status}: {}",
                    String::from_utf8_lossy(&text[..text.len().min(300)]).trim()
                );
                if status != StatusCode::TOO_MANY_REQUESTS && !status.is_server_error() {
                    return Err(msg);
                }
                msg
            }
            Err(e) => {
                // reqwest's message alone hides the cause ("connection refused", "timed out").
                let mut msg = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(cause) = source {
                    msg = format!("{msg}: {cause}");
                    source = cause.source();
                }
                msg
            }
        };
        if attempt >= shared.max_retries || shared.stop.load(Ordering::Relaxed) {
            return Err(format!("{failure} (after {attempt} retries)"));
        }
        attempt += 1;
        *retries += 1;
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a timestamp in ms.
fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formats() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_700_000_000_000), "2023-11-14T22:13:20Z");
    }
}
