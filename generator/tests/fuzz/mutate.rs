//! Structure-aware mutations of discovery documents: a [`Plan`]'s ops
//! applied to the JSON, each to a candidate of its kind (maps of names,
//! schema nodes, parameters, `enum` lists, texts, any value). Applying a
//! plan is deterministic and returns what each op did, with JSON paths.

use serde_json::{Map, Value, json};

use crate::plan::{Op, ParamChange, Plan, Wrap};

/// One step of a path into a JSON value.
#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

type Path = Vec<Seg>;

/// The path as JSONPath, for descriptions.
fn show(path: &[Seg]) -> String {
    let mut out = String::from("$");
    for s in path {
        match s {
            Seg::Key(k) if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric()) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Key(k) => out.push_str(&format!("[{k:?}]")),
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

fn get_mut<'v>(mut v: &'v mut Value, path: &[Seg]) -> Option<&'v mut Value> {
    for s in path {
        v = match (s, v) {
            (Seg::Key(k), Value::Object(m)) => m.get_mut(k)?,
            (Seg::Index(i), Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(v)
}

fn get<'v>(mut v: &'v Value, path: &[Seg]) -> Option<&'v Value> {
    for s in path {
        v = match (s, v) {
            (Seg::Key(k), Value::Object(m)) => m.get(k)?,
            (Seg::Index(i), Value::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(v)
}

/// What the walker knows about the value it is in.
#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Doc,
    SchemaMap,
    Schema,
    ResourceMap,
    Resource,
    MethodMap,
    Method,
    ParamMap,
    Param,
    Other,
}

/// The candidates of each kind in a document.
#[derive(Default)]
struct Index {
    maps: Vec<Path>,
    schema_nodes: Vec<Path>,
    /// Method parameters.
    params: Vec<Path>,
    /// Document-level (standard) parameters.
    doc_params: Vec<Path>,
    enums: Vec<Path>,
    texts: Vec<Path>,
    nodes: Vec<Path>,
    refs: Vec<Path>,
    top_schemas: Vec<String>,
}

const TEXT_KEYS: &[&str] = &[
    "description",
    "id",
    "path",
    "flatPath",
    "httpMethod",
    "format",
    "type",
    "location",
    "pattern",
    "default",
    "apiVersion",
    "maxSize",
];

fn walk(v: &Value, ctx: Ctx, path: &mut Path, ix: &mut Index) {
    if !path.is_empty() {
        ix.nodes.push(path.clone());
    }
    match v {
        Value::Object(m) => {
            match ctx {
                Ctx::SchemaMap | Ctx::ResourceMap | Ctx::MethodMap | Ctx::ParamMap => {
                    ix.maps.push(path.clone())
                }
                Ctx::Schema => ix.schema_nodes.push(path.clone()),
                Ctx::Param if path.len() > 2 => ix.params.push(path.clone()),
                Ctx::Param => ix.doc_params.push(path.clone()),
                _ => {}
            }
            for (k, child) in m {
                let child_ctx = match (ctx, k.as_str()) {
                    (Ctx::SchemaMap | Ctx::ResourceMap | Ctx::MethodMap | Ctx::ParamMap, _) => {
                        match ctx {
                            Ctx::SchemaMap => Ctx::Schema,
                            Ctx::ResourceMap => Ctx::Resource,
                            Ctx::MethodMap => Ctx::Method,
                            _ => Ctx::Param,
                        }
                    }
                    (Ctx::Doc, "schemas") => Ctx::SchemaMap,
                    (Ctx::Doc | Ctx::Resource, "resources") => Ctx::ResourceMap,
                    (Ctx::Doc | Ctx::Resource, "methods") => Ctx::MethodMap,
                    (Ctx::Doc | Ctx::Method, "parameters") => Ctx::ParamMap,
                    (Ctx::Schema, "properties") => Ctx::SchemaMap,
                    (Ctx::Schema, "items" | "additionalProperties") => Ctx::Schema,
                    (Ctx::Method, "request" | "response") => Ctx::Schema,
                    (Ctx::Doc, "auth") => Ctx::Other,
                    _ => Ctx::Other,
                };
                path.push(Seg::Key(k.clone()));
                if k == "enum" && child.is_array() {
                    ix.enums.push(path.clone());
                }
                if k == "$ref" && child.is_string() {
                    ix.refs.push(path.clone());
                }
                if child.is_string() && TEXT_KEYS.contains(&k.as_str()) {
                    ix.texts.push(path.clone());
                }
                if k == "scopes" && child.is_object() && ctx == Ctx::Other {
                    ix.maps.push(path.clone());
                }
                walk(child, child_ctx, path, ix);
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                path.push(Seg::Index(i));
                if child.is_string()
                    && path.iter().rev().nth(1) == Some(&Seg::Key("enumDescriptions".into()))
                {
                    ix.texts.push(path.clone());
                }
                walk(child, Ctx::Other, path, ix);
                path.pop();
            }
        }
        _ => {}
    }
}

fn index(doc: &Value) -> Index {
    let mut ix = Index::default();
    walk(doc, Ctx::Doc, &mut Vec::new(), &mut ix);
    if let Some(Value::Object(m)) = doc.get("schemas") {
        ix.top_schemas = m.keys().cloned().collect();
    }
    ix
}

fn pick<T>(items: &[T], at: u32) -> Option<&T> {
    if items.is_empty() {
        None
    } else {
        items.get(at as usize % items.len())
    }
}

fn key_at(map: &Value, at: u32) -> Option<String> {
    let m = map.as_object()?;
    let keys: Vec<&String> = m.keys().collect();
    pick(&keys, at).map(|k| (*k).clone())
}

/// Replaces every `$ref` equal to `from` with `to`.
fn rename_refs(v: &mut Value, from: &str, to: &str) {
    match v {
        Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                if k == "$ref" && child.as_str() == Some(from) {
                    *child = Value::String(to.to_string());
                } else {
                    rename_refs(child, from, to);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| rename_refs(c, from, to)),
        _ => {}
    }
}

fn obj(v: &mut Value) -> Option<&mut Map<String, Value>> {
    v.as_object_mut()
}

fn wrap(target: &str, how: Wrap) -> Value {
    let r = json!({"$ref": target});
    match how {
        Wrap::Ref => r,
        Wrap::Array => json!({"type": "array", "items": r}),
        Wrap::Map => json!({"type": "object", "additionalProperties": r}),
        Wrap::Object => json!({"type": "object", "properties": {"next": r}}),
    }
}

/// Applies `op`; returns what it did, or `None` when the document has no
/// candidate for it.
fn apply_op(doc: &mut Value, op: &Op) -> Option<String> {
    let ix = index(doc);
    match op {
        Op::RenameKey { at, key, to } => {
            let map = pick(&ix.maps, *at)?.clone();
            let m = obj(get_mut(doc, &map)?)?;
            let k = key_at(&Value::Object(m.clone()), *key)?;
            let v = m.remove(&k)?;
            m.insert(to.0.clone(), v);
            Some(format!("rename {} member {k:?} to {to:?}", show(&map)))
        }
        Op::RenameSchema { at, to } => {
            let k = pick(&ix.top_schemas, *at)?.clone();
            let m = obj(doc.get_mut("schemas")?)?;
            let v = m.remove(&k)?;
            m.insert(to.0.clone(), v);
            rename_refs(doc, &k, &to.0);
            Some(format!("rename schema {k:?} and its $refs to {to:?}"))
        }
        Op::EnumValue { at, index, to } => {
            let p = pick(&ix.enums, *at)?.clone();
            let a = get_mut(doc, &p)?.as_array_mut()?;
            if a.is_empty() {
                a.push(Value::String(to.0.clone()));
            } else {
                let i = *index as usize % a.len();
                a[i] = Value::String(to.0.clone());
            }
            Some(format!("set a value of {} to {to:?}", show(&p)))
        }
        Op::SetText { at, to } => {
            let p = pick(&ix.texts, *at)?.clone();
            *get_mut(doc, &p)? = Value::String(to.0.clone());
            Some(format!("set {} to {to:?}", show(&p)))
        }
        Op::SetDoc { field, to } => {
            obj(doc)?.insert(field.key().to_string(), Value::String(to.0.clone()));
            Some(format!("set $.{} to {to:?}", field.key()))
        }
        Op::ChangeType { at, ty, format } => {
            // A third of the changes go to method parameters.
            let p = match pick(&ix.params, *at / 3).filter(|_| at % 3 == 0) {
                Some(p) => p.clone(),
                None => pick(&ix.schema_nodes, *at)?.clone(),
            };
            let m = obj(get_mut(doc, &p)?)?;
            match ty {
                Some(t) => m.insert("type".into(), json!(t)),
                None => m.remove("type"),
            };
            match format {
                Some(f) => m.insert("format".into(), json!(f)),
                None => m.remove("format"),
            };
            Some(format!("type of {} to {ty:?}, format {format:?}", show(&p)))
        }
        Op::Delete { at } => {
            let p = pick(&ix.nodes, *at)?.clone();
            let (last, parent) = p.split_last()?;
            match (get_mut(doc, parent)?, last) {
                (Value::Object(m), Seg::Key(k)) => {
                    m.remove(k);
                }
                (Value::Array(a), Seg::Index(i)) => {
                    a.remove(*i);
                }
                _ => return None,
            }
            Some(format!("delete {}", show(&p)))
        }
        Op::Duplicate {
            at,
            key,
            to,
            case_twin,
        } => {
            let map = pick(&ix.maps, *at)?.clone();
            let m = obj(get_mut(doc, &map)?)?;
            let k = key_at(&Value::Object(m.clone()), *key)?;
            let name = if *case_twin {
                let mut c = k.chars();
                match c.next() {
                    Some(f) if f.is_uppercase() => f.to_lowercase().chain(c).collect(),
                    Some(f) => f.to_uppercase().chain(c).collect(),
                    None => "_".to_string(),
                }
            } else {
                to.0.clone()
            };
            let v = m.get(&k)?.clone();
            m.insert(name.clone(), v);
            Some(format!("copy {} member {k:?} as {name:?}", show(&map)))
        }
        Op::SelfRef { at } => {
            let k = pick(&ix.top_schemas, *at)?.clone();
            *doc.get_mut("schemas")?.get_mut(&k)? = json!({"$ref": k});
            Some(format!("schema {k:?} becomes {{\"$ref\": itself}}"))
        }
        Op::RefToOwner { at } => {
            let p = pick(&ix.schema_nodes, *at)?.clone();
            let owner = match p.as_slice() {
                [Seg::Key(s), Seg::Key(k), ..] if s == "schemas" => k.clone(),
                _ => pick(&ix.top_schemas, *at)?.clone(),
            };
            *get_mut(doc, &p)? = json!({"$ref": owner});
            Some(format!("{} becomes {{\"$ref\": {owner:?}}}", show(&p)))
        }
        Op::CycleRefs { a, b, wrap: how } => {
            let ka = pick(&ix.top_schemas, *a)?.clone();
            let kb = pick(&ix.top_schemas, *b)?.clone();
            let schemas = obj(doc.get_mut("schemas")?)?;
            schemas.insert(ka.clone(), wrap(&kb, *how));
            schemas.insert(kb.clone(), wrap(&ka, *how));
            Some(format!(
                "schemas {ka:?} and {kb:?} refer to each other ({how:?})"
            ))
        }
        Op::DanglingRef { at, to } => {
            if let Some(p) = pick(&ix.refs, *at).cloned() {
                *get_mut(doc, &p)? = Value::String(to.0.clone());
                return Some(format!("{} to {to:?}", show(&p)));
            }
            let p = pick(&ix.schema_nodes, *at)?.clone();
            *get_mut(doc, &p)? = json!({"$ref": to.0});
            Some(format!("{} becomes {{\"$ref\": {to:?}}}", show(&p)))
        }
        Op::Swap { a, b } => {
            let pa = pick(&ix.nodes, *a)?.clone();
            let pb = pick(&ix.nodes, *b)?.clone();
            if pa.starts_with(&pb) || pb.starts_with(&pa) {
                return None;
            }
            let va = get(doc, &pa)?.clone();
            let vb = std::mem::replace(get_mut(doc, &pb)?, va);
            *get_mut(doc, &pa)? = vb;
            Some(format!("swap {} and {}", show(&pa), show(&pb)))
        }
        Op::Retype { at, value } => {
            let p = pick(&ix.nodes, *at)?.clone();
            *get_mut(doc, &p)? = value.clone();
            Some(format!("set {} to {value}", show(&p)))
        }
        Op::Graft { from, into, to } => {
            let pf = pick(&ix.nodes, *from)?.clone();
            let pm = pick(&ix.maps, *into)?.clone();
            let v = get(doc, &pf)?.clone();
            obj(get_mut(doc, &pm)?)?.insert(to.0.clone(), v);
            Some(format!("copy {} into {} as {to:?}", show(&pf), show(&pm)))
        }
        Op::Nest { at, depth, map } => {
            let p = pick(&ix.schema_nodes, *at)?.clone();
            let node = get_mut(doc, &p)?;
            let mut v = node.take();
            for _ in 0..*depth {
                v = if *map {
                    json!({"type": "object", "additionalProperties": v})
                } else {
                    json!({"type": "array", "items": v})
                };
            }
            *node = v;
            Some(format!(
                "nest {} in {depth} {}",
                show(&p),
                if *map { "maps" } else { "arrays" }
            ))
        }
        Op::Param { at, change } => {
            // Mostly method parameters; one in eight a standard one.
            let p = match pick(&ix.doc_params, *at / 8).filter(|_| at % 8 == 0) {
                Some(p) => p.clone(),
                None => pick(&ix.params, *at)?.clone(),
            };
            let Some(Seg::Key(pname)) = p.last().cloned() else {
                return None;
            };
            let described = format!("parameter {}: {change:?}", show(&p));
            match change {
                ParamChange::Location(l) => {
                    obj(get_mut(doc, &p)?)?.insert("location".into(), json!(l));
                }
                ParamChange::Required(r) => {
                    obj(get_mut(doc, &p)?)?.insert("required".into(), json!(r));
                }
                ParamChange::Repeated(r) => {
                    obj(get_mut(doc, &p)?)?.insert("repeated".into(), json!(r));
                }
                ParamChange::Order(_) | ParamChange::OrderTwice => {
                    // The method is two steps up (…methods.m.parameters.p).
                    let method = &p[..p.len().checked_sub(2)?];
                    let m = obj(get_mut(doc, method)?)?;
                    let order = m.entry("parameterOrder").or_insert_with(|| json!([]));
                    let Value::Array(order) = order else {
                        return None;
                    };
                    match change {
                        ParamChange::Order(h) => order.push(json!(h.0)),
                        _ => {
                            order.push(json!(pname));
                            order.push(json!(pname));
                        }
                    }
                }
            }
            Some(described)
        }
    }
}

/// Applies a plan's ops to `doc` in order; returns what each did (`no
/// candidate` when the document had nothing for it).
pub fn apply(doc: &mut Value, plan: &Plan) -> Vec<String> {
    plan.ops
        .iter()
        .map(|op| apply_op(doc, op).unwrap_or_else(|| format!("no candidate for {op:?}")))
        .collect()
}
