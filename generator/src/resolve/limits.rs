//! Limits of rustc that generated code has to stay within, found by the
//! fuzz test (`tests/fuzz/`) with documents no real API has:
//!
//! - arrays and maps nested very deep (serde_json lets a document nest 128
//!   levels) overflow rustc's drop check (about 120 nested maps). A type is
//!   cut at [`MAX_NESTING`] levels of arrays and maps, counted through
//!   aliases, and holds a `serde_json::Value` below: the data still decodes.
//!   The corpus nests at most 2;
//! - rustc proves a type `Send` (which `pages()` and `items()` need) and
//!   checks how it drops by walking its fields, their fields and so on, and
//!   gives up at its recursion limit (128): a paginated response holding 40
//!   nested arrays does not compile, nor a chain of a few schemas each
//!   holding 30. [`Resolver::check_depth`] estimates that walk for every
//!   struct and refuses a document whose types go deeper than
//!   [`DEPTH_LIMIT`], with the JSON path of the first such type.

use std::collections::{HashMap, HashSet};

use super::Resolver;
use super::ir::*;
use crate::Error;
use crate::parse::{self, push_key};

/// The deepest nesting of arrays and maps in one type.
pub const MAX_NESTING: usize = 16;

/// The estimated depth of a type above which a document is refused (rustc
/// gives up at 128; the estimate is rough, the corpus's deepest is 74).
pub const DEPTH_LIMIT: usize = 100;

/// Work bound of one estimate: past it, a type counts as too deep.
const STEPS: usize = 1_000_000;

impl Resolver<'_> {
    /// Arrays and maps in `ty`, through aliases.
    fn nesting<'t>(&'t self, mut ty: &'t Ty) -> usize {
        let mut n = 0;
        // Alias chains are acyclic and `Vec`s nest as deep as the document.
        for _ in 0..self.types.len() + 256 {
            match ty {
                Ty::Vec(t) | Ty::Map(t) => {
                    n += 1;
                    ty = t;
                }
                Ty::Schema(name) => match self.types.get(name) {
                    Some(TypeDef::Alias(a)) => ty = &a.ty,
                    _ => break,
                },
                _ => break,
            }
        }
        n
    }

    /// `ty` with at most `budget` levels of arrays and maps: deeper parts
    /// (or an alias that would go deeper) become `Value`.
    fn clamp(&self, ty: &Ty, budget: usize) -> Ty {
        match ty {
            Ty::Vec(_) | Ty::Map(_) if budget == 0 => Ty::Value,
            Ty::Vec(t) => Ty::Vec(Box::new(self.clamp(t, budget - 1))),
            Ty::Map(t) => Ty::Map(Box::new(self.clamp(t, budget - 1))),
            Ty::Schema(_) if self.nesting(ty) > budget => Ty::Value,
            other => other.clone(),
        }
    }

    /// Cuts every type of the API at [`MAX_NESTING`] (see the module docs):
    /// aliases first, then struct fields (which may keep a cut alias),
    /// request and response bodies.
    pub(super) fn clamp_nesting(&mut self, root: &mut Resource) {
        // Cut together: a cut alias nests exactly MAX_NESTING deep, so
        // wrapping it still exceeds the limit, as it did before the cut.
        let aliases: Vec<(String, Ty)> = self
            .types
            .values()
            .filter_map(|t| match t {
                TypeDef::Alias(a) if self.nesting(&a.ty) > MAX_NESTING => {
                    Some((a.name.clone(), self.clamp(&a.ty, MAX_NESTING)))
                }
                _ => None,
            })
            .collect();
        for (name, ty) in aliases {
            if let Some(TypeDef::Alias(a)) = self.types.get_mut(&name) {
                a.ty = ty;
            }
        }
        let mut fields: Vec<(String, usize, Ty)> = Vec::new();
        for t in self.types.values() {
            if let TypeDef::Struct(s) = t {
                for (i, f) in s.fields.iter().enumerate() {
                    if self.nesting(&f.ty) > MAX_NESTING {
                        fields.push((s.name.clone(), i, self.clamp(&f.ty, MAX_NESTING)));
                    }
                }
            }
        }
        for (name, i, ty) in fields {
            let Some(TypeDef::Struct(s)) = self.types.get_mut(&name) else {
                continue;
            };
            // A list response's items are this field's elements.
            if let Some((items, item)) = s.page.as_mut().and_then(|p| p.items.as_mut())
                && *items == s.fields[i].rust
            {
                *item = match &ty {
                    Ty::Vec(t) => (**t).clone(),
                    _ => Ty::Value,
                };
            }
            s.fields[i].ty = ty;
        }
        let mut pending = vec![root];
        while let Some(r) = pending.pop() {
            for m in &mut r.methods {
                if let Some((_, ty)) = &mut m.request {
                    *ty = self.clamp(ty, MAX_NESTING);
                }
                if let Some(ty) = &mut m.response {
                    *ty = self.clamp(ty, MAX_NESTING);
                }
            }
            pending.extend(r.resources.iter_mut());
        }
    }

    /// Refuses a document with a type deeper than [`DEPTH_LIMIT`] (see the
    /// module docs), at the first such type in name order.
    pub(super) fn check_depth(&self) -> Result<(), Error> {
        let mut memo = HashMap::new();
        for (name, t) in &self.types {
            let TypeDef::Struct(s) = t else { continue };
            let mut walk = Walk {
                memo: &mut memo,
                stack: HashSet::new(),
                steps: 0,
            };
            let depth = walk.depth(self, &Ty::Schema(name.clone()), DEPTH_LIMIT);
            if depth <= DEPTH_LIMIT {
                continue;
            }
            // Inline structs are named after their JSON path; top-level
            // ones after their key.
            let path = if s.origin.starts_with('$') {
                s.origin.clone()
            } else {
                let mut p = String::from("$.schemas");
                push_key(&mut p, &s.origin);
                p
            };
            return Err(Error::Invalid {
                file: self.file.to_string(),
                json_path: path,
                message: format!(
                    "`{}` nests objects, arrays and maps deeper than rustc can follow (an \
                     estimated depth above {DEPTH_LIMIT}; rustc stops at 128)",
                    parse::shown(&s.origin)
                ),
            });
        }
        Ok(())
    }
}

/// The estimate of how deep rustc goes into a type to prove it `Send`
/// (what `pages()` needs) or to check how it drops: the longest chain of
/// types inside it, each costing about what rustc spends on it (`Vec` and
/// `BTreeMap` three levels, `Option` and a struct one). A cycle ends where
/// it closes, as rustc's coinductive auto-trait proof does.
struct Walk<'m> {
    /// Exact depths of structs whose walk was not cut short.
    memo: &'m mut HashMap<String, usize>,
    stack: HashSet<String>,
    steps: usize,
}

impl Walk<'_> {
    /// The depth of `ty`, or more than `left` when it is deeper than that.
    fn depth(&mut self, r: &Resolver<'_>, ty: &Ty, left: usize) -> usize {
        self.steps += 1;
        if left == 0 || self.steps > STEPS {
            return left + 1;
        }
        match ty {
            Ty::Vec(t) | Ty::Map(t) => 3 + self.depth(r, t, left.saturating_sub(3)),
            Ty::Value => 8,
            Ty::Bytes => 4,
            Ty::DateTime | Ty::Date | Ty::Duration | Ty::FieldMask | Ty::Local(_) => 2,
            Ty::Schema(name) => match r.types.get(name) {
                Some(TypeDef::Alias(a)) => self.depth(r, &a.ty, left),
                Some(TypeDef::Enum(_)) => 2,
                Some(TypeDef::Struct(s)) => {
                    if self.stack.contains(name) {
                        return 0;
                    }
                    if let Some(&d) = self.memo.get(name) {
                        return d;
                    }
                    self.stack.insert(name.clone());
                    let mut deepest = 0;
                    let inner = left.saturating_sub(2);
                    for f in &s.fields {
                        let boxed = if f.boxed { 2 } else { 0 };
                        deepest =
                            deepest.max(boxed + self.depth(r, &f.ty, inner.saturating_sub(boxed)));
                        if deepest > inner {
                            break;
                        }
                    }
                    self.stack.remove(name);
                    let d = 2 + deepest;
                    if d <= left {
                        self.memo.insert(name.clone(), d);
                    }
                    d
                }
                None => 1,
            },
            _ => 1,
        }
    }
}
