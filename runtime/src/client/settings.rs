//! Builder settings that go together, set as one value: [`Timeouts`] and [`BodyLimits`].

use std::time::Duration;

use crate::core::body::{DEFAULT_MAX_RESPONSE_SIZE, DEFAULT_MAX_TOKEN_RESPONSE_SIZE};

/// How long a client waits for the network, per attempt (a whole call's deadline is
/// [`CallOptions::timeout`](crate::CallOptions::timeout)).
///
/// ```
/// # use std::time::Duration;
/// use gouvgen_runtime::Timeouts;
/// let t = Timeouts { attempt: Duration::from_secs(5), ..Timeouts::default() };
/// assert_eq!(t.connect, Duration::from_secs(10));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Opening a connection (default 10 s).
    pub connect: Duration,
    /// One attempt, response body included (default 30 s); also bounds a token request.
    pub attempt: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            attempt: Duration::from_secs(30),
        }
    }
}

/// The largest bodies a client reads: a larger one is an error, not an allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyLimits {
    /// An API response (default 32 MiB); a larger one gives
    /// [`Error::ResponseTooLarge`](crate::Error::ResponseTooLarge).
    pub response: usize,
    /// A token endpoint response (default 64 KiB).
    pub token_response: usize,
}

impl Default for BodyLimits {
    fn default() -> Self {
        BodyLimits {
            response: DEFAULT_MAX_RESPONSE_SIZE,
            token_response: DEFAULT_MAX_TOKEN_RESPONSE_SIZE,
        }
    }
}
