//! A client generated at build time from `api/annuaire.yaml` (which references
//! `api/commun.yaml`), with the `Structure` schema renamed `Organisme`.

/// The generated client.
pub mod annuaire {
    include!(concat!(env!("OUT_DIR"), "/annuaire.rs"));
}
