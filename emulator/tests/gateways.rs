//! The emulator's gateways, driven with plain reqwest: token grants and refusals, expiry,
//! credentials on API calls, DGFiP correlation IDs.

mod support;

use std::time::Duration;

use gouvgen_emulator::{Emulator, GatewayConfig, jwt_exp};
use serde_json::{Value, json};

use support::*;

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

    dgfip_revoke(&emu, &token).await;
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
    dgfip_revoke(&emu, &first).await;
    let second = dgfip_token(&emu, "RessourceIR").await;
    assert_ne!(second, first, "a fresh token once the old one is revoked");
    assert_eq!(dgfip_call(&emu, &second).await.status(), 200);
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
    assert_id_echoed(&http(), &url, &token, &uuid()).await;
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

    let emu = Emulator::start(particulier()).await;
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
