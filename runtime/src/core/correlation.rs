//! Correlation IDs: one UUID v4 per logical call, reused by all its attempts, sent in
//! `X-Correlation-ID` (configurable) and recorded in the call's span and errors. DGFiP requires a
//! unique UUID per call; support desks of every gateway ask for it.

use uuid::Uuid;

/// Default header name.
pub const DEFAULT_HEADER: &str = "X-Correlation-ID";

/// A fresh correlation ID (UUID v4, hyphenated lowercase).
pub fn new_correlation_id() -> String {
    let mut buf = Uuid::encode_buffer();
    Uuid::new_v4()
        .hyphenated()
        .encode_lower(&mut buf)
        .to_owned()
}
