//! Identifiers and small attributes every module printer of the client shares.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

/// An identifier of the surface (names there are valid Rust identifiers).
pub fn ident(name: &str) -> proc_macro2::Ident {
    format_ident!("{name}")
}

/// The field of a request builder holding an argument or an optional parameter.
pub fn field_ident(name: &str) -> proc_macro2::Ident {
    match name {
        "client" | "options" => format_ident!("{name}_"),
        other => format_ident!("{other}"),
    }
}

/// `#[deprecated]` for an item the document deprecates.
pub fn deprecated(yes: bool) -> TokenStream {
    if yes {
        quote!(#[deprecated(note = "deprecated in the API document")])
    } else {
        quote!()
    }
}
