//! Measure 4: compile cost of the generated code alone, ours against progenitor's on every
//! document both turn into a compiling crate: `cargo check` and `cargo build --release` of the
//! generated crate after touching its sources, with its dependencies already built.
//!
//! A timed run counts only if cargo rebuilt nothing but the crate itself (its "Checking" /
//! "Compiling" lines are read); a run that also built a dependency (first use of a feature
//! set) is discarded and repeated.

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::ctx::{self, Ctx, log};
use crate::docs::Doc;
use crate::m1_compiles::Compiles;
use crate::m2_gen_time::{Generation, out_dir};
use crate::report::Table;
use crate::stats::{dur, median, ratio_d};
use crate::tools::Tool;

#[derive(Debug, Default)]
pub struct Cost {
    /// doc → (ours check, prog check, ours release, prog release)
    pub rows: Vec<(usize, Duration, Duration, Duration, Duration)>,
}

fn touch(dir: &Path) {
    let mut stack = vec![dir.join("src")];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                if let Ok(f) = std::fs::File::options().write(true).open(&p) {
                    let _ = f.set_modified(SystemTime::now());
                }
            }
        }
    }
}

/// Median of `reps` touched rebuilds of one crate (`release`: `cargo build --release`, else
/// `cargo check`).
fn rebuild(ctx: &Ctx, tool: Tool, doc: &Doc, pkg: &str, release: bool, reps: usize) -> Duration {
    let ws = ctx.scratch.join("gen").join(tool.dir());
    let crate_dir = out_dir(ctx, tool, doc);
    let mut samples = Vec::new();
    let mut attempts = 0;
    while samples.len() < reps && attempts < reps + 4 {
        attempts += 1;
        touch(&crate_dir);
        let mut cmd = ctx.scratch_cargo(&ws);
        if release {
            cmd.args(["build", "--release"]);
        } else {
            cmd.arg("check");
        }
        cmd.args(["--message-format", "short", "-p", pkg]);
        let (t, o) = ctx::timed(&mut cmd);
        let err = String::from_utf8_lossy(&o.stderr);
        let others = err
            .lines()
            .map(str::trim_start)
            .filter(|l| l.starts_with("Compiling ") || l.starts_with("Checking "))
            .filter(|l| l.split_whitespace().nth(1) != Some(pkg))
            .count();
        if !o.status.success() {
            log(format!(
                "rebuild of {pkg} failed: {}",
                ctx::first_error(&err)
            ));
            break;
        }
        if others == 0 {
            samples.push(t);
            // Big crates: one release sample is enough to stay inside the time budget.
            if release && t > Duration::from_secs(20) {
                break;
            }
        }
    }
    median(&samples)
}

pub fn run(ctx: &Ctx, docs: &[Doc], g: &Generation, c: &Compiles, reps: usize) -> Cost {
    let mut cost = Cost::default();
    for (i, doc) in docs.iter().enumerate() {
        if !(c.ok(Tool::Ours, i) && c.ok(Tool::Progenitor, i)) {
            continue;
        }
        let (Some(po), Some(pp)) = (
            c.package.get(&(Tool::Ours, i)),
            c.package.get(&(Tool::Progenitor, i)),
        ) else {
            continue;
        };
        if g.get(Tool::Ours, i).is_none() {
            continue;
        }
        log(format!("compile cost of {} (check, release)", doc.label));
        let oc = rebuild(ctx, Tool::Ours, doc, po, false, reps);
        let pc = rebuild(ctx, Tool::Progenitor, doc, pp, false, reps);
        let or = rebuild(ctx, Tool::Ours, doc, po, true, reps);
        let pr = rebuild(ctx, Tool::Progenitor, doc, pp, true, reps);
        cost.rows.push((i, oc, pc, or, pr));
    }
    cost
}

pub fn section(cost: &Cost, docs: &[Doc]) -> String {
    let mut tab = Table::new(
        [
            "document",
            "check: gouvgen",
            "check: progenitor",
            "ratio",
            "release: gouvgen",
            "release: progenitor",
            "ratio",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
    );
    let (mut a, mut b, mut c2, mut d) = (
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
    );
    for &(i, oc, pc, or, pr) in &cost.rows {
        a += oc;
        b += pc;
        c2 += or;
        d += pr;
        tab.row(vec![
            docs[i].label.clone(),
            dur(oc),
            dur(pc),
            ratio_d(oc, pc),
            dur(or),
            dur(pr),
            ratio_d(or, pr),
        ]);
    }
    if !cost.rows.is_empty() {
        tab.row(vec![
            "**sum**".into(),
            dur(a),
            dur(b),
            ratio_d(a, b),
            dur(c2),
            dur(d),
            ratio_d(c2, d),
        ]);
    }
    tab.render()
}

/// Documents where our crate costs more than progenitor's (check or release).
pub fn misses(cost: &Cost, docs: &[Doc]) -> Vec<String> {
    let mut v = Vec::new();
    for &(i, oc, pc, or, pr) in &cost.rows {
        if oc > pc {
            v.push(format!("{} check {}", docs[i].label, ratio_d(oc, pc)));
        }
        if or > pr {
            v.push(format!("{} release {}", docs[i].label, ratio_d(or, pr)));
        }
    }
    v
}
