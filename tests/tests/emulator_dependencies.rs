//! The emulator is a product of its own: a team that adds it to its tests must not compile
//! the generator's code printer (syn, quote, prettyplease) nor any proc-macro parser for it.
//! Read from `cargo tree` over the lock file, as a user's build on Linux resolves it.

use std::process::Command;

use gouvgen_tests::repo_root;

/// Crates the emulator's normal dependency tree must not hold.
const FORBIDDEN: &[&str] = &["syn", "quote", "proc-macro2", "prettyplease"];

#[test]
fn the_emulator_builds_without_syn_quote_or_prettyplease() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(repo_root())
        .args(["tree", "--locked", "--offline", "-p", "gouvgen-emulator"])
        // This machine's platform: `--target all` also lists dependencies no build compiles
        // (serde_core names serde_derive under `cfg(any())`, chrono a Windows-only macro crate).
        .args(["-e", "normal", "--prefix", "none"])
        .output()
        .expect("cargo runs");
    let tree = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The tree is read at all: it names the emulator's own dependencies.
    assert!(tree.lines().any(|l| l.starts_with("gouvgen ")), "{tree}");
    assert!(tree.lines().any(|l| l.starts_with("hyper ")), "{tree}");
    let found: Vec<&str> = tree
        .lines()
        .filter(|l| {
            let name = l.split_whitespace().next().unwrap_or("");
            FORBIDDEN.contains(&name)
        })
        .collect();
    assert!(
        found.is_empty(),
        "the emulator's dependency tree holds {found:?}: find who turns them on with \
         `cargo tree -p gouvgen-emulator -e features,normal -i <crate>`"
    );
}
