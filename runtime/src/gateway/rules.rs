//! Gateway-specific reading of answers: when an error response means "your access token is
//! bad" (so a fresh one may help) rather than "you may not do this".

use crate::error::decode::{decode, parse_www_authenticate};

/// Whether an error response says the access token itself is bad (so a new one may help):
/// `WWW-Authenticate: Bearer error="invalid_token"` on any 4xx (the Douane uses 403), or on a
/// 401 the DGFiP codes 900901/900906, or a 401 that gives no reason at all.
pub(crate) fn token_rejected(status: u16, headers: &http::HeaderMap, body: &[u8]) -> bool {
    if let Some((error, _)) = parse_www_authenticate(headers) {
        return error == "invalid_token";
    }
    if status != 401 {
        return false;
    }
    let d = decode(401, headers, body);
    match d.code.as_deref() {
        Some(c) => matches!(c.trim(), "900901" | "900906" | "invalid_token"),
        None => true,
    }
}
