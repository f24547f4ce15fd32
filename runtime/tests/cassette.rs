//! Record and replay (feature `cassette`) against a loopback gateway that echoes every secret
//! it is sent, in headers, cookies and body: the cassette holds none of them in any encoding
//! and none of the values marked personal; a replaying client answers the same calls with the
//! same results without sending anything, in recorded order, and refuses a call it does not
//! hold with `Error::NotRecorded`.
#![cfg(feature = "cassette")]

mod common;

use std::path::PathBuf;

use axum::response::{IntoResponse, Response};
use base64::Engine;
use common::*;
use gouvgen_runtime::presets::{self, DgfipAccess, Environment};
use gouvgen_runtime::{
    ApiClient, ApiClientBuilder, CallOptions, Error, Method, PersonalFields, Request, Undocumented,
    encode_path,
};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

/// Secrets whose spellings differ under every encoding.
const SECRET: &str = "p@ss w&rd+/=";
const TOKEN_PREFIX: &str = "TOK-p@ss w&rd+/=";
const HEADER_KEY: &str = "HKEY-p@ss w&rd+/=";
const QUERY_KEY: &str = "QKEY-p@ss w&rd+/=";
const FC_TOKEN: &str = "FC-p@ss w&rd+/=";
const KEY: &str = "team key from the environment, 32+ bytes";

const SIREN: &str = "130025265";
const TAX_NUMBER: &str = "1234567890123";
const NAME: &str = "Dupont-Lefèvre";

fn cassette_path(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "gouvgen-cassette-{}-{name}.jsonl",
        std::process::id()
    ))
}

/// Answers with everything it was sent, and a counter, so that replay order shows.
fn echo(req: &Recorded, index: usize) -> Response {
    let h = |n: &str| req.header(n).unwrap_or_default();
    let siren = match req.path.rsplit_once("/entreprises/") {
        Some((_, siren)) => siren.to_owned(),
        None => String::new(),
    };
    let body = serde_json::json!({
        "n": index,
        "siren": siren,
        "nom": NAME,
        "lien": format!("https://example.invalid/entreprises/{siren}"),
        "echo": {
            "authorization": h("authorization"),
            "api_key": h("x-api-key"),
            "france_connect": h("x-franceconnect-oauth"),
            "query": req.query.clone().unwrap_or_default(),
            "body": String::from_utf8_lossy(&req.body),
            "basic": base64::engine::general_purpose::STANDARD.encode(h("authorization")),
        },
    });
    let mut r = ok_json(&body.to_string()).into_response();
    let headers = r.headers_mut();
    let auth = h("authorization");
    headers.insert("set-cookie", format!("session={auth}").parse().unwrap());
    headers.insert("x-echo-authorization", auth.parse().unwrap());
    headers.insert(
        "www-authenticate",
        format!("Bearer realm=\"api\", hint=\"{auth}\"")
            .parse()
            .unwrap(),
    );
    headers.insert("ratelimit-remaining", "41".parse().unwrap());
    headers.insert("x-correlation-id", h("x-correlation-id").parse().unwrap());
    r
}

fn personal() -> PersonalFields {
    PersonalFields::new(KEY)
        .path_params(["siren"])
        .query_params(["numeroFiscal"])
        .json_keys(["nom", "siren"])
}

fn builder(gw: &Gw) -> ApiClientBuilder {
    ApiClient::builder(presets::dgfip(
        DgfipAccess::InternetFranceConnect,
        Environment::Sandbox,
    ))
    .api_root(gw.api_root())
    .token_url(gw.token_url())
    .client_credentials("consumer-key", SECRET)
    .api_key_header("X-Api-Key", HEADER_KEY)
    .api_key_query("apikey", QUERY_KEY)
    .personal_fields(personal())
    .no_rate_limit()
    .no_circuit_breaker()
}

fn get(siren: &str) -> Request {
    Request::new(
        Method::GET,
        "getEntreprise",
        format!("/entreprises/{}", encode_path(&siren)),
    )
    .path_template("/entreprises/{siren}")
    .query("numeroFiscal", &TAX_NUMBER)
    .query("filtre", &"actifs")
}

fn post() -> Request {
    Request::new(Method::POST, "rechercher", "/recherche".into())
        .path_template("/recherche")
        .json(
            "application/json",
            &serde_json::json!({"nom": NAME, "siren": SIREN, "page": 1}),
        )
}

/// The three calls of a session: two identical GETs around a POST.
async fn session(client: &ApiClient) -> Result<Vec<(u16, serde_json::Value)>, Error> {
    let mut out = Vec::new();
    for req in [get(SIREN), post(), get(SIREN)] {
        let r = client.execute::<Undocumented>(req).await?;
        out.push((r.status(), serde_json::from_slice(r.body()).unwrap()));
    }
    Ok(out)
}

fn with_fc(client: ApiClient) -> ApiClient {
    client.with_options(CallOptions::new().france_connect_token(FC_TOKEN))
}

/// Every spelling of `s` a file could hold it in.
fn spellings(s: &str) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    vec![
        s.to_owned(),
        utf8_percent_encode(s, NON_ALPHANUMERIC).to_string(),
        utf8_percent_encode(s, NON_ALPHANUMERIC)
            .to_string()
            .replace("%20", "+"),
        b64.encode(s),
        b64.encode(s).trim_end_matches('=').to_owned(),
        serde_json::to_string(s)
            .unwrap()
            .trim_matches('"')
            .to_owned(),
        // The part of every secret above that survives any encoding but base64.
        "p@ss".to_owned(),
        "p%40ss".to_owned(),
    ]
}

fn assert_clean(text: &str) {
    let secrets = [SECRET, TOKEN_PREFIX, HEADER_KEY, QUERY_KEY, FC_TOKEN, KEY];
    let personal = [SIREN, TAX_NUMBER, NAME];
    for value in secrets.iter().chain(&personal) {
        for needle in spellings(value) {
            assert!(
                !text.contains(&needle),
                "`{needle}` is in the cassette:\n{text}"
            );
        }
    }
    // The whole `Authorization` value, base64-encoded (the gateway echoes it so).
    for n in 1..=3 {
        let header = format!("Bearer {TOKEN_PREFIX}-{n}");
        let b64 = base64::engine::general_purpose::STANDARD.encode(&header);
        assert!(!text.contains(&b64), "`{b64}` is in the cassette:\n{text}");
    }
    let lower = text.to_ascii_lowercase();
    for header in [
        "set-cookie",
        "session=",
        "x-echo-authorization",
        "bearer tok",
        "x-api-key\"",
    ] {
        assert!(
            !lower.contains(header),
            "`{header}` is in the cassette:\n{text}"
        );
    }
}

#[tokio::test]
async fn recorded_calls_replay_offline_with_no_secret_or_personal_value_in_the_file() {
    let knobs = Knobs {
        token_prefix: TOKEN_PREFIX.into(),
        ..Knobs::default()
    };
    let gw = gateway_with(knobs, echo).await;
    let path = cassette_path("roundtrip");
    let recorder = with_fc(builder(&gw).record_to(&path).build().unwrap());
    let live = session(&recorder).await.unwrap();
    assert_eq!(gw.state.token_count(), 1);
    assert_eq!(gw.state.api_count(), 3);
    let echoed = live[0].1["echo"]["authorization"].as_str().unwrap();
    assert!(
        echoed.contains(TOKEN_PREFIX),
        "the gateway did echo the token: {echoed}"
    );

    let text = std::fs::read_to_string(&path).unwrap();
    assert_clean(&text);
    assert_eq!(
        text.lines().count(),
        4,
        "a header line and one line per call:\n{text}"
    );
    assert!(text.contains("<siren:") && text.contains("<nom:") && text.contains("<numeroFiscal:"));
    assert!(
        text.contains("[REDACTED]"),
        "echoed secrets are redacted:\n{text}"
    );
    assert!(text.contains(r#"["ratelimit-remaining","41"]"#), "{text}");
    assert!(
        text.contains(r#"["x-correlation-id","<correlation-id>"]"#),
        "{text}"
    );

    // Replay: pointed at the same gateway, which must see nothing more.
    let player = with_fc(builder(&gw).replay_from(&path).build().unwrap());
    let replayed = session(&player).await.unwrap();
    assert_eq!(gw.state.token_count(), 1, "no token request in replay");
    assert_eq!(gw.state.api_count(), 3, "no API request in replay");
    for ((ls, lb), (rs, rb)) in live.iter().zip(&replayed) {
        assert_eq!(ls, rs);
        assert_eq!(
            lb["n"], rb["n"],
            "identical calls answered in recorded order"
        );
        assert_eq!(
            lb["siren"], rb["siren"],
            "a value the call sent is put back"
        );
        assert_eq!(lb["lien"], rb["lien"]);
        assert_eq!(lb["echo"]["body"], rb["echo"]["body"], "and in free text");
    }
    assert!(live[1].1["echo"]["body"].as_str().unwrap().contains(NAME));
    assert_eq!(replayed[0].1["siren"], SIREN);
    let nom = replayed[0].1["nom"].as_str().unwrap();
    assert!(
        nom.starts_with("<nom:"),
        "a value only the gateway sent stays hidden: {nom}"
    );

    // A third identical GET: the cassette held two.
    let err = player
        .execute::<Undocumented>(get(SIREN))
        .await
        .unwrap_err();
    let Error::NotRecorded(miss) = &err else {
        panic!("expected NotRecorded, got {err:?}")
    };
    assert_eq!(miss.recorded, 2);
    assert_eq!(miss.operation_id, "getEntreprise");
    // Another company: never recorded; the error names the template, not the value.
    let err = player
        .execute::<Undocumented>(get("552100554"))
        .await
        .unwrap_err();
    let Error::NotRecorded(miss) = &err else {
        panic!("expected NotRecorded, got {err:?}")
    };
    assert_eq!(miss.recorded, 0);
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("getEntreprise") && shown.contains("/entreprises/{siren}"),
        "{shown}"
    );
    assert!(
        !shown.contains("552100554") && !shown.contains(TAX_NUMBER),
        "{shown}"
    );
    assert_eq!(gw.state.api_count(), 3);
    std::fs::remove_file(&path).ok();
}

#[tokio::test]
async fn the_same_calls_record_the_same_bytes_and_concurrent_calls_whole_lines() {
    let (a, b) = (cassette_path("det-a"), cassette_path("det-b"));
    for path in [&a, &b] {
        // A fresh gateway each time: other tokens, other correlation IDs, same cassette.
        let gw = gateway_with(
            Knobs {
                token_prefix: TOKEN_PREFIX.into(),
                ..Knobs::default()
            },
            echo,
        )
        .await;
        let client = with_fc(builder(&gw).record_to(path).build().unwrap());
        session(&client).await.unwrap();
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());

    let gw = gateway(echo).await;
    let path = cassette_path("concurrent");
    let client = builder(&gw).record_to(&path).build().unwrap();
    let calls = (0..64).map(|_| {
        let c = client.clone();
        tokio::spawn(async move {
            c.execute::<Undocumented>(get(SIREN))
                .await
                .map(|r| r.status())
        })
    });
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap(), 200);
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 65);
    for line in text.lines() {
        serde_json::from_str::<serde_json::Value>(line).expect("every line is whole JSON");
    }
    for p in [a, b, path] {
        std::fs::remove_file(p).ok();
    }
}

#[tokio::test]
async fn replay_refuses_another_key_and_a_cut_off_cassette() {
    let gw = gateway(echo).await;
    let path = cassette_path("refusals");
    let client = builder(&gw).record_to(&path).build().unwrap();
    session(&client).await.unwrap();

    let other = PersonalFields::new("another key of sixteen bytes or more").path_params(["siren"]);
    let err = builder(&gw)
        .personal_fields(other)
        .replay_from(&path)
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidConfig { message } if message.contains("personal-data key")),
        "{err}"
    );

    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen(r#""status":200"#, r#""status":0"#, 1)).unwrap();
    let err = builder(&gw).replay_from(&path).build().unwrap_err();
    assert!(
        matches!(&err, Error::InvalidConfig { message } if message.contains("line 2: a status")),
        "{err}"
    );
    std::fs::write(&path, &text[..text.len() - 10]).unwrap();
    let err = builder(&gw).replay_from(&path).build().unwrap_err();
    assert!(
        matches!(&err, Error::InvalidConfig { message } if message.contains("line 4")),
        "{err}"
    );

    let short = PersonalFields::new("short").path_params(["siren"]);
    let err = builder(&gw)
        .personal_fields(short)
        .record_to(&path)
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidConfig { .. }), "{err}");
    std::fs::remove_file(&path).ok();
}

/// A token refused mid-session: the client refreshes it and retries. The refusal is not
/// written (a replaying client has no token to refuse); the answer to the retry is, and the
/// replay gets it at once.
#[tokio::test]
async fn a_refused_token_is_left_out_and_the_retry_is_replayed() {
    let gw = gateway(|req, index| {
        if index == 0 {
            return status(
                401,
                &[(
                    "www-authenticate",
                    r#"Bearer error="invalid_token""#.to_owned(),
                )],
                "",
            );
        }
        echo(req, index)
    })
    .await;
    let path = cassette_path("refresh");
    let recorder = builder(&gw).record_to(&path).build().unwrap();
    let live = recorder.execute::<Undocumented>(get(SIREN)).await.unwrap();
    assert_eq!(live.status(), 200);
    assert_eq!(gw.state.token_count(), 2, "refreshed once");
    assert_eq!(gw.state.api_count(), 2, "and retried once");
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text.lines().count(),
        2,
        "only the answer to the retry:\n{text}"
    );
    assert!(!text.contains("invalid_token"), "{text}");

    let player = builder(&gw).replay_from(&path).build().unwrap();
    let replayed = player.execute::<Undocumented>(get(SIREN)).await.unwrap();
    assert_eq!(replayed.status(), 200);
    let n = |r: &gouvgen_runtime::RawResponse| {
        serde_json::from_slice::<serde_json::Value>(r.body()).unwrap()["n"].clone()
    };
    assert_eq!(n(&replayed), n(&live));
    assert_eq!(n(&live), 1, "the answer after the refusal");
}
