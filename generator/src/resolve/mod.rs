//! Stage 2: from the parsed document to the typed IR ([`ir::Api`]).
//!
//! Every Rust name is decided here, once, in a deterministic order: schemas
//! sorted by name, properties and parameters sorted by name, enum values in
//! document order. Decisions worth knowing:
//!
//! - an object schema with no properties and no `additionalProperties`
//!   becomes a struct with no fields (it (de)serializes as `{}` and ignores
//!   unknown fields); other non-object top-level schemas become type aliases;
//! - inline objects and enums are named after their path: parent type name +
//!   property name (`Task` + `links` → `TaskLinks`), array items and map
//!   values use the name of their property;
//! - a field is boxed only when it closes a cycle of by-value (not `Vec`/map)
//!   references, i.e. when both ends are in the same strongly connected
//!   component of the by-value reference graph;
//! - a struct or enum identical to an earlier one (all but its name and
//!   description) becomes a type alias of it ([`dedupe`]);
//! - a schema that is an alias of itself (`{"$ref": "A"}` in `A`, or an
//!   array or map of itself, or a cycle of such schemas) is refused with the
//!   JSON path of the `$ref` that closes the cycle;
//! - types nest at most 16 arrays and maps (deeper parts are a JSON
//!   `Value`), and a document whose types go deeper than rustc can follow
//!   (an estimate) is refused ([`limits`]);
//! - method parameters that restate a document-level (standard) parameter are
//!   left out: those come from the `gapi::CallBuilder` trait.

mod dedupe;
pub mod ir;
mod limits;
pub mod names;
mod resources;
mod type_passes;

use std::collections::BTreeMap;

use crate::Error;
use crate::parse::{self, Document, push_key};
use ir::*;
use names::{Namespace, camel, camel_ident, camel_part, shouty};

/// Resolves a parsed document into the IR. `file` names the input in errors.
pub fn resolve(file: &str, doc: &Document) -> Result<Api, Error> {
    let mut r = Resolver {
        file,
        doc,
        ns: Namespace::new(),
        schema_names: BTreeMap::new(),
        types: BTreeMap::new(),
    };
    r.run()
}

struct Resolver<'a> {
    file: &'a str,
    doc: &'a Document,
    /// Type namespace of the `schemas` module.
    ns: Namespace,
    /// Discovery schema name → Rust name.
    schema_names: BTreeMap<String, String>,
    /// Rust name → type.
    types: BTreeMap<String, TypeDef>,
}

/// Parses a `maxSize` value: a plain number of bytes or a number with a
/// binary unit (`B`, `KB`, `MB`, `GB`, `TB`), e.g. `1GB` = 2^30.
pub fn parse_max_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let digits_end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(digits_end);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" => 1 << 10,
        "M" | "MB" => 1 << 20,
        "G" | "GB" => 1 << 30,
        "T" | "TB" => 1 << 40,
        _ => return None,
    };
    n.checked_mul(mult)
}

impl<'a> Resolver<'a> {
    fn err(&self, path: &str, message: impl Into<String>) -> Error {
        Error::Invalid {
            file: self.file.to_string(),
            json_path: path.to_string(),
            message: message.into(),
        }
    }

    fn run(&mut self) -> Result<Api, Error> {
        let doc = self.doc;
        // 1. Names of all top-level schemas, before any synthesized name.
        let keys: Vec<&str> = doc.schemas.keys().map(String::as_str).collect();
        let rust = names::claim_camel_exact_first(&mut self.ns, &keys);
        for (k, r) in keys.iter().zip(rust) {
            self.schema_names.insert(k.to_string(), r);
        }
        // 2. Types of all schemas.
        for (key, schema) in &doc.schemas {
            let mut path = String::from("$.schemas");
            push_key(&mut path, key);
            self.top_schema(key, schema, &path)?;
        }
        // A type alias cannot be its own definition (directly or through
        // other aliases): no Rust type expresses that.
        self.check_alias_cycles()?;
        // 3. Resources and methods.
        let mut root_types = Namespace::with_reserved(&["schemas", "scopes", "CallBuilder"]);
        let service_type = root_types.claim_camel(&camel(&doc.name));
        let root_values = Namespace::with_reserved(&["REVISION", "SERVICE"]);
        let root_accessors =
            Namespace::with_reserved(&["new", "with_root_url", "with_service_path", "service"]);
        let root = self.resource(
            "",
            &doc.methods,
            &doc.resources,
            false,
            0,
            "$",
            root_types,
            root_values,
            root_accessors,
        )?;
        let mut root = root;
        // 4. Nesting cut to rustc's limits, recursion boxed, int64 marked,
        // depth checked.
        self.clamp_nesting(&mut root);
        self.box_recursion();
        self.mark_int64();
        self.check_depth()?;
        // 5. Identical structs and enums become aliases of the first.
        dedupe::merge_identical(&mut self.types);

        let mut scope_ns = Namespace::new();
        let scopes = doc
            .auth
            .as_ref()
            .and_then(|a| a.oauth2.as_ref())
            .map(|o| {
                o.scopes
                    .iter()
                    .map(|(url, info)| Scope {
                        const_name: scope_ns.claim_snake(&shouty(scope_base(url))),
                        url: url.clone(),
                        description: info.description.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();

        Ok(Api {
            name: doc.name.clone(),
            version: doc.version.clone(),
            revision: doc.revision.clone().unwrap_or_default(),
            title: doc
                .title
                .clone()
                .unwrap_or_else(|| format!("{} {}", doc.name, doc.version)),
            description: doc.description.clone(),
            documentation_link: doc.documentation_link.clone(),
            root_url: doc.root_url.clone(),
            service_path: doc.service_path.clone(),
            batch_path: doc.batch_path.clone(),
            data_wrapper: doc.data_wrapper(),
            service_type,
            scopes,
            types: std::mem::take(&mut self.types).into_values().collect(),
            root,
        })
    }

    // ----------------------------------------------------------------- schemas

    fn top_schema(&mut self, key: &str, s: &parse::Schema, path: &str) -> Result<(), Error> {
        let name = self.schema_names[key].clone();
        let doc = s.description.clone();
        if s.ref_.is_some() {
            let ty = self.ty_of(&name, "", s, path)?;
            self.add(TypeDef::Alias(AliasDef { name, doc, ty }));
            return Ok(());
        }
        match s.type_.as_deref() {
            Some("object") | None if s.properties.is_some() => {
                self.struct_def(name, key.to_string(), s, path)?;
            }
            Some("object") if s.additional_properties.is_some() => {
                let ty = self.ty_of(&name, "", s, path)?;
                self.add(TypeDef::Alias(AliasDef { name, doc, ty }));
            }
            Some("object") => {
                self.struct_def(name, key.to_string(), s, path)?;
            }
            Some("string") if s.enum_.as_ref().is_some_and(|e| !e.is_empty()) => {
                let e = self.enum_def(name, s);
                self.add(TypeDef::Enum(e));
            }
            Some("array") => {
                let item = match &s.items {
                    Some(items) => self.ty_of(&name, "item", items, &format!("{path}.items"))?,
                    None => Ty::Value,
                };
                self.add(TypeDef::Alias(AliasDef {
                    name,
                    doc,
                    ty: Ty::Vec(Box::new(item)),
                }));
            }
            _ => {
                let ty = self.ty_of(&name, "", s, path)?;
                self.add(TypeDef::Alias(AliasDef { name, doc, ty }));
            }
        }
        Ok(())
    }

    fn add(&mut self, t: TypeDef) {
        self.types.insert(t.name().to_string(), t);
    }

    /// Builds a struct named `name` (already claimed) and registers it.
    fn struct_def(
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
            let rust_names = names::claim_snake_exact_first(&mut ns, &wires, None);
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

    fn enum_def(&mut self, name: String, s: &parse::Schema) -> EnumDef {
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
    fn ty_of(&mut self, ctx: &str, prop: &str, s: &parse::Schema, path: &str) -> Result<Ty, Error> {
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
            Some("integer") => match fmt {
                Some("int32") => Ty::I32,
                Some("uint32") => Ty::U32,
                Some("int64") => Ty::I64,
                Some("uint64") => Ty::U64,
                _ => Ty::I64Number,
            },
            Some("number") => match fmt {
                Some("float") => Ty::F32,
                _ => Ty::F64,
            },
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

fn string_format(fmt: Option<&str>) -> Ty {
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

/// The base of a scope constant's name: what follows `…/auth/`, else the URL
/// without its scheme.
fn scope_base(url: &str) -> &str {
    let s = url
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    match s
        .strip_prefix("www.googleapis.com/auth/")
        .or_else(|| s.strip_prefix("googleapis.com/auth/"))
    {
        Some(rest) if !rest.is_empty() => rest,
        _ => s.trim_end_matches('/'),
    }
}

fn enum_def(
    name: String,
    doc: Option<String>,
    values: &[String],
    descriptions: &[String],
    deprecated: &[bool],
) -> EnumDef {
    let mut ns = Namespace::with_reserved(&["UnknownValue"]);
    let mut seen = std::collections::HashSet::new();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_size_forms() {
        assert_eq!(parse_max_size("10485760"), Some(10485760));
        assert_eq!(parse_max_size("1GB"), Some(1 << 30));
        assert_eq!(parse_max_size("10GB"), Some(10 << 30));
        assert_eq!(parse_max_size("1KB"), Some(1024));
        assert_eq!(parse_max_size("5MB"), Some(5 << 20));
        assert_eq!(parse_max_size("2TB"), Some(2 << 40));
        assert_eq!(parse_max_size("5497558138880"), Some(5497558138880));
        assert_eq!(parse_max_size("lots"), None);
        assert_eq!(parse_max_size(""), None);
        assert_eq!(parse_max_size("99999999999999999999GB"), None);
    }

    #[test]
    fn scope_bases() {
        assert_eq!(
            scope_base("https://www.googleapis.com/auth/tasks.readonly"),
            "tasks.readonly"
        );
        assert_eq!(scope_base("https://mail.google.com/"), "mail.google.com");
        assert_eq!(scope_base("openid"), "openid");
    }
}
