//! The emulator's own behaviour, driven with plain reqwest: token grants and refusals, expiry,
//! DGFiP correlation IDs, quotas and the ban rule, example serving, statistics.

use std::path::PathBuf;
use std::time::Duration;

use gouvgen_emulator::{Emulator, GatewayConfig, jwt_exp};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn http() -> Client {
    Client::new()
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn header<'a>(r: &'a Response, name: &str) -> Option<&'a str> {
    r.headers().get(name).and_then(|v| v.to_str().ok())
}

const SITUATION: &str = "/mini/1.0/spi/1234567890123/situations/ir/assiettes/annrev/2024";

fn dgfip() -> GatewayConfig {
    GatewayConfig::dgfip()
        .client("cle", "secret", &["RessourceIR", "RessourceFicoba"])
        .mount_spec(fixture("mini.yaml"))
}

async fn dgfip_token(emu: &Emulator, scope: &str) -> String {
    let r = http()
        .post(emu.token_url())
        .basic_auth("cle", Some("secret"))
        .form(&[("grant_type", "client_credentials"), ("scope", scope)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn dgfip_call(emu: &Emulator, token: &str) -> Response {
    http()
        .get(format!("{}{SITUATION}", emu.base_url()))
        .bearer_auth(token)
        .header("X-Correlation-ID", uuid())
        .send()
        .await
        .unwrap()
}

// ---------------------------------------------------------------- token endpoints

#[tokio::test]
async fn dgfip_client_credentials_success_and_refusals() {
    let emu = Emulator::start(dgfip().token_lifetime(Duration::from_secs(2))).await;
    let url = emu.token_url();
    assert!(url.ends_with("/token"));

    let r = http()
        .post(&url)
        .basic_auth("cle", Some("secret"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "RessourceIR RessourceFicoba"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        header(&r, "x-correlation-id").is_some(),
        "token answers carry a correlation ID too"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 2);
    assert_eq!(body["scope"], "RessourceIR RessourceFicoba");
    assert!(body["access_token"].as_str().is_some_and(|t| !t.is_empty()));

    // Credentials in the body are not DGFiP's way: no Basic header → 401 invalid_client.
    let r = http()
        .post(&url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "cle"),
            ("client_secret", "secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client");

    let r = http()
        .post(&url)
        .basic_auth("cle", Some("faux"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert!(body["error_description"].is_string());

    let r = http()
        .post(&url)
        .basic_auth("cle", Some("secret"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "RessourceTH"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_scope");

    let r = http()
        .post(&url)
        .basic_auth("cle", Some("secret"))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );

    let r = http()
        .post(&url)
        .basic_auth("cle", Some("secret"))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "a JSON body is not a token request");
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");

    let stats = emu.stats();
    assert_eq!(stats.issued("client_credentials"), 1);
    assert_eq!(stats.token_requests["client_credentials"], 4, "{stats:?}");
    assert_eq!(stats.token_requests["password"], 1);
    assert_eq!(stats.token_refusals, 5);
}

#[tokio::test]
async fn dgfip_revoke_stops_the_token() {
    let emu = Emulator::start(dgfip()).await;
    let token = dgfip_token(&emu, "RessourceIR").await;
    assert_eq!(dgfip_call(&emu, &token).await.status(), 200);

    let r = http()
        .post(emu.revoke_url())
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "revocation needs the Basic header");
    assert_eq!(
        dgfip_call(&emu, &token).await.status(),
        200,
        "a refused revocation revokes nothing"
    );

    let r = http()
        .post(emu.revoke_url())
        .basic_auth("cle", Some("secret"))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = dgfip_call(&emu, &token).await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["erreur"]["code"], 900906);
    assert_eq!(emu.stats().revocations, 1);
}

#[tokio::test]
async fn dgfip_scopes_select_resources() {
    let emu = Emulator::start(dgfip()).await;
    let ficoba = dgfip_token(&emu, "RessourceFicoba").await;
    let r = dgfip_call(&emu, &ficoba).await;
    assert_eq!(r.status(), 403, "the document requires RessourceIR");
    assert_eq!(r.json::<Value>().await.unwrap()["erreur"]["code"], 900910);
    let ir = dgfip_token(&emu, "RessourceIR").await;
    assert_eq!(dgfip_call(&emu, &ir).await.status(), 200);
    let both = dgfip_token(&emu, "RessourceFicoba RessourceIR").await;
    assert_eq!(dgfip_call(&emu, &both).await.status(), 200);
}

#[tokio::test]
async fn piste_client_credentials_in_the_body() {
    let emu = Emulator::start(
        GatewayConfig::piste()
            .client("id", "secret", &["openid"])
            .mount_spec(fixture("mini-swagger.json")),
    )
    .await;
    let url = emu.token_url();
    assert!(url.ends_with("/api/oauth/token"));
    let r = http()
        .post(&url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "id"),
            ("client_secret", "secret"),
            ("scope", "openid"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["scope"], "openid");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);

    let r = http()
        .post(&url)
        .basic_auth("id", Some("secret"))
        .form(&[("grant_type", "client_credentials"), ("scope", "openid")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "PISTE wants the credentials in the body");
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client");
    let r = http()
        .post(&url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "id"),
            ("client_secret", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http()
        .post(&url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "id"),
            ("client_secret", "secret"),
            ("scope", "profile"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_scope");
    // Other gateways' token paths are not served here.
    let r = http()
        .post(format!("{}/oauth2/token", emu.base_url()))
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn douane_password_and_refresh_grants() {
    let emu = Emulator::start(
        GatewayConfig::douane()
            .account("compte", "mdp")
            .mount_spec(fixture("mini.yaml")),
    )
    .await;
    let url = emu.token_url();
    assert!(url.ends_with("/oauth2/token"));
    let password = |client: &'static str, pass: &'static str| {
        http()
            .post(&url)
            .header("Accept", "application/json")
            .form(&[
                ("grant_type", "password"),
                ("client_id", client),
                ("scope", "openid"),
                ("username", "compte"),
                ("password", pass),
            ])
            .send()
    };
    let r = password("gun-api", "mdp").await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["expires_in"], 300,
        "Douane tokens live 5 minutes by default"
    );
    assert_eq!(body["token_type"], "Bearer");
    let id_token = body["id_token"].as_str().unwrap();
    assert_eq!(id_token.split('.').count(), 3, "the ID token is JWT-shaped");
    assert!(jwt_exp(id_token).is_some());
    let access = body["access_token"].as_str().unwrap().to_string();
    let refresh = body["refresh_token"].as_str().unwrap().to_string();

    let r = password("gun-api", "faux").await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");
    let r = password("autre-client", "mdp").await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client");

    let call = |token: String| {
        http()
            .get(format!("{}/mini/1.0/notes/1", emu.base_url()))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(call(access.clone()).await.unwrap().status(), 200);
    emu.expire_all_tokens();
    let r = call(access.clone()).await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        header(&r, "www-authenticate")
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_token");

    let refresh_grant = |token: String| {
        http()
            .post(&url)
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", "gun-api"),
                ("refresh_token", token.as_str()),
            ])
            .send()
    };
    let r = refresh_grant(refresh.clone()).await.unwrap();
    assert_eq!(r.status(), 200);
    let renewed: Value = r.json().await.unwrap();
    let new_access = renewed["access_token"].as_str().unwrap().to_string();
    assert_ne!(new_access, access);
    assert!(renewed["refresh_token"].is_string());
    assert_eq!(call(new_access).await.unwrap().status(), 200);

    let r = refresh_grant("inconnu".into()).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");
    emu.expire_refresh_tokens();
    let r = refresh_grant(refresh).await.unwrap();
    assert_eq!(r.status(), 400, "an expired refresh token is refused");
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");

    let stats = emu.stats();
    assert_eq!(stats.issued("password"), 1);
    assert_eq!(stats.issued("refresh_token"), 1);
    assert_eq!(stats.token_refusals, 4);
    assert_eq!(stats.unauthorized, 1);
}

// ---------------------------------------------------------------- credentials on API calls

#[tokio::test]
async fn expiry_and_bad_credentials_get_401_with_the_challenge() {
    let emu = Emulator::start(dgfip().token_lifetime(Duration::from_millis(1000))).await;
    let token = dgfip_token(&emu, "RessourceIR").await;
    assert_eq!(dgfip_call(&emu, &token).await.status(), 200);
    emu.advance_clock(Duration::from_millis(1100));
    let r = dgfip_call(&emu, &token).await;
    assert_eq!(r.status(), 401);
    assert!(
        header(&r, "www-authenticate")
            .unwrap()
            .starts_with("Bearer ")
    );
    assert!(
        header(&r, "www-authenticate")
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["erreur"]["code"], 900906);
    assert!(body["erreur"]["horodatage"].is_string());

    let r = dgfip_call(&emu, "jeton-inconnu").await;
    assert_eq!(r.status(), 401);
    assert!(
        header(&r, "www-authenticate")
            .unwrap()
            .contains("error=\"invalid_token\"")
    );
    assert_eq!(r.json::<Value>().await.unwrap()["erreur"]["code"], 900901);

    let url = format!("{}{SITUATION}", emu.base_url());
    let r = http()
        .get(&url)
        .header("X-Correlation-ID", uuid())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        !header(&r, "www-authenticate").unwrap().contains("error="),
        "RFC 6750 §3.1: no error code without credentials"
    );
    assert_eq!(r.json::<Value>().await.unwrap()["erreur"]["code"], 900902);

    let r = http()
        .get(&url)
        .basic_auth("cle", Some("secret"))
        .header("X-Correlation-ID", uuid())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["erreur"]["code"], 900905);

    // expire_all_tokens works at once, without waiting for the lifetime.
    let fresh = dgfip_token(&emu, "RessourceIR").await;
    assert_eq!(dgfip_call(&emu, &fresh).await.status(), 200);
    emu.expire_all_tokens();
    assert_eq!(dgfip_call(&emu, &fresh).await.status(), 401);
    assert_eq!(emu.stats().unauthorized, 5);
}

#[tokio::test]
async fn dgfip_requires_a_uuid_correlation_id() {
    let emu = Emulator::start(dgfip()).await;
    let token = dgfip_token(&emu, "RessourceIR").await;
    let url = format!("{}{SITUATION}", emu.base_url());

    let r = http().get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        header(&r, "x-correlation-id").is_some_and(|id| uuid::Uuid::parse_str(id).is_ok()),
        "a fresh ID is still sent back"
    );
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["erreur"]["code"], 102511);
    assert!(
        body["erreur"]["message"]
            .as_str()
            .unwrap()
            .contains("X-Correlation-ID")
    );
    assert!(chrono_like(body["erreur"]["horodatage"].as_str().unwrap()));

    for bad in ["pas-un-uuid", "0123456789abcdef0123456789abcdef", ""] {
        let r = http()
            .get(&url)
            .bearer_auth(&token)
            .header("X-Correlation-ID", bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad:?}");
        assert_eq!(
            header(&r, "x-correlation-id"),
            Some(bad),
            "the ID is echoed"
        );
        assert_eq!(r.json::<Value>().await.unwrap()["erreur"]["code"], 102511);
    }
    let id = uuid();
    let r = http()
        .get(&url)
        .bearer_auth(&token)
        .header("X-Correlation-ID", &id)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-correlation-id"), Some(id.as_str()));
    assert_eq!(emu.stats().correlation_refusals, 4);
}

fn chrono_like(s: &str) -> bool {
    // 2019-03-21T10:00:00+01:00
    s.len() >= 25
        && s.as_bytes()[10] == b'T'
        && (s.contains('+') || s.ends_with('Z') || s[19..].contains('-'))
}

#[tokio::test]
async fn long_lived_jwts_and_api_keys() {
    let good = gouvgen_emulator::jwt(Duration::from_secs(3600));
    let stale = gouvgen_emulator::jwt(Duration::ZERO);
    assert!(jwt_exp(&good).unwrap() >= jwt_exp(&stale).unwrap() + 3600);
    let emu = Emulator::start(
        GatewayConfig::api_entreprise()
            .bearer(&good)
            .bearer(&stale)
            .mount_spec(fixture("mini.yaml")),
    )
    .await;
    let url = format!("{}/mini/1.0/notes/1", emu.base_url());
    assert_eq!(
        http()
            .get(&url)
            .bearer_auth(&good)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    for token in [stale.as_str(), "inconnu"] {
        let r = http().get(&url).bearer_auth(token).send().await.unwrap();
        assert_eq!(r.status(), 401);
        assert!(
            header(&r, "www-authenticate")
                .unwrap()
                .contains("invalid_token")
        );
        assert_eq!(
            r.json::<Value>().await.unwrap()["errors"][0]["code"],
            "00101"
        );
    }
    let r = http()
        .post(emu.token_url())
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "API Entreprise has no token endpoint");
    emu.expire_all_tokens();
    assert_eq!(
        http()
            .get(&url)
            .bearer_auth(&good)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    let emu = Emulator::start(
        GatewayConfig::api_particulier()
            .api_key("X-Api-Key", "cle")
            .mount_spec(fixture("mini.yaml")),
    )
    .await;
    let url = format!("{}/mini/1.0/notes/1", emu.base_url());
    assert_eq!(
        http()
            .get(&url)
            .header("X-Api-Key", "cle")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        http()
            .get(&url)
            .header("X-Api-Key", "autre")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(http().get(&url).send().await.unwrap().status(), 401);
}

#[tokio::test]
async fn piste_key_id_and_rate_limit_header() {
    let emu = Emulator::start(
        GatewayConfig::piste()
            .client("id", "secret", &["openid"])
            .api_key("KeyId", "cle")
            .rate_limit(5, Duration::from_secs(1))
            .mount_spec(fixture("mini-swagger.json")),
    )
    .await;
    let url = format!("{}/dila/mini/v1/codes/LEGITEXT1", emu.base_url());
    let r = http()
        .get(&url)
        .header("KeyId", "cle")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "API-key mode");
    let limits: Value = serde_json::from_str(header(&r, "x-rate-limit").unwrap()).unwrap();
    assert_eq!(limits[0]["remaining"], 4);
    assert_eq!(limits[0]["window"], 1000);
    let r = http()
        .get(&url)
        .header("KeyId", "fausse")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // A bearer token, when present, must be valid even next to a good key.
    let r = http()
        .get(&url)
        .header("KeyId", "cle")
        .bearer_auth("inconnu")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_token");
}

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

// ---------------------------------------------------------------- examples

#[tokio::test]
async fn serves_examples_by_path_template() {
    let emu = Emulator::start(
        GatewayConfig::api_particulier()
            .api_key("X-Api-Key", "cle")
            .mount_spec(fixture("mini.yaml")),
    )
    .await;
    let base = emu.base_url();
    let get = |path: &str| {
        http()
            .get(format!("{base}{path}"))
            .header("X-Api-Key", "cle")
    };

    let r = get(SITUATION).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "content-type"),
        Some("application/prs.dgfip.part.situations.ir.assiettes.v1+json")
    );
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"nbPart": 2.5, "nmNaDec1": "MARTIN", "pac": {"nbPac": 1}})
    );

    let r = get(SITUATION)
        .header("Accept", "application/xml")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "content-type"), Some("application/xml"));
    assert_eq!(
        r.text().await.unwrap(),
        "<situation><nbPart>2.5</nbPart></situation>"
    );

    let r = get("/mini/1.0/spi/1/situations/ir/assiettes/annrev/derniere")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"derniere": true}),
        "a literal path wins over a template"
    );

    let r = get("/mini/1.0/documents/avis-2024.pdf")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&r, "content-type"), Some("application/pdf"));
    assert_eq!(r.text().await.unwrap(), "%PDF-1.4 faux");

    let r = http()
        .post(format!("{base}/mini/1.0/notes"))
        .header("X-Api-Key", "cle")
        .json(&json!({"texte": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "YAML integer status keys are read");
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"id": 1, "texte": "bonjour"}),
        "the schema's example through $ref"
    );

    let r = http()
        .delete(format!("{base}/mini/1.0/notes/5"))
        .header("X-Api-Key", "cle")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(header(&r, "content-type").is_none());
    assert!(r.bytes().await.unwrap().is_empty());

    let r = get("/mini/1.0/notes/5").send().await.unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"id": 5, "texte": "clé a/b"}),
        "$ref with ~1 resolved"
    );

    let r = http()
        .get(format!("{base}/mini/1.0/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "security: [] needs no credentials");
    assert_eq!(r.text().await.unwrap(), "OK");

    let r = get("/spi/1/situations/ir/assiettes/annrev/2024")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "operations live under the base path only");
    assert_eq!(
        r.json::<Value>().await.unwrap()["errors"][0]["code"],
        "00404"
    );
    let r = http()
        .put(format!("{base}{SITUATION}"))
        .header("X-Api-Key", "cle")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let r = get("/mini/1.0/spi/1/situations").send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(
        emu.operations().contains(
            &"GET /mini/1.0/spi/{spi}/situations/ir/assiettes/annrev/{annrev}".to_string()
        ),
        "{:?}",
        emu.operations()
    );
}

#[tokio::test]
async fn documented_errors_on_demand() {
    let emu = Emulator::start(
        GatewayConfig::api_particulier()
            .api_key("X-Api-Key", "cle")
            .mount_spec(fixture("mini.yaml")),
    )
    .await;
    let url = format!("{}{SITUATION}", emu.base_url());
    let get = |status: &str| {
        http()
            .get(&url)
            .header("X-Api-Key", "cle")
            .header("X-Emulator-Status", status)
    };

    let r = get("404").send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"erreur": {"code": 404, "message": "spi inconnu"}}),
        "through #/components/responses"
    );

    let r = get("400").send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["erreur"]["code"],
        102511,
        "first example, through #/components/examples"
    );
    let r = get("400")
        .header("X-Emulator-Example", "annee")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["erreur"]["code"],
        102512,
        "named example"
    );
    let r = get("400")
        .header("X-Emulator-Example", "absent")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert!(header(&r, "x-emulator-error").is_some());

    let r = get("429").send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(
        header(&r, "retry-after"),
        Some("7"),
        "documented header example"
    );

    let r = get("503").send().await.unwrap();
    assert_eq!(r.status(), 503, "undocumented: the gateway's own body");
    assert_eq!(
        r.json::<Value>().await.unwrap()["errors"][0]["code"],
        "00503"
    );

    let stats = emu.stats();
    assert_eq!(stats.throttled, 0, "asked-for 429s are not quota refusals");
    assert_eq!(stats.api_successes, 0);
}

#[tokio::test]
async fn swagger2_documents() {
    let emu = Emulator::start(
        GatewayConfig::piste()
            .api_key("KeyId", "cle")
            .mount_spec(fixture("mini-swagger.json")),
    )
    .await;
    let get = |path: &str| {
        http()
            .get(format!("{}/dila/mini/v1{path}", emu.base_url()))
            .header("KeyId", "cle")
    };
    let r = get("/codes/LEGITEXT1").send().await.unwrap();
    assert_eq!(header(&r, "content-type"), Some("application/json"));
    assert_eq!(header(&r, "x-rate-limit"), Some("[]"));
    assert_eq!(r.json::<Value>().await.unwrap()["titre"], "Code civil");
    let r = get("/codes/X")
        .header("X-Emulator-Status", "404")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<Value>().await.unwrap()["messages"][0]["code"],
        "E404",
        "schema example through #/definitions"
    );
    let r = get("/ping").send().await.unwrap();
    assert_eq!(header(&r, "content-type"), Some("text/plain"));
    assert_eq!(r.text().await.unwrap(), "pong");
}

#[tokio::test]
async fn unreadable_documents_are_reported() {
    let err = Emulator::try_start(GatewayConfig::dgfip().mount_spec(fixture("absent.yaml")))
        .await
        .unwrap_err();
    assert!(err.contains("absent.yaml"), "{err}");
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
                let r = client
                    .get(&url)
                    .bearer_auth(&token)
                    .header("X-Correlation-ID", &id)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
                assert_eq!(header(&r, "x-correlation-id"), Some(id.as_str()));
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

#[tokio::test]
async fn dgfip_hands_back_the_same_token_until_it_is_revoked() {
    let emu = Emulator::start(dgfip()).await;
    let first = dgfip_token(&emu, "RessourceIR").await;
    assert_eq!(dgfip_token(&emu, "RessourceIR").await, first, "same token");
    // The gateway stops accepting it (expiry forced), but the token endpoint still hands it back.
    emu.expire_all_tokens();
    assert_eq!(dgfip_call(&emu, &first).await.status(), 401);
    assert_eq!(
        dgfip_token(&emu, "RessourceIR").await,
        first,
        "re-requesting without revoking gets the rejected token again"
    );
    let r = http()
        .post(emu.revoke_url())
        .basic_auth("cle", Some("secret"))
        .form(&[("token", first.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let second = dgfip_token(&emu, "RessourceIR").await;
    assert_ne!(second, first, "a fresh token once the old one is revoked");
    assert_eq!(dgfip_call(&emu, &second).await.status(), 200);
}
