//! The build-time client against a loopback server: typed body, typed documented error,
//! correlation ID sent, bearer sent.

use std::sync::{Arc, Mutex};

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use gouvgen_build_demo::annuaire::{Client, errors::LireOrganismeError, types};
use gouvgen_runtime::{ApiClient, presets};

type Seen = Arc<Mutex<Vec<(String, Option<String>, Option<String>)>>>;

async fn server() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let record = seen.clone();
    let app = Router::new().route(
        "/annuaire/v1/organismes/{siret}",
        get(move |Path(siret): Path<String>, headers: HeaderMap| {
            let record = record.clone();
            async move {
                let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
                record.lock().unwrap().push((siret.clone(), h("authorization"), h("x-correlation-id")));
                if siret == "13002526500013" {
                    (StatusCode::OK, Json(gouvgen_runtime::serde_json::json!({"siret": siret, "nom": "DINUM", "categorie": "administration", "creation": "2019-10-25"})))
                } else {
                    (StatusCode::NOT_FOUND, Json(gouvgen_runtime::serde_json::json!({"code": "E404", "message": "SIRET inconnu"})))
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn generated_at_build_time_and_calls_a_loopback_server() {
    let (url, seen) = server().await;
    let runtime = ApiClient::builder(presets::custom(url))
        .bearer("jeton-de-test")
        .build()
        .unwrap();
    let client = Client::new(runtime);

    let found = client.lire_organisme("13002526500013").await.unwrap();
    let organisme: &types::Organisme = found.body();
    assert_eq!(organisme.nom, "DINUM");
    assert_eq!(
        organisme.categorie,
        Some(types::StructureCategorie::Administration)
    );
    assert_eq!(
        organisme.creation.map(|d| d.to_string()).as_deref(),
        Some("2019-10-25")
    );

    let missing = client.lire_organisme("00000000000000").await.unwrap_err();
    assert_eq!(
        missing.status(),
        Some(404),
        "the status is on the error, not in the variant"
    );
    match missing.documented() {
        Some(LireOrganismeError::Erreur(e)) => assert_eq!(e.code.as_deref(), Some("E404")),
        other => panic!("expected the documented 404 body, got {other:?}"),
    }

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].1.as_deref(), Some("Bearer jeton-de-test"));
    let ids: Vec<&str> = seen.iter().filter_map(|s| s.2.as_deref()).collect();
    assert_eq!(ids.len(), 2, "every call carries an X-Correlation-ID");
    assert_ne!(ids[0], ids[1]);
    assert_eq!(missing.correlation_id(), Some(ids[1]));
}
