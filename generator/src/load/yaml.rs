//! YAML → JSON value, the way real API documents are written.
//!
//! Parsing uses serde_norway (libyaml), which accepts what the providers' own tooling accepts
//! (PyYAML-compatible), then we apply YAML 1.1 habits found in provider documents: integer
//! mapping keys (`200:`) become strings and merge keys (`<<: *anchor`) are applied.
//! Locating a JSON pointer's line uses yaml-rust2's event positions; JSON is YAML, so the same
//! function serves JSON files.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use serde_norway::Value as Yaml;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

pub use super::guard::WideInteger;
pub use super::yaml_error::YamlError;

/// Parses a YAML text into a JSON value.
pub fn parse(text: &str) -> Result<Value, YamlError> {
    parse_noting(text).map(|(value, _)| value)
}

/// [`parse`], also returning the integers too wide for 64 bits that were read as the nearest
/// floating-point number (`-9223372036854776000`, as some exporters print a bound).
pub fn parse_noting(text: &str) -> Result<(Value, Vec<WideInteger>), YamlError> {
    let wide = super::guard::check_yaml(text)?;
    let widened;
    let text = if wide.is_empty() {
        text
    } else {
        widened = as_decimals(text, &wide);
        &widened
    };
    let mut yaml: Yaml = serde_norway::from_str(text).map_err(|e| YamlError {
        line_col: e.location().map(|l| (l.line(), l.column())),
        message: e.to_string(),
    })?;
    yaml.apply_merge().map_err(|e| YamlError {
        line_col: None,
        message: e.to_string(),
    })?;
    Ok((to_json(yaml), wide))
}

/// The text with `.0` after each wide integer, which the YAML parser then reads as the nearest
/// floating-point number (it refuses integers beyond 64 bits). Same lines, so errors keep
/// their line numbers.
fn as_decimals(text: &str, wide: &[WideInteger]) -> String {
    let ends: Vec<usize> = wide
        .iter()
        .map(|w| w.char_index + w.text.chars().count())
        .collect();
    let mut out = String::with_capacity(text.len() + 2 * wide.len());
    for (i, c) in text.chars().enumerate() {
        if ends.contains(&i) {
            out.push_str(".0");
        }
        out.push(c);
    }
    if ends.contains(&text.chars().count()) {
        out.push_str(".0");
    }
    out
}

fn to_json(yaml: Yaml) -> Value {
    match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Number(i.into())
            } else if let Some(u) = n.as_u64() {
                Value::Number(u.into())
            } else {
                n.as_f64()
                    .and_then(Number::from_f64)
                    .map(Value::Number)
                    .unwrap_or(Value::Null)
            }
        }
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => Value::Array(items.into_iter().map(to_json).collect()),
        Yaml::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                out.insert(key_string(k), to_json(v));
            }
            Value::Object(out)
        }
        Yaml::Tagged(tagged) => to_json(tagged.value),
    }
}

/// Mapping keys are strings in JSON; YAML documents write `200:` and mean `"200"`.
fn key_string(key: Yaml) -> String {
    match key {
        Yaml::String(s) => s,
        Yaml::Null => "null".into(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Number(n) => n.to_string(),
        other => serde_json::to_string(&to_json(other)).unwrap_or_default(),
    }
}

/// Finds the 1-based line (and approximate column) where the node at `pointer` starts.
///
/// Returns `None` when the pointer does not exist or the text cannot be scanned.
pub fn locate(text: &str, pointer: &str) -> Option<(usize, usize)> {
    locate_many(text, &[pointer]).remove(pointer)
}

/// Locates several pointers in one pass over the text.
pub fn locate_many(text: &str, pointers: &[&str]) -> HashMap<String, (usize, usize)> {
    let mut targets = HashMap::new();
    let mut found = HashMap::new();
    for p in pointers {
        if p.is_empty() {
            found.insert(String::new(), (1, 1));
            continue;
        }
        let path: Vec<String> = p
            .split('/')
            .skip(1)
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect();
        targets.insert(path, p.to_string());
    }
    if targets.is_empty() {
        return found;
    }
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    if body.trim_start().starts_with(['{', '['])
        && let Some(json) = super::json_locate::locate_json(body, targets.clone())
    {
        found.extend(json);
        return found;
    }
    let mut finder = Finder {
        targets,
        path: Vec::new(),
        stack: Vec::new(),
        found,
    };
    let mut parser = Parser::new_from_str(text);
    let _ = parser.load(&mut finder, false);
    finder.found
}

/// Where the walker is inside a collection.
enum Slot {
    Seq(usize),
    Map(Option<String>),
}

/// Tracks the path of the node being read and stops at the target pointer.
struct Finder {
    targets: HashMap<Vec<String>, String>,
    path: Vec<String>,
    stack: Vec<Slot>,
    found: HashMap<String, (usize, usize)>,
}

impl Finder {
    /// The path segment a node starting now would get, or `None` when it is a mapping key.
    fn segment(&self) -> Option<Option<String>> {
        match self.stack.last() {
            None => Some(None),
            Some(Slot::Seq(i)) => Some(Some(i.to_string())),
            Some(Slot::Map(Some(k))) => Some(Some(k.clone())),
            Some(Slot::Map(None)) => None,
        }
    }

    fn node_starts(&mut self, mark: Marker) {
        if let Some(Some(seg)) = self.segment() {
            self.path.push(seg);
            if let Some(pointer) = self.targets.remove(&self.path) {
                self.found.insert(pointer, (mark.line(), mark.col() + 1));
            }
            self.path.pop();
        }
    }

    /// A node has been read completely: advance the parent slot.
    fn node_done(&mut self) {
        match self.stack.last_mut() {
            Some(Slot::Seq(i)) => *i += 1,
            Some(Slot::Map(k)) => *k = None,
            None => {}
        }
    }
}

impl MarkedEventReceiver for Finder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(text, ..) => {
                if let Some(Slot::Map(key @ None)) = self.stack.last_mut() {
                    *key = Some(text);
                } else {
                    self.node_starts(mark);
                    self.node_done();
                }
            }
            Event::Alias(_) => {
                self.node_starts(mark);
                self.node_done();
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                self.node_starts(mark);
                if let Some(Some(seg)) = self.segment() {
                    self.path.push(seg);
                }
                let slot = if matches!(ev, Event::SequenceStart(..)) {
                    Slot::Seq(0)
                } else {
                    Slot::Map(None)
                };
                self.stack.push(slot);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                self.stack.pop();
                if !self.stack.is_empty() {
                    self.path.pop();
                }
                self.node_done();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integer_keys_become_strings_and_merge_keys_apply() {
        let v = parse("base: &b\n  a: 1\n  b: two\nresponses:\n  200:\n    <<: *b\n    b: own\n")
            .unwrap();
        assert_eq!(v["responses"]["200"], json!({"b": "own", "a": 1}));
    }

    #[test]
    fn scalars_follow_the_core_schema() {
        let v = parse("a: '00015'\nb: '12'\nc: 1.5\nd: ~\ne: yes\nf: -3\n").unwrap();
        assert_eq!(
            v,
            json!({"a": "00015", "b": "12", "c": 1.5, "d": null, "e": "yes", "f": -3})
        );
    }

    #[test]
    fn locate_finds_nested_nodes() {
        let text =
            "paths:\n  /a:\n    get:\n      responses:\n        200:\n          description: ok\n";
        // Block mappings are reported where their first entry is read: the line is what counts.
        assert_eq!(
            locate(text, "/paths/~1a/get/responses/200").map(|p| p.0),
            Some(6)
        );
        assert_eq!(locate(text, "/paths/~1a/get").map(|p| p.0), Some(4));
        assert_eq!(
            locate(text, "/paths/~1a/get/responses/200/description").map(|p| p.0),
            Some(6)
        );
        assert_eq!(locate(text, "/paths/~1b"), None);
        assert_eq!(locate("{\"a\": [1, {\"b\": 2}]}", "/a/1/b"), Some((1, 17)));
        assert_eq!(
            locate("{\n\"a\": {\n  \"b\": [1,\n 2]}}", "/a/b/1").map(|p| p.0),
            Some(4)
        );
        assert_eq!(
            locate("a: [x, y]\nb:\n  - 1\n  - {c: 2}\n", "/b/1/c").map(|p| p.0),
            Some(4)
        );
    }

    #[test]
    fn syntax_errors_are_located() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.line_col.is_some() && !err.message.is_empty());
    }
}
