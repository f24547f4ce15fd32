//! Brings schemas and other nodes from referenced files into the root document.
//!
//! `common.yaml#/components/schemas/Adresse` becomes a local schema `#/components/schemas/Adresse`
//! (renamed on collision), so later stages only ever see local references. Other external
//! nodes (parameters, responses) are inlined where they are referenced. Local references
//! inside an external file are resolved against that file.
//!
//! Only what the specification reads as a reference is one: `$ref` inside `example`,
//! `examples` values, `default`, `enum`, `const` and `x-` extensions is data and left alone.
//! Files are compared by canonical path (a file naming itself by another path is the same
//! file), must stay under the root document's folder unless [`super::LoadOptions`] allows
//! more, and inlining is capped at [`MAX_INLINED_NODES`] nodes.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{Document, parse_text, read_text};
use crate::error::{Diagnostic, Error, Location, Result};
use crate::oas;

const MAX_INLINE_DEPTH: usize = 32;

/// Most JSON nodes that inlining external non-schema nodes may copy into the document.
pub const MAX_INLINED_NODES: usize = 1_000_000;

/// Keys whose value is data, never read for references.
fn is_data_key(key: &str) -> bool {
    matches!(key, "example" | "value" | "default" | "enum" | "const") || key.starts_with("x-")
}

/// Keys whose value is a map from names (not keywords) to nodes.
fn holds_names(key: &str) -> bool {
    matches!(
        key,
        "properties"
            | "patternProperties"
            | "definitions"
            | "$defs"
            | "dependentSchemas"
            | "schemas"
            | "parameters"
            | "responses"
            | "requestBodies"
            | "headers"
            | "securitySchemes"
            | "links"
            | "callbacks"
            | "content"
            | "paths"
            | "pathItems"
            | "encoding"
            | "mapping"
    )
}

/// Whether the document has an external reference where references are read.
fn has_external_ref(v: &Value, names: bool) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, v)| {
            if !names && k == "$ref" {
                return v.as_str().is_some_and(|s| !s.starts_with('#'));
            }
            if !names && is_data_key(k) {
                return false;
            }
            if !names && k == "examples" {
                return match v {
                    Value::Object(entries) => entries
                        .values()
                        .any(|e| oas::reference(e).is_some_and(|s| !s.starts_with('#'))),
                    _ => false,
                };
            }
            has_external_ref(v, !names && holds_names(k))
        }),
        Value::Array(a) => a.iter().any(|v| has_external_ref(v, false)),
        _ => false,
    }
}

struct Bundler {
    /// Canonical path of the root file.
    root_file: PathBuf,
    /// Folder external files must stay under, unless `allow_outside`.
    root_dir: PathBuf,
    /// More folders they may be under (canonical).
    allowed_dirs: Vec<PathBuf>,
    allow_outside: bool,
    inlined_nodes: usize,
    schemas_pointer: &'static str,
    cache: HashMap<PathBuf, Value>,
    named: HashMap<(PathBuf, String), String>,
    taken: BTreeSet<String>,
    added: Vec<(String, Value)>,
    files: Vec<PathBuf>,
}

pub(super) fn bundle(doc: &mut Document, options: &super::LoadOptions) -> Result<()> {
    if !has_external_ref(&doc.root, false) {
        return Ok(());
    }
    let root_file = std::fs::canonicalize(&doc.path)
        .map_err(|e| Error::io(&doc.path, e, "check the path and that the file is readable"))?;
    let root_dir = root_file.parent().unwrap_or(Path::new("/")).to_path_buf();
    let swagger2 = oas::Document(&doc.root).is_swagger2();
    let schemas_pointer = if swagger2 {
        "/definitions"
    } else {
        "/components/schemas"
    };
    let taken = doc
        .root
        .pointer(schemas_pointer)
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let mut b = Bundler {
        root_file: root_file.clone(),
        root_dir,
        allowed_dirs: allowed_dirs(options)?,
        allow_outside: options.allow_refs_outside,
        inlined_nodes: 0,
        schemas_pointer,
        cache: HashMap::new(),
        named: HashMap::new(),
        taken,
        added: Vec::new(),
        files: Vec::new(),
    };
    let root = std::mem::take(&mut doc.root);
    let mut root = b.rewrite(root, &root_file, &mut String::new(), 0, false, doc)?;
    if !b.added.is_empty() {
        let target = ensure_object(&mut root, schemas_pointer);
        for (name, schema) in b.added.drain(..) {
            target.insert(name, schema);
        }
    }
    doc.root = root;
    doc.files.extend(b.files);
    Ok(())
}

fn ensure_object<'a>(root: &'a mut Value, pointer: &str) -> &'a mut Map<String, Value> {
    let mut cur = root;
    for seg in pointer.split('/').skip(1) {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        cur = cur
            .as_object_mut()
            .expect("object")
            .entry(seg)
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if !cur.is_object() {
        *cur = Value::Object(Map::new());
    }
    cur.as_object_mut().expect("object")
}

/// The allowed folders of `options`, canonical; a missing one is an error (a typo there would
/// otherwise read as "outside the document's folder" later).
fn allowed_dirs(options: &super::LoadOptions) -> Result<Vec<PathBuf>> {
    options
        .allowed_ref_dirs
        .iter()
        .map(|dir| {
            let canonical = std::fs::canonicalize(dir).map_err(|e| Error::Config {
                message: format!(
                    "folder `{}` allowed for references cannot be read: {e}",
                    dir.display()
                ),
                hint: "name an existing folder (relative paths start at the working directory)"
                    .into(),
            })?;
            if canonical.is_dir() {
                Ok(canonical)
            } else {
                Err(Error::Config {
                    message: format!("`{}` allowed for references is not a folder", dir.display()),
                    hint: "name the folder that holds the referenced files".into(),
                })
            }
        })
        .collect()
}

impl Bundler {
    /// Whether an external reference may read `file` (canonical).
    fn may_read(&self, file: &Path) -> bool {
        self.allow_outside
            || file.starts_with(&self.root_dir)
            || self.allowed_dirs.iter().any(|d| file.starts_with(d))
    }

    /// Rewrites a node; `names` says its keys are names (under `properties`, `schemas`, …),
    /// so a key `$ref` or `example` there is a name, not a keyword.
    fn rewrite(
        &mut self,
        value: Value,
        file: &Path,
        pointer: &mut String,
        depth: usize,
        names: bool,
        doc: &Document,
    ) -> Result<Value> {
        match value {
            Value::Object(map) => {
                let reference = if names {
                    None
                } else {
                    map.get("$ref").and_then(Value::as_str).map(str::to_string)
                };
                if let Some(reference) = reference {
                    let local_in_root = reference.starts_with('#') && file == self.root_file;
                    if !local_in_root {
                        return self.external(map, &reference, file, pointer, depth, doc);
                    }
                }
                let mut out = Map::new();
                for (k, v) in map {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&k.replace('~', "~0").replace('/', "~1"));
                    let v = if !names && is_data_key(&k) {
                        v
                    } else if !names && k == "examples" {
                        self.examples(v, file, pointer, depth, doc)?
                    } else {
                        let child_names = !names && holds_names(&k);
                        self.rewrite(v, file, pointer, depth, child_names, doc)?
                    };
                    pointer.truncate(len);
                    out.insert(k, v);
                }
                Ok(Value::Object(out))
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, v) in items.into_iter().enumerate() {
                    let len = pointer.len();
                    pointer.push_str(&format!("/{i}"));
                    out.push(self.rewrite(v, file, pointer, depth, false, doc)?);
                    pointer.truncate(len);
                }
                Ok(Value::Array(out))
            }
            other => Ok(other),
        }
    }

    /// `examples`: a map whose entries may be references (to Example objects), or a 3.1
    /// schema's array of plain values.
    fn examples(
        &mut self,
        value: Value,
        file: &Path,
        pointer: &mut String,
        depth: usize,
        doc: &Document,
    ) -> Result<Value> {
        let Value::Object(entries) = value else {
            return Ok(value);
        };
        let mut out = Map::new();
        for (k, v) in entries {
            let v = if oas::reference(&v).is_some() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&k.replace('~', "~0").replace('/', "~1"));
                let v = self.rewrite(v, file, pointer, depth, false, doc)?;
                pointer.truncate(len);
                v
            } else {
                v
            };
            out.insert(k, v);
        }
        Ok(Value::Object(out))
    }

    fn error_at(
        &self,
        file: &Path,
        pointer: &str,
        doc: &Document,
        message: String,
        hint: &str,
    ) -> Error {
        let loc = if file == self.root_file {
            doc.locate(Location::at(&doc.path, format!("{pointer}/$ref")))
        } else {
            Location::at(file, format!("{pointer}/$ref"))
        };
        Error::spec(Diagnostic::new(loc, message).hint(hint))
    }

    fn external(
        &mut self,
        mut map: Map<String, Value>,
        reference: &str,
        file: &Path,
        pointer: &str,
        depth: usize,
        doc: &Document,
    ) -> Result<Value> {
        let site = Site {
            file,
            pointer,
            doc,
            reference,
        };
        let (file_part, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let target_file = self.target_file(&site, file_part)?;
        map.remove("$ref");
        if target_file == self.root_file {
            // The root document under another spelling: a local reference
            // (whether the fragment exists is checked with the other local references).
            return Ok(with_ref(format!("#{fragment}"), map));
        }
        let target = self.node_at(&site, &target_file, fragment)?;
        if let Some(base) = schema_name(fragment, &target_file) {
            let name = self.bundled_schema(&base, target, &target_file, fragment, depth, doc)?;
            return Ok(with_ref(format!("#{}/{name}", self.schemas_pointer), map));
        }
        if depth >= MAX_INLINE_DEPTH {
            return Err(self.fail(
                &site,
                format!("`$ref: {reference}` is part of a reference cycle between files"),
                "break the cycle, or move the recursive schema under components/schemas",
            ));
        }
        self.inlined_nodes = self.inlined_nodes.saturating_add(count_nodes(&target));
        if self.inlined_nodes > MAX_INLINED_NODES {
            return Err(self.fail(
                &site,
                format!("inlining `$ref: {reference}` takes the document past {MAX_INLINED_NODES} copied nodes (references that fan out)"),
                "move the referenced nodes under components/schemas (named schemas are bundled once, not copied)",
            ));
        }
        let mut sub = fragment.to_string();
        let mut inlined = self.rewrite(target, &target_file, &mut sub, depth + 1, false, doc)?;
        if let Value::Object(obj) = &mut inlined {
            obj.extend(map);
        }
        Ok(inlined)
    }

    fn fail(&self, site: &Site<'_>, message: String, hint: &str) -> Error {
        self.error_at(site.file, site.pointer, site.doc, message, hint)
    }

    /// The file a reference names (canonical): local, readable, and in an allowed folder.
    fn target_file(&self, site: &Site<'_>, file_part: &str) -> Result<PathBuf> {
        let reference = site.reference;
        if file_part.contains("://") {
            return Err(self.fail(
                site,
                format!("remote reference `{reference}` is not fetched"),
                "download the referenced document next to this one and use a relative path",
            ));
        }
        let joined = if file_part.is_empty() {
            site.file.to_path_buf()
        } else {
            (site.file.parent().unwrap_or(Path::new(""))).join(file_part)
        };
        let target_file =
            std::fs::canonicalize(&joined).map_err(|_| self.unreadable(site, &joined))?;
        if !self.may_read(&target_file) {
            let folder = target_file.parent().unwrap_or(Path::new("/")).display();
            return Err(self.fail(
                site,
                format!(
                    "`$ref: {reference}` points at `{}`, outside the document's folder `{}`",
                    target_file.display(),
                    self.root_dir.display()
                ),
                &format!(
                    "keep referenced files in the document's folder (or below), or allow their folder explicitly: `gouvgen --allow-refs-outside {folder}` on the command line, `allow_refs_outside = [\"{folder}\"]` in a sync manifest entry (relative to the manifest), `.allow_refs_outside(..)` on a `gouvgen::build::Config`, `LoadOptions::allowed_ref_dirs` in the library"
                ),
            ));
        }
        Ok(target_file)
    }

    fn unreadable(&self, site: &Site<'_>, path: &Path) -> Error {
        self.fail(
            site,
            format!(
                "`$ref: {}` points at `{}`, which cannot be read",
                site.reference,
                path.display()
            ),
            "fix the path (it is relative to the referencing file) or add the missing file",
        )
    }

    /// The node at `fragment` of `target_file` (read and parsed once per file).
    fn node_at(&mut self, site: &Site<'_>, target_file: &Path, fragment: &str) -> Result<Value> {
        if !self.cache.contains_key(target_file) {
            let text = read_text(target_file).map_err(|_| self.unreadable(site, target_file))?;
            let value = parse_text(target_file, &text)?;
            self.cache.insert(target_file.to_path_buf(), value);
            self.files.push(target_file.to_path_buf());
        }
        let found = self.cache[target_file].pointer(fragment).cloned();
        found.ok_or_else(|| {
            self.fail(
                site,
                format!(
                    "`$ref: {}` points at nothing: `{}` has no `#{fragment}`",
                    site.reference,
                    target_file.display()
                ),
                "fix the reference or add the missing definition",
            )
        })
    }

    /// The local name of an external schema, bundled under the document's schemas the first
    /// time it is referenced (renamed on collision).
    fn bundled_schema(
        &mut self,
        base: &str,
        target: Value,
        target_file: &Path,
        fragment: &str,
        depth: usize,
        doc: &Document,
    ) -> Result<String> {
        let key = (target_file.to_path_buf(), fragment.to_string());
        if let Some(name) = self.named.get(&key) {
            return Ok(name.clone());
        }
        let name = self.unique(base);
        self.named.insert(key, name.clone());
        let mut sub = fragment.to_string();
        let rewritten = self.rewrite(target, target_file, &mut sub, depth + 1, false, doc)?;
        self.added.push((name.clone(), rewritten));
        Ok(name)
    }

    fn unique(&mut self, base: &str) -> String {
        let mut name = base.to_string();
        let mut n = 2;
        while self.taken.contains(&name) {
            name = format!("{base}{n}");
            n += 1;
        }
        self.taken.insert(name.clone());
        name
    }
}

/// A referenced node is a named schema when it sits under the schema section of its file, or
/// when the whole file is referenced (its stem becomes the name).
/// Where an external reference is written, for its errors.
struct Site<'s> {
    file: &'s Path,
    pointer: &'s str,
    doc: &'s Document,
    reference: &'s str,
}

/// `{"$ref": reference}` followed by the reference's sibling keys.
fn with_ref(reference: String, siblings: Map<String, Value>) -> Value {
    let mut out = Map::new();
    out.insert("$ref".into(), Value::String(reference));
    out.extend(siblings);
    Value::Object(out)
}

fn schema_name(fragment: &str, file: &Path) -> Option<String> {
    for prefix in ["/components/schemas/", "/definitions/"] {
        if let Some(rest) = fragment.strip_prefix(prefix)
            && !rest.contains('/')
        {
            return Some(rest.replace("~1", "/").replace("~0", "~"));
        }
    }
    if fragment.is_empty() {
        return file.file_stem().map(|s| s.to_string_lossy().into_owned());
    }
    None
}

/// Nodes in a value, counted without recursion.
fn count_nodes(v: &Value) -> usize {
    let mut stack = vec![v];
    let mut n = 0;
    while let Some(v) = stack.pop() {
        n += 1;
        match v {
            Value::Object(m) => stack.extend(m.values()),
            Value::Array(a) => stack.extend(a.iter()),
            _ => {}
        }
    }
    n
}
