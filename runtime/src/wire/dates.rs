//! Dates as providers really send them.
//!
//! Documents declare `format: date` on fields that carry full timestamps (Judilibre's
//! `decision_datetime`), and `date-time` values sometimes come without an offset. These
//! wrappers over chrono decode what the field means instead of failing the whole response,
//! and always encode the canonical form.

use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use chrono::{FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::wire::request::ParamValue;

/// A calendar date (`format: date`), written `YYYY-MM-DD`.
///
/// Also reads an RFC 3339 timestamp (`2018-12-20T06:00:00Z`) or `YYYY-MM-DD HH:MM:SS`,
/// keeping the date part as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

/// A point in time (`format: date-time`), written in RFC 3339.
///
/// Also reads a timestamp without offset (taken as UTC) or a plain date (midnight UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime(pub chrono::DateTime<FixedOffset>);

/// A value that is not a date or timestamp in any accepted form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidDate(String);

impl fmt::Display for InvalidDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a date or timestamp", self.0)
    }
}

impl std::error::Error for InvalidDate {}

impl FromStr for Date {
    type Err = InvalidDate;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            return Ok(Date(d));
        }
        if let Some(prefix) = t.get(..10)
            && t.len() > 10
            && matches!(t.as_bytes()[10], b'T' | b't' | b' ')
            && let Ok(d) = NaiveDate::parse_from_str(prefix, "%Y-%m-%d")
        {
            return Ok(Date(d));
        }
        Err(InvalidDate(s.to_string()))
    }
}

impl FromStr for DateTime {
    type Err = InvalidDate;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
            return Ok(DateTime(dt));
        }
        let utc = FixedOffset::east_opt(0).expect("zero offset");
        for format in [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
        ] {
            if let Ok(naive) = NaiveDateTime::parse_from_str(t, format) {
                return Ok(DateTime(utc.from_utc_datetime(&naive)));
            }
        }
        if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            return Ok(DateTime(
                utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight")),
            ));
        }
        Err(InvalidDate(s.to_string()))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339())
    }
}

impl Deref for Date {
    type Target = NaiveDate;
    fn deref(&self) -> &NaiveDate {
        &self.0
    }
}

impl Deref for DateTime {
    type Target = chrono::DateTime<FixedOffset>;
    fn deref(&self) -> &chrono::DateTime<FixedOffset> {
        &self.0
    }
}

impl From<NaiveDate> for Date {
    fn from(d: NaiveDate) -> Self {
        Date(d)
    }
}

impl From<chrono::DateTime<FixedOffset>> for DateTime {
    fn from(d: chrono::DateTime<FixedOffset>) -> Self {
        DateTime(d)
    }
}

impl From<chrono::DateTime<Utc>> for DateTime {
    fn from(d: chrono::DateTime<Utc>) -> Self {
        DateTime(d.fixed_offset())
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Serialize for DateTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for DateTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl ParamValue for Date {
    fn to_param(&self) -> String {
        self.to_string()
    }
}

impl ParamValue for DateTime {
    fn to_param(&self) -> String {
        self.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_accept_what_providers_send() {
        assert_eq!(
            "2018-12-20".parse::<Date>().unwrap().to_string(),
            "2018-12-20"
        );
        assert_eq!(
            "2018-12-20T06:00:00Z".parse::<Date>().unwrap().to_string(),
            "2018-12-20"
        );
        assert!("20/12/2018".parse::<Date>().is_err());
        assert!("2018-12-20X".parse::<Date>().is_err());
        let dt: DateTime = "2025-01-15T14:50:10.185Z".parse().unwrap();
        assert_eq!(dt.to_string(), "2025-01-15T14:50:10.185+00:00");
        assert_eq!(
            "2019-03-21T10:00:00+01:00"
                .parse::<DateTime>()
                .unwrap()
                .to_string(),
            "2019-03-21T10:00:00+01:00"
        );
        assert_eq!(
            "2019-03-21T10:00:00"
                .parse::<DateTime>()
                .unwrap()
                .to_string(),
            "2019-03-21T10:00:00+00:00"
        );
        assert_eq!(
            "2019-03-21".parse::<DateTime>().unwrap().to_string(),
            "2019-03-21T00:00:00+00:00"
        );
        assert!("demain".parse::<DateTime>().is_err());
        let json: Date = serde_json::from_str("\"2021-05-13\"").unwrap();
        assert_eq!(serde_json::to_string(&json).unwrap(), "\"2021-05-13\"");
    }
}
