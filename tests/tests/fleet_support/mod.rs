//! Helpers the fleet tests share: worker processes, the API Entreprise emulator of our
//! document, and the lock that runs multi-process tests one at a time.
// Each test file uses part of them.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::time::SystemTime;

use gouvgen_emulator::GatewayConfig;
use gouvgen_tests::repo_root;

/// Multi-process tests of one test binary run one after the other: 8 workers at once on a 2-core machine
/// would measure the machine, not the fleet.
pub static FLEET: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub fn spec(rel: &str) -> PathBuf {
    repo_root().join("specs").join(rel)
}

/// An API Entreprise emulator serving our document to `jwt`.
pub fn api_entreprise_config(jwt: &str) -> GatewayConfig {
    GatewayConfig::api_entreprise()
        .bearer(jwt)
        .mount_spec(spec("api-entreprise/api-entreprise.yaml"))
}

/// Starts the worker commands together and waits for all of them, off the test's runtime.
pub async fn run_workers(commands: Vec<Command>) -> Vec<std::process::Output> {
    tokio::task::spawn_blocking(move || {
        let children: Vec<_> = commands
            .into_iter()
            .map(|mut c| c.spawn().expect("spawn the fleet worker"))
            .collect();
        children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap()
}

pub fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}
