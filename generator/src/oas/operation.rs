//! Views of an operation and what hangs off it: parameters, bodies, responses, media types,
//! security schemes.

use serde_json::{Map, Value};

use super::{field, flag, list, object, string, text};

/// One operation (`paths.<template>.<method>`).
#[derive(Debug, Clone, Copy)]
pub struct Operation<'a>(pub &'a Value);

impl<'a> Operation<'a> {
    /// The JSON node, for what takes a whole operation.
    pub fn node(&self) -> &'a Value {
        self.0
    }

    /// Whether an `operationId` is written at all, even empty.
    pub fn has_operation_id(&self) -> bool {
        field(self.0, "operationId").is_some()
    }

    /// `operationId`, trimmed, when it names something.
    pub fn operation_id(&self) -> Option<&'a str> {
        self.operation_id_as_written()
            .map(str::trim)
            .filter(|id| !id.is_empty())
    }

    /// `operationId` exactly as written, even empty: the emulator's scenarios name an
    /// operation by the text the document gives.
    pub fn operation_id_as_written(&self) -> Option<&'a str> {
        string(self.0, "operationId")
    }

    /// The provider's `x-operationId` extension on the operation, trimmed.
    pub fn x_operation_id(&self) -> Option<&'a str> {
        text(self.0, "x-operationId")
    }

    /// The operation's own parameters (shared ones are on the path item).
    pub fn parameters(&self) -> &'a [Value] {
        list(self.0, "parameters")
    }

    /// `requestBody`, maybe a `$ref`.
    pub fn request_body(&self) -> Option<&'a Value> {
        field(self.0, "requestBody")
    }

    /// `responses`, by status key.
    pub fn responses(&self) -> Option<&'a Map<String, Value>> {
        object(self.0, "responses")
    }

    /// `summary`, trimmed, when not empty.
    pub fn summary(&self) -> Option<&'a str> {
        text(self.0, "summary")
    }

    /// `description`, trimmed, when not empty.
    pub fn description(&self) -> Option<&'a str> {
        text(self.0, "description")
    }

    /// `deprecated: true`.
    pub fn deprecated(&self) -> bool {
        flag(self.0, "deprecated")
    }

    /// The operation's own `security` requirements (absent: the document's apply).
    pub fn security(&self) -> Option<&'a Value> {
        field(self.0, "security")
    }

    /// `tags` that are strings, trimmed, in document order.
    pub fn tags(&self) -> impl Iterator<Item = &'a str> {
        list(self.0, "tags")
            .iter()
            .filter_map(Value::as_str)
            .map(str::trim)
    }
}

/// A parameter (already dereferenced).
#[derive(Debug, Clone, Copy)]
pub struct Parameter<'a>(pub &'a Value);

impl<'a> Parameter<'a> {
    /// `name`.
    pub fn name(&self) -> Option<&'a str> {
        string(self.0, "name")
    }

    /// `in`, as written.
    pub fn location(&self) -> Option<&'a str> {
        string(self.0, "in")
    }

    /// What identifies a parameter in a path item or operation: `name` and `in`, as written.
    pub fn identity(&self) -> (Option<&'a Value>, Option<&'a Value>) {
        (field(self.0, "name"), field(self.0, "in"))
    }

    /// `required: true`.
    pub fn required(&self) -> bool {
        flag(self.0, "required")
    }

    /// `deprecated: true`.
    pub fn deprecated(&self) -> bool {
        flag(self.0, "deprecated")
    }

    /// `style`, as written.
    pub fn style(&self) -> Option<&'a str> {
        string(self.0, "style")
    }

    /// `explode`, when written as a boolean.
    pub fn explode(&self) -> Option<bool> {
        field(self.0, "explode").and_then(Value::as_bool)
    }

    /// `schema`, or the schema of the first media type of `content`.
    pub fn schema(&self) -> Option<&'a Value> {
        match self.schema_keyword() {
            Some(schema) => Some(schema),
            None => object(self.0, "content")?
                .values()
                .next()
                .and_then(|media| Media(media).schema()),
        }
    }

    /// `schema` alone, without `content`'s: a Swagger 2.0 body parameter's schema, and what
    /// the emulator checks a value against (a parameter without one is its own schema there).
    pub fn schema_keyword(&self) -> Option<&'a Value> {
        field(self.0, "schema")
    }
}

/// A request body or a response (already dereferenced): both carry `content`.
#[derive(Debug, Clone, Copy)]
pub struct Body<'a>(pub &'a Value);

impl<'a> Body<'a> {
    /// `content`, by media type.
    pub fn content(&self) -> Option<&'a Map<String, Value>> {
        object(self.0, "content")
    }

    /// `required: true` (request bodies).
    pub fn required(&self) -> bool {
        flag(self.0, "required")
    }

    /// `description`, trimmed, when not empty.
    pub fn description(&self) -> Option<&'a str> {
        text(self.0, "description")
    }

    /// The provider's `x-operationId` written on a response, trimmed.
    pub fn x_operation_id(&self) -> Option<&'a str> {
        text(self.0, "x-operationId")
    }
}

/// A media type object (`content.<type>`).
#[derive(Debug, Clone, Copy)]
pub struct Media<'a>(pub &'a Value);

impl<'a> Media<'a> {
    /// `schema`.
    pub fn schema(&self) -> Option<&'a Value> {
        field(self.0, "schema")
    }

    /// `example`.
    pub fn example(&self) -> Option<&'a Value> {
        field(self.0, "example")
    }

    /// `examples`, by name (each maybe a `$ref`; see [`Media::example_value`]).
    pub fn examples(&self) -> Option<&'a Map<String, Value>> {
        object(self.0, "examples")
    }

    /// The `value` of an example object.
    pub fn example_value(example: &Value) -> Option<&Value> {
        field(example, "value")
    }
}

/// A security scheme (`components.securitySchemes.<name>`).
#[derive(Debug, Clone, Copy)]
pub struct SecurityScheme<'a>(pub &'a Value);

impl<'a> SecurityScheme<'a> {
    /// `type` (`http`, `apiKey`, `oauth2`, `openIdConnect`); empty when missing.
    pub fn kind(&self) -> &'a str {
        string(self.0, "type").unwrap_or("")
    }

    /// `scheme` of an `http` scheme, lower-cased (`bearer`, `basic`).
    pub fn http_scheme(&self) -> String {
        string(self.0, "scheme").unwrap_or("").to_ascii_lowercase()
    }

    /// The `name` of an API key's parameter; empty when missing.
    pub fn key_name(&self) -> &'a str {
        string(self.0, "name").unwrap_or("")
    }

    /// Where an API key goes (`in`): `header` when missing.
    pub fn key_location(&self) -> &'a str {
        string(self.0, "in").unwrap_or("header")
    }

    /// The names of an OAuth 2 scheme's `flows`.
    pub fn flows(&self) -> Vec<String> {
        object(self.0, "flows")
            .map(|f| f.keys().cloned().collect())
            .unwrap_or_default()
    }
}
