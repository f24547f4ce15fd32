//! Operations: parameters, bodies and responses of every path item, typed.

use std::collections::HashMap;

use serde_json::Value;

use super::types::{SchemaIssue, SchemaReader, TypeRef, escape};
use super::{Api, Security, operation_ids, path_template};
use crate::naming::{Namer, pascal, snake};
use crate::oas::{self, METHODS, PathItem};

mod bodies;
mod params;

use params::Params;

/// Header parameters the runtime supplies on every call; generated methods never ask for them.
pub const GATEWAY_HEADERS: [&str; 3] =
    ["authorization", "x-correlation-id", "x-franceconnect-oauth"];

/// Query parameters of API Entreprise / API Particulier traceability, set once on the client.
pub const TRACEABILITY_PARAMS: [&str; 3] = ["context", "recipient", "object"];

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamIn {
    /// In the path template.
    Path,
    /// In the query string.
    Query,
    /// In a header.
    Header,
    /// In a cookie.
    Cookie,
}

impl ParamIn {
    /// The location an `in` names, if gouvgen knows it.
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "path" => Some(Self::Path),
            "query" => Some(Self::Query),
            "header" => Some(Self::Header),
            "cookie" => Some(Self::Cookie),
            _ => None,
        }
    }

    /// The location as the document writes it.
    pub fn word(self) -> &'static str {
        match self {
            Self::Path => "path",
            Self::Query => "query",
            Self::Header => "header",
            Self::Cookie => "cookie",
        }
    }
}

/// A parameter the caller passes.
#[derive(Debug, Clone)]
pub struct Param {
    /// Name in the document.
    pub name: String,
    /// Rust argument name.
    pub rust_name: String,
    /// Location.
    pub location: ParamIn,
    /// Type (never `Option`: optionality is `required`).
    pub ty: TypeRef,
    /// Must be given.
    pub required: bool,
    /// Description.
    pub doc: Option<String>,
    /// Arrays in the query: `a=1&a=2` (true) or `a=1,2` (false).
    pub explode: bool,
    /// How a value that is not a plain scalar is written (OpenAPI `style`).
    pub style: ParamStyle,
    /// Marked deprecated.
    pub deprecated: bool,
}

/// An OpenAPI parameter `style` gouvgen writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamStyle {
    /// `form` (query and cookie default).
    Form,
    /// `simple` (path and header default).
    Simple,
    /// `deepObject`.
    DeepObject,
    /// `spaceDelimited`.
    SpaceDelimited,
    /// `pipeDelimited`.
    PipeDelimited,
}

/// How a request body is encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyKind {
    /// JSON (any `+json` or `application/json;…` media type).
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `multipart/form-data`.
    Multipart(Vec<MultipartField>),
    /// Raw bytes (octet-stream, PDF, …).
    Bytes,
    /// Text.
    Text,
}

/// A part of a multipart body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipartField {
    /// Part name.
    pub name: String,
    /// Rust field name.
    pub rust_name: String,
    /// Type of a non-file part.
    pub ty: TypeRef,
    /// A file part (`format: binary`).
    pub is_file: bool,
    /// Must be given.
    pub required: bool,
    /// Description.
    pub doc: Option<String>,
}

/// A request body.
#[derive(Debug, Clone)]
pub struct RequestBody {
    /// Media type sent in `Content-Type`.
    pub media_type: String,
    /// Encoding.
    pub kind: BodyKind,
    /// Type for JSON and form bodies.
    pub ty: TypeRef,
    /// Must be given.
    pub required: bool,
    /// Description.
    pub doc: Option<String>,
}

/// Which statuses a response case covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StatusMatch {
    /// One status.
    Code(u16),
    /// `2XX` and the like: the first digit.
    Range(u16),
    /// `default`.
    Default,
}

/// How a response body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseKind {
    /// JSON into a type.
    Json,
    /// Text.
    Text,
    /// Bytes.
    Bytes,
    /// No body.
    Empty,
}

/// A documented response.
#[derive(Debug, Clone)]
pub struct ResponseCase {
    /// Status.
    pub status: StatusMatch,
    /// Variant name in the operation's response enums (`Status404`).
    pub variant: String,
    /// Media type chosen.
    pub media_type: Option<String>,
    /// Reading.
    pub kind: ResponseKind,
    /// Type of a JSON body.
    pub ty: Option<TypeRef>,
    /// Description.
    pub doc: Option<String>,
    /// Examples given in the document for this body: (pointer, value).
    pub examples: Vec<(String, Value)>,
}

/// One operation.
#[derive(Debug, Clone)]
pub struct Operation {
    /// `operationId` (or `x-operationId`, or a name made from method and path).
    pub id: String,
    /// Rust method name.
    pub method_name: String,
    /// Prefix of the operation's own types (`SituationIr` → `SituationIrError`).
    pub type_prefix: String,
    /// HTTP method, upper case.
    pub http_method: String,
    /// Path template.
    pub path: String,
    /// Summary.
    pub summary: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Marked deprecated.
    pub deprecated: bool,
    /// The document's tags, trimmed, empty ones left out (what `--features-per-tag` groups by).
    pub tags: Vec<String>,
    /// Caller parameters: path parameters in template order first.
    pub params: Vec<Param>,
    /// Body.
    pub body: Option<RequestBody>,
    /// 2xx (and `default` when it is the only response) cases.
    pub success: Vec<ResponseCase>,
    /// Documented error cases with a body.
    pub errors: Vec<ResponseCase>,
    /// `security: []`: sent without credentials.
    pub no_auth: bool,
    /// Takes the traceability parameters, which the runtime adds.
    pub traceability: bool,
    /// Gateway headers the document declares and the runtime supplies.
    pub gateway_headers: Vec<String>,
    /// A FranceConnect route: its security names a FranceConnect scheme, or its path says
    /// so (API Particulier), so it takes the user's FranceConnect access token.
    pub france_connect: bool,
    /// JSON pointer of the operation.
    pub pointer: String,
}

/// The names operations take as they are read.
struct OperationNames {
    /// Method names given so far (and those the client uses itself).
    methods: Namer,
    /// Prefixes of the operations' own types given so far.
    type_prefixes: Namer,
    /// `operationId` → where it was first seen (a second one is an error).
    seen_ids: HashMap<String, String>,
    /// What every provider name shares, cut from the ids (see `provider_prefix`).
    provider_prefix: Option<String>,
}

/// Where an operation is: its path, method and pointer.
struct OperationSite<'p> {
    path: &'p str,
    method: &'p str,
    pointer: String,
}

/// An operation's names.
struct Named {
    id: String,
    method_name: String,
    type_prefix: String,
}

pub(super) struct Built {
    pub api: Api,
    pub issues: Vec<SchemaIssue>,
}

pub(super) struct Builder<'a> {
    doc: oas::Document<'a>,
    reader: SchemaReader<'a>,
    operations: Vec<Operation>,
    security: Vec<Security>,
    api_key_params: Vec<(String, String)>,
}

impl<'a> Builder<'a> {
    pub fn new(root: &'a Value) -> Self {
        let mut reader = SchemaReader::new(root, &[]);
        reader.read_components();
        let security = read_security(oas::Document(root));
        let api_key_params = security
            .iter()
            .filter_map(|s| match s {
                Security::ApiKey {
                    param, location, ..
                } => Some((param.to_ascii_lowercase(), location.clone())),
                _ => None,
            })
            .collect();
        Builder {
            doc: oas::Document(root),
            reader,
            operations: Vec::new(),
            security,
            api_key_params,
        }
    }

    /// Warns about server hosts that are placeholders or internal addresses: the gateway
    /// preset supplies the real API root, only the path is kept.
    fn check_servers(&mut self) {
        for (i, url) in self.doc.server_urls() {
            let host = url
                .split("://")
                .nth(1)
                .unwrap_or("")
                .split(['/', ':'])
                .next()
                .unwrap_or("");
            let placeholder = host.eq_ignore_ascii_case("IP-GATEWAY")
                || host.eq_ignore_ascii_case("null")
                || host.contains('<')
                || host.contains('{')
                || host == "localhost"
                || host.starts_with("10.")
                || host.starts_with("192.168.")
                || (!host.is_empty() && !host.contains('.'));
            if placeholder {
                self.reader.issues.push(SchemaIssue {
                    pointer: format!("/servers/{i}/url"),
                    message: format!("server `{url}` is a placeholder or internal host; only its path is kept"),
                    hint: "nothing to do: the runtime's gateway preset (or `.api_root(..)`) supplies the real host".into(),
                    fatal: false,
                });
            }
        }
    }

    pub fn read_all(&mut self) {
        self.check_servers();
        let Some(paths) = self.doc.paths() else {
            if !self.doc.has_paths() {
                self.reader.issues.push(SchemaIssue {
                    pointer: String::new(),
                    message: "the document has no `paths`".into(),
                    hint: "add the API's operations under `paths`".into(),
                    fatal: false,
                });
            }
            return;
        };
        let mut names = OperationNames {
            methods: Namer::with_reserved(&[
                "new",
                "with_base_path",
                "with_options",
                "runtime",
                "base_path",
                "clone",
                "fmt",
            ]),
            type_prefixes: Namer::default(),
            seen_ids: HashMap::new(),
            provider_prefix: self.provider_prefix(paths),
        };
        for (path, item) in paths {
            let item_ptr = format!("/paths/{}", escape(path));
            if let Some(problem) = path_template::problem(path) {
                self.reader.issues.push(SchemaIssue {
                    pointer: item_ptr.clone(),
                    message: format!(
                        "path `{}` is not a valid template: {problem}",
                        path.escape_debug()
                    ),
                    hint: "write each parameter as `{name}` (e.g. `/items/{id}`)".into(),
                    fatal: true,
                });
                continue;
            }
            let item = PathItem(self.deref(item));
            for method in METHODS {
                let Some(op) = item.operation(method) else {
                    continue;
                };
                let at = OperationSite {
                    path,
                    method,
                    pointer: format!("{item_ptr}/{method}"),
                };
                if let Some(named) = self.name_operation(&mut names, op, &at) {
                    let built = self.operation(op, item.parameters(), &at, named);
                    self.operations.push(built);
                }
            }
        }
    }

    /// The operation's id, method name and type prefix; `None` (with an error) for an
    /// `operationId` already used.
    fn name_operation(
        &mut self,
        names: &mut OperationNames,
        op: oas::Operation<'_>,
        at: &OperationSite<'_>,
    ) -> Option<Named> {
        let pointer = &at.pointer;
        let explicit = op.operation_id();
        if let Some(id) = explicit {
            if let Some(first) = names.seen_ids.get(id) {
                self.reader.issues.push(SchemaIssue {
                    pointer: format!("{pointer}/operationId"),
                    message: format!("duplicate operationId `{id}` (also at #{first})"),
                    hint: "operationIds must be unique: rename one of them".into(),
                    fatal: true,
                });
                return None;
            }
            (names.seen_ids).insert(id.to_string(), format!("{pointer}/operationId"));
        }
        let id = match explicit {
            Some(id) => id.to_string(),
            None => (self.provider_id(op, pointer, names.provider_prefix.as_deref()))
                .unwrap_or_else(|| format!("{} {}", at.method, at.path)),
        };
        let base = snake(&id);
        let method_name = names.methods.unique(&base, "_");
        if method_name != base {
            self.reader.issues.push(SchemaIssue {
                pointer: pointer.clone(),
                message: format!(
                    "operation name `{base}` is already taken; this one is `{method_name}`"
                ),
                hint: "give the operation a distinct operationId".into(),
                fatal: false,
            });
        }
        let type_prefix = names.type_prefixes.unique(&pascal(&id), "");
        Some(Named {
            id,
            method_name,
            type_prefix,
        })
    }

    /// The prefix every operation's provider name shares (`api_entreprise_v3_`), when no
    /// operation has an `operationId` and every one has an `x-operationId`.
    fn provider_prefix(&self, paths: &'a serde_json::Map<String, Value>) -> Option<String> {
        let mut names = Vec::new();
        for item in paths.values() {
            let item = PathItem(self.deref(item));
            for op in METHODS.iter().filter_map(|m| item.operation(m)) {
                if op.has_operation_id() {
                    return None;
                }
                names.push(operation_ids::x_operation_id(op, |v| self.deref(v))?.0);
            }
        }
        operation_ids::shared_prefix(&names).map(str::to_string)
    }

    /// The provider's name of an operation without `operationId` (its `x-operationId`, maybe
    /// in its success response, less the shared prefix), with a warning when it was found in
    /// the response: tools read `operationId` only.
    fn provider_id(
        &mut self,
        op: oas::Operation<'_>,
        pointer: &str,
        prefix: Option<&str>,
    ) -> Option<String> {
        let (id, in_response) = operation_ids::x_operation_id(op, |v| self.deref(v))?;
        let id = id.to_string();
        if let Some(response) = in_response {
            self.reader.issues.push(SchemaIssue {
                pointer: format!("{pointer}{response}/x-operationId"),
                message: format!(
                    "the operation has no `operationId`; named `{id}` after the `x-operationId` of its response"
                ),
                hint: "give the operation an `operationId` to choose its name".into(),
                fatal: false,
            });
        }
        let short = prefix
            .and_then(|p| id.strip_prefix(p))
            .filter(|s| !s.is_empty());
        Some(short.map_or(id.clone(), str::to_string))
    }

    /// Follows a `$ref` on a path item, parameter, response or body.
    fn deref<'v>(&self, v: &'v Value) -> &'v Value
    where
        'a: 'v,
    {
        let mut cur = v;
        for _ in 0..16 {
            match oas::reference(cur).and_then(|r| self.reader.resolve(r)) {
                Some(next) => cur = next,
                None => break,
            }
        }
        cur
    }

    fn operation(
        &mut self,
        op: oas::Operation<'_>,
        shared: &[Value],
        at: &OperationSite<'_>,
        named: Named,
    ) -> Operation {
        let (path, method, pointer) = (at.path, at.method, at.pointer.as_str());
        let Named {
            id,
            method_name,
            type_prefix,
        } = named;
        let Params {
            path,
            params,
            gateway_headers,
            traceability,
        } = self.params(op, shared, path, pointer, &type_prefix);

        let body = op
            .request_body()
            .map(|b| (self.deref(b).clone(), format!("{pointer}/requestBody")));
        let body = body.and_then(|(b, ptr)| self.request_body(&b, &ptr, &type_prefix));

        let (success, errors) = self.responses(op, pointer, &type_prefix);
        let france_connect = france_connect_route(op, self.doc.security(), &path);
        let no_auth = matches!(op.security(), Some(Value::Array(a)) if a.is_empty() || a.iter().all(|r| r.as_object().is_some_and(|o| o.is_empty())));
        Operation {
            id,
            method_name,
            type_prefix,
            http_method: method.to_ascii_uppercase(),
            path,
            summary: op.summary().map(str::to_string),
            description: op.description().map(str::to_string),
            deprecated: op.deprecated(),
            tags: tags_of(op),
            params,
            body,
            success,
            errors,
            no_auth,
            traceability,
            gateway_headers,
            france_connect,
            pointer: pointer.to_string(),
        }
    }

    pub fn finish(mut self, mut api: Api) -> Built {
        api.operations = std::mem::take(&mut self.operations);
        api.security = self.security;
        api.types = std::mem::take(&mut self.reader.space);
        Built {
            api,
            issues: self.reader.issues,
        }
    }
}

/// Whether an operation is a FranceConnect route (see [`Operation::france_connect`]): a
/// security requirement (the operation's, else the document's) names a scheme like
/// `franceConnectToken`, or the path has a `france_connect` segment.
fn france_connect_route(op: oas::Operation<'_>, root_security: Option<&Value>, path: &str) -> bool {
    let squash = |s: &str| {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase()
    };
    let requirements = op.security().or(root_security);
    let by_scheme = requirements
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|r| r.keys())
        .any(|name| squash(name).contains("franceconnect"));
    by_scheme || squash(path).contains("franceconnect")
}

fn read_security(doc: oas::Document<'_>) -> Vec<Security> {
    let mut out = Vec::new();
    for (name, s) in doc.security_schemes() {
        out.push(match (s.kind(), s.http_scheme().as_str()) {
            ("http", "bearer") => Security::Bearer { name: name.clone() },
            ("http", "basic") => Security::Basic { name: name.clone() },
            ("apiKey", _) => Security::ApiKey {
                name: name.clone(),
                param: s.key_name().to_string(),
                location: s.key_location().to_string(),
            },
            ("oauth2", _) | ("openIdConnect", _) => Security::OAuth2 {
                name: name.clone(),
                flows: s.flows(),
            },
            _ => continue,
        });
    }
    out
}

/// An operation's `tags`: the names, trimmed, without empty ones or repeats.
fn tags_of(op: oas::Operation<'_>) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for name in op.tags() {
        if !name.is_empty() && !tags.iter().any(|t| t == name) {
            tags.push(name.to_string());
        }
    }
    tags
}
