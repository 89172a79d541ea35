//! Prometheus API time parameters: Unix seconds (with fraction) or RFC 3339.

/// Prometheus' minimum time (`0001-01-01`), in ms.
pub(crate) const MIN_TIME_MS: i64 = -62_135_596_800_000;
/// Prometheus' maximum time (`9999-12-31T23:59:59Z`), in ms.
pub(crate) const MAX_TIME_MS: i64 = 253_402_300_799_000;

/// Parses a time parameter into milliseconds.
pub(crate) fn parse_time(s: &str) -> Result<i64, String> {
    if let Ok(secs) = s.parse::<f64>()
        && secs.is_finite()
    {
        return Ok((secs * 1000.0).round() as i64);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.timestamp_millis())
        .map_err(|_| format!("cannot parse {s:?} to a valid timestamp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_forms() {
        assert_eq!(parse_time("1.5"), Ok(1500));
        assert_eq!(
            parse_time("2015-07-01T20:10:51.781Z"),
            Ok(1_435_781_451_781)
        );
        assert!(parse_time("yesterday").is_err());
    }
}
