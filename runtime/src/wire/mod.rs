//! Layer 3, `wire`: the request and response types generated code touches.
pub mod dates;
pub mod request;
pub mod response;
pub mod retry_after;
