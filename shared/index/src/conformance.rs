//! The conformance suite every [`Index`] implementation must pass; it pins down the semantics
//! the rest of the system relies on.
//!
//! Each `case_*` function exercises one behaviour and panics with a message naming what broke.
//! A case only touches partition keys starting with `prefix` and first deletes what a previous
//! run left there, so cases can share one real DynamoDB table and be re-run.
//!
//! - [`run_all`] runs every case that works with any clock (including the system clock).
//! - [`run_all_with_clock`] adds the cases that move a [`ManualClock`], for an index built
//!   with that clock.
//! - [`index_conformance_tests!`](crate::index_conformance_tests) expands into one
//!   `#[tokio::test]` per case, each on a fresh index:
//!
//! ```ignore
//! use std::sync::Arc;
//! use architect_index::{Index, embedded::EmbeddedIndex, index_conformance_tests};
//! use architect_model::clock::Clock;
//!
//! index_conformance_tests!(|clock: Arc<dyn Clock>| async move {
//!     let dir = tempfile::tempdir().expect("temporary directory");
//!     let index = EmbeddedIndex::open_with_clock(&dir.path().join("index.redb"), clock);
//!     Arc::new(index.expect("open")) as Arc<dyn Index>
//! });
//! ```
//!
//! The calling crate needs `tokio` (with `macros` and `rt-multi-thread`) as a dependency.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

pub use architect_model::clock::{Clock, ManualClock};

use crate::{
    AttrValue, Attrs, CONDITIONAL_CHECK_FAILED, Condition, Index, IndexError, Item, Page,
    QueryRequest, SkRange, TTL_ATTR, WriteOp, limits, query_all,
};

/// Time the [`ManualClock`] of [`instantiate`] starts at: 2023-11-14T22:13:20Z.
pub const START_MS: i64 = 1_700_000_000_000;

/// Partition key prefix of the tests [`index_conformance_tests!`](crate::index_conformance_tests)
/// generates.
pub const TEST_PREFIX: &str = "conformance";

/// An expiry time long past under any clock.
const LONG_AGO: i64 = 1;
/// An expiry time far ahead under any clock (2100-01-01).
const FAR_FUTURE: i64 = 4_102_444_800;

/// Builds a fresh index with `factory`, handing it a [`ManualClock`] at [`START_MS`].
pub async fn instantiate<F, Fut>(factory: F) -> (Arc<dyn Index>, Arc<ManualClock>)
where
    F: FnOnce(Arc<dyn Clock>) -> Fut,
    Fut: Future<Output = Arc<dyn Index>>,
{
    let clock = Arc::new(ManualClock::new(START_MS));
    let index = factory(Arc::clone(&clock) as Arc<dyn Clock>).await;
    (index, clock)
}

/// Like [`instantiate`], for a factory that also gets the name of the case (`"case_delete"`)
/// and returns `None` to skip it: its backend cannot be had (an emulator that is not
/// installed), or deviates from DynamoDB in what the case checks.
pub async fn instantiate_or_skip<F, Fut>(
    factory: F,
    case: &'static str,
) -> Option<(Arc<dyn Index>, Arc<ManualClock>)>
where
    F: FnOnce(Arc<dyn Clock>, &'static str) -> Fut,
    Fut: Future<Output = Option<Arc<dyn Index>>>,
{
    let clock = Arc::new(ManualClock::new(START_MS));
    let index = factory(Arc::clone(&clock) as Arc<dyn Clock>, case).await?;
    Some((index, clock))
}

/// Runs every case that works with any clock.
pub async fn run_all(index: &dyn Index, prefix: &str) {
    run_all_except(index, prefix, &[]).await;
}

/// Runs every case; `clock` must be the clock `index` was built with.
pub async fn run_all_with_clock(index: &dyn Index, clock: &ManualClock, prefix: &str) {
    run_all_with_clock_except(index, clock, prefix, &[]).await;
}

/// [`run_all`] without the cases named in `skip` (such as `"case_item_size_boundary"`), for
/// documented deviations of an emulator; each skipped case is reported on stderr.
pub async fn run_all_except(index: &dyn Index, prefix: &str, skip: &[&str]) {
    macro_rules! run {
        ($($case:ident),* $(,)?) => {$(
            if skip.contains(&stringify!($case)) {
                eprintln!("SKIPPED {}", stringify!($case));
            } else {
                $case(index, prefix).await;
            }
        )*};
    }
    run!(
        case_put_get_overwrite,
        case_delete,
        case_put_conditions,
        case_delete_conditions,
        case_transaction_atomicity,
        case_transaction_check,
        case_transaction_limits,
        case_query_ranges,
        case_query_byte_order,
        case_query_partition_isolation,
        case_query_pagination,
        case_query_page_size_cap,
        case_query_reverse_and_start_after,
        case_query_validation,
        case_item_limits,
        case_item_size_boundary,
        case_key_limits,
        case_ttl_fixed_times,
        case_concurrent_lease,
    );
}

/// [`run_all_with_clock`] without the cases named in `skip`; see [`run_all_except`].
pub async fn run_all_with_clock_except(
    index: &dyn Index,
    clock: &ManualClock,
    prefix: &str,
    skip: &[&str],
) {
    run_all_except(index, prefix, skip).await;
    if skip.contains(&"case_ttl_clock") {
        eprintln!("SKIPPED case_ttl_clock");
    } else {
        case_ttl_clock(index, clock, prefix).await;
    }
}

/// Expands into one `#[tokio::test]` per conformance case.
///
/// Takes a closure `|clock: Arc<dyn Clock>| async move { ... }` returning a fresh
/// `Arc<dyn Index>` that uses `clock` for TTLs; see the [module docs](crate::conformance).
///
/// `index_conformance_tests!(optional: |clock, case: &'static str| async move { ... })` takes a
/// closure that also gets the case's name and returns `Option<Arc<dyn Index>>`, for backends
/// that may be unavailable (an emulator that is not installed) or deviate from DynamoDB in a
/// case: a case whose factory returns `None` returns without running. The factory says why,
/// and decides whether that is acceptable (see `architect_testkit`).
#[macro_export]
macro_rules! index_conformance_tests {
    (@cases $factory:expr; $($case:ident),* $(,)?) => {$(
        #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $case() {
            let instance =
                $crate::conformance::instantiate_or_skip($factory, stringify!($case)).await;
            let Some((index, _clock)) = instance else {
                return;
            };
            $crate::conformance::$case(&*index, $crate::conformance::TEST_PREFIX).await;
        }
    )*};
    (optional: $factory:expr $(,)?) => {
        $crate::index_conformance_tests!(@cases $factory;
            case_put_get_overwrite,
            case_delete,
            case_put_conditions,
            case_delete_conditions,
            case_transaction_atomicity,
            case_transaction_check,
            case_transaction_limits,
            case_query_ranges,
            case_query_byte_order,
            case_query_partition_isolation,
            case_query_pagination,
            case_query_page_size_cap,
            case_query_reverse_and_start_after,
            case_query_validation,
            case_item_limits,
            case_item_size_boundary,
            case_key_limits,
            case_ttl_fixed_times,
            case_concurrent_lease,
        );

        #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn case_ttl_clock() {
            let instance =
                $crate::conformance::instantiate_or_skip($factory, "case_ttl_clock").await;
            let Some((index, clock)) = instance else {
                return;
            };
            $crate::conformance::case_ttl_clock(&*index, &clock, $crate::conformance::TEST_PREFIX)
                .await;
        }
    };
    ($factory:expr $(,)?) => {
        $crate::index_conformance_tests!(optional: |clock, _case| {
            let factory = $factory;
            async move { ::std::option::Option::Some(factory(clock).await) }
        });
    };
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// The partition key `prefix/case/name`.
fn key(prefix: &str, case: &str, name: &str) -> String {
    format!("{prefix}/{case}/{name}")
}

/// Deletes every visible item of the partitions.
async fn reset(index: &dyn Index, pks: &[&str]) {
    for pk in pks {
        for item in ok(query_all(index, pk, SkRange::All).await, "reset: query") {
            ok(
                index.delete(&item.pk, &item.sk, Condition::None).await,
                "reset: delete",
            );
        }
    }
}

#[track_caller]
fn ok<T>(result: Result<T, IndexError>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("{what}: unexpected error: {e:?}"),
    }
}

/// Asserts a [`IndexError::Validation`].
#[track_caller]
fn invalid<T: Debug>(result: Result<T, IndexError>, what: &str) {
    match result {
        Err(IndexError::Validation(_)) => {}
        other => panic!("{what}: expected a Validation error, got {other:?}"),
    }
}

/// Asserts an [`IndexError::ConditionFailed`] for (`pk`, `sk`).
#[track_caller]
fn refused(result: Result<(), IndexError>, pk: &str, sk: &str, what: &str) {
    match result {
        Err(IndexError::ConditionFailed { pk: p, sk: s }) if p == pk && s == sk => {}
        other => panic!("{what}: expected ConditionFailed for ({pk}, {sk}), got {other:?}"),
    }
}

/// Asserts an [`IndexError::TransactionCanceled`] whose reasons mark exactly the `failed` ops.
#[track_caller]
fn canceled(result: Result<(), IndexError>, failed: &[bool], what: &str) {
    let expected: Vec<Option<String>> = failed
        .iter()
        .map(|&failed| failed.then(|| CONDITIONAL_CHECK_FAILED.to_owned()))
        .collect();
    match result {
        Err(IndexError::TransactionCanceled { reasons }) if reasons == expected => {}
        other => panic!("{what}: expected TransactionCanceled with {expected:?}, got {other:?}"),
    }
}

async fn get(index: &dyn Index, pk: &str, sk: &str) -> Option<Item> {
    ok(index.get(pk, sk).await, "get")
}

async fn put(index: &dyn Index, item: Item) {
    ok(index.put(item, Condition::None).await, "put");
}

/// Sort keys of every page of `request`, joined.
async fn sks_of(index: &dyn Index, mut request: QueryRequest) -> Vec<String> {
    let mut sks = Vec::new();
    loop {
        let page = ok(index.query(request.clone()).await, "query");
        sks.extend(page.items.into_iter().map(|item| item.sk));
        match page.next {
            Some(next) => request.start_after = Some(next),
            None => return sks,
        }
    }
}

/// Sort keys of one page.
fn page_sks(page: Page) -> Vec<String> {
    page.items.into_iter().map(|item| item.sk).collect()
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|s| (*s).to_owned()).collect()
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Polls all futures concurrently until each has finished; results in input order.
async fn join_all<T>(mut futures: Vec<BoxFuture<'_, T>>) -> Vec<T> {
    let mut results: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, result) in futures.iter_mut().zip(results.iter_mut()) {
            if result.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *result = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    results.into_iter().flatten().collect()
}

// ---------------------------------------------------------------------------------------------
// Basic reads and writes

/// Put, get, and overwrite (which replaces all attributes), with every attribute type.
pub async fn case_put_get_overwrite(index: &dyn Index, prefix: &str) {
    let pk = key(prefix, "put_get", "p");
    reset(index, &[&pk]).await;
    assert_eq!(get(index, &pk, "a").await, None, "get of a missing item");

    let nested = Attrs::from([
        (
            "list".to_owned(),
            AttrValue::L(vec![AttrValue::Bool(false), AttrValue::N(-3)]),
        ),
        ("empty".to_owned(), AttrValue::M(Attrs::new())),
    ]);
    let item = Item::new(&pk, "a")
        .with_s("s", "héllo wörld")
        .with_s("empty_s", "")
        .with_n("min", i64::MIN)
        .with_n("max", i64::MAX)
        .with_b("b", vec![0, 1, 255])
        .with_b("empty_b", Vec::new())
        .with_bool("t", true)
        .with(
            "l",
            AttrValue::L(vec![AttrValue::S("x".into()), AttrValue::B(vec![9])]),
        )
        .with("m", AttrValue::M(nested));
    put(index, item.clone()).await;
    assert_eq!(get(index, &pk, "a").await, Some(item), "item read back");

    let sibling = Item::new(&pk, "b").with_n("n", 1);
    put(index, sibling.clone()).await;
    let replacement = Item::new(&pk, "a").with_s("only", "this");
    put(index, replacement.clone()).await;
    assert_eq!(
        get(index, &pk, "a").await,
        Some(replacement),
        "overwrite replaces all"
    );
    assert_eq!(
        get(index, &pk, "b").await,
        Some(sibling),
        "sibling untouched"
    );

    put(index, Item::new(&pk, "c")).await;
    assert_eq!(
        get(index, &pk, "c").await,
        Some(Item::new(&pk, "c")),
        "item without attributes"
    );
}

/// Delete removes an item; deleting a missing item succeeds.
pub async fn case_delete(index: &dyn Index, prefix: &str) {
    let pk = key(prefix, "delete", "p");
    reset(index, &[&pk]).await;
    put(index, Item::new(&pk, "a").with_n("v", 1)).await;
    put(index, Item::new(&pk, "b").with_n("v", 2)).await;

    ok(index.delete(&pk, "a", Condition::None).await, "delete");
    assert_eq!(get(index, &pk, "a").await, None, "deleted item is gone");
    let all = QueryRequest::new(&pk, SkRange::All);
    assert_eq!(
        sks_of(index, all).await,
        strings(&["b"]),
        "query after delete"
    );
    ok(
        index.delete(&pk, "a", Condition::None).await,
        "delete of a deleted item",
    );
    ok(
        index.delete(&pk, "never", Condition::None).await,
        "delete of a missing item",
    );
}

/// Every condition kind against item `x` = {v: 1, until: 5, name: "one"}, with whether it holds
/// when `x` is stored and when it is absent.
fn condition_matrix(pk: &str) -> Vec<(Condition, bool, bool)> {
    let eq = |name: &str, value: AttrValue| Condition::AttrEquals(name.into(), value);
    let lacks = |name: &str| Condition::AttrNotExists(name.into());
    let less = |name: &str, bound: i64| Condition::AttrLessThan(name.into(), bound);
    let both = |a: Condition, b: Condition| Condition::And(vec![a, b]);
    vec![
        (Condition::None, true, true),
        (Condition::NotExists, false, true),
        (Condition::Exists, true, false),
        (eq("v", AttrValue::N(1)), true, false),
        (eq("v", AttrValue::N(2)), false, false),
        (eq("v", AttrValue::S("1".into())), false, false),
        (eq("missing", AttrValue::N(1)), false, false),
        (eq("pk", AttrValue::S(pk.into())), true, false),
        (eq("sk", AttrValue::S("x".into())), true, false),
        (lacks("missing"), true, true),
        (lacks("v"), false, true),
        (less("until", 6), true, false),
        (less("until", 5), false, false),
        (less("until", 4), false, false),
        (less("missing", 100), false, false),
        (less("name", 100), false, false),
        (Condition::And(Vec::new()), true, true),
        (
            both(Condition::Exists, eq("v", AttrValue::N(1))),
            true,
            false,
        ),
        (
            both(Condition::Exists, eq("v", AttrValue::N(2))),
            false,
            false,
        ),
        (both(Condition::NotExists, lacks("v")), false, true),
    ]
}

/// Runs [`condition_matrix`] against puts (`delete` false) or deletes; a refused write
/// changes nothing.
async fn check_conditions(index: &dyn Index, pk: &str, delete: bool) {
    reset(index, &[pk]).await;
    let stored = Item::new(pk, "x")
        .with_n("v", 1)
        .with_n("until", 5)
        .with_s("name", "one");
    let replacement = Item::new(pk, "x").with_n("v", 2);
    for (condition, if_stored, if_absent) in condition_matrix(pk) {
        for is_stored in [true, false] {
            let before = if is_stored {
                put(index, stored.clone()).await;
                Some(stored.clone())
            } else {
                ok(index.delete(pk, "x", Condition::None).await, "delete");
                None
            };
            let what = format!(
                "{} with {condition:?} on a {} item",
                if delete { "delete" } else { "put" },
                if is_stored { "stored" } else { "missing" }
            );
            let (result, after) = if delete {
                (index.delete(pk, "x", condition.clone()).await, None)
            } else {
                let result = index.put(replacement.clone(), condition.clone()).await;
                (result, Some(replacement.clone()))
            };
            if if_stored && is_stored || if_absent && !is_stored {
                ok(result, &what);
                assert_eq!(get(index, pk, "x").await, after, "{what}: item afterwards");
            } else {
                refused(result, pk, "x", &what);
                assert_eq!(
                    get(index, pk, "x").await,
                    before,
                    "{what}: refused write applied"
                );
            }
        }
    }
}

/// Every condition kind on put, holding and failing.
pub async fn case_put_conditions(index: &dyn Index, prefix: &str) {
    check_conditions(index, &key(prefix, "put_conditions", "p"), false).await;
}

/// Every condition kind on delete, holding and failing.
pub async fn case_delete_conditions(index: &dyn Index, prefix: &str) {
    check_conditions(index, &key(prefix, "delete_conditions", "p"), true).await;
}

// ---------------------------------------------------------------------------------------------
// Transactions

/// A transaction with a failing condition applies nothing and reports a reason per operation;
/// one whose conditions all hold applies everything.
pub async fn case_transaction_atomicity(index: &dyn Index, prefix: &str) {
    let pk = key(prefix, "transaction_atomicity", "p");
    reset(index, &[&pk]).await;
    put(index, Item::new(&pk, "b").with_n("v", 1)).await;
    put(index, Item::new(&pk, "c").with_n("v", 1)).await;
    let all = || QueryRequest::new(&pk, SkRange::All);
    let ops = |b_is: i64| {
        let b_condition = Condition::AttrEquals("v".into(), AttrValue::N(b_is));
        vec![
            WriteOp::put(Item::new(&pk, "a").with_n("v", 1), Condition::NotExists),
            WriteOp::put(Item::new(&pk, "b").with_n("v", 2), b_condition),
            WriteOp::delete(&pk, "c", Condition::Exists),
        ]
    };

    canceled(
        index.transact(ops(5)).await,
        &[false, true, false],
        "one failing condition",
    );
    assert_eq!(
        sks_of(index, all()).await,
        strings(&["b", "c"]),
        "canceled, yet applied"
    );
    assert_eq!(
        get(index, &pk, "b").await.and_then(|b| b.get_n("v")),
        Some(1)
    );

    ok(
        index.transact(ops(1)).await,
        "transaction whose conditions hold",
    );
    assert_eq!(
        sks_of(index, all()).await,
        strings(&["a", "b"]),
        "after the transaction"
    );
    assert_eq!(
        get(index, &pk, "b").await.and_then(|b| b.get_n("v")),
        Some(2)
    );

    let two_fail = vec![
        WriteOp::put(Item::new(&pk, "a"), Condition::NotExists),
        WriteOp::delete(&pk, "c", Condition::Exists),
        WriteOp::put(Item::new(&pk, "d"), Condition::None),
    ];
    canceled(
        index.transact(two_fail).await,
        &[true, true, false],
        "two failing conditions",
    );
    assert_eq!(
        get(index, &pk, "d").await,
        None,
        "canceled transaction wrote an item"
    );
}

/// `Check` operations gate a transaction without writing; they need a real condition.
pub async fn case_transaction_check(index: &dyn Index, prefix: &str) {
    let pk = key(prefix, "transaction_check", "p");
    reset(index, &[&pk]).await;
    let guard = Item::new(&pk, "guard").with_n("epoch", 3);
    put(index, guard.clone()).await;
    let epoch_is = |v: i64| {
        let condition = Condition::AttrEquals("epoch".into(), AttrValue::N(v));
        WriteOp::check(&pk, "guard", condition)
    };
    let write = |sk: &str| WriteOp::put(Item::new(&pk, sk), Condition::None);

    ok(
        index.transact(vec![epoch_is(3), write("a")]).await,
        "check that holds",
    );
    assert!(
        get(index, &pk, "a").await.is_some(),
        "write gated by a holding check"
    );
    assert_eq!(
        get(index, &pk, "guard").await,
        Some(guard),
        "check changed its item"
    );

    let result = index.transact(vec![epoch_is(2), write("b")]).await;
    canceled(result, &[true, false], "check that fails");
    assert_eq!(
        get(index, &pk, "b").await,
        None,
        "write gated by a failing check"
    );

    let absent = WriteOp::check(&pk, "absent", Condition::NotExists);
    ok(
        index.transact(vec![absent, write("c")]).await,
        "NotExists check",
    );
    assert_eq!(
        get(index, &pk, "absent").await,
        None,
        "check created its item"
    );

    let unconditional = WriteOp::check(&pk, "guard", Condition::None);
    invalid(
        index.transact(vec![unconditional, write("d")]).await,
        "check without condition",
    );
    assert_eq!(get(index, &pk, "d").await, None);
}

/// Transaction shape limits: 1..=100 operations, distinct items, at most 4 MB.
pub async fn case_transaction_limits(index: &dyn Index, prefix: &str) {
    let pk = key(prefix, "transaction_limits", "p");
    reset(index, &[&pk]).await;
    let puts = |tag: &str, n: usize| -> Vec<WriteOp> {
        let item = |i: usize| Item::new(&pk, format!("{tag}{i:03}"));
        (0..n)
            .map(|i| WriteOp::put(item(i), Condition::None))
            .collect()
    };

    ok(
        index.transact(puts("ok", limits::MAX_TRANSACT_OPS)).await,
        "100 operations",
    );
    invalid(
        index
            .transact(puts("over", limits::MAX_TRANSACT_OPS + 1))
            .await,
        "101 operations",
    );
    invalid(index.transact(Vec::new()).await, "no operations");

    let dup = || WriteOp::put(Item::new(&pk, "dup"), Condition::None);
    let delete_dup = WriteOp::delete(&pk, "dup", Condition::None);
    invalid(
        index.transact(vec![dup(), delete_dup]).await,
        "put and delete of one item",
    );
    let check_dup = WriteOp::check(&pk, "dup", Condition::NotExists);
    invalid(
        index.transact(vec![dup(), check_dup]).await,
        "put and check of one item",
    );
    invalid(
        index.transact(vec![dup(), dup()]).await,
        "two puts of one item",
    );

    let big = |i: usize| {
        let item = Item::new(&pk, format!("big{i:02}")).with_b("data", vec![7; 390 * 1024]);
        WriteOp::put(item, Condition::None)
    };
    invalid(
        index.transact((0..11).map(big).collect()).await,
        "transaction over 4 MB",
    );

    let written = ok(query_all(index, &pk, SkRange::All).await, "query");
    assert_eq!(written.len(), 100, "only the valid transaction wrote items");
}

// ---------------------------------------------------------------------------------------------
// Queries

/// Every sort-key range kind, forward and reverse.
pub async fn case_query_ranges(index: &dyn Index, prefix: &str) {
    let pk = key(prefix, "query_ranges", "p");
    reset(index, &[&pk]).await;
    for sk in ["a", "b", "ba", "bb", "c", "d"] {
        put(index, Item::new(&pk, sk)).await;
    }
    let s = |v: &str| v.to_owned();
    let cases: Vec<(SkRange, &[&str])> = vec![
        (SkRange::All, &["a", "b", "ba", "bb", "c", "d"]),
        (SkRange::Prefix(s("b")), &["b", "ba", "bb"]),
        (SkRange::Prefix(s("ba")), &["ba"]),
        (SkRange::Prefix(s("bab")), &[]),
        (SkRange::Prefix(s("z")), &[]),
        (SkRange::Between(s("b"), s("c")), &["b", "ba", "bb", "c"]),
        (SkRange::Between(s("b"), s("b")), &["b"]),
        (SkRange::Between(s("aa"), s("bz")), &["b", "ba", "bb"]),
        (SkRange::Between(s("bc"), s("bz")), &[]),
        (SkRange::AtLeast(s("bb")), &["bb", "c", "d"]),
        (SkRange::AtLeast(s("e")), &[]),
        (SkRange::AtMost(s("ba")), &["a", "b", "ba"]),
        (SkRange::AtMost(s("0")), &[]),
    ];
    for (range, expected) in cases {
        let request = QueryRequest::new(&pk, range.clone());
        let forward = sks_of(index, request.clone()).await;
        assert_eq!(forward, strings(expected), "query of {range:?}");
        let mut backward = sks_of(index, request.reverse(true)).await;
        backward.reverse();
        assert_eq!(backward, strings(expected), "reverse query of {range:?}");
    }
}

/// Sort keys order by raw UTF-8 bytes, not by UTF-16 code units.
pub async fn case_query_byte_order(index: &dyn Index, prefix: &str) {
    let pk = key(prefix, "query_byte_order", "p");
    reset(index, &[&pk]).await;
    // U+FF61 is EF BD A1 in UTF-8, FF61 in UTF-16; U+1F600 is F0 9F 98 80, D83D DE00: byte
    // order puts the emoji last, UTF-16 order puts it before U+FF61.
    let ordered = ["A", "Z", "a", "z", "é", "中", "\u{FF61}", "😀"];
    for sk in ordered.iter().rev() {
        put(index, Item::new(&pk, *sk)).await;
    }
    let all = QueryRequest::new(&pk, SkRange::All);
    assert_eq!(sks_of(index, all).await, strings(&ordered), "byte order");
    let tail = QueryRequest::new(&pk, SkRange::AtLeast("\u{FF61}".into()));
    assert_eq!(
        sks_of(index, tail).await,
        strings(&ordered[6..]),
        "AtLeast in byte order"
    );
}

/// A partition never shows items of partitions its key is a prefix of ("a" vs "ab").
pub async fn case_query_partition_isolation(index: &dyn Index, prefix: &str) {
    let pks = ["a", "ab", "a\u{1}", "a "].map(|name| key(prefix, "isolation", name));
    reset(index, &pks.each_ref().map(String::as_str)).await;
    for pk in &pks {
        for sk in ["0", "m", "\u{10FFFF}"] {
            put(
                index,
                Item::new(pk.as_str(), sk).with_s("owner", pk.as_str()),
            )
            .await;
        }
    }
    let ranges = [
        SkRange::All,
        SkRange::AtLeast("1".into()),
        SkRange::AtMost("z".into()),
    ];
    for pk in &pks {
        for range in &ranges {
            for reverse in [false, true] {
                let request = QueryRequest::new(pk.as_str(), range.clone()).reverse(reverse);
                let page = ok(index.query(request).await, "query");
                let what = format!("query of {pk:?} {range:?}, reverse {reverse}");
                assert!(!page.items.is_empty(), "{what}: no items");
                for item in &page.items {
                    let owned = item.pk == *pk && item.get_s("owner") == Some(pk.as_str());
                    assert!(owned, "{what}: returned {item:?}");
                }
            }
        }
    }
}

/// Paging with a limit returns every item exactly once, in order, in both directions.
pub async fn case_query_pagination(index: &dyn Index, prefix: &str) {
    let pk = key(prefix, "pagination", "p");
    reset(index, &[&pk]).await;
    let all: Vec<String> = (0..25).map(|i| format!("item-{i:03}")).collect();
    for sk in &all {
        put(index, Item::new(&pk, sk.as_str())).await;
    }
    for reverse in [false, true] {
        let mut expected = all.clone();
        if reverse {
            expected.reverse();
        }
        for limit in [1, 7, 25, 100] {
            let what = format!("limit {limit}, reverse {reverse}");
            let mut request = QueryRequest::new(&pk, SkRange::All)
                .limit(limit)
                .reverse(reverse);
            let mut seen = Vec::new();
            for round in 0.. {
                assert!(round <= all.len(), "{what}: paging does not end");
                let page = ok(index.query(request.clone()).await, "query");
                assert!(
                    page.items.len() <= limit,
                    "{what}: page of {}",
                    page.items.len()
                );
                if round == 0 {
                    assert_eq!(page.items.len(), limit.min(all.len()), "{what}: first page");
                }
                seen.extend(page_sks(page.clone()));
                match page.next {
                    Some(next) => {
                        assert_eq!(Some(&next), seen.last(), "{what}: next is the last key");
                        request.start_after = Some(next);
                    }
                    None => break,
                }
            }
            assert_eq!(seen, expected, "{what}: pages joined");
        }
    }
}

/// A page ends once its items reach 1 MB, limit or not.
pub async fn case_query_page_size_cap(index: &dyn Index, prefix: &str) {
    let pk = key(prefix, "page_size_cap", "p");
    reset(index, &[&pk]).await;
    let all: Vec<String> = (0..30).map(|i| format!("big-{i:02}")).collect();
    for sk in &all {
        put(
            index,
            Item::new(&pk, sk.as_str()).with_b("data", vec![1; 100 * 1024]),
        )
        .await;
    }
    let mut request = QueryRequest::new(&pk, SkRange::All);
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = ok(index.query(request.clone()).await, "query");
        pages += 1;
        let bytes: usize = page.items.iter().map(Item::size).sum();
        // DynamoDB stops once the page reaches 1 MB, so it may exceed it by one item.
        assert!(
            bytes <= limits::MAX_PAGE_BYTES + 101 * 1024,
            "page of {bytes} bytes"
        );
        seen.extend(page_sks(page.clone()));
        match page.next {
            Some(next) => request.start_after = Some(next),
            None => break,
        }
    }
    assert!(pages >= 3, "30 items of 100 KB came in {pages} pages");
    assert_eq!(seen, all, "pages joined");

    let limited = ok(
        index
            .query(QueryRequest::new(&pk, SkRange::All).limit(4))
            .await,
        "query",
    );
    assert_eq!(limited.items.len(), 4, "limit below the size cap");
}

/// Descending order, and `start_after`, exclusive in the direction of travel.
pub async fn case_query_reverse_and_start_after(index: &dyn Index, prefix: &str) {
    let pk = key(prefix, "reverse_start_after", "p");
    reset(index, &[&pk]).await;
    for sk in ["a", "b", "c", "d", "e"] {
        put(index, Item::new(&pk, sk)).await;
    }
    let between = SkRange::Between("b".into(), "d".into());
    let cases: Vec<(SkRange, Option<&str>, bool, &[&str])> = vec![
        (SkRange::All, None, true, &["e", "d", "c", "b", "a"]),
        (SkRange::All, Some("b"), false, &["c", "d", "e"]),
        (SkRange::All, Some("d"), true, &["c", "b", "a"]),
        (SkRange::All, Some("bb"), false, &["c", "d", "e"]),
        (SkRange::All, Some("bb"), true, &["b", "a"]),
        (SkRange::All, Some("e"), false, &[]),
        (SkRange::All, Some("a"), true, &[]),
        (between.clone(), Some("c"), false, &["d"]),
        (between, Some("c"), true, &["b"]),
    ];
    for (range, start_after, reverse, expected) in cases {
        let what = format!("{range:?} after {start_after:?}, reverse {reverse}");
        let mut request = QueryRequest::new(&pk, range).reverse(reverse);
        request.start_after = start_after.map(str::to_owned);
        let page = ok(index.query(request).await, &what);
        assert_eq!(page.next, None, "{what}: next");
        assert_eq!(page_sks(page), strings(expected), "{what}");
    }

    let mut request = QueryRequest::new(&pk, SkRange::All).limit(2).reverse(true);
    let mut pages = Vec::new();
    loop {
        let page = ok(index.query(request.clone()).await, "query");
        let next = page.next.clone();
        pages.push(page_sks(page));
        match next {
            Some(next) => request.start_after = Some(next),
            None => break,
        }
    }
    pages.retain(|page| !page.is_empty());
    let expected = [strings(&["e", "d"]), strings(&["c", "b"]), strings(&["a"])];
    assert_eq!(pages, expected, "reverse pages of 2");
}

/// Malformed queries are rejected.
pub async fn case_query_validation(index: &dyn Index, prefix: &str) {
    let pk = key(prefix, "query_validation", "p");
    let query = |range: SkRange| QueryRequest::new(&pk, range);
    let between = |low: &str, high: &str| SkRange::Between(low.into(), high.into());
    let cases = [
        (query(SkRange::Prefix(String::new())), "empty prefix"),
        (query(SkRange::AtLeast(String::new())), "empty bound"),
        (query(between("b", "a")), "Between out of order"),
        (query(SkRange::All).limit(0), "limit 0"),
        (QueryRequest::new("", SkRange::All), "empty pk"),
        (
            query(between("m", "p")).start_after("a"),
            "start_after outside the range",
        ),
        (query(SkRange::All).start_after(""), "empty start_after"),
    ];
    for (request, what) in cases {
        invalid(index.query(request).await, what);
    }
}

// ---------------------------------------------------------------------------------------------
// Limits

/// An item of `total` bytes (as [`limits::item_size`] counts): a binary `data` attribute.
fn sized_item(pk: &str, sk: &str, total: usize) -> Item {
    // Size = "pk" + pk + "sk" + sk + "data" + payload.
    let overhead = 2 + pk.len() + 2 + sk.len() + 4;
    Item::new(pk, sk).with_b("data", vec![3; total - overhead])
}

/// Items of 400,000 bytes are accepted, items over 400 KiB rejected (in transactions too);
/// reserved and empty attribute names and nesting beyond 32 levels are rejected. The exact
/// upper boundary is [`case_item_size_boundary`].
pub async fn case_item_limits(index: &dyn Index, prefix: &str) {
    let pk = key(prefix, "item_limits", "p");
    reset(index, &[&pk]).await;
    let sized = |sk: &str, total: usize| sized_item(&pk, sk, total);
    let large = sized("large", 400_000);
    ok(
        index.put(large.clone(), Condition::None).await,
        "item of 400,000 bytes",
    );
    assert_eq!(
        get(index, &pk, "large").await,
        Some(large),
        "large item read back"
    );

    let over = || sized("over", limits::MAX_ITEM_BYTES + 1);
    invalid(index.put(over(), Condition::None).await, "item over 400 KB");
    let in_transaction = vec![WriteOp::put(over(), Condition::None)];
    invalid(
        index.transact(in_transaction).await,
        "item over 400 KB in a transaction",
    );
    let many = (0..5000).fold(Item::new(&pk, "many"), |item, i| {
        item.with_b(format!("attr-{i:04}"), vec![0; 80])
    });
    invalid(
        index.put(many, Condition::None).await,
        "over 400 KB in small attributes",
    );
    assert_eq!(get(index, &pk, "over").await, None);
    assert_eq!(get(index, &pk, "many").await, None);

    for name in [limits::PK_ATTR, limits::SK_ATTR, ""] {
        let item = Item::new(&pk, "named").with_s(name, "x");
        invalid(
            index.put(item, Condition::None).await,
            &format!("attribute name {name:?}"),
        );
    }
    let deep = (0..=limits::MAX_NESTING_DEPTH).fold(AttrValue::N(1), |v, _| AttrValue::L(vec![v]));
    let item = Item::new(&pk, "deep").with("v", deep);
    invalid(
        index.put(item, Condition::None).await,
        "nesting beyond 32 levels",
    );
}

/// Items just under the 400 KiB limit (409,600 bytes) are accepted, alone and in a transaction.
/// Split from [`case_item_limits`] because moto caps items at 405,000 bytes.
pub async fn case_item_size_boundary(index: &dyn Index, prefix: &str) {
    let pk = key(prefix, "item_size_boundary", "p");
    reset(index, &[&pk]).await;
    let fits = sized_item(&pk, "fits", limits::MAX_ITEM_BYTES - 64);
    ok(
        index.put(fits.clone(), Condition::None).await,
        "item just under 400 KiB",
    );
    assert_eq!(
        get(index, &pk, "fits").await,
        Some(fits),
        "item just under 400 KiB read back"
    );
    let in_transaction = sized_item(&pk, "in-transaction", limits::MAX_ITEM_BYTES - 64);
    let op = WriteOp::put(in_transaction.clone(), Condition::NotExists);
    ok(
        index.transact(vec![op]).await,
        "item just under 400 KiB in a transaction",
    );
    assert_eq!(
        get(index, &pk, "in-transaction").await,
        Some(in_transaction),
        "item just under 400 KiB written by a transaction"
    );
}

/// Keys must be non-empty, at most 2048 (pk) / 1024 (sk) bytes, and free of NUL.
pub async fn case_key_limits(index: &dyn Index, prefix: &str) {
    let pk = key(prefix, "key_limits", "p");
    let long_pk = format!("{pk}-{}", "x".repeat(limits::MAX_PK_BYTES - pk.len() - 1));
    reset(index, &[&pk, &long_pk]).await;

    for (p, s) in [("", "s"), (pk.as_str(), "")] {
        let what = format!("key ({p:?}, {s:?})");
        invalid(index.get(p, s).await, &what);
        invalid(index.put(Item::new(p, s), Condition::None).await, &what);
        invalid(index.delete(p, s, Condition::None).await, &what);
        let op = WriteOp::put(Item::new(p, s), Condition::None);
        invalid(index.transact(vec![op]).await, &what);
    }

    assert_eq!(long_pk.len(), limits::MAX_PK_BYTES);
    ok(
        index.put(Item::new(&long_pk, "s"), Condition::None).await,
        "pk of 2048 bytes",
    );
    assert!(
        get(index, &long_pk, "s").await.is_some(),
        "item with a pk of 2048 bytes"
    );
    let too_long = format!("{long_pk}x");
    invalid(
        index.put(Item::new(&too_long, "s"), Condition::None).await,
        "pk of 2049 bytes",
    );
    invalid(
        index.get(&too_long, "s").await,
        "get with a pk of 2049 bytes",
    );

    let long_sk = "y".repeat(limits::MAX_SK_BYTES);
    let put_sk = |sk: String| index.put(Item::new(&pk, sk), Condition::None);
    ok(put_sk(long_sk.clone()).await, "sk of 1024 bytes");
    invalid(put_sk(format!("{long_sk}y")).await, "sk of 1025 bytes");
    // Limits count bytes, not characters.
    let wide = "é".repeat(limits::MAX_SK_BYTES / 2);
    ok(put_sk(wide.clone()).await, "sk of 512 two-byte characters");
    invalid(
        put_sk(format!("{wide}é")).await,
        "sk of 513 two-byte characters",
    );
    let bound = QueryRequest::new(&pk, SkRange::AtLeast(format!("{long_sk}y")));
    invalid(index.query(bound).await, "range bound of 1025 bytes");

    invalid(put_sk("s\0".to_owned()).await, "NUL in sk");
    let nul_pk = Item::new(format!("{pk}\0"), "s");
    invalid(index.put(nul_pk, Condition::None).await, "NUL in pk");
}

// ---------------------------------------------------------------------------------------------
// TTL and concurrency

/// Items whose `ttl` has passed are invisible to reads and absent to conditions.
pub async fn case_ttl_fixed_times(index: &dyn Index, prefix: &str) {
    let pk = key(prefix, "ttl_fixed", "p");
    reset(index, &[&pk]).await;
    put(
        index,
        Item::new(&pk, "expired")
            .with_s("v", "old")
            .with_ttl(LONG_AGO),
    )
    .await;
    put(index, Item::new(&pk, "live").with_ttl(FAR_FUTURE)).await;
    put(index, Item::new(&pk, "string_ttl").with_s(TTL_ATTR, "1")).await;
    put(index, Item::new(&pk, "plain")).await;

    assert_eq!(
        get(index, &pk, "expired").await,
        None,
        "get of an expired item"
    );
    assert!(
        get(index, &pk, "live").await.is_some(),
        "get of an unexpired item"
    );
    assert!(
        get(index, &pk, "string_ttl").await.is_some(),
        "non-number ttl expired"
    );
    let all = QueryRequest::new(&pk, SkRange::All);
    let visible = strings(&["live", "plain", "string_ttl"]);
    assert_eq!(
        sks_of(index, all).await,
        visible,
        "query hides expired items"
    );

    let exists = index
        .put(Item::new(&pk, "expired"), Condition::Exists)
        .await;
    refused(exists, &pk, "expired", "Exists on an expired item");
    let old = Condition::AttrEquals("v".into(), AttrValue::S("old".into()));
    refused(
        index.delete(&pk, "expired", old).await,
        &pk,
        "expired",
        "AttrEquals on it",
    );
    let check = WriteOp::check(&pk, "expired", Condition::Exists);
    canceled(
        index.transact(vec![check]).await,
        &[true],
        "Exists check on it",
    );

    let fresh = Item::new(&pk, "expired").with_s("v", "new");
    ok(
        index.put(fresh.clone(), Condition::NotExists).await,
        "NotExists on an expired item",
    );
    assert_eq!(
        get(index, &pk, "expired").await,
        Some(fresh),
        "item replacing an expired one"
    );
}

/// Items vanish once the clock reaches their `ttl`; an expired lease can be taken over.
pub async fn case_ttl_clock(index: &dyn Index, clock: &ManualClock, prefix: &str) {
    let pk = key(prefix, "ttl_clock", "p");
    reset(index, &[&pk]).await;
    put(
        index,
        Item::new(&pk, "item").with_ttl(clock.now_secs() + 60),
    )
    .await;
    clock.advance_ms(59_000);
    assert!(
        get(index, &pk, "item").await.is_some(),
        "item gone a second before its ttl"
    );
    clock.advance_ms(1_000);
    assert_eq!(
        get(index, &pk, "item").await,
        None,
        "item visible at its ttl"
    );
    let all = QueryRequest::new(&pk, SkRange::All);
    assert!(
        sks_of(index, all).await.is_empty(),
        "query shows an expired item"
    );

    let lease =
        |owner: &str, ttl: i64| Item::new(&pk, "lease").with_s("owner", owner).with_ttl(ttl);
    let now = clock.now_secs();
    ok(
        index.put(lease("a", now + 10), Condition::NotExists).await,
        "first lease",
    );
    let taken = index.put(lease("b", now + 10), Condition::NotExists).await;
    refused(taken, &pk, "lease", "taking a live lease");
    clock.advance_ms(10_000);
    ok(
        index.put(lease("b", now + 20), Condition::NotExists).await,
        "taking an expired lease",
    );
    let owner = get(index, &pk, "lease")
        .await
        .and_then(|i| i.get_s("owner").map(str::to_owned));
    assert_eq!(owner.as_deref(), Some("b"), "owner after takeover");
}

/// Eight concurrent conditional puts on one key: exactly one wins, for creation, takeover of
/// an expired lease, and compare-and-swap.
pub async fn case_concurrent_lease(index: &dyn Index, prefix: &str) {
    const CONTENDERS: i64 = 8;
    let pk = key(prefix, "concurrent_lease", "p");
    reset(index, &[&pk]).await;
    let lease = |owner: i64, until: i64, version: i64| {
        let item = Item::new(&pk, "lease").with_n("owner", owner);
        item.with_n("until", until).with_n("version", version)
    };
    let rounds = [
        ("creation", 100, 1, Condition::NotExists),
        (
            "takeover",
            10_000,
            2,
            Condition::AttrLessThan("until".into(), 1_000),
        ),
        (
            "compare-and-swap",
            10_000,
            3,
            Condition::AttrEquals("version".into(), AttrValue::N(2)),
        ),
    ];
    for (what, until, version, condition) in rounds {
        let attempts = (0..CONTENDERS)
            .map(|owner| index.put(lease(owner, until, version), condition.clone()))
            .collect();
        let mut winners = Vec::new();
        for (owner, result) in (0..CONTENDERS).zip(join_all(attempts).await) {
            match result {
                Ok(()) => winners.push(owner),
                Err(IndexError::ConditionFailed { .. }) => {}
                Err(e) => panic!("{what}: unexpected error {e:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "{what}: winners {winners:?}");
        let holder = get(index, &pk, "lease")
            .await
            .and_then(|item| item.get_n("owner"));
        assert_eq!(
            holder,
            Some(winners[0]),
            "{what}: the winner holds the lease"
        );
    }
}
