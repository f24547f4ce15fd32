//! Layer 4, `fleet`: the store that shares an account's state across processes and machines
//! (tokens, rate limit, 429 pauses, circuit state), and the keys naming accounts in it. It
//! knows no policy: `policy` and `auth` decide what to share, this layer only holds it.
//!
//! Quotas belong to the account, not to one client object: PISTE's 20 req/s is per
//! application, API Entreprise bans the IP. An account is the token URL + client id or
//! username, or the same static credential, on the same API host (`AccountId`, compared
//! field by field, never by a hash, inside the process).
//!
//! Across processes and machines, a [`SharedStore`] (feature `fleet`; Redis with feature
//! `redis`) holds that state; when it is down or slow, calls fall back to the process-local
//! state (one warning), and use the store again when it answers.
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

pub(crate) mod handle;
pub mod store;

#[cfg(feature = "redis")]
pub mod redis;

use std::fmt;

pub use store::{SharedStore, StoreDown};
#[cfg(feature = "fleet")]
pub use store::{StoreError, StoreFuture};

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
