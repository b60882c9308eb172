//! Stage 2: from the parsed document to the typed IR ([`ir::Api`]).
//!
//! Every Rust name is decided here, once, in a deterministic order: schemas
//! sorted by name, properties and parameters sorted by name, enum values in
//! document order. One module per job:
//!
//! - `schemas`: top-level schemas. An object schema with no properties and
//!   no `additionalProperties` becomes a struct with no fields (it
//!   (de)serializes as `{}`, keeping what it is sent); other non-object
//!   top-level schemas become type aliases;
//! - `inline`: the type of every schema node; inline objects and enums are
//!   named after their path: parent type name + property name (`Task` +
//!   `links` → `TaskLinks`), array items and map values use the name of
//!   their property;
//! - `recursion`: a field is boxed only when it closes a cycle of by-value
//!   (not `Vec`/map) references, i.e. when both ends are in the same
//!   strongly connected component of the by-value reference graph;
//! - `methods`: resources, methods and their parameters — positional
//!   arguments, setters named in a namespace that already holds every call
//!   option and standard parameter, bodies and media;
//! - `params`: parameter types, the `params` module of parameter enums
//!   (named after the parameter, or after the method when same-named
//!   parameters take different values) and the standard parameters;
//! - `pagination`: list methods, their page token and their items;
//!
//! and around them: `aliases` follows aliases, marks int64 fields and
//! refuses a schema that is an alias of itself (`{"$ref": "A"}` in `A`, an
//! array or map of itself, a cycle of such schemas; the error names the
//! `$ref` that closes the cycle); `limits` cuts types at 16 nested arrays
//! and maps (deeper parts are a JSON `Value`) and refuses a document whose
//! types go deeper than rustc can follow (an estimate); `dedupe` turns a
//! struct or enum identical to an earlier one (all but its name and
//! description) into a type alias of it, in `schemas` and in `params`.
//!
//! Over the finished IR, [`features`] computes which top-level resources
//! reach each type: the per-resource cargo features of large APIs' crates,
//! and the resources a build script keeps.

mod aliases;
mod dedupe;
pub mod features;
mod inline;
pub mod ir;
mod limits;
mod methods;
pub mod names;
mod pagination;
mod params;
mod recursion;
mod schemas;

use std::collections::BTreeMap;

use crate::Error;
use crate::parse::{Document, push_key};
use ir::*;
use names::{Namespace, camel_ident, camel_part, shouty};

/// Resolves a parsed document into the IR. `file` names the input in errors.
pub fn resolve(file: &str, doc: &Document) -> Result<Api, Error> {
    let mut r = Resolver {
        file,
        doc,
        ns: Namespace::new(),
        schema_names: BTreeMap::new(),
        types: BTreeMap::new(),
        param_enums: params::ParamEnums::default(),
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
    /// The parameter enums met so far, named at the end.
    param_enums: params::ParamEnums,
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

/// Names the root module holds besides resources and root methods.
const ROOT_RESERVED: &[&str] = &["schemas", "scopes", "params", "Call"];

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
        // 1. Top-level schemas: their names, before any synthesized name,
        // then their types. A type alias cannot be its own definition
        // (directly or through other aliases): no Rust type expresses that.
        self.schemas()?;
        self.check_alias_cycles()?;
        // 2. The standard parameters, then resources and methods. The
        // service type is claimed first, so it is always `<Name>Service`.
        let mut standard = self.standard_params();
        let mut root_types = Namespace::with_reserved(ROOT_RESERVED);
        let service_type =
            root_types.claim_camel(&camel_ident(&format!("{}Service", camel_part(&doc.name))));
        let root_values = Namespace::with_reserved(&["REVISION", "SERVICE"]);
        let root_accessors =
            Namespace::with_reserved(&["new", "with_root_url", "with_service_path", "service"]);
        let reserved_setters = methods::reserved_setters(&standard);
        let mut root = self.resource(
            methods::ResourceInput {
                wire: "",
                methods: &doc.methods,
                resources: &doc.resources,
                deprecated: false,
                depth: 0,
                path: "$",
            },
            methods::Scopes {
                types: root_types,
                values: root_values,
                accessors: root_accessors,
            },
            &reserved_setters,
        )?;
        // 3. Parameter enums named, now that every one is known.
        let (params, names) = std::mem::take(&mut self.param_enums).finish();
        params::rename_locals(&mut root, &mut standard, &names);
        // 4. Nesting cut to rustc's limits, recursion boxed, int64 marked,
        // depth checked.
        self.clamp_nesting(&mut root);
        self.box_recursion();
        self.mark_int64();
        self.check_depth()?;
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
            params: params.into_values().collect(),
            standard,
            root,
        })
    }

    /// The JSON path of schema `key`.
    fn schema_path(key: &str) -> String {
        let mut path = String::from("$.schemas");
        push_key(&mut path, key);
        path
    }
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

/// The text of a `#[deprecated]` note: the first paragraph of the
/// description, on one line (`None` without a description).
pub fn deprecation_note(doc: Option<&str>) -> Option<String> {
    let text = doc?.trim();
    let first = text.split("\n\n").next().unwrap_or(text);
    let note = crate::emit::docs::one_line(first);
    (!note.is_empty()).then_some(note)
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
    fn deprecation_notes_are_one_paragraph_on_one_line() {
        assert_eq!(
            deprecation_note(Some("Deprecated.\nUse `x`.\n\nMore text.")).as_deref(),
            Some("Deprecated. Use `x`.")
        );
        assert_eq!(deprecation_note(Some("  ")), None);
        assert_eq!(deprecation_note(None), None);
    }
}
