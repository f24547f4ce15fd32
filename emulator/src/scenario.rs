//! Scripted misbehaviour: what a test (or `gouvgen emulate --scenario`) makes the gateway do
//! from now on, on top of its normal rules. Kept apart from the handlers so that each rule
//! is one field here and one check in [`crate::server`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::v3::{PingStatus, ProviderError};

/// A forced answer for one operation: a documented (or gateway) error status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Forced {
    pub status: u16,
}

/// What the gateway is currently told to do. Every field starts "off".
#[derive(Debug, Default)]
pub(crate) struct Scenario {
    /// Forced status per operation, keyed by `operationId` or `METHOD /template`.
    pub forced: HashMap<String, Forced>,
    /// Every API call answers 429 with this `Retry-After` (whole seconds).
    pub throttle: Option<u64>,
    /// Every API call answers 503 (gateway maintenance).
    pub unavailable: bool,
    /// Added before every API answer.
    pub latency: Duration,
    /// Accept connections, read requests, never answer (also what a banned IP sees).
    pub dark: bool,
    /// The API Entreprise / Particulier ban, until this instant of the emulator's clock: API
    /// calls are never answered.
    pub banned_until: Option<Instant>,
    /// v3 provider errors per operation (same keys as `forced`).
    pub provider_errors: HashMap<String, ProviderError>,
    /// `/pings` answers per API name (`""`: `/pings` itself); `ok` when absent.
    pub pings: HashMap<String, (PingStatus, std::time::SystemTime)>,
    /// A quota set at run time; replaces [`crate::GatewayConfig::rate_limit`].
    pub rate_limit: Option<Option<(u32, Duration)>>,
}

impl Scenario {
    /// The forced answer for a route, by operation ID first, then by `METHOD /template`.
    pub fn forced_for(
        &self,
        operation_id: Option<&str>,
        method: &str,
        template: &str,
    ) -> Option<Forced> {
        if self.forced.is_empty() {
            return None;
        }
        operation_id
            .and_then(|id| self.forced.get(id))
            .or_else(|| self.forced.get(&format!("{method} {template}")))
            .copied()
    }

    /// The provider error set for a route, looked up like [`Scenario::forced_for`].
    pub fn provider_error_for(
        &self,
        operation_id: Option<&str>,
        method: &str,
        template: &str,
    ) -> Option<ProviderError> {
        if self.provider_errors.is_empty() {
            return None;
        }
        operation_id
            .and_then(|id| self.provider_errors.get(id))
            .or_else(|| self.provider_errors.get(&format!("{method} {template}")))
            .cloned()
    }

    /// Whether API calls get no answer at all at `now` (emulator clock).
    pub fn silent(&self, now: Instant) -> bool {
        self.dark || self.banned_until.is_some_and(|until| now < until)
    }
}
