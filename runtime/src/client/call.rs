//! The per-call pipeline run by [`ApiClient::execute`]: URL, credentials, limiter, attempts,
//! retries and the 401 refresh.

use super::*;
use crate::auth::token_cache::CachedToken;
use crate::body::{BodyError, read_limited};
use crate::error::{Delivery, GatewayError};
use tokio::time::Instant;

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
        let hooks =
            crate::call_hooks::CallHooks::new(&self.inner.ext, &req, &correlation_id, || {
                self.traceability().ok()
            });
        let result = self
            .run_in_span(req, correlation_id, span.clone(), &hooks)
            .instrument(span)
            .await;
        hooks.finish(&result);
        result
    }

    /// The traceability values of a call: the client's, completed or overridden by the call's.
    fn traceability(&self) -> Result<Traceability, String> {
        crate::traceability::resolve(self.inner.traceability.as_ref(), &self.options.traceability)
    }

    pub(super) fn invalid<T>(
        req: &Request,
        correlation_id: &str,
        message: String,
    ) -> Result<T, Error<Undocumented>> {
        Err(Error::InvalidRequest {
            message,
            operation_id: req.operation_id,
            correlation_id: Some(correlation_id.to_owned()),
        })
    }

    fn build_url(
        &self,
        req: &Request,
        creds: &Creds,
        correlation_id: &str,
    ) -> Result<String, Error> {
        let mut url = String::with_capacity(self.inner.api_root.len() + req.path.len() + 32);
        url.push_str(&self.inner.api_root);
        if !req.path.is_empty() && !req.path.starts_with('/') {
            url.push('/');
        }
        url.push_str(&req.path);
        let mut pairs: Vec<(&str, &str)> = req
            .query
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let traceability;
        if req.traceability {
            traceability = match self.traceability() {
                Ok(t) => t,
                Err(message) => return Self::invalid(req, correlation_id, message),
            };
            let t = &traceability;
            pairs.push(("context", &t.context));
            pairs.push(("recipient", &t.recipient));
            pairs.push(("object", &t.object));
        }
        if !req.no_auth {
            for k in &creds.api_keys {
                if k.location == ApiKeyLocation::Query {
                    pairs.push((&k.name, k.value.expose()));
                }
            }
        }
        let mut sep = if url.contains('?') { '&' } else { '?' };
        for (k, v) in pairs {
            url.push(sep);
            sep = '&';
            url.push_str(&query_component(k));
            url.push('=');
            url.push_str(&query_component(v));
        }
        Ok(url)
    }

    /// The Authorization header value (`Err` if the credential is not a valid header value)
    /// and, for OAuth, the token (its generation and value, for the 401 refresh and scrubbing).
    async fn authorization(
        &self,
        req: &Request,
        creds: &Creds,
        correlation_id: &str,
        deadline: Instant,
    ) -> Result<Option<(Result<HeaderValue, ()>, Option<CachedToken>)>, Error> {
        if req.no_auth {
            return Ok(None);
        }
        match &creds.auth {
            Auth::None => Ok(None),
            Auth::Static(_) => Ok(Some((creds.static_authorization.clone().ok_or(()), None))),
            Auth::Jwt { expires_at, .. } => {
                if let Some(exp) = expires_at {
                    if *exp <= self.inner.clock.now_utc() {
                        return Err(Error::CredentialExpired {
                            message: jwt_expired_message(*exp),
                            correlation_id: Some(correlation_id.to_owned()),
                        });
                    }
                    self.inner.setup.warn_jwt_expiry(creds);
                }
                Ok(Some((creds.static_authorization.clone().ok_or(()), None)))
            }
            Auth::Token(p) => match tokio::time::timeout_at(deadline, p.token()).await {
                Ok(Ok(t)) => Ok(Some((
                    sensitive_header(&format!("Bearer {}", t.access.expose())),
                    Some(t),
                ))),
                Ok(Err(f)) => Err(f.into_error(req.operation_id, correlation_id)),
                Err(_) => {
                    tracing::warn!(
                        token_url = p.token_url(),
                        "deadline reached while waiting for a token"
                    );
                    Err(Error::Timeout {
                        operation_id: req.operation_id,
                        correlation_id: correlation_id.to_owned(),
                        after: self.call_budget(),
                        delivery: Delivery::NotSent,
                    })
                }
            },
        }
    }

    /// The budget of a call: the per-call timeout, or the retry time plus one attempt.
    fn call_budget(&self) -> Duration {
        let policy = self.options.retry.as_ref().unwrap_or(&self.inner.retry);
        self.options
            .timeout
            .unwrap_or_else(|| policy.max_total_time.saturating_add(self.inner.timeout))
    }

    fn build_request(
        &self,
        req: &Request,
        creds: &Creds,
        url: &str,
        correlation_id: &str,
        authorization: Option<&Result<HeaderValue, ()>>,
        timeout: Duration,
    ) -> Result<reqwest::RequestBuilder, Error> {
        let mut rb = self
            .inner
            .http
            .request(req.method.clone(), url)
            .timeout(timeout);
        let bad = |what: &str| {
            Self::invalid::<reqwest::RequestBuilder>(
                req,
                correlation_id,
                format!("{what} is not a valid header value"),
            )
        };
        let Ok(cid) = HeaderValue::from_str(correlation_id) else {
            return bad("the correlation ID");
        };
        rb = rb.header(self.inner.correlation_header.clone(), cid);
        if let Some(a) = authorization {
            let Ok(v) = a else {
                return bad("the credential");
            };
            rb = rb.header(http::header::AUTHORIZATION, v.clone());
        }
        if !req.no_auth {
            for k in &creds.api_keys {
                if k.location == ApiKeyLocation::Header {
                    let Ok(name) = HeaderName::from_bytes(k.name.as_bytes()) else {
                        return bad("the API key header name");
                    };
                    let Ok(mut v) = HeaderValue::from_str(k.value.expose()) else {
                        return bad("the API key");
                    };
                    v.set_sensitive(true);
                    rb = rb.header(name, v);
                }
            }
        }
        if let Some(fc) = &self.options.france_connect_token {
            let Ok(mut v) = HeaderValue::from_str(fc.expose()) else {
                return bad("the FranceConnect token");
            };
            v.set_sensitive(true);
            rb = rb.header("X-FranceConnect-OAuth", v);
        }
        if let Some(a) = req.accept {
            rb = rb.header(http::header::ACCEPT, a);
        }
        for (name, value) in &self.options.headers {
            let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) else {
                return bad(&format!("call option header {name}"));
            };
            rb = rb.header(n, v);
        }
        for (name, value) in &req.headers {
            let Ok(v) = HeaderValue::from_str(value) else {
                return bad(&format!("header {name}"));
            };
            let Ok(n) = HeaderName::from_bytes(name.as_bytes()) else {
                return bad(&format!("header name {name}"));
            };
            rb = rb.header(n, v);
        }
        if !req.cookies.is_empty() {
            let cookie = req
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={}", query_component(v)))
                .collect::<Vec<_>>()
                .join("; ");
            let Ok(v) = HeaderValue::from_str(&cookie) else {
                return bad("cookie");
            };
            rb = rb.header(http::header::COOKIE, v);
        }
        match &req.body {
            Body::None => {}
            Body::Bytes {
                content_type,
                bytes,
            } => {
                rb = rb
                    .header(http::header::CONTENT_TYPE, content_type.as_str())
                    .body(bytes.clone());
            }
            Body::Multipart(m) => match m.to_form() {
                Ok(form) => rb = rb.multipart(form),
                Err(e) => return Self::invalid(req, correlation_id, e),
            },
        }
        Ok(rb)
    }

    async fn run_in_span(
        &self,
        req: Request,
        correlation_id: String,
        span: tracing::Span,
        hooks: &crate::call_hooks::CallHooks<'_>,
    ) -> Result<RawResponse, Error> {
        crate::audit::ensure_audit_writable(
            self.inner.ext.audit_required,
            &self.inner.ext.audit,
            req.operation_id,
            &correlation_id,
        )?;
        if let Some(e) = &req.build_error {
            return Self::invalid(&req, &correlation_id, e.clone());
        }
        let creds = self.creds();
        let url = self.build_url(&req, &creds, &correlation_id)?;
        let policy = self.options.retry.as_ref().unwrap_or(&self.inner.retry);
        let start = Instant::now();
        let deadline = start + self.call_budget().min(MAX_CALL_BUDGET);
        let retry_deadline = (start + policy.max_total_time.min(MAX_CALL_BUDGET)).min(deadline);
        let idempotent = retry::is_idempotent(&req.method);
        let mut attempt: u32 = 0;
        let mut retries: u32 = 0;
        let mut auth_retried = false;
        loop {
            attempt += 1;
            span.record("attempt", attempt);
            let permit = hooks.admit(&req, &correlation_id).await?;
            if let Err(when) = self.inner.limiter.acquire(deadline).await {
                return Err(self.held_back(&req, &correlation_id, when));
            }
            let authorization = self
                .authorization(&req, &creds, &correlation_id, deadline)
                .await?;
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::Timeout {
                    operation_id: req.operation_id,
                    correlation_id,
                    after: self.call_budget(),
                    delivery: Delivery::NotSent,
                });
            }
            let timeout = self.inner.timeout.min(deadline - now);
            let rb = self.build_request(
                &req,
                &creds,
                &url,
                &correlation_id,
                authorization.as_ref().map(|(s, _)| s),
                timeout,
            )?;
            tracing::debug!(attempt, "sending");
            let result = match rb.send().await {
                Ok(mut resp) => {
                    let status = resp.status().as_u16();
                    let headers = std::mem::take(resp.headers_mut());
                    match read_limited(resp, self.inner.max_response_size).await {
                        Ok(b) => Ok((status, headers, b)),
                        Err(BodyError::Transport(e)) => Err(e),
                        Err(BodyError::TooLarge) => {
                            tracing::warn!(
                                status,
                                limit = self.inner.max_response_size,
                                "response body too large"
                            );
                            return Err(Error::ResponseTooLarge {
                                operation_id: req.operation_id,
                                correlation_id,
                                limit: self.inner.max_response_size,
                                token_endpoint: false,
                            });
                        }
                    }
                }
                Err(e) => Err(e),
            };
            permit.finish(result.as_ref().ok().map(|r| r.0));
            let (status, headers, body) = match result {
                Ok(r) => r,
                Err(e) => {
                    let e = e.without_url();
                    let outcome = if e.is_connect() {
                        Outcome::ConnectError
                    } else if e.is_timeout() {
                        Outcome::Timeout
                    } else {
                        Outcome::TransportError
                    };
                    let delivery = if outcome == Outcome::ConnectError {
                        Delivery::NotSent
                    } else {
                        Delivery::OutcomeUnknown { idempotent }
                    };
                    tracing::warn!(attempt, error = %e, "transport failure");
                    let action = retry::classify(policy, &req.method, outcome, None);
                    if let Some(wait) =
                        self.retry_wait(policy, action, retries, retry_deadline, attempt)
                    {
                        retries += 1;
                        tokio::time::sleep(wait).await;
                        continue;
                    }
                    return Err(if outcome == Outcome::Timeout {
                        Error::Timeout {
                            operation_id: req.operation_id,
                            correlation_id,
                            after: timeout,
                            delivery,
                        }
                    } else {
                        Error::Transport {
                            operation_id: req.operation_id,
                            correlation_id,
                            connect: outcome == Outcome::ConnectError,
                            delivery,
                            source: Box::new(e),
                        }
                    });
                }
            };
            span.record("status", status);
            let retry_after = retry::parse_retry_after(&headers);
            if status == 429 {
                let pause = retry_after.unwrap_or(self.inner.pause_after_429);
                tracing::warn!(
                    retry_after_s = pause.as_secs_f64(),
                    "HTTP 429: holding every call of this client"
                );
                self.inner.limiter.pause_until(Instant::now() + pause);
            } else if let Some(window) = crate::rate_limit::exhausted_window(&headers) {
                tracing::info!(
                    window_s = window.as_secs_f64(),
                    "x-rate-limit: no call left in the window; holding every call of this client"
                );
                self.inner.limiter.pause_until(Instant::now() + window);
            }
            if (400..500).contains(&status) && !auth_retried {
                if let (Auth::Token(p), Some((_, Some(token)))) = (&creds.auth, &authorization) {
                    if token_rejected(status, &headers, &body) {
                        tracing::info!(
                            status,
                            "access token rejected: refreshing and retrying once"
                        );
                        auth_retried = true;
                        p.invalidate(token.generation);
                        continue;
                    }
                }
            }
            let action = retry::classify(policy, &req.method, Outcome::Status(status), retry_after);
            if action != Action::Stop {
                if let Some(wait) =
                    self.retry_wait(policy, action, retries, retry_deadline, attempt)
                {
                    tracing::info!(status, wait_ms = wait.as_millis() as u64, "retrying");
                    retries += 1;
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            if status >= 400 {
                tracing::info!(status, "error response");
            } else {
                tracing::debug!(status, "response");
            }
            let redactor = if status >= 300 {
                let mut extra = Vec::new();
                if let Some((_, Some(t))) = &authorization {
                    extra.push(t.access.clone());
                    extra.extend(t.refresh.clone());
                }
                extra.extend(self.options.france_connect_token.clone());
                Redactor::new(Some(Arc::clone(&creds.scrubber)), extra)
            } else {
                Redactor::default()
            };
            return Ok(RawResponse {
                status,
                gateway_correlation_id: gateway_correlation_id(
                    &headers,
                    &self.inner.correlation_header,
                ),
                headers,
                body,
                operation_id: req.operation_id,
                correlation_id,
                retry_after,
                redactor,
            });
        }
    }

    /// The call cannot get a slot before its deadline (429 pause, `x-rate-limit` or the
    /// client-side limit): [`Error::RateLimited`] at once, with when to come back.
    fn held_back(&self, req: &Request, correlation_id: &str, when: Instant) -> Error {
        let wait = when.saturating_duration_since(Instant::now());
        tracing::warn!(
            wait_s = wait.as_secs_f64(),
            "not sent: the client is held back past this call's deadline"
        );
        Error::RateLimited(Box::new(GatewayError {
            status: 429,
            operation_id: req.operation_id,
            correlation_id: correlation_id.to_owned(),
            gateway_correlation_id: None,
            code: None,
            message: Some(format!(
                "not sent: this client is held back for {:.1} s (a previous 429 or the client-side rate limit), past this call's deadline",
                wait.as_secs_f64()
            )),
            timestamp: None,
            advice: Some(
                "retry after the indicated time, or give the call a longer timeout".into(),
            ),
            details: Vec::new(),
            dialect: crate::error::Dialect::Text,
            retry_after: Some(wait),
            content_type: None,
            raw_body: String::new(),
        }))
    }

    /// The wait before the next retry, or `None` if the policy forbids one.
    fn retry_wait(
        &self,
        policy: &RetryPolicy,
        action: Action,
        retries: u32,
        deadline: Instant,
        attempt: u32,
    ) -> Option<Duration> {
        let wait = match action {
            Action::Stop => return None,
            Action::RetryAfter(d) => d,
            Action::Backoff => policy.backoff_for(retries + 1),
        };
        if attempt >= policy.max_attempts {
            return None;
        }
        if Instant::now() + wait > deadline {
            tracing::info!(
                wait_ms = wait.as_millis() as u64,
                "not retrying: the wait exceeds the call's deadline or the retry policy's max total time"
            );
            return None;
        }
        Some(wait)
    }
}

/// Upper bound of one call's budget (a week): keeps `Instant` arithmetic far from overflow
/// whatever timeout or policy the caller sets.
const MAX_CALL_BUDGET: Duration = Duration::from_secs(7 * 24 * 3600);

/// Whether an error response says the access token itself is bad (so a new one may help):
/// `WWW-Authenticate: Bearer error="invalid_token"` on any 4xx (the Douane uses 403), or on a
/// 401 the DGFiP codes 900901/900906, or a 401 that gives no reason at all.
pub(super) fn token_rejected(status: u16, headers: &http::HeaderMap, body: &[u8]) -> bool {
    if let Some((error, _)) = parse_www_authenticate(headers) {
        return error == "invalid_token";
    }
    if status != 401 {
        return false;
    }
    let d = crate::error::decode::decode(401, headers, body);
    match d.code.as_deref() {
        Some(c) => matches!(c.trim(), "900901" | "900906" | "invalid_token"),
        None => true,
    }
}
/// A credential as a header value marked sensitive (hidden from hyper's debug output).
pub(super) fn sensitive_header(value: &str) -> Result<HeaderValue, ()> {
    let mut v = HeaderValue::from_str(value).map_err(drop)?;
    v.set_sensitive(true);
    Ok(v)
}
