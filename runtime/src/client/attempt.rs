//! One attempt of a call: breaker admission, a limiter slot, the credential, one send and the
//! whole body. What happened is returned as data for `policy::decide`; only what ends the call
//! whatever the policy (circuit open, held back past the deadline, no token, deadline reached
//! before sending, body too large) is an error here.

use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use tokio::time::Instant;

use crate::auth::token_cache::CachedToken;
use crate::core::body::{BodyError, read_limited};
use crate::error::{Delivery, Error, GatewayError};
use crate::gateway::rules::by_code;
use crate::policy::decide::Observed;
use crate::policy::retry::parse_retry_after;
use crate::wire::request::Request;

use super::api::ApiClient;
use super::credentials::Creds;
use super::hooks::CallHooks;
use super::telemetry::CallTelemetry;

/// What one call sends, fixed for all its attempts.
pub(super) struct CallPlan<'a> {
    pub req: &'a Request,
    pub creds: &'a Creds,
    pub url: &'a str,
    pub correlation_id: &'a str,
    /// The call's deadline: nothing is sent after it.
    pub deadline: Instant,
    pub hooks: &'a CallHooks<'a>,
    /// OpenTelemetry spans and metrics (nothing without the `otel` feature).
    pub tel: &'a CallTelemetry<'a>,
}

/// What an attempt sent and got back.
pub(super) struct Attempt {
    /// The server's answer, or why there is none.
    pub result: Result<Answer, reqwest::Error>,
    /// The OAuth token the attempt carried (for the refresh and for scrubbing).
    pub token: Option<CachedToken>,
    /// The attempt's own timeout (reported by a timeout error).
    pub timeout: Duration,
}

/// A response read whole.
pub(super) struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub retry_after: Option<Duration>,
}

impl Attempt {
    /// The attempt as policy sees it; `token_rejected` reads the answer only when asked.
    pub(super) fn observed(&self, token_rejected: impl FnOnce(&Answer) -> bool) -> Observed {
        match &self.result {
            Ok(a) => Observed::Response {
                status: a.status,
                retry_after: a.retry_after,
                token_rejected: token_rejected(a),
                by_code: by_code(a.status, &a.headers, &a.body),
            },
            Err(e) if e.is_connect() => Observed::ConnectFailed,
            Err(e) if e.is_timeout() => Observed::TimedOut,
            Err(_) => Observed::TransportFailed,
        }
    }
}

impl ApiClient {
    /// Sends the call once (see the module docs).
    pub(super) async fn attempt(
        &self,
        plan: &CallPlan<'_>,
        attempt: u32,
    ) -> Result<Attempt, Error> {
        // Cassette hook: a replaying client answers from its cassette, offline, no token.
        #[cfg(feature = "cassette")]
        if let Some(replayed) = self.replayed_attempt(plan) {
            return replayed;
        }
        let (req, correlation_id) = (plan.req, plan.correlation_id);
        let mut tel = plan.tel.attempt(attempt); // telemetry
        let permit = plan.hooks.admit(req, correlation_id).await?;
        if permit.is_probe() && !self.probe_may_go(plan.deadline).await {
            return Err(self.probe_refused(permit, req, correlation_id));
        }
        tel.admitted(); // telemetry
        if let Err(when) = self
            .inner
            .limits
            .acquire(req.is_document(), plan.deadline)
            .await
        {
            return Err(self.held_back(req, correlation_id, when));
        }
        tel.slot_acquired(); // telemetry
        if self.inner.shared.store_down_refuses() {
            tracing::warn!("not sent: the fleet store is down and the client fails closed");
            return Err(Error::SharedStoreDown {
                operation_id: req.operation_id,
                correlation_id: correlation_id.to_owned(),
            });
        }
        let authorization = self
            .authorization(req, plan.creds, correlation_id, plan.deadline)
            .await?;
        tel.authorized(); // telemetry
        let now = Instant::now();
        if now >= plan.deadline {
            return Err(Error::Timeout {
                operation_id: req.operation_id,
                correlation_id: correlation_id.to_owned(),
                after: self.call_budget(),
                delivery: Delivery::NotSent,
            });
        }
        let timeout = self.attempt_timeout(req).min(plan.deadline - now);
        let (header, token) = match authorization {
            Some((header, token)) => (Some(header), token),
            None => (None, None),
        };
        let rb = self.build_request(
            req,
            plan.creds,
            plan.url,
            correlation_id,
            header.as_ref(),
            timeout,
        )?;
        let rb = tel.inject(rb); // telemetry
        tracing::debug!(attempt, "sending");
        let result = self.send(rb, req, correlation_id).await?;
        permit.finish(result.as_ref().ok().map(|a| a.status));
        tel.answered(result.as_ref().map(|a| (a.status, &a.headers, &a.body[..]))); // telemetry
        let result = result.map_err(|e| {
            let e = e.without_url();
            tracing::warn!(attempt, error = %e, "transport failure");
            e
        });
        let sent = Attempt {
            result,
            token,
            timeout,
        };
        // Cassette hook: a recording client writes the answered attempt down.
        #[cfg(feature = "cassette")]
        self.record_attempt(plan, &sent)?;
        Ok(sent)
    }

    /// The per-attempt timeout of `req`: the preset's document timeout for a call whose answer
    /// is a document, the client's otherwise.
    fn attempt_timeout(&self, req: &Request) -> Duration {
        match self.inner.document_timeout {
            Some(d) if req.is_document() => d,
            _ => self.inner.timeout,
        }
    }

    /// Sends and reads the body within the size limit (a larger body ends the call).
    async fn send(
        &self,
        rb: reqwest::RequestBuilder,
        req: &Request,
        correlation_id: &str,
    ) -> Result<Result<Answer, reqwest::Error>, Error> {
        let mut resp = match rb.send().await {
            Ok(resp) => resp,
            Err(e) => return Ok(Err(e)),
        };
        let status = resp.status().as_u16();
        let headers = std::mem::take(resp.headers_mut());
        let limit = self.inner.max_response_size;
        match read_limited(resp, limit).await {
            Ok(body) => Ok(Ok(Answer {
                status,
                retry_after: parse_retry_after(&headers),
                headers,
                body,
            })),
            Err(BodyError::Transport(e)) => Ok(Err(e)),
            Err(BodyError::TooLarge) => {
                tracing::warn!(status, limit, "response body too large");
                Err(Error::ResponseTooLarge {
                    operation_id: req.operation_id,
                    correlation_id: correlation_id.to_owned(),
                    limit,
                    token_endpoint: false,
                })
            }
        }
    }

    /// The call cannot get a slot before its deadline (429 pause, an exhausted `x-rate-limit`
    /// or `RateLimit-Remaining`, or the client-side limit): [`Error::RateLimited`] at once, with when to come back.
    fn held_back(&self, req: &Request, correlation_id: &str, when: Instant) -> Error {
        let wait = when.saturating_duration_since(Instant::now());
        tracing::warn!(
            wait_s = wait.as_secs_f64(),
            "not sent: the client is held back past this call's deadline"
        );
        let mut error = GatewayError::stated(
            429,
            req.operation_id,
            correlation_id,
            format!(
                "not sent: this client is held back for {:.1} s (a previous 429, the gateway's announced quota or the client-side rate limit), past this call's deadline",
                wait.as_secs_f64()
            ),
            "retry after the indicated time, or give the call a longer timeout",
        );
        error.retry_after = Some(wait);
        Error::RateLimited(Box::new(error))
    }
}
