//! Tokens of resource modules: accessors, method statics, call builders
//! and their setters.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::types::enum_tokens;
use super::{Cx, doc_attrs, doc_with_extra, ident, lit, module_type_names, ty_tokens};
use crate::resolve::ir::*;

/// Accessor methods of a resource struct (or the service struct).
pub(super) fn resource_accessors(r: &Resource, cx: &Cx) -> TokenStream {
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
            let #mutability call = ::gapi::Call::new(&self.svc, &#static_name);
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
pub(super) fn resource_items(r: &Resource, cx: &Cx, service_type: &str) -> TokenStream {
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
                pub(crate) svc: ::gapi::Service,
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
                pub fn items(self) -> ::gapi::Items<#response> {
                    self.call.items()
                }
            }
        } else {
            TokenStream::new()
        };
        quote! {
            /// Every page, as a stream (follows the page token).
            #[inline]
            pub fn pages(self) -> ::gapi::Pages<#response> {
                self.call.pages()
            }
            #items
        }
    });
    let upload = m.media_upload.as_ref().map(|_| {
        quote! {
            /// Sends the request with `media` uploaded (the request body, if any, as metadata).
            #[inline]
            pub fn upload(self, media: ::gapi::Media) -> impl ::std::future::Future<Output = ::gapi::Result<#response>> {
                self.call.upload(media)
            }
        }
    });
    let download = if m.download {
        quote! {
            /// Downloads the media (`alt=media`) instead of the JSON response.
            #[inline]
            pub fn download(self) -> impl ::std::future::Future<Output = ::gapi::Result<::gapi::Download>> {
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
        static #static_name: ::gapi::MethodInfo = ::gapi::MethodInfo {
            id: #id,
            http_method: ::gapi::HttpMethod::#http,
            path: #path,
            #(#fields)*
            ..::gapi::MethodInfo::DEFAULT
        };
        #call_doc
        #[derive(Clone, Debug)]
        pub struct #call_struct {
            call: ::gapi::Call,
        }
        impl ::gapi::CallBuilder for #call_struct {
            type Response = #response;
            #[inline]
            fn call_mut(&mut self) -> &mut ::gapi::Call {
                &mut self.call
            }
            #[inline]
            fn into_call(self) -> ::gapi::Call {
                self.call
            }
        }
        impl #call_struct {
            #(#setters)*
            /// Sends the request.
            #[inline]
            pub fn send(self) -> impl ::std::future::Future<Output = ::gapi::Result<#response>> {
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
