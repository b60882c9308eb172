//! Aliases among the typed schemas: following them, marking the fields
//! with an int64 inside (through aliases), and refusing alias cycles.

use std::collections::{BTreeMap, HashMap};

use super::Resolver;
use super::ir::*;
use crate::Error;
use crate::parse::{self, push_key};

impl Resolver<'_> {
    /// Follows aliases that are plain references to another schema type.
    /// Alias chains are acyclic ([`Self::check_alias_cycles`]); the bound
    /// only keeps a bug from looping.
    pub(super) fn resolve_alias<'t>(&'t self, mut ty: &'t Ty) -> &'t Ty {
        for _ in 0..=self.types.len() {
            match ty {
                Ty::Schema(n) => match self.types.get(n) {
                    Some(TypeDef::Alias(a)) => ty = &a.ty,
                    _ => return ty,
                },
                _ => return ty,
            }
        }
        ty
    }

    /// Whether an int64 carried as a string is inside `ty` (through `Vec`,
    /// maps and aliases, which are acyclic: the bound only guards a bug).
    fn deep_int64<'t>(&'t self, mut ty: &'t Ty) -> bool {
        for _ in 0..self.types.len() + 256 {
            match ty {
                Ty::I64 | Ty::U64 => return true,
                Ty::Vec(t) | Ty::Map(t) => ty = t,
                Ty::Schema(n) => match self.types.get(n) {
                    Some(TypeDef::Alias(a)) => ty = &a.ty,
                    _ => return false,
                },
                _ => return false,
            }
        }
        false
    }

    /// Sets `int64` on every field with an int64 carried as a string inside.
    pub(super) fn mark_int64(&mut self) {
        let mut marks: Vec<(String, usize)> = Vec::new();
        for t in self.types.values() {
            if let TypeDef::Struct(s) = t {
                for (i, f) in s.fields.iter().enumerate() {
                    if self.deep_int64(&f.ty) {
                        marks.push((s.name.clone(), i));
                    }
                }
            }
        }
        for (name, i) in marks {
            if let Some(TypeDef::Struct(s)) = self.types.get_mut(&name) {
                s.fields[i].int64 = true;
            }
        }
    }

    /// The struct a type refers to (through aliases), if any.
    pub(super) fn struct_of(&self, ty: &Ty) -> Option<&StructDef> {
        match self.resolve_alias(ty) {
            Ty::Schema(n) => match self.types.get(n) {
                Some(TypeDef::Struct(s)) => Some(s),
                _ => None,
            },
            _ => None,
        }
    }

    /// Refuses a type alias that is part of its own definition: a schema
    /// `{"$ref": "A"}` named `A`, an array or map of itself, or a cycle of
    /// such schemas (`type A = B; type B = Vec<A>;` does not compile). An
    /// object in between breaks the cycle (its field is boxed or in a
    /// `Vec`), so only alias-to-alias references count. The error names the
    /// `$ref` that closes the cycle, found in name order.
    pub(super) fn check_alias_cycles(&self) -> Result<(), Error> {
        let mentions: BTreeMap<&str, Vec<&str>> = self
            .types
            .values()
            .filter_map(|t| match t {
                TypeDef::Alias(a) => {
                    let mut out = Vec::new();
                    schema_names_in(&a.ty, &mut out);
                    out.retain(|n| matches!(self.types.get(*n), Some(TypeDef::Alias(_))));
                    out.dedup();
                    Some((a.name.as_str(), out))
                }
                _ => None,
            })
            .collect();
        // Iterative depth-first search; `state`: absent = unvisited,
        // false = on the current path, true = done.
        let mut state: HashMap<&str, bool> = HashMap::new();
        for &start in mentions.keys() {
            if state.contains_key(start) {
                continue;
            }
            let mut path: Vec<(&str, usize)> = vec![(start, 0)];
            state.insert(start, false);
            while let Some(&mut (node, ref mut next)) = path.last_mut() {
                let targets = &mentions[node];
                if *next == targets.len() {
                    state.insert(node, true);
                    path.pop();
                    continue;
                }
                let target = targets[*next];
                *next += 1;
                match state.get(target) {
                    None => {
                        state.insert(target, false);
                        path.push((target, 0));
                    }
                    Some(false) => {
                        let from = path.iter().position(|(n, _)| *n == target).unwrap_or(0);
                        let cycle: Vec<&str> = path[from..].iter().map(|(n, _)| *n).collect();
                        return Err(self.alias_cycle_error(&cycle));
                    }
                    Some(true) => {}
                }
            }
        }
        Ok(())
    }

    /// The error for a cycle of aliases (Rust names, in reference order).
    fn alias_cycle_error(&self, cycle: &[&str]) -> Error {
        let key_of = |rust: &str| -> String {
            self.schema_names
                .iter()
                .find(|(_, r)| r.as_str() == rust)
                .map_or_else(|| rust.to_string(), |(k, _)| k.clone())
        };
        let keys: Vec<String> = cycle.iter().map(|n| key_of(n)).collect();
        let first = &keys[0];
        let next = cycle.get(1).copied().unwrap_or(cycle[0]);
        let mut path = String::from("$.schemas");
        push_key(&mut path, first);
        let at = self
            .doc
            .schemas
            .get(first)
            .and_then(|s| self.ref_path(s, &path, next))
            .unwrap_or(path);
        let shown: Vec<String> = keys.iter().map(|k| parse::shown(k)).collect();
        let first = &shown[0];
        let chain = format!("{}` → `{first}", shown.join("` → `"));
        Error::Invalid {
            file: self.file.to_string(),
            json_path: at,
            message: format!(
                "schema `{first}` is defined as itself (`{chain}`) without an object in \
                 between: no Rust type expresses that"
            ),
        }
    }

    /// The JSON path of the `$ref` to the schema whose Rust name is
    /// `target`, following `s` the way an alias's type is read (`$ref`,
    /// array `items`, map `additionalProperties`).
    fn ref_path(&self, s: &parse::Schema, path: &str, target: &str) -> Option<String> {
        if let Some(r) = &s.ref_ {
            return (self.schema_names.get(r).map(String::as_str) == Some(target))
                .then(|| format!("{path}.$ref"));
        }
        match s.type_.as_deref() {
            Some("array") => s
                .items
                .as_deref()
                .and_then(|i| self.ref_path(i, &format!("{path}.items"), target)),
            Some("object") | None if s.properties.is_some() => None,
            Some("object") | None => s
                .additional_properties
                .as_deref()
                .and_then(|a| self.ref_path(a, &format!("{path}.additionalProperties"), target)),
            _ => None,
        }
    }
}

/// Pushes every schema name `ty` mentions (through `Vec` and maps).
fn schema_names_in<'t>(ty: &'t Ty, out: &mut Vec<&'t str>) {
    match ty {
        Ty::Schema(n) => out.push(n),
        Ty::Vec(t) | Ty::Map(t) => schema_names_in(t, out),
        _ => {}
    }
}
