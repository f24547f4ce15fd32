//! The `gouvgen` command line and the work only it does: `sync` over a manifest of clients,
//! usage docs per gateway. Kept out of the `gouvgen` library so that build scripts compile
//! neither clap nor the manifest editor.
#![deny(missing_docs)]

pub mod cli;
#[cfg(feature = "emulate")]
pub mod emulate;
mod gateway;
pub mod manifest;
pub mod sync;
pub mod usage;

pub use cli::main;
