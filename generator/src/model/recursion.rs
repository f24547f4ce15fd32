//! The type graph: recursive types need a `Box`, type aliases cannot recurse at all, and
//! chains of types nested by value must stay shallow enough for rustc.
//!
//! Everything here works on strongly connected components (iterative Tarjan), so a chain of
//! 100,000 schemas costs linear time and no stack.

use super::types::{Prim, SchemaIssue, TypeId, TypeKind, TypeRef, TypeSpace};

/// Longest chain of named types nested in one another (by value, or through `Vec`, `Option`,
/// `Box`, maps) that a generated crate may hold. rustc's drop check walks such chains and
/// stops at its recursion limit (128); a cycle counts with all its members.
pub const MAX_TYPE_NESTING: usize = 100;

/// Checks the type graph: breaks or refuses alias cycles, refuses chains deeper than
/// [`MAX_TYPE_NESTING`], and boxes the fields that make a type contain itself.
pub(super) fn check(space: &mut TypeSpace) -> Vec<SchemaIssue> {
    let mut issues = alias_cycles(space);
    issues.extend(nesting_depth(space));
    box_cycles(space);
    issues
}

/// Named types a type expression mentions; `direct` keeps only those held inline (through
/// `Option`), which are the ones that give a type infinite size.
fn targets(ty: &TypeRef, direct: bool, out: &mut Vec<TypeId>) {
    match ty {
        TypeRef::Named(id) => out.push(*id),
        TypeRef::Option(inner) => targets(inner, direct, out),
        TypeRef::Vec(inner) | TypeRef::Map(inner) | TypeRef::Boxed(inner) => {
            if !direct {
                targets(inner, direct, out)
            }
        }
        TypeRef::Prim(_) => {}
    }
}

fn kind_refs(kind: &TypeKind) -> Vec<&TypeRef> {
    match kind {
        TypeKind::Struct { fields, extra } => {
            fields.iter().map(|f| &f.ty).chain(extra.iter()).collect()
        }
        TypeKind::Union { variants, .. } => variants.iter().map(|v| &v.ty).collect(),
        TypeKind::Alias(t) => vec![t],
        TypeKind::Enum { .. } => Vec::new(),
    }
}

/// Strongly connected components of a graph given as adjacency lists, iteratively.
/// Returns the component of each node; components are numbered in reverse topological order
/// (a component's successors have smaller numbers).
fn components(edges: &[Vec<usize>]) -> Vec<usize> {
    let n = edges.len();
    let unvisited = usize::MAX;
    let mut index = vec![unvisited; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut comp = vec![unvisited; n];
    let mut stack = Vec::new();
    let mut next_index = 0;
    let mut next_comp = 0;
    for start in 0..n {
        if index[start] != unvisited {
            continue;
        }
        let mut call: Vec<(usize, usize)> = vec![(start, 0)];
        index[start] = next_index;
        low[start] = next_index;
        next_index += 1;
        stack.push(start);
        on_stack[start] = true;
        while let Some(&mut (v, ref mut edge)) = call.last_mut() {
            if let Some(&w) = edges[v].get(*edge) {
                *edge += 1;
                if index[w] == unvisited {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    call.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            call.pop();
            if let Some(&(parent, _)) = call.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    comp[w] = next_comp;
                    if w == v {
                        break;
                    }
                }
                next_comp += 1;
            }
        }
    }
    comp
}

/// `type A = B; type B = A;` (E0391) means nothing: refused. `type A = Vec<A>` is a real
/// recursive shape that an alias cannot express: the inner levels become JSON values.
fn alias_cycles(space: &mut TypeSpace) -> Vec<SchemaIssue> {
    let n = space.types.len();
    let is_alias =
        |space: &TypeSpace, id: usize| matches!(space.types[id].kind, TypeKind::Alias(_));
    let mut edges = vec![Vec::new(); n];
    let mut direct_edges = vec![Vec::new(); n];
    for id in 0..n {
        if let TypeKind::Alias(t) = &space.types[id].kind {
            let mut all = Vec::new();
            targets(t, false, &mut all);
            edges[id] = all.into_iter().filter(|&t| is_alias(space, t)).collect();
            let mut direct = Vec::new();
            targets(t, true, &mut direct);
            direct_edges[id] = direct.into_iter().filter(|&t| is_alias(space, t)).collect();
        }
    }
    let comp = components(&edges);
    let mut size = vec![0usize; n];
    for &c in &comp {
        size[c] += 1;
    }
    let direct_comp = components(&direct_edges);
    let mut direct_size = vec![0usize; n];
    for &c in &direct_comp {
        direct_size[c] += 1;
    }
    let mut issues = Vec::new();
    for id in 0..n {
        if !is_alias(space, id) {
            continue;
        }
        let cyclic = size[comp[id]] > 1 || edges[id].contains(&id);
        if !cyclic {
            continue;
        }
        let pure = direct_size[direct_comp[id]] > 1 || direct_edges[id].contains(&id);
        let ty = &space.types[id];
        if pure {
            issues.push(SchemaIssue {
                pointer: ty.pointer.clone(),
                message: format!(
                    "schema `{}` is only a reference to itself (through a cycle of references), so it has no type",
                    ty.original.as_deref().unwrap_or(&ty.name)
                ),
                hint: "make one schema of the cycle a real type (an object, array or scalar), or remove the cycle".into(),
                fatal: true,
            });
            continue;
        }
        issues.push(SchemaIssue {
            pointer: ty.pointer.clone(),
            message: format!(
                "schema `{}` contains itself only through arrays or maps; the nested levels are typed as any JSON value",
                ty.original.as_deref().unwrap_or(&ty.name)
            ),
            hint: "wrap the recursion in an object (`{type: object, properties: {items: ...}}`) to type every level".into(),
            fatal: false,
        });
        let own = comp[id];
        if let TypeKind::Alias(t) = &mut space.types[id].kind {
            replace_targets(t, &|target| comp[target] == own);
        }
    }
    issues
}

fn replace_targets(ty: &mut TypeRef, cut: &dyn Fn(TypeId) -> bool) {
    match ty {
        TypeRef::Named(id) if cut(*id) => *ty = TypeRef::Prim(Prim::Any),
        TypeRef::Named(_) | TypeRef::Prim(_) => {}
        TypeRef::Option(inner)
        | TypeRef::Vec(inner)
        | TypeRef::Map(inner)
        | TypeRef::Boxed(inner) => replace_targets(inner, cut),
    }
}

/// For each type, the types its fields and variants refer to (`direct`: only those held
/// inline, not through a `Vec` or a map), as given by [`targets`].
fn type_edges(space: &TypeSpace, direct: bool) -> Vec<Vec<usize>> {
    space
        .types
        .iter()
        .map(|t| {
            let mut out = Vec::new();
            for r in kind_refs(&t.kind) {
                targets(r, direct, &mut out);
            }
            out
        })
        .collect()
}

/// Longest chain of nested named types, each cycle counted with all its members.
fn nesting_depth(space: &TypeSpace) -> Vec<SchemaIssue> {
    let edges = type_edges(space, false);
    let comp = components(&edges);
    let comps = comp.iter().copied().max().map_or(0, |m| m + 1);
    let mut size = vec![0usize; comps];
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); comps];
    for (id, &c) in comp.iter().enumerate() {
        size[c] += 1;
        members[c].push(id);
    }
    // Successor components have smaller numbers: compute depths in increasing order.
    let mut depth = vec![0usize; comps];
    for c in 0..comps {
        let below = members[c]
            .iter()
            .flat_map(|&id| edges[id].iter())
            .map(|&t| comp[t])
            .filter(|&tc| tc != c)
            .map(|tc| depth[tc])
            .max()
            .unwrap_or(0);
        depth[c] = below + size[c];
    }
    let Some(worst) = (0..comps).max_by_key(|&c| (depth[c], std::cmp::Reverse(c))) else {
        return Vec::new();
    };
    if depth[worst] <= MAX_TYPE_NESTING {
        return Vec::new();
    }
    let ty = &space.types[members[worst][0]];
    vec![SchemaIssue {
        pointer: ty.pointer.clone(),
        message: format!(
            "schema `{}` starts a chain of {} nested types; gouvgen supports at most {MAX_TYPE_NESTING} (rustc's drop check overflows on deeper chains)",
            ty.original.as_deref().unwrap_or(&ty.name),
            depth[worst]
        ),
        hint: "flatten the nesting (fewer levels of objects inside objects), or type a deep level as a free-form object (`type: object` without properties)".into(),
        fatal: true,
    }]
}

/// Boxes every field or variant that leads back to its own type without passing through a
/// `Vec` or a map (which already allocate): exactly the inline edges inside one component of
/// the inline-edge graph.
fn box_cycles(space: &mut TypeSpace) {
    let edges = type_edges(space, true);
    let comp = components(&edges);
    for id in 0..space.types.len() {
        let own = comp[id];
        let slots: Vec<&mut TypeRef> = match &mut space.types[id].kind {
            TypeKind::Struct { fields, .. } => fields.iter_mut().map(|f| &mut f.ty).collect(),
            TypeKind::Union { variants, .. } => variants.iter_mut().map(|v| &mut v.ty).collect(),
            TypeKind::Alias(_) | TypeKind::Enum { .. } => Vec::new(),
        };
        for ty in slots {
            let mut direct = Vec::new();
            targets(ty, true, &mut direct);
            if direct.iter().any(|&t| comp[t] == own) {
                box_in_place(ty);
            }
        }
    }
}

fn box_in_place(ty: &mut TypeRef) {
    match ty {
        TypeRef::Option(inner) => box_in_place(inner),
        TypeRef::Named(_) => {
            let inner = std::mem::replace(ty, TypeRef::Prim(Prim::Any));
            *ty = TypeRef::Boxed(Box::new(inner));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::components;

    #[test]
    fn components_of_a_long_chain_and_a_cycle() {
        // 0 -> 1 -> 2 -> 1, 3 alone; a 200,000 chain needs no stack.
        let c = components(&[vec![1], vec![2], vec![1], vec![]]);
        assert_eq!(c[1], c[2]);
        assert_ne!(c[0], c[1]);
        assert!(c[1] < c[0], "successors are numbered first");
        let n = 200_000;
        let chain: Vec<Vec<usize>> = (0..n)
            .map(|i| if i + 1 < n { vec![i + 1] } else { vec![] })
            .collect();
        let c = components(&chain);
        assert_eq!(c[n - 1], 0);
        assert_eq!(c[0], n - 1);
    }
}
