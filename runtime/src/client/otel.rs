//! OpenTelemetry for a client (feature `otel`): a span per call and one per attempt, after
//! the HTTP client semantic conventions, and the metrics of [`super::otel_metrics`].
//!
//! Built on the `opentelemetry` API crate, not on `tracing`: the attribute names are the
//! conventions' own (`http.request.method`, `url.template`…), the caller's SDK decides where
//! they go, and the existing `tracing` output is left as it is.
//!
//! What is recorded is chosen, never copied: the path *template* (the request knows it, as
//! the audit trail does), never the path sent, a query, a header or a body; the account as a
//! hash; the gateway's request ID and error code cut short, with the
//! client's secrets scrubbed out.

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use opentelemetry::global::{self, BoxedSpan, BoxedTracer, ObjectSafeTracerProvider};
use opentelemetry::metrics::{Meter, MeterProvider};
use opentelemetry::trace::{Span as _, SpanKind, Status, TraceContextExt, Tracer as _};
use opentelemetry::trace::{SpanContext, TracerProvider as _};
use opentelemetry::{Context, InstrumentationScope, KeyValue, StringValue, Value};

use http::{HeaderMap, HeaderName};

use crate::auth::Auth;
use crate::core::sync::LockExt;
use crate::core::time::Clock;
use crate::error::Error;
use crate::fleet::AccountId;
use crate::wire::request::Request;
use crate::wire::response::RawResponse;

use super::credentials::Creds;
use super::hooks::CallHooks;
use super::otel_attrs::{
    account_hash, error_type, gateway_error, method_label, request_id, status_class,
    transport_error_type,
};
use super::otel_metrics::Metrics;

/// Where a client's OpenTelemetry spans and metrics go: give it to
/// [`ApiClientBuilder::telemetry`]. Nothing is recorded without a provider.
///
/// ```
/// use gouvgen_runtime::Telemetry;
/// // The providers installed with `opentelemetry::global::set_*_provider`.
/// let telemetry = Telemetry::global();
/// # let _ = telemetry;
/// ```
#[derive(Clone, Default)]
pub struct Telemetry {
    tracer: Option<Arc<BoxedTracer>>,
    meter: Option<Meter>,
    credential_expires_at: Option<DateTime<Utc>>,
}

impl fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Telemetry")
            .field("traces", &self.tracer.is_some())
            .field("metrics", &self.meter.is_some())
            .field("credential_expires_at", &self.credential_expires_at)
            .finish()
    }
}

impl Telemetry {
    /// No provider yet (add them with the methods below).
    pub fn new() -> Self {
        Telemetry::default()
    }

    /// The global tracer and meter providers, as installed when this is called.
    pub fn global() -> Self {
        Telemetry {
            tracer: Some(Arc::new(
                global::tracer_provider().tracer_with_scope(scope()),
            )),
            meter: Some(global::meter_provider().meter_with_scope(scope())),
            credential_expires_at: None,
        }
    }

    /// Spans go to this provider (e.g. an `opentelemetry_sdk` `SdkTracerProvider`).
    pub fn tracer_provider<P: ObjectSafeTracerProvider + ?Sized>(mut self, provider: &P) -> Self {
        self.tracer = Some(Arc::new(BoxedTracer::new(provider.boxed_tracer(scope()))));
        self
    }

    /// Metrics go to this provider (e.g. an `opentelemetry_sdk` `SdkMeterProvider`).
    pub fn meter_provider<P: MeterProvider + ?Sized>(mut self, provider: &P) -> Self {
        self.meter = Some(provider.meter_with_scope(scope()));
        self
    }

    /// When the client secret (or other credential the runtime cannot read) expires: the
    /// `gouvgen.client.credential.time_to_expiry` gauge then counts down to it. A JWT's
    /// `exp` is read without this.
    pub fn credential_expires_at(mut self, at: DateTime<Utc>) -> Self {
        self.credential_expires_at = Some(at);
        self
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder("gouvgen-runtime")
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}

/// The builder's telemetry settings.
#[derive(Debug, Default)]
pub(crate) struct TelemetrySettings {
    pub(super) telemetry: Option<Telemetry>,
    pub(super) propagate: bool,
}

impl TelemetrySettings {
    /// What a client records to (nothing: no per-call cost beyond one branch).
    pub(crate) fn finish(self, api_root: &str, account: &AccountId) -> ClientTelemetry {
        if self.telemetry.is_none() && !self.propagate {
            return ClientTelemetry(None);
        }
        let t = self.telemetry.unwrap_or_default();
        let (address, port) = server_of(api_root);
        let account = arc_value(account_hash(account));
        let address = arc_value(address);
        let server = vec![
            KeyValue::new("server.address", address.clone()),
            KeyValue::new("server.port", port),
        ];
        ClientTelemetry(Some(Arc::new(Parts {
            tracer: t.tracer,
            metrics: t.meter.as_ref().map(Metrics::new),
            propagate: self.propagate,
            account_attrs: vec![
                KeyValue::new("gouvgen.account", account.clone()),
                KeyValue::new("server.address", address),
            ],
            account,
            server,
            credential_expires_at: t.credential_expires_at,
            tokens_seen: Mutex::new((0, 0)),
            expiry_minute: AtomicI64::new(i64::MIN),
        })))
    }
}

fn arc_value(s: String) -> Value {
    Value::String(StringValue::from(Arc::<str>::from(s)))
}

/// `server.address` and `server.port` of the API root.
fn server_of(api_root: &str) -> (String, i64) {
    match reqwest::Url::parse(api_root) {
        Ok(u) => (
            u.host_str().unwrap_or("").to_owned(),
            i64::from(u.port_or_known_default().unwrap_or(0)),
        ),
        Err(_) => (String::new(), 0),
    }
}

/// A client's telemetry (`None`: not configured).
pub(crate) struct ClientTelemetry(Option<Arc<Parts>>);

impl fmt::Debug for ClientTelemetry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() { "on" } else { "off" })
    }
}

pub(super) struct Parts {
    tracer: Option<Arc<BoxedTracer>>,
    metrics: Option<Metrics>,
    propagate: bool,
    account: Value,
    /// `gouvgen.account` and `server.address`: the attributes of account-level metrics.
    account_attrs: Vec<KeyValue>,
    /// `server.address` and `server.port`.
    server: Vec<KeyValue>,
    credential_expires_at: Option<DateTime<Utc>>,
    /// The token provider last seen (its address) and its request count then: each token
    /// fetch is counted once, by whichever call sees it first.
    tokens_seen: Mutex<(usize, u64)>,
    /// The minute the expiry gauge was last recorded in (unix minutes).
    expiry_minute: AtomicI64,
}

impl Parts {
    /// Counts the token endpoint requests made since the last look.
    fn count_token_fetches(&self, creds: &Creds) -> u64 {
        let Auth::Token(p) = &creds.auth else {
            return 0;
        };
        let (who, now) = (Arc::as_ptr(p) as usize, p.requests());
        let mut seen = self.tokens_seen.lock_unpoisoned();
        let before = if seen.0 == who { seen.1 } else { 0 };
        *seen = (who, now.max(before));
        now.saturating_sub(before)
    }
}

impl ClientTelemetry {
    /// Starts a call's telemetry: its span, child of the caller's current OpenTelemetry context.
    pub(crate) fn call<'a>(
        &'a self,
        req: &Request,
        correlation_id: &str,
        hooks: &'a CallHooks<'a>,
        env: (impl FnOnce() -> Arc<Creds>, &'a dyn Clock, &'a HeaderName),
    ) -> CallTelemetry<'a> {
        let Some(parts) = &self.0 else {
            return CallTelemetry(None);
        };
        let method = method_label(&req.method);
        let mut common = vec![KeyValue::new("http.request.method", method)];
        if let Some(t) = req.path_template {
            common.push(KeyValue::new("url.template", t));
        }
        common.extend(parts.server.iter().cloned());
        if req.path_template.is_none() {
            // The template names the operation; without one, the operation id does.
            common.push(KeyValue::new("gouvgen.operation_id", req.operation_id));
        }
        let attempt_name: Cow<'static, str> = match req.path_template {
            Some(t) => format!("{method} {t}").into(),
            None => method.into(),
        };
        let parent = Context::current();
        let cx = match &parts.tracer {
            Some(t) => {
                let mut attrs = common.clone();
                if req.path_template.is_some() {
                    attrs.push(KeyValue::new("gouvgen.operation_id", req.operation_id));
                }
                attrs.push(KeyValue::new(
                    "gouvgen.correlation_id",
                    correlation_id.to_owned(),
                ));
                attrs.push(KeyValue::new("gouvgen.account", parts.account.clone()));
                let span = t
                    .span_builder(req.operation_id)
                    .with_kind(SpanKind::Internal)
                    .with_attributes(attrs)
                    .start_with_context(t.as_ref(), &parent);
                parent.with_span(span)
            }
            None => parent,
        };
        CallTelemetry(Some(CallState {
            parts,
            creds: (env.0)(),
            clock: env.1,
            sent_header: env.2,
            hooks,
            cx,
            pending: Mutex::new(None),
            common,
            attempt_name,
            operation_id: req.operation_id,
            attempts: AtomicU32::new(0),
            started: Instant::now(),
        }))
    }
}

/// One call's telemetry (`None`: not configured).
pub(crate) struct CallTelemetry<'a>(Option<CallState<'a>>);

struct CallState<'a> {
    parts: &'a Parts,
    /// The credentials in force when the call started (for scrubbing and token counts).
    creds: Arc<Creds>,
    clock: &'a dyn Clock,
    /// The correlation header sent (the gateway may echo it as its request ID).
    sent_header: &'a HeaderName,
    hooks: &'a CallHooks<'a>,
    /// The caller's context with the call span (the caller's context alone without a tracer).
    cx: Context,
    /// The span of an attempt that ended the call early (refused, no token, too large): the
    /// call's error closes it.
    pending: Mutex<Option<BoxedSpan>>,
    /// `http.request.method`, `url.template` (or `gouvgen.operation_id` without one),
    /// `server.address`, `server.port`: on attempt spans and `http.client.request.duration`.
    common: Vec<KeyValue>,
    attempt_name: Cow<'static, str>,
    operation_id: &'static str,
    attempts: AtomicU32,
    started: Instant,
}

impl CallState<'_> {
    fn traced(&self) -> bool {
        self.parts.tracer.is_some()
    }

    fn event(&self, name: &'static str, attrs: Vec<KeyValue>) {
        if self.traced() {
            self.cx.span().add_event(name, attrs);
        }
    }
}

impl CallTelemetry<'_> {
    /// Starts an attempt's span (`http.request.resend_count` from the second one).
    pub(crate) fn attempt(&self, attempt: u32) -> AttemptTelemetry<'_> {
        let Some(c) = &self.0 else {
            return AttemptTelemetry(None);
        };
        c.attempts.fetch_add(1, Ordering::Relaxed);
        let span = c.parts.tracer.as_ref().map(|t| {
            let mut attrs = c.common.clone();
            if attempt > 1 {
                attrs.push(KeyValue::new(
                    "http.request.resend_count",
                    i64::from(attempt - 1),
                ));
            }
            t.span_builder(c.attempt_name.clone())
                .with_kind(SpanKind::Client)
                .with_attributes(attrs)
                .start_with_context(t.as_ref(), &c.cx)
        });
        let now = Instant::now();
        AttemptTelemetry(Some(AttemptState {
            call: c,
            span,
            mark: now,
            breaker: c.hooks.breaker_state(),
            answered: false,
        }))
    }

    /// Every call of the account is held (`reason`: `429`, `x-rate-limit`, `ratelimit`).
    pub(crate) fn paused(&self, reason: &'static str, pause: Duration) {
        let Some(c) = &self.0 else {
            return;
        };
        c.event(
            "gouvgen.pause",
            vec![
                KeyValue::new("gouvgen.pause.reason", reason),
                KeyValue::new("gouvgen.wait_s", pause.as_secs_f64()),
            ],
        );
        if let Some(m) = &c.parts.metrics {
            let mut attrs = c.parts.account_attrs.clone();
            attrs.push(KeyValue::new("gouvgen.pause.reason", reason));
            m.pauses.add(1, &attrs);
        }
    }

    /// The policy waits `wait` before the next attempt.
    pub(crate) fn retrying(&self, wait: Duration) {
        if let Some(c) = &self.0 {
            let attrs = vec![KeyValue::new("gouvgen.wait_s", wait.as_secs_f64())];
            c.event("gouvgen.retry", attrs);
        }
    }

    /// The gateway rejected the token: the next attempt fetches a new one.
    pub(crate) fn token_rejected(&self) {
        if let Some(c) = &self.0 {
            c.event("gouvgen.token.rejected", Vec::new());
        }
    }

    /// Ends the call: its span (and an attempt span its error left open), its metrics.
    pub(crate) fn finish(self, result: &Result<RawResponse, Error>) {
        let Some(c) = self.0 else {
            return;
        };
        let (status, outcome, error): (_, _, Option<Cow<'static, str>>) = match result {
            Ok(r) if r.status >= 400 => (
                Some(r.status),
                "error_response",
                Some(r.status.to_string().into()),
            ),
            Ok(r) => (Some(r.status), "success", None),
            // Every answer of the API is `Ok` here (generated code makes errors of them later):
            // an error's status is a token endpoint's or the runtime's own, not the API's.
            Err(e) => (None, error_type(e), Some(error_type(e).into())),
        };
        if let Some(mut span) = c.pending.lock_unpoisoned().take() {
            if let Some(e) = &error {
                span.set_attribute(KeyValue::new("error.type", e.clone()));
                span.set_status(Status::error(e.clone()));
            }
            span.end();
        }
        if c.traced() {
            end_call_span(&c, result, status, error.clone());
        }
        if let Some(m) = &c.parts.metrics {
            record_call(&c, m, status, outcome);
        }
    }
}

fn end_call_span(
    c: &CallState<'_>,
    result: &Result<RawResponse, Error>,
    status: Option<u16>,
    error: Option<Cow<'static, str>>,
) {
    let span = c.cx.span();
    if !span.is_recording() {
        return span.end();
    }
    let attempts = c.attempts.load(Ordering::Relaxed);
    span.set_attribute(KeyValue::new("gouvgen.attempts", i64::from(attempts)));
    if let Some(s) = status {
        span.set_attribute(KeyValue::new("http.response.status_code", i64::from(s)));
    }
    if let Err(e) = result
        && let Some(g) = e.gateway_error()
    {
        let attrs = gateway_error(&c.creds.scrubber, g.code.as_deref(), g.provider.as_deref());
        span.set_attributes(attrs);
    }
    if let Some(e) = error {
        span.set_attribute(KeyValue::new("error.type", e.clone()));
        span.set_status(Status::error(e));
    }
    span.end();
}

fn record_call(c: &CallState<'_>, m: &Metrics, status: Option<u16>, outcome: &'static str) {
    // One histogram for both: its count is the calls by outcome.
    let mut attrs = vec![
        KeyValue::new("gouvgen.operation_id", c.operation_id),
        KeyValue::new("gouvgen.outcome", outcome),
        KeyValue::new("http.response.status_class", status_class(status)),
    ];
    attrs.extend(c.parts.account_attrs.iter().cloned());
    m.call_duration
        .record(c.started.elapsed().as_secs_f64(), &attrs);
    // Token requests of an attempt that ended the call (refused, timed out) counted here.
    let fetched = c.parts.count_token_fetches(&c.creds);
    if fetched > 0 {
        m.token_fetches.add(fetched, &c.parts.account_attrs);
    }
    let now = c.clock.now_utc();
    // A gauge of days: once a minute per client is plenty.
    let minute = now.timestamp().div_euclid(60);
    if c.parts.expiry_minute.swap(minute, Ordering::Relaxed) == minute {
        return;
    }
    let days = |exp: DateTime<Utc>| (exp - now).num_seconds() as f64 / 86_400.0;
    for (kind, exp) in [
        ("jwt", jwt_expiry(&c.creds)),
        ("client_secret", c.parts.credential_expires_at),
    ] {
        if let Some(exp) = exp {
            let mut attrs = c.parts.account_attrs.clone();
            attrs.push(KeyValue::new("gouvgen.credential.kind", kind));
            m.credential_expiry.record(days(exp), &attrs);
        }
    }
}

/// When the JWT in force expires, if it has an `exp`.
fn jwt_expiry(creds: &Creds) -> Option<DateTime<Utc>> {
    match &creds.auth {
        Auth::Jwt { expires_at, .. } => *expires_at,
        _ => None,
    }
}

/// One attempt's telemetry (`None`: not configured).
pub(crate) struct AttemptTelemetry<'c>(Option<AttemptState<'c>>);

struct AttemptState<'c> {
    call: &'c CallState<'c>,
    span: Option<BoxedSpan>,
    /// The start of the step now running (limiter slot, token, then the HTTP request).
    mark: Instant,
    /// The host breaker's state before the attempt.
    breaker: Option<&'static str>,
    answered: bool,
}

impl AttemptState<'_> {
    /// Adds an event for a step (if it took at least `min`), and starts the next step.
    fn step(&mut self, name: &'static str, min: Duration) {
        let now = Instant::now();
        let took = now - self.mark;
        self.mark = now;
        if let Some(span) = &mut self.span
            && took >= min
        {
            let attrs = vec![KeyValue::new("gouvgen.wait_s", took.as_secs_f64())];
            span.add_event(name, attrs);
        }
    }
}

impl AttemptTelemetry<'_> {
    /// The breaker admitted the attempt: waiting for a limiter slot starts.
    pub(crate) fn admitted(&mut self) {
        if let Some(a) = &mut self.0 {
            a.mark = Instant::now();
        }
    }

    /// A limiter slot was given (an event if it took a while): the credential comes next.
    pub(crate) fn slot_acquired(&mut self) {
        if let Some(a) = &mut self.0 {
            a.step("gouvgen.limiter.wait", Duration::from_millis(1));
        }
    }

    /// The credential is ready: an event and a count for each token fetched meanwhile.
    pub(crate) fn authorized(&mut self) {
        let Some(a) = &mut self.0 else {
            return;
        };
        let fetched = a.call.parts.count_token_fetches(&a.call.creds);
        if fetched == 0 {
            a.mark = Instant::now();
            return;
        }
        a.step("gouvgen.token.fetch", Duration::ZERO);
        if let Some(m) = &a.call.parts.metrics {
            m.token_fetches.add(fetched, &a.call.parts.account_attrs);
        }
    }

    /// Adds `traceparent`/`tracestate` when the client propagates trace context.
    pub(crate) fn inject(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let Some(a) = &self.0 else {
            return rb;
        };
        if !a.call.parts.propagate {
            return rb;
        }
        let sc: SpanContext = match &a.span {
            Some(s) => s.span_context().clone(),
            None => a.call.cx.span().span_context().clone(),
        };
        if !sc.is_valid() {
            return rb;
        }
        let flags = sc.trace_flags().to_u8();
        let parent = format!("00-{}-{}-{flags:02x}", sc.trace_id(), sc.span_id());
        let state = sc.trace_state().header();
        let rb = rb.header("traceparent", parent);
        if state.is_empty() {
            rb
        } else {
            rb.header("tracestate", state)
        }
    }

    /// The attempt's answer (or transport failure): ends its span, records its duration, the
    /// quota the gateway announced, a 429, a breaker state change.
    pub(crate) fn answered(&mut self, result: Result<(u16, &HeaderMap, &[u8]), &reqwest::Error>) {
        let Some(a) = &mut self.0 else {
            return;
        };
        a.answered = true;
        let c = a.call;
        let mut attrs = c.common.clone();
        let error: Option<Cow<'static, str>> = match result {
            Ok((status, ..)) => {
                let code = KeyValue::new("http.response.status_code", i64::from(status));
                attrs.push(code);
                (status >= 400).then(|| status.to_string().into())
            }
            Err(e) => Some(transport_error_type(e).into()),
        };
        if let Some(e) = &error {
            attrs.push(KeyValue::new("error.type", e.clone()));
        }
        if let Some(m) = &c.parts.metrics {
            record_attempt(a, m, result, &attrs);
        }
        // An unsampled span records nothing: skip reading the answer for it.
        if let Some(mut span) = a.span.take().filter(|s| s.is_recording()) {
            span.set_attributes(attrs);
            if let Ok((status, headers, body)) = result {
                let scrubber = &c.creds.scrubber;
                if let Some(id) = request_id(scrubber, c.sent_header, headers) {
                    c.cx.span().set_attribute(id.clone());
                    span.set_attribute(id);
                }
                if status >= 400 {
                    let d = crate::error::decode::decode(status, headers, body);
                    let attrs = gateway_error(scrubber, d.code.as_deref(), d.provider.as_deref());
                    span.set_attributes(attrs);
                }
            }
            if let Some(e) = error {
                span.set_status(Status::error(e));
            }
            span.end();
        }
    }
}

fn record_attempt(
    a: &AttemptState<'_>,
    m: &Metrics,
    result: Result<(u16, &HeaderMap, &[u8]), &reqwest::Error>,
    attrs: &[KeyValue],
) {
    let c = a.call;
    // The HTTP request alone: `mark` is when the credential was ready.
    m.request_duration
        .record(a.mark.elapsed().as_secs_f64(), attrs);
    if let Ok((status, headers, _)) = result {
        if status == 429 {
            let mut attrs = c.parts.account_attrs.clone();
            attrs.push(KeyValue::new("gouvgen.operation_id", c.operation_id));
            m.rate_limited.add(1, &attrs);
        }
        m.record_quota(headers, || {
            let mut base = c.parts.account_attrs.clone();
            base.push(KeyValue::new("gouvgen.operation_id", c.operation_id));
            base
        });
    }
    let after = c.hooks.breaker_state();
    if let Some(state) = after.filter(|s| Some(*s) != a.breaker) {
        let mut attrs = c.parts.server.clone();
        attrs.push(KeyValue::new("gouvgen.breaker.state", state));
        m.breaker_transitions.add(1, &attrs);
    }
}

impl Drop for AttemptTelemetry<'_> {
    /// An attempt that ends the call before an answer (refused, no token, too large) leaves
    /// its span to the call, which closes it with the call's error.
    fn drop(&mut self) {
        if let Some(a) = &mut self.0
            && let (false, Some(span)) = (a.answered, a.span.take())
        {
            *a.call.pending.lock_unpoisoned() = Some(span);
        }
    }
}
