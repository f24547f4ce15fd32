//! Client-side rate limiting (GCRA), shared by all clones of a client.
//!
//! Gateways ban or reject clients that go over their quota (API Entreprise / Particulier ban the
//! IP for 12 hours when 429 is ignored), so each call waits for its slot before being sent. After
//! a 429 the limiter is paused until `Retry-After` has elapsed, which holds back *every* call of the
//! client, not just the one that was refused.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use crate::core::sync::LockExt;

/// A rate: `requests` per `per`, allowing bursts of `burst` back-to-back calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Number of requests…
    pub requests: u32,
    /// …per this period.
    pub per: Duration,
    /// Calls that may be sent back-to-back before spacing applies (at least 1).
    pub burst: u32,
}

impl RateLimit {
    /// `n` requests per second, evenly spaced.
    pub fn per_second(n: u32) -> Self {
        RateLimit {
            requests: n.max(1),
            per: Duration::from_secs(1),
            burst: 1,
        }
    }

    /// `n` requests per minute, evenly spaced.
    pub fn per_minute(n: u32) -> Self {
        RateLimit {
            requests: n.max(1),
            per: Duration::from_secs(60),
            burst: 1,
        }
    }

    /// Allows bursts of `burst` calls.
    pub fn with_burst(mut self, burst: u32) -> Self {
        self.burst = burst.max(1);
        self
    }

    /// Parses a limit from configuration: `"<n>/<unit>"` (`s`, `sec`, `second`, `min`,
    /// `minute`, `h`, `hour`), optionally followed by `" burst <k>"`; see the `FromStr` impl.
    fn parse(text: &str) -> Result<Self, ParseRateLimitError> {
        let bad = || ParseRateLimitError(text.chars().take(64).collect());
        let mut words = text.split_whitespace();
        let (n, unit) = words
            .next()
            .and_then(|w| w.split_once('/'))
            .ok_or_else(bad)?;
        let requests: u32 = n.trim().parse().map_err(|_| bad())?;
        let per = match unit.trim().to_ascii_lowercase().as_str() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        let burst = match (words.next(), words.next(), words.next()) {
            (None, _, _) => 1,
            (Some("burst"), Some(k), None) => k.parse().map_err(|_| bad())?,
            _ => return Err(bad()),
        };
        if requests == 0 || burst == 0 {
            return Err(bad());
        }
        Ok(RateLimit {
            requests,
            per,
            burst,
        })
    }

    fn interval(&self) -> Duration {
        self.per / self.requests.max(1)
    }
}

/// `"250/min"`, `"20/s"`, `"1000/minute burst 10"`: limits read from configuration, so they
/// change without a release.
///
/// ```
/// use gouvgen_runtime::RateLimit;
/// assert_eq!("250/min".parse::<RateLimit>().unwrap(), RateLimit::per_minute(250));
/// assert_eq!("20/s burst 5".parse(), Ok(RateLimit::per_second(20).with_burst(5)));
/// assert!("fast".parse::<RateLimit>().is_err());
/// ```
impl std::str::FromStr for RateLimit {
    type Err = ParseRateLimitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RateLimit::parse(s)
    }
}

/// A rate limit that does not read as `"<n>/<unit>"` (see [`RateLimit`]'s `FromStr`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseRateLimitError(String);

impl std::fmt::Display for ParseRateLimitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` is not a rate limit: write `<requests>/<s|min|h>`, optionally followed by `burst <n>` (e.g. `250/min`)",
            self.0
        )
    }
}

impl std::error::Error for ParseRateLimitError {}

#[derive(Debug)]
struct State {
    /// Theoretical arrival time of the next call (GCRA).
    tat: Instant,
    paused_until: Option<Instant>,
}

/// Reads PISTE's `x-rate-limit` (a JSON list of windows, `[{"window": <ms>, "remaining": n}]`):
/// the longest window whose remaining count is 0, clamped to [`crate::policy::retry::MAX_RETRY_AFTER`].
/// Anything malformed gives `None`.
pub(crate) fn exhausted_window(headers: &http::HeaderMap) -> Option<Duration> {
    let v = headers.get("x-rate-limit")?.as_bytes();
    if !v.windows(9).any(|w| w == b"remaining") {
        return None;
    }
    let list: serde_json::Value = serde_json::from_slice(v).ok()?;
    let items = match &list {
        serde_json::Value::Array(a) => a.as_slice(),
        serde_json::Value::Object(_) => std::slice::from_ref(&list),
        _ => return None,
    };
    items
        .iter()
        .filter(|w| w.get("remaining").and_then(serde_json::Value::as_f64) == Some(0.0))
        .filter_map(|w| w.get("window").and_then(serde_json::Value::as_f64))
        .filter_map(|ms| {
            crate::policy::retry::clamp_secs(ms / 1000.0, crate::policy::retry::MAX_RETRY_AFTER)
        })
        .max()
}

/// The limiter of one client.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: Option<RateLimit>,
    state: Mutex<State>,
    /// Set while a 429 pause may be in force: without a limit and without a pause, a call
    /// passes without taking the lock or reading the clock.
    maybe_paused: AtomicBool,
}

impl RateLimiter {
    pub(crate) fn new(limit: Option<RateLimit>) -> Self {
        RateLimiter {
            limit,
            state: Mutex::new(State {
                tat: Instant::now(),
                paused_until: None,
            }),
            maybe_paused: AtomicBool::new(false),
        }
    }

    pub(crate) fn limit(&self) -> Option<RateLimit> {
        self.limit
    }

    /// Waits for this call's slot (reserved in arrival order). A call whose slot comes up while
    /// the limiter is paused by a 429 takes a new slot after the pause. If the slot comes after
    /// `deadline`, nothing is reserved and the call gets, at once, the instant its slot would
    /// have come (when to come back).
    pub(crate) async fn acquire(&self, deadline: Instant) -> Result<(), Instant> {
        if self.limit.is_none() && !self.maybe_paused.load(Ordering::Acquire) {
            return Ok(());
        }
        loop {
            let slot = self.reserve(deadline)?;
            if slot > Instant::now() {
                tokio::time::sleep_until(slot).await;
            }
            let paused = {
                let st = self.state.lock_unpoisoned();
                st.paused_until.is_some_and(|p| p > Instant::now())
            };
            if !paused {
                return Ok(());
            }
        }
    }

    fn reserve(&self, deadline: Instant) -> Result<Instant, Instant> {
        let now = Instant::now();
        let mut st = self.state.lock_unpoisoned();
        let mut slot = now;
        if let Some(p) = st.paused_until {
            if p > slot {
                slot = p;
            } else {
                st.paused_until = None;
                self.maybe_paused.store(false, Ordering::Release);
            }
        }
        let mut interval = None;
        if let Some(limit) = self.limit {
            let i = limit.interval();
            let tolerance = i * (limit.burst.max(1) - 1);
            let earliest = st.tat.checked_sub(tolerance).unwrap_or(st.tat);
            if earliest > slot {
                slot = earliest;
            }
            interval = Some(i);
        }
        if slot > deadline {
            return Err(slot);
        }
        if let Some(i) = interval {
            st.tat = st.tat.max(slot) + i;
        }
        Ok(slot)
    }

    /// Holds back every call until `until` (after a 429).
    pub(crate) fn pause_until(&self, until: Instant) {
        let mut st = self.state.lock_unpoisoned();
        if st.paused_until.is_none_or(|p| p < until) {
            st.paused_until = Some(until);
        }
        self.maybe_paused.store(true, Ordering::Release);
        if st.tat < until {
            st.tat = until;
        }
    }
}
