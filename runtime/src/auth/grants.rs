//! OAuth 2.0 token requests (RFC 6749): client_credentials with Basic or in-body client
//! authentication, the Douane password grant, refresh_token, and DGFiP revoke.
//!
//! Request bodies are never copied into errors (they hold secrets), and neither are the raw bodies
//! of token endpoint responses (a success body holds the token; a refusal may echo the request).

use std::time::Duration;

use base64::Engine;
use serde::Deserialize;

use super::failure::AuthFailure;
use crate::core::body::{BodyError, read_limited};
use crate::core::scrub::Scrubber;
use crate::core::secret::Secret;
use crate::error::decode;
use crate::error::{Dialect, GatewayError, OAuthErrorCode, TokenRefusal};
use crate::wire::request::encode_form;
use crate::wire::response::gateway_correlation_id;

/// How a confidential client authenticates to the token endpoint (RFC 6749 §2.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuthMethod {
    /// `Authorization: Basic base64(client_id:client_secret)` (DGFiP).
    Basic,
    /// `client_id` and `client_secret` in the form body (PISTE).
    RequestBody,
}

/// A configured grant.
#[derive(Clone, Debug)]
pub(crate) enum Grant {
    ClientCredentials {
        client_id: Secret,
        client_secret: Secret,
        method: ClientAuthMethod,
        scopes: Vec<String>,
    },
    Password {
        client_id: String,
        username: Secret,
        password: Secret,
        scopes: Vec<String>,
    },
}

impl Grant {
    pub(crate) fn scopes(&self) -> &[String] {
        match self {
            Grant::ClientCredentials { scopes, .. } | Grant::Password { scopes, .. } => scopes,
        }
    }

    fn basic_header(&self) -> Option<Secret> {
        match self {
            Grant::ClientCredentials {
                client_id,
                client_secret,
                method: ClientAuthMethod::Basic,
                ..
            } => {
                let raw = format!("{}:{}", client_id.expose(), client_secret.expose());
                Some(Secret::new(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                )))
            }
            _ => None,
        }
    }
}

/// What a token endpoint returned.
pub(crate) struct TokenResponse {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub expires_in: Option<Duration>,
}

#[derive(Deserialize)]
struct RawToken {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    token_type: Option<String>,
}

/// Which request is being made (for error advice).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exchange {
    Grant,
    Refresh,
    Revoke,
}

fn advice(grant: &Grant, exchange: Exchange, code: &OAuthErrorCode, status: u16) -> String {
    let scopes = grant.scopes().join(" ");
    let password = matches!(grant, Grant::Password { .. });
    match (code, exchange) {
        (_, Exchange::Refresh) => {
            "the refresh token was refused (expired or revoked); log in again".into()
        }
        (OAuthErrorCode::InvalidClient, _) if password => {
            "the client_id of the password grant is not accepted (the Douane expects `gun-api`)".into()
        }
        (OAuthErrorCode::InvalidClient, _) => "the consumer key / client_id or client secret is wrong, or belongs to another environment (sandbox vs production) or access point".into(),
        (OAuthErrorCode::InvalidGrant, _) if password => "the username/password of the API account is wrong, expired or locked".into(),
        (OAuthErrorCode::InvalidGrant, _) => "the grant was refused: check the client credentials and that the application is active".into(),
        (OAuthErrorCode::InvalidScope, _) => format!(
            "scope `{scopes}` not granted to this application: subscribe to the API or fix .scopes([...])"
        ),
        (OAuthErrorCode::UnauthorizedClient, _) => "this application is not allowed to use this grant type: check its settings on the gateway's portal".into(),
        (OAuthErrorCode::UnsupportedGrantType, _) => "the token endpoint does not support this grant: check the token URL / preset".into(),
        (OAuthErrorCode::InvalidRequest, _) => "the token request is malformed or misses a parameter: check the token URL and preset".into(),
        (OAuthErrorCode::Other(_), _) => "the token endpoint refused the request: check the credentials".into(),
        (OAuthErrorCode::Unspecified, _) if status == 401 => {
            if password {
                "the username/password of the API account is wrong".into()
            } else {
                "the consumer key / client_id or client secret is wrong".into()
            }
        }
        (OAuthErrorCode::Unspecified, _) => "the token endpoint refused the request without an OAuth error code: check the token URL and credentials".into(),
    }
}

impl Grant {
    /// Every credential of the grant, in every encoding a token endpoint may echo.
    pub(crate) fn scrubber(&self) -> Scrubber {
        let mut sc = Scrubber::new();
        match self {
            Grant::ClientCredentials {
                client_id,
                client_secret,
                ..
            } => {
                sc.add_secret(client_id);
                sc.add_secret(client_secret);
                sc.add_pair(client_id.expose(), client_secret.expose());
            }
            Grant::Password {
                client_id,
                username,
                password,
                ..
            } => {
                sc.add_secret(username);
                sc.add_secret(password);
                sc.add_pair(username.expose(), password.expose());
                sc.add_pair(client_id, password.expose());
            }
        }
        sc
    }
}

/// Upper bound of a token lifetime (24 hours): a larger `expires_in` is cut to this.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Lifetime assumed for a token whose response has no usable `expires_in` (absent, zero,
/// negative, or not a number): five minutes, refreshed ahead of its end by the usual margin
/// (at most a fifth of it). Without it, `expires_in: 0` would make a token request per call.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(300);

/// Reads `expires_in` (number or numeric string) as a lifetime in `[0, MAX_TOKEN_LIFETIME]`;
/// a negative value means "already expired" (zero); anything else unusable gives `None`.
/// [`parse_token`] replaces a zero lifetime by [`DEFAULT_TOKEN_LIFETIME`].
pub(crate) fn parse_expires_in(v: &serde_json::Value) -> Option<Duration> {
    let secs = match v {
        serde_json::Value::Number(n) => n.as_f64()?,
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    if secs.is_nan() {
        return None;
    }
    crate::policy::retry::clamp_secs(secs.max(0.0), MAX_TOKEN_LIFETIME)
}

/// Reads a 2xx token response: a JSON object with a non-empty string `access_token`, a
/// `token_type` of Bearer (if present) and a clamped `expires_in` ([`DEFAULT_TOKEN_LIFETIME`]
/// when absent, zero or unusable).
pub(crate) fn parse_token(
    status: u16,
    bytes: &[u8],
    url: &str,
) -> Result<TokenResponse, AuthFailure> {
    // serde_json errors may quote a fragment (the token): never kept.
    let raw: RawToken = serde_json::from_slice(bytes).map_err(|_| AuthFailure::Undecodable {
        status,
        token_url: url.to_owned(),
        reason: "the token response is not a JSON object with a string `access_token`".into(),
    })?;
    if raw.access_token.trim().is_empty() {
        return Err(AuthFailure::Undecodable {
            status,
            token_url: url.to_owned(),
            reason: "the token response has an empty `access_token`".into(),
        });
    }
    if let Some(tt) = raw.token_type.as_deref()
        && !tt.eq_ignore_ascii_case("bearer")
    {
        return Err(AuthFailure::Undecodable {
            status,
            token_url: url.to_owned(),
            reason: format!(
                "token_type `{}` is not supported: the runtime only sends Bearer tokens (RFC 6749 §7.1, RFC 6750); check the token URL and grant",
                tt.chars().take(32).collect::<String>()
            ),
        });
    }
    // Zero (or negative) says nothing usable about the lifetime: the documented default, not
    // a token per call.
    let expires_in = raw
        .expires_in
        .as_ref()
        .and_then(parse_expires_in)
        .filter(|d| !d.is_zero())
        .unwrap_or(DEFAULT_TOKEN_LIFETIME);
    Ok(TokenResponse {
        access_token: Secret::new(raw.access_token),
        refresh_token: raw.refresh_token.map(Secret::new),
        expires_in: Some(expires_in),
    })
}

/// What to send and where.
pub(crate) struct Endpoint<'a> {
    pub http: &'a reqwest::Client,
    pub url: &'a str,
    pub timeout: Duration,
    pub max_size: usize,
    pub scrubber: &'a Scrubber,
}

/// Sends one token-endpoint request: the form ([`form_pairs`]), one POST ([`post_form`]),
/// the answer read ([`read_answer`]).
pub(crate) async fn exchange(
    ep: &Endpoint<'_>,
    grant: &Grant,
    exchange: Exchange,
    refresh_token: Option<&Secret>,
    revoke_token: Option<&Secret>,
) -> Result<Option<TokenResponse>, AuthFailure> {
    let mut scrubber = ep.scrubber.clone();
    for t in [refresh_token, revoke_token].into_iter().flatten() {
        scrubber.add_secret(t);
    }
    let scope_string = grant.scopes().join(" ");
    let pairs = form_pairs(grant, exchange, refresh_token, revoke_token, &scope_string);
    tracing::debug!(token_url = ep.url, ?exchange, "token endpoint request");
    let (status, headers, bytes) = post_form(ep, grant, &encode_form(&pairs)).await?;
    let answer = Answer {
        status,
        headers: &headers,
        bytes: &bytes,
        url: ep.url,
    };
    read_answer(&answer, grant, exchange, &scrubber)
}

/// The form fields of a token-endpoint request (RFC 6749 §4.3, §4.4, §6; RFC 7009).
fn form_pairs<'a>(
    grant: &'a Grant,
    exchange: Exchange,
    refresh_token: Option<&'a Secret>,
    revoke_token: Option<&'a Secret>,
    scope_string: &'a str,
) -> Vec<(&'a str, &'a str)> {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    match exchange {
        Exchange::Revoke => {
            pairs.push(("token", revoke_token.map(Secret::expose).unwrap_or("")));
        }
        Exchange::Refresh => {
            pairs.push(("grant_type", "refresh_token"));
            pairs.push((
                "refresh_token",
                refresh_token.map(Secret::expose).unwrap_or(""),
            ));
        }
        Exchange::Grant => match grant {
            Grant::ClientCredentials { .. } => pairs.push(("grant_type", "client_credentials")),
            Grant::Password { .. } => pairs.push(("grant_type", "password")),
        },
    }
    match grant {
        Grant::ClientCredentials {
            client_id,
            client_secret,
            method: ClientAuthMethod::RequestBody,
            ..
        } => {
            pairs.push(("client_id", client_id.expose()));
            pairs.push(("client_secret", client_secret.expose()));
        }
        Grant::Password {
            client_id,
            username,
            password,
            ..
        } => {
            pairs.push(("client_id", client_id));
            if exchange == Exchange::Grant {
                pairs.push(("username", username.expose()));
                pairs.push(("password", password.expose()));
            }
        }
        _ => {}
    }
    if exchange != Exchange::Revoke && !scope_string.is_empty() {
        pairs.push(("scope", scope_string));
    }
    pairs
}

/// POSTs the form and reads the answer within the size limit; a redirect is refused.
async fn post_form(
    ep: &Endpoint<'_>,
    grant: &Grant,
    body: &str,
) -> Result<(u16, http::HeaderMap, bytes::Bytes), AuthFailure> {
    let (url, timeout) = (ep.url, ep.timeout);
    let mut rb = ep
        .http
        .post(url)
        .header(http::header::ACCEPT, "application/json")
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .timeout(timeout)
        .body(body.to_owned());
    if let Some(basic) = grant.basic_header() {
        let mut v = http::HeaderValue::from_str(basic.expose()).map_err(|_| {
            AuthFailure::Config(
                "the client id or secret contains characters not allowed in a header".into(),
            )
        })?;
        v.set_sensitive(true);
        rb = rb.header(http::header::AUTHORIZATION, v);
    }
    let resp = rb
        .send()
        .await
        .map_err(|e| AuthFailure::from_reqwest(e, url, timeout))?;
    let status = resp.status().as_u16();
    // A 3xx (our client does not follow token redirects), or a caller-supplied client that
    // followed one: either way the token must not come from elsewhere.
    let moved = reqwest::Url::parse(url).is_ok_and(|u| &u != resp.url());
    if (300..400).contains(&status) || moved {
        tracing::warn!(
            token_url = url,
            status,
            "token endpoint redirected: refused"
        );
        return Err(AuthFailure::Redirected {
            status,
            token_url: url.to_owned(),
        });
    }
    let headers = resp.headers().clone();
    match read_limited(resp, ep.max_size).await {
        Ok(b) => Ok((status, headers, b)),
        Err(BodyError::TooLarge) => Err(AuthFailure::TooLarge { limit: ep.max_size }),
        Err(BodyError::Transport(e)) => Err(AuthFailure::from_reqwest(e, url, timeout)),
    }
}

/// A token endpoint's answer, read whole.
struct Answer<'a> {
    status: u16,
    headers: &'a http::HeaderMap,
    bytes: &'a [u8],
    url: &'a str,
}

/// The token (none for a revocation), an OAuth refusal, or the gateway's error.
fn read_answer(
    answer: &Answer<'_>,
    grant: &Grant,
    exchange: Exchange,
    scrubber: &Scrubber,
) -> Result<Option<TokenResponse>, AuthFailure> {
    let (status, url) = (answer.status, answer.url);
    let gw_id = gateway_correlation_id(answer.headers, "x-correlation-id");
    if (200..300).contains(&status) {
        if exchange == Exchange::Revoke {
            return Ok(None);
        }
        let t = parse_token(status, answer.bytes, url)?;
        tracing::debug!(token_url = url, expires_in = ?t.expires_in, "token obtained");
        return Ok(Some(t));
    }
    let json: Option<serde_json::Value> = serde_json::from_slice(answer.bytes).ok();
    let oauth_code = json
        .as_ref()
        .and_then(|j| j.get("error"))
        .and_then(|e| e.as_str())
        .map(OAuthErrorCode::parse);
    if matches!(status, 400 | 401 | 403) || (oauth_code.is_some() && status < 500 && status != 429)
    {
        let code = oauth_code.unwrap_or(OAuthErrorCode::Unspecified);
        let description = json
            .as_ref()
            .and_then(|j| j.get("error_description"))
            .and_then(|e| e.as_str())
            .map(|d| scrubber.scrub(d));
        tracing::warn!(
            token_url = url,
            status,
            error = code.as_str(),
            "token request refused"
        );
        return Err(AuthFailure::Refused(Box::new(TokenRefusal {
            status,
            advice: advice(grant, exchange, &code, status),
            error: code,
            description,
            token_url: url.to_owned(),
            correlation_id: None,
            gateway_correlation_id: gw_id,
        })));
    }
    Err(gateway_failure(answer, exchange, scrubber, gw_id))
}

/// A token endpoint error that is not an OAuth refusal, decoded like an API error.
fn gateway_failure(
    answer: &Answer<'_>,
    exchange: Exchange,
    scrubber: &Scrubber,
    gateway_correlation_id: Option<String>,
) -> AuthFailure {
    let (status, url, headers) = (answer.status, answer.url, answer.headers);
    let mut d = decode::decode(status, headers, answer.bytes);
    d.message = Some(format!(
        "token endpoint {url} answered HTTP {status}{}",
        scrubber
            .scrub_opt(d.message)
            .map(|m| format!(": {m}"))
            .unwrap_or_default()
    ));
    d.details = d.details.iter().map(|m| scrubber.scrub(m)).collect();
    AuthFailure::Gateway(Box::new(GatewayError {
        status,
        operation_id: if exchange == Exchange::Revoke {
            "revoke"
        } else {
            "token"
        },
        correlation_id: String::new(),
        gateway_correlation_id,
        code: d.code,
        message: d.message,
        timestamp: d.timestamp,
        advice: d.advice,
        details: d.details,
        dialect: if d.dialect == Dialect::Text {
            Dialect::Text
        } else {
            d.dialect
        },
        retry_after: crate::policy::retry::parse_retry_after(headers),
        provider: None,
        retry_in: None,
        content_type: headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        raw_body: String::new(),
        typed_body: None,
    }))
}
