//! The URL a call goes to: Express-style `:name` segments (reproducer E1) are written as
//! `{name}` with a warning, and a path parameter the template never mentions is left out of
//! the method with a warning, never a silent literal segment or an unread argument.

use std::io::Write;

fn generate(doc: &str) -> (gouvgen::Spec, gouvgen::Files) {
    let mut file = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
    file.write_all(doc.as_bytes()).unwrap();
    let spec = gouvgen::read_spec(file.path()).unwrap();
    let files = gouvgen::generate_files(&spec, &gouvgen::CrateSettings::new("paths")).unwrap();
    (spec, files)
}

#[test]
fn express_segment_becomes_the_parameter_with_a_located_warning() {
    let (spec, files) = generate(
        r#"swagger: "2.0"
info: {title: t, version: "1"}
paths:
  /api/v1/avis/:id:
    get:
      operationId: getAvis
      parameters:
      - {name: id, in: path, required: true, type: string}
      responses:
        '200': {description: ok}
"#,
    );
    let warning = spec
        .warnings
        .iter()
        .find(|w| w.message.contains("Express-style"))
        .expect("a warning names the Express-style segment");
    // The path item the template belongs to (its mapping starts on the line after the key).
    assert_eq!(warning.location.line_col.map(|l| l.0), Some(5), "{warning}");
    let client = &files["src/builders.rs"];
    assert!(client.contains("\"/api/v1/avis/\""), "{client}");
    assert!(
        !client.contains("/:id"),
        "the literal `:id` is still sent:\n{client}"
    );
    assert!(
        client.contains("self.id"),
        "the parameter is not written into the URL"
    );
}

#[test]
fn path_parameter_missing_from_the_template_is_left_out_with_a_warning() {
    let (spec, files) = generate(
        r#"openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /things:
    get:
      operationId: listThings
      parameters:
      - {name: owner, in: path, required: true, schema: {type: string}}
      responses:
        '200': {description: ok}
"#,
    );
    assert!(
        spec.warnings.iter().any(|w| w
            .message
            .contains("`owner` does not appear in the template")),
        "{:?}",
        spec.warnings
    );
    assert!(
        !files["src/client.rs"].contains("owner") && !files["src/builders.rs"].contains("owner")
    );
}

#[test]
fn parameter_declared_twice_is_sent_once_with_a_warning() {
    // Found by the mutation campaign (seed 20261212): the second `spi` became a field `spi_2`
    // that nothing read (rustc's `dead_code`), and a caller passed a value that went nowhere.
    let (spec, files) = generate(
        r#"openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /a/{spi}:
    get:
      operationId: getA
      parameters:
      - {name: spi, in: path, required: true, schema: {type: string}}
      - {name: spi, in: path, required: true, schema: {type: integer}}
      - {name: spi, in: query, schema: {type: string}}
      responses:
        '200': {description: ok}
"#,
    );
    let warning = (spec.warnings.iter())
        .find(|w| w.message.contains("declared twice"))
        .expect("a warning names the second declaration");
    assert_eq!(warning.location.line_col.map(|l| l.0), Some(9), "{warning}");
    assert_eq!(spec.warnings.len(), 1, "{:?}", spec.warnings);
    let builders = &files["src/builders.rs"];
    // The first declaration is the one kept (a string), and the query one is a separate
    // parameter (another `in`), so it stays.
    assert!(builders.contains("spi: &'a str"), "{builders}");
    assert!(builders.contains("spi_2: Option<"), "{builders}");
    assert!(!builders.contains("i64"), "{builders}");
    assert!(!builders.contains("spi_3"), "{builders}");
}
