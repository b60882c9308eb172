//! Service account credentials from Google's service-account key file: an
//! RS256 JWT assertion exchanged at the token endpoint (RFC 7523), with
//! domain-wide delegation, or a self-signed JWT used directly as the access
//! token.

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::Deserialize;

use super::bearer::{
    BearerCache, BearerToken, CommonConfig, bearer_credential_source, common_builder_methods,
};
use super::file_json::decode_named;
use super::jwt::{JWT_BEARER_GRANT_TYPE, RsaSigner};
use super::token::{self, RequestConfig};
use super::token_cache::{Check, Need, Refresher};
use super::{AccessToken, CLOUD_PLATFORM_SCOPE, Credentials, GOOGLE_TOKEN_URI};
use crate::clock::{BoxFuture, SharedClock};
use crate::{Error, ErrorKind};

/// The lifetime of an assertion and of a self-signed JWT (Google's maximum).
pub const JWT_LIFETIME: Duration = Duration::from_secs(3600);

/// The default universe (public Google Cloud).
pub const DEFAULT_UNIVERSE_DOMAIN: &str = "googleapis.com";

/// A service account key: the parsed service-account JSON key file Google
/// issues (`"type": "service_account"`).
///
/// The private key is a secret: `Debug` shows the account and key id only,
/// errors never quote it, and nothing but the signer reads it.
#[derive(Clone)]
pub struct ServiceAccountKey {
    client_email: String,
    private_key_id: Option<String>,
    signer: Arc<RsaSigner>,
    token_uri: String,
    project_id: Option<String>,
    client_id: Option<String>,
    universe_domain: String,
    quota_project: Option<String>,
}

impl fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .field("private_key", &"[redacted]")
            .field("token_uri", &self.token_uri)
            .field("project_id", &self.project_id)
            .field("universe_domain", &self.universe_domain)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    client_email: String,
    private_key: String,
    #[serde(default)]
    private_key_id: Option<String>,
    #[serde(default)]
    token_uri: Option<String>,
    #[serde(default)]
    project_id: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    universe_domain: Option<String>,
    #[serde(default)]
    quota_project_id: Option<String>,
}

impl ServiceAccountKey {
    /// Reads a service-account JSON key file.
    pub fn from_file(path: impl AsRef<Path>) -> crate::Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!(
                    "could not read the service account key file {}",
                    path.display()
                ),
            )
            .with_source(e)
        })?;
        Self::from_json(&text, &path.display().to_string())
    }

    /// Parses the JSON of a key file; `source` names it in errors (a file
    /// name, "environment variable X", ...).
    pub fn from_json(json: &str, source: &str) -> crate::Result<Self> {
        let f: KeyFile = decode_named(json, source)?;
        let bad = |msg: String| Error::new(ErrorKind::Decode, format!("{source}: {msg}"));
        if let Some(kind) = &f.kind
            && kind != "service_account"
        {
            return Err(bad(format!(
                "`type` is `{kind}`, expected `service_account`"
            )));
        }
        if f.client_email.trim().is_empty() {
            return Err(bad("field `client_email` is empty".into()));
        }
        let signer = RsaSigner::from_pem(&f.private_key, f.private_key_id.clone())
            .map_err(|e| bad(format!("field `private_key`: {e}")))?;
        Ok(ServiceAccountKey {
            client_email: f.client_email,
            private_key_id: f.private_key_id,
            signer: Arc::new(signer),
            token_uri: f
                .token_uri
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| GOOGLE_TOKEN_URI.to_owned()),
            project_id: f.project_id,
            client_id: f.client_id,
            universe_domain: f
                .universe_domain
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| DEFAULT_UNIVERSE_DOMAIN.to_owned()),
            quota_project: f.quota_project_id,
        })
    }

    /// The service account's email (`client_email`): the JWT issuer.
    pub fn client_email(&self) -> &str {
        &self.client_email
    }

    /// The id of the key (`private_key_id`), sent as the JWT `kid`.
    pub fn private_key_id(&self) -> Option<&str> {
        self.private_key_id.as_deref()
    }

    /// The token endpoint (`token_uri`; default Google's).
    pub fn token_uri(&self) -> &str {
        &self.token_uri
    }

    /// The project the account belongs to (`project_id`).
    pub fn project_id(&self) -> Option<&str> {
        self.project_id.as_deref()
    }

    /// The numeric client id (`client_id`).
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }

    /// The universe domain (`universe_domain`; default `googleapis.com`).
    pub fn universe_domain(&self) -> &str {
        &self.universe_domain
    }

    /// The quota project of the file (`quota_project_id`), if any.
    pub fn quota_project(&self) -> Option<&str> {
        self.quota_project.as_deref()
    }
}

/// Credentials of a service account: access tokens for its own identity (or,
/// with [`with_subject`](ServiceAccountCredentialsBuilder::with_subject), a
/// Workspace user's by domain-wide delegation).
///
/// Two ways to get a token:
///
/// - **Token endpoint** (the default): an RS256 JWT assertion
///   `{iss: client_email, scope, aud: token_uri, iat, exp: iat + 1 h[, sub]}`
///   is exchanged at `token_uri` with grant
///   `urn:ietf:params:oauth:grant-type:jwt-bearer`.
/// - **Self-signed JWT** ([`with_self_signed_jwt`](ServiceAccountCredentialsBuilder::with_self_signed_jwt)):
///   the JWT `{iss = sub = client_email, aud: <API root URL> | scope, iat, exp}`
///   is itself the access token; no request leaves the machine. Google Cloud
///   APIs accept it (AIP-4111); it is the only way outside the default universe.
///   With a subject, the token endpoint is used (delegation needs it).
///
/// Tokens are cached, refreshed 5 minutes before expiry, once for all
/// concurrent callers (see [`UserTokenSource`](super::UserTokenSource) for
/// the same rules). Cheap to clone; clones share the cache.
#[derive(Clone)]
pub struct ServiceAccountCredentials {
    inner: Arc<BearerCache<ServiceAccountRefresher>>,
}

/// Builds [`ServiceAccountCredentials`].
pub struct ServiceAccountCredentialsBuilder {
    key: ServiceAccountKey,
    scopes: Vec<String>,
    subject: Option<String>,
    audience: Option<String>,
    self_signed: bool,
    token_uri: Option<String>,
    common: CommonConfig,
}

impl fmt::Debug for ServiceAccountCredentialsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceAccountCredentialsBuilder")
            .field("key", &self.key)
            .field("scopes", &self.scopes)
            .field("subject", &self.subject)
            .field("self_signed", &self.self_signed)
            .finish_non_exhaustive()
    }
}

impl ServiceAccountCredentialsBuilder {
    /// The OAuth scopes to ask for (default: [`CLOUD_PLATFORM_SCOPE`]).
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Domain-wide delegation: act as this Workspace user (`sub`). The
    /// account must be allowed the scopes in the Workspace admin console.
    pub fn with_subject(mut self, email: impl Into<String>) -> Self {
        self.subject = Some(email.into());
        self
    }

    /// Use self-signed JWTs instead of the token endpoint (ignored with a
    /// subject). The JWT carries the audience set with
    /// [`with_audience`](Self::with_audience) or, without one, the scopes.
    pub fn with_self_signed_jwt(mut self, enabled: bool) -> Self {
        self.self_signed = enabled;
        self
    }

    /// The audience of self-signed JWTs: the API's root URL, e.g.
    /// `https://storage.googleapis.com/`. Implies self-signed JWTs.
    pub fn with_audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self.self_signed = true;
        self
    }

    /// Overrides the key file's `token_uri` (the assertion's audience too).
    pub fn with_token_uri(mut self, uri: impl Into<String>) -> Self {
        self.token_uri = Some(uri.into());
        self
    }

    common_builder_methods!();

    /// The credentials.
    pub fn build(self) -> ServiceAccountCredentials {
        let mut common = self.common;
        if common.quota_project.is_none() {
            common.quota_project = self.key.quota_project.clone();
        }
        let scopes = if self.scopes.is_empty() {
            vec![CLOUD_PLATFORM_SCOPE.to_owned()]
        } else {
            self.scopes
        };
        // Outside googleapis.com there is no token endpoint to ask: only
        // self-signed JWTs work there (as in google-auth).
        let universe = self.key.universe_domain != DEFAULT_UNIVERSE_DOMAIN;
        let mode = if (self.self_signed || universe) && self.subject.is_none() {
            Mode::SelfSigned {
                audience: self.audience,
            }
        } else {
            Mode::TokenEndpoint {
                token_uri: self.token_uri.unwrap_or_else(|| self.key.token_uri.clone()),
            }
        };
        let refresher = ServiceAccountRefresher {
            key: self.key,
            scopes: scopes.join(" "),
            subject: self.subject,
            mode,
            clock: common.clock(),
            request: common.request.clone(),
        };
        ServiceAccountCredentials {
            inner: Arc::new(BearerCache::new(refresher, &common)),
        }
    }
}

impl ServiceAccountCredentials {
    /// A builder for credentials of `key`.
    pub fn builder(key: ServiceAccountKey) -> ServiceAccountCredentialsBuilder {
        ServiceAccountCredentialsBuilder {
            key,
            scopes: Vec::new(),
            subject: None,
            audience: None,
            self_signed: false,
            token_uri: None,
            common: CommonConfig::default(),
        }
    }

    /// Credentials of the key in `path` with `scopes` and the defaults.
    pub fn from_file<I, S>(path: impl AsRef<Path>, scopes: I) -> crate::Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Ok(Self::builder(ServiceAccountKey::from_file(path)?)
            .with_scopes(scopes)
            .build())
    }

    /// [`Credentials`] sharing this token cache, for a client.
    pub fn credentials(&self) -> Credentials {
        Credentials::from_source(self.clone())
    }

    /// A valid access token, getting one first if needed.
    pub async fn access_token(&self) -> crate::Result<AccessToken> {
        self.inner.access_token().await
    }

    /// Gets a new token now, whatever the expiry (single flight).
    pub async fn force_refresh(&self) -> crate::Result<AccessToken> {
        self.inner.force_refresh().await
    }

    /// The key.
    pub fn key(&self) -> &ServiceAccountKey {
        &self.inner.cache.refresher().key
    }

    /// The service account's email.
    pub fn client_email(&self) -> &str {
        self.key().client_email()
    }

    /// Whether tokens are self-signed JWTs (no token endpoint).
    pub fn uses_self_signed_jwt(&self) -> bool {
        matches!(self.inner.cache.refresher().mode, Mode::SelfSigned { .. })
    }

    fn describe_source(&self) -> String {
        let r = self.inner.cache.refresher();
        let mut s = format!("service account {}", r.key.client_email);
        if let Some(sub) = &r.subject {
            s.push_str(&format!(" acting as {sub}"));
        }
        if matches!(r.mode, Mode::SelfSigned { .. }) {
            s.push_str(" (self-signed JWT)");
        }
        s
    }
}

bearer_credential_source!(ServiceAccountCredentials);

impl fmt::Debug for ServiceAccountCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.inner.cache.refresher();
        f.debug_struct("ServiceAccountCredentials")
            .field("key", &r.key)
            .field("scopes", &r.scopes)
            .field("subject", &r.subject)
            .field("mode", &r.mode)
            .field("quota_project", &self.inner.quota_project)
            .finish()
    }
}

#[derive(Debug)]
enum Mode {
    TokenEndpoint { token_uri: String },
    SelfSigned { audience: Option<String> },
}

struct ServiceAccountRefresher {
    key: ServiceAccountKey,
    /// Space-separated.
    scopes: String,
    subject: Option<String>,
    mode: Mode,
    clock: SharedClock,
    request: RequestConfig,
}

impl Refresher for ServiceAccountRefresher {
    type Token = BearerToken;

    fn refresh<'a>(
        &'a self,
        _current: BearerToken,
        _need: &'a Need,
        _check: Check<'a>,
    ) -> BoxFuture<'a, crate::Result<BearerToken>> {
        Box::pin(async move {
            match &self.mode {
                Mode::SelfSigned { audience } => self.self_signed(audience.as_deref()),
                Mode::TokenEndpoint { token_uri } => self.exchange(token_uri).await,
            }
        })
    }
}

impl ServiceAccountRefresher {
    fn self_signed(&self, audience: Option<&str>) -> crate::Result<BearerToken> {
        let now = self.clock.now();
        let iat = unix_secs(now);
        let exp = iat + JWT_LIFETIME.as_secs();
        let email = &self.key.client_email;
        let mut claims = serde_json::json!({"iss": email, "sub": email, "iat": iat, "exp": exp});
        match audience {
            Some(aud) => claims["aud"] = aud.into(),
            None => claims["scope"] = self.scopes.clone().into(),
        }
        let jwt = self.key.signer.sign(&claims)?;
        tracing::debug!(
            client_email = %email,
            audience = audience.unwrap_or("(scopes)"),
            "signed a self-signed JWT access token"
        );
        Ok(BearerToken::new(
            AccessToken::new(jwt),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(exp)),
        ))
    }

    /// The assertion for the token endpoint at `token_uri`.
    fn assertion(&self, token_uri: &str) -> crate::Result<String> {
        let iat = unix_secs(self.clock.now());
        let mut claims = serde_json::json!({
            "iss": self.key.client_email,
            "scope": self.scopes,
            "aud": token_uri,
            "iat": iat,
            "exp": iat + JWT_LIFETIME.as_secs(),
        });
        if let Some(sub) = &self.subject {
            claims["sub"] = sub.clone().into();
        }
        self.key.signer.sign(&claims)
    }

    async fn exchange(&self, token_uri: &str) -> crate::Result<BearerToken> {
        let what = "getting a service account token";
        let started = self.clock.now();
        let assertion = self.assertion(token_uri)?;
        let form = [
            ("grant_type", JWT_BEARER_GRANT_TYPE),
            ("assertion", assertion.as_str()),
        ];
        // The signature alone authenticates nothing without the rest, but a
        // server that echoes only part of the assertion must not leak it.
        let signature = assertion.rsplit('.').next().unwrap_or("");
        let secrets = [assertion.as_str(), signature];
        tracing::debug!(
            client_email = %self.key.client_email,
            subject = self.subject.as_deref(),
            token_uri,
            "{what}"
        );
        let resp = token::with_retries(&self.clock, &self.request, what, || {
            token::token_request_once(token_uri, &form, &self.request, what, &secrets)
        })
        .await
        .map_err(|f| {
            tracing::warn!(error = %f.error, "{what} failed");
            self.explain(Error::from(f))
        })?;
        let lifetime = resp.expires_in.unwrap_or(JWT_LIFETIME);
        tracing::info!(
            client_email = %self.key.client_email,
            expires_in_secs = lifetime.as_secs(),
            "got a service account access token"
        );
        Ok(BearerToken::new(
            resp.access_token,
            Some(started + lifetime),
        ))
    }

    /// Adds what a refusal of the assertion usually means.
    fn explain(&self, e: Error) -> Error {
        let Some(a) = e.auth_error() else {
            return e;
        };
        let who = format!(
            "service account {} (key {})",
            self.key.client_email,
            self.key.private_key_id.as_deref().unwrap_or("without id")
        );
        let hint = match a.code.as_deref() {
            Some("invalid_grant") => format!(
                "the token endpoint refused the signed assertion of {who}: the key may have been deleted or disabled, the account deleted or disabled, the assertion expired (is this machine's clock right?) or addressed to another audience"
            ),
            Some("invalid_client") => {
                format!("the token endpoint does not know {who}, or it is disabled")
            }
            Some("unauthorized_client") if self.subject.is_some() => format!(
                "{who} is not allowed domain-wide delegation of these scopes (Workspace admin console → API controls → Domain-wide delegation)"
            ),
            Some("invalid_scope") => format!("the scopes asked for {who} were refused"),
            _ => return e,
        };
        Error::auth(a.code.as_deref(), format!("{}; {hint}", a.description))
    }
}

/// Seconds since the Unix epoch (0 before it).
fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
