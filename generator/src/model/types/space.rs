//! The type space's data: named types, type expressions, fields, variants, located issues.
//! What the schema reader builds and every later stage reads.

use serde_json::Value;

/// Index of a named type in [`TypeSpace::types`].
pub type TypeId = usize;

/// Scalar types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prim {
    /// `String`.
    String,
    /// `bool`.
    Bool,
    /// `i8`.
    I8,
    /// `i16`.
    I16,
    /// `i32`.
    I32,
    /// `i64`.
    I64,
    /// `u8`.
    U8,
    /// `u16`.
    U16,
    /// `u32`.
    U32,
    /// `u64`.
    U64,
    /// `f32`.
    F32,
    /// `f64`.
    F64,
    /// `chrono::NaiveDate`.
    Date,
    /// `chrono::DateTime<FixedOffset>`.
    DateTime,
    /// `uuid::Uuid`.
    Uuid,
    /// Raw bytes (`format: binary` at body level).
    Binary,
    /// Any JSON value.
    Any,
    /// A JSON object with unknown keys.
    Object,
}

/// A Rust type expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TypeRef {
    /// A scalar.
    Prim(Prim),
    /// A named type of the type space.
    Named(TypeId),
    /// `Vec<T>`.
    Vec(Box<TypeRef>),
    /// `BTreeMap<String, T>`.
    Map(Box<TypeRef>),
    /// `Option<T>`: the value may be `null`.
    Option(Box<TypeRef>),
    /// `Box<T>`: breaks a recursive type.
    Boxed(Box<TypeRef>),
}

impl TypeRef {
    /// Wraps in `Option` unless it already is one.
    pub fn optional(self) -> TypeRef {
        match self {
            TypeRef::Option(_) => self,
            other => TypeRef::Option(Box::new(other)),
        }
    }

    /// The type without an outer `Option`.
    pub fn unwrap_option(&self) -> &TypeRef {
        match self {
            TypeRef::Option(inner) => inner,
            other => other,
        }
    }
}

/// A named type.
#[derive(Debug, Clone)]
pub struct NamedType {
    /// Rust name.
    pub name: String,
    /// Name in the document, when it had one.
    pub original: Option<String>,
    /// Description for rustdoc.
    pub doc: Option<String>,
    /// What it is.
    pub kind: TypeKind,
    /// JSON pointer of the schema (normalised document).
    pub pointer: String,
    /// Examples found in the document for this schema: (pointer, value).
    pub examples: Vec<(String, Value)>,
    /// The name the document gave, when the surface renamed the type because Rust or the
    /// generated crate already uses it (`Error` → `ErrorSchema`); `None` from the model.
    pub renamed_from: Option<String>,
}

/// The shapes of named types.
#[derive(Debug, Clone)]
pub enum TypeKind {
    /// An object with known properties.
    Struct {
        /// Properties in document order.
        fields: Vec<Field>,
        /// `additionalProperties` schema, kept in a flattened map.
        extra: Option<TypeRef>,
    },
    /// A string enum, open to values added later by the provider.
    Enum {
        /// Known values.
        variants: Vec<EnumVariant>,
        /// Name of the catch-all variant holding unknown values.
        unknown: String,
    },
    /// `oneOf` / `anyOf`.
    Union {
        /// Alternatives in document order.
        variants: Vec<UnionVariant>,
        /// Property that tells the alternatives apart, when the document names one.
        discriminator: Option<String>,
    },
    /// A plain alias (`type Siren = String;`).
    Alias(TypeRef),
}

/// A struct field.
#[derive(Debug, Clone)]
pub struct Field {
    /// Rust name.
    pub name: String,
    /// JSON name.
    pub original: String,
    /// Type (already `Option` when optional or nullable).
    pub ty: TypeRef,
    /// Listed in `required`.
    pub required: bool,
    /// Description.
    pub doc: Option<String>,
    /// Marked deprecated.
    pub deprecated: bool,
    /// Scalar default value, used when the field is absent.
    pub default: Option<Value>,
}

/// A value of a string enum.
#[derive(Debug, Clone)]
pub struct EnumVariant {
    /// Rust variant name.
    pub name: String,
    /// The JSON string.
    pub value: String,
}

/// An alternative of a union.
#[derive(Debug, Clone)]
pub struct UnionVariant {
    /// Rust variant name.
    pub name: String,
    /// Its type.
    pub ty: TypeRef,
    /// Discriminator values selecting it.
    pub tags: Vec<String>,
}

/// All named types of a document.
#[derive(Debug, Default, Clone)]
pub struct TypeSpace {
    /// Named types, in the order they were met.
    pub types: Vec<NamedType>,
}

/// A warning about a schema, located by pointer.
#[derive(Debug, Clone)]
pub struct SchemaIssue {
    /// Where.
    pub pointer: String,
    /// What.
    pub message: String,
    /// What to do.
    pub hint: String,
    /// True when generation cannot go on.
    pub fatal: bool,
}
