//! The ruler across passes, each pass by a fresh `Ruler` over the same embedded index (as
//! each Lambda invocation is): slot alignment and catch-up, the alert lifecycle, sends and
//! re-sends, a crash between send and save, and `for` restoration after downtime.

use architect_index::embedded::EmbeddedIndex;
use architect_index::{Condition, Index, IndexError, Item, Page, QueryRequest, WriteOp};
use architect_model::clock::{Clock, ManualClock};
use architect_model::{Labels, MatchOp, Matcher, TenantId};
use architect_promql::{Engine, EngineOptions, SeriesSource};
use architect_rules::file::parse_rule_group;
use architect_rules::schedule::{eval_slot_ns, group_hash};
use architect_rules::unittest::SharedMemory;
use architect_rules::{
    Notification, Notifier, RuleStore, Ruler, RulerConfig, SampleAppender, TenantBackend,
};
use async_trait::async_trait;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

type Memory = SharedMemory;

struct Backend(Arc<Memory>);

impl TenantBackend for Backend {
    fn source(&self, _tenant: &TenantId) -> Arc<dyn SeriesSource> {
        Arc::clone(&self.0) as Arc<dyn SeriesSource>
    }
    fn appender(&self, _tenant: &TenantId) -> Arc<dyn SampleAppender> {
        Arc::clone(&self.0) as Arc<dyn SampleAppender>
    }
}

#[derive(Default)]
struct Sent(Mutex<Vec<Notification>>);

#[async_trait]
impl Notifier for Sent {
    async fn notify(&self, _tenant: &TenantId, alerts: Vec<Notification>) -> Result<(), String> {
        self.0.lock().expect("lock").extend(alerts);
        Ok(())
    }
}

/// An index whose next state save fails once (a ruler that dies after sending).
#[derive(Debug)]
struct FailNextStateSave {
    inner: Arc<dyn Index>,
    armed: AtomicBool,
}

#[async_trait]
impl Index for FailNextStateSave {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, IndexError> {
        self.inner.get(pk, sk).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), IndexError> {
        if item.pk.ends_with("#rulestate") && self.armed.swap(false, Ordering::SeqCst) {
            return Err(IndexError::Unavailable("killed before saving state".into()));
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

struct Fixture {
    _dir: tempfile::TempDir,
    index: Arc<FailNextStateSave>,
    clock: Arc<ManualClock>,
    memory: Arc<Memory>,
    sent: Arc<Sent>,
    tenant: TenantId,
}

const START: i64 = 1_700_000_000_000;

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let inner: Arc<dyn Index> =
            Arc::new(EmbeddedIndex::open(&dir.path().join("index.redb")).expect("index"));
        Self {
            _dir: dir,
            index: Arc::new(FailNextStateSave {
                inner,
                armed: AtomicBool::new(false),
            }),
            clock: Arc::new(ManualClock::new(START)),
            memory: Arc::new(Memory::default()),
            sent: Arc::new(Sent::default()),
            tenant: TenantId::new("team-a").expect("tenant"),
        }
    }

    fn store(&self) -> RuleStore {
        RuleStore::new(Arc::clone(&self.index) as Arc<dyn Index>)
    }

    /// A fresh ruler, as a new Lambda invocation would build.
    fn ruler(&self) -> Ruler {
        Ruler::new(
            self.store(),
            Arc::new(Backend(Arc::clone(&self.memory))),
            Arc::clone(&self.sent) as Arc<dyn Notifier>,
            Engine::new(EngineOptions::default()),
            Arc::clone(&self.clock) as Arc<dyn Clock>,
            RulerConfig::default(),
        )
    }

    async fn upload(&self, namespace: &str, yaml: &str) {
        let spec = parse_rule_group(yaml).expect("group");
        self.store()
            .put_group(&self.tenant, namespace, &spec)
            .await
            .expect("put");
    }

    async fn set(&self, name: &str, value: f64, from: i64, to: i64) {
        let labels = Labels::from_pairs([("__name__", name), ("instance", "a")]);
        let mut m = self.memory.0.write().await;
        let mut t = from;
        while t <= to {
            m.add_float(&labels, t, value);
            t += 15_000;
        }
    }

    async fn samples(&self, name: &str) -> Vec<(i64, f64)> {
        let m = self.memory.0.read().await;
        let matcher = Matcher::new(MatchOp::Equal, "__name__", name).expect("matcher");
        let mut out: Vec<(i64, f64)> = m
            .select(&[matcher], i64::MIN, i64::MAX)
            .await
            .expect("select")
            .into_iter()
            .flat_map(|s| s.floats)
            .collect();
        out.sort_by_key(|p| p.0);
        out
    }

    fn sent(&self) -> Vec<Notification> {
        self.sent.0.lock().expect("lock").clone()
    }
}

#[tokio::test]
async fn a_15s_group_gets_four_aligned_evaluations_per_minute_pass() {
    let f = Fixture::new();
    f.upload(
        "ns",
        "name: fast\ninterval: 15s\nrules:\n- record: one\n  expr: vector(1)\n",
    )
    .await;
    let first = f.ruler().run_pass().await.expect("pass");
    assert_eq!(first.evaluations, 1);
    f.clock.advance_ms(60_000);
    let second = f.ruler().run_pass().await.expect("pass");
    assert_eq!(second.evaluations, 4);
    assert_eq!(second.missed, 0);
    let samples = f.samples("one").await;
    assert_eq!(samples.len(), 5);
    let slot = eval_slot_ns(
        group_hash("ns", "fast"),
        15_000,
        i128::from(START) * 1_000_000,
    );
    let expected_first = i64::try_from(slot / 1_000_000).expect("ms");
    let ts: Vec<i64> = samples.iter().map(|p| p.0).collect();
    assert_eq!(ts[0], expected_first);
    assert!(ts.windows(2).all(|w| w[1] - w[0] == 15_000), "{ts:?}");
    // Nothing due: nothing evaluated, nothing written.
    let third = f.ruler().run_pass().await.expect("pass");
    assert_eq!(third.evaluations, 0);
}

const DOWN_RULE: &str = "name: avail\ninterval: 1m\nrules:\n- alert: Down\n  expr: up == 0\n  for: 2m\n  labels: {severity: page}\n  annotations: {summary: '{{ $labels.instance }} is down'}\n";

#[tokio::test]
async fn alerts_pend_fire_resend_and_resolve_across_fresh_rulers() {
    let f = Fixture::new();
    f.upload("ns", DOWN_RULE).await;
    f.set("up", 0.0, START - 600_000, START + 600_000).await;
    let mut firing_at = None;
    for minute in 0..6 {
        f.ruler().run_pass().await.expect("pass");
        if firing_at.is_none() && !f.sent().is_empty() {
            firing_at = Some(minute);
        }
        f.clock.advance_ms(60_000);
    }
    // Pending at the first two evaluations, firing at the third (for: 2m).
    assert_eq!(firing_at, Some(2));
    let sent = f.sent();
    let first = &sent[0];
    assert_eq!(first.labels.get("alertname"), Some("Down"));
    assert_eq!(first.labels.get("severity"), Some("page"));
    assert_eq!(first.annotations.get("summary"), Some("a is down"));
    // Re-sent only once the resend delay has passed (strictly), as Prometheus.
    assert_eq!(sent.len(), 2, "{sent:?}");
    let alerts = f.samples("ALERTS").await;
    assert!(alerts.iter().all(|p| p.1 == 1.0 || p.1.is_nan()));
    // Recovery: the next evaluation resolves it and sends the resolution at once.
    f.set("up", 1.0, START + 300_000, START + 900_000).await;
    f.clock.advance_ms(60_000);
    f.ruler().run_pass().await.expect("pass");
    let last = f.sent().last().cloned().expect("resolution");
    assert!(
        last.ends_at <= f.clock.now_ms(),
        "resolved: endsAt in the past"
    );
    let state = f.store().states(&f.tenant).await.expect("states");
    let alert = &state.values().next().expect("state").rules[0].alerts[0];
    assert_eq!(alert.state, architect_rules::AlertStateKind::Inactive);
}

#[tokio::test]
async fn a_crash_between_send_and_save_repeats_the_send_once() {
    let f = Fixture::new();
    f.upload("ns", DOWN_RULE).await;
    f.set("up", 0.0, START - 600_000, START + 1_200_000).await;
    for _ in 0..2 {
        f.ruler().run_pass().await.expect("pass");
        f.clock.advance_ms(60_000);
    }
    assert!(f.sent().is_empty());
    // This pass fires and sends, then dies before saving.
    f.index.armed.store(true, Ordering::SeqCst);
    let crashed = f.ruler().run_pass().await.expect("pass");
    assert_eq!(crashed.errors.len(), 1, "{crashed:?}");
    assert_eq!(f.sent().len(), 1);
    // The next invocation repeats the unsaved slot: one duplicate, then nothing more until
    // the resend delay passes.
    let again = f.ruler().run_pass().await.expect("pass");
    assert!(again.errors.is_empty());
    assert_eq!(f.sent().len(), 2);
    assert_eq!(f.sent()[0].labels, f.sent()[1].labels);
    assert_eq!(f.sent()[0].starts_at, f.sent()[1].starts_at);
    f.ruler().run_pass().await.expect("pass");
    assert_eq!(f.sent().len(), 2);
}

#[tokio::test]
async fn downtime_skips_missed_slots_and_restores_pending_for_state() {
    let f = Fixture::new();
    f.upload(
        "ns",
        "name: slow\ninterval: 1m\nrules:\n- alert: Slow\n  expr: up == 0\n  for: 12m\n",
    )
    .await;
    f.set("up", 0.0, START - 600_000, START + 7_200_000).await;
    for _ in 0..4 {
        f.ruler().run_pass().await.expect("pass");
        f.clock.advance_ms(60_000);
    }
    // Down for 20 minutes: more than the 10 minutes a pass catches up.
    f.clock.advance_ms(20 * 60_000);
    let report = f.ruler().run_pass().await.expect("pass");
    assert_eq!(report.evaluations, 1);
    assert!(report.missed >= 19, "{report:?}");
    // 3 of 12 minutes were spent pending before the outage; 9 remain, less than the 10 minute
    // grace period, so the alert fires 10 minutes after the restart, as Prometheus restores.
    let restart = f.clock.now_ms();
    assert!(f.sent().is_empty());
    while f.sent().is_empty() {
        f.clock.advance_ms(60_000);
        f.ruler().run_pass().await.expect("pass");
        assert!(f.clock.now_ms() - restart <= 11 * 60_000, "fired too late");
    }
    let fired_after = f.clock.now_ms() - restart;
    assert!(
        (9 * 60_000..=11 * 60_000).contains(&fired_after),
        "fired {fired_after} ms after the restart"
    );
}

#[tokio::test]
async fn failing_rules_are_counted_in_the_metrics_and_the_report() {
    let f = Fixture::new();
    // Two series with the same labels but the name: `x + on() x` has duplicates on the right.
    f.set("x", 1.0, START - 120_000, START).await;
    {
        let labels = Labels::from_pairs([("__name__", "x"), ("instance", "b")]);
        let mut m = f.memory.0.write().await;
        let mut t = START - 120_000;
        while t <= START {
            m.add_float(&labels, t, 2.0);
            t += 15_000;
        }
    }
    f.upload(
        "ns",
        "name: broken\ninterval: 1m\nrules:\n- record: bad\n  expr: x + on() x\n- record: good\n  expr: vector(1)\n",
    )
    .await;
    let ruler = f.ruler();
    let report = ruler.run_pass().await.expect("pass");
    assert_eq!(report.rule_failures, 1, "{report:?}");
    assert_eq!(ruler.metrics().failures("team-a", "ns;broken"), 1);
    let mut registry = prometheus_client::registry::Registry::default();
    ruler.metrics().register(&mut registry);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).expect("encode");
    assert!(
        text.contains(
            "prometheus_rule_evaluations_total{tenant=\"team-a\",rule_group=\"ns;broken\"} 2"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn recording_rules_record_native_histograms() {
    let f = Fixture::new();
    {
        let mut m = f.memory.0.write().await;
        for instance in ["a", "b"] {
            let labels = Labels::from_pairs([("__name__", "latency"), ("instance", instance)]);
            let mut t = START - 120_000;
            while t <= START {
                let h = architect_promql::FloatHistogram {
                    count: 2.0,
                    sum: 3.0,
                    positive_spans: vec![(0, 1)],
                    positive_buckets: vec![2.0],
                    ..Default::default()
                };
                m.add_histogram(&labels, t, Arc::new(h));
                t += 15_000;
            }
        }
    }
    f.upload(
        "ns",
        "name: hist\ninterval: 1m\nrules:\n- record: latency:sum\n  expr: sum(latency)\n",
    )
    .await;
    let report = f.ruler().run_pass().await.expect("pass");
    assert_eq!(report.rule_failures, 0, "{report:?}");
    let m = f.memory.0.read().await;
    let matcher = Matcher::new(MatchOp::Equal, "__name__", "latency:sum").expect("matcher");
    let recorded = m
        .select(&[matcher], i64::MIN, i64::MAX)
        .await
        .expect("select");
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    let (_, h) = recorded[0].hists.first().expect("a recorded histogram");
    assert_eq!((h.count, h.sum), (4.0, 6.0));
    assert_eq!(h.positive_buckets, vec![4.0]);
}
