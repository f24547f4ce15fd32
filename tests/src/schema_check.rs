//! Which examples of a document contradict the document's own schemas, decided by an
//! independent JSON Schema validator (the `jsonschema` crate), not by our generated types.

use std::collections::BTreeSet;
use std::path::Path;

use gouvgen::normalise::{self, Dialect};
use serde_json::{Map, Value, json};

/// Pointers of the examples that their own schema rejects.
pub fn contradicting_examples(spec: &Path) -> BTreeSet<String> {
    let doc = gouvgen::load::load_document(spec).expect("document loads");
    let normalised = normalise::normalise(&doc).expect("known version");
    let (root, dialect) = (normalised.root(), normalised.dialect());
    let read = gouvgen::read_spec(spec).expect("document reads");
    let mut out = BTreeSet::new();
    for check in gouvgen::emit::examples::example_checks(&read.api) {
        let Some(schema) = follow(root, &check.schema_pointer) else {
            continue;
        };
        let schema = prepare(root, schema, dialect, &mut Vec::new());
        let valid = match dialect {
            Dialect::OpenApi31 => jsonschema::draft202012::is_valid(&schema, &check.value),
            _ => jsonschema::draft4::is_valid(&schema, &check.value),
        };
        if !valid {
            out.insert(check.pointer);
        }
    }
    out
}

/// Resolves a pointer that may pass through `$ref`s (a response given by reference, say).
fn follow<'a>(root: &'a Value, pointer: &str) -> Option<&'a Value> {
    let deref = |mut v: &'a Value| {
        for _ in 0..16 {
            match v
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
                .and_then(|p| root.pointer(p))
            {
                Some(next) => v = next,
                None => break,
            }
        }
        v
    };
    let mut cur = root;
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        cur = deref(cur);
        cur = match cur {
            Value::Object(m) => m.get(&seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// A self-contained JSON Schema: references inlined (cycles cut to `{}`), OpenAPI 3.0
/// `nullable` turned into a null alternative, and keywords irrelevant to the shape of the data
/// (`format`, `pattern`, examples) dropped.
fn prepare(root: &Value, node: &Value, dialect: Dialect, stack: &mut Vec<String>) -> Value {
    let Value::Object(map) = node else {
        return node.clone();
    };
    if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
        let target = reference.strip_prefix('#').and_then(|p| root.pointer(p));
        let inlined = match target {
            Some(t) if !stack.iter().any(|s| s == reference) && stack.len() < 48 => {
                stack.push(reference.to_string());
                let v = prepare(root, t, dialect, stack);
                stack.pop();
                v
            }
            _ => json!({}),
        };
        return if map.get("nullable") == Some(&Value::Bool(true)) {
            json!({ "anyOf": [inlined, { "type": "null" }] })
        } else {
            inlined
        };
    }
    let mut out = Map::new();
    for (k, v) in map {
        match k.as_str() {
            "format" | "pattern" | "example" | "examples" | "discriminator" | "xml"
            | "externalDocs" | "nullable" | "readOnly" | "writeOnly" | "deprecated" => {}
            _ if k.starts_with("x-") => {}
            "enum" | "default" | "const" | "required" => {
                out.insert(k.clone(), v.clone());
            }
            "type" => {
                let fixed = match v.as_str() {
                    Some("date" | "date-time" | "datetime") => json!("string"),
                    Some("file") => json!("string"),
                    _ => v.clone(),
                };
                out.insert(k.clone(), fixed);
            }
            "properties" | "patternProperties" | "definitions" | "$defs" => {
                let props = v
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(n, s)| (n.clone(), prepare(root, s, dialect, stack)))
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert(k.clone(), Value::Object(props));
            }
            _ => {
                let inner = match v {
                    Value::Array(items) => Value::Array(
                        items
                            .iter()
                            .map(|i| prepare(root, i, dialect, stack))
                            .collect(),
                    ),
                    Value::Object(_) => prepare(root, v, dialect, stack),
                    other => other.clone(),
                };
                out.insert(k.clone(), inner);
            }
        }
    }
    let schema = Value::Object(out);
    if dialect != Dialect::OpenApi31 && map.get("nullable") == Some(&Value::Bool(true)) {
        return match schema.get("type").and_then(Value::as_str) {
            Some(t) => {
                let mut s = schema.clone();
                s["type"] = json!([t, "null"]);
                if let Some(Value::Array(values)) = s.get_mut("enum")
                    && !values.contains(&Value::Null)
                {
                    values.push(Value::Null);
                }
                s
            }
            None => json!({ "anyOf": [schema, { "type": "null" }] }),
        };
    }
    schema
}
