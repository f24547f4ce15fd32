//! The surface's decisions, as data.

use std::path::Path;

use super::*;

fn surface_of(fixture: &str) -> Surface {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(fixture);
    let spec = crate::read_spec(&path).expect("fixture reads");
    build(&spec.api)
}

fn item<'a>(s: &'a Surface, name: &str) -> &'a TypeItem {
    s.types.iter().find(|t| t.name == name).expect(name)
}

fn method<'a>(s: &'a Surface, name: &str) -> &'a Method {
    s.methods.iter().find(|m| m.name == name).expect(name)
}

#[test]
fn required_parameters_are_arguments_optional_ones_builder_methods() {
    let s = surface_of("diff/old.yaml");
    let m = method(&s, "lire_dossier");
    let args: Vec<(&str, String)> = m
        .args
        .iter()
        .map(|a| (a.name.as_str(), a.ty.to_string()))
        .collect();
    assert_eq!(args, [("id", "&str".to_string())]);
    assert_eq!(m.builder, "LireDossierRequest");
    let setters: Vec<&str> = m.setters.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        setters,
        [
            "vue",
            "lang",
            "correlation_id",
            "timeout",
            "retry_policy",
            "header"
        ],
        "no FranceConnect token or traceability object where the operation has none"
    );
    let body = method(&s, "creer_dossier");
    assert_eq!(body.args[0].source, ArgSource::Body);
    assert_eq!(body.args[0].ty.to_string(), "&types::NouveauDossier");
}

#[test]
fn structs_are_non_exhaustive_with_a_constructor_of_the_required_fields() {
    let s = surface_of("diff/old.yaml");
    let TypeItemKind::Struct(d) = &item(&s, "Dossier").kind else {
        panic!("Dossier is a struct")
    };
    assert!(!d.exhaustive);
    let ctor: Vec<&str> = d
        .constructor
        .iter()
        .map(|&i| d.fields[i].name.as_str())
        .collect();
    assert_eq!(ctor, ["id"]);
    assert!(!d.default, "a struct with a required field has no Default");
    let montant = d.fields.iter().find(|f| f.name == "montant").unwrap();
    assert!(montant.omittable);
    assert_eq!(montant.ty.to_string(), "Option<i64>");
    let id = &d.fields[d.constructor[0]];
    assert_eq!(id.arg_ty.to_string(), "impl Into<String>");
    let TypeItemKind::Struct(n) = &item(&s, "NouveauDossier").kind else {
        panic!("NouveauDossier is a struct")
    };
    assert!(n.constructor.is_empty() && n.default);
}

#[test]
fn enums_are_open_and_non_exhaustive() {
    let s = surface_of("diff/old.yaml");
    let TypeItemKind::Enum(e) = &item(&s, "DossierStatut").kind else {
        panic!("an enum")
    };
    assert!(!e.exhaustive);
    assert_eq!(e.unknown, "Unknown");
    let values: Vec<&str> = e.variants.iter().map(|(_, v)| v.as_str()).collect();
    assert_eq!(values, ["ouvert", "clos", "archive"]);
}

#[test]
fn every_operation_has_an_error_type_even_without_documented_bodies() {
    let s = surface_of("diff/old.yaml");
    let ping = method(&s, "ping");
    assert_eq!(ping.error.name, "PingError");
    assert!(ping.error.variants.is_empty());
    assert_eq!(ping.error.rate_limited, None);
    assert_eq!(s.types[0].path, format!("types::{}", s.types[0].name));
}

#[test]
fn one_variant_per_error_body_type_and_429_stays_rate_limited() {
    let s = surface_of("bodies.json");
    for m in &s.methods {
        let mut types: Vec<String> = m.error.variants.iter().map(|v| v.ty.to_string()).collect();
        let n = types.len();
        types.sort();
        types.dedup();
        assert_eq!(types.len(), n, "{}: a body type is one variant", m.name);
        for v in &m.error.variants {
            assert!(
                !v.statuses.contains(&StatusMatch::Code(429)),
                "{}: 429 is never a documented variant",
                m.name
            );
        }
    }
}

#[test]
fn builder_names_do_not_collide_with_per_call_options() {
    let s = surface_of("names.yaml");
    for m in &s.methods {
        let mut names: Vec<&str> = m.setters.iter().map(|s| s.name.as_str()).collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n, "{}: setter names are unique", m.name);
        assert!(!names.contains(&"send"));
        assert!(
            !names.contains(&"change_options"),
            "the per-call macro's own method"
        );
    }
    let renamed = s
        .methods
        .iter()
        .flat_map(|m| &m.setters)
        .any(|s| s.name == "change_options_param");
    assert!(
        renamed,
        "a `change_options` parameter keeps a setter of its own"
    );
}

fn field_names(s: &Surface, name: &str) -> Vec<String> {
    match &item(s, name).kind {
        TypeItemKind::Struct(st) => st.fields.iter().map(|f| f.json_name.clone()).collect(),
        other => panic!("{name} is not a struct: {other:?}"),
    }
}

#[test]
fn tagged_union_variants_leave_the_tag_to_the_union() {
    let s = surface_of("unions.yaml");
    // Chat and Chien exist only as variants of Animal (tagged by `kind`).
    assert_eq!(field_names(&s, "Chat"), ["nom", "griffes"]);
    assert_eq!(field_names(&s, "Chien"), ["nom", "race"]);
    // Base is not a variant: it keeps the property.
    assert_eq!(field_names(&s, "Base"), ["kind", "nom"]);
}

#[test]
fn a_variant_also_used_alone_keeps_its_tag() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alone.yaml");
    std::fs::write(
        &path,
        r##"openapi: 3.0.3
info: { title: t, version: "1" }
paths:
  /chats:
    post:
      operationId: creerChat
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: "#/components/schemas/Chat" }
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Animal" }
components:
  schemas:
    Animal:
      oneOf:
        - { $ref: "#/components/schemas/Chat" }
        - { $ref: "#/components/schemas/Chien" }
      discriminator: { propertyName: kind }
    Chat:
      type: object
      required: [kind]
      properties: { kind: { type: string }, nom: { type: string } }
    Chien:
      type: object
      required: [kind]
      properties: { kind: { type: string }, race: { type: string } }
"##,
    )
    .unwrap();
    let spec = crate::read_spec(&path).expect("reads");
    let s = build(&spec.api);
    // Chat is also a request body: nothing but its own field would write `kind` there.
    assert_eq!(field_names(&s, "Chat"), ["kind", "nom"]);
    assert_eq!(field_names(&s, "Chien"), ["race"]);
}

#[test]
fn france_connect_routes_take_the_users_token_and_others_do_not() {
    let s = surface_of("france-connect.yaml");
    let has = |name: &str| {
        method(&s, name)
            .setters
            .iter()
            .any(|x| x.kind == SetterKind::Runtime(RuntimeOption::FranceConnectToken))
    };
    assert!(has("allocation"), "security names a FranceConnect scheme");
    assert!(has("quotient_familial_france_connect"), "the path says so");
    assert!(!has("quotient_familial_identite"));
}
