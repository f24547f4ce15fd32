//! Parameters that are not plain scalars (objects, unions, arrays of non-scalars, delimited
//! arrays): written through the runtime's OpenAPI `style` serialiser.

use proc_macro2::TokenStream;
use quote::quote;

use super::rust_types::is_param_value;
use crate::model::{Param, ParamIn, ParamStyle, TypeRef, TypeSpace};

/// Whether a parameter goes through `rt::ParamValue` as it is (scalars and arrays of them).
fn plain(p: &Param, space: &TypeSpace) -> bool {
    match &p.ty {
        TypeRef::Vec(items) => {
            is_param_value(items, space)
                && !matches!(
                    p.style,
                    ParamStyle::SpaceDelimited | ParamStyle::PipeDelimited
                )
        }
        ty => is_param_value(ty, space),
    }
}

fn style_tokens(style: ParamStyle) -> TokenStream {
    match style {
        ParamStyle::Form => quote!(rt::ParamStyle::Form),
        ParamStyle::Simple => quote!(rt::ParamStyle::Simple),
        ParamStyle::DeepObject => quote!(rt::ParamStyle::DeepObject),
        ParamStyle::SpaceDelimited => quote!(rt::ParamStyle::SpaceDelimited),
        ParamStyle::PipeDelimited => quote!(rt::ParamStyle::PipeDelimited),
    }
}

/// The chained call adding a query or header parameter that is not plain; `None` for plain
/// parameters and cookies (written as before).
/// `value` is the expression holding the parameter (an `Option` when it is optional).
pub fn styled_call(p: &Param, space: &TypeSpace, value: &TokenStream) -> Option<TokenStream> {
    if plain(p, space) {
        return None;
    }
    let name = &p.name;
    let value = quote!(&#value);
    let explode = p.explode;
    match p.location {
        ParamIn::Query => {
            let style = style_tokens(p.style);
            Some(quote!(.query_styled(#name, #value, #style, #explode)))
        }
        ParamIn::Header => Some(quote!(.header_styled(#name, #value, #explode))),
        ParamIn::Path | ParamIn::Cookie => None,
    }
}

/// The encoded path segment (a `String`) of the path parameter held by `ident`.
pub fn path_arg(p: &Param, space: &TypeSpace, ident: TokenStream) -> TokenStream {
    if plain(p, space) {
        return match &p.ty {
            TypeRef::Vec(_) => {
                quote!(rt::encode_path(&#ident.iter().map(rt::ParamValue::to_param).collect::<Vec<_>>().join(",")))
            }
            _ => quote!(rt::encode_path(&#ident)),
        };
    }
    let explode = p.explode;
    quote!(rt::encode_path_styled(&#ident, #explode))
}
