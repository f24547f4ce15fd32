//! The loopback harness of measures 5 and 6: a scratch release binary holding our client and
//! progenitor's, both generated from `tests/bench/bench-api.yaml`, plus a bare reqwest call and
//! an in-process axum server (source: `tests/bench/harness/main.rs`).

use std::path::PathBuf;
use std::process::Command;

use crate::ctx::{self, Ctx, log};
use crate::m1_compiles::package_name;
use crate::tools::Tool;

pub struct Harness {
    pub bin: PathBuf,
    pub with_progenitor: bool,
}

const MAIN: &str = include_str!("../harness/main.rs");

/// Generates the two clients, writes the scratch crate and builds it in release.
pub fn build(ctx: &Ctx) -> Result<Harness, String> {
    let dir = ctx.scratch.join("harness");
    let spec = ctx.root.join("tests/bench/bench-api.yaml");
    let ours_dir = dir.join("ours-client");
    let (_, r) = Tool::Ours.generate(ctx, &spec, &ours_dir, "bench-api-gouvgen");
    r.map_err(|e| format!("gouvgen on bench-api.yaml: {e}"))?;
    let prog_dir = dir.join("prog-client");
    let with_progenitor = Tool::Progenitor.available(ctx)
        && Tool::Progenitor
            .generate(ctx, &spec, &prog_dir, "bench_api_progenitor")
            .1
            .is_ok();
    let ours_pkg = package_name(&ours_dir).ok_or("no package name in our client")?;
    let mut manifest = format!(
        "# Written by gouvgen-bench (measures 5 and 6).\n\
         [package]\nname = \"bench-harness\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\n\
         ours_client = {{ package = \"{ours_pkg}\", path = \"ours-client\" }}\n\
         gouvgen-runtime = {{ path = \"{runtime}\", features = [\"redis\", \"otel\"] }}\n\
         opentelemetry_sdk = {{ version = \"0.33\", default-features = false, features = [\"trace\", \"metrics\", \"testing\"] }}\n\
         reqwest = {{ version = \"0.13\", features = [\"json\"] }}\n\
         tokio = {{ version = \"1\", features = [\"full\"] }}\n\
         axum = \"0.8\"\nbytes = \"1\"\n\
         serde = {{ version = \"1\", features = [\"derive\"] }}\nserde_json = \"1\"\n",
        runtime = ctx.root.join("runtime").display()
    );
    if with_progenitor {
        let prog_pkg = package_name(&prog_dir).ok_or("no package name in progenitor's client")?;
        manifest.push_str(&format!(
            "prog_client = {{ package = \"{prog_pkg}\", path = \"prog-client\", optional = true }}\n\n\
             [features]\ndefault = [\"prog\"]\nprog = [\"dep:prog_client\"]\n"
        ));
    } else {
        manifest.push_str("\n[features]\nprog = []\n");
    }
    manifest.push_str("\n[workspace]\n\n[profile.release]\ndebug = false\n");
    std::fs::create_dir_all(dir.join("src")).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("Cargo.toml"), manifest).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("src/main.rs"), MAIN).map_err(|e| e.to_string())?;
    log("building the loopback harness (release)");
    let mut cmd = ctx.scratch_cargo(&dir);
    cmd.args(["build", "--release", "--message-format", "short"]);
    let (t, o) = ctx::timed(&mut cmd);
    if !o.status.success() {
        return Err(format!(
            "harness build failed: {}",
            ctx::first_error(&String::from_utf8_lossy(&o.stderr))
        ));
    }
    log(format!("harness built in {}", crate::stats::dur(t)));
    Ok(Harness {
        bin: ctx.scratch_target.join("release/bench-harness"),
        with_progenitor,
    })
}

impl Harness {
    /// Runs the harness and parses its JSON line.
    pub fn run(&self, args: &[String]) -> Result<serde_json::Value, String> {
        let o = Command::new(&self.bin)
            .args(args)
            .output()
            .map_err(|e| e.to_string())?;
        if !o.status.success() {
            return Err(ctx::first_error(&String::from_utf8_lossy(&o.stderr)));
        }
        let text = String::from_utf8_lossy(&o.stdout);
        let line = text.lines().last().unwrap_or("");
        serde_json::from_str(line).map_err(|e| format!("harness output: {e}: {line}"))
    }
}
