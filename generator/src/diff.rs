//! What changed for users of the generated Rust API between two versions of a document.
//!
//! The comparison walks the two models from each operation (parameters, body, responses)
//! down through the types they use, so renamed inline types do not show as noise and a
//! Swagger 2.0 → OpenAPI 3 migration compares like with like. Each change says whether code
//! written against the old client breaks, and the semver bump it calls for.

use std::collections::HashSet;
use std::fmt;

use serde::Serialize;

use crate::model::{
    Api, BodyKind, Operation, ParamIn, Prim, Security, TypeKind, TypeRef, TypeSpace,
};

/// The kind of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// An operation disappeared.
    OperationRemoved,
    /// An operation appeared.
    OperationAdded,
    /// Same method and path, new Rust method name.
    OperationRenamed,
    /// A parameter the caller must pass appeared.
    RequiredParameterAdded,
    /// An optional parameter appeared.
    OptionalParameterAdded,
    /// A parameter disappeared.
    ParameterRemoved,
    /// A parameter became required or optional.
    ParameterRequirementChanged,
    /// A parameter's type changed.
    ParameterTypeChanged,
    /// The request body appeared, disappeared or changed type.
    RequestBodyChanged,
    /// The success response changed type.
    ResponseTypeChanged,
    /// A documented error response appeared or disappeared.
    ErrorResponseChanged,
    /// A field disappeared from a type.
    FieldRemoved,
    /// A field appeared in a type.
    FieldAdded,
    /// A field's type changed.
    FieldTypeChanged,
    /// A field became required or optional.
    FieldRequirementChanged,
    /// An enum gained a value.
    EnumValueAdded,
    /// An enum lost a value.
    EnumValueRemoved,
    /// A request or response media type changed.
    MediaTypeChanged,
    /// Authentication changed.
    AuthChanged,
}

/// One change.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Change {
    /// Breaks code written against the old client (or its wire contract).
    pub breaking: bool,
    /// Kind.
    pub kind: ChangeKind,
    /// Where, in Rust terms: `method.parameter`, `method → 200 → field.sub`.
    pub location: String,
    /// What, in words.
    pub detail: String,
}

/// The semver bump a set of changes calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bump {
    /// Nothing changed in the Rust API.
    None,
    /// Fixes only.
    Patch,
    /// Additions.
    Minor,
    /// Breaking changes.
    Major,
}

impl Bump {
    /// Applies the bump to a `MAJOR.MINOR.PATCH` version, 0.x style below 1.0 (breaking
    /// changes bump the minor number, additions the patch number).
    pub fn apply(self, version: &str) -> String {
        let core = version.split(['-', '+']).next().unwrap_or(version);
        let mut parts: Vec<u64> = core.split('.').map(|p| p.parse().unwrap_or(0)).collect();
        parts.resize(3, 0);
        let (major, minor, patch) = (parts[0], parts[1], parts[2]);
        let (major, minor, patch) = match (self, major) {
            (Bump::None, _) => (major, minor, patch),
            (Bump::Major, 0) => (0, minor + 1, 0),
            (Bump::Major, _) => (major + 1, 0, 0),
            (Bump::Minor, 0) => (0, minor, patch + 1),
            (Bump::Minor, _) => (major, minor + 1, 0),
            (Bump::Patch, _) => (major, minor, patch + 1),
        };
        format!("{major}.{minor}.{patch}")
    }
}

impl fmt::Display for Bump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Bump::None => "none",
            Bump::Patch => "patch",
            Bump::Minor => "minor",
            Bump::Major => "major",
        })
    }
}

/// The result of a comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Changes, breaking first.
    pub changes: Vec<Change>,
    /// The bump they call for.
    pub bump: Bump,
}

impl Report {
    /// Number of breaking changes.
    pub fn breaking(&self) -> usize {
        self.changes.iter().filter(|c| c.breaking).count()
    }

    /// Human-readable text, one change a line.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for c in &self.changes {
            let tag = if c.breaking { "breaking" } else { "additive" };
            out.push_str(&format!(
                "{tag:<9} {:<30} {}: {}\n",
                format!("{:?}", c.kind),
                c.location,
                c.detail
            ));
        }
        out.push_str(&format!(
            "{} changes ({} breaking, {} non-breaking): {} version bump\n",
            self.changes.len(),
            self.breaking(),
            self.changes.len() - self.breaking(),
            self.bump
        ));
        out
    }
}

/// Compares two models.
pub fn compare(old: &Api, new: &Api) -> Report {
    let mut d = Differ {
        old,
        new,
        changes: Vec::new(),
        seen: HashSet::new(),
    };
    d.operations();
    d.security();
    let mut changes = d.changes;
    changes.sort_by(|a, b| {
        b.breaking
            .cmp(&a.breaking)
            .then(a.location.cmp(&b.location))
            .then(a.kind.cmp(&b.kind))
    });
    changes.dedup();
    let bump = if changes.iter().any(|c| c.breaking) {
        Bump::Major
    } else if changes.is_empty() {
        Bump::None
    } else {
        Bump::Minor
    };
    Report { changes, bump }
}

struct Differ<'a> {
    old: &'a Api,
    new: &'a Api,
    changes: Vec<Change>,
    seen: HashSet<(String, String, String)>,
}

fn describe(ty: &TypeRef, space: &TypeSpace) -> String {
    match ty {
        TypeRef::Prim(p) => match p {
            Prim::String => "String".into(),
            Prim::Binary => "bytes".into(),
            Prim::Any => "any JSON".into(),
            Prim::Object => "JSON object".into(),
            other => format!("{other:?}").to_lowercase(),
        },
        TypeRef::Named(id) => space.types[*id].name.clone(),
        TypeRef::Vec(inner) => format!("Vec<{}>", describe(inner, space)),
        TypeRef::Map(inner) => format!("Map<{}>", describe(inner, space)),
        TypeRef::Option(inner) => format!("Option<{}>", describe(inner, space)),
        TypeRef::Boxed(inner) => describe(inner, space),
    }
}

fn strip(ty: &TypeRef) -> &TypeRef {
    match ty {
        TypeRef::Boxed(inner) => strip(inner),
        other => other,
    }
}

impl Differ<'_> {
    fn push(
        &mut self,
        breaking: bool,
        kind: ChangeKind,
        location: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.changes.push(Change {
            breaking,
            kind,
            location: location.into(),
            detail: detail.into(),
        });
    }

    fn operations(&mut self) {
        let key = |op: &Operation| op.method_name.clone();
        let route = |op: &Operation| (op.http_method.clone(), route_shape(&op.path));
        let mut renamed = Vec::new();
        for old_op in &self.old.operations {
            let by_route = || {
                self.new.operations.iter().find(|n| {
                    route(n) == route(old_op)
                        && !self.old.operations.iter().any(|o| key(o) == key(n))
                })
            };
            match self.new.operations.iter().find(|n| key(n) == key(old_op)) {
                Some(new_op) => self.operation(old_op, new_op),
                None if by_route().is_some() => {
                    let new_op = by_route().expect("found");
                    renamed.push(new_op.method_name.clone());
                    let detail = format!(
                        "{} {} is now `{}`",
                        old_op.http_method, old_op.path, new_op.method_name
                    );
                    self.push(
                        true,
                        ChangeKind::OperationRenamed,
                        old_op.method_name.clone(),
                        detail,
                    );
                    self.operation(old_op, new_op);
                }
                None => {
                    let detail = format!("{} {} is gone", old_op.http_method, old_op.path);
                    self.push(
                        true,
                        ChangeKind::OperationRemoved,
                        old_op.method_name.clone(),
                        detail,
                    );
                }
            }
        }
        for new_op in &self.new.operations {
            if !self.old.operations.iter().any(|o| key(o) == key(new_op))
                && !renamed.contains(&new_op.method_name)
            {
                let detail = format!("{} {}", new_op.http_method, new_op.path);
                self.push(
                    false,
                    ChangeKind::OperationAdded,
                    new_op.method_name.clone(),
                    detail,
                );
            }
        }
    }

    fn operation(&mut self, old: &Operation, new: &Operation) {
        let name = &old.method_name;
        for op in &old.params {
            match new
                .params
                .iter()
                .find(|p| p.name == op.name && p.location == op.location)
            {
                None => self.push(
                    true,
                    ChangeKind::ParameterRemoved,
                    format!("{name}.{}", op.rust_name),
                    format!("{:?} parameter `{}` removed", op.location, op.name),
                ),
                Some(np) => {
                    if np.required != op.required {
                        let detail = if np.required {
                            "now required"
                        } else {
                            "now optional (moves to the options struct)"
                        };
                        self.push(
                            true,
                            ChangeKind::ParameterRequirementChanged,
                            format!("{name}.{}", op.rust_name),
                            detail,
                        );
                    }
                    self.compare_types(
                        &op.ty,
                        &np.ty,
                        &format!("{name}.{}", op.rust_name),
                        true,
                        ChangeKind::ParameterTypeChanged,
                    );
                }
            }
        }
        for np in &new.params {
            if !old
                .params
                .iter()
                .any(|p| p.name == np.name && p.location == np.location)
            {
                let (breaking, kind) = if np.required {
                    (true, ChangeKind::RequiredParameterAdded)
                } else {
                    (false, ChangeKind::OptionalParameterAdded)
                };
                let loc = match np.location {
                    ParamIn::Path => "path",
                    ParamIn::Query => "query",
                    ParamIn::Header => "header",
                    ParamIn::Cookie => "cookie",
                };
                self.push(
                    breaking,
                    kind,
                    format!("{name}.{}", np.rust_name),
                    format!("new {loc} parameter `{}`", np.name),
                );
            }
        }
        match (&old.body, &new.body) {
            (None, Some(_)) => self.push(
                true,
                ChangeKind::RequestBodyChanged,
                name.clone(),
                "now takes a request body",
            ),
            (Some(_), None) => self.push(
                true,
                ChangeKind::RequestBodyChanged,
                name.clone(),
                "no longer takes a request body",
            ),
            (Some(ob), Some(nb)) => {
                if ob.media_type != nb.media_type {
                    self.push(
                        true,
                        ChangeKind::MediaTypeChanged,
                        format!("{name} → body"),
                        format!("Content-Type `{}` → `{}`", ob.media_type, nb.media_type),
                    );
                }
                if std::mem::discriminant(&ob.kind) != std::mem::discriminant(&nb.kind) {
                    self.push(
                        true,
                        ChangeKind::RequestBodyChanged,
                        format!("{name} → body"),
                        "encoding changed",
                    );
                } else if matches!(ob.kind, BodyKind::Json | BodyKind::Form) {
                    self.compare_types(
                        &ob.ty,
                        &nb.ty,
                        &format!("{name} → body"),
                        true,
                        ChangeKind::RequestBodyChanged,
                    );
                }
            }
            (None, None) => {}
        }
        let accept = |op: &Operation| op.success.iter().find_map(|c| c.media_type.clone());
        if accept(old) != accept(new) && accept(old).is_some() && accept(new).is_some() {
            self.push(
                true,
                ChangeKind::MediaTypeChanged,
                format!("{name} → response"),
                format!(
                    "Accept `{}` → `{}`",
                    accept(old).unwrap_or_default(),
                    accept(new).unwrap_or_default()
                ),
            );
        }
        for oc in &old.success {
            match new.success.iter().find(|c| c.status == oc.status) {
                Some(nc) => match (&oc.ty, &nc.ty) {
                    (Some(ot), Some(nt)) => self.compare_types(
                        ot,
                        nt,
                        &format!("{name} → {}", oc.variant),
                        false,
                        ChangeKind::ResponseTypeChanged,
                    ),
                    (None, None) => {}
                    _ => self.push(
                        true,
                        ChangeKind::ResponseTypeChanged,
                        format!("{name} → {}", oc.variant),
                        "body appeared or disappeared",
                    ),
                },
                None => {
                    if new.success.len() != 1 || old.success.len() != 1 {
                        self.push(
                            true,
                            ChangeKind::ResponseTypeChanged,
                            format!("{name} → {}", oc.variant),
                            "success status no longer documented",
                        );
                    } else if let (Some(ot), Some(nt)) = (&oc.ty, &new.success[0].ty) {
                        self.compare_types(
                            ot,
                            nt,
                            &format!("{name} → {}", new.success[0].variant),
                            false,
                            ChangeKind::ResponseTypeChanged,
                        );
                    }
                }
            }
        }
        let errs = |op: &Operation| {
            op.errors
                .iter()
                .filter(|c| c.ty.is_some())
                .map(|c| c.variant.clone())
                .collect::<Vec<_>>()
        };
        let (oe, ne) = (errs(old), errs(new));
        for v in &oe {
            if !ne.contains(v) {
                self.push(
                    true,
                    ChangeKind::ErrorResponseChanged,
                    format!("{name} → {v}"),
                    "documented error body removed (variant of the error enum gone)",
                );
            }
        }
        for v in &ne {
            if !oe.contains(v) {
                let breaking = !oe.is_empty();
                self.push(
                    breaking,
                    ChangeKind::ErrorResponseChanged,
                    format!("{name} → {v}"),
                    "documented error body added",
                );
            }
        }
        if old.no_auth != new.no_auth {
            self.push(
                true,
                ChangeKind::AuthChanged,
                name.clone(),
                if new.no_auth {
                    "no longer authenticated"
                } else {
                    "now needs credentials"
                },
            );
        }
        if old.traceability != new.traceability {
            self.push(
                true,
                ChangeKind::AuthChanged,
                name.clone(),
                "traceability parameters changed",
            );
        }
    }

    fn security(&mut self) {
        let names = |api: &Api| api.security.iter().map(scheme_key).collect::<Vec<_>>();
        let (old, new) = (names(self.old), names(self.new));
        for s in &old {
            if !new.contains(s) {
                self.push(
                    true,
                    ChangeKind::AuthChanged,
                    "security",
                    format!("scheme {s} removed"),
                );
            }
        }
        for s in &new {
            if !old.contains(s) {
                self.push(
                    true,
                    ChangeKind::AuthChanged,
                    "security",
                    format!("scheme {s} added"),
                );
            }
        }
    }

    /// Compares two type expressions reached at `location`. `input` says the caller builds
    /// values of this type (parameters, bodies), where a new required field breaks callers.
    fn compare_types(
        &mut self,
        old: &TypeRef,
        new: &TypeRef,
        location: &str,
        input: bool,
        kind: ChangeKind,
    ) {
        let (old, new) = (strip(old), strip(new));
        let (os, ns) = (&self.old.types, &self.new.types);
        match (old, new) {
            (TypeRef::Option(o), TypeRef::Option(n))
            | (TypeRef::Vec(o), TypeRef::Vec(n))
            | (TypeRef::Map(o), TypeRef::Map(n)) => self.compare_types(o, n, location, input, kind),
            (TypeRef::Named(o), TypeRef::Named(n)) => {
                self.compare_named(*o, *n, location, input, kind)
            }
            (TypeRef::Prim(o), TypeRef::Prim(n)) if o == n => {}
            // An alias on one side: compare what it stands for.
            (TypeRef::Named(o), other) if matches!(os.types[*o].kind, TypeKind::Alias(_)) => {
                if let TypeKind::Alias(t) = &os.types[*o].kind {
                    let t = t.clone();
                    self.compare_types(&t, other, location, input, kind);
                }
            }
            (other, TypeRef::Named(n)) if matches!(ns.types[*n].kind, TypeKind::Alias(_)) => {
                if let TypeKind::Alias(t) = &ns.types[*n].kind {
                    let t = t.clone();
                    self.compare_types(other, &t, location, input, kind);
                }
            }
            _ => {
                let detail = format!("{} → {}", describe(old, os), describe(new, ns));
                self.push(true, kind, location.to_string(), detail);
            }
        }
    }

    fn compare_named(&mut self, o: usize, n: usize, location: &str, input: bool, kind: ChangeKind) {
        if !self
            .seen
            .insert((o.to_string(), n.to_string(), format!("{input}")))
        {
            return;
        }
        let ot = self.old.types.types[o].clone();
        let nt = self.new.types.types[n].clone();
        match (&ot.kind, &nt.kind) {
            (TypeKind::Struct { fields: of, .. }, TypeKind::Struct { fields: nf, .. }) => {
                for f in of {
                    let here = format!("{location}.{}", f.original);
                    match nf.iter().find(|x| x.original == f.original) {
                        None => self.push(
                            true,
                            ChangeKind::FieldRemoved,
                            here,
                            format!("field `{}` removed from {}", f.original, ot.name),
                        ),
                        Some(x) => {
                            let was_opt = matches!(f.ty, TypeRef::Option(_));
                            let is_opt = matches!(x.ty, TypeRef::Option(_));
                            if was_opt != is_opt {
                                let detail = if is_opt {
                                    "now optional (Option)"
                                } else {
                                    "now required (no longer Option)"
                                };
                                self.push(
                                    true,
                                    ChangeKind::FieldRequirementChanged,
                                    here.clone(),
                                    detail,
                                );
                            }
                            let (ft, xt) =
                                (f.ty.unwrap_option().clone(), x.ty.unwrap_option().clone());
                            self.compare_types(
                                &ft,
                                &xt,
                                &here,
                                input,
                                ChangeKind::FieldTypeChanged,
                            );
                        }
                    }
                }
                for x in nf {
                    if !of.iter().any(|f| f.original == x.original) {
                        let required = !matches!(x.ty, TypeRef::Option(_));
                        let breaking = input && required;
                        self.push(
                            breaking,
                            ChangeKind::FieldAdded,
                            format!("{location}.{}", x.original),
                            format!(
                                "new {}field in {}",
                                if required { "required " } else { "" },
                                nt.name
                            ),
                        );
                    }
                }
            }
            (TypeKind::Enum { variants: ov, .. }, TypeKind::Enum { variants: nv, .. }) => {
                for v in ov {
                    if !nv.iter().any(|x| x.value == v.value) {
                        self.push(
                            true,
                            ChangeKind::EnumValueRemoved,
                            location.to_string(),
                            format!("{}: value `{}` removed", nt.name, v.value),
                        );
                    }
                }
                for v in nv {
                    if !ov.iter().any(|x| x.value == v.value) {
                        self.push(
                            false,
                            ChangeKind::EnumValueAdded,
                            location.to_string(),
                            format!("{}: value `{}` added", nt.name, v.value),
                        );
                    }
                }
            }
            (TypeKind::Union { variants: ov, .. }, TypeKind::Union { variants: nv, .. }) => {
                for (a, b) in ov.iter().zip(nv) {
                    self.compare_types(
                        &a.ty,
                        &b.ty,
                        &format!("{location}|{}", a.name),
                        input,
                        kind,
                    );
                }
                if ov.len() != nv.len() {
                    self.push(
                        true,
                        kind,
                        location.to_string(),
                        format!("{}: alternatives {} → {}", nt.name, ov.len(), nv.len()),
                    );
                }
            }
            (TypeKind::Alias(a), _) => {
                let a = a.clone();
                self.compare_types(&a, &TypeRef::Named(n), location, input, kind)
            }
            (_, TypeKind::Alias(b)) => {
                let b = b.clone();
                self.compare_types(&TypeRef::Named(o), &b, location, input, kind)
            }
            _ => self.push(
                true,
                kind,
                location.to_string(),
                format!("{} → {}", ot.name, nt.name),
            ),
        }
    }
}

/// A path with its placeholders blanked: `/a/{ANNEE}` and `/a/{annrev}` are the same route.
fn route_shape(path: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '{' => {
                depth += 1;
                out.push_str("{}");
            }
            '}' => depth -= 1,
            _ if depth > 0 => {}
            c => out.push(c),
        }
    }
    out.trim_end_matches('/').to_string()
}

fn scheme_key(s: &Security) -> String {
    match s {
        Security::OAuth2 { .. } => "oauth2".into(),
        Security::Bearer { .. } => "bearer".into(),
        Security::Basic { .. } => "basic".into(),
        Security::ApiKey {
            param, location, ..
        } => format!("api-key {location} {param}"),
    }
}
