//! Stage 2, normalising: every supported dialect into one OpenAPI 3 shape.
//!
//! Swagger 2.0 is converted here (paths, parameters, bodies, responses, references); OpenAPI
//! 3.1's JSON Schema differences (type arrays, `null`, `const`, `examples`) are understood by
//! the schema reader of [`crate::model`], which reads both 3.0 and 3.1 schemas.

mod swagger2;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::load::Document;

/// Which document format the file was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `swagger: "2.0"`.
    Swagger2,
    /// `openapi: 3.0.x`.
    OpenApi30,
    /// `openapi: 3.1.x`.
    OpenApi31,
}

impl Dialect {
    /// A short human name.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Swagger2 => "Swagger 2.0",
            Dialect::OpenApi30 => "OpenAPI 3.0",
            Dialect::OpenApi31 => "OpenAPI 3.1",
        }
    }
}

/// Reads the version field and checks that gouvgen understands it.
pub fn detect(doc: &Document) -> Result<Dialect> {
    let root = &doc.root;
    if !root.is_object() {
        return Err(Error::spec(
            doc.diagnostic(
                "",
                "the document is not an object: this is not an OpenAPI or Swagger document",
            )
            .hint("point gouvgen at an OpenAPI 3.x or Swagger 2.0 document"),
        ));
    }
    if let Some(v) = root.get("swagger") {
        let text = version_text(v);
        return if text == "2.0" || text == "2" {
            Ok(Dialect::Swagger2)
        } else {
            Err(Error::spec(
                doc.diagnostic("/swagger", format!("unsupported Swagger version `{text}`"))
                    .hint("gouvgen reads Swagger 2.0 and OpenAPI 3.0 / 3.1 documents"),
            ))
        };
    }
    if let Some(v) = root.get("openapi") {
        let text = version_text(v);
        let mut parts = text.split('.');
        let (major, minor) = (parts.next(), parts.next());
        return if major == Some("3") && minor == Some("0") {
            Ok(Dialect::OpenApi30)
        } else if major == Some("3") && minor == Some("1") {
            Ok(Dialect::OpenApi31)
        } else {
            Err(Error::spec(
                doc.diagnostic("/openapi", format!("unsupported OpenAPI version `{text}`"))
                    .hint("gouvgen reads Swagger 2.0 and OpenAPI 3.0 / 3.1 documents; check the `openapi` field"),
            ))
        };
    }
    Err(Error::spec(
        doc.diagnostic(
            "",
            "no `openapi` or `swagger` field: the version of the document is unknown",
        )
        .hint("add `openapi: 3.0.3` (or `swagger: \"2.0\"`) at the top of the document"),
    ))
}

fn version_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.trim().to_string(),
        other => other.to_string(),
    }
}

/// Returns the document in OpenAPI 3 shape (borrowed when it already is).
pub fn normalise(doc: &Document, dialect: Dialect) -> std::borrow::Cow<'_, Value> {
    match dialect {
        Dialect::Swagger2 => std::borrow::Cow::Owned(swagger2::convert(&doc.root)),
        Dialect::OpenApi30 | Dialect::OpenApi31 => std::borrow::Cow::Borrowed(&doc.root),
    }
}
