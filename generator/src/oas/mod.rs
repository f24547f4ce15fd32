//! A typed, lenient view of an OpenAPI 3 document (what [`crate::normalise`] produces).
//!
//! Every OpenAPI key the model and the gateway emulator (`gouvgen-emulator`) read is spelled
//! once, here. The emulator reads documents as written, not normalised, so that a normaliser
//! bug is not hidden by the same bug on the server side: the few Swagger 2.0 keys it needs
//! are views' accessors too, all in one file (`swagger2.rs`). A view wraps one JSON node and
//! answers in Rust types; what real documents get wrong (a missing key, a key of the wrong
//! JSON type) reads as "absent", so the model keeps its tolerance and decides itself what to
//! warn about. Views carry no pointer: the caller knows where it walked and builds the
//! pointer of each warning, so error locations stay exact.

mod operation;
mod response;
mod schema;
mod swagger2;

use serde_json::{Map, Value};

pub use operation::{Body, Media, Operation, Parameter, SecurityScheme};
pub use response::{Header, Response};
pub use schema::{Exclusive, Schema};
pub use swagger2::{description_as_written, has_ref};

/// The HTTP methods a path item may hold, in the order OpenAPI lists them.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The value of `key`, whatever its JSON type.
fn field<'a>(node: &'a Value, key: &str) -> Option<&'a Value> {
    node.get(key)
}

/// `key` when it is a string.
fn string<'a>(node: &'a Value, key: &str) -> Option<&'a str> {
    field(node, key).and_then(Value::as_str)
}

/// `key` when it is a string with something besides white space, trimmed.
fn text<'a>(node: &'a Value, key: &str) -> Option<&'a str> {
    string(node, key).map(str::trim).filter(|s| !s.is_empty())
}

/// `key` is `true` (anything else, absence included, is `false`).
fn flag(node: &Value, key: &str) -> bool {
    field(node, key) == Some(&Value::Bool(true))
}

/// `key` when it is an array; an empty slice otherwise.
fn list<'a>(node: &'a Value, key: &str) -> &'a [Value] {
    field(node, key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// `key` when it is an object.
fn object<'a>(node: &'a Value, key: &str) -> Option<&'a Map<String, Value>> {
    field(node, key).and_then(Value::as_object)
}

/// Title and description joined (the same text once), for rustdoc.
pub fn documentation(node: &Value) -> Option<String> {
    match (text(node, "title"), text(node, "description")) {
        (Some(t), Some(d)) if t != d => Some(format!("{t}\n\n{d}")),
        (Some(t), _) => Some(t.to_string()),
        (None, Some(d)) => Some(d.to_string()),
        (None, None) => None,
    }
}

/// The document's root.
#[derive(Debug, Clone, Copy)]
pub struct Document<'a>(pub &'a Value);

impl<'a> Document<'a> {
    /// `info.<key>` as a string (`title`, `description`).
    pub fn info(&self, key: &str) -> Option<&'a str> {
        field(self.0, "info").and_then(|info| string(info, key))
    }

    /// `info.version` as written: a number some documents use is kept as its JSON text.
    pub fn version(&self) -> Option<String> {
        let version = field(self.0, "info").and_then(|info| field(info, "version"))?;
        Some(
            version
                .as_str()
                .map_or_else(|| version.to_string(), str::to_string),
        )
    }

    /// Whether `openapi` is written, whatever its value: what marks an OpenAPI 3 document.
    pub fn has_openapi(&self) -> bool {
        field(self.0, "openapi").is_some()
    }

    /// `openapi` as written (its version, a string or, mistakenly, a number).
    pub fn openapi_version(&self) -> Option<&'a Value> {
        field(self.0, "openapi")
    }

    /// `servers`, in document order (the first is where the API is served).
    pub fn servers(&self) -> impl Iterator<Item = Server<'a>> {
        list(self.0, "servers").iter().map(Server)
    }

    /// The `url` of each server with its index in `servers`.
    pub fn server_urls(&self) -> impl Iterator<Item = (usize, &'a str)> {
        self.servers()
            .enumerate()
            .filter_map(|(i, server)| server.url().map(|url| (i, url)))
    }

    /// Whether the document has a `paths` key at all.
    pub fn has_paths(&self) -> bool {
        field(self.0, "paths").is_some()
    }

    /// `paths`, by template.
    pub fn paths(&self) -> Option<&'a Map<String, Value>> {
        object(self.0, "paths")
    }

    /// The document-wide `security` requirements.
    pub fn security(&self) -> Option<&'a Value> {
        field(self.0, "security")
    }

    /// `components.schemas`, by name.
    pub fn schemas(&self) -> Option<&'a Map<String, Value>> {
        self.components("schemas")
    }

    /// `components.securitySchemes`, by name.
    pub fn security_schemes(&self) -> impl Iterator<Item = (&'a String, SecurityScheme<'a>)> {
        self.components("securitySchemes")
            .into_iter()
            .flatten()
            .map(|(name, scheme)| (name, SecurityScheme(scheme)))
    }

    fn components(&self, kind: &str) -> Option<&'a Map<String, Value>> {
        field(self.0, "components").and_then(|c| object(c, kind))
    }
}

/// A path item: the operations of one template.
#[derive(Debug, Clone, Copy)]
pub struct PathItem<'a>(pub &'a Value);

impl<'a> PathItem<'a> {
    /// Parameters shared by every operation of the item.
    pub fn parameters(&self) -> &'a [Value] {
        list(self.0, "parameters")
    }

    /// The operation of one method (a member of [`METHODS`]).
    pub fn operation(&self, method: &str) -> Option<Operation<'a>> {
        field(self.0, method).map(Operation)
    }

    /// Every operation with its method (a member of [`METHODS`]), in document order: what
    /// serves the item, where [`PathItem::operation`] looks one method up.
    pub fn operations(&self) -> impl Iterator<Item = (&'a str, Operation<'a>)> {
        self.0
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(method, _)| METHODS.contains(&method.as_str()))
            .map(|(method, op)| (method.as_str(), Operation(op)))
    }
}

/// A server object (`servers[i]`).
#[derive(Debug, Clone, Copy)]
pub struct Server<'a>(pub &'a Value);

impl<'a> Server<'a> {
    /// `url`, maybe with `{variables}`.
    pub fn url(&self) -> Option<&'a str> {
        string(self.0, "url")
    }

    /// The `default` of each of `variables` that has a string one, by name: what fills the
    /// URL's placeholders when nobody chooses.
    pub fn variable_defaults(&self) -> impl Iterator<Item = (&'a str, &'a str)> {
        object(self.0, "variables")
            .into_iter()
            .flatten()
            .filter_map(|(name, var)| string(var, "default").map(|d| (name.as_str(), d)))
    }
}

/// A `$ref`, wherever it may stand (schema, parameter, response, body, path item, example).
pub fn reference(node: &Value) -> Option<&str> {
    string(node, "$ref")
}
