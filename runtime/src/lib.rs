//! # gapi — the runtime of gapi's generated Google API clients
//!
//! Every generated client (`gapi-tasks-v1`, `gapi-drive-v3`, ...) is a thin layer
//! of typed builders over this crate. It holds:
//!
//! - the HTTP core: [`Client`] (transport, credentials, retries), [`Service`]
//!   (one API's endpoint) and [`Call`] (one request being built and sent);
//! - one error type, [`Error`], with predicates;
//! - the wire helpers generated types use ([`wire`], [`types`]);
//! - pagination ([`Pages`], [`Items`]), media (`Media`, `ResumableUpload`,
//!   `Download`; feature `media`) and batches (`Batch`; feature `batch`);
//! - the OAuth 2.0 side in [`auth`]: Credentials, Flow and Storage.
//!
//! The request path, from a generated method call to the wire:
//! `tasks.tasklists().list()` → generated builder fills a [`Call`] →
//! [`Call::send`] expands the URL (`url`), serializes the body →
//! the client's one retry loop attaches [`Authorization`](auth::Authorization),
//! sends over hyper within the [`Timeouts`] and the call's deadline,
//! retries per [`RetryPolicy`], refreshes once on 401, reads the body →
//! the body is decoded, errors become [`Error`] (redacted of every secret).
//!
//! Cargo features, for the parts a program may not use (each keeps its code
//! and dependencies out of a build that does not). On by default, the
//! server-to-server credentials that Application Default Credentials picks
//! from, so that ADC works wherever the program runs (`default-features =
//! false` leaves a program that authorizes users, or is given a key or a
//! token, without them):
//! - `service-account`: `auth::ServiceAccountCredentials` (key files,
//!   signed JWTs);
//! - `metadata`: `auth::MetadataServerCredentials` (the service account of
//!   the Google Cloud resource the program runs on);
//! - `impersonation`: `auth::ImpersonatedCredentials`;
//! - `external-account`: `auth::ExternalAccountCredentials` (workload
//!   identity federation; implies `impersonation`).
//!
//! Off by default:
//! - `media`: uploads (simple, multipart, resumable; verified by size and
//!   CRC32C) and downloads. A generated crate whose API has media methods
//!   turns it on; a client generated in `build.rs` names it in the
//!   program's own `gapi` dependency.
//! - `md5`: uploads verified by MD5 as well (implies `media`).
//! - `batch`: several calls in one `multipart/mixed` request.
//! - `id-token`: verifying Google-signed ID tokens (`auth::IdTokenVerifier`,
//!   `auth::JwksCache`).
//! - `time`: conversions of [`types::DateTime`] and [`types::Date`] to and
//!   from the `time` crate's types.
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod auth;
#[cfg(feature = "batch")]
mod batch;
mod builder;
mod call;
mod client;
pub mod clock;
mod error;
mod exec;
mod href;
#[cfg(feature = "media")]
mod media;
mod method;
mod paging;
mod random;
mod redact;
mod retry;
mod rfc3339;
mod timeouts;
mod transport;
pub mod types;
mod url;
pub mod wire;

pub use auth::Credentials;
#[cfg(feature = "batch")]
pub use batch::{Batch, BatchHandle, BatchResponses, DEFAULT_BATCH_LIMIT};
#[cfg(feature = "media")]
pub use builder::TypedResumableUpload;
pub use builder::{DownloadSpec, MethodSpec, UploadSpec};
pub use call::{Call, CallBuilder, QueryValue};
pub use client::{Client, ClientBuilder, Service};
pub use error::{ApiError, AuthError, Error, ErrorKind, ErrorReason, Result};
#[cfg(feature = "media")]
pub use media::{
    CHUNK_GRANULARITY, DEFAULT_CHUNK_SIZE, Download, Media, RESUMABLE_THRESHOLD, ResumableSession,
    ResumableUpload, UploadProgress, UploadProtocol,
};
pub use method::{
    HttpMethod, MediaUploadInfo, MethodInfo, PaginationInfo, ServiceInfo, TokenLocation,
};
pub use paging::{Items, Page, PageItems, Pages};
pub use retry::RetryPolicy;
pub use timeouts::Timeouts;
pub use wire::Bytes;

/// The user agent sent with every request.
pub const USER_AGENT: &str = concat!("gapi/", env!("CARGO_PKG_VERSION"));

/// Re-exported so users can drive [`Pages`] and [`Items`] without a direct dependency.
pub use futures_util::stream::{Stream, StreamExt, TryStreamExt};
/// Re-exported for generated code: `#[serde(crate = "gapi::serde")]`.
pub use serde;
/// Re-exported for generated code and users (`any` fields are `serde_json::Value`).
pub use serde_json;
