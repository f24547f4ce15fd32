//! How the emulator reads a document's addresses and references: the base path it serves the
//! operations under, and local `$ref` resolution. A module of its own that imports nothing
//! from the emulator, so that the route table (`spec`), the example synthesis (`synth`) and
//! the request validation can all use it without depending on each other. Public (as
//! `gouvgen_emulator::document`) so that tools calling the emulator build the same URLs.

use gouvgen::oas::{self, Document, Server};
use serde_json::Value;

/// The path prefix under which the emulator serves a document's operations: Swagger 2's
/// `basePath`, or the path part of OpenAPI 3's first server URL (variables at their defaults);
/// `` for none. Public so that tools calling the emulator build the same URLs.
pub fn base_path(doc: &Value) -> String {
    let doc = Document(doc);
    if doc.is_swagger2() {
        doc.base_path().map(path_part).unwrap_or_default()
    } else {
        doc.servers().next().map(server_base).unwrap_or_default()
    }
}

/// OpenAPI 3: the path part of a server URL, server variables replaced by their defaults.
fn server_base(server: Server<'_>) -> String {
    let mut url = server.url().unwrap_or("").to_string();
    for (name, default) in server.variable_defaults() {
        url = url.replace(&format!("{{{name}}}"), default);
    }
    let after_scheme = match url.find("://") {
        Some(i) => &url[i + 3..],
        None if url.starts_with("//") => &url[2..],
        None => return path_part(&url),
    };
    path_part(
        after_scheme
            .find('/')
            .map(|i| &after_scheme[i..])
            .unwrap_or(""),
    )
}

/// Normalises a base path: no query, leading `/`, no trailing `/` (so `/` → ``).
fn path_part(path: &str) -> String {
    let path = path
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .trim_end_matches('/');
    if path.is_empty() || path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

/// Follows local `$ref`s (JSON pointers, `~1`/`~0` un-escaped) until a non-reference (at most
/// 32 hops, so a reference cycle ends).
pub fn deref<'a>(doc: &'a Value, mut value: &'a Value) -> &'a Value {
    for _ in 0..32 {
        let Some(target) = oas::reference(value) else {
            break;
        };
        match resolve(doc, target) {
            Some(next) => value = next,
            None => break,
        }
    }
    value
}

/// One local reference (`#/components/examples/a~1b`) → its target.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    if pointer.is_empty() {
        return Some(doc);
    }
    let decoded = percent_decode(pointer);
    // `Value::pointer` un-escapes `~1` and `~0` itself, in that order, per RFC 6901.
    doc.pointer(&decoded)
}

/// References may be URI-fragment encoded (`%7B` for `{`).
fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn base_paths() {
        let base = |server: Value| server_base(Server(&server));
        assert_eq!(
            base(json!({"url": "https://IP-GATEWAY/impotparticulier/1.0"})),
            "/impotparticulier/1.0"
        );
        assert_eq!(base(json!({"url": "https://entreprise.api.gouv.fr"})), "");
        assert_eq!(base(json!({"url": "/"})), "");
        assert_eq!(
            base(json!({"url": "https://h/{v}/x/", "variables": {"v": {"default": "v2"}}})),
            "/v2/x"
        );
        assert_eq!(path_part("/"), "");
    }

    #[test]
    fn escaped_references_resolve() {
        let doc = json!({"components": {"examples": {"a/b~c": {"value": 1}}}});
        assert_eq!(
            resolve(&doc, "#/components/examples/a~1b~0c"),
            Some(&json!({"value": 1}))
        );
    }
}
