//! Label sets of recently decoded series, by their protobuf bytes.
//!
//! A remote_write sender repeats every active series in request after request, byte for byte.
//! Building a series' [`Labels`] from the wire costs a UTF-8 check and two allocations per
//! label; looking the label bytes up here costs one hash of them, and the hit is a shared
//! [`Labels`] (a reference count). The cache is bounded: a shard that reaches its share of
//! `capacity` is emptied and refills with the series still being sent. Keys are hashed with a
//! per-process random seed, since senders choose them. Entries belong to a tenant: a tenant
//! never hits another's entry, so the time of a write cannot tell it which label sets another
//! tenant sends.

use architect_model::Labels;
use hashbrown::HashTable;
use hashbrown::hash_table::Entry;
use parking_lot::RwLock;
use std::hash::BuildHasher;
use xxhash_rust::xxh3::xxh3_64_with_seed;

const SHARDS: usize = 16;

/// One cached label set.
struct Cached {
    hash: u64,
    tenant: Box<str>,
    wire: Box<[u8]>,
    labels: Labels,
}

impl Cached {
    /// True for the entry of `tenant`'s `wire` bytes (`hash` is theirs).
    fn is(&self, hash: u64, tenant: &str, wire: &[u8]) -> bool {
        self.hash == hash && *self.wire == *wire && *self.tenant == *tenant
    }
}

/// Label sets by the bytes of their `Label` fields (see the module docs).
pub struct LabelsCache {
    /// Shard `i` holds the keys whose hash has `i` in its top four bits.
    shards: [RwLock<HashTable<Cached>>; SHARDS],
    seed: u64,
    per_shard: usize,
}

impl std::fmt::Debug for LabelsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabelsCache")
            .field("len", &self.len())
            .field("per_shard", &self.per_shard)
            .finish_non_exhaustive()
    }
}

impl LabelsCache {
    /// A cache of about `capacity` label sets (0 caches nothing).
    pub fn new(capacity: usize) -> Self {
        Self {
            shards: std::array::from_fn(|_| RwLock::new(HashTable::new())),
            seed: std::collections::hash_map::RandomState::new().hash_one(0u8),
            per_shard: capacity.div_ceil(SHARDS),
        }
    }

    /// The key's hash, in one-shot calls (a hasher object would derive a secret from the seed
    /// for every key), and its shard.
    fn locate(&self, tenant: &str, wire: &[u8]) -> (u64, &RwLock<HashTable<Cached>>) {
        let tenant_seed = xxh3_64_with_seed(tenant.as_bytes(), self.seed);
        let hash = xxh3_64_with_seed(wire, tenant_seed);
        (hash, &self.shards[(hash >> 60) as usize % SHARDS])
    }

    /// The label set decoded earlier for `tenant` from exactly these bytes.
    pub(crate) fn get(&self, tenant: &str, wire: &[u8]) -> Option<Labels> {
        let (hash, shard) = self.locate(tenant, wire);
        let shard = shard.read();
        let found = shard.find(hash, |c| c.is(hash, tenant, wire))?;
        Some(found.labels.clone())
    }

    /// Remembers the label set decoded for `tenant` from `wire`.
    pub(crate) fn insert(&self, tenant: &str, wire: &[u8], labels: &Labels) {
        if self.per_shard == 0 {
            return;
        }
        let (hash, shard) = self.locate(tenant, wire);
        let mut shard = shard.write();
        if shard.len() >= self.per_shard {
            shard.clear();
        }
        match shard.entry(hash, |c| c.is(hash, tenant, wire), |c| c.hash) {
            Entry::Occupied(mut e) => e.get_mut().labels = labels.clone(),
            Entry::Vacant(e) => {
                e.insert(Cached {
                    hash,
                    tenant: tenant.into(),
                    wire: wire.into(),
                    labels: labels.clone(),
                });
            }
        }
    }

    /// Label sets held.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.read().len()).sum()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_exact_bytes_only_and_stays_bounded() {
        let cache = LabelsCache::new(32);
        let up = Labels::from_pairs([("__name__", "up")]);
        cache.insert("a", b"abc", &up);
        let hit = cache.get("a", b"abc").expect("cached");
        assert!(hit.ptr_eq(&up), "a hit shares the cached set");
        assert!(cache.get("a", b"abcd").is_none());
        assert!(cache.get("a", b"ab").is_none());
        assert!(cache.get("b", b"abc").is_none(), "another tenant's entry");
        for i in 0..1000u32 {
            cache.insert("a", &i.to_le_bytes(), &up);
        }
        assert!(cache.len() <= 32, "{} held", cache.len());
        let off = LabelsCache::new(0);
        off.insert("a", b"abc", &up);
        assert!(off.is_empty());
    }
}
