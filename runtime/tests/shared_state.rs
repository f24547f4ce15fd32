//! State shared by account and by host, against loopback servers: two clients of one account
//! share one limiter and one 429 pause; the circuit breaker of a host that goes dark.

mod common;

use futures_util::FutureExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use gouvgen_runtime::presets;
use gouvgen_runtime::{
    ApiClient, CallOptions, CircuitBreaker, Error, ManualClock, Method, RateLimit, Request,
    RetryPolicy,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type U = gouvgen_runtime::Undocumented;

fn get() -> Request {
    Request::new(Method::GET, "getThing", "/api/thing".into())
}

fn account_client(gw: &Gw, limit: RateLimit) -> ApiClient {
    ApiClient::builder(presets::custom(gw.url.clone()))
        .bearer("p@ss w&rd+/=")
        .rate_limit(limit)
        .build()
        .unwrap()
}

/// The most requests seen in any 1 s window.
fn max_per_second(gw: &Gw) -> usize {
    let mut at: Vec<Instant> = gw.state.api().iter().map(|r| r.at).collect();
    at.sort();
    (0..at.len())
        .map(|i| {
            at[i..]
                .iter()
                .take_while(|u| **u - at[i] < Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_of_one_account_share_one_limit() {
    let gw = gateway(always_ok).await;
    // Built separately, as two services of one process would: not clones.
    let a = account_client(&gw, RateLimit::per_second(5));
    let b = account_client(&gw, RateLimit::per_second(5));
    let mut set = tokio::task::JoinSet::new();
    for i in 0..20 {
        let c = if i % 2 == 0 { a.clone() } else { b.clone() };
        set.spawn(async move { c.execute::<U>(get()).await.map(|r| r.status()) });
    }
    while let Some(r) = set.join_next().await {
        assert_eq!(r.unwrap().unwrap(), 200);
    }
    let mut at: Vec<Instant> = gw.state.api().iter().map(|r| r.at).collect();
    at.sort();
    assert_eq!(at.len(), 20);
    let span = at[19] - at[0];
    // 20 calls at 5/s for the account: 19 intervals of 200 ms (each client alone: 1.8 s).
    assert!(span >= Duration::from_millis(3600), "20 calls in {span:?}");
    // One extra call of arrival jitter at most, as in the single-client limiter test.
    let max = max_per_second(&gw);
    assert!(max <= 6, "{max} calls within 1 s for a 5/s account");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_to_one_client_holds_back_the_other() {
    let gw = gateway(|_, i| {
        if i == 0 {
            status(429, &[("retry-after", "1".into())], "slow down")
        } else {
            ok_json("{}")
        }
    })
    .await;
    let build = || {
        ApiClient::builder(presets::custom(gw.url.clone()))
            .bearer("shared-account")
            .no_rate_limit()
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap()
    };
    let (a, b) = (build(), build());
    let first = a.execute::<U>(get()).await.unwrap();
    assert_eq!(first.status(), 429);
    let t = Instant::now();
    let second = b.execute::<U>(get()).await.unwrap();
    assert_eq!(second.status(), 200);
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "the other client waited only {:?}",
        t.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_pauses_clients_of_the_account_with_another_limit() {
    let gw = gateway(|_, i| {
        if i == 0 {
            status(429, &[("retry-after", "1".into())], "slow down")
        } else {
            ok_json("{}")
        }
    })
    .await;
    let build = |limit: RateLimit| {
        ApiClient::builder(presets::custom(gw.url.clone()))
            .bearer("shared-account")
            .rate_limit(limit)
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap()
    };
    let (a, b) = (
        build(RateLimit::per_second(50)),
        build(RateLimit::per_second(100)),
    );
    assert_eq!(a.execute::<U>(get()).await.unwrap().status(), 429);
    let t = Instant::now();
    assert_eq!(b.execute::<U>(get()).await.unwrap().status(), 200);
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn different_accounts_do_not_share() {
    let gw = gateway(always_ok).await;
    let a = ApiClient::builder(presets::custom(gw.url.clone()))
        .bearer("account-a")
        .rate_limit(RateLimit::per_minute(1))
        .build()
        .unwrap();
    let b = ApiClient::builder(presets::custom(gw.url.clone()))
        .bearer("account-b")
        .rate_limit(RateLimit::per_minute(1))
        .build()
        .unwrap();
    a.execute::<U>(get()).await.unwrap();
    // Account b's first slot is free at once: a limiter shared with a would put it a minute
    // away, past this call's 30 s budget, and refuse the call at once without sending it.
    let b = b.with_options(CallOptions::new().timeout(Duration::from_secs(30)));
    assert_eq!(b.execute::<U>(get()).await.unwrap().status(), 200);
    assert_eq!(gw.state.api_count(), 2, "both accounts' calls were sent");
}

/// A server that accepts connections and, while `dark`, never answers; otherwise 200.
/// Counts the requests it reads in `requests`.
async fn darkable_server(dark: Arc<AtomicBool>, requests: Arc<AtomicUsize>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let dark = Arc::clone(&dark);
            let requests = Arc::clone(&requests);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                loop {
                    let mut got = Vec::new();
                    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                        }
                    }
                    requests.fetch_add(1, Ordering::SeqCst);
                    if dark.load(Ordering::SeqCst) {
                        // Hold the connection open, say nothing.
                        std::future::pending::<()>().await;
                    }
                    let resp = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
                    if sock.write_all(resp).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaker_opens_on_a_dark_host_and_the_probe_closes_it() {
    let dark = Arc::new(AtomicBool::new(true));
    let requests = Arc::new(AtomicUsize::new(0));
    let url = darkable_server(Arc::clone(&dark), Arc::clone(&requests)).await;
    // The cooldown runs on an injected clock: the test moves it instead of sleeping.
    let clock = Arc::new(ManualClock::new());
    let client = ApiClient::builder(presets::custom(url))
        .bearer("t")
        .timeout(Duration::from_millis(150))
        .retry_policy(RetryPolicy::none())
        .circuit_breaker(CircuitBreaker::new(3, Duration::from_secs(30)))
        .clock(clock.clone())
        .build()
        .unwrap();
    for _ in 0..3 {
        let e = client.execute::<U>(get()).await.unwrap_err();
        assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
    }
    // Open: every call fails at once, without waiting for the 150 ms timeout.
    let sent = requests.load(Ordering::SeqCst);
    for _ in 0..20 {
        // Refused on the first poll: nothing awaited (no connection, no timer).
        let e = client
            .execute::<U>(get())
            .now_or_never()
            .expect("an open circuit refuses at once")
            .unwrap_err();
        assert!(matches!(e, Error::Unavailable { .. }), "{e:?}");
        assert!(e.is_retryable());
        assert!(e.correlation_id().is_some());
    }
    assert_eq!(
        requests.load(Ordering::SeqCst),
        sent,
        "nothing sent while open"
    );
    // Back up; after the cooldown, one probe goes through and closes the circuit.
    dark.store(false, Ordering::SeqCst);
    clock.advance(Duration::from_secs(29));
    let e = client.execute::<U>(get()).await.unwrap_err();
    assert!(matches!(e, Error::Unavailable { .. }), "still open: {e:?}");
    clock.advance(Duration::from_secs(1));
    let r = client.execute::<U>(get()).await.unwrap();
    assert_eq!(r.status(), 200);
    for _ in 0..5 {
        assert_eq!(client.execute::<U>(get()).await.unwrap().status(), 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaker_counts_5xx_and_can_be_disabled() {
    let gw = gateway(|_, _| status(503, &[], "down")).await;
    let on = ApiClient::builder(presets::custom(gw.url.clone()))
        .bearer("t")
        .retry_policy(RetryPolicy::none())
        .circuit_breaker(CircuitBreaker::new(2, Duration::from_secs(60)))
        .build()
        .unwrap();
    for _ in 0..2 {
        assert_eq!(on.execute::<U>(get()).await.unwrap().status(), 503);
    }
    assert!(matches!(
        on.execute::<U>(get()).await.unwrap_err(),
        Error::Unavailable { .. }
    ));
    assert_eq!(gw.state.api_count(), 2);
    // A client built without a breaker still reaches the host.
    let off = ApiClient::builder(presets::custom(gw.url.clone()))
        .bearer("t")
        .retry_policy(RetryPolicy::none())
        .no_circuit_breaker()
        .build()
        .unwrap();
    assert_eq!(off.execute::<U>(get()).await.unwrap().status(), 503);
    assert_eq!(gw.state.api_count(), 3);
}
