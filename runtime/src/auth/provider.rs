//! The token provider of an OAuth client: the process-wide cache, the single-flight fetch,
//! the fleet share and revocation.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::auth::failure::AuthFailure;
use crate::auth::grants::{self, Endpoint, Exchange, Grant};
use crate::auth::token_cache::{self, Begin, CacheKey, CachedToken, TokenCache};
use crate::core::scrub::Scrubber;
use crate::core::secret::Secret;
use crate::core::time::Clock;

/// Where and how a provider talks to the token endpoint.
pub(crate) struct ProviderConfig {
    pub token_url: String,
    pub revoke_url: Option<String>,
    pub clock: Arc<dyn Clock>,
    pub custom_clock: bool,
    pub margin: Duration,
    pub http: reqwest::Client,
    pub timeout: Duration,
    pub max_size: usize,
}

/// Fetches and caches OAuth tokens for one grant.
pub(crate) struct TokenProvider {
    grant: Grant,
    cfg: ProviderConfig,
    cache: Arc<TokenCache>,
    scrubber: Scrubber,
    default_lifetime: Duration,
    requests: AtomicU64,
    /// Fleet-wide single flight (a [`crate::fleet::SharedStore`]), if configured.
    fleet: std::sync::OnceLock<crate::auth::fleet_tokens::FleetTokens>,
}

impl fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenProvider")
            .field("grant", &self.grant)
            .field("token_url", &self.cfg.token_url)
            .field("revoke_url", &self.cfg.revoke_url)
            .field("cache", &self.cache)
            .field("margin", &self.cfg.margin)
            .finish_non_exhaustive()
    }
}

impl TokenProvider {
    pub(crate) fn new(grant: Grant, cfg: ProviderConfig) -> Self {
        let mut scopes: Vec<String> = grant.scopes().to_vec();
        scopes.sort_unstable();
        scopes.dedup();
        let clock = if cfg.custom_clock {
            Arc::as_ptr(&cfg.clock) as *const () as usize
        } else {
            0
        };
        let key = match &grant {
            Grant::ClientCredentials {
                client_id,
                client_secret,
                ..
            } => CacheKey {
                token_url: cfg.token_url.clone(),
                kind: "client_credentials",
                client_id: client_id.expose().to_owned(),
                secret: client_secret.expose().to_owned(),
                username: String::new(),
                scopes,
                clock,
            },
            Grant::Password {
                client_id,
                username,
                password,
                ..
            } => CacheKey {
                token_url: cfg.token_url.clone(),
                kind: "password",
                client_id: client_id.clone(),
                secret: password.expose().to_owned(),
                username: username.expose().to_owned(),
                scopes,
                clock,
            },
        };
        TokenProvider {
            scrubber: grant.scrubber(),
            grant,
            cache: token_cache::shared_cache(key),
            cfg,
            default_lifetime: Duration::from_secs(300),
            requests: AtomicU64::new(0),
            fleet: std::sync::OnceLock::new(),
        }
    }

    /// Every secret of the grant, for scrubbing API error bodies.
    pub(crate) fn scrubber(&self) -> &Scrubber {
        &self.scrubber
    }

    /// The token URL.
    pub(crate) fn token_url(&self) -> &str {
        &self.cfg.token_url
    }

    /// Who the gateway counts this grant's calls against: the token URL and the grant's client
    /// id or username (no secret), for the shared limiter ([`crate::fleet`]).
    pub(crate) fn account(&self) -> (String, String) {
        let who = match &self.grant {
            Grant::ClientCredentials { client_id, .. } => {
                format!("client_credentials\0{}", client_id.expose())
            }
            Grant::Password {
                client_id,
                username,
                ..
            } => format!("password\0{client_id}\0{}", username.expose()),
        };
        (self.cfg.token_url.clone(), who)
    }

    /// Shares this grant's token with the fleet through `fleet`'s store.
    pub(crate) fn attach_fleet(&self, fleet: crate::fleet::handle::Fleet) {
        let (token_url, principal) = self.account();
        let mut scopes: Vec<&str> = self.grant.scopes().iter().map(String::as_str).collect();
        scopes.sort_unstable();
        scopes.dedup();
        let mut identity = vec![token_url.as_str(), principal.as_str()];
        identity.extend(scopes);
        let lock_ttl = self.cfg.timeout + Duration::from_secs(2);
        let _ = self.fleet.set(crate::auth::fleet_tokens::FleetTokens::new(
            fleet, &identity, lock_ttl,
        ));
    }

    /// Fetches a token, through the fleet's single flight when one is attached; also returns
    /// the refresh margin to apply (the fleet's, for a token another process fetched).
    async fn fetch_shared(
        &self,
        stale: Option<&CachedToken>,
    ) -> (
        Result<(grants::TokenResponse, Option<Secret>), AuthFailure>,
        Duration,
    ) {
        match self.fleet.get() {
            Some(f) => {
                let stale_access = stale.map(|t| t.access.expose());
                let fetch = async || self.fetch(stale).await;
                f.fetch(stale_access, self.cfg.margin, self.default_lifetime, fetch)
                    .await
            }
            None => (self.fetch(stale).await, self.cfg.margin),
        }
    }

    /// Number of token endpoint requests made through this provider.
    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn endpoint<'a>(&'a self, url: &'a str) -> Endpoint<'a> {
        Endpoint {
            http: &self.cfg.http,
            url,
            timeout: self.cfg.timeout,
            max_size: self.cfg.max_size,
            scrubber: &self.scrubber,
        }
    }

    /// A usable token: cached, or from the one fetch in flight for all concurrent callers. The
    /// fetch runs as a task of its own: cancelling the caller that started it cancels nothing.
    pub(crate) async fn token(self: &Arc<Self>) -> Result<CachedToken, AuthFailure> {
        let mut rx = match self.cache.begin(&*self.cfg.clock) {
            Begin::Fresh(t) => return Ok(t),
            Begin::Held(f, left) => return Err(f.held(left)),
            Begin::Wait(rx) => rx,
            Begin::Lead { stale, tx, rx } => {
                let this = Arc::clone(self);
                tokio::spawn(async move {
                    let (result, margin) = this.fetch_shared(stale.as_ref()).await;
                    let result = result.map(|(resp, old_refresh)| {
                        (
                            resp.access_token,
                            resp.refresh_token.or(old_refresh),
                            resp.expires_in.unwrap_or(this.default_lifetime),
                        )
                    });
                    let result = result.map_err(|f| {
                        let hold = f.hold();
                        (f, hold)
                    });
                    this.cache.finish(tx, result, margin, &*this.cfg.clock);
                });
                rx
            }
        };
        let outcome = match rx.wait_for(Option::is_some).await {
            Ok(v) => v.clone(),
            Err(_) => None,
        };
        outcome.unwrap_or_else(|| {
            Err(AuthFailure::Config(
                "the token fetch task ended without a result (runtime shutting down?)".into(),
            ))
        })
    }

    async fn fetch(
        &self,
        stale: Option<&CachedToken>,
    ) -> Result<(grants::TokenResponse, Option<Secret>), AuthFailure> {
        if let (Grant::Password { .. }, Some(refresh)) =
            (&self.grant, stale.and_then(|t| t.refresh.as_ref()))
        {
            self.requests.fetch_add(1, Ordering::Relaxed);
            let ep = self.endpoint(&self.cfg.token_url);
            match grants::exchange(&ep, &self.grant, Exchange::Refresh, Some(refresh), None).await {
                Ok(Some(t)) => {
                    tracing::debug!("token renewed with the refresh token");
                    return Ok((t, Some(refresh.clone())));
                }
                Ok(None) => {}
                Err(AuthFailure::Refused(r)) => {
                    tracing::debug!(
                        error = r.error.as_str(),
                        "refresh token refused; logging in again"
                    );
                }
                Err(other) => return Err(other),
            }
        }
        // DGFiP hands back the same token until it is revoked: revoke the old one first.
        if let (Grant::ClientCredentials { .. }, Some(url), Some(old)) =
            (&self.grant, &self.cfg.revoke_url, stale)
        {
            let ep = self.endpoint(url);
            match grants::exchange(&ep, &self.grant, Exchange::Revoke, None, Some(&old.access))
                .await
            {
                Ok(_) => tracing::debug!("previous token revoked before requesting a new one"),
                Err(f) => tracing::warn!(
                    error = %f.into_error::<crate::Undocumented>("revoke", "").to_string(),
                    "could not revoke the previous token; requesting a new one anyway"
                ),
            }
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        let ep = self.endpoint(&self.cfg.token_url);
        match grants::exchange(&ep, &self.grant, Exchange::Grant, None, None).await? {
            Some(t) => Ok((t, None)),
            None => Err(AuthFailure::Undecodable {
                status: 200,
                token_url: self.cfg.token_url.clone(),
                reason: "empty token response".into(),
            }),
        }
    }

    /// Marks the token of `generation` invalid (401 `invalid_token`).
    pub(crate) fn invalidate(&self, generation: u64) {
        self.cache.invalidate(generation);
    }

    /// Revokes the current token at the revoke endpoint (if any) and forgets it.
    pub(crate) async fn revoke(&self) -> Result<(), AuthFailure> {
        let Some(token) = self.cache.clear() else {
            return Ok(());
        };
        let Some(url) = &self.cfg.revoke_url else {
            return Ok(());
        };
        let ep = self.endpoint(url);
        grants::exchange(
            &ep,
            &self.grant,
            Exchange::Revoke,
            None,
            Some(&token.access),
        )
        .await
        .map(|_| ())
    }

    /// Whether a token is cached (fresh or not).
    pub(crate) fn has_token(&self) -> bool {
        self.cache.current().is_some()
    }
}
