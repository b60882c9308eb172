//! Stage 3: IR → Rust tokens (`quote!`) → formatted source (`prettyplease`).
//!
//! The output is one module body (see ARCHITECTURE.md, "Shape of generated
//! code"): paths inside it are relative (`super::schemas::Task`); std types
//! are written short (`Option<String>`) except in a module that declares a
//! type of the same name (a schema named `Option` or `String`), where they
//! are fully qualified (`::std::option::Option`); every builder method is
//! `#[inline]` so a crate only pays codegen for what its users call.
//!
//! Emitters are handed an [`Out`]: the side channel of one emission. Doc
//! texts go there instead of into the token stream (a placeholder
//! attribute stands in for each), because docs are most of the output and
//! `syn` + `prettyplease` spend their time on tokens: parsing and
//! formatting placeholders instead is several times faster. [`format()`]
//! puts the texts back into prettyplease's output, a text rewrite keyed on
//! each placeholder line's indentation, in the same pass that wraps enums
//! in `gapi::open_enum!` (a macro body prettyplease would not format).
//! `Out` also records the first name that is not an identifier, so that a
//! generator bug fails [`format()`] instead of emitting broken code.

pub mod docs;
mod format;
mod keys;
mod resources;
mod setters;
mod types;

use std::cell::RefCell;

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;

pub use format::format;

use crate::resolve::features::{Features, Gate};
use crate::resolve::ir::*;
use crate::resolve::names::is_ident;

/// What one emission records beside its tokens: the doc texts (the tokens
/// hold placeholders) and the first name that is not an identifier.
#[derive(Default)]
pub struct Out {
    docs: RefCell<Vec<Vec<String>>>,
    invalid: RefCell<Option<String>>,
}

/// The prefix of a doc placeholder (`#[doc = "@gapi-doc:17"]`).
const DOC_MARKER: &str = "@gapi-doc:";

impl Out {
    /// Makes an identifier from a resolved name (`r#type` → raw identifier).
    ///
    /// Never panics: a name that is not an identifier (which
    /// `resolve/names.rs` rules out, so it would be a generator bug) gives
    /// a placeholder and is recorded, and [`format()`] then fails instead of
    /// returning broken code.
    pub fn ident(&self, name: &str) -> Ident {
        if !is_ident(name) {
            self.invalid
                .borrow_mut()
                .get_or_insert_with(|| name.to_string());
            return Ident::new("__gapi_invalid_identifier", Span::call_site());
        }
        match name.strip_prefix("r#") {
            Some(raw) => Ident::new_raw(raw, Span::call_site()),
            None => Ident::new(name, Span::call_site()),
        }
    }

    /// `#[doc]` for a description (nothing when there is none).
    pub fn doc(&self, text: Option<&str>) -> TokenStream {
        self.doc_text(DocText::new(text))
    }

    /// One `#[doc]` placeholder attribute for `doc`'s lines.
    fn doc_text(&self, doc: DocText) -> TokenStream {
        if doc.lines.is_empty() {
            return TokenStream::new();
        }
        let index = {
            let mut d = self.docs.borrow_mut();
            d.push(doc.lines);
            d.len() - 1
        };
        let marker = lit(&format!("{DOC_MARKER}{index}"));
        quote!(#[doc = #marker])
    }
}

/// The lines of one doc comment: descriptions from the document (made safe
/// by [`docs::doc_lines`]) and paragraphs the generator writes (links).
struct DocText {
    lines: Vec<String>,
}

impl DocText {
    fn new(text: Option<&str>) -> DocText {
        DocText {
            lines: text.map(docs::doc_lines).unwrap_or_default(),
        }
    }

    /// Adds a paragraph of document text.
    fn para(mut self, text: &str) -> DocText {
        let lines = docs::doc_lines(text);
        self.push_paragraph(lines);
        self
    }

    /// Adds a paragraph the generator wrote (trusted markdown: intra-doc
    /// links), made of names that are identifiers or escaped text.
    fn raw(mut self, line: String) -> DocText {
        self.push_paragraph(vec![line]);
        self
    }

    fn push_paragraph(&mut self, lines: Vec<String>) {
        if lines.is_empty() {
            return;
        }
        if !self.lines.is_empty() {
            self.lines.push(String::new());
        }
        self.lines.extend(lines);
    }
}

fn lit(s: &str) -> Literal {
    Literal::string(s)
}

/// `#[deprecated]` (with the document's text as its note) when `deprecated`.
fn deprecated_attr(deprecated: bool, doc: Option<&str>) -> TokenStream {
    if !deprecated {
        return TokenStream::new();
    }
    match crate::resolve::deprecation_note(doc) {
        Some(note) => {
            let note = lit(&note);
            quote!(#[deprecated(note = #note)])
        }
        None => quote!(#[deprecated]),
    }
}

/// An emitted module: tokens with doc placeholders, and the doc texts.
pub struct Emitted {
    /// The module body's tokens (doc comments are placeholders).
    pub tokens: TokenStream,
    docs: Vec<Vec<String>>,
    invalid_ident: Option<String>,
}

/// Emits the module body for `api` (see [`format()`]).
pub fn module(api: &Api) -> Emitted {
    module_gated(api, None)
}

/// Emits the module body for `api`, every item of a top-level resource
/// and every type carrying the `#[cfg]` of the resource features that
/// reach it (see [`crate::resolve::features`]); `None`: no `cfg` at all,
/// as [`module`].
pub fn module_gated(api: &Api, features: Option<&Features>) -> Emitted {
    let out = Out::default();
    let tokens = module_with(api, &out, features);
    Emitted {
        tokens,
        docs: out.docs.into_inner(),
        invalid_ident: out.invalid.into_inner(),
    }
}

/// Emits the module body's tokens for `api` (doc comments as placeholders;
/// use [`module`] + [`format()`] for source text).
pub fn module_tokens(api: &Api) -> TokenStream {
    module_with(api, &Out::default(), None)
}

/// Per-module emission context: the side channel, the paths to the
/// `schemas` and `params` modules and to the module's `Call`, and the
/// spelling of std types. Std names are written short (`Option<String>`)
/// unless a type of the module shadows them (a schema named `Option`), in
/// which case they are fully qualified (`::std::option::Option`).
struct Cx<'o> {
    out: &'o Out,
    /// `super::super::` to the root (empty at the root and in `schemas`).
    root: TokenStream,
    /// Where `Ty::Schema` names are (`super::schemas::`, or empty inside).
    prefix: TokenStream,
    option: TokenStream,
    string: TokenStream,
    vec: TokenStream,
    boxed: TokenStream,
    into: TokenStream,
    /// What each type of the `schemas` module is, aliases followed (only
    /// filled for the `schemas` module, whose structs need it).
    kinds: std::collections::HashMap<String, types::Kind>,
    /// The resource features, when the crate has them (only set for the
    /// root module: resource modules are gated as a whole).
    features: Option<&'o Features>,
}

impl<'o> Cx<'o> {
    /// `depth`: `None` for the `schemas` and `params` modules, `Some(d)`
    /// for a resource module at depth `d` (0 = the root). `names`: the
    /// type names declared in the module.
    fn new<'a>(
        out: &'o Out,
        depth: Option<usize>,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Cx<'o> {
        let names: std::collections::HashSet<&str> = names.into_iter().collect();
        let pick = |short: &str, long: TokenStream| -> TokenStream {
            if names.contains(short) {
                long
            } else {
                let id = Ident::new(short, Span::call_site());
                quote!(#id)
            }
        };
        let supers = |d: usize| {
            let s = (0..d).map(|_| quote!(super::));
            quote!(#(#s)*)
        };
        let (root, prefix) = match depth {
            None => (TokenStream::new(), TokenStream::new()),
            Some(d) => {
                let root = supers(d);
                (root.clone(), quote!(#root schemas::))
            }
        };
        Cx {
            out,
            root,
            prefix,
            option: pick("Option", quote!(::std::option::Option)),
            string: pick("String", quote!(::std::string::String)),
            vec: pick("Vec", quote!(::std::vec::Vec)),
            boxed: pick("Box", quote!(::std::boxed::Box)),
            into: pick("Into", quote!(::std::convert::Into)),
            kinds: Default::default(),
            features: None,
        }
    }

    /// The `#[cfg]` of an item with `gate` (nothing without features).
    fn gate(&self, gate: impl FnOnce(&Features) -> Gate) -> TokenStream {
        let Some(features) = self.features else {
            return TokenStream::new();
        };
        match gate(features) {
            Gate::Always => TokenStream::new(),
            Gate::Full => quote!(#[cfg(feature = "full")]),
            Gate::Resources(indices) => {
                let names: Vec<Literal> = indices
                    .iter()
                    .filter_map(|&i| features.names.get(i))
                    .map(|n| lit(n))
                    .collect();
                match names.as_slice() {
                    [] => TokenStream::new(),
                    [one] => quote!(#[cfg(feature = #one)]),
                    many => quote!(#[cfg(any(#(feature = #many),*))]),
                }
            }
        }
    }

    fn ident(&self, name: &str) -> Ident {
        self.out.ident(name)
    }

    fn doc(&self, text: Option<&str>) -> TokenStream {
        self.out.doc(text)
    }

    fn doc_text(&self, doc: DocText) -> TokenStream {
        self.out.doc_text(doc)
    }

    /// The path of a type of the `params` module.
    fn param_path(&self, name: &str) -> TokenStream {
        let n = self.ident(name);
        let root = &self.root;
        quote!(#root params::#n)
    }

    /// The same path as an intra-doc link target (`super::params::X`).
    fn param_link(&self, name: &str) -> String {
        let supers = self.root.to_string().replace(' ', "");
        format!("{supers}params::{name}")
    }

    /// The module's `Call` (the API root's, from `gapi::method_builder!`).
    fn call_path(&self) -> TokenStream {
        let root = &self.root;
        quote!(#root Call)
    }
}

/// The tokens of a type in the module of `cx`.
fn ty_tokens(ty: &Ty, cx: &Cx) -> TokenStream {
    match ty {
        Ty::String => cx.string.clone(),
        Ty::Bool => quote!(bool),
        Ty::I32 => quote!(i32),
        Ty::U32 => quote!(u32),
        Ty::I64 | Ty::I64Number => quote!(i64),
        Ty::U64 => quote!(u64),
        Ty::F32 => quote!(f32),
        Ty::F64 => quote!(f64),
        Ty::Bytes => quote!(::gapi::Bytes),
        Ty::DateTime => quote!(::gapi::types::DateTime),
        Ty::Date => quote!(::gapi::types::Date),
        Ty::Duration => quote!(::gapi::types::Duration),
        Ty::FieldMask => quote!(::gapi::types::FieldMask),
        Ty::Value => quote!(::gapi::serde_json::Value),
        Ty::Schema(n) => {
            let n = cx.ident(n);
            let prefix = &cx.prefix;
            quote!(#prefix #n)
        }
        Ty::Local(n) => cx.param_path(n),
        Ty::Vec(t) => {
            let t = ty_tokens(t, cx);
            let vec = &cx.vec;
            quote!(#vec<#t>)
        }
        Ty::Map(t) => {
            let t = ty_tokens(t, cx);
            let string = &cx.string;
            quote!(::std::collections::BTreeMap<#string, #t>)
        }
    }
}

/// The type names declared in a resource module (or the root).
fn module_type_names(r: &Resource, service_type: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    if r.depth == 0 {
        names.push(service_type.to_string());
        names.push("Call".to_string());
    } else {
        names.push(r.struct_name.clone());
    }
    for m in &r.methods {
        names.push(m.call_struct.clone());
        names.push(m.marker.clone());
    }
    names
}

fn module_with(api: &Api, out: &Out, features: Option<&Features>) -> TokenStream {
    let revision = lit(&api.revision);
    let name = lit(&api.name);
    let version = lit(&api.version);
    let title = lit(&api.title);
    let root_url = lit(&api.root_url);
    let service_path = lit(&api.service_path);
    let batch_path = match &api.batch_path {
        Some(b) => {
            let b = lit(b);
            quote!(Some(#b))
        }
        None => quote!(None),
    };
    let scopes = api.scopes.iter().map(|s| {
        let name = out.ident(&s.const_name);
        let url = lit(&s.url);
        let doc = out.doc(s.description.as_deref());
        quote! { #doc pub const #name: &str = #url; }
    });
    let mut schemas_cx = Cx::new(out, None, api.types.iter().map(|t| t.name()));
    schemas_cx.kinds = types::kinds(&api.types);
    schemas_cx.features = features;
    let schemas = api.types.iter().map(|t| {
        let cfg = schemas_cx.gate(|f| f.schema(t.name()).clone());
        types::type_tokens(t, &schemas_cx, &cfg)
    });
    let mut params_cx = Cx::new(out, None, api.params.iter().map(|t| t.name()));
    params_cx.features = features;
    let params = api.params.iter().map(|t| {
        let cfg = params_cx.gate(|f| f.param(t.name()).clone());
        types::type_tokens(t, &params_cx, &cfg)
    });
    let service = out.ident(&api.service_type);
    let service_doc = out.doc_text(service_doc(api));
    let root = &api.root;
    let root_names = module_type_names(root, &api.service_type);
    let mut cx = Cx::new(out, Some(0), root_names.iter().map(String::as_str));
    cx.features = features;
    let root_accessors = resources::resource_accessors(root, &cx);
    let root_items = resources::resource_items(root, &cx, &api.service_type);
    let standard = setters::standard_impl(&api.standard, &cx);
    let into_string = {
        let (into, string) = (&cx.into, &cx.string);
        quote!(impl #into<#string>)
    };
    let data_wrapper_doc = if api.data_wrapper {
        quote!(#[doc = " This API wraps request and response bodies in `{\"data\": ...}` (`dataWrapper`)."])
    } else {
        TokenStream::new()
    };

    quote! {
        /// The revision of the discovery document this code was generated from.
        pub const REVISION: &str = #revision;
        /// Identity and default endpoint of this API.
        #data_wrapper_doc
        pub static SERVICE: ::gapi::ServiceInfo = ::gapi::ServiceInfo {
            name: #name,
            version: #version,
            revision: #revision,
            title: #title,
            root_url: #root_url,
            service_path: #service_path,
            batch_path: #batch_path,
        };
        ::gapi::method_builder!();
        #standard
        /// OAuth 2.0 scopes of this API.
        pub mod scopes {
            #(#scopes)*
        }
        /// The data types of this API.
        ///
        /// Request and response bodies, named after the document's schemas.
        pub mod schemas {
            #(#schemas)*
        }
        /// The enums of this API's parameters: named after the parameter
        /// (`predefinedAcl` → `PredefinedAcl`), or after the first method
        /// taking it (`BucketsGetProjection`) when same-named parameters take
        /// different values; identical ones are one type.
        pub mod params {
            #(#params)*
        }
        #service_doc
        #[derive(Clone, Debug)]
        pub struct #service {
            svc: ::gapi::Service,
        }
        impl #service {
            /// Creates the service on `client` with the document's endpoint.
            #[inline]
            pub fn new(client: ::gapi::Client) -> Self {
                #service { svc: ::gapi::Service::new(client, &SERVICE) }
            }
            /// Overrides the root URL (e.g. a regional endpoint or a test server).
            #[inline]
            pub fn with_root_url(self, url: #into_string) -> Self {
                #service { svc: self.svc.with_root_url(url) }
            }
            /// Overrides the service path.
            #[inline]
            pub fn with_service_path(self, path: #into_string) -> Self {
                #service { svc: self.svc.with_service_path(path) }
            }
            /// The underlying [`gapi::Service`].
            #[inline]
            pub fn service(&self) -> &::gapi::Service {
                &self.svc
            }
            #root_accessors
        }
        #root_items
    }
}

/// The service type's doc: what it is, and the naming rules of the module.
fn service_doc(api: &Api) -> DocText {
    DocText::new(None)
        .para(&format!(
            "The {} (`{}` {}): the entry point.",
            docs::one_line(&api.title),
            docs::one_line(&api.name),
            docs::one_line(&api.version)
        ))
        .raw(
            "Create it with a [`gapi::Client`] and reach resources through its accessors. A \
             method returns its builder, a [`Call`]: required parameters are the method's \
             arguments, the others setters named after them in snake case (a repeated one takes \
             any iterator, and `add_<setter>` adds one value), the standard parameters \
             (`fields`, `quota_user`, …) are there for every method, and call options are \
             always `with_*` (`with_timeout`, `with_header`, …: no parameter is named so). \
             Finish with `send()`, `pages()`, `items()`, `upload(media)`, `upload_with(media, \
             protocol)`, `upload_resumable(media)` or `download()`."
                .to_string(),
        )
        .raw(
            "The service type is the API's name and `Service`; data types are only in \
             [`schemas`], parameter enums only in [`params`]."
                .to_string(),
        )
}
