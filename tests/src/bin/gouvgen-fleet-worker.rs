//! One process of the fleet tests (tests/tests/fleet.rs, fleet_services.rs): `tasks`
//! concurrent tasks calling a PISTE and a Douane emulator for `run_ms` through one PISTE
//! application and one Douane account, sharing tokens, limits and 429 pauses through Redis.
//! Prints one JSON line.
//!
//! Usage: gouvgen-fleet-worker PISTE_URL DOUANE_URL REDIS_URL RUN_MS TASKS FORCE_429_AT_MS
//! [PROBE_MS STORE_TIMEOUT_MS]
//! (FORCE_429_AT_MS < 0: never; else one PISTE call asks the emulator for a 429 then).
//! PROBE_MS > 0: one more task calls the Douane account every PROBE_MS through a client without
//! rate limit (so a call waits for nothing but the store) and reports each call's start (Unix
//! ms) and duration: what a stalled Redis costs a call. Runtime warnings go to stderr.
//!
//! Breaker mode: gouvgen-fleet-worker breaker API_URL JWT REDIS_URL RUN_MS FAILURES COOLDOWN_MS
//! calls an API Entreprise emulator every 20 ms for RUN_MS (200 ms timeout, no retry, circuit
//! breaker shared through Redis) and prints each call's start (Unix ms), duration (µs),
//! outcome (0 ok, 1 Unavailable, 2 timeout, 3 other) and whether it completed on its first
//! poll, without waiting for anything (1) or not (0).
//!
//! Quota mode: gouvgen-fleet-worker quota API_URL JWT REDIS_URL RUN_MS CLIENTS WORKER
//! builds CLIENTS separate clients of one API Entreprise token (the preset's own limits, the
//! gateway's `RateLimit-*` headers, Redis shared), each calling a different SIREN in a loop
//! for RUN_MS, and prints the answers by status and the calls still waiting at the end.
//!
//! Limit mode: gouvgen-fleet-worker limit PISTE_URL REDIS_URL PER_SECOND RUN_MS TASKS
//! calls a PISTE emulator from TASKS concurrent tasks for RUN_MS through one application
//! limited to PER_SECOND calls a second, shared through Redis (default store timeout), and
//! prints the calls made, ok and failed, and the store warnings count is on stderr.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use gouvgen_runtime::presets::{self, DouaneEnvironment, Environment, PisteAccess};
use gouvgen_runtime::{
    ApiClient, CallOptions, CircuitBreaker, Error, Method, RateLimit, Request, RetryPolicy,
};

type U = gouvgen_runtime::Undocumented;

#[derive(Default)]
struct Counts {
    calls: AtomicU64,
    ok: AtomicU64,
    caller_429: AtomicU64,
    errors: AtomicU64,
    max_ms: AtomicU64,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let a: Vec<String> = std::env::args().collect();
    if a.get(1).map(String::as_str) == Some("breaker") {
        return breaker_mode(&a[2..]).await;
    }
    if a.get(1).map(String::as_str) == Some("quota") {
        return quota_mode(&a[2..]).await;
    }
    if a.get(1).map(String::as_str) == Some("limit") {
        return limit_mode(&a[2..]).await;
    }
    assert!(
        a.len() == 7 || a.len() == 9,
        "usage: PISTE_URL DOUANE_URL REDIS_URL RUN_MS TASKS FORCE_429_AT_MS [PROBE_MS STORE_TIMEOUT_MS]"
    );
    let probe_every: u64 = a.get(7).map_or(0, |v| v.parse().unwrap());
    let store_timeout = Duration::from_millis(a.get(8).map_or(250, |v| v.parse().unwrap()));
    let (piste_url, douane_url, redis) = (a[1].clone(), a[2].clone(), a[3].clone());
    let run = Duration::from_millis(a[4].parse().unwrap());
    let tasks: usize = a[5].parse().unwrap();
    let force_at: i64 = a[6].parse().unwrap();

    let piste = ApiClient::builder(presets::piste(
        PisteAccess::Internet,
        Environment::Production,
    ))
    .api_root(piste_url.clone())
    .token_url(format!("{piste_url}/api/oauth/token"))
    .client_credentials("client-id", "client-secret")
    .api_key("cle-applicative")
    // PISTE allows 20/s per application; 19/s leaves room for scheduling delays of a few
    // tens of ms on a loaded machine (a late call shortens the next window).
    .rate_limit(RateLimit::per_second(19))
    .redis(&redis)
    .shared_store_timeout(store_timeout)
    .build()
    .unwrap();
    let douane = ApiClient::builder(presets::douane(DouaneEnvironment::Production))
        .api_root(douane_url.clone())
        .token_url(format!("{douane_url}/oauth2/token"))
        .password_grant("compte-api", "mot-de-passe")
        .rate_limit(RateLimit::per_second(40))
        .redis(&redis)
        .shared_store_timeout(store_timeout)
        .build()
        .unwrap();
    // Same account, no rate limit: its calls wait for the store (one 429-pause check), the
    // shared token and the emulator, nothing else.
    let probe = ApiClient::builder(presets::douane(DouaneEnvironment::Production))
        .api_root(douane_url.clone())
        .token_url(format!("{douane_url}/oauth2/token"))
        .password_grant("compte-api", "mot-de-passe")
        .no_rate_limit()
        .redis(&redis)
        .shared_store_timeout(store_timeout)
        .build()
        .unwrap();

    let counts = Arc::new(Counts::default());
    let start = Instant::now();
    let stop = start + run;
    let mut set = tokio::task::JoinSet::new();
    for t in 0..tasks {
        let (piste, douane, counts) = (piste.clone(), douane.clone(), Arc::clone(&counts));
        set.spawn(async move {
            let mut i = 0u64;
            while Instant::now() < stop {
                i += 1;
                let (client, req) = if (i + t as u64).is_multiple_of(2) {
                    let r = Request::new(
                        Method::GET,
                        "listCodes",
                        "/dila/legifrance/lf-engine-app/list/codes".into(),
                    );
                    (&piste, r)
                } else {
                    let r = Request::new(
                        Method::GET,
                        "consulterStatut",
                        format!(
                            "/declarations/v1/declarations/{}/statut",
                            declaration_id(t as u64, i)
                        ),
                    );
                    (&douane, r)
                };
                let began = Instant::now();
                let res = client.execute::<U>(req).await;
                let ms = began.elapsed().as_millis() as u64;
                counts.max_ms.fetch_max(ms, Ordering::Relaxed);
                counts.calls.fetch_add(1, Ordering::Relaxed);
                match res {
                    Ok(r) if r.status() == 429 => {
                        counts.caller_429.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(r) if r.status() < 400 => {
                        counts.ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(r) => {
                        eprintln!("worker: HTTP {}", r.status());
                        counts.errors.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        eprintln!("worker: {e}");
                        counts.errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
    }
    let probes = tokio::spawn(async move {
        let mut out: Vec<[u64; 2]> = Vec::new();
        if probe_every == 0 {
            return (out, 0u64);
        }
        let mut errors = 0;
        let mut tick = tokio::time::interval(Duration::from_millis(probe_every));
        let mut i = 0u64;
        while Instant::now() < stop {
            tick.tick().await;
            i += 1;
            let at = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            let began = Instant::now();
            let r = probe
                .execute::<U>(Request::new(
                    Method::GET,
                    "consulterStatut",
                    format!(
                        "/declarations/v1/declarations/{}/statut",
                        declaration_id(0xffff, i)
                    ),
                ))
                .await;
            if !r.is_ok_and(|r| r.status() < 400) {
                errors += 1;
            }
            out.push([at.as_millis() as u64, began.elapsed().as_millis() as u64]);
        }
        (out, errors)
    });
    let mut forced = serde_json::Value::Null;
    if force_at >= 0 {
        tokio::time::sleep(Duration::from_millis(force_at as u64)).await;
        let one = piste.with_options(
            CallOptions::new()
                .header("X-Emulator-Status", "429")
                .retry_policy(RetryPolicy::none()),
        );
        let r = one
            .execute::<U>(Request::new(
                Method::GET,
                "listCodes",
                "/dila/legifrance/lf-engine-app/list/codes".into(),
            ))
            .await
            .unwrap();
        forced = serde_json::json!({"status": r.status(), "correlation_id": r.correlation_id()});
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    let (probes, probe_errors) = probes.await.unwrap();
    let c = &counts;
    println!(
        "{}",
        serde_json::json!({
            "calls": c.calls.load(Ordering::Relaxed),
            "ok": c.ok.load(Ordering::Relaxed),
            "caller_429": c.caller_429.load(Ordering::Relaxed),
            "errors": c.errors.load(Ordering::Relaxed),
            "max_call_ms": c.max_ms.load(Ordering::Relaxed),
            "token_requests": piste.token_requests() + douane.token_requests(),
            "elapsed_ms": start.elapsed().as_millis() as u64,
            "forced": forced,
            "probes": probes,
            "probe_errors": probe_errors,
        })
    );
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

async fn breaker_mode(a: &[String]) {
    assert_eq!(
        a.len(),
        6,
        "usage: breaker API_URL JWT REDIS_URL RUN_MS FAILURES COOLDOWN_MS"
    );
    let client = ApiClient::builder(presets::api_entreprise(Environment::Production))
        .api_root(a[0].clone())
        .jwt(a[1].clone())
        .no_rate_limit()
        .traceability("Aides publiques", "12000101100010", "dossier")
        .timeout(Duration::from_millis(200))
        .retry_policy(RetryPolicy::none())
        .circuit_breaker(CircuitBreaker::new(
            a[4].parse().unwrap(),
            Duration::from_millis(a[5].parse().unwrap()),
        ))
        .redis(&a[2])
        .build()
        .unwrap();
    let stop = Instant::now() + Duration::from_millis(a[3].parse().unwrap());
    let mut out: Vec<[u64; 4]> = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while Instant::now() < stop {
        tick.tick().await;
        let at = unix_ms();
        let began = Instant::now();
        let req = Request::new(
            Method::GET,
            "uniteLegale",
            "/v3/insee/sirene/unites_legales/130025265".into(),
        )
        .traceability();
        let mut call = std::pin::pin!(client.execute::<U>(req));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        let (result, at_once) = match call.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(r) => (r, 1),
            std::task::Poll::Pending => (call.await, 0),
        };
        let kind = match result {
            Ok(r) if r.status() < 400 => 0,
            Err(Error::Unavailable { .. }) => 1,
            Err(Error::Timeout { .. }) => 2,
            _ => 3,
        };
        out.push([at, began.elapsed().as_micros() as u64, kind, at_once]);
    }
    println!("{}", serde_json::json!({ "calls": out }));
}

async fn quota_mode(a: &[String]) {
    assert_eq!(
        a.len(),
        6,
        "usage: quota API_URL JWT REDIS_URL RUN_MS CLIENTS WORKER"
    );
    let stop = tokio::time::Instant::now() + Duration::from_millis(a[3].parse().unwrap());
    let worker: u64 = a[5].parse().unwrap();
    let by_status = Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::new()));
    let cut = Arc::new(AtomicU64::new(0));
    let mut set = tokio::task::JoinSet::new();
    for c in 0..a[4].parse::<u64>().unwrap() {
        let client = ApiClient::builder(presets::api_entreprise(Environment::Production))
            .api_root(a[0].clone())
            .jwt(a[1].clone())
            .traceability("Aides publiques", "12000101100010", "dossier")
            .redis(&a[2])
            .build()
            .unwrap()
            // A call may wait for the quota's reset (up to a minute).
            .with_options(CallOptions::new().timeout(Duration::from_secs(90)));
        let (by_status, cut) = (Arc::clone(&by_status), Arc::clone(&cut));
        set.spawn(async move {
            for n in 0.. {
                let siren = 100_000_000 + worker * 10_000_000 + c * 100_000 + n;
                let req = Request::new(
                    Method::GET,
                    "uniteLegale",
                    format!("/v3/insee/sirene/unites_legales/{siren}"),
                )
                .traceability();
                let Ok(result) = tokio::time::timeout_at(stop, client.execute::<U>(req)).await
                else {
                    cut.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                let key = match result {
                    Ok(r) => r.status().to_string(),
                    Err(e) => format!("error: {e}"),
                };
                *by_status.lock().unwrap().entry(key).or_insert(0u64) += 1;
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    let by_status = by_status.lock().unwrap().clone();
    println!(
        "{}",
        serde_json::json!({ "by_status": by_status, "cut": cut.load(Ordering::Relaxed) })
    );
}

async fn limit_mode(a: &[String]) {
    assert_eq!(
        a.len(),
        5,
        "usage: limit PISTE_URL REDIS_URL PER_SECOND RUN_MS TASKS"
    );
    let url = &a[0];
    let client = ApiClient::builder(presets::piste(
        PisteAccess::Internet,
        Environment::Production,
    ))
    .api_root(url.clone())
    .token_url(format!("{url}/api/oauth/token"))
    .client_credentials("client-id", "client-secret")
    .api_key("cle-applicative")
    .rate_limit(RateLimit::per_second(a[2].parse().unwrap()))
    .redis(&a[1])
    .build()
    .unwrap();
    let stop = Instant::now() + Duration::from_millis(a[3].parse().unwrap());
    let counts = Arc::new(Counts::default());
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..a[4].parse::<usize>().unwrap() {
        let (client, counts) = (client.clone(), Arc::clone(&counts));
        set.spawn(async move {
            while Instant::now() < stop {
                let r = client
                    .execute::<U>(Request::new(
                        Method::GET,
                        "listCodes",
                        "/dila/legifrance/lf-engine-app/list/codes".into(),
                    ))
                    .await;
                counts.calls.fetch_add(1, Ordering::Relaxed);
                match r {
                    Ok(r) if r.status() < 400 => counts.ok.fetch_add(1, Ordering::Relaxed),
                    Ok(r) => {
                        eprintln!("worker: HTTP {}", r.status());
                        counts.errors.fetch_add(1, Ordering::Relaxed)
                    }
                    Err(e) => {
                        eprintln!("worker: {e}");
                        counts.errors.fetch_add(1, Ordering::Relaxed)
                    }
                };
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    println!(
        "{}",
        serde_json::json!({
            "calls": counts.calls.load(Ordering::Relaxed),
            "ok": counts.ok.load(Ordering::Relaxed),
            "errors": counts.errors.load(Ordering::Relaxed),
        })
    );
}

/// A declaration id as the Douane document declares it (`format: uuid`, which the emulator
/// checks): the task (`ffff` for the probe) and the call number in the last group.
fn declaration_id(task: u64, call: u64) -> String {
    format!(
        "00000000-0000-4000-8000-{:04x}{:08x}",
        task & 0xffff,
        call & 0xffff_ffff
    )
}
