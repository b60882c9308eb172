//! String-formatted values of the discovery format, kept exactly as sent.
//!
//! Each type stores the wire string, so a value read from the API and sent back
//! is byte-identical; typed accessors parse on demand, and constructors format
//! from typed values.

use std::fmt;

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
#[cfg(feature = "time")]
use time::OffsetDateTime;
#[cfg(feature = "time")]
use time::format_description::well_known::Rfc3339;

macro_rules! wire_string {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The value exactly as it travels on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }
            /// Wraps a wire string without checking it.
            pub fn from_wire(s: impl Into<String>) -> Self {
                $name(s.into())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:?})"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }

        impl crate::QueryValue for $name {
            fn to_query(&self) -> String {
                self.0.clone()
            }
        }
    };
}

wire_string!(
    /// An RFC 3339 timestamp (`google-datetime`, `date-time`), e.g.
    /// `2024-05-01T12:00:00.123Z`.
    DateTime
);
wire_string!(
    /// A calendar date (`date`), `YYYY-MM-DD`.
    Date
);
wire_string!(
    /// A duration (`google-duration`), seconds with up to nine fractional
    /// digits and an `s` suffix, e.g. `3.5s`.
    Duration
);
wire_string!(
    /// A field mask (`google-fieldmask`): comma-separated field paths.
    FieldMask
);

impl DateTime {
    /// Formats a time as RFC 3339, in UTC (`2026-12-03T17:50:06.5Z`).
    pub fn from_system_time(t: SystemTime) -> Self {
        DateTime(crate::rfc3339::format(t))
    }
    /// Parses the value as RFC 3339; `None` when it is not.
    pub fn to_system_time(&self) -> Option<SystemTime> {
        crate::rfc3339::parse(&self.0).ok()
    }
    /// Formats a time as RFC 3339 (UTC offsets kept). Needs the `time`
    /// feature.
    #[cfg(feature = "time")]
    pub fn from_offset_date_time(t: OffsetDateTime) -> Self {
        DateTime(t.format(&Rfc3339).unwrap_or_default())
    }
    /// Parses the value as RFC 3339. Needs the `time` feature.
    #[cfg(feature = "time")]
    pub fn to_offset_date_time(&self) -> Result<OffsetDateTime, time::error::Parse> {
        OffsetDateTime::parse(&self.0, &Rfc3339)
    }
}

impl Date {
    /// The date `year-month-day`; `None` when there is no such day.
    pub fn from_ymd(year: i32, month: u8, day: u8) -> Option<Self> {
        crate::rfc3339::is_date(year.into(), month.into(), day.into())
            .then(|| Date(format!("{year:04}-{month:02}-{day:02}")))
    }
    /// `(year, month, day)` of a `YYYY-MM-DD` value; `None` when it is
    /// malformed or no such day exists.
    pub fn ymd(&self) -> Option<(i32, u8, u8)> {
        let mut it = self.0.splitn(3, '-');
        let y: i32 = it.next()?.parse().ok()?;
        let m: u8 = it.next()?.parse().ok()?;
        let d: u8 = it.next()?.parse().ok()?;
        crate::rfc3339::is_date(y.into(), m.into(), d.into()).then_some((y, m, d))
    }
    /// Formats a date as `YYYY-MM-DD`. Needs the `time` feature.
    #[cfg(feature = "time")]
    pub fn from_date(d: time::Date) -> Self {
        Date(format!(
            "{:04}-{:02}-{:02}",
            d.year(),
            u8::from(d.month()),
            d.day()
        ))
    }
    /// Parses the value as `YYYY-MM-DD`. Needs the `time` feature.
    #[cfg(feature = "time")]
    pub fn to_date(&self) -> Option<time::Date> {
        let (y, m, d) = self.ymd()?;
        time::Date::from_calendar_date(y, time::Month::try_from(m).ok()?, d).ok()
    }
}

impl Duration {
    /// Formats a duration as seconds with an `s` suffix (`1.5s`, `3s`).
    pub fn from_std(d: std::time::Duration) -> Self {
        let nanos = d.subsec_nanos();
        if nanos == 0 {
            Duration(format!("{}s", d.as_secs()))
        } else {
            let frac = format!("{nanos:09}");
            Duration(format!("{}.{}s", d.as_secs(), frac.trim_end_matches('0')))
        }
    }
    /// Parses a non-negative duration; `None` when malformed or negative.
    pub fn to_std(&self) -> Option<std::time::Duration> {
        let s = self.0.strip_suffix('s')?;
        let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
        if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let secs: u64 = secs.parse().ok()?;
        let nanos: u32 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<9}").parse().ok()?
        };
        Some(std::time::Duration::new(secs, nanos))
    }
}

impl FieldMask {
    /// Joins field paths with commas.
    pub fn from_paths<I: IntoIterator<Item = S>, S: AsRef<str>>(paths: I) -> Self {
        let v: Vec<String> = paths.into_iter().map(|p| p.as_ref().to_owned()).collect();
        FieldMask(v.join(","))
    }
    /// The field paths.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.0.split(',').map(str::trim).filter(|s| !s.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_round_trips_exactly() {
        for s in [
            "2024-05-01T12:00:00.123456789Z",
            "2024-05-01T12:00:00+02:00",
            "not a date",
        ] {
            let v: DateTime = serde_json::from_str(&format!("\"{s}\"")).unwrap();
            assert_eq!(serde_json::to_string(&v).unwrap(), format!("\"{s}\""));
        }
        let d = DateTime::from("2024-05-01T12:00:00.5Z");
        let t = d.to_system_time().unwrap();
        assert_eq!(DateTime::from_system_time(t), d);
        assert_eq!(DateTime::from("not a date").to_system_time(), None);
        #[cfg(feature = "time")]
        assert_eq!(d.to_offset_date_time().unwrap().millisecond(), 500);
    }

    #[test]
    fn date_and_duration() {
        let d = Date::from("2024-02-29");
        assert_eq!(d.ymd(), Some((2024, 2, 29)));
        assert_eq!(Date::from_ymd(2024, 2, 29), Some(d.clone()));
        assert_eq!(Date::from_ymd(2023, 2, 29), None);
        assert!(Date::from("2023-02-29").ymd().is_none());
        assert!(Date::from("2024-2").ymd().is_none());
        #[cfg(feature = "time")]
        {
            assert_eq!(Date::from_date(d.to_date().unwrap()), d);
            assert!(Date::from("2023-02-29").to_date().is_none());
        }
        let du = Duration::from("3.5s");
        assert_eq!(du.to_std(), Some(std::time::Duration::from_millis(3500)));
        assert_eq!(
            Duration::from_std(std::time::Duration::from_millis(3500)).as_str(),
            "3.5s"
        );
        assert_eq!(
            Duration::from_std(std::time::Duration::from_secs(3)).as_str(),
            "3s"
        );
        assert_eq!(Duration::from("1.0000000001s").to_std(), None);
    }

    #[test]
    fn field_mask_paths() {
        let m = FieldMask::from_paths(["a.b", "c"]);
        assert_eq!(m.as_str(), "a.b,c");
        assert_eq!(m.paths().collect::<Vec<_>>(), ["a.b", "c"]);
    }
}
