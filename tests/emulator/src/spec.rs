//! The API side of the emulator: every operation of a document, answered with its examples.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

/// One documented response.
#[derive(Debug, Clone)]
pub struct Canned {
    /// Media type of the body, if any.
    pub media_type: Option<String>,
    /// Examples by name (`""` for the single `example`).
    pub examples: Vec<(String, Value)>,
}

/// One operation of a mounted document.
#[derive(Debug, Clone)]
pub struct Route {
    /// Upper-case HTTP method.
    pub method: String,
    /// Path segments, `None` for a `{placeholder}`.
    pub segments: Vec<Option<String>>,
    /// Responses by status (`default` is skipped).
    pub responses: BTreeMap<u16, Canned>,
    /// `security: []`.
    pub public: bool,
}

impl Route {
    /// Whether this route serves `method path`.
    pub fn matches(&self, method: &str, path: &[&str]) -> bool {
        self.method == method
            && self.segments.len() == path.len()
            && self
                .segments
                .iter()
                .zip(path)
                .all(|(s, p)| s.as_deref().is_none_or(|s| s == *p))
    }

    /// The first 2xx status.
    pub fn success(&self) -> Option<u16> {
        self.responses
            .keys()
            .copied()
            .find(|s| (200..300).contains(s))
    }
}

/// Reads a document (any version gouvgen reads) into routes under its base path.
pub fn routes(path: &Path) -> Vec<Route> {
    let doc = gouvgen::load::load_document(path)
        .unwrap_or_else(|e| panic!("emulator cannot load {}: {e}", path.display()));
    let dialect = gouvgen::normalise::detect(&doc).expect("known version");
    let root = gouvgen::normalise::normalise(&doc, dialect);
    let base = root
        .pointer("/servers/0/url")
        .and_then(Value::as_str)
        .map(gouvgen::model::base_path)
        .unwrap_or_default();
    let deref = |v: &Value| -> Value {
        let mut cur = v.clone();
        for _ in 0..16 {
            match cur
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix('#'))
                .and_then(|p| root.pointer(p))
            {
                Some(next) => cur = next.clone(),
                None => break,
            }
        }
        cur
    };
    let mut out = Vec::new();
    for (template, item) in root
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for (method, op) in item.as_object().into_iter().flatten() {
            if !["get", "put", "post", "delete", "patch", "head", "options"]
                .contains(&method.as_str())
            {
                continue;
            }
            let mut responses = BTreeMap::new();
            for (status, response) in op
                .get("responses")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let Ok(status) = status.parse::<u16>() else {
                    continue;
                };
                let response = deref(response);
                let canned = match response
                    .get("content")
                    .and_then(Value::as_object)
                    .and_then(|c| c.iter().next())
                {
                    Some((media_type, media)) => {
                        let mut examples = Vec::new();
                        if let Some(e) = media.get("example") {
                            examples.push((String::new(), e.clone()));
                        }
                        for (name, e) in media
                            .get("examples")
                            .and_then(Value::as_object)
                            .into_iter()
                            .flatten()
                        {
                            if let Some(v) = deref(e).get("value") {
                                examples.push((name.clone(), v.clone()));
                            }
                        }
                        if examples.is_empty()
                            && let Some(e) = media
                                .get("schema")
                                .map(&deref)
                                .and_then(|s| s.get("example").cloned())
                        {
                            examples.push((String::new(), e));
                        }
                        Canned {
                            media_type: Some(media_type.clone()),
                            examples,
                        }
                    }
                    None => Canned {
                        media_type: None,
                        examples: Vec::new(),
                    },
                };
                responses.insert(status, canned);
            }
            let full = format!("{base}{template}");
            let segments = full
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| {
                    if s.starts_with('{') && s.ends_with('}') {
                        None
                    } else {
                        Some(s.to_string())
                    }
                })
                .collect();
            let public = matches!(op.get("security"), Some(Value::Array(a)) if a.is_empty());
            out.push(Route {
                method: method.to_ascii_uppercase(),
                segments,
                responses,
                public,
            });
        }
    }
    out
}
