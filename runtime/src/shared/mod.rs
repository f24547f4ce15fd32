//! State shared by every [`ApiClient`](crate::ApiClient) of one gateway account: the rate
//! limiter and the 429 / `Retry-After` pause (the token cache is shared the same way by
//! [`crate::auth::token_cache`]).
//!
//! Quotas belong to the account, not to one client object: PISTE's 20 req/s is per
//! application, API Entreprise bans the IP. So clients built separately for the same account
//! (token URL + client id or username, or the same static credential, on the same API host)
//! get one limiter from a process-wide registry, keyed by the full `AccountId` (compared
//! field by field, never by a hash).
//!
//! Across processes and machines, a [`SharedStore`] (Redis, feature `redis`) holds the same
//! state. The process-local limiter applies in every case, after the fleet's permit, so a
//! process never sends faster than its limit whatever the store does; each process holds at
//! most one unused fleet permit, so the fleet stays within the limit plus one call per process
//! in any window (also when the store restarts empty or answers late). When the store is down
//! or slower than its timeout, calls fall back to the process-local state (one warning),
//! keeping the pace the fleet gave them for one second, and use the store
//! again when it answers.
//!
//! ```no_run
//! # #[cfg(feature = "redis")]
//! # fn demo() -> Result<(), gouvgen_runtime::Error> {
//! use gouvgen_runtime::ApiClient;
//! use gouvgen_runtime::presets::{self, Environment, PisteAccess};
//! let client = ApiClient::builder(presets::piste(PisteAccess::Internet, Environment::Production))
//!     .client_credentials("client-id", "client-secret")
//!     .redis("rediss://:password@redis.internal:6380/0")
//!     .build()?;
//! # let _ = client; Ok(()) }
//! ```

pub(crate) mod breaker;
pub(crate) mod fleet;
pub(crate) mod limiter;
pub mod store;
pub(crate) mod tokens;

#[cfg(feature = "redis")]
pub mod redis;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock, Mutex, Weak};

use crate::rate_limit::{RateLimit, RateLimiter};

pub use store::{SharedStore, StoreError, StoreFuture};

/// Who a gateway counts calls against. Holds credential material for static credentials (a JWT,
/// a bearer, API keys), so it is never printed; only [`AccountId::fleet_key`] (a SHA-256)
/// leaves the process.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct AccountId {
    /// `scheme://host:port` of the API root.
    pub api_host: String,
    /// Token URL of an OAuth grant (empty otherwise).
    pub token_url: String,
    /// OAuth client id or username, or the static credential.
    pub principal: String,
    /// Values of the API keys sent on every call.
    pub api_keys: Vec<String>,
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountId")
            .field("api_host", &self.api_host)
            .finish_non_exhaustive()
    }
}

impl AccountId {
    /// Namespaced store key prefix for this account: `gouvgen:v1:account:<sha256>`.
    pub(crate) fn fleet_key(&self) -> String {
        let mut parts: Vec<&str> = vec![&self.api_host, &self.token_url, &self.principal];
        parts.extend(self.api_keys.iter().map(String::as_str));
        hashed_key("account", &parts)
    }
}

/// `gouvgen:v1:<kind>:<hex digest of the length-prefixed parts>`: keys that name no account
/// and hold no secret. SHA-256 with the `redis` feature; without it (custom stores only), a
/// 64-bit std hash plus the process id, so nothing is shared across processes by mistake.
pub(crate) fn hashed_key(kind: &str, parts: &[&str]) -> String {
    #[cfg(feature = "redis")]
    {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for p in parts {
            h.update((p.len() as u64).to_be_bytes());
            h.update(p.as_bytes());
        }
        let mut hex = String::with_capacity(64);
        for b in h.finalize().iter() {
            hex.push_str(&format!("{b:02x}"));
        }
        format!("gouvgen:v1:{kind}:{hex}")
    }
    #[cfg(not(feature = "redis"))]
    {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        parts.hash(&mut h);
        format!(
            "gouvgen:v1:{kind}:local{}:{:016x}",
            std::process::id(),
            h.finish()
        )
    }
}

/// `scheme://host:port` of a URL (port made explicit), or the URL itself if it does not parse.
pub(crate) fn host_of(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => format!(
            "{}://{}:{}",
            u.scheme(),
            u.host_str().unwrap_or(""),
            u.port_or_known_default().unwrap_or(0)
        ),
        Err(_) => url.to_owned(),
    }
}

/// Live limiters per account: one per distinct rate limit configured for it.
type LimiterRegistry = HashMap<AccountId, Vec<Weak<RateLimiter>>>;

static LIMITERS: LazyLock<Mutex<LimiterRegistry>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// The process-wide limiter of `account` for `limit`: clients of one account configured with
/// the same limit share one GCRA; a client configured with another limit gets its own (with a
/// warning: one account has one quota). A 429 pauses them all ([`pause_account`]).
pub(crate) fn account_limiter(account: &AccountId, limit: Option<RateLimit>) -> Arc<RateLimiter> {
    let mut reg = LIMITERS.lock().unwrap_or_else(|e| e.into_inner());
    reg.retain(|_, v| {
        v.retain(|w| w.strong_count() > 0);
        !v.is_empty()
    });
    let live = reg.entry(account.clone()).or_default();
    if let Some(l) = live
        .iter()
        .filter_map(Weak::upgrade)
        .find(|l| l.limit() == limit)
    {
        return l;
    }
    if let Some(other) = live.iter().find_map(Weak::upgrade) {
        tracing::warn!(
            api_host = %account.api_host,
            existing = ?other.limit(),
            asked = ?limit,
            "another client of this account has a different rate limit: each keeps its own \
             (429 pauses are still shared)"
        );
    }
    let l = Arc::new(RateLimiter::new(limit));
    live.push(Arc::downgrade(&l));
    l
}

/// Holds back every limiter of `account` in the process until `until` (after a 429).
pub(crate) fn pause_account(account: &AccountId, until: tokio::time::Instant) {
    let live: Vec<Arc<RateLimiter>> = {
        let reg = LIMITERS.lock().unwrap_or_else(|e| e.into_inner());
        reg.get(account)
            .map(|v| v.iter().filter_map(Weak::upgrade).collect())
            .unwrap_or_default()
    };
    for l in live {
        l.pause_until(until);
    }
}

/// The account of a client: API host, token URL and grant principal, or the static credential,
/// and the API key values.
pub(crate) fn account_of(
    api_root: &str,
    auth: &crate::auth::Auth,
    api_keys: &[crate::auth::ApiKey],
) -> AccountId {
    use crate::auth::Auth;
    let (token_url, principal) = match auth {
        Auth::None => (String::new(), String::new()),
        Auth::Static(s) | Auth::Jwt { header: s, .. } => {
            (String::new(), format!("static\0{}", s.expose()))
        }
        Auth::Token(p) => p.account(),
    };
    AccountId {
        api_host: host_of(api_root),
        token_url,
        principal,
        api_keys: api_keys
            .iter()
            .map(|k| k.value.expose().to_owned())
            .collect(),
    }
}
