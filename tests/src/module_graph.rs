//! The module graph of a crate, read from its sources, and the import cycles in it.
//!
//! A node is a module *file* (inline `mod x { .. }` blocks belong to the file they are written
//! in). An edge `a.rs → b.rs` is a path in `a.rs` that starts with `crate::`, `super::` or
//! `self::` (in `use` trees, expressions, types) and names something in `b.rs`: the path is
//! resolved to the longest prefix that is a module, and that module's file is the target.
//! A parent may use its own descendants (declaring and orchestrating them is what a parent
//! module is for), so edges from a module to a module nested in it are left out; every other
//! reference counts, children using their parent included. `tests/tests/import_cycles.rs`
//! states the rule for readers of the test.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};

/// One lexical token of Rust source, with its 1-based line (comments are dropped).
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    PathSep,
    Punct(char),
}

/// Splits Rust source into tokens, skipping comments, and string and char literal contents.
fn lex(src: &str) -> Vec<(Tok, usize)> {
    let chars: Vec<char> = src.chars().collect();
    let (mut out, mut i, mut line) = (Vec::new(), 0, 1);
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i = skip_block_comment(&chars, i, &mut line);
        } else if c == '"' {
            let (text, end) = quoted(&chars, i, &mut line);
            out.push((Tok::Str(text), line));
            i = end;
        } else if c == '\'' {
            i = skip_char_or_lifetime(&chars, i);
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            i = literal_after_prefix(&chars, &word, i, &mut line, &mut out);
        } else if c == ':' && next == Some(':') {
            out.push((Tok::PathSep, line));
            i += 2;
        } else {
            out.push((Tok::Punct(c), line));
            i += 1;
        }
    }
    out
}

/// After an identifier: a string with a prefix (`b"…"`, `r#"…"#`, `br"…"`, `c"…"`), a raw
/// identifier (`r#type`) or the identifier itself. Returns where lexing continues.
fn literal_after_prefix(
    chars: &[char],
    word: &str,
    i: usize,
    line: &mut usize,
    out: &mut Vec<(Tok, usize)>,
) -> usize {
    let next = chars.get(i).copied();
    let raw_prefix = matches!(word, "r" | "br" | "cr");
    if raw_prefix && matches!(next, Some('"' | '#')) {
        let hashes = chars[i..].iter().take_while(|&&c| c == '#').count();
        if chars.get(i + hashes) == Some(&'"') {
            let (text, end) = raw_quoted(chars, i + hashes, hashes, line);
            out.push((Tok::Str(text), *line));
            return end;
        }
        if word == "r" && hashes == 1 {
            // A raw identifier: lexed on the next round, without its `r#`.
            return i + 1;
        }
    }
    if matches!(word, "b" | "c") && next == Some('"') {
        let (text, end) = quoted(chars, i, line);
        out.push((Tok::Str(text), *line));
        return end;
    }
    if word == "b" && next == Some('\'') {
        return skip_char_or_lifetime(chars, i);
    }
    out.push((Tok::Ident(word.to_string()), *line));
    i
}

/// Skips a (nested) block comment starting at `i`.
fn skip_block_comment(chars: &[char], mut i: usize, line: &mut usize) -> usize {
    let mut depth = 0;
    while i < chars.len() {
        match (chars[i], chars.get(i + 1)) {
            ('/', Some('*')) => {
                depth += 1;
                i += 2;
            }
            ('*', Some('/')) => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            (c, _) => {
                *line += usize::from(c == '\n');
                i += 1;
            }
        }
    }
    i
}

/// A `"…"` string starting at `i`: its text (escapes kept as written) and the index after it.
fn quoted(chars: &[char], mut i: usize, line: &mut usize) -> (String, usize) {
    let mut text = String::new();
    i += 1;
    while i < chars.len() && chars[i] != '"' {
        if chars[i] == '\\' {
            text.push(chars[i]);
            i += 1;
        }
        if let Some(&c) = chars.get(i) {
            *line += usize::from(c == '\n');
            text.push(c);
        }
        i += 1;
    }
    (text, i + 1)
}

/// A raw string whose opening quote is at `i`, closed by `"` and `hashes` `#`s.
fn raw_quoted(chars: &[char], mut i: usize, hashes: usize, line: &mut usize) -> (String, usize) {
    let mut text = String::new();
    i += 1;
    while i < chars.len() {
        let closes = chars[i] == '"'
            && chars[i + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == '#')
                .count()
                == hashes;
        if closes {
            return (text, i + 1 + hashes);
        }
        *line += usize::from(chars[i] == '\n');
        text.push(chars[i]);
        i += 1;
    }
    (text, i)
}

/// At a `'`: skips a char literal (`'a'`, `'\n'`, `'\u{1F600}'`), or only the quote of a
/// lifetime or label (`'a`, `'static`).
fn skip_char_or_lifetime(chars: &[char], i: usize) -> usize {
    match chars.get(i + 1) {
        Some('\\') => {
            let mut j = i + 2;
            while j < chars.len() && chars[j] != '\'' {
                j += 1;
            }
            j + 1
        }
        Some(_) if chars.get(i + 2) == Some(&'\'') => i + 3,
        _ => i + 1,
    }
}

/// A reference found in a file: where, the path as written, and the module path it names.
#[derive(Debug, Clone)]
struct RawReference {
    line: usize,
    written: String,
    absolute: Vec<String>,
}

/// What one file declares and refers to.
#[derive(Debug, Default)]
struct FileScan {
    /// Child modules kept in files: module path, and the `#[path]` given, if any.
    file_modules: Vec<(Vec<String>, Option<String>)>,
    /// Inline modules (`mod x { .. }`), by module path.
    inline_modules: Vec<Vec<String>>,
    references: Vec<RawReference>,
}

/// Reads the declarations and references of a file whose module path is `module`.
fn scan(src: &str, module: &[String]) -> FileScan {
    let tokens = lex(src);
    let mut scan = FileScan::default();
    let mut inline: Vec<(String, usize)> = Vec::new();
    let (mut depth, mut path_attr) = (0usize, None::<String>);
    let mut i = 0;
    while i < tokens.len() {
        let here: Vec<String> = module
            .iter()
            .cloned()
            .chain(inline.iter().map(|(name, _)| name.clone()))
            .collect();
        match &tokens[i].0 {
            Tok::Punct('{') => depth += 1,
            Tok::Punct('}') => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, d)| *d > depth) {
                    inline.pop();
                }
            }
            Tok::Punct('#') => {
                if let Some(path) = path_attribute(&tokens[i..]) {
                    path_attr = Some(path);
                }
            }
            Tok::Ident(word) if word == "mod" => {
                if let (Some((Tok::Ident(name), _)), Some((next, _))) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                {
                    let child = [here.clone(), vec![name.clone()]].concat();
                    if *next == Tok::Punct('{') {
                        depth += 1;
                        inline.push((name.clone(), depth));
                        scan.inline_modules.push(child);
                        i += 3;
                        continue;
                    }
                    if *next == Tok::Punct(';') {
                        scan.file_modules.push((child, path_attr.take()));
                    }
                }
            }
            Tok::Ident(word) if starts_path(&tokens, i, word) => {
                let (paths, end) = use_tree(&tokens, i);
                for segments in paths {
                    let written = segments.join("::");
                    if let Some(absolute) = absolute_path(&here, &segments) {
                        scan.references.push(RawReference {
                            line: tokens[i].1,
                            written,
                            absolute,
                        });
                    }
                }
                i = end;
                continue;
            }
            _ => {}
        }
        if matches!(tokens[i].0, Tok::Punct(';' | '{' | '}')) {
            path_attr = None;
        }
        i += 1;
    }
    scan
}

/// `#[path = "…"]` at the start of `tokens`: the path.
fn path_attribute(tokens: &[(Tok, usize)]) -> Option<String> {
    match tokens.get(..6)? {
        [
            (Tok::Punct('#'), _),
            (Tok::Punct('['), _),
            (Tok::Ident(path), _),
            (Tok::Punct('='), _),
            (Tok::Str(value), _),
            (Tok::Punct(']'), _),
        ] if path == "path" => Some(value.clone()),
        _ => None,
    }
}

/// Whether `crate`, `super` or `self` at `i` starts a path (not the tail of another one, and
/// not a visibility such as `pub(in crate::x)`).
fn starts_path(tokens: &[(Tok, usize)], i: usize, word: &str) -> bool {
    let previous = i.checked_sub(1).map(|p| &tokens[p].0);
    matches!(word, "crate" | "super" | "self")
        && tokens.get(i + 1).map(|t| &t.0) == Some(&Tok::PathSep)
        && previous != Some(&Tok::PathSep)
        && previous != Some(&Tok::Ident("in".into()))
}

/// The paths of a `use` tree (or of a plain path) starting at `i`, each as its segments, and
/// the index after it. `a::{b, c::d}` gives `a::b` and `a::c::d`; `self` in a group names the
/// prefix itself; globs stop at the prefix.
fn use_tree(tokens: &[(Tok, usize)], mut i: usize) -> (Vec<Vec<String>>, usize) {
    let mut prefix = Vec::new();
    while let Some((Tok::Ident(segment), _)) = tokens.get(i) {
        if segment != "self" || prefix.is_empty() {
            prefix.push(segment.clone());
        }
        i += 1;
        if tokens.get(i).map(|t| &t.0) != Some(&Tok::PathSep) {
            return (vec![prefix], i);
        }
        match tokens.get(i + 1).map(|t| &t.0) {
            Some(Tok::Punct('{')) => {
                let (mut paths, mut j) = (Vec::new(), i + 2);
                while let Some((token, _)) = tokens.get(j) {
                    match token {
                        Tok::Punct('}') => return (prefixed(&prefix, paths), j + 1),
                        Tok::Ident(word) if word == "as" => j += 2,
                        Tok::Ident(_) => {
                            let (inner, end) = use_tree(tokens, j);
                            paths.extend(inner);
                            j = end;
                        }
                        _ => j += 1,
                    }
                }
                return (prefixed(&prefix, paths), j);
            }
            Some(Tok::Ident(_)) => i += 1,
            _ => return (vec![prefix], i + 1),
        }
    }
    (vec![prefix], i)
}

fn prefixed(prefix: &[String], paths: Vec<Vec<String>>) -> Vec<Vec<String>> {
    if paths.is_empty() {
        return vec![prefix.to_vec()];
    }
    paths
        .into_iter()
        .map(|p| {
            let own = p.iter().skip_while(|s| *s == "self").cloned();
            prefix.iter().cloned().chain(own).collect()
        })
        .collect()
}

/// The module path a reference written in module `here` names from the crate root, or
/// `None` when it climbs above the root.
fn absolute_path(here: &[String], segments: &[String]) -> Option<Vec<String>> {
    let mut base = here.to_vec();
    let mut rest = segments.iter().peekable();
    if rest.peek().is_some_and(|s| *s == "crate") {
        base.clear();
        rest.next();
    }
    while let Some(segment) = rest.peek() {
        match segment.as_str() {
            "super" => {
                base.pop()?;
            }
            "self" => {}
            _ => break,
        }
        rest.next();
    }
    Some(base.into_iter().chain(rest.cloned()).collect())
}

/// One edge's evidence: the first place the source file refers to the target.
#[derive(Debug, Clone)]
pub struct Reference {
    /// 1-based line in the source file.
    pub line: usize,
    /// The path as written (group expanded), e.g. `super::yaml::YamlError`.
    pub written: String,
}

/// The module files of one crate (one root: `lib.rs`, `main.rs` or a `bin/` file) and the
/// references between them.
#[derive(Debug)]
pub struct ModuleGraph {
    /// Module files, relative to the folder the graph was read from.
    pub files: Vec<PathBuf>,
    module_paths: Vec<Vec<String>>,
    edges: BTreeMap<(usize, usize), Reference>,
}

impl ModuleGraph {
    /// Reads the crate whose root file is `root`, following `mod x;` declarations (and
    /// `#[path]`); file names are shown relative to `base`.
    pub fn read(root: &Path, base: &Path) -> std::io::Result<ModuleGraph> {
        let mut files: Vec<(PathBuf, Vec<String>)> = vec![(root.to_path_buf(), Vec::new())];
        let mut scans = Vec::new();
        let mut owner: HashMap<Vec<String>, usize> = HashMap::new();
        let mut k = 0;
        while k < files.len() {
            let (path, module) = files[k].clone();
            let scan = scan(&std::fs::read_to_string(&path)?, &module);
            owner.insert(module.clone(), k);
            for inline in &scan.inline_modules {
                owner.insert(inline.clone(), k);
            }
            for (child, attr) in &scan.file_modules {
                if let Some(file) = child_file(&path, &module, child, attr.as_deref()) {
                    files.push((file, child.clone()));
                }
            }
            scans.push(scan);
            k += 1;
        }
        let mut edges = BTreeMap::new();
        for (from, scan) in scans.iter().enumerate() {
            for reference in &scan.references {
                let Some(to) = resolve(&owner, &reference.absolute) else {
                    continue;
                };
                let nested_in_source = files[to].1.starts_with(&files[from].1);
                if to != from && !nested_in_source {
                    edges.entry((from, to)).or_insert(Reference {
                        line: reference.line,
                        written: reference.written.clone(),
                    });
                }
            }
        }
        let shown = |p: &Path| p.strip_prefix(base).unwrap_or(p).to_path_buf();
        Ok(ModuleGraph {
            files: files.iter().map(|(p, _)| shown(p)).collect(),
            module_paths: files.into_iter().map(|(_, m)| m).collect(),
            edges,
        })
    }

    /// Whether the file `from` refers to the file `to` (paths as in [`Self::files`]).
    pub fn refers(&self, from: &Path, to: &Path) -> bool {
        let index = |p: &Path| self.files.iter().position(|f| f == p);
        matches!((index(from), index(to)), (Some(a), Some(b)) if self.edges.contains_key(&(a, b)))
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// Every import cycle, one per strongly connected group of files, each shown as its
    /// shortest loop with the reference behind every step:
    /// `src/a.rs:3 \`crate::b::X\` → src/b.rs:9 \`crate::a::Y\` → src/a.rs`.
    pub fn cycles(&self) -> Vec<String> {
        strongly_connected(self.files.len(), &self.edges)
            .into_iter()
            .filter(|group| group.len() > 1)
            .map(|group| self.describe_loop(&group))
            .collect()
    }

    /// The shortest loop through the group's first file, as text.
    fn describe_loop(&self, group: &BTreeSet<usize>) -> String {
        let start = *group.first().expect("a group has files");
        let mut came_from: HashMap<usize, usize> = HashMap::new();
        let mut queue = VecDeque::from([start]);
        let mut last = start;
        'search: while let Some(node) = queue.pop_front() {
            for &(_, to) in self
                .edges
                .range((node, 0)..=(node, usize::MAX))
                .map(|(k, _)| k)
            {
                if to == start {
                    last = node;
                    break 'search;
                }
                if group.contains(&to) && !came_from.contains_key(&to) {
                    came_from.insert(to, node);
                    queue.push_back(to);
                }
            }
        }
        let mut path = vec![last];
        while let Some(&previous) = came_from.get(path.last().expect("not empty")) {
            path.push(previous);
        }
        path.reverse();
        path.push(start);
        let steps: Vec<String> = path
            .windows(2)
            .map(|pair| {
                let reference = &self.edges[&(pair[0], pair[1])];
                format!(
                    "{}:{} `{}`",
                    self.files[pair[0]].display(),
                    reference.line,
                    reference.written
                )
            })
            .collect();
        let names: Vec<String> = group.iter().map(|&f| self.module_name(f)).collect();
        format!(
            "cycle among {{{}}}: {} → {}",
            names.join(", "),
            steps.join(" → "),
            self.files[start].display()
        )
    }

    fn module_name(&self, file: usize) -> String {
        match self.module_paths[file].join("::") {
            root if root.is_empty() => "crate".into(),
            path => path,
        }
    }
}

/// The file a `mod` declaration loads: `#[path]` relative to the declaring file's folder, or
/// `name.rs` / `name/mod.rs` in the declaring module's folder.
fn child_file(
    declaring: &Path,
    module: &[String],
    child: &[String],
    attr: Option<&str>,
) -> Option<PathBuf> {
    let folder = declaring.parent()?;
    if let Some(attr) = attr {
        return Some(folder.join(attr));
    }
    let owns_folder = matches!(
        declaring.file_name()?.to_str()?,
        "lib.rs" | "main.rs" | "mod.rs"
    ) || module.is_empty();
    let mut dir = if owns_folder {
        folder.to_path_buf()
    } else {
        folder.join(declaring.file_stem()?)
    };
    // Inline modules between the file's module and the child add folders.
    for segment in &child[module.len()..child.len() - 1] {
        dir = dir.join(segment);
    }
    let name = child.last()?;
    [
        dir.join(format!("{name}.rs")),
        dir.join(name).join("mod.rs"),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

/// The file of the longest prefix of `path` that is a module.
fn resolve(owner: &HashMap<Vec<String>, usize>, path: &[String]) -> Option<usize> {
    (0..=path.len())
        .rev()
        .find_map(|len| owner.get(&path[..len]).copied())
}

/// Tarjan's strongly connected components, iteratively (no recursion on deep graphs).
fn strongly_connected(
    count: usize,
    edges: &BTreeMap<(usize, usize), Reference>,
) -> Vec<BTreeSet<usize>> {
    let mut adjacency = vec![Vec::new(); count];
    for &(from, to) in edges.keys() {
        adjacency[from].push(to);
    }
    let mut index = vec![usize::MAX; count];
    let mut low = vec![0; count];
    let mut on_stack = vec![false; count];
    let (mut stack, mut groups, mut next) = (Vec::new(), Vec::new(), 0);
    for start in 0..count {
        if index[start] != usize::MAX {
            continue;
        }
        let mut work = vec![(start, 0usize)];
        while let Some(&mut (node, ref mut child)) = work.last_mut() {
            if *child == 0 && index[node] == usize::MAX {
                index[node] = next;
                low[node] = next;
                next += 1;
                stack.push(node);
                on_stack[node] = true;
            }
            if let Some(&to) = adjacency[node].get(*child) {
                *child += 1;
                if index[to] == usize::MAX {
                    work.push((to, 0));
                } else if on_stack[to] {
                    low[node] = low[node].min(index[to]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == index[node] {
                let mut group = BTreeSet::new();
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    group.insert(member);
                    if member == node {
                        break;
                    }
                }
                groups.push(group);
            }
        }
    }
    groups
}

/// The crate roots of a package folder: `src/lib.rs`, `src/main.rs`, `src/bin/*.rs`.
pub fn crate_roots(package: &Path) -> Vec<PathBuf> {
    let src = package.join("src");
    let mut roots: Vec<PathBuf> = ["lib.rs", "main.rs"]
        .iter()
        .map(|f| src.join(f))
        .filter(|p| p.is_file())
        .collect();
    if let Ok(entries) = std::fs::read_dir(src.join("bin")) {
        let mut bins: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "rs"))
            .collect();
        bins.sort();
        roots.extend(bins);
    }
    roots
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(src: &str) -> Vec<String> {
        scan(src, &["a".to_string()])
            .references
            .into_iter()
            .map(|r| r.absolute.join("::"))
            .collect()
    }

    #[test]
    fn use_trees_expand_and_comments_and_strings_do_not_count() {
        let src = r##"
            use crate::{x::{self, Y as Z}, z::*};
            // use crate::comment::Z;
            /* crate::block::Z */
            let s = "crate::string::Z"; let r = r#"crate::raw::Z"#; let c = '"';
            fn f<'a>() { super::sibling::g(); self::child::h(); }
            pub(in crate::vis) struct S;
        "##;
        assert_eq!(
            paths(src),
            ["x", "x::Y", "z", "sibling::g", "a::child::h"],
            "only real paths, resolved from module `a`"
        );
    }

    #[test]
    fn inline_modules_shift_super() {
        let src = "mod tests { use super::*; fn t() { crate::b::f(); } }";
        assert_eq!(paths(src), ["a", "b::f"]);
    }
}
