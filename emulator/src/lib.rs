//! A gateway emulator: a real HTTP server on 127.0.0.1 that behaves like the DGFiP, PISTE,
//! Douane, API Entreprise and API Particulier gateways (as their providers document them),
//! so that generated clients can be proven end to end through the runtime.
//!
//! One [`Emulator`] is one gateway on one random port:
//!
//! - **token endpoints** for the gateway's grants, with expiring tokens and RFC 6749 §5.2
//!   refusals (`invalid_client` → 401, `invalid_grant` / `invalid_scope` /
//!   `unsupported_grant_type` / `invalid_request` → 400):
//!   DGFiP `POST /token` (client_credentials, HTTP Basic; the same token is handed back until it
//!   is revoked or expires, as the real gateway does) and `POST /revoke`;
//!   PISTE `POST /api/oauth/token` (client_credentials, credentials in the body);
//!   Douane `POST /oauth2/token` (password grant with `client_id=gun-api`, and `refresh_token`).
//!   API Entreprise / API Particulier have no token endpoint: configured long-lived JWTs
//!   ([`jwt`] mints unsigned ones) and API keys are accepted.
//! - **API calls** checked for credentials: a missing, unknown, expired or revoked token gets
//!   401 with `WWW-Authenticate: Bearer error="invalid_token"` (no error code when nothing was
//!   presented, RFC 6750 §3), in the gateway's body format (DGFiP: `erreur` with 900902
//!   missing, 900905 not Bearer, 900901 unknown, 900906 expired or revoked).
//! - **DGFiP `X-Correlation-ID`**: missing or not a hyphenated UUID → 400 with the DGFiP body,
//!   code **102511** ("incomplete payload" in the DGFiP catalogue). An operation that declares a
//!   required `X-FranceConnect-OAuth` header refuses calls without it: 401, code 900950 (the
//!   FranceConnect range 900950–900979). DGFiP scopes select resources: a token granted scopes
//!   that cover none of the operation's security requirements gets 403, code 900910 (a token
//!   requested without `scope` is not checked).
//! - **Quotas**: a sliding window per client (`rate_limit(n, per)`), 429 with `Retry-After`
//!   beyond it. At API Entreprise / Particulier, a 429 opens a Retry-After period; a client
//!   that calls again before it ends is counted in [`Stats::ban_violations`] (the real
//!   gateways ban the IP for 12 hours; see [`GatewayConfig::ban_grace`] for calls already in
//!   flight).
//! - **Answers from the documents' examples** ([`GatewayConfig::mount_spec`]): every operation
//!   under its base path (OpenAPI 3: path of the first `servers` URL; Swagger 2: `basePath`),
//!   path templates matched, the first 2xx response's example served with its media type
//!   (`Accept` chooses among several). `X-Emulator-Status: 404` answers the documented 404
//!   instead (`X-Emulator-Example: name` picks a named example); an undocumented status gets
//!   the gateway's own error body.
//! - **Requests checked against the document**: required parameters and body present;
//!   parameters (path, query, header) and JSON bodies matching their schemas (types, enums,
//!   `pattern`, bounds, `multipleOf`, lengths and counts, `uniqueItems`, the `date`,
//!   `date-time`, `uuid`, `int32` and `int64` formats, `allOf`/`anyOf`/`oneOf`,
//!   `additionalProperties: false`); a violation gets 400 in the gateway's error format,
//!   naming the parameter or the body's JSON pointer.
//! - **API Entreprise / API Particulier v3** (2026 developer documentation), each rule a
//!   switch of [`GatewayConfig`], all with [`GatewayConfig::production_rules`]: quotas per
//!   token and route group plus a per-IP ceiling ([`GroupQuotas`]), the 12-hour ban as
//!   silence for a client that ignores a 429, 409 (code 00015) for a request identical to one
//!   in flight, keys under `data` filtered by the token's scopes; provider errors under 502
//!   with `meta.retry_in` ([`Emulator::fail_provider`]); `GET /pings`, `/privileges`,
//!   `/api/introspect`.
//! - **Staging cases** in the providers' own format ([`GatewayConfig::fixtures`],
//!   [`Emulator::load_fixtures`]): a request whose parameters match a case gets its status
//!   and payload; a FranceConnect test token selects its person's case.
//! - Every response carries `x-correlation-id` (the request's, or a fresh UUID); PISTE API
//!   responses carry `x-rate-limit`.
//! - [`Emulator::stats`] and [`Emulator::calls`] tell tests what happened.
//!
//! ```no_run
//! use std::time::Duration;
//! use gouvgen_emulator::{Emulator, GatewayConfig};
//! # async fn demo() {
//! let emu = Emulator::start(
//!     GatewayConfig::dgfip()
//!         .client("consumer-key", "consumer-secret", &["RessourceIR"])
//!         .token_lifetime(Duration::from_secs(2))
//!         .rate_limit(10, Duration::from_secs(1))
//!         .mount_spec("specs/dgfip/impot-particulier.json"),
//! )
//! .await;
//! // Point the runtime at emu.base_url() (API root) and emu.token_url(), run the client...
//! assert_eq!(emu.stats().ban_violations, 0);
//! # }
//! ```
#![deny(missing_docs)]

mod config;
pub mod document;
mod fixtures;
mod respond;
mod scenario;
mod serve;
mod server;
mod spec;
mod state;
mod synth;
mod v3;
mod validate;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

pub use config::{GatewayConfig, GroupQuotas, Kind};
pub use state::{CallRecord, Stats};
pub use v3::{PingStatus, ProviderError};

use server::Shared;
use state::Inner;

/// A running emulated gateway on 127.0.0.1; the server stops when this is dropped.
pub struct Emulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("kind", &self.shared.config.kind)
            .field("addr", &self.addr)
            .finish()
    }
}

impl Emulator {
    /// Starts the gateway on a free port of 127.0.0.1 (inside the current tokio runtime).
    ///
    /// # Panics
    /// If a mounted document cannot be read: a test setup mistake, better loud.
    pub async fn start(config: GatewayConfig) -> Emulator {
        Self::try_start(config)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Emulator::start`], returning document and socket errors instead of panicking.
    pub async fn try_start(config: GatewayConfig) -> Result<Emulator, String> {
        let mut routes = Vec::new();
        for path in &config.specs {
            routes.extend(spec::load(path, &config.load_options)?);
        }
        let mut fixtures = fixtures::Fixtures::default();
        for dir in &config.v3.fixtures {
            let more = fixtures::Fixtures::load(dir, config.kind, &config.v3.fixture_routes)?;
            fixtures.endpoints.extend(more.endpoints);
            fixtures.france_connect.extend(more.france_connect);
        }
        let shared = Arc::new(Shared {
            config,
            routes,
            inner: Mutex::new(Inner::new()),
            fixtures: Mutex::new(Arc::new(fixtures)),
            clock_offset: Default::default(),
        });
        let app = server::router(shared.clone());
        let port = shared.config.port;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| format!("emulator cannot bind 127.0.0.1:{port}: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve::serve(listener, app, stop));
        Ok(Emulator {
            addr,
            shared,
            shutdown: Some(shutdown),
            server: Some(server),
        })
    }

    /// `http://127.0.0.1:PORT`: the API root to give the runtime (base paths come after it).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Which gateway this is.
    pub fn kind(&self) -> Kind {
        self.shared.config.kind
    }

    /// The token endpoint of this gateway (`/token`, `/api/oauth/token`, `/oauth2/token`). API
    /// Entreprise / Particulier have none: their URL answers 404.
    pub fn token_url(&self) -> String {
        format!(
            "{}{}",
            self.base_url(),
            self.shared.config.kind.token_path().unwrap_or("/token")
        )
    }

    /// The revocation endpoint (`/revoke`, DGFiP only; 404 elsewhere).
    pub fn revoke_url(&self) -> String {
        format!("{}/revoke", self.base_url())
    }

    /// A snapshot of the counters (cheap; the call log is in [`Emulator::calls`]).
    pub fn stats(&self) -> Stats {
        let inner = self.shared.lock();
        let mut stats = inner.stats.clone();
        stats.distinct_correlation_ids = inner.correlation_ids.len();
        stats.in_flight = inner.in_flight.len();
        stats
    }

    /// The API calls received, oldest first (the most recent
    /// [`GatewayConfig::call_log_capacity`] of them).
    pub fn calls(&self) -> Vec<CallRecord> {
        self.shared.lock().calls.iter().cloned().collect()
    }

    /// Makes every access token issued so far expire now, and refuses the configured
    /// long-lived JWTs from now on: the next call gets a 401. Douane refresh tokens still work.
    pub fn expire_all_tokens(&self) {
        let mut inner = self.shared.lock();
        let now = self.shared.now();
        for t in inner.tokens.values_mut() {
            t.expires = t.expires.min(now);
        }
        inner.static_tokens_expired = true;
    }

    /// While `dark`, API calls are accepted and never answered (token endpoints still answer):
    /// an outage seen from the client. Calls already held stay held.
    pub fn set_dark(&self, dark: bool) {
        self.shared.lock().scenario.dark = dark;
    }

    /// Makes every Douane refresh token expire: the next renewal must use the password grant.
    pub fn expire_refresh_tokens(&self) {
        let mut inner = self.shared.lock();
        let now = self.shared.now();
        for r in inner.refresh_tokens.values_mut() {
            r.expires = r.expires.min(now);
        }
    }

    /// Answers every call of `operation` (its `operationId`, or `METHOD /base/path/{template}`
    /// as [`Emulator::operations`] lists it) with `status`: the document's response and example
    /// for that status, else the gateway's own error body. Until [`Emulator::reset_scenario`].
    pub fn fail(&self, operation: &str, status: u16) {
        self.shared
            .lock()
            .scenario
            .forced
            .insert(operation.to_string(), scenario::Forced { status });
    }

    /// Every API call answers 429 with `Retry-After: retry_after` (whole seconds, at least 1)
    /// in the gateway's format, whatever the quota says.
    pub fn throttle(&self, retry_after: Duration) {
        self.shared.lock().scenario.throttle = Some(respond::ceil_secs(retry_after));
    }

    /// Every API call answers 503 in the gateway's format (maintenance).
    pub fn unavailable(&self) {
        self.shared.lock().scenario.unavailable = true;
    }

    /// Waits `latency` before every API answer.
    pub fn latency(&self, latency: Duration) {
        self.shared.lock().scenario.latency = latency;
    }

    /// Goes dark: connections are accepted and requests read, but API calls are never
    /// answered (a client must rely on its own deadline). Token endpoints still answer.
    pub fn go_dark(&self) {
        self.shared.lock().scenario.dark = true;
    }

    /// Applies the API Entreprise / API Particulier 12-hour IP ban now: connections are
    /// accepted, requests read, never answered, as the real gateways do to a client that
    /// ignored a 429. It ends 12 hours later on the emulator's clock
    /// ([`Emulator::advance_clock`]), or at [`Emulator::reset_scenario`]; calls already held
    /// stay unanswered until the emulator stops.
    pub fn ban(&self) {
        let until = self.shared.now() + self.shared.config.v3.ban_length;
        self.shared.lock().scenario.banned_until = Some(until);
    }

    /// Whether the ban is in force now (emulator clock).
    pub fn is_banned(&self) -> bool {
        let now = self.shared.now();
        (self.shared.lock().scenario.banned_until).is_some_and(|until| now < until)
    }

    /// Answers every call of `operation` (named as for [`Emulator::fail`]) with a v3 provider
    /// error (502 by default, `meta.provider`, `meta.retry_in` for transient ones), until
    /// [`Emulator::reset_scenario`].
    pub fn fail_provider(&self, operation: &str, error: ProviderError) {
        (self.shared.lock().scenario.provider_errors).insert(operation.to_string(), error);
    }

    /// What `GET /pings` (`api` empty) or `GET /pings/{api}` answers from now on
    /// (`bad_gateway` is a 502); `ok` by default.
    pub fn set_ping(&self, api: &str, status: PingStatus) {
        let mut inner = self.shared.lock();
        let since = match inner.scenario.pings.get(api) {
            Some((PingStatus::Ok, _)) | None => std::time::SystemTime::now(),
            Some((_, since)) => *since,
        };
        inner
            .scenario
            .pings
            .insert(api.to_string(), (status, since));
    }

    /// Loads more staging cases now (see [`GatewayConfig::fixtures`]); returns how many
    /// cases are served in all. Errors name the file.
    pub fn load_fixtures(&self, dir: impl AsRef<std::path::Path>) -> Result<usize, String> {
        let config = &self.shared.config;
        let more = fixtures::Fixtures::load(dir.as_ref(), config.kind, &config.v3.fixture_routes)?;
        let mut slot = self
            .shared
            .fixtures
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut all = (**slot).clone();
        all.endpoints.extend(more.endpoints);
        all.france_connect.extend(more.france_connect);
        let count = all.case_count();
        *slot = Arc::new(all);
        Ok(count)
    }

    /// The number of staging cases served.
    pub fn fixture_cases(&self) -> usize {
        self.shared.fixtures().case_count()
    }

    /// Stops the server and waits until it has: the listener is closed and every
    /// connection, answered or held (dark, banned), is dropped.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }

    /// Replaces the quota from now on (`None`: no quota); windows already counted are kept.
    pub fn set_rate_limit(&self, limit: Option<(u32, Duration)>) {
        self.shared.lock().scenario.rate_limit = Some(limit);
    }

    /// Revokes every access token issued so far and refuses the configured long-lived JWTs:
    /// the next call gets a 401 (same as [`Emulator::expire_all_tokens`], under the name of
    /// what the gateway did).
    pub fn revoke_all_tokens(&self) {
        self.expire_all_tokens();
    }

    /// Back to normal behaviour: no forced or provider errors, throttle, outage, latency,
    /// darkness, ban or ping status;
    /// the configured quota again. Tokens and counters are kept.
    pub fn reset_scenario(&self) {
        self.shared.lock().scenario = Default::default();
    }

    /// Moves the gateway's clock forward by `by`: tokens expire, quota windows and
    /// Retry-After periods pass, JWT `exp` claims are judged, as if that time had gone by.
    /// Tests use it instead of sleeping. (The client's own clock is not moved.)
    pub fn advance_clock(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.shared
            .clock_offset
            .fetch_add(nanos, std::sync::atomic::Ordering::Relaxed);
    }

    /// A cloneable handle to script this emulator from other tasks (same methods as here).
    pub fn handle(&self) -> EmulatorHandle {
        EmulatorHandle {
            shared: self.shared.clone(),
        }
    }

    /// The operations served, as `METHOD /base/path/{template}`.
    pub fn operations(&self) -> Vec<String> {
        self.shared
            .routes
            .iter()
            .map(|r| format!("{} {}", r.method, r.template))
            .collect()
    }

    /// A JWT-shaped token (unsigned) whose `exp` claim is `expires_in` from now, as API
    /// Entreprise and API Particulier issue them. Same as [`jwt`].
    pub fn jwt(expires_in: Duration) -> String {
        jwt(expires_in)
    }
}

/// A cloneable handle on a running [`Emulator`], for tasks that script scenarios or read the
/// log while the test owns the emulator. It does not keep the server alive.
#[derive(Clone)]
pub struct EmulatorHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorHandle")
            .field("kind", &self.shared.config.kind)
            .finish()
    }
}

impl EmulatorHandle {
    fn emulator(&self) -> Emulator {
        Emulator {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            shared: self.shared.clone(),
            shutdown: None,
            server: None,
        }
    }
    /// See [`Emulator::fail`].
    pub fn fail(&self, operation: &str, status: u16) {
        self.emulator().fail(operation, status)
    }
    /// See [`Emulator::throttle`].
    pub fn throttle(&self, retry_after: Duration) {
        self.emulator().throttle(retry_after)
    }
    /// See [`Emulator::unavailable`].
    pub fn unavailable(&self) {
        self.emulator().unavailable()
    }
    /// See [`Emulator::latency`].
    pub fn latency(&self, latency: Duration) {
        self.emulator().latency(latency)
    }
    /// See [`Emulator::go_dark`].
    pub fn go_dark(&self) {
        self.emulator().go_dark()
    }
    /// See [`Emulator::ban`].
    pub fn ban(&self) {
        self.emulator().ban()
    }
    /// See [`Emulator::fail_provider`].
    pub fn fail_provider(&self, operation: &str, error: ProviderError) {
        self.emulator().fail_provider(operation, error)
    }
    /// See [`Emulator::is_banned`].
    pub fn is_banned(&self) -> bool {
        self.emulator().is_banned()
    }
    /// See [`Emulator::set_ping`].
    pub fn set_ping(&self, api: &str, status: PingStatus) {
        self.emulator().set_ping(api, status)
    }
    /// See [`Emulator::set_rate_limit`].
    pub fn set_rate_limit(&self, limit: Option<(u32, Duration)>) {
        self.emulator().set_rate_limit(limit)
    }
    /// See [`Emulator::revoke_all_tokens`].
    pub fn revoke_all_tokens(&self) {
        self.emulator().revoke_all_tokens()
    }
    /// See [`Emulator::reset_scenario`].
    pub fn reset_scenario(&self) {
        self.emulator().reset_scenario()
    }
    /// See [`Emulator::advance_clock`].
    pub fn advance_clock(&self, by: Duration) {
        self.emulator().advance_clock(by)
    }
    /// See [`Emulator::calls`].
    pub fn calls(&self) -> Vec<CallRecord> {
        self.emulator().calls()
    }
    /// See [`Emulator::stats`].
    pub fn stats(&self) -> Stats {
        self.emulator().stats()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A JWT-shaped token (header, claims, fake signature; not signed) with `iat`, `exp`
/// (`expires_in` from now) and a unique `jti`: what clients read to warn before expiry.
pub fn jwt(expires_in: Duration) -> String {
    jwt_with_claims(&json!({"uid": "emulator", "scopes": []}), expires_in)
}

/// [`jwt`] with extra claims (merged; `iat`, `exp` and `jti` are set here).
pub fn jwt_with_claims(claims: &Value, expires_in: Duration) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let now = chrono::Utc::now().timestamp();
    let mut claims = claims.clone();
    if !claims.is_object() {
        claims = json!({});
    }
    claims["iat"] = json!(now);
    claims["exp"] = json!(now + expires_in.as_secs() as i64);
    claims["jti"] = json!(uuid::Uuid::new_v4().to_string());
    let header = b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = b64.encode(claims.to_string());
    let signature = b64.encode(b"gouvgen-emulator-unsigned");
    format!("{header}.{payload}.{signature}")
}

/// The `exp` claim of a JWT-shaped token, if it has one.
pub fn jwt_exp(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice::<Value>(&bytes)
        .ok()?
        .get("exp")?
        .as_i64()
}
