//! Getting a user's consent: the web server flow, the installed-app loopback
//! flow and the device flow. Each produces [`UserCredentials`].

use std::fmt;
use std::time::Duration;

use super::UserCredentials;
use super::endpoints::{GOOGLE_AUTH_URI, GOOGLE_DEVICE_URI, GOOGLE_REVOKE_URI, GOOGLE_TOKEN_URI};
use super::secret::ClientSecret;
use super::token::{self, RequestConfig, TokenResponse};
use crate::clock::{SharedClock, default_clock};

mod client_secrets;
mod device;
mod installed;
mod web;

pub use client_secrets::{ClientKind, ClientSecrets};
pub use device::{
    DEFAULT_DEVICE_INTERVAL, DEVICE_CODE_GRANT_TYPE, DeviceAuthorization, DeviceFlow,
};
pub use installed::{DEFAULT_LOOPBACK_TIMEOUT, InstalledAppFlow};
pub use web::{AccessType, AuthorizeOptions, CallbackParams, PendingAuthorization, WebServerFlow};

/// An OAuth 2.0 client: its id and secret, the scopes it asks for, and the
/// endpoints it talks to (Google's by default, each one configurable). The
/// flows are built from it.
#[derive(Clone)]
pub struct OAuthClient {
    client_id: String,
    client_secret: Option<ClientSecret>,
    scopes: Vec<String>,
    auth_uri: String,
    token_uri: String,
    device_uri: String,
    revoke_uri: String,
    clock: SharedClock,
    request: RequestConfig,
}

impl OAuthClient {
    /// A client with Google's endpoints and no scopes.
    pub fn new(client_id: impl Into<String>, client_secret: Option<ClientSecret>) -> Self {
        OAuthClient {
            client_id: client_id.into(),
            client_secret,
            scopes: Vec::new(),
            auth_uri: GOOGLE_AUTH_URI.to_owned(),
            token_uri: GOOGLE_TOKEN_URI.to_owned(),
            device_uri: GOOGLE_DEVICE_URI.to_owned(),
            revoke_uri: GOOGLE_REVOKE_URI.to_owned(),
            clock: default_clock(),
            request: RequestConfig::default(),
        }
    }

    /// The client of a `client_secret.json`, with its `auth_uri` and
    /// `token_uri`.
    pub fn from_client_secrets(secrets: &ClientSecrets) -> Self {
        let mut c = OAuthClient::new(secrets.client_id(), secrets.client_secret().cloned());
        c.auth_uri = secrets.auth_uri().to_owned();
        c.token_uri = secrets.token_uri().to_owned();
        if let Some(uri) = secrets.revoke_uri() {
            c.revoke_uri = uri.to_owned();
        }
        c
    }

    /// The scopes to ask for.
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The authorization endpoint (default [`GOOGLE_AUTH_URI`](super::GOOGLE_AUTH_URI)).
    pub fn with_auth_uri(mut self, uri: impl Into<String>) -> Self {
        self.auth_uri = uri.into();
        self
    }

    /// The token endpoint (default [`GOOGLE_TOKEN_URI`](super::GOOGLE_TOKEN_URI)).
    pub fn with_token_uri(mut self, uri: impl Into<String>) -> Self {
        self.token_uri = uri.into();
        self
    }

    /// The device authorization endpoint (default
    /// [`GOOGLE_DEVICE_URI`](super::GOOGLE_DEVICE_URI)).
    pub fn with_device_uri(mut self, uri: impl Into<String>) -> Self {
        self.device_uri = uri.into();
        self
    }

    /// The revocation endpoint recorded in the resulting credentials (default
    /// [`GOOGLE_REVOKE_URI`](super::GOOGLE_REVOKE_URI)).
    pub fn with_revoke_uri(mut self, uri: impl Into<String>) -> Self {
        self.revoke_uri = uri.into();
        self
    }

    /// The clock for expiry times, device polling and timeouts.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The timeout of one HTTP request to an endpoint (default 30 s).
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request.timeout = timeout;
        self
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The scopes asked for.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// The authorization endpoint.
    pub fn auth_uri(&self) -> &str {
        &self.auth_uri
    }

    /// The token endpoint.
    pub fn token_uri(&self) -> &str {
        &self.token_uri
    }

    /// The device authorization endpoint.
    pub fn device_uri(&self) -> &str {
        &self.device_uri
    }

    /// The revocation endpoint.
    pub fn revoke_uri(&self) -> &str {
        &self.revoke_uri
    }

    pub(crate) fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub(crate) fn request_config(&self) -> &RequestConfig {
        &self.request
    }

    fn secrets(&self) -> Vec<&str> {
        self.client_secret.iter().map(|s| s.secret()).collect()
    }

    /// The base form of a token request: `client_id` and, if any, `client_secret`.
    fn client_form(&self) -> Vec<(&str, &str)> {
        let mut form = vec![("client_id", self.client_id.as_str())];
        if let Some(s) = &self.client_secret {
            form.push(("client_secret", s.secret()));
        }
        form
    }

    /// POSTs to the token endpoint with retries on transient failures.
    async fn token_request(
        &self,
        form: &[(&str, &str)],
        what: &str,
        extra_secrets: &[&str],
    ) -> crate::Result<TokenResponse> {
        let mut secrets = self.secrets();
        secrets.extend_from_slice(extra_secrets);
        token::with_retries(&self.clock, &self.request, what, || {
            token::token_request_once(&self.token_uri, form, &self.request, what, &secrets)
        })
        .await
        .map_err(crate::Error::from)
    }

    /// Turns a token response into credentials of this client.
    fn credentials_from(
        &self,
        resp: TokenResponse,
        issued_at: std::time::SystemTime,
    ) -> UserCredentials {
        if resp.refresh_token.is_none() {
            tracing::warn!(
                "the token response has no refresh_token: the credentials cannot be refreshed \
                 (ask for access_type=offline, and prompt=consent if the user consented before)"
            );
        }
        let scopes = resp.scope.unwrap_or_else(|| self.scopes.clone());
        UserCredentials::new(
            self.client_id.clone(),
            self.client_secret.clone(),
            resp.refresh_token,
        )
        .with_access_token(resp.access_token, resp.expires_in.map(|d| issued_at + d))
        .with_issued(issued_at)
        .with_scopes(scopes)
        .with_token_uri(self.token_uri.clone())
        .with_revoke_uri(self.revoke_uri.clone())
        .with_id_token(resp.id_token)
    }
}

impl fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("scopes", &self.scopes)
            .field("auth_uri", &self.auth_uri)
            .field("token_uri", &self.token_uri)
            .field("device_uri", &self.device_uri)
            .field("revoke_uri", &self.revoke_uri)
            .finish()
    }
}
