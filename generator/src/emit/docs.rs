//! Descriptions from documents → rustdoc that renders and never runs as a doctest.
//!
//! Provider descriptions contain Markdown code fences (which rustdoc would compile and run
//! under `cargo test --doc`) and indented text (which Markdown reads as code blocks). Fences
//! are marked `text` and other lines are un-indented.

use proc_macro2::TokenStream;
use quote::quote;

/// Turns free text into `#[doc]` attributes.
pub fn doc_attrs(text: Option<&str>) -> TokenStream {
    match text {
        Some(t) => lines_to_attrs(&doc_lines(t)),
        None => TokenStream::new(),
    }
}

/// `#[doc]` attributes from ready lines.
pub fn lines_to_attrs(lines: &[String]) -> TokenStream {
    let attrs = lines.iter().map(|l| {
        let l = if l.is_empty() {
            String::new()
        } else {
            format!(" {l}")
        };
        quote!(#[doc = #l])
    });
    quote!(#(#attrs)*)
}

/// Sanitised lines of a description.
pub fn doc_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_fence = false;
    for raw in text.replace("\r\n", "\n").replace('\r', "\n").lines() {
        let trimmed = raw.trim();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            if in_fence {
                out.push("```".to_string());
            } else {
                out.push("```text".to_string());
            }
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            out.push(raw.trim_end().replace('\t', "    "));
        } else {
            out.push(trimmed.to_string());
        }
    }
    if in_fence {
        out.push("```".to_string());
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    while out.first().is_some_and(|l| l.is_empty()) {
        out.remove(0);
    }
    out
}

/// Text rustc and clippy accept in a doc comment: bare CR, other control characters and bidi
/// controls (denied by `text_direction_codepoint_in_comment`) become U+FFFD; tabs become four
/// spaces (`clippy::tabs_in_doc_comments`).
pub fn sanitise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\t' => out.push_str("    "),
            '\n' => out.push(c),
            '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => out.push('\u{fffd}'),
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' => {
                out.push('\u{fffd}')
            }
            other => out.push(other),
        }
    }
    out
}

/// Rewrites every `#[doc]` of a file through [`sanitise`]: whatever text reaches a doc
/// comment, from wherever in the emitter, compiles.
pub struct DocSanitiser;

impl syn::visit_mut::VisitMut for DocSanitiser {
    fn visit_attribute_mut(&mut self, attr: &mut syn::Attribute) {
        if attr.path().is_ident("doc")
            && let syn::Meta::NameValue(nv) = &mut attr.meta
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &mut nv.value
        {
            let value = s.value();
            let clean = sanitise(&value);
            if clean != value {
                *s = syn::LitStr::new(&clean, s.span());
            }
        }
    }
}

/// Inline code for a name from the document, safe inside backticks.
pub fn code(name: &str) -> String {
    if name.contains('`') {
        format!("`` {name} ``")
    } else {
        format!("`{name}`")
    }
}

#[cfg(test)]
mod tests {
    use super::{doc_lines, sanitise};

    #[test]
    fn doc_text_rustc_rejects_is_replaced() {
        assert_eq!(
            sanitise("a\rb\u{202e}c\u{0}d\te\nf"),
            "a\u{fffd}b\u{fffd}c\u{fffd}d    e\nf"
        );
    }

    #[test]
    fn code_blocks_never_become_doctests() {
        let lines = doc_lines("Exemple :\n```\ncurl -X GET\n```\n\n    indented");
        assert_eq!(
            lines,
            vec!["Exemple :", "```text", "curl -X GET", "```", "", "indented"]
        );
        assert_eq!(doc_lines("```json\n{}"), vec!["```text", "{}", "```"]);
    }
}
