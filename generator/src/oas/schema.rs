//! The view of a schema object: the keywords the type space reads.

use serde_json::{Map, Number, Value};

use super::{field, flag, list, object, string};

/// `key` as a count (`minLength`, `maxItems`...): a non-negative number, a fractional one
/// (`2.0`) floored.
fn count(node: &Value, key: &str) -> Option<u64> {
    let v = field(node, key)?;
    v.as_u64()
        .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f.floor() as u64))
}

/// How `exclusiveMinimum` or `exclusiveMaximum` is written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Exclusive {
    /// Absent, `false`, or of another JSON type.
    No,
    /// `true` (OpenAPI 3.0, JSON Schema draft 4): `minimum`/`maximum` itself is exclusive.
    Flag,
    /// A number (OpenAPI 3.1, JSON Schema 2020-12): an exclusive bound of its own.
    Bound(f64),
}

/// `key` (`exclusiveMinimum`, `exclusiveMaximum`) in whichever form it is written.
fn exclusive(node: &Value, key: &str) -> Exclusive {
    match field(node, key) {
        Some(Value::Bool(true)) => Exclusive::Flag,
        Some(v) => v.as_f64().map_or(Exclusive::No, Exclusive::Bound),
        None => Exclusive::No,
    }
}

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

    /// The declared types: the one string of `type`, or the strings of a 3.1 `type` array
    /// (`[x, "null"]`); empty when `type` is absent or of another JSON type.
    pub fn types(&self) -> Vec<&'a str> {
        match self.type_keyword() {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
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
        self.nullable() || flag(self.0, "x-nullable")
    }

    /// `nullable: true` alone (OpenAPI 3.0): what lets `null` through a validator.
    pub fn nullable(&self) -> bool {
        flag(self.0, "nullable")
    }

    /// `minLength`, in characters: the shortest string allowed.
    pub fn min_length(&self) -> Option<u64> {
        count(self.0, "minLength")
    }

    /// `maxLength`, in characters: the longest string allowed.
    pub fn max_length(&self) -> Option<u64> {
        count(self.0, "maxLength")
    }

    /// `minimum`: the smallest number allowed (exclusive under [`Exclusive::Flag`]).
    pub fn minimum(&self) -> Option<f64> {
        field(self.0, "minimum")?.as_f64()
    }

    /// `maximum`: the largest number allowed (exclusive under [`Exclusive::Flag`]).
    pub fn maximum(&self) -> Option<f64> {
        field(self.0, "maximum")?.as_f64()
    }

    /// `exclusiveMinimum`, in either of its forms: whether and how the lower bound excludes.
    pub fn exclusive_minimum(&self) -> Exclusive {
        exclusive(self.0, "exclusiveMinimum")
    }

    /// `exclusiveMaximum`, in either of its forms: whether and how the upper bound excludes.
    pub fn exclusive_maximum(&self) -> Exclusive {
        exclusive(self.0, "exclusiveMaximum")
    }

    /// `multipleOf`, as written (integers stay exact for an exact check).
    pub fn multiple_of(&self) -> Option<&'a Number> {
        field(self.0, "multipleOf")?.as_number()
    }

    /// `minItems`: the fewest items an array may have.
    pub fn min_items(&self) -> Option<u64> {
        count(self.0, "minItems")
    }

    /// `maxItems`: the most items an array may have.
    pub fn max_items(&self) -> Option<u64> {
        count(self.0, "maxItems")
    }

    /// `uniqueItems: true`: no item of the array may repeat another.
    pub fn unique_items(&self) -> bool {
        flag(self.0, "uniqueItems")
    }

    /// `minProperties`: the fewest properties an object may have.
    pub fn min_properties(&self) -> Option<u64> {
        count(self.0, "minProperties")
    }

    /// `maxProperties`: the most properties an object may have.
    pub fn max_properties(&self) -> Option<u64> {
        count(self.0, "maxProperties")
    }

    /// `patternProperties`, by regular expression: schemas of the properties whose name
    /// matches.
    pub fn pattern_properties(&self) -> Option<&'a Map<String, Value>> {
        object(self.0, "patternProperties")
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
        self.additional_properties().is_some()
    }

    /// `additionalProperties` as written: a schema, or `true`/`false` (a validator refuses
    /// unnamed properties under `false`).
    pub fn additional_properties(&self) -> Option<&'a Value> {
        field(self.0, "additionalProperties")
    }

    /// `additionalProperties` when it is a schema with at least one keyword (`true`, `{}`
    /// and `false` say nothing about the values' type).
    pub fn additional_schema(&self) -> Option<&'a Value> {
        self.additional_properties()
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
