//! Brings schemas and other nodes from referenced files into the root document.
//!
//! `common.yaml#/components/schemas/Adresse` becomes a local schema `#/components/schemas/Adresse`
//! (renamed on collision), so later stages only ever see local references. Other external
//! nodes (parameters, responses) are inlined where they are referenced. Local references
//! inside an external file are resolved against that file.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{Document, parse_text, read_text};
use crate::error::{Diagnostic, Error, Location, Result};

const MAX_INLINE_DEPTH: usize = 64;

struct Bundler {
    root_file: PathBuf,
    schemas_pointer: &'static str,
    cache: HashMap<PathBuf, Value>,
    named: HashMap<(PathBuf, String), String>,
    taken: BTreeSet<String>,
    added: Vec<(String, Value)>,
    files: Vec<PathBuf>,
}

pub(super) fn bundle(doc: &mut Document) -> Result<()> {
    if !has_external_ref(&doc.root) {
        return Ok(());
    }
    let swagger2 = doc.root.get("swagger").is_some();
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
        root_file: doc.path.clone(),
        schemas_pointer,
        cache: HashMap::new(),
        named: HashMap::new(),
        taken,
        added: Vec::new(),
        files: Vec::new(),
    };
    let root = std::mem::take(&mut doc.root);
    let root_file = doc.path.clone();
    let mut root = b.rewrite(root, &root_file, &mut String::new(), 0, doc)?;
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

fn has_external_ref(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, v)| {
            (k == "$ref" && v.as_str().is_some_and(|s| !s.starts_with('#'))) || has_external_ref(v)
        }),
        Value::Array(a) => a.iter().any(has_external_ref),
        _ => false,
    }
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

impl Bundler {
    fn rewrite(
        &mut self,
        value: Value,
        file: &Path,
        pointer: &mut String,
        depth: usize,
        doc: &Document,
    ) -> Result<Value> {
        match value {
            Value::Object(map) => {
                let reference = map.get("$ref").and_then(Value::as_str).map(str::to_string);
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
                    let v = self.rewrite(v, file, pointer, depth, doc)?;
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
                    out.push(self.rewrite(v, file, pointer, depth, doc)?);
                    pointer.truncate(len);
                }
                Ok(Value::Array(out))
            }
            other => Ok(other),
        }
    }

    fn error_at(
        &self,
        file: &Path,
        pointer: &str,
        doc: &Document,
        message: String,
        hint: &str,
    ) -> Error {
        let loc = if file == doc.path {
            doc.locate(Location::at(file, format!("{pointer}/$ref")))
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
        let (file_part, fragment) = match reference.split_once('#') {
            Some((f, frag)) => (f, frag.to_string()),
            None => (reference, String::new()),
        };
        let target_file = if file_part.is_empty() {
            file.to_path_buf()
        } else {
            file.parent().unwrap_or(Path::new("")).join(file_part)
        };
        if file_part.contains("://") {
            return Err(self.error_at(
                file,
                pointer,
                doc,
                format!("remote reference `{reference}` is not fetched"),
                "download the referenced document next to this one and use a relative path",
            ));
        }
        if !self.cache.contains_key(&target_file) {
            let text = read_text(&target_file).map_err(|_| {
                self.error_at(
                    file,
                    pointer,
                    doc,
                    format!(
                        "`$ref: {reference}` points at `{}`, which cannot be read",
                        target_file.display()
                    ),
                    "fix the path (it is relative to the referencing file) or add the missing file",
                )
            })?;
            let value = parse_text(&target_file, &text)?;
            self.cache.insert(target_file.clone(), value);
            if target_file != self.root_file {
                self.files.push(target_file.clone());
            }
        }
        let target = self.cache[&target_file]
            .pointer(&fragment)
            .cloned()
            .ok_or_else(|| {
                self.error_at(
                    file,
                    pointer,
                    doc,
                    format!(
                        "`$ref: {reference}` points at nothing: `{}` has no `#{fragment}`",
                        target_file.display()
                    ),
                    "fix the reference or add the missing definition",
                )
            })?;
        map.remove("$ref");
        let schema_name = schema_name(&fragment, &target_file);
        if let Some(base) = schema_name {
            let key = (target_file.clone(), fragment.clone());
            let name = match self.named.get(&key) {
                Some(n) => n.clone(),
                None => {
                    let name = self.unique(&base);
                    self.named.insert(key, name.clone());
                    let mut sub = fragment.clone();
                    let rewritten = self.rewrite(target, &target_file, &mut sub, depth + 1, doc)?;
                    self.added.push((name.clone(), rewritten));
                    name
                }
            };
            let mut out = Map::new();
            out.insert(
                "$ref".into(),
                Value::String(format!("#{}/{}", self.schemas_pointer, name)),
            );
            for (k, v) in map {
                out.insert(k, v);
            }
            return Ok(Value::Object(out));
        }
        if depth >= MAX_INLINE_DEPTH {
            return Err(self.error_at(
                file,
                pointer,
                doc,
                format!("`$ref: {reference}` is part of a reference cycle between files"),
                "break the cycle, or move the recursive schema under components/schemas",
            ));
        }
        let mut sub = fragment.clone();
        let mut inlined = self.rewrite(target, &target_file, &mut sub, depth + 1, doc)?;
        if let Value::Object(obj) = &mut inlined {
            for (k, v) in map {
                obj.insert(k, v);
            }
        }
        Ok(inlined)
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
