//! The operations of a document as measure 9 calls them: the request of each operation with
//! its path placeholders and required query and header parameters filled from the document
//! (example, default, first enum value, else a value of the declared type and format), so that
//! both emulators are judged on requests the document allows.

use std::path::Path;

use gouvgen::oas::{
    Body, Document, Exclusive, Media, Operation, Parameter, PathItem, Schema, SecurityScheme,
};
use gouvgen_emulator::document::{base_path, deref};
use serde_json::Value;

/// Headers the bench sets itself (credentials, DGFiP correlation ID, FranceConnect): the
/// document's declarations of them are not filled, nor dropped by the missing-parameter probe.
pub const GATEWAY_HEADERS: [&str; 3] =
    ["authorization", "x-correlation-id", "x-franceconnect-oauth"];

/// A request for one operation, relative to the API root.
#[derive(Debug, Clone)]
pub struct Op {
    pub method: String,
    /// The document's path template (`/personnes/{id}`), for the notes.
    pub template: String,
    /// The template with its placeholders filled and percent-encoded.
    pub path: String,
    /// Required query parameters, filled.
    pub query: Vec<(String, String)>,
    /// Required header parameters, filled (gateway headers left out).
    pub headers: Vec<(String, String)>,
    /// The JSON body sent with POST, PUT and PATCH: the document's example, else `{}`.
    pub body: Option<String>,
}

/// What measure 9 needs of a document.
#[derive(Debug, Clone, Default)]
pub struct Api {
    /// Base path the emulator serves the operations under (no trailing `/`).
    pub base: String,
    pub ops: Vec<Op>,
    /// Header names of the document's `apiKey` security schemes (besides `Authorization`).
    pub key_headers: Vec<String>,
}

impl Op {
    /// The index in `query` / `headers` of the first required parameter a validator should
    /// miss: a query parameter first, else a header.
    pub fn droppable(&self) -> Option<(bool, usize)> {
        if !self.query.is_empty() {
            Some((true, 0))
        } else if !self.headers.is_empty() {
            Some((false, 0))
        } else {
            None
        }
    }

    /// Path and query string, relative to a prefix; `skip_query` leaves one parameter out.
    pub fn target(&self, skip_query: Option<usize>) -> String {
        let q: Vec<String> = self
            .query
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != skip_query)
            .map(|(_, (k, v))| format!("{}={}", encode(k), encode(v)))
            .collect();
        if q.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, q.join("&"))
        }
    }
}

/// Reads a document (JSON or YAML, references not resolved) into its operations.
pub fn read(path: &Path) -> Result<Api, String> {
    let doc = gouvgen::load::load_value(path).map_err(|e| e.to_string())?;
    Ok(api(&doc))
}

fn api(doc: &Value) -> Api {
    let document = Document(doc);
    let swagger2 = document.is_swagger2();
    let base = base_path(doc);
    let mut schemes: Vec<&Value> = document.security_schemes().map(|(_, s)| s.0).collect();
    if schemes.is_empty() {
        schemes = document
            .security_definitions()
            .into_iter()
            .flatten()
            .map(|(_, s)| s)
            .collect();
    }
    let key_headers: Vec<String> = (schemes.into_iter())
        .map(|s| SecurityScheme(deref(doc, s)))
        .filter(|s| s.kind() == "apiKey" && s.key_location() == "header")
        .map(|s| s.key_name())
        .filter(|n| !n.is_empty() && !n.eq_ignore_ascii_case("authorization"))
        .map(str::to_string)
        .collect();
    let mut ops = Vec::new();
    for (template, item) in document.paths().into_iter().flatten() {
        let item = PathItem(deref(doc, item));
        for method in ["get", "post", "put", "patch", "delete"] {
            if let Some(op) = item.operation(method) {
                ops.push(operation(doc, method, template, item, op, swagger2));
            }
        }
    }
    // The bench sends the API-key headers itself, with the emulator's demo key.
    for op in &mut ops {
        op.headers.retain(|(n, _)| {
            !key_headers
                .iter()
                .any(|k: &String| k.eq_ignore_ascii_case(n))
        });
    }
    Api {
        base,
        ops,
        key_headers,
    }
}

fn operation(
    doc: &Value,
    method: &str,
    template: &str,
    item: PathItem<'_>,
    op: Operation<'_>,
    swagger2: bool,
) -> Op {
    let mut params: Vec<Parameter<'_>> = Vec::new();
    for p in op.parameters().iter().chain(item.parameters()) {
        let p = Parameter(deref(doc, p));
        if !params.iter().any(|q| q.identity() == p.identity()) {
            params.push(p);
        }
    }
    let mut path = template.to_string();
    let (mut query, mut headers) = (Vec::new(), Vec::new());
    let mut body_param = None;
    for p in &params {
        let name = p.name().unwrap_or("");
        let required = p.required();
        match p.location() {
            Some("path") => path = path.replace(&format!("{{{name}}}"), &encode(&value(doc, *p))),
            Some("query") if required => query.push((name.to_string(), value(doc, *p))),
            Some("header")
                if required && !GATEWAY_HEADERS.contains(&name.to_ascii_lowercase().as_str()) =>
            {
                headers.push((name.to_string(), value(doc, *p)))
            }
            Some("body") if swagger2 => body_param = p.schema_keyword(),
            _ => {}
        }
    }
    // Placeholders no parameter declares.
    while let (Some(a), Some(b)) = (path.find('{'), path.find('}')) {
        if b < a {
            break;
        }
        path.replace_range(a..=b, "1");
    }
    let body = matches!(method, "post" | "put" | "patch").then(|| {
        let example = if swagger2 {
            body_param.and_then(|s| schema_example(doc, s))
        } else {
            (op.request_body())
                .and_then(|b| Body(deref(doc, b)).content())
                .and_then(|c| c.iter().find(|(mt, _)| mt.contains("json")))
                .and_then(|(_, media)| media_example(doc, Media(deref(doc, media))))
        };
        example.map_or_else(|| "{}".to_string(), |v| v.to_string())
    });
    Op {
        method: method.to_ascii_uppercase(),
        template: template.to_string(),
        path,
        query,
        headers,
        body,
    }
}

fn media_example(doc: &Value, media: Media<'_>) -> Option<Value> {
    if let Some(e) = media.example() {
        return Some(e.clone());
    }
    if let Some(first) = media.examples().and_then(|m| m.values().next()) {
        return Media::example_value(deref(doc, first)).cloned();
    }
    schema_example(doc, media.schema()?)
}

fn schema_example(doc: &Value, schema: &Value) -> Option<Value> {
    Schema(deref(doc, schema)).example().cloned()
}

/// A parameter's value: its example, its schema's example, default or first enum value, else
/// one of the declared type and format (Swagger 2 declares them on the parameter itself).
fn value(doc: &Value, param: Parameter<'_>) -> String {
    // `x-example`: Swagger 2 has no parameter examples; the DGFiP documents use this extension.
    if let Some(e) = param.example().or_else(|| param.x_example()) {
        return scalar(e);
    }
    if let Some(first) = (Media(param.0).examples())
        .and_then(|m| m.values().next())
        .and_then(|e| Media::example_value(deref(doc, e)))
    {
        return scalar(first);
    }
    let schema = param.schema_keyword().map_or(param.0, |s| deref(doc, s));
    schema_value(doc, schema, 0)
}

fn schema_value(doc: &Value, schema: &Value, depth: usize) -> String {
    let schema = Schema(deref(doc, schema));
    if let Some(v) = schema.example().or_else(|| schema.default()) {
        return scalar(v);
    }
    if let Some(first) = schema.enum_values().and_then(<[Value]>::first) {
        return scalar(first);
    }
    if depth < 4 {
        if let Some(items) = schema.items() {
            return schema_value(doc, items, depth + 1);
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            if let Some(first) = schema.members(key).and_then(<[Value]>::first) {
                return schema_value(doc, first, depth + 1);
            }
        }
    }
    match (schema.type_str(), schema.format().unwrap_or("")) {
        (_, "date") => "2024-01-02".into(),
        (_, "date-time") => "2024-01-02T03:04:05Z".into(),
        (_, "uuid") => "6f1c2d3e-4b5a-4c6d-8e7f-000000000002".into(),
        (_, "email") => "demo@example.org".into(),
        (Some("boolean"), _) => "true".into(),
        (Some("integer" | "number"), _) => {
            // `exclusiveMinimum: true` (Swagger 2, OpenAPI 3.0; 3.1 numeric bounds are not read).
            let exclusive = matches!(schema.exclusive_minimum(), Exclusive::Flag);
            let v = match (schema.minimum(), schema.maximum()) {
                (Some(min), _) => min.ceil() + f64::from(u8::from(exclusive)),
                (None, Some(max)) if max < 1.0 => max.floor(),
                _ => 1.0,
            };
            format!("{v}")
        }
        _ => {
            let min = schema.min_length().unwrap_or(1);
            "1".repeat(min.clamp(1, 64) as usize)
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.first().map(scalar).unwrap_or_else(|| "1".into()),
        Value::Null | Value::Object(_) => "1".into(),
        other => other.to_string(),
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fills_placeholders_and_required_parameters() {
        let doc = json!({
            "openapi": "3.0.1",
            "servers": [{"url": "https://h/{v}/api/", "variables": {"v": {"default": "v2"}}}],
            "components": {"securitySchemes": {"k": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}}},
            "paths": {"/p/{id}": {
                "parameters": [{"name": "id", "in": "path", "schema": {"type": "string", "example": "a b"}}],
                "get": {"parameters": [
                    {"name": "day", "in": "query", "required": true, "schema": {"type": "string", "format": "date"}},
                    {"name": "opt", "in": "query", "schema": {"type": "string"}},
                    {"name": "X-Correlation-ID", "in": "header", "required": true},
                    {"name": "X-Kind", "in": "header", "required": true, "schema": {"enum": ["A", "B"]}}
                ]},
                "post": {"requestBody": {"content": {"application/json": {"example": {"x": 1}}}}}
            }}
        });
        let api = api(&doc);
        assert_eq!(api.base, "/v2/api");
        assert_eq!(api.key_headers, ["X-Api-Key"]);
        let get = &api.ops[0];
        assert_eq!(get.target(None), "/p/a%20b?day=2024-01-02");
        assert_eq!(get.target(Some(0)), "/p/a%20b");
        assert_eq!(get.headers, [("X-Kind".to_string(), "A".to_string())]);
        assert_eq!(get.droppable(), Some((true, 0)));
        assert_eq!(api.ops[1].body.as_deref(), Some(r#"{"x":1}"#));
        assert_eq!(api.ops[1].droppable(), None);
    }

    #[test]
    fn swagger2_parameters_carry_their_type() {
        let doc = json!({
            "swagger": "2.0", "basePath": "/r2p/v1/",
            "paths": {"/x/{n}": {"get": {"parameters": [
                {"name": "n", "in": "path", "type": "integer"},
                {"name": "nom", "in": "query", "required": true, "type": "string", "x-example": "DUPONT"},
                {"name": "siren", "in": "query", "required": true, "type": "string", "minLength": 9},
                {"name": "annee", "in": "query", "required": true, "type": "integer", "minimum": 1900}
            ]}}}
        });
        let api = api(&doc);
        assert_eq!(api.base, "/r2p/v1");
        assert_eq!(
            api.ops[0].target(None),
            "/x/1?nom=DUPONT&siren=111111111&annee=1900"
        );
        assert_eq!(api.ops[0].body, None);
    }
}
