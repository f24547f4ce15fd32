//! The limiter a client uses: the account's process-wide GCRA and 429 pause, and, with a
//! fleet store, the fleet-wide ones (falling back to the local ones while the store is down).

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::fleet::AccountId;
use crate::fleet::handle::Fleet;
use crate::policy::rate_limit::{RateLimit, RateLimiter};

/// Longest wait a store may impose on one reservation (a hostile or corrupt value is clamped).
const MAX_STORE_WAIT: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug)]
pub(crate) struct Limiter {
    local: Arc<RateLimiter>,
    account: AccountId,
    fleet: Option<Fleet>,
}

impl Limiter {
    /// The account's shared limiter for `limit` in this process, and its fleet view.
    pub(crate) fn new(account: AccountId, limit: Option<RateLimit>, fleet: Option<Fleet>) -> Self {
        Limiter {
            local: super::account_limiter(&account, limit),
            account,
            fleet,
        }
    }

    pub(crate) fn limit(&self) -> Option<RateLimit> {
        self.local.limit()
    }

    /// Waits for this call's slot: fleet-wide if the store answers, process-wide otherwise. A
    /// slot that comes after `deadline` is not waited for: the call gets, at once, the instant
    /// it would have come (when to come back).
    pub(crate) async fn acquire(&self, deadline: Instant) -> Result<(), Instant> {
        if let Some(fleet) = &self.fleet {
            if let Some(outcome) = self.acquire_fleet(fleet, deadline).await {
                return outcome;
            }
        }
        self.local.acquire(deadline).await
    }

    /// The fleet's answer, or `None` if the store failed (then use the local limiter).
    async fn acquire_fleet(&self, fleet: &Fleet, deadline: Instant) -> Option<Result<(), Instant>> {
        let (interval, tolerance) = match self.local.limit() {
            Some(l) => {
                let i = l.per / l.requests.max(1);
                (i, i * (l.burst.max(1) - 1))
            }
            None => (Duration::ZERO, Duration::ZERO),
        };
        let gcra = fleet.key("gcra");
        let pause = fleet.key("pause");
        let store = &fleet.handle.store;
        loop {
            let wait = fleet
                .run("reserve", store.reserve(&gcra, &pause, interval, tolerance))
                .await?;
            if wait.is_zero() {
                return Some(Ok(()));
            }
            if let Err(at) = wait_until_or_deadline(wait, deadline).await {
                return Some(Err(at));
            }
            // A 429 elsewhere in the fleet may have paused the account meanwhile.
            let paused = fleet.run("paused_for", store.paused_for(&pause)).await?;
            if paused.is_zero() {
                return Some(Ok(()));
            }
            if let Err(at) = wait_until_or_deadline(paused, deadline).await {
                return Some(Err(at));
            }
        }
    }

    /// Holds back every call of the account until `until` (after a 429): locally at once, and
    /// fleet-wide in the background (the call path never waits for the store).
    pub(crate) fn pause_until(&self, until: Instant) {
        super::pause_account(&self.account, until);
        if let Some(fleet) = self.fleet.clone() {
            let pause = until.saturating_duration_since(Instant::now());
            if pause.is_zero() {
                return;
            }
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let key = fleet.key("pause");
                    fleet
                        .run("pause", fleet.handle.store.pause(&key, pause))
                        .await;
                });
            }
        }
    }
}

/// Sleeps `wait` (clamped) unless that ends after `deadline`: then `Err(when)` at once.
async fn wait_until_or_deadline(wait: Duration, deadline: Instant) -> Result<(), Instant> {
    let at = Instant::now() + wait.min(MAX_STORE_WAIT);
    if at > deadline {
        return Err(at);
    }
    tokio::time::sleep_until(at).await;
    Ok(())
}
