//! Differential test: the same data remote-written into Debian's Prometheus (2.42) and into
//! `architect serve`, the same instant and range queries through both HTTP APIs, and the
//! results compared value by value (relative difference ≤ 1e-9, NaN equals NaN).
//!
//! Samples sit 1.234 s after the 15 s grid and queries 30 s after whole minutes, so no sample
//! (and no subquery step, which falls on whole minutes) ever lies on a window boundary: that is where Prometheus 2 (closed windows) and Prometheus 3
//! (left-open windows, which this project follows) differ. Functions Prometheus 2.42 lacks are
//! not queried. Needs `prometheus`; skipped loudly when it is missing (a failure under CI).

use architect_integration_tests::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

const STEP_MS: i64 = 15_000;

/// Samples of one series.
type Samples = Vec<(i64, f64)>;
/// A query run: description, API path, parameters.
type Run<'a> = (String, &'a str, Vec<(&'a str, &'a str)>);
const SAMPLES: i64 = 45 * 4; // 45 minutes at 15 s

/// Deterministic series of the test data: counters with a reset, gauges, classic histograms,
/// a series that goes stale and comes back.
fn dataset(t0: i64) -> Vec<Vec<architect_protocols::prompb::TimeSeries>> {
    let mut rng = Rng::new(42);
    let mut all: Vec<(Vec<(String, String)>, Samples)> = Vec::new();
    let ts = |i: i64| t0 + i * STEP_MS + 1234;
    for job in ["api", "web"] {
        for instance in ["a", "b", "c"] {
            for code in ["200", "500"] {
                let mut v = 0.0;
                let mut samples = Vec::new();
                // A per-series fraction keeps rates distinct: topk/bottomk on ties pick by
                // storage order, which differs between any two implementations.
                let fraction = all.len() as f64 * 0.001;
                for i in 0..SAMPLES {
                    v += rng.range(0, 20) as f64 + fraction;
                    if job == "web" && instance == "b" && code == "200" && i == 90 {
                        v = 3.0; // counter reset
                    }
                    samples.push((ts(i), v));
                }
                all.push((
                    labels(&[
                        ("__name__", "diff_requests_total"),
                        ("job", job),
                        ("instance", instance),
                        ("code", code),
                    ]),
                    samples,
                ));
            }
            let mem: Vec<(i64, f64)> = (0..SAMPLES)
                .map(|i| (ts(i), 1e6 + (rng.range(0, 1_000_000) as f64) * 0.37))
                .collect();
            all.push((
                labels(&[
                    ("__name__", "diff_memory_bytes"),
                    ("job", job),
                    ("instance", instance),
                ]),
                mem,
            ));
            let up: Vec<(i64, f64)> = (0..SAMPLES)
                .map(|i| (ts(i), if rng.range(0, 10) == 0 { 0.0 } else { 1.0 }))
                .collect();
            all.push((
                labels(&[
                    ("__name__", "diff_up"),
                    ("job", job),
                    ("instance", instance),
                ]),
                up,
            ));
            // Classic histogram: cumulative buckets.
            let bounds = ["0.1", "0.5", "1", "+Inf"];
            let mut counts = [0.0f64; 4];
            let mut sum = 0.0;
            let mut bucket_samples: Vec<Vec<(i64, f64)>> = vec![Vec::new(); 4];
            let mut count_samples = Vec::new();
            let mut sum_samples = Vec::new();
            for i in 0..SAMPLES {
                let observations = rng.range(0, 10);
                for _ in 0..observations {
                    let x = rng.range(0, 1500) as f64 / 1000.0;
                    sum += x;
                    for (b, bound) in [0.1, 0.5, 1.0, f64::INFINITY].iter().enumerate() {
                        if x <= *bound {
                            counts[b] += 1.0;
                        }
                    }
                }
                for b in 0..4 {
                    bucket_samples[b].push((ts(i), counts[b]));
                }
                count_samples.push((ts(i), counts[3]));
                sum_samples.push((ts(i), sum));
            }
            for (b, le) in bounds.iter().enumerate() {
                all.push((
                    labels(&[
                        ("__name__", "diff_latency_seconds_bucket"),
                        ("job", job),
                        ("instance", instance),
                        ("le", le),
                    ]),
                    bucket_samples[b].clone(),
                ));
            }
            all.push((
                labels(&[
                    ("__name__", "diff_latency_seconds_count"),
                    ("job", job),
                    ("instance", instance),
                ]),
                count_samples,
            ));
            all.push((
                labels(&[
                    ("__name__", "diff_latency_seconds_sum"),
                    ("job", job),
                    ("instance", instance),
                ]),
                sum_samples,
            ));
        }
    }
    // A series that goes stale for ten minutes.
    let stale = f64::from_bits(0x7ff0_0000_0000_0002);
    let flappy: Vec<(i64, f64)> = (0..SAMPLES)
        .filter(|i| !(60..100).contains(i) || *i == 60)
        .map(|i| (ts(i), if i == 60 { stale } else { i as f64 }))
        .collect();
    all.push((
        labels(&[("__name__", "diff_flappy"), ("job", "api")]),
        flappy,
    ));
    // Requests of five minutes of every series, oldest first.
    let mut out = Vec::new();
    let per_request = 20;
    for chunk in 0..(SAMPLES + per_request - 1) / per_request {
        let lo = ts(chunk * per_request);
        let hi = ts((chunk + 1) * per_request);
        let mut req = Vec::new();
        for (l, samples) in &all {
            let part: Vec<(i64, f64)> = samples
                .iter()
                .filter(|(t, _)| *t >= lo && *t < hi)
                .copied()
                .collect();
            if !part.is_empty() {
                let pairs: Vec<(&str, &str)> =
                    l.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
                req.push(series(&pairs, &part));
            }
        }
        out.push(req);
    }
    out
}

fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    v.sort();
    v
}

/// Queries both engines answer the same way (Prometheus 2.42 has all their functions).
const QUERIES: &[&str] = &[
    "diff_requests_total",
    "diff_requests_total{code=~\"5..\"}",
    "diff_requests_total{job!=\"api\", code=\"200\"}",
    "rate(diff_requests_total[5m])",
    "irate(diff_requests_total[5m])",
    "increase(diff_requests_total[10m])",
    "delta(diff_memory_bytes[10m])",
    "idelta(diff_memory_bytes[5m])",
    "sum by (job) (rate(diff_requests_total[5m]))",
    "sum without (instance, code) (rate(diff_requests_total[5m]))",
    "avg by (instance) (diff_memory_bytes)",
    "count by (job) (diff_up == 1)",
    // Presence-only reads (no decimal values decoded); `diff_flappy` has a staleness marker.
    "count(diff_requests_total)",
    "count by (job) (diff_flappy)",
    "max(diff_memory_bytes)",
    "min by (job) (diff_memory_bytes)",
    "topk(3, rate(diff_requests_total[5m]))",
    "bottomk(2, diff_memory_bytes)",
    "quantile(0.9, rate(diff_requests_total[5m]))",
    "stddev by (job) (diff_memory_bytes)",
    "stdvar(diff_memory_bytes)",
    "count_values(\"up\", diff_up)",
    "group by (job) (diff_up)",
    "histogram_quantile(0.99, sum by (le, job) (rate(diff_latency_seconds_bucket[5m])))",
    "histogram_quantile(0.5, rate(diff_latency_seconds_bucket[10m]))",
    "rate(diff_latency_seconds_sum[5m]) / rate(diff_latency_seconds_count[5m])",
    "diff_requests_total / on (job, instance) group_left diff_memory_bytes",
    "diff_memory_bytes * on (job, instance) group_right diff_requests_total",
    "diff_memory_bytes > 1.2e6",
    "diff_memory_bytes > bool 1.2e6",
    "diff_up and on (instance) diff_memory_bytes > 1.3e6",
    "diff_up or diff_flappy",
    "diff_requests_total unless on (code) diff_requests_total{code=\"500\"}",
    "abs(delta(diff_memory_bytes[5m]))",
    "ceil(diff_memory_bytes / 1000)",
    "round(diff_memory_bytes, 1000)",
    "clamp(diff_memory_bytes, 1.1e6, 1.3e6)",
    "ln(diff_memory_bytes)",
    "avg_over_time(diff_memory_bytes[10m])",
    "max_over_time(diff_memory_bytes[10m])",
    "min_over_time(diff_memory_bytes[10m])",
    "sum_over_time(diff_up[10m])",
    "count_over_time(diff_up[10m])",
    "quantile_over_time(0.5, diff_memory_bytes[10m])",
    "stddev_over_time(diff_memory_bytes[10m])",
    "last_over_time(diff_memory_bytes[10m])",
    "present_over_time(diff_flappy[5m])",
    "changes(diff_up[15m])",
    "resets(diff_requests_total[30m])",
    "deriv(diff_memory_bytes[10m])",
    "predict_linear(diff_memory_bytes[10m], 600)",
    "diff_flappy",
    "absent(diff_nonexistent{job=\"x\"})",
    "absent_over_time(diff_flappy[1m])",
    "max_over_time(rate(diff_requests_total[5m])[15m:1m])",
    "rate(diff_requests_total[5m] offset 5m)",
    "diff_memory_bytes offset 10m",
    "label_replace(diff_up, \"host\", \"$1-x\", \"instance\", \"(.*)\")",
    "label_join(diff_up, \"both\", \"/\", \"job\", \"instance\")",
    "timestamp(diff_up)",
    "scalar(sum(diff_up))",
    "vector(1) + diff_up",
    "time() - 1",
    "-diff_memory_bytes",
    "diff_up == bool on (job, instance) diff_up",
    "sum(rate(diff_requests_total[5m])) by (code) / ignoring (code) group_left sum(rate(diff_requests_total[5m]))",
];

async fn query_json(url: &str, path: &str, params: &[(&str, &str)]) -> (StatusCode, Value) {
    post_form_json(url, path, None, params).await
}

/// `labels → points` of a result, values parsed.
fn normalise(data: &Value) -> (String, BTreeMap<String, Vec<(f64, f64)>>) {
    let kind = data["resultType"].as_str().unwrap_or("").to_string();
    let mut out = BTreeMap::new();
    let parse_point = |p: &Value| -> (f64, f64) {
        let t = p[0].as_f64().unwrap_or(f64::NAN);
        let v = match p[1].as_str().unwrap_or("") {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            s => s.parse::<f64>().unwrap_or(f64::NAN),
        };
        (t, v)
    };
    match kind.as_str() {
        "scalar" | "string" => {
            out.insert(String::new(), vec![parse_point(&data["result"])]);
        }
        _ => {
            for s in data["result"].as_array().into_iter().flatten() {
                let key = serde_json::to_string(&s["metric"]).unwrap_or_default();
                let mut points: Vec<(f64, f64)> = Vec::new();
                if let Some(v) = s.get("value") {
                    points.push(parse_point(v));
                }
                for v in s["values"].as_array().into_iter().flatten() {
                    points.push(parse_point(v));
                }
                out.insert(key, points);
            }
        }
    }
    (kind, out)
}

fn close(a: f64, b: f64) -> bool {
    if a.is_nan() && b.is_nan() {
        return true;
    }
    if a == b {
        return true;
    }
    let diff = (a - b).abs();
    diff <= 1e-9 * a.abs().max(b.abs()) || diff < 1e-12
}

fn compare(what: &str, prom: &Value, arch: &Value) -> Result<usize, String> {
    let (pk, p) = normalise(prom);
    let (ak, a) = normalise(arch);
    if pk != ak {
        return Err(format!(
            "{what}: result type prometheus {pk}, architect {ak}"
        ));
    }
    let pkeys: Vec<&String> = p.keys().collect();
    let akeys: Vec<&String> = a.keys().collect();
    if pkeys != akeys {
        return Err(format!(
            "{what}: series differ\n  prometheus: {pkeys:?}\n  architect:  {akeys:?}"
        ));
    }
    let mut points = 0;
    for (k, pp) in &p {
        let ap = &a[k];
        if pp.len() != ap.len() {
            return Err(format!(
                "{what}: {k}: prometheus {} points, architect {}",
                pp.len(),
                ap.len()
            ));
        }
        for (x, y) in pp.iter().zip(ap) {
            if !close(x.0, y.0) || !close(x.1, y.1) {
                return Err(format!("{what}: {k}: prometheus {x:?}, architect {y:?}"));
            }
            points += 1;
        }
    }
    Ok(points)
}

#[tokio::test]
async fn queries_match_prometheus() {
    let Some(prometheus) = require_binary("prometheus") else {
        return;
    };
    let server = Server::start().await;
    let dir = tempfile::Builder::new()
        .prefix("architect-diff-")
        .tempdir()
        .expect("tempdir");
    let prom_addr = format!("127.0.0.1:{}", free_port());
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 1h\n").expect("write config");
    let mut cmd = Command::new(&prometheus);
    cmd.arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("tsdb").display()
        ))
        .arg(format!("--web.listen-address={prom_addr}"))
        .arg("--web.enable-remote-write-receiver")
        .arg("--log.level=warn");
    let mut prom = ChildGuard::spawn("prometheus", cmd, Some(&dir.path().join("prometheus.log")));
    let prom_url = format!("http://{prom_addr}");
    wait_http_ok(
        "prometheus",
        &format!("{prom_url}/-/ready"),
        &mut prom,
        Duration::from_secs(60),
    )
    .await;

    // Data: the last 50 minutes, on a minute-aligned grid shifted by 1.234 s.
    let t0 = (now_ms() / 60_000 - 50) * 60_000;
    for req in dataset(t0) {
        let req = write_request(req);
        for (name, url) in [("prometheus", &prom_url), ("architect", &server.url())] {
            let (status, body, _) = push_v1_to(&format!("{url}/api/v1/write"), &req).await;
            assert!(
                status.is_success(),
                "{name} refused the write: {status} {body}"
            );
        }
    }
    // Half the data from Parquet, the rest from the head: flush, then write nothing more.
    server.flush().await;

    let secs = |ms: i64| format!("{}", ms as f64 / 1000.0);
    // Query times at :30, so subquery steps (on whole minutes) never sit on a window boundary.
    let (start, end) = (
        secs(t0 + 10 * 60_000 + 30_000),
        secs(t0 + 45 * 60_000 + 30_000),
    );
    let instants = [
        secs(t0 + 20 * 60_000 + 30_000),
        secs(t0 + 44 * 60_000 + 30_000),
    ];
    let mut failures = Vec::new();
    let mut compared = 0;
    for q in QUERIES {
        let mut runs: Vec<Run<'_>> = vec![(
            format!("range {q}"),
            "/api/v1/query_range",
            vec![
                ("query", q),
                ("start", &start),
                ("end", &end),
                ("step", "60"),
            ],
        )];
        for t in &instants {
            runs.push((
                format!("instant {q} @ {t}"),
                "/api/v1/query",
                vec![("query", q), ("time", t)],
            ));
        }
        for (what, path, params) in runs {
            let (ps, pj) = query_json(&prom_url, path, &params).await;
            let (as_, aj) = query_json(&server.url(), path, &params).await;
            if ps != as_ {
                failures.push(format!(
                    "{what}: status prometheus {ps} {pj}, architect {as_} {aj}"
                ));
                continue;
            }
            if ps != StatusCode::OK {
                continue;
            }
            match compare(&what, &pj["data"], &aj["data"]) {
                Ok(n) => compared += n,
                Err(e) => failures.push(e),
            }
        }
    }
    eprintln!(
        "{} queries, {compared} points compared, {} differences",
        QUERIES.len(),
        failures.len()
    );
    assert!(compared > 10_000, "too few points compared: {compared}");
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
    prom.kill();
}
