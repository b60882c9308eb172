//! Tokens of parameter setters and arguments: one shape for every
//! parameter, required or optional.
//!
//! - a single value: `impl Into<T>` for strings, times, durations, field
//!   masks and enums, `T` for numbers and booleans;
//! - a repeated parameter: `impl IntoIterator<Item: Into<T>>` (a `Vec`, an
//!   array, an iterator, an `Option`), as an argument or a setter, each
//!   value one `name=value` pair; a setter also has `add_<setter>(value)`
//!   for one value at a time.

use proc_macro2::TokenStream;
use quote::quote;

use super::{Cx, DocText, deprecated_attr, lit, ty_tokens};
use crate::resolve::ir::*;

/// The type of one value of `p` as a function takes it, and whether it
/// goes through `.into()`.
fn value_type(p: &Param, cx: &Cx) -> (TokenStream, bool) {
    let t = ty_tokens(&p.ty, cx);
    match p.ty {
        Ty::String | Ty::DateTime | Ty::Date | Ty::Duration | Ty::FieldMask | Ty::Local(_) => {
            let into = &cx.into;
            (quote!(impl #into<#t>), true)
        }
        _ => (t, false),
    }
}

/// The argument type of `p` (a repeated one: any iterator of values).
pub(super) fn arg_type(p: &Param, cx: &Cx) -> TokenStream {
    if p.repeated {
        let t = ty_tokens(&p.ty, cx);
        let into = &cx.into;
        quote!(impl ::core::iter::IntoIterator<Item: #into<#t>>)
    } else {
        value_type(p, cx).0
    }
}

/// The statements that put argument `name` of parameter `p` into `call`
/// (a `&mut gapi::Call`: `call` in an accessor, `self.call` in a setter).
pub(super) fn put(p: &Param, name: &TokenStream, call: &TokenStream, cx: &Cx) -> TokenStream {
    let wire = lit(&p.wire);
    if p.repeated {
        return quote! {
            for v in #name { #call.query_append(#wire, v.into()); }
        };
    }
    let value = if value_type(p, cx).1 {
        quote!(#name.into())
    } else {
        quote!(#name)
    };
    match p.location {
        Location::Path => quote!(#call.path_param(#wire, #value);),
        Location::Query => quote!(#call.query(#wire, #value);),
    }
}

/// A paragraph naming the enum type of a parameter, as an intra-doc link.
pub(super) fn enum_link(p: &Param, cx: &Cx) -> Option<String> {
    match &p.ty {
        Ty::Local(name) => {
            let target = cx.param_link(name);
            let label = format!("params::{name}");
            // A target the label already names is redundant (a rustdoc lint).
            Some(if target == label {
                format!("Values: [`{label}`].")
            } else {
                format!("Values: [`{label}`]({target}).")
            })
        }
        _ => None,
    }
}

/// A setter of `p` (and the single-value form of a repeated one).
pub(super) fn setter(p: &Param, cx: &Cx) -> TokenStream {
    let name = cx.ident(&p.rust);
    let call = quote!(self.call);
    let mut text = DocText::new(Some(p.doc.as_deref().unwrap_or("")));
    if text.lines.is_empty() {
        text = text.para(&format!("`{}`", p.wire));
    }
    if let Some(link) = enum_link(p, cx) {
        text = text.raw(link);
    }
    let deprecated = deprecated_attr(p.deprecated, p.doc.as_deref());
    let (arg, add) = if p.repeated {
        let add = p.add.as_ref().map(|add| {
            let add = cx.ident(add);
            let (ty, into) = value_type(p, cx);
            // Repeated parameters are query parameters: one more pair.
            let wire = lit(&p.wire);
            let value = if into {
                quote!(value.into())
            } else {
                quote!(value)
            };
            let doc = cx.doc_text(DocText::new(None).raw(format!(
                "Adds one value of [`{}`](Self::{}).",
                crate::resolve::names::unraw(&p.rust),
                p.rust
            )));
            quote! {
                #doc
                #deprecated
                #[inline]
                pub fn #add(mut self, value: #ty) -> Self {
                    self.call.query_append(#wire, #value);
                    self
                }
            }
        });
        if let Some(a) = &p.add {
            text = text.raw(format!(
                "Repeated: takes any number of values (a `Vec`, an array, an iterator); \
                 [`{a}`](Self::{a}) adds one."
            ));
        }
        (quote!(values), add)
    } else {
        (quote!(value), None)
    };
    let doc = cx.doc_text(text);
    let ty = arg_type(p, cx);
    let set = put(p, &arg, &call, cx);
    quote! {
        #doc
        #deprecated
        #[inline]
        pub fn #name(mut self, #arg: #ty) -> Self {
            #set
            self
        }
        #add
    }
}

/// The standard parameters' setters, for every method of the module:
/// `impl<M: gapi::MethodSpec> Call<M> { … }` (nothing without any).
pub(super) fn standard_impl(standard: &[Param], cx: &Cx) -> TokenStream {
    if standard.is_empty() {
        return TokenStream::new();
    }
    let setters = standard.iter().map(|p| setter(p, cx));
    let call = cx.call_path();
    quote! {
        impl<M: ::gapi::MethodSpec> #call<M> {
            #(#setters)*
        }
    }
}
