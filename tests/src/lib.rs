//! Helpers shared by the cross-crate tests: where things are, and a scratch Cargo workspace
//! in which generated crates are compiled, linted and tested for real.

use std::path::{Path, PathBuf};
use std::process::Command;

use gouvgen::{CrateSettings, RuntimeDep};

pub mod e2e;
pub mod module_graph;
pub mod mutation;
// One helper for both crates' Redis tests, from the runtime's `test-util` feature.
pub use gouvgen_runtime::test_util::redis_server;
pub mod schema_check;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The corpus of real documents: `GOUVGEN_CORPUS`, default `../shared/corpus` (which CI
/// provides next to the clone). It is read in place, never copied.
pub fn corpus_dir() -> PathBuf {
    std::env::var_os("GOUVGEN_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/corpus"))
}

/// The providers' staging cases (`etalab/siade_staging_data`): `GOUVGEN_FIXTURES`, default
/// `../shared/fixtures/siade-staging`, read in place like the corpus.
pub fn staging_fixtures_dir() -> PathBuf {
    std::env::var_os("GOUVGEN_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/fixtures/siade-staging"))
}

/// The staging cases' folder, or `None` after [`skip`] when it is absent.
pub fn staging_fixtures_or_skip(test: &str) -> Option<PathBuf> {
    let dir = staging_fixtures_dir();
    if dir.join("payloads").is_dir() {
        Some(dir)
    } else {
        skip(
            test,
            &format!(
                "no staging fixtures at {} (set GOUVGEN_FIXTURES to its folder)",
                dir.display()
            ),
        );
        None
    }
}

/// Whether this run is CI (`CI=true`), where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Skips a test that lacks something from outside: one `SKIPPED` line on stderr naming the
/// test and what is missing. Under `CI=true` it fails instead, since CI installs everything.
pub fn skip(test: &str, missing: &str) {
    assert!(
        !in_ci(),
        "{test}: {missing} (CI=true: nothing may be skipped)"
    );
    // Straight to the process's stderr, past the test harness's capture: the line shows in
    // a plain `cargo test` run, where the test passes.
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {missing}");
}

/// The corpus folder, or `None` after [`skip`] when it is absent.
pub fn corpus_or_skip(test: &str) -> Option<PathBuf> {
    let dir = corpus_dir();
    if dir.is_dir() {
        Some(dir)
    } else {
        skip(
            test,
            &format!(
                "no corpus at {} (set GOUVGEN_CORPUS to its folder)",
                dir.display()
            ),
        );
        None
    }
}

/// Every document of the corpus, sorted (empty when there is no corpus).
pub fn corpus_documents() -> Vec<PathBuf> {
    let mut out = Vec::new();
    collect(&corpus_dir(), &mut out);
    out.sort();
    out
}

/// Folder of the outside tools the tests use (`GOUVGEN_TOOLS`, default
/// `~/.cache/gouvgen-tools`), filled by `.ci/install-tools`.
pub fn tools_dir() -> PathBuf {
    std::env::var_os("GOUVGEN_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/tmp".into()))
                .join(".cache/gouvgen-tools")
        })
}

/// An installed tool at `relative` under [`tools_dir`], or `None` after [`skip`].
pub fn tool_or_skip(test: &str, relative: &str) -> Option<PathBuf> {
    let path = tools_dir().join(relative);
    if path.exists() {
        Some(path)
    } else {
        skip(
            test,
            &format!(
                "{} is not installed (run `bash .ci/install-tools`)",
                path.display()
            ),
        );
        None
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("json" | "yaml" | "yml")
        ) {
            out.push(path);
        }
    }
}

/// The README's "Test without credentials" code block (the one after the
/// `<!-- tests/tests/without_credentials.rs -->` marker).
pub fn readme_test_without_credentials() -> String {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    readme
        .split("<!-- tests/tests/without_credentials.rs -->\n```rust\n")
        .nth(1)
        .and_then(|t| t.split("```").next())
        .expect("the README's test-without-credentials block")
        .to_string()
}

/// The target folder this test run builds into.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
}

/// A Cargo workspace outside the repository holding generated crates.
pub struct ScratchWorkspace {
    /// Its folder (stable across runs, so rebuilds are incremental).
    pub dir: PathBuf,
    members: Vec<String>,
}

impl ScratchWorkspace {
    /// A fresh workspace folder named `name` under the target folder.
    pub fn new(name: &str) -> Self {
        let dir = target_dir().join("gouvgen-scratch").join(name);
        if dir.exists() {
            for entry in std::fs::read_dir(&dir).expect("readable").flatten() {
                let keep = entry.file_name() == "Cargo.lock";
                if !keep {
                    let p = entry.path();
                    if p.is_dir() {
                        std::fs::remove_dir_all(&p).ok()
                    } else {
                        std::fs::remove_file(&p).ok()
                    };
                }
            }
        }
        std::fs::create_dir_all(&dir).expect("scratch workspace");
        // Start from the repository's lock file so versions match what the repo tests.
        if !dir.join("Cargo.lock").exists()
            && let Ok(lock) = std::fs::read(repo_root().join("Cargo.lock"))
        {
            std::fs::write(dir.join("Cargo.lock"), lock).expect("lock");
        }
        ScratchWorkspace {
            dir,
            members: Vec::new(),
        }
    }

    /// Generates a crate for `spec` as member `name`, with the examples test file.
    pub fn add(&mut self, spec: &Path, name: &str) -> Result<gouvgen::Spec, gouvgen::Error> {
        self.add_crate(spec, name, true)
    }

    /// Generates a crate for `spec` as member `name`, without the examples test file (for
    /// documents whose schemas a validator may not even read, such as mutants).
    pub fn add_plain(&mut self, spec: &Path, name: &str) -> Result<gouvgen::Spec, gouvgen::Error> {
        self.add_crate(spec, name, false)
    }

    fn add_crate(
        &mut self,
        spec: &Path,
        name: &str,
        examples: bool,
    ) -> Result<gouvgen::Spec, gouvgen::Error> {
        let read = gouvgen::read_spec(spec)?;
        let mut settings = CrateSettings::new(name);
        if examples {
            settings.example_tests = true;
            settings.example_skip = schema_check::contradicting_examples(spec);
        }
        settings.runtime = RuntimeDep::Path {
            path: repo_root().join("runtime").to_string_lossy().into_owned(),
            version: gouvgen::emit::RUNTIME_VERSION.into(),
        };
        let files = gouvgen::generate_files(&read, &settings)?;
        gouvgen::output::write_crate(&files, &self.dir.join(name), true)?;
        self.members.push(name.to_string());
        Ok(read)
    }

    /// Writes the workspace manifest.
    pub fn finish(&self) {
        self.finish_with_extra(&[], &[]);
    }

    /// Writes the workspace manifest with extra members (crates written by the test itself).
    pub fn finish_with_extra(&self, extra: &[&str], more: &[String]) {
        let members: Vec<String> = self
            .members
            .iter()
            .map(String::as_str)
            .chain(extra.iter().copied())
            .chain(more.iter().map(String::as_str))
            .map(|m| format!("    \"{m}\","))
            .collect();
        let manifest = format!(
            "[workspace]\nresolver = \"3\"\nmembers = [\n{}\n]\n",
            members.join("\n")
        );
        std::fs::write(self.dir.join("Cargo.toml"), manifest).expect("workspace manifest");
    }

    /// Runs cargo with `args` in the workspace; returns (success, combined output).
    pub fn cargo(&self, args: &[&str]) -> (bool, String) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let output = Command::new(cargo)
            .args(args)
            .current_dir(&self.dir)
            .env(
                "CARGO_TARGET_DIR",
                target_dir().join("gouvgen-scratch-target"),
            )
            .env_remove("RUSTFLAGS")
            .output()
            .expect("cargo runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.success(), text)
    }
}

/// Crate name for a corpus document: `dgfip/ficoba.json` → `corpus-dgfip-ficoba`.
pub fn crate_name_for(doc: &Path) -> String {
    let parent = doc
        .parent()
        .and_then(|p| p.file_name())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = doc
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(
        "corpus-{}-{}",
        parent,
        gouvgen::naming::snake(&stem).replace('_', "-")
    )
}

/// Lines of cargo output that are diagnostics, for short failure messages.
pub fn diagnostics(output: &str, max: usize) -> String {
    output
        .lines()
        .filter(|l| {
            l.starts_with("error")
                || l.starts_with("warning")
                || l.trim_start().starts_with("-->")
                || l.contains("examples do not decode")
                || l.starts_with('#')
        })
        .take(max)
        .collect::<Vec<_>>()
        .join("\n")
}
