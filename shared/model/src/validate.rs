//! Write validation, as Mimir's distributor does it: per-series label checks, per-sample
//! timestamp checks, and error messages that name the series and the reason.
//!
//! A request is accepted partially: invalid series (and invalid samples) are dropped, the rest
//! is stored, and the first error is reported to the sender with a 400.

use crate::labels::{Labels, METRIC_NAME};
use crate::write::{SeriesWrite, WriteRequest};
use serde::{Deserialize, Serialize};

/// Per-tenant write limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Most labels one series may have (Mimir's default: 30).
    pub max_label_names_per_series: usize,
    /// Longest label name in bytes.
    pub max_label_name_length: usize,
    /// Longest label value in bytes.
    pub max_label_value_length: usize,
    /// Oldest accepted sample, as an age in milliseconds; `None` accepts any age (backfill).
    pub max_sample_age_ms: Option<i64>,
    /// How far in the future a sample may be, in milliseconds (10 min).
    pub creation_grace_period_ms: i64,
    /// Most exemplar labels' total length in runes (Prometheus: 128).
    pub max_exemplar_labels_length: usize,
    /// Deduplicate Prometheus HA pairs at ingest (Mimir's HA tracker): of the series carrying
    /// both [`Self::ha_cluster_label`] and [`Self::ha_replica_label`], only the elected
    /// replica's are stored, without the replica label.
    pub accept_ha_samples: bool,
    /// Label naming the HA cluster (kept on stored series).
    pub ha_cluster_label: String,
    /// Label naming the replica within the cluster (removed from stored series).
    pub ha_replica_label: String,
    /// Most HA clusters tracked per tenant; 0 = unlimited.
    pub ha_max_clusters: usize,
    /// The elected replica's timestamp in the index is refreshed at most this often (ms).
    pub ha_tracker_update_timeout_ms: i64,
    /// Largest jitter (either way) added to the update timeout per process (ms), spreading
    /// the index writes of many ingest processes.
    pub ha_tracker_update_timeout_jitter_max_ms: i64,
    /// A replica not heard from for this long loses the election to the next one that writes (ms).
    pub ha_tracker_failover_timeout_ms: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_label_names_per_series: 30,
            max_label_name_length: 1024,
            max_label_value_length: 2048,
            max_sample_age_ms: None,
            creation_grace_period_ms: 10 * 60 * 1000,
            max_exemplar_labels_length: 128,
            accept_ha_samples: false,
            ha_cluster_label: "cluster".into(),
            ha_replica_label: "__replica__".into(),
            ha_max_clusters: 0,
            ha_tracker_update_timeout_ms: 15_000,
            ha_tracker_update_timeout_jitter_max_ms: 5_000,
            ha_tracker_failover_timeout_ms: 30_000,
        }
    }
}

impl Limits {
    /// Checks settings that only make sense together (Mimir's rules for the HA tracker).
    pub fn check(&self) -> Result<(), String> {
        if self.ha_tracker_update_timeout_jitter_max_ms < 0 {
            return Err("ha_tracker_update_timeout_jitter_max_ms must not be negative".into());
        }
        if self.ha_tracker_update_timeout_ms < 0 {
            return Err("ha_tracker_update_timeout_ms must not be negative".into());
        }
        let min_failover =
            self.ha_tracker_update_timeout_ms + self.ha_tracker_update_timeout_jitter_max_ms + 1000;
        if self.ha_tracker_failover_timeout_ms < min_failover {
            return Err(format!(
                "ha_tracker_failover_timeout_ms ({}) must be at least 1 s more than \
                 ha_tracker_update_timeout_ms + ha_tracker_update_timeout_jitter_max_ms ({min_failover})",
                self.ha_tracker_failover_timeout_ms
            ));
        }
        if self.accept_ha_samples
            && (self.ha_cluster_label.is_empty()
                || self.ha_replica_label.is_empty()
                || self.ha_cluster_label == self.ha_replica_label)
        {
            return Err("ha_cluster_label and ha_replica_label must be two different, non-empty label names".into());
        }
        Ok(())
    }
}

/// Why a series or sample was refused. Messages follow Mimir's wording.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// No `__name__` label.
    #[error("received a series without metric name, series: '{series}'")]
    MissingMetricName {
        /// The series.
        series: String,
    },
    /// Label name or value is not UTF-8.
    #[error(
        "received a series with a label name or value that is not valid UTF-8, series: '{series}'"
    )]
    InvalidUtf8 {
        /// The series (lossy).
        series: String,
    },
    /// Empty label name.
    #[error("received a series with an empty label name, series: '{series}'")]
    EmptyLabelName {
        /// The series.
        series: String,
    },
    /// Same label name twice.
    #[error("received a series with duplicate label name, label: '{label}' series: '{series}'")]
    DuplicateLabelName {
        /// The label.
        label: String,
        /// The series.
        series: String,
    },
    /// Labels not sorted by name.
    #[error(
        "received a series with labels not sorted by name, label: '{label}' series: '{series}'"
    )]
    UnsortedLabels {
        /// First label out of order.
        label: String,
        /// The series.
        series: String,
    },
    /// Too many labels.
    #[error(
        "received a series whose number of labels exceeds the limit (actual: {actual}, limit: {limit}) series: '{series}'"
    )]
    TooManyLabels {
        /// Labels in the series.
        actual: usize,
        /// The limit.
        limit: usize,
        /// The series.
        series: String,
    },
    /// Label name too long.
    #[error(
        "received a series whose label name length exceeds the limit, label: '{label}' series: '{series}'"
    )]
    LabelNameTooLong {
        /// The label.
        label: String,
        /// The series.
        series: String,
    },
    /// Label value too long.
    #[error(
        "received a series whose label value length exceeds the limit, value: '{value}' (truncated) actual length: {actual}, limit: {limit}, label name: '{label}' series: '{series}'"
    )]
    LabelValueTooLong {
        /// The first 64 characters of the value.
        value: String,
        /// Its length.
        actual: usize,
        /// The limit.
        limit: usize,
        /// The label.
        label: String,
        /// The series.
        series: String,
    },
    /// A sample more than the grace period in the future.
    #[error(
        "received a sample whose timestamp is too far in the future, timestamp: {timestamp} series: '{series}'"
    )]
    TooFarInFuture {
        /// The sample's timestamp (ms).
        timestamp: i64,
        /// The series.
        series: String,
    },
    /// A sample older than the tenant's age limit.
    #[error(
        "received a sample whose timestamp is too old, timestamp: {timestamp} series: '{series}'"
    )]
    TooOld {
        /// The sample's timestamp (ms).
        timestamp: i64,
        /// The series.
        series: String,
    },
    /// A different value at a timestamp that already holds one.
    #[error(
        "the sample has been rejected because another sample with the same timestamp, but a different value, has already been ingested, timestamp: {timestamp} series: '{series}'"
    )]
    DuplicateTimestamp {
        /// The sample's timestamp (ms).
        timestamp: i64,
        /// The series.
        series: String,
    },
    /// An exemplar with no labels or too long labels.
    #[error("received an exemplar with invalid labels, timestamp: {timestamp} series: '{series}'")]
    InvalidExemplar {
        /// The exemplar's timestamp.
        timestamp: i64,
        /// The series.
        series: String,
    },
}

/// Checks one series' labels. Labels must arrive sorted and unique; they are not re-sorted,
/// because a sender that does not sort has a bug worth reporting.
pub fn validate_labels(labels: &Labels, limits: &Limits) -> Result<(), ValidationError> {
    let series = || labels.to_string();
    if labels.get(METRIC_NAME).is_none_or(str::is_empty) {
        return Err(ValidationError::MissingMetricName { series: series() });
    }
    if labels.len() > limits.max_label_names_per_series {
        return Err(ValidationError::TooManyLabels {
            actual: labels.len(),
            limit: limits.max_label_names_per_series,
            series: series(),
        });
    }
    let mut previous: Option<&str> = None;
    for l in labels {
        if l.name.is_empty() {
            return Err(ValidationError::EmptyLabelName { series: series() });
        }
        if let Some(p) = previous {
            if p == l.name {
                return Err(ValidationError::DuplicateLabelName {
                    label: l.name.clone(),
                    series: series(),
                });
            }
            if p > l.name.as_str() {
                return Err(ValidationError::UnsortedLabels {
                    label: l.name.clone(),
                    series: series(),
                });
            }
        }
        previous = Some(&l.name);
        if l.name.len() > limits.max_label_name_length {
            return Err(ValidationError::LabelNameTooLong {
                label: l.name.clone(),
                series: series(),
            });
        }
        if l.value.len() > limits.max_label_value_length {
            return Err(ValidationError::LabelValueTooLong {
                value: l.value.chars().take(64).collect(),
                actual: l.value.len(),
                limit: limits.max_label_value_length,
                label: l.name.clone(),
                series: series(),
            });
        }
    }
    Ok(())
}

/// Checks a sample timestamp against the tenant's age window.
pub fn validate_timestamp(
    t: i64,
    now_ms: i64,
    limits: &Limits,
    labels: &Labels,
) -> Result<(), ValidationError> {
    if t > now_ms.saturating_add(limits.creation_grace_period_ms) {
        return Err(ValidationError::TooFarInFuture {
            timestamp: t,
            series: labels.to_string(),
        });
    }
    if let Some(age) = limits.max_sample_age_ms
        && t < now_ms.saturating_sub(age)
    {
        return Err(ValidationError::TooOld {
            timestamp: t,
            series: labels.to_string(),
        });
    }
    Ok(())
}

/// Validates a request in place: drops invalid series, samples, histograms and exemplars, and
/// returns the first error (which the sender gets with a 400), if any.
pub fn validate_request(
    req: &mut WriteRequest,
    now_ms: i64,
    limits: &Limits,
) -> Option<ValidationError> {
    let mut first: Option<ValidationError> = None;
    let mut note = |e: ValidationError| {
        if first.is_none() {
            first = Some(e);
        }
    };
    req.series
        .retain_mut(|s| match validate_series(s, now_ms, limits) {
            Ok(errors) => {
                errors.into_iter().for_each(&mut note);
                !(s.samples.is_empty() && s.histograms.is_empty() && s.exemplars.is_empty())
            }
            Err(e) => {
                note(e);
                false
            }
        });
    first
}

/// Validates one series: a label error rejects the whole series (`Err`); bad samples are
/// removed and their errors returned (`Ok`).
fn validate_series(
    s: &mut SeriesWrite,
    now_ms: i64,
    limits: &Limits,
) -> Result<Vec<ValidationError>, ValidationError> {
    validate_labels(&s.labels, limits)?;
    let mut errors = Vec::new();
    let labels = &s.labels;
    s.samples
        .retain(|x| keep(validate_timestamp(x.t, now_ms, limits, labels), &mut errors));
    s.histograms
        .retain(|h| keep(validate_timestamp(h.t, now_ms, limits, labels), &mut errors));
    s.exemplars.retain(|e| {
        let runes: usize = e
            .labels
            .iter()
            .map(|l| l.name.chars().count() + l.value.chars().count())
            .sum();
        let ok = if e.labels.is_empty() || runes > limits.max_exemplar_labels_length {
            Err(ValidationError::InvalidExemplar {
                timestamp: e.t,
                series: labels.to_string(),
            })
        } else {
            validate_timestamp(e.t, now_ms, limits, labels)
        };
        keep(ok, &mut errors)
    });
    Ok(errors)
}

fn keep(r: Result<(), ValidationError>, errors: &mut Vec<ValidationError>) -> bool {
    match r {
        Ok(()) => true,
        Err(e) => {
            errors.push(e);
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::Label;
    use crate::samples::Sample;

    fn series(pairs: &[(&str, &str)], ts: &[i64]) -> SeriesWrite {
        SeriesWrite {
            labels: Labels::from_sorted(pairs.iter().map(|(n, v)| Label::new(*n, *v)).collect()),
            samples: ts.iter().map(|t| Sample { t: *t, v: 1.0 }).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn keeps_valid_series_and_reports_first_error() {
        let now = 1_000_000_000;
        let mut req = WriteRequest {
            series: vec![
                series(&[("__name__", "ok"), ("a", "1")], &[now]),
                series(&[("__name__", "bad"), ("b", "1"), ("a", "1")], &[now]),
                series(&[("a", "1")], &[now]),
                series(&[("__name__", "future")], &[now, now + 11 * 60 * 1000]),
            ],
            metadata: vec![],
        };
        let err = validate_request(&mut req, now, &Limits::default());
        assert!(
            matches!(err, Some(ValidationError::UnsortedLabels { .. })),
            "{err:?}"
        );
        assert_eq!(req.series.len(), 2);
        assert_eq!(
            req.series[1].samples.len(),
            1,
            "the future sample is dropped, the rest kept"
        );
    }

    #[test]
    fn label_rules() {
        let l = Limits {
            max_label_names_per_series: 2,
            ..Default::default()
        };
        let too_many = Labels::from_pairs([("__name__", "x"), ("a", "1"), ("b", "2")]);
        assert!(matches!(
            validate_labels(&too_many, &l),
            Err(ValidationError::TooManyLabels { .. })
        ));
        let dup = Labels::from_sorted(vec![
            Label::new("__name__", "x"),
            Label::new("a", "1"),
            Label::new("a", "2"),
        ]);
        assert!(matches!(
            validate_labels(&dup, &Limits::default()),
            Err(ValidationError::DuplicateLabelName { .. })
        ));
        let utf8 = Labels::from_pairs([("__name__", "http.requests"), ("zone.é", "1")]);
        assert_eq!(validate_labels(&utf8, &Limits::default()), Ok(()));
        let empty_name = Labels::from_pairs([("__name__", "")]);
        assert!(matches!(
            validate_labels(&empty_name, &Limits::default()),
            Err(ValidationError::MissingMetricName { .. })
        ));
    }

    #[test]
    fn ha_settings_are_checked() {
        assert_eq!(Limits::default().check(), Ok(()));
        let short = Limits {
            ha_tracker_failover_timeout_ms: 2000,
            ..Default::default()
        };
        assert!(
            short.check().is_err(),
            "failover below update + jitter + 1 s"
        );
        let quick = Limits {
            ha_tracker_update_timeout_ms: 1000,
            ha_tracker_update_timeout_jitter_max_ms: 0,
            ha_tracker_failover_timeout_ms: 2000,
            ..Default::default()
        };
        assert_eq!(quick.check(), Ok(()));
        let same = Limits {
            accept_ha_samples: true,
            ha_replica_label: "cluster".into(),
            ..Default::default()
        };
        assert!(same.check().is_err());
    }

    #[test]
    fn age_limit_is_opt_in() {
        let now = 10_000_000_000;
        let labels = Labels::from_pairs([("__name__", "x")]);
        assert!(validate_timestamp(0, now, &Limits::default(), &labels).is_ok());
        let bounded = Limits {
            max_sample_age_ms: Some(1000),
            ..Default::default()
        };
        assert!(matches!(
            validate_timestamp(0, now, &bounded, &labels),
            Err(ValidationError::TooOld { .. })
        ));
    }
}
