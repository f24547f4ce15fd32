//! Printing generated tokens as source text: prettyplease, then rustfmt's own layout.
//!
//! prettyplease is a library, so it always works, but its layout is not rustfmt's (89-column
//! margin, its own chain indentation). Generated crates are read and diffed by people used
//! to rustfmt, so by default the text goes through the toolchain's `rustfmt` too, run with a
//! fixed configuration so that no `rustfmt.toml` of the machine changes the bytes.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use proc_macro2::TokenStream;

use crate::error::{Error, Result};

/// Which printer lays out the generated sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Formatter {
    /// prettyplease, then `rustfmt --edition 2024` with the default style: the layout of
    /// hand-written Rust. Needs `rustfmt` (`rustup component add rustfmt`).
    #[default]
    Rustfmt,
    /// prettyplease only: no outside program (what build scripts use).
    Prettyplease,
}

/// Sources above this size keep prettyplease's layout: rustfmt's time grows faster than the
/// text, and a build must not stall on a huge document.
pub const RUSTFMT_MAX_BYTES: usize = 4 << 20;

/// Pretty-prints tokens; a failure here is a gouvgen bug, reported as such.
pub(super) fn format(tokens: TokenStream) -> Result<String> {
    let mut file: syn::File = syn::parse2(tokens).map_err(|e| Error::Config {
        message: format!("gouvgen produced code it cannot parse: {e}"),
        hint: "this is a gouvgen bug: please report it with the document".into(),
    })?;
    syn::visit_mut::VisitMut::visit_file_mut(&mut super::docs::DocSanitiser, &mut file);
    Ok(space_items(&prettyplease::unparse(&file)))
}

/// Lays out a whole source file with `formatter`.
pub fn finish(source: String, formatter: Formatter) -> Result<String> {
    match formatter {
        Formatter::Prettyplease => Ok(source),
        Formatter::Rustfmt if source.len() > RUSTFMT_MAX_BYTES => Ok(source),
        Formatter::Rustfmt => rustfmt(&source),
    }
}

/// The layout of a crate's sources, pipelined: each file goes to its own `rustfmt` as soon
/// as it is printed, while the next one is prepared, and `rustfmt --version` runs alongside.
/// On two cores this hides most of rustfmt's time behind the rest of the generation (one
/// process for all files, after the last one, cost 1.5–3× prettyplease alone).
pub struct Layout {
    formatter: Formatter,
    jobs: Vec<(String, std::thread::JoinHandle<Result<String>>)>,
    /// Files under [`SMALL_BYTES`], laid out together by one process at the end: a
    /// process costs more to start than such a file costs to lay out.
    small: Vec<(String, String)>,
    version: Option<std::thread::JoinHandle<Option<String>>>,
}

/// Below this size a file waits to share a rustfmt process with the other small ones.
const SMALL_BYTES: usize = 96 << 10;

impl Layout {
    /// Starts laying out with `formatter`.
    pub fn start(formatter: Formatter) -> Self {
        let version =
            (formatter == Formatter::Rustfmt).then(|| std::thread::spawn(rustfmt_version));
        Layout {
            formatter,
            jobs: Vec::new(),
            small: Vec::new(),
            version,
        }
    }

    /// Lays out `text`, the file `name`, in the background. A large file is cut between
    /// top-level items into pieces laid out side by side (rustfmt lays out items one by one,
    /// so the joined pieces are the bytes of the whole; the corpus test compares them).
    pub fn submit(&mut self, name: impl Into<String>, text: String) {
        let formatter = self.formatter;
        if formatter == Formatter::Rustfmt && text.len() < SMALL_BYTES {
            self.small.push((name.into(), text));
            return;
        }
        let pieces = match formatter {
            Formatter::Rustfmt if text.len() <= RUSTFMT_MAX_BYTES => split_at_items(&text),
            _ => vec![text],
        };
        let jobs: Vec<_> = pieces
            .into_iter()
            .map(|piece| std::thread::spawn(move || finish(piece, formatter)))
            .collect();
        let job = std::thread::spawn(move || {
            let mut pieces = Vec::new();
            for job in jobs {
                pieces.push(job.join().map_err(|_| Error::Config {
                    message: "laying out a source file failed".into(),
                    hint: "this is a gouvgen bug: please report it with the document".into(),
                })??);
            }
            Ok(pieces.join("\n"))
        });
        self.jobs.push((name.into(), job));
    }

    /// Waits for every file; puts them into `files`. Returns what laid them out
    /// (`rustfmt 1.9.0-stable (…)`, or prettyplease), for the crate's record.
    pub fn finish(self, files: &mut BTreeMap<String, String>) -> Result<String> {
        let small = (!self.small.is_empty()).then(|| {
            let small = self.small;
            std::thread::spawn(move || rustfmt_together(small))
        });
        if let Some(job) = small {
            let laid_out = job.join().map_err(|_| Error::Config {
                message: "laying out the small source files failed".into(),
                hint: "this is a gouvgen bug: please report it with the document".into(),
            })??;
            files.extend(laid_out);
        }
        for (name, job) in self.jobs {
            let text = job.join().map_err(|_| Error::Config {
                message: format!("laying out {name} failed"),
                hint: "this is a gouvgen bug: please report it with the document".into(),
            })??;
            files.insert(name, text);
        }
        Ok(match self.version {
            Some(job) => job
                .join()
                .ok()
                .flatten()
                .unwrap_or_else(|| "rustfmt".into()),
            None => format!("prettyplease (gouvgen {})", env!("CARGO_PKG_VERSION")),
        })
    }
}

/// A file is cut for rustfmt into pieces of at least this many bytes (a process costs about
/// 10 ms to start; rustfmt lays out about 200 KB in 50 ms).
const PIECE_BYTES: usize = 192 << 10;

/// `text` cut before top-level items that follow a blank line after a closed top-level item,
/// into pieces of about [`PIECE_BYTES`] (at most 4). The pieces, joined with `\n`, are `text`.
fn split_at_items(text: &str) -> Vec<String> {
    let parts = (text.len() / PIECE_BYTES).clamp(1, 4);
    if parts == 1 {
        return vec![text.to_string()];
    }
    let target = text.len() / parts;
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    let mut previous: [&str; 2] = ["", ""];
    for line in text.split_inclusive('\n') {
        let item_start = previous == ["}\n", "\n"]
            && line.starts_with(|c: char| c.is_ascii_alphabetic() || c == '#' || c == '/')
            && !line.starts_with("//!")
            && !line.starts_with("#!");
        // The blank line before the item is the joint.
        if item_start && offset - start >= target && pieces.len() + 1 < parts {
            pieces.push(text[start..offset - 1].to_string());
            start = offset;
        }
        previous = [previous[1], line];
        offset += line.len();
    }
    pieces.push(text[start..].to_string());
    pieces
}

/// The first line of `rustfmt --version` (`rustfmt 1.8.0-stable (0ab12cd 2026-10-28)`), or
/// `None` when it cannot be run. Its layout can change between versions, so generated crates
/// record it and `sync --check` names both when they differ.
pub fn rustfmt_version() -> Option<String> {
    let program = std::env::var_os("RUSTFMT").unwrap_or_else(|| "rustfmt".into());
    let output = Command::new(program).arg("--version").output().ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let line = text.lines().next()?.trim().to_string();
    (output.status.success() && !line.is_empty()).then_some(line)
}

/// The line of a generated `Cargo.toml` that records the layout, for `sync --check`.
pub const LAYOUT_RECORD: &str = "# Sources laid out by ";

/// Lays out several files with one `rustfmt` process (files in a temporary folder). If
/// rustfmt gives up on one of them, each is laid out alone, so the others keep its layout.
fn rustfmt_together(files: Vec<(String, String)>) -> Result<Vec<(String, String)>> {
    let dir = tempfile::Builder::new()
        .prefix("gouvgen-rustfmt")
        .tempdir()
        .map_err(|e| missing_rustfmt(&e))?;
    let config = dir.path().join("rustfmt.toml");
    std::fs::write(&config, "").map_err(|e| missing_rustfmt(&e))?;
    let paths: Vec<_> = (0..files.len())
        .map(|i| dir.path().join(format!("f{i}.rs")))
        .collect();
    for ((_, text), path) in files.iter().zip(&paths) {
        std::fs::write(path, text).map_err(|e| missing_rustfmt(&e))?;
    }
    let status = rustfmt_command(&config)
        .args(&paths)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| missing_rustfmt(&e))?;
    let mut out = Vec::new();
    for ((name, text), path) in files.into_iter().zip(&paths) {
        let laid_out = match status.success() {
            true => std::fs::read_to_string(path).map_err(|e| missing_rustfmt(&e))?,
            false => rustfmt(&text)?,
        };
        let laid_out = if laid_out.trim().is_empty() {
            text
        } else {
            laid_out
        };
        out.push((name, laid_out));
    }
    Ok(out)
}

/// The error when rustfmt cannot be run, with the ways out.
fn missing_rustfmt(e: &dyn std::fmt::Display) -> Error {
    Error::Config {
        message: format!("cannot run rustfmt to lay out the generated code: {e}"),
        hint: "install it with `rustup component add rustfmt` (or set RUSTFMT to its path), \
               or choose the prettyplease layout (`--formatter prettyplease`, \
               `CrateSettings::formatter`)"
            .into(),
    }
}

/// `rustfmt` (or `$RUSTFMT`) for edition 2024 with only `config`'s (empty) settings.
fn rustfmt_command(config: &std::path::Path) -> Command {
    let program = std::env::var_os("RUSTFMT").unwrap_or_else(|| "rustfmt".into());
    let mut command = Command::new(program);
    command
        .args(["--edition", "2024", "--quiet"])
        .arg("--config-path")
        .arg(config);
    command
}

/// `rustfmt` over stdin, with an empty configuration file so only its defaults apply.
fn rustfmt(source: &str) -> Result<String> {
    let missing = |e: &dyn std::fmt::Display| missing_rustfmt(e);
    let config = tempfile::Builder::new()
        .prefix("gouvgen-rustfmt")
        .suffix(".toml")
        .tempfile()
        .map_err(|e| missing(&e))?;
    let mut child = rustfmt_command(config.path())
        .args(["--emit", "stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| missing(&e))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = source.to_string();
    // Written from a thread: rustfmt may fill its stdout pipe before it has read everything.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().map_err(|e| missing(&e))?;
    let written = writer.join().unwrap_or(Ok(()));
    match (
        output.status.success(),
        written,
        String::from_utf8(output.stdout),
    ) {
        (true, Ok(()), Ok(text)) if !text.trim().is_empty() => Ok(text),
        // rustfmt gives up on some valid code (it then exits non-zero); prettyplease's text
        // is still correct, and the same on every machine with the same rustfmt.
        _ => Ok(source.to_string()),
    }
}

/// Adds a blank line between consecutive items (prettyplease writes them back to back), so
/// generated files read like hand-written ones.
fn space_items(code: &str) -> String {
    let lines: Vec<&str> = code.lines().collect();
    let mut out = String::with_capacity(code.len() + code.len() / 20);
    for (i, line) in lines.iter().enumerate() {
        out.push_str(line);
        out.push('\n');
        let Some(next) = lines.get(i + 1) else {
            continue;
        };
        let indent = line.len() - line.trim_start().len();
        let next_indent = next.len() - next.trim_start().len();
        let closes_item = matches!(line.trim(), "}" | "};")
            || (line.trim_end().ends_with(';')
                && next.trim_start().starts_with("///")
                && indent == next_indent
                && line.trim_start().starts_with("use "));
        let next_is_item = next_indent == indent
            && !next.trim().is_empty()
            && !matches!(
                next.trim_start().chars().next(),
                Some('}' | ')' | ']' | '.' | ',')
            )
            && !next.trim_start().starts_with("else");
        if closes_item && next_is_item {
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{PIECE_BYTES, split_at_items};

    #[test]
    fn large_files_are_cut_between_top_level_items_only() {
        let mut text = String::from("//! Types.\nuse a::b;\n\n");
        for i in 0..4000 {
            text.push_str(&format!(
                "/// Doc {i}.\n#[derive(Debug)]\npub struct S{i} {{\n    pub a: String,\n\n    pub b: u8,\n}}\n\nmod m{i} {{\n    fn f() {{}}\n\n    fn g() {{}}\n}}\n\n"
            ));
        }
        let pieces = split_at_items(&text);
        assert_eq!(pieces.len(), (text.len() / PIECE_BYTES).clamp(1, 4));
        assert_eq!(pieces.join("\n"), text);
        for piece in &pieces[1..] {
            assert!(
                piece.starts_with("/// Doc ") || piece.starts_with("mod m"),
                "{}",
                &piece[..40]
            );
        }
        assert_eq!(
            split_at_items("fn f() {}\n\nfn g() {}\n"),
            ["fn f() {}\n\nfn g() {}\n"]
        );
    }
}
