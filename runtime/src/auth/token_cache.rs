//! Process-wide, single-flight cache of OAuth access tokens.
//!
//! One entry per (grant, credentials, scopes, token URL, clock), keyed on the full key (not a
//! hash): every clone of a client, every task and every `ApiClient` built with the same account
//! share one token (the Douane requires this "mutualisation"; the DGFiP asks not to fetch a token
//! per call). A token is refreshed ahead of its expiry by a margin plus a little jitter.
//!
//! Single flight: the first caller that finds no fresh token starts the fetch as a task of its
//! own (so it survives that caller being cancelled) and every caller that arrives meanwhile
//! waits for that task's result, success or failure, even when the token is already stale on
//! arrival (`expires_in: 0`). After a failed fetch, further fetches are held back (by the token
//! endpoint's `Retry-After`, at least [`FAILURE_HOLD`](crate::FAILURE_HOLD)) and callers get that failure at once.

use std::fmt;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::auth::failure::AuthFailure;
use crate::core::registry::WeakRegistry;
use crate::core::secret::Secret;
use crate::core::sync::LockExt;
use crate::core::time::Clock;

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

pub(crate) type FetchResult = Result<CachedToken, AuthFailure>;
/// What a fetch produced: (access, refresh, lifetime), or the failure and how long to hold
/// further fetches back.
pub(crate) type FetchOutcome =
    Result<(Secret, Option<Secret>, Duration), (AuthFailure, Option<Duration>)>;
pub(crate) type FetchReceiver = watch::Receiver<Option<FetchResult>>;

#[derive(Default)]
struct State {
    token: Option<CachedToken>,
    next_generation: u64,
    /// The fetch in flight, if any: callers subscribe to its result.
    inflight: Option<FetchReceiver>,
    /// After a failed fetch: no new fetch before this instant; callers get the failure.
    hold: Option<(tokio::time::Instant, AuthFailure)>,
    fetches: u64,
}

/// One shared token slot.
pub(crate) struct TokenCache {
    state: Mutex<State>,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.state.lock_unpoisoned();
        f.debug_struct("TokenCache")
            .field("has_token", &st.token.is_some())
            .field("fetches", &st.fetches)
            .finish()
    }
}

/// What a caller must do to get a token.
pub(crate) enum Begin {
    Fresh(CachedToken),
    /// Fetches are held back after a failure: this one, with the time left.
    Held(AuthFailure, Duration),
    /// Wait for the fetch in flight.
    Wait(FetchReceiver),
    /// Start the fetch: run it, then [`TokenCache::finish`] with `tx`.
    Lead {
        stale: Option<CachedToken>,
        tx: watch::Sender<Option<FetchResult>>,
        rx: FetchReceiver,
    },
}

impl TokenCache {
    fn new() -> Self {
        TokenCache {
            state: Mutex::new(State::default()),
        }
    }

    /// A fresh token, the fetch to wait for, or the duty to start one.
    pub fn begin(&self, clock: &dyn Clock) -> Begin {
        let mut st = self.state.lock_unpoisoned();
        if let Some(t) = st.token.as_ref().filter(|t| t.is_fresh(clock.now())) {
            return Begin::Fresh(t.clone());
        }
        if let Some(rx) = &st.inflight {
            return Begin::Wait(rx.clone());
        }
        if let Some((until, f)) = &st.hold {
            let now = tokio::time::Instant::now();
            if *until > now {
                return Begin::Held(f.clone(), *until - now);
            }
            st.hold = None;
        }
        let (tx, rx) = watch::channel(None);
        st.inflight = Some(rx.clone());
        Begin::Lead {
            stale: st.token.clone(),
            tx,
            rx,
        }
    }

    /// Ends the fetch started by [`Begin::Lead`]: stores the token (or the failure and the
    /// hold-back) and hands the result to every waiter.
    pub fn finish(
        &self,
        tx: watch::Sender<Option<FetchResult>>,
        result: FetchOutcome,
        margin: Duration,
        clock: &dyn Clock,
    ) {
        let mut st = self.state.lock_unpoisoned();
        st.fetches += 1;
        st.inflight = None;
        let out = match result {
            Ok((access, refresh, lifetime)) => {
                let margin = margin.min(lifetime / 5);
                let jitter = margin.mul_f64(fastrand::f64() * 0.2);
                let refresh_at = clock.now() + lifetime.saturating_sub(margin + jitter);
                st.next_generation += 1;
                let t = CachedToken {
                    access,
                    refresh,
                    refresh_at,
                    generation: st.next_generation,
                    invalidated: false,
                };
                st.token = Some(t.clone());
                st.hold = None;
                Ok(t)
            }
            Err((failure, hold)) => {
                if let Some(h) = hold {
                    st.hold = Some((tokio::time::Instant::now() + h, failure.clone()));
                }
                Err(failure)
            }
        };
        drop(st);
        let _ = tx.send(Some(out));
    }

    /// Marks the token of `generation` unusable (after a 401 `invalid_token`), keeping its
    /// refresh token. A newer token is left alone, so concurrent 401s cause one refresh.
    pub fn invalidate(&self, generation: u64) {
        let mut st = self.state.lock_unpoisoned();
        if let Some(t) = st.token.as_mut()
            && t.generation == generation
        {
            t.invalidated = true;
        }
    }

    /// Forgets the token entirely (after a revoke).
    pub fn clear(&self) -> Option<CachedToken> {
        self.state.lock_unpoisoned().token.take()
    }

    /// The current token, fresh or not.
    pub fn current(&self) -> Option<CachedToken> {
        self.state.lock_unpoisoned().token.clone()
    }
}

/// The full identity of a cache entry. Compared whole (secrets included): two accounts never
/// share an entry, whatever their hashes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct CacheKey {
    pub token_url: String,
    pub kind: &'static str,
    pub client_id: String,
    pub secret: String,
    pub username: String,
    pub scopes: Vec<String>,
    pub clock: usize,
}

static REGISTRY: LazyLock<WeakRegistry<CacheKey, TokenCache>> =
    LazyLock::new(WeakRegistry::default);

/// Returns the process-wide cache for `key`, creating it if needed.
pub(crate) fn shared_cache(key: CacheKey) -> Arc<TokenCache> {
    REGISTRY.get_or_insert(key, |_| true, |_| TokenCache::new())
}
