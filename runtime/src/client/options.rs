//! [`CallOptions`]: what one call may change (correlation ID, FranceConnect token, retry
//! policy, deadline, traceability, extra headers).

use std::fmt;
use std::time::Duration;

use crate::core::secret::Secret;
use crate::gateway::traceability::TraceabilityOverride;
use crate::policy::retry::RetryPolicy;

/// Per-call options, set with [`ApiClient::with_options`](crate::ApiClient::with_options).
#[derive(Clone, Default)]
pub struct CallOptions {
    pub(crate) correlation_id: Option<String>,
    pub(crate) france_connect_token: Option<Secret>,
    pub(crate) retry: Option<RetryPolicy>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) traceability: TraceabilityOverride,
    pub(crate) no_cache: bool,
}

impl fmt::Debug for CallOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values may be credentials: names only.
        f.debug_struct("CallOptions")
            .field("correlation_id", &self.correlation_id)
            .field("france_connect_token", &self.france_connect_token)
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .field("no_cache", &self.no_cache)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl CallOptions {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }

    /// Use this correlation ID instead of a fresh UUID.
    pub fn correlation_id(mut self, id: impl Into<String>) -> Self {
        self.correlation_id = Some(id.into());
        self
    }

    /// The user's FranceConnect access token, for this call only: never cached, never shared
    /// with another call, removed from every error text. Where it goes is the preset's
    /// [`FranceConnectCarrier`](crate::FranceConnectCarrier): DGFiP's FranceConnect access
    /// point reads it from `X-FranceConnect-OAuth` next to the client's token; API
    /// Particulier's FranceConnect routes take it as the call's bearer, instead of the client's
    /// JWT or API key.
    pub fn france_connect_token(mut self, token: impl Into<Secret>) -> Self {
        self.france_connect_token = Some(token.into());
        self
    }

    /// Overrides the client's retry policy.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Allows repeating this non-idempotent call (POST) on transient failures.
    pub fn retry_non_idempotent(mut self, yes: bool) -> Self {
        let p = self.retry.take().unwrap_or_default();
        self.retry = Some(p.retry_non_idempotent(yes));
        self
    }

    /// The call's deadline: everything the call waits for (rate limiter, 429 pause, token
    /// fetch, attempts and backoff) ends within this time. Each attempt is also bounded by the
    /// builder's per-attempt timeout. Without it, a call ends within the retry policy's
    /// `max_total_time` plus one attempt timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The traceability `object` of this call (API Entreprise / Particulier: the case file or
    /// procedure, "raison de l'appel ou identifiant de procédure"); `context` and `recipient`
    /// come from the client.
    pub fn traceability_object(mut self, object: impl Into<String>) -> Self {
        self.traceability.object = Some(object.into());
        self
    }

    /// The traceability `recipient` of this call, instead of the client's: a software vendor
    /// serving several public bodies names the one this call is for.
    pub fn traceability_recipient(mut self, recipient: crate::siret::Siret) -> Self {
        self.traceability.recipient = Some(recipient.into());
        self
    }

    /// Overrides all three traceability values for this call.
    pub fn traceability(
        mut self,
        context: impl Into<String>,
        recipient: impl Into<String>,
        object: impl Into<String>,
    ) -> Self {
        self.traceability = TraceabilityOverride {
            context: Some(context.into()),
            recipient: Some(recipient.into()),
            object: Some(object.into()),
        };
        self
    }

    /// Asks the gateway not to answer from its cache (`Cache-Control: no-cache`; API
    /// Particulier says whether an answer came from its cache in `X-Response-Cached`, see
    /// [`RawResponse::cached`](crate::RawResponse::cached)).
    pub fn no_cache(mut self) -> Self {
        self.no_cache = true;
        self
    }

    /// Adds a header to every call made with these options (for instance
    /// `Cache-Control: no-cache` at API Entreprise, or a test harness's control header).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}
