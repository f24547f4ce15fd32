//! Parameters that are not plain scalars: arrays, objects and unions, written by the
//! OpenAPI `style` / `explode` rules.
//!
//! Generated code passes the typed value; it is turned into JSON first (so enums, unions and
//! structs all take the same path), then written: `form` (`a=1&a=2`, `a=1,2`, `k=v&k2=v2`),
//! `simple` (`1,2`, `k,v,k2,v2`, `k=v,k2=v2`), `deepObject` (`a[k]=v`), `spaceDelimited`,
//! `pipeDelimited`. Values nested deeper than the rules define are written as JSON text.

use percent_encoding::utf8_percent_encode;
use serde::Serialize;
use serde_json::Value;

use crate::wire::request::{PATH_SEGMENT, Request};

/// An OpenAPI parameter `style`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamStyle {
    /// `form`: the default for query and cookie parameters.
    Form,
    /// `simple`: the default for path and header parameters.
    Simple,
    /// `deepObject`: `name[key]=value`, objects in the query.
    DeepObject,
    /// `spaceDelimited`: `a=1 2`.
    SpaceDelimited,
    /// `pipeDelimited`: `a=1|2`.
    PipeDelimited,
}

/// The text of a scalar; arrays and objects nested inside a parameter are JSON text.
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Whether a value holds an array or an object inside it: OpenAPI's styles stop one level
/// down, so such values are written by the rules below.
fn nested(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|v| v.is_array() || v.is_object()),
        Value::Object(map) => map.values().any(|v| v.is_array() || v.is_object()),
        _ => false,
    }
}

/// `name[k]=v` pairs at any depth, arrays indexed in brackets (`lines[0][amount]=100`): how
/// the APIs that take line items in a query read `deepObject` beyond what OpenAPI defines.
fn bracket_pairs(name: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Null => {}
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                bracket_pairs(&format!("{name}[{i}]"), v, out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                bracket_pairs(&format!("{name}[{k}]"), v, out);
            }
        }
        scalar_value => out.push((name.to_owned(), scalar(scalar_value))),
    }
}

/// Query pairs for a parameter `name` holding `value`.
///
/// Beyond OpenAPI's rules: a nested value in `deepObject` style is written with brackets at
/// every level (arrays by index); in any other style it is one JSON text (`a=[{"k":1}]`).
pub fn query_pairs(
    name: &str,
    value: &Value,
    style: ParamStyle,
    explode: bool,
) -> Vec<(String, String)> {
    let one = |v: String| vec![(name.to_owned(), v)];
    if nested(value) {
        if style == ParamStyle::DeepObject {
            let mut out = Vec::new();
            bracket_pairs(name, value, &mut out);
            return out;
        }
        return one(value.to_string());
    }
    match value {
        Value::Null => Vec::new(),
        Value::Array(items) => {
            let sep = match style {
                ParamStyle::SpaceDelimited => " ",
                ParamStyle::PipeDelimited => "|",
                _ => ",",
            };
            if explode && matches!(style, ParamStyle::Form | ParamStyle::DeepObject) {
                items.iter().map(|v| (name.to_owned(), scalar(v))).collect()
            } else if items.is_empty() {
                Vec::new()
            } else {
                one(items.iter().map(scalar).collect::<Vec<_>>().join(sep))
            }
        }
        Value::Object(map) => match style {
            ParamStyle::DeepObject => map
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (format!("{name}[{k}]"), scalar(v)))
                .collect(),
            _ if explode => map
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), scalar(v)))
                .collect(),
            _ => {
                let parts: Vec<String> = map
                    .iter()
                    .filter(|(_, v)| !v.is_null())
                    .flat_map(|(k, v)| [k.clone(), scalar(v)])
                    .collect();
                if parts.is_empty() {
                    Vec::new()
                } else {
                    one(parts.join(","))
                }
            }
        },
        other => one(scalar(other)),
    }
}

/// Pieces of a value in `simple` style and the separator between them.
fn simple_pieces(value: &Value, explode: bool) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().map(scalar).collect(),
        Value::Object(map) => map
            .iter()
            .filter(|(_, v)| !v.is_null())
            .flat_map(|(k, v)| {
                if explode {
                    vec![format!("{k}={}", scalar(v))]
                } else {
                    vec![k.clone(), scalar(v)]
                }
            })
            .collect(),
        other => vec![scalar(other)],
    }
}

/// A value in `simple` style, as a header value.
pub fn simple_text(value: &Value, explode: bool) -> String {
    simple_pieces(value, explode).join(",")
}

/// A path segment in `simple` style: every piece percent-encoded, the `,` and `=` that
/// separate pieces kept.
pub fn encode_path_styled(value: &impl Serialize, explode: bool) -> String {
    let value = serde_json::to_value(value).unwrap_or(Value::Null);
    simple_pieces(&value, explode)
        .iter()
        .map(|piece| match piece.split_once('=') {
            Some((k, v)) if explode && value.is_object() => format!(
                "{}={}",
                utf8_percent_encode(k, PATH_SEGMENT),
                utf8_percent_encode(v, PATH_SEGMENT)
            ),
            _ => utf8_percent_encode(piece, PATH_SEGMENT).to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

impl Request {
    /// Adds a query parameter of any shape, written by `style` and `explode`; `None` sends
    /// nothing.
    pub fn query_styled(
        mut self,
        name: &str,
        value: &impl Serialize,
        style: ParamStyle,
        explode: bool,
    ) -> Self {
        match serde_json::to_value(value) {
            Ok(v) => self.query.extend(query_pairs(name, &v, style, explode)),
            Err(e) => {
                self.build_error = Some(format!("query parameter `{name}` does not serialize: {e}"))
            }
        }
        self
    }

    /// Adds a header of any shape, written in `simple` style; `None` sends nothing.
    pub fn header_styled(
        mut self,
        name: &'static str,
        value: &impl Serialize,
        explode: bool,
    ) -> Self {
        match serde_json::to_value(value) {
            Ok(Value::Null) => {}
            Ok(v) => self.headers.push((name, simple_text(&v, explode))),
            Err(e) => self.build_error = Some(format!("header `{name}` does not serialize: {e}")),
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(v: Value, style: ParamStyle, explode: bool) -> Vec<(String, String)> {
        query_pairs("p", &v, style, explode)
    }

    #[test]
    fn styles_follow_the_openapi_table() {
        // Keys come out sorted (serde_json without preserve_order).
        let obj = json!({"first": "Alex", "role": "admin"});
        let arr = json!(["blue", "black"]);
        let s = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            pairs(arr.clone(), ParamStyle::Form, true),
            vec![s("p", "blue"), s("p", "black")]
        );
        assert_eq!(
            pairs(arr.clone(), ParamStyle::Form, false),
            vec![s("p", "blue,black")]
        );
        assert_eq!(
            pairs(arr.clone(), ParamStyle::SpaceDelimited, false),
            vec![s("p", "blue black")]
        );
        assert_eq!(
            pairs(arr, ParamStyle::PipeDelimited, false),
            vec![s("p", "blue|black")]
        );
        assert_eq!(
            pairs(obj.clone(), ParamStyle::Form, true),
            vec![s("first", "Alex"), s("role", "admin")]
        );
        assert_eq!(
            pairs(obj.clone(), ParamStyle::Form, false),
            vec![s("p", "first,Alex,role,admin")]
        );
        assert_eq!(
            pairs(obj.clone(), ParamStyle::DeepObject, true),
            vec![s("p[first]", "Alex"), s("p[role]", "admin")]
        );
        assert_eq!(simple_text(&obj, false), "first,Alex,role,admin");
        assert_eq!(simple_text(&obj, true), "first=Alex,role=admin");
        assert_eq!(
            encode_path_styled(&json!({"a b": "c/d"}), true),
            "a%20b=c%2Fd"
        );
        assert_eq!(encode_path_styled(&json!(["x,y", "z"]), false), "x%2Cy,z");
        assert_eq!(
            pairs(json!("uuid-or-name"), ParamStyle::Form, true),
            vec![s("p", "uuid-or-name")]
        );
        assert!(pairs(Value::Null, ParamStyle::Form, true).is_empty());
    }

    #[test]
    fn nested_values_use_brackets_in_deep_object_and_json_otherwise() {
        let s = |a: &str, b: &str| (a.to_string(), b.to_string());
        let lines = json!([{"amount": 1, "tags": ["a", "b"]}, null, {"amount": 2}]);
        assert_eq!(
            pairs(lines.clone(), ParamStyle::DeepObject, true),
            vec![
                s("p[0][amount]", "1"),
                s("p[0][tags][0]", "a"),
                s("p[0][tags][1]", "b"),
                s("p[2][amount]", "2"),
            ]
        );
        assert_eq!(
            pairs(lines.clone(), ParamStyle::Form, true),
            vec![s("p", &lines.to_string())]
        );
        assert_eq!(
            pairs(json!([[1, 2], [3]]), ParamStyle::Form, false),
            vec![s("p", "[[1,2],[3]]")]
        );
        // Flat values keep OpenAPI's own rules.
        assert_eq!(
            pairs(json!(["x", "y"]), ParamStyle::DeepObject, true),
            vec![s("p", "x"), s("p", "y")]
        );
    }
}
