//! Catalog items: a block's entry in the index, written last so that it is the switch that
//! makes the block visible, and the rules that decide which blocks of a day partition a reader
//! sees.
//!
//! A compaction swaps many inputs for a few outputs, more than one DynamoDB transaction can
//! hold (100 items), so the swap is not done by deleting inputs. Instead every output carries
//! `group` = the ULID of the group's *leader*, and the leader, written last in one conditional
//! put, lists the ULIDs it `replaces`. Until the leader exists the outputs are invisible; once
//! it exists the inputs are. That one put is the switch. Hidden items stay (with their objects)
//! for a grace period, so queries that listed them before the switch still read them, and are
//! then deleted by the garbage collector.

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
    /// Metric names in the block, sorted, when the list is small enough to keep. Shared:
    /// every query clones the metadata of the blocks it reads.
    pub metric_names: Option<std::sync::Arc<[String]>>,
    /// Sample resolution: 0 for raw data, else the window of a downsampled block (ms).
    pub resolution_ms: i64,
    /// Precedence among blocks holding the same series and timestamp: the lowest `order` is the
    /// first write and wins. A block's own ULID unless it is a compaction output, which takes
    /// the lowest `order` of its inputs.
    pub order: String,
    /// ULIDs this block supersedes (set on a compaction group's leader only).
    pub replaces: Vec<String>,
    /// The leader of the compaction group this block was written in; the block is visible only
    /// once the leader's item exists.
    pub group: Option<String>,
    /// For a downsampled block: the raw blocks it was computed from; for a span block, the
    /// day blocks it was merged from.
    pub sources: Vec<String>,
    /// Days the block covers: 1, or [`layout::SPAN_DAYS`] for a span block (a downsampled
    /// block merged from the day blocks of the span starting on `day`).
    pub span_days: u16,
    /// When the item was committed (ms since the epoch; 0 if unknown).
    pub created_ms: i64,
}

impl BlockMeta {
    /// Object key of a part.
    pub fn key(&self, part: Part) -> String {
        if self.is_span() {
            layout::span_object_key(&self.tenant, self.day, self.resolution_ms, &self.ulid, part)
        } else if self.resolution_ms == 0 {
            layout::object_key(&self.tenant, self.day, self.level, &self.ulid, part)
        } else {
            layout::downsampled_object_key(
                &self.tenant,
                self.day,
                self.resolution_ms,
                &self.ulid,
                part,
            )
        }
    }

    /// Sort key of the block's catalog item.
    pub fn sk(&self) -> String {
        if self.is_span() {
            layout::span_sk(self.resolution_ms, &self.ulid)
        } else if self.resolution_ms == 0 {
            layout::block_sk(self.level, &self.ulid)
        } else {
            layout::downsampled_sk(self.resolution_ms, &self.ulid)
        }
    }

    /// True for a downsampled block covering many days (see [`BlockMeta::span_days`]).
    pub fn is_span(&self) -> bool {
        self.span_days > 1
    }

    /// Partition key of the block's catalog item.
    pub fn pk(&self) -> String {
        layout::blocks_pk(&self.tenant, self.day)
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

    /// The catalog item (the compactor commits an output without data this way).
    pub fn to_catalog_item(&self) -> Item {
        self.to_item()
    }

    /// The catalog item.
    pub(crate) fn to_item(&self) -> Item {
        let n = |v: u64| AttrValue::N(i64::try_from(v).unwrap_or(i64::MAX));
        let strings =
            |v: &[String]| AttrValue::L(v.iter().map(|s| AttrValue::S(s.clone())).collect());
        let mut item = Item::new(self.pk(), self.sk())
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
            item = item.with("metric_names", strings(names));
        }
        if self.order != self.ulid {
            item = item.with_s("order", self.order.clone());
        }
        if !self.replaces.is_empty() {
            item = item.with("replaces", strings(&self.replaces));
        }
        if let Some(group) = &self.group {
            item = item.with_s("group", group.clone());
        }
        if !self.sources.is_empty() {
            item = item.with("sources", strings(&self.sources));
        }
        if self.created_ms != 0 {
            item = item.with_n("created", self.created_ms);
        }
        if self.is_span() {
            item = item.with_n("span_days", i64::from(self.span_days));
        }
        item
    }

    /// Parses a catalog item.
    pub(crate) fn from_item(tenant: &str, day: Day, item: &Item) -> Result<Self> {
        let bad = |reason: &str| StoreError::Corrupt {
            key: format!("{}/{}", item.pk, item.sk),
            reason: reason.to_string(),
        };
        let mut sk = item.sk.splitn(3, '#');
        let kind = sk.next().unwrap_or_default();
        let number: i64 = sk
            .next()
            .and_then(|l| l.parse().ok())
            .ok_or_else(|| bad("sort key level or resolution"))?;
        let ulid = sk.next().ok_or_else(|| bad("sort key ulid"))?.to_string();
        let (level, resolution_ms, span_days) = match kind {
            "block" => (u8::try_from(number).map_err(|_| bad("level"))?, 0, 1),
            "res" if number > 0 => (1, number, 1),
            "span" if number > 0 => {
                let days = item
                    .get_n("span_days")
                    .and_then(|d| u16::try_from(d).ok())
                    .filter(|d| *d > 1)
                    .ok_or_else(|| bad("span_days"))?;
                (1, number, days)
            }
            _ => return Err(bad("sort key kind")),
        };
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
        let strings = |name: &str| match item.attrs.get(name) {
            Some(AttrValue::L(l)) => Some(
                l.iter()
                    .filter_map(|v| match v {
                        AttrValue::S(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        };
        Ok(Self {
            tenant: tenant.to_string(),
            day,
            level,
            min_t: num("min_t")?,
            max_t: num("max_t")?,
            series: unum("series")?,
            samples: unum("samples")?,
            histograms: unum("histograms")?,
            exemplars: unum("exemplars")?,
            bytes: unum("bytes")?,
            parts,
            metric_names: strings("metric_names").map(Into::into),
            resolution_ms,
            order: item.get_s("order").unwrap_or(&ulid).to_string(),
            replaces: strings("replaces").unwrap_or_default(),
            group: item.get_s("group").map(str::to_string),
            sources: strings("sources").unwrap_or_default(),
            span_days,
            created_ms: item.get_n("created").unwrap_or(0),
            ulid,
        })
    }
}

/// Keeps a sorted name list only if it is small enough for an index item.
pub(crate) fn prunable_names(mut names: Vec<String>) -> Option<std::sync::Arc<[String]>> {
    names.sort();
    names.dedup();
    let bytes: usize = names.iter().map(|n| n.len() + 1).sum();
    (bytes <= MAX_METRIC_NAMES_BYTES).then(|| names.into())
}
