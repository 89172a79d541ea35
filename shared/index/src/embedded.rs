//! [`EmbeddedIndex`]: the index in one local [redb](https://docs.rs/redb) file, for local
//! development and single-node deployments.
//!
//! # Why redb
//!
//! - Pure Rust: no C toolchain or system library to build, cross-compiles like the rest.
//! - One file, nothing else to run or configure.
//! - ACID transactions on a copy-on-write B-tree: a commit is atomic and, with immediate
//!   durability (used for every write here), fsynced before it returns, so an acknowledged
//!   write survives a crash and a crash never leaves a half-applied transaction.
//! - A stable, documented file format, so upgrading the crate does not strand existing data.
//!
//! # Layout
//!
//! One table maps `pk ‖ 0x00 ‖ sk` (UTF-8 bytes) to the item's attributes in a compact binary
//! encoding. Keys may not contain NUL (validated), so byte order of the encoded keys is
//! (pk, sk) order with sort keys in raw UTF-8 byte order, exactly as DynamoDB orders them, and a
//! partition is the contiguous key range `[pk ‖ 0x00, pk ‖ 0x01)`: partition `a` never sees
//! items of partition `ab`.
//!
//! # Concurrency and TTL
//!
//! redb runs one write transaction at a time, so conditional writes are serialised: of several
//! racing conditional puts on a key exactly one sees the state its condition expects. Reads run
//! on snapshots concurrently with writes. All redb work runs on tokio's blocking pool.
//!
//! Expired items (see [`crate::TTL_ATTR`]) stay in the file until overwritten, deleted or
//! removed by [`EmbeddedIndex::purge_expired`]; until then they are invisible to reads and
//! conditions, as with DynamoDB's lazy TTL deletion.

use std::fmt;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use architect_model::clock::{Clock, SystemClock};
use async_trait::async_trait;
use redb::{
    AccessGuard, Builder, Database, Durability, ReadableDatabase, ReadableTable, TableDefinition,
};

use crate::{
    CONDITIONAL_CHECK_FAILED, Condition, Index, IndexError, Item, Page, QueryRequest, SkRange,
    WriteOp, codec, limits,
};

type Bytes = &'static [u8];

const TABLE: TableDefinition<'static, Bytes, Bytes> = TableDefinition::new("items");

/// Page cache; the index holds small state, so far less than redb's 1 GiB default.
const CACHE_BYTES: usize = 64 * 1024 * 1024;

/// The index in one redb file. Cheap to clone; clones share the open database.
#[derive(Clone)]
pub struct EmbeddedIndex {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    clock: Arc<dyn Clock>,
    path: PathBuf,
    /// Bumped after every write transaction (see [`Index::change_counter`]).
    changes: AtomicU64,
}

impl fmt::Debug for EmbeddedIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedIndex")
            .field("path", &self.inner.path)
            .field("clock", &self.inner.clock)
            .finish_non_exhaustive()
    }
}

impl EmbeddedIndex {
    /// Opens the index file at `path`, creating it if absent, with the system clock for TTLs.
    pub fn open(path: &Path) -> Result<Self, IndexError> {
        Self::open_with_clock(path, Arc::new(SystemClock))
    }

    /// Opens the index file at `path`, creating it if absent; `clock` decides TTL expiry.
    ///
    /// Blocks on file I/O. A file can be open only once at a time: a second open fails with
    /// [`IndexError::Unavailable`].
    pub fn open_with_clock(path: &Path, clock: Arc<dyn Clock>) -> Result<Self, IndexError> {
        let open = || -> Result<Database, Fail> {
            let db = Builder::new().set_cache_size(CACHE_BYTES).create(path)?;
            // Create the table up front so that read transactions can always open it.
            let txn = db.begin_write()?;
            drop(txn.open_table(TABLE)?);
            txn.commit()?;
            Ok(db)
        };
        let db = open().map_err(IndexError::from)?;
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                clock,
                path: path.to_path_buf(),
                changes: AtomicU64::new(0),
            }),
        })
    }

    /// The file backing the index.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Deletes every expired item; returns how many. Scans the whole file in one write
    /// transaction, so run it occasionally, not per request.
    pub async fn purge_expired(&self) -> Result<usize, IndexError> {
        self.run(|inner| {
            let txn = begin_durable_write(&inner.db)?;
            let now = inner.clock.now_secs();
            let mut removed = 0;
            {
                let mut table = txn.open_table(TABLE)?;
                table.retain(|_, value| {
                    // An undecodable value is kept: it is reported by whoever reads it.
                    let expired =
                        codec::decode(value).is_ok_and(|attrs| crate::is_expired(&attrs, now));
                    removed += usize::from(expired);
                    !expired
                })?;
            }
            let committed = txn.commit();
            inner.changes.fetch_add(1, Ordering::SeqCst);
            committed?;
            Ok(removed)
        })
        .await
    }

    /// Runs `work` on the blocking pool.
    async fn run<T, F>(&self, work: F) -> Result<T, IndexError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, Fail> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        match tokio::task::spawn_blocking(move || work(&inner)).await {
            Ok(result) => result.map_err(IndexError::from),
            Err(e) => Err(IndexError::Internal(format!("index task failed: {e}"))),
        }
    }
}

#[async_trait]
impl Index for EmbeddedIndex {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, IndexError> {
        limits::validate_key(pk, sk)?;
        let (pk, sk) = (pk.to_owned(), sk.to_owned());
        self.run(move |inner| {
            let txn = inner.db.begin_read()?;
            let table = txn.open_table(TABLE)?;
            load(&table, &pk, &sk, inner.clock.now_secs())
        })
        .await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), IndexError> {
        limits::validate_item(&item)?;
        limits::validate_condition(&condition)?;
        let op = Prepared::new(WriteOp::Put { item, condition });
        self.run(move |inner| write(inner, vec![op], Mode::Single))
            .await
    }

    async fn delete(&self, pk: &str, sk: &str, condition: Condition) -> Result<(), IndexError> {
        limits::validate_key(pk, sk)?;
        limits::validate_condition(&condition)?;
        let op = Prepared::new(WriteOp::Delete {
            pk: pk.to_owned(),
            sk: sk.to_owned(),
            condition,
        });
        self.run(move |inner| write(inner, vec![op], Mode::Single))
            .await
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), IndexError> {
        limits::validate_transaction(&ops)?;
        let ops = ops.into_iter().map(Prepared::new).collect();
        self.run(move |inner| write(inner, ops, Mode::Transaction))
            .await
    }

    async fn query(&self, request: QueryRequest) -> Result<Page, IndexError> {
        limits::validate_query(&request)?;
        self.run(move |inner| query(inner, &request)).await
    }

    /// The file can be open in one process only, so every write passes through here.
    fn change_counter(&self) -> Option<u64> {
        Some(self.inner.changes.load(Ordering::SeqCst))
    }
}

/// A storage failure or a logical error, inside blocking work.
#[derive(Debug)]
enum Fail {
    Index(IndexError),
    Storage(redb::Error),
}

impl From<IndexError> for Fail {
    fn from(e: IndexError) -> Self {
        Self::Index(e)
    }
}

macro_rules! storage_errors {
    ($($error:ty),*) => {$(
        impl From<$error> for Fail {
            fn from(e: $error) -> Self {
                Self::Storage(e.into())
            }
        }
    )*};
}

storage_errors!(
    redb::Error,
    redb::CommitError,
    redb::DatabaseError,
    redb::SetDurabilityError,
    redb::StorageError,
    redb::TableError,
    redb::TransactionError
);

impl From<Fail> for IndexError {
    fn from(fail: Fail) -> Self {
        match fail {
            Fail::Index(e) => e,
            Fail::Storage(redb::Error::DatabaseAlreadyOpen) => {
                Self::Unavailable("the index file is already open".to_owned())
            }
            Fail::Storage(e) => Self::Internal(format!("redb: {e}")),
        }
    }
}

/// Encoded table key of (`pk`, `sk`).
fn encode_key(pk: &str, sk: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(pk.len() + 1 + sk.len());
    key.extend_from_slice(pk.as_bytes());
    key.push(0);
    key.extend_from_slice(sk.as_bytes());
    key
}

/// The smallest key greater than every key starting with `prefix`; `None` if there is none.
fn prefix_end(mut prefix: Vec<u8>) -> Option<Vec<u8>> {
    while let Some(last) = prefix.pop() {
        if last < u8::MAX {
            prefix.push(last + 1);
            return Some(prefix);
        }
    }
    None
}

fn begin_durable_write(db: &Database) -> Result<redb::WriteTransaction, Fail> {
    let mut txn = db.begin_write()?;
    // The default, made explicit: commit returns only once the data is on disk.
    txn.set_durability(Durability::Immediate)?;
    Ok(txn)
}

/// The live item at (`pk`, `sk`): `None` if absent or expired at `now_secs`.
fn load(
    table: &impl ReadableTable<Bytes, Bytes>,
    pk: &str,
    sk: &str,
    now_secs: i64,
) -> Result<Option<Item>, Fail> {
    let Some(value) = table.get(encode_key(pk, sk).as_slice())? else {
        return Ok(None);
    };
    let item = Item {
        pk: pk.to_owned(),
        sk: sk.to_owned(),
        attrs: codec::decode(value.value())?,
    };
    Ok((!item.is_expired(now_secs)).then_some(item))
}

/// A validated write operation, encoded ahead of the write transaction.
struct Prepared {
    pk: String,
    sk: String,
    condition: Condition,
    action: Action,
}

enum Action {
    Put(Vec<u8>),
    Delete,
    Check,
}

impl Prepared {
    fn new(op: WriteOp) -> Self {
        let (pk, sk, condition, action) = match op {
            WriteOp::Put { item, condition } => {
                let value = codec::encode(&item.attrs);
                (item.pk, item.sk, condition, Action::Put(value))
            }
            WriteOp::Delete { pk, sk, condition } => (pk, sk, condition, Action::Delete),
            WriteOp::Check { pk, sk, condition } => (pk, sk, condition, Action::Check),
        };
        Self {
            pk,
            sk,
            condition,
            action,
        }
    }
}

/// How a failed condition is reported.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// `ConditionFailed` (PutItem, DeleteItem).
    Single,
    /// `TransactionCanceled` with one reason per operation (TransactWriteItems).
    Transaction,
}

/// Checks every condition, then applies every operation, in one durable write transaction.
fn write(inner: &Inner, ops: Vec<Prepared>, mode: Mode) -> Result<(), Fail> {
    let txn = begin_durable_write(&inner.db)?;
    // Read the clock only once the write lock is held, so that TTLs and lease conditions are
    // judged at the moment the write applies.
    let now = inner.clock.now_secs();
    let mut reasons = Vec::with_capacity(ops.len());
    {
        let mut table = txn.open_table(TABLE)?;
        for op in &ops {
            let current = load(&table, &op.pk, &op.sk, now)?;
            let holds = op.condition.evaluate(current.as_ref());
            reasons.push((!holds).then(|| CONDITIONAL_CHECK_FAILED.to_owned()));
        }
        if reasons.iter().all(Option::is_none) {
            for op in &ops {
                let key = encode_key(&op.pk, &op.sk);
                match &op.action {
                    Action::Put(value) => {
                        table.insert(key.as_slice(), value.as_slice())?;
                    }
                    Action::Delete => {
                        table.remove(key.as_slice())?;
                    }
                    Action::Check => {}
                }
            }
        }
    }
    if let Some(failed) = reasons.iter().position(Option::is_some) {
        txn.abort()?;
        let error = match mode {
            Mode::Single => {
                let op = &ops[failed];
                IndexError::ConditionFailed {
                    pk: op.pk.clone(),
                    sk: op.sk.clone(),
                }
            }
            Mode::Transaction => IndexError::TransactionCanceled { reasons },
        };
        return Err(error.into());
    }
    // Counted whether or not the commit reports success: a failed commit may still have
    // changed the file, and a needless bump only costs a cache refill.
    let committed = txn.commit();
    inner.changes.fetch_add(1, Ordering::SeqCst);
    committed?;
    Ok(())
}

/// Reads one page of a validated query from a snapshot.
fn query(inner: &Inner, request: &QueryRequest) -> Result<Page, Fail> {
    let (lower, upper) = key_bounds(request);
    if is_empty(&lower, &upper) {
        return Ok(Page::default());
    }
    let txn = inner.db.begin_read()?;
    let table = txn.open_table(TABLE)?;
    let range = table.range::<&[u8]>((
        lower.as_ref().map(Vec::as_slice),
        upper.as_ref().map(Vec::as_slice),
    ))?;
    let now = inner.clock.now_secs();
    if request.reverse {
        fill_page(range.rev(), request, now)
    } else {
        fill_page(range, request, now)
    }
}

/// The table key bounds of a query, `start_after` applied on the side it travels from.
fn key_bounds(request: &QueryRequest) -> (Bound<Vec<u8>>, Bound<Vec<u8>>) {
    let key = |sk: &str| encode_key(&request.pk, sk);
    // The partition is [pk ‖ 0x00, pk ‖ 0x01).
    let first = Bound::Included(encode_key(&request.pk, ""));
    let mut end = request.pk.as_bytes().to_vec();
    end.push(1);
    let end = Bound::Excluded(end);
    let (mut lower, mut upper) = match &request.range {
        SkRange::All => (first, end),
        SkRange::Prefix(prefix) => {
            let upper = prefix_end(key(prefix)).map_or(end, Bound::Excluded);
            (Bound::Included(key(prefix)), upper)
        }
        SkRange::Between(low, high) => (Bound::Included(key(low)), Bound::Included(key(high))),
        SkRange::AtLeast(low) => (Bound::Included(key(low)), end),
        SkRange::AtMost(high) => (first, Bound::Included(key(high))),
    };
    if let Some(start) = &request.start_after {
        let after = Bound::Excluded(key(start));
        if request.reverse {
            upper = after;
        } else {
            lower = after;
        }
    }
    (lower, upper)
}

/// Whether no key lies between the bounds.
fn is_empty(lower: &Bound<Vec<u8>>, upper: &Bound<Vec<u8>>) -> bool {
    match (lower, upper) {
        (Bound::Included(low), Bound::Included(high)) => low > high,
        (
            Bound::Included(low) | Bound::Excluded(low),
            Bound::Included(high) | Bound::Excluded(high),
        ) => low >= high,
        _ => false,
    }
}

/// Collects items until the limit or the page size cap, as DynamoDB does: expired items are
/// evaluated (they count) but not returned.
fn fill_page<'a>(
    mut entries: impl Iterator<
        Item = Result<(AccessGuard<'a, Bytes>, AccessGuard<'a, Bytes>), redb::StorageError>,
    >,
    request: &QueryRequest,
    now_secs: i64,
) -> Result<Page, Fail> {
    let sk_offset = request.pk.len() + 1;
    let mut page = Page::default();
    let mut evaluated = 0;
    let mut bytes = 0;
    while let Some(entry) = entries.next() {
        let (key, value) = entry?;
        let sk = key
            .value()
            .get(sk_offset..)
            .and_then(|sk| std::str::from_utf8(sk).ok());
        let sk = sk.ok_or_else(|| IndexError::Internal("corrupt key in index file".to_owned()))?;
        let item = Item {
            pk: request.pk.clone(),
            sk: sk.to_owned(),
            attrs: codec::decode(value.value())?,
        };
        evaluated += 1;
        bytes += item.size();
        let full = request.limit.is_some_and(|limit| evaluated >= limit)
            || bytes >= limits::MAX_PAGE_BYTES;
        let last_sk = full.then(|| item.sk.clone());
        if !item.is_expired(now_secs) {
            page.items.push(item);
        }
        if full {
            if entries.next().is_some() {
                page.next = last_sk;
            }
            break;
        }
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_carries_over_max_bytes() {
        assert_eq!(prefix_end(vec![1, 2]), Some(vec![1, 3]));
        assert_eq!(prefix_end(vec![1, 255, 255]), Some(vec![2]));
        assert_eq!(prefix_end(vec![255]), None);
    }

    #[tokio::test]
    async fn change_counter_moves_on_writes_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let index = EmbeddedIndex::open(&dir.path().join("i.redb")).expect("open");
        let at = |i: &EmbeddedIndex| i.change_counter().expect("embedded reports changes");
        let c0 = at(&index);
        index
            .put(Item::new("p", "a"), Condition::None)
            .await
            .expect("put");
        let c1 = at(&index);
        assert_ne!(c0, c1);
        // Reads leave it alone.
        index.get("p", "a").await.expect("get");
        index
            .query(QueryRequest::new("p", SkRange::All))
            .await
            .expect("query");
        assert_eq!(at(&index), c1);
        // A refused write changes nothing, but may count; a delete and a transaction count.
        let _ = index.put(Item::new("p", "a"), Condition::NotExists).await;
        let c2 = at(&index);
        index
            .delete("p", "a", Condition::None)
            .await
            .expect("delete");
        let c3 = at(&index);
        assert_ne!(c2, c3);
        index
            .transact(vec![WriteOp::Put {
                item: Item::new("p", "b"),
                condition: Condition::None,
            }])
            .await
            .expect("transact");
        assert_ne!(at(&index), c3);
        // Clones share the file and the counter.
        let clone = index.clone();
        clone
            .put(Item::new("p", "c"), Condition::None)
            .await
            .expect("put");
        assert_eq!(at(&index), at(&clone));
    }

    #[test]
    fn partitions_do_not_overlap() {
        // Every key of partition "a" sorts below every key of partition "ab" and "a\u{1}".
        let a_last = encode_key("a", "\u{10FFFF}\u{10FFFF}");
        assert!(a_last < encode_key("ab", "\u{1}"));
        assert!(a_last < encode_key("a\u{1}", "\u{1}"));
        let end = prefix_end(encode_key("a", "")).expect("has an end");
        assert!(a_last < end && end <= encode_key("a\u{1}", "\u{1}"));
    }
}
