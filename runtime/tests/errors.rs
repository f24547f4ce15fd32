//! Every error format decoded into the typed error, with the correlation IDs.

mod common;

use std::time::Duration;

use common::*;
use gouvgen_runtime::error::Dialect;
use gouvgen_runtime::presets;
use gouvgen_runtime::{ApiClient, Error, Method, Request, RetryPolicy, Undocumented};

fn client(gw: &Gw) -> ApiClient {
    ApiClient::builder(presets::custom(gw.url.clone()))
        .bearer("t")
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap()
}

async fn error_for(
    code: u16,
    headers: Vec<(&'static str, String)>,
    body: &'static str,
) -> (Error, String) {
    let gw = gateway(move |_, _| status(code, &headers, body)).await;
    let c = client(&gw);
    let r = c
        .execute::<Undocumented>(Request::new(Method::GET, "getThing", "/api/x".into()))
        .await
        .unwrap();
    let sent = gw.state.api()[0].header("x-correlation-id").unwrap();
    assert_eq!(r.correlation_id(), sent);
    (r.into_error(), sent)
}

fn json() -> Vec<(&'static str, String)> {
    vec![("content-type", "application/json".into())]
}

#[tokio::test]
async fn dgfip_erreur_with_catalogue_advice() {
    let (err, cid) = error_for(
        403,
        json(),
        r#"{"erreur":{"code":900910,"message":"The access token does not allow you to access the requested resource","horodatage":"2024-03-21T10:00:00+01:00"}}"#,
    )
    .await;
    let Error::Gateway(g) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(g.dialect, Dialect::Dgfip);
    assert_eq!(err.status(), Some(403));
    assert_eq!(err.gateway_code(), Some("900910"));
    assert_eq!(g.timestamp.as_deref(), Some("2024-03-21T10:00:00+01:00"));
    assert_eq!(err.correlation_id(), Some(cid.as_str()));
    assert!(
        err.advice().unwrap().contains("scope"),
        "{:?}",
        err.advice()
    );
    let msg = err.to_string();
    for part in ["403", "900910", "does not allow", &cid, "scope"] {
        assert!(msg.contains(part), "{part} missing in {msg}");
    }
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn dgfip_throttling_is_rate_limited_with_retry_after() {
    let mut h = json();
    h.push(("retry-after", "30".into()));
    let (err, _) = error_for(
        429,
        h,
        r#"{"erreur":{"code":"900803","message":"Application level throttle out"}}"#,
    )
    .await;
    assert!(matches!(err, Error::RateLimited(_)));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
    assert!(err.is_retryable());
    assert!(err.to_string().contains("retry after 30 s"), "{err}");
}

#[tokio::test]
async fn oauth2_error_body() {
    let (err, _) = error_for(
        400,
        json(),
        r#"{"error":"invalid_request","error_description":"missing parameter siren"}"#,
    )
    .await;
    assert_eq!(err.gateway_code(), Some("invalid_request"));
    assert_eq!(err.gateway_message(), Some("missing parameter siren"));
    assert_eq!(err.gateway_error().unwrap().dialect, Dialect::OAuth2);
}

#[tokio::test]
async fn rfc6750_www_authenticate_header() {
    let (err, cid) = error_for(
        403,
        vec![(
            "www-authenticate",
            r#"Bearer realm="douane", error="insufficient_scope", error_description="scope openid required""#.into(),
        )],
        "",
    )
    .await;
    assert_eq!(err.gateway_code(), Some("insufficient_scope"));
    assert_eq!(err.gateway_message(), Some("scope openid required"));
    assert_eq!(err.gateway_error().unwrap().dialect, Dialect::Rfc6750);
    assert!(err.to_string().contains(&cid));
}

#[tokio::test]
async fn api_entreprise_errors_array() {
    let (err, _) = error_for(
        422,
        json(),
        r#"{"errors":[{"code":"00301","title":"Entité non traitable","detail":"Le numéro de siret n'est pas correctement formaté","source":{"parameter":"siret"},"meta":{}},{"code":"00302","title":"x","detail":"second"}]}"#,
    )
    .await;
    assert_eq!(err.gateway_code(), Some("00301"));
    assert!(err.gateway_message().unwrap().contains("siret"));
    let g = err.gateway_error().unwrap();
    assert_eq!(g.dialect, Dialect::ApiGouv);
    assert_eq!(g.details.len(), 2);
    assert!(g.details[0].contains("parameter"));
}

#[tokio::test]
async fn piste_messages_array() {
    let (err, _) = error_for(
        404,
        json(),
        r#"{"messages":[{"code":"E404","severity":"ERROR","description":"Texte introuvable"}]}"#,
    )
    .await;
    assert_eq!(err.gateway_code(), Some("E404"));
    assert_eq!(err.gateway_message(), Some("Texte introuvable"));
    assert_eq!(err.gateway_error().unwrap().dialect, Dialect::Piste);
    assert!(err.to_string().contains("ERROR [E404] Texte introuvable"));
}

#[tokio::test]
async fn non_json_body_keeps_raw_text() {
    let (err, cid) = error_for(
        500,
        vec![("content-type", "text/html".into())],
        "<html><body>Internal proxy error</body></html>",
    )
    .await;
    let Error::Gateway(g) = &err else { panic!() };
    assert_eq!(g.dialect, Dialect::Text);
    assert!(g.raw_body.contains("Internal proxy error"));
    assert_eq!(err.correlation_id(), Some(cid.as_str()));
    assert!(err.to_string().contains("HTTP 500"));
}

#[tokio::test]
async fn gateway_correlation_id_is_kept() {
    let gw = gateway(|_, _| {
        status(
            404,
            &[("x-request-id", "gw-req-77".into())],
            r#"{"message":"nope"}"#,
        )
    })
    .await;
    let c = client(&gw);
    let r = c
        .execute::<Undocumented>(Request::new(Method::GET, "op", "/api/x".into()))
        .await
        .unwrap();
    assert_eq!(r.gateway_correlation_id(), Some("gw-req-77"));
    let err: Error = r.into_error();
    assert_eq!(err.gateway_correlation_id(), Some("gw-req-77"));
    assert_eq!(err.gateway_message(), Some("nope"));
    assert!(err.to_string().contains("gw-req-77"));
}

#[derive(Debug, gouvgen_runtime::serde::Deserialize)]
#[serde(crate = "gouvgen_runtime::serde")]
struct NotFoundBody {
    reason: String,
}

#[derive(Debug)]
enum OpError {
    Status404(NotFoundBody),
}

#[tokio::test]
async fn documented_error_is_typed_and_can_be_untyped() {
    let gw = gateway(|_, i| {
        if i == 0 {
            status(404, &json(), r#"{"reason":"unknown spi"}"#)
        } else {
            status(
                404,
                &json(),
                r#"{"erreur":{"code":404,"message":"Not Found"}}"#,
            )
        }
    })
    .await;
    let c = client(&gw);
    let req = || Request::new(Method::GET, "situationIr", "/api/spi/1".into());
    let r = c.execute::<OpError>(req()).await.unwrap();
    let err: Error<OpError> = r.documented_error(OpError::Status404);
    let Some(OpError::Status404(b)) = err.documented() else {
        panic!("{err:?}")
    };
    assert_eq!(b.reason, "unknown spi");
    assert_eq!(err.status(), Some(404));
    assert!(err.correlation_id().is_some());
    let untyped = err.into_untyped();
    assert!(matches!(untyped, Error::Gateway(_)));
    assert!(
        untyped
            .gateway_error()
            .unwrap()
            .raw_body
            .contains("unknown spi")
    );
    // A body that does not match the documented type falls back to into_error().
    let r = c.execute::<OpError>(req()).await.unwrap();
    let err = r.documented_error(OpError::Status404);
    assert!(matches!(err, Error::Gateway(_)));
    assert_eq!(err.gateway_code(), Some("404"));
}

#[derive(Debug)]
enum ThrottledError {
    Quota(NotFoundBody),
}

/// One call answered by `code` with `body`, turned into an error by `RawResponse::rate_limited`.
async fn rate_limited_for(code: u16, body: &'static str) -> Error<ThrottledError> {
    let gw = gateway(move |_, _| status(code, &json(), body)).await;
    let r = client(&gw)
        .execute::<ThrottledError>(Request::new(Method::GET, "quota", "/api/q".into()))
        .await
        .unwrap();
    r.rate_limited(ThrottledError::Quota)
}

#[tokio::test]
async fn documented_429_is_rate_limited_with_its_typed_body() {
    // Longer than RAW_BODY_LIMIT: decoded from the whole body, not the truncated raw text.
    let long = format!(
        r#"{{"pad":"{}","reason":"quota épuisé"}}"#,
        "x".repeat(20_000)
    );
    let err = rate_limited_for(429, Box::leak(long.into_boxed_str())).await;
    assert!(matches!(err, Error::RateLimited(_)), "{err:?}");
    assert!(err.documented().is_none(), "a 429 is never Documented");
    let Some(ThrottledError::Quota(b)) = err.rate_limited_body() else {
        panic!("typed 429 body: {err:?}")
    };
    assert_eq!(b.reason, "quota épuisé");
    assert!(err.is_retryable());
    assert!(
        !format!("{err:?}").contains("quota épuisé"),
        "Debug prints neither the truncated raw body's end nor the typed body"
    );
    // Re-typed, the body is gone rather than read as the wrong type.
    let untyped = err.into_untyped();
    assert!(matches!(untyped, Error::RateLimited(_)));
    assert!(untyped.rate_limited_body().is_none());
    // A body that does not decode: still RateLimited, without a typed body.
    let err = rate_limited_for(429, r#"{"other":"shape"}"#).await;
    assert!(matches!(err, Error::RateLimited(_)));
    assert!(err.rate_limited_body().is_none());
}

#[tokio::test]
async fn rate_limited_on_another_status_is_a_documented_error() {
    let err = rate_limited_for(404, r#"{"reason":"unknown"}"#).await;
    assert!(
        matches!(err.documented(), Some(ThrottledError::Quota(_))),
        "{err:?}"
    );
    assert!(err.rate_limited_body().is_none());
}

#[tokio::test]
async fn undecodable_success_body_is_truncated() {
    let gw = gateway(|_, _| ok_json(&"x".repeat(10_000))).await;
    let c = client(&gw);
    let r = c
        .execute::<Undocumented>(Request::new(Method::GET, "op", "/api/x".into()))
        .await
        .unwrap();
    let err = r.json::<serde_json_value::V, Undocumented>().unwrap_err();
    let Error::UndecodableBody(d) = &err else {
        panic!()
    };
    assert_eq!(d.status, 200);
    assert!(d.raw_body.len() < 2200, "{}", d.raw_body.len());
    assert!(d.raw_body.contains("truncated"));
    assert!(err.correlation_id().is_some());
}

mod serde_json_value {
    pub type V = gouvgen_runtime::serde_json::Value;
}

#[tokio::test]
async fn success_bodies_decode_with_metadata() {
    let gw = gateway(|_, _| ok_json(r#"{"nbPart":2.5}"#)).await;
    let c = client(&gw);
    #[derive(Debug, gouvgen_runtime::serde::Deserialize)]
    #[serde(crate = "gouvgen_runtime::serde")]
    struct Situation {
        #[serde(rename = "nbPart")]
        nb_part: f64,
    }
    let r = c
        .execute::<Undocumented>(Request::new(Method::GET, "op", "/api/x".into()))
        .await
        .unwrap()
        .json::<Situation, Undocumented>()
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.nb_part, 2.5);
    assert!(uuid_like(r.correlation_id()));
    let mapped = r.map(|s| s.nb_part as i64);
    assert_eq!(*mapped.body(), 2);
}

fn uuid_like(s: &str) -> bool {
    gouvgen_runtime::uuid::Uuid::parse_str(s).is_ok()
}

/// The exact shape of a generated method (docs/generated-code-contract.md) compiles and works.
mod generated_shape {
    use gouvgen_runtime as rt;

    #[derive(Debug, rt::serde::Deserialize)]
    #[serde(crate = "gouvgen_runtime::serde")]
    pub struct SituationIr {
        #[serde(rename = "nbPart")]
        pub nb_part: f64,
    }

    #[derive(Debug, rt::serde::Deserialize)]
    #[serde(crate = "gouvgen_runtime::serde")]
    #[allow(dead_code)]
    pub struct Erreur {
        pub erreur: rt::serde_json::Value,
    }

    #[derive(Debug)]
    #[allow(dead_code)]
    pub enum SituationIrError {
        Status404(Erreur),
    }

    pub struct Client {
        pub runtime: rt::ApiClient,
        pub base_path: String,
    }

    impl Client {
        pub async fn situation_ir(
            &self,
            spi: &str,
            annrev: i32,
        ) -> Result<rt::Response<SituationIr>, rt::Error<SituationIrError>> {
            let req = rt::Request::new(
                rt::Method::GET,
                "situationIr",
                format!(
                    "{}/spi/{}/situations/ir/assiettes/annrev/{}",
                    self.base_path,
                    rt::encode_path(&spi),
                    rt::encode_path(&annrev)
                ),
            )
            .accept("application/prs.dgfip.part.situations.ir.assiettes.v1+json")
            .query_opt("opt", None::<&String>)
            .query_array("ids", &[1, 2], false);
            let resp = self.runtime.execute(req).await?;
            match resp.status() {
                200 => resp.json(),
                404 => Err(resp.documented_error(SituationIrError::Status404)),
                _ => Err(resp.into_error()),
            }
        }
    }

    fn assert_send<T: Send>(_: &T) {}

    #[tokio::test]
    async fn generated_method_shape() {
        let gw = super::gateway(|r, _| {
            if r.path.contains("/spi/1%202/") {
                super::ok_json(r#"{"nbPart":1.5}"#)
            } else {
                super::status(404, &super::json(), r#"{"erreur":{"code":404}}"#)
            }
        })
        .await;
        let c = Client {
            runtime: rt::ApiClient::builder(rt::presets::custom(gw.url.clone()))
                .build()
                .unwrap(),
            base_path: "/api/impotparticulier/1.0".into(),
        };
        let fut = c.situation_ir("1 2", 2023);
        assert_send(&fut);
        let ok = fut.await.unwrap();
        assert_eq!(ok.nb_part, 1.5);
        let rec = &gw.state.api()[0];
        assert_eq!(
            rec.path,
            "/api/impotparticulier/1.0/spi/1%202/situations/ir/assiettes/annrev/2023"
        );
        assert_eq!(rec.query.as_deref(), Some("ids=1,2"));
        assert_eq!(
            rec.header("accept").as_deref(),
            Some("application/prs.dgfip.part.situations.ir.assiettes.v1+json")
        );
        let err = c.situation_ir("x", 2023).await.unwrap_err();
        assert!(matches!(
            err.documented(),
            Some(SituationIrError::Status404(_))
        ));
    }
}
