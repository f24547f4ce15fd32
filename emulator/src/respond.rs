//! JSON answers: shared by the server and the gateway rules (`v3`), kept apart so that the
//! rules need not import the server.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::time::Duration;

/// `body` as `application/json` with `status`.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    response
}

/// Sets `Retry-After` to the configured pause in whole seconds (one second when none is
/// configured), so that tests never wait for a document example's hour.
pub(crate) fn set_retry_after(response: &mut Response, configured: Option<Duration>) {
    let secs = configured.map(ceil_secs).unwrap_or(1);
    response
        .headers_mut()
        .insert("retry-after", HeaderValue::from(secs));
}

/// Whole seconds, rounded up, at least 1 (a `Retry-After` of 0 would invite a hot loop).
pub(crate) fn ceil_secs(d: Duration) -> u64 {
    let s = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    s.max(1)
}
