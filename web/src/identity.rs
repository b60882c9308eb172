//! Who the current user is: the application says, through [`UserIdentity`].

use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use gapi::clock::BoxFuture;

/// The signed-in user of a request, as the application knows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    id: String,
    session: Option<String>,
    login_hint: Option<String>,
}

impl User {
    /// A user with this id: the key of their credentials in the storage
    /// (stable for the person: an account id, not a session id).
    pub fn new(id: impl Into<String>) -> Self {
        User {
            id: id.into(),
            session: None,
            login_hint: None,
        }
    }

    /// The id of the current session (any string that changes when the user
    /// signs in again, never shown to anyone): authorizations started in one
    /// session are refused in another.
    pub fn with_session(mut self, session: impl Into<String>) -> Self {
        self.session = Some(session.into());
        self
    }

    /// The `login_hint` sent to the authorization server (the user's Google
    /// email address, if known).
    pub fn with_login_hint(mut self, hint: impl Into<String>) -> Self {
        self.login_hint = Some(hint.into());
        self
    }

    /// The user id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The session id, if the application gave one.
    pub fn session(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// The login hint, if any.
    pub fn login_hint(&self) -> Option<&str> {
        self.login_hint.as_deref()
    }
}

/// How the application tells who is signed in (from its session cookie, a
/// session layer's extension, a header set by a proxy…).
///
/// A closure `Fn(&Parts) -> Option<User>` is one:
///
/// ```
/// use gapi_axum::{User, UserIdentity, cookie};
/// fn identity() -> impl UserIdentity {
///     |parts: &axum::http::request::Parts| {
///         let session = cookie(parts, "session")?;
///         // look the session up in the application's own store…
///         Some(User::new(format!("user-of-{session}")).with_session(session))
///     }
/// }
/// ```
pub trait UserIdentity: Send + Sync + 'static {
    /// The signed-in user of this request, if any.
    fn identify<'a>(&'a self, parts: &'a Parts) -> BoxFuture<'a, Option<User>>;

    /// The answer to a request that needs a signed-in user when nobody is
    /// signed in; `return_to` is the (checked) path to come back to after
    /// signing in. Default: 401 with a short page.
    fn sign_in_response(&self, parts: &Parts, return_to: &str) -> Response {
        let _ = (parts, return_to);
        crate::html::page(
            StatusCode::UNAUTHORIZED,
            "Sign in first",
            "This page needs a signed-in user.",
            None,
        )
    }
}

impl<F> UserIdentity for F
where
    F: Fn(&Parts) -> Option<User> + Send + Sync + 'static,
{
    fn identify<'a>(&'a self, parts: &'a Parts) -> BoxFuture<'a, Option<User>> {
        let user = self(parts);
        Box::pin(async move { user })
    }
}

/// The value of the cookie `name` in the request, if any.
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cookies() {
        let req = axum::http::Request::builder()
            .header("cookie", "a=1; session=abc")
            .header("cookie", "b=\"2\"")
            .body(())
            .unwrap();
        let (parts, ()) = req.into_parts();
        assert_eq!(cookie(&parts, "session"), Some("abc"));
        assert_eq!(cookie(&parts, "b"), Some("2"));
        assert_eq!(cookie(&parts, "sess"), None);
    }
}
