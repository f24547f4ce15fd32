//! Layer 1, `core`: what every other layer needs and that needs nothing of the runtime.
pub mod body;
pub mod correlation;
pub mod scrub;
pub mod secret;
