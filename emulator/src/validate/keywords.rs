//! A JSON value against a schema, keyword by keyword. Each failure is the JSON pointer of the
//! value that fails and why, so a client author finds the field at once.
//!
//! Documents can be recursive (a schema referring to itself, directly or through `anyOf`), so
//! the walk is bounded twice: by depth ([`MAX_DEPTH`]) and by work ([`MAX_STEPS`]); past either
//! bound the value is accepted, a test double refusing a valid request being the worse error.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::sync::{LazyLock, Mutex, PoisonError};

use gouvgen::oas::{Exclusive, Schema};
use regex::Regex;
use serde_json::{Map, Number, Value};

use super::{deref, escape, members};

/// A failure: the JSON pointer of the value, and why.
pub(super) type Failure = (String, String);

/// Nesting of schemas followed (properties, items, combinators) before accepting.
const MAX_DEPTH: usize = 64;

/// Schema/value pairs visited per check before accepting: exponential `anyOf` recursion in a
/// recursive document stops here instead of hanging the request.
const MAX_STEPS: u32 = 250_000;

/// One check of one value, with its work budget.
pub(super) struct Checker<'a> {
    doc: &'a Value,
    /// Parameter values come from text: an enum entry also matches by its text (`"1"` for
    /// `1`), since a query string cannot tell them apart.
    loose: bool,
    steps: Cell<u32>,
    /// The `allOf` being checked, by the pointer of their value: a part's
    /// `additionalProperties: false` lets through the properties its sibling parts declare.
    siblings: RefCell<Vec<(String, Vec<String>)>>,
}

impl<'a> Checker<'a> {
    pub(super) fn new(doc: &'a Value, loose: bool) -> Self {
        Checker {
            doc,
            loose,
            steps: Cell::new(0),
            siblings: RefCell::new(Vec::new()),
        }
    }

    /// `value` (at `pointer`) against `schema`; references resolved in the document.
    pub(super) fn conform(
        &self,
        schema: &Value,
        value: &Value,
        pointer: &str,
        depth: usize,
    ) -> Result<(), Failure> {
        self.steps.set(self.steps.get().saturating_add(1));
        if depth > MAX_DEPTH || self.steps.get() > MAX_STEPS {
            return Ok(());
        }
        let schema = Schema(deref(self.doc, schema));
        // Boolean schemas (3.1) and anything else that is not an object constrain nothing here.
        if !schema.0.is_object() {
            return Ok(());
        }
        if value.is_null() && schema.nullable() {
            return Ok(());
        }
        self.combinators(schema, value, pointer, depth)?;
        let here = |why: String| (pointer.to_string(), why);
        let declared = schema.types();
        if !declared.is_empty() && !declared.iter().any(|t| type_ok(t, value)) {
            return Err(here(format!("expected {}", declared.join(" or "))));
        }
        if let Some(values) = schema.enum_values()
            && !values.iter().any(|e| self.same(e, value))
        {
            return Err(here("not one of the documented values".into()));
        }
        if let Some(constant) = schema.constant()
            && !self.same(constant, value)
        {
            return Err(here(format!("expected the constant {constant}")));
        }
        match value {
            Value::String(s) => string(schema, s).map_err(here),
            Value::Number(n) => number(schema, n).map_err(here),
            Value::Array(items) => self.array(schema, items, pointer, depth),
            Value::Object(map) => self.object(schema, map, pointer, depth),
            _ => Ok(()),
        }
    }

    /// `allOf`: every branch; `anyOf` and `oneOf`: at least one (documents often give
    /// overlapping `oneOf` branches, so "exactly one" would refuse what the gateway accepts).
    fn combinators(
        &self,
        schema: Schema<'_>,
        value: &Value,
        pointer: &str,
        depth: usize,
    ) -> Result<(), Failure> {
        self.all_of(schema, value, pointer, depth)?;
        for key in ["anyOf", "oneOf"] {
            let branches = members(schema, key);
            if branches.is_empty() {
                continue;
            }
            // The failure reported is the one deepest in the value: the branch that came
            // closest (a `siren` against its pattern rather than "`nom` is missing").
            let mut closest: Option<Failure> = None;
            for branch in branches {
                match self.conform(branch, value, pointer, depth + 1) {
                    Ok(()) => {
                        closest = None;
                        break;
                    }
                    Err(e) if closest.as_ref().is_none_or(|c| e.0.len() > c.0.len()) => {
                        closest = Some(e);
                    }
                    Err(_) => {}
                }
            }
            if let Some((at, why)) = closest {
                return Err((
                    pointer.to_string(),
                    format!("matches none of the `{key}` schemas (closest: `{at}`: {why})"),
                ));
            }
        }
        Ok(())
    }

    /// Every `allOf` part, each knowing its siblings (documents compose `allOf: [{$ref:
    /// Base}, {properties: ...}]` where `Base` says `additionalProperties: false`).
    fn all_of(
        &self,
        schema: Schema<'_>,
        value: &Value,
        pointer: &str,
        depth: usize,
    ) -> Result<(), Failure> {
        let parts = schema.all_of().unwrap_or_default();
        if parts.is_empty() {
            return Ok(());
        }
        let mut names = Vec::new();
        if value.is_object() {
            self.declared(schema, &mut names, 0);
        }
        self.siblings
            .borrow_mut()
            .push((pointer.to_string(), names));
        let result = parts
            .iter()
            .try_for_each(|part| self.conform(part, value, pointer, depth + 1));
        self.siblings.borrow_mut().pop();
        result
    }

    /// JSON equality, numbers compared by value (`1` is `1.0`); with `loose`, by text too.
    fn same(&self, expected: &Value, value: &Value) -> bool {
        if equal(expected, value) {
            return true;
        }
        self.loose && text(expected) == text(value)
    }

    /// `minItems`, `maxItems`, `uniqueItems`, `items`.
    fn array(
        &self,
        schema: Schema<'_>,
        items: &[Value],
        pointer: &str,
        depth: usize,
    ) -> Result<(), Failure> {
        let here = |why: String| (pointer.to_string(), why);
        let n = items.len() as u64;
        if let Some(min) = schema.min_items()
            && n < min
        {
            return Err(here(format!("{n} items, fewer than minItems {min}")));
        }
        if let Some(max) = schema.max_items()
            && n > max
        {
            return Err(here(format!("{n} items, more than maxItems {max}")));
        }
        if schema.unique_items() {
            let mut seen = HashSet::new();
            for (i, item) in items.iter().enumerate() {
                if !seen.insert(canonical(item)) {
                    return Err((
                        format!("{pointer}/{i}"),
                        "repeats an earlier item (uniqueItems)".into(),
                    ));
                }
            }
        }
        if let Some(sub) = schema.items().filter(|s| s.is_object()) {
            for (i, v) in items.iter().enumerate() {
                self.conform(sub, v, &format!("{pointer}/{i}"), depth + 1)?;
            }
        }
        Ok(())
    }

    /// `required`, `minProperties`, `maxProperties`, `properties`, `patternProperties`,
    /// `additionalProperties`.
    fn object(
        &self,
        schema: Schema<'_>,
        map: &Map<String, Value>,
        pointer: &str,
        depth: usize,
    ) -> Result<(), Failure> {
        let at = |name: &str| format!("{pointer}/{}", escape(name));
        for name in schema.required_names() {
            if !map.contains_key(name) {
                return Err((at(name), "required property is missing".into()));
            }
        }
        let n = map.len() as u64;
        if let Some(min) = schema.min_properties()
            && n < min
        {
            let why = format!("{n} properties, fewer than minProperties {min}");
            return Err((pointer.to_string(), why));
        }
        if let Some(max) = schema.max_properties()
            && n > max
        {
            let why = format!("{n} properties, more than maxProperties {max}");
            return Err((pointer.to_string(), why));
        }
        let properties = schema.properties();
        let patterns = pattern_properties(schema);
        for (name, v) in map {
            let mut known = false;
            if let Some(sub) = properties.and_then(|p| p.get(name)) {
                known = true;
                self.conform(sub, v, &at(name), depth + 1)?;
            }
            for (_, sub) in patterns.iter().filter(|(re, _)| re.is_match(name)) {
                known = true;
                self.conform(sub, v, &at(name), depth + 1)?;
            }
            if !known {
                self.additional(schema, name, v, &at(name), depth)?;
            }
        }
        Ok(())
    }

    /// A property the schema does not name: refused under `additionalProperties: false`
    /// unless a combinator branch names it (documents put `false` next to an `allOf` whose
    /// parts hold the properties), checked against `additionalProperties` when a schema.
    fn additional(
        &self,
        schema: Schema<'_>,
        name: &str,
        value: &Value,
        pointer: &str,
        depth: usize,
    ) -> Result<(), Failure> {
        match schema.additional_properties() {
            Some(Value::Bool(false)) if !self.known(schema, name, pointer) => Err((
                pointer.to_string(),
                "property not in the schema (additionalProperties: false)".into(),
            )),
            Some(sub @ Value::Object(_)) => self.conform(sub, value, pointer, depth + 1),
            _ => Ok(()),
        }
    }

    /// Whether a branch of `schema`, or a sibling `allOf` part of the object at the parent of
    /// `pointer` (the property's own pointer), declares property `name`.
    fn known(&self, schema: Schema<'_>, name: &str, pointer: &str) -> bool {
        let object = pointer.rsplit_once('/').map_or("", |(parent, _)| parent);
        let mut own = Vec::new();
        self.declared(schema, &mut own, 0);
        own.iter().any(|n| n == name)
            || self
                .siblings
                .borrow()
                .iter()
                .any(|(at, names)| at == object && names.iter().any(|n| n == name))
    }

    /// The property names the branches of `schema` declare (nested, bounded).
    fn declared(&self, schema: Schema<'_>, names: &mut Vec<String>, depth: usize) {
        if depth > 8 {
            return;
        }
        for part in ["allOf", "anyOf", "oneOf"]
            .iter()
            .flat_map(|key| members(schema, key))
        {
            let part = Schema(deref(self.doc, part));
            if let Some(properties) = part.properties() {
                names.extend(properties.keys().cloned());
            }
            self.declared(part, names, depth + 1);
        }
    }
}

/// The `patternProperties` whose pattern compiles, with their schemas.
fn pattern_properties<'s>(schema: Schema<'s>) -> Vec<(Regex, &'s Value)> {
    schema
        .pattern_properties()
        .into_iter()
        .flatten()
        .filter_map(|(p, sub)| Some((regex(p)?, sub)))
        .collect()
}

/// Whether `value` is of JSON Schema type `t`. An integer is any number without a fractional
/// part: `1.0`, and integers beyond 64 bits (which `serde_json` reads as floats), count.
fn type_ok(t: &str, value: &Value) -> bool {
    match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.as_number().is_some_and(is_integer),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => true,
    }
}

fn is_integer(n: &Number) -> bool {
    n.is_i64()
        || n.is_u64()
        || n.as_f64()
            .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
}

/// JSON equality with numbers compared by value.
fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i == j,
            _ => x == y || x.as_f64() == y.as_f64(),
        },
        _ => a == b,
    }
}

/// A value's text: a string as it is, anything else as JSON.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A value written so that equal values (keys in any order, `1` and `1.0`) are equal strings.
fn canonical(v: &Value) -> String {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(&String, String)> =
                map.iter().map(|(k, v)| (k, canonical(v))).collect();
            entries.sort();
            let inner: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{v}", Value::String(k.clone())))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", inner.join(","))
        }
        Value::Number(n) => match n.as_f64() {
            Some(f) if !n.is_i64() && !n.is_u64() && f.fract() == 0.0 && f.abs() < 9.0e15 => {
                (f as i64).to_string()
            }
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// The compiled pattern, compiled once per pattern text for the whole process; `None` for a
/// pattern the `regex` crate cannot compile (look-arounds, back-references): it is skipped.
fn regex(pattern: &str) -> Option<Regex> {
    static CACHE: LazyLock<Mutex<HashMap<String, Option<Regex>>>> = LazyLock::new(Default::default);
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(compiled) = cache.get(pattern) {
        return compiled.clone();
    }
    let compiled = Regex::new(pattern).ok();
    cache.insert(pattern.to_string(), compiled.clone());
    compiled
}

/// `minLength`, `maxLength` (in characters, not bytes), `pattern`, `format`.
fn string(schema: Schema<'_>, s: &str) -> Result<(), String> {
    let n = s.chars().count() as u64;
    if let Some(min) = schema.min_length()
        && n < min
    {
        return Err(format!("{n} characters, fewer than minLength {min}"));
    }
    if let Some(max) = schema.max_length()
        && n > max
    {
        return Err(format!("{n} characters, more than maxLength {max}"));
    }
    if let Some(pattern) = schema.pattern()
        && let Some(re) = regex(pattern)
        && !re.is_match(s)
    {
        return Err(format!("does not match the pattern `{pattern}`"));
    }
    let format = schema.format().unwrap_or("");
    let ok = match format {
        "date" => is_date(s),
        "date-time" => is_date_time(s),
        "uuid" => is_uuid(s),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("not a valid `{format}`"))
    }
}

/// Bounds (both forms of the exclusive ones), `multipleOf`, the `int32`/`int64` formats.
fn number(schema: Schema<'_>, n: &Number) -> Result<(), String> {
    let Some(v) = n.as_f64() else {
        return Ok(());
    };
    let (low, high) = (schema.exclusive_minimum(), schema.exclusive_maximum());
    if let Some(min) = schema.minimum() {
        if low == Exclusive::Flag && v <= min {
            return Err(format!("{n} is not above the exclusive minimum {min}"));
        }
        if v < min {
            return Err(format!("{n} is below the minimum {min}"));
        }
    }
    if let Some(max) = schema.maximum() {
        if high == Exclusive::Flag && v >= max {
            return Err(format!("{n} is not below the exclusive maximum {max}"));
        }
        if v > max {
            return Err(format!("{n} is above the maximum {max}"));
        }
    }
    // OpenAPI 3.1 (JSON Schema 2020-12): the exclusive bounds are numbers of their own.
    if let Exclusive::Bound(min) = low
        && v <= min
    {
        return Err(format!("{n} is not above the exclusive minimum {min}"));
    }
    if let Exclusive::Bound(max) = high
        && v >= max
    {
        return Err(format!("{n} is not below the exclusive maximum {max}"));
    }
    if let Some(m) = schema.multiple_of()
        && !multiple_of(n, m)
    {
        return Err(format!("{n} is not a multiple of {m}"));
    }
    match schema.format() {
        Some(format @ ("int32" | "int64")) if !fits(format, n, v) => {
            Err(format!("{n} is out of the range of its format"))
        }
        _ => Ok(()),
    }
}

/// An integer within the range of `int32` or `int64` (non-integers are the type's business).
fn fits(format: &str, n: &Number, v: f64) -> bool {
    // -2^63, exactly representable; 2^63 is its opposite.
    let min64 = i64::MIN as f64;
    match format {
        _ if !is_integer(n) => true,
        "int32" => (f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&v),
        _ => n.is_i64() || (!n.is_u64() && (min64..-min64).contains(&v)),
    }
}

/// `n` a multiple of `m`: exactly for integers, within a few ulps for floats (`0.3` is a
/// multiple of `0.1` although `0.3 / 0.1` is `2.9999999999999996`).
fn multiple_of(n: &Number, m: &Number) -> bool {
    if let (Some(a), Some(b)) = (n.as_i64(), m.as_i64()) {
        return b <= 0 || a % b == 0;
    }
    let (Some(a), Some(b)) = (n.as_f64(), m.as_f64()) else {
        return true;
    };
    if b <= 0.0 || !b.is_finite() {
        return true;
    }
    let q = a / b;
    if !q.is_finite() {
        return true;
    }
    (q - q.round()).abs() <= (q.abs() * 8.0 * f64::EPSILON).max(1e-9)
}

/// `digits` as a number, if they are all ASCII digits.
fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0')))
}

/// RFC 3339 `full-date`: `YYYY-MM-DD`, a day that exists in that month of that year.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let (Some(y), Some(m), Some(d)) = (digits(&b[..4]), digits(&b[5..7]), digits(&b[8..])) else {
        return false;
    };
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&d)
}

/// RFC 3339 `date-time`: a date, `T` (either case), `HH:MM:SS[.frac]` and `Z` or `±HH:MM`.
fn is_date_time(s: &str) -> bool {
    let (Some(date), Some(rest)) = (s.get(..10), s.get(10..)) else {
        return false;
    };
    let Some(time) = rest.strip_prefix(['T', 't']) else {
        return false;
    };
    is_date(date) && is_time(time.as_bytes())
}

/// RFC 3339 `full-time` (a leap second `60` allowed).
fn is_time(b: &[u8]) -> bool {
    if b.len() < 9 || b[2] != b':' || b[5] != b':' {
        return false;
    }
    let (Some(h), Some(m), Some(s)) = (digits(&b[..2]), digits(&b[3..5]), digits(&b[6..8])) else {
        return false;
    };
    if h > 23 || m > 59 || s > 60 {
        return false;
    }
    let mut rest = &b[8..];
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    match rest {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            digits(&[*h1, *h2]).is_some_and(|h| h <= 23)
                && digits(&[*m1, *m2]).is_some_and(|m| m <= 59)
        }
        _ => false,
    }
}

/// `8-4-4-4-12` hexadecimal digits, either case.
fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn formats() {
        assert!(is_date("2024-02-29") && !is_date("2023-02-29") && !is_date("2024-13-01"));
        assert!(!is_date("2024-1-01") && !is_date("hier"));
        assert!(
            is_date_time("2024-02-29T23:59:60.123+01:00") && is_date_time("2024-01-01t00:00:00z")
        );
        assert!(!is_date_time("2024-01-01T00:00:00") && !is_date_time("2024-01-01 00:00:00Z"));
        assert!(is_uuid("6F1C2D3E-4b5a-4c6d-8e7f-000000000001") && !is_uuid("abc"));
    }

    #[test]
    fn multiples_of_floats_have_a_tolerance() {
        let n = |v: Value| v.as_number().unwrap().clone();
        assert!(multiple_of(&n(json!(0.3)), &n(json!(0.1))));
        assert!(multiple_of(&n(json!(12.5)), &n(json!(0.01))));
        assert!(!multiple_of(&n(json!(0.35)), &n(json!(0.1))));
        assert!(multiple_of(&n(json!(10)), &n(json!(5))));
        assert!(!multiple_of(&n(json!(11)), &n(json!(5))));
    }

    #[test]
    fn unique_items_compare_values() {
        assert_eq!(
            canonical(&json!({"a": 1, "b": [1.0]})),
            canonical(&json!({"b": [1], "a": 1.0}))
        );
        assert_ne!(canonical(&json!("1")), canonical(&json!(1)));
    }
}
