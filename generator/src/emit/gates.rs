//! `#[cfg(feature = …)]` on the items of a method or a type, from the surface's [`Gate`]s.

use proc_macro2::TokenStream;
use quote::quote;

use crate::surface::{Features, Gate};

/// The attribute that compiles an item only under `gate` (nothing when always compiled).
pub fn cfg(gate: &Gate) -> TokenStream {
    let features = gate.0.iter();
    match gate.0.len() {
        0 => quote!(),
        1 => quote!(#[cfg(feature = #(#features)*)]),
        _ => quote!(#[cfg(any(#(feature = #features),*))]),
    }
}

/// Every item of `items` (a struct and its impls, say) under `gate`.
pub fn gated(items: TokenStream, gate: &Gate) -> TokenStream {
    if gate.always() {
        return items;
    }
    let attr = cfg(gate);
    // Emitted tokens always parse as items; should they not, rustc will say where.
    match syn::parse2::<syn::File>(items.clone()) {
        Ok(file) => {
            let items = file.items.iter();
            quote!(#(#attr #items)*)
        }
        Err(_) => items,
    }
}

/// `#[allow(<lint>)]` on an item only items under tag features use (`dead_code`,
/// `unused_imports`): a crate built without any of them leaves it unused.
pub fn allow_without_features(features: &Features, lint: &str) -> Option<TokenStream> {
    let lint = quote::format_ident!("{lint}");
    features.enabled().then(|| quote!(#[allow(#lint)]))
}
