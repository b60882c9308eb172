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
//! - method parameters that restate a document-level (standard) parameter are
//!   left out: those come from the `gapi::CallBuilder` trait.

mod dedupe;
pub mod ir;
pub mod names;

use std::collections::{BTreeMap, HashMap};

use heck::ToUpperCamelCase;

use crate::Error;
use crate::parse::{self, Document, push_key};
use ir::*;
use names::{Namespace, camel, shouty, snake, unraw};

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

/// A camel-case word for concatenation into a longer type name (no keyword
/// or digit handling: the result is never used alone).
fn camel_part(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    cleaned.to_upper_camel_case()
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
        // 3. Resources and methods.
        let service_type = camel(&doc.name);
        let mut root_types = Namespace::with_reserved(&["schemas", "scopes", "CallBuilder"]);
        root_types.reserve(&service_type);
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
        // 4. Recursion and int64 markers.
        self.box_recursion();
        self.mark_int64();
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
                    format!("reference to an undefined schema `{r}`"),
                )),
            };
        }
        let fmt = s.format.as_deref();
        Ok(match s.type_.as_deref() {
            Some("string") => {
                if s.enum_.as_ref().is_some_and(|e| !e.is_empty()) {
                    let name = self.ns.claim_camel(&format!("{ctx}{}", camel_part(prop)));
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
                let name = self.ns.claim_camel(&format!("{ctx}{}", camel_part(prop)));
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

    // ----------------------------------------------------------- type passes

    /// Follows aliases that are plain references to another schema type.
    fn resolve_alias<'t>(&'t self, mut ty: &'t Ty) -> &'t Ty {
        for _ in 0..32 {
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

    fn deep_int64(&self, ty: &Ty, depth: usize) -> bool {
        if depth > 32 {
            return false;
        }
        match ty {
            Ty::I64 | Ty::U64 => true,
            Ty::Vec(t) | Ty::Map(t) => self.deep_int64(t, depth + 1),
            Ty::Schema(n) => match self.types.get(n) {
                Some(TypeDef::Alias(a)) => self.deep_int64(&a.ty, depth + 1),
                _ => false,
            },
            _ => false,
        }
    }

    fn mark_int64(&mut self) {
        let mut marks: Vec<(String, usize)> = Vec::new();
        for t in self.types.values() {
            if let TypeDef::Struct(s) = t {
                for (i, f) in s.fields.iter().enumerate() {
                    if self.deep_int64(&f.ty, 0) {
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

    /// Boxes every by-value field whose target is in the same strongly
    /// connected component of the by-value reference graph.
    fn box_recursion(&mut self) {
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
                    if let Ty::Schema(target) = self.resolve_alias(&f.ty) {
                        if let Some(&j) = index.get(target.as_str()) {
                            edges[i].push((fi, j));
                        }
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

    /// The struct a type refers to (through aliases), if any.
    fn struct_of(&self, ty: &Ty) -> Option<&StructDef> {
        match self.resolve_alias(ty) {
            Ty::Schema(n) => match self.types.get(n) {
                Some(TypeDef::Struct(s)) => Some(s),
                _ => None,
            },
            _ => None,
        }
    }

    // --------------------------------------------------------------- resources

    #[allow(clippy::too_many_arguments)]
    fn resource(
        &mut self,
        wire: &str,
        methods: &BTreeMap<String, parse::Method>,
        resources: &BTreeMap<String, parse::Resource>,
        deprecated: bool,
        depth: usize,
        path: &str,
        mut types: Namespace,
        mut values: Namespace,
        mut accessors: Namespace,
    ) -> Result<Resource, Error> {
        // Module names of sub-resources first, then the resource struct,
        // call structs and parameter enums.
        let mut sub_modules = Vec::new();
        for name in resources.keys() {
            sub_modules.push(claim_with_fallback(&mut types, &snake(name), "resource"));
        }
        let struct_name = if depth == 0 {
            String::new()
        } else {
            types.claim_camel(&format!("{}Resource", camel_part(wire)))
        };
        let mut out_methods = Vec::new();
        let mut enums = Vec::new();
        let mut method_accessors = Vec::new();
        for name in methods.keys() {
            method_accessors.push(accessors.claim_snake(&snake(name)));
        }
        for ((name, m), accessor) in methods.iter().zip(method_accessors) {
            let mut mpath = format!("{path}.methods");
            push_key(&mut mpath, name);
            let method = self.method(
                name,
                m,
                accessor,
                &mpath,
                &mut types,
                &mut values,
                &mut enums,
            )?;
            out_methods.push(method);
        }
        let mut out_resources = Vec::new();
        for ((name, r), module) in resources.iter().zip(sub_modules) {
            let accessor = claim_with_fallback(&mut accessors, &snake(name), "resource");
            let mut rpath = format!("{path}.resources");
            push_key(&mut rpath, name);
            let mut sub = self.resource(
                name,
                &r.methods,
                &r.resources,
                r.deprecated == Some(true),
                depth + 1,
                &rpath,
                Namespace::new(),
                Namespace::new(),
                Namespace::new(),
            )?;
            sub.module = module;
            sub.accessor = accessor;
            out_resources.push(sub);
        }
        Ok(Resource {
            wire: wire.to_string(),
            module: String::new(),
            accessor: String::new(),
            struct_name,
            depth,
            deprecated,
            methods: out_methods,
            resources: out_resources,
            enums,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn method(
        &mut self,
        name: &str,
        m: &parse::Method,
        accessor: String,
        path: &str,
        types: &mut Namespace,
        values: &mut Namespace,
        enums: &mut Vec<EnumDef>,
    ) -> Result<Method, Error> {
        let method_camel = camel_part(name);
        let call_struct = types.claim_camel(&format!("{method_camel}Call"));
        let static_name = values.claim_snake(&shouty(name));
        let http_method = match m
            .http_method
            .as_deref()
            .unwrap_or("GET")
            .to_ascii_uppercase()
            .as_str()
        {
            "GET" => HttpMethod::Get,
            "POST" => HttpMethod::Post,
            "PUT" => HttpMethod::Put,
            "PATCH" => HttpMethod::Patch,
            "DELETE" => HttpMethod::Delete,
            "HEAD" => HttpMethod::Head,
            other => {
                return Err(self.err(
                    &format!("{path}.httpMethod"),
                    format!("unsupported HTTP method `{other}`"),
                ));
            }
        };

        // Parameters: positional arguments in parameterOrder, setters for the rest.
        let mut arg_ns = Namespace::with_reserved(&["self"]);
        let mut args = Vec::new();
        let mut in_order = std::collections::HashSet::new();
        for pname in &m.parameter_order {
            let Some(p) = m.parameters.get(pname) else {
                continue;
            };
            if !in_order.insert(pname.as_str()) {
                continue;
            }
            let ty = self.param_ty(&method_camel, pname, p, types, enums);
            args.push(Param {
                rust: arg_ns.claim_snake(&snake(pname)),
                wire: pname.clone(),
                ty,
                repeated: p.repeated == Some(true),
                location: location(p),
                doc: p.description.clone(),
                deprecated: p.deprecated == Some(true),
            });
        }
        let mut setter_ns = Namespace::with_reserved(&[
            "send",
            "pages",
            "items",
            "upload",
            "download",
            "call_mut",
            "into_call",
            "new",
        ]);
        let mut setter_params: Vec<(&String, &parse::Parameter)> = Vec::new();
        for (pname, p) in &m.parameters {
            if in_order.contains(pname.as_str()) {
                continue;
            }
            let is_path = location(p) == Location::Path;
            if !is_path && p.required != Some(true) && self.doc.parameters.contains_key(pname) {
                continue;
            }
            setter_params.push((pname, p));
        }
        let wires: Vec<&str> = setter_params.iter().map(|(n, _)| n.as_str()).collect();
        let setter_names = names::claim_snake_exact_first(&mut setter_ns, &wires, Some("param"));
        let mut setters = Vec::new();
        for ((pname, p), rust) in setter_params.into_iter().zip(setter_names) {
            let ty = self.param_ty(&method_camel, pname, p, types, enums);
            setters.push(Param {
                rust,
                wire: pname.clone(),
                ty,
                repeated: p.repeated == Some(true),
                location: location(p),
                doc: p.description.clone(),
                deprecated: p.deprecated == Some(true),
            });
        }

        let ctx = camel_part(m.id.as_deref().unwrap_or(name));
        let request = match &m.request {
            Some(s) => {
                let ty = self.ty_of(&ctx, "Request", s, &format!("{path}.request"))?;
                Some((arg_ns.claim_snake("request"), ty))
            }
            None => None,
        };
        let response = match &m.response {
            Some(s) => Some(self.ty_of(&ctx, "Response", s, &format!("{path}.response"))?),
            None => None,
        };

        let media_upload = m.media_upload.as_ref().map(|mu| MediaUpload {
            accept: mu.accept.clone(),
            max_size: mu.max_size.as_deref().and_then(parse_max_size),
            simple_path: mu.protocols.simple.as_ref().map(|p| p.path.clone()),
            resumable_path: mu.protocols.resumable.as_ref().map(|p| p.path.clone()),
        });

        let pagination =
            self.pagination(m, &args, request.as_ref().map(|r| &r.1), response.as_ref());

        Ok(Method {
            wire: name.to_string(),
            accessor,
            call_struct,
            static_name,
            id: m.id.clone().unwrap_or_else(|| name.to_string()),
            http_method,
            path: m.path.clone(),
            flat_path: m.flat_path.clone(),
            doc: m.description.clone(),
            scopes: m.scopes.clone(),
            args,
            request,
            setters,
            response,
            media_upload,
            download: m.supports_media_download == Some(true),
            pagination,
            api_version: m.api_version.clone(),
            deprecated: m.deprecated == Some(true),
            data_wrapper: self.doc.data_wrapper(),
        })
    }

    fn param_ty(
        &mut self,
        method_camel: &str,
        pname: &str,
        p: &parse::Parameter,
        types: &mut Namespace,
        enums: &mut Vec<EnumDef>,
    ) -> Ty {
        let fmt = p.format.as_deref();
        match p.type_.as_deref() {
            Some("string") if p.enum_.as_ref().is_some_and(|e| !e.is_empty()) => {
                let name = types.claim_camel(&format!("{method_camel}{}", camel_part(pname)));
                enums.push(enum_def(
                    name.clone(),
                    p.description.clone(),
                    p.enum_.as_deref().unwrap_or_default(),
                    p.enum_descriptions.as_deref().unwrap_or_default(),
                    &[],
                ));
                Ty::Local(name)
            }
            Some("string") => match fmt {
                Some("int64") => Ty::I64,
                Some("uint64") => Ty::U64,
                Some("byte") => Ty::String,
                f => string_format(f),
            },
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
            _ => Ty::String,
        }
    }

    /// Detects pagination: a `pageToken` query parameter (or request body
    /// field) and a `nextPageToken` (or, as in BigQuery, `pageToken`) string
    /// field in the response struct.
    fn pagination(
        &mut self,
        m: &parse::Method,
        args: &[Param],
        request: Option<&Ty>,
        response: Option<&Ty>,
    ) -> Option<Pagination> {
        let resp = self.struct_of(response?)?;
        let resp_name = resp.name.clone();
        let token_field = |s: &StructDef, wire: &str| {
            s.fields
                .iter()
                .find(|f| f.wire == wire && f.ty == Ty::String)
                .map(|f| f.rust.clone())
        };
        let query_token = m.parameters.get("pageToken").is_some_and(|p| {
            location(p) == Location::Query && !args.iter().any(|a| a.wire == "pageToken")
        });
        let body_token = !query_token
            && request
                .and_then(|r| self.struct_of(r))
                .is_some_and(|s| token_field(s, "pageToken").is_some());
        let location = if query_token {
            TokenLocation::Query
        } else if body_token {
            TokenLocation::Body
        } else {
            return None;
        };
        let token = token_field(resp, "nextPageToken").or_else(|| {
            if location == TokenLocation::Query {
                token_field(resp, "pageToken")
            } else {
                None
            }
        })?;
        let items = items_field(resp);
        if let Some(TypeDef::Struct(s)) = self.types.get_mut(&resp_name) {
            if s.page.is_none() {
                s.page = Some(PageImpl {
                    token_field: token,
                    items,
                });
            }
        }
        let has_items = matches!(
            self.types.get(&resp_name),
            Some(TypeDef::Struct(StructDef {
                page: Some(PageImpl { items: Some(_), .. }),
                ..
            }))
        );
        Some(Pagination {
            location,
            request_token: "pageToken".to_string(),
            items: has_items,
        })
    }
}

/// The single obvious repeated field of a list response: the only array
/// field; else the only array of named types; else a field named `items`.
fn items_field(s: &StructDef) -> Option<(String, Ty)> {
    let arrays: Vec<&Field> = s
        .fields
        .iter()
        .filter(|f| matches!(f.ty, Ty::Vec(_)))
        .collect();
    let pick = if arrays.len() == 1 {
        Some(arrays[0])
    } else {
        let named: Vec<&&Field> = arrays
            .iter()
            .filter(|f| matches!(&f.ty, Ty::Vec(t) if matches!(**t, Ty::Schema(_))))
            .collect();
        if named.len() == 1 {
            Some(*named[0])
        } else {
            arrays.iter().find(|f| f.wire == "items").copied()
        }
    }?;
    match &pick.ty {
        Ty::Vec(t) => Some((pick.rust.clone(), (**t).clone())),
        _ => None,
    }
}

fn location(p: &parse::Parameter) -> Location {
    if p.location.as_deref() == Some("path") {
        Location::Path
    } else {
        Location::Query
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

/// Claims `base`, or `base_<suffix>` when `base` is taken, then numbers.
fn claim_with_fallback(ns: &mut Namespace, base: &str, suffix: &str) -> String {
    if !ns.contains(base) {
        return ns.claim_snake(base);
    }
    ns.claim_snake(&format!("{}_{suffix}", unraw(base).trim_end_matches('_')))
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
