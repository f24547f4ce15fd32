//! Runtime for gouvgen-generated clients of French government API gateways (DGFiP API
//! Management, PISTE, Douane, API Entreprise, API Particulier).
//!
//! Generated crates call [`ApiClient::execute`] with a [`Request`] and decode the
//! [`RawResponse`]; everything a gateway requires happens here.
//!
//! # Layers
//!
//! The source is in ten layers, one folder each (`audit` is one file). A layer may import
//! only itself and the layers listed before it; `tests/layering.rs` reads the sources and
//! fails on an import going the other way, on any cycle between modules, on a function of
//! 80 lines or more, and on a mutex locked outside the one poison policy.
//!
//! 1. **core**: secrets and scrubbing ([`Secret`]), the [`Clock`], correlation IDs
//!    ([`correlation`]), body size limits, the weak-valued registry behind every process-wide
//!    state, the mutex-poison policy;
//! 2. **error**: [`Error<E>`] and the decoding of every gateway's error format ([`error`]);
//! 3. **wire**: what generated code touches: [`Request`], parameters, [`Date`] / [`DateTime`],
//!    [`RawResponse`], `Retry-After`;
//! 4. **fleet**: the shared store across processes (`shared`, features `fleet` and
//!    `redis`) and the account keys;
//! 5. **policy**: retry classification and backoff ([`retry`]), rate limits and 429 pauses
//!    ([`rate_limit`]), the circuit breaker ([`breaker`]) and `decide`, the pure decision
//!    after each attempt;
//! 6. **auth**: credentials, grants as request builders plus parsers, the token provider and
//!    its single-flight cache, JWT expiry ([`auth`]);
//! 7. **gateway**: [`presets`], traceability, gateway-specific rules (which 4xx means a bad
//!    token);
//! 8. **audit**: one record per call to the configured sinks ([`audit`]);
//! 9. **cassette** (feature `cassette`): recording calls to a file and replaying them
//!    offline, secrets and personal values left out;
//! 10. **client**: the only orchestrator: [`ApiClient`], its builder, and the call pipeline
//!     (prepare once; then attempt, decide, carry out the decision), with its telemetry hooks
//!     (OpenTelemetry with the `otel` feature), and [`per_call_options!`], which generated
//!     request builders expand for their per-call options and `IntoFuture`.
//!
//! # Features
//!
//! - `fleet`: share tokens, rate limits, 429 pauses and circuit state across processes
//!   through a `SharedStore` of your own;
//! - `redis`: the same through Redis (implies `fleet`);
//! - `cassette`: record calls to a file and replay them without network or credentials
//!   (`ApiClientBuilder::record_to` / `replay_from`, `PersonalFields`);
//! - `otel`: OpenTelemetry spans and metrics through providers of your own or the global ones
//!   (`ApiClientBuilder::telemetry`, `Telemetry`; see the README, "Telemetry");
//! - `test-util`: `ManualClock` and `test_util::redis_server`, for tests of crates using the
//!   runtime.
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
#[cfg(feature = "cassette")]
mod cassette;
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
pub use gateway::health::{Health, HealthStatus};
pub use gateway::presets;
pub use gateway::siret;
pub use policy::{breaker, rate_limit, retry};

pub use crate::core::body::{DEFAULT_MAX_RESPONSE_SIZE, DEFAULT_MAX_TOKEN_RESPONSE_SIZE};
pub use crate::core::secret::Secret;
#[cfg(feature = "test-util")]
pub use crate::core::time::ManualClock;
pub use crate::core::time::{Clock, SystemClock};
pub use audit::{
    AuditFailureCallback, AuditHealth, AuditOutcome, AuditRecord, AuditSink, JsonLinesAuditSink,
    TracingAuditSink,
};
pub use auth::{
    ApiKeyLocation, ClientAuthMethod, DEFAULT_TOKEN_LIFETIME, FAILURE_HOLD, MAX_TOKEN_LIFETIME,
    TokenEndpointError,
};
#[cfg(feature = "cassette")]
pub use cassette::PersonalFields;
#[cfg(feature = "fleet")]
pub use client::DEFAULT_STORE_TIMEOUT;
#[cfg(feature = "otel")]
pub use client::Telemetry;
pub use client::{
    ApiClient, ApiClientBuilder, BodyLimits, CallOptions, JWT_WARNING_INTERVAL, JWT_WARNING_PERIOD,
    Timeouts, Traceability,
};
pub use error::{
    DecodeFailure, Delivery, Error, GatewayError, NotRecorded, OAuthErrorCode, TokenRefusal,
    Undocumented,
};
pub use gateway::presets::{
    DgfipAccess, DouaneEnvironment, Environment, FranceConnectCarrier, Gateway, PisteAccess, Preset,
};
pub use policy::breaker::CircuitBreaker;
pub use policy::rate_limit::{ParseRateLimitError, RateLimit};
pub use policy::retry::RetryPolicy;
pub use wire::dates::{Date, DateTime, InvalidDate};
pub use wire::params::{ParamStyle, encode_path_styled, query_pairs, simple_text};
pub use wire::request::{FilePart, Multipart, ParamValue, Request, encode_path};
pub use wire::response::{RawResponse, Response};

pub use bytes;
pub use chrono;
pub use http::Method;
/// The OpenTelemetry API this runtime records through (feature `otel`): use it to name the
/// same version as the runtime.
#[cfg(feature = "otel")]
pub use opentelemetry;
pub use serde;
pub use serde_json;
pub use uuid;
