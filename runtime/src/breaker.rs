//! Degraded mode: a circuit breaker per gateway host.
//!
//! During an outage or a ban every call would wait the full connect or request timeout, up to
//! three attempts. After [`CircuitBreaker::failures`] consecutive transport failures, timeouts
//! or 5xx answers from one host, calls to that host fail at once with
//! [`Error::Unavailable`](crate::Error::Unavailable) for [`CircuitBreaker::cooldown`]; then one
//! call goes through as a probe (half-open): its success closes the circuit, its failure opens
//! it again. One breaker per `scheme://host:port`, shared by every client of the process.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::Duration;

use tokio::time::Instant;

/// Thresholds of the circuit breaker (on by default: 10 consecutive failures, 30 s cooldown).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CircuitBreaker {
    /// Consecutive failed attempts (transport failure, timeout, 5xx) that open the circuit.
    pub failures: u32,
    /// How long an open circuit refuses calls before letting a probe through.
    pub cooldown: Duration,
}

impl Default for CircuitBreaker {
    fn default() -> Self {
        CircuitBreaker {
            failures: 10,
            cooldown: Duration::from_secs(30),
        }
    }
}

impl CircuitBreaker {
    /// Opens after `failures` consecutive failures (at least 1), for `cooldown`.
    pub fn new(failures: u32, cooldown: Duration) -> Self {
        CircuitBreaker {
            failures: failures.max(1),
            cooldown,
        }
    }
}

#[derive(Debug)]
enum State {
    Closed {
        consecutive: u32,
    },
    Open {
        until: Instant,
    },
    /// A probe is in flight; everyone else is refused until it reports.
    HalfOpen,
}

/// The breaker of one host.
#[derive(Debug)]
pub(crate) struct HostBreaker {
    host: String,
    config: CircuitBreaker,
    state: Mutex<State>,
}

/// Why a call was refused at once.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    pub host: String,
    /// Time left before a probe is allowed (zero: a probe is in flight).
    pub retry_in: Duration,
}

/// Permission to send one attempt; report its outcome with [`Permit::finish`]. A probe dropped
/// without a report (the caller was cancelled) lets the next call probe at once.
#[derive(Debug)]
pub(crate) struct Permit {
    breaker: Option<Arc<HostBreaker>>,
    probe: bool,
}

impl HostBreaker {
    pub(crate) fn new(host: String, config: CircuitBreaker) -> Self {
        HostBreaker {
            host,
            config,
            state: Mutex::new(State::Closed { consecutive: 0 }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lets an attempt through, or refuses it while the circuit is open.
    pub(crate) fn admit(self: &Arc<Self>) -> Result<Permit, Refusal> {
        let mut st = self.lock();
        let now = Instant::now();
        match *st {
            State::Closed { .. } => Ok(Permit {
                breaker: Some(Arc::clone(self)),
                probe: false,
            }),
            State::Open { until } if now < until => Err(Refusal {
                host: self.host.clone(),
                retry_in: until - now,
            }),
            State::Open { .. } => {
                *st = State::HalfOpen;
                tracing::info!(host = %self.host, "circuit half-open: sending one probe");
                Ok(Permit {
                    breaker: Some(Arc::clone(self)),
                    probe: true,
                })
            }
            State::HalfOpen => Err(Refusal {
                host: self.host.clone(),
                retry_in: Duration::ZERO,
            }),
        }
    }

    fn report(&self, failed: bool, probe: bool) {
        let mut st = self.lock();
        match (&mut *st, failed) {
            (State::Closed { consecutive }, true) => {
                *consecutive += 1;
                if *consecutive >= self.config.failures {
                    tracing::warn!(
                        host = %self.host,
                        failures = *consecutive,
                        cooldown_s = self.config.cooldown.as_secs_f64(),
                        "circuit open: calls to this host fail at once until the cooldown ends"
                    );
                    *st = State::Open {
                        until: Instant::now() + self.config.cooldown,
                    };
                }
            }
            (State::Closed { consecutive }, false) => *consecutive = 0,
            (State::HalfOpen, true) if probe => {
                tracing::warn!(host = %self.host, "probe failed: circuit open again");
                *st = State::Open {
                    until: Instant::now() + self.config.cooldown,
                };
            }
            (State::HalfOpen, false) if probe => {
                tracing::info!(host = %self.host, "probe succeeded: circuit closed");
                *st = State::Closed { consecutive: 0 };
            }
            // Late reports of attempts admitted before the circuit opened change nothing.
            _ => {}
        }
    }
}

impl Permit {
    /// A permit for a client without breaker.
    pub(crate) fn none() -> Self {
        Permit {
            breaker: None,
            probe: false,
        }
    }

    /// Reports the attempt: `status` of the response, or `None` for a transport failure or
    /// timeout.
    pub(crate) fn finish(mut self, status: Option<u16>) {
        if let Some(b) = self.breaker.take() {
            b.report(status.is_none_or(|s| s >= 500), self.probe);
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(b) = self.breaker.take() {
            if self.probe {
                let mut st = b.lock();
                if matches!(*st, State::HalfOpen) {
                    *st = State::Open {
                        until: Instant::now(),
                    };
                }
            }
        }
    }
}

static BREAKERS: LazyLock<Mutex<HashMap<String, Weak<HostBreaker>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The process-wide breaker of `host` (the first client of a host sets its thresholds).
pub(crate) fn host_breaker(host: String, config: CircuitBreaker) -> Arc<HostBreaker> {
    let mut reg = BREAKERS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(b) = reg.get(&host).and_then(Weak::upgrade) {
        return b;
    }
    reg.retain(|_, w| w.strong_count() > 0);
    let b = Arc::new(HostBreaker::new(host.clone(), config));
    reg.insert(host, Arc::downgrade(&b));
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker(n: u32) -> Arc<HostBreaker> {
        Arc::new(HostBreaker::new(
            "http://h:1".into(),
            CircuitBreaker::new(n, Duration::from_secs(30)),
        ))
    }

    #[tokio::test(start_paused = true)]
    async fn opens_after_consecutive_failures_then_probes() {
        let b = breaker(3);
        for _ in 0..2 {
            b.admit().unwrap().finish(None);
        }
        // A success resets the count.
        b.admit().unwrap().finish(Some(200));
        for _ in 0..3 {
            b.admit().unwrap().finish(Some(503));
        }
        let r = b.admit().unwrap_err();
        assert!(r.retry_in > Duration::from_secs(29));
        tokio::time::advance(Duration::from_secs(30)).await;
        let probe = b.admit().unwrap();
        // Only one probe at a time.
        assert_eq!(b.admit().unwrap_err().retry_in, Duration::ZERO);
        probe.finish(Some(200));
        b.admit().unwrap().finish(Some(200));
    }

    #[tokio::test(start_paused = true)]
    async fn failed_probe_reopens_and_dropped_probe_frees_the_slot() {
        let b = breaker(1);
        b.admit().unwrap().finish(None);
        assert!(b.admit().is_err());
        tokio::time::advance(Duration::from_secs(31)).await;
        b.admit().unwrap().finish(Some(500));
        assert!(b.admit().unwrap_err().retry_in > Duration::from_secs(29));
        tokio::time::advance(Duration::from_secs(31)).await;
        drop(b.admit().unwrap());
        // The cancelled probe did not leave the circuit stuck half-open.
        let p = b.admit().unwrap();
        p.finish(Some(204));
        assert!(b.admit().is_ok());
    }

    #[test]
    fn client_errors_do_not_count() {
        let b = breaker(1);
        b.admit().unwrap().finish(Some(404));
        b.admit().unwrap().finish(Some(429));
        assert!(b.admit().is_ok());
    }
}
