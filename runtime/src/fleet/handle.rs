//! A client's handle on the fleet store: the account's keys, a short timeout on every store
//! operation, and the degraded mode (store down or slow → process-local state, one warning,
//! back to shared state when the store answers again).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::store::{SharedStore, StoreError};
use crate::core::sync::LockExt;

/// How long the store is left alone after a failure before it is tried again.
const RETRY_STORE_AFTER: Duration = Duration::from_millis(500);

/// Whether the store answers, shared by every client using the same store.
#[derive(Debug, Default)]
pub(crate) struct Health {
    /// The store's first connection is open ([`SharedStore::connect`]).
    connected: AtomicBool,
    degraded: AtomicBool,
    /// While degraded: milliseconds since [`EPOCH`] before which the store is not tried.
    retry_at_ms: AtomicU64,
}

static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

fn now_ms() -> u64 {
    Instant::now().saturating_duration_since(*EPOCH).as_millis() as u64
}

impl Health {
    /// Whether to try the store now.
    fn usable(&self) -> bool {
        !self.degraded.load(Ordering::Acquire)
            || now_ms() >= self.retry_at_ms.load(Ordering::Acquire)
    }

    fn failed(&self, what: &str, e: &StoreError) {
        self.retry_at_ms.store(
            now_ms() + RETRY_STORE_AFTER.as_millis() as u64,
            Ordering::Release,
        );
        if !self.degraded.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                operation = what,
                error = %e,
                "shared store unavailable: using process-local tokens and limits until it answers"
            );
        }
    }

    fn succeeded(&self) {
        if self.degraded.swap(false, Ordering::AcqRel) {
            tracing::info!("shared store answers again: tokens and limits are shared again");
        }
    }
}

/// One store and its health, per store instance (clients of several accounts share it).
#[derive(Clone, Debug)]
pub(crate) struct StoreHandle {
    pub store: Arc<dyn SharedStore>,
    pub health: Arc<Health>,
    pub timeout: Duration,
}

/// Health per store instance (by address, while the store lives).
type HealthRegistry = Vec<(usize, std::sync::Weak<Health>)>;

static HEALTH: LazyLock<Mutex<HealthRegistry>> = LazyLock::new(|| Mutex::new(Vec::new()));

impl StoreHandle {
    /// Whether the store is marked down (its last operation failed, and it is not yet time to
    /// try it again).
    pub(crate) fn is_down(&self) -> bool {
        !self.health.usable()
    }

    /// A handle on `store`; clients given the same store `Arc` share its health.
    pub(crate) fn new(store: Arc<dyn SharedStore>, timeout: Duration) -> Self {
        let id = Arc::as_ptr(&store) as *const () as usize;
        let mut reg = HEALTH.lock_unpoisoned();
        reg.retain(|(_, w)| w.strong_count() > 0);
        let health = match reg
            .iter()
            .find(|(i, _)| *i == id)
            .and_then(|(_, w)| w.upgrade())
        {
            Some(h) => h,
            None => {
                let h = Arc::new(Health::default());
                reg.push((id, Arc::downgrade(&h)));
                h
            }
        };
        StoreHandle {
            store,
            health,
            timeout,
        }
    }
}

/// The account's view of the store.
#[derive(Clone, Debug)]
pub(crate) struct Fleet {
    pub handle: StoreHandle,
    /// `gouvgen:v1:<sha256 of the account>`.
    pub prefix: String,
}

impl Fleet {
    pub(crate) fn key(&self, what: &str) -> String {
        format!("{}:{what}", self.prefix)
    }

    /// Runs one store operation within the store timeout; `None` (and degraded mode) if the
    /// store is marked down, fails or is too slow.
    pub(crate) async fn run<T, F>(&self, what: &str, op: F) -> Option<T>
    where
        F: Future<Output = Result<T, StoreError>>,
    {
        let h = &self.handle.health;
        if !h.usable() {
            return None;
        }
        if !h.connected.load(Ordering::Acquire) {
            let limit = super::store::FIRST_CONNECT_TIMEOUT;
            match tokio::time::timeout(limit, self.handle.store.connect()).await {
                Ok(Ok(())) => h.connected.store(true, Ordering::Release),
                Ok(Err(e)) => {
                    h.failed(what, &e);
                    return None;
                }
                Err(_) => {
                    let e = StoreError(format!("no connection within {limit:?}"));
                    h.failed(what, &e);
                    return None;
                }
            }
        }
        match tokio::time::timeout(self.handle.timeout, op).await {
            Ok(Ok(v)) => {
                h.succeeded();
                Some(v)
            }
            Ok(Err(e)) => {
                h.failed(what, &e);
                None
            }
            Err(_) => {
                h.failed(
                    what,
                    &StoreError(format!("no answer within {:?}", self.handle.timeout)),
                );
                None
            }
        }
    }
}
