//! `--features-per-tag`: every feature combination a user can pick compiles without a warning,
//! and a caller gets an operation only with its tag's feature (checked by compiling callers).

use gouvgen::{CrateSettings, RuntimeDep};
use gouvgen_tests::{ScratchWorkspace, repo_root};

const FEATURES: &[&str] = &["depots", "documents", "unites-legales"];

fn tagged_crate(ws: &mut ScratchWorkspace) -> gouvgen::Files {
    let spec = repo_root().join("generator/tests/fixtures/features/tags.yaml");
    let read = gouvgen::read_spec(&spec).expect("the fixture reads");
    let mut settings = CrateSettings::new("tagged");
    settings.features_per_tag = true;
    settings.default_features = Some(vec!["Documents".into()]);
    settings.example_tests = true;
    settings.runtime = RuntimeDep::Path {
        path: repo_root().join("runtime").to_string_lossy().into_owned(),
        version: gouvgen::emit::RUNTIME_VERSION.into(),
    };
    let files = gouvgen::generate_files(&read, &settings).expect("the fixture generates");
    gouvgen::output::write_crate(&files, &ws.dir.join("tagged"), true).expect("written");
    files
}

/// A crate calling `call` on the client, with only `features` of `tagged` on.
fn caller(ws: &ScratchWorkspace, name: &str, features: &[&str], call: &str) {
    let dir = ws.dir.join(name);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let features: Vec<String> = features.iter().map(|f| format!("\"{f}\"")).collect();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\ntagged = {{ path = \"../tagged\", default-features = false, features = [{}] }}\n",
            features.join(", ")
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("src/lib.rs"),
        format!(
            "pub async fn call(client: &tagged::Client) {{\n    let _ = client.{call}.await;\n}}\n"
        ),
    )
    .unwrap();
}

fn no_warning(what: &str, ok: bool, output: &str) {
    assert!(ok, "{what} does not compile:\n{output}");
    let warnings: Vec<&str> = output
        .lines()
        .filter(|l| l.starts_with("warning"))
        .collect();
    assert!(warnings.is_empty(), "{what} warns:\n{output}");
}

#[test]
fn every_feature_combination_compiles_and_gates_its_operations() {
    let mut ws = ScratchWorkspace::new("features-per-tag");
    let files = tagged_crate(&mut ws);
    let manifest = &files["Cargo.toml"];
    assert!(
        manifest.contains("default = [\"documents\"]")
            && FEATURES
                .iter()
                .all(|f| manifest.contains(&format!("\n{f} = []"))),
        "{manifest}"
    );
    // The untagged operation and what it reaches compile whatever the features.
    let client = &files["src/client.rs"];
    let ping = client.find("pub fn ping").expect("ping");
    assert!(
        !client[ping.saturating_sub(120)..ping].contains("cfg("),
        "{client}"
    );

    caller(&ws, "calls-documents", &["documents"], "documents(\"1\")");
    caller(
        &ws,
        "calls-depot",
        &["depots"],
        "deposer_document(\"1\", tagged::builders::DeposerDocumentMultipart::new(tagged::runtime::FilePart { file_name: None, content_type: None, bytes: Default::default() }))",
    );
    caller(
        &ws,
        "misses-unites-legales",
        &["documents"],
        "unites_legales(\"1\")",
    );
    ws.finish_with_extra(
        &[
            "tagged",
            "calls-documents",
            "calls-depot",
            "misses-unites-legales",
        ],
        &[],
    );

    let mut combos: Vec<Vec<String>> = vec![
        vec!["--no-default-features".into()],
        vec![],
        vec!["--all-features".into()],
    ];
    for f in FEATURES {
        combos.push(vec![
            "--no-default-features".into(),
            "--features".into(),
            (*f).into(),
        ]);
    }
    for combo in &combos {
        let mut args = vec!["check", "-p", "tagged", "--all-targets", "--quiet"];
        args.extend(combo.iter().map(String::as_str));
        let (ok, output) = ws.cargo(&args);
        no_warning(&format!("tagged with {combo:?}"), ok, &output);
    }
    let (ok, output) = ws.cargo(&["test", "-p", "tagged", "--all-features", "--quiet"]);
    assert!(
        ok && output.contains("1 passed"),
        "examples with every feature:\n{output}"
    );

    for name in ["calls-documents", "calls-depot"] {
        let (ok, output) = ws.cargo(&["check", "-p", name, "--quiet"]);
        no_warning(name, ok, &output);
    }
    let (ok, output) = ws.cargo(&["check", "-p", "misses-unites-legales", "--quiet"]);
    assert!(
        !ok && output.contains("E0599") && output.contains("unites_legales"),
        "a caller without the `unites-legales` feature still sees its operation:\n{output}"
    );
}

/// The build-script option: the including crate declares the tag features; a call compiles
/// only with its tag's feature, and a build with none says which ones exist.
#[test]
fn build_script_gates_operations_by_the_including_crates_features() {
    let dir = gouvgen_tests::target_dir()
        .join("gouvgen-scratch")
        .join("build-tags");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let root = repo_root();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"gouvgen-build-tags\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [features]\ndepots = []\ndocuments = []\nunites-legales = []\ncalls-unites-legales = []\n\n\
             [dependencies]\ngouvgen-runtime = {{ path = {:?} }}\n\n[build-dependencies]\ngouvgen = {{ path = {:?} }}\n\n[workspace]\n",
            root.join("runtime"),
            root.join("generator")
        ),
    )
    .unwrap();
    if let Ok(lock) = std::fs::read(root.join("Cargo.lock")) {
        std::fs::write(dir.join("Cargo.lock"), lock).unwrap();
    }
    let spec = root.join("generator/tests/fixtures/features/tags.yaml");
    std::fs::write(
        dir.join("build.rs"),
        format!(
            "fn main() {{ gouvgen::build::Config::new({spec:?}).features_per_tag(true).run(); }}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("src/lib.rs"),
        "pub mod api {\n    include!(concat!(env!(\"OUT_DIR\"), \"/tags.rs\"));\n}\n\n\
         #[cfg(feature = \"documents\")]\npub async fn documents(c: &api::Client) {\n    let _ = c.documents(\"1\").await;\n}\n\n\
         #[cfg(feature = \"calls-unites-legales\")]\npub async fn unites(c: &api::Client) {\n    let _ = c.unites_legales(\"1\").await;\n}\n",
    )
    .unwrap();
    let check = |features: &str| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = std::process::Command::new(cargo)
            .args(["check", "--features", features])
            .current_dir(&dir)
            .env(
                "CARGO_TARGET_DIR",
                gouvgen_tests::target_dir().join("gouvgen-scratch-target"),
            )
            .env_remove("RUSTFLAGS")
            .output()
            .expect("cargo runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let (ok, out) = check("documents");
    no_warning("the build-script crate with `documents`", ok, &out);
    let (ok, out) = check("calls-unites-legales,unites-legales");
    no_warning("a call with its tag's feature", ok, &out);
    let (ok, out) = check("calls-unites-legales,documents");
    assert!(
        !ok && out.contains("E0599") && out.contains("unites_legales"),
        "a call without its tag's feature compiles:\n{out}"
    );
    let (ok, out) = check("");
    assert!(ok, "{out}");
    assert!(
        out.contains("no tag feature is on") && out.contains("depots, documents, unites-legales"),
        "a build with no tag feature says which exist:\n{out}"
    );
}
