//! Type expressions as tokens: the one printer of the surface's [`RustType`].

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::model::{Prim, TypeRef, TypeSpace};
use crate::surface::RustType;

/// Where a type expression is written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Anywhere outside the `types` module: generated types are `types::X`.
    Crate,
    /// Inside the `types` module: generated types are `X`.
    Types,
}

/// Tokens of a type expression.
pub fn tokens(ty: &RustType, scope: Scope) -> TokenStream {
    match ty {
        RustType::Path(path, args) => {
            let path = path_tokens(path);
            if args.is_empty() {
                path
            } else {
                let args = args.iter().map(|a| tokens(a, scope));
                quote!(#path<#(#args),*>)
            }
        }
        RustType::Generated(name) => {
            let name = format_ident!("{name}");
            match scope {
                Scope::Crate => quote!(types::#name),
                Scope::Types => quote!(#name),
            }
        }
        // Written where its module's items are glob-imported (`client`, `builders`).
        RustType::Item(_, name) => {
            let name = format_ident!("{name}");
            quote!(#name)
        }
        RustType::Unit => quote!(()),
        RustType::Ref(inner) => {
            let inner = tokens(inner, scope);
            quote!(&#inner)
        }
        RustType::Slice(inner) => {
            let inner = tokens(inner, scope);
            quote!([#inner])
        }
        RustType::ImplInto(inner) => {
            let inner = tokens(inner, scope);
            quote!(impl Into<#inner>)
        }
    }
}

/// The type a request builder stores an argument as: borrowed for the builder's lifetime
/// `'a`, owned for `impl Into<…>` arguments.
pub fn stored_tokens(ty: &RustType, scope: Scope) -> TokenStream {
    match ty {
        RustType::ImplInto(inner) => tokens(inner, scope),
        RustType::Ref(inner) => {
            let inner = tokens(inner, scope);
            quote!(&'a #inner)
        }
        other => tokens(other, scope),
    }
}

/// Tokens of a model type, written outside the `types` module.
pub fn type_tokens(ty: &TypeRef, space: &TypeSpace) -> TokenStream {
    tokens(&RustType::of(ty, space), Scope::Crate)
}

/// `rt::bytes::Bytes` → the idents joined by `::` (paths are ours, never the document's).
fn path_tokens(path: &str) -> TokenStream {
    let segments = path.split("::").map(|s| format_ident!("{s}"));
    quote!(#(#segments)::*)
}

/// Types that can be written in a URL or header as they are.
pub fn is_param_value(ty: &TypeRef, space: &TypeSpace) -> bool {
    match ty {
        TypeRef::Prim(Prim::Object) => false,
        TypeRef::Prim(_) => true,
        TypeRef::Named(id) => match &space.types[*id].kind {
            crate::model::TypeKind::Enum { .. } => true,
            crate::model::TypeKind::Alias(inner) => is_param_value(inner, space),
            _ => false,
        },
        TypeRef::Boxed(inner) => is_param_value(inner, space),
        _ => false,
    }
}
