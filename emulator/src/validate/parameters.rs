//! Parameter values out of the request (repeated query pairs or one separated value for
//! arrays) and parsed into the JSON values their schemas describe, so that the same keyword
//! checks serve parameters and bodies.

use gouvgen::oas::{Parameter, Schema};
use serde_json::{Number, Value};

use super::keywords::Checker;
use super::{In, Param, Request, deref, members};

/// How an array parameter is serialised: `None` when each item is its own query pair, else
/// the separator within one value. OpenAPI 3: `form` query parameters explode by default,
/// `spaceDelimited`/`pipeDelimited` do not, path and header ones (`simple`) use commas.
/// Swagger 2: `collectionFormat`, `csv` by default.
pub(crate) fn separator(p: Parameter<'_>, location: In, swagger2: bool) -> Option<char> {
    if swagger2 {
        return match p.collection_format() {
            Some("multi") if location == In::Query => None,
            Some("ssv") => Some(' '),
            Some("tsv") => Some('\t'),
            Some("pipes") => Some('|'),
            _ => Some(','),
        };
    }
    if location != In::Query {
        return Some(',');
    }
    let (style, default_explode) = match p.style() {
        Some("spaceDelimited") => (' ', false),
        Some("pipeDelimited") => ('|', false),
        _ => (',', true),
    };
    if p.explode().unwrap_or(default_explode) {
        None
    } else {
        Some(style)
    }
}

/// Parameter `p` of the request: present when required, its value matching its schema.
pub(super) fn check(doc: &Value, p: &Param, request: &Request<'_>) -> Result<(), String> {
    let kind = p.location.word();
    let texts = values(p, request);
    if texts.is_empty() {
        if p.required {
            return Err(format!("required {kind} parameter `{}` is missing", p.name));
        }
        return Ok(());
    }
    let named = |why: String| format!("{kind} parameter `{}`: {why}", p.name);
    let Some(value) = parse(doc, &p.schema, p.separator, &texts).map_err(named)? else {
        return Ok(());
    };
    Checker::new(doc, true)
        .conform(&p.schema, &value, "", 0)
        .map_err(|(pointer, why)| match pointer.as_str() {
            "" => named(why),
            _ => named(format!("at `{pointer}`: {why}")),
        })
}

/// The texts sent for `p`: every query pair with its name (arrays may repeat it), else the
/// one path segment or header.
fn values(p: &Param, request: &Request<'_>) -> Vec<String> {
    let named = |pairs: &[(String, String)]| -> Vec<String> {
        pairs
            .iter()
            .filter(|(k, _)| *k == p.name)
            .map(|(_, v)| v.clone())
            .collect()
    };
    match p.location {
        In::Path => named(&request.path).into_iter().take(1).collect(),
        In::Query => named(&request.query),
        In::Header => (request.header)(&p.name).into_iter().collect(),
    }
}

/// The JSON value the texts stand for, or `None` when the schema is one this check does not
/// read from text (objects: `deepObject` and the like).
fn parse(
    doc: &Value,
    schema: &Value,
    separator: Option<char>,
    texts: &[String],
) -> Result<Option<Value>, String> {
    let schema = Schema(deref(doc, schema));
    if !schema.types().contains(&"array") {
        return scalar(doc, schema.0, &texts[0]);
    }
    let items_schema = schema.items().unwrap_or(&Value::Null);
    let parts: Vec<&str> = match separator {
        None => texts.iter().map(String::as_str).collect(),
        // An empty value is an empty array, not one empty item.
        Some(_) if texts[0].is_empty() => Vec::new(),
        Some(c) => texts[0].split(c).collect(),
    };
    let mut items = Vec::with_capacity(parts.len());
    for (i, part) in parts.into_iter().enumerate() {
        match scalar(doc, items_schema, part).map_err(|why| format!("at `/{i}`: {why}"))? {
            Some(v) => items.push(v),
            None => return Ok(None),
        }
    }
    Ok(Some(Value::Array(items)))
}

/// One text as the most specific type the schema allows that it parses as (`12` is an
/// integer before it is a string); a string when no type is declared (enums then compare by
/// text); `None` for objects and nested arrays.
fn scalar(doc: &Value, schema: &Value, text: &str) -> Result<Option<Value>, String> {
    let mut declared = allowed(doc, Schema(deref(doc, schema)), 0);
    if declared.is_empty() {
        return Ok(Some(Value::String(text.to_string())));
    }
    if declared.iter().any(|t| matches!(*t, "object" | "array")) {
        return Ok(None);
    }
    let rank = |t: &str| {
        ["null", "boolean", "integer", "number"]
            .iter()
            .position(|r| *r == t)
    };
    declared.sort_by_key(|t| rank(t).unwrap_or(usize::MAX));
    for t in &declared {
        if let Some(v) = typed(t, text) {
            return Ok(Some(v));
        }
    }
    Err(format!("expected {}", declared.join(" or ")))
}

/// The types a schema allows: its own, else those of its `allOf`/`anyOf`/`oneOf` branches
/// (documents put `oneOf: [{type: integer}, {type: string}]` on parameters).
fn allowed<'s>(doc: &'s Value, schema: Schema<'s>, depth: usize) -> Vec<&'s str> {
    let own = schema.types();
    if !own.is_empty() || depth > 8 {
        return own;
    }
    let mut out = Vec::new();
    for key in ["allOf", "anyOf", "oneOf"] {
        for branch in members(schema, key) {
            for t in allowed(doc, Schema(deref(doc, branch)), depth + 1) {
                if !out.contains(&t) {
                    out.push(t);
                }
            }
        }
    }
    out
}

/// `text` as a value of type `t`. Integers may be beyond 64 bits or written `1.0` (the
/// keyword checks decide with `format: int64`); numbers must be finite.
fn typed(t: &str, text: &str) -> Option<Value> {
    let float = || {
        text.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .and_then(Number::from_f64)
    };
    let exact = || {
        text.parse::<i64>()
            .map(Number::from)
            .or_else(|_| text.parse::<u64>().map(Number::from))
            .ok()
    };
    match t {
        "integer" => exact()
            .or_else(|| float().filter(|n| n.as_f64().is_some_and(|f| f.fract() == 0.0)))
            .map(Value::Number),
        "number" => exact().or_else(float).map(Value::Number),
        "boolean" => match text {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        "string" => Some(Value::String(text.to_string())),
        "null" => (text == "null").then_some(Value::Null),
        _ => Some(Value::String(text.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(schema: Value, text: &str) -> Result<(), String> {
        let doc = json!({});
        let p = Param {
            name: "p".into(),
            location: In::Query,
            required: true,
            schema,
            separator: Some(','),
        };
        let header = |_: &str| None;
        let request = Request {
            path: Vec::new(),
            query: vec![("p".into(), text.into())],
            header: &header,
            body: &[],
            content_type: None,
        };
        check(&doc, &p, &request)
    }

    #[test]
    fn parameters_are_typed() {
        assert!(one(json!({"type": "integer"}), "2024").is_ok());
        assert!(one(json!({"type": "integer"}), "123456789012345678901234567890").is_ok());
        assert!(one(json!({"type": "integer"}), "deux").is_err());
        assert!(one(json!({"type": "boolean"}), "oui").is_err());
        assert!(one(json!({"type": "string", "enum": ["a"]}), "b").is_err());
        assert!(one(json!({"enum": [1, 2]}), "2").is_ok());
        assert!(one(json!({"type": "string", "enum": [1, 2]}), "2").is_ok());
    }

    #[test]
    fn separated_arrays_are_checked_item_by_item() {
        let ints =
            json!({"type": "array", "items": {"type": "integer", "maximum": 9}, "maxItems": 3});
        assert!(one(ints.clone(), "1,2,3").is_ok());
        assert!(one(ints.clone(), "").is_ok());
        assert_eq!(
            one(ints.clone(), "1,x").unwrap_err(),
            "query parameter `p`: at `/1`: expected integer"
        );
        assert!(one(ints.clone(), "1,12").unwrap_err().contains("at `/1`"));
        assert!(one(ints, "1,2,3,4").unwrap_err().contains("maxItems"));
    }
}
