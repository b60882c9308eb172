//! Parameters: their types, the `params` module of parameter enums, and
//! the document-level (standard) parameters.
//!
//! Parameter enums are named once every method is resolved, by one rule:
//! - when every parameter of a wire name that has values takes the same
//!   values (wire values, descriptions, deprecation), they share one enum
//!   named after the parameter: `predefinedAcl` → `params::PredefinedAcl`;
//! - otherwise each distinct set of values is an enum named after the
//!   first method (in document order: resources and methods sorted by
//!   name) that takes it, `<Resource><Method><Param>` with the innermost
//!   resource: `buckets.get`'s `projection` → `params::BucketsGetProjection`;
//! - then, as in `schemas`, an enum identical to another of a different
//!   name becomes an alias of it (`dedupe.rs`), so identical parameters are
//!   one type whatever their names.
//!
//! Until they are named, the types of parameters are `Ty::Local("#<n>")`
//! placeholders; [`rename_locals`] replaces them (a placeholder left over is
//! not an identifier, so the emitter would refuse it rather than emit it).

use std::collections::BTreeMap;

use super::Resolver;
use super::dedupe;
use super::inline::{enum_def, integer_format, number_format, string_format};
use super::ir::*;
use super::methods::{BUILDER_METHODS, claim_setters, repeated};
use super::names::{Namespace, camel, camel_ident, camel_part};
use crate::parse;

/// Document-level parameters a user does not set: the runtime does
/// (`alt`, `uploadType`, `upload_protocol`, `$.xgafv`), or the credentials
/// do (`key`, `access_token`, `oauth_token`, `bearer_token`), or they make
/// no sense outside a browser (`callback`: JSONP).
pub const RUNTIME_PARAMETERS: &[&str] = &[
    "alt",
    "uploadType",
    "upload_protocol",
    "$.xgafv",
    "key",
    "access_token",
    "oauth_token",
    "bearer_token",
    "callback",
];

/// One parameter enum met while resolving methods, not yet named.
struct Candidate {
    wire: String,
    /// `<Resource><Method>` of the method it belongs to.
    context: String,
    def: EnumDef,
}

/// Every parameter enum of the API, in the order met.
#[derive(Default)]
pub(super) struct ParamEnums {
    candidates: Vec<Candidate>,
}

impl ParamEnums {
    /// Records a parameter enum; its type is a placeholder until [`finish`](Self::finish).
    fn register(&mut self, wire: &str, context: &str, def: EnumDef) -> Ty {
        self.candidates.push(Candidate {
            wire: wire.to_string(),
            context: context.to_string(),
            def,
        });
        Ty::Local(format!("#{}", self.candidates.len() - 1))
    }

    /// Names every enum (see the module docs): the `params` module's types,
    /// and the name of each placeholder.
    pub(super) fn finish(self) -> (BTreeMap<String, TypeDef>, Vec<String>) {
        let key = |c: &Candidate| format!("{:?}", c.def.variants);
        let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, c) in self.candidates.iter().enumerate() {
            groups.entry(&c.wire).or_default().push(i);
        }
        let mut ns = Namespace::new();
        let mut names = vec![String::new(); self.candidates.len()];
        let mut types = BTreeMap::new();
        let mut define = |name: &str, c: &Candidate| {
            let mut def = c.def.clone();
            def.name = name.to_string();
            types.insert(name.to_string(), TypeDef::Enum(def));
        };
        // Parameters whose values agree everywhere first: they get the plain name.
        let (agreeing, differing): (Vec<_>, Vec<_>) = groups.into_iter().partition(|(_, ids)| {
            let first = key(&self.candidates[ids[0]]);
            ids.iter().all(|&i| key(&self.candidates[i]) == first)
        });
        for (wire, ids) in &agreeing {
            let name = ns.claim_camel(&camel(wire));
            define(&name, &self.candidates[ids[0]]);
            for &i in ids {
                names[i] = name.clone();
            }
        }
        for (wire, ids) in &differing {
            let mut by_key: Vec<(String, String)> = Vec::new();
            for &i in ids {
                let c = &self.candidates[i];
                let k = key(c);
                let name = match by_key.iter().find(|(bk, _)| *bk == k) {
                    Some((_, n)) => n.clone(),
                    None => {
                        let n = ns.claim_camel(&camel_ident(&format!(
                            "{}{}",
                            c.context,
                            camel_part(wire)
                        )));
                        define(&n, c);
                        by_key.push((k, n.clone()));
                        n
                    }
                };
                names[i] = name;
            }
        }
        dedupe::merge_identical(&mut types);
        (types, names)
    }
}

/// Replaces the placeholder types of every parameter with the enum names.
pub(super) fn rename_locals(root: &mut Resource, standard: &mut [Param], names: &[String]) {
    let rename = |p: &mut Param| {
        if let Ty::Local(n) = &mut p.ty
            && let Some(name) = n
                .strip_prefix('#')
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| names.get(i))
        {
            *n = name.clone();
        }
    };
    standard.iter_mut().for_each(rename);
    let mut pending = vec![root];
    while let Some(r) = pending.pop() {
        for m in &mut r.methods {
            m.args
                .iter_mut()
                .chain(m.setters.iter_mut())
                .for_each(rename);
        }
        pending.extend(r.resources.iter_mut());
    }
}

impl Resolver<'_> {
    /// The type of a parameter of the method `context` (`<Resource><Method>`;
    /// empty for document-level parameters): scalars by `type` and
    /// `format` (bytes as the string they are in a URL), enums as types of
    /// the `params` module.
    pub(super) fn param_ty(&mut self, context: &str, pname: &str, p: &parse::Parameter) -> Ty {
        let fmt = p.format.as_deref();
        match p.type_.as_deref() {
            Some("string") if p.enum_.as_ref().is_some_and(|e| !e.is_empty()) => {
                let def = enum_def(
                    String::new(),
                    p.description.clone(),
                    p.enum_.as_deref().unwrap_or_default(),
                    p.enum_descriptions.as_deref().unwrap_or_default(),
                    &[],
                );
                self.param_enums.register(pname, context, def)
            }
            Some("string") => match fmt {
                Some("byte") => Ty::String,
                f => string_format(f),
            },
            Some("integer") => integer_format(fmt),
            Some("number") => number_format(fmt),
            Some("boolean") => Ty::Bool,
            _ => Ty::String,
        }
    }

    /// The setters of the document-level parameters a user may set (all
    /// but [`RUNTIME_PARAMETERS`]), in wire-name order.
    pub(super) fn standard_params(&mut self) -> Vec<Param> {
        let doc = self.doc;
        let params: Vec<(&String, &parse::Parameter)> = doc
            .parameters
            .iter()
            .filter(|(name, _)| !RUNTIME_PARAMETERS.contains(&name.as_str()))
            .collect();
        let wires: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
        let reps: Vec<bool> = params.iter().map(|(_, p)| repeated(p)).collect();
        let mut ns = Namespace::with_reserved(BUILDER_METHODS);
        let names = claim_setters(&mut ns, &wires, &reps);
        params
            .into_iter()
            .zip(names)
            .map(|((wire, p), (rust, add))| Param {
                rust,
                add,
                wire: wire.clone(),
                ty: self.param_ty("", wire, p),
                repeated: repeated(p),
                // A path parameter at the document level has no template to
                // go in: it is sent as a query parameter.
                location: Location::Query,
                doc: p.description.clone(),
                deprecated: p.deprecated == Some(true),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(vals: &[&str]) -> EnumDef {
        enum_def(
            String::new(),
            None,
            &vals.iter().map(|v| v.to_string()).collect::<Vec<_>>(),
            &[],
            &[],
        )
    }

    #[test]
    fn agreeing_parameters_share_a_plain_name_differing_ones_are_named_by_method() {
        let mut e = ParamEnums::default();
        let acl1 = e.register(
            "predefinedAcl",
            "BucketsInsert",
            values(&["private", "public"]),
        );
        let acl2 = e.register(
            "predefinedAcl",
            "ObjectsInsert",
            values(&["private", "public"]),
        );
        let p1 = e.register("projection", "BucketsGet", values(&["full", "noAcl"]));
        let p2 = e.register("projection", "BucketsList", values(&["full", "noAcl"]));
        let p3 = e.register("projection", "ObjectsGet", values(&["full"]));
        let other = e.register(
            "destinationAcl",
            "ObjectsCopy",
            values(&["private", "public"]),
        );
        let (types, names) = e.finish();
        let name = |t: Ty| match t {
            Ty::Local(n) => names[n[1..].parse::<usize>().unwrap()].clone(),
            _ => unreachable!(),
        };
        assert_eq!(name(acl1), "PredefinedAcl");
        assert_eq!(name(acl2), "PredefinedAcl");
        assert_eq!(name(p1), "BucketsGetProjection");
        assert_eq!(name(p2), "BucketsGetProjection");
        assert_eq!(name(p3), "ObjectsGetProjection");
        // identical values under another name: one type (the first name
        // in order is kept, the other is an alias of it)
        assert_eq!(name(other), "DestinationAcl");
        assert!(matches!(&types["DestinationAcl"], TypeDef::Enum(_)));
        assert!(
            matches!(&types["PredefinedAcl"], TypeDef::Alias(a) if a.ty == Ty::Schema("DestinationAcl".into()))
        );
        assert_eq!(types.len(), 4);
    }
}
