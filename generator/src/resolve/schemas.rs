//! Top-level schemas: their Rust names (claimed before any synthesized
//! name, so a schema keeps its own name when an inline type's would be the
//! same) and their types — a struct, an open enum or a type alias.

use super::Resolver;
use super::ir::*;
use super::names;
use crate::Error;
use crate::parse;

impl Resolver<'_> {
    /// Names every top-level schema, then types each of them.
    pub(super) fn schemas(&mut self) -> Result<(), Error> {
        let doc = self.doc;
        let keys: Vec<&str> = doc.schemas.keys().map(String::as_str).collect();
        let rust = names::claim_camel_exact_first(&mut self.ns, &keys);
        for (k, r) in keys.iter().zip(rust) {
            self.schema_names.insert(k.to_string(), r);
        }
        for (key, schema) in &doc.schemas {
            self.top_schema(key, schema, &Self::schema_path(key))?;
        }
        Ok(())
    }

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

    /// Registers a type of the `schemas` module.
    pub(super) fn add(&mut self, t: TypeDef) {
        self.types.insert(t.name().to_string(), t);
    }
}
