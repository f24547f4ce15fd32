//! The documents measured: every file of `../shared/corpus` (read in place, never copied) and
//! every document listed in our `specs/manifest.toml` (or, without a manifest, every JSON/YAML
//! file of `specs/`). Our specs are being written while the bench is developed, so 0..n of them.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Doc {
    pub path: PathBuf,
    /// `corpus/dgfip/ficoba.json`, `specs/piste/judilibre.yaml`.
    pub label: String,
    /// Crate-name friendly, unique: `corpus_dgfip_ficoba`.
    pub slug: String,
    pub bytes: u64,
}

fn is_doc(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("json" | "yaml" | "yml")
    )
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else if is_doc(&p) {
            out.push(p);
        }
    }
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

fn doc(path: PathBuf, prefix: &str, base: &Path) -> Doc {
    let rel = path.strip_prefix(base).unwrap_or(&path).to_string_lossy();
    let label = format!("{prefix}/{rel}");
    let stem = label.rsplit_once('.').map(|(a, _)| a).unwrap_or(&label);
    Doc {
        bytes: std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0),
        slug: slug(stem),
        label,
        path,
    }
}

/// Spec paths listed in `specs/manifest.toml` (`spec = "dgfip/ficoba.json"` lines).
fn manifest_specs(specs: &Path) -> Option<Vec<PathBuf>> {
    let text = std::fs::read_to_string(specs.join("manifest.toml")).ok()?;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("spec") {
            let rest = rest.trim_start();
            if let Some(v) = rest.strip_prefix('=') {
                let v = v.trim().trim_matches('"');
                let p = specs.join(v);
                if p.is_file() && !out.contains(&p) {
                    out.push(p);
                }
            }
        }
    }
    Some(out)
}

pub fn discover(corpus: &Path, specs: &Path) -> Vec<Doc> {
    let mut files = Vec::new();
    walk(corpus, &mut files);
    let mut docs: Vec<Doc> = files
        .into_iter()
        .map(|p| doc(p, "corpus", corpus))
        .collect();
    let spec_files = manifest_specs(specs).unwrap_or_else(|| {
        let mut v = Vec::new();
        walk(specs, &mut v);
        v
    });
    docs.extend(spec_files.into_iter().map(|p| doc(p, "specs", specs)));
    docs
}

/// Whether the document declares OpenAPI 3.0.x (the only dialect progenitor accepts); read
/// from its first few kilobytes.
pub fn openapi_version(doc: &Doc) -> String {
    let text = std::fs::read_to_string(&doc.path).unwrap_or_default();
    for key in ["\"openapi\"", "openapi:", "\"swagger\"", "swagger:"] {
        if let Some(i) = text.find(key) {
            let rest = &text[i + key.len()..];
            let v: String = rest
                .trim_start_matches([' ', ':', '"', '\''])
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let kind = if key.contains("swagger") {
                "Swagger "
            } else {
                "OpenAPI "
            };
            return format!("{kind}{v}");
        }
    }
    "?".into()
}
