//! What a schema node or a parameter is, decided exactly as the generator
//! decides the Rust type of the same node (`resolve::ty_of`, `top_schema`,
//! `param_ty`), so a dynamic call puts on the wire what the typed call's
//! Rust type would.

use gapi_gen::parse::{Document, Parameter, Schema};

use crate::Discovery;

/// The wire shape of a body schema node.
#[derive(Debug, Clone, Copy)]
pub enum Kind<'a> {
    /// A string kept as given.
    Str,
    /// A string the typed client holds in a newtype that keeps it exactly
    /// (`google-datetime`, `date-time`, `date`, `google-duration`,
    /// `google-fieldmask`).
    Formatted,
    /// A string with these values (the typed client's open enum).
    Enum(&'a [String]),
    /// `format: byte`: base64 (both alphabets read, the standard one written).
    Bytes,
    /// A 32-bit signed integer: a JSON number.
    I32,
    /// A 32-bit unsigned integer: a JSON number.
    U32,
    /// A 64-bit signed integer without a format: a JSON number.
    I64Number,
    /// `int64`: a decimal string on the wire.
    I64,
    /// `uint64`: a decimal string on the wire.
    U64,
    /// `float`.
    F32,
    /// `double` (or no format).
    F64,
    /// `boolean`.
    Bool,
    /// An array of these.
    Array(Option<&'a Schema>),
    /// An object with these properties (the typed client's struct).
    Struct(&'a Schema),
    /// A map of strings to these.
    Map(&'a Schema),
    /// Anything (`any`, or a node no Rust type narrows).
    Any,
}

impl Discovery {
    /// The kind of a schema node (a property, `items`, a request).
    pub fn kind<'a>(&'a self, s: &'a Schema) -> Kind<'a> {
        kind(self.document(), s)
    }
}

/// The kind of a schema node of `doc`.
pub(crate) fn kind<'a>(doc: &'a Document, s: &'a Schema) -> Kind<'a> {
    if s.ref_.is_none() {
        return property_kind(s);
    }
    // What a `$ref` names is a top-level schema, classified as the
    // generator's `top_schema` does (an `object` without properties is an
    // empty struct there, `any` as a property). Pure-reference chains are
    // followed; a cycle of them, which the generator refuses, ends as `Any`.
    let mut s = s;
    for _ in 0..64 {
        let Some(r) = s.ref_.as_deref() else { break };
        match doc.schemas.get(r) {
            Some(next) => s = next,
            None => return Kind::Any,
        }
    }
    if s.ref_.is_some() {
        return Kind::Any;
    }
    match s.type_.as_deref() {
        Some("object") | None if s.properties.is_some() => Kind::Struct(s),
        Some("object") if s.additional_properties.is_some() => property_kind(s),
        Some("object") => Kind::Struct(s),
        _ => property_kind(s),
    }
}

fn property_kind(s: &Schema) -> Kind<'_> {
    let fmt = s.format.as_deref();
    match s.type_.as_deref() {
        Some("string") => match s.enum_.as_deref() {
            Some(values) if !values.is_empty() => Kind::Enum(values),
            _ => string_format(fmt),
        },
        Some("integer") => match fmt {
            Some("int32") => Kind::I32,
            Some("uint32") => Kind::U32,
            Some("int64") => Kind::I64,
            Some("uint64") => Kind::U64,
            _ => Kind::I64Number,
        },
        Some("number") => match fmt {
            Some("float") => Kind::F32,
            _ => Kind::F64,
        },
        Some("boolean") => Kind::Bool,
        Some("array") => Kind::Array(s.items.as_deref()),
        Some("object") | None if s.properties.is_some() => Kind::Struct(s),
        Some("object") | None => match s.additional_properties.as_deref() {
            Some(ap) => Kind::Map(ap),
            None => Kind::Any,
        },
        _ => Kind::Any,
    }
}

fn string_format(fmt: Option<&str>) -> Kind<'static> {
    match fmt {
        Some("int64") => Kind::I64,
        Some("uint64") => Kind::U64,
        Some("byte") => Kind::Bytes,
        Some("google-datetime" | "date-time" | "date" | "google-duration" | "google-fieldmask") => {
            Kind::Formatted
        }
        _ => Kind::Str,
    }
}

/// The wire shape of a query or path parameter (the generator's `param_ty`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamKind<'a> {
    /// Any string.
    Str,
    /// One of these strings.
    Enum(&'a [String]),
    /// An integer within `min..=max` (int32, uint32, int64, uint64, or an
    /// `integer` without a format: i64).
    Int {
        /// The smallest value.
        min: i128,
        /// The largest value.
        max: i128,
        /// The type's name in messages (`int32`).
        name: &'static str,
    },
    /// `float`.
    F32,
    /// `double`.
    F64,
    /// `boolean`.
    Bool,
}

const I32: ParamKind<'static> = ParamKind::Int {
    min: i32::MIN as i128,
    max: i32::MAX as i128,
    name: "int32",
};
const U32: ParamKind<'static> = ParamKind::Int {
    min: 0,
    max: u32::MAX as i128,
    name: "uint32",
};
const I64: ParamKind<'static> = ParamKind::Int {
    min: i64::MIN as i128,
    max: i64::MAX as i128,
    name: "int64",
};
const U64: ParamKind<'static> = ParamKind::Int {
    min: 0,
    max: u64::MAX as i128,
    name: "uint64",
};

/// The kind of a parameter.
pub fn param_kind(p: &Parameter) -> ParamKind<'_> {
    let fmt = p.format.as_deref();
    match p.type_.as_deref() {
        Some("string") => match p.enum_.as_deref() {
            Some(values) if !values.is_empty() => ParamKind::Enum(values),
            _ => match fmt {
                Some("int64") => I64,
                Some("uint64") => U64,
                _ => ParamKind::Str,
            },
        },
        Some("integer") => match fmt {
            Some("int32") => I32,
            Some("uint32") => U32,
            Some("uint64") => U64,
            _ => I64,
        },
        Some("number") => match fmt {
            Some("float") => ParamKind::F32,
            _ => ParamKind::F64,
        },
        Some("boolean") => ParamKind::Bool,
        _ => ParamKind::Str,
    }
}

impl ParamKind<'_> {
    /// A short name of the kind for help and errors.
    pub fn describe(&self) -> String {
        match self {
            ParamKind::Str => "string".into(),
            ParamKind::Enum(_) => "enum".into(),
            ParamKind::Int { name, .. } => (*name).into(),
            ParamKind::F32 => "float".into(),
            ParamKind::F64 => "double".into(),
            ParamKind::Bool => "boolean".into(),
        }
    }
}
