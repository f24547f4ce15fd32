//! The Swagger 2.0 keys read on a document as written, all in this one place.
//!
//! The generator never needs them: [`crate::normalise`] converts Swagger 2.0 to OpenAPI 3
//! first. The gateway emulator does not normalise (a normaliser bug must not be hidden by the
//! same bug on the server side), and Swagger 2.0 says things the conversion drops: `produces`
//! of a response without a schema, `examples` without a schema, `x-example` on headers and
//! `ssv`/`tsv`/`pipes` collection formats. These accessors are what it reads of them, and
//! what [`crate::normalise`] reads to convert a Swagger 2.0 document (values as written: the
//! converter copies them into the OpenAPI 3 shape as they are).

use serde_json::{Map, Value};

use super::{
    Document, Header, Operation, Parameter, Response, Schema, SecurityScheme, field, flag, object,
    string,
};

/// `key` when it is an array (an empty one included, which is not an absent one).
fn array<'a>(node: &'a Value, key: &str) -> Option<&'a [Value]> {
    field(node, key)?.as_array().map(Vec::as_slice)
}

impl<'a> Document<'a> {
    /// Whether `swagger` is written, whatever its value: what marks a Swagger 2.0 document.
    pub fn is_swagger2(&self) -> bool {
        field(self.0, "swagger").is_some()
    }

    /// `swagger` as written (its version, a string or a number).
    pub fn swagger_version(&self) -> Option<&'a Value> {
        field(self.0, "swagger")
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

    /// `consumes` (Swagger 2.0), when an array: the request media types of every operation
    /// unless the operation lists its own.
    pub fn consumes(&self) -> Option<&'a [Value]> {
        array(self.0, "consumes")
    }

    /// `host` (Swagger 2.0), when a string.
    pub fn host(&self) -> Option<&'a str> {
        string(self.0, "host")
    }

    /// `schemes` (Swagger 2.0), when an array (`https`, `http`).
    pub fn schemes(&self) -> Option<&'a [Value]> {
        array(self.0, "schemes")
    }

    /// `definitions` (Swagger 2.0) as written: the schemas OpenAPI 3 keeps in `components`.
    pub fn definitions(&self) -> Option<&'a Value> {
        field(self.0, "definitions")
    }

    /// `parameters` at the root (Swagger 2.0) as written: parameters operations refer to.
    pub fn parameter_definitions(&self) -> Option<&'a Value> {
        field(self.0, "parameters")
    }

    /// `responses` at the root (Swagger 2.0), when an object: responses operations refer to.
    pub fn response_definitions(&self) -> Option<&'a Map<String, Value>> {
        object(self.0, "responses")
    }

    /// `securityDefinitions` (Swagger 2.0), when an object.
    pub fn security_definitions(&self) -> Option<&'a Map<String, Value>> {
        object(self.0, "securityDefinitions")
    }
}

/// Whether `$ref` is written, whatever its value: such a node is copied as it is.
pub fn has_ref(node: &Value) -> bool {
    field(node, "$ref").is_some()
}

/// `description` as written (copied into the converted node whatever its type).
pub fn description_as_written(node: &Value) -> Option<&Value> {
    field(node, "description")
}

impl<'a> Schema<'a> {
    /// `x-nullable: true` alone (Swagger 2.0 tools; [`Schema::nullable_flag`] takes
    /// OpenAPI 3's `nullable` too), which the conversion turns into `nullable`.
    pub fn x_nullable(&self) -> bool {
        flag(self.0, "x-nullable")
    }

    /// `discriminator` when a string: Swagger 2.0's property name, which OpenAPI 3 writes
    /// as an object ([`Schema::discriminator_property`] reads that one).
    pub fn discriminator_name(&self) -> Option<&'a str> {
        string(self.0, "discriminator")
    }
}

impl<'a> Operation<'a> {
    /// `produces` (Swagger 2.0), when an array: the operation's own response media types,
    /// which replace the document's (even when empty).
    pub fn produces(&self) -> Option<&'a [Value]> {
        array(self.0, "produces")
    }

    /// `consumes` (Swagger 2.0), when an array: the operation's own request media types.
    pub fn consumes(&self) -> Option<&'a [Value]> {
        array(self.0, "consumes")
    }
}

impl<'a> Parameter<'a> {
    /// `x-example`, the example Swagger 2.0 tools write on a parameter.
    pub fn x_example(&self) -> Option<&'a Value> {
        field(self.0, "x-example")
    }

    /// `example` as written.
    pub fn example(&self) -> Option<&'a Value> {
        field(self.0, "example")
    }

    /// `required` as written (a body parameter's becomes the request body's).
    pub fn required_as_written(&self) -> Option<&'a Value> {
        field(self.0, "required")
    }

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

    /// `headers` as written (an object of header objects, or anything else).
    pub fn headers_as_written(&self) -> Option<&'a Value> {
        field(self.0, "headers")
    }
}

impl<'a> SecurityScheme<'a> {
    /// `type`, when a string (`basic`, `apiKey`, `oauth2` in Swagger 2.0).
    pub fn kind_as_written(&self) -> Option<&'a str> {
        string(self.0, "type")
    }

    /// `flow` of a Swagger 2.0 OAuth 2 scheme (`application`, `implicit`, `password`,
    /// `accessCode`), when a string.
    pub fn flow(&self) -> Option<&'a str> {
        string(self.0, "flow")
    }

    /// `scopes` as written.
    pub fn scopes(&self) -> Option<&'a Value> {
        field(self.0, "scopes")
    }
}

impl<'a> Header<'a> {
    /// `x-example`: the extension Swagger 2.0 tools write for a header's example, which the
    /// header object of that version has no key for.
    pub fn x_example(&self) -> Option<&'a Value> {
        field(self.0, "x-example")
    }
}
