//! remote_write against the real binary: the table of bad requests (each refused with a clear
//! 4xx and nothing stored), partial acceptance, idempotent retries, conflicting duplicates, and
//! remote_write 2.0 (symbols, histograms, exemplars, metadata, the written-count headers and
//! content-type negotiation).

use architect_integration_tests::*;
use architect_protocols::prompb::{self, BucketSpan, Histogram, Label, TimeSeries};
use architect_protocols::{snappy, write_v2};
use prost::Message;
use reqwest::StatusCode;

/// A remote_write request body and headers, and what the server must answer.
struct Case {
    name: &'static str,
    tenant: Option<String>,
    content_type: Option<&'static str>,
    encoding: Option<&'static str>,
    body: Vec<u8>,
    status: StatusCode,
    /// Substrings the (plain-text) answer must contain, case-insensitive.
    message: &'static [&'static str],
}

fn v1_body(req: &prompb::WriteRequest) -> Vec<u8> {
    snappy::compress(&req.encode_to_vec())
}

fn case(
    name: &'static str,
    body: Vec<u8>,
    status: StatusCode,
    message: &'static [&'static str],
) -> Case {
    Case {
        name,
        tenant: None,
        content_type: Some(CT_V1),
        encoding: Some("snappy"),
        body,
        status,
        message,
    }
}

/// A valid request of one series `bad_case_<suffix>` (used where the body must be fine and
/// something else about the request is wrong).
fn valid_body(metric: &str, t: i64) -> Vec<u8> {
    v1_body(&write_request(vec![series(
        &[("__name__", metric), ("case", metric)],
        &[(t, 1.0)],
    )]))
}

/// The remote_write answer, turning a transport error into a readable failure line.
async fn send(client: &reqwest::Client, url: &str, c: &Case) -> Result<Answer, String> {
    post_write(
        client,
        url,
        c.tenant.as_deref(),
        c.content_type,
        c.encoding,
        c.body.clone(),
    )
    .await
    .map_err(|e| format!("{}: transport error: {e:?}", c.name))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_with_a_clear_4xx_and_store_nothing() {
    let server = Server::start().await;
    let url = server.url();
    let now = now_ms();
    let t = now - 60_000;
    let mut rng = Rng::from_clock("bad_requests");

    let mut cases = vec![
        case(
            "bad snappy",
            b"\xff\xff\xff\xff\xff this is not snappy".to_vec(),
            StatusCode::BAD_REQUEST,
            &["snappy"],
        ),
        case(
            "snappy ok, bad protobuf",
            snappy::compress(b"\x0a\xff\xff\xff\xff\x0f garbage that is not a WriteRequest"),
            StatusCode::BAD_REQUEST,
            &["protobuf"],
        ),
        case(
            "unsorted labels",
            v1_body(&write_request(vec![series(
                &[
                    ("__name__", "bad_case_unsorted"),
                    ("zone", "z"),
                    ("app", "a"),
                ],
                &[(t, 1.0)],
            )])),
            StatusCode::BAD_REQUEST,
            &["not sorted", "bad_case_unsorted"],
        ),
        case(
            "duplicate label names",
            v1_body(&write_request(vec![series(
                &[
                    ("__name__", "bad_case_duplicate_name"),
                    ("a", "1"),
                    ("a", "2"),
                ],
                &[(t, 1.0)],
            )])),
            StatusCode::BAD_REQUEST,
            &["duplicate label name", "bad_case_duplicate_name"],
        ),
        case(
            "empty metric name",
            v1_body(&write_request(vec![series(
                &[("__name__", ""), ("case", "bad_case_empty_name")],
                &[(t, 1.0)],
            )])),
            StatusCode::BAD_REQUEST,
            &["without metric name"],
        ),
        case(
            "missing __name__",
            v1_body(&write_request(vec![series(
                &[("case", "bad_case_no_name"), ("job", "x")],
                &[(t, 1.0)],
            )])),
            StatusCode::BAD_REQUEST,
            &["without metric name", "bad_case_no_name"],
        ),
        case(
            "label value not UTF-8",
            v1_body(&write_request(vec![TimeSeries {
                labels: vec![
                    Label::new("__name__", "bad_case_utf8"),
                    Label {
                        name: b"v".to_vec(),
                        value: vec![b'a', 0xff, 0xfe, b'z'],
                    },
                ],
                samples: vec![prompb::Sample {
                    value: 1.0,
                    timestamp: t,
                }],
                ..Default::default()
            }])),
            StatusCode::BAD_REQUEST,
            &["utf-8", "bad_case_utf8"],
        ),
        case(
            "label name not UTF-8",
            v1_body(&write_request(vec![TimeSeries {
                labels: vec![
                    Label::new("__name__", "bad_case_utf8_name"),
                    Label {
                        name: vec![b'n', 0xc3, 0x28],
                        value: b"v".to_vec(),
                    },
                ],
                samples: vec![prompb::Sample {
                    value: 1.0,
                    timestamp: t,
                }],
                ..Default::default()
            }])),
            StatusCode::BAD_REQUEST,
            &["utf-8", "bad_case_utf8_name"],
        ),
        case(
            "sample more than 10 min in the future",
            v1_body(&write_request(vec![series(
                &[("__name__", "bad_case_future")],
                &[(now + 11 * 60 * 1000, 1.0)],
            )])),
            StatusCode::BAD_REQUEST,
            &["future", "bad_case_future"],
        ),
        Case {
            content_type: Some("application/json"),
            ..case(
                "wrong content type",
                valid_body("bad_case_content_type", t),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &["content type"],
            )
        },
        Case {
            content_type: Some("application/x-protobuf;proto=io.prometheus.write.v3.Request"),
            ..case(
                "unknown proto in content type",
                valid_body("bad_case_unknown_proto", t),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &["proto"],
            )
        },
        Case {
            encoding: Some("gzip"),
            ..case(
                "wrong content encoding (gzip)",
                valid_body("bad_case_gzip", t),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &["encoding", "gzip"],
            )
        },
        Case {
            tenant: Some("a/b".into()),
            ..case(
                "bad tenant id a/b",
                valid_body("bad_case_tenant_slash", t),
                StatusCode::BAD_REQUEST,
                &["tenant"],
            )
        },
        Case {
            tenant: Some("x".repeat(151)),
            ..case(
                "tenant id too long",
                valid_body("bad_case_tenant_long", t),
                StatusCode::BAD_REQUEST,
                &["tenant"],
            )
        },
        Case {
            tenant: Some("..".into()),
            ..case(
                "tenant id ..",
                valid_body("bad_case_tenant_dots", t),
                StatusCode::BAD_REQUEST,
                &["tenant"],
            )
        },
    ];

    // Decompression bomb, hand-made: a 7-byte body whose snappy header declares 1 GiB.
    let mut bomb = Vec::new();
    let mut n: u64 = 1 << 30;
    while n >= 0x80 {
        bomb.push((n as u8) | 0x80);
        n >>= 7;
    }
    bomb.push(n as u8);
    bomb.extend_from_slice(b"\x00\x00");
    cases.push(case(
        "decompression bomb (declared 1 GiB)",
        bomb,
        StatusCode::PAYLOAD_TOO_LARGE,
        &["too large"],
    ));

    // Decompression bomb, real: a valid request (one series whose label value is 65 MiB of 'a')
    // that compresses to ~3 MiB, under the body limit, but decompresses over 64 MiB.
    let huge = write_request(vec![series(
        &[
            ("__name__", "bad_case_bomb"),
            ("pad", &"a".repeat(65 * 1024 * 1024)),
        ],
        &[(t, 1.0)],
    )]);
    let real_bomb = v1_body(&huge);
    drop(huge);
    assert!(
        real_bomb.len() < 16 * 1024 * 1024,
        "the bomb must be under the body limit: {}",
        real_bomb.len()
    );
    cases.push(case(
        "decompression bomb (real, 65 MiB)",
        real_bomb,
        StatusCode::PAYLOAD_TOO_LARGE,
        &["too large"],
    ));

    // Oversize body: >16 MiB compressed, made of valid series with incompressible label values
    // (snappy has no entropy coder), each under the label-length limits.
    let mut big = Vec::new();
    let mut i = 0;
    let mut size = 0;
    while size <= 16 * 1024 * 1024 + 1024 {
        let blob = rng.alnum(2000);
        size += blob.len() + 40;
        big.push(series(
            &[
                ("__name__", "bad_case_oversize"),
                ("blob", &blob),
                ("i", &i.to_string()),
            ],
            &[(t, 1.0)],
        ));
        i += 1;
    }
    let oversize = v1_body(&write_request(big));
    assert!(
        oversize.len() > 16 * 1024 * 1024,
        "oversize body is only {} bytes",
        oversize.len()
    );
    cases.push(case(
        "oversize body (>16 MiB)",
        oversize,
        StatusCode::PAYLOAD_TOO_LARGE,
        &["limit"],
    ));

    let client = reqwest::Client::new();
    let mut failures = Vec::new();
    for c in &cases {
        match send(&client, &url, c).await {
            Err(e) => failures.push(e),
            Ok((status, body, headers)) => {
                eprintln!(
                    "{:<40} -> {} {}",
                    c.name,
                    status.as_u16(),
                    body.trim().chars().take(200).collect::<String>()
                );
                if status != c.status {
                    failures.push(format!(
                        "{}: expected {}, got {} {:?}",
                        c.name,
                        c.status,
                        status,
                        body.trim()
                    ));
                    continue;
                }
                let lower = body.to_lowercase();
                for m in c.message {
                    if !lower.contains(&m.to_lowercase()) {
                        failures.push(format!(
                            "{}: answer {:?} does not mention {:?}",
                            c.name,
                            body.trim(),
                            m
                        ));
                    }
                }
                if c.status == StatusCode::BAD_REQUEST && body.trim().is_empty() {
                    failures.push(format!("{}: empty error message", c.name));
                }
                let ct = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if !c.message.is_empty() && !ct.starts_with("text/plain") {
                    failures.push(format!(
                        "{}: error content type is {ct:?}, expected text/plain",
                        c.name
                    ));
                }
            }
        }
    }

    // Nothing of any of them is stored: no bad_case_* series, no series with a `case` label.
    for selector in [r#"{__name__=~"bad_case_.*"}"#, r#"{case=~".+"}"#] {
        let found = series_of(&url, None, selector).await;
        if !found.is_empty() {
            failures.push(format!(
                "/api/v1/series {selector} should be empty, got {found:?}"
            ));
        }
    }
    for m in [re("__name__", "bad_case_.*"), re("case", ".+")] {
        let got =
            series_map(&remote_read(&url, None, query(0, now + 3_600_000, vec![m.clone()])).await);
        if !got.is_empty() {
            failures.push(format!(
                "remote read {m:?} should be empty, got {:?}",
                got.keys().collect::<Vec<_>>()
            ));
        }
    }
    let names = label_values(&url, None, "__name__").await;
    if names.iter().any(|n| n.starts_with("bad_case_")) {
        failures.push(format!(
            "label values of __name__ include bad cases: {names:?}"
        ));
    }
    // The server is still healthy after all that.
    let ok = push_v1(
        &url,
        None,
        &write_request(vec![series(
            &[("__name__", "after_bad_cases")],
            &[(t, 7.0)],
        )]),
    )
    .await;
    if ok.0 != StatusCode::NO_CONTENT {
        failures.push(format!("a good write after the bad cases failed: {ok:?}"));
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn partial_acceptance_stores_the_good_series_and_names_the_bad_one() {
    let server = Server::start().await;
    let url = server.url();
    let t = now_ms() - 30_000;
    let req = write_request(vec![
        series(
            &[("__name__", "partial_good_one"), ("job", "a")],
            &[(t, 1.5), (t + 1000, 2.5)],
        ),
        series(
            &[("__name__", "partial_bad"), ("zone", "z"), ("job", "b")],
            &[(t, 3.0)],
        ),
        series(
            &[("__name__", "partial_good_two"), ("job", "c")],
            &[(t, -4.25)],
        ),
    ]);
    let (status, body, _) = push_v1(&url, None, &req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "body: {body}");
    assert!(
        body.contains("partial_bad"),
        "the answer must name the bad series: {body:?}"
    );
    assert!(
        !body.contains("partial_good"),
        "the answer must not blame a good series: {body:?}"
    );

    let got = series_map(
        &remote_read(
            &url,
            None,
            query(t - 1, t + 5000, vec![re("__name__", "partial_.*")]),
        )
        .await,
    );
    let one: LabelSet = vec![
        ("__name__".into(), "partial_good_one".into()),
        ("job".into(), "a".into()),
    ];
    let two: LabelSet = vec![
        ("__name__".into(), "partial_good_two".into()),
        ("job".into(), "c".into()),
    ];
    assert_eq!(
        got.len(),
        2,
        "exactly the two good series are stored: {got:?}"
    );
    assert_eq!(
        got.get(&one),
        Some(&vec![(t, 1.5f64.to_bits()), (t + 1000, 2.5f64.to_bits())])
    );
    assert_eq!(got.get(&two), Some(&vec![(t, (-4.25f64).to_bits())]));
    assert!(series_of(&url, None, "partial_bad").await.is_empty());

    // The same partial request again: still 400 for the bad one, nothing doubled.
    let (status, body, _) = push_v1(&url, None, &req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "body: {body}");
    let again = series_map(
        &remote_read(
            &url,
            None,
            query(t - 1, t + 5000, vec![re("__name__", "partial_.*")]),
        )
        .await,
    );
    assert_eq!(again, got);
}

fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        l.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
    })
}

async fn self_metrics(url: &str) -> String {
    reqwest::get(format!("{url}/metrics"))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics body")
}

#[tokio::test]
async fn a_retried_identical_request_is_accepted_once() {
    let server = Server::start().await;
    let url = server.url();
    let t = now_ms() - 120_000;
    let req = write_request(
        (0..3)
            .map(|s| {
                let name = format!("retry_metric_{s}");
                let samples: Vec<(i64, f64)> = (0..5)
                    .map(|i| (t + i * 1000, (s * 10 + i) as f64 / 3.0))
                    .collect();
                series(&[("__name__", &name), ("job", "retry")], &samples)
            })
            .collect(),
    );
    let before = self_metrics(&url).await;
    let ingested =
        |text: &str| metric(text, "architect_ingester_samples_ingested_total").unwrap_or(0.0);
    let dups =
        |text: &str| metric(text, "architect_ingester_duplicate_samples_total").unwrap_or(0.0);

    let first = push_v1(&url, None, &req).await;
    assert_eq!(first.0, StatusCode::NO_CONTENT, "first: {first:?}");
    let mid = self_metrics(&url).await;
    let second = push_v1(&url, None, &req).await;
    assert_eq!(second.0, StatusCode::NO_CONTENT, "retry: {second:?}");
    let after = self_metrics(&url).await;

    let got = series_map(
        &remote_read(
            &url,
            None,
            query(t - 1000, t + 10_000, vec![eq("job", "retry")]),
        )
        .await,
    );
    assert_eq!(got.len(), 3);
    for (labels, samples) in &got {
        let s: i64 = labels[0]
            .1
            .trim_start_matches("retry_metric_")
            .parse()
            .expect("series number");
        let want: Vec<(i64, u64)> = (0..5)
            .map(|i| (t + i * 1000, ((s * 10 + i) as f64 / 3.0).to_bits()))
            .collect();
        assert_eq!(samples, &want, "{labels:?}");
    }
    assert_eq!(ingested(&mid) - ingested(&before), 15.0, "/metrics:\n{mid}");
    assert_eq!(
        ingested(&after) - ingested(&mid),
        0.0,
        "a retry must not count as new samples; /metrics:\n{after}"
    );
    assert_eq!(dups(&after) - dups(&mid), 15.0, "/metrics:\n{after}");

    // After a flush the retry is still idempotent (the head no longer holds the data).
    server.flush().await;
    let third = push_v1(&url, None, &req).await;
    assert_eq!(
        third.0,
        StatusCode::NO_CONTENT,
        "retry after flush: {third:?}"
    );
    let got2 = series_map(
        &remote_read(
            &url,
            None,
            query(t - 1000, t + 10_000, vec![eq("job", "retry")]),
        )
        .await,
    );
    assert_eq!(
        got2, got,
        "a retry after a flush must not duplicate samples"
    );
}

#[tokio::test]
async fn a_conflicting_duplicate_is_refused_and_the_original_value_stays() {
    let server = Server::start().await;
    let url = server.url();
    let t = now_ms() - 10_000;
    let labels = [("__name__", "conflict_metric"), ("job", "x")];
    let first = push_v1(
        &url,
        None,
        &write_request(vec![series(&labels, &[(t, 1.0)])]),
    )
    .await;
    assert_eq!(first.0, StatusCode::NO_CONTENT, "{first:?}");
    let (status, body, _) = push_v1(
        &url,
        None,
        &write_request(vec![series(&labels, &[(t, 2.0), (t + 1000, 3.0)])]),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "body: {body}");
    let lower = body.to_lowercase();
    assert!(
        lower.contains("same timestamp") && body.contains("conflict_metric"),
        "{body:?}"
    );
    let read = || async {
        series_map(
            &remote_read(
                &url,
                None,
                query(t - 1, t + 2000, vec![eq("__name__", "conflict_metric")]),
            )
            .await,
        )
    };
    let got = read().await;
    let want = vec![(t, 1.0f64.to_bits()), (t + 1000, 3.0f64.to_bits())];
    assert_eq!(
        got.values().next(),
        Some(&want),
        "original kept, the non-conflicting sample stored: {got:?}"
    );
}

#[tokio::test]
async fn a_conflicting_duplicate_of_flushed_data_does_not_replace_the_original() {
    let server = Server::start().await;
    let url = server.url();
    let t = now_ms() - 10_000;
    let labels = [("__name__", "conflict_metric"), ("job", "x")];
    let first = push_v1(
        &url,
        None,
        &write_request(vec![series(&labels, &[(t, 1.0)])]),
    )
    .await;
    assert_eq!(first.0, StatusCode::NO_CONTENT, "{first:?}");
    let read = || async {
        series_map(
            &remote_read(
                &url,
                None,
                query(t - 1, t + 2000, vec![eq("__name__", "conflict_metric")]),
            )
            .await,
        )
    };

    // When the original is already in a block, not in the head: Mimir answers 400 only
    // while the sample is in the ingester head; after a flush the write cannot be compared any
    // more, but the stored value must still be the original one.
    server.flush().await;
    let (status, body, _) = push_v1(
        &url,
        None,
        &write_request(vec![series(&labels, &[(t, 5.0)])]),
    )
    .await;
    eprintln!("conflicting write after flush: {} {}", status, body.trim());
    let got = read().await;
    assert_eq!(
        got.values().next().map(|s| s.first().copied()),
        Some(Some((t, 1.0f64.to_bits()))),
        "after flush + conflicting write ({status} {body:?}), read must still give the original value: {got:?}"
    );
}

/// A small native (integer) histogram.
fn native_histogram(t: i64) -> Histogram {
    Histogram {
        count: Some(prompb::histogram::Count::CountInt(6)),
        sum: 12.5,
        schema: 1,
        zero_threshold: 0.001,
        zero_count: Some(prompb::histogram::ZeroCount::ZeroCountInt(1)),
        positive_spans: vec![BucketSpan {
            offset: 0,
            length: 3,
        }],
        positive_deltas: vec![1, 1, 0],
        reset_hint: 2,
        timestamp: t,
        ..Default::default()
    }
}

#[tokio::test]
async fn remote_write_2_0_with_symbols_histograms_exemplars_and_metadata() {
    let server = Server::start().await;
    let url = server.url();
    let t = now_ms() - 20_000;
    let symbols: Vec<Vec<u8>> = [
        "",                    // 0: the spec requires symbols[0] = ""
        "__name__",            // 1
        "rw2_requests_total",  // 2
        "job",                 // 3
        "api",                 // 4
        "rw2_latency_seconds", // 5
        "trace_id",            // 6
        "abc123",              // 7
        "Total requests.",     // 8
        "Request latency.",    // 9
        "seconds",             // 10
        "instance",            // 11
        "host:9090",           // 12
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let req = write_v2::Request {
        symbols: symbols.clone(),
        timeseries: vec![
            write_v2::TimeSeries {
                labels_refs: vec![1, 2, 11, 12, 3, 4],
                samples: vec![
                    prompb::Sample {
                        value: 10.0,
                        timestamp: t,
                    },
                    prompb::Sample {
                        value: 11.0,
                        timestamp: t + 1000,
                    },
                    prompb::Sample {
                        value: 12.75,
                        timestamp: t + 2000,
                    },
                ],
                exemplars: vec![write_v2::Exemplar {
                    labels_refs: vec![6, 7],
                    value: 0.5,
                    timestamp: t + 1000,
                }],
                metadata: Some(write_v2::Metadata {
                    r#type: 1,
                    help_ref: 8,
                    unit_ref: 0,
                }),
                ..Default::default()
            },
            write_v2::TimeSeries {
                labels_refs: vec![1, 5, 3, 4],
                histograms: vec![native_histogram(t)],
                metadata: Some(write_v2::Metadata {
                    r#type: 3,
                    help_ref: 9,
                    unit_ref: 10,
                }),
                ..Default::default()
            },
        ],
    };
    let (status, body, headers) = push_v2(&url, Some("rw2"), &req).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "body: {body}");
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    assert_eq!(
        header("X-Prometheus-Remote-Write-Samples-Written").as_deref(),
        Some("3"),
        "{headers:?}"
    );
    assert_eq!(
        header("X-Prometheus-Remote-Write-Histograms-Written").as_deref(),
        Some("1"),
        "{headers:?}"
    );
    assert_eq!(
        header("X-Prometheus-Remote-Write-Exemplars-Written").as_deref(),
        Some("1"),
        "{headers:?}"
    );

    let got = series_map(
        &remote_read(
            &url,
            Some("rw2"),
            query(t - 1, t + 5000, vec![eq("__name__", "rw2_requests_total")]),
        )
        .await,
    );
    let labels: LabelSet = [
        ("__name__", "rw2_requests_total"),
        ("instance", "host:9090"),
        ("job", "api"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(
        got.get(&labels),
        Some(&vec![
            (t, 10f64.to_bits()),
            (t + 1000, 11f64.to_bits()),
            (t + 2000, 12.75f64.to_bits())
        ]),
        "{got:?}"
    );
    assert_eq!(got.len(), 1);
    // The histogram series exists (the Prometheus API lists it).
    let hist = series_of(&url, Some("rw2"), "rw2_latency_seconds").await;
    assert_eq!(hist.len(), 1, "{hist:?}");
    assert_eq!(hist[0].get("job").map(String::as_str), Some("api"));
    // Labels sent as refs in unsorted order (instance after __name__, job last) come out sorted
    // above; the other tenant sees nothing.
    assert!(series_of(&url, None, "rw2_requests_total").await.is_empty());

    // A retry of the same 2.0 request is accepted and changes nothing.
    let (status, body, _) = push_v2(&url, Some("rw2"), &req).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "retry: {body}");
    let again = series_map(
        &remote_read(
            &url,
            Some("rw2"),
            query(t - 1, t + 5000, vec![eq("__name__", "rw2_requests_total")]),
        )
        .await,
    );
    assert_eq!(again, got);

    // The data survives a flush.
    server.flush().await;
    let flushed = series_map(
        &remote_read(
            &url,
            Some("rw2"),
            query(t - 1, t + 5000, vec![eq("__name__", "rw2_requests_total")]),
        )
        .await,
    );
    assert_eq!(flushed, got, "after flush");
    assert_eq!(
        series_of(&url, Some("rw2"), "rw2_latency_seconds")
            .await
            .len(),
        1,
        "histogram series after flush"
    );
}

#[tokio::test]
async fn remote_write_content_type_negotiation() {
    let server = Server::start().await;
    let url = server.url();
    let client = reqwest::Client::new();
    let t = now_ms() - 5000;
    let v2 = |name: &str| write_v2::Request {
        symbols: vec![b"".to_vec(), b"__name__".to_vec(), name.as_bytes().to_vec()],
        timeseries: vec![write_v2::TimeSeries {
            labels_refs: vec![1, 2],
            samples: vec![prompb::Sample {
                value: 1.0,
                timestamp: t,
            }],
            ..Default::default()
        }],
    };
    let v2_body = |name: &str| snappy::compress(&v2(name).encode_to_vec());
    let v1 = |name: &str| valid_body(name, t);
    let cases: Vec<(&str, Vec<u8>, StatusCode, Option<&str>)> = vec![
        (
            "application/x-protobuf;proto=io.prometheus.write.v2.Request",
            v2_body("neg_v2"),
            StatusCode::NO_CONTENT,
            Some("neg_v2"),
        ),
        (
            "application/x-protobuf; proto=io.prometheus.write.v2.Request",
            v2_body("neg_v2_space"),
            StatusCode::NO_CONTENT,
            Some("neg_v2_space"),
        ),
        (
            "application/x-protobuf;proto=prometheus.WriteRequest",
            v1("neg_v1_explicit"),
            StatusCode::NO_CONTENT,
            Some("neg_v1_explicit"),
        ),
        (
            "application/x-protobuf",
            v1("neg_v1_plain"),
            StatusCode::NO_CONTENT,
            Some("neg_v1_plain"),
        ),
        (
            "application/x-protobuf;proto=io.prometheus.write.v3.Request",
            v2_body("neg_unknown"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
        ),
        (
            "application/x-protobuf;proto=foo.Bar",
            v1("neg_foo"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
        ),
        (
            "text/plain",
            v1("neg_text"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
        ),
    ];
    let mut failures = Vec::new();
    for (ct, body, want, stored) in cases {
        let (status, text, headers) =
            post_write(&client, &url, None, Some(ct), Some("snappy"), body)
                .await
                .expect("request");
        if status != want {
            failures.push(format!("{ct}: expected {want}, got {status} {text:?}"));
        }
        let has_written = headers.contains_key("X-Prometheus-Remote-Write-Samples-Written");
        if status == StatusCode::NO_CONTENT && ct.contains("v2") && !has_written {
            failures.push(format!(
                "{ct}: a 2.0 answer must carry the written-count headers: {headers:?}"
            ));
        }
        if let Some(name) = stored
            && series_of(&url, None, name).await.len() != 1
        {
            failures.push(format!("{ct}: {name} was not stored"));
        }
    }
    let names = label_values(&url, None, "__name__").await;
    for bad in ["neg_unknown", "neg_foo", "neg_text"] {
        if names.iter().any(|n| n == bad) {
            failures.push(format!("{bad} was stored although refused: {names:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn remote_write_2_0_bad_symbol_references_are_refused() {
    let server = Server::start().await;
    let url = server.url();
    let t = now_ms() - 5000;
    let symbols = vec![
        b"".to_vec(),
        b"__name__".to_vec(),
        b"rw2_bad_ref".to_vec(),
        b"job".to_vec(),
    ];
    let good = write_v2::TimeSeries {
        labels_refs: vec![1, 2],
        samples: vec![prompb::Sample {
            value: 1.0,
            timestamp: t,
        }],
        ..Default::default()
    };
    let cases = vec![
        ("label ref past the symbols", vec![1, 2, 3, 99]),
        ("odd number of label refs", vec![1, 2, 3]),
    ];
    for (name, refs) in cases {
        let req = write_v2::Request {
            symbols: symbols.clone(),
            timeseries: vec![
                good.clone(),
                write_v2::TimeSeries {
                    labels_refs: refs,
                    samples: vec![prompb::Sample {
                        value: 2.0,
                        timestamp: t,
                    }],
                    ..Default::default()
                },
            ],
        };
        let (status, body, _) = push_v2(&url, None, &req).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {body}");
        assert!(
            body.to_lowercase().contains("symbol") || body.to_lowercase().contains("ref"),
            "{name}: {body:?}"
        );
    }
    // Metadata and exemplar refs are checked too.
    let md = write_v2::Request {
        symbols: symbols.clone(),
        timeseries: vec![write_v2::TimeSeries {
            metadata: Some(write_v2::Metadata {
                r#type: 1,
                help_ref: 42,
                unit_ref: 0,
            }),
            ..good.clone()
        }],
    };
    let (status, body, _) = push_v2(&url, None, &md).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "metadata help_ref 42: {body}"
    );
    let ex = write_v2::Request {
        symbols,
        timeseries: vec![write_v2::TimeSeries {
            exemplars: vec![write_v2::Exemplar {
                labels_refs: vec![3, 1000],
                value: 1.0,
                timestamp: t,
            }],
            ..good
        }],
    };
    let (status, body, _) = push_v2(&url, None, &ex).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "exemplar ref 1000: {body}");
    // An undecodable request stores nothing, not even its good series.
    assert!(
        series_of(&url, None, "rw2_bad_ref").await.is_empty(),
        "nothing of a request with a bad symbol ref is stored"
    );
}
