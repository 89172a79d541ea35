//! Encoding experiments on a dumped benchmark data set (`architect bench encode --dump FILE`):
//! `LAB_DUMP=FILE cargo test -p architect-store lab -- --ignored --nocapture` (`LAB_ZSTD`,
//! `LAB_PAGE`, `LAB_RG` change the zstd level, page byte limit and row-group rows).
//! Prints the compressed bytes per sample of each column for each candidate layout.

use crate::decimal;
use arrow_array::{ArrayRef, Int64Array, RecordBatch, UInt32Array};
use arrow_schema::{Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::schema::types::ColumnPath;
use std::io::{BufRead, Read};
use std::sync::Arc;

/// A candidate column: name, data, encoding.
type Column<'a> = (&'a str, ArrayRef, Encoding);

struct Series {
    name: String,
    ts: Vec<i64>,
    vs: Vec<f64>,
}

fn load(path: &str) -> Vec<Series> {
    let mut r = std::io::BufReader::new(std::fs::File::open(path).expect("dump"));
    let mut out = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).expect("read") == 0 {
            break;
        }
        let labels: std::collections::BTreeMap<String, String> =
            serde_json::from_str(&line).expect("labels");
        let mut n = [0u8; 8];
        r.read_exact(&mut n).expect("n");
        let n = u64::from_le_bytes(n) as usize;
        let mut buf = vec![0u8; n * 16];
        r.read_exact(&mut buf).expect("samples");
        let (mut ts, mut vs) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for c in buf.chunks_exact(16) {
            ts.push(i64::from_le_bytes(c[..8].try_into().expect("8")));
            vs.push(f64::from_bits(u64::from_le_bytes(
                c[8..].try_into().expect("8"),
            )));
        }
        out.push(Series {
            name: labels.get("__name__").cloned().unwrap_or_default(),
            ts,
            vs,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn zz(x: i64) -> i64 {
    (x << 1) ^ (x >> 63)
}

fn write(
    cols: Vec<(&str, ArrayRef, Encoding)>,
    level: i32,
    page: usize,
    rg: usize,
) -> Vec<(String, u64)> {
    let schema = Arc::new(Schema::new(
        cols.iter()
            .map(|(n, a, _)| Field::new(*n, a.data_type().clone(), a.null_count() > 0))
            .collect::<Vec<_>>(),
    ));
    let mut b = WriterProperties::builder()
        .set_writer_version(WriterVersion::PARQUET_2_0)
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(level).expect("level")))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_data_page_size_limit(page)
        .set_max_row_group_row_count(Some(rg));
    for (n, _, e) in &cols {
        b = b
            .set_column_dictionary_enabled(ColumnPath::from(*n), *e == Encoding::RLE_DICTIONARY)
            .set_column_encoding(
                ColumnPath::from(*n),
                if *e == Encoding::RLE_DICTIONARY {
                    Encoding::PLAIN
                } else {
                    *e
                },
            );
    }
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        cols.into_iter().map(|(_, a, _)| a).collect(),
    )
    .expect("batch");
    let mut w = ArrowWriter::try_new(Vec::new(), schema, Some(b.build())).expect("writer");
    let chunk = 64 * 1024;
    let mut off = 0;
    while off < batch.num_rows() {
        let len = chunk.min(batch.num_rows() - off);
        w.write(&batch.slice(off, len)).expect("write");
        off += len;
    }
    let bytes = bytes::Bytes::from(w.into_inner().expect("close"));
    let total = bytes.len() as u64;
    let r = SerializedFileReader::new(bytes).expect("read");
    let mut out: Vec<(String, u64)> = Vec::new();
    for rg in r.metadata().row_groups() {
        for (i, c) in rg.columns().iter().enumerate() {
            if out.len() <= i {
                out.push((c.column_path().string(), 0));
            }
            out[i].1 += c.compressed_size() as u64;
        }
    }
    out.push(("file".into(), total));
    out
}

#[test]
#[ignore]
fn lab() {
    let Ok(path) = std::env::var("LAB_DUMP") else {
        return;
    };
    let level: i32 = std::env::var("LAB_ZSTD")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(19);
    let page: usize = std::env::var("LAB_PAGE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1 << 20);
    let rg: usize = std::env::var("LAB_RG")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4 << 20);
    let series = load(&path);
    let n: usize = series.iter().map(|s| s.ts.len()).sum();
    // Per-row columns.
    let mut refs = Vec::with_capacity(n);
    let mut ts = Vec::with_capacity(n);
    let mut raw: Vec<Option<i64>> = Vec::with_capacity(n);
    let mut d1 = Vec::with_capacity(n);
    let mut d2 = Vec::with_capacity(n);
    let mut tdd = Vec::with_capacity(n);
    let mut floats: Vec<Option<f64>> = Vec::with_capacity(n);
    let mut scale_rows = Vec::with_capacity(n);
    // Per-series best: raw with DBP ("smooth") or zigzag d1 with BSS ("noisy"), by a bit estimate.
    let mut smooth: Vec<Option<i64>> = Vec::with_capacity(n);
    let mut noisy: Vec<Option<i64>> = Vec::with_capacity(n);
    let mut noisy_series = 0;
    for (r, s) in series.iter().enumerate() {
        let scale =
            s.vs.iter()
                .filter_map(|v| decimal::min_scale(*v))
                .max()
                .unwrap_or(0);
        let ms: Vec<Option<i64>> = s.vs.iter().map(|v| decimal::encode_at(*v, scale)).collect();
        // DBP estimate: bit width of each 32-miniblock's delta range. BSS estimate: bytes of zigzag d1.
        let present: Vec<i64> = ms.iter().flatten().copied().collect();
        let deltas: Vec<i64> = present
            .windows(2)
            .map(|w| w[1].wrapping_sub(w[0]))
            .collect();
        let dbp_bits: f64 = deltas
            .chunks(32)
            .map(|c| {
                let (lo, hi) = (
                    c.iter().min().copied().unwrap_or(0),
                    c.iter().max().copied().unwrap_or(0),
                );
                let w = 64 - (hi.wrapping_sub(lo) as u64).leading_zeros();
                f64::from(w) * c.len() as f64
            })
            .sum();
        let mean_abs =
            deltas.iter().map(|d| (*d as f64).abs()).sum::<f64>() / deltas.len().max(1) as f64;
        let bss_bits = deltas.len() as f64 * (mean_abs * 2.0 + 1.0).log2().max(0.5);
        let is_noisy = bss_bits < dbp_bits * 0.93;
        noisy_series += usize::from(is_noisy);
        let (mut prev, mut prev_d, mut prev_t, mut prev_dt) = (None::<i64>, 0i64, 0i64, 0i64);
        for (i, (t, v)) in s.ts.iter().zip(&s.vs).enumerate() {
            refs.push(r as u32);
            ts.push(*t);
            let dt = if i == 0 { *t } else { t - prev_t };
            tdd.push(if i <= 1 { dt } else { dt - prev_dt });
            prev_dt = dt;
            prev_t = *t;
            scale_rows.push(scale as i64);
            match ms[i] {
                Some(m) => {
                    raw.push(Some(m));
                    let d = prev.map_or(m, |p| m.wrapping_sub(p));
                    d1.push(Some(zz(d)));
                    d2.push(Some(zz(if prev.is_none() {
                        d
                    } else {
                        d.wrapping_sub(prev_d)
                    })));
                    prev_d = d;
                    prev = Some(m);
                    floats.push(None);
                    if is_noisy {
                        smooth.push(None);
                        noisy.push(Some(zz(d)));
                    } else {
                        smooth.push(Some(m));
                        noisy.push(None);
                    }
                }
                None => {
                    raw.push(None);
                    d1.push(None);
                    d2.push(None);
                    floats.push(Some(*v));
                    smooth.push(None);
                    noisy.push(None);
                }
            }
        }
    }
    println!(
        "{} series ({} noisy), {n} samples, zstd {level}, page {page}, rg {rg}",
        series.len(),
        noisy_series
    );
    let a = |v: Vec<i64>| -> ArrayRef { Arc::new(Int64Array::from(v)) };
    let o = |v: &Vec<Option<i64>>| -> ArrayRef { Arc::new(Int64Array::from(v.clone())) };
    let f: ArrayRef = Arc::new(arrow_array::Float64Array::from(floats.clone()));
    let base = || -> Vec<(&'static str, ArrayRef, Encoding)> {
        vec![
            (
                "series_ref",
                Arc::new(UInt32Array::from(refs.clone())) as ArrayRef,
                Encoding::DELTA_BINARY_PACKED,
            ),
            ("timestamp", a(ts.clone()), Encoding::DELTA_BINARY_PACKED),
            ("value_float", Arc::clone(&f), Encoding::BYTE_STREAM_SPLIT),
        ]
    };
    let variants: Vec<(&str, Vec<Column<'_>>)> = vec![
        (
            "raw DBP",
            vec![("v", o(&raw), Encoding::DELTA_BINARY_PACKED)],
        ),
        ("d1 DBP", vec![("v", o(&d1), Encoding::DELTA_BINARY_PACKED)]),
        ("d1 BSS", vec![("v", o(&d1), Encoding::BYTE_STREAM_SPLIT)]),
        ("d1 PLAIN", vec![("v", o(&d1), Encoding::PLAIN)]),
        ("d2 BSS", vec![("v", o(&d2), Encoding::BYTE_STREAM_SPLIT)]),
        (
            "split raw-DBP / d1-BSS",
            vec![
                ("smooth", o(&smooth), Encoding::DELTA_BINARY_PACKED),
                ("noisy", o(&noisy), Encoding::BYTE_STREAM_SPLIT),
            ],
        ),
        (
            "split raw-DBP / d1-PLAIN",
            vec![
                ("smooth", o(&smooth), Encoding::DELTA_BINARY_PACKED),
                ("noisy", o(&noisy), Encoding::PLAIN),
            ],
        ),
        (
            "scale per row RLE",
            vec![("scale", a(scale_rows.clone()), Encoding::RLE_DICTIONARY)],
        ),
        (
            "t dd BSS",
            vec![("tdd", a(tdd.clone()), Encoding::BYTE_STREAM_SPLIT)],
        ),
    ];
    for (name, cols) in variants {
        let mut all = base();
        all.extend(cols);
        let sizes = write(all, level, page, rg);
        let line: Vec<String> = sizes
            .iter()
            .map(|(c, b)| format!("{c}={:.4}", *b as f64 / n as f64))
            .collect();
        println!("{name:<28} {}", line.join(" "));
    }
}
