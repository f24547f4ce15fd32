//! No documentation names a folder of the machine it was written or built on.
//!
//! Such a path (`/work/shared/…` in the emulator's crate docs, `/root/.cargo/registry/…` in a
//! panic message BENCHMARKS.md quoted) means nothing to a reader elsewhere, and ends up on
//! docs.rs. Checked: every Markdown file, every `Cargo.toml`, every doc comment (`//!`,
//! `///`, `#[doc = …]`) of the Rust sources, and every file under `generated/`. A path counts
//! when it starts a word with `/root/`, `/home/`, `/work/`, a temporary folder's name
//! (`/tmp/.tmp…`), or this checkout's own folder; an example output folder such as
//! `--out /tmp/impot-particulier` is fine. This file, which names the prefixes, is not read.

use std::path::{Path, PathBuf};

use gouvgen_tests::repo_root;

/// Prefixes of machine folders, whatever the machine.
const MACHINE_PREFIXES: &[&str] = &["/root/", "/home/", "/work/", "/tmp/.tmp"];

/// Folders that are not sources (build output, version control, installed tools).
const SKIPPED_FOLDERS: &[&str] = &["target", ".git", "node_modules"];

/// Every file under `dir`, outside [`SKIPPED_FOLDERS`].
fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            if !SKIPPED_FOLDERS.iter().any(|s| name == *s) {
                files_under(&path, out);
            }
        } else {
            out.push(path);
        }
    }
}

/// The lines of `file` that are documentation, with their 1-based numbers.
fn documentation_lines(root: &Path, file: &Path, text: &str) -> Vec<(usize, String)> {
    let whole_file = file.starts_with(root.join("generated"))
        || file.extension().is_some_and(|e| e == "md")
        || file.file_name().is_some_and(|n| n == "Cargo.toml");
    let is_rust = file.extension().is_some_and(|e| e == "rs");
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            let line = line.trim_start();
            whole_file
                || (is_rust
                    && (line.starts_with("//!")
                        || line.starts_with("///")
                        || line.starts_with("#[doc")
                        || line.starts_with("#![doc")))
        })
        .map(|(i, line)| (i + 1, line.to_string()))
        .collect()
}

/// The machine path in `line`, if any: one of `prefixes` at the start of a word (so a URL's
/// path such as `https://host/home/` does not count).
fn machine_path(line: &str, prefixes: &[String]) -> Option<String> {
    prefixes.iter().find_map(|prefix| {
        line.match_indices(prefix.as_str()).find_map(|(at, _)| {
            let before = line[..at].chars().next_back();
            let starts_word = before.is_none_or(|c| !(c.is_alphanumeric() || "._-/~".contains(c)));
            starts_word.then(|| {
                line[at..]
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
        })
    })
}

#[test]
fn no_doc_names_a_folder_of_the_build_machine() {
    let root = repo_root();
    let mut prefixes: Vec<String> = MACHINE_PREFIXES.iter().map(|p| p.to_string()).collect();
    if let Ok(checkout) = root.canonicalize() {
        prefixes.push(format!("{}/", checkout.display()));
    }
    let mut files = Vec::new();
    files_under(&root, &mut files);
    files.sort();
    let mut found = Vec::new();
    let this_test = root.join("tests/tests/no_machine_paths.rs");
    for file in files.iter().filter(|f| **f != this_test) {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue; // not text
        };
        for (number, line) in documentation_lines(&root, file, &text) {
            if let Some(path) = machine_path(&line, &prefixes) {
                let shown = file.strip_prefix(&root).unwrap_or(file).display();
                found.push(format!("{shown}:{number}: {path}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "machine paths in documentation (say what the file is, or use a relative path, `~` or \
         `$CARGO_HOME`):\n{}",
        found.join("\n")
    );
}

#[test]
fn a_url_path_is_not_a_machine_path() {
    let prefixes = ["/home/".to_string()];
    assert_eq!(machine_path("see https://host/home/x", &prefixes), None);
    assert_eq!(
        machine_path("built in `/home/ci/repo`.", &prefixes).as_deref(),
        Some("/home/ci/repo`.")
    );
}
