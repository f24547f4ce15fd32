//! gouvgen: typed Rust clients from the OpenAPI / Swagger documents of French government API
//! gateways (DGFiP, PISTE, Douane, API Entreprise, API Particulier).
//!
//! The pipeline: [`load`] (files → JSON values) → [`normalise`] (Swagger 2.0 / OpenAPI 3.0 /
//! 3.1 → one dialect) → [`model`] (the intermediate model: types and operations) → [`surface`]
//! (the Rust API the crate exposes, as data) → [`emit`] (Rust tokens, formatted) → [`output`] (a crate on disk, written atomically).
//!
//! Everything from [`surface`] on, and the entry points that generate ([`read_spec`],
//! [`generate_crate`], [`build`]), is the default feature `codegen`: without it
//! (`default-features = false`) the crate only loads and models documents, and leaves syn,
//! quote and prettyplease out (the gateway emulator reads documents that way).
#![deny(missing_docs)]
// Without `codegen` the links above name modules that are not built; the default build, which
// docs.rs and the packaging test document, still checks every link.
#![cfg_attr(not(feature = "codegen"), allow(rustdoc::broken_intra_doc_links))]

#[cfg(feature = "codegen")]
pub mod build;
#[cfg(feature = "codegen")]
pub mod diff;
#[cfg(feature = "codegen")]
pub mod emit;
pub mod error;
pub mod load;
pub mod model;
pub mod naming;
pub mod normalise;
pub mod oas;
#[cfg(feature = "codegen")]
pub mod output;
#[cfg(feature = "codegen")]
pub mod surface;

#[cfg(feature = "codegen")]
use std::path::{Path, PathBuf};

/// This gouvgen's version (written in the headers of generated files).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

#[cfg(feature = "codegen")]
use sha2::{Digest, Sha256};

#[cfg(feature = "codegen")]
pub use emit::{CrateSettings, Files, Provenance, RuntimeDep};
pub use error::{Diagnostic, Error, Location, Result};
pub use model::Api;

/// A document read into the model, ready to emit.
#[cfg(feature = "codegen")]
#[derive(Debug, Clone)]
pub struct Spec {
    /// The model.
    pub api: Api,
    /// Non-fatal problems, located.
    pub warnings: Vec<Diagnostic>,
    /// Every file read (root first): what a build script must watch.
    pub inputs: Vec<PathBuf>,
    /// Name and hash of the inputs.
    pub provenance: Provenance,
}

/// Loads and models a document: everything `gouvgen check` does.
#[cfg(feature = "codegen")]
pub fn read_spec(path: &Path) -> Result<Spec> {
    read_spec_with(path, &load::LoadOptions::default())
}

/// [`read_spec`] with loader options (e.g. references outside the document's folder).
#[cfg(feature = "codegen")]
pub fn read_spec_with(path: &Path, options: &load::LoadOptions) -> Result<Spec> {
    on_pipeline_stack(|| read_on_this_thread(path, options))
}

#[cfg(feature = "codegen")]
fn read_on_this_thread(path: &Path, options: &load::LoadOptions) -> Result<Spec> {
    let doc = load::load_document_with(path, options)?;
    let (mut api, warnings) = model::build(&normalise::normalise(&doc)?)?;
    surface::settle_type_names(&mut api);
    if options.strict && !warnings.0.is_empty() {
        let refused = warnings.0.into_iter().map(|w| {
            let hint = w.hint.clone().unwrap_or_default();
            w.hint(format!("{hint} (a warning, refused because of --strict)"))
        });
        return Err(Error::Spec(refused.collect()));
    }
    let mut hasher = Sha256::new();
    for file in &doc.files {
        let bytes =
            std::fs::read(file).map_err(|e| Error::io(file, e, "check the file is readable"))?;
        hasher.update(&bytes);
    }
    let sha256 = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Spec {
        api,
        warnings: warnings.0,
        inputs: doc.files,
        provenance: Provenance { file_name, sha256 },
    })
}

/// The files of a client crate for a document.
#[cfg(feature = "codegen")]
pub fn generate_files(spec: &Spec, settings: &CrateSettings) -> Result<Files> {
    on_pipeline_stack(|| emit::crate_files(&spec.api, settings, &spec.provenance))
}

/// The stack the pipeline's recursive passes run on (loader, model, surface, emit, and syn and
/// prettyplease on the emitted code). The depth limits, such as [`model::types::MAX_DEPTH`],
/// are sized for it, whatever thread calls the library: a test thread has 2 MiB, and an
/// unoptimised build script spends several times the stack per frame of the release CLI.
#[cfg(feature = "codegen")]
const PIPELINE_STACK: usize = 256 << 20;

/// Runs `f` on a thread with [`PIPELINE_STACK`] (only reserved, not committed, memory). If
/// the thread cannot be created, `f` runs on the caller's thread. A panic is passed on as is.
#[cfg(feature = "codegen")]
fn on_pipeline_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let slot = std::sync::Mutex::new(Some(f));
    let take = || slot.lock().unwrap_or_else(|e| e.into_inner()).take();
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("gouvgen".into())
            .stack_size(PIPELINE_STACK)
            .spawn_scoped(scope, || take().map(|f| f()));
        let outcome = match spawned {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => None,
        };
        match outcome {
            Some(value) => value,
            None => take()
                .map(|f| f())
                .expect("the pipeline closure runs exactly once"),
        }
    })
}

/// Reads a document and writes its client crate into `out` (atomically).
#[cfg(feature = "codegen")]
pub fn generate_crate(
    spec_path: &Path,
    out: &Path,
    settings: &CrateSettings,
    force: bool,
) -> Result<Spec> {
    generate_crate_with(
        spec_path,
        out,
        settings,
        force,
        &load::LoadOptions::default(),
    )
}

/// [`generate_crate`] with loader options (e.g. references outside the document's folder).
#[cfg(feature = "codegen")]
pub fn generate_crate_with(
    spec_path: &Path,
    out: &Path,
    settings: &CrateSettings,
    force: bool,
    options: &load::LoadOptions,
) -> Result<Spec> {
    let spec = read_spec_with(spec_path, options)?;
    let files = generate_files(&spec, settings)?;
    output::write_crate(&files, out, force)?;
    Ok(spec)
}
