//! Descriptions from documents → rustdoc that renders and never runs as a doctest.
//!
//! Provider descriptions contain Markdown code fences (which rustdoc would compile and run
//! under `cargo test --doc`) and indented text (which Markdown reads as code blocks). Fences
//! are marked `text` and other lines are un-indented. Outside code, brackets (intra-doc links
//! to nothing), angle brackets (unknown HTML tags) and bare URLs are escaped ([`escape_text`]),
//! so generated crates pass `cargo doc` with every rustdoc lint denied.

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
            out.push(escape_text(trimmed));
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

/// One line of document text as Markdown that renders it as written: `[`, `]` and `<` are
/// backslash-escaped and bare URLs become autolinks, except inside code spans, Markdown links
/// `[text](url)` and autolinks `<https://…>`, which are kept.
pub fn escape_text(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        let kept = code_span(rest)
            .or_else(|| markdown_link(rest))
            .or_else(|| autolink(rest));
        if let Some(len) = kept {
            out.push_str(&rest[..len]);
            rest = &rest[len..];
        } else if let Some((len, link)) = html_anchor(rest) {
            out.push_str(&link);
            rest = &rest[len..];
        } else if let Some(len) = line_break(rest) {
            out.push_str("<br>");
            rest = &rest[len..];
        } else if let Some(len) = bare_url(rest, out.chars().last()) {
            out.push('<');
            out.push_str(&rest[..len]);
            out.push('>');
            rest = &rest[len..];
        } else {
            if matches!(c, '[' | ']' | '<') {
                out.push('\\');
            }
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// Length of a code span starting `text` (a backtick run, its text, the same run again).
fn code_span(text: &str) -> Option<usize> {
    let run = text.len() - text.trim_start_matches('`').len();
    if run == 0 {
        return None;
    }
    let fence = &text[..run];
    let mut from = run;
    while let Some(i) = text[from..].find(fence) {
        let end = from + i + run;
        // A longer run does not close a shorter one.
        if !text[end..].starts_with('`') {
            return Some(end);
        }
        from = end + text[end..].len() - text[end..].trim_start_matches('`').len();
    }
    None
}

/// Length of a Markdown link `[text](url)` starting `text`, with no bracket inside its text.
fn markdown_link(text: &str) -> Option<usize> {
    let inner = text.strip_prefix('[')?;
    let close = inner.find(']')?;
    if inner[..close].contains(['[', '<']) || inner[..close].is_empty() {
        return None;
    }
    let after = inner[close + 1..].strip_prefix('(')?;
    let end = after.find(')')?;
    let url = &after[..end];
    let is_url = url.starts_with("http://") || url.starts_with("https://");
    (is_url && !url.contains([' ', '<', '>'])).then_some(1 + close + 2 + end + 1)
}

/// An HTML link `<a href='https://…'>text</a>` starting `text`, as a Markdown link: its
/// length and the link.
fn html_anchor(text: &str) -> Option<(usize, String)> {
    if !text.get(..3)?.eq_ignore_ascii_case("<a ") {
        return None;
    }
    let href = text.find("href=")? + "href=".len();
    let quote = text[href..]
        .chars()
        .next()
        .filter(|c| matches!(c, '\'' | '"'))?;
    let url_start = href + 1;
    let url_len = text[url_start..].find(quote)?;
    let url = &text[url_start..url_start + url_len];
    let open_end = url_start + url_len + text[url_start + url_len..].find('>')? + 1;
    let label_len = text[open_end..].to_ascii_lowercase().find("</a>")?;
    let label = text[open_end..open_end + label_len].trim();
    let plain_url = (url.starts_with("http://") || url.starts_with("https://"))
        && !url.contains([' ', '(', ')', '<', '>']);
    if !plain_url || label.is_empty() || label.contains(['<', '`']) {
        return None;
    }
    let label = label.replace('[', "\\[").replace(']', "\\]");
    Some((
        open_end + label_len + "</a>".len(),
        format!("[{label}]({url})"),
    ))
}

/// Length of a line break tag (`<br>`, `<br/>`, `<br />`) starting `text`: a void element
/// rustdoc accepts, kept as `<br>`.
fn line_break(text: &str) -> Option<usize> {
    ["<br>", "<br/>", "<br />", "<BR>"]
        .iter()
        .find(|tag| text.starts_with(**tag))
        .map(|tag| tag.len())
}

/// Length of an autolink `<https://…>` starting `text`.
fn autolink(text: &str) -> Option<usize> {
    let inner = text.strip_prefix('<')?;
    if !(inner.starts_with("http://") || inner.starts_with("https://")) {
        return None;
    }
    let end = inner.find(['>', ' ', '<'])?;
    (inner[end..].starts_with('>')).then_some(end + 2)
}

/// Length of a bare URL starting `text` (not inside a word), without the trailing punctuation
/// that ends a sentence.
fn bare_url(text: &str, before: Option<char>) -> Option<usize> {
    if !(text.starts_with("http://") || text.starts_with("https://"))
        || before.is_some_and(|c| c.is_alphanumeric())
    {
        return None;
    }
    let end = text
        .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '`'))
        .unwrap_or(text.len());
    let url = text[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', '\'', ')', ']']);
    (url.len() > "https://".len()).then_some(url.len())
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
    use super::{doc_lines, escape_text, sanitise};

    #[test]
    fn document_text_renders_as_written() {
        assert_eq!(
            escape_text("le champ [siren] ou <siret> : https://exemple.fr/a."),
            "le champ \\[siren\\] ou \\<siret> : <https://exemple.fr/a>."
        );
        // Code spans, Markdown links and autolinks are kept as they are.
        let kept = "voir `a[0] <b>`, [la doc](https://x.fr/d) et <https://y.fr>";
        assert_eq!(escape_text(kept), kept);
        // A bracket that opens no link, an unclosed code span, a URL in parentheses.
        assert_eq!(escape_text("[a](b) `x"), "\\[a\\](b) `x");
        assert_eq!(
            escape_text("(https://z.fr/p?q=1)"),
            "(<https://z.fr/p?q=1>)"
        );
        // HTML links become Markdown links; line breaks stay; other tags are escaped.
        assert_eq!(
            escape_text("<a href='https://e.fr/c#a-x'>Documentation [métier]</a><br/><b>x</b>"),
            "[Documentation \\[métier\\]](https://e.fr/c#a-x)<br>\\<b>x\\</b>"
        );
    }

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
