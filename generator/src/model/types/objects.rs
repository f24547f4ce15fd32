//! Object and union schemas: the properties and required names an object gathers through
//! `allOf` and references (memoised, so fan-out costs the document's size), the struct built
//! from them, and `oneOf` / `anyOf` unions.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::*;

impl SchemaReader<'_> {
    pub(super) fn structure(
        &mut self,
        view: Schema<'_>,
        pointer: &str,
        name: &str,
        depth: usize,
    ) -> TypeKind {
        let gathered = self.gather(view, pointer, depth);
        self.build_struct(view, pointer, name, gathered, depth)
    }

    /// Collects properties and required names of a schema, following `allOf` and references.
    /// What a referenced member gathers is memoised, so `allOf` fan-out (`A: allOf [B, B]`,
    /// `B: allOf [C, C]`, …) costs the size of the document, not 2^depth.
    fn gather(&mut self, view: Schema<'_>, pointer: &str, depth: usize) -> Gathered {
        let mut out = Gathered::default();
        if depth > MAX_DEPTH {
            self.fail(
                pointer,
                format!("`allOf` nests deeper than {MAX_DEPTH} levels"),
                "flatten the allOf chain, or check it for a reference cycle",
            );
            return out;
        }
        if let Some(p) = view.properties() {
            for (k, v) in p {
                let ptr = format!("{pointer}/properties/{}", escape(k));
                out.add_property(k, v.clone(), ptr);
            }
        }
        for name in view.required_names() {
            out.add_required(name);
        }
        if let Some(members) = view.all_of() {
            for (i, member) in members.iter().enumerate() {
                let mut member_ptr = format!("{pointer}/allOf/{i}");
                let mut member = member;
                let mut hops = 0;
                let mut via_ref = false;
                while let Some(r) = Schema(member).reference() {
                    match self.resolve(r) {
                        Some(target) if hops < 16 => {
                            member_ptr = r.trim_start_matches('#').to_string();
                            member = target;
                            hops += 1;
                            via_ref = true;
                        }
                        _ => {
                            self.warn(
                                &format!("{member_ptr}/$ref"),
                                format!(
                                    "dangling reference `{r}`: this part of the `allOf` is left out"
                                ),
                                "fix the reference, or add the schema it names",
                            );
                            break;
                        }
                    }
                }
                if !member.is_object() {
                    continue;
                }
                let m = Schema(member);
                if !via_ref {
                    let inner = self.gather(m, &member_ptr, depth + 1);
                    out.merge(&inner);
                    continue;
                }
                if let Some(done) = self.gathered.get(&member_ptr) {
                    let done = std::rc::Rc::clone(done);
                    out.merge(&done);
                    continue;
                }
                if !self.gathering.insert(member_ptr.clone()) {
                    self.warn(
                        &format!("{pointer}/allOf/{i}"),
                        "`allOf` refers back to a schema it is part of; the cycle is ignored",
                        "remove the schema from its own allOf",
                    );
                    continue;
                }
                let inner = self.gather(m, &member_ptr, depth + 1);
                self.gathering.remove(&member_ptr);
                out.merge(&inner);
                self.gathered.insert(member_ptr, std::rc::Rc::new(inner));
            }
        }
        out
    }

    fn build_struct(
        &mut self,
        view: Schema<'_>,
        pointer: &str,
        name: &str,
        gathered: Gathered,
        depth: usize,
    ) -> TypeKind {
        let Gathered {
            props,
            index,
            required,
            required_set,
        } = gathered;
        for r in &required {
            if !index.contains_key(r) && !view.has_additional_properties() {
                self.warn(
                    &format!("{pointer}/required"),
                    format!("`required` names `{r}`, which is not a property; ignored"),
                    "remove it from `required` or add the property",
                );
            }
        }
        let mut names = Namer::default();
        let mut fields = Vec::new();
        for (key, prop, ptr) in props {
            let is_required = required_set.contains(&key);
            let ty = self.read(&prop, &ptr, &format!("{name}{}", pascal(&key)), depth + 1);
            let prop_view = Schema(&prop);
            let default = prop_view
                .default()
                .filter(|d| is_scalar_default(d, &ty, &self.space))
                .cloned();
            if default.is_none()
                && let Some(d) = prop_view.default()
                && matches!((d, &ty), (Value::Number(_), TypeRef::Prim(p)) if *p != Prim::Any && *p != Prim::Object)
            {
                self.warn(
                    &format!("{ptr}/default"),
                    format!("default `{d}` does not fit the property's type; ignored"),
                    "give a default within the range of the type (or change the format)",
                );
            }
            let ty = if (!is_required && default.is_none()) || matches!(ty, TypeRef::Option(_)) {
                ty.optional()
            } else {
                ty
            };
            let mut doc = doc_of(&prop);
            if let Some(pattern) = prop_view.pattern() {
                let line = format!("Pattern: `{pattern}`.");
                doc = Some(match doc {
                    Some(d) => format!("{d}\n\n{line}"),
                    None => line,
                });
            }
            fields.push(Field {
                name: names.unique(&snake(&key), "_"),
                original: key,
                ty,
                required: is_required,
                doc,
                deprecated: prop_view.deprecated(),
                default,
            });
        }
        let extra = match view.additional_schema() {
            Some(schema) if !fields.is_empty() => Some(self.read(
                schema,
                &format!("{pointer}/additionalProperties"),
                &format!("{name}Value"),
                depth + 1,
            )),
            _ => None,
        };
        TypeKind::Struct { fields, extra }
    }

    pub(super) fn union(
        &mut self,
        schema: &Value,
        key: &str,
        pointer: &str,
        name: &str,
        depth: usize,
    ) -> TypeKind {
        let view = Schema(schema);
        let members = view.members(key).unwrap_or_default();
        let mapping = view.discriminator_mapping();
        let discriminator = view.discriminator_property().map(str::to_string);
        let mut names = Namer::default();
        let mut variants = Vec::new();
        for (i, member) in members.iter().enumerate() {
            if is_null_schema(member) {
                continue;
            }
            let ptr = format!("{pointer}/{key}/{i}");
            let reference = Schema(member).reference();
            let base = match reference {
                Some(r) => pascal(last_segment(r)),
                None => member_kind_name(member, i),
            };
            let ty = self.read(member, &ptr, &format!("{name}{base}"), depth + 1);
            let mut tags: Vec<String> = match reference {
                Some(r) => mapping
                    .iter()
                    .filter(|(_, target)| target == r)
                    .map(|(k, _)| k.clone())
                    .collect(),
                None => Vec::new(),
            };
            if tags.is_empty()
                && discriminator.is_some()
                && let Some(r) = reference
            {
                tags.push(last_segment(r).to_string());
            }
            variants.push(UnionVariant {
                name: names.unique(&base, ""),
                ty,
                tags,
            });
        }
        let discriminator = discriminator.filter(|_| variants.iter().all(|v| !v.tags.is_empty()));
        TypeKind::Union {
            variants,
            discriminator,
        }
    }
}

/// Properties (in document order, a later definition replacing an earlier one in place) and
/// required names of an object schema with its `allOf` members.
#[derive(Debug, Default)]
pub(super) struct Gathered {
    props: Vec<(String, Value, String)>,
    index: HashMap<String, usize>,
    required: Vec<String>,
    required_set: HashSet<String>,
}

impl Gathered {
    fn add_property(&mut self, name: &str, schema: Value, pointer: String) {
        match self.index.get(name) {
            Some(&i) => {
                self.props[i].1 = schema;
                self.props[i].2 = pointer;
            }
            None => {
                self.index.insert(name.to_string(), self.props.len());
                self.props.push((name.to_string(), schema, pointer));
            }
        }
    }

    fn add_required(&mut self, name: &str) {
        if self.required_set.insert(name.to_string()) {
            self.required.push(name.to_string());
        }
    }

    fn merge(&mut self, other: &Gathered) {
        for (k, v, p) in &other.props {
            self.add_property(k, v.clone(), p.clone());
        }
        for r in &other.required {
            self.add_required(r);
        }
    }
}
