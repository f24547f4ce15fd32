//! `types.rs` of a generated crate: one Rust item per named type.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use super::docs::{code, doc_lines, lines_to_attrs};
use super::gates::gated;
use super::rust_types::{self, Scope, tokens};
use crate::model::{Api, Field, NamedType, Prim, TypeKind, TypeRef, TypeSpace};
use crate::naming::snake;
use crate::surface::{EnumItem, Gate, StructItem, TypeItem, TypeItemKind, UnionItem};

const SERDE_CRATE: &str = "gouvgen_runtime::serde";

/// Tokens of the whole `types` module.
pub fn types_file(api: &Api, items: &[TypeItem], gates: &[Gate]) -> TokenStream {
    let space = &api.types;
    let mut tokens = Vec::new();
    let mut defaults = Defaults::default();
    for ((ty, item), gate) in space.types.iter().zip(items).zip(gates) {
        let first_default = defaults.items.len();
        let doc = header_doc(ty, api);
        tokens.push(gated(named_type(ty, doc, item, space, &mut defaults), gate));
        for default in &mut defaults.items[first_default..] {
            *default = gated(std::mem::take(default), gate);
        }
    }
    let defaults = defaults.items;
    // Only aliases (or nothing, or only types behind features): `rt` may go unused.
    let rt_allow = if space
        .types
        .iter()
        .all(|t| matches!(t.kind, TypeKind::Alias(_)))
        || gates.iter().any(|g| !g.always())
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
        #rt_allow
        use gouvgen_runtime as rt;
        #(#tokens)*
        #defaults_mod
    }
}

/// The document's description, then where the type comes from (every type has that line).
fn header_doc(ty: &NamedType, api: &Api) -> Vec<String> {
    let mut lines = ty.doc.as_deref().map(doc_lines).unwrap_or_default();
    if !lines.is_empty() {
        lines.push(String::new());
    }
    let origin = super::origin::origin_line(ty, api);
    lines.push(
        match crate::surface::rename_reason(ty.renamed_from.as_deref()) {
            Some(reason) => format!("{origin} Type {reason}."),
            None => origin,
        },
    );
    lines
}

/// Default-value functions, with names unique in the `defaults` module (`FooBar.baz` and
/// `Foo.bar_baz` would both be `foo_bar_baz`).
#[derive(Default)]
struct Defaults {
    items: Vec<TokenStream>,
    names: crate::naming::Namer,
}

fn named_type(
    ty: &NamedType,
    doc: Vec<String>,
    item: &TypeItem,
    space: &TypeSpace,
    defaults: &mut Defaults,
) -> TokenStream {
    let name = format_ident!("{}", item.name);
    match (&ty.kind, &item.kind) {
        (_, TypeItemKind::Alias(a)) => {
            let target = tokens(&a.target, Scope::Types);
            let doc = lines_to_attrs(&doc);
            quote! { #doc pub type #name = #target; }
        }
        (TypeKind::Struct { fields, .. }, TypeItemKind::Struct(s)) => {
            let doc = lines_to_attrs(&doc);
            structure(doc, fields, s, space, defaults)
        }
        (_, TypeItemKind::Enum(e)) => open_enum(&name, doc, e),
        (_, TypeItemKind::Union(u)) => union(&name, doc, u),
        _ => unreachable!("the surface mirrors the model"),
    }
}

fn structure(
    doc: TokenStream,
    fields: &[Field],
    item: &StructItem,
    space: &TypeSpace,
    defaults: &mut Defaults,
) -> TokenStream {
    let name = format_ident!("{}", item.name);
    let mut tokens = Vec::new();
    // Field name -> its default function in the `defaults` module, for serde and for `new`.
    let mut default_fns = BTreeMap::new();
    let camel = camel_case_saves_renames(item);
    for f in &item.fields {
        let fname = format_ident!("{}", f.name);
        let ty = rust_types::tokens(&f.ty, Scope::Types);
        // By JSON name: the surface may leave fields out (a tag its union writes).
        let model = fields
            .iter()
            .find(|m| m.original == f.json_name)
            .filter(|_| !f.flatten);
        let mut attrs = Vec::new();
        let wire_name = if camel {
            serde_camel_case(&f.name)
        } else {
            f.name.clone()
        };
        if f.flatten {
            attrs.push(quote!(flatten));
        } else if wire_name != f.json_name {
            let original = &f.json_name;
            attrs.push(quote!(rename = #original));
        }
        if let (Some(default), Some(m)) = (&f.default, model) {
            let fn_name = defaults
                .names
                .unique(&snake(&format!("{} {}", item.name, f.name)), "_");
            let fn_ident = format_ident!("{fn_name}");
            let value = default_value(default, &m.ty, space);
            defaults
                .items
                .push(quote! { pub(super) fn #fn_ident() -> #ty { #value } });
            let path = format!("defaults::{fn_name}");
            attrs.push(quote!(default = #path));
            default_fns.insert(f.name.clone(), fn_name);
        } else if f.omittable {
            attrs.push(quote!(default, skip_serializing_if = "Option::is_none"));
        }
        let serde_attr = if attrs.is_empty() {
            quote!()
        } else {
            quote!(#[serde(#(#attrs),*)])
        };
        let field_doc = match model {
            Some(m) => field_doc(m),
            None => {
                quote!(#[doc = " Properties not declared in the schema (`additionalProperties`)."])
            }
        };
        tokens.push(quote! { #field_doc #serde_attr pub #fname: #ty, });
    }
    // Without required fields or document defaults every field is an `Option` (or the
    // flattened map): `Default` is derived and `new()` is it. With document defaults,
    // `Default` is `new()`, which writes them.
    let derived = item.default && default_fns.is_empty();
    let default_derive = derived.then(|| quote!(Default,));
    let default_impl = (item.default && !derived).then(|| {
        quote! {
            impl Default for #name {
                fn default() -> Self {
                    Self::new()
                }
            }
        }
    });
    let methods = if derived {
        new_from_default(&name, item.fields.is_empty())
    } else {
        constructor(item, Scope::Types, &default_fns)
    };
    let rename_all = camel.then(|| quote!(, rename_all = "camelCase"));
    quote! {
        #doc
        #[derive(Debug, Clone, #default_derive PartialEq, rt::serde::Serialize, rt::serde::Deserialize)]
        #[serde(crate = #SERDE_CRATE #rename_all)]
        #[non_exhaustive]
        pub struct #name { #(#tokens)* }
        #methods
        #default_impl
    }
}

/// Whether `rename_all = "camelCase"` spares more per-field `rename`s than it adds: the
/// document's names are mostly camelCase, the fields snake_case.
/// Only for ASCII field names: serde_derive slices the first byte of the name.
fn camel_case_saves_renames(item: &StructItem) -> bool {
    if item.fields.iter().any(|f| !f.name.is_ascii()) {
        return false;
    }
    let named = item.fields.iter().filter(|f| !f.flatten);
    let (mut saved, mut added) = (0, 0);
    for f in named {
        let camel = serde_camel_case(&f.name);
        if f.name != f.json_name && camel == f.json_name {
            saved += 1;
        } else if f.name == f.json_name && camel != f.json_name {
            added += 1;
        }
    }
    saved > added
}

/// The name serde's `rename_all = "camelCase"` gives a field (serde_derive's rule: drop the
/// underscores, upper-case the letter after each, lower-case the first), `r#` prefixes apart.
fn serde_camel_case(field: &str) -> String {
    let field = field.strip_prefix("r#").unwrap_or(field);
    let mut out = String::with_capacity(field.len());
    let mut capitalize = false;
    for ch in field.chars() {
        if ch == '_' {
            capitalize = true;
        } else if capitalize {
            out.push(ch.to_ascii_uppercase());
            capitalize = false;
        } else {
            out.push(ch);
        }
    }
    match out.get(..1) {
        Some(first) => first.to_ascii_lowercase() + &out[1..],
        None => out,
    }
}

fn field_doc(field: &Field) -> TokenStream {
    let mut lines = field.doc.as_deref().map(doc_lines).unwrap_or_default();
    if field.deprecated {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.push("**Deprecated** in the document.".into());
    }
    lines_to_attrs(&lines)
}

/// `new()` of a struct that derives `Default` (no required field, no document default).
/// `empty`: the struct has no field (the schema declares none yet), so the doc does not
/// point at fields to set.
pub(super) fn new_from_default(name: &proc_macro2::Ident, empty: bool) -> TokenStream {
    let doc = if empty {
        " An empty value (`Default`): the schema declares no field."
    } else {
        " A value with every field empty (`Default`); the fields are public: set the ones you need."
    };
    quote! {
        impl #name {
            #[doc = #doc]
            pub fn new() -> Self {
                Self::default()
            }
        }
    }
}

/// `new`, taking the required fields: how callers build a `#[non_exhaustive]` struct (its
/// fields are public, so the others are set by assignment; a field the document adds later
/// is one more field, not a new argument).
/// `default_fns`: field name -> function of the `defaults` module giving its value.
pub(super) fn constructor(
    item: &StructItem,
    scope: Scope,
    default_fns: &BTreeMap<String, String>,
) -> TokenStream {
    let name = format_ident!("{}", item.name);
    let mut params = Vec::new();
    let mut inits = Vec::new();
    for (i, f) in item.fields.iter().enumerate() {
        let fname = format_ident!("{}", f.name);
        if item.constructor.contains(&i) {
            let ty = tokens(&f.arg_ty, scope);
            params.push(quote!(#fname: #ty));
            inits.push(quote!(#fname: #fname.into()));
        } else if let Some(fn_name) = default_fns.get(&f.name) {
            let fn_ident = format_ident!("{fn_name}");
            inits.push(quote!(#fname: defaults::#fn_ident()));
        } else {
            inits.push(quote!(#fname: Default::default()));
        }
    }
    let allow = if params.len() > 7 {
        quote!(#[allow(clippy::too_many_arguments)])
    } else {
        quote!()
    };
    let new_doc = if params.is_empty() {
        " A value with the document's defaults; the fields are public: set the ones you need."
    } else {
        " A value with the required fields; the others are public fields: set the ones you need."
    };
    quote! {
        impl #name {
            #[doc = #new_doc]
            #allow
            pub fn new(#(#params),*) -> Self {
                Self { #(#inits),* }
            }
        }
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

/// Appends a paragraph to doc lines, with a blank line only between paragraphs.
fn paragraph(mut lines: Vec<String>, text: &str) -> Vec<String> {
    if !lines.is_empty() {
        lines.push(String::new());
    }
    lines.push(text.to_string());
    lines
}

fn open_enum(name: &proc_macro2::Ident, doc: Vec<String>, item: &EnumItem) -> TokenStream {
    let doc = lines_to_attrs(&paragraph(
        doc,
        "Open enum: a value the provider adds later is kept in the last variant instead of failing to decode.",
    ));
    let unknown = format_ident!("{}", item.unknown);
    let idents: Vec<_> = item
        .variants
        .iter()
        .map(|(n, _)| format_ident!("{n}"))
        .collect();
    let values: Vec<&str> = item.variants.iter().map(|(_, v)| v.as_str()).collect();
    let docs = values.iter().map(|v| {
        let d = format!(" {}", code(v));
        quote!(#[doc = #d])
    });
    quote! {
        #doc
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, rt::serde::Serialize, rt::serde::Deserialize)]
        #[serde(crate = #SERDE_CRATE, from = "String", into = "String")]
        #[non_exhaustive]
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

fn union(name: &proc_macro2::Ident, doc: Vec<String>, item: &UnionItem) -> TokenStream {
    let idents: Vec<_> = item
        .members
        .iter()
        .map(|v| format_ident!("{}", v.name))
        .collect();
    let types: Vec<_> = item
        .members
        .iter()
        .map(|v| tokens(&v.ty, Scope::Types))
        .collect();
    // The catch-all of a tagged union holds a JSON value: one more variant with data.
    let variants = item.members.len() + usize::from(item.other.is_some());
    let allow = large_enum_allow(variants, variants);
    let (Some(tag), Some(other)) = (&item.tag, &item.other) else {
        let doc = lines_to_attrs(&paragraph(
            doc,
            "Decoded as the first alternative the value fits.",
        ));
        return quote! {
            #doc
            #[derive(Debug, Clone, PartialEq, rt::serde::Serialize, rt::serde::Deserialize)]
            #[serde(crate = #SERDE_CRATE, untagged)]
            #[non_exhaustive]
            #allow
            pub enum #name {
                #( #idents(#types), )*
            }
        };
    };
    let other = format_ident!("{other}");
    let arms = item.members.iter().zip(&idents).map(|(v, ident)| {
        let tags = &v.tags;
        quote! {
            #( Some(#tags) )|* => rt::serde_json::from_value(value).map(Self::#ident).map_err(rt::serde::de::Error::custom),
        }
    });
    let write_arms = item.members.iter().zip(&idents).map(|(v, ident)| {
        let first = v.tags.first().cloned().unwrap_or_default();
        quote!(Self::#ident(v) => (rt::serde_json::to_value(v), Some(#first)),)
    });
    let doc = lines_to_attrs(&paragraph(
        doc,
        &format!(
            "Internally tagged by the {} property: it is written from the variant, so it always agrees with it.",
            code(tag)
        ),
    ));
    let variant_docs = item.members.iter().map(|v| {
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
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        #allow
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
        impl rt::serde::Serialize for #name {
            fn serialize<S: rt::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let (value, tag) = match self {
                    #(#write_arms)*
                    Self::#other(v) => (Ok(v.clone()), None),
                };
                let mut value = value.map_err(rt::serde::ser::Error::custom)?;
                if let (Some(tag), Some(object)) = (tag, value.as_object_mut()) {
                    object.insert(#tag.to_string(), rt::serde_json::Value::String(tag.to_string()));
                }
                rt::serde::Serialize::serialize(&value, serializer)
            }
        }
    }
}

/// `clippy::large_enum_variant` compares the largest variant with the next one, empty or
/// not: an enum needs the `allow` when it has two variants or more and one carries data.
pub(super) fn large_enum_allow(variants: usize, data_variants: usize) -> TokenStream {
    if variants >= 2 && data_variants >= 1 {
        quote!(#[allow(clippy::large_enum_variant)])
    } else {
        TokenStream::new()
    }
}
