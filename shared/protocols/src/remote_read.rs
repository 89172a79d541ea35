//! Prometheus remote read: request matchers into model matchers, results into the samples
//! response (`ReadResponse`). Streamed XOR chunks are not offered yet; a client that accepts
//! only those gets a clear error.

use crate::prompb;
use architect_model::{Labels, MatchOp, Matcher, MatcherError, Sample};

/// `SAMPLES` response type.
pub const RESPONSE_TYPE_SAMPLES: i32 = 0;

/// Converts wire matchers into model matchers.
pub fn matchers(ms: &[prompb::LabelMatcher]) -> Result<Vec<Matcher>, MatcherError> {
    ms.iter()
        .map(|m| {
            let op = match m.r#type {
                1 => MatchOp::NotEqual,
                2 => MatchOp::RegexMatch,
                3 => MatchOp::RegexNoMatch,
                _ => MatchOp::Equal,
            };
            Matcher::new(op, m.name.clone(), m.value.clone())
        })
        .collect()
}

/// Converts model matchers into wire matchers (the inverse of [`matchers`]).
pub fn wire_matchers(ms: &[Matcher]) -> Vec<prompb::LabelMatcher> {
    ms.iter()
        .map(|m| prompb::LabelMatcher {
            r#type: match m.op {
                MatchOp::Equal => 0,
                MatchOp::NotEqual => 1,
                MatchOp::RegexMatch => 2,
                MatchOp::RegexNoMatch => 3,
            },
            name: m.name.clone(),
            value: m.value.clone(),
        })
        .collect()
}

/// True if the client accepts the samples response (an empty list means it does).
pub fn accepts_samples(req: &prompb::ReadRequest) -> bool {
    req.accepted_response_types.is_empty()
        || req.accepted_response_types.contains(&RESPONSE_TYPE_SAMPLES)
}

/// One series of a query result.
pub fn time_series(labels: &Labels, samples: &[Sample]) -> prompb::TimeSeries {
    prompb::TimeSeries {
        labels: labels
            .iter()
            .map(|l| prompb::Label::new(&l.name, &l.value))
            .collect(),
        samples: samples
            .iter()
            .map(|s| prompb::Sample {
                value: s.v,
                timestamp: s.t,
            })
            .collect(),
        ..Default::default()
    }
}
