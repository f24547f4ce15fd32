//! What the gateway remembers: issued tokens, per-client windows, and the statistics tests read.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use crate::respond::ceil_secs;

/// Counters of what the gateway saw. They only grow; compare two snapshots to measure a step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Token requests received, by the `grant_type` sent (refused ones included).
    pub token_requests: HashMap<String, u64>,
    /// Tokens granted, by grant (`client_credentials`, `password`, `refresh_token`).
    pub tokens_issued: HashMap<String, u64>,
    /// Token requests refused (bad credentials, grant or scope).
    pub token_refusals: u64,
    /// Accepted revocations (DGFiP `/revoke`).
    pub revocations: u64,
    /// API calls received, whatever the answer.
    pub api_calls: u64,
    /// API calls answered 2xx.
    pub api_successes: u64,
    /// Distinct `X-Correlation-ID` values received on API calls.
    pub distinct_correlation_ids: usize,
    /// Calls refused for a missing or malformed `X-Correlation-ID` (DGFiP).
    pub correlation_refusals: u64,
    /// 401 answers for missing, unknown, expired or revoked credentials (not the ones asked
    /// for with `X-Emulator-Status`).
    pub unauthorized: u64,
    /// 429 answers of the rate limit (not the ones asked for with `X-Emulator-Status`).
    pub throttled: u64,
    /// Calls a client sent during a Retry-After period it had been told about: at API
    /// Entreprise / API Particulier, what earns a 12-hour IP ban. Tests assert it stays 0.
    pub ban_violations: u64,
    /// The most API calls one client sent within any 1-second window.
    pub max_calls_per_second: usize,
    /// Per account (client id or username; `jwt#…` / `key#…` fingerprints for credentials),
    /// across connections and processes: the most API calls within any 1-second window.
    pub max_per_second_by_account: HashMap<String, usize>,
    /// Per source IP (API Entreprise bans IPs): the most API calls within any 1-second window.
    pub max_per_second_by_ip: HashMap<std::net::IpAddr, usize>,
    /// API Entreprise / Particulier requests being answered now (the 409 rule's register):
    /// not a counter, the current number.
    pub in_flight: usize,
}

impl Stats {
    /// All tokens granted, whatever the grant.
    pub fn tokens_total(&self) -> u64 {
        self.tokens_issued.values().sum()
    }

    /// Tokens granted with `grant`.
    pub fn issued(&self, grant: &str) -> u64 {
        self.tokens_issued.get(grant).copied().unwrap_or(0)
    }
}

/// One API call, as logged by the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// When it arrived.
    pub at: SystemTime,
    /// The `X-Correlation-ID` received, if any.
    pub correlation_id: Option<String>,
    /// HTTP method.
    pub method: String,
    /// Request path (without query). It may carry personal data (tax numbers): print
    /// [`CallRecord::template`] instead.
    pub path: String,
    /// The documented path template the call matched (`/spi/{spi}/...`), if any.
    pub template: Option<String>,
    /// Status answered; 0 for a call never answered (the gateway was dark or had banned).
    pub status: u16,
}

/// An issued access token.
pub(crate) struct Token {
    /// Who it was issued to: the rate-limit key.
    pub client: String,
    pub expires: Instant,
    /// Scopes asked for and granted (`None`: none asked, nothing enforced).
    pub scopes: Option<Vec<String>>,
}

/// A Douane refresh token.
pub(crate) struct Refresh {
    pub username: String,
    pub expires: Instant,
}

/// Per-client traffic: calls in the last second, calls admitted by the quota, and the
/// Retry-After period a 429 opened (API Entreprise / Particulier ban emulation).
#[derive(Default)]
pub(crate) struct Traffic {
    last_second: VecDeque<Instant>,
    admitted: VecDeque<Instant>,
    penalty: Option<Penalty>,
}

struct Penalty {
    opened: Instant,
    until: Instant,
    /// Connections that were answered 429 during this period: they know.
    told: HashSet<SocketAddr>,
}

/// What the quota says about one call.
pub(crate) enum Verdict {
    Admit {
        remaining: u32,
    },
    /// 429 with this `Retry-After` (whole seconds); `violation`: the ban rule was broken.
    Throttle {
        retry_after: u64,
        violation: bool,
    },
}

impl Traffic {
    /// Counts a call in the 1-second window; returns the number of calls in it.
    pub fn arrive(&mut self, now: Instant) -> usize {
        self.last_second.push_back(now);
        while self
            .last_second
            .front()
            .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
        {
            self.last_second.pop_front();
        }
        self.last_second.len()
    }

    /// Applies the sliding-window quota of `limit` calls per `per`.
    pub fn check(
        &mut self,
        now: Instant,
        conn: SocketAddr,
        limit: (u32, Duration),
        retry_after: Option<Duration>,
        bans: bool,
        grace: Duration,
    ) -> Verdict {
        let (max, per) = limit;
        if let Some(p) = &mut self.penalty {
            if now < p.until {
                let violation = p.told.contains(&conn) || now.duration_since(p.opened) > grace;
                p.told.insert(conn);
                return Verdict::Throttle {
                    retry_after: ceil_secs(p.until - now),
                    violation,
                };
            }
            self.penalty = None;
        }
        // Arrival jitter: a client spacing its calls exactly `per / max` apart sees some arrive
        // a little early; the window forgets calls slightly before `per` (5%, at most 50 ms).
        let window = per.saturating_sub((per / 20).min(Duration::from_millis(50)));
        while self
            .admitted
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            self.admitted.pop_front();
        }
        if self.admitted.len() < max as usize {
            self.admitted.push_back(now);
            return Verdict::Admit {
                remaining: max - self.admitted.len() as u32,
            };
        }
        let wait = retry_after.unwrap_or_else(|| {
            self.admitted
                .front()
                .map(|t| window.saturating_sub(now.duration_since(*t)))
                .unwrap_or(window)
        });
        let secs = ceil_secs(wait);
        if bans {
            self.penalty = Some(Penalty {
                opened: now,
                until: now + Duration::from_secs(secs),
                told: HashSet::from([conn]),
            });
        }
        Verdict::Throttle {
            retry_after: secs,
            violation: false,
        }
    }

    /// How long until the window has room for one more call (`RateLimit-Reset`): until the
    /// oldest call it holds leaves it; zero while it has room.
    pub fn reset_in(&self, now: Instant, limit: (u32, Duration)) -> Duration {
        if self.remaining(now, limit) > 0 {
            return Duration::ZERO;
        }
        (self.admitted.iter())
            .find(|t| now.duration_since(**t) < limit.1)
            .map_or(Duration::ZERO, |t| {
                limit.1.saturating_sub(now.duration_since(*t))
            })
    }

    /// Calls left in the current window (PISTE `x-rate-limit`).
    pub fn remaining(&self, now: Instant, limit: (u32, Duration)) -> u32 {
        let used = self
            .admitted
            .iter()
            .filter(|t| now.duration_since(**t) < limit.1)
            .count() as u32;
        limit.0.saturating_sub(used)
    }
}

/// Everything mutable, behind one lock.
pub(crate) struct Inner {
    pub tokens: HashMap<String, Token>,
    pub refresh_tokens: HashMap<String, Refresh>,
    /// DGFiP: the token handed back to a (client, scope) until it is revoked or reaches its
    /// natural expiry, with that expiry (the gateway returns the same token until then, even
    /// after a call was refused with it).
    pub dgfip_current: HashMap<String, (String, Instant)>,
    /// Set by `expire_all_tokens`: the configured long-lived JWTs are refused from now on.
    pub static_tokens_expired: bool,
    pub stats: Stats,
    pub correlation_ids: HashSet<String>,
    pub traffic: HashMap<String, Traffic>,
    pub ip_traffic: HashMap<std::net::IpAddr, Traffic>,
    /// v3 quotas: per IP, and per (caller, route group).
    pub ip_quota: HashMap<std::net::IpAddr, Traffic>,
    pub group_traffic: HashMap<(String, crate::v3::Group), Traffic>,
    /// Requests in flight (v3 409), by [`crate::v3::conflict_key`].
    pub in_flight: HashSet<u64>,
    pub calls: VecDeque<CallRecord>,
    /// What the test scripted (errors, latency, darkness...).
    pub scenario: crate::scenario::Scenario,
}

impl Inner {
    pub fn new() -> Self {
        Inner {
            tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            dgfip_current: HashMap::new(),
            static_tokens_expired: false,
            stats: Stats::default(),
            correlation_ids: HashSet::new(),
            traffic: HashMap::new(),
            ip_traffic: HashMap::new(),
            ip_quota: HashMap::new(),
            group_traffic: HashMap::new(),
            in_flight: HashSet::new(),
            calls: VecDeque::new(),
            scenario: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn sliding_window_and_ban_rules() {
        let mut t = Traffic::default();
        let start = Instant::now();
        let limit = (2, Duration::from_secs(1));
        let grace = Duration::from_millis(100);
        assert!(matches!(
            t.check(start, conn(1), limit, None, true, grace),
            Verdict::Admit { remaining: 1 }
        ));
        assert!(matches!(
            t.check(start, conn(2), limit, None, true, grace),
            Verdict::Admit { remaining: 0 }
        ));
        assert!(matches!(
            t.check(start, conn(3), limit, None, true, grace),
            Verdict::Throttle {
                retry_after: 1,
                violation: false
            }
        ));
        // In flight on another connection, within the grace: not a violation.
        let soon = start + Duration::from_millis(5);
        assert!(matches!(
            t.check(soon, conn(4), limit, None, true, grace),
            Verdict::Throttle {
                violation: false,
                ..
            }
        ));
        // Again on a connection that was told: a violation.
        assert!(matches!(
            t.check(soon, conn(3), limit, None, true, grace),
            Verdict::Throttle {
                violation: true,
                ..
            }
        ));
        // After the grace, anywhere: a violation.
        let later = start + Duration::from_millis(500);
        assert!(matches!(
            t.check(later, conn(9), limit, None, true, grace),
            Verdict::Throttle {
                violation: true,
                ..
            }
        ));
        // After Retry-After: admitted again.
        let after = start + Duration::from_millis(1001);
        assert!(matches!(
            t.check(after, conn(3), limit, None, true, grace),
            Verdict::Admit { .. }
        ));
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(ceil_secs(Duration::from_millis(1)), 1);
        assert_eq!(ceil_secs(Duration::from_millis(1500)), 2);
        assert_eq!(ceil_secs(Duration::from_secs(60)), 60);
    }
}
