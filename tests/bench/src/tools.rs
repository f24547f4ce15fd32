//! The three generators and how each is run. Peers are run through their binaries directly
//! (the same commands as `../shared/peers/gen.sh`) so the bench times the generator process
//! itself, not a wrapper script.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::ctx::{self, Ctx, log};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tool {
    Ours,
    Progenitor,
    OpenapiGenerator,
}

pub const PEERS: [Tool; 2] = [Tool::Progenitor, Tool::OpenapiGenerator];

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::Ours => "gouvgen",
            Tool::Progenitor => "progenitor",
            Tool::OpenapiGenerator => "openapi-generator",
        }
    }

    pub fn dir(self) -> &'static str {
        match self {
            Tool::Ours => "ours",
            Tool::Progenitor => "progenitor",
            Tool::OpenapiGenerator => "ogen",
        }
    }

    pub fn available(self, ctx: &Ctx) -> bool {
        match self {
            Tool::Ours => ctx.gouvgen.is_file(),
            Tool::Progenitor => ctx.peers_bin().join("bin/cargo-progenitor").is_file(),
            Tool::OpenapiGenerator => ctx.peers_venv().join("bin/openapi-generator-cli").is_file(),
        }
    }

    /// The generation command for `spec` into `out` (which must not exist).
    pub fn command(self, ctx: &Ctx, spec: &Path, out: &Path, crate_name: &str) -> Command {
        match self {
            Tool::Ours => {
                let mut c = Command::new(&ctx.gouvgen);
                c.arg("generate")
                    .arg(spec)
                    .arg("--out")
                    .arg(out)
                    .args(["--crate-name", crate_name, "--runtime-path"])
                    .arg(ctx.root.join("runtime"))
                    .arg("--force");
                c
            }
            Tool::Progenitor => {
                let mut c = Command::new(ctx.peers_bin().join("bin/cargo-progenitor"));
                c.arg("progenitor")
                    .arg("-i")
                    .arg(spec)
                    .arg("-o")
                    .arg(out)
                    .args(["-n", crate_name, "-v", "0.1.0"])
                    .args(["--interface", "positional", "--tags", "merged"])
                    .env("RUST_BACKTRACE", "0");
                c
            }
            Tool::OpenapiGenerator => {
                let mut c = Command::new(ctx.peers_venv().join("bin/openapi-generator-cli"));
                c.args(["generate", "-g", "rust", "--library", "reqwest", "-i"])
                    .arg(spec)
                    .arg("-o")
                    .arg(out)
                    .arg("--additional-properties")
                    .arg(format!("packageName={crate_name},packageVersion=0.1.0"));
                c
            }
        }
    }

    /// Generates once into a fresh `out`; the wall time and, on failure, the first error.
    pub fn generate(
        self,
        ctx: &Ctx,
        spec: &Path,
        out: &Path,
        crate_name: &str,
    ) -> (Duration, Result<(), String>) {
        let _ = std::fs::remove_dir_all(out);
        if let Some(parent) = out.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let (t, o) = ctx::timed(&mut self.command(ctx, spec, out, crate_name));
        if o.status.success() && out.join("Cargo.toml").is_file() {
            (t, Ok(()))
        } else {
            (t, Err(failure_reason(&o)))
        }
    }

    pub fn version(self, ctx: &Ctx) -> String {
        match self {
            Tool::Ours => ctx::capture(Command::new(&ctx.gouvgen).arg("--version")),
            Tool::Progenitor => std::fs::read_to_string(ctx.peers_bin().join(".crates.toml"))
                .ok()
                .and_then(|t| {
                    t.lines()
                        .find_map(|l| l.strip_prefix("\"cargo-progenitor "))
                        .and_then(|r| r.split_whitespace().next())
                        .map(|v| format!("cargo-progenitor {v}"))
                })
                .unwrap_or_else(|| "not installed".into()),
            Tool::OpenapiGenerator => {
                let v = ctx::capture(
                    Command::new(ctx.peers_venv().join("bin/openapi-generator-cli")).arg("version"),
                );
                let v = v.lines().last().unwrap_or("").trim().to_string();
                if v.is_empty() {
                    "not installed".into()
                } else {
                    format!("openapi-generator {v} (rust, --library reqwest)")
                }
            }
        }
    }
}

/// The first error of a failed generator run. progenitor says only "generation experienced
/// errors" on stderr; its reason is on stdout, in a `gen fail: …` line.
pub fn failure_reason(o: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&o.stdout);
    match stdout.lines().find(|l| l.starts_with("gen fail:")) {
        Some(reason) => ctx::shorten(reason, 160),
        None => ctx::first_error(&String::from_utf8_lossy(&o.stderr)),
    }
}

/// Installs the peers with `../shared/peers/setup.sh` when one is missing (pinned versions).
pub fn setup_peers(ctx: &Ctx) {
    if PEERS.iter().all(|t| t.available(ctx)) {
        log("peers already installed");
        return;
    }
    let script = ctx.shared.join("peers/setup.sh");
    log(format!("installing peers with {}", script.display()));
    let status = Command::new("bash")
        .arg(&script)
        .current_dir(ctx.shared.join("peers"))
        .env(
            "PROGENITOR_VERSION",
            std::env::var("PROGENITOR_VERSION").unwrap_or_else(|_| "0.15.1".into()),
        )
        .env(
            "OPENAPI_GENERATOR_VERSION",
            std::env::var("OPENAPI_GENERATOR_VERSION").unwrap_or_else(|_| "7.26.0".into()),
        )
        .status();
    if !matches!(status, Ok(s) if s.success()) {
        log("setup.sh failed: the missing peers are left out of the tables");
    }
}

/// Builds our CLI in the bench's own profile, next to the bench binary where [`Ctx::gouvgen`]
/// looks for it: release for measuring (the binary users run), debug for trying the bench out.
pub fn build_ours(ctx: &Ctx) -> bool {
    let release = !cfg!(debug_assertions);
    log(if release {
        "building gouvgen (release)"
    } else {
        "building gouvgen (debug: a debug bench measures nothing)"
    });
    let mut args = vec!["build", "-p", "gouvgen-cli", "--bin", "gouvgen"];
    if release {
        args.insert(1, "--release");
    }
    let st = Command::new(&ctx.cargo)
        .current_dir(&ctx.root)
        .args(args)
        .status();
    matches!(st, Ok(s) if s.success()) && ctx.gouvgen.is_file()
}
