//! Tenancy isolation and the Prometheus HTTP API JSON shapes (`/api/v1/series`, `/labels`,
//! `/label/{name}/values`) at `/` and under `/prometheus/`, before and after a flush.

use architect_integration_tests::*;
use reqwest::StatusCode;
use serde_json::json;
use std::collections::BTreeMap;

/// `GET {prefix}/api/v1/series` with `params`, for the default tenant.
async fn get_series(
    url: &str,
    prefix: &str,
    params: &[(&str, &str)],
) -> (StatusCode, serde_json::Value) {
    get_json(url, &format!("{prefix}/api/v1/series"), None, params).await
}

fn labels_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test]
async fn tenants_see_only_their_own_data_before_and_after_flush() {
    let server = Server::start().await;
    let url = server.url();
    let t = now_ms() - 60_000;
    let common = [("__name__", "tenancy_metric"), ("job", "shared")];
    let a = write_request(vec![
        series(&common, &[(t, 1.0), (t + 1000, 1.5)]),
        series(
            &[("__name__", "tenancy_only_a"), ("only_a", "yes")],
            &[(t, 10.0)],
        ),
    ]);
    let b = write_request(vec![series(&common, &[(t, 2.0), (t + 1000, 2.5)])]);
    for (tenant, req) in [("team-a", &a), ("team-b", &b)] {
        let (status, body, _) = push_v1(&url, Some(tenant), req).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{tenant}: {body}");
    }
    let common_labels: LabelSet = common
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();

    for phase in ["head", "after flush"] {
        // Remote read.
        let read = |tenant: Option<&'static str>| {
            let url = url.clone();
            async move {
                series_map(
                    &remote_read(
                        &url,
                        tenant,
                        query(t - 1, t + 5000, vec![re("__name__", "tenancy_.*")]),
                    )
                    .await,
                )
            }
        };
        let got_a = read(Some("team-a")).await;
        let got_b = read(Some("team-b")).await;
        let got_default = read(None).await;
        assert_eq!(got_a.len(), 2, "{phase}: team-a series: {got_a:?}");
        assert_eq!(
            got_a.get(&common_labels),
            Some(&vec![(t, 1.0f64.to_bits()), (t + 1000, 1.5f64.to_bits())]),
            "{phase}"
        );
        assert_eq!(got_b.len(), 1, "{phase}: team-b series: {got_b:?}");
        assert_eq!(
            got_b.get(&common_labels),
            Some(&vec![(t, 2.0f64.to_bits()), (t + 1000, 2.5f64.to_bits())]),
            "{phase}"
        );
        assert!(
            got_default.is_empty(),
            "{phase}: the default tenant sees nothing: {got_default:?}"
        );

        // /api/v1/series.
        let sa = series_of(&url, Some("team-a"), r#"{__name__=~"tenancy_.*"}"#).await;
        let sb = series_of(&url, Some("team-b"), r#"{__name__=~"tenancy_.*"}"#).await;
        assert_eq!(
            sa,
            vec![
                labels_map(&common),
                labels_map(&[("__name__", "tenancy_only_a"), ("only_a", "yes")])
            ],
            "{phase}"
        );
        assert_eq!(sb, vec![labels_map(&common)], "{phase}");
        assert!(
            series_of(&url, Some("team-c"), r#"{__name__=~"tenancy_.*"}"#)
                .await
                .is_empty(),
            "{phase}"
        );

        // /api/v1/labels and label values.
        let la = label_names(&url, Some("team-a"), &[]).await;
        let lb = label_names(&url, Some("team-b"), &[]).await;
        assert_eq!(la, vec!["__name__", "job", "only_a"], "{phase}");
        assert_eq!(
            lb,
            vec!["__name__", "job"],
            "{phase}: team-b must not see team-a's label names"
        );
        assert_eq!(
            label_values(&url, Some("team-a"), "__name__").await,
            vec!["tenancy_metric", "tenancy_only_a"],
            "{phase}"
        );
        assert_eq!(
            label_values(&url, Some("team-b"), "__name__").await,
            vec!["tenancy_metric"],
            "{phase}"
        );
        assert!(
            label_values(&url, Some("team-b"), "only_a")
                .await
                .is_empty(),
            "{phase}"
        );
        assert!(
            label_names(&url, None, &[]).await.is_empty(),
            "{phase}: default tenant"
        );

        if phase == "head" {
            let stats = server.flush().await;
            assert!(
                stats["blocks"].as_u64().unwrap_or(0) >= 2,
                "one block per tenant at least: {stats}"
            );
        }
    }

    // A bad tenant id on the query side is refused in Prometheus' JSON envelope.
    let (status, json) = get_json(&url, "/api/v1/labels", Some("a/b"), &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{json}");
    assert_eq!(json["status"], "error");
    assert_eq!(json["errorType"], "bad_data");
}

#[tokio::test]
async fn prometheus_api_json_shapes_at_root_and_under_prometheus() {
    let server = Server::start().await;
    let url = server.url();
    let t = now_ms() - 30_000;
    let req = write_request(vec![
        series(
            &[("__name__", "json_test"), ("instance", "i1"), ("job", "a")],
            &[(t, 1.0)],
        ),
        series(
            &[("__name__", "json_test"), ("instance", "i2"), ("job", "b")],
            &[(t, 2.0)],
        ),
        series(
            &[("__name__", "other_metric"), ("job", "c"), ("zone", "z1")],
            &[(t, 3.0)],
        ),
    ]);
    let (status, body, _) = push_v1(&url, None, &req).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    for prefix in ["", "/prometheus"] {
        let p = |path: &str| format!("{prefix}{path}");
        // series: exact envelope.
        let (status, json) = get_series(&url, prefix, &[("match[]", "json_test")]).await;
        assert_eq!(status, StatusCode::OK, "{prefix}: {json}");
        assert_eq!(
            json,
            json!({"status": "success", "data": [
                {"__name__": "json_test", "instance": "i1", "job": "a"},
                {"__name__": "json_test", "instance": "i2", "job": "b"},
            ]}),
            "{prefix}"
        );
        // limit: the first series in order, and Prometheus' warning text (which Grafana
        // recognises); limit=0 is no limit.
        let (status, json) =
            get_series(&url, prefix, &[("match[]", "json_test"), ("limit", "1")]).await;
        assert_eq!(status, StatusCode::OK, "{prefix}: {json}");
        assert_eq!(
            json,
            json!({"status": "success", "data": [
                {"__name__": "json_test", "instance": "i1", "job": "a"},
            ], "warnings": ["results truncated due to limit"]}),
            "{prefix}"
        );
        let (_, json) = get_series(&url, prefix, &[("match[]", "json_test"), ("limit", "0")]).await;
        assert_eq!(
            json["data"].as_array().map(Vec::len),
            Some(2),
            "{prefix}: {json}"
        );
        assert!(json.get("warnings").is_none(), "{prefix}: {json}");
        // Two match[] are a union; a regex and an or-less selector.
        let (_, json) = get_series(
            &url,
            prefix,
            &[
                ("match[]", r#"json_test{job="a"}"#),
                ("match[]", r#"{zone=~"z.*"}"#),
            ],
        )
        .await;
        assert_eq!(
            json["data"].as_array().map(Vec::len),
            Some(2),
            "{prefix}: {json}"
        );
        // Form POST.
        let (status, json) = post_form_json(
            &url,
            &p("/api/v1/series"),
            None,
            &[("match[]", r#"{job="c"}"#)],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{prefix}: {json}");
        assert_eq!(
            json["data"],
            json!([{"__name__": "other_metric", "job": "c", "zone": "z1"}]),
            "{prefix}"
        );
        // start/end outside the data: nothing.
        let (_, json) = get_series(
            &url,
            prefix,
            &[("match[]", "json_test"), ("start", "1000"), ("end", "2000")],
        )
        .await;
        assert_eq!(json, json!({"status": "success", "data": []}), "{prefix}");

        // Missing match[]: 400 bad_data.
        let (status, json) = get_series(&url, prefix, &[]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{prefix}: {json}");
        assert_eq!(json["status"], "error", "{prefix}: {json}");
        assert_eq!(json["errorType"], "bad_data", "{prefix}: {json}");
        assert!(
            json["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{prefix}: {json}"
        );
        // A malformed selector and a bad time: 400 bad_data too.
        for params in [
            vec![("match[]", "json_test{")],
            vec![("match[]", "json_test"), ("start", "yesterday")],
        ] {
            let (status, json) = get_series(&url, prefix, &params).await;
            assert_eq!(
                status,
                StatusCode::BAD_REQUEST,
                "{prefix} {params:?}: {json}"
            );
            assert_eq!(json["errorType"], "bad_data", "{prefix} {params:?}: {json}");
        }

        // labels: sorted, exact.
        let (status, json) = get_json(&url, &p("/api/v1/labels"), None, &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            json,
            json!({"status": "success", "data": ["__name__", "instance", "job", "zone"]}),
            "{prefix}"
        );
        let (_, json) = get_json(
            &url,
            &p("/api/v1/labels"),
            None,
            &[("match[]", "other_metric")],
        )
        .await;
        assert_eq!(json["data"], json!(["__name__", "job", "zone"]), "{prefix}");
        let (_, json) = post_form_json(
            &url,
            &p("/api/v1/labels"),
            None,
            &[("match[]", "json_test")],
        )
        .await;
        assert_eq!(
            json["data"],
            json!(["__name__", "instance", "job"]),
            "{prefix}"
        );

        // label values: sorted, exact.
        let (status, json) = get_json(&url, &p("/api/v1/label/job/values"), None, &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            json,
            json!({"status": "success", "data": ["a", "b", "c"]}),
            "{prefix}"
        );
        let (_, json) = get_json(&url, &p("/api/v1/label/__name__/values"), None, &[]).await;
        assert_eq!(
            json["data"],
            json!(["json_test", "other_metric"]),
            "{prefix}"
        );
        let (_, json) = get_json(
            &url,
            &p("/api/v1/label/job/values"),
            None,
            &[("match[]", "json_test")],
        )
        .await;
        assert_eq!(json["data"], json!(["a", "b"]), "{prefix}");
        let (_, json) = get_json(&url, &p("/api/v1/label/nonexistent/values"), None, &[]).await;
        assert_eq!(json, json!({"status": "success", "data": []}), "{prefix}");
    }

    // The same answers once the data is in blocks.
    server.flush().await;
    let (_, json) = get_json(
        &url,
        "/prometheus/api/v1/series",
        None,
        &[("match[]", r#"{__name__=~".+"}"#)],
    )
    .await;
    assert_eq!(json["data"].as_array().map(Vec::len), Some(3), "{json}");
    assert_eq!(
        label_names(&url, None, &[]).await,
        vec!["__name__", "instance", "job", "zone"]
    );
    assert_eq!(label_values(&url, None, "job").await, vec!["a", "b", "c"]);
}

#[tokio::test]
async fn health_readiness_and_self_metrics() {
    let server = Server::start().await;
    let url = server.url();
    for path in ["/-/healthy", "/-/ready"] {
        let r = reqwest::get(format!("{url}{path}")).await.expect("GET");
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
    let r = reqwest::get(format!("{url}/metrics"))
        .await
        .expect("GET /metrics");
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.expect("metrics text");
    assert!(
        text.contains("architect_ingester_samples_ingested"),
        "{text}"
    );
    assert!(
        text.trim_end().ends_with("# EOF"),
        "OpenMetrics text ends with # EOF: {text}"
    );
    // Object-store requests: a flush writes a block (PUTs), a query over it reads it (GETs).
    let requests = |text: &str, op: &str| -> u64 {
        let prefix = format!("architect_object_store_requests_total{{operation=\"{op}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {op} count in {text}"))
    };
    let before = (requests(&text, "put"), requests(&text, "get"));
    let t = now_ms() - 30_000;
    let req = write_request(vec![series(
        &[("__name__", "counted"), ("job", "a")],
        &[(t, 1.0)],
    )]);
    let (status, body, _) = push_v1(&url, None, &req).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    server.flush().await;
    let text = metrics_text(&url).await;
    let flushed = (requests(&text, "put"), requests(&text, "get"));
    assert!(
        flushed.0 > before.0,
        "a flush PUTs: {before:?} -> {flushed:?}"
    );
    let (status, json) = get_json(
        &url,
        "/api/v1/query",
        None,
        &[
            ("query", "counted"),
            ("time", &format!("{:.3}", t as f64 / 1000.0)),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(
        json["data"]["result"].as_array().map(Vec::len),
        Some(1),
        "{json}"
    );
    let queried = requests(&metrics_text(&url).await, "get");
    assert!(
        queried > flushed.1,
        "a query of a block GETs: {flushed:?} -> {queried}"
    );
}

async fn metrics_text(url: &str) -> String {
    let r = reqwest::get(format!("{url}/metrics"))
        .await
        .expect("GET /metrics");
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.expect("metrics text")
}
