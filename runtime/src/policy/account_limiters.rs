//! The process-wide limiters of each gateway account: quotas belong to the account, so every
//! client of one account shares its limiter and its 429 pauses.

use std::sync::{Arc, LazyLock};

use crate::core::registry::WeakRegistry;
use crate::fleet::AccountId;
use crate::policy::rate_limit::{RateLimit, RateLimiter};

/// Live limiters per account: one per distinct rate limit configured for it.
static LIMITERS: LazyLock<WeakRegistry<AccountId, RateLimiter>> =
    LazyLock::new(WeakRegistry::default);

/// The process-wide limiter of `account` for `limit`: clients of one account configured with
/// the same limit share one GCRA; a client configured with another limit gets its own (with a
/// warning: one account has one quota). A 429 pauses them all ([`pause_account`]).
pub(crate) fn account_limiter(account: &AccountId, limit: Option<RateLimit>) -> Arc<RateLimiter> {
    LIMITERS.get_or_insert(
        account.clone(),
        |l| l.limit() == limit,
        |others| {
            if let Some(other) = others.first() {
                tracing::warn!(
                    api_host = %account.api_host,
                    existing = ?other.limit(),
                    asked = ?limit,
                    "another client of this account has a different rate limit: each keeps its \
                     own (429 pauses are still shared)"
                );
            }
            RateLimiter::new(limit)
        },
    )
}

/// Holds back every limiter of `account` in the process until `until` (after a 429).
pub(crate) fn pause_account(account: &AccountId, until: tokio::time::Instant) {
    for l in LIMITERS.live(account) {
        l.pause_until(until);
    }
}
