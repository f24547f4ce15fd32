//! API Entreprise / API Particulier as their 2026 documentation describes them: one identical
//! request in flight per token (409 otherwise), `X-Request-ID`, the response cache headers,
//! timeouts per group (JSON, documents). Real servers on 127.0.0.1.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::any;
use common::*;
use gouvgen_runtime::presets::{self, Environment};
use gouvgen_runtime::{ApiClient, CallOptions, Error, Method, Request, Undocumented};

const V3_409: &str = r#"{"errors":[{"code":"00409","title":"Requête en cours","detail":"La même requête est déjà en cours de traitement pour ce jeton"}]}"#;

/// What the in-flight gateway saw: requests, 409s answered, most identical ones at once.
#[derive(Default)]
struct Seen {
    in_flight: HashMap<String, usize>,
    requests: usize,
    conflicts: usize,
    most_at_once: usize,
}

/// A gateway that answers 409 while an identical request is in flight, else 200 after `delay`.
async fn in_flight_gateway(delay: Duration) -> (String, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let handler = |State((seen, delay)): State<(Arc<Mutex<Seen>>, Duration)>, uri: Uri| async move {
        let key = uri.to_string();
        {
            let mut s = seen.lock().unwrap();
            s.requests += 1;
            let n = s.in_flight.entry(key.clone()).or_default();
            if *n > 0 {
                s.conflicts += 1;
                return (StatusCode::CONFLICT, V3_409).into_response();
            }
            *n += 1;
            let at_once = s.in_flight.values().copied().max().unwrap_or(0);
            s.most_at_once = s.most_at_once.max(at_once);
        }
        tokio::time::sleep(delay).await;
        *seen.lock().unwrap().in_flight.get_mut(&key).unwrap() -= 1;
        ok_json(r#"{"data":{}}"#)
    };
    let router = Router::new()
        .route("/{*rest}", any(handler))
        .with_state((Arc::clone(&seen), delay));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{addr}"), seen)
}

fn entreprise(api_root: &str) -> ApiClient {
    let jwt = jwt_with_exp(gouvgen_runtime::chrono::Utc::now().timestamp() + 86_400);
    ApiClient::builder(presets::api_entreprise(Environment::Sandbox))
        .api_root(api_root)
        .jwt(jwt)
        .no_rate_limit()
        .build()
        .unwrap()
}

fn get(path: &str) -> Request {
    Request::new(Method::GET, "op", path.into())
}

#[tokio::test]
async fn identical_concurrent_calls_take_turns_and_meet_no_409() {
    let (url, seen) = in_flight_gateway(Duration::from_millis(40)).await;
    let client = entreprise(&url);
    let calls = (0..5).map(|_| {
        let c = client.clone();
        tokio::spawn(async move { c.execute::<Undocumented>(get("/v3/x/123")).await })
    });
    // Different calls still go side by side.
    let other = client.execute::<Undocumented>(get("/v3/x/456"));
    let (other, results) = tokio::join!(other, futures_join(calls.collect()));
    assert_eq!(other.unwrap().status(), 200);
    for r in results {
        assert_eq!(r.unwrap().status(), 200);
    }
    let s = seen.lock().unwrap();
    assert_eq!(s.requests, 6);
    assert_eq!(
        s.conflicts, 0,
        "a duplicate was sent while one was in flight"
    );
    assert_eq!(s.most_at_once, 1);
}

async fn futures_join<T>(handles: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn a_409_in_progress_is_waited_for_then_tried_once_more_even_for_a_post() {
    // Another process holds the request: 409 with `Retry-After: 0` every time.
    let gw = gateway(|_, _| {
        status(
            409,
            &[
                ("content-type", "application/json".into()),
                ("retry-after", "0".into()),
            ],
            V3_409,
        )
    })
    .await;
    let client = entreprise(&gw.api_root());
    let post = Request::new(Method::POST, "op", "/api/v3/x".into());
    let resp = client.execute::<Undocumented>(post).await.unwrap();
    assert_eq!(resp.status(), 409);
    assert_eq!(
        gw.state.api_count(),
        2,
        "one wait and one more attempt, no more"
    );
    // A 409 in another format is the API's own conflict: not repeated.
    let plain = gateway(|_, _| status(409, &[("retry-after", "0".into())], "conflict")).await;
    let client = entreprise(&plain.api_root());
    let resp = client.execute::<Undocumented>(get("/api/y")).await.unwrap();
    assert_eq!(resp.status(), 409);
    assert_eq!(plain.state.api_count(), 1);
}

#[tokio::test]
async fn request_id_and_cache_headers_are_read_and_no_cache_is_asked_for() {
    let gw = gateway(|r, _| {
        let cid = r.header("x-correlation-id").unwrap_or_default();
        status(
            200,
            &[
                ("content-type", "application/json".into()),
                ("x-correlation-id", cid),
                ("x-request-id", "req-42".into()),
                ("x-response-cached", "true".into()),
                ("x-cache-expires-in", "99999999999999".into()),
            ],
            r#"{"data":{}}"#,
        )
    })
    .await;
    let client = entreprise(&gw.api_root());
    let resp = client
        .with_options(CallOptions::new().no_cache())
        .execute::<Undocumented>(get("/api/v3/x"))
        .await
        .unwrap();
    assert_eq!(resp.gateway_correlation_id(), Some("req-42"));
    assert_eq!(resp.cached(), Some(true));
    let expires = resp.cache_expires_in().unwrap();
    assert!(
        expires <= Duration::from_secs(366 * 24 * 3600),
        "{expires:?}"
    );
    assert_eq!(
        gw.state.api()[0].header("cache-control").as_deref(),
        Some("no-cache")
    );
    let decoded = resp.json::<serde_json::Value, Undocumented>().unwrap();
    assert_eq!(decoded.cached(), Some(true));
    // Without the option, no cache directive; without the headers, nothing claimed.
    let plain = gateway(always_ok).await;
    let resp = entreprise(&plain.api_root())
        .execute::<Undocumented>(get("/api/v3/x"))
        .await
        .unwrap();
    assert_eq!(plain.state.api()[0].header("cache-control"), None);
    assert_eq!((resp.cached(), resp.cache_expires_in()), (None, None));
}

#[tokio::test]
async fn documents_get_the_longer_timeout_of_their_group() {
    let (url, _) = in_flight_gateway(Duration::from_millis(400)).await;
    let jwt = jwt_with_exp(gouvgen_runtime::chrono::Utc::now().timestamp() + 86_400);
    let mut preset = presets::api_entreprise(Environment::Sandbox);
    preset.attempt_timeout = Some(Duration::from_millis(100));
    preset.document_timeout = Some(Duration::from_secs(30));
    let build = |chosen: Option<Duration>| {
        let b = ApiClient::builder(preset.clone())
            .api_root(url.clone())
            .jwt(jwt.clone())
            .retry_policy(gouvgen_runtime::RetryPolicy::none());
        match chosen {
            Some(t) => b.timeout(t),
            None => b,
        }
        .build()
        .unwrap()
    };
    let json = get("/v3/json").accept("application/json");
    let err = build(None).execute::<Undocumented>(json).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    let pdf = get("/v3/attestation").accept("application/pdf");
    let ok = build(None).execute::<Undocumented>(pdf).await.unwrap();
    assert_eq!(ok.status(), 200);
    // A timeout the caller chose applies to every call. (Another path: the timed-out request
    // is still in flight at the gateway, which would answer this one 409.)
    let json = get("/v3/json-again").accept("application/json");
    let ok = build(Some(Duration::from_secs(30)))
        .execute::<Undocumented>(json)
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

/// A client of `preset` at `api_root` with its own JWT (`who` makes the account).
fn client_of(preset: gouvgen_runtime::Preset, api_root: &str, who: &str) -> ApiClient {
    let exp = gouvgen_runtime::chrono::Utc::now().timestamp() + 86_400;
    let jwt = format!("{}.{who}", jwt_with_exp(exp));
    ApiClient::builder(preset)
        .api_root(api_root)
        .jwt(jwt)
        .retry_policy(gouvgen_runtime::RetryPolicy::none())
        .build()
        .unwrap()
}

fn held_back(err: &Error) -> bool {
    matches!(err, Error::RateLimited(g) if g.status == 429 && g.retry_after.is_some())
}

#[tokio::test]
async fn document_calls_have_their_own_quota_and_429_pause() {
    let gw = gateway(|r, _| {
        if r.path.ends_with("/paused-doc") {
            status(429, &[("retry-after", "60".into())], "")
        } else {
            ok_json(r#"{"data":{}}"#)
        }
    })
    .await;
    let mut preset = presets::api_entreprise(Environment::Sandbox);
    preset.rate_limit = Some("100/s burst 100".parse().unwrap());
    preset.document_rate_limit = Some("1/min".parse().unwrap());
    let c = client_of(preset, &gw.api_root(), "documents");
    let short = CallOptions::new().timeout(Duration::from_millis(200));
    let doc = |p: &str| get(p).accept("application/pdf");
    c.execute::<Undocumented>(doc("/api/a")).await.unwrap();
    let err = c
        .with_options(short.clone())
        .execute::<Undocumented>(doc("/api/b"))
        .await
        .unwrap_err();
    assert!(held_back(&err), "{err:?}");
    for i in 0..5 {
        let json = get(&format!("/api/json/{i}")).accept("application/json");
        c.execute::<Undocumented>(json)
            .await
            .expect("JSON calls are not held");
    }
    assert_eq!(gw.state.api_count(), 6, "the held document call was sent");

    // A 429 on a document call holds document calls only.
    let mut preset = presets::api_entreprise(Environment::Sandbox);
    preset.document_rate_limit = Some("100/s burst 100".parse().unwrap());
    let c = client_of(preset, &gw.api_root(), "paused");
    let resp = c
        .execute::<Undocumented>(doc("/api/paused-doc"))
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let err = c
        .with_options(short)
        .execute::<Undocumented>(doc("/api/c"))
        .await
        .unwrap_err();
    assert!(held_back(&err), "{err:?}");
    let json = get("/api/json/after").accept("application/json");
    c.execute::<Undocumented>(json)
        .await
        .expect("JSON calls go on");
    assert_eq!(gw.state.api_count(), 8);
}

#[tokio::test]
async fn the_host_ceiling_holds_every_account_of_the_process() {
    let gw = gateway(always_ok).await;
    let mut preset = presets::api_particulier(Environment::Sandbox);
    preset.rate_limit = Some("100/s burst 100".parse().unwrap());
    preset.host_rate_limit = Some("1/min".parse().unwrap());
    let a = client_of(preset.clone(), &gw.api_root(), "a");
    let b = client_of(preset, &gw.api_root(), "b");
    a.execute::<Undocumented>(get("/api/x")).await.unwrap();
    let err = b
        .with_options(CallOptions::new().timeout(Duration::from_millis(200)))
        .execute::<Undocumented>(get("/api/y"))
        .await
        .unwrap_err();
    assert!(held_back(&err), "{err:?}");
    assert_eq!(gw.state.api_count(), 1);
}

#[test]
fn limits_read_from_configuration() {
    use gouvgen_runtime::RateLimit;
    assert_eq!(
        "1000/minute".parse::<RateLimit>(),
        Ok(RateLimit::per_minute(1000))
    );
    assert_eq!(
        " 20/S burst 4".parse::<RateLimit>(),
        Ok(RateLimit::per_second(20).with_burst(4))
    );
    for bad in [
        "",
        "0/s",
        "20/day",
        "20/s burst",
        "20/s burst 0",
        "x/s",
        "20 s",
    ] {
        let err = bad.parse::<RateLimit>().unwrap_err().to_string();
        assert!(err.contains("<requests>/<s|min|h>"), "{bad}: {err}");
    }
}

/// A gateway whose provider can be down (`/pings` says `bad_gateway`, calls answer 502),
/// counting the calls that reach the API.
async fn pinged_gateway(down: Arc<std::sync::atomic::AtomicBool>) -> (String, Arc<Mutex<usize>>) {
    use std::sync::atomic::Ordering;
    let calls = Arc::new(Mutex::new(0usize));
    let pings = {
        let down = Arc::clone(&down);
        move || async move {
            if down.load(Ordering::SeqCst) {
                (StatusCode::BAD_GATEWAY, r#"{"status":"bad_gateway"}"#).into_response()
            } else {
                ok_json(r#"{"status":"ok","last_update":"2026-12-05T12:00:00Z"}"#)
            }
        }
    };
    let api = {
        let (down, calls) = (Arc::clone(&down), Arc::clone(&calls));
        move || async move {
            *calls.lock().unwrap() += 1;
            if down.load(Ordering::SeqCst) {
                (StatusCode::BAD_GATEWAY, "provider down").into_response()
            } else {
                ok_json(r#"{"data":{}}"#)
            }
        }
    };
    let router = Router::new()
        .route("/pings", any(pings))
        .route("/{*rest}", any(api));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{addr}"), calls)
}

#[tokio::test]
async fn health_is_read_and_a_half_open_circuit_asks_it_before_its_probe() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let down = Arc::new(AtomicBool::new(true));
    let (url, calls) = pinged_gateway(Arc::clone(&down)).await;
    let clock = Arc::new(gouvgen_runtime::ManualClock::new());
    let jwt = jwt_with_exp(gouvgen_runtime::chrono::Utc::now().timestamp() + 86_400);
    let client = ApiClient::builder(presets::api_entreprise(Environment::Sandbox))
        .api_root(url)
        .jwt(jwt)
        .no_rate_limit()
        .retry_policy(gouvgen_runtime::RetryPolicy::none())
        .circuit_breaker(gouvgen_runtime::CircuitBreaker::new(
            2,
            Duration::from_secs(30),
        ))
        .clock(clock.clone())
        .build()
        .unwrap();
    let health = client.health().await.unwrap();
    assert_eq!(health.status, gouvgen_runtime::HealthStatus::BadGateway);
    assert_eq!(health.http_status, 502);
    for i in 0..2 {
        let r = client
            .execute::<Undocumented>(get(&format!("/v3/a/{i}")))
            .await
            .unwrap();
        assert_eq!(r.status(), 502);
    }
    assert_eq!(*calls.lock().unwrap(), 2);
    // Cooldown over, still down: the probe is not sent, the circuit opens again.
    clock.advance(Duration::from_secs(30));
    let err = client
        .execute::<Undocumented>(get("/v3/b"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    assert_eq!(
        *calls.lock().unwrap(),
        2,
        "a probe call went to a gateway saying it is down"
    );
    let err = client
        .execute::<Undocumented>(get("/v3/c"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Unavailable { .. }),
        "open again: {err:?}"
    );
    // Back up: after the next cooldown the health check passes and the probe closes it.
    down.store(false, Ordering::SeqCst);
    clock.advance(Duration::from_secs(30));
    let r = client.execute::<Undocumented>(get("/v3/d")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        client
            .execute::<Undocumented>(get("/v3/e"))
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(*calls.lock().unwrap(), 4);
    let up = client.health().await.unwrap();
    assert!(up.is_up() && up.last_update.is_some());
}
