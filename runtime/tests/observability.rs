//! Correlation IDs, tracing output, and the absence of secrets from Debug, Display and logs.

mod common;

use std::collections::HashSet;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use gouvgen_runtime::presets::{self, DgfipAccess, DouaneEnvironment, Environment};
use gouvgen_runtime::{
    ApiClient, CallOptions, Error, ManualClock, Method, Request, RetryPolicy, Undocumented,
};

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buf {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// One process-wide TRACE subscriber writing to a buffer (thread-local subscribers do not see
/// events from other worker threads, and tracing caches callsite interest globally).
fn capture() -> (Buf, ()) {
    static BUF: std::sync::OnceLock<Buf> = std::sync::OnceLock::new();
    let buf = BUF
        .get_or_init(|| {
            let buf = Buf::default();
            let w = buf.clone();
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_ansi(false)
                .with_writer(move || w.clone())
                .init();
            buf
        })
        .clone();
    (buf, ())
}

fn get(op: &'static str) -> Request {
    Request::new(Method::GET, op, "/api/thing".into())
}

#[tokio::test(flavor = "current_thread")]
async fn secrets_never_appear_in_debug_errors_or_traces() {
    let (logs, _guard) = capture();
    let mut debug = String::new();
    let secrets = [
        "KEY-SECRET-1",
        "CS-SECRET-2",
        "PW-SECRET-3",
        "APIKEY-SECRET-4",
        "FC-SECRET-5",
        "ACCESS-SECRET",
        "douane-user-secret",
    ];

    // DGFiP: token, a 401 invalid_token (refresh + retry), FranceConnect header, API key.
    let gw = gateway_with(
        Knobs {
            token_prefix: "ACCESS-SECRET".into(),
            ..Knobs::default()
        },
        |r, _| {
            if r.header("authorization").as_deref() == Some("Bearer ACCESS-SECRET-1") {
                status(
                    401,
                    &[("www-authenticate", r#"Bearer error="invalid_token""#.into())],
                    "",
                )
            } else {
                status(500, &[], "boom")
            }
        },
    )
    .await;
    let builder = ApiClient::builder(presets::dgfip(DgfipAccess::Internet, Environment::Sandbox))
        .api_root(gw.url.clone())
        .token_url(gw.token_url())
        .revoke_url(gw.revoke_url())
        .client_credentials("KEY-SECRET-1", "CS-SECRET-2")
        .api_key_header("X-Extra", "APIKEY-SECRET-4")
        .scopes(["RessourceIR"]);
    debug += &format!("{builder:?}");
    let client = builder.build().unwrap();
    let opts = CallOptions::new().france_connect_token("FC-SECRET-5");
    debug += &format!("{client:?}{opts:?}");
    let fc = client.with_options(opts);
    debug += &format!("{fc:?}");
    let resp = fc
        .execute::<Undocumented>(get("situationIr"))
        .await
        .unwrap();
    debug += &format!("{resp:?}");
    let err: Error = resp.into_error();
    debug += &format!("{err:?}{err}");
    client.revoke().await.unwrap();

    // Token refusal that echoes the secret in its description.
    let refusing = gateway_with(
        Knobs {
            refusal: Some((
                401,
                r#"{"error":"invalid_client","error_description":"bad secret CS-SECRET-2 for KEY-SECRET-1"}"#
                    .into(),
            )),
            ..Knobs::default()
        },
        always_ok,
    )
    .await;
    let c = ApiClient::builder(presets::dgfip(DgfipAccess::Rie, Environment::Sandbox))
        .api_root(refusing.url.clone())
        .token_url(refusing.token_url())
        .client_credentials("KEY-SECRET-1", "CS-SECRET-2")
        .build()
        .unwrap();
    let err = c.execute::<Undocumented>(get("x")).await.unwrap_err();
    debug += &format!("{err:?}{err}");
    assert!(matches!(err, Error::TokenRefused(_)));

    // Douane password grant.
    let gw2 = gateway_with(
        Knobs {
            token_prefix: "ACCESS-SECRET".into(),
            ..Knobs::default()
        },
        always_ok,
    )
    .await;
    let d = ApiClient::builder(presets::douane(DouaneEnvironment::Production))
        .api_root(gw2.url.clone())
        .token_url(gw2.token_url())
        .password_grant("douane-user-secret", "PW-SECRET-3")
        .clock(Arc::new(ManualClock::new()))
        .build()
        .unwrap();
    debug += &format!("{d:?}");
    d.execute::<Undocumented>(get("y")).await.unwrap();

    // JWT.
    let jwt = jwt_with_exp(gouvgen_runtime::chrono::Utc::now().timestamp() + 86_400);
    let j = ApiClient::builder(presets::api_entreprise(Environment::Sandbox))
        .api_root(gw2.url.clone())
        .jwt(jwt.clone())
        .build()
        .unwrap();
    debug += &format!("{j:?}");
    j.execute::<Undocumented>(get("z")).await.unwrap();

    let logs = logs.text();
    assert!(logs.contains("situationIr"), "tracing was captured");
    for s in secrets
        .iter()
        .copied()
        .chain([jwt.as_str(), "JWT-SECRET-UID"])
    {
        assert!(!debug.contains(s), "{s} leaked in Debug/Display: {debug}");
        assert!(!logs.contains(s), "{s} leaked in traces");
    }
    assert!(debug.contains("REDACTED"));
}

#[tokio::test(flavor = "current_thread")]
async fn jwt_near_expiry_warns_through_tracing() {
    let (logs, _guard) = capture();
    let soon = gouvgen_runtime::chrono::Utc::now().timestamp() + 30 * 86_400;
    let c = ApiClient::builder(presets::api_particulier(Environment::Production))
        .jwt(jwt_with_exp(soon))
        .build()
        .unwrap();
    assert!(c.jwt_expires_at().is_some());
    let stamp = |t: i64| {
        gouvgen_runtime::chrono::DateTime::from_timestamp(t, 0)
            .unwrap()
            .to_rfc3339()
    };
    let text = logs.text();
    let line = text
        .lines()
        .find(|l| l.contains(&stamp(soon)))
        .unwrap_or_else(|| panic!("no warning for {}: {text}", stamp(soon)));
    assert!(
        line.contains("WARN") && line.contains("expires soon"),
        "{line}"
    );
    assert!(
        line.contains("days_left=29") || line.contains("days_left=30"),
        "{line}"
    );

    let later = gouvgen_runtime::chrono::Utc::now().timestamp() + 300 * 86_400;
    ApiClient::builder(presets::api_particulier(Environment::Production))
        .jwt(jwt_with_exp(later))
        .build()
        .unwrap();
    assert!(
        !logs.text().contains(&stamp(later)),
        "no warning 300 days ahead"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn call_span_carries_operation_correlation_id_and_attempt() {
    let (logs, _guard) = capture();
    let gw = gateway(|_, i| {
        if i == 0 {
            status(503, &[], "")
        } else {
            ok_json("{}")
        }
    })
    .await;
    let c = ApiClient::builder(presets::custom(gw.url.clone()))
        .retry_policy(
            RetryPolicy::default().backoff(Duration::from_millis(5), Duration::from_millis(5)),
        )
        .build()
        .unwrap();
    let r = c.execute::<Undocumented>(get("listThings")).await.unwrap();
    let text = logs.text();
    let cid = r.correlation_id();
    assert!(text.contains(&format!("correlation_id={cid}")), "{text}");
    assert!(text.contains("operation_id=\"listThings\""), "{text}");
    assert!(text.contains("attempt=2"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correlation_ids_are_unique_uuids_over_1000_calls() {
    let gw = gateway(always_ok).await;
    let c = ApiClient::builder(presets::custom(gw.url.clone()))
        .bearer("t")
        .build()
        .unwrap();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..1000 {
        let c = c.clone();
        set.spawn(async move {
            let r = c.execute::<Undocumented>(get("op")).await.unwrap();
            r.correlation_id().to_owned()
        });
    }
    let mut returned = HashSet::new();
    while let Some(id) = set.join_next().await {
        returned.insert(id.unwrap());
    }
    let sent: HashSet<String> = gw
        .state
        .api()
        .iter()
        .map(|r| r.header("x-correlation-id").unwrap())
        .collect();
    assert_eq!(sent.len(), 1000);
    assert_eq!(sent, returned);
    for id in &sent {
        let u = gouvgen_runtime::uuid::Uuid::parse_str(id).unwrap();
        assert_eq!(u.get_version_num(), 4);
    }
}

#[tokio::test]
async fn caller_supplied_correlation_id_and_header_name() {
    let gw = gateway(|_, _| status(404, &[], "")).await;
    let c = ApiClient::builder(presets::custom(gw.url.clone()))
        .correlation_header("X-Request-ID")
        .build()
        .unwrap();
    let mine =
        c.with_options(CallOptions::new().correlation_id("11111111-2222-4333-8444-555555555555"));
    let r = mine.execute::<Undocumented>(get("op")).await.unwrap();
    let err: Error = r.into_error();
    assert_eq!(
        err.correlation_id(),
        Some("11111111-2222-4333-8444-555555555555")
    );
    let rec = &gw.state.api()[0];
    assert_eq!(
        rec.header("x-request-id").as_deref(),
        Some("11111111-2222-4333-8444-555555555555")
    );
    assert_eq!(rec.header("x-correlation-id"), None);
}

/// A secret whose spelling changes under every encoding.
const ENCODED: &str = "p@ss w&rd+/=";

fn encodings_of(s: &str) -> Vec<String> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    vec![
        s.to_owned(),
        "p%40ss".to_owned(),
        "w%26rd".to_owned(),
        b64.encode(s),
        b64.encode(format!("enc-id:{s}")),
        b64.encode(format!("enc-user:{s}")),
    ]
}

#[tokio::test(flavor = "current_thread")]
async fn encoded_secrets_never_appear_in_errors_sources_or_traces() {
    use base64::Engine;
    let (logs, _guard) = capture();
    let mut text = String::new();
    let mut collect = |err: &Error| {
        text += &format!("{err}\n{err:?}\n");
        let mut src = std::error::Error::source(err);
        while let Some(s) = src {
            text += &format!("{s}\n{s:?}\n");
            src = s.source();
        }
    };
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("enc-id:{ENCODED}"));

    // Token refusal echoing the secret raw, form-encoded and in Basic base64.
    let refusing = gateway_with(
        Knobs {
            refusal: Some((
                401,
                format!(
                    r#"{{"error":"invalid_client","error_description":"{ENCODED} / p%40ss+w%26rd%2B%2F%3D / Basic {basic}"}}"#
                ),
            )),
            ..Knobs::default()
        },
        always_ok,
    )
    .await;
    let c = ApiClient::builder(presets::dgfip(DgfipAccess::Internet, Environment::Sandbox))
        .api_root(refusing.url.clone())
        .token_url(refusing.token_url())
        .client_credentials("enc-id", ENCODED)
        .build()
        .unwrap();
    collect(&c.execute::<Undocumented>(get("refused")).await.unwrap_err());

    // API error echoing the request (query API key, bearer token) and a 401 refresh.
    let gw = gateway_with(
        Knobs {
            token_prefix: format!("tok{}", ENCODED.replace(['/', '+', '=', ' ', '&', '@'], "")),
            ..Knobs::default()
        },
        |r, i| {
            if i == 0 {
                return status(
                    401,
                    &[("www-authenticate", r#"Bearer error="invalid_token""#.into())],
                    "",
                );
            }
            let echo = format!(
                "{:?} {:?} {:?}",
                r.query,
                r.header("authorization"),
                r.header("x-api-key")
            );
            status(400, &[], &echo)
        },
    )
    .await;
    let c = ApiClient::builder(presets::douane(DouaneEnvironment::Formation))
        .api_root(gw.url.clone())
        .token_url(gw.token_url())
        .password_grant("enc-user", ENCODED)
        .api_key_query("apikey", ENCODED)
        .api_key_header("X-Api-Key", format!("H{ENCODED}"))
        .build()
        .unwrap();
    let r = c.execute::<Undocumented>(get("echoed")).await.unwrap();
    assert_eq!(r.status(), 400);
    collect(&r.into_error());

    // Transport failure with the secret-bearing URL.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let c = ApiClient::builder(presets::custom(format!("http://{closed}")))
        .api_key_query("apikey", ENCODED)
        .build()
        .unwrap();
    collect(
        &c.execute::<Undocumented>(get("refusedConn"))
            .await
            .unwrap_err(),
    );

    let logs = logs.text();
    assert!(logs.contains("echoed"), "tracing was captured");
    for s in encodings_of(ENCODED) {
        assert!(!text.contains(&s), "`{s}` leaked in an error: {text}");
        assert!(!logs.contains(&s), "`{s}` leaked in traces");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn jwt_expiry_warning_repeats_once_a_day() {
    let (logs, _guard) = capture();
    let clock = Arc::new(ManualClock::new());
    let exp = gouvgen_runtime::chrono::Utc::now().timestamp() + 20 * 86_400 + 4321;
    let gw = gateway(always_ok).await;
    let c = ApiClient::builder(presets::api_entreprise(Environment::Sandbox))
        .api_root(gw.url.clone())
        .jwt(jwt_with_exp(exp))
        .clock(clock.clone())
        .build()
        .unwrap();
    let stamp = gouvgen_runtime::chrono::DateTime::from_timestamp(exp, 0)
        .unwrap()
        .to_rfc3339();
    let count = || {
        logs.text()
            .lines()
            .filter(|l| l.contains(&stamp) && l.contains("expires soon"))
            .count()
    };
    assert_eq!(count(), 1, "at build");
    for _ in 0..3 {
        c.execute::<Undocumented>(get("a")).await.unwrap();
    }
    assert_eq!(count(), 1, "not on every call");
    clock.advance(Duration::from_secs(86_400));
    c.execute::<Undocumented>(get("a")).await.unwrap();
    c.execute::<Undocumented>(get("a")).await.unwrap();
    assert_eq!(count(), 2, "again the next day");
}

/// API Particulier's FranceConnect routes: the user's token is the bearer of that call only,
/// in place of the client's API key, and goes nowhere else (a token whose raw, URL, form and
/// base64 encodings all differ).
#[tokio::test(flavor = "current_thread")]
async fn a_france_connect_token_is_the_bearer_of_its_call_only() {
    use base64::Engine;
    let (logs, _guard) = capture();
    let fc = "fc p@ss w&rd+/=";
    let api_key = "APIKEY-SECRET-FC";
    // A hostile gateway echoes the bearer it got into its error body.
    let gw = gateway(|r, _| match r.header("authorization") {
        Some(a) => status(
            502,
            &[("content-type", "application/json".into())],
            &format!(r#"{{"errors":[{{"code":"37999","title":"boom","detail":"{a}"}}]}}"#),
        ),
        None => ok_json(r#"{"ok":true}"#),
    })
    .await;
    let dir = std::env::temp_dir().join(format!("gouvgen-fc-audit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let audit = dir.join("audit.jsonl");
    let client = ApiClient::builder(presets::api_particulier(Environment::Sandbox))
        .api_root(gw.url.clone())
        .api_key(api_key)
        .retry_policy(RetryPolicy::none())
        .audit_file(&audit)
        .build()
        .unwrap();
    let opts = CallOptions::new().france_connect_token(fc);
    let mut debug = format!("{opts:?}");
    let with_fc = client.with_options(opts);
    debug += &format!("{with_fc:?}");
    let err = with_fc
        .execute::<Undocumented>(get("quotientFamilial"))
        .await
        .unwrap()
        .into_error::<Undocumented>();
    debug += &format!("{err:?}{err}");
    client
        .execute::<Undocumented>(get("quotientFamilial"))
        .await
        .unwrap();

    let sent = gw.state.api();
    assert_eq!(sent.len(), 2);
    assert_eq!(
        sent[0].header("authorization").as_deref(),
        Some(format!("Bearer {fc}").as_str())
    );
    assert_eq!(sent[0].header("x-api-key"), None, "the API key went along");
    assert_eq!(
        sent[1].header("authorization"),
        None,
        "the token outlived its call"
    );
    assert_eq!(sent[1].header("x-api-key").as_deref(), Some(api_key));

    let b64 = base64::engine::general_purpose::STANDARD.encode(fc);
    let encodings = [
        fc.to_owned(),
        "fc%20p%40ss%20w%26rd%2B%2F%3D".to_owned(),
        "fc+p%40ss+w%26rd%2B%2F%3D".to_owned(),
        b64,
    ];
    let trail = std::fs::read_to_string(&audit).unwrap();
    let logs = logs.text();
    for e in &encodings {
        assert!(!debug.contains(e.as_str()), "{e} in Debug/Display: {debug}");
        assert!(!logs.contains(e.as_str()), "{e} in traces");
        assert!(!trail.contains(e.as_str()), "{e} in the audit trail");
    }
    assert!(!debug.contains(api_key) && !logs.contains(api_key));
    std::fs::remove_dir_all(&dir).ok();
}
