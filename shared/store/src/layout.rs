//! Object keys and index keys. These outlive code: change them only with a migration.

use architect_model::time::Day;

/// The parts a block can have, with their key suffixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Samples (always present).
    Samples,
    /// Series labels (always present).
    Series,
    /// Native histograms.
    Histograms,
    /// Exemplars.
    Exemplars,
    /// Metric metadata.
    Metadata,
}

impl Part {
    /// Every part.
    pub const ALL: [Part; 5] = [
        Part::Samples,
        Part::Series,
        Part::Histograms,
        Part::Exemplars,
        Part::Metadata,
    ];

    /// Name used in the catalog item.
    pub fn name(self) -> &'static str {
        match self {
            Part::Samples => "samples",
            Part::Series => "series",
            Part::Histograms => "histograms",
            Part::Exemplars => "exemplars",
            Part::Metadata => "metadata",
        }
    }

    /// From a catalog name.
    pub fn from_name(s: &str) -> Option<Part> {
        Part::ALL.into_iter().find(|p| p.name() == s)
    }

    fn suffix(self) -> &'static str {
        match self {
            Part::Samples => ".parquet",
            Part::Series => ".series.parquet",
            Part::Histograms => ".histograms.parquet",
            Part::Exemplars => ".exemplars.parquet",
            Part::Metadata => ".metadata.parquet",
        }
    }
}

/// `{tenant}/metrics/{yyyy-mm-dd}/{level}/{ulid}{suffix}`.
pub fn object_key(tenant: &str, day: Day, level: u8, ulid: &str, part: Part) -> String {
    format!(
        "{tenant}/metrics/{}/{level}/{ulid}{}",
        day.iso(),
        part.suffix()
    )
}

/// Directory name of a resolution: `5m`, `1h`, else milliseconds (`90000ms`).
pub fn resolution_name(resolution_ms: i64) -> String {
    match resolution_ms {
        0 => "raw".to_string(),
        300_000 => "5m".to_string(),
        3_600_000 => "1h".to_string(),
        ms => format!("{ms}ms"),
    }
}

/// `{tenant}/metrics/{yyyy-mm-dd}/{5m|1h}/{ulid}{suffix}`: a downsampled block.
pub fn downsampled_object_key(
    tenant: &str,
    day: Day,
    resolution_ms: i64,
    ulid: &str,
    part: Part,
) -> String {
    format!(
        "{tenant}/metrics/{}/{}/{ulid}{}",
        day.iso(),
        resolution_name(resolution_ms),
        part.suffix()
    )
}

/// Days a multi-day downsampled block covers: the days `d` with the same
/// `d.0.div_euclid(SPAN_DAYS)` (two weeks, as Thanos' downsampled blocks).
pub const SPAN_DAYS: i64 = 14;

/// The first day of the span holding `day` (see [`SPAN_DAYS`]).
pub fn span_start(day: Day) -> Day {
    Day(day.0.div_euclid(SPAN_DAYS) * SPAN_DAYS)
}

/// `{tenant}/metrics/{yyyy-mm-dd}/{5m|1h}-span/{ulid}{suffix}`: a downsampled block of the
/// span starting on the day.
pub fn span_object_key(
    tenant: &str,
    first_day: Day,
    resolution_ms: i64,
    ulid: &str,
    part: Part,
) -> String {
    format!(
        "{tenant}/metrics/{}/{}-span/{ulid}{}",
        first_day.iso(),
        resolution_name(resolution_ms),
        part.suffix()
    )
}

/// Sort key of a span's downsampled block in the partition of the span's first day.
pub fn span_sk(resolution_ms: i64, ulid: &str) -> String {
    format!("span#{resolution_ms}#{ulid}")
}

/// Object-key prefix of everything of one tenant and day.
pub fn day_prefix(tenant: &str, day: Day) -> String {
    format!("{tenant}/metrics/{}/", day.iso())
}

/// Sort key of a downsampled block in its day partition.
pub fn downsampled_sk(resolution_ms: i64, ulid: &str) -> String {
    format!("res#{resolution_ms}#{ulid}")
}

/// Sort key of the compaction lease of a day partition.
pub const LEASE_SK: &str = "lease#compact";

/// Sort key of the tombstone that retires every block of one resolution of a day (retention).
pub fn retired_sk(resolution_ms: i64) -> String {
    format!("retired#{resolution_ms}")
}

/// Index partition holding the blocks of one tenant and day.
pub fn blocks_pk(tenant: &str, day: Day) -> String {
    format!("{tenant}#metrics#{}", day.iso())
}

/// Sort key of a block in its partition.
pub fn block_sk(level: u8, ulid: &str) -> String {
    format!("block#{level}#{ulid}")
}

/// Sort-key prefix of all blocks.
pub const BLOCK_SK_PREFIX: &str = "block#";

/// Index partition listing the days a tenant has metric data for.
pub fn days_pk(tenant: &str) -> String {
    format!("{tenant}#metrics")
}

/// Sort key of a day in [`days_pk`].
pub fn day_sk(day: Day) -> String {
    format!("day#{}", day.iso())
}

/// Index partition listing every tenant that has written data.
pub const TENANTS_PK: &str = "tenants";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable() {
        let d = Day::parse_iso("2026-11-24").expect("day");
        assert_eq!(
            object_key("team-a", d, 0, "01J0000000000000000000000", Part::Series),
            "team-a/metrics/2026-11-24/0/01J0000000000000000000000.series.parquet"
        );
        assert_eq!(blocks_pk("team-a", d), "team-a#metrics#2026-11-24");
        assert_eq!(block_sk(0, "X"), "block#0#X");
    }
}
