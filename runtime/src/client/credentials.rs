//! The credentials of a client: what was configured ([`Credential`]), what is in force
//! ([`Creds`], replaced whole by a rotation) and how one becomes the other ([`AuthSetup`]).

use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::time::Duration;

use chrono::Utc;
use http::HeaderValue;

use crate::auth::grants::Grant;
use crate::auth::{ApiKey, Auth, ClientAuthMethod, ProviderConfig, TokenProvider, jwt};
use crate::core::scrub::Scrubber;
use crate::core::secret::Secret;
use crate::core::time::Clock;
use crate::error::Error;
use crate::gateway::presets::Gateway;

/// How long before a JWT's `exp` the runtime starts warning (the providers notify 90 days ahead).
pub const JWT_WARNING_PERIOD: Duration = Duration::from_secs(90 * 24 * 3600);

/// How often the JWT expiry warning is repeated in a long-running process.
pub const JWT_WARNING_INTERVAL: Duration = Duration::from_secs(24 * 3600);

/// A credential as configured (by the builder or a rotation).
#[derive(Clone, Debug)]
pub(crate) enum Credential {
    None,
    Bearer(Secret),
    Basic(String, Secret),
    Jwt(Secret),
    ClientCredentials(Secret, Secret, Option<ClientAuthMethod>),
    Password(Secret, Secret, Option<String>),
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

pub(crate) fn jwt_expired_message(exp: chrono::DateTime<Utc>) -> String {
    format!(
        "the API token (JWT) expired on {}; request its renewal on the provider's portal and configure the new token",
        exp.format("%Y-%m-%d %H:%M UTC")
    )
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
        let token_url = self.token_url.clone().ok_or_else(|| {
            config_error("an OAuth grant needs a token URL: use .token_url(...)".into())
        })?;
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
                self.jwt_auth(&t)?
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

    /// A JWT credential with its `exp` (fails if it has already expired).
    fn jwt_auth(&self, t: &Secret) -> Result<Auth, Error> {
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
        Ok(Auth::Jwt {
            header: Secret::new(format!("Bearer {}", t.expose())),
            expires_at,
        })
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

/// An invalid configuration.
pub(crate) fn config_error(message: String) -> Error {
    Error::InvalidConfig { message }
}

/// A credential as a header value marked sensitive (hidden from hyper's debug output).
pub(crate) fn sensitive_header(value: &str) -> Result<HeaderValue, ()> {
    let mut v = HeaderValue::from_str(value).map_err(drop)?;
    v.set_sensitive(true);
    Ok(v)
}
