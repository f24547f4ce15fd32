//! OpenTelemetry (feature `otel`): spans and metrics read back through a real SDK pipeline
//! (`opentelemetry_sdk` in-memory exporters) from calls to a loopback gateway.
#![cfg(feature = "otel")]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use common::*;
use gouvgen_runtime::opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use gouvgen_runtime::opentelemetry::{Context, KeyValue, Value, context::FutureExt};
use gouvgen_runtime::presets;
use gouvgen_runtime::{
    ApiClient, CircuitBreaker, Error, Method, Request, RetryPolicy, Telemetry, Undocumented,
};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};

const SECRET: &str = "p@ss w&rd+/=";
const SIREN: &str = "732829320";
const QUERY_VALUE: &str = "Dupont-Prive";
const API_KEY: &str = "apikey-SECRET-91";

/// A tracer and a meter provider exporting to memory.
struct Sdk {
    spans: InMemorySpanExporter,
    tracer: SdkTracerProvider,
    metrics: InMemoryMetricExporter,
    meter: SdkMeterProvider,
}

impl Sdk {
    fn new() -> Self {
        let spans = InMemorySpanExporter::default();
        let tracer = SdkTracerProvider::builder()
            .with_simple_exporter(spans.clone())
            .build();
        let metrics = InMemoryMetricExporter::default();
        let meter = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(metrics.clone()).build())
            .build();
        Sdk {
            spans,
            tracer,
            metrics,
            meter,
        }
    }

    fn telemetry(&self) -> Telemetry {
        Telemetry::new()
            .tracer_provider(&self.tracer)
            .meter_provider(&self.meter)
    }

    fn spans(&self) -> Vec<SpanData> {
        self.spans.get_finished_spans().unwrap()
    }

    /// The last cumulative export.
    fn metrics(&self) -> ResourceMetrics {
        self.meter.force_flush().unwrap();
        self.metrics.get_finished_metrics().unwrap().pop().unwrap()
    }
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attrs
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

fn int(attrs: &[KeyValue], key: &str) -> Option<i64> {
    match attr(attrs, key)? {
        Value::I64(i) => Some(*i),
        _ => None,
    }
}

fn text(attrs: &[KeyValue], key: &str) -> Option<String> {
    attr(attrs, key).map(|v| v.as_str().into_owned())
}

/// Data points of metric `name` as (attributes, value); sums and gauges as f64, histograms as
/// their count.
fn points(rm: &ResourceMetrics, name: &str) -> Vec<(HashMap<String, String>, f64)> {
    let mut out = Vec::new();
    let attrs = |it: &mut dyn Iterator<Item = &KeyValue>| {
        it.map(|kv| (kv.key.to_string(), kv.value.as_str().into_owned()))
            .collect::<HashMap<_, _>>()
    };
    for m in rm.scope_metrics().flat_map(|s| s.metrics()) {
        if m.name() != name {
            continue;
        }
        match m.data() {
            AggregatedMetrics::U64(MetricData::Sum(s)) => {
                for p in s.data_points() {
                    out.push((attrs(&mut p.attributes()), p.value() as f64));
                }
            }
            AggregatedMetrics::U64(MetricData::Gauge(g)) => {
                for p in g.data_points() {
                    out.push((attrs(&mut p.attributes()), p.value() as f64));
                }
            }
            AggregatedMetrics::F64(MetricData::Gauge(g)) => {
                for p in g.data_points() {
                    out.push((attrs(&mut p.attributes()), p.value()));
                }
            }
            AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                for p in h.data_points() {
                    out.push((attrs(&mut p.attributes()), p.count() as f64));
                }
            }
            other => panic!("{name}: unexpected data {other:?}"),
        }
    }
    out
}

fn total(rm: &ResourceMetrics, name: &str) -> f64 {
    points(rm, name).iter().map(|(_, v)| v).sum()
}

/// Everything an exporter could send of these spans and metrics, as text.
fn exported_text(sdk: &Sdk) -> String {
    let spans = sdk.spans();
    let rm = sdk.metrics();
    format!("{spans:?}\n{rm:?}")
}

/// The planted secrets and personal values, in every encoding they could leak in.
fn forbidden(extra: &[&str]) -> Vec<String> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let mut v = vec![
        SECRET.to_owned(),
        "p%40ss%20w%26rd%2B%2F%3D".to_owned(),
        "p%40ss+w%26rd%2B%2F%3D".to_owned(),
        b64(SECRET),
        b64(&format!("otel-client:{SECRET}")),
        API_KEY.to_owned(),
        SIREN.to_owned(),
        QUERY_VALUE.to_owned(),
    ];
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn assert_clean(sdk: &Sdk, extra: &[&str]) {
    let all = exported_text(sdk);
    // The text holds what was exported (so an absence below means something).
    assert!(all.contains("url.template") && all.contains("gouvgen.account"));
    for f in forbidden(extra) {
        assert!(!all.contains(&f), "{f:?} was exported");
    }
}

fn siren_request() -> Request {
    Request::new(
        Method::GET,
        "getUniteLegale",
        format!("/unites_legales/{SIREN}"),
    )
    .path_template("/unites_legales/{siren}")
    .query("nom", &QUERY_VALUE)
}

/// One `getUniteLegale` call, as the tests make it.
async fn call_siren(
    client: &ApiClient,
) -> Result<gouvgen_runtime::RawResponse, Error<Undocumented>> {
    client.execute::<Undocumented>(siren_request()).await
}

fn builder(gw: &Gw, client_id: &str) -> gouvgen_runtime::ApiClientBuilder {
    ApiClient::builder(presets::custom(gw.api_root()))
        .token_url(gw.token_url())
        .client_credentials(client_id, SECRET)
        .api_key_header("X-Api-Key", API_KEY)
        .retry_policy(
            RetryPolicy::default()
                .max_attempts(3)
                .backoff(Duration::from_millis(1), Duration::from_millis(2)),
        )
}

#[tokio::test]
async fn a_call_and_each_attempt_are_spans_with_the_conventional_names() {
    let gw = gateway(|_, i| {
        if i == 0 {
            status(503, &[], "maintenance")
        } else {
            status(200, &[("x-request-id", "gw-req-42".into())], "{}")
        }
    })
    .await;
    let sdk = Sdk::new();
    let client = builder(&gw, "otel-client")
        .telemetry(sdk.telemetry())
        .propagate_trace_context(true)
        .build()
        .unwrap();
    let r = call_siren(&client).await.unwrap();
    assert_eq!(r.status(), 200);

    let spans = sdk.spans();
    let call: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "getUniteLegale")
        .collect();
    assert_eq!(call.len(), 1);
    let call = call[0];
    assert_eq!(call.span_kind, SpanKind::Internal);
    let mut attempts: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "GET /unites_legales/{siren}")
        .collect();
    attempts.sort_by_key(|s| s.start_time);
    assert_eq!(attempts.len(), 2, "one span per attempt: {spans:#?}");
    let server = gw.state.api();
    for (i, a) in attempts.iter().enumerate() {
        assert_eq!(a.span_kind, SpanKind::Client);
        assert_eq!(a.parent_span_id, call.span_context.span_id());
        assert_eq!(a.span_context.trace_id(), call.span_context.trace_id());
        let at = &a.attributes;
        assert_eq!(text(at, "http.request.method").as_deref(), Some("GET"));
        assert_eq!(
            text(at, "url.template").as_deref(),
            Some("/unites_legales/{siren}")
        );
        assert_eq!(text(at, "server.address").as_deref(), Some("127.0.0.1"));
        let port = gw.url.rsplit(':').next().unwrap().parse::<i64>().unwrap();
        assert_eq!(int(at, "server.port"), Some(port));
        // The server saw this very span as the parent of its work.
        let sent = server[i].header("traceparent").unwrap();
        let expected = format!(
            "00-{}-{}-01",
            a.span_context.trace_id(),
            a.span_context.span_id()
        );
        assert_eq!(sent, expected);
    }
    let (first, second) = (&attempts[0].attributes, &attempts[1].attributes);
    assert_eq!(int(first, "http.response.status_code"), Some(503));
    assert_eq!(text(first, "error.type").as_deref(), Some("503"));
    assert!(matches!(attempts[0].status, Status::Error { .. }));
    assert_eq!(int(first, "http.request.resend_count"), None);
    assert_eq!(int(second, "http.response.status_code"), Some(200));
    assert_eq!(int(second, "http.request.resend_count"), Some(1));
    assert_eq!(text(second, "error.type"), None);
    assert_eq!(
        text(second, "gouvgen.gateway.request_id").as_deref(),
        Some("gw-req-42")
    );
    // The token fetch is an event of the attempt that waited for it.
    let fetches: Vec<_> = attempts
        .iter()
        .flat_map(|a| a.events.iter())
        .filter(|e| e.name == "gouvgen.token.fetch")
        .collect();
    assert_eq!(fetches.len(), 1);

    let ca = &call.attributes;
    assert_eq!(
        text(ca, "gouvgen.correlation_id"),
        server[0].header("x-correlation-id")
    );
    assert_eq!(int(ca, "gouvgen.attempts"), Some(2));
    assert_eq!(int(ca, "http.response.status_code"), Some(200));
    assert_eq!(
        text(ca, "gouvgen.gateway.request_id").as_deref(),
        Some("gw-req-42")
    );
    let account = text(ca, "gouvgen.account").unwrap();
    assert_eq!(account.len(), 16);

    let rm = sdk.metrics();
    let durations = points(&rm, "http.client.request.duration");
    let by_status = |s: &str| {
        durations
            .iter()
            .filter(|(a, _)| a.get("http.response.status_code").map(String::as_str) == Some(s))
            .map(|(_, n)| *n)
            .sum::<f64>()
    };
    assert_eq!(by_status("503"), 1.0);
    assert_eq!(by_status("200"), 1.0);
    assert_eq!(total(&rm, "gouvgen.client.call.duration"), 1.0);
    let calls = points(&rm, "gouvgen.client.call.duration");
    assert_eq!(calls[0].0["gouvgen.outcome"], "success");
    assert_eq!(calls[0].0["http.response.status_class"], "2xx");
    assert_eq!(
        total(&rm, "gouvgen.client.token.fetches"),
        gw.state.token_count() as f64
    );
    assert_eq!(gw.state.token_count(), 1);
    assert_clean(&sdk, &["tok-1"]);
}

#[tokio::test]
async fn metrics_match_what_the_server_counted() {
    let gw = gateway(|_, i| match i {
        0 | 2 => status(429, &[("retry-after", "0".into())], "slow down"),
        _ => status(
            200,
            &[
                ("ratelimit-remaining", "7".into()),
                ("x-rate-limit", r#"[{"window":1000,"remaining":3}]"#.into()),
            ],
            "{}",
        ),
    })
    .await;
    let sdk = Sdk::new();
    let client = builder(&gw, "otel-metrics")
        .telemetry(sdk.telemetry())
        .build()
        .unwrap();
    for _ in 0..3 {
        let r = call_siren(&client).await.unwrap();
        assert_eq!(r.status(), 200);
    }
    let server = gw.state.api();
    let answered_429 = server.len() - 3;
    assert_eq!(answered_429, 2);
    let rm = sdk.metrics();
    assert_eq!(total(&rm, "gouvgen.client.call.duration"), 3.0);
    assert_eq!(
        total(&rm, "http.client.request.duration"),
        server.len() as f64
    );
    assert_eq!(
        total(&rm, "gouvgen.client.rate_limited"),
        answered_429 as f64
    );
    let pauses = points(&rm, "gouvgen.client.pauses");
    assert_eq!(pauses.len(), 1);
    assert_eq!(pauses[0].0["gouvgen.pause.reason"], "429");
    assert_eq!(pauses[0].1, answered_429 as f64);
    assert_eq!(
        total(&rm, "gouvgen.client.token.fetches"),
        gw.state.token_count() as f64
    );
    let quota = points(&rm, "gouvgen.client.quota.remaining");
    let of = |source: &str| {
        quota
            .iter()
            .find(|(a, _)| a["gouvgen.quota.source"] == source)
            .unwrap()
            .clone()
    };
    assert_eq!(of("ratelimit").1, 7.0);
    let (window, remaining) = of("x-rate-limit");
    assert_eq!(remaining, 3.0);
    assert_eq!(window["gouvgen.quota.window"], "1000ms");
    assert_eq!(window["gouvgen.operation_id"], "getUniteLegale");
    assert_clean(&sdk, &["tok-1"]);
}

#[tokio::test]
async fn trace_context_is_sent_only_when_asked_and_follows_the_caller() {
    let gw = gateway(always_ok).await;
    let sdk = Sdk::new();
    let quiet = builder(&gw, "otel-quiet")
        .telemetry(sdk.telemetry())
        .build()
        .unwrap();
    call_siren(&quiet).await.unwrap();
    assert_eq!(gw.state.api()[0].header("traceparent"), None);
    assert_eq!(sdk.spans().len(), 2, "the spans are still recorded");

    // Propagation without a tracer of ours: the caller's own span goes to the gateway.
    let propagating = builder(&gw, "otel-propagating")
        .propagate_trace_context(true)
        .build()
        .unwrap();
    let tracer = gouvgen_runtime::opentelemetry::trace::TracerProvider::tracer(&sdk.tracer, "app");
    let parent = tracer.start("caller's work");
    let cx = Context::current_with_span(parent);
    let sc = cx.span().span_context().clone();
    propagating
        .execute::<Undocumented>(siren_request())
        .with_context(cx.clone())
        .await
        .unwrap();
    let sent = gw.state.api()[1].header("traceparent").unwrap();
    assert_eq!(sent, format!("00-{}-{}-01", sc.trace_id(), sc.span_id()));

    // With a tracer, the call span is the caller's span's child.
    let traced = builder(&gw, "otel-traced")
        .telemetry(sdk.telemetry())
        .build()
        .unwrap();
    traced
        .execute::<Undocumented>(siren_request())
        .with_context(cx.clone())
        .await
        .unwrap();
    cx.span().end();
    let spans = sdk.spans();
    let call = spans
        .iter()
        .filter(|s| s.name == "getUniteLegale")
        .find(|s| s.parent_span_id == sc.span_id());
    assert!(call.is_some(), "{spans:#?}");
}

#[tokio::test]
async fn an_attempt_that_ends_the_call_is_closed_with_its_error() {
    let knobs = Knobs {
        refusal: Some((
            401,
            format!(r#"{{"error":"invalid_client","error_description":"bad secret {SECRET}"}}"#),
        )),
        ..Knobs::default()
    };
    let gw = gateway_with(knobs, always_ok).await;
    let sdk = Sdk::new();
    let client = builder(&gw, "otel-refused")
        .telemetry(sdk.telemetry())
        .build()
        .unwrap();
    let e = call_siren(&client).await.unwrap_err();
    assert!(matches!(e, Error::TokenRefused(_)), "{e:?}");
    assert_eq!(gw.state.api_count(), 0);
    let spans = sdk.spans();
    assert_eq!(spans.len(), 2, "{spans:#?}");
    for s in &spans {
        assert_eq!(
            text(&s.attributes, "error.type").as_deref(),
            Some("token_refused"),
            "{}",
            s.name
        );
        assert!(matches!(s.status, Status::Error { .. }));
    }
    let rm = sdk.metrics();
    let calls = points(&rm, "gouvgen.client.call.duration");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].0["gouvgen.outcome"], "token_refused");
    assert_eq!(calls[0].0["http.response.status_class"], "none");
    assert_eq!(
        total(&rm, "gouvgen.client.token.fetches"),
        gw.state.token_count() as f64
    );
    assert_clean(&sdk, &["bad secret"]);
}

#[tokio::test]
async fn credential_expiry_and_breaker_changes_are_measured() {
    let gw = gateway(|_, _| status(503, &[], "down")).await;
    let sdk = Sdk::new();
    let exp = chrono::Utc::now() + chrono::Duration::days(10);
    let secret_exp = chrono::Utc::now() + chrono::Duration::days(30);
    let jwt = jwt_with_exp(exp.timestamp());
    let client = ApiClient::builder(presets::custom(gw.api_root()))
        .jwt(jwt.clone())
        .retry_policy(RetryPolicy::none())
        .circuit_breaker(CircuitBreaker::new(1, Duration::from_secs(3600)))
        .telemetry(sdk.telemetry().credential_expires_at(secret_exp))
        .build()
        .unwrap();
    let r = call_siren(&client).await.unwrap();
    assert_eq!(r.status(), 503);
    let e = call_siren(&client).await.unwrap_err();
    assert!(matches!(e, Error::Unavailable { .. }), "{e:?}");
    assert_eq!(gw.state.api_count(), 1);

    let rm = sdk.metrics();
    let expiry = points(&rm, "gouvgen.client.credential.time_to_expiry");
    let days = |kind: &str| {
        expiry
            .iter()
            .find(|(a, _)| a["gouvgen.credential.kind"] == kind)
            .unwrap()
            .1
    };
    assert!((9.99..=10.0).contains(&days("jwt")), "{expiry:?}");
    assert!(
        (29.99..=30.0).contains(&days("client_secret")),
        "{expiry:?}"
    );
    let transitions = points(&rm, "gouvgen.client.breaker.transitions");
    assert_eq!(transitions.len(), 1, "{transitions:?}");
    assert_eq!(transitions[0].0["gouvgen.breaker.state"], "open");
    assert_eq!(transitions[0].1, 1.0);
    let outcomes: Vec<_> = points(&rm, "gouvgen.client.call.duration")
        .into_iter()
        .map(|(a, n)| (a["gouvgen.outcome"].clone(), n))
        .collect();
    assert!(
        outcomes.contains(&("error_response".into(), 1.0)),
        "{outcomes:?}"
    );
    assert!(
        outcomes.contains(&("circuit_open".into(), 1.0)),
        "{outcomes:?}"
    );
    let mut jwt_parts: Vec<&str> = jwt.split('.').collect();
    jwt_parts.push(&jwt);
    assert_clean(&sdk, &jwt_parts);
}

#[tokio::test]
async fn without_telemetry_nothing_is_recorded_and_nothing_is_sent() {
    let gw = gateway(always_ok).await;
    let sdk = Sdk::new();
    let client = builder(&gw, "otel-off").build().unwrap();
    let tracer = gouvgen_runtime::opentelemetry::trace::TracerProvider::tracer(&sdk.tracer, "app");
    let cx = Context::current_with_span(tracer.start("caller"));
    client
        .execute::<Undocumented>(siren_request())
        .with_context(cx.clone())
        .await
        .unwrap();
    assert_eq!(gw.state.api()[0].header("traceparent"), None);
    cx.span().end();
    assert_eq!(sdk.spans().len(), 1, "only the caller's own span");
}
