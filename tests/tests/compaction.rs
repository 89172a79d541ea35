//! Compaction through the real binary: two days of backfilled node_exporter-like data pushed
//! over remote_write, flushed, compacted by `POST /api/v1/admin/compact`; raw answers are
//! identical afterwards, and answers from the 5 m and 1 h downsampled data agree with the raw
//! ones within the documented tolerance (docs/compaction.md).

use architect_integration_tests::{Server, architect_bin, now_ms};
use reqwest::StatusCode;
use serde_json::Value;
use std::process::Command;

const DAY_MS: i64 = 86_400_000;

/// The query's result as (labels JSON, [(t, value)]) sorted.
async fn range(
    server: &Server,
    query: &str,
    start: i64,
    end: i64,
    step: &str,
    resolution: &str,
) -> Vec<(String, Vec<(f64, f64)>)> {
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/query_range", server.url()))
        .query(&[
            ("query", query),
            ("start", &(start as f64 / 1000.0).to_string()),
            ("end", &(end as f64 / 1000.0).to_string()),
            ("step", step),
            ("max_source_resolution", resolution),
        ])
        .send()
        .await
        .expect("query");
    let status = r.status();
    let body: Value = r.json().await.expect("json");
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    let mut out: Vec<(String, Vec<(f64, f64)>)> = body["data"]["result"]
        .as_array()
        .expect("matrix")
        .iter()
        .map(|s| {
            let values = s["values"]
                .as_array()
                .expect("values")
                .iter()
                .map(|p| {
                    let t = p[0].as_f64().expect("t");
                    let v: f64 = p[1].as_str().expect("v").parse().expect("number");
                    (t, v)
                })
                .collect();
            (s["metric"].to_string(), values)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn assert_close(
    what: &str,
    raw: &[(String, Vec<(f64, f64)>)],
    other: &[(String, Vec<(f64, f64)>)],
    tolerance: f64,
) {
    assert_eq!(raw.len(), other.len(), "{what}: series");
    assert!(!raw.is_empty(), "{what}: no data");
    for ((la, a), (lb, b)) in raw.iter().zip(other) {
        assert_eq!(la, lb, "{what}");
        let a: std::collections::BTreeMap<i64, f64> =
            a.iter().map(|(t, v)| (*t as i64, *v)).collect();
        let b: std::collections::BTreeMap<i64, f64> =
            b.iter().map(|(t, v)| (*t as i64, *v)).collect();
        let common: Vec<i64> = a.keys().filter(|t| b.contains_key(t)).copied().collect();
        assert!(
            common.len() * 10 >= a.len() * 9,
            "{what}: {} of {} steps answered",
            common.len(),
            a.len()
        );
        for t in common {
            let (x, y) = (a[&t], b[&t]);
            let err = (x - y).abs() / x.abs().max(1e-9);
            assert!(err <= tolerance, "{what} at {t}: raw {x} vs {y} ({err:.4})");
        }
    }
}

/// Backfills `series` series over `days` whole past days through remote_write and flushes.
async fn backfilled_server(series: usize, days: i64) -> (Server, i64) {
    let server = Server::start_with_config(
        "compactor:\n  enabled: false\n  grace_period_secs: 0\n  max_output_samples: 400000\n",
    )
    .await;
    let start = (now_ms() / DAY_MS - days - 1) * DAY_MS;
    let status = Command::new(architect_bin())
        .args([
            "bench",
            "ingest",
            "--url",
            &format!("{}/api/v1/push", server.url()),
            "--series",
            &series.to_string(),
            "--hours",
            &(days * 24).to_string(),
            "--connections",
            "2",
            "--start-ms",
            &start.to_string(),
        ])
        .status()
        .expect("bench ingest");
    assert!(status.success());
    server.flush().await;
    (server, start)
}

async fn compact(server: &Server) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/admin/compact", server.url()))
        .send()
        .await
        .expect("compact");
    let status = r.status();
    let report: Value = r.json().await.expect("report");
    assert_eq!(status, StatusCode::OK, "{report}");
    report
}

/// 30 days of CPU counters: `rate`, `increase`, `avg_over_time` and `max_over_time` over the
/// whole month at a 1 h step agree between raw, 5 m and 1 h data (counters joined across 30 day
/// boundaries, the days read from two-week span blocks).
#[tokio::test(flavor = "multi_thread")]
async fn thirty_days_from_downsampled_data_agree_with_raw() {
    let (server, start) = backfilled_server(32, 30).await;
    let (from, to) = (start + DAY_MS, start + 30 * DAY_MS - 1000);
    let queries = [
        ("sum(rate(node_cpu_seconds_total[6h]))", 0.03),
        ("sum(increase(node_cpu_seconds_total[1d]))", 0.03),
        ("avg(avg_over_time(node_cpu_seconds_total[6h]))", 0.02),
        ("max(max_over_time(node_cpu_seconds_total[6h]))", 0.05),
    ];
    let mut before = Vec::new();
    for (q, _) in queries {
        before.push(range(&server, q, from, to, "1h", "raw").await);
    }
    let report = compact(&server).await;
    assert!(
        report["downsampled_blocks"].as_u64() >= Some(60),
        "{report}"
    );
    // 30 days touch three two-week spans: each resolution's days are read from span blocks.
    assert!(report["span_blocks"].as_u64() >= Some(6), "{report}");
    for ((q, tolerance), raw) in queries.iter().zip(&before) {
        assert_eq!(&range(&server, q, from, to, "1h", "raw").await, raw, "{q}");
        for resolution in ["5m", "1h"] {
            let down = range(&server, q, from, to, "1h", resolution).await;
            assert_close(&format!("{q} at {resolution}"), raw, &down, *tolerance);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn compaction_keeps_raw_answers_and_downsampled_answers_agree() {
    let (server, start) = backfilled_server(600, 2).await;

    let (from, to) = (start + 6 * 3_600_000, start + 2 * DAY_MS - 1000);
    // Ranges of six hours, as dashboards over days use (a `rate` needs two points per range:
    // a 1 h range over 1 h data has none to spare).
    let queries = [
        (
            "sum by (instance) (rate(node_network_receive_bytes_total[6h]))",
            0.03,
        ),
        ("sum(increase(node_cpu_seconds_total[6h]))", 0.03),
        ("max by (instance) (max_over_time(node_load1[6h]))", 0.05),
        ("avg_over_time(process_resident_memory_bytes[6h])", 0.02),
        ("min_over_time(node_filesystem_free_bytes[6h])", 0.02),
    ];
    let hosts_before = instant_count(&server, start + DAY_MS).await;
    assert!(
        hosts_before.parse::<u32>().is_ok_and(|n| n > 0),
        "{hosts_before}"
    );
    let mut before = Vec::new();
    for (q, _) in queries {
        before.push(range(&server, q, from, to, "1h", "raw").await);
    }

    let report = compact(&server).await;
    assert!(report["input_blocks"].as_u64() > Some(0), "{report}");
    assert!(report["output_blocks"].as_u64() >= Some(2), "{report}");
    assert!(report["downsampled_blocks"].as_u64() >= Some(4), "{report}");
    assert!(report["deleted_blocks"].as_u64() > Some(0), "{report}");

    for ((q, tolerance), raw) in queries.iter().zip(&before) {
        let after = range(&server, q, from, to, "1h", "raw").await;
        assert_eq!(&after, raw, "{q}: raw answers change after compaction");
        for resolution in ["5m", "1h"] {
            let down = range(&server, q, from, to, "1h", resolution).await;
            assert_close(&format!("{q} at {resolution}"), raw, &down, *tolerance);
        }
        // auto: a 1 h step allows 12 m, so the 5 m data.
        let auto = range(&server, q, from, to, "1h", "auto").await;
        let five = range(&server, q, from, to, "1h", "5m").await;
        assert_eq!(auto, five, "{q}: auto picks 5m for a 1h step");
    }

    // A plain selector at a coarse step reads window averages and still finds a point per step.
    let plain = range(
        &server,
        "process_resident_memory_bytes",
        from,
        to,
        "6h",
        "1h",
    )
    .await;
    assert!(
        !plain.is_empty() && plain.iter().all(|(_, v)| v.len() >= 7),
        "{plain:?}"
    );

    // An instant query (raw by default) over compacted data answers as before.
    assert_eq!(instant_count(&server, start + DAY_MS).await, hosts_before);
}

async fn instant_count(server: &Server, t: i64) -> String {
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/query", server.url()))
        .query(&[
            ("query", "count(node_load1)"),
            ("time", &(t as f64 / 1000.0).to_string()),
        ])
        .send()
        .await
        .expect("instant");
    let body: Value = r.json().await.expect("json");
    body["data"]["result"][0]["value"][1]
        .as_str()
        .unwrap_or_default()
        .to_string()
}
