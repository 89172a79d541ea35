//! A direct decoder of `prometheus.WriteRequest` into the model, for the ingest hot path.
//!
//! prost decodes each label into two byte vectors inside a `prompb::Label`, and each series
//! into `prompb` vectors that the model conversion then copies and drops: that decode was a
//! third of the server's ingest CPU. This reader walks the protobuf bytes once and builds the
//! model's series directly: one validation and one allocation per label string, samples
//! pushed as they are read. A series with exemplars or native histograms, and metadata, are
//! decoded by prost (they are rare and their conversion is shared). Anything it does not
//! expect (a malformed body, a group wire type) makes it give up with `None`, and the caller
//! decodes the whole body with prost, whose answer (value or error) is the reference.
//! With a [`LabelsCache`], a series whose `Label` fields are byte for byte those of a series
//! the same tenant sent before takes that series' label set instead of building one.

use crate::labels_cache::LabelsCache;
use crate::prompb;
use crate::remote_write::{Decoded, metadata_from_proto, series_from_proto};
use architect_model::validate::ValidationError;
use architect_model::{Label, Labels, Sample, SeriesWrite};
use prost::Message;

/// Protobuf wire types.
const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const FIXED32: u8 = 5;

/// A cursor over protobuf bytes.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for (i, &b) in self.buf.iter().enumerate().take(10) {
            if i == 9 && b > 1 {
                return None; // past 64 bits
            }
            value |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                self.buf = &self.buf[i + 1..];
                return Some(value);
            }
        }
        None
    }

    /// The next field's number and wire type; `None` at the end or on malformed input.
    fn key(&mut self) -> Option<(u64, u8)> {
        let key = self.varint()?;
        let field = key >> 3;
        (field != 0).then_some((field, (key & 7) as u8))
    }

    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = (self.buf.get(..n)?, self.buf.get(n..)?);
        self.buf = rest;
        Some(head)
    }

    fn len_delimited(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.varint()?).ok()?;
        self.bytes(n)
    }

    fn fixed64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.bytes(8)?.try_into().ok()?))
    }

    /// Skips a field of `wire` type; `None` for groups and unknown types (prost decides).
    fn skip(&mut self, wire: u8) -> Option<()> {
        match wire {
            VARINT => self.varint().map(drop),
            FIXED64 => self.bytes(8).map(drop),
            LEN => self.len_delimited().map(drop),
            FIXED32 => self.bytes(4).map(drop),
            _ => None,
        }
    }
}

/// Decodes `body`, or `None` when prost must (see the module docs). With a `cache`, a series
/// whose label bytes were decoded before shares the label set decoded then.
pub(crate) fn decode(body: &[u8], cache: Option<(&LabelsCache, &str)>) -> Option<Decoded> {
    let mut out = Decoded::default();
    let mut r = Reader { buf: body };
    let mut labels: Vec<(&[u8], &[u8])> = Vec::new();
    while !r.buf.is_empty() {
        let (field, wire) = r.key()?;
        match (field, wire) {
            (1, LEN) => {
                let series = r.len_delimited()?;
                if let Some(s) = plain_series(series, &mut labels, cache, &mut out)? {
                    out.request.series.push(s);
                }
            }
            (3, LEN) => {
                let m = prompb::MetricMetadata::decode(r.len_delimited()?).ok()?;
                out.request.metadata.push(metadata_from_proto(m));
            }
            // A known field with another wire type is an error prost reports.
            (1 | 3, _) => return None,
            _ => r.skip(wire)?,
        }
    }
    Some(out)
}

/// One `TimeSeries`: `Some(Some(series))`, `Some(None)` when it was refused (the error is in
/// `out`), `None` on malformed input. `labels` is scratch space reused across series.
fn plain_series<'a>(
    bytes: &'a [u8],
    labels: &mut Vec<(&'a [u8], &'a [u8])>,
    cache: Option<(&LabelsCache, &str)>,
    out: &mut Decoded,
) -> Option<Option<SeriesWrite>> {
    labels.clear();
    let mut samples = Vec::new();
    let mut r = Reader { buf: bytes };
    // The byte range of the `Label` fields, while they are contiguous (senders write them
    // first, together): the cache key. `None` once another field came between two labels.
    let mut label_span: Option<(usize, usize)> = None;
    let mut contiguous = true;
    while !r.buf.is_empty() {
        let at = bytes.len() - r.buf.len();
        let (field, wire) = r.key()?;
        match (field, wire) {
            (1, LEN) => {
                labels.push(label(r.len_delimited()?)?);
                let end = bytes.len() - r.buf.len();
                label_span = match label_span {
                    None => Some((at, end)),
                    Some((start, last)) => {
                        contiguous &= last == at;
                        Some((start, end))
                    }
                };
            }
            (2, LEN) => samples.push(sample(r.len_delimited()?)?),
            (1 | 2, _) => return None,
            // Exemplars and histograms: the whole series through prost.
            (3 | 4, _) => {
                let ts = prompb::TimeSeries::decode(bytes).ok()?;
                return Some(series_from_proto(ts, out));
            }
            _ => r.skip(wire)?,
        }
    }
    let wire_labels = match (cache, label_span) {
        (Some(cache), Some((start, end))) if contiguous => {
            bytes.get(start..end).map(|w| (cache, w))
        }
        _ => None,
    };
    if let Some(labels) = wire_labels.and_then(|((cache, tenant), wire)| cache.get(tenant, wire)) {
        return Some(Some(SeriesWrite {
            labels,
            samples,
            ..Default::default()
        }));
    }
    if labels
        .iter()
        .any(|(n, v)| std::str::from_utf8(n).is_err() || std::str::from_utf8(v).is_err())
    {
        let raw: Vec<(Vec<u8>, Vec<u8>)> = labels
            .iter()
            .map(|(n, v)| (n.to_vec(), v.to_vec()))
            .collect();
        out.first_error.get_or_insert(ValidationError::InvalidUtf8 {
            series: crate::remote_write::lossy_series(&raw),
        });
        return Some(None);
    }
    // Empty values mean "no label"; order is kept (validation reports unsorted input).
    let text = |b: &[u8]| String::from(std::str::from_utf8(b).unwrap_or_default());
    let labels = labels
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(n, v)| Label {
            name: text(n),
            value: text(v),
        })
        .collect();
    let labels = Labels::from_sorted(labels);
    if let Some(((cache, tenant), wire)) = wire_labels {
        cache.insert(tenant, wire, &labels);
    }
    Some(Some(SeriesWrite {
        labels,
        samples,
        ..Default::default()
    }))
}

/// A `Label`: (name, value) bytes; a repeated field's last occurrence wins, as in prost.
fn label(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let (mut name, mut value): (&[u8], &[u8]) = (&[], &[]);
    let mut r = Reader { buf: bytes };
    while !r.buf.is_empty() {
        match r.key()? {
            (1, LEN) => name = r.len_delimited()?,
            (2, LEN) => value = r.len_delimited()?,
            (1 | 2, _) => return None,
            (_, wire) => r.skip(wire)?,
        }
    }
    Some((name, value))
}

/// A `Sample`: `double value = 1; int64 timestamp = 2;`.
fn sample(bytes: &[u8]) -> Option<Sample> {
    let mut s = Sample { t: 0, v: 0.0 };
    let mut r = Reader { buf: bytes };
    while !r.buf.is_empty() {
        match r.key()? {
            (1, FIXED64) => s.v = f64::from_bits(r.fixed64()?),
            (2, VARINT) => s.t = r.varint()? as i64,
            (1 | 2, _) => return None,
            (_, wire) => r.skip(wire)?,
        }
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote_write::{decode_v1, decode_v1_cached, decode_v1_prost};

    fn series(labels: &[(&[u8], &[u8])], samples: &[(i64, f64)]) -> prompb::TimeSeries {
        prompb::TimeSeries {
            labels: labels
                .iter()
                .map(|(n, v)| prompb::Label {
                    name: n.to_vec(),
                    value: v.to_vec(),
                })
                .collect(),
            samples: samples
                .iter()
                .map(|&(timestamp, value)| prompb::Sample { value, timestamp })
                .collect(),
            ..Default::default()
        }
    }

    fn rich_request() -> prompb::WriteRequest {
        let stale = f64::from_bits(0x7ff0_0000_0000_0002);
        let mut with_exemplar = series(&[(b"__name__", b"e")], &[(5, 1.0)]);
        with_exemplar.exemplars = vec![prompb::Exemplar {
            labels: vec![prompb::Label::new("trace_id", "abc")],
            value: 2.5,
            timestamp: 5,
        }];
        let mut with_histogram = series(&[(b"__name__", b"h")], &[]);
        with_histogram.histograms = vec![prompb::Histogram {
            timestamp: 7,
            sum: 3.0,
            schema: 1,
            ..Default::default()
        }];
        prompb::WriteRequest {
            timeseries: vec![
                series(
                    &[(b"__name__", b"up"), (b"empty", b""), (b"job", b"node")],
                    &[(-15_000, 1.0), (0, stale), (1_700_000_000_000, -0.0)],
                ),
                series(&[(b"__name__", b"bad"), (b"job", b"\xff\xfe")], &[(1, 1.0)]),
                with_exemplar,
                series(&[(b"b", b"1"), (b"a", b"2")], &[(2, f64::MAX)]),
                with_histogram,
                series(&[], &[(3, 3.0)]),
            ],
            metadata: vec![prompb::MetricMetadata {
                r#type: 1,
                metric_family_name: "up".into(),
                help: "Up.".into(),
                unit: String::new(),
            }],
        }
    }

    /// The direct reader agrees with prost on `body`: alone, and through `cache` twice (a miss
    /// or a hit of an earlier body's labels, then a hit).
    fn same(body: &[u8], cache: &LabelsCache) {
        let reference = decode_v1_prost(body);
        for _ in 0..2 {
            let cached = decode_v1_cached(body, Some((cache, "t")));
            assert_eq!(
                format!("{cached:?}"),
                format!("{reference:?}"),
                "cached, body {body:02x?}"
            );
        }
        let direct = decode_v1(body);
        assert_eq!(
            format!("{direct:?}"),
            format!("{reference:?}"),
            "body {body:02x?}"
        );
        if let (Ok(a), Ok(b)) = (direct, reference) {
            let bits = |d: &Decoded| -> Vec<(i64, u64)> {
                d.request
                    .series
                    .iter()
                    .flat_map(|s| s.samples.iter().map(|x| (x.t, x.v.to_bits())))
                    .collect()
            };
            assert_eq!(bits(&a), bits(&b), "sample values are bit-exact");
        }
    }

    #[test]
    fn agrees_with_prost_on_a_rich_request_and_reads_plain_series_itself() {
        let mut body = rich_request().encode_to_vec();
        // An unknown field (15, varint) that both must skip.
        body.extend_from_slice(&[0x78, 0x96, 0x01]);
        assert!(
            decode(&body, None).is_some(),
            "the direct reader takes this body"
        );
        let cache = LabelsCache::new(1024);
        same(&body, &cache);
        assert_eq!(
            cache.len(),
            2,
            "the plain series with UTF-8 labels are cached"
        );
        let d = decode_v1(&body).expect("decodes");
        assert_eq!(d.request.series.len(), 5, "the bad UTF-8 series is refused");
        assert!(matches!(
            d.first_error,
            Some(ValidationError::InvalidUtf8 { .. })
        ));
        assert_eq!(
            d.request.series[0].labels.len(),
            2,
            "empty values are no label"
        );
        assert_eq!(d.request.metadata.len(), 1);
    }

    #[test]
    fn agrees_with_prost_on_every_truncation_and_corruption() {
        let body = rich_request().encode_to_vec();
        // One cache for all: corrupted bodies meet the labels of intact ones.
        let cache = LabelsCache::new(1 << 16);
        same(&body, &cache);
        for end in 0..body.len() {
            same(&body[..end], &cache);
        }
        for byte in [0x00u8, 0x01, 0x07, 0x08, 0x0a, 0x19, 0x7f, 0x80, 0xff] {
            for pos in 0..body.len() {
                let mut bad = body.clone();
                bad[pos] = byte;
                same(&bad, &cache);
            }
        }
    }

    #[test]
    fn labels_split_by_another_field_are_decoded_but_not_cached() {
        let label = |n: &[u8], v: &[u8]| prompb::Label {
            name: n.to_vec(),
            value: v.to_vec(),
        };
        let field = |number: u8, msg: Vec<u8>| {
            let mut out = vec![number << 3 | LEN, msg.len() as u8];
            out.extend(msg);
            out
        };
        let sample = prompb::Sample {
            value: 1.0,
            timestamp: 5,
        };
        // TimeSeries: label, sample, label.
        let mut ts = field(1, label(b"__name__", b"up").encode_to_vec());
        ts.extend(field(2, sample.encode_to_vec()));
        ts.extend(field(1, label(b"job", b"a").encode_to_vec()));
        let body = field(1, ts);
        let cache = LabelsCache::new(1024);
        same(&body, &cache);
        assert!(cache.is_empty());
        let d = decode_v1_cached(&body, Some((&cache, "t"))).expect("decodes");
        assert_eq!(d.request.series[0].labels.to_string(), r#"up{job="a"}"#);
    }
}
