//! End to end with a real Prometheus: Prometheus scrapes node_exporter, itself and architect
//! every second and remote-writes everything to architect. For a closed window inside the run,
//! the samples architect returns through remote read must be exactly (labels, timestamps, value
//! bits — staleness markers included) what Prometheus returns through its own remote read, from
//! the head and again after a flush to Parquet.
//!
//! Needs `prometheus` and `prometheus-node-exporter`; skipped loudly when they are missing
//! (failed under `CI=true`).

use architect_integration_tests::*;
use architect_model::STALE_NAN_BITS;
use reqwest::StatusCode;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// How long Prometheus scrapes before the comparison window is chosen.
const RUN: Duration = Duration::from_secs(15);
/// How long architect may lag behind Prometheus' remote-write queue for a closed window.
const CONVERGE: Duration = Duration::from_secs(60);

const NODE_COLLECTORS: &[&str] = &[
    "cpu",
    "meminfo",
    "loadavg",
    "netdev",
    "diskstats",
    "filesystem",
    "stat",
    "time",
    "uname",
    "vmstat",
    "filefd",
    "netstat",
    "sockstat",
];

fn write_config(path: &Path, node: &str, prom: &str, architect: &str) {
    let yaml = format!(
        r#"global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1m
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['{node}']
  - job_name: prometheus
    static_configs:
      - targets: ['{prom}']
  - job_name: architect
    static_configs:
      - targets: ['{architect}']
remote_write:
  - url: http://{architect}/api/v1/push
    queue_config:
      batch_send_deadline: 1s
      min_backoff: 100ms
      max_backoff: 1s
"#
    );
    std::fs::write(path, yaml).expect("write prometheus.yml");
}

/// Keeps only samples in `[t0, t1]` and drops series left empty.
fn window(mut m: SeriesMap, t0: i64, t1: i64) -> SeriesMap {
    for samples in m.values_mut() {
        samples.retain(|(t, _)| *t >= t0 && *t <= t1);
    }
    m.retain(|_, s| !s.is_empty());
    m
}

fn show(labels: &LabelSet) -> String {
    let inner: Vec<String> = labels.iter().map(|(n, v)| format!("{n}={v:?}")).collect();
    format!("{{{}}}", inner.join(", "))
}

/// A readable difference between Prometheus' answer and architect's (empty when equal).
fn diff(prom: &SeriesMap, arch: &SeriesMap) -> Vec<String> {
    let mut out = Vec::new();
    for (labels, p) in prom {
        match arch.get(labels) {
            None => out.push(format!(
                "missing in architect: {} ({} samples)",
                show(labels),
                p.len()
            )),
            Some(a) if a != p => {
                let first = p
                    .iter()
                    .zip(a.iter())
                    .position(|(x, y)| x != y)
                    .unwrap_or(p.len().min(a.len()));
                out.push(format!(
                    "samples differ for {}: prometheus {} samples, architect {}; first difference at #{first}: prometheus {:?}, architect {:?}",
                    show(labels),
                    p.len(),
                    a.len(),
                    p.get(first).map(|(t, b)| (t, f64::from_bits(*b), format!("{b:#x}"))),
                    a.get(first).map(|(t, b)| (t, f64::from_bits(*b), format!("{b:#x}"))),
                ));
            }
            Some(_) => {}
        }
    }
    for (labels, a) in arch {
        if !prom.contains_key(labels) {
            out.push(format!(
                "only in architect: {} ({} samples)",
                show(labels),
                a.len()
            ));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_remote_write_matches_prometheus_remote_read_exactly() {
    let (Some(prometheus), Some(node_exporter)) = (
        require_binary("prometheus"),
        require_binary("prometheus-node-exporter"),
    ) else {
        return;
    };
    let server = Server::start().await;
    let dir = tempfile::Builder::new()
        .prefix("architect-e2e-")
        .tempdir()
        .expect("tempdir");

    let node_addr = format!("127.0.0.1:{}", free_port());
    let mut cmd = Command::new(&node_exporter);
    cmd.arg(format!("--web.listen-address={node_addr}"))
        .arg("--collector.disable-defaults");
    for c in NODE_COLLECTORS {
        cmd.arg(format!("--collector.{c}"));
    }
    let mut node = ChildGuard::spawn(
        "node_exporter",
        cmd,
        Some(&dir.path().join("node_exporter.log")),
    );
    wait_http_ok(
        "node_exporter",
        &format!("http://{node_addr}/metrics"),
        &mut node,
        Duration::from_secs(30),
    )
    .await;

    let prom_addr = format!("127.0.0.1:{}", free_port());
    let config = dir.path().join("prometheus.yml");
    write_config(&config, &node_addr, &prom_addr, server.addr());
    let mut cmd = Command::new(&prometheus);
    cmd.arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("tsdb").display()
        ))
        .arg(format!("--web.listen-address={prom_addr}"))
        .arg("--log.level=info");
    let mut prom = ChildGuard::spawn("prometheus", cmd, Some(&dir.path().join("prometheus.log")));
    let prom_url = format!("http://{prom_addr}");
    wait_http_ok(
        "prometheus",
        &format!("{prom_url}/-/ready"),
        &mut prom,
        Duration::from_secs(60),
    )
    .await;
    let ready_at = now_ms();
    eprintln!(
        "prometheus {prom_addr} (pid {}), node_exporter {node_addr} (pid {}), architect {}",
        prom.pid(),
        node.pid(),
        server.addr()
    );

    // Mid-run, node_exporter goes away: Prometheus marks its series stale (special NaN bits)
    // on the next failed scrape, and those markers must arrive bit-exact too.
    tokio::time::sleep(RUN * 3 / 5).await;
    let node_killed_at = now_ms();
    node.kill();
    tokio::time::sleep(RUN * 2 / 5).await;
    assert!(
        prom.try_wait().is_none(),
        "prometheus died; log:\n{}",
        prom.log_tail(4000)
    );

    // A closed window that ended 3 s ago and started 2 s after Prometheus was ready.
    let t1 = now_ms() - 3000;
    let t0 = (t1 - 10_000).max(ready_at + 2000);
    assert!(t1 - t0 >= 5000, "window too short: [{t0}, {t1}]");
    let all = || vec![re("__name__", ".+")];
    let client = reqwest::Client::new();
    let prom_read = format!("{prom_url}/api/v1/read");
    let prom_map = window(
        series_map(&remote_read_with(&client, &prom_read, None, query(t0, t1, all())).await),
        t0,
        t1,
    );

    // The comparison must be able to fail: Prometheus holds a real amount of data, of all jobs.
    let samples: usize = prom_map.values().map(Vec::len).sum();
    let jobs = |job: &str| {
        prom_map
            .keys()
            .filter(|l| l.iter().any(|(n, v)| n == "job" && v == job))
            .count()
    };
    eprintln!(
        "window [{t0}, {t1}]: prometheus has {} series, {samples} samples (node {}, prometheus {}, architect {})",
        prom_map.len(),
        jobs("node"),
        jobs("prometheus"),
        jobs("architect")
    );
    assert!(
        prom_map.len() >= 100 && samples >= 1000,
        "too little data in Prometheus to compare"
    );
    let stale = prom_map
        .values()
        .flatten()
        .filter(|(_, b)| *b == STALE_NAN_BITS)
        .count();
    let other_nan = prom_map
        .values()
        .flatten()
        .filter(|(_, b)| f64::from_bits(*b).is_nan() && *b != STALE_NAN_BITS)
        .count();
    eprintln!(
        "window holds {stale} staleness markers and {other_nan} other NaNs (node_exporter killed at {node_killed_at})"
    );
    if node_killed_at < t1 - 2000 {
        assert!(
            stale >= jobs("node") / 2,
            "node_exporter's series should have been marked stale in the window"
        );
    }
    for job in ["node", "prometheus", "architect"] {
        assert!(jobs(job) > 0, "no series of job {job} in Prometheus");
    }
    // Prometheus could scrape architect's /metrics (OpenMetrics): up == 1 throughout.
    let up_architect: LabelSet = vec![
        ("__name__".into(), "up".into()),
        ("instance".into(), server.addr().to_string()),
        ("job".into(), "architect".into()),
    ];
    let ups = prom_map
        .get(&up_architect)
        .unwrap_or_else(|| panic!("no up series for architect"));
    // (any, not all: a scrape may time out on a loaded machine; a format Prometheus cannot
    // parse gives up == 0 every time).
    assert!(
        ups.iter().any(|(_, b)| f64::from_bits(*b) == 1.0),
        "Prometheus failed to scrape architect /metrics: {ups:?}"
    );

    // Architect converges to exactly Prometheus' answer once the queue has shipped the window.
    let deadline = Instant::now() + CONVERGE;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let raw = series_map(&remote_read(&server.url(), None, query(t0, t1, all())).await);
        let outside: Vec<String> = raw
            .iter()
            .filter(|(_, s)| s.iter().any(|(t, _)| *t < t0 || *t > t1))
            .map(|(l, _)| show(l))
            .take(5)
            .collect();
        assert!(
            outside.is_empty(),
            "architect returned samples outside [{t0}, {t1}]: {outside:?}"
        );
        let empty: Vec<String> = raw
            .iter()
            .filter(|(_, s)| s.is_empty())
            .map(|(l, _)| show(l))
            .take(5)
            .collect();
        assert!(
            empty.is_empty(),
            "architect returned series without samples: {empty:?}"
        );
        let d = diff(&prom_map, &raw);
        if d.is_empty() {
            eprintln!("architect matches Prometheus exactly after {attempts} attempt(s)");
            break;
        }
        if Instant::now() > deadline {
            panic!(
                "after {CONVERGE:?}, architect's remote read differs from Prometheus' for [{t0}, {t1}] ({} differences):\n{}",
                d.len(),
                d.iter().take(30).cloned().collect::<Vec<_>>().join("\n")
            );
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }

    // The same window once architect's head is cut to Parquet (Prometheus keeps writing).
    let stats = server.flush().await;
    eprintln!("flush: {stats}");
    assert!(
        stats["blocks"].as_u64().unwrap_or(0) >= 1,
        "the flush wrote no block: {stats}"
    );
    let flushed = series_map(&remote_read(&server.url(), None, query(t0, t1, all())).await);
    let d = diff(&prom_map, &flushed);
    assert!(
        d.is_empty(),
        "after flush, architect differs from Prometheus ({}):\n{}",
        d.len(),
        d.iter().take(30).cloned().collect::<Vec<_>>().join("\n")
    );
    // Prometheus' own answer has not changed meanwhile (the window really was closed).
    let again = window(
        series_map(&remote_read_with(&client, &prom_read, None, query(t0, t1, all())).await),
        t0,
        t1,
    );
    assert_eq!(
        again.len(),
        prom_map.len(),
        "Prometheus' answer for a closed window changed"
    );

    // The Prometheus API of architect sees the same series names.
    let names = label_values(&server.url(), None, "__name__").await;
    for wanted in [
        "up",
        "prometheus_build_info",
        "node_cpu_seconds_total",
        "architect_ingester_samples_ingested_total",
    ] {
        assert!(
            names.iter().any(|n| n == wanted),
            "{wanted} missing from architect's __name__ values"
        );
    }

    // Prometheus itself saw no failed or dropped remote-write samples.
    for m in [
        "prometheus_remote_storage_samples_failed_total",
        "prometheus_remote_storage_samples_dropped_total",
    ] {
        let (status, json) = get_json(
            &prom_url,
            "/api/v1/query",
            None,
            &[("query", &format!("sum({m})"))],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{json}");
        let v = json["data"]["result"][0]["value"][1]
            .as_str()
            .unwrap_or("0")
            .to_string();
        eprintln!("prometheus: sum({m}) = {v}");
        assert_eq!(
            v,
            "0",
            "Prometheus reports {m} = {v}; log:\n{}",
            server.log()
        );
    }

    // Stop cleanly: SIGTERM Prometheus (it drains its queue).
    let status = prom.terminate(Duration::from_secs(60));
    assert!(
        status.is_some_and(|s| s.success()),
        "prometheus did not stop cleanly: {status:?}; log:\n{}",
        prom.log_tail(4000)
    );
    let log = prom.log_tail(200_000);
    let errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("level=error") && l.contains("remote"))
        .take(5)
        .collect();
    assert!(
        errors.is_empty(),
        "Prometheus logged remote-write errors:\n{}",
        errors.join("\n")
    );
}
