//! The quota a gateway announces on every response: the IETF `RateLimit-Limit`,
//! `RateLimit-Remaining` and `RateLimit-Reset` fields (API Entreprise and API Particulier v3
//! send them, `Reset` in epoch seconds; the IETF drafts write a delay in seconds).
//!
//! Every value comes from the server: a number that does not parse is ignored, a reset in the
//! past means no wait, and a wait is cut to [`MAX_RETRY_AFTER`].

use std::time::{Duration, SystemTime};

use http::HeaderMap;

use crate::wire::retry_after::{MAX_RETRY_AFTER, clamp_secs};

/// A `RateLimit-Reset` at or above this is an epoch time, below it a delay in seconds
/// (1e9 s is 2001-09-09: no delay is that long, no current date that early).
const EPOCH_FROM: u64 = 1_000_000_000;

/// When `RateLimit-Remaining` is 0: how long until `RateLimit-Reset`, from `now`. `None` when
/// calls are left, or the fields are absent or malformed.
pub(crate) fn exhausted_quota_at(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let remaining = number(headers, "ratelimit-remaining")?;
    if remaining != 0 {
        return None;
    }
    let reset = number(headers, "ratelimit-reset")?;
    if reset < EPOCH_FROM {
        return Some(Duration::from_secs(reset).min(MAX_RETRY_AFTER));
    }
    let since_epoch = now.duration_since(SystemTime::UNIX_EPOCH).ok()?;
    let wait = reset as f64 - since_epoch.as_secs_f64();
    clamp_secs(wait.max(0.0), MAX_RETRY_AFTER)
}

/// [`exhausted_quota_at`] now.
pub(crate) fn exhausted_quota(headers: &HeaderMap) -> Option<Duration> {
    exhausted_quota_at(headers, SystemTime::now())
}

/// A header holding one non-negative integer (leading and trailing spaces allowed).
fn number(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    const NOW: u64 = 1_800_000_000;

    fn at(pairs: &[(&'static str, &str)]) -> Option<Duration> {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(NOW);
        exhausted_quota_at(&headers(pairs), now)
    }

    #[test]
    fn an_exhausted_quota_waits_for_its_reset() {
        let reset = (NOW + 42).to_string();
        let exhausted = [
            ("ratelimit-remaining", "0"),
            ("ratelimit-reset", reset.as_str()),
        ];
        assert_eq!(at(&exhausted), Some(Duration::from_secs(42)));
        // A delay, as the IETF drafts write it.
        let delay = [("ratelimit-remaining", "0"), ("ratelimit-reset", "7")];
        assert_eq!(at(&delay), Some(Duration::from_secs(7)));
    }

    #[test]
    fn hostile_or_absent_values_give_no_wait_or_a_bounded_one() {
        let reset = (NOW + 42).to_string();
        assert_eq!(
            at(&[("ratelimit-remaining", "3"), ("ratelimit-reset", &reset)]),
            None
        );
        assert_eq!(at(&[("ratelimit-remaining", "0")]), None);
        assert_eq!(at(&[("ratelimit-reset", &reset)]), None);
        for garbage in ["-1", "0.5", "zero", "", "99999999999999999999999"] {
            assert_eq!(
                at(&[
                    ("ratelimit-remaining", garbage),
                    ("ratelimit-reset", &reset)
                ]),
                None
            );
            assert_eq!(
                at(&[("ratelimit-remaining", "0"), ("ratelimit-reset", garbage)]),
                None
            );
        }
        let past = (NOW - 5).to_string();
        assert_eq!(
            at(&[("ratelimit-remaining", "0"), ("ratelimit-reset", &past)]),
            Some(Duration::ZERO)
        );
        let far = (NOW + 10 * 365 * 24 * 3600).to_string();
        assert_eq!(
            at(&[("ratelimit-remaining", "0"), ("ratelimit-reset", &far)]),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(
            at(&[
                ("ratelimit-remaining", "0"),
                ("ratelimit-reset", "999999999")
            ]),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(
            at(&[
                ("ratelimit-remaining", "0"),
                ("ratelimit-reset", &u64::MAX.to_string())
            ]),
            Some(MAX_RETRY_AFTER)
        );
    }
}
