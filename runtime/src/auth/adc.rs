//! Application Default Credentials: find credentials the way every Google
//! client library does, so the same program runs on a laptop (gcloud),
//! in CI (a key file) and on Google Cloud (the metadata server).
//!
//! The search order (google-auth's, minus App Engine gen-1):
//!
//! 1. the file named by `GOOGLE_APPLICATION_CREDENTIALS` (an error if it is
//!    set and the file is missing or malformed: no silent fallback);
//! 2. gcloud's well-known file, written by
//!    `gcloud auth application-default login`:
//!    `$CLOUDSDK_CONFIG/application_default_credentials.json`, else
//!    `~/.config/gcloud/application_default_credentials.json`
//!    (`%APPDATA%\gcloud\...` on Windows);
//! 3. the metadata server (`GCE_METADATA_HOST` or `metadata.google.internal`),
//!    detected with a short timeout and a few probes; skipped when
//!    `NO_GCE_CHECK=true` (feature `metadata`, on by default).
//!
//! Files are dispatched on their `type`: `service_account` →
//! `ServiceAccountCredentials`, `authorized_user` (gcloud's login, and
//! the format [`UserCredentials`] stores) → [`UserTokenSource`],
//! `impersonated_service_account` → `ImpersonatedCredentials` over the
//! file's `source_credentials`, `external_account` (workload identity
//! federation) → `ExternalAccountCredentials`. Each of those types is a
//! feature of its own (`service-account`, `impersonation`,
//! `external-account`; all on by default): a program built without one
//! gets an error naming the feature for a file of that type, and one
//! built without `metadata` ends the search with the files.
//!
//! The quota project (`x-goog-user-project`) is the builder's, else
//! `GOOGLE_CLOUD_QUOTA_PROJECT`, else the file's `quota_project_id`. The
//! project id is `GOOGLE_CLOUD_PROJECT` (or `GCLOUD_PROJECT`), else the key
//! file's `project_id`, else the metadata server's.
//!
//! Public data needs no credentials: use [`Credentials::api_key`] (an API
//! key from the Cloud console) or [`Credentials::anonymous`] instead.

use std::fmt;
use std::path::{Path, PathBuf};
#[cfg(feature = "metadata")]
use std::time::Duration;

use serde::Deserialize;

#[cfg(feature = "external-account")]
use super::ExternalAccountCredentials;
use super::file_json::decode_named;
#[cfg(feature = "impersonation")]
use super::impersonated::{ImpersonatedCredentials, target_from_url};
#[cfg(feature = "metadata")]
use super::metadata::MetadataServerCredentials;
#[cfg(feature = "service-account")]
use super::service_account::{ServiceAccountCredentials, ServiceAccountKey};
use super::token_cache::quota_project_from_env;
use super::{Credentials, UserCredentials, UserTokenSource};
use crate::clock::SharedClock;
use crate::{Error, ErrorKind};

/// The environment variable naming a credentials file.
pub const CREDENTIALS_ENV: &str = "GOOGLE_APPLICATION_CREDENTIALS";

/// The file name of gcloud's application default credentials.
pub const GCLOUD_ADC_FILE: &str = "application_default_credentials.json";

/// Where the credentials came from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdcSource {
    /// The file named by `GOOGLE_APPLICATION_CREDENTIALS`.
    EnvironmentFile(PathBuf),
    /// gcloud's well-known file.
    GcloudFile(PathBuf),
    /// A file given to [`ApplicationDefaultBuilder::with_credentials_file`].
    ExplicitFile(PathBuf),
    /// The metadata server at this base URL.
    MetadataServer(String),
}

/// What kind of credentials were found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdcKind {
    /// A service account key file.
    ServiceAccount,
    /// A user's refresh token (gcloud login).
    AuthorizedUser,
    /// A service account impersonated by source credentials.
    ImpersonatedServiceAccount,
    /// The metadata server's service account.
    MetadataServer,
    /// Workload identity federation (`external_account`).
    ExternalAccount,
}

/// Application Default Credentials, found: the [`Credentials`] and what is
/// known about them.
#[derive(Clone, Debug)]
pub struct ApplicationDefaultCredentials {
    credentials: Credentials,
    project_id: Option<String>,
    quota_project: Option<String>,
    source: AdcSource,
    kind: AdcKind,
}

impl ApplicationDefaultCredentials {
    /// A builder for the search.
    pub fn builder() -> ApplicationDefaultBuilder {
        ApplicationDefaultBuilder::default()
    }

    /// The credentials, for a client.
    pub fn credentials(&self) -> Credentials {
        self.credentials.clone()
    }

    /// The project id, when it could be found.
    pub fn project_id(&self) -> Option<&str> {
        self.project_id.as_deref()
    }

    /// The quota project sent as `x-goog-user-project`, if any.
    pub fn quota_project(&self) -> Option<&str> {
        self.quota_project.as_deref()
    }

    /// Where the credentials came from.
    pub fn source(&self) -> &AdcSource {
        &self.source
    }

    /// What kind of credentials they are.
    pub fn kind(&self) -> AdcKind {
        self.kind
    }
}

impl Credentials {
    /// [Application Default Credentials](super::adc) with `scopes` (used by
    /// service accounts, impersonation and the metadata server; user
    /// credentials keep the scopes they were granted). For the project id
    /// and other options, use [`ApplicationDefaultCredentials::builder`].
    pub async fn application_default<I, S>(scopes: I) -> crate::Result<Credentials>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Ok(ApplicationDefaultCredentials::builder()
            .with_scopes(scopes)
            .build()
            .await?
            .credentials())
    }
}

/// Options of the Application Default Credentials search.
#[derive(Default)]
pub struct ApplicationDefaultBuilder {
    scopes: Vec<String>,
    quota_project: Option<String>,
    self_signed_jwt: bool,
    file: Option<PathBuf>,
    #[cfg(feature = "metadata")]
    metadata_host: Option<String>,
    #[cfg(feature = "metadata")]
    detect_timeout: Option<Duration>,
    #[cfg(feature = "metadata")]
    detect_attempts: Option<u32>,
    clock: Option<SharedClock>,
}

impl fmt::Debug for ApplicationDefaultBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ApplicationDefaultBuilder");
        d.field("scopes", &self.scopes)
            .field("quota_project", &self.quota_project)
            .field("file", &self.file);
        #[cfg(feature = "metadata")]
        d.field("metadata_host", &self.metadata_host);
        d.finish_non_exhaustive()
    }
}

impl ApplicationDefaultBuilder {
    /// The scopes to ask for (default: cloud-platform for service accounts
    /// and impersonation, the instance's scopes on the metadata server).
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The quota project, over `GOOGLE_CLOUD_QUOTA_PROJECT` and the file's.
    pub fn with_quota_project(mut self, project: impl Into<String>) -> Self {
        self.quota_project = Some(project.into());
        self
    }

    /// Service account keys make self-signed JWTs instead of asking the
    /// token endpoint (see `ServiceAccountCredentials`).
    pub fn with_self_signed_jwt(mut self, enabled: bool) -> Self {
        self.self_signed_jwt = enabled;
        self
    }

    /// Loads this credentials file instead of searching.
    pub fn with_credentials_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.file = Some(path.into());
        self
    }

    /// The metadata server as `host:port` (over `GCE_METADATA_HOST`).
    /// Feature `metadata` (on by default), like every metadata setting:
    /// without it the metadata server is never asked.
    #[cfg(feature = "metadata")]
    pub fn with_metadata_host(mut self, host: impl Into<String>) -> Self {
        self.metadata_host = Some(host.into());
        self
    }

    /// How long one metadata server probe waits (default 3 s, or
    /// `GCE_METADATA_TIMEOUT`).
    #[cfg(feature = "metadata")]
    pub fn with_metadata_timeout(mut self, timeout: Duration) -> Self {
        self.detect_timeout = Some(timeout);
        self
    }

    /// How many metadata server probes are made (default 3, or
    /// `GCE_METADATA_DETECT_RETRIES`).
    #[cfg(feature = "metadata")]
    pub fn with_metadata_attempts(mut self, attempts: u32) -> Self {
        self.detect_attempts = Some(attempts);
        self
    }

    /// The clock of every credential built (tests).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    fn quota(&self) -> Option<String> {
        self.quota_project.clone().or_else(quota_project_from_env)
    }

    /// Searches, and builds the credentials found. Makes no request except
    /// the metadata server probes (and its project id) when it gets there.
    pub async fn build(self) -> crate::Result<ApplicationDefaultCredentials> {
        let env_project = env("GOOGLE_CLOUD_PROJECT").or_else(|| env("GCLOUD_PROJECT"));
        if let Some(path) = &self.file {
            let source = AdcSource::ExplicitFile(path.clone());
            return self.load_file(path, source, env_project);
        }
        if let Some(path) = env(CREDENTIALS_ENV) {
            let path = PathBuf::from(path);
            if !path.is_file() {
                return Err(Error::new(
                    ErrorKind::Auth,
                    format!(
                        "{CREDENTIALS_ENV} names {}, which is not a readable file",
                        path.display()
                    ),
                ));
            }
            tracing::debug!(path = %path.display(), "application default credentials from {CREDENTIALS_ENV}");
            let source = AdcSource::EnvironmentFile(path.clone());
            return self.load_file(&path, source, env_project);
        }
        let gcloud = gcloud_adc_path();
        if let Some(path) = &gcloud
            && path.is_file()
        {
            tracing::debug!(path = %path.display(), "application default credentials from gcloud's file");
            let source = AdcSource::GcloudFile(path.clone());
            return self.load_file(path, source, env_project);
        }
        let gcloud_said = match &gcloud {
            Some(p) => format!("{} does not exist", p.display()),
            None => "there is no home directory to find gcloud's file in".to_owned(),
        };
        if env("NO_GCE_CHECK").is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1") {
            return Err(not_found(&format!(
                "{gcloud_said}, and NO_GCE_CHECK skips the metadata server"
            )));
        }
        self.ask_metadata_server(gcloud_said, env_project).await
    }

    /// The last place searched: the metadata server, if it answers.
    #[cfg(feature = "metadata")]
    async fn ask_metadata_server(
        self,
        gcloud_said: String,
        env_project: Option<String>,
    ) -> crate::Result<ApplicationDefaultCredentials> {
        let mut mds = MetadataServerCredentials::builder().with_scopes(self.scopes.clone());
        if let Some(h) = &self.metadata_host {
            mds = mds.with_host(h.clone());
        }
        if let Some(t) = self.detect_timeout {
            mds = mds.with_detect_timeout(t);
        }
        if let Some(n) = self.detect_attempts {
            mds = mds.with_detect_attempts(n);
        }
        if let Some(c) = &self.clock {
            mds = mds.with_clock(c.clone());
        }
        let quota = self.quota();
        if let Some(q) = &quota {
            mds = mds.with_quota_project(q.clone());
        }
        let mds = mds.build();
        if let Err(e) = mds.detect().await {
            return Err(not_found(&format!("{gcloud_said}, and {e}")));
        }
        let project_id = match env_project {
            Some(p) => Some(p),
            None => match mds.project_id().await {
                Ok(p) => Some(p),
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the project id from the metadata server");
                    None
                }
            },
        };
        tracing::debug!(
            server = mds.base_url(),
            "application default credentials from the metadata server"
        );
        Ok(ApplicationDefaultCredentials {
            source: AdcSource::MetadataServer(mds.base_url().to_owned()),
            credentials: mds.credentials(),
            project_id,
            quota_project: quota,
            kind: AdcKind::MetadataServer,
        })
    }

    /// Without the `metadata` feature the search ends with the files.
    #[cfg(not(feature = "metadata"))]
    async fn ask_metadata_server(
        self,
        gcloud_said: String,
        _env_project: Option<String>,
    ) -> crate::Result<ApplicationDefaultCredentials> {
        Err(not_found(&format!(
            "{gcloud_said}, and the metadata server is not asked: gapi was built without its `metadata` feature"
        )))
    }

    fn load_file(
        &self,
        path: &Path,
        source: AdcSource,
        env_project: Option<String>,
    ) -> crate::Result<ApplicationDefaultCredentials> {
        let name = match &source {
            AdcSource::EnvironmentFile(_) => {
                format!("{} (from {CREDENTIALS_ENV})", path.display())
            }
            AdcSource::GcloudFile(_) => {
                format!(
                    "{} (gcloud's application default credentials)",
                    path.display()
                )
            }
            _ => path.display().to_string(),
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("could not read the credentials file {name}"),
            )
            .with_source(e)
        })?;
        let loaded = self.load_json(&text, &name, 0)?;
        Ok(ApplicationDefaultCredentials {
            credentials: loaded.credentials,
            project_id: env_project.or(loaded.project_id),
            quota_project: loaded.quota_project,
            source,
            kind: loaded.kind,
        })
    }

    /// Builds credentials from a credentials file's JSON (`depth` > 0 for
    /// the `source_credentials` of an impersonation file).
    fn load_json(&self, text: &str, name: &str, depth: u32) -> crate::Result<Loaded> {
        let bad = |msg: String| Error::new(ErrorKind::Decode, format!("{name}: {msg}"));
        let head: TypeOnly = decode_named(text, name)?;
        let Some(kind) = head.kind else {
            return Err(bad(
                "no `type` field (expected `service_account`, `authorized_user` or `impersonated_service_account`)".into(),
            ));
        };
        // The quota project applies to the outermost credentials only.
        let quota = |file: Option<&str>| -> Option<String> {
            if depth > 0 {
                return None;
            }
            self.quota().or_else(|| file.map(str::to_owned))
        };
        match kind.as_str() {
            #[cfg(feature = "service-account")]
            "service_account" => {
                let key = ServiceAccountKey::from_json(text, name)?;
                let quota_project = quota(key.quota_project());
                let project_id = key.project_id().map(str::to_owned);
                let mut b = ServiceAccountCredentials::builder(key);
                if depth == 0 {
                    b = b
                        .with_scopes(self.scopes.clone())
                        .with_self_signed_jwt(self.self_signed_jwt);
                }
                if let Some(q) = &quota_project {
                    b = b.with_quota_project(q.clone());
                }
                if let Some(c) = &self.clock {
                    b = b.with_clock(c.clone());
                }
                Ok(Loaded {
                    credentials: b.build().credentials(),
                    project_id,
                    quota_project,
                    kind: AdcKind::ServiceAccount,
                })
            }
            "authorized_user" => {
                let mut user: UserCredentials = decode_named(text, name)?;
                let quota_project = quota(user.quota_project());
                if let Some(q) = &quota_project {
                    user = user.with_quota_project(q.clone());
                }
                let mut b = UserTokenSource::builder(user);
                if let Some(c) = &self.clock {
                    b = b.with_clock(c.clone());
                }
                Ok(Loaded {
                    credentials: b.build().credentials(),
                    project_id: None,
                    quota_project,
                    kind: AdcKind::AuthorizedUser,
                })
            }
            #[cfg(feature = "impersonation")]
            "impersonated_service_account" if depth == 0 => {
                let f: ImpersonationFile = decode_named(text, name)?;
                let target = target_from_url(&f.service_account_impersonation_url).ok_or_else(|| {
                    bad(format!(
                        "field `service_account_impersonation_url`: `{}` is not a `.../serviceAccounts/{{email}}:generateAccessToken` URL",
                        f.service_account_impersonation_url
                    ))
                })?;
                let inner_name = format!("{name}, field `source_credentials`");
                let source = self.load_json(&serde_json::Value::Object(f.source_credentials).to_string(), &inner_name, 1)?;
                let quota_project = quota(f.quota_project_id.as_deref());
                let scopes = if self.scopes.is_empty() {
                    f.scopes.unwrap_or_default()
                } else {
                    self.scopes.clone()
                };
                let mut b = ImpersonatedCredentials::builder(source.credentials, target)
                    .with_url(f.service_account_impersonation_url)
                    .with_delegates(f.delegates)
                    .with_scopes(scopes);
                if let Some(q) = &quota_project {
                    b = b.with_quota_project(q.clone());
                }
                if let Some(c) = &self.clock {
                    b = b.with_clock(c.clone());
                }
                Ok(Loaded {
                    credentials: b.build().credentials(),
                    project_id: None,
                    quota_project,
                    kind: AdcKind::ImpersonatedServiceAccount,
                })
            }
            #[cfg(not(feature = "impersonation"))]
            "impersonated_service_account" if depth == 0 => {
                Err(without_feature(name, &kind, "impersonation"))
            }
            "impersonated_service_account" => Err(bad(
                "`source_credentials` of type `impersonated_service_account`: chains are expressed with `delegates`".into(),
            )),
            #[cfg(feature = "external-account")]
            "external_account" if depth == 0 => {
                let mut b = ExternalAccountCredentials::from_json(text, name)?;
                if !self.scopes.is_empty() {
                    b = b.with_scopes(self.scopes.clone());
                }
                let file_quota: Option<String> = serde_json::from_str::<serde_json::Value>(text)
                    .ok()
                    .and_then(|v| v.get("quota_project_id")?.as_str().map(str::to_owned));
                let quota_project = quota(file_quota.as_deref());
                if let Some(q) = &quota_project {
                    b = b.with_quota_project(q.clone());
                }
                if let Some(c) = &self.clock {
                    b = b.with_clock(c.clone());
                }
                Ok(Loaded {
                    credentials: b.build()?,
                    project_id: None,
                    quota_project,
                    kind: AdcKind::ExternalAccount,
                })
            }
            #[cfg(not(feature = "service-account"))]
            "service_account" => Err(without_feature(name, &kind, "service-account")),
            #[cfg(not(feature = "external-account"))]
            "external_account" if depth == 0 => {
                Err(without_feature(name, &kind, "external-account"))
            }
            "external_account_authorized_user" => Err(bad(
                "`type` is `external_account_authorized_user` (workforce identity federation through gcloud), which gapi does not read yet; use a workload identity pool's `external_account` configuration".into(),
            )),
            other => Err(bad(format!(
                "unknown `type` `{other}` (gapi reads `service_account`, `authorized_user`, `impersonated_service_account` and `external_account`)"
            ))),
        }
    }
}

struct Loaded {
    credentials: Credentials,
    project_id: Option<String>,
    quota_project: Option<String>,
    kind: AdcKind,
}

#[derive(Deserialize)]
struct TypeOnly {
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

#[cfg(feature = "impersonation")]
#[derive(Deserialize)]
struct ImpersonationFile {
    service_account_impersonation_url: String,
    source_credentials: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    delegates: Vec<String>,
    #[serde(default)]
    quota_project_id: Option<String>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
}

/// A credentials file of a type whose code this build leaves out.
#[cfg(not(all(
    feature = "service-account",
    feature = "impersonation",
    feature = "external-account"
)))]
fn without_feature(name: &str, kind: &str, feature: &str) -> Error {
    Error::new(
        ErrorKind::Auth,
        format!(
            "{name}: credentials of type `{kind}` need gapi's `{feature}` feature, which this program was built without"
        ),
    )
}

fn not_found(detail: &str) -> Error {
    Error::new(
        ErrorKind::Auth,
        format!(
            "no application default credentials: {CREDENTIALS_ENV} is not set, {detail} — run `gcloud auth application-default login`, set {CREDENTIALS_ENV} to a credentials file, or, for public data, use an API key (Credentials::api_key)"
        ),
    )
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.trim().is_empty())
}

/// gcloud's application default credentials file:
/// `$CLOUDSDK_CONFIG/application_default_credentials.json`, else
/// `~/.config/gcloud/...` (`%APPDATA%\gcloud\...` on Windows). `None` when
/// there is no home directory to look in. The file may not exist.
pub fn gcloud_adc_path() -> Option<PathBuf> {
    if let Some(dir) = env("CLOUDSDK_CONFIG") {
        return Some(PathBuf::from(dir).join(GCLOUD_ADC_FILE));
    }
    let dir = if cfg!(windows) {
        PathBuf::from(env("APPDATA")?).join("gcloud")
    } else {
        PathBuf::from(env("HOME")?).join(".config").join("gcloud")
    };
    Some(dir.join(GCLOUD_ADC_FILE))
}

#[cfg(test)]
mod tests {
    //! What ADC does for the credential types a build leaves out (run by
    //! `cargo test -p gapi --lib --no-default-features`); with them, the
    //! integration tests (`tests/auth_s2s_adc.rs`) load every type.

    use super::*;

    /// Loads `json` as an explicit credentials file.
    async fn load(json: &str) -> crate::Result<ApplicationDefaultCredentials> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials.json");
        std::fs::write(&path, json).unwrap();
        ApplicationDefaultBuilder::default()
            .with_credentials_file(&path)
            .build()
            .await
    }

    #[tokio::test]
    async fn authorized_user_files_load_in_every_build() {
        let adc = load(
            r#"{"type": "authorized_user", "client_id": "id", "client_secret": "s3cr3t-client", "refresh_token": "1//s3cr3t-refresh"}"#,
        )
        .await
        .unwrap();
        assert_eq!(adc.kind(), AdcKind::AuthorizedUser);
    }

    #[cfg(not(feature = "service-account"))]
    #[tokio::test]
    async fn a_service_account_key_names_the_missing_feature() {
        let e = load(
            r#"{"type": "service_account", "client_email": "a@b", "private_key": "-----BEGIN PRIVATE KEY-----\ns3cr3t\n-----END PRIVATE KEY-----\n"}"#,
        )
        .await
        .unwrap_err();
        let text = e.to_string();
        assert!(e.is_auth(), "{text}");
        assert!(
            text.contains("`service_account`") && text.contains("`service-account` feature"),
            "{text}"
        );
        assert!(!text.contains("s3cr3t"), "{text}");
    }

    #[cfg(not(feature = "impersonation"))]
    #[tokio::test]
    async fn an_impersonation_file_names_the_missing_feature() {
        let e = load(
            r#"{"type": "impersonated_service_account", "service_account_impersonation_url": "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/sa@p.iam.gserviceaccount.com:generateAccessToken", "source_credentials": {"type": "authorized_user", "client_id": "id", "client_secret": "s3cr3t", "refresh_token": "s3cr3t"}}"#,
        )
        .await
        .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("`impersonation` feature"), "{text}");
        assert!(!text.contains("s3cr3t"), "{text}");
    }

    #[cfg(not(feature = "external-account"))]
    #[tokio::test]
    async fn a_workload_identity_file_names_the_missing_feature() {
        let e = load(
            r#"{"type": "external_account", "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q", "subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "token_url": "https://sts.googleapis.com/v1/token", "credential_source": {"file": "/t"}}"#,
        )
        .await
        .unwrap_err();
        assert!(e.to_string().contains("`external-account` feature"), "{e}");
    }

    #[cfg(not(feature = "metadata"))]
    #[tokio::test]
    async fn without_metadata_the_search_ends_with_the_files() {
        // Only where no file is found (a developer's machine may have one).
        if env(CREDENTIALS_ENV).is_some() || gcloud_adc_path().is_some_and(|p| p.is_file()) {
            return;
        }
        let e = ApplicationDefaultBuilder::default()
            .build()
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(e.is_auth(), "{text}");
        assert!(text.contains("without its `metadata` feature"), "{text}");
    }
}
