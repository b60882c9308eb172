//! RFC 3339 timestamps as Google writes them (`2024-05-01T12:00:00.000Z`).

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

/// The current time in UTC.
pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// Formats a time in UTC with milliseconds and a `Z`.
pub(crate) fn format(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    t.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap_or_default()
}

/// Parses an RFC 3339 timestamp.
pub(crate) fn parse(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s.trim(), &Rfc3339).ok()
}

/// Parses a due date: an RFC 3339 timestamp whose time is discarded, or a bare
/// `YYYY-MM-DD`; gives midnight UTC of that date.
pub(crate) fn parse_due(s: &str) -> Option<OffsetDateTime> {
    let date = match parse(s) {
        Some(t) => t.date(),
        None => time::Date::parse(s.trim(), format_description!("[year]-[month]-[day]")).ok()?,
    };
    Some(date.midnight().assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let t = parse("2024-05-01T12:34:56.789+02:00").unwrap();
        assert_eq!(format(t), "2024-05-01T10:34:56.789Z");
        assert_eq!(parse(&format(t)), Some(t));
        assert!(parse("yesterday").is_none());
    }

    #[test]
    fn due_dates_drop_the_time() {
        let d = parse_due("2024-05-01T23:30:00-05:00").unwrap();
        assert_eq!(format(d), "2024-05-01T00:00:00.000Z");
        assert_eq!(
            format(parse_due("2024-12-31").unwrap()),
            "2024-12-31T00:00:00.000Z"
        );
        assert!(parse_due("2024-13-01").is_none());
    }
}
