//! Reading the `exp` claim of the API Entreprise / API Particulier JWT (no signature check:
//! the gateway verifies it; we only want to warn before it expires and fail clearly after).

use base64::Engine;
use chrono::{DateTime, Utc};

/// Reads the `exp` claim (seconds since the epoch) of a JWT. `None` if the token is not a JWT
/// or has no numeric `exp`.
pub fn jwt_expiry(token: &str) -> Option<DateTime<Utc>> {
    let mut parts = token.trim().split('.');
    let (_header, payload) = (parts.next()?, parts.next()?);
    parts.next()?;
    let payload = payload.trim_end_matches('=');
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?;
    let secs = exp.as_i64().or_else(|| exp.as_f64().map(|f| f as i64))?;
    DateTime::from_timestamp(secs, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_exp() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"uid":"x","exp":1893456000}"#);
        let jwt = format!("eyJhbGciOiJIUzI1NiJ9.{payload}.sig");
        assert_eq!(jwt_expiry(&jwt).unwrap().timestamp(), 1_893_456_000);
        assert!(jwt_expiry("not-a-jwt").is_none());
    }
}
