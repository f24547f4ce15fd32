//! Removing secrets from text that came from a server (error bodies, descriptions).
//!
//! A server that echoes a request echoes it encoded: percent- or form-encoded from a query or a
//! form body, base64 from a `Basic` header, JSON-escaped from a JSON body. The literal value is
//! therefore not enough: every secret is searched for in each of those encodings, and for
//! `id:secret` pairs in their `Basic` base64 form.

use base64::Engine;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::core::secret::Secret;

/// What replaces a secret.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// Secrets shorter than this are not searched for (they would blank common words).
const MIN_LEN: usize = 3;

const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_');
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The spellings of `s` a server may echo.
pub(crate) fn encodings(s: &str) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let json = serde_json::to_string(s).unwrap_or_default();
    let mut out = vec![
        s.to_owned(),
        utf8_percent_encode(s, QUERY).to_string(),
        utf8_percent_encode(s, FORM).to_string().replace("%20", "+"),
        utf8_percent_encode(s, FORM).to_string(),
        json.trim_matches('"').to_owned(),
        b64.encode(s),
        b64.encode(s).trim_end_matches('=').to_owned(),
        b64url.encode(s),
    ];
    // Lower-case percent escapes (`%2f`) are as valid as upper-case ones.
    let lower: Vec<String> = out[1..4]
        .iter()
        .map(|e| lower_escapes(e))
        .filter(|e| !out.contains(e))
        .collect();
    out.extend(lower);
    out
}

fn lower_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            for h in chars.by_ref().take(2) {
                out.push(h.to_ascii_lowercase());
            }
        }
    }
    out
}

/// A set of secrets to remove, in all their encodings.
#[derive(Clone, Default)]
pub(crate) struct Scrubber {
    needles: Vec<String>,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scrubber({} needles)", self.needles.len())
    }
}

impl Scrubber {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds a secret (all encodings; a JWT also by its payload and signature parts).
    pub(crate) fn add(&mut self, secret: &str) {
        let secret = secret.trim();
        if secret.len() < MIN_LEN {
            return;
        }
        for e in encodings(secret) {
            self.push(e);
        }
        if let Some(token) = secret
            .strip_prefix("Bearer ")
            .or(secret.strip_prefix("Basic "))
        {
            self.add(token);
        }
        let parts: Vec<&str> = secret.split('.').collect();
        if parts.len() == 3 {
            for p in &parts[1..] {
                if p.len() >= 8 {
                    self.push((*p).to_owned());
                }
            }
        }
    }

    pub(crate) fn add_secret(&mut self, secret: &Secret) {
        self.add(secret.expose());
    }

    /// Adds the `Basic` form of an `id:secret` pair.
    pub(crate) fn add_pair(&mut self, id: &str, secret: &str) {
        if secret.len() < MIN_LEN && id.len() < MIN_LEN {
            return;
        }
        let raw = format!("{id}:{secret}");
        let b64 = base64::engine::general_purpose::STANDARD.encode(&raw);
        self.push(b64.trim_end_matches('=').to_owned());
        self.push(b64);
        self.add(&raw);
        self.add(id);
        self.add(secret);
    }

    /// Adds every needle of `other`.
    pub(crate) fn extend(&mut self, other: &Scrubber) {
        for n in &other.needles {
            self.push(n.clone());
        }
    }

    fn push(&mut self, needle: String) {
        if needle.len() >= MIN_LEN && !self.needles.contains(&needle) {
            self.needles.push(needle);
            // Longest first, so a needle inside another one does not leave the rest behind.
            self.needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        }
    }

    /// The text with every needle replaced by `[REDACTED]`.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for n in &self.needles {
            if out.contains(n.as_str()) {
                out = out.replace(n.as_str(), REDACTED);
            }
        }
        out
    }

    pub(crate) fn scrub_opt(&self, text: Option<String>) -> Option<String> {
        text.map(|t| self.scrub(&t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_encoding_is_removed() {
        let mut s = Scrubber::new();
        s.add_pair("my-id", "p@ss w&rd+/=");
        let b64 = base64::engine::general_purpose::STANDARD.encode("my-id:p@ss w&rd+/=");
        let text = format!(
            "raw p@ss w&rd+/= form p%40ss+w%26rd%2B%2F%3D query p%40ss%20w%26rd%2B%2F%3D lower p%40ss+w%26rd%2b%2f%3d basic {b64} json \"p@ss w&rd+/=\""
        );
        let out = s.scrub(&text);
        assert!(!out.contains("p@ss"), "{out}");
        assert!(!out.contains("p%40ss"), "{out}");
        assert!(!out.contains(&b64), "{out}");
        assert!(!out.contains(b64.trim_end_matches('=')), "{out}");
    }
}
