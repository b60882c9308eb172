//! The extractors: [`OAuthRequired`] and [`OAuthAware`].

use std::fmt;
use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use gapi::auth::UserTokenSource;
use gapi::{Client, Credentials};

use crate::html::{page, redirect};
use crate::identity::User;
use crate::oauth::{OAuth2, current_path, internal_error};
use crate::verified::VerifiedIdentity;

/// A set of scopes a route needs beyond the default ones, as a type:
/// `OAuthRequired<TasksWrite>`. Declare one with [`scope_set!`](crate::scope_set).
pub trait ScopeSet: Send + Sync + 'static {
    /// The scopes.
    const SCOPES: &'static [&'static str];
}

/// No scopes beyond the default ones.
#[derive(Debug, Clone, Copy)]
pub struct DefaultScopes;

impl ScopeSet for DefaultScopes {
    const SCOPES: &'static [&'static str] = &[];
}

/// Declares a [`ScopeSet`]:
///
/// ```
/// gapi_axum::scope_set!(
///     /// Reading and writing tasks.
///     pub TasksWrite = ["https://www.googleapis.com/auth/tasks"]
/// );
/// ```
#[macro_export]
macro_rules! scope_set {
    ($(#[$meta:meta])* $vis:vis $name:ident = [$($scope:expr),* $(,)?]) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy)]
        $vis struct $name;
        impl $crate::ScopeSet for $name {
            const SCOPES: &'static [&'static str] = &[$($scope),*];
        }
    };
}

/// An extractor for pages that need the user's Google credentials, like
/// oauth2client's `@oauth_required`.
///
/// Nobody signed in: the application's
/// [`sign_in_response`](crate::UserIdentity::sign_in_response). No stored
/// credentials with the default scopes plus `S`'s (or only invalid ones): a
/// redirect to the consent screen, and after it back to this page (same path
/// and query). Otherwise the handler runs with the user's credentials.
///
/// ```no_run
/// use gapi_axum::OAuthRequired;
/// gapi_axum::scope_set!(pub TasksRead = ["https://www.googleapis.com/auth/tasks.readonly"]);
///
/// async fn page(google: OAuthRequired<TasksRead>) -> axum::response::Response {
///     let client = match google.client() {
///         Ok(c) => c,
///         Err(e) => return google.error_response(&e),
///     };
///     // … call an API with `client`; on an error, `google.error_response(&e)`
///     // sends the user to the consent screen again if the grant was revoked.
///     # let _ = client;
///     # todo!()
/// }
/// ```
pub struct OAuthRequired<S: ScopeSet = DefaultScopes> {
    oauth: OAuth2,
    user: User,
    source: UserTokenSource,
    scopes: Vec<String>,
    return_to: String,
    _scopes: PhantomData<fn() -> S>,
}

impl<S: ScopeSet> OAuthRequired<S> {
    /// The signed-in user.
    pub fn user(&self) -> &User {
        &self.user
    }

    /// The user's credentials, for [`gapi::Client`]s (refreshed as needed,
    /// written back to the storage).
    pub fn credentials(&self) -> Credentials {
        self.source.credentials()
    }

    /// An API client with the user's credentials (see
    /// [`OAuth2Builder::client_factory`](crate::OAuth2Builder::client_factory)).
    pub fn client(&self) -> gapi::Result<Client> {
        self.oauth.client_for(self.credentials())
    }

    /// The token source behind the credentials.
    pub fn token_source(&self) -> &UserTokenSource {
        &self.source
    }

    /// The Google account of these credentials, as its ID token proved at
    /// the callback (`None` unless the grant included `openid`). See
    /// [`VerifiedIdentity`].
    pub fn identity(&self) -> Option<VerifiedIdentity> {
        crate::verified::of(&self.source.current())
    }

    /// The scopes this page required.
    pub fn required_scopes(&self) -> &[String] {
        &self.scopes
    }

    /// The scopes granted, as stored.
    pub fn granted_scopes(&self) -> Vec<String> {
        self.source.current().scopes().to_vec()
    }

    /// A redirect to the consent screen that comes back to this page: for
    /// when an API call says the grant is gone.
    pub fn reauthorize(&self) -> Response {
        self.oauth.forget_cached(self.user.id());
        redirect(&self.oauth.authorize_link(&self.return_to, S::SCOPES), None)
    }

    /// The answer to an API error: [`reauthorize`](Self::reauthorize) when
    /// the grant was revoked or expired (`invalid_grant`, a 401 after a
    /// refresh), a 502 page otherwise.
    pub fn error_response(&self, e: &gapi::Error) -> Response {
        if e.needs_reauthorization() || e.status() == Some(401) {
            return self.reauthorize();
        }
        tracing::warn!(error = %e, "an API call failed");
        page(
            StatusCode::BAD_GATEWAY,
            "The API call failed",
            "Google's API did not answer as expected. Please try again.",
            None,
        )
    }
}

impl<S: ScopeSet> fmt::Debug for OAuthRequired<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthRequired")
            .field("user", &self.user.id())
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl<St, S> FromRequestParts<St> for OAuthRequired<S>
where
    St: Send + Sync,
    S: ScopeSet,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &St) -> Result<Self, Response> {
        let oauth = OAuth2::from_parts(parts).ok_or_else(OAuth2::missing_layer)?;
        oauth.allow(S::SCOPES);
        let return_to = current_path(parts);
        let identity = oauth.inner.identity.clone();
        let Some(user) = identity.identify(parts).await else {
            return Err(identity.sign_in_response(parts, &return_to));
        };
        let scopes = oauth.required_scopes(S::SCOPES);
        match oauth.usable_source(user.id(), &scopes).await {
            Ok(Some(source)) => Ok(OAuthRequired {
                oauth,
                user,
                source,
                scopes,
                return_to,
                _scopes: PhantomData,
            }),
            Ok(None) => Err(oauth.begin(parts, &user, &return_to, &scopes).await),
            Err(e) => Err(internal_error("Could not read the stored credentials.", &e)),
        }
    }
}

/// An extractor for pages that work with or without the user's Google
/// credentials, like oauth2client's `@oauth_aware`: the handler asks
/// [`has_credentials`](Self::has_credentials) and links to
/// [`authorize_url`](Self::authorize_url) when there are none.
pub struct OAuthAware<S: ScopeSet = DefaultScopes> {
    oauth: OAuth2,
    user: Option<User>,
    source: Option<UserTokenSource>,
    return_to: String,
    _scopes: PhantomData<fn() -> S>,
}

impl<S: ScopeSet> OAuthAware<S> {
    /// The signed-in user, if any.
    pub fn user(&self) -> Option<&User> {
        self.user.as_ref()
    }

    /// Whether the user has stored credentials with the default scopes plus
    /// `S`'s.
    pub fn has_credentials(&self) -> bool {
        self.source.is_some()
    }

    /// The local URL that starts the authorization and returns to this page
    /// (`/oauth2authorize?return_to=…&scope=…`). Put it in a link.
    pub fn authorize_url(&self) -> String {
        self.oauth.authorize_link(&self.return_to, S::SCOPES)
    }

    /// The user's credentials, when there are.
    pub fn credentials(&self) -> Option<Credentials> {
        self.source.as_ref().map(UserTokenSource::credentials)
    }

    /// An API client with the user's credentials, when there are.
    pub fn client(&self) -> Option<gapi::Result<Client>> {
        self.credentials().map(|c| self.oauth.client_for(c))
    }

    /// The token source, when there are credentials.
    pub fn token_source(&self) -> Option<&UserTokenSource> {
        self.source.as_ref()
    }

    /// The Google account of the credentials, as its ID token proved at the
    /// callback, when there are credentials from an `openid` grant.
    pub fn identity(&self) -> Option<VerifiedIdentity> {
        self.source
            .as_ref()
            .and_then(|s| crate::verified::of(&s.current()))
    }
}

impl<S: ScopeSet> fmt::Debug for OAuthAware<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthAware")
            .field("user", &self.user.as_ref().map(User::id))
            .field("has_credentials", &self.has_credentials())
            .finish_non_exhaustive()
    }
}

impl<St, S> FromRequestParts<St> for OAuthAware<S>
where
    St: Send + Sync,
    S: ScopeSet,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &St) -> Result<Self, Response> {
        let oauth = OAuth2::from_parts(parts).ok_or_else(OAuth2::missing_layer)?;
        oauth.allow(S::SCOPES);
        let return_to = current_path(parts);
        let user = oauth.inner.identity.identify(parts).await;
        let source = match &user {
            None => None,
            Some(u) => oauth
                .usable_source(u.id(), &oauth.required_scopes(S::SCOPES))
                .await
                .map_err(|e| internal_error("Could not read the stored credentials.", &e))?,
        };
        Ok(OAuthAware {
            oauth,
            user,
            source,
            return_to,
            _scopes: PhantomData,
        })
    }
}
