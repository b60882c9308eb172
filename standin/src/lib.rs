//! # gapi-standin
//!
//! A local stand-in for Google's OAuth 2.0 server and the Tasks v1 API, for gapi's demo
//! and tests. It runs in-process ([`StandIn::builder`] … [`StandInBuilder::start`]) or
//! as the `gapi-standin` binary, on 127.0.0.1 with any free port.
//!
//! What it serves (paths relative to [`StandInHandle::base_url`]):
//!
//! - OAuth 2.0, shaped like Google's: `o/oauth2/v2/auth` (and `o/oauth2/auth`), which
//!   approves at once for the test user and redirects back with a code; `token`
//!   (authorization code with PKCE, refresh token with optional rotation, device code);
//!   `revoke`; `device/code` and the `device` page; `tokeninfo`.
//! - The Tasks v1 API under `tasks/v1/`, as its discovery document describes it, over
//!   in-memory data per user, with Google's error format, `fields`, `prettyPrint` and
//!   paging; and batch requests at `batch` and `batch/tasks/v1`.
//! - Test hooks under `__standin/` (see [`StandInHandle`] for the same in process):
//!   counters, token expiry and revocation, device approval, injected errors.

mod batch;
mod client_secret;
mod config;
mod errors;
mod exchange;
mod fields;
mod form;
mod hooks;
mod inject;
mod oauth;
mod random;
mod server;
mod state;
mod stats;
mod tasks;
mod timefmt;

pub use config::{
    ClientKind, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_USER, RegisteredClient,
    StandInBuilder, TASKS_READONLY_SCOPE, TASKS_SCOPE,
};
pub use hooks::IssuedToken;
pub use inject::InjectedError;
pub use server::{StandIn, StandInHandle};
pub use stats::{RequestRecord, Stats};
