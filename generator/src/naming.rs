//! Rust identifiers from whatever names documents use.
//!
//! Keywords, spaces, slashes, `«»`, dots, accents, leading digits, `prenoms[]`: every name
//! becomes a valid identifier; accents are transliterated (`Donnéeslocal` → `donneeslocal`)
//! rather than dropped, and the original name stays in `#[serde(rename)]` and the docs.

use std::collections::BTreeSet;

use heck::{ToKebabCase, ToSnakeCase, ToUpperCamelCase};
use unicode_normalization::UnicodeNormalization;

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "union", "raw",
];

/// Replaces accented letters by their base letter and every other non-alphanumeric character
/// by a word break, so that heck sees clean words.
fn words(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.nfd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' => out.push(c),
            'ß' => out.push_str("ss"),
            'æ' => out.push_str("ae"),
            'Æ' => out.push_str("AE"),
            'œ' => out.push_str("oe"),
            'Œ' => out.push_str("OE"),
            _ => out.push(' '),
        }
    }
    out
}

fn finish(mut ident: String, fallback: &str, digit_prefix: &str) -> String {
    if ident.is_empty() {
        ident = fallback.to_string();
    }
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident = format!("{digit_prefix}{ident}");
    }
    if KEYWORDS.contains(&ident.as_str()) {
        ident.push('_');
    }
    ident
}

/// `snake_case` name for fields, parameters, methods and modules.
pub fn snake(raw: &str) -> String {
    finish(words(raw).to_snake_case(), "value", "n")
}

/// `kebab-case` words (no keyword or digit rule: for Cargo feature names), possibly empty.
pub fn kebab(raw: &str) -> String {
    words(raw).to_kebab_case()
}

/// `UpperCamelCase` name for types and variants.
pub fn pascal(raw: &str) -> String {
    finish(words(raw).to_upper_camel_case(), "Value", "V")
}

/// Hands out names that are unique in one scope, deterministically: the second `id` becomes
/// `id_2`, the third `id_3`, in the order they are asked for.
#[derive(Debug, Default, Clone)]
pub struct Namer {
    used: BTreeSet<String>,
}

impl Namer {
    /// A namer whose scope already holds `reserved`.
    pub fn with_reserved(reserved: &[&str]) -> Self {
        Namer {
            used: reserved.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Returns `base`, or `base` plus the smallest free numeric suffix.
    pub fn unique(&mut self, base: &str, separator: &str) -> String {
        if self.used.insert(base.to_string()) {
            return base.to_string();
        }
        let trimmed = base.trim_end_matches('_');
        (2..)
            .map(|n| format!("{trimmed}{separator}{n}"))
            .find(|candidate| self.used.insert(candidate.clone()))
            .expect("an unused suffix exists")
    }

    /// Whether `name` is taken.
    pub fn contains(&self, name: &str) -> bool {
        self.used.contains(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_names_become_identifiers() {
        assert_eq!(snake("X-Correlation-ID"), "x_correlation_id");
        assert_eq!(snake("prenoms[]"), "prenoms");
        assert_eq!(snake("Donnéeslocal"), "donneeslocal");
        assert_eq!(snake("locaux.natureLocal"), "locaux_nature_local");
        assert_eq!(snake("type"), "type_");
        assert_eq!(snake("self"), "self_");
        assert_eq!(snake("2fa"), "n2fa");
        assert_eq!(snake("«»"), "value");
        assert_eq!(
            snake("GET /captcha/{uuid}/code/infos"),
            "get_captcha_uuid_code_infos"
        );
        assert_eq!(pascal("Self"), "Self_");
        assert_eq!(pascal("état civil"), "EtatCivil");
        assert_eq!(pascal("200"), "V200");
        assert_eq!(pascal("legacy.*"), "Legacy");
    }

    #[test]
    fn collisions_resolve_in_order() {
        let mut n = Namer::default();
        assert_eq!(n.unique("x_request_id", "_"), "x_request_id");
        assert_eq!(n.unique("x_request_id", "_"), "x_request_id_2");
        assert_eq!(n.unique("type_", "_"), "type_");
        assert_eq!(n.unique("type_", "_"), "type_2");
    }
}
