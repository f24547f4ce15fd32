//! [`ApiClientBuilder`]: from a gateway preset and credentials to an [`ApiClient`].

use super::*;
use crate::auth::grants::Grant;
use crate::auth::{ClientAuthMethod, ProviderConfig, TokenProvider, jwt};
use crate::core::body::{DEFAULT_MAX_RESPONSE_SIZE, DEFAULT_MAX_TOKEN_RESPONSE_SIZE};
use crate::core::time::SystemClock;
use crate::policy::rate_limit::RateLimit;

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
    max_response_size: usize,
    max_token_response_size: usize,
    pub(crate) ext: crate::client::hooks::BuilderExt,
}

#[derive(Clone, Debug)]
pub(crate) enum Credential {
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

pub(super) fn jwt_expired_message(exp: chrono::DateTime<Utc>) -> String {
    format!(
        "the API token (JWT) expired on {}; request its renewal on the provider's portal and configure the new token",
        exp.format("%Y-%m-%d %H:%M UTC")
    )
}

impl ApiClientBuilder {
    pub(super) fn new(preset: Preset) -> Self {
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
            ext: Default::default(),
            jwt_warning: JWT_WARNING_PERIOD,
            max_response_size: DEFAULT_MAX_RESPONSE_SIZE,
            max_token_response_size: DEFAULT_MAX_TOKEN_RESPONSE_SIZE,
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

    /// Largest API response body accepted (default 32 MiB); a larger one gives
    /// [`Error::ResponseTooLarge`].
    pub fn max_response_size(mut self, bytes: usize) -> Self {
        self.max_response_size = bytes;
        self
    }

    /// Largest token endpoint response body accepted (default 64 KiB).
    pub fn max_token_response_size(mut self, bytes: usize) -> Self {
        self.max_token_response_size = bytes;
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
        check_url("API root", &api_root, has_credentials)?;
        for (what, url) in [("token URL", &p.token_url), ("revoke URL", &p.revoke_url)] {
            if let Some(u) = url {
                check_url(what, u, true)?;
            }
        }
        let correlation_header = HeaderName::from_bytes(p.correlation_header.as_bytes())
            .map_err(|_| cfg(format!("`{}` is not a header name", p.correlation_header)))?;
        let custom_clock = self.clock.is_some();
        let clock: Arc<dyn Clock> = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let http = match self.http {
            Some(h) => h,
            None => reqwest::Client::builder()
                .connect_timeout(self.connect_timeout)
                .user_agent(self.user_agent)
                .referer(false)
                .redirect(redirect_policy(&p.token_url, &p.revoke_url))
                .build()
                .map_err(|e| cfg(format!("HTTP client: {e}")))?,
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
            timeout: self.timeout,
            max_token_size: self.max_token_response_size,
            jwt_warning: self.jwt_warning,
        };
        let creds = setup.make_creds(&self.credential, self.api_keys)?;
        let (limiter, ext) = self.ext.finish(
            &api_root,
            &creds.auth,
            &creds.api_keys,
            p.rate_limit,
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
                limiter,
                ext,
                timeout: self.timeout,
                pause_after_429: p.pause_after_429,
                clock,
                max_response_size: self.max_response_size,
            }),
            options: CallOptions::default(),
        })
    }
}

fn cfg(m: String) -> Error {
    Error::InvalidConfig { message: m }
}

/// `https`, or `http` to a loopback host (tests, local proxies); `http` elsewhere only when no
/// credential would travel over it.
fn check_url(what: &str, url: &str, carries_credentials: bool) -> Result<(), Error> {
    let u =
        reqwest::Url::parse(url).map_err(|e| cfg(format!("{what} `{url}` is not a URL: {e}")))?;
    let host = u.host_str().unwrap_or("");
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match u.scheme() {
        "https" => Ok(()),
        "http" if loopback || !carries_credentials => Ok(()),
        "http" => Err(cfg(format!(
            "{what} `{url}` uses http: credentials would travel in clear text; use https (http is accepted for loopback hosts only)"
        ))),
        other => Err(cfg(format!(
            "{what} `{url}`: scheme `{other}` is not supported (https)"
        ))),
    }
}

fn same_origin(a: &reqwest::Url, b: &reqwest::Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Redirects are followed only to the same origin (so never https → http, never to a host that
/// would receive the credentials), at most 5 times, and never for token or revoke requests.
fn redirect_policy(
    token_url: &Option<String>,
    revoke_url: &Option<String>,
) -> reqwest::redirect::Policy {
    let token_urls: Vec<reqwest::Url> = [token_url, revoke_url]
        .into_iter()
        .flatten()
        .filter_map(|u| reqwest::Url::parse(u).ok())
        .collect();
    reqwest::redirect::Policy::custom(move |attempt| {
        let Some(first) = attempt.previous().first().cloned() else {
            return attempt.stop();
        };
        let token_request = token_urls
            .iter()
            .any(|t| same_origin(t, &first) && t.path() == first.path());
        if token_request || attempt.previous().len() > 5 || !same_origin(&first, attempt.url()) {
            tracing::warn!(
                status = attempt.status().as_u16(),
                "redirect not followed (other origin, token endpoint or too many)"
            );
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

/// What is needed to turn a [`Credential`] into [`Creds`] (at build time and on rotation).
pub(crate) struct AuthSetup {
    pub gateway: Gateway,
    pub token_url: Option<String>,
    pub revoke_url: Option<String>,
    pub scopes: Vec<String>,
    pub client_auth: ClientAuthMethod,
    pub password_client_id: Option<String>,
    pub clock: Arc<dyn Clock>,
    pub custom_clock: bool,
    pub margin: Duration,
    pub http: reqwest::Client,
    pub timeout: Duration,
    pub max_token_size: usize,
    pub jwt_warning: Duration,
}

impl AuthSetup {
    fn provider(&self, grant: Grant) -> Result<Auth, Error> {
        let token_url = self
            .token_url
            .clone()
            .ok_or_else(|| cfg("an OAuth grant needs a token URL: use .token_url(...)".into()))?;
        Ok(Auth::Token(Arc::new(TokenProvider::new(
            grant,
            ProviderConfig {
                token_url,
                revoke_url: self.revoke_url.clone(),
                clock: Arc::clone(&self.clock),
                custom_clock: self.custom_clock,
                margin: self.margin,
                http: self.http.clone(),
                timeout: self.timeout,
                max_size: self.max_token_size,
            },
        ))))
    }

    /// The credentials in force for `credential` (fails on an expired JWT).
    pub(crate) fn make_creds(
        &self,
        credential: &Credential,
        api_keys: Vec<ApiKey>,
    ) -> Result<Creds, Error> {
        let mut scrubber = Scrubber::new();
        for k in &api_keys {
            scrubber.add_secret(&k.value);
        }
        let auth = match credential.clone() {
            Credential::None => Auth::None,
            Credential::Bearer(t) => {
                scrubber.add_secret(&t);
                Auth::Static(Secret::new(format!("Bearer {}", t.expose())))
            }
            Credential::Basic(u, pw) => {
                use base64::Engine;
                scrubber.add_secret(&pw);
                scrubber.add_pair(&u, pw.expose());
                let raw = format!("{u}:{}", pw.expose());
                Auth::Static(Secret::new(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                )))
            }
            Credential::Jwt(t) => {
                scrubber.add_secret(&t);
                let expires_at = jwt::jwt_expiry(t.expose());
                let now = self.clock.now_utc();
                match expires_at {
                    Some(exp) if exp <= now => {
                        return Err(Error::CredentialExpired {
                            message: jwt_expired_message(exp),
                            correlation_id: None,
                        });
                    }
                    Some(_) => {}
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
                    method: method.unwrap_or(self.client_auth),
                    scopes: self.scopes.clone(),
                };
                self.provider(grant)?
            }
            Credential::Password(user, pw, client_id) => {
                let grant = Grant::Password {
                    client_id: client_id
                        .or(self.password_client_id.clone())
                        .unwrap_or_else(|| "gun-api".to_owned()),
                    username: user,
                    password: pw,
                    scopes: self.scopes.clone(),
                };
                self.provider(grant)?
            }
        };
        if let Auth::Token(p) = &auth {
            scrubber.extend(p.scrubber());
        }
        let static_authorization = match &auth {
            Auth::Static(h) | Auth::Jwt { header: h, .. } => sensitive_header(h.expose()).ok(),
            Auth::None | Auth::Token(_) => None,
        };
        let creds = Creds {
            auth,
            static_authorization,
            api_keys,
            scrubber: Arc::new(scrubber),
            jwt_warned_day: AtomicI64::new(i64::MIN),
        };
        self.warn_jwt_expiry(&creds);
        Ok(creds)
    }

    /// Warns (tracing) when the JWT expires within the warning period; at most once a day.
    pub(crate) fn warn_jwt_expiry(&self, creds: &Creds) {
        let Auth::Jwt {
            expires_at: Some(exp),
            ..
        } = &creds.auth
        else {
            return;
        };
        let now = self.clock.now_utc();
        let day = now
            .timestamp()
            .div_euclid(JWT_WARNING_INTERVAL.as_secs() as i64);
        let last = creds
            .jwt_warned_day
            .load(std::sync::atomic::Ordering::Relaxed);
        if day == last {
            return;
        }
        let left = (*exp - now).to_std().unwrap_or_default();
        if left > self.jwt_warning {
            return;
        }
        if creds
            .jwt_warned_day
            .compare_exchange(
                last,
                day,
                std::sync::atomic::Ordering::Relaxed,
                std::sync::atomic::Ordering::Relaxed,
            )
            .is_ok()
        {
            tracing::warn!(
                expires_at = %exp.to_rfc3339(),
                days_left = left.as_secs() / 86_400,
                gateway = ?self.gateway,
                "the API token (JWT) expires soon: request its renewal now"
            );
        }
    }
}
