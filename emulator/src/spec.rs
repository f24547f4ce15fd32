//! The API side of the emulator: every operation of a mounted document, answered with the
//! examples the document gives.
//!
//! Documents are read with the project's loader (`gouvgen::load::load_document_with`, JSON or
//! YAML, files named by external references brought in, local references left as they are)
//! and walked through the generator's typed views (`gouvgen::oas`, where every key is spelled
//! once), but interpreted here, independently of the generator's normaliser: a normaliser bug
//! must not be hidden by the same bug on the server side. Swagger 2.0 documents are therefore
//! read as written (`basePath`, `produces`, `in: body` parameters, response `schema` and
//! `examples`), through the views' Swagger 2.0 accessors.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crate::document::{base_path, deref};
use crate::validate::{In, Param, Rules, separator};

use gouvgen::oas::{
    self, Document, Header, Media, Operation, Parameter, PathItem, Response, Schema,
};
use serde_json::Value;

/// One example body of a documented response, in one media type.
#[derive(Debug, Clone)]
pub(crate) struct Body {
    pub media_type: String,
    /// Examples by name (`""` for a lone `example`), in document order.
    pub examples: Vec<(String, Value)>,
}

/// One documented response of an operation.
#[derive(Debug, Clone, Default)]
pub(crate) struct Canned {
    /// One entry per media type, in document order; empty for a response without body.
    pub bodies: Vec<Body>,
    /// Documented response headers that have an example (`Retry-After`, ...).
    pub headers: Vec<(String, String)>,
    /// Swagger 2 responses without a schema: no body, but the operation's `produces` still
    /// names the content type the gateway sends.
    pub empty_content_type: Option<String>,
}

/// One segment of a path template: literal text and `{placeholders}`.
#[derive(Debug, Clone)]
enum Segment {
    Literal(String),
    /// The literal pieces around the placeholders: `a{x}b{y}` → `["a", "b", ""]`.
    Template(Vec<String>),
}

impl Segment {
    fn parse(text: &str) -> Segment {
        if !text.contains('{') {
            return Segment::Literal(text.to_string());
        }
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            pieces.push(rest[..open].to_string());
            rest = match rest[open..].find('}') {
                Some(close) => &rest[open + close + 1..],
                None => "",
            };
        }
        pieces.push(rest.to_string());
        Segment::Template(pieces)
    }

    fn matches(&self, actual: &str) -> bool {
        match self {
            Segment::Literal(l) => l == actual,
            Segment::Template(pieces) => {
                let (first, last) = (&pieces[0], &pieces[pieces.len() - 1]);
                if !actual.starts_with(first.as_str())
                    || actual.len() < first.len() + last.len()
                    || !actual.ends_with(last.as_str())
                {
                    return false;
                }
                // Every placeholder takes at least one character; middle pieces in order.
                let mut middle = &actual[first.len()..actual.len() - last.len()];
                for piece in &pieces[1..pieces.len() - 1] {
                    match middle.get(1..).and_then(|m| m.find(piece.as_str())) {
                        Some(i) => middle = &middle[1 + i + piece.len()..],
                        None => return false,
                    }
                }
                !middle.is_empty()
            }
        }
    }
}

/// One operation of a mounted document.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    /// Upper-case HTTP method.
    pub method: String,
    /// Base path + operation path, as documented.
    pub template: String,
    /// The document's `operationId`, if any (scenarios name operations by it).
    pub operation_id: Option<String>,
    /// Per path segment, the parameter name when the segment is exactly `{name}`.
    pub path_names: Vec<Option<String>>,
    /// What requests must satisfy (parameters, body).
    pub rules: Rules,
    segments: Vec<Segment>,
    /// Documented responses by numeric status. `2XX` counts as 200 and `default` as 200 when
    /// no 2xx is documented (the normal answer then follows `default`); other ranges are
    /// skipped.
    pub responses: BTreeMap<u16, Canned>,
    /// `security: []`: no credentials needed.
    pub public: bool,
    /// Declares a required `X-FranceConnect-OAuth` header (DGFiP FranceConnect access point).
    pub france_connect: bool,
    /// Security requirements (alternatives), each as the scopes it lists: a DGFiP token whose
    /// scopes cover none of them is refused (403, 900910).
    pub requirements: Vec<Vec<String>>,
}

impl Route {
    /// Whether this route's template matches the request path segments.
    pub fn matches_path(&self, path: &[&str]) -> bool {
        self.segments.len() == path.len()
            && self.segments.iter().zip(path).all(|(s, p)| s.matches(p))
    }

    /// Literal segments: the more, the more specific (OpenAPI: concrete paths win).
    pub fn literal_count(&self) -> usize {
        self.segments
            .iter()
            .filter(|s| matches!(s, Segment::Literal(_)))
            .count()
    }

    /// The status of a normal answer: the first documented 2xx, else 200.
    pub fn success(&self) -> u16 {
        self.responses
            .keys()
            .copied()
            .find(|s| (200..300).contains(s))
            .unwrap_or(200)
    }
}

/// Reads a document into its routes, each under the document's base path.
pub(crate) fn load(
    path: &Path,
    options: &gouvgen::load::LoadOptions,
) -> Result<Vec<Route>, String> {
    let doc = gouvgen::load::load_document_with(path, options)
        .map_err(|e| format!("emulator cannot load {}: {e}", path.display()))?;
    routes(&doc.root).map_err(|e| format!("{}: {e}", path.display()))
}

/// The routes of a loaded (raw, unresolved) document.
pub(crate) fn routes(root: &Value) -> Result<Vec<Route>, String> {
    let doc = Document(root);
    let swagger2 = doc.is_swagger2();
    if !swagger2 && !doc.has_openapi() {
        return Err("neither `openapi` nor `swagger`: not an API description".into());
    }
    let base = base_path(root);
    let shared_doc = Arc::new(root.clone());
    let global_produces = doc.produces().unwrap_or_default();
    let mut out = Vec::new();
    for (template, item) in doc.paths().into_iter().flatten() {
        let item = PathItem(deref(root, item));
        let path_params = item.parameters();
        for (method, op) in item.operations() {
            let produces = op.produces().unwrap_or(global_produces);
            let responses = responses(root, op, swagger2.then_some(produces));
            let france_connect = op
                .parameters()
                .iter()
                .chain(path_params)
                .map(|p| Parameter(deref(root, p)))
                .any(|p| {
                    p.location() == Some("header")
                        && p.name()
                            .is_some_and(|n| n.eq_ignore_ascii_case("x-franceconnect-oauth"))
                        && p.required()
                });
            let rules = rules(root, op, path_params, swagger2, &shared_doc);
            let full = format!("{base}{template}");
            let path_names = full
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.strip_prefix('{')
                        .and_then(|r| r.strip_suffix('}'))
                        .filter(|n| !n.contains(['{', '}']))
                        .map(str::to_string)
                })
                .collect();
            let segments = full
                .split('/')
                .filter(|s| !s.is_empty())
                .map(Segment::parse)
                .collect();
            let security = op.security().or(doc.security()).and_then(Value::as_array);
            out.push(Route {
                method: method.to_ascii_uppercase(),
                template: full,
                operation_id: op.operation_id_as_written().map(str::to_string),
                path_names,
                rules,
                segments,
                responses,
                public: security.is_some_and(|a| a.is_empty()),
                france_connect,
                requirements: requirements(security),
            });
        }
    }
    Ok(out)
}

/// The documented responses of an operation by numeric status (see [`Route::responses`]).
/// `produces` is `Some` for a Swagger 2 document: the media types its responses are sent as.
fn responses(doc: &Value, op: Operation<'_>, produces: Option<&[Value]>) -> BTreeMap<u16, Canned> {
    let mut responses = BTreeMap::new();
    let mut default = None;
    for (status_text, response) in op.responses().into_iter().flatten() {
        let status = match status_text.parse::<u16>() {
            Ok(status) => Some(status),
            Err(_) if status_text.eq_ignore_ascii_case("2XX") => Some(200),
            Err(_) => None,
        };
        let default_response = status_text == "default";
        if status.is_none() && !default_response {
            continue;
        }
        let response = Response(deref(doc, response));
        let canned = match produces {
            Some(produces) => swagger2_response(doc, response, produces),
            None => openapi3_response(doc, response),
        };
        match status {
            Some(status) => {
                responses.entry(status).or_insert(canned);
            }
            None => default = Some(canned),
        }
    }
    if let Some(canned) = default
        && !responses.keys().any(|s| (200..300).contains(s))
    {
        responses.insert(200, canned);
    }
    responses
}

/// Security requirements (alternatives), each as the scopes it lists.
fn requirements(security: Option<&Vec<Value>>) -> Vec<Vec<String>> {
    security
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .map(|req| {
            req.values()
                .filter_map(Value::as_array)
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .collect()
}

/// The parameters (operation-level ones win over path-level ones) and body an operation
/// declares.
fn rules(
    doc: &Value,
    op: Operation<'_>,
    path_params: &[Value],
    swagger2: bool,
    shared: &Arc<Value>,
) -> Rules {
    let mut params: Vec<Param> = Vec::new();
    let mut body = None;
    for p in op.parameters().iter().chain(path_params) {
        let p = Parameter(deref(doc, p));
        let (Some(name), Some(location)) = (p.name(), p.location()) else {
            continue;
        };
        let location = match location {
            "path" => In::Path,
            "query" => In::Query,
            "header" => In::Header,
            "body" if swagger2 => {
                if body.is_none() {
                    body = Some((p.required(), p.schema_keyword().cloned()));
                }
                continue;
            }
            _ => continue,
        };
        let same = |q: &Param| q.location == location && q.name.eq_ignore_ascii_case(name);
        if params.iter().any(same) {
            continue;
        }
        params.push(Param {
            name: name.to_string(),
            location,
            required: location == In::Path || p.required(),
            schema: p.schema_keyword().unwrap_or(p.0).clone(),
            separator: separator(p, location, swagger2),
        });
    }
    if !swagger2 && let Some(request_body) = op.request_body() {
        let request_body = oas::Body(deref(doc, request_body));
        let schema = request_body
            .content()
            .and_then(|c| c.iter().find(|(mt, _)| mt.contains("json")))
            .and_then(|(_, media)| Media(deref(doc, media)).schema().cloned());
        body = Some((request_body.required(), schema));
    }
    Rules {
        params,
        body,
        doc: shared.clone(),
    }
}

/// The example of a schema (`example`, or the first of 3.1 `examples`), through references.
fn schema_example(doc: &Value, schema: Option<&Value>) -> Option<Value> {
    let schema = Schema(deref(doc, schema?));
    schema
        .example()
        .or_else(|| schema.examples().and_then(<[Value]>::first))
        .cloned()
}

fn header_examples(doc: &Value, response: Response<'_>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, header) in response.headers().into_iter().flatten() {
        let header = Header(deref(doc, header));
        let example = header
            .example()
            .cloned()
            .or_else(|| schema_example(doc, header.schema()))
            .or_else(|| header.x_example().cloned());
        let text = match example {
            Some(Value::String(s)) => s,
            Some(Value::Null) | None => continue,
            Some(other) => other.to_string(),
        };
        out.push((name.clone(), text));
    }
    out
}

fn openapi3_response(doc: &Value, response: Response<'_>) -> Canned {
    let mut bodies = Vec::new();
    for (media_type, media) in response.content().into_iter().flatten() {
        let media = Media(deref(doc, media));
        let mut examples = Vec::new();
        if let Some(e) = media.example() {
            examples.push((String::new(), e.clone()));
        }
        for (name, e) in media.examples().into_iter().flatten() {
            if let Some(v) = Media::example_value(deref(doc, e)) {
                examples.push((name.clone(), v.clone()));
            }
        }
        if examples.is_empty()
            && let Some(e) = schema_example(doc, media.schema())
        {
            examples.push((String::new(), e));
        }
        // No example: a deterministic value satisfying the schema.
        if examples.is_empty()
            && let Some(schema) = media.schema()
        {
            examples.push((String::new(), crate::synth::value(doc, schema)));
        }
        bodies.push(Body {
            media_type: media_type.clone(),
            examples,
        });
    }
    Canned {
        bodies,
        headers: header_examples(doc, response),
        empty_content_type: None,
    }
}

fn swagger2_response(doc: &Value, response: Response<'_>, produces: &[Value]) -> Canned {
    let mut bodies = Vec::new();
    for (media_type, example) in response.examples().into_iter().flatten() {
        bodies.push(Body {
            media_type: media_type.clone(),
            examples: vec![(String::new(), example.clone())],
        });
    }
    let media_types: Vec<String> = produces
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    let empty_content_type = match response.schema() {
        None if bodies.is_empty() => media_types.first().cloned(),
        _ => None,
    };
    if bodies.is_empty()
        && let Some(schema) = response.schema()
    {
        let example =
            schema_example(doc, Some(schema)).unwrap_or_else(|| crate::synth::value(doc, schema));
        let examples = vec![(String::new(), example)];
        let media_types = if media_types.is_empty() {
            vec!["application/json".to_string()]
        } else {
            media_types
        };
        for media_type in media_types {
            bodies.push(Body {
                media_type,
                examples: examples.clone(),
            });
        }
    }
    Canned {
        bodies,
        headers: header_examples(doc, response),
        empty_content_type,
    }
}

/// The `Content-Type` to send for a documented media type: a wildcard (`*/*`,
/// `application/*`) is not a content type, so it becomes JSON (`text/*`: plain text).
pub(crate) fn content_type(media_type: &str) -> &str {
    let essence = media_type.split(';').next().unwrap_or("").trim();
    match essence {
        "" | "*/*" | "*" | "application/*" => "application/json",
        "text/*" => "text/plain; charset=utf-8",
        _ if essence.ends_with("/*") => "application/octet-stream",
        _ => media_type,
    }
}

/// Picks the body whose media type the `Accept` header asks for (in the order listed, `*`
/// wildcards understood); the first documented one otherwise.
pub(crate) fn choose<'a>(bodies: &'a [Body], accept: Option<&str>) -> Option<&'a Body> {
    for wanted in accept.unwrap_or("").split(',') {
        let wanted = wanted
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if wanted.is_empty() {
            continue;
        }
        let found = bodies.iter().find(|b| {
            let mt = b
                .media_type
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            wanted == "*/*"
                || mt == wanted
                || wanted
                    .strip_suffix("/*")
                    .is_some_and(|t| mt.split('/').next() == Some(t))
        });
        if found.is_some() {
            return found;
        }
    }
    bodies.first()
}

/// The bytes of an example: JSON media types get JSON, text examples go out as they are.
pub(crate) fn render(media_type: &str, example: &Value) -> Vec<u8> {
    let media_type = content_type(media_type);
    match example {
        Value::String(s) if !media_type.contains("json") => s.clone().into_bytes(),
        other => other.to_string().into_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_whole_and_partial_segments() {
        let s = Segment::parse("{annrev}");
        assert!(s.matches("2024"));
        assert!(!s.matches(""));
        let s = Segment::parse("file-{id}.json");
        assert!(s.matches("file-12.json"));
        assert!(!s.matches("file-.json"));
        assert!(!s.matches("file-12.xml"));
        let s = Segment::parse("{a}-{b}");
        assert!(s.matches("x-y"));
        assert!(!s.matches("xy"));
    }

    #[test]
    fn accept_picks_the_media_type() {
        let bodies = vec![
            Body {
                media_type: "application/json".into(),
                examples: vec![],
            },
            Body {
                media_type: "application/xml".into(),
                examples: vec![],
            },
        ];
        assert_eq!(
            choose(&bodies, Some("application/xml")).unwrap().media_type,
            "application/xml"
        );
        assert_eq!(
            choose(&bodies, Some("text/html, application/*;q=0.8"))
                .unwrap()
                .media_type,
            "application/json"
        );
        assert_eq!(
            choose(&bodies, None).unwrap().media_type,
            "application/json"
        );
    }
}
