//! What changed for users of the generated Rust API between two versions of a document.
//!
//! The comparison is between the two crates' [`Surface`]s, the same data `emit` prints: items
//! by path, struct fields and constructors, enum variants, methods, their arguments, builder
//! setters, success and error types. Each change is classified by the rules of the Cargo
//! reference's SemVer chapter (`category`), so "breaking" means code written against the old
//! crate stops compiling. Changes Rust does not see (authentication, media types,
//! traceability, routes) are reported too, at [`Level::Document`]: they break no build, but a
//! wire-level break is still released as a breaking version.

mod calls;
mod features;

use std::fmt;

use serde::Serialize;

use crate::model::{Api, Security};
use crate::surface::{self, RustType, StructItem, Surface, TypeItem, TypeItemKind};

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

/// Why a type is not named as its schema, as a parenthesis ("" when it is).
fn why_named(item: &TypeItem) -> String {
    surface::rename_reason(item.renamed_from.as_deref())
        .map(|reason| format!(" ({reason})"))
        .unwrap_or_default()
}

/// Two items with the same definition (a type that only changed name).
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
