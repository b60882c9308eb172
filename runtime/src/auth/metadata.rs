//! Credentials from the metadata server of Google Cloud (Compute Engine,
//! GKE, Cloud Run, Cloud Functions, App Engine flexible): the instance's
//! service account, with no key on disk.
//!
//! The server is `GCE_METADATA_HOST` (`host:port`) when set, else
//! `metadata.google.internal`, falling back to `169.254.169.254` (or
//! `GCE_METADATA_IP`) when that name does not resolve, as google-auth does.
//! Every request carries `Metadata-Flavor: Google`.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use super::bearer::{
    BearerCache, BearerToken, CommonConfig, bearer_credential_source, common_builder_methods,
};
use super::token::{self, Failure, RequestConfig};
use super::token_cache::{Check, Need, Refresher};
use super::{AccessToken, Credentials};
use crate::clock::{BoxFuture, SharedClock};
use crate::{ApiError, Error, ErrorKind};

/// The metadata server's name inside Google Cloud.
pub const METADATA_HOST: &str = "metadata.google.internal";
/// The metadata server's link-local address, used when the name does not
/// resolve.
pub const METADATA_IP: &str = "169.254.169.254";
/// The environment variable that points at another metadata server
/// (`host:port`, e.g. an emulator).
pub const METADATA_HOST_ENV: &str = "GCE_METADATA_HOST";
/// How long one detection probe waits, by default (google-auth: 3 s;
/// `GCE_METADATA_TIMEOUT` overrides it, in seconds).
pub const DEFAULT_DETECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How many detection probes are made, by default (`GCE_METADATA_DETECT_RETRIES`
/// overrides it).
pub const DEFAULT_DETECT_ATTEMPTS: u32 = 3;

/// What is escaped in the account's path segment (an email stays readable).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'/')
    .add(b'?')
    .add(b'#')
    .add(b'%');

const TOKEN_PATH: &str = "/computeMetadata/v1/instance/service-accounts";
const PROJECT_PATH: &str = "/computeMetadata/v1/project/project-id";

/// Where the metadata server is and how it is probed.
#[derive(Clone, Debug)]
pub(crate) struct MetadataEndpoint {
    /// Base URLs to try in order (`http://host[:port]`); the first that
    /// answers is kept.
    candidates: Vec<String>,
    chosen: Arc<OnceLock<String>>,
    pub detect_timeout: Duration,
    pub detect_attempts: u32,
}

impl MetadataEndpoint {
    /// `host` (`host:port`) when given, else `GCE_METADATA_HOST`, else
    /// Google's name with the IP as fallback. Timeouts from the environment
    /// when set.
    pub fn new(host: Option<String>) -> Self {
        let env_host = std::env::var(METADATA_HOST_ENV)
            .ok()
            .filter(|s| !s.trim().is_empty());
        let candidates = match host.or(env_host) {
            Some(h) => vec![base_url(&h)],
            None => {
                let ip = std::env::var("GCE_METADATA_IP")
                    .ok()
                    .filter(|s| !s.trim().is_empty())
                    .unwrap_or_else(|| METADATA_IP.to_owned());
                vec![base_url(METADATA_HOST), base_url(&ip)]
            }
        };
        let detect_timeout = std::env::var("GCE_METADATA_TIMEOUT")
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .filter(|s| *s > 0.0 && s.is_finite())
            .map(Duration::from_secs_f64)
            .unwrap_or(DEFAULT_DETECT_TIMEOUT);
        let detect_attempts = std::env::var("GCE_METADATA_DETECT_RETRIES")
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
            .unwrap_or(DEFAULT_DETECT_ATTEMPTS)
            .max(1);
        MetadataEndpoint {
            candidates,
            chosen: Arc::new(OnceLock::new()),
            detect_timeout,
            detect_attempts,
        }
    }

    /// The base URL in use (the first candidate until one answered).
    pub fn base(&self) -> &str {
        self.chosen
            .get()
            .map(String::as_str)
            .unwrap_or(&self.candidates[0])
    }

    /// Whether a metadata server answers: a GET of `/` that comes back with
    /// `Metadata-Flavor: Google`, with a short timeout, a few times. Never
    /// hangs longer than `attempts × timeout` plus small pauses.
    pub async fn detect(&self, clock: &SharedClock) -> Result<(), String> {
        let mut last = String::new();
        for attempt in 1..=self.detect_attempts {
            for base in &self.candidates {
                match probe(base, self.detect_timeout).await {
                    Ok(()) => {
                        let _ = self.chosen.set(base.clone());
                        tracing::debug!(metadata_server = %base, "a metadata server answered");
                        return Ok(());
                    }
                    Err(e) => last = format!("{base}: {e}"),
                }
            }
            if attempt < self.detect_attempts {
                clock
                    .sleep(Duration::from_millis(100 * attempt as u64))
                    .await;
            }
        }
        tracing::debug!(error = %last, "no metadata server answered");
        Err(last)
    }

    /// GETs `path` with `Metadata-Flavor: Google`, on the chosen server or,
    /// when a candidate cannot be reached, the next one.
    async fn get(
        &self,
        path_and_query: &str,
        timeout: Duration,
        what: &str,
    ) -> Result<(u16, Vec<(String, String)>, Vec<u8>), Failure> {
        let bases: Vec<String> = match self.chosen.get() {
            Some(b) => vec![b.clone()],
            None => self.candidates.clone(),
        };
        let mut last = None;
        for base in bases {
            let url = format!("{base}{path_and_query}");
            match get_once(&url, timeout, what).await {
                Ok(r) => {
                    let _ = self.chosen.set(base);
                    return Ok(r);
                }
                // Only a server that cannot be reached (a name that does not
                // resolve) sends us to the next candidate.
                Err(f) if f.error.is_transport() => last = Some(f),
                Err(f) => return Err(f),
            }
        }
        Err(last.expect("at least one candidate"))
    }

    /// The project id (`/computeMetadata/v1/project/project-id`).
    pub async fn project_id(
        &self,
        request: &RequestConfig,
        clock: &SharedClock,
    ) -> crate::Result<String> {
        let what = "reading the project id from the metadata server";
        let text = token::with_retries(clock, request, what, || async {
            let (status, headers, body) = self.get(PROJECT_PATH, request.timeout, what).await?;
            check_status(status, headers, &body, what, self.base())?;
            Ok(String::from_utf8_lossy(&body).trim().to_owned())
        })
        .await?;
        if text.is_empty() {
            return Err(Error::new(
                ErrorKind::Decode,
                format!("{what}: the answer of {} was empty", self.base()),
            ));
        }
        Ok(text)
    }
}

fn base_url(host: &str) -> String {
    let h = host.trim().trim_end_matches('/');
    if h.starts_with("http://") || h.starts_with("https://") {
        h.to_owned()
    } else {
        format!("http://{h}")
    }
}

async fn get_once(
    url: &str,
    timeout: Duration,
    what: &str,
) -> Result<(u16, Vec<(String, String)>, Vec<u8>), Failure> {
    let client = crate::transport::shared().map_err(|e| Failure {
        error: Box::new(e),
        transient: false,
    })?;
    let fail = |e: crate::transport::HttpError| {
        let error = crate::transport::map_err(e, &format!("{what} at {url}"));
        let transient = matches!(error.kind(), ErrorKind::Transport | ErrorKind::Timeout);
        Failure {
            error: Box::new(error),
            transient,
        }
    };
    let resp = client
        .get(url)
        .header("Metadata-Flavor", "Google")
        .timeout(timeout)
        .send()
        .await
        .map_err(fail)?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let body = resp.bytes().await.map_err(fail)?.to_vec();
    Ok((status, headers, body))
}

async fn probe(base: &str, timeout: Duration) -> Result<(), String> {
    let client = crate::transport::shared().map_err(|e| e.to_string())?;
    let resp = client
        .get(format!("{base}/"))
        .header("Metadata-Flavor", "Google")
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                format!("no answer within {timeout:?}")
            } else if e.is_connect() {
                "could not connect".to_owned()
            } else {
                "the request failed".to_owned()
            }
        })?;
    let flavor = resp
        .headers()
        .get("metadata-flavor")
        .and_then(|v| v.to_str().ok());
    if flavor == Some("Google") {
        Ok(())
    } else {
        Err(format!(
            "HTTP {} without `Metadata-Flavor: Google` (not a metadata server)",
            resp.status().as_u16()
        ))
    }
}

/// Turns a non-2xx answer into a failure, transient for 429 and 5xx.
fn check_status(
    status: u16,
    headers: Vec<(String, String)>,
    body: &[u8],
    what: &str,
    base: &str,
) -> Result<(), Failure> {
    if (200..300).contains(&status) {
        return Ok(());
    }
    let transient = matches!(status, 408 | 429 | 500 | 502 | 503 | 504);
    let text = String::from_utf8_lossy(&body[..body.len().min(512)])
        .trim()
        .to_owned();
    let error = match status {
        403 | 404 => Error::auth(
            None,
            format!(
                "{what} at {base} failed (HTTP {status}): {text} (is a service account attached to this instance, with these scopes?)"
            ),
        ),
        _ => {
            let mut api = ApiError::from_response(status, headers, body);
            api.message = format!("{what} at {base}: {}", api.message);
            Error::api(api)
        }
    };
    Err(Failure {
        error: Box::new(error),
        transient,
    })
}

/// Credentials of the service account attached to the Google Cloud
/// resource this program runs on, from its metadata server
/// (`/computeMetadata/v1/instance/service-accounts/default/token`).
///
/// Tokens are cached, refreshed before expiry once for all concurrent
/// callers; 5xx answers and network errors are retried. Building does not
/// contact the server: use [`detect`](Self::detect) to check it is there
/// (Application Default Credentials do).
#[derive(Clone)]
pub struct MetadataServerCredentials {
    inner: Arc<BearerCache<MetadataRefresher>>,
}

/// Builds [`MetadataServerCredentials`].
#[derive(Default)]
pub struct MetadataServerCredentialsBuilder {
    host: Option<String>,
    account: Option<String>,
    scopes: Vec<String>,
    detect_timeout: Option<Duration>,
    detect_attempts: Option<u32>,
    common: CommonConfig,
}

impl MetadataServerCredentialsBuilder {
    /// The metadata server as `host:port` (default `GCE_METADATA_HOST`, else
    /// `metadata.google.internal`); for emulators and tests.
    pub fn with_host(mut self, host: impl Into<String>) -> Self {
        self.host = Some(host.into());
        self
    }

    /// The service account to use (default `default`: the one attached).
    pub fn with_account(mut self, email: impl Into<String>) -> Self {
        self.account = Some(email.into());
        self
    }

    /// The scopes to ask for. Without them the server answers with the
    /// instance's scopes.
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// How long one detection probe waits (default 3 s or
    /// `GCE_METADATA_TIMEOUT`).
    pub fn with_detect_timeout(mut self, timeout: Duration) -> Self {
        self.detect_timeout = Some(timeout);
        self
    }

    /// How many detection probes are made (default 3 or
    /// `GCE_METADATA_DETECT_RETRIES`).
    pub fn with_detect_attempts(mut self, attempts: u32) -> Self {
        self.detect_attempts = Some(attempts.max(1));
        self
    }

    common_builder_methods!();

    /// The credentials (no request is made yet).
    pub fn build(self) -> MetadataServerCredentials {
        let mut endpoint = MetadataEndpoint::new(self.host);
        if let Some(t) = self.detect_timeout {
            endpoint.detect_timeout = t;
        }
        if let Some(n) = self.detect_attempts {
            endpoint.detect_attempts = n;
        }
        let refresher = MetadataRefresher {
            endpoint,
            account: self.account.unwrap_or_else(|| "default".to_owned()),
            scopes: self.scopes,
            clock: self.common.clock(),
            request: self.common.request.clone(),
        };
        MetadataServerCredentials {
            inner: Arc::new(BearerCache::new(refresher, &self.common)),
        }
    }
}

impl MetadataServerCredentials {
    /// A builder.
    pub fn builder() -> MetadataServerCredentialsBuilder {
        MetadataServerCredentialsBuilder::default()
    }

    /// Credentials with the defaults (the attached account, its scopes).
    pub fn new() -> Self {
        Self::builder().build()
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

    /// Checks that a metadata server answers (short timeout, a few probes).
    /// The error says where it looked and what happened.
    pub async fn detect(&self) -> crate::Result<()> {
        let r = self.inner.cache.refresher();
        r.endpoint.detect(&r.clock).await.map_err(|e| {
            Error::new(
                ErrorKind::Transport,
                format!("no metadata server answered ({e}); not running on Google Cloud?"),
            )
        })
    }

    /// The project this instance runs in.
    pub async fn project_id(&self) -> crate::Result<String> {
        let r = self.inner.cache.refresher();
        r.endpoint.project_id(&r.request, &r.clock).await
    }

    /// The metadata server's base URL (`http://host[:port]`).
    pub fn base_url(&self) -> &str {
        self.inner.cache.refresher().endpoint.base()
    }

    fn describe_source(&self) -> String {
        let r = self.inner.cache.refresher();
        format!(
            "metadata server {} (service account {})",
            r.endpoint.base(),
            r.account
        )
    }
}

impl Default for MetadataServerCredentials {
    fn default() -> Self {
        Self::new()
    }
}

bearer_credential_source!(MetadataServerCredentials);

impl fmt::Debug for MetadataServerCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.inner.cache.refresher();
        f.debug_struct("MetadataServerCredentials")
            .field("server", &r.endpoint.base())
            .field("account", &r.account)
            .field("scopes", &r.scopes)
            .field("quota_project", &self.inner.quota_project)
            .finish()
    }
}

struct MetadataRefresher {
    endpoint: MetadataEndpoint,
    account: String,
    scopes: Vec<String>,
    clock: SharedClock,
    request: RequestConfig,
}

impl Refresher for MetadataRefresher {
    type Token = BearerToken;

    fn refresh<'a>(
        &'a self,
        _current: BearerToken,
        _need: &'a Need,
        _check: Check<'a>,
    ) -> BoxFuture<'a, crate::Result<BearerToken>> {
        Box::pin(self.fetch())
    }
}

impl MetadataRefresher {
    async fn fetch(&self) -> crate::Result<BearerToken> {
        let what = "getting a token from the metadata server";
        let mut path = format!(
            "{TOKEN_PATH}/{}/token",
            percent_encoding::utf8_percent_encode(&self.account, SEGMENT)
        );
        if !self.scopes.is_empty() {
            let q = form_urlencoded::Serializer::new(String::new())
                .append_pair("scopes", &self.scopes.join(","))
                .finish();
            path = format!("{path}?{q}");
        }
        let started: SystemTime = self.clock.now();
        let (token, expires_in) = token::with_retries(&self.clock, &self.request, what, || async {
            let (status, headers, body) =
                self.endpoint.get(&path, self.request.timeout, what).await?;
            let base = self.endpoint.base();
            check_status(status, headers, &body, what, base)?;
            let v: serde_json::Value = serde_json::from_slice(&body).map_err(|_| Failure {
                error: Box::new(Error::new(
                    ErrorKind::Decode,
                    format!("{what}: the answer of {base} is not JSON"),
                )),
                transient: false,
            })?;
            let Some(t) = v.get("access_token").and_then(|t| t.as_str()) else {
                return Err(Failure {
                    error: Box::new(Error::new(
                        ErrorKind::Decode,
                        format!("{what}: the answer of {base} has no `access_token`"),
                    )),
                    transient: false,
                });
            };
            let expires_in = v.get("expires_in").and_then(|e| e.as_u64());
            Ok((AccessToken::new(t), expires_in))
        })
        .await
        .map_err(|f| {
            tracing::warn!(error = %f.error, "{what} failed");
            Error::from(f)
        })?;
        tracing::info!(
            metadata_server = %self.endpoint.base(),
            expires_in_secs = expires_in,
            "got an access token from the metadata server"
        );
        Ok(BearerToken::new(
            token,
            expires_in.map(|s| started + Duration::from_secs(s)),
        ))
    }
}
