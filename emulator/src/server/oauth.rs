//! The token endpoints: DGFiP `/token` and `/revoke`, PISTE `/api/oauth/token`, Douane
//! `/oauth2/token` (password and refresh grants), with RFC 6749 §5.2 refusals.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::json;

use super::{Shared, json_response};
use crate::config::Kind;
use crate::state::{Refresh, Token};
/// Douane's public client for the password grant.
const DOUANE_CLIENT_ID: &str = "gun-api";

/// RFC 6749 §5.2 refusal: 401 for client authentication failures, 400 otherwise.
pub(super) fn oauth_error(code: &str, description: &str) -> Response {
    let status = if code == "invalid_client" {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::BAD_REQUEST
    };
    let mut response = json_response(
        status,
        &json!({"error": code, "error_description": description}),
    );
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            "www-authenticate",
            HeaderValue::from_static("Basic realm=\"token\""),
        );
    }
    response
}

pub(super) fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

pub(super) fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

/// The token endpoint, for the grant(s) of the gateway.
pub(super) async fn token(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let grant = params.get("grant_type").cloned().unwrap_or_default();
    *shared
        .lock()
        .stats
        .token_requests
        .entry(grant.clone())
        .or_default() += 1;
    match grant_token(&shared, &headers, &params, &grant) {
        Ok(response) => response,
        Err((code, description)) => {
            shared.lock().stats.token_refusals += 1;
            oauth_error(code, &description)
        }
    }
}

type Refusal = (&'static str, String);

pub(super) fn grant_token(
    shared: &Shared,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
    grant: &str,
) -> Result<Response, Refusal> {
    if !is_form(headers) {
        return Err((
            "invalid_request",
            "the body must be application/x-www-form-urlencoded".into(),
        ));
    }
    let config = &shared.config;
    let scope = params
        .get("scope")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    match (config.kind, grant) {
        (Kind::Dgfip | Kind::Piste, "client_credentials") => {
            client_credentials(shared, headers, params, scope)
        }
        (Kind::Douane, "password") => {
            check_douane_client(params)?;
            let user = params.get("username").cloned().unwrap_or_default();
            let pass = params.get("password").cloned().unwrap_or_default();
            if !config
                .accounts
                .iter()
                .any(|(u, p)| *u == user && *p == pass)
            {
                return Err(("invalid_grant", "Invalid user credentials".into()));
            }
            Ok(issue(
                shared,
                "password",
                &user,
                "openid",
                None,
                Some(&user),
            ))
        }
        (Kind::Douane, "refresh_token") => {
            check_douane_client(params)?;
            let presented = params.get("refresh_token").cloned().unwrap_or_default();
            let user = {
                let inner = shared.lock();
                match inner.refresh_tokens.get(&presented) {
                    Some(r) if r.expires > shared.now() => r.username.clone(),
                    Some(_) => return Err(("invalid_grant", "Token is not active".into())),
                    None => return Err(("invalid_grant", "Invalid refresh token".into())),
                }
            };
            Ok(issue(
                shared,
                "refresh_token",
                &user,
                "openid",
                None,
                Some(&user),
            ))
        }
        (Kind::Douane, _) | (Kind::Dgfip | Kind::Piste, _) => Err((
            "unsupported_grant_type",
            format!("grant_type {grant:?} is not supported here"),
        )),
        (Kind::ApiEntreprise | Kind::ApiParticulier, _) => Err((
            "invalid_request",
            "this gateway has no token endpoint".into(),
        )),
    }
}

/// DGFiP and PISTE `client_credentials`: the application's credentials (HTTP Basic at DGFiP,
/// in the body at PISTE) and the scopes it may ask for.
fn client_credentials(
    shared: &Shared,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
    scope: String,
) -> Result<Response, Refusal> {
    let config = &shared.config;
    let credentials = if config.kind == Kind::Dgfip {
        basic_credentials(headers)
    } else {
        params
            .get("client_id")
            .cloned()
            .zip(params.get("client_secret").cloned())
    };
    let Some((id, secret)) = credentials else {
        let hint = if config.kind == Kind::Dgfip {
            "Authorization: Basic header"
        } else {
            "client_id and client_secret in the body"
        };
        return Err((
            "invalid_client",
            format!("Client Authentication failed: no credentials ({hint} expected)"),
        ));
    };
    let Some(client) = config
        .clients
        .iter()
        .find(|c| c.id == id && c.secret == secret)
    else {
        return Err(("invalid_client", "Client Authentication failed.".into()));
    };
    if let Some(bad) = scope
        .split_whitespace()
        .find(|s| !client.scopes.iter().any(|a| a == s))
    {
        return Err((
            "invalid_scope",
            format!("scope {bad} is not granted to this application"),
        ));
    }
    let asked = !scope.is_empty();
    let granted = match (config.kind, scope.is_empty()) {
        (Kind::Piste, true) => "openid".to_string(),
        (_, true) => "default".to_string(),
        (_, false) => scope,
    };
    let explicit = asked.then(|| granted.split_whitespace().map(str::to_string).collect());
    Ok(issue(
        shared,
        "client_credentials",
        &id,
        &granted,
        explicit,
        None,
    ))
}

pub(super) fn check_douane_client(params: &HashMap<String, String>) -> Result<(), Refusal> {
    match params.get("client_id").map(String::as_str) {
        Some(DOUANE_CLIENT_ID) => Ok(()),
        Some(other) => Err(("invalid_client", format!("Invalid client: {other}"))),
        None => Err((
            "invalid_client",
            format!("client_id is missing (expected {DOUANE_CLIENT_ID})"),
        )),
    }
}

/// Grants an access token (and, for Douane, a refresh token and an ID token).
pub(super) fn issue(
    shared: &Shared,
    grant: &str,
    client: &str,
    scope: &str,
    scopes: Option<Vec<String>>,
    douane_user: Option<&str>,
) -> Response {
    let lifetime = shared.config.token_lifetime;
    let now = shared.now();
    let dgfip_key = (shared.config.kind == Kind::Dgfip).then(|| format!("{client}\n{scope}"));
    if let Some(key) = &dgfip_key {
        let mut inner = shared.lock();
        if let Some((access, natural)) = inner.dgfip_current.get(key).cloned()
            && natural > now
        {
            *inner
                .stats
                .tokens_issued
                .entry(grant.to_string())
                .or_default() += 1;
            drop(inner);
            let left = natural.saturating_duration_since(now).as_secs();
            return json_response(
                StatusCode::OK,
                &json!({"access_token": access, "scope": scope, "token_type": "Bearer", "expires_in": left}),
            );
        }
    }
    let access = match douane_user {
        // Keycloak (Douane) access tokens are JWTs; WSO2/Axway ones opaque.
        Some(user) => crate::jwt_with_claims(
            &json!({"sub": user, "azp": DOUANE_CLIENT_ID, "typ": "Bearer"}),
            lifetime,
        ),
        None => uuid::Uuid::new_v4().to_string(),
    };
    let mut body = json!({"access_token": access, "scope": scope, "token_type": "Bearer", "expires_in": lifetime.as_secs()});
    let mut inner = shared.lock();
    if let Some(key) = dgfip_key {
        inner
            .dgfip_current
            .insert(key, (access.clone(), now + lifetime));
    }
    inner.tokens.insert(
        access.clone(),
        Token {
            client: client.to_string(),
            expires: now + lifetime,
            scopes,
        },
    );
    if let Some(user) = douane_user {
        let refresh_lifetime = shared.config.refresh_lifetime;
        let refresh = uuid::Uuid::new_v4().simple().to_string();
        inner.refresh_tokens.insert(
            refresh.clone(),
            Refresh {
                username: user.to_string(),
                expires: now + refresh_lifetime,
            },
        );
        body["refresh_token"] = json!(refresh);
        body["refresh_expires_in"] = json!(refresh_lifetime.as_secs());
        body["id_token"] = json!(crate::jwt_with_claims(
            &json!({"sub": user, "aud": DOUANE_CLIENT_ID, "typ": "ID"}),
            lifetime
        ));
        body["not-before-policy"] = json!(0);
        body["session_state"] = json!(uuid::Uuid::new_v4().to_string());
    }
    *inner
        .stats
        .tokens_issued
        .entry(grant.to_string())
        .or_default() += 1;
    drop(inner);
    let mut response = json_response(StatusCode::OK, &body);
    response
        .headers_mut()
        .insert("cache-control", HeaderValue::from_static("no-store"));
    response
}

/// DGFiP `/revoke` (RFC 7009): the token stops working at once.
pub(super) async fn revoke(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((id, secret)) = basic_credentials(&headers) else {
        return oauth_error(
            "invalid_client",
            "Client Authentication failed: no Authorization: Basic header",
        );
    };
    if !shared
        .config
        .clients
        .iter()
        .any(|c| c.id == id && c.secret == secret)
    {
        return oauth_error("invalid_client", "Client Authentication failed.");
    }
    let Some(token) = form_urlencoded::parse(&body)
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
    else {
        return oauth_error("invalid_request", "token is missing");
    };
    let mut inner = shared.lock();
    // RFC 7009 §2.2: an unknown token is not an error; another client's token is left alone.
    if let Some(t) = inner.tokens.get_mut(&token)
        && t.client == id
    {
        t.expires = shared.now();
        inner
            .dgfip_current
            .retain(|_, (access, _)| *access != token);
    }
    inner.stats.revocations += 1;
    StatusCode::OK.into_response()
}
