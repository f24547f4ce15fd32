//! Helpers the fleet tests share: worker processes, the emulators of our documents with the
//! credentials the worker uses, and the lock that runs multi-process tests one at a time.
// Each test file uses part of them.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime};

use gouvgen_emulator::GatewayConfig;
use gouvgen_tests::redis_server::{RedisServer, available};
use gouvgen_tests::repo_root;

/// Multi-process tests of one test binary run one after the other: 8 workers at once on a 2-core machine
/// would measure the machine, not the fleet.
pub static FLEET: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The start of every multi-process test: `None` when redis-server is missing (after the
/// skip line; under `CI=true` it panics), otherwise this binary's fleet lock, held for the
/// whole test, and a fresh Redis.
pub async fn fleet_with_redis(
    test: &str,
) -> Option<(tokio::sync::MutexGuard<'static, ()>, RedisServer)> {
    if !available(test) {
        return None;
    }
    let one_fleet_at_a_time = FLEET.lock().await;
    Some((one_fleet_at_a_time, RedisServer::start()))
}

pub fn spec(rel: &str) -> PathBuf {
    repo_root().join("specs").join(rel)
}

/// An API Entreprise emulator serving our document to `jwt`.
pub fn api_entreprise_config(jwt: &str) -> GatewayConfig {
    GatewayConfig::api_entreprise()
        .bearer(jwt)
        .mount_spec(spec("api-entreprise/api-entreprise.yaml"))
}

/// The PISTE emulator with the application credentials the worker signs in with.
pub fn piste_config() -> GatewayConfig {
    GatewayConfig::piste()
        .client("client-id", "client-secret", &["openid"])
        .api_key("KeyId", "cle-applicative")
        .mount_spec(spec("piste/legifrance.json"))
}

/// The Douane emulator with the worker's account, its tokens living `token_lifetime`.
pub fn douane_config(token_lifetime: Duration) -> GatewayConfig {
    GatewayConfig::douane()
        .account("compte-api", "mot-de-passe")
        .token_lifetime(token_lifetime)
        .mount_spec(spec("douane/declarations.yaml"))
}

/// A `gouvgen-fleet-worker` command with `args`, its output captured for the test to read.
pub fn worker<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gouvgen-fleet-worker"));
    c.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

/// Starts the worker commands together and returns at once, so the test can act on Redis or
/// an emulator while the fleet runs; the handle gives their outputs once all have exited
/// (waited for off the test's runtime).
pub fn spawn_workers(commands: Vec<Command>) -> tokio::task::JoinHandle<Vec<Output>> {
    let children: Vec<_> = commands
        .into_iter()
        .map(|mut c| c.spawn().expect("spawn the fleet worker"))
        .collect();
    tokio::task::spawn_blocking(move || {
        children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect()
    })
}

/// Starts the worker commands together and waits for all of them.
pub async fn run_workers(commands: Vec<Command>) -> Vec<Output> {
    spawn_workers(commands).await.unwrap()
}

pub fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}
