//! `Retry-After` as gateways send it (delta seconds, fractional seconds or an HTTP date),
//! bounded so a hostile value cannot overflow a deadline.

use std::time::{Duration, SystemTime};

use http::HeaderMap;

/// Upper bound of a server-supplied `Retry-After` (24 hours): longer waits are cut to this, so
/// that a hostile value cannot overflow a deadline or freeze a client for good.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Parses `Retry-After` (delta-seconds or HTTP-date) into a wait from now, clamped to
/// `[0, MAX_RETRY_AFTER]`. Negative, non-finite or unparseable values give `None`; a date in the
/// past gives zero.
pub fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    parse_retry_after_at(headers, SystemTime::now())
}

pub(crate) fn parse_retry_after_at(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let v = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER));
    }
    if let Ok(secs) = v.parse::<f64>() {
        return clamp_secs(secs, MAX_RETRY_AFTER);
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(now)
            .unwrap_or(Duration::ZERO)
            .min(MAX_RETRY_AFTER),
    )
}

/// A non-negative, finite number of seconds as a duration of at most `max`.
pub(crate) fn clamp_secs(secs: f64, max: Duration) -> Option<Duration> {
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    Some(if secs >= max.as_secs_f64() {
        max
    } else {
        Duration::from_secs_f64(secs)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "7".parse().unwrap());
        assert_eq!(parse_retry_after(&h), Some(Duration::from_secs(7)));
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        h.insert("retry-after", later.parse().unwrap());
        assert_eq!(parse_retry_after_at(&h, now), Some(Duration::from_secs(30)));
    }
}
