//! [`ApiClient`]: the object generated clients hold. The per-call pipeline (auth → correlation
//! ID → limiter → retry → transport) is in [`call`], the builder in [`builder`], credential
//! rotation in [`rotation`].

use std::fmt;
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::Utc;
use http::{HeaderName, HeaderValue};
use tracing::Instrument;

use crate::auth::{ApiKey, ApiKeyLocation, Auth};
use crate::core::correlation::new_correlation_id;
use crate::core::scrub::Scrubber;
use crate::core::secret::Secret;
use crate::core::time::Clock;
use crate::error::decode::parse_www_authenticate;
use crate::error::{Error, Undocumented};
use crate::gateway::presets::Gateway;
use crate::gateway::presets::Preset;
use crate::policy::retry::{self, Action, Outcome, RetryPolicy};
use crate::wire::request::{Body, Request, query_component};
use crate::wire::response::{RawResponse, Redactor, gateway_correlation_id};

mod account;
mod builder;
mod call;
pub(crate) mod hooks;
mod rotation;

pub use crate::gateway::traceability::Traceability;
pub use builder::ApiClientBuilder;
use builder::{AuthSetup, Credential, jwt_expired_message};
use call::sensitive_header;
pub use hooks::DEFAULT_STORE_TIMEOUT;

/// How long before a JWT's `exp` the runtime starts warning (the providers notify 90 days ahead).
pub const JWT_WARNING_PERIOD: Duration = Duration::from_secs(90 * 24 * 3600);

/// How often the JWT expiry warning is repeated in a long-running process.
pub const JWT_WARNING_INTERVAL: Duration = Duration::from_secs(24 * 3600);

/// Per-call options, set with [`ApiClient::with_options`].
#[derive(Clone, Default)]
pub struct CallOptions {
    correlation_id: Option<String>,
    france_connect_token: Option<Secret>,
    retry: Option<RetryPolicy>,
    timeout: Option<Duration>,
    headers: Vec<(String, String)>,
    traceability: crate::gateway::traceability::TraceabilityOverride,
}

impl fmt::Debug for CallOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values may be credentials: names only.
        f.debug_struct("CallOptions")
            .field("correlation_id", &self.correlation_id)
            .field("france_connect_token", &self.france_connect_token)
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl CallOptions {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Use this correlation ID instead of a fresh UUID.
    pub fn correlation_id(mut self, id: impl Into<String>) -> Self {
        self.correlation_id = Some(id.into());
        self
    }

    /// FranceConnect access token of the user, sent in `X-FranceConnect-OAuth` (DGFiP
    /// FranceConnect access point).
    pub fn france_connect_token(mut self, token: impl Into<Secret>) -> Self {
        self.france_connect_token = Some(token.into());
        self
    }

    /// Overrides the client's retry policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Allows repeating this non-idempotent call (POST) on transient failures.
    pub fn retry_non_idempotent(mut self, yes: bool) -> Self {
        let p = self.retry.take().unwrap_or_default();
        self.retry = Some(p.retry_non_idempotent(yes));
        self
    }

    /// The call's deadline: everything the call waits for (rate limiter, 429 pause, token
    /// fetch, attempts and backoff) ends within this time. Each attempt is also bounded by the
    /// builder's per-attempt timeout. Without it, a call ends within the retry policy's
    /// `max_total_time` plus one attempt timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The traceability `object` of this call (API Entreprise / Particulier: the case file or
    /// procedure, "raison de l'appel ou identifiant de procédure"); `context` and `recipient`
    /// come from the client.
    pub fn traceability_object(mut self, object: impl Into<String>) -> Self {
        self.traceability.object = Some(object.into());
        self
    }

    /// Overrides all three traceability values for this call.
    pub fn traceability(
        mut self,
        context: impl Into<String>,
        recipient: impl Into<String>,
        object: impl Into<String>,
    ) -> Self {
        self.traceability = crate::gateway::traceability::TraceabilityOverride {
            context: Some(context.into()),
            recipient: Some(recipient.into()),
            object: Some(object.into()),
        };
        self
    }

    /// Adds a header to every call made with these options (for instance
    /// `Cache-Control: no-cache` at API Entreprise, or a test harness's control header).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// The credentials in force: replaced whole by a rotation, while calls in flight keep the
/// `Arc` they started with.
pub(crate) struct Creds {
    pub(crate) auth: Auth,
    /// The `Authorization` value of a static or JWT credential, parsed once (`None` if it is
    /// not a valid header value: each call then reports it).
    pub(crate) static_authorization: Option<HeaderValue>,
    pub(crate) api_keys: Vec<ApiKey>,
    /// Every configured secret, for scrubbing error bodies.
    pub(crate) scrubber: Arc<Scrubber>,
    /// Unix day of the last JWT expiry warning.
    pub(crate) jwt_warned_day: AtomicI64,
}

struct Inner {
    preset_label: String,
    gateway: Gateway,
    api_root: String,
    http: reqwest::Client,
    creds: RwLock<Arc<Creds>>,
    /// The credential configuration the current `creds` were made from (rotation edits it).
    credential: Mutex<Credential>,
    setup: AuthSetup,
    traceability: Option<Traceability>,
    correlation_header: HeaderName,
    retry: RetryPolicy,
    limiter: crate::policy::limiter::Limiter,
    ext: crate::client::hooks::ClientExt,
    timeout: Duration,
    pause_after_429: Duration,
    clock: Arc<dyn Clock>,
    max_response_size: usize,
}

/// The runtime client a generated client holds. Cheap to clone: clones share the HTTP
/// connection pool, the token cache, the rate limiter and the credentials (a rotation applies
/// to every clone).
#[derive(Clone)]
pub struct ApiClient {
    inner: Arc<Inner>,
    options: CallOptions,
}

impl fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        let creds = self.creds();
        f.debug_struct("ApiClient")
            .field("preset", &i.preset_label)
            .field("api_root", &i.api_root)
            .field("auth", &creds.auth)
            .field("api_keys", &creds.api_keys)
            .field("traceability", &i.traceability)
            .field("correlation_header", &i.correlation_header)
            .field("retry", &i.retry)
            .field("rate_limit", &i.limiter.limit())
            .field("timeout", &i.timeout)
            .field("options", &self.options)
            .finish()
    }
}

impl ApiClient {
    /// Starts building a client for a gateway preset (see [`crate::presets`]).
    pub fn builder(preset: Preset) -> ApiClientBuilder {
        ApiClientBuilder::new(preset)
    }

    /// A client with per-call options (correlation ID, FranceConnect token, retry policy).
    /// Shares everything else (token cache, limiter, connections) with `self`.
    pub fn with_options(&self, opts: CallOptions) -> ApiClient {
        ApiClient {
            inner: Arc::clone(&self.inner),
            options: opts,
        }
    }

    /// The per-call options this client applies (set with [`ApiClient::with_options`]);
    /// generated request builders start from them.
    pub fn options(&self) -> &CallOptions {
        &self.options
    }

    /// The credentials in force (a cheap `Arc` clone).
    pub(crate) fn creds(&self) -> Arc<Creds> {
        Arc::clone(&self.inner.creds.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// The API root URL.
    pub fn api_root(&self) -> &str {
        &self.inner.api_root
    }

    /// The gateway.
    pub fn gateway(&self) -> Gateway {
        self.inner.gateway
    }

    /// When the configured JWT expires, if a JWT with `exp` is configured.
    pub fn jwt_expires_at(&self) -> Option<chrono::DateTime<Utc>> {
        match &self.creds().auth {
            Auth::Jwt { expires_at, .. } => *expires_at,
            _ => None,
        }
    }

    /// Number of token endpoint requests made by this client (and its clones).
    pub fn token_requests(&self) -> u64 {
        match &self.creds().auth {
            Auth::Token(p) => p.requests(),
            _ => 0,
        }
    }

    /// Whether an OAuth token is currently cached for this client's account.
    pub fn has_cached_token(&self) -> bool {
        match &self.creds().auth {
            Auth::Token(p) => p.has_token(),
            _ => false,
        }
    }

    /// Revokes the cached OAuth token (DGFiP `POST /revoke` with `token=<t>`) and forgets it,
    /// so the next call fetches a new one. Without a revoke URL the token is only forgotten.
    pub async fn revoke(&self) -> Result<(), Error> {
        match &self.creds().auth {
            Auth::Token(p) => p.revoke().await.map_err(|f| f.into_error("revoke", "")),
            _ => Ok(()),
        }
    }

    /// Sends a request with all gateway policy applied, and returns the complete response,
    /// whatever its status (generated code decodes it). Errors are transport failures, timeouts,
    /// token refusals and invalid requests.
    pub fn execute<E>(
        &self,
        req: Request,
    ) -> impl Future<Output = Result<RawResponse, Error<E>>> + Send + 'static {
        let this = self.clone();
        async move { this.run(req).await.map_err(Error::retype) }
    }
}
