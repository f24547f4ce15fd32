//! The fleet side of a host's circuit breaker: an open circuit seen by every process using the
//! store, and one half-open probe for the whole fleet.
//!
//! Three keys per host (`gouvgen:v1:breaker:<sha256 of scheme://host:port>`): `:open` lives for
//! the cooldown; `:half` outlives it (while it is there and `:open` is gone, the next call must
//! be the fleet's probe); `:probe` is the probe's lease (`SET NX PX`). Only the existing
//! [`SharedStore`](crate::fleet::SharedStore) operations are used, so any store supports it.
//!
//! Calls never wait for the store here except the would-be prober (one operation, within the
//! store timeout): the view of the fleet's state is refreshed in the background at most every
//! [`POLL`]. A store that fails gives the local breaker alone.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::core::sync::LockExt;
use crate::fleet::handle::{Fleet, StoreHandle};

/// How stale the fleet view may be.
pub(crate) const POLL: Duration = Duration::from_millis(100);
/// How long the half-open marker outlives the cooldown (a fleet that sends nothing for that
/// long starts closed again).
const HALF_OPEN_TTL: Duration = Duration::from_secs(600);
/// A store's "delete": the value expires at once.
const GONE: Duration = Duration::from_millis(1);

/// The fleet's state of one host, as last read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FleetState {
    Closed,
    Open {
        until: Instant,
    },
    /// Cooldown over: the next call is the fleet's probe.
    HalfOpen,
}

#[derive(Debug)]
struct View {
    state: FleetState,
    read_at: Option<Instant>,
}

/// What the would-be prober found.
#[derive(Debug)]
pub(crate) enum Probe {
    /// This process holds the fleet's probe lease (marked with this owner).
    Taken(String),
    /// Another process is probing, or the circuit is open again: refuse for this long.
    Busy(Duration),
    /// The circuit was closed meanwhile: a normal call.
    Closed,
    /// The store failed: probe locally.
    StoreDown,
}

#[derive(Debug)]
pub(crate) struct FleetBreaker {
    fleet: Fleet,
    view: Mutex<View>,
    polling: AtomicBool,
}

impl FleetBreaker {
    pub(crate) fn new(handle: StoreHandle, host: &str) -> Arc<Self> {
        Arc::new(FleetBreaker {
            fleet: Fleet {
                handle,
                prefix: crate::fleet::hashed_key("breaker", &[host]),
            },
            view: Mutex::new(View {
                state: FleetState::Closed,
                read_at: None,
            }),
            polling: AtomicBool::new(false),
        })
    }

    fn view(&self) -> std::sync::MutexGuard<'_, View> {
        self.view.lock_unpoisoned()
    }

    /// The fleet's state as last read; starts a background read if it is older than [`POLL`].
    pub(crate) fn state(self: &Arc<Self>) -> FleetState {
        let now = Instant::now();
        let (state, stale) = {
            let v = self.view();
            (v.state, v.read_at.is_none_or(|t| now >= t + POLL))
        };
        if stale && !self.polling.swap(true, Ordering::AcqRel) {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                let me = Arc::clone(self);
                rt.spawn(async move {
                    let s = me.read().await.unwrap_or(FleetState::Closed);
                    me.set(s);
                    me.polling.store(false, Ordering::Release);
                });
            } else {
                self.polling.store(false, Ordering::Release);
            }
        }
        match state {
            FleetState::Open { until } if now >= until => FleetState::HalfOpen,
            s => s,
        }
    }

    fn set(&self, state: FleetState) {
        let mut v = self.view();
        v.state = state;
        v.read_at = Some(Instant::now());
    }

    /// Reads the fleet's state; `None` if the store failed.
    async fn read(&self) -> Option<FleetState> {
        let store = &self.fleet.handle.store;
        let open = self.fleet.key("open");
        if let Some((_, left)) = self.fleet.run("breaker state", store.get(&open)).await? {
            return Some(FleetState::Open {
                until: Instant::now() + left,
            });
        }
        let half = self.fleet.key("half");
        Some(
            match self.fleet.run("breaker state", store.get(&half)).await? {
                Some(_) => FleetState::HalfOpen,
                None => FleetState::Closed,
            },
        )
    }

    /// Tries to become the fleet's prober (lease for `lease`), then checks the circuit is
    /// still waiting for a probe (a prober that just failed re-opens it before releasing).
    pub(crate) async fn take_probe(&self, lease: Duration) -> Probe {
        let store = &self.fleet.handle.store;
        let key = self.fleet.key("probe");
        let owner = uuid::Uuid::new_v4().to_string();
        match self
            .fleet
            .run("breaker probe", store.try_lock(&key, &owner, lease))
            .await
        {
            None => return Probe::StoreDown,
            Some(false) => {
                self.set(FleetState::Open {
                    until: Instant::now() + POLL,
                });
                return Probe::Busy(POLL);
            }
            Some(true) => {}
        }
        let state = self.read().await;
        match state {
            Some(FleetState::HalfOpen) => return Probe::Taken(owner),
            None => return Probe::StoreDown,
            Some(s) => self.set(s),
        }
        self.fleet
            .run("breaker unlock", store.unlock(&key, &owner))
            .await;
        match state {
            Some(FleetState::Open { until }) => {
                Probe::Busy(until.saturating_duration_since(Instant::now()))
            }
            _ => Probe::Closed,
        }
    }

    /// This process opened the circuit (or its probe failed): open for the fleet too, then
    /// release the probe lease `owner` if any. In the background: the call path never waits.
    pub(crate) fn opened(self: &Arc<Self>, cooldown: Duration, owner: Option<String>) {
        self.set(FleetState::Open {
            until: Instant::now() + cooldown,
        });
        self.spawn(move |me| async move {
            let store = &me.fleet.handle.store;
            let (open, half) = (me.fleet.key("open"), me.fleet.key("half"));
            let cooldown = cooldown.max(GONE);
            me.fleet
                .run(
                    "breaker open",
                    store.put(&half, "1", cooldown + HALF_OPEN_TTL),
                )
                .await;
            me.fleet
                .run("breaker open", store.put(&open, "1", cooldown))
                .await;
            me.release(owner).await;
        });
    }

    /// This process's probe succeeded: closed for the fleet.
    pub(crate) fn closed(self: &Arc<Self>, owner: Option<String>) {
        self.set(FleetState::Closed);
        self.spawn(move |me| async move {
            let store = &me.fleet.handle.store;
            let (open, half) = (me.fleet.key("open"), me.fleet.key("half"));
            me.fleet
                .run("breaker close", store.put(&open, "", GONE))
                .await;
            me.fleet
                .run("breaker close", store.put(&half, "", GONE))
                .await;
            me.release(owner).await;
        });
    }

    /// A probe dropped without outcome (its caller was cancelled): free the lease.
    pub(crate) fn abandoned(self: &Arc<Self>, owner: Option<String>) {
        self.spawn(move |me| async move { me.release(owner).await });
    }

    async fn release(&self, owner: Option<String>) {
        if let Some(owner) = owner {
            let key = self.fleet.key("probe");
            self.fleet
                .run(
                    "breaker unlock",
                    self.fleet.handle.store.unlock(&key, &owner),
                )
                .await;
        }
    }

    fn spawn<F, Fut>(self: &Arc<Self>, f: F)
    where
        F: FnOnce(Arc<Self>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(f(Arc::clone(self)));
        }
    }
}
