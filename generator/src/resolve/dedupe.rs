//! Merging of identical types: a struct or enum of the `schemas` module that
//! is identical to an earlier one becomes a type alias of it.
//!
//! Discovery documents repeat inline schemas: every list response of compute
//! v1 has its own `warning` object with the same 29-value `code` enum (220
//! copies), and many enums and small objects recur under different names.
//! Each copy would cost the compiler a struct and its impls; an alias costs
//! nothing, and users keep every name (`type InstanceListWarning =
//! AcceleratorTypeAggregatedListWarning;` still takes struct literals,
//! variant paths and patterns).
//!
//! Two types are identical when everything emitted for them except the
//! type's own name and description is: for enums the variants (Rust name,
//! wire value, description, deprecation); for structs the fields (names,
//! description, type up to merged names, boxing, int64, flags) and the
//! pagination impl. The alias keeps the merged type's description. The
//! first type in name order is kept, so output is stable. Merging is run to
//! a fixed point, since merging enums can make the structs that hold them
//! identical.
//!
//! Boxing stays sound: the key includes each field's `boxed` flag, so a
//! merged type's by-value fields are those of the type it merges into, and
//! a by-value cycle among the kept types would imply one among the
//! originals, which [`box_recursion`](super) has broken.

use std::collections::{BTreeMap, HashMap};

use super::ir::{AliasDef, Ty, TypeDef};

/// Replaces every struct and enum of `types` that is identical to an earlier
/// one by an alias of it. Returns how many types were merged.
pub fn merge_identical(types: &mut BTreeMap<String, TypeDef>) -> usize {
    // merged name -> the name it merges into (may itself merge further)
    let mut merged: HashMap<String, String> = HashMap::new();
    loop {
        let mut kept: HashMap<String, &str> = HashMap::new();
        let mut found: Vec<(String, String)> = Vec::new();
        for (name, t) in types.iter() {
            if merged.contains_key(name) {
                continue;
            }
            let Some(key) = key(t, &merged) else {
                continue;
            };
            match kept.get(&key) {
                Some(first) => found.push((name.clone(), first.to_string())),
                None => {
                    kept.insert(key, name);
                }
            }
        }
        if found.is_empty() {
            break;
        }
        merged.extend(found);
    }
    for (name, into) in &merged {
        let target = follow(into, &merged).to_string();
        if let Some(t) = types.get_mut(name) {
            let doc = match t {
                TypeDef::Struct(s) => s.doc.take(),
                TypeDef::Enum(e) => e.doc.take(),
                TypeDef::Alias(_) => continue,
            };
            *t = TypeDef::Alias(AliasDef {
                name: name.clone(),
                doc,
                ty: Ty::Schema(target),
            });
        }
    }
    merged.len()
}

/// The name a merged type ends up as.
fn follow<'a>(mut name: &'a str, merged: &'a HashMap<String, String>) -> &'a str {
    // Chains are short and acyclic (each step goes to a type kept in an
    // earlier or the same round); the bound only guards against a bug.
    for _ in 0..64 {
        match merged.get(name) {
            Some(next) => name = next,
            None => break,
        }
    }
    name
}

/// `ty` with merged names replaced by the names they merge into.
fn canonical(ty: &Ty, merged: &HashMap<String, String>) -> Ty {
    match ty {
        Ty::Schema(n) => Ty::Schema(follow(n, merged).to_string()),
        Ty::Vec(t) => Ty::Vec(Box::new(canonical(t, merged))),
        Ty::Map(t) => Ty::Map(Box::new(canonical(t, merged))),
        other => other.clone(),
    }
}

/// Everything emitted for a type except its name and description, or `None`
/// for aliases (never merged).
fn key(t: &TypeDef, merged: &HashMap<String, String>) -> Option<String> {
    match t {
        TypeDef::Enum(e) => Some(format!("enum {:?}", e.variants)),
        TypeDef::Struct(s) => {
            let mut fields = s.fields.clone();
            for f in &mut fields {
                f.ty = canonical(&f.ty, merged);
            }
            let page = s.page.as_ref().map(|p| {
                (
                    &p.token_field,
                    p.items.as_ref().map(|(f, ty)| (f, canonical(ty, merged))),
                )
            });
            Some(format!("struct {fields:?} {page:?}"))
        }
        TypeDef::Alias(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::ir::{EnumDef, Field, StructDef, Variant};

    fn variant(wire: &str) -> Variant {
        Variant {
            rust: wire.to_string(),
            wire: wire.to_string(),
            doc: Some(format!("{wire} doc")),
            deprecated: false,
        }
    }

    fn enum_def(name: &str, values: &[&str]) -> TypeDef {
        TypeDef::Enum(EnumDef {
            name: name.into(),
            doc: Some(format!("{name} doc")),
            variants: values.iter().map(|v| variant(v)).collect(),
        })
    }

    fn field(name: &str, ty: Ty) -> Field {
        Field {
            rust: name.into(),
            wire: name.into(),
            doc: None,
            ty,
            boxed: false,
            int64: false,
            deprecated: false,
            read_only: false,
        }
    }

    fn struct_def(name: &str, fields: Vec<Field>) -> TypeDef {
        TypeDef::Struct(StructDef {
            name: name.into(),
            origin: name.into(),
            doc: Some(format!("{name} doc")),
            fields,
            page: None,
        })
    }

    fn alias_target(types: &BTreeMap<String, TypeDef>, name: &str) -> Option<String> {
        match &types[name] {
            TypeDef::Alias(a) => match &a.ty {
                Ty::Schema(t) => Some(t.clone()),
                _ => None,
            },
            _ => None,
        }
    }

    #[test]
    fn identical_enums_then_the_structs_holding_them_merge() {
        let mut types: BTreeMap<String, TypeDef> = [
            enum_def("ACode", &["X", "Y"]),
            enum_def("BCode", &["X", "Y"]),
            enum_def("CCode", &["X", "Z"]),
            struct_def("AWarning", vec![field("code", Ty::Schema("ACode".into()))]),
            struct_def("BWarning", vec![field("code", Ty::Schema("BCode".into()))]),
            struct_def("CWarning", vec![field("code", Ty::Schema("CCode".into()))]),
            struct_def(
                "AList",
                vec![field(
                    "warnings",
                    Ty::Vec(Box::new(Ty::Schema("AWarning".into()))),
                )],
            ),
            struct_def(
                "BList",
                vec![field(
                    "warnings",
                    Ty::Vec(Box::new(Ty::Schema("BWarning".into()))),
                )],
            ),
        ]
        .into_iter()
        .map(|t| (t.name().to_string(), t))
        .collect();
        assert_eq!(merge_identical(&mut types), 3);
        assert_eq!(alias_target(&types, "BCode").as_deref(), Some("ACode"));
        assert_eq!(
            alias_target(&types, "BWarning").as_deref(),
            Some("AWarning")
        );
        assert_eq!(alias_target(&types, "BList").as_deref(), Some("AList"));
        assert_eq!(alias_target(&types, "CCode"), None);
        assert_eq!(alias_target(&types, "CWarning"), None);
        // the alias keeps its own description
        match &types["BCode"] {
            TypeDef::Alias(a) => assert_eq!(a.doc.as_deref(), Some("BCode doc")),
            _ => unreachable!(),
        }
    }

    #[test]
    fn differences_in_docs_boxing_or_pages_keep_types_apart() {
        let mut boxed = field("next", Ty::Schema("A".into()));
        boxed.boxed = true;
        let mut documented = field("code", Ty::String);
        documented.doc = Some("the code".into());
        let mut types: BTreeMap<String, TypeDef> = [
            struct_def("A", vec![boxed.clone()]),
            struct_def("B", vec![field("next", Ty::Schema("A".into()))]),
            struct_def("C", vec![field("code", Ty::String)]),
            struct_def("D", vec![documented]),
            enum_def("E", &["X"]),
            TypeDef::Enum(EnumDef {
                name: "F".into(),
                doc: None,
                variants: vec![Variant {
                    doc: None,
                    ..variant("X")
                }],
            }),
        ]
        .into_iter()
        .map(|t| (t.name().to_string(), t))
        .collect();
        if let TypeDef::Struct(s) = types.get_mut("C").unwrap() {
            s.page = Some(crate::resolve::ir::PageImpl {
                token_field: "code".into(),
                items: None,
            });
        }
        types.insert("G".into(), struct_def("G", vec![field("code", Ty::String)]));
        assert_eq!(merge_identical(&mut types), 0);
    }
}
