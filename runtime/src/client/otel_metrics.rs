//! The client's OpenTelemetry instruments (feature `otel`) and what feeds them from a
//! response: the quota the gateway announces. Attributes are bounded in cardinality:
//! operation ids, path templates, status codes and classes, a hashed account, and at most
//! [`MAX_QUOTA_WINDOWS`] quota windows per client; never a value from a path, query or body.

use std::sync::Mutex;

use http::HeaderMap;
use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Gauge, Histogram, Meter};

use crate::core::sync::LockExt;

/// Bucket bounds of `http.client.request.duration`, as the semantic conventions advise (s).
const DURATION_BOUNDS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Bucket bounds of a whole call's duration, waits included (s): up to the 429 pauses.
const CALL_BOUNDS: [f64; 16] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0,
];

/// Distinct PISTE `x-rate-limit` windows a client labels; others are labelled `other` (the
/// server chooses the windows: it must not choose our metric series).
pub(super) const MAX_QUOTA_WINDOWS: usize = 8;

/// Windows read from one `x-rate-limit` header at most.
const MAX_WINDOWS_PER_HEADER: usize = 4;

/// Every instrument of one client.
pub(super) struct Metrics {
    pub request_duration: Histogram<f64>,
    pub call_duration: Histogram<f64>,
    pub rate_limited: Counter<u64>,
    pub pauses: Counter<u64>,
    pub token_fetches: Counter<u64>,
    pub breaker_transitions: Counter<u64>,
    pub quota_remaining: Gauge<u64>,
    pub credential_expiry: Gauge<f64>,
    /// The `x-rate-limit` window labels seen so far (bounded).
    windows: Mutex<Vec<String>>,
}

impl Metrics {
    pub(super) fn new(m: &Meter) -> Self {
        Metrics {
            request_duration: m
                .f64_histogram("http.client.request.duration")
                .with_unit("s")
                .with_description("Duration of HTTP client requests (one per attempt).")
                .with_boundaries(DURATION_BOUNDS.to_vec())
                .build(),
            call_duration: m
                .f64_histogram("gouvgen.client.call.duration")
                .with_unit("s")
                .with_description(
                    "Duration of whole calls (attempts, retries, waits); its count is the calls, by outcome.",
                )
                .with_boundaries(CALL_BOUNDS.to_vec())
                .build(),
            rate_limited: counter(
                m,
                "gouvgen.client.rate_limited",
                "HTTP 429 responses received.",
            ),
            pauses: counter(
                m,
                "gouvgen.client.pauses",
                "Pauses of every call of an account (429, exhausted quota).",
            ),
            token_fetches: counter(
                m,
                "gouvgen.client.token.fetches",
                "OAuth token endpoint requests.",
            ),
            breaker_transitions: counter(
                m,
                "gouvgen.client.breaker.transitions",
                "Circuit breaker state changes, by new state.",
            ),
            quota_remaining: m
                .u64_gauge("gouvgen.client.quota.remaining")
                .with_unit("{request}")
                .with_description("Calls left in the gateway's announced quota.")
                .build(),
            credential_expiry: m
                .f64_gauge("gouvgen.client.credential.time_to_expiry")
                .with_unit("d")
                .with_description("Days until the credential (JWT, client secret) expires.")
                .build(),
            windows: Mutex::new(Vec::new()),
        }
    }

    /// Records the quota a response announces: `RateLimit-Remaining` (API Entreprise, API
    /// Particulier) and each window of PISTE's `x-rate-limit`, with the attributes `base`
    /// makes (only when there is a quota to record).
    pub(super) fn record_quota(&self, headers: &HeaderMap, base: impl Fn() -> Vec<KeyValue>) {
        if let Some(n) = number(headers, "ratelimit-remaining") {
            let mut attrs = base();
            attrs.push(KeyValue::new("gouvgen.quota.source", "ratelimit"));
            self.quota_remaining.record(n, &attrs);
        }
        let Some(v) = headers.get("x-rate-limit") else {
            return;
        };
        for (window_ms, remaining) in rate_limit_windows(v.as_bytes()) {
            let mut attrs = base();
            attrs.push(KeyValue::new("gouvgen.quota.source", "x-rate-limit"));
            attrs.push(KeyValue::new(
                "gouvgen.quota.window",
                self.window_label(window_ms),
            ));
            self.quota_remaining.record(remaining, &attrs);
        }
    }

    /// `<n>ms` for the first [`MAX_QUOTA_WINDOWS`] distinct windows, `other` after.
    fn window_label(&self, window_ms: u64) -> String {
        let label = format!("{window_ms}ms");
        let mut seen = self.windows.lock_unpoisoned();
        if seen.contains(&label) {
            return label;
        }
        if seen.len() < MAX_QUOTA_WINDOWS {
            seen.push(label.clone());
            return label;
        }
        "other".to_owned()
    }
}

fn counter(m: &Meter, name: &'static str, description: &'static str) -> Counter<u64> {
    m.u64_counter(name).with_description(description).build()
}

/// A header holding one non-negative integer.
fn number(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// `(window in ms, remaining)` of PISTE's `x-rate-limit` (`[{"window": ms, "remaining": n}]`
/// or one such object); entries with a missing, negative or non-integer value are skipped.
pub(super) fn rate_limit_windows(v: &[u8]) -> Vec<(u64, u64)> {
    let Ok(list) = serde_json::from_slice::<serde_json::Value>(v) else {
        return Vec::new();
    };
    let items = match &list {
        serde_json::Value::Array(a) => a.as_slice(),
        serde_json::Value::Object(_) => std::slice::from_ref(&list),
        _ => return Vec::new(),
    };
    items
        .iter()
        .take(MAX_WINDOWS_PER_HEADER)
        .filter_map(|w| {
            let window = w.get("window")?.as_u64()?;
            let remaining = w.get("remaining")?.as_u64()?;
            Some((window, remaining))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x_rate_limit_windows_are_read_and_bounded() {
        let v = br#"[{"window":1000,"remaining":3},{"window":60000,"remaining":0}]"#;
        assert_eq!(rate_limit_windows(v), vec![(1000, 3), (60000, 0)]);
        assert_eq!(
            rate_limit_windows(br#"{"window":1000,"remaining":2}"#),
            vec![(1000, 2)]
        );
        for bad in [
            &b"nope"[..],
            b"[1,2]",
            br#"[{"window":-1,"remaining":2}]"#,
            b"42",
        ] {
            assert!(rate_limit_windows(bad).is_empty());
        }
        let many = format!(
            "[{}]",
            (0..50)
                .map(|i| format!(r#"{{"window":{i},"remaining":1}}"#))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(
            rate_limit_windows(many.as_bytes()).len(),
            MAX_WINDOWS_PER_HEADER
        );
    }

    #[test]
    fn window_labels_are_bounded_per_client() {
        let m = Metrics::new(&opentelemetry::global::meter("test"));
        let labels: Vec<String> = (0..20).map(|i| m.window_label(i * 1000)).collect();
        assert_eq!(labels[0], "0ms");
        assert_eq!(
            labels[MAX_QUOTA_WINDOWS - 1],
            format!("{}ms", (MAX_QUOTA_WINDOWS - 1) * 1000)
        );
        assert!(labels[MAX_QUOTA_WINDOWS..].iter().all(|l| l == "other"));
        assert_eq!(m.window_label(0), "0ms");
    }
}
