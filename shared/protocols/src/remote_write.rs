//! remote_write 1.0 and 2.0 requests into the model, keeping the valid series and naming the
//! first bad one, as Mimir does.

use crate::labels_cache::LabelsCache;
use crate::{ProtocolError, prompb, write_v2};
use architect_model::validate::ValidationError;
use architect_model::{
    BucketSpan, Exemplar, Histogram, HistogramCount, Label, Labels, MetadataType, MetricMetadata,
    Sample, SeriesWrite, WriteRequest,
};
use prost::Message;

/// Content type of remote_write 1.0 (`proto=prometheus.WriteRequest` may be appended).
pub const CONTENT_TYPE_V1: &str = "application/x-protobuf";
/// The `proto` parameter naming the 1.0 message.
pub const PROTO_V1: &str = "prometheus.WriteRequest";
/// The `proto` parameter naming the 2.0 message.
pub const PROTO_V2: &str = "io.prometheus.write.v2.Request";

/// Which message a request carries, from its `Content-Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteVersion {
    /// `prometheus.WriteRequest`.
    V1,
    /// `io.prometheus.write.v2.Request`.
    V2,
}

/// Reads the message version from a `Content-Type` header value, as the 2.0 spec says:
/// absent or `application/x-protobuf` means 1.0; `proto=` selects; anything else is refused
/// (the caller answers 415).
pub fn negotiate(content_type: Option<&str>) -> Result<WriteVersion, String> {
    let Some(ct) = content_type else {
        return Ok(WriteVersion::V1);
    };
    let mut parts = ct.split(';').map(str::trim);
    let media = parts.next().unwrap_or("");
    if !media.eq_ignore_ascii_case(CONTENT_TYPE_V1) {
        return Err(format!(
            "unsupported content type {ct:?}, expected {CONTENT_TYPE_V1:?}"
        ));
    }
    for p in parts {
        if let Some(v) = p.strip_prefix("proto=") {
            return match v.trim_matches('"') {
                PROTO_V1 => Ok(WriteVersion::V1),
                PROTO_V2 => Ok(WriteVersion::V2),
                other => Err(format!("unsupported proto {other:?} in content type")),
            };
        }
    }
    Ok(WriteVersion::V1)
}

/// A decoded write: the series that could be read, plus the first series that could not.
#[derive(Debug, Default)]
pub struct Decoded {
    /// Valid (decodable) series and metadata.
    pub request: WriteRequest,
    /// The first series refused during decoding (for example a label that is not UTF-8).
    pub first_error: Option<ValidationError>,
}

fn utf8(bytes: Vec<u8>) -> Result<String, std::string::FromUtf8Error> {
    String::from_utf8(bytes)
}

/// Label pairs as bytes, before UTF-8 validation.
type RawLabels = Vec<(Vec<u8>, Vec<u8>)>;

pub(crate) fn lossy_series(labels: &[(Vec<u8>, Vec<u8>)]) -> String {
    let inner: Vec<String> = labels
        .iter()
        .map(|(n, v)| {
            format!(
                "{}={:?}",
                String::from_utf8_lossy(n),
                String::from_utf8_lossy(v)
            )
        })
        .collect();
    format!("{{{}}}", inner.join(", "))
}

/// Turns raw label pairs into [`Labels`]; labels with empty values are dropped (an empty value
/// means "no label" in Prometheus). Order is kept: validation reports unsorted input.
fn to_labels(raw: Vec<(Vec<u8>, Vec<u8>)>) -> Result<Labels, ValidationError> {
    if raw
        .iter()
        .any(|(n, v)| std::str::from_utf8(n).is_err() || std::str::from_utf8(v).is_err())
    {
        return Err(ValidationError::InvalidUtf8 {
            series: lossy_series(&raw),
        });
    }
    let labels = raw
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(n, v)| Label {
            name: utf8(n).unwrap_or_default(),
            value: utf8(v).unwrap_or_default(),
        })
        .collect();
    Ok(Labels::from_sorted(labels))
}

fn histogram(h: prompb::Histogram) -> Histogram {
    use prompb::histogram::{Count, ZeroCount};
    let spans = |s: Vec<prompb::BucketSpan>| {
        s.into_iter()
            .map(|s| BucketSpan {
                offset: s.offset,
                length: s.length,
            })
            .collect()
    };
    Histogram {
        t: h.timestamp,
        count: match h.count {
            Some(Count::CountFloat(f)) => HistogramCount::Float(f),
            Some(Count::CountInt(n)) => HistogramCount::Int(n),
            None => HistogramCount::Int(0),
        },
        sum: h.sum,
        schema: h.schema,
        zero_threshold: h.zero_threshold,
        zero_count: match h.zero_count {
            Some(ZeroCount::ZeroCountFloat(f)) => HistogramCount::Float(f),
            Some(ZeroCount::ZeroCountInt(n)) => HistogramCount::Int(n),
            None => HistogramCount::Int(0),
        },
        negative_spans: spans(h.negative_spans),
        negative_deltas: h.negative_deltas,
        negative_counts: h.negative_counts,
        positive_spans: spans(h.positive_spans),
        positive_deltas: h.positive_deltas,
        positive_counts: h.positive_counts,
        reset_hint: h.reset_hint,
        custom_values: h.custom_values,
    }
}

/// Back to the wire form (for remote read responses and test senders).
pub fn histogram_to_proto(h: &Histogram) -> prompb::Histogram {
    use prompb::histogram::{Count, ZeroCount};
    let spans = |s: &[BucketSpan]| {
        s.iter()
            .map(|s| prompb::BucketSpan {
                offset: s.offset,
                length: s.length,
            })
            .collect()
    };
    prompb::Histogram {
        count: Some(match h.count {
            HistogramCount::Int(n) => Count::CountInt(n),
            HistogramCount::Float(f) => Count::CountFloat(f),
        }),
        sum: h.sum,
        schema: h.schema,
        zero_threshold: h.zero_threshold,
        zero_count: Some(match h.zero_count {
            HistogramCount::Int(n) => ZeroCount::ZeroCountInt(n),
            HistogramCount::Float(f) => ZeroCount::ZeroCountFloat(f),
        }),
        negative_spans: spans(&h.negative_spans),
        negative_deltas: h.negative_deltas.clone(),
        negative_counts: h.negative_counts.clone(),
        positive_spans: spans(&h.positive_spans),
        positive_deltas: h.positive_deltas.clone(),
        positive_counts: h.positive_counts.clone(),
        reset_hint: h.reset_hint,
        timestamp: h.t,
        custom_values: h.custom_values.clone(),
    }
}

fn samples(s: Vec<prompb::Sample>) -> Vec<Sample> {
    s.into_iter()
        .map(|s| Sample {
            t: s.timestamp,
            v: s.value,
        })
        .collect()
}

/// Decodes a decompressed remote_write 1.0 body: directly (`wire_v1`), or through prost when
/// the direct reader gives up.
pub fn decode_v1(body: &[u8]) -> Result<Decoded, ProtocolError> {
    decode_v1_cached(body, None)
}

/// [`decode_v1`], sharing the label sets of series the tenant sent before through `cache`
/// (`(cache, tenant)`; the ingest hot path: see [`crate::labels_cache`]).
pub fn decode_v1_cached(
    body: &[u8],
    cache: Option<(&LabelsCache, &str)>,
) -> Result<Decoded, ProtocolError> {
    match crate::wire_v1::decode(body, cache) {
        Some(decoded) => Ok(decoded),
        None => decode_v1_prost(body),
    }
}

pub(crate) fn decode_v1_prost(body: &[u8]) -> Result<Decoded, ProtocolError> {
    let req = prompb::WriteRequest::decode(body)?;
    let mut out = Decoded::default();
    for ts in req.timeseries {
        if let Some(series) = series_from_proto(ts, &mut out) {
            out.request.series.push(series);
        }
    }
    out.request.metadata = req.metadata.into_iter().map(metadata_from_proto).collect();
    Ok(out)
}

/// A decoded series in the model; `None` when its labels are refused (noted in `out`).
pub(crate) fn series_from_proto(ts: prompb::TimeSeries, out: &mut Decoded) -> Option<SeriesWrite> {
    let raw = ts.labels.into_iter().map(|l| (l.name, l.value)).collect();
    let labels = match to_labels(raw) {
        Ok(l) => l,
        Err(e) => {
            out.first_error.get_or_insert(e);
            return None;
        }
    };
    let mut exemplars = Vec::with_capacity(ts.exemplars.len());
    for e in ts.exemplars {
        let raw = e.labels.into_iter().map(|l| (l.name, l.value)).collect();
        push_exemplar(&mut exemplars, to_labels(raw), e.timestamp, e.value, out);
    }
    Some(SeriesWrite {
        labels,
        samples: samples(ts.samples),
        histograms: ts.histograms.into_iter().map(histogram).collect(),
        exemplars,
    })
}

/// Keeps an exemplar whose labels decoded; notes the error of one whose labels did not.
fn push_exemplar(
    exemplars: &mut Vec<Exemplar>,
    labels: Result<Labels, ValidationError>,
    t: i64,
    v: f64,
    out: &mut Decoded,
) {
    match labels {
        Ok(l) => exemplars.push(Exemplar {
            labels: Labels::new(l.into_vec()),
            t,
            v,
        }),
        Err(err) => {
            out.first_error.get_or_insert(err);
        }
    }
}

pub(crate) fn metadata_from_proto(m: prompb::MetricMetadata) -> MetricMetadata {
    MetricMetadata {
        metric_family: m.metric_family_name,
        kind: MetadataType::from_v1(m.r#type),
        help: m.help,
        unit: m.unit,
    }
}

/// Decodes a decompressed remote_write 2.0 body, resolving symbol references.
pub fn decode_v2(body: &[u8]) -> Result<Decoded, ProtocolError> {
    let req = write_v2::Request::decode(body)?;
    let symbols = req.symbols;
    let sym = |r: u32| -> Result<Vec<u8>, ProtocolError> {
        symbols.get(r as usize).cloned().ok_or_else(|| {
            ProtocolError::BadSymbolRef(format!(
                "reference {r} is past the {} symbols",
                symbols.len()
            ))
        })
    };
    let pairs = |refs: &[u32]| -> Result<RawLabels, ProtocolError> {
        if !refs.len().is_multiple_of(2) {
            return Err(ProtocolError::BadSymbolRef(format!(
                "odd number of label references: {}",
                refs.len()
            )));
        }
        refs.chunks_exact(2)
            .map(|p| Ok((sym(p[0])?, sym(p[1])?)))
            .collect()
    };
    let mut out = Decoded::default();
    for ts in req.timeseries {
        let labels = match to_labels(pairs(&ts.labels_refs)?) {
            Ok(l) => l,
            Err(e) => {
                out.first_error.get_or_insert(e);
                continue;
            }
        };
        if let Some(md) = ts.metadata {
            let text = |r: u32| sym(r).map(|b| String::from_utf8_lossy(&b).into_owned());
            let (help, unit) = (text(md.help_ref)?, text(md.unit_ref)?);
            if md.r#type != 0 || !help.is_empty() || !unit.is_empty() {
                out.request.metadata.push(MetricMetadata {
                    metric_family: labels.metric_name().to_string(),
                    kind: MetadataType::from_v1(md.r#type),
                    help,
                    unit,
                });
            }
        }
        let mut exemplars = Vec::with_capacity(ts.exemplars.len());
        for e in ts.exemplars {
            let labels = to_labels(pairs(&e.labels_refs)?);
            push_exemplar(&mut exemplars, labels, e.timestamp, e.value, &mut out);
        }
        out.request.series.push(SeriesWrite {
            labels,
            samples: samples(ts.samples),
            histograms: ts.histograms.into_iter().map(histogram).collect(),
            exemplars,
        });
    }
    Ok(out)
}

/// Encodes a model request as remote_write 1.0 (used by the benchmark and tests as a sender).
pub fn encode_v1(req: &WriteRequest) -> Vec<u8> {
    to_v1(req).encode_to_vec()
}

/// A model request as the remote_write 1.0 message (also the ingester's WAL record body).
pub fn to_v1(req: &WriteRequest) -> prompb::WriteRequest {
    let label = |l: &Label| prompb::Label::new(&l.name, &l.value);
    prompb::WriteRequest {
        timeseries: req
            .series
            .iter()
            .map(|s| prompb::TimeSeries {
                labels: s.labels.iter().map(label).collect(),
                samples: s
                    .samples
                    .iter()
                    .map(|x| prompb::Sample {
                        value: x.v,
                        timestamp: x.t,
                    })
                    .collect(),
                exemplars: s
                    .exemplars
                    .iter()
                    .map(|e| prompb::Exemplar {
                        labels: e.labels.iter().map(label).collect(),
                        value: e.v,
                        timestamp: e.t,
                    })
                    .collect(),
                histograms: s.histograms.iter().map(histogram_to_proto).collect(),
            })
            .collect(),
        metadata: req
            .metadata
            .iter()
            .map(|m| prompb::MetricMetadata {
                r#type: m.kind.to_v1(),
                metric_family_name: m.metric_family.clone(),
                help: m.help.clone(),
                unit: m.unit.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_negotiation_follows_the_2_0_spec() {
        assert_eq!(negotiate(None), Ok(WriteVersion::V1));
        assert_eq!(
            negotiate(Some("application/x-protobuf")),
            Ok(WriteVersion::V1)
        );
        assert_eq!(
            negotiate(Some("application/x-protobuf;proto=prometheus.WriteRequest")),
            Ok(WriteVersion::V1)
        );
        assert_eq!(
            negotiate(Some(
                "application/x-protobuf;proto=io.prometheus.write.v2.Request"
            )),
            Ok(WriteVersion::V2)
        );
        assert!(negotiate(Some("application/json")).is_err());
        assert!(negotiate(Some("application/x-protobuf;proto=foo.Bar")).is_err());
    }

    #[test]
    fn v1_keeps_good_series_and_reports_bad_utf8() {
        let req = prompb::WriteRequest {
            timeseries: vec![
                prompb::TimeSeries {
                    labels: vec![prompb::Label::new("__name__", "good")],
                    samples: vec![prompb::Sample {
                        value: 1.0,
                        timestamp: 5,
                    }],
                    ..Default::default()
                },
                prompb::TimeSeries {
                    labels: vec![prompb::Label {
                        name: b"__name__".to_vec(),
                        value: vec![0xff, 0xfe],
                    }],
                    samples: vec![prompb::Sample {
                        value: 1.0,
                        timestamp: 5,
                    }],
                    ..Default::default()
                },
            ],
            metadata: vec![],
        };
        let d = decode_v1(&req.encode_to_vec()).expect("decodes");
        assert_eq!(d.request.series.len(), 1);
        assert!(matches!(
            d.first_error,
            Some(ValidationError::InvalidUtf8 { .. })
        ));
    }

    #[test]
    fn v2_resolves_symbols_and_metadata() {
        let req = write_v2::Request {
            symbols: [
                "",
                "__name__",
                "http_requests_total",
                "job",
                "api",
                "Total requests.",
                "trace_id",
                "abc",
            ]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect(),
            timeseries: vec![write_v2::TimeSeries {
                labels_refs: vec![1, 2, 3, 4],
                samples: vec![prompb::Sample {
                    value: 3.0,
                    timestamp: 10,
                }],
                exemplars: vec![write_v2::Exemplar {
                    labels_refs: vec![6, 7],
                    value: 1.5,
                    timestamp: 10,
                }],
                metadata: Some(write_v2::Metadata {
                    r#type: 1,
                    help_ref: 5,
                    unit_ref: 0,
                }),
                ..Default::default()
            }],
        };
        let d = decode_v2(&req.encode_to_vec()).expect("decodes");
        assert!(d.first_error.is_none());
        let s = &d.request.series[0];
        assert_eq!(s.labels.to_string(), r#"http_requests_total{job="api"}"#);
        assert_eq!(s.exemplars[0].labels.get("trace_id"), Some("abc"));
        assert_eq!(d.request.metadata[0].kind, MetadataType::Counter);
        assert_eq!(d.request.metadata[0].help, "Total requests.");
        let bad = write_v2::Request {
            symbols: vec![b"".to_vec()],
            timeseries: vec![write_v2::TimeSeries {
                labels_refs: vec![0, 9],
                ..Default::default()
            }],
        };
        assert!(matches!(
            decode_v2(&bad.encode_to_vec()),
            Err(ProtocolError::BadSymbolRef(_))
        ));
    }
}
