//! `builders.rs` of a generated crate: one request builder per operation (its fields,
//! optional-parameter setters, `send` and, through the runtime's `per_call_options!`, its
//! per-call options and `IntoFuture`), and the multipart body structs.
//!
//! `send` stays short on purpose: it builds an `rt::Request`, hands it to the runtime (which
//! owns auth, correlation IDs, retries and limits) and picks the decoder for the status.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::docs::{code, doc_lines, lines_to_attrs};
use super::gates::{allow_without_features, gated};
use super::idents::{deprecated, field_ident, ident};
use super::per_call::extra_option;
use super::rust_types::{Scope, is_param_value, stored_tokens, tokens, type_tokens};
use crate::model::{
    Api, BodyKind, Operation, Param, ParamIn, ResponseKind, StatusMatch, TypeRef, TypeSpace,
};
use crate::surface::{ArgSource, Method, SetterKind, Success, Surface};

/// Tokens of the `builders` module.
pub fn builders_file(api: &Api, surface: &Surface, has_responses: bool) -> TokenStream {
    let gates = &surface.features.methods;
    let items = api
        .operations
        .iter()
        .zip(&surface.methods)
        .zip(gates)
        .map(|((op, m), gate)| {
            let mut items = vec![builder(op, m, &api.types)];
            if let (Some(item), Some(body)) = (&m.multipart, &op.body)
                && let BodyKind::Multipart(fields) = &body.kind
            {
                items.push(multipart_struct(m, item, fields, &api.types));
            }
            gated(quote!(#(#items)*), gate)
        });
    // With features per tag, a crate built without any of them compiles no builder.
    let unused_imports = allow_without_features(&surface.features, "unused_imports");
    let responses = has_responses.then(|| quote!(#unused_imports use super::responses::*;));
    quote! {
        //! Request builders: what the methods of [`Client`] return. Set optional parameters
        //! and per-call options on one, then `.await` it. Multipart bodies are here too.
        use gouvgen_runtime as rt;
        #[allow(unused_imports)]
        use super::types;
        #unused_imports
        use super::Client;
        #unused_imports
        use super::errors::*;
        #responses

        #(#items)*
    }
}

/// The result type of a method, as tokens.
fn result_type(m: &Method) -> TokenStream {
    let success = tokens(&m.success.rust_type(), Scope::Crate);
    let error = ident(&m.error.name);
    quote!(Result<rt::Response<#success>, rt::Error<#error>>)
}

/// The request builder of an operation: its fields, setters, `send` and `IntoFuture`.
fn builder(op: &Operation, m: &Method, space: &TypeSpace) -> TokenStream {
    let name = ident(&m.builder);
    let mut fields = Vec::new();
    for a in &m.args {
        let f = field_ident(&a.name);
        let ty = stored_tokens(&a.ty, Scope::Crate);
        fields.push(quote!(pub(crate) #f: #ty,));
    }
    let mut setters = Vec::new();
    let mut runtime = Vec::new();
    for s in &m.setters {
        match s.kind {
            SetterKind::Param(i) => {
                let p = &op.params[i];
                let f = field_ident(&p.rust_name);
                let ty = type_tokens(&p.ty, space);
                fields.push(quote!(pub(crate) #f: Option<#ty>,));
                setters.push(param_setter(p, s, &ty));
            }
            SetterKind::Runtime(o) => runtime.extend(extra_option(o)),
        }
    }
    let success = tokens(&m.success.rust_type(), Scope::Crate);
    let error = ident(&m.error.name);
    let send = send(op, m, space);
    let doc = format!(
        " A call of [`Client::{}`]: set optional parameters and per-call options, then `.await` it (or call [`{}::send`]).",
        m.name, m.builder
    );
    quote! {
        #[doc = #doc]
        #[derive(Debug)]
        #[must_use = "a request does nothing until it is awaited"]
        pub struct #name<'a> {
            pub(crate) client: &'a Client,
            #(#fields)*
            pub(crate) options: Option<rt::CallOptions>,
        }
        impl<'a> #name<'a> {
            #(#setters)*
            #send
        }
        rt::per_call_options!(#name, #success, #error);
        #(rt::per_call_options!(#runtime #name);)*
    }
}

fn param_setter(p: &Param, s: &crate::surface::Setter, ty: &TokenStream) -> TokenStream {
    let setter = ident(&s.name);
    let f = field_ident(&p.rust_name);
    let doc = param_doc(p);
    let deprecated = deprecated(p.deprecated);
    quote! {
        #doc
        #deprecated
        pub fn #setter(mut self, value: impl Into<#ty>) -> Self {
            self.#f = Some(value.into());
            self
        }
    }
}

/// `send`: builds the `rt::Request`, executes it, decodes the response by status.
fn send(op: &Operation, m: &Method, space: &TypeSpace) -> TokenStream {
    let http_method = ident(&op.http_method);
    let op_id = &op.id;
    let path = path_expr(op, space);
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
    chain.extend(body_statement(op, m));
    // The audit trail records the template, never the path (it carries personal data).
    let path_template = op.path.as_str();
    chain.insert(0, quote!(.path_template(#path_template)));
    if op.no_auth {
        chain.push(quote!(.no_auth()));
    }
    if op.traceability {
        chain.push(quote!(.traceability()));
    }
    let binding = if after.is_empty() {
        quote!(let request)
    } else {
        quote!(let mut request)
    };
    let output = result_type(m);
    let arms = response_arms(op, m);
    let overlap = endpoint_overlap(op, m).then(|| quote!(#[allow(clippy::match_overlapping_arm)]));
    quote! {
        /// Sends the request: the same as `.await` on the builder.
        #overlap
        pub async fn send(self) -> #output {
            let path = #path;
            #binding = rt::Request::new(rt::Method::#http_method, #op_id, path) #(#chain)*;
            #(#after)*
            let call = self.client.runtime.execute_with(self.options, request);
            let response = call.await?;
            #arms
        }
    }
}

/// The body's `.json(…)` / `.form(…)` step. Those take `&impl Serialize` (a sized type), so
/// a body passed by value (`i64`) or as a reference to an unsized type (`&str`, `&[T]`, the
/// arguments of array and string schemas) is borrowed once more; `&Struct` goes as it is.
fn body_statement(op: &Operation, m: &Method) -> Option<TokenStream> {
    let body = op.body.as_ref()?;
    let mt = &body.media_type;
    let arg = m.args.iter().find(|a| a.source == ArgSource::Body)?;
    let serialized = if arg.ty.is_sized_ref() {
        quote!(self.body)
    } else {
        quote!(&self.body)
    };
    Some(match &body.kind {
        BodyKind::Json => quote!(.json(#mt, #serialized)),
        BodyKind::Form => quote!(.form(#serialized)),
        BodyKind::Bytes => quote!(.bytes(#mt, self.body)),
        BodyKind::Text => quote!(.text(#mt, self.body)),
        BodyKind::Multipart(_) => quote!(.multipart(self.body.into_multipart())),
    })
}

/// The `match` on the status: success arms, 429 kept as `RateLimited` (with its documented
/// body, if any), one arm per documented error body type, then the fallback. A `429` arm is
/// written only when it differs from the arm that would otherwise take a 429.
fn response_arms(op: &Operation, m: &Method) -> TokenStream {
    let mut arms = success_arms(op, m);
    let error = ident(&m.error.name);
    let mut default_arm = None;
    let caught_later = m.error.variants.iter().any(|v| {
        v.statuses
            .iter()
            .any(|s| matches!(s, StatusMatch::Default | StatusMatch::Range(4)))
    });
    match &m.error.rate_limited {
        Some(v) => {
            let variant = ident(v);
            arms.push(quote!(429 => Err(response.rate_limited(#error::#variant)),));
        }
        None if caught_later => arms.push(quote!(429 => Err(response.into_error()),)),
        None => {}
    }
    // The statuses of the variant that is also the default need no arm of their own, unless
    // a range could catch them first once their arm is gone.
    let any_range = (m.error.variants.iter())
        .flat_map(|v| &v.statuses)
        .any(|s| matches!(s, StatusMatch::Range(_)));
    for v in &m.error.variants {
        let variant = ident(&v.name);
        let pats: Vec<TokenStream> = v
            .statuses
            .iter()
            .filter(|s| **s != StatusMatch::Default)
            .map(|s| status_pattern(*s, false))
            .collect();
        let is_default = v.statuses.contains(&StatusMatch::Default);
        if !pats.is_empty() && (!is_default || any_range) {
            arms.push(quote!(#(#pats)|* => Err(response.documented_error(#error::#variant)),));
        }
        if v.statuses.contains(&StatusMatch::Default) {
            default_arm = Some(quote!(_ => Err(response.documented_error(#error::#variant)),));
        }
    }
    arms.push(default_arm.unwrap_or_else(|| quote!(_ => Err(response.into_error()),)));
    quote! {
        match response.status() {
            #(#arms)*
        }
    }
}

fn success_arms(op: &Operation, m: &Method) -> Vec<TokenStream> {
    if op.success.is_empty() {
        return vec![quote!(200..=299 => response.bytes(),)];
    }
    match &m.success {
        Success::Uniform(_) => op
            .success
            .iter()
            .map(|c| {
                let pat = status_pattern(c.status, true);
                let read = reader(c.kind);
                quote!(#pat => response.#read(),)
            })
            .collect(),
        Success::ByStatus { name, variants } => {
            let enum_name = ident(name);
            op.success
                .iter()
                .zip(variants)
                .map(|(c, (v, ty))| {
                    let v = ident(v);
                    let pat = status_pattern(c.status, true);
                    match ty {
                        None => {
                            quote!(#pat => response.empty().map(|r| r.map(|()| #enum_name::#v)),)
                        }
                        Some(ty) => {
                            let read = if c.kind == ResponseKind::Json {
                                let ty = tokens(ty, Scope::Crate);
                                quote!(json::<#ty, _>)
                            } else {
                                reader(c.kind)
                            };
                            quote!(#pat => response.#read().map(|r| r.map(#enum_name::#v)),)
                        }
                    }
                })
                .collect()
        }
    }
}

/// The path as an expression: literal pieces and encoded parameters, concatenated.
fn path_expr(op: &Operation, space: &TypeSpace) -> TokenStream {
    let mut pieces = vec![quote!(self.client.base_path.as_str())];
    let mut rest = op.path.as_str();
    while let Some(start) = rest.find('{') {
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
                if start > 0 {
                    let lit = &rest[..start];
                    pieces.push(quote!(#lit));
                }
                let f = field_ident(&p.rust_name);
                let arg = super::params::path_arg(p, space, quote!(self.#f));
                pieces.push(quote!(#arg.as_str()));
            }
            None => {
                let lit = &rest[..start + len + 1];
                pieces.push(quote!(#lit));
            }
        }
        rest = &rest[start + len + 1..];
    }
    if !rest.is_empty() {
        pieces.push(quote!(#rest));
    }
    quote!([#(#pieces),*].concat())
}

/// Statements adding one parameter: chained calls, or statements after the chain.
fn param_statement(p: &Param, space: &TypeSpace) -> (Vec<TokenStream>, Vec<TokenStream>) {
    let ident = field_ident(&p.rust_name);
    let value = quote!(self.#ident);
    if let Some(call) = super::params::styled_call(p, space, &value) {
        return (vec![call], Vec::new());
    }
    let name = &p.name;
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

/// Whether a status code of the operation sits on an end of one of its ranges (`200` and
/// `2XX`, `499` and `4XX`): its own arm comes first, as meant, and clippy's
/// `match_overlapping_arm` would flag the pair (found by the mutation campaign, seed
/// 20261211).
fn endpoint_overlap(op: &Operation, m: &Method) -> bool {
    // A default (or missing) success is the `200..=299` arm.
    let success_range =
        op.success.is_empty() || (op.success.iter()).any(|c| c.status == StatusMatch::Default);
    let statuses: Vec<StatusMatch> = (op.success.iter().map(|c| c.status))
        .chain(success_range.then_some(StatusMatch::Range(2)))
        .chain(
            m.error
                .variants
                .iter()
                .flat_map(|v| v.statuses.iter().copied()),
        )
        .collect();
    statuses.iter().any(|s| match *s {
        StatusMatch::Code(c) => {
            (c % 100 == 0 || c % 100 == 99) && statuses.contains(&StatusMatch::Range(c / 100))
        }
        _ => false,
    })
}

fn status_pattern(status: StatusMatch, as_success_default: bool) -> TokenStream {
    match status {
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

fn reader(kind: ResponseKind) -> TokenStream {
    match kind {
        ResponseKind::Json => quote!(json),
        ResponseKind::Text => quote!(text),
        ResponseKind::Bytes => quote!(bytes),
        ResponseKind::Empty => quote!(empty),
    }
}

fn multipart_struct(
    m: &Method,
    item: &crate::surface::StructItem,
    fields: &[crate::model::MultipartField],
    space: &TypeSpace,
) -> TokenStream {
    let name = ident(&item.name);
    let mut decls = Vec::new();
    let mut parts = Vec::new();
    for (f, fi) in fields.iter().zip(&item.fields) {
        let field = ident(&fi.name);
        let part = &f.name;
        let ty = tokens(&fi.ty, Scope::Crate);
        let doc = super::docs::doc_attrs(f.doc.as_deref());
        decls.push(quote!(#doc pub #field: #ty,));
        let value = if f.is_file {
            quote!(form = form.file(#part, v);)
        } else if is_param_value(&f.ty, space) {
            quote!(form = form.text(#part, &v);)
        } else {
            quote!(form = form.text(#part, &rt::serde_json::to_value(&v).unwrap_or_default());)
        };
        parts.push(if f.required {
            quote! { let v = self.#field; #value }
        } else {
            quote! { if let Some(v) = self.#field { #value } }
        });
    }
    let doc = format!(" Multipart body of [`Client::{}`].", m.name);
    // Without a required part every field is an `Option`: `Default` is derived, as for the
    // schema structs (clippy's `new_without_default` otherwise; mutation seed 20261215).
    let default_derive = item.default.then(|| quote!(, Default));
    let methods = if item.default {
        super::types::new_from_default(&name, fields.is_empty())
    } else {
        super::types::constructor(item, Scope::Crate, &Default::default())
    };
    // No part at all (an object schema without properties): the empty form is returned as
    // is, a `let` then return would fail clippy's `let_and_return` (mutation seed 20261216).
    let body = if parts.is_empty() {
        quote!(rt::Multipart::new())
    } else {
        quote! {
            let mut form = rt::Multipart::new();
            #(#parts)*
            form
        }
    };
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone #default_derive)]
        #[non_exhaustive]
        pub struct #name { #(#decls)* }
        #methods
        impl #name {
            /// The parts, in document order.
            pub fn into_multipart(self) -> rt::Multipart {
                #body
            }
        }
    }
}

fn param_doc(p: &Param) -> TokenStream {
    let mut lines = p.doc.as_deref().map(doc_lines).unwrap_or_default();
    if !lines.is_empty() {
        lines.push(String::new());
    }
    let location = p.location.word();
    lines.push(format!("Sent as {location} parameter {}.", code(&p.name)));
    lines_to_attrs(&lines)
}
