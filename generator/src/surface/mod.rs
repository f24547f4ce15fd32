//! Stage 4, the Rust API surface: what a generated crate exposes, as plain data.
//!
//! [`build`] decides, from the model, every public item of the crate (its path, its fields or
//! variants, whether callers may build or match it exhaustively) and every method (its
//! arguments, its request builder's setters, its success and error types). [`crate::emit`]
//! prints these decisions and [`crate::diff`] compares two of them, so what `diff` calls
//! additive is what the compiler accepts.
//!
//! The shapes are chosen so that a document that grows stays source-compatible:
//! optional parameters and per-call options are builder methods, structs and enums are
//! `#[non_exhaustive]` with constructors, and every operation has its own error type from its
//! first version.

mod features;
mod names;
mod rust_type;
mod tags;
mod types;

use crate::model::{Api, BodyKind, Operation, ParamIn, Prim, ResponseKind, StatusMatch, TypeRef};

pub use features::{Features, Gate, feature_name};
pub use names::{rename_reason, settle_type_names};
pub use rust_type::{ItemModule, RustType};
pub use types::{
    AliasItem, EnumItem, FieldItem, StructItem, TypeItem, TypeItemKind, UnionItem, UnionMember,
};

/// The public API of a generated crate.
#[derive(Debug, Clone, PartialEq)]
pub struct Surface {
    /// Items of the `types` module, in model order (index = model type id).
    pub types: Vec<TypeItem>,
    /// Methods of `Client`, in document order (index = model operation index).
    pub methods: Vec<Method>,
    /// The Cargo features methods and types compile under (none unless asked for).
    pub features: Features,
}

/// A method of `Client` and the request builder it returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Method {
    /// Method name (`situation_ir_assiettes`).
    pub name: String,
    /// Required arguments, in order.
    pub args: Vec<Arg>,
    /// Name of the request builder type in the `builders` module (`SituationIrAssiettesRequest`).
    pub builder: String,
    /// Builder methods besides `send`: optional parameters and per-call runtime options.
    pub setters: Vec<Setter>,
    /// What `.await` yields on success.
    pub success: Success,
    /// The operation's own error type.
    pub error: ErrorShape,
    /// Multipart body struct in the `builders` module, when the body is multipart.
    pub multipart: Option<StructItem>,
    /// Marked deprecated.
    pub deprecated: bool,
}

/// A required argument of a method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    /// Rust name.
    pub name: String,
    /// Rust type in the signature (`&str`, `i32`, `&types::Declaration`).
    pub ty: RustType,
    /// What it carries.
    pub source: ArgSource,
}

/// What an argument carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgSource {
    /// A parameter (index in the model operation's `params`).
    Param(usize),
    /// The request body.
    Body,
}

/// A builder method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setter {
    /// Method name.
    pub name: String,
    /// Types of its arguments (`impl Into<String>`; `rt::RetryPolicy`; two for `header`).
    pub takes: Vec<RustType>,
    /// What it sets.
    pub kind: SetterKind,
}

/// What a builder method sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetterKind {
    /// An optional parameter (index in the model operation's `params`); `ty` is its value type.
    Param(usize),
    /// A per-call runtime option.
    Runtime(RuntimeOption),
}

/// Per-call options of the runtime that request builders expose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeOption {
    /// `X-Correlation-ID` of this call.
    CorrelationId,
    /// Request timeout.
    Timeout,
    /// Retry policy.
    RetryPolicy,
    /// An extra header.
    Header,
    /// The user's FranceConnect token: only for FranceConnect routes (DGFiP's
    /// `X-FranceConnect-OAuth` header, API Particulier's FranceConnect security).
    FranceConnectToken,
    /// Traceability `object`: only for operations that take the traceability parameters.
    TraceabilityObject,
}

impl RuntimeOption {
    /// The builder method's name.
    pub fn method(self) -> &'static str {
        match self {
            RuntimeOption::CorrelationId => "correlation_id",
            RuntimeOption::Timeout => "timeout",
            RuntimeOption::RetryPolicy => "retry_policy",
            RuntimeOption::Header => "header",
            RuntimeOption::FranceConnectToken => "france_connect_token",
            RuntimeOption::TraceabilityObject => "traceability_object",
        }
    }

    fn arg_types(self) -> Vec<RustType> {
        let text = || RustType::into_of(RustType::string());
        match self {
            RuntimeOption::CorrelationId | RuntimeOption::TraceabilityObject => vec![text()],
            RuntimeOption::Timeout => vec![RustType::path("std::time::Duration")],
            RuntimeOption::RetryPolicy => vec![RustType::path("rt::RetryPolicy")],
            RuntimeOption::Header => vec![text(), text()],
            RuntimeOption::FranceConnectToken => {
                vec![RustType::into_of(RustType::path("rt::Secret"))]
            }
        }
    }
}

/// Names the builder itself uses: optional parameters with these names get a `_param` suffix.
const BUILDER_METHODS: [&str; 10] = [
    "send",
    "into_future",
    "change_options",
    "correlation_id",
    "timeout",
    "retry_policy",
    "header",
    "france_connect_token",
    "traceability_object",
    "client",
];

/// The success type of a method.
#[derive(Debug, Clone, PartialEq)]
pub enum Success {
    /// One body type for every success status.
    Uniform(RustType),
    /// Bodies differ by status: an enum of the `responses` module.
    ByStatus {
        /// Enum name.
        name: String,
        /// Variants: name and body type (`None` for an empty body).
        variants: Vec<(String, Option<RustType>)>,
    },
}

impl Success {
    /// The type inside `rt::Response<…>`.
    pub fn rust_type(&self) -> RustType {
        match self {
            Success::Uniform(t) => t.clone(),
            Success::ByStatus { name, .. } => RustType::Item(ItemModule::Responses, name.clone()),
        }
    }
}

/// The error type of a method: `rt::Error<Name>`, `Name` a `#[non_exhaustive]` enum with one
/// variant per documented error body type (not per status).
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorShape {
    /// Enum name in the `errors` module (`SituationIrAssiettesError`).
    pub name: String,
    /// Variants.
    pub variants: Vec<ErrorVariant>,
    /// The documented body of 429, which stays `rt::Error::RateLimited`: the variant that
    /// `RawResponse::rate_limited` wraps it into (`rt::Error::rate_limited_body` reads it).
    pub rate_limited: Option<String>,
}

/// A variant of an operation's error enum.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorVariant {
    /// Variant name (the body type's name).
    pub name: String,
    /// Body type.
    pub ty: RustType,
    /// Statuses documented with this body (429 excluded).
    pub statuses: Vec<StatusMatch>,
}

/// Builds the surface of a model, every item always compiled.
pub fn build(api: &Api) -> Surface {
    build_with(api, false)
}

/// Builds the surface of a model; with `features_per_tag`, each tag of the document is a
/// Cargo feature that its operations and the types only they reach compile under.
pub fn build_with(api: &Api, features_per_tag: bool) -> Surface {
    let features = if features_per_tag {
        Features::per_tag(api)
    } else {
        Features::none(api)
    };
    let types = types::type_items(&api.types, &tags::union_owned_tags(api));
    let methods = api
        .operations
        .iter()
        .map(|op| method(op, api, &types))
        .collect();
    Surface {
        types,
        methods,
        features,
    }
}

fn method(op: &Operation, api: &Api, type_items: &[TypeItem]) -> Method {
    let space = &api.types;
    let mut args = Vec::new();
    let mut setters = Vec::new();
    for (i, p) in op.params.iter().enumerate() {
        if p.required {
            args.push(Arg {
                name: p.rust_name.clone(),
                ty: arg_type(&p.ty, space),
                source: ArgSource::Param(i),
            });
        } else {
            let name = if BUILDER_METHODS.contains(&p.rust_name.as_str()) {
                format!("{}_param", p.rust_name)
            } else {
                p.rust_name.clone()
            };
            setters.push(Setter {
                name,
                takes: vec![RustType::into_of(RustType::of(&p.ty, space))],
                kind: SetterKind::Param(i),
            });
        }
    }
    let multipart = match &op.body {
        Some(body) => {
            let ty = match &body.kind {
                BodyKind::Json | BodyKind::Form => arg_type(&body.ty, space),
                BodyKind::Multipart(_) => {
                    RustType::Item(ItemModule::Builders, format!("{}Multipart", op.type_prefix))
                }
                BodyKind::Bytes => RustType::into_of(RustType::bytes()),
                BodyKind::Text => RustType::into_of(RustType::string()),
            };
            args.push(Arg {
                name: "body".into(),
                ty,
                source: ArgSource::Body,
            });
            match &body.kind {
                BodyKind::Multipart(fields) => Some(types::multipart_item(
                    &format!("{}Multipart", op.type_prefix),
                    fields,
                    space,
                )),
                _ => None,
            }
        }
        None => None,
    };
    let mut options = vec![
        RuntimeOption::CorrelationId,
        RuntimeOption::Timeout,
        RuntimeOption::RetryPolicy,
        RuntimeOption::Header,
    ];
    if op.france_connect
        || op
            .gateway_headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case("x-franceconnect-oauth"))
    {
        options.push(RuntimeOption::FranceConnectToken);
    }
    if op.traceability {
        options.push(RuntimeOption::TraceabilityObject);
    }
    setters.extend(options.into_iter().map(|o| Setter {
        name: o.method().into(),
        takes: o.arg_types(),
        kind: SetterKind::Runtime(o),
    }));
    Method {
        name: op.method_name.clone(),
        args,
        builder: format!("{}Request", op.type_prefix),
        setters,
        success: success(op, api),
        error: error_shape(op, api, type_items),
        multipart,
        deprecated: op.deprecated,
    }
}

/// Argument type: borrowed for strings and non-`Copy` values. Aliases of scalars and lists
/// (`type Siret = String`) are passed like what they stand for (`&str`).
pub fn arg_type(ty: &TypeRef, space: &crate::model::TypeSpace) -> RustType {
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
        TypeRef::Prim(Prim::String) => RustType::str_ref(),
        TypeRef::Vec(inner) => RustType::slice_ref(RustType::of(inner, space)),
        t if types::is_copy(t) => RustType::of(t, space),
        t => RustType::reference(RustType::of(t, space)),
    }
}

/// Body type of a response case, as written.
pub fn body_type(kind: ResponseKind, ty: Option<&TypeRef>, api: &Api) -> RustType {
    match kind {
        ResponseKind::Json => match ty {
            Some(t) => RustType::of(t, &api.types),
            None => RustType::of(&TypeRef::Prim(Prim::Any), &api.types),
        },
        ResponseKind::Text => RustType::string(),
        ResponseKind::Bytes => RustType::bytes(),
        ResponseKind::Empty => RustType::Unit,
    }
}

fn success(op: &Operation, api: &Api) -> Success {
    if op.success.is_empty() {
        return Success::Uniform(RustType::bytes());
    }
    let first = (
        op.success[0].kind,
        body_type(op.success[0].kind, op.success[0].ty.as_ref(), api),
    );
    let uniform = op
        .success
        .iter()
        .all(|c| (c.kind, body_type(c.kind, c.ty.as_ref(), api)) == first);
    if uniform {
        return Success::Uniform(first.1);
    }
    Success::ByStatus {
        name: format!("{}Success", op.type_prefix),
        variants: op
            .success
            .iter()
            .map(|c| {
                let ty =
                    (c.kind != ResponseKind::Empty).then(|| body_type(c.kind, c.ty.as_ref(), api));
                (c.variant.clone(), ty)
            })
            .collect(),
    }
}

fn error_shape(op: &Operation, api: &Api, type_items: &[TypeItem]) -> ErrorShape {
    let mut variants: Vec<ErrorVariant> = Vec::new();
    let mut rate_limited = None;
    for case in op.errors.iter().filter(|c| c.kind == ResponseKind::Json) {
        let ty = body_type(case.kind, case.ty.as_ref(), api);
        let index = match variants.iter().position(|v| v.ty == ty) {
            Some(i) => i,
            None => {
                let mut name = error_variant_name(case.ty.as_ref(), type_items, case);
                while variants.iter().any(|v| v.name == name) {
                    name.push('_');
                }
                variants.push(ErrorVariant {
                    name,
                    ty,
                    statuses: Vec::new(),
                });
                variants.len() - 1
            }
        };
        if case.status == StatusMatch::Code(429) {
            rate_limited = Some(variants[index].name.clone());
        } else {
            variants[index].statuses.push(case.status);
        }
    }
    ErrorShape {
        name: format!("{}Error", op.type_prefix),
        variants,
        rate_limited,
    }
}

/// A variant named after its body type: `ErreurDgfip(types::ErreurDgfip)`.
fn error_variant_name(
    ty: Option<&TypeRef>,
    type_items: &[TypeItem],
    case: &crate::model::ResponseCase,
) -> String {
    match ty.map(TypeRef::unwrap_option) {
        Some(TypeRef::Named(id)) => type_items[*id].name.clone(),
        Some(TypeRef::Boxed(inner)) => match inner.as_ref() {
            TypeRef::Named(id) => type_items[*id].name.clone(),
            _ => case.variant.clone(),
        },
        Some(TypeRef::Vec(inner)) => match inner.as_ref() {
            TypeRef::Named(id) => format!("{}List", type_items[*id].name),
            _ => case.variant.clone(),
        },
        Some(TypeRef::Prim(Prim::Any)) | None => "Json".into(),
        _ => case.variant.clone(),
    }
}

/// Where a parameter goes, as a word (kept for callers of 0.5.0; see [`ParamIn::word`]).
pub fn location_word(location: ParamIn) -> &'static str {
    location.word()
}

#[cfg(test)]
mod tests;
