//! Measure 4: compile cost of the generated code alone, ours against progenitor's on every
//! document both turn into a compiling crate: `cargo check` and `cargo build --release` of the
//! generated crate after touching its sources, with its dependencies already built.
//!
//! A timed run counts only if cargo rebuilt nothing but the crate itself (its "Checking" /
//! "Compiling" lines are read); a run that also built a dependency (first use of a feature
//! set) is discarded and repeated. Each touched run is followed by the same command with
//! nothing touched (cargo's own work: resolving the workspace, fingerprinting every
//! dependency); the crate's own compile time is the difference. Both are reported, since
//! cargo's share differs between the two setups (our crates have the runtime as a path
//! dependency, whose sources cargo stats on every run).

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::ctx::{self, Ctx, log};
use crate::docs::Doc;
use crate::m1_compiles::Compiles;
use crate::m2_gen_time::{Generation, out_dir};
use crate::report::Table;
use crate::stats::{dur, median, ratio_d};
use crate::tools::Tool;

/// Medians of one crate's rebuilds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rebuild {
    /// `cargo check` / `cargo build --release` after a touch.
    pub touched: Duration,
    /// The same command with nothing to rebuild (cargo's own work).
    pub noop: Duration,
}

impl Rebuild {
    /// The crate's own compile time: touched minus cargo's no-op run.
    pub fn own(&self) -> Duration {
        self.touched.saturating_sub(self.noop)
    }
}

#[derive(Debug, Default)]
pub struct Cost {
    /// doc → (ours check, prog check, ours release, prog release)
    pub rows: Vec<(usize, Rebuild, Rebuild, Rebuild, Rebuild)>,
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
            } else if p.extension().is_some_and(|x| x == "rs")
                && let Ok(f) = std::fs::File::options().write(true).open(&p)
            {
                let _ = f.set_modified(SystemTime::now());
            }
        }
    }
}

/// Medians of `reps` touched rebuilds of one crate (`release`: `cargo build --release`, else
/// `cargo check`), each followed by a no-op run of the same command.
fn rebuild(ctx: &Ctx, tool: Tool, doc: &Doc, pkg: &str, release: bool, reps: usize) -> Rebuild {
    let ws = ctx.scratch.join("gen").join(tool.dir());
    let crate_dir = out_dir(ctx, tool, doc);
    let command = || {
        let mut cmd = ctx.scratch_cargo(&ws);
        if release {
            cmd.args(["build", "--release"]);
        } else {
            cmd.arg("check");
        }
        cmd.args(["--message-format", "short", "-p", pkg]);
        cmd
    };
    let mut touched = Vec::new();
    let mut noop = Vec::new();
    let mut attempts = 0;
    while touched.len() < reps && attempts < reps + 4 {
        attempts += 1;
        touch(&crate_dir);
        let (t, o) = ctx::timed(&mut command());
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
            touched.push(t);
            noop.push(ctx::timed(&mut command()).0);
            // Big crates: one release sample is enough to stay inside the time budget.
            if release && t > Duration::from_secs(20) {
                break;
            }
        }
    }
    Rebuild {
        touched: median(&touched),
        noop: median(&noop),
    }
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
            "build",
            "gouvgen: touched / cargo no-op / own",
            "progenitor: touched / cargo no-op / own",
            "ratio, own",
            "ratio, touched",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
    );
    let cell = |r: &Rebuild| format!("{} / {} / {}", dur(r.touched), dur(r.noop), dur(r.own()));
    let mut sums = [[Duration::ZERO; 4]; 2];
    for &(i, oc, pc, or, pr) in &cost.rows {
        for (k, (build, o, p)) in [("check", oc, pc), ("release", or, pr)]
            .into_iter()
            .enumerate()
        {
            sums[k][0] += o.own();
            sums[k][1] += p.own();
            sums[k][2] += o.touched;
            sums[k][3] += p.touched;
            tab.row(vec![
                docs[i].label.clone(),
                build.into(),
                cell(&o),
                cell(&p),
                ratio_d(o.own(), p.own()),
                ratio_d(o.touched, p.touched),
            ]);
        }
    }
    if !cost.rows.is_empty() {
        for (k, build) in ["check", "release"].iter().enumerate() {
            let [o, p, ot, pt] = sums[k];
            tab.row(vec![
                "**sum**".into(),
                build.to_string(),
                format!("own {}", dur(o)),
                format!("own {}", dur(p)),
                format!("**{}**", ratio_d(o, p)),
                ratio_d(ot, pt),
            ]);
        }
    }
    tab.render()
}

/// Documents where our crate's own compile time exceeds progenitor's (check or release).
pub fn misses(cost: &Cost, docs: &[Doc]) -> Vec<String> {
    let mut v = Vec::new();
    for &(i, oc, pc, or, pr) in &cost.rows {
        for (build, o, p) in [("check", oc, pc), ("release", or, pr)] {
            if o.own() > p.own() {
                v.push(format!(
                    "{} {build} {}",
                    docs[i].label,
                    ratio_d(o.own(), p.own())
                ));
            }
        }
    }
    v
}
