//! Requests checked against the document: required parameters present, parameter values of
//! the declared type (integer, number, boolean, enum), a required body present, and a JSON
//! body matching its schema (types, required properties, enums, items, `allOf`). A mismatch
//! is named by parameter or JSON pointer; the caller answers 400 in the gateway's format.
//!
//! The check is deliberately partial (no formats, patterns, bounds, `oneOf`): it catches the
//! mistakes a client generator makes (a parameter dropped, a number sent as text, a field
//! renamed), not every constraint a schema can state.

use std::sync::Arc;

use serde_json::Value;

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum In {
    Path,
    Query,
    Header,
}

/// One declared parameter.
#[derive(Debug, Clone)]
pub(crate) struct Param {
    pub name: String,
    pub location: In,
    pub required: bool,
    /// The parameter's schema (Swagger 2: the parameter itself), references unresolved.
    pub schema: Value,
}

/// What a route checks, with the document its references point into.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rules {
    pub params: Vec<Param>,
    /// `Some(required)` when the operation declares a body; its JSON schema if any.
    pub body: Option<(bool, Option<Value>)>,
    pub doc: Arc<Value>,
}

/// The request as the validator sees it.
pub(crate) struct Request<'a> {
    /// Path parameter values by name (whole-segment placeholders only).
    pub path: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    pub header: &'a dyn Fn(&str) -> Option<String>,
    pub body: &'a [u8],
    pub content_type: Option<&'a str>,
}

impl Rules {
    /// The first problem found, as a message naming the parameter or the JSON pointer.
    pub fn check(&self, request: &Request<'_>) -> Result<(), String> {
        for p in &self.params {
            let value = match p.location {
                In::Path => lookup(&request.path, &p.name),
                In::Query => lookup(&request.query, &p.name),
                In::Header => (request.header)(&p.name),
            };
            let kind = match p.location {
                In::Path => "path",
                In::Query => "query",
                In::Header => "header",
            };
            match value {
                None if p.required => {
                    return Err(format!("required {kind} parameter `{}` is missing", p.name));
                }
                None => {}
                Some(v) => {
                    if let Err(why) = scalar(&self.doc, &p.schema, &v) {
                        return Err(format!("{kind} parameter `{}`: {why}", p.name));
                    }
                }
            }
        }
        if let Some((required, schema)) = &self.body {
            if request.body.is_empty() {
                if *required {
                    return Err("the request body is required".into());
                }
                return Ok(());
            }
            let json = request.content_type.is_none_or(|c| c.contains("json"));
            if let (Some(schema), true) = (schema, json) {
                let value: Value = serde_json::from_slice(request.body)
                    .map_err(|e| format!("the request body is not JSON: {e}"))?;
                conform(&self.doc, schema, &value, "", 0)
                    .map_err(|(pointer, why)| format!("request body at `{pointer}`: {why}"))?;
            }
        }
        Ok(())
    }
}

fn lookup(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// Follows local references (bounded).
fn deref<'a>(doc: &'a Value, mut value: &'a Value) -> &'a Value {
    for _ in 0..32 {
        match value.get("$ref").and_then(Value::as_str) {
            Some(r) => match r.strip_prefix('#').and_then(|p| doc.pointer(p)) {
                Some(next) => value = next,
                None => break,
            },
            None => break,
        }
    }
    value
}

/// The declared types (`type: x`, 3.1 `type: [x, "null"]`).
fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// A parameter's text against a scalar schema.
fn scalar(doc: &Value, schema: &Value, text: &str) -> Result<(), String> {
    let schema = deref(doc, schema);
    let ok = |t: &str| match t {
        "integer" => text.parse::<i64>().is_ok(),
        "number" => text.parse::<f64>().is_ok_and(f64::is_finite),
        "boolean" => text == "true" || text == "false",
        _ => true,
    };
    let declared = types(schema);
    if !declared.is_empty() && !declared.iter().any(|t| ok(t)) {
        return Err(format!("expected {}", declared.join(" or ")));
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let matches = values.iter().any(|v| match v {
            Value::String(s) => s == text,
            other => serde_json::from_str::<Value>(text).ok().as_ref() == Some(other),
        });
        if !matches {
            return Err("not one of the documented values".into());
        }
    }
    Ok(())
}

fn json_type_ok(t: &str, value: &Value) -> bool {
    match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => true,
    }
}

/// A JSON value against a schema; the error names the JSON pointer of the mismatch.
fn conform(
    doc: &Value,
    schema: &Value,
    value: &Value,
    pointer: &str,
    depth: usize,
) -> Result<(), (String, String)> {
    if depth > 64 {
        return Ok(());
    }
    let schema = deref(doc, schema);
    if value.is_null() && schema.get("nullable").and_then(Value::as_bool) == Some(true) {
        return Ok(());
    }
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        conform(doc, part, value, pointer, depth + 1)?;
    }
    let declared = types(schema);
    if !declared.is_empty() && !declared.iter().any(|t| json_type_ok(t, value)) {
        return Err((
            pointer.to_string(),
            format!("expected {}", declared.join(" or ")),
        ));
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array)
        && !values.contains(value)
    {
        return Err((
            pointer.to_string(),
            "not one of the documented values".into(),
        ));
    }
    if let Some(object) = value.as_object() {
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = name.as_str()
                && !object.contains_key(name)
            {
                return Err((
                    format!("{pointer}/{}", escape(name)),
                    "required property is missing".into(),
                ));
            }
        }
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (name, sub) in properties {
                if let Some(v) = object.get(name) {
                    conform(
                        doc,
                        sub,
                        v,
                        &format!("{pointer}/{}", escape(name)),
                        depth + 1,
                    )?;
                }
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, v) in array.iter().enumerate() {
            conform(doc, items, v, &format!("{pointer}/{i}"), depth + 1)?;
        }
    }
    Ok(())
}

/// RFC 6901 escaping of one pointer segment.
fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_are_checked_with_pointers() {
        let doc = json!({"components": {"schemas": {"Note": {
            "type": "object", "required": ["texte"],
            "properties": {"texte": {"type": "string"}, "tags": {"type": "array", "items": {"type": "integer"}}}
        }}}});
        let schema = json!({"$ref": "#/components/schemas/Note"});
        assert!(conform(&doc, &schema, &json!({"texte": "a", "tags": [1]}), "", 0).is_ok());
        assert_eq!(
            conform(&doc, &schema, &json!({}), "", 0).unwrap_err().0,
            "/texte"
        );
        assert_eq!(
            conform(
                &doc,
                &schema,
                &json!({"texte": "a", "tags": [1, "x"]}),
                "",
                0
            )
            .unwrap_err()
            .0,
            "/tags/1"
        );
    }

    #[test]
    fn parameters_are_typed() {
        let doc = json!({});
        assert!(scalar(&doc, &json!({"type": "integer"}), "2024").is_ok());
        assert!(scalar(&doc, &json!({"type": "integer"}), "deux").is_err());
        assert!(scalar(&doc, &json!({"type": "boolean"}), "oui").is_err());
        assert!(scalar(&doc, &json!({"type": "string", "enum": ["a"]}), "b").is_err());
    }
}
