//! Generating a client from a build script.
//!
//! ```no_run
//! // In build.rs, inside `fn main()`:
//! gouvgen::build::Config::new("specs/api.yaml").rename_type("JaxBbean", "Situation").run();
//! // In src/lib.rs:
//! // include!(concat!(env!("OUT_DIR"), "/api.rs"));
//! ```
//!
//! [`Config::run`] writes `$OUT_DIR/<spec stem>.rs`, prints `cargo:rerun-if-changed` for the
//! document and every file it references, and on error prints one located message through
//! `cargo::error` and exits, instead of panicking with a backtrace.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::model::Api;
use crate::naming::{pascal, snake};

/// Build-script settings.
#[derive(Debug, Clone)]
pub struct Config {
    spec: PathBuf,
    out_file: Option<String>,
    type_renames: Vec<(String, String)>,
    operation_renames: Vec<(String, String)>,
    allowed_ref_dirs: Vec<PathBuf>,
    strict: bool,
    features_per_tag: bool,
}

impl Config {
    /// A document, relative to the crate's manifest folder (or absolute).
    pub fn new(spec: impl AsRef<Path>) -> Self {
        Config {
            spec: spec.as_ref().to_path_buf(),
            out_file: None,
            type_renames: Vec::new(),
            operation_renames: Vec::new(),
            allowed_ref_dirs: Vec::new(),
            strict: false,
            features_per_tag: false,
        }
    }

    /// Name of the file written into `OUT_DIR` (default: the document's stem + `.rs`).
    pub fn out_file(mut self, name: impl Into<String>) -> Self {
        self.out_file = Some(name.into());
        self
    }

    /// Renames a generated type, found by its schema name or its generated name.
    pub fn rename_type(mut self, from: impl Into<String>, to: impl Into<String>) -> Self {
        self.type_renames.push((from.into(), to.into()));
        self
    }

    /// Renames the method of an operation, found by `operationId` or generated method name.
    pub fn rename_operation(mut self, from: impl Into<String>, to: impl Into<String>) -> Self {
        self.operation_renames.push((from.into(), to.into()));
        self
    }

    /// Lets the document's external `$ref`s also read files under `dir` (relative to the
    /// crate's manifest folder, or absolute); by default only the document's own folder.
    pub fn allow_refs_outside(mut self, dir: impl AsRef<Path>) -> Self {
        self.allowed_ref_dirs.push(dir.as_ref().to_path_buf());
        self
    }

    /// Fails the build on any warning of the document (by default warnings are printed as
    /// `cargo:warning` lines and the build goes on).
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Compiles each tag's operations, and the types only they reach, under
    /// `#[cfg(feature = "<tag>")]` (the tag in kebab case: `Unités légales` →
    /// `unites-legales`). The including crate declares those features in its `Cargo.toml`;
    /// the build script prints their names as `cargo:warning` lines when none is on.
    pub fn features_per_tag(mut self, on: bool) -> Self {
        self.features_per_tag = on;
        self
    }

    /// Generates the module; returns the file written. Errors are returned, not printed.
    pub fn generate(&self) -> Result<PathBuf> {
        let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_default();
        let spec_path = if self.spec.is_absolute() {
            self.spec.clone()
        } else {
            manifest_dir.join(&self.spec)
        };
        let out_dir = std::env::var_os("OUT_DIR")
            .map(PathBuf::from)
            .ok_or_else(|| Error::Config {
                message: "OUT_DIR is not set".into(),
                hint: "call gouvgen::build from a build script (build.rs)".into(),
            })?;
        // Watch the root document even when it fails to load, so fixing it triggers a rebuild.
        println!("cargo:rerun-if-changed={}", spec_path.display());
        let options = crate::load::LoadOptions {
            allowed_ref_dirs: (self.allowed_ref_dirs.iter())
                .map(|d| manifest_dir.join(d))
                .collect(),
            strict: self.strict,
            ..Default::default()
        };
        let mut spec = crate::read_spec_with(&spec_path, &options)?;
        for input in spec.inputs.iter().skip(1) {
            println!("cargo:rerun-if-changed={}", input.display());
        }
        for w in &spec.warnings {
            println!("cargo:warning={}", w.to_string().replace('\n', " "));
        }
        self.apply_renames(&mut spec.api)?;
        let source = crate::emit::module_source_with(&spec.api, self.features_per_tag)?;
        if self.features_per_tag {
            announce_features(&spec.api);
        }
        let name = self.out_file.clone().unwrap_or_else(|| {
            format!(
                "{}.rs",
                spec_path
                    .file_stem()
                    .map(|s| snake(&s.to_string_lossy()))
                    .unwrap_or_else(|| "api".into())
            )
        });
        let target = out_dir.join(name);
        let header = format!(
            "// Generated by gouvgen {} from {}.\n",
            env!("CARGO_PKG_VERSION"),
            spec.provenance.file_name
        );
        std::fs::write(&target, format!("{header}{source}"))
            .map_err(|e| Error::io(&target, e, "check OUT_DIR is writable"))?;
        Ok(target)
    }

    /// Generates the module, or reports the error to Cargo, which then fails the build
    /// showing only that message (`cargo::error`, Cargo 1.84+).
    pub fn run(self) {
        if let Err(e) = self.generate() {
            let mut lines = e
                .to_string()
                .lines()
                .map(str::to_string)
                .collect::<Vec<_>>()
                .into_iter();
            if let Some(first) = lines.next() {
                println!("cargo::error=gouvgen: {first}");
            }
            for line in lines {
                println!("cargo::error={}", line.trim_start());
            }
        }
    }

    fn apply_renames(&self, api: &mut Api) -> Result<()> {
        for (from, to) in &self.type_renames {
            let target = pascal(to);
            let found = api
                .types
                .types
                .iter_mut()
                .find(|t| t.original.as_deref() == Some(from.as_str()) || &t.name == from);
            match found {
                Some(t) => {
                    t.name = target;
                    t.renamed_from = None;
                }
                None => return Err(unknown("type", from)),
            }
        }
        for (from, to) in &self.operation_renames {
            let found = api
                .operations
                .iter_mut()
                .find(|o| &o.id == from || &o.method_name == from);
            match found {
                Some(op) => {
                    op.method_name = snake(to);
                    op.type_prefix = pascal(to);
                }
                None => return Err(unknown("operation", from)),
            }
        }
        crate::surface::settle_type_names(api);
        let mut seen = std::collections::HashSet::new();
        for t in &api.types.types {
            if !seen.insert(t.name.clone()) {
                return Err(Error::Config {
                    message: format!("two types are named `{}` after renaming", t.name),
                    hint: "choose another name in rename_type".into(),
                });
            }
        }
        let mut seen = std::collections::HashSet::new();
        for o in &api.operations {
            if !seen.insert(o.method_name.clone()) {
                return Err(Error::Config {
                    message: format!(
                        "two operations are named `{}` after renaming",
                        o.method_name
                    ),
                    hint: "choose another name in rename_operation".into(),
                });
            }
        }
        Ok(())
    }
}

fn unknown(what: &str, name: &str) -> Error {
    Error::Config {
        message: format!("no {what} named `{name}` in the document"),
        hint: format!("check the {what} name (schema name, operationId or generated name)"),
    }
}

/// When the crate turned none of the tag features on, says which ones it can declare: the
/// module would compile, but with no operation in it.
fn announce_features(api: &crate::model::Api) {
    let features = crate::surface::Features::per_tag(api);
    let names: Vec<&String> = features.tags.keys().collect();
    let on = names.iter().any(|n| {
        let var = format!("CARGO_FEATURE_{}", n.to_uppercase().replace('-', "_"));
        std::env::var_os(var).is_some()
    });
    if !on && !names.is_empty() {
        let list: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
        println!(
            "cargo:warning=gouvgen: no tag feature is on, so no operation compiles; declare and turn on some of: {}",
            list.join(", ")
        );
    }
}
