//! Recursive types need a `Box` somewhere on the cycle, or they have infinite size.

use std::collections::HashSet;

use super::types::{TypeId, TypeKind, TypeRef, TypeSpace};

/// Boxes every field or variant that leads back to its own type without passing through a
/// `Vec` or a map (which already allocate).
pub(super) fn box_cycles(space: &mut TypeSpace) {
    for id in 0..space.types.len() {
        let slots = direct_slots(&space.types[id].kind);
        for slot in slots {
            let target = match slot_type(&space.types[id].kind, slot) {
                Some(t) => direct_target(t),
                None => None,
            };
            if let Some(target) = target
                && reaches(space, target, id, &mut HashSet::new())
                && let Some(ty) = slot_type_mut(&mut space.types[id].kind, slot)
            {
                box_in_place(ty);
            }
        }
    }
}

fn direct_slots(kind: &TypeKind) -> Vec<usize> {
    match kind {
        TypeKind::Struct { fields, .. } => (0..fields.len()).collect(),
        TypeKind::Union { variants, .. } => (0..variants.len()).collect(),
        TypeKind::Alias(_) => vec![0],
        TypeKind::Enum { .. } => Vec::new(),
    }
}

fn slot_type(kind: &TypeKind, slot: usize) -> Option<&TypeRef> {
    match kind {
        TypeKind::Struct { fields, .. } => fields.get(slot).map(|f| &f.ty),
        TypeKind::Union { variants, .. } => variants.get(slot).map(|v| &v.ty),
        TypeKind::Alias(t) => Some(t),
        TypeKind::Enum { .. } => None,
    }
}

fn slot_type_mut(kind: &mut TypeKind, slot: usize) -> Option<&mut TypeRef> {
    match kind {
        TypeKind::Struct { fields, .. } => fields.get_mut(slot).map(|f| &mut f.ty),
        TypeKind::Union { variants, .. } => variants.get_mut(slot).map(|v| &mut v.ty),
        TypeKind::Alias(_) | TypeKind::Enum { .. } => None,
    }
}

/// The named type a slot holds inline (through `Option` only).
fn direct_target(ty: &TypeRef) -> Option<TypeId> {
    match ty {
        TypeRef::Named(id) => Some(*id),
        TypeRef::Option(inner) => direct_target(inner),
        _ => None,
    }
}

fn reaches(space: &TypeSpace, from: TypeId, goal: TypeId, seen: &mut HashSet<TypeId>) -> bool {
    if from == goal {
        return true;
    }
    if !seen.insert(from) {
        return false;
    }
    let kind = &space.types[from].kind;
    direct_slots(kind).into_iter().any(|slot| {
        slot_type(kind, slot)
            .and_then(direct_target)
            .is_some_and(|next| reaches(space, next, goal, seen))
    })
}

fn box_in_place(ty: &mut TypeRef) {
    match ty {
        TypeRef::Option(inner) => box_in_place(inner),
        TypeRef::Named(_) => {
            let inner = std::mem::replace(ty, TypeRef::Prim(super::types::Prim::Any));
            *ty = TypeRef::Boxed(Box::new(inner));
        }
        _ => {}
    }
}
