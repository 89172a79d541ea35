//! Encoding a block's data into its Parquet parts.

use crate::layout::Part;
use crate::schema::{self, EXEMPLARS, HISTOGRAMS, METADATA, SAMPLES, SERIES};
use crate::{Result, decimal};
use architect_model::{
    Exemplar, Histogram, HistogramCount, Labels, MetricMetadata, Sample, SeriesId,
};
use arrow_array::builder::{
    FixedSizeBinaryBuilder, Float64Builder, Int32Builder, Int64Builder, ListBuilder, StringBuilder,
    UInt32Builder, UInt64Builder,
};
use arrow_array::types::UInt32Type;
use arrow_array::{ArrayRef, DictionaryArray, RecordBatch, StringArray, UInt32Array};
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use std::sync::Arc;

/// Rows per record batch handed to the Parquet writer (bounds the Arrow memory of a flush).
const BATCH_ROWS: usize = 64 * 1024;

/// One series' data for a block. Samples and histograms must be sorted by timestamp with no
/// two at the same timestamp.
#[derive(Clone, Debug, Default)]
pub struct SeriesData {
    /// Series id.
    pub id: SeriesId,
    /// Labels.
    pub labels: Labels,
    /// Float samples.
    pub samples: Vec<Sample>,
    /// Native histograms.
    pub histograms: Vec<Histogram>,
    /// Exemplars.
    pub exemplars: Vec<Exemplar>,
}

/// Everything one block holds.
#[derive(Clone, Debug, Default)]
pub struct BlockData {
    /// Series, in any order (the encoder sorts them).
    pub series: Vec<SeriesData>,
    /// Metric metadata.
    pub metadata: Vec<MetricMetadata>,
}

/// One series' data for a block, borrowed: from a [`SeriesData`], or straight from the
/// ingester's head, which then needs no copy of its samples to flush. Samples and histograms
/// sorted by timestamp, no two at one timestamp.
#[derive(Clone, Copy, Debug)]
pub struct SeriesSlices<'a> {
    /// Series id.
    pub id: SeriesId,
    /// Labels.
    pub labels: &'a Labels,
    /// Float samples.
    pub samples: &'a [Sample],
    /// Native histograms.
    pub histograms: &'a [Histogram],
    /// Exemplars.
    pub exemplars: &'a [Exemplar],
}

impl<'a> From<&'a SeriesData> for SeriesSlices<'a> {
    fn from(s: &'a SeriesData) -> Self {
        Self {
            id: s.id,
            labels: &s.labels,
            samples: &s.samples,
            histograms: &s.histograms,
            exemplars: &s.exemplars,
        }
    }
}

/// A block's encoded parts and the summary that goes into the catalog, ready to be stored
/// ([`crate::MetricsStore::commit_encoded`]).
#[derive(Debug)]
pub struct EncodedBlock {
    pub(crate) parts: Vec<(Part, Vec<u8>)>,
    /// Earliest timestamp (`i64::MAX` when empty).
    pub(crate) min_t: i64,
    /// Latest timestamp (`i64::MIN` when empty).
    pub(crate) max_t: i64,
    pub(crate) series: u64,
    pub(crate) samples: u64,
    pub(crate) histograms: u64,
    pub(crate) exemplars: u64,
    pub(crate) metric_names: Vec<String>,
}

fn write_part(
    schema: &SchemaRef,
    props: &WriterProperties,
    batches: impl IntoIterator<Item = Result<RecordBatch>>,
) -> Result<Vec<u8>> {
    let mut w = ArrowWriter::try_new(Vec::new(), Arc::clone(schema), Some(props.clone()))?;
    for b in batches {
        w.write(&b?)?;
    }
    Ok(w.into_inner()?)
}

/// Encodes `data`. CPU-heavy: call from a blocking thread.
pub(crate) fn encode(data: BlockData, props: &WriterProperties) -> Result<EncodedBlock> {
    encode_slices(
        data.series.iter().map(SeriesSlices::from).collect(),
        &data.metadata,
        props,
    )
}

/// Encodes the series (in any order; sorted here) and metadata of one block. CPU-heavy: call
/// from a blocking thread.
pub fn encode_slices(
    mut series: Vec<SeriesSlices<'_>>,
    metadata: &[MetricMetadata],
    props: &WriterProperties,
) -> Result<EncodedBlock> {
    series.retain(|s| !(s.samples.is_empty() && s.histograms.is_empty() && s.exemplars.is_empty()));
    // By metric name, then labels: a selector that filters on a label (a regex on `cpu`, one
    // `instance`) then finds its series in runs of neighbouring rows, so fewer pages hold any
    // of them and the rest are skipped unread (Prometheus's compacted blocks and
    // VictoriaMetrics also order series by their labels).
    series.sort_by(|a, b| {
        a.labels
            .metric_name()
            .cmp(b.labels.metric_name())
            .then_with(|| a.labels.cmp(b.labels))
            .then(a.id.cmp(&b.id))
    });
    let series = &series;
    let mut out = EncodedBlock {
        parts: Vec::new(),
        min_t: i64::MAX,
        max_t: i64::MIN,
        series: series.len() as u64,
        samples: 0,
        histograms: 0,
        exemplars: 0,
        metric_names: Vec::new(),
    };
    for s in series {
        let ts = s
            .samples
            .iter()
            .map(|x| x.t)
            .chain(s.histograms.iter().map(|h| h.t))
            .chain(s.exemplars.iter().map(|e| e.t));
        for t in ts {
            out.min_t = out.min_t.min(t);
            out.max_t = out.max_t.max(t);
        }
        out.samples += s.samples.len() as u64;
        out.histograms += s.histograms.len() as u64;
        out.exemplars += s.exemplars.len() as u64;
        let name = s.labels.metric_name();
        if out.metric_names.last().map(String::as_str) != Some(name) {
            out.metric_names.push(name.to_string());
        }
    }
    let dictionary_timestamps;
    let samples_props = if out.samples < out.series * schema::SHORT_RUN_ROWS {
        dictionary_timestamps = schema::with_dictionary_timestamps(props);
        &dictionary_timestamps
    } else {
        props
    };
    out.parts.push((
        Part::Samples,
        write_part(&SAMPLES, samples_props, SampleBatches::new(series))?,
    ));
    out.parts.push((
        Part::Series,
        write_part(&SERIES, props, std::iter::once(series_batch(series)))?,
    ));
    if out.histograms > 0 {
        out.parts.push((
            Part::Histograms,
            write_part(&HISTOGRAMS, props, std::iter::once(histogram_batch(series)))?,
        ));
    }
    if out.exemplars > 0 {
        out.parts.push((
            Part::Exemplars,
            write_part(&EXEMPLARS, props, std::iter::once(exemplar_batch(series)))?,
        ));
    }
    if !metadata.is_empty() {
        out.parts.push((
            Part::Metadata,
            write_part(&METADATA, props, std::iter::once(metadata_batch(metadata)))?,
        ));
    }
    Ok(out)
}

impl EncodedBlock {
    /// Float samples in the block.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Earliest and latest timestamp of its data (`None` when it has none).
    pub fn time_range(&self) -> Option<(i64, i64)> {
        (self.min_t <= self.max_t).then_some((self.min_t, self.max_t))
    }
}

fn dictionary(keys: Vec<u32>, values: Vec<&str>) -> Result<ArrayRef> {
    let keys = UInt32Array::from(keys);
    let values: ArrayRef = Arc::new(StringArray::from(values));
    Ok(Arc::new(DictionaryArray::<UInt32Type>::try_new(
        keys, values,
    )?))
}

/// Yields the samples part in batches of about [`BATCH_ROWS`] rows.
struct SampleBatches<'a> {
    series: &'a [SeriesSlices<'a>],
    next_series: usize,
}

impl<'a> SampleBatches<'a> {
    fn new(series: &'a [SeriesSlices<'a>]) -> Self {
        Self {
            series,
            next_series: 0,
        }
    }
}

impl Iterator for SampleBatches<'_> {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next_series >= self.series.len() {
            return None;
        }
        let mut refs = Vec::with_capacity(BATCH_ROWS);
        let mut name_keys = Vec::with_capacity(BATCH_ROWS);
        let mut names: Vec<&str> = Vec::new();
        let mut ts = Vec::with_capacity(BATCH_ROWS);
        let mut ints = Int64Builder::with_capacity(BATCH_ROWS);
        let mut scales = Vec::with_capacity(BATCH_ROWS);
        let mut floats = Float64Builder::with_capacity(BATCH_ROWS);
        while self.next_series < self.series.len() && refs.len() < BATCH_ROWS {
            let series_ref = self.next_series as u32;
            let s = &self.series[self.next_series];
            self.next_series += 1;
            if s.samples.is_empty() {
                continue;
            }
            let name = s.labels.metric_name();
            if names.last() != Some(&name) {
                names.push(name);
            }
            let name_key = (names.len() - 1) as u32;
            // One scale per series keeps consecutive mantissas comparable for delta encoding.
            let scale = s
                .samples
                .iter()
                .filter_map(|x| decimal::min_scale(x.v))
                .max()
                .unwrap_or(0);
            for x in s.samples {
                refs.push(series_ref);
                name_keys.push(name_key);
                ts.push(x.t);
                scales.push(scale as i32);
                match decimal::encode_at(x.v, scale) {
                    Some(m) => {
                        ints.append_value(m);
                        floats.append_null();
                    }
                    None => {
                        ints.append_null();
                        floats.append_value(x.v);
                    }
                }
            }
        }
        let build = || -> Result<RecordBatch> {
            let columns: Vec<ArrayRef> = vec![
                Arc::new(UInt32Array::from(refs)),
                dictionary(name_keys, names)?,
                Arc::new(arrow_array::Int64Array::from(ts)),
                Arc::new(ints.finish()),
                Arc::new(arrow_array::Int32Array::from(scales)),
                Arc::new(floats.finish()),
            ];
            Ok(RecordBatch::try_new(Arc::clone(&SAMPLES), columns)?)
        };
        Some(build())
    }
}

fn series_batch(series: &[SeriesSlices<'_>]) -> Result<RecordBatch> {
    let rows: usize = series.iter().map(|s| s.labels.len()).sum();
    let mut refs = UInt32Builder::with_capacity(rows);
    let mut ids = FixedSizeBinaryBuilder::with_capacity(rows, 16);
    let mut name_keys = Vec::with_capacity(rows);
    let mut value_keys = Vec::with_capacity(rows);
    let mut names: Vec<&str> = Vec::new();
    let mut name_index = std::collections::HashMap::new();
    let mut values: Vec<&str> = Vec::new();
    let mut value_index = std::collections::HashMap::new();
    for (i, s) in series.iter().enumerate() {
        let id = s.id.to_be_bytes();
        for l in s.labels {
            refs.append_value(i as u32);
            ids.append_value(id)?;
            let n = *name_index.entry(l.name.as_str()).or_insert_with(|| {
                names.push(l.name.as_str());
                (names.len() - 1) as u32
            });
            let v = *value_index.entry(l.value.as_str()).or_insert_with(|| {
                values.push(l.value.as_str());
                (values.len() - 1) as u32
            });
            name_keys.push(n);
            value_keys.push(v);
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(refs.finish()),
        Arc::new(ids.finish()),
        dictionary(name_keys, names)?,
        dictionary(value_keys, values)?,
    ];
    Ok(RecordBatch::try_new(Arc::clone(&SERIES), columns)?)
}

fn count_columns(c: HistogramCount, ints: &mut UInt64Builder, floats: &mut Float64Builder) {
    match c {
        HistogramCount::Int(n) => {
            ints.append_value(n);
            floats.append_null();
        }
        HistogramCount::Float(f) => {
            ints.append_null();
            floats.append_value(f);
        }
    }
}

fn histogram_batch(series: &[SeriesSlices<'_>]) -> Result<RecordBatch> {
    let mut refs = UInt32Builder::new();
    let mut ts = Int64Builder::new();
    let (mut count_int, mut count_float) = (UInt64Builder::new(), Float64Builder::new());
    let (mut sum, mut schema_col, mut zero_threshold) = (
        Float64Builder::new(),
        Int32Builder::new(),
        Float64Builder::new(),
    );
    let (mut zero_int, mut zero_float) = (UInt64Builder::new(), Float64Builder::new());
    let mut neg_off = ListBuilder::new(Int32Builder::new());
    let mut neg_len = ListBuilder::new(UInt32Builder::new());
    let mut neg_deltas = ListBuilder::new(Int64Builder::new());
    let mut neg_counts = ListBuilder::new(Float64Builder::new());
    let mut pos_off = ListBuilder::new(Int32Builder::new());
    let mut pos_len = ListBuilder::new(UInt32Builder::new());
    let mut pos_deltas = ListBuilder::new(Int64Builder::new());
    let mut pos_counts = ListBuilder::new(Float64Builder::new());
    let mut reset = Int32Builder::new();
    let mut custom = ListBuilder::new(Float64Builder::new());
    for (i, s) in series.iter().enumerate() {
        for h in s.histograms {
            refs.append_value(i as u32);
            ts.append_value(h.t);
            count_columns(h.count, &mut count_int, &mut count_float);
            sum.append_value(h.sum);
            schema_col.append_value(h.schema);
            zero_threshold.append_value(h.zero_threshold);
            count_columns(h.zero_count, &mut zero_int, &mut zero_float);
            neg_off.append_value(h.negative_spans.iter().map(|s| Some(s.offset)));
            neg_len.append_value(h.negative_spans.iter().map(|s| Some(s.length)));
            neg_deltas.append_value(h.negative_deltas.iter().map(|d| Some(*d)));
            neg_counts.append_value(h.negative_counts.iter().map(|d| Some(*d)));
            pos_off.append_value(h.positive_spans.iter().map(|s| Some(s.offset)));
            pos_len.append_value(h.positive_spans.iter().map(|s| Some(s.length)));
            pos_deltas.append_value(h.positive_deltas.iter().map(|d| Some(*d)));
            pos_counts.append_value(h.positive_counts.iter().map(|d| Some(*d)));
            reset.append_value(h.reset_hint);
            custom.append_value(h.custom_values.iter().map(|d| Some(*d)));
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(refs.finish()),
        Arc::new(ts.finish()),
        Arc::new(count_int.finish()),
        Arc::new(count_float.finish()),
        Arc::new(sum.finish()),
        Arc::new(schema_col.finish()),
        Arc::new(zero_threshold.finish()),
        Arc::new(zero_int.finish()),
        Arc::new(zero_float.finish()),
        Arc::new(neg_off.finish()),
        Arc::new(neg_len.finish()),
        Arc::new(neg_deltas.finish()),
        Arc::new(neg_counts.finish()),
        Arc::new(pos_off.finish()),
        Arc::new(pos_len.finish()),
        Arc::new(pos_deltas.finish()),
        Arc::new(pos_counts.finish()),
        Arc::new(reset.finish()),
        Arc::new(custom.finish()),
    ];
    Ok(RecordBatch::try_new(Arc::clone(&HISTOGRAMS), columns)?)
}

fn exemplar_batch(series: &[SeriesSlices<'_>]) -> Result<RecordBatch> {
    let mut refs = UInt32Builder::new();
    let mut ts = Int64Builder::new();
    let mut values = Float64Builder::new();
    let mut names = ListBuilder::new(StringBuilder::new());
    let mut label_values = ListBuilder::new(StringBuilder::new());
    for (i, s) in series.iter().enumerate() {
        for e in s.exemplars {
            refs.append_value(i as u32);
            ts.append_value(e.t);
            values.append_value(e.v);
            names.append_value(e.labels.iter().map(|l| Some(l.name.as_str())));
            label_values.append_value(e.labels.iter().map(|l| Some(l.value.as_str())));
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(refs.finish()),
        Arc::new(ts.finish()),
        Arc::new(values.finish()),
        Arc::new(names.finish()),
        Arc::new(label_values.finish()),
    ];
    Ok(RecordBatch::try_new(Arc::clone(&EXEMPLARS), columns)?)
}

fn metadata_batch(metadata: &[MetricMetadata]) -> Result<RecordBatch> {
    let col = |f: fn(&MetricMetadata) -> &str| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(metadata.iter().map(f)))
    };
    let columns = vec![
        col(|m| &m.metric_family),
        col(|m| m.kind.as_str()),
        col(|m| &m.help),
        col(|m| &m.unit),
    ];
    Ok(RecordBatch::try_new(Arc::clone(&METADATA), columns)?)
}

/// Writer properties for a store configuration.
pub(crate) fn properties(
    zstd_level: i32,
    max_row_group_rows: usize,
    data_page_rows: usize,
) -> WriterProperties {
    schema::writer_properties(zstd_level, max_row_group_rows, data_page_rows)
}

#[cfg(test)]
mod tests {
    use crate::{BlockData, MetricsStore, Result, SeriesData, StoreConfig, StoreError};
    use architect_index::embedded::EmbeddedIndex;
    use architect_model::time::Day;
    use architect_model::{Labels, Matcher, STALE_NAN_BITS, Sample, SeriesId, TenantId};
    use object_store::memory::InMemory;
    use std::sync::Arc;

    /// A compacted block (level 1, compacted writer settings) round-trips special floats bit
    /// for bit next to decimal values, and a time slice selects exactly its samples.
    #[tokio::test]
    async fn compacted_block_round_trips_bit_exact_and_slices_by_time() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| StoreError::Task(e.to_string()))?;
        let index = Arc::new(EmbeddedIndex::open(&dir.path().join("index.redb"))?);
        let config = StoreConfig {
            compacted_max_row_group_rows: 1_000,
            ..StoreConfig::default()
        };
        let store = MetricsStore::new(Arc::new(InMemory::new()), index, &config);
        let tenant = TenantId::new("t1").map_err(|e| StoreError::Task(e.to_string()))?;
        let day = Day::of_ms(1_700_000_000_000);
        let t0 = day.start_ms();
        let specials = [
            f64::from_bits(STALE_NAN_BITS),
            f64::from_bits(0x7ff8_0000_dead_beef),
            -0.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e300,
            0.1 + 0.2,
        ];
        let samples: Vec<Sample> = (0..3_000)
            .map(|k| Sample {
                t: t0 + k * 15_000,
                v: if k % 100 == 7 {
                    specials[(k / 100) as usize % specials.len()]
                } else {
                    k as f64 * 0.25
                },
            })
            .collect();
        let labels = Labels::from_pairs([("__name__", "m"), ("job", "x")]);
        let data = BlockData {
            series: vec![SeriesData {
                id: SeriesId::of("t1", &labels),
                labels,
                samples: samples.clone(),
                ..SeriesData::default()
            }],
            metadata: vec![],
        };
        store.write_block(&tenant, day, 1, data).await?;
        let bits = |s: &[Sample]| s.iter().map(|x| (x.t, x.v.to_bits())).collect::<Vec<_>>();
        // The whole block, part of it, and an hour and five minutes of it (read through the
        // time marks of the series' run).
        for (from, to) in [
            (t0, t0 + 3_000 * 15_000),
            (t0 + 1_234_567, t0 + 20_000_000),
            (t0 + 3_600_000, t0 + 7_200_000),
            (t0 + 39_700_001, t0 + 40_000_000),
        ] {
            let got = store
                .select(&tenant, &[Matcher::equal("job", "x")], from, to)
                .await?;
            let want: Vec<Sample> = samples
                .iter()
                .filter(|s| s.t >= from && s.t <= to)
                .copied()
                .collect();
            assert_eq!(got.len(), 1);
            assert_eq!(bits(&got[0].samples), bits(&want), "[{from}, {to}]");
        }
        Ok(())
    }

    /// Short series runs get dictionary-coded timestamps, day-long ones deltas; short runs
    /// whose timestamps are all distinct (more than a dictionary page holds) fall back to
    /// deltas; all decode to exactly what was written.
    #[test]
    fn timestamp_encoding_follows_the_run_length() -> Result<()> {
        use parquet::basic::Encoding;
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let props = super::properties(3, 1024 * 1024, 4096);
        // Series i's k-th timestamp: jittered by a few ms, or offset by 7 ms per series so
        // that no two series share one.
        let jittered = |i: i64, k: i64| 1_700_000_000_000 + k * 15_000 + (k * 7 + i) % 3;
        let unaligned = |i: i64, k: i64| 1_700_000_000_000 + k * 15_000 + i * 7;
        type Timestamps<'a> = &'a dyn Fn(i64, i64) -> i64;
        let cases: [(i64, i64, Timestamps<'_>, &[Encoding]); 3] = [
            (50, 200, &jittered, &[Encoding::RLE_DICTIONARY]),
            (3, 5_000, &jittered, &[Encoding::DELTA_BINARY_PACKED]),
            (
                2_000,
                100,
                &unaligned,
                &[Encoding::RLE_DICTIONARY, Encoding::DELTA_BINARY_PACKED],
            ),
        ];
        for (series, rows, time, want) in cases {
            let data: Vec<SeriesData> = (0..series)
                .map(|i| {
                    let labels = Labels::from_pairs([("__name__", "m"), ("i", &i.to_string())]);
                    SeriesData {
                        id: SeriesId::of("t", &labels),
                        labels,
                        samples: (0..rows)
                            .map(|k| Sample {
                                t: time(i, k),
                                v: k as f64,
                            })
                            .collect(),
                        ..SeriesData::default()
                    }
                })
                .collect();
            let encoded = super::encode(
                BlockData {
                    series: data,
                    metadata: vec![],
                },
                &props,
            )?;
            let samples = encoded
                .parts
                .iter()
                .find(|(p, _)| *p == crate::layout::Part::Samples)
                .map(|(_, b)| bytes::Bytes::from(b.clone()))
                .ok_or_else(|| StoreError::Task("no samples part".into()))?;
            let reader = SerializedFileReader::new(samples.clone())?;
            let column = reader
                .metadata()
                .row_group(0)
                .column(crate::schema::samples_col::TIMESTAMP);
            assert!(
                want.iter().all(|w| column.encodings().any(|e| e == *w)),
                "{series} x {rows}: {:?}",
                column.encodings().collect::<Vec<_>>()
            );
            let ts =
                parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(samples)?
                    .build()?
                    .map(|b| {
                        b.map(|b| {
                            b.column(crate::schema::samples_col::TIMESTAMP)
                                .as_any()
                                .downcast_ref::<arrow_array::Int64Array>()
                                .map(|a| a.values().to_vec())
                                .unwrap_or_default()
                        })
                    })
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| StoreError::Task(e.to_string()))?
                    .concat();
            let mut want_ts: Vec<(String, i64)> = (0..series)
                .flat_map(|i| (0..rows).map(move |k| (i.to_string(), time(i, k))))
                .collect();
            want_ts.sort();
            assert_eq!(ts, want_ts.into_iter().map(|(_, t)| t).collect::<Vec<_>>());
        }
        Ok(())
    }
}
