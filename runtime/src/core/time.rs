//! Where the runtime reads the time: token expiry, JWT checks and the circuit breaker's
//! cooldown all go through a [`Clock`], so tests can move time by hand (`ManualClock`,
//! feature `test-util`) instead of sleeping.

use std::fmt;
use std::time::Instant;

use chrono::{DateTime, Utc};

/// Source of time for token expiry, JWT checks and the circuit breaker.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Monotonic now.
    fn now(&self) -> Instant;
    /// Wall-clock now.
    fn now_utc(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The real clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

#[cfg(any(test, feature = "test-util"))]
pub use manual::ManualClock;

#[cfg(any(test, feature = "test-util"))]
mod manual {
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    use chrono::{DateTime, Utc};

    use super::Clock;
    use crate::core::sync::LockExt;

    /// A clock that moves only when told to (feature `test-util`).
    #[derive(Debug)]
    pub struct ManualClock {
        base: Instant,
        base_utc: DateTime<Utc>,
        offset: Mutex<Duration>,
    }

    impl ManualClock {
        /// A clock starting at the real current time.
        pub fn new() -> Self {
            ManualClock {
                base: Instant::now(),
                base_utc: Utc::now(),
                offset: Mutex::new(Duration::ZERO),
            }
        }

        /// Moves the clock forward.
        pub fn advance(&self, by: Duration) {
            *self.offset.lock_unpoisoned() += by;
        }
    }

    impl Default for ManualClock {
        fn default() -> Self {
            Self::new()
        }
    }

    impl Clock for ManualClock {
        fn now(&self) -> Instant {
            self.base + *self.offset.lock_unpoisoned()
        }
        fn now_utc(&self) -> DateTime<Utc> {
            let offset = *self.offset.lock_unpoisoned();
            self.base_utc + chrono::Duration::from_std(offset).unwrap_or_default()
        }
    }
}
