//! # gapi-axum
//!
//! Google OAuth 2.0 for [axum](https://docs.rs/axum) web applications, on
//! [`gapi`]: what oauth2client's `OAuth2Decorator` (`oauth_required`,
//! `oauth_aware`, the `/oauth2callback` handler, `StorageByKeyName`) did for
//! Python, as extractors.
//!
//! - [`OAuthRequired<S>`](OAuthRequired): the page needs the user's
//!   credentials with the default scopes plus those of `S` (a
//!   [`ScopeSet`]); without them, the user is sent to the consent screen
//!   and brought back to the page.
//! - [`OAuthAware<S>`](OAuthAware): the page asks
//!   [`has_credentials`](OAuthAware::has_credentials) and links to
//!   [`authorize_url`](OAuthAware::authorize_url).
//! - The user is whoever the application says, through a [`UserIdentity`]
//!   (its own login and session); their credentials live in any
//!   [`KeyedStorage`](gapi::auth::KeyedStorage) under their user id (SQLite
//!   from [`gapi_storage`] by default), refreshed and written back by
//!   [`UserTokenSource`](gapi::auth::UserTokenSource)s that all processes
//!   share through the storage's lock.
//! - Security: `state` is random, single-use, kept server-side with the PKCE
//!   verifier and bound to the user, their session, the browser (an HttpOnly
//!   `SameSite=Lax` cookie) and the return path, and verified before anything
//!   is exchanged or stored; return paths are [relative paths only](safe_return_path);
//!   incremental authorization keeps granted scopes
//!   (`include_granted_scopes=true`), and the stored credentials' scopes
//!   decide whether a page needs more consent.
//!
//! ```no_run
//! use axum::{Router, routing::get, response::Html};
//! use gapi::auth::{ClientSecrets, OAuthClient};
//! use gapi_axum::{OAuth2, OAuthRequired, User, cookie};
//!
//! gapi_axum::scope_set!(pub TasksRead = ["https://www.googleapis.com/auth/tasks.readonly"]);
//!
//! async fn tasks(google: OAuthRequired<TasksRead>) -> Html<String> {
//!     Html(format!("hello {}", google.user().id()))
//! }
//!
//! # async fn run() -> gapi::Result<()> {
//! let secrets = ClientSecrets::from_file("client_secret.json")?;
//! let oauth = OAuth2::builder(
//!     OAuthClient::from_client_secrets(&secrets),
//!     "https://app.example/oauth2callback",
//! )
//! .identity(|parts: &axum::http::request::Parts| {
//!     // The application's own session: here a (toy) cookie.
//!     cookie(parts, "user").map(User::new)
//! })
//! .storage(gapi_storage::SqliteKeyedStorage::open("credentials.sqlite")?)
//! .build()?;
//! let app: Router = Router::new()
//!     .route("/tasks", get(tasks))
//!     .merge(oauth.routes())
//!     .layer(oauth.layer());
//! # let _ = app;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod extract;
mod html;
mod identity;
mod oauth;
mod pending;
mod redirect;
mod routes;

pub use extract::{DefaultScopes, OAuthAware, OAuthRequired, ScopeSet};
pub use html::escape;
pub use identity::{User, UserIdentity, cookie};
pub use oauth::{
    DEFAULT_AUTHORIZE_PATH, DEFAULT_CALLBACK_PATH, DEFAULT_PENDING_TTL, DEFAULT_SQLITE_FILE,
    OAuth2, OAuth2Builder,
};
pub use pending::{MemoryPendingStore, PendingRecord, PendingStore};
pub use redirect::safe_return_path;
