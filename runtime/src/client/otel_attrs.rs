//! Attribute values for the OpenTelemetry spans and metrics (feature `otel`): each one a
//! bounded label or a server value cleaned of secrets and cut short, never a path, query,
//! header or body value.

use http::{HeaderMap, HeaderName, Method};
use opentelemetry::KeyValue;
use sha2::{Digest, Sha256};

use crate::core::scrub::Scrubber;
use crate::error::Error;
use crate::fleet::AccountId;
use crate::wire::response::gateway_correlation_id;

/// Longest gateway request ID, error code or provider put on a span (the server chooses them).
pub(super) const MAX_TEXT: usize = 128;

/// The account as 16 hex digits of a SHA-256 over its parts (API host, token URL, principal,
/// API keys), domain-separated: the same account gives the same label in every process, and
/// the label gives back no credential.
pub(super) fn account_hash(account: &AccountId) -> String {
    let mut h = Sha256::new();
    h.update(b"gouvgen-otel-account\0");
    let mut parts = vec![&account.api_host, &account.token_url, &account.principal];
    parts.extend(account.api_keys.iter());
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The semantic conventions' method label: the method, or `_OTHER` for one they do not list.
pub(super) fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "_OTHER",
    }
}

/// `2xx`…`5xx`, or `none` without a response.
pub(super) fn status_class(status: Option<u16>) -> &'static str {
    match status {
        Some(100..=199) => "1xx",
        Some(200..=299) => "2xx",
        Some(300..=399) => "3xx",
        Some(400..=499) => "4xx",
        Some(500..=599) => "5xx",
        Some(_) => "_OTHER",
        None => "none",
    }
}

/// `error.type` of a transport failure (checked in the order `policy::decide` sees them).
pub(super) fn transport_error_type(e: &reqwest::Error) -> &'static str {
    if e.is_connect() {
        "connect_error"
    } else if e.is_timeout() {
        "timeout"
    } else {
        "transport_error"
    }
}

/// `error.type` of a call's error: the status for a gateway's answer, else its kind.
pub(super) fn error_type(e: &Error) -> &'static str {
    match e {
        Error::Transport { connect: true, .. } => "connect_error",
        Error::Transport { .. } => "transport_error",
        Error::Timeout { .. } => "timeout",
        Error::ResponseTooLarge { .. } => "response_too_large",
        Error::TokenRefused(_) => "token_refused",
        Error::RateLimited(_) => "rate_limited",
        Error::Gateway(_) | Error::Documented { .. } => "error_response",
        Error::UndecodableBody(_) => "undecodable_body",
        Error::CredentialExpired { .. } => "credential_expired",
        Error::InvalidRequest { .. } => "invalid_request",
        Error::Unavailable { .. } => "circuit_open",
        Error::InvalidConfig { .. } => "invalid_config",
        Error::AuditFailing { .. } => "audit_failing",
        #[allow(unreachable_patterns)]
        _ => "_OTHER",
    }
}

/// `gouvgen.gateway.request_id`: the gateway's own request/correlation ID, if it sent one.
pub(super) fn request_id(
    scrubber: &Scrubber,
    sent_header: &HeaderName,
    headers: &HeaderMap,
) -> Option<KeyValue> {
    let id = gateway_correlation_id(headers, sent_header)?;
    let id = clean(scrubber, &id)?;
    Some(KeyValue::new("gouvgen.gateway.request_id", id))
}

/// `gouvgen.gateway.error_code` and `gouvgen.gateway.provider` of an error answer.
pub(super) fn gateway_error(
    scrubber: &Scrubber,
    code: Option<&str>,
    provider: Option<&str>,
) -> Vec<KeyValue> {
    let mut attrs = Vec::new();
    if let Some(code) = code.and_then(|c| clean(scrubber, c)) {
        attrs.push(KeyValue::new("gouvgen.gateway.error_code", code));
    }
    if let Some(p) = provider.and_then(|p| clean(scrubber, p)) {
        attrs.push(KeyValue::new("gouvgen.gateway.provider", p));
    }
    attrs
}

/// A server's text with the client's secrets scrubbed out, control characters dropped, at
/// most [`MAX_TEXT`] characters; `None` when nothing is left.
fn clean(scrubber: &Scrubber, text: &str) -> Option<String> {
    let scrubbed = scrubber.scrub(text);
    let s: String = scrubbed
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_TEXT)
        .collect();
    (!s.trim().is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(principal: &str) -> AccountId {
        AccountId {
            api_host: "https://gw.example:443".into(),
            token_url: "https://gw.example/token".into(),
            principal: principal.into(),
            api_keys: vec!["k".into()],
        }
    }

    #[test]
    fn the_account_hash_is_stable_short_and_tells_accounts_apart() {
        let a = account_hash(&account("client_credentials\0abc"));
        assert_eq!(a.len(), 16);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a, account_hash(&account("client_credentials\0abc")));
        assert_ne!(a, account_hash(&account("client_credentials\0abd")));
        assert!(!a.contains("abc"));
    }

    #[test]
    fn labels_are_bounded() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(
            method_label(&Method::from_bytes(b"PURGE").unwrap()),
            "_OTHER"
        );
        assert_eq!(status_class(Some(503)), "5xx");
        assert_eq!(status_class(Some(999)), "_OTHER");
        assert_eq!(status_class(None), "none");
    }
}
