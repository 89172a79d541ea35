//! The Prometheus query API against a running `architect serve`: every result type in
//! Prometheus's JSON shape, GET and form POST, at `/` and under `/prometheus`, each error type
//! with its status, annotations, `stats`, the status endpoints Grafana probes, and a query over
//! the sample limit failing cleanly while the server stays up.

use architect_integration_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn load(url: &str, t0: i64) {
    let mut all = Vec::new();
    for (instance, base) in [("a", 1.0), ("b", 10.0)] {
        let samples: Vec<(i64, f64)> = (0..60)
            .map(|i| (t0 + i * 15_000, base + i as f64))
            .collect();
        all.push(series(
            &[
                ("__name__", "api_requests_total"),
                ("instance", instance),
                ("job", "api"),
            ],
            &samples,
        ));
        all.push(series(
            &[("__name__", "api_temperature"), ("instance", instance)],
            &samples,
        ));
    }
    let (status, body, _) = push_v1(url, None, &write_request(all)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

fn secs(ms: i64) -> String {
    format!("{}", ms as f64 / 1000.0)
}

#[tokio::test]
async fn result_types_in_prometheus_shapes_get_and_post_at_both_prefixes() {
    let server = Server::start().await;
    let url = server.url();
    let t0 = (now_ms() / 60_000 - 30) * 60_000;
    load(&url, t0).await;
    let at = secs(t0 + 10 * 60_000);

    for prefix in ["", "/prometheus"] {
        let path = format!("{prefix}/api/v1/query");
        for post in [false, true] {
            let params = [
                ("query", "api_requests_total{instance=\"a\"}"),
                ("time", at.as_str()),
            ];
            let (status, body) = if post {
                post_form_json(&url, &path, None, &params).await
            } else {
                get_json(&url, &path, None, &params).await
            };
            assert_eq!(status, StatusCode::OK, "{body}");
            assert_eq!(
                body,
                json!({
                    "status": "success",
                    "data": {
                        "resultType": "vector",
                        "result": [{
                            "metric": {"__name__": "api_requests_total", "instance": "a", "job": "api"},
                            "value": [(t0 + 600_000) / 1000, "41"]
                        }]
                    }
                }),
                "{prefix} post={post}"
            );
        }
    }

    // Scalar and string results.
    let (_, body) = get_json(
        &url,
        "/api/v1/query",
        None,
        &[("query", "1 + 1"), ("time", "100.5")],
    )
    .await;
    assert_eq!(
        body["data"],
        json!({"resultType": "scalar", "result": [100.5, "2"]})
    );
    let (_, body) = get_json(
        &url,
        "/api/v1/query",
        None,
        &[("query", "\"hi\""), ("time", "7")],
    )
    .await;
    assert_eq!(
        body["data"],
        json!({"resultType": "string", "result": [7, "hi"]})
    );

    // A range selector in an instant query is a matrix of raw samples.
    let (_, body) = get_json(
        &url,
        "/api/v1/query",
        None,
        &[
            ("query", "api_temperature{instance=\"b\"}[1m]"),
            ("time", &at),
        ],
    )
    .await;
    assert_eq!(body["data"]["resultType"], "matrix");
    let values = body["data"]["result"][0]["values"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(values.len(), 4, "{body}");
    assert_eq!(values[3], json!([(t0 + 600_000) / 1000, "50"]));

    // Range query: a sorted matrix, one point per step, name dropped by rate.
    let (status, body) = post_form_json(
        &url,
        "/prometheus/api/v1/query_range",
        None,
        &[
            ("query", "rate(api_requests_total[2m])"),
            ("start", &secs(t0 + 5 * 60_000)),
            ("end", &secs(t0 + 10 * 60_000)),
            ("step", "1m"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let result = body["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(result.len(), 2, "{body}");
    assert_eq!(result[0]["metric"], json!({"instance": "a", "job": "api"}));
    assert_eq!(result[1]["metric"], json!({"instance": "b", "job": "api"}));
    let points = result[0]["values"].as_array().cloned().unwrap_or_default();
    assert_eq!(points.len(), 6);
    for p in points {
        let v: f64 = p[1].as_str().unwrap_or("").parse().unwrap_or(f64::NAN);
        assert!((v - 1.0 / 15.0).abs() < 1e-12, "rate {v}");
    }

    // Annotations: rate of a gauge-like name is an info; stats on request.
    let (_, body) = get_json(
        &url,
        "/api/v1/query",
        None,
        &[
            ("query", "rate(api_temperature[5m])"),
            ("time", &at),
            ("stats", "all"),
        ],
    )
    .await;
    let infos = body["infos"].as_array().cloned().unwrap_or_default();
    assert_eq!(infos.len(), 1, "{body}");
    assert!(
        infos[0]
            .as_str()
            .unwrap_or("")
            .starts_with("PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"api_temperature\""),
        "{body}"
    );
    assert!(
        body["data"]["stats"]["samples"]["totalQueryableSamples"]
            .as_u64()
            .unwrap_or(0)
            > 0,
        "{body}"
    );
    assert!(body.get("warnings").is_none(), "{body}");
}

/// Path, parameters, expected status, `errorType`, and a part of the message.
type ErrorCase<'a> = (
    &'a str,
    Vec<(&'a str, String)>,
    StatusCode,
    &'a str,
    &'a str,
);

#[tokio::test]
async fn errors_have_prometheus_types_and_statuses() {
    let server = Server::start().await;
    let url = server.url();
    let t0 = (now_ms() / 60_000 - 30) * 60_000;
    load(&url, t0).await;
    let at = secs(t0 + 10 * 60_000);
    let cases: Vec<ErrorCase<'_>> = vec![
        (
            "/api/v1/query",
            vec![("query", "sum(".into())],
            StatusCode::BAD_REQUEST,
            "bad_data",
            "invalid parameter \"query\"",
        ),
        (
            "/api/v1/query",
            vec![],
            StatusCode::BAD_REQUEST,
            "bad_data",
            "query",
        ),
        (
            "/api/v1/query",
            vec![("query", "up".into()), ("time", "yesterday".into())],
            StatusCode::BAD_REQUEST,
            "bad_data",
            "invalid parameter \"time\"",
        ),
        (
            "/api/v1/query_range",
            vec![
                ("query", "up".into()),
                ("start", "10".into()),
                ("end", "5".into()),
                ("step", "1".into()),
            ],
            StatusCode::BAD_REQUEST,
            "bad_data",
            "end timestamp must not be before start time",
        ),
        (
            "/api/v1/query_range",
            vec![
                ("query", "up".into()),
                ("start", "0".into()),
                ("end", "5".into()),
                ("step", "0".into()),
            ],
            StatusCode::BAD_REQUEST,
            "bad_data",
            "zero or negative query resolution step widths are not accepted",
        ),
        (
            "/api/v1/query_range",
            vec![
                ("query", "up".into()),
                ("start", "0".into()),
                ("end", "100000".into()),
                ("step", "1".into()),
            ],
            StatusCode::BAD_REQUEST,
            "bad_data",
            "exceeded maximum resolution of 11,000 points per timeseries",
        ),
        (
            "/api/v1/query_range",
            vec![
                ("query", "up[5m]".into()),
                ("start", "0".into()),
                ("end", "60".into()),
                ("step", "15".into()),
            ],
            StatusCode::BAD_REQUEST,
            "bad_data",
            "invalid expression type \"range vector\" for range query",
        ),
        (
            "/api/v1/query",
            vec![
                ("query", "api_requests_total + on() api_temperature".into()),
                ("time", at.clone()),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
            "execution",
            "many-to-many matching not allowed",
        ),
        (
            "/api/v1/query",
            vec![
                ("query", "topk(scalar(vector(NaN)), api_temperature)".into()),
                ("time", at.clone()),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
            "execution",
            "Parameter value is NaN",
        ),
        (
            "/api/v1/query",
            vec![
                ("query", "api_temperature".into()),
                ("time", at.clone()),
                ("timeout", "0.000001".into()),
            ],
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "query timed out",
        ),
    ];
    for (path, params, status, error_type, needle) in cases {
        let p: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        for post in [false, true] {
            let (got, body) = if post {
                post_form_json(&url, path, None, &p).await
            } else {
                get_json(&url, path, None, &p).await
            };
            assert_eq!(got, status, "{path} {p:?}: {body}");
            assert_eq!(body["status"], "error", "{body}");
            assert_eq!(body["errorType"], error_type, "{path} {p:?}: {body}");
            assert!(
                body["error"].as_str().unwrap_or("").contains(needle),
                "{path} {p:?}: {body}"
            );
        }
    }
}

#[tokio::test]
async fn a_query_over_the_sample_limit_fails_and_the_server_stays_up() {
    let server = Server::start_with_config("query:\n  max_samples: 50\n").await;
    let url = server.url();
    let t0 = (now_ms() / 60_000 - 30) * 60_000;
    load(&url, t0).await;
    let (status, body) = get_json(
        &url,
        "/api/v1/query_range",
        None,
        &[
            ("query", "api_requests_total"),
            ("start", &secs(t0)),
            ("end", &secs(t0 + 15 * 60_000)),
            ("step", "15"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errorType"], "execution");
    assert_eq!(
        body["error"],
        "query processing would load too many samples into memory in query execution"
    );
    // Still serving, and a small query works.
    let (status, body) = get_json(
        &url,
        "/api/v1/query",
        None,
        &[
            ("query", "api_requests_total{instance=\"a\"}"),
            ("time", &secs(t0 + 60_000)),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["result"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn status_endpoints_and_format_query() {
    let server = Server::start().await;
    let url = server.url();
    for prefix in ["", "/prometheus"] {
        let (status, body) = get_json(
            &url,
            &format!("{prefix}/api/v1/status/buildinfo"),
            None,
            &[],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let version = body["data"]["version"].as_str().unwrap_or("");
        assert!(version.starts_with("3."), "{body}");
        let (status, body) =
            get_json(&url, &format!("{prefix}/api/v1/status/config"), None, &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            body["data"]["yaml"]
                .as_str()
                .unwrap_or("")
                .contains("global:"),
            "{body}"
        );
        let (status, body) =
            get_json(&url, &format!("{prefix}/api/v1/status/flags"), None, &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"]["query.lookback-delta"], "300s");
        let (status, body) = post_form_json(
            &url,
            &format!("{prefix}/api/v1/format_query"),
            None,
            &[("query", "sum(rate(foo[5m]))by(job)")],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"], Value::from("sum by (job) (rate(foo[5m]))"));
    }
}

#[tokio::test]
async fn metadata_and_exemplars_read_back_before_and_after_flush() {
    use architect_protocols::prompb;
    let server = Server::start().await;
    let url = server.url();
    let t0 = (now_ms() / 60_000 - 30) * 60_000;
    let mut s = series(
        &[("__name__", "ex_requests_total"), ("job", "api")],
        &[(t0, 1.0), (t0 + 15_000, 2.0)],
    );
    s.exemplars = vec![prompb::Exemplar {
        labels: vec![prompb::Label::new("trace_id", "abc123")],
        value: 0.25,
        timestamp: t0 + 15_000,
    }];
    let mut req = write_request(vec![s]);
    req.metadata = vec![prompb::MetricMetadata {
        r#type: 1,
        metric_family_name: "ex_requests_total".into(),
        help: "Requests served.".into(),
        unit: String::new(),
    }];
    let (status, body, _) = push_v1(&url, None, &req).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    for phase in ["head", "after flush"] {
        let (status, body) = get_json(&url, "/api/v1/metadata", None, &[]).await;
        assert_eq!(status, StatusCode::OK, "{phase}: {body}");
        assert_eq!(
            body["data"]["ex_requests_total"],
            json!([{"type": "counter", "help": "Requests served.", "unit": ""}]),
            "{phase}: {body}"
        );
        let (status, body) = post_form_json(
            &url,
            "/prometheus/api/v1/query_exemplars",
            None,
            &[
                ("query", "rate(ex_requests_total{job=\"api\"}[5m])"),
                ("start", &secs(t0 - 60_000)),
                ("end", &secs(t0 + 60_000)),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{phase}: {body}");
        assert_eq!(
            body["data"],
            json!([{
                "seriesLabels": {"__name__": "ex_requests_total", "job": "api"},
                "exemplars": [{"labels": {"trace_id": "abc123"}, "value": "0.25", "timestamp": (t0 + 15_000) / 1000}]
            }]),
            "{phase}: {body}"
        );
        if phase == "head" {
            server.flush().await;
        }
    }
}

#[tokio::test]
async fn native_histograms_are_returned_by_selectors_and_functions() {
    use architect_protocols::prompb::{self, histogram};
    let server = Server::start().await;
    let url = server.url();
    let t0 = (now_ms() / 60_000 - 30) * 60_000;
    // Schema 0, zero bucket 1, positive buckets [0.5,1]:2 (1,2]:3 — integer deltas [2, 1].
    let hist = |t: i64, k: u64| prompb::Histogram {
        count: Some(histogram::Count::CountInt(6 * k)),
        sum: 10.0 * k as f64,
        schema: 0,
        zero_threshold: 0.001,
        zero_count: Some(histogram::ZeroCount::ZeroCountInt(k)),
        positive_spans: vec![prompb::BucketSpan {
            offset: 0,
            length: 2,
        }],
        positive_deltas: vec![2 * k as i64, k as i64],
        timestamp: t,
        ..Default::default()
    };
    let mut s = series(&[("__name__", "nh_seconds"), ("job", "api")], &[]);
    s.histograms = (0..20)
        .map(|i| hist(t0 + i * 15_000, i as u64 + 1))
        .collect();
    let (status, body, _) = push_v1(&url, None, &write_request(vec![s])).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let at = secs(t0 + 19 * 15_000);
    for phase in ["head", "after flush"] {
        let (status, body) = get_json(
            &url,
            "/api/v1/query",
            None,
            &[("query", "nh_seconds"), ("time", &at)],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{phase}: {body}");
        let h = &body["data"]["result"][0]["histogram"];
        assert_eq!(h[1]["count"], "120", "{phase}: {body}");
        assert_eq!(h[1]["sum"], "200", "{phase}: {body}");
        assert_eq!(
            h[1]["buckets"],
            json!([
                [3, "-0.001", "0.001", "20"],
                [0, "0.5", "1", "40"],
                [0, "1", "2", "60"]
            ]),
            "{phase}: {body}"
        );
        let (_, body) = get_json(
            &url,
            "/api/v1/query",
            None,
            &[
                ("query", "histogram_count(rate(nh_seconds[1m]))"),
                ("time", &at),
            ],
        )
        .await;
        let v: f64 = body["data"]["result"][0]["value"][1]
            .as_str()
            .unwrap_or("")
            .parse()
            .unwrap_or(f64::NAN);
        assert!(
            (v - 0.4).abs() < 1e-9,
            "{phase}: rate of count 6 per 15 s: {body}"
        );
        if phase == "head" {
            server.flush().await;
        }
    }
}

#[tokio::test]
async fn promtool_queries_it() {
    let Some(promtool) = require_binary("promtool") else {
        return;
    };
    let server = Server::start().await;
    let url = server.url();
    let t0 = (now_ms() / 60_000 - 30) * 60_000;
    load(&url, t0).await;
    let out = std::process::Command::new(&promtool)
        .args([
            "query",
            "instant",
            "--time",
            &secs(t0 + 10 * 60_000),
            &url,
            "sum by (job) (api_requests_total)",
        ])
        .output()
        .expect("run promtool");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains("{job=\"api\"} => 91"), "{stdout}");
    let out = std::process::Command::new(&promtool)
        .args([
            "query",
            "range",
            "--start",
            &secs(t0 + 5 * 60_000),
            "--end",
            &secs(t0 + 10 * 60_000),
            "--step",
            "1m",
            &url,
            "rate(api_requests_total[2m])",
        ])
        .output()
        .expect("run promtool");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout.matches(" @[").count(), 12, "{stdout}");
}
