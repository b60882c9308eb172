//! Formatting: the tokens through `syn` and `prettyplease`, then one text
//! pass over prettyplease's output that puts the doc texts of the [`Out`]
//! side channel back in place of their placeholders and wraps every
//! `#[gapi_open_enum]` enum in `gapi::open_enum! { … }`.
//!
//! Both rewrites are keyed on indentation, which prettyplease makes
//! regular: a placeholder is the line `///@gapi-doc:N` (prettyplease
//! writes a `#[doc = "…"]` attribute as a `///` line) and becomes the
//! doc's lines at the same indentation; an enum marked for `open_enum!`
//! ends at the first line that is its own indentation followed by `}`.
//! Doing this as text keeps docs out of the token stream (see
//! [`super`]) and lets prettyplease format enum bodies it would leave
//! alone inside a macro invocation.
//!
//! [`Out`]: super::Out

use proc_macro2::Span;

use super::{DOC_MARKER, Emitted};

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
