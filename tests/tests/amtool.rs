//! `amtool` (Debian's, Alertmanager 0.25) against this project's Alertmanager API and against a
//! real Alertmanager with the same configuration: the same commands give the same answers
//! (alerts with their silenced/inhibited status, silences added, queried and expired, routes
//! tested), after ids and times are normalised. `amtool check-config` and the configuration
//! upload agree on which configurations are valid.

use architect_integration_tests::alerting::*;
use architect_integration_tests::*;
use reqwest::StatusCode;
use serde_json::Value;
use std::process::Command;

const CONFIG: &str = r#"global:
  resolve_timeout: 5m
route:
  receiver: default
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    - matchers: ['severity="critical"']
      receiver: pager
      continue: true
    - matchers: ['team=~"db|storage"']
      receiver: db-team
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [instance]
receivers:
  - name: default
  - name: pager
    webhook_configs:
      - url: http://127.0.0.1:9/pager
  - name: db-team
    webhook_configs:
      - url: http://127.0.0.1:9/db
"#;

const BAD_CONFIGS: [&str; 3] = [
    // a route to an undefined receiver
    "route:\n  receiver: nobody\nreceivers:\n- name: default\n",
    // no root receiver
    "route:\n  group_by: [a]\nreceivers:\n- name: default\n",
    // unknown field
    "route:\n  receiver: default\n  bogus: 1\nreceivers:\n- name: default\n",
];

fn amtool(url: &str, args: &[&str]) -> (bool, String) {
    let bin = require_binary("amtool").expect("amtool");
    let out = Command::new(bin)
        .arg(format!("--alertmanager.url={url}"))
        .args(args)
        .output()
        .expect("run amtool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Alerts as (alertname, severity, state, silenced?, inhibited?), sorted.
fn alert_summary(v: &Value) -> Vec<(String, String, String, bool, bool)> {
    let mut out: Vec<_> = v
        .as_array()
        .expect("array")
        .iter()
        .map(|a| {
            (
                a["labels"]["alertname"].as_str().unwrap_or("").to_string(),
                a["labels"]["severity"].as_str().unwrap_or("").to_string(),
                a["status"]["state"].as_str().unwrap_or("").to_string(),
                !a["status"]["silencedBy"]
                    .as_array()
                    .is_none_or(Vec::is_empty),
                !a["status"]["inhibitedBy"]
                    .as_array()
                    .is_none_or(Vec::is_empty),
            )
        })
        .collect();
    out.sort();
    out
}

/// Silences as (matchers, state, comment, createdBy), sorted.
fn silence_summary(v: &Value) -> Vec<(String, String, String, String)> {
    let mut out: Vec<_> = v
        .as_array()
        .expect("array")
        .iter()
        .map(|s| {
            (
                s["matchers"].to_string(),
                s["status"]["state"].as_str().unwrap_or("").to_string(),
                s["comment"].as_str().unwrap_or("").to_string(),
                s["createdBy"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Everything the scenario observed through amtool on one Alertmanager.
#[derive(Debug, PartialEq)]
struct Observed {
    active: Vec<(String, String, String, bool, bool)>,
    everything: Vec<(String, String, String, bool, bool)>,
    silences: Vec<(String, String, String, String)>,
    expired: Vec<(String, String, String, String)>,
    routes: Vec<String>,
}

fn scenario(url: &str) -> Observed {
    for args in [
        &[
            "alert",
            "add",
            "alertname=Down",
            "instance=a",
            "severity=critical",
            "--annotation=summary=a is down",
        ][..],
        &[
            "alert",
            "add",
            "alertname=Slow",
            "instance=a",
            "severity=warning",
        ][..],
        &[
            "alert",
            "add",
            "alertname=Slow",
            "instance=b",
            "severity=warning",
            "team=db",
        ][..],
        &[
            "alert",
            "add",
            "alertname=Noisy",
            "instance=c",
            "severity=info",
        ][..],
    ] {
        let (ok, text) = amtool(url, args);
        assert!(ok, "{url}: amtool {args:?}: {text}");
    }
    let (ok, id) = amtool(
        url,
        &[
            "silence",
            "add",
            "alertname=Noisy",
            "--comment=too noisy",
            "--author=ops",
            "--duration=2h",
        ],
    );
    assert!(ok, "{url}: silence add: {id}");
    let id = id.trim().to_string();
    assert!(!id.is_empty());
    let (ok, active) = amtool(url, &["alert", "query", "-o", "json"]);
    assert!(ok, "{active}");
    let (ok, everything) = amtool(url, &["alert", "query", "-o", "json", "-s", "-i", "-a"]);
    assert!(ok, "{everything}");
    let (ok, silences) = amtool(url, &["silence", "query", "-o", "json"]);
    assert!(ok, "{silences}");
    let (ok, text) = amtool(url, &["silence", "expire", &id]);
    assert!(ok, "{text}");
    let (ok, expired) = amtool(url, &["silence", "query", "-o", "json", "--expired"]);
    assert!(ok, "{expired}");
    let mut routes = Vec::new();
    for labels in [
        &["severity=critical"][..],
        &["team=db"][..],
        &["severity=critical", "team=db"][..],
        &["x=y"][..],
    ] {
        let mut args = vec!["config", "routes", "test"];
        args.extend_from_slice(labels);
        let (_, text) = amtool(url, &args);
        routes.push(text.trim().to_string());
    }
    Observed {
        active: alert_summary(&json_of(&active)),
        everything: alert_summary(&json_of(&everything)),
        silences: silence_summary(&json_of(&silences)),
        expired: silence_summary(&json_of(&expired)),
        routes,
    }
}

async fn upload_config(url: &str, config: &str) -> (StatusCode, String) {
    let body = mimir_upload_body(config);
    let r = reqwest::Client::new()
        .post(format!("{url}/api/v1/alerts"))
        .header("Content-Type", "application/yaml")
        .body(body)
        .send()
        .await
        .expect("upload");
    let status = r.status();
    (status, r.text().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amtool_sees_the_same_alertmanager_as_a_real_one() {
    if require_binary("amtool").is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    // check-config and the upload agree on validity.
    std::fs::write(dir.path().join("good.yml"), CONFIG).expect("write");
    let (ok, text) = amtool(
        "http://127.0.0.1:9",
        &[
            "check-config",
            &dir.path().join("good.yml").to_string_lossy(),
        ],
    );
    assert!(ok, "{text}");
    let server = Server::start().await;
    let url = server.url();
    let (status, text) = upload_config(&url, CONFIG).await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    for (i, bad) in BAD_CONFIGS.iter().enumerate() {
        let path = dir.path().join(format!("bad{i}.yml"));
        std::fs::write(&path, bad).expect("write");
        let (ok, text) = amtool(
            "http://127.0.0.1:9",
            &["check-config", &path.to_string_lossy()],
        );
        assert!(!ok, "amtool accepted bad config {i}: {text}");
        let (status, text) = upload_config(&url, bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "bad config {i}: {text}");
    }
    // The same scenario on a real Alertmanager and on ours.
    let Some((_am, am_url)) = start_alertmanager(dir.path(), CONFIG) else {
        return;
    };
    wait_ready(&am_url).await;
    let theirs = tokio::task::spawn_blocking(move || scenario(&am_url))
        .await
        .expect("scenario");
    let ours_url = format!("{url}/alertmanager");
    let ours = tokio::task::spawn_blocking(move || scenario(&ours_url))
        .await
        .expect("scenario");
    assert_eq!(ours, theirs);
    // Sanity: the scenario saw what it set up.
    assert!(theirs.everything.iter().any(|a| a.0 == "Noisy" && a.3));
    assert!(theirs.everything.iter().any(|a| a.0 == "Slow" && a.4));
    assert_eq!(theirs.expired.len(), 1);
    // The root layout answers too.
    let (ok, text) = amtool(&url, &["alert", "query", "-o", "json"]);
    assert!(ok, "{text}");
}
