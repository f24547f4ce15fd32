//! A test file proving the generated types fit the document's own examples.
//!
//! Every response example and every example attached to a named type is decoded into the
//! generated type; failures name the example's JSON pointer. Generated crates get it as
//! `tests/examples.rs` when [`super::CrateSettings::example_tests`] is set.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use super::rust_types::{Scope, type_tokens};
use crate::model::{Api, ResponseKind, TypeKind, TypeRef};

/// One example to decode.
#[derive(Debug, Clone)]
pub struct ExampleCheck {
    /// JSON pointer of the example in the document.
    pub pointer: String,
    /// The example.
    pub value: Value,
    /// The type it must decode into.
    pub ty: TypeRef,
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
                out.push(ExampleCheck { pointer: pointer.clone(), value: value.clone(), ty: ty.clone() });
            }
        }
    }
    for (id, named) in api.types.types.iter().enumerate() {
        // Examples of scalars are documentation, not payloads.
        if matches!(named.kind, TypeKind::Alias(_)) {
            continue;
        }
        for (pointer, value) in &named.examples {
            out.push(ExampleCheck { pointer: pointer.clone(), value: value.clone(), ty: TypeRef::Named(id) });
        }
    }
    out
}

/// Tokens of `tests/examples.rs` for a crate named `crate_ident`.
pub fn example_test_file(api: &Api, crate_ident: &str) -> TokenStream {
    let krate = format_ident!("{crate_ident}");
    let checks = example_checks(api);
    let entries = checks.iter().map(|c| {
        let pointer = &c.pointer;
        let json = serde_json::to_string(&c.value).unwrap_or_default();
        let ty = type_tokens(&c.ty, &api.types, Scope::Crate);
        quote! {
            (#pointer, #json, |text: &str| rt::serde_json::from_str::<#ty>(text).map(|_| ()).map_err(|e| e.to_string())),
        }
    });
    let count = checks.len();
    quote! {
        //! The document's examples decode into the generated types.
        #[allow(unused_imports)]
        use #krate::runtime as rt;
        #[allow(unused_imports)]
        use #krate::types;

        type Check = (&'static str, &'static str, fn(&str) -> Result<(), String>);

        const EXAMPLES: &[Check] = &[ #(#entries)* ];

        #[test]
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
