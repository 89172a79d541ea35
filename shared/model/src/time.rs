//! Day partitions: data files are keyed by the UTC day of their samples.

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// A UTC day, as days since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i64);

impl Day {
    /// The day holding timestamp `t_ms`.
    pub fn of_ms(t_ms: i64) -> Self {
        Self(t_ms.div_euclid(DAY_MS))
    }

    /// First millisecond of the day.
    pub fn start_ms(self) -> i64 {
        self.0 * DAY_MS
    }

    /// Last millisecond of the day.
    pub fn end_ms(self) -> i64 {
        self.start_ms() + DAY_MS - 1
    }

    /// Every day overlapping `[start_ms, end_ms]`.
    pub fn range(start_ms: i64, end_ms: i64) -> impl Iterator<Item = Day> {
        let (a, b) = (Day::of_ms(start_ms).0, Day::of_ms(end_ms).0);
        (a..=b).map(Day)
    }

    /// `yyyy-mm-dd`.
    pub fn iso(self) -> String {
        let (y, m, d) = civil_from_days(self.0);
        format!("{y:04}-{m:02}-{d:02}")
    }

    /// Parses `yyyy-mm-dd`.
    pub fn parse_iso(s: &str) -> Option<Self> {
        let mut it = s.splitn(3, '-');
        let y: i64 = it.next()?.parse().ok()?;
        let m: u32 = it.next()?.parse().ok()?;
        let d: u32 = it.next()?.parse().ok()?;
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
            return None;
        }
        Some(Self(days_from_civil(y, m, d)))
    }
}

// Howard Hinnant's civil calendar algorithms.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_round_trips() {
        assert_eq!(Day(0).iso(), "1970-01-01");
        assert_eq!(Day::of_ms(1_700_000_000_000).iso(), "2023-11-14");
        assert_eq!(Day::of_ms(-1).iso(), "1969-12-31");
        for d in [-1, 0, 1, 19_000, 20_000, 2_932_896] {
            assert_eq!(Day::parse_iso(&Day(d).iso()), Some(Day(d)));
        }
        assert_eq!(Day::range(0, DAY_MS).count(), 2);
    }
}
