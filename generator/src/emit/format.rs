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

/// Lays out every `.rs` source of a crate with `formatter`: one `rustfmt` process for all of
/// them (a process per file cost more than the formatting itself on small crates). A file
/// rustfmt gives up on keeps prettyplease's text, as [`finish`] does.
pub fn finish_all(files: &mut BTreeMap<String, String>, formatter: Formatter) -> Result<()> {
    if formatter == Formatter::Prettyplease {
        return Ok(());
    }
    let names: Vec<String> = (files.iter())
        .filter(|(n, text)| n.ends_with(".rs") && text.len() <= RUSTFMT_MAX_BYTES)
        .map(|(n, _)| n.clone())
        .collect();
    let dir = tempfile::Builder::new()
        .prefix("gouvgen-rustfmt")
        .tempdir()
        .map_err(|e| missing_rustfmt(&e))?;
    let config = dir.path().join("rustfmt.toml");
    std::fs::write(&config, "").map_err(|e| missing_rustfmt(&e))?;
    let paths: Vec<_> = (0..names.len())
        .map(|i| dir.path().join(format!("f{i}.rs")))
        .collect();
    for (name, path) in names.iter().zip(&paths) {
        std::fs::write(path, &files[name]).map_err(|e| missing_rustfmt(&e))?;
    }
    let status = rustfmt_command(&config)
        .args(&paths)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| missing_rustfmt(&e))?;
    for (name, path) in names.iter().zip(&paths) {
        let text = if status.success() {
            std::fs::read_to_string(path).map_err(|e| missing_rustfmt(&e))?
        } else {
            // One file made rustfmt give up: format each alone, so the others keep its layout.
            rustfmt(&files[name])?
        };
        if !text.trim().is_empty() {
            files.insert(name.clone(), text);
        }
    }
    Ok(())
}

/// The first line of `rustfmt --version` (`rustfmt 1.8.0-stable (0ab12cd 2026-10-28)`), or
/// `None` when it cannot be run. Its layout can change between versions, so generated crates
/// record it and `sync --check` names both when they differ.
pub fn rustfmt_version() -> Option<String> {
    static VERSION: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    VERSION
        .get_or_init(|| {
            let program = std::env::var_os("RUSTFMT").unwrap_or_else(|| "rustfmt".into());
            let output = Command::new(program).arg("--version").output().ok()?;
            let text = String::from_utf8(output.stdout).ok()?;
            let line = text.lines().next()?.trim().to_string();
            (output.status.success() && !line.is_empty()).then_some(line)
        })
        .clone()
}

/// The line of a generated `Cargo.toml` that records the layout, for `sync --check`.
pub const LAYOUT_RECORD: &str = "# Sources laid out by ";

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
