//! The `gouvgen` command line: argument parsing and reports; the work is in the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use gouvgen::load::LoadOptions;
use gouvgen::{CrateSettings, RuntimeDep};

use crate::gateway::GatewayArg;

#[derive(Parser)]
#[command(
    name = "gouvgen",
    version,
    about = "Typed Rust clients for French government API gateways"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// `--formatter` values (kept here so the library needs no clap).
#[derive(Clone, Copy, clap::ValueEnum)]
enum Layout {
    Rustfmt,
    Prettyplease,
}

/// What `gouvgen generate` takes.
#[derive(clap::Args)]
struct GenerateArgs {
    /// The document (JSON or YAML; Swagger 2.0, OpenAPI 3.0 or 3.1).
    spec: PathBuf,
    /// Output folder of the crate (replaced atomically).
    #[arg(long)]
    out: PathBuf,
    /// Crate name (default: from the document's file name).
    #[arg(long)]
    crate_name: Option<String>,
    /// Crate version.
    #[arg(long, default_value = "0.1.0")]
    crate_version: String,
    /// Depend on gouvgen-runtime by path (relative to the output folder).
    #[arg(long, conflicts_with = "runtime_version")]
    runtime_path: Option<String>,
    /// Depend on gouvgen-runtime by version (default: this gouvgen's version).
    #[arg(long)]
    runtime_version: Option<String>,
    /// Replace the output folder even if gouvgen did not create it.
    #[arg(long)]
    force: bool,
    /// Layout of the sources: rustfmt's (needs the rustfmt component), or prettyplease's
    /// (no outside program).
    #[arg(long, value_enum, default_value_t = Layout::Rustfmt)]
    formatter: Layout,
    /// One Cargo feature per tag of the document: callers compile only the operations of
    /// the tags they turn on (and the types those reach).
    #[arg(long)]
    features_per_tag: bool,
    /// With --features-per-tag: the features (or tags) on by default, comma-separated
    /// (default: all).
    #[arg(long, value_delimiter = ',', requires = "features_per_tag")]
    default_features: Option<Vec<String>>,
    #[command(flatten)]
    refs: RefAccess,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a client crate from an OpenAPI / Swagger document.
    Generate(GenerateArgs),
    /// Validate a document and list its warnings.
    Check {
        /// The document.
        spec: PathBuf,
        #[command(flatten)]
        refs: RefAccess,
    },
    /// Regenerate every client listed in specs/manifest.toml.
    Sync {
        /// Change nothing; exit 1 naming each stale file.
        #[arg(long)]
        check: bool,
        /// Repository root (holding specs/manifest.toml and runtime/).
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
    /// Serve documents as an emulated gateway on 127.0.0.1 until Ctrl-C (test without
    /// credentials): prints the client builder lines, logs each call on one line. Needs the
    /// cargo feature `emulate` (on by default).
    Emulate {
        /// The documents to serve (OpenAPI 3.x or Swagger 2.0, JSON or YAML).
        #[arg(required_unless_present = "fixtures")]
        specs: Vec<PathBuf>,
        /// The gateway to behave like.
        #[arg(long, value_enum)]
        gateway: GatewayArg,
        /// Port on 127.0.0.1 (default: a free one).
        #[arg(long)]
        port: Option<u16>,
        /// A TOML scenario: forced errors, throttle, outage, latency, darkness, quota.
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// Also serve the cases of a folder in the providers' staging format
        /// (etalab/siade_staging_data: its root or its `payloads` folder; repeatable): a request
        /// whose parameters match a case gets its status and payload. API Entreprise and API
        /// Particulier only.
        #[arg(long, value_name = "DIR")]
        fixtures: Vec<PathBuf>,
        #[command(flatten)]
        refs: RefAccess,
    },
    /// Report what changed for users of the generated client between two documents.
    Diff {
        /// The previous document.
        old: PathBuf,
        /// The new document.
        new: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Exit with status 2 when a change is breaking.
        #[arg(long)]
        fail_on_breaking: bool,
        /// The crates have one Cargo feature per tag (`generate --features-per-tag`): a tag
        /// removed, or an operation moved to another tag, breaks callers.
        #[arg(long)]
        features_per_tag: bool,
        #[command(flatten)]
        refs: RefAccess,
    },
}

/// How a document is read (every command that reads one): which files its external
/// references may read, and whether a warning refuses it.
#[derive(clap::Args, Clone, Default)]
struct RefAccess {
    /// Let external `$ref`s also read files under DIR and its subfolders (repeatable). By
    /// default a document reads only its own folder; `--allow-refs-outside /` allows any
    /// file. (`gouvgen sync` reads `allow_refs_outside = [...]` from each manifest entry.)
    #[arg(long = "allow-refs-outside", value_name = "DIR", value_parser = existing_folder)]
    allow_refs_outside: Vec<PathBuf>,
    /// Refuse the document on any warning (a dangling `$ref` typed as a JSON value, an
    /// Express-style path read as a template…), each reported as a located error.
    #[arg(long)]
    strict: bool,
}

impl RefAccess {
    fn options(&self) -> LoadOptions {
        LoadOptions {
            allowed_ref_dirs: self.allow_refs_outside.clone(),
            strict: self.strict,
            ..LoadOptions::default()
        }
    }
}

/// A folder that exists (a typo must not read as "outside the document's folder" later).
fn existing_folder(text: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(text);
    if path.is_dir() {
        Ok(path)
    } else {
        Err(format!("`{text}` is not an existing folder"))
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

/// Runs the command line with the process arguments.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Generate(args) => generate(args),
        Command::Check { spec, refs } => check(&spec, &refs),
        Command::Sync { check, root } => {
            return match crate::sync::sync(&crate::sync::Layout::at(&root), check) {
                Ok(outcomes) => report_sync(&outcomes, check),
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        Command::Emulate {
            specs,
            gateway,
            port,
            scenario,
            fixtures,
            refs,
        } => return emulate(&specs, gateway, port, scenario, &fixtures, &refs),
        Command::Diff {
            old,
            new,
            format,
            fail_on_breaking,
            features_per_tag,
            refs,
        } => {
            return match diff(&old, &new, format, features_per_tag, &refs.options()) {
                Ok(breaking) if breaking > 0 && fail_on_breaking => ExitCode::from(2),
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            };
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `gouvgen generate`: one crate from one document.
fn generate(args: GenerateArgs) -> gouvgen::error::Result<()> {
    let GenerateArgs {
        spec,
        out,
        crate_name,
        crate_version,
        runtime_path,
        runtime_version,
        force,
        formatter,
        features_per_tag,
        default_features,
        refs,
    } = args;
    let name = crate_name.unwrap_or_else(|| default_crate_name(&spec));
    let mut settings = CrateSettings::new(name);
    settings.formatter = match formatter {
        Layout::Rustfmt => gouvgen::emit::Formatter::Rustfmt,
        Layout::Prettyplease => gouvgen::emit::Formatter::Prettyplease,
    };
    settings.version = crate_version;
    settings.features_per_tag = features_per_tag;
    settings.default_features = default_features;
    let runtime_version_req =
        runtime_version.unwrap_or_else(|| gouvgen::emit::RUNTIME_VERSION.to_string());
    settings.runtime = match runtime_path {
        Some(path) => RuntimeDep::Path {
            path,
            version: runtime_version_req,
        },
        None => RuntimeDep::Version(runtime_version_req),
    };
    let s = gouvgen::generate_crate_with(&spec, &out, &settings, force, &refs.options())?;
    print_warnings(&s.warnings);
    eprintln!(
        "generated {} ({} operations, {} types) in {}",
        settings.name,
        s.api.operations.len(),
        s.api.types.types.len(),
        out.display()
    );
    Ok(())
}

/// `gouvgen check`: the document's warnings and a one-line summary.
fn check(spec: &std::path::Path, refs: &RefAccess) -> gouvgen::error::Result<()> {
    let s = gouvgen::read_spec_with(spec, &refs.options())?;
    print_warnings(&s.warnings);
    println!(
        "{}: {} {} ({}), {} operations, {} types, {} warnings",
        spec.display(),
        s.api.title,
        s.api.version,
        s.api.dialect.name(),
        s.api.operations.len(),
        s.api.types.types.len(),
        s.warnings.len()
    );
    Ok(())
}

fn report_sync(outcomes: &[crate::sync::ClientOutcome], check: bool) -> ExitCode {
    let mut stale = 0;
    for o in outcomes {
        let state = match (check, o.stale.is_empty()) {
            (_, true) => "up to date".to_string(),
            (true, false) => format!("STALE ({} files)", o.stale.len()),
            (false, false) => format!("regenerated ({} files)", o.stale.len()),
        };
        let version = if o.version.0 == o.version.1 {
            o.version.0.clone()
        } else {
            format!("{} → {} ({} bump)", o.version.0, o.version.1, o.bump)
        };
        println!(
            "{:<40} {:>3} operations  {version}  {state}",
            o.crate_name, o.operations
        );
        if check {
            for f in &o.stale {
                println!("  stale: {}", f.display());
            }
            if let Some((recorded, here)) = &o.layout_mismatch {
                println!(
                    "  note: laid out by {recorded}; this machine has {here}: the difference may be layout only (use that rustfmt, or regenerate and commit)"
                );
            }
        }
        stale += o.stale.len();
    }
    if check && stale > 0 {
        eprintln!(
            "error: {stale} generated files are stale\n  help: run `gouvgen sync` and commit the result"
        );
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Prints the report; returns the number of breaking changes (in Rust or on the wire).
fn diff(
    old: &std::path::Path,
    new: &std::path::Path,
    format: Format,
    features_per_tag: bool,
    options: &LoadOptions,
) -> gouvgen::Result<usize> {
    let old = gouvgen::read_spec_with(old, options)?;
    let new = gouvgen::read_spec_with(new, options)?;
    let report = gouvgen::diff::compare_with(&old.api, &new.api, features_per_tag);
    match format {
        Format::Text => print!("{}", report.to_text()),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        ),
    }
    Ok(report.changes.iter().filter(|c| c.breaking).count())
}

/// `gouvgen emulate`: serves until Ctrl-C.
#[cfg(feature = "emulate")]
fn emulate(
    specs: &[PathBuf],
    gateway: GatewayArg,
    port: Option<u16>,
    scenario: Option<PathBuf>,
    fixtures: &[PathBuf],
    refs: &RefAccess,
) -> ExitCode {
    let served = crate::emulate::Served {
        specs,
        fixtures,
        options: &refs.options(),
    };
    match crate::emulate::run(&served, gateway, port, scenario.as_deref()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `gouvgen emulate` in a build without the emulator: says which feature brings it.
#[cfg(not(feature = "emulate"))]
fn emulate(
    _specs: &[PathBuf],
    _gateway: GatewayArg,
    _port: Option<u16>,
    _scenario: Option<PathBuf>,
    _fixtures: &[PathBuf],
    _refs: &RefAccess,
) -> ExitCode {
    eprintln!("{EMULATE_NOT_BUILT}");
    ExitCode::FAILURE
}

/// What `gouvgen emulate` says when the binary was built without the `emulate` feature.
pub const EMULATE_NOT_BUILT: &str = "error: `gouvgen emulate` is not in this build of gouvgen: \
it needs the cargo feature `emulate` of gouvgen-cli (on by default)
  help: cargo install gouvgen-cli --features emulate, or build without --no-default-features";

fn print_warnings(warnings: &[gouvgen::Diagnostic]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

fn default_crate_name(spec: &std::path::Path) -> String {
    let stem = spec
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = gouvgen::naming::snake(&stem).replace('_', "-");
    if name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        name
    } else {
        format!("client-{name}")
    }
}
