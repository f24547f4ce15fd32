//! [`ApiClient`]: the object generated clients hold, and what its clones share.

use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::Utc;
use http::HeaderName;

use crate::auth::Auth;
use crate::core::sync::RwLockExt;
use crate::core::time::Clock;
use crate::error::Error;
use crate::gateway::presets::{FranceConnectCarrier, Gateway};
use crate::gateway::traceability::Traceability;
use crate::policy::groups::Limits;
use crate::policy::in_flight::InFlight;
use crate::policy::retry::RetryPolicy;
use crate::wire::request::Request;
use crate::wire::response::RawResponse;

use super::credentials::{AuthSetup, Credential, Creds};
use super::hooks::SharedParts;
use super::options::CallOptions;

pub(crate) struct Inner {
    pub(crate) preset_label: String,
    pub(crate) gateway: Gateway,
    pub(crate) api_root: String,
    pub(crate) http: reqwest::Client,
    pub(crate) creds: RwLock<Arc<Creds>>,
    /// The credential configuration the current `creds` were made from (rotation edits it).
    pub(crate) credential: Mutex<Credential>,
    pub(crate) setup: AuthSetup,
    pub(crate) traceability: Option<Traceability>,
    pub(crate) correlation_header: HeaderName,
    pub(crate) retry: RetryPolicy,
    pub(crate) limits: Limits,
    pub(crate) shared: SharedParts,
    pub(crate) timeout: Duration,
    /// Per-attempt timeout of document calls (see [`Preset::document_timeout`](crate::Preset)).
    pub(crate) document_timeout: Option<Duration>,
    pub(crate) france_connect: FranceConnectCarrier,
    /// The gateway's health endpoint, under the API root (see [`Preset::health_path`](crate::Preset)).
    pub(crate) health_path: Option<String>,
    /// Identical calls of the account wait for each other (see `policy::in_flight`).
    pub(crate) in_flight: Option<Arc<InFlight>>,
    pub(crate) pause_after_429: Duration,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) max_response_size: usize,
    /// The cassette this client records to or replays from (feature `cassette`).
    #[cfg(feature = "cassette")]
    pub(crate) cassette: Option<Arc<crate::cassette::Cassette>>,
    /// OpenTelemetry spans and metrics (feature `otel`; nothing without it).
    pub(crate) telemetry: super::telemetry::ClientTelemetry,
}

/// The runtime client a generated client holds. Cheap to clone: clones share the HTTP
/// connection pool, the token cache, the rate limiter and the credentials (a rotation applies
/// to every clone).
#[derive(Clone)]
pub struct ApiClient {
    pub(crate) inner: Arc<Inner>,
    pub(crate) options: CallOptions,
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
            .field("rate_limit", &i.limits.limit())
            .field("timeout", &i.timeout)
            .field("options", &self.options)
            .finish()
    }
}

impl ApiClient {
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
        Arc::clone(&self.inner.creds.read_unpoisoned())
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
    /// token refusals and invalid requests. The future borrows nothing from `self`
    /// (`use<E>`): a client made for one call can be dropped before it is awaited.
    pub fn execute<E>(
        &self,
        req: Request,
    ) -> impl Future<Output = Result<RawResponse, Error<E>>> + Send + 'static + use<E> {
        let call = self.start(req);
        async move { call.await.map_err(Error::retype) }
    }

    /// [`ApiClient::execute`] with a call's own options when it has some, else this client's:
    /// what a generated request builder sends with (its `send` may have moved the body out of
    /// the builder, so it hands over the options alone).
    pub fn execute_with<E>(
        &self,
        options: Option<CallOptions>,
        req: Request,
    ) -> impl Future<Output = Result<RawResponse, Error<E>>> + Send + 'static + use<E> {
        match options {
            Some(options) => self.with_options(options).execute(req),
            None => self.execute(req),
        }
    }

    /// The call pipeline behind a box, and out of line: `execute` is generic over the error
    /// type, so whatever it reaches is compiled again in every generated crate that calls it.
    /// Boxed, the pipeline (limits, token, retries, decoding of gateway errors) is compiled
    /// once, here; a release build of a generated client compiles only its own code.
    #[inline(never)]
    fn start(
        &self,
        req: Request,
    ) -> Pin<Box<dyn Future<Output = Result<RawResponse, Error>> + Send + 'static>> {
        Box::pin(self.clone().run(req))
    }
}
