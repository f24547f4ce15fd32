//! A test file proving the generated types fit the document's own examples.
//!
//! Every response example and every example attached to a named type is decoded into the
//! generated type; failures name the example's JSON pointer. Generated crates get it as
//! `tests/examples.rs` when [`super::CrateSettings::example_tests`] is set.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use super::rust_types::type_tokens;
use crate::model::{Api, ResponseKind, TypeKind, TypeRef};
use crate::surface::Features;

/// One example to decode.
#[derive(Debug, Clone)]
pub struct ExampleCheck {
    /// JSON pointer of the example in the document.
    pub pointer: String,
    /// The example.
    pub value: Value,
    /// The type it must decode into.
    pub ty: TypeRef,
    /// JSON pointer of the schema the example illustrates (normalised document).
    pub schema_pointer: String,
}

/// Every example of the document that has a generated type to decode into.
pub fn example_checks(api: &Api) -> Vec<ExampleCheck> {
    let mut out = Vec::new();
    for op in &api.operations {
        for case in op.success.iter().chain(&op.errors) {
            if case.kind != ResponseKind::Json {
                continue;
            }
            let Some(ty) = &case.ty else { continue };
            for (pointer, value) in &case.examples {
                let media = match pointer.strip_suffix("/example") {
                    Some(base) => base,
                    None => pointer
                        .rfind("/examples/")
                        .map(|i| &pointer[..i])
                        .unwrap_or(pointer),
                };
                let schema_pointer = format!("{media}/schema");
                out.push(ExampleCheck {
                    pointer: pointer.clone(),
                    value: value.clone(),
                    ty: ty.clone(),
                    schema_pointer,
                });
            }
        }
    }
    for (id, named) in api.types.types.iter().enumerate() {
        // Examples of scalars are documentation, not payloads.
        if matches!(named.kind, TypeKind::Alias(_)) {
            continue;
        }
        for (pointer, value) in &named.examples {
            let schema_pointer = pointer
                .rfind("/example")
                .map(|i| pointer[..i].to_string())
                .unwrap_or_default();
            out.push(ExampleCheck {
                pointer: pointer.clone(),
                value: value.clone(),
                ty: TypeRef::Named(id),
                schema_pointer,
            });
        }
    }
    out
}

/// Tokens of `tests/examples.rs` for a crate named `crate_ident`. Examples whose pointers
/// are in `skip` (they contradict their own schema) are listed but not decoded.
pub fn example_test_file(
    api: &Api,
    crate_ident: &str,
    skip: &std::collections::BTreeSet<String>,
    features: &Features,
) -> TokenStream {
    let krate = format_ident!("{crate_ident}");
    // Examples reach types of every tag: decoded when every tag's feature is on.
    let names = features.tags.keys();
    let every_feature = features
        .enabled()
        .then(|| quote!(#![cfg(all(#(feature = #names),*))]));
    let (checks, skipped): (Vec<ExampleCheck>, Vec<ExampleCheck>) = example_checks(api)
        .into_iter()
        .partition(|c| !skip.contains(&c.pointer));
    let skipped: Vec<String> = skipped.into_iter().map(|c| c.pointer).collect();
    let entries = checks.iter().map(|c| {
        let pointer = &c.pointer;
        let json = serde_json::to_string(&c.value).unwrap_or_default();
        let ty = type_tokens(&c.ty, &api.types);
        quote! {
            (#pointer, #json, |text: &str| rt::serde_json::from_str::<#ty>(text).map(|_| ()).map_err(|e| e.to_string())),
        }
    });
    let count = checks.len();
    quote! {
        //! The document's examples decode into the generated types.
        #every_feature
        #[allow(unused_imports)]
        use #krate::runtime as rt;
        #[allow(unused_imports)]
        use #krate::types;

        #[rustfmt::skip]
        type Check = (&'static str, &'static str, fn(&str) -> Result<(), String>);

        /// Examples that contradict their own schema in the document (not decoded).
        #[allow(dead_code)]
        #[rustfmt::skip]
        const CONTRADICT_THEIR_SCHEMA: &[&str] = &[ #(#skipped,)* ];

        #[rustfmt::skip]
        const EXAMPLES: &[Check] = &[ #(#entries)* ];

        #[test]
        #[rustfmt::skip]
        fn every_example_decodes() {
            assert_eq!(EXAMPLES.len(), #count);
            let failures: Vec<String> = EXAMPLES
                .iter()
                .filter_map(|(pointer, json, decode)| decode(json).err().map(|e| format!("#{pointer}: {e}")))
                .collect();
            assert!(failures.is_empty(), "{} of {} examples do not decode:\n{}", failures.len(), EXAMPLES.len(), failures.join("\n"));
        }
    }
}
