//! Seeded mutation test of the generator (issue 13): mutants of our specs and of the corpus
//! run through `gouvgen generate`, one process each. No run may panic, crash, pass the time
//! limit (20 s) or use more than 1 GiB; a sample of the accepted mutants must compile.
//!
//! CI runs 400 mutants and compiles 6. For the larger on-demand run:
//! `GOUVGEN_MUTANTS=10000 GOUVGEN_MUTANTS_COMPILE=600 cargo test --release -p gouvgen-tests --test mutation -- --nocapture`
//! (`GOUVGEN_MUTATION_SEED` picks another seed, the default is 13; `GOUVGEN_BIN` runs another
//! build of the CLI, e.g. `target/release/gouvgen`).

use std::path::PathBuf;
use std::time::Duration;

use gouvgen_tests::mutation::{self, Outcome, Plan};
use gouvgen_tests::{ScratchWorkspace, corpus_documents, diagnostics, repo_root};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn spec_documents() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![repo_root().join("specs")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("json" | "yaml")
            ) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn mutants_never_panic_hang_or_blow_up_and_accepted_ones_compile() {
    let mut docs = spec_documents();
    let corpus = corpus_documents();
    if corpus.is_empty() {
        gouvgen_tests::skip(
            "mutants_never_panic_hang_or_blow_up_and_accepted_ones_compile (corpus part)",
            "no corpus documents (set GOUVGEN_CORPUS to its folder); mutating our specs only",
        );
    }
    docs.extend(corpus);
    let seeds = mutation::seeds(&docs);
    assert!(seeds.len() >= 7, "seed documents: {}", seeds.len());

    let mutants = env_usize("GOUVGEN_MUTANTS", 400);
    let compile = env_usize("GOUVGEN_MUTANTS_COMPILE", 6);
    let seed = env_usize("GOUVGEN_MUTATION_SEED", 13) as u64;
    let work = tempfile::tempdir().unwrap();
    let plan = Plan {
        // GOUVGEN_BIN: a release build of the CLI for large runs.
        bin: std::env::var_os("GOUVGEN_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_gouvgen-tests-cli"))),
        seed,
        mutants,
        time_limit: Duration::from_secs(20),
        mem_cap: 4 << 30,
        jobs: 2,
        work: work.path().to_path_buf(),
    };
    let started = std::time::Instant::now();
    let results = mutation::run(&plan, &seeds);
    let run_time = started.elapsed();
    let count = |o: Outcome| results.iter().filter(|r| r.outcome == o).count();
    let over_memory: Vec<_> = results.iter().filter(|r| r.max_rss > 1 << 30).collect();
    let slowest = results.iter().max_by_key(|r| r.elapsed).expect("runs");
    let largest = results.iter().max_by_key(|r| r.max_rss).expect("runs");
    eprintln!(
        "mutation seed {seed}: {mutants} mutants in {:.0} s, {} accepted, {} refused, {} panics, {} crashes, {} over 20 s, {} over 1 GiB; slowest {:.2} s ({}), largest {} MiB ({})",
        run_time.as_secs_f64(),
        count(Outcome::Accepted),
        count(Outcome::Refused),
        count(Outcome::Panic),
        count(Outcome::Crash),
        count(Outcome::Timeout),
        over_memory.len(),
        slowest.elapsed.as_secs_f64(),
        slowest.file.display(),
        largest.max_rss >> 20,
        largest.file.display(),
    );
    let bad: Vec<String> = results
        .iter()
        .filter(|r| {
            !matches!(r.outcome, Outcome::Accepted | Outcome::Refused) || r.max_rss > 1 << 30
        })
        .take(10)
        .map(|r| {
            format!(
                "{}: {:?} in {:?}, {} MiB\n{}",
                r.file.display(),
                r.outcome,
                r.elapsed,
                r.max_rss >> 20,
                r.stderr
            )
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{} bad runs (first 10):\n{}",
        bad.len(),
        bad.join("\n\n")
    );

    // A sample of accepted mutants, spread over the run, compiles lint-clean.
    let accepted: Vec<_> = results
        .iter()
        .filter(|r| r.outcome == Outcome::Accepted)
        .collect();
    let step = (accepted.len() / compile.max(1)).max(1);
    let sample: Vec<_> = accepted.iter().step_by(step).take(compile).collect();
    let started = std::time::Instant::now();
    let mut ws = ScratchWorkspace::new("mutants");
    for (i, r) in sample.iter().enumerate() {
        ws.add_plain(&r.file, &format!("mutant-{i}"))
            .unwrap_or_else(|e| {
                panic!(
                    "{}: accepted by the CLI, refused in process: {e}",
                    r.file.display()
                )
            });
    }
    ws.finish();
    let (ok, output) = ws.cargo(&[
        "clippy",
        "--workspace",
        "--keep-going",
        "--quiet",
        "--",
        "-D",
        "warnings",
    ]);
    let failed: Vec<&str> = output
        .lines()
        .filter(|l| l.contains("could not compile"))
        .collect();
    eprintln!(
        "compiled {} accepted mutants in {:.0} s: {} failed",
        sample.len(),
        started.elapsed().as_secs_f64(),
        failed.len()
    );
    if !ok {
        // The mutants live in a temporary folder: keep the failing ones next to their crates.
        let kept = ws.dir.join("failed-mutants");
        std::fs::create_dir_all(&kept).expect("folder for failing mutants");
        for (i, r) in sample.iter().enumerate() {
            if failed.iter().any(|l| l.contains(&format!("`mutant-{i}`"))) {
                let name = r.file.file_name().expect("mutant file name");
                let copy = kept.join(name);
                std::fs::copy(&r.file, &copy).expect("failing mutant kept");
                eprintln!("mutant-{i} = {}", copy.display());
            }
        }
    }
    assert!(
        ok,
        "accepted mutants do not compile:\n{}",
        diagnostics(&output, 80)
    );
}
