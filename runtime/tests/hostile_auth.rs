//! A hostile or broken token endpoint, and secrets: redirects, injection, echoed secrets in
//! every encoding, hostile `expires_in` / `token_type`, oversized bodies, single flight under
//! cancellation, hold-back after 429/503, outages, invalid_token on 403, DGFiP revoke before
//! re-request, rotation.

mod common;
mod raw;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use gouvgen_runtime::presets::{self, DgfipAccess, Environment, PisteAccess};
use gouvgen_runtime::{ApiClient, CallOptions, Error, Method, Request, Timeouts, Undocumented};
use raw::*;

/// A secret whose spelling changes under every encoding.
const SECRET: &str = "p@ss w&rd+/=";

fn get() -> Request {
    Request::new(Method::GET, "getThing", "/api/thing".into())
}

async fn call(client: &ApiClient) -> Result<u16, Error> {
    let r = client.execute::<Undocumented>(get()).await?;
    if r.status() >= 400 {
        return Err(r.into_error());
    }
    Ok(r.status())
}

/// A PISTE-style client (secret in the form body) against `root` with token URL `token`.
fn piste(root: &str, token: &str, id: &str) -> ApiClient {
    ApiClient::builder(presets::piste(PisteAccess::Internet, Environment::Sandbox))
        .api_root(root)
        .token_url(token)
        .client_credentials(id, SECRET)
        .api_key("KEY-p@ss w&rd+/=")
        .no_rate_limit()
        .timeouts(Timeouts {
            attempt: Duration::from_secs(2),
            ..Timeouts::default()
        })
        .build()
        .unwrap()
}

type ReplyFn = Box<dyn Fn() -> Reply + Send + Sync>;

fn token_ok(extra: &str) -> Reply {
    http(
        200,
        &[("content-type", "application/json")],
        format!(r#"{{"access_token":"ACCESS-p@ss w&rd","token_type":"Bearer"{extra}}}"#).as_bytes(),
    )
}

fn assert_no_secret(text: &str) {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    for needle in [
        SECRET.to_owned(),
        "p%40ss".to_owned(),
        "p@ss".to_owned(),
        b64.encode(SECRET),
        b64.encode(format!("id-echo:{SECRET}")),
        "ACCESS-".to_owned(),
    ] {
        assert!(!text.contains(&needle), "`{needle}` leaked in: {text}");
    }
}

/// Display, Debug and every `source()` of an error.
fn all_text(err: &Error) -> String {
    let mut out = format!("{err}\n{err:?}");
    let mut src = std::error::Error::source(err);
    while let Some(s) = src {
        out.push_str(&format!("\n{s}\n{s:?}"));
        src = s.source();
    }
    out
}

#[tokio::test]
async fn token_redirect_is_refused_and_nothing_reaches_the_other_host() {
    let evil = gateway(always_ok).await;
    let evil_token = evil.token_url();
    let gw = raw_server(move |req, _| {
        if req.starts_with("POST /token") {
            http(307, &[("location", &evil_token)], b"")
        } else {
            http(200, &[], b"{}")
        }
    })
    .await;
    let client = piste(&gw.url, &format!("{}/token", gw.url), "redirect-id");
    let err = call(&client).await.unwrap_err();
    assert_eq!(err.status(), Some(307), "{err:?}");
    assert!(err.advice().unwrap().contains("never redirected"), "{err}");
    assert!(
        err.to_string().contains("/token"),
        "names the token endpoint: {err}"
    );
    assert_eq!(
        evil.state.token_count(),
        0,
        "the other host got the credentials"
    );
    assert_eq!(evil.state.api_count(), 0);
    assert_eq!(gw.count(), 1, "no API call with an injected token");
}

#[tokio::test]
async fn echoed_secrets_are_scrubbed_in_every_encoding() {
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("id-echo:{SECRET}"));
    let desc = format!(
        "bad client Basic {basic} secret p%40ss+w%26rd%2B%2F%3D raw {SECRET} json p@ss w&rd+/="
    );
    for status in [400u16, 500] {
        let body = format!(r#"{{"error":"invalid_client","error_description":"{desc}"}}"#);
        let body2 = body.clone();
        let gw = raw_server(move |_, _| {
            http(
                status,
                &[("content-type", "application/json")],
                body2.as_bytes(),
            )
        })
        .await;
        let client =
            ApiClient::builder(presets::dgfip(DgfipAccess::Internet, Environment::Sandbox))
                .api_root(&gw.url)
                .token_url(format!("{}/token", gw.url))
                .client_credentials("id-echo", SECRET)
                .build()
                .unwrap();
        let err = call(&client).await.unwrap_err();
        let text = all_text(&err);
        assert!(text.contains("[REDACTED]"), "{text}");
        assert_no_secret(&text);
    }
}

#[tokio::test]
async fn api_error_bodies_are_scrubbed_of_token_and_api_key() {
    let gw = raw_server(|req, _| {
        if req.starts_with("POST /token") {
            token_ok(r#","expires_in":3600"#)
        } else {
            // Echoes the request head: the bearer token and the API key come back.
            let echo = req.replace('"', "'").replace("\r\n", " | ");
            http(400, &[("content-type", "text/plain")], echo.as_bytes())
        }
    })
    .await;
    let client = piste(&gw.url, &format!("{}/token", gw.url), "scrub-api");
    let r = client.execute::<Undocumented>(get()).await.unwrap();
    let err: Error = r.into_error();
    let text = all_text(&err);
    assert!(text.contains("authorization"), "the echo is there: {text}");
    assert_no_secret(&text);
    assert!(!text.contains("KEY-"), "{text}");
}

#[tokio::test]
async fn hostile_expires_in_never_panics_and_is_clamped() {
    for exp in [
        r#","expires_in":-1"#,
        r#","expires_in":1e300"#,
        r#","expires_in":"18446744073709551615""#,
        r#","expires_in":"soon""#,
        r#","expires_in":null"#,
        r#","expires_in":{"a":1}"#,
        r#","expires_in":NaN"#,
    ] {
        let e = exp.to_owned();
        let gw = raw_server(move |req, _| {
            if req.starts_with("POST /token") {
                token_ok(&e)
            } else {
                http(200, &[], b"{}")
            }
        })
        .await;
        let client = piste(&gw.url, &format!("{}/token", gw.url), &format!("exp{exp}"));
        let r = call(&client).await;
        if exp.contains("NaN") {
            // Not JSON: a typed error, not a panic.
            assert!(matches!(r, Err(Error::UndecodableBody(_))), "{exp}: {r:?}");
        } else {
            assert_eq!(r.unwrap(), 200, "{exp}");
        }
    }
}

#[tokio::test]
async fn token_type_other_than_bearer_is_refused() {
    let gw = raw_server(|req, _| {
        if req.starts_with("POST /token") {
            http(
                200,
                &[],
                br#"{"access_token":"mac-token","token_type":"mac","expires_in":60}"#,
            )
        } else {
            http(200, &[], b"{}")
        }
    })
    .await;
    let client = piste(&gw.url, &format!("{}/token", gw.url), "mac");
    let err = call(&client).await.unwrap_err();
    assert!(err.to_string().contains("token_type `mac`"), "{err}");
    assert!(err.to_string().contains("RFC 6749"), "{err}");
    assert_eq!(gw.count(), 1, "the mac token is never sent as Bearer");
}

#[tokio::test]
async fn oversized_token_body_is_a_typed_error() {
    let gw = raw_server(|_, _| {
        let big = format!(
            r#"{{"access_token":"{}","token_type":"Bearer"}}"#,
            "x".repeat(200_000)
        );
        http(200, &[], big.as_bytes())
    })
    .await;
    let client = piste(&gw.url, &format!("{}/token", gw.url), "big");
    let err = call(&client).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::ResponseTooLarge {
                token_endpoint: true,
                limit: 65536,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn token_endpoint_misbehaviours_are_typed_errors_naming_the_endpoint() {
    let cases: Vec<(&str, ReplyFn)> = vec![
        ("hanging", Box::new(|| Reply::Hang)),
        (
            "500 html",
            Box::new(|| {
                http(
                    500,
                    &[("content-type", "text/html")],
                    b"<html><body>Internal error p@ss w&rd+/=</body></html>",
                )
            }),
        ),
        (
            "invalid json",
            Box::new(|| {
                http(
                    200,
                    &[("content-type", "application/json")],
                    b"{\"access_token\": ",
                )
            }),
        ),
        (
            "no access_token",
            Box::new(|| http(200, &[], br#"{"token_type":"Bearer"}"#)),
        ),
        (
            "cut mid-body",
            Box::new(|| {
                Reply::Bytes(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 200\r\n\r\n{\"access_token\":\"ab"
                        .to_vec(),
                )
            }),
        ),
        ("reset", Box::new(|| Reply::Reset)),
    ];
    for (name, reply) in cases {
        let gw = raw_server(move |_, _| reply()).await;
        let token_url = format!("{}/token", gw.url);
        let client =
            ApiClient::builder(presets::piste(PisteAccess::Internet, Environment::Sandbox))
                .api_root(&gw.url)
                .token_url(&token_url)
                .client_credentials(format!("mis-{name}"), SECRET)
                .timeouts(Timeouts {
                    attempt: Duration::from_millis(300),
                    ..Timeouts::default()
                })
                .build()
                .unwrap();
        let t = Instant::now();
        let err = call(&client).await.unwrap_err();
        let text = all_text(&err);
        assert!(
            text.contains(&token_url),
            "{name}: names the endpoint: {text}"
        );
        assert!(
            text.contains("getThing"),
            "{name}: names the operation: {text}"
        );
        assert_no_secret(&text);
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "{name}: {:?}",
            t.elapsed()
        );
        assert_eq!(gw.count(), 1, "{name}: one token request, no API call");
    }
    // Refused connection.
    let closed = closed_port_url().await;
    let client = piste(
        "http://127.0.0.1:9",
        &format!("{closed}/token"),
        "mis-refused",
    );
    let err = call(&client).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&closed) && text.contains("getThing"),
        "{text}"
    );
    assert!(err.is_retryable(), "nothing was sent: {err:?}");
    assert_eq!(err.delivery(), Some(gouvgen_runtime::Delivery::NotSent));
}

#[tokio::test]
async fn slow_token_endpoint_within_the_timeout_serves_the_call() {
    let gw = raw_server(|req, _| {
        if req.starts_with("POST /token") {
            let body = br#"{"access_token":"slow","token_type":"Bearer","expires_in":60}"#;
            let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
            Reply::Slow(head.into_bytes(), Duration::from_millis(200), body.to_vec())
        } else {
            http(200, &[], b"{}")
        }
    })
    .await;
    let client = piste(&gw.url, &format!("{}/token", gw.url), "slow");
    assert_eq!(call(&client).await.unwrap(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_flight_survives_every_caller_giving_up() {
    let gw = gateway_with(
        Knobs {
            token_delay: Duration::from_millis(600),
            ..Knobs::default()
        },
        always_ok,
    )
    .await;
    let client = piste(&gw.url, &gw.token_url(), "cancel-all");
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::timeout(Duration::from_millis(200), call(&c)).await
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap().is_err(), "every caller gave up");
    }
    // The fetch went on without them: the next caller is served from it.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(call(&client).await.unwrap(), 200);
    assert_eq!(
        gw.state.token_count(),
        1,
        "200 cancelled callers, one token request"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_fetch_serves_its_waiters_even_with_expires_in_zero() {
    let gw = gateway_with(
        Knobs {
            expires_in: 0,
            token_delay: Duration::from_millis(300),
            ..Knobs::default()
        },
        always_ok,
    )
    .await;
    let client = piste(&gw.url, &gw.token_url(), "zero-lifetime");
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { call(&c).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 200);
    }
    assert_eq!(gw.state.token_count(), 1, "100 waiters, one fetch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_callers_with_the_token_endpoint_down() {
    // Accepts and drops every connection: the endpoint is down.
    let down = raw_server(|_, _| Reply::Close).await;
    let client = piste(
        "http://127.0.0.1:9",
        &format!("{}/token", down.url),
        "down-1000",
    );
    let started = Instant::now();
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let c = client.with_options(CallOptions::new().timeout(Duration::from_secs(2)));
            tokio::spawn(async move {
                let t = Instant::now();
                (call(&c).await, t.elapsed())
            })
        })
        .collect();
    let mut worst = Duration::ZERO;
    for t in tasks {
        let (r, took) = t.await.unwrap();
        assert!(r.is_err());
        worst = worst.max(took);
    }
    let n = down.count();
    eprintln!(
        "1000 callers, token endpoint down: {n} token requests, slowest caller {worst:?}, all done in {:?}",
        started.elapsed()
    );
    assert!(n <= 3, "{n} token requests");
    assert!(worst < Duration::from_secs(2), "{worst:?}");
}

#[tokio::test]
async fn token_endpoint_429_retry_after_holds_back_token_requests() {
    for status in [429u16, 503] {
        let gw = raw_server(move |_, _| {
            http(
                status,
                &[("retry-after", "30"), ("content-type", "application/json")],
                br#"{"error":"slow down"}"#,
            )
        })
        .await;
        let client = piste(
            &gw.url,
            &format!("{}/token", gw.url),
            &format!("held-{status}"),
        );
        let first = call(&client).await.unwrap_err();
        assert!(matches!(first, Error::RateLimited(_)), "{first:?}");
        for _ in 0..5 {
            let again = call(&client).await.unwrap_err();
            assert!(matches!(again, Error::RateLimited(_)), "{again:?}");
            let left = again.retry_after().unwrap();
            assert!(
                left > Duration::from_secs(25) && left <= Duration::from_secs(30),
                "{left:?}"
            );
        }
        assert_eq!(gw.count(), 1, "HTTP {status}: held back, not hammered");
    }
}

#[tokio::test]
async fn invalid_token_on_403_refreshes_once() {
    let gw = gateway(|_, i| {
        if i == 0 {
            status(
                403,
                &[("www-authenticate", r#"Bearer error="invalid_token""#.into())],
                "",
            )
        } else {
            ok_json("{}")
        }
    })
    .await;
    let client = piste(&gw.url, &gw.token_url(), "forbidden-refresh");
    assert_eq!(call(&client).await.unwrap(), 200);
    assert_eq!(gw.state.token_count(), 2);
    assert_eq!(gw.state.api_count(), 2);
    // A plain 403 (no invalid_token) is not a token problem.
    let gw2 = gateway(|_, _| status(403, &[], "")).await;
    let c2 = piste(&gw2.url, &gw2.token_url(), "forbidden-plain");
    assert_eq!(call(&c2).await.unwrap_err().status(), Some(403));
    assert_eq!(gw2.state.token_count(), 1);
}

#[tokio::test]
async fn dgfip_revokes_the_rejected_token_before_requesting_another() {
    let gw = gateway(|_, i| {
        if i == 0 {
            status(
                401,
                &[],
                r#"{"erreur":{"code":"900901","message":"Invalid Credentials"}}"#,
            )
        } else {
            ok_json("{}")
        }
    })
    .await;
    let client = ApiClient::builder(presets::dgfip(DgfipAccess::Internet, Environment::Sandbox))
        .api_root(&gw.url)
        .token_url(gw.token_url())
        .revoke_url(gw.revoke_url())
        .client_credentials("revoke-first", SECRET)
        .build()
        .unwrap();
    assert_eq!(call(&client).await.unwrap(), 200);
    let revokes = gw.state.revoke_requests.lock().unwrap().clone();
    assert_eq!(revokes.len(), 1, "revoked before re-requesting");
    assert_eq!(revokes[0].param("token").as_deref(), Some("tok-1"));
    assert_eq!(gw.state.token_count(), 2);
    let api = gw.state.api();
    assert_eq!(
        api[1].header("authorization").as_deref(),
        Some("Bearer tok-2")
    );
}

#[tokio::test]
async fn rotation_applies_to_clones_and_drops_the_cached_token() {
    // Client secret (PISTE).
    let gw = gateway(always_ok).await;
    let client = piste(&gw.url, &gw.token_url(), "rotate-id");
    let clone = client.clone();
    call(&client).await.unwrap();
    clone.rotate_client_secret("new p@ss").unwrap();
    call(&client).await.unwrap();
    let tokens = gw.state.tokens();
    assert_eq!(tokens.len(), 2, "new credentials, new token");
    assert!(
        tokens[0]
            .body
            .contains("client_secret=p%40ss+w%26rd%2B%2F%3D"),
        "{}",
        tokens[0].body
    );
    assert!(
        tokens[1].body.contains("client_secret=new+p%40ss"),
        "{}",
        tokens[1].body
    );
    let api = gw.state.api();
    assert_eq!(
        api[1].header("authorization").as_deref(),
        Some("Bearer tok-2")
    );

    // JWT (API Entreprise): the new token goes out on the next call of every clone.
    let gw = gateway(always_ok).await;
    let far = chrono::Utc::now().timestamp() + 400 * 86_400;
    let (old, new) = (jwt_with_exp(far), jwt_with_exp(far + 1));
    let client = ApiClient::builder(presets::api_entreprise(Environment::Sandbox))
        .api_root(&gw.url)
        .jwt(old.clone())
        .no_rate_limit()
        .build()
        .unwrap();
    let clone = client.clone();
    call(&clone).await.unwrap();
    client.rotate_jwt(new.clone()).unwrap();
    call(&clone).await.unwrap();
    let api = gw.state.api();
    assert_eq!(
        api[0].header("authorization").unwrap(),
        format!("Bearer {old}")
    );
    assert_eq!(
        api[1].header("authorization").unwrap(),
        format!("Bearer {new}")
    );
    // An expired JWT is refused and the old one stays.
    let err = client.rotate_jwt(jwt_with_exp(1)).unwrap_err();
    assert!(matches!(err, Error::CredentialExpired { .. }), "{err:?}");
    call(&client).await.unwrap();
    assert_eq!(
        gw.state.api()[2].header("authorization").unwrap(),
        format!("Bearer {new}")
    );
    // Wrong kind.
    assert!(client.rotate_password("x").is_err());
}

#[tokio::test]
async fn in_flight_calls_finish_with_the_old_credentials() {
    let served = Arc::new(AtomicUsize::new(0));
    let s = Arc::clone(&served);
    let gw = gateway(move |_, _| {
        s.fetch_add(1, Ordering::SeqCst);
        ok_json("{}")
    })
    .await;
    let far = chrono::Utc::now().timestamp() + 400 * 86_400;
    let (old, new) = (jwt_with_exp(far), jwt_with_exp(far + 7));
    let client = ApiClient::builder(presets::api_particulier(Environment::Sandbox))
        .api_root(&gw.url)
        .jwt(old.clone())
        .rate_limit(gouvgen_runtime::RateLimit::per_second(5))
        .build()
        .unwrap();
    // The second call waits ~200 ms in the limiter; rotation happens meanwhile.
    let (a, b) = (client.clone(), client.clone());
    let t1 = tokio::spawn(async move { call(&a).await });
    let t2 = tokio::spawn(async move { call(&b).await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    client.rotate_jwt(new.clone()).unwrap();
    t1.await.unwrap().unwrap();
    t2.await.unwrap().unwrap();
    call(&client).await.unwrap();
    let auth: Vec<String> = gw
        .state
        .api()
        .iter()
        .map(|r| r.header("authorization").unwrap())
        .collect();
    assert_eq!(auth[0], format!("Bearer {old}"));
    assert_eq!(
        auth[1],
        format!("Bearer {old}"),
        "started before the rotation"
    );
    assert_eq!(auth[2], format!("Bearer {new}"));
}

/// `expires_in: 0`, or no `expires_in` at all: the token lives [`DEFAULT_TOKEN_LIFETIME`]
/// (refreshed ahead by the usual margin), so ten sequential calls make one token request.
#[tokio::test]
async fn zero_or_absent_expires_in_uses_the_default_lifetime() {
    assert_eq!(
        gouvgen_runtime::DEFAULT_TOKEN_LIFETIME,
        Duration::from_secs(300)
    );
    for (name, extra) in [
        ("zero", r#","expires_in":0"#),
        ("absent", ""),
        ("negative", r#","expires_in":-5"#),
    ] {
        let tokens = Arc::new(AtomicUsize::new(0));
        let (t, e) = (Arc::clone(&tokens), extra.to_owned());
        let gw = raw_server(move |req, _| {
            if req.starts_with("POST /token") {
                t.fetch_add(1, Ordering::SeqCst);
                token_ok(&e)
            } else {
                http(200, &[], b"{}")
            }
        })
        .await;
        let client = piste(
            &gw.url,
            &format!("{}/token", gw.url),
            &format!("default-lifetime-{name}"),
        );
        for _ in 0..10 {
            assert_eq!(call(&client).await.unwrap(), 200, "{name}");
        }
        assert_eq!(
            tokens.load(Ordering::SeqCst),
            1,
            "expires_in {name}: ten calls, one token request"
        );
    }
}
