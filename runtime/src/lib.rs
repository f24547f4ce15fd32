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
mod client;
mod core;
pub mod error;
#[cfg(feature = "fleet")]
pub mod fleet;
#[cfg(not(feature = "fleet"))]
mod fleet;
mod gateway;
mod policy;
#[cfg(test)]
mod proptests;
#[cfg(feature = "test-util")]
pub mod test_util;
mod wire;

pub use crate::core::correlation;
#[cfg(feature = "fleet")]
pub use fleet as shared;
pub use gateway::presets;
pub use policy::{breaker, rate_limit, retry};

pub use crate::core::body::{DEFAULT_MAX_RESPONSE_SIZE, DEFAULT_MAX_TOKEN_RESPONSE_SIZE};
pub use crate::core::secret::Secret;
#[cfg(feature = "test-util")]
pub use crate::core::time::ManualClock;
pub use crate::core::time::{Clock, SystemClock};
pub use audit::{AuditOutcome, AuditRecord, AuditSink, JsonLinesAuditSink, TracingAuditSink};
pub use auth::{
    ApiKeyLocation, ClientAuthMethod, FAILURE_HOLD, MAX_TOKEN_LIFETIME, TokenEndpointError,
};
#[cfg(feature = "fleet")]
pub use client::DEFAULT_STORE_TIMEOUT;
pub use client::{
    ApiClient, ApiClientBuilder, BodyLimits, CallOptions, JWT_WARNING_INTERVAL, JWT_WARNING_PERIOD,
    Timeouts, Traceability,
};
pub use error::{
    DecodeFailure, Delivery, Error, GatewayError, OAuthErrorCode, TokenRefusal, Undocumented,
};
pub use gateway::presets::{
    DgfipAccess, DouaneEnvironment, Environment, Gateway, PisteAccess, Preset,
};
pub use policy::breaker::CircuitBreaker;
pub use policy::rate_limit::RateLimit;
pub use policy::retry::RetryPolicy;
pub use wire::dates::{Date, DateTime, InvalidDate};
pub use wire::request::{
    FilePart, Multipart, ParamStyle, ParamValue, Request, encode_path, encode_path_styled,
    query_pairs, simple_text,
};
pub use wire::response::{RawResponse, Response};

pub use bytes;
pub use chrono;
pub use http::Method;
pub use serde;
pub use serde_json;
pub use uuid;
