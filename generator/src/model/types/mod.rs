//! The type space: every schema of a document becomes a Rust type expression or a named type.
//!
//! Component schemas keep their names; inline schemas get names derived from where they sit
//! (`SituationIr` + `aftDetail` → `SituationIrAftDetail`). Structurally identical inline
//! schemas share one type, which keeps large documents (API Entreprise: 415 inline objects)
//! small to compile. Names are handed out in document order, so output is deterministic.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use crate::naming::{Namer, pascal, snake};
use crate::oas::{self, Schema};

mod objects;
mod space;

use objects::Gathered;
pub use space::*;

/// Reads schemas into a [`TypeSpace`].
pub struct SchemaReader<'a> {
    root: &'a Value,
    /// The types built so far.
    pub space: TypeSpace,
    names: Namer,
    by_pointer: HashMap<String, TypeId>,
    shapes: HashMap<String, TypeId>,
    resolving: HashSet<String>,
    gathered: HashMap<String, std::rc::Rc<Gathered>>,
    gathering: HashSet<String>,
    /// Warnings and errors met.
    pub issues: Vec<SchemaIssue>,
}

/// Deepest nesting of inline schemas (and references being read) followed; past it the
/// reader reports a located error.
pub const MAX_DEPTH: usize = 96;

/// Arrays and maps nested in one type expression beyond this are typed as
/// `serde_json::Value`, with a located warning: deeper, rustc overflows proving the
/// expression `Send` (E0275 with 87 nested arrays, in the mutation campaign). Real documents
/// nest four (GeoJSON multipolygons).
pub const MAX_CONTAINER_NESTING: usize = 16;

impl<'a> SchemaReader<'a> {
    /// A reader over a normalised (OpenAPI 3 shaped) document. Component schemas are given
    /// their names up front so that references resolve whatever the order.
    pub fn new(root: &'a Value, reserved: &[&str]) -> Self {
        let mut reader = SchemaReader {
            root,
            space: TypeSpace::default(),
            names: Namer::with_reserved(reserved),
            by_pointer: HashMap::new(),
            shapes: HashMap::new(),
            resolving: HashSet::new(),
            gathered: HashMap::new(),
            gathering: HashSet::new(),
            issues: Vec::new(),
        };
        if let Some(schemas) = oas::Document(root).schemas() {
            for key in schemas.keys() {
                let pointer = format!("/components/schemas/{}", escape(key));
                let name = reader.names.unique(&pascal(key), "");
                let id = reader.placeholder(name, Some(key.clone()), pointer.clone());
                reader.by_pointer.insert(pointer, id);
            }
        }
        reader
    }

    /// Builds every component schema.
    pub fn read_components(&mut self) {
        let Some(schemas) = oas::Document(self.root).schemas() else {
            return;
        };
        for (key, schema) in schemas {
            let pointer = format!("/components/schemas/{}", escape(key));
            let id = self.by_pointer[&pointer];
            let name = self.space.types[id].name.clone();
            self.define(id, schema, &pointer, &name, 0);
        }
    }

    fn placeholder(&mut self, name: String, original: Option<String>, pointer: String) -> TypeId {
        self.space.types.push(NamedType {
            name,
            original,
            doc: None,
            kind: TypeKind::Alias(TypeRef::Prim(Prim::Any)),
            pointer,
            examples: Vec::new(),
            renamed_from: None,
        });
        self.space.types.len() - 1
    }

    fn warn(&mut self, pointer: &str, message: impl Into<String>, hint: impl Into<String>) {
        self.issues.push(SchemaIssue {
            pointer: pointer.into(),
            message: message.into(),
            hint: hint.into(),
            fatal: false,
        });
    }

    fn fail(&mut self, pointer: &str, message: impl Into<String>, hint: impl Into<String>) {
        self.issues.push(SchemaIssue {
            pointer: pointer.into(),
            message: message.into(),
            hint: hint.into(),
            fatal: true,
        });
    }

    /// Follows a local reference.
    pub fn resolve(&self, reference: &str) -> Option<&'a Value> {
        let pointer = reference.strip_prefix('#')?;
        self.root.pointer(pointer)
    }

    /// Fills a placeholder from its schema: structs, enums and unions keep the name, anything
    /// else becomes an alias.
    fn define(&mut self, id: TypeId, schema: &Value, pointer: &str, name: &str, depth: usize) {
        self.space.types[id].doc = doc_of(schema);
        collect_examples(schema, pointer, &mut self.space.types[id].examples);
        let kind = match self.shape(schema, pointer, name, depth) {
            Some(kind) => kind,
            None => TypeKind::Alias(self.read(schema, pointer, name, depth)),
        };
        self.space.types[id].kind = kind;
    }

    /// Reads a schema into a type expression, creating named types for inline objects, enums
    /// and unions.
    pub fn read(&mut self, schema: &Value, pointer: &str, hint: &str, depth: usize) -> TypeRef {
        if depth > MAX_DEPTH {
            self.fail(
                pointer,
                "schema nesting is too deep (a reference cycle gouvgen cannot break?)",
                "check the references around this schema",
            );
            return TypeRef::Prim(Prim::Any);
        }
        if !schema.is_object() {
            if schema == &Value::Bool(false) {
                return TypeRef::Prim(Prim::Any).optional();
            }
            return TypeRef::Prim(Prim::Any);
        }
        let view = Schema(schema);
        if let Some(pattern) = view.pattern()
            && regex_syntax::Parser::new().parse(pattern).is_err()
        {
            self.warn(
                &format!("{pointer}/pattern"),
                format!("pattern `{pattern}` is not a regex Rust can compile; shown in the docs, not checked"),
                "write it in the common regex subset (e.g. `.{0,200}` rather than `.{,200}`)",
            );
        }
        let nullable = is_nullable(schema, self);
        let ty = self.read_inner(schema, pointer, hint, depth);
        if nullable { ty.optional() } else { ty }
    }

    fn read_inner(&mut self, schema: &Value, pointer: &str, hint: &str, depth: usize) -> TypeRef {
        let view = Schema(schema);
        if let Some(reference) = view.reference() {
            return self.read_ref(reference, pointer, depth);
        }
        // allOf with one real member (others only carry description / nullable): that member.
        if let Some(members) = view.all_of() {
            let real: Vec<&Value> = members
                .iter()
                .filter(|m| !Schema(m).annotates_only())
                .collect();
            if real.len() == 1 && !view.declares_properties() {
                let idx = members
                    .iter()
                    .position(|m| std::ptr::eq(m, real[0]))
                    .unwrap_or(0);
                return self.read(real[0], &format!("{pointer}/allOf/{idx}"), hint, depth + 1);
            }
        }
        // oneOf/anyOf whose only non-null member is one schema: that schema (made optional by
        // `is_nullable`).
        for (key, members) in view.alternatives() {
            if let Some(members) = members {
                let real: Vec<(usize, &Value)> = members
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| !is_null_schema(m))
                    .collect();
                if real.len() == 1 && !view.declares_properties() {
                    return self.read(
                        real[0].1,
                        &format!("{pointer}/{key}/{}", real[0].0),
                        hint,
                        depth + 1,
                    );
                }
                if real.is_empty() {
                    return TypeRef::Prim(Prim::Any);
                }
            }
        }
        if let Some(kind) = self.peek_shape(view) {
            return self.named_inline(schema, pointer, hint, kind, depth);
        }
        self.read_plain(view, pointer, hint, depth)
    }

    fn read_ref(&mut self, reference: &str, pointer: &str, depth: usize) -> TypeRef {
        let Some(local) = reference.strip_prefix('#') else {
            self.fail(
                pointer,
                format!("unresolved reference `{reference}`"),
                "external references are bundled by the loader; check the file exists",
            );
            return TypeRef::Prim(Prim::Any);
        };
        if let Some(id) = self.by_pointer.get(local) {
            return TypeRef::Named(*id);
        }
        let Some(target) = self.root.pointer(local) else {
            self.warn(
                &format!("{pointer}/$ref"),
                format!("dangling reference `{reference}`: nothing at that place in the document; typed as `serde_json::Value`"),
                "fix the reference, or add the schema it names",
            );
            return TypeRef::Prim(Prim::Any);
        };
        if !self.resolving.insert(local.to_string()) {
            // A cycle through non-component schemas: give the target a name so it can recurse.
            let name = self.names.unique(&pascal(last_segment(local)), "");
            let id = self.placeholder(name.clone(), None, local.to_string());
            self.by_pointer.insert(local.to_string(), id);
            return TypeRef::Named(id);
        }
        let hint = pascal(last_segment(local));
        let ty = self.read(target, local, &hint, depth + 1);
        self.resolving.remove(local);
        if let Some(id) = self.by_pointer.get(local).copied() {
            // The target referenced itself while being read: fill the placeholder.
            if matches!(
                self.space.types[id].kind,
                TypeKind::Alias(TypeRef::Prim(Prim::Any))
            ) {
                self.space.types[id].kind = TypeKind::Alias(ty);
            }
            return TypeRef::Named(id);
        }
        ty
    }

    /// Which named shape an inline schema needs, if any.
    /// Must agree with [`Self::shape`]: a schema given a name here gets a shape there, or it
    /// would become an alias of itself.
    fn peek_shape(&self, view: Schema<'_>) -> Option<Shape> {
        if let Some(members) = view.all_of() {
            let real = members
                .iter()
                .filter(|m| !Schema(m).annotates_only())
                .count();
            if real > 1 || view.declares_properties() {
                return Some(Shape::Struct);
            }
        }
        for (_, members) in view.alternatives() {
            if let Some(members) = members {
                let real = members.iter().filter(|m| !is_null_schema(m)).count();
                if real > 1 || view.declares_properties() {
                    return Some(Shape::Union);
                }
            }
        }
        if let Some(values) = view.enum_values() {
            let strings = values.iter().filter(|v| v.is_string()).count();
            let others = values
                .iter()
                .filter(|v| !v.is_string() && !v.is_null())
                .count();
            if strings > 0 && others == 0 {
                return Some(Shape::Enum);
            }
            return None;
        }
        if view.declares_properties() {
            return Some(Shape::Struct);
        }
        None
    }

    fn named_inline(
        &mut self,
        schema: &Value,
        pointer: &str,
        hint: &str,
        _shape: Shape,
        depth: usize,
    ) -> TypeRef {
        let key = shape_key(schema);
        if let Some(id) = self.shapes.get(&key) {
            collect_examples(schema, pointer, &mut self.space.types[*id].examples);
            return TypeRef::Named(*id);
        }
        let name = self.names.unique(&pascal(hint), "");
        let id = self.placeholder(name.clone(), None, pointer.to_string());
        self.shapes.insert(key, id);
        self.define(id, schema, pointer, &name, depth + 1);
        TypeRef::Named(id)
    }

    /// Builds the kind of a struct, enum or union schema; `None` for anything else.
    fn shape(
        &mut self,
        schema: &Value,
        pointer: &str,
        name: &str,
        depth: usize,
    ) -> Option<TypeKind> {
        schema.as_object()?;
        let view = Schema(schema);
        if view.has_reference() {
            return None;
        }
        match self.peek_shape(view)? {
            Shape::Enum => Some(self.string_enum(view)),
            Shape::Struct => Some(self.structure(view, pointer, name, depth)),
            Shape::Union => {
                let [(one_of, members), (any_of, _)] = view.alternatives();
                let key = if members.is_some_and(|m| {
                    m.iter().filter(|m| !is_null_schema(m)).count() > 1
                        || view.declares_properties()
                }) {
                    one_of
                } else {
                    any_of
                };
                Some(self.union(schema, key, pointer, name, depth))
            }
        }
    }

    /// A string enum. Its catch-all is always `Unknown(String)`, whatever the values, so a
    /// value added later never renames it: a value named `Unknown` becomes `UnknownValue`.
    fn string_enum(&mut self, view: Schema<'_>) -> TypeKind {
        let mut names = Namer::with_reserved(&["Unknown"]);
        let mut seen = HashSet::new();
        let mut variants = Vec::new();
        for v in view.enum_values().into_iter().flatten() {
            let Some(s) = v.as_str() else { continue };
            if !seen.insert(s.to_string()) {
                continue;
            }
            let base = match pascal(s) {
                _ if s.is_empty() => "Empty".to_string(),
                name if name == "Unknown" => "UnknownValue".to_string(),
                name => name,
            };
            variants.push(EnumVariant {
                name: names.unique(&base, ""),
                value: s.to_string(),
            });
        }
        TypeKind::Enum {
            variants,
            unknown: "Unknown".into(),
        }
    }

    /// Schemas that need no name: scalars, arrays, maps.
    fn read_plain(&mut self, view: Schema<'_>, pointer: &str, hint: &str, depth: usize) -> TypeRef {
        let ty_name = type_name(view);
        let format = view.format().unwrap_or("");
        match ty_name.as_deref() {
            Some("string") => self.string_type(format, pointer),
            Some("integer") => TypeRef::Prim(match format {
                "int32" => Prim::I32,
                "int8" => Prim::I8,
                "int16" => Prim::I16,
                "uint8" => Prim::U8,
                "uint16" => Prim::U16,
                "uint32" => Prim::U32,
                "uint64" => Prim::U64,
                "int64" | "" => Prim::I64,
                other => {
                    self.warn(
                        &format!("{pointer}/format"),
                        format!("unknown integer format `{other}`; using i64"),
                        "use int32 or int64",
                    );
                    Prim::I64
                }
            }),
            Some("number") => TypeRef::Prim(match format {
                "float" => Prim::F32,
                "int32" => Prim::I32,
                "int64" => Prim::I64,
                _ => Prim::F64,
            }),
            Some("boolean") => TypeRef::Prim(Prim::Bool),
            Some("array") => {
                let items = view
                    .items()
                    .cloned()
                    .unwrap_or(Value::Object(Default::default()));
                let item_hint = format!("{hint}Item");
                let ty = TypeRef::Vec(Box::new(self.read(
                    &items,
                    &format!("{pointer}/items"),
                    &item_hint,
                    depth + 1,
                )));
                self.bounded_nesting(ty, pointer)
            }
            Some("object") => match view.additional_schema() {
                Some(inner) => {
                    let ty = TypeRef::Map(Box::new(self.read(
                        inner,
                        &format!("{pointer}/additionalProperties"),
                        &format!("{hint}Value"),
                        depth + 1,
                    )));
                    self.bounded_nesting(ty, pointer)
                }
                _ => TypeRef::Prim(Prim::Object),
            },
            Some("null") => TypeRef::Prim(Prim::Any).optional(),
            Some("date") | Some("date-time") | Some("datetime") => {
                self.warn(
                    &format!("{pointer}/type"),
                    format!(
                        "`type: {}` is not a JSON type; read as a string with that format",
                        ty_name.as_deref().unwrap_or_default()
                    ),
                    format!(
                        "write `type: string` with `format: {}`",
                        if ty_name.as_deref() == Some("date") {
                            "date"
                        } else {
                            "date-time"
                        }
                    ),
                );
                TypeRef::Prim(if ty_name.as_deref() == Some("date") {
                    Prim::Date
                } else {
                    Prim::DateTime
                })
            }
            Some("file") => TypeRef::Prim(Prim::Binary),
            Some(other) => {
                self.warn(
                    &format!("{pointer}/type"),
                    format!("unknown type `{other}`; accepting any JSON value"),
                    "use one of string, integer, number, boolean, array, object",
                );
                TypeRef::Prim(Prim::Any)
            }
            None => {
                if let Some(values) = view.enum_values() {
                    return enum_base(values);
                }
                if let Some(c) = view.constant() {
                    return enum_base(std::slice::from_ref(c));
                }
                TypeRef::Prim(Prim::Any)
            }
        }
    }

    /// `ty`, or `serde_json::Value` with a warning when its containers nest past
    /// [`MAX_CONTAINER_NESTING`].
    fn bounded_nesting(&mut self, ty: TypeRef, pointer: &str) -> TypeRef {
        let nesting = container_nesting(&ty);
        if nesting <= MAX_CONTAINER_NESTING {
            return ty;
        }
        self.warn(
            pointer,
            format!(
                "arrays and maps nested {nesting} deep here; typed as `serde_json::Value` (gouvgen writes at most {MAX_CONTAINER_NESTING})"
            ),
            "flatten the nesting, or name an inner schema",
        );
        TypeRef::Prim(Prim::Any)
    }

    fn string_type(&mut self, format: &str, pointer: &str) -> TypeRef {
        TypeRef::Prim(match format {
            "date" => Prim::Date,
            "date-time" => Prim::DateTime,
            "uuid" => Prim::Uuid,
            "binary" => Prim::Binary,
            "" | "byte" | "password" | "email" | "uri" | "url" | "hostname" | "ipv4" | "ipv6"
            | "time" | "duration" | "iri" | "uri-reference" | "idn-email" | "regex"
            | "json-pointer" | "string" | "text" | "siren" | "siret" => Prim::String,
            other => {
                self.warn(&format!("{pointer}/format"), format!("format `{other}` is not a string format gouvgen knows; kept as a plain string"), "check the format name (the value is still read as text)");
                Prim::String
            }
        })
    }
}

/// How many containers (`Vec`, maps, `Option`, `Box`) a type expression nests.
fn container_nesting(ty: &TypeRef) -> usize {
    match ty {
        TypeRef::Vec(inner)
        | TypeRef::Map(inner)
        | TypeRef::Option(inner)
        | TypeRef::Boxed(inner) => 1 + container_nesting(inner),
        TypeRef::Prim(_) | TypeRef::Named(_) => 0,
    }
}

#[derive(Debug, Clone, Copy)]
enum Shape {
    Struct,
    Enum,
    Union,
}

/// The JSON type of a schema: `type`, the first non-null of a 3.1 type array, or inferred.
fn type_name(view: Schema<'_>) -> Option<String> {
    match view.type_keyword() {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Array(types)) => {
            let real: Vec<&str> = types
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .collect();
            match real.len() {
                0 => Some("null".into()),
                1 => Some(real[0].to_string()),
                _ => None,
            }
        }
        _ => {
            if view.has_properties() || view.has_additional_properties() {
                Some("object".into())
            } else if view.has_items() {
                Some("array".into())
            } else {
                None
            }
        }
    }
}

fn enum_base(values: &[Value]) -> TypeRef {
    let mut kinds = values.iter().filter(|v| !v.is_null()).map(|v| match v {
        Value::Bool(_) => 0,
        Value::Number(n) if n.is_i64() || n.is_u64() => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        _ => 4,
    });
    let first = kinds.next();
    let all_same = kinds.all(|k| Some(k) == first);
    TypeRef::Prim(match (first, all_same) {
        (Some(0), true) => Prim::Bool,
        (Some(1), true) => Prim::I64,
        (Some(2), true) => Prim::F64,
        (Some(3), true) => Prim::String,
        _ => Prim::Any,
    })
}

/// Nullable in any of the ways documents say it.
fn is_nullable(schema: &Value, reader: &SchemaReader) -> bool {
    if !schema.is_object() {
        return false;
    }
    let view = Schema(schema);
    if view.nullable_flag() {
        return true;
    }
    if let Some(Value::Array(types)) = view.type_keyword()
        && types.iter().any(|t| t == "null")
    {
        return true;
    }
    if let Some(values) = view.enum_values()
        && values.iter().any(Value::is_null)
    {
        return true;
    }
    for (_, members) in view.alternatives() {
        if let Some(members) = members
            && members.iter().any(|m| {
                is_null_schema(m)
                    || Schema(m)
                        .reference()
                        .and_then(|r| reader.resolve(r))
                        .is_some_and(is_null_schema)
            })
        {
            return true;
        }
    }
    false
}

fn is_null_schema(v: &Value) -> bool {
    let view = Schema(v);
    match view.type_keyword() {
        Some(Value::String(t)) => t == "null",
        Some(Value::Array(ts)) => !ts.is_empty() && ts.iter().all(|t| t == "null"),
        _ => view
            .enum_values()
            .is_some_and(|e| !e.is_empty() && e.iter().all(Value::is_null)),
    }
}

fn member_kind_name(member: &Value, i: usize) -> String {
    match type_name(Schema(member)).as_deref() {
        Some("string") => "String".into(),
        Some("integer") => "Integer".into(),
        Some("number") => "Number".into(),
        Some("boolean") => "Boolean".into(),
        Some("array") => "Array".into(),
        _ => format!("Variant{}", i + 1),
    }
}

fn is_scalar_default(default: &Value, ty: &TypeRef, space: &TypeSpace) -> bool {
    match (default, ty) {
        (Value::Bool(_), TypeRef::Prim(Prim::Bool)) => true,
        (Value::Number(n), TypeRef::Prim(p)) => {
            let int = |lo: i64, hi: i64| n.as_i64().is_some_and(|v| (lo..=hi).contains(&v));
            let uint = |hi: u64| n.as_u64().is_some_and(|v| v <= hi);
            match p {
                Prim::I8 => int(i8::MIN.into(), i8::MAX.into()),
                Prim::I16 => int(i16::MIN.into(), i16::MAX.into()),
                Prim::I32 => int(i32::MIN.into(), i32::MAX.into()),
                Prim::I64 => n.is_i64(),
                Prim::U8 => uint(u8::MAX.into()),
                Prim::U16 => uint(u16::MAX.into()),
                Prim::U32 => uint(u32::MAX.into()),
                Prim::U64 => n.is_u64(),
                Prim::F32 => n
                    .as_f64()
                    .is_some_and(|f| f.is_finite() && f.abs() <= f32::MAX as f64),
                Prim::F64 => n.as_f64().is_some_and(f64::is_finite),
                _ => false,
            }
        }
        (Value::String(_), TypeRef::Prim(Prim::String)) => true,
        (Value::String(s), TypeRef::Named(id)) => {
            matches!(&space.types[*id].kind, TypeKind::Enum { variants, .. } if variants.iter().any(|v| &v.value == s))
        }
        _ => false,
    }
}

/// Canonical text of a schema for sharing identical inline shapes; descriptions and examples
/// do not make two shapes different.
fn shape_key(schema: &Value) -> String {
    fn strip(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(k, _)| {
                        !matches!(k.as_str(), "description" | "example" | "examples" | "title")
                            && !k.starts_with("x-")
                    })
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            if k == "enum" || k == "default" || k == "const" {
                                v.clone()
                            } else {
                                strip(v)
                            },
                        )
                    })
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(strip).collect()),
            other => other.clone(),
        }
    }
    strip(schema).to_string()
}

/// Title and description joined, for rustdoc.
pub fn doc_of(schema: &Value) -> Option<String> {
    oas::documentation(schema)
}

/// Examples attached to a schema (`example`, 3.1 `examples` array).
fn collect_examples(schema: &Value, pointer: &str, out: &mut Vec<(String, Value)>) {
    let view = Schema(schema);
    if let Some(ex) = view.example() {
        out.push((format!("{pointer}/example"), ex.clone()));
    }
    if let Some(items) = view.examples() {
        for (i, ex) in items.iter().enumerate() {
            out.push((format!("{pointer}/examples/{i}"), ex.clone()));
        }
    }
}

/// Escapes a JSON pointer segment.
pub fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn last_segment(pointer: &str) -> &str {
    pointer.rsplit('/').next().unwrap_or(pointer)
}
