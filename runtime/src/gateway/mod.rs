//! Layer 7, `gateway`: what one gateway requires: presets (URLs, grants, limits), the
//! traceability parameters of API Entreprise / Particulier, and gateway-specific rules.
pub mod health;
pub mod presets;
pub(crate) mod rules;
pub mod siret;
pub(crate) mod traceability;
