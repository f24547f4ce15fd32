//! The Swagger 2.0 keys read on a document as written, all in this one place.
//!
//! The generator never needs them: [`crate::normalise`] converts Swagger 2.0 to OpenAPI 3
//! first. The gateway emulator does not normalise (a normaliser bug must not be hidden by the
//! same bug on the server side), and Swagger 2.0 says things the conversion drops: `produces`
//! of a response without a schema, `examples` without a schema, `x-example` on headers and
//! `ssv`/`tsv`/`pipes` collection formats. These accessors are what it reads of them.

use serde_json::{Map, Value};

use super::{Document, Header, Operation, Parameter, Response, field, object, string};

/// `key` when it is an array (an empty one included, which is not an absent one).
fn array<'a>(node: &'a Value, key: &str) -> Option<&'a [Value]> {
    field(node, key)?.as_array().map(Vec::as_slice)
}

impl<'a> Document<'a> {
    /// Whether `swagger` is written, whatever its value: what marks a Swagger 2.0 document.
    pub fn is_swagger2(&self) -> bool {
        field(self.0, "swagger").is_some()
    }

    /// `basePath` (Swagger 2.0): the prefix of every path, where OpenAPI 3 has `servers`.
    pub fn base_path(&self) -> Option<&'a str> {
        string(self.0, "basePath")
    }

    /// `produces` (Swagger 2.0), when an array: the media types of every operation's
    /// responses unless the operation lists its own.
    pub fn produces(&self) -> Option<&'a [Value]> {
        array(self.0, "produces")
    }
}

impl<'a> Operation<'a> {
    /// `produces` (Swagger 2.0), when an array: the operation's own response media types,
    /// which replace the document's (even when empty).
    pub fn produces(&self) -> Option<&'a [Value]> {
        array(self.0, "produces")
    }
}

impl<'a> Parameter<'a> {
    /// `collectionFormat` (Swagger 2.0): how an array value is serialised (`csv`, `ssv`,
    /// `tsv`, `pipes`, `multi`), where OpenAPI 3 has `style` and `explode`.
    pub fn collection_format(&self) -> Option<&'a str> {
        string(self.0, "collectionFormat")
    }
}

impl<'a> Response<'a> {
    /// `schema` of a Swagger 2.0 response (OpenAPI 3 puts it under `content`).
    pub fn schema(&self) -> Option<&'a Value> {
        field(self.0, "schema")
    }

    /// `examples` of a Swagger 2.0 response: one example by media type.
    pub fn examples(&self) -> Option<&'a Map<String, Value>> {
        object(self.0, "examples")
    }
}

impl<'a> Header<'a> {
    /// `x-example`: the extension Swagger 2.0 tools write for a header's example, which the
    /// header object of that version has no key for.
    pub fn x_example(&self) -> Option<&'a Value> {
        field(self.0, "x-example")
    }
}
