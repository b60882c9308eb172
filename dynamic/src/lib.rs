//! # gapi-dynamic — Google APIs from their discovery documents, at run time
//!
//! The generated crates turn a discovery document into typed Rust at build
//! time; this crate reads the same document at run time — the model of
//! Python's `discovery.build('tasks', 'v1')` — and sends calls through the
//! same runtime (`gapi`): the same [`gapi::Client`], credentials, retries,
//! time bounds, paging, media and batch.
//!
//! ```no_run
//! # async fn run() -> Result<(), gapi_dynamic::Error> {
//! use gapi_dynamic::{Args, Discovery, ParamValue};
//!
//! let tasks = Discovery::from_file("discovery-docs/tasks.v1.json")?;
//! let client = gapi::Client::new(gapi::Credentials::access_token("ya29…"))?;
//! let service = tasks.service(client);
//! let list = tasks.method("tasks.list")?; // or "tasks.tasks.list"
//! let args = Args::default()
//!     .param("tasklist", ParamValue::Text("@default".into()))
//!     .param("maxResults", ParamValue::Text("10".into()));
//! let call = list.call(&service, &args)?; // validated; nothing sent yet
//! let page: serde_json::Value = call.send().await?;
//! # let _ = page; Ok(()) }
//! ```
//!
//! ## The same request as the typed client
//!
//! [`MethodRef::call`] builds the runtime's [`gapi::Call`] exactly as a
//! generated builder does, so the runtime does the rest the same way (URL
//! templates with `{+var}`, body serialization, `dataWrapper`, auth). What
//! the generator decides from the document is decided here by the same
//! rules over the same parse model:
//!
//! - each parameter's type ([`kind::param_kind`], the generator's
//!   `param_ty`) converts the given text to what the Rust type's
//!   `QueryValue` writes (`010` → `10`); repeated parameters get one key per
//!   value; positional ones (`parameterOrder`) come first in the query, the
//!   rest in the order given;
//! - each body member's type ([`kind::Kind`], the generator's `ty_of`)
//!   writes the value as the Rust type serializes it: int64 as decimal
//!   strings, `double` through `f64` (`1` → `1.0`), `float` through `f32`,
//!   `byte` through [`gapi::Bytes`];
//! - pagination, media upload paths and limits, `supportsMediaDownload` and
//!   `dataWrapper` become the same [`gapi::MethodInfo`].
//!
//! `tests/against_generator.rs` compares all of it with the generator's IR
//! for every method of every document, and the CLI's tests compare the
//! bytes sent with those of the generated crates.
//!
//! ## Why leaked descriptions
//!
//! The runtime takes `&'static MethodInfo` and `&'static ServiceInfo`
//! (generated code declares them as statics, and the runtime keeps them in
//! every `Call`, `Pages` and upload session). Rather than widen the runtime
//! to owned descriptions — a change through `Call`, paging, media and batch
//! for one user — a description is made once per method actually used (and
//! one per document) and leaked: a few hundred bytes each, bounded by the
//! methods a process calls, cached per [`Discovery`]. A program that loads
//! documents without end would grow; a command line or a service using a
//! fixed set of APIs does not.
//!
//! ## Validation
//!
//! Before anything is sent: unknown names get a suggestion ("did you mean"),
//! required and positional parameters must be given, values must fit their
//! type and range, enum values must be the document's, a parameter given
//! twice must be repeated, and the body must fit the request schema (JSON
//! path in the error). [`Args::lenient`] lets through enum values and body
//! members the document does not know (a document older than the API; the
//! Python client's strict checks were a complaint of its users), never a
//! wrong type.
#![warn(missing_docs)]

mod body;
mod discovery;
mod error;
pub mod fetch;
mod info;
pub mod kind;
mod method;
mod page;
pub mod suggest;

/// The serde model of the discovery format (the generator's own).
pub use gapi_gen::parse;

pub use discovery::{Discovery, Target};
pub use error::{Error, Result};
pub use method::{Args, MethodRef, ParamValue, Validated, params_from_json};
pub use page::JsonPages;
