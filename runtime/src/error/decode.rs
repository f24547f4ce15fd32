//! Decoders for the error bodies of each gateway dialect.
//!
//! Every error response goes through [`decode`]: it recognises the DGFiP `erreur` object,
//! OAuth 2.0 `{"error","error_description"}`, RFC 6750 `WWW-Authenticate`, API Entreprise /
//! Particulier `errors[]` and PISTE `messages[]`; anything else keeps its raw text.

use http::HeaderMap;
use serde_json::Value;

use super::catalogue;

/// Maximum raw body kept in errors.
pub const RAW_BODY_LIMIT: usize = 2048;

/// What could be extracted from an error response.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Decoded {
    pub code: Option<String>,
    pub message: Option<String>,
    pub timestamp: Option<String>,
    pub advice: Option<String>,
    pub details: Vec<String>,
    /// RFC 6750 `error` of the `WWW-Authenticate` header.
    pub bearer_error: Option<String>,
    pub dialect: Dialect,
    /// API Entreprise / Particulier `meta.provider` of the first error (`CNAV`, `INSEE`…).
    pub provider: Option<String>,
    /// API Entreprise / Particulier `meta.retry_in` of the first error, bounded by
    /// [`MAX_RETRY_IN`].
    pub retry_in: Option<std::time::Duration>,
}

/// Upper bound of a provider's `meta.retry_in` (it can be days, e.g. a manual review): longer
/// values are cut to 30 days.
pub const MAX_RETRY_IN: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

/// Which error format the body used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dialect {
    /// DGFiP `{"erreur":{"code","message","horodatage"}}`.
    Dgfip,
    /// OAuth 2.0 `{"error","error_description"}` (RFC 6749 §5.2).
    OAuth2,
    /// RFC 6750 `WWW-Authenticate: Bearer error=...` header only.
    Rfc6750,
    /// API Entreprise / API Particulier `{"errors":[{"code","title","detail",...}]}`.
    ApiGouv,
    /// PISTE `{"messages":[{"code","severity","description"}]}`.
    Piste,
    /// JSON of another shape.
    OtherJson,
    /// Not JSON (or empty).
    #[default]
    Text,
}

fn scalar(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other @ (Value::Number(_) | Value::Bool(_)) => Some(other.to_string()),
        other => Some(other.to_string()),
    }
}

/// Keeps at most [`RAW_BODY_LIMIT`] bytes of a body, cut on a char boundary.
pub(crate) fn truncate_raw(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if text.len() <= RAW_BODY_LIMIT {
        return text.into_owned();
    }
    let mut end = RAW_BODY_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [truncated, {} bytes total]", &text[..end], body.len())
}

/// Parses `WWW-Authenticate: Bearer realm="x", error="invalid_token", error_description="..."`.
pub(crate) fn parse_www_authenticate(headers: &HeaderMap) -> Option<(String, Option<String>)> {
    for value in headers.get_all(http::header::WWW_AUTHENTICATE) {
        let Ok(v) = value.to_str() else { continue };
        let trimmed = v.trim_start();
        if trimmed.len() < 6 || !trimmed[..6].eq_ignore_ascii_case("bearer") {
            continue;
        }
        let params = parse_auth_params(&trimmed[6..]);
        let error = params
            .iter()
            .find(|(k, _)| k == "error")
            .map(|(_, v)| v.clone());
        if let Some(error) = error {
            let desc = params
                .iter()
                .find(|(k, _)| k == "error_description")
                .map(|(_, v)| v.clone());
            return Some((error, desc));
        }
    }
    None
}

fn parse_auth_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while matches!(chars.peek(), Some(c) if c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() {
            break;
        }
        while matches!(chars.peek(), Some(c) if c.is_whitespace()) {
            chars.next();
        }
        if chars.peek() != Some(&'=') {
            continue;
        }
        chars.next();
        while matches!(chars.peek(), Some(c) if c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' || c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((key.to_ascii_lowercase(), value));
    }
    out
}

/// Decodes an error response of any known dialect.
pub(crate) fn decode(status: u16, headers: &HeaderMap, body: &[u8]) -> Decoded {
    let mut d = Decoded::default();
    let json: Option<Value> = serde_json::from_slice(body).ok();
    match &json {
        Some(Value::Object(map)) => {
            if let Some(Value::Object(erreur)) = map.get("erreur") {
                decode_dgfip(erreur, &mut d);
            } else if let Some(Value::String(error)) = map.get("error") {
                d.dialect = Dialect::OAuth2;
                d.code = Some(error.clone());
                d.message = scalar(map.get("error_description"));
                d.advice = catalogue::oauth_call_advice(error).map(str::to_owned);
            } else if let Some(Value::Array(errors)) = map.get("errors") {
                decode_api_gouv(errors, &mut d);
            } else if let Some(Value::Array(messages)) = map.get("messages") {
                decode_piste(messages, &mut d);
            } else {
                d.dialect = Dialect::OtherJson;
                d.code = scalar(map.get("code"));
                d.message = scalar(map.get("message"))
                    .or_else(|| scalar(map.get("detail")))
                    .or_else(|| scalar(map.get("title")));
            }
        }
        Some(_) => d.dialect = Dialect::OtherJson,
        None => {
            // A text body is an excerpt of what the server sent (it may echo personal data):
            // it stays in `raw_body`, out of the message and so out of Display.
            d.dialect = Dialect::Text;
        }
    }
    if let Some((error, desc)) = parse_www_authenticate(headers) {
        if d.code.is_none() {
            d.dialect = Dialect::Rfc6750;
            d.code = Some(error.clone());
            d.message = desc.clone().or(d.message);
        }
        if d.advice.is_none() {
            d.advice = catalogue::oauth_call_advice(&error).map(str::to_owned);
        }
        d.bearer_error = Some(error);
    }
    if d.advice.is_none() {
        d.advice = catalogue::status_advice(status).map(str::to_owned);
    }
    d
}

/// DGFiP `{"erreur": {code, message, horodatage}}`, with the catalogue's advice.
fn decode_dgfip(erreur: &serde_json::Map<String, Value>, d: &mut Decoded) {
    d.dialect = Dialect::Dgfip;
    d.code = scalar(erreur.get("code"));
    d.message = scalar(erreur.get("message"));
    d.timestamp = scalar(erreur.get("horodatage"));
    if let Some(entry) = d
        .code
        .as_deref()
        .and_then(|c| c.trim().parse::<u32>().ok())
        .and_then(catalogue::dgfip_lookup)
    {
        d.advice = Some(format!("{} — {}", entry.meaning, entry.advice));
        if d.message.is_none() {
            d.message = Some(entry.message.to_owned());
        }
    }
}

/// API Entreprise / Particulier `{"errors": [{code, title, detail, source}]}`.
fn decode_api_gouv(errors: &[Value], d: &mut Decoded) {
    d.dialect = Dialect::ApiGouv;
    for (i, e) in errors.iter().enumerate() {
        let code = scalar(e.get("code"));
        let title = scalar(e.get("title"));
        let detail = scalar(e.get("detail"));
        if i == 0 {
            let meta = e.get("meta");
            d.provider = scalar(meta.and_then(|m| m.get("provider")));
            d.retry_in = meta.and_then(|m| m.get("retry_in")).and_then(seconds);
            d.code = code.clone();
            d.message = match (&title, &detail) {
                (Some(t), Some(dt)) => Some(format!("{t}: {dt}")),
                (Some(t), None) => Some(t.clone()),
                (None, Some(dt)) => Some(dt.clone()),
                (None, None) => None,
            };
        }
        let mut line = String::new();
        if let Some(c) = code {
            line.push_str(&format!("[{c}] "));
        }
        line.push_str(detail.or(title).as_deref().unwrap_or(""));
        if let Some(src) = e.get("source").filter(|v| !v.is_null()) {
            line.push_str(&format!(" (source: {src})"));
        }
        d.details.push(line);
    }
}

/// A number of seconds (JSON number or numeric string), non-negative and finite, at most
/// [`MAX_RETRY_IN`].
fn seconds(v: &Value) -> Option<std::time::Duration> {
    let secs = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    Some(std::time::Duration::from_secs_f64(
        secs.min(MAX_RETRY_IN.as_secs_f64()),
    ))
}

/// PISTE `{"messages": [{code, severity, description}]}`.
fn decode_piste(messages: &[Value], d: &mut Decoded) {
    d.dialect = Dialect::Piste;
    for (i, m) in messages.iter().enumerate() {
        let code = scalar(m.get("code"));
        let severity = scalar(m.get("severity"));
        let description = scalar(m.get("description"));
        if i == 0 {
            d.code = code.clone();
            d.message = description.clone();
        }
        d.details.push(format!(
            "{}{}{}",
            severity.map(|s| format!("{s} ")).unwrap_or_default(),
            code.map(|c| format!("[{c}] ")).unwrap_or_default(),
            description.unwrap_or_default()
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn www_authenticate_params() {
        let mut h = HeaderMap::new();
        h.insert(
            http::header::WWW_AUTHENTICATE,
            "Bearer realm=\"douane\", error=\"invalid_token\", error_description=\"The access token expired\""
                .parse()
                .unwrap(),
        );
        let (e, d) = parse_www_authenticate(&h).unwrap();
        assert_eq!(e, "invalid_token");
        assert_eq!(d.as_deref(), Some("The access token expired"));
    }

    #[test]
    fn truncates() {
        let body = "é".repeat(3000);
        let t = truncate_raw(body.as_bytes());
        assert!(t.len() < 2200);
        assert!(t.contains("truncated"));
    }
}
