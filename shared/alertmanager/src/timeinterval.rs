//! `time_intervals` entries (as in Alertmanager's `timeinterval` package): times of day,
//! weekdays, days of the month (negative counts from the month's end), months, years and a
//! location, and whether an instant falls inside them.
//!
//! `location` is `UTC` (also the empty string), `Local`, or any zone of the IANA database,
//! which `chrono-tz` compiles in (so a Lambda without `/usr/share/zoneinfo` has it too);
//! an unknown name is a configuration error, as Go's `time.LoadLocation` makes it.

use std::fmt;

use chrono::{DateTime, Datelike, FixedOffset, Local, NaiveDate, Timelike, Utc};
use serde::Deserialize;

use crate::config::de;

/// One entry of a named time interval's `time_intervals` list. Each present field restricts
/// the instants it contains; an absent field does not restrict.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawTimeInterval")]
pub struct TimeInterval {
    /// Times of day, `[start, end)` in minutes since midnight.
    pub times: Option<Vec<TimeRange>>,
    /// Weekdays, 0 = Sunday .. 6 = Saturday, inclusive ranges.
    pub weekdays: Option<Vec<InclusiveRange>>,
    /// Days of the month (1..=31, or -31..=-1 counting from the end), inclusive ranges.
    pub days_of_month: Option<Vec<InclusiveRange>>,
    /// Months, 1 = January, inclusive ranges.
    pub months: Option<Vec<InclusiveRange>>,
    /// Years, inclusive ranges.
    pub years: Option<Vec<InclusiveRange>>,
    /// The zone the other fields are evaluated in (UTC when absent).
    pub location: Option<Location>,
}

/// A time-of-day range in minutes since midnight, end exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeRange {
    /// First minute inside the range.
    pub start_minute: u32,
    /// First minute after the range (up to 1440).
    pub end_minute: u32,
}

/// An inclusive range of integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InclusiveRange {
    /// First value.
    pub begin: i32,
    /// Last value.
    pub end: i32,
}

/// A time zone for a [`TimeInterval`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// UTC.
    Utc,
    /// The process's local zone.
    Local,
    /// A fixed offset east of UTC, in seconds, with the name it was configured by.
    Fixed {
        /// The configured name (`Etc/GMT-2`).
        name: String,
        /// Seconds east of UTC.
        offset_seconds: i32,
    },
    /// A zone of the IANA database (`Europe/Berlin`), daylight saving time included.
    Named(chrono_tz::Tz),
}

impl Location {
    /// Resolves a location name as Go's `time.LoadLocation` would, within the supported set.
    pub fn parse(name: &str) -> Result<Location, String> {
        match name {
            "" | "UTC" | "Etc/UTC" | "Etc/GMT" | "Etc/Zulu" | "Zulu" | "GMT" | "Etc/UCT"
            | "UCT" | "Universal" | "Etc/Universal" | "Etc/GMT0" | "Etc/GMT+0" | "Etc/GMT-0"
            | "GMT0" => return Ok(Location::Utc),
            "Local" => return Ok(Location::Local),
            _ => {}
        }
        if let Some(rest) = name.strip_prefix("Etc/GMT") {
            // POSIX-style sign: Etc/GMT+5 is five hours *west* of UTC.
            let (sign, digits) = match rest.as_bytes().first() {
                Some(b'+') => (-1, &rest[1..]),
                Some(b'-') => (1, &rest[1..]),
                _ => (0, ""),
            };
            if sign != 0
                && let Ok(h) = digits.parse::<i32>()
                && !digits.starts_with('0')
                && (1..=14).contains(&h)
                && (sign == 1 || h <= 12)
            {
                return Ok(Location::Fixed {
                    name: name.to_string(),
                    offset_seconds: sign * h * 3600,
                });
            }
        }
        name.parse::<chrono_tz::Tz>()
            .map(Location::Named)
            .map_err(|_| format!("unknown time zone {name}"))
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Utc => f.write_str("UTC"),
            Location::Local => f.write_str("Local"),
            Location::Fixed { name, .. } => f.write_str(name),
            Location::Named(tz) => f.write_str(tz.name()),
        }
    }
}

/// The calendar fields of an instant in some zone.
struct Civil {
    minute_of_day: u32,
    day: u32,
    month: u32,
    weekday: u32,
    year: i32,
    days_in_month: u32,
}

fn civil<T: Datelike + Timelike>(t: &T) -> Civil {
    let (y, m) = (t.year(), t.month());
    let first = NaiveDate::from_ymd_opt(y, m, 1);
    let next = if m == 12 {
        NaiveDate::from_ymd_opt(y + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(y, m + 1, 1)
    };
    let days_in_month = match (first, next) {
        (Some(a), Some(b)) => u32::try_from((b - a).num_days()).unwrap_or(31),
        _ => 31,
    };
    Civil {
        minute_of_day: t.hour() * 60 + t.minute(),
        day: t.day(),
        month: m,
        weekday: t.weekday().num_days_from_sunday(),
        year: y,
        days_in_month,
    }
}

impl TimeInterval {
    /// Whether `t` falls inside this interval (all present fields must contain it).
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        let c = match &self.location {
            None | Some(Location::Utc) => civil(&t),
            Some(Location::Local) => civil(&t.with_timezone(&Local)),
            Some(Location::Fixed { offset_seconds, .. }) => {
                match FixedOffset::east_opt(*offset_seconds) {
                    Some(off) => civil(&t.with_timezone(&off)),
                    None => civil(&t),
                }
            }
            Some(Location::Named(tz)) => civil(&t.with_timezone(tz)),
        };
        if let Some(times) = &self.times
            && !times
                .iter()
                .any(|r| c.minute_of_day >= r.start_minute && c.minute_of_day < r.end_minute)
        {
            return false;
        }
        if let Some(days) = &self.days_of_month {
            let dim = c.days_in_month as i32;
            let day = c.day as i32;
            let hit = days.iter().any(|r| {
                let begin = if r.begin < 0 {
                    dim + r.begin + 1
                } else {
                    r.begin
                };
                let end = if r.end < 0 { dim + r.end + 1 } else { r.end };
                if begin > dim {
                    return false;
                }
                let begin = begin.clamp(-dim, dim);
                let end = end.clamp(-dim, dim);
                day >= begin && day <= end
            });
            if !hit {
                return false;
            }
        }
        let in_ranges = |ranges: &Option<Vec<InclusiveRange>>, v: i32| match ranges {
            None => true,
            Some(rs) => rs.iter().any(|r| v >= r.begin && v <= r.end),
        };
        in_ranges(&self.months, c.month as i32)
            && in_ranges(&self.weekdays, c.weekday as i32)
            && in_ranges(&self.years, c.year)
    }
}

/// Whether any of `intervals` contains `t`.
pub fn any_contains(intervals: &[TimeInterval], t: DateTime<Utc>) -> bool {
    intervals.iter().any(|i| i.contains(t))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTimeRange {
    #[serde(default, deserialize_with = "de::string")]
    start_time: String,
    #[serde(default, deserialize_with = "de::string")]
    end_time: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTimeInterval {
    #[serde(default)]
    times: Option<Vec<RawTimeRange>>,
    #[serde(default, deserialize_with = "de::opt_string_list")]
    weekdays: Option<Vec<String>>,
    #[serde(default, deserialize_with = "de::opt_string_list")]
    days_of_month: Option<Vec<String>>,
    #[serde(default, deserialize_with = "de::opt_string_list")]
    months: Option<Vec<String>>,
    #[serde(default, deserialize_with = "de::opt_string_list")]
    years: Option<Vec<String>>,
    #[serde(default, deserialize_with = "de::opt_string")]
    location: Option<String>,
}

impl TryFrom<RawTimeInterval> for TimeInterval {
    type Error = String;

    fn try_from(raw: RawTimeInterval) -> Result<Self, String> {
        fn each<T>(
            v: Option<Vec<String>>,
            f: impl Fn(&str) -> Result<T, String>,
        ) -> Result<Option<Vec<T>>, String> {
            v.map(|items| items.iter().map(|s| f(s)).collect())
                .transpose()
        }
        Ok(TimeInterval {
            times: raw
                .times
                .map(|ts| ts.iter().map(parse_time_range).collect())
                .transpose()?,
            weekdays: each(raw.weekdays, parse_weekday_range)?,
            days_of_month: each(raw.days_of_month, parse_day_of_month_range)?,
            months: each(raw.months, parse_month_range)?,
            years: each(raw.years, parse_year_range)?,
            location: raw.location.map(|l| Location::parse(&l)).transpose()?,
        })
    }
}

fn parse_time_range(r: &RawTimeRange) -> Result<TimeRange, String> {
    if r.start_time.is_empty() || r.end_time.is_empty() {
        return Err("both start and end times must be provided".to_string());
    }
    let start = parse_time(&r.start_time)?;
    let end = parse_time(&r.end_time)?;
    if start >= end {
        return Err("start time cannot be equal or greater than end time".to_string());
    }
    Ok(TimeRange {
        start_minute: start,
        end_minute: end,
    })
}

/// `HH:MM` from `00:00` to `23:59`, or `24:00`.
fn parse_time(s: &str) -> Result<u32, String> {
    let bad = || format!("couldn't parse timestamp {s}, invalid format");
    if s == "24:00" {
        return Ok(24 * 60);
    }
    let b = s.as_bytes();
    if b.len() != 5
        || b[2] != b':'
        || !b
            .iter()
            .enumerate()
            .all(|(i, c)| i == 2 || c.is_ascii_digit())
    {
        return Err(bad());
    }
    let h = u32::from(b[0] - b'0') * 10 + u32::from(b[1] - b'0');
    let m = u32::from(b[3] - b'0') * 10 + u32::from(b[4] - b'0');
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn atoi(s: &str) -> Result<i32, String> {
    s.parse::<i32>()
        .map_err(|_| format!("strconv.Atoi: parsing {s:?}: invalid syntax"))
}

/// Splits `a:b` (or a single value) after lower-casing, mapping each side with `member`.
fn split_range(
    input: &str,
    member: impl Fn(&str) -> Result<i32, String>,
) -> Result<InclusiveRange, String> {
    let lower = input.to_lowercase();
    if lower.contains(':') {
        let parts: Vec<&str> = lower.split(':').collect();
        if parts.len() != 2 {
            return Err(format!("couldn't parse range {lower}, invalid format"));
        }
        Ok(InclusiveRange {
            begin: member(parts[0])?,
            end: member(parts[1])?,
        })
    } else {
        let v = member(&lower)?;
        Ok(InclusiveRange { begin: v, end: v })
    }
}

const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn parse_weekday_range(s: &str) -> Result<InclusiveRange, String> {
    let r = split_range(s, |d| {
        WEEKDAYS
            .iter()
            .position(|w| *w == d)
            .map(|i| i as i32)
            .ok_or_else(|| format!("{d} is not a valid weekday"))
    })?;
    if r.begin > r.end {
        return Err("start day cannot be before end day".to_string());
    }
    Ok(r)
}

fn parse_day_of_month_range(s: &str) -> Result<InclusiveRange, String> {
    let r = split_range(s, atoi)?;
    for v in [r.begin, r.end] {
        if v == 0 || !(-31..=31).contains(&v) {
            return Err(format!("{v} is not a valid day of the month: out of range"));
        }
    }
    if r.begin < 0 && r.end > 0 {
        return Err("end day must be negative if start day is negative".to_string());
    }
    let check_begin = if r.begin < 0 { 28 + r.begin } else { r.begin };
    let check_end = if r.end < 0 { 28 + r.end } else { r.end };
    if check_begin > check_end {
        return Err(format!(
            "end day {} is always before start day {}",
            r.end, r.begin
        ));
    }
    Ok(r)
}

fn parse_month_range(s: &str) -> Result<InclusiveRange, String> {
    let r = split_range(s, |m| match MONTHS.iter().position(|n| *n == m) {
        Some(i) => Ok(i as i32 + 1),
        None => m
            .parse::<i32>()
            .map_err(|_| format!("{m} is not a valid month")),
    })?;
    if r.begin > r.end {
        let name = |n: i32| {
            usize::try_from(n - 1)
                .ok()
                .and_then(|i| MONTHS.get(i))
                .copied()
                .unwrap_or("")
        };
        return Err(format!(
            "end month {} is before start month {}",
            name(r.end),
            name(r.begin)
        ));
    }
    Ok(r)
}

fn parse_year_range(s: &str) -> Result<InclusiveRange, String> {
    let r = split_range(s, atoi)?;
    if r.begin > r.end {
        return Err(format!(
            "end year {} is before start year {}",
            r.end, r.begin
        ));
    }
    Ok(r)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ti(yaml: &str) -> Result<TimeInterval, String> {
        serde_yaml_ng::from_str::<TimeInterval>(yaml).map_err(|e| e.to_string())
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn bad_inputs() {
        let cases = [
            (
                "weekdays: ['friday:monday']",
                "start day cannot be before end day",
            ),
            (
                "weekdays: ['blurgsday:flurgsday']",
                "blurgsday is not a valid weekday",
            ),
            (
                "days_of_month: ['10:5']",
                "end day 5 is always before start day 10",
            ),
            (
                "days_of_month: ['-1:-5']",
                "end day -5 is always before start day -1",
            ),
            ("days_of_month: ['1:-5']", ""), // allowed
            (
                "days_of_month: ['-5:1']",
                "end day must be negative if start day is negative",
            ),
            (
                "days_of_month: ['0']",
                "0 is not a valid day of the month: out of range",
            ),
            (
                "days_of_month: ['32']",
                "32 is not a valid day of the month: out of range",
            ),
            (
                "months: ['december:january']",
                "end month january is before start month december",
            ),
            ("months: ['nonuary']", "nonuary is not a valid month"),
            (
                "years: ['2020:2019']",
                "end year 2019 is before start year 2020",
            ),
            (
                "times: [{start_time: '01:00', end_time: '00:00'}]",
                "start time cannot be equal or greater than end time",
            ),
            (
                "times: [{start_time: '01:00', end_time: '01:00'}]",
                "start time cannot be equal or greater than end time",
            ),
            (
                "times: [{start_time: '25:00', end_time: '26:00'}]",
                "couldn't parse timestamp 25:00, invalid format",
            ),
            (
                "times: [{start_time: '1:00', end_time: '2:00'}]",
                "couldn't parse timestamp 1:00, invalid format",
            ),
            (
                "times: [{start_time: '01:00'}]",
                "both start and end times must be provided",
            ),
            (
                "times: [{start_time: '01:00', end_time: '02:00', x: 1}]",
                "unknown field",
            ),
            ("location: 'Mars/Olympus'", "unknown time zone Mars/Olympus"),
            (
                "weekdays: ['monday:tuesday:wednesday']",
                "couldn't parse range",
            ),
        ];
        for (input, want) in cases {
            let got = ti(input);
            if want.is_empty() {
                assert!(got.is_ok(), "{input}: {got:?}");
            } else {
                let err = got.unwrap_err();
                assert!(err.contains(want), "{input}: {err}");
            }
        }
    }

    #[test]
    fn parses_numbers_and_names() {
        let t = ti(
            "times:\n  - start_time: '09:00'\n    end_time: '24:00'\nweekdays: ['Monday:friday', 'sunday']\ndays_of_month: [1, '-3:-1']\nmonths: ['1:march', 12]\nyears: [2020, '2022:2025']\nlocation: UTC\n",
        )
        .unwrap();
        assert_eq!(
            t.times,
            Some(vec![TimeRange {
                start_minute: 540,
                end_minute: 1440
            }])
        );
        assert_eq!(
            t.weekdays,
            Some(vec![
                InclusiveRange { begin: 1, end: 5 },
                InclusiveRange { begin: 0, end: 0 }
            ])
        );
        assert_eq!(
            t.days_of_month,
            Some(vec![
                InclusiveRange { begin: 1, end: 1 },
                InclusiveRange { begin: -3, end: -1 }
            ])
        );
        assert_eq!(
            t.months,
            Some(vec![
                InclusiveRange { begin: 1, end: 3 },
                InclusiveRange { begin: 12, end: 12 }
            ])
        );
        assert_eq!(t.location, Some(Location::Utc));
    }

    #[test]
    fn contains_cases() {
        // Ported from Alertmanager's timeinterval_test.go (validTimeRanges / "contains" cases).
        let cases: &[(&str, &[(&str, bool)])] = &[
            (
                "times: [{start_time: '00:00', end_time: '24:00'}]",
                &[
                    ("2021-01-01T00:00:00Z", true),
                    ("2021-01-01T23:59:59Z", true),
                ],
            ),
            (
                "times: [{start_time: '06:00', end_time: '08:00'}]",
                &[
                    ("2021-01-01T05:59:59Z", false),
                    ("2021-01-01T06:00:00Z", true),
                    ("2021-01-01T07:59:59Z", true),
                    ("2021-01-01T08:00:00Z", false),
                ],
            ),
            (
                // 2021-01-04 is a Monday.
                "weekdays: ['monday:wednesday']",
                &[
                    ("2021-01-03T12:00:00Z", false),
                    ("2021-01-04T00:00:00Z", true),
                    ("2021-01-06T23:59:59Z", true),
                    ("2021-01-07T00:00:00Z", false),
                ],
            ),
            (
                "days_of_month: ['-3:-1']",
                &[
                    ("2021-02-25T00:00:00Z", false),
                    ("2021-02-26T00:00:00Z", true),
                    ("2021-02-28T23:00:00Z", true),
                    ("2021-01-29T00:00:00Z", true),
                    ("2021-01-28T00:00:00Z", false),
                ],
            ),
            (
                "days_of_month: ['1:-1']",
                &[
                    ("2021-02-28T00:00:00Z", true),
                    ("2021-03-01T00:00:00Z", true),
                ],
            ),
            (
                // Begin beyond the month's last day: never contained that month.
                "days_of_month: ['30:31']",
                &[
                    ("2021-02-28T00:00:00Z", false),
                    ("2021-03-31T00:00:00Z", true),
                ],
            ),
            (
                "days_of_month: ['-30']",
                &[
                    ("2021-02-01T00:00:00Z", false),
                    ("2021-01-02T00:00:00Z", true),
                ],
            ),
            (
                "months: ['february:march']",
                &[
                    ("2021-01-31T23:59:59Z", false),
                    ("2021-02-01T00:00:00Z", true),
                    ("2021-03-31T00:00:00Z", true),
                    ("2021-04-01T00:00:00Z", false),
                ],
            ),
            (
                "years: ['2020:2021']",
                &[
                    ("2019-12-31T23:59:59Z", false),
                    ("2021-06-01T00:00:00Z", true),
                ],
            ),
            ("times: []", &[("2021-01-01T00:00:00Z", false)]),
            ("{}", &[("2021-01-01T00:00:00Z", true)]),
            (
                // 22:00 UTC is 00:00 in Etc/GMT-2 (UTC+2) on the next day.
                "times: [{start_time: '00:00', end_time: '01:00'}]\ndays_of_month: [2]\nlocation: Etc/GMT-2",
                &[
                    ("2021-01-01T22:30:00Z", true),
                    ("2021-01-02T22:30:00Z", false),
                ],
            ),
            (
                // Business hours in New York: 09:00 is 14:00 UTC in winter, 13:00 UTC in summer.
                "times: [{start_time: '09:00', end_time: '17:00'}]\nlocation: America/New_York",
                &[
                    ("2024-01-15T13:30:00Z", false),
                    ("2024-01-15T14:30:00Z", true),
                    ("2024-07-15T13:30:00Z", true),
                    ("2024-07-15T21:30:00Z", false),
                ],
            ),
        ];
        for (yaml, checks) in cases {
            let t = ti(yaml).unwrap();
            for (when, want) in *checks {
                assert_eq!(t.contains(at(when)), *want, "{yaml} at {when}");
            }
        }
        let t = ti("weekdays: [saturday, sunday]").unwrap();
        assert!(t.contains(Utc.with_ymd_and_hms(2024, 6, 1, 12, 0, 0).unwrap()));
        assert!(!t.contains(Utc.with_ymd_and_hms(2024, 6, 3, 12, 0, 0).unwrap()));
    }
}
