//! The limiter a client uses: the account's process-wide GCRA and 429 pause, and, with a
//! fleet store, the fleet-wide ones.
//!
//! With a fleet store and a rate limit, a call is admitted in three steps, one call at a time
//! per process (a FIFO gate per account and limit):
//!
//! 1. a fleet permit: a slot of the fleet-wide GCRA, reserved in the store (or, while the
//!    store is down or slow past its timeout, none: the process goes on alone);
//! 2. the wait for that slot (and, for a permit that waited or was reserved a while ago, a
//!    look at the fleet's 429 pause);
//! 3. the process-local GCRA, **always**: whatever the store answers (slow, restarted empty,
//!    wrong), a process never sends faster than its limit.
//!
//! Each process holds at most one fleet permit it has not yet used: the one the gate's holder
//! waits for, or the next one, reserved in the background as soon as a call is admitted (so
//! a call finds its permit ready, instead of one store round trip on its path). A permit's
//! slot is never later than the call it admits, so in any window the fleet sends at most the
//! slots of the window plus one held-over permit per process: the limit plus one call per
//! process, also when the store restarts empty (it forgets at most one reserved permit per
//! process) or answers slowly (a slot is waited for after the answer arrives).

use crate::core::registry::WeakRegistry;
use crate::core::sync::LockExt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::fleet::AccountId;
use crate::fleet::handle::Fleet;
use crate::policy::rate_limit::{RateLimit, RateLimiter};

/// Longest wait a store may impose on one reservation (a hostile or corrupt value is clamped).
const MAX_STORE_WAIT: Duration = Duration::from_secs(24 * 3600);

/// When the store stops answering, each process keeps, this long, the pace the fleet gave it
/// (its share of the limit) before it goes on alone at its own limit: a short outage (a
/// restart, a slow connection) does not let the fleet multiply the limit.
pub(crate) const DEGRADED_SHARE_FOR: Duration = Duration::from_secs(1);

/// A permit reserved longer ago than this is checked against the fleet's 429 pause before use
/// (a pause set elsewhere after the reservation must hold it back).
const FRESH_PERMIT: Duration = Duration::from_millis(20);

/// A fleet permit: the slot (local time) and when the store granted it.
#[derive(Clone, Copy, Debug)]
struct Permit {
    slot: Instant,
    granted: Instant,
}

/// The permit a process holds for its next call.
#[derive(Debug, Default)]
enum Held {
    #[default]
    None,
    Ready(Permit),
    /// Being reserved in the background (`None`: the store failed).
    Pending(JoinHandle<Option<Permit>>),
}

/// One gate per (account's local limiter, store): admits one call at a time.
#[derive(Debug)]
struct Gate {
    /// Keeps the limiter (and so the registry key) alive while the gate lives.
    _local: Arc<RateLimiter>,
    held: tokio::sync::Mutex<Held>,
    /// Calls waiting for the gate (for the deadline estimate).
    waiting: AtomicU32,
    /// Slot the gate's holder waits for, at least (for the deadline estimate).
    busy_until: Mutex<Instant>,
    /// The pace the fleet gave this process, for [`DEGRADED_SHARE_FOR`].
    share: Mutex<Share>,
}

/// The spacing of this process's calls while the fleet admitted them.
#[derive(Debug, Default)]
struct Share {
    /// Last call admitted (fleet or not).
    last_admit: Option<Instant>,
    /// Moving average of the spacing of calls admitted by fleet permits.
    spacing: Option<Duration>,
    /// Last call admitted by a fleet permit.
    last_fleet: Option<Instant>,
}

impl Share {
    /// After a call admitted with (`true`) or without a fleet permit.
    fn admitted(&mut self, fleet: bool, interval: Duration) {
        let now = Instant::now();
        if fleet {
            if let Some(last) = self.last_admit {
                let sample = now.saturating_duration_since(last).max(interval);
                self.spacing = Some(match self.spacing {
                    Some(s) => s.mul_f64(0.7) + sample.mul_f64(0.3),
                    None => sample,
                });
            }
            self.last_fleet = Some(now);
        }
        self.last_admit = Some(now);
    }

    /// Without the store: when this process may send next to keep its fleet share, if the
    /// store answered less than [`DEGRADED_SHARE_FOR`] ago.
    fn degraded_slot(&self) -> Option<Instant> {
        let last_fleet = self.last_fleet?;
        if last_fleet.elapsed() >= DEGRADED_SHARE_FOR {
            return None;
        }
        Some(self.last_admit? + self.spacing?)
    }
}

/// One gate per (process-local limiter, store), shared by every client of the account.
static GATES: LazyLock<WeakRegistry<(usize, usize), Gate>> = LazyLock::new(WeakRegistry::default);

fn gate_of(local: &Arc<RateLimiter>, fleet: &Fleet) -> Arc<Gate> {
    let key = (
        Arc::as_ptr(local) as usize,
        Arc::as_ptr(&fleet.handle.store) as *const () as usize,
    );
    GATES.get_or_insert(
        key,
        |_| true,
        |_| Gate {
            _local: Arc::clone(local),
            held: tokio::sync::Mutex::new(Held::None),
            waiting: AtomicU32::new(0),
            busy_until: Mutex::new(Instant::now()),
            share: Mutex::new(Share::default()),
        },
    )
}

/// Counts a caller waiting for the gate while it lives.
struct Waiting<'a>(&'a AtomicU32);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[derive(Debug)]
pub(crate) struct Limiter {
    local: Arc<RateLimiter>,
    account: AccountId,
    fleet: Option<Fleet>,
    /// With a fleet and a rate limit: the process's gate for this account and limit.
    gate: Option<Arc<Gate>>,
}

impl Limiter {
    /// The account's shared limiter for `limit` in this process, and its fleet view.
    pub(crate) fn new(account: AccountId, limit: Option<RateLimit>, fleet: Option<Fleet>) -> Self {
        let local = super::account_limiter(&account, limit);
        let gate = match (&fleet, limit) {
            (Some(f), Some(_)) => Some(gate_of(&local, f)),
            _ => None,
        };
        Limiter {
            local,
            account,
            fleet,
            gate,
        }
    }

    pub(crate) fn limit(&self) -> Option<RateLimit> {
        self.local.limit()
    }

    /// Waits for this call's slot: fleet-wide if the store answers, and process-wide always.
    /// A slot that comes after `deadline` is not waited for: the call gets, at once, the
    /// instant it would have come (when to come back).
    pub(crate) async fn acquire(&self, deadline: Instant) -> Result<(), Instant> {
        match (&self.fleet, &self.gate) {
            (Some(fleet), Some(gate)) => self.acquire_gated(fleet, gate, deadline).await,
            (Some(fleet), None) => {
                // No rate limit: only the fleet's 429 pause applies.
                if let Some(Err(at)) = self.acquire_fleet(fleet, deadline).await {
                    return Err(at);
                }
                self.local.acquire(deadline).await
            }
            (None, _) => self.local.acquire(deadline).await,
        }
    }

    /// Emission interval and burst tolerance of the limit (zero without a limit).
    fn gcra(&self) -> (Duration, Duration) {
        match self.local.limit() {
            Some(l) => {
                let i = l.per / l.requests.max(1);
                (i, i * (l.burst.max(1) - 1))
            }
            None => (Duration::ZERO, Duration::ZERO),
        }
    }

    /// The three steps of the module docs, one caller at a time.
    async fn acquire_gated(
        &self,
        fleet: &Fleet,
        gate: &Arc<Gate>,
        deadline: Instant,
    ) -> Result<(), Instant> {
        let (interval, _) = self.gcra();
        let ahead = gate.waiting.fetch_add(1, Ordering::AcqRel);
        let waiting = Waiting(&gate.waiting);
        let busy = *gate.busy_until.lock_unpoisoned();
        let estimate = busy.max(Instant::now()) + interval * ahead;
        if estimate > deadline {
            return Err(estimate);
        }
        let Ok(mut held) = tokio::time::timeout_at(deadline, gate.held.lock()).await else {
            return Err(estimate.max(deadline) + interval);
        };
        drop(waiting);
        let permit = self.next_permit(fleet, &mut held).await;
        let share = match permit {
            None => gate.share.lock_unpoisoned().degraded_slot(),
            Some(_) => None,
        };
        if let Some(slot) = share {
            // The store just stopped answering: keep the fleet's pace a little while.
            if slot > deadline {
                return Err(slot);
            }
            tokio::time::sleep_until(slot).await;
        }
        if let Some(p) = permit {
            *gate.busy_until.lock_unpoisoned() = p.slot;
            if let Err(at) = wait_for_permit(fleet, p, deadline).await {
                // Kept for the next call: a reserved slot is not given back.
                *held = Held::Ready(p);
                return Err(at);
            }
        }
        if let Err(at) = self.local.acquire(deadline).await {
            if let Some(p) = permit {
                *held = Held::Ready(p);
            }
            return Err(at);
        }
        gate.share
            .lock_unpoisoned()
            .admitted(permit.is_some(), interval);
        if permit.is_some() {
            // The next call's permit, reserved while this one is sent.
            let (this, fleet) = (self.reservation(), fleet.clone());
            *held = match tokio::runtime::Handle::try_current() {
                Ok(rt) => Held::Pending(rt.spawn(async move { this.run(&fleet).await })),
                Err(_) => Held::None,
            };
        }
        Ok(())
    }

    /// The permit held for the next call (waiting for its reservation if in flight), or a new
    /// one; `None` if the store failed or is marked down.
    async fn next_permit(&self, fleet: &Fleet, held: &mut Held) -> Option<Permit> {
        let permit = match std::mem::take(held) {
            Held::Ready(p) => Some(p),
            Held::Pending(h) => h.await.ok().flatten(),
            Held::None => None,
        };
        match permit {
            Some(p) => Some(p),
            None => self.reservation().run(fleet).await,
        }
    }

    fn reservation(&self) -> Reservation {
        let (interval, tolerance) = self.gcra();
        Reservation {
            interval,
            tolerance,
        }
    }

    /// The fleet's answer without a limit (its 429 pause), or `None` if the store failed.
    async fn acquire_fleet(&self, fleet: &Fleet, deadline: Instant) -> Option<Result<(), Instant>> {
        let (interval, tolerance) = self.gcra();
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

/// What a fleet reservation needs (owned, for the background one).
struct Reservation {
    interval: Duration,
    tolerance: Duration,
}

impl Reservation {
    async fn run(self, fleet: &Fleet) -> Option<Permit> {
        let (gcra, pause) = (fleet.key("gcra"), fleet.key("pause"));
        let store = &fleet.handle.store;
        let wait = fleet
            .run(
                "reserve",
                store.reserve(&gcra, &pause, self.interval, self.tolerance),
            )
            .await?;
        // The wait counts from the store's clock when it answered; counted from the answer's
        // arrival here, the slot can only be later (never earlier) than the store's.
        let granted = Instant::now();
        Some(Permit {
            slot: granted + wait.min(MAX_STORE_WAIT),
            granted,
        })
    }
}

/// Waits for the permit's slot, then (if it waited, or was reserved a while ago) out any 429
/// pause set elsewhere in the fleet meanwhile; `Err(when)` at once if that ends after
/// `deadline`.
async fn wait_for_permit(fleet: &Fleet, p: Permit, deadline: Instant) -> Result<(), Instant> {
    if p.slot > deadline {
        return Err(p.slot);
    }
    let now = Instant::now();
    if p.slot <= now && now.duration_since(p.granted) <= FRESH_PERMIT {
        return Ok(());
    }
    tokio::time::sleep_until(p.slot).await;
    let pause = &fleet.key("pause");
    let paused = fleet
        .run("paused_for", fleet.handle.store.paused_for(pause))
        .await;
    match paused.filter(|p| !p.is_zero()) {
        Some(paused) => wait_until_or_deadline(paused, deadline).await,
        None => Ok(()),
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
