//! Label sets of recently decoded series, by their protobuf bytes.
//!
//! A remote_write sender repeats every active series in request after request, byte for byte.
//! Building a series' [`Labels`] from the wire costs a UTF-8 check and two allocations per
//! label; looking the label bytes up here costs one hash of them, and the hit is a shared
//! [`Labels`] (a reference count). The cache is bounded: a shard that reaches its share of
//! `capacity` is emptied and refills with the series still being sent. Keys are hashed with a
//! per-process random seed, since senders choose them.

use architect_model::Labels;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::hash::BuildHasher;
use xxhash_rust::xxh3::Xxh3Builder;

const SHARDS: usize = 16;

/// Label sets by the bytes of their `Label` fields (see the module docs).
pub struct LabelsCache {
    shards: [RwLock<HashMap<Box<[u8]>, Labels, Xxh3Builder>>; SHARDS],
    hasher: Xxh3Builder,
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
        let seed = std::collections::hash_map::RandomState::new().hash_one(0u8);
        let hasher = Xxh3Builder::new().with_seed(seed);
        Self {
            shards: std::array::from_fn(|_| RwLock::new(HashMap::with_hasher(hasher))),
            hasher,
            per_shard: capacity.div_ceil(SHARDS),
        }
    }

    fn shard(&self, wire: &[u8]) -> &RwLock<HashMap<Box<[u8]>, Labels, Xxh3Builder>> {
        // The high bits, so the shard does not correlate with the map's own bucket bits.
        let h = self.hasher.hash_one(wire);
        &self.shards[(h >> 60) as usize % SHARDS]
    }

    /// The label set decoded earlier from exactly these bytes.
    pub(crate) fn get(&self, wire: &[u8]) -> Option<Labels> {
        self.shard(wire).read().get(wire).cloned()
    }

    /// Remembers the label set decoded from `wire`.
    pub(crate) fn insert(&self, wire: &[u8], labels: &Labels) {
        if self.per_shard == 0 {
            return;
        }
        let mut shard = self.shard(wire).write();
        if shard.len() >= self.per_shard {
            shard.clear();
        }
        shard.insert(wire.into(), labels.clone());
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
        cache.insert(b"abc", &up);
        let hit = cache.get(b"abc").expect("cached");
        assert!(hit.ptr_eq(&up), "a hit shares the cached set");
        assert!(cache.get(b"abcd").is_none());
        assert!(cache.get(b"ab").is_none());
        for i in 0..1000u32 {
            cache.insert(&i.to_le_bytes(), &up);
        }
        assert!(cache.len() <= 32, "{} held", cache.len());
        let off = LabelsCache::new(0);
        off.insert(b"abc", &up);
        assert!(off.is_empty());
    }
}
