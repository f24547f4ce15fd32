//! What changed for users of the generated Rust API between two versions of a document.
//!
//! The comparison is between the two crates' [`Surface`]s, the same data `emit` prints: items
//! by path, struct fields and constructors, enum variants, methods, their arguments, builder
//! setters, success and error types. Each change is classified by the rules of the Cargo
//! reference's SemVer chapter (`category`), so "breaking" means code written against the old
//! crate stops compiling. Changes Rust does not see (authentication, media types,
//! traceability, routes) are reported too, at [`Level::Document`]: they break no build, but a
//! wire-level break is still released as a breaking version.

mod features;

use std::fmt;

use serde::Serialize;

use crate::model::{Api, Operation, ParamIn, Security};
use crate::surface::{
    self, ArgSource, Method, RustType, SetterKind, StructItem, Success, Surface, TypeItem,
    TypeItemKind,
};

/// The kind of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// A method of `Client` disappeared.
    OperationRemoved,
    /// A method appeared.
    OperationAdded,
    /// Same method and path, new Rust method name.
    OperationRenamed,
    /// A required argument appeared (the method's arity changed).
    RequiredParameterAdded,
    /// A builder setter for an optional parameter appeared.
    OptionalParameterAdded,
    /// A parameter (argument or setter) disappeared.
    ParameterRemoved,
    /// A parameter moved between the arguments and the builder's setters.
    ParameterRequirementChanged,
    /// A parameter's type changed.
    ParameterTypeChanged,
    /// The body argument appeared, disappeared or changed type.
    RequestBodyChanged,
    /// The success type changed, or a variant of the success enum disappeared.
    ResponseTypeChanged,
    /// A variant of the success enum appeared.
    ResponseAdded,
    /// A variant of the operation's error enum appeared, disappeared or changed type.
    ErrorResponseChanged,
    /// A type appeared.
    TypeAdded,
    /// A type disappeared.
    TypeRemoved,
    /// A type got a new name (same definition).
    TypeRenamed,
    /// A type changed kind (struct, enum, union, alias) or alias target.
    TypeChanged,
    /// A field disappeared.
    FieldRemoved,
    /// A field appeared.
    FieldAdded,
    /// A field's type changed.
    FieldTypeChanged,
    /// The constructor's arguments changed (a field became required or optional).
    FieldRequirementChanged,
    /// A struct lost its `Default` implementation.
    DefaultRemoved,
    /// An enum gained a value.
    EnumValueAdded,
    /// An enum lost a value.
    EnumValueRemoved,
    /// A union gained an alternative.
    UnionVariantAdded,
    /// A union lost an alternative or one changed type.
    UnionVariantChanged,
    /// A request or response media type changed (document level).
    MediaTypeChanged,
    /// Authentication changed (document level).
    AuthChanged,
    /// Traceability parameters changed (document level).
    TraceabilityChanged,
    /// HTTP method or path changed (document level).
    RouteChanged,
    /// A Cargo feature (a tag, with features per tag) disappeared.
    FeatureRemoved,
    /// A Cargo feature appeared.
    FeatureAdded,
    /// The features a method or type compiles under changed.
    FeatureGateChanged,
}

/// Whether the compiler sees a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// In the Rust API: classified by the Cargo SemVer rules.
    Rust,
    /// In the document only (wire behaviour): no build breaks, a release is still due.
    Document,
}

/// One change.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Change {
    /// Breaks code written against the old crate (Rust level), or its wire contract
    /// (document level).
    pub breaking: bool,
    /// Kind.
    pub kind: ChangeKind,
    /// Where, in Rust terms: `types::Dossier.montant`, `lire_dossier.page`.
    pub location: String,
    /// What, in words.
    pub detail: String,
    /// Rust or document level.
    pub level: Level,
    /// The rule of the Cargo SemVer chapter it falls under (`item-remove`, `fn-change-arity`,
    /// …), or `document` for document-level changes.
    pub category: &'static str,
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
    /// Number of changes that break code written against the old crate.
    pub fn breaking(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| c.breaking && c.level == Level::Rust)
            .count()
    }

    /// Human-readable text, one change a line.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for c in &self.changes {
            let tag = match (c.breaking, c.level) {
                (true, Level::Rust) => "breaking",
                (false, _) => "additive",
                (true, Level::Document) => "wire",
            };
            out.push_str(&format!(
                "{tag:<9} {:<30} {}: {}\n",
                format!("{:?}", c.kind),
                c.location,
                c.detail
            ));
        }
        out.push_str(&format!(
            "{} changes ({} breaking in Rust, {} wire-level, {} additive): {} version bump\n",
            self.changes.len(),
            self.breaking(),
            self.changes
                .iter()
                .filter(|c| c.breaking && c.level == Level::Document)
                .count(),
            self.changes.iter().filter(|c| !c.breaking).count(),
            self.bump
        ));
        out
    }
}

/// Compares two models through their Rust surfaces, plus what only the documents show.
pub fn compare(old: &Api, new: &Api) -> Report {
    compare_with(old, new, false)
}

/// [`compare`] for crates generated with (or without) Cargo features per tag, so a tag that
/// disappears or an operation that changes tags is seen as the Cargo SemVer rules see it.
pub fn compare_with(old: &Api, new: &Api, features_per_tag: bool) -> Report {
    let os = surface::build_with(old, features_per_tag);
    let ns = surface::build_with(new, features_per_tag);
    compare_surfaces(old, &os, new, &ns)
}

/// Compares two surfaces (and their models, for document-level facts).
pub fn compare_surfaces(old: &Api, os: &Surface, new: &Api, ns: &Surface) -> Report {
    let mut d = Differ {
        changes: Vec::new(),
    };
    d.types(&os.types, &ns.types);
    d.methods(old, os, new, ns);
    d.features(os, ns);
    d.security(old, new);
    let mut changes = d.changes;
    changes.sort_by(|a, b| {
        b.breaking
            .cmp(&a.breaking)
            .then(a.level.cmp(&b.level))
            .then(a.location.cmp(&b.location))
            .then(a.kind.cmp(&b.kind))
    });
    changes.dedup();
    // A wire-level break (new media type, new credentials) compiles but changes what the
    // crate does: it is released as breaking too.
    let bump = if changes.iter().any(|c| c.breaking) {
        Bump::Major
    } else if changes.is_empty() {
        Bump::None
    } else {
        Bump::Minor
    };
    Report { changes, bump }
}

struct Differ {
    changes: Vec<Change>,
}

/// Rules of the Cargo SemVer chapter, by the anchor of their section.
mod rule {
    /// Major: renaming, moving or removing a public item.
    pub const ITEM_REMOVE: &str = "item-remove";
    /// Minor: adding a public item.
    pub const ITEM_NEW: &str = "item-new";
    /// Major: adding or removing function parameters.
    pub const FN_CHANGE_ARITY: &str = "fn-change-arity";
    /// Major: changing the type of a public item (function parameter, field, return type).
    pub const TYPE_CHANGE: &str = "type-change";
    /// Minor: a field added to a `#[non_exhaustive]` struct.
    pub const STRUCT_FIELD_NON_EXHAUSTIVE: &str = "struct-add-field-non-exhaustive";
    /// Minor: a variant added to a `#[non_exhaustive]` enum.
    pub const ENUM_VARIANT_NON_EXHAUSTIVE: &str = "enum-variant-new-non-exhaustive";
    /// Major: removing a trait implementation (`Default`).
    pub const TRAIT_IMPL_REMOVE: &str = "trait-impl-remove";
    /// Major: removing a Cargo feature.
    pub const CARGO_FEATURE_REMOVE: &str = "cargo-feature-remove";
    /// Minor: adding a Cargo feature.
    pub const CARGO_FEATURE_ADD: &str = "cargo-feature-add";
    /// Not seen by the compiler.
    pub const DOCUMENT: &str = "document";
}

impl Differ {
    fn rust(
        &mut self,
        breaking: bool,
        kind: ChangeKind,
        category: &'static str,
        location: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.changes.push(Change {
            breaking,
            kind,
            location: location.into(),
            detail: detail.into(),
            level: Level::Rust,
            category,
        });
    }

    fn document(
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
            level: Level::Document,
            category: rule::DOCUMENT,
        });
    }

    fn types(&mut self, old: &[TypeItem], new: &[TypeItem]) {
        let find = |items: &'_ [TypeItem], name: &str| items.iter().position(|t| t.name == name);
        let mut renamed_to = Vec::new();
        for o in old {
            match find(new, &o.name) {
                Some(i) => self.type_item(o, &new[i]),
                None => {
                    // Same definition under a new name: a rename (still a removal for Rust).
                    let twin = new.iter().find(|n| {
                        find(old, &n.name).is_none()
                            && !renamed_to.contains(&n.name)
                            && same_definition(o, n)
                    });
                    match twin {
                        Some(n) => {
                            renamed_to.push(n.name.clone());
                            self.rust(
                                true,
                                ChangeKind::TypeRenamed,
                                rule::ITEM_REMOVE,
                                &o.path,
                                format!("`{}` is now `{}`{}", o.path, n.path, why_named(n)),
                            );
                        }
                        None => self.rust(
                            true,
                            ChangeKind::TypeRemoved,
                            rule::ITEM_REMOVE,
                            &o.path,
                            format!("`{}` removed", o.path),
                        ),
                    }
                }
            }
        }
        for n in new {
            if find(old, &n.name).is_none() && !renamed_to.contains(&n.name) {
                self.rust(
                    false,
                    ChangeKind::TypeAdded,
                    rule::ITEM_NEW,
                    &n.path,
                    format!("`{}` added{}", n.path, why_named(n)),
                );
            }
        }
    }

    fn type_item(&mut self, o: &TypeItem, n: &TypeItem) {
        match (&o.kind, &n.kind) {
            (TypeItemKind::Struct(a), TypeItemKind::Struct(b)) => self.structure(&o.path, a, b),
            (TypeItemKind::Enum(a), TypeItemKind::Enum(b)) => {
                for (name, value) in &a.variants {
                    if !b.variants.iter().any(|(x, _)| x == name) {
                        self.rust(
                            true,
                            ChangeKind::EnumValueRemoved,
                            rule::ITEM_REMOVE,
                            format!("{}::{name}", o.path),
                            format!("value `{value}` removed"),
                        );
                    }
                }
                for (name, value) in &b.variants {
                    if !a.variants.iter().any(|(x, _)| x == name) {
                        self.rust(
                            a.exhaustive,
                            ChangeKind::EnumValueAdded,
                            rule::ENUM_VARIANT_NON_EXHAUSTIVE,
                            format!("{}::{name}", o.path),
                            format!("value `{value}` added"),
                        );
                    }
                }
            }
            (TypeItemKind::Union(a), TypeItemKind::Union(b)) => {
                for m in &a.members {
                    match b.members.iter().find(|x| x.name == m.name) {
                        Some(x) if x.ty == m.ty => {}
                        Some(x) => self.rust(
                            true,
                            ChangeKind::UnionVariantChanged,
                            rule::TYPE_CHANGE,
                            format!("{}::{}", o.path, m.name),
                            format!("{} → {}", m.ty, x.ty),
                        ),
                        None => self.rust(
                            true,
                            ChangeKind::UnionVariantChanged,
                            rule::ITEM_REMOVE,
                            format!("{}::{}", o.path, m.name),
                            "alternative removed",
                        ),
                    }
                }
                for m in &b.members {
                    if !a.members.iter().any(|x| x.name == m.name) {
                        self.rust(
                            a.exhaustive,
                            ChangeKind::UnionVariantAdded,
                            rule::ENUM_VARIANT_NON_EXHAUSTIVE,
                            format!("{}::{}", o.path, m.name),
                            "alternative added",
                        );
                    }
                }
            }
            (TypeItemKind::Alias(a), TypeItemKind::Alias(b)) if a.target == b.target => {}
            _ => self.rust(
                true,
                ChangeKind::TypeChanged,
                rule::TYPE_CHANGE,
                &o.path,
                format!("{} → {}", kind_word(&o.kind), kind_word(&n.kind)),
            ),
        }
    }

    fn structure(&mut self, path: &str, a: &StructItem, b: &StructItem) {
        for f in &a.fields {
            let here = format!("{path}.{}", f.name);
            match b.fields.iter().find(|x| x.name == f.name) {
                None => self.rust(
                    true,
                    ChangeKind::FieldRemoved,
                    rule::ITEM_REMOVE,
                    here,
                    format!("field `{}` removed", f.name),
                ),
                Some(x) if x.ty != f.ty => self.rust(
                    true,
                    ChangeKind::FieldTypeChanged,
                    rule::TYPE_CHANGE,
                    here,
                    format!("{} → {}", f.ty, x.ty),
                ),
                Some(_) => {}
            }
        }
        for x in &b.fields {
            if !a.fields.iter().any(|f| f.name == x.name) {
                let required = b.constructor.iter().any(|&i| b.fields[i].name == x.name);
                self.rust(
                    a.exhaustive,
                    ChangeKind::FieldAdded,
                    rule::STRUCT_FIELD_NON_EXHAUSTIVE,
                    format!("{path}.{}", x.name),
                    format!(
                        "new {}field `{}`",
                        if required { "required " } else { "" },
                        x.json_name
                    ),
                );
            }
        }
        let args = |s: &StructItem| -> Vec<(String, RustType)> {
            s.constructor
                .iter()
                .map(|&i| (s.fields[i].name.clone(), s.fields[i].arg_ty.clone()))
                .collect()
        };
        let (oa, na) = (args(a), args(b));
        if oa != na {
            let names = |v: &[(String, RustType)]| {
                v.iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            self.rust(
                true,
                ChangeKind::FieldRequirementChanged,
                if oa.len() == na.len() {
                    rule::TYPE_CHANGE
                } else {
                    rule::FN_CHANGE_ARITY
                },
                format!("{path}::new"),
                format!("new({}) → new({})", names(&oa), names(&na)),
            );
        }
        if a.default && !b.default {
            self.rust(
                true,
                ChangeKind::DefaultRemoved,
                rule::TRAIT_IMPL_REMOVE,
                path,
                "no longer implements Default (it has a required field)",
            );
        }
    }

    fn methods(&mut self, old: &Api, os: &Surface, new: &Api, ns: &Surface) {
        let route = |op: &Operation| (op.http_method.clone(), route_shape(&op.path));
        let mut renamed = Vec::new();
        for (oi, om) in os.methods.iter().enumerate() {
            let oop = &old.operations[oi];
            let same_name = ns.methods.iter().position(|n| n.name == om.name);
            let by_route = || {
                new.operations.iter().position(|n| {
                    route(n) == route(oop) && !os.methods.iter().any(|o| o.name == n.method_name)
                })
            };
            match same_name.or_else(by_route) {
                Some(ni) => {
                    let nm = &ns.methods[ni];
                    if nm.name != om.name {
                        renamed.push(nm.name.clone());
                        self.rust(
                            true,
                            ChangeKind::OperationRenamed,
                            rule::ITEM_REMOVE,
                            &om.name,
                            format!("{} {} is now `{}`", oop.http_method, oop.path, nm.name),
                        );
                    }
                    self.method(oop, om, &new.operations[ni], nm);
                }
                None => self.rust(
                    true,
                    ChangeKind::OperationRemoved,
                    rule::ITEM_REMOVE,
                    &om.name,
                    format!("{} {} is gone", oop.http_method, oop.path),
                ),
            }
        }
        for (ni, nm) in ns.methods.iter().enumerate() {
            if !os.methods.iter().any(|o| o.name == nm.name) && !renamed.contains(&nm.name) {
                let op = &new.operations[ni];
                self.rust(
                    false,
                    ChangeKind::OperationAdded,
                    rule::ITEM_NEW,
                    &nm.name,
                    format!("{} {}", op.http_method, op.path),
                );
            }
        }
    }

    fn method(&mut self, oop: &Operation, om: &Method, nop: &Operation, nm: &Method) {
        let name = &om.name;
        self.arguments(oop, om, nop, nm);
        self.setters(oop, om, nop, nm);
        self.success(name, &om.success, &nm.success);
        self.errors(name, om, nm);
        if let (Some(a), Some(b)) = (&om.multipart, &nm.multipart) {
            self.structure(&a.name, a, b);
        }
        self.document_facts(name, oop, nop);
    }

    fn arguments(&mut self, oop: &Operation, om: &Method, nop: &Operation, nm: &Method) {
        // A path parameter is its place in the template: renaming `{id}` to `{dossierId}`
        // renames an argument, which no caller sees (arguments are positional).
        let wire = |op: &Operation, src: &ArgSource| match src {
            ArgSource::Param(i) if op.params[*i].location == ParamIn::Path => {
                let place = op.params[..*i]
                    .iter()
                    .filter(|p| p.location == ParamIn::Path)
                    .count();
                format!("path parameter #{}", place + 1)
            }
            ArgSource::Param(i) => format!("{:?} {}", op.params[*i].location, op.params[*i].name),
            ArgSource::Body => "body".to_string(),
        };
        let name = &om.name;
        let old: Vec<(String, &RustType)> = om
            .args
            .iter()
            .map(|a| (wire(oop, &a.source), &a.ty))
            .collect();
        let new: Vec<(String, &RustType)> = nm
            .args
            .iter()
            .map(|a| (wire(nop, &a.source), &a.ty))
            .collect();
        let setter_wires = |op: &Operation, m: &Method| -> Vec<String> {
            m.setters
                .iter()
                .filter_map(|s| match s.kind {
                    SetterKind::Param(i) => {
                        Some(format!("{:?} {}", op.params[i].location, op.params[i].name))
                    }
                    SetterKind::Runtime(_) => None,
                })
                .collect()
        };
        let (old_opt, new_opt) = (setter_wires(oop, om), setter_wires(nop, nm));
        for (i, (w, ty)) in old.iter().enumerate() {
            let here = format!("{name}.{}", om.args[i].name);
            match new.iter().position(|(x, _)| x == w) {
                None if new_opt.contains(w) => self.rust(
                    true,
                    ChangeKind::ParameterRequirementChanged,
                    rule::FN_CHANGE_ARITY,
                    here,
                    "now optional (a builder method, no longer an argument)",
                ),
                None if w == "body" => self.rust(
                    true,
                    ChangeKind::RequestBodyChanged,
                    rule::FN_CHANGE_ARITY,
                    here,
                    "no longer takes a request body",
                ),
                None => self.rust(
                    true,
                    ChangeKind::ParameterRemoved,
                    rule::FN_CHANGE_ARITY,
                    here,
                    format!("{w} removed"),
                ),
                Some(j) if new[j].1 != *ty => self.rust(
                    true,
                    if w == "body" {
                        ChangeKind::RequestBodyChanged
                    } else {
                        ChangeKind::ParameterTypeChanged
                    },
                    rule::TYPE_CHANGE,
                    here,
                    format!("{ty} → {}", new[j].1),
                ),
                Some(j) if j != i => self.rust(
                    true,
                    ChangeKind::ParameterTypeChanged,
                    rule::TYPE_CHANGE,
                    here,
                    "argument moved",
                ),
                Some(_) => {}
            }
        }
        for (j, (w, _)) in new.iter().enumerate() {
            if old.iter().any(|(x, _)| x == w) {
                continue;
            }
            let here = format!("{name}.{}", nm.args[j].name);
            let (kind, detail) = if old_opt.contains(w) {
                (
                    ChangeKind::ParameterRequirementChanged,
                    "now required (an argument)".to_string(),
                )
            } else if w == "body" {
                (
                    ChangeKind::RequestBodyChanged,
                    "now takes a request body".to_string(),
                )
            } else {
                (
                    ChangeKind::RequiredParameterAdded,
                    format!("new required {w}"),
                )
            };
            self.rust(true, kind, rule::FN_CHANGE_ARITY, here, detail);
        }
    }

    fn setters(&mut self, oop: &Operation, om: &Method, nop: &Operation, nm: &Method) {
        let name = &om.name;
        let required_now = |w: &str| {
            nm.args.iter().any(|a| match a.source {
                ArgSource::Param(i) => {
                    format!("{:?} {}", nop.params[i].location, nop.params[i].name) == w
                }
                ArgSource::Body => false,
            })
        };
        for s in &om.setters {
            let here = format!("builders::{}::{}", om.builder, s.name);
            match nm.setters.iter().find(|x| x.name == s.name) {
                Some(x) if x.takes == s.takes => {}
                Some(x) => self.rust(
                    true,
                    ChangeKind::ParameterTypeChanged,
                    rule::TYPE_CHANGE,
                    here,
                    format!("{} → {}", type_list(&s.takes), type_list(&x.takes)),
                ),
                None => {
                    let wire = match s.kind {
                        SetterKind::Param(i) => {
                            format!("{:?} {}", oop.params[i].location, oop.params[i].name)
                        }
                        SetterKind::Runtime(o) => format!("option {}", o.method()),
                    };
                    if !required_now(&wire) {
                        self.rust(
                            true,
                            ChangeKind::ParameterRemoved,
                            rule::ITEM_REMOVE,
                            here,
                            format!("{wire} removed"),
                        );
                    }
                }
            }
        }
        for s in &nm.setters {
            if !om.setters.iter().any(|x| x.name == s.name) {
                let detail = match s.kind {
                    SetterKind::Param(i) => format!(
                        "new optional {:?} parameter `{}`",
                        nop.params[i].location, nop.params[i].name
                    ),
                    SetterKind::Runtime(o) => format!("new per-call option `{}`", o.method()),
                };
                self.rust(
                    false,
                    ChangeKind::OptionalParameterAdded,
                    rule::ITEM_NEW,
                    format!("{name}.{}", s.name),
                    detail,
                );
            }
        }
    }

    fn success(&mut self, name: &str, a: &Success, b: &Success) {
        match (a, b) {
            (Success::Uniform(x), Success::Uniform(y)) if x == y => {}
            (Success::ByStatus { variants: va, .. }, Success::ByStatus { variants: vb, .. })
                if a.rust_type() == b.rust_type() =>
            {
                for (v, ty) in va {
                    match vb.iter().find(|(x, _)| x == v) {
                        Some((_, t)) if t == ty => {}
                        _ => self.rust(
                            true,
                            ChangeKind::ResponseTypeChanged,
                            rule::ITEM_REMOVE,
                            format!("{} → {v}", name),
                            "success variant removed or changed",
                        ),
                    }
                }
                for (v, _) in vb {
                    if !va.iter().any(|(x, _)| x == v) {
                        self.rust(
                            false,
                            ChangeKind::ResponseAdded,
                            rule::ENUM_VARIANT_NON_EXHAUSTIVE,
                            format!("{} → {v}", name),
                            "success variant added",
                        );
                    }
                }
            }
            _ => self.rust(
                true,
                ChangeKind::ResponseTypeChanged,
                rule::TYPE_CHANGE,
                format!("{name} → response"),
                format!("{} → {}", a.rust_type(), b.rust_type()),
            ),
        }
    }

    fn errors(&mut self, name: &str, om: &Method, nm: &Method) {
        let (a, b) = (&om.error, &nm.error);
        for v in &a.variants {
            let here = format!("errors::{}::{}", a.name, v.name);
            match b.variants.iter().find(|x| x.name == v.name) {
                Some(x) if x.ty == v.ty => {}
                Some(x) => self.rust(
                    true,
                    ChangeKind::ErrorResponseChanged,
                    rule::TYPE_CHANGE,
                    here,
                    format!("{} → {}", v.ty, x.ty),
                ),
                None => self.rust(
                    true,
                    ChangeKind::ErrorResponseChanged,
                    rule::ITEM_REMOVE,
                    here,
                    "documented error body removed",
                ),
            }
        }
        for v in &b.variants {
            if !a.variants.iter().any(|x| x.name == v.name) {
                self.rust(
                    false,
                    ChangeKind::ErrorResponseChanged,
                    rule::ENUM_VARIANT_NON_EXHAUSTIVE,
                    format!("errors::{}::{}", b.name, v.name),
                    "documented error body added",
                );
            }
        }
        // A 429 is `rt::Error::RateLimited` either way: its typed body comes or goes at run
        // time (`rt::Error::rate_limited_body`), nothing a caller compiles against changes.
        match (&a.rate_limited, &b.rate_limited) {
            (Some(_), None) => self.document(
                false,
                ChangeKind::ErrorResponseChanged,
                format!("errors::{}", a.name),
                "the 429 body is no longer documented: `rate_limited_body()` is `None`",
            ),
            (None, Some(_)) => self.document(
                false,
                ChangeKind::ErrorResponseChanged,
                format!("errors::{}", b.name),
                "the 429 body is documented: `rate_limited_body()` reads it",
            ),
            _ => {}
        }
        let _ = name;
    }

    /// What the compiler does not see: media types, authentication, traceability, route.
    fn document_facts(&mut self, name: &str, old: &Operation, new: &Operation) {
        if let (Some(ob), Some(nb)) = (&old.body, &new.body)
            && ob.media_type != nb.media_type
        {
            self.document(
                true,
                ChangeKind::MediaTypeChanged,
                format!("{name} → body"),
                format!("Content-Type `{}` → `{}`", ob.media_type, nb.media_type),
            );
        }
        let accept = |op: &Operation| op.success.iter().find_map(|c| c.media_type.clone());
        if let (Some(a), Some(b)) = (accept(old), accept(new))
            && a != b
        {
            self.document(
                true,
                ChangeKind::MediaTypeChanged,
                format!("{name} → response"),
                format!("Accept `{a}` → `{b}`"),
            );
        }
        if old.no_auth != new.no_auth {
            self.document(
                true,
                ChangeKind::AuthChanged,
                name,
                if new.no_auth {
                    "no longer authenticated"
                } else {
                    "now needs credentials"
                },
            );
        }
        if old.traceability != new.traceability {
            self.document(
                true,
                ChangeKind::TraceabilityChanged,
                name,
                if new.traceability {
                    "now takes the traceability parameters (configure them on the client)"
                } else {
                    "no longer takes the traceability parameters"
                },
            );
        }
        if old.http_method != new.http_method || route_shape(&old.path) != route_shape(&new.path) {
            self.document(
                true,
                ChangeKind::RouteChanged,
                name,
                format!(
                    "{} {} → {} {}",
                    old.http_method, old.path, new.http_method, new.path
                ),
            );
        }
    }

    fn security(&mut self, old: &Api, new: &Api) {
        let names = |api: &Api| api.security.iter().map(scheme_key).collect::<Vec<_>>();
        let (o, n) = (names(old), names(new));
        for s in &o {
            if !n.contains(s) {
                self.document(
                    true,
                    ChangeKind::AuthChanged,
                    "security",
                    format!("scheme {s} removed"),
                );
            }
        }
        for s in &n {
            if !o.contains(s) {
                self.document(
                    true,
                    ChangeKind::AuthChanged,
                    "security",
                    format!("scheme {s} added"),
                );
            }
        }
    }
}

/// Two items with the same definition (a type that only changed name).
/// Why a type is not named as its schema, as a parenthesis ("" when it is).
fn why_named(item: &TypeItem) -> String {
    surface::rename_reason(item.renamed_from.as_deref())
        .map(|reason| format!(" ({reason})"))
        .unwrap_or_default()
}

fn same_definition(a: &TypeItem, b: &TypeItem) -> bool {
    match (&a.kind, &b.kind) {
        (TypeItemKind::Struct(x), TypeItemKind::Struct(y)) => {
            x.fields == y.fields && x.constructor == y.constructor
        }
        (TypeItemKind::Enum(x), TypeItemKind::Enum(y)) => x.variants == y.variants,
        (TypeItemKind::Union(x), TypeItemKind::Union(y)) => x.members == y.members,
        (TypeItemKind::Alias(x), TypeItemKind::Alias(y)) => x == y,
        _ => false,
    }
}

fn kind_word(k: &TypeItemKind) -> String {
    match k {
        TypeItemKind::Struct(_) => "struct".into(),
        TypeItemKind::Enum(_) => "enum".into(),
        TypeItemKind::Union(_) => "union enum".into(),
        TypeItemKind::Alias(a) => format!("alias of {}", a.target),
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

/// Argument types as a signature writes them: `impl Into<String>, impl Into<String>`.
fn type_list(types: &[RustType]) -> String {
    types
        .iter()
        .map(RustType::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
