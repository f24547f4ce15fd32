//! One account's other shared services across clients and processes: the audit trail
//! against the emulator's call log, the circuit breaker against an emulator that goes dark
//! (alone and shared through Redis), and the quota the gateway announces.

mod fleet_support;

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use gouvgen_emulator::Emulator;
use gouvgen_runtime::presets::{self, Environment};
use gouvgen_runtime::{
    ApiClient, CallOptions, CircuitBreaker, Error, Method, Request, RetryPolicy,
};
use serde_json::Value;

use fleet_support::*;
use futures_util::FutureExt;

type U = gouvgen_runtime::Undocumented;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_calls_give_ten_thousand_audit_records() {
    let jwt = Emulator::jwt(Duration::from_secs(3600 * 24 * 365));
    let emu = Emulator::start(api_entreprise_config(&jwt)).await;
    let dir = std::env::temp_dir().join(format!("gouvgen-fleet-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("audit.jsonl");
    let _ = std::fs::remove_file(&file);
    let client = ApiClient::builder(presets::api_entreprise(Environment::Production))
        .api_root(emu.base_url())
        .jwt(jwt.clone())
        .no_rate_limit()
        .traceability_context("Aides publiques", "12000101100010")
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
    let emu = Emulator::start(api_entreprise_config(&jwt)).await;
    let client = ApiClient::builder(presets::api_entreprise(Environment::Production))
        .api_root(emu.base_url())
        .jwt(jwt)
        .no_rate_limit()
        .traceability("Aides publiques", "12000101100010", "dossier")
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
    for _ in 0..100 {
        // Refused on the first poll: nothing awaited (no connection, no timer).
        let e = call()
            .now_or_never()
            .expect("an open circuit refuses at once")
            .unwrap_err();
        assert!(matches!(e, Error::Unavailable { .. }), "{e:?}");
    }
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

const BREAKER_COOLDOWN_MS: u64 = 1500;

/// Three worker processes share one host's circuit breaker through Redis. Only worker 0 opens
/// it on its own (3 failures); workers 1 and 2 would need 1,000. The emulator goes dark: once
/// worker 0 opens the circuit, workers 1 and 2 fail fast too, one process of the fleet sends
/// the half-open probe (it fails: still dark), and after the emulator comes back the next
/// probe closes the circuit for all of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_process_opens_the_circuit_for_the_fleet_and_one_probe_closes_it() {
    let Some((_one_fleet_at_a_time, redis)) =
        fleet_with_redis("one_process_opens_the_circuit_for_the_fleet_and_one_probe_closes_it")
            .await
    else {
        return;
    };
    let jwt = Emulator::jwt(Duration::from_secs(3600));
    let emu = Emulator::start(api_entreprise_config(&jwt)).await;
    let commands = [3, 1000, 1000]
        .iter()
        .map(|failures: &u32| {
            let mut c = worker([
                "breaker".to_string(),
                emu.base_url(),
                jwt.clone(),
                redis.url(),
            ]);
            c.args(["8000".to_string(), failures.to_string()])
                .arg(BREAKER_COOLDOWN_MS.to_string());
            c
        })
        .collect();
    let waiter = spawn_workers(commands);
    let last_arrival = || emu.calls().iter().map(|c| c.at).max();
    let poll = || tokio::time::sleep(Duration::from_millis(20));
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(last_arrival().is_some(), "the workers called the emulator");
    emu.set_dark(true);
    let dark = SystemTime::now();
    // Open fleet-wide: nothing arrives for 300 ms (each worker calls every 20 ms, or every
    // 220 ms while its calls time out).
    let quiet = loop {
        poll().await;
        let last = last_arrival().unwrap();
        let now = SystemTime::now();
        if last > dark && now.duration_since(last).unwrap() >= Duration::from_millis(300) {
            break now;
        }
        assert!(
            now.duration_since(dark).unwrap() < Duration::from_secs(4),
            "never opened"
        );
    };
    // The first probe (dark: it times out and opens the circuit again).
    let probe = loop {
        poll().await;
        if let Some(t) = last_arrival().filter(|t| *t > quiet) {
            break t;
        }
        assert!(
            SystemTime::now().duration_since(quiet).unwrap() < Duration::from_secs(3),
            "no probe after the cooldown"
        );
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    emu.set_dark(false);
    let outputs = waiter.await.unwrap();

    let arrivals: Vec<SystemTime> = emu.calls().iter().map(|c| c.at).collect();
    let count =
        |a: SystemTime, b: SystemTime| arrivals.iter().filter(|t| **t >= a && **t < b).count();
    // Nothing while open, one probe for the fleet, nothing until the next cooldown ends.
    let next_probe = probe + Duration::from_millis(200 + BREAKER_COOLDOWN_MS - 100);
    assert_eq!(count(quiet, next_probe), 1, "one probe for the whole fleet");
    let closed_from = probe + Duration::from_millis(200 + BREAKER_COOLDOWN_MS + 500);
    let mut fast = Vec::new();
    for (i, out) in outputs.iter().enumerate() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "worker {i} failed: {stderr}");
        let v: Value = serde_json::from_slice(&out.stdout).expect("worker JSON line");
        let calls: Vec<(u64, u64, u64, u64)> = v["calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c[0].as_u64().unwrap(),
                    c[1].as_u64().unwrap(),
                    c[2].as_u64().unwrap(),
                    c[3].as_u64().unwrap(),
                )
            })
            .collect();
        let open: Vec<&(u64, u64, u64, u64)> = calls
            .iter()
            .filter(|c| c.0 >= unix_ms(quiet) && c.0 + c.1 / 1000 < unix_ms(probe))
            .collect();
        let after: Vec<&(u64, u64, u64, u64)> = calls
            .iter()
            .filter(|c| c.0 >= unix_ms(closed_from))
            .collect();
        let slowest = open.iter().map(|c| c.1).max().unwrap_or(0);
        eprintln!(
            "breaker worker {i}: {} calls, {} while open (slowest {slowest} µs), {} after closing",
            calls.len(),
            open.len(),
            after.len()
        );
        assert!(
            open.len() > 10,
            "worker {i}: {} calls while open",
            open.len()
        );
        assert!(
            open.iter().all(|c| c.2 == 1),
            "worker {i}: a call got through the open circuit: {open:?}"
        );
        // Refused on the first poll (nothing awaited), except when the cooldown has just
        // ended and the process asks the store for the fleet's one probe (another took it).
        let waited = open.iter().filter(|c| c.3 == 0).count();
        assert!(
            waited <= 2,
            "worker {i}: {waited} refusals of an open circuit waited for something: {open:?}"
        );
        assert!(
            after.len() > 10,
            "worker {i}: {} calls after closing",
            after.len()
        );
        assert!(
            after.iter().all(|c| c.2 == 0),
            "worker {i}: the probe did not close the circuit here: {after:?}"
        );
        fast.push(slowest);
    }
    assert!(
        count(closed_from, SystemTime::now()) > 30,
        "the fleet calls the emulator again"
    );
    eprintln!("breaker: slowest refusal per worker {fast:?} µs; 1 probe while open");
}

const QUOTA_RUN_MS: u64 = 120_000;
const QUOTA_PER_MINUTE: u64 = 250;

/// Issue "gateways 2026": an API Entreprise emulator with the production rules announces
/// 250/minute per token in `RateLimit-*`; 10 clients in 3 OS processes, one token, Redis
/// shared, run 2 minutes. No call may draw a 429, and the fleet must use at least 90 % of
/// the quota.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_clients_in_three_processes_use_the_quota_without_a_429() {
    let Some((_one_fleet_at_a_time, redis)) =
        fleet_with_redis("ten_clients_in_three_processes_use_the_quota_without_a_429").await
    else {
        return;
    };
    let jwt = Emulator::jwt(Duration::from_secs(3600));
    let emu = Emulator::start(api_entreprise_config(&jwt).production_rules()).await;
    let (url, redis_url) = (emu.base_url(), redis.url());
    let commands = [4, 3, 3]
        .iter()
        .enumerate()
        .map(|(i, clients)| {
            let mut c = worker(["quota", &url, &jwt, &redis_url]);
            c.args([QUOTA_RUN_MS.to_string(), clients.to_string(), i.to_string()]);
            c
        })
        .collect();
    let outputs = run_workers(commands).await;
    let mut ok = 0;
    for (i, out) in outputs.iter().enumerate() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "worker {i} failed: {stderr}");
        let v: Value = serde_json::from_slice(&out.stdout).expect("worker JSON line");
        eprintln!("quota worker {i}: {v}");
        for (status, n) in v["by_status"].as_object().unwrap() {
            assert_eq!(status, "200", "worker {i}: {n} answers {status}: {stderr}");
            ok += n.as_u64().unwrap();
        }
    }
    let stats = emu.stats();
    eprintln!("quota: {ok} calls answered 200, emulator stats {stats:?}");
    let quota = QUOTA_PER_MINUTE * QUOTA_RUN_MS / 60_000;
    assert!(
        ok * 10 >= quota * 9,
        "{ok} calls answered in {QUOTA_RUN_MS} ms: under 90 % of the {quota} allowed"
    );
    assert!(ok <= quota + 3, "{ok} answered: over the quota");
}
