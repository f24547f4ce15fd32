//! Measure 2: generation wall time, median of `reps` runs per document and tool, against the
//! parse-only floor (our own loader reading the same document in a fresh process, so process
//! start-up is in both numbers). The last run of each tool leaves its crate in
//! `bench-scratch/gen/<tool>/<doc>` for measures 1, 3 and 4.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::ctx::{self, Ctx, log};
use crate::docs::Doc;
use crate::report::Table;
use crate::stats::{dur, median, ratio_d};
use crate::tools::Tool;

/// One tool on one document.
#[derive(Debug, Clone)]
pub struct GenRun {
    pub times: Vec<Duration>,
    pub outcome: Result<PathBuf, String>,
}

impl GenRun {
    pub fn median(&self) -> Duration {
        median(&self.times)
    }
    pub fn ok(&self) -> bool {
        self.outcome.is_ok()
    }
}

#[derive(Debug, Default)]
pub struct Generation {
    /// (tool, doc index) → runs.
    pub runs: BTreeMap<(Tool, usize), GenRun>,
    /// doc index → parse-only times.
    pub floor: BTreeMap<usize, Vec<Duration>>,
    pub reps: usize,
}

impl Generation {
    pub fn get(&self, tool: Tool, doc: usize) -> Option<&GenRun> {
        self.runs.get(&(tool, doc))
    }
}

pub fn out_dir(ctx: &Ctx, tool: Tool, doc: &Doc) -> PathBuf {
    ctx.scratch.join("gen").join(tool.dir()).join(&doc.slug)
}

/// Runs every tool `reps` times on every document (interleaving tools so that all see the
/// same machine load) and the parse-only floor as often.
pub fn run(ctx: &Ctx, docs: &[Doc], tools: &[Tool], reps: usize) -> Generation {
    let mut g = Generation {
        reps,
        ..Default::default()
    };
    for (i, doc) in docs.iter().enumerate() {
        log(format!("generating {} ({reps}× per tool)", doc.label));
        let name = format!("bench_{}", doc.slug);
        for rep in 0..reps {
            let mut c = Command::new(&ctx.me);
            c.arg("parse-only").arg(&doc.path);
            let (t, o) = ctx::timed(&mut c);
            if o.status.success() {
                g.floor.entry(i).or_default().push(t);
            }
            for &tool in tools {
                // A tool that failed on its first run fails every run: do not repeat it.
                if rep > 0 && g.get(tool, i).is_some_and(|r| !r.ok()) {
                    continue;
                }
                let out = out_dir(ctx, tool, doc);
                let (t, res) = tool.generate(ctx, &doc.path, &out, &name);
                let entry = g.runs.entry((tool, i)).or_insert_with(|| GenRun {
                    times: Vec::new(),
                    outcome: Ok(out.clone()),
                });
                entry.times.push(t);
                entry.outcome = res.map(|()| out);
            }
        }
    }
    g
}

pub fn table(g: &Generation, docs: &[Doc], tools: &[Tool]) -> String {
    let mut head = vec![
        "document".to_string(),
        "size".into(),
        "parse floor".into(),
        "gouvgen".into(),
        "gouvgen / floor".into(),
    ];
    for t in tools.iter().filter(|t| **t != Tool::Ours) {
        head.push(t.name().into());
        head.push(format!("ratio gouvgen / {}", t.name()));
    }
    let mut tab = Table::new(head);
    for (i, doc) in docs.iter().enumerate() {
        let floor = g.floor.get(&i).map(|v| median(v));
        let cell = |tool: Tool| match g.get(tool, i) {
            Some(r) if r.ok() => dur(r.median()),
            Some(_) => "fails".into(),
            None => "—".into(),
        };
        let ours = g.get(Tool::Ours, i).filter(|r| r.ok()).map(GenRun::median);
        let mut row = vec![
            doc.label.clone(),
            format!("{} KB", doc.bytes / 1024),
            floor.map(dur).unwrap_or("—".into()),
            cell(Tool::Ours),
            match (ours, floor) {
                (Some(o), Some(f)) => ratio_d(o, f),
                _ => "—".into(),
            },
        ];
        for &t in tools.iter().filter(|t| **t != Tool::Ours) {
            row.push(cell(t));
            let peer = g.get(t, i).filter(|r| r.ok()).map(GenRun::median);
            row.push(match (ours, peer) {
                (Some(o), Some(p)) => ratio_d(o, p),
                _ => "—".into(),
            });
        }
        tab.row(row);
    }
    tab.render()
}

/// Target check: ours ≤ ½ progenitor on every document both accept, ours ≤ 5× floor.
pub fn targets(g: &Generation, docs: &[Doc]) -> (Vec<String>, Vec<String>) {
    let mut vs_prog = Vec::new();
    let mut vs_floor = Vec::new();
    for (i, doc) in docs.iter().enumerate() {
        let Some(o) = g.get(Tool::Ours, i).filter(|r| r.ok()) else {
            continue;
        };
        if let Some(p) = g.get(Tool::Progenitor, i).filter(|r| r.ok())
            && o.median().as_secs_f64() > 0.5 * p.median().as_secs_f64()
        {
            vs_prog.push(format!(
                "{} ({} vs {}, {})",
                doc.label,
                dur(o.median()),
                dur(p.median()),
                ratio_d(o.median(), p.median())
            ));
        }
        if let Some(f) = g.floor.get(&i).map(|v| median(v))
            && o.median().as_secs_f64() > 5.0 * f.as_secs_f64()
        {
            vs_floor.push(format!(
                "{} ({} vs floor {}, {})",
                doc.label,
                dur(o.median()),
                dur(f),
                ratio_d(o.median(), f)
            ));
        }
    }
    (vs_prog, vs_floor)
}
