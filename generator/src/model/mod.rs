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

pub use operations::{
    BodyKind, MultipartField, Operation, Param, ParamIn, ParamStyle, RequestBody, ResponseCase,
    ResponseKind, StatusMatch,
};
pub use types::{
    EnumVariant, Field, NamedType, Prim, TypeId, TypeKind, TypeRef, TypeSpace, UnionVariant,
};

use crate::error::{Diagnostic, Error, Result};
use crate::normalise::{Dialect, Normalised};
use crate::oas;

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

/// Models a normalised document; problems are located in the user's file.
pub fn build(doc: &Normalised<'_>) -> Result<(Api, Warnings)> {
    let mut builder = operations::Builder::new(doc.root());
    builder.read_all();
    let operations::Built {
        mut api,
        mut issues,
    } = builder.finish(model_header(oas::Document(doc.root()), doc.dialect()));
    issues.extend(recursion::check(&mut api.types));

    let mut errors = Vec::new();
    let mut warnings = doc.source().warnings.clone();
    let located = doc.source().diagnostics_near(
        issues
            .iter()
            .map(|i| doc.locate(&i.pointer, &i.message))
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

fn model_header(doc: oas::Document<'_>, dialect: Dialect) -> Api {
    let servers: Vec<String> = doc.server_urls().map(|(_, url)| url.to_string()).collect();
    Api {
        title: doc.info("title").unwrap_or("API").to_string(),
        version: doc.version().unwrap_or_default(),
        description: doc.info("description").map(str::to_string),
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
