//! A hostile or broken API server: redirects, Referer, plain http, hostile `Retry-After`,
//! oversized / truncated / chunk-cut bodies, non-UTF-8 headers, resets after sending, deadlines
//! over limiter and 429 pauses, PISTE `x-rate-limit`, Debug output, and 10,000 calls against
//! seeded random faults.

mod common;
mod raw;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use gouvgen_runtime::presets::{self, DgfipAccess, Environment};
use gouvgen_runtime::{
    ApiClient, BodyLimits, CallOptions, Delivery, Error, Method, Request, RetryPolicy, Timeouts,
    Undocumented,
};
use raw::*;

fn get() -> Request {
    Request::new(Method::GET, "getThing", "/api/thing".into())
}

fn post(id: usize) -> Request {
    Request::new(Method::POST, "submitThing", "/api/thing".into())
        .json("application/json", &serde_json::json!({ "id": id }))
}

fn client(root: &str) -> ApiClient {
    ApiClient::builder(presets::custom(root))
        .bearer("BEARER-p@ss w&rd+/=")
        .api_key_header("X-Api-Key", "KEY-p@ss w&rd+/=")
        .timeouts(Timeouts {
            attempt: Duration::from_secs(2),
            ..Timeouts::default()
        })
        .build()
        .unwrap()
}

#[tokio::test]
async fn credentials_never_follow_a_redirect_to_another_origin() {
    let other = gateway(always_ok).await;
    let target = format!("{}/api/elsewhere?k=v", other.url);
    let gw = gateway(move |r, _| {
        if r.path == "/api/thing" {
            status(302, &[("location", target.clone())], "")
        } else {
            ok_json("{}")
        }
    })
    .await;
    let c = client(&gw.url);
    let r = c.execute::<Undocumented>(get()).await.unwrap();
    assert_eq!(r.status(), 302, "not followed");
    assert_eq!(
        other.state.api_count(),
        0,
        "the other host received nothing"
    );

    // Same origin: followed, without Referer.
    let gw = gateway(|r, _| {
        if r.path == "/api/thing" {
            status(302, &[("location", "/api/moved".into())], "")
        } else {
            ok_json("{}")
        }
    })
    .await;
    let c = client(&gw.url);
    assert_eq!(
        c.execute::<Undocumented>(get()).await.unwrap().status(),
        200
    );
    let api = gw.state.api();
    assert_eq!(api.len(), 2);
    assert!(
        api.iter().all(|r| r.header("referer").is_none()),
        "no Referer"
    );
}

#[test]
fn presets_require_https_except_on_loopback() {
    let dgfip = || presets::dgfip(DgfipAccess::Internet, Environment::Sandbox);
    let err = ApiClient::builder(dgfip())
        .api_root("http://gw.example.test")
        .client_credentials("a", "b")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("https"), "{err}");
    let err = ApiClient::builder(dgfip())
        .token_url("http://gw.example.test/token")
        .client_credentials("a", "b")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("token URL"), "{err}");
    for ok in ["http://127.0.0.1:1", "http://localhost:1", "http://[::1]:1"] {
        ApiClient::builder(dgfip())
            .api_root(ok)
            .token_url(format!("{ok}/token"))
            .revoke_url(format!("{ok}/revoke"))
            .client_credentials("a", "b")
            .build()
            .unwrap();
    }
    // A custom root without credentials may use http anywhere; with a credential it may not.
    ApiClient::builder(presets::custom("http://intranet.example.test"))
        .build()
        .unwrap();
    assert!(
        ApiClient::builder(presets::custom("http://intranet.example.test"))
            .bearer("t")
            .build()
            .is_err()
    );
}

#[tokio::test]
async fn hostile_retry_after_never_panics_and_never_blocks_past_the_deadline() {
    let far_date = httpdate::fmt_http_date(
        std::time::SystemTime::now() + Duration::from_secs(10 * 365 * 86_400),
    );
    for value in [
        "1e20".to_owned(),
        "18446744073709551615".to_owned(),
        "-5".to_owned(),
        "soon".to_owned(),
        "NaN".to_owned(),
        "inf".to_owned(),
        far_date,
        "Tue, 01 Jan 1980 00:00:00 GMT".to_owned(),
    ] {
        let v = value.clone();
        let gw = raw_server(move |_, _| http(429, &[("retry-after", &v)], b"")).await;
        let c = client(&gw.url).with_options(CallOptions::new().timeout(Duration::from_secs(1)));
        let t = Instant::now();
        let r = c.execute::<Undocumented>(get()).await;
        let second = c.execute::<Undocumented>(get()).await;
        let took = t.elapsed();
        assert!(took < Duration::from_secs(3), "{value}: {took:?}");
        match r {
            Ok(resp) => assert_eq!(resp.status(), 429, "{value}"),
            Err(e) => assert!(matches!(e, Error::RateLimited(_)), "{value}: {e:?}"),
        }
        if let Err(e) = second {
            let ra = e.retry_after().unwrap();
            assert!(
                ra <= gouvgen_runtime::retry::MAX_RETRY_AFTER,
                "{value}: {ra:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_429_pause_longer_than_the_deadline_fails_at_once_with_when_to_come_back() {
    let gw = gateway(|_, i| {
        if i == 0 {
            status(429, &[("retry-after", "120".into())], "")
        } else {
            ok_json("{}")
        }
    })
    .await;
    let c = client(&gw.url);
    let first = c.execute::<Undocumented>(get()).await.unwrap();
    assert_eq!(first.status(), 429);
    let short = c.with_options(CallOptions::new().timeout(Duration::from_secs(2)));
    let t = Instant::now();
    let err = short.execute::<Undocumented>(get()).await.unwrap_err();
    let took = t.elapsed();
    eprintln!("held back past the deadline: failed after {took:?}");
    assert!(took < Duration::from_millis(200), "{took:?}");
    let Error::RateLimited(g) = &err else {
        panic!("{err:?}")
    };
    let ra = g.retry_after.unwrap();
    assert!(
        ra > Duration::from_secs(115) && ra <= Duration::from_secs(120),
        "{ra:?}"
    );
    assert_eq!(gw.state.api_count(), 1, "nothing sent");
}

#[tokio::test]
async fn the_deadline_covers_the_token_fetch() {
    let gw = gateway_with(
        Knobs {
            token_delay: Duration::from_secs(3),
            ..Knobs::default()
        },
        always_ok,
    )
    .await;
    let c = ApiClient::builder(presets::dgfip(DgfipAccess::Internet, Environment::Sandbox))
        .api_root(&gw.url)
        .token_url(gw.token_url())
        .client_credentials("deadline-token", "s")
        .timeouts(Timeouts {
            attempt: Duration::from_secs(6),
            ..Timeouts::default()
        })
        .build()
        .unwrap()
        .with_options(CallOptions::new().timeout(Duration::from_millis(300)));
    let t = Instant::now();
    let err = c.execute::<Undocumented>(get()).await.unwrap_err();
    let took = t.elapsed();
    eprintln!("token fetch of 3 s, call deadline 300 ms: failed after {took:?}");
    assert!(took < Duration::from_millis(800), "{took:?}");
    assert!(
        matches!(
            err,
            Error::Timeout {
                delivery: Delivery::NotSent,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn piste_x_rate_limit_exhausted_holds_back_until_the_window_resets() {
    let gw = gateway(|_, _| {
        status(
            200,
            &[(
                "x-rate-limit",
                r#"[{"window":60000,"type":"throttle","remaining":0}]"#.into(),
            )],
            "{}",
        )
    })
    .await;
    let c = client(&gw.url);
    assert_eq!(
        c.execute::<Undocumented>(get()).await.unwrap().status(),
        200
    );
    let err = c
        .with_options(CallOptions::new().timeout(Duration::from_secs(1)))
        .execute::<Undocumented>(get())
        .await
        .unwrap_err();
    let ra = err.retry_after().unwrap();
    assert!(
        ra > Duration::from_secs(55) && ra <= Duration::from_secs(60),
        "{ra:?}"
    );
    assert_eq!(gw.state.api_count(), 1);
}

/// API Entreprise and API Particulier v3 announce their quota on every response; once
/// `RateLimit-Remaining` is 0, no client of the account sends anything before
/// `RateLimit-Reset` (epoch seconds), and a hostile reset is cut to a day.
#[tokio::test]
async fn ratelimit_remaining_zero_holds_the_account_until_the_reset() {
    let epoch = |ahead: u64| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        (now.unwrap().as_secs() + ahead).to_string()
    };
    let gw = gateway(move |req, _| {
        let (remaining, reset) = match req.path.as_str() {
            // Years away: held for a day at most.
            p if p.ends_with("/far") => ("0", epoch(20 * 365 * 24 * 3600)),
            // Calls left: nothing to hold.
            p if p.ends_with("/left") => ("12", epoch(60)),
            _ => ("0", epoch(60)),
        };
        let headers = [
            ("ratelimit-limit", "250".to_string()),
            ("ratelimit-remaining", remaining.to_string()),
            ("ratelimit-reset", reset),
        ];
        status(200, &headers, "{}")
    })
    .await;
    let call = |path: &str| Request::new(Method::GET, "getThing", path.into());
    let short = CallOptions::new().timeout(Duration::from_secs(1));
    let held_for = |err: Error| {
        assert!(matches!(err, Error::RateLimited(_)), "{err:?}");
        assert!(err.to_string().contains("not sent"), "{err}");
        err.retry_after().unwrap()
    };
    let c = client(&gw.url);
    c.execute::<Undocumented>(call("/api/left")).await.unwrap();
    c.execute::<Undocumented>(call("/api/left")).await.unwrap();
    assert_eq!(gw.state.api_count(), 2, "calls left: none held back");
    c.execute::<Undocumented>(call("/api/last")).await.unwrap();
    // Another client of the same account is held too.
    let same_account = client(&gw.url).with_options(short.clone());
    let err = same_account
        .execute::<Undocumented>(call("/api/left"))
        .await;
    let wait = held_for(err.unwrap_err());
    assert!(
        wait > Duration::from_secs(55) && wait <= Duration::from_secs(60),
        "{wait:?}"
    );
    assert_eq!(gw.state.api_count(), 3, "nothing sent before the reset");

    let other = ApiClient::builder(presets::custom(&gw.url))
        .bearer("OTHER-p@ss w&rd+/=")
        .build()
        .unwrap();
    other
        .execute::<Undocumented>(call("/api/far"))
        .await
        .unwrap();
    let err = other
        .with_options(short)
        .execute::<Undocumented>(call("/api/left"))
        .await;
    let wait = held_for(err.unwrap_err());
    let day = gouvgen_runtime::retry::MAX_RETRY_AFTER;
    assert!(
        wait <= day && wait > day - Duration::from_secs(5),
        "{wait:?}"
    );
    assert_eq!(gw.state.api_count(), 4);
}

/// API Particulier v3 answers final provider errors with 502 and a code (`37003`: not found
/// at the CNAV): such a call is not repeated; an unknown provider error is; a `retry_in` of two
/// days under a 3 s deadline fails at once and says when to come back.
#[tokio::test]
async fn gateway_codes_decide_over_the_status() {
    let error = |code: &str, meta: &str| {
        format!(
            r#"{{"errors":[{{"code":"{code}","title":"t","detail":"d","source":null,"meta":{meta}}}]}}"#
        )
    };
    let (final_body, unknown_body) = (
        error("37003", r#"{"provider":"CNAV"}"#),
        error("37999", r#"{"provider":"CNAV"}"#),
    );
    let review_body = error("01010", r#"{"provider":"INSEE","retry_in":172800}"#);
    let gw = gateway(move |req, _| {
        let json = [("content-type", "application/json".to_string())];
        match req.path.as_str() {
            "/api/final" => status(502, &json, &final_body),
            "/api/unknown" => status(502, &json, &unknown_body),
            _ => status(503, &json, &review_body),
        }
    })
    .await;
    let quick = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(2),
        ..RetryPolicy::default()
    };
    let c = client(&gw.url).with_options(CallOptions::new().retry_policy(quick.clone()));
    let call = |path: &str| Request::new(Method::GET, "getThing", path.into());

    let err = c
        .execute::<Undocumented>(call("/api/final"))
        .await
        .unwrap()
        .into_error::<Undocumented>();
    assert_eq!(gw.state.api_count(), 1, "a final code is not repeated");
    let g = err.gateway_error().unwrap();
    assert_eq!(
        (g.code.as_deref(), g.provider.as_deref()),
        (Some("37003"), Some("CNAV"))
    );

    let raw = c.execute::<Undocumented>(call("/api/unknown")).await;
    assert_eq!(raw.unwrap().status(), 502);
    assert_eq!(
        gw.state.api_count(),
        4,
        "an unknown provider error is retried"
    );

    let within_3_s = CallOptions::new()
        .retry_policy(quick)
        .timeout(Duration::from_secs(3));
    let err = client(&gw.url)
        .with_options(within_3_s)
        .execute::<Undocumented>(call("/api/review"))
        .await
        .unwrap()
        .into_error::<Undocumented>();
    assert_eq!(
        gw.state.api_count(),
        5,
        "two days do not fit in 3 s: no retry"
    );
    assert_eq!(err.retry_after(), Some(Duration::from_secs(172_800)));
    assert!(
        err.to_string().contains("INSEE asks to retry in 172800 s"),
        "{err}"
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused_on_content_length_and_while_streaming() {
    let gw = raw_server(|req, _| {
        if req.contains("/api/declared") {
            // Announces 512 MiB, sends little.
            Reply::Bytes(b"HTTP/1.1 200 OK\r\ncontent-length: 536870912\r\n\r\nxx".to_vec())
        } else {
            // Chunked, no length: 8 chunks of 16 KiB.
            let mut out = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
            for _ in 0..8 {
                out.extend_from_slice(b"4000\r\n");
                out.extend_from_slice(&[b'a'; 0x4000]);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
            Reply::Bytes(out)
        }
    })
    .await;
    let c = ApiClient::builder(presets::custom(&gw.url))
        .body_limits(BodyLimits {
            response: 64 * 1024,
            ..BodyLimits::default()
        })
        .build()
        .unwrap();
    for path in ["/api/declared", "/api/streamed"] {
        let err = c
            .execute::<Undocumented>(Request::new(Method::GET, "big", path.into()))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::ResponseTooLarge {
                    limit: 65536,
                    token_endpoint: false,
                    ..
                }
            ),
            "{path}: {err:?}"
        );
    }
}

#[tokio::test]
async fn truncated_cut_and_non_utf8_responses_are_typed_errors() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "truncated",
            b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"a\":".to_vec(),
        ),
        (
            "chunk cut",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n10\r\n0123".to_vec(),
        ),
        (
            "bad chunk",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n".to_vec(),
        ),
        ("garbage", b"\x00\x01 not http at all\r\n\r\n".to_vec()),
    ];
    for (name, bytes) in cases {
        let b = bytes.clone();
        let gw = raw_server(move |_, _| Reply::Bytes(b.clone())).await;
        let c = client(&gw.url);
        let err = c.execute::<Undocumented>(post(1)).await.unwrap_err();
        assert!(matches!(err, Error::Transport { .. }), "{name}: {err:?}");
        assert!(err.may_have_been_processed(), "{name}: the POST was sent");
        assert!(!err.is_retryable(), "{name}");
        assert_eq!(gw.count(), 1, "{name}: not resent");
    }
    // Non-UTF-8 header values: accepted, never panic, ignored where text is needed.
    let gw = raw_server(|_, _| {
        Reply::Bytes(
            b"HTTP/1.1 503 X\r\ncontent-length: 0\r\nretry-after: \xff\xfe\r\nx-correlation-id: \xe9t\xe9\r\nwww-authenticate: Bearer error=\"\xff\"\r\nx-rate-limit: \xff\r\n\r\n"
                .to_vec(),
        )
    })
    .await;
    let c = client(&gw.url);
    let r = c
        .with_options(CallOptions::new().retry_policy(RetryPolicy::none()))
        .execute::<Undocumented>(get())
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let e: Error = r.into_error();
    assert_eq!(e.retry_after(), None);
    assert_eq!(e.gateway_correlation_id(), None);
}

#[tokio::test]
async fn reset_after_sending_a_post_is_outcome_unknown_and_not_retried() {
    let gw = raw_server(|_, _| Reply::Reset).await;
    let c = client(&gw.url)
        .with_options(CallOptions::new().retry_policy(RetryPolicy::default().max_attempts(5)));
    let err = c.execute::<Undocumented>(post(7)).await.unwrap_err();
    assert_eq!(
        err.delivery(),
        Some(Delivery::OutcomeUnknown { idempotent: false }),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("may have been processed"), "{err}");
    assert_eq!(gw.count(), 1, "the POST reached the server once");

    // A POST whose response times out.
    let gw = raw_server(|_, _| Reply::Hang).await;
    let c = client(&gw.url).with_options(CallOptions::new().timeout(Duration::from_millis(300)));
    let err = c.execute::<Undocumented>(post(8)).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert!(
        err.may_have_been_processed() && !err.is_retryable(),
        "{err:?}"
    );
    assert!(err.to_string().contains("check"), "{err}");

    // Connection refused: nothing was sent, retryable, and the cause is shown.
    let c = client(&closed_port_url().await);
    let err = c.execute::<Undocumented>(post(9)).await.unwrap_err();
    assert_eq!(err.delivery(), Some(Delivery::NotSent));
    assert!(err.is_retryable());
    let text = err.to_string().to_lowercase();
    assert!(
        text.contains("refused") || text.contains("connect error"),
        "cause chain: {text}"
    );
}

#[tokio::test]
async fn debug_and_display_print_names_and_templates_not_values() {
    let opts = CallOptions::new().header("Authorization", "Bearer OPT-p@ss");
    let d = format!("{opts:?}");
    assert!(
        d.contains("Authorization") && !d.contains("OPT-p@ss"),
        "{d}"
    );
    let req = Request::new(
        Method::GET,
        "getFoyer",
        "/impotparticulier/1.0/spi/1234567890123/situations".into(),
    );
    let d = format!("{req:?}");
    assert!(
        d.contains("getFoyer") && !d.contains("1234567890123"),
        "{d}"
    );
    let gw = gateway(|_, _| ok_json(r#"{"spi":"1234567890123", "not": "the schema""#)).await;
    let r = client(&gw.url)
        .execute::<Undocumented>(get())
        .await
        .unwrap();
    let err = r.json::<Vec<u8>, Undocumented>().unwrap_err();
    assert!(!err.to_string().contains("1234567890123"), "{err}");
    let Error::UndecodableBody(f) = &err else {
        panic!()
    };
    assert!(
        f.raw_body.contains("1234567890123"),
        "the excerpt is kept in its field"
    );
}

/// A small deterministic generator (xorshift64*), so the fault sequence is reproducible.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_calls_against_seeded_random_faults() {
    let rng = Arc::new(Mutex::new(Rng(0x5EED_1234_ABCD_0001)));
    let posts: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let (r2, p2) = (Arc::clone(&rng), Arc::clone(&posts));
    let gw = raw_server(move |req, _| {
        if req.starts_with("POST") {
            let body = req.rsplit("\r\n\r\n").next().unwrap_or("").to_owned();
            *p2.lock().unwrap().entry(body).or_default() += 1;
        }
        let roll = r2.lock().unwrap().next() % 100;
        match roll {
            0..=1 => http(503, &[], b""),
            2..=3 => Reply::Reset,
            4..=5 => Reply::Close,
            6 => Reply::Bytes(b"HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\n{".to_vec()),
            7 => http(500, &[], b"<html>oops</html>"),
            // A hostile Retry-After (a panic in Duration conversion before clamping).
            8 => http(503, &[("retry-after", "1e20")], b""),
            9 => Reply::Bytes(
                b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nab".to_vec(),
            ),
            _ => http(
                200,
                &[("content-type", "application/json")],
                b"{\"ok\":true}",
            ),
        }
    })
    .await;
    let c = ApiClient::builder(presets::custom(&gw.url))
        .bearer("t")
        .retry_policy(
            RetryPolicy::default()
                .max_attempts(3)
                .backoff(Duration::from_millis(1), Duration::from_millis(4)),
        )
        .timeouts(Timeouts {
            attempt: Duration::from_secs(5),
            ..Timeouts::default()
        })
        .build()
        .unwrap();
    let started = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(64));
    let mut tasks = Vec::with_capacity(10_000);
    for i in 0..10_000usize {
        let c = c.clone();
        let permit = Arc::clone(&sem).acquire_owned().await.unwrap();
        tasks.push(tokio::spawn(async move {
            let r = if i % 2 == 0 {
                c.execute::<Undocumented>(get()).await
            } else {
                c.execute::<Undocumented>(post(i)).await
            };
            drop(permit);
            r.map(|r| r.status())
        }));
    }
    let (mut ok, mut failed_status, mut errors) = (0, 0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(200) => ok += 1,
            Ok(_) => failed_status += 1,
            Err(e) => {
                assert!(
                    !matches!(
                        e,
                        Error::InvalidRequest { .. } | Error::InvalidConfig { .. }
                    ),
                    "{e:?}"
                );
                errors += 1
            }
        }
    }
    let took = started.elapsed();
    let twice = posts.lock().unwrap().values().filter(|n| **n > 1).count();
    eprintln!(
        "10,000 calls vs 10 % faults: {ok} ok, {failed_status} error statuses, {errors} typed errors, {} requests reached the server, {twice} POSTs seen twice, {took:?}",
        gw.count()
    );
    assert_eq!(
        ok + failed_status + errors,
        10_000,
        "every call returned exactly once"
    );
    assert_eq!(twice, 0, "no POST reached the server twice");
    assert!(ok > 8_000, "{ok}");
}
