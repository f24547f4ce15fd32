//! Helpers the emulator's behaviour tests share: plain reqwest calls to a DGFiP emulator,
//! and the API Particulier emulator of the same document.
// Each test file uses part of them.
#![allow(dead_code)]

use std::path::PathBuf;

use gouvgen_emulator::{Emulator, GatewayConfig};
use reqwest::{Client, Response};
use serde_json::Value;

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn http() -> Client {
    Client::new()
}

pub fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn header<'a>(r: &'a Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}

pub const SITUATION: &str = "/mini/1.0/spi/1234567890123/situations/ir/assiettes/annrev/2024";

pub fn dgfip() -> GatewayConfig {
    GatewayConfig::dgfip()
        .client("cle", "secret", &["RessourceIR", "RessourceFicoba"])
        .mount_spec(fixture("mini.yaml"))
}

/// API Particulier serving `mini.yaml` to the key `cle`.
pub fn particulier() -> GatewayConfig {
    GatewayConfig::api_particulier()
        .api_key("X-Api-Key", "cle")
        .mount_spec(fixture("mini.yaml"))
}

pub async fn dgfip_token(emu: &Emulator, scope: &str) -> String {
    let r = http()
        .post(emu.token_url())
        .basic_auth("cle", Some("secret"))
        .form(&[("grant_type", "client_credentials"), ("scope", scope)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Revokes `token` with the client's Basic credentials; the revocation is accepted.
pub async fn dgfip_revoke(emu: &Emulator, token: &str) {
    let r = http()
        .post(emu.revoke_url())
        .basic_auth("cle", Some("secret"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// A call to `url` with the correlation ID `id`: answered 200, the same ID sent back.
pub async fn assert_id_echoed(client: &Client, url: &str, token: &str, id: &str) {
    let r = client
        .get(url)
        .bearer_auth(token)
        .header("X-Correlation-ID", id)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-correlation-id"), Some(id));
}

pub async fn dgfip_call(emu: &Emulator, token: &str) -> Response {
    http()
        .get(format!("{}{SITUATION}", emu.base_url()))
        .bearer_auth(token)
        .header("X-Correlation-ID", uuid())
        .send()
        .await
        .unwrap()
}
