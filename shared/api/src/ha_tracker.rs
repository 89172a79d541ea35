//! Deduplication of Prometheus HA pairs at ingest, with the semantics of Mimir's distributor HA
//! tracker.
//!
//! Two Prometheus replicas of one HA pair scrape the same targets and send the same series,
//! told apart only by their external labels `cluster` (the pair) and `__replica__` (the replica).
//! Per tenant and cluster one replica is *elected*: its samples are stored with the replica label
//! removed (so the series are the same whichever replica is elected), the other replica's
//! requests are dropped with a 202 (Prometheus counts that as delivered and moves on). When the
//! elected replica has not written for the failover timeout, the next replica that writes takes
//! over. Storing one copy halves the stored bytes and spares queries and the compactor any
//! replica dedup.
//!
//! The election lives in the index, not in the process: every ingest Lambda invocation is
//! stateless and runs concurrently with others, so two of them must not elect two replicas. One
//! item per tenant and cluster (pk `{tenant}#ha`, sk `{cluster}`, attributes `replica` and
//! `received_at` in ms) is only ever changed by a conditional put that compares it with the
//! version read (compare-and-swap); the loser re-reads and obeys the winner. A small in-process
//! cache answers while the stored timestamp is younger than the update timeout (plus this
//! process's jitter), so the index is called at most about once per update timeout per cluster
//! and process on the elected replica's path, as Mimir does with its KV store.
//!
//! Items carry a TTL 30 minutes past their last refresh, which is how Mimir's cleanup forgets
//! clusters that stopped writing (and frees their place under `ha_max_clusters`).

use architect_index::{AttrValue, Condition, Index, IndexError, Item, SkRange, limits};
use architect_model::clock::Clock;
use architect_model::{Limits, WriteRequest};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Attribute holding the elected replica.
const REPLICA_ATTR: &str = "replica";
/// Attribute holding when the elected replica was last refreshed, in Unix ms.
const RECEIVED_AT_ATTR: &str = "received_at";
/// A cluster not heard from for this long is forgotten (Mimir's `deletionTimeout`).
const FORGET_AFTER_MS: i64 = 30 * 60 * 1000;
/// Compare-and-swap attempts before giving up on a contended item.
const CAS_ATTEMPTS: usize = 5;

/// Index partition of a tenant's HA clusters.
pub fn ha_pk(tenant: &str) -> String {
    format!("{tenant}#ha")
}

/// Why a request of an HA pair is not stored.
#[derive(Debug, thiserror::Error)]
pub enum HaError {
    /// The sender is not the elected replica: the request is dropped and answered 202.
    /// (Mimir's text, typo included, so that log searches keep working.)
    #[error("replicas did not mach, rejecting sample: replica={replica}, elected={elected}")]
    ReplicasNotMatch {
        /// The sender.
        replica: String,
        /// The elected replica.
        elected: String,
    },
    /// A new cluster would exceed `ha_max_clusters` (400).
    #[error(
        "the write request has been rejected because the maximum number of high-availability (HA) \
         clusters has been reached for this tenant (limit: {limit}) (err-mimir-too-many-ha-clusters). \
         To adjust the related limit, configure limits.ha_max_clusters, or contact your service \
         administrator."
    )]
    TooManyClusters {
        /// The limit.
        limit: usize,
    },
    /// The index failed or stayed contended (503; the sender retries).
    #[error("HA tracker: {0}")]
    Index(#[from] IndexError),
}

/// What the tracker did with a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HaOutcome {
    /// HA dedup is off for the tenant, or the request lacks one of the labels: unchanged.
    NotHa,
    /// From the elected replica: the replica label was removed from every series.
    Accepted {
        /// The cluster.
        cluster: String,
        /// The replica.
        replica: String,
    },
}

/// The elected replica of one cluster as last read or written.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Elected {
    replica: String,
    received_at_ms: i64,
}

impl Elected {
    fn from_item(item: &Item) -> Option<Self> {
        Some(Self {
            replica: item.get_s(REPLICA_ATTR)?.to_string(),
            received_at_ms: item.get_n(RECEIVED_AT_ATTR)?,
        })
    }
}

/// The tracker's metrics (Mimir's `cortex_ha_tracker_*` and `cortex_distributor_deduped_samples`
/// under this service's prefix).
#[derive(Debug, Default)]
struct HaMetrics {
    changes: Family<Vec<(String, String)>, Counter>,
    timestamp: Family<Vec<(String, String)>, Gauge>,
    cas: Family<Vec<(String, String)>, Counter>,
    deduped: Family<Vec<(String, String)>, Counter>,
}

fn key_labels(tenant: &str, cluster: &str) -> Vec<(String, String)> {
    vec![
        ("user".into(), tenant.to_string()),
        ("cluster".into(), cluster.to_string()),
    ]
}

/// The HA tracker. One per process, shared by all requests.
#[derive(Debug)]
pub struct HaTracker {
    index: Arc<dyn Index>,
    clock: Arc<dyn Clock>,
    /// This process's jitter as a fraction of the jitter maximum, in [-1, 1).
    jitter: f64,
    /// Elected replicas by (tenant, cluster).
    cache: Mutex<HashMap<(String, String), Elected>>,
    metrics: HaMetrics,
}

impl HaTracker {
    /// A tracker keeping its state in `index`, with a random jitter.
    pub fn new(index: Arc<dyn Index>, clock: Arc<dyn Clock>) -> Self {
        // Mimir draws the jitter once per process: uniform in [-max, max).
        let random = getrandom::u64().unwrap_or(0);
        let jitter = (random >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
        Self::with_jitter(index, clock, jitter)
    }

    /// A tracker with a fixed jitter fraction (clamped to [-1, 1]); 0 for none.
    pub fn with_jitter(index: Arc<dyn Index>, clock: Arc<dyn Clock>, jitter: f64) -> Self {
        Self {
            index,
            clock,
            jitter: jitter.clamp(-1.0, 1.0),
            cache: Mutex::default(),
            metrics: HaMetrics::default(),
        }
    }

    /// Registers the tracker's metrics.
    pub fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_prefix("architect_ha_tracker");
        r.register(
            "elected_replica_changes",
            "Times this process saw the elected replica of a tenant's cluster change",
            self.metrics.changes.clone(),
        );
        r.register(
            "elected_replica_timestamp_seconds",
            "The timestamp stored for the elected replica, as last read or written",
            self.metrics.timestamp.clone(),
        );
        r.register(
            "index_cas",
            "Conditional writes of the elected replica to the index",
            self.metrics.cas.clone(),
        );
        r.register(
            "deduped_samples",
            "Samples and histograms dropped because they came from a replica not elected",
            self.metrics.deduped.clone(),
        );
    }

    fn update_timeout_ms(&self, limits: &Limits) -> i64 {
        let jitter = (limits.ha_tracker_update_timeout_jitter_max_ms as f64 * self.jitter) as i64;
        limits.ha_tracker_update_timeout_ms + jitter
    }

    /// Applies HA dedup to a write of `tenant`: leaves requests without both labels (on the
    /// first series, as Mimir looks) alone, removes the replica label from an elected replica's
    /// series, refuses the others.
    pub async fn dedupe(
        &self,
        tenant: &str,
        request: &mut WriteRequest,
        limits: &Limits,
    ) -> Result<HaOutcome, HaError> {
        if !limits.accept_ha_samples {
            return Ok(HaOutcome::NotHa);
        }
        let Some(first) = request.series.first() else {
            return Ok(HaOutcome::NotHa);
        };
        let (Some(cluster), Some(replica)) = (
            first.labels.get(&limits.ha_cluster_label),
            first.labels.get(&limits.ha_replica_label),
        ) else {
            return Ok(HaOutcome::NotHa);
        };
        // Values that cannot be tracked are accepted as they are (Mimir: a too-long replica);
        // validation then refuses what breaks its limits.
        if cluster.is_empty()
            || replica.is_empty()
            || replica.len() > limits.max_label_value_length
            || cluster.len() > limits::MAX_SK_BYTES
        {
            return Ok(HaOutcome::NotHa);
        }
        let (cluster, replica) = (cluster.to_string(), replica.to_string());
        match self.check_replica(tenant, &cluster, &replica, limits).await {
            Ok(()) => {
                for s in &mut request.series {
                    s.labels.remove(&limits.ha_replica_label);
                }
                Ok(HaOutcome::Accepted { cluster, replica })
            }
            Err(e) => {
                if matches!(e, HaError::ReplicasNotMatch { .. }) {
                    let n = request.sample_count() + request.histogram_count();
                    self.metrics
                        .deduped
                        .get_or_create(&key_labels(tenant, &cluster))
                        .inc_by(n as u64);
                }
                Err(e)
            }
        }
    }

    /// Whether `replica` may write for `cluster` of `tenant` now; may elect it, or refresh its
    /// timestamp, in the index.
    pub async fn check_replica(
        &self,
        tenant: &str,
        cluster: &str,
        replica: &str,
        limits: &Limits,
    ) -> Result<(), HaError> {
        let now = self.clock.now_ms();
        let update_timeout = self.update_timeout_ms(limits);
        let key = (tenant.to_string(), cluster.to_string());
        let cached = self.lock().get(&key).cloned();
        match cached {
            Some(e) if now - e.received_at_ms < update_timeout => {
                return if e.replica == replica {
                    Ok(())
                } else {
                    Err(HaError::ReplicasNotMatch {
                        replica: replica.into(),
                        elected: e.replica,
                    })
                };
            }
            Some(_) => {}
            None => self.check_cluster_limit(tenant, cluster, limits).await?,
        }
        self.check_index(tenant, cluster, replica, now, update_timeout, limits)
            .await
    }

    /// A cluster this process does not know yet must fit under `ha_max_clusters`, counted in
    /// the index (other processes may have elected replicas of other clusters).
    async fn check_cluster_limit(
        &self,
        tenant: &str,
        cluster: &str,
        limits: &Limits,
    ) -> Result<(), HaError> {
        let limit = limits.ha_max_clusters;
        if limit == 0 {
            return Ok(());
        }
        let items = architect_index::query_all(&*self.index, &ha_pk(tenant), SkRange::All).await?;
        if items.iter().any(|i| i.sk == cluster) || items.len() < limit {
            Ok(())
        } else {
            Err(HaError::TooManyClusters { limit })
        }
    }

    /// Mimir's KV-store CAS: keep the stored replica while it is fresh, refresh its timestamp
    /// after the update timeout, replace it after the failover timeout.
    async fn check_index(
        &self,
        tenant: &str,
        cluster: &str,
        replica: &str,
        now: i64,
        update_timeout: i64,
        limits: &Limits,
    ) -> Result<(), HaError> {
        let pk = ha_pk(tenant);
        for _ in 0..CAS_ATTEMPTS {
            let current = self
                .index
                .get(&pk, cluster)
                .await?
                .as_ref()
                .and_then(Elected::from_item);
            if let Some(cur) = &current {
                let age = now - cur.received_at_ms;
                if cur.replica == replica && age < update_timeout {
                    self.remember(tenant, cluster, cur.clone());
                    return Ok(());
                }
                if cur.replica != replica && age < limits.ha_tracker_failover_timeout_ms {
                    self.remember(tenant, cluster, cur.clone());
                    return Err(HaError::ReplicasNotMatch {
                        replica: replica.into(),
                        elected: cur.replica.clone(),
                    });
                }
            }
            // Absent, or stale for this replica: write ourselves, if nobody changed it since.
            let condition = match &current {
                None => Condition::NotExists,
                Some(cur) => Condition::And(vec![
                    Condition::AttrEquals(REPLICA_ATTR.into(), AttrValue::S(cur.replica.clone())),
                    Condition::AttrEquals(
                        RECEIVED_AT_ATTR.into(),
                        AttrValue::N(cur.received_at_ms),
                    ),
                ]),
            };
            let item = Item::new(pk.clone(), cluster)
                .with_s(REPLICA_ATTR, replica)
                .with_n(RECEIVED_AT_ATTR, now)
                .with_ttl((now + FORGET_AFTER_MS).div_euclid(1000));
            self.metrics
                .cas
                .get_or_create(&key_labels(tenant, cluster))
                .inc();
            match self.index.put(item, condition).await {
                Ok(()) => {
                    if current.as_ref().is_some_and(|c| c.replica != replica) {
                        tracing::info!(tenant, cluster, replica, "HA replica failover");
                    }
                    self.remember(
                        tenant,
                        cluster,
                        Elected {
                            replica: replica.into(),
                            received_at_ms: now,
                        },
                    );
                    return Ok(());
                }
                // Someone else wrote first: read again and obey them.
                Err(e) if e.is_condition_failure() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(HaError::Index(IndexError::Unavailable(format!(
            "the HA election of cluster {cluster:?} stayed contended"
        ))))
    }

    fn remember(&self, tenant: &str, cluster: &str, elected: Elected) {
        let labels = key_labels(tenant, cluster);
        self.metrics
            .timestamp
            .get_or_create(&labels)
            .set(elected.received_at_ms.div_euclid(1000));
        let previous = self
            .lock()
            .insert((tenant.to_string(), cluster.to_string()), elected.clone());
        if previous.is_none_or(|p| p.replica != elected.replica) {
            self.metrics.changes.get_or_create(&labels).inc();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Elected>> {
        // The map stays consistent even if a holder panicked: every insert is one call.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use architect_index::embedded::EmbeddedIndex;
    use architect_model::clock::ManualClock;
    use architect_model::{Labels, Sample, SeriesWrite};

    const T0: i64 = 1_700_000_000_000;

    fn limits() -> Limits {
        Limits {
            accept_ha_samples: true,
            ..Limits::default()
        }
    }

    /// An embedded index whose TTLs follow `clock`.
    fn index(clock: &Arc<ManualClock>) -> (tempfile::TempDir, Arc<dyn Index>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let index = EmbeddedIndex::open_with_clock(
            &dir.path().join("index.redb"),
            Arc::clone(clock) as Arc<dyn Clock>,
        )
        .expect("index");
        (dir, Arc::new(index))
    }

    fn tracker(index: &Arc<dyn Index>, clock: &Arc<ManualClock>) -> HaTracker {
        HaTracker::with_jitter(Arc::clone(index), Arc::clone(clock) as Arc<dyn Clock>, 0.0)
    }

    fn request(cluster: &str, replica: &str) -> WriteRequest {
        let series = |name: &str| SeriesWrite {
            labels: Labels::from_pairs([
                ("__name__", name),
                ("__replica__", replica),
                ("cluster", cluster),
                ("job", "node"),
            ]),
            samples: vec![Sample { t: T0, v: 1.0 }],
            ..SeriesWrite::default()
        };
        WriteRequest {
            series: vec![series("up"), series("scrape_duration_seconds")],
            metadata: vec![],
        }
    }

    async fn stored(index: &Arc<dyn Index>, tenant: &str, cluster: &str) -> Option<Elected> {
        let item = index.get(&ha_pk(tenant), cluster).await.expect("get");
        item.as_ref().and_then(Elected::from_item)
    }

    #[tokio::test]
    async fn first_replica_is_elected_and_loses_its_label() {
        let clock = Arc::new(ManualClock::new(T0));
        let (_dir, index) = index(&clock);
        let t = tracker(&index, &clock);
        let mut a = request("c1", "a");
        let outcome = t
            .dedupe("team", &mut a, &limits())
            .await
            .expect("a accepted");
        assert_eq!(
            outcome,
            HaOutcome::Accepted {
                cluster: "c1".into(),
                replica: "a".into()
            }
        );
        for s in &a.series {
            assert_eq!(s.labels.get("__replica__"), None);
            assert_eq!(s.labels.get("cluster"), Some("c1"));
        }
        let mut b = request("c1", "b");
        let err = t
            .dedupe("team", &mut b, &limits())
            .await
            .expect_err("b refused");
        assert_eq!(
            err.to_string(),
            "replicas did not mach, rejecting sample: replica=b, elected=a"
        );
        assert_eq!(
            stored(&index, "team", "c1").await,
            Some(Elected {
                replica: "a".into(),
                received_at_ms: T0
            })
        );
        // Other tenants and clusters elect on their own.
        t.dedupe("other", &mut request("c1", "b"), &limits())
            .await
            .expect("other tenant");
        t.dedupe("team", &mut request("c2", "b"), &limits())
            .await
            .expect("other cluster");
    }

    #[tokio::test]
    async fn requests_without_both_labels_or_disabled_pass_unchanged() {
        let clock = Arc::new(ManualClock::new(T0));
        let (_dir, index) = index(&clock);
        let t = tracker(&index, &clock);
        let mut off = request("c1", "a");
        let before = off.clone();
        let outcome = t
            .dedupe("team", &mut off, &Limits::default())
            .await
            .expect("off");
        assert_eq!((outcome, &off), (HaOutcome::NotHa, &before));
        let mut no_replica = request("c1", "a");
        for s in &mut no_replica.series {
            s.labels.remove("__replica__");
        }
        let before = no_replica.clone();
        let outcome = t
            .dedupe("team", &mut no_replica, &limits())
            .await
            .expect("no replica label");
        assert_eq!((outcome, &no_replica), (HaOutcome::NotHa, &before));
        assert_eq!(stored(&index, "team", "c1").await, None);
    }

    #[tokio::test]
    async fn failover_after_the_timeout_only() {
        let clock = Arc::new(ManualClock::new(T0));
        let (_dir, index) = index(&clock);
        let t = tracker(&index, &clock);
        let l = limits();
        t.check_replica("team", "c1", "a", &l).await.expect("a");
        // b is refused until a has been silent for the failover timeout.
        clock.advance_ms(l.ha_tracker_failover_timeout_ms - 1);
        assert!(matches!(
            t.check_replica("team", "c1", "b", &l).await,
            Err(HaError::ReplicasNotMatch { .. })
        ));
        clock.advance_ms(1);
        t.check_replica("team", "c1", "b", &l)
            .await
            .expect("b elected");
        assert_eq!(
            stored(&index, "team", "c1").await,
            Some(Elected {
                replica: "b".into(),
                received_at_ms: T0 + l.ha_tracker_failover_timeout_ms
            })
        );
        let err = t.check_replica("team", "c1", "a", &l).await.expect_err("a");
        assert_eq!(
            err.to_string(),
            "replicas did not mach, rejecting sample: replica=a, elected=b"
        );
    }

    #[tokio::test]
    async fn elected_replica_refreshes_its_timestamp_after_the_update_timeout() {
        let clock = Arc::new(ManualClock::new(T0));
        let (_dir, index) = index(&clock);
        let t = tracker(&index, &clock);
        let l = limits();
        t.check_replica("team", "c1", "a", &l).await.expect("a");
        // Within the update timeout the cache answers: the stored timestamp stays.
        clock.advance_ms(l.ha_tracker_update_timeout_ms - 1);
        t.check_replica("team", "c1", "a", &l).await.expect("a");
        assert_eq!(
            stored(&index, "team", "c1").await.map(|e| e.received_at_ms),
            Some(T0)
        );
        clock.advance_ms(1);
        t.check_replica("team", "c1", "a", &l).await.expect("a");
        let refreshed = T0 + l.ha_tracker_update_timeout_ms;
        assert_eq!(
            stored(&index, "team", "c1").await.map(|e| e.received_at_ms),
            Some(refreshed)
        );
        // Kept alive, a is still elected long after the first failover timeout.
        for _ in 0..4 {
            clock.advance_ms(l.ha_tracker_update_timeout_ms);
            t.check_replica("team", "c1", "a", &l).await.expect("a");
        }
        assert!(t.check_replica("team", "c1", "b", &l).await.is_err());
    }

    #[tokio::test]
    async fn trackers_sharing_the_index_agree() {
        let clock = Arc::new(ManualClock::new(T0));
        let (_dir, index) = index(&clock);
        let (one, two) = (tracker(&index, &clock), tracker(&index, &clock));
        let l = limits();
        one.check_replica("team", "c1", "a", &l).await.expect("a");
        // The second process has no cache entry: it reads the index and obeys.
        assert!(two.check_replica("team", "c1", "b", &l).await.is_err());
        two.check_replica("team", "c1", "a", &l).await.expect("a");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_elections_have_one_winner() {
        for round in 0..20 {
            let clock = Arc::new(ManualClock::new(T0));
            let (_dir, index) = index(&clock);
            let trackers: Vec<Arc<HaTracker>> =
                (0..4).map(|_| Arc::new(tracker(&index, &clock))).collect();
            let l = limits();
            let tasks: Vec<_> = trackers
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let (t, l) = (Arc::clone(t), l.clone());
                    tokio::spawn(async move {
                        t.check_replica("team", "c1", &format!("r{i}"), &l)
                            .await
                            .is_ok()
                    })
                })
                .collect();
            let mut winners = 0;
            for task in tasks {
                winners += usize::from(task.await.expect("join"));
            }
            assert_eq!(winners, 1, "round {round}: exactly one replica elected");
            // Also after a failover: one of the stale replica's successors wins.
            clock.advance_ms(l.ha_tracker_failover_timeout_ms);
            let elected = stored(&index, "team", "c1").await.expect("elected").replica;
            let tasks: Vec<_> = trackers
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let (t, l) = (Arc::clone(t), l.clone());
                    tokio::spawn(async move {
                        t.check_replica("team", "c1", &format!("s{i}"), &l)
                            .await
                            .is_ok()
                    })
                })
                .collect();
            let mut winners = 0;
            for task in tasks {
                winners += usize::from(task.await.expect("join"));
            }
            assert_eq!(winners, 1, "round {round}: one successor of {elected}");
        }
    }

    #[tokio::test]
    async fn max_clusters_counts_the_index() {
        let clock = Arc::new(ManualClock::new(T0));
        let (_dir, index) = index(&clock);
        let (one, two) = (tracker(&index, &clock), tracker(&index, &clock));
        let l = Limits {
            ha_max_clusters: 1,
            ..limits()
        };
        one.check_replica("team", "c1", "a", &l).await.expect("c1");
        // The second process knows no cluster yet, but the index does.
        let err = two
            .check_replica("team", "c2", "a", &l)
            .await
            .expect_err("c2");
        assert!(
            matches!(err, HaError::TooManyClusters { limit: 1 }),
            "{err}"
        );
        two.check_replica("team", "c1", "a", &l)
            .await
            .expect("c1 is known");
        one.check_replica("other", "c2", "a", &l)
            .await
            .expect("per tenant");
        // Forgotten after 30 minutes of silence.
        clock.advance_ms(FORGET_AFTER_MS);
        two.check_replica("team", "c2", "a", &l)
            .await
            .expect("c1 expired");
    }

    #[tokio::test]
    async fn jitter_moves_the_update_timeout() {
        let manual = Arc::new(ManualClock::new(T0));
        let (_dir, index) = index(&manual);
        let clock = manual as Arc<dyn Clock>;
        let l = limits();
        let late = HaTracker::with_jitter(Arc::clone(&index), Arc::clone(&clock), 0.5);
        assert_eq!(late.update_timeout_ms(&l), 17_500);
        let early = HaTracker::with_jitter(Arc::clone(&index), Arc::clone(&clock), -1.0);
        assert_eq!(early.update_timeout_ms(&l), 10_000);
        let random = HaTracker::new(index, clock);
        assert!((10_000..=20_000).contains(&random.update_timeout_ms(&l)));
    }
}
