//! One cassette entry: a call as it may be written down (secrets and personal values
//! replaced), and the key a replayed call is matched by.

use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use percent_encoding::percent_decode_str;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::core::scrub::Scrubber;
use crate::wire::request::{Body, Request};

use super::personal::{Placeholders, Seen, hide_seen, restore};

/// Response headers kept, by lower-case name: what the runtime reads (retries, quotas, token
/// rules) and what decoding needs. Anything else (cookies, `Set-Cookie`, server details) is
/// left out whatever it is called.
const KEPT_HEADERS: &[&str] = &[
    "content-type",
    "content-disposition",
    "retry-after",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "ratelimit-policy",
    "x-rate-limit",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "www-authenticate",
];

/// What stands for the call's own correlation ID in a recorded header.
const CORRELATION_ID: &str = "<correlation-id>";

/// A body as written down.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum BodyRecord {
    /// JSON, personal values replaced.
    Json(Value),
    /// A form, decoded, personal values replaced.
    Form(Vec<(String, String)>),
    /// UTF-8 text, personal values met elsewhere replaced.
    Text(String),
    /// Bytes that are not text, kept as they are (responses only).
    Base64(String),
    /// Bytes that are not text, by their digest (requests only: they are matched, not replayed).
    Digest(String),
    /// A multipart form: matched by its presence only.
    Multipart,
}

/// The request side of an entry: what a replayed call is matched by.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct CallRecord {
    pub operation: String,
    pub method: String,
    pub path_template: Option<String>,
    /// The path below the API root, personal values replaced.
    pub path: String,
    /// The query as the operation builds it (traceability included, API keys never).
    pub query: Vec<(String, String)>,
    pub body: Option<BodyRecord>,
}

/// One line of a cassette.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub call: CallRecord,
    pub status: u16,
    /// Allow-listed headers, sorted by name.
    pub headers: Vec<(String, String)>,
    pub body: BodyRecord,
}

/// What the client knows of one call, for recording or matching.
pub(crate) struct CallView<'a> {
    pub req: &'a Request,
    /// The traceability pairs the client appends, if the call has them.
    pub traceability: Vec<(String, String)>,
    /// Every secret of the client and of this call.
    pub scrubber: &'a Scrubber,
}

impl CallRecord {
    /// The call with personal values replaced (met values in `seen`) and secrets removed.
    pub(crate) fn of(view: &CallView<'_>, rules: &Placeholders, seen: &mut Seen) -> CallRecord {
        let req = view.req;
        let path = rules.path(&req.path, req.path_template, seen);
        let mut query: Vec<(String, String)> = req.query.clone();
        query.extend(view.traceability.iter().cloned());
        rules.query(&mut query, seen);
        let mut body = match &req.body {
            Body::None => None,
            Body::Multipart(_) => Some(BodyRecord::Multipart),
            Body::Bytes {
                content_type,
                bytes,
            } => Some(request_body(content_type, bytes, rules, seen)),
        };
        // Free text may repeat a personal value found in a marked field of the same call.
        let clean = |s: &str| view.scrubber.scrub(&hide_seen(s, seen));
        let path = clean(&path);
        for (k, v) in &mut query {
            *k = clean(k);
            *v = clean(v);
        }
        if let Some(b) = &mut body {
            map_text(b, &clean);
        }
        CallRecord {
            operation: req.operation_id.to_owned(),
            method: req.method.to_string(),
            path_template: req.path_template.map(str::to_owned),
            path,
            query,
            body,
        }
    }

    /// The key calls are matched by (deterministic: fields in a fixed order).
    pub(crate) fn key(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

fn request_body(
    content_type: &str,
    bytes: &Bytes,
    rules: &Placeholders,
    seen: &mut Seen,
) -> BodyRecord {
    if let Some(json) = json_body(content_type, bytes, rules, seen) {
        return json;
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        if content_type.starts_with("application/x-www-form-urlencoded") {
            let mut pairs = parse_form(text);
            rules.form(&mut pairs, seen);
            return BodyRecord::Form(pairs);
        }
        return BodyRecord::Text(text.to_owned());
    }
    BodyRecord::Digest(rules.body_digest(bytes))
}

/// A JSON body with its personal values replaced, when the body is JSON and parses.
fn json_body(
    content_type: &str,
    bytes: &Bytes,
    rules: &Placeholders,
    seen: &mut Seen,
) -> Option<BodyRecord> {
    if !is_json(content_type) {
        return None;
    }
    let mut v = serde_json::from_slice::<Value>(bytes).ok()?;
    rules.json(&mut v, seen);
    Some(BodyRecord::Json(v))
}

fn parse_form(text: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn is_json(content_type: &str) -> bool {
    let ct = content_type.split(';').next().unwrap_or("").trim();
    ct.ends_with("/json") || ct.ends_with("+json")
}

/// Applies `f` to every text of a body (JSON strings and keys, form pairs, text).
fn map_text(body: &mut BodyRecord, f: &impl Fn(&str) -> String) {
    match body {
        BodyRecord::Json(v) => map_json(v, f),
        BodyRecord::Form(pairs) => pairs.iter_mut().for_each(|(k, v)| {
            *k = f(k);
            *v = f(v);
        }),
        BodyRecord::Text(t) => *t = f(t),
        BodyRecord::Base64(_) | BodyRecord::Digest(_) | BodyRecord::Multipart => {}
    }
}

fn map_json(value: &mut Value, f: &impl Fn(&str) -> String) {
    match value {
        Value::String(s) => *s = f(s),
        Value::Array(items) => items.iter_mut().for_each(|v| map_json(v, f)),
        Value::Object(map) => {
            let old = std::mem::take(map);
            for (k, mut v) in old {
                map_json(&mut v, f);
                map.insert(f(&k), v);
            }
        }
        _ => {}
    }
}

/// A response as recorded: allow-listed headers, personal values and secrets replaced.
pub(crate) struct ResponseView<'a> {
    pub status: u16,
    pub headers: &'a HeaderMap,
    pub body: &'a Bytes,
    pub correlation_id: &'a str,
}

impl Entry {
    /// The entry of `call` answered by `resp`; `seen` holds the call's personal values.
    pub(crate) fn of(
        call: CallRecord,
        resp: &ResponseView<'_>,
        rules: &Placeholders,
        scrubber: &Scrubber,
        mut seen: Seen,
    ) -> Entry {
        let content_type = resp
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mut body = response_body(content_type, resp.body, rules, &mut seen);
        let clean = |s: &str| scrubber.scrub(&hide_seen(s, &seen));
        map_text(&mut body, &clean);
        let mut headers: Vec<(String, String)> = Vec::new();
        for (name, value) in resp.headers {
            let name = name.as_str().to_ascii_lowercase();
            let Ok(value) = value.to_str() else { continue };
            // An ID header echoing the call's own correlation ID (a replay echoes its own).
            if value == resp.correlation_id && name.ends_with("-id") {
                headers.push((name, CORRELATION_ID.to_owned()));
            } else if KEPT_HEADERS.contains(&name.as_str()) {
                headers.push((name, clean(value)));
            }
        }
        headers.sort();
        Entry {
            call,
            status: resp.status,
            headers,
            body,
        }
    }

    /// Why the entry cannot be replayed, if it cannot (the file may have been edited).
    pub(crate) fn invalid(&self) -> Option<&'static str> {
        if !(100..=999).contains(&self.status) {
            return Some("a status outside 100..=999");
        }
        if let BodyRecord::Base64(b) = &self.body
            && base64::engine::general_purpose::STANDARD.decode(b).is_err()
        {
            return Some("a body that is not base64");
        }
        None
    }

    /// The recorded answer for a call with `correlation_id` whose own personal values are
    /// in `seen` (put back where their placeholders are).
    pub(crate) fn answer(&self, correlation_id: &str, seen: &Seen) -> (HeaderMap, Bytes) {
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let value = if value == CORRELATION_ID {
                correlation_id.to_owned()
            } else {
                restore(value, seen)
            };
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                headers.append(n, v);
            }
        }
        let body = match &self.body {
            BodyRecord::Json(v) => {
                let mut v = v.clone();
                map_json(&mut v, &|s: &str| restore(s, seen));
                Bytes::from(serde_json::to_vec(&v).unwrap_or_default())
            }
            BodyRecord::Text(t) => Bytes::from(restore(t, seen)),
            BodyRecord::Base64(b) => base64::engine::general_purpose::STANDARD
                .decode(b)
                .map(Bytes::from)
                .unwrap_or_default(),
            BodyRecord::Form(_) | BodyRecord::Digest(_) | BodyRecord::Multipart => Bytes::new(),
        };
        (headers, body)
    }
}

fn response_body(
    content_type: &str,
    bytes: &Bytes,
    rules: &Placeholders,
    seen: &mut Seen,
) -> BodyRecord {
    if let Some(json) = json_body(content_type, bytes, rules, seen) {
        return json;
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => BodyRecord::Text(text.to_owned()),
        Err(_) => BodyRecord::Base64(base64::engine::general_purpose::STANDARD.encode(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::personal::PersonalFields;
    use super::*;

    #[test]
    fn a_form_body_is_decoded_and_its_personal_fields_replaced() {
        let rules = Placeholders::new(Some(
            PersonalFields::new("0123456789abcdef-test-key").json_keys(["nom"]),
        ));
        let mut seen = Seen::default();
        let body = Bytes::from_static(b"nom=Dupont+Lef%C3%A8vre&page=2");
        let record = request_body(
            "application/x-www-form-urlencoded",
            &body,
            &rules,
            &mut seen,
        );
        let BodyRecord::Form(pairs) = record else {
            panic!("{record:?}")
        };
        assert_eq!(pairs[1], ("page".to_owned(), "2".to_owned()));
        assert!(pairs[0].1.starts_with("<nom:"), "{pairs:?}");
        assert_eq!(
            hide_seen("M. Dupont Lefèvre", &seen),
            format!("M. {}", pairs[0].1)
        );
        let binary = request_body(
            "application/pdf",
            &Bytes::from_static(&[0xff, 0xfe]),
            &rules,
            &mut seen,
        );
        assert!(
            matches!(&binary, BodyRecord::Digest(d) if d.starts_with("hmac-sha256:")),
            "{binary:?}"
        );
    }
}
