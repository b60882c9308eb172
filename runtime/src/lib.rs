//! # gapi — the runtime of gapi's generated Google API clients
//!
//! Every generated client (`gapi-tasks-v1`, `gapi-drive-v3`, ...) is a thin layer
//! of typed builders over this crate. It holds:
//!
//! - the HTTP core: [`Client`] (transport, credentials, retries), [`Service`]
//!   (one API's endpoint) and [`Call`] (one request being built and sent);
//! - one error type, [`Error`], with predicates;
//! - the wire helpers generated types use ([`wire`], [`types`]);
//! - the OAuth 2.0 side in [`auth`]: Credentials, Flow and Storage.
#![warn(missing_docs)]

pub mod auth;
pub mod clock;
mod error;
mod transport;

pub use auth::Credentials;
pub use error::{ApiError, AuthError, Error, ErrorKind, ErrorReason, Result};

/// The user agent sent with every request.
pub const USER_AGENT: &str = concat!("gapi/", env!("CARGO_PKG_VERSION"));

/// Re-exported for generated code: `#[serde(crate = "gapi::serde")]`.
pub use serde;
/// Re-exported for generated code.
pub use serde_json;
