//! The conformance suite against [`DynamoIndex`] on the emulator (moto server, or the endpoint
//! in `AWS_ENDPOINT_URL`): each case on a fresh table of its own emulator. Skipped loudly when
//! no emulator can be had, failed under `CI=true` (see `architect_testkit`).
//!
//! Where moto 5.2.1 deviates from DynamoDB, the index works around it in a way that is also
//! correct on DynamoDB (see the crate's `expr` module), except for [`MOTO_DEVIATIONS`]: cases
//! skipped, loudly, when the test starts moto itself (no `AWS_ENDPOINT_URL`).

use std::sync::Arc;

use architect_index::conformance::{self, ManualClock, START_MS};
use architect_index::{
    Condition, Index, IndexError, Item, Page, QueryRequest, WriteOp, index_conformance_tests,
};
use architect_index_dynamodb::DynamoIndex;
use architect_model::clock::Clock;
use architect_testkit::Emulator;

/// A [`DynamoIndex`] that keeps its emulator running for as long as it lives.
#[derive(Debug)]
struct OnEmulator {
    index: DynamoIndex,
    _emulator: Emulator,
}

#[async_trait::async_trait]
impl Index for OnEmulator {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, IndexError> {
        self.index.get(pk, sk).await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), IndexError> {
        self.index.put(item, condition).await
    }

    async fn delete(&self, pk: &str, sk: &str, condition: Condition) -> Result<(), IndexError> {
        self.index.delete(pk, sk, condition).await
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), IndexError> {
        self.index.transact(ops).await
    }

    async fn query(&self, request: QueryRequest) -> Result<Page, IndexError> {
        self.index.query(request).await
    }
}

/// Cases that cannot pass on moto 5.2.1 because moto is not DynamoDB there:
///
/// - `case_item_size_boundary`: moto rejects items over 405,000 bytes (counted like DynamoDB:
///   names plus values, keys included; a hard-coded limit in moto's `LimitedSizeDict`), where
///   DynamoDB accepts up to 400 KiB = 409,600 bytes.
/// - `case_concurrent_lease`: moto serves requests on threads (`run_simple(threaded=True)` in
///   `moto/server.py`) and its DynamoDB model evaluates a put's condition and stores the item
///   without a lock, so two racing conditional puts can both succeed (seen once in CI:
///   `takeover: winners [0, 1]`). DynamoDB serialises conditional writes per item; the case
///   runs on the embedded index, and on DynamoDB when `AWS_ENDPOINT_URL` names one.
const MOTO_DEVIATIONS: &[&str] = &["case_item_size_boundary", "case_concurrent_lease"];

/// Whether `case` is skipped because the emulator is the moto the testkit starts; says so.
fn skipped_on_moto(case: &str) -> bool {
    let on_moto = std::env::var_os("AWS_ENDPOINT_URL").is_none();
    let skipped = on_moto && MOTO_DEVIATIONS.contains(&case);
    if skipped {
        eprintln!("SKIPPED {case}: moto deviates from DynamoDB here (see MOTO_DEVIATIONS)");
    }
    skipped
}

/// A fresh emulator and table, or `None` (after saying why) when there is no emulator.
async fn on_emulator(test: &str, clock: Arc<dyn Clock>) -> Option<OnEmulator> {
    let emulator = Emulator::start_or_skip(test).await?;
    let table = emulator.create_table("index").await.expect("create table");
    let index = DynamoIndex::new(emulator.dynamodb(), table, clock);
    Some(OnEmulator {
        index,
        _emulator: emulator,
    })
}

index_conformance_tests!(optional: |clock: Arc<dyn Clock>, case: &'static str| async move {
    if skipped_on_moto(case) {
        return None;
    }
    let index = on_emulator(case, clock).await;
    index.map(|index| Arc::new(index) as Arc<dyn Index>)
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suite_shares_one_table_and_reruns() {
    let clock = Arc::new(ManualClock::new(START_MS));
    let shared = Arc::clone(&clock) as Arc<dyn Clock>;
    let Some(index) = on_emulator("suite_shares_one_table_and_reruns", shared).await else {
        return;
    };
    let skip: Vec<&str> = MOTO_DEVIATIONS
        .iter()
        .copied()
        .filter(|case| skipped_on_moto(case))
        .collect();
    conformance::run_all_with_clock_except(&index, &clock, "first", &skip).await;
    conformance::run_all_except(&index, "second", &skip).await;
    // Leftovers of a previous run must not break the next one.
    conformance::run_all_with_clock_except(&index, &clock, "first", &skip).await;
}
