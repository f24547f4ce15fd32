//! The account-, host- and audit-level parts of a client, kept apart from the call pipeline
//! in [`crate::client`]: builder options (fleet store, circuit breaker, audit sinks), what they
//! build, and the two per-call hooks the pipeline calls (admit an attempt; audit the call).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chrono::Utc;

use crate::audit::{AuditOutcome, AuditRecord, AuditSink, JsonLinesAuditSink, TracingAuditSink};
use crate::auth::{ApiKey, Auth, Clock};
use crate::breaker::{self, CircuitBreaker, HostBreaker, Permit};
use crate::client::{ApiClientBuilder, Traceability};
use crate::error::{Error, Undocumented};
use crate::rate_limit::RateLimit;
use crate::request::Request;
use crate::response::RawResponse;
use crate::shared::fleet::{Fleet, StoreHandle};
use crate::shared::limiter::Limiter;
use crate::shared::{self, SharedStore};

/// Default timeout of one fleet store operation.
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_millis(250);

/// Builder settings beyond the call pipeline.
#[derive(Debug)]
pub(crate) struct BuilderExt {
    store: Option<Arc<dyn SharedStore>>,
    store_timeout: Duration,
    store_error: Option<String>,
    breaker: Option<CircuitBreaker>,
    audit: Vec<Arc<dyn AuditSink>>,
    audit_files: Vec<PathBuf>,
    audit_required: bool,
}

impl Default for BuilderExt {
    fn default() -> Self {
        BuilderExt {
            store: None,
            store_timeout: DEFAULT_STORE_TIMEOUT,
            store_error: None,
            breaker: Some(CircuitBreaker::default()),
            audit: Vec::new(),
            audit_files: Vec::new(),
            audit_required: false,
        }
    }
}

/// What a built client holds beyond the pipeline.
#[derive(Debug)]
pub(crate) struct ClientExt {
    breaker: Option<Arc<HostBreaker>>,
    pub(crate) audit: Vec<Arc<dyn AuditSink>>,
    /// Refuse calls while an audit sink is failing.
    pub(crate) audit_required: bool,
    /// The account's view of the fleet store, if any (rotated credentials attach to it too).
    pub(crate) fleet: Option<Fleet>,
}

impl BuilderExt {
    /// Builds the account's limiter and the extensions of a client.
    pub(crate) fn finish(
        self,
        api_root: &str,
        auth: &Auth,
        api_keys: &[ApiKey],
        rate_limit: Option<RateLimit>,
        clock: Option<Arc<dyn Clock>>,
    ) -> Result<(Limiter, ClientExt), Error> {
        let cfg = |message: String| Error::InvalidConfig { message };
        if let Some(e) = self.store_error {
            return Err(cfg(e));
        }
        let account = shared::account_of(api_root, auth, api_keys);
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
        let limiter = Limiter::new(account, rate_limit, fleet.clone());
        let mut audit = self.audit;
        for path in self.audit_files {
            let sink = JsonLinesAuditSink::open(&path)
                .map_err(|e| cfg(format!("audit file {}: {e}", path.display())))?;
            audit.push(Arc::new(sink));
        }
        Ok((
            limiter,
            ClientExt {
                breaker,
                audit,
                audit_required: self.audit_required,
                fleet,
            },
        ))
    }
}

impl ApiClientBuilder {
    /// Shares tokens, the rate limit and 429 pauses of this client's account with every
    /// process using `store` (see [`crate::shared`]). Store failures never fail a call: the
    /// client falls back to process-local state with one warning.
    pub fn shared_store(mut self, store: Arc<dyn SharedStore>) -> Self {
        self.ext.store = Some(store);
        self
    }

    /// Timeout of one fleet store operation (default 250 ms): a slow store holds a call at
    /// most this long per operation before the local fallback is used.
    pub fn shared_store_timeout(mut self, timeout: Duration) -> Self {
        self.ext.store_timeout = timeout;
        self
    }

    /// Shares tokens, limits and 429 pauses through Redis at `url` (`redis://` or
    /// `rediss://`, with `user:password@` for AUTH). Clients given the same URL share one
    /// connection. Feature `redis`.
    #[cfg(feature = "redis")]
    pub fn redis(mut self, url: &str) -> Self {
        match crate::shared::redis::RedisStore::shared(url) {
            Ok(store) => self.ext.store = Some(store),
            Err(e) => self.ext.store_error = Some(e.to_string()),
        }
        self
    }

    /// Sets the circuit breaker of the gateway host (on by default, see [`CircuitBreaker`]).
    /// The first client of a host in the process sets its thresholds.
    pub fn circuit_breaker(mut self, config: CircuitBreaker) -> Self {
        self.ext.breaker = Some(config);
        self
    }

    /// Disables the circuit breaker for this client.
    pub fn no_circuit_breaker(mut self) -> Self {
        self.ext.breaker = None;
        self
    }

    /// Sends one [`AuditRecord`] per call to `sink` (several sinks may be added).
    pub fn audit_sink(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.ext.audit.push(sink);
        self
    }

    /// Appends one JSON line per call to the file at `path` (opened by `build`).
    pub fn audit_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ext.audit_files.push(path.into());
        self
    }

    /// Refuses calls, before anything is sent, while one of the client's audit sinks reports
    /// it is failing ([`AuditSink::health`], e.g. the audit file's disk is full): the call
    /// fails with [`Error::AuditFailing`]. For teams whose obligations require the trail. The
    /// refused call is offered to the sinks too; once a record is written again, calls go.
    pub fn audit_required(mut self, required: bool) -> Self {
        self.ext.audit_required = required;
        self
    }

    /// Emits one INFO `tracing` event per call, target `gouvgen::audit`.
    pub fn audit_tracing(self) -> Self {
        self.audit_sink(Arc::new(TracingAuditSink))
    }
}

/// One call's hooks: the attempt counter, the breaker and the audit record's fixed parts.
pub(crate) struct CallHooks<'a> {
    ext: &'a ClientExt,
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
        ext: &'a ClientExt,
        req: &Request,
        correlation_id: &str,
        traceability: impl FnOnce() -> Option<Traceability>,
    ) -> Self {
        let audit = (!ext.audit.is_empty()).then(|| AuditStart {
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
            ext,
            attempts: AtomicU32::new(0),
            audit,
        }
    }

    /// Before each attempt: counts it and asks the host's breaker.
    pub(crate) async fn admit(&self, req: &Request, correlation_id: &str) -> Result<Permit, Error> {
        let Some(b) = &self.ext.breaker else {
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
        for sink in &self.ext.audit {
            sink.record(&record);
        }
    }
}
