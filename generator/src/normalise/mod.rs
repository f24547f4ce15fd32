//! Stage 2, normalising: every supported dialect into one OpenAPI 3 shape.
//!
//! Swagger 2.0 is converted here (paths, parameters, bodies, responses, references); OpenAPI
//! 3.1's JSON Schema differences (type arrays, `null`, `const`, `examples`) are understood by
//! the schema reader of [`crate::model`], which reads both 3.0 and 3.1 schemas.

mod swagger2;

use std::borrow::Cow;

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
    if let Some(v) = crate::oas::Document(root).swagger_version() {
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
    if let Some(v) = crate::oas::Document(root).openapi_version() {
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

/// A document in OpenAPI 3 shape, with the way back to the user's file: later stages never
/// ask which dialect it was written in, they ask [`Normalised::locate`] where a pointer of the
/// normalised shape is in the user's file.
#[derive(Debug)]
pub struct Normalised<'d> {
    source: &'d Document,
    root: Cow<'d, Value>,
    dialect: Dialect,
}

/// Detects the dialect and returns the document in OpenAPI 3 shape (borrowed when it already
/// is).
pub fn normalise(doc: &Document) -> Result<Normalised<'_>> {
    let dialect = detect(doc)?;
    let root = match dialect {
        Dialect::Swagger2 => Cow::Owned(swagger2::convert(&doc.root)),
        Dialect::OpenApi30 | Dialect::OpenApi31 => Cow::Borrowed(&doc.root),
    };
    Ok(Normalised {
        source: doc,
        root,
        dialect,
    })
}

impl<'d> Normalised<'d> {
    /// The document in OpenAPI 3 shape.
    pub fn root(&self) -> &Value {
        &self.root
    }

    /// What the user's file was written in.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The user's document as loaded.
    pub fn source(&self) -> &'d Document {
        self.source
    }

    /// Where a problem found at `pointer` of the normalised document is in the user's file,
    /// and its message with references spelled as the user wrote them.
    pub fn locate(&self, pointer: &str, message: &str) -> (String, String) {
        if self.dialect != Dialect::Swagger2 {
            return (pointer.to_string(), message.to_string());
        }
        let source = &self.source.root;
        let pointer = swagger2_pointer(pointer);
        let pointer = existing_prefix(source, &body_parameter_pointer(source, &pointer));
        let message = message.replace("#/components/schemas/", "#/definitions/");
        (pointer, message)
    }
}

/// Pointers into a converted Swagger 2.0 document, mapped back to the original where the
/// shapes correspond (the line lookup walks up to the nearest existing ancestor anyway).
fn swagger2_pointer(pointer: &str) -> String {
    for (new, old) in [
        ("/components/schemas/", "/definitions/"),
        ("/components/parameters/", "/parameters/"),
        ("/components/responses/", "/responses/"),
        ("/components/securitySchemes/", "/securityDefinitions/"),
    ] {
        if let Some(rest) = pointer.strip_prefix(new) {
            return format!("{old}{rest}");
        }
    }
    // `servers` is made of `host` and `basePath`; the host is what a warning is about.
    if pointer.starts_with("/servers/") {
        return "/host".into();
    }
    pointer.to_string()
}

/// `…/post/requestBody/content/<type>/schema/…` of a converted Swagger 2.0 operation is
/// `…/post/parameters/<i>/schema/…` in the user's file (`i` its `in: body` parameter).
fn body_parameter_pointer(source: &Value, pointer: &str) -> String {
    let Some((op, rest)) = pointer.split_once("/requestBody") else {
        return pointer.to_string();
    };
    let index = swagger2::body_parameter_index(source, op);
    let (Some(i), Some(at)) = (index, rest.find("/schema")) else {
        return pointer.to_string();
    };
    format!("{op}/parameters/{i}{}", &rest[at..])
}

/// The longest prefix of `pointer` that names a node of the user's document: pointers into
/// a converted Swagger 2.0 document (`…/requestBody/content/…`) must name the user's file.
fn existing_prefix(root: &Value, pointer: &str) -> String {
    let mut p = pointer;
    loop {
        if root.pointer(p).is_some() {
            return p.to_string();
        }
        match p.rfind('/') {
            Some(i) => p = &p[..i],
            None => return String::new(),
        }
    }
}
