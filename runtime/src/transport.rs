//! The reqwest client behind every request, built with rustls (ring) and
//! gzip; the bounded [`Response`] every read of a body goes through; the
//! redirect policy; and the mapping of reqwest's errors to ours.
//!
//! Crate-private: no reqwest type is part of the public API, so a transport
//! upgrade never breaks users.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::time::Instant;

use crate::error::{Error, ErrorKind};
use crate::timeouts::Timeouts;

/// Redirects followed before giving up: 10 hops, 11 requests at most.
pub(crate) const MAX_REDIRECTS: usize = 10;

/// Where requests go through: the environment's `HTTPS_PROXY`/`HTTP_PROXY`
/// (and `NO_PROXY`), a given proxy, or none.
#[derive(Clone, Default)]
pub(crate) enum ProxyChoice {
    /// The environment's proxy variables, if set.
    #[default]
    Environment,
    /// This proxy for every request, with Basic credentials if any.
    Url {
        url: String,
        credentials: Option<(String, String)>,
    },
    /// No proxy at all.
    None,
}

impl std::fmt::Debug for ProxyChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProxyChoice::Environment => f.write_str("Environment"),
            ProxyChoice::None => f.write_str("None"),
            // The URL may carry a password; the credentials are one.
            ProxyChoice::Url { url, credentials } => f
                .debug_struct("Url")
                .field("url", &redact_userinfo(url))
                .field(
                    "credentials",
                    &credentials.as_ref().map(|(u, _)| (u, "[redacted]")),
                )
                .finish(),
        }
    }
}

/// A proxy URL without its user and password (`http://redacted@host:3128`).
pub(crate) fn redact_userinfo(u: &str) -> String {
    match url::Url::parse(u) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            let _ = parsed.set_username("redacted");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        Ok(_) => u.to_owned(),
        Err(_) => "<a proxy URL that does not parse>".to_owned(),
    }
}

/// Settings of the HTTP transport.
#[derive(Debug, Clone)]
pub(crate) struct TransportConfig {
    pub connect_timeout: Duration,
    pub pool_idle_timeout: Duration,
    pub user_agent: String,
    pub proxy: ProxyChoice,
    /// Trusted besides the system's roots (PEM, as given).
    pub extra_roots_pem: Vec<Vec<u8>>,
    /// A client certificate chain and its key (PEM), for mutual TLS.
    pub identity_pem: Option<(Vec<u8>, Arc<Vec<u8>>)>,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            connect_timeout: Timeouts::DEFAULT.connect,
            pool_idle_timeout: Duration::from_secs(90),
            user_agent: crate::USER_AGENT.to_owned(),
            proxy: ProxyChoice::default(),
            extra_roots_pem: Vec::new(),
            identity_pem: None,
        }
    }
}

fn config_error(what: String) -> Error {
    Error::new(ErrorKind::Request, what)
}

/// The TLS configuration: rustls with ring *as this client's provider* (no
/// process-wide default is installed or read), the system's roots plus any
/// extra ones, an optional client identity, ALPN for HTTP/2 and 1.1.
fn tls_config(config: &TransportConfig) -> crate::Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = Vec::new();
    for pem in &config.extra_roots_pem {
        let mut found = 0;
        for cert in CertificateDer::pem_slice_iter(pem) {
            let cert = cert.map_err(|e| {
                config_error(format!("an extra root certificate is not valid PEM: {e}"))
            })?;
            roots.push(cert);
            found += 1;
        }
        if found == 0 {
            return Err(config_error(
                "no certificate found in the extra root certificates' PEM".into(),
            ));
        }
    }
    let verifier =
        rustls_platform_verifier::Verifier::new_with_extra_roots(roots, provider.clone())
            .map_err(|e| config_error(format!("could not set up TLS verification: {e}")))?;
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error(format!("could not set up TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut tls = match &config.identity_pem {
        None => builder.with_no_client_auth(),
        Some((chain_pem, key_pem)) => {
            let chain = CertificateDer::pem_slice_iter(chain_pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    config_error(format!("the client certificate is not valid PEM: {e}"))
                })?;
            if chain.is_empty() {
                return Err(config_error(
                    "no certificate found in the client certificate PEM".into(),
                ));
            }
            // The key's own parse error may quote it: not shown.
            let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|_| {
                config_error(
                    "the client key is not a PEM private key (PKCS#8, PKCS#1 or SEC1)".into(),
                )
            })?;
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                config_error(format!("the client certificate and key do not fit: {e}"))
            })?
        }
    };
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tls)
}

fn proxy(choice: &ProxyChoice) -> crate::Result<Option<reqwest::Proxy>> {
    let ProxyChoice::Url { url, credentials } = choice else {
        return Ok(None);
    };
    let mut p = reqwest::Proxy::all(url.as_str()).map_err(|e| {
        config_error(format!(
            "not a valid proxy URL {}: {}",
            redact_userinfo(url),
            e.without_url()
        ))
    })?;
    if let Some((user, password)) = credentials {
        p = p.basic_auth(user, password);
    }
    Ok(Some(p))
}

/// Why a redirect was not followed.
#[derive(Debug)]
struct RedirectRefused(String);

impl std::fmt::Display for RedirectRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RedirectRefused {}

/// Follows at most [`MAX_REDIRECTS`] hops; a loop (a URL seen before) and a
/// downgrade from `https` to `http` stop at once. Credentials never follow a
/// redirect to another origin: reqwest drops `Authorization` and cookies when
/// the scheme, host or port changes, an API key travels only in the original
/// URL's query, and no `Referer` is sent (it would carry that URL along).
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let previous = attempt.previous();
        let next = attempt.url();
        if previous.iter().any(|u| u == next) {
            let why = format!(
                "a redirect loop (back to an URL already visited, after {} hops)",
                previous.len()
            );
            return attempt.error(RedirectRefused(why));
        }
        if previous.last().is_some_and(|p| p.scheme() == "https") && next.scheme() != "https" {
            return attempt.error(RedirectRefused(
                "a redirect from https to plain http".into(),
            ));
        }
        if previous.len() > MAX_REDIRECTS {
            let why = format!("more than {MAX_REDIRECTS} redirects");
            return attempt.error(RedirectRefused(why));
        }
        attempt.follow()
    })
}

/// Builds a reqwest client.
pub(crate) fn build(config: &TransportConfig) -> crate::Result<reqwest::Client> {
    let mut b = reqwest::Client::builder().tls_backend_preconfigured(tls_config(config)?);
    match &config.proxy {
        ProxyChoice::Environment => {}
        ProxyChoice::None => b = b.no_proxy(),
        choice => {
            if let Some(p) = proxy(choice)? {
                b = b.proxy(p);
            }
        }
    }
    b.connect_timeout(config.connect_timeout)
        .pool_idle_timeout(config.pool_idle_timeout)
        .user_agent(config.user_agent.clone())
        .redirect(redirect_policy())
        // A `Referer` would carry the previous URL — and its `key=` — to the
        // next host.
        .referer(false)
        .gzip(true)
        .build()
        .map_err(|e| {
            crate::Error::new(
                crate::ErrorKind::Transport,
                "could not build the HTTP client",
            )
            .with_source(e)
        })
}

/// A shared default client for auth endpoints (token, revoke, device).
pub(crate) fn shared() -> crate::Result<reqwest::Client> {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    if let Some(c) = CLIENT.get() {
        return Ok(c.clone());
    }
    let c = build(&TransportConfig::default())?;
    Ok(CLIENT.get_or_init(|| c).clone())
}

/// A response whose body is read within bounds: each chunk within the idle
/// timeout, all of it before the deadline (when there is one).
pub(crate) struct Response {
    inner: reqwest::Response,
    idle: Duration,
    deadline: Option<Instant>,
    /// The total the deadline came from, for messages.
    total: Option<Duration>,
    what: &'static str,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.inner.status().as_u16())
            .field("what", &self.what)
            .finish()
    }
}

impl Response {
    pub(crate) fn new(
        inner: reqwest::Response,
        idle: Duration,
        deadline: Option<Instant>,
        total: Option<Duration>,
        what: &'static str,
    ) -> Self {
        Response {
            inner,
            idle,
            deadline,
            total,
            what,
        }
    }

    /// The HTTP status code.
    pub(crate) fn status(&self) -> u16 {
        self.inner.status().as_u16()
    }

    /// The response headers.
    pub(crate) fn headers(&self) -> &reqwest::header::HeaderMap {
        self.inner.headers()
    }

    /// The response headers, taken out (what stays is empty): for a body
    /// read whole, whose headers are kept beside it.
    pub(crate) fn take_headers(&mut self) -> reqwest::header::HeaderMap {
        std::mem::take(self.inner.headers_mut())
    }

    /// A header's value as text.
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.inner
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// The announced body length.
    pub(crate) fn content_length(&self) -> Option<u64> {
        self.inner.content_length()
    }

    /// Drops the deadline: the rest of the body is bounded by the idle
    /// timeout only (media streamed to the caller).
    pub(crate) fn without_deadline(mut self) -> Self {
        self.deadline = None;
        self
    }

    /// The next piece of the body; `None` at its end. A pause longer than
    /// the idle timeout, or the deadline passing, is a timeout error.
    pub(crate) async fn chunk(&mut self) -> crate::Result<Option<Bytes>> {
        let idle_limit = Instant::now() + self.idle;
        let (limit, by_deadline) = match self.deadline {
            Some(d) if d <= idle_limit => (d, true),
            _ => (idle_limit, false),
        };
        match tokio::time::timeout_at(limit, self.inner.chunk()).await {
            Ok(Ok(c)) => Ok(c),
            Ok(Err(e)) => Err(map_err(e, self.what)),
            Err(_) if by_deadline => Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "{}: the call did not finish within its deadline of {:?} (reading the response body)",
                    self.what,
                    self.total.unwrap_or_default()
                ),
            )),
            Err(_) => Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "{}: the response body stalled: no data for {:?}",
                    self.what, self.idle
                ),
            )),
        }
    }

    /// The whole body.
    pub(crate) async fn bytes(mut self) -> crate::Result<Bytes> {
        let Some(first) = self.chunk().await? else {
            return Ok(Bytes::new());
        };
        let Some(second) = self.chunk().await? else {
            return Ok(first);
        };
        let hint = self.content_length().unwrap_or(0).min(64 << 20) as usize;
        let mut out = Vec::with_capacity(hint.max(first.len() + second.len()));
        out.extend_from_slice(&first);
        out.extend_from_slice(&second);
        while let Some(c) = self.chunk().await? {
            out.extend_from_slice(&c);
        }
        Ok(out.into())
    }
}

/// Maps a reqwest error to the runtime's error without exposing reqwest.
///
/// A body that cannot be read is a transport failure (the connection broke),
/// even when reqwest's gzip layer reports it as a decode error — unless the
/// cause is corrupt data (`InvalidData`), which is a decode error.
pub(crate) fn map_err(e: reqwest::Error, what: &str) -> crate::Error {
    if e.is_redirect() {
        let why = redirect_reason(&e).unwrap_or_else(|| "too many redirects".to_owned());
        return crate::Error::new(ErrorKind::Redirect, format!("{what}: not following {why}"))
            .with_source(e.without_url());
    }
    let kind = if e.is_timeout() {
        crate::ErrorKind::Timeout
    } else if e.is_builder() {
        crate::ErrorKind::Request
    } else if (e.is_decode() || e.is_body()) && is_corrupt(&e) {
        crate::ErrorKind::Decode
    } else {
        crate::ErrorKind::Transport
    };
    // reqwest's Display can include the URL, and a URL may carry an API key
    // (`key=`): it is dropped.
    let e = e.without_url();
    crate::Error::new(kind, format!("{what}: {}", describe(&e))).with_source(e)
}

/// The reason our redirect policy gave, from the cause chain.
fn redirect_reason(e: &reqwest::Error) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<RedirectRefused>() {
            return Some(r.0.clone());
        }
        cur = err.source();
    }
    None
}

/// Whether an I/O error in the cause chain says the data itself was bad.
fn is_corrupt(e: &reqwest::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::InvalidData)
        {
            return true;
        }
        cur = err.source();
    }
    false
}

fn describe(e: &reqwest::Error) -> &'static str {
    if e.is_connect() {
        "could not connect"
    } else if e.is_timeout() {
        "timed out"
    } else if e.is_body() || e.is_decode() {
        "the response body broke off or could not be read"
    } else if e.is_request() {
        "the request failed"
    } else {
        "HTTP transport error"
    }
}
