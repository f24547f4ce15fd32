//! Stage 1, loading: files on disk → one JSON value per document, external `$ref`s bundled in.
//!
//! Handles what real documents do: JSON or YAML, a leading BOM or whitespace, CRLF, YAML 1.1
//! habits (see [`yaml`]), and relative references to other files.

mod bundle;
pub mod guard;
mod json_locate;
pub mod yaml;
mod yaml_error;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{Diagnostic, Error, Location, Result};

/// A loaded document: the root file's value with every external reference bundled in.
#[derive(Debug, Clone)]
pub struct Document {
    /// The root file, as given.
    pub path: PathBuf,
    /// The root file's text (kept to locate diagnostics).
    pub text: String,
    /// The document, external references replaced by local ones.
    pub root: Value,
    /// Every file read: the root first, then referenced files in the order met.
    pub files: Vec<PathBuf>,
    /// What reading the text had to interpret (an integer too wide for 64 bits), located.
    pub warnings: Vec<Diagnostic>,
}

impl Document {
    /// Fills in the line and column of a location in the root file, when it can be found.
    pub fn locate(&self, mut location: Location) -> Location {
        if location.line_col.is_none()
            && location.file == self.path
            && let Some(pointer) = &location.pointer
        {
            location.line_col = yaml::locate(&self.text, pointer);
        }
        location
    }

    /// Diagnostics at pointers, each with the line of the nearest node that exists in the
    /// file (pointers into converted documents may go deeper than the original text). One
    /// pass over the text serves them all.
    pub fn diagnostics_near(&self, items: Vec<(String, String)>) -> Vec<Diagnostic> {
        let mut probes: Vec<&str> = Vec::new();
        for (pointer, _) in &items {
            let mut p = pointer.as_str();
            loop {
                probes.push(p);
                match p.rfind('/') {
                    Some(i) => p = &p[..i],
                    None => break,
                }
            }
        }
        let found = yaml::locate_many(&self.text, &probes);
        items
            .into_iter()
            .map(|(pointer, message)| {
                let mut loc = Location::at(&self.path, pointer.clone());
                let mut p = pointer.as_str();
                loop {
                    if let Some(lc) = found.get(p) {
                        loc.line_col = Some(*lc);
                        break;
                    }
                    match p.rfind('/') {
                        Some(i) => p = &p[..i],
                        None => break,
                    }
                }
                Diagnostic::new(loc, message)
            })
            .collect()
    }

    /// A diagnostic at `pointer` in the root file, with its line when it can be found.
    pub fn diagnostic(&self, pointer: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(self.locate(Location::at(&self.path, pointer)), message)
    }
}

/// Reads a JSON or YAML file into a value, without resolving references.
///
/// This is the loader's public entry point for tools that need the raw document (the gateway
/// emulator uses it to serve examples).
pub fn load_value(path: &Path) -> Result<Value> {
    let text = read_text(path)?;
    parse_text(path, &text)
}

/// What the loader may read besides the document.
///
/// By default external references must stay under the root document's folder: a document
/// reads only its own folder. The `gouvgen` command line sets
/// [`allowed_ref_dirs`](Self::allowed_ref_dirs) with `--allow-refs-outside <DIR>`, a sync
/// manifest entry with `allow_refs_outside = ["DIR", ...]`.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Follow external references to any file, wherever it is.
    pub allow_refs_outside: bool,
    /// Folders, besides the document's own, whose files (and subfolders) external references
    /// may read. Each must exist; it is canonicalised, so `..` and symbolic links cannot
    /// widen it.
    pub allowed_ref_dirs: Vec<PathBuf>,
    /// Refuse the document on any warning (`--strict`): for teams that want a dangling
    /// reference or an Express-style path to stop the build rather than be worked around.
    pub strict: bool,
}

impl LoadOptions {
    /// Also lets external references read files under `dir`.
    pub fn allow_refs_in(mut self, dir: impl Into<PathBuf>) -> Self {
        self.allowed_ref_dirs.push(dir.into());
        self
    }
}

/// Loads a document and bundles the files it references (default [`LoadOptions`]).
pub fn load_document(path: &Path) -> Result<Document> {
    load_document_with(path, &LoadOptions::default())
}

/// Loads a document and bundles the files it references.
pub fn load_document_with(path: &Path, options: &LoadOptions) -> Result<Document> {
    let text = read_text(path)?;
    let (root, warnings) = parse_text_noting(path, &text)?;
    let mut doc = Document {
        path: path.to_path_buf(),
        text,
        root,
        files: vec![path.to_path_buf()],
        warnings,
    };
    bundle::bundle(&mut doc, options)?;
    Ok(doc)
}

fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::io(path, e, "check the path and that the file is readable"))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::Syntax(
            Diagnostic::new(
                Location::file(path),
                format!("the file is not UTF-8 text ({e})"),
            )
            .hint("save the document as UTF-8"),
        )
    })?;
    Ok(text)
}

/// Parses text as JSON when it looks like JSON, as YAML otherwise. Flow-style YAML
/// (`{openapi: 3.0.3}`) looks like JSON: when JSON fails and YAML reads it, it is YAML.
pub(crate) fn parse_text(path: &Path, text: &str) -> Result<Value> {
    parse_text_noting(path, text).map(|(value, _)| value)
}

/// [`parse_text`], with a located warning for each integer too wide for 64 bits (read as
/// the nearest floating-point number; JSON parsing does the same, silently).
fn parse_text_noting(path: &Path, text: &str) -> Result<(Value, Vec<Diagnostic>)> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let trimmed = body.trim_start();
    if trimmed.is_empty() {
        return Err(Error::Syntax(
            Diagnostic::new(Location::file(path), "the document is empty")
                .hint("point gouvgen at an OpenAPI or Swagger document"),
        ));
    }
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        serde_json::from_str(body)
            .map(|v| (v, Vec::new()))
            .or_else(|e| {
                if e.classify() == serde_json::error::Category::Syntax
                    && let Ok((v, wide)) = yaml::parse_noting(body)
                {
                    return Ok((v, wide_integer_warnings(path, wide)));
                }
                Err(e)
            })
            .map_err(|e| {
                let mut loc = Location::file(path);
                loc.line_col = Some((e.line(), e.column()));
                let what = match e.classify() {
                    serde_json::error::Category::Eof => {
                        "the JSON document ends too early (truncated?)"
                    }
                    _ => "the JSON document is not well-formed",
                };
                Error::Syntax(Diagnostic::new(loc, format!("{what}: {e}")).hint(
                "fix the JSON syntax at that line (a validator such as `jq . FILE` shows it too)",
            ))
            })
    } else {
        yaml::parse_noting(body)
            .map(|(v, wide)| (v, wide_integer_warnings(path, wide)))
            .map_err(|e| {
                let mut loc = Location::file(path);
                loc.line_col = e.line_col;
                Error::Syntax(
                    Diagnostic::new(loc, format!("the YAML document is not well-formed: {}", e.message))
                        .hint("fix the YAML syntax at that line (indentation and quoting are the usual causes)"),
                )
            })
    }
}

/// One located warning per integer too wide for 64 bits.
fn wide_integer_warnings(path: &Path, wide: Vec<yaml::WideInteger>) -> Vec<Diagnostic> {
    wide.into_iter()
        .map(|w| {
            let mut loc = Location::file(path);
            loc.line_col = Some((w.line, w.col));
            Diagnostic::new(
                loc,
                format!(
                    "integer `{}` does not fit in 64 bits; read as the nearest decimal number",
                    w.text
                ),
            )
            .hint(format!(
                "write it as a decimal number (`{}.0`), or as an integer within 64 bits",
                w.text
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse_text;
    use std::path::Path;

    #[test]
    fn bom_leading_whitespace_and_crlf_are_accepted() {
        let p = Path::new("doc");
        let json = "\u{feff}\r\n  {\"openapi\": \"3.0.3\",\r\n \"paths\": {}}\r\n";
        assert_eq!(parse_text(p, json).unwrap()["openapi"], "3.0.3");
        let yaml = "\u{feff}openapi: 3.0.3\r\npaths:\r\n  /a:\r\n    get:\r\n      responses:\r\n        200:\r\n          description: ok\r\n";
        let v = parse_text(p, yaml).unwrap();
        assert_eq!(
            v["paths"]["/a"]["get"]["responses"]["200"]["description"],
            "ok"
        );
        assert!(
            parse_text(p, "\u{feff}  \r\n").is_err(),
            "empty documents are refused"
        );
    }
}
