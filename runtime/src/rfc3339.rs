//! RFC 3339 times (`2026-12-03T17:50:06.5Z`, `…+01:00`) to and from
//! [`SystemTime`]: the expiry and issue times of stored credentials and the
//! `expireTime` of IAM Credentials and STS answers.
//!
//! Written here rather than taken from the `time` crate, which with its
//! `deranged` dependency was ~2.7 s of CPU of a first build (bench/NOTES.md,
//! First build) for two functions; `time` stays an optional dependency for
//! the conversions of [`DateTime`](crate::types::DateTime).
//!
//! Civil dates are converted with Howard Hinnant's `days_from_civil` and
//! `civil_from_days` algorithms (proleptic Gregorian calendar).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds in a day.
const DAY: i64 = 86_400;

/// Days from 1970-01-01 to `y-m-d`.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `(year, month, day)` of a day counted from 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

/// Whether `y-m-d` is a day of the calendar.
pub(crate) fn is_date(y: i64, m: i64, d: i64) -> bool {
    (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses an RFC 3339 date-time; the error says what is wrong.
///
/// A leap second (`:60`) is read as the last instant of its minute's
/// second 59, as most systems do.
pub(crate) fn parse(s: &str) -> Result<SystemTime, &'static str> {
    let b = s.as_bytes();
    let digits = |from: usize, n: usize| -> Result<i64, &'static str> {
        let part = b.get(from..from + n).ok_or("it ends too early")?;
        if !part.iter().all(u8::is_ascii_digit) {
            return Err("a digit is missing");
        }
        Ok(part.iter().fold(0, |v, d| v * 10 + i64::from(d - b'0')))
    };
    let sep = |at: usize, allowed: &[u8]| -> Result<(), &'static str> {
        match b.get(at) {
            Some(c) if allowed.contains(c) => Ok(()),
            _ => Err("a separator is missing (YYYY-MM-DDTHH:MM:SS and an offset)"),
        }
    };
    let year = digits(0, 4)?;
    sep(4, b"-")?;
    let month = digits(5, 2)?;
    sep(7, b"-")?;
    let day = digits(8, 2)?;
    sep(10, b"Tt ")?;
    let hour = digits(11, 2)?;
    sep(13, b":")?;
    let minute = digits(14, 2)?;
    sep(16, b":")?;
    let second = digits(17, 2)?;
    if !is_date(year, month, day) {
        return Err("the date does not exist");
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err("the time of day is out of range");
    }
    let mut at = 19;
    let mut nanos: u32 = 0;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            // Digits past the ninth are below a nanosecond: read, dropped.
            if at - start < 9 {
                nanos = nanos * 10 + u32::from(b[at] - b'0');
            }
            at += 1;
        }
        if at == start {
            return Err("the fraction of a second has no digits");
        }
        nanos *= 10u32.pow(9u32.saturating_sub((at - start) as u32));
    }
    let offset = match b.get(at) {
        Some(b'Z' | b'z') if at + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if at + 6 == b.len() => {
            let (h, m) = (digits(at + 1, 2)?, digits(at + 4, 2)?);
            sep(at + 3, b":")?;
            if h > 23 || m > 59 {
                return Err("the offset is out of range");
            }
            let o = h * 3600 + m * 60;
            if *sign == b'-' { -o } else { o }
        }
        _ => return Err("the offset is missing or malformed (Z or ±HH:MM)"),
    };
    let (second, nanos) = if second == 60 {
        (59, 999_999_999)
    } else {
        (second, nanos)
    };
    let secs =
        days_from_civil(year, month, day) * DAY + hour * 3600 + minute * 60 + second - offset;
    Ok(from_unix(secs, nanos))
}

/// The instant `secs` seconds (negative: before) and `nanos` nanoseconds
/// after 1970-01-01T00:00:00Z.
fn from_unix(secs: i64, nanos: u32) -> SystemTime {
    match u64::try_from(secs) {
        Ok(s) => UNIX_EPOCH + Duration::new(s, nanos),
        // Before 1970: step back the whole seconds, then forward the fraction.
        Err(_) => {
            UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
                + Duration::from_nanos(nanos.into())
        }
    }
}

/// Formats `t` in UTC (`2026-12-03T17:50:06Z`), with the fraction of a
/// second when there is one (`…06.5Z`, up to nine digits).
pub(crate) fn format(t: SystemTime) -> String {
    let (secs, nanos) = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2),
            d.subsec_nanos(),
        ),
        Err(e) => {
            let d = e.duration();
            let whole = i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2);
            match d.subsec_nanos() {
                0 => (-whole, 0),
                n => (-whole - 1, 1_000_000_000 - n),
            }
        }
    };
    let (days, rem) = (secs.div_euclid(DAY), secs.rem_euclid(DAY));
    let (y, m, d) = civil_from_days(days);
    let mut out = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        for (s, secs, nanos) in [
            ("1970-01-01T00:00:00Z", 0, 0),
            ("2026-12-03T17:50:06Z", 1_796_320_206, 0),
            ("2026-12-03T17:50:06.5Z", 1_796_320_206, 500_000_000),
            ("2000-02-29T23:59:59.123456789Z", 951_868_799, 123_456_789),
            ("1969-12-31T23:59:59.25Z", -1, 250_000_000),
            ("1900-01-01T00:00:00Z", -2_208_988_800, 0),
        ] {
            assert_eq!(parse(s), Ok(from_unix(secs, nanos)), "{s}");
            assert_eq!(format(from_unix(secs, nanos)), s);
        }
    }

    #[test]
    fn offsets_fractions_and_leap_seconds() {
        let utc = parse("2026-12-03T17:50:06Z").unwrap();
        assert_eq!(parse("2026-12-03T18:50:06+01:00"), Ok(utc));
        assert_eq!(parse("2026-12-03T12:20:06-05:30"), Ok(utc));
        assert_eq!(parse("2026-12-03t17:50:06z"), Ok(utc));
        assert_eq!(parse("2026-12-03 17:50:06Z"), Ok(utc));
        assert_eq!(
            parse("2026-12-03T17:50:06.1234567891234Z"),
            Ok(utc + Duration::from_nanos(123_456_789))
        );
        assert_eq!(
            parse("2016-12-31T23:59:60Z"),
            Ok(parse("2016-12-31T23:59:59.999999999Z").unwrap())
        );
    }

    #[test]
    fn malformed_times_say_what_is_wrong() {
        for (s, why) in [
            ("", "early"),
            ("2026-12-03", "separator"),
            ("2026-12-03T17:5", "early"),
            ("2026-12-03T17:50:06", "offset"),
            ("2026-12-03T17:50:06+0100", "offset"),
            ("2026-12-03T17:50:06Zjunk", "offset"),
            ("2026-02-30T00:00:00Z", "does not exist"),
            ("2025-02-29T00:00:00Z", "does not exist"),
            ("2026-13-01T00:00:00Z", "does not exist"),
            ("2026-12-03T24:00:00Z", "out of range"),
            ("2026-12-03T17:50:06.Z", "no digits"),
            ("2026-12-03T17:50:06+24:00", "out of range"),
            ("2026/12/03T17:50:06Z", "separator"),
            ("2026-1a-03T17:50:06Z", "digit"),
            ("２026-12-03T17:50:06Z", "digit"),
        ] {
            let e = parse(s).unwrap_err();
            assert!(e.contains(why), "{s:?}: {e}");
        }
    }

    #[test]
    fn every_day_of_four_centuries_round_trips() {
        // 1900-01-01 to 2299-12-31, one instant a day at a moving time of day.
        let first = days_from_civil(1900, 1, 1);
        let last = days_from_civil(2299, 12, 31);
        let mut previous = None;
        for day in first..=last {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
            assert!(d >= 1 && d <= days_in_month(y, m));
            if let Some((py, pm, pd)) = previous {
                let next_day = (py, pm, pd + 1) == (y, m, d);
                let next_month = (py, pm + 1, 1) == (y, m, d);
                let next_year = (py + 1, 1, 1) == (y, m, d);
                assert!(next_day || next_month || next_year, "{y}-{m}-{d}");
            }
            previous = Some((y, m, d));
            let t = from_unix(day * DAY + day.rem_euclid(DAY), 0);
            assert_eq!(parse(&format(t)), Ok(t));
        }
    }
}
