//! Stage 3: IR → Rust tokens (`quote!`) → formatted source (`prettyplease`).
//!
//! The output is one module body (see ARCHITECTURE.md, "Shape of generated
//! code"): paths inside it are relative (`super::schemas::Task`); std types
//! are written short (`Option<String>`) except in a module that declares a
//! type of the same name (a schema named `Option` or `String`), where they
//! are fully qualified (`::std::option::Option`); every builder method is
//! `#[inline]` so a crate only pays codegen for what its users call.

pub mod docs;
mod resources;
mod types;

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;

use crate::resolve::ir::*;
use crate::resolve::names::is_ident;
use resources::{resource_accessors, resource_items};
use types::type_tokens;

/// Makes an identifier from a resolved name (`r#type` → raw identifier).
///
/// Never panics: a name that is not an identifier (which `resolve/names.rs`
/// rules out, so it would be a generator bug) gives a placeholder and is
/// recorded, and [`format`] then fails instead of returning broken code.
pub fn ident(name: &str) -> Ident {
    if !is_ident(name) {
        INVALID.with(|i| {
            i.borrow_mut().get_or_insert_with(|| name.to_string());
        });
        return Ident::new("__gapi_invalid_identifier", Span::call_site());
    }
    match name.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(name, Span::call_site()),
    }
}

fn lit(s: &str) -> Literal {
    Literal::string(s)
}

/// `#[doc = "…"]` attributes for a description (nothing when empty).
pub fn doc_attrs(text: Option<&str>) -> TokenStream {
    match text {
        Some(t) => doc_tokens(&docs::doc_lines(t)),
        None => TokenStream::new(),
    }
}

thread_local! {
    /// Doc texts of the module being emitted; the tokens hold placeholders.
    static DOCS: std::cell::RefCell<Vec<Vec<String>>> = const { std::cell::RefCell::new(Vec::new()) };
    /// The first name [`ident`] was given that is not an identifier.
    static INVALID: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// The prefix of a doc placeholder (`#[doc = "@gapi-doc:17"]`).
const DOC_MARKER: &str = "@gapi-doc:";

/// One `#[doc]` placeholder attribute for `lines`. Docs are most of the
/// output; keeping them out of the token stream makes parsing and
/// formatting several times faster. [`format`] puts the text back.
fn doc_tokens(lines: &[String]) -> TokenStream {
    if lines.is_empty() {
        return TokenStream::new();
    }
    let index = DOCS.with(|d| {
        let mut d = d.borrow_mut();
        d.push(lines.to_vec());
        d.len() - 1
    });
    let marker = lit(&format!("{DOC_MARKER}{index}"));
    quote!(#[doc = #marker])
}

/// An emitted module: tokens with doc placeholders, and the doc texts.
pub struct Emitted {
    /// The module body's tokens (doc comments are placeholders).
    pub tokens: TokenStream,
    docs: Vec<Vec<String>>,
    invalid_ident: Option<String>,
}

/// Emits the module body for `api` (see [`format`]).
pub fn module(api: &Api) -> Emitted {
    DOCS.with(|d| d.borrow_mut().clear());
    INVALID.with(|i| i.borrow_mut().take());
    let tokens = module_tokens(api);
    let docs = DOCS.with(|d| std::mem::take(&mut *d.borrow_mut()));
    let invalid_ident = INVALID.with(|i| i.borrow_mut().take());
    Emitted {
        tokens,
        docs,
        invalid_ident,
    }
}

fn doc_with_extra(text: Option<&str>, extra: &[String]) -> TokenStream {
    let mut lines = text.map(docs::doc_lines).unwrap_or_default();
    for e in extra {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.extend(docs::doc_lines(e));
    }
    doc_tokens(&lines)
}

/// Per-module emission context: the path to the `schemas` module and the
/// spelling of std types. Std names are written short (`Option<String>`)
/// unless a type of the module shadows them (a schema named `Option`), in
/// which case they are fully qualified (`::std::option::Option`).
struct Cx {
    prefix: TokenStream,
    option: TokenStream,
    string: TokenStream,
    vec: TokenStream,
    boxed: TokenStream,
    into: TokenStream,
    /// What each type of the `schemas` module is, aliases followed (only
    /// filled for the `schemas` module, whose structs need it).
    kinds: std::collections::HashMap<String, types::Kind>,
}

impl Cx {
    /// `depth`: `None` for the `schemas` module, `Some(d)` for a resource
    /// module at depth `d` (0 = the root). `names`: the type names declared
    /// in the module.
    fn new<'a>(depth: Option<usize>, names: impl IntoIterator<Item = &'a str>) -> Cx {
        let names: std::collections::HashSet<&str> = names.into_iter().collect();
        let pick = |short: &str, long: TokenStream| -> TokenStream {
            if names.contains(short) {
                long
            } else {
                let id = Ident::new(short, Span::call_site());
                quote!(#id)
            }
        };
        let prefix = match depth {
            None => TokenStream::new(),
            Some(d) => {
                let supers = (0..d).map(|_| quote!(super::));
                quote!(#(#supers)* schemas::)
            }
        };
        Cx {
            prefix,
            option: pick("Option", quote!(::std::option::Option)),
            string: pick("String", quote!(::std::string::String)),
            vec: pick("Vec", quote!(::std::vec::Vec)),
            boxed: pick("Box", quote!(::std::boxed::Box)),
            into: pick("Into", quote!(::std::convert::Into)),
            kinds: Default::default(),
        }
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
            let n = ident(n);
            let prefix = &cx.prefix;
            quote!(#prefix #n)
        }
        Ty::Local(n) => {
            let n = ident(n);
            quote!(#n)
        }
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
        names.push("CallBuilder".to_string());
    } else {
        names.push(r.struct_name.clone());
    }
    names.extend(r.methods.iter().map(|m| m.call_struct.clone()));
    names.extend(r.enums.iter().map(|e| e.name.clone()));
    names
}

/// Emits the module body's tokens for `api` (doc comments as placeholders;
/// use [`module`] + [`format`] for source text).
pub fn module_tokens(api: &Api) -> TokenStream {
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
        let name = ident(&s.const_name);
        let url = lit(&s.url);
        let doc = doc_attrs(s.description.as_deref());
        quote! { #doc pub const #name: &str = #url; }
    });
    let mut schemas_cx = Cx::new(None, api.types.iter().map(|t| t.name()));
    schemas_cx.kinds = types::kinds(&api.types);
    let types = api.types.iter().map(|t| type_tokens(t, &schemas_cx));
    let service = ident(&api.service_type);
    let service_doc = format!(
        "The {} (`{}` {}): the entry point. Create it with a [`gapi::Client`] and reach \
         resources through its accessors.",
        docs::one_line(&api.title),
        docs::one_line(&api.name),
        docs::one_line(&api.version)
    );
    let service_doc = doc_attrs(Some(&service_doc));
    let root = &api.root;
    let root_names = module_type_names(root, &api.service_type);
    let cx = Cx::new(Some(0), root_names.iter().map(String::as_str));
    let root_accessors = resource_accessors(root, &cx);
    let root_items = resource_items(root, &cx, &api.service_type);
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
        /// The standard parameters (`fields`, `quota_user`, ...) of every method builder.
        pub use ::gapi::CallBuilder;
        /// OAuth 2.0 scopes of this API.
        pub mod scopes {
            #(#scopes)*
        }
        /// The data types of this API.
        pub mod schemas {
            #(#types)*
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

/// Formats an emitted module into source text.
pub fn format(emitted: Emitted) -> Result<String, syn::Error> {
    if let Some(name) = &emitted.invalid_ident {
        return Err(syn::Error::new(
            Span::call_site(),
            format!("{name:?} is not an identifier"),
        ));
    }
    let file: syn::File = syn::parse2(emitted.tokens)?;
    Ok(postprocess(&prettyplease::unparse(&file), &emitted.docs))
}

/// The marker attribute of enums to wrap in `gapi::open_enum!`.
const OPEN_ENUM_MARKER: &str = "#[gapi_open_enum]";

/// One pass over the formatted text: replaces doc placeholders with their
/// `///` lines, and turns each `#[gapi_open_enum] <enum item>` into
/// `gapi::open_enum! { <enum item> }`, indenting the item by one level.
fn postprocess(src: &str, docs: &[Vec<String>]) -> String {
    let mut out = String::with_capacity(src.len() * 2);
    let mut close: Option<String> = None; // the enum's closing line, when inside one
    for line in src.split_inclusive('\n') {
        let content = line.trim_end_matches('\n');
        let trimmed = content.trim_start();
        if let Some(index) = trimmed
            .strip_prefix("///")
            .and_then(|rest| rest.strip_prefix(DOC_MARKER))
            .and_then(|i| i.parse::<usize>().ok())
        {
            let extra = if close.is_some() { "    " } else { "" };
            let indent = &content[..content.len() - trimmed.len()];
            for l in docs.get(index).map(Vec::as_slice).unwrap_or_default() {
                out.push_str(extra);
                out.push_str(indent);
                out.push_str("///");
                if !l.is_empty() {
                    out.push(' ');
                    out.push_str(l);
                }
                out.push('\n');
            }
            continue;
        }
        if let Some(end) = &close {
            out.push_str("    ");
            out.push_str(line);
            if content == end {
                let indent = &end[..end.len() - 1];
                out.push_str(indent);
                out.push_str("}\n");
                close = None;
            }
            continue;
        }
        if trimmed == OPEN_ENUM_MARKER {
            let indent = &content[..content.len() - content.trim_start().len()];
            out.push_str(indent);
            out.push_str("::gapi::open_enum! {\n");
            close = Some(format!("{indent}}}"));
            continue;
        }
        out.push_str(line);
    }
    out
}
