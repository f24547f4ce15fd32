//! Many clients, many processes, one account: the fleet test (OS processes sharing tokens,
//! limits and 429 pauses through a real redis-server), the audit trail against the emulator's
//! call log, and the circuit breaker against an emulator that goes dark.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use gouvgen_emulator::{Emulator, GatewayConfig};
use gouvgen_runtime::presets::{self, Environment};
use gouvgen_runtime::{
    ApiClient, CallOptions, CircuitBreaker, Error, Method, Request, RetryPolicy,
};
use gouvgen_tests::redis_server::{RedisServer, available};
use gouvgen_tests::repo_root;
use serde_json::Value;

type U = gouvgen_runtime::Undocumented;

fn spec(rel: &str) -> PathBuf {
    repo_root().join("specs").join(rel)
}

const PROCESSES: usize = 4;
const TASKS: usize = 50;
const RUN_MS: u64 = 5000;
const FORCE_429_AT_MS: u64 = 2000;
const DOUANE_TOKEN_LIFETIME: Duration = Duration::from_secs(4);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_share_tokens_limits_and_pauses_through_redis() {
    if !available("four_processes_share_tokens_limits_and_pauses_through_redis") {
        return;
    }
    let redis = RedisServer::start();
    let piste = Emulator::start(
        GatewayConfig::piste()
            .client("client-id", "client-secret", &["openid"])
            .api_key("KeyId", "cle-applicative")
            .rate_limit(20, Duration::from_secs(1))
            .retry_after(Duration::from_secs(2))
            .mount_spec(spec("piste/legifrance.json")),
    )
    .await;
    let douane = Emulator::start(
        GatewayConfig::douane()
            .account("compte-api", "mot-de-passe")
            .token_lifetime(DOUANE_TOKEN_LIFETIME)
            .mount_spec(spec("douane/declarations.yaml")),
    )
    .await;
    let (piste_url, douane_url, redis_url) = (piste.base_url(), douane.base_url(), redis.url());
    let outputs = tokio::task::spawn_blocking(move || {
        let children: Vec<_> = (0..PROCESSES)
            .map(|i| {
                let force = if i == 0 { FORCE_429_AT_MS as i64 } else { -1 };
                Command::new(env!("CARGO_BIN_EXE_gouvgen-fleet-worker"))
                    .args([&piste_url, &douane_url, &redis_url])
                    .args([RUN_MS.to_string(), TASKS.to_string(), force.to_string()])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("spawn the fleet worker")
            })
            .collect();
        children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();

    let mut max_elapsed = 0u64;
    let mut calls = 0u64;
    for (i, out) in outputs.iter().enumerate() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "worker {i} failed: {stderr}");
        assert!(
            !stderr.contains(redis.password()),
            "worker {i} printed the Redis password"
        );
        let v: Value = serde_json::from_slice(&out.stdout).expect("worker JSON line");
        eprintln!("worker {i}: {v}");
        assert_eq!(v["errors"], 0, "worker {i}: {stderr}");
        assert_eq!(v["caller_429"], 0, "a 429 reached a caller of worker {i}");
        assert!(v["ok"].as_u64().unwrap() > 0);
        calls += v["calls"].as_u64().unwrap();
        max_elapsed = max_elapsed.max(v["elapsed_ms"].as_u64().unwrap());
        if i == 0 {
            assert_eq!(v["forced"]["status"], 429);
        }
    }

    // One PISTE token for the whole fleet (1 h lifetime).
    let ps = piste.stats();
    assert_eq!(
        ps.token_requests.values().sum::<u64>(),
        1,
        "{:?}",
        ps.token_requests
    );
    // Douane: one token request per token lifetime (refresh point: lifetime minus a fifth).
    let ds = douane.stats();
    let douane_tokens: u64 = ds.token_requests.values().sum();
    let refresh_every = DOUANE_TOKEN_LIFETIME.as_millis() as u64 * 3 / 4;
    let bound = max_elapsed.div_ceil(refresh_every) + 1;
    assert!(
        douane_tokens <= bound,
        "{douane_tokens} Douane token requests in {max_elapsed} ms (at most {bound}): {:?}",
        ds.token_requests
    );
    // PISTE's quota, per application, counted by the emulator across the 4 processes.
    assert_eq!(ps.throttled, 0, "the emulator's 20/s quota was exceeded");
    let piste_max = ps.max_per_second_by_account["client-id"];
    eprintln!(
        "fleet: {calls} calls, PISTE max {piste_max} in a strict 1 s window, {douane_tokens} Douane token requests, {max_elapsed} ms"
    );
    assert!(piste_max <= 21, "{piste_max} PISTE calls within 1 s");

    // The Retry-After given to worker 0 held back every process.
    let log = piste.calls();
    let forced = log
        .iter()
        .find(|c| c.status == 429)
        .expect("the forced 429");
    let from = forced.at + Duration::from_millis(150);
    let to = forced.at + Duration::from_millis(1850);
    let during: Vec<SystemTime> = log
        .iter()
        .map(|c| c.at)
        .filter(|at| *at > from && *at < to)
        .collect();
    assert!(
        during.is_empty(),
        "{} PISTE calls during the fleet-wide Retry-After pause",
        during.len()
    );
    let after = log.iter().filter(|c| c.at > to).count();
    assert!(after > 20, "calls resumed after the pause: {after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_calls_give_ten_thousand_audit_records() {
    let jwt = Emulator::jwt(Duration::from_secs(3600 * 24 * 365));
    let emu = Emulator::start(
        GatewayConfig::api_entreprise()
            .bearer(&jwt)
            .mount_spec(spec("api-entreprise/api-entreprise.yaml")),
    )
    .await;
    let dir = std::env::temp_dir().join(format!("gouvgen-fleet-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("audit.jsonl");
    let _ = std::fs::remove_file(&file);
    let client = ApiClient::builder(presets::api_entreprise(Environment::Production))
        .api_root(emu.base_url())
        .jwt(jwt.clone())
        .no_rate_limit()
        .traceability_context("Aides publiques", "13002526500013")
        .audit_file(&file)
        .build()
        .unwrap();
    const CALLS: usize = 10_000;
    let mut set = tokio::task::JoinSet::new();
    for t in 0..50 {
        let client = client.clone();
        set.spawn(async move {
            for i in (t..CALLS).step_by(50) {
                let siren = format!("{:09}", 100_000_000 + i);
                let req = Request::new(
                    Method::GET,
                    "uniteLegale",
                    format!("/v3/insee/sirene/unites_legales/{siren}"),
                )
                .path_template("/v3/insee/sirene/unites_legales/{siren}")
                .traceability();
                let c = client
                    .with_options(CallOptions::new().traceability_object(format!("dossier-{i}")));
                let r = c.execute::<U>(req).await.unwrap();
                assert_eq!(r.status(), 200);
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    let text = std::fs::read_to_string(&file).unwrap();
    let records: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), CALLS);
    assert!(!text.contains(&jwt), "the JWT is in the audit file");
    assert!(
        !text.contains("100000042"),
        "a path value is in the audit file"
    );
    let audited: HashSet<String> = records
        .iter()
        .map(|r| r["correlation_id"].as_str().unwrap().to_owned())
        .collect();
    let logged: HashSet<String> = emu
        .calls()
        .into_iter()
        .filter_map(|c| c.correlation_id)
        .collect();
    assert_eq!(audited.len(), CALLS);
    assert_eq!(
        audited, logged,
        "audit records and the emulator's call log differ"
    );
    let objects: HashSet<&str> = records
        .iter()
        .map(|r| r["traceability"]["object"].as_str().unwrap())
        .collect();
    assert_eq!(objects.len(), CALLS, "one object per call");
    assert!(records.iter().all(|r| r["path_template"]
        == "/v3/insee/sirene/unites_legales/{siren}"
        && r["outcome"] == "success"
        && r["status"] == 200
        && r["gateway_correlation_id"].is_string()));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaker_opens_when_the_emulator_goes_dark_and_closes_when_it_returns() {
    let jwt = Emulator::jwt(Duration::from_secs(3600));
    let emu = Emulator::start(
        GatewayConfig::api_entreprise()
            .bearer(&jwt)
            .mount_spec(spec("api-entreprise/api-entreprise.yaml")),
    )
    .await;
    let client = ApiClient::builder(presets::api_entreprise(Environment::Production))
        .api_root(emu.base_url())
        .jwt(jwt)
        .no_rate_limit()
        .traceability("Aides publiques", "13002526500013", "dossier")
        .timeout(Duration::from_millis(200))
        .retry_policy(RetryPolicy::none())
        .circuit_breaker(CircuitBreaker::new(5, Duration::from_millis(500)))
        .build()
        .unwrap();
    let call = || {
        let req = Request::new(
            Method::GET,
            "uniteLegale",
            "/v3/insee/sirene/unites_legales/130025265".into(),
        )
        .traceability();
        client.execute::<U>(req)
    };
    assert_eq!(call().await.unwrap().status(), 200);
    emu.set_dark(true);
    for _ in 0..5 {
        assert!(matches!(call().await.unwrap_err(), Error::Timeout { .. }));
    }
    let before = emu.stats().api_calls;
    let mut slowest = Duration::ZERO;
    for _ in 0..100 {
        let t = Instant::now();
        let e = call().await.unwrap_err();
        slowest = slowest.max(t.elapsed());
        assert!(matches!(e, Error::Unavailable { .. }), "{e:?}");
    }
    assert!(
        slowest < Duration::from_millis(10),
        "open circuit answered in {slowest:?}"
    );
    assert_eq!(emu.stats().api_calls, before, "nothing sent while open");
    emu.set_dark(false);
    tokio::time::sleep(Duration::from_millis(550)).await;
    assert_eq!(
        call().await.unwrap().status(),
        200,
        "the probe closes the circuit"
    );
    assert_eq!(call().await.unwrap().status(), 200);
}
