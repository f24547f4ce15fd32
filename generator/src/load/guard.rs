//! Limits checked on YAML text before it is turned into values.
//!
//! A hostile or broken document must get a located error, not a stack overflow, an hour of
//! parsing or gigabytes of memory. One pass over yaml-rust2's events (iterative, stopped at the
//! first problem) checks nesting depth and how much the aliases expand to; control characters,
//! which the YAML parsers report without a usable position, are found by a scan of the text.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

use super::yaml_error::YamlError;

/// A plain integer wider than 64 bits, where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WideInteger {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub col: usize,
    /// The integer as written.
    pub text: String,
    /// Where it starts, in characters from the start of the text.
    pub char_index: usize,
}

/// Deepest nesting of mappings and sequences accepted (serde_json's own limit for JSON).
pub const MAX_NESTING: usize = 128;

/// Most the aliases of a document may expand to, in scalar bytes plus one per node.
pub const MAX_ALIAS_EXPANSION: u64 = 32 * 1024 * 1024;

/// Checks the text against [`MAX_NESTING`] and [`MAX_ALIAS_EXPANSION`], and for characters
/// YAML does not allow. Syntax errors are left to the real parser, which words them better.
/// Returns the plain integers too wide for 64 bits (line, column, text): they are read as
/// the nearest floating-point number, which the caller reports as a warning.
pub fn check_yaml(text: &str) -> Result<Vec<WideInteger>, YamlError> {
    check_control_chars(text)?;
    check_flow_depth(text)?;
    let mut parser = Parser::new_from_str(text);
    // Weight (expanded size) of each open collection, and the anchor it defines.
    let mut open: Vec<(u64, usize)> = Vec::new();
    let mut anchors: HashMap<usize, u64> = HashMap::new();
    let mut total: u64 = 0;
    let mut wide = Vec::new();
    loop {
        let (event, mark) = match parser.next_token() {
            Ok(x) => x,
            Err(_) => return Ok(wide),
        };
        let at = || Some((mark.line(), mark.col() + 1));
        let leaf = match event {
            Event::StreamEnd => return Ok(wide),
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if open.len() >= MAX_NESTING {
                    return Err(YamlError {
                        line_col: at(),
                        message: format!(
                            "mappings and sequences nest deeper than {MAX_NESTING} levels here"
                        ),
                    });
                }
                open.push((1, anchor));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (weight, anchor) = open.pop().unwrap_or((1, 0));
                if anchor != 0 {
                    anchors.insert(anchor, weight);
                }
                weight
            }
            Event::Scalar(value, style, anchor, _) => {
                if style == TScalarStyle::Plain && integer_out_of_range(&value) {
                    let (line, col) = (mark.line(), mark.col() + 1);
                    wide.push(WideInteger {
                        line,
                        col,
                        text: value.clone(),
                        char_index: mark.index(),
                    });
                }
                let weight = value.len() as u64 + 1;
                if anchor != 0 {
                    anchors.insert(anchor, weight);
                }
                weight
            }
            Event::Alias(id) => {
                let weight = anchors.get(&id).copied().unwrap_or(1);
                total = total.saturating_add(weight);
                if total > MAX_ALIAS_EXPANSION {
                    return Err(YamlError {
                        line_col: at(),
                        message: format!(
                            "aliases expand to more than {} MiB (the limit): this alias takes the document past it",
                            MAX_ALIAS_EXPANSION / (1024 * 1024)
                        ),
                    });
                }
                weight
            }
            _ => continue,
        };
        if let Some(top) = open.last_mut() {
            top.0 = top.0.saturating_add(leaf);
        }
    }
}

/// Flow collections (`[[[…`) nested past [`MAX_NESTING`], found by a scan of the text:
/// yaml-rust2 buffers a whole flow collection before its first event, which on 100,000
/// levels takes minutes. Brackets count inside flow collections, and in block context where
/// a node starts (after `: `, `- `, `? ` or at a line's start); quotes and comments are skipped.
fn check_flow_depth(text: &str) -> Result<(), YamlError> {
    let mut depth = 0usize;
    let (mut line, mut col) = (1usize, 0usize);
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut comment = false;
    // The last non-blank character on this line (None at a line's start).
    let mut last: Option<char> = None;
    let mut prev = '\n';
    for c in text.chars() {
        col += 1;
        if c == '\n' {
            line += 1;
            col = 0;
            comment = false;
            last = None;
            prev = c;
            if quote == Some('\'') {
                continue;
            }
            continue;
        }
        if comment {
            continue;
        }
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if q == '"' && c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            prev = c;
            last = Some(c);
            continue;
        }
        match c {
            '#' if prev == ' ' || prev == '\t' || prev == '\n' => comment = true,
            '"' | '\''
                if depth > 0 || matches!(last, None | Some(':' | '-' | '?' | ',' | '[' | '{')) =>
            {
                quote = Some(c)
            }
            '[' | '{' if depth > 0 || matches!(last, None | Some(':' | '-' | '?')) => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(YamlError {
                        line_col: Some((line, col)),
                        message: format!(
                            "mappings and sequences nest deeper than {MAX_NESTING} levels here"
                        ),
                    });
                }
            }
            ']' | '}' if depth > 0 => depth -= 1,
            _ => {}
        }
        if c != ' ' && c != '\t' {
            last = Some(c);
        }
        prev = c;
    }
    Ok(())
}

/// A plain scalar YAML reads as an integer that no 64-bit type holds.
fn integer_out_of_range(value: &str) -> bool {
    let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && value.parse::<i64>().is_err()
        && value.parse::<u64>().is_err()
}

/// YAML allows tab, line feed and carriage return among the C0 controls, NEL among the C1
/// ones, and neither U+FFFE nor U+FFFF.
fn check_control_chars(text: &str) -> Result<(), YamlError> {
    let mut line = 1;
    let mut col = 1;
    for c in text.chars() {
        let bad = matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}'..='\u{84}' | '\u{86}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}');
        if bad {
            return Err(YamlError {
                line_col: Some((line, col)),
                message: format!(
                    "control character U+{:04X} is not allowed in YAML (write it as an escape such as \"\\u{:04X}\" inside a double-quoted string)",
                    c as u32, c as u32
                ),
            });
        }
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_refused_at_its_line() {
        let text = format!("a: 1\nx: {}{}\n", "[".repeat(200), "]".repeat(200));
        let e = check_yaml(&text).unwrap_err();
        assert_eq!(e.line_col.map(|l| l.0), Some(2), "{}", e.message);
        assert!(e.message.contains("128"));
        let ok = format!("x: {}{}\n", "[".repeat(100), "]".repeat(100));
        assert!(check_yaml(&ok).is_ok());
    }

    #[test]
    fn alias_amplification_is_refused() {
        let big = "x".repeat(100_000);
        let text = format!("a: &b \"{big}\"\nrefs: [{}]\n", vec!["*b"; 1000].join(", "));
        let e = check_yaml(&text).unwrap_err();
        assert!(e.message.contains("MiB"), "{}", e.message);
        // Nested anchors multiply: each level doubles.
        let mut t = String::from("l0: &l0 [x, x]\n");
        for i in 1..40 {
            t.push_str(&format!("l{i}: &l{i} [*l{}, *l{}]\n", i - 1, i - 1));
        }
        assert!(check_yaml(&t).is_err());
        assert!(check_yaml("base: &b {a: 1}\nm: {<<: *b, c: 2}\n").is_ok());
    }

    #[test]
    fn control_characters_point_at_their_line() {
        let e = check_yaml("a: 1\nb: \"x\u{0}y\"\n").unwrap_err();
        assert_eq!(e.line_col, Some((2, 6)));
        assert!(e.message.contains("U+0000"));
    }

    #[test]
    fn integers_wider_than_64_bits_are_noted_where_they_are() {
        let wide = check_yaml("a: 1\nb: {min: -9223372036854776000, q: '99999999999999999999'}\n")
            .unwrap();
        assert_eq!(
            wide,
            vec![WideInteger {
                line: 2,
                col: 10,
                text: "-9223372036854776000".into(),
                char_index: 14,
            }]
        );
    }
}
