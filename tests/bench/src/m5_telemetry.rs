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

/// One row: (path, client, median µs, p99 µs).
type Row = (String, String, f64, f64);

impl TelemetryResult {
    fn rows(&self) -> Vec<Row> {
        let text = |v: &Value| v.as_str().unwrap_or("?").to_string();
        self.json["rows"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|r| {
                (
                    text(&r["path"]),
                    text(&r["client"]),
                    r["latency"]["median_us"].as_f64().unwrap_or(f64::NAN),
                    r["latency"]["p99_us"].as_f64().unwrap_or(f64::NAN),
                )
            })
            .collect()
    }

    /// Per path: median with traces and metrics over the same path with telemetry off, and
    /// the difference in µs.
    pub fn overheads(&self) -> Vec<(String, f64, f64)> {
        let rows = self.rows();
        let median = |path: &str, client: &str| {
            rows.iter()
                .find(|r| r.0 == path && r.1 == client)
                .map_or(f64::NAN, |r| r.2)
        };
        let mut paths: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
        paths.dedup();
        paths
            .into_iter()
            .map(|p| {
                let (off, on) = (median(&p, "telemetry off"), median(&p, "traces + metrics"));
                (p, on / off, on - off)
            })
            .collect()
    }

    pub fn section(&self) -> String {
        let j = &self.json;
        let mut s = format!(
            "### Telemetry overhead\n\n\
             Measured with `cargo run -p gouvgen-bench -- --only telemetry --no-peers` (the \
             harness is built in release). A runtime built with the `otel` feature, OAuth client \
             credentials with a warm token, loopback server; \"runtime call\": \
             `ApiClient::execute` alone (measure 8's call), \"generated client\": the generated \
             client's `get_unite_legale` with the small payload decoded into typed structs \
             (measure 5's call). {} sequential calls per row, every row interleaved in a random \
             order each round. \"traces + metrics\": spans (one per call, one per attempt) to an \
             `opentelemetry_sdk` tracer provider with a batch span processor, and every metric \
             to a meter provider with a periodic reader (in-memory exporters: the export runs \
             off the call's path, as in a service); {} spans exported.\n\n",
            j["calls"], j["spans_exported"]
        );
        let mut tab = Table::new(h(&[
            "call",
            "client",
            "median",
            "p99",
            "median / telemetry off",
        ]));
        let rows = self.rows();
        for (path, name, m, p) in &rows {
            let base = rows
                .iter()
                .find(|r| &r.0 == path && r.1 == "telemetry off")
                .map_or(f64::NAN, |r| r.2);
            tab.row(vec![
                path.clone(),
                name.clone(),
                format!("{m:.1} µs"),
                format!("{p:.0} µs"),
                ratio(*m, base),
            ]);
        }
        s.push_str(&tab.render());
        s
    }
}
