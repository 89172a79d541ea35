//! Arrow schemas of the block parts and the Parquet writer settings for each column.
//!
//! Encodings were chosen by measurement on node-exporter-like data (see the ADR): sorted refs
//! and timestamps delta-encode to almost nothing, scaled-integer values delta-encode, leftover
//! floats use byte-stream-split, strings are dictionary-coded, everything is zstd-compressed.

use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};
use parquet::schema::types::ColumnPath;
use std::sync::{Arc, LazyLock};

fn dict_utf8() -> DataType {
    DataType::Dictionary(Box::new(DataType::UInt32), Box::new(DataType::Utf8))
}

fn list(item: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("item", item, true)))
}

/// Samples part: one row per float sample, sorted by (metric_name, labels, timestamp).
pub(crate) static SAMPLES: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("series_ref", DataType::UInt32, false),
        Field::new("metric_name", dict_utf8(), false),
        Field::new("timestamp", DataType::Int64, false),
        Field::new("value_int", DataType::Int64, true),
        Field::new("value_scale", DataType::Int32, false),
        Field::new("value_float", DataType::Float64, true),
    ]))
});

/// Column positions in [`SAMPLES`].
pub(crate) mod samples_col {
    pub(crate) const SERIES_REF: usize = 0;
    pub(crate) const TIMESTAMP: usize = 2;
    pub(crate) const VALUE_INT: usize = 3;
    pub(crate) const VALUE_SCALE: usize = 4;
    pub(crate) const VALUE_FLOAT: usize = 5;
}

/// Series part: one row per label of each series, sorted by (series_ref, label_name).
pub(crate) static SERIES: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("series_ref", DataType::UInt32, false),
        Field::new("series_id", DataType::FixedSizeBinary(16), false),
        Field::new("label_name", dict_utf8(), false),
        Field::new("label_value", dict_utf8(), false),
    ]))
});

/// Native histograms part: one row per histogram sample, typed columns.
pub(crate) static HISTOGRAMS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("series_ref", DataType::UInt32, false),
        Field::new("timestamp", DataType::Int64, false),
        Field::new("count_int", DataType::UInt64, true),
        Field::new("count_float", DataType::Float64, true),
        Field::new("sum", DataType::Float64, false),
        Field::new("schema", DataType::Int32, false),
        Field::new("zero_threshold", DataType::Float64, false),
        Field::new("zero_count_int", DataType::UInt64, true),
        Field::new("zero_count_float", DataType::Float64, true),
        Field::new("negative_span_offsets", list(DataType::Int32), false),
        Field::new("negative_span_lengths", list(DataType::UInt32), false),
        Field::new("negative_deltas", list(DataType::Int64), false),
        Field::new("negative_counts", list(DataType::Float64), false),
        Field::new("positive_span_offsets", list(DataType::Int32), false),
        Field::new("positive_span_lengths", list(DataType::UInt32), false),
        Field::new("positive_deltas", list(DataType::Int64), false),
        Field::new("positive_counts", list(DataType::Float64), false),
        Field::new("reset_hint", DataType::Int32, false),
        Field::new("custom_values", list(DataType::Float64), false),
    ]))
});

/// Exemplars part.
pub(crate) static EXEMPLARS: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("series_ref", DataType::UInt32, false),
        Field::new("timestamp", DataType::Int64, false),
        Field::new("value", DataType::Float64, false),
        Field::new("label_names", list(DataType::Utf8), false),
        Field::new("label_values", list(DataType::Utf8), false),
    ]))
});

/// Metadata part.
pub(crate) static METADATA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("metric_family", DataType::Utf8, false),
        Field::new("type", DataType::Utf8, false),
        Field::new("help", DataType::Utf8, false),
        Field::new("unit", DataType::Utf8, false),
    ]))
});

/// Rows per data page of level-0 blocks (flushed from the head, about 400 samples per series
/// on a 15 s scrape): rows are sorted by series, so with parquet's default of 20,000 a query
/// for a few series decoded about 50 series' rows per wanted one. Small pages cost bytes
/// (page headers and statistics: 0.98 -> 1.07 bytes/sample measured with `architect bench
/// encode`), so compacted blocks, whose series hold a day of samples each, keep
/// [`COMPACTED_DATA_PAGE_ROWS`].
pub(crate) const L0_DATA_PAGE_ROWS: usize = 4096;

/// Rows per data page of compacted blocks (parquet's default).
pub(crate) const COMPACTED_DATA_PAGE_ROWS: usize = 20_000;

/// Rows per data page of downsampled blocks: a page holds about 14 series-aggregates of a
/// 5 m block instead of 70, for +5 % bytes (1,024 rows: +23 % bytes, measured in
/// docs/compaction.md).
pub(crate) const DOWNSAMPLED_DATA_PAGE_ROWS: usize = 4096;

/// Average rows per series below which a block's samples part dictionary-codes its timestamps
/// ([`with_dictionary_timestamps`]): level-0 blocks (a head flush holds minutes of each
/// series), level-1 blocks of a day still being written, downsampled day blocks.
///
/// Why: `DELTA_BINARY_PACKED` keeps one minimum delta per 128 values, and the jump back in
/// time at each series boundary makes every delta of that block as wide as the jump. On the
/// benchmark's flushed day (about 200 rows per series) timestamps took 2.78 bytes per row
/// before zstd as deltas and 1.0 as dictionary indices (208 distinct timestamps: series
/// scraped together share them), and the day-long `sum by (rate)` and `histogram_quantile`
/// took 6-10 % less CPU. Blocks with a day per series keep deltas: their boundaries are rare
/// and a day of distinct timestamps makes wider indices.
pub(crate) const SHORT_RUN_ROWS: u64 = 1024;

/// `props` with dictionary-coded timestamps (deltas stay the fallback parquet switches to
/// once the dictionary outgrows its page limit, e.g. for unaligned timestamps).
pub(crate) fn with_dictionary_timestamps(props: &WriterProperties) -> WriterProperties {
    props
        .clone()
        .into_builder()
        .set_column_dictionary_enabled(ColumnPath::from("timestamp"), true)
        .build()
}

/// Writer settings shared by every part, with per-column encodings for the samples part.
pub(crate) fn writer_properties(
    zstd_level: i32,
    max_row_group_rows: usize,
    data_page_rows: usize,
) -> WriterProperties {
    let level = ZstdLevel::try_new(zstd_level).unwrap_or_default();
    let mut b = WriterProperties::builder()
        .set_writer_version(WriterVersion::PARQUET_2_0)
        .set_compression(Compression::ZSTD(level))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(max_row_group_rows))
        .set_data_page_row_count_limit(data_page_rows)
        .set_created_by(format!(
            "monitoring-architect {}",
            env!("CARGO_PKG_VERSION")
        ));
    for col in ["series_ref", "timestamp", "value_int"] {
        b = b
            .set_column_dictionary_enabled(ColumnPath::from(col), false)
            .set_column_encoding(ColumnPath::from(col), Encoding::DELTA_BINARY_PACKED);
    }
    // One decimal scale per series: dictionary runs that zstd cannot shrink. Left uncompressed
    // because every compressed column chunk costs each read a zstd context pair (parquet-rs
    // makes one per chunk), which was a sixth of a small query's CPU over a day of flushed
    // blocks. (Series refs stay compressed: uncompressed, as deltas or dictionary runs, they
    // cost flushed blocks 0.03-0.07 bytes/sample.)
    b = b.set_column_compression(ColumnPath::from("value_scale"), Compression::UNCOMPRESSED);
    for col in ["value_float", "sum", "count_float", "value"] {
        b = b
            .set_column_dictionary_enabled(ColumnPath::from(col), false)
            .set_column_encoding(ColumnPath::from(col), Encoding::BYTE_STREAM_SPLIT);
    }
    b.build()
}
