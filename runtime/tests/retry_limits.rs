//! Retries, Retry-After, 429 pauses and the client-side rate limiter, against a loopback server.

mod common;

use std::time::{Duration, Instant, SystemTime};

use common::*;
use gouvgen_runtime::presets::{self, Environment, PisteAccess};
use gouvgen_runtime::{
    ApiClient, CallOptions, Error, Method, RateLimit, Request, RetryPolicy, Timeouts,
};

type U = gouvgen_runtime::Undocumented;

fn client(gw: &Gw) -> ApiClient {
    ApiClient::builder(presets::custom(gw.url.clone()))
        .bearer("t")
        .retry_policy(
            RetryPolicy::default()
                .max_attempts(4)
                .backoff(Duration::from_millis(50), Duration::from_millis(200)),
        )
        .build()
        .unwrap()
}

fn get() -> Request {
    Request::new(Method::GET, "getThing", "/api/thing".into())
}

fn post() -> Request {
    Request::new(Method::POST, "postThing", "/api/thing".into()).json("application/json", &1)
}

#[tokio::test]
async fn retry_after_seconds_is_honoured() {
    let gw = gateway(|_, i| {
        if i == 0 {
            status(429, &[("retry-after", "1".into())], "slow down")
        } else {
            ok_json("{}")
        }
    })
    .await;
    let c = client(&gw);
    let start = Instant::now();
    let r = c.execute::<U>(get()).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(start.elapsed() >= Duration::from_secs(1));
    let api = gw.state.api();
    assert_eq!(api.len(), 2);
    assert!(api[1].at - api[0].at >= Duration::from_secs(1));
    assert_eq!(
        api[0].header("x-correlation-id"),
        api[1].header("x-correlation-id")
    );
}

#[tokio::test]
async fn retry_after_http_date_is_honoured() {
    let gw = gateway(|_, i| {
        if i == 0 {
            let at = SystemTime::now() + Duration::from_secs(2);
            status(503, &[("retry-after", httpdate(at))], "maintenance")
        } else {
            ok_json("{}")
        }
    })
    .await;
    let c = client(&gw);
    let r = c.execute::<U>(get()).await.unwrap();
    assert_eq!(r.status(), 200);
    let api = gw.state.api();
    assert_eq!(api.len(), 2);
    // HTTP-dates have 1 s resolution: now+2 s truncated is at least 1 s away.
    assert!(api[1].at - api[0].at >= Duration::from_secs(1));
}

fn httpdate(t: SystemTime) -> String {
    // RFC 7231 IMF-fixdate, computed without extra crates.
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() as i64;
    gouvgen_runtime::chrono::DateTime::from_timestamp(secs, 0)
        .unwrap()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

#[tokio::test]
async fn post_is_not_retried_on_503() {
    let gw = gateway(|_, _| status(503, &[], "unavailable")).await;
    let c = client(&gw);
    let r = c.execute::<U>(post()).await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(gw.state.api_count(), 1);
    let err: Error = r.into_error();
    assert!(err.is_retryable());
    // Opt-in: the caller says this POST is safe to repeat.
    let c2 = c.with_options(
        CallOptions::new().retry_policy(
            RetryPolicy::default()
                .max_attempts(3)
                .backoff(Duration::from_millis(10), Duration::from_millis(20))
                .retry_non_idempotent(true),
        ),
    );
    c2.execute::<U>(post()).await.unwrap();
    assert_eq!(gw.state.api_count(), 4);
}

#[tokio::test]
async fn get_is_retried_on_503_and_502_with_backoff() {
    let gw = gateway(|_, i| match i {
        0 => status(503, &[], ""),
        1 => status(502, &[], ""),
        _ => ok_json("{}"),
    })
    .await;
    let c = client(&gw);
    let r = c.execute::<U>(get()).await.unwrap();
    assert_eq!(r.status(), 200);
    let api = gw.state.api();
    assert_eq!(api.len(), 3);
    // Equal-jitter backoff: at least half the base delay (50 ms, then 100 ms).
    assert!(api[1].at - api[0].at >= Duration::from_millis(25));
    assert!(api[2].at - api[1].at >= Duration::from_millis(50));
}

#[tokio::test]
async fn retries_are_bounded_by_attempts() {
    let gw = gateway(|_, _| status(504, &[], "gateway timeout")).await;
    let c = client(&gw);
    let r = c.execute::<U>(get()).await.unwrap();
    assert_eq!(r.status(), 504);
    assert_eq!(gw.state.api_count(), 4);
}

#[tokio::test]
async fn retry_after_beyond_max_total_time_is_not_waited() {
    let gw = gateway(|_, _| status(429, &[("retry-after", "120".into())], "")).await;
    let c = ApiClient::builder(presets::custom(gw.url.clone()))
        .retry_policy(RetryPolicy::default().max_total_time(Duration::from_secs(5)))
        .build()
        .unwrap();
    let start = Instant::now();
    let err: Error = c.execute::<U>(get()).await.unwrap().into_error();
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(matches!(err, Error::RateLimited(_)));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(gw.state.api_count(), 1);
}

#[tokio::test]
async fn after_a_429_every_call_of_the_client_waits_for_retry_after() {
    let gw = gateway(|_, i| {
        if i == 0 {
            status(429, &[("retry-after", "1".into())], "")
        } else {
            ok_json("{}")
        }
    })
    .await;
    let c = client(&gw);
    // A POST is not retried: it returns the 429 at once...
    let r = c.execute::<U>(post()).await.unwrap();
    assert_eq!(r.status(), 429);
    // ...but the next calls, even from clones, are held until Retry-After has elapsed.
    let clone = c.clone();
    let (a, b) = tokio::join!(c.execute::<U>(get()), clone.execute::<U>(get()));
    a.unwrap();
    b.unwrap();
    let api = gw.state.api();
    assert_eq!(api.len(), 3);
    assert!(api[1].at - api[0].at >= Duration::from_secs(1));
    assert!(api[2].at - api[0].at >= Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limiter_holds_20_requests_per_second() {
    let gw = gateway(always_ok).await;
    let c = ApiClient::builder(presets::piste(
        PisteAccess::Internet,
        Environment::Production,
    ))
    .api_root(gw.url.clone())
    .bearer("t")
    .build()
    .unwrap();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..60 {
        let c = c.clone();
        set.spawn(async move { c.execute::<U>(get()).await.map(|r| r.status()) });
    }
    while let Some(r) = set.join_next().await {
        assert_eq!(r.unwrap().unwrap(), 200);
    }
    let mut at: Vec<Instant> = gw.state.api().iter().map(|r| r.at).collect();
    at.sort();
    assert_eq!(at.len(), 60);
    for (i, t) in at.iter().enumerate() {
        let in_window = at[i..]
            .iter()
            .take_while(|u| **u - *t < Duration::from_secs(1))
            .count();
        assert!(in_window <= 21, "{in_window} requests within 1 s from #{i}");
    }
    assert!(
        at[59] - at[0] >= Duration::from_millis(2500),
        "60 calls at 20/s take ~3 s"
    );
}

#[tokio::test]
async fn custom_rate_limit_applies() {
    let gw = gateway(always_ok).await;
    let c = ApiClient::builder(presets::custom(gw.url.clone()))
        .rate_limit(RateLimit::per_second(10))
        .build()
        .unwrap();
    let start = Instant::now();
    for _ in 0..6 {
        c.execute::<U>(get()).await.unwrap();
    }
    assert!(start.elapsed() >= Duration::from_millis(500));
}

#[tokio::test]
async fn connection_refused_is_a_retryable_transport_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let c = ApiClient::builder(presets::custom(format!("http://{addr}")))
        .retry_policy(
            RetryPolicy::default()
                .max_attempts(2)
                .backoff(Duration::from_millis(10), Duration::from_millis(10)),
        )
        .build()
        .unwrap();
    let err = c.execute::<U>(get()).await.unwrap_err();
    assert!(
        matches!(err, Error::Transport { connect: true, .. }),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert!(err.correlation_id().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_is_reported_with_correlation_id() {
    let gw = gateway(|_, _| {
        std::thread::sleep(Duration::from_millis(800));
        ok_json("{}")
    })
    .await;
    let c = ApiClient::builder(presets::custom(gw.url.clone()))
        .timeouts(Timeouts {
            attempt: Duration::from_millis(200),
            ..Timeouts::default()
        })
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let err = c
        .with_options(CallOptions::new().correlation_id("my-id-1"))
        .execute::<U>(get())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert_eq!(err.correlation_id(), Some("my-id-1"));
    assert!(err.to_string().contains("my-id-1"));
}
