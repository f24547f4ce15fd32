//! `errors.rs` and `responses.rs` of a generated crate: what a call ends with. Every
//! operation has its own `#[non_exhaustive]` error enum from its first version (documenting
//! an error later adds a variant); an operation whose success bodies differ by status has a
//! `#[non_exhaustive]` success enum.

use proc_macro2::TokenStream;
use quote::quote;

use super::gates::{allow_without_features, gated};
use super::idents::ident;
use super::rust_types::{Scope, tokens};
use crate::model::StatusMatch;
use crate::surface::{Method, RustType, Success, Surface};

/// Tokens of the `errors` module.
pub fn errors_file(surface: &Surface) -> TokenStream {
    let items = surface
        .methods
        .iter()
        .zip(&surface.features.methods)
        .map(|(m, gate)| gated(error_enum(m), gate));
    let bodies = surface
        .methods
        .iter()
        .flat_map(|m| m.error.variants.iter().map(|v| &v.ty));
    let runtime = runtime_import(bodies, surface);
    quote! {
        //! The error bodies of every operation: one enum per operation, one variant per
        //! documented body type, in `gouvgen_runtime::Error::Documented`.
        #runtime
        #[allow(unused_imports)]
        use super::types;

        #(#items)*
    }
}

/// `use gouvgen_runtime as rt;` when a body type is the runtime's (`rt::bytes::Bytes`); with
/// features per tag, the operations that use it may all be left out.
fn runtime_import<'a>(
    mut bodies: impl Iterator<Item = &'a RustType>,
    surface: &Surface,
) -> Option<TokenStream> {
    if !bodies.any(RustType::uses_runtime) {
        return None;
    }
    let unused = allow_without_features(&surface.features, "unused_imports");
    Some(quote!(#unused use gouvgen_runtime as rt;))
}

/// Tokens of the `responses` module.
pub fn responses_file(surface: &Surface) -> TokenStream {
    let items = surface
        .methods
        .iter()
        .zip(&surface.features.methods)
        .filter_map(|(m, gate)| success_enum(m).map(|item| gated(item, gate)));
    let bodies = surface.methods.iter().flat_map(|m| match &m.success {
        Success::ByStatus { variants, .. } => {
            variants.iter().filter_map(|(_, ty)| ty.as_ref()).collect()
        }
        Success::Uniform(_) => Vec::new(),
    });
    let runtime = runtime_import(bodies, surface);
    quote! {
        //! Success enums, for the operations whose success bodies differ by status.
        #runtime
        #[allow(unused_imports)]
        use super::types;

        #(#items)*
    }
}

fn status_text(status: StatusMatch) -> String {
    match status {
        StatusMatch::Code(c) => format!("HTTP {c}"),
        StatusMatch::Range(d) => format!("HTTP {d}xx"),
        StatusMatch::Default => "any other status".to_string(),
    }
}

/// The success enum, when bodies differ by status.
fn success_enum(m: &Method) -> Option<TokenStream> {
    let Success::ByStatus { name, variants } = &m.success else {
        return None;
    };
    let name = ident(name);
    let allow = super::types::large_enum_allow(
        variants.len(),
        variants.iter().filter(|(_, ty)| ty.is_some()).count(),
    );
    let variants = variants.iter().map(|(v, ty)| {
        let v = ident(v);
        match ty {
            Some(ty) => {
                let ty = tokens(ty, Scope::Crate);
                quote!(#v(#ty),)
            }
            None => quote!(#v,),
        }
    });
    let doc = format!(
        " Successful responses of [`Client::{0}`](super::Client::{0}), by status.",
        m.name
    );
    // `#[non_exhaustive]`: a success status the document adds later is a new variant, which
    // must not break a caller's `match`.
    Some(quote! {
        #[doc = #doc]
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        #allow
        pub enum #name { #(#variants)* }
    })
}

/// The operation's error type: one variant per documented body type, `#[non_exhaustive]`
/// and present from the first version, so documenting an error later adds a variant.
fn error_enum(m: &Method) -> TokenStream {
    let name = ident(&m.error.name);
    let rate_limited = m.error.rate_limited.as_deref();
    let variants = m.error.variants.iter().map(|v| {
        let variant = ident(&v.name);
        let ty = tokens(&v.ty, Scope::Crate);
        let mut statuses: Vec<String> = v.statuses.iter().map(|s| status_text(*s)).collect();
        if rate_limited == Some(v.name.as_str()) {
            statuses.push("HTTP 429 (in [`gouvgen_runtime::Error::RateLimited`])".into());
        }
        let doc = format!(" Body of {}.", statuses.join(", "));
        quote!(#[doc = #doc] #variant(#ty),)
    });
    let mut doc = format!(
        " Error bodies documented for [`Client::{0}`](super::Client::{0}), in [`gouvgen_runtime::Error::Documented`] (its `error` has the status)",
        m.name
    );
    doc.push_str(match rate_limited {
        Some(_) => "; a 429 stays [`gouvgen_runtime::Error::RateLimited`], its body read by [`gouvgen_runtime::Error::rate_limited_body`].",
        None => ".",
    });
    let allow = super::types::large_enum_allow(m.error.variants.len(), m.error.variants.len());
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone)]
        #allow
        #[non_exhaustive]
        pub enum #name { #(#variants)* }
    }
}
