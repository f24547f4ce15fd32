//! The gateways' health endpoint (API Entreprise / API Particulier `GET /pings`:
//! `{status: ok|bad_gateway|unknown, last_update, last_ok_status}`, 502 when `bad_gateway`,
//! unthrottled, meant for monitoring), read as untrusted input.

use serde::Deserialize;

/// Longest text kept from a health answer's fields.
const MAX_FIELD: usize = 64;

/// What the gateway says of itself.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Health {
    /// HTTP status of the answer.
    pub http_status: u16,
    /// `status`.
    pub status: HealthStatus,
    /// `last_update`, as sent (cut to 64 characters).
    pub last_update: Option<String>,
    /// `last_ok_status`, as sent (cut to 64 characters).
    pub last_ok_status: Option<String>,
}

/// The `status` of a health answer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HealthStatus {
    /// `ok`: the gateway and its provider answer.
    Ok,
    /// `bad_gateway`: the provider behind the gateway does not answer.
    BadGateway,
    /// `unknown`, another value, or no readable body.
    Unknown,
}

impl Health {
    /// Whether a call is worth sending: the gateway says `ok`, or says nothing readable while
    /// answering below 500 (a gateway without the endpoint answers 404: no verdict).
    pub fn is_up(&self) -> bool {
        match self.status {
            HealthStatus::Ok => true,
            HealthStatus::BadGateway => false,
            HealthStatus::Unknown => self.http_status < 500,
        }
    }
}

#[derive(Deserialize)]
struct Wire {
    status: Option<serde_json::Value>,
    last_update: Option<serde_json::Value>,
    last_ok_status: Option<serde_json::Value>,
}

/// Reads a health answer; anything unreadable is [`HealthStatus::Unknown`].
pub(crate) fn parse_health(http_status: u16, body: &[u8]) -> Health {
    let wire = serde_json::from_slice::<Wire>(body).ok();
    let text = |v: &Option<serde_json::Value>| -> Option<String> {
        let s = match v.as_ref()? {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => return None,
            other => other.to_string(),
        };
        Some(s.chars().take(MAX_FIELD).collect())
    };
    let status = match wire.as_ref().and_then(|w| text(&w.status)).as_deref() {
        Some("ok") => HealthStatus::Ok,
        Some("bad_gateway") => HealthStatus::BadGateway,
        _ => HealthStatus::Unknown,
    };
    Health {
        http_status,
        status,
        last_update: wire.as_ref().and_then(|w| text(&w.last_update)),
        last_ok_status: wire.as_ref().and_then(|w| text(&w.last_ok_status)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_statuses_and_hostile_bodies() {
        let ok = parse_health(
            200,
            br#"{"status":"ok","last_update":"2026-12-05T10:00:00Z","last_ok_status":200}"#,
        );
        assert_eq!(ok.status, HealthStatus::Ok);
        assert_eq!(ok.last_ok_status.as_deref(), Some("200"));
        assert!(ok.is_up());
        let bad = parse_health(502, br#"{"status":"bad_gateway"}"#);
        assert_eq!(bad.status, HealthStatus::BadGateway);
        assert!(!bad.is_up());
        // No endpoint (404) gives no verdict; a 5xx without a readable body is down.
        assert!(parse_health(404, b"not found").is_up());
        assert!(!parse_health(503, b"").is_up());
        let long = format!(
            r#"{{"status":"ok","last_update":"{}"}}"#,
            "x".repeat(10_000)
        );
        assert_eq!(
            parse_health(200, long.as_bytes())
                .last_update
                .unwrap()
                .len(),
            64
        );
        assert_eq!(parse_health(200, b"[1,2]").status, HealthStatus::Unknown);
    }
}
