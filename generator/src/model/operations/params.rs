//! The parameters of an operation: which declarations count (shared, own, duplicates), what
//! each one becomes (a Rust argument, a header the runtime sets, a traceability field), and
//! how they meet the path template.

use serde_json::Value;

use super::super::types::{Prim, TypeKind, TypeRef, TypeSpace, doc_of};
use super::{
    Builder, GATEWAY_HEADERS, Param, ParamIn, ParamStyle, SchemaIssue, TRACEABILITY_PARAMS,
    path_template,
};
use crate::naming::{Namer, pascal, snake};
use crate::oas::{self, Parameter};

/// What an operation's parameters become.
pub(super) struct Params {
    /// The template the call goes to (Express-style segments rewritten).
    pub path: String,
    /// The Rust arguments: path parameters in template order, then the rest in document order.
    pub params: Vec<Param>,
    /// Gateway headers and API keys the runtime sets itself, as the document names them.
    pub gateway_headers: Vec<String>,
    /// Whether the three traceability query parameters are all declared (the runtime fills them).
    pub traceability: bool,
}

/// What one declaration becomes.
enum Read {
    Param(Param),
    Gateway(String),
}

impl Builder<'_> {
    /// Reads the parameters of `op` (and those of its path item it does not override).
    pub(super) fn params(
        &mut self,
        op: oas::Operation<'_>,
        shared: &[Value],
        path: &str,
        pointer: &str,
        type_prefix: &str,
    ) -> Params {
        let raw_params = self.gather_params(op, shared, pointer);
        let names_in_query: Vec<&str> = (raw_params.iter().map(|(p, _)| Parameter(p)))
            .filter(|p| p.location() == Some("query"))
            .filter_map(|p| p.name())
            .collect();
        let traceability = (TRACEABILITY_PARAMS.iter()).all(|t| names_in_query.contains(t));

        let mut names = Namer::with_reserved(&["body", "self", "options"]);
        let mut params = Vec::new();
        let mut gateway_headers = Vec::new();
        for (node, ptr) in &raw_params {
            match self.read_param(node, ptr, type_prefix, traceability, &mut names) {
                Some(Read::Param(p)) => params.push(p),
                Some(Read::Gateway(name)) => gateway_headers.push(name),
                None => {}
            }
        }
        let path = self.settle_template(path, pointer, &mut params, &mut names);
        Params {
            path,
            params,
            gateway_headers,
            traceability,
        }
    }

    /// One declaration: a Rust argument, a header the runtime sets, or nothing (a
    /// traceability field the runtime fills, or a declaration it cannot use, with a warning).
    fn read_param(
        &mut self,
        node: &Value,
        ptr: &str,
        type_prefix: &str,
        traceability: bool,
        names: &mut Namer,
    ) -> Option<Read> {
        let p = Parameter(node);
        let Some(name) = p.name() else {
            self.reader.issues.push(SchemaIssue {
                pointer: ptr.to_string(),
                message: "parameter without a name; skipped".into(),
                hint: "give the parameter a `name`".into(),
                fatal: false,
            });
            return None;
        };
        let Some(location) = p.location().and_then(ParamIn::parse) else {
            self.reader.issues.push(SchemaIssue {
                pointer: format!("{ptr}/in"),
                message: format!(
                    "parameter `{name}` has location {:?}, which gouvgen does not know; skipped",
                    p.location()
                ),
                hint: "use path, query, header or cookie".into(),
                fatal: false,
            });
            return None;
        };
        if self.set_by_runtime(name, location) {
            return Some(Read::Gateway(name.to_string()));
        }
        if traceability && location == ParamIn::Query && TRACEABILITY_PARAMS.contains(&name) {
            return None;
        }
        let schema = p.schema().cloned().unwrap_or(Value::Null);
        let hint = format!("{type_prefix}{}", pascal(name));
        let ty = self
            .reader
            .read(&schema, &format!("{ptr}/schema"), &hint, 0);
        let ty = match ty {
            TypeRef::Option(inner) => *inner,
            other => other,
        };
        let required = location == ParamIn::Path || p.required();
        let style = style_of(p.style(), location);
        let explode = p
            .explode()
            .unwrap_or(style == ParamStyle::Form || style == ParamStyle::DeepObject);
        // In the query, nested values have a writing the APIs agree on (brackets in
        // `deepObject`, one JSON text otherwise: the runtime's `query_styled`).
        let nested_refused = location != ParamIn::Query;
        if let Some(what) = unserialisable(&ty, &self.reader.space).filter(|_| nested_refused) {
            self.reader.issues.push(SchemaIssue {
                pointer: format!("{ptr}/schema"),
                message: format!("parameter `{name}` is {what}: OpenAPI defines no way to write it in a {}", location.word()),
                hint: "make the items scalars (strings, numbers, enums), or send the value in a request body".into(),
                fatal: true,
            });
            return None;
        }
        Some(Read::Param(Param {
            name: name.to_string(),
            rust_name: names.unique(&snake(name), "_"),
            location,
            ty,
            required,
            doc: doc_of(node),
            explode,
            style,
            deprecated: p.deprecated(),
        }))
    }

    /// Whether the runtime sets this parameter itself: a gateway header (correlation ID…) or
    /// the API key of a security scheme.
    fn set_by_runtime(&self, name: &str, location: ParamIn) -> bool {
        let lower = name.to_ascii_lowercase();
        (location == ParamIn::Header && GATEWAY_HEADERS.contains(&lower.as_str()))
            || (self.api_key_params.iter()).any(|(n, l)| n == &lower && l == location.word())
    }

    /// The template, with each path parameter in it: Express-style segments rewritten, path
    /// parameters the template never mentions left out, placeholders never declared added as
    /// strings (each with a warning); path parameters sorted in template order.
    fn settle_template(
        &mut self,
        path: &str,
        pointer: &str,
        params: &mut Vec<Param>,
        names: &mut Namer,
    ) -> String {
        let path = self.express_template(path, pointer, params);
        // Path parameters in template order, then the rest in document order.
        let template_order = path_template::placeholders(&path);
        for placeholder in &template_order {
            if !params
                .iter()
                .any(|p| p.location == ParamIn::Path && &p.name == placeholder)
            {
                self.reader.issues.push(SchemaIssue {
                    pointer: pointer.to_string(),
                    message: format!("the path has `{{{placeholder}}}` but no path parameter of that name; added as a string"),
                    hint: format!("declare `{placeholder}` with `in: path`"),
                    fatal: false,
                });
                params.push(Param {
                    name: placeholder.clone(),
                    rust_name: names.unique(&snake(placeholder), "_"),
                    location: ParamIn::Path,
                    ty: TypeRef::Prim(Prim::String),
                    required: true,
                    doc: None,
                    explode: false,
                    style: ParamStyle::Simple,
                    deprecated: false,
                });
            }
        }
        params.sort_by_key(|p| match p.location {
            ParamIn::Path => (0, template_order.iter().position(|t| t == &p.name)),
            _ => (1, None),
        });

        path
    }

    /// The template the call goes to: Express-style `:name` segments of declared path
    /// parameters become `{name}` (with a warning), and a path parameter the template never
    /// mentions is left out of the method (with a warning) rather than silently never sent.
    fn express_template(&mut self, path: &str, pointer: &str, params: &mut Vec<Param>) -> String {
        let declared: Vec<&str> = params
            .iter()
            .filter(|p| p.location == ParamIn::Path)
            .map(|p| p.name.as_str())
            .collect();
        let (template, rewritten) = path_template::express_to_braces(path, &declared);
        for name in &rewritten {
            self.reader.issues.push(SchemaIssue {
                pointer: pointer.rsplit_once('/').map_or(pointer, |x| x.0).to_string(),
                message: format!(
                    "path `{}` writes parameter `{name}` Express-style as `:{name}`; read as `{{{name}}}`",
                    path.escape_debug()
                ),
                hint: format!("write the placeholder as `{{{name}}}` in the document"),
                fatal: false,
            });
        }
        let present = path_template::placeholders(&template);
        params.retain(|p| {
            let unused = p.location == ParamIn::Path && !present.contains(&p.name);
            if unused {
                self.reader.issues.push(SchemaIssue {
                    pointer: pointer.to_string(),
                    message: format!(
                        "path parameter `{}` does not appear in the template `{}`; left out of the method",
                        p.name,
                        template.escape_debug()
                    ),
                    hint: format!("add `{{{}}}` to the path, or remove the parameter", p.name),
                    fatal: false,
                });
            }
            !unused
        });
        template
    }

    /// The operation's parameters: the path item's shared ones it does not override, then its
    /// own, each with its pointer. A second parameter with the same `name` and `in` (the
    /// document is invalid) is dropped with a warning: the first one is the one sent, and a
    /// second field would never be read.
    fn gather_params(
        &mut self,
        op: oas::Operation<'_>,
        shared: &[Value],
        pointer: &str,
    ) -> Vec<(Value, String)> {
        let own: Vec<(Value, String)> = (op.parameters().iter().enumerate())
            .map(|(i, p)| (self.deref(p).clone(), format!("{pointer}/parameters/{i}")))
            .collect();
        let item = pointer.rsplit_once('/').map_or(pointer, |x| x.0);
        let inherited = (shared.iter().enumerate())
            .map(|(i, p)| (self.deref(p).clone(), format!("{item}/parameters/{i}")))
            .filter(|(p, _)| !own.iter().any(|(o, _)| same_param(o, p)));
        let mut kept: Vec<(Value, String)> = Vec::new();
        for (param, ptr) in inherited.collect::<Vec<_>>().into_iter().chain(own) {
            let named = Parameter(&param).name().is_some();
            let twin = kept.iter().find(|(k, _)| named && same_param(k, &param));
            let Some((_, first)) = twin else {
                kept.push((param, ptr));
                continue;
            };
            let (name, location) = Parameter(&param).identity();
            let shown = |v: Option<&Value>| {
                v.and_then(Value::as_str)
                    .unwrap_or("?")
                    .escape_debug()
                    .to_string()
            };
            self.reader.issues.push(SchemaIssue {
                pointer: ptr.clone(),
                message: format!(
                    "parameter `{}` in `{}` is declared twice (first at #{first}); this one is left out",
                    shown(name),
                    shown(location)
                ),
                hint: "remove one of the two declarations".into(),
                fatal: false,
            });
        }
        kept
    }
}

/// Whether two declarations name the same parameter: same `name` and `in`.
fn same_param(a: &Value, b: &Value) -> bool {
    Parameter(a).identity() == Parameter(b).identity()
}

/// The serialisation style: the document's where OpenAPI allows it at that location, else
/// the location's default.
fn style_of(style: Option<&str>, location: ParamIn) -> ParamStyle {
    match (style, location) {
        (Some("deepObject"), ParamIn::Query) => ParamStyle::DeepObject,
        (Some("spaceDelimited"), ParamIn::Query) => ParamStyle::SpaceDelimited,
        (Some("pipeDelimited"), ParamIn::Query) => ParamStyle::PipeDelimited,
        (_, ParamIn::Query | ParamIn::Cookie) => ParamStyle::Form,
        (_, ParamIn::Path | ParamIn::Header) => ParamStyle::Simple,
    }
}

/// Whether a parameter type has a serialisation: arrays and maps of scalars, objects,
/// unions and scalars do; arrays of arrays or of objects do not.
fn unserialisable(ty: &TypeRef, space: &TypeSpace) -> Option<&'static str> {
    match resolve_alias(ty, space) {
        TypeRef::Vec(items) | TypeRef::Map(items) => {
            if is_scalar(resolve_alias(items, space), space) {
                None
            } else {
                Some("an array or map whose items are arrays or objects")
            }
        }
        _ => None,
    }
}

/// Follows aliases and `Option`/`Box` to the type a value really has.
fn resolve_alias<'t>(mut ty: &'t TypeRef, space: &'t TypeSpace) -> &'t TypeRef {
    for _ in 0..64 {
        ty = match ty {
            TypeRef::Option(inner) | TypeRef::Boxed(inner) => inner,
            TypeRef::Named(id) => match &space.types[*id].kind {
                TypeKind::Alias(inner) => inner,
                _ => return ty,
            },
            _ => return ty,
        };
    }
    ty
}

/// Scalars, enums, and unions of scalars.
fn is_scalar(ty: &TypeRef, space: &TypeSpace) -> bool {
    match ty {
        TypeRef::Prim(Prim::Object) => false,
        TypeRef::Prim(_) => true,
        TypeRef::Named(id) => match &space.types[*id].kind {
            TypeKind::Enum { .. } => true,
            TypeKind::Union { variants, .. } => variants
                .iter()
                .all(|v| matches!(resolve_alias(&v.ty, space), TypeRef::Prim(p) if !matches!(p, Prim::Object | Prim::Any))),
            _ => false,
        },
        _ => false,
    }
}
