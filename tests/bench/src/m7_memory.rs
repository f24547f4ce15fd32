//! Measure 7: peak memory (max RSS, from `/usr/bin/time -f %M`) of each generator on the
//! largest document. openapi-generator's number is the whole JVM's.

use std::process::Command;

use crate::ctx::{self, Ctx, log};
use crate::docs::Doc;
use crate::report::Table;
use crate::stats::{dur, ratio};
use crate::tools::Tool;

pub struct Memory {
    pub doc: String,
    /// tool → Ok(KB) or the failure.
    pub rows: Vec<(Tool, Result<u64, String>, std::time::Duration)>,
}

pub fn run(ctx: &Ctx, doc: &Doc, tools: &[Tool]) -> Memory {
    let mut rows = Vec::new();
    for &tool in tools {
        log(format!("peak memory of {} on {}", tool.name(), doc.label));
        let out = ctx.scratch.join("mem").join(tool.dir());
        let _ = std::fs::remove_dir_all(&out);
        let _ = std::fs::create_dir_all(ctx.scratch.join("mem"));
        let report = ctx.scratch.join("mem").join(format!("{}.rss", tool.dir()));
        let inner = tool.command(ctx, &doc.path, &out, "bench_memory");
        let mut cmd = Command::new("/usr/bin/time");
        cmd.arg("-f").arg("%M").arg("-o").arg(&report);
        cmd.arg(inner.get_program()).args(inner.get_args());
        for (k, v) in inner.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let (t, o) = ctx::timed(&mut cmd);
        let kb = std::fs::read_to_string(&report)
            .ok()
            .and_then(|s| s.lines().last().and_then(|l| l.trim().parse::<u64>().ok()));
        let res = match (o.status.success(), kb) {
            (true, Some(kb)) => Ok(kb),
            (false, _) => Err(crate::tools::failure_reason(&o)),
            (true, None) => Err("no /usr/bin/time report".into()),
        };
        rows.push((tool, res, t));
    }
    Memory {
        doc: doc.label.clone(),
        rows,
    }
}

impl Memory {
    pub fn section(&self) -> String {
        let ours = self
            .rows
            .iter()
            .find(|r| r.0 == Tool::Ours)
            .and_then(|r| r.1.as_ref().ok().copied());
        let mut tab = Table::new(
            [
                "generator",
                "peak RSS",
                "wall time of that run",
                "ratio gouvgen / peer",
            ]
            .iter()
            .map(|x| x.to_string())
            .collect(),
        );
        for (tool, res, t) in &self.rows {
            let (rss, r) = match res {
                Ok(kb) => (
                    format!("{:.1} MB", *kb as f64 / 1024.0),
                    match (tool, ours) {
                        (Tool::Ours, _) => "—".into(),
                        (_, Some(o)) => ratio(o as f64, *kb as f64),
                        _ => "—".into(),
                    },
                ),
                Err(e) => (format!("fails: `{}`", ctx::shorten(e, 100)), "—".into()),
            };
            tab.row(vec![tool.name().into(), rss, dur(*t), r]);
        }
        format!("Document: `{}`.\n\n{}", self.doc, tab.render())
    }
}
