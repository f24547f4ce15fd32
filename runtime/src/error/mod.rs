//! The one error type of every generated client: [`Error<E>`].
//!
//! Every variant that follows a call carries that call's correlation ID, because gateway support
//! desks (DGFiP in particular) ask for it. Display messages are meant to be pasted in a ticket:
//! status, gateway code, message, correlation ID and what to do.

pub mod catalogue;
mod debug;
pub(crate) mod decode;
mod not_recorded;

use std::fmt;
use std::time::Duration;

pub use decode::{Dialect, MAX_RETRY_IN, RAW_BODY_LIMIT};
pub use not_recorded::NotRecorded;

/// The error type of operations without documented error bodies. It has no values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Undocumented {}

impl fmt::Display for Undocumented {
    fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {}
    }
}

impl std::error::Error for Undocumented {}

/// An HTTP error response from a gateway or API, decoded as far as possible.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct GatewayError {
    /// HTTP status.
    pub status: u16,
    /// The operation that was called.
    pub operation_id: &'static str,
    /// The `X-Correlation-ID` (or configured header) the runtime sent.
    pub correlation_id: String,
    /// The correlation/request ID the gateway returned, if any (`x-correlation-id`, ...).
    pub gateway_correlation_id: Option<String>,
    /// Gateway or API error code (DGFiP `erreur.code`, OAuth `error`, `errors[0].code`, ...).
    pub code: Option<String>,
    /// Human-readable message from the body.
    pub message: Option<String>,
    /// Timestamp from the body (DGFiP `horodatage`).
    pub timestamp: Option<String>,
    /// What the caller should do (from the DGFiP catalogue, RFC 6750 codes or the status).
    pub advice: Option<String>,
    /// Further entries (`errors[]`, `messages[]`).
    pub details: Vec<String>,
    /// Which error format was recognised.
    pub dialect: Dialect,
    /// `Retry-After`, when the response had one.
    pub retry_after: Option<Duration>,
    /// The provider behind the gateway that answered (API Entreprise / Particulier
    /// `meta.provider`: `CNAV`, `INSEE`…).
    pub provider: Option<String>,
    /// How long the provider asks to wait before asking again (API Entreprise / Particulier
    /// `meta.retry_in`, at most [`MAX_RETRY_IN`]): it can be days.
    pub retry_in: Option<Duration>,
    /// Response `Content-Type`.
    pub content_type: Option<String>,
    /// The raw body as text, truncated to [`RAW_BODY_LIMIT`] bytes.
    pub raw_body: String,
    /// The typed body of a documented 429, read by [`Error::rate_limited_body`].
    pub(crate) typed_body: Option<TypedBody>,
}

/// A documented body kept in a [`GatewayError`], which is not generic over it: the typed body
/// of a documented 429, which stays [`Error::RateLimited`] so that every 429 matches one
/// variant. `Debug` prints no value (the body may hold personal data).
#[derive(Clone)]
pub(crate) struct TypedBody(pub(crate) std::sync::Arc<dyn std::any::Any + Send + Sync>);

impl fmt::Debug for TypedBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TypedBody(..)")
    }
}

impl GatewayError {
    /// An error the runtime states itself, with no response body behind it: `message` and
    /// `advice`, every other optional field empty.
    pub(crate) fn stated(
        status: u16,
        operation_id: &'static str,
        correlation_id: &str,
        message: String,
        advice: &str,
    ) -> Self {
        GatewayError {
            status,
            operation_id,
            correlation_id: correlation_id.to_owned(),
            gateway_correlation_id: None,
            code: None,
            message: Some(message),
            timestamp: None,
            advice: Some(advice.to_owned()),
            details: Vec::new(),
            dialect: Dialect::Text,
            retry_after: None,
            provider: None,
            retry_in: None,
            content_type: None,
            raw_body: String::new(),
            typed_body: None,
        }
    }
}

impl fmt::Display for GatewayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(code) = &self.code {
            write!(f, ", code {code}")?;
        }
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        if let Some(t) = &self.timestamp {
            write!(f, " (at {t})")?;
        }
        write!(
            f,
            " [operation {}, correlation ID {}",
            self.operation_id, self.correlation_id
        )?;
        if let Some(g) = &self.gateway_correlation_id
            && g != &self.correlation_id
        {
            write!(f, ", gateway ID {g}")?;
        }
        f.write_str("]")?;
        if let Some(r) = self.retry_after {
            write!(f, "; retry after {} s", r.as_secs_f64().ceil())?;
        }
        if let Some(r) = self.retry_in {
            let provider = self.provider.as_deref().unwrap_or("the provider");
            write!(
                f,
                "; {provider} asks to retry in {} s",
                r.as_secs_f64().ceil()
            )?;
        }
        if let Some(a) = &self.advice {
            write!(f, " — {a}")?;
        }
        if !self.details.is_empty() {
            write!(f, " — details: {}", self.details.join("; "))?;
        }
        Ok(())
    }
}

/// A response body that could not be decoded.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DecodeFailure {
    /// HTTP status.
    pub status: u16,
    /// Operation id.
    pub operation_id: &'static str,
    /// Correlation ID of the call.
    pub correlation_id: String,
    /// Gateway correlation ID, if any.
    pub gateway_correlation_id: Option<String>,
    /// Response `Content-Type`.
    pub content_type: Option<String>,
    /// Why decoding failed.
    pub reason: String,
    /// Raw body, truncated to [`RAW_BODY_LIMIT`] bytes.
    pub raw_body: String,
}

impl fmt::Display for DecodeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "HTTP {} response of {} does not decode ({}; content type {}, {} bytes kept in `raw_body`) [correlation ID {}]",
            self.status,
            self.operation_id,
            self.reason,
            self.content_type.as_deref().unwrap_or("none"),
            self.raw_body.len(),
            self.correlation_id,
        )
    }
}

/// RFC 6749 §5.2 error codes returned by token endpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OAuthErrorCode {
    /// `invalid_request`
    InvalidRequest,
    /// `invalid_client`
    InvalidClient,
    /// `invalid_grant`
    InvalidGrant,
    /// `unauthorized_client`
    UnauthorizedClient,
    /// `unsupported_grant_type`
    UnsupportedGrantType,
    /// `invalid_scope`
    InvalidScope,
    /// Another code.
    Other(String),
    /// The endpoint refused without an OAuth error body.
    Unspecified,
}

impl OAuthErrorCode {
    /// Parses an RFC 6749 error code.
    pub fn parse(code: &str) -> Self {
        match code {
            "invalid_request" => Self::InvalidRequest,
            "invalid_client" => Self::InvalidClient,
            "invalid_grant" => Self::InvalidGrant,
            "unauthorized_client" => Self::UnauthorizedClient,
            "unsupported_grant_type" => Self::UnsupportedGrantType,
            "invalid_scope" => Self::InvalidScope,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The wire code.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::Other(s) => s,
            Self::Unspecified => "unspecified",
        }
    }
}

/// A token endpoint refused to issue a token. Never retried: the credentials must change.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct TokenRefusal {
    /// HTTP status of the token endpoint.
    pub status: u16,
    /// RFC 6749 error code.
    pub error: OAuthErrorCode,
    /// `error_description`, if any.
    pub description: Option<String>,
    /// Which credential is wrong, in plain words.
    pub advice: String,
    /// The token URL (no secrets in it).
    pub token_url: String,
    /// The correlation ID of the API call that needed the token, if any.
    pub correlation_id: Option<String>,
    /// The correlation ID the token endpoint returned, if any.
    pub gateway_correlation_id: Option<String>,
}

impl fmt::Display for TokenRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "token request refused by {} (HTTP {}, {}",
            self.token_url,
            self.status,
            self.error.as_str()
        )?;
        if let Some(d) = &self.description {
            write!(f, ": {d}")?;
        }
        write!(f, "): {}", self.advice)?;
        if let Some(c) = &self.correlation_id {
            write!(f, " [correlation ID {c}]")?;
        }
        Ok(())
    }
}

/// Whether a request that failed without a response may have reached the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// Nothing was sent: connection refused or timed out, or the call ended while waiting for
    /// the limiter or a token. Safe to send again.
    NotSent,
    /// The request was sent (in part or whole) and no complete response came back: the server
    /// may have processed it. `idempotent` tells whether repeating it is harmless.
    OutcomeUnknown {
        /// Whether the method is idempotent (RFC 9110 §9.2.2).
        idempotent: bool,
    },
}

const MAYBE_PROCESSED: &str = " — the request was sent and may have been processed: check on the gateway (e.g. list what was submitted) before resubmitting";

/// Everything that can go wrong with a call. `E` is the operation's documented error body
/// (generated code), [`Undocumented`] otherwise.
#[non_exhaustive]
pub enum Error<E = Undocumented> {
    /// The request could not be sent or the response not received (DNS, connect, TLS, reset).
    Transport {
        /// Operation id.
        operation_id: &'static str,
        /// Correlation ID of the call.
        correlation_id: String,
        /// Whether it failed while connecting (nothing reached the server).
        connect: bool,
        /// Whether the request may have reached the server.
        delivery: Delivery,
        /// The underlying error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// No complete response within the configured timeout.
    Timeout {
        /// Operation id.
        operation_id: &'static str,
        /// Correlation ID of the call.
        correlation_id: String,
        /// The timeout that elapsed.
        after: Duration,
        /// Whether the request may have reached the server.
        delivery: Delivery,
    },
    /// The response body is larger than the configured limit
    /// ([`ApiClientBuilder::max_response_size`](crate::ApiClientBuilder::max_response_size)).
    ResponseTooLarge {
        /// Operation id.
        operation_id: &'static str,
        /// Correlation ID of the call.
        correlation_id: String,
        /// The limit, in bytes.
        limit: usize,
        /// Whether the body came from the token endpoint.
        token_endpoint: bool,
    },
    /// The token endpoint refused the credentials (RFC 6749 §5.2).
    TokenRefused(Box<TokenRefusal>),
    /// HTTP 429 (after any retries allowed by the policy).
    RateLimited(Box<GatewayError>),
    /// Any other error response, decoded.
    Gateway(Box<GatewayError>),
    /// An error response documented by the operation, with its typed body.
    Documented {
        /// The typed body.
        body: E,
        /// Status, codes and correlation IDs of the same response.
        error: Box<GatewayError>,
    },
    /// A response body that does not decode as documented (raw text kept).
    UndecodableBody(Box<DecodeFailure>),
    /// A credential has expired (e.g. the API Entreprise / Particulier JWT `exp` is past).
    CredentialExpired {
        /// What expired and what to do.
        message: String,
        /// Correlation ID of the call, if raised by a call.
        correlation_id: Option<String>,
    },
    /// The request could not be built (bad header value, unserializable body, bad URL).
    InvalidRequest {
        /// What is wrong.
        message: String,
        /// Operation id.
        operation_id: &'static str,
        /// Correlation ID of the call.
        correlation_id: Option<String>,
    },
    /// The gateway host is considered down (circuit breaker open after consecutive failures):
    /// refused at once, nothing was sent.
    Unavailable {
        /// Operation id.
        operation_id: &'static str,
        /// Correlation ID of the call.
        correlation_id: String,
        /// `scheme://host:port` of the gateway.
        host: String,
        /// Time before a probe call is let through (zero: a probe is in flight).
        retry_in: Duration,
    },
    /// The client configuration is invalid.
    InvalidConfig {
        /// What is wrong.
        message: String,
    },
    /// The client requires its audit trail
    /// ([`audit_required`](crate::ApiClientBuilder::audit_required)) and an audit sink is
    /// failing (e.g. its disk is full): refused at once, nothing was sent.
    AuditFailing {
        /// Operation id.
        operation_id: &'static str,
        /// Correlation ID of the call.
        correlation_id: String,
        /// Records the failing sink could not write so far.
        dropped: u64,
        /// The sink's last write error.
        last_error: String,
    },
    /// The fleet store is down and the client fails closed
    /// (`StoreDown::FailClosed`, feature `fleet`): refused at once, nothing was sent.
    SharedStoreDown {
        /// Operation id.
        operation_id: &'static str,
        /// Correlation ID of the call.
        correlation_id: String,
    },
    /// Replay mode (feature `cassette`): the cassette holds no answer for this call.
    NotRecorded(Box<NotRecorded>),
}

impl<E> Error<E> {
    /// The response's metadata, for variants that come from an HTTP response.
    pub fn gateway_error(&self) -> Option<&GatewayError> {
        match self {
            Error::RateLimited(g) | Error::Gateway(g) => Some(g),
            Error::Documented { error, .. } => Some(error),
            _ => None,
        }
    }

    /// HTTP status, when there was a response.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::TokenRefused(t) => Some(t.status),
            Error::UndecodableBody(d) => Some(d.status),
            other => other.gateway_error().map(|g| g.status),
        }
    }

    /// The correlation ID of the call (the one the runtime sent).
    pub fn correlation_id(&self) -> Option<&str> {
        match self {
            Error::Transport { correlation_id, .. }
            | Error::Timeout { correlation_id, .. }
            | Error::ResponseTooLarge { correlation_id, .. }
            | Error::Unavailable { correlation_id, .. }
            | Error::AuditFailing { correlation_id, .. }
            | Error::SharedStoreDown { correlation_id, .. } => Some(correlation_id),
            Error::UndecodableBody(d) => Some(&d.correlation_id),
            Error::NotRecorded(n) => Some(&n.correlation_id),
            Error::TokenRefused(t) => t.correlation_id.as_deref(),
            Error::CredentialExpired { correlation_id, .. }
            | Error::InvalidRequest { correlation_id, .. } => correlation_id.as_deref(),
            Error::InvalidConfig { .. } => None,
            other => other.gateway_error().map(|g| g.correlation_id.as_str()),
        }
    }

    /// The correlation/request ID returned by the gateway, if any.
    pub fn gateway_correlation_id(&self) -> Option<&str> {
        match self {
            Error::TokenRefused(t) => t.gateway_correlation_id.as_deref(),
            Error::UndecodableBody(d) => d.gateway_correlation_id.as_deref(),
            other => other
                .gateway_error()
                .and_then(|g| g.gateway_correlation_id.as_deref()),
        }
    }

    /// The gateway's error code (DGFiP `900901`, OAuth `invalid_client`, ...).
    pub fn gateway_code(&self) -> Option<&str> {
        match self {
            Error::TokenRefused(t) => Some(t.error.as_str()),
            other => other.gateway_error().and_then(|g| g.code.as_deref()),
        }
    }

    /// The gateway's error message.
    pub fn gateway_message(&self) -> Option<&str> {
        match self {
            Error::TokenRefused(t) => t.description.as_deref(),
            other => other.gateway_error().and_then(|g| g.message.as_deref()),
        }
    }

    /// What the caller should do, when known.
    pub fn advice(&self) -> Option<&str> {
        match self {
            Error::TokenRefused(t) => Some(&t.advice),
            other => other.gateway_error().and_then(|g| g.advice.as_deref()),
        }
    }

    /// When to come back: the response's `Retry-After` or the provider's `meta.retry_in`,
    /// whichever is later, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        let g = self.gateway_error()?;
        g.retry_after.max(g.retry_in)
    }

    /// The documented error body, if this is one.
    pub fn documented(&self) -> Option<&E> {
        match self {
            Error::Documented { body, .. } => Some(body),
            _ => None,
        }
    }

    /// The documented body of an HTTP 429 ([`Error::RateLimited`]), typed like the body of
    /// [`Error::Documented`]; `None` when the operation documents no 429 body, when the body
    /// did not decode, or after [`Error::map_documented`] changed the body type.
    pub fn rate_limited_body(&self) -> Option<&E>
    where
        E: std::any::Any,
    {
        match self {
            Error::RateLimited(g) => g.typed_body.as_ref()?.0.downcast_ref::<E>(),
            _ => None,
        }
    }

    /// Whether the request may have reached the server (transport failures and timeouts);
    /// `None` for errors that came with a response or before sending.
    pub fn delivery(&self) -> Option<Delivery> {
        match self {
            Error::Transport { delivery, .. } | Error::Timeout { delivery, .. } => Some(*delivery),
            _ => None,
        }
    }

    /// Whether a non-idempotent request (POST, PATCH) may have been processed although no
    /// response came back: check on the server before resubmitting.
    pub fn may_have_been_processed(&self) -> bool {
        matches!(
            self.delivery(),
            Some(Delivery::OutcomeUnknown { idempotent: false })
        )
    }

    /// Whether trying the same call again later may succeed (transient failure). False when a
    /// non-idempotent request may already have been processed ([`Error::may_have_been_processed`]).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { .. } | Error::Timeout { .. } => !self.may_have_been_processed(),
            Error::RateLimited(_)
            | Error::Unavailable { .. }
            | Error::AuditFailing { .. }
            | Error::SharedStoreDown { .. } => true,
            Error::Gateway(g) | Error::Documented { error: g, .. } => {
                matches!(g.status, 408 | 429 | 502 | 503 | 504)
            }
            Error::UndecodableBody(d) => matches!(d.status, 502..=504),
            Error::ResponseTooLarge { .. }
            | Error::TokenRefused(_)
            | Error::CredentialExpired { .. }
            | Error::InvalidRequest { .. }
            | Error::InvalidConfig { .. }
            | Error::NotRecorded(_) => false,
        }
    }

    /// Forgets the typed body: a documented error becomes a [`Error::Gateway`] (its raw body,
    /// codes and correlation IDs are kept).
    pub fn into_untyped(self) -> Error<Undocumented> {
        self.map_documented(|error, _| {
            if error.status == 429 {
                Error::RateLimited(error)
            } else {
                Error::Gateway(error)
            }
        })
    }

    /// Converts the documented body type (other variants are carried over).
    pub fn map_documented<F>(self, f: impl FnOnce(Box<GatewayError>, E) -> Error<F>) -> Error<F> {
        // Every variant but `Documented` moves over field by field: none holds an `E`.
        macro_rules! carry_over {
            ($value:expr; $($variant:ident { $($field:ident),* }),*; $($tuple:ident),*) => {
                match $value {
                    Error::Documented { body, error } => f(error, body),
                    $(Error::$variant { $($field),* } => Error::$variant { $($field),* },)*
                    $(Error::$tuple(inner) => Error::$tuple(inner),)*
                }
            };
        }
        carry_over!(self;
            Transport { operation_id, correlation_id, connect, delivery, source },
            Timeout { operation_id, correlation_id, after, delivery },
            ResponseTooLarge { operation_id, correlation_id, limit, token_endpoint },
            CredentialExpired { message, correlation_id },
            InvalidRequest { message, operation_id, correlation_id },
            InvalidConfig { message },
            Unavailable { operation_id, correlation_id, host, retry_in },
            AuditFailing { operation_id, correlation_id, dropped, last_error },
            SharedStoreDown { operation_id, correlation_id };
            TokenRefused, RateLimited, Gateway, UndecodableBody, NotRecorded)
    }

    /// Re-types an error that carries no documented body (used when the body type changes).
    pub(crate) fn retype<F>(self) -> Error<F> {
        self.map_documented(|error, _| Error::Gateway(error))
    }
}

impl<E> Error<E> {
    /// Display of a transport failure or a timeout: what may have reached the server.
    fn fmt_transport(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Transport {
                operation_id,
                correlation_id,
                connect,
                delivery,
                source,
            } => {
                let what = if *connect {
                    "could not connect"
                } else {
                    "transport error"
                };
                write!(f, "{what} calling {operation_id}: {source}")?;
                let mut cause = source.source();
                while let Some(c) = cause {
                    write!(f, ": {c}")?;
                    cause = c.source();
                }
                write!(f, " [correlation ID {correlation_id}]")?;
                match delivery {
                    Delivery::OutcomeUnknown { idempotent: false } => f.write_str(MAYBE_PROCESSED),
                    _ => f.write_str(
                        " — check network access to the gateway (proxy, RIE access, DNS)",
                    ),
                }
            }
            Error::Timeout {
                operation_id,
                correlation_id,
                after,
                delivery,
            } => {
                write!(
                    f,
                    "{operation_id} timed out after {:.1} s [correlation ID {correlation_id}]",
                    after.as_secs_f64()
                )?;
                match delivery {
                    Delivery::NotSent => f.write_str(
                        " — nothing was sent (waiting for a connection, the rate limiter or a token); retry later or raise the timeout",
                    ),
                    Delivery::OutcomeUnknown { idempotent: false } => f.write_str(MAYBE_PROCESSED),
                    Delivery::OutcomeUnknown { idempotent: true } => f.write_str(
                        " — the API may be degraded; retry later or raise the timeout",
                    ),
                }
            }
            _ => Ok(()),
        }
    }

    /// Debug of the variants about the transport (fields listed, no body).
    fn debug_transport(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Transport {
                operation_id,
                correlation_id,
                connect,
                delivery,
                source,
            } => f
                .debug_struct("Transport")
                .field("operation_id", operation_id)
                .field("correlation_id", correlation_id)
                .field("connect", connect)
                .field("delivery", delivery)
                .field("source", source)
                .finish(),
            Error::Timeout {
                operation_id,
                correlation_id,
                after,
                delivery,
            } => f
                .debug_struct("Timeout")
                .field("operation_id", operation_id)
                .field("correlation_id", correlation_id)
                .field("after", after)
                .field("delivery", delivery)
                .finish(),
            Error::ResponseTooLarge {
                operation_id,
                correlation_id,
                limit,
                token_endpoint,
            } => f
                .debug_struct("ResponseTooLarge")
                .field("operation_id", operation_id)
                .field("correlation_id", correlation_id)
                .field("limit", limit)
                .field("token_endpoint", token_endpoint)
                .finish(),
            _ => Ok(()),
        }
    }
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Transport { .. } | Error::Timeout { .. } => self.fmt_transport(f),
            Error::ResponseTooLarge {
                operation_id,
                correlation_id,
                limit,
                token_endpoint,
            } => {
                let from = if *token_endpoint {
                    "the token endpoint's response"
                } else {
                    "the response"
                };
                write!(
                    f,
                    "{from} to {operation_id} is larger than the {limit}-byte limit [correlation ID {correlation_id}] — raise the limit on the builder if this body is expected"
                )
            }
            Error::TokenRefused(t) => t.fmt(f),
            Error::RateLimited(g) => write!(f, "rate limited: {g}"),
            Error::Gateway(g) => write!(f, "gateway error: {g}"),
            // The typed body may carry personal data: it stays in the field, out of Display.
            Error::Documented { error, .. } => write!(f, "documented API error: {error}"),
            Error::UndecodableBody(d) => d.fmt(f),
            Error::CredentialExpired {
                message,
                correlation_id,
            } => {
                write!(f, "credential expired: {message}")?;
                if let Some(c) = correlation_id {
                    write!(f, " [correlation ID {c}]")?;
                }
                Ok(())
            }
            Error::InvalidRequest {
                message,
                operation_id,
                correlation_id,
            } => {
                write!(f, "invalid request for {operation_id}: {message}")?;
                if let Some(c) = correlation_id {
                    write!(f, " [correlation ID {c}]")?;
                }
                Ok(())
            }
            Error::InvalidConfig { message } => {
                write!(f, "invalid client configuration: {message}")
            }
            Error::NotRecorded(n) => n.fmt(f),
            Error::Unavailable {
                operation_id,
                correlation_id,
                host,
                retry_in,
            } => write!(
                f,
                "{operation_id} not sent: {host} is unavailable (circuit open after consecutive failures; next probe in {:.1} s) [correlation ID {correlation_id}]",
                retry_in.as_secs_f64()
            ),
            Error::AuditFailing {
                operation_id,
                correlation_id,
                dropped,
                last_error,
            } => write!(
                f,
                "{operation_id} not sent: the audit trail is required and an audit sink is failing ({dropped} records lost; last error: {last_error}) [correlation ID {correlation_id}]"
            ),
            Error::SharedStoreDown {
                operation_id,
                correlation_id,
            } => write!(
                f,
                "{operation_id} not sent: the fleet store is down and this client fails closed; calls resume when it answers [correlation ID {correlation_id}]"
            ),
        }
    }
}

impl<E: fmt::Debug> std::error::Error for Error<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Transport { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}
