//! Where a generated type comes from, in one line: its schema, or the operation and status it
//! is the body of. Read from the schema's pointer, so a reader can find it in the document.

use super::docs::code;
use crate::model::{Api, NamedType};

/// The one-line origin of a named type, for its doc comment.
pub fn origin_line(ty: &NamedType, api: &Api) -> String {
    let segments: Vec<String> = ty
        .pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let (what, rest) = match segments.as_slice() {
        ["components", "schemas", name, rest @ ..] => (format!("Schema {}", code(name)), rest),
        ["components", kind, name, rest @ ..] => (component(kind, name), rest),
        ["paths", path, method, rest @ ..] => match operation_part(api, path, method, rest) {
            Some((what, rest)) => (what, rest),
            None => return fallback(&ty.pointer),
        },
        _ => return fallback(&ty.pointer),
    };
    let inner = inner_path(rest);
    if inner.is_empty() {
        format!("{what}.")
    } else {
        format!("{what}, at {}.", code(&inner))
    }
}

/// `components/responses/X` and the like.
fn component(kind: &str, name: &str) -> String {
    let kind = match kind {
        "responses" => "response",
        "requestBodies" => "request body",
        "parameters" => "parameter",
        "headers" => "header",
        other => other,
    };
    format!("Component {kind} {}", code(name))
}

/// The part of an operation a pointer under `/paths/{path}/{method}` names, and what follows.
fn operation_part<'a>(
    api: &Api,
    path: &str,
    method: &str,
    rest: &'a [&'a str],
) -> Option<(String, &'a [&'a str])> {
    let op = api
        .operations
        .iter()
        .find(|o| o.path == path && o.http_method.eq_ignore_ascii_case(method));
    let operation = match op {
        Some(op) => format!("operation {}", code(&op.id)),
        None => format!(
            "operation {}",
            code(&format!("{} {path}", method.to_ascii_uppercase()))
        ),
    };
    match rest {
        ["responses", status, "content", _, "schema", rest @ ..]
        | ["responses", status, "schema", rest @ ..] => {
            let status = match *status {
                "default" => "Default response body".to_string(),
                s => format!("HTTP {s} body"),
            };
            Some((format!("{status} of {operation}"), rest))
        }
        ["requestBody", "content", _, "schema", rest @ ..] => {
            Some((format!("Request body of {operation}"), rest))
        }
        ["parameters", _, rest @ ..] => Some((format!("Parameter of {operation}"), rest)),
        _ => None,
    }
}

/// The path inside a schema, readable: `properties/errors/items` → `errors[]`.
fn inner_path(rest: &[&str]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            "properties" if i + 1 < rest.len() => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(rest[i + 1]);
                i += 2;
            }
            "items" => {
                out.push_str("[]");
                i += 1;
            }
            "schema" => i += 1,
            // `content/{media type}/schema`: the media type says nothing about the shape.
            "content" => i += 2,
            other => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(other);
                i += 1;
            }
        }
    }
    out
}

fn fallback(pointer: &str) -> String {
    format!("At {} in the document.", code(pointer))
}

#[cfg(test)]
mod tests {
    use super::inner_path;

    #[test]
    fn inner_paths_read_like_field_access() {
        assert_eq!(inner_path(&["properties", "errors", "items"]), "errors[]");
        assert_eq!(
            inner_path(&["properties", "data", "properties", "adresse"]),
            "data.adresse"
        );
        assert_eq!(inner_path(&["oneOf", "1"]), "oneOf.1");
        assert_eq!(inner_path(&[]), "");
    }
}
