//! [`ApiClient`]: the object generated clients hold, and the per-call pipeline
//! (auth → correlation ID → limiter → retry → transport) run by [`ApiClient::execute`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use http::{HeaderName, HeaderValue};
use tracing::Instrument;

use crate::auth::grants::Grant;
use crate::auth::{
    ApiKey, ApiKeyLocation, Auth, ClientAuthMethod, Clock, SystemClock, TokenProvider, jwt,
};
use crate::correlation::new_correlation_id;
use crate::error::decode::{self, parse_www_authenticate};
use crate::error::{Error, Undocumented};
use crate::presets::{Gateway, Preset};
use crate::rate_limit::{RateLimit, RateLimiter};
use crate::request::{Body, Request, query_component};
use crate::response::{RawResponse, gateway_correlation_id};
use crate::retry::{self, Action, Outcome, RetryPolicy};
use crate::secret::Secret;

/// How long before a JWT's `exp` the runtime starts warning (the providers notify 90 days ahead).
pub const JWT_WARNING_PERIOD: Duration = Duration::from_secs(90 * 24 * 3600);

/// API Entreprise / API Particulier traceability parameters, appended to calls marked
/// [`Request::traceability`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Traceability {
    /// `context`: the framework of the call (e.g. "Aides publiques").
    pub context: String,
    /// `recipient`: SIRET of the administration receiving the data.
    pub recipient: String,
    /// `object`: the reason / file reference of the call.
    pub object: String,
}

/// Per-call options, set with [`ApiClient::with_options`].
#[derive(Clone, Debug, Default)]
pub struct CallOptions {
    correlation_id: Option<String>,
    france_connect_token: Option<Secret>,
    retry: Option<RetryPolicy>,
    timeout: Option<Duration>,
    headers: Vec<(String, String)>,
    object: Option<String>,
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

    /// Overrides the request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Overrides the traceability `object` (API Entreprise / API Particulier: the reason or
    /// file reference of this call) configured on the client; `context` and `recipient` stay.
    pub fn traceability_object(mut self, object: impl Into<String>) -> Self {
        self.object = Some(object.into());
        self
    }

    /// Adds a header to every call made with these options (for instance
    /// `Cache-Control: no-cache` at API Entreprise, or a test harness's control header).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

struct Inner {
    preset_label: String,
    gateway: Gateway,
    api_root: String,
    http: reqwest::Client,
    auth: Auth,
    /// The `Authorization` value of a static or JWT credential, parsed once (`None` if it is
    /// not a valid header value: each call then reports it).
    static_authorization: Option<HeaderValue>,
    api_keys: Vec<ApiKey>,
    traceability: Option<Traceability>,
    correlation_header: HeaderName,
    retry: RetryPolicy,
    limiter: RateLimiter,
    timeout: Duration,
    pause_after_429: Duration,
    clock: Arc<dyn Clock>,
}

/// The runtime client a generated client holds. Cheap to clone: clones share the HTTP
/// connection pool, the token cache and the rate limiter.
#[derive(Clone)]
pub struct ApiClient {
    inner: Arc<Inner>,
    options: CallOptions,
}

impl fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("ApiClient")
            .field("preset", &i.preset_label)
            .field("api_root", &i.api_root)
            .field("auth", &i.auth)
            .field("api_keys", &i.api_keys)
            .field("traceability", &i.traceability)
            .field("correlation_header", &i.correlation_header)
            .field("retry", &i.retry)
            .field("rate_limit", &i.limiter.limit())
            .field("timeout", &i.timeout)
            .field("options", &self.options)
            .finish()
    }
}

/// Builds an [`ApiClient`] from a [`Preset`].
pub struct ApiClientBuilder {
    preset: Preset,
    credential: Credential,
    scopes: Option<Vec<String>>,
    api_keys: Vec<ApiKey>,
    traceability: Option<Traceability>,
    retry: RetryPolicy,
    connect_timeout: Duration,
    timeout: Duration,
    refresh_margin: Duration,
    clock: Option<Arc<dyn Clock>>,
    http: Option<reqwest::Client>,
    user_agent: String,
    jwt_warning: Duration,
}

#[derive(Clone, Debug)]
enum Credential {
    None,
    Bearer(Secret),
    Basic(String, Secret),
    Jwt(Secret),
    ClientCredentials(Secret, Secret, Option<ClientAuthMethod>),
    Password(Secret, Secret, Option<String>),
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
        ApiClientBuilder {
            preset,
            credential: Credential::None,
            scopes: None,
            api_keys: Vec::new(),
            traceability: None,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            refresh_margin: Duration::from_secs(60),
            clock: None,
            http: None,
            user_agent: concat!("gouvgen-runtime/", env!("CARGO_PKG_VERSION")).to_owned(),
            jwt_warning: JWT_WARNING_PERIOD,
        }
    }

    /// A client with per-call options (correlation ID, FranceConnect token, retry policy).
    /// Shares everything else (token cache, limiter, connections) with `self`.
    pub fn with_options(&self, opts: CallOptions) -> ApiClient {
        ApiClient {
            inner: Arc::clone(&self.inner),
            options: opts,
        }
    }

    /// The per-call options this client applies (set with [`ApiClient::with_options`]).
    pub fn options(&self) -> &CallOptions {
        &self.options
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
        match &self.inner.auth {
            Auth::Jwt { expires_at, .. } => *expires_at,
            _ => None,
        }
    }

    /// Number of token endpoint requests made by this client (and its clones).
    pub fn token_requests(&self) -> u64 {
        match &self.inner.auth {
            Auth::Token(p) => p.requests(),
            _ => 0,
        }
    }

    /// Whether an OAuth token is currently cached for this client's account.
    pub fn has_cached_token(&self) -> bool {
        match &self.inner.auth {
            Auth::Token(p) => p.has_token(),
            _ => false,
        }
    }

    /// Revokes the cached OAuth token (DGFiP `POST /revoke` with `token=<t>`) and forgets it,
    /// so the next call fetches a new one. Without a revoke URL the token is only forgotten.
    pub async fn revoke(&self) -> Result<(), Error> {
        match &self.inner.auth {
            Auth::Token(p) => p
                .revoke()
                .await
                .map_err(|f| f.into_error("revoke", "", self.inner.timeout)),
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

    async fn run(self, req: Request) -> Result<RawResponse, Error<Undocumented>> {
        let correlation_id = self
            .options
            .correlation_id
            .clone()
            .unwrap_or_else(new_correlation_id);
        let span = tracing::info_span!(
            "gouvgen.call",
            operation_id = req.operation_id,
            method = %req.method,
            correlation_id = %correlation_id,
            attempt = tracing::field::Empty,
            status = tracing::field::Empty,
        );
        self.run_in_span(req, correlation_id, span.clone())
            .instrument(span)
            .await
    }

    fn invalid<T>(
        req: &Request,
        correlation_id: &str,
        message: String,
    ) -> Result<T, Error<Undocumented>> {
        Err(Error::InvalidRequest {
            message,
            operation_id: req.operation_id,
            correlation_id: Some(correlation_id.to_owned()),
        })
    }

    fn build_url(&self, req: &Request, correlation_id: &str) -> Result<String, Error> {
        let mut url = String::with_capacity(self.inner.api_root.len() + req.path.len() + 32);
        url.push_str(&self.inner.api_root);
        if !req.path.is_empty() && !req.path.starts_with('/') {
            url.push('/');
        }
        url.push_str(&req.path);
        let mut pairs: Vec<(&str, &str)> = req
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        if req.traceability {
            let Some(t) = &self.inner.traceability else {
                return Self::invalid(
                    req,
                    correlation_id,
                    "this operation needs the traceability parameters: configure \
                     .traceability(context, recipient, object) on the ApiClient builder"
                        .into(),
                );
            };
            pairs.push(("context", &t.context));
            pairs.push(("recipient", &t.recipient));
            pairs.push((
                "object",
                self.options.object.as_deref().unwrap_or(&t.object),
            ));
        }
        if !req.no_auth {
            for k in &self.inner.api_keys {
                if k.location == ApiKeyLocation::Query {
                    pairs.push((&k.name, k.value.expose()));
                }
            }
        }
        let mut sep = if url.contains('?') { '&' } else { '?' };
        for (k, v) in pairs {
            url.push(sep);
            sep = '&';
            url.push_str(&query_component(k));
            url.push('=');
            url.push_str(&query_component(v));
        }
        Ok(url)
    }

    /// The Authorization header value (`Err` if the credential is not a valid header value)
    /// and, for OAuth, the token generation.
    async fn authorization(
        &self,
        req: &Request,
        correlation_id: &str,
    ) -> Result<Option<(Result<HeaderValue, ()>, Option<u64>)>, Error> {
        if req.no_auth {
            return Ok(None);
        }
        match &self.inner.auth {
            Auth::None => Ok(None),
            Auth::Static(_) => Ok(Some((
                self.inner.static_authorization.clone().ok_or(()),
                None,
            ))),
            Auth::Jwt { expires_at, .. } => {
                if let Some(exp) = expires_at {
                    if *exp <= self.inner.clock.now_utc() {
                        return Err(Error::CredentialExpired {
                            message: jwt_expired_message(*exp),
                            correlation_id: Some(correlation_id.to_owned()),
                        });
                    }
                }
                Ok(Some((
                    self.inner.static_authorization.clone().ok_or(()),
                    None,
                )))
            }
            Auth::Token(p) => match p.token().await {
                Ok(t) => Ok(Some((
                    sensitive_header(&format!("Bearer {}", t.access.expose())),
                    Some(t.generation),
                ))),
                Err(f) => Err(f.into_error(req.operation_id, correlation_id, self.inner.timeout)),
            },
        }
    }

    fn build_request(
        &self,
        req: &Request,
        url: &str,
        correlation_id: &str,
        authorization: Option<&Result<HeaderValue, ()>>,
        timeout: Duration,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let mut rb = self
            .inner
            .http
            .request(req.method.clone(), url)
            .timeout(timeout);
        let bad = |what: &str| {
            Self::invalid::<reqwest::RequestBuilder>(
                req,
                correlation_id,
                format!("{what} is not a valid header value"),
            )
        };
        let Ok(cid) = HeaderValue::from_str(correlation_id) else {
            return bad("the correlation ID");
        };
        rb = rb.header(self.inner.correlation_header.clone(), cid);
        if let Some(a) = authorization {
            let Ok(v) = a else {
                return bad("the credential");
            };
            rb = rb.header(http::header::AUTHORIZATION, v.clone());
        }
        if !req.no_auth {
            for k in &self.inner.api_keys {
                if k.location == ApiKeyLocation::Header {
                    let Ok(name) = HeaderName::from_bytes(k.name.as_bytes()) else {
                        return bad("the API key header name");
                    };
                    let Ok(mut v) = HeaderValue::from_str(k.value.expose()) else {
                        return bad("the API key");
                    };
                    v.set_sensitive(true);
                    rb = rb.header(name, v);
                }
            }
        }
        if let Some(fc) = &self.options.france_connect_token {
            let Ok(mut v) = HeaderValue::from_str(fc.expose()) else {
                return bad("the FranceConnect token");
            };
            v.set_sensitive(true);
            rb = rb.header("X-FranceConnect-OAuth", v);
        }
        if let Some(a) = req.accept {
            rb = rb.header(http::header::ACCEPT, a);
        }
        for (name, value) in &self.options.headers {
            let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) else {
                return bad(&format!("call option header {name}"));
            };
            rb = rb.header(n, v);
        }
        for (name, value) in &req.headers {
            let Ok(v) = HeaderValue::from_str(value) else {
                return bad(&format!("header {name}"));
            };
            let Ok(n) = HeaderName::from_bytes(name.as_bytes()) else {
                return bad(&format!("header name {name}"));
            };
            rb = rb.header(n, v);
        }
        if !req.cookies.is_empty() {
            let cookie = req
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={}", query_component(v)))
                .collect::<Vec<_>>()
                .join("; ");
            let Ok(v) = HeaderValue::from_str(&cookie) else {
                return bad("cookie");
            };
            rb = rb.header(http::header::COOKIE, v);
        }
        match &req.body {
            Body::None => {}
            Body::Bytes {
                content_type,
                bytes,
            } => {
                rb = rb
                    .header(http::header::CONTENT_TYPE, content_type.as_str())
                    .body(bytes.clone());
            }
            Body::Multipart(m) => match m.to_form() {
                Ok(form) => rb = rb.multipart(form),
                Err(e) => return Self::invalid(req, correlation_id, e),
            },
        }
        Ok(rb)
    }

    async fn run_in_span(
        &self,
        req: Request,
        correlation_id: String,
        span: tracing::Span,
    ) -> Result<RawResponse, Error> {
        if let Some(e) = &req.build_error {
            return Self::invalid(&req, &correlation_id, e.clone());
        }
        let url = self.build_url(&req, &correlation_id)?;
        let policy = self.options.retry.as_ref().unwrap_or(&self.inner.retry);
        let timeout = self.options.timeout.unwrap_or(self.inner.timeout);
        let start = tokio::time::Instant::now();
        let deadline = start + policy.max_total_time;
        let mut attempt: u32 = 0;
        let mut retries: u32 = 0;
        let mut auth_retried = false;
        loop {
            attempt += 1;
            span.record("attempt", attempt);
            self.inner.limiter.acquire().await;
            let authorization = self.authorization(&req, &correlation_id).await?;
            let rb = self.build_request(
                &req,
                &url,
                &correlation_id,
                authorization.as_ref().map(|(s, _)| s),
                timeout,
            )?;
            tracing::debug!(attempt, "sending");
            let result = match rb.send().await {
                Ok(mut resp) => {
                    let status = resp.status().as_u16();
                    let headers = std::mem::take(resp.headers_mut());
                    resp.bytes().await.map(|b| (status, headers, b))
                }
                Err(e) => Err(e),
            };
            let (status, headers, body) = match result {
                Ok(r) => r,
                Err(e) => {
                    let e = e.without_url();
                    let outcome = if e.is_timeout() {
                        Outcome::Timeout
                    } else if e.is_connect() {
                        Outcome::ConnectError
                    } else {
                        Outcome::TransportError
                    };
                    tracing::warn!(attempt, error = %e, "transport failure");
                    let action = retry::classify(policy, &req.method, outcome, None);
                    if let Some(wait) = self.retry_wait(policy, action, retries, deadline, attempt)
                    {
                        retries += 1;
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(if outcome == Outcome::Timeout {
                        Error::Timeout {
                            operation_id: req.operation_id,
                            correlation_id,
                            after: timeout,
                        }
                    } else {
                        Error::Transport {
                            operation_id: req.operation_id,
                            correlation_id,
                            connect: outcome == Outcome::ConnectError,
                            source: Box::new(e),
                        }
                    });
                }
            };
            span.record("status", status);
            let retry_after = retry::parse_retry_after(&headers);
            if status == 429 {
                let pause = retry_after.unwrap_or(self.inner.pause_after_429);
                tracing::warn!(
                    retry_after_s = pause.as_secs_f64(),
                    "HTTP 429: holding every call of this client"
                );
                self.inner
                    .limiter
                    .pause_until(tokio::time::Instant::now() + pause);
            }
            if status == 401 && !auth_retried {
                if let (Auth::Token(p), Some((_, Some(generation)))) =
                    (&self.inner.auth, &authorization)
                {
                    if token_rejected(&headers, &body) {
                        tracing::info!("access token rejected (401): refreshing and retrying once");
                        auth_retried = true;
                        p.invalidate(*generation);
                        continue;
                    }
                }
            }
            let action = retry::classify(policy, &req.method, Outcome::Status(status), retry_after);
            if action != Action::Stop {
                if let Some(wait) = self.retry_wait(policy, action, retries, deadline, attempt) {
                    tracing::info!(status, wait_ms = wait.as_millis() as u64, "retrying");
                    retries += 1;
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            if status >= 400 {
                tracing::info!(status, "error response");
            } else {
                tracing::debug!(status, "response");
            }
            return Ok(RawResponse {
                status,
                gateway_correlation_id: gateway_correlation_id(
                    &headers,
                    &self.inner.correlation_header,
                ),
                headers,
                body,
                operation_id: req.operation_id,
                correlation_id,
                retry_after,
            });
        }
    }

    /// The wait before the next retry, or `None` if the policy forbids one.
    fn retry_wait(
        &self,
        policy: &RetryPolicy,
        action: Action,
        retries: u32,
        deadline: tokio::time::Instant,
        attempt: u32,
    ) -> Option<Duration> {
        let wait = match action {
            Action::Stop => return None,
            Action::RetryAfter(d) => d,
            Action::Backoff => policy.backoff_for(retries + 1),
        };
        if attempt >= policy.max_attempts {
            return None;
        }
        if tokio::time::Instant::now() + wait > deadline {
            tracing::info!(
                wait_ms = wait.as_millis() as u64,
                "not retrying: the wait exceeds the retry policy's max total time"
            );
            return None;
        }
        Some(wait)
    }
}

/// Whether a 401 says the access token itself is bad (so a new one may help): RFC 6750
/// `invalid_token`, DGFiP 900901/900906, or a 401 that gives no reason at all.
fn token_rejected(headers: &http::HeaderMap, body: &[u8]) -> bool {
    if let Some((error, _)) = parse_www_authenticate(headers) {
        return error == "invalid_token";
    }
    let d = decode::decode(401, headers, body);
    match d.code.as_deref() {
        Some(c) => matches!(c.trim(), "900901" | "900906" | "invalid_token"),
        None => true,
    }
}

/// A credential as a header value marked sensitive (hidden from hyper's debug output).
fn sensitive_header(value: &str) -> Result<HeaderValue, ()> {
    let mut v = HeaderValue::from_str(value).map_err(drop)?;
    v.set_sensitive(true);
    Ok(v)
}

fn jwt_expired_message(exp: chrono::DateTime<Utc>) -> String {
    format!(
        "the API token (JWT) expired on {}; request its renewal on the provider's portal and configure the new token",
        exp.format("%Y-%m-%d %H:%M UTC")
    )
}

impl ApiClientBuilder {
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

    /// Disables the client-side rate limit (429 pauses still apply).
    pub fn no_rate_limit(mut self) -> Self {
        self.preset.rate_limit = None;
        self
    }

    /// How long every call is held after a 429 that has no `Retry-After`.
    pub fn pause_after_429(mut self, pause: Duration) -> Self {
        self.preset.pause_after_429 = pause;
        self
    }

    /// Connect timeout (default 10 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// Timeout of one attempt, response body included (default 30 s).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
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

    /// Injects a clock (tests). Clients with a custom clock share token caches only with
    /// clients built with the same clock.
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

    /// Builds the client. Fails on an invalid configuration or an expired JWT.
    pub fn build(self) -> Result<ApiClient, Error> {
        let cfg = |m: String| Error::InvalidConfig { message: m };
        let p = self.preset;
        let api_root = p.api_root.trim_end_matches('/').to_owned();
        reqwest::Url::parse(&api_root)
            .map_err(|e| cfg(format!("API root `{api_root}` is not a URL: {e}")))?;
        let correlation_header = HeaderName::from_bytes(p.correlation_header.as_bytes())
            .map_err(|_| cfg(format!("`{}` is not a header name", p.correlation_header)))?;
        let custom_clock = self.clock.is_some();
        let clock: Arc<dyn Clock> = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let http = match self.http {
            Some(h) => h,
            None => reqwest::Client::builder()
                .connect_timeout(self.connect_timeout)
                .user_agent(self.user_agent)
                .build()
                .map_err(|e| cfg(format!("HTTP client: {e}")))?,
        };
        let scopes = self.scopes.unwrap_or(p.default_scopes.clone());
        let token_url = || {
            p.token_url
                .clone()
                .ok_or_else(|| cfg("an OAuth grant needs a token URL: use .token_url(...)".into()))
        };
        let auth = match self.credential {
            Credential::None => Auth::None,
            Credential::Bearer(t) => Auth::Static(Secret::new(format!("Bearer {}", t.expose()))),
            Credential::Basic(u, pw) => {
                use base64::Engine;
                let raw = format!("{u}:{}", pw.expose());
                Auth::Static(Secret::new(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                )))
            }
            Credential::Jwt(t) => {
                let expires_at = jwt::jwt_expiry(t.expose());
                let now = clock.now_utc();
                match expires_at {
                    Some(exp) if exp <= now => {
                        return Err(Error::CredentialExpired {
                            message: jwt_expired_message(exp),
                            correlation_id: None,
                        });
                    }
                    Some(exp) => {
                        let left = (exp - now).to_std().unwrap_or_default();
                        if left <= self.jwt_warning {
                            tracing::warn!(
                                expires_at = %exp.to_rfc3339(),
                                days_left = left.as_secs() / 86_400,
                                gateway = ?p.gateway,
                                "the API token (JWT) expires soon: request its renewal now"
                            );
                        }
                    }
                    None => tracing::debug!("the API token is not a JWT with `exp`"),
                }
                Auth::Jwt {
                    header: Secret::new(format!("Bearer {}", t.expose())),
                    expires_at,
                }
            }
            Credential::ClientCredentials(id, secret, method) => {
                let grant = Grant::ClientCredentials {
                    client_id: id,
                    client_secret: secret,
                    method: method.unwrap_or(p.client_auth),
                    scopes,
                };
                Auth::Token(Arc::new(TokenProvider::new(
                    grant,
                    token_url()?,
                    p.revoke_url.clone(),
                    Arc::clone(&clock),
                    custom_clock,
                    self.refresh_margin,
                    http.clone(),
                    self.timeout,
                )))
            }
            Credential::Password(user, pw, client_id) => {
                let grant = Grant::Password {
                    client_id: client_id
                        .or(p.password_client_id.clone())
                        .unwrap_or_else(|| "gun-api".to_owned()),
                    username: user,
                    password: pw,
                    scopes,
                };
                Auth::Token(Arc::new(TokenProvider::new(
                    grant,
                    token_url()?,
                    p.revoke_url.clone(),
                    Arc::clone(&clock),
                    custom_clock,
                    self.refresh_margin,
                    http.clone(),
                    self.timeout,
                )))
            }
        };
        let static_authorization = match &auth {
            Auth::Static(h) | Auth::Jwt { header: h, .. } => sensitive_header(h.expose()).ok(),
            Auth::None | Auth::Token(_) => None,
        };
        tracing::debug!(preset = %p.label, api_root = %api_root, auth = auth.kind(), "ApiClient built");
        Ok(ApiClient {
            inner: Arc::new(Inner {
                preset_label: p.label,
                gateway: p.gateway,
                api_root,
                http,
                auth,
                static_authorization,
                api_keys: self.api_keys,
                traceability: self.traceability,
                correlation_header,
                retry: self.retry,
                limiter: RateLimiter::new(p.rate_limit),
                timeout: self.timeout,
                pause_after_429: p.pause_after_429,
                clock,
            }),
            options: CallOptions::default(),
        })
    }
}
