//! Type names Rust or the generated crate already use, and the one place that renames a
//! schema that takes one.
//!
//! The model names a type as the document does (`Error`, `String`); here, before anything
//! prints a type, a taken name gets a `Schema` suffix (`ErrorSchema`), and the type keeps
//! the document's name in `renamed_from`, so docs and `diff` can say why the Rust name
//! differs from the schema's.

use crate::model::Api;
use crate::naming::Namer;

/// Names a generated type must not take: the prelude and the std names generated code
/// writes unqualified (a `String` schema would shadow `String` in the `types` module), and
/// names a caller meets next to the generated types: `Error` (`gouvgen_runtime::Error`,
/// `std::error::Error`) and `Client` (the crate's client).
pub const TAKEN_TYPE_NAMES: &[&str] = &[
    "String",
    "Option",
    "Result",
    "Vec",
    "Box",
    "Some",
    "None",
    "Ok",
    "Err",
    "Default",
    "Clone",
    "Copy",
    "Debug",
    "PartialEq",
    "Eq",
    "PartialOrd",
    "Ord",
    "Hash",
    "From",
    "Into",
    "TryFrom",
    "TryInto",
    "Iterator",
    "IntoIterator",
    "Extend",
    "FromIterator",
    "ToString",
    "ToOwned",
    "AsRef",
    "AsMut",
    "Send",
    "Sync",
    "Sized",
    "Unpin",
    "Drop",
    "Fn",
    "FnMut",
    "FnOnce",
    "DoubleEndedIterator",
    "ExactSizeIterator",
    "Error",
    "Client",
];

/// Renames every type of `api` whose name is taken to `{name}Schema` (with a number if that
/// is taken too), in type order, so the result is deterministic. Idempotent: run it again
/// after a caller renames types (`gouvgen::Builder::rename_type`).
pub fn settle_type_names(api: &mut Api) {
    let types = &mut api.types.types;
    if !types
        .iter()
        .any(|t| TAKEN_TYPE_NAMES.contains(&t.name.as_str()))
    {
        return;
    }
    let mut names = Namer::with_reserved(TAKEN_TYPE_NAMES);
    for t in types.iter() {
        if !TAKEN_TYPE_NAMES.contains(&t.name.as_str()) {
            names.unique(&t.name, "");
        }
    }
    for t in types.iter_mut() {
        if TAKEN_TYPE_NAMES.contains(&t.name.as_str()) {
            let name = names.unique(&format!("{}Schema", t.name), "");
            t.renamed_from = Some(std::mem::replace(&mut t.name, name));
        }
    }
}

/// Why a type's Rust name differs from the document's, for docs and `diff`; `None` when it
/// does not.
pub fn rename_reason(renamed_from: Option<&str>) -> Option<String> {
    renamed_from
        .map(|from| format!("renamed: `{from}` is a name Rust or the generated crate already uses"))
}
