//! `specs/manifest.toml`: the clients a repository generates, and how.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use gouvgen::error::{Error, Result};

/// The whole manifest.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Values shared by every client.
    #[serde(default)]
    pub defaults: Defaults,
    /// One entry per generated crate.
    #[serde(default, rename = "client")]
    pub clients: Vec<ClientEntry>,
}

/// Package metadata shared by every client.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// `license`.
    pub license: Option<String>,
    /// `repository`.
    pub repository: Option<String>,
    /// `documentation`.
    pub documentation: Option<String>,
    /// Registries the crates may be published to.
    pub publish: Option<Vec<String>>,
}

/// The gateway a client sits behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Gateway {
    /// DGFiP API Management.
    Dgfip,
    /// PISTE (AIFE).
    Piste,
    /// Douane (DGDDI).
    Douane,
    /// API Entreprise.
    ApiEntreprise,
    /// API Particulier.
    ApiParticulier,
}

/// One client.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientEntry {
    /// Short identifier.
    pub name: String,
    /// Document, relative to the manifest's folder.
    pub spec: PathBuf,
    /// Package name.
    pub crate_name: String,
    /// Package version (`gouvgen sync` bumps it when the document changes).
    pub version: String,
    /// Output folder, relative to the repository root.
    pub output: PathBuf,
    /// Package description.
    pub description: Option<String>,
    /// Package keywords.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Gateway.
    pub gateway: Gateway,
    /// Access points (DGFiP, PISTE).
    #[serde(default)]
    pub access_points: Vec<String>,
    /// Environments.
    #[serde(default)]
    pub environments: Vec<String>,
    /// Token scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// API key header, for APIs that need one.
    pub api_key_header: Option<String>,
    /// Folders outside the document's own whose files its external `$ref`s may read,
    /// relative to the manifest's folder (the command line's `--allow-refs-outside`).
    #[serde(default)]
    pub allow_refs_outside: Vec<PathBuf>,
    /// One Cargo feature per tag of the document (the command line's `--features-per-tag`).
    #[serde(default)]
    pub features_per_tag: bool,
    /// With `features_per_tag`: the features (or tags) on by default (default: all).
    pub default_features: Option<Vec<String>>,
}

impl ClientEntry {
    /// The loader options of this entry; `specs_dir` is the manifest's folder. A folder that
    /// does not exist is a manifest error naming the entry.
    pub fn load_options(&self, specs_dir: &Path) -> Result<gouvgen::load::LoadOptions> {
        let mut options = gouvgen::load::LoadOptions::default();
        for dir in &self.allow_refs_outside {
            let full = specs_dir.join(dir);
            if !full.is_dir() {
                return Err(Error::Config {
                    message: format!(
                        "client `{}`: allow_refs_outside names `{}`, which is not a folder",
                        self.name,
                        full.display()
                    ),
                    hint: "name existing folders, relative to the manifest's folder".into(),
                });
            }
            options.allowed_ref_dirs.push(full);
        }
        Ok(options)
    }
}

impl Manifest {
    /// Reads and checks a manifest.
    pub fn load(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(path, e, "run from the repository root, or pass --root DIR (the folder holding specs/manifest.toml)"))?;
        let manifest: Manifest = toml::from_str(&text).map_err(|e| Error::Config {
            message: format!("{}: {}", path.display(), e.to_string().trim()),
            hint: "fix the manifest entry named above".into(),
        })?;
        let mut names = std::collections::HashSet::new();
        for c in &manifest.clients {
            if !names.insert(&c.crate_name) {
                return Err(Error::Config {
                    message: format!(
                        "{}: crate `{}` is listed twice",
                        path.display(),
                        c.crate_name
                    ),
                    hint: "give each client its own crate_name".into(),
                });
            }
        }
        Ok(manifest)
    }
}
