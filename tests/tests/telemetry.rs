//! The runtime's OpenTelemetry metrics (feature `otel`) read back through a real SDK pipeline
//! (`opentelemetry_sdk`'s in-memory exporter) against what the gateway emulator counted.

use std::time::Duration;

use gouvgen_emulator::{Emulator, GatewayConfig};
use gouvgen_runtime::presets::{self, Environment, PisteAccess};
use gouvgen_runtime::{ApiClient, Error, Method, Request, RetryPolicy, Telemetry, Undocumented};
use gouvgen_tests::repo_root;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};

/// The count of a counter or histogram named `name`, over all its label sets.
fn count(rm: &ResourceMetrics, name: &str) -> u64 {
    let mut n = 0;
    for m in rm.scope_metrics().flat_map(|s| s.metrics()) {
        if m.name() != name {
            continue;
        }
        match m.data() {
            AggregatedMetrics::U64(MetricData::Sum(s)) => {
                n += s.data_points().map(|p| p.value()).sum::<u64>();
            }
            AggregatedMetrics::F64(MetricData::Histogram(h)) => {
                n += h.data_points().map(|p| p.count()).sum::<u64>();
            }
            other => panic!("{name}: unexpected data {other:?}"),
        }
    }
    n
}

#[tokio::test]
async fn metrics_match_what_the_emulator_counted() {
    let emu = Emulator::start(
        GatewayConfig::piste()
            .client("otel-client", "p@ss w&rd+/=", &["openid"])
            .api_key("KeyId", "cle-applicative")
            .mount_spec(repo_root().join("specs/piste/legifrance.json")),
    )
    .await;
    let exporter = InMemoryMetricExporter::default();
    let meter = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(exporter.clone()).build())
        .build();
    let client = ApiClient::builder(presets::piste(PisteAccess::Internet, Environment::Sandbox))
        .api_root(emu.base_url())
        .token_url(emu.token_url())
        .client_credentials("otel-client", "p@ss w&rd+/=")
        .api_key("cle-applicative")
        .retry_policy(RetryPolicy::none())
        .telemetry(Telemetry::new().meter_provider(&meter))
        .build()
        .unwrap();
    let list = || {
        Request::new(
            Method::GET,
            "listCodes",
            "/dila/legifrance/lf-engine-app/list/codes".into(),
        )
    };
    for _ in 0..5 {
        let r = client.execute::<Undocumented>(list()).await.unwrap();
        assert_eq!(r.status(), 200);
    }
    emu.throttle(Duration::from_secs(1));
    let r = client.execute::<Undocumented>(list()).await;
    assert!(
        matches!(&r, Ok(resp) if resp.status() == 429) || matches!(&r, Err(Error::RateLimited(_))),
        "{:?}",
        r.as_ref().map(|x| x.status())
    );

    meter.force_flush().unwrap();
    let rm = exporter.get_finished_metrics().unwrap().pop().unwrap();
    let stats = emu.stats();
    assert_eq!(stats.api_calls, 6);
    assert_eq!(count(&rm, "gouvgen.client.call.duration"), 6, "calls");
    assert_eq!(
        count(&rm, "http.client.request.duration"),
        stats.api_calls,
        "attempts"
    );
    // The emulator's call log, by status (its `throttled` counts quota refusals only).
    let answered_429 = emu.calls().iter().filter(|c| c.status == 429).count() as u64;
    assert_eq!(answered_429, 1);
    assert_eq!(
        count(&rm, "gouvgen.client.rate_limited"),
        answered_429,
        "429s"
    );
    assert_eq!(
        count(&rm, "gouvgen.client.token.fetches"),
        stats.token_requests.values().sum::<u64>(),
        "token fetches"
    );
    let text = format!("{rm:?}");
    for secret in ["p@ss w&rd+/=", "cle-applicative", "p%40ss"] {
        assert!(!text.contains(secret), "{secret} in the metrics");
    }
}
