//! The index: all small mutable state of Monitoring Architect (file catalog entries, leases,
//! alert state, ...) in one logical table with DynamoDB semantics.
//!
//! Items are addressed by a partition key (`pk`) and a sort key (`sk`) and carry a map of typed
//! attributes. The [`Index`] trait offers exactly the DynamoDB operations the system needs, so
//! that each method maps 1:1 onto one DynamoDB call:
//!
//! | method              | DynamoDB                                                        |
//! |---------------------|-----------------------------------------------------------------|
//! | [`Index::get`]      | `GetItem` (strongly consistent)                                 |
//! | [`Index::put`]      | `PutItem` + `ConditionExpression`                               |
//! | [`Index::delete`]   | `DeleteItem` + `ConditionExpression`                            |
//! | [`Index::transact`] | `TransactWriteItems` (`Put`, `Delete`, `ConditionCheck`)        |
//! | [`Index::query`]    | `Query` + `KeyConditionExpression`, `ExclusiveStartKey`, `Limit`, `ScanIndexForward` |
//!
//! # Data flow
//!
//! Callers build [`Item`]s and [`WriteOp`]s and hand them to an `Arc<dyn Index>`. Every
//! implementation first runs the shared checks in [`limits`] (key and item sizes, reserved
//! names, transaction shape), so a request that is rejected on AWS is rejected locally too. It
//! then evaluates [`Condition`]s against the current item — with items whose `ttl` attribute
//! has passed treated as absent — and applies the write atomically. Reads hide expired items
//! the same way and page through sort-key ranges in raw UTF-8 byte order.
//!
//! Two implementations exist: [`embedded::EmbeddedIndex`] (one redb file, for local and
//! single-node deployments) and `architect_index_dynamodb::DynamoIndex` (one DynamoDB table). Both must pass [`conformance`], the
//! shared test suite that pins down the semantics.

pub mod conformance;
pub mod embedded;
pub mod limits;

mod codec;

use std::collections::BTreeMap;

/// The attributes of an item, by name. Never contains the key attributes `pk` and `sk`.
pub type Attrs = BTreeMap<String, AttrValue>;

/// Name of the attribute holding an item's expiry time, in Unix epoch seconds (DynamoDB TTL).
pub const TTL_ATTR: &str = "ttl";

/// The cancellation reason reported for an operation whose condition failed.
pub const CONDITIONAL_CHECK_FAILED: &str = "ConditionalCheckFailed";

/// One attribute value; the subset of DynamoDB's types the system uses.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum AttrValue {
    /// A UTF-8 string.
    S(String),
    /// A number (DynamoDB numbers are wider; the system only needs `i64`).
    N(i64),
    /// Binary data.
    B(Vec<u8>),
    /// A boolean.
    Bool(bool),
    /// A list of values.
    L(Vec<AttrValue>),
    /// A map of values.
    M(Attrs),
}

impl AttrValue {
    /// The string, if this is an `S`.
    pub fn as_s(&self) -> Option<&str> {
        match self {
            Self::S(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is an `N`.
    pub fn as_n(&self) -> Option<i64> {
        match self {
            Self::N(n) => Some(*n),
            _ => None,
        }
    }

    /// The bytes, if this is a `B`.
    pub fn as_b(&self) -> Option<&[u8]> {
        match self {
            Self::B(b) => Some(b),
            _ => None,
        }
    }

    /// The boolean, if this is a `Bool`.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

/// An item: its key and its attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// Partition key.
    pub pk: String,
    /// Sort key.
    pub sk: String,
    /// Attributes other than the key.
    pub attrs: Attrs,
}

impl Item {
    /// An item without attributes.
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
            attrs: Attrs::new(),
        }
    }

    /// Sets attribute `name`.
    pub fn with(mut self, name: impl Into<String>, value: AttrValue) -> Self {
        self.attrs.insert(name.into(), value);
        self
    }

    /// Sets string attribute `name`.
    pub fn with_s(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.with(name, AttrValue::S(value.into()))
    }

    /// Sets number attribute `name`.
    pub fn with_n(self, name: impl Into<String>, value: i64) -> Self {
        self.with(name, AttrValue::N(value))
    }

    /// Sets binary attribute `name`.
    pub fn with_b(self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Self {
        self.with(name, AttrValue::B(value.into()))
    }

    /// Sets boolean attribute `name`.
    pub fn with_bool(self, name: impl Into<String>, value: bool) -> Self {
        self.with(name, AttrValue::Bool(value))
    }

    /// Makes the item expire at `epoch_secs` (sets [`TTL_ATTR`]).
    pub fn with_ttl(self, epoch_secs: i64) -> Self {
        self.with_n(TTL_ATTR, epoch_secs)
    }

    /// Attribute `name`.
    pub fn get(&self, name: &str) -> Option<&AttrValue> {
        self.attrs.get(name)
    }

    /// String attribute `name`; `None` if absent or of another type.
    pub fn get_s(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(AttrValue::as_s)
    }

    /// Number attribute `name`; `None` if absent or of another type.
    pub fn get_n(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(AttrValue::as_n)
    }

    /// Binary attribute `name`; `None` if absent or of another type.
    pub fn get_b(&self, name: &str) -> Option<&[u8]> {
        self.get(name).and_then(AttrValue::as_b)
    }

    /// Boolean attribute `name`; `None` if absent or of another type.
    pub fn get_bool(&self, name: &str) -> Option<bool> {
        self.get(name).and_then(AttrValue::as_bool)
    }

    /// Whether the item has expired at `now_secs`: its [`TTL_ATTR`] is a number `<= now_secs`.
    pub fn is_expired(&self, now_secs: i64) -> bool {
        is_expired(&self.attrs, now_secs)
    }

    /// Size as DynamoDB counts it, key attributes included; see [`limits::item_size`].
    pub fn size(&self) -> usize {
        limits::item_size(self)
    }
}

/// A condition on the current state of an item, checked atomically with a write
/// (DynamoDB `ConditionExpression`).
///
/// Conditions see the key attributes `pk` and `sk` like DynamoDB does, and treat an expired item
/// (see [`TTL_ATTR`]) as absent.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Condition {
    /// Always true.
    #[default]
    None,
    /// The item does not exist (`attribute_not_exists(pk)`).
    NotExists,
    /// The item exists (`attribute_exists(pk)`).
    Exists,
    /// The item exists and the attribute equals the value, type included (`#a = :v`).
    AttrEquals(String, AttrValue),
    /// The item does not exist or lacks the attribute (`attribute_not_exists(#a)`).
    AttrNotExists(String),
    /// The item exists and the attribute is a number `< value` (`#a < :v`); false if the
    /// attribute is absent or not a number.
    AttrLessThan(String, i64),
    /// All conditions hold; an empty list is always true.
    And(Vec<Condition>),
}

impl Condition {
    /// Evaluates the condition against `current`, the item as it is now (`None` if absent or
    /// expired; the caller filters expiry).
    pub fn evaluate(&self, current: Option<&Item>) -> bool {
        match self {
            Self::None => true,
            Self::NotExists => current.is_none(),
            Self::Exists => current.is_some(),
            Self::AttrEquals(name, expected) => {
                current.is_some_and(|item| lookup(item, name, |v| v == Some(expected)))
            }
            Self::AttrNotExists(name) => {
                current.is_none_or(|item| lookup(item, name, |v| v.is_none()))
            }
            Self::AttrLessThan(name, bound) => current.is_some_and(|item| {
                lookup(item, name, |v| {
                    v.and_then(AttrValue::as_n).is_some_and(|n| n < *bound)
                })
            }),
            Self::And(all) => all.iter().all(|c| c.evaluate(current)),
        }
    }

    /// Whether the condition constrains nothing (`None`, or an `And` of such conditions).
    pub fn is_trivial(&self) -> bool {
        match self {
            Self::None => true,
            Self::And(all) => all.iter().all(Self::is_trivial),
            _ => false,
        }
    }
}

/// Whether attributes with this [`TTL_ATTR`] have expired at `now_secs`.
fn is_expired(attrs: &Attrs, now_secs: i64) -> bool {
    attrs
        .get(TTL_ATTR)
        .and_then(AttrValue::as_n)
        .is_some_and(|ttl| ttl <= now_secs)
}

/// Applies `f` to attribute `name` of `item`, where `pk` and `sk` name the key attributes.
fn lookup(item: &Item, name: &str, f: impl FnOnce(Option<&AttrValue>) -> bool) -> bool {
    match name {
        limits::PK_ATTR => f(Some(&AttrValue::S(item.pk.clone()))),
        limits::SK_ATTR => f(Some(&AttrValue::S(item.sk.clone()))),
        _ => f(item.attrs.get(name)),
    }
}

/// Which sort keys of a partition a query reads. Sort keys compare as raw UTF-8 bytes.
#[derive(Clone, Debug, PartialEq)]
pub enum SkRange {
    /// Every sort key.
    All,
    /// Sort keys starting with the prefix (`begins_with(sk, :p)`); the prefix may not be empty.
    Prefix(String),
    /// `low <= sk <= high` (`sk BETWEEN :low AND :high`); requires `low <= high`.
    Between(String, String),
    /// `sk >= bound`.
    AtLeast(String),
    /// `sk <= bound`.
    AtMost(String),
}

impl SkRange {
    /// Whether `sk` lies in the range.
    pub fn contains(&self, sk: &str) -> bool {
        match self {
            Self::All => true,
            Self::Prefix(p) => sk.as_bytes().starts_with(p.as_bytes()),
            Self::Between(low, high) => {
                low.as_bytes() <= sk.as_bytes() && sk.as_bytes() <= high.as_bytes()
            }
            Self::AtLeast(low) => sk.as_bytes() >= low.as_bytes(),
            Self::AtMost(high) => sk.as_bytes() <= high.as_bytes(),
        }
    }
}

/// One page of a sort-key range query.
#[derive(Clone, Debug, PartialEq)]
pub struct QueryRequest {
    /// Partition to read.
    pub pk: String,
    /// Sort keys to read.
    pub range: SkRange,
    /// At most this many items are evaluated (DynamoDB `Limit`, at least 1); `None` = only the
    /// 1 MB page cap applies.
    pub limit: Option<usize>,
    /// Resume after this sort key (exclusive, in the direction of travel): the `next` of the
    /// previous page (`ExclusiveStartKey`). Must lie inside `range`.
    pub start_after: Option<String>,
    /// Descending sort-key order (`ScanIndexForward = false`).
    pub reverse: bool,
}

impl QueryRequest {
    /// A forward query of `range` in partition `pk`, without limit.
    pub fn new(pk: impl Into<String>, range: SkRange) -> Self {
        Self {
            pk: pk.into(),
            range,
            limit: None,
            start_after: None,
            reverse: false,
        }
    }

    /// Sets the page limit.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Sets the sort key to resume after.
    pub fn start_after(mut self, sk: impl Into<String>) -> Self {
        self.start_after = Some(sk.into());
        self
    }

    /// Sets descending order.
    pub fn reverse(mut self, reverse: bool) -> Self {
        self.reverse = reverse;
        self
    }
}

/// A page of query results.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Page {
    /// Items in the requested order. A page may hold fewer items than the limit (expired items
    /// count towards the limit and the 1 MB cap but are not returned), even none, while `next`
    /// is set.
    pub items: Vec<Item>,
    /// Sort key to pass as `start_after` for the next page (`LastEvaluatedKey`); `Some` only if
    /// more items may remain, `None` once the range is exhausted.
    pub next: Option<String>,
}

/// One operation of a transaction (`TransactWriteItems`).
#[derive(Clone, Debug, PartialEq)]
pub enum WriteOp {
    /// Creates or replaces an item (`Put`).
    Put {
        /// The new item.
        item: Item,
        /// Condition on the current item.
        condition: Condition,
    },
    /// Deletes an item if present (`Delete`).
    Delete {
        /// Partition key.
        pk: String,
        /// Sort key.
        sk: String,
        /// Condition on the current item.
        condition: Condition,
    },
    /// Only checks a condition (`ConditionCheck`); the condition may not be trivial.
    Check {
        /// Partition key.
        pk: String,
        /// Sort key.
        sk: String,
        /// Condition on the current item.
        condition: Condition,
    },
}

impl WriteOp {
    /// A [`WriteOp::Put`].
    pub fn put(item: Item, condition: Condition) -> Self {
        Self::Put { item, condition }
    }

    /// A [`WriteOp::Delete`].
    pub fn delete(pk: impl Into<String>, sk: impl Into<String>, condition: Condition) -> Self {
        Self::Delete {
            pk: pk.into(),
            sk: sk.into(),
            condition,
        }
    }

    /// A [`WriteOp::Check`].
    pub fn check(pk: impl Into<String>, sk: impl Into<String>, condition: Condition) -> Self {
        Self::Check {
            pk: pk.into(),
            sk: sk.into(),
            condition,
        }
    }

    /// The key of the item the operation touches.
    pub fn key(&self) -> (&str, &str) {
        match self {
            Self::Put { item, .. } => (&item.pk, &item.sk),
            Self::Delete { pk, sk, .. } | Self::Check { pk, sk, .. } => (pk, sk),
        }
    }

    /// The operation's condition.
    pub fn condition(&self) -> &Condition {
        match self {
            Self::Put { condition, .. }
            | Self::Delete { condition, .. }
            | Self::Check { condition, .. } => condition,
        }
    }
}

/// Errors of index operations.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// A single write's condition did not hold (`ConditionalCheckFailedException`).
    #[error("conditional check failed for item ({pk}, {sk})")]
    ConditionFailed {
        /// Partition key of the item.
        pk: String,
        /// Sort key of the item.
        sk: String,
    },
    /// A transaction was not applied (`TransactionCanceledException`).
    #[error("transaction canceled: {reasons:?}")]
    TransactionCanceled {
        /// One entry per operation, in order: `None` if it was fine, otherwise DynamoDB's
        /// cancellation code, such as [`CONDITIONAL_CHECK_FAILED`] (the only one the embedded
        /// index reports) or `TransactionConflict`.
        reasons: Vec<Option<String>>,
    },
    /// The request breaks a limit or rule (`ValidationException`); retrying will not help.
    #[error("invalid request: {0}")]
    Validation(String),
    /// A transient failure (throttling, network); the request may be retried.
    #[error("index unavailable: {0}")]
    Unavailable(String),
    /// Anything else: storage failure, corruption, bugs.
    #[error("index failure: {0}")]
    Internal(String),
}

impl IndexError {
    /// Whether the request failed because a condition did not hold.
    pub fn is_condition_failure(&self) -> bool {
        match self {
            Self::ConditionFailed { .. } => true,
            Self::TransactionCanceled { reasons } => reasons
                .iter()
                .flatten()
                .any(|reason| reason == CONDITIONAL_CHECK_FAILED),
            _ => false,
        }
    }

    /// Whether retrying the same request may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// The index. See the crate documentation for how each method maps onto DynamoDB.
#[async_trait::async_trait]
pub trait Index: Send + Sync + std::fmt::Debug {
    /// The item at (`pk`, `sk`); `None` if absent or expired.
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, IndexError>;

    /// Creates or replaces an item if `condition` holds; otherwise
    /// [`IndexError::ConditionFailed`].
    async fn put(&self, item: Item, condition: Condition) -> Result<(), IndexError>;

    /// Deletes an item (absent is fine) if `condition` holds; otherwise
    /// [`IndexError::ConditionFailed`].
    async fn delete(&self, pk: &str, sk: &str, condition: Condition) -> Result<(), IndexError>;

    /// Applies all operations atomically, or none of them: if any condition fails, returns
    /// [`IndexError::TransactionCanceled`] with one reason per operation.
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), IndexError>;

    /// Reads one page of a sort-key range.
    async fn query(&self, request: QueryRequest) -> Result<Page, IndexError>;

    /// A number that changes after every write to the index, when the implementation sees
    /// them all (an embedded file that one process owns); `None` when other processes may
    /// write (DynamoDB). Read it before reading items: while it is unchanged, what was read
    /// after it is still current, apart from items expiring by TTL, which no write marks.
    fn change_counter(&self) -> Option<u64> {
        None
    }
}

/// Reads a whole sort-key range in ascending order, page after page.
///
/// The result is not a snapshot: writes between pages may or may not be seen.
pub async fn query_all(
    index: &dyn Index,
    pk: &str,
    range: SkRange,
) -> Result<Vec<Item>, IndexError> {
    let mut request = QueryRequest::new(pk, range);
    let mut items = Vec::new();
    loop {
        let page = index.query(request.clone()).await?;
        items.extend(page.items);
        match page.next {
            Some(next) => request.start_after = Some(next),
            None => return Ok(items),
        }
    }
}
