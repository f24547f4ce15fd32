//! Layer 1, `core`: what every other layer needs and that needs nothing of the runtime:
//! secrets and scrubbing, the clock, correlation IDs, body size limits, the registry of
//! process-wide state and the mutex-poison policy.
pub mod body;
pub mod correlation;
pub(crate) mod registry;
pub mod scrub;
pub mod secret;
pub(crate) mod sync;
pub mod time;
