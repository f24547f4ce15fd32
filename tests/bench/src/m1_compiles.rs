//! Measure 1: which documents each tool turns into a crate that compiles (generate +
//! `cargo check`), with the first error of each failure.
//!
//! The crates of one tool are members of one scratch workspace (one Cargo.lock) and all
//! workspaces share one target dir, so each dependency is built once; each crate is then
//! checked on its own (`cargo check -p`) so its first error is its own.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::ctx::{self, Ctx, log};
use crate::docs::{self, Doc};
use crate::m2_gen_time::Generation;
use crate::report::Table;
use crate::tools::Tool;

#[derive(Debug, Clone)]
pub enum Status {
    Compiles,
    GenFails(String),
    CheckFails(String),
}

#[derive(Debug, Default)]
pub struct Compiles {
    pub status: BTreeMap<(Tool, usize), Status>,
    /// Package name per (tool, doc), as written in the generated Cargo.toml.
    pub package: BTreeMap<(Tool, usize), String>,
    /// Time of the first `cargo check` of each tool's workspace (dependencies included).
    pub first_check: BTreeMap<Tool, Duration>,
}

impl Compiles {
    pub fn ok(&self, tool: Tool, doc: usize) -> bool {
        matches!(self.status.get(&(tool, doc)), Some(Status::Compiles))
    }
}

/// `name = "…"` of the `[package]` table.
pub fn package_name(crate_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(crate_dir.join("Cargo.toml")).ok()?;
    let mut in_package = false;
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            in_package = l == "[package]";
        } else if in_package
            && let Some(v) = l.strip_prefix("name")
            && let Some(v) = v.trim_start().strip_prefix('=')
        {
            return Some(v.trim().trim_matches('"').to_string());
        }
    }
    None
}

/// Writes `bench-scratch/gen/<tool>/Cargo.toml`, a workspace of the given crate folders.
pub fn write_workspace(ctx: &Ctx, tool: Tool, members: &[String]) -> std::path::PathBuf {
    let dir = ctx.scratch.join("gen").join(tool.dir());
    let list: Vec<String> = members.iter().map(|m| format!("    \"{m}\",")).collect();
    let text = format!(
        "# Written by gouvgen-bench: the {} crates, one lockfile, shared target dir.\n\
         [workspace]\nresolver = \"2\"\nmembers = [\n{}\n]\n",
        tool.name(),
        list.join("\n")
    );
    std::fs::create_dir_all(&dir).expect("scratch dir");
    std::fs::write(dir.join("Cargo.toml"), text).expect("workspace manifest");
    dir
}

pub fn run(ctx: &Ctx, docs: &[Doc], tools: &[Tool], g: &Generation) -> Compiles {
    let mut c = Compiles::default();
    for &tool in tools {
        let mut members = Vec::new();
        for (i, doc) in docs.iter().enumerate() {
            match g.get(tool, i).map(|r| &r.outcome) {
                Some(Ok(dir)) => match package_name(dir) {
                    Some(p) => {
                        c.package.insert((tool, i), p);
                        members.push(doc.slug.clone());
                    }
                    None => {
                        c.status.insert(
                            (tool, i),
                            Status::GenFails("no [package] name in Cargo.toml".into()),
                        );
                    }
                },
                Some(Err(e)) => {
                    c.status.insert((tool, i), Status::GenFails(e.clone()));
                }
                None => {}
            }
        }
        if members.is_empty() {
            continue;
        }
        let ws = write_workspace(ctx, tool, &members);
        let mut first = true;
        for (i, doc) in docs.iter().enumerate() {
            let Some(pkg) = c.package.get(&(tool, i)).cloned() else {
                continue;
            };
            log(format!("cargo check {} ({})", doc.label, tool.name()));
            let mut cmd = ctx.scratch_cargo(&ws);
            cmd.args(["check", "--message-format", "short", "-p", &pkg]);
            let (t, o) = ctx::timed(&mut cmd);
            if first {
                c.first_check.insert(tool, t);
                first = false;
            }
            let st = if o.status.success() {
                Status::Compiles
            } else {
                Status::CheckFails(ctx::first_error(&String::from_utf8_lossy(&o.stderr)))
            };
            c.status.insert((tool, i), st);
        }
    }
    c
}

pub fn section(c: &Compiles, docs: &[Doc], tools: &[Tool]) -> String {
    let mut head = vec!["document".to_string(), "dialect".into()];
    head.extend(tools.iter().map(|t| t.name().to_string()));
    let mut tab = Table::new(head);
    let mut errors = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        let mut row = vec![doc.label.clone(), docs::openapi_version(doc)];
        for &t in tools {
            row.push(match c.status.get(&(t, i)) {
                Some(Status::Compiles) => "✅ compiles".into(),
                Some(Status::GenFails(e)) => {
                    errors.push(format!(
                        "- {} / {}: generation: `{}`",
                        doc.label,
                        t.name(),
                        e
                    ));
                    "❌ generation".into()
                }
                Some(Status::CheckFails(e)) => {
                    errors.push(format!(
                        "- {} / {}: cargo check: `{}`",
                        doc.label,
                        t.name(),
                        e
                    ));
                    "❌ cargo check".into()
                }
                None => "—".into(),
            });
        }
        tab.row(row);
    }
    let count = |t: Tool| (0..docs.len()).filter(|&i| c.ok(t, i)).count();
    let ours = count(Tool::Ours);
    let mut total = vec![format!("**compiles**"), String::new()];
    for &t in tools {
        total.push(format!("**{}/{}**", count(t), docs.len()));
    }
    tab.row(total);
    let mut s = tab.render();
    s.push('\n');
    let mut ratios = Table::new(vec![
        "peer".into(),
        "peer compiles".into(),
        "gouvgen compiles".into(),
        "ratio gouvgen / peer".into(),
    ]);
    for &t in tools.iter().filter(|t| **t != Tool::Ours) {
        let p = count(t);
        ratios.row(vec![
            t.name().into(),
            format!("{p}/{}", docs.len()),
            format!("{ours}/{}", docs.len()),
            crate::stats::ratio(ours as f64, p as f64),
        ]);
    }
    s.push_str(&ratios.render());
    if !errors.is_empty() {
        s.push_str("\nFirst error of each failure:\n\n");
        s.push_str(&errors.join("\n"));
        s.push('\n');
    }
    s
}
