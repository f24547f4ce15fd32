//! Quotas and the ban rule, statistics and the call log of the emulator.

mod support;

use std::time::Duration;

use gouvgen_emulator::{Emulator, GatewayConfig};
use reqwest::{Response, StatusCode};
use serde_json::Value;

use support::*;

// ---------------------------------------------------------------- quotas

#[tokio::test]
async fn over_the_rate_429_with_retry_after() {
    // A 10 s window, so that a loaded machine cannot spread the 4 calls past it; the clock
    // is then advanced by Retry-After instead of sleeping.
    let emu = Emulator::start(dgfip().rate_limit(3, Duration::from_secs(10))).await;
    let token = dgfip_token(&emu, "RessourceIR").await;
    for _ in 0..3 {
        assert_eq!(dgfip_call(&emu, &token).await.status(), 200);
    }
    let r = dgfip_call(&emu, &token).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = header(&r, "retry-after").unwrap().parse().unwrap();
    assert!((1..=10).contains(&wait), "{wait}");
    assert_eq!(r.json::<Value>().await.unwrap()["erreur"]["code"], 900804);
    emu.advance_clock(Duration::from_secs(wait));
    assert_eq!(
        dgfip_call(&emu, &token).await.status(),
        200,
        "room again after Retry-After"
    );
    let stats = emu.stats();
    assert_eq!(stats.throttled, 1);
    assert_eq!(stats.max_calls_per_second, 4);
    assert_eq!(stats.ban_violations, 0, "DGFiP does not ban");

    // Per-minute windows (API Entreprise style): Retry-After counts in seconds to the window's end.
    let jwt = gouvgen_emulator::jwt(Duration::from_secs(3600));
    let emu = Emulator::start(
        GatewayConfig::api_entreprise()
            .bearer(&jwt)
            .rate_limit(2, Duration::from_secs(60))
            .mount_spec(fixture("mini.yaml")),
    )
    .await;
    let url = format!("{}/mini/1.0/notes/1", emu.base_url());
    for _ in 0..2 {
        assert_eq!(
            http()
                .get(&url)
                .bearer_auth(&jwt)
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    let r = http().get(&url).bearer_auth(&jwt).send().await.unwrap();
    assert_eq!(r.status(), 429);
    let wait: u64 = header(&r, "retry-after").unwrap().parse().unwrap();
    assert!((50..=60).contains(&wait), "{wait}");
    assert_eq!(
        r.json::<Value>().await.unwrap()["errors"][0]["code"],
        "00429"
    );
}

#[tokio::test]
async fn calling_before_retry_after_is_a_ban_violation() {
    let jwt = gouvgen_emulator::jwt(Duration::from_secs(3600));
    let gateway = || {
        GatewayConfig::api_entreprise()
            .bearer(&jwt)
            .rate_limit(2, Duration::from_secs(1))
            .retry_after(Duration::from_secs(1))
            .mount_spec(fixture("mini.yaml"))
    };
    let get = |emu: &Emulator| {
        http()
            .get(format!("{}/mini/1.0/notes/1", emu.base_url()))
            .bearer_auth(&jwt)
            .send()
    };

    // A well-behaved client: waits for Retry-After.
    let emu = Emulator::start(gateway()).await;
    assert_eq!(get(&emu).await.unwrap().status(), 200);
    assert_eq!(get(&emu).await.unwrap().status(), 200);
    let r = get(&emu).await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(header(&r, "retry-after"), Some("1"));
    emu.advance_clock(Duration::from_secs(1));
    assert_eq!(get(&emu).await.unwrap().status(), 200);
    assert_eq!(emu.stats().ban_violations, 0);

    // Calls already in flight when the 429 left are not violations.
    let emu = Emulator::start(gateway()).await;
    let burst: Vec<_> = (0..6).map(|_| get(&emu)).collect();
    let statuses: Vec<u16> = futures_join(burst).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        4,
        "{statuses:?}"
    );
    assert_eq!(emu.stats().ban_violations, 0);

    // A client that comes back too early is caught.
    let emu = Emulator::start(gateway()).await;
    for _ in 0..2 {
        get(&emu).await.unwrap();
    }
    assert_eq!(get(&emu).await.unwrap().status(), 429);
    emu.advance_clock(Duration::from_millis(300));
    let r = get(&emu).await.unwrap();
    assert_eq!(r.status(), 429, "still within Retry-After");
    assert_eq!(emu.stats().ban_violations, 1);
    emu.advance_clock(Duration::from_millis(800));
    assert_eq!(get(&emu).await.unwrap().status(), 200);
    assert_eq!(emu.stats().ban_violations, 1);
}

/// Runs request futures concurrently (no extra dependency for join_all).
async fn futures_join<F>(futures: Vec<F>) -> Vec<u16>
where
    F: std::future::Future<Output = reqwest::Result<Response>> + Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap().unwrap().status().as_u16());
    }
    out
}

// ---------------------------------------------------------------- statistics

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_and_call_log_under_10000_calls() {
    let emu = Emulator::start(dgfip()).await;
    let token = dgfip_token(&emu, "RessourceIR").await;
    let client = http();
    let url = format!("{}{SITUATION}", emu.base_url());
    const CALLS: usize = 10_000;
    let ids: Vec<String> = (0..CALLS).map(|_| uuid()).collect();
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in ids.chunks(CALLS / 16) {
        let (client, url, token, chunk) =
            (client.clone(), url.clone(), token.clone(), chunk.to_vec());
        tasks.spawn(async move {
            for id in chunk {
                assert_id_echoed(&client, &url, &token, &id).await;
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let stats = emu.stats();
    assert_eq!(stats.api_calls, CALLS as u64);
    assert_eq!(stats.api_successes, CALLS as u64);
    assert_eq!(stats.distinct_correlation_ids, CALLS);
    assert_eq!(stats.tokens_total(), 1);
    assert!(stats.max_calls_per_second >= 1);
    let calls = emu.calls();
    assert_eq!(calls.len(), CALLS);
    assert!(
        calls
            .iter()
            .all(|c| c.path == SITUATION && c.status == 200 && c.method == "GET")
    );
    let logged: std::collections::HashSet<_> = calls
        .iter()
        .filter_map(|c| c.correlation_id.clone())
        .collect();
    assert_eq!(logged.len(), CALLS);
}

#[tokio::test]
async fn call_log_is_bounded() {
    let emu = Emulator::start(dgfip().call_log_capacity(3)).await;
    let token = dgfip_token(&emu, "RessourceIR").await;
    let mut last = String::new();
    for _ in 0..5 {
        last = uuid();
        http()
            .get(format!("{}{SITUATION}", emu.base_url()))
            .bearer_auth(&token)
            .header("X-Correlation-ID", &last)
            .send()
            .await
            .unwrap();
    }
    let calls = emu.calls();
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[2].correlation_id.as_deref(), Some(last.as_str()));
    assert_eq!(emu.stats().api_calls, 5);
}

#[tokio::test]
async fn stops_when_dropped() {
    let emu = Emulator::start(dgfip()).await;
    let url = emu.token_url();
    drop(emu);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        http()
            .post(url)
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .is_err()
    );
}
