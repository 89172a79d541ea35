//! The conformance suite and persistence tests against [`EmbeddedIndex`].

use std::sync::Arc;

use architect_index::embedded::EmbeddedIndex;
use architect_index::{Condition, Index, Item, SkRange, index_conformance_tests, query_all};
use architect_model::clock::{Clock, ManualClock};

index_conformance_tests!(|clock: Arc<dyn Clock>| async move {
    // The directory is removed when this block ends while the database stays open: on Unix the
    // open file lives on unlinked, elsewhere the removal fails quietly and leaves it behind.
    let dir = tempfile::tempdir().expect("temporary directory");
    let index = EmbeddedIndex::open_with_clock(&dir.path().join("index.redb"), clock);
    Arc::new(index.expect("open index")) as Arc<dyn Index>
});

fn open(dir: &tempfile::TempDir, clock: &Arc<ManualClock>) -> EmbeddedIndex {
    let clock = Arc::clone(clock) as Arc<dyn Clock>;
    EmbeddedIndex::open_with_clock(&dir.path().join("index.redb"), clock).expect("open index")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_survives_close_and_reopen() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("index.redb");
    {
        let index = EmbeddedIndex::open(&path).expect("open");
        for i in 0..10 {
            let item = Item::new("p", format!("s{i}")).with_n("i", i);
            index.put(item, Condition::NotExists).await.expect("put");
        }
        index
            .delete("p", "s3", Condition::Exists)
            .await
            .expect("delete");
        let second = EmbeddedIndex::open(&path);
        assert!(
            matches!(second, Err(architect_index::IndexError::Unavailable(_))),
            "{second:?}"
        );
    }
    let index = EmbeddedIndex::open(&path).expect("reopen");
    let items = query_all(&index, "p", SkRange::All).await.expect("query");
    let sks: Vec<&str> = items.iter().map(|item| item.sk.as_str()).collect();
    assert_eq!(sks, ["s0", "s1", "s2", "s4", "s5", "s6", "s7", "s8", "s9"]);
    assert_eq!(
        index
            .get("p", "s7")
            .await
            .expect("get")
            .and_then(|i| i.get_n("i")),
        Some(7)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suite_shares_one_index_and_reruns() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let clock = Arc::new(ManualClock::new(architect_index::conformance::START_MS));
    let index = open(&dir, &clock);
    architect_index::conformance::run_all_with_clock(&index, &clock, "first").await;
    architect_index::conformance::run_all(&index, "second").await;
    // Leftovers of a previous run must not break the next one.
    architect_index::conformance::run_all_with_clock(&index, &clock, "first").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_removes_only_expired_items() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let clock = Arc::new(ManualClock::new(1_000_000));
    let index = open(&dir, &clock);
    let now = clock.now_secs();
    index
        .put(Item::new("p", "old").with_ttl(now - 1), Condition::None)
        .await
        .expect("put");
    index
        .put(Item::new("p", "soon").with_ttl(now + 5), Condition::None)
        .await
        .expect("put");
    index
        .put(Item::new("p", "plain"), Condition::None)
        .await
        .expect("put");
    assert_eq!(index.purge_expired().await.expect("purge"), 1);
    clock.advance_ms(5_000);
    assert_eq!(index.purge_expired().await.expect("purge"), 1);
    let items = query_all(&index, "p", SkRange::All).await.expect("query");
    assert_eq!(items, vec![Item::new("p", "plain")]);
}
