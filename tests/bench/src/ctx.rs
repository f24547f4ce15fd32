//! Paths, options and small process helpers shared by every measure.
//!
//! Everything the bench writes (generated crates, scratch workspaces, their shared target dir)
//! lives under `<cargo target dir>/bench-scratch`, outside the repository's sources.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The measures, in the order of the issue.
pub const MEASURES: &[&str] = &[
    "compiles",
    "gen-time",
    "size",
    "compile-cost",
    "runtime",
    "telemetry",
    "tokens",
    "memory",
    "fleet",
    "emulators",
];

/// Command-line options.
#[derive(Debug, Clone)]
pub struct Options {
    /// CI smoke: one small document, few repetitions, ~1,000 calls, a 5-second token run.
    pub quick: bool,
    /// Measures to run (names of [`MEASURES`]).
    pub only: Vec<String>,
    /// Delete the scratch folder first (fresh dependency builds).
    pub clean: bool,
    /// Do not install or run the peers.
    pub no_peers: bool,
    /// Where to write the report.
    pub out: Option<PathBuf>,
    /// Generation runs per document and tool.
    pub reps: usize,
}

impl Options {
    pub fn wants(&self, measure: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|m| m == measure)
    }
}

/// Paths of the run.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub opts: Options,
    /// Repository root.
    pub root: PathBuf,
    /// `../shared` next to the repository.
    pub shared: PathBuf,
    /// Scratch folder (under the cargo target dir).
    pub scratch: PathBuf,
    /// Target dir shared by every scratch workspace, so dependencies are built once.
    pub scratch_target: PathBuf,
    /// Our CLI, built in the bench's profile (release when measuring).
    pub gouvgen: PathBuf,
    /// This binary (its `parse-only` subcommand is the floor of measure 2).
    pub me: PathBuf,
    /// `cargo`.
    pub cargo: String,
}

impl Ctx {
    pub fn new(opts: Options) -> Ctx {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .canonicalize()
            .expect("repository root");
        let me = std::env::current_exe().expect("current exe");
        // <target>/<profile>/gouvgen-bench
        let target = me
            .parent()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_else(|| root.join("target"));
        let scratch = target.join("bench-scratch");
        let shared = root.parent().map(|p| p.join("shared")).unwrap_or_default();
        let profile_dir = me.parent().unwrap().to_path_buf();
        Ctx {
            opts,
            gouvgen: profile_dir.join("gouvgen"),
            me,
            scratch_target: scratch.join("target"),
            scratch,
            shared,
            root,
            cargo: std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()),
        }
    }

    pub fn peers_bin(&self) -> PathBuf {
        PathBuf::from(std::env::var("PEERS_BIN").unwrap_or_else(|_| "/tmp/peers-bin".into()))
    }

    pub fn peers_venv(&self) -> PathBuf {
        PathBuf::from(std::env::var("PEERS_VENV").unwrap_or_else(|_| "/tmp/peers-venv".into()))
    }

    /// A cargo command for scratch workspaces: shared target dir, no backtraces.
    pub fn scratch_cargo(&self, dir: &Path) -> Command {
        let mut c = Command::new(&self.cargo);
        c.current_dir(dir)
            .env("CARGO_TARGET_DIR", &self.scratch_target)
            .env("RUST_BACKTRACE", "0")
            .env_remove("RUSTFLAGS")
            .env("CARGO_TERM_COLOR", "never");
        c
    }
}

/// Runs a command, capturing its output, and times it.
pub fn timed(cmd: &mut Command) -> (Duration, Output) {
    cmd.stdin(Stdio::null());
    let t = Instant::now();
    let out = cmd.output().unwrap_or_else(|e| Output {
        status: failed_status(),
        stdout: Vec::new(),
        stderr: format!("cannot run {cmd:?}: {e}").into_bytes(),
    });
    (t.elapsed(), out)
}

fn failed_status() -> std::process::ExitStatus {
    Command::new("false").status().expect("`false` runs")
}

/// The first line of a tool's output that says "error" (else the first non-empty line),
/// trimmed and cut to keep tables readable.
pub fn first_error(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let line = lines
        .iter()
        .find(|l| {
            let l = l.to_ascii_lowercase();
            (l.starts_with("error") || l.contains(" error") || l.contains("exception"))
                && !l.starts_with("error: could not compile")
                && !l.starts_with("error: aborting")
        })
        .or_else(|| lines.first())
        .copied()
        .unwrap_or("(no output)");
    shorten(&without_machine_paths(line), 160)
}

/// Tool output with this machine's folders replaced by placeholders (`$CARGO_HOME`, `~`):
/// a panic location in a crate of the registry must not put the build machine's home folder
/// into BENCHMARKS.md.
pub fn without_machine_paths(text: &str) -> String {
    let home = std::env::var("HOME").ok().filter(|h| h.len() > 1);
    let cargo_home = std::env::var("CARGO_HOME")
        .ok()
        .or_else(|| home.as_ref().map(|h| format!("{h}/.cargo")));
    let mut text = text.to_string();
    if let Some(cargo_home) = cargo_home {
        text = text.replace(&cargo_home, "$CARGO_HOME");
    }
    if let Some(home) = home {
        text = text.replace(&home, "~");
    }
    text
}

pub fn shorten(s: &str, max: usize) -> String {
    let s = s.replace('|', "\\|");
    if s.chars().count() <= max {
        s
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}…")
    }
}

/// Text of a command's stdout (trimmed), or empty.
pub fn capture(cmd: &mut Command) -> String {
    cmd.output()
        .map(|o| {
            let mut s = String::from_utf8_lossy(&o.stdout).trim().to_string();
            if s.is_empty() {
                s = String::from_utf8_lossy(&o.stderr).trim().to_string();
            }
            s
        })
        .unwrap_or_default()
}

pub fn log(msg: impl AsRef<str>) {
    eprintln!("[bench] {}", msg.as_ref());
}
