//! Requests checked against the document: required parameters present, parameter values and
//! JSON bodies matching their schemas (types, enums, `pattern`, bounds, `multipleOf`, lengths,
//! item and property counts, `uniqueItems`, the `date`, `date-time`, `uuid`, `int32` and
//! `int64` formats, `allOf`/`anyOf`/`oneOf`, `additionalProperties`), a required body present.
//! A mismatch is named by parameter or JSON pointer; the caller answers 400 in the gateway's
//! format.
//!
//! A test double that serves what a real gateway would refuse hides client bugs, so the check
//! is close to the document; where documents are often sloppy it leans towards accepting
//! (`oneOf` needs one matching branch, not exactly one; `additionalProperties: false` in one
//! `allOf` part lets through what the other parts declare; patterns the `regex` crate cannot
//! compile and unknown formats are skipped; recursion and work are bounded).
//!
//! - [`parameters`]: parameter values out of the request, parsed into JSON values.
//! - [`keywords`]: a JSON value against a schema, keyword by keyword.

mod keywords;
mod parameters;

use std::sync::Arc;

use gouvgen::oas::Schema;
use serde_json::Value;

pub(crate) use crate::document::deref;
pub(crate) use parameters::separator;

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum In {
    Path,
    Query,
    Header,
}

impl In {
    /// The word the error messages use.
    fn word(self) -> &'static str {
        match self {
            In::Path => "path",
            In::Query => "query",
            In::Header => "header",
        }
    }
}

/// One declared parameter.
#[derive(Debug, Clone)]
pub(crate) struct Param {
    pub name: String,
    pub location: In,
    pub required: bool,
    /// The parameter's schema (Swagger 2: the parameter itself), references unresolved.
    pub schema: Value,
    /// How an array value is serialised: `None` when each item is its own query pair
    /// (`explode`, `collectionFormat: multi`), else the separator in one value (`,` ...).
    pub separator: Option<char>,
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
            parameters::check(&self.doc, p, request)?;
        }
        self.check_body(request)
    }

    /// The body: present when required, and when JSON, matching its schema.
    fn check_body(&self, request: &Request<'_>) -> Result<(), String> {
        let Some((required, schema)) = &self.body else {
            return Ok(());
        };
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
            keywords::Checker::new(&self.doc, false)
                .conform(schema, &value, "", 0)
                .map_err(|(pointer, why)| format!("request body at `{pointer}`: {why}"))?;
        }
        Ok(())
    }
}

/// The members of a composition keyword (`allOf`, `anyOf`, `oneOf`): empty when absent or not
/// an array.
fn members<'s>(schema: Schema<'s>, keyword: &str) -> &'s [Value] {
    schema.members(keyword).unwrap_or_default()
}

/// RFC 6901 escaping of one pointer segment.
fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(doc: &Value, schema: &Value, value: &Value) -> Result<(), (String, String)> {
        keywords::Checker::new(doc, false).conform(schema, value, "", 0)
    }

    #[test]
    fn bodies_are_checked_with_pointers() {
        let doc = json!({"components": {"schemas": {"Note": {
            "type": "object", "required": ["texte"],
            "properties": {"texte": {"type": "string"}, "tags": {"type": "array", "items": {"type": "integer"}}}
        }}}});
        let schema = json!({"$ref": "#/components/schemas/Note"});
        assert!(body(&doc, &schema, &json!({"texte": "a", "tags": [1]})).is_ok());
        assert_eq!(body(&doc, &schema, &json!({})).unwrap_err().0, "/texte");
        assert_eq!(
            body(&doc, &schema, &json!({"texte": "a", "tags": [1, "x"]}))
                .unwrap_err()
                .0,
            "/tags/1"
        );
    }

    #[test]
    fn recursive_documents_are_bounded() {
        let doc = json!({"components": {"schemas": {
            "A": {"anyOf": [{"$ref": "#/components/schemas/A"}, {"$ref": "#/components/schemas/A"}]},
            "L": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/L"}}}
        }}});
        let a = json!({"$ref": "#/components/schemas/A"});
        assert!(body(&doc, &a, &json!(1)).is_ok());
        let mut deep = json!({});
        for _ in 0..500 {
            deep = json!({ "next": deep });
        }
        assert!(body(&doc, &json!({"$ref": "#/components/schemas/L"}), &deep).is_ok());
    }

    #[test]
    fn integers_may_be_big_or_written_with_a_fraction_of_zero() {
        let doc = json!({});
        let int = json!({"type": "integer"});
        let big: Value = serde_json::from_str("123456789012345678901234567890").unwrap();
        assert!(body(&doc, &int, &big).is_ok());
        assert!(body(&doc, &int, &json!(1.0)).is_ok());
        assert!(body(&doc, &int, &json!(1.5)).is_err());
        let int64 = json!({"type": "integer", "format": "int64"});
        assert!(body(&doc, &int64, &big).is_err());
    }
}
