//! OAuth 2.0 and other credentials: what is attached to every request.
//!
//! The HTTP core only sees [`Credentials`]: it asks for an [`Authorization`]
//! before each attempt and, after a 401, calls
//! [`Credentials::refresh_after_unauthorized`] once.

use std::fmt;
use std::sync::Arc;

use crate::clock::BoxFuture;

mod secret;

pub use secret::{AccessToken, ApiKey};

/// What one request carries to prove who it is for.
#[derive(Clone, Default)]
pub struct Authorization {
    bearer: Option<AccessToken>,
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
        Authorization {
            bearer: Some(token),
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

    /// Attaches this authorization's headers to a request (the API key goes in
    /// the URL: see `api_key_param`).
    pub(crate) fn apply(&self, mut req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if let Some(t) = &self.bearer {
            let mut v = reqwest::header::HeaderValue::from_str(&format!("Bearer {}", t.secret()))
                .unwrap_or_else(|_| reqwest::header::HeaderValue::from_static("Bearer invalid"));
            v.set_sensitive(true);
            req = req.header(reqwest::header::AUTHORIZATION, v);
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
