//! The type of every schema node: scalars by `type` and `format`, `$ref`s
//! to the named schema, and inline objects and enums as types of their own,
//! named after their path (parent type + property: `Task` + `links` →
//! `TaskLinks`; array items and map values take their property's name).

use std::collections::HashSet;

use super::Resolver;
use super::ir::*;
use super::names::{Namespace, camel, camel_ident, camel_part};
use crate::Error;
use crate::parse::{self, push_key};

impl Resolver<'_> {
    /// Builds a struct named `name` (already claimed) and registers it.
    pub(super) fn struct_def(
        &mut self,
        name: String,
        origin: String,
        s: &parse::Schema,
        path: &str,
    ) -> Result<(), Error> {
        let mut ns = Namespace::new();
        let mut fields = Vec::new();
        if let Some(props) = &s.properties {
            let wires: Vec<&str> = props.keys().map(String::as_str).collect();
            let rust_names = super::names::claim_snake_exact_first(&mut ns, &wires, None);
            for ((wire, ps), rust) in props.iter().zip(rust_names) {
                let mut ppath = format!("{path}.properties");
                push_key(&mut ppath, wire);
                let ty = self.ty_of(&name, wire, ps, &ppath)?;
                fields.push(Field {
                    rust,
                    wire: wire.clone(),
                    doc: ps.description.clone(),
                    ty,
                    boxed: false,
                    int64: false,
                    deprecated: ps.deprecated == Some(true),
                    read_only: ps.read_only == Some(true),
                });
            }
        }
        self.add(TypeDef::Struct(StructDef {
            name,
            origin,
            doc: s.description.clone(),
            fields,
            page: None,
        }));
        Ok(())
    }

    /// The open enum of a string schema with `enum` values.
    pub(super) fn enum_def(&mut self, name: String, s: &parse::Schema) -> EnumDef {
        enum_def(
            name,
            s.description.clone(),
            s.enum_.as_deref().unwrap_or_default(),
            s.enum_descriptions.as_deref().unwrap_or_default(),
            s.enum_deprecated.as_deref().unwrap_or_default(),
        )
    }

    /// The type of schema node `s`, found at property `prop` of the type
    /// named `ctx` (inline types are named `ctx` + `prop`).
    pub(super) fn ty_of(
        &mut self,
        ctx: &str,
        prop: &str,
        s: &parse::Schema,
        path: &str,
    ) -> Result<Ty, Error> {
        if let Some(r) = &s.ref_ {
            return match self.schema_names.get(r) {
                Some(name) => Ok(Ty::Schema(name.clone())),
                None => Err(self.err(
                    &format!("{path}.$ref"),
                    format!("reference to an undefined schema `{}`", parse::shown(r)),
                )),
            };
        }
        let fmt = s.format.as_deref();
        Ok(match s.type_.as_deref() {
            Some("string") => {
                if s.enum_.as_ref().is_some_and(|e| !e.is_empty()) {
                    let name = self
                        .ns
                        .claim_camel(&camel_ident(&format!("{ctx}{}", camel_part(prop))));
                    let e = self.enum_def(name.clone(), s);
                    self.add(TypeDef::Enum(e));
                    Ty::Schema(name)
                } else {
                    string_format(fmt)
                }
            }
            Some("integer") => integer_format(fmt),
            Some("number") => number_format(fmt),
            Some("boolean") => Ty::Bool,
            Some("array") => match &s.items {
                Some(items) => Ty::Vec(Box::new(self.ty_of(
                    ctx,
                    prop,
                    items,
                    &format!("{path}.items"),
                )?)),
                None => Ty::Vec(Box::new(Ty::Value)),
            },
            Some("object") | None if s.properties.is_some() => {
                let name = self
                    .ns
                    .claim_camel(&camel_ident(&format!("{ctx}{}", camel_part(prop))));
                self.struct_def(name.clone(), path.to_string(), s, path)?;
                Ty::Schema(name)
            }
            Some("object") | None if s.additional_properties.is_some() => {
                let value = match s.additional_properties.as_deref() {
                    Some(ap) => {
                        self.ty_of(ctx, prop, ap, &format!("{path}.additionalProperties"))?
                    }
                    None => Ty::Value,
                };
                Ty::Map(Box::new(value))
            }
            _ => Ty::Value,
        })
    }
}

/// The type of a string with `format`.
pub(super) fn string_format(fmt: Option<&str>) -> Ty {
    match fmt {
        Some("int64") => Ty::I64,
        Some("uint64") => Ty::U64,
        Some("byte") => Ty::Bytes,
        Some("google-datetime") | Some("date-time") => Ty::DateTime,
        Some("date") => Ty::Date,
        Some("google-duration") => Ty::Duration,
        Some("google-fieldmask") => Ty::FieldMask,
        _ => Ty::String,
    }
}

/// The type of an integer with `format` (no format: a JSON number, `i64`).
pub(super) fn integer_format(fmt: Option<&str>) -> Ty {
    match fmt {
        Some("int32") => Ty::I32,
        Some("uint32") => Ty::U32,
        Some("int64") => Ty::I64,
        Some("uint64") => Ty::U64,
        _ => Ty::I64Number,
    }
}

/// The type of a number with `format`.
pub(super) fn number_format(fmt: Option<&str>) -> Ty {
    match fmt {
        Some("float") => Ty::F32,
        _ => Ty::F64,
    }
}

/// An open enum of `values` (duplicates dropped, variant names
/// collision-free and never `UnknownValue`, the catch-all).
pub(super) fn enum_def(
    name: String,
    doc: Option<String>,
    values: &[String],
    descriptions: &[String],
    deprecated: &[bool],
) -> EnumDef {
    let mut ns = Namespace::with_reserved(&["UnknownValue"]);
    let mut seen = HashSet::new();
    let mut variants = Vec::new();
    for (i, v) in values.iter().enumerate() {
        if !seen.insert(v.as_str()) {
            continue;
        }
        variants.push(Variant {
            rust: ns.claim_camel(&camel(v)),
            wire: v.clone(),
            doc: descriptions.get(i).cloned().filter(|d| !d.is_empty()),
            deprecated: deprecated.get(i).copied().unwrap_or(false),
        });
    }
    EnumDef {
        name,
        doc,
        variants,
    }
}
