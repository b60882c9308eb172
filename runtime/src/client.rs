//! [`Client`]: the transport, credentials and retry policy shared by every
//! request, and [`Service`]: a client bound to one API's endpoint.
//!
//! The request path: a generated builder fills a [`crate::Call`]; `Call::send`
//! prepares a [`Prepared`] request and hands it to [`Client::execute`], which
//! attaches auth, sends, retries and refreshes on 401.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::Credentials;
use crate::clock::{SharedClock, default_clock};
use crate::error::{ApiError, Error, ErrorKind, Result};
use crate::method::ServiceInfo;
use crate::retry::RetryPolicy;
use crate::transport::{self, TransportConfig};

/// An HTTP client for Google APIs: transport (reqwest + rustls, gzip, connection
/// pool), credentials, retry policy. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    credentials: Credentials,
    retry: RetryPolicy,
    clock: SharedClock,
    timeout: Option<Duration>,
    api_client_header: String,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("credentials", &self.inner.credentials)
            .field("retry", &self.inner.retry)
            .field("timeout", &self.inner.timeout)
            .finish()
    }
}

/// Builds a [`Client`].
#[derive(Debug, Default)]
pub struct ClientBuilder {
    credentials: Option<Credentials>,
    retry: Option<RetryPolicy>,
    clock: Option<SharedClock>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    user_agent: Option<String>,
}

impl fmt::Debug for dyn crate::clock::Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Clock")
    }
}

impl ClientBuilder {
    /// The credentials attached to every request (default: anonymous).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The retry policy (default: [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// The clock used for backoff sleeps (tests inject one).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// A timeout for each attempt (default: none; the retry policy's total
    /// timeout still bounds the whole call).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The connect timeout (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// A product token prepended to the user agent, e.g. `my-app/1.2`.
    pub fn user_agent(mut self, product: impl Into<String>) -> Self {
        self.user_agent = Some(product.into());
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client> {
        let mut cfg = TransportConfig::default();
        if let Some(t) = self.connect_timeout {
            cfg.connect_timeout = t;
        }
        if let Some(ua) = self.user_agent {
            cfg.user_agent = format!("{ua} {}", cfg.user_agent);
        }
        let http = transport::build(&cfg)?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                credentials: self.credentials.unwrap_or_default(),
                retry: self.retry.unwrap_or_default(),
                clock: self.clock.unwrap_or_else(default_clock),
                timeout: self.timeout,
                api_client_header: format!("gl-rust/unknown gdcl/{}", env!("CARGO_PKG_VERSION")),
            }),
        })
    }
}

/// A request ready to send (after URL expansion and body serialization).
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub method: reqwest::Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<(bytes::Bytes, String)>,
    pub idempotent: bool,
    pub timeout: Option<Duration>,
    pub retry: Option<RetryPolicy>,
    /// Short description for errors and logs (method id); never secrets.
    pub what: &'static str,
    /// A streamed body (media), used when `body` is `None`.
    pub stream: Option<StreamBody>,
}

impl Prepared {
    /// Whether the request can be sent again (its body can be made again).
    pub fn replayable(&self) -> bool {
        self.stream.as_ref().is_none_or(|s| s.replayable)
    }
}

/// A request body made afresh for each attempt: streamed media. A body
/// that cannot be made again (a one-shot reader) makes the request
/// non-retryable once sent.
#[derive(Clone)]
pub(crate) struct StreamBody {
    /// The `Content-Type` of the body.
    pub content_type: String,
    /// The exact length, sent as `Content-Length` when known.
    pub len: Option<u64>,
    /// Whether `make` can be called more than once.
    pub replayable: bool,
    /// Makes the body for one attempt; `None` once a one-shot body is spent.
    #[allow(clippy::type_complexity)]
    pub make: Arc<dyn Fn() -> Option<reqwest::Body> + Send + Sync>,
}

impl fmt::Debug for StreamBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamBody")
            .field("content_type", &self.content_type)
            .field("len", &self.len)
            .field("replayable", &self.replayable)
            .finish()
    }
}

impl Client {
    /// A client with these credentials and default settings.
    pub fn new(credentials: Credentials) -> Result<Client> {
        Client::builder().credentials(credentials).build()
    }

    /// A builder for a client with custom settings.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The credentials attached to requests.
    pub fn credentials(&self) -> &Credentials {
        &self.inner.credentials
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// The clock used for backoff sleeps.
    pub(crate) fn clock(&self) -> &SharedClock {
        &self.inner.clock
    }

    /// Sends a prepared request like [`Client::execute`] and reads the whole
    /// body. A body that breaks off is retried like any transient failure when
    /// the request may be repeated (idempotent and replayable).
    pub(crate) async fn execute_read(&self, req: &Prepared) -> Result<bytes::Bytes> {
        let policy = req.retry.as_ref().unwrap_or(&self.inner.retry);
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let resp = self.execute(req).await?;
            let err = match resp.bytes().await {
                Ok(body) => return Ok(body),
                Err(e) => transport::map_err(e, req.what),
            };
            if !(req.idempotent && req.replayable() && err.is_transient())
                || attempt >= policy.max_attempts
            {
                return Err(err);
            }
            let delay = policy.delay(attempt, None);
            tracing::info!(what = req.what, attempt, ?delay, error = %err, "body broke off; retrying");
            self.inner.clock.sleep(delay).await;
        }
    }

    /// Sends a prepared request with auth, retries and one refresh on 401.
    /// Returns the successful response with its body unread.
    pub(crate) async fn execute(&self, req: &Prepared) -> Result<reqwest::Response> {
        let inner = &*self.inner;
        let policy = req.retry.as_ref().unwrap_or(&inner.retry);
        let started = tokio::time::Instant::now();
        let mut attempt: u32 = 0;
        let mut refreshed = false;
        loop {
            attempt += 1;
            let auth = inner.credentials.authorization().await?;
            let mut url = req.url.clone();
            if let Some(key) = auth.api_key_param() {
                crate::url::append_query(&mut url, [("key", key)]);
            }
            let mut rb = inner.http.request(req.method.clone(), url);
            rb = auth.apply(rb);
            rb = rb.header("x-goog-api-client", inner.api_client_header.as_str());
            for (k, v) in &req.headers {
                rb = rb.header(k.as_str(), v.as_str());
            }
            if let Some((body, content_type)) = &req.body {
                rb = rb
                    .header(reqwest::header::CONTENT_TYPE, content_type.as_str())
                    .body(body.clone());
            } else if let Some(stream) = &req.stream {
                let Some(body) = (stream.make)() else {
                    return Err(Error::new(
                        ErrorKind::Request,
                        format!(
                            "{}: the media stream was already sent and cannot be sent again",
                            req.what
                        ),
                    ));
                };
                rb = rb
                    .header(reqwest::header::CONTENT_TYPE, stream.content_type.as_str())
                    .body(body);
                if let Some(len) = stream.len {
                    rb = rb.header(reqwest::header::CONTENT_LENGTH, len);
                }
            } else if matches!(
                req.method,
                reqwest::Method::POST | reqwest::Method::PUT | reqwest::Method::PATCH
            ) {
                rb = rb.header(reqwest::header::CONTENT_LENGTH, "0");
            }
            if let Some(t) = req.timeout.or(inner.timeout) {
                rb = rb.timeout(t);
            }
            tracing::debug!(method = %req.method, what = req.what, attempt, "sending request");
            let (err, sent) = match rb.send().await {
                Ok(resp) if resp.status().is_success() => return Ok(resp),
                Ok(resp) => {
                    let err = read_api_error(resp).await;
                    if err.status() == Some(401)
                        && !refreshed
                        && auth.access_token().is_some()
                        && req.replayable()
                    {
                        refreshed = true;
                        tracing::debug!(what = req.what, "401: refreshing credentials once");
                        if inner.credentials.refresh_after_unauthorized(&auth).await? {
                            attempt -= 1;
                            continue;
                        }
                    }
                    (err, true)
                }
                Err(e) => {
                    let connect = e.is_connect();
                    (transport::map_err(e, req.what), !connect)
                }
            };
            let may_retry = err.is_transient()
                && req.replayable()
                && (req.idempotent || !sent || err.status() == Some(429));
            if !may_retry || attempt >= policy.max_attempts {
                return Err(err);
            }
            let delay = policy.delay(attempt, err.retry_after());
            if started.elapsed() + delay > policy.total_timeout {
                return Err(err);
            }
            tracing::info!(what = req.what, attempt, ?delay, error = %err, "retrying");
            inner.clock.sleep(delay).await;
        }
    }
}

/// Reads an error response fully and parses Google's error JSON.
pub(crate) async fn read_api_error(resp: reqwest::Response) -> Error {
    let status = resp.status().as_u16();
    let headers = header_pairs(resp.headers());
    match resp.bytes().await {
        Ok(body) => Error::api(ApiError::from_response(status, headers, &body)),
        Err(e) => Error::new(
            ErrorKind::Transport,
            format!("HTTP {status}: could not read the error body"),
        )
        .with_source(e.without_url()),
    }
}

pub(crate) fn header_pairs(h: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .filter(|(k, _)| *k != reqwest::header::SET_COOKIE)
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// A [`Client`] bound to one API's endpoint. Generated service types wrap one.
#[derive(Clone)]
pub struct Service {
    client: Client,
    info: &'static ServiceInfo,
    root_url: Arc<str>,
    service_path: Arc<str>,
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service")
            .field(
                "api",
                &format_args!("{}:{}", self.info.name, self.info.version),
            )
            .field("root_url", &self.root_url)
            .field("service_path", &self.service_path)
            .finish()
    }
}

impl Service {
    /// Binds a client to an API at its default endpoint.
    pub fn new(client: Client, info: &'static ServiceInfo) -> Self {
        Service {
            client,
            info,
            root_url: Arc::from(info.root_url),
            service_path: Arc::from(info.service_path),
        }
    }

    /// Overrides the root URL (e.g. `http://127.0.0.1:8080/` in tests, or a
    /// regional endpoint). A missing trailing `/` is added.
    pub fn with_root_url(mut self, url: impl Into<String>) -> Self {
        let mut url = url.into();
        if !url.ends_with('/') {
            url.push('/');
        }
        self.root_url = Arc::from(url);
        self
    }

    /// Overrides the service path.
    pub fn with_service_path(mut self, path: impl Into<String>) -> Self {
        self.service_path = Arc::from(path.into());
        self
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The API description.
    pub fn info(&self) -> &'static ServiceInfo {
        self.info
    }

    /// The root URL in use.
    pub fn root_url(&self) -> &str {
        &self.root_url
    }

    /// The service path in use.
    pub fn service_path(&self) -> &str {
        &self.service_path
    }
}
