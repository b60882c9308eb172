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
//!   [`KeyedStorage`](gapi::auth::KeyedStorage) under their user id,
//!   refreshed and written back by
//!   [`UserTokenSource`](gapi::auth::UserTokenSource)s that all processes
//!   share through the storage's lock. Without a configured storage they
//!   are kept in memory: nothing is written anywhere unless configured.
//! - Several server processes (a load balancer without sticky sessions):
//!   [`OAuth2Builder::shared_storage`] or [`storage_url`](OAuth2Builder::storage_url)
//!   put the credentials **and** the authorizations in progress in one
//!   gapi-storage database (features `sqlite`, `postgres`, `redis`, each
//!   opt-in): a sign-in begun on one process completes on any other, each
//!   `state` is taken once by an atomic `DELETE … RETURNING` / `GETDEL`,
//!   and it expires ([`DEFAULT_PENDING_TTL`]).
//! - Who signed in at Google: when a grant includes `openid` (add `openid`
//!   and `email` to the scopes), the callback verifies the ID token —
//!   signature against Google's keys, issuer, this client as audience,
//!   expiry, the sign-in's nonce — with an
//!   [`IdTokenVerifier`](gapi::auth::IdTokenVerifier) and stores the
//!   [`VerifiedIdentity`] (`sub`, `email`, `email_verified`, `hd`) with the
//!   credentials; the extractors give it to handlers
//!   ([`OAuthRequired::identity`]). A refused token ends the sign-in.
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
//! .storage_url("sqlite:/var/lib/my-app/credentials.sqlite")
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

mod builder;
mod extract;
mod flow;
mod html;
mod identity;
mod oauth;
mod pending;
mod redirect;
mod routes;
mod storage_url;
mod verified;

pub use builder::{
    DEFAULT_AUTHORIZE_PATH, DEFAULT_CALLBACK_PATH, DEFAULT_PENDING_TTL, OAuth2Builder,
};
pub use extract::{DefaultScopes, OAuthAware, OAuthRequired, ScopeSet};
pub use html::escape;
pub use identity::{User, UserIdentity, cookie};
pub use oauth::OAuth2;
pub use pending::{MemoryPendingStore, PendingRecord, PendingStore, StoragePendingStore};
pub use redirect::safe_return_path;
pub use verified::VerifiedIdentity;
