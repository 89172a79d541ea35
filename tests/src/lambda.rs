//! A Lambda Runtime API on loopback, to run the functions' real binaries as Lambda runs them.
//!
//! [`RuntimeApi::start`] serves the three calls a function makes (`GET .../invocation/next`,
//! `POST .../invocation/{id}/response` and `.../error`, and `POST .../init/error`);
//! [`RuntimeApi::spawn`] starts a binary pointed at it with the variables Lambda sets, and
//! [`RuntimeApi::invoke`] hands it one event and waits for the answer. The time from process
//! start to the first `next` call is the function's init (cold start) time.

use crate::ChildGuard;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, mpsc, oneshot};

/// What a function answered.
#[derive(Debug)]
pub enum Outcome {
    /// `.../response`: the handler's result.
    Response(serde_json::Value),
    /// `.../error` or `init/error`: the error document.
    Error(serde_json::Value),
}

struct Pending {
    id: String,
    event: serde_json::Value,
    answer: oneshot::Sender<Outcome>,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Option<mpsc::Receiver<Pending>>>,
    waiting: Mutex<Vec<(String, oneshot::Sender<Outcome>)>>,
    first_next: std::sync::Mutex<Option<Instant>>,
    init_error: std::sync::Mutex<Option<serde_json::Value>>,
}

/// The Runtime API server.
pub struct RuntimeApi {
    addr: String,
    events: mpsc::Sender<Pending>,
    shared: Arc<Shared>,
    next_id: std::sync::atomic::AtomicU64,
    started: Option<Instant>,
    _server: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for RuntimeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeApi")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl RuntimeApi {
    /// Serves on a free loopback port.
    pub async fn start() -> Self {
        let (events, queue) = mpsc::channel(16);
        let shared = Arc::new(Shared {
            queue: Mutex::new(Some(queue)),
            ..Shared::default()
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind runtime API");
        let addr = listener.local_addr().expect("address").to_string();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            events,
            shared,
            next_id: std::sync::atomic::AtomicU64::new(1),
            started: None,
            _server: server,
        }
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Starts `binary` as function `name` against this API with `env` added to what Lambda sets.
    pub fn spawn(
        &mut self,
        name: &str,
        binary: &std::path::Path,
        env: &[(&str, String)],
        log: &std::path::Path,
    ) -> ChildGuard {
        let mut cmd = Command::new(binary);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", &self.addr)
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("ARCHITECT_LOG_FORMAT", "text");
        for (k, v) in env {
            cmd.env(k, v);
        }
        self.started = Some(Instant::now());
        ChildGuard::spawn(name, cmd, Some(log))
    }

    /// Time from [`RuntimeApi::spawn`] to the function's first `next` call, once it made one.
    pub fn init_time(&self) -> Option<Duration> {
        let first = (*self.shared.first_next.lock().ok()?)?;
        Some(first.duration_since(self.started?))
    }

    /// An `init/error` the function reported, if any.
    pub fn init_error(&self) -> Option<serde_json::Value> {
        self.shared.init_error.lock().ok()?.clone()
    }

    /// Hands the function one event and waits (up to 30 s) for its answer.
    pub async fn invoke(&self, event: serde_json::Value) -> Outcome {
        let id = format!(
            "req-{}",
            self.next_id
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let (answer, answered) = oneshot::channel();
        self.events
            .send(Pending { id, event, answer })
            .await
            .expect("runtime API running");
        match tokio::time::timeout(Duration::from_secs(30), answered).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => panic!("the runtime API dropped the invocation"),
            Err(_) => panic!(
                "no answer within 30 s (init error: {:?})",
                self.init_error()
            ),
        }
    }
}

async fn next(State(shared): State<Arc<Shared>>) -> Response {
    if let Ok(mut first) = shared.first_next.lock() {
        first.get_or_insert_with(Instant::now);
    }
    let pending = {
        let mut queue = shared.queue.lock().await;
        match queue.as_mut() {
            Some(rx) => rx.recv().await,
            None => None,
        }
    };
    let Some(p) = pending else {
        return StatusCode::GONE.into_response();
    };
    shared.waiting.lock().await.push((p.id.clone(), p.answer));
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
        + 30_000;
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    };
    set("lambda-runtime-aws-request-id", p.id);
    set("lambda-runtime-deadline-ms", deadline.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:123456789012:function:test".into(),
    );
    set(
        "lambda-runtime-trace-id",
        "Root=1-00000000-000000000000000000000000".into(),
    );
    set("content-type", "application/json".into());
    (headers, p.event.to_string()).into_response()
}

async fn answer(shared: &Shared, id: &str, outcome: Outcome) -> StatusCode {
    let mut waiting = shared.waiting.lock().await;
    match waiting.iter().position(|(i, _)| i == id) {
        Some(pos) => {
            let (_, tx) = waiting.remove(pos);
            let _ = tx.send(outcome);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(body).into()))
}

async fn response(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    answer(&shared, &id, Outcome::Response(json(&body))).await
}

async fn error(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: Bytes,
) -> StatusCode {
    answer(&shared, &id, Outcome::Error(json(&body))).await
}

async fn init_error(State(shared): State<Arc<Shared>>, body: Bytes) -> StatusCode {
    if let Ok(mut e) = shared.init_error.lock() {
        *e = Some(json(&body));
    }
    StatusCode::ACCEPTED
}

/// An API Gateway HTTP API (payload format 2.0) event, as AWS documents it.
/// `query` is the raw query string; `body` is sent base64-encoded when `binary`.
pub fn http_event(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    binary: bool,
    authorizer_tenant: Option<&str>,
) -> serde_json::Value {
    use base64::Engine as _;
    let headers: serde_json::Map<String, serde_json::Value> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), serde_json::Value::from(*v)))
        .collect();
    let query_params: serde_json::Map<String, serde_json::Value> =
        url_pairs(query).into_iter().collect();
    let route_key = format!("{method} {path}");
    let mut context = serde_json::json!({
        "accountId": "123456789012",
        "apiId": "abcdef1234",
        "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "abcdef1234",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "192.0.2.1",
            "userAgent": "Prometheus/2.42.0"
        },
        "requestId": "JKJaXmPLvHcESHA=",
        "routeKey": route_key,
        "stage": "$default",
        "time": "25/Nov/2026:02:30:00 +0000",
        "timeEpoch": 1_795_919_400_000_i64
    });
    if let Some(tenant) = authorizer_tenant {
        context["authorizer"] = serde_json::json!({ "lambda": { "tenant": tenant } });
    }
    let body = if binary {
        base64::engine::general_purpose::STANDARD.encode(body)
    } else {
        String::from_utf8_lossy(body).into_owned()
    };
    serde_json::json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "queryStringParameters": query_params,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": binary
    })
}

/// `a=1&b=2` as API Gateway lists them (repeated keys joined with commas).
fn url_pairs(query: &str) -> Vec<(String, serde_json::Value)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (k, v) in serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_default() {
        match out.iter_mut().find(|(key, _)| *key == k) {
            Some((_, existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            None => out.push((k, v)),
        }
    }
    out.into_iter()
        .map(|(k, v)| (k, serde_json::Value::from(v)))
        .collect()
}

/// The status, headers and decoded body of an HTTP function's answer.
#[derive(Debug)]
pub struct HttpAnswer {
    /// HTTP status.
    pub status: u16,
    /// Headers (lower-case names).
    pub headers: serde_json::Map<String, serde_json::Value>,
    /// Body bytes (base64-decoded when the function encoded it).
    pub body: Vec<u8>,
}

impl HttpAnswer {
    /// Reads an API Gateway v2 response document.
    pub fn from_outcome(outcome: Outcome) -> Self {
        use base64::Engine as _;
        let value = match outcome {
            Outcome::Response(v) => v,
            Outcome::Error(e) => panic!("the function failed: {e}"),
        };
        let status = value["statusCode"].as_u64().unwrap_or(0) as u16;
        let headers = value["headers"].as_object().cloned().unwrap_or_default();
        let text = value["body"].as_str().unwrap_or("");
        let body = if value["isBase64Encoded"].as_bool().unwrap_or(false) {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .expect("base64 body")
        } else {
            text.as_bytes().to_vec()
        };
        Self {
            status,
            headers,
            body,
        }
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }
}
