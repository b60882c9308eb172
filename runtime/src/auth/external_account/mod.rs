//! Workload identity federation: `external_account` credentials, the way
//! workloads on other clouds, Kubernetes and CI systems (GitHub Actions,
//! GitLab) reach Google without a key.
//!
//! 1. A **subject token** — an OIDC ID token or a SAML assertion the
//!    workload's own platform issued — is read from its
//!    [`SubjectSource`]: a file, a URL, or an executable.
//! 2. It is exchanged at Google's **Security Token Service** (RFC 8693):
//!    `POST token_url` with `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`,
//!    the pool provider's `audience`, the `subject_token` and its type,
//!    `requested_token_type=urn:ietf:params:oauth:token-type:access_token`
//!    and the scopes, answered with `{"access_token", "expires_in", …}`.
//!    A workforce pool's `workforce_pool_user_project` goes in `options`;
//!    a `client_id`/`client_secret` authenticate with HTTP Basic.
//! 3. Optionally, that federated token **impersonates a service account**
//!    (`service_account_impersonation_url`), through the same
//!    [`ImpersonatedCredentials`] as any other source.
//!
//! Tokens go through the same single-flight token cache
//! as every credential: refreshed before they expire, once for all
//! concurrent callers. [Application Default Credentials](super::adc) load
//! `type: external_account` files into these.

mod subject;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;

pub use subject::{
    ALLOW_EXECUTABLES_ENV, DEFAULT_EXECUTABLE_TIMEOUT, SubjectFormat, SubjectSource,
};

use super::CLOUD_PLATFORM_SCOPE;
use super::bearer::{
    BearerCache, BearerToken, CommonConfig, bearer_credential_source, common_builder_methods,
};
use super::file_json::decode_named;
use super::impersonated::target_from_url;
use super::token::{self, RequestConfig};
use super::token_cache::{Check, Need, Refresher};
use super::{AccessToken, Credentials, ImpersonatedCredentials};
use crate::clock::{BoxFuture, SharedClock};
use crate::{Error, ErrorKind};

/// Google's Security Token Service.
pub const STS_TOKEN_URL: &str = "https://sts.googleapis.com/v1/token";

const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// Federated access tokens: a subject token exchanged at the STS (see the
/// [module docs](self)). Built with [`ExternalAccountCredentials::builder`]
/// or from a credentials file with [`ExternalAccountCredentials::from_json`];
/// the builder's [`build`](ExternalAccountCredentialsBuilder::build) gives
/// the [`Credentials`] for a client — impersonating the service account
/// when one is configured.
#[derive(Clone)]
pub struct ExternalAccountCredentials {
    inner: Arc<BearerCache<StsRefresher>>,
}

/// Builds [`ExternalAccountCredentials`].
pub struct ExternalAccountCredentialsBuilder {
    audience: String,
    subject_token_type: String,
    source: SubjectSource,
    token_url: String,
    scopes: Vec<String>,
    client: Option<(String, String)>,
    workforce_user_project: Option<String>,
    impersonation: Option<Impersonation>,
    common: CommonConfig,
}

/// The service account the federated token impersonates.
#[derive(Clone, Debug)]
struct Impersonation {
    url: String,
    lifetime: Option<Duration>,
}

impl fmt::Debug for ExternalAccountCredentialsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExternalAccountCredentialsBuilder")
            .field("audience", &self.audience)
            .field("subject_token_type", &self.subject_token_type)
            .field("source", &self.source)
            .field("token_url", &self.token_url)
            .field("client_id", &self.client.as_ref().map(|(id, _)| id))
            .finish_non_exhaustive()
    }
}

impl ExternalAccountCredentialsBuilder {
    /// The scopes (default: [`CLOUD_PLATFORM_SCOPE`]). With impersonation,
    /// the federated token gets cloud-platform and the impersonated one
    /// these.
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The STS token endpoint (default [`STS_TOKEN_URL`]).
    pub fn with_token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = url.into();
        self
    }

    /// Authenticates the exchange with this OAuth client (HTTP Basic).
    pub fn with_client(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.client = Some((id.into(), secret.into()));
        self
    }

    /// A workforce pool's user project (`options.userProject` of the
    /// exchange, when there is no client).
    pub fn with_workforce_pool_user_project(mut self, project: impl Into<String>) -> Self {
        self.workforce_user_project = Some(project.into());
        self
    }

    /// Impersonates the service account of this `generateAccessToken` URL
    /// with the federated token; `lifetime` of the impersonated token
    /// (default 1 hour).
    pub fn with_impersonation(
        mut self,
        url: impl Into<String>,
        lifetime: Option<Duration>,
    ) -> Self {
        self.impersonation = Some(Impersonation {
            url: url.into(),
            lifetime,
        });
        self
    }

    common_builder_methods!();

    /// The credentials (no request is made yet). Fails when the
    /// impersonation URL names no service account.
    pub fn build(self) -> crate::Result<Credentials> {
        let scopes = if self.scopes.is_empty() {
            vec![CLOUD_PLATFORM_SCOPE.to_owned()]
        } else {
            self.scopes.clone()
        };
        let target = match &self.impersonation {
            Some(i) => Some(target_from_url(&i.url).ok_or_else(|| {
                Error::new(
                    ErrorKind::Request,
                    format!(
                        "`{}` is not a `.../serviceAccounts/{{email}}:generateAccessToken` URL",
                        i.url
                    ),
                )
            })?),
            None => None,
        };
        let sts_scopes = if target.is_some() {
            vec![CLOUD_PLATFORM_SCOPE.to_owned()]
        } else {
            scopes.clone()
        };
        let refresher = StsRefresher {
            audience: self.audience,
            subject_token_type: self.subject_token_type,
            source: self.source,
            token_url: self.token_url,
            scopes: sts_scopes,
            client: self.client,
            workforce_user_project: self.workforce_user_project,
            impersonated_email: target.clone(),
            clock: self.common.clock(),
            request: self.common.request.clone(),
        };
        let mut sts_common = self.common.clone();
        if target.is_some() {
            // The quota project goes on the requests of the impersonated
            // credentials, not on generateAccessToken.
            sts_common.quota_project = None;
        }
        let federated = ExternalAccountCredentials {
            inner: Arc::new(BearerCache::new(refresher, &sts_common)),
        };
        let (Some(imp), Some(target)) = (self.impersonation, target) else {
            return Ok(Credentials::from_source(federated));
        };
        let mut b =
            ImpersonatedCredentials::builder(federated.credentials_unimpersonated(), target)
                .with_url(imp.url)
                .with_scopes(scopes)
                .with_clock(self.common.clock())
                .with_refresh_margin(self.common.margin);
        if let Some(l) = imp.lifetime {
            b = b.with_lifetime(l);
        }
        if let Some(q) = &self.common.quota_project {
            b = b.with_quota_project(q.clone());
        }
        Ok(b.build().credentials())
    }
}

impl ExternalAccountCredentials {
    /// A builder for the pool provider `audience`
    /// (`//iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/R`),
    /// whose subject tokens of `subject_token_type`
    /// (`urn:ietf:params:oauth:token-type:jwt`, `…:id_token`, `…:saml2`)
    /// come from `source`.
    pub fn builder(
        audience: impl Into<String>,
        subject_token_type: impl Into<String>,
        source: SubjectSource,
    ) -> ExternalAccountCredentialsBuilder {
        ExternalAccountCredentialsBuilder {
            audience: audience.into(),
            subject_token_type: subject_token_type.into(),
            source,
            token_url: STS_TOKEN_URL.to_owned(),
            scopes: Vec::new(),
            client: None,
            workforce_user_project: None,
            impersonation: None,
            common: CommonConfig::default(),
        }
    }

    /// A builder from an `external_account` credentials file's JSON; `name`
    /// (e.g. the file's path) locates errors.
    pub fn from_json(json: &str, name: &str) -> crate::Result<ExternalAccountCredentialsBuilder> {
        let f: ExternalAccountFile = decode_named(json, name)?;
        if f.kind != "external_account" {
            return Err(Error::new(
                ErrorKind::Decode,
                format!(
                    "{name}: `type` is `{}`, expected `external_account`",
                    f.kind
                ),
            ));
        }
        let source = f.credential_source.into_source(name)?;
        let mut b = ExternalAccountCredentials::builder(f.audience, f.subject_token_type, source);
        if let Some(url) = f.token_url {
            b = b.with_token_url(url);
        }
        if let (Some(id), Some(secret)) = (f.client_id, f.client_secret) {
            b = b.with_client(id, secret);
        }
        if let Some(p) = f.workforce_pool_user_project {
            b = b.with_workforce_pool_user_project(p);
        }
        if let Some(url) = f.service_account_impersonation_url {
            let lifetime = f
                .service_account_impersonation
                .and_then(|i| i.token_lifetime_seconds)
                .map(Duration::from_secs);
            b = b.with_impersonation(url, lifetime);
        }
        if let Some(q) = f.quota_project_id {
            b = b.with_quota_project(q);
        }
        Ok(b)
    }

    /// The federated token alone, as credentials.
    fn credentials_unimpersonated(&self) -> Credentials {
        Credentials::from_source(self.clone())
    }

    /// A valid federated access token, exchanging first if needed.
    pub async fn access_token(&self) -> crate::Result<AccessToken> {
        self.inner.access_token().await
    }

    fn describe_source(&self) -> String {
        let r = self.inner.cache.refresher();
        format!("external account {} ({:?})", r.audience, r.source)
    }
}

bearer_credential_source!(ExternalAccountCredentials);

impl fmt::Debug for ExternalAccountCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.inner.cache.refresher();
        f.debug_struct("ExternalAccountCredentials")
            .field("audience", &r.audience)
            .field("source", &r.source)
            .field("token_url", &r.token_url)
            .field("scopes", &r.scopes)
            .finish_non_exhaustive()
    }
}

/// An `external_account` credentials file.
#[derive(Deserialize)]
struct ExternalAccountFile {
    #[serde(rename = "type")]
    kind: String,
    audience: String,
    subject_token_type: String,
    #[serde(default)]
    token_url: Option<String>,
    credential_source: subject::SourceFile,
    #[serde(default)]
    service_account_impersonation_url: Option<String>,
    #[serde(default)]
    service_account_impersonation: Option<ImpersonationOptions>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    quota_project_id: Option<String>,
    #[serde(default)]
    workforce_pool_user_project: Option<String>,
}

#[derive(Deserialize)]
struct ImpersonationOptions {
    #[serde(default)]
    token_lifetime_seconds: Option<u64>,
}

struct StsRefresher {
    audience: String,
    subject_token_type: String,
    source: SubjectSource,
    token_url: String,
    scopes: Vec<String>,
    client: Option<(String, String)>,
    workforce_user_project: Option<String>,
    impersonated_email: Option<String>,
    clock: SharedClock,
    request: RequestConfig,
}

impl Refresher for StsRefresher {
    type Token = BearerToken;

    fn refresh<'a>(
        &'a self,
        _current: BearerToken,
        _need: &'a Need,
        _check: Check<'a>,
    ) -> BoxFuture<'a, crate::Result<BearerToken>> {
        Box::pin(self.exchange())
    }
}

impl StsRefresher {
    async fn exchange(&self) -> crate::Result<BearerToken> {
        let what = "exchanging the subject token at the security token service";
        let started = self.clock.now();
        let ctx = subject::ExecutableContext {
            audience: &self.audience,
            token_type: &self.subject_token_type,
            impersonated_email: self.impersonated_email.as_deref(),
            now: started,
        };
        let subject_token = self.source.token(&ctx).await?;
        let scope = self.scopes.join(" ");
        let options = match (&self.workforce_user_project, &self.client) {
            (Some(p), None) => Some(serde_json::json!({ "userProject": p }).to_string()),
            _ => None,
        };
        let mut form = vec![
            ("grant_type", TOKEN_EXCHANGE_GRANT),
            ("audience", self.audience.as_str()),
            ("scope", scope.as_str()),
            ("requested_token_type", ACCESS_TOKEN_TYPE),
            ("subject_token", subject_token.as_str()),
            ("subject_token_type", self.subject_token_type.as_str()),
        ];
        if let Some(o) = &options {
            form.push(("options", o.as_str()));
        }
        let basic = self.client.as_ref().map(|(id, secret)| {
            let pair = format!("{id}:{secret}");
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        });
        let headers: Vec<(&str, &str)> = basic
            .as_deref()
            .map(|b| ("authorization", b))
            .into_iter()
            .collect();
        let mut secrets = vec![subject_token.as_str()];
        if let Some((_, s)) = &self.client {
            secrets.push(s.as_str());
        }
        tracing::debug!(audience = %self.audience, token_url = %self.token_url, "{what}");
        let m = token::with_retries(&self.clock, &self.request, what, || {
            token::json_request_with_headers(
                &self.token_url,
                &form,
                &headers,
                &self.request,
                what,
                &secrets,
            )
        })
        .await
        .map_err(|f| {
            tracing::warn!(error = %f.error, "{what} failed");
            Error::from(f)
        })?;
        let access = token::string_member(&m, "access_token").ok_or_else(|| {
            Error::new(
                ErrorKind::Decode,
                format!(
                    "{what}: the answer of {} has no `access_token`",
                    self.token_url
                ),
            )
        })?;
        let expiry = token::seconds_member(&m, "expires_in").map(|d| started + d);
        tracing::info!(
            audience = %self.audience,
            expires_in_secs = expiry.and_then(|e| e.duration_since(started).ok()).map(|d| d.as_secs()),
            "got a federated access token"
        );
        Ok(BearerToken::new(AccessToken::new(access), expiry))
    }
}
