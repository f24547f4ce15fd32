//! Structs that exist only as variants of one internally tagged union. Their tag property
//! is written by the union from the variant, so the struct leaves it out: a caller cannot
//! build a `Chat` whose `kind` says "chien". A struct also used on its own (a body, a field,
//! another union) keeps the field, since nothing else would write it.

use std::collections::BTreeMap;

use crate::model::{Api, BodyKind, TypeId, TypeKind, TypeRef};

/// For each struct owned by tagged unions, the JSON name of the tag those unions write.
pub fn union_owned_tags(api: &Api) -> BTreeMap<TypeId, String> {
    let space = &api.types;
    let mut owner: BTreeMap<TypeId, Option<String>> = BTreeMap::new();
    let mut used_alone = vec![false; space.types.len()];
    let mut alone = |ty: &TypeRef| mark(ty, &mut used_alone);
    for t in &space.types {
        match &t.kind {
            TypeKind::Struct { fields, extra } => {
                fields.iter().for_each(|f| alone(&f.ty));
                extra.iter().for_each(&mut alone);
            }
            TypeKind::Alias(target) => alone(target),
            TypeKind::Enum { .. } => {}
            TypeKind::Union {
                variants,
                discriminator,
            } => {
                for v in variants {
                    match (&v.ty, discriminator) {
                        (TypeRef::Named(id), Some(tag)) => {
                            let entry = owner.entry(*id).or_insert_with(|| Some(tag.clone()));
                            if entry.as_deref() != Some(tag) {
                                *entry = None;
                            }
                        }
                        (ty, _) => alone(ty),
                    }
                }
            }
        }
    }
    for op in &api.operations {
        op.params.iter().for_each(|p| alone(&p.ty));
        if let Some(body) = &op.body {
            alone(&body.ty);
            if let BodyKind::Multipart(fields) = &body.kind {
                fields.iter().for_each(|f| alone(&f.ty));
            }
        }
        op.success
            .iter()
            .chain(&op.errors)
            .filter_map(|c| c.ty.as_ref())
            .for_each(&mut alone);
    }
    owner
        .into_iter()
        .filter(|(id, _)| !used_alone.get(*id).copied().unwrap_or(true))
        .filter_map(|(id, tag)| Some((id, tag?)))
        .collect()
}

fn mark(ty: &TypeRef, used: &mut [bool]) {
    match ty {
        TypeRef::Prim(_) => {}
        TypeRef::Named(id) => {
            if let Some(u) = used.get_mut(*id) {
                *u = true;
            }
        }
        TypeRef::Vec(t) | TypeRef::Map(t) | TypeRef::Option(t) | TypeRef::Boxed(t) => mark(t, used),
    }
}
