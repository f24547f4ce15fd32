//! [`ApiClientBuilder`]: from a gateway preset and credentials to an [`ApiClient`].

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use http::HeaderName;

use crate::audit::{AuditSink, TracingAuditSink};
use crate::auth::{ApiKey, ApiKeyLocation, ClientAuthMethod};
use crate::core::secret::Secret;
use crate::core::time::{Clock, SystemClock};
use crate::error::Error;
#[cfg(feature = "fleet")]
use crate::fleet::SharedStore;
use crate::gateway::presets::{Gateway, Preset};
use crate::gateway::siret::{InvalidSiret, Siret};
use crate::gateway::traceability::Traceability;
use crate::policy::breaker::CircuitBreaker;
use crate::policy::groups::GroupLimits;
use crate::policy::rate_limit::RateLimit;
use crate::policy::retry::RetryPolicy;

use crate::policy::in_flight::account_in_flight;

use super::account::account_of;
use super::api::{ApiClient, Inner};
use super::credentials::{AuthSetup, Credential, JWT_WARNING_PERIOD, config_error as cfg};
use super::hooks::SharedSettings;
use super::options::CallOptions;
use super::settings::{BodyLimits, Timeouts};
use super::transport::{check_url, redirect_policy};

/// Builds an [`ApiClient`] from a [`Preset`].
pub struct ApiClientBuilder {
    preset: Preset,
    credential: Credential,
    scopes: Option<Vec<String>>,
    api_keys: Vec<ApiKey>,
    traceability: Option<Traceability>,
    retry: RetryPolicy,
    timeouts: Timeouts,
    /// Whether the caller chose the timeouts (then they apply to every call, documents too).
    timeouts_chosen: bool,
    refresh_margin: Duration,
    clock: Option<Arc<dyn Clock>>,
    http: Option<reqwest::Client>,
    user_agent: String,
    jwt_warning: Duration,
    body_limits: BodyLimits,
    shared: SharedSettings,
    #[cfg(feature = "cassette")]
    pub(super) cassette: super::cassette::CassetteSettings,
    pub(super) telemetry: super::telemetry::TelemetrySettings,
}

impl fmt::Debug for ApiClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClientBuilder")
            .field("preset", &self.preset)
            .field("credential", &self.credential)
            .field("scopes", &self.scopes)
            .field("api_keys", &self.api_keys)
            .finish_non_exhaustive()
    }
}

impl ApiClient {
    /// Starts building a client for a gateway preset (see [`crate::presets`]).
    pub fn builder(preset: Preset) -> ApiClientBuilder {
        ApiClientBuilder::new(preset)
    }
}

impl ApiClientBuilder {
    fn new(preset: Preset) -> Self {
        ApiClientBuilder {
            preset,
            credential: Credential::None,
            scopes: None,
            api_keys: Vec::new(),
            traceability: None,
            retry: RetryPolicy::default(),
            timeouts: Timeouts::default(),
            timeouts_chosen: false,
            refresh_margin: Duration::from_secs(60),
            clock: None,
            http: None,
            user_agent: concat!("gouvgen-runtime/", env!("CARGO_PKG_VERSION")).to_owned(),
            shared: Default::default(),
            jwt_warning: JWT_WARNING_PERIOD,
            body_limits: BodyLimits::default(),
            #[cfg(feature = "cassette")]
            cassette: Default::default(),
            telemetry: Default::default(),
        }
    }

    /// OAuth client_credentials with this consumer key / client_id and secret (DGFiP, PISTE).
    pub fn client_credentials(
        mut self,
        client_id: impl Into<Secret>,
        client_secret: impl Into<Secret>,
    ) -> Self {
        self.credential =
            Credential::ClientCredentials(client_id.into(), client_secret.into(), None);
        self
    }

    /// Overrides how the client credentials are sent (Basic header or form body).
    pub fn client_auth_method(mut self, method: ClientAuthMethod) -> Self {
        if let Credential::ClientCredentials(_, _, m) = &mut self.credential {
            *m = Some(method);
        } else {
            self.preset.client_auth = method;
        }
        self
    }

    /// OAuth scopes to request (replaces the preset's defaults; DGFiP e.g. `["RessourceIR"]`).
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// OAuth password grant (Douane) with the API account's username and password.
    pub fn password_grant(
        mut self,
        username: impl Into<Secret>,
        password: impl Into<Secret>,
    ) -> Self {
        self.credential = Credential::Password(username.into(), password.into(), None);
        self
    }

    /// Overrides the password grant's `client_id` (Douane preset: `gun-api`).
    pub fn password_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.preset.password_client_id = Some(client_id.into());
        self
    }

    /// API Entreprise / API Particulier JWT, sent as a bearer token. Its `exp` is read (no
    /// signature check): `build()` fails if it has expired and warns (tracing) within 90 days.
    pub fn jwt(mut self, token: impl Into<Secret>) -> Self {
        self.credential = Credential::Jwt(token.into());
        self
    }

    /// A static bearer token.
    pub fn bearer(mut self, token: impl Into<Secret>) -> Self {
        self.credential = Credential::Bearer(token.into());
        self
    }

    /// HTTP Basic authentication on every call.
    pub fn basic(mut self, username: impl Into<String>, password: impl Into<Secret>) -> Self {
        self.credential = Credential::Basic(username.into(), password.into());
        self
    }

    /// An API key in the preset's API key header (PISTE `KeyId`, API Particulier `X-Api-Key`).
    /// Sent in addition to the OAuth/JWT credential, if any.
    pub fn api_key(self, key: impl Into<Secret>) -> Self {
        let name = self.preset.api_key_header.clone();
        self.api_key_header(name, key)
    }

    /// An API key in a named header.
    pub fn api_key_header(mut self, name: impl Into<String>, key: impl Into<Secret>) -> Self {
        self.api_keys.push(ApiKey {
            location: ApiKeyLocation::Header,
            name: name.into(),
            value: key.into(),
        });
        self
    }

    /// An API key in a named query parameter.
    pub fn api_key_query(mut self, name: impl Into<String>, key: impl Into<Secret>) -> Self {
        self.api_keys.push(ApiKey {
            location: ApiKeyLocation::Query,
            name: name.into(),
            value: key.into(),
        });
        self
    }

    /// API Entreprise / Particulier traceability: `context`, `recipient` (SIRET of the
    /// recipient administration), `object`; appended to every call marked `.traceability()`.
    /// A recipient that is not a SIRET ([`Siret`](crate::siret::Siret)) fails
    /// [`ApiClientBuilder::build`] with `Error::InvalidConfig`.
    pub fn traceability(
        mut self,
        context: impl Into<String>,
        recipient: impl Into<String>,
        object: impl Into<String>,
    ) -> Self {
        self.traceability = Some(Traceability {
            context: context.into(),
            recipient: recipient.into(),
            object: object.into(),
        });
        self
    }

    /// API Entreprise / Particulier traceability set on the client: `context` and `recipient`
    /// (SIRET of the recipient administration). Give each call its `object` with
    /// [`CallOptions::traceability_object`]; a call without one is refused before sending.
    pub fn traceability_context(
        mut self,
        context: impl Into<String>,
        recipient: impl Into<String>,
    ) -> Self {
        self.traceability = Some(Traceability {
            context: context.into(),
            recipient: recipient.into(),
            object: String::new(),
        });
        self
    }

    /// Overrides the API root URL.
    pub fn api_root(mut self, url: impl Into<String>) -> Self {
        self.preset.api_root = url.into();
        self
    }

    /// Overrides the token URL.
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.preset.token_url = Some(url.into());
        self
    }

    /// Overrides the revoke URL.
    pub fn revoke_url(mut self, url: impl Into<String>) -> Self {
        self.preset.revoke_url = Some(url.into());
        self
    }

    /// Overrides the correlation ID header name.
    pub fn correlation_header(mut self, name: impl Into<String>) -> Self {
        self.preset.correlation_header = name.into();
        self
    }

    /// Sets the retry policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Sets the client-side rate limit (shared by all clones).
    pub fn rate_limit(mut self, limit: RateLimit) -> Self {
        self.preset.rate_limit = Some(limit);
        self
    }

    /// Sets the limit of document calls (PDF, ZIP: calls that accept no JSON) where the gateway
    /// counts them apart (API Entreprise: 50/minute per token by default).
    pub fn document_rate_limit(mut self, limit: RateLimit) -> Self {
        self.preset.document_rate_limit = Some(limit);
        self
    }

    /// Sets the ceiling of every call this process sends to the API host, whatever the
    /// account (API Entreprise / Particulier: 1,000/minute per IP by default).
    pub fn host_rate_limit(mut self, limit: RateLimit) -> Self {
        self.preset.host_rate_limit = Some(limit);
        self
    }

    /// Disables the client-side rate limits, of every group and of the host (429 pauses and
    /// the gateway's announced quota still apply).
    pub fn no_rate_limit(mut self) -> Self {
        self.preset.rate_limit = None;
        self.preset.document_rate_limit = None;
        self.preset.host_rate_limit = None;
        self
    }

    /// How long every call is held after a 429 that has no `Retry-After`.
    pub fn pause_after_429(mut self, pause: Duration) -> Self {
        self.preset.pause_after_429 = pause;
        self
    }

    /// Sets the connect and per-attempt timeouts (see [`Timeouts`]), for every call: the
    /// preset's own per-group timeouts (API Entreprise / Particulier: 5 s JSON, 12 s
    /// documents) no longer apply.
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self.timeouts_chosen = true;
        self
    }

    /// Sets the largest response bodies read (see [`BodyLimits`]).
    pub fn body_limits(mut self, limits: BodyLimits) -> Self {
        self.body_limits = limits;
        self
    }

    /// Connect timeout (default 10 s): shorthand for [`Timeouts::connect`], kept for
    /// clients written against 0.2.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.timeouts.connect = d;
        self
    }

    /// Timeout of one attempt, response body included (default: the preset's, else 30 s), for
    /// every call: shorthand for [`Timeouts::attempt`], kept for clients written against 0.2.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeouts.attempt = d;
        self.timeouts_chosen = true;
        self
    }

    /// Refresh tokens this long before they expire (default 60 s, at most a fifth of the
    /// token's lifetime), plus up to 20 % jitter.
    pub fn refresh_margin(mut self, d: Duration) -> Self {
        self.refresh_margin = d;
        self
    }

    /// Warn this long before the JWT expires (default 90 days).
    pub fn jwt_warning_period(mut self, d: Duration) -> Self {
        self.jwt_warning = d;
        self
    }

    /// Injects a clock (tests): token expiry and the circuit breaker's cooldown follow it.
    /// Clients with a custom clock share token caches and breakers only with clients built
    /// with the same clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Uses this reqwest client (its timeouts and proxy settings apply; per-attempt timeouts
    /// are still set).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Sets the `User-Agent`.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// Largest API response body accepted: shorthand for [`BodyLimits::response`], kept for
    /// clients written against 0.2.
    pub fn max_response_size(mut self, bytes: usize) -> Self {
        self.body_limits.response = bytes;
        self
    }

    /// Largest token endpoint response body accepted: shorthand for
    /// [`BodyLimits::token_response`], kept for clients written against 0.2.
    pub fn max_token_response_size(mut self, bytes: usize) -> Self {
        self.body_limits.token_response = bytes;
        self
    }

    /// Builds the client. Fails on an invalid configuration (an `http` URL to a host other than
    /// loopback when credentials are configured or a gateway preset is used) or an expired JWT.
    ///
    /// The HTTP client built here never sends `Referer` and follows redirects only within the
    /// same origin (scheme, host, port), never for token requests. A client passed with
    /// [`ApiClientBuilder::http_client`] keeps its own redirect policy: build it with
    /// `redirect(reqwest::redirect::Policy::none())` and `referer(false)`.
    pub fn build(self) -> Result<ApiClient, Error> {
        let p = self.preset;
        let api_root = p.api_root.trim_end_matches('/').to_owned();
        let has_credentials = !matches!(self.credential, Credential::None)
            || !self.api_keys.is_empty()
            || p.gateway != Gateway::Custom;
        check_urls(&p, &api_root, has_credentials)?;
        check_recipient(self.traceability.as_ref())?;
        let correlation_header = HeaderName::from_bytes(p.correlation_header.as_bytes())
            .map_err(|_| cfg(format!("`{}` is not a header name", p.correlation_header)))?;
        let timeouts = timeouts_for(self.timeouts, self.timeouts_chosen, &p);
        let custom_clock = self.clock.is_some();
        let clock: Arc<dyn Clock> = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let http = match self.http {
            Some(h) => h,
            None => default_http_client(&p, timeouts, self.user_agent)?,
        };
        let setup = AuthSetup {
            gateway: p.gateway,
            token_url: p.token_url.clone(),
            revoke_url: p.revoke_url.clone(),
            scopes: self.scopes.unwrap_or(p.default_scopes.clone()),
            client_auth: p.client_auth,
            password_client_id: p.password_client_id.clone(),
            clock: Arc::clone(&clock),
            custom_clock,
            margin: self.refresh_margin,
            http: http.clone(),
            timeout: timeouts.attempt,
            max_token_size: self.body_limits.token_response,
            jwt_warning: self.jwt_warning,
        };
        let creds = setup.make_creds(&self.credential, self.api_keys)?;
        let account = account_of(&api_root, &creds.auth, &creds.api_keys);
        let telemetry = self.telemetry.finish(&api_root, &account);
        let (limiter, shared) = self.shared.finish(
            &api_root,
            &creds.auth,
            &creds.api_keys,
            group_limits(&p),
            custom_clock.then(|| Arc::clone(&clock)),
        )?;
        tracing::debug!(preset = %p.label, api_root = %api_root, auth = creds.auth.kind(), "ApiClient built");
        Ok(ApiClient {
            inner: Arc::new(Inner {
                preset_label: p.label,
                gateway: p.gateway,
                api_root,
                http,
                creds: RwLock::new(Arc::new(creds)),
                credential: Mutex::new(self.credential),
                setup,
                traceability: self.traceability,
                correlation_header,
                retry: self.retry,
                limits: limiter,
                shared,
                timeout: timeouts.attempt,
                document_timeout: (!self.timeouts_chosen)
                    .then_some(p.document_timeout)
                    .flatten(),
                france_connect: p.france_connect,
                health_path: p.health_path,
                in_flight: p
                    .one_identical_call_at_a_time
                    .then(|| account_in_flight(&account)),
                pause_after_429: p.pause_after_429,
                clock,
                max_response_size: self.body_limits.response,
                #[cfg(feature = "cassette")]
                cassette: self.cassette.open()?,
                telemetry,
            }),
            options: CallOptions::default(),
        })
    }
}

/// The timeouts in force: the ones the caller chose, else the preset's attempt timeout.
fn timeouts_for(mut timeouts: Timeouts, chosen: bool, p: &Preset) -> Timeouts {
    if !chosen {
        timeouts.attempt = p.attempt_timeout.unwrap_or(timeouts.attempt);
    }
    timeouts
}

/// The client's traceability recipient must be a SIRET (the gateways refuse anything else,
/// and count it against the quota); the error names no value.
fn check_recipient(traceability: Option<&Traceability>) -> Result<(), Error> {
    match traceability {
        Some(t) if !t.recipient.is_empty() && Siret::new(&t.recipient).is_err() => {
            Err(cfg(format!(
                "the traceability recipient is {InvalidSiret}: give the SIRET of the public body entitled to the data"
            )))
        }
        _ => Ok(()),
    }
}

/// The API root, token and revoke URLs may carry credentials (see `transport::check_url`).
fn check_urls(p: &Preset, api_root: &str, has_credentials: bool) -> Result<(), Error> {
    check_url("API root", api_root, has_credentials)?;
    for (what, url) in [("token URL", &p.token_url), ("revoke URL", &p.revoke_url)] {
        if let Some(u) = url {
            check_url(what, u, true)?;
        }
    }
    Ok(())
}

/// The preset's rate limits, by group.
fn group_limits(p: &Preset) -> GroupLimits {
    GroupLimits {
        calls: p.rate_limit,
        documents: p.document_rate_limit,
        host: p.host_rate_limit,
    }
}

/// The HTTP client built when the caller gives none: no `Referer`, redirects kept on their
/// origin and never followed for token requests.
fn default_http_client(
    p: &Preset,
    timeouts: Timeouts,
    user_agent: String,
) -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .connect_timeout(timeouts.connect)
        .user_agent(user_agent)
        .referer(false)
        .redirect(redirect_policy(&p.token_url, &p.revoke_url))
        .build()
        .map_err(|e| cfg(format!("HTTP client: {e}")))
}

impl ApiClientBuilder {
    /// What calls do while the fleet store is down: go on with process-local state
    /// ([`StoreDown::FailOpen`](crate::fleet::StoreDown::FailOpen), the default) or be refused
    /// ([`StoreDown::FailClosed`](crate::fleet::StoreDown::FailClosed), for accounts where going
    /// over the limit costs more than stopping, e.g. an IP ban).
    #[cfg(feature = "fleet")]
    pub fn shared_store_down(mut self, choice: crate::fleet::StoreDown) -> Self {
        self.shared.store_down = choice;
        self
    }

    /// Shares tokens, the rate limit and 429 pauses of this client's account with every
    /// process using `store` (see [`crate::fleet`]). By default store failures never fail a
    /// call: the client falls back to process-local state with one warning (see
    /// [`ApiClientBuilder::shared_store_down`] for the other choice).
    #[cfg(feature = "fleet")]
    pub fn shared_store(mut self, store: Arc<dyn SharedStore>) -> Self {
        self.shared.store = Some(store);
        self
    }

    /// Timeout of one fleet store operation (default 250 ms): a slow store holds a call at
    /// most this long per operation before the local fallback is used.
    #[cfg(feature = "fleet")]
    pub fn shared_store_timeout(mut self, timeout: Duration) -> Self {
        self.shared.store_timeout = timeout;
        self
    }

    /// Shares tokens, limits and 429 pauses through Redis at `url` (`redis://` or
    /// `rediss://`, with `user:password@` for AUTH). Clients given the same URL share one
    /// connection. Feature `redis`.
    #[cfg(feature = "redis")]
    pub fn redis(mut self, url: &str) -> Self {
        match crate::fleet::redis::RedisStore::shared(url) {
            Ok(store) => self.shared.store = Some(store),
            Err(e) => self.shared.store_error = Some(e.to_string()),
        }
        self
    }

    /// Sets the circuit breaker of the gateway host (on by default, see [`CircuitBreaker`]).
    /// The first client of a host in the process sets its thresholds.
    pub fn circuit_breaker(mut self, config: CircuitBreaker) -> Self {
        self.shared.breaker = Some(config);
        self
    }

    /// Disables the circuit breaker for this client.
    pub fn no_circuit_breaker(mut self) -> Self {
        self.shared.breaker = None;
        self
    }

    /// Sends one [`AuditRecord`](crate::AuditRecord) per call to `sink` (several sinks may be added).
    pub fn audit_sink(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.shared.audit.push(sink);
        self
    }

    /// Appends one JSON line per call to the file at `path` (opened by `build`).
    pub fn audit_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.shared.audit_files.push(path.into());
        self
    }

    /// Refuses calls, before anything is sent, while one of the client's audit sinks reports
    /// it is failing ([`AuditSink::health`], e.g. the audit file's disk is full): the call
    /// fails with [`Error::AuditFailing`](crate::Error::AuditFailing). For teams whose
    /// obligations require the trail. The refused call is offered to the sinks too; once a
    /// record is written again, calls go.
    pub fn audit_required(mut self, required: bool) -> Self {
        self.shared.audit_required = required;
        self
    }

    /// Emits one INFO `tracing` event per call, target `gouvgen::audit`.
    pub fn audit_tracing(self) -> Self {
        self.audit_sink(Arc::new(TracingAuditSink))
    }
}

#[cfg(feature = "cassette")]
impl ApiClientBuilder {
    /// Records every answered call of this client to a cassette at `path` (JSON lines; an
    /// existing file is replaced when the client is built). Credentials, tokens, API keys,
    /// FranceConnect tokens and cookies are never written, token requests are not recorded,
    /// and the values of [`PersonalFields`](crate::PersonalFields) are replaced by keyed
    /// placeholders. Feature `cassette`.
    pub fn record_to(mut self, path: impl Into<PathBuf>) -> Self {
        self.cassette.record_to(path.into());
        self
    }

    /// Answers every call from the cassette at `path`, with no network at all (no token is
    /// requested; credentials may be left out). Calls are matched by operation, method, path,
    /// query and body, personal values compared by placeholder; identical calls get their
    /// answers in recorded order. A call the cassette does not hold fails with
    /// [`Error::NotRecorded`]. Feature `cassette`.
    pub fn replay_from(mut self, path: impl Into<PathBuf>) -> Self {
        self.cassette.replay_from(path.into());
        self
    }

    /// The fields whose values are personal data: replaced by placeholders in a recording,
    /// and in a replaying call before it is matched (give the same to both). Feature
    /// `cassette`.
    pub fn personal_fields(mut self, fields: crate::cassette::PersonalFields) -> Self {
        self.cassette.personal_fields(fields);
        self
    }
}

impl ApiClientBuilder {
    /// Records a span per call and per attempt, and metrics, through `telemetry`'s
    /// providers (feature `otel`; see the crate docs, "Telemetry").
    #[cfg(feature = "otel")]
    pub fn telemetry(mut self, telemetry: super::telemetry::Telemetry) -> Self {
        self.telemetry.telemetry = Some(telemetry);
        self
    }

    /// Sends a W3C `traceparent` (and `tracestate`) header with every attempt, naming the
    /// attempt's span (or the caller's current span without a tracer). Off by default: the
    /// gateways belong to other administrations, and the header tells them about our traces.
    #[cfg(feature = "otel")]
    pub fn propagate_trace_context(mut self, on: bool) -> Self {
        self.telemetry.propagate = on;
        self
    }
}
