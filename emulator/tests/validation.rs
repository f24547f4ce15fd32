//! Requests are checked against the document: a missing required parameter, a value of the
//! wrong type, or a body that does not match its schema gets a 400 in the gateway's error
//! format, naming the parameter or the JSON pointer; valid requests get the example. Then one
//! test per family of schema keywords (`pattern`, bounds, `multipleOf`, lengths and counts,
//! formats, combinators, `additionalProperties`, enums, integers), on parameters and bodies.

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
    start_with(config, DOC).await
}

async fn start_with(config: GatewayConfig, doc: &str) -> Emulator {
    let path =
        std::env::temp_dir().join(format!("gouvgen-validation-{}.json", uuid::Uuid::new_v4()));
    std::fs::write(&path, doc).unwrap();
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

/// A document with one constraint per parameter and per body property (OpenAPI 3.0: boolean
/// `exclusiveMinimum`/`exclusiveMaximum`).
const KEYWORDS: &str = r##"{
  "openapi": "3.0.3",
  "info": {"title": "k", "version": "1"},
  "servers": [{"url": "https://gw/k/1"}],
  "security": [],
  "paths": {
    "/dossiers/{ref}": {
      "get": {
        "operationId": "lire",
        "parameters": [
          {"name": "ref", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[A-Z]{2}\\d{4}$"}},
          {"name": "taille", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
          {"name": "seuil", "in": "query", "schema": {"type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 1, "exclusiveMaximum": true}},
          {"name": "pas", "in": "query", "schema": {"type": "number", "multipleOf": 0.1}},
          {"name": "nom", "in": "query", "schema": {"type": "string", "minLength": 2, "maxLength": 5}},
          {"name": "jour", "in": "query", "schema": {"type": "string", "format": "date"}},
          {"name": "depuis", "in": "query", "schema": {"type": "string", "format": "date-time"}},
          {"name": "compte", "in": "query", "schema": {"type": "integer", "format": "int32"}},
          {"name": "grand", "in": "query", "schema": {"type": "integer"}},
          {"name": "ids", "in": "query", "schema": {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3, "uniqueItems": true}},
          {"name": "codes", "in": "query", "explode": false, "schema": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}},
          {"name": "inverse", "in": "query", "schema": {"type": "string", "pattern": "(?<=a)b"}},
          {"name": "X-Trace", "in": "header", "schema": {"type": "string", "format": "uuid"}},
          {"name": "X-Mode", "in": "header", "schema": {"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "enum": ["auto"]}]}}
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
  "components": {"schemas": {
    "Note": {
      "type": "object", "additionalProperties": false, "required": ["texte"],
      "properties": {
        "texte": {"type": "string", "minLength": 1, "pattern": "^[^<>]*$"},
        "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": true, "maxItems": 3},
        "meta": {"type": "object", "minProperties": 1, "maxProperties": 2},
        "montant": {"type": "number", "minimum": 0, "maximum": 1000, "multipleOf": 0.01},
        "quantite": {"type": "integer", "format": "int64"},
        "grand": {"type": "integer"},
        "jour": {"type": "string", "format": "date"},
        "depuis": {"type": "string", "format": "date-time"},
        "id": {"type": "string", "format": "uuid"},
        "cible": {"oneOf": [{"$ref": "#/components/schemas/Personne"}, {"$ref": "#/components/schemas/Societe"}]},
        "etiquette": {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "integer"}]},
        "base": {"allOf": [{"type": "object", "required": ["a"]}, {"properties": {"a": {"type": "integer", "minimum": 0}}}]},
        "etat": {"type": "string", "enum": ["ouvert", "clos"]},
        "suite": {"$ref": "#/components/schemas/Note"},
        "compose": {"allOf": [{"$ref": "#/components/schemas/Base"}, {"properties": {"b": {"type": "integer"}}}]}
      }
    },
    "Base": {"type": "object", "additionalProperties": false, "properties": {"a": {"type": "string"}}},
    "Personne": {"type": "object", "required": ["nom"], "properties": {"nom": {"type": "string"}}},
    "Societe": {"type": "object", "required": ["siren"], "properties": {"siren": {"type": "string", "pattern": "^\\d{9}$"}}}
  }}
}"##;

/// OpenAPI 3.1: `exclusiveMinimum`/`exclusiveMaximum` are numbers.
const NUMERIC_BOUNDS: &str = r##"{
  "openapi": "3.1.0",
  "info": {"title": "b", "version": "1"},
  "servers": [{"url": "https://gw/b/1"}],
  "security": [],
  "paths": {
    "/mesures": {
      "post": {
        "operationId": "mesurer",
        "parameters": [
          {"name": "valeur", "in": "query", "required": true, "schema": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10}}
        ],
        "requestBody": {"required": true, "content": {"application/json": {"schema": {
          "type": "object", "properties": {"x": {"type": ["number", "null"], "exclusiveMaximum": 1.5}}
        }}}},
        "responses": {"200": {"description": "ok", "content": {"application/json": {"example": {"ok": true}}}}}
      }
    }
  }
}"##;

/// One call: status and the error message (DGFiP: `erreur.message`), or the body as text.
async fn call(
    emu: &Emulator,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String) {
    let url = format!("{}{path}", emu.base_url());
    let mut request = match method {
        "POST" => Client::new().post(url),
        _ => Client::new().get(url),
    }
    .header("X-Correlation-ID", uuid::Uuid::new_v4().to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if let Some(b) = body {
        request = request
            .header("Content-Type", "application/json")
            .body(b.to_string());
    }
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    let message = body["erreur"]["message"]
        .as_str()
        .map_or_else(|| body.to_string(), str::to_string);
    (status, message)
}

/// A GET of `/dossiers/{path}` with the headers given.
async fn dossier(emu: &Emulator, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    call(emu, "GET", &format!("/k/1/dossiers/{path}"), headers, None).await
}

/// A POST of `body` (raw JSON text, so that numbers keep their spelling) to `/notes`.
async fn note(emu: &Emulator, body: &str) -> (u16, String) {
    call(emu, "POST", "/k/1/notes", &[], Some(body)).await
}

/// `got` is a 400 whose message contains `needle`.
fn refused(got: (u16, String), needle: &str) {
    assert_eq!(got.0, 400, "{needle}: {}", got.1);
    assert!(got.1.contains(needle), "expected `{needle}` in: {}", got.1);
}

/// `got` is a 2xx.
fn served(got: (u16, String)) {
    assert!((200..300).contains(&got.0), "{} {}", got.0, got.1);
}

async fn keywords() -> Emulator {
    start_with(GatewayConfig::dgfip(), KEYWORDS).await
}

#[tokio::test]
async fn patterns_are_checked_on_parameters_and_bodies() {
    let emu = keywords().await;
    served(dossier(&emu, "AB1234", &[]).await);
    refused(
        dossier(&emu, "ab12", &[]).await,
        "path parameter `ref`: does not match the pattern `^[A-Z]{2}\\d{4}$`",
    );
    // A pattern the regex crate cannot compile (a look-behind) is skipped, not an error.
    served(dossier(&emu, "AB1234?inverse=zz", &[]).await);
    served(note(&emu, r#"{"texte": "bonjour"}"#).await);
    refused(
        note(&emu, r#"{"texte": "<b>"}"#).await,
        "request body at `/texte`: does not match the pattern",
    );
    refused(
        note(&emu, r#"{"texte": "a", "cible": {"siren": "12"}}"#).await,
        "`/cible/siren`: does not match the pattern",
    );
}

#[tokio::test]
async fn bounds_are_checked_in_both_exclusive_forms() {
    let emu = keywords().await;
    served(dossier(&emu, "AB1234?taille=200&seuil=0.5", &[]).await);
    refused(
        dossier(&emu, "AB1234?taille=0", &[]).await,
        "query parameter `taille`: 0 is below the minimum 1",
    );
    refused(
        dossier(&emu, "AB1234?taille=500", &[]).await,
        "query parameter `taille`: 500 is above the maximum 200",
    );
    refused(
        dossier(&emu, "AB1234?seuil=0", &[]).await,
        "query parameter `seuil`: 0 is not above the exclusive minimum 0",
    );
    refused(
        dossier(&emu, "AB1234?seuil=1", &[]).await,
        "query parameter `seuil`: 1 is not below the exclusive maximum 1",
    );
    refused(
        note(&emu, r#"{"texte": "a", "montant": -1}"#).await,
        "`/montant`: -1 is below the minimum 0",
    );

    let emu = start_with(GatewayConfig::dgfip(), NUMERIC_BOUNDS).await;
    let post = |q: &'static str, body: &'static str| {
        let emu = &emu;
        async move { call(emu, "POST", &format!("/b/1/mesures?{q}"), &[], Some(body)).await }
    };
    served(post("valeur=9", r#"{"x": 1.49}"#).await);
    served(post("valeur=1", r#"{"x": null}"#).await);
    refused(
        post("valeur=0", "{}").await,
        "query parameter `valeur`: 0 is not above the exclusive minimum 0",
    );
    refused(
        post("valeur=10", "{}").await,
        "query parameter `valeur`: 10 is not below the exclusive maximum 10",
    );
    refused(
        post("valeur=5", r#"{"x": 1.5}"#).await,
        "request body at `/x`: 1.5 is not below the exclusive maximum 1.5",
    );
}

#[tokio::test]
async fn multiples_allow_for_float_rounding() {
    let emu = keywords().await;
    // 0.3 / 0.1 is 2.9999999999999996 in floats: a multiple all the same.
    served(dossier(&emu, "AB1234?pas=0.3", &[]).await);
    refused(
        dossier(&emu, "AB1234?pas=0.35", &[]).await,
        "query parameter `pas`: 0.35 is not a multiple of 0.1",
    );
    served(note(&emu, r#"{"texte": "a", "montant": 12.34}"#).await);
    refused(
        note(&emu, r#"{"texte": "a", "montant": 12.345}"#).await,
        "`/montant`: 12.345 is not a multiple of 0.01",
    );
}

#[tokio::test]
async fn lengths_and_counts_are_checked() {
    let emu = keywords().await;
    // Five characters, ten bytes: lengths count characters.
    served(dossier(&emu, "AB1234?nom=%C3%A9%C3%A8%C3%A0%C3%A7%C3%B9", &[]).await);
    refused(
        dossier(&emu, "AB1234?nom=a", &[]).await,
        "query parameter `nom`: 1 characters, fewer than minLength 2",
    );
    refused(
        dossier(&emu, "AB1234?nom=abcdef", &[]).await,
        "query parameter `nom`: 6 characters, more than maxLength 5",
    );
    served(dossier(&emu, "AB1234?ids=1&ids=2&ids=3", &[]).await);
    refused(
        dossier(&emu, "AB1234?ids=1&ids=2&ids=3&ids=4", &[]).await,
        "query parameter `ids`: 4 items, more than maxItems 3",
    );
    refused(
        dossier(&emu, "AB1234?ids=1&ids=1", &[]).await,
        "query parameter `ids`: at `/1`: repeats an earlier item (uniqueItems)",
    );
    served(
        note(
            &emu,
            r#"{"texte": "a", "tags": ["x", "y"], "meta": {"a": 1}}"#,
        )
        .await,
    );
    refused(
        note(&emu, r#"{"texte": ""}"#).await,
        "`/texte`: 0 characters, fewer than minLength 1",
    );
    refused(
        note(&emu, r#"{"texte": "a", "tags": ["x", "y", "x"]}"#).await,
        "`/tags/2`: repeats an earlier item (uniqueItems)",
    );
    refused(
        note(&emu, r#"{"texte": "a", "tags": ["w", "x", "y", "z"]}"#).await,
        "`/tags`: 4 items, more than maxItems 3",
    );
    refused(
        note(&emu, r#"{"texte": "a", "meta": {}}"#).await,
        "`/meta`: 0 properties, fewer than minProperties 1",
    );
    refused(
        note(&emu, r#"{"texte": "a", "meta": {"a": 1, "b": 2, "c": 3}}"#).await,
        "`/meta`: 3 properties, more than maxProperties 2",
    );
}

#[tokio::test]
async fn formats_date_date_time_uuid_and_integer_ranges_are_checked() {
    let emu = keywords().await;
    let trace = ("X-Trace", "6f1c2d3e-4b5a-4c6d-8e7f-000000000001");
    served(
        dossier(
            &emu,
            "AB1234?jour=2024-02-29&depuis=2024-02-29T12:00:00%2B01:00&compte=2147483647",
            &[trace],
        )
        .await,
    );
    refused(
        dossier(&emu, "AB1234?jour=2023-02-29", &[]).await,
        "query parameter `jour`: not a valid `date`",
    );
    refused(
        dossier(&emu, "AB1234?jour=hier", &[]).await,
        "query parameter `jour`: not a valid `date`",
    );
    refused(
        dossier(&emu, "AB1234?depuis=2024-01-01T00:00:00", &[]).await,
        "query parameter `depuis`: not a valid `date-time`",
    );
    refused(
        dossier(&emu, "AB1234?compte=2147483648", &[]).await,
        "query parameter `compte`: 2147483648 is out of the range of its format",
    );
    refused(
        dossier(&emu, "AB1234", &[("X-Trace", "abc")]).await,
        "header parameter `X-Trace`: not a valid `uuid`",
    );
    served(
        note(
            &emu,
            r#"{"texte": "a", "jour": "2024-12-31", "depuis": "2024-12-31T23:59:59.5Z",
                "id": "6F1C2D3E-4B5A-4C6D-8E7F-000000000001", "quantite": 9223372036854775807}"#,
        )
        .await,
    );
    refused(
        note(&emu, r#"{"texte": "a", "jour": "2024-12-31T00:00:00Z"}"#).await,
        "`/jour`: not a valid `date`",
    );
    refused(
        note(
            &emu,
            r#"{"texte": "a", "id": "6f1c2d3e4b5a4c6d8e7f000000000001"}"#,
        )
        .await,
        "`/id`: not a valid `uuid`",
    );
    refused(
        note(&emu, r#"{"texte": "a", "quantite": 9223372036854775808}"#).await,
        "`/quantite`: 9223372036854775808 is out of the range of its format",
    );
}

#[tokio::test]
async fn one_of_any_of_and_all_of_are_checked() {
    let emu = keywords().await;
    served(note(&emu, r#"{"texte": "a", "cible": {"nom": "Martin"}}"#).await);
    served(note(&emu, r#"{"texte": "a", "cible": {"siren": "123456789"}}"#).await);
    refused(
        note(&emu, r#"{"texte": "a", "cible": {}}"#).await,
        "request body at `/cible`: matches none of the `oneOf` schemas (closest: `/cible/siren`: \
         required property is missing)",
    );
    served(note(&emu, r#"{"texte": "a", "etiquette": "abc"}"#).await);
    served(note(&emu, r#"{"texte": "a", "etiquette": 1234}"#).await);
    refused(
        note(&emu, r#"{"texte": "a", "etiquette": "abcd"}"#).await,
        "`/etiquette`: matches none of the `anyOf` schemas",
    );
    served(note(&emu, r#"{"texte": "a", "base": {"a": 1}}"#).await);
    refused(
        note(&emu, r#"{"texte": "a", "base": {}}"#).await,
        "`/base/a`: required property is missing",
    );
    refused(
        note(&emu, r#"{"texte": "a", "base": {"a": -1}}"#).await,
        "`/base/a`: -1 is below the minimum 0",
    );
    // A header whose schema is a `oneOf` of an integer and a string enum.
    served(dossier(&emu, "AB1234", &[("X-Mode", "3")]).await);
    served(dossier(&emu, "AB1234", &[("X-Mode", "auto")]).await);
    refused(
        dossier(&emu, "AB1234", &[("X-Mode", "0")]).await,
        "header parameter `X-Mode`: matches none of the `oneOf` schemas",
    );
}

#[tokio::test]
async fn unknown_properties_are_refused_under_additional_properties_false() {
    let emu = keywords().await;
    served(note(&emu, r#"{"texte": "a", "suite": {"texte": "b"}}"#).await);
    refused(
        note(&emu, r#"{"texte": "a", "inconnu": 1}"#).await,
        "request body at `/inconnu`: property not in the schema (additionalProperties: false)",
    );
    // A part of an `allOf` lets through what its sibling parts declare.
    served(note(&emu, r#"{"texte": "a", "compose": {"a": "x", "b": 1}}"#).await);
    refused(
        note(&emu, r#"{"texte": "a", "compose": {"a": "x", "c": 1}}"#).await,
        "request body at `/compose/c`: property not in the schema (additionalProperties: false)",
    );
    // Through the recursive reference too.
    refused(
        note(&emu, r#"{"texte": "a", "suite": {"texte": "b", "x~y": 1}}"#).await,
        "request body at `/suite/x~0y`: property not in the schema",
    );
}

#[tokio::test]
async fn enums_are_checked_in_bodies_and_array_parameters() {
    let emu = keywords().await;
    served(note(&emu, r#"{"texte": "a", "etat": "clos"}"#).await);
    refused(
        note(&emu, r#"{"texte": "a", "etat": "perdu"}"#).await,
        "request body at `/etat`: not one of the documented values",
    );
    served(dossier(&emu, "AB1234?codes=a,b", &[]).await);
    refused(
        dossier(&emu, "AB1234?codes=a,c", &[]).await,
        "query parameter `codes`: at `/1`: not one of the documented values",
    );
}

#[tokio::test]
async fn integers_may_exceed_64_bits_or_be_written_with_a_zero_fraction() {
    let emu = keywords().await;
    served(dossier(&emu, "AB1234?grand=123456789012345678901234567890", &[]).await);
    served(dossier(&emu, "AB1234?taille=10.0", &[]).await);
    refused(
        dossier(&emu, "AB1234?grand=1.5", &[]).await,
        "query parameter `grand`: expected integer",
    );
    served(
        note(
            &emu,
            r#"{"texte": "a", "grand": 123456789012345678901234567890}"#,
        )
        .await,
    );
    served(note(&emu, r#"{"texte": "a", "quantite": 1.0}"#).await);
    refused(
        note(&emu, r#"{"texte": "a", "grand": 1.5}"#).await,
        "request body at `/grand`: expected integer",
    );
}
