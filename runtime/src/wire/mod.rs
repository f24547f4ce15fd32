//! Layer 3, `wire`: the request and response types generated code touches.
pub mod dates;
/// Parameters of any shape (arrays, objects, unions) by OpenAPI style.
pub mod params;
pub(crate) mod quota;
pub mod request;
pub mod response;
pub mod retry_after;
