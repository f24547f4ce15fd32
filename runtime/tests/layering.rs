//! The runtime's layers import one way, and no module imports itself back through others.
//!
//! Reads every file of `runtime/src`, maps it to its module path and its layer (the first
//! folder, or the file name for a one-file layer), and collects every path that leaves the
//! file: `use crate::…`, `crate::x::y` paths in code, `super::…`, and `child::…` paths to the
//! modules a file declares. Comments and string literals are skipped, `super` inside inline
//! modules (`mod tests { use super::*; }`) stays in the file. Fails on an import from a later
//! layer, and on any cycle between modules (re-exports of a folder's own children by its
//! `mod.rs`, its facade, are not imports).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, first to last: each may import only itself and the layers before it.
const LAYERS: &[&str] = &[
    "core", "error", "wire", "fleet", "policy", "auth", "gateway", "audit", "cassette", "client",
];

/// Files outside the layers: the crate root (re-exports), crate-level tests and test doubles
/// (feature `test-util`), which may import any layer and which no layer may import.
const OUTSIDE: &[&str] = &["lib", "proptests", "test_util"];

type ModPath = Vec<String>;

/// One path that leaves a file, already resolved to the module it names.
#[derive(Debug)]
struct Import {
    target: ModPath,
    line: usize,
    facade: bool,
}

#[test]
fn runtime_layers_import_one_way_and_modules_form_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = read_sources(&src);
    assert!(
        files.len() > 20,
        "found only {} files in {}",
        files.len(),
        src.display()
    );
    let problems = check(&files);
    let imports: BTreeSet<(ModPath, ModPath)> = files
        .keys()
        .flat_map(|m| {
            imports_of(m, &files)
                .into_iter()
                .map(|i| (m.clone(), i.target))
        })
        .collect();
    eprintln!(
        "layering: {} files, {} layers, {} module-to-module import arrows",
        files.len(),
        LAYERS.len(),
        imports.len()
    );
    assert!(
        problems.is_empty(),
        "layering problems:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_check_catches_a_wrong_way_import_a_cycle_and_a_super_that_leaves_the_layer() {
    let files: BTreeMap<ModPath, String> = [
        (vec!["core".into()], "pub mod time;\n".to_owned()),
        (
            vec!["core".into(), "time".into()],
            "// use crate::client::X; (a comment)\nfn f() { let _ = \"crate::client\"; super::super::client::go(); }\n"
                .to_owned(),
        ),
        (vec!["client".into()], "use crate::core::time::Clock;\n".to_owned()),
        (vec!["policy".into()], "use crate::{core, gateway::presets};\n".to_owned()),
        (vec!["gateway".into()], "pub fn g() { crate::policy::p(); }\n".to_owned()),
        (
            vec!["auth".into()],
            "mod tests { use super::*; }\nfn f() { crate::fleet::x(); }\n".to_owned(),
        ),
        (vec!["fleet".into()], String::new()),
    ]
    .into_iter()
    .collect();
    let problems = check(&files).join("\n");
    assert!(
        problems.contains("core::time:2 imports client"),
        "{problems}"
    );
    assert!(problems.contains("policy:1 imports gateway"), "{problems}");
    assert!(problems.contains("cycle: gateway -> policy"), "{problems}");
    assert!(!problems.contains("auth"), "{problems}");
    assert!(
        problems.contains("cycle: client -> core::time"),
        "{problems}"
    );
    assert_eq!(problems.lines().count(), 4, "{problems}");
}

/// Every layering problem of a source tree (module path -> text).
fn check(files: &BTreeMap<ModPath, String>) -> Vec<String> {
    let mut problems = Vec::new();
    let mut graph: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    for module in files.keys() {
        let from = rank(module);
        for import in imports_of(module, files) {
            if from.is_some_and(|r| rank(&import.target).is_none_or(|t| t > r)) {
                problems.push(format!(
                    "{}:{} imports {} (a later layer)",
                    module.join("::"),
                    import.line,
                    import.target.join("::")
                ));
            }
            if !import.facade {
                graph
                    .entry(module.clone())
                    .or_default()
                    .insert(import.target);
            }
        }
    }
    for cycle in cycles(&graph) {
        let names: Vec<String> = cycle.iter().map(|m| m.join("::")).collect();
        problems.push(format!("cycle: {}", names.join(" -> ")));
    }
    problems
}

/// The position of a module's layer; `None` outside the layers (root, tests, test doubles).
fn rank(module: &ModPath) -> Option<usize> {
    let first = module.first().map(String::as_str).unwrap_or("lib");
    if OUTSIDE.contains(&first) {
        return None;
    }
    let r = LAYERS.iter().position(|l| *l == first);
    assert!(
        r.is_some(),
        "module {first} is in no layer: add it to LAYERS or OUTSIDE"
    );
    r
}

/// `runtime/src` as module path -> source text (`lib.rs` is `["lib"]`).
fn read_sources(src: &Path) -> BTreeMap<ModPath, String> {
    let mut files = BTreeMap::new();
    let mut stack: Vec<PathBuf> = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable source folder") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path
                .strip_prefix(src)
                .expect("under src")
                .with_extension("");
            let mut module: ModPath = rel.iter().map(|c| c.to_string_lossy().into()).collect();
            if module.last().is_some_and(|l| l == "mod") {
                module.pop();
            }
            let text = std::fs::read_to_string(&path).expect("readable source");
            files.insert(module, text);
        }
    }
    files
}

/// The imports of one module that name another module of the crate.
fn imports_of(module: &ModPath, files: &BTreeMap<ModPath, String>) -> Vec<Import> {
    let code = strip_comments_and_strings(&files[module]);
    let children = declared_children(&code);
    let mut out = Vec::new();
    for found in paths_in(&code) {
        let mut base: ModPath = if module == &["lib".to_owned()] {
            Vec::new()
        } else {
            module.clone()
        };
        let segments = match found.segments.first().map(String::as_str) {
            Some("crate") => {
                base.clear();
                &found.segments[1..]
            }
            Some("super") => {
                let supers = found.segments.iter().take_while(|s| *s == "super").count();
                let leaving = supers.saturating_sub(found.inline_depth);
                if leaving == 0 {
                    continue;
                }
                for _ in 0..leaving {
                    base.pop();
                }
                &found.segments[supers..]
            }
            Some(first) if children.contains(first) && !found.after_colons => &found.segments[..],
            _ => continue,
        };
        let mut full = base;
        full.extend(segments.iter().cloned());
        let Some(target) = longest_module(&full, files) else {
            continue;
        };
        if &target == module || (target.is_empty() && module == &["lib".to_owned()]) {
            continue;
        }
        let facade = found.reexport && target.starts_with(module) && !module.is_empty();
        out.push(Import {
            target,
            line: found.line,
            facade,
        });
    }
    out
}

/// The longest prefix of `path` that is a module file.
fn longest_module(path: &[String], files: &BTreeMap<ModPath, String>) -> Option<ModPath> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| files.contains_key(p))
}

/// `mod name;` declarations (out-of-line child modules).
fn declared_children(code: &str) -> BTreeSet<String> {
    let words: Vec<&str> = code.split_whitespace().collect();
    words
        .windows(2)
        .filter(|w| w[0] == "mod" && w[1].ends_with(';'))
        .map(|w| w[1].trim_end_matches(';').to_owned())
        .collect()
}

/// A path found in code: its segments, its line, how many inline modules enclose it, whether
/// it follows `::` (so is not a path root) and whether it is in a `pub use` (a re-export).
struct FoundPath {
    segments: Vec<String>,
    line: usize,
    inline_depth: usize,
    after_colons: bool,
    reexport: bool,
}

/// Every path of two or more segments in `code`, with `use` groups (`a::{b, c::d}`) expanded.
fn paths_in(code: &str) -> Vec<FoundPath> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut inline_mods: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '{' {
            depth += 1;
        } else if c == '}' {
            depth = depth.saturating_sub(1);
            if inline_mods.last() == Some(&depth) {
                inline_mods.pop();
            }
        }
        if !is_ident_start(c) || (i > 0 && is_ident(chars[i - 1])) {
            i += 1;
            continue;
        }
        let word_end = ident_end(&chars, i);
        let word: String = chars[i..word_end].iter().collect();
        if word == "mod" {
            let name_end = ident_end(&chars, skip_ws(&chars, word_end));
            if chars.get(skip_ws(&chars, name_end)) == Some(&'{') {
                inline_mods.push(depth);
            }
        }
        if !chars[word_end..].starts_with(&[':', ':']) {
            i = word_end;
            continue;
        }
        let line = chars[..i].iter().filter(|c| **c == '\n').count() + 1;
        let after_colons = i >= 2 && chars[i - 2..i] == [':', ':'];
        let statement_start = chars[..i]
            .iter()
            .rposition(|c| matches!(c, ';' | '{' | '}'));
        let statement: String = chars[statement_start.map_or(0, |s| s + 1)..i]
            .iter()
            .collect();
        let reexport = statement.trim_start().starts_with("pub");
        let mut prefixes = Vec::new();
        let end = expand_path(&chars, i, Vec::new(), &mut prefixes);
        for segments in prefixes {
            out.push(FoundPath {
                segments,
                line,
                inline_depth: inline_mods.len(),
                after_colons,
                reexport,
            });
        }
        i = end.max(word_end);
    }
    out
}

/// Reads the path starting at `i` (after `prefix`), pushes every full path it names into
/// `out` (a group `{…}` yields one per item), and returns where it ends.
fn expand_path(
    chars: &[char],
    mut i: usize,
    mut prefix: Vec<String>,
    out: &mut Vec<ModPath>,
) -> usize {
    loop {
        i = skip_ws(chars, i);
        if chars.get(i) == Some(&'{') {
            i += 1;
            loop {
                i = skip_ws(chars, i);
                match chars.get(i) {
                    Some('}') | None => return i + 1,
                    Some(',') => i += 1,
                    Some(c) if is_ident_start(*c) => i = expand_path(chars, i, prefix.clone(), out),
                    Some(_) => i += 1,
                }
            }
        }
        if !chars.get(i).copied().is_some_and(is_ident_start) {
            out.push(prefix);
            return i;
        }
        let end = ident_end(chars, i);
        prefix.push(chars[i..end].iter().collect());
        i = end;
        let after = skip_ws(chars, i);
        if chars[after..].starts_with(&[':', ':']) {
            i = after + 2;
        } else {
            out.push(prefix);
            return i;
        }
    }
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn ident_end(chars: &[char], mut i: usize) -> usize {
    while chars.get(i).copied().is_some_and(is_ident) {
        i += 1;
    }
    i
}

fn skip_ws(chars: &[char], mut i: usize) -> usize {
    while chars.get(i).is_some_and(|c| c.is_whitespace()) {
        i += 1;
    }
    i
}

/// The code with comments, string and char literals blanked (newlines kept, so line numbers
/// stay right).
fn strip_comments_and_strings(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let blank = |out: &mut String, s: &[char]| {
        out.extend(s.iter().map(|ch| if *ch == '\n' { '\n' } else { ' ' }));
    };
    while i < c.len() {
        let end = if c[i..].starts_with(&['/', '/']) {
            c[i..]
                .iter()
                .position(|ch| *ch == '\n')
                .map_or(c.len(), |p| i + p)
        } else if c[i..].starts_with(&['/', '*']) {
            block_comment_end(&c, i)
        } else if c[i] == '"' || (c[i] == 'r' && raw_string_hashes(&c, i).is_some()) {
            string_end(&c, i)
        } else if c[i] == '\'' && char_literal_end(&c, i).is_some() {
            char_literal_end(&c, i).unwrap_or(i + 1)
        } else {
            out.push(c[i]);
            i += 1;
            continue;
        };
        blank(&mut out, &c[i..end]);
        i = end;
    }
    out
}

fn block_comment_end(c: &[char], mut i: usize) -> usize {
    let mut depth = 0;
    while i < c.len() {
        if c[i..].starts_with(&['/', '*']) {
            depth += 1;
            i += 2;
        } else if c[i..].starts_with(&['*', '/']) {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    i
}

/// `Some(n)` if a raw string `r#…#"` with `n` hashes starts at `i` (not inside an identifier).
fn raw_string_hashes(c: &[char], i: usize) -> Option<usize> {
    if i > 0 && is_ident(c[i - 1]) {
        return None;
    }
    let hashes = c[i + 1..].iter().take_while(|ch| **ch == '#').count();
    (c.get(i + 1 + hashes) == Some(&'"')).then_some(hashes)
}

fn string_end(c: &[char], i: usize) -> usize {
    if let Some(hashes) = raw_string_hashes(c, i).filter(|_| c[i] == 'r') {
        let mut j = i + hashes + 2;
        while j < c.len() {
            if c[j] == '"'
                && c[j + 1..]
                    .iter()
                    .take(hashes)
                    .filter(|ch| **ch == '#')
                    .count()
                    == hashes
            {
                return j + 1 + hashes;
            }
            j += 1;
        }
        return c.len();
    }
    let mut j = i + 1;
    while j < c.len() {
        match c[j] {
            '\\' => j += 2,
            '"' => return j + 1,
            _ => j += 1,
        }
    }
    c.len()
}

/// The end of a char literal at `i` (`'a'`, `'\n'`, `'\u{1F600}'`), `None` for a lifetime.
fn char_literal_end(c: &[char], i: usize) -> Option<usize> {
    if c.get(i + 1) == Some(&'\\') {
        return c[i + 2..]
            .iter()
            .position(|ch| *ch == '\'')
            .map(|p| i + 3 + p);
    }
    (c.get(i + 2) == Some(&'\'')).then_some(i + 3)
}

/// Every cycle of the module graph (strongly connected components of two or more modules),
/// each listed from its smallest module.
fn cycles(graph: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<Vec<ModPath>> {
    let nodes: BTreeSet<&ModPath> = graph.keys().chain(graph.values().flatten()).collect();
    let reaches = |from: &ModPath, to: &ModPath| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(n) = todo.pop() {
            if &n == to {
                return true;
            }
            if seen.insert(n.clone()) {
                todo.extend(graph.get(&n).into_iter().flatten().cloned());
            }
        }
        false
    };
    let mut done: BTreeSet<ModPath> = BTreeSet::new();
    let mut out = Vec::new();
    for n in &nodes {
        if done.contains(*n) {
            continue;
        }
        let component: Vec<ModPath> = nodes
            .iter()
            .filter(|m| *m == n || (reaches(n, m) && reaches(m, n)))
            .map(|m| (*m).clone())
            .collect();
        done.extend(component.iter().cloned());
        if component.len() > 1 {
            out.push(component);
        }
    }
    out
}

/// Longest function allowed in the runtime, in lines from `fn` to its closing brace.
const MAX_FUNCTION_LINES: usize = 80;

#[test]
fn no_runtime_function_reaches_80_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut lengths: Vec<(usize, String)> = Vec::new();
    for (module, text) in read_sources(&src) {
        let code = strip_comments_and_strings(&text);
        for (name, line, len) in functions(&code) {
            lengths.push((len, format!("{}:{line} fn {name}", module.join("::"))));
        }
    }
    lengths.sort();
    let longest = lengths.last().cloned().unwrap_or_default();
    eprintln!(
        "longest runtime function: {} ({} lines)",
        longest.1, longest.0
    );
    let too_long: Vec<String> = lengths
        .iter()
        .filter(|(len, _)| *len >= MAX_FUNCTION_LINES)
        .map(|(len, f)| format!("{f}: {len} lines"))
        .collect();
    assert!(
        too_long.is_empty(),
        "functions of {MAX_FUNCTION_LINES} lines or more:\n{}",
        too_long.join("\n")
    );
}

/// Every function with a body: name, first line and length in lines.
fn functions(code: &str) -> Vec<(String, usize, usize)> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 3 < chars.len() {
        let is_fn = chars[i..].starts_with(&['f', 'n', ' ']) && (i == 0 || !is_ident(chars[i - 1]));
        if !is_fn {
            i += 1;
            continue;
        }
        let name_start = skip_ws(&chars, i + 2);
        let name: String = chars[name_start..ident_end(&chars, name_start)]
            .iter()
            .collect();
        // The body starts at the first `{` before any `;` (a declaration without body).
        let Some(open) = chars[name_start..]
            .iter()
            .position(|c| matches!(c, '{' | ';'))
            .map(|p| name_start + p)
            .filter(|p| chars[*p] == '{')
        else {
            i = name_start;
            continue;
        };
        let mut depth = 0;
        let mut close = open;
        for (k, c) in chars[open..].iter().enumerate() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                close = open + k;
                break;
            }
        }
        let line_of = |p: usize| chars[..p].iter().filter(|c| **c == '\n').count() + 1;
        out.push((name, line_of(i), line_of(close) - line_of(i) + 1));
        i = name_start;
    }
    out
}

#[test]
fn every_mutex_follows_the_one_poison_policy() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for (module, text) in read_sources(&src) {
        if module == ["core", "sync"] {
            continue;
        }
        let code = strip_comments_and_strings(&text);
        for (n, line) in code.lines().enumerate() {
            let compact: String = line.split_whitespace().collect();
            if compact.contains(".lock().unwrap()") || compact.contains("e.into_inner())") {
                found.push(format!("{}:{}", module.join("::"), n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "lock with core::sync::LockExt (one poison policy), not: {}",
        found.join(", ")
    );
}
