//! `architect serve` on S3 + DynamoDB (the emulator from `architect-testkit`: moto server, or
//! whatever `AWS_ENDPOINT_URL` points at): the round trip — remote_write 1.0 in, flush, then
//! remote read, `/api/v1/series` and `/api/v1/query` return exactly what was written — with the
//! objects checked in the bucket and the catalog items in the table, read again after a restart
//! and by a fresh server that has only S3 and DynamoDB (no WAL), for two tenants that must not
//! see each other; and a bad remote_write body gets the same 400 as in embedded mode.
//! Without an emulator the tests skip loudly (and fail under `CI=true`).

use architect_integration_tests::*;
use architect_testkit::Emulator;
use reqwest::StatusCode;
use std::collections::BTreeMap;

/// A `serve` configuration whose storage is the emulator's `bucket` and `table`.
fn config_yaml(emulator: &Emulator, bucket: &str, table: &str) -> String {
    format!(
        "storage:\n  objects:\n    type: s3\n    bucket: {bucket}\n    path_style: true\n  index:\n    type: dynamodb\n    table: {table}\n  aws:\n    endpoint: {endpoint}\n    region: {region}\n    access_key_id: testing\n    secret_access_key: testing\n",
        endpoint = emulator.endpoint(),
        region = emulator.region(),
    )
}

async fn emulator_with_storage(test: &str) -> Option<(Emulator, String, String)> {
    let emulator = Emulator::start_or_skip(test).await?;
    let bucket = emulator.create_bucket("e2e").await.expect("bucket");
    let table = emulator.create_table("e2e").await.expect("table");
    Some((emulator, bucket, table))
}

fn labels_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn label_set_of(pairs: &[(&str, &str)]) -> LabelSet {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// What each tenant writes: `(labels, samples)`. No `-0.0`: prost (proto3) leaves a double
/// that compares equal to 0.0 off the wire, so remote_write 1.0 encoded here cannot carry it.
type Written = Vec<(Vec<(&'static str, &'static str)>, Vec<(i64, f64)>)>;

fn written(t: i64) -> [(&'static str, Written); 2] {
    [
        (
            "team-a",
            vec![
                (
                    vec![
                        ("__name__", "emulated_metric"),
                        ("job", "api"),
                        ("zone", "a"),
                    ],
                    vec![(t, 1.0), (t + 15_000, 1.5), (t + 30_000, 0.1 + 0.2)],
                ),
                (
                    vec![
                        ("__name__", "emulated_metric"),
                        ("job", "db"),
                        ("zone", "a"),
                    ],
                    vec![(t, -2.5), (t + 15_000, 1e300), (t + 30_000, 42.0)],
                ),
                (
                    vec![("__name__", "emulated_only_a"), ("job", "api")],
                    vec![(t, 7.0), (t + 30_000, 8.0)],
                ),
            ],
        ),
        (
            "team-b",
            vec![(
                vec![
                    ("__name__", "emulated_metric"),
                    ("job", "api"),
                    ("zone", "b"),
                ],
                vec![(t, 100.0), (t + 15_000, 200.0), (t + 30_000, 300.0)],
            )],
        ),
    ]
}

/// Remote read, `/api/v1/series` and `/api/v1/query` of every tenant return exactly what it
/// wrote, and nothing of the other tenant.
async fn check_reads(url: &str, t: i64, phase: &str) {
    for (tenant, series_written) in written(t) {
        let want: SeriesMap = series_written
            .iter()
            .map(|(labels, samples)| {
                (
                    label_set_of(labels),
                    samples.iter().map(|(t, v)| (*t, v.to_bits())).collect(),
                )
            })
            .collect();
        let got = series_map(
            &remote_read(
                url,
                Some(tenant),
                query(t - 1, t + 60_000, vec![re("__name__", "emulated_.*")]),
            )
            .await,
        );
        assert_eq!(got, want, "{phase}: remote read of {tenant}");

        let mut got = series_of(url, Some(tenant), r#"{__name__=~"emulated_.*"}"#).await;
        got.sort();
        let mut want: Vec<BTreeMap<String, String>> = series_written
            .iter()
            .map(|(labels, _)| labels_map(labels))
            .collect();
        want.sort();
        assert_eq!(got, want, "{phase}: /api/v1/series of {tenant}");

        // Instant query at the last sample: each series' last value, exactly.
        let at = ((t + 30_000) as f64 / 1000.0).to_string();
        let (status, json) = get_json(
            url,
            "/api/v1/query",
            Some(tenant),
            &[("query", "emulated_metric"), ("time", &at)],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{phase}: query of {tenant}: {json}");
        assert_eq!(json["data"]["resultType"], "vector", "{json}");
        let mut got: Vec<(BTreeMap<String, String>, String)> = json["data"]["result"]
            .as_array()
            .unwrap_or_else(|| panic!("{phase}: query result is not an array: {json}"))
            .iter()
            .map(|r| {
                let labels: BTreeMap<String, String> =
                    serde_json::from_value(r["metric"].clone()).expect("metric labels");
                (
                    labels,
                    r["value"][1].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        got.sort();
        let mut want: Vec<(BTreeMap<String, String>, String)> = series_written
            .iter()
            .filter(|(labels, _)| labels[0].1 == "emulated_metric")
            .map(|(labels, samples)| {
                let value = samples.last().map_or(f64::NAN, |s| s.1);
                (labels_map(labels), prometheus_float(value))
            })
            .collect();
        want.sort();
        assert_eq!(got, want, "{phase}: /api/v1/query of {tenant}");
    }
    // A tenant that wrote nothing sees nothing.
    assert!(
        series_of(url, Some("team-c"), r#"{__name__=~"emulated_.*"}"#)
            .await
            .is_empty(),
        "{phase}: team-c"
    );
}

/// Prometheus' JSON rendering of a float (Go's `strconv.FormatFloat(v, 'f', -1, 64)` for the
/// values this test uses).
fn prometheus_float(v: f64) -> String {
    if v == 0.0 && v.is_sign_negative() {
        return "-0".into();
    }
    if v.abs() >= 1e21 {
        // Go switches to exponent form for large numbers: 1e+300.
        let s = format!("{v:e}");
        return s.replace('e', "e+");
    }
    format!("{v}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_on_s3_and_dynamodb_survives_a_fresh_server_and_isolates_tenants() {
    let Some((emulator, bucket, table)) = emulator_with_storage("emulated round trip").await else {
        return;
    };
    let yaml = config_yaml(&emulator, &bucket, &table);
    let t = (now_ms() - 600_000) / 1000 * 1000;

    let mut server = Server::start_with_config(&yaml).await;
    let url = server.url();
    for (tenant, series_written) in written(t) {
        let req = write_request(
            series_written
                .iter()
                .map(|(labels, samples)| series(labels, samples))
                .collect(),
        );
        let (status, body, _) = push_v1(&url, Some(tenant), &req).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{tenant}: {body}");
    }
    check_reads(&url, t, "head").await;
    let stats = server.flush().await;
    assert!(
        stats["blocks"].as_u64().unwrap_or(0) >= 2,
        "one block per tenant at least: {stats}"
    );
    check_reads(&url, t, "after flush").await;

    // The blocks are in the bucket and catalogued in the table.
    let s3 = emulator.s3();
    for tenant in ["team-a", "team-b"] {
        let listed = s3
            .list_objects_v2()
            .bucket(&bucket)
            .prefix(format!("{tenant}/metrics/"))
            .send()
            .await
            .expect("ListObjectsV2");
        let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
        assert!(
            keys.iter().any(|k| k.ends_with(".series.parquet"))
                && keys.iter().filter(|k| k.ends_with(".parquet")).count() >= 2,
            "{tenant}: block objects in the bucket: {keys:?}"
        );
        assert!(
            keys.iter().all(|k| k.ends_with(".parquet")),
            "{tenant}: nothing but block objects (no staging leftovers): {keys:?}"
        );
    }
    let scanned = emulator
        .dynamodb()
        .scan()
        .table_name(&table)
        .send()
        .await
        .expect("Scan");
    let keys: Vec<(String, String)> = scanned
        .items()
        .iter()
        .map(|item| {
            let s = |k: &str| {
                item.get(k)
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default()
            };
            (s("pk"), s("sk"))
        })
        .collect();
    for tenant in ["team-a", "team-b"] {
        assert!(
            keys.iter()
                .any(|(pk, sk)| pk.starts_with(&format!("{tenant}#metrics#"))
                    && sk.starts_with("block#")),
            "{tenant}: a block catalog item in the table: {keys:?}"
        );
        assert!(
            keys.iter()
                .any(|(pk, sk)| pk == &format!("{tenant}#metrics") && sk.starts_with("day#")),
            "{tenant}: a day item in the table: {keys:?}"
        );
    }
    // Restarted on the same data directory (the WAL holds nothing unflushed).
    server.restart().await;
    check_reads(&server.url(), t, "restarted").await;
    drop(server);

    // A fresh server (new data directory: no WAL, no local state) on the same storage reads
    // everything from S3 and DynamoDB.
    let fresh = Server::start_with_config(&yaml).await;
    check_reads(&fresh.url(), t, "fresh server").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_remote_write_gets_the_same_400_as_embedded_mode() {
    let Some((emulator, bucket, table)) = emulator_with_storage("emulated bad write").await else {
        return;
    };
    let emulated = Server::start_with_config(&config_yaml(&emulator, &bucket, &table)).await;
    let embedded = Server::start().await;
    let client = reqwest::Client::new();
    let bad_bodies: [(&str, Vec<u8>); 2] = [
        (
            "bad snappy",
            b"\xff\xff\xff\xff\xff this is not snappy".to_vec(),
        ),
        (
            "snappy but not protobuf",
            architect_protocols::snappy::compress(b"\x0a\xff\xff\xff\xff not a WriteRequest"),
        ),
    ];
    for (what, body) in bad_bodies {
        let mut answers = Vec::new();
        for server in [&emulated, &embedded] {
            let (status, text, _) = post_write(
                &client,
                &server.url(),
                Some("team-a"),
                Some(CT_V1),
                Some("snappy"),
                body.clone(),
            )
            .await
            .expect("remote_write request");
            answers.push((status, text));
        }
        assert_eq!(answers[0].0, StatusCode::BAD_REQUEST, "{what}: {answers:?}");
        assert_eq!(answers[0], answers[1], "{what}: emulated vs embedded");
    }
    // Nothing was stored.
    let stats = emulated.flush().await;
    assert_eq!(stats["blocks"].as_u64().unwrap_or(0), 0, "{stats}");
}
