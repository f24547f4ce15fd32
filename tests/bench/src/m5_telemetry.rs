//! Measure 5, telemetry: the per-call cost of the runtime's OpenTelemetry spans and metrics
//! (feature `otel`), against the same client with telemetry off. Calls through
//! `ApiClient::execute`, warm token, loopback server, clients interleaved in a random order.

use serde_json::Value;

use crate::harness::Harness;
use crate::report::{Table, h};
use crate::stats::ratio;

pub struct TelemetryResult {
    pub json: Value,
}

pub fn run(h: &Harness, calls: usize) -> Result<TelemetryResult, String> {
    let json = h.run(&["telemetry".into(), calls.to_string()])?;
    Ok(TelemetryResult { json })
}

impl TelemetryResult {
    fn medians(&self) -> Vec<(String, f64, f64)> {
        self.json["rows"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|r| {
                (
                    r["client"].as_str().unwrap_or("?").to_string(),
                    r["latency"]["median_us"].as_f64().unwrap_or(f64::NAN),
                    r["latency"]["p99_us"].as_f64().unwrap_or(f64::NAN),
                )
            })
            .collect()
    }

    /// Median with telemetry on (traces and metrics, no propagation) over off.
    pub fn overhead(&self) -> f64 {
        let m = self.medians();
        match (m.first(), m.get(1)) {
            (Some(off), Some(on)) => on.1 / off.1,
            _ => f64::NAN,
        }
    }

    pub fn section(&self) -> String {
        let j = &self.json;
        let mut s = format!(
            "### Telemetry overhead\n\n\
             Calls through `ApiClient::execute` (no generated code) of a runtime built with the \
             `otel` feature, OAuth client credentials with a warm token, loopback server, {} \
             sequential calls per client, interleaved in a random order every round. \"On\": \
             spans (one per call, one per attempt) to an `opentelemetry_sdk` tracer provider \
             with a batch span processor, and every metric to a meter provider with a periodic \
             reader (in-memory exporters: the export runs off the call's path, as in a \
             service). {} spans exported.\n\n",
            j["calls"], j["spans_exported"]
        );
        let mut tab = Table::new(h(&["client", "median", "p99", "median / telemetry off"]));
        let rows = self.medians();
        let base = rows.first().map_or(f64::NAN, |r| r.1);
        for (name, m, p) in &rows {
            tab.row(vec![
                name.clone(),
                format!("{m:.0} µs"),
                format!("{p:.0} µs"),
                ratio(*m, base),
            ]);
        }
        s.push_str(&tab.render());
        s
    }
}
