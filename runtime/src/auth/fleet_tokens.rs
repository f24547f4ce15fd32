//! One token fetch per account across the fleet: a token stored by another process is used
//! as is; otherwise one process takes a lock key (with expiry) and fetches, and the others wait
//! for the token it stores. The stored entry expires at the fetcher's refresh point (before the
//! token itself), so nobody uses it past its margin. Store failures fall back to fetching
//! locally: a call never fails because of the store.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::auth::failure::AuthFailure;
use crate::auth::grants::TokenResponse;
use crate::core::secret::Secret;
use crate::fleet::handle::Fleet;

/// How often waiters look for the token the lock holder stores.
const POLL: Duration = Duration::from_millis(20);

#[derive(Serialize, Deserialize)]
struct Stored {
    access: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh: Option<String>,
}

/// The fleet side of one grant's token cache.
#[derive(Debug)]
pub(crate) struct FleetTokens {
    fleet: Fleet,
    key: String,
    lock: String,
    lock_ttl: Duration,
}

pub(crate) type Fetched = Result<(TokenResponse, Option<Secret>), AuthFailure>;

impl FleetTokens {
    /// `identity`: token URL, grant principal and scopes (hashed into the key).
    pub(crate) fn new(fleet: Fleet, identity: &[&str], lock_ttl: Duration) -> Self {
        let base = crate::fleet::hashed_key("token", identity);
        FleetTokens {
            fleet,
            lock: format!("{base}:lock"),
            key: base,
            lock_ttl,
        }
    }

    async fn stored(&self, stale: Option<&str>) -> Option<Option<(TokenResponse, Duration)>> {
        let got = self
            .fleet
            .run("get token", self.fleet.handle.store.get(&self.key))
            .await?;
        Some(got.and_then(|(v, ttl)| {
            let s: Stored = serde_json::from_str(&v).ok()?;
            if Some(s.access.as_str()) == stale || s.access.is_empty() {
                return None;
            }
            Some((
                TokenResponse {
                    access_token: Secret::new(s.access),
                    refresh_token: s.refresh.map(Secret::new),
                    expires_in: Some(ttl),
                },
                ttl,
            ))
        }))
    }

    async fn put(&self, resp: &TokenResponse, lifetime: Duration, margin: Duration) {
        let ttl = lifetime.saturating_sub(margin.min(lifetime / 5));
        if ttl < Duration::from_millis(10) {
            return;
        }
        let value = serde_json::to_string(&Stored {
            access: resp.access_token.expose().to_owned(),
            refresh: resp.refresh_token.as_ref().map(|r| r.expose().to_owned()),
        })
        .unwrap_or_default();
        self.fleet
            .run(
                "put token",
                self.fleet.handle.store.put(&self.key, &value, ttl),
            )
            .await;
    }

    /// A token for the local cache, with the margin to apply to it (zero for a token read from
    /// the store: its entry already expires at the refresh point). `stale`: the access token
    /// the local cache is replacing (never taken back from the store).
    pub(crate) async fn fetch<F>(
        &self,
        stale: Option<&str>,
        margin: Duration,
        default_lifetime: Duration,
        fetch: F,
    ) -> (Fetched, Duration)
    where
        F: AsyncFnOnce() -> Fetched,
    {
        let from_store =
            |(resp, _ttl): (TokenResponse, Duration)| (Ok((resp, None)), Duration::ZERO);
        match self.stored(stale).await {
            Some(Some(t)) => return from_store(t),
            Some(None) => {}
            None => return (fetch().await, margin),
        }
        let owner = uuid::Uuid::new_v4().to_string();
        let store = &self.fleet.handle.store;
        let locked = self
            .fleet
            .run(
                "lock token",
                store.try_lock(&self.lock, &owner, self.lock_ttl),
            )
            .await;
        if locked == Some(false) {
            // Another process is fetching: wait for what it stores, at most the lock's life.
            let deadline = tokio::time::Instant::now() + self.lock_ttl;
            while tokio::time::Instant::now() < deadline {
                tokio::time::sleep(POLL).await;
                match self.stored(stale).await {
                    Some(Some(t)) => return from_store(t),
                    Some(None) => {}
                    None => break,
                }
            }
        }
        let result = fetch().await;
        if let Ok((resp, _)) = &result {
            let lifetime = resp.expires_in.unwrap_or(default_lifetime);
            self.put(resp, lifetime, margin).await;
        }
        if locked == Some(true) {
            self.fleet
                .run("unlock token", store.unlock(&self.lock, &owner))
                .await;
        }
        (result, margin)
    }
}
