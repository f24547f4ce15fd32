//! [`ApiClient::health`]: the gateway's health endpoint, and its use by the circuit breaker:
//! where the preset names one, a half-open circuit asks it before letting a real call be the
//! probe, so a call (and its quota) is not spent on a gateway that says it is down.

use std::time::Duration;

use tokio::time::Instant;

use crate::core::body::read_limited;
use crate::error::Error;
use crate::gateway::health::{Health, parse_health};
use crate::policy::breaker::Permit;
use crate::wire::request::Request;

use super::api::ApiClient;
use super::credentials::config_error;

/// Largest health answer read.
const MAX_HEALTH_BODY: usize = 16 * 1024;

impl ApiClient {
    /// Asks the gateway's health endpoint (API Entreprise / API Particulier: `GET /pings`;
    /// see [`Preset::health_path`](crate::Preset)). Sent without credentials, outside the rate
    /// limiter and the circuit breaker, within the client's attempt timeout.
    pub async fn health(&self) -> Result<Health, Error> {
        let Some(path) = &self.inner.health_path else {
            return Err(config_error(format!(
                "{} has no health endpoint (Preset::health_path)",
                self.inner.preset_label
            )));
        };
        let deadline = Instant::now() + self.inner.timeout;
        self.fetch_health(path, deadline).await.map_err(|e| {
            let after = self.inner.timeout;
            e.unwrap_or(Error::Timeout {
                operation_id: "health",
                correlation_id: String::new(),
                after,
                delivery: crate::error::Delivery::NotSent,
            })
        })
    }

    /// One health request; `Err(None)` on a timeout.
    async fn fetch_health(&self, path: &str, deadline: Instant) -> Result<Health, Option<Error>> {
        let url = format!("{}{path}", self.inner.api_root);
        let timeout = deadline.saturating_duration_since(Instant::now());
        if timeout.is_zero() {
            return Err(None);
        }
        let send = self.inner.http.get(&url).timeout(timeout).send();
        let resp = match send.await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => return Err(None),
            Err(e) => {
                return Err(Some(Error::Transport {
                    operation_id: "health",
                    correlation_id: String::new(),
                    connect: e.is_connect(),
                    delivery: crate::error::Delivery::NotSent,
                    source: Box::new(e.without_url()),
                }));
            }
        };
        let status = resp.status().as_u16();
        let body = read_limited(resp, MAX_HEALTH_BODY)
            .await
            .unwrap_or_default();
        Ok(parse_health(status, &body))
    }

    /// Whether a half-open circuit's probe may be a real call: the gateway's health endpoint
    /// does not say it is down (no endpoint: yes). Bounded by a tenth of the call's time left,
    /// at most the attempt timeout.
    pub(super) async fn probe_may_go(&self, deadline: Instant) -> bool {
        let Some(path) = &self.inner.health_path else {
            return true;
        };
        let left = deadline.saturating_duration_since(Instant::now());
        let budget = (left / 10).clamp(Duration::from_millis(100), self.inner.timeout);
        match self.fetch_health(path, Instant::now() + budget).await {
            Ok(h) => {
                if !h.is_up() {
                    tracing::warn!(
                        status = h.http_status,
                        "health endpoint: down; probe not sent"
                    );
                }
                h.is_up()
            }
            Err(_) => false,
        }
    }

    /// The probe was not sent: the circuit opens again for its cooldown.
    pub(super) fn probe_refused(
        &self,
        permit: Permit,
        req: &Request,
        correlation_id: &str,
    ) -> Error {
        let (host, retry_in) = permit.fail_probe();
        Error::Unavailable {
            operation_id: req.operation_id,
            correlation_id: correlation_id.to_owned(),
            host,
            retry_in,
        }
    }
}
