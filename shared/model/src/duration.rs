//! Prometheus duration syntax (`1m`, `5m30s`, `1h`, `0`, `1d`, `1w`, `1y`, `1ms`), as accepted by
//! `model.ParseDuration` in prometheus/common: units in the fixed order y, w, d, h, m, s, ms, each
//! at most once, no sign, no fractions; a bare `0` is allowed without a unit. A year is 365 days.

/// Milliseconds per unit, in the only order the units may appear.
const UNITS: [(&str, i64); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Parses a Prometheus duration into milliseconds.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err("empty duration string".to_string());
    }
    let bad = || format!("not a valid duration string: {s:?}");
    let bytes = s.as_bytes();
    let mut pos = 0;
    let mut next_unit = 0; // index into UNITS of the first unit still allowed
    let mut total: i64 = 0;
    while pos < bytes.len() {
        let digits_start = pos;
        while pos < bytes.len() && bytes[pos].is_ascii_digit() {
            pos += 1;
        }
        if pos == digits_start {
            return Err(bad());
        }
        let n: i64 = s[digits_start..pos].parse().map_err(|_| bad())?;
        // "ms" must be tried before "m".
        let unit = if s[pos..].starts_with("ms") {
            "ms"
        } else {
            s.get(pos..pos + 1).ok_or_else(bad)?
        };
        let idx = UNITS[next_unit..]
            .iter()
            .position(|(u, _)| *u == unit)
            .map(|i| i + next_unit)
            .ok_or_else(bad)?;
        let ms = n
            .checked_mul(UNITS[idx].1)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(|| format!("duration out of range: {s:?}"))?;
        total = ms;
        next_unit = idx + 1;
        pos += unit.len();
    }
    Ok(total)
}

/// Prints milliseconds as Prometheus's `model.Duration.String()` does: `0s`, `1m30s`, `1d`,
/// `2w`, `1y`, `1ms` (largest units first, zero units left out).
pub fn format_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    let mut rest = ms;
    if rest < 0 {
        out.push('-');
        rest = rest.saturating_neg();
    }
    for (unit, size) in UNITS {
        let n = rest / size;
        if n > 0 {
            out.push_str(&n.to_string());
            out.push_str(unit);
            rest -= n * size;
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{format_duration, parse_duration};

    #[test]
    fn formats_as_prometheus() {
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(90_000), "1m30s");
        assert_eq!(format_duration(86_400_000), "1d");
        assert_eq!(format_duration(1_209_600_000), "2w");
        assert_eq!(format_duration(31_536_000_000 + 1), "1y1ms");
        assert_eq!(format_duration(15_000), "15s");
        for s in ["5m", "1h30m", "2d3h", "1w1d"] {
            assert_eq!(format_duration(parse_duration(s).unwrap()), s);
        }
    }

    #[test]
    fn accepts_prometheus_durations() {
        assert_eq!(parse_duration("0").unwrap(), 0);
        assert_eq!(parse_duration("0s").unwrap(), 0);
        assert_eq!(parse_duration("1ms").unwrap(), 1);
        assert_eq!(parse_duration("10s").unwrap(), 10_000);
        assert_eq!(parse_duration("1m").unwrap(), 60_000);
        assert_eq!(parse_duration("5m30s").unwrap(), 330_000);
        assert_eq!(parse_duration("1h").unwrap(), 3_600_000);
        assert_eq!(parse_duration("1d").unwrap(), 86_400_000);
        assert_eq!(parse_duration("1w").unwrap(), 604_800_000);
        assert_eq!(parse_duration("1y").unwrap(), 31_536_000_000);
        assert_eq!(parse_duration("1h1m1s1ms").unwrap(), 3_661_001);
    }

    #[test]
    fn rejects_malformed_durations() {
        for bad in [
            "", "1", "m", "1m1h", "1s1s", "-1m", "1.5m", "1 m", "1M", "1msx", "1x",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(parse_duration("9999999999999y").is_err());
    }
}
