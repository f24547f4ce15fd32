//! Helpers the emulator's behaviour tests share: plain reqwest calls to a DGFiP emulator.
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

pub async fn dgfip_call(emu: &Emulator, token: &str) -> Response {
    http()
        .get(format!("{}{SITUATION}", emu.base_url()))
        .bearer_auth(token)
        .header("X-Correlation-ID", uuid())
        .send()
        .await
        .unwrap()
}
