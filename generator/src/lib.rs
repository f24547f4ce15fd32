//! gouvgen: typed Rust clients from the OpenAPI / Swagger documents of French government API
//! gateways (DGFiP, PISTE, Douane, API Entreprise, API Particulier).
//!
//! The pipeline: [`load`] (files → JSON values) → [`normalise`] (Swagger 2.0 / OpenAPI 3.0 /
//! 3.1 → one dialect) → [`model`] (the intermediate model: types and operations) → [`emit`]
//! (Rust tokens, formatted) → [`output`] (a crate on disk, written atomically).
#![deny(missing_docs)]

pub mod error;
pub mod load;

pub use error::{Diagnostic, Error, Location, Result};
