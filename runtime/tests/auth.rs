//! Token flows against a loopback fake gateway: reuse, sharing, refresh ahead of expiry,
//! single flight, 401 invalid_token, revoke, Douane password + refresh, refusals, API keys.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use gouvgen_runtime::presets::{self, DgfipAccess, DouaneEnvironment, Environment, PisteAccess};
use gouvgen_runtime::{
    ApiClient, CallOptions, Error, ManualClock, Method, OAuthErrorCode, Request, RetryPolicy,
};

fn get(op: &'static str) -> Request {
    Request::new(Method::GET, op, "/api/thing".into())
}

async fn call(client: &ApiClient) -> Result<u16, Error> {
    let r = client
        .execute::<gouvgen_runtime::Undocumented>(get("getThing"))
        .await?;
    let status = r.status();
    if status >= 400 {
        return Err(r.into_error());
    }
    Ok(status)
}

fn dgfip(gw: &Gw, key: &str) -> ApiClient {
    ApiClient::builder(presets::dgfip(DgfipAccess::Internet, Environment::Sandbox))
        .api_root(gw.url.clone())
        .token_url(gw.token_url())
        .revoke_url(gw.revoke_url())
        .client_credentials(key, "consumer-secret")
        .scopes(["RessourceIR", "RessourceTHPrincipale"])
        .build()
        .unwrap()
}

#[tokio::test]
async fn token_is_reused_across_calls_and_clones() {
    let gw = gateway(always_ok).await;
    let client = dgfip(&gw, "reuse-key");
    for _ in 0..5 {
        assert_eq!(call(&client).await.unwrap(), 200);
    }
    let clone = client.clone();
    assert_eq!(call(&clone).await.unwrap(), 200);
    assert_eq!(gw.state.token_count(), 1);
    let t = &gw.state.tokens()[0];
    // DGFiP: Basic base64(key:secret), client_credentials, space-separated scopes.
    use base64::Engine;
    let expected = base64::engine::general_purpose::STANDARD.encode("reuse-key:consumer-secret");
    assert_eq!(
        t.authorization.as_deref(),
        Some(&*format!("Basic {expected}"))
    );
    assert_eq!(t.param("grant_type").as_deref(), Some("client_credentials"));
    assert_eq!(
        t.param("scope").as_deref(),
        Some("RessourceIR RessourceTHPrincipale")
    );
    assert!(t.param("client_secret").is_none());
    for r in gw.state.api() {
        assert_eq!(r.header("authorization").as_deref(), Some("Bearer tok-1"));
    }
}

#[tokio::test]
async fn two_clients_of_the_same_account_share_one_token() {
    let gw = gateway(always_ok).await;
    let a = dgfip(&gw, "shared-key");
    let b = dgfip(&gw, "shared-key");
    call(&a).await.unwrap();
    call(&b).await.unwrap();
    assert_eq!(
        gw.state.token_count(),
        1,
        "same account → same cached token"
    );
    let other = dgfip(&gw, "other-key");
    call(&other).await.unwrap();
    assert_eq!(gw.state.token_count(), 2, "another account → its own token");
}

#[tokio::test]
async fn token_refreshed_ahead_of_expiry() {
    let gw = gateway_with(
        Knobs {
            expires_in: 100,
            ..Knobs::default()
        },
        always_ok,
    )
    .await;
    let clock = Arc::new(ManualClock::new());
    let client = ApiClient::builder(presets::custom(gw.url.clone()))
        .token_url(gw.token_url())
        .client_credentials("refresh-ahead", "s")
        .refresh_margin(Duration::from_secs(10))
        .clock(clock.clone())
        .build()
        .unwrap();
    call(&client).await.unwrap();
    clock.advance(Duration::from_secs(85));
    call(&client).await.unwrap();
    assert_eq!(gw.state.token_count(), 1, "still fresh 15 s before expiry");
    clock.advance(Duration::from_secs(6)); // 91 s: inside the 10 s (+≤2 s jitter) margin
    call(&client).await.unwrap();
    assert_eq!(gw.state.token_count(), 2, "refreshed before expiry");
    let api = gw.state.api();
    assert_eq!(
        api[2].header("authorization").as_deref(),
        Some("Bearer tok-2")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cold_cache_1000_concurrent_calls_make_one_token_request() {
    let gw = gateway_with(
        Knobs {
            token_delay: Duration::from_millis(200),
            ..Knobs::default()
        },
        always_ok,
    )
    .await;
    let client = ApiClient::builder(presets::piste(PisteAccess::Internet, Environment::Sandbox))
        .api_root(gw.url.clone())
        .token_url(gw.token_url())
        .client_credentials("cold-cache", "s")
        .no_rate_limit()
        .build()
        .unwrap();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..1000 {
        let c = client.clone();
        set.spawn(async move { call(&c).await });
    }
    let mut ok = 0;
    while let Some(r) = set.join_next().await {
        r.unwrap().unwrap();
        ok += 1;
    }
    assert_eq!(ok, 1000);
    assert_eq!(gw.state.token_count(), 1);
    assert_eq!(gw.state.api_count(), 1000);
}

fn invalid_token_response() -> axum::response::Response {
    status(
        401,
        &[(
            "www-authenticate",
            r#"Bearer realm="api", error="invalid_token", error_description="The access token expired""#.into(),
        )],
        "",
    )
}

#[tokio::test]
async fn invalid_token_401_refreshes_once_and_retries_once() {
    let gw = gateway(|r, _| {
        if r.header("authorization").as_deref() == Some("Bearer tok-1") {
            invalid_token_response()
        } else {
            ok_json("{}")
        }
    })
    .await;
    let client = dgfip(&gw, "invalid-token-once");
    assert_eq!(call(&client).await.unwrap(), 200);
    assert_eq!(gw.state.token_count(), 2);
    let api = gw.state.api();
    assert_eq!(api.len(), 2);
    assert_eq!(
        api[1].header("authorization").as_deref(),
        Some("Bearer tok-2")
    );
    assert_eq!(
        api[0].header("x-correlation-id"),
        api[1].header("x-correlation-id"),
        "one logical call, one correlation ID"
    );
}

#[tokio::test]
async fn persistent_401_is_returned_not_looped() {
    let gw = gateway(|_, _| invalid_token_response()).await;
    // Also for POST: the token was refused, nothing was processed.
    let client = dgfip(&gw, "invalid-token-always");
    let req = Request::new(Method::POST, "postThing", "/api/thing".into());
    let resp = client
        .execute::<gouvgen_runtime::Undocumented>(req)
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let err: Error = resp.into_error();
    assert_eq!(err.gateway_code(), Some("invalid_token"));
    assert_eq!(gw.state.api_count(), 2, "one retry, never more");
    assert_eq!(gw.state.token_count(), 2, "exactly one refresh");
}

#[tokio::test]
async fn dgfip_900901_body_is_treated_as_invalid_token() {
    let gw = gateway(|r, _| {
        if r.header("authorization").as_deref() == Some("Bearer tok-1") {
            status(
                401,
                &[("content-type", "application/json".into())],
                r#"{"erreur":{"code":900901,"message":"Invalid Credentials","horodatage":"2024-01-01T10:00:00+01:00"}}"#,
            )
        } else {
            ok_json("{}")
        }
    })
    .await;
    let client = dgfip(&gw, "dgfip-900901");
    assert_eq!(call(&client).await.unwrap(), 200);
    assert_eq!(gw.state.token_count(), 2);
}

#[tokio::test]
async fn other_401_is_not_retried() {
    // 900909 (subscription inactive) is not a token problem: no refresh, no retry.
    let gw = gateway(|_, _| {
        status(
            401,
            &[],
            r#"{"erreur":{"code":900909,"message":"The subscription to the API is inactive"}}"#,
        )
    })
    .await;
    let client = dgfip(&gw, "dgfip-900909");
    let err = call(&client).await.unwrap_err();
    assert_eq!(err.gateway_code(), Some("900909"));
    assert_eq!(gw.state.api_count(), 1);
    assert_eq!(gw.state.token_count(), 1);
}

#[tokio::test]
async fn revoke_posts_the_token_and_forces_a_new_one() {
    let gw = gateway(always_ok).await;
    let client = dgfip(&gw, "revoke-key");
    call(&client).await.unwrap();
    assert!(client.has_cached_token());
    client.revoke().await.unwrap();
    assert!(!client.has_cached_token());
    let revokes = gw.state.revoke_requests.lock().unwrap().clone();
    assert_eq!(revokes.len(), 1);
    assert_eq!(revokes[0].param("token").as_deref(), Some("tok-1"));
    assert!(
        revokes[0]
            .authorization
            .as_deref()
            .unwrap()
            .starts_with("Basic ")
    );
    call(&client).await.unwrap();
    assert_eq!(gw.state.token_count(), 2);
    assert_eq!(
        gw.state.api()[1].header("authorization").as_deref(),
        Some("Bearer tok-2")
    );
}

fn douane(gw: &Gw, clock: Arc<ManualClock>, user: &str) -> ApiClient {
    ApiClient::builder(presets::douane(DouaneEnvironment::Formation))
        .api_root(gw.url.clone())
        .token_url(gw.token_url())
        .password_grant(user, "douane-password")
        .clock(clock)
        .build()
        .unwrap()
}

#[tokio::test]
async fn douane_password_then_refresh_then_relogin() {
    let gw = gateway_with(
        Knobs {
            expires_in: 300,
            ..Knobs::default()
        },
        always_ok,
    )
    .await;
    let clock = Arc::new(ManualClock::new());
    let a = douane(&gw, clock.clone(), "douane-user");
    let b = douane(&gw, clock.clone(), "douane-user");
    call(&a).await.unwrap();
    call(&b).await.unwrap();
    assert_eq!(
        gw.state.token_count(),
        1,
        "mutualisation: one token for the account"
    );
    let t = &gw.state.tokens()[0];
    assert_eq!(t.param("grant_type").as_deref(), Some("password"));
    assert_eq!(t.param("client_id").as_deref(), Some("gun-api"));
    assert_eq!(t.param("scope").as_deref(), Some("openid"));
    assert_eq!(t.param("username").as_deref(), Some("douane-user"));
    assert_eq!(t.param("password").as_deref(), Some("douane-password"));

    clock.advance(Duration::from_secs(300));
    call(&a).await.unwrap();
    let t = &gw.state.tokens()[1];
    assert_eq!(t.param("grant_type").as_deref(), Some("refresh_token"));
    assert_eq!(t.param("refresh_token").as_deref(), Some("ref-1"));
    assert!(
        t.param("password").is_none(),
        "refresh does not resend the password"
    );
    assert_eq!(
        gw.state.api()[2].header("authorization").as_deref(),
        Some("Bearer tok-2")
    );

    gw.state.knobs.lock().unwrap().refresh_refused = true;
    clock.advance(Duration::from_secs(300));
    call(&b).await.unwrap();
    let grants: Vec<_> = gw
        .state
        .tokens()
        .iter()
        .map(|t| t.param("grant_type").unwrap())
        .collect();
    assert_eq!(
        grants,
        ["password", "refresh_token", "refresh_token", "password"]
    );
    assert_eq!(
        gw.state.api()[3].header("authorization").as_deref(),
        Some("Bearer tok-3")
    );
}

#[tokio::test]
async fn token_refusals_are_typed_per_rfc6749_code_and_not_retried() {
    let cases = [
        (
            "invalid_client",
            OAuthErrorCode::InvalidClient,
            "client_id or client secret",
        ),
        ("invalid_grant", OAuthErrorCode::InvalidGrant, "grant"),
        ("invalid_scope", OAuthErrorCode::InvalidScope, "RessourceIR"),
        (
            "unauthorized_client",
            OAuthErrorCode::UnauthorizedClient,
            "not allowed",
        ),
        (
            "unsupported_grant_type",
            OAuthErrorCode::UnsupportedGrantType,
            "token URL",
        ),
        (
            "invalid_request",
            OAuthErrorCode::InvalidRequest,
            "malformed",
        ),
    ];
    for (code, expected, advice) in cases {
        let gw = gateway_with(
            Knobs {
                refusal: Some((
                    if code == "invalid_client" { 401 } else { 400 },
                    format!(r#"{{"error":"{code}","error_description":"refused: {code}"}}"#),
                )),
                ..Knobs::default()
            },
            always_ok,
        )
        .await;
        let client = ApiClient::builder(presets::dgfip(DgfipAccess::Rie, Environment::Production))
            .api_root(gw.url.clone())
            .token_url(gw.token_url())
            .client_credentials(format!("refusal-{code}"), "s")
            .scopes(["RessourceIR"])
            .retry_policy(RetryPolicy::default().max_attempts(5))
            .build()
            .unwrap();
        let err = call(&client).await.unwrap_err();
        let Error::TokenRefused(t) = &err else {
            panic!("expected TokenRefused, got {err:?}")
        };
        assert_eq!(t.error, expected);
        assert!(t.advice.contains(advice), "{code}: {}", t.advice);
        assert!(!err.is_retryable());
        assert!(err.correlation_id().is_some());
        let msg = err.to_string();
        assert!(msg.contains(code) && msg.contains(advice), "{msg}");
        assert_eq!(gw.state.token_count(), 1, "{code} not retried");
        assert_eq!(gw.state.api_count(), 0);
    }
}

#[tokio::test]
async fn douane_invalid_grant_names_username_password() {
    let gw = gateway_with(
        Knobs {
            refusal: Some((400, r#"{"error":"invalid_grant"}"#.into())),
            ..Knobs::default()
        },
        always_ok,
    )
    .await;
    let client = douane(&gw, Arc::new(ManualClock::new()), "bad-user");
    let err = call(&client).await.unwrap_err();
    assert_eq!(err.gateway_code(), Some("invalid_grant"));
    assert!(err.to_string().contains("username/password"), "{err}");
}

#[tokio::test]
async fn piste_sends_credentials_in_body_and_keyid_header() {
    let gw = gateway(always_ok).await;
    let client = ApiClient::builder(presets::piste(PisteAccess::Ader, Environment::Production))
        .api_root(gw.url.clone())
        .token_url(gw.token_url())
        .client_credentials("piste-id", "piste-secret")
        .api_key("piste-key-id")
        .build()
        .unwrap();
    call(&client).await.unwrap();
    let t = &gw.state.tokens()[0];
    assert_eq!(t.authorization, None);
    assert_eq!(t.param("client_id").as_deref(), Some("piste-id"));
    assert_eq!(t.param("client_secret").as_deref(), Some("piste-secret"));
    assert_eq!(t.param("scope").as_deref(), Some("openid"));
    assert_eq!(t.param("grant_type").as_deref(), Some("client_credentials"));
    let r = &gw.state.api()[0];
    assert_eq!(r.header("keyid").as_deref(), Some("piste-key-id"));
    assert_eq!(r.header("authorization").as_deref(), Some("Bearer tok-1"));
}

#[tokio::test]
async fn api_particulier_traceability_and_api_key() {
    let gw = gateway(always_ok).await;
    let client = ApiClient::builder(presets::api_particulier(Environment::Sandbox))
        .api_root(gw.url.clone())
        .api_key("particulier-key")
        .traceability("Aides sociales", "12000101100010", "dossier 42 & co")
        .build()
        .unwrap();
    let req = get("quotient").query("codeInsee", &"75056").traceability();
    client
        .execute::<gouvgen_runtime::Undocumented>(req)
        .await
        .unwrap();
    let untraced = get("other");
    client
        .execute::<gouvgen_runtime::Undocumented>(untraced)
        .await
        .unwrap();
    let api = gw.state.api();
    assert_eq!(
        api[0].header("x-api-key").as_deref(),
        Some("particulier-key")
    );
    assert_eq!(
        api[0].query.as_deref(),
        Some(
            "codeInsee=75056&context=Aides%20sociales&recipient=12000101100010&object=dossier%2042%20%26%20co"
        )
    );
    assert_eq!(
        api[1].query, None,
        "only calls marked .traceability() get them"
    );

    let per_call = client.with_options(CallOptions::new().traceability_object("dossier 43"));
    per_call
        .execute::<gouvgen_runtime::Undocumented>(get("quotient").traceability())
        .await
        .unwrap();
    assert_eq!(
        gw.state.api()[2].query.as_deref(),
        Some("context=Aides%20sociales&recipient=12000101100010&object=dossier%2043"),
        "a per-call object replaces the client's; context and recipient stay"
    );

    let bare = ApiClient::builder(presets::api_entreprise(Environment::Sandbox))
        .api_root(gw.url.clone())
        .build()
        .unwrap();
    let err = bare
        .execute::<gouvgen_runtime::Undocumented>(get("x").traceability())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidRequest { .. }));
    assert!(err.to_string().contains(".traceability("));
}

#[tokio::test]
async fn api_entreprise_jwt_is_sent_as_bearer() {
    let gw = gateway(always_ok).await;
    let jwt = jwt_with_exp(chrono_now() + 400 * 86_400);
    let client = ApiClient::builder(presets::api_entreprise(Environment::Production))
        .api_root(gw.url.clone())
        .jwt(jwt.clone())
        .build()
        .unwrap();
    assert!(client.jwt_expires_at().is_some());
    call(&client).await.unwrap();
    assert_eq!(
        gw.state.api()[0].header("authorization"),
        Some(format!("Bearer {jwt}"))
    );
}

#[tokio::test]
async fn expired_jwt_fails_clearly_before_any_call() {
    let gw = gateway(always_ok).await;
    let err = ApiClient::builder(presets::api_entreprise(Environment::Production))
        .api_root(gw.url.clone())
        .jwt(jwt_with_exp(chrono_now() - 3600))
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::CredentialExpired { .. }));
    assert!(err.to_string().contains("expired"), "{err}");
    // A JWT that expires while the program runs: calls fail without reaching the server.
    let clock = Arc::new(ManualClock::new());
    let client = ApiClient::builder(presets::api_entreprise(Environment::Production))
        .api_root(gw.url.clone())
        .jwt(jwt_with_exp(chrono_now() + 100))
        .clock(clock.clone())
        .build()
        .unwrap();
    clock.advance(Duration::from_secs(200));
    let err = call(&client).await.unwrap_err();
    assert!(matches!(err, Error::CredentialExpired { .. }));
    assert_eq!(gw.state.api_count(), 0);
}

#[tokio::test]
async fn franceconnect_header_only_when_provided() {
    let gw = gateway(always_ok).await;
    let client = ApiClient::builder(presets::dgfip(
        DgfipAccess::InternetFranceConnect,
        Environment::Production,
    ))
    .api_root(gw.url.clone())
    .token_url(gw.token_url())
    .client_credentials("fc-key", "s")
    .build()
    .unwrap();
    call(&client).await.unwrap();
    call(&client.with_options(CallOptions::new().france_connect_token("fc-user-token")))
        .await
        .unwrap();
    let api = gw.state.api();
    assert_eq!(api[0].header("x-franceconnect-oauth"), None);
    assert_eq!(
        api[1].header("x-franceconnect-oauth").as_deref(),
        Some("fc-user-token")
    );
}

#[tokio::test]
async fn no_auth_operations_send_no_credentials() {
    let gw = gateway(always_ok).await;
    let client = dgfip(&gw, "no-auth");
    client
        .execute::<gouvgen_runtime::Undocumented>(get("ping").no_auth())
        .await
        .unwrap();
    assert_eq!(gw.state.token_count(), 0);
    assert_eq!(gw.state.api()[0].header("authorization"), None);
}

fn chrono_now() -> i64 {
    gouvgen_runtime::chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn generic_bearer_basic_and_query_api_key() {
    let gw = gateway(always_ok).await;
    let bearer = ApiClient::builder(presets::custom(gw.url.clone()))
        .bearer("static-token")
        .build()
        .unwrap();
    call(&bearer).await.unwrap();
    let basic = ApiClient::builder(presets::custom(gw.url.clone()))
        .basic("user", "pw")
        .build()
        .unwrap();
    call(&basic).await.unwrap();
    let query = ApiClient::builder(presets::custom(gw.url.clone()))
        .api_key_query("apikey", "q-key")
        .build()
        .unwrap();
    call(&query).await.unwrap();
    let api = gw.state.api();
    assert_eq!(
        api[0].header("authorization").as_deref(),
        Some("Bearer static-token")
    );
    assert_eq!(
        api[1].header("authorization").as_deref(),
        Some("Basic dXNlcjpwdw==")
    );
    assert_eq!(api[2].query.as_deref(), Some("apikey=q-key"));
}
