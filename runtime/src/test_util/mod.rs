//! Test doubles for the runtime's own tests and for crates testing against it (feature
//! `test-util`).
pub mod redis_server;
