//! gapi-gen's golden outputs (`*.rs` beside this file, written by
//! `GAPI_BLESS=1 cargo test -p gapi-gen --test golden`), compiled as modules
//! the way a `build.rs` user includes them. `tests/` round-trips real-shaped
//! JSON through the generated types.
#![allow(
    clippy::too_many_arguments,
    clippy::large_enum_variant,
    clippy::module_inception,
    clippy::should_implement_trait,
    clippy::wrong_self_convention,
    clippy::enum_variant_names,
    clippy::doc_lazy_continuation,
    clippy::doc_overindented_list_items,
    clippy::too_long_first_doc_paragraph,
    clippy::empty_docs,
    clippy::tabs_in_doc_comments,
    rustdoc::bare_urls,
    rustdoc::broken_intra_doc_links,
    rustdoc::invalid_html_tags,
    rustdoc::invalid_rust_codeblocks
)]

/// Google Tasks API v1 (`discovery-docs/tasks.v1.json`).
pub mod tasks_v1 {
    include!("tasks_v1.rs");
}
/// google-api-python-client's `zoo.json` test document.
pub mod zoo {
    include!("zoo.rs");
}
/// Naming hard cases (`tests/docs/names.json`).
pub mod names {
    include!("names.rs");
}
/// Enum hard cases (`tests/docs/enums.json`).
pub mod enums {
    include!("enums.rs");
}
/// Type hard cases (`tests/docs/types.json`).
pub mod types {
    include!("types.rs");
}
/// Pagination, media, bodies and docs (`tests/docs/methods.json`).
pub mod methods {
    include!("methods.rs");
}
/// Names and texts no real document has: digit-led and empty names, the
/// runtime's and std's names, keywords, bidi and control characters
/// (`tests/docs/hostile.json`).
pub mod hostile {
    include!("hostile.rs");
}
