//! Scripted scenarios through the emulator's handle: forced documented errors, gateway-wide
//! 429 / 503, darkness and the ban, run-time quotas, revocation, and the call log that shows it.

use std::path::PathBuf;
use std::time::Duration;

use gouvgen_emulator::{Emulator, GatewayConfig};
use reqwest::Client;
use serde_json::Value;

const SITUATION: &str = "/mini/1.0/spi/1234567890123/situations/ir/assiettes/annrev/2024";
const DERNIERE: &str = "/mini/1.0/spi/1234567890123/situations/ir/assiettes/annrev/derniere";

async fn dgfip() -> (Emulator, String) {
    let emu = Emulator::start(
        GatewayConfig::dgfip()
            .client("cle", "p@ss w&rd+/=", &["RessourceIR"])
            .mount_spec(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mini.yaml")),
    )
    .await;
    let token: Value = Client::new()
        .post(emu.token_url())
        .basic_auth("cle", Some("p@ss w&rd+/="))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_string();
    (emu, token)
}

async fn call(emu: &Emulator, token: &str, path: &str) -> reqwest::Result<reqwest::Response> {
    Client::new()
        .get(format!("{}{path}", emu.base_url()))
        .bearer_auth(token)
        .header("X-Correlation-ID", uuid::Uuid::new_v4().to_string())
        .timeout(Duration::from_millis(500))
        .send()
        .await
}

#[tokio::test]
async fn forced_errors_are_the_documented_ones_for_that_operation_only() {
    let (emu, token) = dgfip().await;
    emu.fail("situation", 404);
    let r = call(&emu, &token, SITUATION).await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(call(&emu, &token, DERNIERE).await.unwrap().status(), 200);
    // By template too, and an undocumented status gets the DGFiP body with its code.
    emu.fail(
        "GET /mini/1.0/spi/{spi}/situations/ir/assiettes/annrev/derniere",
        503,
    );
    let r = call(&emu, &token, DERNIERE).await.unwrap();
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["erreur"]["code"], 900801);
    emu.reset_scenario();
    assert_eq!(call(&emu, &token, SITUATION).await.unwrap().status(), 200);
    let statuses: Vec<u16> = emu.calls().iter().map(|c| c.status).collect();
    assert_eq!(statuses, [404, 200, 503, 200]);
}

#[tokio::test]
async fn gateway_wide_throttle_outage_and_run_time_quota() {
    let (emu, token) = dgfip().await;
    emu.throttle(Duration::from_millis(2500));
    let r = call(&emu, &token, DERNIERE).await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "3");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["erreur"]["code"], 900804);
    emu.reset_scenario();
    emu.unavailable();
    assert_eq!(call(&emu, &token, DERNIERE).await.unwrap().status(), 503);
    emu.reset_scenario();

    let handle = emu.handle();
    handle.set_rate_limit(Some((1, Duration::from_secs(60))));
    assert_eq!(call(&emu, &token, DERNIERE).await.unwrap().status(), 200);
    assert_eq!(call(&emu, &token, DERNIERE).await.unwrap().status(), 429);
    handle.set_rate_limit(None);
    assert_eq!(call(&emu, &token, DERNIERE).await.unwrap().status(), 200);
    assert_eq!(
        handle.stats().throttled,
        1,
        "only the quota's 429 is counted"
    );
}

#[tokio::test]
async fn dark_and_banned_gateways_never_answer_and_revoked_tokens_are_refused() {
    let (emu, token) = dgfip().await;
    emu.go_dark();
    let err = call(&emu, &token, DERNIERE).await.unwrap_err();
    assert!(err.is_timeout(), "{err}");
    emu.reset_scenario();
    emu.ban();
    assert!(call(&emu, &token, DERNIERE).await.unwrap_err().is_timeout());
    emu.reset_scenario();
    assert_eq!(call(&emu, &token, DERNIERE).await.unwrap().status(), 200);
    emu.revoke_all_tokens();
    let r = call(&emu, &token, DERNIERE).await.unwrap();
    assert_eq!(r.status(), 401);
    let statuses: Vec<u16> = emu.calls().iter().map(|c| c.status).collect();
    assert_eq!(
        statuses,
        [0, 0, 200, 401],
        "unanswered calls are logged with 0"
    );
}

#[tokio::test]
async fn latency_is_added_before_the_answer() {
    let (emu, token) = dgfip().await;
    emu.latency(Duration::from_millis(800));
    // The client's 500 ms deadline passes before the answer comes.
    assert!(call(&emu, &token, DERNIERE).await.unwrap_err().is_timeout());
    emu.latency(Duration::ZERO);
    assert_eq!(call(&emu, &token, DERNIERE).await.unwrap().status(), 200);
}
