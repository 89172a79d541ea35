//! The notification pipeline across stateless passes over one embedded index: group_wait and
//! group_interval timers, deduplication against the notification log, repeat_interval,
//! silences, inhibition, resolved notifications, and a pass that dies between sending and
//! logging (exactly one duplicate, nothing lost).

use architect_alertmanager::alert::Alert;
use architect_alertmanager::api::{PostableSilence, TenantAlertmanager};
use architect_alertmanager::config::Config;
use architect_alertmanager::dispatch::{Dispatcher, Integration, IntegrationFactory, Notification};
use architect_alertmanager::silence::SilenceMatcher;
use architect_alertmanager::state::{AmState, StoredConfig};
use architect_index::embedded::EmbeddedIndex;
use architect_index::{Condition, Index, IndexError, Item, Page, QueryRequest, WriteOp};
use architect_model::{Labels, TenantId};
use async_trait::async_trait;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Now (to the second): index items expire by the real clock, so times are real times.
fn t0() -> i64 {
    chrono::Utc::now().timestamp() * 1000
}

#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<(String, String, Vec<String>)>>);

impl Recorder {
    /// (receiver, status, alertnames/instance sorted)
    fn take(&self) -> Vec<(String, String, Vec<String>)> {
        std::mem::take(&mut *self.0.lock().expect("lock"))
    }
}

#[derive(Debug)]
struct Fake {
    sent: Arc<Recorder>,
}

#[async_trait]
impl Integration for Fake {
    fn kind(&self) -> &'static str {
        "webhook"
    }
    fn send_resolved(&self) -> bool {
        true
    }
    async fn notify(&self, n: &Notification, now: i64) -> Result<(), String> {
        let mut names: Vec<String> = n
            .alerts
            .iter()
            .map(|a| {
                format!(
                    "{}/{}{}",
                    a.labels.get("alertname").unwrap_or(""),
                    a.labels.get("instance").unwrap_or(""),
                    if a.resolved_at(now) { ":resolved" } else { "" }
                )
            })
            .collect();
        names.sort();
        self.sent.0.lock().expect("lock").push((
            n.receiver.clone(),
            n.status(now).to_string(),
            names,
        ));
        Ok(())
    }
}

struct Factory(Arc<Recorder>);

impl IntegrationFactory for Factory {
    fn integrations(&self, config: &Config, receiver: &str) -> Vec<Arc<dyn Integration>> {
        match config.receiver(receiver) {
            Some(r) if !r.webhook_configs.is_empty() => vec![Arc::new(Fake {
                sent: Arc::clone(&self.0),
            })],
            _ => Vec::new(),
        }
    }
}

/// An index that fails the next notification-log write (a pass killed after sending).
#[derive(Debug)]
struct DieBeforeLog {
    inner: Arc<dyn Index>,
    armed: AtomicBool,
}

#[async_trait]
impl Index for DieBeforeLog {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, IndexError> {
        self.inner.get(pk, sk).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), IndexError> {
        if item.pk.ends_with("#am#nflog") && self.armed.swap(false, Ordering::SeqCst) {
            return Err(IndexError::Unavailable("killed before logging".into()));
        }
        self.inner.put(item, condition).await
    }
    async fn delete(&self, pk: &str, sk: &str, condition: Condition) -> Result<(), IndexError> {
        self.inner.delete(pk, sk, condition).await
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), IndexError> {
        self.inner.transact(ops).await
    }
    async fn query(&self, request: QueryRequest) -> Result<Page, IndexError> {
        self.inner.query(request).await
    }
}

const CONFIG: &str = r#"
route:
  receiver: team
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 1h
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [instance]
receivers:
  - name: team
    webhook_configs: [{url: 'http://127.0.0.1:9/hook'}]
"#;

struct Fixture {
    _dir: tempfile::TempDir,
    index: Arc<DieBeforeLog>,
    sent: Arc<Recorder>,
    tenant: TenantId,
}

impl Fixture {
    async fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let inner: Arc<dyn Index> =
            Arc::new(EmbeddedIndex::open(&dir.path().join("i.redb")).expect("index"));
        let f = Self {
            _dir: dir,
            index: Arc::new(DieBeforeLog {
                inner,
                armed: AtomicBool::new(false),
            }),
            sent: Arc::default(),
            tenant: TenantId::new("t").expect("tenant"),
        };
        let stored = StoredConfig {
            alertmanager_config: CONFIG.to_string(),
            template_files: Default::default(),
        };
        architect_alertmanager::api::set_config(&f.state(), &f.tenant, stored)
            .await
            .expect("config");
        f
    }

    fn state(&self) -> AmState {
        AmState::new(Arc::clone(&self.index) as Arc<dyn Index>)
    }

    /// A fresh dispatcher per pass, as a new invocation builds.
    async fn pass(&self, now: i64) -> Vec<(String, String, Vec<String>)> {
        let d = Dispatcher::new(
            Arc::clone(&self.index) as Arc<dyn Index>,
            Arc::new(Factory(Arc::clone(&self.sent))),
            "http://am".into(),
        );
        let report = d.run_pass(now).await;
        assert!(report.errors.len() <= 1, "{report:?}");
        self.sent.take()
    }

    async fn post(
        &self,
        name: &str,
        instance: &str,
        severity: &str,
        starts: i64,
        ends: i64,
        now: i64,
    ) {
        let alert = Alert {
            labels: Labels::from_pairs([
                ("alertname", name),
                ("instance", instance),
                ("severity", severity),
            ]),
            annotations: Labels::default(),
            starts_at: starts,
            ends_at: ends,
            generator_url: String::new(),
            updated_at: now,
            timeout: false,
        };
        self.state()
            .put_alerts(&self.tenant, vec![alert], now)
            .await
            .expect("put");
    }
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn group_wait_interval_repeat_and_resolution() {
    let f = Fixture::new().await;
    #[allow(non_snake_case)]
    let T0 = t0();
    f.post("Down", "a", "critical", T0, T0 + 36_000_000, T0)
        .await;
    // Not before group_wait.
    assert!(f.pass(T0 + 1_000).await.is_empty());
    let first = f.pass(T0 + 31_000).await;
    assert_eq!(
        first,
        vec![("team".into(), "firing".into(), names(&["Down/a"]))]
    );
    // A second alert of the group waits for group_interval.
    f.post(
        "Down",
        "b",
        "critical",
        T0 + 60_000,
        T0 + 36_000_000,
        T0 + 60_000,
    )
    .await;
    assert!(f.pass(T0 + 120_000).await.is_empty());
    let second = f.pass(T0 + 31_000 + 300_000).await;
    assert_eq!(second[0].2, names(&["Down/a", "Down/b"]));
    // Nothing new: silent until repeat_interval.
    assert!(f.pass(T0 + 31_000 + 600_000).await.is_empty());
    // Not at exactly an hour (Alertmanager compares strictly): at the next flush after it.
    assert!(f.pass(T0 + 31_000 + 300_000 + 3_600_000).await.is_empty());
    let repeat = f.pass(T0 + 31_000 + 300_000 + 3_900_000).await;
    assert_eq!(repeat.len(), 1, "repeat after an hour");
    // Resolution.
    let now = T0 + 31_000 + 300_000 + 4_200_000;
    f.post("Down", "a", "critical", T0, now - 1, now).await;
    f.post("Down", "b", "critical", T0, now - 1, now).await;
    let resolved = f.pass(now + 1).await;
    assert_eq!(
        resolved,
        vec![(
            "team".into(),
            "resolved".into(),
            names(&["Down/a:resolved", "Down/b:resolved"])
        )]
    );
    // And then the group is gone.
    assert!(f.pass(now + 400_000).await.is_empty());
}

#[tokio::test]
async fn silences_and_inhibition_mute_alerts() {
    let f = Fixture::new().await;
    #[allow(non_snake_case)]
    let T0 = t0();
    f.post("Down", "a", "critical", T0 - 600_000, T0 + 3_600_000, T0)
        .await;
    f.post("Slow", "a", "warning", T0 - 600_000, T0 + 3_600_000, T0)
        .await;
    f.post("Slow", "b", "warning", T0 - 600_000, T0 + 3_600_000, T0)
        .await;
    f.post("Noisy", "c", "info", T0 - 600_000, T0 + 3_600_000, T0)
        .await;
    let am = TenantAlertmanager::load(f.state(), f.tenant.clone())
        .await
        .expect("am");
    let silence = PostableSilence {
        id: None,
        matchers: vec![SilenceMatcher {
            name: "alertname".into(),
            value: "Noisy".into(),
            is_regex: false,
            is_equal: true,
        }],
        starts_at: architect_alertmanager::api::rfc3339(T0),
        ends_at: architect_alertmanager::api::rfc3339(T0 + 86_400_000),
        created_by: "me".into(),
        comment: "quiet".into(),
    };
    am.post_silence(silence, T0).await.expect("silence");
    // Alerts that started group_wait ago flush at once.
    let mut sent = f.pass(T0 + 1).await;
    sent.sort();
    assert_eq!(
        sent,
        vec![
            ("team".into(), "firing".into(), names(&["Down/a"])),
            ("team".into(), "firing".into(), names(&["Slow/b"])),
        ]
    );
}

#[tokio::test]
async fn a_pass_killed_between_send_and_log_repeats_the_notification_once() {
    let f = Fixture::new().await;
    #[allow(non_snake_case)]
    let T0 = t0();
    f.post("Down", "a", "critical", T0, T0 + 3_600_000, T0)
        .await;
    f.index.armed.store(true, Ordering::SeqCst);
    assert_eq!(
        f.pass(T0 + 31_000).await.len(),
        1,
        "sent, then died before logging"
    );
    // The next flush does not know the receiver was told: it sends again, once.
    assert!(
        f.pass(T0 + 60_000).await.is_empty(),
        "not before group_interval"
    );
    assert_eq!(
        f.pass(T0 + 31_000 + 300_000).await.len(),
        1,
        "the one duplicate"
    );
    assert!(
        f.pass(T0 + 31_000 + 600_000).await.is_empty(),
        "then deduplicated"
    );
}

#[derive(Debug, Default)]
struct Wakeups(Mutex<Vec<u32>>);

#[async_trait]
impl architect_alertmanager::wake::Waker for Wakeups {
    async fn wake(&self, _tenant: &TenantId, delay_secs: u32) -> Result<(), String> {
        self.0.lock().expect("lock").push(delay_secs);
        Ok(())
    }
}

/// Passes far apart (AWS's one-minute schedule) still flush on time: each pass schedules a
/// wake-up for its tenant's next due group, once per due time.
#[tokio::test]
async fn passes_schedule_a_wake_up_for_the_next_due_group() {
    let f = Fixture::new().await;
    let wakeups = Arc::new(Wakeups::default());
    let dispatcher = || {
        Dispatcher::new(
            Arc::clone(&f.index) as Arc<dyn Index>,
            Arc::new(Factory(Arc::clone(&f.sent))),
            "http://am".into(),
        )
        .with_waker(Arc::clone(&wakeups) as Arc<dyn architect_alertmanager::wake::Waker>)
    };
    let t = t0();
    f.post("Down", "a", "critical", t, 0, t).await;
    // The first pass sees the group: due at group_wait (30 s).
    let r = dispatcher().run_pass(t).await;
    assert_eq!((r.flushes, r.wakeups), (0, 1), "{r:?}");
    // A second pass before then computes the same time: no second wake-up.
    let r = dispatcher().run_pass(t + 10_000).await;
    assert_eq!((r.flushes, r.wakeups), (0, 0), "{r:?}");
    // The woken pass flushes and schedules the group_interval (5 m) timer.
    let tenant = [f.tenant.clone()];
    let r = dispatcher().run_tenants(&tenant, t + 30_000).await;
    assert_eq!((r.flushes, r.notifications, r.wakeups), (1, 1, 1), "{r:?}");
    assert_eq!(*wakeups.0.lock().expect("lock"), vec![30, 300]);
}

/// A post is written in whole transactions (up to DynamoDB's 100 items each), so a pass never
/// sees part of it; a repeated alert in one post merges with its earlier copy.
#[tokio::test]
async fn a_large_post_is_stored_whole_and_repeats_merge() {
    let f = Fixture::new().await;
    let now = t0();
    let alert = |i: usize, starts: i64| Alert {
        labels: Labels::from_pairs([
            ("alertname", "Many".to_string()),
            ("instance", format!("i{i}")),
        ]),
        annotations: Labels::default(),
        starts_at: starts,
        // As `post_alerts` stores an alert without an end: resolve_timeout ahead.
        ends_at: now + 300_000,
        generator_url: String::new(),
        updated_at: now,
        timeout: true,
    };
    let mut posted: Vec<Alert> = (0..250).map(|i| alert(i, now - 60_000)).collect();
    // The same alert again, later in the post, with a later start: the merge keeps the earlier.
    posted.push(alert(7, now - 1_000));
    f.state()
        .put_alerts(&f.tenant, posted, now)
        .await
        .expect("put");
    let stored = f.state().alerts(&f.tenant).await.expect("alerts");
    assert_eq!(stored.len(), 250);
    let seventh = stored
        .iter()
        .find(|a| a.labels.get("instance") == Some("i7"))
        .expect("i7");
    assert_eq!(seventh.starts_at, now - 60_000);
    // One group, one notification with every alert.
    let sent = f.pass(now).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].2.len(), 250);
}
