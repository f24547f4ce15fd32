//! Authentication: which credential goes on each call, and getting OAuth tokens.
//!
//! - [`grants`]: token endpoint requests (client_credentials, password, refresh, revoke);
//! - [`token_cache`]: the shared single-flight token cache;
//! - [`jwt`]: reading the `exp` of API Entreprise / Particulier JWTs.

pub mod grants;
pub mod jwt;
pub mod token_cache;

use std::fmt;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

pub use grants::ClientAuthMethod;
use grants::{Exchange, Grant};
use token_cache::{CachedToken, LookupOwned, TokenCache};
pub use token_cache::{Clock, ManualClock, SystemClock};

use crate::error::{DecodeFailure, Error, GatewayError, TokenRefusal};
use crate::secret::Secret;

/// Where an API key goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiKeyLocation {
    /// In a request header.
    Header,
    /// In a query parameter.
    Query,
}

/// An API key sent on every authenticated call.
#[derive(Clone, Debug)]
pub(crate) struct ApiKey {
    pub location: ApiKeyLocation,
    pub name: String,
    pub value: Secret,
}

/// A failure to obtain a token; cloneable so that callers waiting on one fetch share it.
#[derive(Clone, Debug)]
pub(crate) enum AuthFailure {
    Refused(TokenRefusal),
    Transport { message: String, connect: bool },
    Timeout,
    Gateway(Box<GatewayError>),
    Undecodable { status: u16, reason: String },
    Config(String),
}

impl AuthFailure {
    pub(crate) fn from_reqwest(e: reqwest::Error) -> Self {
        if e.is_timeout() {
            return AuthFailure::Timeout;
        }
        let connect = e.is_connect();
        AuthFailure::Transport {
            message: e.without_url().to_string(),
            connect,
        }
    }

    pub(crate) fn into_error<E>(
        self,
        operation_id: &'static str,
        correlation_id: &str,
        timeout: Duration,
    ) -> Error<E> {
        match self {
            AuthFailure::Refused(mut t) => {
                t.correlation_id = Some(correlation_id.to_owned());
                Error::TokenRefused(Box::new(t))
            }
            AuthFailure::Transport { message, connect } => Error::Transport {
                operation_id,
                correlation_id: correlation_id.to_owned(),
                connect,
                source: format!("token endpoint: {message}").into(),
            },
            AuthFailure::Timeout => Error::Timeout {
                operation_id,
                correlation_id: correlation_id.to_owned(),
                after: timeout,
            },
            AuthFailure::Gateway(mut g) => {
                g.correlation_id = correlation_id.to_owned();
                g.message = Some(format!(
                    "token endpoint error{}",
                    g.message
                        .as_deref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                ));
                if g.status == 429 {
                    Error::RateLimited(g)
                } else {
                    Error::Gateway(g)
                }
            }
            AuthFailure::Undecodable { status, reason } => {
                Error::UndecodableBody(Box::new(DecodeFailure {
                    status,
                    operation_id,
                    correlation_id: correlation_id.to_owned(),
                    gateway_correlation_id: None,
                    content_type: None,
                    reason: format!("token endpoint: {reason}"),
                    raw_body: "[withheld: token endpoint bodies may contain secrets]".into(),
                }))
            }
            AuthFailure::Config(message) => Error::InvalidConfig { message },
        }
    }
}

/// Fetches and caches OAuth tokens for one grant.
pub(crate) struct TokenProvider {
    grant: Grant,
    token_url: String,
    revoke_url: Option<String>,
    cache: Arc<TokenCache>,
    clock: Arc<dyn Clock>,
    margin: Duration,
    default_lifetime: Duration,
    http: reqwest::Client,
    timeout: Duration,
    requests: AtomicU64,
    /// Fleet-wide single flight (a [`crate::shared::SharedStore`]), if configured.
    fleet: std::sync::OnceLock<crate::shared::tokens::FleetTokens>,
}

impl fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenProvider")
            .field("grant", &self.grant)
            .field("token_url", &self.token_url)
            .field("revoke_url", &self.revoke_url)
            .field("cache", &self.cache)
            .field("margin", &self.margin)
            .finish_non_exhaustive()
    }
}

#[derive(Hash)]
struct CacheKey<'a> {
    token_url: &'a str,
    kind: &'static str,
    client_id: &'a str,
    secret: &'a str,
    username: &'a str,
    scopes: Vec<&'a str>,
    clock: usize,
}

impl TokenProvider {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        grant: Grant,
        token_url: String,
        revoke_url: Option<String>,
        clock: Arc<dyn Clock>,
        custom_clock: bool,
        margin: Duration,
        http: reqwest::Client,
        timeout: Duration,
    ) -> Self {
        let mut scopes: Vec<&str> = grant.scopes().iter().map(String::as_str).collect();
        scopes.sort_unstable();
        scopes.dedup();
        let clock_id = if custom_clock {
            Arc::as_ptr(&clock) as *const () as usize
        } else {
            0
        };
        let key = match &grant {
            Grant::ClientCredentials {
                client_id,
                client_secret,
                ..
            } => CacheKey {
                token_url: &token_url,
                kind: "client_credentials",
                client_id: client_id.expose(),
                secret: client_secret.expose(),
                username: "",
                scopes,
                clock: clock_id,
            },
            Grant::Password {
                client_id,
                username,
                password,
                ..
            } => CacheKey {
                token_url: &token_url,
                kind: "password",
                client_id,
                secret: password.expose(),
                username: username.expose(),
                scopes,
                clock: clock_id,
            },
        };
        let cache = token_cache::shared_cache(&key);
        TokenProvider {
            grant,
            token_url,
            revoke_url,
            cache,
            clock,
            margin,
            default_lifetime: Duration::from_secs(300),
            http,
            timeout,
            requests: AtomicU64::new(0),
            fleet: std::sync::OnceLock::new(),
        }
    }

    /// Who the gateway counts this grant's calls against: the token URL and the grant's client
    /// id or username (no secret), for the shared limiter ([`crate::shared`]).
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
        (self.token_url.clone(), who)
    }

    /// Shares this grant's token with the fleet through `fleet`'s store.
    pub(crate) fn attach_fleet(&self, fleet: crate::shared::fleet::Fleet) {
        let (token_url, principal) = self.account();
        let mut scopes: Vec<&str> = self.grant.scopes().iter().map(String::as_str).collect();
        scopes.sort_unstable();
        scopes.dedup();
        let mut identity = vec![token_url.as_str(), principal.as_str()];
        identity.extend(scopes);
        let lock_ttl = self.timeout + Duration::from_secs(2);
        let _ = self.fleet.set(crate::shared::tokens::FleetTokens::new(
            fleet, &identity, lock_ttl,
        ));
    }

    /// Number of token endpoint requests made through this provider.
    pub(crate) fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// A usable token: cached, or fetched once for all concurrent callers.
    pub(crate) async fn token(&self) -> Result<CachedToken, AuthFailure> {
        match self.cache.lookup(&*self.clock).await? {
            LookupOwned::Fresh(t) => Ok(t),
            LookupOwned::Fetch { stale, guard } => {
                let (result, margin) = match self.fleet.get() {
                    Some(f) => {
                        let stale_access = stale.as_ref().map(|t| t.access.expose());
                        let fetch = async || self.fetch(stale.as_ref()).await;
                        f.fetch(stale_access, self.margin, self.default_lifetime, fetch)
                            .await
                    }
                    None => (self.fetch(stale.as_ref()).await, self.margin),
                };
                let out = match result {
                    Ok((resp, old_refresh)) => Ok(self.cache.store(
                        resp.access_token,
                        resp.refresh_token.or(old_refresh),
                        resp.expires_in.unwrap_or(self.default_lifetime),
                        margin,
                        &*self.clock,
                    )),
                    Err(f) => {
                        self.cache.record_failure(f.clone());
                        Err(f)
                    }
                };
                drop(guard);
                out
            }
        }
    }

    async fn fetch(
        &self,
        stale: Option<&CachedToken>,
    ) -> Result<(grants::TokenResponse, Option<Secret>), AuthFailure> {
        if let (Grant::Password { .. }, Some(refresh)) =
            (&self.grant, stale.and_then(|t| t.refresh.as_ref()))
        {
            self.requests.fetch_add(1, Ordering::Relaxed);
            match grants::exchange(
                &self.http,
                &self.token_url,
                &self.grant,
                Exchange::Refresh,
                Some(refresh),
                None,
                self.timeout,
            )
            .await
            {
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
        self.requests.fetch_add(1, Ordering::Relaxed);
        match grants::exchange(
            &self.http,
            &self.token_url,
            &self.grant,
            Exchange::Grant,
            None,
            None,
            self.timeout,
        )
        .await?
        {
            Some(t) => Ok((t, None)),
            None => Err(AuthFailure::Undecodable {
                status: 200,
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
        let Some(url) = &self.revoke_url else {
            return Ok(());
        };
        grants::exchange(
            &self.http,
            url,
            &self.grant,
            Exchange::Revoke,
            None,
            Some(&token.access),
            self.timeout,
        )
        .await
        .map(|_| ())
    }

    /// Whether a token is cached (fresh or not).
    pub(crate) fn has_token(&self) -> bool {
        self.cache.current().is_some()
    }
}

/// The credential configured on a client.
#[derive(Clone, Debug)]
pub(crate) enum Auth {
    None,
    /// A fixed `Authorization` header value (`Bearer x`, `Basic y`).
    Static(Secret),
    /// API Entreprise / Particulier JWT, with its `exp`.
    Jwt {
        header: Secret,
        expires_at: Option<DateTime<Utc>>,
    },
    Token(Arc<TokenProvider>),
}

impl Auth {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Auth::None => "none",
            Auth::Static(s) if s.expose().starts_with("Basic ") => "basic",
            Auth::Static(_) => "bearer",
            Auth::Jwt { .. } => "jwt",
            Auth::Token(_) => "oauth2",
        }
    }
}
