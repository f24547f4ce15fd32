//! Layer 6, `policy`: what to do about an answer (retry classification and backoff), when
//! to send (rate limits, pauses) and whether to send at all (the circuit breaker).
pub mod breaker;
pub(crate) mod fleet_breaker;
pub(crate) mod limiter;
pub mod rate_limit;
pub mod retry;

pub(crate) use crate::fleet::{account_limiter, pause_account};
