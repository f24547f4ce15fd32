//! Surface of the `types` module: each named type's item, its fields and exhaustiveness,
//! its variants and openness, and the constructor callers build it with.

use serde_json::Value;

use super::RustType;
use crate::model::{Field, MultipartField, Prim, TypeKind, TypeRef, TypeSpace, UnionVariant};

/// A public item of the `types` module.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeItem {
    /// Rust name.
    pub name: String,
    /// Path from the crate root (`types::SituationIr`).
    pub path: String,
    /// Schema name in the document, when it had one (renames of component schemas are
    /// reported against it).
    pub schema: Option<String>,
    /// The document's name, when it is taken in Rust and the type was renamed
    /// ([`super::settle_type_names`]).
    pub renamed_from: Option<String>,
    /// What it is.
    pub kind: TypeItemKind,
}

/// The kinds of items.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeItemKind {
    /// A struct.
    Struct(StructItem),
    /// An open string enum.
    Enum(EnumItem),
    /// A union of alternatives.
    Union(UnionItem),
    /// `pub type X = …;`
    Alias(AliasItem),
}

/// A struct. Generated structs are never exhaustive: callers build them with `new` (the
/// fields of [`StructItem::constructor`]) and set the other, public, fields, so fields can be
/// added.
#[derive(Debug, Clone, PartialEq)]
pub struct StructItem {
    /// Rust name.
    pub name: String,
    /// `false`: the struct is `#[non_exhaustive]`.
    pub exhaustive: bool,
    /// Fields, in document order (the `additionalProperties` map last).
    pub fields: Vec<FieldItem>,
    /// Fields `new` takes, in order (indices into `fields`).
    pub constructor: Vec<usize>,
    /// Derives `Default` (only when `new` takes nothing).
    pub default: bool,
}

/// A field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldItem {
    /// Rust name.
    pub name: String,
    /// JSON name (or multipart part name).
    pub json_name: String,
    /// Type.
    pub ty: RustType,
    /// An `Option` the caller may leave out: `None` is not serialised.
    pub omittable: bool,
    /// Default value of the document, used when absent.
    pub default: Option<Value>,
    /// The `additionalProperties` map, flattened.
    pub flatten: bool,
    /// Type `new` takes it as, when it is required (`impl Into<T>`).
    pub arg_ty: RustType,
}

/// An open string enum: `#[non_exhaustive]`, unknown values kept in `unknown`.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumItem {
    /// Variants: Rust name and wire value.
    pub variants: Vec<(String, String)>,
    /// Catch-all variant holding unknown values.
    pub unknown: String,
    /// `false`: `#[non_exhaustive]`.
    pub exhaustive: bool,
}

/// A union (`oneOf` / `anyOf`), `#[non_exhaustive]`.
#[derive(Debug, Clone, PartialEq)]
pub struct UnionItem {
    /// Alternatives.
    pub members: Vec<UnionMember>,
    /// Discriminating property: the union is internally tagged by it (the tag is written
    /// from the variant, so it cannot disagree with it).
    pub tag: Option<String>,
    /// Variant keeping a value of an unknown kind (tagged unions only).
    pub other: Option<String>,
    /// `false`: `#[non_exhaustive]`.
    pub exhaustive: bool,
}

/// An alternative of a union.
#[derive(Debug, Clone, PartialEq)]
pub struct UnionMember {
    /// Variant name.
    pub name: String,
    /// Type.
    pub ty: RustType,
    /// Tag values selecting it (the first is written).
    pub tags: Vec<String>,
}

/// A type alias.
#[derive(Debug, Clone, PartialEq)]
pub struct AliasItem {
    /// What it stands for.
    pub target: RustType,
}

/// One item per named type, by type id.
/// `owned_tags`: structs whose tag property their union writes (see [`super::tags`]).
pub fn type_items(
    space: &TypeSpace,
    owned_tags: &std::collections::BTreeMap<usize, String>,
) -> Vec<TypeItem> {
    space
        .types
        .iter()
        .enumerate()
        .map(|(id, t)| {
            let kind = match &t.kind {
                TypeKind::Struct { fields, extra } => {
                    let tag = owned_tags.get(&id).map(String::as_str);
                    let kept: Vec<Field> = fields
                        .iter()
                        .filter(|f| Some(f.original.as_str()) != tag)
                        .cloned()
                        .collect();
                    TypeItemKind::Struct(struct_item(&t.name, &kept, extra.as_ref(), space))
                }
                TypeKind::Enum { variants, unknown } => TypeItemKind::Enum(EnumItem {
                    variants: variants
                        .iter()
                        .map(|v| (v.name.clone(), v.value.clone()))
                        .collect(),
                    unknown: unknown.clone(),
                    exhaustive: false,
                }),
                TypeKind::Union {
                    variants,
                    discriminator,
                } => TypeItemKind::Union(union_item(variants, discriminator.as_deref(), space)),
                TypeKind::Alias(target) => TypeItemKind::Alias(AliasItem {
                    target: RustType::of(target, space),
                }),
            };
            TypeItem {
                name: t.name.clone(),
                path: format!("types::{}", t.name),
                schema: t.original.clone(),
                renamed_from: t.renamed_from.clone(),
                kind,
            }
        })
        .collect()
}

fn struct_item(
    name: &str,
    fields: &[Field],
    extra: Option<&TypeRef>,
    space: &TypeSpace,
) -> StructItem {
    let mut items = Vec::new();
    let mut constructor = Vec::new();
    for f in fields {
        let ty = RustType::of(&f.ty, space);
        let is_option = matches!(f.ty, TypeRef::Option(_));
        let omittable = is_option && !f.required && f.default.is_none();
        if !is_option && f.default.is_none() {
            constructor.push(items.len());
        }
        let arg_ty = RustType::into_of(RustType::of(f.ty.unwrap_option(), space));
        items.push(FieldItem {
            name: f.name.clone(),
            json_name: f.original.clone(),
            ty,
            omittable,
            default: f.default.clone(),
            flatten: false,
            arg_ty,
        });
    }
    if let Some(extra) = extra {
        let taken = fields.iter().any(|f| f.name == "additional_properties");
        let field = if taken {
            "additional_properties_"
        } else {
            "additional_properties"
        };
        let ty = RustType::of(&TypeRef::Map(Box::new(extra.clone())), space);
        items.push(FieldItem {
            name: field.into(),
            json_name: String::new(),
            arg_ty: ty.clone(),
            ty,
            omittable: false,
            default: None,
            flatten: true,
        });
    }
    StructItem {
        name: name.to_string(),
        exhaustive: false,
        default: constructor.is_empty(),
        fields: items,
        constructor,
    }
}

/// The multipart body struct of an operation, in the `builders` module.
pub fn multipart_item(name: &str, fields: &[MultipartField], space: &TypeSpace) -> StructItem {
    let mut items = Vec::new();
    let mut constructor = Vec::new();
    for f in fields {
        let base = if f.is_file {
            RustType::path("rt::FilePart")
        } else {
            RustType::of(&f.ty, space)
        };
        if f.required {
            constructor.push(items.len());
        }
        items.push(FieldItem {
            name: f.rust_name.clone(),
            json_name: f.name.clone(),
            ty: if f.required {
                base.clone()
            } else {
                RustType::Path("Option", vec![base.clone()])
            },
            omittable: !f.required,
            default: None,
            flatten: false,
            arg_ty: RustType::into_of(base),
        });
    }
    StructItem {
        name: name.to_string(),
        exhaustive: false,
        default: constructor.is_empty(),
        fields: items,
        constructor,
    }
}

fn union_item(variants: &[UnionVariant], tag: Option<&str>, space: &TypeSpace) -> UnionItem {
    let other = tag.map(|_| catch_all_name(variants));
    UnionItem {
        members: variants
            .iter()
            .map(|v| UnionMember {
                name: v.name.clone(),
                ty: RustType::of(&v.ty, space),
                tags: v.tags.clone(),
            })
            .collect(),
        tag: tag.map(str::to_string),
        other,
        exhaustive: false,
    }
}

/// The catch-all variant of a tagged union: `Other`, or the first of `OtherValue`,
/// `OtherValue2`, … that no alternative takes.
fn catch_all_name(variants: &[UnionVariant]) -> String {
    let taken = |n: &str| variants.iter().any(|v| v.name == n);
    if !taken("Other") {
        return "Other".into();
    }
    (1..)
        .map(|i| match i {
            1 => "OtherValue".to_string(),
            _ => format!("OtherValue{i}"),
        })
        .find(|n| !taken(n))
        .expect("a free name exists")
}

/// Scalars that are `Copy` and passed by value.
pub(super) fn is_copy(ty: &TypeRef) -> bool {
    matches!(
        ty,
        TypeRef::Prim(
            Prim::Bool
                | Prim::I8
                | Prim::I16
                | Prim::I32
                | Prim::I64
                | Prim::U8
                | Prim::U16
                | Prim::U32
                | Prim::U64
                | Prim::F32
                | Prim::F64
                | Prim::Date
                | Prim::DateTime
                | Prim::Uuid
        )
    )
}
