//! Rust type expressions of the surface, as data.
//!
//! The surface decides every type a generated crate shows; `emit` prints a [`RustType`] as
//! tokens (`crate::emit::rust_types`) and `diff`, docs and tests print it as text (its
//! `Display`). Both walk the same value, so no type is ever written as text and parsed back.

use std::fmt;

use crate::model::{Prim, TypeRef, TypeSpace};

/// A type expression.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RustType {
    /// A path with its generic arguments: `i64`, `rt::Date`, `Vec<T>`,
    /// `std::collections::BTreeMap<String, T>`.
    Path(&'static str, Vec<RustType>),
    /// A type of the generated `types` module: `types::X` outside it, `X` inside.
    Generated(String),
    /// An item of another module of the generated crate: `builders::X` (multipart bodies),
    /// `responses::X` (success enums); `X` inside that module.
    Item(ItemModule, String),
    /// `()`.
    Unit,
    /// `&T`.
    Ref(Box<RustType>),
    /// `[T]` (behind a reference).
    Slice(Box<RustType>),
    /// `impl Into<T>`.
    ImplInto(Box<RustType>),
}

/// The modules of a generated crate that hold items besides `types`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemModule {
    /// `builders`: request builders and the multipart bodies they send.
    Builders,
    /// `errors`: the error enum of every operation.
    Errors,
    /// `responses`: success enums, for operations whose bodies differ by status.
    Responses,
}

impl ItemModule {
    /// The module's name in the generated crate.
    pub fn name(self) -> &'static str {
        match self {
            ItemModule::Builders => "builders",
            ItemModule::Errors => "errors",
            ItemModule::Responses => "responses",
        }
    }
}

impl RustType {
    /// Whether the expression names a runtime type (`rt::bytes::Bytes`): the module that
    /// writes it must import `rt`.
    pub fn uses_runtime(&self) -> bool {
        match self {
            RustType::Path(path, args) => {
                path.starts_with("rt::") || args.iter().any(RustType::uses_runtime)
            }
            RustType::Ref(inner) | RustType::Slice(inner) | RustType::ImplInto(inner) => {
                inner.uses_runtime()
            }
            RustType::Generated(_) | RustType::Item(..) | RustType::Unit => false,
        }
    }

    /// A path without generic arguments.
    pub fn path(path: &'static str) -> Self {
        RustType::Path(path, Vec::new())
    }

    /// `String`.
    pub fn string() -> Self {
        RustType::path("String")
    }

    /// `rt::bytes::Bytes`.
    pub fn bytes() -> Self {
        RustType::path("rt::bytes::Bytes")
    }

    /// `&str`.
    pub fn str_ref() -> Self {
        RustType::Ref(Box::new(RustType::path("str")))
    }

    /// `impl Into<T>`.
    pub fn into_of(inner: RustType) -> Self {
        RustType::ImplInto(Box::new(inner))
    }

    /// `&T`.
    pub fn reference(inner: RustType) -> Self {
        RustType::Ref(Box::new(inner))
    }

    /// `&[T]`.
    pub fn slice_ref(inner: RustType) -> Self {
        RustType::reference(RustType::Slice(Box::new(inner)))
    }

    /// The Rust type of a model type, as written outside the `types` module.
    pub fn of(ty: &TypeRef, space: &TypeSpace) -> Self {
        let wrap = |path, inner: &TypeRef| RustType::Path(path, vec![RustType::of(inner, space)]);
        match ty {
            TypeRef::Prim(p) => prim(*p),
            TypeRef::Named(id) => RustType::Generated(space.types[*id].name.clone()),
            TypeRef::Vec(inner) => wrap("Vec", inner),
            TypeRef::Map(inner) => RustType::Path(
                "std::collections::BTreeMap",
                vec![RustType::string(), RustType::of(inner, space)],
            ),
            TypeRef::Option(inner) => wrap("Option", inner),
            TypeRef::Boxed(inner) => wrap("Box", inner),
        }
    }

    /// `Option<…>`.
    pub fn is_option(&self) -> bool {
        matches!(self, RustType::Path("Option", _))
    }

    /// `&…`: a borrowed argument.
    pub fn is_ref(&self) -> bool {
        matches!(self, RustType::Ref(_))
    }

    /// `impl …`: an argument the method converts and owns.
    pub fn is_impl(&self) -> bool {
        matches!(self, RustType::ImplInto(_))
    }

    /// `&T` with `T` sized (not `&str`, not `&[T]`): what `&impl Serialize` takes as it is.
    pub fn is_sized_ref(&self) -> bool {
        match self {
            RustType::Ref(inner) => {
                !matches!(**inner, RustType::Path("str", _) | RustType::Slice(_))
            }
            _ => false,
        }
    }
}

/// A scalar. Binary data inside JSON is base64 text, hence `String`.
fn prim(p: Prim) -> RustType {
    RustType::path(match p {
        Prim::String | Prim::Binary => "String",
        Prim::Bool => "bool",
        Prim::I8 => "i8",
        Prim::I16 => "i16",
        Prim::I32 => "i32",
        Prim::I64 => "i64",
        Prim::U8 => "u8",
        Prim::U16 => "u16",
        Prim::U32 => "u32",
        Prim::U64 => "u64",
        Prim::F32 => "f32",
        Prim::F64 => "f64",
        Prim::Date => "rt::Date",
        Prim::DateTime => "rt::DateTime",
        Prim::Uuid => "rt::uuid::Uuid",
        Prim::Any => "rt::serde_json::Value",
        Prim::Object => {
            return RustType::Path(
                "rt::serde_json::Map",
                vec![RustType::string(), RustType::path("rt::serde_json::Value")],
            );
        }
    })
}

impl fmt::Display for RustType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RustType::Path(path, args) => {
                f.write_str(path)?;
                if let Some((first, rest)) = args.split_first() {
                    write!(f, "<{first}")?;
                    for arg in rest {
                        write!(f, ", {arg}")?;
                    }
                    f.write_str(">")?;
                }
                Ok(())
            }
            RustType::Generated(name) => write!(f, "types::{name}"),
            RustType::Item(module, name) => write!(f, "{}::{name}", module.name()),
            RustType::Unit => f.write_str("()"),
            RustType::Ref(inner) => write!(f, "&{inner}"),
            RustType::Slice(inner) => write!(f, "[{inner}]"),
            RustType::ImplInto(inner) => write!(f, "impl Into<{inner}>"),
        }
    }
}
