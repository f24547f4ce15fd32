//! Who is calling: bearer tokens, API keys, and the gateways' 401 and 429 answers.

use std::time::Instant;

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::{Shared, gateway_error, json_response};
use crate::config::Kind;
use crate::state::Inner;

/// Why a call is not authenticated.
pub(super) enum AuthFailure {
    Missing,
    WrongScheme,
    Unknown,
    Expired,
    BadKey,
}

/// Who is calling (the rate-limit key), or why the call is refused.
pub(super) fn authenticate(
    shared: &Shared,
    inner: &Inner,
    headers: &HeaderMap,
    now: Instant,
    france_connect: Option<&crate::fixtures::Fixtures>,
) -> Result<String, AuthFailure> {
    let config = &shared.config;
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
    let bearer = match authorization.map(|v| v.split_once(' ').unwrap_or((v, ""))) {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Some(token.trim()),
        Some(_) => return Err(AuthFailure::WrongScheme),
        None => None,
    };
    let mut who = None;
    if let Some(token) = bearer {
        who = Some(match config.kind {
            Kind::Dgfip | Kind::Piste | Kind::Douane => match inner.tokens.get(token) {
                Some(t) if t.expires > now => t.client.clone(),
                Some(_) => return Err(AuthFailure::Expired),
                None => return Err(AuthFailure::Unknown),
            },
            Kind::ApiEntreprise | Kind::ApiParticulier => {
                if !config.bearer_tokens.iter().any(|t| t == token) {
                    // A FranceConnect test token, on a route of the staging cases.
                    return match france_connect.and_then(|f| f.fc_token(token)) {
                        Some(_) => Ok(format!("fc:{token}")),
                        None => Err(AuthFailure::Unknown),
                    };
                }
                let past = crate::jwt_exp(token).is_some_and(|exp| exp <= shared.unix_now());
                if past || inner.static_tokens_expired {
                    return Err(AuthFailure::Expired);
                }
                format!("jwt:{token}")
            }
        });
    }
    for (header, _) in &config.api_keys {
        if let Some(presented) = headers.get(header.as_str()).and_then(|v| v.to_str().ok()) {
            if !config
                .api_keys
                .iter()
                .any(|(h, k)| h == header && k == presented)
            {
                return Err(AuthFailure::BadKey);
            }
            who.get_or_insert_with(|| format!("key:{presented}"));
        }
    }
    who.ok_or(AuthFailure::Missing)
}

pub(super) fn unauthorized(kind: Kind, failure: &AuthFailure) -> Response {
    let realm = match kind {
        Kind::Dgfip => "dgfip",
        Kind::Piste => "piste",
        Kind::Douane => "douane",
        Kind::ApiEntreprise => "api-entreprise",
        Kind::ApiParticulier => "api-particulier",
    };
    let (dgfip_code, description) = match failure {
        AuthFailure::Missing => ("900902", "Missing Credentials: no access token"),
        AuthFailure::WrongScheme => (
            "900905",
            "Incorrect Access Token Type is provided: Bearer only",
        ),
        AuthFailure::Unknown => ("900901", "Invalid Credentials: unknown access token"),
        AuthFailure::Expired => ("900906", "The access token expired or was revoked"),
        AuthFailure::BadKey => ("900901", "Invalid Credentials: unknown API key"),
    };
    let mut response = match kind {
        Kind::Dgfip => gateway_error(kind, StatusCode::UNAUTHORIZED, dgfip_code, description),
        Kind::Piste | Kind::Douane => json_response(
            StatusCode::UNAUTHORIZED,
            &json!({"error": "invalid_token", "error_description": description}),
        ),
        Kind::ApiEntreprise | Kind::ApiParticulier => {
            gateway_error(kind, StatusCode::UNAUTHORIZED, "00101", description)
        }
    };
    // RFC 6750 §3: no error code when no credentials were presented.
    let challenge = match failure {
        AuthFailure::Missing | AuthFailure::BadKey | AuthFailure::WrongScheme => {
            format!("Bearer realm=\"{realm}\"")
        }
        AuthFailure::Unknown | AuthFailure::Expired => format!(
            "Bearer realm=\"{realm}\", error=\"invalid_token\", error_description=\"{description}\""
        ),
    };
    response.headers_mut().insert(
        "www-authenticate",
        HeaderValue::from_str(&challenge).expect("ASCII challenge"),
    );
    response
}

pub(super) fn throttled(kind: Kind, retry_after: u64) -> Response {
    let mut response = match kind {
        Kind::Dgfip => gateway_error(
            kind,
            StatusCode::TOO_MANY_REQUESTS,
            "900804",
            "Message throttled out: quota exceeded",
        ),
        Kind::Piste => gateway_error(kind, StatusCode::TOO_MANY_REQUESTS, "429", "Quota exceeded"),
        Kind::Douane => gateway_error(
            kind,
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "Quota exceeded",
        ),
        Kind::ApiEntreprise | Kind::ApiParticulier => gateway_error(
            kind,
            StatusCode::TOO_MANY_REQUESTS,
            "00429",
            "Limite atteinte, réessayez plus tard",
        ),
    };
    response
        .headers_mut()
        .insert("retry-after", HeaderValue::from(retry_after));
    response
}

pub(super) fn is_uuid(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::try_parse(s).is_ok()
}

/// The quota key as shown in [`crate::Stats`]: client ids and usernames as they are, JWTs and
/// API keys (secrets) as a fingerprint.
pub(super) fn account_label(key: &str) -> String {
    match key.split_once(':') {
        Some((kind @ ("jwt" | "key" | "fc"), secret)) => {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            secret.hash(&mut h);
            format!("{kind}#{:016x}", h.finish())
        }
        _ => key.to_string(),
    }
}
