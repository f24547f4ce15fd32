//! Views of a response and of its headers: what a server sends back, as the gateway emulator
//! answers from the document.

use serde_json::{Map, Value};

use super::{Body, field, object};

/// A response object (`responses.<status>`, already dereferenced).
#[derive(Debug, Clone, Copy)]
pub struct Response<'a>(pub &'a Value);

impl<'a> Response<'a> {
    /// `content`, by media type (the same key as a request body's: [`Body::content`]).
    pub fn content(&self) -> Option<&'a Map<String, Value>> {
        Body(self.0).content()
    }

    /// `headers`, by name (each maybe a `$ref`): what the response carries besides its body.
    pub fn headers(&self) -> Option<&'a Map<String, Value>> {
        object(self.0, "headers")
    }
}

/// A response header object (`headers.<name>`, already dereferenced).
#[derive(Debug, Clone, Copy)]
pub struct Header<'a>(pub &'a Value);

impl<'a> Header<'a> {
    /// `example`: the value a server shows for this header first.
    pub fn example(&self) -> Option<&'a Value> {
        field(self.0, "example")
    }

    /// `schema`, whose own example stands in when the header has none.
    pub fn schema(&self) -> Option<&'a Value> {
        field(self.0, "schema")
    }
}
