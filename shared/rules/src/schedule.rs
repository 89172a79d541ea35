//! When a group is due, aligned as Prometheus aligns it (`Group.EvalTimestamp`): every
//! `interval`, shifted by a per-group offset (the group key's hash modulo the interval) so
//! groups spread over the interval instead of all running at once.
//!
//! A scheduled invocation may come late (EventBridge fires at most once a minute), so it
//! evaluates every slot since the last one done, up to `max_catch_up`; beyond that, as
//! Prometheus after downtime, the missed slots are skipped and counted.

use xxhash_rust::xxh64::xxh64;

/// Prometheus's `labels.Hash` of `{file=<namespace>, name=<group>}`.
pub fn group_hash(namespace: &str, group: &str) -> u64 {
    let mut b = Vec::with_capacity(namespace.len() + group.len() + 12);
    for (name, value) in [("file", namespace), ("name", group)] {
        b.extend_from_slice(name.as_bytes());
        b.push(0xff);
        b.extend_from_slice(value.as_bytes());
        b.push(0xff);
    }
    xxh64(&b, 0)
}

/// The latest evaluation slot at or before `now_ns` (ns), as `Group.EvalTimestamp`.
pub fn eval_slot_ns(hash: u64, interval_ms: i64, now_ns: i128) -> i128 {
    let interval = i128::from(interval_ms.max(1)) * 1_000_000;
    let offset = i128::from(hash % (interval as u64));
    let adj = now_ns - offset;
    let base = adj - adj.rem_euclid(interval);
    base + offset
}

/// The slots to evaluate now: every slot after `last_ms` up to `now_ms` (ascending, in ms),
/// or only the latest one when there are more than `max_catch_up_ms` worth of them (the rest
/// are returned as the count of missed slots). With no `last_ms`, only the latest slot.
pub fn due_slots(
    hash: u64,
    interval_ms: i64,
    last_ms: Option<i64>,
    now_ms: i64,
    max_catch_up_ms: i64,
) -> (Vec<i64>, u64) {
    let interval = i128::from(interval_ms.max(1)) * 1_000_000;
    let latest = eval_slot_ns(hash, interval_ms, i128::from(now_ms) * 1_000_000);
    let to_ms = |ns: i128| i64::try_from(ns.div_euclid(1_000_000)).unwrap_or(i64::MAX);
    let Some(last) = last_ms else {
        return (vec![to_ms(latest)], 0);
    };
    if to_ms(latest) <= last {
        return (Vec::new(), 0);
    }
    let limit = (max_catch_up_ms / interval_ms.max(1)).max(1);
    // Slots after `last` are those at or after the first nanosecond of the next millisecond.
    let bound = (i128::from(last) + 1) * 1_000_000;
    let count = (latest - bound).div_euclid(interval) + 1;
    if count > i128::from(limit) {
        return (
            vec![to_ms(latest)],
            u64::try_from(count - 1).unwrap_or(u64::MAX),
        );
    }
    let mut slots: Vec<i64> = (0..count).map(|k| to_ms(latest - k * interval)).collect();
    slots.reverse();
    (slots, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_aligned_and_caught_up() {
        let h = group_hash("rules.yml", "example");
        let a = eval_slot_ns(h, 15_000, 1_000_000_000_000_000_000);
        let b = eval_slot_ns(h, 15_000, 1_000_000_000_000_000_000 + 15_000_000_000);
        assert_eq!(b - a, 15_000_000_000);
        assert!(a <= 1_000_000_000_000_000_000);
        // Four 15 s slots in a minute.
        let now = 1_700_000_060_000;
        let (first, _) = due_slots(h, 15_000, None, now - 60_000, 600_000);
        let (slots, missed) = due_slots(h, 15_000, Some(first[0]), now, 600_000);
        assert_eq!(slots.len(), 4);
        assert_eq!(missed, 0);
        assert!(slots.windows(2).all(|w| w[1] - w[0] == 15_000));
        assert_eq!(slots[0] - first[0], 15_000);
        // Nothing new: nothing due.
        assert!(
            due_slots(h, 15_000, Some(slots[3]), now, 600_000)
                .0
                .is_empty()
        );
        // After an hour down: only the latest, the rest counted as missed.
        let (slots, missed) = due_slots(h, 15_000, Some(first[0]), now + 3_600_000, 600_000);
        assert_eq!(slots.len(), 1);
        assert_eq!(missed, 243);
    }
}
