//! The lease of one tenant-day: an index item that only one compactor holds at a time, so two
//! compactors (overlapping schedules, a manual run beside the timer) never work on the same
//! partition. It expires by TTL, which the index enforces in conditions, so a compactor that
//! died does not block the partition for longer than one lease.

use architect_index::{AttrValue, Condition, Index, IndexError, Item, WriteOp};
use architect_model::clock::Clock;
use architect_store::layout;

/// A held lease.
#[derive(Debug, Clone)]
pub struct Lease {
    pk: String,
    owner: String,
    lease_ms: i64,
}

impl Lease {
    /// Takes the lease of `pk` for `lease_ms`; `None` if another owner holds it.
    pub async fn acquire(
        index: &dyn Index,
        clock: &dyn Clock,
        pk: String,
        owner: &str,
        lease_ms: i64,
    ) -> Result<Option<Self>, IndexError> {
        let lease = Self {
            pk,
            owner: owner.to_string(),
            lease_ms,
        };
        match index.put(lease.item(clock), Condition::NotExists).await {
            Ok(()) => Ok(Some(lease)),
            Err(e) if e.is_condition_failure() => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn item(&self, clock: &dyn Clock) -> Item {
        let expires = clock.now_ms() + self.lease_ms;
        Item::new(self.pk.clone(), layout::LEASE_SK)
            .with_s("owner", self.owner.clone())
            .with_n("expires", expires)
            .with_ttl(expires.div_euclid(1000) + 1)
    }

    fn mine(&self) -> Condition {
        Condition::AttrEquals("owner".to_string(), AttrValue::S(self.owner.clone()))
    }

    /// Extends the lease; fails with a condition failure if it was lost.
    pub async fn renew(&self, index: &dyn Index, clock: &dyn Clock) -> Result<(), IndexError> {
        index.put(self.item(clock), self.mine()).await
    }

    /// A transaction operation that holds only while the lease is still ours.
    pub fn check(&self) -> WriteOp {
        WriteOp::check(self.pk.clone(), layout::LEASE_SK, self.mine())
    }

    /// Gives the lease up.
    pub async fn release(&self, index: &dyn Index) -> Result<(), IndexError> {
        match index.delete(&self.pk, layout::LEASE_SK, self.mine()).await {
            Err(e) if !e.is_condition_failure() => Err(e),
            _ => Ok(()),
        }
    }
}
