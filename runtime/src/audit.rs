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
    /// Stores one record. Failures are the sink's to report (the call is not failed).
    fn record(&self, record: &AuditRecord);
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

/// An append-only JSON-lines file: one line per call, written with one `write` (no userspace
/// buffer, so each line reaches the OS when the call ends).
#[derive(Debug)]
pub struct JsonLinesAuditSink {
    file: Mutex<File>,
}

impl JsonLinesAuditSink {
    /// Opens (or creates) `path` for appending.
    pub fn open(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path.as_ref())?;
        Ok(JsonLinesAuditSink {
            file: Mutex::new(file),
        })
    }
}

impl AuditSink for JsonLinesAuditSink {
    fn record(&self, record: &AuditRecord) {
        let mut line = match serde_json::to_vec(record) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(error = %e, "audit record not serializable");
                return;
            }
        };
        line.push(b'\n');
        let mut f = self.file.lock_unpoisoned();
        if let Err(e) = f.write_all(&line).and_then(|()| f.flush()) {
            tracing::error!(error = %e, correlation_id = %record.correlation_id, "audit file write failed");
        }
    }
}
