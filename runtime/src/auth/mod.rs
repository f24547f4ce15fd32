//! Authentication: which credential goes on each call, and getting OAuth tokens.
//!
//! - [`grants`]: token endpoint requests (client_credentials, password, refresh, revoke);
//! - [`token_cache`]: the shared single-flight token cache;
//! - [`jwt`]: reading the `exp` of API Entreprise / Particulier JWTs.

pub mod grants;
pub mod jwt;
pub mod token_cache;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

pub use grants::ClientAuthMethod;
pub use grants::{DEFAULT_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME};
use grants::{Endpoint, Exchange, Grant};
use token_cache::{Begin, CacheKey, CachedToken, TokenCache};
pub use token_cache::{Clock, FAILURE_HOLD, ManualClock, SystemClock};

use crate::error::{DecodeFailure, Delivery, Error, GatewayError, TokenRefusal};
use crate::scrub::Scrubber;
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
    Refused(Box<TokenRefusal>),
    Transport {
        token_url: String,
        connect: bool,
        source: Arc<reqwest::Error>,
    },
    Timeout {
        token_url: String,
        after: Duration,
    },
    Gateway(Box<GatewayError>),
    Undecodable {
        status: u16,
        token_url: String,
        reason: String,
    },
    TooLarge {
        limit: usize,
    },
    Redirected {
        status: u16,
        token_url: String,
    },
    Config(String),
}

/// A token endpoint that could not be reached or did not answer in time; its cause (if any)
/// is the transport error, visible through [`std::error::Error::source`].
#[derive(Debug)]
pub struct TokenEndpointError {
    token_url: String,
    what: String,
    cause: Option<Arc<reqwest::Error>>,
}

impl fmt::Display for TokenEndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "token endpoint {} {}", self.token_url, self.what)
    }
}

impl std::error::Error for TokenEndpointError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl AuthFailure {
    pub(crate) fn from_reqwest(e: reqwest::Error, token_url: &str, timeout: Duration) -> Self {
        if e.is_timeout() {
            return AuthFailure::Timeout {
                token_url: token_url.to_owned(),
                after: timeout,
            };
        }
        AuthFailure::Transport {
            token_url: token_url.to_owned(),
            connect: e.is_connect(),
            source: Arc::new(e.without_url()),
        }
    }

    /// How long further token fetches should be held back after this failure.
    pub(crate) fn hold(&self) -> Option<Duration> {
        match self {
            AuthFailure::Gateway(g) => {
                Some(g.retry_after.unwrap_or(FAILURE_HOLD).max(FAILURE_HOLD))
            }
            AuthFailure::Transport { .. }
            | AuthFailure::Timeout { .. }
            | AuthFailure::Undecodable { .. }
            | AuthFailure::TooLarge { .. }
            | AuthFailure::Redirected { .. } => Some(FAILURE_HOLD),
            AuthFailure::Refused(_) | AuthFailure::Config(_) => None,
        }
    }

    /// This failure as the caller's error: `operation_id` is the caller's operation.
    pub(crate) fn into_error<E>(
        self,
        operation_id: &'static str,
        correlation_id: &str,
    ) -> Error<E> {
        let not_sent = |token_url: String, what: String, connect: bool, cause| Error::Transport {
            operation_id,
            correlation_id: correlation_id.to_owned(),
            connect,
            delivery: Delivery::NotSent,
            source: Box::new(TokenEndpointError {
                token_url,
                what,
                cause,
            }),
        };
        match self {
            AuthFailure::Refused(mut t) => {
                t.correlation_id = Some(correlation_id.to_owned());
                Error::TokenRefused(t)
            }
            AuthFailure::Transport {
                token_url,
                connect,
                source,
            } => not_sent(token_url, "failed".into(), connect, Some(source)),
            AuthFailure::Timeout { token_url, after } => not_sent(
                token_url,
                format!("did not answer within {:.1} s", after.as_secs_f64()),
                false,
                None,
            ),
            AuthFailure::Gateway(mut g) => {
                g.correlation_id = correlation_id.to_owned();
                g.operation_id = operation_id;
                if matches!(g.status, 429 | 503) {
                    Error::RateLimited(g)
                } else {
                    Error::Gateway(g)
                }
            }
            AuthFailure::Redirected { status, token_url } => Error::Gateway(Box::new(GatewayError {
                status,
                operation_id,
                correlation_id: correlation_id.to_owned(),
                gateway_correlation_id: None,
                code: None,
                message: Some(format!("token endpoint {token_url} answered with a redirect (HTTP {status})")),
                timestamp: None,
                advice: Some("token requests are never redirected (the credentials would follow): configure the final token URL with .token_url(...), over https".into()),
                details: Vec::new(),
                dialect: crate::error::Dialect::Text,
                retry_after: None,
                content_type: None,
                raw_body: String::new(),
            })),
            AuthFailure::Undecodable {
                status,
                token_url,
                reason,
            } => Error::UndecodableBody(Box::new(DecodeFailure {
                status,
                operation_id,
                correlation_id: correlation_id.to_owned(),
                gateway_correlation_id: None,
                content_type: None,
                reason: format!("token endpoint {token_url}: {reason}"),
                raw_body: "[withheld: token endpoint bodies may contain secrets]".into(),
            })),
            AuthFailure::TooLarge { limit } => Error::ResponseTooLarge {
                operation_id,
                correlation_id: correlation_id.to_owned(),
                limit,
                token_endpoint: true,
            },
            AuthFailure::Config(message) => Error::InvalidConfig { message },
        }
    }

    /// The same failure with `Retry-After` set to the time left in the hold-back.
    fn held(mut self, left: Duration) -> Self {
        if let AuthFailure::Gateway(g) = &mut self {
            g.retry_after = Some(left);
        }
        self
    }
}

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
    /// Fleet-wide single flight (a [`crate::shared::SharedStore`]), if configured.
    fleet: std::sync::OnceLock<crate::shared::tokens::FleetTokens>,
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
        (self.cfg.token_url.clone(), who)
    }

    /// Shares this grant's token with the fleet through `fleet`'s store.
    pub(crate) fn attach_fleet(&self, fleet: crate::shared::fleet::Fleet) {
        let (token_url, principal) = self.account();
        let mut scopes: Vec<&str> = self.grant.scopes().iter().map(String::as_str).collect();
        scopes.sort_unstable();
        scopes.dedup();
        let mut identity = vec![token_url.as_str(), principal.as_str()];
        identity.extend(scopes);
        let lock_ttl = self.cfg.timeout + Duration::from_secs(2);
        let _ = self.fleet.set(crate::shared::tokens::FleetTokens::new(
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
