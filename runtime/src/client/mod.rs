//! Layer 9, `client`: the only orchestrator. [`ApiClient`] (in `api`) holds what clones
//! share; `builder` makes one from a preset; `call` runs the per-call pipeline (`prepare`
//! builds the HTTP request, `attempt` sends it once, `policy::decide` says what next);
//! `hooks` adds the breaker and the audit record; `telemetry` the OpenTelemetry spans and
//! metrics (`otel*`, feature `otel`); `rotation` replaces credentials.

mod account;
mod api;
mod attempt;
mod builder;
mod call;
#[cfg(feature = "cassette")]
mod cassette;
mod credentials;
mod health;
mod hooks;
mod options;
#[cfg(feature = "otel")]
mod otel;
#[cfg(feature = "otel")]
mod otel_attrs;
#[cfg(feature = "otel")]
mod otel_metrics;
mod per_call;
mod prepare;
mod rotation;
mod settings;
mod telemetry;
mod transport;

pub use crate::gateway::traceability::Traceability;
pub use api::ApiClient;
pub use builder::ApiClientBuilder;
pub use credentials::{JWT_WARNING_INTERVAL, JWT_WARNING_PERIOD};
#[cfg(feature = "fleet")]
pub use hooks::DEFAULT_STORE_TIMEOUT;
pub use options::CallOptions;
pub use settings::{BodyLimits, Timeouts};
#[cfg(feature = "otel")]
pub use telemetry::Telemetry;
