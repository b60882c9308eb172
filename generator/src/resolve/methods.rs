//! Resources and methods: module, struct, accessor and builder names,
//! positional arguments and setters, bodies, media and pagination.

use std::collections::BTreeMap;

use super::ir::*;
use super::names::{self, Namespace, camel_ident, camel_part, shouty, snake, unraw};
use super::{Resolver, enum_def, parse_max_size, string_format};
use crate::Error;
use crate::parse::{self, push_key};

impl Resolver<'_> {
    /// Resolves a resource (or the root, at depth 0) with its methods and
    /// sub-resources; `types`, `values` and `accessors` are the names already
    /// taken in its module and on its struct.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn resource(
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
            types.claim_camel(&camel_ident(&format!("{}Resource", camel_part(wire))))
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
        let call_struct = types.claim_camel(&camel_ident(&format!("{method_camel}Call")));
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
                    format!("unsupported HTTP method `{}`", parse::shown(other)),
                ));
            }
        };

        // Parameters: positional arguments in parameterOrder, setters for the rest.
        // `call` is the builder's local variable in the accessor's body.
        let mut arg_ns = Namespace::with_reserved(&["self", "call"]);
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
                repeated: repeated(p),
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
                repeated: repeated(p),
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
                let name = types.claim_camel(&camel_ident(&format!(
                    "{method_camel}{}",
                    camel_part(pname)
                )));
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

/// Whether a parameter takes several values: only query parameters do (one
/// key per value); a path segment holds one value, so `repeated` on a path
/// parameter is ignored.
fn repeated(p: &parse::Parameter) -> bool {
    p.repeated == Some(true) && location(p) == Location::Query
}

fn location(p: &parse::Parameter) -> Location {
    if p.location.as_deref() == Some("path") {
        Location::Path
    } else {
        Location::Query
    }
}

/// Claims `base`, or `base_<suffix>` when `base` is taken, then numbers.
fn claim_with_fallback(ns: &mut Namespace, base: &str, suffix: &str) -> String {
    if !ns.contains(base) {
        return ns.claim_snake(base);
    }
    ns.claim_snake(&format!("{}_{suffix}", unraw(base).trim_end_matches('_')))
}
