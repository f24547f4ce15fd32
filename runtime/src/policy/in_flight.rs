//! One identical call per account at a time. API Entreprise and API Particulier answer a
//! request that is "already in progress for this token" with 409: sending it again while the
//! first is in flight only costs quota. Identical calls of one account (same method, URL and
//! body) in this process therefore take turns; other processes' duplicates are handled by the
//! 409 rule of `policy::decide` (wait, then one more attempt).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, LazyLock, Mutex};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::core::registry::WeakRegistry;
use crate::core::sync::LockExt;
use crate::fleet::AccountId;

/// The calls of one account in flight, by fingerprint.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    calls: Mutex<HashMap<u64, Arc<AsyncMutex<()>>>>,
}

static IN_FLIGHT: LazyLock<WeakRegistry<AccountId, InFlight>> =
    LazyLock::new(WeakRegistry::default);

/// The process-wide in-flight table of `account`.
pub(crate) fn account_in_flight(account: &AccountId) -> Arc<InFlight> {
    IN_FLIGHT.get_or_insert(account.clone(), |_| true, |_| InFlight::default())
}

/// The fingerprint of a call: what makes two calls identical to the gateway. A collision only
/// makes two different calls take turns.
pub(crate) fn fingerprint(method: &http::Method, url: &str, body: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    (method.as_str(), url, body).hash(&mut h);
    h.finish()
}

/// A call's turn: identical calls wait until it is dropped (when the call ends, or when its
/// caller is cancelled).
pub(crate) struct Turn {
    owner: Arc<InFlight>,
    key: u64,
    lock: Arc<AsyncMutex<()>>,
    guard: Option<OwnedMutexGuard<()>>,
}

impl InFlight {
    /// Waits until no identical call of the account is in flight, then takes the turn.
    pub(crate) async fn turn(self: &Arc<Self>, key: u64) -> Turn {
        let lock = Arc::clone(self.calls.lock_unpoisoned().entry(key).or_default());
        let guard = Arc::clone(&lock).lock_owned().await;
        Turn {
            owner: Arc::clone(self),
            key,
            lock,
            guard: Some(guard),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.calls.lock_unpoisoned().len()
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut calls = self.owner.calls.lock_unpoisoned();
        drop(self.guard.take());
        // The table's Arc and ours: nobody else waits for this fingerprint. New waiters
        // clone under the table's lock, so this check cannot race with them.
        if Arc::strong_count(&self.lock) == 2 {
            calls.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn identical_calls_take_turns_and_the_table_empties() {
        let table = Arc::new(InFlight::default());
        let key = fingerprint(&http::Method::GET, "https://h/x?a=1", b"");
        let first = table.turn(key).await;
        let t2 = Arc::clone(&table);
        let second = tokio::spawn(async move {
            let _turn = t2.turn(key).await;
            tokio::time::Instant::now()
        });
        tokio::time::sleep(Duration::from_secs(3)).await;
        let released = tokio::time::Instant::now();
        drop(first);
        let got = second.await.unwrap();
        assert!(
            got >= released,
            "the second call ran while the first was in flight"
        );
        assert_eq!(table.len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn different_calls_do_not_wait_and_a_cancelled_waiter_leaves_no_entry() {
        let table = Arc::new(InFlight::default());
        let a = fingerprint(&http::Method::GET, "https://h/x?a=1", b"");
        let b = fingerprint(&http::Method::GET, "https://h/x?a=2", b"");
        assert_ne!(a, b);
        let _first = table.turn(a).await;
        let _other = tokio::time::timeout(Duration::from_millis(1), table.turn(b))
            .await
            .expect("a different call waited");
        let waiting = tokio::time::timeout(Duration::from_millis(1), table.turn(a)).await;
        assert!(waiting.is_err(), "an identical call did not wait");
        drop(_other);
        drop(_first);
        assert_eq!(table.len(), 0);
    }
}
