//! Stage 3, the intermediate model: what the client offers, independent of any syntax.
//!
//! [`build`] reads a normalised document into an [`Api`]: named types ([`types`]), operations
//! with typed parameters, bodies and per-status responses ([`operations`]), and the gateway
//! facts the runtime must honour (security, base path). Problems are collected with their
//! JSON pointers instead of stopping at the first one.

mod operation_ids;
pub mod operations;
mod path_template;
mod recursion;
pub mod types;

use serde_json::Value;

pub use operations::{
    BodyKind, MultipartField, Operation, Param, ParamIn, ParamStyle, RequestBody, ResponseCase,
    ResponseKind, StatusMatch,
};
pub use types::{
    EnumVariant, Field, NamedType, Prim, TypeId, TypeKind, TypeRef, TypeSpace, UnionVariant,
};

use crate::error::{Diagnostic, Error, Result};
use crate::load::Document;
use crate::normalise::{self, Dialect};

/// A security scheme the document declares, as the runtime must see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Security {
    /// OAuth 2.0 (any flow: the gateway decides the real one).
    OAuth2 {
        /// Scheme name.
        name: String,
        /// Flows declared.
        flows: Vec<String>,
    },
    /// HTTP bearer (JWT).
    Bearer {
        /// Scheme name.
        name: String,
    },
    /// HTTP basic.
    Basic {
        /// Scheme name.
        name: String,
    },
    /// An API key in a header, query parameter or cookie.
    ApiKey {
        /// Scheme name.
        name: String,
        /// Parameter name.
        param: String,
        /// Where.
        location: String,
    },
}

/// The whole API.
#[derive(Debug, Clone)]
pub struct Api {
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub version: String,
    /// `info.description`.
    pub description: Option<String>,
    /// Format the document was written in.
    pub dialect: Dialect,
    /// Path prefix of every operation (from `servers` or `basePath`), without trailing `/`.
    pub base_path: String,
    /// Server URLs as written (documentation only: gateways' real hosts come from presets).
    pub servers: Vec<String>,
    /// Named types.
    pub types: TypeSpace,
    /// Operations in document order.
    pub operations: Vec<Operation>,
    /// Security schemes.
    pub security: Vec<Security>,
}

/// What a build produced besides the model.
#[derive(Debug, Clone, Default)]
pub struct Warnings(pub Vec<Diagnostic>);

/// Loads, normalises and models a document.
pub fn build(doc: &Document) -> Result<(Api, Warnings)> {
    let dialect = normalise::detect(doc)?;
    let root = normalise::normalise(doc, dialect);
    let mut builder = operations::Builder::new(&root, dialect);
    builder.read_all();
    let operations::Built {
        mut api,
        mut issues,
    } = builder.finish(model_header(&root, dialect));
    issues.extend(recursion::check(&mut api.types));

    let mut errors = Vec::new();
    let mut warnings = doc.warnings.clone();
    let located = doc.diagnostics_near(
        issues
            .iter()
            .map(|i| {
                let p = original_pointer(&i.pointer, dialect);
                if dialect == Dialect::Swagger2 {
                    let p = existing_prefix(&doc.root, &body_parameter_pointer(&doc.root, &p));
                    let m = i.message.replace("#/components/schemas/", "#/definitions/");
                    (p, m)
                } else {
                    (p, i.message.clone())
                }
            })
            .collect(),
    );
    for (issue, d) in issues.into_iter().zip(located) {
        let d = d.hint(issue.hint);
        if issue.fatal {
            errors.push(d)
        } else {
            warnings.push(d)
        }
    }
    if !errors.is_empty() {
        return Err(Error::Spec(errors));
    }
    Ok((api, Warnings(warnings)))
}

fn model_header(root: &Value, dialect: Dialect) -> Api {
    let info = root.get("info");
    let text = |k: &str| {
        info.and_then(|i| i.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let servers: Vec<String> = root
        .get("servers")
        .and_then(Value::as_array)
        .map(|s| {
            s.iter()
                .filter_map(|x| x.get("url").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Api {
        title: text("title").unwrap_or_else(|| "API".into()),
        version: info
            .and_then(|i| i.get("version"))
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            })
            .unwrap_or_default(),
        description: text("description"),
        dialect,
        base_path: base_path(servers.first().map(String::as_str).unwrap_or("")),
        servers,
        types: TypeSpace::default(),
        operations: Vec::new(),
        security: Vec::new(),
    }
}

/// The path part of a server URL: `https://IP-GATEWAY/impotparticulier/1.0` → `/impotparticulier/1.0`.
pub fn base_path(url: &str) -> String {
    let after_scheme = match url.find("://") {
        Some(i) => &url[i + 3..],
        None if url.starts_with("//") => &url[2..],
        None => {
            let p = url.trim_end_matches('/');
            return if p.is_empty() || p.starts_with('/') {
                p.to_string()
            } else {
                format!("/{p}")
            };
        }
    };
    let path = match after_scheme.find('/') {
        Some(i) => &after_scheme[i..],
        None => "",
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    path.trim_end_matches('/').to_string()
}

/// Pointers into a converted Swagger 2.0 document, mapped back to the original where the
/// shapes correspond (the line lookup walks up to the nearest existing ancestor anyway).
fn original_pointer(pointer: &str, dialect: Dialect) -> String {
    if dialect != Dialect::Swagger2 {
        return pointer.to_string();
    }
    for (new, old) in [
        ("/components/schemas/", "/definitions/"),
        ("/components/parameters/", "/parameters/"),
        ("/components/responses/", "/responses/"),
        ("/components/securitySchemes/", "/securityDefinitions/"),
    ] {
        if let Some(rest) = pointer.strip_prefix(new) {
            return format!("{old}{rest}");
        }
    }
    pointer.to_string()
}

/// `…/post/requestBody/content/<type>/schema/…` of a converted Swagger 2.0 operation is
/// `…/post/parameters/<i>/schema/…` in the user's file (`i` its `in: body` parameter).
fn body_parameter_pointer(root: &Value, pointer: &str) -> String {
    let Some((op, rest)) = pointer.split_once("/requestBody") else {
        return pointer.to_string();
    };
    let index = root
        .pointer(&format!("{op}/parameters"))
        .and_then(Value::as_array)
        .and_then(|ps| {
            ps.iter()
                .position(|p| p.get("in").and_then(Value::as_str) == Some("body"))
        });
    let (Some(i), Some(at)) = (index, rest.find("/schema")) else {
        return pointer.to_string();
    };
    format!("{op}/parameters/{i}{}", &rest[at..])
}

/// The longest prefix of `pointer` that names a node of the user's document: pointers into
/// a converted Swagger 2.0 document (`…/requestBody/content/…`) must name the user's file.
fn existing_prefix(root: &Value, pointer: &str) -> String {
    let mut p = pointer;
    loop {
        if root.pointer(p).is_some() {
            return p.to_string();
        }
        match p.rfind('/') {
            Some(i) => p = &p[..i],
            None => return String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::base_path;

    #[test]
    fn base_paths() {
        assert_eq!(
            base_path("https://IP-GATEWAY/impotparticulier/1.0"),
            "/impotparticulier/1.0"
        );
        assert_eq!(base_path("https://entreprise.api.gouv.fr"), "");
        assert_eq!(base_path("/fcb-masrestit/api/v2/"), "/fcb-masrestit/api/v2");
        assert_eq!(base_path("//particulier-test.api.gouv.fr/api"), "/api");
        assert_eq!(base_path("https://<no host>/r2p/v1"), "/r2p/v1");
        assert_eq!(base_path("/"), "");
    }
}
