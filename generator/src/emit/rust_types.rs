//! Type expressions as tokens.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::model::{Prim, TypeRef, TypeSpace};

/// Where a type expression is written (outside the `types` module, which prints the surface's
/// types instead).
#[derive(Clone, Copy)]
pub enum Scope {
    /// Anywhere else in the crate.
    Crate,
}

/// Tokens of a type expression.
pub fn type_tokens(ty: &TypeRef, space: &TypeSpace, scope: Scope) -> TokenStream {
    match ty {
        TypeRef::Prim(p) => prim_tokens(*p),
        TypeRef::Named(id) => {
            let name = format_ident!("{}", space.types[*id].name);
            match scope {
                Scope::Crate => quote!(types::#name),
            }
        }
        TypeRef::Vec(inner) => {
            let inner = type_tokens(inner, space, scope);
            quote!(Vec<#inner>)
        }
        TypeRef::Map(inner) => {
            let inner = type_tokens(inner, space, scope);
            quote!(std::collections::BTreeMap<String, #inner>)
        }
        TypeRef::Option(inner) => {
            let inner = type_tokens(inner, space, scope);
            quote!(Option<#inner>)
        }
        TypeRef::Boxed(inner) => {
            let inner = type_tokens(inner, space, scope);
            quote!(Box<#inner>)
        }
    }
}

/// Tokens of a scalar. Binary data inside JSON is base64 text, hence `String`.
pub fn prim_tokens(p: Prim) -> TokenStream {
    match p {
        Prim::String | Prim::Binary => quote!(String),
        Prim::Bool => quote!(bool),
        Prim::I8 => quote!(i8),
        Prim::I16 => quote!(i16),
        Prim::I32 => quote!(i32),
        Prim::I64 => quote!(i64),
        Prim::U8 => quote!(u8),
        Prim::U16 => quote!(u16),
        Prim::U32 => quote!(u32),
        Prim::U64 => quote!(u64),
        Prim::F32 => quote!(f32),
        Prim::F64 => quote!(f64),
        Prim::Date => quote!(rt::Date),
        Prim::DateTime => quote!(rt::DateTime),
        Prim::Uuid => quote!(rt::uuid::Uuid),
        Prim::Any => quote!(rt::serde_json::Value),
        Prim::Object => quote!(rt::serde_json::Map<String, rt::serde_json::Value>),
    }
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
