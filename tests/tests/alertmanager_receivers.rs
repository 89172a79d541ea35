//! Differential, field by field: the same configuration and alerts posted to a real
//! Alertmanager (Debian's 0.25) and to this project's built-in one, with Slack, PagerDuty and
//! email receivers pointed at local sinks. The Slack and PagerDuty request bodies must be the
//! same bytes (default templates and custom ones: fields, actions, details, links, images);
//! the emails — over STARTTLS with AUTH to an SMTP sink — must have the same envelope, the
//! same `Subject`, `To`, `From` and custom headers, and an HTML body with the alerts.

use architect_integration_tests::alerting::*;
use architect_integration_tests::smtp::{Mail, Mailbox, smtp_sink};
use architect_integration_tests::*;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

const EXTERNAL_URL: &str = "http://am.example:9093";

fn config(sink: &str, smtp: &str) -> String {
    format!(
        r#"global:
  smtp_smarthost: '{smtp}'
  smtp_from: 'Alertmanager <am@example.org>'
  smtp_hello: architect.test
  smtp_auth_username: alerts
  smtp_auth_password: s3cret
route:
  receiver: team.ops
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
- name: team.ops
  slack_configs:
  - api_url: '{sink}/slack/default'
    channel: '#ops'
    send_resolved: true
  - api_url: '{sink}/slack/custom'
    send_resolved: true
    title: '{{{{ .CommonLabels.alertname }}}}: {{{{ .CommonAnnotations.summary }}}}'
    text: "{{{{ range .Alerts }}}}*{{{{ .Labels.instance }}}}* {{{{ .Annotations.summary }}}} since {{{{ .StartsAt.Format \"15:04\" }}}}\n{{{{ end }}}}"
    color: '{{{{ if eq .Status "firing" }}}}#ff0000{{{{ else }}}}#00ff00{{{{ end }}}}'
    fields:
    - {{title: Severity, value: '{{{{ .CommonLabels.severity | toUpper }}}}', short: true}}
    - {{title: Team, value: '{{{{ .CommonLabels.team }}}}'}}
    actions:
    - {{type: button, text: 'Runbook <&>', url: 'http://runbooks/{{{{ .GroupLabels.alertname }}}}'}}
    link_names: true
  pagerduty_configs:
  - routing_key: rk-1
    url: '{sink}/pagerduty/default'
  - routing_key: '{{{{ .CommonLabels.team }}}}-key'
    url: '{sink}/pagerduty/custom'
    severity: '{{{{ .CommonLabels.severity }}}}'
    class: cls
    component: '{{{{ .GroupLabels.alertname | title }}}}'
    details: {{runbook: 'http://runbooks/{{{{ .GroupLabels.alertname }}}}'}}
    links: [{{href: 'http://dash', text: Dash}}]
    images: [{{src: 'http://img/1.png', alt: graph, href: 'http://img'}}]
  email_configs:
  - to: 'oncall@example.org, Second <second@example.org>'
    send_resolved: true
    tls_config: {{insecure_skip_verify: true}}
    headers: {{X-Team: '{{{{ .CommonLabels.team }}}}'}}
"#
    )
}

fn alerts(starts: i64, ends: Option<i64>) -> Value {
    let alert = |labels: Value, summary: &str| {
        let mut a = json!({"labels": labels, "annotations": {"summary": summary},
            "startsAt": rfc3339_ms(starts), "generatorURL": "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0"});
        if let Some(e) = ends {
            a["endsAt"] = json!(rfc3339_ms(e));
        }
        a
    };
    json!([
        alert(
            json!({"alertname": "Down", "instance": "a:9100", "severity": "critical", "team": "db"}),
            "a is down"
        ),
        alert(
            json!({"alertname": "Down", "instance": "b:9100", "severity": "critical", "team": "db"}),
            "b is <down> & out"
        ),
        alert(
            json!({"alertname": "Slow", "instance": "c:9100", "severity": "warning", "team": "web"}),
            "c is slow"
        ),
    ])
}

/// Waits for at least `n` requests, then for quiet; the requests sorted.
async fn settle_raw(r: &RawReceived, n: usize) -> Vec<(String, String)> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while r.lock().expect("lock").len() < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut all = r.lock().expect("lock").clone();
    all.sort();
    all
}

async fn settle_mail(m: &Mailbox, n: usize) -> Vec<Mail> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while m.lock().expect("lock").len() < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut all = m.lock().expect("lock").clone();
    all.sort_by_key(|m| m.header("Subject"));
    all
}

/// A quoted-printable body made readable (soft breaks joined, `=3D` decoded).
fn quoted_printable_text(data: &str) -> String {
    data.replace("=\r\n", "").replace("=3D", "=")
}

/// What must agree between two emails.
fn envelope(m: &Mail) -> Value {
    json!({
        "from": m.from, "to": m.to, "tls": m.tls, "auth": m.auth,
        "subject": m.header("Subject"), "To": m.header("To"), "From": m.header("From"),
        "X-Team": m.header("X-Team"),
    })
}

fn assert_same_bodies(theirs: &[(String, String)], ours: &[(String, String)]) {
    let paths = |v: &[(String, String)]| v.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>();
    assert_eq!(
        paths(ours),
        paths(theirs),
        "requests per integration differ"
    );
    for ((path, want), (_, got)) in theirs.iter().zip(ours) {
        let (w, g): (Value, Value) = (
            serde_json::from_str(want).expect("their json"),
            serde_json::from_str(got).expect("our json"),
        );
        assert_eq!(g, w, "{path}: fields differ");
        assert_eq!(got, want, "{path}: same fields, different bytes");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_pagerduty_and_email_match_a_real_alertmanager() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (theirs, ours): (RawReceived, RawReceived) = (Arc::default(), Arc::default());
    let (their_mail, our_mail): (Mailbox, Mailbox) = (Arc::default(), Arc::default());
    let their_sink = raw_sink(Arc::clone(&theirs)).await;
    let our_sink = raw_sink(Arc::clone(&ours)).await;
    let their_smtp = smtp_sink(Arc::clone(&their_mail), true).await;
    let our_smtp = smtp_sink(Arc::clone(&our_mail), true).await;
    let Some((_am, am_url)) = start_alertmanager_with(
        dir.path(),
        &config(&their_sink, &their_smtp),
        &[&format!("--web.external-url={EXTERNAL_URL}")],
    ) else {
        return;
    };
    wait_ready(&am_url).await;
    let server = Server::start_with_config(&format!(
        "alertmanager:\n  poll_interval_ms: 200\n  external_url: {EXTERNAL_URL}\n"
    ))
    .await;
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/alerts", server.url()))
        .body(mimir_upload_body(&config(&our_sink, &our_smtp)))
        .send()
        .await
        .expect("upload");
    assert_eq!(r.status(), StatusCode::CREATED, "{:?}", r.text().await);
    let ours_url = format!("{}/alertmanager", server.url());

    // Alerts that start now wait out group_wait in both. Alerts that started earlier make
    // Alertmanager flush a new group at its first insert, which races the rest of the same
    // post: it sometimes notified `Down` for `a` alone first (a partial group, then the whole),
    // as a failed CI run showed.
    let starts = now_ms();
    for base in [&am_url, &ours_url] {
        assert_eq!(
            post_json(&format!("{base}/api/v2/alerts"), &alerts(starts, None)).await,
            StatusCode::OK
        );
    }
    // Two groups (Down, Slow) × two Slack and two PagerDuty integrations.
    let want = settle_raw(&theirs, 8).await;
    assert_eq!(want.len(), 8, "{want:#?}");
    let got = settle_raw(&ours, 8).await;
    assert_same_bodies(&want, &got);
    let want_mail = settle_mail(&their_mail, 2).await;
    let got_mail = settle_mail(&our_mail, 2).await;
    assert_eq!(want_mail.len(), 2, "{want_mail:#?}");
    assert_eq!(
        got_mail.iter().map(envelope).collect::<Vec<_>>(),
        want_mail.iter().map(envelope).collect::<Vec<_>>()
    );
    for m in &got_mail {
        assert!(m.tls && m.auth == Some(("alerts".into(), "s3cret".into())));
        let html = quoted_printable_text(&m.data);
        assert!(
            html.contains("text/html") && html.contains("View in Alertmanager"),
            "{html}"
        );
    }
    let down = got_mail
        .iter()
        .find(|m| m.header("Subject").is_some_and(|s| s.contains("Down")))
        .expect("Down email");
    let html = quoted_printable_text(&down.data);
    assert!(html.contains("b is &lt;down&gt; &amp; out"), "{html}");
    assert!(html.contains("instance = b:9100<br>"), "{html}");

    // Resolution: every integration here sends resolved notifications.
    theirs.lock().expect("lock").clear();
    ours.lock().expect("lock").clear();
    their_mail.lock().expect("lock").clear();
    our_mail.lock().expect("lock").clear();
    for base in [&am_url, &ours_url] {
        assert_eq!(
            post_json(
                &format!("{base}/api/v2/alerts"),
                &alerts(starts, Some(now_ms() - 1000))
            )
            .await,
            StatusCode::OK
        );
    }
    let want = settle_raw(&theirs, 8).await;
    assert_eq!(want.len(), 8, "{want:#?}");
    assert!(
        want.iter()
            .all(|(_, b)| b.contains("resolve") || b.contains("RESOLVED"))
    );
    let got = settle_raw(&ours, 8).await;
    assert_same_bodies(&want, &got);
    let want_mail = settle_mail(&their_mail, 2).await;
    let got_mail = settle_mail(&our_mail, 2).await;
    assert_eq!(
        got_mail.iter().map(envelope).collect::<Vec<_>>(),
        want_mail.iter().map(envelope).collect::<Vec<_>>()
    );

    // Notification metrics count by integration.
    let metrics = reqwest::get(format!("{}/metrics", server.url()))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("body");
    assert!(
        metrics.contains("alertmanager_notifications_total{integration=\"slack\"} 8"),
        "{metrics}"
    );
    assert!(
        metrics.contains("alertmanager_notifications_failed_total{integration=\"slack\"} 0"),
        "{metrics}"
    );
}
