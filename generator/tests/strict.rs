//! A dangling `$ref` (reproducer D1) costs only the part it names: that part is typed as
//! `serde_json::Value` with a located warning; `strict` turns every warning into an error.

use std::io::Write;

const DOC: &str = r#"openapi: 3.0.0
info: {title: t, version: "1"}
paths:
  /calculate:
    post:
      operationId: calculate
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/SituationInput'}
      responses:
        '200': {description: ok}
"#;

fn doc() -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
    file.write_all(DOC.as_bytes()).unwrap();
    file
}

#[test]
fn dangling_reference_is_a_json_value_with_a_located_warning() {
    let file = doc();
    let spec = gouvgen::read_spec(file.path()).unwrap();
    let w = &spec.warnings[0];
    assert!(w.message.contains("dangling reference"), "{w}");
    assert_eq!(w.location.line_col.map(|l| l.0), Some(10), "{w}");
    let files = gouvgen::generate_files(&spec, &gouvgen::CrateSettings::new("d1")).unwrap();
    assert!(
        files["src/client.rs"].contains("serde_json::Value"),
        "{}",
        files["src/client.rs"]
    );
}

#[test]
fn strict_refuses_the_same_document_at_the_same_place() {
    let file = doc();
    let options = gouvgen::load::LoadOptions {
        strict: true,
        ..Default::default()
    };
    let err = gouvgen::read_spec_with(file.path(), &options).unwrap_err();
    let d = &err.diagnostics()[0];
    assert!(d.message.contains("dangling reference"), "{d}");
    assert_eq!(d.location.line_col.map(|l| l.0), Some(10), "{d}");
    assert!(d.hint.as_deref().unwrap_or("").contains("--strict"), "{d}");
}
