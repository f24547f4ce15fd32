//! Runtime for gouvgen-generated clients of French government API gateways (DGFiP API
//! Management, PISTE, Douane, API Entreprise, API Particulier).
//!
//! Generated crates call [`ApiClient::execute`] with a [`Request`] and decode the
//! [`RawResponse`]; everything a gateway requires happens here, in layers:
//!
//! 1. **auth** ([`auth`]): OAuth tokens from a process-wide, single-flight cache
//!    (client_credentials, password + refresh), JWT expiry checks, API keys, traceability;
//! 2. **correlation ID** ([`correlation`]): one UUID per logical call, in every attempt, span and error;
//! 3. **limiter** ([`rate_limit`]): GCRA per client, paused by 429 `Retry-After`;
//! 4. **retry** ([`retry`]): bounded, idempotent-only by default, honouring `Retry-After`;
//! 5. **transport**: reqwest with connect/request timeouts.
//!
//! Errors are one type, [`Error<E>`], that decodes every gateway's error format.
//!
//! ```no_run
//! use gouvgen_runtime::{ApiClient, presets::{self, DgfipAccess, Environment}};
//! # fn main() -> Result<(), gouvgen_runtime::Error> {
//! let client = ApiClient::builder(presets::dgfip(DgfipAccess::Internet, Environment::Sandbox))
//!     .client_credentials("consumer-key", "consumer-secret")
//!     .scopes(["RessourceIR"])
//!     .build()?;
//! # let _ = client; Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod audit;
pub mod auth;
mod body;
pub mod breaker;
mod call_hooks;
mod client;
pub mod correlation;
mod dates;
pub mod error;
pub mod presets;
#[cfg(test)]
mod proptests;
pub mod rate_limit;
mod request;
mod response;
pub mod retry;
mod scrub;
mod secret;
pub mod shared;
mod traceability;

pub use audit::{
    AuditFailureCallback, AuditHealth, AuditOutcome, AuditRecord, AuditSink, JsonLinesAuditSink,
    TracingAuditSink,
};
pub use auth::{
    ApiKeyLocation, ClientAuthMethod, Clock, DEFAULT_TOKEN_LIFETIME, FAILURE_HOLD,
    MAX_TOKEN_LIFETIME, ManualClock, SystemClock, TokenEndpointError,
};
pub use body::{DEFAULT_MAX_RESPONSE_SIZE, DEFAULT_MAX_TOKEN_RESPONSE_SIZE};
pub use breaker::CircuitBreaker;
pub use call_hooks::DEFAULT_STORE_TIMEOUT;
pub use client::{
    ApiClient, ApiClientBuilder, CallOptions, JWT_WARNING_INTERVAL, JWT_WARNING_PERIOD,
    Traceability,
};
pub use dates::{Date, DateTime, InvalidDate};
pub use error::{
    DecodeFailure, Delivery, Error, GatewayError, OAuthErrorCode, TokenRefusal, Undocumented,
};
pub use presets::{DgfipAccess, DouaneEnvironment, Environment, Gateway, PisteAccess, Preset};
pub use rate_limit::RateLimit;
pub use request::{
    FilePart, Multipart, ParamStyle, ParamValue, Request, encode_path, encode_path_styled,
    query_pairs, simple_text,
};
pub use response::{RawResponse, Response};
pub use retry::RetryPolicy;
pub use secret::Secret;

pub use bytes;
pub use chrono;
pub use http::Method;
pub use serde;
pub use serde_json;
pub use uuid;
