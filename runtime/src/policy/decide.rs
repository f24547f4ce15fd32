//! What to do after one attempt, decided without I/O: every retry rule of a call, in one
//! place and one fixed order, so it can be read and tested without a network.
//!
//! Order: (1) a rejected OAuth token is refreshed once; (2) the retry classifier says whether
//! the outcome is transient and safe to repeat (idempotent method, or a connection that never
//! reached the server); (3) the attempt budget; (4) the wait must end before the retry
//! deadline. Anything else returns the outcome to the caller as it is.

use std::time::Duration;

use crate::policy::retry::{Action, Outcome, RetryPolicy, classify};

/// What one attempt produced, as far as policy is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Observed {
    /// A response was read whole.
    Response {
        /// Its status.
        status: u16,
        /// Its `Retry-After`, parsed and bounded.
        retry_after: Option<Duration>,
        /// Whether it says the access token itself is bad (see `gateway::rules`).
        token_rejected: bool,
        /// What the gateway's own error code says (see `gateway::rules::by_code`).
        by_code: ByCode,
    },
    /// Could not connect: nothing reached the server.
    ConnectFailed,
    /// No response within the attempt's timeout: the request may have been processed.
    TimedOut,
    /// The connection failed after sending began: the request may have been processed.
    TransportFailed,
}

/// What a gateway's error code says about repeating the call, beyond its status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum ByCode {
    /// Nothing: the status decides.
    #[default]
    Silent,
    /// Final whatever the status (API Particulier answers "entity not found" with a 502).
    Final,
    /// Not before this wait (API Entreprise / Particulier `meta.retry_in`).
    RetryIn(Duration),
    /// The same request is already in progress for this token (API Entreprise / Particulier
    /// 409): it was not processed; wait for the other one, then try once more.
    InFlight,
}

/// How long to wait after a 409 "already in progress" without `Retry-After`: the other request
/// ends within the gateway's 10 s provider timeout, most within a few seconds.
pub(crate) const IN_FLIGHT_WAIT: Duration = Duration::from_secs(3);

/// Where the call stands when the attempt ends.
#[derive(Clone, Debug)]
pub(crate) struct CallState<'a> {
    /// The retry policy in force for this call.
    pub policy: &'a RetryPolicy,
    /// The request's method (non-idempotent ones are repeated only on opt-in).
    pub method: &'a http::Method,
    /// Attempts made so far, this one included (1-based).
    pub attempt: u32,
    /// Retries made so far (a token refresh is not a retry).
    pub retries: u32,
    /// Whether the attempt carried an OAuth token that a refresh could replace.
    pub oauth_token: bool,
    /// Whether the token was already refreshed once in this call.
    pub token_refreshed: bool,
    /// Whether the call already waited once for an identical request in progress (409).
    pub in_flight_waited: bool,
    /// Time left before the retry deadline (the call's deadline or the policy's total time).
    pub time_left: Duration,
    /// The backoff jitter to use (`0.0..1.0`), drawn by the caller.
    pub jitter: f64,
}

/// The decision after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Wait this long, then make another attempt.
    Retry(Duration),
    /// Invalidate the token, then make another attempt at once.
    RefreshToken,
    /// Give the outcome to the caller.
    Return,
}

/// The decision after an attempt (see the module docs for the order).
pub(crate) fn decide(observed: Observed, state: &CallState<'_>) -> Decision {
    if let Observed::Response {
        status: 400..=499,
        token_rejected: true,
        ..
    } = observed
        && state.oauth_token
        && !state.token_refreshed
    {
        return Decision::RefreshToken;
    }
    let Some(wait) = wanted_wait(observed, state) else {
        return Decision::Return;
    };
    if state.attempt >= state.policy.max_attempts || wait > state.time_left {
        return Decision::Return;
    }
    Decision::Retry(wait)
}

/// The wait a retry would need when the attempt's outcome is transient and safe to repeat,
/// before the attempt budget and the deadline are considered.
fn wanted_wait(observed: Observed, state: &CallState<'_>) -> Option<Duration> {
    let (outcome, retry_after, retry_in) = match observed {
        Observed::Response {
            by_code: ByCode::Final,
            ..
        } => return None,
        // Not processed, so safe to repeat whatever the method; once.
        Observed::Response {
            by_code: ByCode::InFlight,
            retry_after,
            ..
        } => return (!state.in_flight_waited).then(|| retry_after.unwrap_or(IN_FLIGHT_WAIT)),
        Observed::Response {
            status,
            retry_after,
            by_code,
            ..
        } => {
            let retry_in = match by_code {
                ByCode::RetryIn(wait) => Some(wait),
                _ => None,
            };
            (Outcome::Status(status), retry_after, retry_in)
        }
        Observed::ConnectFailed => (Outcome::ConnectError, None, None),
        Observed::TimedOut => (Outcome::Timeout, None, None),
        Observed::TransportFailed => (Outcome::TransportError, None, None),
    };
    let wait = match classify(state.policy, state.method, outcome, retry_after) {
        Action::Stop => return None,
        Action::RetryAfter(d) => d,
        Action::Backoff => state.policy.backoff_with(state.retries + 1, state.jitter),
    };
    // The provider's own wait, when it says one: never sooner.
    Some(retry_in.map_or(wait, |r| wait.max(r)))
}

/// The wait that was not taken because it ends past the deadline, when that is why
/// [`decide`] returned (for the caller's log).
pub(crate) fn wait_past_deadline(observed: Observed, state: &CallState<'_>) -> Option<Duration> {
    wanted_wait(observed, state)
        .filter(|wait| state.attempt < state.policy.max_attempts && *wait > state.time_left)
}

/// Whether an attempt with this method and outcome may have been processed by the server
/// (so the caller must not assume it was not): everything but a failed connection.
pub(crate) fn may_have_been_processed(observed: Observed) -> bool {
    !matches!(observed, Observed::ConnectFailed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    const SECOND: Duration = Duration::from_secs(1);

    fn state<'a>(policy: &'a RetryPolicy, method: &'a Method) -> CallState<'a> {
        CallState {
            policy,
            method,
            attempt: 1,
            retries: 0,
            oauth_token: true,
            token_refreshed: false,
            in_flight_waited: false,
            time_left: Duration::from_secs(60),
            jitter: 0.0,
        }
    }

    fn status(status: u16) -> Observed {
        Observed::Response {
            status,
            retry_after: None,
            token_rejected: false,
            by_code: ByCode::Silent,
        }
    }

    fn with_retry_after(status: u16, after: Duration) -> Observed {
        Observed::Response {
            status,
            retry_after: Some(after),
            token_rejected: false,
            by_code: ByCode::Silent,
        }
    }

    fn rejected(status: u16) -> Observed {
        Observed::Response {
            status,
            retry_after: None,
            token_rejected: true,
            by_code: ByCode::Silent,
        }
    }

    fn by_code(status: u16, by_code: ByCode) -> Observed {
        Observed::Response {
            status,
            retry_after: None,
            token_rejected: false,
            by_code,
        }
    }

    #[test]
    fn the_gateways_code_overrides_the_status() {
        let (p, get) = (RetryPolicy::default(), Method::GET);
        let s = state(&p, &get);
        assert_eq!(decide(by_code(502, ByCode::Final), &s), Decision::Return);
        assert_eq!(
            decide(by_code(502, ByCode::Silent), &s),
            Decision::Retry(FIRST_BACKOFF)
        );
        // `retry_in` longer than the backoff is waited for; beyond the time left, returned.
        let wait = Duration::from_secs(5);
        assert_eq!(
            decide(by_code(503, ByCode::RetryIn(wait)), &s),
            Decision::Retry(wait)
        );
        let days = Duration::from_secs(172_800);
        assert_eq!(
            decide(by_code(503, ByCode::RetryIn(days)), &s),
            Decision::Return
        );
        assert_eq!(
            wait_past_deadline(by_code(503, ByCode::RetryIn(days)), &s),
            Some(days)
        );
    }

    /// The default policy's first backoff with zero jitter: half of 200 ms.
    const FIRST_BACKOFF: Duration = Duration::from_millis(100);

    #[test]
    fn a_request_in_progress_is_waited_for_once_whatever_the_method() {
        let policy = RetryPolicy::default();
        let in_flight = |retry_after| Observed::Response {
            status: 409,
            retry_after,
            token_rejected: false,
            by_code: ByCode::InFlight,
        };
        let post = Method::POST;
        let s = state(&policy, &post);
        assert_eq!(decide(in_flight(None), &s), Decision::Retry(IN_FLIGHT_WAIT));
        assert_eq!(decide(in_flight(Some(SECOND)), &s), Decision::Retry(SECOND));
        let waited = CallState {
            in_flight_waited: true,
            ..s.clone()
        };
        assert_eq!(decide(in_flight(None), &waited), Decision::Return);
        let short = CallState {
            time_left: SECOND,
            ..s
        };
        assert_eq!(decide(in_flight(None), &short), Decision::Return);
        // A 409 in another format is the API's own conflict: final.
        assert_eq!(
            decide(status(409), &state(&policy, &post)),
            Decision::Return
        );
    }

    #[test]
    fn success_and_client_errors_return() {
        let (p, get) = (RetryPolicy::default(), Method::GET);
        for s in [200, 201, 204, 301, 304, 400, 401, 403, 404, 409, 422] {
            assert_eq!(decide(status(s), &state(&p, &get)), Decision::Return, "{s}");
        }
    }

    #[test]
    fn server_errors_retry_only_when_transient() {
        let (p, get) = (RetryPolicy::default(), Method::GET);
        for s in [502, 503, 504, 429] {
            let d = decide(status(s), &state(&p, &get));
            assert_eq!(d, Decision::Retry(FIRST_BACKOFF), "{s}");
        }
        for s in [500, 501, 505] {
            assert_eq!(decide(status(s), &state(&p, &get)), Decision::Return, "{s}");
        }
    }

    #[test]
    fn retry_after_is_honoured_on_429_and_503_only() {
        let (p, get) = (RetryPolicy::default(), Method::GET);
        let after = 7 * SECOND;
        for s in [429, 503] {
            let d = decide(with_retry_after(s, after), &state(&p, &get));
            assert_eq!(d, Decision::Retry(after), "{s}");
        }
        let d = decide(with_retry_after(502, after), &state(&p, &get));
        assert_eq!(d, Decision::Retry(FIRST_BACKOFF));
    }

    #[test]
    fn backoff_grows_with_retries_and_jitter() {
        let (p, get) = (RetryPolicy::default(), Method::GET);
        let mut s = state(&p, &get);
        s.attempt = 2;
        s.retries = 1;
        assert_eq!(
            decide(status(503), &s),
            Decision::Retry(Duration::from_millis(200))
        );
        s.jitter = 0.5;
        assert_eq!(
            decide(status(503), &s),
            Decision::Retry(Duration::from_millis(300))
        );
    }

    #[test]
    fn a_rejected_token_is_refreshed_once_then_the_answer_returns() {
        let (p, get) = (RetryPolicy::default(), Method::GET);
        let mut s = state(&p, &get);
        assert_eq!(decide(rejected(401), &s), Decision::RefreshToken);
        assert_eq!(decide(rejected(403), &s), Decision::RefreshToken);
        s.token_refreshed = true;
        assert_eq!(decide(rejected(401), &s), Decision::Return);
    }

    #[test]
    fn a_refresh_needs_an_oauth_token_and_a_client_error() {
        let (p, get) = (RetryPolicy::default(), Method::GET);
        let mut s = state(&p, &get);
        s.oauth_token = false;
        assert_eq!(decide(rejected(401), &s), Decision::Return);
        s.oauth_token = true;
        assert_eq!(decide(rejected(503), &s), Decision::Retry(FIRST_BACKOFF));
    }

    #[test]
    fn a_refresh_is_allowed_for_a_post_and_at_the_last_attempt() {
        let (p, post) = (RetryPolicy::none(), Method::POST);
        assert_eq!(
            decide(rejected(401), &state(&p, &post)),
            Decision::RefreshToken
        );
    }

    #[test]
    fn non_idempotent_calls_are_not_repeated_unless_allowed() {
        let p = RetryPolicy::default();
        for m in [Method::POST, Method::PATCH] {
            for o in [
                status(503),
                status(429),
                Observed::TimedOut,
                Observed::TransportFailed,
            ] {
                assert_eq!(decide(o, &state(&p, &m)), Decision::Return, "{m} {o:?}");
            }
        }
        let allowed = RetryPolicy::default().retry_non_idempotent(true);
        let d = decide(Observed::TimedOut, &state(&allowed, &Method::POST));
        assert_eq!(d, Decision::Retry(FIRST_BACKOFF));
    }

    #[test]
    fn a_failed_connection_is_retried_for_any_method() {
        let p = RetryPolicy::default();
        for m in [Method::GET, Method::POST, Method::PATCH] {
            let d = decide(Observed::ConnectFailed, &state(&p, &m));
            assert_eq!(d, Decision::Retry(FIRST_BACKOFF), "{m}");
        }
    }

    #[test]
    fn transport_failures_may_have_been_processed_except_a_failed_connection() {
        assert!(!may_have_been_processed(Observed::ConnectFailed));
        assert!(may_have_been_processed(Observed::TimedOut));
        assert!(may_have_been_processed(Observed::TransportFailed));
        let (p, get) = (RetryPolicy::default(), Method::GET);
        for o in [Observed::TimedOut, Observed::TransportFailed] {
            assert_eq!(decide(o, &state(&p, &get)), Decision::Retry(FIRST_BACKOFF));
        }
    }

    #[test]
    fn the_attempt_budget_ends_retries() {
        let p = RetryPolicy::default().max_attempts(2);
        let get = Method::GET;
        let mut s = state(&p, &get);
        s.attempt = 2;
        s.retries = 1;
        assert_eq!(decide(status(503), &s), Decision::Return);
        assert_eq!(decide(Observed::ConnectFailed, &s), Decision::Return);
        let none = RetryPolicy::none();
        assert_eq!(decide(status(503), &state(&none, &get)), Decision::Return);
    }

    #[test]
    fn a_wait_past_the_deadline_is_not_taken() {
        let (p, get) = (RetryPolicy::default(), Method::GET);
        let mut s = state(&p, &get);
        s.time_left = 6 * SECOND;
        assert_eq!(
            decide(with_retry_after(429, 7 * SECOND), &s),
            Decision::Return
        );
        assert_eq!(
            decide(with_retry_after(429, 6 * SECOND), &s),
            Decision::Retry(6 * SECOND)
        );
        let late = with_retry_after(429, 7 * SECOND);
        assert_eq!(wait_past_deadline(late, &s), Some(7 * SECOND));
        assert_eq!(wait_past_deadline(status(404), &s), None);
        s.time_left = Duration::from_millis(50);
        assert_eq!(decide(Observed::TimedOut, &s), Decision::Return);
        s.time_left = Duration::ZERO;
        assert_eq!(
            decide(with_retry_after(503, Duration::ZERO), &s),
            Decision::Retry(Duration::ZERO)
        );
    }
}
