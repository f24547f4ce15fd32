//! When to try a call again, and how long to wait.
//!
//! Split as in smithy: a classifier looks at one attempt's outcome and the method and says whether
//! the failure is transient; [`RetryPolicy`] bounds attempts and total time. `Retry-After` (delta
//! seconds or HTTP-date) is honoured on 429 and 503, within the total time. Only idempotent
//! methods are repeated unless the caller opts in; a connection failure (nothing was sent) may be
//! retried for any method.

use std::time::Duration;

use http::Method;

pub(crate) use crate::wire::retry_after::clamp_secs;
pub use crate::wire::retry_after::{MAX_RETRY_AFTER, parse_retry_after};

/// Bounds and switches of the retry loop.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Maximum number of attempts, the first included (1 = no retry).
    pub max_attempts: u32,
    /// Maximum time from the first attempt to the start of the last one, waits included.
    pub max_total_time: Duration,
    /// First backoff delay (doubled at each retry, with jitter).
    pub initial_backoff: Duration,
    /// Upper bound of one backoff delay.
    pub max_backoff: Duration,
    /// Also repeat non-idempotent methods (POST, PATCH) on 429/502/503/504 and timeouts.
    pub retry_non_idempotent: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            max_total_time: Duration::from_secs(60),
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            retry_non_idempotent: false,
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Sets the maximum number of attempts.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Sets the maximum total time.
    pub fn max_total_time(mut self, d: Duration) -> Self {
        self.max_total_time = d;
        self
    }

    /// Sets the initial and maximum backoff.
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// Allows repeating POST/PATCH (only if the operation is safe to repeat).
    pub fn retry_non_idempotent(mut self, yes: bool) -> Self {
        self.retry_non_idempotent = yes;
        self
    }

    /// Exponential backoff with "equal jitter" for retry number `retry` (1-based).
    pub fn backoff_for(&self, retry: u32) -> Duration {
        self.backoff_with(retry, fastrand::f64())
    }

    /// [`RetryPolicy::backoff_for`] with the jitter given (`0.0..1.0`), so decisions can be
    /// computed without randomness.
    pub(crate) fn backoff_with(&self, retry: u32, jitter: f64) -> Duration {
        let exp = self
            .initial_backoff
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16))
            .min(self.max_backoff);
        exp / 2 + exp.mul_f64(jitter.clamp(0.0, 1.0) / 2.0)
    }
}

/// Whether a method may be repeated without side effects (RFC 9110 §9.2.2).
pub fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

/// The outcome of one attempt, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Could not connect: the request never reached the server.
    ConnectError,
    /// Other transport failure (the request may have been processed).
    TransportError,
    /// No response in time.
    Timeout,
    /// A response with this status.
    Status(u16),
}

/// What to do after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    /// Not a transient failure, or not safe to repeat.
    Stop,
    /// Retry after the server's `Retry-After`.
    RetryAfter(Duration),
    /// Retry after a backoff.
    Backoff,
}

/// Classifies an attempt's outcome.
pub(crate) fn classify(
    policy: &RetryPolicy,
    method: &Method,
    outcome: Outcome,
    retry_after: Option<Duration>,
) -> Action {
    let may_repeat = is_idempotent(method) || policy.retry_non_idempotent;
    match outcome {
        Outcome::ConnectError => Action::Backoff,
        Outcome::TransportError | Outcome::Timeout if may_repeat => Action::Backoff,
        Outcome::Status(429 | 503) if may_repeat => match retry_after {
            Some(d) => Action::RetryAfter(d),
            None => Action::Backoff,
        },
        Outcome::Status(502 | 504) if may_repeat => Action::Backoff,
        _ => Action::Stop,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_not_retried() {
        let p = RetryPolicy::default();
        assert_eq!(
            classify(&p, &Method::POST, Outcome::Status(503), None),
            Action::Stop
        );
        assert_eq!(
            classify(&p, &Method::GET, Outcome::Status(503), None),
            Action::Backoff
        );
        assert_eq!(
            classify(&p, &Method::GET, Outcome::Status(500), None),
            Action::Stop
        );
        assert_eq!(
            classify(&p, &Method::POST, Outcome::ConnectError, None),
            Action::Backoff
        );
    }
}
