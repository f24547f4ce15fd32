//! `gouvgen::build` in a real build script: the client is rebuilt exactly when the document
//! or a file it references changes, and a broken document gives one located error, no panic.

use std::path::Path;
use std::process::Command;

use gouvgen_tests::{repo_root, target_dir};

fn cargo_build(dir: &Path) -> (bool, String) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "-v"])
        .current_dir(dir)
        .env(
            "CARGO_TARGET_DIR",
            target_dir().join("gouvgen-scratch-target"),
        )
        .env("RUST_BACKTRACE", "1")
        .output()
        .expect("cargo runs");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn build_script_ran(log: &str) -> bool {
    log.lines().any(|l| {
        l.contains("Running")
            && l.contains("build-script-build")
            && l.contains("gouvgen_build_scratch")
            || l.contains("Running")
                && l.contains("gouvgen-build-scratch")
                && l.contains("build-script-build")
    })
}

#[test]
fn build_script_reruns_exactly_when_inputs_change_and_reports_errors_cleanly() {
    let dir = target_dir().join("gouvgen-scratch").join("build-script");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::create_dir_all(dir.join("api")).unwrap();
    let root = repo_root();
    let demo = root.join("tests/build-script-demo");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"gouvgen-build-scratch\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n[dependencies]\ngouvgen-runtime = {{ path = {:?} }}\n\n[build-dependencies]\ngouvgen = {{ path = {:?} }}\n\n[workspace]\n",
            root.join("runtime"),
            root.join("generator")
        ),
    )
    .unwrap();
    if let Ok(lock) = std::fs::read(root.join("Cargo.lock")) {
        std::fs::write(dir.join("Cargo.lock"), lock).unwrap();
    }
    std::fs::write(
        dir.join("build.rs"),
        "fn main() { gouvgen::build::Config::new(\"api/annuaire.yaml\").strict(true).run(); }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("src/lib.rs"),
        "include!(concat!(env!(\"OUT_DIR\"), \"/annuaire.rs\"));\n",
    )
    .unwrap();
    for f in ["annuaire.yaml", "commun.yaml"] {
        std::fs::copy(demo.join("api").join(f), dir.join("api").join(f)).unwrap();
    }

    let (ok, log) = cargo_build(&dir);
    assert!(ok, "first build fails:\n{log}");
    assert!(
        build_script_ran(&log),
        "first build runs the build script:\n{log}"
    );

    // The build script declared both files.
    let build_dir = target_dir().join("gouvgen-scratch-target/debug/build");
    let outputs: Vec<String> = std::fs::read_dir(&build_dir)
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("gouvgen-build-scratch-")
        })
        .filter_map(|e| std::fs::read_to_string(e.path().join("output")).ok())
        .collect();
    let declared = outputs.join("\n");
    assert!(
        declared.contains("cargo:rerun-if-changed=") && declared.contains("annuaire.yaml"),
        "{declared}"
    );
    assert!(
        declared.contains("commun.yaml"),
        "referenced file watched too: {declared}"
    );

    let (ok, log) = cargo_build(&dir);
    assert!(ok);
    assert!(
        !build_script_ran(&log),
        "nothing changed, nothing regenerated:\n{log}"
    );

    // Changing only the referenced file regenerates the client.
    let common = dir.join("api/commun.yaml");
    let text = std::fs::read_to_string(&common).unwrap();
    std::fs::write(
        &common,
        text.replace(
            "message: { type: string }",
            "message: { type: string }\n        detail: { type: string }",
        ),
    )
    .unwrap();
    let (ok, log) = cargo_build(&dir);
    assert!(ok, "{log}");
    assert!(
        build_script_ran(&log),
        "a referenced file changed, the client is regenerated:\n{log}"
    );

    // A broken document: one located message, no panic, no backtrace wall.
    let main = dir.join("api/annuaire.yaml");
    let text = std::fs::read_to_string(&main).unwrap();
    std::fs::write(
        &main,
        text.replace(
            "#/components/schemas/Structure",
            "#/components/schemas/Absente",
        ),
    )
    .unwrap();
    let (ok, log) = cargo_build(&dir);
    assert!(!ok, "a dangling reference fails the build");
    assert!(
        log.contains("gouvgen:")
            && log.contains("annuaire.yaml:")
            && log.contains("dangling reference")
            && log.contains("help:"),
        "{log}"
    );
    assert!(
        !log.contains("panicked") && !log.contains("stack backtrace"),
        "{log}"
    );

    // Without `strict`, the dangling reference is a located warning and the build goes on.
    std::fs::write(
        dir.join("build.rs"),
        "fn main() { gouvgen::build::Config::new(\"api/annuaire.yaml\").run(); }\n",
    )
    .unwrap();
    let (ok, log) = cargo_build(&dir);
    assert!(ok, "a dangling reference is only a warning:\n{log}");
    assert!(
        log.contains("warning") && log.contains("dangling reference"),
        "{log}"
    );
}
