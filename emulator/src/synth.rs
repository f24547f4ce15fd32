//! A deterministic value that satisfies a schema, for responses the document gives no example
//! for: the schema's own example or first enum value where there is one, otherwise the
//! simplest value of the declared type within its bounds (every property of an object, one
//! item per array, formats honoured for dates, date-times, UUIDs, e-mails and URIs, and a
//! `pattern` honoured by the shortest string its regular expression matches).

use gouvgen::oas::Schema;
use serde_json::{Map, Value, json};

use crate::document::deref;

/// How deep nested schemas are followed; deeper, the smallest value of the type.
const MAX_DEPTH: usize = 8;

/// The value for `schema` (references into `doc` followed).
pub(crate) fn value(doc: &Value, schema: &Value) -> Value {
    build(doc, schema, 0)
}

/// The type to build: `type`, or the first of a 3.1 `type` array that is not `null`.
fn first_type<'a>(schema: Schema<'a>) -> Option<&'a str> {
    match schema.type_keyword() {
        Some(Value::String(t)) => Some(t.as_str()),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    }
}

/// What the schema gives outright: its example, first 3.1 example, first enum value or
/// constant.
fn given(schema: Schema<'_>) -> Option<Value> {
    schema
        .example()
        .or_else(|| schema.examples().and_then(<[Value]>::first))
        .or_else(|| schema.enum_values().and_then(<[Value]>::first))
        .or_else(|| schema.constant())
        .cloned()
}

fn build(doc: &Value, schema: &Value, depth: usize) -> Value {
    let schema = Schema(deref(doc, schema));
    if let Some(value) = given(schema) {
        return value;
    }
    if let Some(parts) = schema.all_of() {
        let mut merged = Map::new();
        for part in parts {
            match build(doc, part, depth + 1) {
                Value::Object(o) => merged.extend(o),
                other if parts.len() == 1 => return other,
                _ => {}
            }
        }
        return Value::Object(merged);
    }
    for (_, branches) in schema.alternatives() {
        if let Some(first) = branches.and_then(<[Value]>::first) {
            return build(doc, first, depth + 1);
        }
    }
    let kind = first_type(schema).or_else(|| {
        if schema.has_properties() {
            Some("object")
        } else if schema.has_items() {
            Some("array")
        } else {
            None
        }
    });
    match kind {
        Some("object") => {
            let mut out = Map::new();
            if depth < MAX_DEPTH {
                for (name, sub) in schema.properties().into_iter().flatten() {
                    out.insert(name.clone(), build(doc, sub, depth + 1));
                }
            }
            Value::Object(out)
        }
        Some("array") => {
            let min = schema.min_items().unwrap_or(0);
            match schema.items() {
                Some(items) if depth < MAX_DEPTH => {
                    let item = build(doc, items, depth + 1);
                    Value::Array(vec![item; min.clamp(1, 16) as usize])
                }
                _ => json!([]),
            }
        }
        Some("integer") => {
            let v = match (schema.minimum(), schema.maximum()) {
                (Some(lo), _) => lo.ceil(),
                (None, Some(hi)) if hi < 0.0 => hi.floor(),
                _ => 0.0,
            };
            json!(v as i64)
        }
        Some("number") => match (schema.minimum(), schema.maximum()) {
            (Some(lo), _) => json!(lo),
            (None, Some(hi)) if hi < 0.0 => json!(hi),
            _ => json!(0),
        },
        Some("boolean") => json!(true),
        Some("string") => json!(string(schema)),
        Some("null") => Value::Null,
        _ => Value::Null,
    }
}

fn string(schema: Schema<'_>) -> String {
    let min = schema.min_length().unwrap_or(0) as usize;
    let max = schema.max_length().map(|m| m as usize);
    if let Some(text) = schema.pattern().and_then(matching)
        && text.chars().count() >= min
        && max.is_none_or(|max| text.chars().count() <= max)
    {
        return text;
    }
    let text = match schema.format() {
        Some("date") => "2024-01-01".to_string(),
        Some("date-time") => "2024-01-01T00:00:00Z".to_string(),
        Some("time") => "00:00:00Z".to_string(),
        Some("uuid") => "00000000-0000-4000-8000-000000000000".to_string(),
        Some("email") => "usager@example.invalid".to_string(),
        Some("uri") | Some("url") => "https://example.invalid/".to_string(),
        Some("ipv4") => "192.0.2.1".to_string(),
        Some("byte") => "AA==".to_string(),
        _ => "texte".to_string(),
    };
    let mut text = text;
    while text.chars().count() < min.min(4096) {
        text.push('x');
    }
    if let Some(max) = max
        && text.chars().count() > max
    {
        text = text.chars().take(max.max(min)).collect();
    }
    text
}

/// The string a `pattern` (ECMA-ish, searched anywhere) matches with the fewest repetitions,
/// first alternatives and the first letter or digit of each class; `None` when the pattern
/// does not parse or what comes out does not match (look-arounds, back-references).
fn matching(pattern: &str) -> Option<String> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let mut out = String::new();
    shortest(&hir, &mut out, 0)?;
    let re = regex::Regex::new(pattern).ok()?;
    re.is_match(&out).then_some(out)
}

fn shortest(hir: &regex_syntax::hir::Hir, out: &mut String, depth: usize) -> Option<()> {
    use regex_syntax::hir::{Class, HirKind};
    if depth > 64 || out.len() > 4096 {
        return None;
    }
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(literal) => out.push_str(std::str::from_utf8(&literal.0).ok()?),
        HirKind::Class(Class::Unicode(class)) => {
            let chars = class.ranges().iter().flat_map(|r| r.start()..=r.end());
            let mut chars = chars.take(512);
            let first = class.ranges().first()?.start();
            out.push(chars.find(char::is_ascii_alphanumeric).unwrap_or(first));
        }
        HirKind::Class(Class::Bytes(class)) => {
            let bytes = class.ranges().iter().flat_map(|r| r.start()..=r.end());
            let byte = bytes
                .take(256)
                .find(u8::is_ascii_alphanumeric)
                .or_else(|| class.ranges().first().map(|r| r.start()))?;
            out.push(char::from(byte));
        }
        HirKind::Repetition(rep) => {
            for _ in 0..rep.min.min(256) {
                shortest(&rep.sub, out, depth + 1)?;
            }
        }
        HirKind::Capture(capture) => shortest(&capture.sub, out, depth + 1)?,
        HirKind::Concat(parts) => {
            for part in parts {
                shortest(part, out, depth + 1)?;
            }
        }
        HirKind::Alternation(branches) => shortest(branches.first()?, out, depth + 1)?,
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_follow_the_schema_deterministically() {
        let doc = json!({"components": {"schemas": {"S": {
            "type": "object",
            "properties": {
                "n": {"type": "integer", "minimum": 3},
                "d": {"type": "string", "format": "date"},
                "e": {"type": "string", "enum": ["B", "A"]},
                "l": {"type": "array", "items": {"type": "number"}},
                "x": {"type": "string", "example": "ex"},
                "s": {"type": "string", "minLength": 8, "maxLength": 8}
            }
        }}}});
        let v = value(&doc, &json!({"$ref": "#/components/schemas/S"}));
        assert_eq!(
            v,
            json!({"n": 3, "d": "2024-01-01", "e": "B", "l": [0], "x": "ex", "s": "textexxx"})
        );
        assert_eq!(v, value(&doc, &json!({"$ref": "#/components/schemas/S"})));
    }

    #[test]
    fn patterns_are_matched() {
        let pattern = "^B([0-9]{4})(0[1-9]|1[0-2])(0[1-9]|[1-2][0-9]|3[0-1])(2[0-3]|[01][0-9])([0-5][0-9])([0-5][0-9])([0-9]{4})[A-Z0-9]$";
        let text_of = |schema: Value| string(Schema(&schema));
        let text = text_of(json!({"type": "string", "pattern": pattern}));
        assert_eq!(text, "B0000010120000000000");
        assert_eq!(
            text_of(json!({"type": "string", "pattern": "^[A-Z]{2}\\d+$"})),
            "AA0"
        );
        // Look-arounds are not supported: the plain text stands in.
        assert_eq!(
            text_of(json!({"type": "string", "pattern": "^(?=a)a$"})),
            "texte"
        );
    }

    #[test]
    fn recursive_schemas_stop() {
        let doc = json!({"components": {"schemas": {"T": {
            "type": "object", "properties": {"child": {"$ref": "#/components/schemas/T"}}
        }}}});
        let v = value(&doc, &json!({"$ref": "#/components/schemas/T"}));
        assert!(v.to_string().len() < 200, "{v}");
    }
}
