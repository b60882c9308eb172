//! [`ClientSecrets`]: Google's `client_secret.json`, read as downloaded.

use std::fmt;
use std::path::Path;

use serde_json::{Map, Value};

use crate::auth::ClientSecret;
use crate::auth::endpoints::{GOOGLE_AUTH_URI, GOOGLE_TOKEN_URI};
use crate::{Error, ErrorKind};

/// Which kind of OAuth client a `client_secret.json` describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientKind {
    /// A desktop ("installed") application: the `installed` key.
    Installed,
    /// A web application: the `web` key.
    Web,
}

/// The contents of a `client_secret.json` downloaded from the Google Cloud
/// console: `{"installed": {...}}` or `{"web": {...}}` with `client_id`,
/// `client_secret`, `auth_uri`, `token_uri`, `redirect_uris`, ...
///
/// `Debug` does not show the client secret.
#[derive(Clone)]
pub struct ClientSecrets {
    kind: ClientKind,
    client_id: String,
    client_secret: Option<ClientSecret>,
    auth_uri: String,
    token_uri: String,
    revoke_uri: Option<String>,
    redirect_uris: Vec<String>,
    project_id: Option<String>,
}

impl ClientSecrets {
    /// Reads and parses a `client_secret.json` file. Errors name the file and
    /// the field.
    pub fn from_file(path: impl AsRef<Path>) -> crate::Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("could not read the client secrets file {}", path.display()),
            )
            .with_source(e)
        })?;
        Self::from_json(&text, &path.display().to_string())
    }

    /// Parses the JSON of a `client_secret.json`; `source` names it in errors
    /// (a file name, "environment variable X", ...).
    pub fn from_json(json: &str, source: &str) -> crate::Result<Self> {
        let bad = |msg: String| Error::new(ErrorKind::Decode, format!("{source}: {msg}"));
        let value: Value =
            serde_json::from_str(json).map_err(|e| bad(format!("not valid JSON: {e}")))?;
        let Value::Object(top) = value else {
            return Err(bad(
                "expected a JSON object with an `installed` or `web` key".into(),
            ));
        };
        let (kind, key, obj) = match (top.get("installed"), top.get("web")) {
            (Some(v), None) => (ClientKind::Installed, "installed", v),
            (None, Some(v)) => (ClientKind::Web, "web", v),
            (Some(_), Some(_)) => {
                return Err(bad("has both `installed` and `web`; expected one".into()));
            }
            (None, None) => {
                return Err(bad(
                    "has neither `installed` nor `web` (is this a service account key or another kind of file?)"
                        .into(),
                ));
            }
        };
        let Value::Object(obj) = obj else {
            return Err(bad(format!("`{key}` must be an object")));
        };
        let string = |field: &str, required: bool| -> crate::Result<Option<String>> {
            match obj.get(field) {
                None | Some(Value::Null) if !required => Ok(None),
                None | Some(Value::Null) => Err(bad(format!("`{key}.{field}` is missing"))),
                Some(Value::String(s)) if s.is_empty() && required => {
                    Err(bad(format!("`{key}.{field}` is empty")))
                }
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(bad(format!("`{key}.{field}` must be a string"))),
            }
        };
        let client_id = string("client_id", true)?.unwrap_or_default();
        let client_secret = string("client_secret", false)?
            .filter(|s| !s.is_empty())
            .map(ClientSecret::new);
        let auth_uri = string("auth_uri", false)?.unwrap_or_else(|| GOOGLE_AUTH_URI.into());
        let token_uri = string("token_uri", false)?.unwrap_or_else(|| GOOGLE_TOKEN_URI.into());
        // Not in Google's files; oauth2client's format had it, and local
        // stand-ins and other providers use it.
        let revoke_uri = string("revoke_uri", false)?;
        for (field, uri) in [
            ("auth_uri", Some(&auth_uri)),
            ("token_uri", Some(&token_uri)),
            ("revoke_uri", revoke_uri.as_ref()),
        ] {
            let Some(uri) = uri else { continue };
            crate::href::absolute(uri)
                .map_err(|e| bad(format!("`{key}.{field}` is not a valid URL: {e}")))?;
        }
        let redirect_uris = redirect_uris(obj, key).map_err(bad)?;
        Ok(ClientSecrets {
            kind,
            client_id,
            client_secret,
            auth_uri,
            token_uri,
            revoke_uri,
            redirect_uris,
            project_id: string("project_id", false)?,
        })
    }

    /// `installed` or `web`.
    pub fn kind(&self) -> ClientKind {
        self.kind
    }

    /// The revocation endpoint, when the file names one (`revoke_uri`;
    /// Google's own files do not, and Google's endpoint is then the default).
    pub fn revoke_uri(&self) -> Option<&str> {
        self.revoke_uri.as_deref()
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The client secret (absent for some client types).
    pub fn client_secret(&self) -> Option<&ClientSecret> {
        self.client_secret.as_ref()
    }

    /// The authorization endpoint.
    pub fn auth_uri(&self) -> &str {
        &self.auth_uri
    }

    /// The token endpoint.
    pub fn token_uri(&self) -> &str {
        &self.token_uri
    }

    /// The registered redirect URIs.
    pub fn redirect_uris(&self) -> &[String] {
        &self.redirect_uris
    }

    /// The Cloud project id, when present.
    pub fn project_id(&self) -> Option<&str> {
        self.project_id.as_deref()
    }
}

fn redirect_uris(obj: &Map<String, Value>, key: &str) -> Result<Vec<String>, String> {
    match obj.get("redirect_uris") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(format!("`{key}.redirect_uris[{i}]` must be a string")),
            })
            .collect(),
        Some(_) => Err(format!("`{key}.redirect_uris` must be an array of strings")),
    }
}

impl fmt::Debug for ClientSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSecrets")
            .field("kind", &self.kind)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("auth_uri", &self.auth_uri)
            .field("token_uri", &self.token_uri)
            .field("redirect_uris", &self.redirect_uris)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INSTALLED: &str = r#"{"installed":{"client_id":"123-abc.apps.googleusercontent.com","project_id":"proj","auth_uri":"https://accounts.google.com/o/oauth2/auth","token_uri":"https://oauth2.googleapis.com/token","auth_provider_x509_cert_url":"https://www.googleapis.com/oauth2/v1/certs","client_secret":"GOCSPX-shh","redirect_uris":["http://localhost"]}}"#;

    #[test]
    fn reads_installed_and_web() {
        let c = ClientSecrets::from_json(INSTALLED, "client_secret.json").unwrap();
        assert_eq!(c.kind(), ClientKind::Installed);
        assert_eq!(c.client_id(), "123-abc.apps.googleusercontent.com");
        assert_eq!(c.client_secret().unwrap().secret(), "GOCSPX-shh");
        assert_eq!(c.redirect_uris(), ["http://localhost"]);
        assert_eq!(c.project_id(), Some("proj"));
        assert!(!format!("{c:?}").contains("GOCSPX-shh"));
        let web = r#"{"web":{"client_id":"w","client_secret":"s","redirect_uris":["https://app.example/cb"],"auth_uri":"http://127.0.0.1:1/auth","token_uri":"http://127.0.0.1:1/token"}}"#;
        let c = ClientSecrets::from_json(web, "w.json").unwrap();
        assert_eq!(c.kind(), ClientKind::Web);
        assert_eq!(c.token_uri(), "http://127.0.0.1:1/token");
    }

    #[test]
    fn errors_name_file_and_field() {
        let cases = [
            ("{", "cs.json: not valid JSON"),
            ("[]", "cs.json: expected a JSON object"),
            (
                r#"{"type":"service_account"}"#,
                "neither `installed` nor `web`",
            ),
            (r#"{"installed":{}}"#, "`installed.client_id` is missing"),
            (
                r#"{"web":{"client_id":5}}"#,
                "`web.client_id` must be a string",
            ),
            (
                r#"{"web":{"client_id":"x","redirect_uris":"http://a"}}"#,
                "`web.redirect_uris` must be an array",
            ),
            (
                r#"{"web":{"client_id":"x","redirect_uris":[1]}}"#,
                "`web.redirect_uris[0]` must be a string",
            ),
            (
                r#"{"web":{"client_id":"x","token_uri":"not a url"}}"#,
                "`web.token_uri` is not a valid URL",
            ),
        ];
        for (json, want) in cases {
            let e = ClientSecrets::from_json(json, "cs.json").unwrap_err();
            assert!(e.to_string().contains(want), "{json}: {e}");
            assert!(e.to_string().starts_with("cs.json: "), "{e}");
        }
        let e = ClientSecrets::from_file("/nonexistent/client_secret.json").unwrap_err();
        assert!(
            e.to_string().contains("/nonexistent/client_secret.json"),
            "{e}"
        );
        assert_eq!(e.kind(), ErrorKind::Io);
    }
}
