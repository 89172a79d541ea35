//! The Lambda functions' real binaries (dev profile) run as Lambda runs them: against a Runtime
//! API on loopback, with API Gateway HTTP API (payload 2.0) events, over S3 and DynamoDB on the
//! emulator. A binary remote_write body is stored and read back through the query function; a
//! bad one gets the same 4xx as `architect serve`; the authorizer admits only known tokens for
//! their tenant; the tenant it vouches for scopes the query.

use architect_integration_tests::lambda::{HttpAnswer, RuntimeApi, http_event};
use architect_integration_tests::{ChildGuard, Server, series, workspace_bin, write_request};
use architect_protocols::snappy;
use architect_testkit::Emulator;
use prost::Message;

const CT_V1: &str = "application/x-protobuf";

struct Function {
    api: RuntimeApi,
    _process: ChildGuard,
}

impl Function {
    async fn start(name: &str, env: &[(&str, String)], dir: &std::path::Path) -> Self {
        let mut api = RuntimeApi::start().await;
        let log = dir.join(format!("{name}.log"));
        let process = api.spawn(name, &workspace_bin(name), env, &log);
        Self {
            api,
            _process: process,
        }
    }

    async fn http(&self, event: serde_json::Value) -> HttpAnswer {
        HttpAnswer::from_outcome(self.api.invoke(event).await)
    }
}

fn push_event(
    tenant: Option<&str>,
    body: &[u8],
    authorizer_tenant: Option<&str>,
) -> serde_json::Value {
    let mut headers = vec![
        ("Content-Type", CT_V1),
        ("Content-Encoding", "snappy"),
        ("X-Prometheus-Remote-Write-Version", "0.1.0"),
    ];
    if let Some(t) = tenant {
        headers.push(("X-Scope-OrgID", t));
    }
    http_event(
        "POST",
        "/api/v1/push",
        "",
        &headers,
        body,
        true,
        authorizer_tenant,
    )
}

fn query_event(
    query: &str,
    time_s: i64,
    tenant: Option<&str>,
    authorizer_tenant: Option<&str>,
) -> serde_json::Value {
    let raw = serde_urlencoded::to_string([("query", query), ("time", &time_s.to_string())])
        .expect("query string");
    let mut headers = vec![("Accept", "application/json")];
    if let Some(t) = tenant {
        headers.push(("X-Scope-OrgID", t));
    }
    http_event(
        "GET",
        "/api/v1/query",
        &raw,
        &headers,
        b"",
        false,
        authorizer_tenant,
    )
}

fn remote_write_body(name: &str, value: f64, t_ms: i64) -> Vec<u8> {
    let req = write_request(vec![series(
        &[("__name__", name), ("job", "lambda")],
        &[(t_ms, value)],
    )]);
    snappy::compress(&req.encode_to_vec())
}

/// The values of an instant vector answer, by `job`.
fn values(answer: &HttpAnswer) -> Vec<String> {
    assert_eq!(answer.status, 200, "{}", answer.text());
    let json = answer.json();
    json["data"]["result"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|s| s["value"][1].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn functions_serve_api_gateway_events_over_s3_and_dynamodb() {
    let Some(emulator) = Emulator::start_or_skip("lambda functions").await else {
        return;
    };
    let bucket = emulator.create_bucket("lambda").await.expect("bucket");
    let table = emulator.create_table("lambda").await.expect("table");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut env: Vec<(&str, String)> = emulator.env();
    env.push(("ARCHITECT_BUCKET", bucket.clone()));
    env.push(("ARCHITECT_TABLE", table.clone()));
    env.push(("ARCHITECT_S3_PATH_STYLE", "true".into()));

    let ingest = Function::start("ingest", &env, dir.path()).await;
    let query = Function::start("query", &env, dir.path()).await;
    let authorizer = Function::start("authorizer", &env, dir.path()).await;

    // A binary remote_write body, base64 in the event, is stored: 204, no body.
    let t_ms = architect_integration_tests::now_ms() - 60_000;
    let t_s = t_ms / 1000 + 1;
    let ok = ingest
        .http(push_event(
            None,
            &remote_write_body("lambda_up", 1.0, t_ms),
            None,
        ))
        .await;
    assert_eq!(ok.status, 204, "{}", ok.text());
    let a = ingest
        .http(push_event(
            Some("team-a"),
            &remote_write_body("lambda_up", 7.0, t_ms),
            None,
        ))
        .await;
    assert_eq!(a.status, 204, "{}", a.text());
    for (name, init) in [
        ("ingest", ingest.api.init_time()),
        ("query", query.api.init_time()),
        ("authorizer", authorizer.api.init_time()),
    ] {
        // Informational only (dev profile): the benchmark measures release builds.
        eprintln!("init time of {name} (dev profile): {init:?}");
    }

    // The query function reads it back from S3 + DynamoDB, per tenant.
    let anonymous = query.http(query_event("lambda_up", t_s, None, None)).await;
    assert_eq!(values(&anonymous), ["1"]);
    let team_a = query
        .http(query_event("lambda_up", t_s, Some("team-a"), None))
        .await;
    assert_eq!(values(&team_a), ["7"]);
    // Without the header, the tenant the authorizer vouched for applies.
    let vouched = query
        .http(query_event("lambda_up", t_s, None, Some("team-a")))
        .await;
    assert_eq!(values(&vouched), ["7"]);
    let other = query
        .http(query_event("lambda_up", t_s, Some("team-b"), None))
        .await;
    assert_eq!(values(&other), Vec::<String>::new());

    // A bad body gets exactly the answer `architect serve` gives.
    let garbage = b"\xff\xff\xff\xff\xff this is not snappy".to_vec();
    let bad = ingest.http(push_event(None, &garbage, None)).await;
    let server = Server::start().await;
    let served = reqwest::Client::new()
        .post(format!("{}/api/v1/push", server.url()))
        .header("Content-Type", CT_V1)
        .header("Content-Encoding", "snappy")
        .body(garbage)
        .send()
        .await
        .expect("post to architect serve");
    let served_status = served.status().as_u16();
    let served_text = served.text().await.expect("body");
    assert_eq!(bad.status, 400);
    assert_eq!(
        (bad.status, bad.text()),
        (served_status, served_text),
        "the function answers a bad body as architect serve does"
    );

    // The authorizer: a token item (hashed) for team-a.
    let token = "s3cret-token";
    emulator
        .dynamodb()
        .put_item()
        .table_name(&table)
        .item(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("token".into()),
        )
        .item(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S(architect_lambda::authorizer::token_key(
                token,
            )),
        )
        .item(
            "tenant",
            aws_sdk_dynamodb::types::AttributeValue::S("team-a".into()),
        )
        .send()
        .await
        .expect("put token item");
    let decide = |authorization: String, tenant: Option<&str>| {
        let mut headers = serde_json::json!({ "authorization": authorization });
        if let Some(t) = tenant {
            headers["x-scope-orgid"] = t.into();
        }
        serde_json::json!({
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/$default/POST/api/v1/push",
            "identitySource": [authorization],
            "routeKey": "POST /api/v1/push",
            "rawPath": "/api/v1/push",
            "rawQueryString": "",
            "headers": headers,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "abcdef1234",
                "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
                "domainPrefix": "abcdef1234",
                "http": { "method": "POST", "path": "/api/v1/push", "protocol": "HTTP/1.1",
                          "sourceIp": "192.0.2.1", "userAgent": "Prometheus/2.42.0" },
                "requestId": "id", "routeKey": "POST /api/v1/push", "stage": "$default",
                "time": "25/Nov/2026:02:30:00 +0000", "timeEpoch": 1_795_919_400_000_i64
            }
        })
    };
    let answer = |outcome| match outcome {
        architect_integration_tests::lambda::Outcome::Response(v) => v,
        architect_integration_tests::lambda::Outcome::Error(e) => panic!("authorizer failed: {e}"),
    };
    let allowed = answer(
        authorizer
            .api
            .invoke(decide(format!("Bearer {token}"), None))
            .await,
    );
    assert_eq!(allowed["isAuthorized"], true, "{allowed}");
    assert_eq!(allowed["context"]["tenant"], "team-a", "{allowed}");
    let wrong_tenant = answer(
        authorizer
            .api
            .invoke(decide(format!("Bearer {token}"), Some("team-b")))
            .await,
    );
    assert_eq!(wrong_tenant["isAuthorized"], false, "{wrong_tenant}");
    let unknown = answer(
        authorizer
            .api
            .invoke(decide("Bearer not-a-token".into(), None))
            .await,
    );
    assert_eq!(unknown["isAuthorized"], false, "{unknown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_without_its_configuration_fails_its_init_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut api = RuntimeApi::start().await;
    let log = dir.path().join("ingest.log");
    let mut process = api.spawn("ingest", &workspace_bin("ingest"), &[], &log);
    let mut status = None;
    for _ in 0..200 {
        status = process.try_wait();
        if status.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let status = status.expect("the function exits during init");
    assert!(!status.success(), "{status:?}");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(text.contains("ARCHITECT_BUCKET is not set"), "log: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn functions_forward_to_the_ingester_and_query_its_head() {
    let Some(emulator) = Emulator::start_or_skip("lambda functions with an ingester").await else {
        return;
    };
    let bucket = emulator.create_bucket("ingester").await.expect("bucket");
    let table = emulator.create_table("ingester").await.expect("table");
    // The ingester container's role: `architect serve` on the same bucket and table.
    let ingester = Server::start_with_config(&format!(
        "storage:\n  objects: {{ type: s3, bucket: {bucket}, path_style: true }}\n  index: {{ type: dynamodb, table: {table} }}\n  aws: {{ endpoint: \"{}\", region: us-east-1, access_key_id: testing, secret_access_key: testing }}\n",
        emulator.endpoint()
    ))
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut env: Vec<(&str, String)> = emulator.env();
    env.push(("ARCHITECT_BUCKET", bucket.clone()));
    env.push(("ARCHITECT_TABLE", table));
    env.push(("ARCHITECT_S3_PATH_STYLE", "true".into()));
    env.push(("ARCHITECT_INGESTER_URL", ingester.url()));
    let ingest = Function::start("ingest", &env, dir.path()).await;
    let query = Function::start("query", &env, dir.path()).await;

    let t_ms = architect_integration_tests::now_ms() - 30_000;
    let t_s = t_ms / 1000 + 1;
    let ok = ingest
        .http(push_event(
            Some("team-a"),
            &remote_write_body("hot_metric", 3.0, t_ms),
            None,
        ))
        .await;
    assert_eq!(ok.status, 204, "{}", ok.text());
    // A retry is a no-op in the ingester's head, as with `architect serve`.
    let again = ingest
        .http(push_event(
            Some("team-a"),
            &remote_write_body("hot_metric", 3.0, t_ms),
            None,
        ))
        .await;
    assert_eq!(again.status, 204, "{}", again.text());
    // A conflicting value for the same timestamp is refused by the head.
    let conflict = ingest
        .http(push_event(
            Some("team-a"),
            &remote_write_body("hot_metric", 4.0, t_ms),
            None,
        ))
        .await;
    assert_eq!(conflict.status, 400, "{}", conflict.text());

    // Not flushed yet: the query function sees it through the ingester's head.
    let hot = query
        .http(query_event("hot_metric", t_s, Some("team-a"), None))
        .await;
    assert_eq!(values(&hot), ["3"]);
    let labels = query
        .http(http_event(
            "GET",
            "/prometheus/api/v1/label/__name__/values",
            "",
            &[("X-Scope-OrgID", "team-a")],
            b"",
            false,
            None,
        ))
        .await;
    assert_eq!(labels.status, 200, "{}", labels.text());
    assert_eq!(labels.json()["data"], serde_json::json!(["hot_metric"]));

    // The admin flush through the query function cuts the ingester's head into S3.
    let flushed = query
        .http(http_event(
            "POST",
            "/api/v1/admin/flush",
            "",
            &[],
            b"",
            false,
            None,
        ))
        .await;
    assert_eq!(flushed.status, 200, "{}", flushed.text());
    assert_eq!(flushed.json()["samples"], 1, "{}", flushed.text());
    let cold = query
        .http(query_event("hot_metric", t_s, Some("team-a"), None))
        .await;
    assert_eq!(values(&cold), ["3"]);
    let objects = emulator
        .s3()
        .list_objects_v2()
        .bucket(&bucket)
        .send()
        .await
        .expect("list objects");
    assert!(
        objects
            .contents()
            .iter()
            .any(|o| o.key().is_some_and(|k| k.starts_with("team-a/metrics/"))),
        "the flush wrote team-a's block to S3"
    );
}

/// The `compact` function, fired by a scheduled event, merges the level-0 blocks the ingest
/// function wrote for a closed day, downsamples it and deletes the inputs; the query function
/// still answers the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compact_function_runs_a_pass_per_scheduled_event() {
    let Some(emulator) = Emulator::start_or_skip("compact function").await else {
        return;
    };
    let bucket = emulator.create_bucket("compact").await.expect("bucket");
    let table = emulator.create_table("compact").await.expect("table");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut env: Vec<(&str, String)> = emulator.env();
    env.push(("ARCHITECT_BUCKET", bucket));
    env.push(("ARCHITECT_TABLE", table));
    env.push(("ARCHITECT_S3_PATH_STYLE", "true".into()));
    let ingest = Function::start("ingest", &env, dir.path()).await;
    let query = Function::start("query", &env, dir.path()).await;

    // Three requests for a day that ended two days ago: three level-0 blocks (no ingester).
    let day_start = (architect_integration_tests::now_ms() / 86_400_000 - 2) * 86_400_000;
    for (k, v) in [(1, 10.0), (2, 20.0), (3, 30.0)] {
        let t = day_start + k * 3_600_000;
        let answer = ingest
            .http(push_event(
                None,
                &remote_write_body("lambda_counter", v, t),
                None,
            ))
            .await;
        assert_eq!(answer.status, 204, "{}", answer.text());
    }
    let at = day_start / 1000 + 3 * 3600;
    let before = values(
        &query
            .http(query_event("lambda_counter", at, None, None))
            .await,
    );
    assert_eq!(before, ["30"]);

    let mut compact_env = env.clone();
    compact_env.push((
        "ARCHITECT_COMPACTOR",
        r#"{"grace_period_secs": 0, "settle_secs": 0}"#.into(),
    ));
    let compact = Function::start("compact", &compact_env, dir.path()).await;
    let scheduled = serde_json::json!({
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-25T00:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/architect-compact"],
        "detail": {}
    });
    let report = match compact.api.invoke(scheduled.clone()).await {
        architect_integration_tests::lambda::Outcome::Response(r) => r,
        other => panic!("compact failed: {other:?}"),
    };
    assert_eq!(report["input_blocks"], 3, "{report}");
    assert_eq!(report["output_blocks"], 1, "{report}");
    assert_eq!(report["downsampled_blocks"], 2, "{report}");
    assert_eq!(report["deleted_blocks"], 3, "{report}");
    let after = values(
        &query
            .http(query_event("lambda_counter", at, None, None))
            .await,
    );
    assert_eq!(
        after, before,
        "the query function reads the compacted block"
    );

    // The next event finds nothing to do.
    let again = match compact.api.invoke(scheduled).await {
        architect_integration_tests::lambda::Outcome::Response(r) => r,
        other => panic!("compact failed: {other:?}"),
    };
    assert_eq!(
        (
            &again["input_blocks"],
            &again["output_blocks"],
            &again["downsampled_blocks"]
        ),
        (
            &serde_json::json!(0),
            &serde_json::json!(0),
            &serde_json::json!(0)
        ),
        "{again}"
    );
}

/// A scheduled event as EventBridge sends it.
fn scheduled_event(rule: &str) -> serde_json::Value {
    serde_json::json!({
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eab",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-25T00:00:00Z",
        "region": "us-east-1",
        "resources": [format!("arn:aws:events:us-east-1:123456789012:rule/{rule}")],
        "detail": {}
    })
}

/// Rules and alerts as deployed: a rule group and an Alertmanager configuration uploaded
/// through the query function, data through the ingest function; the `rules` function fires the
/// alert into the built-in Alertmanager (visible through the query function's API v2), and the
/// `alerts` function delivers it to a webhook. Each scheduled event is a fresh pass over the
/// table.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rules_and_alerts_functions_evaluate_and_notify_per_scheduled_event() {
    use architect_integration_tests::alerting::{Received, mimir_upload_body, webhook_sink};
    let Some(emulator) = Emulator::start_or_skip("rules and alerts functions").await else {
        return;
    };
    let bucket = emulator.create_bucket("rules").await.expect("bucket");
    let table = emulator.create_table("rules").await.expect("table");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut env: Vec<(&str, String)> = emulator.env();
    env.push(("ARCHITECT_BUCKET", bucket));
    env.push(("ARCHITECT_TABLE", table));
    env.push(("ARCHITECT_S3_PATH_STYLE", "true".into()));
    let ingest = Function::start("ingest", &env, dir.path()).await;
    let query = Function::start("query", &env, dir.path()).await;
    let received: Received = Default::default();
    let hook = format!(
        "{}/hook",
        webhook_sink(std::sync::Arc::clone(&received)).await
    );

    let group = "name: lambda\ninterval: 1m\nrules:\n- alert: LambdaDown\n  expr: lambda_up == 0\n  labels: {severity: page}\n";
    let answer = query
        .http(http_event(
            "POST",
            "/config/v1/rules/prod",
            "",
            &[("Content-Type", "application/yaml")],
            group.as_bytes(),
            false,
            None,
        ))
        .await;
    assert_eq!(answer.status, 202, "{}", answer.text());
    let am = format!(
        "route: {{receiver: hook, group_by: [alertname], group_wait: 0s}}\nreceivers: [{{name: hook, webhook_configs: [{{url: '{hook}'}}]}}]\n"
    );
    let answer = query
        .http(http_event(
            "POST",
            "/api/v1/alerts",
            "",
            &[("Content-Type", "application/yaml")],
            mimir_upload_body(&am).as_bytes(),
            false,
            None,
        ))
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text());
    // The group's slot is its latest 1m-aligned evaluation time, up to a minute ago: the sample
    // is older than that, so the evaluation sees it wherever the slot falls.
    let now = architect_integration_tests::now_ms();
    let answer = ingest
        .http(push_event(
            None,
            &remote_write_body("lambda_up", 0.0, now - 90_000),
            None,
        ))
        .await;
    assert_eq!(answer.status, 204, "{}", answer.text());

    let rules = Function::start("rules", &env, dir.path()).await;
    let report = match rules.api.invoke(scheduled_event("architect-rules")).await {
        architect_integration_tests::lambda::Outcome::Response(r) => r,
        other => panic!("rules failed: {other:?}"),
    };
    assert_eq!(report["evaluations"], 1, "{report}");
    assert_eq!(report["alerts_sent"], 1, "{report}");
    let alerts = query
        .http(http_event(
            "GET",
            "/alertmanager/api/v2/alerts",
            "",
            &[],
            b"",
            false,
            None,
        ))
        .await;
    assert_eq!(alerts.status, 200, "{}", alerts.text());
    assert_eq!(
        alerts.json()[0]["labels"]["alertname"],
        "LambdaDown",
        "{}",
        alerts.text()
    );

    let dispatch = Function::start("alerts", &env, dir.path()).await;
    let report = match dispatch
        .api
        .invoke(scheduled_event("architect-alerts"))
        .await
    {
        architect_integration_tests::lambda::Outcome::Response(r) => r,
        other => panic!("alerts failed: {other:?}"),
    };
    assert_eq!(report["notifications"], 1, "{report}");
    let got = received.lock().expect("lock").clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["alerts"][0]["labels"]["alertname"], "LambdaDown");
    // The next event has nothing new to say.
    let again = match dispatch
        .api
        .invoke(scheduled_event("architect-alerts"))
        .await
    {
        architect_integration_tests::lambda::Outcome::Response(r) => r,
        other => panic!("alerts failed: {other:?}"),
    };
    assert_eq!(again["notifications"], 0, "{again}");
}

/// An SQS event as the queue's event source mapping delivers it.
fn sqs_event(bodies: &[String]) -> serde_json::Value {
    let records: Vec<serde_json::Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, body)| {
            serde_json::json!({
                "messageId": format!("m-{i}"),
                "receiptHandle": format!("r-{i}"),
                "body": body,
                "attributes": {},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:architect-alert-wakeups",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    serde_json::json!({ "Records": records })
}

/// The next message of `queue` (deleted), waiting up to 30 s for it to become visible.
async fn next_message(sqs: &aws_sdk_sqs::Client, queue: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let out = sqs
            .receive_message()
            .queue_url(queue)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("ReceiveMessage");
        if let Some(m) = out.messages().first() {
            sqs.delete_message()
                .queue_url(queue)
                .receipt_handle(m.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("DeleteMessage");
            return m.body().unwrap_or_default().to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no wake-up message arrived"
        );
    }
}

/// Group timers shorter than the `alerts` function's one-minute schedule: an alert posted
/// through the query function wakes the function through SQS at once; that pass starts the
/// group and schedules the `group_wait` wake-up (delayed 3 s); the woken pass notifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sub_minute_group_timers_wake_the_alerts_function_through_sqs() {
    use architect_integration_tests::alerting::{
        Received, mimir_upload_body, rfc3339_ms, webhook_sink,
    };
    let Some(emulator) = Emulator::start_or_skip("alert wake-ups over SQS").await else {
        return;
    };
    let bucket = emulator.create_bucket("wake").await.expect("bucket");
    let table = emulator.create_table("wake").await.expect("table");
    let sqs = aws_sdk_sqs::Client::new(emulator.sdk_config());
    let queue = sqs
        .create_queue()
        .queue_name(architect_testkit::unique_name("wake"))
        .send()
        .await
        .expect("CreateQueue")
        .queue_url()
        .expect("queue url")
        .to_owned();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut env: Vec<(&str, String)> = emulator.env();
    env.push(("ARCHITECT_BUCKET", bucket));
    env.push(("ARCHITECT_TABLE", table));
    env.push(("ARCHITECT_S3_PATH_STYLE", "true".into()));
    env.push(("ARCHITECT_ALERT_QUEUE", queue.clone()));
    let query = Function::start("query", &env, dir.path()).await;
    let received: Received = Default::default();
    let hook = format!(
        "{}/hook",
        webhook_sink(std::sync::Arc::clone(&received)).await
    );
    let am = format!(
        "route: {{receiver: hook, group_by: [alertname], group_wait: 3s, group_interval: 1h}}\nreceivers: [{{name: hook, webhook_configs: [{{url: '{hook}'}}]}}]\n"
    );
    let answer = query
        .http(http_event(
            "POST",
            "/api/v1/alerts",
            "",
            &[("Content-Type", "application/yaml")],
            mimir_upload_body(&am).as_bytes(),
            false,
            None,
        ))
        .await;
    assert_eq!(answer.status, 201, "{}", answer.text());
    let now = architect_integration_tests::now_ms();
    let alerts =
        serde_json::json!([{"labels": {"alertname": "Fast"}, "startsAt": rfc3339_ms(now)}]);
    let answer = query
        .http(http_event(
            "POST",
            "/alertmanager/api/v2/alerts",
            "",
            &[("Content-Type", "application/json")],
            alerts.to_string().as_bytes(),
            false,
            None,
        ))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text());

    // The post's wake-up, at once.
    let first = next_message(&sqs, &queue).await;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&first).expect("json")["tenant"],
        "anonymous"
    );
    let dispatch = Function::start("alerts", &env, dir.path()).await;
    let woken_at = std::time::Instant::now();
    let report = match dispatch.api.invoke(sqs_event(&[first])).await {
        architect_integration_tests::lambda::Outcome::Response(r) => r,
        other => panic!("alerts failed: {other:?}"),
    };
    assert_eq!(report["notifications"], 0, "{report}");
    assert_eq!(report["wakeups"], 1, "{report}");
    // The group_wait wake-up, visible only after its delay.
    let second = next_message(&sqs, &queue).await;
    assert!(
        woken_at.elapsed() >= std::time::Duration::from_secs(2),
        "the group_wait wake-up came before its delay"
    );
    let report = match dispatch.api.invoke(sqs_event(&[second])).await {
        architect_integration_tests::lambda::Outcome::Response(r) => r,
        other => panic!("alerts failed: {other:?}"),
    };
    assert_eq!(report["notifications"], 1, "{report}");
    let got = received.lock().expect("lock").clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["alerts"][0]["labels"]["alertname"], "Fast");
}
