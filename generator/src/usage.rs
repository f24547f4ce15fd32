//! Crate-level usage docs of shipped clients: how to build the client for each environment
//! of its gateway and make a first call, as a doctest that is compiled (not run).

use crate::manifest::ClientEntry;

/// Markdown appended to a generated crate's docs.
pub fn usage_doc(entry: &ClientEntry) -> String {
    let _ = entry;
    String::new()
}
