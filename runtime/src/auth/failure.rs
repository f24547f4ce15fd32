//! Why a token could not be obtained, shared by every caller waiting on one fetch, and how
//! it becomes the caller's [`Error`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{DecodeFailure, Delivery, Error, GatewayError, TokenRefusal};

/// How long token fetches are held back after a failed one without `Retry-After`.
pub const FAILURE_HOLD: Duration = Duration::from_secs(1);

/// A failure to obtain a token; cloneable so that callers waiting on one fetch share it.
#[derive(Clone, Debug)]
pub(crate) enum AuthFailure {
    Refused(Box<TokenRefusal>),
    Transport {
        token_url: String,
        connect: bool,
        source: Arc<reqwest::Error>,
    },
    Timeout {
        token_url: String,
        after: Duration,
    },
    Gateway(Box<GatewayError>),
    Undecodable {
        status: u16,
        token_url: String,
        reason: String,
    },
    TooLarge {
        limit: usize,
    },
    Redirected {
        status: u16,
        token_url: String,
    },
    Config(String),
}

/// A token endpoint that could not be reached or did not answer in time; its cause (if any)
/// is the transport error, visible through [`std::error::Error::source`].
#[derive(Debug)]
pub struct TokenEndpointError {
    token_url: String,
    what: String,
    cause: Option<Arc<reqwest::Error>>,
}

impl fmt::Display for TokenEndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "token endpoint {} {}", self.token_url, self.what)
    }
}

impl std::error::Error for TokenEndpointError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl AuthFailure {
    pub(crate) fn from_reqwest(e: reqwest::Error, token_url: &str, timeout: Duration) -> Self {
        if e.is_timeout() {
            return AuthFailure::Timeout {
                token_url: token_url.to_owned(),
                after: timeout,
            };
        }
        AuthFailure::Transport {
            token_url: token_url.to_owned(),
            connect: e.is_connect(),
            source: Arc::new(e.without_url()),
        }
    }

    /// How long further token fetches should be held back after this failure.
    pub(crate) fn hold(&self) -> Option<Duration> {
        match self {
            AuthFailure::Gateway(g) => {
                Some(g.retry_after.unwrap_or(FAILURE_HOLD).max(FAILURE_HOLD))
            }
            AuthFailure::Transport { .. }
            | AuthFailure::Timeout { .. }
            | AuthFailure::Undecodable { .. }
            | AuthFailure::TooLarge { .. }
            | AuthFailure::Redirected { .. } => Some(FAILURE_HOLD),
            AuthFailure::Refused(_) | AuthFailure::Config(_) => None,
        }
    }

    /// This failure as the caller's error: `operation_id` is the caller's operation.
    pub(crate) fn into_error<E>(
        self,
        operation_id: &'static str,
        correlation_id: &str,
    ) -> Error<E> {
        let not_sent = |token_url: String, what: String, connect: bool, cause| Error::Transport {
            operation_id,
            correlation_id: correlation_id.to_owned(),
            connect,
            delivery: Delivery::NotSent,
            source: Box::new(TokenEndpointError {
                token_url,
                what,
                cause,
            }),
        };
        match self {
            AuthFailure::Refused(mut t) => {
                t.correlation_id = Some(correlation_id.to_owned());
                Error::TokenRefused(t)
            }
            AuthFailure::Transport {
                token_url,
                connect,
                source,
            } => not_sent(token_url, "failed".into(), connect, Some(source)),
            AuthFailure::Timeout { token_url, after } => not_sent(
                token_url,
                format!("did not answer within {:.1} s", after.as_secs_f64()),
                false,
                None,
            ),
            AuthFailure::Gateway(mut g) => {
                g.correlation_id = correlation_id.to_owned();
                g.operation_id = operation_id;
                if matches!(g.status, 429 | 503) {
                    Error::RateLimited(g)
                } else {
                    Error::Gateway(g)
                }
            }
            AuthFailure::Redirected { status, token_url } => {
                Error::Gateway(Box::new(GatewayError::stated(
                    status,
                    operation_id,
                    correlation_id,
                    format!("token endpoint {token_url} answered with a redirect (HTTP {status})"),
                    "token requests are never redirected (the credentials would follow): configure the final token URL with .token_url(...), over https",
                )))
            }
            AuthFailure::Undecodable {
                status,
                token_url,
                reason,
            } => Error::UndecodableBody(Box::new(DecodeFailure {
                status,
                operation_id,
                correlation_id: correlation_id.to_owned(),
                gateway_correlation_id: None,
                content_type: None,
                reason: format!("token endpoint {token_url}: {reason}"),
                raw_body: "[withheld: token endpoint bodies may contain secrets]".into(),
            })),
            AuthFailure::TooLarge { limit } => Error::ResponseTooLarge {
                operation_id,
                correlation_id: correlation_id.to_owned(),
                limit,
                token_endpoint: true,
            },
            AuthFailure::Config(message) => Error::InvalidConfig { message },
        }
    }

    /// The same failure with `Retry-After` set to the time left in the hold-back.
    pub(crate) fn held(mut self, left: Duration) -> Self {
        if let AuthFailure::Gateway(g) = &mut self {
            g.retry_after = Some(left);
        }
        self
    }
}
