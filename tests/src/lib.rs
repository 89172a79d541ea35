//! Support for the cross-crate integration tests: running the `architect` binary as a child
//! process, talking remote_write / remote read / the Prometheus API to it, and finding peer
//! binaries (Prometheus, node_exporter) that some tests need.
//!
//! Every process a test starts is owned by a guard ([`Server`], [`ChildGuard`]) that kills it by
//! PID when dropped, so a panicking test leaves nothing running.

pub mod alerting;
pub mod lambda;
pub mod smtp;

use architect_protocols::prompb::{
    self, LabelMatcher, Query, ReadRequest, ReadResponse, WriteRequest,
};
use architect_protocols::{snappy, write_v2};
use prost::Message;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use std::collections::BTreeMap;
use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Content type of remote_write 1.0.
pub const CT_V1: &str = "application/x-protobuf";
/// Content type of remote_write 2.0.
pub const CT_V2: &str = "application/x-protobuf;proto=io.prometheus.write.v2.Request";

/// How long a server gets to write `listen.addr` and answer `/-/ready`.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// A small deterministic PRNG (xorshift64*), seeded from the clock unless given a seed, so tests
/// need no `rand` dependency. The seed is printed by [`Rng::from_clock`] for reproduction.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator with a fixed seed.
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    /// A generator seeded from the clock (or `TEST_SEED` when set); prints the seed.
    pub fn from_clock(what: &str) -> Self {
        let seed = std::env::var("TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
        eprintln!("{what}: TEST_SEED={seed}");
        Self::new(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `lo..hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo).max(1)
    }

    /// `n` random alphanumeric characters (incompressible for snappy, which has no entropy coder).
    pub fn alnum(&mut self, n: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..n)
            .map(|_| CHARS[(self.next_u64() % CHARS.len() as u64) as usize] as char)
            .collect()
    }
}

/// The workspace root (parent of this crate's directory). The runtime `CARGO_MANIFEST_DIR`
/// (set by cargo and nextest) comes first: a test binary reused from a shared target
/// directory may have been built in another checkout, whose path the compile-time value holds.
pub fn workspace_root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest
        .parent()
        .map_or_else(|| manifest.clone(), Path::to_path_buf)
}

/// Locates the `architect` binary: `ARCHITECT_BIN`, else [`workspace_bin`].
pub fn architect_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("ARCHITECT_BIN") {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "ARCHITECT_BIN={} does not exist", p.display());
        return p;
    }
    workspace_bin("architect")
}

/// Locates a dev-profile binary of the workspace: `$CARGO_TARGET_DIR/debug/NAME`, else next to
/// the running test binary (`target/debug/deps/..`), else `<workspace>/target/debug/NAME`.
/// Builds nothing: run `cargo build --workspace` first.
pub fn workspace_bin(name: &str) -> PathBuf {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        candidates.push(PathBuf::from(dir).join("debug").join(name));
    }
    if let Some(dir) = option_env!("CARGO_TARGET_DIR") {
        candidates.push(PathBuf::from(dir).join("debug").join(name));
    }
    if let Ok(exe) = std::env::current_exe() {
        // <target>/debug/deps/<test-binary>
        if let Some(debug) = exe.parent().and_then(Path::parent) {
            candidates.push(debug.join(name));
        }
    }
    candidates.push(workspace_root().join("target").join("debug").join(name));
    candidates
        .into_iter()
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("the {name} binary was not found (run `cargo build --workspace` first)")
        })
}

/// True when running in CI (`CI=true`), where a missing peer binary is a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Finds a peer binary on `PATH` (or `/usr/bin`, `/usr/sbin`, `/usr/local/bin`). When it is
/// missing: panics under `CI=true`, else prints a loud SKIPPED message and returns `None`.
pub fn require_binary(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/bin", "/usr/sbin", "/usr/local/bin"].map(PathBuf::from));
    if let Some(found) = dirs.iter().map(|d| d.join(name)).find(|p| p.is_file()) {
        return Some(found);
    }
    if in_ci() {
        panic!(
            "required binary `{name}` is not installed, and CI=true: a missing dependency must fail CI"
        );
    }
    let line = "*".repeat(78);
    eprintln!(
        "\n{line}\n*** SKIPPED: `{name}` is not installed; install it to run this test\n{line}\n"
    );
    None
}

/// A free TCP port on 127.0.0.1 (bound to port 0, then released) for peers that cannot report
/// the port they bound.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// Owns a child process; kills it (SIGKILL, by PID) on drop.
#[derive(Debug)]
pub struct ChildGuard {
    /// What the child is, for messages.
    pub name: String,
    child: Option<Child>,
    log: Option<PathBuf>,
}

impl ChildGuard {
    /// Spawns `cmd` with stdout/stderr appended to `log` (if given, else discarded).
    pub fn spawn(name: &str, mut cmd: Command, log: Option<&Path>) -> Self {
        cmd.stdin(Stdio::null());
        match log {
            Some(path) => {
                let f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .expect("open log file");
                let f2 = f.try_clone().expect("clone log file");
                cmd.stdout(f).stderr(f2);
            }
            None => {
                cmd.stdout(Stdio::null()).stderr(Stdio::null());
            }
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Self {
            name: name.to_string(),
            child: Some(child),
            log: log.map(Path::to_path_buf),
        }
    }

    /// The child's PID.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// The child's exit status if it has exited.
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// SIGKILL and reap.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM (by PID, through `kill -TERM`), then waits up to `timeout` for exit; SIGKILL after.
    /// Returns the exit status if it exited in time.
    pub fn terminate(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let mut c = self.child.take()?;
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = c.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!(
            "{} (pid {}) did not exit within {timeout:?} of SIGTERM; killing",
            self.name,
            c.id()
        );
        let _ = c.kill();
        let _ = c.wait();
        None
    }

    /// The tail of the child's log.
    pub fn log_tail(&self, bytes: usize) -> String {
        self.log
            .as_deref()
            .map(|p| tail(p, bytes))
            .unwrap_or_default()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if std::thread::panicking() && self.child.is_some() {
            let t = self.log_tail(4000);
            if !t.is_empty() {
                eprintln!(
                    "---- last log lines of {} ----\n{t}\n---- end of {} log ----",
                    self.name, self.name
                );
            }
        }
        self.kill();
    }
}

fn tail(path: &Path, bytes: usize) -> String {
    let mut s = String::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        let mut buf = Vec::new();
        let _ = f.read_to_end(&mut buf);
        let start = buf.len().saturating_sub(bytes);
        s = String::from_utf8_lossy(&buf[start..]).into_owned();
    }
    s
}

/// A running `architect serve` on a temporary data directory.
#[derive(Debug)]
pub struct Server {
    // Field order matters: the process is killed before the directory is removed.
    child: Option<ChildGuard>,
    addr: String,
    data_dir: PathBuf,
    log: PathBuf,
    starts: u32,
    config: Option<PathBuf>,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Starts a server on a fresh data directory and waits until it is ready.
    pub async fn start() -> Self {
        Self::start_inner(None).await
    }

    /// Starts a server with a YAML configuration file of the given content.
    pub async fn start_with_config(yaml: &str) -> Self {
        Self::start_inner(Some(yaml)).await
    }

    async fn start_inner(config_yaml: Option<&str>) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("architect-it-")
            .tempdir()
            .expect("tempdir");
        let data_dir = dir.path().join("data");
        std::fs::create_dir_all(&data_dir).expect("create data dir");
        let log = dir.path().join("architect.log");
        let config = config_yaml.map(|yaml| {
            let path = dir.path().join("config.yaml");
            std::fs::write(&path, yaml).expect("write config");
            path
        });
        let mut s = Self {
            child: None,
            addr: String::new(),
            data_dir,
            log,
            starts: 0,
            config,
            _dir: dir,
        };
        s.spawn().await;
        s
    }

    async fn spawn(&mut self) {
        let addr_file = self.data_dir.join("listen.addr");
        let _ = std::fs::remove_file(&addr_file);
        self.starts += 1;
        let _ = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .and_then(|mut f| {
                std::io::Write::write_all(
                    &mut f,
                    format!("==== start #{} ====\n", self.starts).as_bytes(),
                )
            });
        let mut cmd = Command::new(architect_bin());
        cmd.arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(&self.data_dir);
        if let Some(c) = &self.config {
            cmd.arg("--config").arg(c);
        }
        cmd.env(
            "ARCHITECT_LOG",
            std::env::var("ARCHITECT_LOG").unwrap_or_else(|_| "info".into()),
        );
        cmd.env("NO_COLOR", "1");
        let mut child = ChildGuard::spawn("architect", cmd, Some(&self.log));
        let deadline = Instant::now() + START_TIMEOUT;
        let addr = loop {
            if let Some(status) = child.try_wait() {
                panic!(
                    "architect exited during start-up ({status}); log:\n{}",
                    tail(&self.log, 4000)
                );
            }
            if let Ok(a) = std::fs::read_to_string(&addr_file) {
                let a = a.trim().to_string();
                if !a.is_empty() {
                    break a;
                }
            }
            assert!(
                Instant::now() < deadline,
                "architect did not write listen.addr in time; log:\n{}",
                tail(&self.log, 4000)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let url = format!("http://{addr}");
        let client = reqwest::Client::new();
        loop {
            if let Some(status) = child.try_wait() {
                panic!(
                    "architect exited before ready ({status}); log:\n{}",
                    tail(&self.log, 4000)
                );
            }
            if let Ok(r) = client.get(format!("{url}/-/ready")).send().await
                && r.status() == StatusCode::OK
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "architect not ready in time; log:\n{}",
                tail(&self.log, 4000)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.addr = addr;
        self.child = Some(child);
    }

    /// Base URL, e.g. `http://127.0.0.1:36031`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `host:port`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The server process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, ChildGuard::pid)
    }

    /// SIGKILL the server (no graceful shutdown, no final flush).
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill();
        }
    }

    /// Starts the server again on the same data directory (killing it first if it runs) and
    /// waits until it is ready (WAL replayed). The port may change.
    pub async fn restart(&mut self) {
        self.kill9();
        self.spawn().await;
    }

    /// Graceful stop: SIGTERM (the server flushes its head), waiting up to `timeout`. Returns
    /// true if it exited successfully in time.
    pub fn stop_gracefully(&mut self, timeout: Duration) -> bool {
        match self.child.take() {
            Some(mut c) => c.terminate(timeout).is_some_and(|s| s.success()),
            None => false,
        }
    }

    /// Starts the server again after [`Server::stop_gracefully`] or [`Server::kill9`].
    pub async fn start_again(&mut self) {
        assert!(self.child.is_none(), "the server is still running");
        self.spawn().await;
    }

    /// The server log so far.
    pub fn log(&self) -> String {
        tail(&self.log, usize::MAX)
    }

    /// `POST /api/v1/admin/flush`; panics unless 200. Returns the JSON stats.
    pub async fn flush(&self) -> serde_json::Value {
        let r = reqwest::Client::new()
            .post(format!("{}/api/v1/admin/flush", self.url()))
            .send()
            .await
            .expect("flush request");
        let status = r.status();
        let body = r.text().await.unwrap_or_default();
        assert_eq!(status, StatusCode::OK, "flush failed: {body}");
        serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("flush answer is not JSON ({e}): {body}"))
    }
}

/// A response: status, body text, headers.
pub type Answer = (StatusCode, String, HeaderMap);

/// Posts a raw body to `url/api/v1/push` with the given content type and encoding headers.
pub async fn post_write(
    client: &reqwest::Client,
    url: &str,
    tenant: Option<&str>,
    content_type: Option<&str>,
    content_encoding: Option<&str>,
    body: Vec<u8>,
) -> Result<Answer, reqwest::Error> {
    post_write_to(
        client,
        &format!("{url}/api/v1/push"),
        tenant,
        content_type,
        content_encoding,
        body,
    )
    .await
}

/// Posts a raw remote_write body to a full endpoint URL.
pub async fn post_write_to(
    client: &reqwest::Client,
    endpoint: &str,
    tenant: Option<&str>,
    content_type: Option<&str>,
    content_encoding: Option<&str>,
    body: Vec<u8>,
) -> Result<Answer, reqwest::Error> {
    let mut rb = client
        .post(endpoint)
        .header("X-Prometheus-Remote-Write-Version", "0.1.0");
    if let Some(t) = tenant {
        rb = rb.header("X-Scope-OrgID", t);
    }
    if let Some(ct) = content_type {
        rb = rb.header("Content-Type", ct);
    }
    if let Some(ce) = content_encoding {
        rb = rb.header("Content-Encoding", ce);
    }
    let r = rb.body(body).send().await?;
    let status = r.status();
    let headers = r.headers().clone();
    let body = r.text().await?;
    Ok((status, body, headers))
}

/// remote_write 1.0 with a given client.
pub async fn push_v1_with(
    client: &reqwest::Client,
    url: &str,
    tenant: Option<&str>,
    req: &WriteRequest,
) -> Result<Answer, reqwest::Error> {
    post_write(
        client,
        url,
        tenant,
        Some(CT_V1),
        Some("snappy"),
        snappy::compress(&req.encode_to_vec()),
    )
    .await
}

/// remote_write 1.0: snappy + `prometheus.WriteRequest`. Panics on transport errors.
pub async fn push_v1(url: &str, tenant: Option<&str>, req: &WriteRequest) -> Answer {
    push_v1_with(&reqwest::Client::new(), url, tenant, req)
        .await
        .expect("remote_write 1.0 request")
}

/// remote_write 1.0 to a full endpoint URL (Prometheus' receiver is at `/api/v1/write`).
pub async fn push_v1_to(endpoint: &str, req: &WriteRequest) -> Answer {
    post_write_to(
        &reqwest::Client::new(),
        endpoint,
        None,
        Some(CT_V1),
        Some("snappy"),
        snappy::compress(&req.encode_to_vec()),
    )
    .await
    .expect("remote_write 1.0 request")
}

/// remote_write 2.0: snappy + `io.prometheus.write.v2.Request`. Panics on transport errors.
pub async fn push_v2(url: &str, tenant: Option<&str>, req: &write_v2::Request) -> Answer {
    let body = snappy::compress(&req.encode_to_vec());
    post_write(
        &reqwest::Client::new(),
        url,
        tenant,
        Some(CT_V2),
        Some("snappy"),
        body,
    )
    .await
    .expect("remote_write 2.0 request")
}

/// Remote read (SAMPLES) of one query from `url/api/v1/read` (works for architect and for
/// Prometheus). Panics unless the answer is 200 and decodes.
pub async fn remote_read(url: &str, tenant: Option<&str>, query: Query) -> ReadResponse {
    remote_read_with(
        &reqwest::Client::new(),
        &format!("{url}/api/v1/read"),
        tenant,
        query,
    )
    .await
}

/// Remote read against a full endpoint URL.
pub async fn remote_read_with(
    client: &reqwest::Client,
    endpoint: &str,
    tenant: Option<&str>,
    query: Query,
) -> ReadResponse {
    let req = ReadRequest {
        queries: vec![query],
        accepted_response_types: vec![0],
    };
    let mut rb = client
        .post(endpoint)
        .header("Content-Type", "application/x-protobuf")
        .header("Content-Encoding", "snappy")
        .header("X-Prometheus-Remote-Read-Version", "0.1.0");
    if let Some(t) = tenant {
        rb = rb.header("X-Scope-OrgID", t);
    }
    let r = rb
        .body(snappy::compress(&req.encode_to_vec()))
        .send()
        .await
        .expect("remote read request");
    let status = r.status();
    let bytes = r.bytes().await.expect("remote read body");
    assert_eq!(
        status,
        StatusCode::OK,
        "remote read from {endpoint} failed: {}",
        String::from_utf8_lossy(&bytes)
    );
    let raw = snappy::decompress(&bytes, 1 << 30).expect("remote read answer is snappy");
    ReadResponse::decode(raw.as_slice()).expect("remote read answer is a ReadResponse")
}

/// A remote read query over `[start, end]` with the given matchers.
pub fn query(start: i64, end: i64, matchers: Vec<LabelMatcher>) -> Query {
    Query {
        start_timestamp_ms: start,
        end_timestamp_ms: end,
        matchers,
        hints: None,
    }
}

/// `name = value`.
pub fn eq(name: &str, value: &str) -> LabelMatcher {
    LabelMatcher {
        r#type: 0,
        name: name.into(),
        value: value.into(),
    }
}

/// `name =~ value`.
pub fn re(name: &str, value: &str) -> LabelMatcher {
    LabelMatcher {
        r#type: 2,
        name: name.into(),
        value: value.into(),
    }
}

/// A series' labels as text pairs (panics on non-UTF-8, which a server must never return).
pub type LabelSet = Vec<(String, String)>;

/// Samples by series: labels → `(timestamp, value bits)` in answer order.
pub type SeriesMap = BTreeMap<LabelSet, Vec<(i64, u64)>>;

/// Labels of a wire series as text pairs, in wire order.
pub fn label_set(labels: &[prompb::Label]) -> LabelSet {
    labels
        .iter()
        .map(|l| {
            (
                String::from_utf8(l.name.clone()).expect("label name is UTF-8"),
                String::from_utf8(l.value.clone()).expect("label value is UTF-8"),
            )
        })
        .collect()
}

/// Flattens a read response into a map; panics if a series appears twice.
pub fn series_map(resp: &ReadResponse) -> SeriesMap {
    let mut out = SeriesMap::new();
    for r in &resp.results {
        for ts in &r.timeseries {
            let labels = label_set(&ts.labels);
            let samples = ts
                .samples
                .iter()
                .map(|s| (s.timestamp, s.value.to_bits()))
                .collect();
            let prev = out.insert(labels.clone(), samples);
            assert!(
                prev.is_none(),
                "series {labels:?} appears twice in one read answer"
            );
        }
    }
    out
}

/// A 1.0 series from `(name, value)` pairs in the given order (not sorted: tests choose).
pub fn series(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> prompb::TimeSeries {
    prompb::TimeSeries {
        labels: labels
            .iter()
            .map(|(n, v)| prompb::Label::new(n, v))
            .collect(),
        samples: samples
            .iter()
            .map(|(t, v)| prompb::Sample {
                value: *v,
                timestamp: *t,
            })
            .collect(),
        ..Default::default()
    }
}

/// A 1.0 request of the given series.
pub fn write_request(series: Vec<prompb::TimeSeries>) -> WriteRequest {
    WriteRequest {
        timeseries: series,
        metadata: vec![],
    }
}

/// GET a Prometheus API path (with query pairs) and parse the JSON answer.
pub async fn get_json(
    url: &str,
    path: &str,
    tenant: Option<&str>,
    params: &[(&str, &str)],
) -> (StatusCode, serde_json::Value) {
    let rb = reqwest::Client::new()
        .get(format!("{url}{path}"))
        .query(params);
    send_json(rb, tenant, "GET", path).await
}

/// POST a form to a Prometheus API path and parse the JSON answer.
pub async fn post_form_json(
    url: &str,
    path: &str,
    tenant: Option<&str>,
    params: &[(&str, &str)],
) -> (StatusCode, serde_json::Value) {
    let rb = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .form(params);
    send_json(rb, tenant, "POST", path).await
}

/// Sends a request with the tenant header and parses the JSON answer (panics if it is not JSON).
async fn send_json(
    mut rb: reqwest::RequestBuilder,
    tenant: Option<&str>,
    method: &str,
    path: &str,
) -> (StatusCode, serde_json::Value) {
    if let Some(t) = tenant {
        rb = rb.header("X-Scope-OrgID", t);
    }
    let r = rb
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{method} {path}: answer is not JSON ({e}): {text}"));
    (status, json)
}

/// `/api/v1/series` for one selector: the label sets (as sorted maps), asserting the success
/// envelope.
pub async fn series_of(
    url: &str,
    tenant: Option<&str>,
    selector: &str,
) -> Vec<BTreeMap<String, String>> {
    let (status, json) = get_json(url, "/api/v1/series", tenant, &[("match[]", selector)]).await;
    assert_eq!(status, StatusCode::OK, "series {selector}: {json}");
    assert_eq!(json["status"], "success", "series {selector}: {json}");
    serde_json::from_value(json["data"].clone())
        .unwrap_or_else(|e| panic!("series data shape ({e}): {json}"))
}

/// `/api/v1/labels` (optionally with selectors), asserting the success envelope.
pub async fn label_names(url: &str, tenant: Option<&str>, params: &[(&str, &str)]) -> Vec<String> {
    let (status, json) = get_json(url, "/api/v1/labels", tenant, params).await;
    assert_eq!(status, StatusCode::OK, "labels: {json}");
    assert_eq!(json["status"], "success", "labels: {json}");
    serde_json::from_value(json["data"].clone())
        .unwrap_or_else(|e| panic!("labels data shape ({e}): {json}"))
}

/// `/api/v1/label/{name}/values`, asserting the success envelope.
pub async fn label_values(url: &str, tenant: Option<&str>, name: &str) -> Vec<String> {
    let (status, json) = get_json(url, &format!("/api/v1/label/{name}/values"), tenant, &[]).await;
    assert_eq!(status, StatusCode::OK, "label values: {json}");
    assert_eq!(json["status"], "success", "label values: {json}");
    serde_json::from_value(json["data"].clone())
        .unwrap_or_else(|e| panic!("label values data shape ({e}): {json}"))
}

/// Waits until `url` answers 200, failing with the child's log if it exits or times out.
pub async fn wait_http_ok(what: &str, url: &str, guard: &mut ChildGuard, timeout: Duration) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = guard.try_wait() {
            panic!(
                "{what} exited during start-up ({status}); log:\n{}",
                guard.log_tail(4000)
            );
        }
        if let Ok(r) = client.get(url).send().await
            && r.status() == StatusCode::OK
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what} not ready at {url} in {timeout:?}; log:\n{}",
            guard.log_tail(4000)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_peer_binary_skips_outside_ci_and_fails_in_ci() {
        let name = "architect-it-no-such-binary-7f3a";
        let got = std::panic::catch_unwind(|| require_binary(name));
        if in_ci() {
            assert!(got.is_err(), "under CI=true a missing binary must panic");
        } else {
            assert_eq!(
                got.ok(),
                Some(None),
                "outside CI a missing binary is a skip"
            );
        }
        assert!(
            require_binary("sh").is_some(),
            "sh is on every test machine"
        );
    }

    #[test]
    fn rng_is_deterministic_per_seed() {
        let (mut a, mut b) = (Rng::new(42), Rng::new(42));
        assert_eq!(a.next_u64(), b.next_u64());
        let s = a.alnum(100);
        assert_eq!(s.len(), 100);
        assert!(s.chars().all(|c| c.is_ascii_alphanumeric()));
        let r = a.range(500, 2000);
        assert!((500..2000).contains(&r));
    }
}
