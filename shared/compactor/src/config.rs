//! Compactor settings: the `compactor:` section of the service configuration, and the
//! per-tenant retention kept in the index.

use serde::{Deserialize, Serialize};

/// Compactor settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompactorConfig {
    /// Run the compactor on a timer inside `architect serve` (the `compact` Lambda's schedule
    /// does this in AWS).
    pub enabled: bool,
    /// Seconds between runs inside `architect serve`.
    pub interval_secs: u64,
    /// A day still being written (it ended less than `settle_secs` ago) is compacted only once
    /// it has at least this many level-0 blocks; they become one level-1 block.
    pub min_level0_blocks: usize,
    /// A day is closed once it ended this many seconds ago; a closed day's blocks are merged
    /// into level-2 blocks (one per `max_output_samples`) and downsampled.
    pub settle_secs: u64,
    /// Samples per output block: bounds the compactor's memory (about 40 bytes per sample
    /// while merging) and sizes the files (about 1.2 bytes per sample once written).
    pub max_output_samples: u64,
    /// Superseded blocks are deleted this long after their replacement was committed; must be
    /// longer than the longest query.
    pub grace_period_secs: u64,
    /// Lease of one tenant-day; renewed before each output, so it only has to cover one.
    pub lease_secs: u64,
    /// Objects without a catalog item (a writer died before committing) and uncommitted
    /// compaction outputs are deleted once this old.
    pub orphan_age_secs: u64,
    /// Build 5 m and 1 h downsampled copies of closed days.
    pub downsample: bool,
    /// Also merge the downsampled blocks of each two-week span of days into span blocks, so
    /// that a long-range query reads a few files instead of one per day.
    pub downsample_spans: bool,
    /// Retention of tenants without their own setting in the index.
    pub retention: Retention,
}

impl Default for CompactorConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            interval_secs: 900,
            min_level0_blocks: 8,
            settle_secs: 3600,
            max_output_samples: 50_000_000,
            grace_period_secs: 3600,
            lease_secs: 600,
            orphan_age_secs: 6 * 3600,
            downsample: true,
            downsample_spans: true,
            retention: Retention::default(),
        }
    }
}

/// How long each resolution is kept, in days; 0 keeps it forever.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    /// Raw samples.
    pub raw_days: u32,
    /// 5-minute downsampled data.
    pub res_5m_days: u32,
    /// 1-hour downsampled data.
    pub res_1h_days: u32,
}

impl Retention {
    /// Days kept of one resolution (0 = forever).
    pub fn days(&self, resolution_ms: i64) -> u32 {
        match resolution_ms {
            0 => self.raw_days,
            crate::RES_5M => self.res_5m_days,
            _ => self.res_1h_days,
        }
    }
}
