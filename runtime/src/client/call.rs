//! The per-call pipeline run by [`ApiClient::execute`]: prepare once, then attempt and
//! decide until the decision is to return. Every policy decision is in
//! [`crate::policy::decide`]; this loop only carries them out.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tracing::Instrument;

use crate::auth::Auth;
use crate::core::correlation::new_correlation_id;
use crate::error::{Delivery, Error, Undocumented};
use crate::gateway::rules::token_rejected;
use crate::policy::decide::{self, ByCode, CallState, Decision, Observed};
use crate::policy::in_flight::{Turn, fingerprint};
use crate::policy::rate_limit::exhausted_window;
use crate::policy::retry::{RetryPolicy, is_idempotent};
use crate::wire::quota::exhausted_quota;
use crate::wire::request::{Body, Request};
use crate::wire::response::{RawResponse, Redactor, gateway_correlation_id};

use super::api::ApiClient;
use super::attempt::{Answer, Attempt, CallPlan};
use super::credentials::Creds;
use super::hooks::CallHooks;
use super::telemetry::CallTelemetry;

/// Upper bound of one call's budget (a week): keeps `Instant` arithmetic far from overflow
/// whatever timeout or policy the caller sets.
const MAX_CALL_BUDGET: Duration = Duration::from_secs(7 * 24 * 3600);

impl ApiClient {
    pub(super) async fn run(self, req: Request) -> Result<RawResponse, Error<Undocumented>> {
        let correlation_id = self
            .options
            .correlation_id
            .clone()
            .unwrap_or_else(new_correlation_id);
        let span = tracing::info_span!(
            "gouvgen.call",
            operation_id = req.operation_id,
            method = %req.method,
            correlation_id = %correlation_id,
            attempt = tracing::field::Empty,
            status = tracing::field::Empty,
        );
        let hooks = CallHooks::new(&self.inner.shared, &req, &correlation_id, || {
            self.traceability().ok()
        });
        // telemetry: what it reads of the client (credentials only when it is on)
        let env = (
            || self.creds(),
            &*self.inner.clock,
            &self.inner.correlation_header,
        );
        let tel = (self.inner.telemetry).call(&req, &correlation_id, &hooks, env); // telemetry
        let result = self
            .run_in_span(&req, correlation_id, &span, &hooks, &tel)
            .instrument(span.clone())
            .await;
        hooks.finish(&result);
        tel.finish(&result); // telemetry
        result
    }

    /// Attempt, decide, carry out the decision; until it is to return.
    async fn run_in_span(
        &self,
        req: &Request,
        correlation_id: String,
        span: &tracing::Span,
        hooks: &CallHooks<'_>,
        tel: &CallTelemetry<'_>,
    ) -> Result<RawResponse, Error> {
        crate::audit::ensure_audit_writable(
            self.inner.shared.audit_required,
            &self.inner.shared.audit,
            req.operation_id,
            &correlation_id,
        )?;
        if let Some(e) = &req.build_error {
            return Self::invalid(req, &correlation_id, e.clone());
        }
        let creds = self.creds();
        let url = self.build_url(req, &creds, &correlation_id)?;
        let policy = self.options.retry.as_ref().unwrap_or(&self.inner.retry);
        let (deadline, retry_deadline) = self.deadlines(policy);
        let plan = CallPlan {
            req,
            creds: &creds,
            url: &url,
            correlation_id: &correlation_id,
            deadline,
            hooks,
            tel,
        };
        let _turn = self
            .in_flight_turn(req, &url, deadline, &correlation_id)
            .await?;
        let oauth = matches!(creds.auth, Auth::Token(_));
        let mut progress = Progress::default();
        loop {
            progress.attempt += 1;
            span.record("attempt", progress.attempt);
            let sent = self.attempt(&plan, progress.attempt).await?;
            if let Ok(answer) = &sent.result {
                span.record("status", answer.status);
                self.pause_after(req, answer, tel);
            }
            let with_token = oauth && sent.token.is_some();
            let state = progress.state(policy, &req.method, with_token, retry_deadline);
            let observed = sent.observed(|a| {
                (400..500).contains(&a.status) && token_rejected(a.status, &a.headers, &a.body)
            });
            match decide::decide(observed, &state) {
                Decision::RefreshToken => {
                    self.refresh_token(&creds, &sent);
                    tel.token_rejected(); // telemetry
                    progress.token_refreshed = true;
                }
                Decision::Retry(wait) => {
                    log_retry(&sent, wait);
                    tel.retrying(wait); // telemetry
                    progress.retries += 1;
                    progress.in_flight_waited |= matches!(
                        observed,
                        Observed::Response {
                            by_code: ByCode::InFlight,
                            ..
                        }
                    );
                    tokio::time::sleep(wait).await;
                }
                Decision::Return => {
                    log_no_retry(observed, &state);
                    return self.conclude(&plan, sent, observed, &creds);
                }
            }
        }
    }

    /// The call's deadline (nothing is sent after it) and the retry deadline (no wait ends
    /// after it: the policy's total time, within the call's deadline).
    fn deadlines(&self, policy: &RetryPolicy) -> (Instant, Instant) {
        let start = Instant::now();
        let deadline = start + self.call_budget().min(MAX_CALL_BUDGET);
        let retry_deadline = (start + policy.max_total_time.min(MAX_CALL_BUDGET)).min(deadline);
        (deadline, retry_deadline)
    }

    /// Waits, within the deadline, until no identical call of the account is in flight (where
    /// the gateway answers duplicates with 409; see `policy::in_flight`).
    async fn in_flight_turn(
        &self,
        req: &Request,
        url: &str,
        deadline: Instant,
        correlation_id: &str,
    ) -> Result<Option<Turn>, Error> {
        let Some(table) = &self.inner.in_flight else {
            return Ok(None);
        };
        let body: &[u8] = match &req.body {
            Body::None => b"",
            Body::Bytes { bytes, .. } => bytes,
            Body::Multipart(_) => return Ok(None),
        };
        let key = fingerprint(&req.method, url, body);
        match tokio::time::timeout_at(deadline, table.turn(key)).await {
            Ok(turn) => Ok(Some(turn)),
            Err(_) => {
                tracing::warn!("deadline reached while an identical call was in flight");
                Err(Error::Timeout {
                    operation_id: req.operation_id,
                    correlation_id: correlation_id.to_owned(),
                    after: self.call_budget(),
                    delivery: Delivery::NotSent,
                })
            }
        }
    }

    /// After a 429, an exhausted `x-rate-limit` window (PISTE) or an exhausted
    /// `RateLimit-Remaining` (API Entreprise, API Particulier): holds every call of this
    /// client's account (in every process sharing its store) until the gateway's reset.
    fn pause_after(&self, req: &Request, answer: &Answer, tel: &CallTelemetry<'_>) {
        let limiter = self.inner.limits.group(req.is_document());
        if answer.status == 429 {
            let pause = (answer.retry_after)
                .or_else(|| exhausted_quota(&answer.headers))
                .unwrap_or(self.inner.pause_after_429);
            tracing::warn!(
                retry_after_s = pause.as_secs_f64(),
                "HTTP 429: holding every call of this client"
            );
            tel.paused("429", pause); // telemetry
            limiter.pause_until(Instant::now() + pause);
        } else if let Some(window) = exhausted_window(&answer.headers) {
            tracing::info!(
                window_s = window.as_secs_f64(),
                "x-rate-limit: no call left in the window; holding every call of this client"
            );
            tel.paused("x-rate-limit", window); // telemetry
            limiter.pause_until(Instant::now() + window);
        } else if let Some(wait) = exhausted_quota(&answer.headers) {
            tracing::info!(
                reset_in_s = wait.as_secs_f64(),
                "RateLimit-Remaining: 0; holding every call of this client until RateLimit-Reset"
            );
            tel.paused("ratelimit", wait); // telemetry
            limiter.pause_until(Instant::now() + wait);
        }
    }

    /// Forgets the rejected token, so the next attempt fetches a new one.
    fn refresh_token(&self, creds: &Creds, sent: &Attempt) {
        if let (Auth::Token(p), Some(token), Ok(a)) = (&creds.auth, &sent.token, &sent.result) {
            tracing::info!(
                status = a.status,
                "access token rejected: refreshing and retrying once"
            );
            p.invalidate(token.generation);
        }
    }

    /// The call's result from its last attempt: the response (secrets scrubbed from error
    /// bodies), or the transport error with what may have reached the server.
    fn conclude(
        &self,
        plan: &CallPlan<'_>,
        sent: Attempt,
        observed: Observed,
        creds: &Creds,
    ) -> Result<RawResponse, Error> {
        let (req, correlation_id) = (plan.req, plan.correlation_id.to_owned());
        let answer = match sent.result {
            Ok(a) => a,
            Err(e) => {
                return Err(transport_error(
                    req,
                    correlation_id,
                    e,
                    observed,
                    sent.timeout,
                ));
            }
        };
        let status = answer.status;
        if status >= 400 {
            tracing::info!(status, "error response");
        } else {
            tracing::debug!(status, "response");
        }
        let redactor = if status >= 300 {
            let mut extra = Vec::new();
            if let Some(t) = &sent.token {
                extra.push(t.access.clone());
                extra.extend(t.refresh.clone());
            }
            extra.extend(self.options.france_connect_token.clone());
            Redactor::new(Some(Arc::clone(&creds.scrubber)), extra)
        } else {
            Redactor::default()
        };
        Ok(RawResponse {
            status,
            gateway_correlation_id: gateway_correlation_id(
                &answer.headers,
                &self.inner.correlation_header,
            ),
            headers: answer.headers,
            body: answer.body,
            operation_id: req.operation_id,
            correlation_id,
            retry_after: answer.retry_after,
            redactor,
        })
    }
}

/// How far a call has gone: what `decide` needs besides the attempt's outcome.
#[derive(Default)]
struct Progress {
    attempt: u32,
    retries: u32,
    token_refreshed: bool,
    in_flight_waited: bool,
}

impl Progress {
    fn state<'a>(
        &self,
        policy: &'a RetryPolicy,
        method: &'a http::Method,
        oauth_token: bool,
        retry_deadline: Instant,
    ) -> CallState<'a> {
        CallState {
            policy,
            method,
            attempt: self.attempt,
            retries: self.retries,
            oauth_token,
            token_refreshed: self.token_refreshed,
            in_flight_waited: self.in_flight_waited,
            time_left: retry_deadline.saturating_duration_since(Instant::now()),
            jitter: fastrand::f64(),
        }
    }
}

fn log_retry(sent: &Attempt, wait: Duration) {
    if let Ok(a) = &sent.result {
        let wait_ms = wait.as_millis() as u64;
        tracing::info!(status = a.status, wait_ms, "retrying");
    }
}

fn log_no_retry(observed: Observed, state: &CallState<'_>) {
    if let Some(wait) = decide::wait_past_deadline(observed, state) {
        tracing::info!(
            wait_ms = wait.as_millis() as u64,
            "not retrying: the wait exceeds the call's deadline or the retry policy's max total time"
        );
    }
}

/// A transport failure as the caller's error: a failed connection was not sent; anything else
/// may have been processed (and the error says whether the method was safe to repeat).
fn transport_error(
    req: &Request,
    correlation_id: String,
    e: reqwest::Error,
    observed: Observed,
    after: Duration,
) -> Error {
    let delivery = if decide::may_have_been_processed(observed) {
        Delivery::OutcomeUnknown {
            idempotent: is_idempotent(&req.method),
        }
    } else {
        Delivery::NotSent
    };
    if observed == Observed::TimedOut {
        return Error::Timeout {
            operation_id: req.operation_id,
            correlation_id,
            after,
            delivery,
        };
    }
    Error::Transport {
        operation_id: req.operation_id,
        correlation_id,
        connect: observed == Observed::ConnectFailed,
        delivery,
        source: Box::new(e),
    }
}
