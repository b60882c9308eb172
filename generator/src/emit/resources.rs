//! Tokens of resource modules: accessors, and per method a `MethodInfo`
//! static, a marker type (`gapi::MethodSpec`, plus `UploadSpec` /
//! `DownloadSpec`), the builder alias `<Method>Call = Call<marker>` and
//! the method's own setters as an inherent impl of that instantiation.
//! Everything the methods share — `send`, `pages`, `items`, media, the
//! `with_*` options — is `gapi::method_builder!`'s, written once.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::setters::{arg_type, enum_link, put, setter};
use super::{Cx, DocText, deprecated_attr, lit, module_type_names, ty_tokens};
use crate::resolve::ir::*;
use crate::resolve::names::unraw;

/// Accessor methods of a resource struct (or the service struct, where a
/// top-level resource's accessor has its feature's `cfg`, if any).
pub(super) fn resource_accessors(r: &Resource, cx: &Cx) -> TokenStream {
    let subs = r.resources.iter().enumerate().map(|(i, sub)| {
        let module = cx.ident(&sub.module);
        let accessor = cx.ident(&sub.accessor);
        let st = cx.ident(&sub.struct_name);
        let doc = cx.doc(Some(&format!("The `{}` resource.", sub.wire)));
        let deprecated = deprecated_attr(sub.deprecated, None);
        let cfg = cx.gate(|f| f.resource(i));
        quote! {
            #doc
            #cfg
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

fn method_accessor(m: &Method, cx: &Cx) -> TokenStream {
    let accessor = cx.ident(&m.accessor);
    let call_struct = cx.ident(&m.call_struct);
    let static_name = cx.ident(&m.static_name);
    let call = quote!(call);
    let mut params = Vec::new();
    let mut sets = Vec::new();
    for a in &m.args {
        let name = cx.ident(&a.rust);
        let ty = arg_type(a, cx);
        params.push(quote!(#name: #ty));
        sets.push(put(a, &quote!(#name), &call, cx));
    }
    // A media upload's metadata is optional: `None` uploads the media alone.
    let optional_body = m.media_upload.is_some();
    if let Some((name, ty)) = &m.request {
        let name = cx.ident(name);
        let ty = ty_tokens(ty, cx);
        if optional_body {
            let (into, option) = (&cx.into, &cx.option);
            params.push(quote!(#name: impl #into<#option<#ty>>));
            sets.push(quote! {
                if let Some(body) = #name.into() { call.body(&body); }
            });
        } else {
            params.push(quote!(#name: #ty));
            sets.push(quote!(call.body(&#name);));
        }
    }
    if let Some(v) = &m.api_version {
        let v = lit(v);
        sets.push(quote!(call.header("X-Goog-Api-Version", #v);));
    }
    let mut text = DocText::new(m.doc.as_deref()).para(&format!(
        "`{}` — `{} {}`",
        m.id,
        http_str(m.http_method),
        m.path
    ));
    let mut arg_docs: Vec<String> = m
        .args
        .iter()
        .map(|a| {
            let d = a.doc.as_deref().unwrap_or("").replace('\n', " ");
            let repeated = if a.repeated {
                " (any number of values)"
            } else {
                ""
            };
            format!("- `{}`{repeated}: {}", unraw(&a.rust), d)
        })
        .collect();
    if let (Some((name, _)), true) = (&m.request, optional_body) {
        arg_docs.push(format!(
            "- `{}`: the metadata of the media, or `None` to upload the media alone.",
            unraw(name)
        ));
    }
    if !arg_docs.is_empty() {
        text = text.para(&format!("Arguments:\n\n{}", arg_docs.join("\n")));
    }
    for link in m.args.iter().filter_map(|a| enum_link(a, cx)) {
        text = text.raw(link);
    }
    let doc = cx.doc_text(text);
    let deprecated = deprecated_attr(m.deprecated, m.doc.as_deref());
    let mutability = if sets.is_empty() {
        TokenStream::new()
    } else {
        quote!(mut)
    };
    let builder = cx.call_path();
    quote! {
        #doc
        #deprecated
        #[inline]
        pub fn #accessor(&self, #(#params),*) -> #call_struct {
            let #mutability call = ::gapi::Call::new(&self.svc, &#static_name);
            #(#sets)*
            #builder::from_call(call)
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

/// Statics, markers, builders and sub-modules of a resource module (at the
/// root, a top-level resource's module has its feature's `cfg`, if any).
pub(super) fn resource_items(r: &Resource, cx: &Cx, service_type: &str) -> TokenStream {
    let methods = r.methods.iter().map(|m| method_items(m, cx));
    let subs = r.resources.iter().enumerate().map(|(i, sub)| {
        let cfg = cx.gate(|f| f.resource(i));
        resource_module(sub, cx, service_type, &cfg)
    });
    quote! { #(#methods)* #(#subs)* }
}

fn resource_module(
    r: &Resource,
    parent: &Cx,
    service_type: &str,
    cfg: &TokenStream,
) -> TokenStream {
    let names = module_type_names(r, service_type);
    let cx = Cx::new(parent.out, Some(r.depth), names.iter().map(String::as_str));
    let module = cx.ident(&r.module);
    let st = cx.ident(&r.struct_name);
    let mod_doc = cx.doc(Some(&format!("The `{}` resource.", r.wire)));
    let struct_doc = cx.doc(Some(&format!("Methods of the `{}` resource.", r.wire)));
    let accessors = resource_accessors(r, &cx);
    let items = resource_items(r, &cx, service_type);
    quote! {
        #mod_doc
        #cfg
        pub mod #module {
            #struct_doc
            #[derive(Clone, Debug)]
            pub struct #st {
                pub(crate) svc: ::gapi::Service,
            }
            impl #st {
                #accessors
            }
            #items
        }
    }
}

/// The fields of a method's `MethodInfo` besides id, verb and path.
fn info_fields(m: &Method) -> Vec<TokenStream> {
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
            media_upload: Some(&::gapi::MediaUploadInfo {
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
            TokenLocation::Query => quote!(::gapi::TokenLocation::Query),
            TokenLocation::Body => quote!(::gapi::TokenLocation::Body),
        };
        fields.push(quote! {
            pagination: Some(::gapi::PaginationInfo {
                token_param: #token,
                location: #loc,
            }),
        });
    }
    fields
}

fn method_items(m: &Method, cx: &Cx) -> TokenStream {
    let static_name = cx.ident(&m.static_name);
    let call_struct = cx.ident(&m.call_struct);
    let marker = cx.ident(&m.marker);
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
    let fields = info_fields(m);
    let response = match &m.response {
        Some(t) => ty_tokens(t, cx),
        None => quote!(()),
    };
    let upload = m.media_upload.as_ref().map(|_| {
        quote! { impl ::gapi::UploadSpec for #marker {} }
    });
    let download = m.download.then(|| {
        quote! { impl ::gapi::DownloadSpec for #marker {} }
    });
    let call = cx.call_path();
    let setters = if m.setters.is_empty() {
        TokenStream::new()
    } else {
        let setters = m.setters.iter().map(|p| setter(p, cx));
        quote! {
            impl #call<#marker> {
                #(#setters)*
            }
        }
    };
    let marker_doc = cx.doc_text(DocText::new(None).raw(format!(
        "The `{}` method, as a type: its builder is [`{}`].",
        crate::emit::docs::one_line(&m.id).replace('`', "'"),
        unraw(&m.call_struct)
    )));
    let mut finish = vec!["`send()`"];
    if m.pagination.is_some() {
        finish.push("`pages()`");
        if m.pagination.as_ref().is_some_and(|p| p.items) {
            finish.push("`items()`");
        }
    }
    if m.media_upload.is_some() {
        finish.push("`upload(media)` (or `upload_with`, `upload_resumable`)");
    }
    if m.download {
        finish.push("`download()`");
    }
    let call_doc = cx.doc_text(DocText::new(None).para(&format!(
        "Builder for `{}`: set optional parameters, then call {}.",
        m.id,
        finish.join(", ")
    )));
    quote! {
        static #static_name: ::gapi::MethodInfo = ::gapi::MethodInfo {
            id: #id,
            http_method: ::gapi::HttpMethod::#http,
            path: #path,
            #(#fields)*
            ..::gapi::MethodInfo::DEFAULT
        };
        #marker_doc
        pub struct #marker;
        impl ::gapi::MethodSpec for #marker {
            type Response = #response;
            const METHOD: &'static ::gapi::MethodInfo = &#static_name;
        }
        #upload
        #download
        #call_doc
        pub type #call_struct = #call<#marker>;
        #setters
    }
}
