//! One tenant-day partition of the catalog as a reader or the compactor sees it: every block
//! item, which of them are visible, the retention tombstones and the compaction lease.
//!
//! Visibility (see the module docs of `catalog`): a block is visible when its compaction group
//! is committed (no group, or the group leader's item exists), no committed block lists it in
//! `replaces`, and its resolution of the day is not retired by retention.

use crate::catalog::BlockMeta;
use crate::layout;
use crate::{Result, StoreError};
use architect_index::{Index, Item, SkRange, query_all};
use architect_model::time::Day;
use std::collections::{HashMap, HashSet};

/// The catalog of one tenant and day.
#[derive(Clone, Debug, Default)]
pub struct DayPartition {
    /// Every block item, visible or not, ordered by precedence (`order`, then ULID).
    pub blocks: Vec<BlockMeta>,
    /// ULID of a replaced block → (ULID of the committed block that replaced it, when).
    pub replaced: HashMap<String, (String, i64)>,
    /// Resolution → when retention retired it for this day (ms).
    pub retired: HashMap<i64, i64>,
    /// The compaction lease item, if any.
    pub lease: Option<Item>,
}

impl DayPartition {
    /// Reads the partition of `tenant` and `day`.
    pub async fn read(index: &dyn Index, tenant: &str, day: Day) -> Result<Self> {
        let items = query_all(index, &layout::blocks_pk(tenant, day), SkRange::All).await?;
        Self::from_items(tenant, day, &items)
    }

    /// Classifies the items of a partition.
    pub fn from_items(tenant: &str, day: Day, items: &[Item]) -> Result<Self> {
        let mut out = Self::default();
        for item in items {
            if item.sk.starts_with(layout::BLOCK_SK_PREFIX)
                || item.sk.starts_with("res#")
                || item.sk.starts_with("span#")
            {
                out.blocks.push(BlockMeta::from_item(tenant, day, item)?);
            } else if let Some(res) = item.sk.strip_prefix("retired#") {
                let res = res.parse().map_err(|_| StoreError::Corrupt {
                    key: format!("{}/{}", item.pk, item.sk),
                    reason: "retired resolution".to_string(),
                })?;
                out.retired.insert(res, item.get_n("at").unwrap_or(0));
            } else if item.sk == layout::LEASE_SK {
                out.lease = Some(item.clone());
            }
        }
        out.blocks
            .sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.ulid.cmp(&b.ulid)));
        let present: HashSet<&str> = out.blocks.iter().map(|b| b.ulid.as_str()).collect();
        let mut replaced = HashMap::new();
        for b in &out.blocks {
            // Only committed blocks hide others (a leader is committed by existing).
            if b.group.as_deref().is_none_or(|g| present.contains(g)) {
                for r in &b.replaces {
                    replaced.insert(r.clone(), (b.ulid.clone(), b.created_ms));
                }
            }
        }
        out.replaced = replaced;
        Ok(out)
    }

    /// True if the block's compaction group is committed.
    pub fn is_committed(&self, block: &BlockMeta) -> bool {
        block
            .group
            .as_deref()
            .is_none_or(|g| self.blocks.iter().any(|b| b.ulid == g))
    }

    /// True if a reader sees `block`.
    pub fn is_visible(&self, block: &BlockMeta) -> bool {
        self.is_committed(block)
            && !self.replaced.contains_key(&block.ulid)
            && !self.retired.contains_key(&block.resolution_ms)
    }

    /// The live blocks of the day at one resolution: visible ones and committed outputs
    /// without data (what the compactor compares and replaces). Span blocks are not the day's.
    pub fn live(&self, resolution_ms: i64) -> Vec<BlockMeta> {
        self.live_of(resolution_ms, false).cloned().collect()
    }

    /// The visible blocks of the day at one resolution (0 = raw), in precedence order. A
    /// committed output without data (a merge of inputs that held nothing) has no parts and is
    /// skipped. Span blocks are not the day's.
    pub fn visible(&self, resolution_ms: i64) -> Vec<BlockMeta> {
        self.visible_of(resolution_ms, false).cloned().collect()
    }

    /// The live span blocks of one resolution (in the partition of a span's first day).
    pub fn live_spans(&self, resolution_ms: i64) -> Vec<BlockMeta> {
        self.live_of(resolution_ms, true).cloned().collect()
    }

    /// The visible span blocks of one resolution (in the partition of a span's first day).
    pub fn visible_spans(&self, resolution_ms: i64) -> Vec<BlockMeta> {
        self.visible_of(resolution_ms, true).cloned().collect()
    }

    /// [`DayPartition::visible`] borrowed: what a query's planning looks at before it clones
    /// the few blocks it reads.
    pub fn visible_iter(&self, resolution_ms: i64) -> impl Iterator<Item = &BlockMeta> {
        self.visible_of(resolution_ms, false)
    }

    /// [`DayPartition::visible_spans`] borrowed.
    pub fn visible_spans_iter(&self, resolution_ms: i64) -> impl Iterator<Item = &BlockMeta> {
        self.visible_of(resolution_ms, true)
    }

    fn live_of(&self, resolution_ms: i64, spans: bool) -> impl Iterator<Item = &BlockMeta> {
        self.blocks.iter().filter(move |b| {
            b.resolution_ms == resolution_ms && b.is_span() == spans && self.is_visible(b)
        })
    }

    fn visible_of(&self, resolution_ms: i64, spans: bool) -> impl Iterator<Item = &BlockMeta> {
        self.live_of(resolution_ms, spans)
            .filter(|b| !b.parts.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(ulid: &str, group: Option<&str>, replaces: &[&str]) -> BlockMeta {
        BlockMeta {
            tenant: "t".into(),
            day: Day::of_ms(0),
            level: 1,
            ulid: ulid.into(),
            min_t: 0,
            max_t: 1,
            series: 1,
            samples: 1,
            histograms: 0,
            exemplars: 0,
            bytes: 1,
            parts: vec![(crate::layout::Part::Samples, 1)],
            metric_names: None,
            resolution_ms: 0,
            order: ulid.into(),
            replaces: replaces.iter().map(|s| s.to_string()).collect(),
            group: group.map(str::to_string),
            sources: vec![],
            span_days: 1,
            created_ms: 5,
        }
    }

    fn visible(items: &[BlockMeta]) -> Vec<String> {
        let items: Vec<Item> = items.iter().map(BlockMeta::to_item).collect();
        let p = DayPartition::from_items("t", Day::of_ms(0), &items).expect("partition");
        p.visible(0).into_iter().map(|b| b.ulid).collect()
    }

    #[test]
    fn the_leader_is_the_switch() {
        let inputs = [block("A", None, &[]), block("B", None, &[])];
        // Outputs written, leader missing: inputs stay visible, outputs do not.
        let member = block("X", Some("Y"), &[]);
        assert_eq!(
            visible(&[inputs[0].clone(), inputs[1].clone(), member.clone()]),
            ["A", "B"]
        );
        // Leader committed: outputs visible, inputs hidden.
        let leader = block("Y", Some("Y"), &["A", "B"]);
        assert_eq!(
            visible(&[
                inputs[0].clone(),
                inputs[1].clone(),
                member.clone(),
                leader.clone()
            ]),
            ["X", "Y"]
        );
        // Inputs deleted by GC later: same view.
        assert_eq!(visible(&[member, leader]), ["X", "Y"]);
    }

    #[test]
    fn an_uncommitted_member_hides_nothing() {
        let orphan = block("X", Some("missing"), &["A"]);
        assert_eq!(visible(&[block("A", None, &[]), orphan]), ["A"]);
    }
}
