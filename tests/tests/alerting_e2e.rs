//! Rules end to end, as a user runs them: a group uploaded through the Mimir ruler API, data
//! remote-written, the alert pending then firing in `/api/v1/rules` and `/api/v1/alerts`, the
//! notification delivered by a real Alertmanager (Debian's) to a local webhook, and the
//! resolution following once the data recovers. Another tenant sees none of it.

use architect_integration_tests::alerting::*;
use architect_integration_tests::*;
use reqwest::StatusCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const GROUP: &str = r#"name: availability
interval: 1s
rules:
  - record: job:up:sum
    expr: sum by (job) (up)
  - alert: InstanceDown
    expr: up == 0
    for: 3s
    labels:
      severity: page
    annotations:
      summary: "{{ $labels.instance }} of {{ $labels.job }} is down"
      value: "{{ $value }}"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_fires_through_alertmanager_and_resolves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let received: Received = Arc::default();
    let hook = format!("{}/hook", webhook_sink(Arc::clone(&received)).await);
    let am_config = format!(
        "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n- name: hook\n  webhook_configs:\n  - url: {hook}\n    send_resolved: true\n"
    );
    let Some((_am, am_url)) = start_alertmanager(dir.path(), &am_config) else {
        return;
    };
    wait_ready(&am_url).await;
    let server = Server::start_with_config(&format!(
        "ruler:\n  poll_interval_ms: 250\n  external_url: http://architect.test\n  external_labels: {{cluster: e2e}}\n  alertmanager_urls: [{am_url}]\n"
    ))
    .await;
    let url = server.url();
    let tenant = Some("team-a");

    // Upload through the ruler API (under /prometheus, as Grafana's Mimir data source does).
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{url}/prometheus/config/v1/rules/prod"))
        .header("X-Scope-OrgID", "team-a")
        .header("Content-Type", "application/yaml")
        .body(GROUP)
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let listed = client
        .get(format!("{url}/config/v1/rules"))
        .header("X-Scope-OrgID", "team-a")
        .send()
        .await
        .expect("list");
    assert_eq!(listed.status(), StatusCode::OK);
    let yaml = listed.text().await.expect("body");
    assert!(
        yaml.contains("prod:") && yaml.contains("InstanceDown"),
        "{yaml}"
    );
    // Listed at once, not yet evaluated.
    let (status, rules) = get_json(&url, "/api/v1/rules", tenant, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rules["data"]["groups"][0]["name"], "availability");
    assert_eq!(rules["data"]["groups"][0]["file"], "prod");
    assert_eq!(rules["data"]["groups"][0]["interval"], 1.0);

    // Data: one instance down, pushed every 250 ms until it recovers.
    let down = Arc::new(AtomicBool::new(true));
    let pusher = {
        let url = url.clone();
        let down = Arc::clone(&down);
        tokio::spawn(async move {
            loop {
                let v = if down.load(Ordering::SeqCst) {
                    0.0
                } else {
                    1.0
                };
                let t = now_ms();
                let req = write_request(vec![
                    series(
                        &[("__name__", "up"), ("instance", "w1:80"), ("job", "web")],
                        &[(t, v)],
                    ),
                    series(
                        &[("__name__", "up"), ("instance", "w2:80"), ("job", "web")],
                        &[(t, 1.0)],
                    ),
                ]);
                let answer = push_v1(&url, Some("team-a"), &req).await;
                assert!(answer.0.is_success(), "{answer:?}");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };

    // Pending first, then firing, as /api/v1/alerts reports.
    eventually("a pending alert", 30, || async {
        let (_, v) = get_json(&url, "/api/v1/alerts", tenant, &[]).await;
        (v["data"]["alerts"][0]["state"] == "pending").then_some(())
    })
    .await;
    let alert = eventually("a firing alert", 30, || async {
        let (_, v) = get_json(&url, "/api/v1/alerts", tenant, &[]).await;
        let a = v["data"]["alerts"][0].clone();
        (a["state"] == "firing").then_some(a)
    })
    .await;
    assert_eq!(alert["labels"]["alertname"], "InstanceDown");
    assert_eq!(alert["labels"]["instance"], "w1:80");
    assert_eq!(alert["annotations"]["summary"], "w1:80 of web is down");
    assert_eq!(alert["value"], "0e+00");

    // Delivered by Alertmanager to the webhook, grouped by alertname.
    let firing = eventually("the firing notification", 30, || async {
        received
            .lock()
            .expect("lock")
            .iter()
            .find(|b| b["status"] == "firing")
            .cloned()
    })
    .await;
    assert_eq!(firing["version"], "4");
    assert_eq!(firing["groupLabels"]["alertname"], "InstanceDown");
    let a = &firing["alerts"][0];
    assert_eq!(a["labels"]["severity"], "page");
    assert_eq!(
        a["labels"]["cluster"], "e2e",
        "external labels are added to sent alerts"
    );
    assert_eq!(a["annotations"]["value"], "0");
    let generator = a["generatorURL"].as_str().expect("generatorURL");
    assert!(
        generator.starts_with("http://architect.test/graph?g0.expr=up+%3D%3D+0"),
        "{generator}"
    );

    // Rule health and the recording rule's output.
    let (_, rules) = get_json(&url, "/api/v1/rules", tenant, &[]).await;
    let group = &rules["data"]["groups"][0];
    assert_eq!(group["rules"][0]["type"], "recording");
    assert_eq!(group["rules"][0]["health"], "ok");
    assert_eq!(group["rules"][1]["state"], "firing");
    assert_eq!(group["rules"][1]["duration"], 3.0);
    let (_, recorded) = get_json(&url, "/api/v1/query", tenant, &[("query", "job:up:sum")]).await;
    assert_eq!(recorded["data"]["result"][0]["value"][1], "1");
    let (_, alerts_series) = get_json(
        &url,
        "/api/v1/query",
        tenant,
        &[("query", "ALERTS{alertstate=\"firing\"}")],
    )
    .await;
    assert_eq!(
        alerts_series["data"]["result"][0]["metric"]["alertname"],
        "InstanceDown"
    );

    // Another tenant sees no rules and no alerts.
    let (_, other) = get_json(&url, "/api/v1/rules", Some("team-b"), &[]).await;
    assert_eq!(other["data"]["groups"], serde_json::json!([]));
    let (_, other) = get_json(&url, "/api/v1/alerts", Some("team-b"), &[]).await;
    assert_eq!(other["data"]["alerts"], serde_json::json!([]));

    // Recovery: the resolution reaches the webhook.
    down.store(false, Ordering::SeqCst);
    let resolved = eventually("the resolved notification", 40, || async {
        received
            .lock()
            .expect("lock")
            .iter()
            .find(|b| b["status"] == "resolved")
            .cloned()
    })
    .await;
    assert_eq!(resolved["alerts"][0]["labels"]["instance"], "w1:80");
    pusher.abort();

    // Deleting the group removes it from both APIs.
    let r = client
        .delete(format!(
            "{url}/prometheus/config/v1/rules/prod/availability"
        ))
        .header("X-Scope-OrgID", "team-a")
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let r = client
        .get(format!("{url}/config/v1/rules"))
        .header("X-Scope-OrgID", "team-a")
        .send()
        .await
        .expect("list");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn invalid_groups_are_refused_with_promtool_messages() {
    let server = Server::start().await;
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{}/config/v1/rules/ns", server.url()))
        .body("name: g\nrules:\n- record: a\n  alert: b\n  expr: sum(\n")
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let text = r.text().await.expect("body");
    assert!(
        text.contains("only one of 'record' and 'alert' must be set")
            && text.contains("could not parse expression"),
        "{text}"
    );
    let r = client
        .post(format!("{}/config/v1/rules/ns", server.url()))
        .body("{not yaml")
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Nothing was stored.
    let r = client
        .get(format!("{}/config/v1/rules", server.url()))
        .send()
        .await
        .expect("list");
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Grafana posts JSON, which is YAML too.
    let r = client
        .post(format!("{}/config/v1/rules/ns", server.url()))
        .header("Content-Type", "application/json")
        .body(r#"{"name":"g","interval":"30s","rules":[{"record":"a:b","expr":"sum(up)"}]}"#)
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let r = client
        .get(format!("{}/config/v1/rules/ns/g", server.url()))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-type"].to_str().expect("ct"),
        "application/yaml"
    );
    let body = r.text().await.expect("body");
    assert!(
        body.contains("interval: 30s") && body.contains("record: a:b"),
        "{body}"
    );
}

const AM_CONFIG: &str = r#"route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [instance]
receivers:
  - name: hook
    webhook_configs:
      - url: HOOK
        send_resolved: true
    email_configs:
      - to: oncall@example.org
        from: alerts@example.org
        smarthost: SMTP
        require_tls: false
        send_resolved: true
"#;

const BUILTIN_GROUP: &str = r#"name: builtin
interval: 1s
rules:
  - alert: InstanceDown
    expr: up == 0
    for: 2s
    labels: {severity: critical}
    annotations: {summary: "{{ $labels.instance }} is down"}
  - alert: HighLatency
    expr: latency_seconds > 1
    for: 5s
    labels: {severity: warning}
  - alert: Noisy
    expr: noisy > 0
    labels: {severity: info}
"#;

/// Rules → the built-in Alertmanager → a webhook and an SMTP sink, in one `architect serve`:
/// the firing notification arrives grouped, the inhibited and the silenced alerts send
/// nothing, the Alertmanager API shows why, and the resolution follows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rule_alerts_reach_a_webhook_and_email_through_the_builtin_alertmanager() {
    let received: Received = Arc::default();
    let hook = format!("{}/hook", webhook_sink(Arc::clone(&received)).await);
    let mailbox: architect_integration_tests::smtp::Mailbox = Arc::default();
    let smtp = architect_integration_tests::smtp::smtp_sink(Arc::clone(&mailbox), false).await;
    let subjects = || -> Vec<String> {
        mailbox
            .lock()
            .expect("lock")
            .iter()
            .filter_map(|m| m.header("Subject"))
            .collect()
    };
    let server = Server::start_with_config(
        "ruler:\n  poll_interval_ms: 250\nalertmanager:\n  poll_interval_ms: 200\n",
    )
    .await;
    let url = server.url();
    let client = reqwest::Client::new();
    let am_config = AM_CONFIG.replace("HOOK", &hook).replace("SMTP", &smtp);
    let upload = mimir_upload_body(&am_config);
    let r = client
        .post(format!("{url}/api/v1/alerts"))
        .header("X-Scope-OrgID", "team-a")
        .body(upload)
        .send()
        .await
        .expect("config upload");
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    let r = client
        .post(format!("{url}/config/v1/rules/prod"))
        .header("X-Scope-OrgID", "team-a")
        .body(BUILTIN_GROUP)
        .send()
        .await
        .expect("rules upload");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let now = now_ms();
    let silence = serde_json::json!({
        "matchers": [{"name": "alertname", "value": "Noisy", "isRegex": false, "isEqual": true}],
        "startsAt": chrono::DateTime::from_timestamp_millis(now).expect("t").to_rfc3339(),
        "endsAt": chrono::DateTime::from_timestamp_millis(now + 3_600_000).expect("t").to_rfc3339(),
        "createdBy": "e2e",
        "comment": "known noisy",
    });
    let r = client
        .post(format!("{url}/alertmanager/api/v2/silences"))
        .header("X-Scope-OrgID", "team-a")
        .json(&silence)
        .send()
        .await
        .expect("silence");
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);

    let down = Arc::new(AtomicBool::new(true));
    let pusher = {
        let url = url.clone();
        let down = Arc::clone(&down);
        tokio::spawn(async move {
            loop {
                let t = now_ms();
                let up = if down.load(Ordering::SeqCst) {
                    0.0
                } else {
                    1.0
                };
                let req = write_request(vec![
                    series(
                        &[("__name__", "up"), ("instance", "w1:80"), ("job", "web")],
                        &[(t, up)],
                    ),
                    series(
                        &[
                            ("__name__", "latency_seconds"),
                            ("instance", "w1:80"),
                            ("job", "web"),
                        ],
                        &[(t, 5.0)],
                    ),
                    series(
                        &[("__name__", "noisy"), ("instance", "w1:80"), ("job", "web")],
                        &[(t, 1.0)],
                    ),
                ]);
                let answer = push_v1(&url, Some("team-a"), &req).await;
                assert!(answer.0.is_success(), "{answer:?}");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };

    let firing = eventually("the firing notification", 40, || async {
        received
            .lock()
            .expect("lock")
            .iter()
            .find(|b| b["status"] == "firing" && b["groupLabels"]["alertname"] == "InstanceDown")
            .cloned()
    })
    .await;
    assert_eq!(firing["receiver"], "hook");
    assert_eq!(firing["version"], "4");
    assert_eq!(firing["groupKey"], "{}:{alertname=\"InstanceDown\"}");
    assert_eq!(firing["commonAnnotations"]["summary"], "w1:80 is down");
    assert_eq!(firing["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
    // Inhibited and silenced alerts stay quiet; the API says why. HighLatency (`for: 5s`) fires
    // after InstanceDown (`for: 2s`): wait until the Alertmanager holds it, then give a
    // notification it should not cause time to arrive (group_wait 1s).
    let alerts_api = || async {
        client
            .get(format!("{url}/alertmanager/api/v2/alerts"))
            .header("X-Scope-OrgID", "team-a")
            .send()
            .await
            .expect("alerts")
            .json::<serde_json::Value>()
            .await
            .expect("json")
    };
    eventually("the inhibited and the silenced alert", 30, || async {
        let alerts = alerts_api().await;
        let names: Vec<&str> = alerts
            .as_array()?
            .iter()
            .filter_map(|a| a["labels"]["alertname"].as_str())
            .collect();
        (names.contains(&"HighLatency") && names.contains(&"Noisy")).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let names: Vec<String> = received
        .lock()
        .expect("lock")
        .iter()
        .map(|b| {
            b["groupLabels"]["alertname"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    assert!(
        names.iter().all(|n| n == "InstanceDown"),
        "only InstanceDown notifies: {names:?}"
    );
    assert_eq!(
        subjects(),
        vec!["[FIRING:1] InstanceDown (w1:80 web critical)".to_owned()],
        "one email, for the InstanceDown group only"
    );
    let alerts = alerts_api().await;
    let status_of = |name: &str| {
        alerts
            .as_array()
            .expect("array")
            .iter()
            .find(|a| a["labels"]["alertname"] == name)
            .map(|a| a["status"].clone())
            .unwrap_or_default()
    };
    assert_eq!(status_of("HighLatency")["state"], "suppressed");
    assert_eq!(
        status_of("HighLatency")["inhibitedBy"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        status_of("Noisy")["silencedBy"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(status_of("InstanceDown")["state"], "active");

    // Recovery: the resolved notification follows.
    down.store(false, Ordering::SeqCst);
    let resolved = eventually("the resolved notification", 40, || async {
        received
            .lock()
            .expect("lock")
            .iter()
            .find(|b| b["status"] == "resolved" && b["groupLabels"]["alertname"] == "InstanceDown")
            .cloned()
    })
    .await;
    assert_eq!(resolved["alerts"][0]["status"], "resolved");
    eventually("the resolved email", 20, || async {
        subjects()
            .contains(&"[RESOLVED] InstanceDown (w1:80 web critical)".to_owned())
            .then_some(())
    })
    .await;
    pusher.abort();
}

/// A recording rule over native histograms records a native histogram through the write path
/// (remote-written histograms in, `sum` recorded, read back as a histogram).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recording_rules_record_native_histograms_through_the_write_path() {
    use architect_protocols::prompb::{self, histogram};
    let server = Server::start_with_config("ruler:\n  poll_interval_ms: 250\n").await;
    let url = server.url();
    let now = now_ms();
    // Schema 0, positive buckets (0.5,1]:2 (1,2]:1 as integer deltas [2, -1].
    let hist = |t: i64| prompb::Histogram {
        count: Some(histogram::Count::CountInt(3)),
        sum: 4.0,
        schema: 0,
        zero_threshold: 0.001,
        zero_count: Some(histogram::ZeroCount::ZeroCountInt(0)),
        positive_spans: vec![prompb::BucketSpan {
            offset: 0,
            length: 2,
        }],
        positive_deltas: vec![2, -1],
        timestamp: t,
        ..Default::default()
    };
    let mut series_list = Vec::new();
    for instance in ["a", "b"] {
        let mut s = series(&[("__name__", "rpc_seconds"), ("instance", instance)], &[]);
        s.histograms = (0..20).map(|i| hist(now - 285_000 + i * 15_000)).collect();
        series_list.push(s);
    }
    let (status, body, _) = push_v1(&url, None, &write_request(series_list)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let r = reqwest::Client::new()
        .post(format!("{url}/config/v1/rules/ns"))
        .body(
            "name: nh\ninterval: 1s\nrules:\n- record: rpc_seconds:sum\n  expr: sum(rpc_seconds)\n",
        )
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let recorded = eventually("the recorded histogram", 20, || async {
        let (_, v) = get_json(&url, "/api/v1/query", None, &[("query", "rpc_seconds:sum")]).await;
        v["data"]["result"][0]["histogram"].is_array().then_some(v)
    })
    .await;
    let h = &recorded["data"]["result"][0]["histogram"][1];
    assert_eq!(h["count"], "6", "{recorded}");
    assert_eq!(h["sum"], "8", "{recorded}");
    // A pass writes its output before it saves the group's state, so the health can trail the
    // recorded sample by a moment.
    eventually("the rule's health to be ok", 20, || async {
        let (_, rules) = get_json(&url, "/api/v1/rules", None, &[]).await;
        (rules["data"]["groups"][0]["rules"][0]["health"] == "ok").then_some(())
    })
    .await;
}
