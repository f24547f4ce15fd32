//! Swagger 2.0 → OpenAPI 3.0, done on JSON values so that nothing the document says is lost.

use serde_json::{Map, Value, json};

use crate::oas::{
    self, Document, Operation, Parameter, PathItem, Response, Schema, SecurityScheme,
    description_as_written, has_ref,
};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Converts a Swagger 2.0 document into the OpenAPI 3.0 shape.
pub(super) fn convert(root: &Value) -> Value {
    let mut root = root.clone();
    rewrite_refs(&mut root);
    let doc = Document(&root);
    let global_consumes = strings(doc.consumes());
    let global_produces = strings(doc.produces());
    let global_params = doc.parameter_definitions().cloned().unwrap_or(Value::Null);

    let mut out = Map::new();
    out.insert("openapi".into(), json!("3.0.3"));
    for key in ["info", "tags", "security", "externalDocs"] {
        if let Some(v) = root.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    out.insert("servers".into(), servers(&root));

    let mut components = Map::new();
    if let Some(defs) = doc.definitions() {
        let mut defs = defs.clone();
        fix_schemas(&mut defs);
        components.insert("schemas".into(), defs);
    }
    if let Some(Value::Object(params)) = doc.parameter_definitions() {
        let mut converted = Map::new();
        for (name, p) in params {
            if !matches!(Parameter(p).location(), Some("body") | Some("formData")) {
                converted.insert(name.clone(), parameter(p));
            }
        }
        components.insert("parameters".into(), Value::Object(converted));
    }
    if let Some(responses) = doc.response_definitions() {
        let mut converted = Map::new();
        for (name, r) in responses {
            converted.insert(name.clone(), response(r, &global_produces));
        }
        components.insert("responses".into(), Value::Object(converted));
    }
    if let Some(schemes) = doc.security_definitions() {
        let mut converted = Map::new();
        for (name, s) in schemes {
            converted.insert(name.clone(), security_scheme(s));
        }
        components.insert("securitySchemes".into(), Value::Object(converted));
    }
    out.insert("components".into(), Value::Object(components));

    let mut paths = Map::new();
    if let Some(src) = doc.paths() {
        for (path, item_node) in src {
            let Value::Object(item) = item_node else {
                continue;
            };
            let shared = PathItem(item_node).parameters().to_vec();
            let mut new_item = Map::new();
            for (key, op) in item {
                if METHODS.contains(&key.as_str()) {
                    let ctx = Ctx {
                        consumes: &global_consumes,
                        produces: &global_produces,
                        global_params: &global_params,
                    };
                    new_item.insert(key.clone(), operation(op, &shared, &ctx));
                } else if key.starts_with("x-") || key == "summary" || key == "description" {
                    new_item.insert(key.clone(), op.clone());
                }
            }
            paths.insert(path.clone(), Value::Object(new_item));
        }
    }
    out.insert("paths".into(), Value::Object(paths));
    Value::Object(out)
}

struct Ctx<'a> {
    consumes: &'a [String],
    produces: &'a [String],
    global_params: &'a Value,
}

fn strings(v: Option<&[Value]>) -> Vec<String> {
    v.map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    })
    .unwrap_or_default()
}

fn servers(root: &Value) -> Value {
    let doc = Document(root);
    let base = doc.base_path().unwrap_or("");
    let host = doc.host();
    let scheme = strings(doc.schemes())
        .into_iter()
        .next()
        .unwrap_or_else(|| "https".into());
    let url = match host {
        Some(h) => format!("{scheme}://{h}{base}"),
        None => base.to_string(),
    };
    json!([{ "url": if url.is_empty() { "/".to_string() } else { url } }])
}

/// `#/definitions/X` → `#/components/schemas/X`, and so on, everywhere in the document.
fn rewrite_refs(v: &mut Value) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref") {
                for (old, new) in [
                    ("#/definitions/", "#/components/schemas/"),
                    ("#/responses/", "#/components/responses/"),
                    ("#/parameters/", "#/components/parameters/"),
                ] {
                    if let Some(rest) = r.strip_prefix(old) {
                        *r = format!("{new}{rest}");
                        break;
                    }
                }
            }
            for child in map.values_mut() {
                rewrite_refs(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

/// Swagger-only schema spellings: `type: file`, `x-nullable`, string discriminators.
fn fix_schemas(v: &mut Value) {
    let schema = Schema(v);
    let file = schema.type_str() == Some("file");
    let nullable = schema.x_nullable();
    let discriminator = schema.discriminator_name().map(str::to_string);
    match v {
        Value::Object(map) => {
            if file {
                map.insert("type".into(), json!("string"));
                map.insert("format".into(), json!("binary"));
            }
            if nullable {
                map.insert("nullable".into(), json!(true));
            }
            if let Some(prop) = discriminator {
                map.insert("discriminator".into(), json!({ "propertyName": prop }));
            }
            for (k, child) in map.iter_mut() {
                if k != "example" && k != "enum" && k != "default" && !k.starts_with("x-") {
                    fix_schemas(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(fix_schemas),
        _ => {}
    }
}

/// The schema part of a non-body parameter (or of a formData field).
fn param_schema(p: &Value) -> Value {
    let mut schema = Map::new();
    if let Value::Object(map) = p {
        for key in [
            "type",
            "format",
            "items",
            "enum",
            "default",
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "minLength",
            "maxLength",
            "pattern",
            "minItems",
            "maxItems",
            "uniqueItems",
            "multipleOf",
        ] {
            if let Some(v) = map.get(key) {
                schema.insert(key.into(), v.clone());
            }
        }
        if Schema(p).x_nullable() {
            schema.insert("nullable".into(), json!(true));
        }
    }
    let mut schema = Value::Object(schema);
    fix_schemas(&mut schema);
    schema
}

fn parameter(p: &Value) -> Value {
    if has_ref(p) {
        return p.clone();
    }
    let view = Parameter(p);
    let mut out = Map::new();
    for key in [
        "name",
        "in",
        "description",
        "required",
        "deprecated",
        "allowEmptyValue",
    ] {
        if let Some(v) = p.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    if let Some(ex) = view.x_example().or_else(|| view.example()) {
        out.insert("example".into(), ex.clone());
    }
    match view.collection_format() {
        Some("multi") => {
            out.insert("explode".into(), json!(true));
        }
        Some(_) => {
            out.insert("explode".into(), json!(false));
        }
        None if Schema(p).type_str() == Some("array") => {
            out.insert("explode".into(), json!(false));
        }
        None => {}
    }
    out.insert("schema".into(), param_schema(p));
    Value::Object(out)
}

/// Resolves `#/components/parameters/X` (already rewritten) against Swagger's global parameters.
fn resolve_param<'a>(p: &'a Value, ctx: &'a Ctx) -> &'a Value {
    if let Some(r) = oas::reference(p)
        && let Some(name) = r.strip_prefix("#/components/parameters/")
        && let Some(target) = ctx.global_params.get(name)
    {
        return target;
    }
    p
}

fn operation(op: &Value, shared: &[Value], ctx: &Ctx) -> Value {
    let Value::Object(src) = op else {
        return op.clone();
    };
    let mut out = Map::new();
    for (k, v) in src {
        if !matches!(
            k.as_str(),
            "parameters" | "responses" | "consumes" | "produces" | "schemes"
        ) {
            out.insert(k.clone(), v.clone());
        }
    }
    let view = Operation(op);
    let own_or = |own: Vec<String>, document: &[String]| {
        if own.is_empty() {
            document.to_vec()
        } else {
            own
        }
    };
    let consumes = own_or(strings(view.consumes()), ctx.consumes);
    let produces = own_or(strings(view.produces()), ctx.produces);

    let mut params = Vec::new();
    let mut form = Form::default();
    let mut body = None;
    for p in effective_params(view, shared, ctx) {
        let rp = resolve_param(p, ctx);
        match Parameter(rp).location() {
            Some("body") => body = Some(body_param(rp, &consumes)),
            Some("formData") => form.add(rp),
            _ if has_ref(p) && std::ptr::eq(rp, p) => params.push(p.clone()),
            _ => params.push(parameter(rp)),
        }
    }
    if let Some(form_body) = form.into_body(&consumes) {
        body = Some(form_body);
    }
    if !params.is_empty() {
        out.insert("parameters".into(), Value::Array(params));
    }
    if let Some(b) = body {
        out.insert("requestBody".into(), b);
    }
    let mut responses = Map::new();
    if let Some(src) = view.responses() {
        for (code, r) in src {
            responses.insert(code.clone(), response(r, &produces));
        }
    }
    out.insert("responses".into(), Value::Object(responses));
    Value::Object(out)
}

/// The path item's parameters the operation does not override (same name and location),
/// then the operation's own.
fn effective_params<'v>(view: Operation<'v>, shared: &'v [Value], ctx: &Ctx<'v>) -> Vec<&'v Value> {
    let own: Vec<&Value> = view.parameters().iter().collect();
    let mut all: Vec<&Value> = Vec::new();
    for p in shared {
        let rp = resolve_param(p, ctx);
        let overridden = own.iter().any(|o| {
            let ro = resolve_param(o, ctx);
            Parameter(ro).identity() == Parameter(rp).identity()
        });
        if !overridden {
            all.push(p);
        }
    }
    all.extend(own);
    all
}

/// A `body` parameter as a request body: its schema under each media type consumed.
fn body_param(rp: &Value, consumes: &[String]) -> Value {
    let param = Parameter(rp);
    let schema = param.schema_keyword().cloned().unwrap_or(json!({}));
    let content = content(schema, consumes, |_| param.x_example());
    let mut rb = Map::new();
    if let Some(d) = description_as_written(rp) {
        rb.insert("description".into(), d.clone());
    }
    rb.insert(
        "required".into(),
        param.required_as_written().cloned().unwrap_or(json!(false)),
    );
    rb.insert("content".into(), Value::Object(content));
    Value::Object(rb)
}

/// An OpenAPI 3 `content`: the Swagger 2.0 `schema` under each media type (JSON when the
/// document names none), with the example `example_for` gives for that type.
fn content<'e>(
    mut schema: Value,
    types: &[String],
    example_for: impl Fn(&str) -> Option<&'e Value>,
) -> Map<String, Value> {
    fix_schemas(&mut schema);
    let json = ["application/json".to_string()];
    let types = if types.is_empty() { &json[..] } else { types };
    let mut content = Map::new();
    for mt in types {
        let mut media = Map::new();
        media.insert("schema".into(), schema.clone());
        if let Some(ex) = example_for(mt) {
            media.insert("example".into(), ex.clone());
        }
        content.insert(mt.clone(), Value::Object(media));
    }
    content
}

/// The `formData` parameters of an operation, gathered into one object body.
#[derive(Default)]
struct Form {
    fields: Map<String, Value>,
    required: Vec<Value>,
    has_file: bool,
}

impl Form {
    fn add(&mut self, rp: &Value) {
        let param = Parameter(rp);
        let name = param.name().unwrap_or("field").to_string();
        let mut schema = param_schema(rp);
        if Schema(&schema).format() == Some("binary") {
            self.has_file = true;
        }
        if let (Some(d), Value::Object(m)) = (description_as_written(rp), &mut schema) {
            m.insert("description".into(), d.clone());
        }
        if param.required() {
            self.required.push(json!(name.clone()));
        }
        self.fields.insert(name, schema);
    }

    /// The request body: multipart with a file (or if the operation consumes it), else
    /// URL-encoded; `None` without form fields.
    fn into_body(self, consumes: &[String]) -> Option<Value> {
        if self.fields.is_empty() {
            return None;
        }
        let multipart = self.has_file || consumes.iter().any(|c| c.starts_with("multipart/"));
        let mt = if multipart {
            "multipart/form-data"
        } else {
            "application/x-www-form-urlencoded"
        };
        let mut schema = json!({ "type": "object", "properties": Value::Object(self.fields) });
        if !self.required.is_empty() {
            schema["required"] = Value::Array(self.required.clone());
        }
        Some(json!({
            "required": !self.required.is_empty(),
            "content": { mt: { "schema": schema } }
        }))
    }
}

fn response(r: &Value, produces: &[String]) -> Value {
    if has_ref(r) {
        return r.clone();
    }
    let view = Response(r);
    let mut out = Map::new();
    out.insert(
        "description".into(),
        description_as_written(r).cloned().unwrap_or(json!("")),
    );
    if let Some(h) = view.headers_as_written() {
        let mut headers = Map::new();
        if let Value::Object(hs) = h {
            for (name, header) in hs {
                let mut entry = Map::new();
                if let Some(d) = description_as_written(header) {
                    entry.insert("description".into(), d.clone());
                }
                entry.insert("schema".into(), param_schema(header));
                headers.insert(name.clone(), Value::Object(entry));
            }
        }
        out.insert("headers".into(), Value::Object(headers));
    }
    if let Some(schema) = view.schema() {
        let examples = view.examples();
        let content = content(schema.clone(), produces, |mt| examples?.get(mt));
        out.insert("content".into(), Value::Object(content));
    }
    Value::Object(out)
}

fn security_scheme(s: &Value) -> Value {
    let view = SecurityScheme(s);
    let description = description_as_written(s);
    match view.kind_as_written() {
        Some("basic") => {
            json!({ "type": "http", "scheme": "basic", "description": description })
        }
        Some("apiKey") => s.clone(),
        Some("oauth2") => {
            let flow = view.flow().unwrap_or("application");
            let name = match flow {
                "implicit" => "implicit",
                "password" => "password",
                "accessCode" => "authorizationCode",
                _ => "clientCredentials",
            };
            let mut f = Map::new();
            for (from, to) in [
                ("authorizationUrl", "authorizationUrl"),
                ("tokenUrl", "tokenUrl"),
            ] {
                if let Some(v) = s.get(from) {
                    f.insert(to.into(), v.clone());
                }
            }
            f.insert("scopes".into(), view.scopes().cloned().unwrap_or(json!({})));
            json!({ "type": "oauth2", "description": description, "flows": { name: Value::Object(f) } })
        }
        _ => s.clone(),
    }
}

/// The index of the `in: body` parameter of the operation at `operation` (a pointer) of a
/// Swagger 2.0 document: where its converted `requestBody` came from.
pub(super) fn body_parameter_index(root: &Value, operation: &str) -> Option<usize> {
    root.pointer(&format!("{operation}/parameters"))?
        .as_array()?
        .iter()
        .position(|p| Parameter(p).location() == Some("body"))
}
