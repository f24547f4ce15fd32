//! API Entreprise / API Particulier v3 behaviour (2026 developer documentation), driven with
//! plain reqwest against a real emulator on 127.0.0.1: group quotas and the per-IP ceiling,
//! 409 for a request in flight, provider errors under 502, the ban as silence, filtering by
//! scopes, `/pings`, `/privileges`, `/api/introspect`. The cases served come from the small
//! staging-format folder in `tests/fixtures/staging` (the providers' own are in
//! `staging_fixtures.rs`).

use std::path::PathBuf;
use std::time::Duration;

use gouvgen_emulator::{
    Emulator, GatewayConfig, GroupQuotas, PingStatus, ProviderError, jwt, jwt_with_claims,
};
use reqwest::{Client, Response};
use serde_json::{Value, json};

const DOCUMENT: &str = "/v3/demo/unites_legales/418166096/attestation_demo";
const UNITE: &str = "/v3/demo/unites_legales/418166096";
const UNITE_TEMPLATE: &str = "GET /v3/demo/unites_legales/{siren}";
const QF: &str = "/v3/demo/quotient_familial/france_connect";
const QUERY: &str = "recipient=13002526500013&context=test&object=test";

fn staging() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/staging")
}

fn entreprise(token: &str) -> GatewayConfig {
    GatewayConfig::api_entreprise()
        .bearer(token)
        .fixture_route(
            "api_entreprise_v3_demo_attestations",
            "/v3/demo/unites_legales/{siren}/attestation_demo",
        )
        .fixture_route(
            "api_entreprise_v3_demo_unites_legales",
            "/v3/demo/unites_legales/{siren}",
        )
        .fixtures(staging())
}

fn particulier(token: &str) -> GatewayConfig {
    GatewayConfig::api_particulier()
        .bearer(token)
        .fixture_route(
            "api_particulier_v3_demo_quotient_familial",
            "/v3/demo/quotient_familial/france_connect",
        )
        .fixtures(staging())
}

async fn get(emu: &Emulator, path: &str, token: &str) -> Response {
    Client::new()
        .get(format!("{}{path}?{QUERY}", emu.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

fn header<'a>(r: &'a Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}

fn quota(r: &Response) -> (Option<&str>, Option<&str>) {
    (
        header(r, "ratelimit-limit"),
        header(r, "ratelimit-remaining"),
    )
}

#[tokio::test]
async fn group_quotas_per_token_and_the_per_ip_ceiling() {
    let (a, b) = (
        jwt(Duration::from_secs(3600)),
        jwt(Duration::from_secs(3600)),
    );
    let quotas = GroupQuotas {
        json: 3,
        documents: 2,
        per_ip: 7,
        per: Duration::from_secs(60),
    };
    let emu = Emulator::start(entreprise(&a).bearer(&b).group_quotas(quotas)).await;

    // Token A: the document group holds 2 per minute, the JSON group 3.
    let r = get(&emu, DOCUMENT, &a).await;
    assert_eq!(r.status(), 200);
    assert_eq!(quota(&r), (Some("2"), Some("1")));
    let r = get(&emu, DOCUMENT, &a).await;
    assert_eq!(quota(&r), (Some("2"), Some("0")));
    let r = get(&emu, DOCUMENT, &a).await;
    assert_eq!(r.status(), 429, "third document call in the minute");
    assert_eq!(quota(&r), (Some("2"), Some("0")));
    let retry: u64 = header(&r, "retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let reset: u64 = header(&r, "ratelimit-reset").unwrap().parse().unwrap();
    assert!(reset > 1_700_000_000, "epoch seconds: {reset}");
    let r = get(&emu, UNITE, &a).await;
    assert_eq!(r.status(), 200, "the JSON group is counted apart");
    assert_eq!(quota(&r), (Some("3"), Some("2")));

    // Token B: its own JSON group, but the IP has made 4 of its 7 calls.
    for left in ["2", "1", "0"] {
        let r = get(&emu, UNITE, &b).await;
        assert_eq!(r.status(), 200);
        assert_eq!(quota(&r), (Some("3"), Some(left)));
    }
    let r = get(&emu, "/v3/demo/unites_legales/000000000", &b).await;
    assert_eq!(r.status(), 429, "the IP ceiling of 7 calls");
    assert_eq!(quota(&r), (Some("7"), Some("0")));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "00429");

    // A minute later every window has room again.
    emu.advance_clock(Duration::from_secs(61));
    let r = get(&emu, DOCUMENT, &a).await;
    assert_eq!(r.status(), 200);
    assert_eq!(quota(&r), (Some("2"), Some("1")));
    assert_eq!(emu.stats().throttled, 2);
    assert_eq!(emu.stats().ban_violations, 0);
}

#[tokio::test]
async fn a_request_identical_to_one_in_flight_gets_409() {
    let token = jwt(Duration::from_secs(3600));
    let emu = Emulator::start(entreprise(&token).conflict_in_flight(true)).await;
    emu.latency(Duration::from_secs(5));
    let first = tokio::spawn({
        let (url, token) = (format!("{}{UNITE}?{QUERY}", emu.base_url()), token.clone());
        async move {
            let r = Client::new().get(url).bearer_auth(token).send().await;
            r.unwrap().status()
        }
    });
    // Until the emulator has registered the first request (not a timing assumption).
    while emu.stats().in_flight == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let other_query = Client::new()
        .get(format!("{}{UNITE}?{QUERY}&x=1", emu.base_url()))
        .bearer_auth(&token)
        .send();
    let (same, other) = tokio::join!(get(&emu, UNITE, &token), other_query);
    assert_eq!(same.status(), 409);
    let body: Value = same.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "00015");
    assert_eq!(body["errors"][0]["title"], "Conflit");
    assert_eq!(
        other.unwrap().status(),
        200,
        "another query is another request"
    );
    assert_eq!(first.await.unwrap(), 200);
    assert_eq!(emu.stats().in_flight, 0);
    emu.latency(Duration::ZERO);
    assert_eq!(
        get(&emu, UNITE, &token).await.status(),
        200,
        "once answered"
    );
}

#[tokio::test]
async fn provider_errors_under_502_with_retry_in() {
    let token = jwt(Duration::from_secs(3600));
    let emu = Emulator::start(entreprise(&token)).await;
    emu.fail_provider(UNITE_TEMPLATE, ProviderError::not_found("37003", "CNAV"));
    let r = get(&emu, UNITE, &token).await;
    assert_eq!(r.status(), 502);
    let body: Value = r.json().await.unwrap();
    let error = &body["errors"][0];
    assert_eq!(error["code"], "37003");
    assert_eq!(error["meta"]["provider"], "CNAV");
    assert!(error["meta"].get("retry_in").is_none(), "final: {body}");
    assert!(error["title"].is_string() && error["detail"].is_string());
    assert!(error.get("source").is_some());

    let day = Duration::from_secs(86_400);
    emu.fail_provider(
        UNITE_TEMPLATE,
        ProviderError::transient("01002", "INSEE", day),
    );
    let body: Value = get(&emu, UNITE, &token).await.json().await.unwrap();
    assert_eq!(body["errors"][0]["meta"]["retry_in"], 86_400);
    emu.fail_provider(
        UNITE_TEMPLATE,
        ProviderError::transient("01001", "INSEE", Duration::from_millis(1500)).with_status(504),
    );
    let r = get(&emu, UNITE, &token).await;
    assert_eq!(r.status(), 504);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["meta"]["retry_in"], 2, "rounded up");
    assert_eq!(
        get(&emu, DOCUMENT, &token).await.status(),
        200,
        "per operation"
    );
    emu.reset_scenario();
    assert_eq!(get(&emu, UNITE, &token).await.status(), 200);
}

#[tokio::test]
async fn ignoring_a_429_earns_a_ban_of_silence_until_it_ends() {
    let token = jwt(Duration::from_secs(30 * 86_400));
    let emu = Emulator::start(
        entreprise(&token)
            .rate_limit(1, Duration::from_secs(60))
            .ban_on_violation(Duration::from_secs(12 * 3600)),
    )
    .await;
    let impatient = Client::builder()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let call = |client: &Client| {
        client
            .get(format!("{}{UNITE}?{QUERY}", emu.base_url()))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(call(&impatient).await.unwrap().status(), 200);
    assert_eq!(call(&impatient).await.unwrap().status(), 429);
    // Back at once on the connection that was told: banned, and this call is not answered.
    assert!(call(&impatient).await.unwrap_err().is_timeout());
    assert!(emu.is_banned());
    assert_eq!(emu.stats().ban_violations, 1);
    let pings = impatient.get(format!("{}/pings", emu.base_url())).send();
    assert!(pings.await.unwrap_err().is_timeout(), "nothing answers");

    emu.advance_clock(Duration::from_secs(12 * 3600 - 60));
    assert!(emu.is_banned());
    assert!(call(&impatient).await.unwrap_err().is_timeout());
    emu.advance_clock(Duration::from_secs(61));
    assert!(!emu.is_banned());
    assert_eq!(call(&impatient).await.unwrap().status(), 200);
    let statuses: Vec<u16> = emu.calls().iter().map(|c| c.status).collect();
    assert_eq!(statuses, [200, 429, 0, 0, 0, 200]);
}

#[tokio::test]
async fn a_banned_gateway_stops_without_leaking_held_connections() {
    let token = jwt(Duration::from_secs(3600));
    let (seen, mut arrived) = tokio::sync::mpsc::unbounded_channel();
    let emu = Emulator::start(entreprise(&token).on_call(move |c| {
        let _ = seen.send(c.status);
    }))
    .await;
    emu.ban();
    let held = tokio::spawn({
        let (url, token) = (format!("{}{UNITE}?{QUERY}", emu.base_url()), token.clone());
        // No client timeout: only the emulator's stop can end this call.
        async move { Client::new().get(url).bearer_auth(token).send().await }
    });
    assert_eq!(arrived.recv().await, Some(0), "received, never answered");
    emu.shutdown().await;
    let err = held.await.unwrap().unwrap_err();
    assert!(!err.is_timeout(), "the connection was closed: {err}");
}

#[tokio::test]
async fn scopes_decide_which_keys_of_data_are_present() {
    let scoped = jwt_with_claims(
        &json!({"uid": "t", "scopes": ["cnaf_quotient_familial", "cnaf_adresse"]}),
        Duration::from_secs(3600),
    );
    let query = "prenoms[]=Georges&nomNaissance=CNAF&nomUsage=MARTIN&anneeDateNaissance=2002\
                 &moisDateNaissance=1&jourDateNaissance=1&sexeEtatCivil=M\
                 &codeCogInseeCommuneNaissance=75002&codeCogInseePaysNaissance=99100";
    let keys = |body: &Value| {
        let mut keys: Vec<String> = body["data"].as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    let fetch = |emu: &Emulator, bearer: &str| {
        Client::new()
            .get(format!("{}{QF}?{query}", emu.base_url()))
            .bearer_auth(bearer)
            .send()
    };
    // Staging (the default) does not filter.
    let emu = Emulator::start(particulier(&scoped)).await;
    let body: Value = fetch(&emu, &scoped).await.unwrap().json().await.unwrap();
    assert_eq!(
        keys(&body),
        ["adresse", "allocataires", "enfants", "quotient_familial"]
    );

    let emu = Emulator::start(particulier(&scoped).filter_by_scopes(true)).await;
    let r = fetch(&emu, &scoped).await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(keys(&body), ["adresse", "quotient_familial"]);
    assert_eq!(body["data"]["quotient_familial"]["valeur"], 1234);
    // The FranceConnect token selects the case by identity, its scopes filter the answer.
    let r = fetch(&emu, "georges").await.unwrap();
    assert_eq!(header(&r, "x-emulator-case"), Some("georges.yml"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(keys(&body), ["enfants", "quotient_familial"]);
}

#[tokio::test]
async fn pings_privileges_and_introspect() {
    let token = jwt_with_claims(
        &json!({"uid": "t", "scopes": ["insee_unites_legales", "urssaf_attestation"]}),
        Duration::from_secs(3600),
    );
    let emu = Emulator::start(entreprise(&token).rate_limit(1, Duration::from_secs(60))).await;
    let http = Client::new();
    for _ in 0..3 {
        let r = http.get(format!("{}/pings", emu.base_url())).send().await;
        let r = r.unwrap();
        assert_eq!(r.status(), 200, "unthrottled, no credentials");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["status"], "ok");
        assert!(body["last_update"].as_str().unwrap().ends_with('Z'));
        assert!(body["last_ok_status"].is_string());
    }
    emu.set_ping("insee", PingStatus::BadGateway);
    let r = http.get(format!("{}/pings/insee", emu.base_url())).send();
    let r = r.await.unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "bad_gateway");
    let r = http.get(format!("{}/pings", emu.base_url())).send().await;
    assert_eq!(r.unwrap().status(), 200, "one API at a time");

    let privileges = format!("{}/privileges", emu.base_url());
    let r = http
        .get(&privileges)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"privileges": ["insee_unites_legales", "urssaf_attestation"]})
    );
    let r = http.get(&privileges).send().await.unwrap();
    assert_eq!(r.status(), 401);

    let emu = Emulator::start(particulier(&token)).await;
    let r = http
        .get(format!("{}/api/introspect", emu.base_url()))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["name"], "");
    assert_eq!(
        body["scopes"],
        json!(["insee_unites_legales", "urssaf_attestation"])
    );
    let id = body["_id"].as_str().unwrap();
    assert_eq!(id.len(), 36, "the token's jti, not the token: {id}");
}

#[tokio::test]
async fn fixtures_load_at_run_time_and_bad_files_are_named() {
    let token = jwt(Duration::from_secs(3600));
    let config = GatewayConfig::api_entreprise()
        .bearer(&token)
        .fixture_route(
            "api_entreprise_v3_demo_unites_legales",
            "/v3/demo/unites_legales/{siren}",
        );
    let emu = Emulator::start(config.clone()).await;
    assert_eq!(
        get(&emu, UNITE, &token).await.status(),
        404,
        "nothing served yet"
    );
    assert_eq!(
        emu.load_fixtures(staging()),
        Ok(2),
        "the two cases of the folder"
    );
    let r = get(&emu, UNITE, &token).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-emulator-case"), Some("200.yaml"));
    let r = get(&emu, "/v3/demo/unites_legales/000000000", &token).await;
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "04003", "the case's own payload");
    let r = get(&emu, "/v3/demo/unites_legales/111111111", &token).await;
    assert_eq!(r.status(), 404);
    assert_eq!(header(&r, "x-emulator-case"), None, "no case matches");
    assert_eq!(
        emu.calls().last().unwrap().template.as_deref(),
        Some("/v3/demo/unites_legales/{siren}"),
        "logged by template"
    );

    let broken = std::env::temp_dir().join(format!("gouvgen-emu-broken-{}", std::process::id()));
    let folder = broken.join("payloads/api_entreprise_v3_demo_unites_legales");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("bad.yaml"), "params: [unclosed\n").unwrap();
    let err = emu.load_fixtures(&broken).unwrap_err();
    assert!(err.contains("bad.yaml"), "{err}");
    std::fs::write(folder.join("bad.yaml"), "params: {}\nstatus: 9999\n").unwrap();
    let err = Emulator::try_start(config.fixtures(&broken))
        .await
        .unwrap_err();
    assert!(err.contains("bad.yaml") && err.contains("status"), "{err}");
    std::fs::remove_dir_all(&broken).unwrap();
}
