//! Stage 3: IR → Rust tokens (`quote!`) → formatted source (`prettyplease`).
//!
//! The output is one module body (see ARCHITECTURE.md, "Shape of generated
//! code"): paths inside it are relative (`super::schemas::Task`); std types
//! are written short (`Option<String>`) except in a module that declares a
//! type of the same name (a schema named `Option` or `String`), where they
//! are fully qualified (`::std::option::Option`); every builder method is
//! `#[inline]` so a crate only pays codegen for what its users call.

pub mod docs;

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};

use crate::resolve::ir::*;

/// Makes an identifier from a resolved name (`r#type` → raw identifier).
pub fn ident(name: &str) -> Ident {
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
}

/// Emits the module body for `api` (see [`format`]).
pub fn module(api: &Api) -> Emitted {
    DOCS.with(|d| d.borrow_mut().clear());
    let tokens = module_tokens(api);
    let docs = DOCS.with(|d| std::mem::take(&mut *d.borrow_mut()));
    Emitted { tokens, docs }
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
        Ty::Bytes => quote!(gapi::Bytes),
        Ty::DateTime => quote!(gapi::types::DateTime),
        Ty::Date => quote!(gapi::types::Date),
        Ty::Duration => quote!(gapi::types::Duration),
        Ty::FieldMask => quote!(gapi::types::FieldMask),
        Ty::Value => quote!(gapi::serde_json::Value),
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
    let schemas_cx = Cx::new(None, api.types.iter().map(|t| t.name()));
    let types = api.types.iter().map(|t| type_tokens(t, &schemas_cx));
    let service = ident(&api.service_type);
    let service_doc = format!(
        "The {} (`{}` {}): the entry point. Create it with a [`gapi::Client`] and reach \
         resources through its accessors.",
        api.title, api.name, api.version
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
        pub static SERVICE: gapi::ServiceInfo = gapi::ServiceInfo {
            name: #name,
            version: #version,
            revision: #revision,
            title: #title,
            root_url: #root_url,
            service_path: #service_path,
            batch_path: #batch_path,
        };
        /// The standard parameters (`fields`, `quota_user`, ...) of every method builder.
        pub use gapi::CallBuilder;
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
            svc: gapi::Service,
        }
        impl #service {
            /// Creates the service on `client` with the document's endpoint.
            #[inline]
            pub fn new(client: gapi::Client) -> Self {
                #service { svc: gapi::Service::new(client, &SERVICE) }
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
            pub fn service(&self) -> &gapi::Service {
                &self.svc
            }
            #root_accessors
        }
        #root_items
    }
}

fn type_tokens(t: &TypeDef, cx: &Cx) -> TokenStream {
    match t {
        TypeDef::Struct(s) => struct_tokens(s, cx),
        TypeDef::Enum(e) => enum_tokens(e),
        TypeDef::Alias(a) => {
            let name = ident(&a.name);
            let doc = doc_attrs(a.doc.as_deref());
            let ty = ty_tokens(&a.ty, cx);
            quote! { #doc pub type #name = #ty; }
        }
    }
}

fn struct_tokens(s: &StructDef, cx: &Cx) -> TokenStream {
    let name = ident(&s.name);
    let doc = doc_attrs(s.doc.as_deref());
    let fields = s.fields.iter().map(|f| {
        let rust = ident(&f.rust);
        let mut extra = Vec::new();
        let mentions = |w: &str| {
            f.doc
                .as_deref()
                .is_some_and(|d| d.to_ascii_lowercase().contains(w))
        };
        if f.read_only
            && !mentions("output only")
            && !mentions("read-only")
            && !mentions("read only")
        {
            extra.push("Output only.".to_string());
        }
        if f.deprecated && !mentions("deprecated") {
            extra.push("Deprecated.".to_string());
        }
        let doc = doc_with_extra(f.doc.as_deref(), &extra);
        let inner = ty_tokens(&f.ty, cx);
        let inner = if f.boxed {
            let boxed = &cx.boxed;
            quote!(#boxed<#inner>)
        } else {
            inner
        };
        let option = &cx.option;
        quote! {
            #doc
            pub #rust: #option<#inner>,
        }
    });
    let page = s.page.as_ref().map(|p| {
        let token = ident(&p.token_field);
        let items = p.items.as_ref().map(|(field, item)| {
            let field = ident(field);
            let item = ty_tokens(item, cx);
            let vec = &cx.vec;
            quote! {
                impl gapi::PageItems for #name {
                    type Item = #item;
                    #[inline]
                    fn into_items(self) -> #vec<#item> {
                        self.#field.unwrap_or_default()
                    }
                }
            }
        });
        let option = &cx.option;
        quote! {
            impl gapi::Page for #name {
                #[inline]
                fn next_page_token(&self) -> #option<&str> {
                    self.#token.as_deref()
                }
            }
            #items
        }
    });
    let serde = record_tokens(s, cx);
    quote! {
        #doc
        #[derive(Clone, Default)]
        pub struct #name {
            #(#fields)*
        }
        #serde
        #page
    }
}

/// The wire impls of a struct: a `gapi::wire::Record` (wire names, and each
/// field handed out as a `&dyn gapi::wire::Field`) and `gapi::record!`,
/// whose serde, `Debug` and `PartialEq` impls call into the runtime. No
/// per-field generic code: see runtime/src/wire/record.rs for why.
fn record_tokens(s: &StructDef, cx: &Cx) -> TokenStream {
    let name = ident(&s.name);
    let name_lit = lit(&s.name);
    let option = &cx.option;
    let wires = s.fields.iter().map(|f| lit(&f.wire));
    let arms = |mutable: bool| -> TokenStream {
        if s.fields.is_empty() {
            return quote! {
                let _ = index;
                None
            };
        }
        let arms = s.fields.iter().enumerate().map(|(i, f)| {
            let i = Literal::usize_unsuffixed(i);
            let rust = ident(&f.rust);
            match (f.int64, mutable) {
                (true, false) => quote!(#i => gapi::wire::int64_field(&self.#rust),),
                (true, true) => quote!(#i => gapi::wire::int64_field_mut(&mut self.#rust),),
                (false, false) => quote!(#i => &self.#rust,),
                (false, true) => quote!(#i => &mut self.#rust,),
            }
        });
        quote! {
            Some(match index {
                #(#arms)*
                _ => return None,
            })
        }
    };
    let get = arms(false);
    let get_mut = arms(true);
    quote! {
        impl gapi::wire::Record for #name {
            const NAME: &'static str = #name_lit;
            const FIELDS: &'static [&'static str] = &[#(#wires),*];
            #[inline]
            fn field(&self, index: usize) -> #option<&dyn gapi::wire::Field> {
                #get
            }
            #[inline]
            fn field_mut(&mut self, index: usize) -> #option<&mut dyn gapi::wire::Field> {
                #get_mut
            }
        }
        gapi::record!(#name);
    }
}

fn enum_tokens(e: &EnumDef) -> TokenStream {
    let name = ident(&e.name);
    let doc = doc_attrs(e.doc.as_deref());
    let variants = e.variants.iter().map(|v| {
        let extra: Vec<String> = if v.deprecated {
            vec!["Deprecated.".to_string()]
        } else {
            Vec::new()
        };
        let doc = doc_with_extra(v.doc.as_deref(), &extra);
        let rust = ident(&v.rust);
        let wire = lit(&v.wire);
        quote! { #doc #rust = #wire, }
    });
    // Emitted as a plain enum with string "discriminants" (valid syntax) so
    // prettyplease formats it; `format` then wraps it in `gapi::open_enum!`.
    quote! {
        #[gapi_open_enum]
        #doc
        pub enum #name {
            #(#variants)*
        }
    }
}

/// Accessor methods of a resource struct (or the service struct).
fn resource_accessors(r: &Resource, cx: &Cx) -> TokenStream {
    let subs = r.resources.iter().map(|sub| {
        let module = ident(&sub.module);
        let accessor = ident(&sub.accessor);
        let st = ident(&sub.struct_name);
        let doc = doc_attrs(Some(&format!("The `{}` resource.", sub.wire)));
        let deprecated = if sub.deprecated {
            quote!(#[deprecated])
        } else {
            TokenStream::new()
        };
        quote! {
            #doc
            #deprecated
            #[inline]
            pub fn #accessor(&self) -> #module::#st {
                #module::#st { svc: self.svc.clone() }
            }
        }
    });
    let methods = r.methods.iter().map(|m| method_accessor(m, cx));
    quote! { #(#subs)* #(#methods)* }
}

fn arg_type(p: &Param, cx: &Cx) -> TokenStream {
    let t = match p.ty {
        Ty::String if !p.repeated => {
            let (into, string) = (&cx.into, &cx.string);
            return quote!(impl #into<#string>);
        }
        _ => ty_tokens(&p.ty, cx),
    };
    if p.repeated {
        let vec = &cx.vec;
        quote!(#vec<#t>)
    } else {
        t
    }
}

fn method_accessor(m: &Method, cx: &Cx) -> TokenStream {
    let accessor = ident(&m.accessor);
    let call_struct = ident(&m.call_struct);
    let static_name = ident(&m.static_name);
    let mut params = Vec::new();
    let mut sets = Vec::new();
    for a in &m.args {
        let name = ident(&a.rust);
        let ty = arg_type(a, cx);
        params.push(quote!(#name: #ty));
        let wire = lit(&a.wire);
        let value = if a.ty == Ty::String && !a.repeated {
            quote!(#name.into())
        } else {
            quote!(#name)
        };
        sets.push(match (a.location, a.repeated) {
            (Location::Path, _) => quote!(call.path_param(#wire, #value);),
            (Location::Query, false) => quote!(call.query(#wire, #value);),
            (Location::Query, true) => quote! {
                for v in #value { call.query_append(#wire, v); }
            },
        });
    }
    if let Some((name, ty)) = &m.request {
        let name = ident(name);
        let ty = ty_tokens(ty, cx);
        params.push(quote!(#name: #ty));
        sets.push(quote!(call.body(&#name);));
    }
    if let Some(v) = &m.api_version {
        let v = lit(v);
        sets.push(quote!(call.header("X-Goog-Api-Version", #v);));
    }
    let mut extra = vec![format!(
        "`{}` — `{} {}`",
        m.id,
        http_str(m.http_method),
        m.path
    )];
    let arg_docs: Vec<String> = m
        .args
        .iter()
        .map(|a| {
            let d = a.doc.as_deref().unwrap_or("").replace('\n', " ");
            format!("- `{}`: {}", crate::resolve::names::unraw(&a.rust), d)
        })
        .collect();
    if !arg_docs.is_empty() {
        extra.push(format!("Arguments:\n\n{}", arg_docs.join("\n")));
    }
    if m.deprecated {
        extra.push("Deprecated.".to_string());
    }
    let doc = doc_with_extra(m.doc.as_deref(), &extra);
    let deprecated = if m.deprecated {
        quote!(#[deprecated])
    } else {
        TokenStream::new()
    };
    let mutability = if sets.is_empty() {
        TokenStream::new()
    } else {
        quote!(mut)
    };
    quote! {
        #doc
        #deprecated
        #[inline]
        pub fn #accessor(&self, #(#params),*) -> #call_struct {
            let #mutability call = gapi::Call::new(&self.svc, &#static_name);
            #(#sets)*
            #call_struct { call }
        }
    }
}

fn http_str(m: HttpMethod) -> &'static str {
    match m {
        HttpMethod::Get => "GET",
        HttpMethod::Post => "POST",
        HttpMethod::Put => "PUT",
        HttpMethod::Patch => "PATCH",
        HttpMethod::Delete => "DELETE",
        HttpMethod::Head => "HEAD",
    }
}

/// Statics, call builders, enums and sub-modules of a resource module.
fn resource_items(r: &Resource, cx: &Cx, service_type: &str) -> TokenStream {
    let methods = r.methods.iter().map(|m| method_items(m, cx));
    let enums = r.enums.iter().map(enum_tokens);
    let subs = r
        .resources
        .iter()
        .map(|sub| resource_module(sub, service_type));
    quote! { #(#methods)* #(#enums)* #(#subs)* }
}

fn resource_module(r: &Resource, service_type: &str) -> TokenStream {
    let names = module_type_names(r, service_type);
    let cx = Cx::new(Some(r.depth), names.iter().map(String::as_str));
    let module = ident(&r.module);
    let st = ident(&r.struct_name);
    let mod_doc = doc_attrs(Some(&format!("The `{}` resource.", r.wire)));
    let struct_doc = doc_attrs(Some(&format!("Methods of the `{}` resource.", r.wire)));
    let accessors = resource_accessors(r, &cx);
    let items = resource_items(r, &cx, service_type);
    quote! {
        #mod_doc
        pub mod #module {
            #struct_doc
            #[derive(Clone, Debug)]
            pub struct #st {
                pub(crate) svc: gapi::Service,
            }
            impl #st {
                #accessors
            }
            #items
        }
    }
}

fn method_items(m: &Method, cx: &Cx) -> TokenStream {
    let static_name = ident(&m.static_name);
    let call_struct = ident(&m.call_struct);
    let id = lit(&m.id);
    let path = lit(&m.path);
    let http = format_ident!(
        "{}",
        match m.http_method {
            HttpMethod::Get => "Get",
            HttpMethod::Post => "Post",
            HttpMethod::Put => "Put",
            HttpMethod::Patch => "Patch",
            HttpMethod::Delete => "Delete",
            HttpMethod::Head => "Head",
        }
    );
    let scopes = m.scopes.iter().map(|s| lit(s));
    let mut fields = Vec::new();
    if !m.scopes.is_empty() {
        fields.push(quote!(scopes: &[#(#scopes),*],));
    }
    if let Some(mu) = &m.media_upload {
        let accept = mu.accept.iter().map(|a| lit(a));
        let max_size = match mu.max_size {
            Some(n) => {
                let n = Literal::u64_unsuffixed(n);
                quote!(Some(#n))
            }
            None => quote!(None),
        };
        let opt = |p: &Option<String>| match p {
            Some(p) => {
                let p = lit(p);
                quote!(Some(#p))
            }
            None => quote!(None),
        };
        let simple = opt(&mu.simple_path);
        let resumable = opt(&mu.resumable_path);
        fields.push(quote! {
            media_upload: Some(&gapi::MediaUploadInfo {
                accept: &[#(#accept),*],
                max_size: #max_size,
                simple_path: #simple,
                resumable_path: #resumable,
            }),
        });
    }
    if m.download {
        fields.push(quote!(supports_media_download: true,));
    }
    if m.data_wrapper {
        fields.push(quote!(data_wrapper: true,));
    }
    if let Some(p) = &m.pagination {
        let token = lit(&p.request_token);
        let loc = match p.location {
            TokenLocation::Query => quote!(gapi::TokenLocation::Query),
            TokenLocation::Body => quote!(gapi::TokenLocation::Body),
        };
        fields.push(quote! {
            pagination: Some(gapi::PaginationInfo {
                token_param: #token,
                location: #loc,
            }),
        });
    }

    let response = match &m.response {
        Some(t) => ty_tokens(t, cx),
        None => quote!(()),
    };
    let send = if m.response.is_some() {
        quote!(self.call.send())
    } else {
        quote!(self.call.send_empty())
    };
    let setters = m.setters.iter().map(|p| setter(p, cx));
    let paging = m.pagination.as_ref().map(|p| {
        let items = if p.items {
            quote! {
                /// Every item of every page, as a stream.
                #[inline]
                pub fn items(self) -> gapi::Items<#response> {
                    self.call.items()
                }
            }
        } else {
            TokenStream::new()
        };
        quote! {
            /// Every page, as a stream (follows the page token).
            #[inline]
            pub fn pages(self) -> gapi::Pages<#response> {
                self.call.pages()
            }
            #items
        }
    });
    let upload = m.media_upload.as_ref().map(|_| {
        quote! {
            /// Sends the request with `media` uploaded (the request body, if any, as metadata).
            #[inline]
            pub fn upload(self, media: gapi::Media) -> impl ::std::future::Future<Output = gapi::Result<#response>> {
                self.call.upload(media)
            }
        }
    });
    let download = if m.download {
        quote! {
            /// Downloads the media (`alt=media`) instead of the JSON response.
            #[inline]
            pub fn download(self) -> impl ::std::future::Future<Output = gapi::Result<gapi::Download>> {
                self.call.download()
            }
        }
    } else {
        TokenStream::new()
    };
    let call_doc = doc_attrs(Some(&format!(
        "Builder for `{}`: set optional parameters, then call `send()`.",
        m.id
    )));
    quote! {
        static #static_name: gapi::MethodInfo = gapi::MethodInfo {
            id: #id,
            http_method: gapi::HttpMethod::#http,
            path: #path,
            #(#fields)*
            ..gapi::MethodInfo::DEFAULT
        };
        #call_doc
        #[derive(Clone, Debug)]
        pub struct #call_struct {
            call: gapi::Call,
        }
        impl gapi::CallBuilder for #call_struct {
            type Response = #response;
            #[inline]
            fn call_mut(&mut self) -> &mut gapi::Call {
                &mut self.call
            }
            #[inline]
            fn into_call(self) -> gapi::Call {
                self.call
            }
        }
        impl #call_struct {
            #(#setters)*
            /// Sends the request.
            #[inline]
            pub fn send(self) -> impl ::std::future::Future<Output = gapi::Result<#response>> {
                #send
            }
            #paging
            #upload
            #download
        }
    }
}

fn setter(p: &Param, cx: &Cx) -> TokenStream {
    let name = ident(&p.rust);
    let wire = lit(&p.wire);
    let (ty, value) = match p.ty {
        Ty::String | Ty::DateTime | Ty::Date | Ty::Duration | Ty::FieldMask | Ty::Local(_) => {
            let t = ty_tokens(&p.ty, cx);
            let into = &cx.into;
            (quote!(impl #into<#t>), quote!(value.into()))
        }
        _ => (ty_tokens(&p.ty, cx), quote!(value)),
    };
    let set = if p.repeated {
        quote!(self.call.query_append(#wire, #value);)
    } else if p.location == Location::Path {
        quote!(self.call.path_param(#wire, #value);)
    } else {
        quote!(self.call.query(#wire, #value);)
    };
    let mut extra = Vec::new();
    if p.repeated {
        extra.push("Repeated: each call adds a value.".to_string());
    }
    if p.deprecated {
        extra.push("Deprecated.".to_string());
    }
    let doc = doc_with_extra(p.doc.as_deref().or(Some(&format!("`{}`", p.wire))), &extra);
    quote! {
        #doc
        #[inline]
        pub fn #name(mut self, value: #ty) -> Self {
            #set
            self
        }
    }
}

/// Formats an emitted module into source text.
pub fn format(emitted: Emitted) -> Result<String, syn::Error> {
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
            out.push_str("gapi::open_enum! {\n");
            close = Some(format!("{indent}}}"));
            continue;
        }
        out.push_str(line);
    }
    out
}
