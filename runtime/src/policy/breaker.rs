//! Degraded mode: a circuit breaker per gateway host.
//!
//! During an outage or a ban every call would wait the full connect or request timeout, up to
//! three attempts. After [`CircuitBreaker::failures`] consecutive transport failures, timeouts
//! or 5xx answers from one host, calls to that host fail at once with
//! [`Error::Unavailable`](crate::Error::Unavailable) for [`CircuitBreaker::cooldown`]; then one
//! call goes through as a probe (half-open): its success closes the circuit, its failure opens
//! it again. One breaker per `scheme://host:port`, shared by every client of the process.
//!
//! With a fleet store (Redis), the breaker is shared by the fleet too: a circuit one process
//! opens is open for all of them until the cooldown ends, and one process fleet-wide sends the
//! half-open probe (see `shared::breaker`). A store that is down or slow leaves each process
//! with its local breaker; it never fails a call.

use std::sync::{Arc, LazyLock, Mutex, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

use crate::core::registry::WeakRegistry;
use crate::core::sync::LockExt;
use crate::core::time::Clock;
use crate::fleet::handle::StoreHandle;
use crate::policy::fleet_breaker::{FleetBreaker, FleetState, Probe};

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
    /// The fleet's view of this host (the first client with a store attaches it).
    fleet: OnceLock<Arc<FleetBreaker>>,
    /// A client's injected clock (tests move it instead of sleeping through the cooldown);
    /// `None`: tokio's clock, which paused-time tests control.
    clock: Option<Arc<dyn Clock>>,
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
    /// The fleet's probe lease this probe holds, if any.
    lease: Option<String>,
}

/// What the local state says about the next attempt.
enum Local {
    Pass,
    Probe,
    Refuse(Duration),
}

impl HostBreaker {
    pub(crate) fn new(host: String, config: CircuitBreaker, clock: Option<Arc<dyn Clock>>) -> Self {
        HostBreaker {
            host,
            config,
            state: Mutex::new(State::Closed { consecutive: 0 }),
            fleet: OnceLock::new(),
            clock,
        }
    }

    fn now(&self) -> Instant {
        match &self.clock {
            Some(c) => Instant::from_std(c.now()),
            None => Instant::now(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock_unpoisoned()
    }

    /// The local state's name (`closed`, `open`, `half_open`), for telemetry.
    #[cfg_attr(not(feature = "otel"), allow(dead_code))]
    pub(crate) fn state_label(&self) -> &'static str {
        match *self.lock() {
            State::Closed { .. } => "closed",
            State::Open { .. } => "open",
            State::HalfOpen => "half_open",
        }
    }

    /// Shares this breaker through `handle`'s store (the first store attached wins).
    pub(crate) fn attach_fleet(&self, handle: StoreHandle) {
        let _ = self
            .fleet
            .get_or_init(|| FleetBreaker::new(handle, &self.host));
    }

    fn refusal(&self, retry_in: Duration) -> Refusal {
        Refusal {
            host: self.host.clone(),
            retry_in,
        }
    }

    fn permit(self: &Arc<Self>, probe: bool, lease: Option<String>) -> Permit {
        Permit {
            breaker: Some(Arc::clone(self)),
            probe,
            lease,
        }
    }

    fn local(&self, now: Instant) -> Local {
        match *self.lock() {
            State::Closed { .. } => Local::Pass,
            State::Open { until } if now < until => Local::Refuse(until - now),
            State::Open { .. } => Local::Probe,
            State::HalfOpen => Local::Refuse(Duration::ZERO),
        }
    }

    /// Lets an attempt through, or refuses it while the circuit is open (here or, with a fleet
    /// store, anywhere in the fleet).
    pub(crate) async fn admit(self: &Arc<Self>) -> Result<Permit, Refusal> {
        let now = self.now();
        let fleet = self.fleet.get();
        let mut decision = self.local(now);
        if let (Some(f), Local::Pass) = (fleet, &decision) {
            match f.state() {
                FleetState::Closed => {}
                FleetState::Open { until } => {
                    decision = Local::Refuse(until.saturating_duration_since(now))
                }
                FleetState::HalfOpen => decision = Local::Probe,
            }
        }
        match decision {
            Local::Pass => return Ok(self.permit(false, None)),
            Local::Refuse(left) => return Err(self.refusal(left)),
            Local::Probe => {}
        }
        // One probe per process: claim the local half-open slot first.
        {
            let mut st = self.lock();
            if matches!(*st, State::HalfOpen) || matches!(*st, State::Open { until } if now < until)
            {
                return Err(self.refusal(Duration::ZERO));
            }
            *st = State::HalfOpen;
        }
        // From here a cancelled caller frees the slot (the permit's drop).
        let mut permit = self.permit(true, None);
        if let Some(f) = fleet {
            let lease = self
                .config
                .cooldown
                .clamp(Duration::from_secs(1), Duration::from_secs(60));
            match f.take_probe(lease).await {
                Probe::Taken(owner) => permit.lease = Some(owner),
                Probe::StoreDown => {}
                other => {
                    // The fleet decides: another process probes, or it was settled meanwhile.
                    *self.lock() = State::Closed { consecutive: 0 };
                    permit.probe = false;
                    return match other {
                        Probe::Busy(left) => Err(self.refusal(left)),
                        _ => Ok(permit),
                    };
                }
            }
        }
        tracing::info!(host = %self.host, "circuit half-open: sending one probe");
        Ok(permit)
    }

    fn report(&self, failed: bool, probe: bool, lease: Option<String>) {
        let fleet = self.fleet.get();
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
                        until: self.now() + self.config.cooldown,
                    };
                    if let Some(f) = fleet {
                        f.opened(self.config.cooldown, None);
                    }
                }
            }
            (State::Closed { consecutive }, false) => *consecutive = 0,
            (State::HalfOpen, true) if probe => {
                tracing::warn!(host = %self.host, "probe failed: circuit open again");
                *st = State::Open {
                    until: self.now() + self.config.cooldown,
                };
                if let Some(f) = fleet {
                    f.opened(self.config.cooldown, lease);
                }
            }
            (State::HalfOpen, false) if probe => {
                tracing::info!(host = %self.host, "probe succeeded: circuit closed");
                *st = State::Closed { consecutive: 0 };
                if let Some(f) = fleet {
                    f.closed(lease);
                }
            }
            // Late reports of attempts admitted before the circuit opened change nothing.
            _ => {
                if let (Some(f), Some(_)) = (fleet, &lease) {
                    f.abandoned(lease);
                }
            }
        }
    }
}

impl Permit {
    /// Whether this attempt is the half-open circuit's probe.
    pub(crate) fn is_probe(&self) -> bool {
        self.probe
    }

    /// The probe is not sent (the gateway says it is down): reported as a failure, so the
    /// circuit opens again; the host and the cooldown, for the caller's error.
    pub(crate) fn fail_probe(mut self) -> (String, Duration) {
        let Some(b) = self.breaker.take() else {
            return (String::new(), Duration::ZERO);
        };
        let answer = (b.host.clone(), b.config.cooldown);
        b.report(true, self.probe, self.lease.take());
        answer
    }

    /// A permit for a client without breaker.
    pub(crate) fn none() -> Self {
        Permit {
            breaker: None,
            probe: false,
            lease: None,
        }
    }

    /// Reports the attempt: `status` of the response, or `None` for a transport failure or
    /// timeout.
    pub(crate) fn finish(mut self, status: Option<u16>) {
        if let Some(b) = self.breaker.take() {
            b.report(
                status.is_none_or(|s| s >= 500),
                self.probe,
                self.lease.take(),
            );
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(b) = self.breaker.take()
            && self.probe
        {
            let mut st = b.lock();
            if matches!(*st, State::HalfOpen) {
                *st = State::Open { until: b.now() };
            }
            if let Some(f) = b.fleet.get() {
                f.abandoned(self.lease.take());
            }
        }
    }
}

static BREAKERS: LazyLock<WeakRegistry<String, HostBreaker>> = LazyLock::new(WeakRegistry::default);

/// The process-wide breaker of `host` (the first client of a host sets its thresholds).
/// Clients with an injected clock share a breaker only with clients of the same clock.
pub(crate) fn host_breaker(
    host: String,
    config: CircuitBreaker,
    clock: Option<Arc<dyn Clock>>,
) -> Arc<HostBreaker> {
    let key = match &clock {
        Some(c) => format!("{host} clock@{:p}", Arc::as_ptr(c).cast::<()>()),
        None => host.clone(),
    };
    BREAKERS.get_or_insert(key, |_| true, |_| HostBreaker::new(host, config, clock))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker(n: u32) -> Arc<HostBreaker> {
        Arc::new(HostBreaker::new(
            "http://h:1".into(),
            CircuitBreaker::new(n, Duration::from_secs(30)),
            None,
        ))
    }

    #[tokio::test(start_paused = true)]
    async fn opens_after_consecutive_failures_then_probes() {
        let b = breaker(3);
        for _ in 0..2 {
            b.admit().await.unwrap().finish(None);
        }
        // A success resets the count.
        b.admit().await.unwrap().finish(Some(200));
        for _ in 0..3 {
            b.admit().await.unwrap().finish(Some(503));
        }
        let r = b.admit().await.unwrap_err();
        assert!(r.retry_in > Duration::from_secs(29));
        tokio::time::advance(Duration::from_secs(30)).await;
        let probe = b.admit().await.unwrap();
        // Only one probe at a time.
        assert_eq!(b.admit().await.unwrap_err().retry_in, Duration::ZERO);
        probe.finish(Some(200));
        b.admit().await.unwrap().finish(Some(200));
    }

    #[tokio::test(start_paused = true)]
    async fn failed_probe_reopens_and_dropped_probe_frees_the_slot() {
        let b = breaker(1);
        b.admit().await.unwrap().finish(None);
        assert!(b.admit().await.is_err());
        tokio::time::advance(Duration::from_secs(31)).await;
        b.admit().await.unwrap().finish(Some(500));
        assert!(b.admit().await.unwrap_err().retry_in > Duration::from_secs(29));
        tokio::time::advance(Duration::from_secs(31)).await;
        drop(b.admit().await.unwrap());
        // The cancelled probe did not leave the circuit stuck half-open.
        let p = b.admit().await.unwrap();
        p.finish(Some(204));
        assert!(b.admit().await.is_ok());
    }

    #[tokio::test]
    async fn client_errors_do_not_count() {
        let b = breaker(1);
        b.admit().await.unwrap().finish(Some(404));
        b.admit().await.unwrap().finish(Some(429));
        assert!(b.admit().await.is_ok());
    }
}
