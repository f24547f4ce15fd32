//! The crates we publish internally package and document cleanly: `cargo package` (with
//! verification: each package builds from its own tarball, the generated crates against the
//! packaged runtime) and `cargo doc` with warnings denied.

use std::process::Command;

use gouvgen_tests::{repo_root, target_dir};

fn publishable() -> Vec<String> {
    let mut names = vec![
        "gouvgen-runtime".to_string(),
        "gouvgen".to_string(),
        "gouvgen-emulator".to_string(),
    ];
    let mut generated: Vec<String> = std::fs::read_dir(repo_root().join("generated"))
        .expect("generated/")
        .flatten()
        .filter(|e| e.path().join("Cargo.toml").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    generated.sort();
    assert!(generated.len() >= 7, "{generated:?}");
    names.extend(generated);
    names
}

fn cargo(args: &[String], extra_env: &[(&str, &str)]) -> (bool, String) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(args).current_dir(repo_root()).env(
        "CARGO_TARGET_DIR",
        target_dir().join("gouvgen-scratch-target"),
    );
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("cargo runs");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn runtime_generator_and_generated_crates_package_and_document() {
    let packages = publishable();
    let mut args = vec![
        "package".to_string(),
        "--allow-dirty".to_string(),
        "--locked".to_string(),
    ];
    for p in &packages {
        args.push("-p".into());
        args.push(p.clone());
    }
    let (ok, log) = cargo(&args, &[]);
    assert!(ok, "cargo package fails:\n{log}");
    for p in &packages {
        assert!(
            log.contains(&format!("Packaging {p} v")),
            "{p} packaged:\n{log}"
        );
        assert!(
            log.contains(&format!("Verifying {p} v")),
            "{p} verified:\n{log}"
        );
    }
    assert!(
        !log.contains("warning: manifest has no"),
        "complete metadata:\n{log}"
    );

    let mut args = vec![
        "doc".to_string(),
        "--no-deps".to_string(),
        "--locked".to_string(),
    ];
    for p in &packages {
        args.push("-p".into());
        args.push(p.clone());
    }
    let (ok, log) = cargo(&args, &[("RUSTDOCFLAGS", "-D warnings")]);
    assert!(ok, "cargo doc has warnings:\n{log}");
}
