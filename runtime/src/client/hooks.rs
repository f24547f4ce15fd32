//! The account-, host- and audit-level parts of a client, kept apart from the call pipeline
//! in [`crate::client`]: builder options (fleet store, circuit breaker, audit sinks), what they
//! build, and the two per-call hooks the pipeline calls (admit an attempt; audit the call).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chrono::Utc;

use crate::audit::{AuditOutcome, AuditRecord, AuditSink, JsonLinesAuditSink};
use crate::auth::{ApiKey, Auth};
use crate::core::time::Clock;
use crate::error::{Error, Undocumented};
use crate::fleet::handle::{Fleet, StoreHandle};
use crate::fleet::{SharedStore, StoreDown};
use crate::gateway::traceability::Traceability;
use crate::policy::breaker::{self, CircuitBreaker, HostBreaker, Permit};
use crate::policy::groups::{GroupLimits, Limits};
use crate::wire::request::Request;
use crate::wire::response::RawResponse;

/// Default timeout of one fleet store operation.
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_millis(250);

/// Builder settings of what outlives one call: the fleet store, the host breaker, audit sinks.
#[derive(Debug)]
pub(crate) struct SharedSettings {
    pub(super) store: Option<Arc<dyn SharedStore>>,
    pub(super) store_timeout: Duration,
    pub(super) store_error: Option<String>,
    pub(super) store_down: StoreDown,
    pub(super) breaker: Option<CircuitBreaker>,
    pub(super) audit: Vec<Arc<dyn AuditSink>>,
    pub(super) audit_files: Vec<PathBuf>,
    pub(super) audit_required: bool,
}

impl Default for SharedSettings {
    fn default() -> Self {
        SharedSettings {
            store: None,
            store_timeout: DEFAULT_STORE_TIMEOUT,
            store_error: None,
            store_down: StoreDown::default(),
            breaker: Some(CircuitBreaker::default()),
            audit: Vec::new(),
            audit_files: Vec::new(),
            audit_required: false,
        }
    }
}

/// What those settings build: the parts of a client shared beyond one call.
#[derive(Debug)]
pub(crate) struct SharedParts {
    breaker: Option<Arc<HostBreaker>>,
    pub(crate) audit: Vec<Arc<dyn AuditSink>>,
    /// Refuse calls while an audit sink is failing.
    pub(crate) audit_required: bool,
    /// The account's view of the fleet store, if any (rotated credentials attach to it too).
    pub(crate) fleet: Option<Fleet>,
    store_down: StoreDown,
}

impl SharedParts {
    /// Whether calls are refused now: the fleet store is down and the client chose
    /// [`StoreDown::FailClosed`].
    pub(crate) fn store_down_refuses(&self) -> bool {
        self.store_down == StoreDown::FailClosed
            && self.fleet.as_ref().is_some_and(|f| f.handle.is_down())
    }
}

impl SharedSettings {
    /// Builds the account's limiter and the extensions of a client.
    pub(crate) fn finish(
        self,
        api_root: &str,
        auth: &Auth,
        api_keys: &[ApiKey],
        rate_limits: GroupLimits,
        clock: Option<Arc<dyn Clock>>,
    ) -> Result<(Limits, SharedParts), Error> {
        let cfg = |message: String| Error::InvalidConfig { message };
        if let Some(e) = self.store_error {
            return Err(cfg(e));
        }
        let account = super::account::account_of(api_root, auth, api_keys);
        let fleet = self.store.map(|store| Fleet {
            handle: StoreHandle::new(store, self.store_timeout),
            prefix: account.fleet_key(),
        });
        if let (Auth::Token(p), Some(f)) = (auth, &fleet) {
            p.attach_fleet(f.clone());
        }
        let breaker = self
            .breaker
            .map(|c| breaker::host_breaker(account.api_host.clone(), c, clock));
        if let (Some(b), Some(f)) = (&breaker, &fleet) {
            b.attach_fleet(f.handle.clone());
        }
        let limiter = Limits::new(&account, rate_limits, fleet.as_ref());
        let mut audit = self.audit;
        for path in self.audit_files {
            let sink = JsonLinesAuditSink::open(&path)
                .map_err(|e| cfg(format!("audit file {}: {e}", path.display())))?;
            audit.push(Arc::new(sink));
        }
        Ok((
            limiter,
            SharedParts {
                breaker,
                audit,
                audit_required: self.audit_required,
                fleet,
                store_down: self.store_down,
            },
        ))
    }
}

/// One call's hooks: the attempt counter, the breaker and the audit record's fixed parts.
pub(crate) struct CallHooks<'a> {
    parts: &'a SharedParts,
    attempts: AtomicU32,
    audit: Option<AuditStart>,
}

struct AuditStart {
    time: chrono::DateTime<Utc>,
    started: tokio::time::Instant,
    operation_id: &'static str,
    method: String,
    path_template: Option<&'static str>,
    correlation_id: String,
    traceability: Option<Traceability>,
}

impl<'a> CallHooks<'a> {
    pub(crate) fn new(
        parts: &'a SharedParts,
        req: &Request,
        correlation_id: &str,
        traceability: impl FnOnce() -> Option<Traceability>,
    ) -> Self {
        let audit = (!parts.audit.is_empty()).then(|| AuditStart {
            time: Utc::now(),
            started: tokio::time::Instant::now(),
            operation_id: req.operation_id,
            method: req.method.to_string(),
            path_template: req.path_template,
            correlation_id: correlation_id.to_owned(),
            traceability: if req.traceability {
                traceability()
            } else {
                None
            },
        });
        CallHooks {
            parts,
            attempts: AtomicU32::new(0),
            audit,
        }
    }

    /// Before each attempt: counts it and asks the host's breaker.
    pub(crate) async fn admit(&self, req: &Request, correlation_id: &str) -> Result<Permit, Error> {
        let Some(b) = &self.parts.breaker else {
            self.attempts.fetch_add(1, Ordering::Relaxed);
            return Ok(Permit::none());
        };
        match b.admit().await {
            Ok(p) => {
                self.attempts.fetch_add(1, Ordering::Relaxed);
                Ok(p)
            }
            Err(r) => Err(Error::Unavailable {
                operation_id: req.operation_id,
                correlation_id: correlation_id.to_owned(),
                host: r.host,
                retry_in: r.retry_in,
            }),
        }
    }

    /// The host breaker's state (`None`: no breaker), for telemetry.
    #[cfg_attr(not(feature = "otel"), allow(dead_code))]
    pub(crate) fn breaker_state(&self) -> Option<&'static str> {
        self.parts.breaker.as_ref().map(|b| b.state_label())
    }

    /// After the call: one audit record per sink.
    pub(crate) fn finish(&self, result: &Result<RawResponse, Error<Undocumented>>) {
        let Some(a) = &self.audit else {
            return;
        };
        let (status, gateway_correlation_id, outcome) = match result {
            Ok(r) => (
                Some(r.status),
                r.gateway_correlation_id.clone(),
                if r.status < 400 {
                    AuditOutcome::Success
                } else {
                    AuditOutcome::ErrorResponse
                },
            ),
            Err(e) => (
                e.status(),
                e.gateway_correlation_id().map(str::to_owned),
                match e {
                    Error::Transport { .. } | Error::Timeout { .. } => AuditOutcome::Transport,
                    Error::Unavailable { .. } => AuditOutcome::Unavailable,
                    Error::TokenRefused(_) | Error::CredentialExpired { .. } => AuditOutcome::Auth,
                    Error::InvalidRequest { .. } | Error::InvalidConfig { .. } => {
                        AuditOutcome::Invalid
                    }
                    _ if e.status().is_some() => AuditOutcome::ErrorResponse,
                    _ => AuditOutcome::Other,
                },
            ),
        };
        let record = AuditRecord {
            time: a.time,
            operation_id: a.operation_id,
            method: a.method.clone(),
            path_template: a.path_template,
            status,
            correlation_id: a.correlation_id.clone(),
            gateway_correlation_id,
            traceability: a.traceability.clone(),
            attempts: self.attempts.load(Ordering::Relaxed),
            duration: a.started.elapsed(),
            outcome,
        };
        for sink in &self.parts.audit {
            sink.record(&record);
        }
    }
}
