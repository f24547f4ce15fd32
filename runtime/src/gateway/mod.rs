//! Layer 7, `gateway`: what one gateway requires (presets, traceability).
pub mod presets;
pub(crate) mod traceability;
