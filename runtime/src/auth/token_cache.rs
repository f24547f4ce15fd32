//! Process-wide, single-flight cache of OAuth access tokens.
//!
//! One entry per (grant, credentials, scopes, token URL): every clone of a client, every task and
//! every `ApiClient` built with the same account share one token (the Douane requires this
//! "mutualisation"; the DGFiP asks not to fetch a token per call). A token is refreshed ahead of
//! its expiry by a margin plus a little jitter. Concurrent callers on a cold or stale entry wait on
//! one async mutex, so exactly one token request is made; if that request fails, the callers that
//! were waiting for it get the same failure instead of each trying again.

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::secret::Secret;

/// Source of time for token expiry and JWT checks; inject a [`ManualClock`] in tests.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Monotonic now.
    fn now(&self) -> Instant;
    /// Wall-clock now.
    fn now_utc(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The real clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to (for tests).
#[derive(Debug)]
pub struct ManualClock {
    base: Instant,
    base_utc: DateTime<Utc>,
    offset: Mutex<Duration>,
}

impl ManualClock {
    /// A clock starting at the real current time.
    pub fn new() -> Self {
        ManualClock {
            base: Instant::now(),
            base_utc: Utc::now(),
            offset: Mutex::new(Duration::ZERO),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        *self.offset.lock().unwrap() += by;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.base + *self.offset.lock().unwrap()
    }
    fn now_utc(&self) -> DateTime<Utc> {
        self.base_utc + chrono::Duration::from_std(*self.offset.lock().unwrap()).unwrap_or_default()
    }
}

/// A token as stored in the cache.
#[derive(Clone)]
pub(crate) struct CachedToken {
    pub access: Secret,
    pub refresh: Option<Secret>,
    pub refresh_at: Instant,
    pub generation: u64,
    /// Set by a 401 `invalid_token`: the access token is unusable but the refresh token may work.
    pub invalidated: bool,
}

impl CachedToken {
    pub fn is_fresh(&self, now: Instant) -> bool {
        !self.invalidated && now < self.refresh_at
    }
}

#[derive(Default)]
struct State {
    token: Option<CachedToken>,
    next_generation: u64,
    /// Incremented at the end of each fetch, with its failure if it failed.
    fetches: u64,
    last_failure: Option<crate::auth::AuthFailure>,
}

/// One shared token slot.
pub(crate) struct TokenCache {
    state: Mutex<State>,
    /// Held while a token request is in flight (single flight).
    fetch_lock: Arc<tokio::sync::Mutex<()>>,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.lock().unwrap();
        f.debug_struct("TokenCache")
            .field("has_token", &st.token.is_some())
            .field("fetches", &st.fetches)
            .finish()
    }
}

impl TokenCache {
    fn new() -> Self {
        TokenCache {
            state: Mutex::new(State::default()),
            fetch_lock: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    fn fresh(&self, now: Instant) -> Option<CachedToken> {
        let st = self.state.lock().unwrap();
        st.token.clone().filter(|t| t.is_fresh(now))
    }

    /// Returns a fresh token, or the fetch lock when the caller must fetch one. If a fetch
    /// that this caller waited for failed, returns that failure.
    pub async fn lookup(
        self: &Arc<Self>,
        clock: &dyn Clock,
    ) -> Result<LookupOwned, crate::auth::AuthFailure> {
        if let Some(t) = self.fresh(clock.now()) {
            return Ok(LookupOwned::Fresh(t));
        }
        let fetches_before = self.state.lock().unwrap().fetches;
        let guard = Arc::clone(&self.fetch_lock).lock_owned().await;
        let st = self.state.lock().unwrap();
        if let Some(t) = st.token.clone().filter(|t| t.is_fresh(clock.now())) {
            return Ok(LookupOwned::Fresh(t));
        }
        if st.fetches != fetches_before {
            if let Some(f) = &st.last_failure {
                return Err(f.clone());
            }
        }
        let stale = st.token.clone();
        drop(st);
        Ok(LookupOwned::Fetch {
            stale,
            guard: FetchGuard { _guard: guard },
        })
    }

    /// Stores a fetched token (call while holding the fetch guard).
    pub fn store(
        &self,
        access: Secret,
        refresh: Option<Secret>,
        lifetime: Duration,
        margin: Duration,
        clock: &dyn Clock,
    ) -> CachedToken {
        let margin = margin.min(lifetime / 5);
        let jitter = margin.mul_f64(fastrand::f64() * 0.2);
        let refresh_at = clock.now() + lifetime.saturating_sub(margin + jitter);
        let mut st = self.state.lock().unwrap();
        st.next_generation += 1;
        let t = CachedToken {
            access,
            refresh,
            refresh_at,
            generation: st.next_generation,
            invalidated: false,
        };
        st.token = Some(t.clone());
        st.fetches += 1;
        st.last_failure = None;
        t
    }

    /// Records a failed fetch (call while holding the fetch guard).
    pub fn record_failure(&self, failure: crate::auth::AuthFailure) {
        let mut st = self.state.lock().unwrap();
        st.fetches += 1;
        st.last_failure = Some(failure);
    }

    /// Marks the token of `generation` unusable (after a 401 `invalid_token`), keeping its
    /// refresh token. A newer token is left alone, so concurrent 401s cause one refresh.
    pub fn invalidate(&self, generation: u64) {
        let mut st = self.state.lock().unwrap();
        if let Some(t) = st.token.as_mut() {
            if t.generation == generation {
                t.invalidated = true;
            }
        }
    }

    /// Forgets the token entirely (after a revoke).
    pub fn clear(&self) -> Option<CachedToken> {
        self.state.lock().unwrap().token.take()
    }

    /// The current token, fresh or not.
    pub fn current(&self) -> Option<CachedToken> {
        self.state.lock().unwrap().token.clone()
    }
}

/// Result of a cache look-up.
pub(crate) enum LookupOwned {
    Fresh(CachedToken),
    /// The caller must fetch; `stale` is the previous token (for its refresh token).
    Fetch {
        stale: Option<CachedToken>,
        guard: FetchGuard,
    },
}

/// Proof that the caller holds the single-flight lock; released on drop.
pub(crate) struct FetchGuard {
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

static REGISTRY: LazyLock<Mutex<HashMap<u64, Weak<TokenCache>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Returns the process-wide cache for `key`, creating it if needed.
pub(crate) fn shared_cache(key: &impl Hash) -> Arc<TokenCache> {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    let k = h.finish();
    let mut reg = REGISTRY.lock().unwrap();
    if let Some(c) = reg.get(&k).and_then(Weak::upgrade) {
        return c;
    }
    reg.retain(|_, w| w.strong_count() > 0);
    let c = Arc::new(TokenCache::new());
    reg.insert(k, Arc::downgrade(&c));
    c
}
