//! Per-resource cargo features: which top-level resources reach each type.
//!
//! A large API's crate gets one cargo feature per top-level resource (crate
//! mode, `krate.rs`), and a build script may keep only some resources
//! ([`retain_resources`]). Both need the same answer: for every type of the
//! `schemas` and `params` modules, which top-level resources reach it.
//!
//! A resource reaches what its methods (those of its sub-resources
//! included) name — arguments, setters, request and response types — and,
//! transitively, what those types name: struct fields (array items and map
//! values inside them), the items of a page, what an alias stands for (the
//! aliases `dedupe.rs` makes included). The root's own methods and the
//! standard parameters are always compiled, and so is everything they reach.
//! Each type's [`Gate`] follows:
//!
//! - reached from the root, or by every resource: [`Gate::Always`] (no
//!   `cfg`; with no resource feature at all it is still compiled, which is
//!   harmless);
//! - reached by some resources: [`Gate::Resources`], compiled with any of
//!   their features;
//! - reached by no method: [`Gate::Full`], compiled only with `full` —
//!   but an alias that names one type goes with that type: the name of a
//!   type `dedupe.rs` merged away (compute's `AddressListWarningCode`, once
//!   the type of a field of a merged struct, now named by nothing) still
//!   works wherever the type it names is compiled.
//!
//! The gates are consistent by construction: whatever a type reaches is
//! reached by every resource that reaches the type, so a type's `cfg`
//! implies the `cfg`s of the types it names.

use std::collections::{BTreeSet, HashMap, HashSet};

use heck::ToKebabCase;

use super::ir::{Api, Method, Resource, Ty, TypeDef};
use super::names::unraw;

/// When an item of a crate with resource features is compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Always (no `cfg`): reached from the root, or by every resource.
    Always,
    /// With any of these resources' features: indices into
    /// `api.root.resources`, sorted, neither empty nor all of them.
    Resources(Vec<usize>),
    /// Only with the `full` feature: no method reaches it.
    Full,
}

/// Feature names the generated crate already uses or cargo reserves.
const RESERVED: &[&str] = &["default", "full", "gapi"];

/// The resource features of an API: one per top-level resource, and the
/// gate of every type.
#[derive(Debug, Clone)]
pub struct Features {
    /// One feature name per top-level resource, in the order of
    /// `api.root.resources`: the kebab case of its module name, with
    /// `-resource` (and a number) appended when that clashes with
    /// `default`, `full` or an earlier resource's feature.
    pub names: Vec<String>,
    schemas: HashMap<String, Gate>,
    params: HashMap<String, Gate>,
}

impl Features {
    /// Computes the features and gates of `api`.
    pub fn compute(api: &Api) -> Features {
        let names = feature_names(&api.root.resources);
        let reach = Reach::new(api);
        let all = api.root.resources.len();
        let mut gates: HashMap<Key, Gate> = HashMap::new();
        for (key, by) in reach.by_key() {
            let gate = if by.root || (all > 0 && by.resources.len() == all) {
                Gate::Always
            } else if by.resources.is_empty() {
                Gate::Full
            } else {
                Gate::Resources(by.resources.into_iter().collect())
            };
            gates.insert(key, gate);
        }
        // An alias nothing reaches goes with the one type it names: the
        // name of a type `dedupe.rs` merged (`AddressListWarningCode`, once
        // a field's type) keeps working wherever its resources' types do.
        let inherited: Vec<(Key, Gate)> = gates
            .iter()
            .filter(|(_, g)| **g == Gate::Full)
            .filter_map(|(key, _)| Some((*key, reach.alias_gate(*key, &gates)?)))
            .collect();
        gates.extend(inherited);
        let mut schemas = HashMap::new();
        let mut params = HashMap::new();
        for ((ns, name), gate) in gates {
            match ns {
                Ns::Schemas => schemas.insert(name.to_string(), gate),
                Ns::Params => params.insert(name.to_string(), gate),
            };
        }
        Features {
            names,
            schemas,
            params,
        }
    }

    /// The gate of a type of the `schemas` module (`Always` for a name the
    /// API does not have).
    pub fn schema(&self, name: &str) -> &Gate {
        self.schemas.get(name).unwrap_or(&Gate::Always)
    }

    /// The gate of a type of the `params` module.
    pub fn param(&self, name: &str) -> &Gate {
        self.params.get(name).unwrap_or(&Gate::Always)
    }

    /// The gate of top-level resource `index`: its own feature.
    pub fn resource(&self, index: usize) -> Gate {
        Gate::Resources(vec![index])
    }
}

/// The number of methods of a resource and its sub-resources.
pub fn method_count(r: &Resource) -> usize {
    r.methods.len() + r.resources.iter().map(method_count).sum::<usize>()
}

/// Keeps only the top-level resources `names` selects (each a discovery
/// name such as `instances` or `globalAddresses`, a module name such as
/// `global_addresses`, or a feature name such as `global-addresses`), the
/// root's own methods, and the types those reach (and the aliases of
/// those, as with features); every other type goes.
///
/// Fails, naming what the document has, when a name selects no resource.
pub fn retain_resources<S: AsRef<str>>(api: &mut Api, names: &[S]) -> Result<(), String> {
    let features = feature_names(&api.root.resources);
    let mut keep = vec![false; api.root.resources.len()];
    for name in names {
        let name = name.as_ref();
        let found = api
            .root
            .resources
            .iter()
            .zip(&features)
            .position(|(r, f)| r.wire == name || unraw(&r.module) == name || f == name);
        match found {
            Some(i) => keep[i] = true,
            None => {
                let known: Vec<&str> = api.root.resources.iter().map(|r| r.wire.as_str()).collect();
                return Err(format!(
                    "no top-level resource {name:?}; the document has: {}",
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                ));
            }
        }
    }
    let mut index = 0;
    api.root.resources.retain(|_| {
        index += 1;
        keep[index - 1]
    });
    // What the crate would compile with every kept resource's feature.
    let features = Features::compute(api);
    api.types
        .retain(|t| *features.schema(t.name()) != Gate::Full);
    api.params
        .retain(|t| *features.param(t.name()) != Gate::Full);
    Ok(())
}

/// The feature name of each resource (see [`Features::names`]).
fn feature_names(resources: &[Resource]) -> Vec<String> {
    let mut taken: HashSet<String> = RESERVED.iter().map(|s| s.to_string()).collect();
    resources
        .iter()
        .map(|r| {
            let mut base = unraw(&r.module).to_kebab_case();
            // Module names are ASCII identifiers; this only guards the
            // rules of cargo (and crates.io) for feature names.
            if base.is_empty()
                || !base
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                base = "resource".to_string();
            }
            let mut name = base.clone();
            let mut n = 1;
            while taken.contains(&name) {
                name = if n == 1 {
                    format!("{base}-resource")
                } else {
                    format!("{base}-resource-{n}")
                };
                n += 1;
            }
            taken.insert(name.clone());
            name
        })
        .collect()
}

/// The two type namespaces of the generated module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Ns {
    Schemas,
    Params,
}

/// A type: its namespace and name.
type Key<'a> = (Ns, &'a str);

/// Who reaches a type.
#[derive(Debug, Default)]
struct ReachedBy {
    root: bool,
    resources: BTreeSet<usize>,
}

/// The type graph of an API and who reaches each type.
struct Reach<'a> {
    /// Every type, by namespace and name.
    types: HashMap<Key<'a>, &'a TypeDef>,
    /// Types reached by the root (index `None`) and each resource.
    reached: Vec<(Option<usize>, HashSet<Key<'a>>)>,
}

impl<'a> Reach<'a> {
    fn new(api: &'a Api) -> Reach<'a> {
        let mut types = HashMap::new();
        for t in &api.types {
            types.insert((Ns::Schemas, t.name()), t);
        }
        for t in &api.params {
            types.insert((Ns::Params, t.name()), t);
        }
        let mut reach = Reach {
            types,
            reached: Vec::new(),
        };
        let mut seeds = Vec::new();
        for m in &api.root.methods {
            method_refs(m, &mut seeds);
        }
        for p in &api.standard {
            ty_refs(&p.ty, Ns::Schemas, &mut seeds);
        }
        let root = reach.closure(seeds);
        reach.reached.push((None, root));
        for (i, r) in api.root.resources.iter().enumerate() {
            let mut seeds = Vec::new();
            resource_refs(r, &mut seeds);
            let set = reach.closure(seeds);
            reach.reached.push((Some(i), set));
        }
        reach
    }

    /// Every type reachable from `seeds` (only types the API has).
    fn closure(&self, mut stack: Vec<Key<'a>>) -> HashSet<Key<'a>> {
        let mut seen = HashSet::new();
        while let Some(key) = stack.pop() {
            let Some(t) = self.types.get(&key) else {
                continue;
            };
            if !seen.insert(key) {
                continue;
            }
            type_refs(t, key.0, &mut stack);
        }
        seen
    }

    /// The gate an unreached alias takes from the one type it names
    /// (through aliases of aliases), unless that is unreached too.
    fn alias_gate(&self, mut key: Key<'a>, gates: &HashMap<Key<'a>, Gate>) -> Option<Gate> {
        // Alias chains are acyclic (the resolver refuses cycles); the
        // bound keeps this total anyway.
        for _ in 0..=self.types.len() {
            let TypeDef::Alias(a) = self.types.get(&key)? else {
                return None;
            };
            let mut refs = Vec::new();
            ty_refs(&a.ty, key.0, &mut refs);
            let [target] = refs.as_slice() else {
                return None;
            };
            match gates.get(target)? {
                Gate::Full => key = *target,
                gate => return Some(gate.clone()),
            }
        }
        None
    }

    /// Who reaches each type of the API (unreached ones included).
    fn by_key(&self) -> Vec<(Key<'a>, ReachedBy)> {
        let mut by: HashMap<Key<'a>, ReachedBy> = self
            .types
            .keys()
            .map(|k| (*k, ReachedBy::default()))
            .collect();
        for (who, set) in &self.reached {
            for key in set {
                if let Some(entry) = by.get_mut(key) {
                    match who {
                        None => entry.root = true,
                        Some(i) => {
                            entry.resources.insert(*i);
                        }
                    }
                }
            }
        }
        let mut out: Vec<_> = by.into_iter().collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

/// The types a resource's methods (and its sub-resources') name.
fn resource_refs<'a>(r: &'a Resource, out: &mut Vec<Key<'a>>) {
    for m in &r.methods {
        method_refs(m, out);
    }
    for sub in &r.resources {
        resource_refs(sub, out);
    }
}

/// The types a method names: parameters, request and response.
fn method_refs<'a>(m: &'a Method, out: &mut Vec<Key<'a>>) {
    for p in m.args.iter().chain(&m.setters) {
        ty_refs(&p.ty, Ns::Schemas, out);
    }
    if let Some((_, ty)) = &m.request {
        ty_refs(ty, Ns::Schemas, out);
    }
    if let Some(ty) = &m.response {
        ty_refs(ty, Ns::Schemas, out);
    }
}

/// The types a type names. In the `params` module, `Ty::Schema` names a
/// type of `params` itself (the aliases `dedupe.rs` makes there).
fn type_refs<'a>(t: &'a TypeDef, ns: Ns, out: &mut Vec<Key<'a>>) {
    match t {
        TypeDef::Struct(s) => {
            for f in &s.fields {
                ty_refs(&f.ty, ns, out);
            }
            if let Some((_, item)) = s.page.as_ref().and_then(|p| p.items.as_ref()) {
                ty_refs(item, ns, out);
            }
        }
        TypeDef::Enum(_) => {}
        TypeDef::Alias(a) => ty_refs(&a.ty, ns, out),
    }
}

/// The types `ty` names, `Ty::Schema` resolved in `schema_ns`.
fn ty_refs<'a>(ty: &'a Ty, schema_ns: Ns, out: &mut Vec<Key<'a>>) {
    match ty {
        Ty::Schema(n) => out.push((schema_ns, n)),
        Ty::Local(n) => out.push((Ns::Params, n)),
        Ty::Vec(t) | Ty::Map(t) => ty_refs(t, schema_ns, out),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(module: &str) -> Resource {
        Resource {
            wire: module.to_string(),
            module: module.to_string(),
            accessor: module.to_string(),
            struct_name: "R".to_string(),
            depth: 1,
            deprecated: false,
            methods: Vec::new(),
            resources: Vec::new(),
        }
    }

    #[test]
    fn feature_names_are_kebab_case_and_never_clash() {
        let names = feature_names(&[
            resource("global_addresses"),
            resource("full"),
            resource("default"),
            resource("r#type"),
            resource("full_resource"),
            resource("gapi"),
        ]);
        assert_eq!(
            names,
            [
                "global-addresses",
                "full-resource",
                "default-resource",
                "type",
                "full-resource-resource",
                "gapi-resource"
            ]
        );
    }
}
