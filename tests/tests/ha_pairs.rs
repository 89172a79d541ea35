//! HA pair dedup at ingest (Mimir's HA tracker) with real Prometheus servers: two replicas with
//! `external_labels {cluster: c1, __replica__: a|b}` scrape architect and themselves every second
//! and remote-write to architect, which has `accept_ha_samples` on and a 2 s failover timeout.
//! Only the elected replica's samples are stored, once, without `__replica__`; after the elected
//! replica is killed (by PID), the other one takes over once the failover timeout has passed.
//!
//! Each replica also scrapes itself, so its own `up{job="prometheus", instance=...}` series tells
//! which replica's requests were stored. Needs `prometheus` (skipped loudly when missing, failed
//! under `CI=true`). A second test drives remote_write 2.0 by hand, which Debian's Prometheus
//! does not send.

use architect_integration_tests::*;
use architect_protocols::{prompb, write_v2};
use reqwest::StatusCode;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The default tenant: Debian's Prometheus 2.42 did not send a configured `X-Scope-OrgID`
/// header in a trial, so the Prometheus test writes without one.
const TENANT: &str = "anonymous";
const FAILOVER_MS: i64 = 2000;

fn architect_config() -> String {
    format!(
        r#"limits:
  accept_ha_samples: true
  ha_tracker_update_timeout_ms: 1000
  ha_tracker_update_timeout_jitter_max_ms: 0
  ha_tracker_failover_timeout_ms: {FAILOVER_MS}
"#
    )
}

fn write_prometheus_config(path: &Path, replica: &str, prom: &str, architect: &str) {
    let yaml = format!(
        r#"global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1m
  external_labels:
    cluster: c1
    __replica__: {replica}
scrape_configs:
  - job_name: architect
    static_configs:
      - targets: ['{architect}']
  - job_name: prometheus
    static_configs:
      - targets: ['{prom}']
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

struct Replica {
    name: &'static str,
    addr: String,
    guard: ChildGuard,
}

fn start_replica(prometheus: &Path, dir: &Path, name: &'static str, architect: &str) -> Replica {
    let addr = format!("127.0.0.1:{}", free_port());
    let config = dir.join(format!("prometheus-{name}.yml"));
    write_prometheus_config(&config, name, &addr, architect);
    let mut cmd = Command::new(prometheus);
    cmd.arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join(format!("tsdb-{name}")).display()
        ))
        .arg(format!("--web.listen-address={addr}"))
        .arg("--log.level=info");
    let guard = ChildGuard::spawn(
        &format!("prometheus-{name}"),
        cmd,
        Some(&dir.join(format!("prometheus-{name}.log"))),
    );
    Replica { name, addr, guard }
}

/// The `instance` labels of the stored `up{job="prometheus"}` series: which replicas' requests
/// were stored (each replica scrapes only itself under that job).
async fn stored_prometheus_instances(url: &str) -> Vec<String> {
    series_of(url, Some(TENANT), r#"up{job="prometheus"}"#)
        .await
        .into_iter()
        .filter_map(|s| s.get("instance").cloned())
        .collect()
}

/// Timestamps (ms) of `selector`'s samples over the last `range`, per series.
async fn sample_times(url: &str, selector: &str, range: &str) -> Vec<Vec<i64>> {
    let (status, json) = get_json(
        url,
        "/api/v1/query",
        Some(TENANT),
        &[("query", &format!("{selector}[{range}]"))],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{selector}: {json}");
    json["data"]["result"]
        .as_array()
        .map(|series| {
            series
                .iter()
                .map(|s| {
                    s["values"]
                        .as_array()
                        .map(|vs| {
                            vs.iter()
                                .filter_map(|v| v[0].as_f64())
                                .map(|t| (t * 1000.0).round() as i64)
                                .collect()
                        })
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The value of an architect self-metric with these label pairs, if present.
async fn self_metric(url: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let text = reqwest::get(format!("{url}/metrics"))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics body");
    text.lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .find(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_ha_pair_is_stored_once_and_fails_over() {
    let Some(prometheus) = require_binary("prometheus") else {
        return;
    };
    let started = Instant::now();
    let server = Server::start_with_config(&architect_config()).await;
    let url = server.url();
    let dir = tempfile::Builder::new()
        .prefix("architect-ha-")
        .tempdir()
        .expect("tempdir");
    let mut replicas = [
        start_replica(&prometheus, dir.path(), "a", server.addr()),
        start_replica(&prometheus, dir.path(), "b", server.addr()),
    ];
    for r in &mut replicas {
        let ready = format!("http://{}/-/ready", r.addr);
        let what = format!("prometheus {}", r.name);
        wait_http_ok(&what, &ready, &mut r.guard, Duration::from_secs(30)).await;
    }
    eprintln!(
        "replica a {} (pid {}), replica b {} (pid {}), architect {}",
        replicas[0].addr,
        replicas[0].guard.pid(),
        replicas[1].addr,
        replicas[1].guard.pid(),
        server.addr()
    );

    // One replica gets elected; its series are stored with `cluster` and without `__replica__`.
    let elected_addr = wait_for("a stored series", Duration::from_secs(20), async || {
        stored_prometheus_instances(&url).await.into_iter().next()
    })
    .await;
    let elected = replicas
        .iter()
        .position(|r| r.addr == elected_addr)
        .expect("the stored instance is one of the replicas");
    let other = 1 - elected;
    // Both replicas keep writing for a while: the other's requests are refused (202).
    tokio::time::sleep(Duration::from_secs(4)).await;
    let before_failover = now_ms();
    assert_eq!(
        stored_prometheus_instances(&url).await,
        vec![elected_addr.clone()],
        "only the elected replica ({}) is stored",
        replicas[elected].name
    );
    let ups = series_of(&url, Some(TENANT), "up").await;
    assert_eq!(
        ups.len(),
        2,
        "up of architect and of the elected replica: {ups:?}"
    );
    for s in &ups {
        assert_eq!(s.get("cluster").map(String::as_str), Some("c1"), "{s:?}");
        assert!(
            !s.contains_key("__replica__"),
            "replica label stored: {s:?}"
        );
    }
    let everything = series_of(&url, Some(TENANT), r#"{__name__=~".+"}"#).await;
    assert!(
        everything.iter().all(|s| !s.contains_key("__replica__")),
        "some series kept __replica__"
    );
    // Both replicas scrape architect once a second: one copy means about one sample a second
    // (two copies of the same series would interleave to about two).
    let times = sample_times(&url, r#"up{job="architect"}"#, "4s").await;
    assert_eq!(times.len(), 1, "one up series for architect: {times:?}");
    assert!(
        (2..=5).contains(&times[0].len()),
        "about one sample a second over 4 s, got {:?}",
        times[0]
    );
    let deduped = self_metric(
        &url,
        "architect_ha_tracker_deduped_samples_total",
        &[("user", TENANT), ("cluster", "c1")],
    )
    .await
    .unwrap_or(0.0);
    assert!(
        deduped > 0.0,
        "the other replica's samples were dropped and counted"
    );

    // The elected replica dies; after the failover timeout the other one is elected.
    let killed_pid = replicas[elected].guard.pid();
    replicas[elected].guard.kill();
    let killed_at = now_ms();
    eprintln!(
        "killed replica {} (pid {killed_pid})",
        replicas[elected].name
    );
    let other_addr = replicas[other].addr.clone();
    wait_for("the failover", Duration::from_secs(15), async || {
        stored_prometheus_instances(&url)
            .await
            .contains(&other_addr)
            .then_some(())
    })
    .await;
    let failed_over_after = now_ms() - killed_at;
    eprintln!(
        "replica {} stored {failed_over_after} ms after the kill",
        replicas[other].name
    );
    // Nothing of the other replica was stored while the first one was alive.
    let selector = format!(r#"up{{job="prometheus", instance="{other_addr}"}}"#);
    let taken_over = sample_times(&url, &selector, "1m").await;
    let first = taken_over
        .iter()
        .flatten()
        .min()
        .copied()
        .expect("samples of the new replica");
    assert!(
        first > before_failover,
        "the other replica's samples from before the failover ({first}) were stored (checked at {before_failover})"
    );
    assert!(
        first >= killed_at - 1000,
        "samples scraped before the kill ({first} < {killed_at}) belong to the refused period"
    );
    let ups = series_of(&url, Some(TENANT), r#"up{job="architect"}"#).await;
    assert_eq!(ups.len(), 1, "still one up series for architect: {ups:?}");
    let changes = self_metric(
        &url,
        "architect_ha_tracker_elected_replica_changes_total",
        &[("user", TENANT), ("cluster", "c1")],
    )
    .await;
    assert_eq!(changes, Some(2.0), "elected once, failed over once");

    for r in &mut replicas {
        r.guard.kill();
    }
    eprintln!("took {:?}", started.elapsed());
}

/// remote_write 2.0 goes through the same tracker: 204 and no `__replica__` for the elected
/// replica, 202 with Mimir's message for the other, and requests without the labels untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_write_2_from_an_ha_pair() {
    let server = Server::start_with_config(&architect_config()).await;
    let url = server.url();
    let t = now_ms();
    let request = |replica: &str, name: &str| write_v2::Request {
        symbols: [
            "",
            "__name__",
            name,
            "cluster",
            "c1",
            "__replica__",
            replica,
            "job",
            "j",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect(),
        timeseries: vec![write_v2::TimeSeries {
            labels_refs: vec![1, 2, 5, 6, 3, 4, 7, 8],
            samples: vec![prompb::Sample {
                value: 1.0,
                timestamp: t,
            }],
            ..Default::default()
        }],
    };
    let (status, body, _) = push_v2(&url, Some(TENANT), &request("a", "ha_v2")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body, _) = push_v2(&url, Some(TENANT), &request("b", "ha_v2_other")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(
        body.trim(),
        "replicas did not mach, rejecting sample: replica=b, elected=a"
    );
    // Another tenant has its own election.
    let (status, body, _) = push_v2(&url, Some("other"), &request("b", "ha_v2")).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    let stored = series_of(&url, Some(TENANT), r#"{__name__=~"ha_v2.*"}"#).await;
    let expected: BTreeMap<String, String> =
        [("__name__", "ha_v2"), ("cluster", "c1"), ("job", "j")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    assert_eq!(stored, vec![expected]);

    // Without the replica label: stored as sent.
    let plain = write_v2::Request {
        symbols: ["", "__name__", "plain", "cluster", "c1"]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect(),
        timeseries: vec![write_v2::TimeSeries {
            labels_refs: vec![1, 2, 3, 4],
            samples: vec![prompb::Sample {
                value: 1.0,
                timestamp: t,
            }],
            ..Default::default()
        }],
    };
    let (status, body, _) = push_v2(&url, Some(TENANT), &plain).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(series_of(&url, Some(TENANT), "plain").await.len(), 1);
}
