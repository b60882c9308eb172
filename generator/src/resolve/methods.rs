//! Resources and methods: module, struct, accessor, builder and marker
//! names, positional arguments and setters, bodies and media.
//!
//! Setter names: a method's builder is the module's generic `Call<M>`
//! (`gapi::method_builder!`), which already has the call options (every
//! name starting with `with_`), the terminal methods (`send`, `pages`,
//! `items`, `upload`, `upload_with`, `upload_resumable`, `download`,
//! `into_call`) and, for every method, the standard parameters' setters.
//! A method's own setters are claimed in a namespace that holds all of
//! those ([`reserved_setters`]), and no API name becomes a `with_*` name
//! ([`names::setter_name`]), so no inherent method can collide with
//! another (E0592) or hide an option.

use std::collections::{BTreeMap, HashSet};

use super::Resolver;
use super::ir::*;
use super::names::{self, Namespace, camel_ident, camel_part, shouty, snake, unraw};
use super::parse_max_size;
use crate::Error;
use crate::parse::{self, push_key};

/// Methods every `Call<M>` has (from `gapi::method_builder!` and the
/// traits it implements), besides the `with_*` options: no parameter
/// setter takes these names.
pub const BUILDER_METHODS: &[&str] = &[
    "send",
    "pages",
    "items",
    "upload",
    "upload_with",
    "upload_resumable",
    "download",
    "into_call",
    "from_call",
    "call_mut",
    "clone",
    "fmt",
];

/// The setter namespace every method starts from: the builder's own
/// methods and the standard parameters' setters.
pub(super) fn reserved_setters(standard: &[Param]) -> Namespace {
    let mut ns = Namespace::with_reserved(BUILDER_METHODS);
    for p in standard {
        ns.reserve(&p.rust);
        if let Some(add) = &p.add {
            ns.reserve(add);
        }
    }
    ns
}

/// Names `wires` as setters in `ns` (see [`names::setter_name`]), and for
/// the repeated ones (`repeated[i]`) the single-value form `add_<setter>`,
/// claimed after every plain name.
pub(super) fn claim_setters(
    ns: &mut Namespace,
    wires: &[&str],
    repeated: &[bool],
) -> Vec<(String, Option<String>)> {
    let plain = names::claim_setter_names(ns, wires);
    let adds: Vec<Option<String>> = plain
        .iter()
        .zip(repeated)
        .map(|(name, &rep)| rep.then(|| ns.claim_snake(&format!("add_{}", unraw(name)))))
        .collect();
    plain.into_iter().zip(adds).collect()
}

/// What the document says of one resource (or of the root).
pub(super) struct ResourceInput<'d> {
    pub wire: &'d str,
    pub methods: &'d BTreeMap<String, parse::Method>,
    pub resources: &'d BTreeMap<String, parse::Resource>,
    pub deprecated: bool,
    /// 0 for the root, 1 for top-level resources.
    pub depth: usize,
    /// The JSON path of the resource.
    pub path: &'d str,
}

/// The names already taken in a resource's module (`types`: types and
/// modules; `values`: statics) and on its struct (`accessors`).
pub(super) struct Scopes {
    pub types: Namespace,
    pub values: Namespace,
    pub accessors: Namespace,
}

impl Resolver<'_> {
    /// Resolves a resource (or the root, at depth 0) with its methods and
    /// sub-resources.
    pub(super) fn resource(
        &mut self,
        input: ResourceInput<'_>,
        scopes: Scopes,
        setters: &Namespace,
    ) -> Result<Resource, Error> {
        let ResourceInput {
            wire,
            methods,
            resources,
            deprecated,
            depth,
            path,
        } = input;
        let Scopes {
            mut types,
            mut values,
            mut accessors,
        } = scopes;
        // Module names of sub-resources first, then the resource struct,
        // builders and markers.
        let mut sub_modules = Vec::new();
        for name in resources.keys() {
            sub_modules.push(claim_with_fallback(&mut types, &snake(name), "resource"));
        }
        let struct_name = if depth == 0 {
            String::new()
        } else {
            types.claim_camel(&camel_ident(&format!("{}Resource", camel_part(wire))))
        };
        let method_accessors: Vec<String> = methods
            .keys()
            .map(|name| accessors.claim_snake(&snake(name)))
            .collect();
        let mut out_methods = Vec::new();
        for ((name, m), accessor) in methods.iter().zip(method_accessors) {
            let mut mpath = format!("{path}.methods");
            push_key(&mut mpath, name);
            let names = MethodNames {
                accessor,
                call_struct: types.claim_camel(&camel_ident(&format!("{}Call", camel_part(name)))),
                marker: types.claim_camel(&camel_ident(&format!("{}Method", camel_part(name)))),
                static_name: values.claim_snake(&shouty(name)),
                enum_context: format!("{}{}", camel_part(wire), camel_part(name)),
            };
            out_methods.push(self.method(name, m, names, &mpath, setters)?);
        }
        let mut out_resources = Vec::new();
        for ((name, r), module) in resources.iter().zip(sub_modules) {
            let accessor = claim_with_fallback(&mut accessors, &snake(name), "resource");
            let mut rpath = format!("{path}.resources");
            push_key(&mut rpath, name);
            let mut sub = self.resource(
                ResourceInput {
                    wire: name,
                    methods: &r.methods,
                    resources: &r.resources,
                    deprecated: r.deprecated == Some(true),
                    depth: depth + 1,
                    path: &rpath,
                },
                Scopes {
                    types: Namespace::new(),
                    values: Namespace::new(),
                    accessors: Namespace::new(),
                },
                setters,
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
        })
    }

    fn method(
        &mut self,
        name: &str,
        m: &parse::Method,
        names: MethodNames,
        path: &str,
        reserved_setters: &Namespace,
    ) -> Result<Method, Error> {
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
        let ctx = &names.enum_context;

        // Parameters: positional arguments in parameterOrder, setters for the rest.
        // `call` is the builder's local variable in the accessor's body.
        let mut arg_ns = Namespace::with_reserved(&["self", "call"]);
        let mut args = Vec::new();
        let mut in_order = HashSet::new();
        for pname in &m.parameter_order {
            let Some(p) = m.parameters.get(pname) else {
                continue;
            };
            if !in_order.insert(pname.as_str()) {
                continue;
            }
            let ty = self.param_ty(ctx, pname, p);
            args.push(Param {
                rust: arg_ns.claim_snake(&snake(pname)),
                add: None,
                wire: pname.clone(),
                ty,
                repeated: repeated(p),
                location: location(p),
                doc: p.description.clone(),
                deprecated: p.deprecated == Some(true),
            });
        }
        // A parameter restating a document-level one is the standard
        // setter's (every builder has it), unless the method needs it.
        let setter_params: Vec<(&String, &parse::Parameter)> = m
            .parameters
            .iter()
            .filter(|(pname, p)| {
                !in_order.contains(pname.as_str())
                    && (location(p) == Location::Path
                        || p.required == Some(true)
                        || !self.doc.parameters.contains_key(pname.as_str()))
            })
            .collect();
        let wires: Vec<&str> = setter_params.iter().map(|(n, _)| n.as_str()).collect();
        let reps: Vec<bool> = setter_params.iter().map(|(_, p)| repeated(p)).collect();
        let mut setter_ns = reserved_setters.clone();
        let setter_names = claim_setters(&mut setter_ns, &wires, &reps);
        let mut setters = Vec::new();
        for ((pname, p), (rust, add)) in setter_params.into_iter().zip(setter_names) {
            let ty = self.param_ty(ctx, pname, p);
            setters.push(Param {
                rust,
                add,
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
            accessor: names.accessor,
            call_struct: names.call_struct,
            marker: names.marker,
            static_name: names.static_name,
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
}

/// The names of one method, claimed by its resource.
struct MethodNames {
    accessor: String,
    call_struct: String,
    marker: String,
    static_name: String,
    /// `<Resource><Method>` in camel case: names a parameter enum whose
    /// values differ from another same-named parameter's.
    enum_context: String,
}

/// Whether a parameter takes several values: only query parameters do (one
/// key per value); a path segment holds one value, so `repeated` on a path
/// parameter is ignored.
pub(super) fn repeated(p: &parse::Parameter) -> bool {
    p.repeated == Some(true) && location(p) == Location::Query
}

/// Where a parameter goes (anything but `path` is a query parameter).
pub(super) fn location(p: &parse::Parameter) -> Location {
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
