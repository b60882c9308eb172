//! OAuth 2.0 and other credentials: what is attached to every request.
//!
//! The HTTP core only sees [`Credentials`]: it asks for an [`Authorization`]
//! before each attempt and, after a 401, calls
//! [`Credentials::refresh_after_unauthorized`] once.
//!
//! For user credentials the story has three parts:
//!
//! 1. **Flow**: the user consents once, through the [`InstalledAppFlow`]
//!    (loopback redirect, for desktop tools), the [`DeviceFlow`] (a code to
//!    type on another device) or the [`WebServerFlow`] (a web application's
//!    redirect). Each is built from an [`OAuthClient`] (client id, secret,
//!    scopes, endpoints), usually read from Google's `client_secret.json`
//!    with [`ClientSecrets`]. Every flow yields [`UserCredentials`].
//! 2. **Credentials**: a [`UserTokenSource`] holds the [`UserCredentials`],
//!    hands out the access token, and refreshes it before it expires, once
//!    for all concurrent callers. [`UserTokenSource::credentials`] gives the
//!    [`Credentials`] a client takes.
//! 3. **Storage**: a [`Storage`] ([`FileStorage`], [`MemoryStorage`], or one
//!    entry of a [`KeyedStorage`]) keeps the credentials between runs; the
//!    token source writes every refresh back and, under the storage lock,
//!    adopts a token another process already refreshed.
//!
//! ```no_run
//! use gapi::auth::{
//!     ClientSecrets, FileStorage, InstalledAppFlow, OAuthClient, Storage, UserTokenSource,
//! };
//!
//! # async fn run() -> gapi::Result<()> {
//! let storage = FileStorage::new("/home/me/.config/my-tool/credentials.json");
//! let source = match UserTokenSource::from_storage(storage.clone()).await? {
//!     // Signed in before: reuse (and keep refreshing) the stored grant.
//!     Some(builder) => builder.build(),
//!     // First run: ask the user, then store the result.
//!     None => {
//!         let secrets = ClientSecrets::from_file("client_secret.json")?;
//!         let client = OAuthClient::from_client_secrets(&secrets)
//!             .with_scopes(["https://www.googleapis.com/auth/tasks"]);
//!         let user = InstalledAppFlow::new(client).run().await?;
//!         storage.put(&user).await?;
//!         UserTokenSource::builder(user).with_storage(storage).build()
//!     }
//! };
//! let credentials = source.credentials(); // give this to the API client
//! # let _ = credentials;
//! # Ok(())
//! # }
//! ```
//!
//! **ID tokens** (OpenID Connect, "Sign in with Google"; feature
//! `id-token`): an `IdTokenVerifier` checks one — signature against the
//! issuer's keys (a `JwksCache`), issuer, audience, expiry, nonce — and
//! yields its `IdTokenClaims` (`sub`, `email`, `email_verified`, `hd`); a
//! refusal says why through `IdTokenRejection`.
//!
//! Programs that act as themselves rather than as a user (servers, jobs,
//! CI) use **server-to-server** credentials, behind the same [`Credentials`]
//! and with the same cache (refresh before expiry, once for all concurrent
//! callers, transient failures retried):
//!
//! - `ServiceAccountCredentials` from a `ServiceAccountKey` (Google's
//!   JSON key file): a signed JWT exchanged at the token endpoint, with
//!   domain-wide delegation, or self-signed JWTs (feature `service-account`);
//! - `MetadataServerCredentials`: the service account of the Google Cloud
//!   resource the program runs on (feature `metadata`);
//! - `ImpersonatedCredentials`: any credentials acting as another service
//!   account through the IAM Credentials API (feature `impersonation`);
//! - `ExternalAccountCredentials`: workload identity federation — a token
//!   of the workload's own platform (Kubernetes, another cloud, a CI job)
//!   exchanged at Google's STS, optionally impersonating a service account
//!   (feature `external-account`);
//! - [Application Default Credentials](adc) pick one of these (or user
//!   credentials from gcloud) from the environment:
//!   `Credentials::application_default(scopes).await?`;
//! - [`Credentials::api_key`] for public data, with no OAuth at all.
//!
//! Secrets ([`RefreshToken`], [`ClientSecret`], [`AuthorizationCode`],
//! [`PkceCodeVerifier`], [`CsrfState`], ...) are newtypes whose `Debug` is
//! redacted and whose value is only reachable through `.secret()`; no secret
//! appears in `Debug` output, error messages or logs.

use std::fmt;
use std::sync::Arc;

use crate::clock::BoxFuture;

pub mod adc;
#[cfg(any(
    feature = "service-account",
    feature = "metadata",
    feature = "impersonation",
    feature = "external-account"
))]
mod bearer;
mod endpoints;
#[cfg(feature = "external-account")]
pub mod external_account;
mod file_json;
mod flow;
#[cfg(feature = "id-token")]
mod id_token;
#[cfg(feature = "impersonation")]
mod impersonated;
#[cfg(feature = "id-token")]
mod jwks;
#[cfg(feature = "service-account")]
mod jwt;
#[cfg(feature = "metadata")]
mod metadata;
mod secret;
#[cfg(feature = "service-account")]
mod service_account;
mod source;
mod storage;
mod token;
mod token_cache;
mod user;

pub use adc::{AdcKind, AdcSource, ApplicationDefaultBuilder, ApplicationDefaultCredentials};
pub use endpoints::{
    CLOUD_PLATFORM_SCOPE, GOOGLE_AUTH_URI, GOOGLE_DEVICE_URI, GOOGLE_REVOKE_URI, GOOGLE_TOKEN_URI,
};
#[cfg(feature = "external-account")]
pub use external_account::{ExternalAccountCredentials, ExternalAccountCredentialsBuilder};
pub use flow::{
    AccessType, AuthorizeOptions, CallbackParams, ClientKind, ClientSecrets,
    DEFAULT_DEVICE_INTERVAL, DEFAULT_LOOPBACK_TIMEOUT, DEVICE_CODE_GRANT_TYPE, DeviceAuthorization,
    DeviceFlow, InstalledAppFlow, OAuthClient, PendingAuthorization, WebServerFlow,
};
#[cfg(feature = "id-token")]
pub use id_token::{
    DEFAULT_ID_TOKEN_LEEWAY, GOOGLE_ISSUERS, IdTokenClaims, IdTokenRejection, IdTokenVerifier,
};
#[cfg(feature = "impersonation")]
pub use impersonated::{
    DEFAULT_IMPERSONATION_LIFETIME, IAM_CREDENTIALS_ENDPOINT, ImpersonatedCredentials,
    ImpersonatedCredentialsBuilder,
};
#[cfg(feature = "id-token")]
pub use jwks::{
    DEFAULT_JWKS_CACHE, DEFAULT_JWKS_REFETCH_INTERVAL, DEFAULT_JWKS_TIMEOUT, GOOGLE_JWKS_URI,
    JwksCache, JwksCacheBuilder, MAX_JWKS_CACHE,
};
#[cfg(feature = "service-account")]
pub use jwt::JWT_BEARER_GRANT_TYPE;
#[cfg(feature = "metadata")]
pub use metadata::{
    METADATA_HOST, METADATA_HOST_ENV, METADATA_IP, MetadataServerCredentials,
    MetadataServerCredentialsBuilder,
};
pub use secret::{
    AccessToken, ApiKey, AuthorizationCode, ClientSecret, CsrfState, DeviceCode, IdToken,
    PkceCodeVerifier, RefreshToken,
};
#[cfg(feature = "service-account")]
pub use service_account::{
    DEFAULT_UNIVERSE_DOMAIN, JWT_LIFETIME, ServiceAccountCredentials,
    ServiceAccountCredentialsBuilder, ServiceAccountKey,
};
pub use source::{DEFAULT_REFRESH_MARGIN, UserTokenSource, UserTokenSourceBuilder};
pub use storage::{
    DEFAULT_LOCK_TIMEOUT, FileKeyedStorage, FileStorage, KeyedStorage, MemoryKeyedStorage,
    MemoryStorage, Storage, StorageGuard,
};
pub use user::{CREDENTIALS_FORMAT_VERSION, UserCredentials};

/// What one request carries to prove who it is for.
#[derive(Clone, Default)]
pub struct Authorization {
    bearer: Option<AccessToken>,
    /// `Bearer <token>`, built once with the token (marked sensitive).
    bearer_header: Option<http::header::HeaderValue>,
    api_key: Option<ApiKey>,
    quota_project: Option<String>,
}

impl Authorization {
    /// No authorization at all (public data).
    pub fn none() -> Self {
        Authorization::default()
    }

    /// `Authorization: Bearer <token>`.
    pub fn bearer(token: AccessToken) -> Self {
        // A token that cannot be a header value (a control character) is
        // sent as `Bearer invalid`, which the server refuses with a 401.
        let mut header = http::header::HeaderValue::from_str(&format!("Bearer {}", token.secret()))
            .unwrap_or_else(|_| http::header::HeaderValue::from_static("Bearer invalid"));
        header.set_sensitive(true);
        Authorization {
            bearer: Some(token),
            bearer_header: Some(header),
            ..Default::default()
        }
    }

    /// `key=<api key>` in the query string.
    pub fn api_key(key: ApiKey) -> Self {
        Authorization {
            api_key: Some(key),
            ..Default::default()
        }
    }

    /// Adds `x-goog-user-project: <project>` (the quota project).
    pub fn with_quota_project(mut self, project: impl Into<String>) -> Self {
        self.quota_project = Some(project.into());
        self
    }

    /// The bearer token, if any.
    pub fn access_token(&self) -> Option<&AccessToken> {
        self.bearer.as_ref()
    }

    /// The quota project, if any.
    pub fn quota_project(&self) -> Option<&str> {
        self.quota_project.as_deref()
    }

    /// The API key to send as `key=`, if any (added to the URL by the caller).
    pub(crate) fn api_key_param(&self) -> Option<&str> {
        self.api_key.as_ref().map(|k| k.secret())
    }

    /// The secrets this authorization carries (to redact from answers).
    pub(crate) fn secrets(&self) -> impl Iterator<Item = &str> {
        let bearer = self.bearer.as_ref().map(|t| t.secret());
        let key = self.api_key.as_ref().map(|k| k.secret());
        bearer.into_iter().chain(key)
    }

    /// Attaches this authorization's headers to a request (the API key goes in
    /// the URL: see `api_key_param`).
    pub(crate) fn apply<'c>(
        &self,
        mut req: crate::transport::RequestBuilder<'c>,
    ) -> crate::transport::RequestBuilder<'c> {
        if let Some(v) = &self.bearer_header {
            req = req.header(http::header::AUTHORIZATION, v.clone());
        }
        if let Some(p) = &self.quota_project {
            req = req.header("x-goog-user-project", p.as_str());
        }
        req
    }
}

impl fmt::Debug for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorization")
            .field("bearer", &self.bearer)
            .field("api_key", &self.api_key)
            .field("quota_project", &self.quota_project)
            .finish()
    }
}

/// A source of [`Authorization`]s. Implemented by every credential type; the
/// HTTP core only talks to this trait through [`Credentials`].
pub trait CredentialSource: Send + Sync + 'static {
    /// The authorization for the next request, refreshing first if needed.
    fn authorization(&self) -> BoxFuture<'_, crate::Result<Authorization>>;

    /// The server rejected `used` with 401. Refresh once, unless another caller
    /// already replaced that token. `Ok(true)`: retry with a fresh
    /// authorization; `Ok(false)`: these credentials cannot refresh.
    fn refresh_after_unauthorized<'a>(
        &'a self,
        used: &'a Authorization,
    ) -> BoxFuture<'a, crate::Result<bool>>;

    /// A short description for `Debug` (never a secret).
    fn describe(&self) -> String;
}

/// Credentials attached to every request made through a client. Cheap to
/// clone; clones share one token cache.
#[derive(Clone)]
pub struct Credentials {
    source: Arc<dyn CredentialSource>,
}

impl Credentials {
    /// Wraps any credential source.
    pub fn from_source(source: impl CredentialSource) -> Self {
        Credentials {
            source: Arc::new(source),
        }
    }

    /// No credentials: requests go out unauthenticated.
    pub fn anonymous() -> Self {
        Credentials::from_source(Static(Authorization::none(), "anonymous"))
    }

    /// An API key, sent as `key=`.
    pub fn api_key(key: impl Into<String>) -> Self {
        Credentials::from_source(Static(
            Authorization::api_key(ApiKey::new(key.into())),
            "api key",
        ))
    }

    /// A fixed access token that is never refreshed.
    pub fn access_token(token: impl Into<String>) -> Self {
        Credentials::from_source(Static(
            Authorization::bearer(AccessToken::new(token.into())),
            "static access token",
        ))
    }

    /// The authorization for the next request.
    pub async fn authorization(&self) -> crate::Result<Authorization> {
        self.source.authorization().await
    }

    /// See [`CredentialSource::refresh_after_unauthorized`].
    pub async fn refresh_after_unauthorized(&self, used: &Authorization) -> crate::Result<bool> {
        self.source.refresh_after_unauthorized(used).await
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials({})", self.source.describe())
    }
}

impl Default for Credentials {
    fn default() -> Self {
        Credentials::anonymous()
    }
}

struct Static(Authorization, &'static str);

impl CredentialSource for Static {
    fn authorization(&self) -> BoxFuture<'_, crate::Result<Authorization>> {
        let a = self.0.clone();
        Box::pin(async move { Ok(a) })
    }
    fn refresh_after_unauthorized<'a>(
        &'a self,
        _used: &'a Authorization,
    ) -> BoxFuture<'a, crate::Result<bool>> {
        Box::pin(async { Ok(false) })
    }
    fn describe(&self) -> String {
        self.1.to_owned()
    }
}
