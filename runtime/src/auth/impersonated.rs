//! Impersonation: source credentials obtain short-lived tokens of another
//! service account through the IAM Service Account Credentials API
//! (`generateAccessToken`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::bearer::{
    BearerCache, BearerToken, CommonConfig, bearer_credential_source, common_builder_methods,
};
use super::token::{self, Failure, RequestConfig};
use super::token_cache::{Check, Need, Refresher};
use super::{AccessToken, Authorization, CLOUD_PLATFORM_SCOPE, Credentials};
use crate::clock::{BoxFuture, SharedClock};
use crate::{ApiError, Error, ErrorKind};

/// The IAM Service Account Credentials API's root.
pub const IAM_CREDENTIALS_ENDPOINT: &str = "https://iamcredentials.googleapis.com";

/// The default lifetime of an impersonated token (the API's default).
pub const DEFAULT_IMPERSONATION_LIFETIME: Duration = Duration::from_secs(3600);

/// Tokens of a target service account, obtained with source credentials that
/// hold `roles/iam.serviceAccountTokenCreator` on it (directly, or through a
/// chain of `delegates`):
///
/// `POST {endpoint}/v1/projects/-/serviceAccounts/{target}:generateAccessToken`
/// with `{"scope": [...], "delegates": [...], "lifetime": "3600s"}` and the
/// source's `Authorization`, answered with `{"accessToken", "expireTime"}`.
///
/// A 401 makes the source refresh once; 429, 5xx and network errors are
/// retried; 403 (missing permission) and 404 (no such account) fail with an
/// [`ErrorKind::Auth`] error naming the account. Tokens are cached and
/// refreshed before expiry, once for all concurrent callers.
#[derive(Clone)]
pub struct ImpersonatedCredentials {
    inner: Arc<BearerCache<ImpersonationRefresher>>,
}

/// Builds [`ImpersonatedCredentials`].
pub struct ImpersonatedCredentialsBuilder {
    source: Credentials,
    target: String,
    scopes: Vec<String>,
    delegates: Vec<String>,
    lifetime: Duration,
    endpoint: String,
    url: Option<String>,
    common: CommonConfig,
}

impl fmt::Debug for ImpersonatedCredentialsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImpersonatedCredentialsBuilder")
            .field("source", &self.source)
            .field("target", &self.target)
            .field("delegates", &self.delegates)
            .finish_non_exhaustive()
    }
}

impl ImpersonatedCredentialsBuilder {
    /// The scopes of the impersonated token (default:
    /// [`CLOUD_PLATFORM_SCOPE`]).
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// The delegation chain: service accounts (emails or
    /// `projects/-/serviceAccounts/{email}`) each of which may impersonate
    /// the next, the last one the target.
    pub fn with_delegates<I, S>(mut self, delegates: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.delegates = delegates.into_iter().map(Into::into).collect();
        self
    }

    /// The lifetime to ask for (default 1 hour; up to 12 hours where the
    /// organization allows it). Sent in whole seconds.
    pub fn with_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// The API root (default [`IAM_CREDENTIALS_ENDPOINT`]); for emulators
    /// and tests.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = endpoint.into();
        self
    }

    /// The whole `generateAccessToken` URL (as in the
    /// `service_account_impersonation_url` of a credentials file).
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    common_builder_methods!();

    /// The credentials (no request is made yet).
    pub fn build(self) -> ImpersonatedCredentials {
        let url = self.url.unwrap_or_else(|| {
            format!(
                "{}/v1/projects/-/serviceAccounts/{}:generateAccessToken",
                self.endpoint.trim_end_matches('/'),
                self.target
            )
        });
        let delegates = self
            .delegates
            .into_iter()
            .map(|d| {
                if d.starts_with("projects/") {
                    d
                } else {
                    format!("projects/-/serviceAccounts/{d}")
                }
            })
            .collect();
        let scopes = if self.scopes.is_empty() {
            vec![CLOUD_PLATFORM_SCOPE.to_owned()]
        } else {
            self.scopes
        };
        let refresher = ImpersonationRefresher {
            source: self.source,
            target: self.target,
            scopes,
            delegates,
            lifetime: self.lifetime,
            url,
            clock: self.common.clock(),
            request: self.common.request.clone(),
        };
        ImpersonatedCredentials {
            inner: Arc::new(BearerCache::new(refresher, &self.common)),
        }
    }
}

impl ImpersonatedCredentials {
    /// A builder: `source` impersonates `target_principal` (a service
    /// account email).
    pub fn builder(
        source: Credentials,
        target_principal: impl Into<String>,
    ) -> ImpersonatedCredentialsBuilder {
        ImpersonatedCredentialsBuilder {
            source,
            target: target_principal.into(),
            scopes: Vec::new(),
            delegates: Vec::new(),
            lifetime: DEFAULT_IMPERSONATION_LIFETIME,
            endpoint: IAM_CREDENTIALS_ENDPOINT.to_owned(),
            url: None,
            common: CommonConfig::default(),
        }
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

    /// The impersonated service account.
    pub fn target_principal(&self) -> &str {
        &self.inner.cache.refresher().target
    }

    fn describe_source(&self) -> String {
        let r = self.inner.cache.refresher();
        format!("{} impersonated by {:?}", r.target, r.source)
    }
}

bearer_credential_source!(ImpersonatedCredentials);

impl fmt::Debug for ImpersonatedCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.inner.cache.refresher();
        f.debug_struct("ImpersonatedCredentials")
            .field("target", &r.target)
            .field("source", &r.source)
            .field("delegates", &r.delegates)
            .field("scopes", &r.scopes)
            .field("lifetime", &r.lifetime)
            .field("url", &r.url)
            .field("quota_project", &self.inner.quota_project)
            .finish()
    }
}

/// Extracts the target email from a `generateAccessToken` URL.
pub(crate) fn target_from_url(url: &str) -> Option<String> {
    let start = url.rfind("/serviceAccounts/")? + "/serviceAccounts/".len();
    let rest = &url[start..];
    let end = rest.find(":generateAccessToken")?;
    let email = &rest[..end];
    (!email.is_empty()).then(|| {
        percent_encoding::percent_decode_str(email)
            .decode_utf8_lossy()
            .into_owned()
    })
}

struct ImpersonationRefresher {
    source: Credentials,
    target: String,
    scopes: Vec<String>,
    delegates: Vec<String>,
    lifetime: Duration,
    url: String,
    clock: SharedClock,
    request: RequestConfig,
}

impl Refresher for ImpersonationRefresher {
    type Token = BearerToken;

    fn refresh<'a>(
        &'a self,
        _current: BearerToken,
        _need: &'a Need,
        _check: Check<'a>,
    ) -> BoxFuture<'a, crate::Result<BearerToken>> {
        Box::pin(self.generate())
    }
}

impl ImpersonationRefresher {
    async fn generate(&self) -> crate::Result<BearerToken> {
        let what = format!("impersonating {}", self.target);
        let body = serde_json::json!({
            "scope": self.scopes,
            "delegates": self.delegates,
            "lifetime": format!("{}s", self.lifetime.as_secs().max(1)),
        })
        .to_string();
        tracing::debug!(target_principal = %self.target, url = %self.url, "{what}");
        let token = token::with_retries(&self.clock, &self.request, &what, || {
            self.attempt(&body, &what)
        })
        .await
        .map_err(|f| {
            tracing::warn!(error = %f.error, "{what} failed");
            Error::from(f)
        })?;
        tracing::info!(target_principal = %self.target, "got an impersonated access token");
        Ok(token)
    }

    /// One request, plus one more after the source refreshed on a 401.
    async fn attempt(&self, body: &str, what: &str) -> Result<BearerToken, Failure> {
        let mut refreshed = false;
        loop {
            let auth = self.source.authorization().await.map_err(|e| Failure {
                error: Box::new(e),
                transient: false,
            })?;
            let (status, headers, resp) = self.post(&auth, body, what).await?;
            if status == 401 && !refreshed {
                let again = self
                    .source
                    .refresh_after_unauthorized(&auth)
                    .await
                    .map_err(|e| Failure {
                        error: Box::new(e),
                        transient: false,
                    })?;
                if again {
                    refreshed = true;
                    continue;
                }
            }
            let secrets: Vec<&str> = auth
                .access_token()
                .map(|t| t.secret())
                .into_iter()
                .collect();
            return self.parse(status, headers, &resp, what, &secrets);
        }
    }

    async fn post(
        &self,
        auth: &Authorization,
        body: &str,
        what: &str,
    ) -> Result<(u16, Vec<(String, String)>, Vec<u8>), Failure> {
        let client = crate::transport::shared().map_err(|e| Failure {
            error: Box::new(e),
            transient: false,
        })?;
        let url = &self.url;
        let fail = |e: crate::transport::HttpError| {
            let error = crate::transport::map_err(e, &format!("{what} at {url}"));
            let transient = matches!(error.kind(), ErrorKind::Transport | ErrorKind::Timeout);
            Failure {
                error: Box::new(error),
                transient,
            }
        };
        let req = client
            .post(url.as_str())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .body(body.to_owned())
            .timeout(self.request.timeout);
        let resp = auth.apply(req).send().await.map_err(fail)?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let bytes = resp.bytes().await.map_err(fail)?.to_vec();
        Ok((status, headers, bytes))
    }

    fn parse(
        &self,
        status: u16,
        headers: Vec<(String, String)>,
        body: &[u8],
        what: &str,
        secrets: &[&str],
    ) -> Result<BearerToken, Failure> {
        let url = &self.url;
        if (200..300).contains(&status) {
            let decode = |msg: &str| Failure {
                error: Box::new(Error::new(
                    ErrorKind::Decode,
                    format!("{what}: the answer of {url} {msg}"),
                )),
                transient: false,
            };
            let v: serde_json::Value =
                serde_json::from_slice(body).map_err(|_| decode("is not JSON"))?;
            let token = v
                .get("accessToken")
                .and_then(|t| t.as_str())
                .filter(|t| !t.is_empty())
                .ok_or_else(|| decode("has no `accessToken`"))?;
            let expiry = v
                .get("expireTime")
                .and_then(|t| t.as_str())
                .and_then(|t| crate::rfc3339::parse(t).ok())
                .ok_or_else(|| decode("has no RFC 3339 `expireTime`"))?;
            return Ok(BearerToken::new(AccessToken::new(token), Some(expiry)));
        }
        let redactor = crate::redact::Redactor::new(secrets.iter().copied());
        let api = ApiError::from_response_redacted(status, headers, body, &redactor);
        let transient = matches!(status, 408 | 429 | 500 | 502 | 503 | 504);
        let error = if transient {
            let mut api = api;
            api.message = format!("{what} at {url}: {}", api.message);
            Error::api(api)
        } else {
            let code = api
                .status
                .clone()
                .unwrap_or_else(|| format!("HTTP {status}"));
            let hint = match status {
                401 => "; the source credentials were refused",
                403 => {
                    "; the source credentials need roles/iam.serviceAccountTokenCreator on the target (or on each delegate)"
                }
                404 => "; is the service account's email right?",
                _ => "",
            };
            Error::auth(
                Some(&code),
                format!(
                    "{what} at {url} failed (HTTP {status}): {}{hint}",
                    api.message
                ),
            )
        };
        Err(Failure {
            error: Box::new(error),
            transient,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_from_urls() {
        assert_eq!(
            target_from_url("https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/sa@p.iam.gserviceaccount.com:generateAccessToken").as_deref(),
            Some("sa@p.iam.gserviceaccount.com")
        );
        assert_eq!(
            target_from_url(
                "http://127.0.0.1:1/v1/projects/-/serviceAccounts/a%40b:generateAccessToken"
            )
            .as_deref(),
            Some("a@b")
        );
        assert_eq!(target_from_url("https://x/v1/other"), None);
    }
}
