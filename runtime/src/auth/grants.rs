//! OAuth 2.0 token requests (RFC 6749): client_credentials with Basic or in-body client
//! authentication, the Douane password grant, refresh_token, and DGFiP revoke.
//!
//! Request bodies are never copied into errors (they hold secrets), and neither are the raw bodies
//! of token endpoint responses (a success body holds the token; a refusal may echo the request).

use std::time::Duration;

use base64::Engine;
use serde::Deserialize;

use super::AuthFailure;
use crate::error::decode;
use crate::error::{Dialect, GatewayError, OAuthErrorCode, TokenRefusal};
use crate::request::encode_form;
use crate::response::gateway_correlation_id;
use crate::secret::Secret;

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

/// Removes any credential the token endpoint echoed back in an error text.
fn scrub(text: &str, grant: &Grant, refresh: Option<&Secret>, revoke: Option<&Secret>) -> String {
    let mut secrets: Vec<&str> = Vec::new();
    match grant {
        Grant::ClientCredentials {
            client_id,
            client_secret,
            ..
        } => {
            secrets.push(client_id.expose());
            secrets.push(client_secret.expose());
        }
        Grant::Password {
            username, password, ..
        } => {
            secrets.push(username.expose());
            secrets.push(password.expose());
        }
    }
    secrets.extend(refresh.map(Secret::expose));
    secrets.extend(revoke.map(Secret::expose));
    let mut out = text.to_owned();
    for s in secrets.into_iter().filter(|s| s.len() >= 3) {
        out = out.replace(s, "[REDACTED]");
    }
    out
}

/// Sends one token-endpoint request.
pub(crate) async fn exchange(
    http: &reqwest::Client,
    url: &str,
    grant: &Grant,
    exchange: Exchange,
    refresh_token: Option<&Secret>,
    revoke_token: Option<&Secret>,
    timeout: Duration,
) -> Result<Option<TokenResponse>, AuthFailure> {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    let scope_string = grant.scopes().join(" ");
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
        pairs.push(("scope", &scope_string));
    }
    let body = encode_form(&pairs);
    let mut rb = http
        .post(url)
        .header(http::header::ACCEPT, "application/json")
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .timeout(timeout)
        .body(body);
    if let Some(basic) = grant.basic_header() {
        let mut v = http::HeaderValue::from_str(basic.expose()).map_err(|_| {
            AuthFailure::Config(
                "the client id or secret contains characters not allowed in a header".into(),
            )
        })?;
        v.set_sensitive(true);
        rb = rb.header(http::header::AUTHORIZATION, v);
    }
    tracing::debug!(token_url = url, ?exchange, "token endpoint request");
    let resp = rb.send().await.map_err(AuthFailure::from_reqwest)?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.map_err(AuthFailure::from_reqwest)?;
    let gw_id = gateway_correlation_id(&headers, "x-correlation-id");
    if (200..300).contains(&status) {
        if exchange == Exchange::Revoke {
            return Ok(None);
        }
        let raw: RawToken = serde_json::from_slice(&bytes).map_err(|e| {
            // serde_json errors quote at most a short fragment; drop it anyway (token inside).
            let _ = e;
            AuthFailure::Undecodable {
                status,
                reason: "the token response is not a JSON object with an `access_token`".into(),
            }
        })?;
        let expires_in = match raw.expires_in {
            Some(serde_json::Value::Number(n)) => n.as_f64().map(Duration::from_secs_f64),
            Some(serde_json::Value::String(s)) => {
                s.trim().parse::<u64>().ok().map(Duration::from_secs)
            }
            _ => None,
        };
        tracing::debug!(token_url = url, expires_in = ?expires_in, "token obtained");
        return Ok(Some(TokenResponse {
            access_token: Secret::new(raw.access_token),
            refresh_token: raw.refresh_token.map(Secret::new),
            expires_in,
        }));
    }
    let json: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
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
            .map(|d| scrub(d, grant, refresh_token, revoke_token));
        tracing::warn!(
            token_url = url,
            status,
            error = code.as_str(),
            "token request refused"
        );
        return Err(AuthFailure::Refused(TokenRefusal {
            status,
            advice: advice(grant, exchange, &code, status),
            error: code,
            description,
            token_url: url.to_owned(),
            correlation_id: None,
            gateway_correlation_id: gw_id,
        }));
    }
    let mut d = decode::decode(status, &headers, &bytes);
    d.message = d
        .message
        .map(|m| scrub(&m, grant, refresh_token, revoke_token));
    d.details = d
        .details
        .iter()
        .map(|m| scrub(m, grant, refresh_token, revoke_token))
        .collect();
    Err(AuthFailure::Gateway(Box::new(GatewayError {
        status,
        operation_id: if exchange == Exchange::Revoke {
            "revoke"
        } else {
            "token"
        },
        correlation_id: String::new(),
        gateway_correlation_id: gw_id,
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
        retry_after: crate::retry::parse_retry_after(&headers),
        content_type: headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        raw_body: String::new(),
    })))
}
