//! `rust-version` tells the truth: the workspace, the crates we generate and clippy's `msrv`
//! (read from `rust-version`) name one version, and no dependency in `Cargo.lock` needs a
//! newer Rust than that. Our own code's syntax is checked by rustc only on the toolchain CI
//! has; clippy's `incompatible_msrv` lint catches standard-library APIs newer than it.

use std::path::Path;

fn workspace_rust_version() -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("rust-version"))
        .expect("the workspace declares rust-version");
    line.split('"').nth(1).unwrap().to_string()
}

fn parse(v: &str) -> Vec<u32> {
    v.split('.').map(|p| p.parse().unwrap()).collect()
}

#[test]
fn generated_crates_and_the_workspace_name_one_rust_version() {
    assert_eq!(workspace_rust_version(), gouvgen::emit::RUST_VERSION);
    // Let-chains (`if let … && …`), which the runtime and the generator use, need 1.88.
    assert!(parse(gouvgen::emit::RUST_VERSION) >= vec![1, 88]);
}

#[test]
fn no_dependency_needs_a_newer_rust() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ours = parse(&workspace_rust_version());
    let too_new: Vec<String> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| {
            let v = p["rust_version"].as_str()?;
            let mut need = parse(v);
            need.resize(3, 0);
            let mut have = ours.clone();
            have.resize(3, 0);
            (need > have).then(|| format!("{} {} needs {v}", p["name"], p["version"]))
        })
        .collect();
    assert!(
        too_new.is_empty(),
        "dependencies newer than rust-version: {too_new:?}"
    );
}
