//! `gouvgen sync` and `gouvgen sync --check` on a repository laid out like this one.

use std::path::{Path, PathBuf};
use std::process::Command;

use gouvgen_tests::repo_root;

fn gouvgen(args: &[&str], root: &Path) -> (i32, String) {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_gouvgen-tests-cli"));
    let out = Command::new(exe)
        .args(args)
        .arg("--root")
        .arg(root)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A small repository: runtime manifest, two specs, a manifest.
fn scratch_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("runtime")).unwrap();
    std::fs::copy(
        repo_root().join("runtime/Cargo.toml"),
        root.join("runtime/Cargo.toml"),
    )
    .unwrap();
    std::fs::create_dir_all(root.join("specs/demo")).unwrap();
    let fixtures = repo_root().join("generator/tests/fixtures");
    std::fs::copy(
        fixtures.join("diff/old.yaml"),
        root.join("specs/demo/dossiers.yaml"),
    )
    .unwrap();
    std::fs::copy(
        fixtures.join("bodies.json"),
        root.join("specs/demo/depot.json"),
    )
    .unwrap();
    std::fs::write(
        root.join("specs/manifest.toml"),
        r#"# test manifest
[defaults]
license = "MIT OR Apache-2.0"
repository = "https://example.invalid/demo"
publish = ["interne"]

[[client]]
name = "dossiers"
spec = "demo/dossiers.yaml"
crate_name = "demo-dossiers"
version = "1.2.0"
output = "generated/demo-dossiers"
description = "Dossiers demo client"
keywords = ["demo"]
gateway = "piste"
access_points = ["internet"]
environments = ["sandbox", "production"]
scopes = ["openid"]

[[client]]
name = "depot"
spec = "demo/depot.json"
crate_name = "demo-depot"
version = "0.3.1"
output = "generated/demo-depot"
gateway = "dgfip"
access_points = ["internet"]
environments = ["sandbox"]
scopes = ["RessourceDemo"]
"#,
    )
    .unwrap();
    dir
}

#[test]
fn check_catches_stale_output_and_sync_bumps_versions_with_a_changelog() {
    let repo = scratch_repo();
    let root = repo.path();

    // Nothing generated yet: the check fails and names the files.
    let (code, out) = gouvgen(&["sync", "--check"], root);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("stale: generated/demo-dossiers/src/client.rs"),
        "{out}"
    );
    assert!(!root.join("generated").exists(), "--check writes nothing");

    let (code, out) = gouvgen(&["sync"], root);
    assert_eq!(code, 0, "{out}");
    let (code, out) = gouvgen(&["sync", "--check"], root);
    assert_eq!(code, 0, "fresh output passes the check: {out}");

    let cargo = std::fs::read_to_string(root.join("generated/demo-dossiers/Cargo.toml")).unwrap();
    for needle in [
        "name = \"demo-dossiers\"",
        "version = \"1.2.0\"",
        "license = \"MIT OR Apache-2.0\"",
        "repository = \"https://example.invalid/demo\"",
        "publish = [\"interne\"]",
        // Published to `interne`: the runtime comes from there too.
        format!(
            "gouvgen-runtime = {{ version = \"{}\", path = \"../../runtime\", registry = \"interne\" }}",
            gouvgen::emit::RUNTIME_VERSION
        )
        .as_str(),
    ] {
        assert!(cargo.contains(needle), "{needle} in\n{cargo}");
    }
    let lib = std::fs::read_to_string(root.join("generated/demo-dossiers/src/lib.rs")).unwrap();
    assert!(
        lib.contains("presets::piste(PisteAccess::Internet, Environment::Sandbox)"),
        "usage doc per environment:\n{lib}"
    );
    assert!(lib.contains("presets::piste(PisteAccess::Internet, Environment::Production)"));

    // The provider publishes a new version of one document; regeneration is forgotten.
    let fixtures = repo_root().join("generator/tests/fixtures");
    std::fs::copy(
        fixtures.join("diff/new.yaml"),
        root.join("specs/demo/dossiers.yaml"),
    )
    .unwrap();
    let (code, out) = gouvgen(&["sync", "--check"], root);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("stale: generated/demo-dossiers/spec/dossiers.yaml"),
        "{out}"
    );
    assert!(
        !out.contains("stale: generated/demo-depot"),
        "the other client is untouched: {out}"
    );

    let (code, out) = gouvgen(&["sync"], root);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1.2.0 → 2.0.0 (major bump)"), "{out}");
    let manifest = std::fs::read_to_string(root.join("specs/manifest.toml")).unwrap();
    assert!(manifest.starts_with("# test manifest"), "comments kept");
    assert!(
        manifest.contains("version = \"2.0.0\"") && manifest.contains("version = \"0.3.1\""),
        "{manifest}"
    );
    let changelog =
        std::fs::read_to_string(root.join("generated/demo-dossiers/CHANGELOG.md")).unwrap();
    assert!(
        changelog.starts_with("# Changelog\n\n## 2.0.0\n"),
        "{changelog}"
    );
    assert!(
        changelog.contains("**breaking** ping: GET /ping is gone"),
        "{changelog}"
    );
    assert!(
        changelog.contains("## 1.2.0"),
        "earlier entries kept: {changelog}"
    );
    assert!(
        std::fs::read_to_string(root.join("generated/demo-dossiers/Cargo.toml"))
            .unwrap()
            .contains("version = \"2.0.0\"")
    );
    let (code, out) = gouvgen(&["sync", "--check"], root);
    assert_eq!(code, 0, "{out}");

    // A hand edit of generated code is caught too.
    let client = root.join("generated/demo-depot/src/client.rs");
    let text = std::fs::read_to_string(&client).unwrap();
    std::fs::write(&client, text.replace("pub fn", "pub  fn")).unwrap();
    let (code, out) = gouvgen(&["sync", "--check"], root);
    assert_eq!(code, 1);
    assert!(
        out.contains("stale: generated/demo-depot/src/client.rs"),
        "{out}"
    );
    // Sync undoes it without a new version: the crate is what 0.3.1 was.
    let (code, out) = gouvgen(&["sync"], root);
    assert_eq!(code, 0, "{out}");
    assert!(
        !out.contains("0.3.1 →"),
        "a hand edit undone is no release: {out}"
    );
    assert_eq!(std::fs::read_to_string(&client).unwrap(), text);

    // Same document, new package metadata: a registry takes 0.3.1 once, so a patch release.
    let manifest_path = root.join("specs/manifest.toml");
    let manifest = std::fs::read_to_string(&manifest_path).unwrap();
    let described = manifest.replace(
        "output = \"generated/demo-depot\"\n",
        "output = \"generated/demo-depot\"\ndescription = \"Depot demo client\"\n",
    );
    assert_ne!(described, manifest);
    std::fs::write(&manifest_path, described).unwrap();
    let (code, out) = gouvgen(&["sync"], root);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0.3.1 → 0.3.2 (patch bump)"), "{out}");
    assert!(
        !out.contains("2.0.0 →"),
        "the other client is untouched: {out}"
    );
    let depot = root.join("generated/demo-depot");
    let cargo = std::fs::read_to_string(depot.join("Cargo.toml")).unwrap();
    assert!(
        cargo.contains("version = \"0.3.2\"") && cargo.contains("Depot demo client"),
        "{cargo}"
    );
    let changelog = std::fs::read_to_string(depot.join("CHANGELOG.md")).unwrap();
    assert!(
        changelog.starts_with("# Changelog\n\n## 0.3.2\n\n- regenerated by gouvgen"),
        "{changelog}"
    );
    let (code, out) = gouvgen(&["sync", "--check"], root);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn the_repository_generated_folder_is_up_to_date() {
    let (code, out) = gouvgen(&["sync", "--check"], &repo_root());
    assert_eq!(
        code, 0,
        "generated/ is stale: run `cargo run -p gouvgen-cli -- sync` and commit\n{out}"
    );
}

/// The formatter's version is recorded; output laid out by another rustfmt is up to date when
/// only the record differs, and a stale crate names both versions.
#[test]
fn check_names_the_rustfmt_that_laid_out_stale_output() {
    let repo = scratch_repo();
    let root = repo.path();
    let (code, out) = gouvgen(&["sync"], root);
    assert_eq!(code, 0, "{out}");
    let manifest = root.join("generated/demo-depot/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let record = text
        .lines()
        .find(|l| l.starts_with("# Sources laid out by "))
        .unwrap_or_else(|| panic!("no layout record:\n{text}"))
        .to_string();
    let elsewhere = "# Sources laid out by rustfmt 0.0.1-elsewhere (0000000 2020-01-01).";
    std::fs::write(&manifest, text.replace(&record, elsewhere)).unwrap();
    let (code, out) = gouvgen(&["sync", "--check"], root);
    assert_eq!(code, 0, "only the record differs: {out}");

    let client = root.join("generated/demo-depot/src/client.rs");
    let source = std::fs::read_to_string(&client).unwrap();
    std::fs::write(&client, source.replace("    ", "  ")).unwrap();
    let (code, out) = gouvgen(&["sync", "--check"], root);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("laid out by rustfmt 0.0.1-elsewhere (0000000 2020-01-01); this machine has"),
        "{out}"
    );
}
