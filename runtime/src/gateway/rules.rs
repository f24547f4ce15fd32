//! Gateway-specific reading of answers: when an error response means "your access token is
//! bad" (so a fresh one may help) rather than "you may not do this", and what a gateway's own
//! error code says about repeating a call whatever its status.

use crate::error::Dialect;
use crate::error::decode::{decode, parse_www_authenticate};
use crate::policy::decide::ByCode;

/// API Entreprise / Particulier codes are five digits: two for the provider, three for the
/// error. These endings are final whatever the status (API Particulier v3 answers them with
/// 502): `003`, the provider does not know the entity asked for (`37003`, allocataire absent
/// CNAV; `04003`, SIRET unknown to INSEE).
const API_GOUV_FINAL_ENDINGS: &[&str] = &["003"];

/// What the error code of a 5xx answer says about repeating the call: final (see
/// [`API_GOUV_FINAL_ENDINGS`]), a wait the provider asks for (`meta.retry_in`), or nothing.
/// A 409 in the API Entreprise / Particulier error format is "the same request is already in
/// progress for this token". Other statuses are decided by their status alone.
pub(crate) fn by_code(status: u16, headers: &http::HeaderMap, body: &[u8]) -> ByCode {
    if status != 409 && !(500..600).contains(&status) {
        return ByCode::Silent;
    }
    let d = decode(status, headers, body);
    if status == 409 {
        return match d.dialect {
            Dialect::ApiGouv => ByCode::InFlight,
            _ => ByCode::Silent,
        };
    }
    if d.dialect != Dialect::ApiGouv {
        return ByCode::Silent;
    }
    let code = d.code.as_deref().map(str::trim).unwrap_or("");
    let five_digits = code.len() == 5 && code.bytes().all(|b| b.is_ascii_digit());
    if five_digits && API_GOUV_FINAL_ENDINGS.iter().any(|e| code.ends_with(e)) {
        return ByCode::Final;
    }
    d.retry_in.map_or(ByCode::Silent, ByCode::RetryIn)
}

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
