//! `client.rs` of a generated crate: the `Client` and one method per operation, which
//! returns the operation's request builder (`builders.rs`); `errors.rs` and `responses.rs`
//! hold the error and success enums. One module per kind of item, so the crate root shows
//! `Client`, `types`, `builders`, `errors` and `responses` rather than hundreds of names.

use proc_macro2::TokenStream;
use quote::quote;

use super::docs::{code, doc_lines, lines_to_attrs};
use super::gates::{allow_without_features, cfg};
use super::idents::{deprecated, field_ident, ident};
use super::rust_types::{Scope, stored_tokens, tokens};
use crate::model::{Api, Operation, Param};
use crate::surface::{Method, RuntimeOption, SetterKind, Surface};

/// Tokens of the `client` module.
pub fn client_file(api: &Api, surface: &Surface) -> TokenStream {
    let base_path = &api.base_path;
    let title_doc = format!(
        " Client of {} (version {}).",
        super::docs::escape_text(&api.title),
        super::docs::escape_text(&api.version)
    );
    let gates = &surface.features.methods;
    let methods = api
        .operations
        .iter()
        .zip(&surface.methods)
        .zip(gates)
        .map(|((op, m), gate)| {
            let (cfg, item) = (cfg(gate), method(op, m));
            quote!(#cfg #item)
        });
    // With features per tag, a crate built without any of them uses no builder.
    let unused = allow_without_features(&surface.features, "unused_imports");
    let builders = (!api.operations.is_empty()).then(|| quote!(#unused use super::builders::*;));
    quote! {
        //! The client and its operations.
        use gouvgen_runtime as rt;
        #[allow(unused_imports)]
        use super::types;
        #builders

        #[doc = #title_doc]
        ///
        /// Cheap to clone: clones share the connection pool, the token cache and the rate limiter.
        #[derive(Debug, Clone)]
        pub struct Client {
            pub(crate) runtime: rt::ApiClient,
            pub(crate) base_path: String,
        }

        impl Client {
            /// Path of the API on its gateway, from the document.
            pub const BASE_PATH: &'static str = #base_path;

            /// A client sending requests through `runtime`, under [`Client::BASE_PATH`].
            pub fn new(runtime: rt::ApiClient) -> Self {
                Self { runtime, base_path: Self::BASE_PATH.to_string() }
            }

            /// A client for a deployment that serves the API under another path.
            pub fn with_base_path(runtime: rt::ApiClient, base_path: impl Into<String>) -> Self {
                let base_path = base_path.into();
                Self { runtime, base_path: base_path.trim_end_matches('/').to_string() }
            }

            /// The same client with options for every call it makes (correlation ID, timeout, …);
            /// request builders set them for one call.
            pub fn with_options(&self, options: rt::CallOptions) -> Self {
                Self { runtime: self.runtime.with_options(options), base_path: self.base_path.clone() }
            }

            /// The runtime this client sends requests through.
            pub fn runtime(&self) -> &rt::ApiClient {
                &self.runtime
            }

            #(#methods)*
        }
    }
}

fn method(op: &Operation, m: &Method) -> TokenStream {
    let name = ident(&m.name);
    let builder = ident(&m.builder);
    let borrowed = m.args.iter().any(|a| a.ty.is_ref());
    let args = m.args.iter().map(|a| {
        let n = ident(&a.name);
        let ty = if borrowed && !a.ty.is_impl() {
            stored_tokens(&a.ty, Scope::Crate)
        } else {
            tokens(&a.ty, Scope::Crate)
        };
        quote!(#n: #ty)
    });
    let inits = m.args.iter().map(|a| {
        let f = field_ident(&a.name);
        let n = ident(&a.name);
        if a.ty.is_impl() {
            quote!(#f: #n.into())
        } else if f == n {
            quote!(#n)
        } else {
            quote!(#f: #n)
        }
    });
    let optional = m.setters.iter().filter_map(|s| match s.kind {
        SetterKind::Param(i) => Some(field_ident(&op.params[i].rust_name)),
        SetterKind::Runtime(_) => None,
    });
    let doc = method_doc(op, m);
    let deprecated = deprecated(m.deprecated);
    let allow = if m.args.len() > 6 {
        quote!(#[allow(clippy::too_many_arguments)])
    } else {
        quote!()
    };
    let signature = if borrowed {
        quote!(pub fn #name<'a>(&'a self, #(#args),*) -> #builder<'a>)
    } else {
        quote!(pub fn #name(&self, #(#args),*) -> #builder<'_>)
    };
    quote! {
        #doc
        #deprecated
        #allow
        #signature {
            #builder { client: self, #(#inits,)* #(#optional: None,)* options: None }
        }
    }
}

fn method_doc(op: &Operation, m: &Method) -> TokenStream {
    let mut lines = Vec::new();
    if let Some(s) = &op.summary {
        lines.extend(doc_lines(s));
        lines.push(String::new());
    }
    lines.push(format!(
        "Sends `{} {}` (operation {}).",
        op.http_method,
        op.path,
        code(&op.id)
    ));
    if let Some(d) = &op.description {
        lines.push(String::new());
        lines.extend(doc_lines(d));
    }
    let required: Vec<&Param> = op.params.iter().filter(|p| p.required).collect();
    if !required.is_empty() {
        lines.push(String::new());
        lines.push("Arguments:".into());
        for p in required {
            let first = p
                .doc
                .as_deref()
                .and_then(|d| doc_lines(d).into_iter().find(|l| !l.is_empty()))
                .unwrap_or_default();
            let sep = if first.is_empty() { "" } else { ": " };
            let wire = if p.name == p.rust_name {
                String::new()
            } else {
                format!(" ({})", code(&p.name))
            };
            lines.push(format!("- `{}`{wire}{sep}{first}", p.rust_name));
        }
    }
    lines.push(String::new());
    let what = if m
        .setters
        .iter()
        .any(|s| matches!(s.kind, SetterKind::Param(_)))
    {
        "Optional parameters and per-call options"
    } else {
        "Per-call options"
    };
    lines.push(format!("{what} are methods of [`{}`].", m.builder));
    let france_connect = m
        .setters
        .iter()
        .any(|s| s.kind == SetterKind::Runtime(RuntimeOption::FranceConnectToken));
    if france_connect {
        lines.push(format!(
            "This operation reads the user's FranceConnect token: pass it with [`{}::france_connect_token`].",
            m.builder
        ));
    }
    if op.traceability {
        lines.push(String::new());
        lines.push("The runtime adds the traceability parameters `context`, `recipient` and `object` configured on the client.".into());
    }
    lines_to_attrs(&lines)
}
