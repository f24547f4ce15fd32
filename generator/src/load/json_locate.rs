//! Lines of JSON pointers in a JSON text, in one iterative pass.
//!
//! yaml-rust2 reads JSON too, but a single-line 9 MB JSON document is one flow collection it
//! buffers whole (hundreds of MB, seconds); this scanner keeps only the current path.

use std::collections::HashMap;

enum Frame {
    Object(Option<String>),
    Array(usize),
}

/// Locates `targets` (split pointers → pointer text). `None` when the text is not JSON.
pub(super) fn locate_json(
    text: &str,
    mut targets: HashMap<Vec<String>, String>,
) -> Option<HashMap<String, (usize, usize)>> {
    let bytes = text.as_bytes();
    let mut found = HashMap::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let (mut line, mut line_start) = (1usize, 0usize);
    let mut column = Column::default();
    let mut i = 0;
    // Whether the next string is an object key.
    let mut expect_key = false;
    while i < bytes.len() {
        if targets.is_empty() {
            break;
        }
        let b = bytes[i];
        match b {
            b'\n' => {
                line += 1;
                line_start = i + 1;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' | b':' => {
                i += 1;
                continue;
            }
            b',' => {
                match stack.last_mut() {
                    Some(Frame::Array(n)) => *n += 1,
                    Some(Frame::Object(key)) => {
                        *key = None;
                        expect_key = true;
                    }
                    None => return None,
                }
                i += 1;
                continue;
            }
            b'}' | b']' => {
                stack.pop();
                if !stack.is_empty() {
                    path.pop();
                }
                i += 1;
                continue;
            }
            _ => {}
        }
        if b == b'"' && expect_key {
            let (key, end) = read_string(text, i)?;
            if let Some(Frame::Object(k)) = stack.last_mut() {
                *k = Some(key);
            }
            expect_key = false;
            i = end;
            continue;
        }
        // A value starts here.
        let segment = match stack.last() {
            None => None,
            Some(Frame::Array(n)) => Some(n.to_string()),
            Some(Frame::Object(k)) => Some(k.clone()?),
        };
        if let Some(seg) = &segment {
            path.push(seg.clone());
            if let Some(p) = targets.remove(&path) {
                found.insert(p, (line, column.at(text, line_start, i)));
            }
            path.pop();
        }
        match b {
            b'{' | b'[' => {
                if let Some(seg) = segment {
                    path.push(seg);
                }
                if b == b'{' {
                    stack.push(Frame::Object(None));
                    expect_key = true;
                } else {
                    stack.push(Frame::Array(0));
                }
                i += 1;
            }
            b'"' => i = read_string(text, i)?.1,
            _ => {
                while i < bytes.len() && !matches!(bytes[i], b',' | b'}' | b']' | b'\n' | b' ') {
                    i += 1;
                }
            }
        }
    }
    Some(found)
}

/// Columns (in characters) counted from where the last one was asked, not from the start of
/// the line: a minified document is one line, and counting from its start for every node
/// made locating quadratic in its length (reproducer S1).
#[derive(Default)]
struct Column {
    line_start: usize,
    byte: usize,
    chars: usize,
}

impl Column {
    /// The 1-based column of byte `i` on the line starting at byte `line_start`; `i` never
    /// goes back within a line.
    fn at(&mut self, text: &str, line_start: usize, i: usize) -> usize {
        if self.line_start != line_start || self.byte > i {
            *self = Column {
                line_start,
                byte: line_start,
                chars: 0,
            };
        }
        self.chars += text[self.byte..i].chars().count();
        self.byte = i;
        self.chars + 1
    }
}

/// The string starting at the quote at `start`, and the index after its closing quote.
fn read_string(text: &str, start: usize) -> Option<(String, usize)> {
    let bytes = text.as_bytes();
    let mut i = start + 1;
    let mut escaped = false;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if !escaped => escaped = true,
            b'"' if !escaped => {
                let raw = &text[start..=i];
                let s: String = serde_json::from_str(raw).ok()?;
                return Some((s, i + 1));
            }
            _ => escaped = false,
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locate(text: &str, pointer: &str) -> Option<(usize, usize)> {
        let path: Vec<String> = pointer.split('/').skip(1).map(str::to_string).collect();
        let mut t = HashMap::new();
        t.insert(path, pointer.to_string());
        locate_json(text, t)?.remove(pointer)
    }

    #[test]
    fn finds_nested_nodes() {
        assert_eq!(locate("{\"a\": [1, {\"b\": 2}]}", "/a/1/b"), Some((1, 17)));
        assert_eq!(
            locate("{\n\"a\": {\n  \"b\": [1,\n 2]}}", "/a/b/1"),
            Some((4, 2))
        );
        assert_eq!(
            locate("{\"x\\\"y\": {\"c\": true}}", "/x\"y/c"),
            Some((1, 16))
        );
        assert_eq!(locate("{\"a\": 1}", "/b"), None);
    }

    #[test]
    fn columns_count_characters_across_several_targets_on_one_line() {
        let text = "{\"é\":\"ü\",\"a\":[1,2],\"b\":{\"c\":3}}\n{\"d\":4}";
        let mut targets = HashMap::new();
        for p in ["/a/1", "/b/c", "/a"] {
            let path: Vec<String> = p.split('/').skip(1).map(str::to_string).collect();
            targets.insert(path, p.to_string());
        }
        let found = locate_json(text, targets).unwrap();
        assert_eq!(found["/a"], (1, 14));
        assert_eq!(found["/a/1"], (1, 17));
        assert_eq!(found["/b/c"], (1, 29));
    }
}
