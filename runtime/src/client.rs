//! [`Client`]: the transport, credentials and retry policy shared by every
//! request, and [`Service`]: a client bound to one API's endpoint.
//!
//! The request path: a generated builder fills a [`crate::Call`]; `Call::send`
//! prepares a [`Prepared`] request and hands it to the client's one retry
//! loop (`exec.rs`), which attaches auth, sends within the time bounds,
//! retries and refreshes on 401.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::Credentials;
use crate::clock::{SharedClock, default_clock};
use crate::error::Result;
use crate::method::ServiceInfo;
use crate::retry::RetryPolicy;
use crate::timeouts::{CallTimeouts, Timeouts};
use crate::transport::{self, ProxyChoice, TransportConfig};

/// An HTTP client for Google APIs: transport (hyper + rustls, gzip, connection
/// pool), credentials, retry policy. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: crate::transport::HttpClient,
    credentials: Credentials,
    retry: RetryPolicy,
    clock: SharedClock,
    timeouts: Timeouts,
    api_client_header: http::header::HeaderValue,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("credentials", &self.inner.credentials)
            .field("retry", &self.inner.retry)
            .field("timeouts", &self.inner.timeouts)
            .finish()
    }
}

/// Builds a [`Client`].
///
/// The TLS of every client is rustls with ring as *its own* crypto provider:
/// building a client installs nothing process-wide, and works whatever
/// provider (or none) the program installed for itself.
#[derive(Default)]
pub struct ClientBuilder {
    credentials: Option<Credentials>,
    retry: Option<RetryPolicy>,
    clock: Option<SharedClock>,
    timeouts: Timeouts,
    total: Option<Duration>,
    user_agent: Option<String>,
    proxy: ProxyChoice,
    extra_roots_pem: Vec<Vec<u8>>,
    identity_pem: Option<(Vec<u8>, Arc<Vec<u8>>)>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("credentials", &self.credentials)
            .field("retry", &self.retry)
            .field("timeouts", &self.timeouts)
            .field("total", &self.total)
            .field("user_agent", &self.user_agent)
            .field("proxy", &self.proxy)
            .field("extra_roots", &self.extra_roots_pem.len())
            // The key is a secret: only whether there is one.
            .field("client_identity", &self.identity_pem.is_some())
            .finish_non_exhaustive()
    }
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

    /// The deadline of every call: all its attempts, the backoff between
    /// them and the response body end within it (default: the retry
    /// policy's [`total_timeout`](RetryPolicy::total_timeout), 5 minutes).
    /// Media transfers are bounded by the idle timeout instead, unless the
    /// call sets a deadline of its own.
    pub fn timeout(mut self, total: Duration) -> Self {
        self.total = Some(total);
        self
    }

    /// All per-attempt time bounds at once (default [`Timeouts::DEFAULT`]).
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The connect timeout: DNS, TCP and TLS (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.connect = timeout;
        self
    }

    /// The longest wait for response headers once the request is sent,
    /// per attempt (default 150 s).
    pub fn response_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.response = timeout;
        self
    }

    /// The longest pause while sending a request body or reading a response
    /// body (default 60 s).
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.idle = timeout;
        self
    }

    /// Sends every request through this proxy: `http://host:port` (HTTP
    /// CONNECT for `https` URLs), `https://…`; `user:password@` in the URL
    /// authenticates with Basic. Default: the proxy of the environment's
    /// `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY`, minus `NO_PROXY`. A URL
    /// that does not parse fails [`build`](Self::build).
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = match std::mem::take(&mut self.proxy) {
            ProxyChoice::Url { credentials, .. } => ProxyChoice::Url {
                url: url.into(),
                credentials,
            },
            _ => ProxyChoice::Url {
                url: url.into(),
                credentials: None,
            },
        };
        self
    }

    /// Basic credentials for the proxy set with [`proxy`](Self::proxy)
    /// (instead of in its URL). The password is never shown in `Debug`.
    pub fn proxy_credentials(
        mut self,
        user: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        if let ProxyChoice::Url { credentials, .. } = &mut self.proxy {
            *credentials = Some((user.into(), password.into()));
        }
        self
    }

    /// Connects directly, ignoring the environment's proxy variables.
    pub fn no_proxy(mut self) -> Self {
        self.proxy = ProxyChoice::None;
        self
    }

    /// Trusts the root certificates in `pem` (one or more `CERTIFICATE`
    /// blocks) besides the system's: a corporate TLS-inspecting proxy's, or
    /// a test server's. Bad PEM fails [`build`](Self::build).
    pub fn add_root_certificates_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.extra_roots_pem.push(pem.as_ref().to_vec());
        self
    }

    /// Presents this client certificate (a PEM chain, leaf first) and its
    /// private key (PEM: PKCS#8, PKCS#1 or SEC1) when a server asks for one:
    /// mutual TLS, as some corporate networks and mTLS endpoints require.
    pub fn client_identity_pem(
        mut self,
        cert_chain_pem: impl AsRef<[u8]>,
        key_pem: impl AsRef<[u8]>,
    ) -> Self {
        self.identity_pem = Some((
            cert_chain_pem.as_ref().to_vec(),
            Arc::new(key_pem.as_ref().to_vec()),
        ));
        self
    }

    /// A product token prepended to the user agent, e.g. `my-app/1.2`.
    pub fn user_agent(mut self, product: impl Into<String>) -> Self {
        self.user_agent = Some(product.into());
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client> {
        let mut cfg = TransportConfig {
            connect_timeout: self.timeouts.connect,
            proxy: self.proxy,
            extra_roots_pem: self.extra_roots_pem,
            identity_pem: self.identity_pem,
            ..Default::default()
        };
        if let Some(ua) = self.user_agent {
            cfg.user_agent = format!("{ua} {}", cfg.user_agent);
        }
        let http = transport::build(&cfg)?;
        let mut retry = self.retry.unwrap_or_default();
        if let Some(total) = self.total {
            retry.total_timeout = total;
        }
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                credentials: self.credentials.unwrap_or_default(),
                retry,
                clock: self.clock.unwrap_or_else(default_clock),
                timeouts: self.timeouts,
                api_client_header: http::header::HeaderValue::from_static(concat!(
                    "gl-rust/unknown gdcl/",
                    env!("CARGO_PKG_VERSION")
                )),
            }),
        })
    }
}

/// A request ready to send (after URL expansion and body serialization).
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub method: http::Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<(bytes::Bytes, String)>,
    pub idempotent: bool,
    /// Per-call time bounds over the client's.
    pub timeouts: CallTimeouts,
    pub retry: Option<RetryPolicy>,
    /// Short description for errors and logs (method id); never secrets.
    pub what: &'static str,
    /// A streamed body (media), used when `body` is `None`.
    pub stream: Option<StreamBody>,
    /// A media transfer: bounded by the idle timeout rather than the
    /// policy's total deadline (unless `timeouts.total` is set).
    pub media: bool,
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
    pub make: Arc<dyn Fn() -> Option<BodyStream> + Send + Sync>,
}

/// The pieces of a streamed request body.
pub(crate) type BodyStream =
    futures_util::stream::BoxStream<'static, std::io::Result<bytes::Bytes>>;

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

    pub(crate) fn http(&self) -> &crate::transport::HttpClient {
        &self.inner.http
    }

    pub(crate) fn api_client_header(&self) -> &http::header::HeaderValue {
        &self.inner.api_client_header
    }

    /// The time bounds of every attempt.
    pub fn timeouts(&self) -> &Timeouts {
        &self.inner.timeouts
    }
}

/// A [`Client`] bound to one API's endpoint. Generated service types wrap one.
///
/// Cloned by every resource and call of a generated client: one shared
/// counter, not one per part (concurrent calls on two cores otherwise
/// contend on three cache lines per clone).
#[derive(Clone)]
pub struct Service {
    inner: Arc<ServiceInner>,
}

#[derive(Clone)]
struct ServiceInner {
    client: Client,
    info: &'static ServiceInfo,
    root_url: String,
    service_path: String,
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.inner;
        f.debug_struct("Service")
            .field("api", &format_args!("{}:{}", s.info.name, s.info.version))
            .field("root_url", &s.root_url)
            .field("service_path", &s.service_path)
            .finish()
    }
}

impl Service {
    /// Binds a client to an API at its default endpoint.
    pub fn new(client: Client, info: &'static ServiceInfo) -> Self {
        Service {
            inner: Arc::new(ServiceInner {
                client,
                info,
                root_url: info.root_url.to_owned(),
                service_path: info.service_path.to_owned(),
            }),
        }
    }

    /// Overrides the root URL (e.g. `http://127.0.0.1:8080/` in tests, or a
    /// regional endpoint). A missing trailing `/` is added.
    pub fn with_root_url(mut self, url: impl Into<String>) -> Self {
        let mut url = url.into();
        if !url.ends_with('/') {
            url.push('/');
        }
        Arc::make_mut(&mut self.inner).root_url = url;
        self
    }

    /// Overrides the service path.
    pub fn with_service_path(mut self, path: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.inner).service_path = path.into();
        self
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The API description.
    pub fn info(&self) -> &'static ServiceInfo {
        self.inner.info
    }

    /// The root URL in use.
    pub fn root_url(&self) -> &str {
        &self.inner.root_url
    }

    /// The service path in use.
    pub fn service_path(&self) -> &str {
        &self.inner.service_path
    }
}
