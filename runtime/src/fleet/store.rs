//! The pluggable fleet store: what processes and machines share about one account.
//!
//! The runtime calls a store with short timeouts and treats every error as "use the
//! process-local state" (see the `limiter` module), so an implementation never has to retry.
//! Keys are given by the runtime (`gouvgen:v1:<sha256>:…`) and never contain a secret; token
//! values do contain the access token, so the store must be as private as the credentials.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A boxed future returned by [`SharedStore`] methods.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A store failure (unreachable, refused, malformed answer). Never contains a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "shared store: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

/// State shared by a fleet of clients of one account, atomically.
pub trait SharedStore: Send + Sync + fmt::Debug {
    /// GCRA: reserves the next slot of the limiter at `key` (emission `interval`, burst
    /// `tolerance`) and returns how long the caller must wait for it. Also waits out a pause
    /// set with [`SharedStore::pause`] on `pause_key`. `interval` zero: only the pause applies.
    fn reserve<'a>(
        &'a self,
        key: &'a str,
        pause_key: &'a str,
        interval: Duration,
        tolerance: Duration,
    ) -> StoreFuture<'a, Duration>;

    /// Holds back every client of the account for `pause` (a 429), unless a longer pause is
    /// already set.
    fn pause<'a>(&'a self, pause_key: &'a str, pause: Duration) -> StoreFuture<'a, ()>;

    /// Time left of the pause at `pause_key` (zero if none).
    fn paused_for<'a>(&'a self, pause_key: &'a str) -> StoreFuture<'a, Duration>;

    /// The value at `key` and its time to live, if any.
    fn get<'a>(&'a self, key: &'a str) -> StoreFuture<'a, Option<(String, Duration)>>;

    /// Stores `value` at `key` for `ttl`.
    fn put<'a>(&'a self, key: &'a str, value: &'a str, ttl: Duration) -> StoreFuture<'a, ()>;

    /// Takes the lock `key` for `ttl` if free, marked with `owner`; `true` if taken.
    fn try_lock<'a>(&'a self, key: &'a str, owner: &'a str, ttl: Duration)
    -> StoreFuture<'a, bool>;

    /// Releases the lock `key` if `owner` still holds it.
    fn unlock<'a>(&'a self, key: &'a str, owner: &'a str) -> StoreFuture<'a, ()>;

    /// Opens the store's first connection (the runtime waits for it at most
    /// [`FIRST_CONNECT_TIMEOUT`](crate::shared::store::FIRST_CONNECT_TIMEOUT) before the
    /// store timeout applies to operations): a handshake slower than one operation does not
    /// send the fleet into degraded mode. Default: nothing to do.
    fn connect(&self) -> StoreFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }
}

/// What a client does while its fleet store is down (unreachable, failing or slower than its
/// timeout): an explicit choice, because both have a cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StoreDown {
    /// Go on with the process-local limiter, tokens and pauses (the default): calls keep
    /// flowing, each process within its own limit, so the fleet may reach the limit times the
    /// number of processes until the store is back.
    #[default]
    FailOpen,
    /// Refuse calls at once with [`Error::SharedStoreDown`](crate::Error::SharedStoreDown)
    /// (nothing sent) until the store answers again: the account's limit holds whatever
    /// happens, calls stop while the store is down.
    FailClosed,
}

/// Longest wait for a store's first connection ([`SharedStore::connect`]).
pub const FIRST_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
