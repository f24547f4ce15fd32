//! The request description that generated code builds.
//!
//! A [`Request`] is plain data (method, operation id, path, parameters, body) so that the client
//! can rebuild the HTTP request for every attempt (retries, 401 refresh) without cloning streams.

use std::fmt;

use bytes::Bytes;
use http::Method;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;

/// Characters left as-is in a path segment (RFC 3986 unreserved).
pub(crate) const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A value that can appear in a path, query, header or cookie position.
pub trait ParamValue {
    /// The textual form sent on the wire (before percent-encoding).
    fn to_param(&self) -> String;
}

impl ParamValue for str {
    fn to_param(&self) -> String {
        self.to_owned()
    }
}

impl ParamValue for String {
    fn to_param(&self) -> String {
        self.clone()
    }
}

impl<T: ParamValue + ?Sized> ParamValue for &T {
    fn to_param(&self) -> String {
        (**self).to_param()
    }
}

impl<T: ParamValue + ?Sized> ParamValue for Box<T> {
    fn to_param(&self) -> String {
        (**self).to_param()
    }
}

macro_rules! display_param {
    ($($t:ty),*) => {$(
        impl ParamValue for $t {
            fn to_param(&self) -> String {
                self.to_string()
            }
        }
    )*};
}
display_param!(
    bool,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    f32,
    f64,
    uuid::Uuid
);

impl ParamValue for chrono::NaiveDate {
    fn to_param(&self) -> String {
        self.format("%Y-%m-%d").to_string()
    }
}

impl ParamValue for chrono::DateTime<chrono::FixedOffset> {
    fn to_param(&self) -> String {
        self.to_rfc3339()
    }
}

impl ParamValue for chrono::DateTime<chrono::Utc> {
    fn to_param(&self) -> String {
        self.to_rfc3339()
    }
}

impl ParamValue for serde_json::Value {
    fn to_param(&self) -> String {
        match self {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

/// Percent-encodes one path segment (everything but RFC 3986 unreserved characters).
pub fn encode_path(value: &dyn ParamValue) -> String {
    utf8_percent_encode(&value.to_param(), PATH_SEGMENT).to_string()
}

/// A file in a multipart body.
#[derive(Clone)]
pub struct FilePart {
    /// File name sent in `Content-Disposition`.
    pub file_name: Option<String>,
    /// Media type of the part.
    pub content_type: Option<String>,
    /// Content.
    pub bytes: Bytes,
}

impl fmt::Debug for FilePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FilePart")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

#[derive(Clone, Debug)]
enum Part {
    Text(String, String),
    File(String, FilePart),
}

/// A `multipart/form-data` body, kept as data so it can be rebuilt for each attempt.
#[derive(Clone, Debug, Default)]
pub struct Multipart {
    parts: Vec<Part>,
}

impl Multipart {
    /// An empty form.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a text field.
    pub fn text(mut self, name: &str, value: &impl ParamValue) -> Self {
        self.parts
            .push(Part::Text(name.to_owned(), value.to_param()));
        self
    }

    /// Adds a file field.
    pub fn file(mut self, name: &str, file: FilePart) -> Self {
        self.parts.push(Part::File(name.to_owned(), file));
        self
    }

    pub(crate) fn to_form(&self) -> Result<reqwest::multipart::Form, String> {
        let mut form = reqwest::multipart::Form::new();
        for part in &self.parts {
            match part {
                Part::Text(n, v) => form = form.text(n.clone(), v.clone()),
                Part::File(n, f) => {
                    let mut p = reqwest::multipart::Part::bytes(f.bytes.to_vec());
                    if let Some(name) = &f.file_name {
                        p = p.file_name(name.clone());
                    }
                    if let Some(ct) = &f.content_type {
                        p = p
                            .mime_str(ct)
                            .map_err(|e| format!("multipart part {n}: {e}"))?;
                    }
                    form = form.part(n.clone(), p);
                }
            }
        }
        Ok(form)
    }
}

/// The body of a request.
#[derive(Clone, Debug)]
pub(crate) enum Body {
    None,
    Bytes { content_type: String, bytes: Bytes },
    Multipart(Multipart),
}

/// One API call as described by generated code (see the generated-code contract).
///
/// All builder methods consume and return `Self`. Errors found while building (a body that does
/// not serialize) are kept and reported by [`ApiClient::execute`](crate::ApiClient::execute) as
/// [`Error::InvalidRequest`](crate::Error::InvalidRequest).
#[derive(Clone)]
pub struct Request {
    pub(crate) method: Method,
    pub(crate) operation_id: &'static str,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) cookies: Vec<(String, String)>,
    pub(crate) accept: Option<&'static str>,
    pub(crate) body: Body,
    pub(crate) no_auth: bool,
    pub(crate) traceability: bool,
    pub(crate) path_template: Option<&'static str>,
    pub(crate) build_error: Option<String>,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Parameter values (path included: it holds identifiers such as the SPI) may carry
        // personal data: show the operation and parameter names only.
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("operation_id", &self.operation_id)
            .field(
                "query",
                &self
                    .query
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>(),
            )
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            )
            .field("no_auth", &self.no_auth)
            .field("traceability", &self.traceability)
            .finish_non_exhaustive()
    }
}

impl Request {
    /// Whether the answer is a document (PDF, ZIP…: the call accepts no JSON), for the
    /// gateways that give document calls their own quota and timeout.
    pub(crate) fn is_document(&self) -> bool {
        self.accept.is_some_and(|a| !a.contains("json"))
    }

    /// A request for `operation_id`; `path` is the base path plus the operation path, already
    /// encoded (see [`encode_path`]); it is appended to the client's API root.
    pub fn new(method: Method, operation_id: &'static str, path: String) -> Self {
        Request {
            method,
            operation_id,
            path,
            query: Vec::new(),
            headers: Vec::new(),
            cookies: Vec::new(),
            accept: None,
            body: Body::None,
            no_auth: false,
            traceability: false,
            path_template: None,
            build_error: None,
        }
    }

    /// The operation's path template (`/unites_legales/{siren}`): what the audit trail records
    /// instead of the path, which may carry personal data.
    pub fn path_template(mut self, template: &'static str) -> Self {
        self.path_template = Some(template);
        self
    }

    /// The HTTP method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The operation id.
    pub fn operation_id(&self) -> &'static str {
        self.operation_id
    }

    /// The path (relative to the API root).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Adds a query parameter.
    pub fn query(mut self, name: &str, value: &impl ParamValue) -> Self {
        self.query.push((name.to_owned(), value.to_param()));
        self
    }

    /// Adds a query parameter if present; `None` sends nothing.
    pub fn query_opt(self, name: &str, value: Option<&impl ParamValue>) -> Self {
        match value {
            Some(v) => self.query(name, v),
            None => self,
        }
    }

    /// Adds an array query parameter: `explode` gives `a=1&a=2`, otherwise `a=1,2`.
    pub fn query_array(mut self, name: &str, values: &[impl ParamValue], explode: bool) -> Self {
        if explode {
            for v in values {
                self.query.push((name.to_owned(), v.to_param()));
            }
        } else if !values.is_empty() {
            let joined = values
                .iter()
                .map(ParamValue::to_param)
                .collect::<Vec<_>>()
                .join(",");
            self.query.push((name.to_owned(), joined));
        }
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: &'static str, value: &impl ParamValue) -> Self {
        self.headers.push((name, value.to_param()));
        self
    }

    /// Adds a header if present.
    pub fn header_opt(self, name: &'static str, value: Option<&impl ParamValue>) -> Self {
        match value {
            Some(v) => self.header(name, v),
            None => self,
        }
    }

    /// Adds a cookie.
    pub fn cookie(mut self, name: &str, value: &impl ParamValue) -> Self {
        self.cookies.push((name.to_owned(), value.to_param()));
        self
    }

    /// Sets the `Accept` header.
    pub fn accept(mut self, media_type: &'static str) -> Self {
        self.accept = Some(media_type);
        self
    }

    /// Sets a JSON body with the given content type (`application/json` or a vendor `+json`).
    pub fn json(mut self, content_type: &'static str, body: &impl Serialize) -> Self {
        match serde_json::to_vec(body) {
            Ok(bytes) => {
                self.body = Body::Bytes {
                    content_type: content_type.to_owned(),
                    bytes: bytes.into(),
                }
            }
            Err(e) => self.build_error = Some(format!("JSON body does not serialize: {e}")),
        }
        self
    }

    /// Sets an `application/x-www-form-urlencoded` body.
    pub fn form(mut self, body: &impl Serialize) -> Self {
        match serde_urlencoded_like(body) {
            Ok(s) => {
                self.body = Body::Bytes {
                    content_type: "application/x-www-form-urlencoded".to_owned(),
                    bytes: s.into(),
                }
            }
            Err(e) => self.build_error = Some(format!("form body does not serialize: {e}")),
        }
        self
    }

    /// Sets a `multipart/form-data` body.
    pub fn multipart(mut self, form: Multipart) -> Self {
        self.body = Body::Multipart(form);
        self
    }

    /// Sets a raw body.
    pub fn bytes(mut self, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        self.body = Body::Bytes {
            content_type: content_type.to_owned(),
            bytes: body.into(),
        };
        self
    }

    /// Sets a text body.
    pub fn text(mut self, content_type: &'static str, body: String) -> Self {
        self.body = Body::Bytes {
            content_type: content_type.to_owned(),
            bytes: body.into(),
        };
        self
    }

    /// The operation declares `security: []`: send no credentials.
    pub fn no_auth(mut self) -> Self {
        self.no_auth = true;
        self
    }

    /// The operation takes API Entreprise / API Particulier traceability parameters: the client
    /// appends the `context`, `recipient` and `object` configured on it.
    pub fn traceability(mut self) -> Self {
        self.traceability = true;
        self
    }
}

/// Serializes a struct or map into `application/x-www-form-urlencoded` through `serde_json`
/// (flat objects only; arrays repeat the key; nulls are skipped).
fn serde_urlencoded_like(body: &impl Serialize) -> Result<String, String> {
    let value = serde_json::to_value(body).map_err(|e| e.to_string())?;
    let serde_json::Value::Object(map) = value else {
        return Err("a form body must be an object".into());
    };
    let mut ser: Vec<(String, String)> = Vec::new();
    for (k, v) in map {
        match v {
            serde_json::Value::Null => {}
            serde_json::Value::Array(items) => {
                for item in items {
                    ser.push((k.clone(), item.to_param()));
                }
            }
            other => ser.push((k, other.to_param())),
        }
    }
    Ok(encode_form(&ser))
}

/// Characters left as-is in `application/x-www-form-urlencoded` (WHATWG).
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_');

/// Encodes pairs as `application/x-www-form-urlencoded`.
pub(crate) fn encode_form<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&form_component(k.as_ref()));
        out.push('=');
        out.push_str(&form_component(v.as_ref()));
    }
    out
}

fn form_component(s: &str) -> String {
    utf8_percent_encode(s, FORM).to_string().replace("%20", "+")
}

/// Characters left as-is in a query component: unreserved plus `,` (the delimiter of
/// non-exploded arrays, which servers read literally).
const QUERY: &AsciiSet = &PATH_SEGMENT.remove(b',');

/// Encodes a query string component (spaces as `%20`).
pub(crate) fn query_component(s: &str) -> String {
    utf8_percent_encode(s, QUERY).to_string()
}
