//! Catalog items: a block's entry in the index, written last so that it is the switch that
//! makes the block visible.

use crate::layout::{self, Part};
use crate::{Result, StoreError};
use architect_index::{AttrValue, Item};
use architect_model::time::Day;

/// Metric-name lists longer than this are not stored (the block is then never pruned by name);
/// keeps the item far below DynamoDB's 400 KB.
const MAX_METRIC_NAMES_BYTES: usize = 64 * 1024;

/// What the index knows about one block.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockMeta {
    /// Tenant.
    pub tenant: String,
    /// UTC day of every sample in the block.
    pub day: Day,
    /// Compaction level (0 = written by ingest).
    pub level: u8,
    /// Block id (ULID, so ids sort by creation time).
    pub ulid: String,
    /// Earliest timestamp.
    pub min_t: i64,
    /// Latest timestamp.
    pub max_t: i64,
    /// Series count.
    pub series: u64,
    /// Float samples.
    pub samples: u64,
    /// Histogram samples.
    pub histograms: u64,
    /// Exemplars.
    pub exemplars: u64,
    /// Bytes of all parts.
    pub bytes: u64,
    /// Parts present, with their sizes.
    pub parts: Vec<(Part, u64)>,
    /// Metric names in the block, when the list is small enough to keep.
    pub metric_names: Option<Vec<String>>,
}

impl BlockMeta {
    /// Object key of a part.
    pub fn key(&self, part: Part) -> String {
        layout::object_key(&self.tenant, self.day, self.level, &self.ulid, part)
    }

    /// Size of a part, if present.
    pub fn part_size(&self, part: Part) -> Option<u64> {
        self.parts.iter().find(|(p, _)| *p == part).map(|(_, s)| *s)
    }

    /// True if the block may hold samples in `[start, end]`.
    pub fn overlaps(&self, start: i64, end: i64) -> bool {
        self.min_t <= end && self.max_t >= start
    }

    /// True if the block may hold series of `metric`.
    pub fn may_contain_metric(&self, metric: &str) -> bool {
        self.metric_names
            .as_ref()
            .is_none_or(|names| names.binary_search_by(|n| n.as_str().cmp(metric)).is_ok())
    }

    /// The catalog item.
    pub(crate) fn to_item(&self) -> Item {
        let n = |v: u64| AttrValue::N(i64::try_from(v).unwrap_or(i64::MAX));
        let mut item = Item::new(
            layout::blocks_pk(&self.tenant, self.day),
            layout::block_sk(self.level, &self.ulid),
        )
        .with("min_t", AttrValue::N(self.min_t))
        .with("max_t", AttrValue::N(self.max_t))
        .with("series", n(self.series))
        .with("samples", n(self.samples))
        .with("histograms", n(self.histograms))
        .with("exemplars", n(self.exemplars))
        .with("bytes", n(self.bytes))
        .with(
            "parts",
            AttrValue::M(
                self.parts
                    .iter()
                    .map(|(p, s)| (p.name().to_string(), n(*s)))
                    .collect(),
            ),
        );
        if let Some(names) = &self.metric_names {
            item = item.with(
                "metric_names",
                AttrValue::L(names.iter().map(|s| AttrValue::S(s.clone())).collect()),
            );
        }
        item
    }

    /// Parses a catalog item.
    pub(crate) fn from_item(tenant: &str, day: Day, item: &Item) -> Result<Self> {
        let bad = |reason: &str| StoreError::Corrupt {
            key: format!("{}/{}", item.pk, item.sk),
            reason: reason.to_string(),
        };
        let mut sk = item.sk.splitn(3, '#').skip(1);
        let level: u8 = sk
            .next()
            .and_then(|l| l.parse().ok())
            .ok_or_else(|| bad("sort key level"))?;
        let ulid = sk.next().ok_or_else(|| bad("sort key ulid"))?.to_string();
        let num = |name: &str| item.get_n(name).ok_or_else(|| bad(name));
        let unum = |name: &str| num(name).map(|v| u64::try_from(v).unwrap_or(0));
        let parts = match item.attrs.get("parts") {
            Some(AttrValue::M(m)) => m
                .iter()
                .filter_map(|(k, v)| match (Part::from_name(k), v) {
                    (Some(p), AttrValue::N(s)) => Some((p, u64::try_from(*s).unwrap_or(0))),
                    _ => None,
                })
                .collect(),
            _ => return Err(bad("parts")),
        };
        let metric_names = match item.attrs.get("metric_names") {
            Some(AttrValue::L(l)) => Some(
                l.iter()
                    .filter_map(|v| match v {
                        AttrValue::S(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect(),
            ),
            _ => None,
        };
        Ok(Self {
            tenant: tenant.to_string(),
            day,
            level,
            ulid,
            min_t: num("min_t")?,
            max_t: num("max_t")?,
            series: unum("series")?,
            samples: unum("samples")?,
            histograms: unum("histograms")?,
            exemplars: unum("exemplars")?,
            bytes: unum("bytes")?,
            parts,
            metric_names,
        })
    }
}

/// Keeps a sorted name list only if it is small enough for an index item.
pub(crate) fn prunable_names(mut names: Vec<String>) -> Option<Vec<String>> {
    names.sort();
    names.dedup();
    let bytes: usize = names.iter().map(|n| n.len() + 1).sum();
    (bytes <= MAX_METRIC_NAMES_BYTES).then_some(names)
}
