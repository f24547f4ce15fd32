//! Layer 5, `policy`: what to do about an answer (retry classification and backoff), when
//! to send (rate limits, pauses) and whether to send at all (the circuit breaker).
mod account_limiters;
pub mod breaker;
pub(crate) mod decide;
pub(crate) mod fleet_breaker;
pub(crate) mod groups;
pub(crate) mod in_flight;
pub(crate) mod limiter;
pub mod rate_limit;
pub mod retry;

pub(crate) use account_limiters::{account_limiter, pause_account};
