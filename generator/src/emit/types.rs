//! Tokens of the `schemas` and `params` modules' types: structs with their
//! wire (`Record`) and pagination impls, open enums, aliases.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::{Cx, DocText, deprecated_attr, lit, ty_tokens};
use crate::resolve::ir::*;

/// What a type of the `schemas` module is, for the field adapters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Struct,
    Enum,
    Other,
}

/// The kind of every type, aliases (of aliases) followed to what they name.
pub(super) fn kinds(types: &[TypeDef]) -> std::collections::HashMap<String, Kind> {
    let by_name: std::collections::HashMap<&str, &TypeDef> =
        types.iter().map(|t| (t.name(), t)).collect();
    let kind_of = |start: &TypeDef| {
        let mut t = start;
        // An alias chain is at most as long as the number of types; the
        // resolver refuses alias cycles, and the bound keeps this total.
        for _ in 0..=types.len() {
            match t {
                TypeDef::Struct(_) => return Kind::Struct,
                TypeDef::Enum(_) => return Kind::Enum,
                TypeDef::Alias(a) => match &a.ty {
                    Ty::Schema(n) | Ty::Local(n) => match by_name.get(n.as_str()) {
                        Some(next) => t = next,
                        None => return Kind::Other,
                    },
                    _ => return Kind::Other,
                },
            }
        }
        Kind::Other
    };
    types
        .iter()
        .map(|t| (t.name().to_owned(), kind_of(t)))
        .collect()
}

/// The runtime adapter a field is handed out through (`None`: as it is).
fn adapter(f: &Field, cx: &Cx) -> Option<&'static str> {
    let kind = |ty: &Ty| match ty {
        Ty::Schema(n) | Ty::Local(n) => cx.kinds.get(n).copied().unwrap_or(Kind::Other),
        _ => Kind::Other,
    };
    if f.int64 {
        return Some("int64_field");
    }
    match (&f.ty, f.boxed) {
        (ty, true) if kind(ty) == Kind::Struct => Some("boxed_field"),
        (_, true) => None,
        (Ty::Vec(item), false) if kind(item) == Kind::Struct => Some("records_field"),
        (ty, false) => match kind(ty) {
            Kind::Struct => Some("record_field"),
            Kind::Enum => Some("enum_field"),
            Kind::Other => None,
        },
    }
}

/// The tokens of one type of the `schemas` (or `params`) module; `cfg`
/// (its resource features' `#[cfg]`, or nothing) goes on every item
/// emitted for it.
pub(super) fn type_tokens(t: &TypeDef, cx: &Cx, cfg: &TokenStream) -> TokenStream {
    match t {
        TypeDef::Struct(s) => struct_tokens(s, cx, cfg),
        TypeDef::Enum(e) => enum_tokens(e, cx, cfg),
        TypeDef::Alias(a) => {
            let name = cx.ident(&a.name);
            let doc = cx.doc(a.doc.as_deref());
            let ty = ty_tokens(&a.ty, cx);
            quote! { #doc #cfg pub type #name = #ty; }
        }
    }
}

fn struct_tokens(s: &StructDef, cx: &Cx, cfg: &TokenStream) -> TokenStream {
    let name = cx.ident(&s.name);
    let doc = cx.doc(s.doc.as_deref());
    // Generated impls read every field, deprecated ones too.
    let allow = if s.fields.iter().any(|f| f.deprecated) {
        quote!(#[allow(deprecated)])
    } else {
        TokenStream::new()
    };
    let fields = s.fields.iter().map(|f| {
        let rust = cx.ident(&f.rust);
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
        let mut text = DocText::new(f.doc.as_deref());
        for e in &extra {
            text = text.para(e);
        }
        let doc = cx.doc_text(text);
        let deprecated = deprecated_attr(f.deprecated, f.doc.as_deref());
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
            #deprecated
            pub #rust: #option<#inner>,
        }
    });
    let page = s.page.as_ref().map(|p| {
        let token = cx.ident(&p.token_field);
        let items = p.items.as_ref().map(|(field, item)| {
            let field = cx.ident(field);
            let item = ty_tokens(item, cx);
            let vec = &cx.vec;
            quote! {
                #cfg
                #allow
                impl ::gapi::PageItems for #name {
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
            #cfg
            #allow
            impl ::gapi::Page for #name {
                #[inline]
                fn next_page_token(&self) -> #option<&str> {
                    self.#token.as_deref()
                }
            }
            #items
        }
    });
    let serde = record_tokens(s, cx, &allow, cfg);
    quote! {
        #doc
        #cfg
        #[derive(Clone, Default)]
        pub struct #name {
            #(#fields)*
            /// Members of the JSON object that this version of the discovery
            /// document does not describe, kept in the order they came and
            /// sent back unchanged (so a read-modify-write loses nothing).
            pub _unknown_fields: ::gapi::wire::UnknownFields,
        }
        #serde
        #page
    }
}

/// The wire impls of a struct: a `gapi::wire::Record` (wire names, and each
/// field handed out as a `&dyn gapi::wire::Field`) and `gapi::record!`,
/// whose serde, `Debug` and `PartialEq` impls call into the runtime. No
/// per-field generic code: see runtime/src/wire/record.rs for why.
fn record_tokens(s: &StructDef, cx: &Cx, allow: &TokenStream, cfg: &TokenStream) -> TokenStream {
    let name = cx.ident(&s.name);
    let name_lit = lit(&s.name);
    let option = &cx.option;
    let wires = s.fields.iter().map(|f| lit(&f.wire));
    let arms = |mutable: bool| -> TokenStream {
        let unknown_index = Literal::usize_unsuffixed(s.fields.len());
        let unknown = if mutable {
            quote!(#unknown_index => &mut self._unknown_fields,)
        } else {
            quote!(#unknown_index => &self._unknown_fields,)
        };
        let arms = s.fields.iter().enumerate().map(|(i, f)| {
            let i = Literal::usize_unsuffixed(i);
            let rust = cx.ident(&f.rust);
            match (adapter(f, cx), mutable) {
                (Some(a), false) => {
                    let a = cx.ident(a);
                    quote!(#i => ::gapi::wire::#a(&self.#rust),)
                }
                (Some(a), true) => {
                    let a = cx.ident(&format!("{a}_mut"));
                    quote!(#i => ::gapi::wire::#a(&mut self.#rust),)
                }
                (None, false) => quote!(#i => &self.#rust,),
                (None, true) => quote!(#i => &mut self.#rust,),
            }
        });
        quote! {
            Some(match index {
                #(#arms)*
                #unknown
                _ => return None,
            })
        }
    };
    let get = arms(false);
    let get_mut = arms(true);
    let wire_names: Vec<&str> = s.fields.iter().map(|f| f.wire.as_str()).collect();
    let index = super::keys::index(&wire_names).map(|table| {
        let slots = table.iter().map(|e| Literal::u16_unsuffixed(*e));
        quote!(const INDEX: &'static [u16] = &[#(#slots),*];)
    });
    quote! {
        #cfg
        #allow
        impl ::gapi::wire::Record for #name {
            const NAME: &'static str = #name_lit;
            const FIELDS: &'static [&'static str] = &[#(#wires),*];
            #index
            #[inline]
            fn field(&self, index: usize) -> #option<&dyn ::gapi::wire::Field> {
                #get
            }
            #[inline]
            fn field_mut(&mut self, index: usize) -> #option<&mut dyn ::gapi::wire::Field> {
                #get_mut
            }
        }
        #cfg
        ::gapi::record!(#name);
    }
}

/// An open enum (wrapped in `gapi::open_enum!` by [`super::format`]; a
/// `cfg` before the marker ends up on the macro invocation).
fn enum_tokens(e: &EnumDef, cx: &Cx, cfg: &TokenStream) -> TokenStream {
    let name = cx.ident(&e.name);
    let doc = cx.doc(e.doc.as_deref());
    let variants = e.variants.iter().map(|v| {
        let mut text = DocText::new(v.doc.as_deref());
        if v.deprecated {
            text = text.para("Deprecated.");
        }
        let doc = cx.doc_text(text);
        let rust = cx.ident(&v.rust);
        let wire = lit(&v.wire);
        quote! { #doc #rust = #wire, }
    });
    // Emitted as a plain enum with string "discriminants" (valid syntax) so
    // prettyplease formats it; `format` then wraps it in `gapi::open_enum!`.
    quote! {
        #cfg
        #[gapi_open_enum]
        #doc
        pub enum #name {
            #(#variants)*
        }
    }
}
