//! Requests are checked against the document: a missing required parameter, a value of the
//! wrong type, or a body that does not match its schema gets a 400 in the gateway's error
//! format, naming the parameter or the JSON pointer; valid requests get the example.

use gouvgen_emulator::{Emulator, GatewayConfig};
use reqwest::Client;
use serde_json::{Value, json};

const DOC: &str = r##"{
  "openapi": "3.0.1",
  "info": {"title": "v", "version": "1"},
  "servers": [{"url": "https://gw/v/1"}],
  "security": [],
  "paths": {
    "/annees/{annee}": {
      "get": {
        "operationId": "lire",
        "parameters": [
          {"name": "annee", "in": "path", "required": true, "schema": {"type": "integer"}},
          {"name": "detail", "in": "query", "required": true, "schema": {"type": "boolean"}},
          {"name": "X-Origine", "in": "header", "required": true, "schema": {"type": "string", "enum": ["web", "batch"]}}
        ],
        "responses": {"200": {"description": "ok", "content": {"application/json": {"example": {"ok": true}}}}}
      }
    },
    "/notes": {
      "post": {
        "operationId": "creer",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Note"}}}},
        "responses": {"201": {"description": "créée", "content": {"application/json": {"example": {"id": 1}}}}}
      }
    }
  },
  "components": {"schemas": {"Note": {
    "type": "object", "required": ["texte"],
    "properties": {"texte": {"type": "string"}, "lignes": {"type": "array", "items": {"$ref": "#/components/schemas/Ligne"}}}
  }, "Ligne": {"type": "object", "properties": {"montant": {"type": "number"}}}}}
}"##;

async fn start(config: GatewayConfig) -> Emulator {
    let path =
        std::env::temp_dir().join(format!("gouvgen-validation-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&path, DOC).unwrap();
    let emu = Emulator::start(config.mount_spec(&path)).await;
    std::fs::remove_file(&path).ok();
    emu
}

async fn get(emu: &Emulator, path: &str, origin: Option<&str>) -> (u16, Value) {
    let mut request = Client::new()
        .get(format!("{}/v/1{path}", emu.base_url()))
        .header("X-Correlation-ID", uuid::Uuid::new_v4().to_string());
    if let Some(o) = origin {
        request = request.header("X-Origine", o);
    }
    let r = request.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn parameters_are_required_and_typed_with_the_gateway_error_format() {
    let emu = start(GatewayConfig::dgfip()).await;
    assert_eq!(
        get(&emu, "/annees/2024?detail=true", Some("web")).await,
        (200, json!({"ok": true}))
    );
    let (status, body) = get(&emu, "/annees/deux-mille?detail=true", Some("web")).await;
    assert_eq!(status, 400);
    assert_eq!(body["erreur"]["code"], 102511, "{body}");
    let message = body["erreur"]["message"].as_str().unwrap();
    assert!(
        message.contains("path parameter `annee`: expected integer"),
        "{message}"
    );
    let (status, body) = get(&emu, "/annees/2024", Some("web")).await;
    assert_eq!(status, 400);
    assert!(
        body.to_string()
            .contains("required query parameter `detail` is missing"),
        "{body}"
    );
    let (_, body) = get(&emu, "/annees/2024?detail=oui", Some("web")).await;
    assert!(
        body.to_string()
            .contains("query parameter `detail`: expected boolean"),
        "{body}"
    );
    let (_, body) = get(&emu, "/annees/2024?detail=true", None).await;
    assert!(
        body.to_string()
            .contains("header parameter `X-Origine` is missing"),
        "{body}"
    );
    let (_, body) = get(&emu, "/annees/2024?detail=true", Some("mobile")).await;
    assert!(
        body.to_string()
            .contains("`X-Origine`: not one of the documented values"),
        "{body}"
    );
}

#[tokio::test]
async fn bodies_are_checked_against_the_schema_with_a_json_pointer() {
    let emu = start(GatewayConfig::api_entreprise()).await;
    let post = |body: Option<Value>| {
        let mut r = Client::new().post(format!("{}/v/1/notes", emu.base_url()));
        if let Some(b) = body {
            r = r.json(&b);
        }
        async move {
            let r = r.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    assert_eq!(
        post(Some(json!({"texte": "a", "lignes": [{"montant": 1.5}]})))
            .await
            .0,
        201
    );
    let (status, body) = post(Some(json!({"texte": "a", "lignes": [{"montant": "1,5"}]}))).await;
    assert_eq!(status, 400);
    // API Entreprise format: {"errors": [{"code", "title", "detail", ...}]}.
    let detail = body["errors"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("`/lignes/0/montant`: expected number"),
        "{detail}"
    );
    let (_, body) = post(Some(json!({"lignes": []}))).await;
    assert!(
        body.to_string()
            .contains("`/texte`: required property is missing"),
        "{body}"
    );
    let (_, body) = post(None).await;
    assert!(
        body.to_string().contains("the request body is required"),
        "{body}"
    );
}
