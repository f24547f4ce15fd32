//! Snapshots of the code generated for the fixtures (what the corpus lacks), and determinism.

use std::path::{Path, PathBuf};

use gouvgen::{CrateSettings, RuntimeDep};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn generate(name: &str) -> gouvgen::Files {
    let spec = gouvgen::read_spec(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut settings = CrateSettings::new("fixture");
    settings.runtime = RuntimeDep::Path {
        path: "../runtime".into(),
        version: "0.1.0".into(),
    };
    gouvgen::generate_files(&spec, &settings).unwrap()
}

fn snapshot(name: &str) {
    let files = generate(name);
    let modules = ["types", "client", "builders", "errors", "responses"];
    let code: Vec<&str> = modules
        .iter()
        .filter_map(|m| files.get(&format!("src/{m}.rs")).map(String::as_str))
        .collect();
    let code = code.join("\n");
    insta::assert_snapshot!(name.replace(['/', '.'], "_"), code);
}

#[test]
fn openapi31_type_arrays_null_and_const() {
    snapshot("openapi31.yaml");
}

#[test]
fn discriminated_one_of_any_of_all_of_and_recursion() {
    snapshot("unions.yaml");
}

#[test]
fn keywords_and_colliding_names() {
    snapshot("names.yaml");
}

#[test]
fn multipart_form_binary_and_text_bodies() {
    snapshot("bodies.json");
}

#[test]
fn external_file_references() {
    snapshot("external/main.yaml");
}

#[test]
fn generation_is_byte_for_byte_deterministic() {
    // The largest corpus document when the corpus is there (GOUVGEN_CORPUS), a fixture otherwise.
    let corpus = std::env::var_os("GOUVGEN_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"))
        .join("api-entreprise/api-entreprise-v3.yaml");
    let spec_path = if corpus.exists() {
        corpus
    } else {
        fixture("unions.yaml")
    };
    let first = {
        let spec = gouvgen::read_spec(&spec_path).unwrap();
        gouvgen::generate_files(&spec, &CrateSettings::new("det")).unwrap()
    };
    for _ in 0..2 {
        let spec = gouvgen::read_spec(&spec_path).unwrap();
        let again = gouvgen::generate_files(&spec, &CrateSettings::new("det")).unwrap();
        assert_eq!(
            first.keys().collect::<Vec<_>>(),
            again.keys().collect::<Vec<_>>()
        );
        for (path, content) in &first {
            assert!(content == &again[path], "{path} differs between runs");
        }
    }
    // And through the CLI into two folders: same bytes on disk.
    let dir = tempfile::tempdir().unwrap();
    for sub in ["a", "b"] {
        gouvgen::generate_crate(
            &spec_path,
            &dir.path().join(sub),
            &CrateSettings::new("det"),
            false,
        )
        .unwrap();
    }
    for rel in first.keys() {
        let a = std::fs::read(dir.path().join("a").join(rel)).unwrap();
        let b = std::fs::read(dir.path().join("b").join(rel)).unwrap();
        assert_eq!(a, b, "{rel}");
    }
}

/// A crate published to an internal registry takes the runtime from that registry too; the
/// registry round trip (tests/tests/registry.rs) proves it with cargo.
#[test]
fn runtime_dependency_names_the_publish_registry() {
    let spec = gouvgen::read_spec(&fixture("unions.yaml")).unwrap();
    let manifest = |settings: &CrateSettings| {
        gouvgen::generate_files(&spec, settings).unwrap()["Cargo.toml"].clone()
    };
    let mut settings = CrateSettings::new("reg");
    let plain = manifest(&settings);
    assert!(plain.contains("\ngouvgen-runtime = \""), "{plain}");
    assert!(!plain.contains("registry"), "{plain}");

    settings.publish = Some(vec!["crates-io".into(), "interne".into()]);
    let text = manifest(&settings);
    assert!(
        text.contains("publish = [\"crates-io\", \"interne\"]"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "gouvgen-runtime = {{ version = \"{}\", registry = \"interne\" }}",
            gouvgen::emit::RUNTIME_VERSION
        )),
        "{text}"
    );

    settings.runtime = RuntimeDep::Path {
        path: "../../runtime".into(),
        version: "0.1.0".into(),
    };
    let text = manifest(&settings);
    assert!(
        text.contains(
            "gouvgen-runtime = { version = \"0.1.0\", path = \"../../runtime\", registry = \"interne\" }"
        ),
        "{text}"
    );
    let parsed: toml::Value = toml::from_str(&text).unwrap();
    assert_eq!(
        parsed["dependencies"]["gouvgen-runtime"]["registry"].as_str(),
        Some("interne")
    );
}

/// Generated crates ask for the runtime release in this repository: a stale constant would
/// let them resolve to a runtime that lacks what they call.
#[test]
fn runtime_version_matches_the_runtime_crate() {
    let manifest = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime/Cargo.toml"),
    )
    .unwrap();
    let version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .unwrap();
    assert_eq!(version, gouvgen::emit::RUNTIME_VERSION);
}
