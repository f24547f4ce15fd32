//! Per-call traceability: `context` and `recipient` on the client, `object` (or any override)
//! per call, without building a new client; missing values refused before sending.

mod common;

use std::time::{Duration, Instant};

use common::*;
use gouvgen_runtime::presets::{self, Environment};
use gouvgen_runtime::{ApiClient, CallOptions, Error, Method, RateLimit, Request};

type U = gouvgen_runtime::Undocumented;

fn traced() -> Request {
    Request::new(Method::GET, "attestation", "/api/attestations".into()).traceability()
}

fn query(r: &Recorded, name: &str) -> Option<String> {
    r.query.as_deref()?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_per_call_on_one_client_and_one_limiter() {
    let gw = gateway(always_ok).await;
    let client = ApiClient::builder(presets::api_entreprise(Environment::Sandbox))
        .api_root(gw.url.clone())
        .bearer("jwt-secret")
        .traceability_context("Aides publiques", "12000101100010")
        .rate_limit(RateLimit::per_second(5))
        .build()
        .unwrap();
    let start = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..6 {
        let c = client.with_options(CallOptions::new().traceability_object(format!("dossier {i}")));
        set.spawn(async move { c.execute::<U>(traced()).await.map(|r| r.status()) });
    }
    while let Some(r) = set.join_next().await {
        assert_eq!(r.unwrap().unwrap(), 200);
    }
    // Six case files, one limiter: 5 intervals of 200 ms.
    assert!(start.elapsed() >= Duration::from_millis(950));
    let api = gw.state.api();
    let mut objects: Vec<String> = api.iter().map(|r| query(r, "object").unwrap()).collect();
    objects.sort();
    assert_eq!(
        objects,
        (0..6).map(|i| format!("dossier%20{i}")).collect::<Vec<_>>()
    );
    assert!(api.iter().all(
        |r| query(r, "context").as_deref() == Some("Aides%20publiques")
            && query(r, "recipient").as_deref() == Some("12000101100010")
    ));

    // A per-call override of all three values.
    let other = client.with_options(CallOptions::new().traceability(
        "Marchés publics",
        "11000201100044",
        "AO-7",
    ));
    other.execute::<U>(traced()).await.unwrap();
    let last = gw.state.api().pop().unwrap();
    assert_eq!(query(&last, "recipient").as_deref(), Some("11000201100044"));
    assert_eq!(query(&last, "object").as_deref(), Some("AO-7"));
}

#[tokio::test]
async fn missing_object_is_refused_before_sending() {
    let gw = gateway(always_ok).await;
    let client = ApiClient::builder(presets::api_entreprise(Environment::Sandbox))
        .api_root(gw.url.clone())
        .bearer("jwt-secret")
        .traceability_context("Aides publiques", "12000101100010")
        .build()
        .unwrap();
    let err = client.execute::<U>(traced()).await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
    assert!(err.to_string().contains("missing: object"), "{err}");
    let blank = client.with_options(CallOptions::new().traceability_object("  "));
    assert!(blank.execute::<U>(traced()).await.is_err());
    assert_eq!(gw.state.api_count(), 0, "nothing reached the gateway");
}

/// A recipient the gateway would refuse (and count against the quota) never leaves: not a
/// SIRET, or the company the call asks about (API Entreprise's 422, code 00211). The error
/// names no value: the target may be a person's SIREN.
#[tokio::test]
async fn malformed_or_self_referencing_recipients_are_refused_before_sending() {
    let gw = gateway(always_ok).await;
    let client = ApiClient::builder(presets::api_entreprise(Environment::Sandbox))
        .api_root(gw.url.clone())
        .bearer("jwt-secret")
        .traceability("Aides publiques", "12000101100010", "dossier 7")
        .build()
        .unwrap();
    let about = |path: &str| Request::new(Method::GET, "uniteLegale", path.into()).traceability();
    for bad in ["123", "12000101100011", "1200010110001O", " 12000101100010"] {
        let c = client.with_options(CallOptions::new().traceability("c", bad, "o"));
        let err = c
            .execute::<U>(about("/api/v3/unites_legales/418166096"))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidRequest { .. }), "{err:?}");
        assert!(err.to_string().contains("not a valid SIRET"), "{err}");
    }
    for target in [
        "/api/v3/unites_legales/120001011",
        "/api/v3/etablissements/12000101100010",
    ] {
        let err = client.execute::<U>(about(target)).await.unwrap_err();
        assert!(err.to_string().contains("code 00211"), "{err}");
        assert!(
            !err.to_string().contains("120001011"),
            "the value is not printed: {err}"
        );
    }
    let in_query = about("/api/v3/recherche").query("siren", &"120001011");
    assert!(client.execute::<U>(in_query).await.is_err());
    assert_eq!(gw.state.api_count(), 0, "nothing reached the gateway");
    // La Poste's SIRETs follow their own rule; another company is fine.
    let la_poste = client.with_options(CallOptions::new().traceability("c", "35600000000001", "o"));
    la_poste
        .execute::<U>(about("/api/v3/unites_legales/418166096"))
        .await
        .unwrap();
    assert_eq!(gw.state.api_count(), 1);
}

/// The client's recipient is checked when the client is built; a vendor's per-call recipient
/// is a `Siret`, so it is checked when made.
#[tokio::test]
async fn recipients_are_checked_when_set() {
    use gouvgen_runtime::siret::Siret;
    let gw = gateway(always_ok).await;
    let build = |recipient: &str| {
        ApiClient::builder(presets::api_entreprise(Environment::Sandbox))
            .api_root(gw.url.clone())
            .jwt(jwt_with_exp(
                gouvgen_runtime::chrono::Utc::now().timestamp() + 86_400,
            ))
            .traceability("Aides publiques", recipient, "dossier")
            .build()
    };
    let err = build("12000101100011").unwrap_err();
    assert!(matches!(err, Error::InvalidConfig { .. }), "{err:?}");
    assert!(!err.to_string().contains("12000101100011"), "{err}");
    let client = build("12000101100010").unwrap();
    assert!("123".parse::<Siret>().is_err());
    let other: Siret = "11000201100044".parse().unwrap();
    let resp = client
        .with_options(CallOptions::new().traceability_recipient(other))
        .execute::<gouvgen_runtime::Undocumented>(traced())
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let sent = gw.state.api();
    assert_eq!(
        query(&sent[0], "recipient").as_deref(),
        Some("11000201100044")
    );
    assert_eq!(
        query(&sent[0], "context").as_deref(),
        Some("Aides%20publiques")
    );
}
