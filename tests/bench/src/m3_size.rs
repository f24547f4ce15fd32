//! Measure 3: size of the generated Rust, counted like `../shared/peers/gen.sh` does (every
//! `.rs` file under the crate folder: files, lines).

use std::path::Path;

use crate::docs::Doc;
use crate::m2_gen_time::Generation;
use crate::report::Table;
use crate::stats::ratio;
use crate::tools::Tool;

/// (files, lines) of Rust under `dir`.
pub fn rust_size(dir: &Path) -> (usize, usize) {
    let mut files = 0;
    let mut lines = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "target") {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "rs") {
                files += 1;
                lines += std::fs::read_to_string(&p)
                    .map(|t| t.lines().count())
                    .unwrap_or(0);
            }
        }
    }
    (files, lines)
}

pub fn section(g: &Generation, docs: &[Doc], tools: &[Tool]) -> String {
    let mut head = vec!["document".to_string(), "gouvgen".into()];
    for t in tools.iter().filter(|t| **t != Tool::Ours) {
        head.push(t.name().into());
        head.push(format!("lines gouvgen / {}", t.name()));
    }
    let mut tab = Table::new(head);
    let size = |t: Tool, i: usize| {
        g.get(t, i)
            .and_then(|r| r.outcome.as_ref().ok())
            .map(|d| rust_size(d))
    };
    let cell = |s: Option<(usize, usize)>| match s {
        Some((f, l)) => format!("{l} lines, {f} files"),
        None => "—".into(),
    };
    let mut totals = vec![(0usize, 0usize); tools.len()];
    for (i, doc) in docs.iter().enumerate() {
        let ours = size(Tool::Ours, i);
        let mut row = vec![doc.label.clone(), cell(ours)];
        for &t in tools.iter().filter(|t| **t != Tool::Ours) {
            let p = size(t, i);
            row.push(cell(p));
            row.push(match (ours, p) {
                (Some(o), Some(p)) => ratio(o.1 as f64, p.1 as f64),
                _ => "—".into(),
            });
        }
        // Totals over documents every tool generated.
        let all: Vec<_> = tools.iter().map(|&t| size(t, i)).collect();
        if all.iter().all(Option::is_some) {
            for (k, s) in all.iter().enumerate() {
                let s = s.unwrap();
                totals[k].0 += s.0;
                totals[k].1 += s.1;
            }
        }
        tab.row(row);
    }
    let mut row = vec![
        "**total, documents all tools generate**".to_string(),
        format!("{} lines, {} files", totals[0].1, totals[0].0),
    ];
    for (k, _) in tools.iter().enumerate().skip(1) {
        row.push(format!("{} lines, {} files", totals[k].1, totals[k].0));
        row.push(ratio(totals[0].1 as f64, totals[k].1 as f64));
    }
    tab.row(row);
    tab.render()
}
