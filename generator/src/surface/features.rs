//! Cargo features per tag (`--features-per-tag`): which feature turns on which method and type.
//!
//! Each tag of the document becomes a feature. An operation compiles when any of its tags'
//! features is on; a type compiles when any operation that reaches it (through parameters,
//! bodies, responses, fields, union members) compiles. What an untagged operation reaches,
//! and types no operation reaches, always compile: a caller may name them directly, and no
//! feature could turn them on.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Api, BodyKind, Operation, TypeId, TypeKind, TypeRef, TypeSpace};
use crate::naming::kebab;

/// The features one item compiles under: any of them. Empty: always compiled.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Gate(pub BTreeSet<String>);

impl Gate {
    /// Always compiled.
    pub fn always(&self) -> bool {
        self.0.is_empty()
    }
}

/// The crate's features and the gate of every method and type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    /// Feature name → the document's tags it stands for (usually one; several when their
    /// names meet, such as `Entreprises` and `entreprises`). Empty: features per tag are off.
    pub tags: BTreeMap<String, Vec<String>>,
    /// Gate of each method (index = model operation index).
    pub methods: Vec<Gate>,
    /// Gate of each type (index = model type id).
    pub types: Vec<Gate>,
}

impl Features {
    /// Everything always compiled: features per tag off.
    pub fn none(api: &Api) -> Self {
        Features {
            tags: BTreeMap::new(),
            methods: vec![Gate::default(); api.operations.len()],
            types: vec![Gate::default(); api.types.types.len()],
        }
    }

    /// One feature per tag, and the gates that follow from it.
    pub fn per_tag(api: &Api) -> Self {
        let mut tags: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let methods: Vec<Gate> = api
            .operations
            .iter()
            .map(|op| {
                let mut gate = Gate::default();
                for tag in &op.tags {
                    let feature = feature_name(tag);
                    let known = tags.entry(feature.clone()).or_default();
                    if !known.contains(tag) {
                        known.push(tag.clone());
                    }
                    gate.0.insert(feature);
                }
                gate
            })
            .collect();
        // `None`: not reached yet. `Some(empty)`: reached by an ungated operation.
        let mut reached: Vec<Option<Gate>> = vec![None; api.types.types.len()];
        for (op, gate) in api.operations.iter().zip(&methods) {
            for id in reachable(op, &api.types) {
                let slot = reached[id].get_or_insert_with(|| gate.clone());
                if gate.always() || slot.always() {
                    slot.0.clear();
                } else {
                    slot.0.extend(gate.0.iter().cloned());
                }
            }
        }
        let types = reached.into_iter().map(Option::unwrap_or_default).collect();
        Features {
            tags,
            methods,
            types,
        }
    }

    /// Whether features per tag are on.
    pub fn enabled(&self) -> bool {
        !self.tags.is_empty()
    }
}

/// A Cargo feature name for a tag: `Unités légales` → `unites-legales`. Cargo accepts
/// ASCII letters, digits, `_` and `-`; `default` is taken.
pub fn feature_name(tag: &str) -> String {
    let name = kebab(tag);
    match name.as_str() {
        "" => "untitled-tag".into(),
        "default" => "tag-default".into(),
        _ => name,
    }
}

/// Every named type an operation reaches, directly or through other types.
fn reachable(op: &Operation, space: &TypeSpace) -> BTreeSet<TypeId> {
    let mut roots: Vec<&TypeRef> = op.params.iter().map(|p| &p.ty).collect();
    if let Some(body) = &op.body {
        roots.push(&body.ty);
        if let BodyKind::Multipart(fields) = &body.kind {
            roots.extend(fields.iter().map(|f| &f.ty));
        }
    }
    roots.extend(
        op.success
            .iter()
            .chain(&op.errors)
            .filter_map(|c| c.ty.as_ref()),
    );
    let mut seen = BTreeSet::new();
    let mut stack: Vec<TypeId> = Vec::new();
    for root in roots {
        named_in(root, &mut stack);
    }
    while let Some(id) = stack.pop() {
        if !seen.insert(id) {
            continue;
        }
        match &space.types[id].kind {
            TypeKind::Struct { fields, extra } => {
                for f in fields {
                    named_in(&f.ty, &mut stack);
                }
                if let Some(extra) = extra {
                    named_in(extra, &mut stack);
                }
            }
            TypeKind::Union { variants, .. } => {
                for v in variants {
                    named_in(&v.ty, &mut stack);
                }
            }
            TypeKind::Alias(target) => named_in(target, &mut stack),
            TypeKind::Enum { .. } => {}
        }
    }
    seen
}

fn named_in(ty: &TypeRef, out: &mut Vec<TypeId>) {
    match ty {
        TypeRef::Named(id) => out.push(*id),
        TypeRef::Prim(_) => {}
        TypeRef::Vec(inner)
        | TypeRef::Map(inner)
        | TypeRef::Option(inner)
        | TypeRef::Boxed(inner) => named_in(inner, out),
    }
}

#[cfg(test)]
mod tests {
    use super::feature_name;

    #[test]
    fn tags_become_cargo_feature_names() {
        assert_eq!(feature_name("Unités légales"), "unites-legales");
        assert_eq!(feature_name("INSEE"), "insee");
        assert_eq!(feature_name("default"), "tag-default");
        assert_eq!(feature_name("---"), "untitled-tag");
        assert_eq!(feature_name("v3 / Documents"), "v3-documents");
    }
}
