//! Support for the rules and alerting tests: a webhook receiver that records what it is sent,
//! Debian's Alertmanager on a free port, and polling helpers.

use crate::{ChildGuard, free_port, require_binary};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::Value;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a [`webhook_sink`] received, in arrival order.
pub type Received = Arc<Mutex<Vec<Value>>>;

/// A webhook receiver on a free loopback port, taking JSON POSTs on any path; returns its base
/// URL (`http://127.0.0.1:PORT`).
pub async fn webhook_sink(received: Received) -> String {
    async fn take(State(r): State<Received>, Json(body): Json<Value>) -> StatusCode {
        r.lock().expect("lock").push(body);
        StatusCode::OK
    }
    serve_on_free_port(
        axum::Router::new()
            .route("/{*path}", post(take))
            .with_state(received),
    )
    .await
}

/// Serves `app` on a free loopback port; its base URL.
async fn serve_on_free_port(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// What a [`raw_sink`] received: `(path, body)` in arrival order.
pub type RawReceived = Arc<Mutex<Vec<(String, String)>>>;

/// A receiver on a free loopback port recording the exact bytes POSTed to any path; returns
/// its base URL.
pub async fn raw_sink(received: RawReceived) -> String {
    async fn take(State(r): State<RawReceived>, uri: axum::http::Uri, body: String) -> StatusCode {
        r.lock().expect("lock").push((uri.path().to_owned(), body));
        StatusCode::OK
    }
    serve_on_free_port(
        axum::Router::new()
            .route("/{*path}", post(take))
            .with_state(received),
    )
    .await
}

/// Debian's Alertmanager with `config` on a free port (no clustering), data under `dir`; its
/// URL. `None` (after a loud skip, or a panic under `CI=true`) when it is not installed.
pub fn start_alertmanager(dir: &Path, config: &str) -> Option<(ChildGuard, String)> {
    start_alertmanager_with(dir, config, &[])
}

/// [`start_alertmanager`] with extra command-line flags.
pub fn start_alertmanager_with(
    dir: &Path,
    config: &str,
    extra: &[&str],
) -> Option<(ChildGuard, String)> {
    let bin = require_binary("prometheus-alertmanager")?;
    let file = dir.join("alertmanager.yml");
    std::fs::write(&file, config).expect("write alertmanager config");
    let port = free_port();
    let mut cmd = std::process::Command::new(bin);
    cmd.arg(format!("--config.file={}", file.display()))
        .arg(format!("--storage.path={}", dir.join("am-data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .args(extra);
    let child = ChildGuard::spawn("alertmanager", cmd, Some(&dir.join("alertmanager.log")));
    Some((child, format!("http://127.0.0.1:{port}")))
}

/// Waits until `{url}/-/ready` answers 2xx.
pub async fn wait_ready(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = reqwest::get(format!("{url}/-/ready")).await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} not ready");
}

/// Polls `f` every 200 ms until it returns something, for at most `secs`.
pub async fn eventually<T, F, Fut>(what: &str, secs: u64, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// RFC 3339 (UTC, milliseconds) of `ms`, as alerts and silences are posted.
pub fn rfc3339_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .expect("time")
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// POSTs `body` as JSON; the status.
pub async fn post_json(url: &str, body: &Value) -> StatusCode {
    reqwest::Client::new()
        .post(url)
        .json(body)
        .send()
        .await
        .expect("post")
        .status()
}

/// Mimir's configuration upload body: the Alertmanager file as a YAML block string.
pub fn mimir_upload_body(config: &str) -> String {
    let indented: String = config.lines().map(|l| format!("  {l}\n")).collect();
    format!("alertmanager_config: |\n{indented}")
}
