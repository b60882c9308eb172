//! The web server flow: authorization URL with `state` and PKCE, then the code
//! exchange after the callback.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::OAuthClient;
use crate::auth::UserCredentials;
use crate::auth::secret::{AuthorizationCode, CsrfState, PkceCodeVerifier};
use crate::{Error, ErrorKind};

/// `access_type`: whether a refresh token is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AccessType {
    /// `offline` (the default here): the response includes a refresh token.
    #[default]
    Offline,
    /// `online`: access tokens only.
    Online,
}

/// Options of the authorization request.
#[derive(Debug, Clone, Default)]
pub struct AuthorizeOptions {
    /// `access_type` (default offline).
    pub access_type: AccessType,
    /// `include_granted_scopes=true` (incremental authorization).
    pub include_granted_scopes: bool,
    /// `login_hint`: the email address or `sub` of the expected user.
    pub login_hint: Option<String>,
    /// `prompt`: `none`, `consent`, `select_account` (space-separated).
    pub prompt: Option<String>,
    /// Any other query parameters.
    pub extra: Vec<(String, String)>,
}

impl AuthorizeOptions {
    /// The defaults: offline access, nothing else.
    pub fn new() -> Self {
        AuthorizeOptions::default()
    }

    /// Sets `access_type`.
    pub fn access_type(mut self, t: AccessType) -> Self {
        self.access_type = t;
        self
    }

    /// Sets `include_granted_scopes`.
    pub fn include_granted_scopes(mut self, yes: bool) -> Self {
        self.include_granted_scopes = yes;
        self
    }

    /// Sets `login_hint`.
    pub fn login_hint(mut self, hint: impl Into<String>) -> Self {
        self.login_hint = Some(hint.into());
        self
    }

    /// Sets `prompt`.
    pub fn prompt(mut self, prompt: impl Into<String>) -> Self {
        self.prompt = Some(prompt.into());
        self
    }

    /// Adds another query parameter.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }
}

/// An authorization request sent to the user's browser, and what the client
/// must keep until the callback: the `state` and the PKCE verifier.
///
/// A web server keeps it in the user's session (it is `Serialize`; it holds
/// secrets, so keep it server-side). `Debug` redacts the secrets.
#[derive(Clone, Serialize, Deserialize)]
pub struct PendingAuthorization {
    url: String,
    redirect_uri: String,
    state: CsrfState,
    pkce_verifier: PkceCodeVerifier,
}

impl PendingAuthorization {
    /// The URL to send the user to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The redirect URI the code will be sent to.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The expected `state`.
    pub fn state(&self) -> &CsrfState {
        &self.state
    }

    /// The PKCE code verifier.
    pub fn pkce_verifier(&self) -> &PkceCodeVerifier {
        &self.pkce_verifier
    }
}

impl fmt::Debug for PendingAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL carries the state: leave it out.
        f.debug_struct("PendingAuthorization")
            .field("redirect_uri", &self.redirect_uri)
            .field("state", &self.state)
            .field("pkce_verifier", &self.pkce_verifier)
            .finish_non_exhaustive()
    }
}

/// The query parameters of the redirect back to the client.
#[derive(Clone, Default)]
pub struct CallbackParams {
    /// `code`.
    pub code: Option<AuthorizationCode>,
    /// `state`.
    pub state: Option<String>,
    /// `error` (e.g. `access_denied`).
    pub error: Option<String>,
    /// `error_description`.
    pub error_description: Option<String>,
}

impl CallbackParams {
    /// Parses a query string (`code=...&state=...`, with or without `?`).
    pub fn from_query(query: &str) -> Self {
        let mut p = CallbackParams::default();
        let query = query.strip_prefix('?').unwrap_or(query);
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            match &*k {
                "code" => p.code = Some(AuthorizationCode::new(v.into_owned())),
                "state" => p.state = Some(v.into_owned()),
                "error" => p.error = Some(v.into_owned()),
                "error_description" => p.error_description = Some(v.into_owned()),
                _ => {}
            }
        }
        p
    }

    /// Parses the full callback URL.
    pub fn from_url(url: &str) -> crate::Result<Self> {
        let u = crate::href::absolute(url).map_err(|e| {
            Error::new(ErrorKind::Request, "the callback URL is not a valid URL").with_source(e)
        })?;
        Ok(Self::from_query(
            crate::href::split(&u).query.unwrap_or_default(),
        ))
    }
}

impl fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackParams")
            .field("code", &self.code)
            .field("state", &self.state.as_ref().map(|_| "[redacted]"))
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .finish()
    }
}

/// The web server flow (authorization code grant with PKCE S256 and `state`).
///
/// 1. [`authorize_url`](Self::authorize_url): a URL to redirect the user to,
///    and a [`PendingAuthorization`] to keep in the session.
/// 2. On the callback, [`exchange`](Self::exchange) verifies the `state`
///    (constant-time) *before* anything else, then exchanges the code.
#[derive(Debug, Clone)]
pub struct WebServerFlow {
    client: OAuthClient,
    redirect_uri: String,
}

impl WebServerFlow {
    /// The flow of `client` with the registered `redirect_uri`.
    pub fn new(client: OAuthClient, redirect_uri: impl Into<String>) -> Self {
        WebServerFlow {
            client,
            redirect_uri: redirect_uri.into(),
        }
    }

    /// The client.
    pub fn client(&self) -> &OAuthClient {
        &self.client
    }

    /// The redirect URI.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Builds the authorization URL with a fresh random `state` and PKCE
    /// verifier: `response_type=code`, `client_id`, `redirect_uri`, `scope`,
    /// `state`, `code_challenge` (S256), `access_type`, and the options.
    pub fn authorize_url(&self, options: &AuthorizeOptions) -> crate::Result<PendingAuthorization> {
        let base = crate::href::absolute(self.client.auth_uri()).map_err(|e| {
            Error::new(
                ErrorKind::Request,
                format!("invalid authorization URI `{}`", self.client.auth_uri()),
            )
            .with_source(e)
        })?;
        let state = CsrfState::new_random();
        let verifier = PkceCodeVerifier::new_random();
        let scope = self.client.scopes().join(" ");
        let challenge = verifier.s256_challenge();
        let access_type = match options.access_type {
            AccessType::Offline => "offline",
            AccessType::Online => "online",
        };
        let mut pairs: Vec<(&str, &str)> = vec![
            ("response_type", "code"),
            ("client_id", self.client.client_id()),
            ("redirect_uri", &self.redirect_uri),
            ("scope", &scope),
            ("state", state.secret()),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("access_type", access_type),
        ];
        if options.include_granted_scopes {
            pairs.push(("include_granted_scopes", "true"));
        }
        if let Some(h) = &options.login_hint {
            pairs.push(("login_hint", h));
        }
        if let Some(p) = &options.prompt {
            pairs.push(("prompt", p));
        }
        pairs.extend(options.extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let url = crate::href::with_query_pairs(&base, pairs);
        Ok(PendingAuthorization {
            url,
            redirect_uri: self.redirect_uri.clone(),
            state,
            pkce_verifier: verifier,
        })
    }

    /// Handles the callback: verifies `state`, turns `error=...` into an
    /// [`ErrorKind::Auth`] error (`access_denied` when the user declined), and
    /// exchanges the code.
    pub async fn exchange(
        &self,
        pending: &PendingAuthorization,
        callback: &CallbackParams,
    ) -> crate::Result<UserCredentials> {
        let code = check_callback(pending, callback)?;
        self.exchange_verified(pending, code).await
    }

    /// Like [`exchange`](Self::exchange), with the code and state already
    /// extracted.
    pub async fn exchange_code(
        &self,
        pending: &PendingAuthorization,
        code: AuthorizationCode,
        state: &str,
    ) -> crate::Result<UserCredentials> {
        let callback = CallbackParams {
            code: Some(code),
            state: Some(state.to_owned()),
            ..Default::default()
        };
        self.exchange(pending, &callback).await
    }

    pub(super) async fn exchange_verified(
        &self,
        pending: &PendingAuthorization,
        code: &AuthorizationCode,
    ) -> crate::Result<UserCredentials> {
        let mut form = self.client.client_form();
        form.extend([
            ("grant_type", "authorization_code"),
            ("code", code.secret()),
            ("redirect_uri", pending.redirect_uri.as_str()),
            ("code_verifier", pending.pkce_verifier.secret()),
        ]);
        let issued_at = self.client.clock().now();
        let resp = self
            .client
            .token_request(
                &form,
                "exchanging the authorization code",
                &[code.secret(), pending.pkce_verifier.secret()],
            )
            .await?;
        tracing::info!(
            client_id = self.client.client_id(),
            "exchanged the authorization code"
        );
        Ok(self.client.credentials_from(resp, issued_at))
    }
}

/// Verifies the callback's state, then its error, then returns the code.
pub(super) fn check_callback<'a>(
    pending: &PendingAuthorization,
    callback: &'a CallbackParams,
) -> crate::Result<&'a AuthorizationCode> {
    let Some(state) = &callback.state else {
        return Err(Error::auth(
            None,
            "the authorization callback has no `state`; refusing it (possible forgery)",
        ));
    };
    if !pending.state.matches(state) {
        return Err(Error::auth(
            None,
            "the authorization callback's `state` does not match the request; refusing it (possible forgery)",
        ));
    }
    if let Some(error) = &callback.error {
        let what = if error == "access_denied" {
            "the user denied access".to_owned()
        } else {
            "the authorization server refused the request".to_owned()
        };
        let description = callback
            .error_description
            .as_deref()
            .map(|d| format!("{what}: {d}"))
            .unwrap_or(what);
        return Err(Error::auth(Some(error), description));
    }
    callback.code.as_ref().ok_or_else(|| {
        Error::auth(
            None,
            "the authorization callback has neither `code` nor `error`",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending() -> PendingAuthorization {
        PendingAuthorization {
            url: "https://auth.example/?state=s".into(),
            redirect_uri: "http://127.0.0.1:1/".into(),
            state: CsrfState::new("expected-state"),
            pkce_verifier: PkceCodeVerifier::new_random(),
        }
    }

    #[test]
    fn parses_callback_queries_and_urls() {
        let p = CallbackParams::from_query("?code=4%2F0A&state=abc&scope=x+y&iss=z");
        assert_eq!(p.code.unwrap().secret(), "4/0A");
        assert_eq!(p.state.as_deref(), Some("abc"));
        let p =
            CallbackParams::from_url("http://127.0.0.1:5/?error=access_denied&state=s").unwrap();
        assert_eq!(p.error.as_deref(), Some("access_denied"));
        assert!(p.code.is_none());
        assert!(CallbackParams::from_url("not a url").is_err());
    }

    #[test]
    fn state_is_checked_before_error_and_code() {
        let p = pending();
        let wrong = CallbackParams::from_query("error=access_denied&state=other");
        let e = check_callback(&p, &wrong).unwrap_err();
        assert_eq!(e.auth_error().unwrap().code, None);
        let denied = CallbackParams::from_query("error=access_denied&state=expected-state");
        let e = check_callback(&p, &denied).unwrap_err();
        assert_eq!(
            e.auth_error().unwrap().code.as_deref(),
            Some("access_denied")
        );
        let empty = CallbackParams::from_query("state=expected-state");
        assert!(check_callback(&p, &empty).is_err());
        let ok = CallbackParams::from_query("code=c&state=expected-state");
        assert_eq!(check_callback(&p, &ok).unwrap().secret(), "c");
    }
}
