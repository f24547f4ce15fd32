//! The view of a schema object: the keywords the type space reads.

use serde_json::{Map, Value};

use super::{field, flag, list, object, string};

/// A schema object (or anything standing where one should: `true`, `false`, a stray string
/// reads as a schema with no keyword).
#[derive(Debug, Clone, Copy)]
pub struct Schema<'a>(pub &'a Value);

impl<'a> Schema<'a> {
    /// `$ref`, when a string.
    pub fn reference(&self) -> Option<&'a str> {
        string(self.0, "$ref")
    }

    /// Whether `$ref` is written, whatever its value.
    pub fn has_reference(&self) -> bool {
        field(self.0, "$ref").is_some()
    }

    /// `type` as written: a string, or an array of them in OpenAPI 3.1.
    pub fn type_keyword(&self) -> Option<&'a Value> {
        field(self.0, "type")
    }

    /// `type` when it is one string.
    pub fn type_str(&self) -> Option<&'a str> {
        string(self.0, "type")
    }

    /// `format`.
    pub fn format(&self) -> Option<&'a str> {
        string(self.0, "format")
    }

    /// `pattern`.
    pub fn pattern(&self) -> Option<&'a str> {
        string(self.0, "pattern")
    }

    /// `nullable: true` (OpenAPI 3.0) or `x-nullable: true` (Swagger 2.0 tools).
    pub fn nullable_flag(&self) -> bool {
        flag(self.0, "nullable") || flag(self.0, "x-nullable")
    }

    /// `enum`, when an array.
    pub fn enum_values(&self) -> Option<&'a [Value]> {
        field(self.0, "enum")?.as_array().map(Vec::as_slice)
    }

    /// `const`.
    pub fn constant(&self) -> Option<&'a Value> {
        field(self.0, "const")
    }

    /// `allOf`, when an array.
    pub fn all_of(&self) -> Option<&'a [Value]> {
        self.members("allOf")
    }

    /// `oneOf` then `anyOf`, with their keyword, each when an array.
    pub fn alternatives(&self) -> [(&'static str, Option<&'a [Value]>); 2] {
        [
            ("oneOf", self.members("oneOf")),
            ("anyOf", self.members("anyOf")),
        ]
    }

    /// The members of a composition keyword (`allOf`, `oneOf`, `anyOf`) when an array.
    pub fn members(&self, keyword: &str) -> Option<&'a [Value]> {
        field(self.0, keyword)?.as_array().map(Vec::as_slice)
    }

    /// Whether `properties` is written, whatever its value.
    pub fn has_properties(&self) -> bool {
        field(self.0, "properties").is_some()
    }

    /// `properties`, by name, when an object.
    pub fn properties(&self) -> Option<&'a Map<String, Value>> {
        object(self.0, "properties")
    }

    /// `properties` declares at least one property.
    pub fn declares_properties(&self) -> bool {
        self.properties().is_some_and(|p| !p.is_empty())
    }

    /// The names in `required` that are strings.
    pub fn required_names(&self) -> impl Iterator<Item = &'a str> {
        list(self.0, "required").iter().filter_map(Value::as_str)
    }

    /// Whether `additionalProperties` is written, whatever its value.
    pub fn has_additional_properties(&self) -> bool {
        field(self.0, "additionalProperties").is_some()
    }

    /// `additionalProperties` when it is a schema with at least one keyword (`true`, `{}`
    /// and `false` say nothing about the values' type).
    pub fn additional_schema(&self) -> Option<&'a Value> {
        field(self.0, "additionalProperties")
            .filter(|v| v.as_object().is_some_and(|m| !m.is_empty()))
    }

    /// Whether `items` is written.
    pub fn has_items(&self) -> bool {
        field(self.0, "items").is_some()
    }

    /// `items`.
    pub fn items(&self) -> Option<&'a Value> {
        field(self.0, "items")
    }

    /// `discriminator.propertyName`.
    pub fn discriminator_property(&self) -> Option<&'a str> {
        field(self.0, "discriminator").and_then(|d| string(d, "propertyName"))
    }

    /// `discriminator.mapping`: tag value → reference.
    pub fn discriminator_mapping(&self) -> Vec<(String, String)> {
        field(self.0, "discriminator")
            .and_then(|d| object(d, "mapping"))
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|r| (k.clone(), r.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `default`.
    pub fn default(&self) -> Option<&'a Value> {
        field(self.0, "default")
    }

    /// `deprecated: true`.
    pub fn deprecated(&self) -> bool {
        flag(self.0, "deprecated")
    }

    /// `example` (one value).
    pub fn example(&self) -> Option<&'a Value> {
        field(self.0, "example")
    }

    /// `examples` when an array (OpenAPI 3.1).
    pub fn examples(&self) -> Option<&'a [Value]> {
        field(self.0, "examples")?.as_array().map(Vec::as_slice)
    }

    /// An `allOf` member that only annotates (`{nullable: true}`, `{description: ..}`): every
    /// keyword it has is an annotation or an extension.
    pub fn annotates_only(&self) -> bool {
        self.0.as_object().is_some_and(|m| {
            m.keys().all(|k| {
                matches!(
                    k.as_str(),
                    "description"
                        | "title"
                        | "nullable"
                        | "example"
                        | "examples"
                        | "deprecated"
                        | "readOnly"
                        | "writeOnly"
                        | "default"
                ) || k.starts_with("x-")
            })
        })
    }
}
