//! `gouvgen sync`: regenerate every client of the manifest; `--check` for CI.
//!
//! Each generated crate keeps a copy of the document it was generated from (`spec/`), so the
//! next sync can compare old and new documents, bump the crate version by what changed for
//! users ([`gouvgen::diff`]) and prepend a CHANGELOG entry listing the changes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::manifest::{ClientEntry, Manifest};
use gouvgen::diff::{self, Bump};
use gouvgen::emit::{CrateSettings, Files, RuntimeDep};
use gouvgen::error::{Error, Result};
use gouvgen::output;

/// What sync did (or, with `check`, would do) for one client.
#[derive(Debug, Clone)]
pub struct ClientOutcome {
    /// Crate name.
    pub crate_name: String,
    /// Version before and after.
    pub version: (String, String),
    /// Files that differ from what is on disk (relative to the repository root).
    pub stale: Vec<PathBuf>,
    /// The bump applied.
    pub bump: Bump,
    /// Operation count.
    pub operations: usize,
    /// When stale files were laid out by another formatter than this machine's: both.
    pub layout_mismatch: Option<(String, String)>,
}

/// Paths of a repository laid out as gouvgen expects.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Repository root.
    pub root: PathBuf,
    /// The manifest.
    pub manifest: PathBuf,
    /// The runtime crate folder.
    pub runtime: PathBuf,
}

impl Layout {
    /// `specs/manifest.toml` and `runtime/` under `root`.
    pub fn at(root: &Path) -> Layout {
        Layout {
            root: root.to_path_buf(),
            manifest: root.join("specs/manifest.toml"),
            runtime: root.join("runtime"),
        }
    }
}

/// Regenerates (or, with `check`, verifies) every client of the manifest.
pub fn sync(layout: &Layout, check: bool) -> Result<Vec<ClientOutcome>> {
    let manifest = Manifest::load(&layout.manifest)?;
    let specs_dir = layout
        .manifest
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let runtime_version = runtime_version(&layout.runtime)?;
    let mut outcomes = Vec::new();
    let mut new_versions = BTreeMap::new();
    for entry in &manifest.clients {
        let outcome = sync_one(
            layout,
            &manifest,
            entry,
            &specs_dir,
            &runtime_version,
            check,
        )?;
        if outcome.version.0 != outcome.version.1 {
            new_versions.insert(entry.crate_name.clone(), outcome.version.1.clone());
        }
        outcomes.push(outcome);
    }
    if !check && !new_versions.is_empty() {
        update_manifest_versions(&layout.manifest, &new_versions)?;
    }
    Ok(outcomes)
}

fn runtime_version(runtime: &Path) -> Result<String> {
    let path = runtime.join("Cargo.toml");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::io(&path, e, "run gouvgen sync from the repository root"))?;
    let doc: toml::Table = toml::from_str(&text).map_err(|e| Error::Config {
        message: format!("{}: {e}", path.display()),
        hint: "fix the runtime manifest".into(),
    })?;
    Ok(doc
        .get("package")
        .and_then(|p| p.get("version"))
        .and_then(|v| v.as_str())
        .unwrap_or("0.1.0")
        .to_string())
}

fn relative(from: &Path, to: &Path) -> String {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> =
        std::iter::repeat_n("..".to_string(), from.len() - common).collect();
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

fn settings_for(
    layout: &Layout,
    manifest: &Manifest,
    entry: &ClientEntry,
    api: &gouvgen::model::Api,
    version: &str,
    runtime_version: &str,
) -> CrateSettings {
    let mut s = CrateSettings::new(entry.crate_name.clone());
    s.version = version.to_string();
    s.description = entry.description.clone();
    s.keywords = entry.keywords.clone();
    s.license = manifest.defaults.license.clone();
    s.repository = manifest.defaults.repository.clone();
    s.documentation = manifest.defaults.documentation.clone();
    s.publish = manifest.defaults.publish.clone();
    // Relative inside the repository; a runtime kept elsewhere is named by its absolute path.
    let path = match layout.runtime.strip_prefix(&layout.root) {
        Ok(inside) => relative(&entry.output, inside),
        Err(_) => layout.runtime.to_string_lossy().into_owned(),
    };
    s.runtime = RuntimeDep::Path {
        path,
        version: runtime_version.to_string(),
    };
    s.example_tests = true;
    s.features_per_tag = entry.features_per_tag;
    s.default_features = entry.default_features.clone();
    s.usage_doc = Some(crate::usage::usage_doc(entry, api));
    s
}

fn sync_one(
    layout: &Layout,
    manifest: &Manifest,
    entry: &ClientEntry,
    specs_dir: &Path,
    runtime_version: &str,
    check: bool,
) -> Result<ClientOutcome> {
    let spec_path = specs_dir.join(&entry.spec);
    let options = entry.load_options(specs_dir)?;
    let spec = gouvgen::read_spec_with(&spec_path, &options)?;
    let out = layout.root.join(&entry.output);
    let spec_file_name = spec.provenance.file_name.clone();
    let previous_spec = out.join("spec").join(&spec_file_name);

    let (mut bump, mut changes_text) = changes_since(
        &previous_spec,
        &spec_path,
        &spec,
        &options,
        entry.features_per_tag,
    )?;
    // The gouvgen that wrote the crate on disk (`None`: no crate yet, or not generated).
    let on_disk_lib = std::fs::read_to_string(out.join("src/lib.rs")).ok();
    let written_by = on_disk_lib.as_deref().and_then(generated_by);
    // A generator release that reshapes the generated API is a breaking release of the crate.
    if let Some(reasons) = written_by.and_then(|v| generator_breaks(v, &spec.api)) {
        for r in reasons {
            changes_text.push_str(&format!("- **breaking** {r}\n"));
        }
        bump = Bump::Major;
    }
    let regen = Regen {
        layout,
        manifest,
        entry,
        spec: &spec,
        runtime_version,
        out: &out,
    };
    let mut version = bump.apply(&entry.version);
    let mut files = regen.files(&version, bump, &changes_text)?;
    let mut stale = stale_files(&files, &out, &entry.output);
    // Same document, other contents under the same version (a new gouvgen, new package
    // metadata): a registry takes a version once, so the crate gets a patch release.
    if bump == Bump::None && !stale.is_empty() && regenerated_differently(written_by, &out, &files)
    {
        bump = Bump::Patch;
        version = bump.apply(&entry.version);
        changes_text = format!(
            "- regenerated by gouvgen {} from the same document (generated code or package metadata changed)\n",
            gouvgen::VERSION
        );
        files = regen.files(&version, bump, &changes_text)?;
        stale = stale_files(&files, &out, &entry.output);
    }
    let layout_mismatch = (!stale.is_empty())
        .then(|| {
            let recorded = layout_record(&std::fs::read_to_string(out.join("Cargo.toml")).ok()?)?;
            let here = layout_record(files.get("Cargo.toml")?)?;
            (recorded != here).then_some((recorded, here))
        })
        .flatten();
    if !check && !stale.is_empty() {
        output::write_crate(&files, &out, false)?;
    }
    Ok(ClientOutcome {
        crate_name: entry.crate_name.clone(),
        version: (entry.version.clone(), version),
        stale,
        bump,
        operations: spec.api.operations.len(),
        layout_mismatch,
    })
}

/// What one client's crate is generated from.
struct Regen<'a> {
    layout: &'a Layout,
    manifest: &'a Manifest,
    entry: &'a ClientEntry,
    spec: &'a gouvgen::Spec,
    runtime_version: &'a str,
    out: &'a Path,
}

impl Regen<'_> {
    /// The crate's files at `version`: generated code, the document's copy, the changelog (a
    /// new section unless `bump` is none).
    fn files(&self, version: &str, bump: Bump, changes_text: &str) -> Result<Files> {
        let settings = settings_for(
            self.layout,
            self.manifest,
            self.entry,
            &self.spec.api,
            version,
            self.runtime_version,
        );
        let mut files: Files = gouvgen::generate_files(self.spec, &settings)?;
        for input in &self.spec.inputs {
            let name = input
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let bytes = std::fs::read_to_string(input)
                .map_err(|e| Error::io(input, e, "check permissions"))?;
            files.insert(format!("spec/{name}"), bytes);
        }
        let previous_changelog = std::fs::read_to_string(self.out.join("CHANGELOG.md")).ok();
        let spec_file_name = &self.spec.provenance.file_name;
        let changelog = match (previous_changelog, bump) {
            (Some(text), Bump::None) => text,
            (previous, _) => new_changelog(previous, version, changes_text, spec_file_name),
        };
        files.insert("CHANGELOG.md".into(), changelog);
        Ok(files)
    }
}

/// Whether the crate on disk (written by gouvgen `written_by`) was generated by another
/// gouvgen or with other package metadata than `files` (a hand edit of generated code is
/// neither: sync only undoes it).
fn regenerated_differently(written_by: Option<&str>, out: &Path, files: &Files) -> bool {
    let new_by = files.get("src/lib.rs").and_then(|t| generated_by(t));
    let generator_changed = written_by.is_some() && new_by.is_some() && written_by != new_by;
    let comparable = |t: &str| without_layout_record(t).unwrap_or_else(|| t.to_string());
    let on_disk_toml = std::fs::read_to_string(out.join("Cargo.toml")).ok();
    let metadata_changed = match (on_disk_toml, files.get("Cargo.toml")) {
        (Some(old), Some(new)) => comparable(&old) != comparable(new),
        _ => false,
    };
    generator_changed || metadata_changed
}

/// The gouvgen version a generated `lib.rs` names in its first line.
fn generated_by(lib: &str) -> Option<&str> {
    (lib.lines()
        .next()?
        .strip_prefix("// Generated by gouvgen ")?)
    .split_whitespace()
    .next()
}

/// What changed for Rust callers since the document copy kept in the crate (`previous`): the
/// bump and one changelog line per change (nothing if the document is the same).
fn changes_since(
    previous: &Path,
    spec_path: &Path,
    spec: &gouvgen::Spec,
    options: &gouvgen::load::LoadOptions,
    features_per_tag: bool,
) -> Result<(Bump, String)> {
    let mut text = String::new();
    if !previous.exists() {
        return Ok((Bump::None, text));
    }
    let old = std::fs::read(previous).map_err(|e| Error::io(previous, e, "check permissions"))?;
    let new = std::fs::read(spec_path).map_err(|e| Error::io(spec_path, e, "check permissions"))?;
    if old == new {
        return Ok((Bump::None, text));
    }
    let old_spec = read_previous(previous, &spec.inputs, options)?;
    let report = diff::compare_with(&old_spec.api, &spec.api, features_per_tag);
    let bump = if report.bump == Bump::None {
        Bump::Patch
    } else {
        report.bump
    };
    for c in &report.changes {
        let breaking = if c.breaking { "**breaking** " } else { "" };
        text.push_str(&format!("- {breaking}{}: {}\n", c.location, c.detail));
    }
    if report.changes.is_empty() {
        text.push_str("- documentation and examples only\n");
    }
    Ok((bump, text))
}

/// The crate's changelog with a section for `version` on top of the `previous` one.
fn new_changelog(
    previous: Option<String>,
    version: &str,
    changes_text: &str,
    spec_file_name: &str,
) -> String {
    let mut text = String::from("# Changelog\n\n");
    text.push_str(&format!("## {version}\n\n"));
    if changes_text.is_empty() {
        text.push_str(&format!("- generated from `{spec_file_name}`\n"));
    } else {
        text.push_str(changes_text);
    }
    if let Some(prev) = previous {
        text.push('\n');
        text.push_str(prev.trim_start_matches("# Changelog\n\n"));
    }
    text
}

/// A generated `Cargo.toml` without its layout record (`None`: it has none).
fn without_layout_record(cargo_toml: &str) -> Option<String> {
    layout_record(cargo_toml)?;
    let lines = cargo_toml.split_inclusive('\n');
    let kept = lines.filter(|l| !l.starts_with(gouvgen::emit::format::LAYOUT_RECORD));
    Some(kept.collect())
}

/// The formatter a generated `Cargo.toml` says laid out its sources.
fn layout_record(cargo_toml: &str) -> Option<String> {
    let line = cargo_toml
        .lines()
        .find_map(|l| l.strip_prefix(gouvgen::emit::format::LAYOUT_RECORD))?;
    Some(line.trim_end_matches('.').to_string())
}

/// Reads the copy of the previous document kept in the crate's `spec/` folder.
///
/// The copies are kept flat (`spec/<file name>`), but references name files by their path
/// from the referencing file (`../shared/common.yaml`). For a document of several files the
/// copies are laid out again as the current files are, in a temporary folder, and read there;
/// its references may then read only that folder.
fn read_previous(
    previous: &Path,
    inputs: &[PathBuf],
    options: &gouvgen::load::LoadOptions,
) -> Result<gouvgen::Spec> {
    if inputs.len() < 2 {
        return gouvgen::read_spec_with(previous, options);
    }
    let kept = previous.parent().unwrap_or(Path::new("."));
    let canonical: Vec<PathBuf> = inputs
        .iter()
        .map(|p| std::fs::canonicalize(p).map_err(|e| Error::io(p, e, "check permissions")))
        .collect::<Result<_>>()?;
    let mut common = canonical[0]
        .parent()
        .unwrap_or(Path::new("/"))
        .to_path_buf();
    for p in &canonical[1..] {
        while !p.starts_with(&common) {
            if !common.pop() {
                break;
            }
        }
    }
    let scratch = tempfile::tempdir()
        .map_err(|e| Error::io(Path::new("temporary folder"), e, "check TMPDIR"))?;
    for p in &canonical {
        let (Ok(rel), Some(name)) = (p.strip_prefix(&common), p.file_name()) else {
            continue;
        };
        let copy = kept.join(name);
        if !copy.exists() {
            continue;
        }
        let to = scratch.path().join(rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e, "check TMPDIR"))?;
        }
        std::fs::copy(&copy, &to).map_err(|e| Error::io(&copy, e, "check permissions"))?;
    }
    let root = canonical[0].strip_prefix(&common).unwrap_or(Path::new(""));
    let scoped = gouvgen::load::LoadOptions::default().allow_refs_in(scratch.path());
    gouvgen::read_spec_with(&scratch.path().join(root), &scoped)
}

/// Files that are missing, different, or on disk but no longer generated.
fn stale_files(files: &Files, out: &Path, rel_out: &Path) -> Vec<PathBuf> {
    let mut stale = Vec::new();
    for (rel, content) in files {
        let on_disk = std::fs::read(out.join(rel)).ok();
        let same = match on_disk {
            Some(bytes) if bytes == content.as_bytes() => true,
            // Laid out by another formatter version, otherwise identical: up to date.
            Some(bytes) => String::from_utf8(bytes)
                .ok()
                .and_then(|text| without_layout_record(&text))
                .is_some_and(|text| without_layout_record(content) == Some(text)),
            None => false,
        };
        if !same {
            stale.push(rel_out.join(rel));
        }
    }
    let mut extra = Vec::new();
    list_files(out, out, &mut extra);
    for rel in extra {
        if !files.contains_key(&rel) {
            stale.push(rel_out.join(rel));
        }
    }
    stale.sort();
    stale
}

fn list_files(base: &Path, dir: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name == "Cargo.lock" {
            continue;
        }
        if path.is_dir() {
            list_files(base, &path, out);
        } else if let Ok(rel) = path.strip_prefix(base) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// Writes bumped versions back into the manifest, keeping its comments and layout.
fn update_manifest_versions(path: &Path, versions: &BTreeMap<String, String>) -> Result<()> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::io(path, e, "check permissions"))?;
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| Error::Config {
        message: format!("{}: {e}", path.display()),
        hint: "fix the manifest".into(),
    })?;
    if let Some(clients) = doc
        .get_mut("client")
        .and_then(|c| c.as_array_of_tables_mut())
    {
        for table in clients.iter_mut() {
            let name = table
                .get("crate_name")
                .and_then(|v| v.as_str())
                .map(str::to_string);
            if let Some(v) = name.and_then(|n| versions.get(&n)) {
                table["version"] = toml_edit::value(v.as_str());
            }
        }
    }
    let tmp = path.with_extension("toml.tmp");
    std::fs::write(&tmp, doc.to_string()).map_err(|e| Error::io(&tmp, e, "check permissions"))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e, "check permissions"))
}

/// Why a crate generated by gouvgen `written_by` breaks when regenerated by this one
/// (`None` when no release in between changed the generated API of this crate's model).
fn generator_breaks(written_by: &str, api: &gouvgen::model::Api) -> Option<Vec<&'static str>> {
    let parse = |v: &str| -> Vec<u64> { v.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    let (old, current) = (parse(written_by), parse(gouvgen::VERSION));
    let reasons: Vec<&'static str> = gouvgen::emit::GENERATED_API_BREAKS
        .iter()
        .filter(|b| parse(b.version) > old && parse(b.version) <= current && (b.reaches)(api))
        .map(|b| b.reason)
        .collect();
    (!reasons.is_empty()).then_some(reasons)
}
