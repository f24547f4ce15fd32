//! Audit trail: one record per call, to pluggable sinks.
//!
//! API Entreprise and API Particulier require calls for personal data to be traceable for 36
//! months. A record names the call (operation, method, path *template*), its correlation IDs,
//! the traceability values the caller gave, attempts, duration and outcome. It never holds a
//! credential, a path or query value, a header or a body.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::core::sync::LockExt;
use crate::gateway::traceability::Traceability;

/// How a call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    /// A 2xx/3xx response.
    Success,
    /// A 4xx/5xx response.
    ErrorResponse,
    /// Transport failure or timeout.
    Transport,
    /// Refused at once by an open circuit breaker.
    Unavailable,
    /// No token (refused, endpoint unreachable).
    Auth,
    /// Refused before sending (invalid request, missing traceability).
    Invalid,
    /// Any other failure.
    Other,
}

/// One call, as audited.
#[derive(Clone, Debug, Serialize)]
pub struct AuditRecord {
    /// When the call started (UTC).
    pub time: DateTime<Utc>,
    /// Operation id.
    pub operation_id: &'static str,
    /// HTTP method.
    pub method: String,
    /// Path template of the operation (`/v3/insee/sirene/unites_legales/{siren}`), if the
    /// generated code gave one; never the path sent.
    pub path_template: Option<&'static str>,
    /// HTTP status of the last response, if any.
    pub status: Option<u16>,
    /// Our correlation ID (sent in every attempt).
    pub correlation_id: String,
    /// The gateway's correlation / request ID, if it sent one.
    pub gateway_correlation_id: Option<String>,
    /// Traceability values sent (`context`, `recipient`, `object`).
    pub traceability: Option<Traceability>,
    /// Attempts sent (0: refused before sending).
    pub attempts: u32,
    /// Duration of the call, waits included, in milliseconds.
    #[serde(serialize_with = "millis")]
    pub duration: Duration,
    /// How it ended.
    pub outcome: AuditOutcome,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 1e6).round() / 1e3)
}

/// Where audit records go. Called once per call, on the caller's task: keep it quick.
pub trait AuditSink: Send + Sync + fmt::Debug {
    /// Stores one record. Failures are the sink's to count and report (the call is not
    /// failed): see [`AuditSink::health`].
    fn record(&self, record: &AuditRecord);

    /// Records written and lost so far, and whether the sink is failing now. A client built
    /// with [`audit_required`](crate::ApiClientBuilder::audit_required) refuses calls while
    /// one of its sinks reports `failing`. The default (a sink that does not keep count):
    /// healthy, nothing counted.
    fn health(&self) -> AuditHealth {
        AuditHealth::default()
    }
}

/// What an audit sink reports about itself ([`AuditSink::health`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditHealth {
    /// Records written.
    pub written: u64,
    /// Records that could not be written (lost to this sink).
    pub dropped: u64,
    /// Whether the last write failed (cleared by the next record written).
    pub failing: bool,
    /// The last write error, if any (an OS error message: no record content, no secret).
    pub last_error: Option<String>,
}

/// For clients that require their audit trail: the call is refused, before anything is sent,
/// while a sink is failing. The refused call is itself offered to the sinks (as every call
/// is), so the first record that gets written again lifts the refusal.
pub(crate) fn ensure_audit_writable(
    required: bool,
    sinks: &[std::sync::Arc<dyn AuditSink>],
    operation_id: &'static str,
    correlation_id: &str,
) -> Result<(), crate::Error> {
    if !required {
        return Ok(());
    }
    match sinks.iter().map(|s| s.health()).find(|h| h.failing) {
        None => Ok(()),
        Some(h) => Err(crate::Error::AuditFailing {
            operation_id,
            correlation_id: correlation_id.to_owned(),
            dropped: h.dropped,
            last_error: h.last_error.unwrap_or_default(),
        }),
    }
}

/// A `tracing` event per call (target `gouvgen::audit`, level INFO).
#[derive(Clone, Copy, Debug, Default)]
pub struct TracingAuditSink;

impl AuditSink for TracingAuditSink {
    fn record(&self, r: &AuditRecord) {
        tracing::info!(
            target: "gouvgen::audit",
            operation_id = r.operation_id,
            method = %r.method,
            path_template = r.path_template.unwrap_or(""),
            status = r.status.unwrap_or(0),
            correlation_id = %r.correlation_id,
            gateway_correlation_id = r.gateway_correlation_id.as_deref().unwrap_or(""),
            context = r.traceability.as_ref().map(|t| t.context.as_str()).unwrap_or(""),
            recipient = r.traceability.as_ref().map(|t| t.recipient.as_str()).unwrap_or(""),
            object = r.traceability.as_ref().map(|t| t.object.as_str()).unwrap_or(""),
            attempts = r.attempts,
            duration_ms = r.duration.as_secs_f64() * 1e3,
            outcome = ?r.outcome,
            "call"
        );
    }
}

/// Called with each record a [`JsonLinesAuditSink`] could not write, and why.
pub type AuditFailureCallback = Box<dyn Fn(&AuditRecord, &std::io::Error) + Send + Sync>;

/// An append-only JSON-lines file: one line per call, written with one `write` (no userspace
/// buffer, so each line reaches the OS when the call ends).
///
/// A line is written whole or not at all: when a write fails or is short (disk full), the file
/// is cut back to its length before that write (`set_len`), so no half record stays behind
/// for the next one to be glued to. Every record that could not be written is counted
/// ([`AuditSink::health`]), logged at ERROR, and handed to the callback set with
/// [`JsonLinesAuditSink::on_failure`]. To poll it, open it yourself and give it to the client
/// with [`audit_sink`](crate::ApiClientBuilder::audit_sink), keeping the `Arc`. One writer per
/// file (this sink serializes its own writes; another process appending to the same file could
/// be cut by a failed write).
pub struct JsonLinesAuditSink {
    file: Mutex<FileState>,
    written: AtomicU64,
    dropped: AtomicU64,
    failing: AtomicBool,
    last_error: Mutex<Option<String>>,
    on_failure: Option<AuditFailureCallback>,
}

#[derive(Debug)]
struct FileState {
    file: File,
    /// A write failed and its partial line could not be cut: start the next with a newline.
    torn: bool,
}

impl fmt::Debug for JsonLinesAuditSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonLinesAuditSink")
            .field("health", &self.health())
            .field("on_failure", &self.on_failure.is_some())
            .finish_non_exhaustive()
    }
}

impl JsonLinesAuditSink {
    /// Opens (or creates) `path` for appending.
    pub fn open(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path.as_ref())?;
        Ok(JsonLinesAuditSink {
            file: Mutex::new(FileState { file, torn: false }),
            written: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            failing: AtomicBool::new(false),
            last_error: Mutex::new(None),
            on_failure: None,
        })
    }

    /// Calls `f` with every record that could not be written and the error (on the caller's
    /// task, after the failed write: keep it quick, e.g. hand the record to another store).
    pub fn on_failure(
        mut self,
        f: impl Fn(&AuditRecord, &std::io::Error) + Send + Sync + 'static,
    ) -> Self {
        self.on_failure = Some(Box::new(f));
        self
    }
}

/// Appends `line` with one `write`; on an error or a short write, cuts the file back to its
/// length before the write and returns the error.
fn append_whole(st: &mut FileState, line: &[u8]) -> std::io::Result<()> {
    let before = st.file.metadata()?.len();
    let result = loop {
        match st.file.write(line) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Ok(n) if n == line.len() => return Ok(()),
            Ok(n) => {
                break std::io::Error::new(
                    std::io::ErrorKind::StorageFull,
                    format!("short write: {n} of {} bytes", line.len()),
                );
            }
            Err(e) => break e,
        }
    };
    let cut = match st.file.metadata() {
        Ok(m) if m.len() == before => Ok(()),
        _ => st.file.set_len(before),
    };
    if let Err(e) = cut {
        st.torn = true;
        tracing::error!(error = %e, "audit file: a partial line could not be cut");
    }
    Err(result)
}

impl AuditSink for JsonLinesAuditSink {
    fn record(&self, record: &AuditRecord) {
        let written = serde_json::to_vec(record)
            .map_err(std::io::Error::other)
            .and_then(|mut line| {
                line.push(b'\n');
                let mut st = self.file.lock_unpoisoned();
                if st.torn {
                    line.insert(0, b'\n');
                }
                append_whole(&mut st, &line)?;
                st.torn = false;
                Ok(())
            });
        match written {
            Ok(()) => {
                self.written.fetch_add(1, Ordering::Relaxed);
                if self.failing.swap(false, Ordering::AcqRel) {
                    tracing::info!("audit file written again");
                }
            }
            Err(e) => {
                let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
                self.failing.store(true, Ordering::Release);
                *self.last_error.lock_unpoisoned() = Some(e.to_string());
                tracing::error!(
                    error = %e,
                    correlation_id = %record.correlation_id,
                    dropped,
                    "audit file write failed: record not written"
                );
                if let Some(f) = &self.on_failure {
                    f(record, &e);
                }
            }
        }
    }

    fn health(&self) -> AuditHealth {
        AuditHealth {
            written: self.written.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            failing: self.failing.load(Ordering::Acquire),
            last_error: self.last_error.lock_unpoisoned().clone(),
        }
    }
}
