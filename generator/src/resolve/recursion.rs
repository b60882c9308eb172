//! Recursion: a field is boxed only where it closes a cycle of by-value
//! references (both ends in one strongly connected component of the graph
//! whose edges are by-value fields, aliases followed). `Vec` and map fields
//! break cycles by themselves, so they are never boxed.

use std::collections::HashMap;

use super::Resolver;
use super::ir::*;

impl Resolver<'_> {
    /// Boxes every by-value field whose target is in the same strongly
    /// connected component of the by-value reference graph.
    pub(super) fn box_recursion(&mut self) {
        // Nodes: struct names; edges: by-value fields.
        let structs: Vec<&str> = self
            .types
            .values()
            .filter_map(|t| match t {
                TypeDef::Struct(s) => Some(s.name.as_str()),
                _ => None,
            })
            .collect();
        let index: HashMap<&str, usize> =
            structs.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let mut edges: Vec<Vec<(usize, usize)>> = vec![Vec::new(); structs.len()]; // (field, target)
        for (i, name) in structs.iter().enumerate() {
            if let Some(TypeDef::Struct(s)) = self.types.get(*name) {
                for (fi, f) in s.fields.iter().enumerate() {
                    if let Ty::Schema(target) = self.resolve_alias(&f.ty)
                        && let Some(&j) = index.get(target.as_str())
                    {
                        edges[i].push((fi, j));
                    }
                }
            }
        }
        let comp = tarjan(structs.len(), &edges);
        let mut to_box: Vec<(String, usize)> = Vec::new();
        for (i, es) in edges.iter().enumerate() {
            for &(fi, j) in es {
                if comp[i] == comp[j] {
                    to_box.push((structs[i].to_string(), fi));
                }
            }
        }
        for (name, fi) in to_box {
            if let Some(TypeDef::Struct(s)) = self.types.get_mut(&name) {
                s.fields[fi].boxed = true;
            }
        }
    }
}

/// Tarjan's strongly connected components; returns a component id per node.
fn tarjan(n: usize, edges: &[Vec<(usize, usize)>]) -> Vec<usize> {
    // Iterative to survive deep graphs.
    const UNSET: usize = usize::MAX;
    let mut index = vec![UNSET; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut comp = vec![UNSET; n];
    let mut stack = Vec::new();
    let mut next_index = 0;
    let mut next_comp = 0;
    for start in 0..n {
        if index[start] != UNSET {
            continue;
        }
        let mut call: Vec<(usize, usize)> = vec![(start, 0)];
        index[start] = next_index;
        low[start] = next_index;
        next_index += 1;
        stack.push(start);
        on_stack[start] = true;
        while let Some(&mut (v, ref mut ei)) = call.last_mut() {
            if *ei < edges[v].len() {
                let w = edges[v][*ei].1;
                *ei += 1;
                if index[w] == UNSET {
                    index[w] = next_index;
                    low[w] = next_index;
                    next_index += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    call.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                call.pop();
                if let Some(&(parent, _)) = call.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        comp[w] = next_comp;
                        if w == v {
                            break;
                        }
                    }
                    next_comp += 1;
                }
            }
        }
    }
    comp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tarjan_finds_cycles() {
        // 0 -> 1 -> 0, 2 -> 2, 3 -> 0
        let edges = vec![vec![(0, 1)], vec![(0, 0)], vec![(0, 2)], vec![(0, 0)]];
        let c = tarjan(4, &edges);
        assert_eq!(c[0], c[1]);
        assert_ne!(c[0], c[2]);
        assert_ne!(c[3], c[0]);
    }
}
