//! `types.rs` of a generated crate: one Rust item per named type.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use super::docs::{code, doc_lines, lines_to_attrs};
use super::rust_types::{Scope, type_tokens};
use crate::model::{Field, NamedType, Prim, TypeKind, TypeRef, TypeSpace, UnionVariant};
use crate::naming::snake;

const SERDE_CRATE: &str = "gouvgen_runtime::serde";

/// Tokens of the whole `types` module.
pub fn types_file(space: &TypeSpace) -> TokenStream {
    let mut items = Vec::new();
    let mut defaults = Defaults::default();
    for ty in &space.types {
        items.push(named_type(ty, space, &mut defaults));
    }
    let defaults = defaults.items;
    // Only aliases (or nothing): `rt` may go unused.
    let rt_allow = if space
        .types
        .iter()
        .all(|t| matches!(t.kind, TypeKind::Alias(_)))
    {
        quote!(#[allow(unused_imports)])
    } else {
        quote!()
    };
    let defaults_mod = if defaults.is_empty() {
        quote!()
    } else {
        quote! {
            /// Default values the document gives for absent fields.
            mod defaults {
                #[allow(unused_imports)]
                use super::*;
                #(#defaults)*
            }
        }
    };
    quote! {
        //! Types of the API's bodies, named after the document's schemas.
        #![allow(clippy::large_enum_variant)]
        #rt_allow
        use gouvgen_runtime as rt;
        #(#items)*
        #defaults_mod
    }
}

fn header_doc(ty: &NamedType) -> TokenStream {
    let mut lines = ty.doc.as_deref().map(doc_lines).unwrap_or_default();
    if let Some(original) = &ty.original
        && original != &ty.name
    {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push(format!("Schema {} in the document.", code(original)));
    }
    lines_to_attrs(&lines)
}

/// Default-value functions, with names unique in the `defaults` module (`FooBar.baz` and
/// `Foo.bar_baz` would both be `foo_bar_baz`).
#[derive(Default)]
struct Defaults {
    items: Vec<TokenStream>,
    names: crate::naming::Namer,
}

fn named_type(ty: &NamedType, space: &TypeSpace, defaults: &mut Defaults) -> TokenStream {
    let doc = header_doc(ty);
    let name = format_ident!("{}", ty.name);
    match &ty.kind {
        TypeKind::Alias(target) => {
            let target = type_tokens(target, space, Scope::Types);
            quote! { #doc pub type #name = #target; }
        }
        TypeKind::Struct { fields, extra } => {
            structure(&ty.name, doc, fields, extra.as_ref(), space, defaults)
        }
        TypeKind::Enum { variants, unknown } => open_enum(&name, doc, variants, unknown),
        TypeKind::Union {
            variants,
            discriminator,
        } => union(&name, doc, variants, discriminator.as_deref(), space),
    }
}

fn structure(
    type_name: &str,
    doc: TokenStream,
    fields: &[Field],
    extra: Option<&TypeRef>,
    space: &TypeSpace,
    defaults: &mut Defaults,
) -> TokenStream {
    let name = format_ident!("{type_name}");
    let mut all_optional = extra.is_none();
    let mut tokens = Vec::new();
    for field in fields {
        let fname = format_ident!("{}", field.name);
        let ty = type_tokens(&field.ty, space, Scope::Types);
        let mut attrs = Vec::new();
        if field.name != field.original {
            let original = &field.original;
            attrs.push(quote!(rename = #original));
        }
        let is_option = matches!(field.ty, TypeRef::Option(_));
        if let Some(default) = &field.default {
            let fn_name = defaults
                .names
                .unique(&snake(&format!("{type_name} {}", field.name)), "_");
            let fn_ident = format_ident!("{fn_name}");
            let value = default_value(default, &field.ty, space);
            defaults
                .items
                .push(quote! { pub(super) fn #fn_ident() -> #ty { #value } });
            let path = format!("defaults::{fn_name}");
            attrs.push(quote!(default = #path));
            all_optional = false;
        } else if is_option && !field.required {
            attrs.push(quote!(default, skip_serializing_if = "Option::is_none"));
        } else if !is_option {
            all_optional = false;
        }
        let serde_attr = if attrs.is_empty() {
            quote!()
        } else {
            quote!(#[serde(#(#attrs),*)])
        };
        let mut lines = field.doc.as_deref().map(doc_lines).unwrap_or_default();
        if field.name != field.original {
            if !lines.is_empty() {
                lines.push(String::new());
            }
            lines.push(format!("JSON name: {}.", code(&field.original)));
        }
        if field.deprecated {
            lines.push(String::new());
            lines.push("**Deprecated** in the document.".into());
        }
        let field_doc = lines_to_attrs(&lines);
        tokens.push(quote! { #field_doc #serde_attr pub #fname: #ty, });
    }
    if let Some(extra) = extra {
        let ty = type_tokens(extra, space, Scope::Types);
        let taken: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        let extra_name = if taken.contains(&"additional_properties") {
            "additional_properties_"
        } else {
            "additional_properties"
        };
        let ident = format_ident!("{extra_name}");
        tokens.push(quote! {
            /// Properties not declared in the schema (`additionalProperties`).
            #[serde(flatten)]
            pub #ident: std::collections::BTreeMap<String, #ty>,
        });
    }
    let default_derive = if all_optional {
        quote!(Default,)
    } else {
        quote!()
    };
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, #default_derive rt::serde::Serialize, rt::serde::Deserialize)]
        #[serde(crate = #SERDE_CRATE)]
        pub struct #name { #(#tokens)* }
    }
}

fn default_value(value: &Value, ty: &TypeRef, space: &TypeSpace) -> TokenStream {
    match (value, ty) {
        (Value::Bool(b), _) => quote!(#b),
        (Value::Number(n), TypeRef::Prim(p)) => {
            let lit = match p {
                Prim::F32 | Prim::F64 => {
                    let f = n.as_f64().unwrap_or_default();
                    let text = if f.fract() == 0.0 {
                        format!("{f:.1}")
                    } else {
                        f.to_string()
                    };
                    syn::parse_str::<TokenStream>(&text).unwrap_or_else(|_| quote!(0.0))
                }
                _ => syn::parse_str::<TokenStream>(&n.to_string()).unwrap_or_else(|_| quote!(0)),
            };
            quote!(#lit)
        }
        (Value::String(s), TypeRef::Named(id)) => {
            let enum_name = format_ident!("{}", space.types[*id].name);
            quote!(#enum_name::from(#s.to_string()))
        }
        (Value::String(s), _) => quote!(#s.to_string()),
        _ => quote!(Default::default()),
    }
}

fn open_enum(
    name: &proc_macro2::Ident,
    doc: TokenStream,
    variants: &[crate::model::EnumVariant],
    unknown: &str,
) -> TokenStream {
    let unknown = format_ident!("{unknown}");
    let idents: Vec<_> = variants
        .iter()
        .map(|v| format_ident!("{}", v.name))
        .collect();
    let values: Vec<&str> = variants.iter().map(|v| v.value.as_str()).collect();
    let docs = values.iter().map(|v| {
        let d = format!(" {}", code(v));
        quote!(#[doc = #d])
    });
    quote! {
        #doc
        ///
        /// Open enum: a value the provider adds later is kept in the last variant instead of
        /// failing to decode.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, rt::serde::Serialize, rt::serde::Deserialize)]
        #[serde(crate = #SERDE_CRATE, from = "String", into = "String")]
        pub enum #name {
            #( #docs #idents, )*
            /// A value this client does not know; the raw value is kept.
            #unknown(String),
        }
        impl #name {
            /// The value as written on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    #( Self::#idents => #values, )*
                    Self::#unknown(value) => value,
                }
            }
        }
        impl From<String> for #name {
            fn from(value: String) -> Self {
                match value.as_str() {
                    #( #values => Self::#idents, )*
                    _ => Self::#unknown(value),
                }
            }
        }
        impl From<#name> for String {
            fn from(value: #name) -> Self {
                match value {
                    #name::#unknown(value) => value,
                    known => known.as_str().to_string(),
                }
            }
        }
        impl std::fmt::Display for #name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl rt::ParamValue for #name {
            fn to_param(&self) -> String {
                self.as_str().to_string()
            }
        }
    }
}

/// The catch-all variant of a tagged union: `Other`, or the first of `OtherValue`,
/// `OtherValue2`, … that no alternative takes.
fn catch_all_name(variants: &[UnionVariant]) -> String {
    let taken = |n: &str| variants.iter().any(|v| v.name == n);
    if !taken("Other") {
        return "Other".into();
    }
    (1..)
        .map(|i| {
            if i == 1 {
                "OtherValue".to_string()
            } else {
                format!("OtherValue{i}")
            }
        })
        .find(|n| !taken(n))
        .expect("a free name exists")
}

fn union(
    name: &proc_macro2::Ident,
    doc: TokenStream,
    variants: &[UnionVariant],
    discriminator: Option<&str>,
    space: &TypeSpace,
) -> TokenStream {
    let idents: Vec<_> = variants
        .iter()
        .map(|v| format_ident!("{}", v.name))
        .collect();
    let types: Vec<_> = variants
        .iter()
        .map(|v| type_tokens(&v.ty, space, Scope::Types))
        .collect();
    let Some(tag) = discriminator else {
        return quote! {
            #doc
            ///
            /// Decoded as the first alternative the value fits.
            #[derive(Debug, Clone, PartialEq, rt::serde::Serialize, rt::serde::Deserialize)]
            #[serde(crate = #SERDE_CRATE, untagged)]
            pub enum #name {
                #( #idents(#types), )*
            }
        };
    };
    let other = format_ident!("{}", catch_all_name(variants));
    let arms = variants.iter().zip(&idents).map(|(v, ident)| {
        let tags = &v.tags;
        quote! {
            #( Some(#tags) )|* => rt::serde_json::from_value(value).map(Self::#ident).map_err(rt::serde::de::Error::custom),
        }
    });
    let tag_doc = format!(" Chosen by the {} property.", code(tag));
    let variant_docs = variants.iter().map(|v| {
        let d = format!(
            " {} = {}",
            code(tag),
            v.tags
                .iter()
                .map(|t| code(t))
                .collect::<Vec<_>>()
                .join(" or ")
        );
        quote!(#[doc = #d])
    });
    quote! {
        #doc
        ///
        #[doc = #tag_doc]
        #[derive(Debug, Clone, PartialEq, rt::serde::Serialize)]
        #[serde(crate = #SERDE_CRATE, untagged)]
        pub enum #name {
            #( #variant_docs #idents(#types), )*
            /// A kind this client does not know; the raw value is kept.
            #other(rt::serde_json::Value),
        }
        impl<'de> rt::serde::Deserialize<'de> for #name {
            fn deserialize<D: rt::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <rt::serde_json::Value as rt::serde::Deserialize>::deserialize(deserializer)?;
                let tag = value.get(#tag).and_then(|t| t.as_str()).map(str::to_owned);
                match tag.as_deref() {
                    #(#arms)*
                    _ => Ok(Self::#other(value)),
                }
            }
        }
    }
}
