//! What an emulated gateway accepts and how strict it is.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::state::CallRecord;

/// Called with every API call once answered (the `gouvgen emulate` one-line log).
#[derive(Clone)]
pub(crate) struct CallObserver(pub Arc<dyn Fn(&CallRecord) + Send + Sync>);

impl std::fmt::Debug for CallObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallObserver")
    }
}

impl std::ops::Deref for CallObserver {
    type Target = dyn Fn(&CallRecord) + Send + Sync;
    fn deref(&self) -> &Self::Target {
        &*self.0
    }
}

/// The gateway being emulated: decides the token endpoint, the grants, how credentials are
/// presented and the format of error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// DGFiP API Management: client_credentials with HTTP Basic at `/token`, `/revoke`;
    /// `X-Correlation-ID` mandatory; `{"erreur":{...}}` bodies.
    Dgfip,
    /// PISTE: client_credentials with the credentials in the form body at `/api/oauth/token`;
    /// `KeyId` API keys; `x-rate-limit` on every response.
    Piste,
    /// Douane: password grant (`client_id=gun-api`) and refresh tokens at `/oauth2/token`.
    Douane,
    /// API Entreprise: a long-lived JWT as bearer, no token endpoint; `{"errors":[...]}` bodies.
    ApiEntreprise,
    /// API Particulier: a long-lived JWT as bearer or an `X-Api-Key`, no token endpoint.
    ApiParticulier,
}

impl Kind {
    /// Path of the token endpoint (`None`: the gateway has none).
    pub fn token_path(self) -> Option<&'static str> {
        match self {
            Kind::Dgfip => Some("/token"),
            Kind::Piste => Some("/api/oauth/token"),
            Kind::Douane => Some("/oauth2/token"),
            Kind::ApiEntreprise | Kind::ApiParticulier => None,
        }
    }

    /// Whether ignoring a 429 earns a ban (API Entreprise / API Particulier: 12 hours).
    pub(crate) fn bans(self) -> bool {
        matches!(self, Kind::ApiEntreprise | Kind::ApiParticulier)
    }
}

/// An application registered at the gateway.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    pub id: String,
    pub secret: String,
    pub scopes: Vec<String>,
}

/// Configuration of one emulated gateway; build it with [`GatewayConfig::dgfip`] and friends,
/// then pass it to [`crate::Emulator::start`].
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    pub(crate) kind: Kind,
    pub(crate) clients: Vec<Client>,
    pub(crate) accounts: Vec<(String, String)>,
    pub(crate) bearer_tokens: Vec<String>,
    pub(crate) api_keys: Vec<(String, String)>,
    pub(crate) token_lifetime: Duration,
    pub(crate) refresh_lifetime: Duration,
    pub(crate) rate_limit: Option<(u32, Duration)>,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) ban_grace: Duration,
    pub(crate) call_log_capacity: usize,
    pub(crate) specs: Vec<PathBuf>,
    pub(crate) load_options: gouvgen::load::LoadOptions,
    pub(crate) port: u16,
    pub(crate) on_call: Option<CallObserver>,
}

impl GatewayConfig {
    /// A gateway of `kind` with the provider's default lifetimes and no quota.
    pub fn new(kind: Kind) -> Self {
        GatewayConfig {
            kind,
            clients: Vec::new(),
            accounts: Vec::new(),
            bearer_tokens: Vec::new(),
            api_keys: Vec::new(),
            // Douane tokens live 5 minutes; DGFiP and PISTE ones one hour.
            token_lifetime: Duration::from_secs(if kind == Kind::Douane { 300 } else { 3600 }),
            refresh_lifetime: Duration::from_secs(1800),
            rate_limit: None,
            retry_after: None,
            ban_grace: Duration::from_millis(100),
            call_log_capacity: 100_000,
            specs: Vec::new(),
            load_options: gouvgen::load::LoadOptions::default(),
            port: 0,
            on_call: None,
        }
    }

    /// DGFiP API Management (any access point: Internet, FranceConnect, RIE).
    pub fn dgfip() -> Self {
        Self::new(Kind::Dgfip)
    }
    /// PISTE (AIFE).
    pub fn piste() -> Self {
        Self::new(Kind::Piste)
    }
    /// Douane (DGDDI).
    pub fn douane() -> Self {
        Self::new(Kind::Douane)
    }
    /// API Entreprise (DINUM).
    pub fn api_entreprise() -> Self {
        Self::new(Kind::ApiEntreprise)
    }
    /// API Particulier (DINUM).
    pub fn api_particulier() -> Self {
        Self::new(Kind::ApiParticulier)
    }

    /// Registers an application (DGFiP consumer key, PISTE client id) with its secret and the
    /// scopes it may ask for; asking for any other scope is refused with `invalid_scope`.
    pub fn client(mut self, id: &str, secret: &str, scopes: &[&str]) -> Self {
        self.clients.push(Client {
            id: id.into(),
            secret: secret.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
        });
        self
    }

    /// Registers a Douane API account for the password grant.
    pub fn account(mut self, username: &str, password: &str) -> Self {
        self.accounts.push((username.into(), password.into()));
        self
    }

    /// Accepts a long-lived bearer token (API Entreprise / API Particulier JWT, see
    /// [`crate::jwt`]). If it is JWT-shaped with an `exp` claim in the past, it is refused.
    pub fn bearer(mut self, token: &str) -> Self {
        self.bearer_tokens.push(token.into());
        self
    }

    /// Same as [`GatewayConfig::bearer`], under the name the providers use.
    pub fn jwt_accepted(self, token: &str) -> Self {
        self.bearer(token)
    }

    /// Accepts an API key sent in `header` (PISTE `KeyId`, API Particulier `X-Api-Key`). A
    /// valid key authenticates a call that has no bearer token; a bearer token, when present,
    /// must still be valid.
    pub fn api_key(mut self, header: &str, key: &str) -> Self {
        self.api_keys
            .push((header.to_ascii_lowercase(), key.into()));
        self
    }

    /// Lifetime of the access tokens issued (tests use a few seconds to see expiry).
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// Lifetime of Douane refresh tokens (30 minutes by default).
    pub fn refresh_lifetime(mut self, lifetime: Duration) -> Self {
        self.refresh_lifetime = lifetime;
        self
    }

    /// At most `requests` API calls per client in any sliding window of `per` (1 s for the
    /// DGFiP/PISTE quotas, 1 min for API Entreprise style); 429 beyond. No limit by default.
    /// The window is 5% shorter (at most 50 ms) to absorb arrival jitter of evenly spaced calls;
    /// [`crate::Stats::max_calls_per_second`] measures strictly.
    pub fn rate_limit(mut self, requests: u32, per: Duration) -> Self {
        self.rate_limit = Some((requests, per));
        self
    }

    /// `Retry-After` of 429 answers (rounded up to whole seconds). By default, the time until
    /// the window has room again.
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// API Entreprise / Particulier ban emulation: calls arriving this soon after the 429 that
    /// opened a Retry-After period, on another connection, were already in flight and are not
    /// counted as ban violations (100 ms by default). A call on a connection that has already
    /// received the 429 always counts.
    pub fn ban_grace(mut self, grace: Duration) -> Self {
        self.ban_grace = grace;
        self
    }

    /// How many API calls [`crate::Emulator::calls`] keeps (the most recent; 100,000 by default).
    pub fn call_log_capacity(mut self, capacity: usize) -> Self {
        self.call_log_capacity = capacity;
        self
    }

    /// Serves every operation of an OpenAPI 3.x or Swagger 2.0 document (JSON or YAML) under
    /// its base path, answering with its examples.
    pub fn mount_spec(mut self, path: impl Into<PathBuf>) -> Self {
        self.specs.push(path.into());
        self
    }

    /// Which files the mounted documents' external references may read (by default, files
    /// under each document's own folder, as `gouvgen generate` reads them).
    pub fn load_options(mut self, options: gouvgen::load::LoadOptions) -> Self {
        self.load_options = options;
        self
    }

    /// Serves on this port of 127.0.0.1 (default 0: a free port, the right choice for tests).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Calls `observer` with every API call once answered (or, when dark, once received).
    pub fn on_call(mut self, observer: impl Fn(&CallRecord) + Send + Sync + 'static) -> Self {
        self.on_call = Some(CallObserver(Arc::new(observer)));
        self
    }
}
