//! No import cycle between the modules of any crate we ship.
//!
//! The rule, as `gouvgen_tests::module_graph` applies it:
//!
//! - A node is a module **file** (`src/load/yaml.rs`, `src/emit/mod.rs`, `src/lib.rs`). Inline
//!   `mod x { .. }` blocks (`mod tests`) are part of the file they are written in. Files are
//!   found the way rustc finds them: from `src/lib.rs`, `src/main.rs` and `src/bin/*.rs`,
//!   following `mod x;` declarations and `#[path]`; each of those roots is its own crate.
//! - An edge `a.rs → b.rs` is a path written in `a.rs` that starts with `crate::`, `super::`
//!   or `self::` (in `use` trees, expressions or types; comments, doc links and strings do
//!   not count) and names `b.rs` or something in it: the path is resolved to its longest
//!   prefix that is a module, and that module's file is the target.
//! - A module may use the modules nested in it (declaring and orchestrating its children is
//!   what a parent is for), so an edge from a module to one of its descendants is left out.
//!   Everything else counts, including a child using its parent (`use super::Thing`).
//! - A cycle is a strongly connected group of two or more files. The test fails naming each
//!   group and its shortest loop, with the file, line and path of every step.
//!
//! Fixing one means moving what both sides need into a lower module that imports neither
//! (the emulator's `document`, the generator's `load/yaml_error.rs`).

use std::path::{Path, PathBuf};

use gouvgen_tests::module_graph::{ModuleGraph, crate_roots};
use gouvgen_tests::repo_root;

/// The packages whose modules must form no cycle (folders from the repository root).
const PACKAGES: &[&str] = &[
    "generator",
    "generator/cli",
    "emulator",
    "runtime",
    "tests",
    "tests/bench",
];

/// Every crate (root file) of a package, read.
fn graphs(package: &str) -> Vec<ModuleGraph> {
    let folder = repo_root().join(package);
    let roots = crate_roots(&folder);
    assert!(
        !roots.is_empty(),
        "{package} has a src/lib.rs or src/main.rs"
    );
    roots
        .iter()
        .map(|root| {
            ModuleGraph::read(root, &folder).unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        })
        .collect()
}

#[test]
fn no_crate_has_an_import_cycle() {
    let mut failures = Vec::new();
    for package in PACKAGES {
        let cycles: Vec<String> = graphs(package)
            .iter()
            .flat_map(ModuleGraph::cycles)
            .collect();
        failures.extend(cycles.into_iter().map(|c| format!("{package}: {c}")));
    }
    assert!(
        failures.is_empty(),
        "import cycles (move what both sides use into a module that imports neither):\n{}",
        failures.join("\n")
    );
}

/// The reader finds real references, so an empty result above means something: the
/// generator's YAML parser calls its guard, and the guard does not call it back.
#[test]
fn the_graph_sees_the_generators_references() {
    let generator = &graphs("generator")[0];
    assert!(generator.files.len() > 30, "{:?}", generator.files);
    assert!(generator.edge_count() > 30);
    let (yaml, guard) = (
        Path::new("src/load/yaml.rs"),
        Path::new("src/load/guard.rs"),
    );
    assert!(generator.refers(yaml, guard));
    assert!(!generator.refers(guard, yaml));
}

/// A crate with a cycle through a parent, its child and a sibling is reported, naming the
/// files, lines and paths of the loop; the child's inline test module adds nothing.
#[test]
fn a_cycle_is_found_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("a")).unwrap();
    let files: [(&str, &str); 4] = [
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a/mod.rs", "mod inner;\npub struct A(crate::b::B);\n"),
        (
            "a/inner.rs",
            "use super::A;\npub struct I;\n#[cfg(test)]\nmod tests { use super::*; }\n",
        ),
        ("b.rs", "pub struct B;\nfn f(_: crate::a::inner::I) {}\n"),
    ];
    for (name, text) in files {
        std::fs::write(src.join(name), text).unwrap();
    }
    let graph = ModuleGraph::read(&src.join("lib.rs"), dir.path()).unwrap();
    let cycles = graph.cycles();
    let shown = |parts: &[&str]| parts.iter().collect::<PathBuf>().display().to_string();
    let expected = format!(
        "cycle among {{a, b, a::inner}}: {}:2 `crate::b::B` → {}:2 `crate::a::inner::I` → {}:1 `super::A` → {}",
        shown(&["src", "a", "mod.rs"]),
        shown(&["src", "b.rs"]),
        shown(&["src", "a", "inner.rs"]),
        shown(&["src", "a", "mod.rs"]),
    );
    assert_eq!(cycles, [expected]);
}
