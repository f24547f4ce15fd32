//! The Redis fleet store against real `redis-server` processes (feature `redis`): calls never
//! fail because of Redis; killed, it is replaced by local state and used again on restart;
//! paused (SIGSTOP), it holds a call at most its timeout.
#![cfg(feature = "redis")]

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::redis_server::{RedisServer, available};
use common::*;
use futures_util::FutureExt;
use gouvgen_runtime::presets;
use gouvgen_runtime::{ApiClient, CircuitBreaker, Error, Method, RateLimit, Request, RetryPolicy};

type U = gouvgen_runtime::Undocumented;

fn get() -> Request {
    Request::new(Method::GET, "getThing", "/api/thing".into())
}

fn keys(redis: &RedisServer) -> Vec<String> {
    let out = Command::new("redis-cli")
        .args(["-p", &redis.port().to_string(), "-a", redis.password()])
        .args(["--no-auth-warning", "KEYS", "gouvgen:*"])
        .output()
        .expect("redis-cli (Debian package redis-tools)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .filter(|l| !l.is_empty())
        .collect()
}

fn client(gw: &Gw, redis: &RedisServer, timeout: Duration) -> ApiClient {
    ApiClient::builder(presets::custom(gw.url.clone()))
        .bearer("p@ss w&rd+/=")
        .rate_limit(RateLimit::per_second(100))
        .redis(&redis.url())
        .shared_store_timeout(timeout)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_redis_falls_back_to_local_state_and_is_used_again_on_restart() {
    if !available("killed_redis_falls_back_to_local_state_and_is_used_again_on_restart") {
        return;
    }
    let mut redis = RedisServer::start();
    let gw = gateway(always_ok).await;
    let c = client(&gw, &redis, Duration::from_millis(200));
    c.execute::<U>(get()).await.unwrap();
    let k = keys(&redis);
    assert!(k.iter().any(|k| k.ends_with(":gcra")), "{k:?}");
    // Keys are namespaced hashes: no credential, no host.
    assert!(k.iter().all(|k| k.starts_with("gouvgen:v1:account:")
        && !k.contains("p@ss")
        && !k.contains("127.0.0.1")));

    let stop = Instant::now() + Duration::from_millis(2500);
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let c = c.clone();
        set.spawn(async move {
            let mut n = 0u32;
            while Instant::now() < stop {
                let r = c
                    .execute::<U>(get())
                    .await
                    .expect("no call fails because of Redis");
                assert_eq!(r.status(), 200);
                n += 1;
            }
            n
        });
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    redis.kill();
    tokio::time::sleep(Duration::from_millis(700)).await;
    redis.restart();
    assert!(keys(&redis).is_empty(), "a fresh server");
    let mut calls = 0;
    while let Some(n) = set.join_next().await {
        calls += n.unwrap();
    }
    assert!(calls > 50, "{calls} calls");
    // The client found Redis again: the limiter's key is back.
    c.execute::<U>(get()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(3);
    while !keys(&redis).iter().any(|k| k.ends_with(":gcra")) {
        assert!(
            Instant::now() < deadline,
            "the client never used Redis again"
        );
        c.execute::<U>(get()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The response timeout of the runtime's Redis connection (`shared::redis`).
const REDIS_RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paused_redis_holds_a_call_at_most_the_store_timeout() {
    if !available("paused_redis_holds_a_call_at_most_the_store_timeout") {
        return;
    }
    let redis = RedisServer::start();
    let gw = gateway(always_ok).await;
    let timeout = Duration::from_millis(150);
    let c = client(&gw, &redis, timeout);
    c.execute::<U>(get()).await.unwrap();
    redis.pause(true);
    let mut worst = Duration::ZERO;
    let stop = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < stop {
        let t = Instant::now();
        assert_eq!(c.execute::<U>(get()).await.unwrap().status(), 200);
        worst = worst.max(t.elapsed());
    }
    redis.pause(false);
    // Released by the store timeout: not by Redis (paused 1.5 s), nor by the Redis
    // connection's own response timeout (500 ms), the next thing that would release it.
    assert!(
        worst < REDIS_RESPONSE_TIMEOUT,
        "a call was held {worst:?} by a paused Redis (timeout {timeout:?})"
    );
    assert!(
        worst >= timeout / 2,
        "the store was not even tried: {worst:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_the_breaker_works_locally() {
    if !available("with_redis_down_the_breaker_works_locally") {
        return;
    }
    let mut redis = RedisServer::start();
    let down = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let d = std::sync::Arc::clone(&down);
    let gw = gateway(move |_, _| {
        if d.load(std::sync::atomic::Ordering::SeqCst) {
            status(503, &[], "down")
        } else {
            ok_json("{}")
        }
    })
    .await;
    let c = ApiClient::builder(presets::custom(gw.url.clone()))
        .bearer("p@ss w&rd+/=")
        .no_rate_limit()
        .retry_policy(RetryPolicy::none())
        .circuit_breaker(CircuitBreaker::new(3, Duration::from_millis(300)))
        .redis(&redis.url())
        .shared_store_timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    redis.kill();
    for _ in 0..3 {
        assert_eq!(c.execute::<U>(get()).await.unwrap().status(), 503);
    }
    let sent = gw.state.api_count();
    for _ in 0..20 {
        // Refused on the first poll: nothing awaited (no store, no connection, no timer).
        let e = c
            .execute::<U>(get())
            .now_or_never()
            .expect("an open circuit refuses at once")
            .unwrap_err();
        assert!(matches!(e, Error::Unavailable { .. }), "{e:?}");
    }
    assert_eq!(gw.state.api_count(), sent, "nothing sent while open");
    down.store(false, std::sync::atomic::Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(350)).await;
    // The probe is taken locally (no lease from a dead Redis) and closes the circuit.
    assert_eq!(c.execute::<U>(get()).await.unwrap().status(), 200);
    for _ in 0..5 {
        assert_eq!(c.execute::<U>(get()).await.unwrap().status(), 200);
    }
}

/// The local limiter caps a process whatever the store says: a real Redis emptied
/// (`FLUSHALL`) every 5 ms (as if restarted empty before nearly every call) would let every
/// reservation through at once; 20 tasks of one process limited to 10/s still send at most
/// 10 (+1 of arrival jitter) in any 1 s window at the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_keeps_forgetting_never_lifts_the_local_limit() {
    if !available("a_redis_that_keeps_forgetting_never_lifts_the_local_limit") {
        return;
    }
    let redis = RedisServer::start();
    let gw = gateway(always_ok).await;
    let c = ApiClient::builder(presets::custom(gw.url.clone()))
        .bearer("forgetful-redis")
        .rate_limit(RateLimit::per_second(10))
        .redis(&redis.url())
        .build()
        .unwrap();
    let stop = Instant::now() + Duration::from_millis(3000);
    let flusher = {
        let url = redis.url();
        std::thread::spawn(move || {
            let mut con = redis::Client::open(url).unwrap().get_connection().unwrap();
            let mut flushes = 0u32;
            while Instant::now() < stop {
                let () = redis::cmd("FLUSHALL").query(&mut con).unwrap();
                flushes += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
            flushes
        })
    };
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let c = c.clone();
        set.spawn(async move {
            while Instant::now() < stop {
                assert_eq!(c.execute::<U>(get()).await.unwrap().status(), 200);
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    let flushes = flusher.join().unwrap();
    let mut at: Vec<Instant> = gw.state.api().iter().map(|r| r.at).collect();
    at.sort();
    let max = (0..at.len())
        .map(|i| {
            at[i..]
                .iter()
                .take_while(|u| **u - at[i] < Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0);
    eprintln!(
        "forgetful Redis: {flushes} FLUSHALLs, {} calls, max {max} in a sliding 1 s window",
        at.len()
    );
    assert!(at.len() >= 20, "{} calls", at.len());
    assert!(max <= 11, "{max} calls within 1 s for a 10/s client");
}

/// The store-down choice: failing open (default) keeps calls flowing on local state; failing
/// closed refuses them, nothing sent, and lets them through again once Redis answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_fails_closed_sends_nothing_while_redis_is_down() {
    if !available("a_client_that_fails_closed_sends_nothing_while_redis_is_down") {
        return;
    }
    use gouvgen_runtime::fleet::StoreDown;
    let mut redis = RedisServer::start();
    let gw = gateway(always_ok).await;
    let build = |choice| {
        ApiClient::builder(presets::custom(gw.url.clone()))
            .bearer("p@ss w&rd+/=")
            .rate_limit(RateLimit::per_second(100))
            .redis(&redis.url())
            .shared_store_timeout(Duration::from_millis(200))
            .shared_store_down(choice)
            .retry_policy(RetryPolicy::none())
            .build()
            .unwrap()
    };
    let (open, closed) = (build(StoreDown::FailOpen), build(StoreDown::FailClosed));
    closed.execute::<U>(get()).await.unwrap();
    assert_eq!(gw.state.api_count(), 1);
    redis.kill();
    // The permit reserved in the store for the next call, before it went down, may still
    // admit one call (a process holds at most one); after it, nothing goes out.
    let mut held_over = 0;
    let err = loop {
        match closed.execute::<U>(get()).await {
            Ok(_) => held_over += 1,
            Err(err) => break err,
        }
        assert!(held_over <= 1, "{held_over} calls sent without the store");
    };
    assert!(matches!(err, Error::SharedStoreDown { .. }), "{err:?}");
    assert!(err.is_retryable() && err.to_string().contains("fails closed"));
    let sent = 1 + held_over;
    assert_eq!(
        gw.state.api_count(),
        sent,
        "a call went out without the store"
    );
    let again = closed.execute::<U>(get()).await.unwrap_err();
    assert!(matches!(again, Error::SharedStoreDown { .. }), "{again:?}");
    assert_eq!(
        gw.state.api_count(),
        sent,
        "a call went out without the store"
    );
    open.execute::<U>(get())
        .await
        .expect("failing open goes on");
    assert_eq!(gw.state.api_count(), sent + 1);
    redis.restart();
    // Back once the store answers again (it is retried after a short hold).
    let deadline = Instant::now() + Duration::from_secs(5);
    while closed.execute::<U>(get()).await.is_err() {
        assert!(Instant::now() < deadline, "calls never resumed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
