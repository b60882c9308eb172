//! [`UserCredentials`]: what a user's consent produces and what storages keep.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::endpoints::{GOOGLE_REVOKE_URI, GOOGLE_TOKEN_URI};
use super::secret::{AccessToken, ClientSecret, IdToken, RefreshToken};

/// The version of the serialized format written by this crate.
pub const CREDENTIALS_FORMAT_VERSION: u32 = 1;

/// A user's OAuth 2.0 credentials: the client that obtained them, the refresh
/// token, the current access token and its expiry, and the granted scopes.
///
/// This is the result of every [flow](super::InstalledAppFlow) and the value
/// every [`Storage`](super::Storage) keeps. It serializes to a versioned JSON
/// object that is also a valid `authorized_user` file for Google's
/// application-default credentials:
///
/// ```json
/// {"version": 1, "type": "authorized_user", "client_id": "…", "client_secret": "…",
///  "refresh_token": "…", "access_token": "…", "expiry": "2025-01-01T00:00:00Z",
///  "scopes": ["https://www.googleapis.com/auth/tasks"],
///  "token_uri": "https://oauth2.googleapis.com/token",
///  "revoke_uri": "https://oauth2.googleapis.com/revoke", "invalid": false}
/// ```
///
/// Files without `version` (for example gcloud's
/// `application_default_credentials.json`) are read as version 1; a newer
/// version is refused rather than misread.
///
/// `Debug` never shows a secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Repr", into = "Repr")]
pub struct UserCredentials {
    client_id: String,
    client_secret: Option<ClientSecret>,
    access_token: Option<AccessToken>,
    refresh_token: Option<RefreshToken>,
    expiry: Option<SystemTime>,
    /// When the access token was obtained (with `expiry`: its lifetime).
    issued: Option<SystemTime>,
    scopes: Vec<String>,
    token_uri: String,
    revoke_uri: String,
    id_token: Option<IdToken>,
    quota_project: Option<String>,
    invalid: bool,
    /// Members of the stored JSON this version does not know: written back
    /// as they were (a newer gapi's, gcloud's `account`, `universe_domain`).
    extra: BTreeMap<String, serde_json::Value>,
}

impl UserCredentials {
    /// Credentials of `client_id` holding `refresh_token`, with no access token
    /// yet (the first use refreshes), Google's token and revoke endpoints and
    /// no scopes recorded.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: Option<ClientSecret>,
        refresh_token: Option<RefreshToken>,
    ) -> Self {
        UserCredentials {
            client_id: client_id.into(),
            client_secret,
            access_token: None,
            refresh_token,
            expiry: None,
            issued: None,
            scopes: Vec::new(),
            token_uri: GOOGLE_TOKEN_URI.to_owned(),
            revoke_uri: GOOGLE_REVOKE_URI.to_owned(),
            id_token: None,
            quota_project: None,
            invalid: false,
            extra: BTreeMap::new(),
        }
    }

    /// Parses the JSON format described above.
    pub fn from_json(json: &str) -> crate::Result<Self> {
        serde_json::from_str(json).map_err(|e| {
            crate::Error::new(
                crate::ErrorKind::Decode,
                format!("not valid stored credentials: {e}"),
            )
        })
    }

    /// Serializes to the JSON format described above (pretty-printed). The
    /// result contains secrets: store it with care.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("credentials always serialize")
    }

    /// Sets the current access token and when it expires (`None`: unknown,
    /// treated as valid until the server answers 401).
    pub fn with_access_token(mut self, token: AccessToken, expiry: Option<SystemTime>) -> Self {
        self.access_token = Some(token);
        self.expiry = expiry;
        self.issued = None;
        self
    }

    /// Records when the access token was obtained. With the expiry it gives
    /// the token's lifetime, which bounds how early it is refreshed (at most
    /// half its lifetime before it expires).
    pub fn with_issued(mut self, issued: SystemTime) -> Self {
        self.issued = Some(issued);
        self
    }

    /// Records the granted scopes.
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the token endpoint used to refresh (default Google's).
    pub fn with_token_uri(mut self, uri: impl Into<String>) -> Self {
        self.token_uri = uri.into();
        self
    }

    /// Sets the revocation endpoint (default Google's).
    pub fn with_revoke_uri(mut self, uri: impl Into<String>) -> Self {
        self.revoke_uri = uri.into();
        self
    }

    /// Sets the quota project sent as `x-goog-user-project` with every request.
    pub fn with_quota_project(mut self, project: impl Into<String>) -> Self {
        self.quota_project = Some(project.into());
        self
    }

    /// Sets the OpenID Connect ID token.
    pub fn with_id_token(mut self, token: Option<IdToken>) -> Self {
        self.id_token = token;
        self
    }

    /// The OAuth 2.0 client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The OAuth 2.0 client secret, if the client has one.
    pub fn client_secret(&self) -> Option<&ClientSecret> {
        self.client_secret.as_ref()
    }

    /// The current access token, if any.
    pub fn access_token(&self) -> Option<&AccessToken> {
        self.access_token.as_ref()
    }

    /// The refresh token, if the grant included one (`access_type=offline`).
    pub fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    /// When the access token expires, if known.
    pub fn expiry(&self) -> Option<SystemTime> {
        self.expiry
    }

    /// When the access token was obtained, if known.
    pub fn issued(&self) -> Option<SystemTime> {
        self.issued
    }

    /// The granted scopes as recorded.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// Whether every scope in `wanted` was granted.
    pub fn has_scopes<S: AsRef<str>>(&self, wanted: &[S]) -> bool {
        wanted
            .iter()
            .all(|w| self.scopes.iter().any(|s| s == w.as_ref()))
    }

    /// The token endpoint.
    pub fn token_uri(&self) -> &str {
        &self.token_uri
    }

    /// The revocation endpoint.
    pub fn revoke_uri(&self) -> &str {
        &self.revoke_uri
    }

    /// The OpenID Connect ID token, if one was returned.
    pub fn id_token(&self) -> Option<&IdToken> {
        self.id_token.as_ref()
    }

    /// The quota project, if set.
    pub fn quota_project(&self) -> Option<&str> {
        self.quota_project.as_deref()
    }

    /// True once the authorization server rejected the refresh token
    /// (`invalid_grant`) or the grant was revoked: only a new consent helps.
    pub fn is_invalid(&self) -> bool {
        self.invalid
    }

    /// Marks (or unmarks) these credentials as invalid.
    pub fn set_invalid(&mut self, invalid: bool) {
        self.invalid = invalid;
    }

    /// Whether the access token is missing, or expires within `margin` of `now`.
    /// A token without a known expiry is considered fresh.
    pub fn needs_refresh(&self, now: SystemTime, margin: Duration) -> bool {
        match (&self.access_token, self.expiry) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(_), Some(exp)) => now + margin >= exp,
        }
    }

    /// Whether the access token is missing or already expired at `now`.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        self.needs_refresh(now, Duration::ZERO)
    }

    pub(crate) fn set_access_token(
        &mut self,
        token: AccessToken,
        expiry: Option<SystemTime>,
        issued: SystemTime,
    ) {
        self.access_token = Some(token);
        self.expiry = expiry;
        self.issued = Some(issued);
    }

    pub(crate) fn set_refresh_token(&mut self, token: RefreshToken) {
        self.refresh_token = Some(token);
    }

    pub(crate) fn set_scopes(&mut self, scopes: Vec<String>) {
        self.scopes = scopes;
    }

    /// Every secret string these credentials hold (for scrubbing server text).
    pub(crate) fn secret_strings(&self) -> Vec<&str> {
        let mut v = Vec::new();
        if let Some(s) = &self.client_secret {
            v.push(s.secret());
        }
        if let Some(s) = &self.access_token {
            v.push(s.secret());
        }
        if let Some(s) = &self.refresh_token {
            v.push(s.secret());
        }
        if let Some(s) = &self.id_token {
            v.push(s.secret());
        }
        v
    }
}

impl fmt::Debug for UserCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("access_token", &self.access_token)
            .field("refresh_token", &self.refresh_token)
            .field("expiry", &self.expiry.map(crate::rfc3339::format))
            .field("scopes", &self.scopes)
            .field("token_uri", &self.token_uri)
            .field("invalid", &self.invalid)
            // Names only: an unknown member may hold anything.
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// The serialized shape.
#[derive(Serialize, Deserialize)]
struct Repr {
    #[serde(default)]
    version: Option<u32>,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_secret: Option<ClientSecret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<RefreshToken>,
    /// google-auth's `to_json()` calls it `token`.
    #[serde(default, alias = "token", skip_serializing_if = "Option::is_none")]
    access_token: Option<AccessToken>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expiry: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    issued: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    scopes: Vec<String>,
    #[serde(default)]
    token_uri: Option<String>,
    #[serde(default)]
    revoke_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<IdToken>,
    #[serde(
        default,
        rename = "quota_project_id",
        skip_serializing_if = "Option::is_none"
    )]
    quota_project: Option<String>,
    #[serde(default)]
    invalid: bool,
    #[serde(flatten)]
    extra: BTreeMap<String, serde_json::Value>,
}

fn parse_time(s: Option<String>, name: &str) -> Result<Option<SystemTime>, String> {
    match s {
        None => Ok(None),
        Some(s) => crate::rfc3339::parse(&s)
            .map(Some)
            .map_err(|e| format!("`{name}` is not an RFC 3339 time: {e}")),
    }
}

impl TryFrom<Repr> for UserCredentials {
    type Error = String;

    fn try_from(r: Repr) -> Result<Self, String> {
        let version = r.version.unwrap_or(CREDENTIALS_FORMAT_VERSION);
        if version != CREDENTIALS_FORMAT_VERSION {
            return Err(format!(
                "unsupported credentials format version {version} (this gapi reads version {CREDENTIALS_FORMAT_VERSION}; was it written by a newer gapi?)"
            ));
        }
        if let Some(kind) = &r.kind
            && kind != "authorized_user"
        {
            return Err(format!(
                "`type` is `{kind}`, expected `authorized_user` (user credentials)"
            ));
        }
        let expiry = parse_time(r.expiry, "expiry")?;
        let issued = parse_time(r.issued, "issued")?;
        Ok(UserCredentials {
            client_id: r.client_id,
            client_secret: r.client_secret,
            access_token: r.access_token,
            refresh_token: r.refresh_token,
            expiry,
            issued,
            scopes: r.scopes,
            token_uri: r.token_uri.unwrap_or_else(|| GOOGLE_TOKEN_URI.to_owned()),
            revoke_uri: r.revoke_uri.unwrap_or_else(|| GOOGLE_REVOKE_URI.to_owned()),
            id_token: r.id_token,
            quota_project: r.quota_project,
            invalid: r.invalid,
            extra: r.extra,
        })
    }
}

impl From<UserCredentials> for Repr {
    fn from(c: UserCredentials) -> Repr {
        Repr {
            version: Some(CREDENTIALS_FORMAT_VERSION),
            kind: Some("authorized_user".to_owned()),
            client_id: c.client_id,
            client_secret: c.client_secret,
            refresh_token: c.refresh_token,
            access_token: c.access_token,
            expiry: c.expiry.map(crate::rfc3339::format),
            issued: c.issued.map(crate::rfc3339::format),
            scopes: c.scopes,
            token_uri: Some(c.token_uri),
            revoke_uri: Some(c.revoke_uri),
            id_token: c.id_token,
            quota_project: c.quota_project,
            invalid: c.invalid,
            extra: c.extra,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> UserCredentials {
        UserCredentials::new(
            "cid.apps.googleusercontent.com",
            Some(ClientSecret::new("s3cret")),
            Some(RefreshToken::new("1//refresh")),
        )
        .with_access_token(
            AccessToken::new("ya29.token"),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
        )
        .with_scopes(["https://www.googleapis.com/auth/tasks"])
    }

    #[test]
    fn round_trips_with_version() {
        let c = sample();
        let json = c.to_json();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["version"], 1);
        assert_eq!(v["type"], "authorized_user");
        assert_eq!(v["expiry"], "2023-11-14T22:13:20Z");
        assert_eq!(UserCredentials::from_json(&json).unwrap(), c);
    }

    #[test]
    fn reads_gcloud_adc_file() {
        let json = r#"{"client_id":"x.apps.googleusercontent.com","client_secret":"d-FL95Q19q7MQmFpd7hHD0Ty","refresh_token":"1//abc","type":"authorized_user"}"#;
        let c = UserCredentials::from_json(json).unwrap();
        assert_eq!(c.refresh_token().unwrap().secret(), "1//abc");
        assert_eq!(c.token_uri(), GOOGLE_TOKEN_URI);
        assert!(c.access_token().is_none());
        assert!(c.needs_refresh(SystemTime::now(), Duration::ZERO));
    }

    #[test]
    fn refuses_newer_version_and_other_types() {
        let e = UserCredentials::from_json(r#"{"version":2,"client_id":"x"}"#).unwrap_err();
        assert!(e.to_string().contains("version 2"), "{e}");
        let e = UserCredentials::from_json(r#"{"type":"service_account","client_id":"x"}"#)
            .unwrap_err();
        assert!(e.to_string().contains("service_account"), "{e}");
    }

    #[test]
    fn expiry_logic() {
        let c = sample();
        let exp = c.expiry().unwrap();
        let margin = Duration::from_secs(300);
        assert!(!c.needs_refresh(exp - Duration::from_secs(301), margin));
        assert!(c.needs_refresh(exp - Duration::from_secs(299), margin));
        assert!(!c.is_expired(exp - Duration::from_secs(1)));
        assert!(c.is_expired(exp));
    }

    #[test]
    fn debug_hides_secrets() {
        let s = format!("{:?}", sample());
        for secret in ["s3cret", "1//refresh", "ya29.token"] {
            assert!(!s.contains(secret), "{s}");
        }
        assert!(s.contains("cid.apps"));
    }
}
