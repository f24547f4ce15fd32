//! `client.rs` of a generated crate: the `Client` and one async method per operation.
//!
//! Methods stay short on purpose: they build an `rt::Request`, hand it to the runtime (which
//! owns auth, correlation IDs, retries and limits) and pick the decoder for the status.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::docs::{code, doc_lines, lines_to_attrs};
use super::rust_types::{Scope, is_copy, is_param_value, prim_tokens, type_tokens};
use crate::model::{
    Api, BodyKind, Operation, Param, ParamIn, Prim, ResponseCase, ResponseKind, StatusMatch,
    TypeRef, TypeSpace,
};

/// Tokens of the whole `client` module.
pub fn client_file(api: &Api) -> TokenStream {
    let base_path = &api.base_path;
    let title_doc = format!(" Client of {} (version {}).", api.title, api.version);
    let mut methods = Vec::new();
    let mut support = Vec::new();
    for op in &api.operations {
        let (method, items) = operation(op, &api.types);
        methods.push(method);
        support.push(items);
    }
    quote! {
        //! The client and its operations.
        use gouvgen_runtime as rt;
        #[allow(unused_imports)]
        use super::types;

        #[doc = #title_doc]
        ///
        /// Cheap to clone: clones share the connection pool, the token cache and the rate limiter.
        #[derive(Debug, Clone)]
        pub struct Client {
            runtime: rt::ApiClient,
            base_path: String,
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

            /// The same client with per-call options (correlation ID, FranceConnect token, …).
            pub fn with_options(&self, options: rt::CallOptions) -> Self {
                Self { runtime: self.runtime.with_options(options), base_path: self.base_path.clone() }
            }

            /// The runtime this client sends requests through.
            pub fn runtime(&self) -> &rt::ApiClient {
                &self.runtime
            }

            #(#methods)*
        }

        #(#support)*
    }
}

/// Names of an operation's own types.
struct OpNames {
    options: proc_macro2::Ident,
    success: proc_macro2::Ident,
    error: proc_macro2::Ident,
    multipart: proc_macro2::Ident,
}

fn operation(op: &Operation, space: &TypeSpace) -> (TokenStream, TokenStream) {
    let names = OpNames {
        options: format_ident!("{}Options", op.type_prefix),
        success: format_ident!("{}Success", op.type_prefix),
        error: format_ident!("{}Error", op.type_prefix),
        multipart: format_ident!("{}Multipart", op.type_prefix),
    };
    let mut items = Vec::new();
    let method_name = format_ident!("{}", op.method_name);

    // Arguments: required parameters (path first), body, then an options struct.
    let required: Vec<&Param> = op.params.iter().filter(|p| p.required).collect();
    let optional: Vec<&Param> = op.params.iter().filter(|p| !p.required).collect();
    let mut args = Vec::new();
    for p in &required {
        let ident = format_ident!("{}", p.rust_name);
        let ty = arg_type(&p.ty, space);
        args.push(quote!(#ident: #ty));
    }
    if let Some(body) = &op.body {
        let ty = match &body.kind {
            BodyKind::Json | BodyKind::Form => {
                let t = arg_type(&body.ty, space);
                quote!(#t)
            }
            BodyKind::Multipart(_) => {
                let m = &names.multipart;
                quote!(#m)
            }
            BodyKind::Bytes => quote!(impl Into<rt::bytes::Bytes>),
            BodyKind::Text => quote!(impl Into<String>),
        };
        args.push(quote!(body: #ty));
    }
    if !optional.is_empty() {
        let o = &names.options;
        args.push(quote!(options: #o));
        items.push(options_struct(op, &optional, &names, space));
    }
    if let Some(body) = &op.body
        && let BodyKind::Multipart(fields) = &body.kind
    {
        items.push(multipart_struct(op, fields, &names, space));
    }

    // The request.
    let http_method = format_ident!("{}", op.http_method);
    let op_id = &op.id;
    let (fmt, fmt_args) = path_format(op, space);
    let mut chain = Vec::new();
    let mut after = Vec::new();
    for p in &op.params {
        let (c, a) = param_statement(p, space);
        chain.extend(c);
        after.extend(a);
    }
    if let Some(accept) = accept_type(op) {
        chain.push(quote!(.accept(#accept)));
    }
    if let Some(body) = &op.body {
        let mt = &body.media_type;
        match &body.kind {
            BodyKind::Json => chain.push(quote!(.json(#mt, &body))),
            BodyKind::Form => chain.push(quote!(.form(&body))),
            BodyKind::Bytes => chain.push(quote!(.bytes(#mt, body))),
            BodyKind::Text => chain.push(quote!(.text(#mt, body.into()))),
            BodyKind::Multipart(_) => chain.push(quote!(.multipart(body.into_multipart()))),
        }
    }
    // The audit trail records the template, never the path (it carries personal data).
    let path_template = op.path.as_str();
    chain.insert(0, quote!(.path_template(#path_template)));
    if op.no_auth {
        chain.push(quote!(.no_auth()));
    }
    if op.traceability {
        chain.push(quote!(.traceability()));
    }

    // Responses.
    let (success_ty, success_arms, success_item) = success(op, &names, space);
    items.extend(success_item);
    let (error_ty, error_arms, error_item) = errors(op, &names, space);
    items.extend(error_item);

    let doc = method_doc(op);
    let deprecated = if op.deprecated {
        quote!(#[deprecated(note = "deprecated in the API document")])
    } else {
        quote!()
    };
    let allow = if args.len() > 6 {
        quote!(#[allow(clippy::too_many_arguments)])
    } else {
        quote!()
    };
    let request_binding = if after.is_empty() {
        quote!(let request)
    } else {
        quote!(let mut request)
    };
    let has_default_error = op
        .errors
        .iter()
        .any(|c| c.kind == ResponseKind::Json && c.status == StatusMatch::Default);
    let fallback = if has_default_error {
        quote!()
    } else {
        quote!(_ => Err(response.into_error()),)
    };
    let method = quote! {
        #doc
        #deprecated
        #allow
        pub async fn #method_name(&self, #(#args),*) -> Result<rt::Response<#success_ty>, rt::Error<#error_ty>> {
            #request_binding = rt::Request::new(rt::Method::#http_method, #op_id, format!(#fmt, self.base_path #(, #fmt_args)*))
                #(#chain)*;
            #(#after)*
            let response = self.runtime.execute(request).await?;
            match response.status() {
                #(#success_arms)*
                #(#error_arms)*
                #fallback
            }
        }
    };
    (method, quote!(#(#items)*))
}

/// Argument type: borrowed for strings and non-`Copy` values. Aliases of scalars
/// (`type Siret = String`) are passed like the scalar (`&str`).
fn arg_type(ty: &TypeRef, space: &TypeSpace) -> TokenStream {
    let mut ty = ty;
    while let TypeRef::Named(id) = ty {
        match &space.types[*id].kind {
            crate::model::TypeKind::Alias(inner @ (TypeRef::Prim(_) | TypeRef::Vec(_))) => {
                ty = inner
            }
            _ => break,
        }
    }
    match ty {
        TypeRef::Prim(Prim::String) => quote!(&str),
        TypeRef::Vec(inner) => {
            let inner = type_tokens(inner, space, Scope::Crate);
            quote!(&[#inner])
        }
        t if is_copy(t) => type_tokens(t, space, Scope::Crate),
        t => {
            let t = type_tokens(t, space, Scope::Crate);
            quote!(&#t)
        }
    }
}

/// `format!` string and arguments for the path: `"{}/spi/{}/x"` with encoded parameters.
fn path_format(op: &Operation, space: &TypeSpace) -> (String, Vec<TokenStream>) {
    let mut fmt = String::from("{}");
    let mut args = Vec::new();
    let mut rest = op.path.as_str();
    while let Some(start) = rest.find('{') {
        fmt.push_str(&rest[..start].replace('{', "{{").replace('}', "}}"));
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let name = &rest[start + 1..start + len];
        match op
            .params
            .iter()
            .find(|p| p.location == ParamIn::Path && p.name == name)
        {
            Some(p) => {
                fmt.push_str("{}");
                args.push(super::params::path_arg(p, space));
            }
            None => fmt.push_str(
                &rest[start..start + len + 1]
                    .replace('{', "{{")
                    .replace('}', "}}"),
            ),
        }
        rest = &rest[start + len + 1..];
    }
    fmt.push_str(&rest.replace('{', "{{").replace('}', "}}"));
    (fmt, args)
}

/// Statements adding one parameter: chained calls, or statements after the chain.
fn param_statement(p: &Param, space: &TypeSpace) -> (Vec<TokenStream>, Vec<TokenStream>) {
    if let Some(call) = super::params::styled_call(p, space) {
        return (vec![call], Vec::new());
    }
    let name = &p.name;
    let ident = format_ident!("{}", p.rust_name);
    let value = if p.required {
        quote!(#ident)
    } else {
        quote!(options.#ident)
    };
    let explode = p.explode;
    let plain = is_param_value(&p.ty, space);
    match (p.location, &p.ty, p.required) {
        (ParamIn::Path, _, _) => (Vec::new(), Vec::new()),
        (ParamIn::Query, TypeRef::Vec(_), true) => (
            vec![quote!(.query_array(#name, #value, #explode))],
            Vec::new(),
        ),
        (ParamIn::Query, TypeRef::Vec(_), false) => (
            vec![quote!(.query_array(#name, #value.as_deref().unwrap_or_default(), #explode))],
            Vec::new(),
        ),
        (ParamIn::Query, _, true) if plain => (vec![quote!(.query(#name, &#value))], Vec::new()),
        (ParamIn::Query, _, false) if plain => {
            (vec![quote!(.query_opt(#name, #value.as_ref()))], Vec::new())
        }
        (ParamIn::Header, TypeRef::Vec(_), true) => (
            vec![
                quote!(.header(#name, &#value.iter().map(rt::ParamValue::to_param).collect::<Vec<_>>().join(","))),
            ],
            Vec::new(),
        ),
        (ParamIn::Header, _, true) if plain => (vec![quote!(.header(#name, &#value))], Vec::new()),
        (ParamIn::Header, _, false) if plain => (
            vec![quote!(.header_opt(#name, #value.as_ref()))],
            Vec::new(),
        ),
        (ParamIn::Cookie, _, true) if plain => (vec![quote!(.cookie(#name, &#value))], Vec::new()),
        (location, _, true) => {
            let call = setter(location);
            (
                vec![quote!(.#call(#name, &rt::serde_json::to_value(&#value).unwrap_or_default()))],
                Vec::new(),
            )
        }
        (location, _, false) => {
            let call = setter(location);
            let conv = if plain {
                quote!(v)
            } else {
                quote!(&rt::serde_json::to_value(v).unwrap_or_default())
            };
            (
                Vec::new(),
                vec![quote! {
                    if let Some(v) = &#value {
                        request = request.#call(#name, #conv);
                    }
                }],
            )
        }
    }
}

fn setter(location: ParamIn) -> proc_macro2::Ident {
    format_ident!(
        "{}",
        match location {
            ParamIn::Query => "query",
            ParamIn::Header => "header",
            ParamIn::Cookie => "cookie",
            ParamIn::Path => "query",
        }
    )
}

/// The media type to ask for: the first documented success body's (vendor `+json` types
/// select the API version at DGFiP), none for `*/*`.
fn accept_type(op: &Operation) -> Option<String> {
    op.success
        .iter()
        .filter_map(|c| c.media_type.clone())
        .find(|mt| mt != "*/*")
}

fn status_pattern(case: &ResponseCase, as_success_default: bool) -> TokenStream {
    match case.status {
        StatusMatch::Code(c) => {
            let lit = Literal::u16_unsuffixed(c);
            quote!(#lit)
        }
        StatusMatch::Range(d) => {
            let lo = Literal::u16_unsuffixed(d * 100);
            let hi = Literal::u16_unsuffixed(d * 100 + 99);
            quote!(#lo..=#hi)
        }
        StatusMatch::Default if as_success_default => quote!(200..=299),
        StatusMatch::Default => quote!(_),
    }
}

fn body_type(case: &ResponseCase, space: &TypeSpace) -> TokenStream {
    match case.kind {
        ResponseKind::Json => match &case.ty {
            Some(t) => type_tokens(t, space, Scope::Crate),
            None => prim_tokens(Prim::Any),
        },
        ResponseKind::Text => quote!(String),
        ResponseKind::Bytes => quote!(rt::bytes::Bytes),
        ResponseKind::Empty => quote!(()),
    }
}

fn reader(kind: ResponseKind) -> TokenStream {
    match kind {
        ResponseKind::Json => quote!(json),
        ResponseKind::Text => quote!(text),
        ResponseKind::Bytes => quote!(bytes),
        ResponseKind::Empty => quote!(empty),
    }
}

/// Success type, match arms and (when bodies differ by status) the success enum.
fn success(
    op: &Operation,
    names: &OpNames,
    space: &TypeSpace,
) -> (TokenStream, Vec<TokenStream>, Option<TokenStream>) {
    if op.success.is_empty() {
        return (
            quote!(rt::bytes::Bytes),
            vec![quote!(200..=299 => response.bytes(),)],
            None,
        );
    }
    let first_ty = body_type(&op.success[0], space).to_string();
    let uniform = op
        .success
        .iter()
        .all(|c| body_type(c, space).to_string() == first_ty && c.kind == op.success[0].kind);
    if uniform {
        let ty = body_type(&op.success[0], space);
        let arms = op.success.iter().map(|c| {
            let pat = status_pattern(c, true);
            let read = reader(c.kind);
            quote!(#pat => response.#read(),)
        });
        return (ty, arms.collect(), None);
    }
    let enum_name = &names.success;
    let mut variants = Vec::new();
    let mut arms = Vec::new();
    for c in &op.success {
        let v = format_ident!("{}", c.variant);
        let pat = status_pattern(c, true);
        let read = reader(c.kind);
        let doc = variant_doc(c);
        if c.kind == ResponseKind::Empty {
            variants.push(quote!(#doc #v,));
            arms.push(quote!(#pat => response.empty().map(|r| r.map(|()| #enum_name::#v)),));
        } else {
            let ty = body_type(c, space);
            variants.push(quote!(#doc #v(#ty),));
            let read = if c.kind == ResponseKind::Json {
                quote!(json::<#ty, _>)
            } else {
                read
            };
            arms.push(quote!(#pat => response.#read().map(|r| r.map(#enum_name::#v)),));
        }
    }
    let doc = format!(
        " Successful responses of [`Client::{}`], by status.",
        op.method_name
    );
    (
        quote!(#enum_name),
        arms,
        Some(status_enum(enum_name, &doc, &variants)),
    )
}

/// An enum with one variant per documented status of an operation.
fn status_enum(name: &proc_macro2::Ident, doc: &str, variants: &[TokenStream]) -> TokenStream {
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone)]
        #[allow(clippy::large_enum_variant)]
        pub enum #name { #(#variants)* }
    }
}

fn variant_doc(case: &ResponseCase) -> TokenStream {
    let status = match case.status {
        StatusMatch::Code(c) => format!("HTTP {c}"),
        StatusMatch::Range(d) => format!("HTTP {d}xx"),
        StatusMatch::Default => "Any other status".to_string(),
    };
    let text = match &case.doc {
        Some(d) => format!("{status}: {}", d.lines().next().unwrap_or("").trim()),
        None => status,
    };
    lines_to_attrs(&[text])
}

/// Error type, match arms and the documented-error enum.
fn errors(
    op: &Operation,
    names: &OpNames,
    space: &TypeSpace,
) -> (TokenStream, Vec<TokenStream>, Option<TokenStream>) {
    let documented: Vec<&ResponseCase> = op
        .errors
        .iter()
        .filter(|c| c.kind == ResponseKind::Json)
        .collect();
    if documented.is_empty() {
        return (quote!(rt::Undocumented), Vec::new(), None);
    }
    let enum_name = &names.error;
    let mut variants = Vec::new();
    let mut arms = Vec::new();
    for c in documented {
        let v = format_ident!("{}", c.variant);
        let ty = body_type(c, space);
        let doc = variant_doc(c);
        variants.push(quote!(#doc #v(#ty),));
        let pat = status_pattern(c, false);
        arms.push(quote!(#pat => Err(response.documented_error(#enum_name::#v)),));
    }
    let doc = format!(
        " Error bodies documented for [`Client::{}`], by status.",
        op.method_name
    );
    (
        quote!(#enum_name),
        arms,
        Some(status_enum(enum_name, &doc, &variants)),
    )
}

fn options_struct(
    op: &Operation,
    optional: &[&Param],
    names: &OpNames,
    space: &TypeSpace,
) -> TokenStream {
    let name = &names.options;
    let fields = optional.iter().map(|p| {
        let ident = format_ident!("{}", p.rust_name);
        let ty = type_tokens(&p.ty, space, Scope::Crate);
        let doc = param_doc(p);
        quote!(#doc pub #ident: Option<#ty>,)
    });
    let setters = optional.iter().map(|p| {
        let ident = format_ident!("{}", p.rust_name);
        let ty = type_tokens(&p.ty, space, Scope::Crate);
        let doc = format!(" Sets {}.", code(&p.name));
        quote! {
            #[doc = #doc]
            pub fn #ident(mut self, value: impl Into<#ty>) -> Self {
                self.#ident = Some(value.into());
                self
            }
        }
    });
    let doc = format!(
        " Optional parameters of [`Client::{}`]; `Default::default()` sends none.",
        op.method_name
    );
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, Default)]
        pub struct #name { #(#fields)* }
        impl #name { #(#setters)* }
    }
}

fn multipart_struct(
    op: &Operation,
    fields: &[crate::model::MultipartField],
    names: &OpNames,
    space: &TypeSpace,
) -> TokenStream {
    let name = &names.multipart;
    let mut decls = Vec::new();
    let mut parts = Vec::new();
    for f in fields {
        let ident = format_ident!("{}", f.rust_name);
        let part = &f.name;
        let base_ty = if f.is_file {
            quote!(rt::FilePart)
        } else {
            type_tokens(&f.ty, space, Scope::Crate)
        };
        let ty = if f.required {
            base_ty
        } else {
            quote!(Option<#base_ty>)
        };
        let doc = super::docs::doc_attrs(f.doc.as_deref());
        decls.push(quote!(#doc pub #ident: #ty,));
        let value = if f.is_file {
            quote!(form = form.file(#part, v);)
        } else if is_param_value(&f.ty, space) {
            quote!(form = form.text(#part, &v);)
        } else {
            quote!(form = form.text(#part, &rt::serde_json::to_value(&v).unwrap_or_default());)
        };
        let this = quote!(self.#ident);
        parts.push(if f.required {
            quote! { let v = #this; #value }
        } else {
            quote! { if let Some(v) = #this { #value } }
        });
    }
    let doc = format!(" Multipart body of [`Client::{}`].", op.method_name);
    let form_binding = if fields.is_empty() {
        quote!(let form)
    } else {
        quote!(let mut form)
    };
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone)]
        pub struct #name { #(#decls)* }
        impl #name {
            /// The parts, in document order.
            pub fn into_multipart(self) -> rt::Multipart {
                #form_binding = rt::Multipart::new();
                #(#parts)*
                form
            }
        }
    }
}

fn param_doc(p: &Param) -> TokenStream {
    let mut lines = p.doc.as_deref().map(doc_lines).unwrap_or_default();
    if !lines.is_empty() {
        lines.push(String::new());
    }
    let location = match p.location {
        ParamIn::Path => "path",
        ParamIn::Query => "query",
        ParamIn::Header => "header",
        ParamIn::Cookie => "cookie",
    };
    lines.push(format!("Sent as {location} parameter {}.", code(&p.name)));
    lines_to_attrs(&lines)
}

fn method_doc(op: &Operation) -> TokenStream {
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
            lines.push(format!(
                "- `{}` ({}){sep}{first}",
                p.rust_name,
                code(&p.name)
            ));
        }
    }
    if !op.gateway_headers.is_empty() {
        lines.push(String::new());
        let list = op
            .gateway_headers
            .iter()
            .map(|h| code(h))
            .collect::<Vec<_>>()
            .join(", ");
        lines.push(format!("The runtime supplies {list}; pass a FranceConnect token, if the call needs one, with [`Client::with_options`]."));
    }
    if op.traceability {
        lines.push(String::new());
        lines.push("The runtime adds the traceability parameters `context`, `recipient` and `object` configured on the client.".into());
    }
    lines_to_attrs(&lines)
}
